"""The mini-batch loop of LogitNet: no host synchronisation per batch, the same numbers as skorch's loop.

The device-side loop (``LogitNet.run_single_epoch``) reads the batch losses back once per
epoch and skips skorch's per-batch bookkeeping. The reference is skorch's own loop, which
LogitNet falls back to when a callback acts per batch: a do-nothing ``on_batch_end``
callback forces it, so each test fits twice and compares bit for bit.
"""

import os
import traceback
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import skorch
import torch
from skorch.callbacks import Callback, LRScheduler

from torchlogit import TorchLogisticClassifier, TorchMultiLabelClassifier
from torchlogit._net import LogitNet


class ForceSkorchLoop(Callback):
    """Acts per batch (does nothing there): LogitNet hands the epoch to skorch's loop."""

    def on_batch_end(self, net, **kwargs):
        pass


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 6))
    X[:, 1] += X[:, 0]  # correlated features
    binary = (X[:, 0] + 0.5 * rng.standard_normal(300) > 0).astype(int)
    three = np.digitize(X[:, 2] + 0.3 * rng.standard_normal(300), [-0.5, 0.5])
    labels = (X[:, :3] + 0.5 * rng.standard_normal((300, 3)) > 0).astype(int)
    weight = rng.integers(1, 4, 300).astype(float)
    return X, binary, three, labels, weight


def _fit(estimator, X, y, sample_weight=None, force_skorch=False):
    if force_skorch:
        estimator.set_params(callbacks=[("force", ForceSkorchLoop())])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of short runs: not what is compared here
        return estimator.fit(X, y, sample_weight=sample_weight)


