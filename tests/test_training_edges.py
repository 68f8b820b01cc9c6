"""Edges of the training loop, the training set and the thread rule that no test held (a mutation survey, stop 49).

The float64 continuation's share of ``max_iter``, a diverged epoch a callback ends, the user's callback objects,
the hold-out's weights and stratification over merged rows, the one-thread rule's MKL / OpenMP hand-back,
nested NumPy-BLAS blocks, and the cross-validated fit's sparse batches.
"""

import numpy as np
import pytest
import torch
from scipy.special import expit
from sklearn.model_selection import train_test_split

from torchlogit import TorchLogisticClassifier, TorchMultiLabelClassifier
from torchlogit._rows import canonical_rows

from .conftest import quiet


def _multilabel(n=120, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    Y = np.c_[X @ [1.0, -1.0, 0.5] + rng.logistic(size=n) > 1.0, X @ [-0.5, 0.0, 1.0] + rng.logistic(size=n) > 0]
    return X, Y.astype(int)


def test_valid_loss_weighs_a_repeated_row_by_the_copies_held_out():
    """S02 (_training_set.TrainingSet.split: factor = share / share). A row repeated 3 times whose copies are split
    between the parts counts in the validation loss once per copy held out, not with its whole merged weight
    (MLPClassifier holds out given rows, so a copy held out is one row)."""
    X, Y = _multilabel(90)
    X, Y = np.r_[X, X[:40], X[:40]], np.r_[Y, Y[:40], Y[:40]]  # 40 rows given 3 times, 50 once
    clf = quiet(
        TorchMultiLabelClassifier(
            solver="adam", early_stopping=True, validation_fraction=0.3, max_iter=1, random_state=0, dtype="float64"
        ).fit,
        X,
        Y,
    )
    rows, _, counts = canonical_rows(X, Y.astype(np.float64), np.ones(len(X)), counts=True)
    given = np.repeat(np.arange(len(counts)), counts)
    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    _, valid = train_test_split(np.arange(len(given)), test_size=0.3, random_state=seed)
    held = np.bincount(given[valid], minlength=len(counts))
    assert ((held > 0) & (held < counts)).any()  # some repeated rows are split between the parts
    z, y = clf.decision_function(X[rows]).astype(np.float64), Y[rows]
    bce = -(y * np.log(expit(z)) + (1 - y) * np.log(expit(-z))).sum(axis=1)
    np.testing.assert_allclose(clf.history_[0]["valid_loss"], (held * bce).sum() / held.sum(), rtol=1e-10)


def test_nested_blas_threads_keep_the_outer_blocks_route(monkeypatch):
    """H10 (_threads._numpy_blas: ``_local.numpy_blas = before`` -> ``False``). A block nested in another (a callback
    of a large binary fit that fits another one) leaves the outer block's products in NumPy's BLAS when it ends."""
    import torchlogit._threads as threads

    monkeypatch.setattr(threads, "numpy_blas_is_faster", lambda: True)
    with threads.blas_threads(threads.SMALL_VALUES, True):
        with threads.blas_threads(threads.SMALL_VALUES, True):
            assert threads.in_numpy_blas()
        assert threads.in_numpy_blas()
    assert not threads.in_numpy_blas()


@pytest.mark.parametrize("users", [1, 2])
def test_a_small_fit_leaves_the_other_openmp_runtimes_alone(users, torch_threads):
    """H11 (_threads.threads_for: ``mkl not in (None, 1)`` -> ``mkl not in (None,)`` before ``_restore_mkl``). A small
    fit (its blocks nested in its own one-thread block, or under a user's ``torch.set_num_threads(1)``) has no MKL
    count to give back, and must not leave an OpenMP limit of 1 on the process's other OpenMP runtimes
    (scikit-learn's own libgomp, which its KMeans / HistGradientBoosting use)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def openmp():
        return sorted(
            (i["filepath"], i["num_threads"]) for i in threadpoolctl.threadpool_info() if i["user_api"] == "openmp"
        )

    X, Y = _multilabel()
    with threadpoolctl.threadpool_limits(limits=2, user_api="openmp"):
        torch_threads(users)
        before = openmp()
        TorchLogisticClassifier().fit(X, Y[:, 0])
        assert openmp() == before


def test_early_stopping_stratifies_the_hold_out_on_the_labels_of_the_rows_it_holds_out():
    """S10 (_training_set.hold_out: ``targets.stratify[rows]`` -> ``targets.stratify``). Binary 1-D classes are held
    out with stratify=y (MLPClassifier's split) drawn over the rows in canonical order: the labels must follow the rows
    into that order. 90 negatives then 10 positives, validation_fraction=0.2: 2 positives of 20 held out, and the
    recorded valid_loss is the log-loss on exactly the rows that split names."""
    rng = np.random.RandomState(0)
    X = rng.standard_normal((100, 3))
    y = np.r_[np.zeros(90, int), np.ones(10, int)]
    clf = quiet(
        TorchMultiLabelClassifier(
            (), solver="adam", early_stopping=True, validation_fraction=0.2, max_iter=1, random_state=3, dtype="float64"
        ).fit,
        X,
        y,
    )
    rows, _ = canonical_rows(X, y.astype(np.float64), np.ones(len(X)))
    assert not np.array_equal(rows, np.arange(100))
    seed = np.random.RandomState(3).randint(np.iinfo(np.int32).max)
    valid = rows[train_test_split(np.arange(100), test_size=0.2, random_state=seed, stratify=y[rows])[1]]
    assert y[valid].sum() == 2
    p = clf.predict_proba(X[valid])[np.arange(20), y[valid]]
    np.testing.assert_allclose(clf.history_[0]["valid_loss"], -np.log(p).mean(), rtol=1e-10)


@pytest.mark.parametrize("max_iter", [8, 10, 12])
def test_a_float32_newton_run_continued_in_float64_stops_at_max_iter(max_iter):
    """T10 (_training._continue_in_float64: ``remaining = self.max_iter - len(net.history)`` -> ``self.max_iter``).
    A float32 newton-cholesky run that stalls and goes on in float64 counts both phases towards max_iter, as
    LogisticRegression's n_iter_ never exceeds max_iter (standardised breast cancer, tol=0: at max_iter=10 the
    mutant reported n_iter_=[17])."""
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    clf = quiet(TorchLogisticClassifier(solver="newton-cholesky", dtype="float32", tol=0, max_iter=max_iter).fit, X, y)
    assert clf.n_iter_[0] <= max_iter and len(clf.history_) <= max_iter


def test_a_mini_batch_fit_a_callback_stops_after_it_diverged_is_refused():
    """T13 (_training._train: the final ``check_finite_parameters`` skipped). skorch's convention: a user callback
    raising KeyboardInterrupt in on_epoch_end ends the fit, before the stopping rule (last) sees the epoch. An epoch
    that diverged to inf/NaN must still raise MLPClassifier's "Solver produced non-finite parameter weights", not
    return a model whose coef_ is NaN (the mutant did, with only "adam was stopped by a callback")."""
    from skorch.callbacks import Callback

    class Stop(Callback):
        def on_epoch_end(self, net, **kwargs):
            raise KeyboardInterrupt

    rng = np.random.RandomState(0)
    X = rng.standard_normal((200, 3))
    y = (X[:, 0] > 0).astype(int)
    clf = TorchLogisticClassifier(
        solver="adam", learning_rate_init=1e37, batch_size=10, max_iter=5, dtype="float32", callbacks=[("stop", Stop())]
    )
    with pytest.raises(ValueError, match="Solver produced non-finite parameter weights"):
        quiet(clf.fit, X, y)


def test_fit_leaves_the_users_callback_objects_as_they_were():
    """T14 (_training._net_callbacks: ``copy.deepcopy(self.callbacks)`` -> ``list(self.callbacks)``). The docstring:
    "The user's callbacks are copied, so that fit never changes the parameter": a callback's own state starts
    afresh in every fit, and the instance the user passed is never written to (scikit-learn's rule for params)."""
    from skorch.callbacks import Callback

    class Count(Callback):
        def __init__(self):
            self.epochs = 0

        def on_epoch_end(self, net, **kwargs):
            self.epochs += 1
            net.history.record("seen", self.epochs)

    X, Y = _multilabel()
    count = Count()
    clf = TorchLogisticClassifier(solver="adam", max_iter=3, callbacks=[("count", count)])
    first = [row["seen"] for row in quiet(clf.fit, X, Y[:, 0]).history_]
    second = [row["seen"] for row in quiet(clf.fit, X, Y[:, 0]).history_]
    assert count.epochs == 0
    assert first == second == [1, 2, 3]


def test_a_small_sparse_cross_validated_fit_evaluates_on_one_thread(torch_threads, monkeypatch):
    """E12 (extra mutant; _threads.data_values: a torch sparse tensor's ``X._nnz()`` -> ``X.shape[0] * X.shape[1]``).
    TorchLogisticClassifierCV's batched design is a torch sparse tensor: CSR 1000 x 5000 holding 10k values (5M
    cells) is small data, and its evaluations stay on the fit's one thread (the mutant gave them the pool)."""
    import scipy.sparse as sp

    from torchlogit import TorchLogisticClassifierCV
    from torchlogit._batched import BatchedLogistic

    seen = []
    evaluate = BatchedLogistic.evaluate

    def spy(self, x, *args):
        seen.append(torch.get_num_threads())
        return evaluate(self, x, *args)

    monkeypatch.setattr(BatchedLogistic, "evaluate", spy)
    torch_threads(2)
    X = sp.random(1000, 5000, density=0.002, format="csr", random_state=0)
    y = np.arange(1000) % 2
    quiet(TorchLogisticClassifierCV(Cs=2, cv=2, max_iter=5).fit, X, y)
    assert seen and set(seen) == {1} and torch.get_num_threads() == 2


def test_the_too_small_validation_set_message_counts_the_rows_given():
    """E05 (extra mutant; _training_set.hold_out's message: ``len(given)`` -> ``len(counts)``). MLPClassifier's words,
    then the count of rows as given (10: five distinct rows twice each), not of the distinct rows (5)."""
    X, Y = _multilabel(5)
    X, Y = np.r_[X, X], np.r_[Y, Y]
    clf = TorchMultiLabelClassifier((), solver="adam", early_stopping=True, validation_fraction=0.1, max_iter=2)
    with pytest.raises(ValueError, match=r"The validation set is too small\. .*\(early_stopping held out 1 of 10 "):
        clf.fit(X, Y)


def test_products_of_exactly_small_values_get_the_pool_back(torch_threads):
    """E09 (extra mutant; _threads.pooled_products: ``n_values < SMALL_VALUES`` -> ``<=``). Its docstring: "give
    products of at least SMALL_VALUES values back the thread count the block found"; one value fewer stays on one."""
    from torchlogit._threads import SMALL_VALUES, pooled_products, threads_for

    torch_threads(2)
    with threads_for(10):
        with pooled_products(SMALL_VALUES):
            assert torch.get_num_threads() == 2
        with pooled_products(SMALL_VALUES - 1):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2
