"""Plumbing shared by the torchlogit estimators.

Validation constants, device/dtype resolution, building and running the skorch net,
prediction in bounded-memory chunks, and the guarantee that a failed ``fit`` leaves a
fitted estimator as it was. Subclasses validate their own targets and turn the fitted
module into their public attributes.
"""

import copy
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import _check_partial_fit_first_call, check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._callbacks import L1Proximal, LBFGSConvergence, NoImprovementStopping, ValidationLoss
from ._dask import fit_dask, is_dask_array, is_dask_collection, worker_thread_share
from ._devices import DTYPES, check_device_name, resolve_device
from ._inference import (
    COLUMNS,
    hessian_and_meat,
    parameter_covariance,
    reference_contrasts,
    statistics_table,
    warn_not_classical,
    warn_singular,
)
from ._kernels import CHUNK_VALUES, as_tensor, sparse_tensor, to_device
from ._modules import LinearLogits
from ._net import LogitNet, TensorData
from ._objective import RegularizedLogLoss, l1_strength
from ._persistence import load as load_model
from ._persistence import save as save_model
from ._rows import canonical_rows
from ._solvers import LBFGS

# Sparse formats taken as they are (others are converted to CSR by validate_data).
ACCEPT_SPARSE = ["csr", "csc", "coo"]
# L-BFGS history: SciPy's default, which scikit-learn uses.
_LBFGS_HISTORY = 10
# Max line-search evaluations per L-BFGS iteration; scikit-learn passes maxls=50.
_LBFGS_MAX_EVAL = 50

_LBFGS_WARNING = (
    "lbfgs failed to converge after {n_iter} iteration(s) (status=1):\n"
    "STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT\n\n"
    "Increase the number of iterations to improve the convergence (max_iter={max_iter}).\n"
    "You might also want to scale the data as shown in:\n"
    "    https://scikit-learn.org/stable/modules/preprocessing.html"
)
_STOCHASTIC_WARNING = (
    "Stochastic Optimizer: Maximum iterations ({max_iter}) reached and the optimization hasn't converged yet."
)


def ftol_for(dtype):
    """Relative objective decrease under which L-BFGS has stalled at this precision.

    scikit-learn uses ``64 * eps`` of float64. In float32 the logits carry ~1e-7
    relative error, so decreases below a few float32 ulps are noise.
    """
    return 64 * np.finfo(np.float64).eps if dtype == torch.float64 else 8 * np.finfo(np.float32).eps


@dataclass
class Targets:
    """What a subclass's target validation hands to the shared fit."""

    kind: str  # "binary", "multinomial" or "multilabel"
    target: np.ndarray  # encoded for ``kind``
    classes: np.ndarray
    n_outputs: int
    row_factor: np.ndarray | None = None  # per-row weight factor (class weights)
    pos_weight: np.ndarray | None = None
    stratify: np.ndarray | None = None  # labels to stratify a validation split on


def encode_labels(y):
    """1-D class labels -> Targets for a binary (one logit) or multinomial model."""
    check_classification_targets(y)
    classes, encoded = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            "This solver needs samples of at least 2 classes in the data, but the "
            f"data contains only one class: {classes[0]!r}"
        )
    binary = len(classes) == 2
    return Targets(
        kind="binary" if binary else "multinomial",
        target=encoded,
        classes=classes,
        n_outputs=1 if binary else len(classes),
        stratify=encoded,
    )


def encode_partial_labels(estimator, y, classes):
    """Targets for one partial_fit call on 1-D labels, with SGDClassifier's contract on ``classes``."""
    check_classification_targets(y)
    if _check_partial_fit_first_call(estimator, classes) and len(estimator.classes_) < 2:
        raise ValueError(f"classes must hold at least 2 classes; got {estimator.classes_!r}.")
    classes = estimator.classes_
    position = np.searchsorted(classes, y).clip(0, len(classes) - 1)
    unknown = classes[position] != y
    if np.any(unknown):
        raise ValueError(
            f"y contains labels that are not in classes ({classes.tolist()}): {np.unique(y[unknown])[:10].tolist()}."
        )
    binary = len(classes) == 2
    return Targets(
        kind="binary" if binary else "multinomial",
        target=position,
        classes=classes,
        n_outputs=1 if binary else len(classes),
    )


