"""Dask: fitting on a dask array where its blocks live, and sharing a dask worker's cores.

``fit`` on a ``dask.array`` runs the usual full-batch L-BFGS, driven from the client.
The row blocks are loaded once into torch tensors on the workers, on the device the
estimator names as each worker sees it, and stay there. Each evaluation of the objective
sends the current parameters (a few KB) to the workers; each computes the weighted loss
sum and its gradient over its blocks, and the client adds them up and adds the penalty.
The data never gathers on one machine.

Nothing here imports dask unless the user passed a dask array or runs inside a dask
worker, so dask stays an optional dependency (``pip install "torchlogit[dask]"``).
"""

import math
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from torch.utils.data import Dataset

from ._compat import _ALL_ZERO_MESSAGE
from ._data import kish_rows, raise_overflow, underflow_error
from ._devices import DTYPES, resolve_device
from ._kernels import as_tensor, sparse_tensor, tensor_max_abs
from ._objective import add_penalty, check_weight_scale, linear_objective_and_gradient
from ._rows import host_max_abs
from ._targets import check_label_values, check_pos_weight, check_two_classes, class_weights, label_targets
from ._user_warnings import warn


def is_dask_array(X):
    """Whether ``X`` is a ``dask.array.Array`` (checked without importing dask)."""
    return type(X).__module__.startswith("dask.array")


def is_dask_collection(X):
    return type(X).__module__.split(".")[0] == "dask"


# --------------------------------------------------------------- worker threads
_THREAD_SHARES = {}


def _current_worker():
    distributed = sys.modules.get("distributed")  # a dask worker has imported it
    if distributed is None:
        return None
    try:
        return distributed.get_worker()
    except ValueError:
        return None


