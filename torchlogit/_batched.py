"""Many logistic regressions on the same rows, solved as one batch.

A cross-validated path is ``n_folds x n_l1_ratios x n_Cs`` problems that share ``X``
and differ in their rows (a fold's training rows), their penalty (``C``, ``l1_ratio``)
and their convergence. Here they are one optimisation over a stacked parameter tensor
``x`` of shape ``(n_problems, n_outputs * n_features [+ n_outputs])``:

* **one product per evaluation**: the logits of every problem are ``X @ W_all.T`` with
  ``W_all`` of shape ``(n_problems * n_outputs, n_features)``, and the gradients
  ``X.T @ R_all``: two matrix-matrix products over the one copy of ``X``, instead of
  ``2 n_problems`` matrix-vector products. A problem's rows are a column of weights
  (``row_weight[:, group]``: the sample weights times the fold's training mask), never a
  copy of ``X``; its objective is :mod:`torchlogit._objective`'s with its own weight sum.
* **batched L-BFGS** (:func:`batched_lbfgs`): every problem keeps its own history of
  curvature pairs (one ring buffer for all, a rejected pair stored with ``rho = 0`` so
  that it drops out of the two-loop recursion), its own step length and line search,
  its own OWL-QN orthant handling when it has an L1 part, and its own stopping rule
  (scikit-learn's: ``max |projected gradient| <= tol`` or a relative decrease of the
  objective below ``64 eps``). All of it is vectorised over problems: per-problem
  scalars are tensors of shape ``(n_problems,)``.
* **per-problem convergence**: a converged problem leaves the active set; each
  evaluation only computes the problems still searching (the active set, and within a
  line search the problems whose trial step was not accepted yet). The batch stops
  when no problem is active.
* The line search is a backtracking (Armijo) search starting from the unit step, with
  quadratic interpolation (safeguarded to [0.1, 0.5] of the previous step); with
  L-BFGS's scaled directions the unit step is accepted in the vast majority of
  iterations, so an iteration costs one evaluation. OWL-QN problems use the projected
  backtracking of Andrew & Gao (2007), as :class:`torchlogit._solvers.LBFGS` does.

Two orders are implemented, to be measured against each other by benchmarks/cv.py
(40k x 60 binary, 5 folds x 10 Cs, float32; not measured yet, see :mod:`torchlogit._cv`):

* "batch": all folds x Cs from zero in one batch (the default);
* "path": Cs one after another, each a batch of the folds, warm-started from the
  previous C's solution (scikit-learn's path order).
"""

import numpy as np
import torch
import torch.nn.functional as F

from ._kernels import transposed_product

# Curvature pairs per problem (SciPy's default, which scikit-learn uses).
HISTORY = 10
# Objective evaluations per line search (scikit-learn's maxls).
MAX_LINE_SEARCH = 50
# Problems per batch are limited so that the logits (n_rows x n_problems x n_outputs) stay near this many values.
MAX_BATCH_VALUES = 1 << 25


