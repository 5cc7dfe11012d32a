"""deepimage: deep-learning image processing from one package and one command.

Example:
    >>> import deepimage
    >>> deepimage.__version__
    '0.1.0'
"""

__version__ = "0.1.0"
