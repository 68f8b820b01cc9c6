"""One intra-op thread for fits too small to share: torch's thread pool costs more than it saves there.

torch sends some operations to its intra-op pool whatever their size: small matrix
products (the data's ``X @ w`` on a few hundred rows, L-BFGS's Gram matrix of its
curvature pairs) and ``binary_cross_entropy_with_logits``. On a quiet machine each such
call pays a thread wake-up; on a busy one (other processes on the cores, a laptop doing
something else) it waits for a second core to be scheduled. Measured on this project's AMD EPYC
2-core machine while other jobs ran (2026-12-04, torch 2.13): a 20 x 31 float32 product
84-114 us with two threads against 11-15 us with one; BCE-with-logits of 569 values
187-338 us against 16-24 us; the README's breast-cancer fit (569 x 30, 20 iterations)
0.31-0.52 s against 0.046-0.056 s. scikit-learn's L-BFGS (NumPy and SciPy, one thread
for such sizes) does not pay this.

Where the pool starts to pay (``benchmarks/small_fits.py``, same machine, quiet, fits
alternating with a pause after each): one thread was as fast as two up to the largest size
measured, 40k x 60 (2.4M values: 0.105 s against 0.113 s; 20k x 20: 0.021 against 0.024 s),
and 2.5x faster with one busy process per core (0.15 s against 0.38 s). Hence a threshold of
4M values: larger fits (the 300k x 100 of the benchmarks) keep torch's setting, except the iterations
that :func:`blas_threads` sends to NumPy's BLAS (where it is the faster: :func:`numpy_blas_is_faster`).

:func:`threads_for` runs a fit on one thread when its data hold fewer than
``SMALL_VALUES`` values, and leaves torch's setting alone otherwise. torch's count is
per Python thread (``torch.set_num_threads`` sets the calling thread's count and the
default that threads take when they first use torch): each fit gives its own thread's
count back. A thread that first used torch while another thread's small fit had set one
thread took that 1 as its default; its own fits give it the count the first small fit found
instead. A thread that first uses torch during someone else's small fit and never fits
keeps that 1 (torch's default for new threads is process-wide, and per-thread OpenMP limits
do not bind torch's MKL products: measured 2 busy cores for a gemv under a limit of 1), as
does a deliberate ``torch.set_num_threads(1)`` made while another thread's small fit runs.
"""

import contextlib
import functools
import os
import platform
import threading

import scipy.sparse as sp
import torch

# Values (rows x features, or stored values of a sparse matrix) under which a fit runs on one thread.
SMALL_VALUES = 1 << 22

_lock = threading.Lock()
_local = threading.local()  # per thread: inside blas_threads
_running = 0  # small fits running now, in any thread
_default = None  # the calling thread's count when the first of them started
_fork_hook = False  # whether _one_thread_after_fork is registered


def _one_thread_after_fork():
    """In a process forked after a fit: torch on one thread.

    GNU OpenMP's thread pool does not survive ``fork``: a child whose parent ran a parallel
    region hangs at its own first one (measured: a grid search with joblib's
    "multiprocessing" backend after a 20000 x 40 fit in the parent never finished, its
    workers waiting in ``gomp_team_barrier_wait_end``). torch's DataLoader sets one thread
    in its forked workers for the same reason. Spawned workers (joblib's default loky,
    ``spawn``, ``forkserver``) start a pool of their own and are not affected.

    The small fits that other threads of the parent were running do not run here: the child
    forgets them (and a lock one of them may have held), or its first small fit would take their
    starting count for its own and give it back in place of this 1, and the child's next parallel
    region would hang all the same.
    """
    global _lock, _running, _default
    _lock = threading.Lock()
    _running = getattr(_local, "depth", 0)  # the forking thread's own blocks (nested ones each count), if any
    _default = 1  # what this process runs on now
    torch.set_num_threads(1)


def _register_fork_hook():
    global _fork_hook
    if not _fork_hook and hasattr(os, "register_at_fork"):  # POSIX only: Windows has no fork
        os.register_at_fork(after_in_child=_one_thread_after_fork)
        _fork_hook = True


def on_one_thread(n_values):
    """Whether a fit on data of ``n_values`` values runs on one intra-op thread (:func:`threads_for`'s rule)."""
    return n_values < SMALL_VALUES


def step_values(n_values, n_rows, batch_size):
    """The values one step of a mini-batch solver reads: ``batch_size`` of the ``n_rows`` rows' share of ``n_values``.

    ``n_rows``: the rows the batches are cut from (identical rows merged); a batch of them all reads every value.

    What the thread rule measures for mini-batch training (:func:`mini_batch_threads`): each step works on
    one batch, whatever the size of the data.
    """
    return n_values * min(batch_size, n_rows) // max(n_rows, 1)


