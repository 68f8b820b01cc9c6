"""Sparse CSR 200k x 5000 at 1%, random labels: torchlogit against ``LogisticRegression()``, 1 and 2 threads.

The workload of issue 15's goal (scikit-learn's default solver as the yardstick). Each
contender fits three times, alternating; the best CPU time of this process and the best
wall-clock time are printed with the iterations and the float64 objective gap to a
tight-tolerance optimum. CPU time is the figure to read on a machine shared with other
jobs (there wall-clock time mostly measures waiting for a core)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/sparse_fit.py
"""

import time

import numpy as np
import scipy.sparse as sp
import threadpoolctl
import torch
from shapes import objective
from sklearn.linear_model import LogisticRegression

from torchlogit import TorchLogisticClassifier


def main(n=200_000, d=5_000, per_row=50, rounds=3):
    rng = np.random.default_rng(0)
    X = sp.csr_matrix(
        (
            rng.random(n * per_row),
            rng.integers(0, d, n * per_row).astype(np.int32),
            np.arange(0, n * per_row + 1, per_row),
        ),
        shape=(n, d),
    )
    X.sum_duplicates()
    y = rng.integers(0, 2, n)
    tight = LogisticRegression(tol=1e-10, max_iter=10_000).fit(X, y)
    best = objective(X, y, None, tight.coef_, tight.intercept_, 1.0, 0.0)
    contenders = {"torchlogit": TorchLogisticClassifier, "sklearn lbfgs": lambda: LogisticRegression(max_iter=1000)}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        with threadpoolctl.threadpool_limits(threads):
            runs = {name: [] for name in contenders}
            for _ in range(rounds):
                for name, make in contenders.items():
                    cpu, wall = time.process_time(), time.perf_counter()
                    model = make().fit(X, y)
                    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                    gap = objective(X, y, None, model.coef_, model.intercept_, 1.0, 0.0) - best
                    runs[name].append((cpu, wall, int(model.n_iter_[0]), gap))
            for name, r in runs.items():
                print(
                    f"threads={threads} {name}: CPU {min(x[0] for x in r):.3f} s, wall {min(x[1] for x in r):.3f} s, "
                    f"{r[0][2]} iterations, gap {r[0][3]:.1e}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
