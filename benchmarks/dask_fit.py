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
import threading
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
SIZES = {"full": 2_000_000, "tiny": 20_000}


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
    """A logistic problem as dask arrays, generated block by block wherever the blocks are computed."""
    import dask.array as da

    state = da.random.RandomState(seed)
    X = state.normal(size=(n, n_features), chunks=(n // n_blocks, n_features))
    w = np.random.RandomState(seed).normal(size=n_features) / np.sqrt(n_features)
    noise = state.logistic(size=n, chunks=n // n_blocks)
    y = ((X @ w + noise) > 0).astype(np.int64)
    return X, y


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--blocks", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out-dir", type=Path, default=HERE)
    args = parser.parse_args(argv)

    import dask
    import torch
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
        X, y = problem(n, args.features, args.blocks)
        worker_rss = lambda: client.run(rss)  # noqa: E731
        baseline = worker_rss()
        with PeakSampler(worker_rss) as workers:
            start = time.perf_counter()
            remote = TorchLogisticClassifier().fit(X, y)
            remote_s = time.perf_counter() - start
        worker_peak_mb = {w: (workers.peak[w] - baseline[w]) / 2**20 for w in baseline}

        local_X, local_y = dask.compute(X, y)  # the same numbers, now in this process
        threads = torch.get_num_threads()
        before = rss()
        with PeakSampler(lambda: {"client": rss()}) as here:
            start = time.perf_counter()
            local = TorchLogisticClassifier().fit(local_X, local_y)
            local_s = time.perf_counter() - start
        local_peak_mb = (here.peak["client"] - before) / 2**20
        sample = slice(0, min(n, 100_000))
        proba_gap = float(np.abs(remote.predict_proba(local_X[sample]) - local.predict_proba(local_X[sample])).max())
    finally:
        client.close()
        cluster.close()

    report = {
        "n_samples": n,
        "n_features": args.features,
        "blocks": args.blocks,
        "workers": args.workers,
        "data_mb": n * args.features * 8 / 2**20,
        "dask_fit_s": remote_s,
        "in_memory_fit_s": local_s,
        "ratio": remote_s / local_s,
        "dask_iterations": int(remote.n_iter_[0]),
        "in_memory_iterations": int(local.n_iter_[0]),
        "peak_mb_per_worker": worker_peak_mb,
        "in_memory_fit_peak_mb": local_peak_mb,
        "client_torch_threads": threads,
        "max_proba_diff": proba_gap,
        "cores": os.cpu_count(),
    }
    suffix = "" if args.size == "full" else f"-{args.size}"
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / f"dask_results{suffix}.json").write_text(json.dumps(report, indent=2) + "\n")
    peaks = ", ".join(f"{mb:.0f} MB" for mb in worker_peak_mb.values())
    table = (
        f"| fit of {n:,} x {args.features} float64 ({report['data_mb']:.0f} MB), {args.blocks} blocks | time | "
        "iterations | peak memory increase |\n|---|---|---|---|\n"
        f"| dask array, {args.workers} local workers x 1 thread | {remote_s:.2f} s | {report['dask_iterations']} | "
        f"per worker: {peaks} |\n"
        f"| in memory (NumPy), this process | {local_s:.2f} s | {report['in_memory_iterations']} | "
        f"{local_peak_mb:.0f} MB |\n\n"
        f"Ratio dask / in memory: {report['ratio']:.2f}. Max |predict_proba difference| on {sample.stop:,} rows: "
        f"{proba_gap:.1e}. Worker memory is sampled every 0.1 s (RSS above each worker's idle level; "
        "the blocks are generated on the workers); the in-memory figure excludes the data itself, "
        "computed into this process before the fit.\n"
    )
    (args.out_dir / f"dask_results{suffix}.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
