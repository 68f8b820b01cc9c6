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
from scipy.special import xlogy
from scipy.stats import chi2, norm
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._kernels import ACCEPT_SPARSE, CHUNK_VALUES, as_tensor

# Reciprocal condition number (of the Hessian scaled to unit diagonal, so feature scales
# don't matter) under which standard errors are reported as NaN: below it, float64 leaves
# fewer than ~4 correct digits in the inverse.
RCOND_LIMIT = 1e-12
# Newton iterations polishing the fitted parameters; from within a fit's tolerance 2-4 suffice.
NEWTON_MAX_ITER = 50
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


def likelihood_terms(X, Y, theta, *, kind, fit_intercept, freq_weight, importance, device, curvature=True):
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
        Also form the Hessian and the score outer products (else they are None).

    Returns
    -------
    value : float
        ``sum_i f_i c_i l_i``.
    gradient : Tensor of shape (K * d,)
    hessian, meat : Tensor of shape (K * d, K * d), or None
        ``sum_i f_i H_i`` and ``sum_i f_i g_i g_i^T`` (``g_i`` the score of row ``i``).
    """
    K, d = theta.shape
    gradient = torch.zeros(K * d, dtype=torch.float64, device=device)
    hessian = torch.zeros(K * d, K * d, dtype=torch.float64, device=device) if curvature else None
    meat = torch.zeros_like(hessian) if curvature else None
    value = torch.zeros((), dtype=torch.float64, device=device)
    step = max(1, CHUNK_VALUES // (K * d))
    for start in range(0, X.shape[0], step):
        rows = slice(start, start + step)
        Xc = _augmented(X[rows], fit_intercept, device)
        f = as_tensor(freq_weight[rows], torch.float64, device)
        c = as_tensor(importance[rows], torch.float64, device)
        Yc = as_tensor(Y[rows], torch.float64, device)
        Z = Xc @ theta.T
        if kind == "softmax":
            P = torch.softmax(Z, dim=1)
            losses = torch.logsumexp(Z, dim=1) - (Z * Yc).sum(dim=1)
            value += (f * c[:, 0] * losses).sum()
        else:
            P = torch.sigmoid(Z)
            value += (
                f[:, None] * c * torch.nn.functional.binary_cross_entropy_with_logits(Z, Yc, reduction="none")
            ).sum()
        G = _outer_rows(c * (Yc - P), Xc)  # the scores
        gradient -= G.T @ f
        if not curvature:
            continue
        weight = P if kind == "softmax" else P * (1 - P)
        for k in range(K):
            block = slice(k * d, (k + 1) * d)
            hessian[block, block] += Xc.T @ ((f * c[:, k] * weight[:, k])[:, None] * Xc)
        if kind == "softmax":  # the -p p^T part of the softmax curvature couples the classes
            U = _outer_rows(P, Xc)
            hessian -= U.T @ ((f * c[:, 0])[:, None] * U)
        meat += G.T @ (f[:, None] * G)
    return float(value), gradient, hessian, meat


def scaled_inverse(hessian, null_space=None):
    """``(H + curvature along null_space)^-1`` and the reciprocal condition number of its unit-diagonal form.

    ``null_space`` (columns) spans directions along which the objective is flat by
    construction (shifting every class of a multinomial model alike). Curvature added
    along them leaves ``A H^+ A^T`` unchanged for any ``A`` that vanishes on them, and
    gradients and scores are orthogonal to them. The inverse is None when the
    reciprocal condition number is at most :data:`RCOND_LIMIT`.
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
    return (vectors / eigenvalues) @ vectors.T / torch.outer(scale, scale), rcond


