"""Ties in ``predict`` are broken as scikit-learn breaks them.

scikit-learn's ``LinearClassifierMixin.predict`` picks ``classes_[1]`` only where the decision
is strictly positive (a zero decision gives ``classes_[0]``), and ``argmax`` (the first class)
among tied multinomial scores; ``MLPClassifier`` turns a multi-label probability into a label
with ``LabelBinarizer``'s strict ``p > 0.5``. Rows of zeros in a model without intercept have
logits exactly 0, whatever the coefficients: a tie by construction.
"""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy.special import expit, softmax
from sklearn.datasets import load_iris, make_multilabel_classification
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import LabelBinarizer, StandardScaler

from torchlogit import TorchLogisticClassifier, TorchMultiLabelClassifier, _kernels, _predict
from torchlogit._predict import (
    class_labels,
    device_logits,
    host_logits,
    indicator_labels,
    log_probabilities,
    probabilities,
    rowwise_product,
    tensor_logits,
)


def _with_zero_rows(X):
    Z = X.copy()
    Z[::3] = 0.0  # every third row: all logits exactly 0
    return Z


@pytest.mark.parametrize("labels", [("no", "yes"), (1, 0), (2.0, -1.0)], ids=["strings", "ints", "floats"])
def test_binary_tie_gives_the_first_class_as_sklearn(labels):
    X, y = load_iris(return_X_y=True)
    X, y = StandardScaler().fit_transform(X[y > 0]), np.where(y[y > 0] == 1, labels[0], labels[1])
    ours = TorchLogisticClassifier(fit_intercept=False, max_iter=500).fit(X, y)
    ref = LogisticRegression(fit_intercept=False, max_iter=500).fit(X, y)
    Z = _with_zero_rows(X)
    decision = ours.decision_function(Z)
    assert np.all(decision[::3] == 0.0)
    np.testing.assert_array_equal(ref.decision_function(Z)[::3], 0.0)
    np.testing.assert_array_equal(ours.predict(Z), ref.predict(Z))
    assert np.all(ours.predict(Z)[::3] == ours.classes_[0])
    np.testing.assert_array_equal(ours.predict_proba(Z)[::3], 0.5)


def test_multinomial_tie_gives_the_first_class_as_sklearn():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = np.array(["setosa", "versicolor", "virginica"])[y]
    ours = TorchLogisticClassifier(fit_intercept=False, C=0.1).fit(X, y)
    ref = LogisticRegression(fit_intercept=False, C=0.1).fit(X, y)
    Z = _with_zero_rows(X)
    np.testing.assert_array_equal(ours.decision_function(Z)[::3], 0.0)
    np.testing.assert_array_equal(ours.predict(Z), ref.predict(Z))
    assert np.all(ours.predict(Z)[::3] == "setosa")


def test_multilabel_tie_at_the_threshold_is_off_as_mlpclassifier():
    X, Y = make_multilabel_classification(n_samples=120, n_features=5, n_classes=3, random_state=0)
    X = StandardScaler().fit_transform(X)
    ours = TorchMultiLabelClassifier(fit_intercept=False).fit(X, Y)
    Z = _with_zero_rows(X)
    proba = ours.predict_proba(Z)
    np.testing.assert_array_equal(proba[::3], 0.5)
    # MLPClassifier: LabelBinarizer().inverse_transform(proba) on multi-label output, p > 0.5.
    binarizer = LabelBinarizer().fit(Y)
    np.testing.assert_array_equal(ours.predict(Z), binarizer.inverse_transform(proba))
    assert not ours.predict(Z)[::3].any()


# ------------------------------------------------------------------ _predict's arithmetic, function by function
# References: the forward pass written out (MLPClassifier's), LogisticRegression's formulas for probabilities
# (expit and 1 - expit, softmax), the stable closed forms of the log-probabilities, and the sums of
# rowwise_product done term by term in NumPy (bitwise). The torch paths run on CPU tensors.

_ACT = {"relu": lambda h: np.maximum(h, 0.0), "tanh": np.tanh, "logistic": expit, "identity": lambda h: h}


def _forward(X, layers, activation):
    H = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    for i, (W, b) in enumerate(layers):
        H = H @ np.asarray(W.toarray() if sp.issparse(W) else W, dtype=np.float64) + b
        if i < len(layers) - 1:
            H = _ACT[activation](H)
    return H


