"""The skorch net that trains every torchlogit model.

Four things differ from a stock ``skorch.NeuralNet``:

* Data never goes through skorch's row-by-row Dataset/DataLoader: the training data
  is one set of device tensors (:class:`TensorData`), served either as one full batch
  or as shuffled tensor slices.
* A mini-batch epoch never waits for the device: batches are cut on the device, the
  batch losses come back in one copy at the epoch's end (skorch reads each one back),
  and skorch's per-batch bookkeeping is skipped unless a callback needs it.
* ``get_loss`` is the weighted, penalised objective of :mod:`torchlogit._objective`;
  the target of a batch is ``(target, sample_weight)``.
* With L-BFGS (:class:`torchlogit._solvers.LBFGS`), one skorch epoch is one
  iteration, so ``history`` shows the iterations with their objective, largest
  gradient entry, precision ("float32", or "float64" in the continuation) and, when
  the line search found no decrease, ``line_search_failed``.
"""

import contextlib
import re
import signal
import sys
import threading

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer, PassthroughScoring, PrintLog
from skorch.dataset import get_len
from torch.utils.data import Dataset

from ._kernels import sparse_tensor
from ._modules import LinearLogits
from ._newton import NewtonCholesky
from ._solvers import LBFGS

# Full-batch optimizers doing one iteration per step(closure), one skorch epoch each.
_FULL_BATCH = (LBFGS, NewtonCholesky)


class TensorData(Dataset):
    """Features, targets and sample weights, already tensors on the training device.

    For sparse features, ``host`` is the same rows as a scipy CSR matrix: torch cannot
    select rows of a CSR tensor, so sparse mini-batches are cut on the host.
    """

    def __init__(self, X, target, weight, host=None, max_abs=None):
        self.X = X
        self.target = target
        self.weight = weight
        self.host = host
        self.max_abs = max_abs  # largest |feature value| (None: not measured)

    def __len__(self):
        return self.X.shape[0]

    def __getitem__(self, i):
        return self.X[i], (self.target[i], self.weight[i])


class _FullBatch:
    """One batch per epoch: the whole data, no copy."""

    def __init__(self, data):
        self.data = data

    def __iter__(self):
        yield self.data.X, (self.data.target, self.data.weight)


class _ShuffledBatches:
    """Tensor slices of a fresh permutation each epoch, cut where the data is.

    The permutation of epoch ``e`` is drawn on the CPU from a generator seeded by
    ``(seed, e)`` and copied to the device once per epoch, so that ``partial_fit``
    called epoch by epoch shuffles exactly as ``fit`` does, and a CUDA fit exactly as a
    CPU fit. Each batch is then ``index_select`` of device tensors by a slice of that
    device permutation: nothing in the loop waits for the device.
    """

    def __init__(self, data, batch_size, seed, epoch):
        self.data = data
        self.batch_size = batch_size
        self.seed = seed
        self.epoch = epoch  # callable: the index of the epoch about to run

    def __iter__(self):
        data = self.data
        n = len(data)
        generator = torch.Generator().manual_seed((self.seed * 1_000_003 + self.epoch()) % (1 << 63))
        host_order = torch.randperm(n, generator=generator, device="cpu")
        order = host_order.to(data.X.device)
        # Sparse rows are cut from the host CSR copy by the host permutation: reading the
        # device one back would wait for the device at every batch.
        host_rows = host_order.numpy() if data.host is not None else None
        for start in range(0, n, self.batch_size):
            idx = order[start : start + self.batch_size]
            if host_rows is not None:
                rows = host_rows[start : start + self.batch_size]
                X = sparse_tensor(data.host[rows], data.X.dtype, data.X.device)
            else:  # index_select: ~4x faster than X[idx] for a random batch on the CPU
                X = data.X.index_select(0, idx)
            yield X, (data.target.index_select(0, idx), data.weight.index_select(0, idx))


class _Interrupted(BaseException):
    """The user's ``KeyboardInterrupt`` (Ctrl-C), carried past skorch's ``partial_fit``.

    skorch stops training by raising ``KeyboardInterrupt`` from a callback (its ``EarlyStopping``, our stopping
    rules) and ``NeuralNet.partial_fit`` catches every one: a Ctrl-C during training was swallowed, and the fit
    returned the half-trained model as if a callback had stopped it (a grid search went on to the next fit).
    """


