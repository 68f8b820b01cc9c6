"""TorchLogisticClassifierCV against LogisticRegressionCV, side by side, in one process.

Workloads (defaults of both estimators: 10 Cs, 5 stratified folds, neg_log_loss, tol 1e-4;
ours in float32, its default):

* ``binary``: 40k x 60, features correlated (AR(1), rho = 0.9: an ill-conditioned
  Hessian) and labels drawn from a logistic model;
* ``binary_mc``: make_classification 40k x 60 (20 informative features);
* ``digits``: standardised digits, multinomial (10 classes, 1797 x 64).
* ``text``: sparse text-like rows, 50k x 10k, column frequencies ~ 1/rank (Zipf, about 18
  values a row; ``benchmarks/shapes.py``'s generator), binary.

The contenders alternate in one process (a warm-up, then ours, reference, ours, ...);
the ratio is the best time of ours over the best time of LogisticRegressionCV(n_jobs=1)
(the median of the per-round ratios is reported too). LogisticRegressionCV(n_jobs=2)
runs in the same rounds, as extra information. Each workload also reports the chosen
C of both, the largest |scores_| difference, and the peak resident memory of the fit
(``VmHWM`` of a fresh process, reset before the fit: torch's allocations are invisible
to tracemalloc) for our CV fit, one TorchLogisticClassifier fit and LogisticRegressionCV.

Run (numpy's OpenBLAS is slowed by two variables set on this project's machines; unset
them for benchmarks only)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/cv.py

Results go to ``cv_results.md`` / ``cv_results.json``; ``--size tiny`` only checks that
the script runs; ``--threads 1`` times one thread on each side (steadier on a loaded
machine, and scikit-learn's fastest setting here: OpenBLAS's second thread slows its small
products; CPU times are reported in every case) and writes ``cv_results-1thread.*``.
``--orders`` also times the batch order against the path order (see :mod:`torchlogit._batched`).
``benchmarks/run.py`` runs the same workloads as its ``cv`` and ``cv_digits`` sections.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from sklearn_reference import logistic_regression_cv  # 1.9 spelling on any scikit-learn release

from torchlogit import TorchLogisticClassifier, TorchLogisticClassifierCV  # noqa: F401 (the memory child uses both)

HERE = Path(__file__).parent
# Pause before each timed fit: BLAS/OpenMP worker threads keep spinning for a while after a call.
QUIET_S = 0.5
N_BINARY = 40_000


def correlated(n, n_features=60, rho=0.9, seed=0):
    """AR(1)-correlated standard normal features, labels from a logistic model with a few strong coefficients."""
    rng = np.random.RandomState(seed)
    X = np.empty((n, n_features))
    X[:, 0] = rng.randn(n)
    for j in range(1, n_features):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * rng.randn(n)
    beta = np.zeros(n_features)
    beta[:: n_features // 6] = rng.choice([-1.0, 1.0], 6) * rng.uniform(0.5, 1.5, 6)
    y = (rng.rand(n) < 1 / (1 + np.exp(-(X @ beta + 0.3)))).astype(int)
    return X, y


def data(name, size="full"):
    """(X, y) of a workload; ``size="tiny"`` keeps the script's tests fast."""
    n = N_BINARY if size == "full" else 400
    if name == "text":  # benchmarks/shapes.py's Zipf-distributed sparse columns (bag-of-words-like rows)
        from shapes import make_data

        spec = dict(data="zipf", n=50_000, d=10_000, classes=2, density=0.002)
        if size != "full":
            spec.update(n=2000, d=500, density=0.02)
        X, y, _ = make_data(spec)
        return X, y
    if name == "binary":
        return correlated(n)
    if name == "binary_mc":
        X, y = make_classification(n, 60, n_informative=20, random_state=0)
        return StandardScaler().fit_transform(X), y
    X, y = load_digits(return_X_y=True)
    if size != "full":
        X, y = X[:400], y[:400]
    return StandardScaler().fit_transform(X), y


def ours(**params):
    return TorchLogisticClassifierCV(**{"Cs": 10, **params})


def reference(n_jobs=1):
    return logistic_regression_cv(Cs=10, l1_ratios=(0.0,), scoring="neg_log_loss", n_jobs=n_jobs)