def _layers(sizes, seed=0, dtype=np.float64):
    rng = np.random.RandomState(seed)
    return [
        (rng.randn(n_in, n_out).astype(dtype), rng.randn(n_out).astype(dtype))
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)
    ]


def _X(n=23, d=5, seed=1):
    X = np.random.RandomState(seed).randn(n, d)
    X[X < -0.6] = 0.0  # some zeros, so that sparse matrices are sparse
    return X


def test_rowwise_product_is_summed_term_by_term_in_order():
    A, W = _X(9, 6).astype(np.float32), np.random.RandomState(2).randn(6, 4).astype(np.float32)
    expected = np.zeros((9, 4))
    for j in range(6):  # the documented order: one multiply and one add per input, in float64
        expected += A[:, j].astype(np.float64)[:, None] * W[j].astype(np.float64)
    out = rowwise_product(A, W)
    assert out.dtype == np.float64 and out.shape == (9, 4)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_allclose(out, A.astype(np.float64) @ W.astype(np.float64), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("form", ["dense", "float32", "csr", "csc", "sparse_coef"])
def test_linear_host_logits_are_x_coef_plus_intercept(form):
    X = _X()
    ((W, b),) = layers = _layers((5, 3))
    expected = X @ W + b
    if form == "float32":
        X = X.astype(np.float32)
        expected = X.astype(np.float64) @ W + b
    elif form in ("csr", "csc"):
        X = getattr(sp, f"{form}_matrix")(X)
    elif form == "sparse_coef":
        layers = [(sp.csr_matrix(W.T).T, b)]  # sparsify(): coef_ is CSR, its transpose CSC
    out = host_logits(X, layers, "identity")
    assert isinstance(out, np.ndarray) and out.dtype == np.float64 and out.shape == (23, 3)
    np.testing.assert_allclose(out, expected, rtol=1e-13, atol=1e-13)


def test_linear_host_logits_of_a_float32_model_are_float64():
    X = _X().astype(np.float32)
    layers = _layers((5, 1), dtype=np.float32)
    out = host_logits(X, layers, "identity")
    assert out.dtype == np.float64
    W, b = layers[0]
    np.testing.assert_allclose(out, X.astype(np.float64) @ W.astype(np.float64) + b.astype(np.float64), rtol=1e-13)
    # float32 products would be ~1e-7 off; float64 is exact to rounding of 5 terms
    for sparse in (sp.csr_matrix(X), sp.csc_matrix(X)):  # float32 data and model: a float64 product all the same
        out_sparse = host_logits(sparse, layers, "identity")
        assert out_sparse.dtype == np.float64
        np.testing.assert_allclose(out_sparse, out, rtol=1e-13)
    out_sparse_coef = host_logits(X, [(sp.csr_matrix(W.T).T, b)], "identity")
    assert out_sparse_coef.dtype == np.float64
    np.testing.assert_allclose(out_sparse_coef, out, rtol=1e-13)


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("form", ["dense", "csr", "coo", "float32"])
@pytest.mark.parametrize("chunk", [None, 24, 7])
def test_hidden_host_logits_are_the_forward_pass_in_every_chunking(monkeypatch, activation, form, chunk):
    X = _X()
    layers = _layers((5, 4, 3, 2))
    expected = _forward(X, layers, activation)
    if form == "float32":
        X = X.astype(np.float32)
        expected = _forward(X.astype(np.float64), layers, activation)
    elif form != "dense":
        X = getattr(sp, f"{form}_matrix")(X)
    if chunk is not None:  # chunks of chunk // 4 rows (widest layer 4): 6 rows, or 1 row; 23 rows in all
        monkeypatch.setattr(_predict, "_ROWWISE_CHUNK_VALUES", chunk)
    out = host_logits(X, layers, activation)
    assert out.dtype == np.float64 and out.shape == (23, 2)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    # each row, bitwise, whatever the rows around it
    rows = X.tocsr() if sp.issparse(X) else X
    alone = np.vstack([host_logits(rows[i : i + 1], layers, activation) for i in range(23)])
    np.testing.assert_array_equal(alone, out)


def test_hidden_host_logits_chunks_are_sized_by_the_widest_layer(monkeypatch):
    X = _X(40)
    layers = _layers((5, 8, 2))
    monkeypatch.setattr(_predict, "_ROWWISE_CHUNK_VALUES", 33)  # 33 // 8 = 4 rows a chunk: 10 chunks
    rows = []
    original = _predict.rowwise_product

    def counting(A, W):
        rows.append(A.shape[0])
        return original(A, W)

    monkeypatch.setattr(_predict, "rowwise_product", counting)
    out = host_logits(X, layers, "relu")
    np.testing.assert_allclose(out, _forward(X, layers, "relu"), rtol=1e-12, atol=1e-12)
    assert rows == [4] * 20  # two layers per chunk
    rows.clear()
    monkeypatch.setattr(_predict, "_ROWWISE_CHUNK_VALUES", 3)  # fewer values than a row: one row a chunk
    host_logits(X[:5], layers, "relu")
    assert rows == [1] * 10


def _tensor(X, form):
    if form == "dense":
        return torch.from_numpy(X)
    if form == "float32":
        return torch.from_numpy(X.astype(np.float32))
    T = torch.from_numpy(X.astype(np.float32) if form == "coo32" else X).to_sparse()
    return T.to_sparse_csr() if form == "csr" else T


@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta")
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("form", ["dense", "float32", "coo", "csr", "coo32"])
def test_tensor_logits_are_the_forward_pass_as_a_float64_tensor(activation, form):
    X = _X()
    layers = _layers((5, 4, 3))
    expected = _forward(X.astype(np.float32) if form in ("float32", "coo32") else X, layers, activation)
    out = tensor_logits(_tensor(X, form), layers, activation)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float64 and out.device.type == "cpu"
    assert out.layout == torch.strided and tuple(out.shape) == (23, 3) and not out.requires_grad
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    linear = _layers((5, 2))
    out = tensor_logits(_tensor(X, form), [(sp.csr_matrix(linear[0][0].T).T, linear[0][1])], "identity")
    reference = _forward(X.astype(np.float32) if form in ("float32", "coo32") else X, linear, "identity")
    np.testing.assert_allclose(out.numpy(), reference, rtol=1e-12, atol=1e-12)
    # a float32 model (float32 fit): computed in float64 all the same
    single = _layers((5, 4, 3), dtype=np.float32)
    out = tensor_logits(_tensor(X, form), single, activation)
    assert out.dtype == torch.float64
    reference = _forward(X.astype(np.float32) if form in ("float32", "coo32") else X, single, activation)
    np.testing.assert_allclose(out.numpy(), reference, rtol=1e-12, atol=1e-12)


class _Counting:
    def __init__(self, monkeypatch):
        self.rows = []
        original = _predict._forward

        def counting(H, weights, act):
            self.rows.append(H.shape[0])
            return original(H, weights, act)

        monkeypatch.setattr(_predict, "_forward", counting)


@pytest.mark.parametrize(
    ("d", "hidden", "values", "rows"), [(5, 3, 20, 4), (2, 7, 20, 2), (5, 3, 2, 1), (9, 2, 30, 3), (1, 1, 5, 5)]
)
def test_tensor_and_device_logits_chunk_by_the_widest_of_input_and_layers(monkeypatch, d, hidden, values, rows):
    X = _X(17, d)
    layers = _layers((d, hidden, 2 if hidden > 1 else 1))  # (1, 1, 1): every width is 1
    expected = _forward(X, layers, "tanh")
    monkeypatch.setattr(_predict, "CHUNK_VALUES", values)  # device_logits' host chunks
    monkeypatch.setattr(_kernels, "CHUNK_VALUES", values)  # tensor_logits' chunks on the CPU (_kernels.chunk_values)
    monkeypatch.setattr(_kernels, "DEVICE_CHUNK_VALUES", 10**6)  # another device's chunk: not the CPU's
    counting = _Counting(monkeypatch)
    chunks = [min(rows, 17 - start) for start in range(0, 17, rows)]
    out = tensor_logits(torch.from_numpy(X), layers, "tanh")
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    assert counting.rows == chunks
    counting.rows.clear()
    out = device_logits(X, layers, "tanh", torch.device("cpu"))
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    assert counting.rows == chunks
    counting.rows.clear()
    out = device_logits(sp.coo_matrix(X), layers, "tanh", torch.device("cpu"))  # COO has no row slices: CSR
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    assert counting.rows == chunks
    counting.rows.clear()
    tensor_logits(torch.from_numpy(X).to_sparse(), layers, "tanh")  # sparse: one product, whole
    assert counting.rows == [17]


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("form", ["dense", "float32", "csr", "csc", "sparse_coef"])
def test_device_logits_on_the_cpu_are_the_forward_pass(activation, form):
    X = _X()
    layers = _layers((5, 4, 3)) if form != "sparse_coef" else _layers((5, 3))
    expected = _forward(X.astype(np.float32) if form == "float32" else X, layers, activation)
    if form == "float32":
        X = X.astype(np.float32)
    elif form in ("csr", "csc"):
        X = getattr(sp, f"{form}_matrix")(X)
    elif form == "sparse_coef":
        layers = [(sp.csr_matrix(layers[0][0].T).T, layers[0][1])]
    out = device_logits(X, layers, activation, torch.device("cpu"))
    assert isinstance(out, np.ndarray) and out.dtype == np.float64 and out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    # a float32 model (float32 fit): computed in float64 all the same
    single = [(W.astype(np.float32), b.astype(np.float32)) for W, b in layers]
    out = device_logits(X, single, activation, torch.device("cpu"))
    assert out.dtype == np.float64
    reference = _forward(X.astype(np.float32) if form == "float32" else X, single, activation)
    np.testing.assert_allclose(out, reference, rtol=1e-12, atol=1e-12)


_Z = np.array([[-800.0, 3.0, 0.5], [0.0, 0.0, 0.0], [2.0, -1.0, 2.0], [800.0, -800.0, 0.0], [1e-3, 40.0, -40.0]])


def _both(f, logits, kind):
    numpy = f(logits, kind)
    tensor = f(torch.from_numpy(logits), kind)
    assert isinstance(numpy, np.ndarray) and isinstance(tensor, torch.Tensor) and tensor.dtype == torch.float64
    np.testing.assert_allclose(tensor.numpy(), numpy, rtol=1e-14, atol=0)
    return numpy


def test_probabilities_are_logistic_regressions():
    z = _Z[:, :1]
    proba = _both(probabilities, z, "binary")  # LogisticRegression: expit(z), then 1 - p for classes_[0]
    expected = np.column_stack([1 - expit(z[:, 0]), expit(z[:, 0])])
    np.testing.assert_array_equal(proba, expected)
    np.testing.assert_array_equal(_both(probabilities, _Z, "multinomial"), softmax(_Z, axis=1))
    np.testing.assert_array_equal(_both(probabilities, _Z, "multilabel"), expit(_Z))
    np.testing.assert_allclose(_both(probabilities, _Z, "multinomial").sum(axis=1), 1.0, rtol=1e-15)


def test_log_probabilities_are_the_stable_closed_forms():
    z = _Z[:, 0]
    # log p1 = -log(1 + e^-z), log p0 = -log(1 + e^z): finite at +-800, where log(expit) is not
    expected = np.column_stack([-np.logaddexp(0.0, z), -np.logaddexp(0.0, -z)])
    np.testing.assert_allclose(_both(log_probabilities, _Z[:, :1], "binary"), expected, rtol=1e-14, atol=1e-300)
    lse = np.logaddexp.reduce(_Z, axis=1, keepdims=True)
    np.testing.assert_allclose(_both(log_probabilities, _Z, "multinomial"), _Z - lse, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(_both(log_probabilities, _Z, "multilabel"), -np.logaddexp(0.0, -_Z), rtol=1e-14)


@pytest.mark.parametrize("classes", [np.array(["no", "yes", "maybe"]), np.array([3, 1, 2]), np.array([0.5, -1.0, 2.0])])
def test_class_labels_break_ties_as_sklearn_on_host_and_tensor(classes):
    binary = np.array([[-1.0], [0.0], [1e-300], [5.0], [-0.0]])
    expected_binary = classes[[0, 0, 1, 1, 0]]  # classes_[1] only for a strictly positive decision
    multi = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0], [3.0, -1.0, 3.0], [-1.0, -2.0, -0.5]])
    expected_multi = classes[[0, 1, 0, 2]]  # argmax: the first of tied classes
    for logits, kind, expected in [(binary, "binary", expected_binary), (multi, "multinomial", expected_multi)]:
        host = class_labels(logits, kind, classes)
        assert isinstance(host, np.ndarray) and host.dtype == classes.dtype
        np.testing.assert_array_equal(host, expected)
        tensor = class_labels(torch.from_numpy(logits), kind, classes)
        if classes.dtype.kind == "U":  # strings: NumPy labels
            assert isinstance(tensor, np.ndarray) and tensor.dtype == classes.dtype
            np.testing.assert_array_equal(tensor, expected)
        else:
            assert isinstance(tensor, torch.Tensor) and tensor.device.type == "cpu"
            assert tensor.dtype == torch.from_numpy(classes).dtype
            np.testing.assert_array_equal(tensor.numpy(), expected)


