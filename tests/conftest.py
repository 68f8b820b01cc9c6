"""Seeded, module-scoped data shared by the tests."""

import os
import warnings

# scikit-learn's array-API mode needs SciPy's, which is read when SciPy is first imported:
# set here, before any test module imports scipy (tests/test_tensors.py, tests/test_common.py).
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np
import pytest
import torch
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

# The suite's numbers assume the same thread count everywhere (CI has 2 cores).
torch.set_num_threads(min(2, torch.get_num_threads()))


def _standardised(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="session")
def breast_cancer():
    return _standardised(load_breast_cancer)


@pytest.fixture(scope="session")
def wine():
    return _standardised(load_wine)


@pytest.fixture(scope="session")
def digits():
    return _standardised(load_digits)


@pytest.fixture(scope="session")
def iris():
    """Iris with each column standardised to mean 0 and standard deviation 1."""
    X, y = load_iris(return_X_y=True)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


@pytest.fixture(scope="session")
def noisy_binary():
    """120 rows of 4 standard normal features; the label is the first feature plus noise, thresholded at 0."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    return X, (X[:, 0] + 0.5 * rng.normal(size=120) > 0).astype(int)


@pytest.fixture(scope="session")
def datasets(breast_cancer, wine, digits):
    return {"breast_cancer": breast_cancer, "wine": wine, "digits": digits}


@pytest.fixture(scope="module")
def client():
    """An in-process dask cluster of one worker thread (tests/test_dask.py has its own, of two processes)."""
    distributed = pytest.importorskip("distributed", reason="dask is an optional extra")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None)
        client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def rng():
    return np.random.RandomState(0)


@pytest.fixture
def torch_threads():
    """Set torch's thread count for one test, and give the count back after it."""
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available on this machine")


def quiet(fit, *args, **kwargs):
    """``fit(*args, **kwargs)`` with its ConvergenceWarning silenced (a fit stopped early on purpose)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit(*args, **kwargs)


def compared_rows(
    objectives, dtype="float64", iterations=(10, 12), max_iter=100, gradients=(5e-5, 5e-5), solver="lbfgs"
):
    """The two rows of a compare report (ours, scikit-learn's) that ``_compare.explain`` reads, at tol=1e-4 (by
    default both stopped on it: largest gradient entries below tol)."""
    from torchlogit._compare import OURS, REF

    return {
        name: dict(
            solver=solver,
            dtype=dtype,
            tol=1e-4,
            max_iter=max_iter,
            iterations=it,
            objective=obj,
            gradient_max=grad,
            reached_max_iter=it >= max_iter,
        )
        for name, obj, it, grad in zip((OURS, REF), objectives, iterations, gradients, strict=True)
    }
