"""``TorchMultiLabelClassifier``'s own code: defaults, targets, ``pos_weight``, thresholds and the layer arrays.

References: the defaults its docstring documents (and ``MLPClassifier``'s for the parameters they
share); ``MLPClassifier``'s handling of targets (an indicator matrix is multi-label, a column vector
is 1-D with a ``DataConversionWarning``, 1-D labels are classes); torch's ``pos_weight`` with
"balanced" written out as ``n_negative / n_positive`` counted with the sample weights (1 for a label
never on); the prediction rule ``p > threshold`` per label; ``coefs_`` / ``intercepts_`` as
``MLPClassifier`` shapes them, ``[coef_.T]`` / ``[intercept_]`` for the linear model.
"""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit
from sklearn.datasets import make_multilabel_classification
from sklearn.exceptions import DataConversionWarning
from sklearn.neural_network import MLPClassifier

from torchlogit import TorchMultiLabelClassifier
from torchlogit._modules import LinearLogits, MLPLogits

from .conftest import quiet
from .test_contracts_logistic import _documented_defaults

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def data():
    X, Y = make_multilabel_classification(n_samples=60, n_features=4, n_classes=3, random_state=0)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    w = np.random.RandomState(1).uniform(0.2, 2.0, len(X))
    return X, Y, w


def _same_fit(a, b):
    for Wa, Wb in zip(a.coefs_, b.coefs_, strict=True):
        np.testing.assert_array_equal(Wa, Wb)
    for ba, bb in zip(a.intercepts_, b.intercepts_, strict=True):
        np.testing.assert_array_equal(ba, bb)


def test_defaults_are_the_documented_ones_and_mlpclassifiers():
    params = TorchMultiLabelClassifier().get_params()
    documented = _documented_defaults(TorchMultiLabelClassifier)
    assert set(documented) == set(params)
    for name, value in documented.items():
        assert params[name] == value and type(params[name]) is type(value), name
    mlp = MLPClassifier().get_params()
    shared = ["activation", "max_iter", "tol", "learning_rate_init", "batch_size", "momentum", "early_stopping"]
    shared += ["validation_fraction", "n_iter_no_change", "warm_start", "random_state"]
    assert {k: params[k] for k in shared} == {k: mlp[k] for k in shared}


def test_tags_say_multi_label_and_sparse():
    tags = TorchMultiLabelClassifier().__sklearn_tags__()
    assert tags.classifier_tags.multi_label is True
    assert tags.input_tags.sparse is True


def test_auto_solver_is_lbfgs_for_the_linear_model_and_adam_with_hidden_layers(data):
    X, Y, _ = data
    linear = dict(max_iter=5, random_state=0)
    _same_fit(
        quiet(TorchMultiLabelClassifier(**linear).fit, X, Y),
        quiet(TorchMultiLabelClassifier(solver="lbfgs", **linear).fit, X, Y),
    )
    hidden = dict(hidden_layer_sizes=(3,), max_iter=2, random_state=0)
    auto = quiet(TorchMultiLabelClassifier(**hidden).fit, X, Y)
    _same_fit(auto, quiet(TorchMultiLabelClassifier(solver="adam", **hidden).fit, X, Y))
    with pytest.raises(AssertionError):  # the two solvers do differ on this data
        _same_fit(auto, quiet(TorchMultiLabelClassifier(solver="lbfgs", **hidden).fit, X, Y))
    # an explicit solver is kept; partial_fit exists for the mini-batch solvers only
    assert hasattr(TorchMultiLabelClassifier(hidden_layer_sizes=(3,)), "partial_fit")
    assert hasattr(TorchMultiLabelClassifier(solver="sgd"), "partial_fit")
    assert not hasattr(TorchMultiLabelClassifier(), "partial_fit")
    assert not hasattr(TorchMultiLabelClassifier(hidden_layer_sizes=(3,), solver="lbfgs"), "partial_fit")


@pytest.mark.parametrize("sizes", [(0,), (3, -1), (True,), (2.0,), ("3",), (3, None)])
def test_hidden_layer_sizes_must_be_positive_integers(data, sizes):
    X, Y, _ = data
    clf = TorchMultiLabelClassifier(hidden_layer_sizes=sizes)
    with pytest.raises(ValueError, match="hidden_layer_sizes must be a tuple of positive integers"):
        clf.fit(X, Y)
    assert not hasattr(clf, "classes_")


@pytest.mark.parametrize("sizes", [[2, 1], (np.int64(2),), (1,)])
def test_hidden_layer_sizes_take_any_positive_integers(data, sizes):
    X, Y, _ = data
    clf = quiet(TorchMultiLabelClassifier(hidden_layer_sizes=sizes, max_iter=1, random_state=0).fit, X, Y)
    assert [W.shape for W in clf.coefs_] == list(zip((4, *map(int, sizes)), (*map(int, sizes), 3), strict=True))
    assert not hasattr(clf, "coef_")


