"""Plumbing shared by the torchlogit estimators.

Validation, device/dtype resolution, building and running the skorch net, and
prediction in bounded-memory chunks; ``partial_fit`` (``_incremental``), ``summary``
(``_inference``) and dask arrays (``_dask``) come from their own modules. Subclasses
validate their own targets and turn the fitted module into their public attributes.
"""

import copy
import warnings
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
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._callbacks import L1Proximal, LBFGSConvergence, NoImprovementStopping, ValidationLoss
from ._dask import fit_dask, is_dask_array, is_dask_collection, worker_thread_share
from ._devices import DTYPES, check_device_name, resolve_device
from ._incremental import IncrementalMixin
from ._inference import InferenceMixin
from ._kernels import ACCEPT_SPARSE, CHUNK_VALUES, as_tensor, sparse_rows, sparse_tensor, to_device
from ._modules import LinearLogits
from ._net import LogitNet, TensorData
from ._newton import NewtonCholesky, NewtonConvergence, check_hessian_size
from ._objective import RegularizedLogLoss, l1_strength
from ._persistence import load as load_model
from ._persistence import save as save_model
from ._rows import canonical_rows
from ._solvers import LBFGS
from ._state import keep_state_on_failure, load_warm_start
from ._targets import pos_weight_tensor

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
_NEWTON_WARNING = "Newton solver did not converge after {n_iter} iterations."
_STOCHASTIC_WARNING = (
    "Stochastic Optimizer: Maximum iterations ({max_iter}) reached and the optimization hasn't converged yet."
)


def ftol_for(dtype):
    """Relative objective decrease under which L-BFGS has stalled at this precision.

    scikit-learn uses ``64 * eps`` of float64. In float32 the logits carry ~1e-7
    relative error, so decreases below a few float32 ulps are noise.
    """
    return 64 * np.finfo(np.float64).eps if dtype == torch.float64 else 8 * np.finfo(np.float32).eps


class BaseTorchClassifier(InferenceMixin, IncrementalMixin, ClassifierMixin, BaseEstimator):
    """Shared parameters, fitting and prediction of the torchlogit classifiers."""

    _parameter_constraints: dict = {
        "C": [Interval(Real, 0, None, closed="right")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"lbfgs", "newton-cholesky", "adam", "sgd"})],
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
            if self._solver() == "newton-cholesky":
                check_hessian_size(X.shape[1], targets.n_outputs, self.fit_intercept)
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
            self._publish(self.net_, targets, incremental=False)
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
            self.n_features_in_ = X.shape[1]
            self.__dict__.pop("feature_names_in_", None)
            self._publish(net, targets, incremental=False)
        return self

    def _publish(self, net, targets, *, incremental):
        """Set the fitted attributes from a trained net (the last step of every fit)."""
        self.net_ = net
        self.classes_ = targets.classes
        self._kind = targets.kind
        self._n_outputs = targets.n_outputs
        self._incremental = incremental  # whether net_ is partial_fit's (no stopping rule)
        self.n_iter_ = np.asarray([len(net.history)], dtype=np.int32)
        self._set_model_attributes()

    def _train_remote(self, data, targets, weight_sum, *, n_features, dtype):
        """Train a linear net on data held by dask workers; the parameters live on this machine's CPU."""
        stopping = self._stopping_rule(dtype, validated=False)
        module, module_kwargs = self._module(n_features, targets.n_outputs)
        net = self._make_net(
            module,
            module_kwargs,
            torch.device("cpu"),
            dtype,
            kind=targets.kind,
            weight_sum=weight_sum,
            n_samples=len(data),
            callbacks=self._net_callbacks(last=[("stopping", stopping)]),
        )
        net.initialize()
        init_state = self._warm_start_state(targets.classes, n_features)
        if init_state is not None:
            load_warm_start(net.module_, {k: v.cpu() for k, v in init_state.items()})
        net.partial_fit(data)
        self._warn_if_not_converged(stopping, net)
        return net

    def _net_callbacks(self, *, first=(), last=()):
        """``[*first, L1 step, *user callbacks, *last]``; the L1 step only for mini-batch solvers with an L1 part.

        The user's callbacks are copied, so that ``fit`` never changes the parameter.
        """
        l1 = []
        if self._solver() != "lbfgs" and l1_strength(self.C, self.l1_ratio, 1.0) > 0:
            l1 = [("l1_proximal", L1Proximal())]
        user = copy.deepcopy(self.callbacks) if self.callbacks else []
        return [*first, *l1, *user, *last]

    def _seed(self):
        """A seed drawn from ``random_state`` (one draw per call)."""
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _warn_if_not_converged(self, stopping, net):
        if not stopping.converged_:
            solver = self._solver()
            template = {"lbfgs": _LBFGS_WARNING, "newton-cholesky": _NEWTON_WARNING}.get(solver, _STOCHASTIC_WARNING)
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
        if self._solver() == "newton-cholesky" and l1_strength(self.C, self.l1_ratio, 1.0) > 0:
            penalty = "l1" if self.l1_ratio == 1 else "elasticnet"
            raise ValueError(f"Solver newton-cholesky supports only 'l2' or None penalties, got {penalty} penalty.")
        if str(device).startswith("mps") and self.dtype == "float64":
            raise ValueError("dtype='float64' is not supported on device='mps' (MPS computes in float32 at most).")
        return device, DTYPES[self.dtype]

    def _optimizer(self, n_samples):
        """(optimizer class, learning rate, batch size, optimizer kwargs) for ``self.solver``."""
        solver = self._solver()
        if solver == "lbfgs":
            kwargs = dict(history_size=_LBFGS_HISTORY, max_ls=_LBFGS_MAX_EVAL)
            return LBFGS, 1.0, n_samples, kwargs
        if solver == "newton-cholesky":
            return NewtonCholesky, 1.0, n_samples, {}
        batch_size = min(200, n_samples) if self.batch_size == "auto" else min(self.batch_size, n_samples)
        if solver == "adam":
            return torch.optim.Adam, self.learning_rate_init, batch_size, {}
        return torch.optim.SGD, self.learning_rate_init, batch_size, {"momentum": self.momentum}

    def _stopping_rule(self, dtype, validated):
        if self._solver() == "lbfgs":
            return LBFGSConvergence(tol=self.tol, ftol=ftol_for(dtype))
        if self._solver() == "newton-cholesky":
            return NewtonConvergence(tol=self.tol, ftol=ftol_for(dtype))
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
                random_state=self._seed(),
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
        seed = self._seed()
        pos_weight = pos_weight_tensor(targets, dtype, device)

        data = self._tensor_data(X, targets, rows[train], sample_weight[train], dtype, device, batch_size)
        weight_sum = float(np.sum(sample_weight[train]))
        first = []
        if valid is not None:
            held_out = self._tensor_data(X, targets, rows[valid], sample_weight[valid], dtype, device, batch_size)
            first = [("valid_loss", ValidationLoss(held_out, targets.kind, pos_weight))]
        # Stopping last, so user callbacks see every epoch, the final one included.
        callbacks = self._net_callbacks(first=first, last=[("stopping", stopping)])
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
            # The rows, gathered once in canonical order and in the training dtype; on the
            # CPU the tensor shares this copy's memory.
            selected = sparse_rows(X, picked, dtype)
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
