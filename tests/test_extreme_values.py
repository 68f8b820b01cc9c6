"""Extreme feature values: every fit ends in one of three honest states.

1. a good fit (no warning, finite coefficients, as accurate as LogisticRegression where that fits);
2. a ConvergenceWarning with finite coefficients;
3. a ValueError before any fitted state changes.

Never a silent zero model, a raw torch/Python exception or non-finite coefficients.
"""

import sys
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from torchlogit import TorchLogisticClassifier, TorchLogisticClassifierCV, TorchMultiLabelClassifier

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
from extreme_scales import optimum_in_unit_scale  # noqa: E402
from sklearn_reference import logistic_regression  # noqa: E402


def fit_recording(estimator, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        estimator.fit(X, y)
    return estimator, any(issubclass(w.category, ConvergenceWarning) for w in caught)


def problem(scale, offset=False, n=200, seed=0):
    """Issue 16's 200 x 3 data: a noisy linear label; features ``scale * randn`` or ``scale * (1 + randn / 10)``."""
    rng = np.random.RandomState(seed)
    Z = rng.randn(n, 3)
    y = (Z[:, 0] + 0.5 * rng.randn(n) > 0).astype(int)
    return (scale * (1 + Z / 10) if offset else scale * Z), y


@pytest.mark.parametrize(
    "scale, dtype, offset",
    [
        (1e9, "float32", False),
        (1e12, "float32", False),
        (1e9, "float32", True),
        (1e12, "float64", False),
        (1e12, "float64", True),
        (1e100, "float64", False),
    ],
)
def test_large_valued_features_fit_as_well_as_sklearn(scale, dtype, offset):
    """Accuracy within 0.05 of LogisticRegression() wherever it fits (it used to be a zero model, accuracy 0.5,
    n_iter_ 1, no warning); where sklearn does not fit (1e100: it stops at 0 iterations), at least no silent
    zero model."""
    X, y = problem(scale, offset)
    ours, warned = fit_recording(TorchLogisticClassifier(dtype=dtype), X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = LogisticRegression().fit(X, y)
    assert np.isfinite(ours.coef_).all()
    assert ours.coef_.any() or warned
    if theirs.score(X, y) > 0.6:
        assert ours.score(X, y) >= theirs.score(X, y) - 0.05
    else:
        assert ours.score(X, y) > 0.6 or warned


@pytest.mark.parametrize("Estimator", [TorchLogisticClassifier, TorchMultiLabelClassifier])
def test_a_value_beyond_float32_is_refused_naming_its_column_and_trains_in_float64(Estimator):
    """1e39 is finite in float64 but infinite in float32: dtype='float32' refuses it (ValueError naming column 1,
    the previous fit intact); dtype='float64' trains on it."""
    X, y = problem(1.0)
    clf = Estimator().fit(X, y)
    before = clf.predict_proba(X)
    X_big = X.copy()
    X_big[5, 1] = 1e39
    with pytest.raises(ValueError, match=r"1e\+39 in column 1.*dtype='float32'.*dtype='float64'"):
        clf.fit(X_big, y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    fitted, _ = fit_recording(Estimator(dtype="float64"), X_big, y)
    assert np.isfinite(fitted.coef_).all()


@pytest.mark.parametrize("scale", [1e-40, 1e-46])
@pytest.mark.parametrize("Estimator", [TorchLogisticClassifier, TorchMultiLabelClassifier])
def test_values_all_below_float32s_normal_range_are_refused_and_train_in_float64(Estimator, scale):
    """Every value below 1.2e-38: subnormal in float32 (the fit failed with a message about *large* values) or zero
    (below 1.4e-45: every feature ignored, silently, coef_ all zero). dtype='float32' refuses it, naming the range;
    dtype='float64' trains on it and scores as at unit scale."""
    X, y = problem(1.0)
    with pytest.raises(ValueError, match=r"below the normal range of dtype='float32'.*Use dtype='float64'"):
        Estimator(C=np.inf).fit(X * scale, y)
    fitted, _ = fit_recording(Estimator(C=np.inf, dtype="float64"), X * scale, y)
    unit, _ = fit_recording(Estimator(C=np.inf, dtype="float64"), X, y)
    assert fitted.score(X * scale, y) >= unit.score(X, y) - 0.01 > 0.8  # a row may fall either side at 1e46
    Estimator().fit(np.zeros_like(X), y)  # all zero is no underflow: the intercept-only model
    # below float64's normal range too: refused, and told to rescale, not to use the float64 it already uses
    with pytest.raises(ValueError, match=r"below the normal range of dtype='float64'.*underflow\. Rescale X\.$"):
        Estimator(C=np.inf, dtype="float64").fit(X * 1e-310, y)


@pytest.mark.parametrize("scale", [1e-40, 1e-44])
def test_one_column_below_float32s_normal_range_is_refused_naming_it(scale):
    """The informative column at 1e-40 beside ordinary ones, C=inf: the float32 fit failed with "Solver produced
    non-finite parameter weights. The input data may contain large values" (the column's scale factor overflowed);
    the refusal names the column and the range, and dtype='float64' trains on it."""
    rng = np.random.RandomState(0)
    Z = rng.randn(200, 3)
    y = (Z[:, 0] + 0.3 * rng.randn(200) > 0).astype(int)
    X = Z.copy()
    X[:, 0] *= scale
    with pytest.raises(ValueError, match=r"Column 0 of X is at most .* below its normal range .*dtype='float64'"):
        TorchLogisticClassifier(C=np.inf).fit(X, y)
    assert TorchLogisticClassifier(C=np.inf, dtype="float64").fit(X, y).score(X, y) > 0.85
    with pytest.raises(ValueError, match=r"Column 0 of X is at most .*dtype='float64'.*Rescale that feature"):
        TorchLogisticClassifier(C=np.inf, dtype="float64").fit(X * 1e-270, y)


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_all_zero_training_rows_beside_weightless_nonzero_ones_fit_the_intercept_only_model(solver):
    """Training rows all zero, other rows (of weight 0) not: "Every value of X is at most 2 in absolute value, below
    the normal range of dtype='float32'" (the check read every row of X); LogisticRegression fits coef 0."""
    from sklearn.linear_model import LogisticRegression

    X, y, weight = np.array([[0.0], [1.0], [2.0]]), np.array([0, 1, 1]), np.array([1.0, 0.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # adam's intercept, not the question here
        ours = TorchLogisticClassifier(solver=solver, random_state=0).fit(X, y, sample_weight=weight)
    ref = LogisticRegression().fit(X, y, sample_weight=weight)
    np.testing.assert_array_equal(ours.coef_, ref.coef_)  # exactly zero: nothing to learn from the feature


@pytest.mark.parametrize("Estimator", [TorchLogisticClassifier, TorchMultiLabelClassifier])
def test_adam_whose_squared_gradients_overflow_float32_is_refused_not_a_zero_model(Estimator):
    """Features near 1e30 in float32: Adam's second moment (g**2) became infinite, its steps exactly zero, and the
    fit returned every coefficient 0 (one class predicted), silently. Now a ValueError naming the overflow and the
    remedies; the previous fit is intact, and in float64 Adam trains on the same data."""
    X, y = problem(1e30)
    clf = Estimator(solver="adam", random_state=0).fit(X / 1e30, y)
    before = clf.predict_proba(X / 1e30)
    with pytest.raises(ValueError, match=r"gradients overflowed dtype='float32'.*scale the features"):
        clf.fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X / 1e30), before)
    fitted, _ = fit_recording(Estimator(solver="adam", dtype="float64", random_state=0), X, y)
    assert fitted.score(X, y) > 0.8


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tiny_features_are_no_zero_division(dtype):
    """Features around 1e-20 (y.y underflows in float32): no ZeroDivisionError; the L2 optimum is the intercept-only
    model, as LogisticRegression finds."""
    X, y = problem(1e-20)
    ours, _ = fit_recording(TorchLogisticClassifier(dtype=dtype), X, y)
    theirs = LogisticRegression().fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-4)


def _binary_objective(clf, X, y):
    proba = np.clip(clf.predict_proba(X)[:, 1], 1e-300, 1 - 1e-16)
    coef = np.asarray(clf.coef_, dtype=np.float64)
    return -np.mean(y * np.log(proba) + (1 - y) * np.log1p(-proba)) + 0.5 * np.sum(coef**2) / len(y)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    exponents=st.lists(st.integers(-20, 20), min_size=3, max_size=3),
    dtype=st.sampled_from(["float32", "float64"]),
    l1_ratio=st.sampled_from([0.0, 1.0]),
    seed=st.integers(0, 2**16),
)
def test_any_feature_scale_ends_in_an_honest_state(exponents, dtype, l1_ratio, seed):
    """Columns scaled by 10^k, k in [-20, 20], both dtypes, L2 and L1: a ValueError that leaves the previous fit
    as it was, or finite coefficients with either a ConvergenceWarning or an objective no worse than
    LogisticRegression's (lbfgs / saga for L1) + 1e-4 relative wherever that one converged."""
    X, y = problem(1.0, n=60, seed=seed)
    X = X * 10.0 ** np.array(exponents)
    clf = TorchLogisticClassifier(dtype=dtype, l1_ratio=l1_ratio).fit(*problem(1.0, n=20, seed=1))
    before = clf.coef_.copy()
    try:
        clf, warned = fit_recording(clf, X, y)
    except ValueError as error:
        assert "column" in str(error)
        np.testing.assert_array_equal(clf.coef_, before)
        return
    assert np.isfinite(clf.coef_).all() and np.isfinite(clf.intercept_).all()
    if warned:
        return
    if l1_ratio == 0.0:
        reference = LogisticRegression()
    else:
        reference = logistic_regression(solver="saga", l1_ratio=1.0, max_iter=5000)
    reference, reference_warned = fit_recording(reference, X, y)
    if not reference_warned and l1_ratio == 0.0:
        mine, theirs = _binary_objective(clf, X, y), _binary_objective(reference, X, y)
        assert mine <= theirs + 1e-4 * max(1.0, abs(theirs))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    exponents=st.lists(st.integers(-20, 20), min_size=3, max_size=3),
    dtype=st.sampled_from(["float32", "float64"]),
    seed=st.integers(0, 2**16),
)
def test_any_feature_scale_reaches_the_optimum_or_warns(exponents, dtype, seed):
    """Columns scaled by 10^k, k in [-20, 20]: without a ConvergenceWarning the L2 objective is the optimum's to 1e-6
    relative, the optimum found in coordinates where every column has the same scale (LogisticRegression's L-BFGS-B
    itself stops short on a few percent of these; a plain L-BFGS did too, until it was preconditioned)."""
    X, y = problem(1.0, n=60, seed=seed)
    X = X * 10.0 ** np.array(exponents)
    optimum, objective = optimum_in_unit_scale(X, y, n_classes=2)
    try:
        clf, warned = fit_recording(TorchLogisticClassifier(dtype=dtype), X, y)
    except ValueError as error:  # a value beyond float32
        assert "column" in str(error)
        return
    if not warned:
        mine = objective(np.asarray(clf.coef_, dtype=np.float64), np.asarray(clf.intercept_, dtype=np.float64))
        assert mine <= optimum + 1e-6 * max(1.0, abs(optimum))


