"""The sparse products the training loop needs, measured one against another (see torchlogit/_kernels.py).

CSR 200k x 5000 at 1% (10M non-zeros) by default, float32, one thread unless
``--threads``; best of 5 per product, printed in milliseconds::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/sparse_kernels.py
"""

import argparse
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
import torch


def best_ms(fn, repeat=5):
    fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--cols", type=int, default=5_000)
    parser.add_argument("--density", type=float, default=0.01)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    n, d, K = args.rows, args.cols, args.classes
    per_row = max(1, round(args.density * d))
    X = sp.csr_matrix(
        (
            rng.random(n * per_row, dtype=np.float32),
            rng.integers(0, d, n * per_row).astype(np.int32),
            np.arange(0, n * per_row + 1, per_row),
        ),
        shape=(n, d),
    )
    X.sum_duplicates()
    T = torch.from_numpy
    csr64 = torch.sparse_csr_tensor(T(X.indptr.astype(np.int64)), T(X.indices.astype(np.int64)), T(X.data), X.shape)
    csr32 = torch.sparse_csr_tensor(T(X.indptr.astype(np.int32)), T(X.indices), T(X.data), X.shape)
    w, r = rng.standard_normal((d, 1), dtype=np.float32), rng.standard_normal((n, 1), dtype=np.float32)
    WK, RK = rng.standard_normal((d, K), dtype=np.float32), rng.standard_normal((n, K), dtype=np.float32)
    start = time.perf_counter()
    transpose64 = csr64.t().to_sparse_csr()
    print(f"torch X.t().to_sparse_csr() (per fit): {(time.perf_counter() - start) * 1e3:.0f} ms")
    start = time.perf_counter()
    csc = X.tocsc()
    print(f"scipy X.tocsc() (per fit): {(time.perf_counter() - start) * 1e3:.0f} ms")
    transpose32 = torch.sparse_csr_tensor(T(csc.indptr.astype(np.int32)), T(csc.indices), T(csc.data), (d, n))
    rows = {
        "torch CSR X @ w, int64 indices": lambda: csr64 @ T(w),
        "torch CSR X @ w, int32 indices": lambda: csr32 @ T(w),
        "scipy CSR X @ w": lambda: X @ w,
        "torch transpose CSR @ r, int64": lambda: transpose64 @ T(r),
        "torch transpose CSR @ r, int32": lambda: transpose32 @ T(r),
        "scipy csr.T @ r (no copy)": lambda: X.T @ r,
        "scipy CSC copy .T @ r": lambda: csc.T @ r,
        f"torch CSR X @ W, int32, {K} classes": lambda: csr32 @ T(WK),
        f"scipy CSR X @ W, {K} classes": lambda: X @ WK,
        f"torch transpose CSR @ R, int32, {K} classes": lambda: transpose32 @ T(RK),
        f"scipy csr.T @ R, {K} classes": lambda: X.T @ RK,
    }
    if args.threads > 1:
        pool = ThreadPoolExecutor(args.threads)
        bounds = np.linspace(0, n, args.threads + 1).astype(int)
        chunks = [(X[a:b], a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        rows[f"{args.threads} threads, row chunks, scipy X @ w"] = lambda: np.concatenate(
            list(pool.map(lambda c: c[0] @ w, chunks))
        )
        rows[f"{args.threads} threads, row chunks, scipy X.T @ r"] = lambda: sum(
            pool.map(lambda c: c[0].T @ r[c[1] : c[2]], chunks)
        )
    for name, fn in rows.items():
        print(f"{name}: {best_ms(fn):.1f} ms")


if __name__ == "__main__":
    main()
