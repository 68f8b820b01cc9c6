"""Side-by-side comparison of TorchLogisticClassifier and sklearn's LogisticRegression."""

import argparse
import time
import warnings

import numpy as np
from sklearn import datasets
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from ._logistic import TorchLogisticClassifier

DATASETS = {
    "breast_cancer": datasets.load_breast_cancer,
    "digits": datasets.load_digits,
    "wine": datasets.load_wine,
    "iris": datasets.load_iris,
}


def compare(X, y, *, C=1.0, device="cpu", dtype="float32", solver="lbfgs", test_size=0.25, random_state=0):
    """Fit both models on the same standardised split; return their metrics and their agreement."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=random_state, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    models = {
        "TorchLogisticClassifier": TorchLogisticClassifier(
            C=C, device=device, dtype=dtype, solver=solver, random_state=random_state
        ),
        "LogisticRegression": LogisticRegression(C=C, max_iter=1000),
    }
    # One untimed fit first: a process pays a one-time start-up on its first torch
    # optimiser (torch imports its compiler lazily); the timings below are steady state.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        TorchLogisticClassifier(max_iter=2, device=device, dtype=dtype, solver=solver).fit(X_train, y_train)
    rows, proba, coef = {}, {}, {}
    for name, model in models.items():
        start = time.perf_counter()
        model.fit(X_train, y_train)
        fit_time = time.perf_counter() - start
        start = time.perf_counter()
        proba[name] = model.predict_proba(X_test)
        predict_time = time.perf_counter() - start
        coef[name] = np.asarray(model.coef_, dtype=np.float64)
        rows[name] = dict(
            accuracy=accuracy_score(y_test, model.classes_[proba[name].argmax(axis=1)]),
            log_loss=log_loss(y_test, proba[name], labels=model.classes_),
            fit_time=fit_time,
            predict_time=predict_time,
        )
    ours, ref = models
    agreement = dict(
        max_abs_proba_diff=float(np.abs(proba[ours] - proba[ref]).max()),
        max_abs_coef_diff=float(np.abs(coef[ours] - coef[ref]).max()),
    )
    return rows, agreement


def format_table(rows, agreement):
    header = f"{'model':<25}{'accuracy':>10}{'log-loss':>10}{'fit (s)':>10}{'predict (s)':>13}"
    lines = [header, "-" * len(header)]
    for name, r in rows.items():
        lines.append(
            f"{name:<25}{r['accuracy']:>10.4f}{r['log_loss']:>10.4f}{r['fit_time']:>10.4f}{r['predict_time']:>13.5f}"
        )
    lines.append("")
    lines.append(f"max |predict_proba difference|: {agreement['max_abs_proba_diff']:.2e}")
    lines.append(f"max |coef difference|:          {agreement['max_abs_coef_diff']:.2e}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m torchlogit", description=__doc__)
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="breast_cancer")
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument("--solver", choices=["lbfgs", "adam", "sgd"], default="lbfgs")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--test-size", type=float, default=0.25)
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    X, y = DATASETS[args.dataset](return_X_y=True)
    try:
        rows, agreement = compare(
            X,
            y,
            C=args.C,
            device=args.device,
            dtype=args.dtype,
            solver=args.solver,
            test_size=args.test_size,
            random_state=args.random_state,
        )
    except ValueError as exc:
        parser.exit(2, f"error: {exc}\n")
    print(
        f"dataset: {args.dataset} ({X.shape[0]} samples, {X.shape[1]} features, {len(np.unique(y))} classes), "
        f"C={args.C}, solver={args.solver}, device={args.device}, dtype={args.dtype}\n"
    )
    print(format_table(rows, agreement))
    return 0