@contextlib.contextmanager
def _watching_ctrl_c(net):
    """Note on ``net`` (``_user_interrupt``) when SIGINT arrives, then handle it as before (Python's handler raises
    ``KeyboardInterrupt``).

    Without it a Ctrl-C raised inside a callback's code (L1's step, a user's callback, the stopping rule) read as
    that callback's request to stop: ``fit`` returned the half-trained model (3 of 10 real Ctrl-Cs during an L1
    mini-batch fit). Signal handlers belong to the main thread: elsewhere (dask workers, a user's threads) the
    interrupt cannot arrive, and nothing is installed; nor over a handler that is not a Python callable.
    """
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        yield
        return

    def handler(signum, frame):
        net._user_interrupt = True
        previous(signum, frame)

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def overrides(callback, hook):
    """Whether ``callback`` (an instance, or a class as ``callbacks`` may name one) does something in ``hook``
    (skorch's base class does nothing there)."""
    kind = callback if isinstance(callback, type) else type(callback)
    return getattr(kind, hook, None) is not getattr(Callback, hook)


def _torchs_default_device():
    """torch's own default device (the CPU) while training, where the user set another (``torch.set_default_device``).

    What torch's optimizers make without naming a device follows that setting: torch 2.2's Adam kept its step count
    on "meta" (or "cuda") during a CPU fit, and failed reading it back (torch keeps it on the CPU, where reading it
    makes no device wait, in a CUDA fit too). Only then: the context is a mode that sees every torch call, and a
    small fit took 50% longer inside it (2000 x 20: 8.5 -> 13 ms). torchlogit's own tensors name their device.
    """
    if torch.empty(0).device.type == "cpu":
        return contextlib.nullcontext()
    return torch.device("cpu")


class _PrintLog(PrintLog):
    """skorch's ``PrintLog``, whose colours (ANSI codes marking each column's best) are kept for a terminal: in a
    log file, a pipe or CI they were escape codes among the numbers (``^[[36m0.7538^[[0m``)."""

    def format_row(self, row, key, color):
        text = super().format_row(row, key, color)
        if isinstance(text, str) and not _is_terminal(sys.stdout):
            return _ANSI.sub("", text)
        return text


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _is_terminal(stream):
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a replaced stdout without isatty, or a closed one
        return False


