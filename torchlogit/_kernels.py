"""Moving training data to the device, and the products that must also handle sparse X.

The one copy of the training data is made with NumPy: on this project's reference
machine (AMD EPYC, 2 cores) torch's float64 -> float32 cast runs at a sixth of
NumPy's speed (300k x 100: 106 ms against 16 ms), and NumPy gathers the canonical row
order in the same pass. Sparse data stays sparse (COO tensors). The training products
themselves stay in torch: calling NumPy's BLAS between torch operations made the two
libraries' thread pools contend and doubled a fit's time (measured, benchmarks/run.py).
"""

import contextlib
import warnings

import numpy as np
import scipy.sparse as sp
import torch

# Sparse formats taken as they are (others are converted to CSR by validate_data).
ACCEPT_SPARSE = ["csr", "csc", "coo"]
# Rows per chunk when converting, gathering or predicting: about this many values, so a chunk stays in cache.
CHUNK_VALUES = 1 << 20


def as_tensor(X, dtype, device):
    """A tensor view of ``X`` when it already has the right dtype and device, else one copy."""
    with warnings.catch_warnings():
        # Read-only arrays (memmaps) are fine: torchlogit never writes to its input.
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        tensor = torch.from_numpy(np.asarray(X))
    return tensor.to(device=device, dtype=dtype)


def _numpy_dtype(dtype):
    return torch.empty(0, dtype=dtype).numpy().dtype


def host_copy(X, rows, dtype):
    """``X[rows]`` as a new C-contiguous NumPy array of torch ``dtype``, gathered and cast chunk by chunk."""
    out = np.empty((len(rows), *X.shape[1:]), dtype=_numpy_dtype(dtype))
    step = max(1, CHUNK_VALUES // max(int(np.prod(X.shape[1:])), 1))
    for start in range(0, len(rows), step):
        out[start : start + step] = np.take(X, rows[start : start + step], axis=0)
    return out


def to_device(X, rows, dtype, device):
    """Dense ``X[rows]`` as a tensor of ``dtype`` on ``device``: the one copy of the training data."""
    return torch.from_numpy(host_copy(X, rows, dtype)).to(device)


@contextlib.contextmanager
def unchecked_sparse_invariants():
    """Build or convert sparse tensors from valid data: torch's invariant checks explicitly off, its beta notice off.

    ``check_invariants=False`` alone is not enough: torch 2.11 and later then warn once per process
    ("Sparse invariant checks are implicitly disabled") unless the global setting is given too.
    torch labels its CSR/CSC layouts "beta" on construction; the operations used here
    (products, transpose, row pointers) are covered by this project's tests.
    """
    with warnings.catch_warnings(), torch.sparse.check_sparse_tensor_invariants(enable=False):
        warnings.filterwarnings("ignore", message="Sparse CS[RC] tensor support is in beta")
        yield


def sparse_tensor(X, dtype, device):
    """A scipy sparse matrix as a torch CSR tensor, never densified.

    CSR rather than COO: torch's COO products are ~30x slower on the CPU (20k x 50k at
    0.1%: 24 ms against 0.7 ms).
    """
    X = sp.csr_matrix(X)
    X.sum_duplicates()
    with unchecked_sparse_invariants():
        tensor = torch.sparse_csr_tensor(
            torch.from_numpy(X.indptr.astype(np.int64)),
            torch.from_numpy(X.indices.astype(np.int64)),
            torch.from_numpy(X.data.astype(_numpy_dtype(dtype))),
            X.shape,
            check_invariants=False,  # scipy's canonical CSR is valid by construction
        )
    return tensor.to(device)


def transposed_product(X, R):
    """``X.T @ R`` for a dense or sparse (CSR) ``X`` and a dense ``R``.

    The CSR transpose is built once per tensor and kept on it: a full batch is the
    same tensor every L-BFGS iteration.
    """
    if X.layout != torch.sparse_csr:
        return X.T @ R
    transpose = getattr(X, "_torchlogit_transpose", None)
    if transpose is None:
        with unchecked_sparse_invariants():
            transpose = X.t().to_sparse_csr()
        X._torchlogit_transpose = transpose
    return transpose @ R
