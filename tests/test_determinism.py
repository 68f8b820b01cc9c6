"""Concurrent prediction and bitwise reproducibility across fresh processes."""

import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from torchlogit import TorchLogisticClassifier, TorchMultiLabelClassifier


@pytest.mark.parametrize("Estimator", [TorchLogisticClassifier, TorchMultiLabelClassifier])
def test_predict_proba_from_four_threads_equals_serial(wine, Estimator):
    X, y = wine
    kwargs = (
        {"hidden_layer_sizes": (8,), "random_state": 0, "max_iter": 300}
        if Estimator is TorchMultiLabelClassifier
        else {}
    )
    clf = Estimator(**kwargs).fit(X, y)
    serial = clf.predict_proba(X)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: clf.predict_proba(X), range(16)))
    for result in results:
        np.testing.assert_array_equal(result, serial)


FIT_IN_A_FRESH_PROCESS = """
import sys, warnings, numpy as np
from sklearn.datasets import load_wine
from torchlogit import TorchLogisticClassifier
warnings.simplefilter("ignore")
X, y = load_wine(return_X_y=True)
X = (X - X.mean(0)) / X.std(0)
clf = TorchLogisticClassifier(solver=sys.argv[1], batch_size=32, max_iter=30, random_state=7).fit(X, y)
sys.stdout.write(clf.coef_.tobytes().hex())
"""


@pytest.mark.parametrize("solver", ["lbfgs", "adam", "sgd"])
def test_same_random_state_is_bitwise_identical_in_two_fresh_processes(solver):
    runs = [
        subprocess.run(
            [sys.executable, "-c", FIT_IN_A_FRESH_PROCESS, solver], capture_output=True, text=True, check=True
        ).stdout
        for _ in range(2)
    ]
    assert runs[0] and runs[0] == runs[1]


@pytest.mark.parametrize(
    "make",
    [
        lambda: TorchLogisticClassifier(),
        lambda: TorchLogisticClassifier(solver="newton-cholesky"),
        lambda: TorchMultiLabelClassifier(),
    ],
)
def test_a_full_batch_linear_fit_leaves_numpys_global_generator_alone(make, wine):
    """As LogisticRegression: nothing is random in such a fit, so random_state=None draws nothing (two draws a fit
    changed the numbers a user's script drew after it)."""
    from sklearn.linear_model import LogisticRegression

    X, y = wine
    for estimator in (LogisticRegression(max_iter=5), make()):
        multilabel = isinstance(estimator, TorchMultiLabelClassifier)
        target = np.column_stack([y == 0, y == 1]).astype(int) if multilabel else y
        np.random.seed(0)
        expected = np.random.rand()
        np.random.seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimator.fit(X, target)
        assert np.random.rand() == expected, estimator
    np.random.seed(0)  # a mini-batch fit shuffles: it draws its seed from random_state=None, as MLPClassifier
    TorchLogisticClassifier(solver="adam", max_iter=1).fit(X, y)
    assert np.random.rand() != expected
