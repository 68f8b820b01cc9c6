"""The data layer's edges: what the caller passed in, and results handed back in the caller's array type.

Every entry point (``fit``, ``partial_fit``, ``predict*``, ``decision_function``,
``score``, ``summary``) passes its arrays through :func:`host_inputs` before any
validation: torch tensors (dense, or sparse CSR / CSC / COO, on any device) and, in
scikit-learn's array-API mode (``sklearn.config_context(array_api_dispatch=True)``),
any array-API array become NumPy arrays or SciPy sparse matrices. From there the
validation (scikit-learn's ``validate_data``, so the error messages are the NumPy
ones), label encoding, canonical rows and the one copy to the training device are the
NumPy path's, so every guarantee of that path (bitwise row-order invariance, weights
equal to repeated rows, a failed fit leaving the fitted model intact) holds for tensors
by construction.

* ``fit`` and ``partial_fit`` take their data through :class:`._training_set.TrainingSet`
  (validation, labels, canonical rows, the hold-out, the copy), built from this module's
  pieces and :mod:`._tensor_data`'s.
* ``fit`` and ``partial_fit`` prepare a dense float32 / float64 tensor, NumPy array or DataFrame in
  torch where it lives (a NumPy array bound for CUDA after one copy there;
  :mod:`._tensor_data`); this module's host path is what everything else takes (sparse
  input, DataFrames of mixed or pandas dtypes, string labels, MPS) and what words the errors. The two paths give
  bitwise the same fit.
* On the host path a CPU tensor becomes a NumPy view of its memory: no copy (a sparse
  tensor's index and value arrays are shared likewise).
* A tensor on another device that takes the host path is copied to the host once,
  then to the training device once.
* ``requires_grad`` tensors are read detached (the fit does not differentiate through
  its input); bfloat16 values are read as float32 (NumPy has no bfloat16), float16 as NumPy
  float16 (which validation promotes to float64, as scikit-learn does).

:class:`Origin` remembers what came in; results go back the same way: a tensor in gives
a tensor out on the same device (probabilities and logits in float64, as the NumPy
path returns them; float32 on MPS, which has no float64), anything else NumPy out.
Labels that are not numbers (strings) come back as NumPy arrays whatever the input.
A tensor off the host (CUDA, MPS) is predicted where it lives: checked in torch
(:func:`checked_tensor`, scikit-learn's messages) and multiplied there in chunks
(:func:`torchlogit._predict.tensor_logits`), with no copy to the host.

Memory: a fit adds one copy of X in the training dtype, gathered in the canonical row
order (:func:`training_batch`), even when X already is a contiguous array of that dtype
(NumPy bound for CUDA: the transferred X as well, on the device):
the row-order guarantee (bitwise the same fit for any order of the rows) needs the rows
in one fixed order, and BLAS sums a row differently depending on where it sits. Measured
(``benchmarks/data_prep.py``, 300k x 100 float64 X, 240 MB): RSS added 240 MB for a
float64 fit; 243 MB for a float32 fit, whose float32 copy (120 MB) is freed before the
float64 copy of a stalled run's float64 continuation; scikit-learn adds 0.1 MB.
In array-API mode the fitted array attributes (``coef_``, ``intercept_``, ``n_iter_``)
follow ``X`` as scikit-learn's own estimators' do; outside it they stay NumPy.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from sklearn import get_config
from sklearn.utils import assert_all_finite, check_array
from sklearn.utils.validation import _check_feature_names, _check_n_features

from ._compat import ARRAY_API_DISPATCH_AVAILABLE, _check_sample_weight, refuse_non_finite
from ._devices import as_float64, refuse_unreadable
from ._kernels import as_tensor, sparse_rows, sparse_tensor, tensor_max_abs, to_device, torch_takes, transposable_csc
from ._net import TensorData
from ._rows import canonical_rows
from ._tensor_data import canonical_tensor_rows, gathered_rows

# Sparse layouts read without densifying. The blocked ones (BSR, BSC) are converted to COO first: torch
# converts them to nothing else (to_sparse_csr refuses BSR).
_SPARSE_LAYOUTS = (torch.sparse_csr, torch.sparse_csc, torch.sparse_coo)
_BLOCKED_LAYOUTS = (torch.sparse_bsr, torch.sparse_bsc)
# Floating dtypes NumPy cannot hold: read as float32. (float16 is read as it is: the same array as NumPy's
# float16, which validation then promotes to float64, as scikit-learn does.)
_NARROW_FLOATS = (torch.bfloat16,)


@dataclass(frozen=True)
class Origin:
    """The array type and device of the caller's ``X``: where results go back.

    ``xp`` is None for NumPy-like input (NumPy, pandas, lists, SciPy sparse): results are
    NumPy. Otherwise ``xp`` is ``torch`` (tensors, in or out of array-API mode) or the
    array-API namespace of the input, and ``device`` its device.
    """

    xp: object = None
    device: object = None

    @property
    def is_numpy(self):
        return self.xp is None

    def wrap(self, result):
        """A NumPy ``result`` as an array of this origin (NumPy for labels that are not numbers, or whose dtype
        torch lacks: longdouble, and uint16/32/64 before torch 2.3)."""
        if self.xp is None or not isinstance(result, np.ndarray) or result.dtype.kind not in "biuf":
            return result
        if self.xp is torch:
            if not torch_takes(result.dtype):
                return result
            tensor = torch.from_numpy(np.ascontiguousarray(result))
            if self.device.type == "mps" and tensor.dtype == torch.float64:
                tensor = tensor.to(torch.float32)  # MPS has no float64
            return tensor.to(self.device)
        from sklearn.utils._array_api import move_to

        return move_to(result, xp=self.xp, device=self.device)


NUMPY = Origin()


def _array_api_mode():
    # Off where scikit-learn lacks what this layer uses (see _compat.ARRAY_API_DISPATCH_AVAILABLE).
    return ARRAY_API_DISPATCH_AVAILABLE and get_config()["array_api_dispatch"]


def origin_of(X):
    """The :class:`Origin` of ``X``: torch for tensors, the array-API namespace in array-API mode, else NumPy."""
    if isinstance(X, torch.Tensor):
        return Origin(torch, X.device)
    if _array_api_mode() and not sp.issparse(X) and hasattr(X, "__array_namespace__"):
        from sklearn.utils._array_api import _is_numpy_namespace, get_namespace_and_device

        xp, _, device = get_namespace_and_device(X)
        if not _is_numpy_namespace(xp):
            return Origin(xp, device)
    return NUMPY


def _sparse_tensor_to_scipy(X, name=None):
    """A 2-D sparse torch tensor as a SciPy sparse matrix of the same layout (CPU: sharing its arrays).

    ``name``: the argument ``X`` is when it is not ``X`` ("y", "sample_weight", "classes"): a 1-D sparse one is
    refused in scikit-learn's words, which name it.
    """
    if X.ndim == 1 and name is not None:  # labels or weights: scikit-learn's words for sparse ones
        raise TypeError(
            f"Sparse data was passed for {name}, but dense data is required. "
            "Use '.to_dense()' to convert it to a dense tensor."
        )
    if X.ndim == 1:  # scikit-learn's words for a 1-D sparse X
        raise ValueError(
            f"Expected 2D input, got input with shape {tuple(X.shape)}.\nReshape your data either using "
            "array.reshape(-1, 1) if your data has a single feature or array.reshape(1, -1) if it contains a "
            "single sample."
        )
    if X.ndim != 2 or X.dense_dim() != 0:
        raise ValueError(
            f"A sparse tensor X must be 2-D with scalar values (CSR, CSC or COO); got shape {tuple(X.shape)} "
            f"with {X.dense_dim()} dense dimension(s)."
        )
    if X.layout in _BLOCKED_LAYOUTS:
        X = X.to_sparse_coo()
    X = X.detach().cpu()
    if X.dtype == torch.float16:  # SciPy cannot hold float16; validation promotes it to float64, as dense float16
        X = X.to(torch.float64)
    shape = tuple(X.shape)
    if X.layout == torch.sparse_coo:
        X = X.coalesce()
        rows, cols = _host(X.indices())
        return sp.coo_matrix((_host(X.values()), (rows, cols)), shape=shape)
    if X.layout == torch.sparse_csr:
        return sp.csr_matrix((_host(X.values()), _host(X.col_indices()), _host(X.crow_indices())), shape=shape)
    return sp.csc_matrix((_host(X.values()), _host(X.row_indices()), _host(X.ccol_indices())), shape=shape)


def _host(X):
    """A dense tensor as a NumPy array: a view of a CPU tensor's memory, one copy from another device."""
    X = X.detach()
    # NumPy has no quantized type (torch raised "Got unsupported ScalarType QInt8"): the real values it encodes.
    if X.is_quantized:
        X = X.dequantize()
    if X.dtype in _NARROW_FLOATS or (X.dtype.is_floating_point and X.dtype.itemsize == 1):  # bfloat16, float8: exact
        X = X.to(torch.float32)
    elif X.dtype == torch.complex32:  # NumPy lacks it: complex64, refused in scikit-learn's words as complex data
        X = X.to(torch.complex64)
    X = X.resolve_conj().resolve_neg()
    return X.cpu().numpy()


