"""Torch tensors in and out (torchlogit._data): every public method on CPU tensors against the NumPy results.

A CPU tensor is read as a NumPy view of its memory, or (dense float tensors given to
``TorchLogisticClassifier.fit``) prepared in torch by the same steps (._tensor_data):
either way results are compared bitwise with the NumPy path's. Only the
array-API grid search, where StandardScaler itself computes in torch, is compared at a
stated tolerance.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
import torch
from sklearn import config_context
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.fixes import parse_version

import torchlogit._base
import torchlogit._training_set
from torchlogit import InferenceWarning, TorchLogisticClassifier, TorchMultiLabelClassifier
from torchlogit._compat import ARRAY_API_DISPATCH_AVAILABLE
from torchlogit._kernels import host_copy, staged_copy

METHODS = ("decision_function", "predict", "predict_proba", "predict_log_proba")
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


@pytest.fixture(scope="module")
def wine_small(wine):
    X, y = wine
    return X[:, :6].copy(), y


@pytest.fixture(scope="module")
def multilabel():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 5))
    Y = (X[:, :3] + 0.5 * rng.normal(size=(200, 3)) > 0).astype(np.int64)
    return X, Y


def _assert_same_predictions(tensor_model, numpy_model, X):
    for method in METHODS:
        expected = getattr(numpy_model, method)(X)
        got = getattr(tensor_model, method)(_t(X))
        assert isinstance(got, torch.Tensor) and got.device.type == "cpu", method
        assert got.dtype == torch.from_numpy(expected).dtype, method
        np.testing.assert_array_equal(got.numpy(), expected, err_msg=method)


@pytest.mark.parametrize("dataset", ["breast_cancer", "wine_small"])
def test_dense_tensor_fit_and_predictions_equal_numpy_bitwise(dataset, request):
    X, y = request.getfixturevalue(dataset)
    reference = TorchLogisticClassifier().fit(X, y)
    model = TorchLogisticClassifier().fit(_t(X), _t(y))
    # Fitted attributes stay NumPy outside array-API mode.
    assert isinstance(model.coef_, np.ndarray) and isinstance(model.classes_, np.ndarray)
    np.testing.assert_array_equal(model.coef_, reference.coef_)
    np.testing.assert_array_equal(model.intercept_, reference.intercept_)
    _assert_same_predictions(model, reference, X)
    # NumPy in, NumPy out from the tensor-fitted model.
    assert isinstance(model.predict_proba(X), np.ndarray)
    assert model.score(_t(X), _t(y)) == reference.score(X, y)


def test_float32_tensor_fits_as_float32_numpy(breast_cancer):
    X, y = breast_cancer
    X32 = X.astype(np.float32)
    reference = TorchLogisticClassifier().fit(X32, y)
    model = TorchLogisticClassifier().fit(_t(X32), _t(y))
    assert model.coef_.dtype == np.float32
    np.testing.assert_array_equal(model.coef_, reference.coef_)
    # NumPy has no bfloat16: half-precision tensors are read as float32.
    half = TorchLogisticClassifier().fit(_t(X32).to(torch.bfloat16), y)
    np.testing.assert_array_equal(
        half.coef_, TorchLogisticClassifier().fit(_t(X32).to(torch.bfloat16).float().numpy(), y).coef_
    )


_FLOAT8 = [getattr(torch, name) for name in ("float8_e4m3fn", "float8_e5m2") if hasattr(torch, name)]


@pytest.mark.parametrize("dtype", _FLOAT8, ids=str)
def test_tensors_of_dtypes_numpy_lacks_are_read_as_their_values(wine_small, dtype):
    """float8 X (dense and CSR), y and weights are read exactly, as float32; a quantized X as its dequantized
    values; complex32 is refused as complex data. torch raised "Got unsupported ScalarType Float8_e4m3fn" (or
    ComplexHalf, QInt8) from inside the fit."""
    X, y = wine_small
    X8 = _t(X).to(dtype)
    values = X8.float().numpy()  # what float8 holds: exact in float32
    reference = TorchLogisticClassifier().fit(values, y)
    csr = _t(values).to_sparse_csr()  # built from parts: torch 2.2 has no float8 to_sparse_csr
    csr8 = torch.sparse_csr_tensor(csr.crow_indices(), csr.col_indices(), csr.values().to(dtype), csr.shape)
    for X_in, host in ((X8, values), (csr8, sp.csr_matrix(values))):
        expected = TorchLogisticClassifier().fit(host, y)
        model = TorchLogisticClassifier().fit(X_in, _t(y))
        np.testing.assert_array_equal(model.coef_, expected.coef_)
        np.testing.assert_array_equal(model.predict_proba(X_in).numpy(), expected.predict_proba(host))
    labels = TorchLogisticClassifier().fit(values, _t(y).to(dtype), sample_weight=torch.ones(len(y)).to(dtype))
    np.testing.assert_array_equal(labels.coef_, reference.coef_)
    quantized = torch.quantize_per_tensor(_t(X).float(), 0.05, 0, torch.qint8)
    np.testing.assert_array_equal(
        TorchLogisticClassifier().fit(quantized, y).coef_,
        TorchLogisticClassifier().fit(quantized.dequantize().numpy(), y).coef_,
    )
    with pytest.raises(ValueError, match="Complex data not supported"):
        TorchLogisticClassifier().fit(_t(X).to(torch.complex32), y)
    with pytest.raises(ValueError, match="Complex data not supported"):
        reference.predict(_t(X).to(torch.complex32))


def test_tensor_y_and_sample_weight(wine_small):
    X, y = wine_small
    weight = np.random.RandomState(1).uniform(0.5, 2.0, len(y))
    params = dict(class_weight="balanced")
    reference = TorchLogisticClassifier(**params).fit(X, y, sample_weight=weight)
    model = TorchLogisticClassifier(**params).fit(X, _t(y), sample_weight=_t(weight))
    np.testing.assert_array_equal(model.coef_, reference.coef_)
    assert model.score(X, _t(y), sample_weight=_t(weight)) == reference.score(X, y, sample_weight=weight)


def test_string_labels_come_back_as_numpy(breast_cancer):
    X, y = breast_cancer
    labels = np.array(["benign", "malignant"])[y]
    model = TorchLogisticClassifier().fit(_t(X), labels)
    predicted = model.predict(_t(X))
    assert isinstance(predicted, np.ndarray)
    np.testing.assert_array_equal(predicted, TorchLogisticClassifier().fit(X, labels).predict(X))


@pytest.mark.parametrize("layout", [torch.sparse_csr, torch.sparse_csc, torch.sparse_coo])
def test_sparse_tensors_equal_scipy_sparse_bitwise(layout, wine_small):
    X, y = wine_small
    X = np.where(np.abs(X) < 0.7, 0.0, X)  # about half zeros
    dense = _t(X)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CS[RC] tensor support is in beta")
        tensor = {torch.sparse_csr: dense.to_sparse_csr, torch.sparse_csc: dense.to_sparse_csc}.get(
            layout, dense.to_sparse
        )()
    scipy_matrix = {torch.sparse_csr: sp.csr_matrix, torch.sparse_csc: sp.csc_matrix}.get(layout, sp.coo_matrix)(X)
    reference = TorchLogisticClassifier().fit(scipy_matrix, y)
    model = TorchLogisticClassifier().fit(tensor, _t(y))
    np.testing.assert_array_equal(model.coef_, reference.coef_)
    for method in METHODS:
        got = getattr(model, method)(tensor)
        assert isinstance(got, torch.Tensor), method
        np.testing.assert_array_equal(got.numpy(), getattr(reference, method)(scipy_matrix), err_msg=method)


def test_sparse_tensor_with_dense_dimensions_is_refused(breast_cancer):
    X, y = breast_cancer
    hybrid = _t(X).to_sparse(sparse_dim=1)
    with pytest.raises(ValueError, match="must be 2-D with scalar values"):
        TorchLogisticClassifier().fit(hybrid, y)


def test_partial_fit_on_tensors_equals_numpy(wine_small):
    X, y = wine_small
    params = dict(solver="adam", random_state=0)
    reference, model = TorchLogisticClassifier(**params), TorchLogisticClassifier(**params)
    for batch in np.array_split(np.arange(len(y)), 3):
        reference.partial_fit(X[batch], y[batch], classes=[0, 1, 2])
        model.partial_fit(_t(X[batch]), _t(y[batch]), classes=_t(np.array([0, 1, 2])))
    np.testing.assert_array_equal(model.coef_, reference.coef_)
    _assert_same_predictions(model, reference, X)


@pytest.mark.parametrize("hidden", [(), (4,)])
def test_multilabel_on_tensors_equals_numpy(hidden, multilabel):
    X, Y = multilabel
    params = dict(hidden_layer_sizes=hidden, random_state=0, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 5 iterations: enough to compare
        reference = TorchMultiLabelClassifier(**params).fit(X, Y)
        model = TorchMultiLabelClassifier(**params).fit(_t(X), _t(Y))
    _assert_same_predictions(model, reference, X)
    predicted = model.predict(_t(X))
    assert predicted.dtype == torch.int64  # the training Y's dtype, as with NumPy
    assert model.score(_t(X), _t(Y)) == reference.score(X, Y)


def test_summary_from_tensors_equals_numpy(breast_cancer):
    X, y = breast_cancer[0][:, :4], breast_cancer[1]
    model = TorchLogisticClassifier(C=np.inf).fit(_t(X), _t(y))
    table = model.summary(_t(X), _t(y))
    np.testing.assert_array_equal(
        table.to_numpy(), TorchLogisticClassifier(C=np.inf).fit(X, y).summary(X, y).to_numpy()
    )


@pytest.mark.parametrize(
    ("make_bad", "error", "message"),
    [
        (lambda X: torch.where(torch.arange(X.shape[1]) == 2, torch.nan, X), ValueError, "Input X contains NaN"),
        (lambda X: X[:, 0], ValueError, "Expected 2D array, got 1D array"),
        (lambda X: X.to(torch.complex128), ValueError, "Complex data not supported"),
        (lambda X: X[:0], ValueError, "0 sample"),
    ],
)
def test_bad_tensors_raise_the_numpy_messages_and_keep_the_fit(make_bad, error, message, breast_cancer):
    X, y = breast_cancer
    model = TorchLogisticClassifier().fit(X, y)
    coef = model.coef_.copy()
    with pytest.raises(error, match=message):
        model.fit(make_bad(_t(X)), _t(y))
    np.testing.assert_array_equal(model.coef_, coef)  # a failed fit leaves the fitted model as it was


@pytest.mark.parametrize("cls", [TorchLogisticClassifier, TorchMultiLabelClassifier])
@pytest.mark.parametrize("weight", [np.nan, np.inf])
def test_a_scalar_nan_or_infinite_weight_with_tensors_gets_the_numpy_message(cls, weight, wine_small):
    X, y = wine_small
    y = (y == 0).astype(np.int64)
    with pytest.raises(ValueError) as from_numpy:
        cls().fit(X, y, sample_weight=weight)
    with pytest.raises(ValueError) as from_tensors:
        cls().fit(_t(X), _t(y), sample_weight=weight)
    assert str(from_tensors.value) == str(from_numpy.value)
    assert str(from_numpy.value).startswith("Input sample_weight contains")


def test_a_summary_of_tensors_of_different_lengths_lists_the_lengths_passed(breast_cancer):
    X, y = breast_cancer[0][:, :4], breast_cancer[1]
    model = TorchLogisticClassifier().fit(X, y)
    n = len(y)
    with pytest.raises(ValueError, match=rf"inconsistent numbers of samples: \[{n}, {n - 1}\]$"):
        model.summary(_t(X), _t(y[:-1]))
    with pytest.raises(ValueError, match=rf"inconsistent numbers of samples: \[{n}, {n}, {n - 2}\]$"):
        model.summary(_t(X), _t(y), sample_weight=torch.ones(n - 2, dtype=torch.float64))


def test_integer_and_requires_grad_tensors_read_like_numpy(breast_cancer):
    X, y = breast_cancer[0][:, :5], breast_cancer[1]
    rounded = np.round(X * 2).astype(np.int64)
    reference = TorchLogisticClassifier().fit(rounded, y)
    np.testing.assert_array_equal(TorchLogisticClassifier().fit(_t(rounded), y).coef_, reference.coef_)
    # The fit does not differentiate through its input: a leaf that requires grad is read detached.
    X_grad = _t(X).requires_grad_()
    model = TorchLogisticClassifier().fit(X_grad, y)
    np.testing.assert_array_equal(model.coef_, TorchLogisticClassifier().fit(X, y).coef_)
    assert not model.predict_proba(X_grad).requires_grad


def test_prediction_checks_the_feature_count_of_a_tensor(breast_cancer):
    X, y = breast_cancer
    model = TorchLogisticClassifier().fit(X, y)
    with pytest.raises(ValueError, match="X has 29 features, but TorchLogisticClassifier is expecting 30"):
        model.predict(_t(X[:, 1:]))


@pytest.mark.skipif(
    not ARRAY_API_DISPATCH_AVAILABLE,
    reason="scikit-learn's array-API mode needs SciPy >= 1.14 (set_config(array_api_dispatch=True) raises "
    "ImportError below it) and scikit-learn's move_to / check_same_namespace",
)
def test_array_api_grid_search_on_tensors_equals_numpy(breast_cancer):
    """Pipeline(StandardScaler, TorchLogisticClassifier) in GridSearchCV, array-API mode, CPU tensors.

    StandardScaler computes in torch there, so the scaled data differ from NumPy's in the
    last bits; the fits agree to 1e-12 in probability (measured: 1e-15).
    """
    X, y = breast_cancer[0][:, :10], breast_cancer[1]
    X = X * np.linspace(1, 50, X.shape[1]) + 3  # give the scaler something to do
    grid = dict(torchlogisticclassifier__C=[0.1, 1.0])
    search = GridSearchCV(make_pipeline(StandardScaler(), TorchLogisticClassifier()), grid, cv=2)
    reference = GridSearchCV(make_pipeline(StandardScaler(), TorchLogisticClassifier()), grid, cv=2).fit(X, y)
    with config_context(array_api_dispatch=True):
        search.fit(_t(X), _t(y))
        proba = search.predict_proba(_t(X))
        coef = search.best_estimator_[-1].coef_
    assert search.best_params_ == reference.best_params_
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], reference.cv_results_["mean_test_score"])
    # In array-API mode the fitted arrays follow X (scikit-learn's convention).
    assert isinstance(coef, torch.Tensor) and isinstance(proba, torch.Tensor)
    np.testing.assert_allclose(proba.numpy(), reference.predict_proba(X), rtol=0, atol=1e-12)


@pytest.mark.skipif(not ARRAY_API_DISPATCH_AVAILABLE, reason="scikit-learn's array-API mode is unavailable here")
@pytest.mark.parametrize("kind", ["binary", "multinomial", "cv", "multilabel"])
def test_array_api_out_of_fold_predictions_on_tensors_equal_numpy(kind, wine_small, multilabel):
    """cross_val_predict reorders out-of-fold columns by ``classes_`` in the predictions' namespace:
    ``classes_`` follows y there, as LogisticRegression's (``xp.unique_values(y)``)."""
    from sklearn.model_selection import cross_val_predict

    from torchlogit import TorchLogisticClassifierCV

    X, y = multilabel if kind == "multilabel" else wine_small
    if kind == "binary":
        y = (y == y[0]).astype(np.int64)
    make = {
        "binary": TorchLogisticClassifier,
        "multinomial": TorchLogisticClassifier,
        "cv": lambda: TorchLogisticClassifierCV(Cs=2, cv=2),
        "multilabel": TorchMultiLabelClassifier,
    }[kind]
    with config_context(array_api_dispatch=True):
        for method in ("predict", "predict_proba", "decision_function", "predict_log_proba"):
            got = cross_val_predict(make(), _t(X), _t(y), cv=3, method=method)
            expected = cross_val_predict(make(), X, y, cv=3, method=method)
            assert isinstance(got, torch.Tensor), method
            np.testing.assert_allclose(got.numpy(), expected, rtol=0, atol=1e-12)
        model = make().fit(_t(X), _t(y))
        assert isinstance(model.classes_, torch.Tensor)
        np.testing.assert_array_equal(model.classes_.numpy(), np.unique(y) if y.ndim == 1 else np.arange(y.shape[1]))
        # NumPy labels give NumPy classes_ (LogisticRegression's too), whatever X is.
        assert isinstance(make().fit(_t(X), y).classes_, np.ndarray)