def test_dropout_needs_a_stochastic_solver(data):
    X, Y, _ = data
    with pytest.raises(ValueError, match="needs a stochastic solver"):
        TorchMultiLabelClassifier((3,), dropout=0.2, solver="lbfgs").fit(X, Y)
    # The linear model has no hidden layer to drop out after: with "adam" dropout was ignored (coef_ bitwise that of
    # dropout=0), with "auto" (L-BFGS) the message pointed to a solver that would ignore it.
    for solver in ("auto", "adam", "sgd"):
        with pytest.raises(ValueError, match=r"hidden_layer_sizes=\(\) has none"):
            TorchMultiLabelClassifier(dropout=0.2, solver=solver).fit(X, Y)
    quiet(TorchMultiLabelClassifier((3,), dropout=0.2, max_iter=1).fit, X, Y)  # "auto" with hidden layers: adam
    quiet(TorchMultiLabelClassifier((3,), dropout=0.0, solver="lbfgs", max_iter=1).fit, X, Y)


def test_the_module_has_the_parameters_structure(data):
    X, Y, _ = data
    clf = TorchMultiLabelClassifier((5, 2), activation="tanh", dropout=0.25, fit_intercept=False)
    assert clf._module(7, 3) == (
        MLPLogits,
        dict(n_features=7, n_outputs=3, hidden_layer_sizes=(5, 2), activation="tanh", dropout=0.25, bias=False),
    )
    assert TorchMultiLabelClassifier(fit_intercept=False)._module(7, 3) == (
        LinearLogits,
        dict(n_features=7, n_outputs=3, bias=False),
    )
    fitted = quiet(TorchMultiLabelClassifier((2,), fit_intercept=False, max_iter=2, random_state=0).fit, X, Y)
    assert not fitted.intercepts_[-1].any() and fitted.intercepts_[0].any()  # no intercept on the output layer
    assert not quiet(TorchMultiLabelClassifier(fit_intercept=False, max_iter=2).fit, X, Y).intercept_.any()


def test_hidden_layers_train_with_their_activation(data):
    """Deterministic L-BFGS fits of the same seed differ when only the activation differs (the module is
    built with the estimator's activation, not a default)."""
    X, Y, _ = data
    kw = dict(solver="lbfgs", dtype="float64", max_iter=3, random_state=0)
    fits = {a: quiet(TorchMultiLabelClassifier((3,), activation=a, **kw).fit, X, Y) for a in ("relu", "tanh")}
    fits["logistic"] = quiet(TorchMultiLabelClassifier((3,), activation="logistic", **kw).fit, X, Y)
    for a, b in [("relu", "tanh"), ("relu", "logistic"), ("tanh", "logistic")]:
        assert not np.allclose(fits[a].coefs_[0], fits[b].coefs_[0]), (a, b)


@pytest.mark.parametrize("form", ["csr", "csc"])
def test_a_sparse_indicator_matrix_is_the_dense_one(data, form):
    X, Y, _ = data
    dense = quiet(TorchMultiLabelClassifier(max_iter=5).fit, X, Y)
    sparse = quiet(TorchMultiLabelClassifier(max_iter=5).fit, X, getattr(sp, f"{form}_matrix")(Y))
    _same_fit(dense, sparse)
    assert sparse.predict(X).dtype == Y.dtype
    np.testing.assert_array_equal(sparse.classes_, np.arange(3))


def test_a_column_vector_is_one_d_labels_with_a_warning_as_mlpclassifier(data):
    X, Y, _ = data
    y = Y[:, :1]
    with pytest.warns(DataConversionWarning):
        clf = quiet(TorchMultiLabelClassifier(max_iter=5).fit, X, y)
    with pytest.warns(DataConversionWarning):
        MLPClassifier(max_iter=5).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    assert clf.predict(X).shape == (len(X),) and clf.coef_.shape == (1, 4)
    _same_fit(clf, quiet(TorchMultiLabelClassifier(max_iter=5).fit, X, y.ravel()))


def test_one_d_labels_are_classes_and_predict_labels(data):
    X, Y, _ = data
    y = np.array(["a", "b", "c"])[Y.argmax(axis=1)]
    clf = quiet(TorchMultiLabelClassifier(max_iter=20).fit, X, y)
    np.testing.assert_array_equal(clf.classes_, ["a", "b", "c"])
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[clf.predict_proba(X).argmax(axis=1)])
    assert clf.predict_proba(X).shape == (len(X), 3)
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="pos_weight applies to multi-label"):
        TorchMultiLabelClassifier(pos_weight="balanced").fit(X, y)
    with pytest.raises(ValueError, match="pos_weight applies to multi-label"):
        TorchMultiLabelClassifier(pos_weight=[1.0, 1.0, 1.0]).fit(X, y)
    with pytest.raises(ValueError, match="pos_weight applies to multi-label"):
        TorchMultiLabelClassifier(pos_weight=[1.0], solver="sgd").partial_fit(X, y, classes=["a", "b", "c"])


@pytest.mark.parametrize("dtype", [np.int32, np.uint8, np.float32, bool])
def test_labels_are_a_zero_one_matrix_and_predict_keeps_their_dtype(data, dtype):
    X, Y, _ = data
    clf = quiet(TorchMultiLabelClassifier(max_iter=5).fit, X, Y.astype(dtype))
    predicted = clf.predict(X)
    assert predicted.dtype == np.dtype(dtype) and predicted.shape == Y.shape
    np.testing.assert_array_equal(clf.classes_, np.arange(3))
    assert clf._kind == "multilabel" and clf._n_outputs == 3


