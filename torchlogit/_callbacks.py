"""Stopping rules as skorch callbacks, with scikit-learn's semantics.

They stop training the way skorch's own ``EarlyStopping`` does (raising
``KeyboardInterrupt``, which ``NeuralNet.partial_fit`` catches) and record whether
the run converged, so the estimator can warn like scikit-learn when it did not.
"""

import copy
import functools
import math

import numpy as np
import torch
from skorch.callbacks import Callback

from ._compat import LBFGS_WARNING_BEFORE_1_7
from ._devices import as_float64
from ._objective import weighted_log_loss_mean

# scikit-learn's wording (sklearn.utils.optimize._check_optimize_result and the extra
# message of LogisticRegression), so that a user's warning filters match ours.
_LBFGS_WARNING = "lbfgs failed to converge after {n_iter} iteration(s) (status={status}):\n{message}\n"
# scikit-learn < 1.7's wording (no iteration count; the advice to scale always given).
_LBFGS_WARNING_BEFORE_1_7 = (
    "lbfgs failed to converge (status={status}):\n{message}.\n\n"
    "Increase the number of iterations (max_iter) or scale the data as shown in:\n"
    "    https://scikit-learn.org/stable/modules/preprocessing.html"
)
_MAX_ITER_ADVICE = "\nIncrease the number of iterations to improve the convergence (max_iter={max_iter})."
_FLOAT64_ADVICE = (
    "\nfloat32 cannot tell this point from the optimum: fit with dtype='float64' to converge to scikit-learn's tol."
)
_SCALING_ADVICE = (
    "\nYou might also want to scale the data as shown in:\n"
    "    https://scikit-learn.org/stable/modules/preprocessing.html"
)
_LOGISTIC_ADVICE = (
    "\nPlease also refer to the documentation for alternative solver options:\n"
    "    https://scikit-learn.org/stable/modules/linear_model.html#logistic-regression"
)


@functools.cache
def _iteration_limit_message():
    """SciPy's L-BFGS-B message for a run stopped by ``maxiter``, as the installed SciPy words it
    ("STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT"; "NO. of" before its C rewrite of L-BFGS-B).
    Asked once, from a one-iteration run on a quadratic, only when a warning needs it."""
    from scipy.optimize import minimize

    return str(minimize(lambda x: float(x @ x), np.ones(2), method="L-BFGS-B", options={"maxiter": 1}).message)


_STOCHASTIC_WARNING = (
    "Stochastic Optimizer: Maximum iterations ({max_iter}) reached and the optimization hasn't converged yet."
)
# A float32 run whose objective stopped decreasing by more than its rounding: not convergence (L-BFGS, and
# newton-cholesky's L-BFGS fall-back).
FLOAT32_EXHAUSTED = "ABNORMAL: FLOAT32 PRECISION EXHAUSTED (REL_REDUCTION_OF_F <= 8 * FLOAT32 EPS)"
# MLPClassifier's words for a diverged fit, plus the parameter to change.
_NON_FINITE = (
    "Solver produced non-finite parameter weights. The input data may contain large values and need to be preprocessed."
)


class _StoppingRule(Callback):
    can_promote = False  # whether a float32 stall is continued in float64 by the caller (see _stall)

    def on_train_begin(self, net, **kwargs):
        self.converged_ = False
        self.message_ = None
        self.status_ = 1  # scipy's status: 1 = iteration limit, 2 = abnormal stop
        self.promote_ = False
        self.at_limit_ = False  # stopped by the iteration limit (see _at_limit), not by a callback

    def _stop(self, message, converged=True, status=0):
        self.converged_ = converged
        self.message_ = message
        self.status_ = status
        raise KeyboardInterrupt

    def _stop_stalled(self, exact):
        """A decrease within ``ftol``: scikit-learn's convergence in float64 (``exact``), a float32 stall otherwise
        (continued in float64, or stopped unconverged: :meth:`_stall`)."""
        if exact:
            self._stop("CONVERGENCE: REL_REDUCTION_OF_F <= FACTR*EPSMCH")
        self._stall(FLOAT32_EXHAUSTED)

    def _stall(self, message):
        """A float32 run that can go no further: ``promote_`` (the caller continues in float64) when
        ``can_promote``, else stopped unconverged with ``message``."""
        if self.can_promote:
            self.promote_ = True
            raise KeyboardInterrupt
        self._stop(message, converged=False, status=2)

    @staticmethod
    def _at_limit(net, spent=0):
        """Whether the run has taken its ``max_iter`` iterations (``spent``: iterations of the budget used but not
        in the history). SciPy's L-BFGS-B counts the iteration and stops at maxiter before it tests the new point
        (the test runs at the start of the next call): a run whose last allowed iteration lands where the rules
        hold is reported as stopped by the limit, and scikit-learn warns. So do we, for the same warnings."""
        return len(net.history) + spent >= getattr(net, "max_epochs", math.inf)

    def _stop_at_limit(self):
        self.at_limit_ = True
        self._stop(None, converged=False, status=1)


