"""summary(): standard errors, z, p-values and intervals, against statsmodels and autograd.

Parity tests fit with dtype="float64" and tol=1e-10, so that the fitted parameters are
the maximum-likelihood estimate to ~1e-8; every figure is then compared with statsmodels
at rtol=1e-5.
"""

import pickle
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.linalg
import scipy.sparse as sp
import statsmodels.api as sm
import torch
from sklearn.datasets import load_iris, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from statsmodels.stats.sandwich_covariance import cov_white_simple

from torchlogit import InferenceWarning, TorchLogisticClassifier, TorchMultiLabelClassifier
from torchlogit import _inference as inference

TIGHT = dict(C=np.inf, dtype="float64", tol=1e-10, max_iter=1000)
RTOL = 1e-5


@pytest.fixture(scope="module")
def spector():
    data = sm.datasets.spector.load_pandas()
    return data.exog, data.endog.astype(int)


@pytest.fixture(scope="module")
def anes96():
    data = sm.datasets.anes96.load_pandas()
    X = data.exog[["logpopul", "selfLR", "age", "educ", "income"]]
    # Standardised: L-BFGS then converges in ~30 iterations (the raw columns need >1000).
    return (X - X.mean()) / X.std(), data.endog.astype(int)


def _reference_table(params, bse, alpha=0.05):
    from scipy.stats import norm

    z = params / bse
    half = norm.ppf(1 - alpha / 2) * bse
    return np.column_stack([params, bse, z, 2 * norm.sf(np.abs(z)), params - half, params + half])


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_binary_equals_statsmodels_logit(spector, cov_type, alpha):
    X, y = spector
    table = TorchLogisticClassifier(**TIGHT).fit(X, y).summary(X, y, alpha=alpha, cov_type=cov_type)
    ref = sm.Logit(y, sm.add_constant(X)).fit(disp=0, cov_type=cov_type)
    assert list(table.index) == ["intercept", "GPA", "TUCE", "PSI"]
    assert list(table.columns) == ["coef", "std_err", "z", "p_value", "ci_low", "ci_high"]
    expected = np.column_stack([ref.params, ref.bse, ref.tvalues, ref.pvalues, ref.conf_int(alpha)])
    np.testing.assert_allclose(table.to_numpy(), expected, rtol=RTOL)


def test_hc1_is_statsmodels_small_sample_corrected_sandwich(spector):
    # statsmodels' discrete models return HC0 for cov_type="HC1" (statsmodels issue #7798);
    # HC1 proper is its cov_white_simple(use_correction=True): HC0 * n / (n - k).
    X, y = spector
    clf = TorchLogisticClassifier(**TIGHT).fit(X, y)
    table = clf.summary(X, y, cov_type="HC1")
    ref = sm.Logit(y, sm.add_constant(X)).fit(disp=0)
    bse = np.sqrt(np.diag(cov_white_simple(ref, use_correction=True)))
    np.testing.assert_allclose(table.to_numpy(), _reference_table(ref.params.to_numpy(), bse), rtol=RTOL)
    hc0 = clf.summary(X, y, cov_type="HC0")
    np.testing.assert_allclose(table["std_err"], hc0["std_err"] * np.sqrt(32 / (32 - 4)), rtol=1e-12)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
def test_multinomial_contrasts_equal_statsmodels_mnlogit(anes96, cov_type):
    X, y = anes96
    clf = TorchLogisticClassifier(**TIGHT).fit(X, y)
    table = clf.summary(X, y, cov_type=cov_type)
    ref = sm.MNLogit(y, sm.add_constant(X)).fit(disp=0, method="newton", cov_type=cov_type)
    # statsmodels: one column per non-reference class; ours: (class, feature) rows.
    params, bse = ref.params.to_numpy().T.ravel(), ref.bse.to_numpy().T.ravel()
    np.testing.assert_allclose(table["coef"], params, rtol=RTOL, atol=1e-7)
    np.testing.assert_allclose(table["std_err"], bse, rtol=RTOL)
    assert table.index.names == ["class", "feature"]
    assert list(table.index.levels[0]) == list(clf.classes_[1:])
    assert table.attrs["reference_class"] == clf.classes_[0]
    # The contrasts are differences of the fitted class blocks (polished by at most the fit's tolerance).
    np.testing.assert_allclose(table.loc[3, "coef"].iloc[1:], clf.coef_[3] - clf.coef_[0], rtol=0, atol=1e-5)
    assert table.attrs["refined_by"] < 1e-5


def test_default_fits_are_polished_to_the_maximum_likelihood_estimate(spector):
    # float32 and tol=1e-4: coef_ is ~1e-2 off statsmodels; the table is at the optimum anyway.
    X, y = spector
    clf = TorchLogisticClassifier(C=np.inf).fit(X, y)
    table = clf.summary(X, y)
    ref = sm.Logit(y, sm.add_constant(X)).fit(disp=0)
    np.testing.assert_allclose(table["coef"], ref.params, rtol=1e-8)
    np.testing.assert_allclose(table["std_err"], ref.bse, rtol=1e-8)
    shift = np.abs(table["coef"].to_numpy() - np.r_[clf.intercept_, clf.coef_[0]]).max()
    assert table.attrs["refined_by"] == pytest.approx(shift) and 0 < shift < 0.1 * table["std_err"].min()