@pytest.mark.parametrize("bad", [2, -1, 0.5])
def test_values_other_than_zero_and_one_are_refused(data, bad):
    X, Y, _ = data
    Z = Y.astype(float)
    Z[3, 1] = bad
    with pytest.raises(ValueError, match="0/1 indicator matrix"):
        TorchMultiLabelClassifier().fit(X, Z)
    np.testing.assert_array_equal(TorchMultiLabelClassifier(max_iter=1).fit(X, np.zeros_like(Y)).classes_, [0, 1, 2])


def test_balanced_pos_weight_is_negatives_over_positives_counted_with_weights(data):
    X, Y, w = data
    Y = Y.copy()
    Y[:, 2] = 0  # a label never on: weight 1
    positive = w @ Y
    expected = np.array([(w.sum() - positive[0]) / positive[0], (w.sum() - positive[1]) / positive[1], 1.0])
    assert not np.allclose(expected[:2], (len(w) - Y.sum(axis=0)[:2]) / Y.sum(axis=0)[:2], rtol=1e-3)
    kw = dict(dtype="float64", max_iter=8)
    balanced = quiet(TorchMultiLabelClassifier(pos_weight="balanced", **kw).fit, X, Y, sample_weight=w)
    written = quiet(TorchMultiLabelClassifier(pos_weight=expected, **kw).fit, X, Y, sample_weight=w)
    np.testing.assert_allclose(balanced.coef_, written.coef_, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(balanced.intercept_, written.intercept_, rtol=1e-12, atol=1e-14)
    with pytest.raises(AssertionError):  # and it is not the unweighted fit
        np.testing.assert_allclose(balanced.coef_, quiet(TorchMultiLabelClassifier(**kw).fit, X, Y, w).coef_)
    unweighted = quiet(TorchMultiLabelClassifier(pos_weight="balanced", **kw).fit, X, Y)
    counts = (len(Y) - Y.sum(axis=0)[:2]) / Y.sum(axis=0)[:2]
    written = quiet(TorchMultiLabelClassifier(pos_weight=[*counts, 1.0], **kw).fit, X, Y)
    np.testing.assert_allclose(unweighted.coef_, written.coef_, rtol=1e-12, atol=1e-14)


def test_pos_weight_scales_the_positive_term_as_repeated_positive_rows(data):
    """pos_weight k on every label is each positive entry counted k times: the same loss as torch's."""
    X, Y, _ = data
    kw = dict(dtype="float64", max_iter=6)
    weighted = quiet(TorchMultiLabelClassifier(pos_weight=[2.0, 1.0, 0.0], **kw).fit, X, Y)
    plain = quiet(TorchMultiLabelClassifier(**kw).fit, X, Y)
    assert not np.allclose(weighted.coef_, plain.coef_)
    same = quiet(TorchMultiLabelClassifier(pos_weight=np.ones(3), **kw).fit, X, Y)
    np.testing.assert_array_equal(same.coef_, plain.coef_)


@pytest.mark.parametrize(
    "pos_weight, says",
    [
        ([1.0, 2.0], r"got an array of shape \(2,\)"),
        ([[1.0, 1.0, 1.0]], r"got an array of shape \(1, 3\)"),
        ([1.0, -0.5, 1.0], r"got \[1.0, -0.5, 1.0\]"),
        ([1.0, np.inf, 1.0], r"got \[1.0, inf, 1.0\]"),
        ([np.nan, 1.0, 1.0], r"got \[nan, 1.0, 1.0\]"),
        ({0: 2.0}, r"as an array-like of numbers; got \{0: 2.0\}"),  # was NumPy's raw TypeError
        (["a", "b", "c"], r"as an array-like of numbers; got \['a', 'b', 'c'\]"),
    ],
)
def test_pos_weight_must_be_one_finite_non_negative_weight_per_label(data, pos_weight, says):
    X, Y, _ = data
    clf = TorchMultiLabelClassifier(pos_weight=pos_weight)
    with pytest.raises(ValueError, match=r"pos_weight must hold one finite, non-negative weight per label \(3\)"):
        clf.fit(X, Y)
    with pytest.raises(ValueError, match=says):
        clf.fit(X, Y)
    assert not hasattr(clf, "coef_")


def test_partial_fit_targets_follow_mlpclassifiers_rules(data):
    X, Y, _ = data
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        TorchMultiLabelClassifier(solver="sgd").partial_fit(X, Y)
    with pytest.raises(ValueError, match="classes must be the label indices"):
        TorchMultiLabelClassifier(solver="sgd").partial_fit(X, Y, classes=[0, 1, 3])
    with pytest.raises(ValueError, match="classes must be the label indices"):
        TorchMultiLabelClassifier(solver="sgd").partial_fit(X, Y, classes=[0, 1])
    with pytest.raises(ValueError, match="not supported for partial_fit"):
        TorchMultiLabelClassifier(solver="sgd", pos_weight="balanced").partial_fit(X, Y, classes=[0, 1, 2])
    clf = TorchMultiLabelClassifier(solver="sgd", random_state=0).partial_fit(X, Y, classes=np.arange(3))
    clf.partial_fit(X, Y)  # later calls: classes may be left out
    clf.partial_fit(X, Y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="classes must be the label indices"):
        clf.partial_fit(X[:, :4], Y[:, :2])
    with pytest.raises(ValueError, match="classes must be the label indices"):
        clf.partial_fit(X, Y, classes=[2, 1, 0])
    # a partial_fit with pos_weight is the one-epoch fit with it
    kw = dict(solver="sgd", pos_weight=[3.0, 1.0, 0.5], random_state=0, batch_size=len(X))
    one = TorchMultiLabelClassifier(**kw).partial_fit(X, Y, classes=np.arange(3))
    fit = quiet(TorchMultiLabelClassifier(max_iter=1, **kw).fit, X, Y)
    np.testing.assert_allclose(one.coef_, fit.coef_, rtol=1e-6, atol=1e-7)
    assert one.predict(X).dtype == Y.dtype


def test_coefs_and_intercepts_of_the_linear_model_are_coef_and_intercept(data):
    X, Y, _ = data
    clf = quiet(TorchMultiLabelClassifier(max_iter=5).fit, X, Y)
    (W,), (b,) = clf.coefs_, clf.intercepts_
    np.testing.assert_array_equal(W, clf.coef_.T)
    assert b is clf.intercept_
    new_W = np.arange(12.0).reshape(4, 3) / 10
    clf.coefs_ = [new_W]
    assert clf.coef_.flags.c_contiguous and clf.coef_.shape == (3, 4)
    np.testing.assert_array_equal(clf.coef_, new_W.T)
    clf.intercepts_ = [np.array([1.0, -1.0, 0.5])]
    np.testing.assert_array_equal(clf.intercept_, [1.0, -1.0, 0.5])
    np.testing.assert_allclose(clf.predict_proba(X), expit(X @ new_W + [1.0, -1.0, 0.5]), rtol=1e-12)
    clf.sparsify()
    (W,) = clf.coefs_
    assert isinstance(W, np.ndarray) and not sp.issparse(W)
    np.testing.assert_array_equal(W, new_W)
    assert "_coefs" not in vars(clf) and "_intercepts" not in vars(clf)
    # A dense copy of the sparse coef_: an edit in place would be lost, so it is refused (assignment works).
    with pytest.raises(ValueError, match="read-only"):
        clf.coefs_[0][0, 0] += 5.0
    np.testing.assert_array_equal(clf.coef_.toarray(), new_W.T)
    clf.coefs_[0] = new_W * 2
    np.testing.assert_allclose(clf.predict_proba(X), expit(X @ (new_W * 2) + [1.0, -1.0, 0.5]), rtol=1e-12)


def test_coefs_of_hidden_layers_replace_a_linear_fit_and_back(data):
    X, Y, _ = data
    clf = quiet(TorchMultiLabelClassifier(max_iter=3, warm_start=False).fit, X, Y)
    clf.set_params(hidden_layer_sizes=(2,))
    quiet(clf.fit, X, Y)
    assert "coef_" not in vars(clf) and "intercept_" not in vars(clf)
    assert [W.shape for W in clf.coefs_] == [(4, 2), (2, 3)] and [b.shape for b in clf.intercepts_] == [(2,), (3,)]
    layers = [np.ones((4, 2)), np.full((2, 3), 0.5)]
    clf.coefs_ = layers
    clf.intercepts_ = [np.zeros(2), np.array([0.0, 1.0, -1.0])]
    assert clf.coefs_ == layers and clf.coefs_ is not layers  # kept as a list of its own
    H = np.maximum(X @ layers[0], 0)
    np.testing.assert_allclose(clf.decision_function(X), H @ layers[1] + [0.0, 1.0, -1.0], rtol=1e-12)
    clf.set_params(hidden_layer_sizes=())
    quiet(clf.fit, X, Y)
    assert "_coefs" not in vars(clf) and "_intercepts" not in vars(clf)
    assert clf.coefs_[0].shape == (4, 3)


def test_an_unfitted_model_has_no_coefs():
    clf = TorchMultiLabelClassifier()
    assert not hasattr(clf, "coefs_") and not hasattr(clf, "intercepts_")
    with pytest.raises(AttributeError, match="not fitted"):
        clf.coefs_  # noqa: B018
    with pytest.raises(AttributeError, match="not fitted"):
        clf.intercepts_  # noqa: B018


def test_predict_is_probability_above_each_labels_threshold(data):
    X, Y, _ = data
    clf = quiet(TorchMultiLabelClassifier(max_iter=5, dtype="float64").fit, X, Y)
    P = clf.predict_proba(X)
    thresholds = np.quantile(P, 0.4, axis=0)
    clf.set_params(threshold=thresholds)
    np.testing.assert_array_equal(clf.predict(X), (P > thresholds).astype(Y.dtype))
    assert 0 < clf.predict(X).mean() < 1
    clf.set_params(threshold=0.3)
    np.testing.assert_array_equal(clf.predict(X), (P > 0.3).astype(Y.dtype))
    assert clf.score(X, Y) == np.mean(np.all(clf.predict(X) == Y, axis=1))


@pytest.mark.parametrize(
    ("threshold", "message"),
    [
        ([0.5, 0.5], "one value per label"),
        ([0.5, 0.5, 0.5, 0.5], "one value per label"),
        # (a 2-D threshold of valid values was told its values must lie between 0 and 1)
        ([[0.5, 0.5, 0.5]], r"one value per label \(3\); got shape \(1, 3\)"),
        ([[0.5], [0.5], [0.5]], r"one value per label \(3\); got shape \(3, 1\)"),
        ([0.5, 1.0, 0.5], "strictly between 0 and 1"),
        ([0.0, 0.5, 0.5], "strictly between 0 and 1"),
        (1.0, "strictly between 0 and 1"),
        # NaN failed both "<= 0" and ">= 1": the label was never predicted, silently.
        ([0.5, np.nan, 0.5], "strictly between 0 and 1"),
        (["0.5", "0.5", "0.5"], "threshold must hold numbers"),
    ],
)
def test_thresholds_are_one_per_label_strictly_inside_zero_one(data, threshold, message):
    X, Y, _ = data
    with pytest.raises(ValueError, match=f"{message}|must be a float in the range"):  # at fit, before training
        TorchMultiLabelClassifier(max_iter=2, threshold=threshold).fit(X, Y)
    clf = quiet(TorchMultiLabelClassifier(max_iter=2).fit, X, Y)
    clf.threshold = threshold  # past set_params' validation: checked when predicting
    with pytest.raises(ValueError, match=message):
        clf.predict(X)
    clf.threshold = np.array([0.001, 0.5, 0.999])
    clf.predict(X)


# ------------------------------------------------------------------ summary's targets


@pytest.mark.parametrize("pos_weight", [None, [2.0, 0.5, 1.0], "balanced"])
def test_summary_targets_are_the_indicator_matrix_and_its_pos_weight(data, pos_weight):
    """``summary``'s loss weight of each row and label: ``pos_weight`` on positive entries, 1 elsewhere; for
    "balanced" counted with the sample weights given to summary (as fit counts them)."""
    X, Y, w = data
    clf = quiet(TorchMultiLabelClassifier(pos_weight=pos_weight, max_iter=2).fit, X, Y, sample_weight=w)
    for form in (Y, sp.csr_matrix(Y), Y.astype(bool)):
        outcome, importance = clf._summary_targets(X, form, w)
        assert outcome.dtype == np.float64 and outcome.shape == Y.shape
        np.testing.assert_array_equal(outcome, Y)
        if pos_weight is None:
            expected = np.ones(Y.shape)
        else:
            weights = (
                (w.sum() - w @ Y) / (w @ Y) if isinstance(pos_weight, str) else np.asarray(pos_weight, dtype=float)
            )
            expected = np.where(Y == 1, weights, 1.0)
        np.testing.assert_allclose(importance, expected, rtol=1e-14)


def test_summary_targets_refuse_another_label_matrix(data):
    X, Y, w = data
    clf = quiet(TorchMultiLabelClassifier(max_iter=2).fit, X, Y)
    with pytest.raises(ValueError, match="0/1 indicator matrix of the 3 labels"):
        clf._summary_targets(X, Y[:, :2], w)
    bad = Y.copy()
    bad[0, 0] = 2
    with pytest.raises(ValueError, match="0/1 indicator matrix of the 3 labels"):
        clf._summary_targets(X, bad, w)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        clf._summary_targets(X, Y[:-1], w)
    # The forms fit refuses, in fit's words: NumPy's "inhomogeneous shape" and "could not convert string to float",
    # and check_array's advice to reshape a 1-D y into one column (which only led to the next error).
    with pytest.raises(ValueError, match=r"0/1 indicator matrix of the 3 labels seen in fit; got a 1-D y of shape"):
        clf._summary_targets(X, Y[:, 0], w)
    with pytest.raises(ValueError, match=r"labels seen in fit; it contains the values \['no', 'yes'\]"):
        clf._summary_targets(X, np.where(Y == 1, "yes", "no"), w)
    with pytest.raises(ValueError, match=r"labels seen in fit; it contains the values \['no', 'yes'\]"):
        clf._summary_targets(X, np.where(Y == 1, "yes", "no").astype(object), w)
    with pytest.raises(ValueError, match="Y looks like lists \\(or sets\\) of labels per sample"):
        clf._summary_targets(X, [list(np.flatnonzero(row)) for row in Y], w)
    with pytest.raises(ValueError, match="Input y contains NaN"):
        clf._summary_targets(X, np.where(Y == 1, np.nan, 0.0), w)


def test_summary_targets_of_one_d_labels_are_the_classes_one_hot(data):
    X, Y, w = data
    y = Y.argmax(axis=1)
    clf = quiet(TorchMultiLabelClassifier(max_iter=2).fit, X, y)
    outcome, importance = clf._summary_targets(X, y, w)
    np.testing.assert_array_equal(outcome, np.eye(3)[y])
    np.testing.assert_array_equal(importance, np.ones((len(y), 3)))


# ------------------------------------------------------------------ dask targets (computed with dask's local scheduler)


def test_dask_targets_are_the_in_memory_ones():
    da = pytest.importorskip("dask.array")
    X, Y = make_multilabel_classification(n_samples=50, n_features=3, n_classes=4, random_state=2)
    Y = Y.astype(np.int16)
    Y[:, 3] = 0  # a label never on
    w = np.random.RandomState(0).uniform(0.5, 1.5, len(Y))
    for pos_weight in ("balanced", None, [1.0, 2.0, 3.0, 0.0]):
        for weight in (None, w):
            clf = TorchMultiLabelClassifier(pos_weight=pos_weight)
            targets = clf._dask_targets(
                da.from_array(Y, chunks=17), None if weight is None else da.from_array(weight, chunks=17)
            )
            assert targets.kind == "multilabel" and targets.target is None and targets.n_outputs == 4
            np.testing.assert_array_equal(targets.classes, np.arange(4))
            assert clf._y_dtype == np.int16
            expected = clf._pos_weight(Y, np.ones(len(Y)) if weight is None else weight)
            if pos_weight is None:
                assert targets.pos_weight is None and expected is None
            else:
                np.testing.assert_allclose(targets.pos_weight, expected, rtol=1e-12)
    assert expected[3] == 0.0
    balanced = TorchMultiLabelClassifier(pos_weight="balanced")._dask_targets(da.from_array(Y, chunks=17), None)
    counts = Y[:, :3].sum(axis=0)
    np.testing.assert_allclose(balanced.pos_weight, [*((len(Y) - counts) / counts), 1.0], rtol=1e-12)
    bad = Y.copy()
    bad[4, 1] = 3
    with pytest.raises(ValueError, match="0/1 indicator matrix"):
        TorchMultiLabelClassifier()._dask_targets(da.from_array(bad, chunks=17), None)


def test_dask_targets_of_one_d_labels_are_classes():
    da = pytest.importorskip("dask.array")
    y = np.array(["b", "a", "c", "a", "b", "b"] * 5)
    clf = TorchMultiLabelClassifier()
    clf._y_dtype = "stale"
    targets = clf._dask_targets(da.from_array(y, chunks=7), None)
    assert targets.kind == "multinomial" and clf._y_dtype is None
    np.testing.assert_array_equal(targets.classes, ["a", "b", "c"])
    with pytest.raises(ValueError, match="pos_weight applies to multi-label"):
        TorchMultiLabelClassifier(pos_weight=[1.0])._dask_targets(da.from_array(y, chunks=7), None)


def test_summary_targets_name_y_in_scikit_learns_input_errors(data):
    X, Y, w = data
    clf = quiet(TorchMultiLabelClassifier(max_iter=2).fit, X, Y)
    bad = Y.astype(float)
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN"):
        clf._summary_targets(X, bad, w)


def test_partial_fit_with_one_d_labels_is_the_logistic_classifiers(data):
    """1-D labels make a multinomial model of the classes given on the first call (MLPClassifier's rule), the
    same epoch as TorchLogisticClassifier's partial_fit; the model pickles (no label dtype to keep)."""
    from torchlogit import TorchLogisticClassifier

    X, Y, _ = data
    y = Y.argmax(axis=1)
    kw = dict(solver="sgd", random_state=0, learning_rate_init=0.01)
    clf = TorchMultiLabelClassifier(**kw).partial_fit(X, y, classes=[0, 1, 2, 3])
    ref = TorchLogisticClassifier(**kw).partial_fit(X, y, classes=[0, 1, 2, 3])
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2, 3])
    assert clf._y_dtype is None and clf._kind == "multinomial"
    np.testing.assert_allclose(clf.coef_, ref.coef_, rtol=1e-6, atol=1e-7)
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.predict(X), clf.predict(X))
    with pytest.raises(ValueError):
        clf.partial_fit(X, np.full(len(X), 7))  # a label outside the classes


