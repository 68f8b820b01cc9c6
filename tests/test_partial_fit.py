"""partial_fit: SGDClassifier's contract, and the same training as fit, epoch by epoch."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning

from torchlogit import TorchLogisticClassifier, TorchLogisticClassifierCV, TorchMultiLabelClassifier


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_epochs_of_partial_fit_equal_fit(wine, solver):
    # Same seed, same data: partial_fit shuffles epoch e exactly as fit does, and keeps the
    # optimizer state between calls, so E calls are bitwise E epochs of fit.
    X, y = wine
    params = dict(solver=solver, batch_size=32, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = TorchLogisticClassifier(**params, max_iter=7, n_iter_no_change=100).fit(X, y)
    incremental = TorchLogisticClassifier(**params)
    for _ in range(7):
        incremental.partial_fit(X, y, classes=np.unique(y))
    np.testing.assert_array_equal(incremental.coef_, fitted.coef_)
    np.testing.assert_array_equal(incremental.intercept_, fitted.intercept_)
    assert incremental.n_iter_[0] == 7


@pytest.mark.parametrize("hidden, dropout", [((6,), 0.0), ((6,), 0.5), ((12, 8), 0.5)])
def test_multilabel_hidden_epochs_equal_fit(hidden, dropout):
    """Calls of partial_fit are bitwise epochs of fit, through a pickle between calls too. With dropout each call's
    rebuilt net restarted its dropout layers from their seed: every call drew the first call's masks (a stream of
    blocks trained under fixed masks), and 4 calls differed from 4 epochs of fit by 5e-3; the streams go on now,
    each layer its own (handed back in another order, or the first one's to every layer, they drew other masks)."""
    X, Y = make_multilabel_classification(n_samples=300, n_features=8, n_classes=3, random_state=0)
    X = X / X.max()
    params = dict(hidden_layer_sizes=hidden, dropout=dropout, batch_size=50, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = TorchMultiLabelClassifier(**params, max_iter=5, n_iter_no_change=100).fit(X, Y)
    incremental = TorchMultiLabelClassifier(**params)
    for call in range(5):
        incremental.partial_fit(X, Y, classes=np.arange(3))
        if call == 1:
            incremental = pickle.loads(pickle.dumps(incremental))
    for a, b in zip(incremental.coefs_, fitted.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)
    assert incremental.predict(X[:3]).dtype == Y.dtype


def test_partial_fit_needs_a_mini_batch_solver(breast_cancer):
    assert not hasattr(TorchLogisticClassifier(), "partial_fit")
    assert not hasattr(TorchMultiLabelClassifier(), "partial_fit")  # linear + "auto" is L-BFGS
    assert hasattr(TorchMultiLabelClassifier(hidden_layer_sizes=(4,)), "partial_fit")
    bad = TorchMultiLabelClassifier(hidden_layer_sizes=(0,))  # invalid: hasattr answers, partial_fit says why
    assert hasattr(bad, "partial_fit")
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        bad.partial_fit(np.ones((4, 2)), np.eye(2)[[0, 1, 0, 1]], classes=np.arange(2))
    with pytest.raises(AttributeError) as info:
        _ = TorchLogisticClassifier(solver="lbfgs").partial_fit
    assert "'adam' and 'sgd'" in str(info.value.__cause__)


def test_learning_rate_is_scheduled_between_calls_not_by_lr_scheduler(breast_cancer):
    """skorch's LRScheduler restarted on every call (one epoch of a rebuilt net) and torch's scheduler failed on
    the second call with a raw KeyError ('initial_lr'): refused before any data work, the model kept. The rate
    set between calls is the one the next call uses."""
    from skorch.callbacks import LRScheduler

    X, y = breast_cancer
    scheduled = TorchLogisticClassifier(solver="sgd", callbacks=[("lr", LRScheduler(policy="StepLR", step_size=1))])
    with pytest.raises(ValueError, match="LRScheduler cannot schedule partial_fit"):
        scheduled.partial_fit(X, y, classes=[0, 1])
    assert not hasattr(scheduled, "coef_")
    first = TorchLogisticClassifier(solver="sgd", random_state=0).partial_fit(X, y, classes=[0, 1])
    slow = pickle.loads(pickle.dumps(first)).set_params(learning_rate_init=1e-6).partial_fit(X, y)
    fast = pickle.loads(pickle.dumps(first)).partial_fit(X, y)
    assert np.abs(slow.coef_ - first.coef_).max() < 1e-3 * np.abs(fast.coef_ - first.coef_).max()


def test_classes_contract(breast_cancer):
    X, y = breast_cancer
    clf = TorchLogisticClassifier(solver="sgd", random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call to partial_fit"):
        clf.partial_fit(X, y)
    assert not hasattr(clf, "classes_")  # the failed call changed nothing
    # A first batch may lack a class that later batches have.
    clf.partial_fit(X[y == 0][:20], y[y == 0][:20], classes=[0, 1])
    clf.partial_fit(X, y)
    clf.partial_fit(X, y, classes=[0, 1])
    assert list(clf.classes_) == [0, 1] and clf.n_iter_[0] == 3
    with pytest.raises(ValueError, match="is not the same as on last call"):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="not in classes"):
        clf.partial_fit(X, np.where(y == 1, 5, 0))
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:, :5], y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        TorchLogisticClassifier(solver="sgd").partial_fit(X, np.zeros(len(X)), classes=[0])


def test_class_weight_and_sample_weight(breast_cancer):
    X, y = breast_cancer
    with pytest.raises(ValueError, match="'balanced' is not supported for partial_fit"):
        TorchLogisticClassifier(solver="adam", class_weight="balanced").partial_fit(X, y, classes=[0, 1])
    by_class = TorchLogisticClassifier(solver="adam", class_weight={0: 3.0}, random_state=0)
    by_row = TorchLogisticClassifier(solver="adam", random_state=0)
    by_class.partial_fit(X, y, classes=[0, 1])
    by_row.partial_fit(X, y, classes=[0, 1], sample_weight=np.where(y == 0, 3.0, 1.0))
    np.testing.assert_allclose(by_class.coef_, by_row.coef_, rtol=1e-6)


def test_multilabel_classes_are_label_indices():
    X, Y = make_multilabel_classification(n_samples=100, n_features=5, n_classes=3, random_state=0)
    clf = TorchMultiLabelClassifier(solver="adam")
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, Y)
    with pytest.raises(ValueError, match="np.arange"):
        clf.partial_fit(X, Y, classes=[0, 1])
    clf.partial_fit(X, Y, classes=np.arange(3))
    with pytest.raises(ValueError, match="np.arange"):
        clf.partial_fit(X, Y[:, :2])
    with pytest.raises(ValueError, match="'balanced' is not supported"):
        TorchMultiLabelClassifier(solver="adam", pos_weight="balanced").partial_fit(X, Y, classes=np.arange(3))