def _affine_reference(result, scale, offset, n_blocks=1):
    """statsmodels' estimate and standard errors for the columns ``X * scale + offset``, from its fit on ``X``.

    The model is the same (``beta' = beta / scale``, ``const' = const - offset . beta'``), so the estimate and its
    covariance follow exactly by that linear map, per block of ``const`` + coefficients (one block per class of an
    ``MNLogit``, in ``cov_params()``'s order). On the rescaled columns themselves statsmodels 0.14.0 (NumPy 1.24),
    the lowest versions declared, did not converge (MNLogit) or called the Hessian singular (Logit): a reference
    computed where it is well conditioned holds on every version.
    """
    scale, offset = np.asarray(scale, dtype=float), np.asarray(offset, dtype=float)
    M = np.diag(np.r_[1.0, 1 / scale])
    M[0, 1:] = -offset / scale
    M = np.kron(np.eye(n_blocks), M)
    params = M @ np.asarray(result.params).T.ravel()
    cov = M @ np.asarray(result.cov_params()) @ M.T
    return params, np.sqrt(np.diag(cov))


def test_polish_converges_where_the_linear_predictor_cancels_large_terms(spector):
    """An offset feature (PSI + 1e4) against an intercept of about -2e4: the linear predictor, and so the
    log-likelihood, carries rounding errors of ~1e-11, far above eps times the value. Newton's line search read
    them as real changes and cycled among points equal up to rounding ("no optimum in 50 iterations", every
    standard error NaN); with the predictor's rounding in its tolerances it stops at statsmodels' estimate."""
    X, y = spector
    scale, offset = np.array([1e6, 1e-5, 1.0]), np.array([0.0, 0.0, 1e4])  # GPA, TUCE, PSI
    shifted = X * scale + offset
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # float32 L-BFGS on these scales
        clf = TorchLogisticClassifier(C=np.inf, max_iter=1000).fit(shifted, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InferenceWarning)
        table = clf.summary(shifted, y)
    params, std_err = _affine_reference(sm.Logit(y, sm.add_constant(X)).fit(disp=0), scale, offset)
    np.testing.assert_allclose(table["coef"], params, rtol=1e-6)
    np.testing.assert_allclose(table["std_err"], std_err, rtol=1e-5)


