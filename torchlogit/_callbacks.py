"""Stopping rules as skorch callbacks, with scikit-learn's semantics.

They stop training the way skorch's own ``EarlyStopping`` does (raising
``KeyboardInterrupt``, which ``NeuralNet.partial_fit`` catches) and record whether
the run converged, so the estimator can warn like scikit-learn when it did not.
"""

import copy
import math

import torch
from skorch.callbacks import Callback

from ._objective import weighted_log_loss_sum


class _StoppingRule(Callback):
    def on_train_begin(self, net, **kwargs):
        self.converged_ = False
        self.message_ = None

    def _stop(self, message):
        self.converged_ = True
        self.message_ = message
        raise KeyboardInterrupt


class LBFGSConvergence(_StoppingRule):
    """Stop L-BFGS like SciPy's L-BFGS-B does for scikit-learn.

    Converged when the largest absolute gradient entry is at most ``tol`` (``gtol``),
    or when an iteration reduces the objective by at most ``ftol`` relative
    (``(f_k - f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) <= ftol``): no further progress is
    possible at the working precision.
    """

    def __init__(self, tol, ftol):
        self.tol = tol
        self.ftol = ftol

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        before, after = row["batches"][0]["train_loss"], row["objective"]
        if not math.isfinite(after):
            raise FloatingPointError(
                "The objective became non-finite during L-BFGS; the data may contain "
                "extreme values (try scaling the features or dtype='float64')."
            )
        if row["grad_max"] <= self.tol:
            self._stop("CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL")
        if before - after <= self.ftol * max(abs(before), abs(after), 1.0):
            self._stop("CONVERGENCE: REL_REDUCTION_OF_F <= FACTR*EPSMCH")


class NoImprovementStopping(_StoppingRule):
    """scikit-learn's ``MLPClassifier`` / ``SGDClassifier`` rule for stochastic solvers.

    An epoch whose monitored loss (``train_loss``, or ``valid_loss`` with early
    stopping) does not beat the best so far by ``tol`` counts as no improvement;
    ``n_iter_no_change`` + 1 of them in a row stop training. With ``restore_best``
    the best-scoring parameters are put back at the end.
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
        if not math.isfinite(loss):
            raise FloatingPointError(
                f"The {self.monitor} became non-finite; lower the learning rate or scale the features."
            )
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
            total = weighted_log_loss_sum(
                module(self.data.X), self.data.target, self.data.weight, self.kind, self.pos_weight
            )
        module.train()
        net.history.record("valid_loss", float(total) / float(self.data.weight.sum()))


class L1Proximal(Callback):
    """L1 for the mini-batch solvers: the cumulative penalty of Tsuruoka et al. (2009).

    Plain soft-thresholding by ``lr * strength`` after each step leaves weights
    jittering around zero under the noise of constant-step updates. Instead, each
    weight is pulled towards zero, and clipped at zero, by the total penalty it should
    have received since training started minus what it did receive, the rule
    scikit-learn's ``SGDClassifier`` uses for L1. For "adam" each step's penalty is
    divided by Adam's per-coordinate denominator ``sqrt(v_hat) + eps`` (the metric
    Adam steps in). Weights that the L1 term silences are exactly zero.
    """

    def on_train_begin(self, net, **kwargs):
        self.total_ = {}  # per weight: penalty it should have received so far
        self.applied_ = {}  # per weight: penalty actually applied (signed)

    def on_batch_end(self, net, training=False, **kwargs):
        if not training:
            return
        optimizer = net.optimizer_
        group = optimizer.param_groups[0]
        strength = net.criterion_.l1_strength  # l1_ratio / (C S): S is this fit's (or batch's) weight sum
        with torch.no_grad():
            for W in net.module_.penalized_weights():
                step = group["lr"] * strength * torch.ones_like(W)
                state = optimizer.state.get(W, {})
                if "exp_avg_sq" in state:
                    bias_correction = 1 - group["betas"][1] ** float(state["step"])
                    step = step / ((state["exp_avg_sq"] / bias_correction).sqrt() + group["eps"])
                key = id(W)
                total = self.total_[key] = self.total_.get(key, 0) + step
                applied = self.applied_.setdefault(key, torch.zeros_like(W))
                before = W.clone()
                W.copy_(
                    torch.where(
                        W > 0,
                        torch.clamp(W - (total + applied), min=0.0),
                        torch.where(W < 0, torch.clamp(W + (total - applied), max=0.0), W),
                    )
                )
                applied += W - before
