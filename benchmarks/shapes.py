"""torchlogit against every solver a speed-minded user could pick, on the shapes logistic regression meets.

Unlike ``run.py`` (workloads chosen in our favour: ``make_classification`` with many
informative features, against scikit-learn's default solver only), this matrix covers
dense tall data (binary and multinomial), dense wide data (n ~ d), many small fits,
sparse text-like data (uniform and Zipf column frequencies, 1% and 0.05% density,
10^3 to 10^5 columns), with and without sample weights, L2 and L1. Dense features are
correlated Gaussians (Toeplitz covariance ``rho^|i-j|``), not ``make_classification``.

Contenders: torchlogit ("lbfgs" and "newton-cholesky"), scikit-learn's lbfgs,
newton-cholesky, liblinear and saga where they apply, and glum (optional: ``pip install
glum``; skipped when absent). Each workload runs with 1 thread and with 2 threads
(``threadpoolctl`` and ``torch.set_num_threads``), contenders alternating (the order
reversed every other round, a pause of ``QUIET_S`` before each fit), best of ``--rounds``.
Every fit reports its time, its iterations and its objective gap to a tight optimum (the
best objective of tight-tolerance float64 fits), all computed in float64 by the same function.

Full matrix (a quiet machine; about half an hour)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/shapes.py

``--quick`` runs every workload at a tiny size in well under a minute (CI).
``--optimum-from benchmarks/shapes_results.json`` takes each workload's tight optimum
from an earlier run on the same (seeded) data instead of fitting it again: scikit-learn's
tight fit alone takes minutes on the 100k-column workloads. A fit that ends below that
optimum gets a gap of 0.
"""

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import sklearn
import threadpoolctl
import torch
from scipy.special import log_expit, logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn_reference import logistic_regression  # 1.9 spelling on any scikit-learn release

import torchlogit
from torchlogit import TorchLogisticClassifier

HERE = Path(__file__).parent

# name: (kind of data, n_samples, n_features, extra); --quick divides n_samples and caps n_features.
WORKLOADS = {
    "dense tall binary": dict(data="dense", n=300_000, d=100, classes=2),
    "dense tall binary, weights": dict(data="dense", n=300_000, d=100, classes=2, weights=True),
    "dense tall multinomial": dict(data="dense", n=100_000, d=50, classes=10),
    "dense wide binary": dict(data="dense", n=3_000, d=2_000, classes=2),
    "dense tall binary, L1": dict(data="dense", n=100_000, d=100, classes=2, l1=True),
    "10 small fits": dict(data="dense", n=20_000, d=20, classes=2, repeat=10),
    "sparse uniform 1%, 5000 cols": dict(data="uniform", n=200_000, d=5_000, density=0.01, classes=2),
    "sparse uniform 1%, weights": dict(data="uniform", n=200_000, d=5_000, density=0.01, classes=2, weights=True),
    "sparse Zipf 1%, 1000 cols": dict(data="zipf", n=200_000, d=1_000, density=0.01, classes=2),
    "sparse Zipf 0.05%, 100k cols": dict(data="zipf", n=200_000, d=100_000, density=0.0005, classes=2),
    "sparse Zipf 0.05%, 100k cols, 5 classes": dict(data="zipf", n=200_000, d=100_000, density=0.0005, classes=5),
    "sparse uniform 1%, L1": dict(data="uniform", n=100_000, d=5_000, density=0.01, classes=2, l1=True),
}
QUICK_DIVISOR = 200
# Seconds of pause before each timed fit (see run_workload).
QUIET_S = 0.5
QUICK_MAX_FEATURES = 100
# Dense Hessians beyond this many coefficients are not what newton-cholesky (or glum's IRLS) is for.
NEWTON_MAX_COEFFICIENTS = 2_500


# --------------------------------------------------------------------- data
def make_data(spec, seed=0):
    """(X, y, sample_weight or None) for a workload spec."""
    rng = np.random.default_rng(seed)
    n, d, K = spec["n"], spec["d"], spec["classes"]
    if spec["data"] == "dense":
        rho = 0.8  # correlated features: Toeplitz covariance rho^|i-j|, drawn as an AR(1) chain
        X = np.empty((n, d))
        X[:, 0] = rng.standard_normal(n)
        for j in range(1, d):
            X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * rng.standard_normal(n)
        scale = 1.0 / np.sqrt(d)
    else:
        per_row = max(1, round(spec["density"] * d))
        if spec["data"] == "zipf":
            p = 1.0 / np.arange(1, d + 1)
            cols = rng.choice(d, size=n * per_row, p=p / p.sum())
        else:
            cols = rng.integers(0, d, n * per_row)
        X = sp.csr_matrix(
            (rng.random(n * per_row), cols.astype(np.int32), np.arange(0, n * per_row + 1, per_row)), shape=(n, d)
        )
        X.sum_duplicates()
        scale = 3.0 / np.sqrt(per_row)
    W = rng.standard_normal((d, K if K > 2 else 1)) * scale
    logits = np.asarray(X @ W)
    if K == 2:
        y = (rng.random(n) < 1 / (1 + np.exp(-logits[:, 0]))).astype(int)
    else:
        gumbel = -np.log(-np.log(rng.random((n, K))))
        y = np.argmax(logits + gumbel, axis=1)
    weight = rng.uniform(0.0, 3.0, n) if spec.get("weights") else None
    return X, y, weight