@pytest.mark.skipif(not ARRAY_API_DISPATCH_AVAILABLE, reason="scikit-learn's array-API mode is unavailable here")
def test_summary_of_an_array_api_fit_stopped_at_max_iter_warns_as_from_numpy(wine_small):
    """An array-API fit's ``n_iter_`` is a tensor: summary's far-from-optimum warning, which reads it, raised
    torch's "max(): argument 'dim' must be int, not NoneType" exactly where the warning was needed."""
    X, y = wine_small
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with config_context(array_api_dispatch=True):
            model = TorchLogisticClassifier(max_iter=2).fit(_t(X), _t(y))
        reference = TorchLogisticClassifier(max_iter=2).fit(X, y)
    assert isinstance(model.n_iter_, torch.Tensor)
    for fitted in (model, reference):
        with pytest.warns(InferenceWarning, match="stopped at max_iter"):
            fitted.summary(X, y)


@pytest.mark.skipif(not ARRAY_API_DISPATCH_AVAILABLE, reason="scikit-learn's array-API mode is unavailable here")
def test_array_api_tensor_classes_are_read_on_the_host(wine_small, tmp_path):
    """Every reader of a tensor ``classes_``: warm start, partial_fit's class checks, class weights, summary,
    save and ONNX export; string labels stay NumPy."""
    X, y = wine_small
    tX, ty = _t(X), _t(y)
    with config_context(array_api_dispatch=True):
        warm = TorchLogisticClassifier(warm_start=True, class_weight="balanced").fit(tX, ty)
        warm.fit(tX, ty)
        assert warm.n_iter_[0] == 0 and isinstance(warm.classes_, torch.Tensor)
        with pytest.raises(ValueError, match="same classes"):
            warm.fit(tX[ty > 0], ty[ty > 0])
        assert isinstance(warm.classes_, torch.Tensor)  # a failed fit leaves it as it was
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InferenceWarning)  # C is finite: not the point here
            summary = warm.summary(tX, ty)
        assert list(summary.index.get_level_values("class").unique()) == [1, 2]
        warm.save(tmp_path / "m.tlm")
        np.testing.assert_array_equal(TorchLogisticClassifier.load(tmp_path / "m.tlm").classes_, np.unique(y))
        warm.to_onnx(tmp_path / "m.onnx")
        sgd = TorchLogisticClassifier(solver="sgd").partial_fit(tX, ty, classes=_t(np.unique(y)))
        sgd.partial_fit(tX, ty)
        with pytest.raises(ValueError, match="not in classes"):
            sgd.partial_fit(tX, ty + 5)
        strings = TorchLogisticClassifier().fit(tX, np.array(["a", "b", "c"])[y])
        assert isinstance(strings.classes_, np.ndarray)


