"""Standard errors of fitted linear logit models: Hessian, sandwich, and the summary table.

Pure functions of arrays (no estimator here), computed in torch float64 on the model's
device. The parameters of output ``k`` are laid out as one block ``[intercept, w_1..w_p]``
(the intercept only with ``fit_intercept``), blocks in output order.

Weights follow the fit's semantics: ``sample_weight`` counts repetitions (frequency
weights: ``sample_weight=k`` is ``k`` identical rows, as in ``fit``), while class weights
and ``pos_weight`` scale each row's loss (importance weights). So with integer sample
weights every figure equals the one statsmodels gives on the repeated rows.
"""

import warnings

import numpy as np
import scipy.sparse as sp
import torch
from scipy.stats import norm

from ._kernels import CHUNK_VALUES, as_tensor

# Reciprocal condition number (of the Hessian scaled to unit diagonal, so feature scales
# don't matter) under which standard errors are reported as NaN: below it, float64 leaves
# fewer than ~4 correct digits in the inverse.
RCOND_LIMIT = 1e-12
COLUMNS = ["coef", "std_err", "z", "p_value", "ci_low", "ci_high"]


class InferenceWarning(UserWarning):
    """Standard errors that are not classical, or could not be computed (NaN)."""


def _augmented(chunk, fit_intercept, device):
    if sp.issparse(chunk):
        chunk = chunk.toarray()  # one bounded chunk at a time; X itself is never densified
    X = as_tensor(chunk, torch.float64, device)
    if fit_intercept:
        X = torch.cat([torch.ones(len(X), 1, dtype=X.dtype, device=device), X], dim=1)
    return X


def _outer_rows(R, X):
    """Row ``i`` is the Kronecker product ``R[i] (x) X[i]``: shape (n, K * d)."""
    return (R[:, :, None] * X[:, None, :]).reshape(len(X), -1)