def _thread_share(worker):
    """Cores of this host divided by the task slots (threads) of all dask workers on it, at least 1."""
    if worker.address not in _THREAD_SHARES:
        from distributed import get_client
        from distributed.comm import get_address_host

        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        host = get_address_host(worker.address)
        try:
            try:
                workers = get_client().scheduler_info(n_workers=-1)["workers"]
            except TypeError:  # distributed before the n_workers argument
                workers = get_client().scheduler_info()["workers"]
            slots = sum(w["nthreads"] for w in workers.values() if w.get("host") == host)
        except Exception:  # no scheduler answer: count this worker only
            slots = worker.state.nthreads
        _THREAD_SHARES[worker.address] = max(1, cores // max(1, slots))
    return _THREAD_SHARES[worker.address]


@contextmanager
def worker_thread_share():
    """Inside a dask worker, run torch on this task's share of the host's cores.

    torch's intra-op pool defaults to every core of the machine; with several worker
    processes (or threads) per host, each fitting a model, that oversubscribes the cores
    many times over. Outside dask this does nothing.
    """
    worker = _current_worker()
    if worker is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(_thread_share(worker))
    try:
        yield
    finally:
        torch.set_num_threads(before)


# ------------------------------------------------------------ blocks on workers
@dataclass
class BlockSpec:
    """What a worker needs to turn its blocks of X, y and sample_weight into training tensors."""

    kind: str  # "binary", "multinomial" or "multilabel"
    classes: np.ndarray | None  # labels to encode 1-D targets against
    class_weight: np.ndarray | None  # weight of each class (by index), or None
    n_features: int
    device: str
    dtype: str


class _Block:
    """One row block as tensors, kept in a worker's memory between evaluations."""

    def __init__(self, X, target, weight, weight_stats, max_abs):
        self.X, self.target, self.weight = X, target, weight
        # (sum, sum of squares, largest, smallest positive) of the weights in float64, before their cast to the
        # training dtype, which would flush weights below float32's range to zero.
        self.weight_stats = weight_stats
        self.max_abs = max_abs  # the largest |X| as given (float64) and in the training dtype


@contextmanager
def _in_block(rows, name, n_rows):
    """A refusal inside the block names it: ``rows`` is ``(block index, first row)`` (None: no block to name)."""
    try:
        yield
    except ValueError as exc:
        if rows is None:
            raise
        index, first = rows
        raise ValueError(f"{exc}\n(in row block {index} of {name}: rows {first} to {first + n_rows - 1})") from None


def _load_block(X, y, sample_weight, spec, rows=None):
    """On a worker: validate one row block as ``fit`` validates in-memory data, and make it tensors.

    ``rows``: ``(block index, first row)``, named in a refusal (the user's array has many blocks).
    """
    from sklearn.utils import check_array
    from sklearn.utils.validation import check_non_negative

    with worker_thread_share():
        with _in_block(rows, "X", X.shape[0]):
            X = check_array(X, accept_sparse="csr", dtype=[np.float64, np.float32], input_name="X")
        if sample_weight is None:
            weight = np.ones(X.shape[0])
        else:  # scikit-learn's checks and words, as in memory (complex weights lost their imaginary part)
            with _in_block(rows, "sample_weight", X.shape[0]):
                weight = check_array(sample_weight, ensure_2d=False, dtype=np.float64, input_name="sample_weight")
                check_non_negative(weight, "`sample_weight`")
        y = np.asarray(y)
        if spec.kind == "multilabel":
            if not np.all(np.isin(y, [0, 1])):
                raise ValueError("Y must be a 0/1 indicator matrix of shape (n_samples, n_labels).")
            target = y.astype(np.float64)
        else:
            y = y.ravel()
            target = np.searchsorted(spec.classes, y).clip(0, len(spec.classes) - 1)
            if spec.class_weight is not None:
                weight = weight * spec.class_weight[target]
        device, dtype = resolve_device(spec.device), DTYPES[spec.dtype]
        with np.errstate(over="ignore"):  # a value beyond float32 becomes inf: refused just below, naming it
            features = sparse_tensor(X, dtype, device) if sp.issparse(X) else as_tensor(X, dtype, device)
        # The range checks of a fit in memory (._data.training_batch): an overflow of the training dtype is refused
        # here, naming the column; values all below its normal range, by the client over every block. Unchecked, a
        # float32 fit of X * 1e-40 ended at coefficients of 0 (accuracy 0.5), silently.
        given = host_max_abs(X)
        cast = tensor_max_abs(features)
        if not math.isfinite(cast):
            with _in_block(rows, "X", X.shape[0]):
                raise_overflow(X, dtype)
        target_dtype = torch.int64 if spec.kind == "multinomial" else dtype
        positive = weight[weight > 0]
        weight_stats = (  # float64 sums (NumPy's pairwise; math.fsum took 86 ms a 1M-row block)
            float(np.sum(weight)),
            float(np.dot(weight, weight)) if weight.max(initial=0.0) < 1e150 else math.inf,  # (no overflow warning)
            float(weight.max(initial=0.0)),
            float(positive.min(initial=math.inf)),
        )
        with np.errstate(over="ignore"):  # a weight beyond float32 is refused from weight_stats, naming it
            weight = as_tensor(weight, dtype, device)
        return _Block(features, as_tensor(target, target_dtype, device), weight, weight_stats, (given, cast))


def _block_sums(block, W, b, kind, pos_weight):
    """On a worker: ``sum_i s_i l_i`` and its gradient at ``(W, b)`` over one block, as float64 NumPy."""
    with worker_thread_share():
        device, dtype = block.X.device, block.X.dtype
        W = torch.as_tensor(W, dtype=dtype, device=device)
        b = None if b is None else torch.as_tensor(b, dtype=dtype, device=device)
        pos_weight = None if pos_weight is None else torch.as_tensor(pos_weight, dtype=dtype, device=device)
        value, _, grad_W, grad_b = linear_objective_and_gradient(
            block.X,
            W,
            b,
            block.target,
            block.weight,
            kind=kind,
            C=math.inf,
            l1_ratio=0.0,
            weight_sum=1.0,
            pos_weight=pos_weight,
        )
        return float(value), grad_W.double().cpu().numpy(), None if grad_b is None else grad_b.double().cpu().numpy()


def _preferring(worker):
    """``client.submit``'s arguments that run a task where ``worker`` (an address, or None: anywhere) holds its
    blocks, or elsewhere if that worker is gone (its blocks then move, as dask moves any task's inputs)."""
    return {} if worker is None else {"workers": [worker], "allow_other_workers": True}


def _each(func, blocks, kwargs):
    """On a worker: ``func(block, **kwargs)`` of each of ``blocks`` (see :meth:`RemoteBlocks._each_block`)."""
    return [func(block, **kwargs) for block in blocks]


def _block_stats(block):
    """On a worker: one block's weight statistics and largest |X|, as given and in the training dtype (see
    :class:`_Block`)."""
    return (*block.weight_stats, *block.max_abs)


class RemoteBlocks(Dataset):
    """The training data as blocks held by dask workers: one full batch that sums itself remotely.

    :class:`~torchlogit._net.LogitNet` sees ``remote`` and asks it for the objective and
    gradient (:meth:`linear_step`) instead of computing them from tensors.
    """

    remote = True
    target = weight = None

    def __init__(self, client, blocks, n_rows, kind, pos_weight):
        self.client = client
        self.blocks = blocks
        self.n_rows = n_rows
        self.kind = kind
        self.pos_weight = pos_weight

    @property
    def X(self):
        return self

    def __len__(self):
        return self.n_rows

    def __getitem__(self, i):  # pragma: no cover - skorch never indexes a remote full batch
        raise TypeError("RemoteBlocks is a full batch; it cannot be indexed row by row.")

    def stats(self):
        """``(weight sum, Kish's effective rows, largest |X|, largest weight, smallest positive weight)`` over every
        block (loading the blocks, if not yet done), from the weights in float64: what the in-memory fit knows of
        its batch, for the float32 stopping rule's rounding bounds and the weights' range checks."""
        if not hasattr(self, "_stats"):
            # A task per block, once a fit: it waits for the blocks' loads, after which where each lives is known.
            parts = self.client.gather(self.client.map(_block_stats, self.blocks, pure=False))
            total, squares = math.fsum(p[0] for p in parts), math.fsum(p[1] for p in parts)
            largest, smallest = max(p[2] for p in parts), min(p[3] for p in parts)
            self._stats = (total, kish_rows(total, squares), max(p[5] for p in parts), largest, smallest)
            self.given_max_abs = max(p[4] for p in parts)
        return self._stats

    def _each_block(self, func, **kwargs):
        """``func(block, **kwargs)`` of every block, in the blocks' order, in one task per worker thread.

        A task per block cost the scheduler's round trip per block at every evaluation: 20000 x 20 on two
        single-thread worker processes (7 iterations) fitted in 1.26 s in 100 blocks and 5.3 s in 400, against
        0.57 s and 1.9 s with a task per worker thread (same run, 2026-12-06; in memory 0.01 s, one block 0.15 s).
        Each task takes the blocks its worker holds (a share of them per worker thread), and the client sums the
        per-block results in the blocks' order as before: the fit is bitwise what it was, whichever worker holds
        which block.
        """
        results = [None] * len(self.blocks)
        groups = self._groups()
        futures = [
            self.client.submit(
                _each, func, [self.blocks[i] for i in indices], kwargs, pure=False, **_preferring(worker)
            )
            for worker, indices in groups
        ]
        for (_, indices), parts in zip(groups, self.client.gather(futures), strict=True):
            for i, part in zip(indices, parts, strict=True):
                results[i] = part
        return results

    def _groups(self):
        """``[(worker address, block indices)]``: the blocks each worker holds, split into one group per thread."""
        if not hasattr(self, "_block_groups"):
            self.stats()  # the blocks loaded (a failed load raises there): where each lives is known
            holders = self.client.who_has(self.blocks)
            threads = self.client.nthreads()
            by_worker = {}
            for index, future in enumerate(self.blocks):
                where = holders.get(getattr(future, "key", None)) or (None,)  # (a future; a test's double has none)
                by_worker.setdefault(where[0], []).append(index)
            self._block_groups = [
                (worker, [int(i) for i in part])
                for worker, indices in by_worker.items()
                for part in np.array_split(indices, max(1, min(len(indices), threads.get(worker, 1))))
            ]
        return self._block_groups

    def weight_sum(self):
        """The sum of the training weights over every block."""
        return self.stats()[0]

    def sums(self, W, b):
        """(loss sum, gradient sums) over every block, at ``W``, ``b`` (NumPy)."""
        results = self._each_block(_block_sums, W=W, b=b, kind=self.kind, pos_weight=self.pos_weight)
        value = math.fsum(r[0] for r in results)
        grad_W = np.sum([r[1] for r in results], axis=0)
        grad_b = None if results[0][2] is None else np.sum([r[2] for r in results], axis=0)
        return value, grad_W, grad_b

    def linear_step(self, criterion, module):
        """Objective of the linear ``module`` over all blocks, with its gradient stored in ``.grad``."""
        linear = module.linear
        bias = linear.bias
        value, grad_W, grad_b = self.sums(
            linear.weight.detach().cpu().numpy(), None if bias is None else bias.detach().cpu().numpy()
        )
        S = criterion.weight_sum
        value = torch.tensor(value / S, dtype=torch.float64, device="cpu")
        grad_W = torch.as_tensor(grad_W / S, dtype=linear.weight.dtype, device=linear.weight.device)
        value, grad_W = add_penalty(
            value, grad_W, linear.weight, C=criterion.C, l1_ratio=criterion.l1_ratio, weight_sum=S
        )
        linear.weight.grad = grad_W
        if bias is not None:
            bias.grad = torch.as_tensor(grad_b / S, dtype=bias.dtype, device=bias.device)
        return value


# ------------------------------------------------------------------ the fit
def _client():
    try:
        from distributed import default_client
    except ImportError:
        raise ImportError('Fitting on a dask array needs dask.distributed: pip install "torchlogit[dask]".') from None
    try:
        return default_client()
    except ValueError:
        raise ValueError(
            "Fitting on a dask array needs a running dask.distributed Client in this process (the blocks are kept "
            "on its workers): create one with `from distributed import Client; client = Client(...)`, or call "
            "X.compute() to fit in memory. A joblib worker process (n_jobs > 1 with joblib's default backend, in "
            "cross_val_score or GridSearchCV) has no Client even where the parent has one: search with n_jobs=1, "
            "or inside `joblib.parallel_backend('dask')`, whose folds run on the cluster."
        ) from None


@contextmanager
def _cluster_client():
    """The client a dask fit drives the cluster with: this process's, or, inside a dask task (a fold of a search
    under joblib's dask backend), the worker's own, with this task's thread seceded from the worker's pool while
    the fit waits on its blocks' tasks (waiting in its own slot, it deadlocked a worker of one thread; a fresh
    worker has no default client at all)."""
    if _current_worker() is None:
        yield _client()
        return
    from distributed import worker_client

    with worker_client() as client:
        yield client


def _row_blocks(array, row_chunks, name):
    """``array`` (dask or in-memory) as a dask array chunked like X's rows, one column block."""
    import dask.array as da

    if array is None:
        return None
    if not is_dask_array(array):
        array = np.asarray(array)
    elif any(math.isnan(c) for c in array.chunks[0]):
        raise ValueError(
            f"{name} has unknown chunk sizes (after boolean indexing, say): call {name}.compute_chunk_sizes() first."
        )
    n_rows = sum(row_chunks)
    if name == "sample_weight" and array.ndim == 1 and array.shape[0] != n_rows:  # scikit-learn's words, as in memory
        raise ValueError(f"sample_weight.shape == {tuple(array.shape)}, expected {(n_rows,)}!")
    if array.shape[0] != n_rows:
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: [{n_rows}, {array.shape[0]}] (X and {name})."
        )
    chunks = (row_chunks,) if array.ndim == 1 else (row_chunks, -1)
    return array.rechunk(chunks) if is_dask_array(array) else da.from_array(array, chunks=chunks)