def host_array(X, name=None):
    """``X`` as NumPy / SciPy when it is a torch tensor or (in array-API mode) another array-API array; else ``X``.

    ``name``: the argument ``X`` is when it is not ``X`` ("y", "sample_weight", "classes"), for the words of a
    refusal.
    """
    if isinstance(X, torch.Tensor):
        refuse_unreadable(X)
        return _sparse_tensor_to_scipy(X, name) if X.layout != torch.strided else _host(X)
    if X is None or isinstance(X, np.ndarray) or sp.issparse(X) or not hasattr(X, "__array_namespace__"):
        return X
    if _array_api_mode():
        from sklearn.utils._array_api import move_to

        return move_to(X, xp=np, device="cpu")
    return X


def on_device(X):
    """True for a tensor off the host (CUDA, MPS): it is predicted where it lives, never copied to the host."""
    return isinstance(X, torch.Tensor) and X.device.type != "cpu"


def checked_tensor(estimator, X):
    """A tensor ``X`` checked as ``validate_data(reset=False)`` checks NumPy input, in torch where it lives.

    The same messages as scikit-learn's; only scalars (is it finite? any NaN?) reach the host.
    """
    refuse_unreadable(X)
    if X.layout != torch.strided:
        if X.ndim != 2 or X.dense_dim() != 0:
            raise ValueError(f"A sparse tensor X must be 2-D with scalar values; got shape {tuple(X.shape)}.")
        if X.layout in _BLOCKED_LAYOUTS:
            X = X.to_sparse_coo()
        elif X.layout not in (torch.sparse_csr, torch.sparse_coo):
            X = X.to_sparse_csr()
    elif X.ndim > 2:
        check_array(np.empty((1,) * X.ndim), allow_nd=False, estimator=estimator)  # scikit-learn's refusal
    elif X.ndim != 2:
        raise ValueError(
            f"Expected 2D array, got {X.ndim}D array instead. Reshape your data either using "
            "array.reshape(-1, 1) if your data has a single feature or array.reshape(1, -1) if it "
            "contains a single sample."
        )
    if X.is_complex():
        raise ValueError("Complex data not supported")
    # validate_data's order: feature names, then check_array (values, then sizes), then the feature count.
    _check_feature_names(estimator, X, reset=False)
    values = X.detach()
    values = values.coalesce().values() if values.layout == torch.sparse_coo else values
    values = values.values() if values.layout == torch.sparse_csr else values
    if values.is_floating_point() and not bool(torch.isfinite(values).all()):
        # The host path validates float32 (and bfloat16, read as float32) as float32, the rest as float64.
        dtype = np.float32 if X.dtype in (torch.float32, torch.bfloat16) else np.float64
        bad = np.nan if bool(torch.isnan(values).any()) else np.inf
        assert_all_finite(np.array([bad], dtype=dtype), input_name="X", estimator_name=type(estimator).__name__)
    if X.shape[0] == 0 or X.shape[1] == 0:  # scikit-learn's refusal of empty data, in its words
        check_array(np.empty(tuple(X.shape)), estimator=estimator)
    _check_n_features(estimator, X, reset=False)
    return X.detach()


