"""L-BFGS's diagonal preconditioner: when it applies, what it is, and that it leaves the usual path alone."""

from unittest import mock

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine

from torchlogit._kernels import column_max_abs
from torchlogit._modules import LinearLogits
from torchlogit._objective import RegularizedLogLoss
from torchlogit._training import _SCALE_RATIO_PRECONDITIONED, _preconditioner


def _criterion(C=1.0, l1_ratio=0.0, weight_sum=100.0):
    return RegularizedLogLoss("binary", C, l1_ratio, weight_sum, n_samples=int(weight_sum))


@pytest.mark.parametrize("layout", ["dense", "csr", "coo"])
def test_column_max_abs_is_numpys_for_every_layout_and_any_row_order(layout):
    rng = np.random.RandomState(0)
    X = rng.randn(50, 6) * 10.0 ** np.arange(-3, 3)
    X[rng.rand(50, 6) < 0.6] = 0.0
    X[:, 4] = 0.0  # an all-zero column
    expected = np.abs(X).max(axis=0)
    for rows in (np.arange(50), rng.permutation(50)):
        dense = torch.from_numpy(X[rows])
        tensor = {"dense": lambda dense=dense: dense, "csr": dense.to_sparse_csr, "coo": dense.to_sparse}[layout]()
        got = column_max_abs(tensor)
        assert got.dtype == torch.float64
        np.testing.assert_array_equal(got.numpy(), expected)


def test_column_max_abs_of_data_that_is_not_a_tensor_is_none():
    assert column_max_abs(sp.random(5, 3, density=0.5, format="csr")) is None


@pytest.mark.parametrize("load", [load_breast_cancer, load_digits, load_wine, load_iris])
def test_real_datasets_keep_scikit_learns_path(load):
    """Unscaled breast cancer (column maxima 0.03 to 4254) and the other bundled sets: no preconditioner, the
    iterates stay L-BFGS-B's, as scikit-learn's LogisticRegression takes them."""
    X = torch.from_numpy(load().data)
    assert _preconditioner(X, LinearLogits(X.shape[1], 1, dtype=torch.float64), _criterion()) is None


def test_far_apart_columns_get_the_inverse_square_root_of_the_curvature_bound():
    """Columns with maxima 1e-9, 1 and 1e8: factors 1 / sqrt(max|x_j|^2 + 4 l2), the tiny column's set by the L2
    penalty (l2 = 1 / (C S)), not by its 1e-9 scale; 1 for the intercept."""
    X = torch.tensor([[1e-9, -1.0, 5e7], [0.0, 0.5, -1e8]], dtype=torch.float64)
    module = LinearLogits(3, 1, dtype=torch.float64)
    factor = _preconditioner(X, module, _criterion(C=2.0, weight_sum=100.0))
    l2 = 1 / (2.0 * 100.0)
    expected = 1 / np.sqrt(np.array([1e-9, 1.0, 1e8]) ** 2 + 4 * l2)
    np.testing.assert_allclose(factor.numpy(), np.r_[expected, 1.0], rtol=1e-15)


def test_the_factors_follow_the_multinomial_parameter_layout():
    """Weights (K, d) flatten row by row (entry k * d + j): every row holds the column factors, then K ones for the
    intercepts. Unpenalized, a column's factor is 1 / max|x_j|."""
    X = torch.tensor([[1e-8, 1.0, 1e8], [0.0, 0.0, 0.0]], dtype=torch.float64)  # (two rows: not wide data)
    factor = _preconditioner(X, LinearLogits(3, 4, dtype=torch.float64), _criterion(C=float("inf")))
    assert factor.shape == (4 * 3 + 4,)
    np.testing.assert_allclose(factor[:12].reshape(4, 3).numpy(), np.tile([1e8, 1.0, 1e-8], (4, 1)), rtol=1e-15)
    np.testing.assert_array_equal(factor[12:].numpy(), np.ones(4))


