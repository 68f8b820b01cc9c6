"""Plumbing shared by the torchlogit estimators: validate, train, publish.

The data comes and goes through :mod:`torchlogit._data` (the caller's arrays in,
validated training inputs, canonical rows, the one copy to the device, results back in
the caller's array type); prediction arithmetic is :mod:`torchlogit._predict`'s.
Training the net (its solver, stopping rule, preconditioners and the float64 continuation)
is :mod:`torchlogit._training`'s; ``partial_fit`` (``_incremental``), ``summary``
(``_inference``) and dask arrays (``_dask``) come from their own modules. Subclasses
validate their own targets and turn the fitted module into their public attributes.
"""

import copy
import math
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn import config_context
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils._param_validation import Interval, Options, StrOptions, validate_parameter_constraints
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.callbacks import Callback

from ._compat import ARRAY_API_DISPATCH_AVAILABLE
from ._dask import fit_dask, is_dask_array, is_dask_collection, worker_thread_share
from ._data import (
    check_origin,
    check_sparse_indices,
    checked_tensor,
    classes_to_host,
    follow_labels,
    follow_origin,
    host_array,
    host_classes,
    host_inputs,
    on_device,
    origin_of,
)
from ._devices import DTYPES, check_device_name, refuse_mps_training, resolve_device, without_autocast
from ._docstrings import DOC_LINK_TEMPLATE
from ._export import export_onnx
from ._incremental import IncrementalMixin
from ._inference import InferenceMixin
from ._kernels import ACCEPT_SPARSE
from ._modules import LinearLogits, checked_layers, dropout_streams, layer_coefficients, layers_state
from ._net import overrides
from ._newton import check_hessian_size
from ._objective import l1_strength
from ._persistence import check_picklable, check_unpickled
from ._persistence import load as load_model
from ._persistence import save as save_model
from ._predict import (
    as_dtype,
    class_labels,
    device_logits,
    given_dtype,
    host_logits,
    log_probabilities,
    probabilities,
    score_dtype,
    tensor_logits,
)
from ._solvers import MINI_BATCH_SOLVERS
from ._state import keep_state_on_failure, optimizer_moments, plain
from ._threads import SMALL_VALUES, data_values, threads_for
from ._training import TrainingMixin
from ._training_set import TrainingSet
from ._user_warnings import warn


def _callback_classes(callbacks):
    """``(entry, callback, its class)`` for each entry of ``callbacks`` (a callback, or a ``(name, callback)`` pair)."""
    for entry in callbacks or ():
        callback = entry[1] if isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], str) else entry
        yield entry, callback, callback if isinstance(callback, type) else type(callback)