@pytest.mark.parametrize("dtype", [np.int64, np.float32, np.uint8, bool])
def test_indicator_labels_are_logit_above_the_threshold(dtype):
    thresholds = np.array([0.5, 0.25, 0.9])
    cut = np.log(thresholds / (1 - thresholds))
    logits = np.vstack([cut, cut + 1e-9, cut - 1e-9, [np.inf, -np.inf, 0.0], [40.0, -40.0, 2.2]])
    expected = np.array([[0, 0, 0], [1, 1, 1], [0, 0, 0], [1, 0, 0], [1, 0, 1]]).astype(dtype)
    host = indicator_labels(logits, thresholds, dtype)
    assert host.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(host, expected)
    tensor = indicator_labels(torch.from_numpy(logits), thresholds, dtype)
    assert isinstance(tensor, torch.Tensor) and tensor.dtype == torch.from_numpy(np.zeros(0, dtype)).dtype
    np.testing.assert_array_equal(tensor.numpy(), expected)
    # a scalar threshold applies to every label
    np.testing.assert_array_equal(indicator_labels(logits, np.float64(0.5), dtype), (logits > 0).astype(dtype))
    t32 = indicator_labels(torch.from_numpy(logits).float(), thresholds, dtype)
    np.testing.assert_array_equal(t32.numpy(), (logits.astype(np.float32) > cut.astype(np.float32)).astype(dtype))


