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

* A CPU tensor becomes a NumPy view of its memory: no copy (a sparse tensor's index
  and value arrays are shared likewise). Fitting from a CPU tensor therefore does
  exactly what fitting from the same NumPy array does.
* A tensor on another device (CUDA, MPS) is copied to the host once, then to the
  training device once. Its preparation runs on the host: data preparation in torch
  on the device is not implemented yet.
* ``requires_grad`` tensors are read detached (the fit does not differentiate through
  its input); float16 / bfloat16 values are read as float32 (NumPy has no bfloat16).

:class:`Origin` remembers what came in; results go back the same way: a tensor in gives
a tensor out on the same device (probabilities and logits in float64, as the NumPy
path returns them; float32 on MPS, which has no float64), anything else NumPy out.
Labels that are not numbers (strings) come back as NumPy arrays whatever the input.
In array-API mode the fitted array attributes (``coef_``, ``intercept_``, ``n_iter_``)
follow ``X`` as scikit-learn's own estimators' do; outside it they stay NumPy.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from sklearn import get_config

# Sparse layouts read without densifying (others, e.g. BSR, are converted to CSR first).
_SPARSE_LAYOUTS = (torch.sparse_csr, torch.sparse_csc, torch.sparse_coo)
# Floating dtypes NumPy cannot hold (or sklearn does not take): read as float32.
_NARROW_FLOATS = (torch.float16, torch.bfloat16)


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
        """A NumPy ``result`` as an array of this origin (NumPy for labels that are not numbers)."""
        if self.xp is None or not isinstance(result, np.ndarray) or result.dtype.kind not in "biuf":
            return result
        if self.xp is torch:
            tensor = torch.from_numpy(np.ascontiguousarray(result))
            if self.device.type == "mps" and tensor.dtype == torch.float64:
                tensor = tensor.to(torch.float32)  # MPS has no float64
            return tensor.to(self.device)
        from sklearn.utils._array_api import move_to

        return move_to(result, xp=self.xp, device=self.device)


NUMPY = Origin()


def _array_api_mode():
    return get_config()["array_api_dispatch"]


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


def _sparse_tensor_to_scipy(X):
    """A 2-D sparse torch tensor as a SciPy sparse matrix of the same layout (CPU: sharing its arrays)."""
    if X.ndim != 2 or X.dense_dim() != 0:
        raise ValueError(
            f"A sparse tensor X must be 2-D with scalar values (CSR, CSC or COO); got shape {tuple(X.shape)} "
            f"with {X.dense_dim()} dense dimension(s)."
        )
    if X.layout not in _SPARSE_LAYOUTS:
        X = X.to_sparse_csr()
    X = X.detach().cpu()
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
    if X.dtype in _NARROW_FLOATS:
        X = X.to(torch.float32)
    X = X.resolve_conj().resolve_neg()
    return X.cpu().numpy()


def host_array(X):
    """``X`` as NumPy / SciPy when it is a torch tensor or (in array-API mode) another array-API array; else ``X``."""
    if isinstance(X, torch.Tensor):
        return _sparse_tensor_to_scipy(X) if X.layout != torch.strided else _host(X)
    if X is None or isinstance(X, np.ndarray) or sp.issparse(X) or not hasattr(X, "__array_namespace__"):
        return X
    if _array_api_mode():
        from sklearn.utils._array_api import move_to

        return move_to(X, xp=np, device="cpu")
    return X


def host_inputs(*arrays):
    """:func:`host_array` of each argument (None passes through)."""
    return tuple(host_array(a) for a in arrays)


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


def check_origin(estimator, X, method):
    """scikit-learn's array-API rule: in array-API mode, ``X`` must come as the arrays ``fit`` was given."""
    if _array_api_mode():
        from sklearn.utils._array_api import check_same_namespace

        check_same_namespace(X, estimator, attribute="n_iter_", method=method)
