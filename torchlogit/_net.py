"""The skorch net that trains every torchlogit model.

Three things differ from a stock ``skorch.NeuralNet``:

* Data never goes through skorch's row-by-row Dataset/DataLoader: the training data
  is one set of device tensors (:class:`TensorData`), served either as one full batch
  or as shuffled tensor slices.
* ``get_loss`` is the weighted, penalised objective of :mod:`torchlogit._objective`;
  the target of a batch is ``(target, sample_weight)``.
* With L-BFGS (:class:`torchlogit._solvers.LBFGS`), one skorch epoch is one
  iteration, so ``history`` shows the iterations with their objective, largest
  gradient entry, precision ("float32", or "float64" in the continuation) and, when
  the line search found no decrease, ``line_search_failed``.
"""

import torch
from skorch import NeuralNet
from skorch.callbacks import EpochTimer, PassthroughScoring, PrintLog
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
    """Tensor slices of a fresh permutation each epoch.

    The permutation of epoch ``e`` is drawn from a generator seeded by ``(seed, e)``, so
    ``partial_fit`` called epoch by epoch on the same data shuffles exactly as ``fit`` does.
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
        order = torch.randperm(n, generator=generator).to(data.X.device)
        for start in range(0, n, self.batch_size):
            idx = order[start : start + self.batch_size]
            if data.host is not None:
                X = sparse_tensor(data.host[idx.cpu().numpy()], data.X.dtype, data.X.device)
            else:  # index_select: ~4x faster than X[idx] for a random batch on the CPU
                X = data.X.index_select(0, idx)
            yield X, (data.target.index_select(0, idx), data.weight.index_select(0, idx))


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
            callbacks = [("epoch_timer", EpochTimer()), *callbacks, ("print_log", PrintLog())]
        return callbacks

    def get_iterator(self, dataset, training=False):
        if getattr(dataset, "remote", False):  # held on dask workers: always one full batch
            return _FullBatch(dataset)
        if not isinstance(dataset, TensorData):
            return super().get_iterator(dataset, training=training)
        if not training or self.batch_size >= len(dataset):
            return _FullBatch(dataset)
        return _ShuffledBatches(dataset, self.batch_size, self.shuffle_seed, epoch=lambda: len(self.history) - 1)

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
        if isinstance(self.optimizer_, NewtonCholesky):  # its Hessian needs the data
            self.optimizer_.bind(batch, self.criterion_)

        def closure():
            return self.train_step_single(batch, **fit_params)["loss"]

        start = self.optimizer_.step(closure)
        state = self.optimizer_.state[next(self.module_.parameters())]
        self.history.record("train_loss", float(start))
        self.history.record("objective", state["loss"])
        self.history.record("grad_max", state["grad_max"])
        self.history.record("func_evals", state["func_evals"])  # cumulative objective + gradient evaluations
        if state.get("failed"):
            self.history.record("line_search_failed", state["failed"])
        # float32 iterations may be followed by a float64 continuation (see _base._train).
        self.history.record("precision", str(next(self.module_.parameters()).dtype).removeprefix("torch."))
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
