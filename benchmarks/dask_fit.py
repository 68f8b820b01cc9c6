"""fit on a dask array, on local dask workers, against the same fit in memory.

The data (2M x 100 float64 by default, 8 row blocks) is generated on the workers, so it
never exists on the client. We time ``TorchLogisticClassifier().fit`` on the dask array
(full-batch L-BFGS, every evaluation summed over the blocks where they live) and sample
the resident memory of each worker process during the fit; then the same data is
computed into this process and fitted in memory, sampling this process's memory. Both
fits run with the same settings, and their predicted probabilities are compared.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/dask_fit.py

Results go to ``dask_results.md`` and ``.json``. CI runs ``--size tiny``; timings are
never asserted.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
SIZES = {"full": 2_000_000, "tiny": 20_000}
MAX_ITER = 500  # both fits converge well before


class PeakSampler:
    """Samples ``measure()`` (a dict name -> bytes) every ``interval`` seconds and keeps each name's peak."""

    def __init__(self, measure, interval=0.1):
        self.measure = measure
        self.interval = interval
        self.peak = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for name, value in self.measure().items():
                self.peak[name] = max(self.peak.get(name, 0), value)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        for name, value in self.measure().items():
            self.peak[name] = max(self.peak.get(name, 0), value)


def rss():
    import psutil

    return psutil.Process().memory_info().rss


def problem(n, n_features, n_blocks, seed=0):
    """A logistic problem as dask arrays, generated block by block wherever the blocks are computed.

    Features share a common factor (pairwise correlation 0.5) and the logits have a
    standard deviation of 3: L-BFGS needs a dozen or two iterations, as on real data.
    """
    import dask.array as da

    state = da.random.RandomState(seed)
    rows = n // n_blocks
    common = state.normal(size=(n, 1), chunks=(rows, 1))
    X = np.sqrt(0.5) * state.normal(size=(n, n_features), chunks=(rows, n_features)) + np.sqrt(0.5) * common
    w = np.random.RandomState(seed).normal(size=n_features) * 3 / np.sqrt(n_features)
    noise = state.logistic(size=n, chunks=rows)
    y = ((X @ w + noise) > 0).astype(np.int64)
    return X.rechunk((rows, n_features)), y


def in_memory_fit_in_fresh_process(n, n_features, n_blocks, dtype):
    """The same data and fit in memory, in a new process with no cluster: (seconds, peak MB above the data)."""
    code = (
        f"import json, sys, time, dask; sys.path.insert(0, {str(HERE)!r}); import dask_fit as b; "
        "from torchlogit import TorchLogisticClassifier as T; "
        f"X, y = dask.compute(*b.problem({n}, {n_features}, {n_blocks}), scheduler='threads'); "
        "T(max_iter=2).fit(X[:1000], y[:1000]); before = b.rss(); "
        "s = b.PeakSampler(lambda: {'p': b.rss()}); s.__enter__(); t = time.perf_counter(); "
        f"clf = T(max_iter=b.MAX_ITER, dtype={dtype!r}).fit(X, y); "
        "t = time.perf_counter() - t; s.__exit__(); "
        "print(json.dumps(dict(seconds=t, peak_mb=(s.peak['p'] - before) / 2**20, iterations=int(clf.n_iter_[0]), "
        "coef=clf.coef_.tolist(), intercept=clf.intercept_.tolist())))"
    )
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--blocks", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--out-dir", type=Path, default=HERE)
    args = parser.parse_args(argv)

    import distributed
    from distributed import Client, LocalCluster

    from torchlogit import TorchLogisticClassifier

    n = SIZES[args.size]
    # One thread per worker: each worker's torch then runs on its share of the cores.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        cluster = LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        )
        client = Client(cluster)
    try:
        # Warm-up: import torch and torchlogit on the workers and run a small fit, so that
        # neither the time nor the memory below counts torch's ~300 MB of libraries.
        small_X, small_y = problem(2_000, args.features, args.workers)
        TorchLogisticClassifier().fit(small_X, small_y)
        # The data is generated and persisted on the workers first: the timed fit starts from
        # blocks already in the workers' memory, as a fit on a persisted dask array does.
        X, y = client.persist(problem(n, args.features, args.blocks))
        distributed.wait([X, y])
        worker_rss = lambda: client.run(rss)  # noqa: E731
        baseline = worker_rss()
        with PeakSampler(worker_rss) as workers:
            start = time.perf_counter()
            remote = TorchLogisticClassifier(max_iter=MAX_ITER, dtype=args.dtype).fit(X, y)
            remote_s = time.perf_counter() - start
        worker_peak_mb = {w: (workers.peak[w] - baseline[w]) / 2**20 for w in baseline}

        child = in_memory_fit_in_fresh_process(n, args.features, args.blocks, args.dtype)
        sample = slice(0, min(n, 100_000))
        sample_X = X[sample].compute()
        local_proba = 1 / (1 + np.exp(-(sample_X @ np.asarray(child["coef"]).T + child["intercept"])))
        proba_gap = float(np.abs(remote.predict_proba(sample_X)[:, 1:] - local_proba).max())
        local_s, local_peak_mb, local_iterations = child["seconds"], child["peak_mb"], child["iterations"]
    finally:
        client.close()
        cluster.close()

    report = {
        "n_samples": n,
        "n_features": args.features,
        "dtype": args.dtype,
        "blocks": args.blocks,
        "workers": args.workers,
        "data_mb": n * args.features * 8 / 2**20,
        "dask_fit_s": remote_s,
        "in_memory_fit_s": local_s,
        "ratio": remote_s / local_s,
        "dask_iterations": int(remote.n_iter_[0]),
        "in_memory_iterations": local_iterations,
        "peak_mb_per_worker": worker_peak_mb,
        "in_memory_fit_peak_mb": local_peak_mb,
        "max_proba_diff": proba_gap,
        "cores": os.cpu_count(),
    }
    suffix = ("" if args.size == "full" else f"-{args.size}") + ("" if args.dtype == "float32" else f"-{args.dtype}")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / f"dask_results{suffix}.json").write_text(json.dumps(report, indent=2) + "\n")
    peaks = ", ".join(f"{mb:.0f} MB" for mb in worker_peak_mb.values())
    table = (
        f"| fit of {n:,} x {args.features} float64 ({report['data_mb']:.0f} MB), {args.blocks} blocks, "
        f"dtype={args.dtype!r} | time | "
        "iterations | peak memory increase |\n|---|---|---|---|\n"
        f"| dask array, {args.workers} local workers x 1 thread | {remote_s:.2f} s | {report['dask_iterations']} | "
        f"per worker: {peaks} |\n"
        f"| in memory (NumPy), a fresh process with no cluster | {local_s:.2f} s | {report['in_memory_iterations']} | "
        f"{local_peak_mb:.0f} MB |\n\n"
        f"Ratio dask / in memory: {report['ratio']:.2f}. Max |predict_proba difference| on {sample.stop:,} rows: "
        f"{proba_gap:.1e}. Worker memory is sampled every 0.1 s (RSS above each worker's idle level; "
        "the blocks are generated and persisted on the workers before the fit, so the increase is what the fit "
        "adds: the blocks as tensors of the fit's dtype, a view without a copy when the blocks already have it, "
        "and the evaluations); the in-memory figure likewise excludes the data "
        "itself, generated from the same seeds in that process before the fit.\n"
    )
    (args.out_dir / f"dask_results{suffix}.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
