"""The skorch net that trains every torchlogit model.

Three things differ from a stock ``skorch.NeuralNet``:

* Data never goes through skorch's row-by-row Dataset/DataLoader: the training data
  is one set of device tensors (:class:`TensorData`), served either as one full batch
  or as shuffled tensor slices.
* ``get_loss`` is the weighted, penalised objective of :mod:`torchlogit._objective`;
  the target of a batch is ``(target, sample_weight)``.
* With L-BFGS, one skorch epoch is one L-BFGS iteration (so ``history`` shows the
  iterations), and every objective evaluation is cached by parameter value: torch's
  L-BFGS re-evaluates the point its line search just accepted at the start of each
  ``step``, and the cache makes that free.
"""

import torch
from skorch import NeuralNet
from skorch.callbacks import EpochTimer, PassthroughScoring, PrintLog
from torch.utils.data import Dataset


class TensorData(Dataset):
    """Features, targets and sample weights, already tensors on the training device."""

    def __init__(self, X, target, weight):
        self.X = X
        self.target = target
        self.weight = weight

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
    """Tensor slices of a fresh permutation each epoch, drawn from a seeded generator."""

    def __init__(self, data, batch_size, generator):
        self.data = data
        self.batch_size = batch_size
        self.generator = generator

    def __iter__(self):
        data = self.data
        n = len(data)
        order = torch.randperm(n, generator=self.generator).to(data.X.device)
        for start in range(0, n, self.batch_size):
            idx = order[start : start + self.batch_size]
            yield data.X[idx], (data.target[idx], data.weight[idx])


class _EvaluationCache:
    """The last few (parameters, objective, gradient) triples, looked up by exact value."""

    def __init__(self, size=8):
        self.size = size
        self.entries = []

    def store(self, params, loss):
        snapshot = [p.detach().clone() for p in params]
        grads = [p.grad.detach().clone() for p in params]
        self.entries.append((snapshot, loss.detach(), grads))
        del self.entries[: -self.size]

    def restore(self, params):
        """Put the cached gradient in ``p.grad`` and return the loss, or None on a miss."""
        for snapshot, loss, grads in reversed(self.entries):
            if all(torch.equal(p, s) for p, s in zip(params, snapshot, strict=True)):
                for p, g in zip(params, grads, strict=True):
                    p.grad = g.clone()
                return loss
        return None


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
        callbacks = [("train_loss", PassthroughScoring(name="train_loss", on_train=True))]
        if self.verbose:
            callbacks = [("epoch_timer", EpochTimer()), *callbacks, ("print_log", PrintLog())]
        return callbacks

    def get_iterator(self, dataset, training=False):
        if not isinstance(dataset, TensorData):
            return super().get_iterator(dataset, training=training)
        if not training or self.batch_size >= len(dataset):
            return _FullBatch(dataset)
        generator = torch.Generator().manual_seed(self.shuffle_seed)
        return _ShuffledBatches(dataset, self.batch_size, generator)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        target, weight = y_true
        return self.criterion_(y_pred, target, weight, self.module_.penalized_weights())

    def train_step(self, batch, **fit_params):
        if not isinstance(self.optimizer_, torch.optim.LBFGS):
            return super().train_step(batch, **fit_params)
        return self._lbfgs_iteration(batch, **fit_params)

    def _lbfgs_iteration(self, batch, **fit_params):
        params = [p for _, p in self.get_all_learnable_params()]
        if not hasattr(self, "_evaluations"):
            self._evaluations = _EvaluationCache()
        cache = self._evaluations

        def closure():
            loss = cache.restore(params)
            if loss is None:
                self._zero_grad_optimizer()
                loss = self.train_step_single(batch, **fit_params)["loss"]
                cache.store(params, loss)
            return loss

        start = closure()
        self.optimizer_.step(closure)
        end = closure()
        grad_max = max(float(p.grad.abs().max()) for p in params)
        self.history.record("objective", float(end))
        self.history.record("grad_max", grad_max)
        return {"loss": start, "y_pred": None}

    def initialize_optimizer(self, *args, **kwargs):
        # A new optimizer starts a new L-BFGS memory: forget cached evaluations too.
        self.__dict__.pop("_evaluations", None)
        return super().initialize_optimizer(*args, **kwargs)
