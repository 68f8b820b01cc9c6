"""Canonical rows: sparse input, explicit zeros included, gives exactly the rows dense input gives.

An explicit zero stored in a CSR matrix is the same value as an implicit one, so two rows
that differ only in which zeros are stored are identical rows: ``canonical_rows`` must merge
them (summing their weights) as it merges the dense rows. The reference is the dense
matrix, and ``np.unique`` over the rows for the groups.
"""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from torchlogit import TorchLogisticClassifier, _rows
from torchlogit._rows import canonical_rows, projection, settle_ties


def _groups(X_dense, target, rows, weight):
    """{(row contents, target): summed weight}: what canonical rows must find, in any order."""
    return {
        (X_dense[r].tobytes(), np.asarray(target[r], dtype=np.float64).tobytes()): w
        for r, w in zip(rows, weight, strict=True)
    }


def _with_explicit_zeros(X_dense, rng, share=0.5):
    """The CSR form of ``X_dense`` with explicit zeros stored at a random share of its zero entries."""
    X = sp.csr_matrix(X_dense)
    zeros = np.argwhere(X_dense == 0)
    picked = zeros[rng.rand(len(zeros)) < share]
    coo = X.tocoo()
    rows = np.r_[coo.row, picked[:, 0]]
    cols = np.r_[coo.col, picked[:, 1]]
    data = np.r_[coo.data, np.zeros(len(picked))]
    # Unsorted indices, and each row's stored entries in a random order.
    order = rng.permutation(len(rows))
    out = sp.csr_matrix((data[order], (rows[order], cols[order])), shape=X_dense.shape)
    out.has_sorted_indices = False
    return out


@pytest.fixture(scope="module")
def duplicated():
    rng = np.random.RandomState(0)
    base = rng.choice([0.0, 0.0, 1.0, -2.5], size=(12, 6))
    picks = rng.randint(0, len(base), size=60)  # each distinct row several times
    X = base[picks]
    y = (picks % 3).astype(np.float64)  # the target is a function of the row: duplicates agree
    w = rng.randint(0, 4, size=len(X)).astype(np.float64)  # zero weights too
    return X, y, w, rng


@pytest.mark.parametrize("keys", ["hashed", "every hash alike"])
def test_sparse_with_explicit_zeros_merges_rows_like_dense(duplicated, keys, monkeypatch):
    """Both ways of ranking tied sparse rows (by their keys' hashes, or by the keys' bytes where different rows
    share a hash) merge exactly the rows dense input merges."""
    if keys == "every hash alike":
        monkeypatch.setattr(_rows, "_hash_weights", lambda n: np.zeros(n, dtype=np.uint64))
    X, y, w, rng = duplicated
    X_sparse = _with_explicit_zeros(X, rng)
    assert X_sparse.nnz > np.count_nonzero(X)  # explicit zeros are stored
    rows_d, weight_d = canonical_rows(X, y, w)
    rows_s, weight_s = canonical_rows(X_sparse, y, w)
    expected = {}
    for r in np.flatnonzero(w > 0):
        key = (X[r].tobytes(), y[r : r + 1].tobytes())
        expected[key] = expected.get(key, 0.0) + w[r]
    assert len(rows_d) == len(rows_s) == len(expected) == len(np.unique(np.c_[X, y][w > 0], axis=0))
    assert _groups(X, y, rows_d, weight_d) == expected
    assert _groups(X, y, rows_s, weight_s) == expected


def test_rows_equal_except_for_stored_zeros_are_one_row():
    X_dense = np.array([[1.0, 0.0, 2.0], [1.0, 0.0, 2.0], [1.0, 0.0, 2.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    # Row 0 stores nothing extra, row 1 an explicit zero in column 1, row 2 its entries unsorted
    # with an explicit zero; row 3 is empty, row 4 stores only a zero.
    indptr = np.array([0, 2, 5, 8, 8, 9])
    indices = np.array([0, 2, 0, 1, 2, 2, 1, 0, 0])
    data = np.array([1.0, 2.0, 1.0, 0.0, 2.0, 2.0, 0.0, 1.0, 0.0])
    X = sp.csr_matrix((data, indices, indptr), shape=(5, 3))
    np.testing.assert_array_equal(X.toarray(), X_dense)
    y = np.array([1.0, 1.0, 1.0, 0.0, 0.0])
    w = np.array([1.0, 2.0, 4.0, 1.0, 3.0])
    rows, weight = canonical_rows(X, y, w)
    assert _groups(X_dense, y, rows, weight) == {
        (X_dense[0].tobytes(), y[:1].tobytes()): 7.0,
        (X_dense[3].tobytes(), y[3:4].tobytes()): 4.0,
    }


def test_same_rows_with_other_targets_stay_apart_and_zero_weights_are_dropped():
    X = np.array([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0], [3.0, 4.0]])
    y = np.array([0.0, 1.0, 0.0, 1.0])
    w = np.array([1.0, 2.0, 3.0, 0.0])
    for data in (X, sp.csr_matrix(X)):
        rows, weight = canonical_rows(data, y, w)
        assert _groups(X, y, rows, weight) == {
            (X[0].tobytes(), y[:1].tobytes()): 4.0,
            (X[1].tobytes(), y[1:2].tobytes()): 2.0,
        }
    # multi-output targets: rows differ by one label
    Y = np.array([[0, 1], [0, 1], [1, 1], [0, 1]], dtype=np.float64)
    rows, weight = canonical_rows(np.ones((4, 2)), Y, np.ones(4))
    assert sorted(weight) == [1.0, 3.0]


def test_fit_on_sparse_with_explicit_zeros_equals_fit_on_dense(duplicated):
    X, y, w, rng = duplicated
    X_sparse = _with_explicit_zeros(X, rng)
    params = dict(C=0.5, dtype="float64", tol=1e-10, max_iter=500)
    dense = TorchLogisticClassifier(**params).fit(X, y, sample_weight=w)
    sparse = TorchLogisticClassifier(**params).fit(X_sparse, y, sample_weight=w)
    # The same canonical rows, in the same order: the same sums, to the last bit up to the
    # sparse kernel's order of summation over features.
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=0, atol=1e-9)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, rtol=0, atol=1e-9)
    assert sparse.n_iter_[0] == dense.n_iter_[0]


