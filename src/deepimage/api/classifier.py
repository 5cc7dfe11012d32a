"""``Classifier``: the generic :class:`~deepimage.api.model.Model` for the classify task.

Example:
    >>> from deepimage.api import Classifier
    >>> clf = Classifier("small-cnn")
    >>> report = clf.fit("digits", epochs=1, img_size=16, quiet=True, runs_root=tmp_runs)  # doctest: +SKIP
    >>> clf.evaluate("digits")["metrics"]["top1"] > 0.5  # doctest: +SKIP
    True
    >>> clf.spec.monitor
    'val/acc'
"""

from __future__ import annotations

from deepimage.api.model import Model


class Classifier(Model):
    """An image classifier: ``fit`` on a data set, then ``evaluate`` / ``predict``."""

    task_name = "classify"
