"""TorchMultiLabelClassifier: parity with per-label LogisticRegression, MLP quality, target handling."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.datasets import load_iris, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.multioutput import MultiOutputClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from torchlogit import TorchLogisticClassifier, TorchMultiLabelClassifier


@pytest.fixture(scope="module")
def multilabel():
    X, Y = make_multilabel_classification(n_samples=600, n_features=20, n_classes=5, random_state=0)
    return StandardScaler().fit_transform(X), Y


@pytest.fixture(scope="module")
def multilabel_split():
    X, Y = make_multilabel_classification(n_samples=2000, n_features=40, n_classes=8, n_labels=3, random_state=2)
    X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_size=0.3, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), Y_train, Y_test


def _per_label_proba(model, X):
    return np.column_stack([p[:, 1] for p in model.predict_proba(X)])


@pytest.mark.parametrize("C", [0.01, 1.0, 100.0])
def test_linear_model_equals_one_logistic_regression_per_label(multilabel, C):
    """float64, tight tol: max |predict_proba difference| <= 1e-5 vs MultiOutputClassifier(LogisticRegression(C))."""
    X, Y = multilabel
    ours = TorchMultiLabelClassifier(C=C, dtype="float64", tol=1e-10, max_iter=10_000).fit(X, Y)
    ref = MultiOutputClassifier(LogisticRegression(C=C, tol=1e-10, max_iter=10_000)).fit(X, Y)
    np.testing.assert_allclose(ours.predict_proba(X), _per_label_proba(ref, X), rtol=0, atol=1e-5)
    np.testing.assert_allclose(ours.coef_, np.vstack([e.coef_ for e in ref.estimators_]), atol=1e-4)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


def test_sample_weight_matches_per_label_logistic_regression(multilabel):
    X, Y = multilabel
    sw = np.random.RandomState(0).uniform(0.1, 3, len(X))
    ours = TorchMultiLabelClassifier(dtype="float64", tol=1e-10, max_iter=10_000).fit(X, Y, sample_weight=sw)
    ref = MultiOutputClassifier(LogisticRegression(tol=1e-10, max_iter=10_000)).fit(X, Y, sample_weight=sw)
    np.testing.assert_allclose(ours.predict_proba(X), _per_label_proba(ref, X), atol=1e-5)


def test_hidden_layer_f1_at_least_mlp_classifier(multilabel_split):
    """With one hidden layer of 64: held-out F1 (samples) >= MLPClassifier((64,))'s minus 0.01."""
    X_train, X_test, Y_train, Y_test = multilabel_split
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = TorchMultiLabelClassifier(hidden_layer_sizes=(64,), random_state=0).fit(X_train, Y_train)
        mlp = MLPClassifier(hidden_layer_sizes=(64,), random_state=0).fit(X_train, Y_train)
    f1_ours = f1_score(Y_test, ours.predict(X_test), average="samples")
    f1_mlp = f1_score(Y_test, mlp.predict(X_test), average="samples")
    assert f1_ours >= f1_mlp - 0.01, (f1_ours, f1_mlp)


def test_grid_search_over_pipeline_with_f1_samples_and_pickle(multilabel):
    X, Y = multilabel
    pipe = make_pipeline(StandardScaler(), TorchMultiLabelClassifier())
    search = GridSearchCV(pipe, {"torchmultilabelclassifier__C": [0.01, 1.0]}, scoring="f1_samples", cv=3)
    search.fit(X, Y)
    assert search.best_params_["torchmultilabelclassifier__C"] == 1.0
    assert search.best_score_ > 0.6
    restored = pickle.loads(pickle.dumps(search.best_estimator_))
    np.testing.assert_array_equal(restored.predict_proba(X), search.best_estimator_.predict_proba(X))


def test_outputs_are_independent_per_label(multilabel):
    X, Y = multilabel
    clf = TorchMultiLabelClassifier().fit(X, Y)
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape and clf.decision_function(X).shape == Y.shape
    assert not np.allclose(proba.sum(axis=1), 1.0)  # not normalised across labels
    np.testing.assert_allclose(proba, 1 / (1 + np.exp(-clf.decision_function(X))), atol=1e-12)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, atol=1e-12)
    np.testing.assert_array_equal(clf.classes_, np.arange(Y.shape[1]))
    pred = clf.predict(X)
    assert pred.dtype == Y.dtype and set(np.unique(pred)) <= {0, 1}
    np.testing.assert_array_equal(pred, (proba > 0.5).astype(Y.dtype))


def test_threshold_per_label(multilabel):
    X, Y = multilabel
    clf = TorchMultiLabelClassifier(threshold=[0.1, 0.5, 0.5, 0.5, 0.9]).fit(X, Y)
    proba = clf.predict_proba(X)
    pred = clf.predict(X)
    np.testing.assert_array_equal(pred[:, 0], proba[:, 0] > 0.1)
    np.testing.assert_array_equal(pred[:, 4], proba[:, 4] > 0.9)
    with pytest.raises(ValueError, match="one value per label"):
        clf.set_params(threshold=[0.5, 0.5]).predict(X)


def test_sparse_and_boolean_indicator_targets(multilabel):
    X, Y = multilabel
    dense = TorchMultiLabelClassifier().fit(X, Y)
    sparse = TorchMultiLabelClassifier().fit(X, sp.csr_matrix(Y))
    boolean = TorchMultiLabelClassifier().fit(X, Y.astype(bool))
    np.testing.assert_array_equal(sparse.predict_proba(X), dense.predict_proba(X))
    assert boolean.predict(X).dtype == bool


@pytest.mark.parametrize(
    "make_bad, message",
    [
        (lambda Y: Y * 2, "0/1 indicator matrix"),
        (lambda Y: np.where(Y == 0, -1, 1), "0/1 indicator matrix"),
        (lambda Y: Y[:-5], "inconsistent numbers of samples"),
        (lambda Y: [[0, 1], [2]] * 300, "lists \\(or sets\\) of labels per sample.*MultiLabelBinarizer"),
    ],
)
def test_bad_targets_get_clear_errors(multilabel, make_bad, message):
    X, Y = multilabel
    with pytest.raises(ValueError, match=message):
        TorchMultiLabelClassifier().fit(X, make_bad(Y))