def test_fit_validates_x_as_scikit_learn_and_refits_on_other_features(data):
    X, Y, _ = data
    kw = dict(dtype="float64", max_iter=5)
    dense = quiet(TorchMultiLabelClassifier(**kw).fit, X, Y)
    sparse = quiet(TorchMultiLabelClassifier(**kw).fit, sp.csr_matrix(X), Y)  # CSR accepted as given
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-10, atol=1e-12)
    dense.fit(X[:, :3], Y)  # a new fit forgets the old features (reset), as scikit-learn's estimators do
    assert dense.n_features_in_ == 3 and dense.coef_.shape == (3, 3)
    partial = TorchMultiLabelClassifier(solver="sgd").partial_fit(X, Y, classes=np.arange(3))
    with pytest.raises(ValueError, match="X has 3 features, but TorchMultiLabelClassifier is expecting 4"):
        partial.partial_fit(X[:, :3], Y)


def test_a_sparse_coef_predicts_with_sklearns_sparse_product(data):
    """After sparsify, decision_function is scikit-learn's ``safe_sparse_dot(X, coef_.T) + intercept_`` bit for bit
    (the sparse product, not a densified copy: on 300 features the two differ in the last bits)."""
    from sklearn.utils.extmath import safe_sparse_dot

    rng = np.random.RandomState(0)
    X, Y = rng.randn(200, 300), rng.randint(0, 2, (200, 3))
    clf = quiet(TorchMultiLabelClassifier(max_iter=1).fit, X, Y)
    coef = rng.randn(3, 300) * (rng.rand(3, 300) < 0.5)
    clf.coef_ = coef.copy()
    np.testing.assert_array_equal(clf.decision_function(X), X @ coef.T + clf.intercept_)
    clf.sparsify()
    sparse = clf.decision_function(X)
    np.testing.assert_array_equal(sparse, safe_sparse_dot(X, clf.coef_.T, dense_output=True) + clf.intercept_)
    assert not np.array_equal(sparse, X @ coef.T + clf.intercept_)