@pytest.mark.parametrize(
    "exponents, seed", [([0, 8, 0], 1), ([0, 0, 7], 0), ([-4, 7, -9], 55255), ([14, -9, 14], 6241)]
)
def test_badly_scaled_columns_that_stalled_now_reach_the_optimum(exponents, seed):
    """Cases a plain L-BFGS ended far from the optimum (0.69 against 0.42, 0.39 against 0.37) and called converged:
    a noisy cubic extrapolation at the rounding floor, and one curvature scale for columns 1e14 apart."""
    X, y = problem(1.0, n=60, seed=seed)
    X = X * 10.0 ** np.array(exponents)
    optimum, objective = optimum_in_unit_scale(X, y, n_classes=2)
    clf, warned = fit_recording(TorchLogisticClassifier(dtype="float64"), X, y)
    assert not warned
    mine = objective(clf.coef_, clf.intercept_)
    assert mine == pytest.approx(optimum, rel=1e-9)


def test_badly_scaled_multinomial_reaches_the_optimum():
    """Three classes, columns 1e-6 / 1 / 1e6 apart: the multinomial objective of the optimum to 1e-9 relative."""
    rng = np.random.RandomState(0)
    Z = rng.randn(150, 3)
    y = np.argmax(Z @ rng.randn(3, 3) + 0.5 * rng.randn(150, 3), axis=1)
    X = Z * np.array([1e-6, 1.0, 1e6])
    optimum, objective = optimum_in_unit_scale(X, y, n_classes=3)
    clf, warned = fit_recording(TorchLogisticClassifier(dtype="float64"), X, y)
    assert not warned
    assert objective(clf.coef_, clf.intercept_) == pytest.approx(optimum, rel=1e-9)