@pytest.mark.parametrize("sparse", [False, True])
def test_rows_with_equal_projection_but_other_targets_stay_apart(sparse):
    # Rows are grouped by a random projection of (x, target) first, then by contents. Build two
    # rows whose projections tie although their targets differ (the projection's first draws,
    # as canonical_rows makes them): contents must tell them apart, target included.
    rng = np.random.RandomState(0)
    u, v = rng.uniform(0.5, 1.5, 1), rng.uniform(0.5, 1.5, 1)
    x = next(c for c in (v[0] / u[0], np.nextafter(v[0] / u[0], 0), np.nextafter(v[0] / u[0], 2)) if c * u[0] == v[0])
    X = np.array([[0.0], [x], [0.0], [x]])  # (0, target 1) and (x, target 0): key v both
    y = np.array([1.0, 0.0, 1.0, 0.0])
    X = sp.csr_matrix(X) if sparse else X
    rows, weight = canonical_rows(X, y, np.array([1.0, 2.0, 4.0, 8.0]))
    assert sorted(weight.tolist()) == [5.0, 10.0]


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_copies_whose_keys_differ_by_rounding_are_merged(sign):
    """Copies of a row stored in other entry orders sum their projection in another order: keys a few ulps apart,
    which the rounding bound (width, eps and the largest |value|, negative ones included) must cover. Rows of 300
    entries of magnitude up to 1e6 of one sign, a tenth of them of the other sign and below 0.1 (so the largest |value|
    is the minimum for sign -1); every row three times, each copy's entries shuffled."""
    rng = np.random.RandomState(0)
    n, width = 40, 300
    values = sign * rng.uniform(1.0, 1e6, size=(n, width)) * rng.choice([1.0, -1e-7], size=(n, width), p=[0.9, 0.1])
    columns = np.tile(np.arange(width), (n, 1))
    data, indices = [], []
    for copy in range(3):
        for i in range(n):
            order = rng.permutation(width) if copy else np.arange(width)
            data.append(values[i, order])
            indices.append(columns[i, order])
    X = sp.csr_matrix(
        (np.concatenate(data), np.concatenate(indices), np.arange(0, 3 * n * width + 1, width)), shape=(3 * n, width)
    )
    assert not X.has_sorted_indices
    keys = X @ np.random.RandomState(0).uniform(0.5, 1.5, width)
    assert np.any(keys[:n] != keys[n : 2 * n]), "the shuffled copies must get other keys for this test to mean much"
    target = np.tile(np.arange(n) % 2, 3)
    rows, weight = canonical_rows(X, target, np.ones(3 * n))
    assert len(rows) == n
    np.testing.assert_array_equal(weight, np.full(n, 3.0))


def test_a_wide_sparse_rows_rounding_is_bounded_by_its_stored_entries_not_the_width(monkeypatch):
    """Text-like rows (1e6 columns, 6 word counts a row): a key sums 6 terms, so only copies tie. The width's bound
    (6.6e-3 here) tied nearly every row, and settling them copied their contents (355 MB on a 190 MB matrix). The
    first 100 rows are given twice more, their entries shuffled, one copy with an entry split into two duplicates:
    still merged, and only they are settled by contents."""
    from torchlogit import _rows

    rng = np.random.RandomState(0)
    n, copied, width, per_row = 3000, 100, 1_000_000, 6
    columns = rng.randint(0, width, size=(n, per_row))
    counts = rng.randint(1, 6, size=(n, per_row)).astype(np.float64)
    data, indices, indptr = list(counts), list(columns), list(range(0, (n + 1) * per_row, per_row))
    for i in range(copied):
        order = rng.permutation(per_row)
        data.append(counts[i, order])
        indices.append(columns[i, order])
        data.append(np.r_[counts[i, 0] / 2, counts[i]])  # the first entry stored as two duplicates summing to it
        indices.append(np.r_[columns[i, 0], columns[i]])
        data[-1][1] /= 2
        indptr += [indptr[-1] + per_row, indptr[-1] + 2 * per_row + 1]
    X = sp.csr_matrix((np.concatenate(data), np.concatenate(indices), indptr), shape=(n + 2 * copied, width))
    settled = []
    contents = _rows._row_contents
    monkeypatch.setattr(_rows, "_row_contents", lambda X, t, at: settled.append(len(at)) or contents(X, t, at))
    rows, weight = canonical_rows(X, np.zeros(n + 2 * copied), np.ones(n + 2 * copied))
    assert len(rows) == n
    assert sorted(weight.tolist()) == [1.0] * (n - copied) + [3.0] * copied
    assert sum(settled) <= 3 * copied + 20  # the copies, and a few rows whose keys come that close by chance