@pytest.mark.parametrize(("device", "dtype"), [("cuda", torch.float64), ("mps", torch.float32)])
def test_device_logits_put_every_tensor_on_the_device_in_its_precision(monkeypatch, device, dtype):
    """Which device and dtype each copy asks for, with the copies made on the host (no GPU here): the
    device asked for, float64 (float32 on MPS, which has no float64); the result float64 NumPy."""
    asked = []

    def as_tensor(X, dtype, device):
        asked.append((dtype, device))
        return _kernels.as_tensor(X, dtype, "cpu")

    def sparse_tensor(X, dtype, device):
        asked.append((dtype, device))
        return _kernels.sparse_tensor(X, dtype, "cpu")

    monkeypatch.setattr(_predict, "as_tensor", as_tensor)
    monkeypatch.setattr(_predict, "sparse_tensor", sparse_tensor)
    X = _X()
    layers = _layers((5, 4, 3))
    for data in (X, sp.csr_matrix(X)):
        asked.clear()
        out = device_logits(data, layers, "relu", torch.device(device))
        assert isinstance(out, np.ndarray) and out.dtype == np.float64
        np.testing.assert_allclose(out, _forward(X, layers, "relu"), rtol=1e-5 if dtype == torch.float32 else 1e-12)
        assert len(asked) == 5 and set(asked) == {(dtype, torch.device(device))}