def test_badly_scaled_cpu_tensors_fit_as_numpy_does_and_answer_in_tensors():
    """The preconditioned path on a CPU tensor: the same coefficients as on the NumPy array (bitwise), and a tensor
    in gives a tensor out."""
    import torch

    X, y = problem(1.0, n=60, seed=0)
    X = X * 10.0 ** np.array([0, 0, 7])
    from_numpy = TorchLogisticClassifier(dtype="float64").fit(X, y)
    from_tensor = TorchLogisticClassifier(dtype="float64").fit(torch.from_numpy(X), torch.from_numpy(y))
    np.testing.assert_array_equal(from_tensor.coef_, from_numpy.coef_)
    proba = from_tensor.predict_proba(torch.from_numpy(X))
    assert isinstance(proba, torch.Tensor) and proba.device.type == "cpu"
    np.testing.assert_array_equal(proba.numpy(), from_numpy.predict_proba(X))


@pytest.mark.parametrize("C", [1.0, np.inf])
def test_a_column_beyond_the_square_root_of_float64s_range_trains_as_a_smaller_one(C):
    """The column preconditioner squared max |x_j|: beyond 1.34e154 (float64) a raw OverflowError (finite C), or
    an infinite square that froze the column's coefficient at exactly 0, silently (dense C=inf, sparse at any C).
    Scaled by 1e150, 1.35e154 or 1e300, the column now gives the same model in its own units."""
    import scipy.sparse as sp

    rng = np.random.RandomState(0)
    X = rng.randn(100, 3)
    y = (X[:, 0] + X[:, 1] + rng.randn(100) > 0).astype(int)
    fitted = {}
    for scale in (1e150, 1.35e154, 1e300):
        Xs = X.copy()
        Xs[:, 1] *= scale
        for layout, data in (("dense", Xs), ("csr", sp.csr_matrix(Xs))):
            model = TorchLogisticClassifier(dtype="float64", C=C).fit(data, y)
            fitted[scale, layout] = model.coef_[0] * [1, scale, 1]
    reference = fitted[1e150, "dense"]
    assert abs(reference[1]) > 0.1  # the column is used
    for coef in fitted.values():
        np.testing.assert_allclose(coef, reference, rtol=1e-6)


