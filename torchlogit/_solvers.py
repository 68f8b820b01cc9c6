"""What the optimisers need that torch does not ship as we need it.

:class:`LBFGS` is L-BFGS with torch's strong-Wolfe line search, doing exactly one
iteration per ``step(closure)`` (one skorch epoch each). ``torch.optim.LBFGS`` is not
used directly because it drops curvature pairs with an absolute test (``y's > 1e-10``):
on an objective averaged over samples, as scikit-learn's is, that test throws away
most updates near the optimum and L-BFGS needs 2-3x more iterations than SciPy's
L-BFGS-B. Here the test is L-BFGS-B's relative one. The optimiser also remembers the
objective and gradient at the point it accepted, so no evaluation is repeated between
iterations.
"""

import torch
from torch.optim.lbfgs import _strong_wolfe


class LBFGS(torch.optim.Optimizer):
    """One L-BFGS iteration per ``step(closure)``.

    Parameters
    ----------
    params : iterable of tensors
        The parameters to optimise (one group).
    lr : float, default=1.0
        Initial step of each line search after the first (the first is
        ``min(1, 1/||g||_1)``, as in torch and SciPy).
    history_size : int, default=10
        Number of curvature pairs kept (SciPy's default, used by scikit-learn).
    max_ls : int, default=50
        Maximum objective evaluations per line search (scikit-learn's ``maxls``).

    Notes
    -----
    After each ``step``, ``state`` holds ``loss`` and ``grad_max``, the objective and
    the largest absolute gradient entry at the new point.
    """

    def __init__(self, params, lr=1.0, history_size=10, max_ls=50):
        super().__init__(params, dict(lr=lr, history_size=history_size, max_ls=max_ls))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS takes a single parameter group")
        self._params = self.param_groups[0]["params"]

    @property
    def _state(self):
        return self.state[self._params[0]]

    def _flat_params(self):
        return torch.cat([p.detach().reshape(-1) for p in self._params])

    def _flat_grad(self):
        return torch.cat(
            [p.grad.reshape(-1) if p.grad is not None else torch.zeros_like(p).reshape(-1) for p in self._params]
        )

    def _set_params(self, flat):
        offset = 0
        for p in self._params:
            n = p.numel()
            p.copy_(flat[offset : offset + n].view_as(p))
            offset += n

    def _evaluate(self, closure, x):
        self._set_params(x)
        with torch.enable_grad():
            loss = float(closure().detach())
        return loss, self._flat_grad()

    def _direction(self, g):
        """Two-loop recursion: ``-H g`` with the stored curvature pairs."""
        state = self._state
        q = -g
        alphas = []
        for s, y, rho in reversed(state["pairs"]):
            a = rho * s.dot(q)
            q = q - a * y
            alphas.append(a)
        r = q * state["H_diag"]
        for (s, y, rho), a in zip(state["pairs"], reversed(alphas), strict=True):
            r = r + s * (a - rho * y.dot(r))
        return r

    @torch.no_grad()
    def step(self, closure):
        """One iteration; returns the objective at the starting point."""
        group = self.param_groups[0]
        state = self._state
        state.setdefault("pairs", [])
        state.setdefault("H_diag", 1.0)
        state.setdefault("n_iter", 0)
        state.setdefault("func_evals", 0)
        x = self._flat_params()
        if "x" in state and torch.equal(state["x"], x):
            f, g = state["f"], state["g"]
        else:  # first step, or the parameters were changed from outside
            f, g = self._evaluate(closure, x)
            state["func_evals"] += 1

        d = self._direction(g)
        gtd = float(g.dot(d))
        if gtd >= 0:  # not a descent direction (rounding): restart from steepest descent
            state["pairs"].clear()
            state["H_diag"] = 1.0
            d = -g
            gtd = float(g.dot(d))
        if state["n_iter"] == 0:
            t = min(1.0, 1.0 / float(g.abs().sum())) * group["lr"] if gtd < 0 else 0.0
        else:
            t = group["lr"]

        eps = torch.finfo(x.dtype).eps
        if gtd < 0:
            f_new, g_new, t, evals = _strong_wolfe(
                lambda x0, t_, d_: self._evaluate(closure, x0 + t_ * d_),
                x,
                t,
                d,
                f,
                g,
                gtd,
                tolerance_change=eps,
                max_ls=group["max_ls"],
            )
            x_new = x + t * d
            state["func_evals"] += evals
        else:  # zero gradient: already optimal
            f_new, g_new, x_new = f, g, x
        self._set_params(x_new)

        s, y = x_new - x, g_new - g
        ys = float(y.dot(s))
        if ys > eps * -gtd * t:  # L-BFGS-B's curvature test, relative to the step
            state["pairs"].append((s, y, 1.0 / ys))
            del state["pairs"][: -group["history_size"]]
            state["H_diag"] = ys / float(y.dot(y))
        state.update(x=x_new, f=f_new, g=g_new, n_iter=state["n_iter"] + 1)
        state["loss"] = f_new
        state["grad_max"] = float(g_new.abs().max())
        return torch.tensor(f, dtype=torch.float64)
