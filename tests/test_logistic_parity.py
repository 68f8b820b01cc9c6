"""TorchLogisticClassifier reaches scikit-learn LogisticRegression's optimum."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split

from torchlogit import TorchLogisticClassifier

TIGHT = dict(tol=1e-10, max_iter=10_000)


def _pair(C, **kw):
    return TorchLogisticClassifier(C=C, dtype="float64", **TIGHT, **kw), LogisticRegression(C=C, **TIGHT, **kw)


@pytest.mark.parametrize("name", ["breast_cancer", "wine", "digits"])
@pytest.mark.parametrize("C", [0.01, 1.0, 100.0])
@pytest.mark.parametrize("weighting", ["none", "sample_weight", "balanced"])
def test_predict_proba_equals_sklearn_to_1e5(datasets, name, C, weighting):
    """float64, tight tol: max |predict_proba difference| <= 1e-5 against LogisticRegression(C=C)."""
    X, y = datasets[name]
    fit_kw, est_kw = {}, {}
    if weighting == "sample_weight":
        fit_kw["sample_weight"] = np.random.RandomState(42).uniform(0.1, 3.0, len(y))
    elif weighting == "balanced":
        est_kw["class_weight"] = "balanced"
    ours, ref = _pair(C, **est_kw)
    ours.fit(X, y, **fit_kw)
    ref.fit(X, y, **fit_kw)
    assert ours.coef_.shape == ref.coef_.shape
    assert ours.intercept_.shape == ref.intercept_.shape
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=0, atol=1e-5)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


@pytest.mark.parametrize("name", ["breast_cancer", "wine"])
def test_no_penalty_and_no_intercept_match_sklearn(datasets, name):
    """C=np.inf (no penalty) with a mild C elsewhere, and fit_intercept=False: same optimum as sklearn."""
    X, y = datasets[name]
    for C, fit_intercept in [(np.inf, True), (0.5, False)]:
        if np.isinf(C) and name == "breast_cancer":
            continue  # separable: no finite optimum to compare
        ours, ref = _pair(C, fit_intercept=fit_intercept)
        ours.fit(X, y)
        ref.fit(X, y)
        np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=0, atol=1e-5)
        if np.isfinite(C):  # unpenalised multinomial weights are only defined up to a shift
            np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)
            np.testing.assert_array_equal(ours.intercept_, 0.0)


def test_class_weight_dict_equals_sample_weight(wine):
    """class_weight is multiplied into sample_weight: a dict equals the matching sample weights."""
    X, y = wine
    weights = {0: 2.0, 1: 0.5, 2: 1.0}
    a = TorchLogisticClassifier(class_weight=weights, dtype="float64", **TIGHT).fit(X, y)
    b = TorchLogisticClassifier(dtype="float64", **TIGHT).fit(X, y, sample_weight=np.vectorize(weights.get)(y))
    ref = LogisticRegression(class_weight=weights, **TIGHT).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-7)
    np.testing.assert_allclose(a.predict_proba(X), ref.predict_proba(X), atol=1e-5)


@pytest.mark.parametrize("name", ["breast_cancer", "wine", "digits"])
def test_defaults_match_sklearn_on_held_out_data(datasets, name):
    """Defaults (float32, tol=1e-4): held-out accuracy within 0.5 points, log-loss within 1e-3."""
    X, y = datasets[name]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    ours = TorchLogisticClassifier().fit(X_train, y_train)
    ref = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    acc = accuracy_score(y_test, ours.predict(X_test)) - accuracy_score(y_test, ref.predict(X_test))
    assert abs(acc) <= 0.005
    loss = log_loss(y_test, ours.predict_proba(X_test)) - log_loss(y_test, ref.predict_proba(X_test))
    assert abs(loss) <= 1e-3


def test_shapes_follow_sklearn(breast_cancer, wine):
    for (X, y), n_out in [(breast_cancer, 1), (wine, 3)]:
        clf = TorchLogisticClassifier().fit(X, y)
        assert clf.coef_.shape == (n_out, X.shape[1])
        assert clf.intercept_.shape == (n_out,)
        expected = (len(X),) if n_out == 1 else (len(X), n_out)
        assert clf.decision_function(X).shape == expected
        assert clf.predict_proba(X).shape == (len(X), len(np.unique(y)))
        assert clf.n_iter_.shape == (1,) and clf.n_iter_.dtype == np.int32
        assert clf.n_features_in_ == X.shape[1]
        np.testing.assert_allclose(clf.predict_log_proba(X), np.log(clf.predict_proba(X)), atol=1e-6)


def test_binary_decision_function_is_the_logit_of_the_positive_class(breast_cancer):
    X, y = breast_cancer
    clf = TorchLogisticClassifier().fit(X, y)
    z = X @ clf.coef_[0].astype(np.float64) + clf.intercept_[0]
    np.testing.assert_allclose(clf.decision_function(X), z, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(clf.predict_proba(X)[:, 1], 1 / (1 + np.exp(-z)), atol=1e-6)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_minibatch_solvers_approach_the_lbfgs_optimum(breast_cancer, solver):
    """Constant-step mini-batch solvers hover near the optimum: held-out log-loss within 0.03 of sklearn's."""
    X, y = breast_cancer
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    ours = TorchLogisticClassifier(solver=solver, max_iter=300, random_state=0).fit(X_train, y_train)
    ref = LogisticRegression().fit(X_train, y_train)
    assert abs(log_loss(y_test, ours.predict_proba(X_test)) - log_loss(y_test, ref.predict_proba(X_test))) < 0.03


def test_adam_multinomial_intercepts_are_centred_as_sklearns(iris):
    """Only the differences of unpenalised multinomial intercepts are identified; scikit-learn reports them with
    mean zero. Adam's per-coordinate steps moved their sum (iris: -0.68 after 2000 epochs, each intercept 0.23 from
    LogisticRegression's at the same probabilities): re-centred every epoch, by fit and by partial_fit alike."""
    X, y = iris
    ref = LogisticRegression(tol=1e-10, max_iter=5000).fit(X, y)
    params = dict(solver="adam", learning_rate_init=0.1, dtype="float64", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = TorchLogisticClassifier(**params, max_iter=400, n_iter_no_change=np.inf).fit(X, y)
    assert abs(ours.intercept_.sum()) < 1e-12
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-3)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-3)
    partial = TorchLogisticClassifier(**params)
    for _ in range(20):
        partial.partial_fit(X, y, classes=[0, 1, 2])
    assert abs(partial.intercept_.sum()) < 1e-12
