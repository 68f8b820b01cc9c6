"""Training machinery of the estimators: the skorch net, its solver and stopping rule, the preconditioners,
and the float64 continuation of a stalled float32 L-BFGS run.

:class:`TrainingMixin` is what ``BaseTorchClassifier._fit`` (and ``partial_fit``, and dask fits) call between
validating the data (:mod:`torchlogit._training_set`) and publishing the fitted attributes: ``_train`` builds
the net for the estimator's parameters, trains it on the canonical rows and returns it; nothing is stored on
the estimator here.
"""

import copy
import math

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ._callbacks import (
    _STOCHASTIC_WARNING,
    FLOAT32_EXHAUSTED,
    CentredIntercepts,
    L1Proximal,
    LBFGSConvergence,
    NoImprovementStopping,
    ValidationLoss,
    check_finite_parameters,
    ftol_for,
    lbfgs_warning,
)
from ._data import effective_rows
from ._kernels import add_column_square_sums, column_major_copy, column_max_abs
from ._modules import LinearLogits
from ._net import LogitNet
from ._newton import NewtonCholesky, NewtonConvergence
from ._objective import RegularizedLogLoss, check_weight_scale, l1_strength, l2_strength
from ._solvers import LBFGS, MINI_BATCH_SOLVERS
from ._state import load_warm_start
from ._targets import pos_weight_tensor
from ._threads import blas_threads, mini_batch_threads
from ._user_warnings import warn

# L-BFGS history: SciPy's default, which scikit-learn uses.
_LBFGS_HISTORY = 10
# Max line-search evaluations per L-BFGS iteration; scikit-learn passes maxls=50.
_LBFGS_MAX_EVAL = 50
# float32's gradient rule is trusted when this many float32 ulps of the largest feature value
# stay below tol: a blocked float32 sum of x_ij * residual_i / S (|residual| <= 1) errs by a
# few ulps of max |x| in practice, so the bound leaves a wide margin. Above it, a float32
# "max |grad| <= tol" is checked in float64 before it counts.
_FLOAT32_GRADIENT_ULPS = 32


def _float32_gradient_trusted(max_abs, tol):
    """Whether a float32 ``max |grad| <= tol`` proves convergence for features up to ``max_abs`` (see above)."""
    # float() for the product: a NumPy float32 scalar compared with a tol beyond float32's range (1e39) casts tol
    # to float32 and warned "overflow encountered in cast".
    return _FLOAT32_GRADIENT_ULPS * float(np.finfo(np.float32).eps) * max(float(max_abs), 1.0) <= tol


