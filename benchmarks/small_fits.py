"""Small fits on torch's thread pool or on one thread (``torchlogit._threads``), quiet and busy, against sklearn.

For each size, four contenders alternate in one process (a warm-up, then best of
``--rounds``): torchlogit with the small-fit rule (one intra-op thread under
``SMALL_VALUES`` values), torchlogit on torch's pool as set (the rule switched off),
torchlogit on one thread whatever the size (where the rule's threshold should lie), and
``LogisticRegression()``. ``--busy`` runs the same with one CPU-bound process per core
beside it (what a laptop doing something else, or a shared CI runner, looks like to the
fit); the burners run at the benchmark's own priority.

Run (numpy's OpenBLAS is slowed by two variables set on this project's machines; unset
them for benchmarks only)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/small_fits.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/small_fits.py --busy
"""

import argparse
import multiprocessing
import os
import time
import warnings
from unittest import mock

import torch
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

import torchlogit._threads
from torchlogit import TorchLogisticClassifier

# Pause before each timed fit: OpenBLAS's and OpenMP's worker threads spin for a while after a call.
QUIET_S = 0.3
POOL = "torchlogit on torch's pool"
ONE = "torchlogit on one thread"


def _burn():
    while True:
        pass


def datasets(size):
    X, y = load_breast_cancer(return_X_y=True)
    yield "breast cancer 569 x 30", StandardScaler().fit_transform(X), y
    shapes = [(5_000, 20), (20_000, 20), (40_000, 60)] if size == "full" else [(500, 5)]
    for n, d in shapes:
        X, y = make_classification(n_samples=n, n_features=d, n_informative=d // 2, random_state=0)
        yield f"make_classification {n} x {d}", X, y


def fit_seconds(make, X, y):
    time.sleep(QUIET_S)
    start = time.perf_counter()
    make().fit(X, y)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--busy", action="store_true", help="one CPU-bound process per core beside the fits")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--size", choices=["full", "tiny"], default="full")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)
    burners = [multiprocessing.Process(target=_burn, daemon=True) for _ in range(os.cpu_count() if args.busy else 0)]
    for burner in burners:
        burner.start()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} intra-op threads, busy={args.busy}")
    try:
        for name, X, y in datasets(args.size):
            contenders = {
                "torchlogit": TorchLogisticClassifier,
                POOL: _Unruled,
                ONE: _OneThread,
                "LogisticRegression": LogisticRegression,
            }
            times = {key: [] for key in contenders}
            for make in contenders.values():
                fit_seconds(make, X, y)
            for _ in range(args.rounds):
                for key, make in contenders.items():
                    times[key].append(fit_seconds(make, X, y))
            best = {key: min(values) for key, values in times.items()}
            rule = "one thread" if X.size < torchlogit._threads.SMALL_VALUES else "torch's pool"
            print(
                f"{name} ({X.size} values: {rule}): "
                + ", ".join(f"{key} {seconds:.4f} s" for key, seconds in best.items())
                + f"; ratio to sklearn {best['torchlogit'] / best['LogisticRegression']:.2f}"
                + f" (on torch's pool: {best[POOL] / best['LogisticRegression']:.2f})"
            )
    finally:
        for burner in burners:
            burner.terminate()


class _Unruled:
    """A TorchLogisticClassifier whose fit ignores the small-fit rule (torch's pool as set)."""

    limit = 0

    def fit(self, X, y):
        with mock.patch.object(torchlogit._threads, "SMALL_VALUES", self.limit):
            return TorchLogisticClassifier().fit(X, y)


class _OneThread(_Unruled):
    """A TorchLogisticClassifier whose fit runs on one thread whatever the size."""

    limit = float("inf")


if __name__ == "__main__":
    main()
