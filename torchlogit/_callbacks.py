"""Stopping rules as skorch callbacks, with scikit-learn's semantics.

They stop training the way skorch's own ``EarlyStopping`` does (raising
``KeyboardInterrupt``, which ``NeuralNet.partial_fit`` catches) and record whether
the run converged, so the estimator can warn like scikit-learn when it did not.
"""

import math

from skorch.callbacks import Callback


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

    An epoch whose monitored value (``train_loss``, lower is better, or a validation
    score, higher is better) does not beat the best so far by ``tol`` counts as no
    improvement; ``n_iter_no_change`` + 1 of them in a row stop training.
    """

    def __init__(self, tol, n_iter_no_change, monitor="train_loss", lower_is_better=True):
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.monitor = monitor
        self.lower_is_better = lower_is_better

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.best_ = math.inf
        self.count_ = 0

    def on_epoch_end(self, net, **kwargs):
        value = net.history[-1, self.monitor]
        loss = value if self.lower_is_better else -value
        if not math.isfinite(loss):
            raise FloatingPointError(
                "The training loss became non-finite; lower the learning rate or scale the features."
            )
        self.count_ = self.count_ + 1 if loss > self.best_ - self.tol else 0
        self.best_ = min(self.best_, loss)
        if self.count_ > self.n_iter_no_change:
            what = "Training loss" if self.lower_is_better else "Validation score"
            self._stop(
                f"{what} did not improve more than tol={self.tol:f} for {self.n_iter_no_change} consecutive epochs."
            )
