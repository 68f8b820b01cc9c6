"""Side-by-side comparison of TorchLogisticClassifier and sklearn's LogisticRegression."""

import argparse
import json
import sys
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
    return rows, agreement, coef


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


def load_csv(path, target):
    """Features and labels from a CSV file (pandas): every column but ``target`` must be numeric."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is in the test extra
        raise ValueError("--csv needs pandas: pip install pandas") from None
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise ValueError(f"no such file: {path}") from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"cannot read {path} as CSV: {exc}") from None
    if target not in frame.columns:
        raise ValueError(f"column {target!r} is not in {path}; its columns are {list(frame.columns)}")
    features = frame.drop(columns=[target])
    non_numeric = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if non_numeric:
        raise ValueError(f"non-numeric feature columns in {path}: {non_numeric} (encode them first)")
    return features.to_numpy(dtype=np.float64), frame[target].to_numpy()


def synthetic(random_state):
    X, y = datasets.make_classification(
        n_samples=20_000, n_features=50, n_informative=10, n_redundant=0, random_state=random_state
    )
    return X, y


def plot(rows, coef, path):
    """Our coefficients against scikit-learn's (on the diagonal when they agree), and the timings."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ValueError("--plot needs matplotlib: pip install matplotlib") from None
    ours, ref = list(rows)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.scatter(coef[ref].ravel(), coef[ours].ravel(), s=10)
    low, high = float(min(coef[ref].min(), coef[ours].min())), float(max(coef[ref].max(), coef[ours].max()))
    left.plot([low, high], [low, high], color="grey", linewidth=1)
    left.set(xlabel=f"{ref} coef_", ylabel=f"{ours} coef_", title="Coefficients")
    names = list(rows)
    positions = np.arange(len(names))
    right.bar(positions - 0.2, [rows[n]["fit_time"] for n in names], width=0.4, label="fit")
    right.bar(positions + 0.2, [rows[n]["predict_time"] for n in names], width=0.4, label="predict")
    right.set(xticks=positions, xticklabels=names, ylabel="seconds", title="Time")
    right.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv=None):
    """``torchlogit compare`` (also ``python -m torchlogit``); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["compare"]:
        argv = argv[1:]
    parser = argparse.ArgumentParser(
        prog="torchlogit compare",
        description="TorchLogisticClassifier and scikit-learn's LogisticRegression side by side, same settings.",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--dataset", choices=[*sorted(DATASETS), "synthetic"], default="breast_cancer")
    source.add_argument("--csv", metavar="PATH", help="a CSV file; needs --target")
    parser.add_argument("--target", metavar="COLUMN", help="the label column of --csv")
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument("--solver", choices=["lbfgs", "adam", "sgd"], default="lbfgs")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--test-size", type=float, default=0.25)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--plot", metavar="PATH.png", help="write coefficients and timings as a PNG")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON instead of the table")
    args = parser.parse_args(argv)
    try:
        if args.csv:
            if not args.target:
                raise ValueError("--csv needs --target COLUMN")
            X, y = load_csv(args.csv, args.target)
            name = args.csv
        elif args.dataset == "synthetic":
            X, y, name = *synthetic(args.random_state), "synthetic"
        else:
            X, y = DATASETS[args.dataset](return_X_y=True)
            name = args.dataset
        if not args.json:
            print(
                f"fitting both models on {name} ({X.shape[0]} samples, {X.shape[1]} features) ...",
                file=sys.stderr,
                flush=True,
            )
        rows, agreement, coef = compare(
            X,
            y,
            C=args.C,
            device=args.device,
            dtype=args.dtype,
            solver=args.solver,
            test_size=args.test_size,
            random_state=args.random_state,
        )
        if args.plot:
            plot(rows, coef, args.plot)
    except ValueError as exc:
        parser.exit(2, f"torchlogit compare: error: {exc}\n")
    if args.json:
        print(
            json.dumps(
                {
                    "dataset": name,
                    "n_samples": int(X.shape[0]),
                    "n_features": int(X.shape[1]),
                    "settings": {k: getattr(args, k) for k in ("C", "solver", "device", "dtype")},
                    "models": rows,
                    "agreement": agreement,
                },
                indent=2,
            )
        )
    else:
        print(
            f"dataset: {name} ({X.shape[0]} samples, {X.shape[1]} features, {len(np.unique(y))} classes), "
            f"C={args.C}, solver={args.solver}, device={args.device}, dtype={args.dtype}\n"
        )
        print(format_table(rows, agreement))
    return 0


def main_exit():
    """Console-script entry point."""
    sys.exit(main())
