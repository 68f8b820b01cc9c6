"""Standard errors of fitted linear logit models: Hessian, sandwich, and the summary table.

Pure functions of arrays (no estimator here), computed in torch float64 on the model's
device. The parameters of output ``k`` are laid out as one block ``[intercept, w_1..w_p]``
(the intercept only with ``fit_intercept``), blocks in output order.

Weights follow the fit's semantics: ``sample_weight`` counts repetitions (frequency
weights: ``sample_weight=k`` is ``k`` identical rows, as in ``fit``), while class weights
and ``pos_weight`` scale each row's loss (importance weights). So with integer sample
weights every figure equals the one statsmodels gives on the repeated rows.
"""

import copy
import math
from numbers import Number, Real
from typing import NamedTuple

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import torch
from scipy.special import xlogy
from scipy.stats import chi2, norm
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._compat import _check_sample_weight
from ._data import check_sparse_indices, host_array, host_classes, host_inputs
from ._devices import available_memory, format_bytes
from ._kernels import ACCEPT_SPARSE, CHUNK_VALUES, as_tensor, canonical_csr
from ._user_warnings import warn

# Reciprocal condition number (of the Hessian scaled to unit diagonal, so feature scales
# don't matter) under which standard errors are reported as NaN: below it, float64 leaves
# fewer than ~4 correct digits in the inverse.
RCOND_LIMIT = 1e-12
# Newton iterations polishing the fitted parameters; from within a fit's tolerance 2-4 suffice.
NEWTON_MAX_ITER = 50
# Newton stops when no parameter moves by more than this, relative to max(1, max |theta|) ...
NEWTON_STEP_RTOL = 1e-10
# ... or when every component of the gradient is at the level of its own rounding error: a
# sum of n terms of both signs that cancel at the optimum, computed with an error up to a few
# eps times the sum of their magnitudes. There the computed Newton step is rounding noise
# amplified by H^-1 (large when parameters are nearly collinear), the value is flat to the
# last bit, and neither a step-size test nor Armijo's test can decide: the final step is then
# taken as a pure Newton step, and Newton stops.
GRADIENT_RESOLUTION = 1024 * np.finfo(np.float64).eps
# Armijo's test allows the value to rise by its own rounding error (a sum of non-negative terms,
# so relative to the value itself): otherwise a step whose true decrease is below rounding is
# refused or accepted by the noise alone.
VALUE_RESOLUTION = 256 * np.finfo(np.float64).eps
ARMIJO = 1e-4
# An unpenalised optimum whose log-likelihood is above -PERFECT_PREDICTION per unit of weight predicts every row with
# probability 1 of its class (statsmodels' perfect-prediction test compares the fitted values to y within 1e-8).
PERFECT_PREDICTION = 1e-8
# Shortest backtracked step tried before Newton gives up on a direction.
MIN_STEP_FRACTION = 2.0**-40
# Up to this many parameters the condition number comes from exact eigenvalues (a copy of the
# Hessian, ~4/3 n^3 flops); above, from power and inverse iterations on the Cholesky factor.
EXACT_RCOND_MAX_PARAMS = 2048
RCOND_ITERATIONS = 30
# summary() refuses when its dense matrices need more than this fraction of the memory available
# on the device (system memory on the CPU, free memory on a GPU): see summary_memory_bytes.
MEMORY_FRACTION = 0.5
# Dense (n_params x n_params) float64 matrices alive at once at summary()'s peak: the Hessian (or
# its Cholesky factor) and the next Hessian while a Newton step is tried, or the factor and the
# scores' outer-product sum for a sandwich covariance.
PEAK_MATRICES = 2
# Dense (d + 1)-square float64 matrices at design_ranks' peak (d features), after the Newton iterations' are freed:
# the Gram matrix of [1, X], the scaled one (factored in place, or holding its eigenvectors) and, where the
# eigenvalues decide, LAPACK's workspace of two more.
DESIGN_MATRICES = 4
# A sandwich variance below this fraction of its terms' Cauchy-Schwarz bound (see parameter_variances) is
# rounding noise: the meat vanishes along that parameter's direction (a constant column beside the intercept
# under HC0: a true standard error of 0, computed 3e-7), and it measures no distance (warn_far_from_optimum).
SANDWICH_NOISE = float(np.sqrt(np.finfo(np.float64).eps))
COLUMNS = ["coef", "std_err", "z", "p_value", "ci_low", "ci_high"]


class InferenceWarning(UserWarning):
    """Standard errors that are not classical, or could not be computed (NaN)."""


def _augmented(chunk, fit_intercept, device):
    """A dense chunk of rows as float64 on ``device``, with a leading column of ones for the intercept (a sparse X
    never comes here: see :func:`_sparse_likelihood_terms`)."""
    X = as_tensor(chunk, torch.float64, device)
    if fit_intercept:
        X = torch.cat([torch.ones(len(X), 1, dtype=X.dtype, device=device), X], dim=1)
    return X


def _outer_rows(R, X):
    """Row ``i`` is the Kronecker product ``R[i] (x) X[i]``: shape (n, K * d)."""
    return (R[:, :, None] * X[:, None, :]).reshape(len(X), -1)