class LBFGSConvergence(_StoppingRule):
    """Stop L-BFGS like SciPy's L-BFGS-B does for scikit-learn, judged in float64 terms.

    In float64 the run has converged when the largest absolute (pseudo-)gradient entry is
    at most ``tol`` (``gtol``), or when an iteration reduces the objective by at most
    ``ftol = 64 * eps`` relative (``(f_k - f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) <= ftol``),
    scikit-learn's ``ftol``. A line search that found no finite decrease stops the run
    *without* convergence (scipy's "ABNORMAL" status, status 2), whatever the step.

    In float32 neither rule proves convergence: the objective's rounding error
    (``8 * eps32`` relative) is far above scikit-learn's ``ftol``, and the gradient
    carries rounding error proportional to the feature scale. There:

    * the gradient rule is trusted only when ``trust_gradient`` (the caller's bound on
      the float32 gradient's error is well below ``tol``);
    * otherwise, and when float32 stalls (relative reduction at most ``8 * eps32``, or a
      failed line search), the run stops with ``promote_ = True``: the caller continues
      in float64 from the same point, with ``to_float64()`` applied to this rule.
      Without a float64 continuation (``can_promote=False``) it stops unconverged.

    Parameters
    ----------
    tol : float
        scikit-learn's ``gtol``.
    dtype : torch.dtype
        Precision of the iterations.
    trust_gradient : bool, default=True
        In float32, whether ``max |grad| <= tol`` proves convergence.
    can_promote : bool, default=True
        In float32, whether a float64 continuation can follow.
    rounding : tuple (max_abs, n_eff) or None, default=None
        For a linear model: the largest absolute feature value and the effective number
        of training rows. The float32 stall threshold is then also capped by
        :func:`float32_objective_rounding` (a bound on the float32 objective's rounding
        noise), so that a slow but real decrease is not taken for a stall.
    """

    def __init__(self, tol, dtype, trust_gradient=True, can_promote=True, rounding=None):
        self.tol = tol
        self.dtype = dtype
        self.trust_gradient = trust_gradient
        self.can_promote = can_promote
        self.rounding = rounding

    @property
    def ftol(self):
        return ftol_for(self.dtype)

    def to_float64(self):
        """The rule for the float64 continuation."""
        self.dtype = torch.float64
        self.promote_ = False
        return self

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        before, after = row["batches"][0]["train_loss"], row["objective"]
        failed = row.get("line_search_failed")
        exact = self.dtype == torch.float64
        if not math.isfinite(after):
            if len(net.history) == 1 and not math.isfinite(before):
                raise ValueError(_NON_FINITE + " The L-BFGS objective is not finite at the starting point.")
            # Not the start (log 2 there for a cold fit): a step left the training dtype's range, as with a column
            # of subnormal values in float32, whose coefficient lies beyond float32, or with a pos_weight near
            # 1e154 (L-BFGS's curvature products square the gradient's scale).
            name = str(self.dtype).removeprefix("torch.")
            other_dtype = "" if exact else ", or fit with dtype='float64'"  # a float64 fit (or continuation) has it
            large = _large_pos_weight(net)
            if large is not None:
                cause, remedy = (
                    f"the objective left the range of {name}: pos_weight reaches {large:.3g}",
                    "Use a smaller pos_weight",
                )
            else:
                cause = f"the coefficients left the range of {name} (features of very small or very different scales)"
                remedy = "Scale the features"
            raise ValueError(
                f"{_NON_FINITE} The L-BFGS objective became non-finite in iteration {len(net.history)}: {cause}. "
                f"{remedy}{other_dtype}."
            )
        if self._at_limit(net):
            self._stop_at_limit()
        if row["grad_max"] <= self.tol:
            if exact or self.trust_gradient:
                self._stop("CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL")
            self._stall(
                "ABNORMAL: FLOAT32 GRADIENT <= PGTOL COULD NOT BE CONFIRMED (ROUNDING ERROR OF THE FEATURE SCALE)"
            )
        if failed:
            if exact:
                self._stop(failed, converged=False, status=2)
            self._stall(failed)
        if self._stalled(net.module_, before, after):
            self._stop_stalled(exact)

    def _stalled(self, module, before, after):
        """Whether the decrease is at most ``ftol`` relative and, in float32 with ``rounding``, also at most the
        objective's rounding bound (computed only then: most iterations decrease by far more)."""
        decrease = before - after
        if decrease > self.ftol * max(abs(before), abs(after), 1.0):
            return False
        if self.dtype == torch.float64 or self.rounding is None:
            return True
        return decrease <= float32_objective_rounding(module, *self.rounding)

    def warning(self, n_iter, max_iter, logistic=True):
        """scikit-learn's ``ConvergenceWarning`` text for this run, or None when it converged."""
        if self.converged_:
            return None
        return lbfgs_warning(self.message_, self.status_, n_iter, max_iter, logistic)


