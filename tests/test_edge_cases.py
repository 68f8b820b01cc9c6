"""Numerical edge cases and property-based checks."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from torchlogit import TorchLogisticClassifier, TorchMultiLabelClassifier


def test_separable_data_without_penalty_stays_finite_and_is_honest(breast_cancer):
    """C=np.inf on separable data: finite coefficients, never NaN, and either a ConvergenceWarning (sklearn runs
    to max_iter) or a point where the float64 gradient really is at most tol (our path can get there first)."""
    X, y = breast_cancer
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        clf = TorchLogisticClassifier(C=np.inf).fit(X, y)
    assert np.isfinite(clf.coef_).all() and np.isfinite(clf.predict_proba(X)).all()
    if not any(issubclass(w.category, ConvergenceWarning) for w in caught):
        residual = clf.predict_proba(X)[:, 1] - y
        gradient = np.r_[X.T @ residual, residual.sum()] / len(y)
        assert np.abs(gradient).max() <= clf.tol
    assert clf.score(X, y) > 0.98


@pytest.mark.parametrize("Estimator", [TorchLogisticClassifier, TorchMultiLabelClassifier])
def test_extreme_feature_scales_in_float32_give_no_overflow(Estimator):
    rng = np.random.RandomState(0)
    X = np.c_[rng.randn(200) * 1e6, rng.randn(200) * 1e-6, rng.randn(200)]
    y = (X[:, 2] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = Estimator(C=np.inf, max_iter=50).fit(X, y)
    for out in (clf.predict_proba(X), clf.decision_function(X), clf.predict_log_proba(X)):
        assert not np.isnan(out).any()
    assert np.all((clf.predict_proba(X) >= 0) & (clf.predict_proba(X) <= 1))


def test_a_zero_gradient_at_the_start_is_an_optimum():
    """Balanced data whose gradient at zero vanishes exactly: no step, no division by zero; no iteration, as
    scikit-learn's L-BFGS-B, which tests the starting point."""
    from sklearn.linear_model import LogisticRegression

    X = np.arange(120).reshape(40, 3) % 5
    y = np.arange(40) % 2
    clf = TorchLogisticClassifier().fit(X, y)
    assert np.isfinite(clf.coef_).all() and not clf.coef_.any()
    assert clf.n_iter_[0] == LogisticRegression().fit(X, y).n_iter_[0] == 0


def test_degenerate_designs():
    rng = np.random.RandomState(0)
    X = rng.randn(30, 2)
    y = (X[:, 0] > 0).astype(int)
    constant_and_duplicate = np.c_[np.ones(30), X, X[:, :1]]
    assert TorchLogisticClassifier().fit(constant_and_duplicate, y).score(constant_and_duplicate, y) > 0.9
    wide = rng.randn(10, 50)
    assert TorchLogisticClassifier().fit(wide, np.arange(10) % 2).score(wide, np.arange(10) % 2) == 1.0
    single_sample_class = np.r_[np.zeros(20), np.ones(19), 2]
    proba = TorchLogisticClassifier().fit(rng.randn(40, 3), single_sample_class).predict_proba(rng.randn(5, 3))
    assert proba.shape == (5, 3) and np.allclose(proba.sum(1), 1)


@pytest.mark.parametrize(
    "X",
    [
        np.arange(120).reshape(40, 3) % 5,
        np.random.RandomState(0).randn(40, 3).astype(np.float16),
        np.random.RandomState(0).rand(40, 3) > 0.5,
    ],
    ids=["int", "float16", "bool"],
)
def test_integer_half_and_boolean_input(X):
    y = np.arange(40) % 2
    clf = TorchLogisticClassifier().fit(X, y)
    np.testing.assert_allclose(
        clf.predict_proba(X), TorchLogisticClassifier().fit(X.astype(float), y).predict_proba(X), atol=1e-6
    )


small_problems = st.integers(0, 10_000).map(
    lambda seed: (np.random.RandomState(seed).randn(30, 3), np.random.RandomState(seed + 1).randint(0, 3, 30))
)
# derandomize: CI gates every landing, so the examples drawn are the same on every run.
HYPOTHESIS = settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@HYPOTHESIS
@given(small_problems)
def test_probabilities_are_distributions_and_predict_is_their_argmax(problem):
    X, y = problem
    clf = TorchLogisticClassifier().fit(X, y)
    proba = clf.predict_proba(X)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])