def test_multinomial_standard_errors_with_an_offset_column_equal_mnlogit_s():
    """The class-shift directions get curvature at the scale of the column they shift: one scale for all (the mean
    diagonal) let an offset column's (x + 1e4: curvature ~1e8) swamp the others, and summary() called the Hessian
    singular (rcond ~1e-16), every standard error NaN, where statsmodels' MNLogit gives them."""
    data = sm.datasets.anes96.load_pandas()
    X = data.exog[["logpopul", "selfLR", "age", "educ", "income"]]
    X = (X - X.mean()) / X.std()
    offset = np.array([0.0, 0.0, 1e4, 0.0, 0.0])  # age + 1e4
    y = data.endog.astype(int)
    ref = sm.MNLogit(y, sm.add_constant(X)).fit(disp=0, method="newton", maxiter=100)
    params, std_err = _affine_reference(ref, np.ones(5), offset, n_blocks=ref.params.shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fit's ConvergenceWarning and the far-from-optimum note: polished
        table = (
            TorchLogisticClassifier(C=np.inf, dtype="float64", max_iter=3000).fit(X + offset, y).summary(X + offset, y)
        )
    np.testing.assert_allclose(table["coef"], params, rtol=1e-6)
    np.testing.assert_allclose(table["std_err"], std_err, rtol=1e-4)


def test_a_converged_fit_far_from_the_optimum_is_told_to_lower_tol_not_raise_max_iter(spector):
    """A fit that converged by its tol (iterations to spare) and still lies 0.1+ standard errors from the optimum:
    the warning said "the fit stopped early (see its ConvergenceWarning ...) Refit with a larger max_iter", which
    changes nothing there. It names tol; a fit stopped at max_iter is still told to raise it."""
    X, y = spector
    X = X.assign(GPA=X["GPA"] * 100)  # a badly scaled column: a loose tol stops far from the optimum
    clf = TorchLogisticClassifier(C=np.inf, tol=0.1).fit(X, y)
    assert clf.n_iter_[0] < clf.max_iter
    with pytest.warns(InferenceWarning, match="converged by its tol.*refit with a smaller tol"):
        clf.summary(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        stopped = TorchLogisticClassifier(C=np.inf, max_iter=2).fit(X, y)
    with pytest.warns(InferenceWarning, match="stopped at max_iter .* larger max_iter"):
        stopped.summary(X, y)
    # partial_fit tests no tol: five calls, five epochs, far from the optimum; told only to lower tol, it was
    X, y = spector
    streamed = TorchLogisticClassifier(C=np.inf, solver="sgd")
    for _ in range(5):
        streamed.partial_fit(X, y, classes=[0, 1])
    with pytest.warns(InferenceWarning, match="if partial_fit trained it .* call partial_fit on more data"):
        streamed.summary(X, y)


def test_a_fit_stopped_at_max_iter_is_polished_and_warned_about():
    # anes96 unscaled: L-BFGS stops at max_iter far from the optimum; MNLogit's Newton gets there.
    data = sm.datasets.anes96.load_pandas()
    X, y = data.exog[["logpopul", "selfLR", "age", "educ", "income"]], data.endog.astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fit's ConvergenceWarning
        clf = TorchLogisticClassifier(C=np.inf, max_iter=100).fit(X, y)
    with pytest.warns(InferenceWarning, match="standard errors away from the optimum"):
        table = clf.summary(X, y)
    ref = sm.MNLogit(y, sm.add_constant(X)).fit(disp=0, method="newton")
    np.testing.assert_allclose(table["coef"], ref.params.to_numpy().T.ravel(), rtol=1e-8)
    np.testing.assert_allclose(table["std_err"], ref.bse.to_numpy().T.ravel(), rtol=1e-8)


def test_summary_polishes_from_far_from_the_optimum_to_statsmodels_estimate():
    """From zeros (a fit stopped at max_iter=1, then zeroed), on data whose estimate has coefficients of ~20, the
    polish's damped Newton needs 10 or more iterations; NEWTON_MAX_ITER (50) leaves room, and the table is
    statsmodels'. (Mutation survey h1, M38: NEWTON_MAX_ITER = 10 made every figure NaN with "found no optimum in 10
    iterations", though statsmodels finds it.)"""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 2))
    y = (20 * X[:, 0] - 10 * X[:, 1] + rng.logistic(size=400) > 0).astype(int)
    ref = sm.Logit(y, sm.add_constant(X)).fit(disp=0, method="newton", tol=1e-12, maxiter=200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = TorchLogisticClassifier(C=np.inf, dtype="float64", max_iter=1).fit(X, y)
    model.coef_[:] = 0.0
    model.intercept_[:] = 0.0
    with pytest.warns(InferenceWarning, match="standard errors away from the optimum"):
        table = model.summary(X, y)
    assert table.attrs["converged"] is True
    np.testing.assert_allclose(table["coef"].to_numpy(), ref.params, rtol=1e-6)
    np.testing.assert_allclose(table["std_err"].to_numpy(), ref.bse, rtol=1e-6)


def test_integer_sample_weight_is_repetition(spector):
    X, y = spector
    counts = np.random.RandomState(0).randint(1, 4, size=len(y))
    weighted = TorchLogisticClassifier(**TIGHT).fit(X, y, sample_weight=counts)
    rows = np.repeat(np.arange(len(y)), counts)
    ref = sm.Logit(y.iloc[rows], sm.add_constant(X.iloc[rows])).fit(disp=0, cov_type="HC0")
    table = weighted.summary(X, y, sample_weight=counts, cov_type="HC0")
    np.testing.assert_allclose(table["std_err"], ref.bse, rtol=RTOL)
    hc1 = weighted.summary(X, y, sample_weight=counts, cov_type="HC1")["std_err"]
    n = counts.sum()
    np.testing.assert_allclose(hc1, ref.bse * np.sqrt(n / (n - 4)), rtol=RTOL)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
def test_multilabel_blocks_equal_one_logit_per_label(cov_type):
    X, Y = make_multilabel_classification(n_samples=300, n_features=4, n_classes=3, random_state=0)
    clf = TorchMultiLabelClassifier(**TIGHT).fit(X, Y)
    table = clf.summary(X, Y, cov_type=cov_type)
    assert table.index.names == ["label", "feature"]
    for label in range(3):
        ref = sm.Logit(Y[:, label], sm.add_constant(X)).fit(disp=0, cov_type=cov_type)
        np.testing.assert_allclose(table.loc[label, "coef"], ref.params, rtol=RTOL)
        np.testing.assert_allclose(table.loc[label, "std_err"], ref.bse, rtol=RTOL)


def _penalised_loss(theta, X, target, weight, C, n_outputs):
    """sum_i s_i l_i + ||W||^2 / (2C), written directly with torch losses (no torchlogit code)."""
    theta = theta.reshape(n_outputs, -1)
    logits = X @ theta[:, 1:].T + theta[:, 0]
    if n_outputs == 1:
        losses = torch.nn.functional.binary_cross_entropy_with_logits(logits[:, 0], target, reduction="none")
    else:
        losses = torch.nn.functional.cross_entropy(logits, target, reduction="none")
    return (weight * losses).sum() + (theta[:, 1:] ** 2).sum() / (2 * C)


@pytest.mark.parametrize("multiclass", [False, True])
def test_finite_C_uses_the_penalised_hessian_and_warns(multiclass):
    X, y = load_iris(return_X_y=True)
    if not multiclass:
        y = (y == 2).astype(int)
    weight = np.random.RandomState(0).uniform(0.5, 2, size=len(y))
    clf = TorchLogisticClassifier(C=0.5, dtype="float64", tol=1e-10, max_iter=1000).fit(X, y, sample_weight=weight)
    with pytest.warns(InferenceWarning, match="C=0.5 is finite"):
        table = clf.summary(X, y, sample_weight=weight)
    K = 1 if not multiclass else 3
    theta = torch.tensor(np.column_stack([clf.intercept_, clf.coef_]).ravel())
    target = torch.tensor(y, dtype=torch.float64 if K == 1 else torch.int64)
    H = torch.autograd.functional.hessian(
        lambda t: _penalised_loss(t, torch.tensor(X), target, torch.tensor(weight), 0.5, K), theta
    ).numpy()
    cov = np.linalg.pinv(H)  # singular along a common shift of the multinomial intercepts only
    if multiclass:
        A = np.kron(np.c_[-np.ones(2), np.eye(2)], np.eye(5))  # class k minus class 0
        cov = A @ cov @ A.T
    np.testing.assert_allclose(table["std_err"], np.sqrt(np.diag(cov)), rtol=1e-6)


@pytest.mark.parametrize("cov_type", ["HC0", "HC1"])
@pytest.mark.parametrize("max_iter", [1000, 2])
def test_a_column_of_zeros_under_l2_has_a_zero_sandwich_error_and_changes_nothing_else(spector, cov_type, max_iter):
    """Under an L2 penalty a column of zeros has coefficient 0 and a sandwich standard error of exactly 0.

    Its score is 0 in every row (zero meat) and its Hessian block is the penalty alone, so the
    other parameters' table is that of the fit without the column (HC1's standard errors times
    sqrt((n - k) / (n - k - 1)): its small-sample factor counts one parameter more). A zero standard error
    is not divided by: no RuntimeWarning, and a fit stopped early is still measured on the others.
    """
    X = (spector[0] - spector[0].mean()) / spector[0].std()
    y = spector[1]
    with_zero = np.column_stack([X, np.zeros(len(X))])
    fits = {
        name: TorchLogisticClassifier(C=2.0, dtype="float64", tol=1e-10, max_iter=max_iter)
        for name in ("with", "without")
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fits["with"].fit(with_zero, y)
        fits["without"].fit(X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = fits["with"].summary(with_zero, y, cov_type=cov_type)
        reference = fits["without"].summary(X, y, cov_type=cov_type)
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)], [str(w.message) for w in caught]
    far = [str(w.message) for w in caught if "standard errors away" in str(w.message)]
    assert bool(far) == (max_iter == 2)  # stopped after 2 iterations: the others moved, and that is said
    zero = table.iloc[-1]
    assert zero["coef"] == 0 and zero["std_err"] == 0
    n = len(reference)
    factor = np.sqrt((len(y) - n) / (len(y) - n - 1)) if cov_type == "HC1" else 1.0
    np.testing.assert_allclose(table["coef"].to_numpy()[:n], reference["coef"].to_numpy(), rtol=1e-7)
    np.testing.assert_allclose(table["std_err"].to_numpy()[:n], reference["std_err"].to_numpy() * factor, rtol=1e-7)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("cov_type", ["HC0", "HC1"])
def test_a_sandwich_error_that_is_rounding_noise_measures_no_distance_from_the_optimum(sparse, cov_type):
    """A constant column beside the intercept under L2: its coefficient is 0 at the optimum and its sandwich
    standard error is 0 in exact arithmetic (its scores are the intercept's times 3, orthogonal to it after the
    penalty), computed 1e-6 from rounding. A tight fit is not called "29 standard errors away" from the optimum on
    that noise (it was); moving another coefficient by 0.3 of its standard error still is."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 5)) * (rng.random((200, 5)) < 0.5)
    X[:, 4] = 3.0
    y = rng.integers(0, 3, 200)
    data = sp.csr_matrix(X) if sparse else X
    clf = TorchLogisticClassifier(C=1.0, dtype="float64", tol=1e-10, max_iter=500).fit(X, y)

    def far_warnings():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            table = clf.summary(data, y, cov_type=cov_type)
        return table, [str(w.message) for w in caught if "standard errors away" in str(w.message)]

    table, far = far_warnings()
    assert table.loc[(1, "x4"), "std_err"] < 1e-4 * table["std_err"].median()  # the noise is there
    assert not far
    clf.coef_ = clf.coef_.copy()
    clf.coef_[1, 0] += 0.3 * table.loc[(1, "x0"), "std_err"]  # class 1's contrast with class 0 moves by 0.3 SE
    _, far = far_warnings()
    assert len(far) == 1 and far[0].startswith("coef_ and intercept_ are up to 0.3 standard errors away"), far


def test_separation_and_collinearity_give_nan_and_a_warning(breast_cancer):
    X, y = breast_cancer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fit's ConvergenceWarning: the classes are separable
        separated = TorchLogisticClassifier(C=np.inf, max_iter=300).fit(X, y)
    with pytest.warns(InferenceWarning, match="singular or ill-conditioned"):
        table = separated.summary(X, y)
    assert table["std_err"].isna().all() and table["p_value"].isna().all()
    np.testing.assert_allclose(table["coef"].iloc[1:], separated.coef_[0], rtol=1e-6)

    collinear = np.c_[X[:, :3], 2 * X[:, :1]]
    clf = TorchLogisticClassifier(C=np.inf, dtype="float64").fit(collinear, y)
    with pytest.warns(InferenceWarning, match="collinear"):
        assert clf.summary(collinear, y)["std_err"].isna().all()


def test_quasi_separation_has_no_optimum():
    # x0 = 1 is always class 1 and x0 = -1 always class 0: the likelihood keeps rising along x0.
    rng = np.random.RandomState(0)
    x0 = rng.randint(-1, 2, size=300)
    X = np.c_[x0, rng.normal(size=(300, 2))]
    y = np.where(x0 > 0, 1, np.where(x0 < 0, 0, rng.randint(0, 2, size=300)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fit's ConvergenceWarning
        clf = TorchLogisticClassifier(C=np.inf).fit(X, y)
    with pytest.warns(InferenceWarning, match="may not exist"):
        table = clf.summary(X, y)
    assert table["std_err"].isna().all()
    np.testing.assert_array_equal(table["coef"].to_numpy(), np.r_[clf.intercept_, clf.coef_[0]].astype(np.float64))


def test_no_warning_for_a_classical_fit(spector):
    X, y = spector
    clf = TorchLogisticClassifier(**TIGHT).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf.summary(X, y)


def test_names_intercept_and_sparse(spector):
    X, y = spector
    clf = TorchLogisticClassifier(**TIGHT, fit_intercept=False).fit(X.to_numpy(), y)
    table = clf.summary(X.to_numpy(), y)
    assert list(table.index) == ["x0", "x1", "x2"]
    ref = sm.Logit(y, X).fit(disp=0)
    np.testing.assert_allclose(table["std_err"], ref.bse, rtol=RTOL)
    pd.testing.assert_frame_equal(clf.summary(sp.csr_matrix(X.to_numpy()), y), table, rtol=1e-12)
    # Every sparse layout fit takes (COO and the blocked tensors, read as COO, included).
    dense = torch.from_numpy(X.to_numpy())
    for sparse in (
        sp.coo_matrix(X.to_numpy()),
        sp.csc_matrix(X.to_numpy()),
        dense.to_sparse_coo(),
        dense.to_sparse_bsr((1, 1)),
        dense.to_sparse_csc(),
    ):
        pd.testing.assert_frame_equal(clf.summary(sparse, y), table, rtol=1e-12)


@pytest.mark.parametrize("kind", ["binary", "multinomial", "multilabel"])
@pytest.mark.parametrize("cov_type", ["nonrobust", "HC1"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sparse_summary_equals_the_dense_one_without_densifying_rows(kind, cov_type, fit_intercept, monkeypatch):
    """A sparse X is summarised from sparse products (gradient, each Hessian and sandwich block a weighted Gram
    matrix, a chunk of rows at a time), never from densified chunks of rows, which cost d^2 a chunk (a binary summary
    of 20k x 5552 Zipf-distributed rows: 95 s, against 11.7 s). Same table as the dense X's, with sample weights
    (zeros among them) and class weights; the chunks here hold a few rows each."""
    rng = np.random.default_rng(0)
    n, d = 300, 6
    X = rng.standard_normal((n, d)) * (rng.random((n, d)) < 0.4)
    X[:, 0] = rng.random(n)  # one dense column beside the sparse ones
    logits = X @ rng.standard_normal((d, 3))
    weight = rng.integers(0, 4, n).astype(float)
    if kind == "multilabel":
        y = (logits + rng.logistic(size=(n, 3)) > 0).astype(int)
        model = TorchMultiLabelClassifier(hidden_layer_sizes=(), C=np.inf, dtype="float64", tol=1e-10, max_iter=500)
        model.set_params(fit_intercept=fit_intercept)
    else:
        classes = 3 if kind == "multinomial" else 2
        y = np.argmax(logits[:, :classes] + rng.gumbel(size=(n, classes)), axis=1)
        model = TorchLogisticClassifier(**TIGHT, fit_intercept=fit_intercept, class_weight={0: 2.0, 1: 1.0})
    model.fit(X, y, sample_weight=weight)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InferenceWarning)  # class weights read as importance weights
        dense = model.summary(X, y, sample_weight=weight, cov_type=cov_type)
        augmented = inference._augmented

        def dense_rows_only(chunk, *args, **kwargs):
            assert not sp.issparse(chunk), "a sparse X was densified a chunk of rows at a time"
            return augmented(chunk, *args, **kwargs)

        monkeypatch.setattr(inference, "_augmented", dense_rows_only)
        monkeypatch.setattr(inference, "CHUNK_VALUES", 20)
        sparse = model.summary(sp.csr_matrix(X), y, sample_weight=weight, cov_type=cov_type)
    assert dense["std_err"].notna().all()
    pd.testing.assert_frame_equal(sparse, dense, rtol=1e-10)
    assert sparse.attrs.keys() == dense.attrs.keys()
    for key, value in dense.attrs.items():
        assert sparse.attrs[key] == (pytest.approx(value, rel=1e-10) if isinstance(value, float) else value), key


@pytest.mark.parametrize("form", [np.asarray, sp.csr_matrix])
def test_columns_of_zeros_do_not_send_a_full_rank_design_to_the_eigenvalues(form, monkeypatch):
    """A column of zeros (a word absent from these rows) has rank 0 and leaves the other columns to decide: a design
    full rank but for such columns is counted from the Cholesky factor alone (5552 tf-idf columns, 15 empty, waited
    minutes for eigenvectors), and a collinear one still gets statsmodels' count from the eigenvalues."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 8)) * (rng.random((200, 8)) < 0.5)
    X[:, [1, 5]] = 0.0
    eigh = scipy.linalg.eigh
    calls = []
    monkeypatch.setattr(scipy.linalg, "eigh", lambda S, **kw: calls.append(len(S)) or eigh(S, **kw))
    assert inference.design_ranks(form(X)) == (6, 7)
    assert calls == []
    X[:, 2] = X[:, 3] - X[:, 4]
    assert inference.design_ranks(form(X)) == (5, 6)
    assert calls  # the collinear design's ranks came from its eigenvalues


def test_full_rank_is_told_from_a_cholesky_factor_only_where_the_eigenvalues_agree():
    """design_ranks skips the eigendecomposition (about 27x the flops of a Cholesky factor) where LAPACK's condition
    estimate leaves no doubt; it must never call a matrix with an eigenvalue at or below 1e-8 of the largest (the
    eigenvalue test's threshold) full rank."""
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((30, 30)))
    for smallest, verdict in [(1.0, True), (1e-3, True), (1e-7, False), (1e-8, False), (1e-12, False), (0.0, False)]:
        S = (Q * np.geomspace(1.0, smallest or 1e-300, 30)) @ Q.T if smallest else (Q[:, 1:] @ Q[:, 1:].T)
        S = S / np.sqrt(np.outer(np.diag(S), np.diag(S)))
        assert inference._clearly_full_rank(S) is verdict, smallest