def lbfgs_warning(message, status, n_iter, max_iter, logistic=True):
    """scikit-learn's ``ConvergenceWarning`` text for an L-BFGS run that stopped with SciPy's ``message`` (None:
    the iteration limit) and ``status``; ``logistic``: with ``LogisticRegression``'s advice (hidden layers: not)."""
    message = message or _iteration_limit_message()
    if LBFGS_WARNING_BEFORE_1_7:
        text = _LBFGS_WARNING_BEFORE_1_7.format(status=status, message=message)
        return text + _LOGISTIC_ADVICE if logistic else text
    text = _LBFGS_WARNING.format(n_iter=n_iter, status=status, message=message)
    if n_iter == max_iter:
        text += _MAX_ITER_ADVICE.format(max_iter=max_iter)
    if "FLOAT32" in message:
        # A float32 stall where no float64 continuation ran (a dask fit, MPS): scaling may not mend it (standardised
        # digits, with near-constant pixels of up to 42 standard deviations, stalls so); float64 does.
        text += _FLOAT64_ADVICE
    text += _SCALING_ADVICE
    if logistic:
        text += _LOGISTIC_ADVICE
    return text


def float32_objective_rounding(module, max_abs, n_eff):
    """A bound on the rounding noise of a linear model's float32 objective, as an absolute value.

    The objective is a float64 sum of float32 per-row losses divided by the weight sum. A row's
    loss carries the rounding of its margin, at most about ``eps32 * sum_j |x_j w_j| <=
    eps32 * max|x| * ||theta||_1``, and of its own value (``eps32`` relative, losses being of
    order one); these errors vary from row to row, so their weighted mean is ``sqrt(n_eff)``
    times smaller: ``eps32 * (1 + max(max|x|, 1) * ||theta||_1) / sqrt(n_eff)``.

    Measured against the float32 objective's actual noise (the standard deviation of
    ``f32 - f64`` over 40 points near the optimum, 2026-12-05): the bound is 17 to 68000 times
    above it on breast cancer (raw and standardised), make_classification 200 to 1M rows and
    300k x 100 correlated data. The fixed ``8 * eps32`` relative threshold alone was 300 to
    4600 times above the noise on the large sets, and stopped real progress: the 1M x 100
    problem of ``benchmarks/run.py``'s memory workload decreased by 5e-7 relative in float32
    (noise 7e-10) and was continued in float64 from an 800 MB float64 copy.
    """
    size = float(sum(as_float64(p).abs().sum() for p in module.parameters()))  # one read of the device
    eps = float(np.finfo(np.float32).eps)
    return eps * (1.0 + max(max_abs, 1.0) * size) / math.sqrt(max(n_eff, 1.0))