def _check_callbacks(callbacks, solver, recorded, partial=False):
    """A TypeError unless every entry of ``callbacks`` is what skorch takes: a Callback (instance or class),
    or a ``(name, Callback)`` pair. skorch itself fails on anything else mid-set-up, with its own traceback.

    A ValueError, before training, for skorch callbacks that cannot work here (each failed mid-fit with an
    internal error, or recorded nothing): the scoring callbacks score the net's own datasets, which
    torchlogit's training does not use; ``LRScheduler`` needs a torch optimizer, which only "adam" and
    "sgd" are; ``EarlyStopping`` must monitor a score the fit records (``recorded``). With ``partial``
    (``partial_fit``), ``LRScheduler`` at all: each call is one epoch of a net rebuilt from the fitted state, so
    the schedule would restart on every call and never change the rate of the epoch it is in, and torch's
    schedulers refuse to resume on a new optimizer (a raw ``KeyError: param 'initial_lr' is not specified`` on
    the second call, measured); ``EarlyStopping`` likewise, whose count of epochs without improvement restarts in
    every call's net (it never stopped anything). A callback acting in ``on_grad_computed`` (skorch's
    ``GradientNormClipping``, a gradient monitor) needs a mini-batch solver: the full-batch solvers never called it.
    """
    from skorch.callbacks import (
        BatchScoring,
        Checkpoint,
        EarlyStopping,
        EpochScoring,
        LRScheduler,
        ParamMapper,
        PassthroughScoring,
    )

    for entry, callback, kind in _callback_classes(callbacks):
        if not (isinstance(callback, Callback) or (isinstance(callback, type) and issubclass(callback, Callback))):
            raise TypeError(
                "callbacks must be a list of skorch callbacks (instances or classes) or (name, callback) pairs; "
                f"got {entry!r}."
            )
        name = kind.__name__
        if issubclass(kind, (EpochScoring, BatchScoring, PassthroughScoring)):
            raise ValueError(
                f"skorch's {name} scores the net's own training and validation datasets, which torchlogit's "
                "training does not use (it trains on prepared tensors). Score the fitted estimator instead, or "
                "record your own per-epoch value with a Callback calling net.history.record(key, value)."
            )
        if issubclass(kind, LRScheduler) and partial:
            raise ValueError(
                "skorch's LRScheduler cannot schedule partial_fit: each call is one epoch of a net rebuilt from "
                "the fitted state, so the schedule would restart on every call. Set the rate between calls "
                "instead (set_params(learning_rate_init=...)), or use fit, where LRScheduler steps every epoch."
            )
        if issubclass(kind, ParamMapper) and solver not in MINI_BATCH_SOLVERS:
            raise ValueError(
                f"skorch's {name} acts on the parameters when an epoch begins; solver={solver!r} evaluates the "
                "objective and its gradient before the first epoch, so its first step would move the parameters "
                "it freezes (measured: Freezer('linear.weight') left coefficients of 0.28). Use solver='adam' or "
                "'sgd', where it holds them."
            )
        if overrides(kind, "on_grad_computed") and solver not in MINI_BATCH_SOLVERS:
            # skorch calls on_grad_computed from the closure it hands an optimizer; this solver's closure computes the
            # objective's exact gradient for its line search or Newton step, and never called it (the callback, a
            # GradientNormClipping or a gradient monitor, did nothing, in silence).
            raise ValueError(
                f"{name} acts in on_grad_computed, which solver={solver!r} does not call: its steps (a line search, "
                "or Newton's) are computed from the exact gradient of the objective, which a callback must not change. "
                "Use solver='adam' or 'sgd', where it is called after every batch's gradient."
            )
        if issubclass(kind, EarlyStopping) and partial:
            raise ValueError(
                "skorch's EarlyStopping cannot stop partial_fit: each call is one epoch of a net rebuilt from the "
                "fitted state, and the callback starts counting afresh in every net, so its patience never runs "
                "out. Stop the stream yourself (loss_curve_ holds every call's loss), or use fit, where it counts "
                "the epochs."
            )
        if issubclass(kind, LRScheduler) and solver not in MINI_BATCH_SOLVERS:
            raise ValueError(
                f"skorch's LRScheduler steps a torch optimizer's learning rate; solver={solver!r} has none "
                "(its step lengths come from a line search). Use solver='adam' or 'sgd'."
            )
        if issubclass(kind, EarlyStopping):
            monitor = callback.monitor if isinstance(callback, Callback) else "valid_loss"
            # skorch's own keys only: a key of the user's (recorded by another callback) is theirs to know.
            if monitor in ("valid_loss", "valid_acc", "objective", "grad_max") and monitor not in recorded:
                raise ValueError(
                    f"skorch's EarlyStopping monitors {monitor!r}, which this fit does not record (it records "
                    f"{sorted(recorded)}). Monitor one of those, or use the estimator's own stopping rule "
                    "(tol, n_iter_no_change)."
                )
        if issubclass(kind, Checkpoint):
            monitor = callback.monitor if isinstance(callback, Callback) else "valid_loss_best"
            # skorch's "_best" keys are written by its scoring callbacks; the fit writes train_loss_best alone
            # (mini-batch solvers). A default Checkpoint() failed mid-fit with skorch's "Key 'valid_loss_best' was
            # not found in history".
            if monitor in ("valid_loss_best", "valid_acc_best", "train_loss_best") and monitor not in recorded:
                best = sorted(key for key in recorded if key.endswith("_best"))
                raise ValueError(
                    f"skorch's Checkpoint monitors {monitor!r}, which this fit does not record "
                    f"({'it records ' + str(best) if best else 'it records no *_best key'}). Pass "
                    f"{'monitor=' + repr(best[0]) + ', or ' if best else ''}monitor=None to save every epoch, or a "
                    "callable of the net."
                )


def _values_hint(X):
    """The values ``X`` holds when its type says so at no cost (arrays, tensors, sparse matrices); for anything
    else a count that keeps torch's thread setting (the rule is applied after validation then)."""
    if isinstance(X, torch.Tensor) and X.is_nested:  # (it has no sizes: validation refuses it in words)
        return SMALL_VALUES
    if (isinstance(X, (np.ndarray, torch.Tensor)) and X.ndim == 2) or sp.issparse(X):
        return data_values(X)
    return SMALL_VALUES


# The parameters that define the objective a fit minimised (recorded at fit for summary()).
_OBJECTIVE_SETTINGS = ("C", "l1_ratio", "fit_intercept", "class_weight", "pos_weight")


def penalty_name(C, l1_ratio):
    """scikit-learn's name of the penalty ``C`` and ``l1_ratio`` give (None: no penalty, or settings not numbers)."""
    if not (isinstance(C, Real) and isinstance(l1_ratio, Real)):  # invalid settings: fit's to refuse, in words
        return None
    if math.isinf(C):
        return None
    return ratio_penalty_name(l1_ratio)


def ratio_penalty_name(l1_ratio):
    """The penalty's name for a finite C: "l2" (``l1_ratio`` 0), "l1" (1) or "elasticnet" (between)."""
    return "l2" if l1_ratio == 0 else "l1" if l1_ratio == 1 else "elasticnet"


