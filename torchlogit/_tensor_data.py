"""Training data prepared in torch, where it lives: validation, labels, canonical rows, the training copy.

``fit`` and ``partial_fit`` (both estimators) on a dense float32 / float64 array or tensor prepares its
data in torch on the data's device: the checks of scikit-learn's ``validate_data``
(finite values, consistent lengths, non-negative weights), label encoding
(``torch.unique``; a multi-label indicator matrix is checked for 0/1), the canonical
rows of :mod:`._rows` (projection key, sort, merging identical rows) and the one
gathered copy in the training dtype. A NumPy array is read
as a CPU tensor (a view, no copy), or, bound for a CUDA device, copied there once as it
is (:func:`~._kernels.host_to_device`) and prepared there. For data on a GPU the host
sees scalars (is everything valid? the classes) and nothing else, with two exceptions
that move small arrays: rows whose keys tie are settled on the host by
:func:`._rows.settle_ties` (the tied rows only), and ``class_weight`` is computed by
scikit-learn's ``compute_class_weight`` from the labels on the host (likewise the
multi-label ``pos_weight="balanced"`` counts).

The steps are the NumPy path's (:func:`._rows.canonical_rows`) in torch, with the same
projection, the same tie bound and the same tie-breaking code, so both give the same
rows in the same order (tested bitwise against each other), and every guarantee holds:
the same fit for any order of the rows, ``sample_weight=k`` equal to ``k`` copies, a
failed fit leaving the fitted model intact. On the CPU this path is also the faster one
(300k x 100, AMD EPYC, 2026-12-05: 0.25 s of preparation against 0.2-1.8 s for the NumPy path,
whose float64 promotion of float32 X and per-chunk temporaries page-fault; on an Intel Xeon,
2026-12-06, 0.09-0.10 s; ``benchmarks/data_prep.py``).

Anything this path does not take (sparse input, DataFrames of mixed or pandas dtypes, integer or float16 data,
string labels, a one-column ``y``, MPS, whose lack of float64 rules out the keys) or finds
wrong (NaN, a wrong length, a negative weight) goes to the host path
(:func:`._data.fit_inputs`), which validates it and words any error as scikit-learn does.
"""

import numbers

import numpy as np
import torch
from sklearn.utils.validation import _check_feature_names, _check_n_features

from ._devices import refuse_unreadable
from ._kernels import (
    DEVICE_CHUNK_VALUES,
    TORCH_NUMPY_DTYPES,
    as_tensor,
    host_copy,
    host_to_device,
    on_threads,
    tensor_max_abs,
    value_range,
)
from ._rows import key_order, projection, settle_ties, tie_bound, tied_ranks
from ._threads import SMALL_VALUES, data_values

_FEATURE_DTYPES = (torch.float32, torch.float64)
# The keys are float64: MPS, which has no float64, keeps the host path.
_DEVICE_TYPES = ("cpu", "cuda")
_LABEL_DTYPES = (
    torch.bool,
    torch.uint8,
    torch.int8,
    torch.int16,
    torch.int32,
    torch.int64,
    torch.float32,
    torch.float64,
)
# Values per chunk of the float64 projection and of the gathered copy, through one reused buffer.
# On the CPU a chunk that stays in cache for its cast (2 MB of float64): a 300k x 100 float64 -> float32
# gather took 62 ms in chunks of 2^18 values against 84 ms in chunks of 2^22 (2 threads). On a device,
# ._kernels.DEVICE_CHUNK_VALUES.
_CHUNK_VALUES = 1 << 18