def _column_or_1d(y):
    """A one-column ``y`` as its column, with scikit-learn's ``DataConversionWarning``, as the in-memory fit
    reads it (``column_or_1d(warn=True)``): the same data give the same model, dask or not. A list or tuple is
    read as NumPy reads it (it reached ``y.ndim``: an AttributeError)."""
    if not is_dask_array(y) and not hasattr(y, "ndim"):
        y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        from sklearn.exceptions import DataConversionWarning

        warn(
            "A column-vector y was passed when a 1d array was expected. Please change the shape of y to "
            "(n_samples, ), for example using ravel().",
            DataConversionWarning,
        )
        return y[:, 0]
    return y


def _one_d_weights(sample_weight, n_rows):
    """``sample_weight`` checked for its shape as scikit-learn's ``_check_sample_weight`` does (a scalar is
    every row's weight), before the workers see it: a 2-D one failed in torch on every worker."""
    if sample_weight is None:
        return None
    if not is_dask_array(sample_weight) and np.ndim(sample_weight) == 0:
        return np.full(n_rows, sample_weight, dtype=np.float64)
    if np.ndim(sample_weight) != 1:
        raise ValueError(
            f"Sample weights must be 1D array or scalar, got {np.ndim(sample_weight)}D array. Expected either a "
            f"scalar value or a 1D array of length {n_rows}."
        )
    return sample_weight


