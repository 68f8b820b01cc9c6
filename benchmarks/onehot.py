"""One-hot encoded categories: the sparse matrix ``OneHotEncoder`` returns, many rows identical.

200k rows of 3 categorical columns with 10 levels each (1000 distinct rows, 30 columns, CSR,
float64), a binary target of the first column; ours (default float32) against
``LogisticRegression()``, one process, contenders alternating after a warm-up, best of
``--rounds``::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/onehot.py

Nearly every row ties with others, so the canonical rows (``torchlogit/_rows.py``) settle
ties over almost all of them: 2026-12-06, Intel Xeon (2 cores, loaded), the tied sparse rows'
keys built in a Python loop took 0.36 s a fit, fixed-width padded keys built at once 0.12 s,
against scikit-learn's 0.05-0.10 s. Ranked by a hash of their keys rather than a byte sort
(same machine, quiet, 2026-12-06 23:45 UTC, the code before and after alternating in
separate processes, two runs each): 0.112-0.114 -> 0.075-0.077 s against scikit-learn's
0.051-0.059 s (2.2x -> 1.3-1.5x); ``--dense`` 0.28-0.30 -> 0.17-0.19 s against
0.11-0.12 s (2.3-2.8x -> 1.6-1.8x), 6 iterations each. ``--dense`` fits the same dummies as a dense array (what
``pandas.get_dummies`` gives). Dense tied rows ranked in row order (``_rows.tied_ranks``, 2026-12-07,
quiet): our ``--dense`` fit alone (best of 15, no scikit-learn fit between) 0.106-0.117 -> 0.091-0.093 s; in this
script, alternating with scikit-learn, whose BLAS threads spin after its fits, 0.156-0.162 -> 0.123-0.167 s against
0.11-0.14 s (too noisy to read more into). Tied sparse rows keyed, hashed and checked a block of rows at a time
(``_rows._sparse_tied_ranks``, 2026-12-07, quiet, best of 7, the versions in turn): 0.059 -> 0.062 s, and 0.061-0.062 s
once the few distinct rows' keys are built once for the check, against scikit-learn's 0.048-0.051 s (1.18-1.25x),
for a peak of the fit half as high (200k rows of 30 five-level columns: 187 -> 97-99 MB added). ``--size tiny``
runs it on 2000 rows (the test suite).
"""

import argparse
import json
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder

from torchlogit import TorchLogisticClassifier


def onehot_problem(n, levels=10, columns=3, seed=0, dense=False):
    rng = np.random.default_rng(seed)
    categories = rng.integers(0, levels, size=(n, columns))
    X = OneHotEncoder(sparse_output=not dense).fit_transform(categories)  # CSR (or dense with --dense), float64
    y = (rng.random(n) < 1 / (1 + np.exp(-(categories[:, 0] % 3 - 1.0)))).astype(int)
    return X, y


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["full", "tiny"], default="full")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dense", action="store_true", help="the same dummies as a dense array (pandas.get_dummies)")
    args = parser.parse_args(argv)
    X, y = onehot_problem(200_000 if args.size == "full" else 2_000, dense=args.dense)
    contenders = {"torchlogit": TorchLogisticClassifier, "LogisticRegression": LogisticRegression}
    for make in contenders.values():  # warm-up: imports, first-call costs
        make().fit(X, y)
    times = {name: [] for name in contenders}
    for _ in range(args.rounds):
        for name, make in contenders.items():
            start = time.perf_counter()
            make().fit(X, y)
            times[name].append(time.perf_counter() - start)
    result = {
        "shape": list(X.shape),
        "distinct_rows": int(len(np.unique(X if args.dense else X.toarray(), axis=0))),
        "best_s": {name: min(t) for name, t in times.items()},
        "n_iter": {name: int(make().fit(X, y).n_iter_[0]) for name, make in contenders.items()},
    }
    result["ratio"] = result["best_s"]["torchlogit"] / result["best_s"]["LogisticRegression"]
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
