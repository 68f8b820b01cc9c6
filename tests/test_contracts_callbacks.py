"""The mini-batch stopping rule, epoch by epoch, against MLPClassifier's own implementation.

``NoImprovementStopping`` must count epochs without improvement, stop, and pick the best
epoch exactly as ``MLPClassifier._update_no_improvement_count`` and ``_fit_stochastic`` do
(the same rule as ``SGDClassifier``'s): both are driven with the same synthetic loss
sequences, on a grid of values where ``loss == best - tol`` ties happen exactly, so a
flipped comparison, a wrong sign of ``tol`` or an off-by-one in the count changes the
epoch at which one of them stops.
"""

import inspect
import warnings

import numpy as np
import pytest
import torch
from sklearn.neural_network import MLPClassifier
from skorch.history import History

from torchlogit import TorchLogisticClassifier, TorchMultiLabelClassifier
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
    # (X_val, y_val) and, from scikit-learn 1.7 on, sample_weight_val: unused by the stubbed ``_score``.
    n_validation_arrays = len(inspect.signature(mlp._update_no_improvement_count).parameters) - 1
    validation_data = (None,) * n_validation_arrays
    counts, stop = [], None
    for epoch, loss in enumerate(losses):
        mlp.coefs_ = [np.array([[float(epoch)]])]
        mlp.loss_curve_.append(loss)
        mlp._score = lambda X, y, sample_weight=None, loss=loss: -loss
        mlp._update_no_improvement_count(early_stopping, *validation_data)
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


# --------------------------------------------------------------------------------------------------------------
# LBFGSConvergence: SciPy's L-BFGS-B stopping tests (lbfgsb.f: ``sbgnrm <= pgtol``, and
# ``fold - f <= tol * max(|fold|, |f|, 1)`` with sklearn's ``tol = ftol = 64 eps``), and in float32 the
# documented hand-over to float64. Driven with history rows on exact ties (binary fractions).

F64_FTOL = 64 * np.finfo(np.float64).eps  # 2**-46
F32_FTOL = 8 * np.finfo(np.float32).eps  # 2**-20


def _lbfgs_epoch(rule, before, after, grad_max, failed=None):
    """One epoch's row as the L-BFGS net records it; returns what the rule did."""
    net = _Net()
    net.history.new_epoch()
    net.history.new_batch()
    net.history.record_batch("train_loss", before)
    net.history.record("objective", after)
    net.history.record("grad_max", grad_max)
    if failed is not None:
        net.history.record("line_search_failed", failed)
    try:
        rule.on_epoch_end(net)
    except KeyboardInterrupt:
        if getattr(rule, "promote_", False):
            return "promote"
        return ("stop", rule.converged_, rule.status_, rule.message_)
    return "continue"


def _scipy_rule(before, after, grad_max, tol, ftol):
    """L-BFGS-B's two convergence tests, as lbfgsb.f writes them."""
    if grad_max <= tol:
        return "pgtol"
    if before - after <= ftol * max(abs(before), abs(after), 1.0):
        return "factr"
    return None


# (before, after, grad_max): ties of both tests, and values just outside them.
TOL = 0.25
ROWS = [
    (1.0, 0.5, TOL),  # gradient exactly at tol
    (1.0, 0.5, TOL + 2**-20),
    (1.0, 0.5, TOL - 2**-20),
    (4.0, 4.0 - 4 * F64_FTOL, 1.0),  # relative reduction exactly ftol, scale max(|f|) = 4
    (4.0, 4.0 - 8 * F64_FTOL, 1.0),
    (0.5, 0.5 - F64_FTOL, 1.0),  # below 1 the scale is 1
    (0.5, 0.5 - 2 * F64_FTOL, 1.0),
    (-4.0, -4.0 - 4 * F64_FTOL, 1.0),  # |f| (a general objective may be negative)
    (-4.0, -4.0 - 8 * F64_FTOL, 1.0),
    (1.0, 1.5, 1.0),  # an increase: no progress at all
    (4.0, 4.0 - 4 * F32_FTOL, 1.0),
    (4.0, 4.0 - 8 * F32_FTOL, 1.0),
    (0.5, 0.5 - F32_FTOL, 1.0),
    (0.5, 0.5 - 2 * F32_FTOL, 1.0),
]