def ftol_for(dtype):
    """Relative objective decrease under which L-BFGS has stalled at this precision.

    scikit-learn uses ``64 * eps`` of float64 (``_logistic.py`` passes ``ftol`` to
    scipy's L-BFGS-B). In float32 the objective carries ~1e-7 relative error, so
    decreases below a few float32 ulps are noise: float32 *stalls* there, and the fit
    continues in float64 (see :class:`LBFGSConvergence`).
    """
    return 64 * float(np.finfo(np.float64).eps) if dtype == torch.float64 else 8 * float(np.finfo(np.float32).eps)


class NoImprovementStopping(_StoppingRule):
    """scikit-learn's ``MLPClassifier`` / ``SGDClassifier`` rule for stochastic solvers.

    An epoch whose monitored loss (``train_loss``, or ``valid_loss`` with early
    stopping) does not beat the best so far by ``tol`` counts as no improvement;
    ``n_iter_no_change`` + 1 of them in a row stop training. With ``restore_best``
    the best-scoring parameters are put back at the end.

    A non-finite loss or parameter (a diverging learning rate) raises ``ValueError``
    with ``MLPClassifier``'s words and the learning rate to lower.
    """

    def __init__(self, tol, n_iter_no_change, monitor="train_loss", restore_best=False):
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.monitor = monitor
        self.restore_best = restore_best

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.best_ = math.inf
        self.count_ = 0
        self.best_state_ = None

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, self.monitor]
        check_finite_parameters(net, loss)
        self.count_ = self.count_ + 1 if loss > self.best_ - self.tol else 0
        if loss < self.best_:
            self.best_ = loss
            if self.restore_best:
                self.best_state_ = copy.deepcopy(net.module_.state_dict())
        if self.count_ > self.n_iter_no_change:
            self._stop(
                f"{self.monitor} did not improve more than tol={self.tol:f} for "
                f"{self.n_iter_no_change} consecutive epochs."
            )

    def on_train_end(self, net, **kwargs):
        # As MLPClassifier with early_stopping: keep the parameters that validated best.
        if self.best_state_ is not None:
            net.module_.load_state_dict(self.best_state_)

    def overshoot_message(self, net):
        """A ``ConvergenceWarning``'s text where the rule stopped a run whose last epoch's loss is over twice its
        best (the parameters kept are the last epoch's), or None.

        ``MLPClassifier`` calls that convergence, silently: on columns from 1e-4 to 1e4, "adam" and "sgd" at the
        default rate jumped from 0.69 after the first epoch to 3-16000, and ten epochs without a new best stopped
        them there (training accuracy 0.50 against the optimum's 0.74). A healthy run ends within ``tol`` of its
        best.
        """
        if not self.converged_ or self.restore_best or not math.isfinite(self.best_):
            return None
        last = float(net.history[-1, self.monitor])
        if not last > 2 * self.best_ + self.tol:
            return None
        return (
            f"The {self.monitor} did not improve for {self.n_iter_no_change} epochs, and the last epoch's "
            f"({last:.4g}) is {last / max(self.best_, 1e-300):.3g} times the best ({self.best_:.4g}): the steps "
            f"overshoot. Lower learning_rate_init (it is {net.lr!r}) or standardise the features."
        )


# An L2 strength (1 / (C S)) from which an overflowing optimizer state is blamed on C rather than on the features.
_HUGE_L2_STRENGTH = 1e10


def _large_pos_weight(net):
    """The largest ``pos_weight`` when it is large enough to blame for an overflow, else None.

    "Large": beyond ``1 / eps`` of the training dtype (float32: 8.4e6, float64: 4.5e15), where the negative
    terms no longer count beside the positive ones and the objective's scale is the weight's. A multi-label
    fit with ``pos_weight=[1e250, 1]`` on ordinary features failed with a message blaming the features.
    """
    pos_weight = getattr(getattr(net, "criterion_", None), "pos_weight", None)
    if pos_weight is None or pos_weight.numel() == 0:
        return None
    largest = float(pos_weight.max())
    return largest if largest * torch.finfo(pos_weight.dtype).eps > 1 else None