@pytest.mark.parametrize("weight, says", [(5e-324, "below float64's normal range"), (1e308, "beyond float64's range")])
def test_sample_weights_whose_sum_leaves_float64_are_refused_in_their_terms(weight, says):
    """The objective divides by the weights' sum: subnormal weights underflowed it and weights of 1e308 overflowed
    it, and the fit failed blaming large feature values (the cross-validated path: a ZeroDivisionError)."""
    from torchlogit import TorchLogisticClassifierCV

    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    y = (X[:, 0] > 0).astype(int)
    w = np.full(len(y), weight)
    match = f"The sample weights \\(times the class weights\\) sum to .*, {says}. The same model comes from"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's own overflow of the sum
        for model in (TorchLogisticClassifier(), TorchMultiLabelClassifier(), TorchLogisticClassifierCV(Cs=2, cv=3)):
            with pytest.raises(ValueError, match=match):
                model.fit(X, y, sample_weight=w)
        with pytest.raises(ValueError, match=match):
            TorchLogisticClassifier(solver="sgd").partial_fit(X, y, classes=[0, 1], sample_weight=w)
    # Weights in range fit in float64 (float32 cannot hold 1e-300: refused, test below), and give the model of
    # unit weights with C scaled the same way.
    tiny = TorchLogisticClassifier(C=1e300, dtype="float64").fit(X, y, sample_weight=np.full(len(y), 1e-300))
    np.testing.assert_allclose(tiny.coef_, TorchLogisticClassifier(dtype="float64").fit(X, y).coef_, rtol=1e-6)


def test_weights_whose_penalty_scale_overflows_are_refused_in_their_terms():
    """Weights in float64's range whose 1 / (C S) overflows (S = 6e-299, C = 1e-12; a CV fold's S at C = 1e-10) are
    refused before training, in terms of C S (rescaling the weights with C for the same model keeps C S, so that
    advice could not help): the CV path otherwise scored every problem as the null model and chose C = 1e-10, an
    all-zero model, silently. Without sample weights too (C=1e-320 on 60 rows)."""
    from torchlogit import TorchLogisticClassifierCV

    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    y = (X[:, 0] > 0).astype(int)
    w = np.full(len(y), 1e-300)
    match = r"At C=1e-1[02], with sample weights .* summing to S=.* the penalty's scale 1 / \(C S\) overflows float64"
    for model in (TorchLogisticClassifier(C=1e-12), TorchLogisticClassifierCV(Cs=[1e-10, 1.0], cv=3)):
        with pytest.raises(ValueError, match=match), warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # the refusal alone: no NumPy overflow warning beside it
            model.fit(X, y, sample_weight=w)
    # Rescaled, the same weights choose a useful C.
    assert TorchLogisticClassifierCV(Cs=[1e-10, 1.0], cv=3).fit(X, y, sample_weight=w * 1e300).C_ == 1.0
    with pytest.raises(ValueError, match=r"At C=1e-320, with sample weights .* S=60.* Use C > 9\.\d+e-311"):
        TorchLogisticClassifier(C=1e-320).fit(X, y)


