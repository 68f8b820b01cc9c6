"""Logits of a fitted model from its public arrays (``coef_`` / ``coefs_``), on the host or on a device.

The fitted arrays are the model, as in scikit-learn: nothing here reads a torch module.
Predictions are computed in float64 whatever dtype the model was trained in, and returned in
scikit-learn's dtype (:func:`score_dtype`).

* Linear models on the CPU: ``X @ coef_.T + intercept_``, as ``LogisticRegression``
  computes it (BLAS, straight from the validated input, dense or sparse).
* Hidden layers on the CPU: each layer's product is summed term by term in a fixed
  order (one elementwise multiply and one add per input unit), never by BLAS. BLAS
  picks different kernels and thread splits for different row counts, so a row's
  result depended on how many rows were asked for (scikit-learn's
  ``check_methods_subset_invariance`` failed with 16 threads); elementwise IEEE operations
  give the same bits for a row whatever the other rows and the thread count. Measured
  cost (benchmarks/predict_hidden.py, the 2-core reference machine, loaded): 10,000 x 20
  with 16 hidden units, 123 ms against 116 ms with BLAS; 10,000 x 100 with 100 units,
  2.1 s against 0.19 s (11x); 2,000 x 784 with (100, 50), 2.6 s against 0.16 s (16x).
  The price of predictions that do not depend on the batch, paid by wide hidden layers.
* A tensor off the host (CUDA, MPS): :func:`tensor_logits`, where the tensor lives, the
  result a tensor there (no host round trip; the input is checked in torch by
  :func:`torchlogit._data.checked_tensor`).
* NumPy input for any other device (CUDA, MPS): one chunked torch path, weights copied from the arrays
  (float64, float32 on MPS, which has no float64). Matrix products there may depend
  on the row count in the last bits.
"""

import numpy as np
import scipy.sparse as sp
import torch
from scipy.special import expit, log_expit, log_softmax, logit, softmax
from sklearn.utils.extmath import safe_sparse_dot

from ._kernels import (
    CHUNK_VALUES,
    as_tensor,
    chunk_values,
    numpy_dtype,
    sparse_tensor,
    torch_takes,
    unchecked_sparse_invariants,
)

# Output values per chunk of the term-by-term products: small enough for the cache.
_ROWWISE_CHUNK_VALUES = 1 << 15


def _host_activation(name, H):
    if name == "relu":
        return np.maximum(H, 0.0, out=H)
    if name == "tanh":
        return np.tanh(H, out=H)
    if name == "logistic":
        return expit(H, out=H)
    return H


_DEVICE_ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "logistic": torch.sigmoid, "identity": lambda h: h}