def objective(X, y, weight, coef, intercept, C, l1_ratio):
    """scikit-learn's LogisticRegression objective, in float64."""
    weight = np.ones(X.shape[0]) if weight is None else weight
    S = weight.sum()
    z = np.asarray(X @ coef.T, dtype=np.float64) + intercept
    if coef.shape[0] == 1:
        sign = np.where(y == np.max(y), 1.0, -1.0)
        loss = -log_expit(sign * z[:, 0])
    else:
        loss = logsumexp(z, axis=1) - z[np.arange(len(y)), np.searchsorted(np.unique(y), y)]
    penalty = (1 - l1_ratio) / 2 * np.sum(coef**2) + l1_ratio * np.sum(np.abs(coef))
    return float(weight @ loss / S + penalty / (C * S))


# --------------------------------------------------------------- contenders
class Glum:
    """glum's GeneralizedLinearRegressor as a binary logistic regression with scikit-learn's objective."""

    def __init__(self, C, l1_ratio, n_weight, tol=1e-4):
        self.C, self.l1_ratio, self.n_weight, self.tol = C, l1_ratio, n_weight, tol

    def fit(self, X, y, sample_weight=None):
        from glum import GeneralizedLinearRegressor

        # glum: mean deviance / 2 (= mean log-loss) + alpha * penalty, weights normalised to sum 1.
        S = self.n_weight if sample_weight is None else sample_weight.sum()
        self.model_ = GeneralizedLinearRegressor(
            family="binomial", alpha=1.0 / (self.C * S), l1_ratio=self.l1_ratio, gradient_tol=self.tol
        ).fit(X, (y == np.max(y)).astype(float), sample_weight=sample_weight)
        self.coef_ = self.model_.coef_[None, :]
        self.intercept_ = np.atleast_1d(self.model_.intercept_)
        self.n_iter_ = np.atleast_1d(self.model_.n_iter_)
        return self


def contenders(spec, X, C, l1_ratio, glum_available):
    """{name: factory(tol)} of the solvers that apply to this workload."""
    binary = spec["classes"] == 2
    n_coef = (X.shape[1] + 1) * (1 if binary else spec["classes"])
    l1 = l1_ratio > 0
    # max_iter=1000 for every L-BFGS, ours included: the default 100 stops some sparse fits short of scikit-learn's gap.
    out = {"torchlogit lbfgs": lambda tol: TorchLogisticClassifier(C=C, l1_ratio=l1_ratio, tol=tol, max_iter=1000)}
    if not l1 and n_coef <= NEWTON_MAX_COEFFICIENTS:
        out["torchlogit newton-cholesky"] = lambda tol: TorchLogisticClassifier(C=C, solver="newton-cholesky", tol=tol)
    if not l1:
        out["sklearn lbfgs"] = lambda tol: LogisticRegression(C=C, tol=tol, max_iter=1000)
        if n_coef <= NEWTON_MAX_COEFFICIENTS:
            out["sklearn newton-cholesky"] = lambda tol: LogisticRegression(C=C, solver="newton-cholesky", tol=tol)
    if binary and (l1 or sp.issparse(X)):
        # liblinear penalises the intercept (a different objective); listed where users pick it.
        out["sklearn liblinear"] = lambda tol: logistic_regression(C=C, l1_ratio=l1_ratio, solver="liblinear", tol=tol)
    if sp.issparse(X) or l1:
        out["sklearn saga"] = lambda tol: logistic_regression(
            C=C, l1_ratio=l1_ratio, solver="saga", tol=tol, max_iter=1000
        )
    if glum_available and binary and n_coef <= NEWTON_MAX_COEFFICIENTS:
        # glum's IRLS forms the dense (d + 1)^2 Hessian too: 100k columns would need 80 GB.
        out["glum"] = lambda tol: Glum(C, l1_ratio, X.shape[0], tol=tol)
    return out