def host_inputs(X, y, sample_weight):
    """:func:`host_array` of ``X``, ``y`` and ``sample_weight`` (None passes through)."""
    return host_array(X), host_array(y, name="y"), host_array(sample_weight, name="sample_weight")


def follow_origin(estimator, origin, names=("coef_", "intercept_", "n_iter_")):
    """In array-API mode, move the fitted array attributes ``names`` to ``origin`` (scikit-learn's convention).

    Outside array-API mode, or for NumPy input, the fitted attributes stay NumPy.
    """
    if origin.is_numpy or not _array_api_mode():
        return
    for name in names:
        value = vars(estimator).get(name)
        if isinstance(value, np.ndarray):
            setattr(estimator, name, origin.wrap(value))


def follow_labels(estimator, y):
    """In array-API mode, ``classes_`` in the namespace and on the device of ``y``, as ``LogisticRegression`` sets
    it (``xp.unique_values(y)``): so that scikit-learn's tools that combine it with predictions
    (``cross_val_predict``, ``StackingClassifier``, ``log_loss(labels=classes_)``) see one namespace. Labels that
    are not numbers stay NumPy. Internal readers use :func:`host_classes`."""
    follow_origin(estimator, origin_of(y), names=("classes_",))


def host_classes(estimator):
    """``estimator.classes_`` as NumPy (array-API mode may keep it as the caller's array), in or out of that mode."""
    classes = estimator.classes_
    if isinstance(classes, np.ndarray):
        return classes
    if isinstance(classes, torch.Tensor):
        return _host(classes)
    from sklearn.utils._array_api import move_to

    return move_to(classes, xp=np, device="cpu")


