"""L-BFGS's first step is SciPy's L-BFGS-B's (scikit-learn's solver): unit length along steepest descent."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import expit, log_expit
from sklearn.exceptions import ConvergenceWarning

from torchlogit import TorchLogisticClassifier


def sparse_problem(n=3000, d=400, per_row=8, seed=0):
    """Text-like binary data: many features, few non-zeros per row (where ||g||_1 >> ||g||_2)."""
    rng = np.random.default_rng(seed)
    X = sp.csr_matrix(
        (rng.random(n * per_row), rng.integers(0, d, n * per_row), np.arange(0, n * per_row + 1, per_row)),
        shape=(n, d),
    )
    X.sum_duplicates()
    y = (rng.random(n) < expit(X @ rng.standard_normal(d) - 1.0)).astype(int)
    return X, y


def objective_and_gradient(X, y, C=1.0):
    """scikit-learn's binary objective (mean log-loss + ||w||^2 / (2 C n)) and its gradient, float64."""
    n = X.shape[0]
    sign = 2.0 * y - 1.0

    def fun(params):
        w, b = params[:-1], params[-1]
        z = X @ w + b
        value = -log_expit(sign * z).mean() + w @ w / (2 * C * n)
        residual = (expit(z) - y) / n
        return value, np.r_[X.T @ residual + w / (C * n), residual.sum()]

    return fun


def scipy_iterates(fun, size, n_iter):
    """Objective after each of L-BFGS-B's first ``n_iter`` iterations (scikit-learn's options)."""
    values = []
    minimize(
        fun,
        np.zeros(size),
        method="L-BFGS-B",
        jac=True,
        # The iterate itself: SciPy < 1.11 passes only x (no ``intermediate_result``).
        callback=lambda xk: values.append(fun(xk)[0]),
        options=dict(maxiter=n_iter, maxls=50, gtol=1e-12, ftol=64 * np.finfo(float).eps),
    )
    return values


@pytest.mark.parametrize("density", ["sparse", "dense"])
def test_first_iterate_is_scipy_lbfgsb_first_iterate(density):
    """The first iterate (steepest descent, initial step 1/||g||_2) equals L-BFGS-B's to 1e-12 in float64.

    torch's initial step min(1, 1/||g||_1) is ~sqrt(d) times shorter on such data: its first
    iterate is far from L-BFGS-B's (checked too, so the test can tell the two rules apart).
    """
    X, y = sparse_problem()
    if density == "dense":
        X = X.toarray()
    fun = objective_and_gradient(X, y)
    expected = scipy_iterates(fun, X.shape[1] + 1, n_iter=1)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = TorchLogisticClassifier(dtype="float64", max_iter=1).fit(X, y)
    ours = fun(np.r_[model.coef_[0], model.intercept_])[0]
    assert ours == pytest.approx(expected, rel=1e-12, abs=0)

    g = fun(np.zeros(X.shape[1] + 1))[1]
    torch_step = min(1.0, 1.0 / np.abs(g).sum())
    assert torch_step < 0.2 / np.linalg.norm(g)  # the old rule's first trial is much shorter


def test_iteration_count_matches_scipy_on_sparse_data():
    """On sparse data the whole run follows L-BFGS-B closely: the same number of iterations to gtol, +-1."""
    X, y = sparse_problem(n=20_000, d=2_000, per_row=20)
    fun = objective_and_gradient(X, y)
    reference = minimize(
        fun,
        np.zeros(X.shape[1] + 1),
        method="L-BFGS-B",
        jac=True,
        options=dict(maxiter=1000, maxls=50, gtol=1e-4, ftol=64 * np.finfo(float).eps),
    )
    model = TorchLogisticClassifier(dtype="float64").fit(X, y)
    assert abs(int(model.n_iter_[0]) - reference.nit) <= 1, (model.n_iter_, reference.nit)
    # Both stop at gtol=1e-4, each at its own point near the optimum.
    assert fun(np.r_[model.coef_[0], model.intercept_])[0] == pytest.approx(reference.fun, abs=1e-5)


@pytest.mark.parametrize("max_iter", [1, 2, 5])
def test_the_first_iterates_are_logistic_regressions_on_standardised_data(breast_cancer, max_iter):
    """Standardised breast cancer: the gradient at zero (norm 1.42) exceeds the objective (log 2), so the unit first
    step overshoots the zero of its linear prediction by 2x. It is L-BFGS-B's step, taken as it is: cut to that zero
    (as for features of 1e9, which overshoot 1e9 times), the iterates left scikit-learn's path from the first one
    (probabilities 0.16 apart at max_iter=1), and a max_iter budget (validation_curve, HalvingRandomSearchCV's
    resource) gave other models."""
    from sklearn.linear_model import LogisticRegression

    X, y = breast_cancer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = TorchLogisticClassifier(dtype="float64", max_iter=max_iter).fit(X, y)
        reference = LogisticRegression(max_iter=max_iter).fit(X, y)
    assert ours.n_iter_[0] == reference.n_iter_[0] == max_iter
    np.testing.assert_allclose(ours.predict_proba(X), reference.predict_proba(X), rtol=0, atol=1e-6)


@pytest.mark.parametrize("scale", [1e3, 1e5])
def test_the_first_iterate_is_logistic_regressions_on_raw_features_up_to_1e5(scale):
    """Raw features of 1e3 or 1e5 (the unit step overshoots the zero of its linear prediction ~1e3 or ~1e5 times):
    cut back from 100 times on, the first iterate was not L-BFGS-B's (max_iter=1 probabilities 0.3 and 0.2 apart).
    The unit step is kept up to a million times; beyond (features of 1e9: tests/test_extreme_values.py) it is cut.
    (Later iterates part where the two line searches pick other points.)"""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.RandomState(0)
    Z = rng.randn(200, 3)
    X, y = scale * Z, (Z[:, 0] + 0.5 * rng.randn(200) > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = TorchLogisticClassifier(dtype="float64", max_iter=1).fit(X, y)
        reference = LogisticRegression(max_iter=1).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), reference.predict_proba(X), rtol=0, atol=1e-9)
