"""The stand-ins for scikit-learn < 1.7 (torchlogit/_compat.py) against scikit-learn >= 1.7 itself.

The stand-ins are what runs on scikit-learn 1.6 (the ``lowest`` nox session); here they are checked
against the real functions of the installed scikit-learn, which must be >= 1.7 for that.
"""

import inspect

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import _check_sample_weight

from torchlogit import TorchLogisticClassifier, TorchLogisticClassifierCV, TorchMultiLabelClassifier
from torchlogit._compat import (
    _check_sample_weight_before_1_7,
    _compute_class_weight_before_1_7,
    balanced_class_weight,
)

needs_sklearn_1_7 = pytest.mark.skipif(
    "sample_weight" not in inspect.signature(compute_class_weight).parameters,
    reason="the reference, compute_class_weight(sample_weight=...), is scikit-learn >= 1.7",
)

rng = np.random.RandomState(0)
LABELS = {
    "int": rng.randint(0, 3, 200),
    "str": np.array(["spam", "ham", "eggs"])[rng.randint(0, 3, 200)],
    "two": rng.randint(0, 2, 57) * 5 - 2,
}
WEIGHTS = {
    "uniform": lambda n: np.ones(n),
    "random": lambda n: np.random.RandomState(1).exponential(size=n),
    "integer with zeros": lambda n: np.random.RandomState(2).randint(0, 4, n).astype(float),
}


@needs_sklearn_1_7
@pytest.mark.parametrize("weights", WEIGHTS)
@pytest.mark.parametrize("labels", LABELS)
def test_balanced_class_weight_equals_sklearn_bitwise(labels, weights):
    """Weighted "balanced" class weights equal scikit-learn >= 1.7's bit for bit, in any order of classes."""
    y = LABELS[labels]
    sample_weight = WEIGHTS[weights](len(y))
    classes = np.unique(y)
    expected = compute_class_weight("balanced", classes=classes, y=y, sample_weight=sample_weight)
    np.testing.assert_array_equal(balanced_class_weight(classes, y, sample_weight), expected)
    np.testing.assert_array_equal(balanced_class_weight(classes[::-1], y, sample_weight), expected[::-1])


@needs_sklearn_1_7
@pytest.mark.parametrize("class_weight", [None, "balanced", {0: 2.0, 1: 0.5}, {0: 3.0, 1: 1.0, 2: 0.25}])
@pytest.mark.parametrize("with_weights", [False, True])
def test_compute_class_weight_stand_in_equals_sklearn(class_weight, with_weights):
    y = LABELS["int"]
    classes = np.unique(y)
    sample_weight = WEIGHTS["random"](len(y)) if with_weights else None
    expected = compute_class_weight(class_weight, classes=classes, y=y, sample_weight=sample_weight)
    result = _compute_class_weight_before_1_7(class_weight, classes=classes, y=y, sample_weight=sample_weight)
    np.testing.assert_array_equal(result, expected)


@needs_sklearn_1_7
@pytest.mark.parametrize(
    "classes, y",
    [(np.array([0, 1]), np.array([0, 1, 2])), (np.array([0, 1, 2]), np.array([0, 1, 0]))],
    ids=["label not in classes", "class not in y"],
)
def test_balanced_class_weight_errors_are_sklearns(classes, y):
    weights = np.ones(len(y))
    with pytest.raises(ValueError) as expected:
        compute_class_weight("balanced", classes=classes, y=y, sample_weight=weights)
    with pytest.raises(ValueError, match=str(expected.value)):
        balanced_class_weight(classes, y, weights)


def test_sample_weight_stand_in_refuses_all_zero_weights_in_sklearns_words():
    X = np.zeros((4, 2))
    message = "Sample weights must contain at least one non-zero number."
    with pytest.raises(ValueError, match=message):
        _check_sample_weight_before_1_7(np.zeros(4), X, dtype=np.float64, ensure_non_negative=True)
    np.testing.assert_array_equal(
        _check_sample_weight_before_1_7([0, 2, 0, 1], X, dtype=np.float64),
        _check_sample_weight([0, 2, 0, 1], X, dtype=np.float64),
    )
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        _check_sample_weight_before_1_7([0, -1, 0, 1], X, ensure_non_negative=True)


@pytest.mark.parametrize(
    "estimator, method",
    [
        (TorchLogisticClassifier(), "fit"),
        (TorchLogisticClassifier(class_weight="balanced"), "fit"),
        (TorchLogisticClassifier(solver="adam"), "partial_fit"),
        (TorchLogisticClassifierCV(Cs=2, cv=2), "fit"),
        (TorchMultiLabelClassifier(), "fit"),
    ],
    ids=lambda p: p if isinstance(p, str) else type(p).__name__,
)
def test_all_zero_sample_weight_is_a_value_error_on_every_sklearn(estimator, method):
    """scikit-learn < 1.7 lets all-zero weights through; the fit must still refuse them before any work."""
    X = np.random.RandomState(0).randn(12, 3)
    y = np.arange(12) % 2
    if isinstance(estimator, TorchMultiLabelClassifier):
        y = np.column_stack([y, 1 - y])
    kwargs = {"classes": [0, 1]} if method == "partial_fit" else {}
    with pytest.raises(ValueError, match="Sample weights must contain at least one non-zero number"):
        getattr(estimator, method)(X, y, sample_weight=np.zeros(12), **kwargs)


def test_summary_refuses_all_zero_sample_weight():
    X = np.random.RandomState(0).randn(30, 2)
    y = (X[:, 0] + np.random.RandomState(1).randn(30) > 0).astype(int)
    clf = TorchLogisticClassifier(C=np.inf, dtype="float64").fit(X, y)
    with pytest.raises(ValueError, match="Sample weights must contain at least one non-zero number"):
        clf.summary(X, y, sample_weight=np.zeros(30))