def test_layer_lists_of_different_lengths_are_refused_at_prediction(data):
    X, Y, _ = data
    clf = quiet(TorchMultiLabelClassifier((3, 2), max_iter=1, random_state=0).fit, X, Y)
    clf.intercepts_ = clf.intercepts_[:2]
    with pytest.raises(ValueError):
        clf.predict_proba(X)


def test_float32_thresholds_cut_at_their_exact_value(data):
    """A float32 threshold is the number it holds: the cut is logit of that number in float64 (a float32 logit
    would move it by ~1e-8 relative and flip rows that lie 1e-13 relative from it)."""
    X, Y, _ = data
    clf = quiet(TorchMultiLabelClassifier(max_iter=1).fit, X, Y)
    t32 = np.array([0.3, 0.7, 0.123], dtype=np.float32)
    cut = np.log(t32.astype(np.float64) / (1 - t32.astype(np.float64)))
    clf.coef_ = np.zeros((3, 4))
    clf.coef_[:, 0] = np.abs(cut) * 1e-13
    clf.intercept_ = cut
    Z = np.zeros((2, 4))
    Z[:, 0] = [1.0, -1.0]  # logits just above and just below each cut
    clf.set_params(threshold=t32)
    np.testing.assert_array_equal(clf.predict(Z), [[1, 1, 1], [0, 0, 0]])