class BatchedLogistic:
    """Objective and gradient of many linear logistic problems sharing ``X``.

    Parameters
    ----------
    X : Tensor of shape (n_rows, n_features), dense or sparse CSR, on the device
    target : Tensor of shape (n_rows,)
        binary: floats in {0, 1}; multinomial: class indices (int64).
    row_weight : Tensor of shape (n_rows, n_groups)
        Weight of each row in each group of problems (a fold's training rows).
    kind : {"binary", "multinomial"}
    n_outputs : int
    fit_intercept : bool
    """

    def __init__(self, X, target, row_weight, *, kind, n_outputs, fit_intercept):
        self.X = X
        self.target = target
        self.kind = kind
        self.n_outputs = n_outputs
        self.n_features = X.shape[1]
        self.fit_intercept = fit_intercept
        self.weight_sum = torch.sum(row_weight, dim=0, dtype=torch.float64)
        # Each row's weight divided by its group's weight sum: the data term is then a plain weighted sum.
        self.scaled_weight = (row_weight / self.weight_sum.to(row_weight.dtype)).to(X.dtype)
        self.n_params = n_outputs * self.n_features + (n_outputs if fit_intercept else 0)

    def l1_mask(self, dtype, device):
        """1 for the coefficients, 0 for the intercepts (never penalised)."""
        mask = torch.ones(self.n_params, dtype=dtype, device=device)
        mask[self.n_outputs * self.n_features :] = 0
        return mask

    def split(self, x):
        """``(W, b)`` views of flat parameters ``x`` of shape (P, n_params): (P, K, F) and (P, K) or None."""
        K, Fn = self.n_outputs, self.n_features
        W = x[:, : K * Fn].reshape(-1, K, Fn)
        b = x[:, K * Fn :] if self.fit_intercept else None
        return W, b

    def logits(self, x):
        """Logits of every problem on every row: (n_rows, P, K)."""
        W, b = self.split(x)
        P, K, Fn = W.shape
        Z = self.X @ W.reshape(P * K, Fn).T
        if b is not None:
            Z = Z + b.reshape(1, P * K)
        return Z.reshape(-1, P, K)

    def evaluate(self, x, groups, l2, l1):
        """Objectives (float64, shape (P,)) and smooth gradients (P, n_params) of problems ``x``.

        ``groups`` (P,) indexes the column of ``row_weight`` of each problem; ``l2`` and
        ``l1`` (P,) are the coefficients of ``||W||^2 / 2`` and ``||W||_1`` (float64).
        The L1 part is in the value, not in the gradient.
        """
        P = x.shape[0]
        K, Fn = self.n_outputs, self.n_features
        Z = self.logits(x)
        weight = self.scaled_weight[:, groups]  # (n, P): a column per problem, not a copy of X
        if self.kind == "binary":
            z = Z[:, :, 0]
            target = self.target.unsqueeze(1).expand_as(z)
            losses = F.binary_cross_entropy_with_logits(z, target, reduction="none")
            residual = (torch.sigmoid(z) - target).mul_(weight).unsqueeze(2)
        else:
            shift = Z.amax(dim=2, keepdim=True)
            residual = (Z - shift).exp_()
            total = residual.sum(dim=2, keepdim=True)
            index = self.target.view(-1, 1, 1).expand(-1, P, 1)
            losses = (total.log() + shift - Z.gather(2, index))[:, :, 0]
            residual.div_(total)
            residual.scatter_add_(2, index, torch.full_like(total, -1.0))
            residual.mul_(weight.unsqueeze(2))
        value = torch.sum(losses * weight, dim=0, dtype=torch.float64)
        residual = residual.reshape(-1, P * K)
        grad = torch.empty_like(x)
        grad[:, : K * Fn] = transposed_product(self.X, residual).T.reshape(P, K * Fn)
        if self.fit_intercept:
            grad[:, K * Fn :] = residual.sum(0).reshape(P, K)
        W = x[:, : K * Fn]
        squares = torch.sum(W * W, dim=1, dtype=torch.float64)
        value = value + 0.5 * l2 * squares + l1 * torch.sum(W.abs(), dim=1, dtype=torch.float64)
        grad[:, : K * Fn] += l2.to(x.dtype).unsqueeze(1) * W
        return value, grad


def _pseudo_gradient(x, g, lam):
    """The minimum-norm subgradient (OWL-QN); ``lam`` (P, D) is 0 where there is no L1 term."""
    at_zero = torch.where(g + lam < 0, g + lam, torch.where(g - lam > 0, g - lam, torch.zeros_like(g)))
    return torch.where(x > 0, g + lam, torch.where(x < 0, g - lam, at_zero))


def _dot(a, b):
    return torch.sum(a * b, dim=1, dtype=torch.float64)


def _two_loop(pg, S, Y, rho, gamma, order):
    """``-H pg`` per problem; ``S``, ``Y`` (m, P, D), ``rho`` (m, P) with 0 for an empty or rejected slot."""
    q = pg.clone()
    alphas = {}
    for i in reversed(order):
        alpha = rho[i] * _dot(S[i], q)
        alphas[i] = alpha
        q -= alpha.to(q.dtype).unsqueeze(1) * Y[i]
    r = q * gamma.to(q.dtype).unsqueeze(1)
    for i in order:
        beta = rho[i] * _dot(Y[i], r)
        r += (alphas[i] - beta).to(r.dtype).unsqueeze(1) * S[i]
    return r.neg_()