def classes_to_host(estimator):
    """Bring ``classes_`` back to NumPy before a fit reads it (warm start, ``partial_fit``'s class checks, class
    weights); the fit publishes it again in the namespace of its ``y``. ``keep_state_on_failure`` restores it."""
    if "classes_" in vars(estimator):
        estimator.classes_ = host_classes(estimator)


def check_origin(estimator, X, method):
    """scikit-learn's array-API rule: in array-API mode, ``X`` must come as the arrays ``fit`` was given.

    Read on ``n_iter_``, which every fit sets and :meth:`sparsify` leaves as it was (its ``coef_`` is SciPy's
    whatever the fit's arrays); a model assigned to an unfitted estimator has no ``n_iter_``, and is read on
    the arrays assigned (``intercept_``, else ``coef_``), as ``LogisticRegression`` reads ``coef_``.
    """
    if _array_api_mode():
        from sklearn.utils._array_api import check_same_namespace

        attribute = next((name for name in ("n_iter_", "intercept_") if name in vars(estimator)), "coef_")
        check_same_namespace(X, estimator, attribute=attribute, method=method)


# ------------------------------------------------------------------ training data
def check_sparse_indices(X):
    """``X`` (see :func:`_summed_entries`); a ValueError in the user's terms if a sparse ``X``'s index arrays point
    outside its shape.

    scipy checks them when a matrix is built, not when its arrays are edited afterwards
    (``X.indices[0] = 7`` on 5 columns): such a matrix reached torch's kernels, and raised
    torch's "index 7 is out of bounds" (L1) or "index out of range in self" (L2) there; indices
    far outside crashed the process in scipy's product. ``LogisticRegression`` fits it silently.
    Two passes over the indices (min, max), none over the values; the matrix is not changed
    (scipy's own ``check_format(full_check=True)`` trims its arrays in place).
    """
    if not sp.issparse(X):
        return X
    problem = None
    if X.format in ("csr", "csc"):
        name, bound = ("column", X.shape[1]) if X.format == "csr" else ("row", X.shape[0])
        major = X.shape[0] if X.format == "csr" else X.shape[1]
        stored = X.indptr[-1] if len(X.indptr) else 0
        indices = X.indices[:stored]
        # The layout first: scikit-learn's fit meets these by chance (a transpose inside its loss raises scipy's
        # words, or, for indptr past the arrays' end, reads out of bounds), ours did not (a short indptr raised
        # NumPy's IndexError; indptr[0] = 1 or values cut short fitted silently, rows shifted).
        if len(X.indptr) != major + 1:
            problem = f"its index pointers (indptr) have {len(X.indptr)} entries, not {major + 1}"
        elif X.indptr[0] != 0:
            problem = f"its index pointers (indptr) start at {X.indptr[0]}, not 0"
        elif len(X.data) < stored or len(X.indices) < stored:
            problem = f"its index and value arrays hold {len(X.indices)} and {len(X.data)} entries, not {stored}"
        elif np.any(np.diff(X.indptr) < 0):
            problem = "its index pointers (indptr) decrease"
        elif stored and (indices.min() < 0 or indices.max() >= bound):
            problem = f"{name} indices outside 0..{bound - 1} (from {indices.min()} to {indices.max()})"
    elif X.format == "coo":
        # (Arrays of other lengths are refused by scipy's nnz, in scikit-learn's validation, before this.)
        for name, indices, bound in (("row", X.row, X.shape[0]), ("column", X.col, X.shape[1])):
            if problem is None and len(indices) and (indices.min() < 0 or indices.max() >= bound):
                problem = f"{name} indices outside 0..{bound - 1} (from {indices.min()} to {indices.max()})"
    if problem is not None:
        raise ValueError(
            f"X is not a valid {X.format.upper()} matrix of shape {X.shape}: {problem}. Its index arrays were "
            "changed after it was built, or it was built unchecked: SciPy's X.check_format(full_check=True), or "
            "torch's check_invariants=True when building a sparse tensor, tells the same."
        )
    return _summed_entries(X)


