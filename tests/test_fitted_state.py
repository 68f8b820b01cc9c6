"""The fitted arrays are the model (as in LogisticRegression / MLPClassifier), and the fitted state is lean."""

import copy
import pickle
import sys
import threading
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn
import torch
from scipy.special import expit, softmax
from sklearn.datasets import load_breast_cancer, load_iris, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_html_repr
from sklearn.utils.fixes import parse_version

from torchlogit import TorchLogisticClassifier, TorchLogisticClassifierCV, TorchMultiLabelClassifier
from torchlogit._kernels import torch_takes
from torchlogit._predict import device_logits, host_logits

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
from sklearn_reference import logistic_regression  # noqa: E402


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def labels():
    X, Y = make_multilabel_classification(n_samples=200, n_features=12, n_classes=4, random_state=0)
    return StandardScaler().fit_transform(X), Y


@pytest.fixture(scope="module")
def hidden(labels):
    X, Y = labels
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return TorchMultiLabelClassifier((16, 8), activation="tanh", max_iter=20, random_state=0).fit(X, Y)


def _mlp_logits(X, coefs, intercepts, activation):
    """The forward pass written out, as MLPClassifier computes it."""
    H = X
    for i, (W, b) in enumerate(zip(coefs, intercepts, strict=True)):
        H = H @ W + b
        if i < len(coefs) - 1:
            H = {"tanh": np.tanh, "relu": lambda h: np.maximum(h, 0), "logistic": expit}[activation](H)
    return H


def test_assigning_or_editing_coef_changes_predictions_as_in_logistic_regression(iris):
    X, y = iris
    clf = TorchLogisticClassifier().fit(X, y)
    ref = LogisticRegression().fit(X, y)
    rng = np.random.RandomState(0)
    for estimator in (clf, ref):  # the same edits on both: identical outputs to float64 precision
        estimator.coef_ = rng.randn(3, 4)
        estimator.intercept_ = np.array([0.5, -0.2, 0.1])
        rng = np.random.RandomState(0)
    np.testing.assert_allclose(clf.decision_function(X), ref.decision_function(X), rtol=1e-12)
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), ref.predict(X))
    clf.coef_[0, :] = 0.0  # in place
    ref.coef_[0, :] = 0.0
    np.testing.assert_allclose(clf.predict_log_proba(X), ref.predict_log_proba(X), rtol=1e-12)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.coef_, clf.coef_)
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("n_classes", [2, 3])
def test_a_model_assigned_to_an_unfitted_estimator_predicts_as_logistic_regression(iris, n_classes, tmp_path):
    """coef_, intercept_ and classes_ set on an unfitted estimator (averaged or federated coefficients, another
    tool's): LogisticRegression predicts with them; ours raised AttributeError on 'n_features_in_', then on
    the private '_n_outputs'. Now predictions, the saved file and a warm start all read them."""
    X, y = iris
    y = y if n_classes == 3 else (y == 1).astype(int)
    source = LogisticRegression().fit(X, y)
    clf, ref = TorchLogisticClassifier(), LogisticRegression()
    for model in (clf, ref):
        model.coef_, model.intercept_, model.classes_ = source.coef_.copy(), source.intercept_.copy(), source.classes_
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), rtol=1e-12)
    np.testing.assert_allclose(clf.decision_function(X), ref.decision_function(X), rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), ref.predict(X))
    assert clf.score(X, y) == ref.score(X, y)
    clf.save(tmp_path / "assigned.tl")
    loaded = TorchLogisticClassifier.load(tmp_path / "assigned.tl")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    with pytest.raises(ValueError, match="X has 3 features, but TorchLogisticClassifier is expecting 4"):
        clf.predict(X[:, :3])
    # Another model assigned after a prediction is read as it is (nothing of the first was fixed), as in
    # LogisticRegression; and a warm start begins from an assigned model without a prediction first.
    other = LogisticRegression().fit(X[:, :3], y)
    for model in (clf, ref):
        model.coef_, model.intercept_, model.classes_ = other.coef_.copy(), other.intercept_.copy(), other.classes_
    np.testing.assert_allclose(clf.predict_proba(X[:, :3]), ref.predict_proba(X[:, :3]), rtol=1e-12)
    fresh = TorchLogisticClassifier(warm_start=True, max_iter=1)
    fresh.coef_, fresh.intercept_, fresh.classes_ = source.coef_.copy(), source.intercept_.copy(), source.classes_
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fresh.fit(X, y)
    np.testing.assert_allclose(fresh.predict_proba(X), source.predict_proba(X), atol=1e-3)  # started at the optimum
    # partial_fit goes on from an assigned model, as SGDClassifier's does (it started from zero)
    online = TorchLogisticClassifier(solver="sgd", learning_rate_init=1e-6, random_state=0)
    online.coef_, online.intercept_, online.classes_ = source.coef_.copy(), source.intercept_.copy(), source.classes_
    online.partial_fit(X[:5], y[:5])
    np.testing.assert_allclose(online.coef_, source.coef_, atol=1e-4)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_a_warm_start_from_coefficients_assigned_without_classes_goes_on_from_them(iris, n_classes):
    """LogisticRegression(warm_start=True) starts from an assigned coef_ / intercept_ alone (y names the classes);
    ours started from zero when classes_ was not assigned too: one iteration left the model 0.3 from the optimum."""
    X, y = iris
    y = y if n_classes == 3 else (y == 1).astype(int)
    source = LogisticRegression().fit(X, y)
    ours, ref = TorchLogisticClassifier(warm_start=True, max_iter=1), LogisticRegression(warm_start=True, max_iter=1)
    for model in (ours, ref):
        model.coef_, model.intercept_ = source.coef_.copy(), source.intercept_.copy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), source.predict_proba(X), atol=2e-3)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=2e-3)
    mismatched = TorchLogisticClassifier(warm_start=True)
    mismatched.coef_, mismatched.intercept_ = source.coef_.copy(), source.intercept_.copy()
    other_y = (y == 1).astype(int) if n_classes == 3 else np.arange(len(y)) % 3
    with pytest.raises(ValueError, match=r"warm_start cannot start from the assigned coef_ of shape"):
        mismatched.fit(X, other_y)
    assert "n_iter_" not in vars(mismatched)


def test_binary_and_linear_multilabel_predict_from_coef(labels):
    X, Y = labels
    clf = TorchMultiLabelClassifier().fit(X, Y)
    clf.coef_ = clf.coef_ * 2
    clf.intercept_[:] = 1.0
    np.testing.assert_allclose(clf.predict_proba(X), expit(X @ clf.coef_.T + 1.0), rtol=1e-12)
    assert clf.coefs_[0].base is clf.coef_ or np.shares_memory(clf.coefs_[0], clf.coef_)  # a view, not a copy
    clf.coefs_[0][0, 0] = 5.0
    assert clf.coef_[0, 0] == 5.0
    # scikit-learn's HTML repr names each fitted attribute's type: "list", as MLPClassifier's (it read the
    # private '_WrittenBack')
    assert type(clf.coefs_).__name__ == type(clf.intercepts_).__name__ == "list"
    assert "_WrittenBack" not in estimator_html_repr(clf)
    binary = TorchLogisticClassifier().fit(X, Y[:, 0])
    binary.coef_ = -binary.coef_
    binary.intercept_ = -binary.intercept_
    z = X @ binary.coef_[0] + binary.intercept_[0]
    np.testing.assert_allclose(binary.decision_function(X), z, rtol=1e-12)
    np.testing.assert_allclose(binary.predict_proba(X)[:, 1], expit(z), rtol=1e-12)


