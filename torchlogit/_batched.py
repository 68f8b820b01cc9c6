"""Many logistic regressions on the same rows, solved as one batch.

A cross-validated path is ``n_folds x n_l1_ratios x n_Cs`` problems that share ``X``
and differ in their rows (a fold's training rows), their penalty (``C``, ``l1_ratio``)
and their convergence. Here they are one optimisation over a stacked parameter tensor
``x`` of shape ``(n_problems, n_outputs * (n_features + fit_intercept))``, each row the
rows of ``[W, b]`` of one problem:

* **two products per evaluation**: the data are one design matrix ``D = [X, 1]``
  (:func:`design_matrix`, the one copy of ``X``; binary rows multiplied by ``1 - 2y``),
  the logits (margins) of every problem are ``D @ x.T`` and the gradients
  ``R.T @ D``: two matrix-matrix products over ``D`` instead of ``2 n_problems``
  matrix-vector products, the intercept a column of each. A problem's rows are a
  column of weights (``row_weight[:, group]``: the sample weights times the fold's
  training mask), never a copy of ``X``; its objective is :mod:`torchlogit._objective`'s
  with its own weight sum.
* **batched L-BFGS** (:func:`batched_lbfgs`): every problem keeps its own history of
  curvature pairs (one ring buffer for all, a rejected pair stored with ``rho = 0`` so
  that it drops out of the two-loop recursion), its own step length and line search,
  its own OWL-QN orthant handling when it has an L1 part, and its own stopping rule
  (scikit-learn's: ``max |projected gradient| <= tol`` or a relative decrease of the
  objective below ``ftol``). All of it is vectorised over problems: per-problem
  scalars are tensors of shape ``(n_problems,)``.
* **per-problem convergence**: a converged problem leaves the active set; each
  evaluation only computes the problems still searching (the active set, and within a
  line search the problems whose trial step was not accepted yet). The batch stops
  when no problem is active.
* The line search is a backtracking (Armijo) search from the unit step (the first
  iteration from ``min(1, 1 / ||g||)`` in the whitened coordinates: a move of at most unit
  length, where SciPy's L-BFGS-B and the single fit move exactly 1 / ||g|| times g, a unit
  length; below a unit gradient the path starts shorter than theirs), with quadratic
  interpolation (safeguarded to [0.1, 0.5] of the previous step); with L-BFGS's scaled
  directions the unit step is accepted in the vast majority of iterations, so an
  iteration costs one evaluation. OWL-QN problems use the projected backtracking of
  Andrew & Gao (2007), as :class:`torchlogit._solvers.LBFGS` does.

Measured (benchmarks/cv.py data, float32, CPU time of one thread, median of 15; the
2-core machine ran other jobs at a load of 3 to 20, so times are indicative):

=====================================================  =============================
one evaluation of 50 problems on 40k x 61 (binary)     24 ms (before: 50 to 75 ms)
``D @ x.T`` with ``x.T`` a view / a contiguous copy     10.0 ms / 6.3 ms (kept: copy)
``R.T @ D``                                            6.8 ms
softplus / -logsigmoid(-m) / max(m,0)+log1p(e^-|m|)    8.0 / 8.1 / 9.8 ms (kept: softplus)
sigmoid, in place                                      2.3 ms
column sums: float64 accumulation / float32 blocks     2.7 ms / 0.34 ms, relative error
of 64 rows then float64 / one float32 sum              0 / 5e-9 / 1e-7 (kept: blocks)
=====================================================  =============================

Before this layout an evaluation also computed BCE-with-logits and ``sigmoid(z) - y``
separately (three transcendental passes instead of two), summed the intercept
gradient in a separate reduction, gathered every problem's weight column at every
evaluation (now once per change of the active set) and accumulated in float64.
``-log(sigmoid(-m))`` would save the softplus but loses the loss's relative precision
for well-classified rows (``1 - tiny`` rounded), which the line search and the
``ftol`` rule need at large C: rejected.

Two orders are implemented (``TorchLogisticClassifierCV._order``, private):

* "batch": all folds x Cs from zero in one batch (the default);
* "path": Cs one after another, each a batch of the folds, warm-started from the
  previous C's solution (scikit-learn's path order).

Whole ``fit`` of TorchLogisticClassifierCV (5 folds x 10 Cs, defaults), CPU time of one
thread, best of 3, measured before the whitening:

==============================================  =====  =====  ========================
workload                                        batch  path   problem-evaluations
                                                              (evaluations) b / p
==============================================  =====  =====  ========================
40k x 60 binary, correlated (AR(1) 0.9)         1.52   1.29   1706 (58) / 512 (118)
40k x 60 binary, make_classification            0.42   0.62   547 (12) / 222 (46)
digits 1797 x 64, 10 classes                    0.50   0.54   1108 (52) / 639 (148)
==============================================  =====  =====  ========================

Warm starts cut the work per problem by 2 to 3.3x, but the path's batches hold 5
problems, whose products are memory-bound (each evaluation reads ``D`` twice for 5
columns): it wins only where iterations are many and rows are many. The batch order
stays the default: it wins on two of three workloads, and on a GPU, where an
evaluation's cost is mostly fixed, fewer evaluations are what counts.

Stages in between (Cs in groups of 2, 3 or 5, each group one batch warm-started from the
previous group's largest C) were measured on digits after the whitening (2026-12-04, one
thread, CPU time, best of 3 on a loaded machine): problem-iterations 848 (batch), 588 (2),
673 (3), 772 (5), 542 (path); evaluations 38, 89, 75, 64, 140; time 0.27-0.30, 0.36, 0.36-0.39,
0.34, 0.43 s. On digits an evaluation's fixed cost (the L-BFGS bookkeeping, a few dozen small
tensor operations) outweighs the saved arithmetic: the batch order stays.

* **whitening** (:class:`Whitening`): each L2 problem's L-BFGS runs in coordinates where
  the bound ``D^T D / (4 n) + l2 M`` on its Hessian is the identity (one Cholesky factor
  per problem, ``width x width``, for designs up to ``MAX_WHITENED_WIDTH`` columns, dense
  or sparse, holding at least 4 ``width^2`` values). With correlated features plain L-BFGS
  needs as many iterations as the condition number of ``D^T D`` asks; whitened, only the
  logistic weights' and the penalty's curvature is left. On the correlated workload below:
  1509 -> 295 problem-iterations, 58 -> 7 evaluations, CPU time of the whole ``fit`` 1.68 ->
  0.51 s; digits 1027 -> 848, 49 -> 38, 0.41 -> 0.36 s. L1 problems keep the identity
  (OWL-QN's orthant steps assume a diagonal metric). The single-problem solver
  (:class:`torchlogit._solvers.LBFGS`) does not whiten: its path stays L-BFGS-B's.

* **diagonal scaling** (:class:`DiagonalScaling`) of the designs that are not whitened (wide,
  or sparse with few values per column: text): each coefficient scaled by the diagonal of the
  same bound, ``(m_j / 4 + l2)^(-1/2)`` with ``m_j`` the column's mean square. On Zipf text
  the columns' frequencies, and so the curvature along their coefficients, span orders of
  magnitude (L1 problems too: see the class). Measured on ``benchmarks/cv.py``'s text workload
  (50k x 10k, about 18 values a row, binary, 5 folds x 10 Cs, defaults, default threads,
  2026-12-05): 3274 -> 1224
  problem-iterations (none of the 50 problems at max_iter, against 25 before), 4.4-5.2 -> 1.7-1.8 s;
  ``LogisticRegressionCV(n_jobs=1)`` 9.2 s.

* **compact state**: the active problems' parameters, gradients, penalties, row weights,
  curvature history and whitening factors are kept compacted, gathered once when a problem
  leaves, not indexed out of the full batch every iteration; the two-loop recursion runs in
  the parameters' dtype with one fused operation per product and per update. Multinomial
  logits are computed in class-major order (``(n, K, P)``), so that the softmax's reductions
  over the classes are element-wise over rows of P values. Measured on digits (5 folds x 10
  Cs, 10 classes, float32, one thread, 2026-12-04): an evaluation of 50 problems 6.9 -> 5.3 ms,
  the whole ``fit`` 0.26-0.33 -> 0.20-0.22 s of CPU time (best of 5, alternating with the
  previous commit on a quiet machine; LogisticRegressionCV 0.34-0.44 s there). Since
  2026-12-05 the logits are ``(K, P, n)``, rows last (:meth:`BatchedLogistic._softmax_terms`):
  evaluations of 22 and 5 problems 2.73 -> 2.24 and 1.00 -> 0.66 ms, the batched solve of digits
  177 -> 169 ms (one thread, best of 3 and 4, alternating in one process).

Measured and not kept (2026-12-05, digits and the 40k x 60 binary workload, 5 fits each,
alternating): the batch on torch's two threads instead of one. The GEMMs halve (1.5 -> 0.8 ms
at 50 problems), but the whole ``fit`` was slower, 0.19 against 0.167 s (digits) and 0.23
against 0.22 s (binary): the element-wise passes and the bookkeeping do not gain from the pool.
A multinomial metric of ``D^T D / (K n)`` (exact at zero) instead of ``/ 4``: 848 -> 824
problem-iterations on digits, 544 -> 563 on wine, within noise in time; not kept.

Where the solve goes (digits, one thread, line_profiler): the evaluations 64%, the two-loop and
its whitened direction 9%, the curvature pair's whitening 4%, compacting the active set 6%.

Since 2026-12-05 (A/B against the previous commit, separate processes, best of 25 fits, quiet machine):

* binary problems are rows-last too (``(P, n)`` margins, :meth:`BatchedLogistic._logits`) and the row
  weights are stored problem-major, gathered with ``index_select``: a column gather of the (n, P)
  weights took 4.3 ms against 0.68 ms at 50 problems on 40k rows, and the active set's weights were
  gathered three times a fit. make_classification 40k x 60: 0.199 -> 0.169 s on one thread.
* the whitened step is ``t d_v`` and ``y`` the change of the whitened gradient, kept from one iteration
  to the next: two of the four batched ``width x width`` products of an iteration (L2 problems only;
  OWL-QN's projected steps transform ``x_new - x``).
* an evaluation whose products reach ``SMALL_VALUES`` values runs them on the thread count the fit's
  one-thread rule found (:func:`torchlogit._threads.pooled_products`): digits 154-170 -> 118-121 ms
  with torch's default two threads (the whole evaluation pooled; the products alone: 128-137 ms).
  Since 2026-12-07 only the two products are (:meth:`BatchedLogistic._logits`, ``_gradient``): with
  one CPU-bound process per core beside the fit, the pooled element-wise passes (dozens of small
  parallel regions an evaluation, each waiting for a descheduled thread) took digits' ``fit`` to
  2.8-3.0 s against 0.30-0.31 s (one thread: 0.21-0.22 s); quiet, within noise (digits 134-145
  against 138-153 ms, an elastic-net grid of 2000 x 20 x 3 classes 355-361 against 327-334 ms; best
  of 5, processes alternating, a user trial's workloads).
* the multinomial softmax's shift is ``amax`` over the leading class axis, and the target logits and the
  one-hot part of the residual are read and written through flat positions (``index_select``,
  ``index_add_``) instead of ``gather`` / ``scatter_add_`` with an expanded index: digits, torch's
  default threads, eight fits a process, processes alternating with the previous commit: medians
  0.118-0.121 -> 0.114-0.117 s (one new process drifted to 0.19 s midway, as this machine does); bitwise
  the same paths and scores.

Not tried yet: a row-chunked evaluation that reads ``D`` once for both products. Tried and not
kept: the compact (Byrd-Nocedal-Schnabel) form of the two-loop with batched products: torch's CPU
``bmm`` of (50, 20, 650) x (50, 650, 2) took 0.83 ms, the whole direction 1.0 ms against the
two-loop's 0.42 ms.
"""

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F