CASES = {
    "adam binary weighted": lambda d: (
        TorchLogisticClassifier(solver="adam", batch_size=32, max_iter=15, random_state=0),
        d[0],
        d[1],
        d[4],
    ),
    "sgd multinomial": lambda d: (
        TorchLogisticClassifier(solver="sgd", batch_size=50, max_iter=12, random_state=1),
        d[0],
        d[2],
        None,
    ),
    "adam elastic-net (L1 callback per batch)": lambda d: (
        TorchLogisticClassifier(solver="adam", C=0.05, l1_ratio=0.7, batch_size=40, max_iter=10, random_state=2),
        d[0],
        d[1],
        None,
    ),
    "adam sparse input": lambda d: (
        TorchLogisticClassifier(solver="adam", batch_size=64, max_iter=8, random_state=3),
        sp.csr_matrix(np.where(np.abs(d[0]) > 0.8, d[0], 0.0)),
        d[1],
        None,
    ),
    "hidden multi-label with dropout, early stopping": lambda d: (
        TorchMultiLabelClassifier(
            hidden_layer_sizes=(8,),
            dropout=0.2,
            batch_size=30,
            max_iter=12,
            early_stopping=True,
            n_iter_no_change=3,
            random_state=4,
        ),
        d[0],
        d[3],
        None,
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_device_loop_equals_skorchs_loop_bit_for_bit(data, case):
    """Coefficients, iterations and every batch row of the history equal skorch's loop exactly."""
    estimator, X, y, weight = CASES[case](data)
    fast = _fit(estimator, X, y, weight)
    reference = _fit(CASES[case](data)[0], X, y, weight, force_skorch=True)
    for ours, theirs in zip(fast._fitted_layers(), reference._fitted_layers(), strict=True):
        np.testing.assert_array_equal(ours[0], theirs[0])
        np.testing.assert_array_equal(ours[1], theirs[1])
    assert fast.n_iter_[0] == reference.n_iter_[0]
    assert fast.loss_curve_ == reference.loss_curve_
    for row, expected in zip(fast.history_, reference.history_, strict=True):
        assert row["batches"] == expected["batches"]
        assert row["train_batch_count"] == expected["train_batch_count"] == len(expected["batches"])


def test_batch_losses_are_read_back_once_per_epoch(data, monkeypatch):
    """skorch's loop calls ``.item()`` at every batch; the device loop at most a few times per epoch."""
    X, y = data[0], data[1]
    calls = {"item": 0, "skorch_epochs": 0}
    item = torch.Tensor.item

    def counting_item(self):
        # torch's Adam reads its step counter with .item(): a CPU tensor even in a CUDA fit, no sync.
        caller = traceback.extract_stack(limit=2)[0].filename
        calls["item"] += f"torch{os.sep}optim" not in caller
        return item(self)

    epoch = skorch.NeuralNet.run_single_epoch

    def counting_epoch(self, iterator, training, *args, **kwargs):
        calls["skorch_epochs"] += iterator is not None and training  # skorch also runs an empty validation epoch
        return epoch(self, iterator, training, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "item", counting_item)
    monkeypatch.setattr(skorch.NeuralNet, "run_single_epoch", counting_epoch)
    epochs, batches = 5, 30  # 300 rows at batch_size=10
    clf = _fit(TorchLogisticClassifier(solver="adam", batch_size=10, max_iter=epochs, random_state=0), X, y)
    reference = TorchLogisticClassifier(solver="adam", batch_size=10, max_iter=epochs, random_state=0)
    assert len(clf.history_) == epochs and all(len(row["batches"]) == batches for row in clf.history_)
    assert calls["skorch_epochs"] == 0
    assert calls["item"] <= 2 * epochs  # not once per batch (150)
    calls.update(item=0)
    _fit(reference, X, y, force_skorch=True)
    assert calls["skorch_epochs"] == epochs and calls["item"] >= epochs * batches  # the reference loop does


def test_callbacks_that_use_batch_history_get_skorchs_loop(data):
    """skorch's LRScheduler(step_every='batch') writes into each batch row of the history while the epoch runs."""
    X, y = data[0], data[1]
    scheduler = LRScheduler(policy=torch.optim.lr_scheduler.StepLR, step_size=5, gamma=0.5, step_every="batch")
    clf = TorchLogisticClassifier(solver="sgd", batch_size=100, max_iter=3, random_state=0, callbacks=[scheduler])
    clf = _fit(clf, X, y)
    lrs = [batch["event_lr"] for row in clf.history_ for batch in row["batches"]]
    assert len(lrs) == 9
    np.testing.assert_allclose(lrs, [0.01 * 0.5 ** (i // 5) for i in range(9)])


def test_foreign_batch_hooks_are_detected():
    """Which callbacks send the epoch to skorch's loop (the rule ``run_single_epoch`` follows)."""
    from torchlogit._callbacks import L1Proximal

    class WatchesGradients(Callback):
        def on_grad_computed(self, net, named_parameters, **kwargs):
            pass

    def net_with(callbacks):
        net = LogitNet(torch.nn.Linear(2, 1), criterion=torch.nn.BCEWithLogitsLoss, callbacks=callbacks)
        return net.initialize_callbacks()

    assert not net_with([])._foreign_batch_hooks()
    assert not net_with([L1Proximal()])._foreign_batch_hooks()  # declares it reads no batch history
    assert net_with([ForceSkorchLoop()])._foreign_batch_hooks()
    assert net_with([WatchesGradients()])._foreign_batch_hooks()


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("frozen", ["weight", "bias"])
def test_skorchs_freezer_holds_a_linear_models_parameters(data, solver, frozen):
    """The linear model's closed-form gradient was written into .grad whatever requires_grad said: skorch's
    Freezer("linear.weight") was accepted and changed nothing (coef_ bitwise the unfrozen fit's), and a bias
    gradient written whatever the bias's requires_grad said (or gated on the weight's) moved frozen intercepts. A
    frozen parameter now gets no gradient, as autograd gives it, and stays where it started (0, exactly) while the
    other learns."""
    from skorch.callbacks import Freezer

    X, y = data[0], data[1]
    params = dict(solver=solver, max_iter=3, random_state=0, n_iter_no_change=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        free = TorchLogisticClassifier(**params).fit(X, y)
        held = TorchLogisticClassifier(**params, callbacks=[Freezer(f"linear.{frozen}")]).fit(X, y)
    still, moving = (held.coef_, held.intercept_) if frozen == "weight" else (held.intercept_, held.coef_)
    assert np.abs(free.coef_).max() > 0 and np.abs(free.intercept_).max() > 0
    np.testing.assert_array_equal(still, 0.0)
    assert np.abs(moving).max() > 0


def test_freezers_need_a_mini_batch_solver_and_something_left_to_train(data):
    """skorch's Freezer acts when an epoch begins; L-BFGS and Newton evaluate the gradient before the first epoch,
    and their first step moved the frozen parameters (coefficients of 0.28 under Freezer("linear.weight")): refused
    in words there. Freezing every parameter of a network reached autograd's "element 0 of tensors does not
    require grad": refused in words, the estimator left unfitted."""
    from skorch.callbacks import Freezer

    X, y, _, labels, _ = data
    for solver in ("lbfgs", "newton-cholesky"):
        with pytest.raises(ValueError, match=f"Freezer acts on the parameters when an epoch begins; solver='{solver}'"):
            TorchLogisticClassifier(solver=solver, callbacks=[Freezer("linear.weight")]).fit(X, y)
    with pytest.raises(ValueError, match="solver='lbfgs'"):
        TorchMultiLabelClassifier(callbacks=[Freezer("linear.weight")]).fit(X, labels)
    frozen = TorchMultiLabelClassifier((3,), max_iter=2, callbacks=[Freezer("*")])
    with pytest.raises(ValueError, match="Every parameter of the network is frozen"):
        frozen.fit(X, labels)
    assert not hasattr(frozen, "coefs_")


_GRADIENT_CALLS = []  # module-level: the estimator copies its callbacks


class _WatchGradients(Callback):
    def on_grad_computed(self, net, named_parameters, **kwargs):
        _GRADIENT_CALLS.append(sum(float(p.grad.norm()) for _, p in named_parameters if p.grad is not None))


def test_gradient_callbacks_need_a_mini_batch_solver(data):
    """skorch calls on_grad_computed from the closure it hands an optimizer; the full-batch solvers' closures never
    called it, so GradientNormClipping or a gradient monitor did nothing, in silence (L-BFGS, Newton, a hidden
    network's L-BFGS): refused there in words, before training. With adam it is called after every batch's
    gradient, and clipping every gradient to 1e-12 keeps the coefficients near their start."""
    from skorch.callbacks import GradientNormClipping

    X, y, _, labels, _ = data
    for solver in ("lbfgs", "newton-cholesky"):
        for callback in (GradientNormClipping(gradient_clip_value=1.0), _WatchGradients()):
            name = type(callback).__name__
            with pytest.raises(ValueError, match=f"{name} acts in on_grad_computed, which solver='{solver}'"):
                TorchLogisticClassifier(solver=solver, callbacks=[callback]).fit(X, y)
    unfitted = TorchMultiLabelClassifier((3,), solver="lbfgs", callbacks=[_WatchGradients()])
    with pytest.raises(ValueError, match="solver='lbfgs' does not call"):
        unfitted.fit(X, labels)
    assert not hasattr(unfitted, "coefs_")
    _GRADIENT_CALLS.clear()
    params = dict(solver="adam", max_iter=2, random_state=0, n_iter_no_change=100, batch_size=len(y) // 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        TorchLogisticClassifier(**params, callbacks=[_WatchGradients()]).fit(X, y)
        free = TorchLogisticClassifier(**params).fit(X, y)
        clipped = TorchLogisticClassifier(**params, callbacks=[GradientNormClipping(gradient_clip_value=1e-12)]).fit(
            X, y
        )
    assert len(_GRADIENT_CALLS) == 4 and min(_GRADIENT_CALLS) > 0  # 2 epochs of 2 batches
    assert np.abs(clipped.coef_).max() < 1e-3 * np.abs(free.coef_).max()


_EPOCHS = []  # module-level: the estimator copies its callbacks (and what they hold)


class _RecordBatches(Callback):
    """Records the rows of each training batch (their first feature), epoch by epoch."""

    def on_epoch_begin(self, net, **kwargs):
        _EPOCHS.append([])

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if training:
            _EPOCHS[-1].append(np.asarray(batch[0][:, 0]).copy())


# (mutation survey h4, N02: `epoch=lambda: 0` in _net's shuffled batches; fit and partial_fit shared it, so every
# comparison of the two passed)
def test_minibatches_are_reshuffled_every_epoch():
    """Each epoch visits every row once, in a fresh order: the same permutation every epoch biases SGD and Adam."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 3))
    X[:, 0] = np.arange(120)  # the row's identity
    y = (X[:, 1] > 0).astype(int)
    _EPOCHS.clear()
    model = TorchLogisticClassifier(
        solver="sgd", batch_size=20, max_iter=3, tol=0.0, random_state=0, callbacks=[("rec", _RecordBatches())]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    orders = [np.concatenate(batches) for batches in _EPOCHS]
    assert len(orders) == 3
    for order in orders:
        np.testing.assert_array_equal(np.sort(order), np.arange(120))
    assert not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[1], orders[2])


_MODES = []


class _EvalAtEpochEnd(Callback):
    """A user's callback that evaluates the network at each epoch's end and leaves it in eval mode."""

    def on_epoch_end(self, net, **kwargs):
        net.module_.eval()

    def on_batch_end(self, net, training=None, **kwargs):
        if training:
            _MODES.append(net.module_.training)


# (mutation survey h4, N11: `any` for `all` in LogitNet._set_training)
def test_every_training_batch_runs_in_train_mode_after_a_callback_left_eval_mode():
    """A callback that leaves the network in eval mode (an evaluation at the epoch's end) must not switch dropout
    off for the following epochs: the criterion's mode still matched, and the reset was skipped."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    Y = (X[:, :2] > 0).astype(int)
    _MODES.clear()
    model = TorchMultiLabelClassifier(
        hidden_layer_sizes=(4,),
        dropout=0.2,
        solver="adam",
        batch_size=20,
        max_iter=3,
        tol=0.0,
        random_state=0,
        callbacks=[("eval", _EvalAtEpochEnd())],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, Y)
    assert _MODES == [True] * 9


# (mutation survey h4, N13: `not _user_interrupt` dropped in LogitNet.notify)
def test_verbose_prints_no_row_for_the_epoch_a_ctrl_c_interrupted(capsys):
    """A Ctrl-C (the user's, not a stopping rule's) leaves fit without printing the interrupted epoch's row, which
    read as if a stopping rule had ended the fit there."""
    import signal

    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = (X[:, 0] > 0).astype(int)
    epochs = []

    class Pressed(Callback):
        def on_epoch_end(self, net, **kwargs):
            epochs.append(1)
            if len(epochs) == 3:
                signal.raise_signal(signal.SIGINT)

    outer = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        model = TorchLogisticClassifier(solver="adam", max_iter=10, verbose=1, random_state=0, callbacks=[Pressed()])
        with pytest.raises(KeyboardInterrupt):
            model.fit(X, y)
    finally:
        signal.signal(signal.SIGINT, outer)
    rows = [line for line in capsys.readouterr().out.splitlines() if line.strip()[:1].isdigit()]
    assert [row.split()[0] for row in rows] == ["1", "2"]


# (a second mutation survey's N17: history_'s cumulative
# "func_evals" off from the objective evaluations actually made; only the optimizer's state was tested)
@pytest.mark.parametrize("solver", ["lbfgs", "newton-cholesky"])
def test_history_func_evals_count_every_objective_evaluation(noisy_binary, solver, monkeypatch):
    from torchlogit._net import LogitNet

    calls = []
    original = LogitNet.train_step_single

    def counting(self, batch, **fit_params):
        calls.append(1)
        return original(self, batch, **fit_params)

    monkeypatch.setattr(LogitNet, "train_step_single", counting)
    X, y = noisy_binary
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = TorchLogisticClassifier(solver=solver, max_iter=4, tol=0).fit(X, y)
    evals = [row["func_evals"] for row in clf.history_]
    assert evals == sorted(evals) and evals[-1] == len(calls)


class _StopInSecondEpochsFirstBatch(Callback):
    def on_batch_end(self, net, training=None, **kwargs):
        if len(net.history) == 2:
            raise KeyboardInterrupt


# (a second mutation survey's N16: a stop raised from a per-batch hook made
# verbose print the unfinished epoch's row; only the on_epoch_end stop's row belongs, see _print_stopping_epoch)
def test_verbose_prints_no_row_for_an_epoch_a_per_batch_stop_cut_short(noisy_binary, capsys):
    X, y = noisy_binary
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = TorchLogisticClassifier(
            solver="adam",
            batch_size=40,
            max_iter=5,
            tol=0,
            verbose=1,
            callbacks=[("stop", _StopInSecondEpochsFirstBatch())],
        ).fit(X, y)
    printed = [line for line in capsys.readouterr().out.splitlines() if line.strip()[:1].isdigit()]
    assert len(printed) == 1  # epoch 1 only
    assert len(clf.history_) == 2


class _DeviceLoopStop(Callback):
    live_batch_history = False  # served by LogitNet's device-side loop (as torchlogit's own callbacks are)

    def on_batch_end(self, net, training=None, **kwargs):
        if len(net.history) == 2:
            raise KeyboardInterrupt


# (a second mutation survey's N09: a callback's stop raised per batch in the device-side loop not flagged
# as the callback's, so fit re-raised it as the user's Ctrl-C)
def test_a_per_batch_stop_in_the_device_loop_ends_the_fit_as_skorch_does(noisy_binary):
    X, y = noisy_binary
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            clf = TorchLogisticClassifier(
                solver="adam", batch_size=40, max_iter=5, tol=0, callbacks=[("stop", _DeviceLoopStop())]
            ).fit(X, y)
        except KeyboardInterrupt:
            pytest.fail("a callback's stop reached the caller as a KeyboardInterrupt")
    assert len(clf.history_) == 2