def mini_batch_threads(n_values, n_rows, batch_size):
    """One intra-op thread for the epochs of a mini-batch solver whose batches are small, though its data are not.

    The rule of :func:`threads_for` judged by one step's batch (:func:`step_values`), not by the data:
    adam on 90k x 50 (4.5M values) in batches of 200 ran its 10k-value steps on torch's pool, about
    250 us a step on a quiet machine as on one thread, and 11-22 ms (45x) whenever the other core was
    busy (2026-12-06, two cores). Only where the data were above the rule (smaller data already train
    on one thread inside the fit's own :func:`threads_for`); the data's preparation and copy before the epochs
    keep the pool.
    """
    if on_one_thread(n_values):
        return contextlib.nullcontext()
    return threads_for(step_values(n_values, n_rows, batch_size))


def data_values(X):
    """What the rule measures: the values ``X`` holds (rows x features, or the stored values of sparse data)."""
    if sp.issparse(X):
        return X.nnz
    if isinstance(X, torch.Tensor) and X.layout != torch.strided:
        return X._nnz()
    return X.shape[0] * X.shape[1]


def blas_threads(n_values, vector_products):
    """One intra-op thread for iterations whose products NumPy's BLAS computes, else nothing.

    ``vector_products``: the fit multiplies its data by vectors only (a dense linear model
    with one output on the CPU). On data of at least ``SMALL_VALUES`` values, on a CPU where
    NumPy's BLAS is the faster (:func:`numpy_blas_is_faster`), inside this
    context, those products go to NumPy's BLAS (:func:`._kernels.blas_vector_products`) and
    torch runs on one thread: NumPy's pool uses the cores, and torch's would only spin
    beside it. Smaller data already run on one thread (:func:`threads_for`), and stay in torch.
    """
    if not routes_to_numpy_blas(n_values, vector_products):
        return contextlib.nullcontext()
    return _numpy_blas()


def routes_to_numpy_blas(n_values, vector_products):
    """Whether :func:`blas_threads` sends the iterations' products to NumPy's BLAS (for the copy's layout too).

    Only where NumPy's BLAS is the faster one (:func:`numpy_blas_is_faster`).
    """
    return bool(vector_products and n_values >= SMALL_VALUES and numpy_blas_is_faster())


@functools.lru_cache(maxsize=1)
def numpy_blas_is_faster():
    """Whether NumPy's BLAS multiplies a large dense ``X`` by a vector faster than torch's: torch's MKL on a CPU not
    known to be Intel's.

    MKL picks its fast kernels by CPU vendor. On an AMD EPYC (this project's machine until
    2026-12-05; 300k x 100, two threads, best of 7) torch's MKL took 8.1 / 9.6 ms for ``X @ w`` /
    ``r @ X`` in float32 against 3.4 / 6.9 ms for NumPy's OpenBLAS, and 29 / 27 against 11 / 15 ms
    in float64, which paid for one torch thread beside NumPy's pool (:func:`blas_threads`). On an
    Intel Xeon (2 cores, 2026-12-06, median of 30) the kernels are even: float32 1.81 / 1.97 ms
    (torch, row-major) against 1.90 / 1.99 ms (NumPy, column-major), float64 4.8 / 4.0 against
    4.2 / 3.9 ms. There the two pools cost more than they save: OpenBLAS's threads spin for about
    0.1 s after each call, on the cores torch's operations between the products and the next fit's
    preparation need. Fits alternating on that Xeon (``benchmarks/data_prep.py``, three runs): binary
    300k x 100 0.51-0.54 s in torch against 0.73-0.75 s through NumPy's BLAS, the preparation before the
    first iteration 0.09-0.10 against 0.18-0.22 s; its easy 1M x 100 float64 problem 0.76-0.80 against
    0.92 s (scikit-learn 0.66-0.72 s).
    Where the vendor is not known (another OS without ``/proc/cpuinfo``), NumPy's BLAS, as before.
    """
    return torch.backends.mkl.is_available() and "GenuineIntel" not in cpu_vendor()


@functools.lru_cache(maxsize=1)
def cpu_vendor():
    """The CPU's vendor string ("GenuineIntel", "AuthenticAMD", ...): Linux's ``/proc/cpuinfo``, else what
    ``platform.processor()`` says (Windows names the vendor there); "" when neither tells."""
    return cpuinfo_field("vendor_id") or platform.processor() or ""