def test_importance_weights_are_flagged_and_the_sandwich_keeps_its_size():
    """class_weight read as copies of the rows (nonrobust) gives p-values far too small on a feature without
    effect; the sandwich (HC0) keeps the test's size. summary warns, naming HC0, in both cases."""
    rng = np.random.RandomState(0)
    rejected = {"nonrobust": 0, "HC0": 0}
    for _ in range(20):
        X, y = rng.randn(300, 1), (rng.rand(300) < 0.1).astype(int)
        model = TorchLogisticClassifier(C=np.inf, class_weight={0: 1, 1: 9}, dtype="float64").fit(X, y)
        for cov_type in rejected:
            with pytest.warns(InferenceWarning, match="class_weight scales the loss of some rows"):
                table = model.summary(X, y, cov_type=cov_type)
            rejected[cov_type] += table["p_value"].iloc[1] < 0.05
    # Of 20 tests at the 5% level (1 expected); 60 measured 29 and 6 (these 20: 9 and 1).
    assert rejected["nonrobust"] >= 5 and rejected["HC0"] <= 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TorchLogisticClassifier(C=np.inf, class_weight={0: 1, 1: 1}).fit(X, y).summary(X, y)


def test_one_class_in_y_is_refused(spector):
    """With one class every statistic is degenerate (llnull 0, no optimum); it warned of an overflow instead."""
    X, y = spector
    clf = TorchLogisticClassifier(C=np.inf).fit(X, y)
    with pytest.raises(ValueError, match=r"summary\(\) needs y with at least two classes; got only 0 \(32 samples\)"):
        clf.summary(X, np.zeros(len(y), dtype=int))


