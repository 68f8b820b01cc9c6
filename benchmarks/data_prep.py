"""What a fit spends before its first iteration, fits from CPU tensors, and the memory a fit adds.

One process, contenders alternating, after a warm-up (the machine may be loaded: read
ratios, not times)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/data_prep.py

1. ``profile``: cProfile of ``TorchLogisticClassifier().fit`` on binary 300k x 100
   (``benchmarks/run.py``'s problem), split into the data layer's steps before the first
   iteration (validation, labels, canonical rows, the copy to the device) and the rest
   (training, and the float64 copy of a float32 fit that stalls and continues in float64,
   reported on its own as ``continuation copy``).
2. ``tensor``: the same fit from a NumPy array and from a CPU tensor, alternating.
3. ``memory``: RSS added during the fit (sampled every 2 ms in a thread) over the
   input, ours (float32 and float64) against ``LogisticRegression``.
4. ``easy``: 1M x 100 float64, a well-conditioned binary target (scikit-learn
   converges in a few iterations), ours against ``LogisticRegression``, alternating.
5. ``sparse``: RSS added by one fit on issue 15's sparse matrix (400k x 5000, 50 entries a
   row, float64 values, int32 indices: 240 MB as CSR) given as CSR, CSC and COO, float32 and
   float64 fits, and ``LogisticRegression`` on each, every case in a fresh process.

``--size tiny`` runs everything on small data (for CI: the script keeps working).
"""

import argparse
import cProfile
import json
import pstats
import statistics
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

import torchlogit._training_set
from torchlogit import TorchLogisticClassifier

# The data layer's steps before the first iteration, as named in the profile. The copy is timed per call
# (profile_fit): a float32 fit that stalls gathers a second, float64 copy for its continuation, after its
# first iterations, which is reported on its own.
PREPARATION = {
    "validation": ("fit_inputs", "tensor_fit_inputs"),  # the host path, the torch path (._tensor_data)
    "labels": ("_targets",),
    "canonical rows": ("training_rows",),
}


def binary_problem(n, d=100, seed=0):
    X, y = make_classification(n_samples=n, n_features=d, n_informative=d // 2, random_state=seed)
    return X, y


def easy_problem(n, d=100, seed=0):
    """Standard normal features, a weak linear signal: the log-loss is nearly quadratic, L-BFGS needs few steps."""
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, d))
    y = (X @ rng.standard_normal(d) * 0.1 + rng.logistic(size=n) > 0).astype(np.int64)
    return X, y


def profile_fit(X, y):
    """cProfile of one default fit; the training copies timed one by one (the first is the one before training)."""
    copies = []
    batch = torchlogit._training_set.training_batch

    def timed_batch(*args, **kwargs):
        start = time.perf_counter()
        out = batch(*args, **kwargs)
        copies.append(time.perf_counter() - start)
        return out

    profiler = cProfile.Profile()
    torchlogit._training_set.training_batch = timed_batch
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            profiler.enable()
            start = time.perf_counter()
            TorchLogisticClassifier().fit(X, y)
            total = time.perf_counter() - start
            profiler.disable()
    finally:
        torchlogit._training_set.training_batch = batch
    stats = pstats.Stats(profiler).stats
    steps = {}
    for step, name in PREPARATION.items():
        steps[step] = sum(v[3] for (_, _, func), v in stats.items() if func in name)
    steps["copy to device"] = copies[0]
    preparation = sum(steps.values())
    return {
        "total_s": total,
        **{f"{k}_s": v for k, v in steps.items()},
        "continuation copy_s": sum(copies[1:]),  # the float64 copy of a stalled float32 fit, after its iterations
        "preparation_share": preparation / total,
        "share_with_continuation_copy": (preparation + sum(copies[1:])) / total,
    }


def alternate(contenders, rounds):
    """Median seconds of each contender, run in turns after one warm-up each."""
    times = {name: [] for name in contenders}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for run in contenders.values():
            run()
        for _ in range(rounds):
            for name, run in contenders.items():
                start = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def rss_added(run):
    """Peak RSS during ``run()`` over the RSS before it, sampled every 2 ms."""
    before, peak, done = _rss(), [0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _rss())
            time.sleep(0.002)

    thread = threading.Thread(target=sample)
    thread.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        run()
    done.set()
    thread.join()
    return max(peak[0], _rss()) - before


