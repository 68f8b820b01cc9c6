"""The batched L-BFGS's whitening (TorchLogisticClassifierCV): what it is, where it applies, and what it buys."""

import sys
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from torchlogit._batched import BatchedLogistic, Whitening, batched_lbfgs

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
from cv import correlated  # noqa: E402  (AR(1)-correlated features, condition number of X^T X in the hundreds)


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
    with mock.patch.object(BatchedLogistic, "gram", return_value=None):
        plain = batched_lbfgs(problem, groups, Cs, np.zeros(8), **solve)
    assert whitened.converged.all() and plain.converged.all()
    np.testing.assert_allclose(whitened.x.numpy(), plain.x.numpy(), atol=1e-5)
    assert whitened.n_iter.sum() <= plain.n_iter.sum() / 2


def test_wide_designs_are_not_whitened():
    """More than MAX_WHITENED_WIDTH columns: no Gram matrix (P width x width factors would not pay)."""
    X, y = correlated(50, n_features=6)
    problem = _problem(X, y)
    with mock.patch("torchlogit._batched.MAX_WHITENED_WIDTH", 6):
        fresh = _problem(X, y)
        assert fresh.gram() is None
    assert problem.gram() is not None
