"""Canonical training rows: identical rows merged, zero weights dropped, order fixed.

Floating-point sums depend on the order of their terms, so a fit on the same data in
another row order, or with ``sample_weight=k`` instead of ``k`` copies of a row, would
land on a slightly different point (float32 by ~1e-6). Training on the canonical rows
makes all of these bitwise identical. Identical rows are found by a random projection
of each row (one pass over X), so the cost is one matrix-vector product and one
argsort; only rows whose projections tie (to rounding) are compared byte by byte.
"""

import functools

import numpy as np
import scipy.sparse as sp


def canonical_rows(X, target, sample_weight, counts=False):
    """Distinct (x, target) rows with positive weight, in an order that depends only on their values.

    Parameters
    ----------
    X : ndarray or scipy sparse matrix (CSR, or canonical CSC) of shape (n_samples, n_features)
    target : ndarray of shape (n_samples,) or (n_samples, n_targets)
    sample_weight : ndarray of shape (n_samples,)

    Returns
    -------
    rows : ndarray of int64
        Index in ``X`` of one representative of each distinct row, in canonical order.
    weight : ndarray of float64
        Summed ``sample_weight`` of each distinct row.
    counts : ndarray of int64
        With ``counts=True``: how many rows (of positive weight) each distinct row merges.
    """
    target = np.asarray(target).reshape(X.shape[0], -1)
    u, v = projection(X.shape[1], target.shape[1])
    key = X @ u + target_key(target, v)
    positive = np.flatnonzero(sample_weight > 0)
    # Any sort will do: rows with (nearly) equal keys are ordered by value below.
    idx = positive[key_order(key[positive])]
    # The bound from the rows that count: a zero-weight row's large values would widen it, and so change which
    # rows are settled as ties (the order of the sums), though the row itself is dropped. No copy when all count.
    counted = (X, target) if len(positive) == X.shape[0] else (X[positive], target[positive])
    bound = tie_bound(_terms(counted[0]) + target.shape[1], max(host_max_abs(counted[0]), host_max_abs(counted[1])))
    rows, weight, _, merged = settle_ties(idx, key[idx], sample_weight, bound, lambda at: tied_ranks(X, target, at))
    return (rows, weight, merged) if counts else (rows, weight)


@functools.lru_cache(maxsize=8)
def projection(n_features, n_targets):
    """The fixed random projection of a row and its target: the order must not vary between fits.

    Read-only arrays, kept for the next fits of the same width: seeding the generator
    took 0.2 ms a call (3% of a 20k x 20 fit).
    """
    rng = np.random.RandomState(0)
    u, v = rng.uniform(0.5, 1.5, n_features), rng.uniform(0.5, 1.5, n_targets)
    u.flags.writeable = v.flags.writeable = False
    return u, v


