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
from numbers import Real

import numpy as np
import scipy.sparse as sp
import torch
from scipy.stats import norm
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._kernels import ACCEPT_SPARSE, CHUNK_VALUES, as_tensor
from ._modules import LinearLogits

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


class InferenceMixin:
    """``summary``: the estimators' statistical inference (the estimators supply the targets)."""

    def summary(self, X, y, sample_weight=None, alpha=0.05, cov_type="nonrobust"):
        """Coefficients with standard errors, z statistics, p-values and confidence intervals.

        The covariance comes from the Hessian of the weighted log-likelihood at the
        fitted parameters (closed form, in float64, on the model's device), for the data
        given, normally the training data.

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

        The figures are evaluated at ``coef_`` and ``intercept_``, so they are as
        accurate as the fit: for agreement with statsmodels to many digits, fit with
        ``dtype="float64"`` and a small ``tol``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.datasets import load_breast_cancer
        >>> from torchlogit import TorchLogisticClassifier
        >>> X, y = load_breast_cancer(return_X_y=True, as_frame=True)
        >>> X = X[["mean radius", "mean texture"]]
        >>> clf = TorchLogisticClassifier(C=np.inf, dtype="float64", tol=1e-8).fit(X, y)
        >>> clf.summary(X, y)[["coef", "std_err", "p_value"]].round(3)
                        coef  std_err  p_value
        feature
        intercept     19.849    1.774      0.0
        mean radius   -1.057    0.101      0.0
        mean texture  -0.218    0.037      0.0
        """
        check_is_fitted(self)
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("summary() returns a pandas DataFrame: install pandas (pip install pandas).") from None
        if not (isinstance(alpha, Real) and 0 < alpha < 1):
            raise ValueError(f"alpha must be a float strictly between 0 and 1; got {alpha!r}.")
        if cov_type not in ("nonrobust", "HC0", "HC1"):
            raise ValueError(f"cov_type must be one of 'nonrobust', 'HC0', 'HC1'; got {cov_type!r}.")
        if not isinstance(self.net_.module_, LinearLogits):
            raise ValueError("summary() needs a linear model; this one has hidden layers (hidden_layer_sizes).")
        penalised = np.isfinite(self.C)
        if penalised and self.l1_ratio > 0:
            raise ValueError(
                f"summary() is not available with an L1 / elastic-net penalty (l1_ratio={self.l1_ratio}, "
                f"C={self.C}): standard errors after L1 selection have no classical meaning. Fit with "
                "l1_ratio=0 (or C=np.inf)."
            )
        X = validate_data(self, X, reset=False, accept_sparse=ACCEPT_SPARSE, dtype=[np.float64, np.float32])
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        Y, importance = self._summary_targets(X, y, sample_weight)

        d = self.n_features_in_ + int(self.fit_intercept)
        theta = np.column_stack([self.intercept_, self.coef_]) if self.fit_intercept else np.asarray(self.coef_)
        softmax = self._kind == "multinomial"
        device = next(self.net_.module_.parameters()).device
        if device.type == "mps":  # no float64 there
            device = torch.device("cpu")
        hessian, meat = hessian_and_meat(
            X,
            Y,
            theta,
            kind="softmax" if softmax else "sigmoid",
            fit_intercept=self.fit_intercept,
            freq_weight=sample_weight,
            importance=importance,
            device=device,
        )
        if penalised:
            penalty = np.tile(np.r_[np.zeros(int(self.fit_intercept)), np.ones(self.n_features_in_)], len(theta))
            hessian += torch.diag(torch.as_tensor(penalty / self.C, dtype=torch.float64, device=device))
            warn_not_classical(self.C, cov_type)
        contrasts = null_space = None
        coef = theta.astype(np.float64)
        if softmax:
            # Without a penalty, shifting every class alike changes nothing; with one, only
            # the unpenalised intercepts can shift.
            flat = range(d) if not penalised else range(int(self.fit_intercept))
            contrasts, null_space = reference_contrasts(len(theta), d, flat_columns=flat, device=device)
            coef = coef[1:] - coef[0]
        cov, rcond = parameter_covariance(
            hessian,
            meat,
            cov_type=cov_type,
            n_obs=float(sample_weight.sum()),
            contrasts=contrasts,
            null_space=null_space,
        )
        coef = coef.ravel()
        if cov is None:
            warn_singular(rcond)
            std_err = np.full(len(coef), np.nan)
        else:
            std_err = np.sqrt(np.clip(torch.diagonal(cov).cpu().numpy(), 0, None))
        return self._summary_frame(pd, statistics_table(coef, std_err, alpha), cov_type=cov_type, alpha=alpha)

    def _summary_frame(self, pd, values, *, cov_type, alpha):
        names = getattr(self, "feature_names_in_", None)
        names = list(names) if names is not None else [f"x{j}" for j in range(self.n_features_in_)]
        if self.fit_intercept:
            names = ["intercept", *names]
        if self._kind == "binary":
            index = pd.Index(names, name="feature")
        elif self._kind == "multinomial":
            index = pd.MultiIndex.from_product([self.classes_[1:], names], names=["class", "feature"])
        else:
            index = pd.MultiIndex.from_product([self.classes_, names], names=["label", "feature"])
        table = pd.DataFrame(values, index=index, columns=COLUMNS)
        table.attrs.update(cov_type=cov_type, alpha=alpha)
        if self._kind == "multinomial":
            table.attrs["reference_class"] = self.classes_[0]
        return table

    def _summary_targets(self, X, y, sample_weight):
        """(outcome matrix (n, K), loss weight of each row and output (n, K)) for :meth:`summary`."""
        y = column_or_1d(y)
        check_consistent_length(X, y, sample_weight)
        position = np.searchsorted(self.classes_, y).clip(0, len(self.classes_) - 1)
        unseen = self.classes_[position] != y
        if np.any(unseen):
            raise ValueError(f"y contains labels not seen in fit: {np.unique(y[unseen])[:10].tolist()}.")
        outputs = np.eye(len(self.classes_))[position]
        if self._kind == "binary":
            outputs = outputs[:, 1:]
        row_weight = self._class_weight_rows(y, position, sample_weight)
        return outputs, np.repeat(row_weight[:, None], outputs.shape[1], axis=1)

    def _class_weight_rows(self, y, position, sample_weight):
        return np.ones(len(y))