@pytest.mark.parametrize("row", ROWS)
def test_lbfgs_rule_in_float64_is_scipys(row):
    from torchlogit._callbacks import LBFGSConvergence

    rule = LBFGSConvergence(TOL, torch.float64, trust_gradient=False, can_promote=True)
    rule.on_train_begin(_Net())
    assert rule.ftol == F64_FTOL
    got = _lbfgs_epoch(rule, *row)
    expected = _scipy_rule(*row, TOL, F64_FTOL)
    if expected == "pgtol":
        assert got == ("stop", True, 0, "CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL")
    elif expected == "factr":
        assert got == ("stop", True, 0, "CONVERGENCE: REL_REDUCTION_OF_F <= FACTR*EPSMCH")
    else:
        assert got == "continue"


@pytest.mark.parametrize("row", ROWS)
@pytest.mark.parametrize("trust_gradient", [True, False])
@pytest.mark.parametrize("can_promote", [True, False])
def test_lbfgs_rule_in_float32_hands_over_to_float64(row, trust_gradient, can_promote):
    """float32: the gradient test proves convergence only if trusted; a float32 stall (8 eps32) or an
    untrusted gradient hands over to float64 (``promote_``), or stops unconverged (status 2) without it."""
    from torchlogit._callbacks import LBFGSConvergence

    rule = LBFGSConvergence(TOL, torch.float32, trust_gradient=trust_gradient, can_promote=can_promote)
    rule.on_train_begin(_Net())
    assert rule.ftol == F32_FTOL and rule.promote_ is False
    got = _lbfgs_epoch(rule, *row)
    expected = _scipy_rule(*row, TOL, F32_FTOL)
    if expected == "pgtol" and trust_gradient:
        assert got == ("stop", True, 0, "CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL")
    elif expected is not None:
        if can_promote:
            assert got == "promote" and rule.promote_ is True
            # The continuation: the same rule at float64's precision, no longer promoting.
            assert rule.to_float64() is rule and rule.ftol == F64_FTOL and rule.promote_ is False
            assert _lbfgs_epoch(rule, *row) == _lbfgs_epoch(_fresh_float64(), *row)
        else:
            stop, converged, status, message = got
            assert (stop, converged, status) == ("stop", False, 2) and message.startswith("ABNORMAL")
    else:
        assert got == "continue"


def _fresh_float64():
    from torchlogit._callbacks import LBFGSConvergence

    rule = LBFGSConvergence(TOL, torch.float64)
    rule.on_train_begin(_Net())
    return rule


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("can_promote", [True, False])
def test_lbfgs_failed_line_search_is_abnormal_not_convergence(dtype, can_promote):
    """scipy's "ABNORMAL_TERMINATION_IN_LNSRCH": status 2, not converged, whatever the step and gradient."""
    from torchlogit._callbacks import LBFGSConvergence

    rule = LBFGSConvergence(TOL, dtype, can_promote=can_promote)
    rule.on_train_begin(_Net())
    got = _lbfgs_epoch(rule, 1.0, 0.5, 1.0, failed="ABNORMAL: LINE SEARCH FAILED")
    if dtype == torch.float32 and can_promote:
        assert got == "promote"
    else:
        assert got == ("stop", False, 2, "ABNORMAL: LINE SEARCH FAILED")
    assert _lbfgs_epoch(_fresh_float64(), 1.0, 0.5, 1.0, failed=None) == "continue"


def test_lbfgs_non_finite_objective_is_an_error():
    from torchlogit._callbacks import LBFGSConvergence

    for after in (float("nan"), float("inf")):
        rule = _fresh_float64()
        with pytest.raises(ValueError, match="non-finite"):
            _lbfgs_epoch(rule, 1.0, after, 0.0)
    assert LBFGSConvergence(TOL, torch.float64).tol == TOL


@pytest.mark.parametrize("n_iter, max_iter", [(7, 7), (3, 7)])
@pytest.mark.parametrize("message", [None, "ABNORMAL: LINE SEARCH FAILED"])
@pytest.mark.parametrize("logistic", [True, False])
def test_lbfgs_warning_text_is_sklearns(n_iter, max_iter, message, logistic):
    """The ConvergenceWarning text equals sklearn's ``_check_optimize_result`` for the same run."""
    import warnings

    from scipy.optimize import OptimizeResult, minimize
    from sklearn.linear_model._logistic import _LOGISTIC_SOLVER_CONVERGENCE_MSG
    from sklearn.utils.optimize import _check_optimize_result

    rule = _fresh_float64()
    status = 2 if message else 1
    if message:
        _lbfgs_epoch(rule, 1.0, 0.5, 1.0, failed=message)
    # SciPy's own words for the iteration limit ("NO. of" in SciPy's Fortran L-BFGS-B, "NO. OF" in its C one).
    limit = minimize(lambda x: float(x @ x), np.ones(3), method="L-BFGS-B", options={"maxiter": 1}).message
    result = OptimizeResult(nit=n_iter, status=status, message=message or limit)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _check_optimize_result(
            "lbfgs", result, max_iter, extra_warning_msg=_LOGISTIC_SOLVER_CONVERGENCE_MSG if logistic else None
        )
    assert rule.warning(n_iter, max_iter, logistic=logistic) == str(caught[0].message)
    converged = _fresh_float64()
    _lbfgs_epoch(converged, 1.0, 0.5, 0.0)
    assert converged.warning(n_iter, max_iter, logistic=logistic) is None