from ._kernels import (
    _index_dtype,
    _numpy_dtype,
    add_column_square_sums,
    canonical_csr,
    sparse_rows,
    sparse_tensor,
    take_rows,
    transposed_product,
)
from ._threads import data_values, pooled_products

# Curvature pairs per problem (SciPy's default, which scikit-learn uses).
HISTORY = 10
# Objective evaluations per line search (scikit-learn's maxls).
MAX_LINE_SEARCH = 50
# Problems per batch are limited so that the logits (n_rows x n_problems x n_outputs) stay near this many values.
MAX_BATCH_VALUES = 1 << 25
# Rows per partial sum of the objective: float32 sums of this many terms, then float64 over the partial sums.
SUM_BLOCK = 64
# softplus(m) is m itself above this: exp(-40) is below the rounding of 40 in float64 (and float32).
SOFTPLUS_THRESHOLD = 40.0
# Rows per chunk when building the design matrix (about a million values per chunk).
CHUNK_VALUES = 1 << 20
# Widest dense design whose Gram matrix preconditions L2 problems (P width x width factors are kept).
MAX_WHITENED_WIDTH = 512
# ... and whose design holds at least this many values per entry of a factor (width^2): see BatchedLogistic.gram.
WHITENING_VALUES_PER_ENTRY = 4