def sparse_problem(n, d=5_000, per_row=50, seed=0):
    """Issue 15's text-like matrix (CSR, float64 values, int32 indices) and a binary target that depends on it."""
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, d, n * per_row).astype(np.int32)
    X = sp.csr_matrix((rng.random(n * per_row), indices, np.arange(0, n * per_row + 1, per_row)), shape=(n, d))
    X.sum_duplicates()
    score = np.asarray(X[:, :50].sum(axis=1)).ravel()
    return X, (score + 0.1 * rng.logistic(size=n) > np.median(score)).astype(np.int64)


def sparse_case(size, fmt, contender):
    """{input MB, RSS added MB, ratio} of one fit on the sparse problem as ``fmt`` (run in a process of its own)."""
    X, y = sparse_problem(400_000 if size == "full" else 400)
    X = X.asformat(fmt)
    arrays = (X.data, X.row, X.col) if fmt == "coo" else (X.data, X.indices, X.indptr)
    make = {
        "ours float32": lambda: TorchLogisticClassifier(),
        "ours float64": lambda: TorchLogisticClassifier(dtype="float64"),
        "sklearn": lambda: LogisticRegression(),
    }[contender]
    make().fit(X[:100] if fmt != "coo" else X.tocsr()[:100], y[:100])  # imports and first-call set-up
    added = rss_added(lambda: make().fit(X, y))
    size_mb = sum(a.nbytes for a in arrays) / 1e6
    return {"input_MB": round(size_mb, 1), "added_MB": round(added / 1e6, 1), "ratio": round(added / 1e6 / size_mb, 2)}


def sparse_memory(size):
    """:func:`sparse_case` for every format and contender, each in a fresh process (RSS peaks are per process)."""
    out = {}
    for fmt in ("csr", "csc", "coo"):
        for contender in ("ours float32", "ours float64", "sklearn"):
            result = subprocess.run(
                [sys.executable, __file__, "--sparse-case", size, fmt, contender],
                capture_output=True,
                text=True,
                check=True,
            )
            out[f"{fmt}, {contender}"] = json.loads(result.stdout.strip().splitlines()[-1])
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=["full", "tiny"], default="full")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", choices=["profile", "tensor", "memory", "easy", "sparse"])
    parser.add_argument("--sparse-case", nargs=3, metavar=("SIZE", "FORMAT", "CONTENDER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.sparse_case:  # one case of `sparse`, in this (fresh) process
        print(json.dumps(sparse_case(*args.sparse_case)))
        return None
    scale = 1 if args.size == "full" else 1000
    only = set(args.only or ["profile", "tensor", "memory", "easy", "sparse"])
    results = {"torch_threads": torch.get_num_threads()}

    X, y = binary_problem(300_000 // scale)
    if "profile" in only:
        profile_fit(X, y)  # warm-up
        results["profile_binary_300k"] = profile_fit(X, y)
    if "tensor" in only:
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        results["fit_binary_300k_s"] = alternate(
            {
                "numpy": lambda: TorchLogisticClassifier().fit(X, y),
                "cpu tensor": lambda: TorchLogisticClassifier().fit(Xt, yt),
                "sklearn": lambda: LogisticRegression().fit(X, y),
            },
            args.rounds,
        )
    if "memory" in only:
        X32 = X.astype(np.float32)
        results["rss_added_MB"] = {
            "input float64 X": X.nbytes / 1e6,
            "sklearn, float64 X": rss_added(lambda: LogisticRegression().fit(X, y)) / 1e6,
            "ours float32, float64 X": rss_added(lambda: TorchLogisticClassifier().fit(X, y)) / 1e6,
            "ours float64, float64 X": rss_added(lambda: TorchLogisticClassifier(dtype="float64").fit(X, y)) / 1e6,
            "ours float32, float32 X": rss_added(lambda: TorchLogisticClassifier().fit(X32, y)) / 1e6,
        }
        del X32
    del X, y
    if "easy" in only:
        X, y = easy_problem(1_000_000 // scale)
        results["easy_1M_float64_s"] = alternate(
            {
                "ours float64": lambda: TorchLogisticClassifier(dtype="float64").fit(X, y),
                "sklearn": lambda: LogisticRegression().fit(X, y),
            },
            args.rounds,
        )
        results["easy_1M_n_iter"] = {
            "ours float64": int(TorchLogisticClassifier(dtype="float64").fit(X, y).n_iter_[0]),
            "sklearn": int(LogisticRegression().fit(X, y).n_iter_[0]),
        }
    if "sparse" in only:
        results["sparse_rss_added"] = sparse_memory(args.size)
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