# --------------------------------------------------------------------------------------------------------------
# L1Proximal: the cumulative L1 penalty of Tsuruoka, Tsujii & Ananiadou (2009), the rule of SGDClassifier's
# ``l1penalty``, written out in NumPy; for Adam each step's penalty in Adam's metric (``sqrt(v_hat) + eps``).


class _ProxNet:
    def __init__(self, optimizer_name, strength):
        torch.manual_seed(0)
        self.module_ = torch.nn.Linear(4, 3, dtype=torch.float64)
        self.module_.penalized_weights = lambda: [self.module_.weight]
        cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[optimizer_name]
        self.optimizer_ = cls(self.module_.parameters(), lr=0.1)
        self.criterion_ = type("Criterion", (), {"l1_strength": strength})()


def _reference_prox(W, total, applied):
    """Tsuruoka et al.'s clipping at zero by the penalty owed (``total``) minus the one received (``applied``)."""
    new = np.where(
        W > 0, np.maximum(0.0, W - (total + applied)), np.where(W < 0, np.minimum(0.0, W + (total - applied)), W)
    )
    return new, applied + new - W


@pytest.mark.parametrize("optimizer_name", ["sgd", "adam"])
def test_l1_proximal_is_the_cumulative_penalty(optimizer_name):
    from torchlogit._callbacks import L1Proximal

    strength = 0.4
    net = _ProxNet(optimizer_name, strength)
    prox = L1Proximal()
    prox.on_train_begin(net)
    rng = np.random.RandomState(0)
    W = net.module_.weight
    total, applied = np.zeros(W.shape), np.zeros(W.shape)
    zeros_seen = 0
    for _ in range(25):
        net.optimizer_.zero_grad()
        direction = torch.as_tensor(rng.randn(*W.shape) * 0.5)
        loss = (W * direction).sum() + (net.module_.bias * torch.as_tensor(rng.randn(3))).sum()
        loss.backward()
        net.optimizer_.step()
        before, bias = W.detach().numpy().copy(), net.module_.bias.detach().numpy().copy()
        step = 0.1 * strength * np.ones(W.shape)
        if optimizer_name == "adam":
            state = net.optimizer_.state[W]
            v_hat = state["exp_avg_sq"].numpy() / (1 - 0.999 ** float(state["step"]))
            step = step / (np.sqrt(v_hat) + 1e-8)
        total = total + step
        expected, applied = _reference_prox(before, total, applied)
        prox.on_batch_end(net, training=False)  # validation batches: no penalty
        np.testing.assert_array_equal(W.detach().numpy(), before)
        prox.on_batch_end(net, training=True)
        np.testing.assert_allclose(W.detach().numpy(), expected, rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(net.module_.bias.detach().numpy(), bias)  # biases are never penalised
        zeros_seen += int((expected == 0).sum())
    assert zeros_seen > 0  # the clipping at zero was exercised


# --------------------------------------------------------------------------------------------------------------
# ValidationLoss: sklearn's weighted log-loss of the held-out rows (no penalty), in eval mode, then back to train.


class _Held:
    def __init__(self, X, target, weight):
        self.X, self.target, self.weight = X, target, weight


@pytest.mark.parametrize("kind", ["binary", "multinomial", "multilabel", "multilabel_pos_weight"])
def test_validation_loss_is_sklearns_weighted_log_loss(kind):
    from sklearn.metrics import log_loss

    from torchlogit._callbacks import ValidationLoss

    rng = np.random.RandomState(0)
    n, d, k = 40, 3, {"binary": 1, "multinomial": 3}.get(kind, 2)
    pos_weight = np.array([0.25, 3.0]) if kind == "multilabel_pos_weight" else None
    X = rng.randn(n, d)
    weight = rng.uniform(0.5, 3.0, n)
    linear = torch.nn.Linear(d, k, dtype=torch.float64)
    # Dropout that is live in train mode: the loss must be computed with the module in eval mode.
    module = torch.nn.Sequential(torch.nn.Dropout(0.5), linear)
    Z = linear(torch.as_tensor(X)).detach().numpy()
    if kind == "binary":
        y = rng.randint(0, 2, n)
        target = torch.as_tensor(y, dtype=torch.float64)
        expected = log_loss(y, 1 / (1 + np.exp(-Z[:, 0])), sample_weight=weight)
    elif kind == "multinomial":
        y = rng.randint(0, k, n)
        target = torch.as_tensor(y)
        P = np.exp(Z - Z.max(1, keepdims=True))
        expected = log_loss(y, P / P.sum(1, keepdims=True), sample_weight=weight, labels=range(k))
    elif pos_weight is None:
        Y = rng.randint(0, 2, (n, k))
        target = torch.as_tensor(Y, dtype=torch.float64)
        expected = sum(log_loss(Y[:, j], 1 / (1 + np.exp(-Z[:, j])), sample_weight=weight) for j in range(k))
    else:  # torch's pos_weight term, written out: -(pw y log p + (1 - y) log(1 - p))
        Y = rng.randint(0, 2, (n, k))
        target = torch.as_tensor(Y, dtype=torch.float64)
        losses = pos_weight * Y * np.logaddexp(0, -Z) + (1 - Y) * np.logaddexp(0, Z)
        expected = (weight * losses.sum(axis=1)).sum() / weight.sum()
    net = _Net()
    net.module_ = module
    net.history.new_epoch()
    module.train()
    held = _Held(torch.as_tensor(X), target, torch.as_tensor(weight))
    pw = None if pos_weight is None else torch.as_tensor(pos_weight)
    ValidationLoss(held, kind.replace("_pos_weight", ""), pw).on_epoch_end(net)
    assert net.history[-1, "valid_loss"] == pytest.approx(expected, rel=1e-10)
    assert module.training and module[0].training  # training goes on with dropout live


def test_non_finite_parameters_are_an_error_even_with_a_finite_loss():
    from torchlogit._callbacks import check_finite_parameters

    net = _Net()
    check_finite_parameters(net, 1.0)  # finite: no error
    check_finite_parameters(net)
    for loss in (float("inf"), float("nan")):
        with pytest.raises(ValueError, match="learning_rate_init=0.01"):
            check_finite_parameters(net, loss)
    with torch.no_grad():
        net.module_.weight.fill_(float("nan"))
    with pytest.raises(ValueError, match="diverged"):
        check_finite_parameters(net, 1.0)


def test_l1_proximal_keeps_one_account_per_weight_matrix():
    """Each penalised matrix (every layer of a hidden-layer model) owes its own cumulative penalty."""
    from torchlogit._callbacks import L1Proximal

    net = _ProxNet("sgd", 0.4)
    first, second = (
        torch.nn.Parameter(torch.ones(2, 3, dtype=torch.float64)),
        torch.nn.Parameter(-torch.ones(3, 2, dtype=torch.float64)),
    )
    net.module_.penalized_weights = lambda: [first, second]
    net.optimizer_ = torch.optim.SGD([first, second], lr=0.1)
    prox = L1Proximal()
    prox.on_train_begin(net)
    for step in range(1, 4):  # no gradient: only the penalty moves the weights, 0.1 * 0.4 per step
        prox.on_batch_end(net, training=True)
        np.testing.assert_allclose(first.detach().numpy(), 1 - 0.04 * step, rtol=1e-12)
        np.testing.assert_allclose(second.detach().numpy(), -1 + 0.04 * step, rtol=1e-12)


def _sklearn_before_1_7_warning(status, message, extra_warning_msg):
    """scikit-learn < 1.7's ``_check_optimize_result`` text for lbfgs, written out (no iteration count; the
    advice to scale always given; ``"\\n" + extra_warning_msg`` appended)."""
    warning_msg = (
        "{} failed to converge (status={}):\n{}.\n\n"
        "Increase the number of iterations (max_iter) "
        "or scale the data as shown in:\n"
        "    https://scikit-learn.org/stable/modules/"
        "preprocessing.html"
    ).format("lbfgs", status, message)
    if extra_warning_msg is not None:
        warning_msg += "\n" + extra_warning_msg
    return warning_msg


@pytest.mark.parametrize("message", [None, "ABNORMAL: LINE SEARCH FAILED"])
@pytest.mark.parametrize("logistic", [True, False])
def test_lbfgs_warning_text_before_sklearn_1_7_is_that_releases(monkeypatch, message, logistic):
    """With scikit-learn < 1.7 installed (``LBFGS_WARNING_BEFORE_1_7``), that release's wording."""
    from sklearn.linear_model._logistic import _LOGISTIC_SOLVER_CONVERGENCE_MSG

    import torchlogit._callbacks as callbacks

    monkeypatch.setattr(callbacks, "LBFGS_WARNING_BEFORE_1_7", True)
    rule = _fresh_float64()
    if message:
        _lbfgs_epoch(rule, 1.0, 0.5, 1.0, failed=message)
    expected = _sklearn_before_1_7_warning(
        2 if message else 1,
        message or callbacks._iteration_limit_message(),
        _LOGISTIC_SOLVER_CONVERGENCE_MSG if logistic else None,
    )
    assert rule.warning(7, 7, logistic=logistic) == expected
    converged = _fresh_float64()
    _lbfgs_epoch(converged, 1.0, 0.5, 0.0)
    assert converged.warning(7, 7, logistic=logistic) is None


def test_lbfgs_warning_is_logistic_regressions_by_default():
    rule = _fresh_float64()
    assert rule.warning(3, 7) == rule.warning(3, 7, logistic=True) != rule.warning(3, 7, logistic=False)


def test_l1_proximal_penalises_only_training_batches_by_default():
    """skorch's ``on_batch_end(net, batch=None, training=None, ...)``: a call that does not say it is a training batch
    is not one."""
    from torchlogit._callbacks import L1Proximal

    net = _ProxNet("sgd", 0.4)
    prox = L1Proximal()
    prox.on_train_begin(net)
    before = net.module_.weight.detach().clone()
    prox.on_batch_end(net)
    assert torch.equal(net.module_.weight.detach(), before)
    prox.on_batch_end(net, training=True)
    assert not torch.equal(net.module_.weight.detach(), before)


def test_documented_defaults_of_the_stopping_rules():
    """LBFGSConvergence: ``trust_gradient=True`` (float32's gradient test proves convergence) and ``can_promote=True``
    (a float32 stall hands over to float64); NoImprovementStopping monitors ``train_loss`` and keeps the last
    parameters (``restore_best=False``)."""
    from torchlogit._callbacks import LBFGSConvergence

    trusted = LBFGSConvergence(TOL, torch.float32)
    trusted.on_train_begin(_Net())
    assert _lbfgs_epoch(trusted, 1.0, 0.5, TOL) == ("stop", True, 0, "CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL")
    promoting = LBFGSConvergence(TOL, torch.float32)
    promoting.on_train_begin(_Net())
    assert _lbfgs_epoch(promoting, 1.0, 1.0, 1.0) == "promote"

    rule = NoImprovementStopping(0.0, 1)
    assert (rule.monitor, rule.restore_best) == ("train_loss", False)
    net = _Net()
    rule.on_train_begin(net)
    for epoch, loss in enumerate([3.0, 1.0, 2.0, 2.0]):
        with torch.no_grad():
            net.module_.weight.fill_(epoch)
        net.history.new_epoch()
        net.history.record("train_loss", loss)
        try:
            rule.on_epoch_end(net)
        except KeyboardInterrupt:
            break
    rule.on_train_end(net)
    assert epoch == 3 and rule.converged_ and net.module_.weight.item() == 3.0  # the last epoch's, not the best's


def test_lbfgs_non_finite_objective_error_says_where():
    """MLPClassifier's words for a diverged fit, then what went wrong for L-BFGS: a non-finite start, or (from a finite
    one) coefficients beyond the training dtype, as for a float32 column of subnormal values whose coefficient lies
    beyond float32 (it said "at the starting point", where the objective was log 2)."""
    rule = _fresh_float64()
    with pytest.raises(ValueError) as caught:
        _lbfgs_epoch(rule, float("nan"), float("nan"), 0.0)
    assert str(caught.value) == (
        "Solver produced non-finite parameter weights. The input data may contain large values and need to be "
        "preprocessed. The L-BFGS objective is not finite at the starting point."
    )
    with pytest.raises(ValueError, match="non-finite in iteration 1: the coefficients left the range of float64"):
        _lbfgs_epoch(_fresh_float64(), 1.0, float("nan"), 0.0)


@pytest.mark.parametrize("before, after", [(-1.0, -1.0 - 2**-20 - 2**-42), (1.0 + 2**-20 + 2**-42, 1.0)])
def test_lbfgs_relative_reduction_is_relative_to_the_larger_of_both_values(before, after):
    """``(f_k - f_k+1) / max(|f_k|, |f_k+1|, 1) <= ftol``: a reduction of 2^-20 + 2^-42 is above float32's ftol
    (2^-20) relative to 1, but not relative to the larger value 1 + 2^-20 + 2^-42 (either one of the two)."""
    from torchlogit._callbacks import LBFGSConvergence

    assert (before - after) / 1.0 > F32_FTOL
    assert (before - after) / max(abs(before), abs(after)) <= F32_FTOL
    rule = LBFGSConvergence(TOL, torch.float32)
    rule.on_train_begin(_Net())
    assert _lbfgs_epoch(rule, before, after, 1.0) == "promote"


def _epoch_on(net, rule, before, after, grad_max=1.0):
    """``_lbfgs_epoch`` on a given net (its module's parameters set by the caller)."""
    net.history = History()
    net.history.new_epoch()
    net.history.new_batch()
    net.history.record_batch("train_loss", before)
    net.history.record("objective", after)
    net.history.record("grad_max", grad_max)
    try:
        rule.on_epoch_end(net)
    except KeyboardInterrupt:
        return "promote" if rule.promote_ else "stop"
    return "continue"


def test_float32_stall_threshold_is_capped_by_the_objectives_rounding():
    """With ``rounding`` (a linear model's max|x| and effective rows), a float32 decrease under 8 eps32 relative but
    above the rounding bound ``eps32 (1 + max(max|x|, 1) ||theta||_1) / sqrt(n_eff)`` is progress (the run goes on);
    one under the bound is a stall (hand-over to float64). Without ``rounding`` the threshold is 8 eps32 relative."""
    from torchlogit._callbacks import LBFGSConvergence, float32_objective_rounding

    net = _Net()
    with torch.no_grad():
        net.module_.weight.fill_(-1.5)  # ||theta||_1 = 1.5
    eps = float(np.finfo(np.float32).eps)
    bound = float32_objective_rounding(net.module_, 3.0, 4096.0)
    assert bound == pytest.approx(eps * (1 + 3.0 * 1.5) / 64, rel=1e-12)
    assert float32_objective_rounding(net.module_, 0.25, 4096.0) == pytest.approx(eps * 2.5 / 64, rel=1e-12)
    assert bound < F32_FTOL / 50
    capped = LBFGSConvergence(TOL, torch.float32, can_promote=True, rounding=(3.0, 4096.0))
    plain = LBFGSConvergence(TOL, torch.float32, can_promote=True)
    for before, after, expected_capped, expected_plain in [
        (0.5, 0.5 - 0.5 * F32_FTOL, "continue", "promote"),  # slow but far above the rounding
        (0.5, 0.5 - 2 * bound, "continue", "promote"),
        (0.5, 0.5 - 0.5 * bound, "promote", "promote"),  # within the rounding: a stall
        (0.5, 0.5 - 2 * F32_FTOL, "continue", "continue"),
    ]:
        for rule, expected in ((capped, expected_capped), (plain, expected_plain)):
            rule.on_train_begin(net)
            assert _epoch_on(net, rule, before, after) == expected, (before - after, rule.rounding)
    # the continuation in float64 keeps scikit-learn's ftol, whatever the rounding of float32
    capped.on_train_begin(net)
    capped.to_float64()
    assert _epoch_on(net, capped, 0.5, 0.5 - 0.5 * bound) == "continue"


def test_a_slow_float32_decrease_above_the_rounding_does_not_make_a_float64_copy(monkeypatch):
    """make_classification 20000 x 100: with 8 eps32 relative alone, a slow float32 iteration (a real decrease, far
    above the objective's rounding) handed over to float64, which gathered a float64 copy of the rows. With the
    rounding cap the fit stays in float32 (one float32 copy), converges, and its float64 gradient is within tol."""
    from scipy.special import expit
    from sklearn.datasets import make_classification
    from sklearn.exceptions import ConvergenceWarning

    from torchlogit import TorchLogisticClassifier, _callbacks
    from torchlogit._training_set import TrainingSet

    X, y = make_classification(20000, 100, n_informative=20, n_redundant=0, random_state=0)
    original, copies = TrainingSet.batch, []

    def spy(self, part, dtype, *args, **kwargs):
        copies.append(dtype)
        return original(self, part, dtype, *args, **kwargs)

    monkeypatch.setattr(TrainingSet, "batch", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = TorchLogisticClassifier().fit(X, y)
    assert copies == [torch.float32]
    assert {row["precision"] for row in clf.history_} == {"float32"}
    residual = expit(X @ clf.coef_[0] + clf.intercept_[0]) - y
    gradient = np.r_[X.T @ residual / len(y) + clf.coef_[0] / len(y), residual.mean()]
    assert np.abs(gradient).max() <= clf.tol * 1.01
    copies.clear()
    monkeypatch.setattr(_callbacks, "float32_objective_rounding", lambda *args: float("inf"))
    TorchLogisticClassifier().fit(X, y)
    assert copies == [torch.float32, torch.float64]  # the cap is what keeps it in float32


def test_l1_proximal_keeps_its_totals_in_float64_for_float32_weights():
    """The owed and received penalties are summed in float64 (as SGDClassifier's): in float32, after 1.7e7 steps of
    0.04 each further step added 0.0625 (the sum's spacing there) or, later, nothing: a long partial_fit stream's
    L1 pull went wrong, then vanished."""
    from torchlogit._callbacks import L1Proximal

    net = _ProxNet("sgd", 0.4)
    W = torch.nn.Parameter(torch.full((2, 3), 10.0, dtype=torch.float32))
    net.module_.penalized_weights = lambda: [W]
    net.optimizer_ = torch.optim.SGD([W], lr=0.1)
    owed = 0.04 * 1.7e7  # 1.7e7 steps of 0.1 * 0.4 so far, all received
    prox = L1Proximal(start=[[np.full((2, 3), owed), np.full((2, 3), -owed)]])
    prox.on_train_begin(net)
    start = W.detach().clone()
    for _ in range(100):  # no gradient: only the penalty moves the weights
        prox.on_batch_end(net, training=True)
    total, applied = prox.state()[0]
    assert total.dtype == applied.dtype == np.float64
    step = float(np.float32(0.1 * 0.4))  # each step's penalty, in the weights' dtype
    np.testing.assert_allclose(total - owed, 100 * step, rtol=1e-9)  # float32: 0.0625 a step (the sum's spacing)
    np.testing.assert_allclose((start - W.detach()).numpy(), 100 * step, rtol=1e-5)  # the pull the weights got


def test_l1_proximal_starts_both_totals_in_float64_for_float32_weights():
    """A fresh start (fit, or a first partial_fit) sums the owed and the received penalties in float64 too, not only
    a continuation from a previous call's state: SGDClassifier's cumulative penalty is float64 whatever X's dtype.
    The received sum is the weights' own movement: with no gradient and no weight reaching zero, exactly (float64
    differences of float32 values) what they moved since the start."""
    from torchlogit._callbacks import L1Proximal

    net = _ProxNet("sgd", 0.4)
    W = torch.nn.Parameter(torch.tensor([[10.0, -3.0, 7.5], [-0.5, 2.0, -9.0]], dtype=torch.float32))
    net.module_.penalized_weights = lambda: [W]
    net.optimizer_ = torch.optim.SGD([W], lr=0.1)
    prox = L1Proximal()
    prox.on_train_begin(net)
    start = W.detach().numpy().astype(np.float64)
    for _ in range(10):  # 10 steps of 0.04: no weight reaches zero
        prox.on_batch_end(net, training=True)
    total, applied = prox.state()[0]
    assert total.dtype == applied.dtype == np.float64
    np.testing.assert_array_equal(applied, W.detach().numpy().astype(np.float64) - start)
    np.testing.assert_allclose(total, 10 * float(np.float32(0.1 * 0.4)), rtol=1e-12)


def test_overshoot_warning_is_for_a_last_loss_over_twice_the_best():
    """Kills C11 (NoImprovementStopping.overshoot_message warning from 1.5x the
    best instead of the documented "over twice its best").

    A stopped run that ends at 1.8x its best loss is not the overshooting run the warning is for (that one went from
    0.69 to 3-16000); MLPClassifier calls it convergence in silence, and so must the rule below 2x.
    """
    from types import SimpleNamespace

    from skorch.history import History

    from torchlogit._callbacks import NoImprovementStopping

    def message(last, best=1.0, tol=1e-4):
        rule = NoImprovementStopping(tol=tol, n_iter_no_change=10)
        rule.converged_, rule.best_ = True, best
        history = History()
        for loss in (best, last):
            history.new_epoch()
            history.record("train_loss", loss)
        return rule.overshoot_message(SimpleNamespace(history=history, lr=0.001))

    assert message(1.8) is None
    assert message(1.99) is None
    assert message(2.0 + 2e-4) is not None
    text = message(5.0)
    assert "5 times the best" in text and "Lower learning_rate_init (it is 0.001)" in text


# (mutation survey, N5: `not all(p.requires_grad ...)` in _net.LogitNet._check_something_to_train:
# freezing some layers, as the error message itself advises, was refused)
def test_freezing_some_layers_trains_the_others():
    import warnings

    import numpy as np
    from skorch.callbacks import Freezer

    from torchlogit import TorchMultiLabelClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    Y = (X[:, :2] + rng.normal(size=(60, 2)) > 0).astype(int)
    kwargs = dict(hidden_layer_sizes=(5,), solver="adam", max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 5 epochs: the iteration limit's ConvergenceWarning
        frozen = TorchMultiLabelClassifier(**kwargs, callbacks=[Freezer("hidden.*")]).fit(X, Y)
        free = TorchMultiLabelClassifier(**kwargs).fit(X, Y)
    assert frozen.n_iter_ == 5
    assert not np.array_equal(frozen.coefs_[0], free.coefs_[0])  # the frozen layer kept its start, the free one moved


def test_no_overshoot_warning_for_a_run_ending_within_tol_of_a_near_zero_best():
    """h5's mutant M20 (overshoot judged against 2 x best alone, without ``+ tol``): on separable data the losses go
    to ~0, and a last loss of 5e-5 beside a best of 1e-6 is 50x the best but within tol=1e-4 of it: a healthy
    end, which MLPClassifier calls convergence; no "steps overshoot" ConvergenceWarning."""
    from types import SimpleNamespace

    rule = NoImprovementStopping(tol=1e-4, n_iter_no_change=10)
    rule.converged_, rule.best_ = True, 1e-6
    history = History()
    for loss in (1e-6, 5e-5):
        history.new_epoch()
        history.record("train_loss", loss)
    assert rule.overshoot_message(SimpleNamespace(history=history, lr=0.001)) is None


# (a second mutation survey's N10: a network with only some
# parameters frozen refused as if every one were: "Every parameter of the network is frozen")
@pytest.mark.parametrize("solver", ["adam", "sgd"])  # skorch's Freezer is refused with L-BFGS (documented)
def test_freezing_one_layer_trains_the_others_with_mini_batch_solvers(noisy_binary, solver):
    from skorch.callbacks import Freezer

    X, y = noisy_binary
    Y = np.c_[y, 1 - y]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frozen = TorchMultiLabelClassifier(
            hidden_layer_sizes=(3,),
            solver=solver,
            max_iter=3,
            tol=0,
            random_state=0,
            callbacks=[("freeze", Freezer("hidden.0.weight"))],
        ).fit(X, Y)
        free = TorchMultiLabelClassifier(hidden_layer_sizes=(3,), solver=solver, max_iter=3, tol=0, random_state=0).fit(
            X, Y
        )
    assert not np.array_equal(frozen.coefs_[0], free.coefs_[0])  # the frozen layer kept its initial weights
    assert not np.array_equal(frozen.coefs_[1], free.coefs_[1]) or not np.array_equal(
        frozen.intercepts_[0], free.intercepts_[0]
    )


# (a second mutation survey's N12: an L-BFGS iteration whose line search failed not recorded as
# "line_search_failed" in history_, so the stopping rule never sees the failure; only the rule itself was tested,
# on hand-written history rows)
def test_a_failed_line_search_reaches_the_history_and_stops_the_fit(noisy_binary, monkeypatch):
    from torchlogit._solvers import LBFGS

    original = LBFGS.step

    def failing_step(self, closure):
        out = original(self, closure)
        self.state[self.param_groups[0]["params"][0]]["failed"] = "ABNORMAL: LINE SEARCH FAILED"
        return out

    monkeypatch.setattr(LBFGS, "step", failing_step)
    X, y = noisy_binary
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = TorchLogisticClassifier(solver="lbfgs", max_iter=20, tol=0).fit(X, y)
    assert clf.history_[0]["line_search_failed"] == "ABNORMAL: LINE SEARCH FAILED"
    assert len(clf.history_) < 20  # the stopping rule read it