def test_balanced_pos_weight_of_rare_labels_is_exact_and_quiet():
    """A label on in one row of weight 0.5 gets n_negative / 0.5; a label never on gets 1, with no division by
    zero along the way (no RuntimeWarning)."""
    Y = np.zeros((6, 3), dtype=int)
    Y[:, 0] = [1, 0, 1, 0, 1, 0]
    Y[2, 1] = 1  # one positive, of weight 0.5
    w = np.array([1.0, 2.0, 0.5, 1.0, 1.0, 1.5])
    clf = TorchMultiLabelClassifier(pos_weight="balanced")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        weights = clf._pos_weight(Y, w)
    np.testing.assert_allclose(weights, [(7.0 - 2.5) / 2.5, (7.0 - 0.5) / 0.5, 1.0], rtol=1e-15)
    ones = clf._pos_weight(Y, np.ones(6))
    np.testing.assert_allclose(ones, [1.0, 5.0, 1.0], rtol=1e-15)  # one positive of weight 1: 5 negatives over 1


def test_feature_names_are_kept_at_fit_and_checked_at_partial_fit(data):
    pd = pytest.importorskip("pandas")
    X, Y, _ = data
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = quiet(TorchMultiLabelClassifier(max_iter=2).fit, frame, Y)
    np.testing.assert_array_equal(clf.feature_names_in_, ["a", "b", "c", "d"])
    partial = TorchMultiLabelClassifier(solver="sgd").partial_fit(frame, Y, classes=np.arange(3))
    with pytest.raises(ValueError, match="feature names should match"):
        partial.partial_fit(frame.rename(columns={"a": "z"}), Y)