def rowwise_product(A, W):
    """``A @ W`` in float64, each output summed over the inputs in order, one term at a time.

    The same bits for a row of ``A`` whatever the other rows (see the module docstring).
    """
    out = np.zeros((A.shape[0], W.shape[1]))
    term = np.empty_like(out)
    columns = np.ascontiguousarray(A.T, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    for j in range(W.shape[0]):
        np.multiply(columns[j][:, None], W[j], out=term)
        out += term
    return out


def host_logits(X, layers, activation):
    """Logits (float64 NumPy) of ``layers`` ``[(W (n_in, n_out), b (n_out,)), ...]`` for a validated ``X``."""
    if len(layers) == 1:
        W, b = layers[0]
        if sp.issparse(W):  # sparsify(): a sparse X must share W's float64 (scikit-learn refuses mixed dtypes)
            X = X.astype(np.float64, copy=False) if sp.issparse(X) else X
            out = safe_sparse_dot(X, W.astype(np.float64), dense_output=True)
        elif sp.issparse(X):
            out = X @ np.asarray(W, dtype=np.float64)
        else:
            out = np.asarray(X, dtype=np.float64) @ np.asarray(W, dtype=np.float64)
        out = np.asarray(out, dtype=np.float64)
        out += np.asarray(b, dtype=np.float64)
        return out
    if sp.issparse(X):
        X = X.tocsr()  # row slices (COO has none)
    widest = max(W.shape[1] for W, _ in layers)
    out = np.empty((X.shape[0], layers[-1][0].shape[1]))
    step = max(1, _ROWWISE_CHUNK_VALUES // widest)
    for start in range(0, X.shape[0], step):
        H = X[start : start + step]
        for i, (W, b) in enumerate(layers):
            if sp.issparse(H):
                # scipy's CSR product sums each row over its own stored entries, in order: the same
                # bits whatever the other rows, and the data is never densified.
                H = np.asarray(H.astype(np.float64) @ np.asarray(W, dtype=np.float64))
            else:
                H = rowwise_product(H, W)
            H += np.asarray(b, dtype=np.float64)
            if i < len(layers) - 1:
                H = _host_activation(activation, H)
        out[start : start + step] = H
    return out


def _device_weights(layers, dtype, device):
    return [
        (as_tensor(W.toarray() if sp.issparse(W) else W, dtype, device), as_tensor(b, dtype, device)) for W, b in layers
    ]


def _forward(H, weights, act):
    for i, (W, b) in enumerate(weights):
        H = H @ W + b
        if i < len(weights) - 1:
            H = act(H)
    return H


def tensor_logits(X, layers, activation):
    """Logits of ``layers`` for a checked tensor ``X``, computed where ``X`` lives, as a tensor there.

    float64 (float32 on MPS). Dense ``X`` is cast and multiplied in bounded row chunks;
    a sparse ``X`` is multiplied whole (the product's size is that of the output).
    """
    dtype = torch.float32 if X.device.type == "mps" else torch.float64
    weights = _device_weights(layers, dtype, X.device)
    act = _DEVICE_ACTIVATIONS[activation]
    with torch.inference_mode():
        if X.layout != torch.strided:
            with unchecked_sparse_invariants():
                return _forward(X.to(dtype), weights, act)
        out = torch.empty((X.shape[0], layers[-1][0].shape[1]), dtype=dtype, device=X.device)
        step = max(1, chunk_values(X.device) // max(X.shape[1], *(W.shape[1] for W, _ in layers), 1))
        for start in range(0, X.shape[0], step):
            out[start : start + step] = _forward(X[start : start + step].to(dtype), weights, act)
    return out


def device_logits(X, layers, activation, device):
    """Logits (float64 NumPy) of ``layers`` computed by torch on ``device``, in bounded chunks."""
    dtype = torch.float32 if device.type == "mps" else torch.float64
    weights = _device_weights(layers, dtype, device)
    act = _DEVICE_ACTIVATIONS[activation]
    if sp.issparse(X):
        X = X.tocsr()
    out = np.empty((X.shape[0], layers[-1][0].shape[1]), dtype=np.float64)
    step = max(1, CHUNK_VALUES // max(X.shape[1], *(W.shape[1] for W, _ in layers), 1))
    with torch.inference_mode():
        for start in range(0, X.shape[0], step):
            chunk = X[start : start + step]
            H = sparse_tensor(chunk, dtype, device) if sp.issparse(chunk) else as_tensor(chunk, dtype, device)
            H = _forward(H, weights, act)
            out[start : start + step] = H.to(dtype=torch.float64).cpu().numpy()
    return out


# ------------------------------------------------------------ from logits to outputs
# Each takes float64 logits as NumPy (computed on the host) or as a tensor (computed where
# a device tensor lives) and answers in the same kind: the NumPy formulas are the ones
# scikit-learn's LogisticRegression uses.


def score_dtype(X_dtype, layers, given=None):
    """The dtype of scores and probabilities for input of ``X_dtype``: scikit-learn's.

    ``LogisticRegression`` computes ``X @ coef_.T + intercept_`` in NumPy's common type of the
    input as given (its validation keeps float16, small integers and booleans) and the model:
    float32 where that is float32 (a float32 model and float32, float16, int8, int16, uint8 or
    bool ``X``), else float64. ``given``: the input's dtype before our validation cast it
    (:func:`given_dtype`; None: ``X_dtype``). ``MLPClassifier`` casts its input to float64 or
    float32 first: with hidden layers, float32 for float32 ``X`` and a float32 model only. Ours
    are computed in float64 and rounded to that dtype once, at the end; labels are read from the
    float64 logits.
    """
    # (a.dtype where it has one: a sparsified coef_ is a SciPy matrix, which np.asarray wraps as an object)
    model = [a.dtype if hasattr(a, "dtype") else np.asarray(a).dtype for layer in layers for a in layer]
    X_dtype = numpy_dtype(X_dtype)
    if len(layers) == 1 and given is not None:
        common = np.result_type(given, *model)
    else:
        common = np.result_type(X_dtype, *model) if X_dtype == np.float32 else np.dtype(np.float64)
    return np.dtype(np.float32) if common == np.float32 else np.dtype(np.float64)


def given_dtype(X):
    """The dtype scikit-learn's validation (``dtype="numeric"``) keeps for ``X``: an array's, a sparse matrix's or a
    tensor's own, a DataFrame's columns' common one; None where there is none to read (lists, extension dtypes,
    NumPy's missing bfloat16), which :func:`score_dtype` reads as the validated dtype."""
    dtype = getattr(X, "dtype", None)
    if isinstance(dtype, torch.dtype):
        try:
            dtype = numpy_dtype(dtype)
        except (TypeError, RuntimeError):  # bfloat16, float8: read as float32 (._data.host_array)
            dtype = None
    elif dtype is None and hasattr(X, "dtypes"):  # a DataFrame: its columns' common type, as check_array takes it
        try:
            dtype = np.result_type(*X.dtypes)
        except TypeError:
            dtype = None
    return dtype if isinstance(dtype, np.dtype) and dtype.kind in "biuf" else None


def as_dtype(result, dtype):
    """``result`` (NumPy, or a tensor where the input lives) in the NumPy ``dtype`` (float32 or float64)."""
    if isinstance(result, torch.Tensor):
        return result.to(torch.float32) if dtype == np.float32 else result
    return result.astype(dtype, copy=False)


def probabilities(logits, kind):
    """Probabilities from logits of a model of ``kind`` ("binary", "multinomial", "multilabel")."""
    if isinstance(logits, torch.Tensor):
        if kind == "binary":
            positive = torch.sigmoid(logits[:, 0])
            return torch.stack((1.0 - positive, positive), dim=1)
        return torch.softmax(logits, dim=1) if kind == "multinomial" else torch.sigmoid(logits)
    if kind == "binary":
        proba = np.empty((len(logits), 2))
        expit(logits[:, 0], out=proba[:, 1])
        np.subtract(1.0, proba[:, 1], out=proba[:, 0])
        return proba
    if kind == "multinomial":
        return softmax(logits, axis=1)
    return expit(logits)


def log_probabilities(logits, kind):
    """Logarithm of :func:`probabilities`, computed stably from the logits."""
    if isinstance(logits, torch.Tensor):
        if kind == "binary":  # log sigmoid of -z and z: log_softmax of [0, inf] read inf - inf, NaN
            z = logits[:, 0]
            return torch.stack((torch.nn.functional.logsigmoid(-z), torch.nn.functional.logsigmoid(z)), dim=1)
        if kind == "multinomial":
            return torch.log_softmax(logits, dim=1)
        return torch.nn.functional.logsigmoid(logits)
    if kind == "binary":  # [0, -inf] where the logit overflowed to +inf, as LogisticRegression gives
        return np.column_stack([log_expit(-logits[:, 0]), log_expit(logits[:, 0])])
    if kind == "multinomial":
        return log_softmax(logits, axis=1)
    return log_expit(logits)


def class_labels(logits, kind, classes):
    """The most probable class of each row (a tensor where ``logits`` is one, unless the labels are strings)."""
    index = logits[:, 0] > 0 if kind == "binary" else logits.argmax(1)
    if not isinstance(logits, torch.Tensor):
        return classes[index.astype(int)]
    if classes.dtype.kind not in "biuf" or not torch_takes(classes.dtype):
        # strings, or numbers torch has no dtype for (longdouble; uint32 before torch 2.3): NumPy labels
        return classes[index.long().cpu().numpy()]
    if logits.device.type == "mps" and classes.dtype == np.float64:  # no float64 there: float32, as wrap() gives
        classes = classes.astype(np.float32)
    return torch.as_tensor(classes, device=logits.device)[index.long()]


def indicator_labels(logits, thresholds, dtype):
    """The 0/1 label matrix: ``logits > logit(thresholds)`` (no rounding of probabilities near 0 or 1)."""
    cut = logit(thresholds)
    if not isinstance(logits, torch.Tensor):
        return (logits > cut).astype(dtype)
    cut = torch.as_tensor(cut, dtype=logits.dtype, device=logits.device)
    if not torch_takes(np.dtype(dtype)):  # as class_labels: NumPy labels torch has no dtype for
        return (logits > cut).cpu().numpy().astype(dtype)
    if logits.device.type == "mps" and np.dtype(dtype) == np.float64:
        dtype = np.float32
    return (logits > cut).to(torch.from_numpy(np.zeros(0, dtype=dtype)).dtype)