def _rows_per_chunk(X):
    values = _CHUNK_VALUES if X.device.type == "cpu" else DEVICE_CHUNK_VALUES
    return max(1, values // X.shape[1])


def _target_key(target, v):
    """``target @ v`` in float64 (:func:`._rows.target_key`): a uint8 label matrix cast a block of rows at a time."""
    if target.dtype == torch.float64 or target.shape[1] == 1:
        return target.to(torch.float64) @ v
    key = torch.empty(target.shape[0], dtype=torch.float64, device=target.device)
    step = _rows_per_chunk(target)
    buffer = torch.empty((min(step, target.shape[0]), target.shape[1]), dtype=torch.float64, device=target.device)
    for start in range(0, target.shape[0], step):
        block = target[start : start + step]
        torch.mv(buffer[: len(block)].copy_(block), v, out=key[start : start + len(block)])
    return key


def tensor_fit_inputs(estimator, X, y, sample_weight, device, reset=True):
    """``(X, y, sample_weight, max_abs)``: tensors on ``X``'s device, validated there; None for the host path.

    A float32 / float64 NumPy ``X`` is read as a tensor: a view of its memory when
    ``device`` is the CPU, copied once to a CUDA ``device`` first
    (:func:`~._kernels.host_to_device`) and prepared there. ``y`` keeps its
    dtype (its values become ``classes_``); ``sample_weight`` is float64 (ones when None);
    ``max_abs`` is the largest absolute value of ``X`` (a float), for :func:`canonical_tensor_rows`.
    Sets ``n_features_in_`` and drops ``feature_names_in_``, as ``validate_data(reset=True)``
    does; ``reset=False`` (a later ``partial_fit`` call) checks them as it does.
    """
    if not estimator._tensor_target_ndims:
        return None
    if any(isinstance(a, np.matrix) for a in (X, y, sample_weight)):
        return None  # scikit-learn's validation refuses np.matrix in its words (predict did, fit took it)
    named = X  # what the feature names are read from (a DataFrame's columns)
    frame_values = _float_frame_values(X)
    if frame_values is not None:
        X = frame_values
    if isinstance(X, np.ndarray):
        taken = X.dtype in (np.float32, np.float64) and X.ndim == 2 and X.size and min(X.strides) >= 0
        if not taken or device.type not in _DEVICE_TYPES:
            return None
        where = device  # prepared where it trains: a view on the CPU, one transfer to CUDA
    elif (
        isinstance(X, torch.Tensor)
        and not X.is_nested  # (it reports the strided layout, and no sizes: refused in words on the host path)
        and X.layout == torch.strided
        and X.ndim == 2
        and X.dtype in _FEATURE_DTYPES
        and X.device.type in _DEVICE_TYPES
        and X.shape[0] > 0
        and X.shape[1] > 0
    ):
        where = X.device
    else:
        return None
    # Labels and weights first: what the host path must take is known before X moves.
    y = _labels(y, where)
    if y is None or y.shape[0] != X.shape[0] or y.ndim not in estimator._tensor_target_ndims:
        return None
    if y.ndim == 2 and y.shape[1] < 2:  # a column: the host path warns and ravels it, as scikit-learn does
        return None
    weight = _weights(sample_weight, X.shape[0], where)
    if weight is None:
        return None
    if isinstance(X, np.ndarray):
        X = host_to_device(X, where) if where.type == "cuda" else as_tensor(X, None, "cpu")  # CPU: a view
    X = X.detach().resolve_conj().resolve_neg()  # a view with the negative bit set cannot be read by NumPy
    # One pass over X checks every value and gives the largest |value| that the canonical rows'
    # tie bound needs: aminmax propagates NaN, so both ends are finite exactly when every value is
    # (300k x 100 on one thread: 9 ms float32, 19 ms float64, against 12 / 26 ms for the sum that
    # scikit-learn's fast check takes, which the tie bound then followed with this pass anyway).
    low, high = value_range(X)  # a column-major X (Fortran order, a tensor's .T) read in its memory order
    # One synchronisation for every check; any failure goes to the host path for its message.
    valid = torch.isfinite(low) & torch.isfinite(high)
    if sample_weight is not None:  # the ones made for None need no check (three passes: 0.2 ms of a 20k-row fit)
        valid &= (weight >= 0).all() & torch.isfinite(weight).all() & (weight != 0).any()
    if y.is_floating_point():
        valid &= torch.isfinite(y).all()
    if not bool(valid):
        return None
    _check_feature_names(estimator, named, reset=reset)
    _check_n_features(estimator, X, reset=reset)
    return X, y, weight, float(torch.maximum(-low, high))


def _float_frame_values(X):
    """A pandas DataFrame's values when all its columns share one NumPy float dtype (float32 or float64), else None.

    What scikit-learn's validation makes of such a frame (``np.asarray``: a view of its one
    column-major block, no copy), read here so that the frame is prepared in torch like an
    array of its values: a 300k x 100 float64 fit 0.64-0.72 s against 0.78-0.83 s on the host
    path (scikit-learn's validation, ``np.unique``, the canonical rows in NumPy) and 0.49 s for a
    row-major array (Intel Xeon, 2026-12-06, alternating; the rest is the gather of the training
    copy across the frame's column-major layout). Mixed dtypes (scikit-learn casts them to one),
    pandas' own dtypes (nullable ``Float64``, sparse, categorical) and anything not a frame keep
    the host path, which words every error.
    """
    if not (hasattr(X, "columns") and hasattr(X, "dtypes") and hasattr(X, "to_numpy")):
        return None
    dtypes = set(X.dtypes) if len(X.columns) else set()
    if len(dtypes) != 1:
        return None
    (dtype,) = dtypes
    if not isinstance(dtype, np.dtype) or dtype not in (np.float32, np.float64):
        return None
    return X.to_numpy()


def _labels(y, device):
    """Numeric 1-D labels or a 2-D label matrix as a tensor on ``device``; None for anything else (strings, sparse)."""
    if isinstance(y, torch.Tensor):
        refuse_unreadable(y)
        if y.layout != torch.strided:
            return None
        y = y.detach()
    else:
        dtypes = getattr(y, "dtypes", None)  # a DataFrame's per column, a Series' one
        dtypes = [getattr(y, "dtype", None)] if dtypes is None or not hasattr(dtypes, "__iter__") else list(dtypes)
        if any(d is not None and not isinstance(d, np.dtype) for d in dtypes):
            # pandas' nullable Int64 / boolean labels: scikit-learn's validation reads them as float64 (classes_
            # [0., 1.]), which np.asarray would not (int64, bool); the host path reads them as it does.
            return None
        try:
            array = np.asarray(y)
        except Exception:  # ragged lists and the like: the host path words the error
            return None
        if array.dtype not in TORCH_NUMPY_DTYPES:
            return None
        y = as_tensor(np.ascontiguousarray(array), None, device)  # y[::-1] has a negative stride
    if y.ndim not in (1, 2) or y.dtype not in _LABEL_DTYPES:
        return None
    return y.to(device)


def _weights(sample_weight, n_samples, device):
    """Sample weights as a float64 tensor of shape (n_samples,) on ``device``; None where the host must check."""
    if sample_weight is None:
        return torch.ones(n_samples, dtype=torch.float64, device=device)
    if isinstance(sample_weight, numbers.Real) and not isinstance(sample_weight, bool):
        return torch.full((n_samples,), float(sample_weight), dtype=torch.float64, device=device)
    if isinstance(sample_weight, torch.Tensor):
        refuse_unreadable(sample_weight)
        if sample_weight.layout != torch.strided or sample_weight.is_complex():
            return None
        weight = sample_weight.detach()
    else:
        array = np.asarray(sample_weight)
        if array.dtype not in TORCH_NUMPY_DTYPES:
            return None
        weight = as_tensor(np.ascontiguousarray(array), None, device)
    if tuple(weight.shape) != (n_samples,):
        return None
    return weight.to(device=device, dtype=torch.float64)


def canonical_tensor_rows(X, target, sample_weight, max_abs=None, counts=False):
    """:func:`._rows.canonical_rows` for tensors, in torch on their device (tied rows settled on the host).

    Returns (rows, weight) as tensors on ``X``'s device: int64 indices in canonical order
    and float64 merged weights. ``max_abs``, the largest absolute value of ``X`` when the
    caller knows it (:func:`tensor_fit_inputs`), saves a pass over ``X``.
    """
    device = X.device
    target = target.reshape(X.shape[0], -1)
    # torch.tensor copies: the projection's arrays are read-only (cached, see ._rows.projection).
    u, v = (torch.tensor(a, device=device) for a in projection(X.shape[1], target.shape[1]))
    key = _target_key(target, v)
    if X.dtype == torch.float64 or _pooled_key(X):
        key += _key_product(X, u)
    else:  # X @ u in float64, as NumPy promotes it: a chunk at a time through one reused buffer
        step = _rows_per_chunk(X)
        buffer = torch.empty((min(step, X.shape[0]), X.shape[1]), dtype=torch.float64, device=device)
        for start in range(0, X.shape[0], step):
            n = min(step, X.shape[0] - start)
            key[start : start + n] += _key_product(buffer[:n].copy_(X[start : start + n]), u)
    positive = sample_weight > 0
    if bool(positive.all()):  # the usual case: no pass to select the rows that count
        idx = _argsort(key)
        counted = target
    else:
        positive = torch.nonzero(positive).squeeze(1)
        idx = positive[_argsort(key[positive])]
        # The bound from the rows that count (see ._rows.canonical_rows): validation's max_abs saw them all.
        max_abs = tensor_max_abs(torch.index_select(X, 0, positive))
        counted = torch.index_select(target, 0, positive)
    k = torch.index_select(key, 0, idx)  # a third of key[idx]'s time (20k keys, one thread)
    if max_abs is None:
        max_abs = tensor_max_abs(X)
    bound = tie_bound(X.shape[1] + target.shape[1], max(max_abs, tensor_max_abs(counted)))
    near_next = k[1:] - k[:-1] <= bound
    if not bool(near_next.any()):
        weight = torch.index_select(sample_weight, 0, idx)
        return (idx, weight, np.ones(len(idx), dtype=np.int64)) if counts else (idx, weight)

    # Some keys tie: the NumPy code settles the tied rows alone, which go to the host (a
    # few rows of a large X, typically); the result is put back among the others by key.
    tied = torch.zeros(len(idx), dtype=torch.bool, device=device)
    tied[1:] |= near_next
    tied[:-1] |= near_next
    kept, tied_rows = idx[~tied], idx[tied]

    def ranks(positions):
        at = tied_rows[torch.as_tensor(positions, device=device)]
        if device.type == "cpu":  # read where they are: no gathered copy of the tied rows before their ranks
            return tied_ranks(X.numpy(), target.numpy(), at.numpy())
        return tied_ranks(X[at].cpu().numpy(), target[at].cpu().numpy(), np.arange(len(positions)))

    local, merged, anchor, merged_counts = settle_ties(
        np.arange(len(tied_rows)), k[tied].cpu().numpy(), sample_weight[tied_rows].cpu().numpy(), bound, ranks
    )
    # Back among the others by key. The kept keys and the anchors are each sorted (the rows of one run
    # share its anchor, in settle_ties' order), so each settled row's place is found by a search: the
    # stable sort of both lists without sorting all n keys again for a few tied rows (1M rows with
    # one tie: 40 ms for that sort). No kept key equals an anchor (it would be tied); `right` puts
    # such a key first, as the stable sort did.
    anchor = torch.as_tensor(anchor, device=device)
    settled_at = torch.searchsorted(k[~tied], anchor, right=True) + torch.arange(len(anchor), device=device)
    settled = torch.zeros(len(kept) + len(anchor), dtype=torch.bool, device=device)
    settled[settled_at] = True
    rows = torch.empty(len(settled), dtype=idx.dtype, device=device)
    unsettled = ~settled
    rows[settled] = tied_rows[torch.as_tensor(local, device=device)]
    rows[unsettled] = kept
    weight = torch.empty(len(settled), dtype=torch.float64, device=device)
    weight[settled] = torch.as_tensor(merged, dtype=torch.float64, device=device)
    weight[unsettled] = sample_weight[kept]
    if not counts:
        return rows, weight
    row_counts = np.ones(len(settled), dtype=np.int64)  # on the host: the hold-out that asks is drawn there
    row_counts[settled.cpu().numpy()] = merged_counts
    return rows, weight, row_counts


def _pooled_key(X):
    """Whether :func:`_key_product` computes ``X @ u`` by NumPy's sum-of-products loops on a pool (large CPU data)."""
    return X.device.type == "cpu" and data_values(X) >= SMALL_VALUES


def _key_product(X, u):
    """``X @ u`` in float64 (``u`` float64; ``X`` float64, or float32 on the CPU when :func:`_pooled_key`).

    On a device, torch's product. On the CPU, never torch's: its MKL matrix-vector product ran at a
    third of OpenBLAS's speed on this project's reference machine (1M x 100: 101 against 34 ms).
    Small data: NumPy's BLAS, as the host path (``._rows``). Large data: ``np.einsum`` on halves of
    the rows, one per thread of torch's count, float32 rows promoted as they are read. Not the BLAS,
    for what it leaves behind: OpenBLAS's idle threads spin for about 0.1 s after a threaded call,
    and on a machine with as many cores as torch has threads they took a core from the preparation
    that follows (the argsort, the tied rows' placement, the training copy's gather). 300k x 100,
    two threads, 2026-12-05, alternating: the key 9.6 ms with OpenBLAS (two threads) against 5.0 ms
    (float64; 11.5 ms from float32 rows, against a copy to float64 and the BLAS), and the canonical
    rows and the training copy after it 55 + 94 against 48 + 74 ms. Rounding differs from the BLAS's
    in the last bits, which the tie bound covers (keys that close are settled by the rows' contents).
    """
    if X.device.type != "cpu":
        return X @ u
    A, v = X.numpy(), u.numpy()
    if not _pooled_key(X):
        return torch.from_numpy(A @ v)
    out = np.empty(A.shape[0])
    step = -(-A.shape[0] // max(torch.get_num_threads(), 1))

    def part(start):
        np.einsum("ij,j->i", A[start : start + step], v, out=out[start : start + step])

    on_threads(part, range(0, A.shape[0], step))
    return torch.from_numpy(out)


def _argsort(key):
    """Any order that sorts ``key`` (ties are settled by contents afterwards).

    On the CPU :func:`._rows.key_order` (NumPy's argsort took half the time of torch's:
    1M float64 keys, 58 ms against 110 ms, two threads; the radix passes less); on a device,
    torch's, where the keys are.
    """
    if key.device.type == "cpu":
        return torch.from_numpy(key_order(key.numpy()))
    return torch.argsort(key)


def empty_copy(n_rows, n_features, dtype, device, column_major=False):
    """The memory of a training copy: ``(n_rows, n_features)``, laid out by columns where ``column_major``.

    A tensor on a GPU fitted on the CPU is gathered into it: laid out, and so multiplied, as the host path lays out
    the same array (:func:`._kernels.column_major_copy`). Row-major there, its NumPy-BLAS products rounded
    otherwise, and the fit was not bitwise the NumPy array's (50k x 100 on an AMD host: 6.7e-16 apart).
    """
    if column_major:
        return torch.empty((n_features, n_rows), dtype=dtype, device=device).T
    return torch.empty((n_rows, n_features), dtype=dtype, device=device)


def gathered_rows(X, rows, dtype, device, column_major=False):
    """``X[rows]`` in ``dtype`` on ``device``: the one copy of the training data, gathered and cast chunk by chunk.

    ``column_major``: on the CPU, the copy is laid out by columns (a transposed view of a
    ``(n_features, n_rows)`` tensor), for fits whose products go to NumPy's BLAS (see
    :func:`._kernels.column_major_copy`); gathered by NumPy, whose transposing copy is the fastest.
    """
    rows = rows.to(X.device)
    column_major = column_major and torch.device(device).type == "cpu"
    if column_major and X.device.type == "cpu":
        return torch.from_numpy(host_copy(X.detach().numpy(), rows.numpy(), dtype, column_major=True))
    out = empty_copy(len(rows), X.shape[1], dtype, device, column_major)
    if X.dtype == dtype and X.device == out.device and not column_major:
        return torch.index_select(X, 0, rows, out=out)
    step = _rows_per_chunk(X)
    # Through one reused buffer: a temporary per chunk is mapped and unmapped by the host
    # allocator every time (see ._kernels._take_into).
    buffer = torch.empty((min(step, len(rows)), X.shape[1]), dtype=X.dtype, device=X.device)
    for start in range(0, len(rows), step):
        n = min(step, len(rows) - start)
        out[start : start + n].copy_(torch.index_select(X, 0, rows[start : start + n], out=buffer[:n]))
    return out
