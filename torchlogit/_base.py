"""Plumbing shared by the torchlogit estimators: validate, train, publish.

The data comes and goes through :mod:`torchlogit._data` (the caller's arrays in,
validated training inputs, canonical rows, the one copy to the device, results back in
the caller's array type); prediction arithmetic is :mod:`torchlogit._predict`'s.
``partial_fit`` (``_incremental``), ``summary`` (``_inference``) and dask arrays
(``_dask``) come from their own modules. Subclasses validate their own targets and turn
the fitted module into their public attributes.
"""

import copy
import math
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn import config_context
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from ._callbacks import (
    _STOCHASTIC_WARNING,
    L1Proximal,
    LBFGSConvergence,
    NoImprovementStopping,
    ValidationLoss,
    check_finite_parameters,
    ftol_for,
)
from ._compat import ARRAY_API_DISPATCH_AVAILABLE
from ._dask import fit_dask, is_dask_array, is_dask_collection, worker_thread_share
from ._data import (
    check_origin,
    checked_tensor,
    effective_rows,
    follow_origin,
    host_array,
    host_inputs,
    on_device,
    origin_of,
)
from ._devices import DTYPES, check_device_name, resolve_device
from ._export import export_onnx
from ._incremental import IncrementalMixin
from ._inference import InferenceMixin
from ._kernels import ACCEPT_SPARSE, add_column_square_sums, column_major_copy, column_max_abs
from ._modules import LinearLogits, layer_coefficients, layers_state
from ._net import LogitNet
from ._newton import NewtonCholesky, NewtonConvergence, check_hessian_size
from ._objective import RegularizedLogLoss, l1_strength
from ._persistence import load as load_model
from ._persistence import save as save_model
from ._predict import class_labels, device_logits, host_logits, log_probabilities, probabilities, tensor_logits
from ._solvers import LBFGS
from ._state import keep_state_on_failure, load_warm_start, optimizer_moments, plain
from ._targets import pos_weight_tensor
from ._threads import blas_threads, threads_for
from ._training_set import TrainingSet

# L-BFGS history: SciPy's default, which scikit-learn uses.
_LBFGS_HISTORY = 10
# Max line-search evaluations per L-BFGS iteration; scikit-learn passes maxls=50.
_LBFGS_MAX_EVAL = 50
# float32's gradient rule is trusted when this many float32 ulps of the largest feature value
# stay below tol: a blocked float32 sum of x_ij * residual_i / S (|residual| <= 1) errs by a
# few ulps of max |x| in practice, so the bound leaves a wide margin. Above it, a float32
# "max |grad| <= tol" is checked in float64 before it counts.
_FLOAT32_GRADIENT_ULPS = 32
# Column scales (max |x_j|, and 1 for the intercept) further apart than this make L-BFGS run
# preconditioned (see _preconditioner). Below it the path is L-BFGS-B's, scikit-learn's.
_SCALE_RATIO_PRECONDITIONED = 1e6
# Sparse data (L2 only) runs preconditioned by its columns' second moments when their factors lie further
# apart than this (see _sparse_preconditioner); the moments are read from this many stored values at most.
_MOMENT_RATIO_PRECONDITIONED = 10.0
_MOMENT_SAMPLE_VALUES = 1 << 20
_MOMENT_SAMPLE_BLOCKS = 16
_NEWTON_WARNING = "Newton solver did not converge after {n_iter} iterations."


