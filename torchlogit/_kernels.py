"""Moving training data to the device, and the products that must also handle sparse X.

The host path's copy of the training data (DataFrames, integer data, what
:mod:`._tensor_data` does not take) is made with NumPy: on an AMD EPYC (2 cores) torch's
float64 -> float32 cast ran at a sixth of NumPy's speed (300k x 100: 106 ms against 16 ms),
and NumPy gathers the canonical row order in the same pass. On an Intel Xeon (2026-12-06)
torch's gather-and-cast was the faster by 10-30% (300k x 100: 45-56 against 62-66 ms; the
same dtype: even), under 1% of a fit, so the choice stays.

The dense training products stay in torch, with one exception:
where NumPy's BLAS is the faster (torch's MKL on a CPU not known to be Intel's,
:func:`._threads.numpy_blas_is_faster`), the matrix-vector products of a large dense
one-output L-BFGS fit on the CPU go to NumPy's BLAS while torch runs on one thread
(:func:`blas_vector_products`). Calling
NumPy's BLAS while torch's pool also runs made the two pools contend and a fit took
1.6-4x longer (300k x 100 binary: 3.2 against 2.0 s; multinomial 100k x 50 x 10: 2.7
against 0.67 s), so matrix products (several outputs) stay in torch, where MKL's are fast.

Sparse X is one canonical CSR copy in the training dtype with 32-bit indices
(:func:`sparse_rows`: gathered in canonical row order chunk by chunk, or transposed from
a CSC matrix in one pass; no other full copy), which a torch CSR tensor shares on the
CPU. Products, measured on CSR 200k x 5000 at 1% (10M non-zeros), float32, one thread,
best of 5, on a loaded 2-core machine, so ratios matter more than times
(``benchmarks/sparse_kernels.py``):

============================================  ========  ==========
product                                       binary    10 classes
============================================  ========  ==========
torch CSR ``X @ w``, int64 indices            177 ms
torch CSR ``X @ w``, int32 indices             41 ms     75 ms
scipy CSR ``X @ w``                            32 ms    170 ms
torch ``X.t().to_sparse_csr()`` (per fit)     8.5 s
scipy ``X.tocsc()`` (per fit)                 0.55 s
torch CSR of the transpose ``@ r`` (int64)    139 ms
torch CSR of the transpose ``@ r`` (int32)     50 ms    462 ms
scipy ``csr.T @ r`` (CSC product, no copy)     32 ms    162 ms
scipy CSC copy ``.T @ r``                      51 ms   1158 ms
2 threads, row chunks, scipy ``X @ w``         29 ms
2 threads, row chunks, scipy ``X.T @ r``       34 ms
============================================  ========  ==========

Kept: torch's CSR product with int32 indices for ``X @ W`` (one code path on every
device, fastest for several classes, within noise of scipy for one) and scipy's
``csr.T @ R`` for ``X.T @ R`` on the CPU: a streaming pass over the CSR arrays with no
transpose built (the per-fit ``to_sparse_csr`` cost more than the whole fit). Other
devices keep torch's transpose, built once per tensor. Chunked products on two
threads gained nothing measurable on the shared machine, so products are
single-threaded (scipy's sparse kernels use no BLAS: no pool contention either).
One objective-and-gradient evaluation then costs 27 ms of CPU time against 28 ms for
scikit-learn's ``LinearModelLoss.loss_gradient`` on the same data. On a quiet machine
(2026-12-04, float32, one thread, best of 7) torch's CSR product with one output is
5.8 ms as a matrix-vector product and 9.0 ms with ``W.T`` as an (n_features, 1) matrix;
binary fits use the former (scipy: 6.7 ms; ``csr.T @ r``: 7.8 ms). The whole default
fit is then 0.189 s against scikit-learn's 0.169 s (``benchmarks/sparse_fit.py``).
"""

import contextlib
import functools
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse import _sparsetools  # the row gather behind X[rows], into arrays we own

from ._threads import in_numpy_blas, routes_to_numpy_blas

