"""Memory added by ``summary()`` and by its rank count of the design, against what its guard counts.

A binary model on sparse bag-of-words-like data (``--rows`` x ``--columns``, 10 stored ones a row, uniform
columns), ``TorchLogisticClassifier(C=1)``; the process's resident memory sampled every 2 ms in a thread while
``design_ranks(X)`` and then ``summary(X, y)`` run, the peak above the level before each::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/summary_memory.py

2026-12-07, Intel Xeon (2 cores), 20,000 x 4,000 (a 4,001-square float64 matrix: 128 MB; the guard now counts
512 MB there, four of them): ``design_ranks`` +927 MB and ``summary`` +1014 MB before the change of that day (seven
matrices, against the two, 256 MB, the guard counted), +282 MB and +373 MB after. ``--dense-rows N`` runs the same on
an N x 50 CSR matrix of float64 values (1,000,000 rows, 9M values, 108 MB: ``design_ranks`` +252 -> +0 MB,
``summary`` +399 -> +72 MB: the CSR matrix is no longer copied). ``PYTHONPATH`` on an older checkout measures it.
Needs ``psutil`` (not a dependency of torchlogit; the dask extra installs it with ``distributed``).
"""

import argparse
import gc
import threading
import time
import warnings

import numpy as np
import psutil
import scipy.sparse as sp

from torchlogit import TorchLogisticClassifier
from torchlogit._inference import design_ranks, summary_memory_bytes


def peak_added(function):
    """The resident memory's peak above its level before ``function()``, sampled every 2 ms (bytes)."""
    process = psutil.Process()
    gc.collect()
    base = process.memory_info().rss
    peak, done = [base], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        function()
    finally:
        done.set()
        sampler.join()
    return peak[0] - base


def text_like(rows, columns, rng):
    """``rows`` x ``columns`` CSR of 10 ones a row (duplicates summed) and a binary target of its words."""
    X = sp.csr_matrix(
        (np.ones(rows * 10), (np.repeat(np.arange(rows), 10), rng.integers(0, columns, rows * 10))),
        shape=(rows, columns),
    )
    X.sum_duplicates()
    y = (X @ rng.normal(size=columns) * 0.5 + rng.logistic(size=rows) > 0).astype(int)
    return X, y


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--columns", type=int, default=4_000)
    parser.add_argument("--dense-rows", type=int, default=0, help="N x 50 CSR of float64 values instead")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    if args.dense_rows:
        X = sp.random(args.dense_rows, 50, density=0.18, format="csr", random_state=0)
        y = (X @ rng.normal(size=50) + rng.logistic(size=args.dense_rows) > 0).astype(int)
    else:
        X, y = text_like(args.rows, args.columns, rng)
    warnings.simplefilter("ignore")
    model = TorchLogisticClassifier(C=1.0).fit(X, y)
    d = X.shape[1]
    print(f"X: {X.shape[0]} x {d} CSR, {X.nnz} stored values, {X.data.nbytes / 1e6:.0f} MB of values")
    try:
        counted = summary_memory_bytes(d + 1, d)
    except TypeError:  # a torchlogit before 2026-12-07 (run with PYTHONPATH on an older checkout): Newton's alone
        counted = summary_memory_bytes(d + 1)
    print(
        f"one {d + 1}-square float64 matrix: {8 * (d + 1) ** 2 / 1e6:.0f} MB; the guard counts {counted / 1e6:.0f} MB"
    )
    print(f"design_ranks(X): +{peak_added(lambda: design_ranks(X)) / 1e6:.0f} MB")
    print(f"summary(X, y):   +{peak_added(lambda: model.summary(X, y)) / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
