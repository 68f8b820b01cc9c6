"""Ties in ``predict`` are broken as scikit-learn breaks them.

scikit-learn's ``LinearClassifierMixin.predict`` picks ``classes_[1]`` only where the decision
is strictly positive (a zero decision gives ``classes_[0]``), and ``argmax`` (the first class)
among tied multinomial scores; ``MLPClassifier`` turns a multi-label probability into a label
with ``LabelBinarizer``'s strict ``p > 0.5``. Rows of zeros in a model without intercept have
logits exactly 0, whatever the coefficients: a tie by construction.
"""

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_multilabel_classification
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import LabelBinarizer, StandardScaler

from torchlogit import TorchLogisticClassifier, TorchMultiLabelClassifier


def _with_zero_rows(X):
    Z = X.copy()
    Z[::3] = 0.0  # every third row: all logits exactly 0
    return Z


@pytest.mark.parametrize("labels", [("no", "yes"), (1, 0), (2.0, -1.0)], ids=["strings", "ints", "floats"])
def test_binary_tie_gives_the_first_class_as_sklearn(labels):
    X, y = load_iris(return_X_y=True)
    X, y = StandardScaler().fit_transform(X[y > 0]), np.where(y[y > 0] == 1, labels[0], labels[1])
    ours = TorchLogisticClassifier(fit_intercept=False, max_iter=500).fit(X, y)
    ref = LogisticRegression(fit_intercept=False, max_iter=500).fit(X, y)
    Z = _with_zero_rows(X)
    decision = ours.decision_function(Z)
    assert np.all(decision[::3] == 0.0)
    np.testing.assert_array_equal(ref.decision_function(Z)[::3], 0.0)
    np.testing.assert_array_equal(ours.predict(Z), ref.predict(Z))
    assert np.all(ours.predict(Z)[::3] == ours.classes_[0])
    np.testing.assert_array_equal(ours.predict_proba(Z)[::3], 0.5)


def test_multinomial_tie_gives_the_first_class_as_sklearn():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = np.array(["setosa", "versicolor", "virginica"])[y]
    ours = TorchLogisticClassifier(fit_intercept=False, C=0.1).fit(X, y)
    ref = LogisticRegression(fit_intercept=False, C=0.1).fit(X, y)
    Z = _with_zero_rows(X)
    np.testing.assert_array_equal(ours.decision_function(Z)[::3], 0.0)
    np.testing.assert_array_equal(ours.predict(Z), ref.predict(Z))
    assert np.all(ours.predict(Z)[::3] == "setosa")


def test_multilabel_tie_at_the_threshold_is_off_as_mlpclassifier():
    X, Y = make_multilabel_classification(n_samples=120, n_features=5, n_classes=3, random_state=0)
    X = StandardScaler().fit_transform(X)
    ours = TorchMultiLabelClassifier(fit_intercept=False).fit(X, Y)
    Z = _with_zero_rows(X)
    proba = ours.predict_proba(Z)
    np.testing.assert_array_equal(proba[::3], 0.5)
    # MLPClassifier: LabelBinarizer().inverse_transform(proba) on multi-label output, p > 0.5.
    binarizer = LabelBinarizer().fit(Y)
    np.testing.assert_array_equal(ours.predict(Z), binarizer.inverse_transform(proba))
    assert not ours.predict(Z)[::3].any()