def test_the_threshold_counts_the_intercept_as_a_column_of_ones():
    """All columns at 1e4 are one scale among themselves, but 1e4 from the intercept's 1: preconditioned only with an
    intercept, and only past the threshold."""
    X = torch.full((3, 2), 1e4, dtype=torch.float64)
    unpenalized = _criterion(C=float("inf"))
    assert _preconditioner(X, LinearLogits(2, 1, bias=False, dtype=torch.float64), unpenalized) is None
    assert _preconditioner(X, LinearLogits(2, 1, dtype=torch.float64), unpenalized) is None  # 1e4 < threshold
    X_far = torch.full((3, 2), 10 * _SCALE_RATIO_PRECONDITIONED, dtype=torch.float64)
    assert _preconditioner(X_far, LinearLogits(2, 1, dtype=torch.float64), unpenalized) is not None


def test_the_largest_value_settles_the_decision_without_a_column_pass_inside_the_band():
    """With an L2 penalty, max |x| bounds every factor: inside the band no column pass is made (it costs a fifth of a
    sparse text fit); the decision is always the full pass's."""
    rng = np.random.RandomState(0)
    module = LinearLogits(4, 1, dtype=torch.float64)
    with mock.patch("torchlogit._training.column_max_abs", side_effect=AssertionError("column pass")):
        X = torch.from_numpy(rng.rand(100, 4))
        assert _preconditioner(X, module, _criterion(C=1.0, weight_sum=100.0), max_abs=float(X.abs().max())) is None
    for exponents in ([0, 0, 0, 0], [0, 3, -3, 0], [8, 0, 0, -8], [0, -12, 0, 0], [4, 4, 4, 4]):
        for C in (1e-4, 1.0, 1e4, float("inf")):
            X = torch.from_numpy(rng.randn(100, 4) * 10.0 ** np.array(exponents))
            criterion = _criterion(C=C, weight_sum=100.0)
            screened = _preconditioner(X, module, criterion, max_abs=float(X.abs().max()))
            full = _preconditioner(X, module, criterion)
            assert (screened is None) == (full is None), (exponents, C)
            if full is not None:
                np.testing.assert_array_equal(screened.numpy(), full.numpy())


def _zipf_text(n=4000, d=600, per_row=6, seed=0):
    """Text-like CSR data: column frequencies following Zipf's law (1/k), labels from a logistic model."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, d + 1)
    cols = rng.choice(d, size=n * per_row, p=p / p.sum())
    X = sp.csr_matrix((rng.random(n * per_row), cols, np.arange(0, n * per_row + 1, per_row)), shape=(n, d))
    X.sum_duplicates()
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ rng.standard_normal(d))))).astype(int)
    return X, y


def _sparse_factor(X, weight, C=1.0, l1_ratio=0.0, n_outputs=1, bias=True):
    from torchlogit._kernels import sparse_tensor
    from torchlogit._training import _sparse_preconditioner

    tensor = sparse_tensor(X.astype(np.float64), torch.float64, "cpu")
    criterion = RegularizedLogLoss("binary", C, l1_ratio, float(weight.sum()), n_samples=X.shape[0])
    module = LinearLogits(X.shape[1], n_outputs, bias=bias, dtype=torch.float64)
    return _sparse_preconditioner(tensor, torch.from_numpy(weight), module, criterion)


def test_sparse_columns_of_zipf_frequencies_get_the_inverse_square_root_of_their_weighted_second_moment():
    """Whole data sampled: factor_j = 1 / sqrt(sum_i w_i x_ij^2 / S + 4 l2), a column never seen gets the
    penalty's alone, 1 for the intercept; the multinomial layout repeats the columns for every class."""
    X, _ = _zipf_text()
    X = X.tolil()
    X[:, 599] = 0.0  # a column without any value
    X = X.tocsr()
    weight = np.random.default_rng(1).uniform(0.5, 2.0, X.shape[0])
    factor = _sparse_factor(X, weight, C=0.5)
    l2 = 1 / (0.5 * weight.sum())
    moments = np.asarray(X.multiply(X).T @ weight).ravel() / weight.sum()
    expected = 1 / np.sqrt(moments + 4 * l2)
    np.testing.assert_allclose(factor.numpy(), np.r_[expected, 1.0], rtol=1e-12)
    assert expected[599] == pytest.approx(1 / np.sqrt(4 * l2)) and expected.max() > 10 * expected.min()
    three = _sparse_factor(X, weight, C=0.5, n_outputs=3)
    np.testing.assert_allclose(three.numpy(), np.r_[np.tile(expected, 3), np.ones(3)], rtol=1e-12)