def test_callbacks_given_to_the_constructor_are_its_parameter_and_run_by_fit(data):
    """``callbacks`` is a parameter as any other (scikit-learn's contract: ``get_params`` returns what the
    constructor was given), and ``fit`` runs the callbacks it names."""
    from skorch.callbacks import Callback

    class Stop(Exception):
        pass

    class RaiseAtStart(Callback):
        def on_train_begin(self, net, **kwargs):
            raise Stop

    X, Y, _ = data
    given = [("stop", RaiseAtStart())]
    clf = TorchMultiLabelClassifier(max_iter=2, callbacks=given)
    assert clf.get_params()["callbacks"] is given
    with pytest.raises(Stop):
        clf.fit(X, Y)


def test_a_model_fitted_on_one_d_labels_pickles_and_saves(data, tmp_path):
    """1-D labels keep no label-matrix dtype: the model pickles, and saves and loads, predicting the same labels."""
    X, Y, _ = data
    y = Y.argmax(axis=1)
    clf = quiet(TorchMultiLabelClassifier(max_iter=5).fit, X, y)
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.predict(X), clf.predict(X))
    clf.save(tmp_path / "one_d.tlm")
    loaded = TorchMultiLabelClassifier.load(tmp_path / "one_d.tlm")
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))


def test_a_missing_pos_weight_is_refused_as_a_non_finite_one(data):
    """A ``None`` (a missing value) among the weights is read as NaN: refused with the same ValueError as NaN."""
    X, Y, _ = data
    with pytest.raises(ValueError, match="pos_weight must hold one finite, non-negative weight per label"):
        TorchMultiLabelClassifier(pos_weight=[1.0, None, 2.0]).fit(X, Y)