def test_a_sparse_matrix_with_no_stored_value_fits_the_intercept_only_model():
    """No stored values at all (every row zero): one distinct row per target value, and the fit is the
    intercept-only model LogisticRegression finds (log-odds of the class shares)."""
    from sklearn.linear_model import LogisticRegression

    X = sp.csr_matrix((12, 4))
    y = np.array([0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1])
    rows, weight = canonical_rows(X, y, np.ones(12))
    np.testing.assert_array_equal(np.sort(weight), [3.0, 9.0])
    ours = TorchLogisticClassifier(dtype="float64", tol=1e-10).fit(X, y)
    theirs = LogisticRegression(tol=1e-10).fit(X, y)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, [np.log(3.0)], atol=1e-8)
    np.testing.assert_array_equal(ours.coef_, 0.0)


def test_settling_only_the_tied_rows_is_the_full_sort_by_run_contents_and_weight():
    """settle_ties sorts the tied rows alone: the result must be the full stable sort of every row by (run of
    near-equal keys, contents, weight), then merged, on random runs of ties (rounded keys), contents and weights."""
    rng = np.random.default_rng(1)
    checked = 0
    for _ in range(200):
        n = int(rng.integers(2, 60))
        k = np.sort(np.round(rng.random(n) * rng.integers(1, 8), int(rng.integers(0, 2))))
        idx, contents, w = rng.permutation(n), rng.integers(0, 3, n), rng.choice([0.5, 1.0, 2.0], n)
        got = settle_ties(idx, k, w, 1e-12, lambda at, contents=contents: _rows.content_ranks(contents[at]))
        near_next = np.diff(k) <= 1e-12
        if not near_next.any():
            continue
        tied = np.r_[False, near_next] | np.r_[near_next, False]
        rank = np.zeros(n, dtype=np.int64)
        rank[tied] = np.unique(contents[idx[tied]], return_inverse=True)[1] + 1
        group = np.r_[0, np.cumsum(~near_next)]
        order = np.lexsort((w[idx], rank, group))  # every row, not the tied ones alone
        i, g, r, ww = idx[order], group[order], rank[order], w[idx][order]
        starts = np.flatnonzero(np.r_[True, (g[1:] != g[:-1]) | (r[1:] != r[:-1])])
        anchor = k[np.r_[0, np.flatnonzero(~near_next) + 1]]
        merged = np.diff(np.append(starts, len(i)))  # how many rows each returned row merges
        for a, b in zip(got, (i[starts], np.add.reduceat(ww, starts), anchor[g[starts]], merged), strict=True):
            np.testing.assert_array_equal(a, b)
        checked += 1
    assert checked > 100