def test_class_weight_scales_each_row_like_a_weight(spector):
    # The Hessian is the same for class_weight {0: 2} and sample_weight 2 on class 0;
    # only the sandwich tells importance weights (c^2 in the meat) from counts (c).
    X, y = spector
    by_class = TorchLogisticClassifier(**TIGHT, class_weight={0: 2.0, 1: 1.0}).fit(X, y)
    weight = np.where(y == 0, 2.0, 1.0)
    by_row = TorchLogisticClassifier(**TIGHT).fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(
        by_class.summary(X, y)["std_err"], by_row.summary(X, y, sample_weight=weight)["std_err"], rtol=1e-6
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(alpha=0), "alpha must be"),
        (dict(alpha=1.5), "alpha must be"),
        (dict(cov_type="HC3"), "cov_type must be"),
    ],
)
def test_bad_arguments(spector, kwargs, match):
    X, y = spector
    clf = TorchLogisticClassifier(**TIGHT).fit(X, y)
    with pytest.raises(ValueError, match=match):
        clf.summary(X, y, **kwargs)


def test_unsupported_models_and_data_are_refused(spector):
    X, y = spector
    hidden = TorchMultiLabelClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short fits that do not converge
        elastic = TorchLogisticClassifier(C=1.0, l1_ratio=0.5).fit(X, y)
        hidden.fit(X, np.c_[y, 1 - y])
    with pytest.raises(ValueError, match="L1 / elastic-net"):
        elastic.summary(X, y)
    with pytest.raises(ValueError, match="hidden layers"):
        hidden.summary(X, np.c_[y, 1 - y])
    clf = TorchLogisticClassifier(**TIGHT).fit(X, y)
    with pytest.raises(ValueError, match="not seen in fit"):
        clf.summary(X, y + 5)
    # the lengths the user passed, as scikit-learn lists them (the default weights' length was listed too)
    n = len(y)
    with pytest.raises(ValueError, match=rf"inconsistent numbers of samples: \[{n}, {n - 1}\]$"):
        clf.summary(X, y[:-1])
    with pytest.raises(ValueError, match=rf"inconsistent numbers of samples: \[{n}, {n}, {n - 2}\]$"):
        clf.summary(X, y, sample_weight=np.ones(n - 2))
    with pytest.raises(ValueError, match="feature"):
        clf.summary(X.iloc[:, :2], y)