# Mutation survey h7 (stop 49).
def test_loss_is_the_last_epochs_loss_even_when_the_curve_rose():
    """Mutant ML5 (loss_ returned min(loss_curve_)): MLPClassifier's loss_ is the last epoch's loss, not the best."""
    X, Y = make_multilabel_classification(n_samples=100, n_features=5, n_classes=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = TorchMultiLabelClassifier((8,), learning_rate_init=1.0, max_iter=8, random_state=0).fit(X, Y)
    curve = model.loss_curve_
    assert curve[-1] > min(curve)  # the premise: the curve rose after its best epoch
    assert model.loss_ == curve[-1]
    assert model.best_loss_ == min(curve)


@pytest.mark.parametrize("nullable", ["Int64", "boolean"])
def test_a_one_column_nullable_frame_gives_mlp_classifiers_float_classes(nullable):
    """Mutant ML7 (`Y.shape[1] >= 1` in _validate_fit_data): a one-column pandas "Int64" / "boolean" Y is 1-D class
    labels; validation made them float64, and MLPClassifier's classes_ (and predictions) stay float64."""
    pd = pytest.importorskip("pandas")
    from sklearn.neural_network import MLPClassifier

    rng = np.random.RandomState(0)
    X = rng.randn(40, 3)
    Y = pd.DataFrame({"a": (X[:, 0] > 0).astype(int)}).astype(nullable)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = TorchMultiLabelClassifier().fit(X, Y)
        theirs = MLPClassifier(max_iter=5, random_state=0).fit(X, Y)
    assert ours.classes_.dtype == theirs.classes_.dtype == np.float64
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    assert ours.predict(X[:3]).dtype == theirs.predict(X[:3]).dtype


@pytest.mark.parametrize(
    "weight, message",
    [
        (np.float32(np.nan), "Input sample_weight contains NaN"),
        (np.float16(np.inf), "Input sample_weight contains infinity"),
    ],
)
def test_numpy_scalar_sample_weight_is_checked_for_nan_and_infinity(weight, message):
    """Mutant CP1 (`isinstance(sample_weight, float)` in _compat._check_sample_weight): a NumPy float32 / float16
    scalar is a numbers.Number that scikit-learn spreads over every row, but not a Python float; its NaN reached
    training as NumPy's "zero-size array to reduction operation maximum"."""
    from torchlogit import TorchLogisticClassifier

    X = np.random.RandomState(0).randn(20, 2)
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match=message):
        TorchLogisticClassifier().fit(X, y, sample_weight=weight)
    with pytest.raises(ValueError, match=message):
        TorchMultiLabelClassifier().fit(X, np.column_stack([y, 1 - y]), sample_weight=weight)


def test_label_lists_mixing_lists_and_bare_labels_get_the_multilabelbinarizer_advice():
    """Mutant ML14 (dropped `or len(rows) < len(Y)` in _check_label_lists): a list of label lists where some samples
    hold a bare label (``[[0, 1], 1, ...]``) got NumPy's "inhomogeneous shape" instead of the advice."""
    X = np.random.RandomState(0).randn(4, 2)
    with pytest.raises(ValueError, match="lists \\(or sets\\) of labels per sample.*MultiLabelBinarizer"):
        TorchMultiLabelClassifier().fit(X, [[0, 1], 1, [1, 0], [0, 0]])


def test_skorch_early_stopping_may_monitor_the_held_out_loss_of_an_early_stopping_fit():
    """Mutant ML22 (`_recorded_scores` without "valid_loss"): a mini-batch fit with early_stopping=True records
    valid_loss every epoch, so a skorch EarlyStopping(monitor="valid_loss") is accepted (only L-BFGS, which holds
    no rows out, refuses it)."""
    from skorch.callbacks import EarlyStopping

    X, Y = make_multilabel_classification(n_samples=100, n_features=4, n_classes=3, random_state=0)
    model = TorchMultiLabelClassifier(
        (4,),
        early_stopping=True,
        max_iter=5,
        random_state=0,
        callbacks=[("es", EarlyStopping(monitor="valid_loss", patience=2))],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X / 10, Y)
    assert all("valid_loss" in row for row in model.history_)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_full_batch_label_matrix_is_laid_out_as_the_linear_objective_reads_it(monkeypatch, dtype):
    """The dense linear objective reads several labels label by label; a full batch's label matrix is gathered so
    (no copy per evaluation: 20k x 2000 labels, 10 iterations, 25 -> 21 s and 150 MB less at the peak), with the
    same bits as the row-major copy it replaced. Sparse X and mini-batches keep rows (their objective reads rows)."""
    from torchlogit import _data, _objective

    X, Y = make_multilabel_classification(n_samples=400, n_features=8, n_classes=5, random_state=0)
    X = (X - X.mean(0)) / X.std(0)
    layouts = []
    real = _objective.linear_objective_and_gradient

    def spy(X, W, b, target, *args, **kwargs):
        layouts.append(bool(target.T.is_contiguous()) and target.ndim == 2)
        return real(X, W, b, target, *args, **kwargs)

    monkeypatch.setattr(_objective, "linear_objective_and_gradient", spy)

    def fit(data, **params):
        layouts.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = TorchMultiLabelClassifier(dtype=dtype, **params).fit(data, Y)
        return model, set(layouts)

    by_label, seen = fit(X)
    assert seen == {True}
    assert fit(sp.csr_matrix(X))[1] == {False}
    assert fit(X, solver="adam", max_iter=2, random_state=0)[1] == {False}
    real_rows = _data._target_rows
    monkeypatch.setattr(_data, "_target_rows", lambda *args: real_rows(*args[:-1], False))  # rows, as before
    by_row, seen = fit(X)
    assert seen == {False}
    for a, b in zip(by_label.coefs_ + by_label.intercepts_, by_row.coefs_ + by_row.intercepts_, strict=True):
        np.testing.assert_array_equal(a, b)
    assert by_label.n_iter_[0] == by_row.n_iter_[0]


# (a second mutation survey, B3) _base.py:_fit appending the previous loss_curve_ to a cold (warm_start=False)
# mini-batch refit
def test_a_cold_adam_refit_of_a_multilabel_model_has_its_own_loss_curve_as_mlpclassifier(iris):
    from torchlogit import TorchMultiLabelClassifier

    X, y = iris
    Y = np.c_[y == 0, y == 1].astype(int)
    clf = TorchMultiLabelClassifier(solver="adam", max_iter=3, random_state=0).fit(X, Y)
    clf.fit(X, Y)
    assert len(clf.loss_curve_) == len(clf.history_) == 3
    assert clf.n_iter_[0] == 3
