"""The data kernels (``torchlogit._kernels``): each copy, cast and product equals its NumPy/SciPy reference.

The references are NumPy's fancy indexing and cast (``X[rows].astype(...)``), SciPy's
``X[rows]``, ``.toarray()`` and ``X.T @ R`` in float64, and ``np.abs(X).max(axis=0)``.
Chunked paths are run with chunk sizes shrunk (``monkeypatch``) so that the data spans
many chunks, and must equal the whole-array reference exactly: gathering and casting are
exact, and so is a maximum. Products are compared in float64 to 1e-12 (relative), the
summation order being the only difference. Sparse input with explicit zeros, duplicate
entries and unsorted indices must give what the dense matrix gives.
"""

import tracemalloc
import types
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from torchlogit import _kernels
from torchlogit._kernels import (
    _index_dtype,
    as_tensor,
    canonical_csr,
    column_max_abs,
    host_copy,
    host_matrix,
    host_to_device,
    numpy_dtype,
    sparse_rows,
    sparse_tensor,
    staged_copy,
    tensor_max_abs,
    to_device,
    transposed_product,
    unchecked_sparse_invariants,
)

CPU = torch.device("cpu")


def _messy_csr(rng, shape=(37, 11), density=0.3):
    """A CSR matrix with explicit zeros, duplicate entries (summed by scipy's toarray) and unsorted indices.

    Its largest absolute value is negative (-9.5), so a maximum taken without abs is wrong.
    """
    n = int(shape[0] * shape[1] * density)
    rows = rng.randint(0, shape[0], n)
    cols = rng.randint(0, shape[1], n)
    data = rng.choice([0.0, 1.5, -2.25, 3.0, -0.5], n)
    data[0], rows[0], cols[0] = -9.5, 3, 4
    order = rng.permutation(n)
    X = sp.csr_matrix((data[order], (rows[order], cols[order])), shape=shape)
    # csr_matrix((data, (i, j))) sums duplicates; store some again, unsorted, to have real duplicates.
    extra_rows, extra_cols = rows[1:6], cols[1:6]
    X = sp.csr_matrix(
        (
            np.r_[X.tocoo().data, np.full(5, 0.25), [0.0]],
            (np.r_[X.tocoo().row, extra_rows, [7]], np.r_[X.tocoo().col, extra_cols, [2]]),
        ),
        shape=shape,
    )
    coo = X.tocoo()
    order = rng.permutation(coo.nnz)
    indptr = np.r_[0, np.cumsum(np.bincount(coo.row[order], minlength=shape[0]))]
    by_row = np.argsort(coo.row[order], kind="stable")
    out = sp.csr_matrix((coo.data[order][by_row], coo.col[order][by_row], indptr), shape=shape)
    out.has_sorted_indices = False
    out.has_canonical_format = False
    return out


@pytest.fixture
def rng():
    return np.random.RandomState(0)


# ----------------------------------------------------------------------------- dtypes and tensor views
def test_numpy_dtype_of_torch_and_numpy_dtypes():
    """torch.float32 -> np.float32, torch.int64 -> np.int64; NumPy dtypes and their names pass through."""
    assert numpy_dtype(torch.float32) == np.float32
    assert numpy_dtype(torch.float64) == np.float64
    assert numpy_dtype(torch.int64) == np.int64
    assert numpy_dtype(np.float32) == np.float32
    assert numpy_dtype("float64") == np.float64


def test_as_tensor_converts_and_keeps_the_dtype_when_asked(rng):
    """A NumPy array becomes a tensor with its values (cast exactly as NumPy casts); ``dtype=None`` keeps
    float32, a tensor input is converted too; a read-only array (a memmap) is taken without a warning and
    without a copy when nothing changes."""
    X = rng.randn(5, 3)
    t = as_tensor(X, torch.float32, "cpu")
    assert t.dtype == torch.float32
    np.testing.assert_array_equal(t.numpy(), X.astype(np.float32))
    X32 = X.astype(np.float32)
    kept = as_tensor(X32, None, "cpu")
    assert kept.dtype == torch.float32
    assert kept.data_ptr() == X32.__array_interface__["data"][0]  # a view
    from_tensor = as_tensor(torch.from_numpy(X), torch.float32, CPU)
    assert from_tensor.dtype == torch.float32
    np.testing.assert_array_equal(from_tensor.numpy(), X.astype(np.float32))
    readonly = X.copy()
    readonly.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        view = as_tensor(readonly, None, "cpu")
    np.testing.assert_array_equal(view.numpy(), X)
    assert as_tensor([[1, 2]], torch.float64, "cpu").tolist() == [[1.0, 2.0]]  # array-likes


def test_copies_land_on_the_device_asked_for(rng):
    """Every copy lands on the device it is asked for. torch's "meta" device stands for any device other than
    the host here (no GPU on the test machine): a copy left on the CPU is wrong on a GPU."""
    X = rng.randn(5, 3)
    meta = torch.device("meta")
    assert as_tensor(X, torch.float32, meta).device == meta
    assert as_tensor(X, None, meta).device == meta
    assert as_tensor(torch.from_numpy(X), torch.float32, meta).device == meta
    assert as_tensor(torch.from_numpy(X), None, meta).device == meta
    rows = np.array([4, 0, 2])
    moved = to_device(X, rows, torch.float32, meta)
    assert moved.device == meta and moved.dtype == torch.float32 and moved.shape == (3, 3)
    staged = staged_copy(X, rows, torch.float64, meta, pin_memory=False)
    assert staged.device == meta and staged.shape == (3, 3)


