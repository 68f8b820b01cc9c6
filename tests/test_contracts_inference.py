"""Multinomial ``summary`` with class weights and sample weights, for every covariance type.

References: statsmodels' ``MNLogit`` on the rows repeated ``sample_weight x class_weight`` times
(integers) for the estimate and the nonrobust covariance (the class weight scales each row's
loss, so the point and the Hessian are those of the repeated rows), and the sandwich written
out in NumPy in the K-1 contrasts with ``classes_[0]`` (statsmodels' parameters) for HC0 and
HC1, as ``summary`` documents them: ``H = sum_i f_i c_i H_i``, ``meat = sum_i f_i (c_i g_i)
(c_i g_i)^T`` with ``f`` the frequency (sample) weights, ``c`` the class weights and ``g_i`` the
score of row ``i``; HC1 multiplies HC0 by ``n / (n - k)``, ``n = sum_i f_i`` and ``k`` the number
of reported parameters, ``(K - 1) x (p + 1)``. A class weight missing from one term of the
Hessian, or ``k`` counted over all K classes, changes these figures.
"""

import os

import numpy as np
import pandas as pd
import pytest

sm = pytest.importorskip("statsmodels.api")
from sklearn.datasets import make_classification  # noqa: E402

from torchlogit import TorchLogisticClassifier, TorchMultiLabelClassifier  # noqa: E402

CLASS_WEIGHT = {0: 1, 1: 2, 2: 3}


@pytest.fixture(scope="module")
def weighted_fit():
    X, y = make_classification(
        n_samples=150, n_features=3, n_informative=3, n_redundant=0, n_classes=3, flip_y=0.2, random_state=0
    )
    f = np.random.RandomState(0).randint(1, 4, len(y)).astype(np.float64)
    c = np.array([CLASS_WEIGHT[k] for k in y], dtype=np.float64)
    repeats = (f * c).astype(int)
    ref = sm.MNLogit(np.repeat(y, repeats), sm.add_constant(np.repeat(X, repeats, axis=0))).fit(
        method="newton", disp=0, maxiter=100
    )
    clf = TorchLogisticClassifier(C=np.inf, class_weight=CLASS_WEIGHT, dtype="float64", tol=1e-8).fit(
        X, y, sample_weight=f
    )
    return X, y, f, c, ref, clf


def _sandwich(X, y, f, c, theta):
    """(H, meat) in the K-1 contrast parameters ``theta`` of shape (K-1, d), class-major."""
    Xa = np.column_stack([np.ones(len(X)), X])
    n, d = Xa.shape
    Z = np.column_stack([np.zeros(n), Xa @ theta.T])
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    p = P[:, 1:]
    Y = np.eye(theta.shape[0] + 1)[y][:, 1:]
    scores = ((Y - p)[:, :, None] * Xa[:, None, :]).reshape(n, -1)
    H = np.zeros((scores.shape[1],) * 2)
    for i in range(n):
        curvature = np.diag(p[i]) - np.outer(p[i], p[i])
        H += f[i] * c[i] * np.kron(curvature, np.outer(Xa[i], Xa[i]))
    meat = (scores * (f * c**2)[:, None]).T @ scores
    return H, meat


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0", "HC1"])
def test_weighted_multinomial_summary_equals_the_references(weighted_fit, cov_type):
    X, y, f, c, ref, clf = weighted_fit
    table = clf.summary(X, y, sample_weight=f, cov_type=cov_type)
    theta = np.asarray(ref.params).T  # (K-1, d): statsmodels' columns are the non-reference classes
    np.testing.assert_allclose(table["coef"].to_numpy(), theta.ravel(), rtol=1e-6, atol=1e-8)
    H, meat = _sandwich(X, y, f, c, theta)
    H_inv = np.linalg.inv(H)
    if cov_type == "nonrobust":
        cov = H_inv
        # statsmodels on the repeated rows agrees with the written-out Hessian.
        np.testing.assert_allclose(np.asarray(ref.bse).T.ravel(), np.sqrt(np.diag(cov)), rtol=1e-6)
    else:
        cov = H_inv @ meat @ H_inv
        if cov_type == "HC1":
            n, k = f.sum(), theta.size
            cov = cov * n / (n - k)
    np.testing.assert_allclose(table["std_err"].to_numpy(), np.sqrt(np.diag(cov)), rtol=1e-6)


def test_hc1_factor_counts_reported_parameters_and_frequency_weights(weighted_fit):
    X, y, f, c, ref, clf = weighted_fit
    hc0 = clf.summary(X, y, sample_weight=f, cov_type="HC0")["std_err"].to_numpy()
    hc1 = clf.summary(X, y, sample_weight=f, cov_type="HC1")["std_err"].to_numpy()
    n, k = f.sum(), 2 * 4  # 2 contrasts x (intercept + 3 features)
    np.testing.assert_allclose(hc1**2 / hc0**2, n / (n - k), rtol=1e-10)


# --------------------------------------------------------------------------------------------------
# The building blocks of summary(), each against a written-out reference (issue 21: mutation testing
# of _inference). References: NumPy's eigvalsh / solve / inv on the same matrices, autograd for the
# derivatives of the log-likelihood, /proc/meminfo, and the formulas in the docstrings.

import inspect  # noqa: E402
import math  # noqa: E402
import warnings  # noqa: E402

import scipy.sparse as sparse  # noqa: E402
import torch  # noqa: E402

from torchlogit import InferenceWarning  # noqa: E402
from torchlogit import _inference as inference  # noqa: E402


