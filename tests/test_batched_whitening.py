"""The batched L-BFGS's metrics (TorchLogisticClassifierCV): the whitening of narrow designs, the diagonal scaling of
wide ones: what they are, where they apply, and what they buy."""

import sys
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from torchlogit import TorchLogisticClassifierCV, _batched
from torchlogit._batched import BatchedLogistic, DiagonalScaling, Whitening, batched_lbfgs

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
from cv import correlated  # noqa: E402  (AR(1)-correlated features, condition number of X^T X in the hundreds)
from sklearn_reference import logistic_regression_cv  # noqa: E402


def _problem(X, y, kind="binary", n_outputs=1, n_groups=2):
    weight = np.ones((len(y), n_groups))
    weight[: len(y) // 2, 1] = 0.0  # a second "fold"
    return BatchedLogistic.from_data(X, y, weight, kind=kind, n_outputs=n_outputs, fit_intercept=True)


@pytest.mark.parametrize("sparse", [False, True])
def test_the_gram_matrix_is_numpys_for_dense_and_sparse_designs(sparse):
    X, y = correlated(200, n_features=6)
    X[np.abs(X) < 0.7] = 0.0
    problem = _problem(sp.csr_matrix(X) if sparse else X, y)
    D = np.c_[X, np.ones(len(y))] * (1 - 2 * y)[:, None]
    np.testing.assert_allclose(problem.gram().numpy(), D.T @ D / len(y), rtol=1e-12, atol=1e-15)


def test_whitening_is_the_inverse_of_each_problems_curvature_bound():
    """T T^T = (D^T D / (4 n) + l2 M)^{-1} per problem (M: the penalised coefficients); L1 problems keep T = I."""
    X, y = correlated(200, n_features=6)
    problem = _problem(X, y)
    gram = problem.gram()
    l2 = torch.tensor([1e-3, 10.0, 0.0], dtype=torch.float64)
    mask = problem.coefficient_mask(torch.float64, "cpu")
    metric = Whitening(gram, l2, np.array([False, False, True]), 1, problem.width, mask, torch.float64)
    for p in range(2):
        G = gram.numpy() / 4 + l2[p].item() * np.diag(mask.numpy())
        TTt = (metric.T[p] @ metric.T[p].T).numpy()
        np.testing.assert_allclose(TTt @ G, np.eye(problem.width), atol=1e-7)
    np.testing.assert_array_equal(metric.T[2].numpy(), np.eye(problem.width))


@pytest.mark.parametrize("kind", ["binary", "multinomial"])
def test_whitened_batch_reaches_the_plain_batchs_solutions_in_far_fewer_iterations(kind):
    """Correlated features, 2 folds x 4 Cs, tol 1e-8, float64: the same solutions as plain L-BFGS (1e-5) with at most
    half its iterations (measured: binary 40k x 60, 5 folds x 10 Cs: 1509 -> 295 problem-iterations)."""
    X, y = correlated(3000, n_features=18)
    n_outputs = 1
    if kind == "multinomial":
        y = np.digitize(X[:, 0] + X[:, 7] + 0.5 * np.random.RandomState(1).randn(len(y)), [-1.0, 1.0])
        n_outputs = 3
    problem = _problem(X, y, kind=kind, n_outputs=n_outputs)
    groups = np.repeat([0, 1], 4)
    Cs = np.tile([1e-2, 1e-1, 1.0, 1e2], 2)
    solve = dict(tol=1e-8, max_iter=1000, ftol=64 * np.finfo(np.float64).eps)
    whitened = batched_lbfgs(problem, groups, Cs, np.zeros(8), **solve)
    with mock.patch.object(BatchedLogistic, "gram", return_value=None), _plain():
        plain = batched_lbfgs(problem, groups, Cs, np.zeros(8), **solve)
    assert whitened.converged.all() and plain.converged.all()
    np.testing.assert_allclose(whitened.x.numpy(), plain.x.numpy(), atol=1e-5)
    assert whitened.n_iter.sum() <= plain.n_iter.sum() / 2


def test_wide_designs_are_not_whitened():
    """More than MAX_WHITENED_WIDTH columns: no Gram matrix (P width x width factors would not pay)."""
    X, y = correlated(50, n_features=6)
    problem = _problem(X, y)
    with mock.patch.object(_batched, "MAX_WHITENED_WIDTH", 6):
        fresh = _problem(X, y)
        assert fresh.gram() is None
    assert problem.gram() is not None


def test_designs_with_fewer_values_than_four_factor_entries_are_not_whitened():
    """A sparse design whose width^2 exceeds a quarter of its values (text with few values a column): no Gram matrix,
    the diagonal scaling instead; one value more per entry and it is whitened (the rule's edge, both sides)."""
    X, y = _zipf(300, 49, 2)  # width 50 with the intercept: whitened from 4 * 2500 = 10000 values on
    problem = _problem(X, y)
    assert problem.design_values < 10_000 and problem.gram() is None
    dense = _problem(X.toarray(), y)  # 300 x 50 = 15000 values
    assert dense.design_values >= 10_000 and dense.gram() is not None
    with mock.patch("torchlogit._batched.WHITENING_VALUES_PER_ENTRY", problem.design_values / 2500):
        assert _problem(X, y).gram() is not None


class _Identity:
    """The metrics' interface (torchlogit._batched.Whitening's) for plain L-BFGS, which they are measured against."""

    def restrict(self, keep):
        pass

    def gradient(self, g):
        return g

    def direction(self, d_v):
        return d_v

    def step(self, s):
        return s


def _plain():
    """Plain L-BFGS for designs without a Gram matrix (the identity instead of the diagonal scaling)."""
    return mock.patch("torchlogit._batched.DiagonalScaling", lambda *args: _Identity())


def _zipf(n, d, per_row, seed=0):
    """Text-like sparse rows: column frequencies ~ 1/rank (Zipf), labels from a logistic model."""
    rng = np.random.RandomState(seed)
    p = 1.0 / np.arange(1, d + 1)
    cols = rng.choice(d, size=n * per_row, p=p / p.sum())
    X = sp.csr_matrix((rng.rand(n * per_row), cols, np.arange(0, n * per_row + 1, per_row)), shape=(n, d))
    X.sum_duplicates()
    y = (rng.rand(n) < 1 / (1 + np.exp(-(X @ rng.randn(d)) * 2))).astype(int)
    return X, y


@pytest.mark.parametrize("sparse", [True, False])
def test_the_diagonal_scaling_is_the_inverse_square_root_of_each_columns_curvature_bound(sparse):
    """Wide designs: scale_j = (m_j / 4 + l2 [j penalised])^(-1/2) per problem, m_j the column's mean square under the
    groups' average row weights (NumPy's, written out); every output block the same."""
    X, y = _zipf(300, 40, 3)
    X = X if sparse else X.toarray()
    weight = np.ones((len(y), 2))
    weight[:100, 1] = 0.0
    weight[:, 0] *= np.random.RandomState(2).uniform(0.5, 2.0, len(y))
    with mock.patch.object(_batched, "MAX_WHITENED_WIDTH", 6):
        problem = BatchedLogistic.from_data(X, y % 3, weight, kind="multinomial", n_outputs=3, fit_intercept=True)
        assert problem.gram() is None
    dense = np.c_[X.toarray() if sparse else X, np.ones(len(y))]
    mean_weight = (weight / weight.sum(0)).mean(1)
    moments = mean_weight @ dense**2
    np.testing.assert_allclose(problem.column_moments().numpy(), moments, rtol=1e-12)
    l2 = torch.tensor([1e-3, 10.0, 0.5], dtype=torch.float64)
    mask = problem.coefficient_mask(torch.float64, "cpu")
    metric = DiagonalScaling(problem.column_moments(), l2, 3, 41, mask, torch.float64)
    for p in range(3):
        expected = 1 / np.sqrt(moments / 4 + l2[p].item() * mask[:41].numpy())
        np.testing.assert_allclose(metric.scale[p].numpy(), np.tile(expected, 3), rtol=1e-12)


@pytest.mark.parametrize("kind", ["binary", "multinomial"])
def test_scaled_batch_on_zipf_text_reaches_sklearns_optimum_in_far_fewer_iterations(kind):
    """Zipf-distributed sparse columns, wider than MAX_WHITENED_WIDTH: each problem equals scikit-learn's
    newton-cholesky at tol 1e-12 (1e-5; its lbfgs stops on the relative decrease first, rare columns a little short),
    and the batch needs at most half the iterations of plain L-BFGS (here 266 against 1419 binary, 472 against 2583
    multinomial; 50k x 10k text, 5 folds x 10 Cs, defaults: 3274 -> 1224 problem-iterations, 5.2 -> 1.8 s)."""
    from sklearn.linear_model import LogisticRegression

    X, y = _zipf(2000, 300, 6)
    n_outputs = 1
    if kind == "multinomial":
        y = (y + (X[:, 1].toarray().ravel() > 0) + (X[:, 4].toarray().ravel() > 0)) % 3
        n_outputs = 3
    weight = np.ones((len(y), 2))
    weight[: len(y) // 2, 1] = 0.0
    problem = BatchedLogistic.from_data(X, y, weight, kind=kind, n_outputs=n_outputs, fit_intercept=True)
    groups = np.repeat([0, 1], 3)
    Cs = np.tile([0.1, 3.0, 100.0], 2)
    solve = dict(tol=1e-10, max_iter=5000, ftol=0.0)
    with mock.patch("torchlogit._batched.MAX_WHITENED_WIDTH", 50):
        assert problem.gram() is None
        scaled = batched_lbfgs(problem, groups, Cs, np.zeros(6), **solve)
        with _plain():
            plain = batched_lbfgs(problem, groups, Cs, np.zeros(6), **solve)
    assert scaled.converged.all() and plain.converged.all()
    assert scaled.n_iter.sum() <= plain.n_iter.sum() / 2
    for p, (group, C) in enumerate(zip(groups, Cs, strict=True)):
        rows = weight[:, group] > 0
        reference = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(X[rows], y[rows])
        W, b = problem.split(scaled.x[p : p + 1])
        np.testing.assert_allclose(W[0].numpy(), reference.coef_, atol=1e-5)
        np.testing.assert_allclose(b[0].numpy(), reference.intercept_, atol=1e-5)


def test_scaled_l1_and_elastic_net_problems_keep_owlqns_optimum_and_zeros_in_fewer_iterations():
    """OWL-QN under the diagonal scaling (a positive diagonal keeps the orthants): on Zipf text the L1 and elastic-net
    problems reach plain OWL-QN's objective values (1e-9) with the same exact zeros (up to 0.1% of the coefficients,
    rare columns at the threshold), in at most three quarters of its iterations (measured: 20k x 5k text, L1,
    5 folds x 4 Cs: 977 -> 620 problem-iterations, 0.8-0.95 -> 0.6 s)."""
    X, y = _zipf(2000, 300, 6)
    weight = np.ones((len(y), 2))
    weight[: len(y) // 2, 1] = 0.0
    problem = BatchedLogistic.from_data(X, y, weight, kind="binary", n_outputs=1, fit_intercept=True)
    groups = np.repeat([0, 1], 4)
    Cs = np.tile([0.3, 3.0, 0.3, 3.0], 2)
    ratios = np.tile([1.0, 1.0, 0.5, 0.5], 2)
    solve = dict(tol=1e-8, max_iter=5000, ftol=0.0)
    with mock.patch("torchlogit._batched.MAX_WHITENED_WIDTH", 50):
        scaled = batched_lbfgs(problem, groups, Cs, ratios, **solve)
        with _plain():
            plain = batched_lbfgs(problem, groups, Cs, ratios, **solve)
    assert scaled.converged.all() and plain.converged.all()
    # The same objective values (rare columns' coefficients are loosely determined at any tol: compare the objectives).
    strength = 1 / (Cs * problem.weight_sum[groups].numpy())
    l2, l1 = torch.from_numpy(strength * (1 - ratios)), torch.from_numpy(strength * ratios)
    mask = problem.coefficient_mask(torch.float64, "cpu")
    values = [problem.evaluate(r.x, problem.weights(groups), l2, l1, mask)[0].numpy() for r in (scaled, plain)]
    np.testing.assert_allclose(values[0], values[1], rtol=1e-9)
    zeros = scaled.x.numpy() == 0
    assert 0 < zeros.sum() < zeros.size  # the L1 parts do zero some coefficients out
    assert (zeros != (plain.x.numpy() == 0)).sum() <= zeros.size // 1000
    assert scaled.n_iter.sum() <= 3 * plain.n_iter.sum() / 4  # here 375 against 554


def test_a_failed_line_search_is_not_called_converged():
    """A problem whose line search finds no finite decrease keeps its point: no decrease, which the ftol rule read
    as convergence (a silent stop; SciPy's L-BFGS-B reports ABNORMAL). It is not converged now, and marked for the
    float64 continuation (``stalled``) as a float32 stall is. Here every trial after the start is made non-finite."""
    X, y = correlated(400, n_features=6)
    problem = _problem(X, y)
    groups, Cs = np.array([0, 1]), np.array([1.0, 1.0])
    real = problem.evaluate
    calls = []

    def failing(x, weight, l2, l1, coefficients):
        f, g = real(x, weight, l2, l1, coefficients)
        calls.append(1)
        return (f, g) if len(calls) == 1 else (torch.full_like(f, float("inf")), g)

    with mock.patch.object(problem, "evaluate", failing):
        result = batched_lbfgs(problem, groups, Cs, np.zeros(2), tol=1e-8, max_iter=50, ftol=64 * np.finfo(float).eps)
    assert not result.converged.any()
    assert result.stalled.all() and (result.n_iter == 1).all()


def test_a_line_search_failing_flat_at_the_rounding_floor_is_a_reduction_of_zero():
    """A search whose every trial equals the start (finite, within 64 eps: the objective flat to its rounding, the
    optimum's precision floor) is not a failure but a reduction of zero, which the ftol rule judges, as the single
    fit's LBFGS._flat_to_precision and SciPy's L-BFGS-B do: converged (and marked stalled, for a float32 run's
    continuation). It was reported "failed to converge" (h2: a CV at tol=1e-10 whose gradient was 1e-9)."""
    X, y = correlated(400, n_features=6)
    problem = BatchedLogistic.from_data(X, y, np.ones((len(y), 1)), kind="binary", n_outputs=1, fit_intercept=True)
    real = problem.evaluate
    start = []

    def flat(x, weight, l2, l1, coefficients):
        f, g = real(x, weight, l2, l1, coefficients)
        start.append(f)
        # Every trial a few ulps above the start (Armijo fails), within the 64 eps of rounding
        return (f, g) if len(start) == 1 else (start[0] * (1 + 2.0**-50), g)

    with mock.patch.object(problem, "evaluate", flat):
        result = batched_lbfgs(problem, np.array([0]), np.array([1.0]), np.zeros(1), tol=1e-8, max_iter=50, ftol=1e-12)
    assert result.converged.all() and result.stalled.all() and (result.n_iter == 1).all()


def test_sparse_column_moments_are_summed_a_block_of_rows_at_a_time(monkeypatch):
    """A CSR design's column moments are summed over blocks of rows holding about CHUNK_VALUES stored values each: a
    block per row instead (the values' count divided once too often) made a 100k-row CV fit's set-up one Python call
    per row. NumPy's weighted column sums of squares, in a few blocks that cover the rows once, in order."""
    X, y = _zipf(300, 40, 3)
    weight = np.ones((len(y), 2))
    weight[:100, 1] = 0.0
    weight[:, 0] *= np.random.RandomState(2).uniform(0.5, 2.0, len(y))
    problem = BatchedLogistic.from_data(X, y, weight, kind="binary", n_outputs=1, fit_intercept=True)
    assert problem.design.layout == torch.sparse_csr
    n_values = problem.design.values().shape[0]
    monkeypatch.setattr(_batched, "CHUNK_VALUES", 120)  # about 30 rows of 4 stored values a block
    blocks = []
    original = _batched.add_column_square_sums

    def spy(out, D, weight, start, end, lo, hi):
        blocks.append((start, end))
        return original(out, D, weight, start, end, lo, hi)

    monkeypatch.setattr(_batched, "add_column_square_sums", spy)
    moments = problem.column_moments().numpy()
    mean_weight = (weight / weight.sum(0)).mean(1)
    np.testing.assert_allclose(moments, mean_weight @ np.c_[X.toarray(), np.ones(len(y))] ** 2, rtol=1e-12)
    assert 2 <= len(blocks) <= n_values // 120 + 2
    assert [start for start, _ in blocks] == [0] + [end for _, end in blocks[:-1]] and blocks[-1][1] == len(y)


def test_a_design_exactly_max_whitened_width_wide_is_whitened():
    """The rule's other edge (test_wide_designs_are_not_whitened checks one column more): designs of *up to*
    MAX_WHITENED_WIDTH columns, intercept included, are whitened, as the module's docstring says; one column more
    and they get the diagonal scaling. A user's 511 features + intercept keep the whitened solve."""
    rng = np.random.RandomState(0)
    X, y = rng.randn(300, 6), np.tile([0, 1], 150)  # width 7 with the intercept, 2100 >= 4 * 49 values
    weight = np.ones((len(y), 1))
    with mock.patch.object(_batched, "MAX_WHITENED_WIDTH", 7):
        at_edge = BatchedLogistic.from_data(X, y, weight, kind="binary", n_outputs=1, fit_intercept=True)
        assert at_edge.width == 7 and at_edge.whitened() and at_edge.gram() is not None
    with mock.patch.object(_batched, "MAX_WHITENED_WIDTH", 6):
        beyond = BatchedLogistic.from_data(X, y, weight, kind="binary", n_outputs=1, fit_intercept=True)
        assert not beyond.whitened() and beyond.gram() is None


def test_collinear_float32_features_at_large_c_keep_sklearns_coefficients():
    """float32 (the default dtype) on collinear features at a large C: the Gram matrix, computed in float32, is
    indefinite by its rounding (eigenvalues near -1e-7, beyond the 1e-10 floor), so its Cholesky factor fails and
    those problems must fall back to the identity metric. A half-computed factor used as the metric moves the
    coefficients along the data's null space: the same predictions, but coef_ and coefs_paths_ far (units) from
    LogisticRegressionCV's minimum-norm ones, which the original matches to 1e-4."""
    rng = np.random.RandomState(0)
    a = rng.randn(200, 2)
    X = np.column_stack([a, a @ rng.randn(2, 4)])  # six features of rank two: D^T D is singular
    y = (a[:, 0] + 0.5 * rng.randn(200) > 0).astype(int)
    C = 1e6
    ref = logistic_regression_cv(Cs=[C], cv=2, l1_ratios=(0.0,), scoring="neg_log_loss", tol=1e-8, max_iter=1000)
    ref.fit(X, y)
    model = TorchLogisticClassifierCV(Cs=[C], cv=2).fit(X, y)
    np.testing.assert_allclose(model.coef_, ref.coef_, atol=1e-3)
    np.testing.assert_allclose(model.intercept_, ref.intercept_, atol=1e-3)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_gram_factor_reported_failed_is_never_the_metric(monkeypatch, dtype):
    """The test above meets a failed Cholesky factor only where this BLAS's float32 Gram matrix is indefinite by
    its rounding. Here every problem's factorisation is reported failed, on any BLAS and in both dtypes, with a
    lower triangle that is not a factor (the Gram matrix's own, as LAPACK leaves the part it did not reach): the
    problems must go on with the identity metric and keep LogisticRegressionCV's minimum-norm coefficients on the
    same rank-two data; with that triangle as the metric they move along the null space."""
    real = torch.linalg.cholesky_ex

    def failing(G, *args, **kwargs):
        L, info = real(G, *args, **kwargs)
        if G.dim() == 3:  # the batch's whitening (Newton's and inference's factors are 2-D)
            return torch.tril(G), torch.ones_like(info)
        return L, info

    monkeypatch.setattr(torch.linalg, "cholesky_ex", failing)
    rng = np.random.RandomState(0)
    a = rng.randn(200, 2)
    X = np.column_stack([a, a @ rng.randn(2, 4)])  # six features of rank two
    y = (a[:, 0] + 0.5 * rng.randn(200) > 0).astype(int)
    C = 1e6
    ref = logistic_regression_cv(Cs=[C], cv=2, l1_ratios=(0.0,), scoring="neg_log_loss", tol=1e-8, max_iter=1000)
    ref.fit(X, y)
    model = TorchLogisticClassifierCV(Cs=[C], cv=2, dtype=dtype).fit(X, y)
    np.testing.assert_allclose(model.coef_, ref.coef_, atol=1e-3)
    np.testing.assert_allclose(model.intercept_, ref.intercept_, atol=1e-3)


def test_float32_diagonal_scaling_of_a_column_of_tiny_values_stays_finite():
    """A sparse float32 design (diagonal scaling) with a column of a few values near float32's smallest normal
    (2e-38, which the fit accepts) and no penalty (C=inf): the column's curvature bound m_j / 4 is ~1e-79, whose
    inverse square root is beyond float32. Clamped, the scale stays finite and the unpenalised problem converges in
    float32; unclamped, the scale is inf, the first line search fails on NaN and the problem is left to the float64
    continuation after one iteration (a CV then reports other n_iter_ and runs slower)."""
    rng = np.random.RandomState(0)
    n = 200
    X = sp.random(n, 30, density=0.1, random_state=rng, format="csr").toarray()
    X[:, 0] = 0.0
    X[::50, 0] = 2e-38
    y = (X[:, 1] + X[:, 2] + 0.3 * rng.randn(n) > 0.1).astype(int)
    problem = BatchedLogistic.from_data(
        sp.csr_matrix(X), y, np.ones((n, 1)), kind="binary", n_outputs=1, fit_intercept=True, dtype=torch.float32
    )
    assert problem.gram() is None  # diagonal scaling
    coefficients = problem.coefficient_mask(torch.float32, "cpu")
    no_penalty = torch.zeros(1, dtype=torch.float64)
    scaling = DiagonalScaling(problem.column_moments(), no_penalty, 1, problem.width, coefficients, torch.float32)
    assert torch.isfinite(scaling.scale).all()
    solve = dict(tol=1e-4, max_iter=100, ftol=8 * np.finfo(np.float32).eps)
    result = batched_lbfgs(problem, np.array([0]), np.array([np.inf]), np.zeros(1), **solve)
    assert result.converged.all() and not result.stalled.any() and (result.n_iter > 1).all()