def test_hidden_layer_models_predict_from_coefs_as_mlp_classifier(labels, hidden):
    X, _ = labels
    clf = pickle.loads(pickle.dumps(hidden))
    assert [W.shape for W in clf.coefs_] == [(12, 16), (16, 8), (8, 4)]
    assert not hasattr(clf, "coef_")
    expected = _mlp_logits(X, clf.coefs_, clf.intercepts_, "tanh")
    np.testing.assert_allclose(clf.predict_proba(X), expit(expected), rtol=1e-12)
    clf.coefs_[2][:] = 0.0  # in place: every output is then its intercept
    clf.intercepts_[2][:] = [1.0, -1.0, 2.0, 0.0]
    np.testing.assert_allclose(clf.predict_proba(X[:3]), np.tile(expit([1.0, -1.0, 2.0, 0.0]), (3, 1)), rtol=1e-15)
    clf.coefs_ = [np.eye(12, 16), np.eye(16, 8), np.ones((8, 4))]  # assigned: a new model
    clf.intercepts_ = [np.zeros(16), np.zeros(8), np.zeros(4)]
    np.testing.assert_allclose(
        clf.decision_function(X), _mlp_logits(X, clf.coefs_, clf.intercepts_, "tanh"), rtol=1e-12
    )


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("threads", [1, 2, 16])
def test_hidden_layer_predictions_do_not_depend_on_the_batch(labels, activation, threads):
    """check_methods_subset_invariance, bitwise: a row predicted alone, in 200 rows or in 7 rows, whatever
    the thread count (16 threads on this 2-core machine reproduce the kernel choices of a 16-core one)."""
    X, Y = labels
    X = np.tile(X, (3, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = TorchMultiLabelClassifier((37, 5), activation=activation, max_iter=3, random_state=0).fit(X[:200], Y)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(threads)
        whole = clf.predict_proba(X)
        single = np.vstack([clf.predict_proba(X[i : i + 1]) for i in range(0, len(X), 41)])
        sevens = np.vstack([clf.predict_proba(X[i : i + 7]) for i in range(0, 210, 7)])
    finally:
        torch.set_num_threads(before)
    np.testing.assert_array_equal(single, whole[::41])
    np.testing.assert_array_equal(sevens, whole[:210])
    np.testing.assert_array_equal(clf.decision_function(X[5:6]), clf.decision_function(X)[5:6])


def test_the_device_path_computes_what_the_host_path_does(labels, hidden):
    """The chunked torch path (CUDA / MPS) run on CPU tensors: same logits as the host path to 1e-12."""
    X, _ = labels
    layers = list(zip(hidden.coefs_, hidden.intercepts_, strict=True))
    cpu = torch.device("cpu")
    np.testing.assert_allclose(device_logits(X, layers, "tanh", cpu), host_logits(X, layers, "tanh"), rtol=1e-12)
    np.testing.assert_allclose(
        device_logits(sp.csr_matrix(X), layers, "tanh", cpu), host_logits(X, layers, "tanh"), rtol=1e-12
    )
    linear = [(np.random.RandomState(0).randn(12, 3), np.arange(3.0))]
    np.testing.assert_allclose(device_logits(X, linear, "identity", cpu), X @ linear[0][0] + np.arange(3.0))


def test_sparsify_and_densify_behave_as_sklearn(iris):
    X, y = iris
    clf = TorchLogisticClassifier(C=0.1, l1_ratio=1.0).fit(X, y)
    ref = logistic_regression(C=0.1, l1_ratio=1.0, solver="saga", max_iter=5000).fit(X, y)
    dense = clf.predict_proba(X)
    for estimator in (clf, ref):
        assert estimator.sparsify() is estimator
        assert sp.issparse(estimator.coef_) and estimator.coef_.format == "csr"
    np.testing.assert_allclose(clf.predict_proba(X), dense, rtol=1e-12)
    np.testing.assert_allclose(clf.predict_proba(sp.csr_matrix(X)), dense, rtol=1e-12)
    l2 = TorchLogisticClassifier().fit(X, y)
    table = l2.summary(X, y)
    np.testing.assert_array_equal(l2.sparsify().summary(X, y).to_numpy(), table.to_numpy())  # reads it too
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(restored.predict_proba(X), dense, rtol=1e-12)
    for estimator in (clf, ref):
        assert estimator.densify() is estimator
        assert isinstance(estimator.coef_, np.ndarray)
    np.testing.assert_array_equal(clf.predict_proba(X), dense)
    with pytest.raises(Exception, match="must be fitted before sparsifying"):
        TorchLogisticClassifier().sparsify()
    with pytest.raises(Exception, match="must be fitted before densifying"):
        TorchLogisticClassifier().densify()


def test_a_sparsified_model_predicts_float32_sparse_data(iris):
    """float32 CSR (``TfidfVectorizer(dtype=np.float32)``'s) after ``sparsify()``: the sparse product refused the
    mixed dtypes (a float32 X, the coefficients in float64) with scikit-learn's internal ValueError, in every
    prediction method of both estimators; LogisticRegression predicts it. The probabilities are the dense ones."""
    X, y = iris
    X32 = sp.csr_matrix(X.astype(np.float32))
    for model in (
        TorchLogisticClassifier(C=0.1, l1_ratio=1.0).fit(X32, y),
        TorchLogisticClassifierCV(Cs=[0.1], l1_ratios=[1.0]).fit(X32, y),
    ):
        dense = model.predict_proba(X32)
        model.sparsify()
        np.testing.assert_allclose(model.predict_proba(X32), dense, rtol=1e-6)
        np.testing.assert_array_equal(model.predict(X32), dense.argmax(axis=1))
        assert (model.predict(X32) == y).mean() > 0.8


def test_sparsify_is_for_linear_models(hidden):
    """As sklearn's available_if methods: a hidden-layer model has no sparsify / densify (check_estimator skips)."""
    model = pickle.loads(pickle.dumps(hidden))
    assert not hasattr(model, "sparsify") and not hasattr(model, "densify")
    with pytest.raises(AttributeError, match="sparsify") as caught:
        model.sparsify()
    assert "only linear models" in str(caught.value.__cause__)


@pytest.mark.parametrize("compute", ["float32", "float64"])
def test_fitted_dtypes_follow_the_data_as_in_sklearn(iris, labels, compute):
    """float64 X gives float64 arrays and predictions, float32 X float32 ones, whatever dtype the fit computed in.

    As scikit-learn 1.9's LogisticRegression; scikit-learn 1.6 (our floor) casts float32 X to float64
    for lbfgs, so there its float32 half has no counterpart (checked only from 1.9 on)."""
    X, y = iris
    Xm, Y = labels
    sklearn_keeps_float32 = parse_version(sklearn.__version__).release >= (1, 9)
    for data, expected in ((X, np.float64), (X.astype(np.float32), np.float32)):
        ref = LogisticRegression().fit(data, y)
        clf = TorchLogisticClassifier(dtype=compute).fit(data, y)
        assert clf.coef_.dtype == clf.intercept_.dtype == expected
        if expected == np.float64 or sklearn_keeps_float32:
            assert ref.coef_.dtype == expected
        # Scores and probabilities in X's and the model's common type, as LogisticRegression computes them
        for method in ("predict_proba", "decision_function", "predict_log_proba"):
            assert getattr(clf, method)(data).dtype == expected
            out = getattr(clf, method)(torch.from_numpy(data))  # a CPU tensor in, a tensor of that dtype out
            assert isinstance(out, torch.Tensor) and out.dtype == torch.from_numpy(np.zeros(0, expected)).dtype
            if expected == np.float64 or sklearn_keeps_float32:
                assert getattr(ref, method)(data).dtype == expected
        assert clf.predict_proba(X).dtype == np.float64  # float64 X, a float32 model: float64
        assert copy.deepcopy(clf).sparsify().predict_proba(data).dtype == expected  # a SciPy coef_ too
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            mlp = TorchMultiLabelClassifier((4,), dtype=compute, max_iter=2).fit(Xm.astype(data.dtype), Y)
        assert {W.dtype for W in mlp.coefs_ + mlp.intercepts_} == {np.dtype(expected)}
        assert mlp.predict_proba(Xm.astype(data.dtype)).dtype == expected  # MLPClassifier's too


@pytest.mark.skipif(
    parse_version(sklearn.__version__).release < (1, 9), reason="scikit-learn 1.9 keeps float32 models (see above)"
)
@pytest.mark.parametrize("model_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("given", [np.float16, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.int64, bool])
def test_scores_of_other_input_dtypes_take_logistic_regression_s_dtype(iris, model_dtype, given):
    """LogisticRegression keeps float16, integer and boolean X as given (``dtype="numeric"``) and computes in NumPy's
    common type with its coefficients: float32 for float16, int8, int16, uint8, uint16 or bool X on a float32 model.
    Ours were float64 there (the input's dtype read after our validation cast it). Arrays, DataFrames, sparse
    matrices and CPU tensors alike; hidden layers keep MLPClassifier's rule (its validation casts such X to
    float64)."""
    X, y = iris
    data = (X * 3).astype(given)
    forms = {"array": data, "DataFrame": pd.DataFrame(data)}
    if torch_takes(data.dtype):  # uint16 from torch 2.3 on
        forms["tensor"] = torch.from_numpy(data)
    if given != np.float16:  # scipy.sparse has no float16
        forms.update(csr=sp.csr_matrix(data), coo=sp.coo_matrix(data))
    ref = LogisticRegression().fit(X.astype(model_dtype), y)
    clf = TorchLogisticClassifier().fit(X.astype(model_dtype), y)
    for form, Xi in forms.items():
        for method in ("predict_proba", "decision_function", "predict_log_proba"):
            with np.errstate(divide="ignore"):  # scikit-learn's float32 log of a probability 0
                expected = getattr(ref, method)(data if form == "tensor" else Xi).dtype
            got = getattr(clf, method)(Xi).dtype
            assert got == (torch.from_numpy(np.zeros(0, expected)).dtype if form == "tensor" else expected), (
                form,
                method,
            )


def test_the_pickle_holds_no_training_machinery(iris):
    """No skorch net, torch object, Dataset, History or optimizer in the pickle; size near LogisticRegression's."""
    X, y = load_breast_cancer(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = TorchLogisticClassifier().fit(X, y)
        ref = LogisticRegression().fit(X, y)
    blob = pickle.dumps(clf)
    for name in (b"skorch", b"torch", b"functools", b"History", b"optimizer"):
        assert name not in blob.replace(b"torchlogit", b""), name
    assert len(blob) <= 4 * len(pickle.dumps(ref))
    assert not hasattr(pickle.loads(blob), "history_")  # in memory after fit only; loss_curve_ is kept
    assert pickle.loads(blob).loss_curve_ == clf.loss_curve_


def _short_fits(iris):
    """A multinomial model and a multi-label one (int16 labels), five iterations each."""
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        Y = np.eye(3, dtype=np.int16)[y]
        return [TorchLogisticClassifier(max_iter=5).fit(X, y), TorchMultiLabelClassifier(max_iter=5).fit(X, Y)]


@pytest.mark.parametrize("how", ["pickle", "deepcopy", "joblib"])
def test_pickling_a_fitted_model_leaves_the_model_itself_unchanged(iris, how, tmp_path):
    """Pickling (and deep-copying, joblib.dump) reads the model: its history_ and attributes stay as they were.

    BaseEstimator's __getstate__ returns the instance's own __dict__ on Python >= 3.11; a state edited in place
    stripped the live model's history_ and turned _y_dtype into a string."""
    X, _ = iris
    models = _short_fits(iris)
    for model in models:
        before = dict(model.__dict__)
        if how == "joblib":
            joblib.dump(model, tmp_path / "model.joblib")
        else:
            pickle.dumps(model) if how == "pickle" else copy.deepcopy(model)
        assert model.__dict__.keys() == before.keys()
        assert all(model.__dict__[key] is value for key, value in before.items())
    assert models[1].predict(X).dtype == np.int16


@pytest.mark.parametrize("how", [copy.copy, copy.deepcopy])
def test_a_copy_in_memory_keeps_the_history(iris, how):
    """copy.copy / copy.deepcopy of a fitted model is the model, history_ included (only a pickle leaves it out);
    a deep copy shares nothing mutable with the original."""
    X, _ = iris
    models = _short_fits(iris)
    for model in models:
        copied = how(model)
        assert type(copied) is type(model)
        assert copied.__dict__.keys() == model.__dict__.keys()
        assert [row["objective"] for row in copied.history_] == [row["objective"] for row in model.history_]
        np.testing.assert_array_equal(copied.predict_proba(X), model.predict_proba(X))
        if how is copy.deepcopy:
            assert copied.history_ is not model.history_ and copied.coef_ is not model.coef_
            copied.history_.clear()
            copied.coef_[...] = 0
            assert len(model.history_) == 5 and np.abs(model.coef_).max() > 0
        else:
            assert copied.history_ is model.history_


def test_partial_fit_keeps_only_plain_arrays_and_continues_exactly(iris):
    """Adam's moments are kept as arrays between calls; a pickled copy (no history_, a rebuilt net) continues
    bitwise as the original does (test_partial_fit checks that calls continue one another as fit's epochs)."""
    X, y = iris
    a = TorchLogisticClassifier(solver="adam", random_state=0)
    for _ in range(3):
        a.partial_fit(X, y, classes=[0, 1, 2])
    b = pickle.loads(pickle.dumps(a))
    moments = a._partial_state["optimizer"]
    assert all(isinstance(v, np.ndarray) for entry in moments for v in entry.values())
    for _ in range(2):
        a.partial_fit(X, y)
        b.partial_fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.n_iter_[0] == b.n_iter_[0] == 5
    # A mini-batch fit keeps its moments (as arrays) for partial_fit to continue, as MLPClassifier does; a
    # full-batch fit keeps no optimizer state.
    fitted = TorchLogisticClassifier(solver="adam", random_state=0).fit(X, y)
    assert all(isinstance(v, np.ndarray) for entry in fitted._partial_state["optimizer"] for v in entry.values())
    assert not hasattr(TorchLogisticClassifier().fit(X, y), "_partial_state")


def test_softmax_of_the_logits_is_predict_proba(iris):
    X, y = iris
    clf = TorchLogisticClassifier().fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), softmax(X @ clf.coef_.T + clf.intercept_, axis=1), rtol=1e-12)


def _ctrl_c_at(monkeypatch, n, counts=lambda net: True):
    """Make the ``n``-th counted evaluation raise KeyboardInterrupt (a signal arriving in its arithmetic); returns
    the list of counted calls. ``counts(net)`` says which evaluations count."""
    from torchlogit import _net

    step, calls = _net.LogitNet.train_step_single, []

    def interrupted(net, *args, **kwargs):
        if counts(net):
            calls.append(1)
            if len(calls) == n:
                raise KeyboardInterrupt
        return step(net, *args, **kwargs)

    monkeypatch.setattr(_net.LogitNet, "train_step_single", interrupted)
    return calls


@pytest.mark.parametrize(
    "make",
    [
        lambda: TorchLogisticClassifier(max_iter=50),
        lambda: TorchLogisticClassifier(solver="newton-cholesky"),
        lambda: TorchLogisticClassifier(solver="adam", max_iter=5),
        lambda: TorchMultiLabelClassifier(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=50),
    ],
    ids=["lbfgs", "newton-cholesky", "adam", "hidden"],
)
def test_ctrl_c_during_training_propagates_and_keeps_the_previous_model(iris, make, monkeypatch):
    """skorch's partial_fit catches every KeyboardInterrupt (how callbacks stop training): a Ctrl-C during the
    iterations was swallowed, the half-trained model published and a grid search went on. Now it leaves fit,
    the previous fitted state intact, as LogisticRegression's does; a callback's stop still stops."""
    from skorch.callbacks import Callback

    X, y = iris
    model = make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    before = copy.deepcopy(vars(model))
    calls = _ctrl_c_at(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    assert len(calls) == 3
    assert vars(model).keys() == before.keys()
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(vars(model)[key], value)
    monkeypatch.undo()

    class Stop(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 2:
                raise KeyboardInterrupt  # skorch's way to stop training

    with pytest.warns(ConvergenceWarning, match="stopped by a callback after 2 iteration"):
        stopped = make().set_params(callbacks=[Stop()]).fit(X, y)
    assert stopped.n_iter_[0] == 2


def test_ctrl_c_during_a_fit_on_other_features_keeps_every_attribute(iris, monkeypatch):
    """The interrupted fit had already validated its X (n_features_in_ of 2 columns): a Ctrl-C restores that too,
    so the model still predicts on its own 4 features (it said 'expecting 2 features')."""
    X, y = iris
    model = TorchLogisticClassifier().fit(X, y)
    before = copy.deepcopy(vars(model))
    _ctrl_c_at(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X[:, :2], y)
    monkeypatch.undo()
    assert model.n_features_in_ == 4 and vars(model).keys() == before.keys()
    np.testing.assert_array_equal(model.predict(X), TorchLogisticClassifier().fit(X, y).predict(X))


def test_ctrl_c_in_the_float64_continuation_propagates(monkeypatch):
    """A float32 fit that stalls goes on in float64 on the same net: a Ctrl-C there leaves fit too (the float32
    phase's stop by the stopping rule must not make it read as a callback's stop), and the model stays unfitted."""
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True)  # unscaled: float32 stalls above tol
    # the third evaluation inside the continuation's iterations
    calls = _ctrl_c_at(monkeypatch, 3, counts=lambda net: next(net.module_.parameters()).dtype == torch.float64)
    model = TorchLogisticClassifier(C=100.0, max_iter=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.raises(KeyboardInterrupt):
            model.fit(X, y)
    assert len(calls) == 3 and not hasattr(model, "coef_")


# --- edited fitted arrays reach save, to_onnx and warm starts in the user's terms (review of stop 40)


def test_save_refuses_intercepts_a_file_without_intercepts_would_drop(iris, labels, tmp_path):
    """With fit_intercept=False the file's module has no output bias: a non-zero intercept (a prior shift
    assigned after fit, or learned before set_params(fit_intercept=False)) was silently dropped by load."""
    X, y = iris
    binary = y == 0
    shifted = TorchLogisticClassifier(fit_intercept=False).fit(X, binary)
    shifted.intercept_ = np.array([-2.0])
    with pytest.raises(ValueError, match="fit_intercept=False, but intercept_ holds non-zero values"):
        shifted.save(tmp_path / "shifted.tl")
    assert not (tmp_path / "shifted.tl").exists()
    learned = TorchLogisticClassifier().fit(X, y).set_params(fit_intercept=False)
    with pytest.raises(ValueError, match="intercept_ holds non-zero"):
        learned.save(tmp_path / "learned.tl")
    learned.set_params(fit_intercept=True).save(tmp_path / "kept.tl")  # the remedy the message gives
    loaded = TorchLogisticClassifier.load(tmp_path / "kept.tl")
    np.testing.assert_array_equal(loaded.predict_proba(X), learned.predict_proba(X))
    Xl, Y = labels
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        net = TorchMultiLabelClassifier((5,), max_iter=5, random_state=0).fit(Xl, Y)
    with pytest.raises(ValueError, match=r"intercepts_\[-1\] holds non-zero"):
        net.set_params(fit_intercept=False).save(tmp_path / "net.tl")
    # Zero intercepts are what such a file holds: it saves and loads to the same predictions.
    unbiased = TorchLogisticClassifier(fit_intercept=False).fit(X, binary)
    unbiased.save(tmp_path / "unbiased.tl")
    reloaded = TorchLogisticClassifier.load(tmp_path / "unbiased.tl")
    np.testing.assert_array_equal(reloaded.predict(X), unbiased.predict(X))


def test_save_refuses_an_intercept_with_some_values_non_zero(iris, tmp_path):
    """One non-zero class intercept is enough to change predictions once the file drops it (seeded bug 161: only
    intercepts non-zero in every class were refused)."""
    X, y = iris
    model = TorchLogisticClassifier(fit_intercept=False).fit(X, y)
    model.intercept_ = np.array([0.0, 3.0, 0.0])
    with pytest.raises(ValueError, match="fit_intercept=False, but intercept_ holds non-zero values"):
        model.save(tmp_path / "partly.tl")
    assert not (tmp_path / "partly.tl").exists()


def test_linear_multilabel_coefs_item_assignment_changes_predictions(labels):
    """``coefs_[0] = W`` on the linear model is written back to coef_, as the lists of a hidden-layer model are."""
    X, Y = labels
    model = TorchMultiLabelClassifier().fit(X, Y)
    W = np.ones_like(model.coefs_[0])
    model.coefs_[0] = W
    model.intercepts_[0] = np.full(Y.shape[1], 0.5)
    np.testing.assert_array_equal(model.coef_, W.T)
    np.testing.assert_array_equal(model.intercept_, np.full(Y.shape[1], 0.5))
    np.testing.assert_allclose(model.predict_proba(X), expit(X @ W + 0.5), rtol=1e-12)
    with pytest.raises(ValueError, match="linear .*coefs_ holds one layer, and 2 were assigned"):
        model.coefs_ = [W, W]


def test_assigned_arrays_of_the_wrong_shape_are_refused_in_their_names(iris, hidden, labels, tmp_path):
    X, y = iris
    model = TorchLogisticClassifier().fit(X, y)
    model.coef_ = model.coef_[:, :3]
    for call in (lambda: model.save(tmp_path / "m.tl"), lambda: model.set_params(warm_start=True).fit(X, y)):
        with pytest.raises(ValueError, match=r"coef_ has shape \(3, 3\); this model needs \(3, 4\)"):
            call()
    model = TorchLogisticClassifier().fit(X, y)
    model.intercept_ = np.zeros(2)
    with pytest.raises(ValueError, match=r"intercept_ has shape \(2,\), which does not fit the 3 outputs"):
        model.save(tmp_path / "m.tl")
    model.intercept_ = 0.25  # a scalar broadcasts, as in X @ coef_.T + intercept_
    model.save(tmp_path / "m.tl")
    np.testing.assert_array_equal(TorchLogisticClassifier.load(tmp_path / "m.tl").intercept_, np.full(3, 0.25))
    net = copy.deepcopy(hidden)
    net.intercepts_ = net.intercepts_[:-1]
    with pytest.raises(ValueError, match="coefs_ holds 3 layers but intercepts_ 2"):
        net.predict(labels[0])
    net = copy.deepcopy(hidden)
    net.coefs_ = [net.coefs_[0][:3]] + net.coefs_[1:]
    with pytest.raises(ValueError, match=r"coefs_\[0\] has shape \(3, 16\); this model needs \(12, 16\)"):
        net.save(tmp_path / "n.tl")
    # A linear multi-label model's coefs_[0] is coef_ transposed: the refusal named only coef_'s shape, which the
    # user who assigned coefs_ never wrote.
    Xl, Yl = labels
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        linear = TorchMultiLabelClassifier(max_iter=3).fit(Xl, Yl)
    d, k = linear.coefs_[0].shape
    linear.coefs_ = [linear.coefs_[0][:-1]]
    with pytest.raises(ValueError, match=rf"coefs_\[0\] is coef_ transposed: shape \({d - 1}, {k}\) for \({d}, {k}\)"):
        linear.predict(Xl)


def test_save_after_changing_the_structure_says_it_cannot_save(hidden, tmp_path):
    """The refusal named warm_start / partial_fit, calls the user never made."""
    net = copy.deepcopy(hidden).set_params(hidden_layer_sizes=(7,))
    with pytest.raises(ValueError, match=r"cannot be saved: the model's structure changed.*Set the parameters back"):
        net.save(tmp_path / "n.tl")


def test_warm_start_on_other_features_says_so(iris):
    """Validation resets n_features_in_ before the warm start reads it: the check compared X with itself and the
    refusal came from the layer shapes instead."""
    X, y = iris
    model = TorchLogisticClassifier(warm_start=True).fit(X, y)
    coef = model.coef_.copy()
    with pytest.raises(ValueError, match="warm_start needs the same features as the previous fit: it had 4, X has 3"):
        model.fit(X[:, :3], y)
    assert model.n_features_in_ == 4
    np.testing.assert_array_equal(model.coef_, coef)


@pytest.mark.parametrize("where", ["user callback", "l1 step"])
def test_a_ctrl_c_arriving_while_a_callback_runs_is_the_users(iris, where, monkeypatch):
    """SIGINT raised inside a callback's code looked like that callback's request to stop (skorch's convention): fit
    returned the half-trained model with "stopped by a callback" (3 of 10 real Ctrl-Cs in an L1 mini-batch fit)."""
    import signal

    from skorch.callbacks import Callback

    from torchlogit import _callbacks

    X, y = iris
    calls, armed = [], []
    # Python's own handler for the test's duration, whatever earlier code in the process set: the test failed once
    # in a seeded-bug drill's longer sequence of test files (2026-12-06; not reproduced alone or under load), and a
    # handler left by another test is the one state it depended on.
    outer = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:

        def press_ctrl_c():
            calls.append(1)
            if armed and len(calls) == 3:
                signal.raise_signal(signal.SIGINT)  # what the terminal sends

        class Pressed(Callback):
            def on_epoch_end(self, net, **kwargs):
                press_ctrl_c()

        params = dict(solver="adam", max_iter=20, random_state=0)
        if where == "l1 step":
            step = _callbacks.L1Proximal.on_batch_end

            def pressed_step(self, net, **kwargs):
                press_ctrl_c()
                return step(self, net, **kwargs)

            monkeypatch.setattr(_callbacks.L1Proximal, "on_batch_end", pressed_step)
            model = TorchLogisticClassifier(l1_ratio=1.0, **params).fit(X, y)
        else:
            model = TorchLogisticClassifier(callbacks=[Pressed()], **params).fit(X, y)
        before = model.coef_.copy()
        calls.clear()
        armed.append(True)
        with pytest.raises(KeyboardInterrupt):
            model.fit(X, y)
        np.testing.assert_array_equal(model.coef_, before)  # the previous fit is kept
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is put back
    finally:
        signal.signal(signal.SIGINT, outer)


def test_a_binary_model_predicts_from_one_dimensional_coefficients_as_logistic_regression(iris):
    X, y = iris
    ours = TorchLogisticClassifier().fit(X, y == 0)
    ref = LogisticRegression().fit(X, y == 0)
    ours.coef_ = ref.coef_ = np.array([1.0, -2.0, 0.5, 0.0])  # 1-D: scikit-learn predicts with it
    ours.intercept_ = ref.intercept_ = np.array([0.3])
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), rtol=1e-12)
    multinomial = TorchLogisticClassifier().fit(X, y)
    multinomial.coef_ = np.zeros(4)
    with pytest.raises(ValueError, match=r"coef_ has shape \(4,\); this model needs \(3, 4\)"):
        multinomial.predict(X)


def test_a_state_whose_net_is_not_a_skorch_net_is_refused_in_words():
    """The path that reads pickles from before the lean state takes the model out of ``net_``: a crafted state
    (a skops file of trusted types only, or a pickle) with another object there reached a bare AttributeError."""
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        state = TorchLogisticClassifier(max_iter=5).fit(X, y).__getstate__()
    for net in ("x", {"module_": "not a module"}, 3):
        with pytest.raises(TypeError, match="'net_' of type .* which is not a trained skorch net"):
            TorchLogisticClassifier().__setstate__({**state, "net_": net})


def _crafted(state, **changes):
    """``state`` with entries replaced (``None``: removed), as a crafted pickle or skops file would hold it."""
    out = {**state, **changes}
    return {key: value for key, value in out.items() if not (key in changes and value is None)}


@pytest.mark.parametrize("value", [np.inf, np.nan])
def test_a_model_with_coefficients_that_are_not_finite_is_refused_when_pickled_not_when_loaded(value):
    """coef_ / intercept_ edited to inf or NaN: a state no fit leaves, which loading refuses (see below). The pickle
    was written and could not be read back (a user trial); it is refused when written, in words, and the model
    pickles again once its values are finite."""
    X, y = load_iris(return_X_y=True)
    model = TorchLogisticClassifier().fit(X, y)
    model.intercept_[0] = value
    with pytest.raises(ValueError, match="holds coefficients that are not finite numbers"):
        pickle.dumps(model)
    copied = copy.deepcopy(model)  # a copy in the process is no file: kept as it is
    np.testing.assert_array_equal(copied.intercept_, model.intercept_)
    model.intercept_ = np.nan_to_num(model.intercept_)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict_proba(X), model.predict_proba(X))


def test_a_crafted_state_that_no_fit_leaves_is_refused_when_loaded():
    """A skops file of trusted (torchlogit) types only, or a pickle, can hold values no fit leaves: a target kind
    that disagrees with ``classes_`` predicted rows that summed to 1.5, and ``partial_fit``'s state without its
    seed or with moments of other shapes reached a KeyError or torch's size mismatch. Each is refused when loaded,
    in words; every state a fit leaves loads."""
    X, y = load_iris(return_X_y=True)
    Y = np.eye(3, dtype=np.int16)[y]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        adam = TorchLogisticClassifier(solver="adam", l1_ratio=0.5, C=0.5, random_state=0).partial_fit(X, y, [0, 1, 2])
        binary = TorchLogisticClassifier(max_iter=5).fit(X, y == 1)
        hidden = TorchMultiLabelClassifier((5,), solver="sgd", max_iter=3, random_state=0).fit(X, Y)
    for model in (adam, binary, hidden):  # what fits leave
        type(model)().__setstate__(model.__getstate__())
    state = adam.__getstate__()
    partial = state["_partial_state"]
    moments = partial["optimizer"]
    crafted = {
        "kind 'multilabel' is not one of": _crafted(state, _kind="multilabel"),
        "a multinomial model needs one output per class": _crafted(state, _n_outputs=2),
        "a binary model needs 2 classes": _crafted(binary.__getstate__(), classes_=np.arange(3)),
        "classes_ are not sorted": _crafted(state, classes_=np.array([2, 1, 0])),
        # predict returned (n, 1) labels; predict_proba NaN: a model file refuses both
        "classes_ is not one-dimensional": _crafted(state, classes_=np.arange(3).reshape(3, 1)),
        "its coefficients are not finite numbers": _crafted(state, coef_=np.full_like(state["coef_"], np.nan)),
        r"its coefficients are not finite numbers\.": _crafted(state, coef_=state["coef_"].astype(object)),
        "it has a target kind but no classes_": _crafted(state, classes_=None),
        r"_partial_state has the keys \['dropout', 'l1', 'optimizer', 'solver'\]": _crafted(
            state, _partial_state={k: v for k, v in partial.items() if k != "seed"}
        ),
        "the dropout streams are not": _crafted(state, _partial_state={**partial, "dropout": [["cpu", np.zeros(3)]]}),
        "the optimizer moments do not fit": _crafted(
            state, _partial_state={**partial, "optimizer": [{**moments[0], "exp_avg": np.zeros((3, 2))}, moments[1]]}
        ),
        "the L1 totals do not fit": _crafted(state, _partial_state={**partial, "l1": [[np.zeros(4), np.zeros(4)]]}),
        # moments that are no arrays, or not finite, reached torch's AttributeError ('str' has no 'mul_') or blamed
        # the data ("solver produced non-finite parameter weights") in partial_fit
        **{
            f"the optimizer moments are not finite arrays(?#{i})": _crafted(
                state, _partial_state={**partial, "optimizer": [{**moments[0], "exp_avg": value}, moments[1]]}
            )
            for i, value in enumerate(["abc", [[0.0] * 4] * 3, np.full((3, 4), np.nan), np.full((3, 4), "x")])
        },
        "solver is not a solver's name": _crafted(state, _partial_state={**partial, "solver": ["adam"]}),
        # the fit's recorded settings, which summary() computes with (they reached raw TypeErrors there)
        "The 'C' parameter of TorchLogisticClassifier must be": _crafted(
            state, _fit_settings={**state["_fit_settings"], "C": "abc"}
        ),
        "The 'l1_ratio' parameter": _crafted(state, _fit_settings={**state["_fit_settings"], "l1_ratio": None}),
        r"its fit settings \['C', 'classes_'\] are not among": _crafted(
            state, _fit_settings={"C": 1.0, "classes_": np.array([5, 6])}
        ),
    }
    for message, bad in crafted.items():
        with pytest.raises(
            ValueError, match="This TorchLogisticClassifier state is not one torchlogit writes: .*" + message
        ):
            TorchLogisticClassifier().__setstate__(bad)
    # A stream of three entries, or a state of two dimensions, is no stream a fit leaves either: unchecked, the first
    # reached partial_fit's raw "too many values to unpack (expected 2)" (a model with dropout) and the second was
    # dropped in silence, its layer restarting from the seed.
    for stream in (["cpu", np.zeros(3, np.uint8), 0], ["cpu", np.zeros((2, 3), np.uint8)]):
        with pytest.raises(ValueError, match="the dropout streams are not"):
            TorchLogisticClassifier().__setstate__(_crafted(state, _partial_state={**partial, "dropout": [stream]}))
    # A state pickled before partial_fit kept the dropout streams loads, its layers starting from their seed.
    TorchLogisticClassifier().__setstate__(
        _crafted(state, _partial_state={k: v for k, v in partial.items() if k != "dropout"})
    )
    with pytest.raises(ValueError, match="a multi-label model's classes_ are its label indices"):
        TorchMultiLabelClassifier().__setstate__(_crafted(hidden.__getstate__(), classes_=np.array([0, 1, 5])))
    # The hidden model's moments: each layer's weight (n_out, n_in) and bias, in torch's order.
    bad = hidden.__getstate__()
    layer_moments = bad["_partial_state"]["optimizer"]
    bad["_partial_state"] = {**bad["_partial_state"], "optimizer": [layer_moments[1], *layer_moments[1:]]}
    with pytest.raises(ValueError, match="optimizer moments do not fit"):
        TorchMultiLabelClassifier().__setstate__(bad)


def test_an_activation_set_after_fit_that_names_none_is_refused_where_the_model_is_used(iris, tmp_path):
    """``set_params(activation="reLU")`` (a typo) on a fitted model predicted with no activation at all, silently
    (probabilities 0.957 -> 0.742), and ``save`` / ``to_onnx`` failed with a raw KeyError; ``MLPClassifier`` raises
    at predict. Refused in fit's words by every method that uses the hidden layers; a valid name set after fit is
    used, as MLPClassifier uses it."""
    from sklearn.utils._param_validation import InvalidParameterError

    X, y = iris
    Y = np.c_[y == 0, y == 1, y == 2].astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = TorchMultiLabelClassifier((4,), max_iter=5, random_state=0).fit(X, Y)
    tanh = model.set_params(activation="tanh").predict_proba(X)
    model.set_params(activation="reLU")
    message = r"The 'activation' parameter of TorchMultiLabelClassifier must be a str among .* Got 'reLU' instead"
    uses = {  # (a dict: the failing case's name shows in the traceback)
        "predict": lambda: model.predict(X),
        "predict_proba": lambda: model.predict_proba(X),
        "decision_function on a tensor": lambda: model.decision_function(torch.as_tensor(X)),
        "score": lambda: model.score(X, Y),
        "save": lambda: model.save(tmp_path / "m.torchlogit"),
    }
    for call in uses.values():
        with pytest.raises(InvalidParameterError, match=message):
            call()
    assert not (tmp_path / "m.torchlogit").exists()
    model.set_params(activation="tanh")
    np.testing.assert_array_equal(model.predict_proba(X), tanh)
    assert not np.allclose(tanh, model.set_params(activation="relu").predict_proba(X))


def test_another_estimators_state_under_a_torchlogit_name_is_refused_when_loaded(iris, labels):
    """A pickle, or a skops file that lists only torchlogit's class as untrusted, naming a torchlogit class over
    another estimator's state (LogisticRegression's, or another torchlogit class's) loaded, and failed at predict
    with raw AttributeErrors on private names ('_n_outputs', 'threshold', '_estimator'); so did a fitted state
    without torchlogit's record of the fit, or without n_features_in_ (an AttributeError at load). Each is refused
    when loaded, naming what is missing; arrays assigned to an unfitted estimator (no n_iter_) still load."""
    X, y = iris
    reference = LogisticRegression().fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = TorchLogisticClassifier().fit(X, y)
        cv = TorchLogisticClassifierCV(Cs=2, cv=2).fit(X, y)
    refused = {
        TorchLogisticClassifier: [
            (reference.__getstate__(), r"it lacks the parameters \['batch_size', 'callbacks', 'device'"),
            (_crafted(ours.__getstate__(), _kind=None), r"it holds a fitted n_iter_ without the record .* \(_kind\)"),
            (_crafted(ours.__getstate__(), n_features_in_=None), "it has a target kind but no n_features_in_"),
        ],
        TorchMultiLabelClassifier: [(ours.__getstate__(), r"it lacks the parameters \['activation'")],
        TorchLogisticClassifierCV: [
            (ours.__getstate__(), r"it lacks the parameters \['Cs', 'cv'"),
            (
                _crafted(cv.__getstate__(), _estimator=None),
                r"it holds a fitted n_iter_ without the record .* \(_estimator\)",
            ),
            (
                {**cv.__getstate__(), "_estimator": reference},
                "its model is a LogisticRegression, not a TorchLogisticClassifier",
            ),
        ],
    }
    for cls, cases in refused.items():
        for state, message in cases:
            with pytest.raises(ValueError, match=f"This {cls.__name__} state is not one torchlogit writes: {message}"):
                pickle.loads(pickle.dumps(_Pickled(cls, state)))
    for model in (ours, cv):  # what fits leave
        np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict_proba(X), model.predict_proba(X))
    assigned = TorchLogisticClassifier()
    assigned.coef_, assigned.intercept_, assigned.classes_ = ours.coef_, ours.intercept_, ours.classes_
    np.testing.assert_allclose(pickle.loads(pickle.dumps(assigned)).predict_proba(X), ours.predict_proba(X), rtol=1e-6)