def test_tensor_logits_stay_on_the_tensors_device_in_its_chunks(monkeypatch):
    """A tensor off the host (torch's "meta" device stands for one): weights, chunks and result live there,
    in float64, in chunks of the device's budget (DEVICE_CHUNK_VALUES values), not the host's."""
    monkeypatch.setattr(_kernels, "CHUNK_VALUES", 10**6)
    monkeypatch.setattr(_kernels, "DEVICE_CHUNK_VALUES", 20)  # widest 5: 4 rows a chunk
    counting = _Counting(monkeypatch)
    X = torch.empty((17, 5), dtype=torch.float32, device="meta")
    out = tensor_logits(X, _layers((5, 4, 3)), "tanh")
    assert out.device.type == "meta" and out.dtype == torch.float64 and tuple(out.shape) == (17, 3)
    assert counting.rows == [4, 4, 4, 4, 1]


def test_labels_stay_on_the_logits_device():
    """Labels of logits off the host ("meta" stands for a GPU) are computed there: the classes and the cut
    are moved to the logits' device, not left on the host."""
    logits = torch.zeros((4, 3), dtype=torch.float64, device="meta")
    labels = class_labels(logits, "multinomial", np.array([3, 1, 2]))
    assert labels.device.type == "meta" and tuple(labels.shape) == (4,) and labels.dtype == torch.int64
    labels = class_labels(logits[:, :1], "binary", np.array([0.5, 2.0]))
    assert labels.device.type == "meta" and labels.dtype == torch.float64
    indicator = indicator_labels(logits, np.array([0.2, 0.5, 0.7]), np.int32)
    assert indicator.device.type == "meta" and indicator.dtype == torch.int32 and tuple(indicator.shape) == (4, 3)