@pytest.mark.skipif(not ARRAY_API_DISPATCH_AVAILABLE, reason="scikit-learn's array-API mode is unavailable here")
def test_array_api_densify_gives_coef_back_in_the_fitted_namespace(wine_small):
    """sparsify makes coef_ SciPy (as scikit-learn's); densify put it back as NumPy beside tensor intercept_ and
    n_iter_ after an array-API fit."""
    X, y = wine_small
    with config_context(array_api_dispatch=True):
        model = TorchLogisticClassifier().fit(_t(X), _t(y))
        expected = model.predict_proba(_t(X))
        model.sparsify().densify()
        assert isinstance(model.coef_, torch.Tensor) and isinstance(model.intercept_, torch.Tensor)
        np.testing.assert_array_equal(model.predict_proba(_t(X)).numpy(), expected.numpy())
    assert isinstance(TorchLogisticClassifier().fit(X, y).sparsify().densify().coef_, np.ndarray)


@pytest.mark.skipif(not ARRAY_API_DISPATCH_AVAILABLE, reason="scikit-learn's array-API mode is unavailable here")
@pytest.mark.parametrize("arrays", ["numpy", "tensors"])
def test_array_api_a_model_assigned_by_hand_predicts_as_logistic_regression(arrays, wine_small):
    """coef_ / intercept_ / classes_ set on an unfitted estimator (averaged or another tool's coefficients) predict in
    array-API mode, as LogisticRegression's do: the namespace check read n_iter_, which only a fit sets, and raised
    AttributeError. X in another namespace than the arrays is refused in scikit-learn's words."""
    from sklearn.linear_model import LogisticRegression

    X, y = wine_small
    fitted = LogisticRegression(max_iter=5000).fit(X, y)
    wrap = _t if arrays == "tensors" else np.asarray
    X_in = wrap(X)
    with config_context(array_api_dispatch=True):
        models = []
        for cls in (LogisticRegression, TorchLogisticClassifier):
            model = cls()
            model.coef_, model.intercept_, model.classes_ = (
                wrap(a) for a in (fitted.coef_, fitted.intercept_, fitted.classes_)
            )
            models.append(model)
        expected, got = (m.predict_proba(X_in) for m in models)
        assert type(got) is type(expected)
        np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-12, atol=1e-15)
        other = X if arrays == "tensors" else _t(X)
        with pytest.raises(ValueError, match="must use the same namespace"):
            models[1].predict(other)


@pytest.mark.skipif(
    parse_version(sklearn.__version__).release < (1, 9),
    reason="the devices page's list is measured on scikit-learn 1.9; 1.6's OneVsRestClassifier stacks the outputs "
    "with np.array, which warns (NumPy's FutureWarning) on tensors",
)
def test_scikit_learn_tools_outside_array_api_mode_give_the_numpy_numbers_on_tensors(wine_small):
    """The devices page's claim: outside array-API mode, scikit-learn's meta-estimators that only index, stack or
    average the estimator's outputs work on tensors (torchlogit's outputs are tensors there too) and give the
    numbers they give on NumPy; TunedThresholdClassifierCV and FixedThresholdClassifier, which call NumPy methods
    on the probabilities, are named there as needing NumPy input."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import BaggingClassifier
    from sklearn.inspection import permutation_importance
    from sklearn.multiclass import OneVsOneClassifier, OneVsRestClassifier

    X, y = wine_small
    X = StandardScaler().fit_transform(X)
    tools = {
        "bagging": lambda: BaggingClassifier(TorchLogisticClassifier(), n_estimators=3, random_state=0),
        "ovr": lambda: OneVsRestClassifier(TorchLogisticClassifier()),
        "ovo": lambda: OneVsOneClassifier(TorchLogisticClassifier()),
        "calibrated": lambda: CalibratedClassifierCV(TorchLogisticClassifier(), cv=3),
    }
    for name, make in tools.items():
        on_numpy, on_tensors = make().fit(X, y), make().fit(_t(X), _t(y))
        for method in ("predict", "decision_function", "predict_proba"):
            if hasattr(on_numpy, method):
                expected = np.asarray(getattr(on_numpy, method)(X))
                got = getattr(on_tensors, method)(_t(X))
                got = got.numpy() if isinstance(got, torch.Tensor) else np.asarray(got)
                np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, err_msg=f"{name} {method}")
    model = TorchLogisticClassifier().fit(X, y)
    importances = [
        permutation_importance(model, data, labels, n_repeats=3, random_state=0).importances_mean
        for data, labels in ((X, y), (_t(X), _t(y)))
    ]
    np.testing.assert_array_equal(np.asarray(importances[1]), importances[0])


@pytest.fixture
def predicted_where_they_live(monkeypatch):
    """CPU tensors take the path of device tensors (checked and predicted in torch, no host copy)."""
    monkeypatch.setattr(torchlogit._base, "on_device", lambda X: isinstance(X, torch.Tensor))


@pytest.mark.parametrize("kind", ["binary", "multinomial", "multilabel", "hidden"])
def test_device_tensor_predictions_equal_numpy(kind, predicted_where_they_live, wine_small, multilabel):
    """The device path's products are torch's, not NumPy's BLAS: equal to 1e-12 (labels exactly)."""
    if kind in ("multilabel", "hidden"):
        X, y = multilabel
        model = TorchMultiLabelClassifier(hidden_layer_sizes=(4,) if kind == "hidden" else (), random_state=0)
    else:
        X, y = wine_small
        y = (y > 0).astype(int) if kind == "binary" else y
        model = TorchLogisticClassifier()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    for method in METHODS:
        expected = getattr(model, method)(X)
        got = getattr(model, method)(_t(X))
        assert isinstance(got, torch.Tensor) and got.dtype == torch.from_numpy(expected).dtype, method
        np.testing.assert_allclose(got.numpy(), expected, rtol=0, atol=1e-12, err_msg=method)
    np.testing.assert_array_equal(model.predict(_t(X)).numpy(), model.predict(X))
    sparse = _t(X).to_sparse()  # COO: no beta notice
    np.testing.assert_allclose(model.predict_proba(sparse).numpy(), model.predict_proba(X), rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("make_bad", "message"),
    [
        (lambda X: torch.where(torch.arange(X.shape[1]) == 2, torch.nan, X), "Input X contains NaN"),
        (lambda X: torch.where(torch.arange(X.shape[1]) == 2, torch.inf, X), "Input X contains infinity"),
        (lambda X: X[:, 0], "Expected 2D array, got 1D array"),
        (lambda X: X.to(torch.complex128), "Complex data not supported"),
        (lambda X: X[:0], "Found array with 0 sample"),
        (lambda X: X[:, 1:], "X has 5 features, but TorchLogisticClassifier is expecting 6 features"),
    ],
)
def test_device_tensor_checks_give_the_numpy_messages(make_bad, message, predicted_where_they_live, wine_small):
    X, y = wine_small
    model = TorchLogisticClassifier().fit(X, y)
    with pytest.raises(ValueError, match=message):
        model.predict_proba(make_bad(_t(X)))
    with pytest.raises(ValueError, match=message):  # the host path says the same
        model.predict_proba(make_bad(_t(X)).numpy())


@pytest.mark.parametrize(
    "make_bad",
    [
        lambda X: torch.where(torch.arange(X.shape[1]) == 2, torch.nan, X),
        lambda X: torch.where(torch.arange(X.shape[1]) == 2, torch.inf, X).float(),  # the message names float32
        lambda X: torch.where(torch.arange(X.shape[1]) == 2, -torch.inf, X),
        lambda X: X[:, :, None],
        lambda X: X[:, :0],
        lambda X: X[:0, :0],
        lambda X: torch.where(torch.arange(X.shape[1]) == 2, torch.nan, X)[:, 1:],  # values before the count
    ],
)
def test_device_tensor_checks_word_every_refusal_as_the_host_path(make_bad, predicted_where_they_live, wine_small):
    """Word for word, in scikit-learn's order (values, then sizes, then the feature count): the device path said
    dtype('float64') for float32 data, 'Expected 2D array' for 3-D and the feature count for empty data."""
    X, y = wine_small
    model = TorchLogisticClassifier().fit(X, y)
    with pytest.raises(ValueError) as on_device:
        model.predict_proba(make_bad(_t(X)))
    with pytest.raises(ValueError) as on_host:
        model.predict_proba(make_bad(_t(X)).numpy())
    assert str(on_device.value) == str(on_host.value)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gathered_copies_equal_numpy_indexing(dtype):
    """The training copy (host, or through a reused chunk buffer, pinned for CUDA) is ``X[rows]`` cast, exactly."""
    X = np.random.RandomState(0).normal(size=(3000, 700))  # several chunks of CHUNK_VALUES
    rows = np.random.RandomState(1).permutation(3000)[:2500]
    expected = X[rows].astype(torch.empty(0, dtype=dtype).numpy().dtype)
    np.testing.assert_array_equal(host_copy(X, rows, dtype), expected)
    np.testing.assert_array_equal(staged_copy(X, rows, dtype, torch.device("cpu"), pin_memory=False).numpy(), expected)


