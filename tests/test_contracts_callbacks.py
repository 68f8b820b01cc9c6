"""The mini-batch stopping rule, epoch by epoch, against MLPClassifier's own implementation.

``NoImprovementStopping`` must count epochs without improvement, stop, and pick the best
epoch exactly as ``MLPClassifier._update_no_improvement_count`` and ``_fit_stochastic`` do
(the same rule as ``SGDClassifier``'s): both are driven with the same synthetic loss
sequences, on a grid of values where ``loss == best - tol`` ties happen exactly, so a
flipped comparison, a wrong sign of ``tol`` or an off-by-one in the count changes the
epoch at which one of them stops.
"""

import numpy as np
import pytest
import torch
from sklearn.neural_network import MLPClassifier
from skorch.history import History

from torchlogit._callbacks import NoImprovementStopping


class _Net:
    """What the callback reads from a skorch net: ``history`` and ``module_``."""

    def __init__(self):
        self.history = History()
        self.module_ = torch.nn.Linear(1, 1, bias=False)
        self.lr = 0.01


def _ours(losses, tol, n_iter_no_change, monitor):
    """(count after each epoch, stopping epoch or None, epoch whose parameters are kept)."""
    net = _Net()
    rule = NoImprovementStopping(tol, n_iter_no_change, monitor=monitor, restore_best=monitor == "valid_loss")
    rule.on_train_begin(net)
    counts, stop = [], None
    for epoch, loss in enumerate(losses):
        with torch.no_grad():
            net.module_.weight.fill_(epoch)  # the parameters of epoch `epoch`
        net.history.new_epoch()
        net.history.record(monitor, loss)
        try:
            rule.on_epoch_end(net)
        except KeyboardInterrupt:
            stop = epoch
        counts.append(rule.count_)
        if stop is not None:
            break
    rule.on_train_end(net)
    return counts, stop, int(net.module_.weight.item()), rule.converged_


def _mlp(losses, tol, n_iter_no_change, early_stopping):
    """The same, from MLPClassifier's methods (validation *score* = -loss when early stopping)."""
    mlp = MLPClassifier(tol=tol, n_iter_no_change=n_iter_no_change, early_stopping=early_stopping)
    mlp.loss_curve_, mlp.validation_scores_ = [], []
    mlp.best_loss_, mlp.best_validation_score_ = np.inf, -np.inf
    mlp._no_improvement_count = 0
    mlp.intercepts_ = [np.zeros(1)]
    counts, stop = [], None
    for epoch, loss in enumerate(losses):
        mlp.coefs_ = [np.array([[float(epoch)]])]
        mlp.loss_curve_.append(loss)
        mlp._score = lambda X, y, sample_weight=None, loss=loss: -loss
        mlp._update_no_improvement_count(early_stopping, None, None, None)
        counts.append(mlp._no_improvement_count)
        if mlp._no_improvement_count > n_iter_no_change:  # _fit_stochastic's test
            stop = epoch
            break
    kept = int(mlp._best_coefs[0][0, 0]) if early_stopping else len(counts) - 1
    return counts, stop, kept


def _sequences():
    rng = np.random.RandomState(0)
    out = []
    for _ in range(300):
        n = rng.randint(3, 30)
        # Quarter steps are exact in binary: `loss == best - tol` ties do occur.
        drift = np.cumsum(rng.choice([-0.5, -0.25, 0.0, 0.0, 0.25, 0.5], size=n))
        out.append([float(v) for v in 10 + drift])
    out.append([5.0, 4.75, 4.5, 4.25, 4.0, 4.0, 4.0, 4.0])  # improves by exactly tol=0.25, then flat
    out.append([5.0, 5.0, 5.0, 5.0, 5.0, 5.0])
    out.append([5.0, 4.0, 6.0, 3.0, 7.0, 2.0, 8.0, 8.0, 8.0])
    return out


@pytest.mark.parametrize("tol", [0.0, 0.25, 0.5])
@pytest.mark.parametrize("n_iter_no_change", [1, 2, 5])
def test_train_loss_rule_matches_mlpclassifier_epoch_by_epoch(tol, n_iter_no_change):
    for losses in _sequences():
        counts, stop, kept, converged = _ours(losses, tol, n_iter_no_change, "train_loss")
        ref_counts, ref_stop, _ = _mlp(losses, tol, n_iter_no_change, early_stopping=False)
        assert counts == ref_counts, losses
        assert stop == ref_stop, losses
        assert converged == (ref_stop is not None)
        assert kept == len(counts) - 1  # without early stopping the last parameters are kept, as in MLPClassifier


@pytest.mark.parametrize("tol", [0.0, 0.25, 0.5])
@pytest.mark.parametrize("n_iter_no_change", [1, 3])
def test_validation_rule_and_best_epoch_match_mlpclassifier_early_stopping(tol, n_iter_no_change):
    for losses in _sequences():
        counts, stop, kept, _ = _ours(losses, tol, n_iter_no_change, "valid_loss")
        ref_counts, ref_stop, ref_kept = _mlp(losses, tol, n_iter_no_change, early_stopping=True)
        assert counts == ref_counts, losses
        assert stop == ref_stop, losses
        assert kept == ref_kept, losses  # the parameters of the first epoch with the lowest loss


def test_non_finite_loss_is_an_error_not_an_improvement():
    net = _Net()
    rule = NoImprovementStopping(1e-4, 10)
    rule.on_train_begin(net)
    net.history.new_epoch()
    net.history.record("train_loss", float("nan"))
    # MLPClassifier's contract: a ValueError that names the learning rate (issue 16), not an "improvement".
    with pytest.raises(ValueError, match="learning_rate_init=0.01"):
        rule.on_epoch_end(net)