def _sparse_preconditioner(X, weight, module, criterion):
    """L-BFGS's diagonal preconditioner for an L2 linear model on a sparse CSR tensor ``X``, or None.

    The Hessian's diagonal of the log-loss is ``sum_i w_i p_i (1 - p_i) x_ij^2 / S``: on text-like
    data it follows each column's frequency, which spreads over orders of magnitude (Zipf's
    law), while L-BFGS starts from a single scale for all coefficients. The factor here is the
    inverse square root of the bound ``m_j / 4 + l2`` with ``m_j`` the weighted mean of
    ``x_ij^2``, as :func:`_preconditioner` does with ``max |x_j|``. Sparse Zipf text 50k x 100k,
    5 classes (one thread, float32): 555 -> 92 iterations and 17.3 -> 3.5 s, the objective 50x
    closer to the optimum at the same ``tol``. ``max |x_j|``, the dense rule's scale, is about
    the same for every column of such data.

    The moments come from ``_MOMENT_SAMPLE_BLOCKS`` blocks of rows spread over ``X`` (canonical
    order), ``_MOMENT_SAMPLE_VALUES`` stored values in all: a few milliseconds, where a pass over
    10M values would weigh on a fit of a third of a second; a column missing from the sample
    gets the penalty's curvature alone. Data whose columns' factors lie within
    ``_MOMENT_RATIO_PRECONDITIONED`` of each other (columns of similar frequencies; columns
    without a value in the sample aside) keeps scikit-learn's path.
    """
    l2 = criterion.l2_strength
    if l2 <= 0 or criterion.l1_ratio > 0:  # without an L2 term a column never seen has no curvature to scale by
        return None
    crow, values = X.crow_indices(), X.values()
    n_rows, nnz = X.shape[0], values.numel()
    if n_rows == 0 or nnz == 0:
        return None
    weight = weight.to(device=values.device, dtype=torch.float64)
    blocks = min(_MOMENT_SAMPLE_BLOCKS, n_rows)
    per_block = max(1, _MOMENT_SAMPLE_VALUES // blocks)
    starts = [b * n_rows // blocks for b in range(blocks)]
    ends = [starts[b + 1] if b + 1 < blocks else n_rows for b in range(blocks)]
    if nnz > _MOMENT_SAMPLE_VALUES:  # each block: its first rows holding about per_block values
        limits = crow[torch.tensor(starts, device=crow.device)] + per_block
        stops = torch.searchsorted(crow, limits, right=True).tolist()
        ends = [max(start + 1, min(end, stop - 1)) for start, end, stop in zip(starts, ends, stops, strict=True)]
    moments = torch.zeros(X.shape[1], dtype=torch.float64, device=values.device)
    sampled_weight = 0.0
    bounds = crow[torch.tensor(starts + ends, device=crow.device)].tolist()
    for start, end, lo, hi in zip(starts, ends, bounds[:blocks], bounds[blocks:], strict=True):
        add_column_square_sums(moments, X, weight, start, end, lo, hi)
        sampled_weight += float(weight[start:end].sum())
    if sampled_weight <= 0:
        return None
    factor = torch.rsqrt(moments / sampled_weight + 4 * l2)
    seen = factor[moments > 0]  # the band is the spread of the columns' frequencies: empty ones do not count
    if seen.numel() == 0 or float(seen.max()) <= _MOMENT_RATIO_PRECONDITIONED * float(seen.min()):
        return None
    return module.parameter_scale(factor.to(values.dtype))


def _preconditioner(X, module, criterion, max_abs=None):
    """L-BFGS's diagonal preconditioner for a linear model on ``X``, or None (plain L-BFGS).

    With column scales far apart (max |x_j| from 1e-8 to 1e8, say), the curvature along
    the small columns is lost in L-BFGS's single scale ``gamma``: progress per iteration
    falls below the ``ftol`` rule, which then stops the run far from the optimum (measured:
    objective 0.392 against 0.371 on 60 x 3 with a column times 1e7; L-BFGS-B, scikit-learn's
    solver, stalls likewise on other such cases). The preconditioner is the inverse of a
    bound on the Hessian's diagonal, ``max|x_j|^2 / 4`` from the log-loss plus the L2
    penalty's ``(1 - l1_ratio) / (C S)`` (``1/4`` for an intercept), so that every
    coefficient is on the same footing, a column too small to matter included (its
    curvature is the penalty's). Data whose factors lie within
    ``_SCALE_RATIO_PRECONDITIONED`` keeps scikit-learn's path.

    ``max_abs`` (the largest ``|x|``, known from the data's preparation) often settles that
    without the column pass, which costs about a fifth of a sparse text fit (146 ms on CSR
    200k x 5000 at 1%).
    """
    l2 = criterion.l2_strength
    intercept = module.linear.bias is not None

    def within_band(high, low):
        if intercept:  # the intercept's factor is 1
            high, low = max(high, 1.0), min(low, 1.0)
        return high <= _SCALE_RATIO_PRECONDITIONED * low

    if l2 > 0 and max_abs is not None and math.isfinite(max_abs):
        # Without a pass over the columns: every factor lies between 1 / sqrt(max_abs^2 + 4 l2) (the
        # largest column) and 1 / sqrt(4 l2) (a column of zeros). Inside the band, that is enough.
        if within_band(1 / math.sqrt(4 * l2), 1 / math.sqrt(max_abs**2 + 4 * l2)):
            return None
    scale = column_max_abs(X)
    if scale is None or scale.numel() == 0:
        return None
    factor = torch.rsqrt(scale**2 + 4 * l2)  # 1 / sqrt(curvature bound / intercept's 1/4)
    factor = torch.where(torch.isfinite(factor), factor, torch.ones_like(factor))  # columns of zeros, no L2
    if within_band(float(factor.max()), float(factor.min())):
        return None
    return module.parameter_scale(factor)


class BaseTorchClassifier(InferenceMixin, IncrementalMixin, ClassifierMixin, BaseEstimator):
    """Shared parameters, fitting and prediction of the torchlogit classifiers."""

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
        origin = origin_of(X)
        with keep_state_on_failure(self), worker_thread_share():
            device, dtype = self._check_solver_options()
            data = TrainingSet.from_user(self, X, y, sample_weight, device)
            module, module_kwargs = self._module(data.n_features, data.n_outputs)
            if self._solver() == "newton-cholesky":
                check_hessian_size(data.n_features, data.n_outputs, self.fit_intercept)
            init_state = self._warm_start_state(data.targets.classes, data.n_features)
            with threads_for(data.n_values):
                net = self._train(data, module=module, module_kwargs=module_kwargs, dtype=dtype, init_state=init_state)
            self._publish(net, data.targets, incremental=False, X_dtype=data.X_dtype)
            follow_origin(self, origin)
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
            self._publish(net, targets, incremental=False, X_dtype=X.dtype)
        return self

    def _publish(self, net, targets, *, incremental, X_dtype=np.float64):
        """Set the fitted attributes from a trained net (the last step of every fit); the net is not kept.

        What the estimator keeps is the model (``coef_`` / ``coefs_``), scikit-learn's
        fitted attributes and the training history as plain data; ``partial_fit`` also
        keeps its optimizer's moments and shuffling seed, as arrays, to continue from.
        """
        self.__dict__.pop("net_", None)  # a model of the format before the lean state
        self.classes_ = targets.classes
        self._kind = targets.kind
        self._n_outputs = targets.n_outputs
        # scikit-learn's rule: float32 data gives float32 coefficients, anything else float64.
        self._set_model_attributes(net.module_, np.float32 if np.dtype(X_dtype) == np.float32 else np.float64)
        self._set_history(plain(list(net.history)))
        if incremental:
            self._keep_partial_state(net)
        else:
            self.__dict__.pop("_partial_state", None)

    def _keep_partial_state(self, net):
        """What the next ``partial_fit`` continues from: solver, shuffling seed and optimizer moments (arrays)."""
        self._partial_state = {
            "solver": self._solver(),
            "seed": int(net.shuffle_seed),
            "optimizer": optimizer_moments(net.optimizer_),
        }

    def _set_history(self, history):
        self.history_ = history
        self.n_iter_ = np.asarray([len(history)], dtype=np.int32)
        self.loss_curve_ = [row.get("objective", row.get("train_loss")) for row in history]

    def _train_remote(self, data, targets, weight_sum, *, n_features, dtype):
        """Train a linear net on data held by dask workers; the parameters live on this machine's CPU."""
        # The data stays on the workers in the training dtype: no float64 continuation there,
        # so a float32 stall is reported as such (ConvergenceWarning), never as convergence.
        stopping = self._stopping_rule(dtype, validated=False, trust_gradient=True, can_promote=False)
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
        """scikit-learn's ``ConvergenceWarning`` (its wording) unless the stopping rule held."""
        if stopping.converged_:
            return
        if isinstance(stopping, LBFGSConvergence):
            logistic = isinstance(net.module_, LinearLogits)  # hidden layers: MLPClassifier's text, no link
            message = stopping.warning(len(net.history), self.max_iter, logistic=logistic)
        elif isinstance(stopping, NewtonConvergence):
            message = _NEWTON_WARNING.format(n_iter=len(net.history))
        else:
            message = _STOCHASTIC_WARNING.format(max_iter=self.max_iter)
        warnings.warn(message, ConvergenceWarning, stacklevel=3)

    def _validate_fit_data(self, X, y, reset=True):
        return validate_data(self, X, y, reset=reset, accept_sparse=ACCEPT_SPARSE, dtype=[np.float64, np.float32])

    def _vector_products(self, data, module):
        """Whether this fit multiplies its data by vectors only: dense, one output, linear L-BFGS, on the CPU."""
        return (
            data.device.type == "cpu"
            and not data.sparse
            and data.n_outputs == 1
            and module is LinearLogits
            and self._solver() == "lbfgs"
        )

    def _solver(self):
        return self.solver

    def _warm_start_state(self, classes, n_features):
        if not (self.warm_start and hasattr(self, "classes_")):
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
        return self._fitted_state(self._empty_module(n_features, self._n_outputs))

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

    def _stopping_rule(self, dtype, validated, trust_gradient=True, can_promote=True, rounding=None):
        if self._solver() == "lbfgs":
            return LBFGSConvergence(
                self.tol, dtype, trust_gradient=trust_gradient, can_promote=can_promote, rounding=rounding
            )
        if self._solver() == "newton-cholesky":
            return NewtonConvergence(tol=self.tol, ftol=ftol_for(dtype))
        if validated:
            return NoImprovementStopping(
                tol=self.tol, n_iter_no_change=self.n_iter_no_change, monitor="valid_loss", restore_best=True
            )
        return NoImprovementStopping(tol=self.tol, n_iter_no_change=self.n_iter_no_change)

    def _validation_fraction(self):
        """The fraction held out for early stopping, or None (L-BFGS and fits without early stopping)."""
        if getattr(self, "early_stopping", False) and self._solver() != "lbfgs":
            return self.validation_fraction
        return None

    def _train(self, data, *, module, module_kwargs, dtype, init_state=None):
        """Build the skorch net, train it on ``data`` (a :class:`TrainingSet`) and return it (stores nothing).

        Training uses the canonical rows of ``data`` (identical rows merged; class weights
        applied after merging so that weight sums stay exact). ``init_state`` is a module
        ``state_dict`` to start from (warm start).

        float32 L-BFGS that stalls short of ``tol`` continues in float64 (see
        :meth:`_continue_in_float64`), so that convergence is only ever claimed on
        scikit-learn's rules in float64 terms.
        """
        train, valid = data.split(self._validation_fraction(), self._seed())
        targets, device = data.targets, data.device
        batch_size = self._optimizer(train.n_samples)[2]
        seed = self._seed()
        pos_weight = pos_weight_tensor(targets, dtype, device)

        # Fits whose products go to NumPy's BLAS (._threads.blas_threads) train on a column-major copy.
        vector_products = self._vector_products(data, module)
        column_major = column_major_copy(data.n_values, vector_products)
        batch = data.batch(train, dtype, batch_size, column_major)
        lbfgs = self._solver() == "lbfgs"
        single = dtype != torch.float64
        trust_gradient = not single or (
            module is LinearLogits
            and _FLOAT32_GRADIENT_ULPS * np.finfo(np.float32).eps * max(batch.max_abs, 1.0) <= self.tol
        )
        # MPS computes in float32 at most: there a float32 stall is reported, not continued.
        can_promote = single and device.type != "mps"
        # A linear model's float32 stall is judged against its objective's rounding (._callbacks).
        rounding = (
            (batch.max_abs, effective_rows(batch.weight)) if lbfgs and single and module is LinearLogits else None
        )
        validated = valid is not None
        stopping = self._stopping_rule(
            dtype, validated=validated, trust_gradient=trust_gradient, can_promote=can_promote, rounding=rounding
        )
        first = []
        if valid is not None:
            held_out = data.batch(valid, dtype, batch_size)
            first = [("valid_loss", ValidationLoss(held_out, targets.kind, pos_weight))]
        # Stopping last, so user callbacks see every epoch, the final one included.
        callbacks = self._net_callbacks(first=first, last=[("stopping", stopping)])
        if module is not LinearLogits:
            # Hidden layers draw their initialisation and dropout from the module's own generator.
            module_kwargs = {**module_kwargs, "seed": seed}
        net = self._make_net(
            module,
            module_kwargs,
            device,
            dtype,
            kind=targets.kind,
            weight_sum=train.weight_sum,
            n_samples=train.n_samples,
            pos_weight=pos_weight,
            callbacks=callbacks,
            seed=seed,
        )
        net.initialize()
        if init_state is not None:
            load_warm_start(net.module_, init_state)
        if lbfgs and module is LinearLogits:
            scale = None
            if batch.X.layout == torch.sparse_csr:  # text: column frequencies (L2 fits; None otherwise)
                scale = _sparse_preconditioner(batch.X, batch.weight, net.module_, net.criterion_)
            if scale is None:  # any data: column scales (max |x_j|) far apart
                scale = _preconditioner(batch.X, net.module_, net.criterion_, batch.max_abs)
            net.optimizer_.set_preconditioner(scale)
        # The iterations only: the copies above and below use torch's pool (._threads.blas_threads).
        with blas_threads(data.n_values, vector_products):
            net.partial_fit(batch)
        if lbfgs and getattr(stopping, "promote_", False):
            del batch  # the float32 copy is not needed any more: free it before the float64 one is made
            batch = data.batch(train, torch.float64, batch_size, column_major)
            with blas_threads(data.n_values, vector_products):
                self._continue_in_float64(net, batch, stopping, targets, device)
        elif not lbfgs:
            check_finite_parameters(net)
        self._warn_if_not_converged(stopping, net)
        return net

    def _continue_in_float64(self, net, data, stopping, targets, device):
        """Continue a stalled float32 L-BFGS run in float64, from the same point, until sklearn's rules hold.

        The module and the curvature pairs are cast to float64 and the training rows are
        copied once more in float64 from the validated input (so the continuation works on
        the exact input values). The first float64 evaluation may already show
        ``max |grad| <= tol``; otherwise L-BFGS iterates on, the iterations of both phases
        counting towards ``max_iter`` (and ``n_iter_``).
        """
        net.module_.to(torch.float64)
        net.criterion_.pos_weight = pos_weight_tensor(targets, torch.float64, device)
        optimizer = net.optimizer_
        optimizer.cast_(torch.float64)
        stopping.to_float64()
        batch = (data.X, (data.target, data.weight))
        grad_max = optimizer.evaluate(lambda: net.train_step_single(batch)["loss"])
        if grad_max <= stopping.tol:
            stopping.converged_, stopping.status_ = True, 0
            stopping.message_ = "CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL"
            return
        remaining = self.max_iter - len(net.history)
        if remaining > 0:
            net.partial_fit(data, epochs=remaining)

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

    # ------------------------------------------------------------- fitted state
    def _fitted_layers(self, dense=False):
        """The model: ``[(W (n_in, n_out), b (n_out,)), ...]`` from ``coef_`` / ``intercept_`` (see subclasses)."""
        coef = host_array(self.coef_)  # array-API mode keeps it in the input's namespace
        if dense and sp.issparse(coef):
            coef = coef.toarray()
        return [(coef.T, host_array(self.intercept_))]

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

    def _empty_module(self, n_features, n_outputs):
        """The module these parameters build, with no parameter values drawn (for its structure)."""
        module, module_kwargs = self._module(n_features, n_outputs)
        with torch.device("meta"):
            return module(**module_kwargs, dtype=torch.float64)

    def _fitted_state(self, module):
        """A ``state_dict`` for ``module`` holding the fitted arrays (where a new training run starts)."""
        return layers_state(module, self._fitted_layers(dense=True))

    def __getstate__(self):
        # A copy: on Python >= 3.11 BaseEstimator's state is the instance's own __dict__ (object.__getstate__
        # returns it), and the edits below would strip a live model's history_ whenever it is pickled.
        state = dict(super().__getstate__())
        # The history is for inspection after fit; loss_curve_ (pickled) keeps its gist.
        state.pop("history_", None)
        if state.get("_y_dtype") is not None:  # as a string: skops trusts str, not numpy.dtype
            state["_y_dtype"] = np.dtype(state["_y_dtype"]).str
        return state

    def __setstate__(self, state):
        net = state.pop("net_", None)
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
            self.coef_ = self.coef_.toarray()
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
        version and a SHA-256 checksum. The training history and the optimizer state
        are not saved. ``callbacks`` and a ``RandomState`` instance as ``random_state``
        cannot be saved (set them to None or an int first).
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
        """The configured device where this machine has it, else the CPU (a GPU-trained model predicts anywhere)."""
        try:
            return resolve_device(self.device, owner=type(self).__name__)
        except ValueError:
            return torch.device("cpu")

    def _logits(self, X, method):
        """(logits as float64 NumPy, the :class:`~torchlogit._data.Origin` of ``X``), from the fitted arrays.

        The fitted arrays (``coef_`` / ``coefs_``) are the model. On the CPU a linear
        model computes ``X @ coef_.T + intercept_`` as scikit-learn does; hidden layers are
        summed term by term so that a row's prediction does not depend on the other rows
        (see :mod:`torchlogit._predict`). On another device, one chunked torch path.
        """
        check_is_fitted(self)
        check_origin(self, X, method)
        if on_device(X):  # computed where the tensor lives, returned there
            activation = getattr(self, "activation", "identity")
            return tensor_logits(checked_tensor(self, X), self._fitted_layers(), activation), origin_of(X)
        return self._host_logits(host_array(X)), origin_of(X)

    def _host_logits(self, X):
        """Float64 NumPy logits for NumPy-like ``X`` (see :meth:`_logits`)."""
        X = validate_data(self, X, reset=False, accept_sparse=ACCEPT_SPARSE, dtype=[np.float64, np.float32])
        layers = self._fitted_layers()
        activation = getattr(self, "activation", "identity")
        device = self._prediction_device()
        if device.type != "cpu":
            return device_logits(X, layers, activation, device)
        return host_logits(X, layers, activation)

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
        logits, origin = self._logits(X, "decision_function")
        return origin.wrap(logits[:, 0] if self._kind == "binary" else logits)

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
        logits, origin = self._logits(X, "predict_proba")
        return origin.wrap(probabilities(logits, self._kind))

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed stably from the logits.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray, same shape as :meth:`predict_proba`
        """
        logits, origin = self._logits(X, "predict_log_proba")
        return origin.wrap(log_probabilities(logits, self._kind))

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
        logits, origin = self._logits(X, "predict")
        return origin.wrap(self._labels(logits))

    def _labels(self, logits):
        """Predicted labels from float64 logits (NumPy, or a tensor on the input's device)."""
        return class_labels(logits, self._kind, self.classes_)

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
        logits = self._host_logits(X)
        with config_context(array_api_dispatch=False):
            return float(accuracy_score(y, self._labels(logits), sample_weight=sample_weight))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.array_api_support = ARRAY_API_DISPATCH_AVAILABLE  # SciPy >= 1.14, scikit-learn's helpers
        return tags