@cuda
def test_cuda_tensor_in_cuda_tensor_out(breast_cancer):
    X, y = breast_cancer
    reference = TorchLogisticClassifier(dtype="float64").fit(X, y)
    model = TorchLogisticClassifier(device="cuda", dtype="float64").fit(_t(X).cuda(), _t(y).cuda())
    assert isinstance(model.coef_, np.ndarray)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=0, atol=1e-6)
    for method in METHODS:
        got = getattr(model, method)(_t(X).cuda())
        assert isinstance(got, torch.Tensor) and got.device.type == "cuda", method
        np.testing.assert_allclose(got.cpu().numpy(), getattr(reference, method)(X), rtol=0, atol=1e-6)


@cuda
def test_cuda_tensor_for_a_cpu_model_and_back(breast_cancer):
    X, y = breast_cancer
    model = TorchLogisticClassifier().fit(_t(X).cuda(), y)  # device="cpu": moved once
    np.testing.assert_array_equal(model.coef_, TorchLogisticClassifier().fit(X, y).coef_)
    proba = model.predict_proba(_t(X).cuda())
    assert proba.device.type == "cuda"
    # Predicted where the tensor lives: cuBLAS sums in another order than the host's BLAS.
    np.testing.assert_allclose(proba.cpu().numpy(), model.predict_proba(X), rtol=0, atol=1e-12)


def _shuffled_with_copies(X, y, seed=0):
    """(X, y, w) and the same data with rows permuted and weight-2 rows given as two copies."""
    rng = np.random.RandomState(seed)
    w = np.where(np.arange(len(y)) % 5 == 0, 2.0, 1.0)
    doubled = np.flatnonzero(w == 2.0)
    Xc, yc = np.vstack([X, X[doubled]]), np.r_[y, y[doubled]]
    order = rng.permutation(len(yc))
    return (X, y, w), (Xc[order], yc[order])


@cuda
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cuda_preparation_keeps_row_order_and_weight_guarantees_bitwise(dtype, wine):
    X, y = wine
    (X, y, w), (Xc, yc) = _shuffled_with_copies(X, y)
    model = TorchLogisticClassifier(device="cuda", dtype=dtype, class_weight="balanced")
    a = model.fit(_t(X).cuda(), _t(y).cuda(), sample_weight=_t(w).cuda()).coef_
    b = TorchLogisticClassifier(**model.get_params()).fit(_t(Xc).cuda(), _t(yc).cuda()).coef_
    np.testing.assert_array_equal(a, b)
    c = TorchLogisticClassifier(**model.get_params()).fit(X, y, sample_weight=w).coef_  # NumPy, prepared on the device
    np.testing.assert_array_equal(a, c)
    reference = TorchLogisticClassifier(dtype="float64", class_weight="balanced").fit(X, y, sample_weight=w)
    np.testing.assert_allclose(a, reference.coef_, rtol=0, atol=1e-3 if dtype == "float32" else 1e-4)


@cuda
@pytest.mark.parametrize("order", ["C", "F"])
def test_host_to_device_copies_every_chunk(order, monkeypatch):
    import torchlogit._kernels as kernels

    monkeypatch.setattr(kernels, "_STAGE_VALUES", 64)  # 9 rows a chunk: both buffers reused many times
    X = np.asarray(np.random.RandomState(0).randn(1001, 7), order=order)
    for a in (X, X.astype(np.float32)):
        out = kernels.host_to_device(a, torch.device("cuda"))
        assert out.dtype == torch.from_numpy(a[:1].copy()).dtype
        np.testing.assert_array_equal(out.cpu().numpy(), a)


@cuda
def test_cuda_bad_tensors_get_the_numpy_messages(breast_cancer):
    X, y = breast_cancer
    bad = _t(X).cuda().clone()
    bad[3, 2] = float("nan")
    model = TorchLogisticClassifier(device="cuda").fit(_t(X).cuda(), _t(y).cuda())
    coef = model.coef_.copy()
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.fit(bad, _t(y).cuda())
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        model.fit(_t(X).cuda(), _t(y[:-1]).cuda())
    np.testing.assert_array_equal(model.coef_, coef)


# ---------------------------------------------------------------- preparation in torch (._tensor_data)
def _prepared_in_torch(monkeypatch):
    """Counts the fits whose canonical rows were made in torch."""
    import torchlogit._data as data

    calls = []
    original = data.canonical_tensor_rows
    monkeypatch.setattr(data, "canonical_tensor_rows", lambda *a, **k: calls.append(1) or original(*a, **k))
    return calls


def _on_the_host_path(monkeypatch, fit):
    """``fit()`` with the preparation in torch switched off: the NumPy host path (._data.fit_inputs)."""
    with monkeypatch.context() as patch:
        patch.setattr(torchlogit._training_set, "tensor_fit_inputs", lambda *args, **kwargs: None)  # fit, partial_fit
        return fit()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("class_weight", [None, "balanced", {0: 2.0, 1: 0.5, 2: 1.0}])
def test_torch_preparation_equals_the_host_path_with_copies_weights_and_class_weights(
    dtype, class_weight, wine, monkeypatch
):
    """NumPy arrays and tensors are prepared in torch (ties settled on the host): bitwise the host path's fit."""
    calls = _prepared_in_torch(monkeypatch)
    X, y = wine
    (X, y, w), (Xc, yc) = _shuffled_with_copies(X, y)
    params = dict(dtype=dtype, class_weight=class_weight)
    reference = _on_the_host_path(monkeypatch, lambda: TorchLogisticClassifier(**params).fit(X, y, sample_weight=w))
    on_numpy = TorchLogisticClassifier(**params).fit(X, y, sample_weight=w)
    on_tensors = TorchLogisticClassifier(**params).fit(_t(X), _t(y), sample_weight=_t(w))
    with_copies = TorchLogisticClassifier(**params).fit(_t(Xc), _t(yc))  # copies tie: settled by contents
    assert len(calls) == 3
    for model in (on_numpy, on_tensors, with_copies):
        np.testing.assert_array_equal(model.coef_, reference.coef_)
        np.testing.assert_array_equal(model.intercept_, reference.intercept_)
        assert model.coef_.dtype == reference.coef_.dtype
        np.testing.assert_array_equal(model.classes_, reference.classes_)


@pytest.mark.parametrize(
    "case, pooled, dtype",
    [
        ("copies", False, np.float64),
        ("rounded", False, np.float64),
        ("neighbours", False, np.float64),
        # Large data: the key by NumPy's einsum on halves of the rows in two threads (float32 rows promoted
        # as they are read), whose rounding is not the BLAS's: the tie bound must still give the same rows.
        ("copies", True, np.float64),
        ("rounded", True, np.float64),
        ("neighbours", True, np.float64),
        ("neighbours", True, np.float32),
    ],
)
def test_canonical_rows_in_torch_equal_numpy(case, pooled, dtype, monkeypatch, torch_threads):
    """Same rows, same order, same merged weights as :func:`canonical_rows`, ties (copies) included."""
    import torchlogit._tensor_data
    from torchlogit._rows import canonical_rows
    from torchlogit._tensor_data import _pooled_key, canonical_tensor_rows

    rng = np.random.RandomState(0)
    X = np.round(rng.normal(size=(300, 4))) if case == "rounded" else rng.normal(size=(300, 4))  # rounded: many ties
    X = X.astype(dtype)
    target = rng.randint(0, 3, size=300)
    X[100:140], target[100:140] = X[:40], target[:40]  # copies
    if case == "neighbours":  # rows one ulp apart: their keys tie, their contents do not
        X[200:230], target[200:230] = np.nextafter(X[40:70], np.inf), target[40:70]
        X[230:260] = X[200:230]
    weight = rng.uniform(0, 2, size=300)
    weight[::17] = 0.0
    rows, merged = canonical_rows(X, target, weight)
    if pooled:
        monkeypatch.setattr(torchlogit._tensor_data, "SMALL_VALUES", 1)
        torch_threads(2)
    assert _pooled_key(_t(X)) == pooled
    rows_t, merged_t = canonical_tensor_rows(_t(X), _t(target), _t(weight))
    assert len(rows) < 280  # copies merged, zero weights dropped
    np.testing.assert_array_equal(X[rows_t.numpy()], X[rows])
    np.testing.assert_array_equal(target[rows_t.numpy()], target[rows])
    np.testing.assert_array_equal(merged_t.numpy(), merged)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_validation_in_torch_measures_the_largest_absolute_value_the_tie_bound_needs(dtype, monkeypatch):
    """One pass over X both refuses non-finite values (to the host path, which words the error) and
    measures ``max |X|``; the canonical rows built with it are the host path's, rows one ulp apart included."""
    from torchlogit._tensor_data import tensor_fit_inputs

    rng = np.random.RandomState(3)
    X = rng.normal(size=(200, 4)).astype(dtype)
    y = rng.randint(0, 2, size=200)
    X[150:180], y[150:180] = np.nextafter(X[:30], dtype(np.inf)), y[:30]  # keys tie, contents do not
    X[11, 2] = -37.25  # the largest |value|, negative
    cpu = torch.device("cpu")
    prepared = tensor_fit_inputs(TorchLogisticClassifier(), X, y, None, cpu)
    assert prepared[3] == 37.25 and isinstance(prepared[3], float)
    for bad in (np.nan, np.inf, -np.inf):
        damaged = X.copy()
        damaged[57, 1] = bad
        assert tensor_fit_inputs(TorchLogisticClassifier(), damaged, y, None, cpu) is None
    calls = _prepared_in_torch(monkeypatch)
    params = dict(dtype="float64", tol=1e-8)
    reference = _on_the_host_path(monkeypatch, lambda: TorchLogisticClassifier(**params).fit(X, y))
    model = TorchLogisticClassifier(**params).fit(X, y)
    assert len(calls) == 1
    np.testing.assert_array_equal(model.coef_, reference.coef_)
    np.testing.assert_array_equal(model.intercept_, reference.intercept_)


