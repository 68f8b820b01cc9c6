"""Randomness belongs to the estimator: concurrent fits in threads give the results of sequential fits, bitwise,
and torch's global RNG is never read or changed by a fit."""

import threading
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning

from torchlogit import TorchLogisticClassifier, TorchMultiLabelClassifier


def _data():
    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, np.eye(3)[y].astype(int), y


CASES = {
    # hidden layer + dropout: initialisation and dropout masks from the module's generators
    "multilabel_mlp_dropout": lambda seed: (
        TorchMultiLabelClassifier(hidden_layer_sizes=(16,), dropout=0.3, max_iter=15, random_state=seed),
        "Y",
    ),
    # adam: mini-batch shuffling from the net's generator
    "logistic_adam": lambda seed: (
        TorchLogisticClassifier(solver="adam", batch_size=16, max_iter=15, random_state=seed),
        "y",
    ),
}


def _fit(make, seed):
    X, Y, y = _data()
    clf, target = make(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, Y if target == "Y" else y)
    return clf.predict_proba(X)


# warnings.catch_warnings is not thread-safe: the threads' ConvergenceWarnings are filtered here instead.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("case", list(CASES))
def test_concurrent_fits_equal_sequential_fits_bitwise(case):
    make = CASES[case]
    sequential = [_fit(make, seed) for seed in (0, 1)]
    assert not np.array_equal(sequential[0], sequential[1])  # the seed matters, so the comparison can fail
    for _ in range(2):
        results = [None, None]
        barrier = threading.Barrier(2)

        def work(i, barrier=barrier, results=results):
            barrier.wait()  # start together, so that the fits interleave
            results[i] = _fit(make, i)

        threads = [threading.Thread(target=work, args=(i,)) for i in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for got, expected in zip(results, sequential, strict=True):
            np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("case", list(CASES))
def test_a_fit_neither_reads_nor_changes_the_global_rng(case):
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = _fit(CASES[case], 0)
    assert torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(456)  # another global state: the same model
    np.testing.assert_array_equal(_fit(CASES[case], 0), first)


def test_partial_fit_with_dropout_leaves_the_global_rng_alone():
    X, Y, _ = _data()
    state = torch.get_rng_state()
    clf = TorchMultiLabelClassifier(hidden_layer_sizes=(8,), dropout=0.5, random_state=0)
    for _ in range(3):
        clf.partial_fit(X, Y, classes=np.arange(3))
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_dropout_draws_from_the_module_generator_not_the_global_cuda_rng():
    X, Y, _ = _data()
    state = torch.cuda.get_rng_state()
    fits = []
    for _ in range(2):
        clf = TorchMultiLabelClassifier(
            hidden_layer_sizes=(16,), dropout=0.3, max_iter=5, device="cuda", random_state=0
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fits.append(clf.fit(X, Y).predict_proba(X))
    np.testing.assert_array_equal(fits[0], fits[1])
    assert torch.equal(torch.cuda.get_rng_state(), state)