def check_dask_X(X):
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D dask array for X, got {X.ndim} dimension(s).")
    if any(math.isnan(c) for c in X.chunks[0]) or math.isnan(X.shape[1]):
        raise ValueError("X has unknown chunk sizes (after boolean indexing, say): call X.compute_chunk_sizes() first.")
    if X.shape[0] == 0:
        raise ValueError("Found array with 0 sample(s) (shape=(0, ...)) while a minimum of 1 is required.")
    if X.dtype.kind == "c":  # scikit-learn's words, as a fit in memory refuses it
        raise ValueError("Complex data not supported")
    # Objects and strings go to the workers' check_array, as in memory: numbers (numeric strings too, which
    # scikit-learn converts) are converted, anything else refused there in its words.
    if X.dtype.kind not in "biufOUS":
        raise ValueError(f"X must hold numbers; the dask array has dtype {X.dtype}.")
    return X.rechunk({1: -1})


def fit_dask(estimator, X, y, sample_weight, *, dtype):
    """Fit ``estimator`` (linear, L-BFGS) on dask arrays; returns its trained net. See the module docstring."""
    X = check_dask_X(X)
    if y is None:
        raise ValueError("requires y to be passed, but the target y is None")
    with _cluster_client() as client:
        return _fit_on_cluster(client, estimator, X, y, sample_weight, dtype)