class BaseTorchClassifier(InferenceMixin, IncrementalMixin, TrainingMixin, ClassifierMixin, BaseEstimator):
    """Shared parameters, fitting and prediction of the torchlogit classifiers."""

    _doc_link_module = "torchlogit"  # scikit-learn's HTML repr links the class to its API page
    _doc_link_template = DOC_LINK_TEMPLATE

    # The dimensions of y that fit prepares in torch where the data lives (._tensor_data), with
    # the subclass's _targets; none: the host path (._data.fit_inputs) alone.
    _tensor_target_ndims = ()

    _parameter_constraints: dict = {
        "C": [Interval(Real, 0, None, closed="right")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"lbfgs", "newton-cholesky", "adam", "sgd"})],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        # MLPClassifier's: np.inf never stops on the rule (max_iter bounds the epochs)
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
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
        if is_dask_collection(X):
            return self._fit_dask(X, y, sample_weight)
        # X in memory, y or sample_weight a dask collection (a Pipeline whose scaler returned NumPy X): they are
        # computed, and the fit is in memory, as LogisticRegression's (a 1-D y is small beside X).
        y, sample_weight = (v.compute() if is_dask_collection(v) else v for v in (y, sample_weight))
        origin = origin_of(X)
        # Autograd trains hidden layers: a fit called inside the caller's torch.inference_mode() needs it on.
        with keep_state_on_failure(self), worker_thread_share(), torch.inference_mode(False), without_autocast():
            classes_to_host(self)
            device, dtype = self._check_solver_options()
            if self.warm_start:  # a model assigned to an unfitted estimator starts the fit, as a fitted one does
                self._complete_assigned_model()
            fitted_features = getattr(self, "n_features_in_", None)  # validation below resets it to X's
            # Validation too runs on one thread for small data (._threads): its passes over X (aminmax) went
            # to torch's pool, where a 2000 x 20 check waited 3-12 ms for a second core on a busy machine.
            with threads_for(_values_hint(X)):
                data = TrainingSet.from_user(self, X, y, sample_weight, device)
            module, module_kwargs = self._module(data.n_features, data.n_outputs)
            if self._solver() == "newton-cholesky":
                check_hessian_size(data.n_features, data.n_outputs, self.fit_intercept)
            init_state = self._warm_start_state(data.targets, data.n_features, fitted_features)
            # MLPClassifier's warm-started stochastic fits append to loss_curve_ (n_iter_ stays this fit's).
            previous = self._previous_history() if init_state is not None and self._warm_start_appends() else []
            with threads_for(data.n_values):
                net = self._train(data, module=module, module_kwargs=module_kwargs, dtype=dtype, init_state=init_state)
            # A mini-batch fit keeps its optimizer state, so that partial_fit continues it (MLPClassifier's too).
            incremental = self._mini_batch()
            self._publish(
                net, data.targets, incremental=incremental, X_dtype=data.X_dtype, previous=previous, start=init_state
            )
            follow_origin(self, origin)
            follow_labels(self, y)
        return self

    def _fit_dask(self, X, y, sample_weight):
        """``fit`` on dask arrays: L-BFGS whose evaluations run on the dask workers (see ``_dask``)."""
        if not is_dask_array(X):  # a dask DataFrame
            raise TypeError(
                f"X is a {type(X).__module__}.{type(X).__name__}; fit takes dask arrays: convert a dask "
                "DataFrame with X.to_dask_array(lengths=True) (and y likewise)."
            )
        with keep_state_on_failure(self):
            _, dtype = self._check_solver_options(here=False)
            if self._solver() == "newton-cholesky":
                raise ValueError(
                    "fit on a dask array trains a linear model with full-batch L-BFGS: solver='newton-cholesky' is "
                    "not offered there (its Hessian would gather on the client). Use solver='lbfgs', or X.compute() "
                    "to fit in memory."
                )
            if self._solver() != "lbfgs" or self._module(1, 1)[0] is not LinearLogits:
                raise ValueError(
                    "fit on a dask array trains a linear model with full-batch L-BFGS (solver='lbfgs'); for "
                    "'adam' / 'sgd' or hidden layers, train block by block with "
                    "dask_ml.wrappers.Incremental(estimator).fit(X, y, classes=...), which calls partial_fit."
                )
            net, targets = fit_dask(self, X, y, sample_weight, dtype=dtype)
            self.n_features_in_ = X.shape[1]
            self.__dict__.pop("feature_names_in_", None)
            self._publish(net, targets, incremental=False, X_dtype=X.dtype)
        return self

    def _publish(self, net, targets, *, incremental, X_dtype=np.float64, previous=(), start=None):
        """Set the fitted attributes from a trained net (the last step of every fit); the net is not kept.

        What the estimator keeps is the model (``coef_`` / ``coefs_``), scikit-learn's
        fitted attributes and the training history as plain data; ``partial_fit`` also
        keeps its optimizer's moments and shuffling seed, as arrays, to continue from.
        ``previous``: history rows this fit continues (a warm start that appends, see
        :meth:`_warm_start_appends`); the new rows' epochs are numbered after them. ``start``: the state the
        training started from (a warm start), or None.
        """
        self.__dict__.pop("net_", None)  # a model of the format before the lean state
        # The objective's settings of this fit, for summary(): set_params after fit changes the next fit, not the
        # fitted model (summary re-read C, fit_intercept and class_weight as set now, and described another model).
        params = vars(self)  # the parameters are attributes; get_params' signature reading costs ~20 us a fit
        self._fit_settings = {name: copy.copy(params[name]) for name in _OBJECTIVE_SETTINGS if name in params}
        self.classes_ = targets.classes
        self._kind = targets.kind
        self._n_outputs = targets.n_outputs
        # scikit-learn's rule: float32 data gives float32 coefficients, anything else float64.
        self._set_model_attributes(net.module_, np.float32 if np.dtype(X_dtype) == np.float32 else np.float64)
        rows = list(net.history)
        carried = getattr(net, "carried_rows_", 0)  # a partial_fit's previous rows, plain already
        new = plain(rows[carried:])
        self._set_history(list(previous) + rows[:carried] + new)
        if previous:  # numbered on after the rows continued; MLPClassifier's n_iter_ is this fit's epochs
            for row in new:
                row["epoch"] += len(previous)
            self.n_iter_ = np.asarray([len(new)], dtype=np.int32)
        if incremental:
            self._keep_partial_state(net)
        else:
            self.__dict__.pop("_partial_state", None)

    def _warm_start_appends(self):
        """Whether a warm-started fit appends to ``loss_curve_`` and ``history_`` (``MLPClassifier``'s stochastic
        solvers do); by default each fit's curve is its own, as ``n_iter_`` is."""
        return False

    def _previous_history(self):
        """The fitted history rows to continue from: ``history_``, or rows rebuilt from ``loss_curve_`` where the
        history was not kept (unpickled); none for a loaded model (its file keeps neither)."""
        curve = getattr(self, "loss_curve_", None)
        if curve is None:
            return []
        history = getattr(self, "history_", None)
        if history is None or len(history) != len(curve):
            history = [{"epoch": i + 1, "train_loss": loss, "batches": []} for i, loss in enumerate(curve)]
        return history

    def _keep_partial_state(self, net):
        """What the next ``partial_fit`` continues from: solver, shuffling seed, optimizer moments (arrays), L1 totals
        and where the dropout layers' random streams stand."""
        self._partial_state = {
            "solver": self._solver(),
            "seed": int(net.shuffle_seed),
            "optimizer": optimizer_moments(net.optimizer_),
            "l1": _l1_totals(net),
            "dropout": dropout_streams(net.module_),
        }

    def _set_history(self, history):
        self.history_ = history
        self.n_iter_ = np.asarray([len(history)], dtype=np.int32)
        self.loss_curve_ = [row.get("objective", row.get("train_loss")) for row in history]

    def _validate_fit_data(self, X, y, reset=True):
        return validate_data(self, X, y, reset=reset, accept_sparse=ACCEPT_SPARSE, dtype=[np.float64, np.float32])

    def _solver(self):
        return self.solver

    @property
    def penalty(self):
        """The objective's penalty in scikit-learn's words (read-only: set ``C`` and ``l1_ratio``).

        ``"l1"`` for ``l1_ratio=1``, ``"elasticnet"`` between 0 and 1, ``"l2"`` for 0, and None
        for ``C=np.inf``. scikit-learn's tools read it: :class:`~sklearn.feature_selection.SelectFromModel`'s
        default threshold is then 1e-5 (every non-zero coefficient) for an L1 model, as for
        ``LogisticRegression(l1_ratio=1)``, instead of the mean importance (which dropped features the
        L1 fit kept).
        """
        return penalty_name(self.C, self.l1_ratio)

    def _warm_start_state(self, targets, n_features, fitted_features):
        """The fitted model as a ``state_dict`` to start from (``warm_start``), or None.

        ``fitted_features``: ``n_features_in_`` before this call's validation reset it.
        """
        if not (self.warm_start and self._has_model()):
            return None  # (a model whose coefficients were deleted starts cold, as LogisticRegression's does)
        self._check_target_form(targets.kind, "fit with warm_start=True")
        if not hasattr(self, "classes_"):
            if "_n_outputs" not in vars(self):
                return None
            # Coefficients assigned without classes_: LogisticRegression's warm start reads coef_ alone, and y's
            # classes name its rows, where their number fits.
            if self._n_outputs != targets.n_outputs:
                raise ValueError(
                    f"warm_start cannot start from the assigned coef_ of shape {np.shape(self.coef_)}: y has "
                    f"{len(targets.classes)} classes, which need {targets.n_outputs} row(s) of coefficients. Assign "
                    "classes_ too, or set warm_start=False."
                )
        elif not np.array_equal(targets.classes, self.classes_):
            raise ValueError(
                "warm_start can only be used where `y` has the same classes as in the "
                f"previous call to fit. Previously got {self.classes_}, `y` has {targets.classes}."
            )
        if n_features != fitted_features:
            raise ValueError(
                f"warm_start needs the same features as the previous fit: it had {fitted_features}, X has {n_features}."
            )
        return self._fitted_state(self._empty_module(n_features, self._n_outputs))

    def _has_model(self):
        """Whether the model's arrays are there to start from (``del model.coef_`` leaves a fitted-looking rest)."""
        return "coef_" in vars(self)

    def _check_target_form(self, kind, call):
        """Refuse 1-D labels after a label-indicator matrix, or the reverse, where the model goes on from its fit.

        Both may give ``classes_ == arange(k)``, and the outputs would be reread as the other model's
        (k sigmoids as a k-class softmax): ``predict`` would change shape silently. ``MLPClassifier``
        refuses the same ("The object was not fitted with multilabel input").
        """
        previous = getattr(self, "_kind", None)
        if previous is None or (previous == "multilabel") == (kind == "multilabel"):
            return
        forms = {True: "a label-indicator matrix Y (multi-label)", False: "1-D class labels y"}
        # (warm_start=False makes fit start afresh; partial_fit always goes on, whatever warm_start says)
        remedy = "call fit, which starts afresh" if call == "partial_fit" else "set warm_start=False"
        raise ValueError(
            f"This {type(self).__name__} was fitted on {forms[previous == 'multilabel']}, and {call} got "
            f"{forms[kind == 'multilabel']}: a model goes on only with targets of the form it was fitted on. "
            f"Fit a new model (or {remedy}) for the other form."
        )

    def _recorded_scores(self):
        """The per-epoch values a fit records in its history (what an ``EarlyStopping`` may monitor)."""
        full_batch = self._solver() in ("lbfgs", "newton-cholesky")
        return {"train_loss", *(("objective", "grad_max") if full_batch else ("train_loss_best",))}

    def _check_solver_options(self, here=True, partial=False, training=True):
        """Checks that depend on several parameters; run before any data work.

        ``here=False``: the device is used elsewhere (on dask workers), so only its name
        is checked; this machine need not have it. ``partial``: for ``partial_fit``.
        ``training=False``: for a loaded model, which may predict on MPS.
        """
        if here:
            device = resolve_device(self.device, owner=type(self).__name__)
        else:
            device = check_device_name(self.device, owner=type(self).__name__)
        if self._solver() == "newton-cholesky" and l1_strength(self.C, self.l1_ratio, 1.0) > 0:
            penalty = "l1" if self.l1_ratio == 1 else "elasticnet"
            # scikit-learn's words, then ours: torchlogit has no `penalty` parameter, l1_ratio sets it.
            raise ValueError(
                f"Solver newton-cholesky supports only 'l2' or None penalties, got {penalty} penalty "
                f"(l1_ratio={self.l1_ratio:g} with C={self.C:g}): set l1_ratio=0, or use solver='lbfgs' for L1."
            )
        if training:
            refuse_mps_training(device)
            if np.isinf(self.C) and 0 < self.l1_ratio < 1:  # scikit-learn's warning, its words (its penalty=None)
                warn(
                    "l1_ratio parameter is only used when penalty is 'elasticnet'. Got (penalty=None): C=np.inf "
                    f"fits without a penalty, so l1_ratio={self.l1_ratio!r} is ignored.",
                    UserWarning,
                )
        _check_callbacks(self.callbacks, self._solver(), self._recorded_scores(), partial)
        return device, DTYPES[self.dtype]

    # ------------------------------------------------------------- fitted state
    def _fitted_layers(self, dense=False):
        """The model: ``[(W (n_in, n_out), b (n_out,)), ...]`` from ``coef_`` / ``intercept_`` (see subclasses)."""
        self._complete_assigned_model()
        coef = host_array(self.coef_)  # array-API mode keeps it in the input's namespace
        if dense and sp.issparse(coef):
            coef = coef.toarray()
        elif not sp.issparse(coef):
            coef = np.asarray(coef)  # a list assigned by the user
            if coef.ndim == 1 and self._n_outputs == 1:  # a binary model's (d,) coefficients, as scikit-learn takes
                coef = coef.reshape(1, -1)
        layers = [(coef.T, host_array(self.intercept_))]
        alias = "coefs_[0]" if hasattr(type(self), "coefs_") else None  # (the multi-label model's MLPClassifier view)
        return checked_layers(layers, self.n_features_in_, self._n_outputs, ("coef_", "intercept_"), alias)

    def _set_model_attributes(self, module, dtype):
        """Set the model's arrays from a trained torch module, as NumPy arrays of ``dtype``."""
        self._set_coefs(*layer_coefficients(module, dtype))

    def _set_layers(self, layers, dtype):
        """Set the model's arrays from ``[(W (n_in, n_out), b or None), ...]`` (a file's tensors)."""
        self._set_coefs(
            [np.ascontiguousarray(W, dtype=dtype) for W, _ in layers],
            [np.zeros(W.shape[1], dtype=dtype) if b is None else np.array(b, dtype=dtype) for W, b in layers],
        )

    def _set_coefs(self, coefs, intercepts):
        """Linear models: ``coef_`` and ``intercept_`` from MLPClassifier-style ``coefs`` / ``intercepts``."""
        (W,), (b,) = coefs, intercepts
        self.coef_ = np.ascontiguousarray(W.T)
        self.intercept_ = b

    def _structure_sizes(self):
        """Widths of the hidden layers (none for a linear model)."""
        return ()

    def _check_loaded_params(self):
        """Refuse parameter values that ``fit`` would refuse for these fitted targets (a loaded file's).

        ``_validate_params`` checks types and ranges; this checks what depends on several parameters
        (the device only by its name) and on the classes or labels.
        """
        self._check_solver_options(here=False, training=False)

    def _check_fit_settings(self, settings, alone=False):
        """Refuse a fit's recorded objective settings (``_fit_settings``, read from a file or an unpickled state)
        that no fit of this model records: a dict of its parameters among :data:`_OBJECTIVE_SETTINGS`, each value
        passing the checks ``fit`` and :func:`load` apply (summary() computes with them). A ValueError.

        ``alone``: judged with the other parameters at their defaults, not as set now (an unpickled state: the
        current parameters are the next fit's to check, as scikit-learn's are; a model whose ``max_iter`` was set to
        -1, or its solver to newton-cholesky after an L1 fit, pickled and then could not be unpickled)."""
        names = set(_OBJECTIVE_SETTINGS) & set(vars(self))
        if not isinstance(settings, dict) or not set(settings) <= names:
            keys = sorted(map(str, settings))[:10] if isinstance(settings, dict) else type(settings).__name__
            raise ValueError(f"its fit settings {keys} are not among {sorted(names)}")
        probe = copy.copy(self)
        if alone:
            vars(probe).update(type(self)().get_params(deep=False))
        vars(probe).update(settings)
        probe._validate_params()
        probe._check_loaded_params()

    def _empty_module(self, n_features, n_outputs):
        """The module these parameters build, with no parameter values drawn (for its structure)."""
        module, module_kwargs = self._module(n_features, n_outputs)
        if module is LinearLogits:  # its device is explicit (see LinearLogits), which the context would not override
            module_kwargs = {**module_kwargs, "device": "meta"}
        with torch.device("meta"):
            return module(**module_kwargs, dtype=torch.float64)

    def _fitted_state(self, module, use="continued (warm_start=True or partial_fit)"):
        """A ``state_dict`` for ``module`` holding the fitted arrays (where a new training run starts, or a file's
        tensors: ``use`` words the refusal when they do not fit ``module``, see :func:`._modules.layers_state`)."""
        return layers_state(module, self._fitted_layers(dense=True), use)

    # copy.copy and copy.deepcopy would go through __reduce_ex__, i.e. the pickle state below, and drop history_:
    # a copy in memory is the model as it is, history included (as a copy of MLPClassifier keeps loss_curve_).
    def __copy__(self):
        copied = type(self).__new__(type(self))
        copied.__dict__.update(self.__dict__)
        return copied

    def __deepcopy__(self, memo):
        copied = type(self).__new__(type(self))
        memo[id(self)] = copied
        copied.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return copied

    def __getstate__(self):
        # A copy: on Python >= 3.11 BaseEstimator's state is the instance's own __dict__ (object.__getstate__
        # returns it), and the edits below would strip a live model's history_ whenever it is pickled.
        check_picklable(self)
        state = dict(super().__getstate__())
        # The history is for inspection after fit; loss_curve_ (pickled) keeps its gist.
        state.pop("history_", None)
        if state.get("_y_dtype") is not None:  # as a string: skops trusts str, not numpy.dtype
            state["_y_dtype"] = np.dtype(state["_y_dtype"]).str
        return state

    def __setstate__(self, state):
        net = state.pop("net_", None)
        if net is not None and not isinstance(getattr(net, "module_", None), torch.nn.Module):
            # Not a pickle of ours (a crafted skops or pickle state): refused in words, not an AttributeError.
            raise TypeError(
                f"This {type(self).__name__} state has a 'net_' of type {type(net).__name__}, which is not a trained "
                "skorch net: it was not written by torchlogit."
            )
        super().__setstate__(state)
        if net is not None:  # pickled before the lean state: take the model out of the skorch net
            incremental = state.pop("_incremental", False)
            self.__dict__.pop("_incremental", None)
            params = next(net.module_.parameters())
            dtype = np.float32 if params.dtype == torch.float32 else np.float64
            self._set_model_attributes(net.module_, dtype)
            self._set_history(plain(list(net.history)))
            if incremental:
                self._keep_partial_state(net)
        check_unpickled(self)

    @available_if(lambda self: self._linear_only())
    def sparsify(self):
        """Convert ``coef_`` to a ``scipy.sparse`` CSR matrix, as scikit-learn's linear models do.

        With an L1 penalty most coefficients are zero; the sparse form then takes less
        memory and predicts faster. Predictions do not change. Linear models only.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        check_is_fitted(self, msg=f"Estimator, {type(self).__name__}, must be fitted before sparsifying.")
        self._check_linear("sparsify")
        self.coef_ = sp.csr_matrix(host_array(self.coef_))  # SciPy: NumPy even after an array-API fit
        return self

    @available_if(lambda self: self._linear_only())
    def densify(self):
        """Convert a sparse ``coef_`` (see :meth:`sparsify`) back to a NumPy array, the default format.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        check_is_fitted(self, msg=f"Estimator, {type(self).__name__}, must be fitted before densifying.")
        self._check_linear("densify")
        if sp.issparse(self.coef_):
            # After an array-API fit the other fitted arrays are the caller's: coef_ goes back to theirs.
            self.coef_ = origin_of(self.intercept_).wrap(self.coef_.toarray())
        return self

    def _linear_only(self):
        """``available_if`` test: sparsify / densify exist for linear models only (hidden layers have no coef_)."""
        try:
            hidden = self._structure_sizes()
        except (TypeError, ValueError):  # an invalid parameter: fit reports it
            return True
        if hidden:
            raise AttributeError(
                "sparsify() and densify() apply to coef_, which only linear models have (no hidden layers)."
            )
        return True

    def _check_linear(self, method):
        if "coef_" not in vars(self):
            raise AttributeError(f"{method}() applies to coef_, which only linear models have (no hidden layers).")

    # ------------------------------------------------------------- persistence
    def save(self, path):
        """Save the fitted model in torchlogit's safe format (no pickle; see :meth:`load`).

        Parameters
        ----------
        path : str or path-like
            Where to write the file.

        Notes
        -----
        The file holds the parameters, the fitted attributes and the model's arrays
        (``coef_`` and ``intercept_``, or ``coefs_`` and ``intercepts_``), with a format
        version and a SHA-256 checksum, the settings of the fit (what :meth:`summary`
        computes with) and the metadata-routing requests set on the estimator. The
        training history (``history_``, ``loss_curve_``) and the optimizer state are not saved: a loaded model's
        ``partial_fit`` starts anew from its coefficients (``n_iter_`` and the epochs counted from 1; a pickle
        continues exactly). ``callbacks`` (other than an empty list) and a
        ``RandomState`` instance as ``random_state`` cannot be saved (set them to None or
        an int first); a :class:`torch.device` given as ``device`` is saved as its name,
        and :meth:`load` sets the device it is given (the CPU by default). String labels
        come back in the narrowest ``<U`` width that holds them.

        Raises
        ------
        ValueError
            When the model holds a state that no fit leaves (``coef_`` or ``intercept_`` set to
            inf or NaN, ``classes_`` that disagree with the coefficients), as pickling refuses it.
        TypeError
            When the model holds what the format does not store (callbacks, a
            ``RandomState``, labels that are not numbers or strings, a label longer than
            4096 characters): the file is checked with :meth:`load`'s own rules before it
            is written, so a file that ``save`` writes always loads. Pickle, joblib and
            skops store such models.
        """
        check_is_fitted(self)
        self._fitted_activation()  # the file's model is the one predict uses: refused where predict refuses it
        save_model(self, path)

    @classmethod
    def load(cls, path, device="cpu"):
        """Load a model written by :meth:`save`, executing nothing from the file.

        Parameters
        ----------
        path : str or path-like
            A file written by :meth:`save` (by this class).
        device : str or torch.device, default="cpu"
            Where the loaded model predicts (a device this machine lacks: on the CPU here,
            set up for that device elsewhere); a malformed name raises a ``ValueError``.

        Returns
        -------
        estimator : instance of this class
            Fitted, with identical predictions. A model saved after :meth:`sparsify` comes back
            with a dense ``coef_`` (call ``sparsify()`` again): its predictions then agree to the
            last bit of a dense against a sparse product (about 1e-16), not bitwise.

        Raises
        ------
        ModelFileError
            (a ``ValueError``) for a file that is not a torchlogit model of this class, was
            truncated or altered, has an unknown format version, or describes anything
            inconsistently. Nothing else is raised for a malformed file.
        """
        return load_model(cls, path, device=device)

    def _restore_state(self, state, dtype):
        """Set the model's arrays from a file's tensors (named as the module's ``state_dict``)."""
        module = self._empty_module(self.n_features_in_, self._n_outputs)
        self._set_layers(
            [
                (state[f"{name}.weight"].T, state.get(f"{name}.bias"))
                for name, layer in module.named_modules()
                if isinstance(layer, torch.nn.Linear)
            ],
            dtype,
        )

    def to_onnx(self, path):
        """Export the fitted model to an ONNX file, with ``torch.onnx.export`` (no skl2onnx needed).

        The graph takes a float32 input ``X`` of shape (n_samples, n_features) and has the
        outputs skl2onnx gives ``LogisticRegression``: ``label`` (int64 class labels, or
        the 0/1 label matrix for multi-label targets) and ``probabilities``. For string
        labels, pipelines or float64 inputs, use skl2onnx with :mod:`torchlogit.onnx`.

        Parameters
        ----------
        path : str or path-like
            Where to write the ``.onnx`` file.

        Returns
        -------
        self : object
            The estimator, unchanged.
        """
        check_is_fitted(self)
        export_onnx(self, path)
        return self

    # -------------------------------------------------------------- prediction
    def _prediction_device(self):
        """The configured device where this machine has it, else the CPU (a GPU-trained model predicts anywhere).

        A ``device`` that names no device at all (``set_params(device="gpu")`` after fit) is refused in the
        parameter's words, as fit refuses it: it used to predict on the CPU without a word.
        """
        check_device_name(self.device, owner=type(self).__name__)
        try:
            return resolve_device(self.device, owner=type(self).__name__)
        except ValueError:
            return torch.device("cpu")

    def _fitted_activation(self):
        """The activation between the hidden layers that predictions and exports use ("identity" without the
        parameter), refused in fit's words when ``set_params`` after the fit named none: a typo ("reLU") predicted
        with no activation at all, silently (``MLPClassifier`` raises at predict)."""
        if "activation" not in self._parameter_constraints:
            return "identity"
        validate_parameter_constraints(
            {"activation": self._parameter_constraints["activation"]},
            {"activation": self.activation},
            caller_name=type(self).__name__,
        )
        return self.activation

    def _logits(self, X, method):
        """(float64 logits, the :class:`~torchlogit._data.Origin` of ``X``, the scores' dtype), from the fitted arrays.

        The logits are NumPy, or a tensor where a tensor ``X`` lives. The scores' dtype is
        scikit-learn's (:func:`~torchlogit._predict.score_dtype`); labels are read from the float64 logits.

        The fitted arrays (``coef_`` / ``coefs_``) are the model. On the CPU a linear
        model computes ``X @ coef_.T + intercept_`` as scikit-learn does; hidden layers are
        summed term by term so that a row's prediction does not depend on the other rows
        (see :mod:`torchlogit._predict`). On another device, one chunked torch path.
        """
        check_is_fitted(self)
        self._complete_assigned_model()
        check_origin(self, X, method)
        if on_device(X):  # computed where the tensor lives, returned there
            activation = self._fitted_activation()
            tensor, layers = checked_tensor(self, X), self._fitted_layers()
            logits = tensor_logits(tensor, layers, activation)
            return logits, origin_of(X), score_dtype(tensor.dtype, layers, given_dtype(X))
        logits, dtype = self._host_logits(host_array(X))
        return logits, origin_of(X), dtype

    def _complete_assigned_model(self):
        """What a fit records besides the public arrays, for a model assigned to an unfitted estimator (see
        :meth:`TorchLogisticClassifier._complete_assigned_model`); nothing here."""

    def _host_logits(self, X):
        """(float64 NumPy logits, the scores' dtype) for NumPy-like ``X`` (see :meth:`_logits`)."""
        if isinstance(X, (list, tuple)):
            X = np.asarray(X)
        if getattr(getattr(X, "dtype", None), "kind", None) in ("U", "S"):
            # Strings (numeric ones too) are refused as LogisticRegression refuses them, in scikit-learn's words:
            # the float dtypes asked for below would convert "1.5" and predict from it.
            validate_data(self, X, reset=False, dtype="numeric")
        given = given_dtype(X)  # before validation casts float16, small integers and booleans to float64
        X = check_sparse_indices(
            validate_data(self, X, reset=False, accept_sparse=ACCEPT_SPARSE, dtype=[np.float64, np.float32])
        )
        layers = self._fitted_layers()
        activation = self._fitted_activation()
        device = self._prediction_device()
        logits = (
            device_logits(X, layers, activation, device) if device.type != "cpu" else host_logits(X, layers, activation)
        )
        return logits, score_dtype(X.dtype, layers, given)

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
        logits, origin, dtype = self._logits(X, "decision_function")
        return origin.wrap(as_dtype(logits[:, 0] if self._kind == "binary" else logits, dtype))

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
        logits, origin, dtype = self._logits(X, "predict_proba")
        return origin.wrap(as_dtype(probabilities(logits, self._kind), dtype))

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed stably from the logits.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray, same shape as :meth:`predict_proba`
        """
        logits, origin, dtype = self._logits(X, "predict_log_proba")
        return origin.wrap(as_dtype(log_probabilities(logits, self._kind), dtype))

    def predict(self, X):
        """Most probable class of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        logits, origin, _ = self._logits(X, "predict")
        return origin.wrap(self._labels(logits))

    def _labels(self, logits):
        """Predicted labels from float64 logits (NumPy, or a tensor on the input's device)."""
        self._check_label_settings()
        return class_labels(logits, self._kind, host_classes(self))

    def _check_label_settings(self):
        """Refuse parameters, set after the fit, that the labels would ignore: by :meth:`predict` and by the ONNX
        exports, whose graphs compute the labels too (none here; see TorchMultiLabelClassifier's)."""

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
        check_is_fitted(self)
        check_origin(self, X, "score")
        X, y, sample_weight = host_inputs(X, y, sample_weight)
        # NumPy from here on: accuracy_score then needs no array-API dispatch (nor a device).
        logits, _ = self._host_logits(X)
        with config_context(array_api_dispatch=False):
            return float(accuracy_score(y, self._labels(logits), sample_weight=sample_weight))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.array_api_support = ARRAY_API_DISPATCH_AVAILABLE  # SciPy >= 1.14, scikit-learn's helpers
        return tags


def _l1_totals(net):
    """The mini-batch L1 step's running totals (see :class:`._callbacks.L1Proximal`), or None without one."""
    for name, callback in getattr(net, "callbacks_", []):
        if name == "l1_proximal" and hasattr(callback, "total_"):
            return callback.state()
    return None
