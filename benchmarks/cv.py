"""TorchLogisticClassifierCV against LogisticRegressionCV(n_jobs=1), side by side, in one process.

Workloads (defaults of both estimators, 10 Cs, 5 stratified folds, neg_log_loss):

* ``binary``: make_classification 40k x 60 (float32 for ours, as its default);
* ``digits``: standardised digits, multinomial (10 classes, 1797 x 64);

plus the path order (Cs one after another, each a batch of the folds warm-started
from the previous C) against the default all-at-once batch, and the peak memory of the
CV fit against one TorchLogisticClassifier fit (peak resident memory of a fresh
subprocess per contender, ``resource.getrusage``: torch's allocations are invisible to
tracemalloc).

Each pair alternates (a warm-up, then A B A B ...) and reports the median ratio. Run::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/cv.py

Results go to ``cv_results.md``. ``--size tiny`` only checks that the script runs.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegressionCV
from sklearn.preprocessing import StandardScaler

from torchlogit import TorchLogisticClassifierCV

HERE = Path(__file__).parent


def data(name, size):
    if name == "binary":
        n = 40_000 if size == "full" else 2_000
        X, y = make_classification(n, 60, n_informative=20, random_state=0)
    else:
        X, y = load_digits(return_X_y=True)
        if size != "full":
            X, y = X[:600], y[:600]
    return StandardScaler().fit_transform(X), y


def ours(**params):
    return TorchLogisticClassifierCV(Cs=10, **params)


def reference():
    return LogisticRegressionCV(Cs=10, l1_ratios=(0.0,), scoring="neg_log_loss", use_legacy_attributes=False, n_jobs=1)


def timed(make, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        est = make().fit(X, y)
        return time.perf_counter() - start, est


def side_by_side(make_a, make_b, X, y, rounds):
    timed(make_a, X, y)  # warm-up (imports, first allocations)
    timed(make_b, X, y)
    a_times, b_times, ratios = [], [], []
    for _ in range(rounds):
        ta, a = timed(make_a, X, y)
        tb, b = timed(make_b, X, y)
        a_times.append(ta)
        b_times.append(tb)
        ratios.append(ta / tb)
    return dict(a=statistics.median(a_times), b=statistics.median(b_times), ratio=statistics.median(ratios)), a, b


def peak_memory(kind, name, size):
    """Peak resident memory (MiB) of a fresh process that loads the data and fits one estimator."""
    code = "\n".join(
        [
            "import resource, sys, warnings",
            f"sys.path.insert(0, {str(HERE)!r})",
            "import cv",
            "from torchlogit import TorchLogisticClassifier, TorchLogisticClassifierCV",
            "warnings.simplefilter('ignore')",
            f"X, y = cv.data({name!r}, {size!r})",
            f"est = {kind}",
            "est.fit(X[:50], y[:50])  # first-use allocations (thread pools, kernels) out of the measure",
            "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss",
            "est.fit(X, y)",
            "print(base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)",
        ]
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    base, peak = int(out[0]) / 1024, int(out[1]) / 1024
    return dict(before_fit=base, peak=peak, fit_increase=peak - base)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", choices=["full", "tiny"], default="full")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows, results = [], {}
    for name in ("binary", "digits"):
        X, y = data(name, args.size)
        timing, a, b = side_by_side(ours, reference, X, y, args.rounds)
        same = bool(a.C_ == b.C_)
        gap = float(np.abs(a.scores_ - b.scores_).max())
        results[name] = dict(**timing, same_C=same, max_score_gap=gap, our_C=a.C_, sklearn_C=b.C_)
        rows.append(
            f"| {name} {X.shape[0]}x{X.shape[1]} | ours {timing['a']:.2f} s | LogisticRegressionCV {timing['b']:.2f} s "
            f"| **{timing['ratio']:.2f}x** | same C: {same} | max score gap {gap:.1e} |"
        )

        def path_order():
            est = ours()
            est._order = "path"
            return est

        order, _, _ = side_by_side(ours, path_order, X, y, args.rounds)
        results[name + "_batch_vs_path"] = order
        rows.append(
            f"| {name}: batch order {order['a']:.2f} s | path order {order['b']:.2f} s "
            f"| ratio {order['ratio']:.2f}x | | | |"
        )
    for name in ("binary",):
        single = peak_memory("TorchLogisticClassifier()", name, args.size)
        cv = peak_memory("TorchLogisticClassifierCV(Cs=10)", name, args.size)
        results["memory"] = dict(single=single, cv=cv)
        rows.append(
            f"| memory ({name}) | single fit +{single['fit_increase']:.0f} MiB | CV fit (50 problems) "
            f"+{cv['fit_increase']:.0f} MiB | X is {data(name, args.size)[0].nbytes / 2**20:.0f} MiB (float64) | | |"
        )
    text = "| workload | ours | reference | ratio | | |\n|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n"
    print(text)
    if args.size == "full":
        (HERE / "cv_results.md").write_text(
            "# TorchLogisticClassifierCV benchmark\n\n(machine shared with other jobs: ratios are indicative)\n\n"
            + text
        )
        (HERE / "cv_results.json").write_text(json.dumps(results, indent=2, default=float))


if __name__ == "__main__":
    main()
