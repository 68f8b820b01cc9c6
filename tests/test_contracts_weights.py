"""Sample weights are weight sums, not row counts, in ``partial_fit`` and in the dask ``fit``.

``partial_fit``: with the "sgd" solver, no momentum and the whole batch in one step, one call
is one gradient step on the objective of a fit on that batch,
``(1/S) sum_i s_i l_i + ||W||^2 / (2 C S)``, ``S`` the batch's weight sum: written out here in
NumPy, and checked over two calls (the second starts away from zero, where the penalty's
gradient counts). Integer weights must also equal repeated rows.

Dask ``fit``: the blocks' weight sum scales both the data term and the penalty; with weights
the fit must follow, iteration for iteration, the in-memory fit with the same weights and the
dask fit on the repeated rows (whose row count differs), at the default ``tol`` where the
scale of the objective decides when L-BFGS stops.
"""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.preprocessing import StandardScaler

from torchlogit import TorchLogisticClassifier

LR, C = 0.5, 0.3
SGD = dict(solver="sgd", momentum=0.0, learning_rate_init=LR, batch_size=1000, C=C, dtype="float64")


def _softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def _sgd_step(W, b, X, y, s, classes):
    """One full-batch gradient step on the objective of a fit on (X, y, s), written out."""
    Z = X @ W.T + b
    if len(classes) == 2:
        residual = 1 / (1 + np.exp(-Z)) - (y == classes[1])[:, None]
    else:
        residual = _softmax(Z) - (y[:, None] == classes[None, :])
    S = s.sum()
    grad_W = (s[:, None] * residual).T @ X / S + W / (C * S)
    grad_b = (s[:, None] * residual).sum(axis=0) / S
    return W - LR * grad_W, b - LR * grad_b


def _data(loader, n):
    X, y = loader(return_X_y=True)
    rng = np.random.RandomState(0)
    rows = rng.permutation(len(y))[: 2 * n]
    X = StandardScaler().fit_transform(X[rows])
    s = rng.randint(1, 6, 2 * n).astype(np.float64)
    return X, y[rows], s