class BatchResult:
    """Solutions ``x`` (P, D), iterations ``n_iter`` (P,) and which problems converged (P,)."""

    def __init__(self, x, n_iter, converged):
        self.x = x
        self.n_iter = n_iter
        self.converged = converged


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
    max_iter : int
        Iterations per problem.
    ftol : float
        Stop a problem when an iteration decreases its objective by at most this, relative.
    x0 : Tensor of shape (P, D), optional
        Starting points (zeros by default, as scikit-learn).

    Returns
    -------
    BatchResult
    """
    X = problem.X
    device, dtype = X.device, X.dtype
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
    mask = problem.l1_mask(dtype, device)
    lam_all = l1_all.to(dtype).unsqueeze(1) * mask  # (P, D)
    has_l1 = (l1_all > 0).cpu().numpy()

    x = torch.zeros((P, D), dtype=dtype, device=device) if x0 is None else x0.to(device=device, dtype=dtype).clone()
    f, g = problem.evaluate(x, groups_t, l2_all, l1_all)
    m = HISTORY
    S_hist = torch.zeros((m, P, D), dtype=dtype, device=device)
    Y_hist = torch.zeros((m, P, D), dtype=dtype, device=device)
    rho = torch.zeros((m, P), dtype=torch.float64, device=device)
    gamma = torch.ones(P, dtype=torch.float64, device=device)
    n_iter = np.zeros(P, dtype=np.int32)
    converged = np.zeros(P, dtype=bool)
    pg_all = _pseudo_gradient(x, g, lam_all)
    active = np.flatnonzero(pg_all.abs().amax(dim=1).cpu().numpy() > tol)
    converged[np.setdiff1d(np.arange(P), active)] = True
    eps = torch.finfo(dtype).eps
    slot, filled = 0, 0

    for iteration in range(max_iter):
        if len(active) == 0:
            break
        A = torch.as_tensor(active, device=device)
        xA, fA, gA, lamA = x[A], f[A], g[A], lam_all[A]
        pg = _pseudo_gradient(xA, gA, lamA)
        order = [(slot - filled + i) % m for i in range(filled)]
        d = _two_loop(pg, S_hist[:, A], Y_hist[:, A], rho[:, A], gamma[A], order)
        l1A = torch.as_tensor(has_l1[active], device=device)
        d = torch.where(l1A.unsqueeze(1) & (d * pg >= 0), torch.zeros_like(d), d)
        gtd = _dot(pg, d)
        restart = ~(gtd < 0)  # not a descent direction (rounding): steepest descent, history dropped
        if bool(restart.any()):
            d = torch.where(restart.unsqueeze(1), -pg, d)
            gtd = torch.where(restart, _dot(pg, -pg), gtd)
            rho[:, A[restart]] = 0.0
            gamma[A[restart]] = 1.0
        t = torch.ones(len(active), dtype=torch.float64, device=device)
        if iteration == 0 and x0 is None:
            t = torch.minimum(t, 1.0 / pg.abs().sum(1, dtype=torch.float64).clamp_min(torch.finfo(dtype).tiny))
        orthant = torch.where(xA != 0, torch.sign(xA), -torch.sign(pg))

        x_new, f_new, g_new = xA.clone(), fA.clone(), gA.clone()
        searching = torch.arange(len(active), device=device)
        failed = torch.zeros(len(active), dtype=torch.bool, device=device)
        for _ in range(MAX_LINE_SEARCH):
            s_idx = searching
            x_t = xA[s_idx] + t[s_idx].to(dtype).unsqueeze(1) * d[s_idx]
            project = l1A[s_idx].unsqueeze(1) & (torch.sign(x_t) != orthant[s_idx])
            x_t = torch.where(project, torch.zeros_like(x_t), x_t)
            f_t, g_t = problem.evaluate(x_t, groups_t[A[s_idx]], l2_all[A[s_idx]], l1_all[A[s_idx]])
            decrease = _dot(pg[s_idx], x_t - xA[s_idx])
            ok = torch.isfinite(f_t) & (f_t <= fA[s_idx] + 1e-4 * decrease)
            accepted = s_idx[ok]
            x_new[accepted], f_new[accepted], g_new[accepted] = x_t[ok], f_t[ok], g_t[ok]
            searching = s_idx[~ok]
            if len(searching) == 0:
                break
            # Quadratic interpolation of f along the step, kept within [0.1, 0.5] of the step.
            t_s, f_s, g0 = t[searching], f_t[~ok], gtd[searching]
            curvature = f_s - fA[searching] - g0 * t_s
            t_q = torch.where(torch.isfinite(f_s) & (curvature > 0), -g0 * t_s * t_s / (2 * curvature), 0.5 * t_s)
            t[searching] = torch.minimum(torch.maximum(t_q, 0.1 * t_s), 0.5 * t_s)
        failed[searching] = True

        s = x_new - xA
        y = g_new - gA
        ys = _dot(y, s)
        keep = (ys > eps * (-gtd) * t) & ~failed
        S_hist[slot, A] = s
        Y_hist[slot, A] = y
        rho[slot, A] = torch.where(keep, 1.0 / torch.where(keep, ys, torch.ones_like(ys)), torch.zeros_like(ys))
        gamma[A] = torch.where(keep, ys / _dot(y, y).clamp_min(torch.finfo(torch.float64).tiny), gamma[A])
        slot = (slot + 1) % m
        filled = min(filled + 1, m)
        x[A], f[A], g[A] = x_new, f_new, g_new

        n_iter[active] += 1
        grad_max = _pseudo_gradient(x_new, g_new, lamA).abs().amax(dim=1)
        stalled = (fA - f_new) <= ftol * torch.maximum(torch.maximum(fA.abs(), f_new.abs()), torch.ones_like(fA))
        done = ((grad_max <= tol) | stalled).cpu().numpy()
        gave_up = failed.cpu().numpy() & ~done
        if not np.all(np.isfinite(f_new.cpu().numpy())):  # pragma: no cover - guarded by the line search
            raise FloatingPointError("The objective became non-finite during L-BFGS.")
        converged[active[done]] = True
        if verbose:
            print(f"iteration {iteration + 1}: {int(done.sum())} of {len(active)} problem(s) converged")
        active = active[~(done | gave_up)]
    return BatchResult(x, n_iter, converged)


def chunks(n_problems, n_rows, n_outputs):
    """Slices of problem indices so that each batch's logits hold about ``MAX_BATCH_VALUES`` values."""
    per_batch = max(1, MAX_BATCH_VALUES // max(n_rows * n_outputs, 1))
    return [slice(start, min(start + per_batch, n_problems)) for start in range(0, n_problems, per_batch)]