def newton_refine(terms, theta, null_space=None, max_iter=NEWTON_MAX_ITER):
    """Newton's method with backtracking from ``theta`` on a convex objective ``terms(theta, curvature)``.

    ``terms`` returns (value, gradient, hessian, meat) as :func:`likelihood_terms` does.
    Returns ``(theta, terms at theta, rcond, converged)``; stops when a step moves no
    parameter by more than ``1e-10 * max(1, max |theta|)`` or no step decreases the
    value any more (the optimum, to float64 precision).
    """
    current = terms(theta, True)
    for _ in range(max_iter):
        value, gradient, hessian, _ = current
        inverse, rcond = scaled_inverse(hessian, null_space)
        if inverse is None:
            return theta, current, rcond, False
        step = (inverse @ gradient).reshape(theta.shape)
        if float(step.abs().max()) <= 1e-10 * max(1.0, float(theta.abs().max())):
            return theta, current, rcond, True
        decrease = float(gradient @ step.reshape(-1))
        # The full step is nearly always taken: evaluate it with its curvature, so that an
        # accepted step costs one pass over X. Shorter steps are tried by value only.
        t = 1.0
        trial = terms(theta - step, True)
        while trial[0] > value - 1e-4 * t * decrease:
            t /= 2
            if t <= 1e-10:
                return theta, current, rcond, True  # no decrease left to find
            trial = terms(theta - t * step, False)
        theta = theta - t * step
        current = trial if trial[2] is not None else terms(theta, True)
    return theta, current, scaled_inverse(current[2], null_space)[1], False


def parameter_covariance(hessian, meat, *, cov_type, n_obs, contrasts=None, null_space=None):
    """Covariance of the reported parameters ``A theta`` (``A`` = ``contrasts``, identity if None).

    ``contrasts`` must vanish on ``null_space`` (see :func:`scaled_inverse`).

    Returns
    -------
    cov : torch.Tensor, or None when the Hessian is singular or ill-conditioned
    rcond : float
        Reciprocal condition number of the unit-diagonal Hessian.
    """
    H_inv, rcond = scaled_inverse(hessian, null_space)
    if H_inv is None:
        return None, rcond
    cov = H_inv if cov_type == "nonrobust" else H_inv @ meat @ H_inv
    A = torch.eye(len(hessian), dtype=hessian.dtype, device=hessian.device) if contrasts is None else contrasts
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


def model_statistics(neg_loglike, Y, freq_weight, importance, *, softmax, n_params, n_constants):
    """statsmodels' model statistics from the negative log-likelihood at the optimum.

    The null model has one intercept per output (statsmodels' ``llnull``): its optimum
    predicts the weighted share of each class (or label), with the same weights as the fit.
    ``n_params`` counts the reported parameters, ``n_constants`` the intercepts among them.
    """
    w = np.asarray(freq_weight, dtype=np.float64)[:, None] * np.asarray(importance, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    share = (w * Y).sum(axis=0) / w.sum(axis=0)
    if softmax:
        llnull = float(np.sum(w * xlogy(Y, share)))
    else:
        llnull = float(np.sum(w * (xlogy(Y, share) + xlogy(1 - Y, 1 - share))))
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
    }


def warn_not_classical(C, cov_type):
    warnings.warn(
        f"C={C} is finite, so the L2 penalty enters the Hessian: these {cov_type} standard errors "
        "describe the penalised estimate and are not classical (biased towards zero, intervals not "
        "calibrated). Fit with C=np.inf for classical maximum-likelihood inference.",
        InferenceWarning,
        stacklevel=3,
    )


def warn_far_from_optimum(moved):
    warnings.warn(
        f"coef_ and intercept_ are up to {moved:.2g} standard errors away from the optimum of the objective "
        "(the fit stopped early: see its ConvergenceWarning, max_iter and tol). This table reports the optimum; "
        "the model predicts with coef_. Refit with a larger max_iter, or scaled features, to make them agree.",
        InferenceWarning,
        stacklevel=3,
    )