def test_sparse_columns_of_similar_frequencies_and_l1_fits_keep_scikit_learns_path():
    """Uniform column frequencies (an empty column aside): no preconditioner; nor with an L1 part or no penalty."""
    rng = np.random.default_rng(0)
    n, d, per_row = 3000, 400, 8
    X = sp.csr_matrix(
        (rng.random(n * per_row), rng.integers(0, d, n * per_row), np.arange(0, n * per_row + 1, per_row)),
        shape=(n, d),
    )
    X.sum_duplicates()
    X = X.tolil()
    X[:, 7] = 0.0
    X = X.tocsr()
    assert _sparse_factor(X, np.ones(n)) is None
    zipf, _ = _zipf_text()
    assert _sparse_factor(zipf, np.ones(zipf.shape[0])) is not None
    assert _sparse_factor(zipf, np.ones(zipf.shape[0]), l1_ratio=0.5) is None
    assert _sparse_factor(zipf, np.ones(zipf.shape[0]), C=np.inf) is None


def test_large_sparse_data_is_sampled_in_blocks_spread_over_its_rows(monkeypatch):
    """Beyond _MOMENT_SAMPLE_VALUES stored values, the moments come from the first rows of each of the
    _MOMENT_SAMPLE_BLOCKS blocks, at most budget / blocks values each: exactly those rows' weighted moments."""
    import torchlogit._training as base

    X, _ = _zipf_text(n=4000, per_row=6)
    monkeypatch.setattr(base, "_MOMENT_SAMPLE_VALUES", 600)  # 4 blocks of 150 values: 25 rows each
    monkeypatch.setattr(base, "_MOMENT_SAMPLE_BLOCKS", 4)
    weight = np.random.default_rng(2).uniform(0.5, 2.0, X.shape[0])
    factor = _sparse_factor(X, weight)
    # Each block's rows: the first ones whose values add up to at most 150 (duplicates merged: rows hold <= 6).
    rows = []
    for start in (0, 1000, 2000, 3000):
        stop = start + 1
        while X.indptr[stop + 1] - X.indptr[start] <= 150:
            stop += 1
        rows.append(np.arange(start, stop))
    rows = np.concatenate(rows)
    assert 4 * 25 <= len(rows) < 4 * 40
    sample, w = X[rows], weight[rows]
    moments = np.asarray(sample.multiply(sample).T @ w).ravel() / w.sum()
    expected = 1 / np.sqrt(moments + 4 / weight.sum())
    np.testing.assert_allclose(factor.numpy()[:-1], expected, rtol=1e-12)