def cpuinfo_field(name):
    """The first ``name : value`` of Linux's ``/proc/cpuinfo`` ("vendor_id", "model name", ...); "" elsewhere."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith(name):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


@contextlib.contextmanager
def _numpy_blas():
    before = in_numpy_blas()
    with threads_for(0):
        _local.numpy_blas = True
        try:
            yield
        finally:
            _local.numpy_blas = before


def in_numpy_blas():
    """Whether this thread runs iterations whose vector products go to NumPy's BLAS (:func:`blas_threads`)."""
    return getattr(_local, "numpy_blas", False)


@contextlib.contextmanager
def threads_for(n_values):
    """Run the block on one intra-op thread if the data hold fewer than ``SMALL_VALUES`` values."""
    global _running, _default
    _register_fork_hook()  # every fit passes here: its pool (or a later one's) must not reach a forked child
    if not on_one_thread(n_values):
        yield
        return
    own = torch.get_num_threads()
    outer = getattr(_local, "outer", None)
    pid = os.getpid()  # a process forked inside the block ends it too: on its own 1 (see _one_thread_after_fork)
    counted = False
    mkl = None
    try:  # from here: an interrupt anywhere below still lowers the count and gives the thread its count back
        with _lock:
            if _running == 0:
                _default = own
            elif own == 1 and outer is None:
                own = _default  # this thread's count was taken from another small fit's setting
            # Inside this thread's own block (outer is set), the 1 is that block's: kept, and given back at the end
            # (taking the default gave the pool back while the outer block ran: compare's one-thread timing of a
            # fit whose products go to NumPy's BLAS ran its iterations after the first on the pool).
            _local.depth = getattr(_local, "depth", 0) + 1  # this thread's blocks (what a fork inside them inherits)
            _running += 1
            counted = True
        # OpenMP's count may read 1 under an OpenMP limit that leaves MKL on every core (see _mkl_threads).
        mkl = _mkl_threads() if torch.get_num_threads() == 1 else None
        if torch.get_num_threads() != 1 or mkl not in (None, 1):
            torch.set_num_threads(1)
        _local.outer = own
        yield
    finally:
        _local.outer = outer
        if counted:
            with _lock:
                _running -= 1
            _local.depth -= 1
        if os.getpid() != pid:  # forked inside the block: the child's count is the fork hook's 1, not the parent's
            own, mkl = 1, None
        if mkl not in (None, 1):  # OpenMP's 1 under a limit (MKL above it): the limit kept, whatever own says
            _restore_mkl(mkl)
        elif torch.get_num_threads() != own:
            torch.set_num_threads(own)


def _restore_mkl(count):
    """MKL back to ``count`` threads, OpenMP's limit of 1 kept: the state a small fit found (see :func:`_mkl_threads`).

    torch sets both counts at once; the OpenMP limit is then set again through threadpoolctl (a
    dependency of scikit-learn's), whose context that made it restores it on its way out as before.
    """
    torch.set_num_threads(count)
    try:
        import threadpoolctl
    except ImportError:  # pragma: no cover - scikit-learn requires it
        return
    threadpoolctl.threadpool_limits(limits=1, user_api="openmp")


def _mkl_threads():
    """The calling thread's MKL thread count as torch's build reports it (None: torch without MKL).

    OpenMP's count (``torch.get_num_threads()``) can read 1 while MKL's is larger:
    ``torch.set_num_threads`` sets both, for the calling thread, and an OpenMP limit set
    afterwards (``threadpoolctl.threadpool_limits(1)``, which cannot see the MKL linked into
    torch) lowers only OpenMP's. A small fit inside such a limit then multiplied on every
    core: breast cancer (569 x 30, float64) 0.03 s outside the limit against 0.23-0.62 s inside
    it on the project's busy 2-core machine, with other coefficients (the fit stops at
    ``max_iter``, where rounding shows). Read only when OpenMP's count is 1 (about 5 us).
    """
    for line in torch.__config__.parallel_info().splitlines():
        if "mkl_get_max_threads()" in line:
            return int(line.rsplit(":", 1)[1])
    return None


@contextlib.contextmanager
def pooled_products(n_values):
    """Inside :func:`threads_for`'s one-thread block, give products of at least ``SMALL_VALUES`` values back
    the thread count the block found.

    The rule measures the data; a batch of problems multiplies the same data by many parameter
    vectors at once (:mod:`torchlogit._batched`: 50 problems on digits make products of 58M
    values from 115k values of data), and such products gain from the pool as a large fit's do:
    on digits, 10 classes x 50 problems, the two products of an evaluation took 1.75 ms on two
    threads against 2.76 ms on one, thread switches included (quiet machine, 2026-12-05).
    """
    outer = getattr(_local, "outer", None)
    if n_values < SMALL_VALUES or outer is None or outer == torch.get_num_threads():
        yield
        return
    inner = torch.get_num_threads()
    torch.set_num_threads(outer)
    try:
        yield
    finally:
        torch.set_num_threads(inner)