def test_one_dimensional_y_behaves_like_mlp_classifier(wine):
    X, y = wine
    clf = TorchMultiLabelClassifier(C=1.0, dtype="float64", tol=1e-10, max_iter=10_000).fit(X, y)
    ref = TorchLogisticClassifier(C=1.0, dtype="float64", tol=1e-10, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), atol=1e-7)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        column = TorchMultiLabelClassifier().fit(X, y[:, None])
    assert column.predict(X).shape == (len(X),)
    with pytest.raises(ValueError, match="pos_weight applies to multi-label"):
        TorchMultiLabelClassifier(pos_weight="balanced").fit(X, y)


@pytest.mark.parametrize("threshold", [0.9, [0.9]])
def test_a_threshold_is_refused_for_one_d_targets_rather_than_ignored(multilabel, threshold):
    """A one-column Y is 1-D labels (as MLPClassifier reads it), predicted as the most probable class: a threshold
    other than 0.5 would be ignored (it was, silently), at fit and after set_params."""
    X, Y = multilabel
    with pytest.raises(ValueError, match="threshold applies to multi-label"):
        TorchMultiLabelClassifier(threshold=threshold).fit(X, Y[:, 0])
    with pytest.warns(DataConversionWarning), pytest.raises(ValueError, match="one-column Y is read as 1-D"):
        TorchMultiLabelClassifier(threshold=threshold).fit(X, Y[:, :1])
    clf = TorchMultiLabelClassifier(max_iter=5).fit(X, Y[:, 0])
    with pytest.raises(ValueError, match="threshold applies to multi-label"):
        clf.set_params(threshold=threshold).predict(X)
    assert clf.set_params(threshold=0.5).predict(X).shape == (len(X),)
    np.testing.assert_array_equal(  # the multi-label rule is untouched
        TorchMultiLabelClassifier(threshold=0.9).fit(X, Y).predict(X),
        TorchMultiLabelClassifier().fit(X, Y).predict_proba(X) > 0.9,
    )


def test_pos_weight_balanced_and_explicit(multilabel):
    X, Y = multilabel
    rare = Y.copy()
    rare[:, 0] = (np.arange(len(Y)) % 10 == 0).astype(int)  # 10% positives
    plain = TorchMultiLabelClassifier().fit(X, rare)
    balanced = TorchMultiLabelClassifier(pos_weight="balanced").fit(X, rare)
    explicit = TorchMultiLabelClassifier(pos_weight=(len(Y) - rare.sum(0)) / rare.sum(0)).fit(X, rare)
    np.testing.assert_allclose(balanced.predict_proba(X), explicit.predict_proba(X), atol=1e-6)
    # Up-weighting the rare positives raises their predicted probability.
    assert balanced.predict_proba(X)[:, 0].mean() > plain.predict_proba(X)[:, 0].mean() + 0.2
    with pytest.raises(ValueError, match="one finite, non-negative weight per label"):
        TorchMultiLabelClassifier(pos_weight=[1.0, 2.0]).fit(X, rare)