def test_missing_pandas_is_a_clear_import_error(spector, monkeypatch):
    X, y = spector
    clf = TorchLogisticClassifier(**TIGHT).fit(X, y)
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        clf.summary(X.to_numpy(), y.to_numpy())


def test_nearly_collinear_features_stop_at_the_rounding_level_of_the_gradient():
    # x2 = x1 + 1e-5 noise: H^-1 is ~1e10 along x1 - x2, so at the optimum the Newton step is
    # rounding noise of the gradient amplified far above any step-size tolerance, while the value
    # is flat to the last bit (Armijo accepts the noise). Newton must stop on the gradient's
    # rounding level, not report "no optimum". Reference: the inverse of X' W X at the reported
    # coefficients, in NumPy, and a gradient at rounding level there.
    rng = np.random.RandomState(0)
    n = 2000
    x1, x3 = rng.normal(size=n), rng.normal(size=n)
    X = np.c_[x1, x1 + 1e-5 * rng.normal(size=n), x3]
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(x1 + 0.5 * x3)))).astype(int)
    clf = TorchLogisticClassifier(**TIGHT).fit(X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = clf.summary(X, y)
    assert not [w for w in caught if "NaN" in str(w.message)]  # neither "no optimum" nor "ill-conditioned"
    Xa = np.c_[np.ones(n), X]
    p = 1 / (1 + np.exp(-Xa @ table["coef"].to_numpy()))
    gradient = Xa.T @ (y - p)
    assert np.all(np.abs(gradient) <= 1e-10 * (np.abs(Xa).T @ np.abs(y - p)))
    cov = np.linalg.inv(Xa.T @ ((p * (1 - p))[:, None] * Xa))
    # condition number ~1e10: either inverse carries ~1e-6 relative error
    np.testing.assert_allclose(table["std_err"], np.sqrt(np.diag(cov)), rtol=1e-4)


def _quadratic_terms(minimum, curvature_seen, nan_above):
    """f(t) = (t - minimum)^2 / 2 with a Hessian that understates the curvature, NaN for t > nan_above."""

    def terms(theta, curvature, meat=False):
        t = float(theta[0, 0])
        bad = t > nan_above
        value = float("nan") if bad else 0.5 * (t - minimum) ** 2
        gradient = torch.tensor([float("nan") if bad else t - minimum], dtype=torch.float64)
        hessian = torch.tensor([[curvature_seen]], dtype=torch.float64) if curvature else None
        return inference.LikelihoodTerms(value, gradient, hessian, None, gradient.abs() + 1.0)

    return terms


def test_newton_never_accepts_a_non_finite_trial():
    # From 0, the Newton step with curvature 0.1 lands at 30, in the NaN region above 5: the
    # step must be halved until it is finite and decreasing, and Newton still reaches 3.
    result = inference.newton_refine(
        _quadratic_terms(3.0, curvature_seen=0.1, nan_above=5.0), torch.zeros(1, 1, dtype=torch.float64)
    )
    assert np.isfinite(result.value) and torch.isfinite(result.theta).all()
    assert result.status in ("converged", "max_iter")
    assert float(result.theta[0, 0]) <= 5.0
    # Everything non-finite along the direction: stop where it was, saying so.
    stuck = inference.newton_refine(
        _quadratic_terms(3.0, curvature_seen=1.0, nan_above=0.0), torch.zeros(1, 1, dtype=torch.float64)
    )
    assert stuck.status == "no_decrease" and float(stuck.theta[0, 0]) == 0.0


@pytest.mark.parametrize(
    "shape, n_params",
    [((300, 40), 41), ((400, 5, 12), 72)],  # (n, features) binary; (n, features, classes) multinomial
)
def test_summary_refuses_before_allocating_what_does_not_fit(shape, n_params, monkeypatch):
    rng = np.random.RandomState(0)
    X = rng.normal(size=shape[:2])
    y = rng.randint(0, shape[2] if len(shape) == 3 else 2, size=shape[0])
    clf = TorchLogisticClassifier(C=np.inf, max_iter=5).fit(X, y)
    needed = inference.summary_memory_bytes(n_params, shape[1])  # the Newton iterations' or design_ranks' peak
    monkeypatch.setattr(inference, "available_memory", lambda device: 1.9 * needed)  # half of it < needed
    allocated = []
    real_zeros = torch.zeros
    monkeypatch.setattr(
        torch, "zeros", lambda *a, **k: allocated.append(a) or real_zeros(*a, **k)
    )  # the Hessian's first allocation
    with pytest.raises(ValueError, match=rf"{n_params} parameters.*{needed / 1000:.3g} KB.*Select fewer features"):
        clf.summary(X, y)
    assert not any(len(a) == 2 and a[0] == n_params for a in allocated)
    monkeypatch.setattr(inference, "available_memory", lambda device: 2.1 * needed)
    assert np.isfinite(clf.summary(X, y)["std_err"]).all()


def test_hc1_with_too_few_observations_is_a_clear_error(spector):
    X, y = spector
    clf = TorchLogisticClassifier(**TIGHT).fit(X, y)
    weight = np.full(len(y), 4 / len(y))  # total weight 4 = the number of parameters
    with pytest.raises(ValueError, match=r"cov_type='HC1' needs a total sample weight greater than .*\(4\)"):
        clf.summary(X, y, sample_weight=weight, cov_type="HC1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InferenceWarning)
        assert np.isfinite(clf.summary(X, y, sample_weight=weight, cov_type="HC0")["std_err"]).all()


@pytest.mark.parametrize(
    "changed", [dict(C=0.001), dict(fit_intercept=False), dict(class_weight={0: 10, 1: 1}), dict(l1_ratio=0.5)]
)
def test_summary_describes_the_fitted_model_whatever_set_params_changed_since(changed, tmp_path):
    """set_params after fit changes the next fit, not the fitted model: summary re-read C, fit_intercept and
    class_weight as set now, and reported another model than the one predicting (fit_intercept=False dropped the
    intercept's row; C=0.001 gave coefficients a fifth of the fitted ones), with a warning blaming tol. A pickle
    and a saved file keep the fit's settings (save / load dropped them: the loaded model's standard errors were
    C=0.001's, and l1_ratio=0.5 refused a summary)."""
    X, y, model = _versicolor_virginica_model()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InferenceWarning)
        before = model.summary(X, y)
        model.set_params(**changed)
        after = model.summary(X, y)
        pd.testing.assert_frame_equal(pickle.loads(pickle.dumps(model)).summary(X, y), before)
        if "fit_intercept" not in changed:  # (a file holds the model the parameters build: save refuses that one)
            model.save(tmp_path / "changed.tl")
            loaded = TorchLogisticClassifier.load(tmp_path / "changed.tl")
            pd.testing.assert_frame_equal(loaded.summary(X, y), before)
            assert loaded.get_params()[next(iter(changed))] == changed[next(iter(changed))]
    pd.testing.assert_frame_equal(after, before)
    assert model.get_params()[next(iter(changed))] == changed[next(iter(changed))]  # the setting stays as set


def test_summary_reads_the_coefficients_predict_reads():
    """Assigned coefficients: a binary model's 1-D coef_ (LogisticRegression predicts with it) and a list are the
    model, as for predict; a wrong shape is refused in predict's words (they reached NumPy's, torch's and pandas'
    own errors here)."""
    X, y, model = _versicolor_virginica_model()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InferenceWarning)
        expected = model.summary(X, y)
        model.coef_ = model.coef_[0]
        pd.testing.assert_frame_equal(model.summary(X, y), expected)
        model.coef_ = model.coef_.tolist()
        pd.testing.assert_frame_equal(model.summary(X, y), expected)
        model.coef_ = np.zeros((1, 3))
        with pytest.raises(ValueError, match=r"coef_ has shape \(1, 3\); this model needs \(1, 4\)"):
            model.summary(X, y)