# Sparse formats taken as they are (others are converted to CSR by validate_data).
ACCEPT_SPARSE = ["csr", "csc", "coo"]
# Rows per chunk when converting, gathering or predicting: about this many values, so a chunk stays in cache.
CHUNK_VALUES = 1 << 20
# The same on a device (CUDA, MPS): few large chunks, since a kernel launch costs more than the cache saves there
# (128 MB of float64; ~100 launches per 1M x 100 rows at CHUNK_VALUES took 5 ms of a GPU prediction, issue 14).
DEVICE_CHUNK_VALUES = 1 << 24


def chunk_values(device):
    """Values a chunk holds on ``device``: :data:`CHUNK_VALUES` on the CPU, :data:`DEVICE_CHUNK_VALUES` elsewhere."""
    return CHUNK_VALUES if device.type == "cpu" else DEVICE_CHUNK_VALUES


# Rows per chunk of a column-major training copy: each chunk's transposition stays in cache.
COLUMN_MAJOR_CHUNK_ROWS = 4096
# Values per chunk of a host-to-device transfer (32 MB of float32): long enough to reach the bus's speed.
_STAGE_VALUES = 1 << 23


# NumPy dtypes every declared torch converts and promotes: torch < 2.3 has no uint16/32/64 (and later ones
# do not promote them with other integers), none has longdouble, and a non-native byte order is refused.
# Arrays of other dtypes are handled in NumPy (labels and weights take the host path, as strings do).
TORCH_NUMPY_DTYPES = frozenset(
    np.dtype(name) for name in ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64")
)


@functools.cache
def torch_takes(dtype):
    """Whether this torch converts NumPy arrays of ``dtype`` (uint16/32/64 from torch 2.3 on; never longdouble, nor
    a non-native byte order)."""
    try:
        torch.from_numpy(np.zeros(1, dtype=dtype))
    except (TypeError, ValueError):
        return False
    return True


def as_tensor(X, dtype, device):
    """A tensor view of ``X`` (an array or a tensor) when it already has the right dtype and device, else one copy.

    ``dtype=None`` keeps ``X``'s dtype.
    """
    if isinstance(X, torch.Tensor):
        return X.to(device=device, dtype=dtype)
    with warnings.catch_warnings():
        # Read-only arrays (memmaps) are fine: torchlogit never writes to its input.
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        tensor = torch.from_numpy(np.asarray(X))
    return tensor.to(device=device, dtype=dtype)


def _numpy_dtype(dtype):
    return torch.empty(0, dtype=dtype, device="cpu").numpy().dtype


def value_range(values):
    """``torch.aminmax`` of a dense tensor (two 0-d tensors), read in its memory order.

    A column-major 2-D tensor (a column-major copy, a Fortran-ordered array or a DataFrame's
    values read as a tensor, the ``.T`` of a row-major one) is read through its transpose:
    aminmax of the view ran 7-9x slower (300k x 100 float64: 130 against 15 ms).
    """
    if values.dim() == 2 and not values.is_contiguous() and values.T.is_contiguous():
        values = values.T
    return torch.aminmax(values)


def tensor_max_abs(features):
    """Largest absolute value of a dense or sparse (CSR) tensor (0 when empty), one pass without a copy."""
    values = features.values() if features.layout == torch.sparse_csr else features
    if values.numel() == 0:
        return 0.0
    low, high = value_range(values)
    return max(-float(low), float(high))


def numpy_dtype(dtype):
    """The NumPy dtype of a NumPy or torch dtype."""
    return _numpy_dtype(dtype) if isinstance(dtype, torch.dtype) else np.dtype(dtype)