def _fit_on_cluster(client, estimator, X, y, sample_weight, dtype):
    y = _row_blocks(_column_or_1d(y), X.chunks[0], "y")
    sample_weight = _row_blocks(_one_d_weights(sample_weight, X.shape[0]), X.chunks[0], "sample_weight")
    targets = estimator._dask_targets(y, sample_weight)
    check_pos_weight(targets.pos_weight, dtype)  # before any block is loaded (the workers convert it)
    spec = BlockSpec(
        kind=targets.kind,
        classes=targets.classes if targets.kind != "multilabel" else None,
        class_weight=targets.row_factor,
        n_features=X.shape[1],
        device=str(estimator.device),
        dtype=estimator.dtype,
    )

    # The blocks as they are (to_delayed optimises each array's graph on its own, fusing its source's tasks in): X, y
    # and sample_weight read from one source (the columns of one table) then share its tasks in the one compute
    # below, which still culls the graph. Optimised one by one, the source was read once per array.
    def blocks_of(array):
        return array.to_delayed(optimize_graph=False).ravel()

    weights = [None] * X.numblocks[0] if sample_weight is None else blocks_of(sample_weight)
    from dask import delayed

    # Row blocks of no rows (a filtered array after compute_chunk_sizes(), as the docs advise) hold nothing to
    # sum; scikit-learn's validation of a block would refuse them (0 samples).
    starts = np.concatenate([[0], np.cumsum(X.chunks[0])[:-1]]).astype(int).tolist()
    loads = [
        delayed(_load_block, pure=False)(xb, yb, wb, spec, (index, start))
        for index, (xb, yb, wb, rows, start) in enumerate(
            zip(blocks_of(X), blocks_of(y), weights, X.chunks[0], starts, strict=True)
        )
        if rows > 0
    ]
    blocks = client.compute(loads)  # futures: each block loaded once, kept on its worker
    try:
        data = RemoteBlocks(client, blocks, X.shape[0], targets.kind, targets.pos_weight)
        weight_sum, effective, max_abs, largest, smallest = data.stats()
        if 0 < data.given_max_abs and max_abs < torch.finfo(DTYPES[estimator.dtype]).tiny:
            raise underflow_error(data.given_max_abs, DTYPES[estimator.dtype], max_abs)
        if not weight_sum > 0:
            if targets.row_factor is None:  # the sample weights alone: scikit-learn's words, as a fit in memory says
                raise ValueError(_ALL_ZERO_MESSAGE)
            raise ValueError("The sample weights times the class weights are all zero.")
        check_weight_scale(
            weight_sum,
            [estimator.C],
            largest=largest,
            dtype=dtype,
            l1_ratio=estimator.l1_ratio,
            smallest=smallest,
            n_rows=len(data),
        )
        net = estimator._train_remote(
            data, targets, weight_sum, n_features=X.shape[1], dtype=dtype, rounding=(max_abs, effective)
        )
    finally:
        client.cancel(blocks)
    return net, targets


