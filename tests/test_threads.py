"""Randomness belongs to the estimator: concurrent fits in threads give the results of sequential fits, bitwise,
and torch's global RNG is never read or changed by a fit."""

import threading
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import Callback

import torchlogit._threads
from torchlogit import TorchLogisticClassifier, TorchLogisticClassifierCV, TorchMultiLabelClassifier
from torchlogit._threads import threads_for

from .conftest import quiet


def _data():
    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, np.eye(3)[y].astype(int), y


CASES = {
    # hidden layer + dropout: initialisation and dropout masks from the module's generators
    "multilabel_mlp_dropout": lambda seed: (
        TorchMultiLabelClassifier(hidden_layer_sizes=(16,), dropout=0.3, max_iter=15, random_state=seed),
        "Y",
    ),
    # adam: mini-batch shuffling from the net's generator
    "logistic_adam": lambda seed: (
        TorchLogisticClassifier(solver="adam", batch_size=16, max_iter=15, random_state=seed),
        "y",
    ),
}


def _fit(make, seed):
    X, Y, y = _data()
    clf, target = make(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, Y if target == "Y" else y)
    return clf.predict_proba(X)


# warnings.catch_warnings is not thread-safe: the threads' ConvergenceWarnings are filtered here instead.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("case", list(CASES))
def test_concurrent_fits_equal_sequential_fits_bitwise(case):
    make = CASES[case]
    sequential = [_fit(make, seed) for seed in (0, 1)]
    assert not np.array_equal(sequential[0], sequential[1])  # the seed matters, so the comparison can fail
    for _ in range(2):
        results = [None, None]
        barrier = threading.Barrier(2)

        def work(i, barrier=barrier, results=results):
            barrier.wait()  # start together, so that the fits interleave
            results[i] = _fit(make, i)

        threads = [threading.Thread(target=work, args=(i,)) for i in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for got, expected in zip(results, sequential, strict=True):
            np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("case", list(CASES))
def test_a_fit_neither_reads_nor_changes_the_global_rng(case):
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = _fit(CASES[case], 0)
    assert torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(456)  # another global state: the same model
    np.testing.assert_array_equal(_fit(CASES[case], 0), first)


def test_partial_fit_with_dropout_leaves_the_global_rng_alone():
    X, Y, _ = _data()
    state = torch.get_rng_state()
    clf = TorchMultiLabelClassifier(hidden_layer_sizes=(8,), dropout=0.5, random_state=0)
    for _ in range(3):
        clf.partial_fit(X, Y, classes=np.arange(3))
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_dropout_draws_from_the_module_generator_not_the_global_cuda_rng():
    X, Y, _ = _data()
    state = torch.cuda.get_rng_state()
    fits = []
    for _ in range(2):
        clf = TorchMultiLabelClassifier(
            hidden_layer_sizes=(16,), dropout=0.3, max_iter=5, device="cuda", random_state=0
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fits.append(clf.fit(X, Y).predict_proba(X))
    np.testing.assert_array_equal(fits[0], fits[1])
    assert torch.equal(torch.cuda.get_rng_state(), state)


class _ThreadCount(Callback):
    """Records torch's intra-op thread count in the history at every epoch of a fit."""

    def __init__(self, raise_at=None):
        self.raise_at = raise_at

    def on_epoch_end(self, net, **kwargs):
        net.history.record("threads", torch.get_num_threads())
        if self.raise_at is not None and len(net.history) == self.raise_at:
            raise RuntimeError("stop here")


def _counts(model):
    return {row["threads"] for row in model.history_}


@pytest.fixture
def two_threads(torch_threads):
    torch_threads(2)


def test_a_small_fit_runs_on_one_thread_and_gives_the_count_back(two_threads, monkeypatch):
    """Under SMALL_VALUES values (iris: 600) fit and partial_fit train on one intra-op thread (torch's pool costs more
    than it saves there, and on a busy machine much more); the count is the user's again afterwards, also after a
    fit that failed; a larger fit keeps the user's count."""
    X, _, y = _data()
    assert _counts(TorchLogisticClassifier(callbacks=[_ThreadCount()]).fit(X, y)) == {1}
    assert torch.get_num_threads() == 2
    adam = TorchLogisticClassifier(solver="adam", callbacks=[_ThreadCount()])
    assert _counts(adam.partial_fit(X, y, classes=[0, 1, 2])) == {1}
    assert torch.get_num_threads() == 2
    with pytest.raises(RuntimeError, match="stop here"):
        TorchLogisticClassifier(callbacks=[_ThreadCount(raise_at=2)]).fit(X, y)
    assert torch.get_num_threads() == 2
    monkeypatch.setattr(torchlogit._threads, "SMALL_VALUES", X.size)
    assert _counts(TorchLogisticClassifier(callbacks=[_ThreadCount()]).fit(X, y)) == {2}


def test_small_fits_in_several_threads_each_give_their_threads_count_back(two_threads):
    """torch's count is per thread: each small fit gives its own thread's count back when it ends, while a fit still
    running elsewhere keeps one thread; a thread that first used torch during another thread's small fit (and so took
    1 as its default) gets the count the first fit found, not 1."""
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def first():
        with threads_for(10):
            seen["first, inside"] = torch.get_num_threads()
            first_in.set()
            second_in.wait(10)
        seen["first, after"] = torch.get_num_threads()
        first_out.set()

    def second():
        first_in.wait(10)
        with threads_for(10):  # this thread's first use of torch: it takes the 1 the first fit set
            second_in.set()
            first_out.wait(10)
            seen["second, inside, first done"] = torch.get_num_threads()
        seen["second, after"] = torch.get_num_threads()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert seen == {"first, inside": 1, "first, after": 2, "second, inside, first done": 1, "second, after": 2}
    assert torch.get_num_threads() == 2
    fresh = []
    thread = threading.Thread(target=lambda: fresh.append(torch.get_num_threads()))
    thread.start()
    thread.join(10)
    assert fresh == [2]  # the default new threads take


def test_a_small_cross_validated_fit_runs_on_one_thread(two_threads):
    """TorchLogisticClassifierCV follows the same rule (seen from its scorer, called inside the fit)."""
    X, _, y = _data()
    seen = []

    def scorer(estimator, X_test, y_test):
        seen.append(torch.get_num_threads())
        return 0.0

    TorchLogisticClassifierCV(Cs=2, cv=2, scoring=scorer).fit(X, y)
    assert set(seen) == {1} and torch.get_num_threads() == 2


class _BlasSeen(Callback):
    """Records, at every epoch, whether the iterations' vector products go to NumPy's BLAS (and torch's count)."""

    def on_epoch_end(self, net, **kwargs):
        net.history.record("numpy_blas", torchlogit._threads.in_numpy_blas())
        net.history.record("threads", torch.get_num_threads())


@pytest.fixture
def numpy_blas_faster(monkeypatch):
    """A machine where NumPy's BLAS multiplies by vectors faster than torch's (an AMD CPU under torch's MKL)."""
    monkeypatch.setattr(torchlogit._threads, "numpy_blas_is_faster", lambda: True)


def _binary_data(n=400, d=8, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, d)) @ rng.standard_normal((d, d))  # correlated columns
    y = (X @ rng.standard_normal(d) + rng.logistic(size=n) > 0).astype(int)
    return X, y


def test_vector_products_in_numpy_blas_equal_torchs(numpy_blas_faster):
    """Inside blas_threads a dense CPU tensor's X @ w and r @ X come from NumPy, in the tensor's dtype and shape, equal
    to torch's products to rounding; outside it (a user's own torch.set_num_threads(1) included) they stay in torch."""
    from torchlogit._kernels import (
        blas_vector_products,
        matrix_vector,
        transposed_product,
        unchecked_sparse_invariants,
        vector_product,
    )
    from torchlogit._threads import SMALL_VALUES, blas_threads

    rng = np.random.RandomState(0)
    for dtype, tol in ((torch.float64, 1e-12), (torch.float32, 1e-5)):
        X = torch.from_numpy(rng.standard_normal((300, 7))).to(dtype)
        w, r = torch.randn(7, dtype=dtype), torch.randn(300, dtype=dtype)
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            assert not blas_vector_products(X)
        finally:
            torch.set_num_threads(before)
        with blas_threads(SMALL_VALUES, True):
            assert blas_vector_products(X) and torch.get_num_threads() == 1
            with unchecked_sparse_invariants():
                assert not blas_vector_products(X.to_sparse_csr())
            products = matrix_vector(X, w), vector_product(r, X), transposed_product(X, r.unsqueeze(1))
        assert not blas_vector_products(X) and torch.get_num_threads() == before
        for got, want in zip(products, (X @ w, r @ X, (r @ X).unsqueeze(1)), strict=True):
            assert got.dtype == dtype and got.shape == want.shape
            torch.testing.assert_close(got, want, rtol=tol, atol=tol)
    with blas_threads(SMALL_VALUES - 1, True), blas_threads(SMALL_VALUES, False):
        assert not torchlogit._threads.in_numpy_blas()


def test_a_large_dense_binary_fit_multiplies_in_numpy_blas_on_one_torch_thread(
    two_threads, numpy_blas_faster, monkeypatch
):
    """From SMALL_VALUES values (lowered here), a dense binary L-BFGS fit on the CPU runs its iterations on one torch
    thread with its vector products in NumPy's BLAS, and reaches scikit-learn's optimum (float64: coefficients to
    1e-5); the count is the user's again afterwards, also after a failed fit. Multinomial, sparse, newton-cholesky and
    mini-batch fits keep torch's products and count."""
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    X, y = _binary_data()
    monkeypatch.setattr(torchlogit._threads, "SMALL_VALUES", X.size)
    model = TorchLogisticClassifier(dtype="float64", tol=1e-10, callbacks=[_BlasSeen()]).fit(X, y)
    assert {row["numpy_blas"] for row in model.history_} == {True}
    assert {row["threads"] for row in model.history_} == {1}
    assert torch.get_num_threads() == 2 and not torchlogit._threads.in_numpy_blas()
    reference = LogisticRegression(tol=1e-10, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, rtol=1e-5, atol=1e-7)
    # float32 stalls continue in float64: both phases in NumPy's BLAS
    continued = []
    continue_in_float64 = TorchLogisticClassifier._continue_in_float64

    def spy(self, *args, **kwargs):
        continued.append(torchlogit._threads.in_numpy_blas())
        return continue_in_float64(self, *args, **kwargs)

    monkeypatch.setattr(TorchLogisticClassifier, "_continue_in_float64", spy)
    model32 = TorchLogisticClassifier(tol=1e-9, callbacks=[_BlasSeen()]).fit(X.astype(np.float32), y)
    assert continued == [True]
    assert {row["numpy_blas"] for row in model32.history_} == {True}

    class _Fail(_BlasSeen):
        def on_epoch_end(self, net, **kwargs):
            raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        TorchLogisticClassifier(callbacks=[_Fail()]).fit(X, y)
    assert torch.get_num_threads() == 2 and not torchlogit._threads.in_numpy_blas()

    multinomial_y = np.digitize(X[:, 0], np.quantile(X[:, 0], [1 / 3, 2 / 3]))
    others = [
        (TorchLogisticClassifier(callbacks=[_BlasSeen()]), X, multinomial_y),
        (TorchLogisticClassifier(callbacks=[_BlasSeen()]), sp.csr_matrix(X), y),
        (TorchLogisticClassifier(solver="newton-cholesky", callbacks=[_BlasSeen()]), X, y),
        (TorchLogisticClassifier(solver="adam", batch_size=len(X), max_iter=3, callbacks=[_BlasSeen()]), X, y),
    ]
    for other, X_, y_ in others:
        if sp.issparse(X_):
            monkeypatch.setattr(torchlogit._threads, "SMALL_VALUES", X_.nnz)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            other.fit(X_, y_)
        assert {row["numpy_blas"] for row in other.history_} == {False}, other
        assert {row["threads"] for row in other.history_} == {2}, other


def test_where_numpy_blas_is_not_faster_a_large_dense_binary_fit_stays_in_torch(two_threads, monkeypatch):
    """On a CPU where torch's products are as fast as NumPy's (an Intel CPU under torch's MKL), a large dense binary
    fit keeps torch's products, torch's thread count and a row-major copy (two pools spinning on the same cores cost
    more than they save), and reaches scikit-learn's optimum (float64, coefficients to 1e-5) and the coefficients of
    the fit routed to NumPy's BLAS (to 1e-9)."""
    from sklearn.linear_model import LogisticRegression

    X, y = _binary_data(n=600)
    monkeypatch.setattr(torchlogit._threads, "SMALL_VALUES", X.size)
    seen = _copy_layouts(monkeypatch)
    monkeypatch.setattr(torchlogit._threads, "numpy_blas_is_faster", lambda: False)
    in_torch = TorchLogisticClassifier(dtype="float64", tol=1e-10, callbacks=[_BlasSeen()]).fit(X, y)
    assert {row["numpy_blas"] for row in in_torch.history_} == {False}
    assert {row["threads"] for row in in_torch.history_} == {2}
    assert seen == [(torch.float64, "C")]
    reference = LogisticRegression(tol=1e-10, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(in_torch.coef_, reference.coef_, rtol=1e-5, atol=1e-7)
    monkeypatch.setattr(torchlogit._threads, "numpy_blas_is_faster", lambda: True)
    routed = TorchLogisticClassifier(dtype="float64", tol=1e-10, callbacks=[_BlasSeen()]).fit(X, y)
    assert {row["numpy_blas"] for row in routed.history_} == {True} and seen[-1] == (torch.float64, "F")
    np.testing.assert_allclose(in_torch.coef_, routed.coef_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    ("mkl", "vendor", "faster"),
    [(True, "AuthenticAMD", True), (True, "GenuineIntel", False), (True, "", True), (False, "AuthenticAMD", False)],
)
def test_numpy_blas_is_faster_only_under_torchs_mkl_on_a_cpu_not_known_to_be_intels(mkl, vendor, faster, monkeypatch):
    """MKL chooses its kernels by vendor: NumPy's OpenBLAS was 2-3x faster on an AMD EPYC, even on an Intel Xeon.
    A vendor not known keeps NumPy's BLAS (the rule before vendors were told apart); torch without MKL keeps torch."""
    from torchlogit._threads import numpy_blas_is_faster

    monkeypatch.setattr(torch.backends.mkl, "is_available", lambda: mkl)
    monkeypatch.setattr(torchlogit._threads, "cpu_vendor", lambda: vendor)
    numpy_blas_is_faster.cache_clear()
    try:
        assert numpy_blas_is_faster() is faster
    finally:
        numpy_blas_is_faster.cache_clear()


def test_the_cpu_vendor_is_read_from_proc_cpuinfo_or_the_platform(monkeypatch, tmp_path):
    """Linux's /proc/cpuinfo names the vendor; elsewhere platform.processor() (Windows names it there), else ""."""
    import builtins

    from torchlogit._threads import cpu_vendor

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n")
    real_open = builtins.open

    def fake_open(path, *args, **kwargs):
        if path == "/proc/cpuinfo":
            if not cpuinfo.exists():
                raise FileNotFoundError(path)
            return real_open(cpuinfo, *args, **kwargs)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    cpu_vendor.cache_clear()
    try:
        assert cpu_vendor() == "AuthenticAMD"
        cpuinfo.unlink()
        cpu_vendor.cache_clear()
        monkeypatch.setattr(
            torchlogit._threads.platform, "processor", lambda: "Intel64 Family 6 Model 85, GenuineIntel"
        )
        assert "GenuineIntel" in cpu_vendor()
        cpu_vendor.cache_clear()
        monkeypatch.setattr(torchlogit._threads.platform, "processor", lambda: "")
        assert cpu_vendor() == ""
    finally:
        cpu_vendor.cache_clear()


def _copy_layouts(monkeypatch):
    """Records ``(dtype, layout)`` of every training copy made: "C", "F" (column-major) or "other"."""
    from torchlogit._training_set import TrainingSet

    original, seen = TrainingSet.batch, []

    def spy(self, *args, **kwargs):
        batch = original(self, *args, **kwargs)
        X = batch.X
        layout = "C" if X.is_contiguous() else "F" if X.T.is_contiguous() else "other"
        seen.append((X.dtype, layout))
        return batch

    monkeypatch.setattr(TrainingSet, "batch", spy)
    return seen


def test_a_fit_routed_to_numpy_blas_trains_on_a_column_major_copy_with_every_guarantee(numpy_blas_faster, monkeypatch):
    """The fits whose products go to NumPy's BLAS (dense, one output, L-BFGS, from SMALL_VALUES values) train on
    a column-major copy, the float64 continuation's copy included; every other fit on a row-major one. The copy
    holds X's canonical rows exactly; the fit reaches scikit-learn's optimum (float64, coefficients to 1e-5); it is
    bitwise the same for rows in another order and for a CPU tensor of the same values."""
    from sklearn.linear_model import LogisticRegression

    X, y = _binary_data(n=600)
    seen = _copy_layouts(monkeypatch)
    routed = TorchLogisticClassifier(dtype="float64", tol=1e-10)
    monkeypatch.setattr(torchlogit._threads, "SMALL_VALUES", X.size)
    routed.fit(X, y)
    assert seen == [(torch.float64, "F")]
    reference = LogisticRegression(tol=1e-10, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(routed.coef_, reference.coef_, rtol=1e-5, atol=1e-7)
    order = np.random.RandomState(1).permutation(len(y))
    shuffled = TorchLogisticClassifier(dtype="float64", tol=1e-10).fit(X[order], y[order])
    from_tensor = TorchLogisticClassifier(dtype="float64", tol=1e-10).fit(torch.from_numpy(X), torch.from_numpy(y))
    for other in (shuffled, from_tensor):
        np.testing.assert_array_equal(other.coef_, routed.coef_)
        np.testing.assert_array_equal(other.intercept_, routed.intercept_)
    # float32 that continues in float64: both copies by columns (tol 1e-9 is out of float32's reach)
    seen.clear()
    TorchLogisticClassifier(tol=1e-9).fit(X.astype(np.float32), y)
    assert seen == [(torch.float32, "F"), (torch.float64, "F")]
    # below the threshold, or not routed (multinomial, newton-cholesky): rows
    seen.clear()
    multinomial_y = np.digitize(X[:, 0], np.quantile(X[:, 0], [1 / 3, 2 / 3]))
    TorchLogisticClassifier(dtype="float64").fit(X, multinomial_y)
    TorchLogisticClassifier(dtype="float64", solver="newton-cholesky").fit(X, y)
    monkeypatch.setattr(torchlogit._threads, "SMALL_VALUES", X.size + 1)
    TorchLogisticClassifier(dtype="float64").fit(X, y)
    assert [layout for _, layout in seen] == ["C", "C", "C"]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_column_major_copies_hold_the_rows_and_their_largest_value(dtype, threads, torch_threads, monkeypatch):
    """host_copy and gathered_rows by columns: X[rows] cast to dtype, Fortran-ordered, over several chunks, the
    chunks gathered by a pool of torch's thread count (none on one thread); the largest absolute value of such a
    copy is read right."""
    from concurrent.futures import ThreadPoolExecutor

    import torchlogit._kernels
    from torchlogit._kernels import COLUMN_MAJOR_CHUNK_ROWS, host_copy, tensor_max_abs
    from torchlogit._tensor_data import gathered_rows

    pools = []
    monkeypatch.setattr(
        torchlogit._kernels, "ThreadPoolExecutor", lambda workers: pools.append(workers) or ThreadPoolExecutor(workers)
    )
    torch_threads(threads)
    rng = np.random.RandomState(0)
    X = rng.standard_normal((2 * COLUMN_MAJOR_CHUNK_ROWS + 7, 5))
    X[3, 2] = -9.5
    rows = rng.permutation(len(X))[:-3]
    expected = X[rows].astype(torch.empty(0, dtype=dtype).numpy().dtype)
    copy = host_copy(X, rows, dtype, column_major=True)
    assert copy.flags.f_contiguous and copy.dtype == expected.dtype
    np.testing.assert_array_equal(copy, expected)
    tensor = gathered_rows(torch.from_numpy(X), torch.from_numpy(rows), dtype, "cpu", column_major=True)
    assert tensor.T.is_contiguous() and tensor.dtype == dtype
    np.testing.assert_array_equal(tensor.numpy(), expected)
    assert tensor_max_abs(tensor) == 9.5
    assert pools == ([] if threads == 1 else [2, 2])


def test_a_cross_validated_batch_gives_its_large_products_the_users_threads(two_threads, monkeypatch):
    """The rule measures the data, but a batch of problems multiplies them by many parameter vectors at once: inside the
    one-thread block, the products of evaluations that reach SMALL_VALUES values run on the count the block found
    (the element-wise passes, the scorer, the bookkeeping and small batches stay on one thread: with the element-wise
    passes pooled, digits' fit took 2.8 s against 0.3 s beside one CPU-bound process per core), and the count is
    given back after each."""
    import contextlib

    import torchlogit._batched
    from torchlogit._batched import BatchedLogistic
    from torchlogit._threads import pooled_products

    X, _, y = _data()
    seen = {"evaluate": [], "products": [], "scorer": []}
    evaluate = BatchedLogistic.evaluate

    def spy(self, x, *args):
        seen["evaluate"].append(torch.get_num_threads())
        return evaluate(self, x, *args)

    @contextlib.contextmanager
    def spied_pool(n_values):  # the count a product runs on, read inside the block _logits / _gradient enter
        with pooled_products(n_values):
            seen["products"].append(torch.get_num_threads())
            yield

    def scorer(estimator, X_test, y_test):
        seen["scorer"].append(torch.get_num_threads())
        return 0.0

    monkeypatch.setattr(BatchedLogistic, "evaluate", spy)
    monkeypatch.setattr(torchlogit._batched, "pooled_products", spied_pool)
    monkeypatch.setattr(torchlogit._threads, "SMALL_VALUES", X.size + 1)  # the data are small, any batch is not
    TorchLogisticClassifierCV(Cs=2, cv=2, scoring=scorer).fit(X, y)
    assert set(seen["products"]) == {2} and set(seen["evaluate"]) == {1} and set(seen["scorer"]) == {1}
    assert torch.get_num_threads() == 2
    seen = {"evaluate": [], "products": [], "scorer": []}
    monkeypatch.setattr(torchlogit._threads, "SMALL_VALUES", 1 << 40)  # no batch is large: one thread throughout
    TorchLogisticClassifierCV(Cs=2, cv=2, scoring=scorer).fit(X, y)
    assert set(seen["products"]) == {1} and set(seen["evaluate"]) == {1} and set(seen["scorer"]) == {1}
    assert torch.get_num_threads() == 2
    with pooled_products(1 << 41):  # outside a one-thread block: nothing to give back
        assert torch.get_num_threads() == 2
    with threads_for(10):
        with pooled_products(1 << 41):
            assert torch.get_num_threads() == 2
        assert torch.get_num_threads() == 1


def _parallel_work_in_child(queue):
    # The first parallel region of a forked child: it hangs when the parent's GNU OpenMP pool was used.
    queue.put((torch.get_num_threads(), float((torch.ones(1 << 22) * 2).sum())))


@pytest.mark.skipif(not hasattr(__import__("os"), "register_at_fork"), reason="no fork on this platform")
def test_a_process_forked_after_a_fit_runs_torch_on_one_thread():
    """GNU OpenMP's pool does not survive fork: a grid search with joblib's "multiprocessing" backend after a
    fit in the parent hung for good (its workers waiting at an OpenMP barrier). Forked after a fit, a child
    runs torch on one thread, as torch's DataLoader workers do; the parent keeps its count."""
    X, y = load_iris(return_X_y=True)
    before = torch.get_num_threads()
    TorchLogisticClassifier().fit(X, y)
    float((torch.ones(1 << 22) * 2).sum())  # the parent's pool at work (a large fit's products would be)
    child, queue = _fork(_parallel_work_in_child)
    assert _result_of(child, queue) == (1, float(2 << 22))
    assert torch.get_num_threads() == before


def _fork(target):
    """A forked child running ``target(queue)``, started, and its queue."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=target, args=(queue,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Python >= 3.12 on fork with threads running
        child.start()
    return child, queue


def _result_of(child, queue):
    """What the child put on its queue; a test failure (not a hang) if its first parallel region hung."""
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung in its first parallel region")
    assert child.exitcode == 0
    return queue.get(timeout=5)


_PAUSE = {}  # the events of _Pause (fit deep-copies its callbacks, and an Event does not copy)


class _Pause(Callback):
    """Holds a fit at its first epoch's end until released (the fit is then inside its one-thread block)."""

    def on_epoch_end(self, net, **kwargs):
        _PAUSE["reached"].set()
        _PAUSE["release"].wait(60)


def _small_fit_then_parallel_work_in_child(queue):
    X, y = load_iris(return_X_y=True)
    TorchLogisticClassifier().fit(X, y)
    _parallel_work_in_child(queue)


@pytest.mark.skipif(not hasattr(__import__("os"), "register_at_fork"), reason="no fork on this platform")
def test_a_process_forked_while_another_thread_fits_stays_on_one_thread():
    """Forked while another thread of the parent was inside a small fit, the child inherited that fit's running
    count: its own first small fit took the parent's starting count for its own, gave it back in place of the
    fork's 1, and its next parallel region hung."""
    X, y = load_iris(return_X_y=True)
    TorchLogisticClassifier().fit(X, y)
    float((torch.ones(1 << 22) * 2).sum())  # the parent's pool at work
    reached = _PAUSE["reached"] = threading.Event()
    release = _PAUSE["release"] = threading.Event()
    fitting = threading.Thread(target=lambda: TorchLogisticClassifier(callbacks=[_Pause()]).fit(X, y))
    fitting.start()
    try:
        assert reached.wait(60)
        child, queue = _fork(_small_fit_then_parallel_work_in_child)
    finally:
        release.set()
        fitting.join()
    assert _result_of(child, queue) == (1, float(2 << 22))
    assert torchlogit._threads._running == 0


def test_a_failed_small_fit_does_not_leave_its_count_behind(two_threads):
    """A small fit that raised is no longer running: afterwards the thread count the user sets (here 1) is what a
    small fit gives back, not the count another fit once found (the running count stayed raised)."""
    X, _, y = _data()
    with pytest.raises(RuntimeError, match="stop here"):
        TorchLogisticClassifier(callbacks=[_ThreadCount(raise_at=2)]).fit(X, y)
    assert torchlogit._threads._running == 0
    torch.set_num_threads(1)
    TorchLogisticClassifier().fit(X, y)
    assert torch.get_num_threads() == 1


def _mkl():
    """MKL's thread count for the calling thread, as torch's build reports it (None without MKL)."""
    lines = [line for line in torch.__config__.parallel_info().splitlines() if "mkl_get_max_threads()" in line]
    return int(lines[0].rsplit(":", 1)[1]) if lines else None


class _MklCount(Callback):
    """Records MKL's thread count in the history at every epoch of a fit."""

    def on_epoch_end(self, net, **kwargs):
        net.history.record("mkl", _mkl())


@pytest.mark.skipif(_mkl() is None, reason="torch built without MKL")
def test_a_small_fit_inside_an_openmp_limit_multiplies_on_one_mkl_thread_and_leaves_the_limit(two_threads):
    """``threadpool_limits(1)`` lowers OpenMP's count but not that of the MKL linked into torch, which
    ``torch.set_num_threads(2)`` (here the fixture; any earlier small fit's exit too) had set: a small fit inside
    the limit read one thread, skipped its own setting and multiplied on every core (10x slower on a busy machine,
    other coefficients). It now multiplies on one MKL thread, and leaves the limit as it found it."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    X, _, y = _data()
    outside = TorchLogisticClassifier(dtype="float64").fit(X, y)
    assert _mkl() == 2
    with threadpoolctl.threadpool_limits(1):
        assert (torch.get_num_threads(), _mkl()) == (1, 2)
        inside = TorchLogisticClassifier(dtype="float64", callbacks=[_MklCount()]).fit(X, y)
        assert {row["mkl"] for row in inside.history_} == {1}
        assert (torch.get_num_threads(), _mkl()) == (1, 2)
    assert (torch.get_num_threads(), _mkl()) == (2, 2)
    np.testing.assert_array_equal(inside.coef_, outside.coef_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_mini_batch_epochs_of_large_data_run_on_one_thread_when_their_batches_are_small(two_threads, monkeypatch):
    """The rule judges a mini-batch solver by one step's batch: data above SMALL_VALUES trained in batches far
    below it ran every step on torch's pool (adam on 90k x 50 in batches of 200: up to 45x slower steps when the
    other core was busy). fit and partial_fit; a batch as large as the data keeps the user's count."""
    X, Y, y = _data()
    monkeypatch.setattr(torchlogit._threads, "SMALL_VALUES", X.size)  # iris is "large" now
    small = dict(solver="adam", batch_size=16, max_iter=3, callbacks=[_ThreadCount()])
    assert _counts(TorchLogisticClassifier(**small).fit(X, y)) == {1}
    assert torch.get_num_threads() == 2
    assert _counts(TorchLogisticClassifier(**small).partial_fit(X, y, classes=[0, 1, 2])) == {1}
    assert _counts(
        TorchMultiLabelClassifier((4,), solver="adam", batch_size=16, max_iter=3, callbacks=[_ThreadCount()]).fit(X, Y)
    ) == {1}
    assert torch.get_num_threads() == 2
    whole = dict(small, batch_size=len(X))
    assert _counts(TorchLogisticClassifier(**whole).fit(X, y)) == {2}
    assert _counts(TorchLogisticClassifier(**whole).partial_fit(X, y, classes=[0, 1, 2])) == {2}


def test_a_block_nested_in_this_threads_one_thread_block_keeps_it_on_one_thread(
    two_threads, numpy_blas_faster, monkeypatch
):
    """A one-thread block inside another on the same thread (compare's one-thread timing around a fit whose products
    go to NumPy's BLAS) kept the outer 1 only until it ended: it took the pool's count for its own and gave it back,
    so the outer block's remaining work ran on the pool. The outer block's 1 holds to its end now, and the count is
    the user's after it."""
    with threads_for(0):
        with threads_for(0):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2
    X, y = _binary_data()
    monkeypatch.setattr(torchlogit._threads, "SMALL_VALUES", X.size)  # a large fit: its own block keeps the pool
    with threads_for(0):
        model = TorchLogisticClassifier(dtype="float64", callbacks=[_BlasSeen()]).fit(X, y)
        assert torch.get_num_threads() == 1
    assert {row["numpy_blas"] for row in model.history_} == {True}
    assert {row["threads"] for row in model.history_} == {1}
    assert torch.get_num_threads() == 2


def test_a_small_sparse_fit_is_judged_by_its_stored_values_and_runs_on_one_thread(two_threads):
    """H03 (``X.nnz`` -> ``X.shape[0] * X.shape[1]`` in ``_threads.data_values``): CSR 1000 x 5000 holding 10k values
    (5M cells, above SMALL_VALUES = 4.2M) is a small fit: it trains on one intra-op thread and gives the count back."""
    import scipy.sparse as sp

    X = sp.random(1000, 5000, density=0.002, format="csr", random_state=0)
    y = np.arange(1000) % 2
    clf = quiet(TorchLogisticClassifier(max_iter=3, callbacks=[("count", _ThreadCount())]).fit, X, y)
    assert _counts(clf) == {1}
    assert torch.get_num_threads() == 2


def test_a_dense_fit_of_2m_values_runs_on_one_thread(two_threads):
    """H12 (_threads.SMALL_VALUES = 1 << 20). docs/performance.rst: "a fit on fewer than 2^22 values (rows x
    features ...) runs on one thread by itself and gives torch's setting back"; its table's 40k x 60 (2.4M) is one
    of them. 30000 x 70 (2.1M values) trains on one thread."""
    rng = np.random.RandomState(0)
    X = rng.standard_normal((30000, 70)).astype(np.float32)
    y = (X[:, 0] + rng.logistic(size=30000) > 0).astype(int)
    clf = quiet(TorchLogisticClassifier(max_iter=2, callbacks=[("count", _ThreadCount())]).fit, X, y)
    assert _counts(clf) == {1}
    assert torch.get_num_threads() == 2


# (mutation survey h5, T04: `_local.outer = None` in threads_for's exit)
def test_two_blocks_nested_one_after_the_other_keep_the_outer_one_thread(two_threads):
    """An inner block forgot that it ran inside this thread's own one-thread block: the next nested block took the
    pool's count for its own and gave it back, and the outer block ran the rest of its work on the pool. compare's
    one-thread timing of a small fit is such a block (the fit's validation, then its training, inside it)."""
    with threads_for(0):
        with threads_for(10):
            pass
        with threads_for(10):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2
    X, y = load_iris(return_X_y=True)
    with threads_for(0):
        TorchLogisticClassifier(max_iter=500).fit(X, y)
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2
    assert getattr(torchlogit._threads._local, "outer", None) is None


def _forked_inside(blocks, in_child=None):
    """Fork inside ``blocks`` nested one-thread blocks of this thread; the child runs ``in_child()`` (still inside
    them), leaves the blocks as the parent does, and reports what it saw, with the running count and its threads."""
    import contextlib
    import json
    import os

    read, write = os.pipe()
    seen = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Python >= 3.12: fork with threads running
        with contextlib.ExitStack() as stack:
            for n_values in [0] * (blocks - 1) + [10]:
                stack.enter_context(threads_for(n_values))
            pid = os.fork()
            if pid == 0 and in_child is not None:
                seen = in_child()
        if pid == 0:  # the child, past the blocks
            try:
                seen.update(running=torchlogit._threads._running, threads=torch.get_num_threads())
                os.write(write, json.dumps(seen).encode())
            finally:
                os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    data = os.read(read, 4096)
    os.close(read)
    assert status == 0
    assert torchlogit._threads._running == 0 and torch.get_num_threads() == 2
    return json.loads(data)


def _a_new_threads_small_fit():
    seen = {}

    def other():
        with threads_for(10):
            pass
        seen["new thread"] = torch.get_num_threads()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(30)
    return seen


@pytest.mark.skipif(not hasattr(__import__("os"), "register_at_fork"), reason="no fork on this platform")
@pytest.mark.parametrize("blocks", [1, 2])
def test_a_child_forked_inside_small_fits_ends_them_on_one_thread_with_none_running(two_threads, blocks):
    """A process forked inside this thread's small fit (a callback's fork, say) goes on with that fit. Leaving it, the
    child gave back the parent's count (2): the pool GNU OpenMP's forked children hang on (measured: its next
    parallel region hung > 20 s). Forked inside two nested blocks (compare's threads_for(0) around a small fit), the
    child counted one running block, and read -1 running after both. A new thread's small fit in the child gives
    back the child's 1, not the count the parent's first small fit found (mutation survey h5, T05 and T06)."""
    seen = _forked_inside(blocks, _a_new_threads_small_fit)
    assert seen == {"new thread": 1, "running": 0, "threads": 1}


@pytest.mark.skipif(_mkl() is None, reason="torch built without MKL")
def test_a_small_fit_in_an_openmp_limit_keeps_the_limit_while_another_threads_small_fit_runs(two_threads):
    """Inside threadpoolctl's OpenMP limit of 1 (torch reads OpenMP 1, MKL 2: a state no new thread starts in, those
    read (1, 1)), a small fit keeps the limit when no other fit runs; while another thread's small fit ran, it took
    the 1 for one inherited from that fit, and gave the thread 2 OpenMP threads inside the user's limit (mutation
    survey h5, T10)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    X, y = load_iris(return_X_y=True)
    TorchLogisticClassifier().fit(X, y)
    inside, release = threading.Event(), threading.Event()

    def other_fit():
        with threads_for(10):
            inside.set()
            release.wait(30)

    other = threading.Thread(target=other_fit)
    other.start()
    try:
        assert inside.wait(30)
        with threadpoolctl.threadpool_limits(1):
            assert (torch.get_num_threads(), _mkl()) == (1, 2)  # as in the limit test above, after a fit
            TorchLogisticClassifier().fit(X, y)
            assert (torch.get_num_threads(), _mkl()) == (1, 2)
    finally:
        release.set()
        other.join(30)
    assert torch.get_num_threads() == 2


def test_a_torch_sparse_tensor_is_judged_by_its_stored_values():
    """h5's mutant (a torch sparse tensor counted as rows x columns). A 1000 x 5000 CSR tensor (5M cells, above
    SMALL_VALUES) holding 10k values counts its 10k values, as the same data in a SciPy CSR matrix do, CSR or COO:
    its validation (_base._values_hint) runs on one thread."""
    import scipy.sparse as sp

    from torchlogit._base import _values_hint
    from torchlogit._kernels import sparse_tensor

    csr = sp.random(1000, 5000, density=0.002, format="csr", random_state=0, dtype=np.float32)
    X = sparse_tensor(csr, torch.float32, "cpu")
    assert torchlogit._threads.data_values(X) == csr.nnz == torchlogit._threads.data_values(csr)
    assert torchlogit._threads.data_values(X.to_sparse_coo()) == csr.nnz
    assert torchlogit._threads.on_one_thread(_values_hint(X))