def test_hidden_layers_are_reproducible_and_expose_layers(multilabel):
    X, Y = multilabel
    params = dict(hidden_layer_sizes=(16, 8), activation="tanh", dropout=0.1, max_iter=15, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = TorchMultiLabelClassifier(**params).fit(X, Y)
        b = TorchMultiLabelClassifier(**params).fit(X, Y)
    for ca, cb in zip(a.coefs_, b.coefs_, strict=True):
        np.testing.assert_array_equal(ca, cb)
    assert [c.shape for c in a.coefs_] == [(20, 16), (16, 8), (8, 5)]
    assert [i.shape for i in a.intercepts_] == [(16,), (8,), (5,)]
    assert not hasattr(a, "coef_")
    with pytest.raises(ValueError, match="needs a stochastic solver"):
        TorchMultiLabelClassifier(hidden_layer_sizes=(4,), dropout=0.5, solver="lbfgs").fit(X, Y)
    with pytest.raises(ValueError, match="positive integers"):
        TorchMultiLabelClassifier(hidden_layer_sizes=(4, 0)).fit(X, Y)


def test_early_stopping_holds_out_rows_and_keeps_the_best_epoch(multilabel):
    X, Y = multilabel
    clf = TorchMultiLabelClassifier(
        hidden_layer_sizes=(32,), early_stopping=True, n_iter_no_change=3, max_iter=500, random_state=0
    ).fit(X, Y)
    history = clf.history_
    valid = [row["valid_loss"] for row in history]
    assert len(valid) == clf.n_iter_[0] < 500
    batch_rows = sum(b["train_batch_size"] for b in history[0]["batches"])
    assert batch_rows == len(np.unique(np.column_stack([X, Y]), axis=0)) - round(0.1 * len(X))
    assert clf.predict(X).shape == Y.shape


def test_warm_start_needs_the_same_structure(multilabel):
    X, Y = multilabel
    clf = TorchMultiLabelClassifier(warm_start=True).fit(X, Y)
    with pytest.raises(ValueError, match="structure changed"):
        clf.set_params(hidden_layer_sizes=(4,), solver="lbfgs").fit(X, Y)
    assert clf.hidden_layer_sizes == (4,) and clf.coef_.shape == (5, 20)
    # As LogisticRegression's warm start: without an intercept now, the previous one is dropped.
    clf.set_params(hidden_layer_sizes=(), fit_intercept=False).fit(X, Y)
    assert np.all(clf.intercept_ == 0)


@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
def test_a_model_goes_on_only_with_targets_of_its_form(multilabel, how):
    """1-D labels after an indicator matrix, or the reverse: both give classes_ == arange(k), and the outputs
    would be reread as the other model's (k sigmoids as a k-class softmax). MLPClassifier refuses too."""
    X, Y = multilabel
    k = Y.shape[1]
    labels = np.arange(len(X)) % k
    for first, then in ((Y, labels), (labels, Y)):
        if how == "partial_fit":
            clf = TorchMultiLabelClassifier(solver="sgd").partial_fit(X, first, classes=np.arange(k))
            go_on = clf.partial_fit
        else:
            clf = TorchMultiLabelClassifier(warm_start=True, max_iter=5)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(X, first)
            go_on = clf.fit
        coef, shape = clf.coef_.copy(), clf.predict(X).shape
        with pytest.raises(ValueError, match=r"fitted on .* a model goes on only with targets of the form"):
            go_on(X, then)
        np.testing.assert_array_equal(clf.coef_, coef)
        assert clf.predict(X).shape == shape
    if how == "warm_start":  # a new fit of the other form is a new model
        assert clf.set_params(warm_start=False).fit(X, labels).predict(X).shape == (len(X),)


def test_partial_fit_keeps_learned_intercepts(multilabel):
    """fit_intercept=False set between partial_fit calls would drop the intercepts learned so far (SGDClassifier
    keeps its own): refused. Without learned intercepts it changes nothing, and the reverse starts them at 0."""
    X, Y = multilabel
    for hidden in ((), (4,)):
        clf = TorchMultiLabelClassifier(hidden, solver="adam", random_state=0).partial_fit(
            X + 3, Y, classes=np.arange(5)
        )
        before = clf.predict_proba(X)
        with pytest.raises(ValueError, match="fit_intercept=False was set after the model learned intercepts"):
            clf.set_params(fit_intercept=False).partial_fit(X + 3, Y)
        np.testing.assert_array_equal(clf.predict_proba(X), before)
    clf = TorchMultiLabelClassifier(solver="sgd", fit_intercept=False).partial_fit(X, Y, classes=np.arange(5))
    clf.partial_fit(X, Y)
    clf.set_params(fit_intercept=True).partial_fit(X, Y)
    assert np.any(clf.intercept_ != 0)
    # fit_intercept=False with hidden layers drops only the output's bias: the hidden biases it keeps are no
    # learned intercepts, and the second call (after partial_fit or fit) went on refusing them.
    for first in ("partial_fit", "fit"):
        clf = TorchMultiLabelClassifier((4,), fit_intercept=False, max_iter=2, random_state=0)
        clf = clf.partial_fit(X, Y, classes=np.arange(5)) if first == "partial_fit" else clf.fit(X, Y)
        assert np.any(clf.intercepts_[0] != 0) and not np.any(clf.intercepts_[-1] != 0)
        clf.partial_fit(X, Y)


def test_object_label_matrices_are_refused_as_scikit_learn_refuses_them(multilabel):
    """scikit-learn's type_of_target calls an object (or pandas category) matrix "unknown" and OneVsRest,
    MLPClassifier and MultiOutputClassifier refuse it; it trained here and predicted Python booleans."""
    import pandas as pd

    X, Y = multilabel
    for labels in (Y.astype(object), pd.DataFrame(Y).astype("category")):
        with pytest.raises(ValueError, match="Unknown label type: unknown"):
            TorchMultiLabelClassifier().fit(X, labels)
        with pytest.raises(ValueError, match="Unknown label type"):
            MLPClassifier().fit(X, labels)
    with pytest.raises(ValueError, match="Unknown label type: unknown"):
        TorchMultiLabelClassifier(solver="sgd").partial_fit(X, Y.astype(object), classes=np.arange(Y.shape[1]))
    # nullable integers are numbers, not objects: fitted, and predicted in their NumPy dtype
    assert TorchMultiLabelClassifier().fit(X, pd.DataFrame(Y).astype("Int64")).predict(X).dtype == np.int64


def test_mlpclassifiers_descriptive_attributes(multilabel, tmp_path):
    """n_layers_, n_outputs_, out_activation_ and loss_ as MLPClassifier has them (code ported from it read
    them), for labels, binary and multinomial 1-D y, linear or not; a loaded model has them too."""
    X, Y = multilabel
    for y in (Y, Y[:, 0], Y[:, :3].sum(1)):
        for hidden in ((), (4,), (4, 3)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                ours = TorchMultiLabelClassifier(hidden, max_iter=5).fit(X, y)
                theirs = MLPClassifier(hidden, max_iter=5).fit(X, y)
            for name in ("n_layers_", "n_outputs_", "out_activation_"):
                assert getattr(ours, name) == getattr(theirs, name), (name, hidden, y.ndim)
            assert ours.loss_ == ours.loss_curve_[-1] and ours.best_loss_ == min(ours.loss_curve_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        stopped = TorchMultiLabelClassifier((4,), early_stopping=True, max_iter=3).fit(X, Y)
    assert stopped.best_loss_ is None is MLPClassifier((4,), early_stopping=True, max_iter=3).fit(X, Y).best_loss_
    ours.save(tmp_path / "m.tlm")
    loaded = TorchMultiLabelClassifier.load(tmp_path / "m.tlm")
    assert (loaded.n_layers_, loaded.n_outputs_, loaded.out_activation_) == (4, 4, "softmax")
    assert np.isnan(loaded.loss_)  # a file keeps no training history
    with pytest.raises(AttributeError, match="has no attribute 'n_layers_' \\(it is not fitted\\)"):
        _ = TorchMultiLabelClassifier().n_layers_


@pytest.mark.parametrize("activation", ["relu", "logistic"])
def test_hidden_layers_start_from_mlpclassifiers_initialisation(multilabel, activation):
    """U(-b, b) with b = sqrt(factor / (fan_in + fan_out)), factor 2 for logistic units and 6 otherwise, for every
    layer's weights and biases (MLPClassifier's _init_coef). PyTorch's default started the output layer ~2.4x
    smaller and a ported "sgd" fit trained more slowly."""
    X, Y = multilabel
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = TorchMultiLabelClassifier(
            (300, 200), activation=activation, solver="adam", max_iter=0, random_state=0
        ).fit(X, Y)  # a fixed draw: the mean check below fails for ~1% of seeds
    factor = 2.0 if activation == "logistic" else 6.0
    for W, b in zip(start.coefs_, start.intercepts_, strict=True):
        bound = np.sqrt(factor / sum(W.shape))
        for values in (W, b):
            assert np.abs(values).max() <= bound
        assert np.abs(W).max() > 0.98 * bound and abs(W.mean()) < 0.05 * bound  # uniform over the whole range


def test_balanced_pos_weight_of_an_always_on_label_is_one():
    """n_negative / n_positive is 0 for a label that is always on: that weight removed the label's whole loss
    (probability 0.5, predicted off). It gets 1, as a label that is never on does."""
    X, Y = make_multilabel_classification(n_samples=120, n_features=6, n_classes=3, random_state=0)
    Y[:, 1] = 1
    balanced = TorchMultiLabelClassifier(pos_weight="balanced").fit(X, Y)
    negative, positive = (Y == 0).sum(0), (Y == 1).sum(0)
    explicit = [negative[0] / positive[0], 1.0, negative[2] / positive[2]]
    same = TorchMultiLabelClassifier(pos_weight=explicit).fit(X, Y)
    np.testing.assert_array_equal(balanced.coef_, same.coef_)
    assert (balanced.predict(X)[:, 1] == 1).all() and (balanced.predict_proba(X)[:, 1] > 0.99).all()


@pytest.mark.parametrize("threshold", [[0.0, 0.5, 1.0], [0.5, 0.5], [[0.5]]])
def test_per_label_thresholds_are_checked_at_fit(threshold):
    """A threshold that predict would refuse is refused by fit, before training, with the fitted model kept
    (it trained, then predict refused it, and save wrote a file that load refused)."""
    X, Y = make_multilabel_classification(n_samples=60, n_features=4, n_classes=3, random_state=0)
    model = TorchMultiLabelClassifier().fit(X, Y)
    before = model.coef_
    with pytest.raises(ValueError, match="threshold"):
        model.set_params(threshold=threshold).fit(X, Y)
    assert model.coef_ is before


def test_hidden_layer_sizes_as_an_int_or_an_array_as_mlp_classifier_takes_them():
    X, Y = make_multilabel_classification(n_samples=60, n_features=4, n_classes=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        expected = TorchMultiLabelClassifier(hidden_layer_sizes=(5,), random_state=0).fit(X, Y)
        for sizes in (5, np.array([5]), [5]):
            got = TorchMultiLabelClassifier(hidden_layer_sizes=sizes, random_state=0).fit(X, Y)
            for a, b in zip(got.coefs_, expected.coefs_, strict=True):
                np.testing.assert_array_equal(a, b)
    for bad in ([[5]], [0], [2.5]):
        with pytest.raises(ValueError, match="hidden_layer_sizes must be"):
            TorchMultiLabelClassifier(hidden_layer_sizes=bad).fit(X, Y)


@pytest.mark.parametrize("hidden", [(), (3,)])
def test_a_validation_set_of_one_row_is_refused_as_mlp_classifier_refuses_it(hidden):
    """One held-out row cannot tell whether the loss improves; MLPClassifier refuses it with these words."""
    X, Y = make_multilabel_classification(n_samples=10, n_features=4, n_classes=3, random_state=0)
    model = TorchMultiLabelClassifier(hidden, solver="adam", early_stopping=True, max_iter=3)
    with pytest.raises(ValueError, match="The validation set is too small"):
        model.fit(X, Y)


def test_best_loss_is_the_lowest_loss_of_a_curve_that_rises():
    """best_loss_ is MLPClassifier's min(loss_curve_), not the last loss: they differ once the curve rises
    (sgd at a large learning rate on unscaled features; the descriptive-attributes test's curves only fall)."""
    X, Y = make_multilabel_classification(n_samples=200, n_features=6, n_classes=4, random_state=0)
    params = dict(solver="sgd", learning_rate_init=0.5, max_iter=15, tol=0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = TorchMultiLabelClassifier((8,), **params).fit(X, Y)
        theirs = MLPClassifier((8,), **params).fit(X, Y)
    assert ours.loss_curve_[-1] > min(ours.loss_curve_)  # the test means something
    assert ours.best_loss_ == min(ours.loss_curve_) and theirs.best_loss_ == min(theirs.loss_curve_)


def test_partial_fit_with_one_d_y_refuses_a_threshold_as_fit_does(multilabel):
    """partial_fit trained such a model, which predict then refused."""
    X, Y = multilabel
    model = TorchMultiLabelClassifier(solver="adam", threshold=0.9)
    with pytest.raises(ValueError, match="threshold applies to multi-label"):
        model.partial_fit(X, Y[:, 0], classes=[0, 1])
    assert not hasattr(model, "classes_")


def test_a_pandas_frame_of_sparse_label_columns_fits_as_its_dense_values(multilabel):
    """``pd.get_dummies(..., sparse=True)``: validation turns it into a SciPy matrix after the sparse check, and
    NumPy's "truth value of an array is ambiguous" followed."""
    pd = pytest.importorskip("pandas")
    X, Y = multilabel
    frame = pd.DataFrame(Y, columns=list("abcde")).astype(pd.SparseDtype(int, 0))
    np.testing.assert_array_equal(
        TorchMultiLabelClassifier(max_iter=20).fit(X, frame).predict_proba(X),
        TorchMultiLabelClassifier(max_iter=20).fit(X, Y).predict_proba(X),
    )


@pytest.mark.parametrize("labels", [[[0, 2], [1]], [{0, 2}, {1, 2}], [(0,), (1, 2)], [np.array([0, 2]), np.array([1])]])
def test_lists_of_label_sets_point_to_multilabel_binarizer(labels):
    X = np.arange(4.0).reshape(2, 2)
    with pytest.raises(ValueError, match="lists \\(or sets\\) of labels per sample.*MultiLabelBinarizer"):
        TorchMultiLabelClassifier().fit(X, labels)


def test_a_model_goes_on_only_with_targets_of_the_form_it_was_fitted_on(multilabel):
    """1-D class labels, then a label-indicator matrix (or the reverse): the outputs would be reread as the other
    model's. partial_fit checked the classes first and said they must be np.arange(n_labels) even when they were
    (for Y of another width), and advised warm_start=False, which partial_fit ignores."""
    X, Y = multilabel
    y = np.arange(len(X)) % 3
    wide = np.c_[Y, Y[:, :1]][:, :4]
    form = "was fitted on 1-D class labels y, and partial_fit got a label-indicator matrix Y"
    for classes in (np.arange(4), None):
        model = TorchMultiLabelClassifier(solver="sgd", random_state=0).partial_fit(X, y, classes=[0, 1, 2])
        with pytest.raises(ValueError, match=form + r".* \(or call fit, which starts afresh\)"):
            model.partial_fit(X, wide, classes=classes)
    model = TorchMultiLabelClassifier(solver="sgd", random_state=0).partial_fit(X, Y, classes=np.arange(Y.shape[1]))
    with pytest.raises(ValueError, match="was fitted on a label-indicator matrix Y .*, and partial_fit got 1-D class"):
        model.partial_fit(X, y, classes=[0, 1, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm = TorchMultiLabelClassifier(warm_start=True, max_iter=5).fit(X, y)
    with pytest.raises(
        ValueError, match=r"fit with warm_start=True got a label-indicator .* \(or set warm_start=False\)"
    ):
        warm.fit(X, wide)


def test_partial_fit_keeps_the_previous_history_rows_rather_than_copying_them(multilabel):
    """Each call deep-copied every previous row into its net (and converted them again): calls slowed as they
    accumulated (6 ms, then 80 ms after 3000 calls). The rows are kept as they are, but for the last one, copied
    (a shallow dict copy: a failed call must not write into it); the new call adds its own."""
    X, Y = multilabel
    model = TorchMultiLabelClassifier((4,), random_state=0)
    model.partial_fit(X[:100], Y[:100], classes=np.arange(5))
    model.partial_fit(X[100:200], Y[100:200])
    model.partial_fit(X[200:300], Y[200:300])
    rows = model.history_
    model.partial_fit(X[300:400], Y[300:400])
    assert len(model.history_) == 4 and model.history_[0] is rows[0]
    assert model.history_[2] == rows[2] and model.history_[2] is not rows[2]
    assert model.loss_curve_[:3] == [row["train_loss"] for row in rows]


def test_partial_fit_refuses_early_stopping_as_mlp_classifier_does(multilabel):
    """MLPClassifier.partial_fit raises for early_stopping=True; ours ignored it without a word (each call is one
    epoch: nothing to hold out and stop)."""
    from sklearn.neural_network import MLPClassifier

    X, Y = multilabel
    message = "partial_fit does not support early_stopping=True"
    with pytest.raises(ValueError, match=message):
        MLPClassifier(early_stopping=True).partial_fit(X, Y[:, 0], classes=[0, 1])
    with pytest.raises(ValueError, match=message):
        TorchMultiLabelClassifier((8,), early_stopping=True).partial_fit(X, Y)
    assert not hasattr(TorchMultiLabelClassifier(early_stopping=True), "coef_")


def test_early_stopping_holds_out_a_share_of_the_rows_as_given_not_of_the_distinct_rows():
    """MLPClassifier holds out validation_fraction of the samples. Identical rows are merged here, and the share
    was taken of the merged rows: 5000 rows of 8 distinct ones were refused ("held out 1 of 8 distinct training
    rows"), and a row repeated 900 times in 1000 could be held out whole (training subset accuracy 0.00). Now a
    merged row sends some of its rows to each part, its weight shared accordingly; any row order holds out the
    same rows (the model is bitwise the same)."""
    from torchlogit._training_set import TrainingSet

    rng = np.random.RandomState(0)
    X8 = rng.randn(8, 3)
    X = np.repeat(X8, 625, axis=0)
    Y = np.repeat((X8[:, :2] > 0).astype(int), 625, axis=0)
    model = TorchMultiLabelClassifier((4,), solver="adam", early_stopping=True, max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, Y)
        data = TrainingSet.from_user(model, X, Y, None, torch.device("cpu"))
        train, valid = data.split(0.1, 0)
        assert valid.weight_sum == 500 and train.weight_sum == 4500  # train_test_split's counts of 5000 rows
        assert valid.n_samples <= 8 and train.n_samples == 8

        big = np.vstack([np.zeros((900, 3)), rng.randn(100, 3)])
        Ybig = np.column_stack([big[:, 0] >= 0, big[:, 1] > 0]).astype(int)
        for seed in range(8):
            data = TrainingSet.from_user(model, big, Ybig, None, torch.device("cpu"))
            train, valid = data.split(0.1, seed)
            assert valid.weight_sum == 100 and train.weight_sum == 900
            assert train.weight.max() >= 700  # the repeated row stays in training with most of its copies

        order = rng.permutation(len(X))
        again = clone(model).fit(X[order], Y[order])
    for a, b in zip(model.coefs_, again.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)


def test_nullable_pandas_label_columns_predict_in_their_numpy_dtype(multilabel):
    """pandas "Int64" / "boolean" Y: validation turns them into float64, and predict returned float64 against the
    docstring's "dtype of the training Y"; they give int64 / bool, as "int64" and bool columns do."""
    pd = pytest.importorskip("pandas")
    X, Y = multilabel
    for nullable, expected in [("Int64", np.int64), ("boolean", np.bool_), ("UInt8", np.uint8)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = TorchMultiLabelClassifier(max_iter=5).fit(X, pd.DataFrame(Y).astype(nullable))
        assert model.predict(X).dtype == expected
    # 1-D class labels are classes_, predicted as MLPClassifier predicts them (float64 from a nullable Series)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for labels in (Y[:, 0], Y[:, 0] + 1):
            series = pd.Series(labels).astype("Int64")
            ours = TorchMultiLabelClassifier(max_iter=5).fit(X, series).predict(X)
            assert ours.dtype == MLPClassifier(max_iter=5).fit(X, series).predict(X).dtype


def test_a_warm_started_stochastic_fit_appends_to_loss_curve_as_mlp_classifier_does(multilabel):
    """MLPClassifier(warm_start=True): two fits of 5 epochs leave loss_curve_ with 10 losses and n_iter_ 5; ours
    replaced the curve (5). A loop of fit() calls with max_iter=1 now traces the whole curve; L-BFGS fits count
    afresh, as MLPClassifier's do."""
    X, Y = multilabel
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = TorchMultiLabelClassifier((8,), warm_start=True, max_iter=5, random_state=0)
        ref = MLPClassifier((8,), warm_start=True, max_iter=5, random_state=0)
        first = list(ours.fit(X, Y).loss_curve_)
        ref.fit(X, Y)
        ours.fit(X, Y), ref.fit(X, Y)
        assert (int(ours.n_iter_[0]), len(ours.loss_curve_)) == (ref.n_iter_, len(ref.loss_curve_)) == (5, 10)
        assert ours.loss_curve_[:5] == first and [r["epoch"] for r in ours.history_] == list(range(1, 11))
        linear = TorchMultiLabelClassifier(warm_start=True, max_iter=5).fit(X, Y)
        linear.fit(X, Y)
    assert len(linear.loss_curve_) == int(linear.n_iter_[0])


def test_early_stopping_on_repeated_rows_holds_out_the_same_rows_from_cpu_tensors():
    """The hold-out of rows as given is drawn on the host from the canonical rows' counts, whichever path prepared
    them: CPU tensors (prepared in torch) give bitwise the NumPy fit, with sample weights (some zero) too."""
    rng = np.random.RandomState(0)
    X8 = rng.randn(8, 3)
    X = np.repeat(X8, 50, axis=0)
    Y = np.repeat((X8[:, :2] > 0).astype(int), 50, axis=0)
    w = rng.uniform(0.5, 2, len(X))
    w[:10] = 0
    params = dict(hidden_layer_sizes=(4,), early_stopping=True, max_iter=8, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for weight in (None, w):
            host = TorchMultiLabelClassifier(**params).fit(X, Y, sample_weight=weight)
            tensor_weight = None if weight is None else torch.from_numpy(weight)
            device = TorchMultiLabelClassifier(**params).fit(
                torch.from_numpy(X), torch.from_numpy(Y), sample_weight=tensor_weight
            )
            for a, b in zip(host.coefs_, device.coefs_, strict=True):
                np.testing.assert_array_equal(a, b)
            out = device.predict_proba(torch.from_numpy(X))
            assert isinstance(out, torch.Tensor) and out.device.type == "cpu"


@pytest.mark.parametrize("seed", [0, 3])
def test_early_stopping_stratifies_binary_y_only_as_mlpclassifier(seed):
    """MLPClassifier stratifies its early-stopping split when it has one output (binary y) and draws it at random
    otherwise: a multiclass y with a class of one sample fits there, and failed here ("The least populated
    classes in y have only 1 member"). The held-out rows are train_test_split's, stratified or not."""
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    from torchlogit._targets import encode_labels
    from torchlogit._training_set import hold_out

    rows, ones = np.arange(100), np.ones(100, dtype=int)
    binary = np.r_[np.zeros(90, int), np.ones(10, int)]
    multiclass = np.r_[np.zeros(60, int), np.ones(39, int), [2]]
    for y, stratify in ((binary, binary), (multiclass, None)):
        held = hold_out(rows, ones, encode_labels(y), 0.1, seed)
        reference = train_test_split(rows, test_size=0.1, random_state=seed, stratify=stratify)[1]
        assert np.flatnonzero(held).tolist() == sorted(reference.tolist())
    X = np.random.RandomState(seed).standard_normal((100, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        MLPClassifier((4,), early_stopping=True, random_state=seed, max_iter=5).fit(X, multiclass)
        model = TorchMultiLabelClassifier((4,), early_stopping=True, random_state=seed, max_iter=5).fit(X, multiclass)
    assert model.classes_.tolist() == [0, 1, 2]


@pytest.mark.parametrize("params", [{}, {"hidden_layer_sizes": (4,), "solver": "lbfgs"}])
def test_an_lbfgs_fit_with_early_stopping_records_no_valid_loss_for_callbacks(params):
    """L-BFGS ignores early_stopping (as MLPClassifier's does) and holds nothing out: a skorch EarlyStopping on
    valid_loss got skorch's KeyError mid-fit; it gets the clear refusal it gets without early_stopping."""
    from skorch.callbacks import EarlyStopping

    X, Y = make_multilabel_classification(n_samples=80, n_features=5, n_classes=3, random_state=1)
    model = TorchMultiLabelClassifier(early_stopping=True, callbacks=[EarlyStopping(monitor="valid_loss")], **params)
    with pytest.raises(ValueError, match="EarlyStopping monitors 'valid_loss', which this fit does not record"):
        model.fit(X, Y)


def test_an_overflowing_pos_weight_is_named_not_the_features():
    """A pos_weight the training dtype cannot hold is refused in its words before training; one whose scale
    overflows the objective or Adam's state is named in the failure (both blamed the features, and a float64 fit
    was told to use dtype='float64')."""
    rng = np.random.RandomState(0)
    X = rng.randn(200, 4)
    Y = np.c_[X[:, 0] + 0.5 * rng.randn(200) > 0, X[:, 1] + 0.5 * rng.randn(200) > 0].astype(int)
    with pytest.raises(ValueError, match=r"^pos_weight reaches 1e\+39, beyond the range of the training dtype float32"):
        TorchMultiLabelClassifier(pos_weight=[1e39, 1]).fit(X, Y)
    with pytest.raises(
        ValueError, match=r"left the range of float64: pos_weight reaches 1e\+250\. Use a smaller pos_weight\.$"
    ):
        TorchMultiLabelClassifier(dtype="float64", pos_weight=[1e250, 1]).fit(X, Y)
    with pytest.raises(
        ValueError, match=r"pos_weight reaches 1e\+30: use a smaller pos_weight, or use dtype='float64'\.$"
    ):
        TorchMultiLabelClassifier(solver="adam", pos_weight=[1e30, 1]).fit(X * 10, Y)
    # Within the range: fitted, as before (the negative terms of label 0 no longer count beside the positive ones).
    model = TorchMultiLabelClassifier(dtype="float64", pos_weight=[1e100, 1]).fit(X, Y)
    assert np.all(np.isfinite(model.coef_))


def test_an_ordinary_pos_weight_is_not_blamed_for_overflowing_features():
    """Kills C9
    (_large_pos_weight: ``largest > 1`` instead of ``largest * eps > 1``).

    pos_weight=3 is an ordinary class balance; the overflow of Adam's float32 state comes from features near
    1e30, and the message must say so (the mutant said "pos_weight reaches 3: use a smaller pos_weight").
    """
    import numpy as np
    import pytest

    from torchlogit import TorchMultiLabelClassifier

    rng = np.random.RandomState(0)
    X = rng.randn(200, 4)
    Y = np.c_[X[:, 0] + 0.5 * rng.randn(200) > 0, X[:, 1] + 0.5 * rng.randn(200) > 0].astype(int)
    with pytest.raises(ValueError, match=r"The input data may contain large values: scale the features") as info:
        TorchMultiLabelClassifier(solver="adam", pos_weight=[3.0, 1.0], max_iter=3).fit(X * 1e30, Y)
    assert "pos_weight" not in str(info.value)


# (mutation survey, M3: the length check dropped in _modules.resume_dropout_streams)
def test_partial_fit_after_switching_dropout_off_trains_on():
    import numpy as np

    from torchlogit import TorchMultiLabelClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    Y = (rng.normal(size=(60, 3)) > 0).astype(int)
    clf = TorchMultiLabelClassifier(hidden_layer_sizes=(5,), solver="adam", dropout=0.2, random_state=0)
    clf.partial_fit(X, Y, classes=np.arange(3))
    clf.set_params(dropout=0.0)
    clf.partial_fit(X, Y)  # the saved stream of the one dropout layer has no layer to go to: started afresh
    assert clf.predict(X).shape == Y.shape


# (mutation survey, N4: the gradient zeroing dropped in _net.LogitNet.train_step_single for hidden
# layers trained by L-BFGS: each evaluation's gradient added to the previous ones, the line search failed after 5
# iterations with a loss of 1.72 against the optimum's 1.256)
def test_identity_hidden_layers_trained_by_lbfgs_reach_the_linear_models_optimum():
    import warnings

    import numpy as np
    from sklearn.exceptions import ConvergenceWarning

    from torchlogit import TorchMultiLabelClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 4))
    Y = (X[:, :3] + rng.normal(size=(100, 3)) > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        deep = TorchMultiLabelClassifier(
            hidden_layer_sizes=(6,), activation="identity", solver="lbfgs", C=1e4, max_iter=500, random_state=0
        ).fit(X, Y)
    linear = TorchMultiLabelClassifier(hidden_layer_sizes=(), C=1e4, max_iter=500).fit(X, Y)
    # A product of linear maps of width >= the labels is the linear model; with a weak penalty, the same optimum.
    assert abs(deep.loss_ - linear.loss_) < 1e-4 * linear.loss_


# (mutation survey, L8: `if self.early_stopping:` in TorchMultiLabelClassifier.best_loss_: L-BFGS
# ignores early_stopping, as MLPClassifier's does, so its best_loss_ is still the lowest training loss)
def test_lbfgs_best_loss_ignores_early_stopping():
    import numpy as np

    from torchlogit import TorchMultiLabelClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    Y = (X[:, :2] + rng.normal(size=(60, 2)) > 0).astype(int)
    model = TorchMultiLabelClassifier(hidden_layer_sizes=(), solver="lbfgs", early_stopping=True).fit(X, Y)
    assert model.best_loss_ == min(model.loss_curve_)


# (mutation survey, L9: `if self.pos_weight is not None:` in _check_one_d_targets: pos_weight, a
# training parameter, set after a 1-D fit made predict fail)
def test_pos_weight_set_after_a_one_d_fit_does_not_block_predict():
    import numpy as np

    from torchlogit import TorchMultiLabelClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] > 0).astype(int)
    model = TorchMultiLabelClassifier(hidden_layer_sizes=()).fit(X, y)
    expected = model.predict(X)
    model.set_params(pos_weight=[2.0])
    np.testing.assert_array_equal(model.predict(X), expected)


@pytest.mark.parametrize("solver, max_iter", [("adam", 0), ("lbfgs", 1)])
def test_random_state_sets_the_hidden_layers_initialisation(multilabel, solver, max_iter):
    """h6's mutant (the initialisation seeded with a constant): two seeds, two starting points, as MLPClassifier's
    random_state draws its initial weights; one seed, one (the tests had only checked the second). Under L-BFGS too
    (MLPClassifier(solver="lbfgs") draws them from random_state; a mutant seeding only mini-batch fits survived)."""
    X, Y = multilabel

    def start(seed):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return (
                TorchMultiLabelClassifier((20,), solver=solver, max_iter=max_iter, random_state=seed).fit(X, Y).coefs_
            )

    a, again, b = start(0), start(0), start(1)
    for W, W_again, W_other in zip(a, again, b, strict=True):
        np.testing.assert_array_equal(W, W_again)
        assert not np.allclose(W, W_other)


def test_a_wrong_second_layer_shape_names_the_width_it_chains_from(multilabel):
    """h6's mutant (the message naming hidden layer i, not i - 1): coefs_[1] must be (width of hidden layer 0,
    width of hidden layer 1), and the refusal names layer 0."""
    import re

    X, Y = multilabel
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = TorchMultiLabelClassifier((5, 4), max_iter=2, random_state=0).fit(X, Y)
    model.coefs_ = [model.coefs_[0], np.zeros((6, 4)), model.coefs_[2]]
    with pytest.raises(ValueError, match=re.escape("(5, 4) (the width of hidden layer 0, this hidden layer's width)")):
        model.predict(X)


def test_early_stopping_with_the_default_solver_of_the_linear_model_is_warned_about():
    """MLPClassifier's default solver is adam, where early_stopping=True works; here solver="auto" is L-BFGS for the
    linear model, which ignored it silently (200 iterations, no valid_loss). A UserWarning says so once; an explicit
    solver="lbfgs" (ignored as MLPClassifier's lbfgs ignores it) and hidden layers ("auto" is adam) say nothing."""
    X, Y = make_multilabel_classification(n_samples=120, n_features=5, n_classes=3, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        TorchMultiLabelClassifier(early_stopping=True).fit(X, Y)
    said = [w for w in caught if "early_stopping=True applies to the mini-batch solvers" in str(w.message)]
    assert len(said) == 1 and said[0].category is UserWarning and said[0].filename == __file__
    for params in (dict(solver="lbfgs"), dict(hidden_layer_sizes=(4,), max_iter=5)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            TorchMultiLabelClassifier(early_stopping=True, **params).fit(X, Y)
        assert not [w for w in caught if "early_stopping" in str(w.message)]


def test_a_network_beyond_the_available_memory_is_refused_before_it_is_built(monkeypatch):
    """h7: hidden_layer_sizes=10**9 reached torch's allocator error (16 GB asked for), or the kernel killed the process
    where memory is overcommitted; MLPClassifier raises a MemoryError. Refused in the user's terms, before any
    allocation, and a fitted model is left as it was."""
    from torchlogit import _modules

    rng = np.random.default_rng(0)
    X, Y = rng.random((30, 3)), (rng.random((30, 2)) > 0.5).astype(int)
    model = TorchMultiLabelClassifier(hidden_layer_sizes=(4,), max_iter=20).fit(X, Y)
    before = model.predict_proba(X)
    with pytest.raises(ValueError, match=r"makes a network of 6,000,000,002 parameters, whose training state"):
        model.set_params(hidden_layer_sizes=10**9).fit(X, Y)
    np.testing.assert_array_equal(model.predict_proba(X), before)
    # The limit is the memory available: 4 copies of 26 float32 parameters (416 bytes) fit in 416, not in 415.
    monkeypatch.setattr(_modules, "available_memory", lambda device: 415)
    with pytest.raises(ValueError, match="needs 416 bytes, more than the 415 bytes"):
        TorchMultiLabelClassifier(hidden_layer_sizes=(4,), max_iter=20).fit(X, Y)
    monkeypatch.setattr(_modules, "available_memory", lambda device: 416)
    TorchMultiLabelClassifier(hidden_layer_sizes=(4,), max_iter=20).fit(X, Y)


def _small_multilabel():
    X, Y = make_multilabel_classification(n_samples=120, n_features=5, n_classes=3, random_state=0)
    return X / 10, Y


def test_pos_weight_set_after_a_one_d_fit_does_not_break_predict():
    """pos_weight is a training parameter of indicator targets: set after a fit on 1-D labels, predict ignores it."""
    X, Y = _small_multilabel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = TorchMultiLabelClassifier(max_iter=5).fit(X, Y[:, 0])
    before = clf.predict(X)
    clf.set_params(pos_weight=[2.0])
    np.testing.assert_array_equal(clf.predict(X), before)


def test_early_stopping_restores_the_best_epoch_without_an_overshoot_warning():
    """A run whose last epochs overshoot keeps the best epoch's parameters (early_stopping restores them): no
    ConvergenceWarning advising a lower learning rate, which is about the parameters kept."""
    X, Y = make_multilabel_classification(n_samples=300, n_features=5, n_classes=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = TorchMultiLabelClassifier(
            solver="sgd", learning_rate_init=0.5, early_stopping=True, random_state=0, max_iter=100
        ).fit(X, Y)
    valid = [row["valid_loss"] for row in clf.history_]
    assert valid[-1] > 2 * min(valid)  # the last epoch overshot, but its parameters are not the ones kept


def test_validation_fraction_zero_is_refused_only_where_early_stopping_uses_it():
    """MLPClassifier takes validation_fraction in [0, 1) and refuses 0 at fit only with early stopping (scikit-learn's
    train_test_split words); ours refused 0 as a parameter, unused as it is without early stopping."""
    from sklearn.neural_network import MLPClassifier

    X, y = load_iris(return_X_y=True)
    Y = np.c_[y == 0, y == 1].astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        TorchMultiLabelClassifier(solver="adam", validation_fraction=0.0, max_iter=3).fit(X, Y)
        MLPClassifier(validation_fraction=0.0, max_iter=3).fit(X, Y)
    with pytest.raises(ValueError) as reference:
        MLPClassifier(early_stopping=True, validation_fraction=0.0).fit(X, Y)
    with pytest.raises(ValueError, match="early_stopping could not hold out validation_fraction=0.0") as ours:
        TorchMultiLabelClassifier(solver="adam", early_stopping=True, validation_fraction=0.0).fit(X, Y)
    assert str(reference.value) in str(ours.value)