def host_copy(X, rows, dtype, column_major=False):
    """``X[rows]`` as a new NumPy array of torch ``dtype``, gathered and cast chunk by chunk.

    C-contiguous, or Fortran-contiguous with ``column_major`` (see :func:`column_major_copy`).
    """
    if column_major:
        # Transposed chunk by chunk into the (n_features, n_rows) array: 74-93 ms for 300k x 100
        # float64 input, on one thread or two, against 72-202 ms for torch's copy_ (2026-12-05).
        # torch's allocation, not NumPy's: NumPy asks for transparent huge pages, whose compaction on demand
        # stalled copies of this size for 0.1 to 1.9 s on this project's machine. Its pages are touched
        # in order first (zero_): faulting them in by the transposed writes' 100 scattered streams cost
        # more (1M x 100 float64: 590 against 430 ms in all; 300k x 100 float32: 115 against 92 ms).
        out_t = torch.empty((X.shape[1], len(rows)), dtype=dtype, device="cpu").zero_().numpy()

        def gather(start):
            part = rows[start : start + COLUMN_MAJOR_CHUNK_ROWS]
            out_t[:, start : start + len(part)] = take_rows(X, part).T

        # On torch's thread count (1M x 100 float64 -> float32, two threads: 205-226 ms, against 324-328 ms
        # gathered on one, 2026-12-05).
        on_threads(gather, range(0, len(rows), COLUMN_MAJOR_CHUNK_ROWS))
        return out_t.T
    out = np.empty((len(rows), *X.shape[1:]), dtype=_numpy_dtype(dtype))
    step = max(1, CHUNK_VALUES // max(int(np.prod(X.shape[1:])), 1))
    for start in range(0, len(rows), step):
        _take_into(out[start : start + step], X, rows[start : start + step])
    return out


def on_threads(task, starts):
    """``task(start)`` for each of ``starts``, on a pool of torch's thread count (one thread: in order, here).

    For NumPy work on disjoint parts of an array: NumPy releases the GIL in its gathers, casts and
    sum-of-products loops, so the parts run in parallel, as the fit's torch operations do.
    """
    workers = min(torch.get_num_threads(), len(starts))
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(task, starts))
    else:
        for start in starts:
            task(start)


def _take_into(out, X, rows):
    """``out[:] = X[rows]``; rows of the same dtype go straight into ``out``, with no temporary.

    ``mode="clip"`` (the rows are valid indices) because ``np.take`` buffers ``out`` in
    its default mode. The temporary chunk of a take-then-assign is mapped and unmapped
    by the allocator for every chunk: a float64 gather of 1M x 100 took 9-27 s that way
    against 3.3-4.3 s straight into ``out`` (loaded 2-core machine, alternating). With a
    cast the temporary is needed anyway (and measured no slower).
    """
    if X.dtype == out.dtype and X.flags.c_contiguous:
        np.take(X, rows, axis=0, out=out, mode="clip")
    else:
        out[...] = take_rows(X, rows)


def take_rows(X, rows):
    """``X[rows]`` for a dense 2-D ``X``, reading those rows only.

    ``np.take(X, rows, axis=0)`` first copies a ``X`` that is not C-contiguous whole, at every
    call: a DataFrame's column-major block (what scikit-learn's validation of a DataFrame
    gives) gathered chunk by chunk cost one copy of X per chunk, 2.5 s for 300k x 100 (29
    chunks) and quadratic in the rows. Indexing reads only the rows asked for (3.9 ms a chunk).
    """
    return np.take(X, rows, axis=0) if X.flags.c_contiguous else X[rows]


def to_device(X, rows, dtype, device, column_major=False):
    """Dense ``X[rows]`` as a tensor of ``dtype`` on ``device``: the one copy of the training data.

    On the CPU the gathered host copy is the tensor (laid out by columns with ``column_major``,
    see :func:`column_major_copy`). For a CUDA device the rows go through :func:`staged_copy`:
    no full host copy, and page-locked transfers.
    """
    if device.type == "cuda":
        return staged_copy(X, rows, dtype, device, pin_memory=True)
    return torch.from_numpy(host_copy(X, rows, dtype, column_major)).to(device)