@pytest.mark.parametrize("loader", [load_breast_cancer, load_wine], ids=["binary", "multinomial"])
def test_partial_fit_is_a_gradient_step_on_the_weight_sum_objective(loader):
    X, y, s = _data(loader, 60)
    classes = np.unique(y)
    clf = TorchLogisticClassifier(**SGD)
    n_outputs = 1 if len(classes) == 2 else len(classes)
    W, b = np.zeros((n_outputs, X.shape[1])), np.zeros(n_outputs)
    for batch in (slice(0, 60), slice(60, 120)):
        clf.partial_fit(X[batch], y[batch], classes=classes, sample_weight=s[batch])
        W, b = _sgd_step(W, b, X[batch], y[batch], s[batch], classes)
        np.testing.assert_allclose(clf.coef_, W, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(clf.intercept_, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_integer_weights_equal_repeated_rows(solver):
    X, y, s = _data(load_wine, 60)
    classes = np.unique(y)
    params = dict(SGD, solver=solver, batch_size=16, random_state=0, learning_rate_init=0.05)
    weighted, repeated = TorchLogisticClassifier(**params), TorchLogisticClassifier(**params)
    for batch in (slice(0, 60), slice(60, 120)):
        weighted.partial_fit(X[batch], y[batch], classes=classes, sample_weight=s[batch])
        counts = s[batch].astype(int)
        repeated.partial_fit(np.repeat(X[batch], counts, axis=0), np.repeat(y[batch], counts), classes=classes)
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_, rtol=0, atol=1e-12)


@pytest.mark.parametrize("params", [dict(), dict(class_weight="balanced")], ids=["sample_weight", "balanced"])
def test_dask_fit_with_weights_follows_repeated_rows_and_the_in_memory_fit(client, params):
    da = pytest.importorskip("dask.array")
    X, y, s = _data(load_wine, 80)
    counts = s.astype(int)
    X_rep, y_rep = np.repeat(X, counts, axis=0), np.repeat(y, counts)
    params = dict(C=C, dtype="float64", **params)  # default tol: the objective's scale matters
    weighted = TorchLogisticClassifier(**params).fit(
        da.from_array(X, chunks=(50, -1)), da.from_array(y, chunks=50), sample_weight=da.from_array(s, chunks=50)
    )
    repeated = TorchLogisticClassifier(**params).fit(
        da.from_array(X_rep, chunks=(100, -1)), da.from_array(y_rep, chunks=100)
    )
    local = TorchLogisticClassifier(**params).fit(X, y, sample_weight=s)
    for other in (repeated, local):
        assert weighted.n_iter_[0] == other.n_iter_[0]
        np.testing.assert_allclose(weighted.coef_, other.coef_, rtol=0, atol=1e-8)
        np.testing.assert_allclose(weighted.intercept_, other.intercept_, rtol=0, atol=1e-8)


def test_effective_rows_is_kishs_count():
    """(sum w)^2 / sum w^2: the row count for equal weights, fewer for unequal ones, for arrays and tensors alike."""
    from torchlogit._data import effective_rows

    assert effective_rows(np.full(7, 0.25)) == pytest.approx(7.0, rel=1e-12)
    assert effective_rows(torch.tensor([1.0, 3.0])) == pytest.approx(16.0 / 10.0, rel=1e-12)
    assert effective_rows(torch.tensor([2.0, 0.0, 2.0], dtype=torch.float32)) == pytest.approx(2.0, rel=1e-12)
    assert effective_rows(np.zeros(3)) == 0.0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("container", ["numpy", "tensor", "sparse"])  # the torch path twice, then the host path
def test_zero_weight_rows_are_ignored_bitwise_whatever_their_values(dtype, container):
    """A row of weight zero is dropped, bit for bit, even when its values are far larger than the others':
    they once widened the tie bound of the canonical rows (and so the order of the sums)."""
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    weight = np.random.RandomState(0).rand(len(y))
    weight[::3] = 0
    keep = weight > 0
    far = X.copy()
    far[~keep] = 1e10
    inputs = {
        "numpy": (far, y, weight),
        "tensor": (torch.tensor(far), torch.tensor(y), torch.tensor(weight)),
        "sparse": (sp.csr_matrix(far), y, weight),
    }[container]
    with_zeros = TorchLogisticClassifier(dtype=dtype).fit(inputs[0], inputs[1], sample_weight=inputs[2])
    kept = sp.csr_matrix(X[keep]) if container == "sparse" else X[keep]
    dropped = TorchLogisticClassifier(dtype=dtype).fit(kept, y[keep], sample_weight=weight[keep])
    np.testing.assert_array_equal(with_zeros.coef_, dropped.coef_)
    np.testing.assert_array_equal(with_zeros.intercept_, dropped.intercept_)


def test_the_weight_total_of_a_cpu_tensor_is_numpys_sum_bitwise():
    """h2's mutant D14 (weight_total: torch's sum for CPU tensors too): a CPU tensor's total is NumPy's pairwise
    sum, as the NumPy array's, so that a fit from a CPU tensor is the fit from the array bit for bit. For these
    3000 weights torch's sum is 1 ulp off NumPy's."""
    from torchlogit._data import weight_total

    w = np.random.default_rng(5).random(3000) * 3
    assert float(np.sum(w)) != float(torch.from_numpy(w).sum())  # the case this test is about
    assert weight_total(torch.from_numpy(w)) == float(np.sum(w))
    assert weight_total(w) == float(np.sum(w))


def test_sparse_float32_rows_repeated_with_weights_equal_their_summed_weight_bitwise():
    """Mutant D9 (_data.fit_inputs: sample weights checked in X's dtype, float32 for float32 sparse X, not float64).
    Three copies of each row with weight 0.1 must fit bitwise as one row with weight 0.1 + 0.1 + 0.1 (the merged
    sum, in float64); with float32 weights the copies sum 0.1f three times, 0.30000000447, against 0.3f."""
    rng = np.random.RandomState(0)
    X = rng.choice([0.0, 0.0, 1.0, -2.5], size=(20, 4)).astype(np.float32)
    y = (X[:, 0] + rng.randn(20) > 0).astype(int)
    params = dict(dtype="float32")
    copies = TorchLogisticClassifier(**params).fit(
        sp.csr_matrix(np.repeat(X, 3, axis=0)), np.repeat(y, 3), sample_weight=np.full(60, 0.1)
    )
    once = TorchLogisticClassifier(**params).fit(sp.csr_matrix(X), y, sample_weight=np.full(20, 0.1 + 0.1 + 0.1))
    np.testing.assert_array_equal(copies.coef_, once.coef_)
    np.testing.assert_array_equal(copies.intercept_, once.intercept_)