def test_a_zipf_text_fit_reaches_scikit_learns_optimum_in_far_fewer_iterations():
    """Preconditioned by the column moments: scikit-learn's optimum to 1e-6 in the coefficients (its
    newton-cholesky at a tight tolerance; its lbfgs stops 3e-6 away on this data), in under half the iterations
    the same fit takes without the preconditioner."""
    from sklearn.linear_model import LogisticRegression

    import torchlogit._training as base
    from torchlogit import TorchLogisticClassifier

    X, y = _zipf_text()
    reference = LogisticRegression(solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(X, y)
    ours = TorchLogisticClassifier(dtype="float64", tol=1e-10, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, reference.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, reference.intercept_, atol=1e-6)
    with mock.patch.object(base, "_MOMENT_RATIO_PRECONDITIONED", np.inf):
        plain = TorchLogisticClassifier(dtype="float64", tol=1e-10, max_iter=10_000).fit(X, y)
    assert ours.n_iter_[0] * 2 < plain.n_iter_[0]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # two iterations are enough here
def test_sparse_data_the_moment_rule_leaves_alone_still_gets_the_column_scale_rule():
    """Unpenalised sparse data (no L2 term, no moment rule) with columns 1e-8 and 1e8 apart: the max |x_j| rule
    preconditions it, as it does dense data; sparse Zipf text with L2 takes the moment rule's factors."""
    import torchlogit._training as base
    from torchlogit import TorchLogisticClassifier

    rng = np.random.RandomState(0)
    X = rng.randn(200, 3) * np.array([1e-8, 1.0, 1e8])
    X[rng.rand(200, 3) < 0.3] = 0.0
    y = (X[:, 1] + rng.randn(200) > 0).astype(int)
    seen = []
    with mock.patch.object(base.LBFGS, "set_preconditioner", lambda self, scale: seen.append(scale)):
        TorchLogisticClassifier(C=np.inf, dtype="float64", max_iter=2).fit(sp.csr_matrix(X), y)
        zipf, labels = _zipf_text()
        TorchLogisticClassifier(dtype="float64", max_iter=2).fit(zipf, labels)
    expected = _preconditioner(torch.from_numpy(X), LinearLogits(3, 1, dtype=torch.float64), _criterion(C=np.inf))
    assert seen[0] is not None and torch.equal(seen[0], expected)
    np.testing.assert_allclose(seen[1].numpy(), _sparse_factor(zipf, np.ones(zipf.shape[0])).numpy(), rtol=1e-6)


def test_a_column_of_zeros_without_a_penalty_changes_nothing_when_scales_differ():
    """C=inf with column scales far apart (preconditioned) and a column of zeros: its factor 1/max|x_j| is infinite
    and must be 1 (no curvature to scale by); the model is the one without that column, its coefficient 0 (an
    infinite factor gave an all-zero model, silently)."""
    from torchlogit import TorchLogisticClassifier

    rng = np.random.RandomState(0)
    X = rng.randn(200, 3)
    y = (X[:, 0] + X[:, 1] + rng.randn(200) > 0).astype(int)
    X[:, 1] *= 1e6
    params = dict(C=np.inf, dtype="float64", tol=1e-10, max_iter=1000)
    without = TorchLogisticClassifier(**params).fit(X, y)
    with_zeros = TorchLogisticClassifier(**params).fit(np.c_[X, np.zeros(len(y))], y)
    assert with_zeros.coef_[0, -1] == 0
    np.testing.assert_allclose(with_zeros.coef_[0, :-1] * [1, 1e6, 1], without.coef_[0] * [1, 1e6, 1], rtol=1e-6)
    np.testing.assert_allclose(with_zeros.intercept_, without.intercept_, rtol=1e-6)


@pytest.mark.parametrize("n_classes", [2, 4])
def test_wide_data_of_far_apart_columns_keep_scikit_learns_path_and_its_optimum(n_classes):
    """20 rows x 100 columns spread from 1e-4 to 1e4, C=1e7: the preconditioned run stopped at max_iter=100 with a
    warning, its objective 300x scikit-learn's (2.2e-5 against 7e-8), where L-BFGS-B converges in about 30 iterations.
    Three or more columns a row keep L-BFGS-B's path, and its optimum."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    from torchlogit import TorchLogisticClassifier

    rng = np.random.RandomState(0)
    Z = rng.randn(20, 100)
    y = np.argmax(Z @ rng.randn(100, n_classes) + rng.gumbel(size=(20, n_classes)), axis=1)
    X = Z * 10 ** rng.uniform(-4, 4, 100)
    X_t = torch.from_numpy(X)
    assert _preconditioner(X_t, LinearLogits(100, 1, dtype=torch.float64), _criterion(C=1e7, weight_sum=20.0)) is None
    assert _preconditioner(X_t[:, :50], LinearLogits(50, 1, dtype=torch.float64), _criterion(C=1e7)) is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ours = TorchLogisticClassifier(C=1e7).fit(X, y)
        reference = LogisticRegression(C=1e7).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), reference.predict_proba(X), atol=1e-3)
