"""The few array kernels whose fastest implementation depends on the device.

On a CPU, torch's matrix products go to its bundled BLAS (MKL) and its dtype casts to
its own kernels. On this project's reference machine (AMD EPYC, 2 cores) MKL's
matrix-vector product runs at half the speed of NumPy's OpenBLAS (300k x 100 float32:
8.4 ms against 4.2 ms) and torch's float64 -> float32 cast at a sixth of NumPy's
(106 ms against 16 ms). Both libraries share memory with torch tensors on the CPU
(``Tensor.numpy()`` and ``torch.from_numpy`` copy nothing), so on the CPU these
kernels run in NumPy; on any other device they are torch's. Measured by
``benchmarks/run.py``.
"""

import numpy as np
import torch

# Rows per chunk when converting or gathering, so that a chunk stays in cache.
CHUNK_VALUES = 1 << 20


def matmul(A, B):
    """``A @ B`` for 2-D tensors, through NumPy's BLAS on the CPU; no autograd."""
    if A.device.type == "cpu" and B.device.type == "cpu" and A.dtype == B.dtype:
        return torch.from_numpy(np.matmul(A.detach().numpy(), B.detach().numpy()))
    return A.detach() @ B.detach()


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
    """``X[rows]`` as a tensor of ``dtype`` on ``device``: the one copy of the training data."""
    return torch.from_numpy(host_copy(X, rows, dtype)).to(device)