def check_finite_parameters(net, loss=0.0):
    """``ValueError`` (``MLPClassifier``'s words, naming the learning rate) if training diverged.

    Also when the optimizer's state overflowed: Adam's squared gradients become infinite on
    features near 1e30 in float32, its steps are then exactly zero, and the parameters stayed
    at their start (every coefficient 0, one class predicted) while the loss looked finite.
    """
    finite = math.isfinite(loss) and all(bool(torch.isfinite(p).all()) for p in net.module_.parameters())
    if not finite:
        raise ValueError(
            f"{_NON_FINITE} The mini-batch solver diverged with learning_rate_init={net.lr!r}: "
            "lower learning_rate_init, or scale the features."
        )
    optimizer = getattr(net, "optimizer_", None)
    states = optimizer.state.values() if optimizer is not None else ()
    for state in states:
        if not all(bool(torch.isfinite(v).all()) for v in state.values() if torch.is_tensor(v)):
            dtype = str(next(net.module_.parameters()).dtype).removeprefix("torch.")
            remedy = "scale the features, or use dtype='float64'" if dtype != "float64" else "scale the features"
            cause = "The input data may contain large values"
            large = _large_pos_weight(net)
            if large is not None:  # the positive terms' gradients scale with it (Adam squares them)
                cause = f"pos_weight reaches {large:.3g}"
                remedy = "use a smaller pos_weight" + (", or use dtype='float64'" if dtype != "float64" else "")
            strength = getattr(net.criterion_, "l2_strength", 0.0)
            if strength > _HUGE_L2_STRENGTH:  # the penalty's own gradient, W / (C S), overflowed (C=1e-40: 1e38 W)
                cause = f"C={net.criterion_.C:g} makes the L2 penalty's gradient {strength:.3g} times the coefficients"
                remedy = f"use a larger C, or {remedy}"
            raise ValueError(
                f"The mini-batch solver's gradients overflowed dtype={dtype!r} (its optimizer state is not finite), "
                f"so its steps would stop moving the parameters. {cause}: {remedy}."
            )


class ValidationLoss(Callback):
    """Record ``valid_loss``, the weighted mean log-loss (no penalty) on held-out tensors."""

    def __init__(self, data, kind, pos_weight=None):
        self.data = data
        self.kind = kind
        self.pos_weight = pos_weight

    def on_epoch_end(self, net, **kwargs):
        module = net.module_
        module.eval()
        with torch.no_grad():
            weight_sum = float(torch.sum(self.data.weight, dtype=torch.float64))
            mean = weighted_log_loss_mean(
                module(self.data.X), self.data.target, self.data.weight, weight_sum, self.kind, self.pos_weight
            )
        module.train()
        net.history.record("valid_loss", float(mean))


class CentredIntercepts(Callback):
    """Multinomial intercepts re-centred (mean zero) at the end of every mini-batch epoch.

    The intercepts are unpenalised and a constant added to all of them changes no probability:
    only their differences are identified. Plain SGD keeps their sum where it started (each step's
    intercept gradients sum to zero over the classes, as in scikit-learn's SAG / SAGA), but Adam
    divides each coordinate by its own scale, and the sum drifted: iris 0.68, wine 0.60 after 2000
    epochs, every intercept that far from ``LogisticRegression``'s (sum zero) with the same
    probabilities. Per epoch, not at publication: ``partial_fit`` continues from the published
    intercepts, and ``fit``'s epochs must stay bitwise its calls'.
    """

    live_batch_history = False  # per epoch only: LogitNet's device-side batch loop serves it

    def on_epoch_end(self, net, **kwargs):
        bias = net.module_.linear.bias
        with torch.no_grad():
            bias.sub_(bias.mean(dtype=torch.float64).to(bias.dtype))


