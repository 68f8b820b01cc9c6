"""newton-cholesky on a penalised multinomial problem in the default float32.

50k x 20 (``make_classification``, 10 informative features, no redundant ones), 5 classes, at
``C=1`` and ``C=100``: the time of a fit (best of ``--rounds``), its iterations, the precision its
steps ran in (float32, or float64 after the float32-sensitivity test) and the largest relative
distance of ``coef_`` from scikit-learn's newton-cholesky at ``tol=1e-12``::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/newton_multinomial.py

Along the classes' common shift of the coefficients the objective is the penalty alone; a float32
step there was the gradient's rounding over a curvature of 1 / (C S), which drifted the coefficients
and sent the fit to float64 steps. 2026-12-06, Intel Xeon (2 cores, loaded), old and new code
alternating in separate processes: C=1 0.25-0.33 -> 0.16-0.17 s, C=100 0.26-0.37 -> 0.17-0.19 s, float32
steps throughout, 4 iterations (scikit-learn's count). ``--size tiny``: 2000 rows (the test suite).
"""

import argparse
import json
import time

import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from torchlogit import TorchLogisticClassifier


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["full", "tiny"], default="full")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    n = 50_000 if args.size == "full" else 2_000
    X, y = make_classification(n, 20, n_informative=10, n_redundant=0, n_classes=5, random_state=0)
    results = {}
    for C in (1.0, 100.0):
        TorchLogisticClassifier(solver="newton-cholesky", C=C).fit(X, y)  # warm-up
        times = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            model = TorchLogisticClassifier(solver="newton-cholesky", C=C).fit(X, y)
            times.append(time.perf_counter() - start)
        reference = LogisticRegression(solver="newton-cholesky", C=C, tol=1e-12).fit(X, y)
        results[f"C={C:g}"] = {
            "best_s": min(times),
            "n_iter": int(model.n_iter_[0]),
            "precisions": sorted({row["precision"] for row in model.history_}),
            "coef_rel_diff": float(np.abs(model.coef_ - reference.coef_).max() / np.abs(reference.coef_).max()),
        }
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
