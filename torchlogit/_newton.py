"""``solver="newton-cholesky"``: scikit-learn's Newton-Cholesky solver for the linear logit models.

Each iteration, as in scikit-learn's ``NewtonCholeskySolver``
(``sklearn/linear_model/_glm/_newton_solver.py``):

1. the gradient ``g`` and the Hessian ``H`` of the objective at the current point,
   ``H = X_1.T @ diag(h) @ X_1 / S + penalty`` with ``X_1 = [X, 1]`` (the intercept
   column); for K classes the full ``(K p) x (K p)`` Hessian, block ``(k, l)`` with
   ``h_kl = s (p_k [k = l] - p_k p_l)``;
2. the Newton step ``H^{-1} (-g)`` from a Cholesky factorisation in float64;
3. a backtracking line search (halving, Armijo constant ``2^-11``, at most 21 trials,
   and scikit-learn's acceptance of a step whose loss change is within rounding when
   it shrinks ``sum |g|``);
4. scikit-learn's stopping rule: ``max |g| <= tol`` and half the squared Newton
   decrement ``step @ H @ step / 2 <= tol``.

The multinomial loss is invariant to adding a constant to every class's intercept
(and, without penalty, to every class's coefficients): as scikit-learn does, the
last class's intercept (without penalty: its whole block) is held fixed in the
solve, which makes ``H`` positive definite, and the parameters are re-centred after
each step (``sum_k b_k = 0``), which changes no prediction. When the Cholesky
factorisation fails, the step is not a descent direction or the line search finds no
decrease, the fit goes on with L-BFGS (with scikit-learn's warnings), as
scikit-learn's does.

The products over the data run in the training dtype (per row chunk, ``X.T @ (c * X)``
and, for the intercept, ``X.T @ c`` and ``sum(c)``, accumulated in float64), the
multinomial Hessian as a sum of such weighted Gram matrices over class pairs (see
:func:`data_hessian`); the solve is in float64. Sparse
``X``: on the CPU the Hessian is scipy's sparse product ``X.T @ diag(h) @ X`` (its cost
follows the non-zeros); on other devices rows are densified a chunk at a time. The
Hessian is a dense ``(K (d + 1))^2`` float64 matrix: beyond :data:`MAX_HESSIAN_SIZE`
entries (2 GiB) the fit is refused with a ValueError pointing to "lbfgs".
"""

import math
import warnings

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import torch
from sklearn.exceptions import ConvergenceWarning

from ._callbacks import FLOAT32_EXHAUSTED, _StoppingRule, ftol_for
from ._compat import ill_conditioned_words
from ._kernels import CHUNK_VALUES, host_matrix, linear_scores
from ._objective import weight_unit
from ._solvers import LBFGS
from ._user_warnings import warn

# Largest Hessian (entries of float64) the solver builds: 2 GiB.
MAX_HESSIAN_SIZE = 1 << 28

# scikit-learn's backtracking constants (_newton_solver.py: beta, sigma, 21 trials).
_BETA, _SIGMA, _MAX_LINE_SEARCH = 0.5, 2.0**-11, 21
# A float32 run whose Hessian, scaled to a unit diagonal, has a reciprocal condition below this continues in float64.
# Along the Hessian's near-null directions (collinear columns at a large C) the step is
# the float32 gradient's rounding divided by a curvature of about 1 / (C n): measured on 26 problems, the float32
# coefficients ended about 0.1-0.2 eps32 / rcond relative from the float64 optimum (make_classification 20k x 20
# with its two redundant columns: 3e-3 at C=1 (rcond 3.7e-6), 0.55 at C=100, 260x the coefficients at C=1e6; the
# fit said it converged, the objective was at the optimum to 1e-9 and the predictions agreed). Column scales
# alone (raw breast cancer: 1.5e-6 scaled, 4e-10 unscaled) do not count: the scaling takes them out; nor does the
# penalised multinomial classes' common shift, whose step is exact (see _without_shift).
# The threshold keeps that drift near 1e-3 relative at most, below scikit-learn's own default-tol lbfgs error: at
# 1e-6 the 20k x 20 problem stayed float32 at C=10 (rcond 2.6e-6) and C=20 (1.3e-6), 0.45% and 1.7% off scikit-learn's
# newton-cholesky, silently; at C=1 (rcond 2.5e-5) it stays float32, 2.7e-4 off (scikit-learn's lbfgs: 4.7e-4).
# Well-conditioned fits are untouched (benchmarks/shapes.py's correlated 20k x 20: rcond 1.3e-2; standardised breast
# cancer, digits and wine at C <= 100: their coefficients equal scikit-learn's at the same tol either way).
_FLOAT32_SENSITIVE_RCOND = 2e-5
# What NewtonCholesky._newton_step returns for such a Hessian: no step; the iteration stalls for float64.
FLOAT64_STEPS = object()
# _newton_step's answer where scikit-learn's gradient_hessian sets hessian_warning (see _vanishing_curvatures).
FLAT_CURVATURES = object()