def design_matrix(X, rows, sign, fit_intercept, dtype, device):
    """``[X[rows], 1]`` with row ``i`` multiplied by ``sign[i]``: the one copy of the training data.

    Parameters
    ----------
    X : ndarray, scipy sparse matrix or Tensor of shape (n_samples, n_features)
    rows : ndarray of int
        Rows of ``X`` to take, in this order.
    sign : ndarray of shape (len(rows),) or None
        Factor of each row (binary problems: ``1 - 2 y``, see :class:`BatchedLogistic`); None is 1.
    fit_intercept : bool
        Append a column for the intercept (of ``sign``, or ones).
    dtype, device : torch dtype and device of the result.

    Returns
    -------
    Tensor of shape (len(rows), n_features + fit_intercept), dense or sparse CSR.
    """
    n = len(rows)
    factor = np.ones(n) if sign is None else np.asarray(sign, dtype=np.float64)
    if isinstance(X, torch.Tensor):
        # Already on its device: stay there (a CUDA tensor is never copied to the host).
        out = X[torch.as_tensor(rows, device=X.device)].to(device=device, dtype=dtype)
        if fit_intercept:
            out = torch.cat([out, torch.ones((n, 1), dtype=dtype, device=device)], dim=1)
        return out.mul_(torch.as_tensor(factor, dtype=dtype, device=device).unsqueeze(1))
    # A value beyond float32 becomes inf in the cast: the fit refuses it after, naming it (no NumPy warning).
    with np.errstate(over="ignore"):
        return _host_design(X, rows, sign, factor, fit_intercept, dtype, device)