def test_a_cuda_copy_goes_through_the_page_locked_staged_copy(rng, monkeypatch):
    """For a CUDA device ``to_device`` hands X, the rows, the dtype and the device to ``staged_copy`` with
    ``pin_memory=True`` (recorded here with a stand-in device: there is no GPU on the test machine)."""
    calls = []
    monkeypatch.setattr(_kernels, "staged_copy", lambda *args, **kwargs: calls.append((args, kwargs)) or "staged")
    X, rows = rng.randn(4, 2), np.array([1, 0])
    cuda = types.SimpleNamespace(type="cuda")
    assert to_device(X, rows, torch.float32, cuda) == "staged"
    ((args, kwargs),) = calls
    assert args[0] is X and args[1] is rows and args[2] is torch.float32 and args[3] is cuda
    assert kwargs == {"pin_memory": True}


def test_staged_copy_asks_for_a_page_locked_buffer_when_told(rng, monkeypatch):
    """``staged_copy(..., pin_memory=True)`` allocates its staging buffer page-locked (recorded: this machine
    has no page-locked allocator) and still copies ``X[rows]``; with ``pin_memory=False`` it does not."""
    requested = []
    real_empty = torch.empty

    def empty(*args, pin_memory=False, **kwargs):
        requested.append(pin_memory)
        return real_empty(*args, **kwargs)

    monkeypatch.setattr(_kernels, "torch", types.SimpleNamespace(empty=empty))
    X, rows = rng.randn(6, 2), np.array([5, 1, 1, 0])
    out = staged_copy(X, rows, torch.float64, CPU, pin_memory=True)
    np.testing.assert_array_equal(out.numpy(), X[rows])
    assert requested == [False, True]  # the result on the device, the staging buffer page-locked
    requested.clear()
    staged_copy(X, rows, torch.float64, CPU, pin_memory=False)
    assert requested == [False, False]


def test_tensor_max_abs_dense_sparse_and_empty(rng):
    """``max |x|`` over the stored values: -9.5 must give 9.5 (the minimum's absolute value); an empty tensor
    and a CSR tensor with nothing stored give 0.0."""
    X = rng.uniform(-1, 1, size=(6, 4))
    X[2, 1] = -9.5
    assert tensor_max_abs(torch.from_numpy(X)) == 9.5
    assert tensor_max_abs(torch.from_numpy(-X)) == 9.5
    assert tensor_max_abs(sparse_tensor(sp.csr_matrix(X), torch.float64, CPU)) == 9.5
    assert tensor_max_abs(sparse_tensor(sp.csr_matrix(-X), torch.float64, CPU)) == 9.5
    assert tensor_max_abs(torch.zeros(0, 3)) == 0.0
    assert tensor_max_abs(sparse_tensor(sp.csr_matrix((4, 3)), torch.float64, CPU)) == 0.0
    assert isinstance(tensor_max_abs(torch.zeros(0, 3)), float)


# ----------------------------------------------------------------------------- dense copies
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("chunk", [None, 7])
def test_host_copy_and_to_device_equal_numpy_fancy_indexing(rng, monkeypatch, dtype, chunk):
    """``X[rows]`` cast to ``dtype``, bit for bit, rows repeated and permuted, whether the copy is one chunk
    or many (``CHUNK_VALUES`` = 7 values: one row a chunk here) and whether a cast is needed."""
    if chunk is not None:
        monkeypatch.setattr(_kernels, "CHUNK_VALUES", chunk)
    X = rng.randn(23, 5)
    rows = np.r_[rng.permutation(23), [4, 4, 0, 22]]
    expected = X[rows].astype(numpy_dtype(dtype))
    out = host_copy(X, rows, dtype)
    assert out.dtype == expected.dtype and out.flags.c_contiguous
    np.testing.assert_array_equal(out, expected)
    same = host_copy(X.astype(numpy_dtype(dtype)), rows, dtype)  # no cast: gathered straight into the result
    np.testing.assert_array_equal(same, expected)
    tensor = to_device(X, rows, dtype, CPU)
    assert tensor.dtype == dtype and tensor.device == CPU
    np.testing.assert_array_equal(tensor.numpy(), expected)
    assert host_copy(X, rows[:0], dtype).shape == (0, 5)


