"""Default fits on unscaled data: objective gap to a tight optimum, iterations, warnings (issue 13's goals table).

For each data set, as it comes (no scaling), a default ``TorchLogisticClassifier()`` and a default
``LogisticRegression()`` are fitted; the table gives each one's objective minus the optimum (found by
``LogisticRegression(solver="newton-cholesky", tol=1e-12)``), its iteration count, whether it raised a
``ConvergenceWarning``, and for ours how many iterations ran in float64 (the continuation of a stalled
float32 run). The rule the suite asserts (tests/test_convergence.py): ours is no worse than sklearn's
default, or it warned.

The second table is the cost of the float64 continuation: fit time of the default with and without it
(the latter patched out, alternating runs, median of ``--rounds``), on the unscaled sets where float32
stalls and on standardised copies where float32 converges and the continuation never runs.

Run: ``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/honest_defaults.py [--rounds 5]``
"""

import argparse
import statistics
import time
import warnings
from unittest import mock

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris, load_wine, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from torchlogit import TorchLogisticClassifier
from torchlogit._base import BaseTorchClassifier


def datasets():
    """The unscaled sets of issue 13: name -> (X, y)."""
    X_diabetes, y_diabetes = load_diabetes(return_X_y=True)
    X_synthetic, y_synthetic = make_classification(n_samples=500, n_features=20, n_informative=10, random_state=0)
    X_synthetic = X_synthetic * np.logspace(-3, 3, X_synthetic.shape[1])  # feature scales 1e-3 .. 1e3
    return {
        "breast_cancer": load_breast_cancer(return_X_y=True),
        "wine": load_wine(return_X_y=True),
        "digits": load_digits(return_X_y=True),
        "iris": load_iris(return_X_y=True),
        "diabetes>median": (X_diabetes, (y_diabetes > np.median(y_diabetes)).astype(int)),
        "scales_1e-3..1e3": (X_synthetic, y_synthetic),
    }


def objective(clf, X, y, C=1.0):
    """scikit-learn's LogisticRegression objective (unit weights) at a fitted model, in float64."""
    log_proba = clf.predict_log_proba(X)
    index = np.searchsorted(clf.classes_, y)
    coef = np.asarray(clf.coef_, dtype=np.float64)
    return -log_proba[np.arange(len(y)), index].mean() + 0.5 * np.sum(coef * coef) / (C * len(y))


def fit_recording(estimator, X, y):
    """``(fitted, warned, seconds)``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        estimator.fit(X, y)
        seconds = time.perf_counter() - start
    return estimator, any(issubclass(w.category, ConvergenceWarning) for w in caught), seconds


def optimum(X, y):
    clf = LogisticRegression(solver="newton-cholesky", tol=1e-12, max_iter=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    return objective(clf, X, y)


def goals_row(X, y):
    best = optimum(X, y)
    ours, ours_warned, _ = fit_recording(TorchLogisticClassifier(), X, y)
    theirs, theirs_warned, _ = fit_recording(LogisticRegression(), X, y)
    precision = [row["precision"] for row in ours.history_]
    return dict(
        ours_gap=objective(ours, X, y) - best,
        sklearn_gap=objective(theirs, X, y) - best,
        ours_iter=int(ours.n_iter_[0]),
        ours_float64_iter=sum(p == "float64" for p in precision),
        sklearn_iter=int(np.max(theirs.n_iter_)),
        ours_warned=ours_warned,
        sklearn_warned=theirs_warned,
    )


def continuation_cost(X, y, rounds):
    """Median fit seconds of the default with and without the float64 continuation (alternating), and the
    objective + gradient evaluations of each phase (``(float32, float64)``, independent of the machine's load)."""
    with_it, without_it = [], []
    for _ in range(rounds):
        fitted, _, seconds = fit_recording(TorchLogisticClassifier(), X, y)
        with_it.append(seconds)
        with mock.patch.object(BaseTorchClassifier, "_continue_in_float64", lambda *args: None):
            without_it.append(fit_recording(TorchLogisticClassifier(), X, y)[2])
    history = fitted.history_
    evals = [row["func_evals"] for row in history]
    n32 = [row["precision"] for row in history].count("float32")
    evals32 = evals[n32 - 1] if n32 else 0
    return statistics.median(with_it), statistics.median(without_it), evals32, evals[-1] - evals32


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sets = datasets()
    print(
        "| data set | ours: gap to optimum | sklearn: gap | ours: iter (float64) | sklearn: iter "
        "| ours warned | sklearn warned |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, (X, y) in sets.items():
        r = goals_row(X, y)
        print(
            f"| {name} | {r['ours_gap']:.3g} | {r['sklearn_gap']:.3g} | {r['ours_iter']} ({r['ours_float64_iter']}) "
            f"| {r['sklearn_iter']} | {r['ours_warned']} | {r['sklearn_warned']} |"
        )
    print()
    print("| data set | fit s, with float64 continuation | without | ratio | evaluations float32 + float64 |")
    print("|---|---|---|---|---|")
    for name, (X, y) in sets.items():
        for label, data in ((name, X), (f"{name} (standardised)", StandardScaler().fit_transform(X))):
            with_it, without_it, evals32, evals64 = continuation_cost(data, y, args.rounds)
            ratio = with_it / without_it
            print(f"| {label} | {with_it:.4f} | {without_it:.4f} | {ratio:.2f} | {evals32} + {evals64} |")


if __name__ == "__main__":
    main()