def _host_design(X, rows, sign, factor, fit_intercept, dtype, device):
    """:func:`design_matrix` of NumPy or SciPy ``X`` (``factor``: ``sign``, or ones)."""
    n, n_features = len(rows), X.shape[1]
    if sp.issparse(X):
        X = canonical_csr(X)  # once: each block's gather reads it
        # A block of rows at a time (about CHUNK_VALUES stored values): the rows' signs over their values, and the
        # intercept's entry appended to each row, written into the design's own arrays. np.repeat over every
        # stored value made float64 transients of 1.5x the design, and np.insert over all of them a second copy
        # of the design while the first was alive (a CSR CV fit added 4.4x its matrix).
        lengths = np.diff(X.indptr)[rows] + int(fit_intercept)
        nnz = int(lengths.sum())
        width = n_features + int(fit_intercept)
        index_dtype = _index_dtype(nnz, (n, width))
        indptr = np.zeros(n + 1, dtype=index_dtype)
        np.cumsum(lengths, out=indptr[1:])
        indices = np.empty(nnz, dtype=index_dtype)
        data = np.empty(nnz, dtype=_numpy_dtype(dtype))
        step = max(1, CHUNK_VALUES * max(n, 1) // max(nnz, 1))
        for start in range(0, n, step):
            block = sparse_rows(X, rows[start : start + step], dtype)
            values = block.data
            if sign is not None:
                values *= np.repeat(factor[start : start + step].astype(values.dtype), np.diff(block.indptr))
            block_indices = block.indices
            if fit_intercept:  # the last column: appending one entry per row keeps the indices sorted
                at = block.indptr[1:].astype(np.int64)
                block_indices = np.insert(block_indices, at, n_features)
                values = np.insert(values, at, factor[start : start + step].astype(values.dtype))
            lo, hi = indptr[start], indptr[min(start + step, n)]
            indices[lo:hi] = block_indices
            data[lo:hi] = values
        M = sp.csr_matrix((data, indices, indptr), shape=(n, width), copy=False)
        M.has_canonical_format = True
        return sparse_tensor(M, dtype, device)
    out = np.empty((n, n_features + int(fit_intercept)), dtype=_numpy_dtype(dtype))
    step = max(1, CHUNK_VALUES // max(n_features, 1))
    for start in range(0, n, step):
        part = slice(start, start + step)
        out[part, :n_features] = take_rows(X, rows[part])
        if fit_intercept:
            out[part, n_features] = 1
        if sign is not None:
            out[part] *= factor[part, None].astype(out.dtype)
    return torch.from_numpy(out).to(device)


def _column_sums(A, dim=0):
    """Sums of ``A`` over ``dim`` (its rows, 0, or its last axis, 1) in float64: float32 partial sums of
    SUM_BLOCK values, then float64.

    As accurate as a float64 sum for the objective's purposes (measured 5e-9 relative on
    40k rows, against 1e-7 for one float32 sum) at the cost of a float32 sum (a float64
    accumulation of float32 data costs 8x more).
    """
    A = A.movedim(dim, 0)
    n = A.shape[0]
    head = (n // SUM_BLOCK) * SUM_BLOCK
    if dim == 0:
        parts = [A[:head].reshape(-1, SUM_BLOCK, *A.shape[1:]).sum(1)] if head else []
    else:  # blocks along the contiguous last axis
        parts = [A[:head].T.reshape(A.shape[1], -1, SUM_BLOCK).sum(2).T] if head else []
    if head < n:
        parts.append(A[head:].sum(0, keepdim=True))
    return torch.cat(parts).sum(0, dtype=torch.float64)


class BatchedLogistic:
    """Objective and gradient of many linear logistic problems sharing one design matrix.

    The parameters of a problem are ``K x (n_features + fit_intercept)`` values: the rows
    of ``[W, b]`` (``K = n_outputs``), so that the logits of every problem are one matrix
    product with the design matrix ``[X, 1]`` and the gradients another (the intercept is
    a column of the product, not a separate reduction).

    Binary problems have their rows multiplied by ``1 - 2 y`` (``design_matrix``'s
    ``sign``): the product is then the margin ``m = (1 - 2 y) z`` whose loss is
    ``softplus(m)`` and whose gradient is ``sigmoid(m)`` times the row: no per-problem
    pass over the target.

    Parameters
    ----------
    design : Tensor of shape (n_rows, n_features + fit_intercept), dense or sparse CSR
        :func:`design_matrix` of the rows (with ``sign`` for binary problems).
    target : Tensor of int64 of shape (n_rows,) or None
        Multinomial problems: the class index of each row. Binary: None (it is in the signs).
    row_weight : Tensor of shape (n_rows, n_groups)
        Weight of each row in each group of problems (a fold's training rows).
    kind : {"binary", "multinomial"}
    n_outputs : int
    fit_intercept : bool
    """

    def __init__(self, design, target, row_weight, *, kind, n_outputs, fit_intercept):
        self.design = design
        self.target = target
        # The multinomial target's flat positions and what they are made from (see _target_positions).
        self._positions = self._ranks = self._repeated_targets = None
        self.kind = kind
        self.n_outputs = n_outputs
        self.fit_intercept = fit_intercept
        self.width = design.shape[1]
        self.n_features = self.width - int(fit_intercept)
        self.n_params = n_outputs * self.width
        # The values one problem's product reads (the measure of torchlogit._threads' rule).
        self.design_values = data_values(design)
        self.pooled_values = 0  # the values of the products now evaluated (see _logits, _gradient, batched_lbfgs)
        self.weight_sum = torch.sum(row_weight, dim=0, dtype=torch.float64)
        # Each row's weight divided by its group's weight sum: the data term is then a plain weighted sum.
        # Group-major (n_groups, n_rows): a problem's weights are a contiguous row, gathered by index_select.
        self.scaled_weight = (row_weight / self.weight_sum.to(row_weight.dtype)).T.contiguous().to(design.dtype)

    @classmethod
    def from_data(cls, X, target, row_weight, *, kind, n_outputs, fit_intercept, rows=None, dtype=None, device=None):
        """The problem of NumPy/SciPy/torch data: builds the design matrix (the one copy of ``X``).

        ``rows`` selects and orders rows of ``X`` (all by default); ``target`` (class indices, 0/1 for
        binary problems) and ``row_weight`` (n_rows, n_groups) are those of the selected rows, in that
        order. ``dtype`` and ``device`` default to ``X``'s for a tensor, float64 and the CPU otherwise.
        """
        rows = np.arange(X.shape[0]) if rows is None else np.asarray(rows)
        target = np.asarray(target)
        if dtype is None:
            dtype = X.dtype if isinstance(X, torch.Tensor) else torch.float64
        if device is None:
            device = X.device if isinstance(X, torch.Tensor) else torch.device("cpu")
        sign = 1.0 - 2.0 * target if kind == "binary" else None
        design = design_matrix(X, rows, sign, fit_intercept, dtype, device)
        target_t = torch.as_tensor(target, dtype=torch.int64, device=device) if kind == "multinomial" else None
        weight = torch.as_tensor(np.asarray(row_weight, dtype=np.float64), device=device)
        return cls(design, target_t, weight, kind=kind, n_outputs=n_outputs, fit_intercept=fit_intercept)

    def whitened(self):
        """Whether the problems are preconditioned by :class:`Whitening` (see :meth:`gram`)."""
        too_wide = self.width > MAX_WHITENED_WIDTH or WHITENING_VALUES_PER_ENTRY * self.width**2 > self.design_values
        return not too_wide and self.design.shape[0] > 0

    def factor_values(self):
        """Values one problem's :class:`Whitening` holds at its peak: ``G``, ``L`` and ``T`` of width x width
        (float64), the identity it expands and the casts to the training dtype; 0 without whitening."""
        return 5 * self.width**2 if self.whitened() else 0

    def gram(self):
        """``D^T D / n_rows`` in float64 (width x width), or None where :class:`Whitening` would not pay.

        None for a design wider than ``MAX_WHITENED_WIDTH``, or whose ``width^2`` exceeds a quarter of its
        values (``WHITENING_VALUES_PER_ENTRY``): a problem's factor is applied three times an iteration and
        would then cost about as much as the evaluation it saves. On sparse text 2000 x 501 with 20k
        values, 5 folds x 10 Cs, the whitened fit took 1.23 s (486 problem-iterations; 50 factors of
        501 x 501, +383 MiB) against 0.13 s (1013) with :class:`DiagonalScaling` (2026-12-05).
        Computed once per problem (the path order calls :func:`batched_lbfgs` once per C).
        """
        D = self.design
        if not self.whitened():
            return None
        if not hasattr(self, "_gram"):
            if D.layout == torch.strided:
                gram = D.T @ D
            else:  # sparse: D^T (D E) for blocks E of the identity's columns, with the products evaluate uses
                eye = torch.eye(self.width, dtype=D.dtype, device=D.device)
                step = max(1, CHUNK_VALUES // D.shape[0])
                blocks = range(0, self.width, step)
                gram = torch.cat([transposed_product(D, D @ eye[:, j : j + step].contiguous()) for j in blocks], 1)
            self._gram = gram.to(device=D.device, dtype=torch.float64) / D.shape[0]
        return self._gram

    def column_moments(self):
        """Each design column's weighted mean square (float64, shape (width,)), rows weighted as the groups on average.

        The diagonal of ``D^T W D`` that :class:`DiagonalScaling` preconditions wide designs with (the
        Gram matrix of :meth:`gram` is kept for designs up to ``MAX_WHITENED_WIDTH`` columns). One pass
        over the stored values of a sparse design, a chunked one over a dense design; the binary rows'
        signs do not matter (squares).
        """
        D = self.design
        if not hasattr(self, "_moments"):
            weight = self.scaled_weight.mean(0, dtype=torch.float64)  # (n_rows,), sums to 1
            if D.layout == torch.sparse_csr:
                # Blocks of rows holding about CHUNK_VALUES stored values each: the squares, row weights and
                # int64 column indices of all values at once were ~40 bytes a value (a CSR CV fit added 4.4x its
                # matrix). The blocks' bounds come to the host in one copy (one synchronisation on a device).
                moments = torch.zeros(self.width, dtype=torch.float64, device=D.device)
                n_rows = D.shape[0]
                step = max(1, CHUNK_VALUES * max(n_rows, 1) // max(D.values().shape[0], 1))
                starts = list(range(0, n_rows, step)) + [n_rows]
                bounds = D.crow_indices()[torch.tensor(starts, device=D.device)].tolist()
                for start, end, lo, hi in zip(starts[:-1], starts[1:], bounds[:-1], bounds[1:], strict=True):
                    add_column_square_sums(moments, D, weight, start, end, lo, hi)
            else:
                step = max(1, CHUNK_VALUES // self.width)
                moments = sum(
                    weight[start : start + step] @ D[start : start + step].to(torch.float64).square()
                    for start in range(0, D.shape[0], step)
                )
            self._moments = moments
        return self._moments

    def coefficient_mask(self, dtype, device):
        """1 for the coefficients, 0 for the intercepts (never penalised), shape (n_params,)."""
        mask = torch.ones((self.n_outputs, self.width), dtype=dtype, device=device)
        mask[:, self.n_features :] = 0
        return mask.reshape(-1)

    def split(self, x):
        """``(W, b)`` of flat parameters ``x`` of shape (P, n_params): (P, K, F) and (P, K) or None."""
        x3 = x.reshape(x.shape[0], self.n_outputs, self.width)
        return x3[:, :, : self.n_features], (x3[:, :, self.n_features] if self.fit_intercept else None)

    def join(self, W, b):
        """Flat parameters from ``W`` (P, K, F) and ``b`` (P, K) or None: the inverse of :meth:`split`."""
        parts = [W] if b is None or not self.fit_intercept else [W, b.unsqueeze(2)]
        return torch.cat(parts, dim=2).reshape(W.shape[0], -1)

    def weights(self, groups):
        """The scaled row weights of problems in ``groups``: (P, n_rows), one row per problem."""
        return self.scaled_weight.index_select(0, torch.as_tensor(groups, device=self.scaled_weight.device))

    def _logits(self, x_rows):
        """``x_rows @ D^T`` for parameter rows ``x_rows`` of shape (rows, width): (rows, n_rows), rows last.

        Rows last for binary problems too: with P parameter rows, ``x @ D^T`` took 1.34 ms where
        ``D @ x^T`` took 3.66 ms at P = 10 on 40k x 61 (one thread, float32; equal at P = 50), and a
        problem's row weights are then a contiguous row (2026-12-05).
        """
        with pooled_products(self.pooled_values):
            if self.design.layout == torch.sparse_csr:
                return (self.design @ x_rows.T.contiguous()).T.contiguous()
            return x_rows @ self.design.T  # MKL reads the transposed view as fast as a copy here

    def _gradient(self, R):
        """``R @ D`` for residuals ``R`` of shape (rows, n_rows): each row's gradient of the data term."""
        with pooled_products(self.pooled_values):
            if self.design.layout == torch.sparse_csr:
                return transposed_product(self.design, R.T.contiguous()).T
            return R @ self.design

    def _softmax_terms(self, x, weight):
        """The multinomial data terms of problems ``x``: objectives (P,) and weighted residuals (K * P, n_rows).

        Logits are computed class-major and row-last, ``(K, P, n)``: the softmax's reductions over the
        K classes are then element-wise over rows of ``P * n`` values (``amax`` over the leading class
        axis: 28 us at P = 22 on digits, one thread, against 60 us for a running ``maximum`` over the
        classes and 394 us for ``amax`` over a middle axis), and the gradient is the product ``R @ D``.
        Against the row-first layout ``(n, K, P)`` an evaluation on digits (1797 x 65, 10 classes,
        float32, one thread) went 2.75 -> 2.1 ms at 22 problems and 1.0 -> 0.58 ms at 5 (2026-12-05).
        """
        P, K, n = x.shape[0], self.n_outputs, self.design.shape[0]
        x_rows = x.view(P, K, self.width).transpose(0, 1).reshape(K * P, self.width)
        Z3 = self._logits(x_rows).view(K, P, n)
        positions = self._target_positions(P)
        shift = Z3.amax(0)
        picked = torch.index_select(Z3.view(-1), 0, positions).view(P, n)  # each row's target logit, every problem
        probabilities = Z3.sub_(shift).exp_()
        total = probabilities.sum(0)
        # residual = (p - onehot(target)) * weight, with p = exp(z - shift) / total
        residual = probabilities.mul_(weight / total).view(-1).index_add_(0, positions, weight.view(-1), alpha=-1)
        # -log p_target = log(total) + shift - z_target
        losses = total.log_().add_(shift).sub_(picked).mul_(weight)
        return _column_sums(losses, dim=1), residual.view(K * P, n)

    def _target_positions(self, P):
        """Flat positions, in the ``(K, P, n)`` logits of :meth:`_softmax_terms`, of each row's target class
        in each of ``P`` problems: ``(P * n,)`` indices, kept for the last ``P`` (it changes only when
        problems leave the batch).

        Gathered and scattered through these by ``index_select`` and ``index_add_`` on the flat logits:
        on digits (10 classes, one thread, 2026-12-05) 28 and 57 us at 22 problems, against 68 and 81 us
        for ``gather`` and ``scatter_add_`` along the class axis with an expanded index.
        """
        n = self.design.shape[0]
        positions = self._positions
        if positions is None or positions.numel() != P * n:
            # position = target * (P n) + p n + i: one fused operation on slices of the first (largest) batch's
            # ranks and repeated targets, since the size changes as often as problems leave (digits, one
            # thread: 30 / 61 us at 22 / 50 problems, against 62 / 838 us for arange + repeat + add anew).
            if self._ranks is None or self._ranks.numel() < P * n:
                self._ranks = torch.arange(P * n, device=self.target.device)
                self._repeated_targets = self.target.repeat(P)
            positions = torch.add(self._ranks[: P * n], self._repeated_targets[: P * n], alpha=P * n)
            self._positions = positions
        return positions

    def evaluate(self, x, weight, l2, l1, coefficients):
        """Objectives (float64, shape (P,)) and smooth gradients (P, n_params) of problems ``x``.

        ``weight`` (P, n_rows) is :meth:`weights` of the problems' groups; ``l2`` and ``l1``
        (P,) are the coefficients of ``||W||^2 / 2`` and ``||W||_1`` (float64);
        ``coefficients`` is :meth:`coefficient_mask`. The L1 part is in the value, not in
        the gradient.
        """
        P, K = x.shape[0], self.n_outputs
        if self.kind == "binary":
            Z = self._logits(x)  # (P, n) margins
            losses = F.softplus(Z, threshold=SOFTPLUS_THRESHOLD).mul_(weight)
            residual = torch.sigmoid_(Z).mul_(weight)
            value = _column_sums(losses, dim=1)
            grad = self._gradient(residual)
        else:
            value, residual = self._softmax_terms(x, weight)
            # (K*P, width) in class-major order -> (P, K*width)
            grad = self._gradient(residual).view(K, P, self.width).transpose(0, 1).reshape(P, -1)
        W = x * coefficients
        value = value + 0.5 * l2 * torch.sum(W * W, dim=1, dtype=torch.float64)
        value = value + l1 * torch.sum(W.abs(), dim=1, dtype=torch.float64)
        grad = grad + l2.to(x.dtype).unsqueeze(1) * W
        return value, grad


def _pseudo_gradient(x, g, lam):
    """The minimum-norm subgradient (OWL-QN); ``lam`` (P, D) is 0 where there is no L1 term."""
    at_zero = torch.where(g + lam < 0, g + lam, torch.where(g - lam > 0, g - lam, torch.zeros_like(g)))
    return torch.where(x > 0, g + lam, torch.where(x < 0, g - lam, at_zero))


def _dot(a, b):
    return torch.sum(a * b, dim=1, dtype=torch.float64)


def _two_loop(pg, S, Y, rho, gamma, order):
    """``-H pg`` per problem; ``S``, ``Y`` (m, P, D), ``rho`` (m, P) with 0 for an empty or rejected slot.

    In the parameters' dtype, one fused operation a product and an update (``vecdot``, ``addcmul_``):
    the vectors are short (P x D, tens of thousands of values), so the number of operations, not
    their arithmetic, is the cost (digits, 40 problems x 650: 1.9 -> 0.9 ms an iteration).
    """
    q = pg.clone()
    rho = rho.clamp(max=torch.finfo(q.dtype).max).to(q.dtype)  # 1 / ys of a float64 pair may not fit float32
    alphas = {}
    for i in reversed(order):
        alphas[i] = alpha = rho[i] * torch.linalg.vecdot(S[i], q)
        q.addcmul_(alpha.unsqueeze(1), Y[i], value=-1)
    r = q.mul_(gamma.to(q.dtype).unsqueeze(1))
    for i in order:
        beta = rho[i] * torch.linalg.vecdot(Y[i], r)
        r.addcmul_((alphas[i] - beta).unsqueeze(1), S[i])
    return r.neg_()


class Whitening:
    """Each problem's L-BFGS in coordinates ``v`` with ``x = T v`` per output block: the initial inverse
    Hessian is ``gamma T T^T = gamma G^{-1}`` instead of ``gamma I``.

    ``G = D^T D / (4 n) + l2 M`` (``M`` the penalised coefficients) bounds the Hessian of a problem's
    objective at zero for binary problems (``sigmoid' <= 1/4``), and approximates it for multinomial ones
    (per output block). With correlated features the plain L-BFGS needs as many iterations as the
    condition number of ``D^T D`` dictates; whitened, the curvature left is the logistic weights' and the
    penalty's. Problems with an L1 part keep ``T = I`` (OWL-QN's orthant steps assume a diagonal metric).

    Row-vector conventions (the batch's vectors are rows): ``g_v = g T``, ``d = d_v T^T``,
    ``s_v = s L`` and ``y_v = y T`` where ``G = L L^T`` and ``T = L^{-T}``.
    """

    def __init__(self, gram, l2, has_l1, n_outputs, width, coefficients, dtype):
        P = l2.shape[0]
        eye = torch.eye(width, dtype=torch.float64, device=gram.device)
        mask = torch.diag(coefficients[:width].to(torch.float64))
        G = gram.unsqueeze(0) / 4 + l2.view(P, 1, 1) * mask  # (P, w, w)
        # Unpenalised problems on rank-deficient data: a floor relative to the diagonal keeps G positive definite.
        # The floor is relative to each coefficient's own diagonal entry (the mean's where that is zero): one
        # relative to the mean swamped the curvature of the small columns next to a column of 1e20 (h7).
        diag = torch.diagonal(G, dim1=1, dim2=2)
        diag = torch.where(diag > 0, diag, diag.mean(1, keepdim=True).clamp_min(1e-300))
        G = G + torch.diag_embed(1e-10 * diag)
        L, info = torch.linalg.cholesky_ex(G)
        plain = torch.as_tensor(has_l1, device=gram.device) | (info != 0)
        L = torch.where(plain.view(P, 1, 1), eye, L)
        T = torch.linalg.solve_triangular(L, eye.expand(P, width, width), upper=False).transpose(1, 2)
        self.L, self.T = L.to(dtype), T.to(dtype)
        self.K, self.width = n_outputs, width

    def restrict(self, keep):
        """Keep the problems at positions ``keep`` (the active set shrank): later calls apply to them only.

        Gathered once per change of the active set, not per iteration (P' x width x width each: at 512
        columns and 50 problems, 52 MB that every iteration would otherwise copy 4 times)."""
        self.L, self.T = self.L[keep], self.T[keep]

    def _apply(self, rows, factor):
        """``rows`` (P', K * width) times each problem's ``factor`` (P', width, width), per output block."""
        return torch.bmm(rows.view(rows.shape[0], self.K, self.width), factor).reshape(rows.shape[0], -1)

    def gradient(self, g):
        return self._apply(g, self.T)

    def direction(self, d_v):
        return self._apply(d_v, self.T.transpose(1, 2))

    def step(self, s):
        return self._apply(s, self.L)


class DiagonalScaling:
    """:class:`Whitening`'s interface with a diagonal ``T``: each coefficient scaled by ``(m_j / 4 + l2)^(-1/2)``.

    For the designs :meth:`BatchedLogistic.gram` leaves out (wide ones, and sparse text with few values per
    column), where ``P`` Cholesky factors of ``width x width`` would not pay: ``m_j`` is column ``j``'s weighted
    mean square
    (:meth:`BatchedLogistic.column_moments`), so ``m_j / 4 + l2`` is the diagonal of the bound
    ``D^T D / (4 n) + l2 M`` that :class:`Whitening` factors whole. On Zipf-distributed text the
    columns' second moments span orders of magnitude and so does the curvature along their
    coefficients; scaled, L-BFGS starts each problem from the right scale per coefficient (the
    single-fit solver's ``_training._sparse_preconditioner`` for the same reason). Problems with an L1 part
    are scaled too (by their L2 part's bound, ``m_j / 4`` for pure L1): a positive diagonal keeps
    OWL-QN's orthants (``v_j`` has ``x_j``'s sign) and scales its pseudo-gradient coordinate by
    coordinate, which a full factor would not. Sparse text 20k x 5k, L1, 5 folds x 4 Cs: 977 -> 620
    problem-iterations (none of 20 at ``max_iter``, 5 before), 0.82-0.95 -> 0.60-0.64 s; ``LogisticRegressionCV``'s
    saga took 186 s (2026-12-05).
    """

    def __init__(self, moments, l2, n_outputs, width, coefficients, dtype):
        P = l2.shape[0]
        mask = coefficients[:width].to(torch.float64)
        G = moments.unsqueeze(0) / 4 + l2.view(P, 1) * mask  # (P, width)
        # Columns with no values and no penalty (unpenalised problems): a floor relative to the mean curvature.
        # Only those: a floor on every column swamped the small columns' curvature next to a column of 1e20 (h7).
        G = torch.where(G > 0, G, 1e-10 * G.mean(1, keepdim=True).clamp_min(1e-300))
        G = G.clamp_min(torch.finfo(dtype).tiny)  # each scale G^(-1/2) finite in the training dtype
        self.scale = G.rsqrt().repeat(1, n_outputs).to(dtype)  # (P, K * width): the same per output block

    def restrict(self, keep):
        self.scale = self.scale[keep]

    def gradient(self, g):
        return g * self.scale

    def direction(self, d_v):
        return d_v * self.scale

    def step(self, s):
        return s / self.scale


class BatchResult:
    """Solutions ``x`` (P, D), iterations ``n_iter`` (P,), which problems converged (P,) and which stopped short
    of ``tol`` with iterations to spare (``stalled``, P,): on the ``ftol`` rule (converged) or on a failed line
    search (not converged); a float32 run continues those in float64."""

    def __init__(self, x, n_iter, converged, n_evaluations, stalled):
        self.x = x
        self.n_iter = n_iter
        self.converged = converged
        self.n_evaluations = n_evaluations
        self.stalled = stalled


def batched_lbfgs(problem, groups, C, l1_ratio, *, tol, max_iter, ftol, x0=None, verbose=0):
    """Minimise the objectives of problems (``groups[p]``, ``C[p]``, ``l1_ratio[p]``) together.

    Parameters
    ----------
    problem : BatchedLogistic
    groups : ndarray of int, shape (P,)
        Column of ``row_weight`` (the fold) of each problem.
    C, l1_ratio : ndarray of float, shape (P,)
    tol : float
        Stop a problem when its largest absolute (pseudo-)gradient entry is at most ``tol``.
    max_iter : int or ndarray of int, shape (P,)
        Iterations per problem (one budget for all, or each problem's own).
    ftol : float
        Stop a problem when an iteration decreases its objective by at most this, relative.
    x0 : Tensor of shape (P, D), optional
        Starting points (zeros by default, as scikit-learn).

    Returns
    -------
    BatchResult
    """
    design = problem.design
    device, dtype = design.device, design.dtype
    P, D = len(groups), problem.n_params
    groups_t = torch.as_tensor(np.asarray(groups), dtype=torch.int64, device=device)
    S_group = problem.weight_sum[groups_t]
    C_t = torch.as_tensor(np.asarray(C, dtype=np.float64), device=device)
    r_t = torch.as_tensor(np.asarray(l1_ratio, dtype=np.float64), device=device)
    finite = torch.isfinite(C_t)
    # weight_sum cancels: the data term is divided by S too (see BatchedLogistic.scaled_weight)
    strength = torch.where(finite, 1.0 / (C_t * S_group), torch.zeros_like(C_t))
    l2_all = strength * (1 - r_t)
    l1_all = strength * r_t
    coefficients = problem.coefficient_mask(dtype, device)
    lam_all = l1_all.to(dtype).unsqueeze(1) * coefficients  # (P, D)
    has_l1 = (l1_all > 0).cpu().numpy()
    gram = problem.gram()
    if gram is not None:
        metric = Whitening(gram, l2_all, has_l1, problem.n_outputs, problem.width, coefficients, dtype)
    else:
        moments = problem.column_moments()
        metric = DiagonalScaling(moments, l2_all, problem.n_outputs, problem.width, coefficients, dtype)
    n_evaluations = 0

    def evaluate(x_part, weight, l2, l1):
        nonlocal n_evaluations
        n_evaluations += 1
        problem.pooled_values = x_part.shape[0] * problem.n_outputs * problem.design_values
        return problem.evaluate(x_part, weight, l2, l1, coefficients)

    x = torch.zeros((P, D), dtype=dtype, device=device) if x0 is None else x0.to(device=device, dtype=dtype).clone()
    f, g = evaluate(x, problem.weights(groups_t), l2_all, l1_all)
    n_iter = np.zeros(P, dtype=np.int32)
    budget = np.broadcast_to(np.asarray(max_iter, dtype=np.int64), (P,))
    converged = np.zeros(P, dtype=bool)
    stalled_at = np.zeros(P, dtype=bool)
    # Compared in torch: a NumPy float32 array compared with a tol beyond float32's range (1e39) warned
    # "overflow encountered in cast".
    active = np.flatnonzero((_pseudo_gradient(x, g, lam_all).abs().amax(dim=1) > tol).cpu().numpy())
    converged[np.setdiff1d(np.arange(P), active)] = True
    if x0 is None:  # a cold L1 problem optimal at zero: its check counts as an iteration (as in a single fit)
        n_iter[converged & has_l1 & (budget > 0)] = 1
    active = active[budget[active] > 0]  # no iteration to take: left where they start, not converged
    # The state of the active problems, compacted whenever one leaves (not gathered every iteration):
    # parameters, objectives, gradients, penalties, row weights, curvature history, metric factors.
    A = torch.as_tensor(active, device=device)
    xA, fA, gA = x[A], f[A], g[A]
    lamA, l2A, l1A_values, wA = lam_all[A], l2_all[A], l1_all[A], problem.weights(groups_t[A])
    l1A, any_l1 = torch.as_tensor(has_l1[active], device=device), bool(has_l1[active].any())
    metric.restrict(A)
    m = HISTORY
    S_hist = torch.zeros((m, len(active), D), dtype=dtype, device=device)
    Y_hist = torch.zeros((m, len(active), D), dtype=dtype, device=device)
    rho = torch.zeros((m, len(active)), dtype=torch.float64, device=device)
    gamma = torch.ones(len(active), dtype=torch.float64, device=device)
    eps = torch.finfo(dtype).eps
    slot, filled = 0, 0
    g_v = None  # the gradient in whitened coordinates, kept from the last iteration's curvature pair (L2 only)

    for iteration in range(int(budget.max(initial=0))):
        if len(active) == 0:
            break
        P_active = len(active)
        pg = _pseudo_gradient(xA, gA, lamA) if any_l1 else gA
        # The curvature pairs are in the whitened coordinates.
        pg_v = metric.gradient(pg) if any_l1 or g_v is None else g_v
        order = [(slot - filled + i) % m for i in range(filled)]
        d_v = _two_loop(pg_v, S_hist, Y_hist, rho, gamma, order)
        d = metric.direction(d_v)
        if any_l1:
            d = torch.where(l1A.unsqueeze(1) & (d * pg >= 0), torch.zeros_like(d), d)
        gtd = _dot(pg, d)
        restart = ~(gtd < 0)  # not a descent direction (rounding): steepest descent, history dropped
        if bool(restart.any()):
            steepest = metric.direction(-pg_v)
            d = torch.where(restart.unsqueeze(1), steepest, d)
            d_v = torch.where(restart.unsqueeze(1), -pg_v, d_v)
            gtd = torch.where(restart, _dot(pg, steepest), gtd)
            rho[:, restart] = 0.0
            gamma[restart] = 1.0
        t = torch.ones(P_active, dtype=torch.float64, device=device)
        if iteration == 0:
            # The first step (from zero or warm-started): at most a unit length along -pg (SciPy's is exactly one).
            t = torch.minimum(t, 1.0 / torch.linalg.vector_norm(pg_v.to(torch.float64), dim=1).clamp_min(1e-300))
        orthant = torch.where(xA != 0, torch.sign(xA), -torch.sign(pg)) if any_l1 else None

        x_new, f_new, g_new = xA.clone(), fA.clone(), gA.clone()
        searching = None  # all of the active problems
        failed = torch.zeros(P_active, dtype=torch.bool, device=device)
        # Whether every trial so far was finite and equal to the start within 64 eps relative: a search that fails so
        # is flat to the objective's rounding (the optimum's precision floor), as LBFGS._flat_to_precision tells.
        flat = torch.ones(P_active, dtype=torch.bool, device=device)
        band = 64 * torch.finfo(dtype).eps
        for _ in range(MAX_LINE_SEARCH):
            part = slice(None) if searching is None else searching  # a view of all, or a copy of a few
            x_s, t_s, d_s, f_s0, pg_s = xA[part], t[part], d[part], fA[part], pg[part]
            w_s, l2_s, l1_s = wA[part], l2A[part], l1A_values[part]
            x_t = x_s + t_s.to(dtype).unsqueeze(1) * d_s
            if any_l1:
                project = l1A[part].unsqueeze(1) & (torch.sign(x_t) != orthant[part])
                x_t = torch.where(project, torch.zeros_like(x_t), x_t)
            f_t, g_t = evaluate(x_t, w_s, l2_s, l1_s)
            ok = torch.isfinite(f_t) & (f_t <= f_s0 + 1e-4 * _dot(pg_s, x_t - x_s))
            if searching is None and bool(ok.all()):
                x_new, f_new, g_new = x_t, f_t, g_t
                searching = torch.zeros(0, dtype=torch.int64, device=device)
                break
            positions = torch.arange(P_active, device=device) if searching is None else searching
            flat[positions] &= torch.isfinite(f_t) & ((f_t - f_s0).abs() <= band * f_s0.abs().clamp_min(1.0))
            accepted = positions[ok]
            x_new[accepted], f_new[accepted], g_new[accepted] = x_t[ok], f_t[ok], g_t[ok]
            searching = positions[~ok]
            if len(searching) == 0:
                break
            # Quadratic interpolation of f along the step, kept within [0.1, 0.5] of the step.
            t_r, f_r, g0 = t[searching], f_t[~ok], gtd[searching]
            curvature = f_r - fA[searching] - g0 * t_r
            t_q = torch.where(torch.isfinite(f_r) & (curvature > 0), -g0 * t_r * t_r / (2 * curvature), 0.5 * t_r)
            t[searching] = torch.minimum(torch.maximum(t_q, 0.1 * t_r), 0.5 * t_r)
        failed[searching] = True

        if any_l1:  # projected steps: the step taken is not t d
            s, y, g_v = metric.step(x_new - xA), metric.gradient(g_new - gA), None
        else:
            # Whitened, the step taken is t d_v (x = T v) and y the change of g_v: two batched products an
            # iteration fewer than transforming x_new - x and g_new - g (digits: 4 -> 2 bmm per iteration).
            g_v = metric.gradient(g_new)
            s = (t * ~failed).to(dtype).unsqueeze(1) * d_v
            y = g_v - pg_v
        ys = _dot(y, s)
        keep = (ys > eps * (-gtd) * t) & ~failed
        S_hist[slot] = s
        Y_hist[slot] = y
        rho[slot] = torch.where(keep, 1.0 / torch.where(keep, ys, torch.ones_like(ys)), torch.zeros_like(ys))
        gamma = torch.where(keep, ys / _dot(y, y).clamp_min(torch.finfo(torch.float64).tiny), gamma)
        slot = (slot + 1) % m
        filled = min(filled + 1, m)

        n_iter[active] += 1
        grad_max = _pseudo_gradient(x_new, g_new, lamA).abs().amax(dim=1) if any_l1 else g_new.abs().amax(dim=1)
        stalled = (fA - f_new) <= ftol * torch.maximum(torch.maximum(fA.abs(), f_new.abs()), torch.ones_like(fA))
        xA, gA = x_new, g_new
        # One transfer for the three per-problem verdicts (a synchronisation on a device). A search that failed flat
        # is a reduction of zero, which the ftol rule above judges (SciPy's line search ends there with a warning and
        # L-BFGS-B stops on REL_REDUCTION_OF_F, as the single fit does): not a failure. A CV at tol=1e-10 in float64
        # warned "failed to converge" for a problem whose gradient was 1e-9, where LogisticRegressionCV is silent.
        at_tol, stalled, gave_up, finite = (
            torch.stack([grad_max <= tol, stalled, failed & ~flat, torch.isfinite(f_new)]).cpu().numpy()
        )
        # Out of iterations: not converged, even where this last iteration met a rule (SciPy's L-BFGS-B stops at
        # maxiter before it tests the new point, and LogisticRegressionCV warns there).
        at_limit = n_iter[active] >= budget[active]
        # A failed line search leaves the point where it was: no decrease, which is not a stall to call converged
        # (SciPy's L-BFGS-B reports it ABNORMAL). In float32 it goes on in float64 as a stall does (stalled_at).
        failed_search = gave_up & ~at_tol
        done = (at_tol | (stalled & ~failed_search)) & ~at_limit
        fA = f_new
        gave_up = failed_search | at_limit
        if not finite.all():  # pragma: no cover - guarded by the line search
            raise FloatingPointError("The objective became non-finite during L-BFGS.")
        converged[active[done]] = True
        stalled_at[active[(done & ~at_tol) | (failed_search & ~at_limit)]] = True
        if verbose:
            print(f"iteration {iteration + 1}: {int(done.sum())} of {P_active} problem(s) converged")
        kept = ~(done | gave_up)
        if not kept.all():
            x[A] = xA
            k = torch.as_tensor(np.flatnonzero(kept), device=device)
            A, active = A[k], active[kept]
            xA, fA, gA, lamA, l2A, l1A_values, wA = xA[k], fA[k], gA[k], lamA[k], l2A[k], l1A_values[k], wA[k]
            l1A = l1A[k]
            any_l1 = bool(has_l1[active].any())
            S_hist, Y_hist, rho, gamma = S_hist[:, k], Y_hist[:, k], rho[:, k], gamma[k]
            g_v = None if g_v is None else g_v[k]
            metric.restrict(k)
    x[A] = xA
    return BatchResult(x, n_iter, converged, n_evaluations, stalled_at)


# Parameter-length vectors one problem of a batch holds in batched_lbfgs: its curvature history (2 x HISTORY), the
# point, gradient, penalties and their copies in the active set, and an iteration's temporaries (direction, trial
# point and gradient, pseudo-gradients, the new pair).
STATE_VECTORS = 2 * HISTORY + 14


def chunks(n_problems, n_rows, n_outputs, factor_values=0, n_params=0):
    """Slices of problem indices so that each batch's logits, preconditioner factors and L-BFGS state hold
    about ``MAX_BATCH_VALUES`` values.

    ``factor_values``: what one problem's :class:`Whitening` keeps (:meth:`BatchedLogistic.factor_values`).
    Counting only the logits let 100 problems of a 4000 x 500 design into one batch with 100 factors of
    500 x 500 and their temporaries: +805 MB, where ``LogisticRegressionCV`` adds 19 MB. ``n_params``: one
    problem's parameters, of which it keeps ``STATE_VECTORS`` vectors: on 100 x 200k sparse data the logits
    let all 50 problems into one batch, +2.2 GB against ``LogisticRegressionCV``'s +239 MB.
    """
    per_problem = n_rows * n_outputs + factor_values + STATE_VECTORS * n_params
    per_batch = max(1, MAX_BATCH_VALUES // max(per_problem, 1))
    return [slice(start, min(start + per_batch, n_problems)) for start in range(0, n_problems, per_batch)]