def timed(make, X, y):
    """(wall seconds, CPU seconds of the process, fitted estimator); runs cut short by max_iter count."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = make()
        start, cpu = time.perf_counter(), time.process_time()
        est.fit(X, y)
        return time.perf_counter() - start, time.process_time() - cpu, est


def side_by_side(contenders, X, y, rounds):
    """Wall and CPU seconds of each contender per round, alternating; and each one's last fitted estimator.

    CPU time (all threads of the process) is reported next to wall time because the shared
    machine's load moves wall times by several x; it is the steadier of the two there.
    """
    for make in contenders.values():
        timed(make, X, y)  # warm-up: imports, thread pools, first allocations
    times = {name: [] for name in contenders}
    cpu = {name: [] for name in contenders}
    fitted = {}
    for _ in range(rounds):
        for name, make in contenders.items():
            time.sleep(QUIET_S)
            seconds, cpu_seconds, fitted[name] = timed(make, X, y)
            times[name].append(seconds)
            cpu[name].append(cpu_seconds)
    return times, cpu, fitted


# A fresh process fits one contender and prints its resident memory before the fit and
# at its peak (VmHWM after resetting it): both libraries imported and warmed up first, so
# that the figure is the fit's, not the size of torch's shared libraries.
PEAK_CHILD = """
import sys, warnings
sys.path.insert(0, {here!r})
warnings.simplefilter("ignore")
import numpy as np
import cv
X, y = cv.data({name!r}, {size!r})
make = {{
    "cv": lambda: cv.ours(),
    "single": lambda: cv.TorchLogisticClassifier(),
    "reference": lambda: cv.reference(),
}}[sys.argv[1]]
for warm in (cv.ours(Cs=2, cv=2), cv.TorchLogisticClassifier(max_iter=2), cv.reference()):
    warm.fit(X[:200], y[:200])
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
before = status("VmRSS:")
open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM) to the current resident size
make().fit(X, y)
print(before, status("VmHWM:"))
"""


def peak_memory(who, name, size):
    """MiB added to the resident size at the peak of the fit of ``who`` ("cv", "single", "reference")."""
    code = PEAK_CHILD.format(here=str(HERE), name=name, size=size)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    out = subprocess.run([sys.executable, "-c", code, who], capture_output=True, text=True, env=env)
    if out.returncode:
        raise RuntimeError(f"the memory measurement of {who} failed:\n{out.stderr}")
    before, peak = map(int, out.stdout.split())
    return (peak - before) / 2**20


def workload(name, size="full", rounds=3, memory=True, orders=False):
    """One workload: times, choice, score gap and (optionally) peak memory and the batch/path orders.

    LogisticRegressionCV(n_jobs=2) runs at full size only: its process pool's start-up
    is most of a tiny run's time.
    """
    X, y = data(name, size)
    contenders = {"ours": ours, "reference": reference}
    if size == "full":
        contenders["reference_2_jobs"] = lambda: reference(n_jobs=2)
    if orders:
        contenders["ours_path_order"] = lambda: _path_order()
    times, cpu, fitted = side_by_side(contenders, X, y, rounds)
    a, b = fitted["ours"], fitted["reference"]
    best = {who: min(t) for who, t in times.items()}
    result = {
        "n": X.shape[0],
        "shape": list(X.shape),
        "ratio": best["ours"] / best["reference"],
        "median_ratio": statistics.median(o / r for o, r in zip(times["ours"], times["reference"], strict=True)),
        "ours_s": best["ours"],
        "reference_s": best["reference"],
        "times": times,
        "cpu_times": cpu,
        "cpu_ratio": min(cpu["ours"]) / min(cpu["reference"]),
        "C_ours": float(a.C_),
        "C_reference": float(b.C_),
        "max_scores_diff": float(np.abs(a.scores_ - b.scores_).max()),
        # Up to scikit-learn's chosen C (the last axis is C): above it the folds are nearly separable at the
        # largest Cs, and each solver's scores depend on where its iterations meet tol (docs/user_guide/cv.rst).
        "max_scores_diff_to_chosen_C": float(
            np.abs(a.scores_ - b.scores_)[..., : int(np.searchsorted(np.asarray(b.Cs_), b.C_)) + 1].max()
        ),
        "mean_score_at_C_ours": float(a.scores_.mean(axis=0).max()),
        "mean_score_at_C_reference": float(b.scores_.mean(axis=0).max()),
        "n_iter_ours": int(a.n_iter_.sum()),
        "n_iter_reference": int(b.n_iter_.sum()),
    }
    if "reference_2_jobs" in best:
        result["ratio_2_jobs"] = best["ours"] / best["reference_2_jobs"]
        result["reference_2_jobs_s"] = best["reference_2_jobs"]
    if orders:
        result["path_order_s"] = best["ours_path_order"]
        result["batch_over_path"] = best["ours"] / best["ours_path_order"]
    if memory:
        for who in ("cv", "single", "reference"):
            result[f"peak_{who}_mb"] = peak_memory(who, name, size)
        result["X_mb"] = (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes if sp.issparse(X) else X.nbytes) / 2**20
    return result


def _path_order():
    est = ours()
    est._order = "path"
    return est


TITLES = {
    "binary": "binary {n} x 60, correlated features (AR(1) 0.9)",
    "binary_mc": "binary {n} x 60, make_classification",
    "digits": "digits {n} x 64, multinomial (10 classes)",
    "text": "text {n} x {d}, sparse Zipf columns, binary",
}


def rows(results):
    """Markdown table rows of :func:`workload` results."""
    lines = []
    for name, r in results.items():
        memory = (
            f"CV +{r['peak_cv_mb']:.0f} MiB, single fit +{r['peak_single_mb']:.0f} MiB, "
            f"LogisticRegressionCV +{r['peak_reference_mb']:.0f} MiB (X {r['X_mb']:.0f} MiB float64)"
            if "peak_cv_mb" in r
            else ""
        )
        order = f"; path order {r['path_order_s']:.2f} s" if "path_order_s" in r else ""
        two = f" ({r['reference_2_jobs_s']:.2f} s with n_jobs=2)" if "ratio_2_jobs" in r else ""
        two_ratio = f"; {r['ratio_2_jobs']:.2f} vs n_jobs=2" if "ratio_2_jobs" in r else ""
        title = TITLES[name].format(n=r["n"], d=r["shape"][1])
        lines.append(
            f"| {title} | {r['ours_s']:.2f} s{order} | {r['reference_s']:.2f} s{two} "
            f"| **{r['ratio']:.2f}** (median {r['median_ratio']:.2f}; CPU time {r['cpu_ratio']:.2f}{two_ratio}) "
            f"| C {r['C_ours']:.3g} vs {r['C_reference']:.3g}; "
            f"max scores_ diff {r['max_scores_diff']:.1e} ({r['max_scores_diff_to_chosen_C']:.1e} up to the chosen C) "
            f"| {memory} |"
        )
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=["full", "tiny"], default="full")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", choices=sorted(TITLES))
    parser.add_argument("--orders", action="store_true", help="also time the path order")
    parser.add_argument("--out-dir", type=Path, default=HERE)
    parser.add_argument("--threads", type=int, help="limit torch and BLAS to this many threads (default: theirs)")
    args = parser.parse_args(argv)
    if args.threads:
        import torch
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(args.threads)
        threadpool_limits(args.threads)
    results = {}
    for name in TITLES:
        if args.only and name not in args.only:
            continue
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results[name] = workload(name, args.size, args.rounds, orders=args.orders)
        write(results, args)  # after every workload: a long run cut short keeps what it measured


def write(results, args):
    """cv_results[-tiny].md and .json in ``args.out_dir``; the table is printed too."""
    header = [
        "| workload | TorchLogisticClassifierCV | LogisticRegressionCV(n_jobs=1) | time ratio (best of "
        f"{args.rounds}) | choice and scores | peak memory added by the fit |",
        "|---|---|---|---|---|---|",
    ]
    text = "\n".join(header + rows(results)) + "\n"
    print(text)
    suffix = ("" if args.size == "full" else f"-{args.size}") + (f"-{args.threads}thread" if args.threads else "")
    threads = f", {args.threads} thread(s) each" if args.threads else ""
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / f"cv_results{suffix}.md").write_text(
        "# TorchLogisticClassifierCV against LogisticRegressionCV\n\n"
        f"Defaults of both (10 Cs, 5 folds, neg_log_loss, tol 1e-4; ours float32){threads}. "
        f"Machine: {_cpu_name()}, {os.cpu_count()} cores ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}). "
        "The machine is shared with other jobs: ratios are indicative. Above the chosen C the folds are nearly "
        "separable and each solver's scores depend on where its iterations meet tol, so they differ more there "
        "than up to it (docs/user_guide/cv.rst, 'Agreement and speed').\n\n" + text
    )
    (args.out_dir / f"cv_results{suffix}.json").write_text(json.dumps(results, indent=2))


def _cpu_name():
    """The CPU's model name (the architecture where /proc/cpuinfo does not tell): figures from one machine do not
    transfer to another (an AMD EPYC and an Intel Xeon of this project's differ in which BLAS is faster)."""
    import platform

    from torchlogit._threads import cpuinfo_field

    return cpuinfo_field("model name") or platform.processor() or platform.machine()


if __name__ == "__main__":
    main()