class _Pickled:
    """Pickles as an instance of ``cls`` holding ``state``, as an edited or foreign file would."""

    def __init__(self, cls, state):
        self.cls, self.state = cls, state

    def __reduce__(self):
        return (self.cls.__new__, (self.cls,), self.state)


def test_a_model_whose_coefficients_were_deleted_unpickles_and_fits_cold(iris, labels):
    """``del model.coef_`` (a warm-start model made to fit cold, as LogisticRegression's): the pickle was written,
    and no process could read it (AttributeError 'coef_' from the load-time checks). It loads and fits cold."""
    X, y = iris
    model = TorchLogisticClassifier(warm_start=True, dtype="float64").fit(X, y)
    hidden = TorchMultiLabelClassifier((3,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        hidden.fit(*labels)
    del model.coef_
    del hidden.coefs_  # (MLPClassifier's is a plain attribute; ours raised "property has no deleter")
    for deleted in (model, hidden):
        copied = pickle.loads(pickle.dumps(deleted))
        assert not copied._has_model()
    loaded = pickle.loads(pickle.dumps(model))
    loaded.fit(X, y)
    reference = TorchLogisticClassifier(dtype="float64").fit(X, y)
    np.testing.assert_array_equal(loaded.coef_, reference.coef_)


def test_a_failed_partial_fit_leaves_the_history_rows_as_they_were(iris):
    """partial_fit continues the fitted history: its last row was the new net's current row until the first epoch,
    and a callback recording there (skorch's history.record) before the call failed left its record in history_."""
    from skorch.callbacks import Callback

    class RecordThenFail(Callback):
        def on_train_begin(self, net, **kwargs):
            net.history.record("note", "written by the failed call")
            raise RuntimeError("boom")

    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = TorchLogisticClassifier(solver="adam", max_iter=3, random_state=0).fit(X, y)
    before = copy.deepcopy(model.history_)
    model.set_params(callbacks=[RecordThenFail()])
    with pytest.raises(RuntimeError, match="boom"):
        model.partial_fit(X, y)
    assert model.history_ == before


def test_a_warm_start_without_coefficients_starts_cold_as_logistic_regression():
    """``del model.coef_`` on a fitted warm_start model, then fit: LogisticRegression fits from zero; it raised a raw
    AttributeError here."""
    X, y = load_iris(return_X_y=True)
    model = TorchLogisticClassifier(warm_start=True, dtype="float64").fit(X, y)
    del model.coef_
    cold = TorchLogisticClassifier(dtype="float64").fit(X, y)
    np.testing.assert_array_equal(model.fit(X, y).coef_, cold.coef_)


def test_hidden_layers_assigned_as_nested_lists_are_arrays():
    """``coefs_`` / ``intercepts_`` assigned as lists of lists: save and to_onnx took them, predict_proba and pickling
    raised 'list' object has no attribute 'shape' (the linear model's setter makes arrays)."""
    X, Y = make_multilabel_classification(n_samples=60, n_features=4, n_classes=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = TorchMultiLabelClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X, Y)
    expected = model.predict_proba(X)
    model.coefs_ = [W.tolist() for W in model.coefs_]
    model.intercepts_ = [b.tolist() for b in model.intercepts_]
    np.testing.assert_allclose(model.predict_proba(X), expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(model)).predict_proba(X), model.predict_proba(X))


def test_history_holds_a_callbacks_records_as_plain_python_values():
    """Kills St5 (_state.plain: a one-element tensor -> [x], not x), St6 (tuples
    left as they are, with tensors inside) and St10 (NumPy scalars left as NumPy): history_ is documented as
    "plain Python values (what skorch recorded, callbacks' records included)"."""
    import numpy as np
    import torch
    from skorch.callbacks import Callback

    from torchlogit import TorchLogisticClassifier

    class Record(Callback):
        def on_epoch_end(self, net, **kwargs):
            net.history.record("one", torch.tensor([2.5]))
            net.history.record("pair", (torch.tensor(1.5), np.float32(0.25)))
            net.history.record("scalar", np.float32(0.75))
            net.history.record("count", np.int64(3))

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    row = TorchLogisticClassifier(callbacks=[("record", Record())], max_iter=3).fit(X, y).history_[-1]
    assert row["one"] == 2.5 and type(row["one"]) is float
    assert row["pair"] == [1.5, 0.25] and [type(v) for v in row["pair"]] == [float, float]
    assert type(row["scalar"]) is float and row["scalar"] == 0.75
    assert type(row["count"]) is int and row["count"] == 3


def test_a_crafted_state_without_intercepts_has_its_optimizer_moments_checked():
    """A fit_intercept=False partial_fit model keeps one optimizer entry per weight (no bias entry): a crafted
    state's moments are compared with coef_ in that layout too."""
    X, y = load_iris(return_X_y=True)
    model = TorchLogisticClassifier(solver="adam", fit_intercept=False).partial_fit(X, y, classes=[0, 1, 2])
    state = pickle.loads(pickle.dumps(model)).__getstate__()
    moments = state["_partial_state"]["optimizer"]
    assert len(moments) == 1 and moments[0]["exp_avg"].shape == (3, 4)  # one weight, no bias: the case checked
    moments[0]["exp_avg"] = np.zeros((4, 3))
    moments[0]["exp_avg_sq"] = np.zeros((4, 3))
    with pytest.raises(ValueError, match="optimizer moments do not fit"):
        TorchLogisticClassifier.__new__(TorchLogisticClassifier).__setstate__(state)


# (a second mutation survey's N05: signal.signal called off the main thread; tests/test_threads.py kills it
# too, but neither mutation.toml nor seeded_bugs.py lists test_threads.py for _net)
def test_a_fit_in_another_thread_installs_no_signal_handler_and_succeeds(noisy_binary):
    X, y = noisy_binary
    errors = []

    def fit():
        try:
            TorchLogisticClassifier(max_iter=3).fit(X, y)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    thread = threading.Thread(target=fit)
    thread.start()
    thread.join()
    assert errors == []


# (a second mutation survey: kills S19: NumPy arrays in a history row left as arrays, so history_
# is no longer plain data: json.dumps fails, == on rows is elementwise)
def test_plain_turns_arrays_tensors_and_numpy_scalars_into_python_values():
    import json

    from torchlogit._state import plain

    row = {
        "a": np.arange(3),
        "b": (torch.tensor([1.5, 2.5]), np.float32(0.5)),
        "c": [np.int64(4), {"d": torch.tensor(2.0)}],
    }
    out = plain(row)
    assert out == {"a": [0, 1, 2], "b": [[1.5, 2.5], 0.5], "c": [4, {"d": 2.0}]}
    assert type(out["a"]) is list and type(out["b"][1]) is float and type(out["c"][0]) is int
    json.dumps(out)


# (a second mutation survey: kills M22: the last layer's output count never checked, so a 3-class
# model whose coef_ lost a row predicts from 2 classes, proba of shape (n, 2), and a multi-label model gives 2 labels)
def test_assigned_arrays_with_the_wrong_number_of_outputs_are_refused_in_their_names():
    from torchlogit import TorchLogisticClassifier, TorchMultiLabelClassifier

    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4))
    clf = TorchLogisticClassifier().fit(X, np.arange(60) % 3)
    clf.coef_, clf.intercept_ = clf.coef_[:2].copy(), clf.intercept_[:2].copy()
    with pytest.raises(ValueError, match=r"coef_ has shape \(2, 4\); this model needs \(3, 4\)"):
        clf.predict_proba(X)
    Y = (rng.random((60, 3)) < 0.5).astype(int)
    m = TorchMultiLabelClassifier(hidden_layer_sizes=(5,), max_iter=5).fit(X, Y)
    m.coefs_[-1], m.intercepts_[-1] = m.coefs_[-1][:, :2].copy(), m.intercepts_[-1][:2].copy()
    with pytest.raises(ValueError, match=r"coefs_\[1\] has shape \(5, 2\); this model needs \(5, 3\)"):
        m.predict(X)