def _versicolor_virginica_model():
    """Iris's two overlapping classes (a finite optimum) and a tight float64 fit of them."""
    X, y = load_iris(return_X_y=True)
    X, y = X[y > 0], (y[y > 0] == 2).astype(int)
    return X, y, TorchLogisticClassifier(dtype="float64", tol=1e-10).fit(X, y)


def test_summary_keeps_the_fits_class_weight_when_the_callers_dict_changes_afterwards():
    """A class_weight dict the caller edits after fit (reused for another model) changes the next fit, not the fitted
    model: summary read the edited dict and reported another model's coefficients and standard errors than the one
    predicting."""
    X, y, _ = _versicolor_virginica_model()
    weights = {0: 1.0, 1: 5.0}
    model = TorchLogisticClassifier(class_weight=weights, dtype="float64", tol=1e-10).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InferenceWarning)
        before = model.summary(X, y)
        weights[1] = 1.0
        after = model.summary(X, y)
    pd.testing.assert_frame_equal(after, before)


def test_multilabel_summary_keeps_the_fits_pos_weight_whatever_set_params_changed_since():
    """set_params(pos_weight=None) after fit changes the next fit, not the fitted model: summary re-read pos_weight as
    set now and reported the unweighted objective's optimum (intercepts -0.81 against the fit's 0.25), standard errors
    and log-likelihood (-387 against -666) for the model fitted with pos_weight=3."""
    rng = np.random.RandomState(0)
    X = rng.randn(400, 3)
    Y = (X[:, :2] + rng.randn(400, 2) > 0.5).astype(int)
    model = TorchMultiLabelClassifier(pos_weight=[3.0, 3.0], dtype="float64", tol=1e-10).fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InferenceWarning)
        before = model.summary(X, Y)
        model.set_params(pos_weight=None)
        after = model.summary(X, Y)
    pd.testing.assert_frame_equal(after, before)
    assert after.attrs["llf"] == before.attrs["llf"]


