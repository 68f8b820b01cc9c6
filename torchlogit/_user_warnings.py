"""Warnings attributed to the user's line, however deep in torchlogit they are raised.

A fixed ``stacklevel`` counts frames, and the count changes with the path: ``fit`` wrapped by
scikit-learn's ``_fit_context``, ``summary`` looping over labels in a comprehension (a frame of its
own on Python 3.11), a CV fit calling ``fit``. Warnings raised with a miscounted level named a line
inside torchlogit or scikit-learn, where ``warnings.filterwarnings(module=...)`` and the user's
traceback reading cannot use them. :func:`warn` walks out of this package, scikit-learn's
estimator wrappers in ``sklearn/base.py``, and the torch and skorch frames between them (a Newton
step's warning is raised under ``torch.no_grad()``'s wrapper, inside skorch's training loop: it
named ``torch/utils/_contextlib.py``) instead.
"""

import os
import sys
import warnings

import sklearn.base
import skorch
import torch

_PACKAGES = tuple(
    os.path.dirname(os.path.abspath(path)) + os.sep for path in (__file__, torch.__file__, skorch.__file__)
)
_WRAPPERS = {os.path.abspath(sklearn.base.__file__)}


def _internal(filename):
    path = os.path.abspath(filename)
    return path.startswith(_PACKAGES) or path in _WRAPPERS


def warn(message, category=UserWarning):
    """``warnings.warn(message, category)`` at the first frame outside torchlogit and scikit-learn's wrappers."""
    frame, level = sys._getframe(0), 1
    while frame is not None and _internal(frame.f_code.co_filename):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