def fit_once(factory, X, y, weight, repeat, tol=1e-4):
    """(wall seconds, CPU seconds of this process, the last model)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start, cpu_start = time.perf_counter(), time.process_time()
        for _ in range(repeat):
            model = factory(tol).fit(X, y, sample_weight=weight)
        return time.perf_counter() - start, time.process_time() - cpu_start, model


def tight_optimum(spec, X, y, weight, C, l1_ratio, glum_available):
    """The lowest float64 objective of tight-tolerance fits (the reference for every gap)."""
    values = []
    tight = [lambda: TorchLogisticClassifier(C=C, l1_ratio=l1_ratio, dtype="float64", tol=1e-10, max_iter=10_000)]
    if l1_ratio == 0:
        tight.append(lambda: LogisticRegression(C=C, tol=1e-10, max_iter=10_000))
    for make in tight:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = make().fit(X, y, sample_weight=weight)
        values.append(objective(X, y, weight, model.coef_, model.intercept_, C, l1_ratio))
    return min(values)


# ---------------------------------------------------------------- running
def run_workload(name, spec, threads, rounds, glum_available, known_optimum=None):
    X, y, weight = make_data(spec)
    C, l1_ratio = (0.1, 1.0) if spec.get("l1") else (1.0, 0.0)
    repeat = spec.get("repeat", 1)
    if known_optimum is None:
        best = tight_optimum(spec, X, y, weight, C, l1_ratio, glum_available)
    else:  # from an earlier run on the same data (the data are seeded); a fit below it has gap 0
        best = known_optimum
    fits = contenders(spec, X, C, l1_ratio, glum_available)
    results = []
    for n_threads in threads:
        with threadpoolctl.threadpool_limits(n_threads):
            torch.set_num_threads(n_threads)
            times = {k: [] for k in fits}
            cpu_times = {k: [] for k in fits}
            models = {}
            for factory in fits.values():  # warm-up (imports, first-call costs)
                fit_once(factory, X[:200], y[:200], None if weight is None else weight[:200], 1)
            for round_ in range(rounds):
                # Each round in the other order, with a pause before each fit: the previous contender's
                # BLAS or OpenMP threads spin for about 0.1 s after its last call and would take a core
                # from whichever contender always came next (benchmarks/run.py's QUIET_S).
                order = list(fits.items()) if round_ % 2 == 0 else list(fits.items())[::-1]
                for name_, factory in order:
                    time.sleep(QUIET_S)
                    elapsed, cpu, models[name_] = fit_once(factory, X, y, weight, repeat)
                    times[name_].append(elapsed)
                    cpu_times[name_].append(cpu)
            for name_, model in models.items():
                value = objective(X, y, weight, model.coef_, model.intercept_, C, l1_ratio)
                results.append(
                    dict(
                        contender=name_,
                        threads=n_threads,
                        time=min(times[name_]),
                        cpu_time=min(cpu_times[name_]),
                        n_iter=int(np.max(model.n_iter_)),
                        objective=value,
                        gap=max(value - best, 0.0),
                    )
                )
    shape = f"{X.shape[0]} x {X.shape[1]}" + (f", {spec['classes']} classes" if spec["classes"] > 2 else "")
    if sp.issparse(X):
        shape += f", {X.nnz / np.prod(X.shape):.2%} non-zero"
    if repeat > 1:
        shape += f", {repeat} fits"
    return dict(name=name, shape=shape, penalty="L1" if l1_ratio else "L2", optimum=best, fits=results)


def verdict(workload, threads, key="time"):
    """(our fit, the fastest comparable contender's fit) by ``key`` ("time": wall, "cpu_time": this process's CPU).

    Comparable: an objective gap within 10x of ours (or 1e-8).
    """
    fits = [f for f in workload["fits"] if f["threads"] == threads]
    ours = min((f for f in fits if f["contender"].startswith("torchlogit")), key=lambda f: f[key])
    bound = max(10 * ours["gap"], 1e-8)
    others = [f for f in fits if not f["contender"].startswith("torchlogit") and f["gap"] <= bound]
    rival = min(others, key=lambda f: f[key]) if others else None
    return ours, rival


def machine():
    return dict(
        cpu=platform.processor() or platform.machine(),
        cores=os.cpu_count(),
        python=platform.python_version(),
        torch=torch.__version__,
        sklearn=sklearn.__version__,
        torchlogit=torchlogit.__version__,
        blas=[p.get("internal_api") for p in threadpoolctl.threadpool_info()],
    )


def _ratio(ours, rival, key):
    if rival is None or key not in ours or key not in rival:
        return "—"
    ratio = ours[key] / rival[key]
    return f"{ratio:.2f}x ({'we win' if ratio <= 1 else 'we lose'})"


def markdown(report):
    lines = [
        "| workload | penalty | threads | torchlogit (best solver) | fastest comparable contender | ratio (wall) "
        "| ratio (CPU) |",
        "|---|---|---|---|---|---|---|",
    ]
    for w in report["workloads"]:
        for threads in report["threads"]:
            ours, rival = verdict(w, threads)
            mine = f"{ours['time']:.3f} s ({ours['contender'][11:]}, {ours['n_iter']} it, gap {ours['gap']:.1e})"
            theirs = "none"
            if rival is not None:
                theirs = f"{rival['time']:.3f} s ({rival['contender']}, {rival['n_iter']} it, gap {rival['gap']:.1e})"
            # The CPU-time verdict picks its own fastest fits (the same gap rule).
            cpu_ours, cpu_rival = verdict(w, threads, key="cpu_time") if "cpu_time" in ours else (ours, None)
            lines.append(
                f"| {w['name']} ({w['shape']}) | {w['penalty']} | {threads} | {mine} | {theirs} | "
                f"{_ratio(ours, rival, 'time')} | {_ratio(cpu_ours, cpu_rival, 'cpu_time')} |"
            )
    lines += [
        "",
        "Every fit:",
        "",
        "| workload | threads | contender | time (s) | CPU (s) | iterations | gap |",
        "|---|---|---|---|---|---|---|",
    ]
    for w in report["workloads"]:
        for f in w["fits"]:
            cpu = f"{f['cpu_time']:.3f}" if "cpu_time" in f else "—"
            cells = [w["name"], f["threads"], f["contender"], f"{f['time']:.3f}", cpu, f["n_iter"], f"{f['gap']:.1e}"]
            lines.append("| " + " | ".join(map(str, cells)) + " |")
    m = report["machine"]
    load = report.get("load_average")
    lines += [
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores; torch {m['torch']}, scikit-learn {m['sklearn']}, "
        f"torchlogit {m['torchlogit']}. Mode: {report['mode']}. Ratio: our time / the fastest contender whose "
        "objective gap is within 10x of ours (ratio < 1: we win); wall-clock time, and this process's CPU time "
        "(which other jobs on a loaded machine inflate less; with 2 threads it sums both threads). Gap: float64 "
        "objective minus the best tight-tolerance optimum."
        + (f" Load average (1 min) at start {load[0]:.1f}, at end {load[1]:.1f}." if load else ""),
    ]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one round, one thread (CI)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--only", nargs="*", help="run only the workloads whose name contains one of these")
    parser.add_argument("--out-dir", type=Path, default=HERE)
    parser.add_argument(
        "--optimum-from",
        type=Path,
        help="take each workload's tight optimum from this earlier results JSON (same workload, same size) "
        "instead of fitting it again: the tight scikit-learn fit of the 100k-column workloads takes minutes",
    )
    args = parser.parse_args()
    known = {}
    if args.optimum_from is not None:
        earlier = json.loads(args.optimum_from.read_text())
        if earlier.get("mode") == ("quick" if args.quick else "full"):
            known = {w["name"]: w["optimum"] for w in earlier["workloads"]}
    if args.quick:
        args.rounds, args.threads = 1, [1]
    try:
        import glum  # noqa: F401

        glum_available = True
    except ImportError:
        glum_available = False
    load_start = os.getloadavg()[0]
    suffix = "-quick" if args.quick else ""
    args.out_dir.mkdir(parents=True, exist_ok=True)
    workloads = []
    for name, spec in WORKLOADS.items():
        if args.only and not any(part in name for part in args.only):
            continue
        spec = dict(spec)
        if args.quick:
            spec["n"] = max(200, spec["n"] // QUICK_DIVISOR)
            spec["d"] = min(spec["d"], QUICK_MAX_FEATURES)
            spec["repeat"] = min(spec.get("repeat", 1), 2)
            if spec["data"] != "dense":
                spec["density"] = max(spec["density"], 0.02)
        print(f"{name} ...", flush=True)
        workloads.append(run_workload(name, spec, args.threads, args.rounds, glum_available, known.get(name)))
        report = dict(
            mode="quick" if args.quick else "full",
            threads=args.threads,
            glum=glum_available,
            machine=machine(),
            load_average=[load_start, os.getloadavg()[0]],
            workloads=workloads,
        )
        # Written after every workload: a run cut short still leaves what it measured.
        (args.out_dir / f"shapes_results{suffix}.json").write_text(json.dumps(report, indent=1))
        (args.out_dir / f"shapes_results{suffix}.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