@pytest.mark.parametrize("simd", [False, True])
@pytest.mark.parametrize(
    "keys",
    ["normal", "copies", "equal_in_float32", "beyond_float32", "signed_zeros", "short"],
)
def test_key_order_sorts_the_keys_as_argsort_does(keys, simd, monkeypatch):
    """The radix passes over the keys' float32 roundings, with runs equal in float32 ordered by the float64
    values, sort every kind of key as NumPy's argsort; mostly equal roundings and short keys take argsort, and so
    do all keys where NumPy's argsort has AVX-512 kernels (both ways, whatever this machine's CPU)."""
    from torchlogit._rows import RADIX_KEYS, key_order

    monkeypatch.setattr(_rows, "simd_argsort", lambda: simd)
    rng = np.random.RandomState(0)
    n = 5 * RADIX_KEYS if keys != "short" else RADIX_KEYS - 1
    key = rng.normal(size=n) * 3
    if keys == "copies":  # every key ten times: over an eighth in runs, NumPy's argsort
        key = np.repeat(key[: n // 10 + 1], 10)[:n]
    elif keys == "equal_in_float32":  # a tenth of the keys equal in float32, distinct in float64
        key[::10] = 1.0 + rng.randint(0, 50, size=len(key[::10])) * 1e-12
    elif keys == "beyond_float32":  # inf in float32, ordered by the float64 values
        key[::7] = rng.choice([1e300, -1e300, 5e38, -5e38, 4e38], size=len(key[::7]))
    elif keys == "signed_zeros":
        key[::5], key[1::5] = 0.0, -0.0
    order = key_order(key)
    np.testing.assert_array_equal(np.sort(order), np.arange(n))  # a permutation
    np.testing.assert_array_equal(key[order], np.sort(key))


def test_the_sort_of_the_keys_does_not_change_the_fit(monkeypatch):
    """NumPy's argsort and the radix passes order exactly equal keys differently, and those rows are settled by
    their contents: fits whose keys tie (many copies of a few rows, weights) are bitwise the same either way, on
    the torch path (float X) and the NumPy one (integer X)."""
    rng = np.random.RandomState(0)
    distinct = rng.randint(-20, 20, size=(5000, 4))
    X = np.r_[distinct, distinct[:300]][rng.permutation(5300)]  # 600 rows in runs of equal keys: radix passes
    y = (X[:, 0] + 5 * rng.normal(size=len(X)) > 0).astype(int)
    weight = rng.uniform(0.5, 2.0, size=len(X))
    for given in (X.astype(np.float64), X):
        fits = []
        for simd in (False, True):
            monkeypatch.setattr(_rows, "simd_argsort", lambda simd=simd: simd)
            model = TorchLogisticClassifier(dtype="float64").fit(given, y, sample_weight=weight)
            fits.append(np.r_[model.coef_.ravel(), model.intercept_])
        np.testing.assert_array_equal(fits[0], fits[1], err_msg=str(given.dtype))


def test_sparse_row_keys_are_equal_exactly_when_rows_and_targets_are():
    """The keys that settle tied sparse rows: equal for equal rows (explicit zeros, unsorted and duplicate entries
    included), different for rows that differ in one value, one position, one extra entry or their target."""
    dense = np.array(
        [
            [1.0, 0.0, 2.0, 0.0],
            [1.0, 0.0, 2.0, 0.0],  # row 0 again (stored below with an explicit zero and duplicate entries)
            [1.0, 0.0, 3.0, 0.0],  # another value at the same positions
            [1.0, 2.0, 0.0, 0.0],  # the same values at other positions
            [1.0, 0.0, 2.0, 5.0],  # row 0 and one more entry
            [1.0, 0.0, 2.0, 0.0],  # row 0 with another target
            [0.0, 0.0, 0.0, 0.0],
        ]
    )
    target = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0])
    coo = sp.coo_matrix(dense)
    # row 1 as 0.5 + 0.5 at column 0 (duplicates), an explicit zero at column 3, entries out of order
    rows = np.r_[coo.row[coo.row != 1], [1, 1, 1, 1]]
    cols = np.r_[coo.col[coo.row != 1], [2, 0, 3, 0]]
    data = np.r_[coo.data[coo.row != 1], [2.0, 0.5, 0.0, 0.5]]
    X = sp.csr_matrix((data, (rows, cols)), shape=dense.shape)
    X.has_sorted_indices = False
    key = _rows._row_contents(X, target, np.arange(len(dense)))
    same_key = key[:, None] == key[None, :]
    same_row = np.array(
        [[np.array_equal(np.r_[dense[i], target[i]], np.r_[dense[j], target[j]]) for j in range(7)] for i in range(7)]
    )
    np.testing.assert_array_equal(same_key, same_row)


def test_one_hot_row_keys_are_equal_exactly_when_rows_and_targets_are():
    """Rows that all store as many entries (one-hot output) are keyed without padding: keys still equal exactly
    for equal rows and targets (entries stored out of order included), and differ by one index, value or target."""
    rng = np.random.default_rng(3)
    categories = rng.integers(0, 3, size=(40, 2))
    dense = np.zeros((40, 6))
    dense[np.arange(40), categories[:, 0]] = 1.0
    dense[np.arange(40), 3 + categories[:, 1]] = rng.choice([1.0, 2.0], size=40)
    target = rng.integers(0, 2, size=40).astype(np.float64)
    coo = sp.coo_matrix(dense)
    order = rng.permutation(coo.nnz)  # each row's two entries in a random order
    X = sp.csr_matrix((coo.data[order], (coo.row[order], coo.col[order])), shape=dense.shape)
    X.has_sorted_indices = False
    key = _rows._row_contents(X, target, np.arange(40))
    same_key = key[:, None] == key[None, :]
    rows = np.c_[dense, target]
    same_row = (rows[:, None, :] == rows[None, :, :]).all(axis=2)
    assert same_row.sum() > 40  # some rows repeat
    np.testing.assert_array_equal(same_key, same_row)


@pytest.mark.parametrize("hash_weights", ["fixed", "zero"])
def test_content_ranks_are_equal_exactly_for_equal_keys_in_an_order_set_by_the_values(hash_weights, monkeypatch):
    """content_ranks (the tied rows' ranks) against np.unique's: the same classes, ranks 0..R-1, and the ranks of
    a permutation of the keys are the permuted ranks (the order depends on the keys, not their positions). With
    weights of 0 every key hashes alike: the check that keys of one hash are equal must send it to np.unique."""
    if hash_weights == "zero":
        monkeypatch.setattr(_rows, "_hash_weights", lambda n: np.zeros(n, dtype=np.uint64))
    rng = np.random.default_rng(4)
    base = rng.choice([0.0, -0.0, 1.0, 2.5, 1e300], size=(15, 4))
    values = np.ascontiguousarray(base[rng.integers(0, 15, size=300)])
    keys = values.view(np.dtype((np.void, 32))).ravel()
    ranks = _rows.content_ranks(keys)
    expected = np.unique(keys, return_inverse=True)[1].ravel()
    np.testing.assert_array_equal(ranks[:, None] == ranks[None, :], expected[:, None] == expected[None, :])
    np.testing.assert_array_equal(np.unique(ranks), np.arange(expected.max() + 1))
    perm = rng.permutation(len(keys))
    np.testing.assert_array_equal(_rows.content_ranks(keys[perm]), ranks[perm])


