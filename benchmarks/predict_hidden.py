"""Cost of batch-independent hidden-layer predictions (term-by-term products) against BLAS products.

Run: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/predict_hidden.py
"""

import time

import numpy as np

from torchlogit._predict import host_logits


def blas_logits(X, layers):
    H = X
    for i, (W, b) in enumerate(layers):
        H = H @ W + b
        if i < len(layers) - 1:
            H = np.maximum(H, 0)
    return H


if __name__ == "__main__":
    rng = np.random.RandomState(0)
    for n, d, widths in [(10_000, 20, (16,)), (10_000, 100, (100,)), (2_000, 784, (100, 50))]:
        sizes = [d, *widths, 5]
        layers = [(rng.randn(a, b), rng.randn(b)) for a, b in zip(sizes, sizes[1:], strict=False)]
        X = rng.randn(n, d)
        best = {"term by term": np.inf, "BLAS": np.inf}
        for _ in range(3):  # alternating, best of 3
            for name, f in (
                ("term by term", lambda X=X, layers=layers: host_logits(X, layers, "relu")),
                ("BLAS", lambda X=X, layers=layers: blas_logits(X, layers)),
            ):
                t = time.perf_counter()
                f()
                best[name] = min(best[name], time.perf_counter() - t)
        ratio = best["term by term"] / best["BLAS"]
        print(
            f"{n} x {d}, hidden {widths}: term by term {best['term by term'] * 1e3:.1f} ms, "
            f"BLAS {best['BLAS'] * 1e3:.1f} ms ({ratio:.0f}x)"
        )