def warn_no_optimum():
    warnings.warn(
        f"Newton's method from the fitted parameters found no optimum in {NEWTON_MAX_ITER} iterations: the "
        "maximum-likelihood estimate may not exist (classes separated by a combination of the features). "
        "Standard errors, z, p-values and intervals are NaN.",
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
            chi-squared with ``df_model`` degrees of freedom), ``df_model`` (reported
            parameters minus intercepts), ``df_resid`` (``nobs`` minus reported
            parameters), ``converged`` (the Newton polish reached the optimum),
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
        Model:               Logit   No. Observations:       569
        Method:                MLE   Df Residuals:           566
        Covariance Type: nonrobust   Df Model:                 2
        converged:            True   Pseudo R-squ.:       0.6126
                                     Log-Likelihood:     -145.56
                                     LL-Null:            -375.72
                                     LLR p-value:      1.11e-100
        ===================================================================
                         coef std_err         z   p_value   ci_low  ci_high
        feature
        intercept     19.8494  1.7739   11.1894  4.59e-29  16.3725  23.3263
        mean radius   -1.0571  0.1015  -10.4168  2.08e-25  -1.2560  -0.8582
        mean texture  -0.2181  0.0371   -5.8852  3.98e-09  -0.2908  -0.1455
        ===================================================================
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
        if "coef_" not in vars(self):
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
        softmax = self._kind == "multinomial"
        device = self._prediction_device()
        if device.type == "mps":  # no float64 there
            device = torch.device("cpu")
        coef = self.coef_.toarray() if sp.issparse(self.coef_) else self.coef_  # after sparsify()
        fitted = np.column_stack([self.intercept_, coef]) if self.fit_intercept else np.asarray(coef)
        fitted = torch.as_tensor(fitted, dtype=torch.float64, device=device)
        # The penalty's curvature: 1/C on every weight, none on the intercepts.
        ridge = torch.zeros(fitted.shape, dtype=torch.float64, device=device)
        if penalised:
            ridge[:, int(self.fit_intercept) :] = 1 / self.C
            warn_not_classical(self.C, cov_type)
        ridge = ridge.reshape(-1)

        def terms(theta, curvature):
            value, gradient, hessian, meat = likelihood_terms(
                X,
                Y,
                theta,
                kind="softmax" if softmax else "sigmoid",
                fit_intercept=self.fit_intercept,
                freq_weight=sample_weight,
                importance=importance,
                device=device,
                curvature=curvature,
            )
            flat = theta.reshape(-1)
            value += 0.5 * float((ridge * flat * flat).sum())
            return value, gradient + ridge * flat, None if hessian is None else hessian + torch.diag(ridge), meat

        contrasts = null_space = None
        if softmax:
            # Without a penalty, shifting every class alike changes nothing; with one, only
            # the unpenalised intercepts can shift.
            flat_columns = range(d) if not penalised else range(int(self.fit_intercept))
            contrasts, null_space = reference_contrasts(len(fitted), d, flat_columns=flat_columns, device=device)
        theta, (_, _, hessian, meat), rcond, converged = newton_refine(terms, fitted, null_space)
        cov = None
        if converged:
            cov, rcond = parameter_covariance(
                hessian,
                meat,
                cov_type=cov_type,
                n_obs=float(sample_weight.sum()),
                contrasts=contrasts,
                null_space=null_space,
            )
        if cov is None:
            if rcond > RCOND_LIMIT:  # well-conditioned, yet Newton kept moving: no finite optimum
                warn_no_optimum()
            else:
                warn_singular(rcond)
            theta = fitted  # no maximum-likelihood estimate to polish towards: report the fit's
        coef = (theta[1:] - theta[0]) if softmax else theta  # multinomial: contrasts with classes_[0]
        before = (fitted[1:] - fitted[0]) if softmax else fitted
        shift = float((coef - before).abs().max())
        coef = coef.reshape(-1).cpu().numpy()
        std_err = np.full(len(coef), np.nan)
        if cov is not None:
            std_err = np.sqrt(np.clip(torch.diagonal(cov).cpu().numpy(), 0, None))
            moved = float(np.max(np.abs(coef - before.reshape(-1).cpu().numpy()) / std_err))
            if moved > 0.1:
                warn_far_from_optimum(moved)
        table = self._summary_frame(pd, statistics_table(coef, std_err, alpha), cov_type=cov_type, alpha=alpha)
        table.attrs["refined_by"] = shift
        neg_loglike = likelihood_terms(
            X,
            Y,
            theta,
            kind="softmax" if softmax else "sigmoid",
            fit_intercept=self.fit_intercept,
            freq_weight=sample_weight,
            importance=importance,
            device=device,
            curvature=False,
        )[0]
        n_outputs = len(theta) - int(softmax)  # multinomial: K - 1 contrasts are reported
        table.attrs.update(
            model_statistics(
                neg_loglike,
                Y,
                sample_weight,
                importance,
                softmax=softmax,
                n_params=len(coef),
                n_constants=n_outputs * int(self.fit_intercept),
            ),
            converged=bool(converged),
            method="MLE" if not penalised else f"penalised MLE (L2, C={self.C:g})",
        )
        return table

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
        from ._summary_table import SummaryTable

        table = SummaryTable(values, index=index, columns=COLUMNS)
        model = {"binary": "Logit", "multinomial": "MNLogit"}.get(self._kind, "Multi-label Logit")
        table.attrs.update(model=model, cov_type=cov_type, alpha=alpha)
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