@pytest.mark.parametrize("hash_weights", ["fixed", "zero"])
@pytest.mark.parametrize("rows", ["repeated", "distinct"])
@pytest.mark.parametrize("layout", ["float64", "float32", "fortran"])
@pytest.mark.parametrize("positions", ["all", "most", "few"])
def test_dense_tied_ranks_are_the_ranks_of_the_row_keys(hash_weights, rows, layout, positions, monkeypatch):
    """tied_ranks reads a dense X's rows in row order and never builds their keys: its ranks must be exactly
    content_ranks' of the keys (_row_contents) in the given order, for every row or some in random order, float32
    or column-major X, rows mostly copies or mostly distinct (two ways to check them), signed zeros, copies with
    another target. With hash weights of 0 every row hashes alike: the check must send them to the byte sort."""
    if hash_weights == "zero":
        monkeypatch.setattr(_rows, "_hash_weights", lambda n: np.zeros(n, dtype=np.uint64))
    monkeypatch.setattr(_rows, "_CONTENT_BLOCK_VALUES", 70)  # blocks of 10 rows: runs of consecutive rows and not
    rng = np.random.default_rng(5)
    X, target = _tied_rows(rng, rows)
    X = {"float64": X, "float32": X.astype(np.float32), "fortran": np.asfortranarray(X)}[layout]
    at = {"all": rng.permutation(400), "most": rng.permutation(400)[:300], "few": rng.permutation(400)[:30]}[positions]
    for x in (X, np.repeat(X[:1], 400, axis=0)):  # (every row alike: only the targets tell them apart)
        expected = _rows.content_ranks(_rows._row_contents(x, target, at))
        np.testing.assert_array_equal(_rows.tied_ranks(x, target, at), expected)