def likelihood_terms(X, Y, theta, *, kind, fit_intercept, freq_weight, importance, device, curvature=True, meat=False):
    """Negative weighted log-likelihood at ``theta``, its gradient, Hessian and score outer products.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n, p)
    Y : ndarray of shape (n, K)
        One-hot classes ("softmax") or 0/1 labels ("sigmoid", independent outputs).
    theta : Tensor of shape (K, d), float64
        Parameters, one row per output, ``[intercept, coefficients]``.
    kind : {"sigmoid", "softmax"}
    freq_weight : ndarray of shape (n,)
    importance : ndarray of shape (n, K)
        Loss weight of each row and output (1 when unweighted).
    curvature : bool
        Also form the Hessian (else it is None).
    meat : bool
        Also form the sum of the scores' outer products (else it is None).

    Returns
    -------
    value : float
        ``sum_i f_i c_i l_i``.
    gradient : Tensor of shape (K * d,)
    hessian, meat : Tensor of shape (K * d, K * d), or None
        ``sum_i f_i H_i`` and ``sum_i f_i g_i g_i^T`` (``g_i`` the score of row ``i``).
        Accumulated in place: no temporary of their size is made.
    gradient_scale : Tensor of shape (K * d,)
        ``sum_i f_i |g_i|`` plus the same sum of the scores' changes under the rounding of the linear
        predictor (below): the gradient's rounding error is a small multiple of eps times this.
    value_scale : float
        ``sum_i f_i c_i |dl_i/dz_i| |x_i| |theta|``: the value's rounding error from its linear
        predictor, a small multiple of eps times this (beside eps times the value itself).

    ``z = x . theta`` is computed with an error up to a few eps times ``|x| . |theta|``, which is far
    above eps ``|z|`` when large terms cancel (an offset feature against the intercept: ``PSI + 1e4``
    with an intercept of -2e4). The value and gradient then carry that error times the loss's slope
    and curvature; a test of rounding relative to the value or to the scores alone would read it as
    a real change, and Newton's line search would wander among points equal up to rounding.
    """
    if sp.issparse(X):
        return _sparse_likelihood_terms(
            X,
            Y,
            theta,
            kind=kind,
            fit_intercept=fit_intercept,
            freq_weight=freq_weight,
            importance=importance,
            device=device,
            curvature=curvature,
            meat=meat,
        )
    K, d = theta.shape
    gradient = torch.zeros(K * d, dtype=torch.float64, device=device)
    gradient_scale = torch.zeros(K * d, dtype=torch.float64, device=device)
    hessian = torch.zeros(K * d, K * d, dtype=torch.float64, device=device) if curvature else None
    meat = torch.zeros(K * d, K * d, dtype=torch.float64, device=device) if meat else None
    value = torch.zeros((), dtype=torch.float64, device=device)
    value_scale = torch.zeros((), dtype=torch.float64, device=device)
    # Chunks of a quarter of the usual size: the per-chunk score matrices (n_rows x K * d, several at
    # once) stay small next to the Hessian, whose size bounds summary()'s memory.
    step = max(1, CHUNK_VALUES // (4 * K * d))
    for start in range(0, X.shape[0], step):
        rows = slice(start, start + step)
        Xc = _augmented(X[rows], fit_intercept, device)
        f = as_tensor(freq_weight[rows], torch.float64, device)
        c = as_tensor(importance[rows], torch.float64, device)
        Yc = as_tensor(Y[rows], torch.float64, device)
        X_abs = Xc.abs()
        chunk_value, chunk_scale, P, drift = _row_terms(Xc @ theta.T, X_abs @ theta.abs().T, Yc, f, c, kind)
        value += chunk_value
        value_scale += chunk_scale
        G = _outer_rows(c * (Yc - P), Xc)  # the scores
        gradient -= G.T @ f
        gradient_scale += G.abs().T @ f + _outer_rows(c * drift, X_abs).T @ f
        if meat is not None:
            meat.addmm_(G.T, f[:, None] * G)
        if hessian is None:
            continue
        weight = P if kind == "softmax" else P * (1 - P)
        for k in range(K):
            block = slice(k * d, (k + 1) * d)
            hessian[block, block].addmm_(Xc.T, (f * c[:, k] * weight[:, k])[:, None] * Xc)
        if kind == "softmax":  # the -p p^T part of the softmax curvature couples the classes
            U = _outer_rows(P, Xc)
            hessian.addmm_(U.T, (f * c[:, 0])[:, None] * U, alpha=-1)
    return LikelihoodTerms(float(value), gradient, hessian, meat, gradient_scale, float(value_scale))


def _row_terms(Z, Z_abs, Yc, f, c, kind):
    """A chunk of rows' share of :func:`likelihood_terms`' value and value scale, and the per-row ``(P, drift)`` its
    sums over ``X`` need, from the linear predictor ``Z`` and ``Z_abs = |X| |theta|^T``: the predictor's magnitude
    before cancellation, the scale of its rounding error, and the change of each score's residual under that error
    (softmax: ``|dP_k| <= P_k (|dz_k| + max_l |dz_l|)``). The dense and the sparse paths share it."""
    if kind == "softmax":
        P = torch.softmax(Z, dim=1)
        losses = torch.logsumexp(Z, dim=1) - (Z * Yc).sum(dim=1)
        value = (f * c[:, 0] * losses).sum()
        Z_abs_max = Z_abs.amax(dim=1)
        value_scale = (f * c[:, 0] * (Yc - P).abs().sum(dim=1) * Z_abs_max).sum()
        drift = P * (Z_abs + Z_abs_max[:, None])
    else:
        P = torch.sigmoid(Z)
        value = (f[:, None] * c * torch.nn.functional.binary_cross_entropy_with_logits(Z, Yc, reduction="none")).sum()
        value_scale = (f[:, None] * c * (Yc - P).abs() * Z_abs).sum()
        drift = P * (1 - P) * Z_abs
    return value, value_scale, P, drift


def _sparse_likelihood_terms(
    X, Y, theta, *, kind, fit_intercept, freq_weight, importance, device, curvature=True, meat=False
):
    """:func:`likelihood_terms` for a SciPy sparse ``X``: the same sums, from sparse products on the host.

    One pass over chunks of rows (:func:`_sparse_row_chunks`), as the dense path's: each chunk's per-row quantities
    in torch, then every sum over its rows that involves ``X`` as a sparse product in float64, whose cost follows
    the stored values: the gradient ``X^T (f r)``, and each block of the Hessian and of the scores' outer products a
    weighted Gram matrix of ``[1, X]`` (:func:`_add_sparse_gram`). No copy of ``X`` (a ``[1, X]``, ``|X|``, a CSC or
    a weighted copy per Gram matrix took 8 times X's memory) and no dense ``d x d`` temporary. Densified chunks of
    rows cost ``d^2`` a chunk of ``CHUNK_VALUES / d`` rows instead: a binary summary of 20k Zipf-distributed rows (10
    stored values a row) took 1.35 s with 1000 columns and 95 s with 5552, now 0.31 s and 11.7 s (2026-12-07, a
    quiet 2-core machine).
    """
    K, d = theta.shape
    X = canonical_csr(X)  # duplicates summed (|a + b|, not |a| + |b|, in the rounding scale), stored zeros dropped
    first = int(fit_intercept)  # the intercept's column in each block of d parameters
    th = theta.detach().cpu().numpy()
    W, W_abs = th[:, first:].T, np.abs(th[:, first:]).T
    gradient, gradient_scale = np.zeros((K, d)), np.zeros((K, d))
    value = value_scale = 0.0
    hessian = torch.zeros(K * d, K * d, dtype=torch.float64, device=device) if curvature else None
    outer = torch.zeros(K * d, K * d, dtype=torch.float64, device=device) if meat else None
    # Blocks on and above the diagonal: every one for the scores' outer products, and for the softmax Hessian (whose
    # classes are coupled); the diagonal ones for independent sigmoids.
    every = [(k, m) for k in range(K) for m in range(k, K)]
    coupled = every if kind == "softmax" else [(k, k) for k in range(K)]
    for start, stop, C in _sparse_row_chunks(X):
        C_abs = abs(C)
        Z, Z_abs = np.asarray(C @ W).reshape(-1, K), np.asarray(C_abs @ W_abs).reshape(-1, K)
        if fit_intercept:
            Z, Z_abs = Z + th[:, 0], Z_abs + np.abs(th[:, 0])
        f = torch.as_tensor(np.asarray(freq_weight[start:stop], dtype=np.float64))
        c = torch.as_tensor(np.asarray(importance[start:stop], dtype=np.float64)).reshape(-1, K)
        Yc = torch.as_tensor(np.asarray(Y[start:stop], dtype=np.float64)).reshape(-1, K)
        chunk_value, chunk_scale, P, drift = _row_terms(torch.from_numpy(Z), torch.from_numpy(Z_abs), Yc, f, c, kind)
        value += float(chunk_value)
        value_scale += float(chunk_scale)
        if kind == "softmax":
            # diag(p) - p p^T per row: block (k, k) p_k (1 - p_k) and (k, m) -p_k p_m, weighted by the row's loss
            # weight (its class weight: the same in every column, the dense path's c[:, 0])
            curvatures = {
                (k, m): f * c[:, 0] * (P[:, k] * (1 - P[:, k]) if k == m else -P[:, k] * P[:, m]) for k, m in coupled
            }
        else:
            curvatures = {(k, k): f * c[:, k] * P[:, k] * (1 - P[:, k]) for k in range(K)}
        R = c * (Yc - P)  # the scores are R[i, k] [1, x_i]
        weighted, bound = (f[:, None] * R).numpy(), (f[:, None] * (R.abs() + c * drift)).numpy()
        gradient[:, first:] -= (C.T @ weighted).T
        gradient_scale[:, first:] += (C_abs.T @ bound).T
        if fit_intercept:
            gradient[:, 0] -= weighted.sum(axis=0)
            gradient_scale[:, 0] += bound.sum(axis=0)
        for matrix, pairs in ((hessian, coupled), (outer, every)):
            for k, m in pairs if matrix is not None else ():
                v = curvatures[k, m] if matrix is hessian else f * R[:, k] * R[:, m]
                _add_sparse_gram(matrix[k * d : (k + 1) * d, m * d : (m + 1) * d], C, v.numpy(), fit_intercept)
    for matrix, pairs in ((hessian, coupled), (outer, every)):
        for k, m in pairs if matrix is not None else ():
            if k != m:  # the mirror of each block above the diagonal
                matrix[m * d : (m + 1) * d, k * d : (k + 1) * d] = matrix[k * d : (k + 1) * d, m * d : (m + 1) * d].T
    to_device = {"dtype": torch.float64, "device": device}
    return LikelihoodTerms(
        value,
        torch.as_tensor(gradient.reshape(-1), **to_device),
        hessian,
        outer,
        torch.as_tensor(gradient_scale.reshape(-1), **to_device),
        value_scale,
    )


def _sparse_row_chunks(X):
    """``(start, stop, chunk)``: consecutive rows of a CSR ``X`` as float64 CSR copies of those rows only, each of
    about ``CHUNK_VALUES`` stored values and with ``sum(row values ** 2)``, which bounds its Gram matrix's stored
    values, at most ``4 * CHUNK_VALUES`` (one row per chunk where a row alone exceeds either)."""
    counts = np.diff(X.indptr).astype(np.int64)
    values, squares = np.cumsum(counts), np.cumsum(counts * counts)
    start, n = 0, X.shape[0]
    while start < n:
        before = (values[start - 1], squares[start - 1]) if start else (0, 0)
        stop = min(
            np.searchsorted(values, before[0] + CHUNK_VALUES, side="right"),
            np.searchsorted(squares, before[1] + 4 * CHUNK_VALUES, side="right"),
        )
        stop = min(max(int(stop), start + 1), n)
        yield start, stop, X[start:stop].astype(np.float64, copy=False)
        start = stop


def _add_sparse_gram(out, C, v=None, with_ones=False):
    """``out += A^T diag(v) A`` for ``A = C`` or ``[1, C]`` (``with_ones``; ``v`` None: ones), ``C`` a CSR matrix (a
    chunk of rows, :func:`_sparse_row_chunks`).

    ``out`` is a float64 tensor (a view into a larger matrix is fine: it is written in place). The product is sparse;
    its stored values are added where they belong (``index_put_`` with accumulation), so the memory added is that
    product's, not a dense ``d x d`` matrix.
    """
    first = int(with_ones)
    v = np.ones(C.shape[0]) if v is None else np.asarray(v, dtype=np.float64)
    if with_ones:
        column = torch.as_tensor(np.asarray(C.T @ v, dtype=np.float64), device=out.device)
        out[0, 0] += float(v.sum())
        out[0, 1:] += column
        out[1:, 0] += column
    G = (C.T @ C.multiply(v[:, None]).tocsr()).tocoo()
    at = (
        torch.as_tensor(G.row.astype(np.int64) + first, device=out.device),
        torch.as_tensor(G.col.astype(np.int64) + first, device=out.device),
    )
    out.index_put_(at, torch.as_tensor(G.data, dtype=torch.float64, device=out.device), accumulate=True)


class LikelihoodTerms(NamedTuple):
    """What :func:`likelihood_terms` returns."""

    value: float
    gradient: torch.Tensor
    hessian: torch.Tensor | None
    meat: torch.Tensor | None
    gradient_scale: torch.Tensor
    value_scale: float = 0.0


class Factor:
    """The Cholesky factor of a Hessian, scaled to unit diagonal, and its reciprocal condition number.

    ``hessian`` is consumed: scaled and factored in place (no second matrix of its size), so the
    caller must not use it afterwards. ``null_space`` (columns) spans directions along which the
    objective is flat by construction (shifting every class of a multinomial model alike).
    Curvature added along them leaves ``A H^+ A^T`` unchanged for any ``A`` that vanishes on them,
    and gradients and scores are orthogonal to them. ``U`` (upper triangular, ``U^T U`` the scaled
    matrix) is None when the matrix is not positive definite or its reciprocal condition number is
    at most :data:`RCOND_LIMIT`.
    """

    def __init__(self, hessian, null_space=None):
        H = hessian
        n = len(H)
        if null_space is not None and null_space.shape[1]:
            # Each direction's curvature at the scale of the entries it spans (column j of every class): one
            # scale for all, the mean diagonal, gave a column of 1e8 curvature (age + 1e4) to columns of 1, and
            # the unit-diagonal scaling left the matrix "singular" (rcond 2.9e-16; statsmodels: 1.8e-10).
            curvature = (null_space * null_space).T @ torch.diagonal(H)
            H.addmm_(null_space * curvature, null_space.T)  # in place, no n x n temporary
        scale = torch.sqrt(torch.diagonal(H))
        self.U, self.scale, self.rcond = None, scale, 0.0
        # The sum is finite iff every entry is (or it overflows: refused too), without an n x n mask.
        self.overflowed = not bool(torch.isfinite(H.sum()))
        if self.overflowed or not bool(torch.all(scale > 0)):
            return
        H.div_(scale[:, None]).div_(scale[None, :])
        exact = torch.linalg.eigvalsh(H) if n <= EXACT_RCOND_MAX_PARAMS else None  # a transient copy
        # H is symmetric, so its transpose is the same matrix in column-major order, the order LAPACK
        # factors in place: an upper Cholesky factor of that view overwrites H without a copy.
        U = H.T
        info = torch.empty((), dtype=torch.int32, device=H.device)
        torch.linalg.cholesky_ex(U, upper=True, out=(U, info))
        if int(info) != 0:
            return  # not positive definite: singular
        self.U = U
        self.rcond = max(float(exact.min() / exact.max()), 0.0) if exact is not None else self._estimated_rcond()
        if not self.rcond > RCOND_LIMIT:
            self.U = None

    def _estimated_rcond(self):
        """lambda_min / lambda_max of the unit-diagonal matrix U^T U, by power and inverse iterations."""
        U = self.U
        n = len(U)
        # A fixed start vector (results don't depend on a random state), not orthogonal to anything special.
        start = 1 + torch.arange(n, dtype=U.dtype, device=U.device) / (3 * n)
        largest = smallest_inverse = start / torch.linalg.vector_norm(start)
        top = bottom = 0.0
        for _ in range(RCOND_ITERATIONS):
            y = U.T @ (U @ largest)
            top = float(torch.linalg.vector_norm(y))
            largest = y / top
            z = _cholesky_solve(U, smallest_inverse[:, None])[:, 0]
            bottom = float(torch.linalg.vector_norm(z))
            smallest_inverse = z / bottom
        if not (np.isfinite(top) and np.isfinite(bottom) and top > 0 and bottom > 0):
            return 0.0
        return 1 / (bottom * top)

    def solve(self, B):
        """``H^-1 B`` for ``B`` of shape (n,) or (n, m)."""
        vector = B.ndim == 1
        B = B[:, None] if vector else B
        scale = self.scale[:, None]
        out = _cholesky_solve(self.U, B / scale) / scale
        return out[:, 0] if vector else out


def _cholesky_solve(U, B):
    """``(U^T U)^-1 B`` by two triangular solves: unlike ``torch.cholesky_solve``, no copy of ``U`` is made."""
    return torch.linalg.solve_triangular(U, torch.linalg.solve_triangular(U.T, B, upper=False), upper=True)


def _finite(value, gradient):
    return np.isfinite(value) and bool(torch.all(torch.isfinite(gradient)))


class NewtonResult:
    """Where :func:`newton_refine` stopped: ``theta``, the factored Hessian there and why it stopped.

    ``status`` is "converged", "non_finite" (the objective is not finite at the start: ``factor``
    is None), "singular" (the Hessian is singular or ill-conditioned: ``factor.U`` is None),
    "no_decrease" (no finite trial along the Newton direction decreased the objective,
    although its predicted decrease is above float64's resolution) or "max_iter".
    """

    def __init__(self, theta, value, factor, status, iterations):
        self.theta, self.value, self.factor, self.status, self.iterations = theta, value, factor, status, iterations

    @property
    def converged(self):
        return self.status == "converged"


def _at_rounding_level(terms):
    return bool(torch.all(terms.gradient.abs() <= GRADIENT_RESOLUTION * terms.gradient_scale))


def _acceptable(trial, value, decrease):
    """A finite trial whose value is at most ``value - decrease``, up to the value's rounding error
    (relative to the value, and to its linear predictor's terms: ``LikelihoodTerms.value_scale``)."""
    rounding = VALUE_RESOLUTION * (abs(value) + trial.value_scale)
    return _finite(trial.value, trial.gradient) and trial.value <= value - decrease + rounding


def newton_refine(terms, theta, null_space=None, max_iter=NEWTON_MAX_ITER):
    """Damped Newton's method from ``theta`` on a convex objective ``terms(theta, curvature)``.

    ``terms`` returns :class:`LikelihoodTerms`. Stops (converged) when a step moves no parameter
    by more than ``NEWTON_STEP_RTOL * max(1, max |theta|)``, or when the gradient is at its rounding
    level (:data:`GRADIENT_RESOLUTION`); there the step is taken in full without a line search and
    Newton stops. Steps are otherwise backtracked to satisfy Armijo's test up to the value's
    rounding error. A trial with a non-finite value or gradient is a failed trial: the step is
    halved, and never accepted. Returns a :class:`NewtonResult`.
    """
    current = terms(theta, True)
    if not _finite(current.value, current.gradient):
        return NewtonResult(theta, current.value, None, "non_finite", 0)
    for iteration in range(max_iter):
        value, gradient, hessian = current.value, current.gradient, current.hessian
        at_rounding = _at_rounding_level(current)
        del current
        factor = Factor(hessian, null_space)
        del hessian
        if factor.U is None:
            return NewtonResult(theta, value, factor, "singular", iteration)
        flat_step = factor.solve(gradient)
        step = flat_step.reshape(theta.shape)
        decrement = float(gradient @ flat_step)  # g' H^-1 g >= 0: twice the predicted decrease
        if float(step.abs().max()) <= NEWTON_STEP_RTOL * max(1.0, float(theta.abs().max())):
            return NewtonResult(theta, value, factor, "converged", iteration)
        trial = terms(theta - step, True)  # with its curvature: a full step is the rule
        if at_rounding:
            # The step is rounding noise times H^-1: take it as a pure Newton step if it is
            # finite and does not raise the value beyond rounding, and stop.
            if not _acceptable(trial, value, 0.0):
                return NewtonResult(theta, value, factor, "converged", iteration)
            del factor  # one dense matrix at a time besides the new Hessian
            factor = Factor(trial.hessian, null_space)
            status = "converged" if factor.U is not None else "singular"
            return NewtonResult(theta - step, trial.value, factor, status, iteration + 1)
        t = 1.0
        while not _acceptable(trial, value, ARMIJO * t * decrement):
            t /= 2
            if t < MIN_STEP_FRACTION:
                return NewtonResult(theta, value, factor, "no_decrease", iteration)
            trial = terms(theta - t * step, False)
        del factor
        theta = theta - t * step
        current = trial if trial.hessian is not None else terms(theta, True)
        del trial
    factor = Factor(current.hessian, null_space)
    return NewtonResult(theta, current.value, factor, "max_iter", max_iter)


def parameter_variances(factor, *, cov_type, n_obs, contrasts, meat=None, block_columns=None, noise=False):
    """Variances of the reported parameters ``A theta``: the diagonal of ``A H^-1 A^T`` or of the sandwich.

    Parameters
    ----------
    factor : Factor
        The factored Hessian (``factor.U`` not None).
    cov_type : {"nonrobust", "HC0", "HC1"}
    n_obs : float
        Total frequency weight (for HC1's ``n / (n - k)``, ``k`` the number of reported parameters).
    contrasts : callable
        ``contrasts(rows)`` returns ``A[rows].T`` (dense, shape (n_params, len(rows))); ``A`` must
        vanish on the null space the factor was made with.
    meat : Tensor of shape (n_params, n_params), or None
        The scores' outer-product sum (robust types only).
    block_columns : int, optional
        Reported parameters handled at a time; by default about 1/16 of the parameters, so the
        blocks take a small fraction of the Hessian's memory.
    noise : bool
        Also return which variances are rounding noise.

    Returns
    -------
    variances : Tensor of shape (n_reported,)
    is_noise : bool Tensor of shape (n_reported,), only with ``noise``
        A sandwich variance ``v^T M v`` (``v = H^-1 a``, ``M`` positive semi-definite) is at most
        ``(|v|^T sqrt(diag M))^2`` (Cauchy-Schwarz: ``|M_jk| <= sqrt(M_jj M_kk)``); one below
        :data:`SANDWICH_NOISE` of that bound is what is left of cancelling terms. Never for ``nonrobust``
        (``a^T H^-1 a`` of a positive definite ``H`` cancels nothing).
    """
    n_reported = contrasts.n_reported
    n_params = len(factor.U)
    block = block_columns or max(64, -(-n_params // 16))
    parts, noisy = [], []
    spread = None if cov_type == "nonrobust" else meat.diagonal().clamp(min=0).sqrt()
    for start in range(0, n_reported, block):
        At = contrasts(range(start, min(start + block, n_reported)))
        V = factor.solve(At)  # H^-1 a_r, one column per reported parameter
        if cov_type == "nonrobust":
            parts.append((At * V).sum(dim=0))
            noisy.append(torch.zeros(V.shape[1], dtype=torch.bool, device=V.device))
        else:
            parts.append(((meat @ V) * V).sum(dim=0))
            noisy.append(parts[-1] <= SANDWICH_NOISE * (spread @ V.abs()) ** 2)
        del At, V
    variances = torch.cat(parts)
    if cov_type == "HC1":
        variances = variances * (n_obs / (n_obs - n_reported))
    return (variances, torch.cat(noisy)) if noise else variances


class Contrasts:
    """Columns of ``A^T`` on demand, ``A`` mapping parameters to the reported ones (never stored whole).

    Identity (every parameter reported) for binary and multi-label models; for a multinomial model
    with ``n_classes`` blocks of ``d``, the ``(K - 1) d`` differences from class 0's block.
    """

    def __init__(self, n_params, *, device, n_classes=None, d=None):
        self.n_params, self.device, self.n_classes, self.d = n_params, device, n_classes, d
        self.n_reported = n_params if n_classes is None else (n_classes - 1) * d

    def __call__(self, rows):
        rows = torch.as_tensor(list(rows), dtype=torch.long, device=self.device)
        At = torch.zeros(self.n_params, len(rows), dtype=torch.float64, device=self.device)
        columns = torch.arange(len(rows), device=self.device)
        if self.n_classes is None:
            At[rows, columns] = 1.0
        else:  # reported row (k - 1) d + j is theta[k, j] - theta[0, j]
            At[rows + self.d, columns] = 1.0
            At[rows % self.d, columns] = -1.0
        return At


def flat_directions(n_classes, d, *, flat_columns, device):
    """Unit directions adding the same amount to column ``j`` of every class block, ``j`` in ``flat_columns``.

    The multinomial differences from class 0 (:class:`Contrasts`) do not see them.
    """
    eye = torch.eye(d, dtype=torch.float64, device=device)
    shifts = torch.cat([eye] * n_classes, dim=0) / np.sqrt(n_classes)
    return shifts[:, list(flat_columns)]


def summary_memory_bytes(n_params, n_features=0):
    """Bytes of the dense float64 matrices :meth:`InferenceMixin.summary` holds at its peak: the Newton iterations'
    (:data:`PEAK_MATRICES` of ``n_params`` square: the parameters refined together, one label's for a multi-label
    model) or, after them, :func:`design_ranks`' (:data:`DESIGN_MATRICES` of ``n_features + 1`` square)."""
    return 8 * max(PEAK_MATRICES * n_params * n_params, DESIGN_MATRICES * (n_features + 1) ** 2)


def check_summary_memory(n_params, *, n_features, n_outputs, fit_intercept, device, per_label=False):
    """Refuse, before anything is allocated, a summary whose dense matrices would not fit in memory.

    ``n_params``: the parameters refined together (``per_label``: one label's, each label of a multi-label model
    being refined on its own). It counted only the Newton iterations' two matrices, and a multi-label model's labels
    as one: 20,000 x 4,000 sparse peaked at +929 MB against 256 MB counted (design_ranks' seven matrices, since
    four at most), and 60 labels of 601 parameters were refused as needing 20.8 GB."""
    needed = summary_memory_bytes(n_params, n_features)
    available = available_memory(device)
    if available is None or needed <= MEMORY_FRACTION * available:
        return
    outputs = f"{n_outputs} outputs (classes or labels)" if n_outputs > 1 else "1 output"
    size = max(n_params, n_features + 1)
    whose = f"each label's {n_params} parameters" if per_label else f"the model's {n_params} parameters"
    fewer = "" if per_label or n_outputs < 2 else " or fit fewer classes"
    raise ValueError(
        f"summary() needs dense {size} x {size} float64 matrices for {whose} "
        f"({n_features} features{' + intercept' if fit_intercept else ''}, {outputs}): "
        f"{format_bytes(needed)}, more than the {format_bytes(MEMORY_FRACTION * available)} it may use "
        f"({MEMORY_FRACTION:.0%} of the {format_bytes(available)} available on {device}). "
        f"Select fewer features (e.g. with sklearn.feature_selection){fewer}, and call summary() on that model."
    )


def statistics_table(coef, std_err, alpha):
    """Columns of :data:`COLUMNS` (Wald z tests against zero, normal intervals) as a 2-D array."""
    coef = np.asarray(coef, dtype=np.float64)
    std_err = np.asarray(std_err, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = coef / std_err
    half_width = norm.ppf(1 - alpha / 2) * std_err
    return np.column_stack([coef, std_err, z, 2 * norm.sf(np.abs(z)), coef - half_width, coef + half_width])


def model_statistics(neg_loglike, Y, freq_weight, importance, *, softmax, n_params, n_constants):
    """statsmodels' model statistics from the negative log-likelihood at the optimum.

    The null model has one intercept per output (statsmodels' ``llnull``): its optimum
    predicts the weighted share of each class (or label), with the same weights as the fit.
    ``n_params`` counts the reported parameters, ``n_constants`` the intercepts among them.
    """
    w = np.asarray(freq_weight, dtype=np.float64)[:, None] * np.asarray(importance, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    share = (w * Y).sum(axis=0) / w.sum(axis=0)
    # xlogy(w * Y, share), not w * xlogy(Y, share): a class (or label value) whose rows all weigh 0 has share 0,
    # and its rows' 0 * log(0) terms must be 0, as if the rows were dropped (they gave NaN and NumPy's warning).
    if softmax:
        llnull = float(np.sum(xlogy(w * Y, share)))
    else:
        llnull = float(np.sum(xlogy(w * Y, share) + xlogy(w * (1 - Y), 1 - share)))
    llf = -float(neg_loglike)
    nobs = float(np.sum(freq_weight))
    df_model = n_params - n_constants
    llr = 2 * (llf - llnull)
    return {
        "nobs": nobs,
        "llf": llf,
        "llnull": llnull,
        "prsquared": 1 - llf / llnull if llnull != 0 else np.nan,
        "llr": llr,
        "llr_pvalue": float(chi2.sf(llr, df_model)) if df_model > 0 else np.nan,
        "df_model": float(df_model),
        "df_resid": nobs - n_params,
        # statsmodels' information criteria, its parameters counted as df_model + the constants (n_params here)
        "aic": -2 * llf + 2 * n_params,
        "bic": -2 * llf + math.log(nobs) * n_params if nobs > 0 else np.nan,
    }


def warn_not_classical(C, cov_type):
    warn(
        f"C={C} is finite, so the L2 penalty enters the Hessian: these {cov_type} standard errors "
        "describe the penalised estimate and are not classical (biased towards zero, intervals not "
        "calibrated). Fit with C=np.inf for classical maximum-likelihood inference.",
        InferenceWarning,
    )


def warn_weights_below_parameters(nobs, n_params, n_rows):
    """Sample weights summing to fewer observations than parameters: read as frequencies, they were rescaled."""
    warn(
        f"sample_weight sums to {nobs:.6g} over {n_rows} rows, fewer observations than the {n_params} parameters "
        "(Df Residuals is negative): summary reads sample weights as frequencies (copies of rows, as statsmodels' "
        "GLM freq_weights), so the standard errors grow as the weights shrink (weights summing to 1: sqrt(n_rows) "
        "times those of unit weights). If the weights are not counts, rescale them to sum to the number of rows.",
        InferenceWarning,
    )


def warn_importance_weights(cov_type, source):
    """``class_weight`` / ``pos_weight`` are importance weights: likelihood-based figures read them as copies."""
    what = (
        "the nonrobust standard errors, p-values and intervals, and the model statistics (llf, llr, llr_pvalue, "
        "prsquared), read them as copies of the rows (statsmodels' GLM var_weights), so p-values are too small "
        "(a feature without effect, class weights 1:9, 200 rows: 12-39% of tests below 0.05). Use cov_type='HC0' "
        "or 'HC1', whose sandwich treats them as importance weights"
        if cov_type == "nonrobust"
        else f"the {cov_type} standard errors treat them as importance weights, but the model statistics (llf, llr, "
        "llr_pvalue, prsquared) are of the weighted likelihood and read them as copies of the rows"
    )
    warn(
        f"{source} scales the loss of some rows: {what}. For a likelihood-ratio test, fit without {source}.",
        InferenceWarning,
    )


def warn_far_from_optimum(moved, at_limit=True):
    """``at_limit``: the fit took ``max_iter`` iterations; else it stopped on ``tol`` (a converged fit on poorly
    conditioned data, rare categories say, can still be this far: more iterations would not move it), or
    ``partial_fit`` ran the epochs it was called for (the warning told such a model to lower ``tol``)."""
    if at_limit:
        reason = "the fit stopped at max_iter (see its ConvergenceWarning): refit with a larger max_iter"
    else:
        # (partial_fit tests no tol and leaves n_iter_ below max_iter: the model does not say which trained it)
        reason = (
            "if the fit converged by its tol, which on poorly conditioned data (rare categories, features on "
            "different scales) still leaves it this far, refit with a smaller tol (and dtype='float64'), or scale the "
            "features; if partial_fit trained it (it tests no tol), it ran only the epochs it was given: call "
            "partial_fit on more data"
        )
    warn(
        f"coef_ and intercept_ are up to {moved:.2g} standard errors away from the optimum of the objective on "
        f"these data and weights: {reason}; or these are not the data and sample_weight it was fitted on. This "
        "table reports the optimum; the model predicts with coef_.",
        InferenceWarning,
    )


def warn_no_optimum(subject=""):
    warn(
        f"{subject}Newton's method from the fitted parameters found no optimum in {NEWTON_MAX_ITER} iterations: the "
        "maximum-likelihood estimate may not exist (classes separated by a combination of the features), or "
        "features nearly collinear leave the log-likelihood flat to its rounding along some direction (drop or "
        "combine them). Standard errors, z, p-values and intervals are NaN.",
        InferenceWarning,
    )


def warn_perfect_prediction(subject=""):
    warn(
        f"{subject}Newton's method from the fitted parameters predicts every row with probability 1 of its class "
        f"(the log-likelihood 0 to within {PERFECT_PREDICTION:g} a row): the classes are separated by a combination "
        "of the features, so the maximum-likelihood estimate does not exist (statsmodels warns of perfect "
        "separation). Standard errors, z, p-values and intervals are NaN; the coefficients and the log-likelihood "
        "are the fit's.",
        InferenceWarning,
    )


def warn_no_decrease(subject=""):
    warn(
        f"{subject}Newton's method from the fitted parameters found no finite decrease of the objective along its "
        "step (the log-likelihood overflows or is not finite there): the optimum could not be located; this usually "
        "means the classes are separated by the features, so the maximum-likelihood estimate does not exist. "
        "Standard errors, z, p-values and intervals are NaN.",
        InferenceWarning,
    )


def warn_singular(rcond, subject="", hint=""):
    warn(
        f"{subject}The Hessian of the log-likelihood is singular or ill-conditioned (reciprocal condition number "
        f"{rcond:.1e} after scaling): the data may be separable, or features collinear or constant (or of an "
        "offset far above their spread, such as 1e5 + 0.1 z: centre them). "
        "Standard errors, z, p-values and intervals are NaN; the coefficients, the log-likelihood and the "
        f"statistics from it (LLR, pseudo R-squared) are the fit's, not a verified maximum.{hint}",
        InferenceWarning,
    )


def warn_overflowed(subject=""):
    """The Hessian's entries (weighted sums of products of features) overflowed float64: features beyond ~1e154."""
    warn(
        f"{subject}The Hessian of the log-likelihood overflowed float64 (its entries are weighted sums of products "
        "of features, which exceed 1.8e308 for features beyond about 1e154): standard errors, z, p-values and "
        "intervals are NaN. Divide such features by a power of ten: z and p-values do not change, and a "
        "coefficient and its standard error scale by that factor.",
        InferenceWarning,
    )


def constant_columns(X):
    """Positions of the columns holding one non-zero value in every row: a constant (statsmodels' ``k_constant``
    test, which ``sm.add_constant``'s column passes)."""
    if X.shape[0] == 0:
        return np.array([], dtype=np.intp)
    if sp.issparse(X):
        X = X.tocsc()
        full = np.diff(X.indptr) == X.shape[0]  # a stored value in every row (an explicit zero is not constant)
        low, high = X.min(axis=0).toarray().ravel(), X.max(axis=0).toarray().ravel()
        return np.flatnonzero(full & (low == high) & (low != 0))
    X = np.asarray(X)
    return np.flatnonzero((X.min(axis=0) == X.max(axis=0)) & (X[0] != 0))


# design_ranks counts full rank from a Cholesky factor where the estimated reciprocal condition number (1-norm)
# of the unit-diagonal Gram matrix is above this: its eigenvalues' ratio is then above 1e-8 (what the eigenvalue
# test asks) even if the estimate were 10x too optimistic, since 1 / cond_2 >= rcond_1.
_FULL_RANK_RCOND = 1e-6


def _clearly_full_rank(S):
    """Whether the unit-diagonal Gram matrix ``S`` has no eigenvalue at or below ``1e-8`` times its largest, told
    from a Cholesky factor and LAPACK's condition estimate (``d^3 / 3`` flops) instead of an eigendecomposition
    with vectors (about ``9 d^3``), which a design of thousands of columns waited for though every column
    counted. False is no verdict: the eigenvalues decide then. ``S`` is overwritten by its factor (no second
    matrix of its size: the caller builds it again where the eigenvalues must decide)."""
    if len(S) == 0:
        return True
    norm = _one_norm(S)
    # S.T: the same symmetric matrix in Fortran order, which LAPACK factors in place
    factor, info = scipy.linalg.lapack.dpotrf(S.T, lower=False, clean=True, overwrite_a=True)
    if info != 0:
        return False
    rcond, info = scipy.linalg.lapack.dpocon(factor, norm)
    return info == 0 and rcond > _FULL_RANK_RCOND


def _one_norm(S):
    """The 1-norm (largest absolute column sum) of ``S``, a block of columns at a time (``np.abs(S)`` whole: a
    temporary of ``S``'s size)."""
    step = max(1, CHUNK_VALUES // max(len(S), 1))
    return max(float(np.abs(S[:, start : start + step]).sum(axis=0).max()) for start in range(0, S.shape[1], step))


def _unit_diagonal(G, present, norms):
    """``G[present][:, present]`` with columns scaled to unit norm: one new matrix (no ``np.outer`` temporary)."""
    S = G.copy() if present.all() else G[np.ix_(present, present)]
    S /= norms[present][:, None]
    S /= norms[present][None, :]
    return S


def design_ranks(X):
    """Ranks of ``X`` and of ``[1, X]``, as statsmodels counts its ``exog``'s rank (``df_model``, ``df_resid``, the
    implicit constant): a column-pivoted QR's count of diagonal entries above ``|r_00| * k * eps``.

    The columns are divided by their largest absolute value (a chunk of rows at a time: no copy of ``X``; features
    of 1e200 would overflow a Gram matrix) and scaled to unit norm. The Gram matrix of those columns (``d + 1``
    square, sparse ``X`` too) gives the directions along which the design is large: an eigenvalue above 1e-8 of
    the largest is a singular value above 1e-4 of the largest, certainly counted. The Gram squares the condition
    number, so it cannot tell the other directions apart: a column that equals the sum of two others up to
    float32 rounding (relative singular value 1e-8) has full rank for statsmodels, and an exact sum has not. Those
    few directions are measured on ``X`` itself, one more pass over it (``X v`` for each such ``v``), against
    about statsmodels' tolerance (``k * eps``, the columns' largest norm being 1; see below).

    Memory: :data:`DESIGN_MATRICES` dense ``(d + 1)``-square float64 matrices at the peak (the Gram matrix of
    ``[1, X]``, whose lower block is ``X``'s, and the scaled one factored in place; LAPACK's workspace where the
    eigenvalues must decide). It held seven (a second Gram matrix, ``np.outer``, ``np.abs``, a separate factor,
    the eigenvectors beside the matrix): 20,000 x 4,000 sparse, +929 MB against the guard's 256 MB.
    """
    n, d = X.shape
    if n == 0:  # no rows (every weight 0): no rank, and no reduction over them
        return 0, 0
    sparse = sp.issparse(X)
    if sparse:
        X = X.tocsr()  # (a CSR X as it is: the chunks below are float64 copies of their rows only)
        if not X.has_canonical_format:
            X = X.copy()
            X.sum_duplicates()
        scale = np.zeros(d)
        for _, _, C in _sparse_row_chunks(X):
            if C.nnz:
                np.maximum(scale, abs(C).max(axis=0).toarray().ravel(), out=scale)
    else:
        X = np.asarray(X)
        scale = np.maximum(X.max(axis=0), -X.min(axis=0)).astype(np.float64)
    scale[scale == 0] = 1.0
    step = max(1, CHUNK_VALUES // max(d, 1))

    def blocks():
        if sparse:
            for _, _, C in _sparse_row_chunks(X):
                if np.may_share_memory(C.data, X.data):  # (SciPy's row slices copy; divided in place below)
                    C = C.copy()
                C.data /= scale[C.indices]  # divided, not multiplied by 1/scale: subnormal scales
                yield C
        else:
            for start in range(0, n, step):
                yield X[start : start + step] / scale  # float64

    augmented = np.zeros((d + 1, d + 1))  # the Gram matrix of [1, X]; X's is its lower block (a view)
    gram, sums = augmented[1:, 1:], np.zeros(d)
    for block in blocks():
        if sparse:  # sparse products, not a dense d x d per chunk of rows
            _add_sparse_gram(torch.from_numpy(gram), block)
        else:
            gram += block.T @ block
        sums += np.asarray(block.sum(axis=0), dtype=np.float64).ravel()
    augmented[0, 0] = float(n)
    augmented[0, 1:] = augmented[1:, 0] = sums

    def rank(G, with_ones):
        if G.size == 0:
            return 0
        diagonal = np.diag(G).copy()
        norms = np.sqrt(diagonal)
        norms[norms == 0] = 1.0  # a column of zeros stays one: measured below, no rank
        # Columns of zeros (a vocabulary word absent from these rows) are rank 0 and block-diagonal in S: the others
        # alone decide, and one such column no longer sends a design to the eigenvectors (5552 Zipf-distributed
        # columns, 15 of them empty).
        present = diagonal > 0
        if _clearly_full_rank(_unit_diagonal(G, present, norms)):
            return int(np.count_nonzero(present))
        everything = np.ones(len(G), dtype=bool)
        # S.T: Fortran order, its eigenvectors written in place ("evd" takes a workspace of two matrices of its size;
        # "evr" takes none, but took 17 s, against 1 s, on the clustered eigenvalues of 3,000 Zipf-distributed words)
        eigenvalues, vectors = scipy.linalg.eigh(
            _unit_diagonal(G, everything, norms).T, overwrite_a=True, check_finite=False, driver="evd"
        )
        small = eigenvalues <= 1e-8 * eigenvalues[-1]
        if not small.any():
            return len(G)
        V = vectors[:, small] / norms[:, None]  # the directions, in the scaled columns' coordinates
        del vectors
        squares = np.zeros((V.shape[1], V.shape[1]))  # (X v)^T (X v): its eigenvalues, those directions' squares
        for block in blocks():
            Y = block @ V[1:] + V[0] if with_ones else block @ V
            squares += Y.T @ Y
        singular = np.sqrt(np.clip(np.linalg.eigvalsh(squares), 0.0, None))
        # statsmodels' k * eps, times 4 sqrt(k): X v's own rounding (k terms a row, columns of unit norm) reaches
        # about k^1.5 * eps (an exact combination of spector's dummies and the constant, k = 5: 1.4e-15, 1.3 k eps).
        tolerance = 4 * len(G) ** 1.5 * np.finfo(np.float64).eps
        return int(np.count_nonzero(~small) + np.count_nonzero(singular > tolerance))

    return rank(gram, False), rank(augmented, True)


class InferenceMixin:
    """``summary``: the estimators' statistical inference (the estimators supply the targets)."""

    def summary(self, X, y, sample_weight=None, alpha=0.05, cov_type="nonrobust"):
        """Coefficients with standard errors, z statistics, p-values and confidence intervals.

        The covariance comes from the Hessian of the weighted log-likelihood at the
        optimum (closed form, in float64, on the model's device), for the data given,
        normally the training data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data the model was fitted on.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Its targets.
        sample_weight : array-like of shape (n_samples,), default=None
            The fit's sample weights, read as frequency weights (``sample_weight=k`` is
            ``k`` identical rows, as in ``fit``). Class weights and ``pos_weight`` scale
            each row's loss as in ``fit``.
        alpha : float, default=0.05
            The intervals cover ``1 - alpha``.
        cov_type : {"nonrobust", "HC0", "HC1"}, default="nonrobust"
            "nonrobust": the inverse Hessian. "HC0": the sandwich ``H^-1 (sum_i g_i
            g_i^T) H^-1`` (``g_i`` the score of sample ``i``), robust to a misspecified
            model. "HC1": HC0 times ``n / (n - k)``, ``n`` the (weighted) number of
            samples and ``k`` of reported parameters. As statsmodels defines them.

        Returns
        -------
        table : pandas.DataFrame
            Columns ``coef``, ``std_err``, ``z``, ``p_value``, ``ci_low``, ``ci_high``;
            one row per feature (named by ``feature_names_in_``, else ``x0``, ``x1``,
            ...) after a row ``intercept`` when ``fit_intercept``. Multinomial and
            multi-label models index rows by (class or label, feature).
            ``table.attrs`` holds the model statistics statsmodels reports:
            ``nobs`` (sum of sample weights), ``llf`` (log-likelihood at the optimum),
            ``llnull`` (of the intercept-only model, one intercept per output, as
            statsmodels' ``llnull``), ``prsquared`` (McFadden's ``1 - llf / llnull``),
            ``llr`` and ``llr_pvalue`` (likelihood-ratio test against the null model,
            chi-squared with ``df_model`` degrees of freedom), ``df_model`` (parameters
            of rank minus intercepts: the design's rank per output, as statsmodels
            counts it), ``df_resid`` (``nobs`` minus parameters of rank),
            ``converged`` (the Newton polish reached the optimum),
            ``model``, ``method``, ``cov_type`` and ``alpha``. Printing the table shows
            them above the coefficients, in statsmodels' layout, with p-values too
            small for a double shown as ``<5e-324`` rather than ``0``. A column or slice
            of the table is a plain DataFrame.

        Warns
        -----
        InferenceWarning
            When ``C`` is finite: the penalty enters the Hessian, so the figures describe
            the penalised estimate and are not classical standard errors. When the
            Hessian is singular or ill-conditioned (separable classes, collinear or
            constant features): the standard errors and everything derived from them
            are NaN rather than noise.

        Raises
        ------
        ValueError
            For a model with hidden layers, or an L1 / elastic-net penalty (no classical
            inference exists after L1 selection).
        ImportError
            When pandas is not installed.

        Notes
        -----
        A multinomial model has one block of parameters per class, but without a penalty
        only their differences are identified (adding the same vector to every class
        changes no probability). The table therefore reports, as statsmodels' ``MNLogit``
        does, each class ``k`` against the reference ``classes_[0]``: ``coef`` is
        ``coef_[k] - coef_[0]`` (likewise for intercepts), the log-odds of ``k`` against
        ``classes_[0]``. ``table.attrs["reference_class"]`` names it.

        The table is computed at the exact optimum of the fit's objective: starting from
        ``coef_`` and ``intercept_``, ``summary`` takes Newton steps in float64 until no
        parameter moves by more than 1e-10 (relative), so it agrees with statsmodels to
        about 1e-10 whatever the fit's ``dtype`` and ``tol``. ``table.attrs["refined_by"]``
        is the largest change, normally within the fit's tolerance; a change above 0.1
        standard error (a fit stopped at ``max_iter``) is warned about.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_breast_cancer
        >>> from torchlogit import TorchLogisticClassifier
        >>> X, y = load_breast_cancer(return_X_y=True, as_frame=True)
        >>> X = X[["mean radius", "mean texture"]]
        >>> clf = TorchLogisticClassifier(C=np.inf, dtype="float64", tol=1e-8).fit(X, y)
        >>> table = clf.summary(X, y)
        >>> table[["coef", "std_err"]].round(3)
                        coef  std_err
        feature
        intercept     19.849    1.774
        mean radius   -1.057    0.101
        mean texture  -0.218    0.037
        >>> round(table.attrs["prsquared"], 4), table.attrs["df_model"]
        (0.6126, 2.0)
        >>> print(table)
                              Logit Regression Results
        ===================================================================
        Model:               Logit   No. Observations:        569
        Method:                MLE   Df Residuals:            566
        Covariance Type: nonrobust   Df Model:                  2
        converged:            True   Pseudo R-squ.:        0.6126
        Conf. Int.:            95%   Log-Likelihood:      -145.56
                                     LL-Null:             -375.72
                                     LLR p-value:      1.105e-100
        ===================================================================
                         coef std_err         z   p_value   ci_low  ci_high
        feature
        intercept     19.8494  1.7739   11.1894  4.59e-29  16.3725  23.3263
        mean radius   -1.0571  0.1015  -10.4168  2.08e-25  -1.2560  -0.8582
        mean texture  -0.2181  0.0371   -5.8852  3.98e-09  -0.2908  -0.1455
        ===================================================================
        """
        check_is_fitted(self)
        settings = vars(self).get("_fit_settings")
        if settings is not None:
            # The model as fitted: C, l1_ratio, fit_intercept, class_weight (pos_weight) of its fit, whatever
            # set_params changed since (it changes the next fit). A shallow copy: the arrays are only read.
            fitted = copy.copy(self)
            del fitted._fit_settings
            vars(fitted).update(settings)
            return fitted.summary(X, y, sample_weight=sample_weight, alpha=alpha, cov_type=cov_type)
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("summary() returns a pandas DataFrame: install pandas (pip install pandas).") from None
        if not (isinstance(alpha, Real) and 0 < alpha < 1):
            raise ValueError(f"alpha must be a float strictly between 0 and 1; got {alpha!r}.")
        if cov_type not in ("nonrobust", "HC0", "HC1"):
            raise ValueError(f"cov_type must be one of 'nonrobust', 'HC0', 'HC1'; got {cov_type!r}.")
        if y is None:  # scikit-learn's words for a missing target
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        if "coef_" not in vars(self):
            raise ValueError("summary() needs a linear model; this one has hidden layers (hidden_layer_sizes).")
        penalised = np.isfinite(self.C)
        if penalised and self.l1_ratio > 0:
            raise ValueError(
                f"summary() is not available with an L1 / elastic-net penalty (l1_ratio={self.l1_ratio}, "
                f"C={self.C}): standard errors after L1 selection have no classical meaning. Fit with "
                "l1_ratio=0 (or C=np.inf)."
            )
        X, y, sample_weight = host_inputs(X, y, sample_weight)
        X = validate_data(self, X, reset=False, accept_sparse=ACCEPT_SPARSE, dtype=[np.float64, np.float32])
        if sp.issparse(X):
            # The likelihood terms slice rows: COO (and BSR/BSC tensors, read as COO) cannot.
            X = check_sparse_indices(X).tocsr()
        # The lengths the user passed, in scikit-learn's words: after the weights' default (ones) below, a short y
        # was reported against a sample_weight the user never gave ("[32, 10, 32]").
        given = () if sample_weight is None or isinstance(sample_weight, Number) else (sample_weight,)
        check_consistent_length(X, y, *given)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        with np.errstate(over="ignore"):
            n_obs = float(np.sum(sample_weight))
        if not np.isfinite(n_obs):  # NumPy's overflow warning, then a table of NaN (fit refuses such weights)
            raise ValueError(
                "The sample weights sum to inf, beyond float64's range: summary reads them as counts of repeated rows "
                "(frequency weights), whose total must be finite. Pass weights of a representable total."
            )
        Y, importance = self._summary_targets(X, y, sample_weight)
        if np.any(importance != 1):
            warn_importance_weights(cov_type, "class_weight" if self._kind != "multilabel" else "pos_weight")

        d = self.n_features_in_ + int(self.fit_intercept)
        softmax = self._kind == "multinomial"
        # The design as statsmodels would see it: a row of weight 0 is a row left out (weights are repeated rows).
        counted = np.asarray(sample_weight) > 0
        design = X if counted.all() else X[counted]
        constants = constant_columns(design)
        hint = ""
        if self.fit_intercept and len(constants):  # sm.add_constant's habit: a second intercept, a singular Hessian
            names = getattr(self, "feature_names_in_", None)
            named = [str(names[j]) if names is not None else f"x{j}" for j in constants[:5]]
            hint = (
                f" Column(s) {named} are constant, as the intercept is: drop them, or fit with fit_intercept=False "
                "(statsmodels' add_constant column is the model's intercept)."
            )
        # The model through the checks predict applies (a list, a binary model's 1-D coef_, a wrong shape: refused
        # in words, as predict refuses it; they reached NumPy's and torch's own errors here).
        ((W, b),) = self._fitted_layers(dense=True)
        n_outputs = W.shape[1]
        n_params = n_outputs * d
        contrasts_kw = dict(n_classes=n_outputs, d=d) if softmax else {}
        n_reported = (n_outputs - 1) * d if softmax else n_params
        # HC1's k: the parameters of one model; each label of a multi-label model is a Logit of its own (d of them).
        k = d if self._kind == "multilabel" else n_reported
        if cov_type == "HC1" and not n_obs > k:
            raise ValueError(
                f"cov_type='HC1' needs a total sample weight greater than the number of reported parameters "
                f"({k}{' per label' if self._kind == 'multilabel' else ''}): its small-sample factor n / (n - k) is "
                f"undefined or negative otherwise; got a total sample weight of {n_obs:g}. Use cov_type='HC0', or "
                "more data."
            )
        device = self._prediction_device()
        if device.type == "mps":  # no float64 there
            device = torch.device("cpu")
        multilabel = self._kind == "multilabel"
        check_summary_memory(
            d if multilabel else n_params,  # a multi-label model's labels are refined one at a time (below)
            n_features=self.n_features_in_,
            n_outputs=n_outputs,
            fit_intercept=self.fit_intercept,
            device=device,
            per_label=multilabel,
        )
        fitted = np.asarray(W, dtype=np.float64).T  # (n_outputs, n_features), the intercepts first where fitted
        if self.fit_intercept:
            fitted = np.column_stack([np.broadcast_to(np.asarray(b, dtype=np.float64), (n_outputs,)), fitted])
        fitted = torch.as_tensor(fitted, dtype=torch.float64, device=device)
        # The penalty's curvature: 1/C on every weight, none on the intercepts.
        ridge_all = torch.zeros(fitted.shape, dtype=torch.float64, device=device)
        if penalised:
            ridge_all[:, int(self.fit_intercept) :] = 1 / self.C
            warn_not_classical(self.C, cov_type)

        def unpenalised_terms(theta, curvature, meat=False, outputs=slice(None)):
            return likelihood_terms(
                X,
                Y[:, outputs],
                theta,
                kind="softmax" if softmax else "sigmoid",
                fit_intercept=self.fit_intercept,
                freq_weight=sample_weight,
                importance=importance[:, outputs],
                device=device,
                curvature=curvature,
                meat=meat,
            )

        def refine(outputs, subject=""):
            """``(theta, variances or None, converged)`` of the outputs ``outputs`` (a slice), refined together."""
            ridge = ridge_all[outputs].reshape(-1)

            def terms(theta, curvature, meat=False):
                out = unpenalised_terms(theta, curvature, meat, outputs)
                flat = theta.reshape(-1)
                if out.hessian is not None:
                    out.hessian.diagonal().add_(ridge)
                return out._replace(
                    value=out.value + 0.5 * float((ridge * flat * flat).sum()),
                    gradient=out.gradient + ridge * flat,
                    gradient_scale=out.gradient_scale + (ridge * flat).abs(),
                )

            start = fitted[outputs]
            null_space = None
            if softmax:
                # Shifting every class alike changes no probability, and the L2 penalty (1/C on every class alike)
                # does not couple that shift with the class differences: its optimum is the weights' class mean 0,
                # taken here, and the reported contrasts see neither it nor its curvature 1/C, which under a large
                # finite C (1e8 with 50,000 rows) made the Hessian "singular" and every standard error NaN.
                if penalised:
                    weights = slice(int(self.fit_intercept), None)
                    start = start.clone()
                    start[:, weights] -= start[:, weights].mean(dim=0)
                null_space = flat_directions(n_outputs, d, flat_columns=range(d), device=device)
            result = newton_refine(terms, start, null_space)
            counted_weight = float(np.sum(sample_weight * importance[:, outputs][:, 0]))
            if not penalised and result.converged and result.value <= PERFECT_PREDICTION * counted_weight:
                # Every row predicted with probability 1 of its class: Newton "converges" where the gradient and the
                # curvature have both vanished to rounding (a multinomial model of completely separated classes:
                # coefficients of 1800, standard errors of 2e6, converged=True, no warning), where statsmodels
                # reports perfect separation and NaN.
                warn_perfect_prediction(subject)
                return start, None, False
            variances = None
            if result.converged:
                meat = None if cov_type == "nonrobust" else terms(result.theta, False, meat=True).meat
                variances = parameter_variances(
                    result.factor,
                    cov_type=cov_type,
                    n_obs=n_obs,
                    contrasts=Contrasts(start.numel(), device=device, **contrasts_kw),
                    meat=meat,
                    noise=True,
                )
                del meat
            if variances is not None:
                return result.theta, variances, result.converged
            if result.status == "singular" and result.factor.overflowed:
                warn_overflowed(subject)
            elif result.status == "singular":
                warn_singular(result.factor.rcond, subject, hint)
            elif result.status == "max_iter":  # well-conditioned, yet Newton kept moving: no finite optimum
                warn_no_optimum(subject)
            else:
                warn_no_decrease(subject)
            return start, None, result.converged  # no maximum-likelihood estimate to polish towards: the fit's

        if self._kind == "multilabel":
            # Independent labels (a block-diagonal Hessian): each is refined alone, as a separate Logit on its
            # label, so that a label without an optimum (separated by the features, or constant) leaves NaN in
            # its own rows only.
            parts = []
            for j in range(n_outputs):  # a loop, not a comprehension: see _user_warnings
                values = np.unique(Y[counted, j])
                if len(values) < 2:  # the label's MLE does not exist: its intercept runs to -inf or +inf
                    label = host_classes(self)[j : j + 1].tolist()[0]
                    warn(
                        f"Label {j} ({label!r}) is {'always' if values[:1].tolist() == [1] else 'never'} on in y: "
                        "its maximum-likelihood estimate does not exist (the intercept runs to infinity). Its "
                        "standard errors, z, p-values and intervals are NaN; drop the label for inference.",
                        InferenceWarning,
                    )
                    parts.append((fitted[j : j + 1], None, False))
                    continue
                parts.append(refine(slice(j, j + 1), subject=f"Label {j}: "))
        else:
            parts = [refine(slice(None))]
        theta = torch.cat([part[0] for part in parts])
        converged = all(part[2] for part in parts)
        variances = None
        if any(part[1] is not None for part in parts):
            # (variances, which of them are noise) per part; NaN for a part without standard errors
            pairs = [
                part[1]
                if part[1] is not None
                else (
                    torch.full((part[0].numel(),), np.nan, dtype=torch.float64, device=device),
                    torch.zeros(part[0].numel(), dtype=torch.bool, device=device),
                )
                for part in parts
            ]
            variances = torch.cat([pair[0] for pair in pairs])
            noise = torch.cat([pair[1] for pair in pairs])
        coef = (theta[1:] - theta[0]) if softmax else theta  # multinomial: contrasts with classes_[0]
        before = (fitted[1:] - fitted[0]) if softmax else fitted
        shift = float((coef - before).abs().max())
        coef = coef.reshape(-1).cpu().numpy()
        std_err = np.full(len(coef), np.nan)
        if variances is not None:
            std_err = np.sqrt(np.clip(variances.cpu().numpy(), 0, None))
            # A standard error of 0 (a sandwich whose meat vanishes: a column of zeros under an L2 penalty, a
            # constant column beside the intercept), exactly or to its rounding, measures nothing: such a
            # parameter is left out of the distance, not divided by.
            measured = (std_err > 0) & ~noise.cpu().numpy()
            shift_in_se = np.abs(coef - before.reshape(-1).cpu().numpy())[measured] / std_err[measured]
            moved = float(shift_in_se.max(initial=0.0))
            if moved > 0.1:
                # n_iter_ is a tensor after a fit in array-API mode: np.max raised torch's TypeError there.
                at_limit = int(np.max(host_array(getattr(self, "n_iter_", np.zeros(1))))) >= self.max_iter
                warn_far_from_optimum(moved, at_limit=at_limit)
        table = self._summary_frame(pd, statistics_table(coef, std_err, alpha), cov_type=cov_type, alpha=alpha)
        table.attrs["refined_by"] = shift
        neg_loglike = unpenalised_terms(theta, False).value
        n_outputs = len(theta) - int(softmax)  # multinomial: K - 1 contrasts are reported
        rank, augmented_rank = design_ranks(design)
        # statsmodels counts the design's rank, not its columns: a column that is a combination of others
        # (x3 = x1 + x2, every level's dummy beside the intercept) adds no degree of freedom.
        n_params = n_outputs * (augmented_rank if self.fit_intercept else rank)
        table.attrs.update(
            model_statistics(
                neg_loglike,
                Y,
                sample_weight,
                importance,
                softmax=softmax,
                n_params=n_params,
                # A constant column, or columns that sum to one (every level's dummy), is the intercept of a model
                # fitted without one (statsmodels' k_constant, its implicit constant).
                n_constants=n_outputs * int(self.fit_intercept or len(constants) > 0 or rank == augmented_rank),
            ),
            converged=bool(converged),
            method="MLE" if not penalised else f"penalised MLE (L2, C={self.C:g})",
        )
        if table.attrs["df_resid"] < 0 <= len(Y) - n_params:
            warn_weights_below_parameters(table.attrs["nobs"], n_params, len(Y))
        return table

    def _summary_frame(self, pd, values, *, cov_type, alpha):
        names = getattr(self, "feature_names_in_", None)
        names = list(names) if names is not None else [f"x{j}" for j in range(self.n_features_in_)]
        if self.fit_intercept:
            # A feature may itself be called "intercept": then .loc["intercept"] would return two rows.
            label = "intercept"
            while label in names:
                label = "_" + label
            names = [label, *names]
        if self._kind == "binary":
            index = pd.Index(names, name="feature")
        elif self._kind == "multinomial":
            index = pd.MultiIndex.from_product([host_classes(self)[1:], names], names=["class", "feature"])
        else:
            index = pd.MultiIndex.from_product([host_classes(self), names], names=["label", "feature"])
        from ._summary_table import SummaryTable

        table = SummaryTable(values, index=index, columns=COLUMNS)
        model = {"binary": "Logit", "multinomial": "MNLogit"}.get(self._kind, "Multi-label Logit")
        table.attrs.update(model=model, cov_type=cov_type, alpha=alpha)
        if self._kind == "multinomial":
            table.attrs["reference_class"] = host_classes(self)[0]
        return table

    def _summary_targets(self, X, y, sample_weight):
        """(outcome matrix (n, K), loss weight of each row and output (n, K)) for :meth:`summary`."""
        y = column_or_1d(y, warn=True)  # as fit warns of a column vector (DataConversionWarning)
        check_consistent_length(X, y, sample_weight)
        classes = host_classes(self)
        try:
            position = np.searchsorted(classes, y).clip(0, len(classes) - 1)
        except TypeError:  # labels NumPy cannot order against classes_ (strings against numbers, None)
            raise ValueError(
                f"y holds labels of another type than the classes seen in fit ({classes.dtype}): {y[:3].tolist()}..."
            ) from None
        unseen = classes[position] != y
        if np.any(unseen):
            raise ValueError(f"y contains labels not seen in fit: {np.unique(y[unseen])[:10].tolist()}.")
        counted = position[np.asarray(sample_weight) > 0]  # rows of weight 0 count as absent, as in the fit
        if self._kind != "multilabel" and len(np.unique(counted)) < 2:
            # Every statistic would be degenerate (the null model fits perfectly: llnull 0, no optimum).
            among = "" if len(counted) == len(y) else " among the rows of positive sample_weight"
            only = repr(classes[counted[:1]].tolist()[0]) if len(counted) else "none"
            raise ValueError(
                f"summary() needs y with at least two classes{among}; got only {only} ({len(counted)} samples)."
            )
        absent = np.setdiff1d(np.arange(len(classes)), counted)
        if self._kind == "multinomial" and len(absent):
            # Its coefficients have no estimate (no optimum), and statsmodels' model of these data has no such class.
            raise ValueError(
                f"summary() needs every class of the model among the rows of positive sample_weight; class "
                f"{classes[absent[:1]].tolist()[0]!r} has none, so its coefficients have no estimate. Drop its rows "
                "and fit (and summarise) a model without it."
            )
        outputs = np.eye(len(classes))[position]
        if self._kind == "binary":
            outputs = outputs[:, 1:]
        row_weight = self._class_weight_rows(y, position, sample_weight)
        return outputs, np.repeat(row_weight[:, None], outputs.shape[1], axis=1)

    def _class_weight_rows(self, y, position, sample_weight):
        return np.ones(len(y))