def target_key(target, v):
    """``target @ v`` in float64, for a target of any dtype (n_rows x n_targets).

    A multi-label fit keeps its 0/1 label matrix as uint8 (``._multilabel``): as float64 it was 8x
    the size (20k x 2000 labels: 320 MB beside the training copy). Its product is taken a block of
    rows at a time, each block cast to float64 in a buffer the size of the block.
    """
    if target.dtype == np.float64 or target.shape[1] == 1:
        return np.asarray(target, dtype=np.float64) @ v
    n = target.shape[0]
    key = np.empty(n)
    step = max(1, _KEY_BLOCK_VALUES // target.shape[1])
    buffer = np.empty((min(step, n), target.shape[1]))
    for start in range(0, n, step):
        stop = min(start + step, n)
        block = buffer[: stop - start]
        block[...] = target[start:stop]
        np.dot(block, v, out=key[start:stop])
    return key


# Values of a label matrix cast to float64 at once for its key (target_key): 2 MB.
_KEY_BLOCK_VALUES = 1 << 18

# Keys from which key_order sorts by radix passes (below, NumPy's argsort is as fast: 46 against 49 us at 2000).
RADIX_KEYS = 4096


@functools.lru_cache(maxsize=1)
def simd_argsort():
    """Whether NumPy's own argsort of float64 keys is the faster: NumPy 2's x86-simd-sort kernels, on a CPU with
    AVX-512 (Skylake-X's set).

    Intel Xeon with AVX-512, NumPy 2.4, one thread, 2026-12-07: ``np.argsort`` 0.22 / 6.2 / 30 ms for 20k / 300k /
    1M float64 keys, against 0.29 / 11.8 / 71 ms for :func:`key_order`'s radix passes; on the AMD EPYC (AVX2) of
    2026-12-05 the radix passes were the faster (20k: 0.33 against 0.79 ms; 300k: 10.3 against 18 ms). The order
    is the same either way but among exactly equal keys, whose rows the tie bound sends to be settled by their
    contents: the canonical rows, and the fit, do not depend on the choice.
    """
    try:
        from numpy._core._multiarray_umath import __cpu_features__  # NumPy 2
    except ImportError:  # NumPy 1.x: the radix passes, as before (not measured against its argsort)
        return False
    return bool(__cpu_features__.get("AVX512_SKX"))


def key_order(key):
    """Indices that sort the float64 ``key`` (equal keys in any order): the same order as ``np.argsort``.

    NumPy's argsort (a comparison sort) took 0.79 ms for 20k keys and 18 ms for 300k, a tenth
    of a 20k x 20 newton-cholesky fit. Here the keys are first sorted by their float32 rounding,
    whose bits map to unsigned integers in the same order: two stable radix passes over 16-bit
    digits (NumPy's stable argsort of ``uint16`` is a counting sort). Runs of keys equal in
    float32 are then ordered by their float64 values. 20k keys: 0.33 ms, 300k: 10.3 ms (one
    thread, 2026-12-05). Keys whose float32 roundings mostly coincide (over an eighth of them
    in such runs, such as many copies of a few rows) go to NumPy's argsort. So do all keys where
    NumPy sorts them with AVX-512 (:func:`simd_argsort`).
    """
    key = np.asarray(key, dtype=np.float64)
    if len(key) < RADIX_KEYS or simd_argsort():
        return np.argsort(key)
    with np.errstate(over="ignore"):  # beyond float32's range: inf, still in order (the runs sort the rest)
        bits = key.astype(np.float32).view(np.uint32)
    # The float32 order as unsigned integers: negatives reversed (all bits flipped), positives above them.
    ordered = np.where(bits >> 31, ~bits, bits | np.uint32(1 << 31))
    order = np.argsort((ordered & 0xFFFF).astype(np.uint16), kind="stable")
    order = order[np.argsort((ordered[order] >> 16).astype(np.uint16), kind="stable")]
    sorted_bits = ordered[order]
    equal_next = np.flatnonzero(sorted_bits[1:] == sorted_bits[:-1])
    if len(equal_next) > len(key) // 8:
        return np.argsort(key)
    if len(equal_next):
        runs = np.union1d(equal_next, equal_next + 1)  # positions in a run of equal float32 keys
        rows = order[runs]
        order[runs] = rows[np.lexsort((key[rows], sorted_bits[runs]))]
    return order


def tie_bound(width, max_abs):
    """Keys closer than this are treated as ties and settled by the rows' contents.

    Copies of one row need not get bit-identical keys: BLAS sums a row in another order
    depending on where it sits in X (gemv kernels block rows), a sparse row sums its
    stored entries (explicit zeros, unsorted indices) in storage order, and torch's
    kernels sum in yet another order. This bounds the rounding of any such dot product.
    """
    return 4 * width * np.finfo(np.float64).eps * 1.5 * width * max_abs


def settle_ties(idx, k, sample_weight, bound, ranks):
    """Rows ``idx`` in key order (keys ``k``), with runs of near-equal keys ordered and merged by contents.

    ``ranks(positions)`` gives the rank of each row of X at ``positions`` among them
    (:func:`tied_ranks`), equal exactly when the rows and their targets are equal, in an
    order set by their values. Returns the rows, their merged weights and each one's
    anchor: the key of the first row of its run, by which a caller that settled only the
    tied rows puts them back among the others (runs lie more than ``bound`` apart, so
    settling the tied rows alone gives the same runs), and how many rows each returned
    row merges.
    """
    near_next = k[1:] - k[:-1] <= bound
    if not near_next.any():
        return idx, sample_weight[idx].astype(np.float64), k, np.ones(len(idx), dtype=np.int64)

    # Rows whose keys tie: rank them by their contents (identical rows share a rank), and
    # order identical rows by weight so that summing their weights is order-independent.
    tied = np.zeros(len(idx), dtype=bool)
    tied[1:] |= near_next
    tied[:-1] |= near_next
    t = np.flatnonzero(tied)
    rank = np.zeros(len(idx), dtype=np.int64)
    rank[t] = ranks(idx[t]) + 1
    group = np.r_[0, np.cumsum(~near_next)]  # runs of near-equal keys, in key order
    anchor = k[np.r_[0, np.flatnonzero(~near_next) + 1]]  # the key of each run's first row
    w = sample_weight[idx]
    # Only the tied rows move: a row that ties with no other is a run of its own, already in place,
    # and each run's rows are contiguous, so sorting the tied rows alone by (run, contents, weight)
    # is the full sort (200k sparse rows with a few ties: a 3-key sort of 200k rows avoided).
    # (run, contents) as one integer (both below the number of rows): the tied rows come in run order,
    # so its stable sort is nearly free; weights matter only where they differ.
    run_and_rank = group[t] * (int(rank.max()) + 1) + rank[t]
    wt = w[t]
    if (wt == wt[0]).all():
        within = np.argsort(run_and_rank, kind="stable")
    else:
        within = np.lexsort((wt, run_and_rank))
    order = np.arange(len(idx))
    order[t] = t[within]
    idx, group, rank, w = idx[order], group[order], rank[order], w[order]
    starts = np.flatnonzero(np.r_[True, (group[1:] != group[:-1]) | (rank[1:] != rank[:-1])])
    merged = np.diff(np.append(starts, len(idx)))
    return idx[starts], np.add.reduceat(w.astype(np.float64), starts), anchor[group[starts]], merged


def tied_ranks(X, target, positions):
    """:func:`content_ranks` of the keys (:func:`_row_contents`) of the rows of X at ``positions`` (distinct).

    The same ranks, so the same canonical order, bit for bit. A dense X whose tied rows are half
    of it or more (dummy-coded data ties almost every row) is ranked without the keys: the keys,
    in key order, gathered every tied row in that order, a random read of X, into a copy of them
    all, then hashed and checked. Here the rows are read in row order (sequential over X; a run
    of consecutive rows is a view), a block at a time: their words (the keys' words, so the same
    hashes) and their hashes, in a buffer the size of a block. Only the hashes, one word a row,
    go back to the order of ``positions`` to be ranked as :func:`content_ranks` ranks them; then a
    second pass in row order checks each row against the first row of its hash (the distinct
    rows: few, in cache, when rows repeat). The ranks of 200k x 30 dummies, 1000 distinct rows
    (Intel Xeon, 2 cores, loaded, 2026-12-07, best of 7, five runs): 57-67 ms by the keys against
    35-39 ms (float64), 28-34 ms (float32, whose check compares 4-byte values).
    """
    positions = np.asarray(positions)
    if sp.issparse(X):
        return _sparse_tied_ranks(X, target, positions)
    if X.dtype not in (np.float32, np.float64) or 2 * len(positions) < X.shape[0]:
        # Fewer tied rows than half of X: read in row order they are still scattered over it, and reading them
        # twice (hashes, check) cost more than the one gather (200k x 30, 20k tied rows: 6.0 against 4.8 ms).
        # (The check compares X's own bits: a float32 / float64 value's differ exactly where the keys' float64 bits
        # do; an integer's need not, 2**53 + 1 and 2**53 as float64.)
        return content_ranks(_row_contents(X, target, positions))
    target = np.asarray(target).reshape(X.shape[0], -1)  # read as float64 a block at a time (_dense_words)
    m, width = len(positions), target.shape[1] + X.shape[1]
    # The positions in row order, rows = positions[order], through a mask of X's rows (no sort).
    mask = np.zeros(X.shape[0], dtype=bool)
    mask[positions] = True
    rows = np.flatnonzero(mask)
    slot = np.empty(X.shape[0], dtype=np.intp)
    slot[positions] = np.arange(m)
    order = slot[rows]
    step = max(1, _CONTENT_BLOCK_VALUES // width)

    def block_rows(start):
        at = rows[start : start + step]
        return slice(at[0], at[-1] + 1) if at[-1] - at[0] == len(at) - 1 else at  # consecutive rows: a view

    hashed = np.empty(m, dtype=np.uint64)
    words, scratch = np.empty((2, min(step, m), width), dtype=np.uint64)  # one block's, reused
    for start in range(0, m, step):
        n = min(step, m - start)
        _hash_words(_dense_words(X, target, block_rows(start), words[:n]), hashed[start : start + n], scratch[:n])
    # The hashes back in the order of ``positions``, ranked as content_ranks ranks them (np.unique's merge sort
    # takes the runs that copies of a row make there: 3.6 ms for 200k hashes, against 16 ms in row order).
    in_order = np.empty(m, dtype=np.uint64)
    in_order[order] = hashed
    _, first, rank = np.unique(in_order, return_index=True, return_inverse=True)
    rank = rank.ravel()
    # Every row checked bit by bit against the first row of its hash, in X's own dtype (a float32 value's bits
    # are equal exactly when its float64 value's are).
    firsts = positions[first]
    copies = np.ones(m, dtype=bool)
    copies[first] = False
    copies = np.flatnonzero(copies)  # the rows that are not the first of their hash, in the order of positions
    if 4 * len(copies) < m:
        # Mostly distinct rows: only the copies are compared, each gathered with its first row (a read of all
        # the first rows, every row of X then, cost 20% more than the keys).
        checked = (
            (positions[copies[i : i + step]], firsts[rank[copies[i : i + step]]]) for i in range(0, len(copies), step)
        )
        same = all(
            (_bits(X[a]) == _bits(X[b])).all() and (_bits(target[a]) == _bits(target[b])).all() for a, b in checked
        )
    else:
        first_x, first_t = _bits(X[firsts]), _bits(target[firsts])
        in_rows = rank[order]
        blocks = ((block_rows(i), in_rows[i : i + step]) for i in range(0, m, step))
        same = all((_bits(X[at]) == first_x[r]).all() and (_bits(target[at]) == first_t[r]).all() for at, r in blocks)
    return rank if same else np.unique(_row_contents(X, target, positions), return_inverse=True)[1].ravel()


def _bits(a):
    """A view of the float array ``a`` as unsigned integers of its width: equal exactly where the bits are."""
    return a.view(np.dtype(f"u{a.dtype.itemsize}"))


def _dense_words(X, target, at, out):
    """The 64-bit words of :func:`_row_contents`' keys of the rows ``at`` (a slice or indices) of a dense X, in ``out``.

    The target then the row as float64, as their bits (``out``: uint64, one row per row of ``at``).
    """
    n_t = target.shape[1]
    out[:, :n_t] = np.asarray(target[at], dtype=np.float64).view(np.uint64)
    out[:, n_t:].view(np.float64)[...] = X[at]
    return out


def content_ranks(keys):
    """Ranks of ``keys`` (0, 1, ...), equal exactly where the keys are, in an order that depends on their values only.

    The keys of tied rows (:func:`_row_contents`: fixed-width bytes).
    ``np.unique`` sorts fixed-width bytes by comparing them: 45 ms for the 200k tied rows of one-hot data
    (``benchmarks/onehot.py``, a third of that fit), 0.17-0.41 s for 200k dense rows of 30 binary features (CPU
    time on a loaded 2-core machine, 2026-12-06; 45 ms here, hashes and check included). Here each
    key's 64-bit words are hashed into one integer (:func:`_hash_words`) and the integers sorted; keys of one hash
    are then checked equal to the first key of that hash, word by word. Only if two different keys share a hash
    does the byte-wise sort decide. The ranks order the keys by hash, not by bytes: either order depends on the
    rows' values alone, which is all the canonical order needs.
    """
    if keys.dtype.kind == "V" and keys.dtype.itemsize % 8 == 0 and len(keys):
        words = np.ascontiguousarray(keys).view(np.uint64).reshape(len(keys), -1)
        # A block of rows at a time: the temporaries (the mixed words, the first keys, the comparison) stay the
        # size of a block, not of the keys.
        step = max(1, _CONTENT_BLOCK_VALUES // words.shape[1])
        blocks = range(0, len(words), step)
        hashed = np.empty(len(words), dtype=np.uint64)
        for start in blocks:
            hashed[start : start + step] = _hash_words(words[start : start + step])
        _, first, rank = np.unique(hashed, return_index=True, return_inverse=True)
        rank = rank.ravel()
        if all((words[i : i + step] == words[first[rank[i : i + step]]]).all() for i in blocks):
            return rank
    return np.unique(keys, return_inverse=True)[1].ravel()


def _hash_words(words, out=None, scratch=None):
    """One 64-bit hash per row of ``words`` (uint64): each word's high half xored into its low half, then a
    weighted sum with fixed odd weights, wrapping.

    The xor first because float64 values differ in their high bits (1.0 and 2.0 in bits 52-62 only), and a
    product modulo 2^64 carries a difference only upwards: multiplying and xoring the raw words (FNV-style)
    gave 1310 hashes to 2000 distinct dense binary rows. Both steps are one pass (the sum is NumPy's integer
    matrix-vector product): 75 ms for 200k x 31 words, against 113 ms for a loop over the columns (loaded machine).
    Into ``out`` where given; with ``scratch`` (as ``words``), ``words`` is overwritten.
    """
    if scratch is None:
        mixed = words ^ (words >> np.uint64(32))  # a bijection: distinct rows stay distinct
    else:  # the caller's buffer, mixed in place: no temporaries (12 against 14.5 ms for 200k x 31 words)
        mixed = np.bitwise_xor(words, np.right_shift(words, np.uint64(32), out=scratch), out=words)
    return np.dot(mixed, _hash_weights(words.shape[1]), out=out)


@functools.lru_cache(maxsize=8)
def _hash_weights(n_words):
    """Fixed odd weights of :func:`_hash_words` (read-only, as :func:`projection`)."""
    weights = np.random.RandomState(1).randint(0, 1 << 63, size=n_words, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    weights.flags.writeable = False
    return weights


def _terms(X):
    """The most terms one row's product ``X @ u`` sums: a dense row's width, a sparse row's stored entries.

    A sparse row's key sums only its stored entries (duplicates and explicit zeros included), so its
    rounding is bounded by their number, not by the width: with the width, a text matrix of 1e6
    columns and 84 entries a row had a bound of 2.6e-3, every row tied, and the tied rows' contents
    (a float64 copy and one bytes key a row) added 355 MB to a fit of a 190 MB matrix.
    """
    if sp.issparse(X):
        if X.format == "csc":  # stored entries per row, counted without a CSR copy
            return int(_row_counts(X.indices[: X.indptr[-1]], X.shape[0]).max(initial=0))
        return int(np.diff(X.tocsr().indptr).max(initial=0))
    return X.shape[1]


def _row_counts(row_indices, n_rows, block=1 << 20):
    """How often each row index occurs, counted a block at a time: ``np.bincount`` casts its input to int64 first, a
    temporary twice the size of 32-bit indices (20M of them: 160 MB, and 125 against 80 ms)."""
    counts = np.zeros(n_rows, dtype=np.intp)
    for start in range(0, len(row_indices), block):
        counts += np.bincount(row_indices[start : start + block], minlength=n_rows)
    return counts


def host_max_abs(a):
    """Largest absolute value in a dense array or a sparse matrix (0 when empty), without a copy."""
    values = a.data if sp.issparse(a) else a
    if values.size == 0:
        return 0.0
    return max(float(values.max()), -float(values.min()))  # as floats: -min of an unsigned array wraps


# Values (8-byte words) of tied rows handled at once: a block of dense rows gathered, or of keys hashed and
# checked (256 kB: the block stays in cache, and the temporaries stay that size).
_CONTENT_BLOCK_VALUES = 1 << 15


def _canonical_rows(X, positions):
    """The rows of sparse X at ``positions`` as canonical float64 CSR: duplicates summed, no stored zeros, indices
    sorted."""
    rows = sp.csr_matrix(X[positions], dtype=np.float64)
    rows.sum_duplicates()
    rows.eliminate_zeros()  # an explicit zero is the same value as an implicit one
    rows.sort_indices()
    return rows


def _padded_words(indptr, indices, data, target, width, out):
    """The padded keys of the canonical CSR rows whose row pointers are ``indptr`` (a slice of the matrix's: offsets
    into its ``indices`` and ``data``, the values' bits as int64) and of their ``target`` rows, in ``out`` (int64,
    one row per row, ``n_t + 2 * width`` words): the target as float64 bits, then the stored indices padded with -1
    and the values' bits padded with those of +0.0 (a shorter row differs from a longer one at its first -1)."""
    m, n_t = len(indptr) - 1, target.shape[1]
    lo, hi = int(indptr[0]), int(indptr[-1])
    out[:, :n_t] = np.asarray(target, dtype=np.float64).view(np.int64)
    if hi - lo == m * width:  # every row as long (one-hot rows): no padding, no scatter
        out[:, n_t : n_t + width] = indices[lo:hi].reshape(m, width)
        out[:, n_t + width :] = data[lo:hi].reshape(m, width)
        return out
    lengths = np.diff(indptr)
    slot = np.arange(hi - lo) - np.repeat(indptr[:-1] - lo, lengths)
    row = np.repeat(np.arange(m), lengths)
    out[:, n_t : n_t + width] = -1
    out[:, n_t + width :] = 0  # the bits of +0.0
    out[row, n_t + slot] = indices[lo:hi]
    out[row, n_t + width + slot] = data[lo:hi]
    return out


def _sparse_tied_ranks(X, target, positions):
    """:func:`tied_ranks` of sparse X: ranks by a hash of each row's padded key (:func:`_padded_words`), the keys
    built and hashed a block of rows at a time, never all at once, and rows of one hash checked equal: against the
    keys of each hash's first row where the distinct rows are few, else on their stored entries (equal lengths,
    targets, indices and values' bits: equal padded keys). ``benchmarks/onehot.py``'s 200k rows (3 ten-level
    columns, 1000 distinct), in key order, quiet: 25.6 ms against 27.7-29.1 ms checking entries, and 21.8-22.4 ms
    with every key built at once (the cost of holding one block, not all of them).

    The ranks depend on the distinct rows alone, never on how many rows tie: the keys of all the tied rows at once
    gave way to one bytes key a row, sorted by their bytes, past 2^24 padded values, and those order rows of
    equal float64 keys otherwise, so that integer weights and as many copies of the rows could fit different
    coefficients (by 4e-15: 12k against 24k tied rows of 400 values). Built at once, the keys and their int64
    temporaries (each stored value's slot and row) were also the peak of a fit whose sparse rows repeat: one-hot
    data (200k rows of 30 categorical columns, 2000 distinct rows, 73 MB as CSR) added 187 MB to a fit (2.6x),
    97-99 MB now (1.4x).
    """
    m = len(positions)
    if m == 0:
        return np.zeros(0, dtype=np.intp)
    rows = _canonical_rows(X, positions)
    indptr, indices, data = rows.indptr, rows.indices, rows.data.view(np.int64)
    width = int(np.diff(indptr).max(initial=0))
    tied_target = np.asarray(np.asarray(target).reshape(X.shape[0], -1)[positions], dtype=np.float64)
    step = max(1, _CONTENT_BLOCK_VALUES // (tied_target.shape[1] + 2 * width))
    words = np.empty((min(step, m), tied_target.shape[1] + 2 * width), dtype=np.int64)  # one block's keys, reused
    hashed = np.empty(m, dtype=np.uint64)
    for start, stop, block in _block_words(indptr, indices, data, tied_target, width, step, words):
        hashed[start:stop] = _hash_words(block.view(np.uint64))
    _, first, rank = np.unique(hashed, return_index=True, return_inverse=True)
    rank = rank.ravel()
    if 8 * len(first) <= m:
        # Few distinct rows (one-hot data, repeated rows): the keys of the first row of each hash, once, and each
        # block's keys built again against them (one gather of compact keys from a small table).
        first_words = _gathered_words(rows, tied_target, first, width)
        blocks = _block_words(indptr, indices, data, tied_target, width, step, words)
        if all((block == first_words[rank[start:stop]]).all() for start, stop, block in blocks):
            return rank
    else:
        copies = np.ones(m, dtype=bool)
        copies[first] = False
        copies = np.flatnonzero(copies)  # the rows that are not the first of their hash
        if _equal_rows(indptr, indices, data, tied_target, first[rank], copies, step):
            return rank
    # Different rows share a hash (crafted data: never met by chance). The rows of those hashes, and only they,
    # are told apart by their padded keys' bytes: still an order that the distinct rows alone set.
    shared = np.zeros(len(first), dtype=bool)
    shared[rank[~_each_equal(rows, tied_target, first[rank], width)]] = True
    apart = np.flatnonzero(shared[rank])
    within = np.zeros(m, dtype=np.intp)
    keys = _gathered_words(rows, tied_target, apart, width)
    within[apart] = np.unique(keys.view(np.dtype((np.void, keys.shape[1] * 8))).ravel(), return_inverse=True)[1].ravel()
    return np.unique(rank * (int(within.max()) + 1) + within, return_inverse=True)[1].ravel()


def _block_words(indptr, indices, data, target, width, step, words):
    """The padded keys (:func:`_padded_words`) of the canonical CSR rows (``indptr``, ``indices``, ``data`` as
    int64 bits) and their ``target`` rows, ``step`` rows at a time: ``(start, stop, keys)`` for each block, the keys
    in ``words`` (reused from one block to the next)."""
    m = len(indptr) - 1
    for start in range(0, m, step):
        stop = min(start + step, m)
        yield (
            start,
            stop,
            _padded_words(indptr[start : stop + 1], indices, data, target[start:stop], width, words[: stop - start]),
        )


def _gathered_words(rows, target, at, width, out=None):
    """The padded keys (:func:`_padded_words`) of the canonical CSR ``rows`` at ``at`` (indices) and of their
    ``target`` rows, into ``out`` or a new array."""
    picked = rows[at]
    if out is None:
        out = np.empty((len(at), target.shape[1] + 2 * width), dtype=np.int64)
    return _padded_words(picked.indptr, picked.indices, picked.data.view(np.int64), target[at], width, out)


def _each_equal(rows, target, firsts, width):
    """For each canonical CSR row, whether its padded key equals that of the row ``firsts`` names (a block of rows
    at a time)."""
    m = rows.shape[0]
    W = target.shape[1] + 2 * width
    step = max(1, _CONTENT_BLOCK_VALUES // W)
    out = np.empty(m, dtype=bool)
    mine, theirs = (np.empty((min(step, m), W), dtype=np.int64) for _ in range(2))
    blocks = _block_words(rows.indptr, rows.indices, rows.data.view(np.int64), target, width, step, mine)
    for start, stop, a in blocks:
        b = _gathered_words(rows, target, firsts[start:stop], width, theirs[: stop - start])
        out[start:stop] = (a == b).all(axis=1)
    return out


def _equal_rows(indptr, indices, data, target, firsts, copies, step):
    """Whether each canonical CSR row equals the row ``firsts`` names for it (lengths, targets' bits, stored
    indices and values' bits: what makes their padded keys equal), ``step`` rows at a time. Only the ``copies``
    (the rows that are not their own first) are compared when they are few; otherwise every row, in order, so
    that one side of each comparison is read in place rather than gathered."""
    lengths = np.diff(indptr)
    every = 4 * len(copies) >= len(lengths)
    mine = slice(None) if every else copies  # (a slice: read in place)
    theirs = firsts[mine]
    target = target.view(np.int64)
    if not (lengths[mine] == lengths[theirs]).all() or not (target[mine] == target[theirs]).all():
        return False
    width = int(lengths.max(initial=0))
    if width == 0:  # no row stores anything
        return True
    starts = range(0, len(theirs), step)
    blocks = [(slice(i, i + step) if every else mine[i : i + step], theirs[i : i + step]) for i in starts]
    if indptr[-1] - indptr[0] == len(lengths) * width:  # every row as long (one-hot rows): rows of a 2-D view
        indices, data = (v[indptr[0] : indptr[-1]].reshape(-1, width) for v in (indices, data))
        return all((indices[a] == indices[b]).all() and (data[a] == data[b]).all() for a, b in blocks)
    for rows_a, rows_b in blocks:
        rows_a = np.arange(rows_a.start, min(rows_a.stop, len(lengths))) if isinstance(rows_a, slice) else rows_a
        n = lengths[rows_a]
        slot = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
        at_a, at_b = np.repeat(indptr[rows_a], n) + slot, np.repeat(indptr[rows_b], n) + slot
        if not ((indices[at_a] == indices[at_b]).all() and (data[at_a] == data[at_b]).all()):
            return False
    return True


def _row_contents(X, target, positions):
    """One sortable key per row in ``positions``, equal exactly when rows and targets are equal."""
    # Each key starts with the row's target (as float64 words where the key is words, below).
    target = np.asarray(target).reshape(X.shape[0], -1)
    n_t = target.shape[1]
    if sp.issparse(X):
        # One fixed-width key a row (_padded_words), built without a Python loop. Rows of one-hot encoded
        # categories tie by the thousands: keys built row by row took 0.6 s of a 0.85 s fit of 200k x 30
        # (OneHotEncoder output) against scikit-learn's 0.15 s. (Fits rank tied sparse rows a block at a time,
        # _sparse_tied_ranks: these keys, all at once, are what its ranks are defined by.)
        rows = _canonical_rows(X, positions)
        width = int(np.diff(rows.indptr).max(initial=0))
        words = np.empty((len(positions), n_t + 2 * width), dtype=np.int64)
        _padded_words(rows.indptr, rows.indices, rows.data.view(np.int64), target[positions], width, words)
        return words.view(np.dtype((np.void, words.shape[1] * 8))).ravel()
    # The target, then the row, as float64 words (_dense_words), written into one array a block of rows at a time:
    # a gather, a cast and a column_stack of all the tied rows made three copies of them.
    words = np.empty((len(positions), n_t + X.shape[1]), dtype=np.uint64)
    step = max(1, _CONTENT_BLOCK_VALUES // max(X.shape[1], 1))
    for start in range(0, len(positions), step):
        _dense_words(X, target, positions[start : start + step], words[start : start + step])
    return words.view(np.dtype((np.void, words.dtype.itemsize * words.shape[1]))).ravel()