def staged_copy(X, rows, dtype, device, pin_memory):
    """``X[rows]`` gathered and cast chunk by chunk into one reused (page-locked) host buffer, each chunk copied on.

    Pageable host memory halves the bus speed or worse: 400 MB took 54 ms pageable against
    7.5 ms pinned on an H100 host (issue 14). Pinning a whole copy of X would cost its own
    allocation; one chunk-sized buffer, reused, is pinned once.
    """
    out = torch.empty((len(rows), *X.shape[1:]), dtype=dtype, device=device)
    step = max(1, CHUNK_VALUES // max(int(np.prod(X.shape[1:])), 1))
    staging = torch.empty((min(step, len(rows)), *X.shape[1:]), dtype=dtype, device="cpu", pin_memory=pin_memory)
    buffer = staging.numpy()
    for start in range(0, len(rows), step):
        chunk = rows[start : start + step]
        _take_into(buffer[: len(chunk)], X, chunk)
        out[start : start + len(chunk)].copy_(staging[: len(chunk)])  # synchronous: the buffer is free again
    return out


def host_to_device(X, device):
    """A NumPy ``X`` as a tensor of its dtype on a CUDA ``device``: one transfer, through two page-locked buffers.

    Pageable memory halves the bus speed or worse (400 MB: 54 ms pageable, 7.5 ms pinned
    on an H100, issue 14). Each chunk is copied into one pinned buffer by torch's
    parallel copy while the other buffer's chunk is on its way, so the host copy and
    the transfer overlap; the buffers come from torch's pinned-memory cache.
    """
    source = as_tensor(X, None, "cpu")
    out = torch.empty(source.shape, dtype=source.dtype, device=device)
    step = max(1, _STAGE_VALUES // max(int(np.prod(source.shape[1:])), 1))
    shape = (min(step, len(source)), *source.shape[1:])
    try:
        buffers = [torch.empty(shape, dtype=source.dtype, device="cpu", pin_memory=True) for _ in range(2)]
    except RuntimeError:  # page-locked memory refused (a locked-memory limit): torch's pageable copy
        return source.to(device)
    stream = torch.cuda.current_stream(device)
    copied = [None, None]
    for i, start in enumerate(range(0, len(source), step)):
        buffer, n = buffers[i % 2], min(step, len(source) - start)
        if copied[i % 2] is not None:
            copied[i % 2].synchronize()  # this buffer's previous chunk has reached the device
        buffer[:n].copy_(source[start : start + n])
        out[start : start + n].copy_(buffer[:n], non_blocking=True)
        copied[i % 2] = torch.cuda.Event()
        copied[i % 2].record(stream)
    stream.synchronize()
    return out


def canonical_csr(X):
    """``X`` as CSR without duplicate entries or stored zeros: a copy only when it is not CSR or has either."""
    if X.format != "csr":
        X = sp.csr_matrix(X)
    if not X.has_canonical_format:  # scipy checks once and caches the flag
        X = X.copy()
        X.sum_duplicates()
    if not np.all(X.data):
        # Stored zeros (a BSR tensor's blocks, a hand-built matrix): the same matrix without them, so that the
        # products sum the same terms and the fit is bitwise the one without them.
        X = X.copy()
        X.eliminate_zeros()
    return X


def _index_dtype(nnz, shape):
    """int32 where every index and offset fits: half the memory, and torch's CSR products run faster."""
    return np.int32 if max(nnz, *shape) < np.iinfo(np.int32).max else np.int64


def sparse_rows(X, rows, dtype):
    """``X[rows]`` as a new canonical CSR matrix with data of torch ``dtype`` and 32-bit indices where they fit.

    SciPy's row gather (``csr_row_index``, what ``X[rows]`` runs) writes straight into
    the result's arrays where their dtypes are the input's; otherwise it fills one
    chunk-sized buffer, reused, which is cast into the result. The memory added is the
    result alone (scipy's ``X[rows]`` then a cast would also hold a full copy in the
    input's dtypes), and no matrix object is built per chunk: on CSR 200k x 5000 at 1%
    (float64, int32 indices), all rows permuted, best of 5 alternating on a nearly quiet
    2-core machine: 44 ms against 60 ms for a chunked ``X[rows]`` to float32, 44 ms
    against 74 ms to float64 (``benchmarks/sparse_kernels.py`` times the products).
    A canonical CSC matrix is transposed into the result in one pass (:func:`_csc_rows`).
    """
    if transposable_csc(X):
        out = _csc_rows(X, rows, dtype)
        if out is not None:
            return out
    X = canonical_csr(X)
    source_index = np.promote_types(X.indptr.dtype, X.indices.dtype)
    rows = np.asarray(rows, dtype=source_index)
    lengths = np.diff(X.indptr)[rows]
    nnz = int(lengths.sum())
    index_dtype = _index_dtype(nnz, X.shape)
    indptr = np.zeros(len(rows) + 1, dtype=index_dtype)
    np.cumsum(lengths, out=indptr[1:])
    indices = np.empty(nnz, dtype=index_dtype)
    data = np.empty(nnz, dtype=_numpy_dtype(dtype))
    source = (X.indptr.astype(source_index, copy=False), X.indices.astype(source_index, copy=False), X.data)
    if indices.dtype == source_index and data.dtype == X.dtype:
        _sparsetools.csr_row_index(len(rows), rows, *source, indices, data)
    else:
        step = max(1, CHUNK_VALUES // max(1, X.nnz // max(X.shape[0], 1)))
        starts = range(0, len(rows), step)
        largest = max((int(indptr[min(i + step, len(rows))] - indptr[i]) for i in starts), default=0)
        same_indices = indices.dtype == source_index  # then the indices go straight into the result
        buffer_indices = None if same_indices else np.empty(largest, dtype=source_index)
        buffer_data = np.empty(largest, dtype=X.dtype)
        for i in starts:
            stop = min(i + step, len(rows))
            lo, hi = int(indptr[i]), int(indptr[stop])
            chunk_indices = indices[lo:hi] if same_indices else buffer_indices[: hi - lo]
            _sparsetools.csr_row_index(stop - i, rows[i:stop], *source, chunk_indices, buffer_data[: hi - lo])
            if not same_indices:
                indices[lo:hi] = chunk_indices
            data[lo:hi] = buffer_data[: hi - lo]
    out = sp.csr_matrix((data, indices, indptr), shape=(len(rows), X.shape[1]), copy=False)
    out.has_canonical_format = True  # the rows of a canonical matrix
    return out


def transposable_csc(X):
    """Whether :func:`sparse_rows` transposes ``X`` straight into its result (:func:`_csc_rows`): a CSC matrix with
    sorted indices, no duplicates and no stored zeros. Validation keeps such a matrix as it is and converts any
    other to CSR once (``._data.fit_inputs``), rather than each training copy converting it again."""
    return X.format == "csc" and X.has_canonical_format and bool(np.all(X.data))


def _csc_rows(X, rows, dtype):
    """:func:`sparse_rows` of a canonical CSC matrix (sorted indices, no duplicates, no stored zeros), with no CSR
    copy of it in between.

    The CSC arrays of ``X`` are the CSR arrays of ``X.T``. Their row indices, relabelled by each row's place in
    ``rows``, converted by SciPy's ``csr_tocsc`` (what ``tocsc`` runs) give ``X[rows]`` as CSR, each row's columns
    in increasing order: the arrays :func:`sparse_rows` gathers from the same matrix as canonical CSR, bit for
    bit. None where ``rows`` repeats a row (not a fit's: its canonical rows are distinct; the caller gathers then).
    Converted to CSR first in ``X``'s dtype, then gathered, a 240 MB CSC matrix (400k x 5000 at 1%) added 427 MB
    to a float32 fit (1.8x) and 548 MB to a float64 one (2.3x), the conversion held through the fit; here the peak
    is the relabelled indices and the cast values beside the result (about 16 bytes a stored entry against the
    input's 12), and the result is all that stays.
    """
    index_dtype = _index_dtype(X.nnz, X.shape)  # the result's entries are at most X's
    rows = np.asarray(rows)
    n = len(rows)
    stored = int(X.indptr[-1])
    # Each row's place in the result; the rows not taken (zero weights, merged duplicates, rows held out) all go to
    # one more row after the last, whose entries end the converted arrays and are cut off there.
    place = np.full(X.shape[0], n, dtype=index_dtype)
    place[rows] = np.arange(n, dtype=index_dtype)
    if np.count_nonzero(place < n) < n:  # a row given twice holds one place
        return None
    at = place[X.indices[:stored]]
    values = X.data[:stored].astype(_numpy_dtype(dtype), copy=False)
    m = n + int(n < X.shape[0])
    data, indices, indptr = (
        np.empty(size, dtype=t) for size, t in ((stored, values.dtype), (stored, index_dtype), (m + 1, index_dtype))
    )
    _sparsetools.csr_tocsc(X.shape[1], m, X.indptr.astype(index_dtype, copy=False), at, values, indptr, indices, data)
    del at, values
    if m > n:
        # In place (the arrays are this function's own): a copy of the rows taken would be one more result-sized
        # array at the peak. Filtering the entries before the conversion held five arrays of the entries' length
        # (2.1x a 240 MB matrix with every tenth weight zero, against 1.45x here).
        kept = int(indptr[n])
        data.resize(kept, refcheck=False)
        indices.resize(kept, refcheck=False)
        indptr = indptr[: n + 1]
    out = sp.csr_matrix((data, indices, indptr), shape=(n, X.shape[1]), copy=False)
    out.has_canonical_format = True
    return out


@contextlib.contextmanager
def unchecked_sparse_invariants():
    """Build or convert sparse tensors from valid data: torch's invariant checks explicitly off, its beta notice off.

    ``check_invariants=False`` alone is not enough: torch 2.11 and later then warn once per process
    ("Sparse invariant checks are implicitly disabled") unless the global setting is given too.
    torch labels its CSR/CSC layouts "beta" on construction; the operations used here
    (products, transpose, row pointers) are covered by this project's tests.
    """
    with warnings.catch_warnings(), torch.sparse.check_sparse_tensor_invariants(enable=False):
        warnings.filterwarnings("ignore", message="Sparse CS[RC] tensor support is in beta")
        yield


def sparse_tensor(X, dtype, device):
    """A scipy sparse matrix as a torch CSR tensor, never densified.

    CSR rather than COO: torch's COO products are ~30x slower on the CPU (20k x 50k at
    0.1%: 24 ms against 0.7 ms). On the CPU the tensor shares its memory with a
    canonical CSR copy of the data in the training dtype, kept on the tensor as
    ``_torchlogit_host`` for :func:`transposed_product`; when ``X`` already is one
    (:func:`sparse_rows`), nothing is copied.
    """
    X = canonical_csr(X)
    numpy_dtype = _numpy_dtype(dtype)
    index_dtype = _index_dtype(X.nnz, X.shape)
    if X.dtype != numpy_dtype or X.indices.dtype != index_dtype or X.indptr.dtype != index_dtype:
        X = sp.csr_matrix(
            (X.data.astype(numpy_dtype), X.indices.astype(index_dtype), X.indptr.astype(index_dtype)),
            shape=X.shape,
            copy=False,
        )
        X.has_canonical_format = True
    with unchecked_sparse_invariants():
        tensor = torch.sparse_csr_tensor(
            torch.from_numpy(X.indptr),
            torch.from_numpy(X.indices),
            torch.from_numpy(X.data),
            X.shape,
            device="cpu",
            check_invariants=False,  # scipy's canonical CSR is valid by construction
        )
    tensor = tensor.to(device)
    if tensor.device.type == "cpu":
        tensor._torchlogit_host = X
    return tensor


def host_matrix(X):
    """The scipy CSR matrix sharing memory with the CPU tensor ``X`` (None for other tensors)."""
    return getattr(X, "_torchlogit_host", None)


def column_major_copy(n_values, vector_products):
    """Whether the training copy is laid out by columns: exactly the fits whose products go to NumPy's BLAS
    (where it is the faster, :func:`._threads.numpy_blas_is_faster`; AMD EPYC figures below).

    OpenBLAS's matrix-vector kernels stream a column-major ``X`` for both products at the speed of
    ``X @ w`` on a row-major one, while ``r @ X`` on a row-major ``X`` runs at half that (300k x 100,
    NumPy, two threads, quiet, best of 15, 2026-12-05, ``X @ w`` / ``r @ X``):

    ================  ===================  ===================
    X                 row-major            column-major
    ================  ===================  ===================
    float32           3.1 / 6.6 ms         2.8 / 2.9 ms
    float64           9.4 / 14.3 ms        6.5 / 6.3 ms
    ================  ===================  ===================

    The column-major gather costs more than the row-major one (:func:`host_copy`; best of 5, float64
    input): 300k x 100, 92 against 53 ms in float32 and 132 against 84 ms in float64; 1M x 100
    float64, 430 against 268 ms. It pays from about 10 evaluations in float32 and 5 in float64.
    Whole fits, alternating, four each (2026-12-05): ``benchmarks/data_prep.py``'s binary 300k x 100
    (40 iterations, float32 then float64) 0.97-1.02 against 1.34-1.46 s; its easy 1M x 100 float64
    problem (4 iterations) 1.03-1.18 against 1.03-1.16 s. Other fits keep row-major copies: torch's
    kernels, mini-batches and the GPU read rows.
    """
    return routes_to_numpy_blas(n_values, vector_products)


def blas_vector_products(X):
    """Whether ``X @ w`` and ``r @ X`` for a dense ``X`` go to NumPy's BLAS rather than torch's.

    On the CPU, inside :func:`._threads.blas_threads` (the iterations of an L-BFGS fit
    of a dense linear model with one output, on data of at least ``SMALL_VALUES``
    values, where torch runs on one thread), on a CPU where NumPy's BLAS is the faster
    (:func:`._threads.numpy_blas_is_faster`). torch's CPU builds multiply with MKL, whose
    matrix-vector kernels ran at a third to half the speed of NumPy's OpenBLAS on an
    AMD EPYC (2 cores, quiet, 2026-12-05, best of 7, ``X @ w`` / ``r @ X``; on an Intel
    Xeon the two are even):

    ================================  ===============  ===============
    X                                 torch (2 thr.)   NumPy (2 thr.)
    ================================  ===============  ===============
    300k x 100 float32                8.1 / 9.6 ms     3.4 / 6.9 ms
    300k x 100 float64                29 / 27 ms       11 / 15 ms
    1M x 100 float64                  96 / 86 ms       34 / 58 ms
    ================================  ===============  ===============

    With torch's pool also running, the two pools' idle threads spin on the same cores
    and a fit took 1.6-4x longer than with torch alone, hence one torch thread
    while NumPy's BLAS uses the cores. Smaller data stay in torch (one thread there
    anyway, and NumPy's pool would be one more to wake on a busy machine).
    """
    return in_numpy_blas() and X.layout == torch.strided and X.device.type == "cpu"


def matrix_vector(X, w):
    """``X @ w`` for a dense or sparse (CSR) ``X`` and a vector ``w`` (see :func:`blas_vector_products`)."""
    if blas_vector_products(X):
        return torch.from_numpy(X.numpy() @ w.numpy())
    return X @ w


def linear_scores(X, W):
    """``X @ W.T`` (shape ``(n, K)``): for one output (``K == 1``) a matrix-vector product, not a one-column matrix one.

    torch's matrix-vector kernels: CSR 200k x 5000 at 1%, float32, one thread, 5.8 against
    9.0 ms; dense 300k x 100, float32, two threads, 8 against 16 ms.
    """
    if W.shape[0] == 1:
        return matrix_vector(X, W[0]).unsqueeze(1)
    return X @ W.T


def vector_product(r, X):
    """``r @ X`` (that is ``X.T @ r``) for a dense ``X`` and a vector ``r`` (see :func:`blas_vector_products`)."""
    if blas_vector_products(X):
        return torch.from_numpy(r.numpy() @ X.numpy())
    # torch's matrix-vector kernel: 300k x 100, float32, two threads, 9 against 17.5 ms for
    # the matrix-matrix product with one column.
    return r @ X


def add_column_square_sums(out, X, weight, start, end, lo, hi):
    """Add ``sum_i weight_i x_ij^2`` per column over rows ``start:end`` of a sparse CSR tensor to ``out`` (float64).

    ``weight``: float64, one per row of ``X``. ``lo``, ``hi``: the rows' span of stored values
    (``crow[start]``, ``crow[end]``), which the callers read for many blocks at once (one synchronisation on a
    device). Any device: ``repeat_interleave`` and ``index_add_`` on the CSR's own arrays.
    """
    crow = X.crow_indices()
    row_weight = torch.repeat_interleave(weight[start:end], crow[start + 1 : end + 1] - crow[start:end])
    squares = X.values()[lo:hi].to(torch.float64) ** 2 * row_weight
    columns = X.col_indices()[lo:hi].to(torch.int64)
    if out.device.type == "cpu":
        return out.index_add_(0, columns, squares)  # in the stored order, one value after another
    return out.add_(column_sums_in_order(columns, squares, out.shape[0]))


def column_sums_in_order(columns, values, n_columns):
    """``sum`` of ``values`` per column index, each column's values added in one fixed order.

    On a GPU ``index_add_`` adds with atomics, in an order that changes from run to run (torch lists it
    as nondeterministic): the preconditioner's column scales, and so a sparse fit, could differ in their last
    bits between two runs on the same data. Sorted by column (a stable sort) and reduced per column by
    ``segment_reduce``, every run adds the same values in the same order.
    """
    order = torch.argsort(columns, stable=True)
    lengths = torch.bincount(columns, minlength=n_columns)
    return torch.segment_reduce(values[order], "sum", lengths=lengths)


def transposed_product(X, R):
    """``X.T @ R`` for a dense or sparse (CSR) ``X`` and a dense ``R``.

    On the CPU, a sparse ``X`` is multiplied by scipy (``csr.T @ R``, one streaming
    pass over the CSR arrays, no transpose built). On other devices, torch's CSR
    transpose is built once per tensor and kept on it: a full batch is the same tensor
    every iteration.
    """
    if X.layout != torch.sparse_csr:
        if R.shape[1] == 1:
            return vector_product(R[:, 0], X).unsqueeze(1)
        return X.T @ R
    host = host_matrix(X)
    if host is not None and R.device.type == "cpu":
        return torch.from_numpy(np.asarray(host.T @ R.detach().numpy()))
    transpose = getattr(X, "_torchlogit_transpose", None)
    if transpose is None:
        with unchecked_sparse_invariants():
            transpose = X.t().to_sparse_csr()
        X._torchlogit_transpose = transpose
    return transpose @ R


def column_max_abs(X):
    """``max |X[:, j]|`` for each column of a dense or sparse (CSR, COO) tensor, as a float64 tensor.

    Maxima are exact in any order, so the result does not depend on the row order, nor
    on how a device schedules the reduction. None for data that is not a tensor here
    (data that computes its own sums where it lives).
    """
    if not isinstance(X, torch.Tensor):
        return None
    n_features = X.shape[1]
    if X.layout == torch.strided:
        if X.shape[0] == 0:
            return torch.zeros(n_features, dtype=torch.float64, device=X.device)
        low, high = torch.aminmax(X, dim=0)  # one pass over X
        return torch.maximum(low.abs(), high.abs()).to(torch.float64)
    if X.layout == torch.sparse_csr:
        columns, values = X.col_indices(), X.values()
    elif X.layout == torch.sparse_coo:
        X = X.coalesce()
        columns, values = X.indices()[1], X.values()
    else:
        return None
    # In the values' dtype (a maximum is exact in any), converted once at the end; a chunk of the stored values at a
    # time: the int64 column indices and absolute values of all of them at once were 12 bytes per stored value (a
    # CSR fit with an L1 part or C=inf added 1.9x its matrix instead of 1x). Each chunk's int64 columns and absolute
    # values go into the same two buffers: 12 MB chunks allocated afresh each time left the allocator holding two of
    # them now and then, and the fit's peak jumped from 1.2x to 1.5x its matrix from one run to the next.
    out = torch.zeros(n_features, dtype=values.dtype, device=X.device)
    step = max(1, min(chunk_values(X.device), values.shape[0]))
    column_buffer = torch.empty(step, dtype=torch.int64, device=X.device)
    value_buffer = torch.empty(step, dtype=values.dtype, device=X.device)
    for start in range(0, values.shape[0], step):
        stop = min(start + step, values.shape[0])
        index = column_buffer[: stop - start].copy_(columns[start:stop])
        source = torch.abs(values[start:stop], out=value_buffer[: stop - start])
        out.scatter_reduce_(0, index, source, "amax")
    return out.to(torch.float64)