def dask_label_targets(y, sample_weight, class_weight):
    """Classes (and class weights) of 1-D dask labels, computed on the cluster."""
    import dask.array as da

    if y.ndim != 1:
        raise ValueError(f"y should be a 1d array, got an array of shape {y.shape} instead.")
    try:
        classes = np.unique(da.unique(y).compute())
    except TypeError:  # object labels that do not sort (None or numbers beside strings)
        # scikit-learn's verdict on such labels depends on the first one: an object label that is not a string makes
        # them "unknown" (its ValueError); after a string, its own sort fails with this TypeError.
        from sklearn.utils.multiclass import check_classification_targets

        check_classification_targets(np.asarray(y[:1].compute(), dtype=object))
        raise
    if classes.dtype.kind == "f":  # as validation in memory checks y first (NaN reached a cast's RuntimeWarning)
        from sklearn.utils import assert_all_finite

        assert_all_finite(classes, input_name="y")
    n_samples = y.shape[0]  # NaN when the chunks' lengths are unknown: no many-classes warning then
    check_label_values(classes, n_samples if n_samples == n_samples else 0)
    check_two_classes(classes)
    row_factor = None
    if class_weight is not None:
        encoded = y.map_blocks(lambda block: np.searchsorted(classes, block), dtype=np.int64)
        counts = da.bincount(encoded, weights=sample_weight, minlength=len(classes)).compute()
        # Each class once, weighted by its count: compute_class_weight's own arithmetic.
        row_factor = class_weights(class_weight, classes=classes, y=classes, sample_weight=counts)
    return label_targets(classes, None, row_factor=row_factor)  # rows are encoded on the workers