@pytest.mark.parametrize("copy", ["rows", "columns", "design"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_copies_of_a_column_major_x_read_only_the_rows_they_take(rng, monkeypatch, dtype, copy):
    """A DataFrame's values (what scikit-learn's validation gives for one) are column-major, and ``np.take``
    copied such an X whole at every chunk: 2.5 s of a 300k x 100 fit (29 chunks), quadratic in the rows. Each
    chunk now reads its own rows only: the copy's peak memory (tracemalloc) stays far under one copy of X per
    chunk, and the copy equals ``X[rows]`` (the row-major, column-major and cross-validation design copies)."""
    import tracemalloc

    from torchlogit import _batched

    monkeypatch.setattr(_kernels, "CHUNK_VALUES", 20_000)
    monkeypatch.setattr(_kernels, "COLUMN_MAJOR_CHUNK_ROWS", 1000)
    monkeypatch.setattr(_batched, "CHUNK_VALUES", 20_000)
    X = np.asfortranarray(rng.randn(40_000, 20))  # 6.4 MB, 40 chunks of 1000 rows
    rows = rng.permutation(len(X))
    tracemalloc.start()
    try:
        if copy == "design":
            out = _batched.design_matrix(X, rows, None, False, dtype, CPU).numpy()
        else:
            out = host_copy(X, rows, dtype, column_major=copy == "columns")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(out, X[rows].astype(numpy_dtype(dtype)))
    assert peak < out.nbytes + X.nbytes / 4, (peak, out.nbytes, X.nbytes)


def test_host_copy_of_a_3d_array_counts_values_per_row(rng, monkeypatch):
    """Rows of a 3-D array are (4, 3) blocks of 12 values: with ``CHUNK_VALUES`` = 24 two rows go in a chunk,
    with 5 one row (never less), and rows of one value go two to a chunk at ``CHUNK_VALUES`` = 2, in the
    host copy and in the staged copy; the copies equal ``X[rows]``. The chunk size is the memory bound the
    module promises (a chunk "stays in cache"), so it is pinned here."""
    monkeypatch.setattr(_kernels, "CHUNK_VALUES", 24)
    X = rng.randn(9, 4, 3)
    rows = rng.permutation(9)
    np.testing.assert_array_equal(host_copy(X, rows, torch.float64), X[rows])
    taken = []
    original = _kernels._take_into
    monkeypatch.setattr(_kernels, "_take_into", lambda out, X, rows: (taken.append(len(rows)), original(out, X, rows)))
    host_copy(X, rows, torch.float64)
    assert taken == [2, 2, 2, 2, 1]
    taken.clear()
    monkeypatch.setattr(_kernels, "CHUNK_VALUES", 5)  # less than one row: one row a chunk, never more
    host_copy(X, rows, torch.float64)
    assert taken == [1] * 9
    taken.clear()
    monkeypatch.setattr(_kernels, "CHUNK_VALUES", 2)  # one value a row: two rows a chunk
    np.testing.assert_array_equal(host_copy(X[:, :1, 0], rows, torch.float32), X[rows, :1, 0].astype(np.float32))
    assert taken == [2, 2, 2, 2, 1]
    taken.clear()
    staged_copy(X, rows, torch.float64, CPU, pin_memory=False)
    assert taken == [1] * 9
    taken.clear()
    staged_copy(X[:, :1, 0], rows, torch.float64, CPU, pin_memory=False)
    assert taken == [2, 2, 2, 2, 1]
    taken.clear()
    monkeypatch.setattr(_kernels, "CHUNK_VALUES", 24)
    np.testing.assert_array_equal(staged_copy(X, rows, torch.float64, CPU, pin_memory=False).numpy(), X[rows])
    assert taken == [2, 2, 2, 2, 1]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("chunk", [None, 10])
def test_staged_copy_through_one_buffer_equals_fancy_indexing(rng, monkeypatch, dtype, chunk):
    """The staged copy (one reused host buffer, chunk by chunk) gives ``X[rows]`` cast to ``dtype``: here on
    the CPU with a pageable buffer, ``CHUNK_VALUES`` = 10 (two rows a chunk, the last chunk short)."""
    if chunk is not None:
        monkeypatch.setattr(_kernels, "CHUNK_VALUES", chunk)
    X = rng.randn(11, 4)
    rows = np.r_[rng.permutation(11), [3, 3]]
    out = staged_copy(X, rows, dtype, CPU, pin_memory=False)
    assert out.dtype == dtype and out.shape == (13, 4)
    np.testing.assert_array_equal(out.numpy(), X[rows].astype(numpy_dtype(dtype)))


class _FakeEvent:
    recorded = []

    def record(self, stream):
        _FakeEvent.recorded.append(stream)

    def synchronize(self):
        pass


def _cpu_as_cuda(monkeypatch):
    """Run host_to_device's double-buffered loop on the CPU: page-locked allocation and CUDA events stand in."""
    real = torch
    calls = types.SimpleNamespace(pinned=0, streams=[], stream=None)

    def empty(*args, pin_memory=False, **kwargs):
        calls.pinned += bool(pin_memory)
        return real.empty(*args, **kwargs)

    stream = calls.stream = types.SimpleNamespace(synchronize=lambda: None)

    def current_stream(device):
        calls.streams.append(device)
        return stream

    cuda = types.SimpleNamespace(current_stream=current_stream, Event=_FakeEvent)
    fake = types.SimpleNamespace(**{name: getattr(real, name) for name in dir(real) if not name.startswith("__")})
    fake.empty, fake.cuda = empty, cuda
    monkeypatch.setattr(_kernels, "torch", fake)
    return calls


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_rows", [1, 7, 12])
def test_host_to_device_chunks_cover_every_row_once(rng, monkeypatch, dtype, n_rows):
    """``host_to_device`` copies ``X`` whole and in its dtype, in chunks of ``_STAGE_VALUES`` values (at least
    one row): 5 values here (one row of 3 values a chunk), 8 (two rows), rows of one value two to a chunk at
    2; the two buffers alternating, the last chunk short; the result on the device asked for. Run on the CPU
    with the CUDA calls standing in; without an accelerator the real function falls back to one pageable copy
    (also checked)."""
    X = rng.randn(n_rows, 3).astype(dtype)
    plain = host_to_device(X, CPU)  # no page-locked memory here: torch's own copy
    np.testing.assert_array_equal(plain.numpy(), X)
    assert host_to_device(X, torch.device("meta")).device.type == "meta"  # that copy goes to the device too
    monkeypatch.setattr(_kernels, "_STAGE_VALUES", 5)
    calls = _cpu_as_cuda(monkeypatch)
    _FakeEvent.recorded = []
    out = host_to_device(X, CPU)
    assert calls.pinned == 2 and calls.streams == [CPU]  # two page-locked buffers; the stream of that device
    assert out.dtype == torch.from_numpy(X).dtype
    np.testing.assert_array_equal(out.numpy(), X)
    assert len(_FakeEvent.recorded) == n_rows  # one chunk a row: a chunk is at most 5 values, at least a row
    assert all(stream is calls.stream for stream in _FakeEvent.recorded)  # events on the copying stream
    monkeypatch.setattr(_kernels, "_STAGE_VALUES", 8)  # two rows a chunk
    _FakeEvent.recorded = []
    np.testing.assert_array_equal(host_to_device(X, CPU).numpy(), X)
    assert len(_FakeEvent.recorded) == (n_rows + 1) // 2
    monkeypatch.setattr(_kernels, "_STAGE_VALUES", 2)  # rows of one value: two a chunk
    _FakeEvent.recorded = []
    np.testing.assert_array_equal(host_to_device(X[:, :1], CPU).numpy(), X[:, :1])
    assert len(_FakeEvent.recorded) == (n_rows + 1) // 2
    assert host_to_device(X, torch.device("meta")).device.type == "meta"  # the result where it was asked for


# ----------------------------------------------------------------------------- sparse
def test_canonical_csr_sums_duplicates_and_copies_only_when_needed(rng):
    """Any format becomes CSR with sorted, unique indices, no stored zeros and the dense matrix's values; a canonical
    CSR input without stored zeros is returned as it is (no copy), and any other is not modified in place."""
    X = _messy_csr(rng)
    dense = X.toarray()
    before = (X.data.copy(), X.indices.copy(), X.indptr.copy())
    out = canonical_csr(X)
    assert out.format == "csr" and out.has_canonical_format
    assert out is not X
    np.testing.assert_array_equal(out.toarray(), dense)
    assert out.nnz == np.count_nonzero(dense) < len(np.unique(np.c_[X.tocoo().row, X.tocoo().col], axis=0))
    assert np.all(out.data)  # duplicates summed, stored zeros (given, or summed to zero) dropped
    for a, b in zip(before, (X.data, X.indices, X.indptr), strict=True):
        np.testing.assert_array_equal(a, b)
    assert canonical_csr(out) is out
    for fmt in ("csc", "coo"):
        converted = canonical_csr(X.asformat(fmt))
        assert converted.format == "csr" and converted.has_canonical_format
        np.testing.assert_array_equal(converted.toarray(), dense)


def test_index_dtype_is_int32_exactly_while_every_index_fits():
    """int32 while the nnz and both dimensions are below 2**31 - 1 (every offset and index then fits), else
    int64; the bound counts the largest of the three."""
    top = np.iinfo(np.int32).max
    assert _index_dtype(10, (5, 7)) is np.int32
    assert _index_dtype(top - 1, (5, 7)) is np.int32
    assert _index_dtype(top, (5, 7)) is np.int64
    assert _index_dtype(3, (top, 2)) is np.int64
    assert _index_dtype(3, (2, top)) is np.int64
    assert _index_dtype(3, (2, top - 1)) is np.int32


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("index", [np.int32, np.int64])
@pytest.mark.parametrize("chunk", [None, 8])
def test_sparse_rows_equal_scipy_row_indexing(rng, monkeypatch, dtype, index, chunk):
    """``sparse_rows(X, rows)`` is ``X[rows]`` (SciPy) with duplicates summed, data cast to ``dtype`` and
    int32 indices; explicit zeros stay stored (they are values). Every branch: the direct gather (same
    dtypes), the chunked one through a buffer for the data and/or the indices, with one chunk or many
    (``CHUNK_VALUES`` = 8: about two rows a chunk), with repeated rows and an empty row."""
    if chunk is not None:
        monkeypatch.setattr(_kernels, "CHUNK_VALUES", chunk)
    X = _messy_csr(rng)
    X.indices, X.indptr = X.indices.astype(index), X.indptr.astype(index)
    canon = canonical_csr(X)
    rows = np.r_[rng.permutation(X.shape[0]), [3, 3, 7]]
    expected = canon[rows]
    for X_dtype in (np.float64, np.float32):
        source = X.astype(X_dtype)
        # astype may not keep the index dtypes
        source.indices, source.indptr = source.indices.astype(index), source.indptr.astype(index)
        source.has_canonical_format = False
        assert source.indices.dtype == index
        canonical = canonical_csr(source)  # the same matrix already canonical (no copy made), index dtype kept
        canonical.indices, canonical.indptr = canonical.indices.astype(index), canonical.indptr.astype(index)
        canonical.has_canonical_format = True
        for given in (source, canonical):
            out = sparse_rows(given, rows, dtype)
            np.testing.assert_array_equal(out.indptr, expected.indptr)
            np.testing.assert_array_equal(out.indices, expected.indices)
            np.testing.assert_array_equal(out.data, expected.data.astype(X_dtype).astype(numpy_dtype(dtype)))
        assert out.dtype == numpy_dtype(dtype)
        assert out.indices.dtype == np.int32 and out.indptr.dtype == np.int32
        assert out.shape == (len(rows), X.shape[1]) and out.has_canonical_format
        np.testing.assert_array_equal(out.indptr, expected.indptr)
        np.testing.assert_array_equal(out.indices, expected.indices)
        np.testing.assert_array_equal(out.data, expected.data.astype(X_dtype).astype(numpy_dtype(dtype)))
        np.testing.assert_array_equal(out.toarray(), X.toarray()[rows].astype(X_dtype).astype(numpy_dtype(dtype)))


@pytest.mark.parametrize("index", [np.int32, np.int64])
def test_sparse_rows_of_a_canonical_csc_matrix_transpose_it_without_a_csr_copy(rng, monkeypatch, index):
    """A canonical CSC matrix gives the arrays its CSR form gives, bit for bit (indptr, indices, data, their dtypes),
    for every row order, for a subset of the rows (zero weights, merged or held-out rows: the result holds only
    its own entries) and with empty rows, without a CSR copy of the matrix (``tocsr`` refused). Rows given twice,
    which no fit asks for, are gathered from the CSR form."""
    csr = canonical_csr(_messy_csr(rng))
    csr = sp.vstack([csr, sp.csr_matrix((2, csr.shape[1]))]).tocsr()  # two empty rows at the end
    csc = csr.tocsc()
    csc.indices, csc.indptr = csc.indices.astype(index), csc.indptr.astype(index)
    assert csc.has_canonical_format and np.all(csc.data)
    subset = rng.permutation(csr.shape[0])[: csr.shape[0] // 2]
    cases = {"all": rng.permutation(csr.shape[0]), "subset": subset, "empty rows": np.array([csr.shape[0] - 1, 0])}
    for name, rows in cases.items():
        for dtype in (torch.float32, torch.float64):
            expected = sparse_rows(csr, rows, dtype)
            with monkeypatch.context() as patched:
                patched.setattr(sp.csc_matrix, "tocsr", lambda *a, **k: pytest.fail("a CSR copy of the CSC matrix"))
                out = sparse_rows(csc, rows, dtype)
            assert out.format == "csr" and out.has_canonical_format and out.shape == expected.shape, name
            for got, want in (
                (out.indptr, expected.indptr),
                (out.indices, expected.indices),
                (out.data, expected.data),
            ):
                assert got.dtype == want.dtype, name
                np.testing.assert_array_equal(got, want, err_msg=name)
            assert out.nnz == len(out.data) == len(out.indices), name  # no entries of other rows kept
    repeated = np.array([3, 3, 7])
    np.testing.assert_array_equal(sparse_rows(csc, repeated, torch.float64).toarray(), csr.toarray()[repeated])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_csc_gather_allocates_at_most_one_and_a_half_times_the_matrix(rng, dtype):
    """The memory a CSC matrix's gather allocates at its peak (tracemalloc: NumPy reports its arrays), every row or
    nine rows in ten (zero weights, merged duplicates, a held-out part): the relabelled indices, the cast values and
    the result, about 16 bytes a stored entry against the matrix's 12 (1.40x here, with the per-row arrays of 10
    entries a row), issue 15's bound being 1.5x. Filtering the entries of the rows not taken before the conversion
    allocated 2.0x the matrix; a CSR copy of it first, as before, 2.1x."""
    csc = sp.random(20000, 500, density=0.02, format="csr", random_state=0, dtype=np.float64).tocsc()
    size = csc.data.nbytes + csc.indices.nbytes + csc.indptr.nbytes
    for rows in (rng.permutation(csc.shape[0]), rng.permutation(csc.shape[0])[:18000]):
        tracemalloc.start()
        out = sparse_rows(csc, rows, dtype)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert out.shape == (len(rows), csc.shape[1])
        assert peak <= 1.5 * size, (len(rows), peak / size)


def test_sparse_rows_of_a_matrix_with_empty_rows(rng, monkeypatch):
    """Rows with nothing stored gather to empty rows; a matrix with nothing stored at all gives an empty result
    of the right shape (every branch of the gather)."""
    monkeypatch.setattr(_kernels, "CHUNK_VALUES", 4)
    X = sp.csr_matrix(np.array([[0.0, 2.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, -3.0], [0.0, 0.0, 0.0]]))
    rows = np.array([1, 3, 2, 1, 0, 0])
    for dtype in (torch.float32, torch.float64):
        out = sparse_rows(X, rows, dtype)
        np.testing.assert_array_equal(out.toarray(), X.toarray()[rows])
    empty = sp.csr_matrix((5, 3))
    for dtype in (torch.float32, torch.float64):
        out = sparse_rows(empty, np.array([4, 0, 2]), dtype)
        assert out.shape == (3, 3) and out.nnz == 0


def test_sparse_rows_chunks_hold_about_chunk_values(rng, monkeypatch):
    """The chunked gather goes ``CHUNK_VALUES / (stored values per row of X)`` rows at a time: 40 values a row
    and ``CHUNK_VALUES`` = 80 give two rows a chunk, so 9 rows are 5 calls of scipy's row gather (also when
    X is one row gathered 9 times); one value a row and ``CHUNK_VALUES`` = 4 give 4 rows a chunk. No rows
    give an empty matrix."""
    monkeypatch.setattr(_kernels, "CHUNK_VALUES", 80)
    X = sp.csr_matrix(rng.uniform(1, 2, size=(9, 40)))
    calls = []
    real = _kernels._sparsetools

    def csr_row_index(n, rows, *args):
        calls.append(n)
        return real.csr_row_index(n, rows, *args)

    monkeypatch.setattr(_kernels, "_sparsetools", types.SimpleNamespace(csr_row_index=csr_row_index))
    rows = rng.permutation(9)
    out = sparse_rows(X, rows, torch.float32)
    np.testing.assert_array_equal(out.toarray(), X.toarray()[rows].astype(np.float32))
    assert calls == [2, 2, 2, 2, 1]
    calls.clear()
    sparse_rows(X, rows, torch.float64)  # same dtypes: one gather straight into the result
    assert calls == [9]
    calls.clear()
    one_row = sp.csr_matrix(rng.uniform(1, 2, size=(1, 40)))  # 40 values a row, one row repeated 9 times
    out = sparse_rows(one_row, np.zeros(9, dtype=int), torch.float32)
    np.testing.assert_array_equal(out.toarray(), np.repeat(one_row.toarray(), 9, axis=0).astype(np.float32))
    assert calls == [2, 2, 2, 2, 1]
    calls.clear()
    monkeypatch.setattr(_kernels, "CHUNK_VALUES", 30)  # less than a row: one row a chunk, never more
    sparse_rows(X, rows, torch.float32)
    assert calls == [1] * 9
    calls.clear()
    monkeypatch.setattr(_kernels, "CHUNK_VALUES", 4)
    sparse_one = sp.csr_matrix(np.eye(9))  # one value a row: 4 rows a chunk
    out = sparse_rows(sparse_one, rows, torch.float32)
    np.testing.assert_array_equal(out.toarray(), np.eye(9)[rows])
    assert calls == [4, 4, 1]
    calls.clear()
    for dtype in (torch.float32, torch.float64):  # no rows at all, in both paths
        out = sparse_rows(X, np.zeros(0, dtype=int), dtype)
        assert out.shape == (0, 40) and out.nnz == 0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_sparse_tensor_is_the_dense_matrix_and_shares_its_host_copy(rng, dtype):
    """The CSR tensor densifies to ``X.toarray()`` cast to ``dtype`` (explicit zeros, duplicates summed); its
    indices are int32; on the CPU it shares memory with ``host_matrix(tensor)``, a canonical CSR matrix of the
    same values; a matrix already in that form is not copied. No warning is raised (torch's beta notice and
    invariant-check notice are off)."""
    X = _messy_csr(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = sparse_tensor(X, dtype, CPU)
    assert t.layout == torch.sparse_csr and t.dtype == dtype and t.shape == X.shape
    assert t.crow_indices().dtype == torch.int32 and t.col_indices().dtype == torch.int32
    np.testing.assert_array_equal(t.to_dense().numpy(), X.toarray().astype(numpy_dtype(dtype)))
    host = host_matrix(t)
    assert host is not None and host.has_canonical_format and host.dtype == numpy_dtype(dtype)
    assert host.data.__array_interface__["data"][0] == t.values().data_ptr()
    np.testing.assert_array_equal(host.toarray(), X.toarray().astype(numpy_dtype(dtype)))
    ready = sparse_rows(X, np.arange(X.shape[0]), dtype)
    again = sparse_tensor(ready, dtype, CPU)
    assert host_matrix(again) is ready
    assert host_matrix(torch.zeros(2, 2)) is None


def test_sparse_tensor_of_a_coo_matrix_with_int64_indices(rng):
    """COO input with int64 indices: converted, indices made int32, values as the dense matrix's."""
    X = _messy_csr(rng)
    coo = X.tocoo()
    coo.row, coo.col = coo.row.astype(np.int64), coo.col.astype(np.int64)
    t = sparse_tensor(coo, torch.float64, CPU)
    assert t.crow_indices().dtype == torch.int32
    np.testing.assert_array_equal(t.to_dense().numpy(), X.toarray())
    csr64 = canonical_csr(X)
    csr64.indices, csr64.indptr = csr64.indices.astype(np.int64), csr64.indptr.astype(np.int64)
    t = sparse_tensor(csr64, torch.float64, CPU)
    assert t.col_indices().dtype == torch.int32 and t.crow_indices().dtype == torch.int32
    np.testing.assert_array_equal(t.to_dense().numpy(), X.toarray())


def test_unchecked_sparse_invariants_silences_torchs_notices():
    """Inside the context torch's CSR construction warns nothing, and its invariant checks are restored
    afterwards."""
    before = torch.sparse.check_sparse_tensor_invariants.is_enabled()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with unchecked_sparse_invariants():
            t = torch.sparse_csr_tensor(
                torch.tensor([0, 1]), torch.tensor([0]), torch.tensor([1.0]), (1, 1), check_invariants=False
            )
            t.t().to_sparse_csr()
    assert torch.sparse.check_sparse_tensor_invariants.is_enabled() == before


@pytest.mark.parametrize("layout", ["dense", "csr-host", "csr-torch"])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_transposed_product_equals_numpy(rng, layout, n_outputs):
    """``X.T @ R`` as NumPy computes it in float64 (to 1e-12 relative), for dense X, for a CSR tensor with its
    SciPy host copy (the CPU path: SciPy's product, no transpose built) and for one without (torch's CSR
    transpose, built once and kept on the tensor)."""
    X = _messy_csr(rng)
    dense = X.toarray()
    R = rng.randn(X.shape[0], n_outputs)
    expected = dense.T @ R
    if layout == "dense":
        Xt = torch.from_numpy(dense)
    else:
        Xt = sparse_tensor(X, torch.float64, CPU)
        if layout == "csr-torch":
            Xt = torch.sparse_csr_tensor(Xt.crow_indices(), Xt.col_indices(), Xt.values(), Xt.shape)
            assert host_matrix(Xt) is None
    out = transposed_product(Xt, torch.from_numpy(R))
    assert isinstance(out, torch.Tensor) and out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    if layout == "csr-host":  # SciPy's streaming product: no transpose is built (it costs more than a fit)
        assert not hasattr(Xt, "_torchlogit_transpose")
    if layout == "csr-torch":
        kept = Xt._torchlogit_transpose
        assert kept.layout == torch.sparse_csr and kept.shape == (X.shape[1], X.shape[0])
        out = transposed_product(Xt, torch.from_numpy(2 * R))
        assert Xt._torchlogit_transpose is kept
        np.testing.assert_allclose(out.numpy(), 2 * expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_column_max_abs_equals_numpy(rng, dtype):
    """``max_i |X[i, j]|`` per column (float64 result), as ``np.abs(X).max(axis=0)`` of the dense matrix, for
    dense, CSR and uncoalesced COO tensors (duplicates summed first, as the dense matrix does); 0 for a column
    with nothing stored, zeros for no rows; None for data that is not a tensor or a layout it does not take."""
    X = _messy_csr(rng)
    X.data[X.indices == 9] = 0.0  # a column with only explicit zeros stored
    dense = X.toarray().astype(numpy_dtype(dtype))
    expected = np.abs(dense).max(axis=0).astype(np.float64)
    assert expected.max() == 9.5 and expected[9] == 0.0
    for tensor in (torch.from_numpy(dense), sparse_tensor(X, dtype, CPU)):
        out = column_max_abs(tensor)
        assert out.dtype == torch.float64
        np.testing.assert_array_equal(out.numpy(), expected)
    coo = X.tocoo()
    # Uncoalesced: each entry split into two halves (exact in binary), stored apart.
    indices = torch.from_numpy(np.c_[np.r_[coo.row, coo.row], np.r_[coo.col, coo.col]].T.astype(np.int64))
    values = torch.from_numpy(np.r_[coo.data / 2, coo.data / 2].astype(numpy_dtype(dtype)))
    uncoalesced = torch.sparse_coo_tensor(indices, values, X.shape)
    np.testing.assert_array_equal(column_max_abs(uncoalesced).numpy(), expected)
    empty = column_max_abs(torch.zeros(0, 4, dtype=dtype))
    assert empty.dtype == torch.float64
    np.testing.assert_array_equal(empty.numpy(), np.zeros(4))
    no_columns = column_max_abs(torch.zeros(3, 0, dtype=dtype))  # rows but no column: an empty answer
    assert no_columns.dtype == torch.float64 and no_columns.shape == (0,)
    assert column_max_abs(dense) is None
    assert column_max_abs(torch.from_numpy(dense).to_sparse_csc()) is None


@pytest.mark.parametrize("chunk", [1, 7, 50])
def test_column_max_abs_a_chunk_of_stored_values_at_a_time_equals_numpy(rng, chunk, monkeypatch):
    """The stored values are read a chunk at a time: with chunks shrunk so that they are many, CSR and COO tensors
    give ``np.abs(X).max(axis=0)`` exactly, as with one chunk (a chunk read from the start of the values, not from
    its own, failed with torch's RuntimeError past the first chunk; one chunk alone hid it)."""
    X = _messy_csr(rng)
    expected = np.abs(X.toarray()).max(axis=0)
    monkeypatch.setattr(_kernels, "CHUNK_VALUES", chunk)
    csr = sparse_tensor(X, torch.float64, CPU)
    assert csr.values().shape[0] > chunk  # more than one chunk (85 values: 2 chunks of 50)
    for tensor in (csr, csr.to_sparse_coo()):
        np.testing.assert_array_equal(column_max_abs(tensor).numpy(), expected)


@pytest.mark.skipif(
    tuple(int(p) for p in torch.__version__.split("+")[0].split(".")[:2]) < (2, 3),
    reason="torch 2.2 has no sparse CSR tensors on the meta device",
)
def test_sparse_tensor_and_column_maxima_stay_on_the_device_asked_for(rng):
    """On another device ("meta" stands for one: no GPU here) the CSR tensor is there, without a host copy
    (the host copy is only for CPU tensors), and ``column_max_abs`` answers there, in float64, for dense (with
    and without rows), CSR and COO tensors."""
    meta = torch.device("meta")
    X = _messy_csr(rng)
    t = sparse_tensor(X, torch.float32, meta)
    assert t.device == meta and t.layout == torch.sparse_csr and t.dtype == torch.float32
    assert host_matrix(t) is None
    for tensor in (
        torch.zeros(0, 4, device=meta),
        torch.zeros(3, 4, device=meta),
        t,
        torch.sparse_coo_tensor(torch.tensor([[0, 1], [1, 2]]), torch.tensor([1.0, 2.0]), (2, 3)).to(meta),
    ):
        out = column_max_abs(tensor)
        assert out.device == meta and out.dtype == torch.float64 and out.shape == (tensor.shape[1],)


def test_sparse_tensor_keeps_the_shape_and_unifies_mixed_index_dtypes():
    """A matrix whose last column and last row store nothing keeps its shape (it is not inferred from the
    stored entries); index arrays of mixed dtypes (int32 indices with int64 row pointers, or the reverse) both
    become int32, with the dense matrix's values."""
    dense = np.array([[1.0, 0.0, 0.0], [0.0, -2.0, 0.0], [0.0, 0.0, 0.0]])
    X = sp.csr_matrix(dense)
    t = sparse_tensor(X, torch.float64, CPU)
    assert t.shape == (3, 3)
    np.testing.assert_array_equal(t.to_dense().numpy(), dense)
    for indices, indptr in ((np.int32, np.int64), (np.int64, np.int32)):
        mixed = sp.csr_matrix(dense)
        mixed.indices, mixed.indptr = mixed.indices.astype(indices), mixed.indptr.astype(indptr)
        t = sparse_tensor(mixed, torch.float64, CPU)
        assert t.crow_indices().dtype == torch.int32 and t.col_indices().dtype == torch.int32
        np.testing.assert_array_equal(t.to_dense().numpy(), dense)


def test_column_sums_in_order_are_the_per_column_sums():
    """The GPU path of the sparse column moments (index_add_ adds with atomics there, in another order every run):
    per-column sums of a stable column sort, columns without values 0, equal to NumPy's bincount to 1e-12."""
    from torchlogit._kernels import column_sums_in_order

    rng = np.random.RandomState(0)
    columns = rng.randint(0, 40, 1000)
    columns[columns == 7] = 8  # a column without values
    values = rng.standard_normal(1000) * 10.0 ** rng.randint(-8, 8, 1000)
    sums = column_sums_in_order(torch.from_numpy(columns), torch.from_numpy(values), 41)
    expected = np.bincount(columns, weights=values, minlength=41)
    np.testing.assert_allclose(sums.numpy(), expected, rtol=1e-12, atol=1e-12 * np.abs(values).max())
    assert sums[7] == 0 and sums[40] == 0


@pytest.mark.parametrize("n_rows", [1, 4096, 4097, 8193])
def test_column_major_host_copy_holds_every_row_at_chunk_boundaries(n_rows):
    """h4's mutant (the last chunk left out): host_copy(column_major=True) gathers chunks of COLUMN_MAJOR_CHUNK_ROWS
    rows; one row, exactly one chunk, and one row past a chunk boundary all come back as X[rows] (the last, partial
    chunk included)."""
    from torchlogit._kernels import COLUMN_MAJOR_CHUNK_ROWS, host_copy

    assert COLUMN_MAJOR_CHUNK_ROWS == 4096
    rng = np.random.RandomState(0)
    X = rng.standard_normal((n_rows + 5, 3)) + 10.0  # no zeros: a row left unwritten shows
    rows = rng.permutation(len(X))[:n_rows]
    for dtype in (torch.float32, torch.float64):
        copy = host_copy(X, rows, dtype, column_major=True)
        assert copy.shape == (n_rows, 3) and copy.flags.f_contiguous
        np.testing.assert_array_equal(copy, X[rows].astype(torch.empty(0, dtype=dtype).numpy().dtype))


@pytest.mark.parametrize("n_features", [1, 4])
@pytest.mark.parametrize("K", [1, 3])
def test_linear_scores_is_x_times_w_transposed_for_any_width(K, n_features):
    """h4's mutant (the matrix-vector branch chosen by W.shape[1] == 1): linear_scores(X, W) is X @ W.T of shape (n,
    K), a matrix-vector product for one output only, whatever the number of features (several classes and one
    feature included)."""
    from torchlogit._kernels import linear_scores

    g = torch.Generator().manual_seed(0)
    X = torch.randn(7, n_features, dtype=torch.float64, generator=g)
    W = torch.randn(K, n_features, dtype=torch.float64, generator=g)
    scores = linear_scores(X, W)
    assert scores.shape == (7, K)
    torch.testing.assert_close(scores, X @ W.T, rtol=1e-12, atol=1e-12)


# (a second mutation survey: kills K8: to_device ignoring column_major)
def test_to_device_on_the_cpu_lays_the_copy_out_by_columns_when_asked():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 7))
    rows = rng.permutation(50)
    for column_major in (False, True):
        tensor = to_device(X, rows, torch.float32, torch.device("cpu"), column_major=column_major)
        np.testing.assert_array_equal(tensor.numpy(), X[rows].astype(np.float32))
        assert tensor.dtype == torch.float32
        if column_major:
            assert tensor.T.is_contiguous() and not tensor.is_contiguous()
        else:
            assert tensor.is_contiguous()


# (a second mutation survey: K17, the row weights dropped from the sparse column moments: killed today only by
# test_preconditioner.py's 60 s zipf fit; this pins it in 0.1 s)
def test_add_column_square_sums_weights_each_row():
    from torchlogit._kernels import add_column_square_sums, sparse_tensor

    rng = np.random.default_rng(1)
    X = sp.random(40, 9, density=0.4, format="csr", random_state=1, dtype=np.float64)
    tensor = sparse_tensor(X, torch.float64, torch.device("cpu"))
    weight = torch.from_numpy(rng.uniform(0.1, 3.0, 40))
    crow = tensor.crow_indices()
    start, end = 5, 33
    out = torch.zeros(9, dtype=torch.float64)
    add_column_square_sums(out, tensor, weight, start, end, int(crow[start]), int(crow[end]))
    dense = X.toarray()[start:end]
    expected = (weight.numpy()[start:end, None] * dense**2).sum(axis=0)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)


# (a second mutation survey: kills K15: the vector product picked by the row count of R, not its
# column count: a one-row block with several outputs gets a (p, 1) gradient)
def test_transposed_product_of_dense_x_for_one_row_and_one_column():
    from torchlogit._kernels import transposed_product

    g = torch.Generator().manual_seed(0)
    for n, k in [(1, 3), (1, 1), (5, 1), (5, 3)]:
        X = torch.randn(n, 4, generator=g, dtype=torch.float64)
        R = torch.randn(n, k, generator=g, dtype=torch.float64)
        out = transposed_product(X, R)
        assert out.shape == (4, k)
        torch.testing.assert_close(out, X.T @ R)