def hessian_and_meat(X, Y, theta, *, kind, fit_intercept, freq_weight, importance, device):
    """Hessian of the negative weighted log-likelihood, and the outer product of the scores.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n, p)
    Y : ndarray of shape (n, K)
        One-hot classes ("softmax") or 0/1 labels ("sigmoid", independent outputs).
    theta : ndarray of shape (K, d)
        Parameters, one row per output, ``[intercept, coefficients]``.
    kind : {"sigmoid", "softmax"}
    freq_weight : ndarray of shape (n,)
    importance : ndarray of shape (n, K)
        Loss weight of each row and output (1 when unweighted).

    Returns
    -------
    hessian, meat : torch.Tensor of shape (K * d, K * d), float64
        ``sum_i f_i H_i`` and ``sum_i f_i g_i g_i^T`` (``g_i`` the score of row ``i``).
    """
    K, d = theta.shape
    theta = as_tensor(theta, torch.float64, device)
    hessian = torch.zeros(K * d, K * d, dtype=torch.float64, device=device)
    meat = torch.zeros_like(hessian)
    step = max(1, CHUNK_VALUES // (K * d))
    for start in range(0, X.shape[0], step):
        rows = slice(start, start + step)
        Xc = _augmented(X[rows], fit_intercept, device)
        f = as_tensor(freq_weight[rows], torch.float64, device)
        c = as_tensor(importance[rows], torch.float64, device)
        Yc = as_tensor(Y[rows], torch.float64, device)
        Z = Xc @ theta.T
        P = torch.softmax(Z, dim=1) if kind == "softmax" else torch.sigmoid(Z)
        curvature = P if kind == "softmax" else P * (1 - P)
        for k in range(K):
            block = slice(k * d, (k + 1) * d)
            hessian[block, block] += Xc.T @ ((f * c[:, k] * curvature[:, k])[:, None] * Xc)
        if kind == "softmax":  # the -p p^T part of the softmax curvature couples the classes
            U = _outer_rows(P, Xc)
            hessian -= U.T @ ((f * c[:, 0])[:, None] * U)
        G = _outer_rows(c * (Yc - P), Xc)
        meat += G.T @ (f[:, None] * G)
    return hessian, meat


def parameter_covariance(hessian, meat, *, cov_type, n_obs, contrasts=None, null_space=None):
    """Covariance of the reported parameters ``A theta`` (``A`` = ``contrasts``, identity if None).

    ``null_space`` (columns) spans directions along which the objective is flat by
    construction (shifting every class of a multinomial model alike); ``contrasts``
    must vanish on them. Curvature is added along them, which leaves ``A H^+ A^T`` (and
    the sandwich, whose scores are orthogonal to them) unchanged.

    Returns
    -------
    cov : torch.Tensor, or None when the Hessian is singular or ill-conditioned
    rcond : float
        Reciprocal condition number of the unit-diagonal Hessian.
    """
    H = hessian
    if null_space is not None and null_space.shape[1]:
        H = H + (torch.diagonal(H).mean() * null_space) @ null_space.T
    scale = torch.sqrt(torch.diagonal(H))
    if not bool(torch.all(scale > 0)):
        return None, 0.0
    eigenvalues, vectors = torch.linalg.eigh(H / torch.outer(scale, scale))
    rcond = float(eigenvalues.min() / eigenvalues.max())
    if not rcond > RCOND_LIMIT:
        return None, max(rcond, 0.0)
    H_inv = (vectors / eigenvalues) @ vectors.T / torch.outer(scale, scale)
    cov = H_inv if cov_type == "nonrobust" else H_inv @ meat @ H_inv
    A = torch.eye(len(H), dtype=H.dtype, device=H.device) if contrasts is None else contrasts
    cov = A @ cov @ A.T
    if cov_type == "HC1":
        n_params = A.shape[0]
        if n_obs <= n_params:
            return None, rcond
        cov = cov * (n_obs / (n_obs - n_params))
    return cov, rcond


def reference_contrasts(n_classes, d, *, flat_columns, device):
    """``A`` mapping K class blocks to the K-1 differences from class 0, and the flat directions.

    A flat direction adds the same amount to column ``j`` of every class block, for each
    ``j`` in ``flat_columns``; the differences do not see it.
    """
    eye = torch.eye(d, dtype=torch.float64, device=device)
    A = torch.zeros((n_classes - 1) * d, n_classes * d, dtype=torch.float64, device=device)
    for k in range(1, n_classes):
        A[(k - 1) * d : k * d, :d] = -eye
        A[(k - 1) * d : k * d, k * d : (k + 1) * d] = eye
    shifts = torch.cat([eye] * n_classes, dim=0) / np.sqrt(n_classes)
    return A, shifts[:, list(flat_columns)]


def statistics_table(coef, std_err, alpha):
    """Columns of :data:`COLUMNS` (Wald z tests against zero, normal intervals) as a 2-D array."""
    coef = np.asarray(coef, dtype=np.float64)
    std_err = np.asarray(std_err, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = coef / std_err
    half_width = norm.ppf(1 - alpha / 2) * std_err
    return np.column_stack([coef, std_err, z, 2 * norm.sf(np.abs(z)), coef - half_width, coef + half_width])


def warn_not_classical(C, cov_type):
    warnings.warn(
        f"C={C} is finite, so the L2 penalty enters the Hessian: these {cov_type} standard errors "
        "describe the penalised estimate and are not classical (biased towards zero, intervals not "
        "calibrated). Fit with C=np.inf for classical maximum-likelihood inference.",
        InferenceWarning,
        stacklevel=3,
    )


def warn_singular(rcond):
    warnings.warn(
        f"The Hessian of the log-likelihood is singular or ill-conditioned (reciprocal condition number "
        f"{rcond:.1e} after scaling): the data may be separable, or features collinear or constant. "
        "Standard errors, z, p-values and intervals are NaN.",
        InferenceWarning,
        stacklevel=3,
    )