def check_hessian_size(n_features, n_outputs, fit_intercept):
    """Raise a ValueError when the Hessian of this problem would exceed :data:`MAX_HESSIAN_SIZE`."""
    size = n_outputs * (n_features + int(fit_intercept))
    if size * size > MAX_HESSIAN_SIZE:
        raise ValueError(
            f"solver='newton-cholesky' builds a dense Hessian of {size} x {size} float64 values "
            f"({size * size * 8 / 2**30:.1f} GiB) for {n_features} features and {n_outputs} output(s); "
            "use solver='lbfgs' for this many features."
        )


def _row_chunks(X, step):
    """Dense chunks of ``step`` rows of a dense or sparse CSR tensor (any device), in order."""
    n = X.shape[0]
    if X.layout != torch.sparse_csr:
        for start in range(0, n, step):
            yield X[start : start + step]
        return
    crow, col, values = X.crow_indices(), X.col_indices(), X.values()
    for start in range(0, n, step):
        stop = min(start + step, n)
        lo, hi = int(crow[start]), int(crow[stop])
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
            chunk = torch.sparse_csr_tensor(
                crow[start : stop + 1] - lo,
                col[lo:hi],
                values[lo:hi],
                (stop - start, X.shape[1]),
                device=X.device,
                check_invariants=False,  # rows of a valid CSR tensor
            )
        yield chunk.to_dense()


def _curvatures(probabilities, weight, kind):
    """``{(k, m): c_km}``, per-sample weights of the Gram matrices the Hessian is built from (see
    :func:`data_hessian`): binary ``{(0, 0): w p (1 - p)}``; multinomial ``w p_k p_m`` for each pair ``k < m``."""
    if kind == "binary":
        p = probabilities[:, 0]
        return {(0, 0): weight * p * (1 - p)}
    K = probabilities.shape[1]
    return {(k, m): weight * probabilities[:, k] * probabilities[:, m] for k in range(K) for m in range(k + 1, K)}


def data_hessian(X, probabilities, weight, kind, fit_intercept, product_dtype=None):
    """``sum_i weight_i * d^2 l_i`` over the parameters, as a float64 matrix in class blocks.

    Block ``k`` holds class ``k``'s coefficients followed by its intercept (when
    ``fit_intercept``). ``probabilities`` are the sigmoid (binary) or softmax
    (multinomial) of the logits.

    The multinomial Hessian is built as the sum over class pairs ``k < m`` of
    ``(e_k - e_m)(e_k - e_m)^T`` times the Gram matrix ``G_km = [X 1]^T diag(w p_k p_m) [X 1]``:
    block ``(k, m)`` is ``-G_km`` and block ``(k, k)`` is ``sum_{m != k} G_km``, which equals
    ``[X 1]^T diag(w p_k (1 - p_k)) [X 1]`` because the probabilities sum to one. Each ``G_km``
    is a weighted Gram matrix, computed as the binary one is (in the training dtype, summed in
    float64). Computing the diagonal blocks from ``p_k (1 - p_k)`` instead leaves their sum over
    classes to cancel against the off-diagonal blocks, in float32 to rounding errors that
    features of 1e3 scale past the penalty: the Hessian was indefinite on unscaled wine, and the
    fit fell back to L-BFGS after 2 iterations and stopped 27% above the optimum, called
    converged. Here the matrix is positive semi-definite up to each Gram matrix's own rounding,
    as the binary Hessian is (smallest eigenvalue on unscaled wine: -1.6e-10 of the largest,
    against -2.1e-8), with ``K (K - 1) / 2`` products instead of ``K (K + 1) / 2``.

    ``product_dtype``: the products' dtype (default: ``X``'s); float64 for a float32 fit whose
    float32 Hessian did not factorise (see :meth:`NewtonCholesky._newton_step`).
    """
    d = X.shape[1]
    K = probabilities.shape[1]
    p = d + int(fit_intercept)
    curvatures = _curvatures(probabilities, weight, kind)
    grams = _weighted_grams(X, curvatures, fit_intercept, product_dtype or X.dtype)
    if kind == "binary":  # the one Gram matrix is the Hessian (a fresh tensor: no copy into another)
        return grams[0, 0]
    H = torch.zeros((K * p, K * p), dtype=torch.float64, device=probabilities.device)
    for (k, m), G in grams.items():
        _place(H, -G, k, m, p)
        H[k * p : (k + 1) * p, k * p : (k + 1) * p] += G
        H[m * p : (m + 1) * p, m * p : (m + 1) * p] += G
    return H