@HYPOTHESIS
@given(small_problems, st.integers(0, 10_000))
def test_integer_weights_equal_repeated_rows_and_row_order_does_not_matter(problem, seed):
    X, y = problem
    rng = np.random.RandomState(seed)
    k = rng.randint(0, 4, len(y))
    # Repetition drops a class whose rows all have weight 0, while a weighted fit keeps it in
    # classes_ (as scikit-learn does): the two are only comparable when every class keeps a row.
    if len(np.unique(y[k > 0])) < len(np.unique(y)):
        k[:] = 1
    weighted = TorchLogisticClassifier().fit(X, y, sample_weight=k)
    repeated = TorchLogisticClassifier().fit(np.repeat(X, k, axis=0), np.repeat(y, k))
    perm = rng.permutation(len(y))
    shuffled = TorchLogisticClassifier().fit(X[perm], y[perm], sample_weight=k[perm])
    np.testing.assert_array_equal(repeated.coef_, weighted.coef_)
    np.testing.assert_array_equal(shuffled.coef_, weighted.coef_)


@HYPOTHESIS
@given(small_problems, st.permutations(["pear", "apple", "fig"]))
def test_label_encoding_does_not_change_the_fit(problem, names):
    X, y = problem
    ints = TorchLogisticClassifier(dtype="float64", tol=1e-10, max_iter=1000).fit(X, y)
    strings = TorchLogisticClassifier(dtype="float64", tol=1e-10, max_iter=1000).fit(X, np.array(names)[y])
    # Column j of `strings` is the class named sorted(names)[j], i.e. integer label names.index(...).
    order = [names.index(name) for name in sorted(names)]
    np.testing.assert_allclose(strings.predict_proba(X), ints.predict_proba(X)[:, order], atol=1e-6)


@pytest.mark.parametrize("dtype", [np.uint16, np.uint32, np.uint64, np.longdouble, ">i8", ">f8"])
def test_label_and_weight_dtypes_torch_cannot_take_fit_as_logistic_regression(dtype):
    """Labels, sample weights and ``partial_fit(classes=...)`` of dtypes torch cannot convert (longdouble; uint16/32/64
    on torch < 2.3) or promote with int64 labels (uint16/32/64 on any torch), or of a non-native byte order, are
    read in NumPy: torch's own TypeError / RuntimeError reached the user. As LogisticRegression / SGDClassifier."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression, SGDClassifier

    X, y = load_iris(return_X_y=True)
    labels = y.astype(dtype)
    ours, ref = TorchLogisticClassifier(max_iter=300).fit(X, labels), LogisticRegression(max_iter=300).fit(X, labels)
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    weights = np.ones(len(y), dtype=dtype)
    np.testing.assert_array_equal(
        TorchLogisticClassifier(max_iter=300).fit(X, y, sample_weight=weights).predict(X),
        TorchLogisticClassifier(max_iter=300).fit(X, y).predict(X),
    )
    classes = np.unique(labels)
    partial = TorchLogisticClassifier(solver="sgd", random_state=0).partial_fit(X, y, classes=classes)
    np.testing.assert_array_equal(partial.classes_, SGDClassifier().partial_fit(X, y, classes=classes).classes_)
    with pytest.raises(ValueError, match="not in classes"):
        partial.partial_fit(X, np.full(len(y), 7))
    multilabel = TorchMultiLabelClassifier(max_iter=50).fit(X, np.eye(3, dtype=dtype)[y])
    assert multilabel.predict(X).dtype == np.dtype(dtype)
    # Tensor input: labels as a tensor where torch has their dtype, else as NumPy (torch's TypeError before)
    import torch

    for model in (ours, multilabel):
        np.testing.assert_array_equal(np.asarray(model.predict(torch.from_numpy(X))), model.predict(X))


def test_training_on_mps_is_refused_in_user_terms_and_auto_trains_on_the_cpu(monkeypatch, tmp_path):
    """Training accumulates in float64, which MPS lacks: a fit there failed with torch's own TypeError. Refused
    before any data work for every estimator and fit path; "auto" trains on the CPU where only MPS exists; a model
    may still be loaded (and set) for MPS, to predict there."""
    import torch

    from torchlogit import TorchLogisticClassifierCV

    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    X = np.random.RandomState(0).randn(40, 3)
    y = (X[:, 0] > 0).astype(int)
    message = "Training on device='mps' is not supported.*device='cpu'"
    for fit in (
        lambda: TorchLogisticClassifier(device="mps").fit(X, y),
        lambda: TorchLogisticClassifier(device="mps", solver="adam").partial_fit(X, y, classes=[0, 1]),
        lambda: TorchMultiLabelClassifier(device="mps").fit(X, np.c_[y, 1 - y]),
        lambda: TorchLogisticClassifierCV(device="mps", Cs=2, cv=2).fit(X, y),
    ):
        with pytest.raises(ValueError, match=message):
            fit()
    auto = TorchLogisticClassifier(device="auto").fit(X, y)
    auto.save(tmp_path / "m.tlm")
    loaded = TorchLogisticClassifier.load(tmp_path / "m.tlm", device="mps")
    assert loaded.device == "mps"