def test_weights_beyond_float32_are_refused_for_a_float32_fit_and_the_advice_gives_the_same_model():
    """Weights above float32's 3.4e38 became infinite in a float32 fit, which failed blaming the features. Refused
    in their terms, for fit, partial_fit and the CV; a float64 fit takes them; and the advice holds: weights / k
    with C * k is the same model (scikit-learn's objective scales its data term with the weights, not its penalty).
    """
    from sklearn.linear_model import LogisticRegression

    from torchlogit import TorchLogisticClassifierCV

    rng = np.random.RandomState(0)
    X = rng.randn(80, 3)
    y = (X[:, 0] + rng.randn(80) > 0).astype(int)
    w = rng.uniform(1, 2, len(y)) * 1e39
    match = "reach .*, beyond the range of the training dtype float32 .*The same model comes from sample_weight / k"
    for fit in (
        lambda: TorchLogisticClassifier().fit(X, y, sample_weight=w),
        lambda: TorchLogisticClassifier(solver="adam").partial_fit(X, y, classes=[0, 1], sample_weight=w),
        lambda: TorchLogisticClassifierCV(Cs=2, cv=3).fit(X, y, sample_weight=w),
    ):
        with pytest.raises(ValueError, match=match):
            fit()
    k, C = 1e39, 1e-38
    tight = dict(dtype="float64", tol=1e-12, max_iter=1000)
    as_given = TorchLogisticClassifier(C=C, **tight).fit(X, y, sample_weight=w)
    advised = TorchLogisticClassifier(C=C * k, **tight).fit(X, y, sample_weight=w / k)
    reference = LogisticRegression(C=C * k, tol=1e-12, max_iter=1000).fit(X, y, sample_weight=w / k)
    np.testing.assert_allclose(as_given.coef_, advised.coef_, rtol=1e-6)
    np.testing.assert_allclose(advised.coef_, reference.coef_, rtol=1e-5)
    assert np.abs(as_given.coef_).max() > 0.1  # C * k = 0.1: a model, not the zero the tiny C alone would give