class L1Proximal(Callback):
    """L1 for the mini-batch solvers: the cumulative penalty of Tsuruoka et al. (2009).

    Plain soft-thresholding by ``lr * strength`` after each step leaves weights
    jittering around zero under the noise of constant-step updates. Instead, each
    weight is pulled towards zero, and clipped at zero, by the total penalty it should
    have received since training started minus what it did receive, the rule
    scikit-learn's ``SGDClassifier`` uses for L1. Each step's penalty is the share the
    optimizer gives the data gradient's:

    * "adam": divided by Adam's per-coordinate denominator ``sqrt(v_hat) + eps`` (the
      metric Adam steps in), and none for a coordinate whose gradient has been zero so
      far (``v_hat = 0``): dividing by ``eps`` alone pulled a weight whose feature had
      not yet appeared in a batch by ``lr * strength / 1e-8``, zero for good (a feature
      in 2% of rows, optimal coefficient 5.0: 0.0 at batch_size=32);
    * "sgd" with momentum ``m``: times ``(1 - dampening) / (1 - m)``, the factor the
      momentum buffer gives a steady gradient (at m=0.9 the penalty was a tenth of the
      one asked for, and the objective rose as training went on).

    ``start``: each penalised weight's ``(total, applied)`` arrays from a previous
    ``partial_fit`` call (:meth:`state`), so that chunked training keeps the total since
    training started, as ``fit`` does (a fresh total per call made it plain clipping).
    Weights that the L1 term silences are exactly zero.

    Both sums are float64 whatever the training dtype (as ``SGDClassifier``'s): a float32 total
    rounds each step by up to 6% of its size after a million steps, and stops growing after
    about 1.7e7 equal ones (a long ``partial_fit`` stream), when the L1 pull would vanish.
    """

    live_batch_history = False  # reads no batch row of the history: LogitNet's device-side loop serves it

    def __init__(self, start=None):
        self.start = start

    def on_train_begin(self, net, **kwargs):
        self.total_ = {}  # per penalised weight (by position): penalty it should have received so far
        self.applied_ = {}  # per penalised weight: penalty actually applied (signed)
        for i, W in enumerate(net.module_.penalized_weights()):
            if self.start is not None and i < len(self.start):
                total, applied = self.start[i]
                # torch.tensor copies (the arrays may be read-only: a model loaded with joblib's mmap_mode, whose
                # arrays torch.as_tensor would warn about and share)
                self.total_[i] = torch.tensor(total, dtype=torch.float64, device=W.device)
                self.applied_[i] = torch.tensor(applied, dtype=torch.float64, device=W.device)

    def state(self):
        """``[[total, applied], ...]`` as NumPy arrays, for the next ``partial_fit`` call's ``start``."""
        return [
            [self.total_[i].detach().cpu().numpy(), self.applied_[i].detach().cpu().numpy()]
            for i in sorted(self.total_)
        ]

    def on_batch_end(self, net, training=False, **kwargs):
        if not training:
            return
        optimizer = net.optimizer_
        group = optimizer.param_groups[0]
        strength = net.criterion_.l1_strength  # l1_ratio / (C S): S is this fit's (or batch's) weight sum
        momentum = group.get("momentum", 0.0) if "betas" not in group else 0.0
        if momentum:  # SGD's buffer scales a steady gradient by (1 - dampening) / (1 - momentum)
            strength = strength * (1 - group.get("dampening", 0.0)) / (1 - momentum)
        with torch.no_grad():
            for key, W in enumerate(net.module_.penalized_weights()):
                step = group["lr"] * strength * torch.ones_like(W)
                state = optimizer.state.get(W, {})
                if "exp_avg_sq" in state:
                    bias_correction = 1 - group["betas"][1] ** float(state["step"])
                    second = state["exp_avg_sq"]
                    step = torch.where(
                        second > 0, step / ((second / bias_correction).sqrt() + group["eps"]), torch.zeros_like(step)
                    )
                total = self.total_[key] = self.total_.get(key, 0) + step.to(torch.float64)
                applied = self.applied_.setdefault(key, torch.zeros_like(W, dtype=torch.float64))
                before = W.to(torch.float64, copy=True)
                W.copy_(
                    torch.where(
                        before > 0,
                        torch.clamp(before - (total + applied), min=0.0),
                        torch.where(before < 0, torch.clamp(before + (total - applied), max=0.0), before),
                    )
                )
                applied += W - before  # what the weight (in its dtype) received