def _summed_entries(X):
    """A COO matrix as CSR (row access), its duplicate entries summed in its dtype; any other ``X`` as it is.

    A ValueError in scikit-learn's words where a sum is not finite: scikit-learn's validation converts COO to CSR
    (summing the duplicates) before it checks the values. Checked as stored, a COO matrix holding 1e308 twice
    predicted ``[0, 1]`` silently and its fit failed on an overflow of the training copy. A torch COO tensor is
    coalesced before its check (:mod:`._tensor_data`): the two read the same sums. CSR and CSC matrices are read as
    stored, as scikit-learn reads them (a duplicate is found only by sorting each row: 0.4 s for 10M entries); a
    fit, whose training copy sums them, refuses such sums (:func:`raise_overflow`).
    """
    if not sp.issparse(X) or X.format != "coo":
        return X
    with np.errstate(over="ignore"):  # a sum past the range is refused just below, in words
        X = X.tocsr()
    assert_all_finite(X.data, input_name="X")
    return X


def fit_inputs(estimator, X, y, sample_weight, *, reset):
    """The validated training inputs of ``fit`` / ``partial_fit``: (X as NumPy or CSR, y, float64 sample weights).

    ``estimator._validate_fit_data`` is scikit-learn's ``validate_data`` with the
    estimator's rules for ``y``; its messages are the user's error messages.
    """
    X, y, sample_weight = host_inputs(X, y, sample_weight)
    X, y = estimator._validate_fit_data(X, y, reset=reset)
    if sp.issparse(X):
        X = check_sparse_indices(X)
        if not transposable_csc(X):
            # Row access for canonical rows and the device copy. A canonical CSC matrix is kept: its training copy
            # is transposed from it in one pass (._kernels.sparse_rows), with no CSR copy held through the fit.
            X = X.tocsr()
    sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
    return X, y, sample_weight


def training_rows(X, targets, sample_weight, max_abs=None):
    """(canonical row indices, their merged weights times the targets' per-row factor, how many given rows each
    merges): see :mod:`._rows`.

    The per-row factor (class weights) is applied after merging, so weight sums stay exact.
    ``max_abs`` is the largest absolute value of a tensor ``X`` when already known.
    """
    if isinstance(X, torch.Tensor):  # prepared in torch where it lives (see ._tensor_data)
        rows, weight, counts = canonical_tensor_rows(X, targets.target, sample_weight, max_abs, counts=True)
    else:
        rows, weight, counts = canonical_rows(X, targets.target, sample_weight, counts=True)
    if targets.row_factor is not None:
        weight = weight * targets.row_factor[rows]
    return rows, weight, counts