def test_partial_fit_continues_a_fit_and_survives_pickling(breast_cancer):
    X, y = breast_cancer
    clf = TorchLogisticClassifier(solver="adam", max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    before = clf.coef_.copy()
    clf.partial_fit(X, y)  # classes known from fit
    assert not np.array_equal(clf.coef_, before)
    # It continues the fit's optimizer (moments, epoch count, shuffling), as MLPClassifier's partial_fit does:
    # 3 epochs of fit and 1 of partial_fit are 4 epochs of fit, bit for bit.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        four = TorchLogisticClassifier(solver="adam", max_iter=4, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.coef_, four.coef_)
    assert clf.n_iter_[0] == 4 and clf.loss_curve_ == four.loss_curve_
    # Between blocks, dask-ml ships the estimator to the next worker: the optimizer state goes with it.
    copy = pickle.loads(pickle.dumps(clf))
    clf.partial_fit(X, y)
    copy.partial_fit(X, y)
    np.testing.assert_array_equal(copy.coef_, clf.coef_)


def test_boolean_labels_in_partial_fit_equal_integer_ones(breast_cancer):
    """Boolean labels (NumPy or tensor) are classes False < True, as 0 < 1: the same epochs bit for bit
    (they raised torch's "searchsorted not implemented for 'Bool'")."""
    import torch

    X, y = breast_cancer
    reference = TorchLogisticClassifier(solver="adam", random_state=0)
    for _ in range(2):
        reference.partial_fit(X, y, classes=[0, 1])
    for labels in (y.astype(bool), torch.tensor(y.astype(bool))):
        model = TorchLogisticClassifier(solver="adam", random_state=0)
        for _ in range(2):
            model.partial_fit(X, labels, classes=[False, True])
        np.testing.assert_array_equal(model.classes_, [False, True])
        np.testing.assert_array_equal(model.coef_, reference.coef_)
        np.testing.assert_array_equal(model.predict(X), reference.predict(X).astype(bool))


def test_fits_inside_torch_inference_mode_equal_fits_outside():
    """A caller's torch.inference_mode() does not reach the fit: hidden layers need autograd."""
    import torch

    X, Y = make_multilabel_classification(n_samples=120, n_features=6, n_classes=3, random_state=0)
    for params in (dict(hidden_layer_sizes=(4,)), dict(hidden_layer_sizes=(4,), solver="adam", max_iter=5)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            expected = TorchMultiLabelClassifier(random_state=0, **params).fit(X, Y)
            with torch.inference_mode():
                got = TorchMultiLabelClassifier(random_state=0, **params).fit(X, Y)
                if params.get("solver") == "adam":
                    got.partial_fit(X, Y)
                    expected.partial_fit(X, Y)
        for a, b in zip(got.coefs_, expected.coefs_, strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "make",
    [
        lambda: TorchLogisticClassifier(),
        lambda: TorchLogisticClassifier(solver="newton-cholesky"),
        lambda: TorchLogisticClassifier(solver="adam", max_iter=5, random_state=0),
        lambda: TorchLogisticClassifierCV(Cs=3, cv=3),
        lambda: TorchMultiLabelClassifier(hidden_layer_sizes=(4,), max_iter=20, random_state=0),
    ],
)
def test_fits_inside_the_callers_torch_autocast_equal_fits_outside(make):
    """A mixed-precision script's ``torch.autocast("cpu", dtype=torch.bfloat16)`` does not reach the fit: linear
    fits failed with torch's RuntimeError (a bfloat16 gradient for a float32 parameter), hidden layers trained in
    bfloat16 (probabilities 0.2 apart)."""
    import torch

    X, Y = make_multilabel_classification(n_samples=120, n_features=6, n_classes=3, random_state=0)
    target = Y if isinstance(make(), TorchMultiLabelClassifier) else Y[:, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        expected = make().fit(X, target)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            got = make().fit(X, target)
            if hasattr(got, "partial_fit") and getattr(got, "solver", None) == "adam":
                got.partial_fit(X, target)
        if hasattr(got, "partial_fit") and getattr(got, "solver", None) == "adam":
            expected.partial_fit(X, target)
    np.testing.assert_array_equal(got.predict_proba(X), expected.predict_proba(X))


@pytest.mark.parametrize("Estimator", [TorchLogisticClassifier, TorchMultiLabelClassifier])
def test_labels_that_cannot_be_ordered_against_the_classes_are_unknown_labels(breast_cancer, Estimator):
    """Object-dtype strings against numeric classes: NumPy's searchsorted raised a raw TypeError ('<' not
    supported between 'int' and 'str'); they are labels not in classes, in the words used for any other."""
    X, y = breast_cancer
    strings = np.where(y == 1, "b", "a").astype(object)
    model = Estimator(solver="sgd")
    with pytest.raises(ValueError, match=r"y contains labels that are not in classes \(\[0, 1\]\): \['a', 'b'\]"):
        model.partial_fit(X, strings, classes=[0, 1])
    assert not hasattr(model, "coef_")
    model.partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="not in classes"):
        model.partial_fit(X, strings)


def test_early_stopping_is_refused_in_partial_fit(breast_cancer):
    """skorch's EarlyStopping counted epochs without improvement inside each call's new net: its patience never
    ran out, and it never stopped anything. Refused in words, as LRScheduler is; fit keeps it."""
    from skorch.callbacks import EarlyStopping

    X, y = breast_cancer
    clf = TorchLogisticClassifier(solver="adam", callbacks=[EarlyStopping(monitor="train_loss", patience=1)])
    with pytest.raises(ValueError, match="EarlyStopping cannot stop partial_fit"):
        clf.partial_fit(X, y, classes=[0, 1])
    assert not hasattr(clf, "coef_")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert clf.fit(X, y).n_iter_[0] >= 1


def test_train_loss_best_follows_the_calls(breast_cancer):
    """Each call's net started skorch's best train_loss at infinity: every call's epoch was flagged the best, a
    worse one included, and Checkpoint(monitor="train_loss_best") kept the last model. Now the flag says whether the
    call beat every call before it, as fit's epochs do."""
    X, y = breast_cancer
    X = (X - X.mean(0)) / X.std(0)
    clf = TorchLogisticClassifier(solver="adam", random_state=0, learning_rate_init=0.01)
    for _ in range(3):
        clf.partial_fit(X, y, classes=[0, 1])
    clf.set_params(learning_rate_init=5.0)  # the loss now rises
    for _ in range(3):
        clf.partial_fit(X, y)
    losses = [row["train_loss"] for row in clf.history_]
    expected = [loss < min(losses[:i], default=np.inf) for i, loss in enumerate(losses)]
    assert expected[:3] == [True, True, True] and not all(expected[3:])  # the case the test is about
    assert [row["train_loss_best"] for row in clf.history_] == expected


def test_train_loss_best_compares_with_every_call_not_the_last(breast_cancer):
    """A stream with noisy blocks. A call that improves on the call before it but not on the best before that (the
    call after a bad block), or one that loses to the call just before it only (which was the best), must be
    flagged as fit flags its epochs: compared with the last call alone, the first call, the worst, or every call
    but the last, the flag was wrong and Checkpoint(monitor="train_loss_best") replaced the best model with a
    worse one. The flags are compared exactly (booleans)."""
    X, y = breast_cancer
    X = (X - X.mean(0)) / X.std(0)
    clf = TorchLogisticClassifier(solver="adam", random_state=0, learning_rate_init=0.01)

    def flipped(every):
        return np.where(np.arange(len(y)) % every == 0, 1 - y, y)

    for target in (y, y, y, flipped(12), 1 - y, flipped(4), y):
        clf.partial_fit(X, target, classes=[0, 1])
    losses = [row["train_loss"] for row in clf.history_]
    assert losses[2] < losses[3] < losses[1]  # worse than the call before, better than the one before that
    assert min(losses[:5]) < losses[5] < losses[4]  # better than the bad block's call, not the best
    expected = [loss < min(losses[:i], default=np.inf) for i, loss in enumerate(losses)]
    assert [row["train_loss_best"] for row in clf.history_] == expected


@pytest.mark.parametrize("unknown", ["a", "c", "z"])
def test_partial_fit_names_unknown_string_labels_below_between_and_above_the_classes(unknown):
    """A string label beyond the largest class gets the same ValueError as one below or between them, as
    SGDClassifier.partial_fit refuses it (not an IndexError from classes_[len(classes_)]). String labels take the
    NumPy path (_host_positions); numeric ones the tensor path."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = np.array(["b", "d", "f"] * 10)
    model = TorchLogisticClassifier(solver="adam").partial_fit(X, y, classes=["b", "d", "f"])
    bad = y.copy()
    bad[3] = unknown
    with pytest.raises(ValueError, match=r"not in classes .*\['" + unknown + r"'\]"):
        model.partial_fit(X, bad)


def test_partial_fit_batch_size_above_distinct_rows_but_within_given_rows_does_not_warn():
    """Kills I4 (_incremental._partial_fit: _batch_size(n_samples, n_rows) arguments
    swapped): as in fit, the clipping warning compares batch_size with the rows given (MLPClassifier's rule),
    not with the distinct rows left after merging duplicates."""
    import warnings

    import numpy as np

    from torchlogit import TorchLogisticClassifier

    rng = np.random.default_rng(0)
    X = np.repeat(rng.normal(size=(8, 2)), 125, axis=0)  # 1000 rows, 8 distinct
    y = (X[:, 0] > 0).astype(int)
    model = TorchLogisticClassifier(solver="adam", batch_size=100, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.partial_fit(X, y, classes=[0, 1])
    with __import__("pytest").warns(UserWarning, match="batch_size"):
        TorchLogisticClassifier(solver="adam", batch_size=2000, random_state=0).partial_fit(X, y, classes=[0, 1])


def test_partial_fit_with_invalid_hidden_layer_sizes_says_which_parameter():
    """solver="auto" cannot be resolved from hidden_layer_sizes=(0,): partial_fit exists and names the parameter
    (MLPClassifier: InvalidParameterError), not an AttributeError from available_if."""
    X, Y = make_multilabel_classification(n_samples=120, n_features=5, n_classes=3, random_state=0)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        TorchMultiLabelClassifier(hidden_layer_sizes=(0,)).partial_fit(X / 10, Y, classes=np.arange(3))


def test_fit_intercept_false_between_calls_is_refused_for_negative_intercepts():
    """Learned intercepts that are all negative (rare positives) are learned all the same: dropping them is refused."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (rng.random(200) < 0.1).astype(int)
    clf = TorchLogisticClassifier(solver="adam", learning_rate_init=0.1, random_state=0)
    for _ in range(3):
        clf.partial_fit(X, y, classes=[0, 1])
    assert clf.intercept_[0] < 0
    clf.set_params(fit_intercept=False)
    with pytest.raises(ValueError, match="fit_intercept=False"):
        clf.partial_fit(X, y)


def test_hidden_layers_without_an_output_intercept_continue():
    """fit_intercept=False leaves the output layer without a bias; the hidden layers keep theirs, and a second
    partial_fit call continues (the output layer's bias is the one checked)."""
    X, Y = make_multilabel_classification(n_samples=120, n_features=5, n_classes=3, random_state=0)
    clf = TorchMultiLabelClassifier(hidden_layer_sizes=(4,), fit_intercept=False, random_state=0)
    clf.partial_fit(X / 10, Y, classes=np.arange(3))
    assert np.any(clf.intercepts_[0] != 0) and not np.any(clf.intercepts_[-1] != 0)
    clf.partial_fit(X / 10, Y)
    assert clf.n_iter_[0] == 2


def test_partial_fit_with_a_zero_class_weight_fits_as_sgdclassifier_does():
    """class_weight={0: 0, 1: 1}: the batch still has weight (the class-1 rows); SGDClassifier.partial_fit fits it.
    h3's mutant: Part.any_weight as `.all()` (partial_fit refused it: "The sample weights of this batch are all
    zero")."""
    rng = np.random.RandomState(0)
    X = rng.randn(50, 3)
    y = (X[:, 0] > 0).astype(int)
    model = TorchLogisticClassifier(class_weight={0: 0.0, 1: 1.0}, solver="adam", random_state=0)
    model.partial_fit(X, y, classes=[0, 1])
    assert np.isfinite(model.coef_).all()
    with pytest.raises(ValueError):  # a batch of class 0 only has no weight left: refused
        TorchLogisticClassifier(class_weight={0: 0.0, 1: 1.0}, solver="adam").partial_fit(
            X[y == 0], y[y == 0], classes=[0, 1]
        )


def test_a_batch_class_weight_leaves_without_weight_leaves_the_model_as_it_was():
    """A stream chunk holding only a class weighted 0 (data sorted by label): partial_fit refused it with "The
    sample weights of this batch are all zero." though no sample_weight was passed, which stopped the stream;
    SGDClassifier takes it. The model is left as it was; a first call, with nothing to start from, is refused in
    words naming class_weight; all-zero sample weights are still refused as scikit-learn refuses them."""
    X, y = load_iris(return_X_y=True)
    weights = {0: 0.0, 1: 1.0, 2: 1.0}
    only_zero = y == 0
    model = TorchLogisticClassifier(solver="sgd", class_weight=weights, random_state=0)
    model.partial_fit(X[~only_zero], y[~only_zero], classes=[0, 1, 2])
    before = model.coef_.copy(), model.intercept_.copy(), model.n_iter_.copy()
    assert model.partial_fit(X[only_zero], y[only_zero]) is model
    np.testing.assert_array_equal(model.coef_, before[0])
    np.testing.assert_array_equal(model.intercept_, before[1])
    np.testing.assert_array_equal(model.n_iter_, before[2])
    with pytest.raises(ValueError, match="class_weight gives every row of this first batch a weight of zero"):
        TorchLogisticClassifier(solver="sgd", class_weight=weights).partial_fit(
            X[only_zero], y[only_zero], classes=[0, 1, 2]
        )
    with pytest.raises(ValueError, match="weights"):
        model.partial_fit(X[~only_zero], y[~only_zero], sample_weight=np.zeros((~only_zero).sum()))
