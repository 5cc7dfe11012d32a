"""The command groups of ``deepimage`` that are not tasks, with their one-line help: the
top-level ``deepimage --help`` is built from these and the task specs without importing
the groups (each module's ``app`` takes its help from here).

Example:
    >>> sorted(GROUP_HELP)
    ['augment', 'data', 'face', 'process', 'scratch']
"""

GROUP_HELP = {
    "data": "Inspect data sets.",
    "process": "Classical image operations on files, folders (recursive) and glob patterns.",
    "augment": "Augmentation presets and pipelines.",
    "face": "Face recognition: find faces, embed them, enroll people, identify and verify.",
    "scratch": "Networks written in NumPy alone (forward and backward passes by hand), to see "
    "how a CNN learns: train them, check their gradients.",
}
DEMO_HELP = "A few minutes' tour: every part's figures, then one HTML page with every picture."