def training_batch(
    X, targets, picked, weight, dtype, device, batch_size, column_major=False, max_abs=None, linear=False, owner=None
):
    """Rows ``picked`` of the training data (with their merged weights) as tensors on the device.

    The one copy of the training data: gathered in canonical order and cast to the
    training dtype in one pass (dense: :func:`~._kernels.to_device`; sparse:
    :func:`~._kernels.sparse_rows`), then moved to ``device``. ``column_major``: a dense
    copy laid out by columns (:func:`~._kernels.column_major_copy`). ``max_abs``: the largest
    absolute value of the picked rows of a dense tensor ``X`` when known; the copy's is then that
    value in ``dtype`` (rounding is monotone, so the largest value of the cast copy is the cast of
    the largest), which saves a pass over the copy (1M x 100 float64: about 30 ms). ``linear``: a linear
    model trains on the batch (see :func:`_target_rows`). ``owner``: the estimator's class name, which scikit-learn's
    words for a NaN in X name (see :func:`raise_overflow`).
    """
    host = None
    if isinstance(X, torch.Tensor):
        with np.errstate(over="ignore"):
            features = gathered_rows(X, picked, dtype, device, column_major)
    elif sp.issparse(X):
        # The rows, gathered once in canonical order and in the training dtype; on the
        # CPU the tensor shares this copy's memory.
        with np.errstate(over="ignore"):  # a value beyond float32 becomes inf: refused just below, naming it
            selected = sparse_rows(X, picked, dtype)
        features = sparse_tensor(selected, dtype, device)
        if batch_size < len(picked):  # sparse mini-batches are cut from this host copy
            host = selected
    else:
        with np.errstate(over="ignore"):  # a value beyond float32 becomes inf: refused just below, naming it
            features = to_device(X, picked, dtype, device, column_major)
    if max_abs is not None:
        # inf where the cast overflows, as in the copy
        max_abs = float(torch.tensor(max_abs, dtype=dtype, device="cpu"))
    else:
        max_abs = tensor_max_abs(features)
    if not np.isfinite(max_abs):
        raise_overflow(X, dtype, owner)
    if max_abs < torch.finfo(dtype).tiny:
        _check_underflow(X, picked, dtype, max_abs)
    target_dtype = torch.int64 if targets.kind == "multinomial" else dtype
    # A dense linear model's objective reads several labels by label (._objective.linear_objective_and_gradient):
    # laid out so on a full batch, its every evaluation no longer copies the label matrix to that layout.
    by_label = (
        linear
        and targets.kind == "multilabel"
        and targets.n_outputs > 1
        and features.layout == torch.strided
        and batch_size >= len(picked)
    )
    return TensorData(
        features,
        _target_rows(targets.target, picked, target_dtype, device, by_label),
        as_tensor(weight, dtype, device),
        host=host,
        max_abs=max_abs,
    )


def _target_rows(target, picked, dtype, device, by_label):
    """The targets' rows ``picked`` as a tensor of ``dtype`` on ``device``.

    A label matrix is gathered and cast chunk by chunk, as ``X`` is (its float64 rows were first copied whole: 320
    MB for 20k rows of 2000 labels), laid out label by label (a transposed view of an ``(n_labels, n_rows)``
    tensor) with ``by_label``. The values are the labels' 0 and 1, exact in any dtype: the same bits either way.
    """
    if np.ndim(target) != 2:
        return as_tensor(target[picked], dtype, device)
    if isinstance(target, torch.Tensor):
        rows = torch.as_tensor(picked, device=target.device)  # (a device named: the user's default may be another)
        return gathered_rows(target, rows, dtype, device, column_major=by_label)
    rows = picked.cpu().numpy() if isinstance(picked, torch.Tensor) else picked
    return to_device(target, rows, dtype, device, column_major=by_label)


def effective_rows(weight):
    """Kish's effective number of rows of training weights, ``(sum w)^2 / sum w^2`` (the count for equal weights)."""
    w = as_float64(weight if isinstance(weight, torch.Tensor) else torch.as_tensor(weight, device="cpu"))
    return kish_rows(float(torch.sum(w)), float(torch.sum(w * w)))


def kish_rows(total, square_sum):
    """:func:`effective_rows` from the weights' sum and sum of squares (a dask fit's, summed over its blocks)."""
    return total * total / square_sum if square_sum > 0 else 0.0