def test_weights_just_below_float32s_top_reach_the_optimum_and_the_cv_refuses_its_refit_before_the_folds():
    """Weights of 2e38 are within float32's range, but a loss above 1.7 times one is not: the objective's value
    overflowed at some trial points, and the fit stopped 4e-4 from the optimum, silently (a warm start from 5
    failed: "The L-BFGS objective is not finite at the starting point"; so did the CV's refit, warm-started from
    its path). The weights are divided by their sum before they weigh the losses. Identical rows merge into
    4e38 for the refit: refused before the folds are fitted, not after (their path divides the weights by each
    fold's sum in float64, so bootstrap folds that count a row of 2e38 five times are fine)."""
    from torchlogit import TorchLogisticClassifierCV

    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    y = (X[:, 0] + rng.randn(60) > 0).astype(int)
    w = np.full(60, 2e38)
    # Weights / k with C * k: the same objective. Unit weights and C=1 are the reference, in float32 too.
    reference = TorchLogisticClassifier(dtype="float32").fit(X, y)
    model = TorchLogisticClassifier(C=1 / 2e38, dtype="float32").fit(X, y, sample_weight=w)
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-5)  # 4e-7 (was 3.9e-4 off)
    tensors = TorchLogisticClassifier(C=1 / 2e38, dtype="float32")
    tensors.fit(torch.as_tensor(X), torch.as_tensor(y), sample_weight=torch.as_tensor(w))
    np.testing.assert_array_equal(tensors.coef_, model.coef_)  # CPU tensors: bitwise the NumPy fit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 20 epochs: the same path, not the optimum
        adam = [
            TorchLogisticClassifier(C=C, solver="adam", max_iter=20, random_state=0).fit(X, y, sample_weight=weight)
            for C, weight in [(1.0, None), (1 / 2e38, w)]  # the second "diverged" (its losses overflowed)
        ]
    np.testing.assert_allclose(adam[1].coef_, adam[0].coef_, atol=1e-6)
    # The multi-label objective (autograd) and its validation loss: hidden layers "diverged"; the linear model's
    # validation loss was not finite, and early stopping kept its first epochs' model (probabilities 0.500, 0.4997).
    # Its penalty is alpha / (2 S) ||W||^2 (MLPClassifier's): weights of 1e30, whose losses do not overflow, have
    # the same (vanishing) penalty and are the reference.
    Y = np.column_stack([y, X[:, 1] + rng.randn(60) > 0]).astype(int)
    for params in (dict(hidden_layer_sizes=(5,)), dict(solver="adam", early_stopping=True)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            reference, heavy = (
                TorchMultiLabelClassifier(max_iter=30, random_state=0, **params).fit(X, Y, sample_weight=weight)
                for weight in (np.full(60, 1e30), w)
            )
        np.testing.assert_allclose(heavy.predict_proba(X), reference.predict_proba(X), atol=1e-4)  # float32: 1e-5
    optimum = TorchLogisticClassifier(dtype="float64", tol=1e-10).fit(X, y)
    warm = TorchLogisticClassifier(C=1 / 2e38, dtype="float32", warm_start=True).fit(X, y, sample_weight=w)
    warm.coef_[:] = 5.0
    np.testing.assert_allclose(warm.fit(X, y, sample_weight=w).coef_, optimum.coef_, atol=2e-3)  # tol=1e-4

    folds = [(rng.randint(0, 60, 60), np.arange(60)) for _ in range(3)]  # bootstrap: rows counted up to 5 times
    cv = TorchLogisticClassifierCV(Cs=[1 / 2e38], cv=folds, dtype="float32").fit(X, y, sample_weight=w)
    unit = TorchLogisticClassifierCV(Cs=[1.0], cv=folds, dtype="float32").fit(X, y)
    np.testing.assert_allclose(cv.coef_, unit.coef_, atol=1e-5)
    assert TorchLogisticClassifierCV(Cs=[1 / 2e38], cv=folds, refit=False).fit(X, y, sample_weight=w).coef_.any()

    X2, y2, w2 = np.vstack([X, X[:1]]), np.append(y, y[0]), np.full(61, 2e38)  # row 0 twice: 4e38 in the refit
    match = r"reach 4e\+38, beyond the range of the training dtype float32"
    with pytest.raises(ValueError, match=match):
        TorchLogisticClassifier().fit(X2, y2, sample_weight=w2)
    path = TorchLogisticClassifierCV._solve_path
    with (
        mock.patch.object(TorchLogisticClassifierCV, "_solve_path", autospec=True, side_effect=path) as solve,
        pytest.raises(ValueError, match=match),
    ):
        TorchLogisticClassifierCV(Cs=2, cv=3).fit(X2, y2, sample_weight=w2)
    solve.assert_not_called()
    assert TorchLogisticClassifierCV(Cs=2, cv=3, refit=False).fit(X2, y2, sample_weight=w2).coef_.any()


def test_weights_below_float32s_normal_range_are_refused_where_they_carry_the_sum():
    """1e-44 is 9.8e-45 in float32 (a subnormal: three bits), so a float32 fit with that weight on every row trained
    on other weights than the user's: 1% from the optimum, silently, once the objective no longer overflowed (the
    weights divided by a power of two near their sum). Refused, as on dask, by fit, partial_fit and the CV (before its
    folds), with the advice that gives the same model; a float64 fit takes them; a few tiny weights beside ordinary
    ones change nothing and are accepted."""
    from torchlogit import TorchLogisticClassifierCV

    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    y = (X[:, 0] + rng.randn(60) > 0).astype(int)
    match = r"go down to 1e-44, below the normal range of the training dtype float32 .*sample_weight / k with C \* k"
    w = np.full(60, 1e-44)
    for fit in (
        lambda: TorchLogisticClassifier(C=1e44).fit(X, y, sample_weight=w),
        lambda: TorchLogisticClassifier(solver="adam").partial_fit(X, y, classes=[0, 1], sample_weight=w),
        lambda: TorchLogisticClassifierCV(Cs=[1e44], cv=3).fit(X, y, sample_weight=w),
        # CPU tensors: the same refusal, from the tensor path's weights
        lambda: TorchLogisticClassifier(C=1e44).fit(
            torch.as_tensor(X), torch.as_tensor(y), sample_weight=torch.as_tensor(w)
        ),
    ):
        with pytest.raises(ValueError, match=match):
            fit()
    tight = dict(dtype="float64", tol=1e-10)
    np.testing.assert_allclose(
        TorchLogisticClassifier(C=1e44, **tight).fit(X, y, sample_weight=w).coef_,
        TorchLogisticClassifier(**tight).fit(X, y).coef_,
        rtol=1e-7,
    )
    mixed = np.ones(60)
    mixed[:3] = 1e-44
    np.testing.assert_allclose(
        TorchLogisticClassifier().fit(X, y, sample_weight=mixed).coef_,
        TorchLogisticClassifier().fit(X[3:], y[3:]).coef_,
        atol=1e-5,
    )


def test_an_l1_strength_beyond_float32_is_refused_in_the_users_terms():
    """l1_ratio / (C S) is held in the training dtype: C=1e-42 (or weights of 1e-38) reached torch's "value cannot be
    converted to type float without overflow". Rescaling the weights and C keeps C S: the advice is the dtype."""
    X = np.random.RandomState(0).randn(60, 3)
    y = np.arange(60) % 2
    for C, weight in [(1e-42, None), (1e-3, np.full(60, 1e-38))]:
        with pytest.raises(
            ValueError, match=r"L1 penalty's strength .* beyond the range of the training dtype float32"
        ):
            TorchLogisticClassifier(C=C, l1_ratio=1.0).fit(X, y, sample_weight=weight)
    float64 = TorchLogisticClassifier(C=1e-42, l1_ratio=1.0, dtype="float64").fit(X, y)
    assert not float64.coef_.any()  # every coefficient silenced, as the penalty says


def test_cv_refuses_an_l1_strength_beyond_float32_for_any_l1_ratio_of_its_grid():
    """The grid's largest l1_ratio sets the strongest L1 term: with l1_ratios=[0, 1] the check must judge 1, not 0
    (seeded bug 176: the pure-L2 end of the grid waved C=1e-42 through, and the L1 problems met an infinite
    strength, a line search failure reported as a ConvergenceWarning)."""
    from torchlogit import TorchLogisticClassifierCV

    X = np.random.RandomState(0).randn(60, 3)
    y = np.arange(60) % 2
    with pytest.raises(ValueError, match=r"L1 penalty's strength .* beyond the range of the training dtype float32"):
        TorchLogisticClassifierCV(Cs=[1e-42], l1_ratios=[0.0, 1.0], cv=2).fit(X, y)


@pytest.mark.parametrize("fit", ["sparse", "cv", "cv-sparse", "multilabel-sparse"])
def test_float32_overflow_refusals_come_without_numpys_cast_warning(fit):
    import scipy.sparse as sp

    from torchlogit import TorchLogisticClassifierCV

    X = np.random.RandomState(0).rand(60, 3)
    X[5, 2] = 1e39
    y = np.arange(60) % 2
    data = sp.csr_matrix(X) if fit.endswith("sparse") else X
    model = {"sparse": TorchLogisticClassifier(), "cv": TorchLogisticClassifierCV(Cs=2, cv=2)}.get(
        fit, TorchLogisticClassifierCV(Cs=2, cv=2) if fit == "cv-sparse" else TorchMultiLabelClassifier()
    )
    target = np.column_stack([y, 1 - y]) if fit.startswith("multilabel") else y
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ValueError, match="X holds 1e\\+39 in column 2, outside the range of dtype='float32'"):
            model.fit(data, target)