def load_warm_start(module, state):
    """Load the previous fit's parameters, or say clearly why the new model cannot take them."""
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state.items()}
    if expected != found:
        raise ValueError(
            "warm_start=True cannot continue from the previous fit: the model's structure changed "
            f"(previous parameters {found}, now {expected}). Set warm_start=False to start afresh."
        )
    module.load_state_dict(state)


def _pos_weight_tensor(targets, dtype, device):
    if targets.pos_weight is None:
        return None
    return torch.as_tensor(targets.pos_weight, dtype=dtype, device=device)


@contextmanager
def keep_state_on_failure(estimator):
    """Restore every attribute of ``estimator`` if the block raises (a failed fit changes nothing)."""
    saved = dict(vars(estimator))
    try:
        yield
    except BaseException:
        vars(estimator).clear()
        vars(estimator).update(saved)
        raise


class BaseTorchClassifier(ClassifierMixin, BaseEstimator):
    """Shared parameters, fitting and prediction of the torchlogit classifiers."""

    _parameter_constraints: dict = {
        "C": [Interval(Real, 0, None, closed="right")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"lbfgs", "adam", "sgd"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "device": [str, torch.device],
        "dtype": [StrOptions(set(DTYPES))],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, None],
    }

    # ----------------------------------------------------------------- fitting
    def _fit(self, X, y, sample_weight):
        """The shared ``fit``: validate, train, then publish the fitted attributes all at once."""
        if is_dask_collection(X) or is_dask_collection(y):
            return self._fit_dask(X, y, sample_weight)
        with keep_state_on_failure(self), worker_thread_share():
            device, dtype = self._check_solver_options()
            X, y = self._validate_fit_data(X, y)
            if sp.issparse(X):
                X = X.tocsr()  # row access for canonical rows and the device copy
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
            targets = self._targets(y, sample_weight)
            module, module_kwargs = self._module(X.shape[1], targets.n_outputs)
            init_state = self._warm_start_state(targets.classes, X.shape[1])
            self.net_ = self._train(
                X,
                targets,
                sample_weight,
                module=module,
                module_kwargs=module_kwargs,
                device=device,
                dtype=dtype,
                init_state=init_state,
            )
            self.classes_ = targets.classes
            self._kind = targets.kind
            self._n_outputs = targets.n_outputs
            self._incremental = False
            self.n_iter_ = np.asarray([len(self.net_.history)], dtype=np.int32)
            self._set_model_attributes()
        return self

    def _fit_dask(self, X, y, sample_weight):
        """``fit`` on dask arrays: L-BFGS whose evaluations run on the dask workers (see ``_dask``)."""
        if not is_dask_array(X):
            raise TypeError(
                f"X is a {type(X).__module__}.{type(X).__name__}; fit takes dask arrays: convert a dask "
                "DataFrame with X.to_dask_array(lengths=True) (and y likewise)."
            )
        with keep_state_on_failure(self):
            _, dtype = self._check_solver_options(here=False)
            if self._solver() != "lbfgs" or self._module(1, 1)[0] is not LinearLogits:
                raise ValueError(
                    "fit on a dask array trains a linear model with full-batch L-BFGS (solver='lbfgs'); for "
                    "'adam' / 'sgd' or hidden layers, train block by block with "
                    "dask_ml.wrappers.Incremental(estimator).fit(X, y, classes=...), which calls partial_fit."
                )
            net, targets = fit_dask(self, X, y, sample_weight, dtype=dtype)
            self.net_ = net
            self.n_features_in_ = X.shape[1]
            self.__dict__.pop("feature_names_in_", None)
            self.classes_ = targets.classes
            self._kind = targets.kind
            self._n_outputs = targets.n_outputs
            self._incremental = False
            self.n_iter_ = np.asarray([len(net.history)], dtype=np.int32)
            self._set_model_attributes()
        return self

    def _train_remote(self, data, targets, weight_sum, *, n_features, dtype):
        """Train a linear net on data held by dask workers; the parameters live on this machine's CPU."""
        stopping = self._stopping_rule(dtype, validated=False)
        user_callbacks = copy.deepcopy(self.callbacks) if self.callbacks else []
        module, module_kwargs = self._module(n_features, targets.n_outputs)
        net = self._make_net(
            module,
            module_kwargs,
            torch.device("cpu"),
            dtype,
            kind=targets.kind,
            weight_sum=weight_sum,
            n_samples=len(data),
            callbacks=[*user_callbacks, ("stopping", stopping)],
        )
        net.initialize()
        net.partial_fit(data)
        self._warn_if_not_converged(stopping, net)
        return net

    def _warn_if_not_converged(self, stopping, net):
        if not stopping.converged_:
            template = _LBFGS_WARNING if self._solver() == "lbfgs" else _STOCHASTIC_WARNING
            message = template.format(n_iter=len(net.history), max_iter=self.max_iter)
            warnings.warn(message, ConvergenceWarning, stacklevel=3)

    def _validate_fit_data(self, X, y, reset=True):
        return validate_data(self, X, y, reset=reset, accept_sparse=ACCEPT_SPARSE, dtype=[np.float64, np.float32])

    def _solver(self):
        return self.solver

    def _warm_start_state(self, classes, n_features):
        if not (self.warm_start and hasattr(self, "net_")):
            return None
        if not np.array_equal(classes, self.classes_):
            raise ValueError(
                "warm_start can only be used where `y` has the same classes as in the "
                f"previous call to fit. Previously got {self.classes_}, `y` has {classes}."
            )
        if n_features != self.n_features_in_:
            raise ValueError(
                f"warm_start needs the same features as the previous fit: it had "
                f"{self.n_features_in_}, X has {n_features}."
            )
        return self.net_.module_.state_dict()

    def _check_solver_options(self, here=True):
        """Checks that depend on several parameters; run before any data work.

        ``here=False``: the device is used elsewhere (on dask workers), so only its name
        is checked; this machine need not have it.
        """
        if here:
            device = resolve_device(self.device, owner=type(self).__name__)
        else:
            device = check_device_name(self.device, owner=type(self).__name__)
        if str(device).startswith("mps") and self.dtype == "float64":
            raise ValueError("dtype='float64' is not supported on device='mps' (MPS computes in float32 at most).")
        return device, DTYPES[self.dtype]

    def _optimizer(self, n_samples):
        """(optimizer class, learning rate, batch size, optimizer kwargs) for ``self.solver``."""
        solver = self._solver()
        if solver == "lbfgs":
            kwargs = dict(history_size=_LBFGS_HISTORY, max_ls=_LBFGS_MAX_EVAL)
            return LBFGS, 1.0, n_samples, kwargs
        batch_size = min(200, n_samples) if self.batch_size == "auto" else min(self.batch_size, n_samples)
        if solver == "adam":
            return torch.optim.Adam, self.learning_rate_init, batch_size, {}
        return torch.optim.SGD, self.learning_rate_init, batch_size, {"momentum": self.momentum}

    def _stopping_rule(self, dtype, validated):
        if self._solver() == "lbfgs":
            return LBFGSConvergence(tol=self.tol, ftol=ftol_for(dtype))
        if validated:
            return NoImprovementStopping(
                tol=self.tol, n_iter_no_change=self.n_iter_no_change, monitor="valid_loss", restore_best=True
            )
        return NoImprovementStopping(tol=self.tol, n_iter_no_change=self.n_iter_no_change)

    def _validation_split(self, rows, targets):
        """Positions (into ``rows``) of the training and validation rows, or (all, None)."""
        if not (getattr(self, "early_stopping", False) and self._solver() != "lbfgs"):
            return np.arange(len(rows)), None
        stratify = None if targets.stratify is None else targets.stratify[rows]
        try:
            return train_test_split(
                np.arange(len(rows)),
                test_size=self.validation_fraction,
                random_state=check_random_state(self.random_state).randint(np.iinfo(np.int32).max),
                stratify=stratify,
            )
        except ValueError as exc:
            raise ValueError(
                f"early_stopping could not hold out validation_fraction={self.validation_fraction} "
                f"of {len(rows)} distinct training rows: {exc}"
            ) from None

    def _train(self, X, targets, sample_weight, *, module, module_kwargs, device, dtype, init_state=None):
        """Build the skorch net, train it on ``X`` and return it (nothing is stored on ``self``).

        Training uses the canonical rows of :func:`canonical_rows`; the per-row factor of
        ``targets`` (class weights) is applied after merging so that weight sums stay
        exact. ``init_state`` is a module ``state_dict`` to start from (warm start).
        """
        rows, sample_weight = canonical_rows(X, targets.target, sample_weight)
        if targets.row_factor is not None:
            sample_weight = sample_weight * targets.row_factor[rows]
        train, valid = self._validation_split(rows, targets)
        n_samples = len(train)
        batch_size = self._optimizer(n_samples)[2]
        stopping = self._stopping_rule(dtype, validated=valid is not None)
        user_callbacks = copy.deepcopy(self.callbacks) if self.callbacks else []
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        pos_weight = _pos_weight_tensor(targets, dtype, device)

        data = self._tensor_data(X, targets, rows[train], sample_weight[train], dtype, device, batch_size)
        # Stopping last, so user callbacks see every epoch, the final one included.
        callbacks = [*user_callbacks, ("stopping", stopping)]
        weight_sum = float(np.sum(sample_weight[train]))
        if l1_strength(self.C, self.l1_ratio, weight_sum) > 0 and self._solver() != "lbfgs":
            callbacks.insert(0, ("l1_proximal", L1Proximal()))
        if valid is not None:
            held_out = self._tensor_data(X, targets, rows[valid], sample_weight[valid], dtype, device, batch_size)
            callbacks.insert(0, ("valid_loss", ValidationLoss(held_out, targets.kind, pos_weight)))
        net = self._make_net(
            module,
            module_kwargs,
            device,
            dtype,
            kind=targets.kind,
            weight_sum=weight_sum,
            n_samples=n_samples,
            pos_weight=pos_weight,
            callbacks=callbacks,
            seed=seed,
        )
        cuda = [device] if device.type == "cuda" else []
        # Hidden-layer initialisation and dropout draw from torch's global RNG: seed it,
        # without touching the user's RNG state. A zero-initialised linear model draws
        # nothing (mini-batches are shuffled by their own generator), so skip the cost.
        random_init = module is not LinearLogits
        with torch.random.fork_rng(devices=cuda, enabled=random_init):
            if random_init:
                torch.manual_seed(seed)
            net.initialize()
            if init_state is not None:
                load_warm_start(net.module_, init_state)
            net.partial_fit(data)
        self._warn_if_not_converged(stopping, net)
        return net

    @staticmethod
    def _tensor_data(X, targets, picked, weight, dtype, device, batch_size):
        """Rows ``picked`` of the training data (with their merged weights) as tensors on the device."""
        host = None
        if sp.issparse(X):
            selected = X[picked]  # the rows, gathered once, in canonical order
            features = sparse_tensor(selected, dtype, device)
            if batch_size < len(picked):  # sparse mini-batches are cut from this host copy
                host = selected
        else:
            features = to_device(X, picked, dtype, device)
        target_dtype = torch.int64 if targets.kind == "multinomial" else dtype
        return TensorData(
            features,
            as_tensor(targets.target[picked], target_dtype, device),
            as_tensor(weight, dtype, device),
            host=host,
        )

    # ------------------------------------------------------ incremental fitting
    def _check_partial_fit(self):
        """``available_if`` test: partial_fit exists for the mini-batch solvers only (as in MLPClassifier)."""
        if self._solver() not in ("adam", "sgd"):
            raise AttributeError(
                f"partial_fit is only available for the mini-batch solvers 'adam' and 'sgd'; this "
                f"{type(self).__name__} uses solver={self._solver()!r}."
            )
        return True

    def _partial_fit(self, X, y, classes, sample_weight):
        """One epoch of the mini-batch solver over ``(X, y)``, continuing the previous calls."""
        with keep_state_on_failure(self), worker_thread_share():
            device, dtype = self._check_solver_options()
            first_call = not hasattr(self, "classes_")
            X, y = self._validate_fit_data(X, y, reset=first_call)
            if sp.issparse(X):
                X = X.tocsr()
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
            targets = self._partial_targets(y, classes, sample_weight)
            rows, sample_weight = canonical_rows(X, targets.target, sample_weight)
            if targets.row_factor is not None:
                sample_weight = sample_weight * targets.row_factor[rows]
            if not np.any(sample_weight > 0):
                raise ValueError("The sample weights of this batch are all zero.")
            batch_size = self._optimizer(len(rows))[2]
            data = self._tensor_data(X, targets, rows, sample_weight, dtype, device, batch_size)
            pos_weight = _pos_weight_tensor(targets, dtype, device)
            net = getattr(self, "net_", None)
            if net is None or not getattr(self, "_incremental", False):
                net = self._incremental_net(X.shape[1], targets, device, dtype, pos_weight)
            # The objective of this call is that of a fit on this batch: its weight sum sets
            # the scale of the penalty (see the partial_fit docstring).
            net.criterion_.weight_sum = float(sample_weight.sum())
            net.criterion_.n_samples = len(rows)
            net.criterion_.pos_weight = pos_weight
            net.batch_size = batch_size
            net.partial_fit(data, epochs=1)
            self.net_ = net
            self._incremental = True
            self.classes_ = targets.classes
            self._kind = targets.kind
            self._n_outputs = targets.n_outputs
            self.n_iter_ = np.asarray([len(net.history)], dtype=np.int32)
            self._set_model_attributes()
        return self

    def _incremental_net(self, n_features, targets, device, dtype, pos_weight):
        """The net partial_fit trains: no stopping rule, seeded, continuing a previous fit if any."""
        previous = self.net_.module_.state_dict() if hasattr(self, "net_") else None
        module, module_kwargs = self._module(n_features, targets.n_outputs)
        callbacks = copy.deepcopy(self.callbacks) if self.callbacks else []
        if not (np.isinf(self.C) or self.l1_ratio == 0):
            callbacks.insert(0, ("l1_proximal", L1Proximal()))
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        net = self._make_net(
            module,
            module_kwargs,
            device,
            dtype,
            kind=targets.kind,
            weight_sum=1.0,
            n_samples=1,
            pos_weight=pos_weight,
            callbacks=callbacks,
            seed=seed,
        )
        cuda = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda):
            torch.manual_seed(seed)
            net.initialize()
        if previous is not None:
            load_warm_start(net.module_, previous)
        return net

    def _make_net(
        self,
        module,
        module_kwargs,
        device,
        dtype,
        *,
        kind,
        weight_sum,
        n_samples,
        pos_weight=None,
        callbacks=(),
        seed=0,
    ):
        """The skorch net for these parameters (not initialised, not trained)."""
        optimizer, lr, batch_size, optimizer_kwargs = self._optimizer(n_samples)
        return LogitNet(
            module=module,
            criterion=RegularizedLogLoss,
            optimizer=optimizer,
            lr=lr,
            max_epochs=self.max_iter,
            batch_size=batch_size,
            train_split=None,
            callbacks=list(callbacks),
            device=device,
            verbose=int(self.verbose),
            shuffle_seed=seed,
            **{f"module__{k}": v for k, v in module_kwargs.items()},
            module__dtype=dtype,
            criterion__kind=kind,
            criterion__C=self.C,
            criterion__l1_ratio=self.l1_ratio,
            criterion__weight_sum=weight_sum,
            criterion__n_samples=n_samples,
            criterion__pos_weight=pos_weight,
            **{f"optimizer__{k}": v for k, v in optimizer_kwargs.items()},
        )

    # --------------------------------------------------------------- inference
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

    # ------------------------------------------------------------- persistence
    def save(self, path):
        """Save the fitted model in torchlogit's safe format (no pickle; see :meth:`load`).

        Parameters
        ----------
        path : str or path-like
            Where to write the file.

        Notes
        -----
        The file holds the parameters, the fitted attributes and the module's tensors,
        with a format version and a SHA-256 checksum. The training history and the
        optimizer state are not saved. ``callbacks`` and a ``RandomState`` instance as
        ``random_state`` cannot be saved (set them to None or an int first).
        """
        check_is_fitted(self)
        save_model(self, path)

    @classmethod
    def load(cls, path, device="cpu"):
        """Load a model written by :meth:`save`, executing nothing from the file.

        Parameters
        ----------
        path : str or path-like
            A file written by :meth:`save` (by this class).
        device : str or torch.device, default="cpu"
            Where the loaded model predicts.

        Returns
        -------
        estimator : instance of this class
            Fitted, with identical predictions.

        Raises
        ------
        ModelFileError
            (a ``ValueError``) for a file that is not a torchlogit model of this class, was
            truncated or altered, or has an unknown format version.
        """
        return load_model(cls, path, device=device)

    def _restore_net(self, state):
        device, dtype = self._check_solver_options()
        module, module_kwargs = self._module(self.n_features_in_, self._n_outputs)
        net = self._make_net(module, module_kwargs, device, dtype, kind=self._kind, weight_sum=1.0, n_samples=1)
        net.initialize()
        load_warm_start(net.module_, state)
        self.net_ = net
        self._set_model_attributes()

    # -------------------------------------------------------------- prediction
    def _logits(self, X):
        """Raw module outputs for ``X`` as float64 NumPy, computed on the model's device in chunks.

        A linear model on the CPU computes ``X @ coef_.T + intercept_`` in float64 straight
        from the validated input (dense or sparse), with no conversion copy, as
        scikit-learn does.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, accept_sparse=ACCEPT_SPARSE, dtype=[np.float64, np.float32])
        module = self.net_.module_
        param = next(module.parameters())
        if isinstance(module, LinearLogits) and param.device.type == "cpu":
            W = module.linear.weight.detach().double().numpy()
            out = np.asarray(X @ W.T) if sp.issparse(X) else np.asarray(X, dtype=np.float64) @ W.T
            if module.linear.bias is not None:
                out += module.linear.bias.detach().double().numpy()
            return out
        if sp.issparse(X):
            X = X.tocsr()
        out = np.empty((X.shape[0], self._n_outputs), dtype=np.float64)
        step = max(1, CHUNK_VALUES // max(X.shape[1], 1))
        module.eval()
        with torch.inference_mode():
            for start in range(0, X.shape[0], step):
                chunk = X[start : start + step]
                chunk = (
                    sparse_tensor(chunk, param.dtype, param.device)
                    if sp.issparse(chunk)
                    else as_tensor(chunk, param.dtype, param.device)
                )
                out[start : start + step] = module(chunk).to(dtype=torch.float64).cpu().numpy()
        return out

    def decision_function(self, X):
        """Logits: shape (n_samples,) for binary targets, (n_samples, n_outputs) otherwise.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            For binary targets, positive means ``classes_[1]``.
        """
        logits = self._logits(X)
        return logits[:, 0] if self._kind == "binary" else logits

    def predict_proba(self, X):
        """Probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes) or (n_samples, n_labels)
            Class probabilities (columns follow ``classes_``, rows sum to one), or for
            multi-label targets the independent probability of each label.
        """
        logits = self._logits(X)
        if self._kind == "binary":
            proba = np.empty((len(logits), 2))
            expit(logits[:, 0], out=proba[:, 1])
            np.subtract(1.0, proba[:, 1], out=proba[:, 0])
            return proba
        if self._kind == "multinomial":
            return softmax(logits, axis=1)
        return expit(logits)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed stably from the logits.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray, same shape as :meth:`predict_proba`
        """
        logits = self._logits(X)
        if self._kind == "binary":
            return log_softmax(np.column_stack([np.zeros(len(logits)), logits[:, 0]]), axis=1)
        if self._kind == "multinomial":
            return log_softmax(logits, axis=1)
        return log_expit(logits)

    def predict(self, X):
        """Most probable class of each sample (for multi-label targets, see the subclass).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        logits = self._logits(X)
        index = (logits[:, 0] > 0).astype(int) if self._kind == "binary" else logits.argmax(axis=1)
        return self.classes_[index]

    def score(self, X, y, sample_weight=None):
        """Mean accuracy of :meth:`predict` on ``X`` against ``y`` (scikit-learn's ``ClassifierMixin.score``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
            The (weighted) fraction of samples predicted right; for multi-label targets a
            sample counts only when all its labels are right (subset accuracy).
        """
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
