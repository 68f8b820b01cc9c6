"""Plumbing shared by the torchlogit estimators.

Validation constants, device/dtype resolution, building and running the skorch net,
prediction in bounded-memory chunks, and the guarantee that a failed ``fit`` leaves a
fitted estimator as it was. Subclasses validate their own targets and turn the fitted
module into their public attributes.
"""

import copy
import warnings
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._callbacks import LBFGSConvergence, NoImprovementStopping
from ._devices import DTYPES, resolve_device
from ._net import LogitNet, TensorData
from ._objective import RegularizedLogLoss
from ._rows import canonical_rows
from ._solvers import LBFGS

# L-BFGS history: SciPy's default, which scikit-learn uses.
_LBFGS_HISTORY = 10
# Max line-search evaluations per L-BFGS iteration; scikit-learn passes maxls=50.
_LBFGS_MAX_EVAL = 50
# Rows per prediction chunk are chosen so that one chunk holds about this many values.
_PREDICT_CHUNK_VALUES = 1 << 22

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


def as_tensor(X, dtype, device):
    """A tensor view of ``X`` when it already has the right dtype and device, else one copy."""
    with warnings.catch_warnings():
        # Read-only arrays (memmaps) are fine: torchlogit never writes to its input.
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        tensor = torch.from_numpy(np.asarray(X))
    return tensor.to(device=device, dtype=dtype)


def gathered_tensor(X, rows, dtype, device):
    """``X[rows]`` as a tensor of ``dtype`` on ``device``, built chunk by chunk (X is copied once)."""
    if len(rows) == len(X) and np.array_equal(rows, np.arange(len(X))):
        return as_tensor(X, dtype, device)
    out = torch.empty((len(rows), *X.shape[1:]), dtype=dtype, device=device)
    step = max(1, _PREDICT_CHUNK_VALUES // max(int(np.prod(X.shape[1:])), 1))
    for start in range(0, len(rows), step):
        out[start : start + step] = as_tensor(X[rows[start : start + step]], dtype, device)
    return out


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
    def _check_solver_options(self):
        """Checks that depend on several parameters; run before any data work."""
        if self.l1_ratio > 0:
            raise ValueError(
                f"l1_ratio={self.l1_ratio} (an L1 or elastic-net penalty) is not supported "
                "yet; use l1_ratio=0 (L2) or C=np.inf (no penalty)."
            )
        return resolve_device(self.device, owner=type(self).__name__), DTYPES[self.dtype]

    def _optimizer(self, n_samples):
        """(optimizer class, learning rate, batch size, optimizer kwargs) for ``self.solver``."""
        if self.solver == "lbfgs":
            kwargs = dict(history_size=_LBFGS_HISTORY, max_ls=_LBFGS_MAX_EVAL)
            return LBFGS, 1.0, n_samples, kwargs
        batch_size = min(200, n_samples) if self.batch_size == "auto" else min(self.batch_size, n_samples)
        if self.solver == "adam":
            return torch.optim.Adam, self.learning_rate_init, batch_size, {}
        return torch.optim.SGD, self.learning_rate_init, batch_size, {"momentum": self.momentum}

    def _stopping_rule(self, dtype):
        if self.solver == "lbfgs":
            return LBFGSConvergence(tol=self.tol, ftol=ftol_for(dtype))
        return NoImprovementStopping(tol=self.tol, n_iter_no_change=self.n_iter_no_change)

    def _train(
        self,
        X,
        target,
        sample_weight,
        *,
        kind,
        module,
        module_kwargs,
        device,
        dtype,
        row_factor=None,
        pos_weight=None,
        init_state=None,
    ):
        """Build the skorch net, train it on ``X`` and return it (nothing is stored on ``self``).

        ``target`` and ``sample_weight`` are NumPy arrays already encoded for ``kind``.
        Training uses the canonical rows of :func:`canonical_rows`; ``row_factor`` (a
        per-row multiplier that is the same for identical rows, such as class weights)
        is applied after merging so that weight sums stay exact. ``init_state`` is a
        module ``state_dict`` to start from (warm start).
        """
        rows, sample_weight = canonical_rows(X, target, sample_weight)
        if row_factor is not None:
            sample_weight = sample_weight * row_factor[rows]
        n_samples = len(rows)
        optimizer, lr, batch_size, optimizer_kwargs = self._optimizer(n_samples)
        stopping = self._stopping_rule(dtype)
        user_callbacks = copy.deepcopy(self.callbacks) if self.callbacks else []
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        if pos_weight is not None:
            pos_weight = torch.as_tensor(pos_weight, dtype=dtype, device=device)
        net = LogitNet(
            module=module,
            criterion=RegularizedLogLoss,
            optimizer=optimizer,
            lr=lr,
            max_epochs=self.max_iter,
            batch_size=batch_size,
            train_split=None,
            # Stopping last, so user callbacks see every epoch, the final one included.
            callbacks=[*user_callbacks, ("stopping", stopping)],
            device=device,
            verbose=int(self.verbose),
            shuffle_seed=seed,
            **{f"module__{k}": v for k, v in module_kwargs.items()},
            module__dtype=dtype,
            criterion__kind=kind,
            criterion__C=self.C,
            criterion__l1_ratio=self.l1_ratio,
            criterion__weight_sum=float(np.sum(sample_weight)),
            criterion__n_samples=n_samples,
            criterion__pos_weight=pos_weight,
            **{f"optimizer__{k}": v for k, v in optimizer_kwargs.items()},
        )
        target_dtype = torch.int64 if kind == "multinomial" else dtype
        cuda = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda):
            # Seeded so that hidden-layer initialisation and dropout are reproducible,
            # without touching the user's global torch RNG state.
            torch.manual_seed(seed)
            net.initialize()
            if init_state is not None:
                net.module_.load_state_dict(init_state)
            data = TensorData(
                gathered_tensor(X, rows, dtype, device),
                as_tensor(target[rows], target_dtype, device),
                as_tensor(sample_weight, dtype, device),
            )
            net.partial_fit(data)
        if not stopping.converged_:
            template = _LBFGS_WARNING if self.solver == "lbfgs" else _STOCHASTIC_WARNING
            warnings.warn(
                template.format(n_iter=len(net.history), max_iter=self.max_iter), ConvergenceWarning, stacklevel=2
            )
        return net

    # -------------------------------------------------------------- prediction
    def _logits(self, X):
        """Raw module outputs for ``X`` as float64 NumPy, computed on the model's device in chunks."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        module = self.net_.module_
        param = next(module.parameters())
        out = np.empty((X.shape[0], self._n_outputs), dtype=np.float64)
        step = max(1, _PREDICT_CHUNK_VALUES // max(X.shape[1], 1))
        module.eval()
        with torch.inference_mode():
            for start in range(0, X.shape[0], step):
                chunk = as_tensor(X[start : start + step], param.dtype, param.device)
                out[start : start + step] = module(chunk).to(dtype=torch.float64).cpu().numpy()
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


def fitted_n_iter(net):
    """``n_iter_`` as scikit-learn reports it: an int32 array of shape (1,)."""
    return np.asarray([len(net.history)], dtype=np.int32)