def _spd(n, seed, spread=1e3):
    """A random symmetric positive-definite float64 matrix with eigenvalues from 1 to ``spread`` and uneven diagonal."""
    rng = np.random.RandomState(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    eigenvalues = np.geomspace(1, spread, n)
    D = np.diag(rng.uniform(0.1, 10, n))
    return D @ (Q * eigenvalues) @ Q.T @ D


def _unit_diagonal_rcond(H):
    scale = np.sqrt(np.diag(H))
    eigenvalues = np.linalg.eigvalsh(H / np.outer(scale, scale))
    return eigenvalues.min() / eigenvalues.max()


@pytest.mark.parametrize("n, seed", [(3, 0), (6, 1), (12, 2)])
def test_factor_solves_and_reports_the_reciprocal_condition_number(n, seed):
    """Factor(H): rcond is lambda_min / lambda_max of H scaled to unit diagonal (exact eigenvalues up to 2048
    parameters, power and inverse iterations above: both agree with NumPy's), and solve(B) is H^-1 B."""
    H = _spd(n, seed)
    factor = inference.Factor(torch.tensor(H))
    reference = _unit_diagonal_rcond(H)
    assert factor.rcond == pytest.approx(reference, rel=1e-10)
    assert factor._estimated_rcond() == pytest.approx(reference, rel=1e-6)
    np.testing.assert_allclose(factor.scale.numpy(), np.sqrt(np.diag(H)), rtol=1e-15)
    B = np.random.RandomState(seed).normal(size=(n, 2))
    np.testing.assert_allclose(factor.solve(torch.tensor(B)).numpy(), np.linalg.solve(H, B), rtol=1e-9, atol=1e-12)
    vector = factor.solve(torch.tensor(B[:, 0]))
    assert vector.shape == (n,)
    np.testing.assert_allclose(vector.numpy(), np.linalg.solve(H, B[:, 0]), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        inference._cholesky_solve(factor.U, torch.tensor(B)).numpy(),
        np.linalg.solve(factor.U.T.numpy() @ factor.U.numpy(), B),
        rtol=1e-9,
    )


def test_the_estimated_condition_number_decides_as_the_exact_one(monkeypatch):
    """Above EXACT_RCOND_MAX_PARAMS parameters the iterations decide: a well-conditioned Hessian keeps its
    factor, an ill-conditioned one (rcond below RCOND_LIMIT) is refused, and a singular one too."""
    monkeypatch.setattr(inference, "EXACT_RCOND_MAX_PARAMS", 0)
    H = _spd(8, 3)
    factor = inference.Factor(torch.tensor(H))
    assert factor.U is not None and factor.rcond == pytest.approx(_unit_diagonal_rcond(H), rel=1e-6)
    ill = _spd(8, 4, spread=1e14)
    assert _unit_diagonal_rcond(ill) < inference.RCOND_LIMIT
    factor = inference.Factor(torch.tensor(ill))
    assert factor.U is None and 0 < factor.rcond < inference.RCOND_LIMIT
    # 1e-11 (above the limit) is kept: the boundary is rcond > RCOND_LIMIT.
    kept = _spd(8, 5, spread=1e10)
    assert _unit_diagonal_rcond(kept) > inference.RCOND_LIMIT
    assert inference.Factor(torch.tensor(kept)).U is not None


def test_a_hessian_with_a_zero_or_non_finite_entry_has_no_factor():
    """A zero on the diagonal (a constant-zero feature), a NaN or an infinity: no factor, rcond 0."""
    H = _spd(4, 6)
    for entry, value in [((1, 1), 0.0), ((0, 2), np.nan), ((3, 3), np.inf), ((2, 2), -1.0)]:
        bad = H.copy()
        bad[entry] = value
        factor = inference.Factor(torch.tensor(bad))
        assert factor.U is None and factor.rcond == 0.0
    # Positive diagonal but indefinite: the Cholesky factorisation fails.
    indefinite = np.array([[1.0, 2.0], [2.0, 1.0]])
    factor = inference.Factor(torch.tensor(indefinite))
    assert factor.U is None


def test_curvature_added_along_the_null_space_leaves_the_contrasts_variances_unchanged():
    """For a multinomial Hessian singular along the common shift of the classes, Factor with that null space
    gives A H^+ A^T exactly (A: differences from class 0), for any scale of the directions."""
    rng = np.random.RandomState(7)
    K, d, n = 3, 3, 200
    X = np.column_stack([np.ones(n), rng.normal(size=(n, d - 1))])
    theta = rng.normal(size=(K, d)) * 0.3
    P = np.exp(X @ theta.T)
    P /= P.sum(axis=1, keepdims=True)
    H = sum(np.kron(np.diag(p) - np.outer(p, p), np.outer(x, x)) for p, x in zip(P, X, strict=True))
    A = np.kron(np.c_[-np.ones(K - 1), np.eye(K - 1)], np.eye(d))
    reference = A @ np.linalg.pinv(H) @ A.T
    null = inference.flat_directions(K, d, flat_columns=range(d), device="cpu")
    np.testing.assert_allclose(null.numpy().T @ null.numpy(), np.eye(d), atol=1e-15)  # orthonormal
    np.testing.assert_allclose(A @ null.numpy(), 0, atol=1e-15)  # the contrasts do not see them
    np.testing.assert_allclose(H @ null.numpy(), 0, atol=1e-10)  # the Hessian is flat along them
    factor = inference.Factor(torch.tensor(H), null)
    assert factor.U is not None
    contrasts = inference.Contrasts(K * d, device="cpu", n_classes=K, d=d)
    np.testing.assert_allclose(contrasts(range(contrasts.n_reported)).numpy(), A.T)
    variances = inference.parameter_variances(factor, cov_type="nonrobust", n_obs=n, contrasts=contrasts)
    np.testing.assert_allclose(variances.numpy(), np.diag(reference), rtol=1e-9)
    # Without the null space the Hessian is singular: no factor.
    assert inference.Factor(torch.tensor(H)).U is None
    # Only some columns flat (a penalised model: the intercepts).
    partial = inference.flat_directions(K, d, flat_columns=range(1), device="cpu")
    np.testing.assert_allclose(partial.numpy(), null.numpy()[:, :1])


@pytest.mark.parametrize("block_columns", [None, 1, 2, 5])
@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0", "HC1"])
def test_parameter_variances_are_the_diagonal_of_the_covariance_in_any_block_size(block_columns, cov_type):
    """diag(A H^-1 A^T), or of the sandwich A H^-1 M H^-1 A^T (times n / (n - k) for HC1, k the reported
    parameters), whatever the number of columns handled at a time."""
    K, d = 3, 2
    H = _spd(K * d, 8, spread=50)
    rng = np.random.RandomState(9)
    G = rng.normal(size=(40, K * d))
    M = G.T @ G
    A = np.kron(np.c_[-np.ones(K - 1), np.eye(K - 1)], np.eye(d))
    H_inv = np.linalg.inv(H)
    cov = A @ H_inv @ A.T if cov_type == "nonrobust" else A @ H_inv @ M @ H_inv @ A.T
    n_obs = 30.0
    if cov_type == "HC1":
        cov = cov * n_obs / (n_obs - A.shape[0])
    contrasts = inference.Contrasts(K * d, device="cpu", n_classes=K, d=d)
    variances = inference.parameter_variances(
        inference.Factor(torch.tensor(H)),
        cov_type=cov_type,
        n_obs=n_obs,
        contrasts=contrasts,
        meat=torch.tensor(M),
        block_columns=block_columns,
    )
    np.testing.assert_allclose(variances.numpy(), np.diag(cov), rtol=1e-10)
    # The identity contrasts (binary, multi-label): every parameter, H^-1's diagonal.
    identity = inference.Contrasts(K * d, device="cpu")
    assert identity.n_reported == K * d
    np.testing.assert_array_equal(identity(range(K * d)).numpy(), np.eye(K * d))
    np.testing.assert_array_equal(identity([2, 4]).numpy(), np.eye(K * d)[:, [2, 4]])


@pytest.mark.parametrize("cov_type", ["HC0", "HC1"])
def test_sandwich_variances_that_are_rounding_noise_are_flagged(cov_type):
    """A meat whose null space holds one reported direction (H = I, class 1 minus class 0 of column 0) gives that
    contrast a variance of 0 in exact arithmetic, rounding noise in floating point: flagged, the others not; the
    plain call returns the variances alone; nonrobust variances are never noise."""
    K, d = 2, 2
    rng = np.random.RandomState(3)
    null = np.array([-1.0, 0.0, 1.0, 0.0]) / np.sqrt(2)  # e_2 - e_0: contrast 0 under H = I
    G = rng.normal(size=(40, K * d)) * [1.0, 7.0, 0.3, 2.0]
    G = G - np.outer(G @ null, null)  # rounding leaves |G null| ~ 1e-16, not 0
    kwargs = dict(
        n_obs=40.0, contrasts=inference.Contrasts(K * d, device="cpu", n_classes=K, d=d), meat=torch.tensor(G.T @ G)
    )
    variances, noise = inference.parameter_variances(
        inference.Factor(torch.eye(K * d, dtype=torch.float64)), cov_type=cov_type, noise=True, **kwargs
    )
    assert noise.tolist() == [True, False]
    assert abs(float(variances[0])) < 1e-12 * float(variances[1])  # rounding left of a true 0
    plain = inference.parameter_variances(
        inference.Factor(torch.eye(K * d, dtype=torch.float64)), cov_type=cov_type, **kwargs
    )
    torch.testing.assert_close(plain, variances, rtol=0, atol=0)
    _, nonrobust_noise = inference.parameter_variances(
        inference.Factor(torch.eye(K * d, dtype=torch.float64)), cov_type="nonrobust", noise=True, **kwargs
    )
    assert not nonrobust_noise.any()


def test_the_default_block_handles_every_parameter_of_a_large_model():
    """With more than 64 x 16 parameters the default block is n / 16 columns: every variance is computed."""
    n = 1100
    H = torch.eye(n, dtype=torch.float64) * 4.0
    variances = inference.parameter_variances(
        inference.Factor(H.clone()), cov_type="nonrobust", n_obs=1.0, contrasts=inference.Contrasts(n, device="cpu")
    )
    assert variances.shape == (n,)
    np.testing.assert_allclose(variances.numpy(), 0.25, rtol=1e-14)


def _autograd_terms(X, Y, theta, kind, f, c):
    """Value, gradient and Hessian of sum_i f_i sum_k c_ik l_ik (sigmoid) or sum_i f_i c_i0 l_i (softmax)."""
    Xa = torch.tensor(np.column_stack([np.ones(len(X)), X]))
    Yt, ft, ct = torch.tensor(Y), torch.tensor(f), torch.tensor(c)

    def value(flat):
        Z = Xa @ flat.reshape(theta.shape).T
        if kind == "softmax":
            return (ft * ct[:, 0] * (torch.logsumexp(Z, 1) - (Z * Yt).sum(1))).sum()
        return (ft[:, None] * ct * (torch.logaddexp(torch.zeros(()), Z) - Z * Yt)).sum()

    flat = torch.tensor(theta.ravel())
    g = torch.autograd.functional.jacobian(value, flat)
    H = torch.autograd.functional.hessian(value, flat)
    return float(value(flat)), g.numpy(), H.numpy()


@pytest.mark.parametrize("kind", ["sigmoid", "softmax"])
@pytest.mark.parametrize("chunk_values", [1 << 20, 50])
def test_likelihood_terms_equal_autograd_and_the_written_out_scores(kind, chunk_values, monkeypatch):
    """Value, gradient, Hessian (autograd), the scores' outer-product sum sum_i f_i (c_i g_i)(c_i g_i)^T and
    sum_i f_i |c_i g_i| (written out), with frequency and importance weights, from sparse or dense X, in
    one chunk or many."""
    monkeypatch.setattr(inference, "CHUNK_VALUES", chunk_values)
    rng = np.random.RandomState(11)
    n, p, K = 37, 3, 3
    X = rng.normal(size=(n, p))
    X[rng.uniform(size=X.shape) < 0.3] = 0
    theta = rng.normal(size=(K, p + 1)) * 0.5
    f = rng.randint(1, 4, n).astype(float)
    if kind == "softmax":
        Y = np.eye(K)[rng.randint(0, K, n)]
        c = np.repeat(rng.uniform(0.5, 2, n)[:, None], K, axis=1)
    else:
        Y = (rng.uniform(size=(n, K)) < 0.5).astype(float)
        c = rng.uniform(0.5, 2, size=(n, K))
    value, gradient, hessian = _autograd_terms(X, Y, theta, kind, f, c)
    Xa = np.column_stack([np.ones(n), X])
    Z = Xa @ theta.T
    P = np.exp(Z - Z.max(1, keepdims=True))
    P = P / P.sum(1, keepdims=True) if kind == "softmax" else 1 / (1 + np.exp(-Z))
    scores = ((c * (Y - P))[:, :, None] * Xa[:, None, :]).reshape(n, -1)
    for data in (X, sparse.csr_matrix(X)):
        terms = inference.likelihood_terms(
            data,
            Y,
            torch.tensor(theta),
            kind=kind,
            fit_intercept=True,
            freq_weight=f,
            importance=c,
            device="cpu",
            meat=True,
        )
        assert terms.value == pytest.approx(value, rel=1e-12)
        np.testing.assert_allclose(terms.gradient.numpy(), gradient, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(terms.hessian.numpy(), hessian, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(terms.meat.numpy(), (scores * f[:, None]).T @ scores, rtol=1e-10, atol=1e-12)
        # The rounding scales, written out: the scores' magnitudes plus their change under the linear
        # predictor's rounding (|x| |theta| times the loss's curvature), and the value's the same times its slope.
        Z_abs = np.abs(Xa) @ np.abs(theta).T
        if kind == "softmax":
            drift = P * (Z_abs + Z_abs.max(1, keepdims=True))
            value_scale = (f * c[:, 0] * np.abs(Y - P).sum(1) * Z_abs.max(1)).sum()
        else:
            drift = P * (1 - P) * Z_abs
            value_scale = (f[:, None] * c * np.abs(Y - P) * Z_abs).sum()
        drift_terms = ((c * drift)[:, :, None] * np.abs(Xa)[:, None, :]).reshape(n, -1)
        np.testing.assert_allclose(terms.gradient_scale.numpy(), (np.abs(scores) + drift_terms).T @ f, rtol=1e-12)
        assert terms.value_scale == pytest.approx(value_scale, rel=1e-12)
    lean = inference.likelihood_terms(
        X,
        Y,
        torch.tensor(theta),
        kind=kind,
        fit_intercept=True,
        freq_weight=f,
        importance=c,
        device="cpu",
        curvature=False,
    )
    assert lean.hessian is None and lean.meat is None and lean.value == pytest.approx(value, rel=1e-12)
    # Without an intercept the parameters are the coefficients only.
    no_intercept = inference.likelihood_terms(
        X, Y, torch.tensor(theta[:, 1:]), kind=kind, fit_intercept=False, freq_weight=f, importance=c, device="cpu"
    )
    _, g0, _ = _autograd_terms(X, Y, np.column_stack([np.zeros(K), theta[:, 1:]]), kind, f, c)
    np.testing.assert_allclose(no_intercept.gradient.numpy(), g0.reshape(K, p + 1)[:, 1:].ravel(), rtol=1e-10)


def test_summary_memory_is_two_dense_float64_matrices_and_refuses_above_half_the_memory(monkeypatch):
    """Peak = the larger of the Newton iterations' 2 n^2 and design_ranks' 4 (d + 1)^2 float64 values (n the
    parameters refined together, d the features); allowed up to MEMORY_FRACTION (1/2) of the available memory,
    inclusive."""
    assert inference.summary_memory_bytes(10) == 1600
    assert inference.summary_memory_bytes(10, 9) == 3200  # the design's (9 + 1)^2 Gram matrices: four of them
    assert inference.summary_memory_bytes(30, 9) == 14400
    kw = dict(n_features=9, n_outputs=1, fit_intercept=True, device=torch.device("cpu"))
    monkeypatch.setattr(inference, "available_memory", lambda device: 6400)
    inference.check_summary_memory(10, **kw)  # exactly half: allowed
    monkeypatch.setattr(inference, "available_memory", lambda device: 6399)
    with pytest.raises(ValueError) as error:
        inference.check_summary_memory(10, **kw)
    assert str(error.value).startswith(
        "summary() needs dense 10 x 10 float64 matrices for the model's 10 parameters (9 features + intercept, "
        "1 output): 3.2 KB, more than the 3.2 KB it may use (50% of the 6.4 KB available on cpu)."
    )
    assert "fewer classes" not in str(error.value)
    with pytest.raises(ValueError, match=r"\(5 features, 2 outputs \(classes or labels\)\).*or fit fewer classes"):
        inference.check_summary_memory(20, n_features=5, n_outputs=2, fit_intercept=False, device=torch.device("cpu"))
    with pytest.raises(ValueError, match=r"for each label's 10 parameters") as error:
        inference.check_summary_memory(10, **dict(kw, n_outputs=3), per_label=True)
    assert "fewer classes" not in str(error.value)
    monkeypatch.setattr(inference, "available_memory", lambda device: None)
    inference.check_summary_memory(10**9, **kw)  # unknown memory: no refusal


def test_a_multilabel_summary_is_budgeted_one_label_at_a_time(monkeypatch):
    """Each label is refined alone (a d-square Hessian): 60 labels of 601 parameters were refused as needing
    (60 * 601)^2 * 16 bytes, 20.8 GB, where each label's summary needs 11.6 MB."""
    rng = np.random.RandomState(0)
    X = rng.randn(200, 5)
    Y = (X @ rng.randn(5, 8) + rng.logistic(size=(200, 8)) > 0).astype(int)
    model = TorchMultiLabelClassifier(C=np.inf).fit(X, Y)
    # room for one label's matrices (4 x 6^2 x 8 bytes = 1,152) but not the 8 labels' together (2 x 48^2 x 8 = 36,864)
    monkeypatch.setattr(inference, "available_memory", lambda device: 2 * 1200)
    table = model.summary(X, Y)
    assert len(table) == 8 * 6 and np.isfinite(table["std_err"]).all()
    monkeypatch.setattr(inference, "available_memory", lambda device: 2 * 1100)
    with pytest.raises(ValueError, match="each label's 6 parameters"):
        model.summary(X, Y)


def test_design_ranks_holds_four_gram_sized_matrices_at_most(monkeypatch):
    """What the guard counts for it (DESIGN_MATRICES): the Gram matrix of [1, X], the scaled one (factored in place,
    or holding its eigenvectors) and LAPACK's workspace of two where the eigenvalues decide. It held seven, +929 MB
    on 20,000 x 4,000 sparse against 256 MB counted; a sparse X was copied whole as well (float64, and abs(X) for
    the column scales)."""
    import tracemalloc

    rng = np.random.default_rng(0)
    dense = rng.standard_normal((600, 400))
    collinear = np.c_[dense, dense[:, 0] + dense[:, 1]]
    monkeypatch.setattr(inference, "CHUNK_VALUES", 1 << 12)  # chunks of rows far below a matrix: the matrices count
    # (design, matrices at the peak): a full-rank design is told from the Cholesky factor of the scaled matrix, made
    # and factored in place beside the Gram matrix (two); a collinear one needs the eigenvalues (four)
    for X, matrices in ((dense, 2), (collinear, inference.DESIGN_MATRICES), (sparse.random(3000, 400, 0.05, "csr"), 2)):
        matrix = 8 * (X.shape[1] + 1) ** 2
        tracemalloc.start()
        try:
            inference.design_ranks(X)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak <= matrices * matrix * 1.1, peak / matrix


@pytest.mark.parametrize(
    "n, text",
    [
        (0, "0 bytes"),
        (999, "999 bytes"),
        (1000, "1 KB"),
        (1500, "1.5 KB"),
        (999_499, "999 KB"),
        (2.5e6, "2.5 MB"),
        (3e9, "3 GB"),
        (4e12, "4 TB"),
        (5e15, "5e+03 TB"),
        (999.5, "999 bytes"),  # half the available memory can be a half byte: whole bytes are printed
    ],
)
def test_byte_counts_are_printed_in_decimal_units(n, text):
    assert inference.format_bytes(n) == text


def test_available_memory_is_memavailable_on_the_host_and_free_memory_on_a_gpu(monkeypatch):
    """On the CPU: MemAvailable of /proc/meminfo (kB x 1024), else the available pages; on CUDA: the free memory
    of the model's device."""
    import io

    with open("/proc/meminfo") as meminfo:
        reference = [int(line.split()[1]) * 1024 for line in meminfo if line.startswith("MemAvailable:")][0]
    assert abs(inference.available_memory(torch.device("cpu")) - reference) < 256 << 20  # it changes meanwhile
    free = {torch.device("cuda", 1): (123, 456)}
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: free[device])
    assert inference.available_memory(torch.device("cuda", 1)) == 123
    real_open = open
    fake = "MemTotal:       2000 kB\nMemFree:         500 kB\nMemAvailable:   1500 kB\n"

    def proc(path, *args, **kwargs):
        if str(path) == "/proc/meminfo":
            if fake is None:
                raise OSError("no /proc")
            return io.StringIO(fake)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", proc)
    assert inference.available_memory(torch.device("cpu")) == 1500 * 1024
    fake = None
    pages = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert abs(inference.available_memory(torch.device("cpu")) - pages) < 256 << 20
    monkeypatch.setattr(os, "sysconf", lambda name: (_ for _ in ()).throw(ValueError(name)))
    assert inference.available_memory(torch.device("cpu")) is None


@pytest.mark.parametrize(
    "warn, args, match",
    [
        (
            inference.warn_not_classical,
            (0.5, "HC0"),
            "C=0.5 is finite, so the L2 penalty enters the Hessian: these HC0",
        ),
        (inference.warn_far_from_optimum, (1.234,), "up to 1.2 standard errors away from the optimum"),
        (inference.warn_no_optimum, (), f"found no optimum in {inference.NEWTON_MAX_ITER} iterations"),
        (inference.warn_no_decrease, (), "found no finite decrease of the objective"),
        (inference.warn_singular, (1.5e-13,), r"reciprocal condition number 1.5e-13 after scaling"),
    ],
)
def test_warnings_point_at_the_line_that_called_summary(warn, args, match):
    """Each warning is an InferenceWarning attributed to the first line outside torchlogit (``_user_warnings``):
    the caller of summary(), however many frames summary's path adds (a label loop's comprehension was one)."""
    with pytest.warns(InferenceWarning, match=match) as record:
        line = inspect.currentframe().f_lineno + 1
        warn(*args)
    assert len(record) == 1 and record[0].filename == __file__ and record[0].lineno == line


def _quadratic(minimum, curvature_seen, *, true_curvature=1.0, scale=1.0, calls=None):
    """terms(theta, curvature) of f(t) = c (t - m)^2 / 2 whose Hessian reports ``curvature_seen``."""

    def terms(theta, curvature, meat=False):
        if calls is not None:
            calls.append(float(theta[0, 0]))
            if len(calls) > 1000:  # a backtracking that never ends fails instead of hanging
                raise RuntimeError("1000 evaluations")
        t = float(theta[0, 0])
        value = 0.5 * true_curvature * (t - minimum) ** 2
        gradient = torch.tensor([true_curvature * (t - minimum)], dtype=torch.float64)
        hessian = torch.tensor([[curvature_seen]], dtype=torch.float64) if curvature else None
        return inference.LikelihoodTerms(value, gradient, hessian, None, torch.full((1,), scale, dtype=torch.float64))

    return terms


def _start(t=0.0):
    return torch.full((1, 1), t, dtype=torch.float64)


def test_newton_reaches_a_quadratic_minimum_in_one_step_and_then_stops():
    """With the exact Hessian the first step lands on the minimum; the second step is zero: converged after 1."""
    result = inference.newton_refine(_quadratic(3.0, 1.0), _start())
    assert result.status == "converged" and result.converged and result.iterations == 1
    assert float(result.theta[0, 0]) == 3.0 and result.value == 0.0
    assert result.factor.U is not None
    # Already at the minimum: converged at iteration 0, theta unchanged.
    result = inference.newton_refine(_quadratic(3.0, 1.0), _start(3.0))
    assert result.status == "converged" and result.iterations == 0 and float(result.theta[0, 0]) == 3.0


def test_newton_halves_an_overlong_step_until_armijo_accepts_it():
    """Curvature understated 10x: the step from 0 to 3 is 30. Armijo's test f(t s) <= f(0) - 1e-4 t g'H^-1 g
    first holds at t = 1/8 (theta 3.75); the trials are t = 1, 1/2, 1/4, 1/8."""
    calls = []
    result = inference.newton_refine(_quadratic(3.0, 0.1, calls=calls), _start(), max_iter=1)
    assert result.status == "max_iter" and result.iterations == 1
    assert float(result.theta[0, 0]) == 3.75 and result.value == 0.5 * 0.75**2
    # start, t = 1, 1/2, 1/4, 1/8, then the curvature at the accepted point
    assert calls == [0.0, 30.0, 15.0, 7.5, 3.75, 3.75]
    assert result.factor.U is not None


def test_newton_gives_up_after_forty_halvings():
    """No decrease anywhere along the direction (a gradient that points uphill: f = 10 t^2 with a reported
    gradient of 3 at 0): Newton tries t = 1, 1/2, ..., 2^-40 and stops where it was, status "no_decrease"."""
    calls = []

    def terms(theta, curvature, meat=False):
        t = float(theta[0, 0])
        calls.append(t)
        value = 10 * t**2  # rises along the direction Newton takes (towards -3), for every t
        gradient = torch.tensor([3.0], dtype=torch.float64)
        hessian = torch.ones(1, 1, dtype=torch.float64) if curvature else None
        return inference.LikelihoodTerms(value, gradient, hessian, None, torch.ones(1, dtype=torch.float64))

    result = inference.newton_refine(terms, _start())
    assert result.status == "no_decrease" and result.iterations == 0 and float(result.theta[0, 0]) == 0.0
    steps = calls[1:]
    assert len(steps) == 41 and steps[0] == -3.0 and steps[-1] == -3.0 * 2.0**-40


def test_newton_stops_at_max_iter_with_the_factor_of_the_last_point():
    """Curvature overstated 10x: each full step goes 1/10 of the way (accepted by Armijo); after 2 iterations
    theta = 3 (1 - 0.9^2), status "max_iter"."""
    result = inference.newton_refine(_quadratic(3.0, 10.0), _start(), max_iter=2)
    assert result.status == "max_iter" and result.iterations == 2
    assert float(result.theta[0, 0]) == pytest.approx(3 * (1 - 0.9**2), rel=1e-14)
    assert result.value == pytest.approx(0.5 * (3 * 0.9**2) ** 2, rel=1e-14)
    assert result.factor.U is not None and float(result.factor.scale[0]) == pytest.approx(10**0.5)


def test_newton_reports_a_non_finite_start_and_a_singular_hessian():
    result = inference.newton_refine(_quadratic(3.0, 1.0), _start(math.nan))
    assert result.status == "non_finite" and result.factor is None and result.iterations == 0
    result = inference.newton_refine(_quadratic(3.0, 0.0), _start())
    assert result.status == "singular" and result.factor.U is None and result.iterations == 0
    assert float(result.theta[0, 0]) == 0.0 and result.value == 4.5


def test_a_gradient_at_its_rounding_level_takes_one_pure_newton_step_and_stops():
    """When |g| <= 1024 eps sum|g_i| (here sum|g_i| = 1e20), the step is taken in full if the value does not
    rise beyond rounding, and Newton stops there (converged, 1 iteration); a step that raises the value is
    not taken (converged at the start, 0 iterations)."""
    result = inference.newton_refine(_quadratic(3.0, 0.5, scale=1e20), _start())
    assert result.status == "converged" and result.iterations == 1
    assert float(result.theta[0, 0]) == pytest.approx(6.0, rel=1e-15) and result.value == pytest.approx(4.5, rel=1e-15)
    result = inference.newton_refine(_quadratic(3.0, 0.25, scale=1e20), _start())
    assert result.status == "converged" and result.iterations == 0 and float(result.theta[0, 0]) == 0.0
    # singular at the new point: reported
    calls = []

    def terms(theta, curvature, meat=False):
        calls.append(float(theta[0, 0]))
        base = _quadratic(3.0, 1.0, scale=1e20)(theta, curvature)
        return base._replace(hessian=torch.zeros(1, 1, dtype=torch.float64)) if len(calls) > 1 else base

    result = inference.newton_refine(terms, _start())
    assert result.status == "singular" and float(result.theta[0, 0]) == 3.0 and result.iterations == 1


def test_the_rounding_tolerances_are_those_documented():
    """_at_rounding_level: |g_j| <= 1024 eps s_j for every j; _acceptable: finite, and
    value' <= value - decrease + 256 eps |value|."""
    eps = np.finfo(np.float64).eps

    def terms(value, gradient, scale):
        g = torch.tensor(gradient, dtype=torch.float64)
        return inference.LikelihoodTerms(value, g, None, None, torch.tensor(scale, dtype=torch.float64))

    assert inference._at_rounding_level(terms(0.0, [1024 * eps * 8, 0.0], [8.0, 1.0]))
    assert not inference._at_rounding_level(terms(0.0, [1100 * eps * 8, 0.0], [8.0, 1.0]))
    assert not inference._at_rounding_level(terms(0.0, [0.0, 1e-10], [8.0, 1.0]))
    value = 1000.0
    assert inference._acceptable(terms(value + 200 * eps * value, [0.0], [1.0]), value, 0.0)
    assert not inference._acceptable(terms(value + 300 * eps * value, [0.0], [1.0]), value, 0.0)
    assert inference._acceptable(terms(0.0, [0.0], [1.0]), 0.0, 0.0)  # no rise at all, none asked: accepted
    assert inference._acceptable(terms(value - 1.0, [0.0], [1.0]), value, 1.0)
    assert not inference._acceptable(terms(value - 0.5, [0.0], [1.0]), value, 1.0)
    assert not inference._acceptable(terms(value - 2.0, [math.nan], [1.0]), value, 1.0)
    assert not inference._acceptable(terms(math.inf, [0.0], [1.0]), value, 1.0)
    assert inference._finite(1.0, torch.zeros(2)) and not inference._finite(1.0, torch.tensor([0.0, math.inf]))


def test_model_statistics_against_written_out_intercept_only_fits():
    """llnull is the weighted log-likelihood of one intercept per output at its optimum (found numerically with
    scipy here), llf = -neg_loglike, McFadden's prsquared, the LR test with df_model degrees of freedom,
    df_resid = nobs - n_params; NaN where undefined (llnull = 0, df_model = 0)."""
    from scipy.optimize import minimize_scalar
    from scipy.stats import chi2

    rng = np.random.RandomState(3)
    n = 50
    f = rng.randint(1, 4, n).astype(float)
    Y = (rng.uniform(size=(n, 2)) < [0.3, 0.6]).astype(float)
    c = np.where(Y == 1, 2.0, 1.0)  # pos_weight 2

    def null(j):
        w = f * c[:, j]
        loss = lambda b: -np.sum(w * (Y[:, j] * b - np.logaddexp(0, b)))  # noqa: E731
        return -minimize_scalar(loss, bracket=(-1, 1), tol=1e-12).fun

    stats = inference.model_statistics(40.0, Y, f, c, softmax=False, n_params=6, n_constants=2)
    llnull = null(0) + null(1)
    assert stats["llnull"] == pytest.approx(llnull, rel=1e-10)
    assert stats["llf"] == -40.0 and stats["nobs"] == f.sum()
    assert stats["prsquared"] == pytest.approx(1 - (-40.0) / llnull, rel=1e-10)
    assert stats["llr"] == pytest.approx(2 * (-40.0 - llnull), rel=1e-10)
    assert stats["llr_pvalue"] == pytest.approx(chi2.sf(2 * (-40.0 - llnull), 4), rel=1e-8)
    assert stats["df_model"] == 4.0 and stats["df_resid"] == f.sum() - 6
    # One slope: an LR test with 1 degree of freedom.
    stats = inference.model_statistics(40.0, Y[:, :1], f, c[:, :1], softmax=False, n_params=2, n_constants=1)
    assert stats["df_model"] == 1.0
    assert stats["llr_pvalue"] == pytest.approx(chi2.sf(2 * (-40.0 - null(0)), 1), rel=1e-8)
    # Softmax: the null model predicts the weighted class shares.
    classes = rng.randint(0, 3, n)
    Y3 = np.eye(3)[classes]
    share = np.array([f[classes == k].sum() for k in range(3)]) / f.sum()
    stats = inference.model_statistics(30.0, Y3, f, np.ones((n, 3)), softmax=True, n_params=4, n_constants=2)
    assert stats["llnull"] == pytest.approx(np.sum(f * np.log(share[classes])), rel=1e-12)
    # One class only: llnull = 0, no pseudo R-squared; intercepts only: no LR test.
    stats = inference.model_statistics(
        0.0, np.ones((n, 1)), f, np.ones((n, 1)), softmax=False, n_params=1, n_constants=1
    )
    assert stats["llnull"] == 0 and math.isnan(stats["prsquared"]) and math.isnan(stats["llr_pvalue"])
    assert stats["df_model"] == 0.0


def test_statistics_table_is_the_wald_table():
    """z = coef / se, p = 2 sf(|z|), intervals coef -+ z_{1 - alpha/2} se; NaN standard errors give NaN."""
    from scipy.stats import norm

    coef, se = np.array([1.0, -2.0, 0.5]), np.array([0.5, 4.0, np.nan])
    table = inference.statistics_table(coef, se, 0.1)
    q = norm.ppf(0.95)
    np.testing.assert_allclose(table[:2, 2], [2.0, -0.5])
    np.testing.assert_allclose(table[:2, 3], 2 * norm.sf([2.0, 0.5]), rtol=1e-14)
    np.testing.assert_allclose(table[:2, 4], coef[:2] - q * se[:2], rtol=1e-14)
    np.testing.assert_allclose(table[:2, 5], coef[:2] + q * se[:2], rtol=1e-14)
    assert np.isnan(table[2, 2:]).all() and table[2, 0] == 0.5
    # A zero standard error (a variance clipped at 0): z = +-inf, or NaN for 0 / 0, without a RuntimeWarning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = inference.statistics_table([1.0, 0.0], [0.0, 0.0], 0.05)
    assert table[0, 2] == np.inf and np.isnan(table[1, 2])


TIGHT = dict(C=np.inf, dtype="float64", tol=1e-10, max_iter=1000)


@pytest.fixture(scope="module")
def three_classes():
    X, y = make_classification(
        n_samples=200, n_features=3, n_informative=3, n_redundant=0, n_classes=3, flip_y=0.2, random_state=1
    )
    return X, np.array(["b", "c", "d"])[y]


def test_multinomial_without_intercept_equals_statsmodels(three_classes):
    """fit_intercept=False: every coefficient's common shift is flat (null space of d = p columns); the
    contrasts and their standard errors equal MNLogit's without a constant."""
    X, y = three_classes
    table = TorchLogisticClassifier(**TIGHT, fit_intercept=False).fit(X, y).summary(X, y)
    ref = sm.MNLogit(np.searchsorted(["b", "c", "d"], y), X).fit(method="newton", disp=0, maxiter=100, tol=1e-12)
    np.testing.assert_allclose(table["coef"].to_numpy(), np.asarray(ref.params).T.ravel(), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(table["std_err"].to_numpy(), np.asarray(ref.bse).T.ravel(), rtol=1e-7)
    assert list(table.index) == [(k, f"x{j}") for k in ("c", "d") for j in range(3)]
    assert table.attrs["df_model"] == 6.0 and table.attrs["df_resid"] == 200 - 6


def _penalised_hessian(X, y_index, weight, C, K, intercept):
    """Autograd Hessian of sum_i w_i l_i + ||W||^2 / (2C) (the intercepts unpenalised), theta = (K, [b,] W)."""
    Xt = torch.tensor(X)
    d = X.shape[1] + int(intercept)

    def loss(flat):
        theta = flat.reshape(K, d)
        W = theta[:, int(intercept) :]
        logits = Xt @ W.T + (theta[:, 0] if intercept else 0)
        losses = torch.nn.functional.cross_entropy(logits, torch.tensor(y_index), reduction="none")
        return (torch.tensor(weight) * losses).sum() + (W**2).sum() / (2 * C)

    return loss, d


@pytest.mark.parametrize("intercept", [True, False])
def test_penalised_multinomial_covariance_is_the_inverse_penalised_hessian(three_classes, intercept):
    """Finite C: the covariance of the contrasts is A H^+ A^T with H the autograd Hessian of the penalised
    objective at the fitted optimum (singular only along the common intercept shift, when there are intercepts)."""
    X, y = three_classes
    weight = np.random.RandomState(2).uniform(0.5, 2, len(y))
    clf = TorchLogisticClassifier(C=0.3, dtype="float64", tol=1e-10, max_iter=1000, fit_intercept=intercept)
    clf.fit(X, y, sample_weight=weight)
    with pytest.warns(InferenceWarning, match="C=0.3 is finite"):
        table = clf.summary(X, y, sample_weight=weight)
    assert table.attrs["method"] == "penalised MLE (L2, C=0.3)"
    loss, d = _penalised_hessian(X, np.searchsorted(clf.classes_, y), weight, 0.3, 3, intercept)
    theta = np.column_stack([clf.intercept_, clf.coef_]) if intercept else clf.coef_
    H = torch.autograd.functional.hessian(loss, torch.tensor(theta.ravel())).numpy()
    A = np.kron(np.c_[-np.ones(2), np.eye(2)], np.eye(d))
    cov = A @ np.linalg.pinv(H) @ A.T
    np.testing.assert_allclose(table["std_err"].to_numpy(), np.sqrt(np.diag(cov)), rtol=1e-6)
    np.testing.assert_allclose(table["coef"].to_numpy(), A @ theta.ravel(), rtol=1e-6, atol=1e-8)


def test_penalised_binary_hc0_is_the_sandwich_of_the_penalised_hessian(three_classes):
    """Finite C with cov_type="HC0": H^-1 M H^-1, H the penalised Hessian (autograd), M the sum of the
    unpenalised scores' outer products (written out)."""
    X, labels = three_classes
    y = (labels == "c").astype(int)
    clf = TorchLogisticClassifier(C=0.2, dtype="float64", tol=1e-10, max_iter=1000).fit(X, y)
    with pytest.warns(InferenceWarning, match="these HC0 standard errors"):
        table = clf.summary(X, y, cov_type="HC0")
    theta = np.r_[clf.intercept_, clf.coef_[0]]
    Xa = np.column_stack([np.ones(len(X)), X])
    p = 1 / (1 + np.exp(-Xa @ theta))
    ridge = np.diag([0.0, 5.0, 5.0, 5.0])
    H = Xa.T @ ((p * (1 - p))[:, None] * Xa) + ridge
    scores = (y - p)[:, None] * Xa
    H_inv = np.linalg.inv(H)
    cov = H_inv @ scores.T @ scores @ H_inv
    np.testing.assert_allclose(table["std_err"].to_numpy(), np.sqrt(np.diag(cov)), rtol=1e-6)
    # The penalised optimum: gradient of the penalised objective is zero at the reported coefficients.
    p = 1 / (1 + np.exp(-Xa @ table["coef"].to_numpy()))
    gradient = Xa.T @ (p - y) + ridge @ table["coef"].to_numpy()
    assert np.abs(gradient).max() < 1e-8


def test_table_layout_and_attributes_name_the_model(three_classes):
    """Index and attributes: features named by feature_names_in_, an "intercept" row, (class, feature) rows for
    the non-reference classes of a multinomial model, (label, feature) rows for a multi-label one; the model's
    name, covariance type, alpha, method, converged flag and reference class."""
    X, y = three_classes
    frame = pd.DataFrame(X, columns=["u", "v", "w"])
    binary = TorchLogisticClassifier(**TIGHT).fit(frame, y == "c").summary(frame, y == "c", alpha=0.1, cov_type="HC0")
    assert list(binary.index) == ["intercept", "u", "v", "w"] and binary.index.name == "feature"
    assert list(binary.columns) == ["coef", "std_err", "z", "p_value", "ci_low", "ci_high"]
    assert {k: binary.attrs[k] for k in ("model", "cov_type", "alpha", "method", "converged")} == dict(
        model="Logit", cov_type="HC0", alpha=0.1, method="MLE", converged=True
    )
    assert "reference_class" not in binary.attrs
    multinomial = TorchLogisticClassifier(**TIGHT).fit(frame, y).summary(frame, y)
    assert multinomial.index.names == ["class", "feature"]
    assert list(multinomial.index) == [(k, f) for k in ("c", "d") for f in ("intercept", "u", "v", "w")]
    assert multinomial.attrs["model"] == "MNLogit" and multinomial.attrs["reference_class"] == "b"
    Y = np.column_stack([y == "b", y == "d"]).astype(int)
    multilabel = TorchMultiLabelClassifier(**TIGHT).fit(X, Y).summary(X, Y)
    assert multilabel.index.names == ["label", "feature"]
    assert list(multilabel.index) == [(k, f) for k in (0, 1) for f in ("intercept", "x0", "x1", "x2")]
    assert multilabel.attrs["model"] == "Multi-label Logit"


def test_multilabel_pos_weight_equals_repeating_each_labels_positive_rows(three_classes):
    """pos_weight=k scales a positive row's loss by k: for integer k, label j's estimate and nonrobust standard
    errors are statsmodels' Logit on the rows with positives repeated k_j times."""
    X, y = three_classes
    Y = np.column_stack([y == "b", y == "d"]).astype(int)
    pos_weight = [2.0, 3.0]
    clf = TorchMultiLabelClassifier(**TIGHT, pos_weight=pos_weight).fit(X, Y)
    table = clf.summary(X, Y)
    for j in range(2):
        repeats = np.where(Y[:, j] == 1, int(pos_weight[j]), 1)
        ref = sm.Logit(np.repeat(Y[:, j], repeats), sm.add_constant(np.repeat(X, repeats, axis=0))).fit(
            method="newton", disp=0, tol=1e-12
        )
        np.testing.assert_allclose(table.loc[j, "coef"].to_numpy(), ref.params, rtol=1e-7)
        np.testing.assert_allclose(table.loc[j, "std_err"].to_numpy(), ref.bse, rtol=1e-7)


def test_labels_are_matched_to_classes_by_value(three_classes):
    """summary's y is read against classes_: labels before the first or after the last class are unseen."""
    X, y = three_classes
    clf = TorchLogisticClassifier(**TIGHT).fit(X, y)
    for unseen in ("a", "e"):
        bad = y.copy().astype("<U1")
        bad[5] = unseen
        with pytest.raises(ValueError, match=rf"y contains labels not seen in fit: \['{unseen}'\]"):
            clf.summary(X, bad)
    # A sparsified model (coef_ a sparse matrix) gives the same table.
    table = clf.summary(X, y)
    clf.sparsify()
    pd.testing.assert_frame_equal(clf.summary(X, y), table, rtol=1e-12)


def test_an_orthogonal_design_has_reciprocal_condition_number_one_on_either_path(monkeypatch):
    """A diagonal Hessian is the identity once scaled to unit diagonal: rcond = 1 from the exact eigenvalues and
    from the iterations (whose largest eigenvalue is then exactly 1)."""
    H = torch.diag(torch.tensor([4.0, 0.25, 9.0], dtype=torch.float64))
    assert inference.Factor(H.clone()).rcond == 1.0
    monkeypatch.setattr(inference, "EXACT_RCOND_MAX_PARAMS", 0)
    factor = inference.Factor(H.clone())
    assert factor.U is not None and factor.rcond == pytest.approx(1.0, rel=1e-12)


def test_a_multilabel_estimator_on_a_single_binary_target_equals_logit(three_classes):
    """TorchMultiLabelClassifier fitted on a 1-D binary y is a binary model: its table is statsmodels' Logit."""
    X, labels = three_classes
    y = (labels == "c").astype(int)
    table = TorchMultiLabelClassifier(**TIGHT).fit(X, y).summary(X, y)
    ref = sm.Logit(y, sm.add_constant(X)).fit(method="newton", disp=0, tol=1e-12)
    np.testing.assert_allclose(table["coef"].to_numpy(), ref.params, rtol=1e-7)
    np.testing.assert_allclose(table["std_err"].to_numpy(), ref.bse, rtol=1e-7)
    assert table.attrs["model"] == "Logit"


# --------------------------------------------------------------------------------------------------
# newton_refine: what each NewtonResult holds, the step tolerance at its boundary, Armijo's constant, the
# null space at a rounding-level step, and how many times the objective is evaluated. Quadratics whose
# Newton sequence is known in closed form.


def _counted(terms, limit=200):
    """``terms`` recording the points it is evaluated at (and with or without curvature); a Newton loop that
    halves for ever is stopped after ``limit`` evaluations, so it fails rather than hangs."""
    calls = []

    def counted(theta, curvature, meat=False):
        calls.append((float(theta.reshape(-1)[0]), bool(curvature)))
        if len(calls) > limit:
            raise RuntimeError(f"{limit} evaluations")
        return terms(theta, curvature, meat)

    return counted, calls


def test_every_newton_result_holds_the_point_its_value_and_its_factor():
    """non_finite: the start and its (NaN) value, no factor; a refused pure step at the rounding level, and
    "no_decrease": the start, its value and the factor of the start (whose U is not None)."""
    start = _start(math.nan)
    result = inference.newton_refine(_quadratic(3.0, 1.0), start)
    assert result.theta is start and math.isnan(result.value) and result.factor is None
    # At the rounding level, a step that raises the value is not taken: the start, its value, its factor.
    result = inference.newton_refine(_quadratic(3.0, 0.25, scale=1e20), _start())
    assert result.status == "converged" and float(result.theta[0, 0]) == 0.0 and result.value == 4.5
    assert result.factor.U is not None and float(result.factor.scale[0]) == 0.5

    def uphill(theta, curvature, meat=False):
        t = float(theta[0, 0])
        hessian = 4 * torch.ones(1, 1, dtype=torch.float64) if curvature else None
        gradient, scale = torch.tensor([3.0], dtype=torch.float64), torch.ones(1, dtype=torch.float64)
        return inference.LikelihoodTerms(10 * t**2, gradient, hessian, None, scale)  # rises along -gradient

    result = inference.newton_refine(uphill, _start())
    assert result.status == "no_decrease" and result.value == 0.0 and float(result.theta[0, 0]) == 0.0
    assert result.factor.U is not None and float(result.factor.scale[0]) == 2.0


@pytest.mark.parametrize(
    "minimum, start, iterations",
    [
        (0.0, 1e-10, 0),  # a step of exactly NEWTON_STEP_RTOL x max(1, |theta|) = 1e-10: converged, not taken
        (0.0, 1.5e-10, 1),  # 1.5e-10 > 1e-10 x max(1, 1.5e-10): taken
        (0.0, -1.5e-10, 1),
        (1000.0, 1000.00000005, 0),  # |theta| = 1000: a step of 5e-8 is within 1e-10 x 1000
        (1000.0, 1000.0000002, 1),  # 2e-7 is not
    ],
)
def test_newton_stops_when_no_parameter_moves_more_than_the_relative_step_tolerance(minimum, start, iterations):
    """Converged when max |step| <= NEWTON_STEP_RTOL * max(1, max |theta|): the bound included, relative to
    |theta| above 1 and absolute below."""
    terms, calls = _counted(_quadratic(minimum, 1.0))
    result = inference.newton_refine(terms, _start(start))
    assert result.status == "converged" and result.iterations == iterations
    assert float(result.theta[0, 0]) == (start if iterations == 0 else minimum)
    assert calls == [(start, True)] + [(minimum, True)] * iterations  # the trial's curvature is reused


def test_armijo_asks_a_decrease_of_1e4_times_the_step_fraction_times_the_newton_decrement():
    """f = (t - 3)^2 / 2 from 0 with the curvature reported as 1.5 / 5.999: the full step (to 11.998) rises,
    the half step lands on 5.999, where f = 4.5 - 0.0029995; Armijo asks 1e-4 * (1/2) * g'H^-1 g = 0.0017997:
    accepted (a constant of 1e-4 / t would ask 0.0072 and refuse it)."""
    h = 1.5 / 5.999
    terms, calls = _counted(_quadratic(3.0, h))
    result = inference.newton_refine(terms, _start(), max_iter=1)
    assert result.status == "max_iter" and float(result.theta[0, 0]) == pytest.approx(5.999, rel=1e-14)
    assert [round(t, 9) for t, _ in calls] == [0.0, 11.998, 5.999, 5.999]
    # with the curvature at the start, the full step, the half step without it, then the curvature there
    assert [c for _, c in calls] == [True, True, False, True]


def test_a_full_newton_step_reuses_the_trials_curvature():
    """The trial of a full step is evaluated with its Hessian, which is then the next iteration's: the start,
    the step to the minimum, nothing else (the zero step after it needs no evaluation)."""
    terms, calls = _counted(_quadratic(3.0, 1.0))
    result = inference.newton_refine(terms, _start())
    assert result.converged and result.iterations == 1
    assert calls == [(0.0, True), (3.0, True)]


def test_a_halving_newton_step_that_never_stops_is_caught():
    """Understated curvature: the halvings from 30 reach 3.75 (see test_newton_halves_an_overlong_step...);
    the evaluations are bounded (t halves: t = 2 for ever would never reach MIN_STEP_FRACTION)."""
    terms, calls = _counted(_quadratic(3.0, 0.1), limit=50)
    result = inference.newton_refine(terms, _start(), max_iter=1)
    assert float(result.theta[0, 0]) == 3.75 and len(calls) == 6


def test_a_pure_newton_step_at_the_rounding_level_is_factored_with_the_null_space():
    """Two parameters whose objective only depends on their difference (a multinomial model's common shift):
    f = (t1 - t2 - 1)^2 / 2, flat along (1, 1). At the rounding level the pure step is taken and the Hessian
    there is factored with the null space: converged, with a factor (without it the Hessian is singular)."""
    null = torch.tensor([[1.0], [1.0]], dtype=torch.float64) / math.sqrt(2)
    D = torch.tensor([1.0, -1.0], dtype=torch.float64)

    def terms(theta, curvature, meat=False):
        r = float(D @ theta.reshape(-1)) - 1.0
        hessian = torch.outer(D, D) if curvature else None
        return inference.LikelihoodTerms(0.5 * r * r, r * D, hessian, None, torch.full((2,), 1e20, dtype=torch.float64))

    result = inference.newton_refine(terms, torch.zeros(1, 2, dtype=torch.float64), null)
    assert result.status == "converged" and result.iterations == 1 and result.factor.U is not None
    assert float(D @ result.theta.reshape(-1)) == pytest.approx(1.0, rel=1e-14) and result.value == pytest.approx(0)


# --------------------------------------------------------------------------------------------------
# Factor: which path gives the condition number, the limit's boundary, the curvature added along the
# null space (its scale), and a Cholesky factorisation that fails on the iterations' path.


def test_the_condition_number_is_exact_up_to_exact_rcond_max_params_and_estimated_above(monkeypatch):
    """Eigenvalues close together (the iterations converge slowly): with n = EXACT_RCOND_MAX_PARAMS the
    reciprocal condition number is NumPy's to 1e-12; with n one above, it is the iterations' estimate, which
    differs from it by about 6e-3 here."""
    H = _spd(4, 1, spread=1.01)
    reference = _unit_diagonal_rcond(H)
    monkeypatch.setattr(inference, "EXACT_RCOND_MAX_PARAMS", 4)
    factor = inference.Factor(torch.tensor(H))
    assert factor.rcond == pytest.approx(reference, rel=1e-12)
    assert abs(factor._estimated_rcond() / reference - 1) > 1e-3
    monkeypatch.setattr(inference, "EXACT_RCOND_MAX_PARAMS", 3)
    factor = inference.Factor(torch.tensor(H))
    assert factor.rcond == factor._estimated_rcond() and abs(factor.rcond / reference - 1) > 1e-3


def test_a_hessian_whose_condition_number_equals_the_limit_has_no_factor(monkeypatch):
    """The factor is kept only when rcond > RCOND_LIMIT: a diagonal Hessian (rcond exactly 1) with the limit
    set to 1 has none, with the limit just below 1 it has one."""
    H = torch.diag(torch.tensor([4.0, 0.25, 9.0], dtype=torch.float64))
    monkeypatch.setattr(inference, "RCOND_LIMIT", 1.0)
    factor = inference.Factor(H.clone())
    assert factor.rcond == 1.0 and factor.U is None
    monkeypatch.setattr(inference, "RCOND_LIMIT", 1.0 - 1e-9)
    assert inference.Factor(H.clone()).U is not None


@pytest.mark.parametrize("scale", [1e-15, 1.0, 1e15])
def test_the_curvature_added_along_the_null_space_follows_the_hessians_scale(scale):
    """The curvature added along the flat directions is the Hessian's mean diagonal, so a Hessian of any scale
    (features in other units) keeps a well-conditioned factor and gives A H^+ A^T; a fixed amount (1) would
    make one of 1e-15 or 1e15 ill-conditioned."""
    rng = np.random.RandomState(7)
    K, d, n = 3, 3, 200
    X = np.column_stack([np.ones(n), rng.normal(size=(n, d - 1))])
    P = np.exp(X @ (rng.normal(size=(K, d)) * 0.3).T)
    P /= P.sum(axis=1, keepdims=True)
    H = scale * sum(np.kron(np.diag(p) - np.outer(p, p), np.outer(x, x)) for p, x in zip(P, X, strict=True))
    A = np.kron(np.c_[-np.ones(K - 1), np.eye(K - 1)], np.eye(d))
    reference = np.diag(A @ np.linalg.pinv(H, rcond=1e-10) @ A.T)
    null = inference.flat_directions(K, d, flat_columns=range(d), device="cpu")
    factor = inference.Factor(torch.tensor(H), null)
    assert factor.U is not None and factor.rcond > 1e-6
    contrasts = inference.Contrasts(K * d, device="cpu", n_classes=K, d=d)
    variances = inference.parameter_variances(factor, cov_type="nonrobust", n_obs=n, contrasts=contrasts)
    np.testing.assert_allclose(variances.numpy(), reference, rtol=1e-8)


def test_a_failed_cholesky_factorisation_has_no_factor_on_the_iterations_path(monkeypatch):
    """Above EXACT_RCOND_MAX_PARAMS no eigenvalues are computed: an indefinite matrix is refused because its
    Cholesky factorisation fails (at the second pivot here), not by its condition number."""
    monkeypatch.setattr(inference, "EXACT_RCOND_MAX_PARAMS", 0)
    for H in ([[1.0, 2.0], [2.0, 1.0]], [[1.0, 0.5, 0.9], [0.5, 1.0, 0.9], [0.9, 0.9, 1.0]]):
        factor = inference.Factor(torch.tensor(H, dtype=torch.float64))
        assert factor.U is None and factor.rcond == 0.0


def test_balanced_class_weights_count_the_sample_weights_as_fit_does(three_classes):
    """class_weight="balanced" with sample weights: class k weighs sum(f) / (K sum_{y_i = k} f_i) (scikit-learn's
    compute_class_weight with sample_weight), in fit and in summary alike: the fitted coefficients are the
    optimum summary finds, and the table equals the one with those weights given as a dict."""
    X, y = three_classes
    f = np.random.RandomState(5).choice([1.0, 5.0], size=len(y))
    clf = TorchLogisticClassifier(**TIGHT, class_weight="balanced").fit(X, y, sample_weight=f)
    table = clf.summary(X, y, sample_weight=f)
    assert table.attrs["refined_by"] < 1e-6
    weights = {k: f.sum() / (3 * f[y == k].sum()) for k in ("b", "c", "d")}
    written_out = clf.set_params(class_weight=weights).summary(X, y, sample_weight=f)
    pd.testing.assert_frame_equal(table, written_out, rtol=1e-10)


@pytest.mark.parametrize("chunk_values, rows", [(50, 1), (480, 10), (1 << 20, 37)])
def test_likelihood_terms_reads_chunks_of_a_quarter_of_chunk_values_per_parameter(chunk_values, rows, monkeypatch):
    """Each chunk has max(1, CHUNK_VALUES // (4 K d)) rows (K d = 12 parameters here), so its score matrices stay
    small next to the Hessian: 50 values give 1 row, 480 give 10, and the last chunk holds the rest."""
    monkeypatch.setattr(inference, "CHUNK_VALUES", chunk_values)
    seen = []
    augmented = inference._augmented
    monkeypatch.setattr(inference, "_augmented", lambda chunk, *a: seen.append(len(chunk)) or augmented(chunk, *a))
    rng = np.random.RandomState(0)
    n, K = 37, 3
    X = rng.normal(size=(n, 3))
    inference.likelihood_terms(
        X,
        np.eye(K)[rng.randint(0, K, n)],
        torch.zeros(K, 4, dtype=torch.float64),
        kind="softmax",
        fit_intercept=True,
        freq_weight=np.ones(n),
        importance=np.ones((n, K)),
        device="cpu",
    )
    assert seen == [rows] * (n // rows) + ([n % rows] if n % rows else [])


def test_float32_data_gives_the_table_of_the_same_values_in_float64(three_classes):
    """summary() accepts float32 X (as fit does) and computes in float64: the table is that of X cast to
    float64, for dense and sparse X."""
    X, y = three_classes
    X32 = X.astype(np.float32)
    clf = TorchLogisticClassifier(**TIGHT).fit(X32, y)
    table = clf.summary(X32.astype(np.float64), y)
    pd.testing.assert_frame_equal(clf.summary(X32, y), table, rtol=1e-12)
    pd.testing.assert_frame_equal(clf.summary(sparse.csr_matrix(X32), y), table, rtol=1e-12)


def test_newton_at_max_iter_factors_the_last_hessian_with_the_null_space():
    """A Hessian that overstates the curvature 10x and is flat along (1, 1): after max_iter steps the Hessian
    at the last point is factored with the null space (a factor; without it, singular)."""
    null = torch.tensor([[1.0], [1.0]], dtype=torch.float64) / math.sqrt(2)
    D = torch.tensor([1.0, -1.0], dtype=torch.float64)

    def terms(theta, curvature, meat=False):
        r = float(D @ theta.reshape(-1)) - 1.0
        hessian = 10 * torch.outer(D, D) if curvature else None
        return inference.LikelihoodTerms(0.5 * r * r, r * D, hessian, None, torch.ones(2, dtype=torch.float64))

    result = inference.newton_refine(terms, torch.zeros(1, 2, dtype=torch.float64), null, max_iter=2)
    assert result.status == "max_iter" and result.iterations == 2 and result.factor.U is not None
    assert float(D @ result.theta.reshape(-1)) == pytest.approx(1 - 0.9**2, rel=1e-12)
    assert result.value == pytest.approx(0.5 * 0.81**2, rel=1e-12)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
def test_summary_forms_hessians_for_newton_and_the_meat_only_for_a_sandwich(three_classes, cov_type, monkeypatch):
    """At most two dense matrices at a time (PEAK_MATRICES): the Hessian is formed only for Newton's steps; the
    scores' outer-product sum only for a sandwich covariance, once, at the optimum and without a Hessian; the
    log-likelihood of the table's statistics is evaluated without either."""
    X, labels = three_classes
    y = (labels == "c").astype(int)
    clf = TorchLogisticClassifier(**TIGHT).fit(X, y)
    calls = []
    real = inference.likelihood_terms

    def recorded(*args, curvature=True, meat=False, **kwargs):
        calls.append((bool(curvature), bool(meat)))
        return real(*args, curvature=curvature, meat=meat, **kwargs)

    monkeypatch.setattr(inference, "likelihood_terms", recorded)
    clf.summary(X, y, cov_type=cov_type)
    newton = [c for c in calls if c[0]]
    assert newton and all(c == (True, False) for c in newton)
    assert calls[-1] == (False, False)
    assert [c for c in calls if c[1]] == ([] if cov_type == "nonrobust" else [(False, True)])


def test_penalised_binary_covariance_is_the_inverse_penalised_hessian_to_1e10():
    """C=0.3: the penalty's curvature 1/C (not a float32 number) on each weight, none on the intercept. At the
    table's coefficients the penalised gradient vanishes and the standard errors are those of the written-out
    penalised Hessian, to 1e-10."""
    X, y = make_classification(n_samples=120, n_features=3, n_informative=3, n_redundant=0, random_state=4)
    C = 0.3
    clf = TorchLogisticClassifier(C=C, dtype="float64", tol=1e-10, max_iter=1000).fit(X, y)
    with pytest.warns(InferenceWarning, match="C=0.3 is finite"):
        table = clf.summary(X, y)
    theta = table["coef"].to_numpy()
    Xa = np.column_stack([np.ones(len(X)), X])
    p = 1 / (1 + np.exp(-Xa @ theta))
    ridge = np.diag([0.0, 1 / C, 1 / C, 1 / C])
    assert np.abs(Xa.T @ (p - y) + ridge @ theta).max() < 1e-11
    H = Xa.T @ ((p * (1 - p))[:, None] * Xa) + ridge
    np.testing.assert_allclose(table["std_err"].to_numpy(), np.sqrt(np.diag(np.linalg.inv(H))), rtol=1e-10)


def test_object_data_and_float32_weights_are_read_as_float64(three_classes):
    """X of dtype object (numbers) is converted as in fit; float32 sample weights count with their float64
    values: nobs is the float64 sum of the float32 weights."""
    X, y = three_classes
    w = np.full(len(y), 0.1, dtype=np.float32)
    clf = TorchLogisticClassifier(**TIGHT).fit(X, y, sample_weight=w)
    table = clf.summary(X, y, sample_weight=w.astype(np.float64))
    assert table.attrs["nobs"] == float(np.sum(w.astype(np.float64))) != float(np.sum(w))
    pd.testing.assert_frame_equal(clf.summary(X.astype(object), y, sample_weight=w), table, rtol=1e-12)
    assert clf.summary(X, y, sample_weight=w).attrs == table.attrs


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(alpha=1), "alpha must be a float strictly between 0 and 1"),
        (dict(alpha=1.0), "alpha must be a float strictly between 0 and 1"),
        (dict(alpha="0.05"), "alpha must be a float strictly between 0 and 1"),
        (dict(sample_weight=np.r_[-1.0, np.ones(199)]), "Negative values in data passed to"),
    ],
)
def test_summary_refuses_alpha_at_one_or_not_a_number_and_negative_weights(three_classes, kwargs, match):
    X, y = three_classes
    clf = TorchLogisticClassifier(C=np.inf, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    with pytest.raises(ValueError, match=match):
        clf.summary(X, y, **kwargs)


@pytest.mark.parametrize("moved, warns", [(0.3, True), (0.05, False)])
def test_coefficients_more_than_a_tenth_of_a_standard_error_from_the_optimum_are_warned_about(
    three_classes, moved, warns
):
    """coef_ moved away from the optimum by `moved` standard errors in one entry: warned about above 0.1, with
    the distance; the table is the optimum's either way."""
    X, labels = three_classes
    y = (labels == "c").astype(int)
    clf = TorchLogisticClassifier(**TIGHT).fit(X, y)
    table = clf.summary(X, y)
    clf.coef_ = clf.coef_.copy()
    clf.coef_[0, 1] += moved * table["std_err"].iloc[2]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        moved_table = clf.summary(X, y)
    messages = [str(w.message) for w in record if issubclass(w.category, InferenceWarning)]
    assert len(messages) == int(warns)
    assert not warns or messages[0].startswith(f"coef_ and intercept_ are up to {moved:.2g} standard errors away")
    np.testing.assert_allclose(moved_table["coef"], table["coef"], rtol=1e-9)


def test_summary_checks_the_data_against_the_fit_without_changing_the_model(three_classes):
    """X is checked against n_features_in_ and feature_names_in_ without resetting them: a model fitted on a
    frame keeps its names (the table too) when summary() gets an array, and refuses X of another width."""
    X, y = three_classes
    frame = pd.DataFrame(X, columns=["u", "v", "w"])
    clf = TorchLogisticClassifier(**TIGHT).fit(frame, y)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        table = clf.summary(X, y)
    assert list(table.index.get_level_values("feature")[:4]) == ["intercept", "u", "v", "w"]
    assert list(clf.feature_names_in_) == ["u", "v", "w"] and clf.n_features_in_ == 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # no feature names, again
        with pytest.raises(ValueError, match="X has 2 features, but TorchLogisticClassifier is expecting 3"):
            clf.summary(X[:, :2], y)


def test_the_penalised_gradients_rounding_scale_adds_the_penalty_terms_magnitude(monkeypatch):
    """With C finite the gradient is sum_i (p_i - y_i) x_i + theta / C (no penalty on the intercept); the scale of
    its rounding error, which decides whether Newton is at the rounding level, is sum_i |(y_i - p_i) x_i| +
    |theta / C|, at every point Newton evaluates (written out here at the fitted coefficients, Newton's start)."""
    X, y = make_classification(n_samples=60, n_features=2, n_informative=2, n_redundant=0, random_state=6)
    C = 0.5
    clf = TorchLogisticClassifier(C=C, dtype="float64", tol=1e-10, max_iter=1000).fit(X, y)
    seen = []
    real = inference._at_rounding_level
    monkeypatch.setattr(inference, "_at_rounding_level", lambda terms: seen.append(terms) or real(terms))
    with pytest.warns(InferenceWarning, match="C=0.5 is finite"):
        clf.summary(X, y)
    theta = np.r_[clf.intercept_, clf.coef_[0]]
    Xa = np.column_stack([np.ones(len(X)), X])
    p = 1 / (1 + np.exp(-Xa @ theta))
    ridge = np.array([0.0, 1 / C, 1 / C])
    start = seen[0]
    np.testing.assert_allclose(start.gradient.numpy(), Xa.T @ (p - y) + ridge * theta, rtol=1e-9, atol=1e-12)
    drift = (p * (1 - p) * (np.abs(Xa) @ np.abs(theta)))[:, None] * np.abs(Xa)  # the linear predictor's rounding
    np.testing.assert_allclose(
        start.gradient_scale.numpy(),
        np.abs((y - p)[:, None] * Xa).sum(0) + drift.sum(0) + np.abs(ridge * theta),
        rtol=1e-12,
    )


def test_targets_of_another_length_than_x_are_refused(three_classes):
    """y (or a multi-label Y) with one row more or less than X is refused with scikit-learn's error, before
    anything is computed."""
    X, y = three_classes
    Y = np.column_stack([y == "b", y == "d"]).astype(int)
    multilabel = TorchMultiLabelClassifier(C=np.inf, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        multilabel.fit(X, Y)
    for rows in (Y[:-1], np.vstack([Y, Y[:1]])):
        with pytest.raises(ValueError, match="inconsistent numbers of samples"):
            multilabel.summary(X, rows)


def test_a_variance_rounded_below_zero_is_a_zero_standard_error(three_classes, monkeypatch):
    """The diagonal of a covariance can come out a rounding error below zero (a parameter the scores do not
    see): its standard error is 0, not NaN (the square root of the variance clipped at 0 warns of nothing)."""
    X, labels = three_classes
    y = (labels == "c").astype(int)
    clf = TorchLogisticClassifier(**TIGHT).fit(X, y)
    real = inference.parameter_variances

    def rounded(*args, **kwargs):
        variances, noise = real(*args, **kwargs)
        variances = variances.clone()
        variances[1] = -1e-30
        return variances, noise

    monkeypatch.setattr(inference, "parameter_variances", rounded)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        table = clf.summary(X, y)
    assert table["std_err"].iloc[1] == 0.0 and np.isfinite(table["std_err"]).all()
    assert not [w for w in record if "sqrt" in str(w.message)]


def test_multinomial_hc1_counts_the_k_minus_1_reported_blocks(three_classes):
    """HC1 needs a total weight n above the (K - 1) d = 8 reported parameters (not K d = 12): uniform weights
    summing to 8 are refused, to 8.5 accepted with the factor n / (n - 8) = 17 over HC0."""
    X, y = three_classes
    clf = TorchLogisticClassifier(**TIGHT).fit(X, y)
    with pytest.raises(ValueError, match=r"cov_type='HC1' needs a total sample weight greater than .*\(8\)"):
        clf.summary(X, y, sample_weight=np.full(len(y), 8 / len(y)), cov_type="HC1")
    w = np.full(len(y), 8.5 / len(y))
    hc0 = clf.summary(X, y, sample_weight=w, cov_type="HC0")["std_err"].to_numpy()
    hc1 = clf.summary(X, y, sample_weight=w, cov_type="HC1")["std_err"].to_numpy()
    np.testing.assert_allclose(hc1**2 / hc0**2, 17.0, rtol=1e-10)


def test_the_memory_refusal_describes_the_models_size(three_classes, monkeypatch):
    """The refusal names the parameters' origin: features (+ intercept) and outputs (classes or labels)."""
    X, y = three_classes
    clf = TorchLogisticClassifier(C=np.inf, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    monkeypatch.setattr(inference, "available_memory", lambda device: 1000)
    with pytest.raises(ValueError, match=r"12 parameters \(3 features \+ intercept, 3 outputs \(classes or labels\)\)"):
        clf.summary(X, y)


# Mutation survey h1 (stop 49): summary() cases the suite let through.
_H1_TIGHT = dict(dtype="float64", tol=1e-10, max_iter=2000)


def _three_classes(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = rng.integers(0, 3, n)
    y[X[:, 0] > 1] = 2
    return X, y


def test_penalised_multinomial_summary_ignores_a_common_shift_of_the_classes_weights():
    """Adding one vector to every class's coef_ changes no probability, and the L2 optimum has the class mean
    0: summary() (which polishes to the penalised optimum) reports the same table. Kills M08 (curvature added
    along the weights' common shift under a penalty: Newton crawls along it and gives up, NaN)."""
    X, y = _three_classes()
    clf = TorchLogisticClassifier(C=1.0, **_H1_TIGHT).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InferenceWarning)  # the finite-C warning
        reference = clf.summary(X, y)
        clf.coef_ = clf.coef_ + np.array([3.0, -2.0])  # the same shift for every class
        np.testing.assert_allclose(
            clf.predict_proba(X), TorchLogisticClassifier(C=1.0, **_H1_TIGHT).fit(X, y).predict_proba(X), rtol=1e-6
        )
        shifted = clf.summary(X, y)
    assert shifted.attrs["converged"] is True
    np.testing.assert_allclose(shifted.to_numpy(), reference.to_numpy(), rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("C", [1e10, 1e13])
def test_multinomial_under_a_negligible_penalty_has_the_unpenalised_standard_errors(C):
    """BUG on 7bb322b: a multinomial model with a large finite C (sklearn users' stand-in for "no penalty") got NaN
    standard errors and a "singular or ill-conditioned" warning: the weights' common shift, which no reported
    contrast sees, has curvature 1/C only. (n=50,000 rows: already at C=1e8.)"""
    X, y = _three_classes()
    unpenalised = TorchLogisticClassifier(C=np.inf, **_H1_TIGHT).fit(X, y).summary(X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = TorchLogisticClassifier(C=C, **_H1_TIGHT).fit(X, y).summary(X, y)
    assert not [w for w in caught if "singular" in str(w.message)]
    np.testing.assert_allclose(table["std_err"].to_numpy(), unpenalised["std_err"].to_numpy(), rtol=1e-5)


def test_a_label_on_only_in_rows_of_zero_weight_is_named_as_never_on():
    """Rows of sample_weight 0 count as absent (as in fit): a label on only in such rows has no MLE and is named
    as such, before any Newton step. Kills M11 (rows of weight 0 counted for the label's values)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    Y = np.column_stack([(X[:, 0] + rng.normal(size=200) > 0), np.zeros(200)]).astype(int)
    Y[:5, 1] = 1
    weight = np.ones(200)
    weight[:5] = 0.0
    clf = TorchMultiLabelClassifier(C=np.inf, **_H1_TIGHT).fit(X, Y, sample_weight=weight)
    with pytest.warns(InferenceWarning, match=r"Label 1 \(1\) is never on in y") as caught:
        table = clf.summary(X, Y, sample_weight=weight)
    assert not [w for w in caught if "Newton" in str(w.message) or "Hessian" in str(w.message)]
    assert np.isnan(table.loc[1, "std_err"]).all() and np.isfinite(table.loc[0, "std_err"]).all()