@pytest.mark.parametrize("layout", ["fortran", "transposed tensor"])
def test_a_column_major_x_is_validated_in_its_memory_order_with_the_same_outcome(layout, monkeypatch):
    """A Fortran-ordered array (a DataFrame's values) or the .T of a row-major tensor: validation's one pass
    (aminmax) reads it through its transpose (the view ran 7-9x slower: 130 against 15 ms for 300k x 100 float64),
    and finds what it finds on the row-major array: the fit is bitwise the same, and a NaN still gets
    scikit-learn's message."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 5))
    y = rng.randint(0, 2, size=300)

    def column_major(A):
        return np.asfortranarray(A) if layout == "fortran" else torch.from_numpy(np.ascontiguousarray(A.T)).T

    read = []
    aminmax = torch.aminmax

    def spy(values, *args, **kwargs):
        read.append((values.is_contiguous(), values.numel(), values.data_ptr()))
        return aminmax(values, *args, **kwargs)

    reference = TorchLogisticClassifier().fit(X, y)
    given = column_major(X)
    address = given.ctypes.data if isinstance(given, np.ndarray) else given.data_ptr()
    monkeypatch.setattr(torch, "aminmax", spy)
    model = TorchLogisticClassifier().fit(given, y)
    assert read and all(contiguous for contiguous, _, _ in read), read
    # The pass over X reads the caller's memory: no copy was made to read it in order.
    assert [at for _, size, at in read if size == X.size] == [address], (read, address)
    np.testing.assert_array_equal(model.coef_, reference.coef_)
    np.testing.assert_array_equal(model.intercept_, reference.intercept_)
    X[7, 3] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        TorchLogisticClassifier().fit(column_major(X), y)


@pytest.mark.parametrize(
    "labels",
    [
        lambda y: _t(y).to(torch.int32),
        lambda y: _t(y).to(torch.float32),
        lambda y: _t(y == 1),
        lambda y: y.astype(np.uint8),
        lambda y: list(y),
    ],
    ids=["int32", "float32", "bool", "numpy uint8", "list"],
)
def test_torch_preparation_keeps_the_label_dtype(labels, breast_cancer, monkeypatch):
    calls = _prepared_in_torch(monkeypatch)
    X, y = breast_cancer
    got = TorchLogisticClassifier().fit(_t(X), labels(y))
    expected = _on_the_host_path(monkeypatch, lambda: TorchLogisticClassifier().fit(X, np.asarray(labels(y))))
    assert len(calls) == 1
    assert got.classes_.dtype == expected.classes_.dtype
    np.testing.assert_array_equal(got.classes_, expected.classes_)
    np.testing.assert_array_equal(got.coef_, expected.coef_)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_float_dataframe_is_prepared_in_torch_as_its_values_with_its_feature_names(dtype, breast_cancer, monkeypatch):
    """A DataFrame of one float dtype is read as its values (a view) and prepared in torch: bitwise the array's fit,
    with ``feature_names_in_`` from its columns (checked at predict as scikit-learn does), ``partial_fit`` checking
    them, and a NaN refused in scikit-learn's words; the host path took 0.87 s of a 300k x 100 fit against 0.5 s."""
    import pandas as pd

    calls = _prepared_in_torch(monkeypatch)
    X, y = breast_cancer
    X = X.astype(dtype)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    reference = TorchLogisticClassifier().fit(X, y)
    model = TorchLogisticClassifier().fit(frame, y)
    assert len(calls) == 2
    np.testing.assert_array_equal(model.coef_, reference.coef_)
    assert model.coef_.dtype == reference.coef_.dtype == dtype
    np.testing.assert_array_equal(model.feature_names_in_, frame.columns)
    assert not hasattr(reference, "feature_names_in_")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names"
        np.testing.assert_array_equal(model.predict(frame), reference.predict(X))
    with pytest.raises(ValueError, match="The feature names should match those that were passed during fit"):
        model.predict(frame.rename(columns={"f0": "other"}))
    online = TorchLogisticClassifier(solver="sgd").partial_fit(frame, y, classes=[0, 1])
    with pytest.raises(ValueError, match="The feature names should match"):
        online.partial_fit(frame.rename(columns={"f3": "other"}), y)
    broken = frame.copy()
    broken.iloc[5, 2] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        TorchLogisticClassifier().fit(broken, y)


def test_what_the_torch_preparation_does_not_take_goes_to_the_host_path(breast_cancer, monkeypatch):
    import pandas as pd

    calls = _prepared_in_torch(monkeypatch)
    X, y = breast_cancer
    reference = TorchLogisticClassifier().fit(X, y)
    assert len(calls) == 1
    for other in (pd.DataFrame(X), X[::-1][::-1], np.asarray(X, order="F")):
        np.testing.assert_array_equal(TorchLogisticClassifier().fit(other, y).coef_, reference.coef_)
    assert len(calls) == 4  # the two dense arrays and the float64 DataFrame (a view of its values)
    mixed = pd.DataFrame(X).astype({0: np.float32})  # scikit-learn casts mixed dtypes to one: the host path
    nullable = pd.DataFrame(X).astype("Float64")  # pandas' own dtype: the host path, which reads it as scikit-learn
    for other in (mixed, nullable):
        np.testing.assert_allclose(TorchLogisticClassifier().fit(other, y).coef_, reference.coef_, rtol=1e-6)
    sparse = TorchLogisticClassifier().fit(sp.csr_matrix(X), y)  # sparse kernels: the same optimum, not bitwise
    np.testing.assert_allclose(sparse.coef_, reference.coef_, rtol=0, atol=1e-4)
    assert len(calls) == 4
    labels = np.where(y == 1, "yes", "no")
    np.testing.assert_array_equal(TorchLogisticClassifier().fit(X, labels).coef_, reference.coef_)
    assert len(calls) == 4  # string labels: the host path


@pytest.mark.parametrize("class_weight", [None, {0: 2.0, 1: 0.5, 2: 1.0}])
def test_partial_fit_prepares_tensors_in_torch_as_on_the_host(class_weight, wine, monkeypatch):
    """Batches of tensors (labels int32 against int64 classes) continue as NumPy batches do, bitwise."""
    calls = _prepared_in_torch(monkeypatch)
    X, y = wine
    w = np.where(np.arange(len(y)) % 4 == 0, 0.5, 1.0)
    batches = np.array_split(np.random.RandomState(0).permutation(len(y)), 3)
    params = dict(solver="adam", class_weight=class_weight, random_state=0)

    def fit_in_batches(as_tensors):
        model = TorchLogisticClassifier(**params)
        for rows in batches:
            Xb, yb, wb = X[rows], y[rows].astype(np.int32), w[rows]
            if as_tensors:
                Xb, yb, wb = _t(Xb), _t(yb), _t(wb)
            model.partial_fit(Xb, yb, classes=np.unique(y), sample_weight=wb)
        return model

    reference = _on_the_host_path(monkeypatch, lambda: fit_in_batches(False))
    assert calls == []
    for as_tensors in (False, True):
        model = fit_in_batches(as_tensors)
        np.testing.assert_array_equal(model.coef_, reference.coef_)
        np.testing.assert_array_equal(model.classes_, reference.classes_)
    assert len(calls) == 6
    with pytest.raises(ValueError, match=r"y contains labels that are not in classes \(\[0, 1, 2\]\): \[7\]"):
        model.partial_fit(_t(X[:5]), _t(np.array([0, 1, 7, 2, 1])))
    with pytest.raises(ValueError, match="X has 5 features, but TorchLogisticClassifier is expecting 13"):
        model.partial_fit(_t(X[:5, :5]), _t(y[:5]))
    np.testing.assert_array_equal(model.coef_, reference.coef_)  # a refused batch leaves the model as it was