# Column scales (max |x_j|, and 1 for the intercept) further apart than this make L-BFGS run
# preconditioned (see _preconditioner). Below it the path is L-BFGS-B's, scikit-learn's.
_SCALE_RATIO_PRECONDITIONED = 1e6
# ... unless the data are this many times wider than tall (see _preconditioner).
_WIDE_RATIO = 3
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
    if sampled_weight <= 0 or not bool(torch.isfinite(moments).all()):
        return None  # values beyond 1e154 overflow their squares: the column scales' preconditioner takes them
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

    Wide data (at least ``_WIDE_RATIO`` times as many columns as rows) keeps scikit-learn's path
    too: there the gradient lies in the span of the few rows, which plain L-BFGS follows, and
    the bound above, blind to that, sent the steps along the small columns' coordinates. On
    columns from 1e-4 to 1e4 at C=1e3 and 1e7 (five shapes from 30 x 90 to 200 x 600, binary and
    4 classes, two seeds: 40 problems) the preconditioned runs reached max_iter and warned in all
    40, where plain L-BFGS, scikit-learn's, converged in 26-96 iterations (at C=1 the two agree);
    at 2 columns a row the two were mixed (each better on some), at 1 the preconditioner won all.
    """
    if X.shape[1] >= _WIDE_RATIO * X.shape[0]:
        return None
    l2 = criterion.l2_strength
    intercept = module.linear.bias is not None

    def within_band(high, low):
        if intercept:  # the intercept's factor is 1
            high, low = max(high, 1.0), min(low, 1.0)
        return high <= _SCALE_RATIO_PRECONDITIONED * low

    if l2 > 0 and max_abs is not None and math.isfinite(max_abs):
        # Without a pass over the columns: every factor lies between 1 / sqrt(max_abs^2 + 4 l2) (the
        # largest column) and 1 / sqrt(4 l2) (a column of zeros). Inside the band, that is enough.
        # hypot: sqrt(max_abs^2 + 4 l2) without squaring max_abs, which overflows beyond 1.3e154 (float64)
        if within_band(1 / math.sqrt(4 * l2), 1 / math.hypot(max_abs, 2 * math.sqrt(l2))):
            return None
    scale = column_max_abs(X)
    if scale is None or scale.numel() == 0:
        return None
    _refuse_subnormal_columns(scale, X.dtype)
    # 1 / sqrt(curvature bound / intercept's 1/4); hypot, as above: a squared column of 1e200 made the factor
    # 0 and froze its coefficient at 0, silently.
    factor = 1 / torch.hypot(scale, torch.full_like(scale, 2 * math.sqrt(l2)))
    factor = torch.where(torch.isfinite(factor), factor, torch.ones_like(factor))  # columns of zeros, no L2
    if within_band(float(factor.max()), float(factor.min())):
        return None
    return module.parameter_scale(factor)


def _refuse_subnormal_columns(scale, dtype):
    """A ValueError naming the first column whose every value is subnormal in ``dtype``, the training copy's
    (``scale``: the columns' max |x|, float64), which a weak penalty leaves to the data: in float32 a column of
    1e-40 beside ordinary ones failed with "Solver produced non-finite parameter weights. The input data may
    contain large values" (its scale's reciprocal overflows); every value of X that small is refused earlier, in
    these words (``._data._check_underflow``)."""
    tiny = torch.finfo(dtype).tiny
    subnormal = (scale > 0) & (scale < tiny)
    if bool(subnormal.any()):
        column = int(torch.nonzero(subnormal)[0, 0])
        name = str(dtype).removeprefix("torch.")
        raise ValueError(
            f"Column {column} of X is at most {float(scale[column]):g} in absolute value after the cast to "
            f"dtype={name!r}, below its normal range (smallest {tiny:.4g}): the feature would be lost to underflow. "
            + ("Use dtype='float64' or rescale that feature." if dtype != torch.float64 else "Rescale that feature.")
        )


def check_step_sizes(solver, learning_rate, momentum, C, l1_ratio, weight_sum, dtype):
    """Refuse mini-batch steps that cannot work, before any is taken, in the parameters' terms.

    - ``"sgd"``: the L2 penalty's part of a step multiplies the coefficients by ``1 - lr h``, ``h = (1 - l1_ratio) /
      (C S)`` (``S`` the sum of the sample weights). Heavy-ball momentum ``m`` is stable only for ``lr h <
      2 (1 + m)``; beyond, every step overshoots zero by more than it shrinks, whatever the data (their curvature
      only adds to ``h``). C=1e-6 on 60 rows at the default rate: coefficients x -165 per epoch, 1e17 after ten
      ``partial_fit`` calls, and a ``fit`` that blamed the features. (``SGDClassifier`` clips its shrinking factor
      at zero; ``MLPClassifier`` diverges as this did.)
    - A rate the training dtype cannot hold (Adam's first step is ``lr / (1 - beta1)``, 10 lr): torch stopped with
      "value cannot be converted to type float without overflow".
    """
    top = torch.finfo(dtype).max
    first_step = learning_rate / (1 - 0.9) if solver == "adam" else learning_rate  # torch's Adam: beta1 = 0.9
    name = str(dtype).removeprefix("torch.")
    if not first_step <= top:
        raise ValueError(
            f"learning_rate_init={learning_rate:g} is too large for solver={solver!r} in the training dtype {name}: "
            f"its first step, {first_step:.3g}, exceeds {top:.3g}. Use a smaller learning_rate_init."
        )
    shrink = learning_rate * l2_strength(C, l1_ratio, weight_sum)
    limit = 2 * (1 + momentum)
    if solver == "sgd" and not shrink < limit:
        smallest = learning_rate * (1 - l1_ratio) / (limit * weight_sum)
        largest = limit * C * weight_sum / (1 - l1_ratio)
        raise ValueError(
            f"solver='sgd' diverges with C={C:g}, learning_rate_init={learning_rate:g} and momentum={momentum:g}: "
            f"each step's L2 penalty, learning_rate_init * (1 - l1_ratio) / (C S) = {shrink:.3g} "
            f"(S = {weight_sum:.6g}, the sum of the sample weights), reaches 2 * (1 + momentum) = {limit:g}, beyond "
            "which every step overshoots zero and the coefficients grow with alternating signs. "
            f"Use learning_rate_init < {largest:.3g}, C > {smallest:.3g}, or solver='adam' / 'lbfgs'."
        )


class TrainingMixin:
    """Training of ``BaseTorchClassifier``: a net for the estimator's parameters, trained on a ``TrainingSet``."""

    def _train_remote(self, data, targets, weight_sum, *, n_features, dtype, rounding):
        """Train a linear net on data held by dask workers; the parameters live on this machine's CPU.

        ``rounding``: ``(largest |X|, effective rows)`` of the blocks, which the float32 rule judges a stall
        and the gradient's rounding by, as for in-memory data (without them the flat ``8 eps`` threshold
        stopped a well-scaled multi-label fit 4.7e-3 from the in-memory fit's probabilities).
        """
        # The data stays on the workers in the training dtype: no float64 continuation there,
        # so a float32 stall is reported as such (ConvergenceWarning), never as convergence.
        single = dtype != torch.float64
        trust_gradient = not single or _float32_gradient_trusted(rounding[0], self.tol)
        stopping = self._stopping_rule(
            dtype,
            validated=False,
            trust_gradient=trust_gradient,
            can_promote=False,
            rounding=rounding if single else None,
        )
        module, module_kwargs = self._module(n_features, targets.n_outputs)
        net = self._make_net(
            module,
            module_kwargs,
            torch.device("cpu"),
            dtype,
            kind=targets.kind,
            weight_sum=weight_sum,
            n_samples=len(data),
            # the blocks apply pos_weight on the workers; the criterion holds it too, as in memory, where a failure's
            # message reads it (._callbacks._large_pos_weight)
            pos_weight=pos_weight_tensor(targets, dtype, "cpu"),
            callbacks=self._net_callbacks(targets.kind, last=[("stopping", stopping)]),
        )
        net.initialize()
        # fit_dask sets n_features_in_ after training: here it is still the previous fit's.
        init_state = self._warm_start_state(targets, n_features, getattr(self, "n_features_in_", None))
        if init_state is not None:
            load_warm_start(net.module_, {k: v.cpu() for k, v in init_state.items()})
        net.partial_fit(data)
        self._warn_if_not_converged(stopping, net)
        return net

    def _mini_batch(self):
        """Whether the solver steps on mini-batches ("adam", "sgd"), not on the full batch (L-BFGS, Newton)."""
        return self._solver() in MINI_BATCH_SOLVERS

    # Whether a mini-batch fit of multinomial logits re-centres their intercepts every epoch (scikit-learn's
    # LogisticRegression reports them with mean zero; MLPClassifier's output biases are left as they are).
    _centred_multinomial = False

    def _net_callbacks(self, kind, *, first=(), last=(), l1_start=None):
        """``[intercept centring, *first, L1 step, *user callbacks, *last]``; the centring for mini-batch fits of
        ``kind`` "multinomial" where :attr:`_centred_multinomial` (see :class:`CentredIntercepts`), the L1 step for
        mini-batch solvers with an L1 part.

        The user's callbacks are copied, so that ``fit`` never changes the parameter.
        ``l1_start``: the L1 step's totals from a previous ``partial_fit`` call (see :class:`L1Proximal`).
        """
        mini_batch = self._mini_batch()
        centring = []
        if mini_batch and kind == "multinomial" and self._centred_multinomial and self.fit_intercept:
            centring = [("centred_intercepts", CentredIntercepts())]
        l1 = []
        if mini_batch and l1_strength(self.C, self.l1_ratio, 1.0) > 0:
            l1 = [("l1_proximal", L1Proximal(l1_start))]
        user = copy.deepcopy(self.callbacks) if self.callbacks else []
        return [*centring, *first, *l1, *user, *last]

    def _seed(self):
        """A seed drawn from ``random_state`` (one draw per call)."""
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _warn_if_not_converged(self, stopping, net, rows=None):
        """scikit-learn's ``ConvergenceWarning`` (its wording) unless the stopping rule held.

        ``rows``: (rows trained on, rows given) of a fit without a held-out split, for the mini-batch solvers' words.
        """
        if stopping.converged_:
            if self.verbose and isinstance(stopping, NoImprovementStopping):  # MLPClassifier's closing line
                subject = "Training loss" if stopping.monitor == "train_loss" else "Validation loss"
                print(
                    f"{subject} did not improve more than tol={stopping.tol:f} for {stopping.n_iter_no_change} "
                    "consecutive epochs. Stopping."
                )
            overshoot = stopping.overshoot_message(net) if isinstance(stopping, NoImprovementStopping) else None
            if overshoot is not None:
                warn(overshoot, ConvergenceWarning)
            return
        n_iter = len(net.history)
        if stopping.message_ is None and n_iter < self.max_iter and not stopping.at_limit_:
            # Neither the rule nor max_iter ended it: a callback did (skorch's KeyboardInterrupt convention). The
            # iteration-limit text would be false.
            message = (
                f"{self._solver()} was stopped by a callback after {n_iter} iteration(s), before it converged "
                f"(max_iter={self.max_iter})."
            )
        elif isinstance(stopping, LBFGSConvergence):
            logistic = isinstance(net.module_, LinearLogits)  # hidden layers: MLPClassifier's text, no link
            message = stopping.warning(n_iter, self.max_iter, logistic=logistic)
        elif isinstance(stopping, NewtonConvergence) and stopping.message_ == FLOAT32_EXHAUSTED:
            # The stall is the L-BFGS fall-back's, in float32: "Newton solver did not converge" would blame Newton.
            message = (
                f"newton-cholesky fell back to lbfgs, which stopped at float32 precision after {n_iter} iterations "
                "in all, short of tol. Fit with dtype='float64' to reach the optimum."
            )
        elif isinstance(stopping, NewtonConvergence) and stopping.fell_back_:
            # L-BFGS stopped short after the fall-back: L-BFGS-B's words, with its count and budget as scikit-learn
            # gives them (the iterations after the failed Newton one, of max_iter less the Newton ones), and no
            # LogisticRegression advice (its Newton solver adds none).
            failed_at = stopping.fallback_at_ or 1
            message = lbfgs_warning(
                stopping.message_, stopping.status_, n_iter - failed_at + 1, self.max_iter - failed_at, logistic=False
            )
        elif isinstance(stopping, NewtonConvergence):
            message = _NEWTON_WARNING.format(n_iter=n_iter)
        else:
            message = _STOCHASTIC_WARNING.format(max_iter=self.max_iter)
            steps = None if rows is None else [_steps(n, self.batch_size) for n in rows]  # trained on, given
            if steps is not None and steps[0] < steps[1]:
                # An epoch here is a pass over the merged rows: on data of many repeated rows it takes far fewer
                # steps than MLPClassifier's (5000 rows, 423 distinct: 3 against 25 at batch 200), and the same
                # max_iter stops far earlier (subset accuracy 0.59 against 0.76; a user trial). The cause, in the
                # warning.
                message += (
                    f" Its epochs run over the {rows[0]} rows it trains on, of the {rows[1]} given (identical rows "
                    "merged, their weights summed; rows of weight zero dropped): "
                    f"{steps[0]} steps an epoch against {steps[1]} "
                    "over every row. Raise max_iter, or lower batch_size."
                )
        warn(message, ConvergenceWarning)  # at the user's line, through fit, partial_fit or a CV fit

    def _vector_products(self, data, module):
        """Whether this fit multiplies its data by vectors only: dense, one output, linear L-BFGS, on the CPU."""
        return (
            data.device.type == "cpu"
            and not data.sparse
            and data.n_outputs == 1
            and module is LinearLogits
            and self._solver() == "lbfgs"
        )

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

    def _batch_size(self, n_samples, n_rows, fraction=None):
        """The batch size of a fit on ``n_samples`` distinct rows, warning as ``MLPClassifier`` does when a
        mini-batch solver's integer ``batch_size`` exceeds the ``n_rows`` rows given (less the share held out
        for early stopping, ``train_test_split``'s count). Identical rows are merged into one (with their
        weights summed), so batches hold at most the distinct rows; that clipping alone is not the user's
        doing and is not warned about (1000 rows of 8 distinct ones at batch_size=100 warned)."""
        batch_size = self.batch_size
        if fraction is not None:
            n_rows -= math.ceil(fraction * n_rows)
        if self._mini_batch() and batch_size != "auto" and batch_size > n_rows:
            warn("Got `batch_size` less than 1 or larger than sample size. It is going to be clipped", UserWarning)
        return self._optimizer(n_samples)[2]

    def _stopping_rule(self, dtype, validated, trust_gradient=True, can_promote=True, rounding=None):
        if self._solver() == "lbfgs":
            return LBFGSConvergence(
                self.tol, dtype, trust_gradient=trust_gradient, can_promote=can_promote, rounding=rounding
            )
        if self._solver() == "newton-cholesky":
            return NewtonConvergence(
                tol=self.tol, ftol=ftol_for(dtype), exact=dtype == torch.float64, can_promote=can_promote
            )
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

    def _check_scales(self, train, dtype):
        """A ValueError in the user's terms, before training, where the weights and C leave the dtype's range
        (:func:`._objective.check_weight_scale`) or a mini-batch step cannot be taken (:func:`check_step_sizes`)."""
        check_weight_scale(
            train.weight_sum,
            [self.C],
            largest=train.weight.max(),
            dtype=dtype,
            l1_ratio=self.l1_ratio,
            smallest=train.weight.min() if train.n_samples else None,  # the rows' merged weights, all positive
            n_rows=train.n_samples,
        )
        if self._mini_batch():
            check_step_sizes(
                self._solver(),
                self.learning_rate_init,
                getattr(self, "momentum", 0.0),
                self.C,
                self.l1_ratio,
                train.weight_sum,
                dtype,
            )

    def _train(self, data, *, module, module_kwargs, dtype, init_state=None):
        """Build the skorch net, train it on ``data`` (a :class:`TrainingSet`) and return it (stores nothing).

        Training uses the canonical rows of ``data`` (identical rows merged; class weights
        applied after merging so that weight sums stay exact). ``init_state`` is a module
        ``state_dict`` to start from (warm start).

        float32 L-BFGS or newton-cholesky that stalls short of ``tol`` continues in float64 (see
        :meth:`_continue_in_float64`), so that convergence is only ever claimed on
        scikit-learn's rules in float64 terms.
        """
        fraction = self._validation_fraction()
        train, valid = data.split(fraction, None if fraction is None else self._seed())
        self._check_scales(train, dtype)
        targets, device = data.targets, data.device
        batch_size = self._batch_size(train.n_samples, data.n_rows, fraction)
        # Drawn only where something is random (shuffled batches, a hidden layer's initialisation or dropout): a
        # full-batch linear fit leaves the caller's random_state (NumPy's global generator for None) untouched, as
        # LogisticRegression does.
        seed = self._seed() if self._mini_batch() or module is not LinearLogits else 0
        pos_weight = pos_weight_tensor(targets, dtype, device)

        # Fits whose products go to NumPy's BLAS (._threads.blas_threads) train on a column-major copy.
        vector_products = self._vector_products(data, module)
        column_major = column_major_copy(data.n_values, vector_products)
        batch = data.batch(train, dtype, batch_size, column_major, linear=module is LinearLogits)
        lbfgs = self._solver() == "lbfgs"
        single = dtype != torch.float64
        trust_gradient = not single or (module is LinearLogits and _float32_gradient_trusted(batch.max_abs, self.tol))
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
        callbacks = self._net_callbacks(targets.kind, first=first, last=[("stopping", stopping)])
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
        newton = self._solver() == "newton-cholesky"
        if (lbfgs or newton) and module is LinearLogits:
            scale = None
            if batch.X.layout == torch.sparse_csr:  # text: column frequencies (L2 fits; None otherwise)
                scale = _sparse_preconditioner(batch.X, batch.weight, net.module_, net.criterion_)
            if scale is None:  # any data: column scales (max |x_j|) far apart
                scale = _preconditioner(batch.X, net.module_, net.criterion_, batch.max_abs)
            if lbfgs:
                net.optimizer_.set_preconditioner(scale)
            else:  # for Newton's fall-back to L-BFGS, if it comes to that
                net.optimizer_.fallback_preconditioner = scale
                net.optimizer_.fallback_gtol = self.tol
                net.optimizer_.promote_on_failure = can_promote
        # The iterations only: the copies above and below use torch's pool (._threads.blas_threads). Epochs of
        # large data on small mini-batches run on one thread (._threads.mini_batch_threads; a full batch is the
        # data, whose rule the fit's own threads_for applied).
        epochs = mini_batch_threads(data.n_values, train.n_samples, batch_size)
        with blas_threads(data.n_values, vector_products), epochs:
            # A preconditioned cold start (column scales far apart, where L-BFGS-B would stall) takes its first
            # step: on features of 1e-40 the gradient at zero is below any tol, and that step is the fit.
            # A cold fit with an L1 part checks its start in its first iteration (n_iter_ 1, not 0, where zero is
            # the optimum): scikit-learn's L1 solvers (saga, liblinear) report an iteration there, and its
            # estimator checks require n_iter_ >= 1.
            at_start = lbfgs and (
                init_state is not None or not (net.optimizer_.preconditioned or net.optimizer_.has_l1)
            )
            if not (at_start and self._converged_at_start(net, batch, stopping)):
                net.partial_fit(batch)
        if getattr(stopping, "promote_", False):  # L-BFGS's or Newton's float32 stall
            del batch  # the float32 copy is not needed any more: free it before the float64 one is made
            batch = data.batch(train, torch.float64, batch_size, column_major, linear=module is LinearLogits)
            with blas_threads(data.n_values, vector_products):
                self._continue_in_float64(net, batch, stopping, targets, device)
        if not lbfgs:
            check_finite_parameters(net)
        self._warn_if_not_converged(stopping, net, rows=(train.n_samples, data.n_rows) if valid is None else None)
        return net

    @staticmethod
    def _converged_at_start(net, data, stopping):
        """Whether an L-BFGS run starts where scikit-learn's stops before its first iteration.

        SciPy's L-BFGS-B checks ``max |projected gradient| <= gtol`` at the starting point:
        ``LogisticRegression(warm_start=True)`` refitted at its own optimum reports
        ``n_iter_ == [0]`` and leaves the coefficients as they are, and a cold fit with a ``tol``
        above the gradient at zero returns zero coefficients (it took one step here). The same test, on the
        stopping rule's terms (float64, or a float32 gradient it trusts); the evaluation is kept
        by the optimizer for its first step when the test fails.
        """
        grad_max = net.optimizer_.evaluate(lambda: net.train_step_single((data.X, (data.target, data.weight)))["loss"])
        if not (grad_max <= stopping.tol and (stopping.dtype == torch.float64 or stopping.trust_gradient)):
            return False
        stopping.on_train_begin(net)
        stopping.converged_, stopping.status_ = True, 0
        stopping.message_ = "CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL"
        return True

    def _continue_in_float64(self, net, data, stopping, targets, device):
        """Continue a stalled float32 L-BFGS (or newton-cholesky) run in float64, from the same point, until
        sklearn's rules hold.

        The module and the curvature pairs are cast to float64 and the training rows are
        copied once more in float64 from the validated input (so the continuation works on
        the exact input values). The first float64 evaluation may already show
        ``max |grad| <= tol``; otherwise L-BFGS iterates on, the iterations of both phases
        counting towards ``max_iter`` (and ``n_iter_``). A Newton iteration that stalled without a
        step (its float32 step would have been rounding, see ``._newton._FLOAT32_SENSITIVE_RCOND``)
        moved nothing and is not counted: its history row is dropped.
        """
        if getattr(net.optimizer_, "stepless", False):
            del net.history[-1]
        net.module_.to(torch.float64)
        net.criterion_.pos_weight = pos_weight_tensor(targets, torch.float64, device)
        optimizer = net.optimizer_
        optimizer.cast_(torch.float64)
        stopping.to_float64()
        if isinstance(optimizer, LBFGS):  # (Newton evaluates the point itself: its rule also needs a decrement)
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
        """The skorch net for these parameters (not initialised, not trained).

        ``seed`` is the net's shuffling seed and, for hidden layers, the seed of the module's own
        generator, which draws its initialisation and dropout.
        """
        if module is not LinearLogits:
            module_kwargs = {**module_kwargs, "seed": seed}
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


def _steps(n_rows, batch_size):
    """Mini-batch steps an epoch over ``n_rows`` rows, batches as ``MLPClassifier`` cuts them (``"auto"``: 200, and
    at most the rows). The merged-rows sentence of the iteration-limit warning is said only where the counts differ
    (iris: 150 rows, 149 distinct, one step an epoch either way, was told it took fewer)."""
    size = min(200 if batch_size == "auto" else batch_size, n_rows)
    return -(-n_rows // max(size, 1))