def weight_total(weight):
    """The sum of the training weights (a float), in NumPy's order where the weights are on the host.

    NumPy's pairwise sum for arrays and CPU tensors (a view: no copy), so that a fit from
    a CPU tensor is bitwise the fit from the same NumPy array; torch's sum on a device,
    with no copy to the host. Either is the same for any order of the rows: the weights
    are in canonical order.
    """
    if isinstance(weight, torch.Tensor):
        if weight.device.type != "cpu":
            return float(weight.sum())
        weight = weight.numpy()
    with np.errstate(over="ignore"):  # a sum beyond float64 is inf, which the callers refuse in words
        return float(np.sum(weight))


def _check_underflow(X, picked, dtype, max_abs):
    """Refuse training rows (``picked`` of ``X``) whose every value lies below ``dtype``'s normal range, though some
    are not zero.

    In float32, values below 1.2e-38 are subnormal (their squares, the preconditioner's scales, are
    zero: the fit failed with a message about large values) or, below 1.4e-45, zero: the model
    then ignored every feature, silently. All-zero training rows are fine (the intercept-only model),
    whatever the other rows hold: rows of weight 0, or held out for early stopping, were read here too,
    and a value of 2 among them was called underflow.
    """
    values = host_array(X)[np.asarray(picked.cpu() if isinstance(picked, torch.Tensor) else picked)]
    values = values.data if sp.issparse(values) else np.asarray(values)
    largest = float(np.max(np.abs(values), initial=0.0))
    if largest > 0:
        raise underflow_error(largest, dtype, max_abs)


def underflow_error(largest, dtype, max_abs):
    """The refusal of training data whose largest absolute value ``largest`` (``max_abs`` in ``dtype``) lies below
    ``dtype``'s normal range (see :func:`_check_underflow`; a dask fit's blocks together, :mod:`._dask`). Advice
    to train in float64 only where the dtype is not float64 already (subnormal float64 data were told so)."""
    name = str(dtype).removeprefix("torch.")
    advice = "Rescale X." if dtype == torch.float64 else "Use dtype='float64' or rescale X."
    return ValueError(
        f"Every value of X is at most {largest:g} in absolute value, below the normal range of dtype={name!r} "
        f"(smallest {float(torch.finfo(dtype).tiny):.4g}; {abs(max_abs):g} after the cast): the features would be "
        f"lost to underflow. {advice}"
    )


def raise_overflow(X, dtype, owner=None):
    """The input was finite (validated), so an infinite training value is an overflow of ``dtype``: name the column.

    Under ``config_context(assume_finite=True)`` the validation let NaN and infinity through: those are refused in
    scikit-learn's words ("Input X contains NaN."), which the advice to train in float64 did not fit."""
    limit = float(torch.finfo(dtype).max)
    if isinstance(X, torch.Tensor):
        X = X.cpu().numpy()  # an error path: the message reads the offending value on the host
    refuse_non_finite(X.data if sp.issparse(X) else X, "X", owner)
    if sp.issparse(X):
        coo = X.tocoo(copy=True)  # a copy: the user's matrix is not summed in place
        with np.errstate(over="ignore"):  # refused below, in words
            coo.sum_duplicates()  # duplicate entries add up in training (two of 2e38 make 4e38): read the sums
        # Duplicates that sum past X's own range (a CSR matrix holding 1e308 twice): scikit-learn's words for an
        # infinite value, not advice to train in float64.
        refuse_non_finite(coo.data, "X", owner)
        column = int(coo.col[np.argmax(np.abs(coo.data) > limit)])
        value = float(coo.data[np.argmax(np.abs(coo.data) > limit)])
    else:
        X = np.asarray(X)
        column = int(np.argmax(np.any(np.abs(X) > limit, axis=0)))
        value = float(X[np.argmax(np.abs(X[:, column]) > limit), column])
    name = str(dtype).removeprefix("torch.")
    raise ValueError(
        f"X holds {value:g} in column {column}, outside the range of dtype={name!r} (largest {limit:.4g}): "
        f"it would become infinite. Use dtype='float64' or rescale that feature."
    )