@pytest.mark.parametrize("form", [np.asarray, sp.csr_matrix])
def test_completely_separated_classes_are_reported_as_without_an_estimate(form):
    """h6: a multinomial model of completely separated classes (class 0 below -0.5 on x0, class 2 above 0.5): the
    log-likelihood reaches 0 to rounding, its gradient and curvature vanish together, and Newton "converged" to
    coefficients of 1800 with standard errors of 2e6, converged=True and no warning. statsmodels reports perfect
    separation and NaN; so does summary now, naming it."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 3))
    y = np.where(X[:, 0] > 0.5, 2, np.where(X[:, 0] < -0.5, 0, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = TorchLogisticClassifier(C=np.inf, dtype="float64").fit(X, y)
    with pytest.warns(InferenceWarning, match="predicts every row with probability 1 of its class") as warned:
        table = model.summary(form(X), y)
    assert table["std_err"].isna().all() and table.attrs["converged"] is False
    # the table reports the fit's point (its llf below 0): the warning says so, not that the llf is 0
    assert table.attrs["llf"] < -1e-8 * len(y) and "the log-likelihood are the fit's" in str(warned[0].message)
    overlapping = np.where(X[:, 0] + rng.normal(size=300) > 0.5, 2, np.where(X[:, 0] < -0.5, 0, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an optimum that exists: no such warning
        table = TorchLogisticClassifier(**TIGHT).fit(X, overlapping).summary(form(X), overlapping)
    assert table["std_err"].notna().all()


def _cancer3():
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    X = X[:, :3]
    return (X - X.mean(0)) / X.std(0), y


def test_summary_leaves_coef_of_a_shifted_multinomial_model_untouched():
    """h4's mutant (the start not cloned). Penalised multinomial, fit_intercept=False, float64: summary's working
    parameters were a view of coef_, and the class-mean centring wrote into the user's coef_ (the same model:
    softmax ignores a common shift)."""
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter=20: a ConvergenceWarning; the model need not be optimal
        clf = TorchLogisticClassifier(C=1.0, fit_intercept=False, dtype="float64", max_iter=20).fit(X, y)
    clf.coef_ = clf.coef_ + 1.0  # float64, C-contiguous: np.asarray / torch.as_tensor share its memory
    before = clf.coef_.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.summary(X, y)
    np.testing.assert_array_equal(clf.coef_, before)


def test_far_from_optimum_is_warned_for_a_feature_with_tiny_standard_errors():
    """h4's mutant (the noise bound not squared). A feature in tiny units (x 1e10: coefficient and HC0 standard error
    ~1e-11) moved 5 standard errors: the noise test must compare a variance with a squared bound, or every standard
    error below ~1e-8 reads as noise."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 2))
    y = (X @ [1.0, -0.5] + rng.logistic(size=400) > 0).astype(int)
    X[:, 0] *= 1e10
    clf = TorchLogisticClassifier(C=np.inf, dtype="float64", tol=1e-10, max_iter=1000).fit(X, y)
    se = clf.summary(X, y, cov_type="HC0")["std_err"].to_numpy()
    assert se[1] < 1e-9
    clf.coef_ = clf.coef_.copy()
    clf.coef_[0, 0] += 5 * se[1]
    with pytest.warns(InferenceWarning, match=r"up to 5 standard errors away from the optimum"):
        clf.summary(X, y, cov_type="HC0")


def test_summary_of_an_unpenalised_fit_ignores_l1_ratio_as_sklearn():
    """h4's mutant (L1 refused without its penalised test). C=np.inf makes l1_ratio unused (scikit-learn and torchlogit
    warn so at fit): summary must not refuse it."""
    X, y = _cancer3()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        clf = TorchLogisticClassifier(C=np.inf, l1_ratio=0.5, dtype="float64").fit(X, y)
    assert np.isfinite(clf.summary(X, y)["std_err"]).all()


def test_intercept_row_name_avoids_every_feature_name():
    """h4's mutant (one underscore prepended once, not until the name is free): features named "intercept" and
    "_intercept" push the intercept's row to "__intercept", and every row name stays unique."""
    X, y = _cancer3()
    df = pd.DataFrame(X, columns=["intercept", "_intercept", "z"])
    table = TorchLogisticClassifier(C=np.inf, dtype="float64").fit(df, y).summary(df, y)
    assert table.index.is_unique and list(table.index)[1:] == ["intercept", "_intercept", "z"]


def test_a_column_vector_y_is_warned_about_as_fit_warns(spector):
    """fit warns (scikit-learn's DataConversionWarning) of y of shape (n, 1); summary took it silently."""
    from sklearn.exceptions import DataConversionWarning

    X, y = spector
    column = np.asarray(y)[:, None]
    with pytest.warns(DataConversionWarning) as fitted:
        clf = TorchLogisticClassifier(**TIGHT).fit(X, column)
    with pytest.warns(DataConversionWarning) as summarised:
        table = clf.summary(X, column)
    assert [str(w.message) for w in summarised] == [str(w.message) for w in fitted]
    pd.testing.assert_frame_equal(table, clf.summary(X, y))
