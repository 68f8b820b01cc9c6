"""Columns scaled by 10^k, k in [-20, 20]: how often a default fit reaches the optimum, warns, or stops short silently.

Each case is issue 16's 60 x 3 binary problem (a noisy linear label) with its three columns multiplied by
``10 ** k`` for random ``k``, fitted by ``TorchLogisticClassifier()`` (float32 and float64 alternately), by the same
with L-BFGS's diagonal preconditioner switched off (the behaviour before it existed), and by
``LogisticRegression()``. The optimum is found by SciPy's L-BFGS-B in coordinates where every column has the same
scale (:func:`optimum_in_unit_scale`, also the test suite's reference). A fit "stops short" when it raised no
``ConvergenceWarning`` and its objective is more than 1e-6 relative above the optimum.

Run: ``python benchmarks/extreme_scales.py [--cases 300] [--seed 0]``
"""

import argparse
import warnings
from unittest import mock

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression


def optimum_in_unit_scale(X, y, n_classes, C=1.0):
    """The L2 objective's minimum (float64), found by SciPy's L-BFGS-B on ``w_j * sqrt(max|x_j|^2 + 4 / (C n))`` (the
    square root of a bound on the Hessian's diagonal, the penalty's included), where the problem is well conditioned
    whatever the column scales; returns (objective, function of (coef, intercept))."""
    n, d = X.shape
    scale = np.sqrt(np.abs(X).max(axis=0) ** 2 + 4 / (C * n))
    k = 1 if n_classes == 2 else n_classes
    onehot = np.eye(n_classes)[y]

    def objective(coef, intercept):
        coef, intercept = np.asarray(coef, dtype=np.float64), np.asarray(intercept, dtype=np.float64)
        Z = X @ coef.reshape(k, d).T + intercept
        if k == 1:
            loss = np.mean(np.logaddexp(0, Z[:, 0]) - y * Z[:, 0])
        else:
            loss = np.mean(logsumexp(Z, axis=1) - np.sum(onehot * Z, axis=1))
        return loss + 0.5 * np.sum(coef**2) / (C * n)

    def in_unit_scale(v):
        coef = v[: k * d].reshape(k, d) / scale
        intercept = v[k * d :]
        Z = X @ coef.T + intercept
        if k == 1:
            R = (expit(Z[:, 0]) - y)[:, None] / n
        else:
            R = (np.exp(Z - logsumexp(Z, axis=1, keepdims=True)) - onehot) / n
        grad_coef = (R.T @ X + coef / (C * n)) / scale
        return objective(coef, intercept), np.concatenate([grad_coef.ravel(), R.sum(axis=0)])

    result = minimize(
        in_unit_scale,
        np.zeros(k * d + k),
        jac=True,
        method="L-BFGS-B",
        options=dict(maxiter=10_000, gtol=1e-12, ftol=1e-16),
    )
    return result.fun, objective


def scaled_problem(exponents, seed, n=60):
    rng = np.random.RandomState(seed)
    Z = rng.randn(n, 3)
    y = (Z[:, 0] + 0.5 * rng.randn(n) > 0).astype(int)
    return Z * 10.0 ** np.asarray(exponents), y


def outcome(estimator, X, y, optimum, objective):
    """'warned', 'refused' (ValueError), 'optimum' or 'short' (silently more than 1e-6 relative above the optimum)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            estimator.fit(X, y)
        except ValueError:
            return "refused"
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        return "warned"
    gap = objective(estimator.coef_, estimator.intercept_) - optimum
    return "optimum" if gap <= 1e-6 * max(1.0, abs(optimum)) else "short"


def main():
    from torchlogit import TorchLogisticClassifier

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.RandomState(args.seed)
    contenders = ["torchlogit", "torchlogit, not preconditioned", "LogisticRegression()"]
    counts = {name: {} for name in contenders}
    for case in range(args.cases):
        exponents, seed = rng.randint(-20, 21, size=3), rng.randint(0, 2**16)
        dtype = ("float32", "float64")[case % 2]
        X, y = scaled_problem(exponents, seed)
        optimum, objective = optimum_in_unit_scale(X, y, n_classes=2)
        results = {
            contenders[0]: outcome(TorchLogisticClassifier(dtype=dtype), X, y, optimum, objective),
            contenders[2]: outcome(LogisticRegression(), X, y, optimum, objective),
        }
        with mock.patch("torchlogit._training._preconditioner", return_value=None):
            results[contenders[1]] = outcome(TorchLogisticClassifier(dtype=dtype), X, y, optimum, objective)
        for name, result in results.items():
            counts[name][result] = counts[name].get(result, 0) + 1
            if result == "short" and name == contenders[0]:
                print(f"short: exponents={exponents.tolist()} seed={seed} dtype={dtype}")
    print(f"{args.cases} cases, columns times 10^k, k in [-20, 20], 60 x 3 binary, seed {args.seed}\n")
    print(f"| {'estimator':32} | optimum | warned | refused | stopped short, silently |")
    print(f"|{'-' * 34}|---------|--------|---------|-------------------------|")
    for name in contenders:
        c = counts[name]
        print(
            f"| {name:32} | {c.get('optimum', 0):7} | {c.get('warned', 0):6} | {c.get('refused', 0):7} "
            f"| {c.get('short', 0):23} |"
        )


if __name__ == "__main__":
    main()