def _weighted_grams(X, curvatures, fit_intercept, dtype):
    """``{key: [X 1]^T diag(c) [X 1]}`` (float64, ``p x p``) per curvature ``c`` (the ``1`` with the intercept)."""
    d = X.shape[1]
    p = d + int(fit_intercept)
    host = host_matrix(X) if X.layout == torch.sparse_csr else None
    if host is not None:  # CPU sparse: scipy's sparse product, cost following the non-zeros
        grams = {}
        for key, c in curvatures.items():
            c = c.double().numpy()
            G = host.T @ sp.diags(c) @ host  # d x d, sparse and symmetric
            if G.format not in ("csr", "csc"):
                G = G.tocsr()
            block = np.empty((p, p))
            # Into the block a few rows (or columns: G is symmetric) at a time: G.toarray() whole was one more
            # dense d x d matrix beside the block (a binary 5000-column fit peaked at 1.1 GB, 5.5 Hessians).
            step = max(1, CHUNK_VALUES // max(d, 1))
            for start in range(0, d, step):
                stop = min(start + step, d)
                if G.format == "csr":
                    block[start:stop, :d] = G[start:stop].toarray()
                else:
                    block[:d, start:stop] = G[:, start:stop].toarray()
            del G
            if fit_intercept:
                block[:d, d] = block[d, :d] = host.T @ c
                block[d, d] = c.sum(dtype=np.float64)
            grams[key] = torch.from_numpy(block)
        return grams
    step = max(1, CHUNK_VALUES // p)
    grams = {key: torch.zeros((p, p), dtype=torch.float64, device=X.device) for key in curvatures}
    # The intercept's row and column are X.T @ c and sum(c), not a column of ones appended to every chunk,
    # and the weighted rows c * X go into one buffer reused by every chunk and block: each fresh
    # temporary of that size is page-faulted in by the host allocator (20k x 20 float32: 0.31 ms a
    # product into a new tensor, 0.08 ms into the buffer).
    weighted = torch.empty((min(step, X.shape[0]), d), dtype=dtype, device=X.device)
    for start, chunk in zip(range(0, X.shape[0], step), _row_chunks(X, step), strict=True):
        rows = chunk.shape[0]
        chunk = chunk.to(dtype)
        for key, c in curvatures.items():
            c_chunk = c[start : start + rows].to(dtype)
            torch.mul(chunk, c_chunk.unsqueeze(1), out=weighted[:rows])
            G = grams[key]
            G[:d, :d] += (chunk.T @ weighted[:rows]).double()
            if fit_intercept:
                column = (chunk.T @ c_chunk).double()
                G[:d, d] += column
                G[d, :d] += column
                G[d, d] += c_chunk.sum(dtype=torch.float64)
    return grams


def _vanishing_curvatures(logits, weight):
    """Whether more than a quarter of the rows (by weight) have a binary pointwise Hessian of zero, as scikit-learn
    computes it: ``e / (1 + e)**2`` with ``e = exp(-|z|)`` in float64, zero where ``e`` underflows (``|z|`` above
    about 745). scikit-learn's ``gradient_hessian`` then sets ``hessian_warning`` and its Newton solver goes on with
    L-BFGS, warning: on separable data without a penalty the logits grow without bound, and this is the warning
    that says so (ours went on with Newton steps, silently). The maximum first: one pass over the logits where
    none is that far out (every fit that is not diverging)."""
    if not len(logits) or float(logits.abs().amax()) < 745.0:
        return False
    zero = torch.exp(-logits[:, 0].double().abs()) == 0
    return float((weight * zero).sum()) > 0.25 * float(weight.sum())


def _place(H, block, k, m, p):
    H[k * p : (k + 1) * p, m * p : (m + 1) * p] = block
    if m != k:
        H[m * p : (m + 1) * p, k * p : (k + 1) * p] = block.T


class NewtonCholesky:
    """One Newton-Cholesky iteration per ``step(closure)`` for a :class:`~torchlogit._modules.LinearLogits`.

    It has the optimizer protocol of :class:`~torchlogit._solvers.LBFGS`. The closure
    returns the objective and stores its gradient (as for L-BFGS); the Hessian needs
    the data, which the net hands over with :meth:`bind` before each step.

    Parameters
    ----------
    params : iterable of tensors, or of one parameter-group dict
        The module's weight matrix, then its bias (if any).
    lr : float, default=1.0
        First step of each line search (scikit-learn's: 1).

    Notes
    -----
    After each ``step``, ``state`` holds ``loss`` and ``grad_max`` (the objective and
    the largest absolute gradient entry at the new point), ``newton_decrement`` (half
    the squared Newton decrement of the step), ``n_iter``, ``func_evals`` and
    ``fallback`` (True once the iterations continue with L-BFGS).
    """

    def __init__(self, params, lr=1.0):
        params = list(params)
        if params and isinstance(params[0], dict):
            if len(params) != 1:
                raise ValueError("NewtonCholesky takes a single parameter group")
            params = list(params[0]["params"])
        self.defaults = dict(lr=lr)
        self.param_groups = [dict(params=params, **self.defaults)]
        self._params = params
        self.state = {}
        self._problem = None
        self._noted = None
        self._logits_at = None
        self._fallback = None
        # Set by the fit (._training): a float32 run that can continue in float64 takes a failed line search as
        # a float32 stall (the stopping rule then continues in float64) rather than falling back to L-BFGS; and
        # the fall-back L-BFGS runs with the column-scale preconditioner the "lbfgs" solver would use.
        self.promote_on_failure = False
        self.fallback_preconditioner = None
        self.fallback_gtol = 0.0  # the fall-back's gradient tolerance (the fit's tol): see _fallback_step
        self.stepless = False  # whether the last step moved nothing (_stall_for_float64, _fallback_step)

    # ------------------------------------------------------------ optimizer protocol
    def zero_grad(self, set_to_none=True):
        for p in self._params:
            p.grad = None

    def state_dict(self):
        state = {k: v for k, v in self._state.items() if k not in ("f", "g", "x")}
        return {
            "state": state,
            "param_groups": [{k: v for k, v in g.items() if k != "params"} for g in self.param_groups],
        }

    def load_state_dict(self, state_dict):
        self.state = {self._params[0]: dict(state_dict["state"])}
        self.param_groups[0].update(state_dict["param_groups"][0])

    def set_l1(self, strength, penalized):
        if strength > 0:
            raise ValueError("newton-cholesky supports only the L2 penalty")

    def cast_(self, dtype):
        """Continue in ``dtype`` (a float32 run that stalled, cast to float64 with its module): the point's value
        and gradient are evaluated afresh; an L-BFGS fall-back keeps its curvature pairs, cast."""
        for key in ("x", "f", "g"):
            self._state.pop(key, None)
        self._noted = self._logits_at = None
        if self._fallback is not None:
            self._fallback.cast_(dtype)

    def bind(self, batch, criterion):
        """The data and objective constants of the next steps (``None`` forgets them, so no data is kept)."""
        if batch is None:  # nor the logits of the last evaluation
            self._noted = self._logits_at = None
        self._problem = None if batch is None else (batch, criterion)

    @property
    def _state(self):
        return self.state.setdefault(self._params[0], {})

    # --------------------------------------------------------------------- helpers
    def _flat(self):
        return torch.cat([p.detach().reshape(-1) for p in self._params])

    def _set_params(self, flat):
        offset = 0
        for p in self._params:
            p.copy_(flat[offset : offset + p.numel()].view_as(p))
            offset += p.numel()

    def note_logits(self, logits):
        """The logits the closure computed (the net calls this), kept for the Hessian at the same point."""
        self._noted = None if logits is None else logits.detach()

    def _evaluate(self, closure, x):
        self._set_params(x)
        self._noted = None
        with torch.enable_grad():
            loss = float(closure().detach())
        self._logits_at = (x, self._noted)  # the last evaluation's point and its logits (None: not given)
        grad = torch.cat(
            [p.grad.reshape(-1) if p.grad is not None else torch.zeros_like(p).reshape(-1) for p in self._params]
        )
        return loss, grad

    def _blocks(self, flat):
        """Flat parameters (weight rows, then biases) -> class blocks ``[w_k, b_k]`` (float64), and back."""
        W = self._params[0]
        K, d = W.shape
        weights = flat[: K * d].reshape(K, d)
        if len(self._params) == 1:
            return weights.double().reshape(-1)
        return torch.cat([weights, flat[K * d :].reshape(K, 1)], dim=1).double().reshape(-1)

    def _unblocks(self, blocks, dtype):
        W = self._params[0]
        K, d = W.shape
        blocks = blocks.reshape(K, -1).to(dtype)
        parts = [blocks[:, :d].reshape(-1)]
        if len(self._params) > 1:
            parts.append(blocks[:, d])
        return torch.cat(parts)

    def _center(self, x, kind, penalized):
        """Shift the multinomial parameters so the classes' intercepts (and, unpenalised, coefficients) sum to 0."""
        W = self._params[0]
        K, d = W.shape
        if kind != "multinomial":
            return x
        x = x.clone()
        if not penalized:
            weights = x[: K * d].view(K, d)
            weights -= weights.mean(dim=0)
        if len(self._params) > 1:
            bias = x[K * d :]
            bias -= bias.mean()
        return x

    def _newton_step(self, x, g, product_dtype=None):
        """(step in flat parameters, directional derivative g.step, half squared Newton decrement), the reason
        (a str) the Hessian could not be factorised, or ``FLOAT64_STEPS`` where a float32 step would be rounding.

        A float32 fit whose Hessian does not factorise (rounding of float32 products on unscaled data, measured:
        4 of 23 random 3-class problems with columns of scales 1e-2 to 3e3) builds it again with float64 products
        before giving up, as scikit-learn's products are float64: the fall-back to L-BFGS then means what it means
        there. Products in float64 cost about twice as much (multinomial 30k x 30 x 5: 0.20 s a fit against 0.38
        s), which the well-scaled problems do not pay."""
        (X, (target, weight)), criterion = self._problem
        W = self._params[0]
        K, d = W.shape
        fit_intercept = len(self._params) > 1
        bias = self._params[1].detach() if fit_intercept else None
        with torch.no_grad():
            at, logits = self._logits_at if self._logits_at is not None else (None, None)
            if logits is None or not torch.equal(at, x):  # the last evaluation was elsewhere (or moved: centred)
                logits = linear_scores(X, W.detach())
                if bias is not None:
                    logits = logits + bias
            # The softmax in float64: data_hessian's diagonal blocks (sums over class pairs) equal the curvature
            # p_k (1 - p_k) only where the probabilities sum to one, which float32 ones do to 6e-8 only.
            if criterion.kind == "binary" and _vanishing_curvatures(logits, weight):
                return FLAT_CURVATURES
            probabilities = (
                torch.sigmoid(logits) if criterion.kind == "binary" else torch.softmax(logits.double(), dim=1)
            )
            # The weights over a power of two near their sum, exactly (as the objective's, ._objective.weight_unit):
            # float32 weights of 2e38 overflowed every Hessian, each then built again with float64 products.
            unit = weight_unit(criterion.weight_sum)
            H = data_hessian(X, probabilities, weight * (1.0 / unit), criterion.kind, fit_intercept, product_dtype)
        H /= criterion.weight_sum / unit
        l2 = criterion.l2_strength
        p = d + int(fit_intercept)
        if l2 > 0:
            diagonal = H.diagonal().view(K, p)
            diagonal[:, :d] += l2
        G = self._blocks(g)
        # The multinomial parameters are determined up to a shift: the last class's block (unpenalised) or its
        # intercept stays fixed, the trailing entries in the block layout.
        free = K * p
        if criterion.kind == "multinomial":
            if l2 == 0:
                free -= p
            elif fit_intercept:
                free -= 1
        H_free = H[:free, :free]
        L, info = torch.linalg.cholesky_ex(H_free)
        rcond = _reciprocal_condition(L, H_free) if int(info) == 0 else 0.0
        float32_sensitive = (
            self.promote_on_failure
            and W.dtype != torch.float64
            and int(info) == 0
            and _scaled_reciprocal_condition(*_without_shift(L, H_free, K, p, d, criterion.kind, l2))
            < _FLOAT32_SENSITIVE_RCOND
        )
        if rcond < torch.finfo(torch.float64).eps and product_dtype is None and X.dtype != torch.float64:
            return self._newton_step(x, g, product_dtype=torch.float64)
        if int(info) != 0:
            return _scipy_solve_words(H_free, G[:free]) or (
                f"Matrix is not positive definite (its leading minor of order {int(info)} is not)."
            )
        if rcond < torch.finfo(torch.float64).eps:
            # scikit-learn's scipy.linalg.solve(assume_a="sym") warns below eps and it falls back to lbfgs: the
            # Newton step would be mostly rounding (unscaled breast cancer at C=inf took 22 such steps here).
            return ill_conditioned_words(rcond)
        step_free = torch.cholesky_solve(-G[:free].unsqueeze(1), L)[:, 0]
        if not bool(torch.isfinite(step_free).all()):
            return "The Newton step is not finite."
        if float32_sensitive:  # the float32 step would be rounding along the near-null directions
            return FLOAT64_STEPS
        step = torch.zeros_like(G)
        step[:free] = step_free
        if criterion.kind == "multinomial" and l2 > 0:
            # Along the classes' common shift of the coefficients the objective is the penalty alone (the logits'
            # differences do not change), exactly quadratic with curvature l2: its Newton step is the centring of
            # the current coefficients. The solved step's component there is the data gradient's rounding divided
            # by l2 (float32: coefficients 1e-4 relative off at C=10, predictions unchanged), so it is replaced.
            blocks = step.view(K, p)
            blocks[:, :d] -= blocks[:, :d].mean(dim=0) + W.detach().double().mean(dim=0)
            step_free = step[:free]
        gtd = float(G @ step)
        decrement = 0.5 * float(step_free @ (H_free @ step_free))
        return self._unblocks(step, W.dtype), gtd, decrement

    def _start_fallback(self, message=None, category=ConvergenceWarning):
        """Go on with L-BFGS; warn ``message`` (None: silently, as scikit-learn does without ``verbose``)."""
        if message is not None:
            warn(message, category)
        self._fallback = LBFGS(self._params, history_size=10, max_ls=50)
        # Without it, columns of scales 1e-8..1e8 left the fall-back 40% above the optimum, called converged.
        self._fallback.set_preconditioner(self.fallback_preconditioner)
        self._state["fallback"] = True

    # ------------------------------------------------------------------------ step
    @torch.no_grad()
    def step(self, closure):
        """One iteration; returns the objective at the starting point (float64 tensor)."""
        if self._problem is None:
            raise RuntimeError("NewtonCholesky.step needs the data: call bind(batch, criterion) first")
        state = self._state
        state.setdefault("n_iter", 0)
        state.setdefault("func_evals", 0)
        state.setdefault("fallback", False)
        self.stepless = False
        if self._fallback is not None:
            return self._fallback_step(closure)
        x = self._flat()
        if "x" in state and torch.equal(state["x"], x):
            f, g = state["f"], state["g"]
        else:  # first step, or the parameters were changed from outside
            f, g = self._evaluate(closure, x)
            state["func_evals"] += 1
        iteration = state["n_iter"] + 1
        name = "NewtonCholeskySolver"  # scikit-learn's class, named in its warnings: filters written for them hold
        result = self._newton_step(x, g)
        if result is FLOAT64_STEPS:
            return self._stall_for_float64(x, f, g)
        if result is FLAT_CURVATURES:  # scikit-learn's words
            self._start_fallback(
                f"The inner solver of {name} detected a pointwise hessian with many negative values at iteration "
                f"#{iteration}. It will now resort to lbfgs instead."
            )
            return self._fallback_step(closure, start=(f, g))
        if isinstance(result, str):  # scikit-learn's warning, its category and its words
            self._start_fallback(
                f"The inner solver of {name} stumbled upon a singular or very ill-conditioned Hessian matrix at "
                f"iteration {iteration}. It will now resort to lbfgs instead.\n"
                "Further options are to use another solver or to avoid such situation in the first place. Possible "
                "remedies are removing collinear features of X or increasing the penalization strengths.\n"
                "The original Linear Algebra message was:\n" + result,
                scipy.linalg.LinAlgWarning,
            )
            return self._fallback_step(closure, start=(f, g))
        d, gtd, decrement = result
        if gtd > 0:  # scikit-learn says so only with verbose (a print), and goes on with L-BFGS
            self._start_fallback()
            return self._fallback_step(closure, start=(f, g))

        criterion = self._problem[1]
        eps = 16 * torch.finfo(x.dtype).eps
        t = self.param_groups[0]["lr"]
        sum_abs_g = None
        for _ in range(_MAX_LINE_SEARCH):
            x_t = x + t * d
            f_t, g_t = self._evaluate(closure, x_t)
            state["func_evals"] += 1
            change = f_t - f
            if change <= t * _SIGMA * gtd:  # Armijo (never true for a non-finite f_t)
                break
            if abs(change) <= abs(f) * eps:  # within rounding: accept if the gradient shrinks
                sum_abs_g = float(g.abs().sum()) if sum_abs_g is None else sum_abs_g
                if float(g_t.abs().sum()) < sum_abs_g:
                    break
            t *= _BETA
        else:
            self._set_params(x)
            if self.promote_on_failure and x.dtype != torch.float64:
                # The float32 objective's rounding, most likely (a float64 Newton step succeeds where scikit-learn's
                # does).
                return self._stall_for_float64(x, f, g)
            self._start_fallback(
                f"Line search of Newton solver {name} at iteration #{iteration} did not converge after 21 line "
                "search refinement iterations. It will now resort to lbfgs instead."
            )
            return self._fallback_step(closure, start=(f, g))
        x_t = self._center(x_t, criterion.kind, penalized=not math.isinf(criterion.C))
        self._set_params(x_t)
        state.update(x=x_t, f=f_t, g=g_t, n_iter=iteration, loss=f_t, newton_decrement=decrement)
        state["grad_max"] = float(g_t.abs().max())
        return torch.tensor(f, dtype=torch.float64, device="cpu")

    def _stall_for_float64(self, x, f, g):
        """No step: the stopping rule sees a stall (no decrease) and the fit continues in float64 from ``x``
        (``stepless`` tells it that this iteration moved nothing, and is not one of ``n_iter_``)."""
        self.stepless = True
        self._set_params(x)
        self._state.update(x=x, f=f, g=g, loss=f, newton_decrement=math.inf)
        self._state["grad_max"] = float(g.abs().max())
        return torch.tensor(f, dtype=torch.float64, device="cpu")

    def _fallback_step(self, closure, start=None):
        """One L-BFGS iteration; ``start``: the objective and gradient where the Newton step failed (the fall-back's
        first call). Where that gradient already meets ``fallback_gtol``, scikit-learn's L-BFGS-B stops before its
        first iteration (``nit`` 0: converged, ``n_iter_`` the Newton iterations before the failed one), so no step
        is taken (``stepless``; the stopping rule drops the row)."""
        state = self._state
        if start is not None:
            start, g = start
            grad_max = float(g.abs().max())
            if grad_max <= self.fallback_gtol:
                self.stepless = True
                state.update(loss=start, grad_max=grad_max)
                state.pop("x", None)
                return torch.tensor(start, dtype=torch.float64, device="cpu")
        before = self._fallback.step(closure)
        inner = self._fallback.state[self._params[0]]
        state.update(
            n_iter=state["n_iter"] + 1,
            loss=inner["loss"],
            grad_max=inner["grad_max"],
            func_evals=state["func_evals"] + inner["func_evals"],
        )
        state.pop("x", None)
        inner["func_evals"] = 0
        return torch.tensor(start, dtype=torch.float64, device="cpu") if start is not None else before


class NewtonConvergence(_StoppingRule):
    """scikit-learn's stopping rule for newton-cholesky (``max |g| <= tol`` and ``decrement^2 / 2 <= tol``).

    After a fall-back to L-BFGS, L-BFGS's rule applies (as in scikit-learn, where
    L-BFGS-B then decides), with ``ftol`` the relative decrease at which it stalls. Only
    a float64 run (``exact``) calls such a stall convergence: in float32 it is the
    objective's rounding. There a stall, by Newton (a decrease within ``ftol`` before the
    gradient meets ``tol``: a float32 gradient cannot go below ~1e-7, so ``tol=1e-8`` ran
    every iteration at the optimum and warned) or by its fall-back, stops the run with
    ``promote_ = True`` when ``can_promote``: the caller continues in float64 from the same
    point (``to_float64()``), as for L-BFGS. Otherwise it stops unconverged (a ConvergenceWarning).
    """

    def __init__(self, tol, ftol, exact=True, can_promote=False):
        self.tol = tol
        self.ftol = ftol
        self.exact = exact
        self.can_promote = can_promote
        self.fallback_at_ = None  # the iteration whose Newton step failed (kept through a float64 continuation)

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.fell_back_ = False

    def to_float64(self):
        """The rule for the float64 continuation."""
        self.exact, self.ftol, self.promote_ = True, ftol_for(torch.float64), False
        return self

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        before, after = row["batches"][0]["train_loss"], row["objective"]
        if not math.isfinite(after):
            raise FloatingPointError(
                "The objective became non-finite during the Newton iterations; the data may contain "
                "extreme values (try scaling the features or dtype='float64')."
            )
        state = net.optimizer_.state[next(net.module_.parameters())]
        stalled = before - after <= self.ftol * max(abs(before), abs(after), 1.0)
        if state.get("fallback"):
            self.fell_back_ = True
            if getattr(net.optimizer_, "stepless", False):  # L-BFGS-B stops before iterating
                del net.history[-1]
                self._stop("CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL")
            if self.fallback_at_ is None:
                self.fallback_at_ = len(net.history)
            # scikit-learn's fall-back is L-BFGS-B, which stops at its limit first, and its limit is max_iter less
            # the Newton iterations including the failed one, which n_iter_ then leaves out: one iteration of the
            # budget spent outside the history here (whose fall-back epoch also takes L-BFGS's first step).
            if self._at_limit(net, spent=1):
                self._stop_at_limit()
            if row["grad_max"] <= self.tol:
                self._stop("CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL")
            if stalled:
                self._stop_stalled(self.exact)
            return
        if row["grad_max"] <= self.tol and state["newton_decrement"] <= self.tol:
            self._stop("Newton solver converged: max |gradient| <= tol and Newton decrement <= tol.")
        if stalled and not self.exact and self.can_promote:
            self._stall(FLOAT32_EXHAUSTED)

    def on_train_end(self, net, **kwargs):
        # The optimizer is kept on the fitted net: it must not keep the training data alive.
        bind = getattr(net.optimizer_, "bind", None)
        if bind is not None:
            bind(None, None)


def _scipy_solve_words(H, G):
    """What SciPy's ``linalg.solve(H, -G, assume_a="sym")`` (scikit-learn's Newton step) raises or warns of a Hessian
    whose Cholesky factorisation failed, in the installed SciPy's words (an LDL^T factorisation on the host, on this
    failure path only); None where SciPy solves it without complaint."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", scipy.linalg.LinAlgWarning)
        try:
            scipy.linalg.solve(H.double().cpu().numpy(), -G.double().cpu().numpy(), check_finite=False, assume_a="sym")
        except (np.linalg.LinAlgError, scipy.linalg.LinAlgWarning) as error:
            return str(error)
    return None


def _scaled_reciprocal_condition(L, H):
    """:func:`_reciprocal_condition` of ``D H D`` with ``D = diag(H)^(-1/2)`` (unit diagonal), from ``L``:
    the Cholesky factor of ``D H D`` is ``D L``. Independent of the columns' scales. One temporary of ``H``'s
    size (``D L``); the scaled matrix's norm is read a block of columns at a time."""
    d = H.diagonal().rsqrt()
    return _reciprocal_condition(L * d.unsqueeze(1), H, d)


def _reciprocal_condition(L, H, d=None):
    """LAPACK's estimate of ``1 / (||H||_1 ||H^-1||_1)`` from the Cholesky factor ``L`` of ``H``
    (of ``D H D`` with ``D = diag(d)`` when ``d`` is given; ``L`` is then that matrix's factor).

    What ``scipy.linalg.solve`` compares with eps before it warns (there of an LDL^T factor): one
    O(p^2) pass on the host over the factor the step is solved with. The norm is summed a block of
    columns at a time: ``H.abs()`` whole was another matrix of the Hessian's size (up to 2 GiB).
    """
    step = max(1, CHUNK_VALUES // max(H.shape[0], 1))
    anorm = 0.0
    for start in range(0, H.shape[1], step):
        block = H[:, start : start + step].abs()
        if d is not None:
            block.mul_(d.unsqueeze(1)).mul_(d[start : start + step])
        anorm = max(anorm, float(block.sum(dim=0).max()))
    rcond, info = scipy.linalg.lapack.dpocon(L.detach().to(torch.float64).cpu().numpy(), anorm, uplo="L")
    return float(rcond) if info == 0 else 0.0


def _without_shift(L, H, K, p, d, kind, l2):
    """``(L, H)`` with the penalised multinomial coefficients' common shift given the curvature of the data's mean
    diagonal instead of ``l2``: the step along it is exact (the centring, see :meth:`NewtonCholesky._newton_step`),
    so its small curvature at a large ``C S`` must not count as float32 sensitivity. The data's part of ``H``
    annihilates the shift (its class blocks sum to zero by row) and the penalty's is ``l2`` times the identity, so the
    shift is an eigenvector of ``H`` (eigenvalue ``l2``): adding along it leaves the other eigenvalues as they are."""
    if kind != "multinomial" or l2 <= 0 or K < 2:
        return L, H
    index = (torch.arange(K, device=H.device).unsqueeze(1) * p + torch.arange(d, device=H.device)).T  # (d, K)
    alpha = float(H[index, index].mean()) if d else 0.0
    H_shift = H.clone()
    H_shift[index.unsqueeze(2), index.unsqueeze(1)] += alpha / K
    L_shift, info = torch.linalg.cholesky_ex(H_shift)
    return (L_shift, H_shift) if int(info) == 0 else (L, H)