@pytest.mark.parametrize(
    "estimator, target, change",
    [
        ("logistic", "classes", dict(max_iter=-1)),
        ("l1 logistic", "classes", dict(solver="newton-cholesky")),  # each valid alone, not with the L1 fit's l1_ratio
        ("logistic", "classes", dict(dtype="float16")),
        ("logistic", "classes", dict(device="gpu")),
        ("multilabel", "labels", dict(batch_size=0)),
        ("multilabel", "binary", dict(threshold=0.7)),
        ("hidden", "labels", dict(activation="reLU")),
        ("cv", "classes", dict(max_iter=-1)),
    ],
)
def test_parameters_set_after_fit_leave_the_pickle_loadable_and_fit_refuses_them(iris, estimator, target, change):
    """A fitted model whose parameters were set after fit to values the next fit refuses (a typo; a solver that takes
    no L1 part) pickled, and the file could not be unpickled: the load-time checks read every current parameter
    ("This TorchLogisticClassifier state is not one torchlogit writes"). scikit-learn's estimators load such a file,
    and leave the parameters to the next fit. So do ours: the recorded fit settings are still checked (the test
    above); predict refuses in words only what it uses (a threshold, a device), and fit refuses the rest."""
    from sklearn.utils._param_validation import InvalidParameterError

    from torchlogit import TorchLogisticClassifierCV

    X, y = iris
    targets = {"classes": y, "binary": (y > 0).astype(int), "labels": np.c_[y == 0, y == 1].astype(int)}
    model = {
        "logistic": lambda: TorchLogisticClassifier(),
        "l1 logistic": lambda: TorchLogisticClassifier(l1_ratio=0.5),
        "multilabel": lambda: TorchMultiLabelClassifier(),
        "hidden": lambda: TorchMultiLabelClassifier((4,), max_iter=5, random_state=0),
        "cv": lambda: TorchLogisticClassifierCV(cv=3, Cs=2),
    }[estimator]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, targets[target])
    expected = model.predict_proba(X)
    model.set_params(**change)
    loaded = pickle.loads(pickle.dumps(model))
    assert loaded.get_params() == model.get_params()
    if {"threshold", "device", "activation"} & set(change):
        with pytest.raises(ValueError, match="threshold|device|activation"):
            loaded.predict(X)
    else:
        np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    with pytest.raises((ValueError, InvalidParameterError)):
        loaded.fit(X, targets[target])