def test_the_overflow_refusal_reads_duplicate_sparse_entries_as_their_sum():
    """Two stored 2e38 in one cell are 4e38 in training: the refusal named another column and an in-range value."""
    import scipy.sparse as sp

    X = sp.csr_matrix(np.random.RandomState(0).rand(6, 4))
    data, indices, indptr = X.data.tolist(), X.indices.tolist(), X.indptr.copy()
    data[:2], indices[:2] = [2e38, 2e38], [3, 3]  # row 0: column 3 twice (unsorted, uncoalesced)
    X = sp.csr_matrix((data, indices, indptr), shape=(6, 4))
    with pytest.raises(ValueError, match=r"X holds 4e\+38 in column 3"):
        TorchLogisticClassifier().fit(X, np.arange(6) % 2)
    assert X.data[0] == 2e38  # the user's matrix is not summed in place


def test_binary_log_probabilities_where_the_logit_overflows_are_logistic_regressions():
    """A finite row whose logit overflows float64 (+inf): predict_proba gives [0, 1] in both libraries and
    LogisticRegression's predict_log_proba [-inf, 0]; ours gave [-inf, nan] (log_softmax of [0, inf] reads inf - inf),
    from NumPy and from a tensor alike."""
    import torch

    rng = np.random.RandomState(0)
    X = rng.randn(100, 3)
    y = (X[:, 0] + 0.5 * rng.randn(100) > 0).astype(int)
    rows = np.array([[1.7e308, 0.0, 0.0], [-1.7e308, 0.0, 0.0], [1.0, 2.0, 3.0]])
    ours, reference = TorchLogisticClassifier(dtype="float64").fit(X, y), LogisticRegression().fit(X, y)
    with np.errstate(over="ignore", invalid="ignore"):
        expected = reference.predict_log_proba(rows)
        np.testing.assert_array_equal(ours.predict_log_proba(rows)[:2], expected[:2])
        np.testing.assert_array_equal(ours.predict_log_proba(torch.from_numpy(rows)).numpy()[:2], expected[:2])
    np.testing.assert_allclose(ours.predict_log_proba(rows[2:]), np.log(ours.predict_proba(rows[2:])), rtol=1e-12)