def test_tensor_binary_probabilities_are_the_numpy_ones_bit_for_bit():
    """Kills P9 (tensor path: sigmoid(-z) for classes_[0] instead of 1 - p).

    LogisticRegression gives classes_[0] the probability 1 - expit(z): exactly 0 from z = 37 on. A CUDA tensor's
    predict_proba goes through the tensor path, which must give the same numbers (sigmoid(-z) gave 4.2e-18 at z=40).
    """
    import numpy as np
    import torch
    from scipy.special import expit

    from torchlogit._predict import probabilities

    z = np.array([[-800.0], [-40.0], [-2.0], [0.0], [1e-3], [2.0], [37.0], [40.0], [800.0]])
    expected = np.column_stack([1 - expit(z[:, 0]), expit(z[:, 0])])
    np.testing.assert_array_equal(probabilities(z, "binary"), expected)
    np.testing.assert_array_equal(probabilities(torch.from_numpy(z), "binary").numpy(), expected)


def test_sparsified_model_predicts_sparse_float64_input_as_logistic_regression_bit_for_bit():
    """Kills P12 (host_logits casting a sparse X to float32 for a sparse coef_).

    After ``sparsify()``, LogisticRegression's decision_function on float64 CSR input is
    ``safe_sparse_dot(X, coef_.T) + intercept_`` in float64; torchlogit's must be the same numbers.
    """
    import numpy as np
    import scipy.sparse as sp
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    from torchlogit import TorchLogisticClassifier

    X, y = load_breast_cancer(return_X_y=True)
    X = X / X.std(axis=0)
    model = TorchLogisticClassifier(max_iter=1000).fit(X, y)
    reference = LogisticRegression(max_iter=1000).fit(X, y)
    reference.coef_, reference.intercept_ = model.coef_.copy(), model.intercept_.copy()
    model.sparsify()
    reference.sparsify()
    Xs = sp.csr_matrix(X)
    np.testing.assert_array_equal(model.decision_function(Xs), reference.decision_function(Xs))
    np.testing.assert_array_equal(model.predict_proba(Xs), reference.predict_proba(Xs))


# (a second mutation survey's P17: label dtypes torch has no dtype for, from a tensor's logits)
def test_tensor_indicator_labels_of_a_dtype_torch_lacks_come_back_as_numpy():
    logits = torch.tensor([[1.0, -1.0]], dtype=torch.float64)
    got = indicator_labels(logits, np.array([0.5, 0.5]), np.longdouble)
    assert isinstance(got, np.ndarray) and got.dtype == np.longdouble
    np.testing.assert_array_equal(got, [[1, 0]])


# (a second mutation survey's P14: labels torch has no dtype for (longdouble) sent to torch.as_tensor;
# P15: boolean labels of a tensor's logits answered as NumPy, where the docstring promises a tensor)
@pytest.mark.parametrize(
    "classes, tensor",
    [
        (np.array([1.0, 2.0], dtype=np.longdouble), False),
        (np.array([False, True]), True),
        (np.array([3, 7], dtype=np.uint8), True),
        (np.array(["a", "b"]), False),
    ],
)
def test_class_labels_of_tensor_logits_for_every_label_dtype(classes, tensor):
    from torchlogit._predict import class_labels

    logits = torch.tensor([[2.0], [-1.0], [0.0]], dtype=torch.float64)
    got = class_labels(logits, "binary", classes)
    assert isinstance(got, torch.Tensor) is tensor
    values = got.cpu().numpy() if tensor else got
    np.testing.assert_array_equal(values, classes[[1, 0, 0]])
    if not tensor:
        assert values.dtype == classes.dtype