class LogitNet(NeuralNet):
    """skorch net for logit models: tensor batches, weighted penalised loss, L-BFGS bookkeeping.

    Parameters
    ----------
    *args, **kwargs
        As for :class:`skorch.NeuralNet`.
    shuffle_seed : int
        Seed of the generator that shuffles mini-batches.
    """

    def __init__(self, *args, shuffle_seed=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.shuffle_seed = shuffle_seed
        self._callback_stop = False

    # ------------------------------------------------------ interruptions
    # A KeyboardInterrupt that a callback raised stops training (skorch's convention); any other one is the
    # user's, and leaves the fit (whose caller keeps the previous fitted state, see ._state).
    def notify(self, method_name, **cb_kwargs):
        try:
            super().notify(method_name, **cb_kwargs)
        except KeyboardInterrupt:
            self._callback_stop = True
            if method_name == "on_epoch_end" and not getattr(self, "_user_interrupt", False):
                self._print_stopping_epoch(cb_kwargs)
            raise

    def _print_stopping_epoch(self, cb_kwargs):
        """``verbose``'s row of the epoch a stopping rule ended: skorch runs ``PrintLog`` after every other
        callback, so the rule's stop skipped it, and the iteration that met ``tol`` was never printed. Not a
        Newton iteration that stalled without a step for float64: its row leaves the history (see
        ``._training.TrainingMixin._continue_in_float64``), and the float64 iterations are printed from 1."""
        if getattr(self.optimizer_, "stepless", False):
            return
        for _, callback in self.callbacks_:
            if isinstance(callback, PrintLog):
                callback.on_epoch_end(self, **cb_kwargs)

    def fit_loop(self, *args, **kwargs):
        self._callback_stop = False
        self._user_interrupt = False
        try:
            with _watching_ctrl_c(self), _torchs_default_device():
                return super().fit_loop(*args, **kwargs)
        except KeyboardInterrupt as interrupt:
            # A Ctrl-C that lands while a callback runs looks like the callback's stop: the signal says it was not.
            if self._callback_stop and not self._user_interrupt:
                raise
            raise _Interrupted() from interrupt

    def partial_fit(self, *args, **kwargs):
        try:
            return super().partial_fit(*args, **kwargs)
        except _Interrupted as carried:
            raise carried.__cause__ from None

    @property
    def _default_callbacks(self):
        # L-BFGS records its own train_loss (one batch per epoch); skorch's averaging
        # callback is only needed for mini-batches.
        callbacks = (
            []
            if self.optimizer in _FULL_BATCH
            else [("train_loss", PassthroughScoring(name="train_loss", on_train=True))]
        )
        if self.verbose:
            callbacks = [("epoch_timer", EpochTimer()), *callbacks, ("print_log", _PrintLog())]
        return callbacks

    def get_iterator(self, dataset, training=False):
        if getattr(dataset, "remote", False):  # held on dask workers: always one full batch
            return _FullBatch(dataset)
        if not isinstance(dataset, TensorData):
            return super().get_iterator(dataset, training=training)
        if not training or self.batch_size >= len(dataset):
            return _FullBatch(dataset)
        return _ShuffledBatches(dataset, self.batch_size, self.shuffle_seed, epoch=lambda: len(self.history) - 1)

    def _foreign_batch_hooks(self):
        """Whether a callback acts per batch in a way the device-side loop cannot serve.

        Such a callback may read or write the batch rows of ``history`` while the epoch
        runs (skorch's ``LRScheduler`` does), or watch the gradients: it gets skorch's
        own loop. A callback that declares ``live_batch_history = False`` (ours) is
        called per batch by the device-side loop too.
        """
        for _, callback in self.callbacks_:
            if overrides(callback, "on_grad_computed"):
                return True
            if getattr(callback, "live_batch_history", True) and (
                overrides(callback, "on_batch_begin") or overrides(callback, "on_batch_end")
            ):
                return True
        return False

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """skorch's epoch without a host synchronisation per batch.

        skorch reads each batch loss back with ``.item()``, which waits for the device
        at every step. Here the batch losses stay on the device and come back in one
        copy at the end of the epoch, where the batch rows of ``history`` are written:
        the same rows, with the same values, as skorch writes. Callbacks that act per
        batch on the history get skorch's loop (see :meth:`_foreign_batch_hooks`).
        """
        if training:
            self._check_something_to_train()
        if training and isinstance(iterator, _FullBatch) and self._quiet_batches():
            return self._full_batch_epoch(iterator, prefix, step_fn, **fit_params)
        if not (training and isinstance(iterator, _ShuffledBatches)) or self._foreign_batch_hooks():
            return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        batch_end = [callback for _, callback in self.callbacks_ if overrides(callback, "on_batch_end")]
        losses, sizes = [], []
        for batch in iterator:
            step = self._device_step(batch, **fit_params)
            losses.append(step["loss"].detach())
            sizes.append(batch[0].shape[0])
            try:
                for callback in batch_end:
                    callback.on_batch_end(self, batch=batch, training=training, **step)
            except KeyboardInterrupt:  # as notify: a callback's stop
                self._callback_stop = True
                raise
        values = torch.stack(losses).tolist() if losses else []  # the epoch's one device-to-host copy
        for value, size in zip(values, sizes, strict=True):
            self.history.new_batch()
            self.history.record_batch(prefix + "_loss", value)
            self.history.record_batch(prefix + "_batch_size", size)
        self.history.record(prefix + "_batch_count", len(sizes))

    def _check_something_to_train(self):
        """A network whose every parameter is frozen (skorch's ``Freezer`` acts as an epoch begins) is refused in
        words, once an epoch: it reached autograd's "element 0 of tensors does not require grad" inside skorch's
        step. A linear model's gradient is computed in closed form, and frozen parameters simply keep their value."""
        if not isinstance(self.module_, LinearLogits) and not any(p.requires_grad for p in self.module_.parameters()):
            raise ValueError(
                "Every parameter of the network is frozen (skorch's Freezer, or requires_grad=False): there is "
                "nothing to train. Freeze some layers only."
            )

    def _quiet_batches(self):
        """Whether no callback acts per batch (``on_batch_begin``, ``on_batch_end``, ``on_grad_computed``)."""
        hooks = ("on_batch_begin", "on_batch_end", "on_grad_computed")
        return not any(overrides(callback, hook) for _, callback in self.callbacks_ for hook in hooks)

    def _full_batch_epoch(self, iterator, prefix, step_fn, **fit_params):
        """skorch's epoch of one full batch (an L-BFGS or Newton iteration) without notifying callbacks that
        do nothing per batch: the same history row (one batch with its loss and size, a batch count).

        skorch's batch bookkeeping (two notifications, ``get_len`` of the batch, three history look-ups) is
        Python time at every iteration of a small fit.
        """
        batch_count = 0
        for batch in iterator:
            self.history.new_batch()  # NeuralNet.on_batch_begin
            step = step_fn(batch, **fit_params)
            X = batch[0]
            size = X.shape[0] if isinstance(X, torch.Tensor) else get_len(X)
            row = self.history[-1]["batches"][-1]
            row.update({prefix + "_loss": step["loss"].item(), prefix + "_batch_size": size})
            batch_count += 1
        self.history.record(prefix + "_batch_count", batch_count)

    def _device_step(self, batch, **fit_params):
        """One mini-batch step: skorch's ``train_step`` less its per-batch bookkeeping.

        Without a callback that watches gradients, skorch's closure, step accumulator and
        ``on_grad_computed`` notification do nothing but cost Python time at every batch;
        the arithmetic (zero the gradients, loss and gradient, optimizer step) is the same.
        """
        self.optimizer_.zero_grad()
        step = self.train_step_single(batch, **fit_params)
        self.optimizer_.step()
        return step

    def _set_training(self, training=True):
        # skorch calls this at every batch; module.train() walks every submodule through
        # nn.Module.__setattr__ (~3% of a hidden (256,) step on the CPU). Modes are only
        # ever switched on the top-level modules (here and in ValidationLoss), so theirs
        # say whether anything would change.
        modules = [getattr(self, name + "_", None) for name in self._modules + self._criteria]
        if all(not isinstance(m, torch.nn.Module) or m.training == training for m in modules):
            return
        super()._set_training(training)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        target, weight = y_true
        return self.criterion_(y_pred, target, weight, self.module_.penalized_weights())

    def train_step_single(self, batch, **fit_params):
        if not isinstance(self.module_, LinearLogits):
            if isinstance(self.optimizer_, LBFGS):  # skorch's own train_step zeroes grads for the others
                self._zero_grad_optimizer()
            return super().train_step_single(batch, **fit_params)
        # Linear models: closed-form gradient, two passes over the batch and no autograd
        # graph (a linear module has no train/eval-dependent layers to switch).
        X, (target, weight) = batch
        if getattr(X, "remote", False):  # the data computes its own sums, where it lives
            return {"loss": X.linear_step(self.criterion_, self.module_), "y_pred": None}
        loss, logits = self.criterion_.linear_step(self.module_, X, target, weight)
        return {"loss": loss, "y_pred": logits}

    def train_step(self, batch, **fit_params):
        if not isinstance(self.optimizer_, _FULL_BATCH):
            return super().train_step(batch, **fit_params)
        newton = isinstance(self.optimizer_, NewtonCholesky)
        if newton:  # its Hessian needs the data
            self.optimizer_.bind(batch, self.criterion_)

        def closure():
            out = self.train_step_single(batch, **fit_params)
            if newton:  # the Hessian at this point starts from these logits
                self.optimizer_.note_logits(out["y_pred"])
            return out["loss"]

        start = self.optimizer_.step(closure)
        first = self.optimizer_.param_groups[0]["params"][0]  # the state's key: the module's first parameter
        state = self.optimizer_.state[first]
        # One row, written at once (skorch's history.record resolves the row anew per value; an iteration of a
        # small fit costs a few hundred microseconds, and such lookups were a tenth of it).
        row = self.history[-1]
        row["train_loss"] = float(start)
        row["objective"] = state["loss"]
        row["grad_max"] = state["grad_max"]
        row["func_evals"] = state["func_evals"]  # cumulative objective + gradient evaluations
        if state.get("failed"):
            row["line_search_failed"] = state["failed"]
        # float32 iterations may be followed by a float64 continuation (see _training.TrainingMixin._train).
        row["precision"] = str(first.dtype).removeprefix("torch.")
        return {"loss": start, "y_pred": None}

    def initialize_optimizer(self, *args, **kwargs):
        super().initialize_optimizer(*args, **kwargs)
        if "optimizer" not in self.prefixes_:
            # skorch registers only torch.optim.Optimizer instances by itself: register
            # ours too, so that optimizer__* parameters validate and the optimizer's
            # tensors follow the net's device when pickled.
            self._register_attribute("optimizer_", self.optimizer_)
        if isinstance(self.optimizer_, LBFGS):
            # L1 / elastic-net: the optimizer becomes OWL-QN on the penalised weights.
            self.optimizer_.set_l1(self.criterion_.l1_strength, self.module_.penalized_weights())
        return self