@pytest.mark.parametrize(
    "make",
    [
        lambda: TorchLogisticClassifier(),
        lambda: TorchLogisticClassifier(class_weight="balanced"),
        lambda: TorchLogisticClassifier(solver="newton-cholesky"),
        lambda: TorchLogisticClassifierCV(cv=2),
        lambda: TorchLogisticClassifierCV(cv=2, class_weight="balanced"),
        lambda: TorchMultiLabelClassifier(pos_weight="balanced"),
    ],
)
def test_weights_summing_beyond_float64_are_refused_in_words_without_numpys_warnings(make):
    """h7: sample weights of 1e308 sum to inf. fit refused them, but after NumPy's "overflow encountered in reduce"
    RuntimeWarning; class_weight="balanced" named a NaN class weight the user never gave, and summary printed the
    warning and a table of NaN. Now one ValueError that says the weights' sum is beyond float64, and nothing else."""

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    y = (X[:, 0] > 0).astype(int)
    model = make()
    target = np.c_[y, 1 - y] if isinstance(model, TorchMultiLabelClassifier) else y
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"sum to inf, beyond float64's range"):
            model.fit(X, target, sample_weight=np.full(50, 1e308))
        if not isinstance(model, TorchLogisticClassifierCV):
            fitted = make().fit(X, target)
            with pytest.raises(ValueError, match=r"sum to inf, beyond float64's range"):
                fitted.summary(X, target, sample_weight=np.full(50, 1e308))
    if getattr(model, "class_weight", None) == "balanced":  # each class's total finite, their sum not
        halves = np.where(y == 0, 1e308 / np.sum(y == 0), 1e308 / np.sum(y == 1))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(ValueError, match=r"sum to inf, beyond float64's range"):
                make().fit(X, target, sample_weight=halves)


def test_a_c_times_weight_sum_that_underflows_to_zero_is_refused_in_words():
    """C=1e-200 with weights of 1e-200: C * S underflows to 0, refused in words (not a ZeroDivisionError)."""
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    with pytest.raises(ValueError, match=r"penalty's scale 1 / \(C S\) overflows float64"):
        TorchLogisticClassifier(C=1e-200, dtype="float64").fit(X, y, sample_weight=np.full(4, 1e-200))


def test_a_fold_whose_l1_strength_leaves_float32_is_refused_without_refit():
    """h2's mutant (only the largest fold's weight sum checked). refit=False, float32, l1_ratios=[1]: the fold whose
    training rows weigh 1e-30 each has an L1 strength l1_ratio / (C S) beyond float32's range. Refused in words
    before any solve (as the whole sample's sum is with refit=True), not fitted to all-zero coefficients."""
    rng = np.random.RandomState(0)
    X, y = rng.randn(80, 3), np.tile([0, 1], 40)
    w = np.where(np.arange(80) < 40, 1e-30, 1.0)
    folds = [(np.arange(40), np.arange(40, 80)), (np.arange(40, 80), np.arange(40))]
    model = TorchLogisticClassifierCV(Cs=[1e-12], l1_ratios=[1.0], cv=folds, refit=False)
    with pytest.raises(ValueError, match="float32"):
        model.fit(X, y, sample_weight=w)


def test_values_small_but_within_float32s_normal_range_are_fitted_not_refused_as_underflow():
    """Every |value| about 1e-20: far below 1, but normal in float32 (smallest 1.2e-38), and LogisticRegression fits
    it. The underflow refusal must start at finfo.tiny. h3's mutant: `max_abs < torch.finfo(dtype).eps` in
    _data.training_batch (X refused: "Every value of X is at most 2.6e-20 ... below the normal range")."""
    rng = np.random.RandomState(0)
    X = rng.randn(60, 3) * 1e-20
    y = (X[:, 0] > 0).astype(int)
    model = TorchLogisticClassifier().fit(X, y)  # float32 training, the default
    assert np.isfinite(model.coef_).all()
    assert model.coef_.dtype == np.float64