@pytest.mark.parametrize(
    "params",
    [
        dict(pos_weight="balanced"),
        dict(hidden_layer_sizes=(8,), max_iter=6, early_stopping=True, random_state=0),
        dict(hidden_layer_sizes=(8,), max_iter=4, batch_size=32, random_state=0, dtype="float64"),
    ],
    ids=["linear balanced", "hidden early stopping", "hidden float64"],
)
def test_multilabel_torch_preparation_equals_the_host_path(params, multilabel, monkeypatch):
    calls = _prepared_in_torch(monkeypatch)
    X, Y = multilabel
    (X, Y_rows, w), _ = _shuffled_with_copies(X, np.arange(len(Y)))
    Y = Y[Y_rows].astype(np.int32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = _on_the_host_path(
            monkeypatch, lambda: TorchMultiLabelClassifier(**params).fit(X, Y, sample_weight=w)
        )
        on_tensors = TorchMultiLabelClassifier(**params).fit(_t(X), _t(Y), sample_weight=_t(w))
        on_numpy = TorchMultiLabelClassifier(**params).fit(X, Y, sample_weight=w)
        one_label = {k: v for k, v in params.items() if k != "pos_weight"}  # pos_weight needs a matrix
        labels = TorchMultiLabelClassifier(**one_label).fit(_t(X), _t(Y[:, 0]))  # 1-D labels: encoded in torch
    assert len(calls) == 3
    for model in (on_tensors, on_numpy):
        for got, expected in zip(model.coefs_, reference.coefs_, strict=True):
            np.testing.assert_array_equal(got, expected)
        assert model.loss_curve_ == reference.loss_curve_
        predicted = model.predict(_t(X))
        assert predicted.dtype == torch.int32  # the label matrix's dtype, as from NumPy
        np.testing.assert_array_equal(predicted.numpy(), reference.predict(X))
    np.testing.assert_array_equal(labels.classes_, [0, 1])


@pytest.mark.parametrize(
    "make_bad, message",
    [
        (lambda X, y, w: (X.clone().index_fill_(0, torch.tensor([4]), float("inf")), y, w), "infinity"),
        (lambda X, y, w: (X, y.double().index_fill_(0, torch.tensor([1]), float("nan")), w), "Input y contains NaN"),
        (lambda X, y, w: (X, y, -w), "Negative values in data passed to `sample_weight`"),
        (lambda X, y, w: (X, y, w[:-1]), r"sample_weight.shape == \(177,\), expected \(178,\)"),
        (lambda X, y, w: (X, y.double() + 0.5, w), "Unknown label type"),
        (lambda X, y, w: (X, torch.zeros_like(y), w), "only one class"),
        (lambda X, y, w: (X, y, torch.zeros_like(w)), "all zero|zero sample weight|Sample weights"),
    ],
    ids=["inf in X", "nan in y", "negative weight", "weight length", "continuous y", "one class", "zero weights"],
)
def test_tensor_preparation_refuses_with_the_numpy_message(make_bad, message, wine):
    X, y = wine
    w = np.ones(len(y))
    bad = make_bad(_t(X), _t(y), _t(w))
    with pytest.raises(ValueError, match=message):
        TorchLogisticClassifier().fit(bad[0], bad[1], sample_weight=bad[2])
    with pytest.raises(ValueError, match=message):  # the NumPy path says the same
        TorchLogisticClassifier().fit(*(b.numpy() for b in bad[:2]), sample_weight=bad[2].numpy())


def test_cv_estimator_takes_tensors_and_returns_them():
    """TorchLogisticClassifierCV: tensors in give the NumPy fit's answer, and tensors out (bitwise)."""
    from torchlogit import TorchLogisticClassifierCV

    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    options = dict(Cs=3, cv=3, dtype="float64", tol=1e-8, max_iter=300)
    on_numpy = TorchLogisticClassifierCV(**options).fit(X, y)
    on_tensors = TorchLogisticClassifierCV(**options).fit(torch.from_numpy(X), torch.from_numpy(y))
    assert on_tensors.C_ == on_numpy.C_
    np.testing.assert_array_equal(on_tensors.coef_, on_numpy.coef_)
    for method in ("decision_function", "predict_proba", "predict_log_proba", "predict"):
        out = getattr(on_tensors, method)(torch.from_numpy(X))
        assert isinstance(out, torch.Tensor), method
        np.testing.assert_array_equal(out.numpy(), getattr(on_numpy, method)(X))
    assert on_tensors.score(torch.from_numpy(X), torch.from_numpy(y)) == on_numpy.score(X, y)
    # a tensor sample_weight, by keyword and (deprecated where scikit-learn deprecates it) by position
    weight = np.linspace(0.5, 2.0, len(y))
    expected = on_numpy.score(X, y, sample_weight=weight)
    given = torch.from_numpy(X), torch.from_numpy(y), torch.from_numpy(weight)
    assert on_tensors.score(*given[:2], sample_weight=given[2]) == expected
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        assert on_tensors.score(*given) == expected


def test_array_api_support_is_declared_exactly_where_scikit_learn_can_dispatch():
    """The tag follows the environment: on with SciPy >= 1.14 and scikit-learn's move_to (1.9 has it),
    off below (scikit-learn 1.6 with SciPy 1.10, our floors, cannot switch array-API mode on at all)."""
    import scipy
    from sklearn.utils import _array_api

    possible = parse_version(scipy.__version__).release >= (1, 14) and hasattr(_array_api, "move_to")
    for estimator in (TorchLogisticClassifier(), TorchMultiLabelClassifier()):
        assert estimator.__sklearn_tags__().array_api_support is possible


def test_reversed_views_and_memmaps_fit_as_copies(breast_cancer, tmp_path):
    X, y = breast_cancer
    reference = TorchLogisticClassifier().fit(X[::-1].copy(), y[::-1].copy(), sample_weight=np.arange(len(y))[::-1] % 3)
    reversed_views = TorchLogisticClassifier().fit(X[::-1], y[::-1], sample_weight=(np.arange(len(y)) % 3)[::-1])
    np.testing.assert_array_equal(reversed_views.coef_, reference.coef_)
    path = tmp_path / "X.npy"
    np.save(path, X)
    mapped = np.load(path, mmap_mode="r")  # read-only memory
    np.testing.assert_array_equal(
        TorchLogisticClassifier().fit(mapped, y).coef_, TorchLogisticClassifier().fit(X, y).coef_
    )


def test_torch_preparation_takes_what_it_can_check_itself(wine, multilabel, monkeypatch):
    """Zero and fractional weights, one feature, a two-label matrix, a broadcast X: all prepared in torch."""
    calls = _prepared_in_torch(monkeypatch)
    X, y = wine
    w = np.where(np.arange(len(y)) % 4 == 0, 0.0, 0.25)
    TorchLogisticClassifier().fit(X, y, sample_weight=w)
    TorchLogisticClassifier().fit(_t(X[:, :1]), _t(y))
    TorchLogisticClassifier().fit(np.broadcast_to(X[:, :1], X.shape), y)  # a stride of zero
    Xm, Ym = multilabel
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        TorchMultiLabelClassifier(max_iter=3).fit(Xm, Ym[:, :2])
    assert len(calls) == 4


def test_chunked_keys_and_gathers_equal_whole_ones(monkeypatch):
    """Chunks of a few rows (the production size is 2^18 values on the CPU) give the same keys, order and copy."""
    import torchlogit._tensor_data as tensor_data
    from torchlogit._rows import canonical_rows

    rng = np.random.RandomState(0)
    X = rng.normal(size=(203, 5))
    target = rng.randint(0, 2, size=203)
    weight = np.ones(203)
    monkeypatch.setattr(tensor_data, "_CHUNK_VALUES", 5 * 7)  # 7 rows a chunk, a ragged last chunk
    for a in (X, X.astype(np.float32)):
        rows, merged = tensor_data.canonical_tensor_rows(_t(a), _t(target), _t(weight))
        expected_rows, expected_weight = canonical_rows(a, target, weight)
        np.testing.assert_array_equal(a[rows.numpy()], a[expected_rows])
        np.testing.assert_array_equal(merged.numpy(), expected_weight)
        for dtype in (torch.float32, torch.float64):
            copy = tensor_data.gathered_rows(_t(a), rows, dtype, torch.device("cpu"))
            np.testing.assert_array_equal(copy.numpy(), a[rows.numpy()].astype(copy.numpy().dtype))


def test_float_labels_do_not_hide_bad_features(breast_cancer):
    X, y = breast_cancer
    bad = X.copy()
    bad[5, 1] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        TorchLogisticClassifier().fit(bad, y.astype(np.float64))
    with pytest.raises(ValueError, match="Input X contains infinity"):
        TorchLogisticClassifier().fit(_t(bad), _t(y).double())


def test_a_refit_without_feature_names_forgets_them(breast_cancer):
    import pandas as pd

    X, y = breast_cancer
    columns = [f"f{i}" for i in range(X.shape[1])]
    model = TorchLogisticClassifier().fit(pd.DataFrame(X, columns=columns), y)
    assert list(model.feature_names_in_) == columns
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names" warning: this is a new fit
        model.fit(X, y)
    assert not hasattr(model, "feature_names_in_")
    model.fit(pd.DataFrame(X, columns=columns), y).fit(_t(X), _t(y))
    assert not hasattr(model, "feature_names_in_")


def test_scalar_and_float32_weights_are_prepared_in_torch_as_on_the_host(wine, monkeypatch):
    calls = _prepared_in_torch(monkeypatch)
    X, y = wine
    (X, y, _), (Xc, yc) = _shuffled_with_copies(X, y)
    w32 = np.where(np.arange(len(yc)) % 3 == 0, 0.1, 0.7).astype(np.float32)  # copies get other weights too
    for weight in (2.5, w32, _t(w32)):
        host_weight = weight.numpy() if isinstance(weight, torch.Tensor) else weight
        reference = _on_the_host_path(
            monkeypatch, lambda w=host_weight: TorchLogisticClassifier().fit(Xc, yc, sample_weight=w)
        )
        got = TorchLogisticClassifier().fit(Xc, yc, sample_weight=weight)
        np.testing.assert_array_equal(got.coef_, reference.coef_)
    assert len(calls) == 3


def test_labels_of_another_length_get_the_numpy_message(breast_cancer):
    X, y = breast_cancer
    for labels in (y[:-1], _t(y[:-1])):
        with pytest.raises(ValueError, match="inconsistent numbers of samples"):
            TorchLogisticClassifier().fit(X, labels)
        with pytest.raises(ValueError, match="inconsistent numbers of samples"):
            TorchMultiLabelClassifier().fit(_t(X), labels)


def test_a_one_column_label_matrix_is_raveled_with_scikit_learns_warning(multilabel):
    from sklearn.exceptions import DataConversionWarning

    X, Y = multilabel
    for column in (Y[:, :1], _t(Y[:, :1])):
        with pytest.warns(DataConversionWarning):
            model = TorchMultiLabelClassifier().fit(X, column)
        np.testing.assert_array_equal(model.classes_, [0, 1])


def test_complex_sample_weights_are_refused_as_scikit_learn_refuses_them():
    """A complex weight tensor goes to the host path, whose check is scikit-learn's (torch would drop the imaginary
    part, with only a warning, and fit)."""
    X = torch.from_numpy(np.random.RandomState(0).randn(20, 3))
    y = torch.arange(20) % 2
    with pytest.raises(ValueError, match="Complex data not supported"):
        TorchLogisticClassifier().fit(X, y, sample_weight=torch.ones(20, dtype=torch.complex128))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_copy_of_every_row_has_the_largest_value_validation_measured(dtype, monkeypatch):
    """A training copy of every row (in canonical order) takes X's largest |value| from validation, in the training
    dtype (9 + 1e-9 is 9.0 in float32), with no pass over the copy; a copy of fewer rows (a zero weight drops the row
    that holds it) is measured. Either way the value is the copy's own."""
    import torchlogit._data as data
    from torchlogit._kernels import tensor_max_abs
    from torchlogit._training_set import TrainingSet

    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    X[7, 1] = -(9 + 1e-9)
    y = rng.randint(0, 2, size=60)
    measured = []
    monkeypatch.setattr(data, "tensor_max_abs", lambda a: measured.append(1) or tensor_max_abs(a))
    cpu = torch.device("cpu")
    for weight, passes in ((None, 0), (np.where(np.arange(60) == 7, 0.0, 1.0), 1)):
        measured.clear()
        training = TrainingSet.from_user(TorchLogisticClassifier(), X, y, weight, cpu)
        assert training.max_abs == 9 + 1e-9
        train, _ = training.split()
        batch = training.batch(train, dtype, batch_size=60)
        assert len(measured) == passes
        assert batch.max_abs == tensor_max_abs(batch.X)
        largest = np.abs(np.delete(X, 7, axis=0)).max() if passes else 9 + 1e-9
        assert batch.max_abs == float(torch.tensor(largest, dtype=dtype))


def _coefs(model):
    return [np.asarray(getattr(model, name)) for name in ("coef_", "intercept_")]


def test_a_tensor_view_with_the_negative_bit_fits_as_its_values(wine):
    """torch's lazy negation (a conj().imag view) cannot be read by NumPy; the fit reads its values."""
    X, y = wine
    Xt = torch.tensor(X)
    negated = torch.complex(torch.zeros_like(Xt), -Xt).conj().imag
    assert negated.is_neg() and torch.equal(negated, Xt)
    for Estimator, target in ((TorchLogisticClassifier, y), (TorchMultiLabelClassifier, np.eye(3)[y])):
        expected = _coefs(Estimator().fit(Xt, target))
        for got, want in zip(_coefs(Estimator().fit(negated, target)), expected, strict=True):
            np.testing.assert_array_equal(got, want)


def test_float16_tensors_fit_as_numpy_float16(wine):
    """float16 X is promoted to float64 as scikit-learn promotes a NumPy float16 array (coef_ float64, the same
    fit bit for bit); float16 labels keep their dtype in classes_."""
    X, y = wine
    X16 = X.astype(np.float16)
    from_numpy = TorchLogisticClassifier(dtype="float64").fit(X16, y)
    from_tensor = TorchLogisticClassifier(dtype="float64").fit(torch.from_numpy(X16), y)
    assert from_tensor.coef_.dtype == from_numpy.coef_.dtype == np.float64
    for got, want in zip(_coefs(from_tensor), _coefs(from_numpy), strict=True):
        np.testing.assert_array_equal(got, want)
    labels = TorchLogisticClassifier().fit(X, torch.tensor(y, dtype=torch.float16))
    assert labels.classes_.dtype == np.float16
    # Sparse float16 (COO was refused with SciPy's "does not support dtype float16"): the same fit as dense.
    for sparse in (torch.from_numpy(X16).to_sparse(), torch.from_numpy(X16).to_sparse_csr()):
        fitted = TorchLogisticClassifier(dtype="float64").fit(sparse, y)
        assert fitted.coef_.dtype == np.float64
        np.testing.assert_allclose(fitted.coef_, from_numpy.coef_, rtol=0, atol=1e-10)
        np.testing.assert_allclose(fitted.predict_proba(sparse), from_numpy.predict_proba(X16), rtol=0, atol=1e-10)


@pytest.mark.parametrize("layout", ["bsr", "bsc"])
def test_blocked_sparse_tensors_fit_and_predict_as_csr(wine, layout):
    X, y = wine
    X = np.where(np.abs(X) > 1.0, X, 0.0)[:, :12]  # an even number of columns, for 2 x 2 blocks
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch: "Sparse BSR tensor support is in beta state"
        blocked = getattr(torch.tensor(X), f"to_sparse_{layout}")((2, 2))
        ours = TorchLogisticClassifier().fit(blocked, y)
        proba = ours.predict_proba(blocked)
    reference = TorchLogisticClassifier().fit(sp.csr_matrix(X), y)
    for got, want in zip(_coefs(ours), _coefs(reference), strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(proba.numpy(), reference.predict_proba(sp.csr_matrix(X)))


@pytest.mark.parametrize("what", ["y", "sample_weight"])
def test_sparse_labels_or_weights_are_refused_as_scikit_learn_refuses_them(wine, what):
    X, y = wine
    args = dict(y=torch.tensor(y).to_sparse(), sample_weight=None)
    if what == "sample_weight":
        args = dict(y=y, sample_weight=torch.ones(len(y), dtype=torch.float64).to_sparse())
    with pytest.raises(TypeError, match=f"Sparse data was passed for {what}, but dense data is required"):
        TorchLogisticClassifier().fit(torch.tensor(X), args["y"], sample_weight=args["sample_weight"])


@pytest.mark.parametrize("dtype", ["Int64", "boolean"])
def test_nullable_labels_are_read_as_scikit_learn_reads_them_whatever_x_is(dtype):
    """pandas' nullable labels become float64 classes in scikit-learn's validation ([0., 1.]); the NumPy-X fast path
    read them with np.asarray (int64 [0, 1], bool [False, True]), so the classes depended on X's container."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    labels = pd.Series((y == 1).astype(int)).astype(dtype)
    want = LogisticRegression().fit(X, labels)
    for data in (X, pd.DataFrame(X)):
        got = TorchLogisticClassifier().fit(data, labels)
        np.testing.assert_array_equal(got.classes_, want.classes_)
        assert got.classes_.dtype == want.classes_.dtype == np.float64
        assert got.predict(data).dtype == want.predict(data).dtype


def test_np_matrix_is_refused_by_fit_as_by_predict(wine_small, multilabel):
    """``X_sparse.todense()`` gives an np.matrix: fit took it (read as a tensor), predict refused it."""
    X, y = wine_small
    for args in [(np.asmatrix(X), y), (X, np.asmatrix(y)), (X, y, np.asmatrix(np.ones(len(y))))]:
        with pytest.raises(TypeError, match="np.matrix is not supported"):
            TorchLogisticClassifier().fit(*args[:2], sample_weight=args[2] if len(args) > 2 else None)
    Xl, Y = multilabel
    with pytest.raises(TypeError, match="np.matrix is not supported"):
        TorchMultiLabelClassifier().fit(Xl, np.asmatrix(Y))


def test_a_one_dimensional_sparse_x_gets_scikit_learns_message(wine_small):
    X, y = wine_small
    column = _t(X[:, 0]).to_sparse()
    with pytest.raises(ValueError, match=r"Expected 2D input, got input with shape \(178,\)"):
        TorchLogisticClassifier().fit(column, y)
    with pytest.raises(ValueError, match=r"Expected 2D input, got input with shape \(178,\)"):
        TorchLogisticClassifier().fit(X, y).predict(column)
    # scikit-learn's words for a sparse y or sample_weight, which name the argument (they said "a 1-D array (y or
    # sample_weight)" for both)
    with pytest.raises(TypeError, match=r"Sparse data was passed for y, but dense data is required"):
        TorchLogisticClassifier().fit(X, _t(y).to_sparse())
    weight = torch.ones(len(y), dtype=torch.float64).to_sparse()
    for cls, target in ((TorchLogisticClassifier, y), (TorchMultiLabelClassifier, np.c_[y == 0, y == 1])):
        with pytest.raises(TypeError, match=r"Sparse data was passed for sample_weight, but dense data is required"):
            cls().fit(_t(X), _t(target), sample_weight=weight)
    with pytest.raises(TypeError, match=r"Sparse data was passed for classes, but dense data is required"):
        TorchLogisticClassifier(solver="sgd").partial_fit(X, y, classes=_t(np.unique(y)).to_sparse())


def test_fits_on_the_cpu_ignore_the_users_default_device(wine_small, multilabel):
    """Every tensor torchlogit makes names its device: sparse, multi-label, CV, mini-batch and Newton fits failed
    with torch's "can't convert meta device type tensor to numpy". The user's ``torch.set_default_device`` is
    "cuda" in a GPU notebook; "meta" stands in for it (a tensor made there cannot be read back either)."""
    from torchlogit import TorchLogisticClassifierCV

    X, y = wine_small
    Xl, Y = multilabel
    cases = [
        (lambda: TorchLogisticClassifier(device="cpu"), X, y),
        (lambda: TorchLogisticClassifier(device="cpu"), sp.csr_matrix(X), y),
        (lambda: TorchLogisticClassifier(device="cpu", solver="newton-cholesky"), X, y),
        (lambda: TorchLogisticClassifier(device="cpu", solver="adam", max_iter=3, random_state=0), X, y),
        (lambda: TorchLogisticClassifierCV(device="cpu", Cs=3, cv=3), X, y),
        (lambda: TorchMultiLabelClassifier((4,), device="cpu", max_iter=3, random_state=0), Xl, Y),
    ]
    expected = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for make, data, target in cases:
            expected.append(make().fit(data, target).predict_proba(data))
        torch.set_default_device("meta")
        try:
            got = [make().fit(data, target).predict_proba(data) for make, data, target in cases]
        finally:
            torch.set_default_device(None)
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_array_equal(g, e)


def test_a_tensor_from_any_device_gets_the_host_paths_column_major_copy():
    """Where the products go to NumPy's BLAS the training copy is laid out by columns. A CPU tensor got it from the
    host path, a GPU tensor fitted on the CPU a row-major copy, which NumPy's BLAS rounds otherwise (an AMD host:
    not bitwise the NumPy array's fit). The copy the device path gathers into has the host path's layout."""
    from torchlogit._tensor_data import empty_copy, gathered_rows

    X = torch.from_numpy(np.random.RandomState(0).randn(50, 7))
    rows = torch.tensor([3, 1, 4, 1, 5, 9, 2, 6])
    host = gathered_rows(X, rows, torch.float32, "cpu", column_major=True)
    device_path = empty_copy(len(rows), 7, torch.float32, "cpu", column_major=True)
    assert host.stride() == device_path.stride() == (1, len(rows))
    assert empty_copy(len(rows), 7, torch.float32, "cpu").stride() == (7, 1)
    np.testing.assert_array_equal(host.numpy(), X[rows].float().numpy())


def test_bool_labels_predicted_from_a_tensor_come_back_as_a_bool_tensor():
    """Kills D1 (_data.Origin.wrap: kind "biuf" -> "iuf"): a tensor in gives a tensor out,
    for boolean labels too (they are numbers, not strings)."""
    import numpy as np
    import torch

    from torchlogit import TorchLogisticClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = X[:, 0] > 0
    model = TorchLogisticClassifier().fit(X, y)
    predicted = model.predict(torch.from_numpy(X))
    assert isinstance(predicted, torch.Tensor) and predicted.dtype == torch.bool
    np.testing.assert_array_equal(predicted.numpy(), model.predict(X))


def test_bfloat16_values_beyond_float16_range_are_read_exactly():
    """Kills D4 (_data._host reads bfloat16 as float16): bfloat16's range is float32's,
    so 1e5 (above float16's 65504) must reach the fit as itself, not as inf."""
    import numpy as np
    import torch

    from torchlogit import TorchLogisticClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    X[:, 1] *= 1e5
    half = torch.from_numpy(X).to(torch.bfloat16)
    fitted = TorchLogisticClassifier().fit(half, y)
    np.testing.assert_array_equal(fitted.coef_, TorchLogisticClassifier().fit(half.float().numpy(), y).coef_)


def test_nan_in_a_label_matrix_is_refused_in_scikit_learns_words():
    """Kills T3 (_tensor_data.tensor_fit_inputs no longer checks float labels for NaN/inf):
    a NaN in a multi-label Y is refused as MLPClassifier refuses it ("Input y contains NaN"), from NumPy and from
    a tensor, and an infinite binary label raises scikit-learn's ValueError, not a RuntimeWarning from a cast."""
    import warnings

    import numpy as np
    import pytest
    import torch

    from torchlogit import TorchLogisticClassifier, TorchMultiLabelClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = (X[:, 0] > 0).astype(float)
    Y = np.stack([y, 1 - y], axis=1)
    Y[3] = [np.nan, 1.0]
    for labels in (Y, torch.from_numpy(Y)):
        with pytest.raises(ValueError, match="Input y contains NaN"):
            TorchMultiLabelClassifier().fit(X, labels)
    y[3] = np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="Input y contains infinity"):
            TorchLogisticClassifier().fit(X, y)


def test_a_two_dimensional_sample_weight_is_refused_as_scikit_learn_refuses_it():
    """Kills T8 (_tensor_data._weights checks only the first dimension): a (n, 1)
    sample_weight with float64 X (the torch preparation path) is refused with scikit-learn's message, as
    LogisticRegression refuses it, from NumPy and from a tensor."""
    import numpy as np
    import pytest
    import torch
    from sklearn.linear_model import LogisticRegression

    from torchlogit import TorchLogisticClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = (X[:, 0] > 0).astype(int)
    weight = np.ones((30, 1))
    with pytest.raises(ValueError, match="Sample weights must be 1D array or scalar"):
        LogisticRegression().fit(X, y, sample_weight=weight)
    for w in (weight, torch.from_numpy(weight)):
        with pytest.raises(ValueError, match="Sample weights must be 1D array or scalar"):
            TorchLogisticClassifier().fit(X, y, sample_weight=w)


def test_a_float32_array_wider_than_one_preparation_chunk_is_fitted():
    """Kills T12 (_tensor_data._rows_per_chunk without max(1, ...)): a row of more than
    2**18 values (wide data: a few samples of 300k features, as in genomics) gives 0 rows per chunk, and the
    float64 key loop of canonical_tensor_rows ran range(0, n, 0) (ValueError: range() arg 3 must not be zero)."""
    import warnings

    import numpy as np

    from torchlogit import TorchLogisticClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, (1 << 18) + 7)).astype(np.float32)
    y = np.array([0, 1, 0, 1, 0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter=2: ConvergenceWarning
        model = TorchLogisticClassifier(max_iter=2).fit(X, y)
    assert model.coef_.shape == (1, X.shape[1]) and np.isfinite(model.coef_).all()
    np.testing.assert_array_equal(model.predict(X), model.predict(X.astype(np.float64)))


def test_a_pos_weight_beyond_the_training_dtype_is_refused_for_tensors_as_for_numpy(multilabel):
    X, Y = multilabel
    with pytest.raises(ValueError) as from_numpy:
        TorchMultiLabelClassifier(pos_weight=[1e39, 1, 1]).fit(X, Y)
    with pytest.raises(ValueError) as from_tensors:
        TorchMultiLabelClassifier(pos_weight=[1e39, 1, 1]).fit(_t(X), _t(Y))
    assert str(from_tensors.value) == str(from_numpy.value)
    assert str(from_numpy.value).startswith("pos_weight reaches 1e+39, beyond the range of the training dtype float32")


def test_reversed_labels_fit_as_their_copy():
    """Mutant T7 (_tensor_data._labels without np.ascontiguousarray). ``y[::-1]`` is an ordinary NumPy view (negative
    stride): LogisticRegression takes it; the mutant raised torch's "At least one stride in the given numpy array is
    negative". Existing tests reverse X, not y."""
    rng = np.random.RandomState(0)
    X, y = rng.rand(20, 3), rng.randint(0, 2, 20)
    fitted = TorchLogisticClassifier().fit(X, y[::-1])
    np.testing.assert_array_equal(fitted.coef_, TorchLogisticClassifier().fit(X, y[::-1].copy()).coef_)


def test_an_empty_tensor_gets_scikit_learns_message():
    """Mutant T14 (tensor_fit_inputs without `X.shape[0] > 0`). A tensor of 0 rows must be refused as scikit-learn
    refuses an array of 0 samples ("Found array with 0 sample(s)"), not reach torch.aminmax's RuntimeError."""
    X, y = torch.empty((0, 3), dtype=torch.float64), torch.empty(0, dtype=torch.int64)
    with pytest.raises(ValueError, match="0 sample"):
        TorchLogisticClassifier().fit(X, y)


def test_reversed_sample_weights_fit_as_their_copy():
    """Mutant T16 (_tensor_data._weights without np.ascontiguousarray). ``sample_weight=w[::-1]`` (negative stride)
    must fit as its copy; the mutant raised torch's "At least one stride in the given numpy array is negative"."""
    rng = np.random.RandomState(0)
    X, y, w = rng.rand(20, 3), rng.randint(0, 2, 20), rng.uniform(0.5, 2, 20)
    fitted = TorchLogisticClassifier().fit(X, y, sample_weight=w[::-1])
    np.testing.assert_array_equal(fitted.coef_, TorchLogisticClassifier().fit(X, y, sample_weight=w[::-1].copy()).coef_)


def test_a_tensor_view_with_the_negative_bit_set_is_predicted_and_fitted_on_the_host_path():
    """``z.conj().imag`` of a complex tensor is a real view with torch's negative bit set, which ``.numpy()`` refuses
    ("Can't call numpy() on Tensor that has negative bit set"). predict / predict_proba on the CPU and a fit that
    takes the host path (sparse X: the weights are read there) must read its values. h3's mutant: `_data._host`
    without `.resolve_neg()`."""
    rng = np.random.RandomState(0)
    X = rng.randn(40, 3)
    y = (X[:, 0] > 0).astype(int)
    Xt = torch.as_tensor(X)
    neg_view = torch.complex(torch.zeros_like(Xt), -Xt).conj().imag
    assert neg_view.is_neg() and torch.equal(neg_view, Xt)
    model = TorchLogisticClassifier().fit(X, y)
    np.testing.assert_array_equal(model.predict_proba(neg_view).numpy(), model.predict_proba(X))
    w = torch.ones(40, dtype=torch.float64)
    w_neg = torch.complex(torch.zeros_like(w), -w).conj().imag
    sparse = torch.as_tensor(X).to_sparse_csr()
    refit = TorchLogisticClassifier().fit(sparse, y, sample_weight=w_neg)  # sparse X: the host path reads w_neg
    np.testing.assert_array_equal(refit.coef_, model.coef_)