@pytest.mark.parametrize("apart", ["a value", "the sign of a zero", "a target"])
@pytest.mark.parametrize("rows", ["repeated", "distinct"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dense_tied_ranks_tell_apart_rows_of_one_hash_by_every_bit(apart, rows, dtype, monkeypatch):
    """Hash weights blind to the first target and the last column: two rows that differ only there (a value,
    0.0 against -0.0, the target) share a hash, and the check (of the copies alone when rows are mostly distinct,
    of every row against its hash's first otherwise) must find them apart, bit by bit."""
    weights = _rows._hash_weights
    monkeypatch.setattr(_rows, "_hash_weights", lambda n: np.where(np.arange(n) % (n - 1) == 0, 0, weights(n)))
    rng = np.random.default_rng(6)
    X, target = _tied_rows(rng, rows)
    X[:, -1], target[:, 0] = 1.0, 0.0  # no other rows of one hash that differ
    X[100:102, :-1], target[101] = 7.0, target[100]  # a row of its own, twice
    if apart == "a value":
        X[101, -1] = 2.0
    elif apart == "the sign of a zero":
        X[100, -1], X[101, -1] = 0.0, -0.0
    else:
        target[101, 0] = 1.0
    X = X.astype(dtype)
    at = rng.permutation(400)
    ranks = _rows.tied_ranks(X, target, at)
    np.testing.assert_array_equal(ranks, _rows.content_ranks(_rows._row_contents(X, target, at)))
    assert ranks[np.flatnonzero(at == 100)] != ranks[np.flatnonzero(at == 101)]


@pytest.mark.parametrize("hash_weights", ["fixed", "zero", "blind to the last word"])
@pytest.mark.parametrize("rows", ["repeated", "distinct", "one-hot"])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("positions", ["all", "few"])
def test_sparse_tied_ranks_are_the_ranks_of_the_row_keys(hash_weights, rows, fmt, positions, monkeypatch):
    """tied_ranks builds, hashes and checks a sparse X's padded keys a block of rows at a time: its ranks must be
    exactly content_ranks' of all the keys at once (_row_contents), whatever the blocks (10 rows here), for rows of
    unequal or equal lengths, stored with duplicates, explicit zeros (-0.0 too) and out of order, copies with
    another target. Hash weights of 0 make every row collide, and weights blind to the last word make rows that
    differ only in their last value collide: the check must tell them apart by their keys' bytes, in an order that
    the rows' values alone set (not the positions' order, nor how many rows tie)."""
    if hash_weights == "zero":
        monkeypatch.setattr(_rows, "_hash_weights", lambda n: np.zeros(n, dtype=np.uint64))
    elif hash_weights == "blind to the last word":
        weights = _rows._hash_weights
        monkeypatch.setattr(_rows, "_hash_weights", lambda n: np.where(np.arange(n) == n - 1, 0, weights(n)))
    rng = np.random.default_rng(7)
    if rows == "one-hot":
        dense = np.zeros((400, 6))
        dense[np.arange(400), rng.integers(0, 3, 400)] = 1.0
        dense[np.arange(400), 3 + rng.integers(0, 3, 400)] = rng.choice([1.0, 2.0], 400)
    else:
        dense = rng.choice([0.0, 0.0, 1.0, 2.5], size=(12 if rows == "repeated" else 400, 5))
        dense = dense[rng.integers(0, len(dense), 400)] if rows == "repeated" else dense
    dense[50, :], dense[51, :] = dense[52, :], dense[52, :]  # three copies
    dense[51, -1] = dense[52, -1] + 1.0  # ... one of which differs in its last value only
    target = rng.integers(0, 2, size=(400, 1)).astype(np.float64)
    target[50:53] = 1.0
    coo = sp.coo_matrix(dense)
    order = rng.permutation(coo.nnz)
    # Each value stored as two halves (duplicates), out of order, and an explicit 0.0 and -0.0 in some rows.
    data = np.r_[coo.data[order] / 2, coo.data[order] / 2, 0.0, -0.0]
    r = np.r_[coo.row[order], coo.row[order], 3, 4]
    c = np.r_[coo.col[order], coo.col[order], 0, 1]
    X = sp.coo_matrix((data, (r, c)), shape=dense.shape).asformat(fmt)
    X.has_sorted_indices = False
    monkeypatch.setattr(_rows, "_CONTENT_BLOCK_VALUES", 10 * (1 + 2 * (6 if rows == "one-hot" else 5)))
    at = rng.permutation(400) if positions == "all" else np.r_[50, 51, 52, rng.permutation(np.arange(53, 400))[:30]]
    expected = _rows.content_ranks(_rows._row_contents(X, target, at))
    ranks = _rows.tied_ranks(X, target, at)
    if hash_weights == "fixed":
        np.testing.assert_array_equal(ranks, expected)
    else:  # rows of one hash told apart by their keys' bytes: the same classes, an order set by the values alone
        np.testing.assert_array_equal(ranks[:, None] == ranks[None, :], expected[:, None] == expected[None, :])
        perm = rng.permutation(len(at))
        np.testing.assert_array_equal(_rows.tied_ranks(X, target, at[perm]), ranks[perm])
    assert ranks[np.flatnonzero(at == 50)] == ranks[np.flatnonzero(at == 52)] != ranks[np.flatnonzero(at == 51)]
    # Every row twice: the same ranks for each copy, whatever how many rows tie (weights against repeated rows).
    twice = sp.vstack([X, X]).asformat(fmt)
    np.testing.assert_array_equal(
        _rows.tied_ranks(twice, np.r_[target, target], np.r_[at, at + 400]), np.r_[ranks, ranks]
    )


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_integer_weights_fit_sparse_rows_as_their_copies_however_many_rows_tie(dtype):
    """Pairs of sparse rows one ulp apart tie on their float64 keys, and their ranks order them. Weights of 2 and
    every row twice must fit the same coefficients, bit for bit: past 2^24 tied padded values the rows were keyed
    by their bytes and ordered otherwise, and 12k weighted rows of 400 values fitted other coefficients than their
    24k copies (by 4e-15, float64; found by a user trial; this test, with that limit lowered to 20k so that the 180
    weighted rows fell under it and their 360 copies over, failed in float64)."""
    rng = np.random.RandomState(0)
    k, d, width = 30, 300, 40
    cols = np.vstack([np.sort(rng.choice(d, width, replace=False)) for _ in range(k)])
    B = sp.csr_matrix((rng.choice([1.0, 2.0, 0.5, 3.0], k * width), cols.ravel(), np.arange(0, k * width + 1, width)))
    B2 = B.copy()
    B2.data[:: 2 * width] = np.nextafter(B2.data[:: 2 * width], 10)  # rows one ulp apart from B's
    B = sp.vstack([B, B2]).tocsr()
    y = rng.randint(0, 2, 2 * k)
    idx = np.repeat(np.arange(2 * k), 3)
    weighted = TorchLogisticClassifier(dtype=dtype).fit(B[idx], y[idx], sample_weight=np.full(len(idx), 2.0))
    copies = TorchLogisticClassifier(dtype=dtype).fit(B[np.repeat(idx, 2)], y[np.repeat(idx, 2)])
    np.testing.assert_array_equal(weighted.coef_, copies.coef_)
    np.testing.assert_array_equal(weighted.intercept_, copies.intercept_)


def test_sparse_tied_ranks_never_hold_every_key_at_once():
    """The peak memory of the sparse tied ranks (tracemalloc): 20k tied rows of 40 stored values (9.6 MB as CSR)
    ranked by padded keys of 81+ words a row, all at once with int64 slots and rows beside them, allocated 4.4x the
    matrix; a block at a time, the canonical float64 copy of the rows and a few blocks: 1.2x."""
    import tracemalloc

    rng = np.random.default_rng(0)
    n, d, per_row = 20_000, 1000, 40
    X = sp.csr_matrix(
        (rng.random(n * per_row), rng.integers(0, d, n * per_row), np.arange(0, n * per_row + 1, per_row)), (n, d)
    )
    X.sum_duplicates()
    X = X[rng.integers(0, n // 2, n)]  # rows repeat
    target = rng.integers(0, 2, n).astype(np.float64)
    at = rng.permutation(n)
    expected = _rows.content_ranks(_rows._row_contents(X, target, at))
    matrix = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    tracemalloc.start()
    try:
        ranks = _rows.tied_ranks(X, target, at)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(ranks, expected)
    assert peak < 1.5 * matrix, peak / matrix


def _tied_rows(rng, rows):
    """400 rows of 5 values and 2 targets: copies of 12 rows, or mostly distinct rows with some copies."""
    if rows == "repeated":
        X = rng.choice([0.0, -0.0, 1.0, 2.5], size=(12, 5))[rng.integers(0, 12, size=400)]
    else:
        X = rng.normal(size=(400, 5))
        X[10:20] = X[:10]
    target = rng.integers(0, 2, size=(400, 2)).astype(np.float64)
    X[30:40], target[30:40] = X[:10], target[:10] + [1.0, 0.0]  # copies but for the target
    return X, target


def test_distinct_binary_rows_get_distinct_hashes():
    """Float64 0/1 rows differ only in their words' high bits, which a product modulo 2^64 keeps high: hashed
    without the xor of the high half into the low half, 2000 distinct rows of 30 binary features share hashes
    (every fit of such data would then sort its tied rows twice: the hash, then the bytes)."""
    rng = np.random.default_rng(0)
    rows = np.unique((rng.random((2100, 30)) < 0.3).astype(np.float64), axis=0)
    assert len(rows) > 2000
    hashes = _rows._hash_words(np.ascontiguousarray(rows).view(np.uint64))
    assert len(np.unique(hashes)) == len(rows)


def test_torch_rows_order_keys_within_the_tie_bound_by_content_as_numpy_does():
    """h4's mutant (the torch bound from X's width alone). The module promises the NumPy path's tie bound (X's width
    plus the target's). Two distinct rows whose keys lie 15 ulps(3.0) apart are inside that bound (24 ulps here) but
    outside a bound of X's width alone (6): both paths must then order them by content, so the canonical rows agree."""
    from torchlogit._rows import canonical_rows, projection
    from torchlogit._tensor_data import canonical_tensor_rows

    u, v = projection(1, 1)
    a = 3.0
    b = (a * u[0] - v[0]) / u[0] + 15 * np.finfo(np.float64).eps * a / u[0]
    X, t, w = np.array([[a], [b]]), np.array([0.0, 1.0]), np.ones(2)
    rows_np, weight_np = canonical_rows(X, t, w)
    rows_t, weight_t = canonical_tensor_rows(torch.from_numpy(X), torch.from_numpy(t), torch.from_numpy(w))
    np.testing.assert_array_equal(rows_t.numpy(), rows_np)
    np.testing.assert_array_equal(weight_t.numpy(), weight_np)


def test_a_zero_weight_rows_large_values_do_not_widen_the_torch_tie_bound():
    """h4's mutant (max_abs kept from every row). The tie bound comes from the rows that count
    (._rows.canonical_rows): a zero-weight row holding 1e6 must not widen it. Two distinct rows whose keys lie 1000
    ulps(3.0) apart are then no tie, ordered by key as NumPy does (with a bound from 1e6 they would be settled by
    content, in the other order)."""
    from torchlogit._rows import canonical_rows, projection
    from torchlogit._tensor_data import canonical_tensor_rows

    u, v = projection(1, 1)
    a = 3.0
    b = (a * u[0] - v[0]) / u[0] + 1000 * np.finfo(np.float64).eps * a / u[0]
    X, t, w = np.array([[a], [b], [1e6]]), np.array([0.0, 1.0, 0.0]), np.array([1.0, 1.0, 0.0])
    rows_np, weight_np = canonical_rows(X, t, w)
    rows_t, weight_t = canonical_tensor_rows(
        torch.from_numpy(X), torch.from_numpy(t), torch.from_numpy(w), max_abs=float(np.abs(X).max())
    )
    np.testing.assert_array_equal(rows_np, [0, 1])
    np.testing.assert_array_equal(rows_t.numpy(), rows_np)
    np.testing.assert_array_equal(weight_t.numpy(), weight_np)


def test_copies_whose_keys_differ_in_the_targets_rounding_are_merged():
    """Mutant R3 (the NumPy tie bound from X's largest |value| alone, not the target's). A key is X @ u + target @ v:
    with X tiny (1e-3) and target 1, the key's rounding is that of the target's term (1 ulp of ~1), which a bound
    from X's 1e-3 does not cover. Two copies of one row, one stored as two duplicate entries (a1 + a2 == x) whose
    products sum to a key 1 ulp away: they must still merge into one row of weight 2 (sample_weight=2 == 2 copies)."""
    a1, a2 = 0.0009605348507116172, 0.0007056945151460369
    x = a1 + a2
    X = sp.csr_matrix((np.array([a1, a2, x]), np.array([0, 0, 0]), np.array([0, 2, 3])), shape=(2, 1))
    target = np.array([1.0, 1.0])
    u, v = projection(1, 1)
    key = X @ u + target[:, None] @ v
    assert key[0] != key[1], "the copies must get other keys for this test to mean much"
    rows, weight = canonical_rows(X, target, np.ones(2))
    assert len(rows) == 1
    np.testing.assert_array_equal(weight, [2.0])


@pytest.mark.parametrize("path", ["numpy", "torch"])
def test_a_uint8_label_matrix_gives_the_canonical_rows_of_its_float64_values(path, monkeypatch):
    """A multi-label fit keeps its 0/1 labels as uint8 (._multilabel: as float64 they were 8x the size) and its keys'
    label term is taken a block of rows at a time. Its canonical rows must merge exactly the rows the float64 labels
    merge (copies, rows told apart by one label, zero weights), in an order set by the values alone: the same contents
    in the same order for the rows shuffled. Blocks of 5 rows: the key is built from several."""
    from torchlogit import _tensor_data

    monkeypatch.setattr(_rows, "_KEY_BLOCK_VALUES", 40)
    monkeypatch.setattr(_tensor_data, "_CHUNK_VALUES", 40)
    rng = np.random.RandomState(3)
    base_X = rng.choice([0.0, 1.0, -2.5], size=(10, 4))
    base_Y = rng.randint(0, 2, size=(10, 8))
    base_Y[1] = base_Y[0]
    base_Y[1, 7] ^= 1  # row 1 as row 0 in X, one label apart
    base_X[1] = base_X[0]
    picks = rng.randint(0, 10, size=80)
    X, Y = base_X[picks], base_Y[picks]
    w = rng.randint(0, 3, size=len(X)).astype(np.float64)

    def rows_of(X, Y, w):
        if path == "numpy":
            return canonical_rows(X, Y, w)
        rows, weight = _tensor_data.canonical_tensor_rows(torch.from_numpy(X), torch.from_numpy(Y), torch.from_numpy(w))
        return rows.numpy(), weight.numpy()

    rows8, weight8 = rows_of(X, Y.astype(np.uint8), w)
    rows64, weight64 = rows_of(X, Y.astype(np.float64), w)
    assert _groups(X, Y, rows8, weight8) == _groups(X, Y, rows64, weight64)
    assert len(rows8) == len(_groups(X, Y, rows8, weight8))  # each group once
    order = rng.permutation(len(X))
    rows_p, weight_p = rows_of(X[order], Y[order].astype(np.uint8), w[order])
    np.testing.assert_array_equal(np.c_[X, Y][order][rows_p], np.c_[X, Y][rows8])
    np.testing.assert_array_equal(weight_p, weight8)


def test_copies_of_a_long_positive_row_summed_in_other_orders_are_merged():
    """The tie bound must cover a dot product's worst rounding, which grows with the square of the terms: 2000 positive
    entries (partial sums up to ~2000 x the largest value), the copy's entries in another storage order. h3's
    mutant: tie_bound linear in the width (4 * eps * 1.5 * width * max_abs): keys 2.1x that bound apart."""
    width = 2000
    values = np.random.RandomState(0).uniform(0.5, 1.0, width)
    columns = np.arange(width)
    p = np.random.RandomState(355).permutation(width)
    X = sp.csr_matrix((np.r_[values, values[p]], np.r_[columns, columns[p]], [0, width, 2 * width]), shape=(2, width))
    u, _ = projection(width, 1)
    keys = X @ u
    assert keys[0] != keys[1], "the copies must get other keys for this test to mean much"
    rows, weight = canonical_rows(X, np.zeros(2), np.ones(2))
    assert len(rows) == 1
    np.testing.assert_array_equal(weight, [2.0])


@pytest.mark.parametrize("ulps", [10, -10])
def test_torch_rows_take_the_targets_largest_value_into_the_tie_bound_as_numpy_does(ulps):
    """X of 1e-3 beside targets of 1: the key's rounding is the target term's, and NumPy's bound takes max(|X|,
    |target|). Two distinct rows whose keys lie 10 ulps(1) apart are inside that bound: both paths order them by
    content, so the canonical rows agree. h3's mutant: the torch bound from max_abs of X alone
    (canonical_tensor_rows, `max_abs` for `max(max_abs, tensor_max_abs(counted))`): those rows were ordered by key
    there, [0, 1] against NumPy's [1, 0]."""
    from torchlogit._tensor_data import canonical_tensor_rows

    u, _ = projection(1, 1)
    a = 1e-3
    b = a + ulps * np.finfo(np.float64).eps / u[0]
    X, t, w = np.array([[a], [b]]), np.array([1.0, 1.0]), np.ones(2)
    rows_np, weight_np = canonical_rows(X, t, w)
    rows_t, weight_t = canonical_tensor_rows(torch.from_numpy(X), torch.from_numpy(t), torch.from_numpy(w))
    np.testing.assert_array_equal(rows_t.numpy(), rows_np)
    np.testing.assert_array_equal(weight_t.numpy(), weight_np)
