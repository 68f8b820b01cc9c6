"""The line search's public contract, on one-dimensional functions whose Wolfe steps are known.

``strong_wolfe`` must return a step ``t`` with sufficient decrease
``phi(t) <= phi(0) + c1 t phi'(0)`` and the strong curvature condition
``|phi'(t)| <= c2 |phi'(0)|`` (Nocedal & Wright, eq. 3.7), together with ``phi(t)`` and
``phi'(t)`` as evaluated there. The functions are those of Moré & Thuente (1994), "Line
search algorithms with guaranteed sufficient decrease", Table 1 (phi_1 with beta=2, phi_2
with beta=0.004), a quadratic whose exact minimiser is the only step with ``c2 -> 0`` and
a quartic. Steps start far below and far above the acceptable interval, so the search
must extrapolate and zoom. A weakened curvature test (no absolute value, a larger ``c2``)
accepts steps that fail the condition checked here.
"""

import math

import numpy as np
import pytest
import torch

from torchlogit._solvers import LBFGS, strong_wolfe

from .test_line_search import quadratic_problem


def _phi1(a, b=2.0):
    return -a / (a * a + b), (a * a - b) / (a * a + b) ** 2


def _phi2(a, b=0.004):
    return (a + b) ** 5 - 2 * (a + b) ** 4, 5 * (a + b) ** 4 - 8 * (a + b) ** 3


def _quadratic(a, centre=3.0):
    return 0.5 * (a - centre) ** 2, a - centre


def _far_quadratic(a):
    return _quadratic(a, centre=100.0)


def _quartic(a):
    return (a - 2) ** 4 + 0.1 * (a - 2) ** 2 - a, 4 * (a - 2) ** 3 + 0.2 * (a - 2) - 1


FUNCTIONS = [_phi1, _phi2, _quadratic, _far_quadratic, _quartic]


def _search(phi, t0, **kwargs):
    calls = []

    def evaluate(t):
        calls.append(t)
        f, g = phi(t)
        return f, ("gradient at", t), g  # g is opaque to the search: it must come back from the same point

    f0, g0 = phi(0.0)
    t, f, g, n_evals = strong_wolfe(evaluate, f0, ("gradient at", 0.0), g0, t0, **kwargs)
    return t, f, g, n_evals, calls, f0, g0


def _assert_strong_wolfe(phi, t, f, g, n_evals, calls, f0, g0, c1, c2, max_evals=25):
    ft, gt = phi(t)
    assert f == ft and g == ("gradient at", t)
    assert ft <= f0 + c1 * t * g0, f"no sufficient decrease at t={t}"
    assert abs(gt) <= c2 * abs(g0), (
        f"curvature condition fails at t={t}: |phi'(t)|={abs(gt)}, c2|phi'(0)|={c2 * abs(g0)}"
    )
    assert n_evals == len(calls) <= max_evals


# phi_1 from t0 = 1000 is left out: phi_1(1000) < phi_1(0) without sufficient decrease, and the
# zoom (torch's _strong_wolfe's) keeps the lower end by value, so 25 evaluations end at t ~ 333,
# short of sufficient decrease. The caller never starts that far from a Wolfe step.
CASES = [(phi, t0) for phi in FUNCTIONS for t0 in (1e-3, 1e-1, 1.0, 10.0, 1e3) if not (phi is _phi1 and t0 == 1e3)]


@pytest.mark.parametrize("phi, t0", CASES)
@pytest.mark.parametrize("c1, c2", [(1e-4, 0.9), (1e-3, 0.1), (0.1, 0.1), (1e-4, 0.01)])
def test_returned_step_satisfies_the_strong_wolfe_conditions(phi, t0, c1, c2):
    t, f, g, n_evals, calls, f0, g0 = _search(phi, t0, c1=c1, c2=c2)
    _assert_strong_wolfe(phi, t, f, g, n_evals, calls, f0, g0, c1, c2)


@pytest.mark.parametrize("phi", FUNCTIONS)
@pytest.mark.parametrize("t0", [1e-3, 1.0, 10.0])
def test_default_constants_are_those_of_quasi_newton_methods(phi, t0):
    # Nocedal & Wright (p. 34): c1 = 1e-4 and c2 = 0.9 for (quasi-)Newton directions.
    t, f, g, n_evals, calls, f0, g0 = _search(phi, t0)
    _assert_strong_wolfe(phi, t, f, g, n_evals, calls, f0, g0, 1e-4, 0.9)


def test_tight_curvature_condition_finds_the_minimiser_of_a_quadratic():
    # |phi'(t)| = |t - 3| <= c2 * 3: with c2 = 1e-3 only steps within 0.003 of 3 qualify,
    # and 1 (where the search starts) does not.
    t, *_ = _search(_quadratic, 1.0, c1=1e-4, c2=1e-3)
    assert math.isclose(t, 3.0, abs_tol=3e-3)


def test_a_step_that_already_satisfies_both_conditions_is_taken_at_once():
    # phi_1: t = 1 has phi'(1) = -1/9 and phi'(0) = -1/2, so |phi'(1)| <= 0.9 |phi'(0)|.
    t, f, g, n_evals, calls, f0, g0 = _search(_phi1, 1.0, c1=1e-4, c2=0.9)
    assert (t, n_evals) == (1.0, 1)


def test_evaluation_budget_is_respected():
    t, f, g, n_evals, calls, f0, g0 = _search(_phi2, 1e-3, c1=1e-4, c2=0.01, max_evals=4)
    assert n_evals == len(calls) <= 4
    assert f == _phi2(t)[0]


def _assert_same_trials_as_torch(phi, t0, c2=0.9):
    """Our strong_wolfe and torch's _strong_wolfe on the line function ``phi``: the same trial steps, in the same
    order, and the same returned step, to rounding (c2 is both searches' curvature constant; 0.9 is torch's)."""
    from torch.optim.lbfgs import _strong_wolfe

    ours, theirs = [], []

    def evaluate(t):
        ours.append(t)
        f, g = phi(t)
        return f, None, g

    def objective(x, t, d):
        theirs.append(float(t))
        f, g = phi(float(x[0] + t * d[0]))
        return f, torch.tensor([g], dtype=torch.float64)

    f0, g0 = phi(0.0)
    t, _, _, n_evals = strong_wolfe(evaluate, f0, None, g0, t0, c2=c2)
    one = torch.ones(1, dtype=torch.float64)
    g0_tensor = torch.tensor([g0], dtype=torch.float64)
    _, _, t_torch, n_torch = _strong_wolfe(objective, 0 * one, t0, one, f0, g0_tensor, g0, c2=c2)
    assert n_evals == n_torch == len(ours) == len(theirs)
    assert ours == pytest.approx(theirs, rel=1e-9)
    assert t == pytest.approx(float(t_torch), rel=1e-9)


@pytest.mark.parametrize("phi, t0", CASES)
def test_same_trial_steps_as_torchs_strong_wolfe(phi, t0):
    """The search is torch.optim.lbfgs._strong_wolfe's (bracketing, cubic zoom, its safeguards and its test
    ``f_new >= f_prev`` from the third evaluation on): the same trial steps, in the same order, to rounding."""
    _assert_same_trials_as_torch(phi, t0)


def test_a_trial_with_a_finite_value_but_no_finite_slope_is_never_returned():
    """f is finite everywhere but its derivative is NaN beyond t = 2: such a trial counts as failed."""

    def evaluate(t):
        f, g = _quadratic(t, centre=3.0)
        return f, None, (g if t <= 2 else math.nan)

    f0, g0 = _quadratic(0.0, centre=3.0)
    t, f, _, n_evals = strong_wolfe(evaluate, f0, None, g0, 2.5)
    assert 0 < t <= 2 and f < f0


# --------------------------------------------------------------------------------------------------------------
# _cubic_minimum: the minimiser of the cubic through two points with values and slopes (torch's
# ``_cubic_interpolate``, polyinterp.lua), clipped to [lo, hi]; the midpoint when there is none.


def _cubic(x):
    """x^3 - 3x: local minimum at x = 1; an interpolating cubic through two of its points is itself."""
    return x**3 - 3 * x, 3 * x**2 - 3


@pytest.mark.parametrize("a, b", [(-0.5, 3.0), (3.0, -0.5), (0.0, 2.0), (2.0, 0.0), (0.25, 1.5)])
def test_cubic_minimum_is_exact_on_a_cubic(a, b):
    from torchlogit._solvers import _cubic_minimum

    lo, hi = min(a, b), max(a, b)
    assert _cubic_minimum(a, *_cubic(a), b, *_cubic(b), lo, hi) == pytest.approx(1.0, rel=1e-14)
    # Clipped to the bounds it is given, not to the two points.
    assert _cubic_minimum(a, *_cubic(a), b, *_cubic(b), 1.25, hi + 1) == 1.25
    assert _cubic_minimum(a, *_cubic(a), b, *_cubic(b), lo - 1, 0.75) == 0.75


def test_cubic_minimum_of_a_quadratic_is_its_minimiser():
    phi = lambda t: (5 * (t - 0.3) ** 2, 10 * (t - 0.3))  # noqa: E731
    assert _cubic_minimum_of(phi, 0.0, 1.0) == pytest.approx(0.3, rel=1e-14)
    assert _cubic_minimum_of(phi, 1.0, 0.0) == pytest.approx(0.3, rel=1e-14)


def _cubic_minimum_of(phi, a, b):
    from torchlogit._solvers import _cubic_minimum

    return _cubic_minimum(a, *phi(a), b, *phi(b), min(a, b), max(a, b))


def test_cubic_minimum_falls_back_to_the_midpoint():
    from torchlogit._solvers import _cubic_minimum

    # x^3 + 3x has no stationary point (d2^2 = -9 < 0).
    assert _cubic_minimum(0.0, 0.0, 3.0, 1.0, 4.0, 6.0, 0.0, 1.0) == 0.5
    # The same point twice: no cubic (division by zero).
    assert _cubic_minimum(1.0, 2.0, -1.0, 1.0, 2.0, -1.0, 0.5, 1.5) == 1.0
    # Values so large that the interpolant overflows to inf - inf: not finite.
    assert _cubic_minimum(0.0, 1e308, -1e308, 1e-300, -1e308, 1e308, 0.0, 4.0) == 2.0
    # x^3 through 0 and 1: d2^2 = 0 exactly, a double stationary point (the inflection at 0), which the
    # formula still returns (torch's `d2_square >= 0`).
    assert _cubic_minimum(0.0, 0.0, 0.0, 1.0, 1.0, 3.0, 0.0, 1.0) == 0.0


def test_cubic_minimum_is_torchs_cubic_interpolate():
    from torch.optim.lbfgs import _cubic_interpolate

    from torchlogit._solvers import _cubic_minimum

    rng = np.random.RandomState(0)
    compared = 0
    for _ in range(400):
        x1, x2 = rng.uniform(-3, 3, 2)
        f1, f2, g1, g2 = rng.randn(4) * 3
        lo, hi = min(x1, x2) - rng.uniform(0, 1), max(x1, x2) + rng.uniform(0, 1)
        theirs = float(_cubic_interpolate(x1, f1, torch.tensor(g1), x2, f2, torch.tensor(g2), bounds=(lo, hi)))
        ours = _cubic_minimum(x1, f1, g1, x2, f2, g2, lo, hi)
        assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-12)
        compared += lo < ours < hi
    assert compared > 100  # interior minimisers, not only clipped or fallback ones


# --------------------------------------------------------------------------------------------------------------
# _extrapolated_step: beyond t, within [t + 0.01 (t - t_prev), 10 t]; the cubic where the two values differ by
# more than their rounding error (f_precision relative to max(|f_prev|, |f_new|, 1)), else the zero of the
# slopes' secant, or the 10x cap when the slope does not rise.


def _secant(t_prev, gtd_prev, t, gtd_new):
    return t - gtd_new * (t - t_prev) / (gtd_new - gtd_prev)


def test_extrapolation_on_equal_values_is_the_secant_zero_of_the_slope_within_its_bounds():
    from torchlogit._solvers import _extrapolated_step

    # t_prev = 1, t = 3: the bounds are 3 + 0.01 * 2 = 3.02 and 30.
    assert _extrapolated_step(1.0, 2.0, -4.0, 3.0, 2.0, -1.0, 0.0) == pytest.approx(3 + 2 / 3, rel=1e-15)
    assert _extrapolated_step(1.0, 2.0, -1.0, 3.0, 2.0, -0.001, 0.0) == pytest.approx(3.02, rel=1e-15)
    assert _secant(1.0, -1.0, 3.0, -0.99) > 30
    assert _extrapolated_step(1.0, 2.0, -1.0, 3.0, 2.0, -0.99, 0.0) == 30.0
    # No rise (equal or steeper slope): the cap, never a division by zero.
    assert _extrapolated_step(1.0, 2.0, -1.0, 3.0, 2.0, -1.0, 0.0) == 30.0
    assert _extrapolated_step(1.0, 2.0, -1.0, 3.0, 2.0, -2.0, 0.0) == 30.0
    # A secant that is not a number (-inf / inf): the cap.
    assert _extrapolated_step(1.0, 2.0, -math.inf, 3.0, 2.0, -1e308, 0.0) == 30.0


# (f_prev, f_new, f_precision, cubic?): the threshold is f_precision * max(|f_prev|, |f_new|, 1), exclusive.
_PRECISION_CASES = [
    (0.25, 0.25 - 2**-10, 2**-10, False),  # exactly at the threshold (scale 1): equal within rounding
    (0.25, 0.25 - 2**-9, 2**-10, True),
    (0.5, 0.5 - 1.5 * 2**-10, 2**-10, True),  # scale 1, not 2
    (0.5, 0.5 - 0.75 * 2**-10, 2**-10, False),  # scale 1, not max(|f|) = 0.5
    (1024.0, 1023.0, 2**-10, False),  # scale |f_prev| = 1024: 1 is the threshold
    (-1023.0, -1024.0, 2**-10, False),  # scale |f_new| = 1024
    (1024.0, 1022.0, 2**-10, True),
    (3.0, 3.0, 0.0, False),  # torch's rule (f_precision = 0) on equal values
    (3.0, 3.0 - 2**-50, 0.0, True),
]


@pytest.mark.parametrize("f_prev, f_new, f_precision, cubic", _PRECISION_CASES)
def test_extrapolation_interpolates_only_values_that_differ_by_more_than_their_precision(
    f_prev, f_new, f_precision, cubic
):
    from torchlogit._solvers import _cubic_minimum, _extrapolated_step

    t_prev, gtd_prev, t, gtd_new = 1.0, -4.0, 3.0, -1.0
    by_cubic = _cubic_minimum(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, 3.02, 30.0)
    by_secant = _secant(t_prev, gtd_prev, t, gtd_new)
    assert by_cubic != pytest.approx(by_secant, rel=1e-6)  # the case tells the two rules apart
    got = _extrapolated_step(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, f_precision)
    assert got == pytest.approx(by_cubic if cubic else by_secant, rel=1e-14)


# --------------------------------------------------------------------------------------------------------------
# LBFGS's pieces against their textbook definitions.


def test_pseudo_gradient_is_owlqns_minimum_norm_subgradient():
    """Andrew & Gao (2007), eq. 4: g + lam sign(x) off zero; at zero g + lam if that is negative, g - lam if that
    is positive, else 0 (boundaries |g| = lam included); entries without a penalty (the intercept) keep g."""
    from torchlogit._solvers import LBFGS

    weight = torch.zeros(8, dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    optimizer = LBFGS([weight, bias])
    plain = torch.arange(10.0, dtype=torch.float64)
    assert optimizer._pseudo_gradient(torch.ones(10, dtype=torch.float64), plain) is plain  # no L1 set
    lam = 0.5
    optimizer.set_l1(lam, [weight])
    x = torch.tensor([1.0, -2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0, 0.0, -1.0], dtype=torch.float64)
    g = torch.tensor([0.25, 0.25, -0.75, 0.75, 0.25, -0.5, 0.5, -1.0, 0.3, -0.2], dtype=torch.float64)
    expected = [0.75, -0.25, -0.25, 0.25, 0.0, 0.0, 0.0, -0.5, 0.3, -0.2]
    assert optimizer._pseudo_gradient(x, g).tolist() == expected
    optimizer.set_l1(0.0, [weight])  # no penalty: the gradient itself
    assert optimizer._pseudo_gradient(x, g) is g


def _two_loop(g, pairs, gamma):
    """-H g by Nocedal & Wright's Algorithm 7.4 (the two-loop recursion), H0 = gamma I, in NumPy."""
    q = g.copy()
    alphas = []
    for s, y in reversed(pairs):
        alpha = (s @ q) / (y @ s)
        q -= alpha * y
        alphas.append(alpha)
    r = gamma * q
    for (s, y), alpha in zip(pairs, reversed(alphas), strict=True):
        beta = (y @ r) / (y @ s)
        r += s * (alpha - beta)
    return -r


@pytest.mark.parametrize("m", [1, 2, 5])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("step", [1.0, 1e-2])  # s . y above and below 1
def test_lbfgs_direction_is_the_two_loop_recursion(m, dtype, step):
    from torchlogit._solvers import lbfgs_direction

    rng = np.random.RandomState(m)
    n = 7
    A = rng.randn(n, n)
    A = A @ A.T + n * np.eye(n)  # SPD: every pair has positive curvature
    S = step * rng.randn(m, n)
    Y = S @ A + 0.1 * step * rng.randn(m, n)
    pairs = list(zip(S, Y, strict=True))
    assert all(s @ y > 0 for s, y in pairs) and (step == 1 or all(s @ y < 1 for s, y in pairs))
    g = rng.randn(n)
    gamma = float(S[-1] @ Y[-1] / (Y[-1] @ Y[-1]))
    stacked = torch.tensor(np.vstack([S, Y]), dtype=dtype)
    got = lbfgs_direction(torch.tensor(g, dtype=dtype), stacked, gamma)
    assert got.dtype == dtype and got.shape == (n,)
    rtol = 1e-10 if dtype == torch.float64 else 1e-4
    np.testing.assert_allclose(got.double().numpy(), _two_loop(g, pairs, gamma), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_curvature_memory_follows_the_history_and_gives_the_two_loop_direction(dtype):
    """CurvatureMemory (pairs kept stacked, Gram matrix updated a pair at a time) gives the two-loop direction
    at every step of a history that fills, slides past its capacity, is cleared, is replaced by a copy (a
    loaded state) and is cast to another dtype (float32 -> float64 continuation)."""
    from torchlogit._solvers import CurvatureMemory, lbfgs_direction

    rng = np.random.RandomState(0)
    n, capacity = 9, 4
    A = rng.randn(n, n)
    A = A @ A.T + n * np.eye(n)

    def pair():
        s = rng.randn(n)
        return torch.tensor(s, dtype=dtype), torch.tensor(s @ A + 0.1 * rng.randn(n), dtype=dtype)

    memory, pairs = CurvatureMemory(), []
    rtol = 1e-10 if dtype == torch.float64 else 1e-4
    for step in range(14):
        if step == 8:
            pairs.clear()  # steepest descent forgot the history
        if step == 10:
            pairs = [(s.clone(), y.clone()) for s, y in pairs]  # the same values in new tensors
        if step == 12:
            pairs = [(s.double(), y.double()) for s, y in pairs]  # cast: a new buffer in the new dtype
        pairs.append(pair() if step < 12 else tuple(t.double() for t in pair()))
        del pairs[:-capacity]
        g = torch.tensor(rng.randn(n), dtype=pairs[0][0].dtype)
        gamma = float(pairs[-1][0] @ pairs[-1][1] / (pairs[-1][1] @ pairs[-1][1]))
        got = memory.direction(g, pairs, gamma, capacity)
        stacked = torch.stack([s for s, _ in pairs] + [y for _, y in pairs])
        expected = _two_loop(g.double().numpy(), [(s.double().numpy(), y.double().numpy()) for s, y in pairs], gamma)
        assert got.dtype == g.dtype
        np.testing.assert_allclose(got.double().numpy(), expected, rtol=rtol, atol=rtol)
        np.testing.assert_allclose(got.numpy(), lbfgs_direction(g, stacked, gamma).numpy(), rtol=rtol, atol=rtol)
    # A pair without usable curvature: scaled steepest descent, as lbfgs_direction.
    pairs[-1] = (pairs[-1][0], -pairs[-1][1])
    assert torch.equal(memory.direction(g.double(), pairs, 0.5, capacity), -0.5 * g.double())


def test_lbfgs_direction_without_usable_curvature_is_scaled_steepest_descent():
    from torchlogit._solvers import lbfgs_direction

    g = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    assert torch.equal(lbfgs_direction(g, None, 0.25), -0.25 * g)
    good = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [2.0, 0.0, 0.0], [0.0, 3.0, 0.0]], dtype=torch.float64)
    assert not torch.equal(lbfgs_direction(g, good, 0.25), -0.25 * g)
    for bad_curvature in (0.0, -1.0, math.inf):
        # the second pair's s . y: zero, negative or not finite (the working dtype lost it)
        pairs = good.clone()
        pairs[1] = torch.tensor([0.0, 1.0, 0.0])
        pairs[3] = torch.tensor([0.0, bad_curvature, 0.0])
        assert torch.equal(lbfgs_direction(g, pairs, 0.25), -0.25 * g), bad_curvature


def test_defaults_are_scipys_and_one_parameter_group():
    """lr 1 (the first step ``1/||g||``), SciPy's history of 10 pairs and scikit-learn's ``maxls`` of 50; a list of
    one group dict is read like torch's optimizers read it, two groups are refused, no parameters are allowed."""
    from torchlogit._solvers import LBFGS

    p, q = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    optimizer = LBFGS([p, q])
    assert optimizer.defaults == {"lr": 1.0, "history_size": 10, "max_ls": 50}
    assert optimizer.param_groups == [{"params": [p, q], "lr": 1.0, "history_size": 10, "max_ls": 50}]
    assert optimizer.state == {} and optimizer._trials == []
    grouped = LBFGS([{"params": iter([p, q])}], lr=0.5, history_size=3, max_ls=7)
    assert grouped.param_groups == [{"params": [p, q], "lr": 0.5, "history_size": 3, "max_ls": 7}]
    with pytest.raises(ValueError, match="single parameter group"):
        LBFGS([{"params": [p]}, {"params": [q]}])
    assert LBFGS(iter([])).param_groups[0]["params"] == []


def test_zero_grad_clears_and_missing_gradients_count_as_zero():
    """A parameter the closure does not touch has no .grad: its gradient entries are 0 (it stays where it is)."""
    from torchlogit._solvers import LBFGS

    used = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    unused = torch.full((2, 2), 0.5, dtype=torch.float64, requires_grad=True)
    optimizer = LBFGS([unused, used])

    def closure():
        optimizer.zero_grad()
        loss = ((used - torch.tensor([1.0, 2.0], dtype=torch.float64)) ** 2).sum()
        loss.backward()
        return loss

    grad_max = optimizer.evaluate(closure)
    assert grad_max == 4.0  # |2 (0 - 2)|
    assert torch.equal(optimizer.state[unused]["g"], torch.tensor([0.0] * 4 + [-2.0, -4.0], dtype=torch.float64))
    assert unused.grad is None and used.grad is not None
    optimizer.zero_grad()
    assert used.grad is None
    for _ in range(3):
        optimizer.step(closure)
    assert torch.equal(unused.detach(), torch.full((2, 2), 0.5, dtype=torch.float64))
    torch.testing.assert_close(used.detach(), torch.tensor([1.0, 2.0], dtype=torch.float64))


def _logistic_problem(scale_columns, dtype=torch.float64):
    """A small binary logistic loss (mean, plus an L2 term) on columns of very different scales."""
    rng = np.random.RandomState(0)
    X = torch.tensor(rng.randn(40, 3) * scale_columns, dtype=dtype)
    y = torch.tensor(rng.randint(0, 2, 40), dtype=dtype)

    def objective(w, b):
        return torch.nn.functional.binary_cross_entropy_with_logits(X @ w + b, y) + 0.05 * (w**2).sum()

    return objective


def _run_lbfgs(objective, n_steps, scale=None, substitute=None, dtype=torch.float64, lr=1.0):
    """Iterates of LBFGS on objective(w, b); with ``substitute`` on v where (w, b) = substitute * v."""
    from torchlogit._solvers import LBFGS

    w = torch.zeros(3, dtype=dtype, requires_grad=True)
    b = torch.zeros(1, dtype=dtype, requires_grad=True)
    optimizer = LBFGS([w, b], lr=lr)
    if scale is not None:
        optimizer.set_preconditioner(scale)
    calls = []

    def closure():
        optimizer.zero_grad()
        if substitute is None:
            loss = objective(w, b[0])
        else:
            loss = objective(w * substitute[:3].to(dtype), b[0] * substitute[3].to(dtype))
        loss.backward()
        calls.append(1)
        return loss

    path = []
    for _ in range(n_steps):
        optimizer.step(closure)
        v = torch.cat([w.detach(), b.detach()]).double()
        path.append(v if substitute is None else v * substitute)
    return path, optimizer, calls


def test_the_preconditioner_is_plain_lbfgs_in_the_scaled_coordinates():
    """set_preconditioner(s) runs L-BFGS on v = x / s: the iterates are those of plain L-BFGS on h(v) = f(s v), mapped
    back (first step, curvature pairs, gamma, line search and all), and differ from plain L-BFGS on f."""
    objective = _logistic_problem(np.array([1e-2, 1.0, 30.0]))
    s = torch.tensor([4.0, 0.5, 1 / 30, 1.0], dtype=torch.float64)
    preconditioned, optimizer, _ = _run_lbfgs(objective, 6, scale=s)
    substituted, _, _ = _run_lbfgs(objective, 6, substitute=s)
    plain, _, _ = _run_lbfgs(objective, 6)
    for a, b in zip(preconditioned, substituted, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)
    assert not torch.allclose(preconditioned[0], plain[0], rtol=1e-3)
    assert len(optimizer.state[optimizer._params[0]]["pairs"]) == 6
    optimizer.set_preconditioner(None)
    assert optimizer._scale is None


def test_a_float64_preconditioner_runs_in_the_parameters_float32():
    """The scale takes the parameters' dtype: the curvature pairs stay float32 and the point of each step is reused
    by the next (one evaluation per line-search trial, none repeated)."""
    objective = _logistic_problem(np.array([1e-2, 1.0, 30.0]), dtype=torch.float32)
    s = torch.tensor([4.0, 0.5, 1 / 30, 1.0], dtype=torch.float64)
    _, optimizer, calls = _run_lbfgs(objective, 4, scale=s, dtype=torch.float32)
    state = optimizer.state[optimizer._params[0]]
    assert optimizer._scale.dtype == torch.float32
    assert all(s.dtype == y.dtype == torch.float32 for s, y in state["pairs"])
    assert state["x"].dtype == torch.float32
    assert state["func_evals"] == len(calls)


@pytest.mark.parametrize(
    "f, gtd, lr1, lr2",
    [
        (10.0, -25.0, 0.2, 0.4),  # lr / ||g||_2 = lr / 5, below f / |g.d| = 0.4
        (1.0, -25.0, 0.2, 0.4),  # beyond f / |g.d| = 0.04 by 5x / 10x: kept (L-BFGS-B's step)
        (0.1, -25.0, 0.2, 0.4),  # by 50x / 100x: kept
        (0.01, -25.0, 0.2, 0.4),  # by 500x / 1000x: kept (raw features of 1e2-1e5 overshoot so: L-BFGS-B's step)
        (2.5e-5, -25.0, 0.2, 0.4),  # by 2e5x / 4e5x: kept
        (1e-6, -25.0, 4e-8, 4e-8),  # by 5e6x / 1e7x: cut to f / |g.d|
        (1e-9, -25.0, 4e-11, 4e-11),  # features of 1e9: cut
        (0.0, -25.0, 0.2, 0.4),  # f = 0: no cap (it would be a zero step)
        (-1.0, -25.0, 0.2, 0.4),  # a negative objective (not a log-loss): no cap
        (1.0, 0.0, 0.2, 0.4),  # not a descent direction: no cap
        (1.0, 0.5, 0.2, 0.4),
    ],
)
def test_first_step_is_scipys_unit_step_cut_where_it_overshoots_the_linear_models_zero_1e6x(f, gtd, lr1, lr2):
    from torchlogit._solvers import LBFGS

    g = torch.tensor([3.0, -4.0], dtype=torch.float64)
    assert LBFGS._scaled_first_step(f, g, gtd, 1.0) == pytest.approx(lr1, rel=1e-15)
    assert LBFGS._scaled_first_step(f, g, gtd, 2.0) == pytest.approx(lr2, rel=1e-15)


def test_first_step_norm_is_taken_in_float64():
    """A float32 gradient whose squares overflow float32 ([3e37, -4e37], norm 5e37) still gives the step 1 / 5e37; a
    zero one 1 / 1e-300."""
    from torchlogit._solvers import LBFGS

    huge = torch.tensor([3e37, -4e37], dtype=torch.float32)
    assert torch.isinf(torch.linalg.vector_norm(huge))  # what float32 would give: a zero step
    assert LBFGS._scaled_first_step(0.0, huge, 0.0, 1.0) == pytest.approx(1 / 5e37, rel=1e-7, abs=0)
    assert LBFGS._scaled_first_step(0.0, torch.zeros(2), 0.0, 1.0) == pytest.approx(1e300, rel=1e-15)


def test_cast_keeps_the_preconditioner_in_the_new_dtype():
    from torchlogit._solvers import LBFGS

    p = torch.zeros(3, dtype=torch.float32, requires_grad=True)
    optimizer = LBFGS([p])
    optimizer.set_preconditioner(torch.tensor([1.0, 0.5, 0.25], dtype=torch.float64))
    assert optimizer._scale.dtype == torch.float32
    optimizer.cast_(torch.float64)
    assert optimizer._scale.dtype == torch.float64
    assert optimizer._scale.tolist() == [1.0, 0.5, 0.25]
    plain = LBFGS([torch.zeros(3, dtype=torch.float32, requires_grad=True)])
    plain.cast_(torch.float64)
    assert plain._scale is None and plain._l1 is None


def test_a_non_finite_gradient_after_a_cast_and_evaluate_stops_the_next_step():
    """The step trusts the kept ``grad_max`` to say whether the kept gradient is finite (no L1). After a float64
    continuation's ``cast_`` and ``evaluate`` the kept gradient is the new evaluation's, so ``grad_max`` must be
    too: a non-finite gradient there stops the next step, as a non-finite start does."""
    from torchlogit._solvers import LBFGS

    p = torch.zeros(3, dtype=torch.float32, requires_grad=True)
    optimizer = LBFGS([p])

    def closure(gradient):
        def run():
            p.grad = torch.tensor(gradient, dtype=p.dtype)
            return (p.detach().double() ** 2).sum() + 1.0

        return run

    optimizer.step(closure([1.0, -2.0, 0.5]))  # a finite step: its grad_max is kept
    assert math.isfinite(optimizer.state[p]["grad_max"])
    with torch.no_grad():
        p.data = p.data.double()
    optimizer.cast_(torch.float64)
    assert math.isnan(optimizer.evaluate(closure([1.0, math.nan, 0.5])))  # the float64 point's own max |g|
    before = p.detach().clone()
    optimizer.step(closure([1.0, math.nan, 0.5]))
    assert optimizer.state[p]["failed"] == "ABNORMAL: NON-FINITE OBJECTIVE"
    assert torch.equal(p.detach(), before)


# --------------------------------------------------------------------------------------------------------------
# strong_wolfe where torch's search and ours part ways or tie: values equal to the last bit (an objective flat to
# its rounding error, with the slope of the underlying 1 - 1e-20 t), a line with no minimum (the budget), and the
# zoom's relative stopping width.


def _flat(t):
    return 1.0, -1e-20


def _line(t):
    return -t, -1.0


def test_equal_values_bracket_from_the_third_trial_and_the_zoom_keeps_the_lower_end():
    """Trials 1 and 10 (equal values, a slope that does not rise: the 10x cap), then 100, whose value is not below the
    previous one (the test ``f_new >= f_prev`` from the third evaluation on, a tie here): the bracket [10, 100]. The
    zoom's trials all tie with the lower end, so each replaces the upper end (``f_new >= f_low``) until the bracket is
    narrower than 1e-9 of its upper end; the search returns the lower end, 10."""
    t, f, g, n_evals, calls, f0, g0 = _search(_flat, 1.0)
    assert calls[:3] == [1.0, 10.0, 100.0]
    assert all(10.0 < c < 100.0 for c in calls[3:])
    assert sorted(calls[3:], reverse=True) == calls[3:]  # the upper end moves down
    assert (t, f, g) == (10.0, 1.0, ("gradient at", 10.0))
    assert n_evals == len(calls) < 25
    assert calls[-1] - 10 <= 1e-9 * calls[-1] and calls[-2] - 10 > 1e-9 * calls[-2]


@pytest.mark.parametrize("tolerance, n_evals", [(0.9, 3), (0.89, 4)])
def test_the_zoom_stops_when_the_bracket_is_within_the_tolerance_relative_to_its_upper_end(tolerance, n_evals):
    """Bracket [10, 100]: 100 - 10 <= 0.9 * 100 (inclusive) stops the zoom before any trial; 0.89 does not."""
    t, f, _, got, calls, _, _ = _search(_flat, 1.0, tolerance_change=tolerance)
    assert got == n_evals == len(calls) and calls[:3] == [1.0, 10.0, 100.0]
    assert (t, f) == (10.0, 1.0)


@pytest.mark.parametrize("max_evals", [25, 7])
def test_a_line_without_minimum_spends_the_budget_and_returns_the_last_trial(max_evals):
    """phi(t) = -t: no trial brackets nor satisfies the curvature condition. A line's cubic is degenerate, so each
    extrapolation is the midpoint of [t + 0.01 (t - t_prev), 10 t] (5.505 after 1); after ``max_evals`` (25 by default)
    evaluations the lowest point, the last trial, is returned."""
    kwargs = {} if max_evals == 25 else {"max_evals": max_evals}
    t, f, g, n_evals, calls, f0, g0 = _search(_line, 1.0, **kwargs)
    assert n_evals == len(calls) == max_evals
    assert calls[:2] == [1.0, 5.505]
    assert (t, f, g) == (calls[-1], -calls[-1], ("gradient at", calls[-1]))


# --------------------------------------------------------------------------------------------------------------
# OWL-QN's backtracking (Andrew & Gao 2007): trial x + t d projected on the orthant of x (sign(x), or -sign(pg) where
# x = 0), accepted when f(x_t) <= f + c1 pg.(x_t - x) (c1 = 1e-4), else t halves.


def _valued_optimizer(value, n=1):
    """LBFGS with an L1 term whose closure's value is ``value(p)`` (any function of the point) and gradient 0."""
    from torchlogit._solvers import LBFGS

    p = torch.zeros(n, dtype=torch.float64, requires_grad=True)
    optimizer = LBFGS([p])
    optimizer.set_l1(1.0, [p])
    points = []

    def closure():
        optimizer.zero_grad()
        points.append(p.detach().clone())
        loss = (p * 0).sum() + value(p.detach())
        loss.backward()
        return loss

    return optimizer, closure, points


def test_orthant_backtracking_projects_each_trial_on_the_orthant_of_the_point():
    optimizer, closure, points = _valued_optimizer(lambda q: -1.0, n=4)
    x = torch.tensor([1.0, -1.0, 0.0, 0.0], dtype=torch.float64)
    pg = torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=torch.float64)
    d = torch.tensor([-3.0, 0.5, -1.0, -1.0], dtype=torch.float64)
    with torch.no_grad():
        x_new, f_new, _, n_evals = optimizer._orthant_backtracking(closure, x, 0.0, pg, d, 1.0, max_evals=5)
    # x + d = [-2, -0.5, -1, -1]; orthant [+, -, -sign(1) = -, -sign(-1) = +]: the first and last leave it -> 0.
    assert x_new.tolist() == [0.0, -0.5, -1.0, 0.0]
    assert (f_new, n_evals, len(points)) == (-1.0, 1, 1)


@pytest.mark.parametrize(
    "value_at, t, expected_x, expected_evals",
    [
        # f = 1 at x = 1, pg = 1, d = -1. A trial below 0.93 increases f: t = 0.1 fails, t = 0.05 (x = 0.95) passes.
        ({0.9: 2.0, 0.95: 0.5}, 0.1, 0.95, 2),
        # Exactly on the Armijo line with c1 = 1e-4: f + c1 pg.(x_t - x) = 1 - 1e-4 * 0.25.
        ({0.75: 1 - 1e-4 * 0.25}, 0.25, 0.75, 1),
        # The exact minimiser of a quadratic decreases f by half the linear prediction: accepted at once.
        ({0.75: 0.875}, 0.25, 0.75, 1),
        # A decrease below c1 of the prediction is not enough: halve (0.875 then passes).
        ({0.75: 1 - 0.5e-4 * 0.25, 0.875: 0.5}, 0.25, 0.875, 2),
    ],
)
def test_orthant_backtracking_halves_until_sufficient_decrease(value_at, t, expected_x, expected_evals):
    def value(q):
        return value_at.get(float(q[0]), 3.0)

    optimizer, closure, points = _valued_optimizer(value)
    x = torch.tensor([1.0], dtype=torch.float64)
    pg = torch.tensor([1.0], dtype=torch.float64)
    d = torch.tensor([-1.0], dtype=torch.float64)
    with torch.no_grad():
        x_new, f_new, _, n_evals = optimizer._orthant_backtracking(closure, x, 1.0, pg, d, t, max_evals=10)
    assert [float(q[0]) for q in points] == [1 - t * 0.5**k for k in range(expected_evals)]
    assert (float(x_new[0]), f_new, n_evals) == (expected_x, value_at[expected_x], expected_evals)


def test_an_all_nan_objective_with_l1_leaves_the_parameters_and_says_so():
    optimizer, closure, _ = _valued_optimizer(lambda q: math.nan if bool((q != 0).any()) else 1.0, n=2)
    p = optimizer._params[0]

    def descending():
        loss = closure()
        p.grad = torch.tensor([3.0, -3.0], dtype=torch.float64)  # pseudo-gradient [2, -2] at 0 (lam = 1)
        return loss

    optimizer.step(descending)
    assert torch.equal(p.detach(), torch.zeros(2, dtype=torch.float64))
    assert optimizer.state[p]["failed"].startswith("ABNORMAL")
    assert optimizer.state[p]["loss"] == 1.0


def test_state_dict_is_a_snapshot_that_later_steps_do_not_change():
    """The history list is appended to and trimmed in place by each step: a saved state_dict, and the optimizer
    loaded from it, each have their own list."""
    p, optimizer, closure = quadratic_problem(history_size=2)
    optimizer.step(closure)
    optimizer.step(closure)
    saved = optimizer.state_dict()
    pairs = list(saved["state"]["pairs"])
    assert len(pairs) == 2
    optimizer.step(closure)  # appends a pair and drops the oldest
    assert saved["state"]["pairs"] == pairs
    q, other, other_closure = quadratic_problem(history_size=2)
    other.load_state_dict(saved)
    with torch.no_grad():
        q.copy_(p)
    other.step(other_closure)
    assert saved["state"]["pairs"] == pairs
    assert other.state[q]["pairs"] is not saved["state"]["pairs"]
    # Nor do the saved pairs' values change: the optimizer's own are rows of its curvature buffer, overwritten by
    # later pairs.
    values = [(s.clone(), y.clone()) for s, y in pairs]
    for _ in range(3):
        optimizer.step(closure)
    assert all(torch.equal(s, s0) and torch.equal(y, y0) for (s, y), (s0, y0) in zip(pairs, values, strict=True))


def test_the_history_holds_each_curvature_pair_once():
    """The pairs of the history are the curvature buffer's rows, not copies of them: a fit of 1e6 coefficients kept
    20 coefficient-sized vectors twice (peak 523 MB against scikit-learn's 288, 1835 against 862 with 3 classes)."""
    from torchlogit._solvers import _KEPT_MEMORY_PARAMETERS, LBFGS

    n = _KEPT_MEMORY_PARAMETERS  # the memory is kept from this many parameters on
    p = torch.zeros(n, dtype=torch.float64, requires_grad=True)
    optimizer = LBFGS([p], history_size=3)
    scales = torch.linspace(1.0, 100.0, n, dtype=torch.float64)

    def closure():
        optimizer.zero_grad()
        loss = torch.sum(scales * (p - 1) ** 2)
        loss.backward()
        return loss

    for _ in range(5):
        optimizer.step(closure)
    pairs = optimizer.state[p]["pairs"]
    buffer = optimizer._memory._buffer
    assert len(pairs) == 3
    for s, y in pairs[:-1]:  # the newest pair joins the buffer at the next step's direction
        for vector in (s, y):
            assert vector.untyped_storage().data_ptr() == buffer.untyped_storage().data_ptr()
    # A state_dict is a snapshot: later pairs overwrite the buffer's rows, not the saved values.
    saved = optimizer.state_dict()["state"]["pairs"]
    values = [(s.clone(), y.clone()) for s, y in saved]
    for _ in range(4):
        optimizer.step(closure)
    assert all(torch.equal(s, s0) and torch.equal(y, y0) for (s, y), (s0, y0) in zip(saved, values, strict=True))


def test_dot_products_are_accumulated_in_float64():
    from torchlogit._solvers import _dot

    big = torch.tensor([1e20, 1e20], dtype=torch.float32)  # products 1e40 overflow float32
    assert _dot(big, big) == pytest.approx(float(big.double() @ big.double()), rel=1e-15)
    fine = torch.tensor([1.0, 2.0**-40], dtype=torch.float32)
    assert _dot(fine, torch.ones(2, dtype=torch.float32)) == 1 + 2.0**-40  # float32 would round it to 1


def _steep_quartic(a, b):
    return lambda t: (a * (t - b) ** 4 - t, 4 * a * (t - b) ** 3 - 1)


def _exponential(k, s):
    return lambda t: (math.exp(s * t) - k * t, s * math.exp(s * t) - k)


_TIGHT_CASES = [(phi, t0, c2) for phi, t0 in CASES for c2 in (0.1, 0.01)] + [
    (phi, t0, 0.1)
    for phi in (_steep_quartic(0.5, 1.5), _steep_quartic(1.0, 2.0), _steep_quartic(0.5, 3.0))
    for t0 in (0.1, 0.5, 1.0)
]
_TIGHT_CASES += [(_exponential(k, 0.5), t0, 0.1) for k in (2.0, 5.0) for t0 in (0.01, 0.1)]


@pytest.mark.parametrize("phi, t0, c2", _TIGHT_CASES)
def test_same_trial_steps_as_torchs_strong_wolfe_with_a_tight_curvature_condition(phi, t0, c2):
    """With c2 = 0.1 or 0.01 the search extrapolates past the minimiser (a positive slope with sufficient decrease:
    the bracket is [t_prev, t], not [0, t]) and zooms for longer; still torch's trial steps, in torch's order."""
    _assert_same_trials_as_torch(phi, t0, c2=c2)


def test_a_step_exactly_on_the_sufficient_decrease_line_is_accepted():
    """phi(t) = 1 - t + 0.75 t^2 with c1 = 0.25: phi(1) = 0.75 = phi(0) + c1 * 1 * phi'(0), and |phi'(1)| = 0.5 <= 0.9:
    both conditions hold (the first with equality, as ``<=``), so t = 1 is taken at once."""

    def phi(t):
        return 1 - t + 0.75 * t * t, -1 + 1.5 * t

    t, f, g, n_evals, calls, f0, g0 = _search(phi, 1.0, c1=0.25)
    assert (t, f, n_evals) == (1.0, 0.75, 1)


def test_a_budget_that_ends_on_an_increase_returns_no_step():
    """The last allowed trial (not tested against the conditions) is above f0: the lower end of [0, t] is 0, so the
    search returns t = 0 with f0 and g0, the start."""

    def phi(t):
        return (-t, -1.0) if t < 6 else (10.0, 1.0)

    t, f, g, n_evals, calls, f0, g0 = _search(phi, 1.0, max_evals=3)
    assert calls[:2] == [1.0, 5.505] and calls[2] > 6 and n_evals == 3
    assert (t, f, g) == (0.0, 0.0, ("gradient at", 0.0))


# A failed (non-finite) end of the zoom's bracket: nothing to interpolate, so the next trial is 10% of the bracket
# away from the good end, towards the failed one.


def _with_nan_band(phi, lo, hi):
    def banded(t):
        return (math.nan, math.nan) if lo < t < hi else phi(t)

    return banded


@pytest.mark.parametrize("t0", [1.0, 2.0])
def test_a_failed_first_trial_is_shrunk_from_the_start(t0):
    """NaN beyond 0.5: the first trial fails, the bracket is [0, t0] and the next trial is 0 + 0.1 t0."""
    phi = _with_nan_band(_quadratic, 0.5, math.inf)
    t, f, g, n_evals, calls, f0, g0 = _search(phi, t0)
    assert calls[:2] == [t0, 0.1 * t0]
    assert 0 < t <= 0.5 and f < f0


def test_a_failed_extrapolation_is_shrunk_from_the_last_good_step():
    """0.5 (t - 3)^2, NaN beyond 2, c2 = 0.1: 0.5 is not curved enough, the cubic extrapolates to 3 (NaN): the bracket
    is [0.5, 3] and the next trial 0.5 + 0.1 (3 - 0.5) = 0.75."""
    phi = _with_nan_band(_quadratic, 2.0, math.inf)
    t, f, g, n_evals, calls, f0, g0 = _search(phi, 0.5, c2=0.1)
    assert calls[:3] == [0.5, pytest.approx(3.0, rel=1e-12), 0.75]
    assert 0 < t <= 2 and f < f0


@pytest.mark.parametrize("band_end", [2.1, 2.95])
def test_a_failed_trial_inside_a_bracket_whose_lower_end_is_on_the_right(band_end):
    """0.5 (t - 1.5)^4 - t from 0.1 with c2 = 0.1: trials 0.1, 0.5505, 3.03 (past the minimiser, lower than 0.5505:
    the bracket's low end is its right end), then the zoom's 2.028 -- NaN here, inside a band (1.9, band_end). The
    failed trial replaces the high end (the low end stays 3.03), so the next trial is 10% from 3.03 towards 2.028;
    the search never returns a point of the band."""
    quartic = _steep_quartic(0.5, 1.5)
    free = _search(quartic, 0.1, c2=0.1)[4]
    assert free[:3] == pytest.approx([0.1, 0.5505, 3.0300025], rel=1e-12) and 1.9 < free[3] < 2.1
    t, f, g, n_evals, calls, f0, g0 = _search(_with_nan_band(quartic, 1.9, band_end), 0.1, c2=0.1)
    assert calls[:4] == free[:4]
    assert calls[4] == pytest.approx(free[2] + 0.1 * (free[3] - free[2]), rel=1e-12)
    assert not 1.9 < t < band_end and math.isfinite(f) and f < f0
    assert (f, g) == (quartic(t)[0], ("gradient at", t))


def _nan_beyond(phi, limit):
    return lambda t: (math.nan, math.nan) if t > limit else phi(t)


def test_a_zoom_trial_with_too_small_a_decrease_is_not_returned():
    """-t + 0.899984 t^2 - 0.2 t^3, NaN beyond 5, from t0 = 25: the zoom's first trial, 2.5, decreases f by 1e-4, less
    than c1 * 2.5 * |phi'(0)| = 2.5e-4, though its slope (-0.25) meets the curvature condition: it is no Wolfe step."""

    def phi(t):
        return -t + 0.899984 * t * t - 0.2 * t**3, -1 + 2 * 0.899984 * t - 0.6 * t * t

    t, f, g, n_evals, calls, f0, g0 = _search(_nan_beyond(phi, 5.0), 25.0)
    assert calls[:2] == [25.0, 2.5] and -2.5e-4 < phi(2.5)[0] < 0
    _assert_strong_wolfe(phi, t, f, g, n_evals, calls, f0, g0, 1e-4, 0.9)


def test_a_zoom_trial_exactly_on_the_curvature_bound_is_accepted():
    """0.5 (t - 1)^2, NaN beyond 0.5, from 2.5 with c2 = 0.75: the zoom's trial 0.25 has |phi'| = 0.75 = c2 |phi'(0)|
    (``<=``) and decreases f enough: it is returned after two evaluations."""

    def phi(t):
        return 0.5 * (t - 1) ** 2, t - 1

    t, f, g, n_evals, calls, f0, g0 = _search(_nan_beyond(phi, 0.5), 2.5, c2=0.75)
    assert (t, f, n_evals) == (0.25, 0.28125, 2)


def test_the_iterates_do_not_depend_on_how_the_parameters_are_split():
    """Three tensors of sizes 1, 2 and 3 step exactly like one tensor of size 6 (parameter order, flattening and
    writing back included)."""
    from torchlogit._solvers import LBFGS

    weights = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], dtype=torch.float64)
    target = torch.tensor([0.5, -1.0, 2.0, 0.0, -0.5, 1.5], dtype=torch.float64)

    def run(tensors):
        optimizer = LBFGS(tensors)

        def closure():
            optimizer.zero_grad()
            flat = torch.cat([t.reshape(-1) for t in tensors])
            loss = (weights * (flat - target) ** 2).sum() + (flat[0] * flat[5]) ** 2
            loss.backward()
            return loss

        for _ in range(4):
            optimizer.step(closure)
        return torch.cat([t.detach().reshape(-1) for t in tensors])

    whole = run([torch.zeros(6, dtype=torch.float64, requires_grad=True)])
    parts = run([torch.zeros(n, dtype=torch.float64, requires_grad=True) for n in (1, 2, 3)])
    assert torch.equal(whole, parts)
    assert not torch.equal(whole, torch.zeros(6, dtype=torch.float64))


@pytest.mark.parametrize("max_ls", [5, 30, 50])
def test_a_line_search_spends_at_most_max_ls_evaluations(max_ls):
    """An objective constant along the search direction (its gradient says otherwise): no trial decreases it, and the
    strong-Wolfe search stops after ``max_ls`` evaluations (scikit-learn's ``maxls``), not torch's 25; the step is a
    zero reduction (flat to precision), the parameters stay."""
    from torchlogit._solvers import LBFGS

    p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    optimizer = LBFGS([p], max_ls=max_ls)
    g = torch.tensor([1e-3, -2e-3], dtype=torch.float64)
    calls = []

    def closure():
        optimizer.zero_grad()
        linear = (p * g).sum()
        loss = linear - linear.detach() + 0.3
        loss.backward()
        calls.append(1)
        return loss

    optimizer.step(closure)
    assert len(calls) == optimizer.state[p]["func_evals"] == 1 + max_ls
    assert optimizer.state[p]["failed"] is None and torch.equal(p.detach(), torch.zeros(2, dtype=torch.float64))


def test_a_zoom_trial_exactly_on_the_sufficient_decrease_line_is_accepted():
    """1 - t + 3 t^2, NaN beyond 0.5, from 2.5 with c1 = 0.25: the zoom's trial 0.25 has phi = 0.9375, exactly
    phi(0) + c1 * 0.25 * phi'(0), and |phi'(0.25)| = 0.5 <= 0.9: accepted (``<=``) after two evaluations."""

    def phi(t):
        return 1 - t + 3 * t * t, -1 + 6 * t

    t, f, g, n_evals, calls, f0, g0 = _search(_nan_beyond(phi, 0.5), 2.5, c1=0.25)
    assert (t, f, n_evals) == (0.25, 0.9375, 2)


def _step_on_a_flat_objective(drop):
    """One LBFGS step on an objective that is 1 at the start and ``1 - drop`` everywhere else, with a constant slope
    of 1e-12 along the first coordinate; returns the parameter, the optimizer and the first coordinate of every point
    evaluated."""
    from torchlogit._solvers import LBFGS

    p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    optimizer = LBFGS([p])
    g = torch.tensor([1e-12, 0.0], dtype=torch.float64)
    points = []

    def closure():
        optimizer.zero_grad()
        linear = (p * g).sum()
        value = 1.0 if bool((p == 0).all()) else 1.0 - drop
        loss = linear - linear.detach() + value
        loss.backward()
        points.append(float(p.detach()[0]))
        return loss

    optimizer.step(closure)
    return p, optimizer, points


@pytest.mark.parametrize("k, expected_ratio", [(7.5, 10.0), (8.5, 1.01)])
def test_lbfgs_line_search_treats_values_within_8_eps_as_equal(k, expected_ratio):
    """LBFGS passes ``f_precision = 8 eps`` to the search. The objective is 1 at the start and 1 - k eps elsewhere, its
    slope along the step constant: after the first trial (a decrease of k eps) the search extrapolates. Within 8 eps
    (k = 7.5) the values are equal to their precision: the secant rule, whose slope did not rise, goes to the 10x cap;
    beyond (k = 8.5) the cubic, fitted to the values, proposes 1.01x."""
    eps = float(torch.finfo(torch.float64).eps)
    _, _, points = _step_on_a_flat_objective(k * eps)
    assert points[:2] == [0.0, pytest.approx(-1.0, rel=1e-12)]  # the first trial: 1 / ||g|| along -g
    assert points[2] / points[1] == pytest.approx(expected_ratio, rel=1e-9)


def test_lbfgs_zoom_narrows_the_bracket_to_the_steps_precision():
    """LBFGS passes ``tolerance_change = eps``: on values equal to their precision (1 at the start, 1 - 4 eps
    elsewhere, a constant slope) the bracket [1, 10] (in units of the first trial) shrinks towards its lower end until
    it is a few eps wide, not 1e-9 wide; the step taken is the lower end, the first trial."""
    eps = float(torch.finfo(torch.float64).eps)
    p, optimizer, points = _step_on_a_flat_objective(4 * eps)
    assert points[:3] == [0.0, pytest.approx(-1.0, rel=1e-12), pytest.approx(-10.0, rel=1e-12)]
    assert len(points) <= 1 + 50 and abs(points[-2] + 1) < 16 * eps  # the zoom's last trial
    assert float(p.detach()[0]) == pytest.approx(-1.0, rel=1e-12) and optimizer.state[p]["failed"] is None


def test_a_failed_trial_to_the_right_of_the_low_end_is_shrunk_from_the_low_end():
    """0.5 (t - 1.5)^4 - t from 0.1 with c2 = 0.05: the bracket [0.5505, 3.03] (low end 3.03), the zoom's 2.028 is lower
    but not curved enough and its slope points to 3.03, so the bracket becomes [3.03, 2.028] (low end 2.028, stored
    second); the next trial, 2.316, is NaN here: stored first, to the right of the low end. The next trial is 10% from
    2.028 towards it."""
    quartic = _steep_quartic(0.5, 1.5)
    free = _search(quartic, 0.1, c2=0.05)[4]
    assert free[:4] == pytest.approx([0.1, 0.5505, 3.0300025, 2.0283742], rel=1e-7) and free[3] < free[4] < free[2]
    failed = free[4]
    t, f, g, n_evals, calls, f0, g0 = _search(_with_nan_band(quartic, failed - 0.01, failed + 0.01), 0.1, c2=0.05)
    assert calls[:5] == free[:5]
    assert calls[5] == pytest.approx(free[3] + 0.1 * (failed - free[3]), rel=1e-12)
    assert not failed - 0.01 < t < failed + 0.01 and (f, g) == (quartic(t)[0], ("gradient at", t))


def test_a_shrink_step_exactly_at_the_margin_is_progress_enough():
    """0.5 (t - 0.095)^2, NaN beyond 0.5, from 1 with c2 = 0.01: the failed first trial gives the shrink step 0.1,
    exactly 10% of the bracket from its end (the safeguard's margin, ``< margin`` only counts as too close); there
    the slope is positive, the bracket becomes [0, 0.1] and the cubic's 0.095 -- within the margin, but the first
    step that close -- is tried as it is, and accepted."""

    def phi(t):
        return 0.5 * (t - 0.095) ** 2, t - 0.095

    t, f, g, n_evals, calls, f0, g0 = _search(_nan_beyond(phi, 0.5), 1.0, c2=0.01)
    assert calls == [1.0, 0.1, pytest.approx(0.095, rel=1e-12)] and n_evals == 3
    assert t == calls[-1]


@pytest.mark.parametrize(("n_features", "kept"), [(50, False), (5000, True)])
def test_lbfgs_keeps_its_curvature_memory_only_for_many_parameters(n_features, kept, monkeypatch):
    """Below _KEPT_MEMORY_PARAMETERS the pairs are stacked afresh (lbfgs_direction), from it on they go through
    CurvatureMemory; either way the fit reaches the same optimum as the other path."""
    from sklearn.linear_model import LogisticRegression

    from torchlogit import TorchLogisticClassifier
    from torchlogit import _solvers as solvers

    rng = np.random.RandomState(0)
    X = rng.randn(300, n_features) / np.sqrt(n_features)
    y = (X @ rng.randn(n_features) + 0.3 * rng.randn(300) > 0).astype(int)
    used = []
    original = solvers.CurvatureMemory.direction
    monkeypatch.setattr(solvers.CurvatureMemory, "direction", lambda self, *a: used.append(1) or original(self, *a))
    ours = TorchLogisticClassifier(dtype="float64", tol=1e-10, max_iter=1000).fit(X, y)
    assert bool(used) == kept
    reference = LogisticRegression(solver="newton-cholesky", tol=1e-12, max_iter=100).fit(X, y)
    np.testing.assert_allclose(ours.coef_, reference.coef_, atol=1e-6)


@pytest.mark.parametrize("scaled", [False, True])
def test_lbfgs_stack_of_pairs_kept_between_iterations_gives_the_directions_of_stacking_afresh(scaled, monkeypatch):
    """``LBFGS._stacked`` reuses the last stack's rows while the history moves on by one pair. Its stacks must be
    those of stacking the pairs afresh at every iteration, through a full history that drops its oldest pair, a
    rejected pair (no new pair), a float32 run that continues in float64 (pairs cast: new tensors) and a second
    fit; and the whole fit must then be bitwise the same."""
    from sklearn.datasets import load_breast_cancer

    from torchlogit import TorchLogisticClassifier
    from torchlogit import _solvers as solvers

    X, y = load_breast_cancer(return_X_y=True)
    if scaled:
        X = (X - X.mean(0)) / X.std(0)
    original = solvers.LBFGS._stacked
    seen = []

    def checked(self, pairs):
        stacked = original(self, pairs)
        fresh = torch.stack([s for s, _ in pairs] + [y for _, y in pairs])
        seen.append((len(pairs), stacked.dtype))
        assert torch.equal(stacked, fresh)
        return stacked

    monkeypatch.setattr(solvers.LBFGS, "_stacked", checked)
    kept = TorchLogisticClassifier(C=100.0, max_iter=300).fit(X, y)
    assert max(n for n, _ in seen) == 10 and len(seen) > 20  # the history filled and moved on
    if not scaled:  # unscaled breast cancer stalls in float32 and continues in float64 from cast pairs
        assert {dtype for _, dtype in seen} == {torch.float32, torch.float64}
    monkeypatch.setattr(
        solvers.LBFGS, "_stacked", lambda self, pairs: torch.stack([s for s, _ in pairs] + [y for _, y in pairs])
    )
    fresh = TorchLogisticClassifier(C=100.0, max_iter=300).fit(X, y)
    assert np.array_equal(kept.coef_, fresh.coef_) and np.array_equal(kept.intercept_, fresh.intercept_)
    assert kept.n_iter_ == fresh.n_iter_


def test_lbfgs_step_evaluates_afresh_parameters_changed_between_steps():
    """h5's mutant S21 (``step`` trusting the kept f, g whenever a state exists). Parameters set from outside between
    two steps (a user's callback, a loaded checkpoint) must be evaluated where they now are: the step returns
    the objective at its starting point, and its line search starts from that point's gradient."""
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    centre = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64)
    optimizer = LBFGS([p])

    def closure():
        optimizer.zero_grad()
        loss = 0.5 * ((p - centre) ** 2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    optimizer.step(closure)
    with torch.no_grad():
        p.copy_(torch.tensor([10.0, 10.0, 10.0], dtype=torch.float64))
    expected = 0.5 * float(((p.detach() - centre) ** 2).sum())
    f = float(optimizer.step(closure))
    assert f == pytest.approx(expected, rel=1e-12)
    # and the step moved towards the optimum from the new point (the quadratic is solved exactly)
    assert 0.5 * float(((p.detach() - centre) ** 2).sum()) < 1e-10 * expected


def test_a_failed_quasi_newton_search_is_retried_along_steepest_descent():
    """h5's mutant S22 (no steepest-descent retry after the quasi-Newton line search fails). Curvature pairs that
    make the direction 1e10 times too long (a stale or loaded history) on an objective that overflows far out:
    every trial of a 3-evaluation search is infinite; steepest descent from a unit step decreases the objective,
    and the step is not reported as failed."""
    c = torch.tensor([1.0, -2.0], dtype=torch.float64)
    p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    optimizer = LBFGS([p], max_ls=3)
    y = torch.tensor([1.0, 0.5], dtype=torch.float64)
    optimizer.load_state_dict(
        {
            "state": {"pairs": [(1e10 * y, y.clone())], "gamma": 1e10, "n_iter": 1, "func_evals": 1},
            "param_groups": [dict(optimizer.defaults)],
        }
    )

    def closure():
        optimizer.zero_grad()
        loss = torch.cosh(p - c).sum()
        loss.backward()
        return loss

    f0 = float(torch.cosh(-c).sum())
    f = float(optimizer.step(closure))
    assert f == pytest.approx(f0, rel=1e-15)
    state = optimizer.state[p]
    assert state["failed"] is None
    assert state["loss"] < f0
    # Kills S31 too (steepest descent keeping the pairs): the stale pair is forgotten, the new step's is the only one
    assert len(state["pairs"]) == 1
    assert float(state["pairs"][0][0].abs().max()) < 1e3


def test_a_loaded_history_longer_than_history_size_is_used_with_many_parameters():
    """h5's mutant S25 (the kept curvature memory sized by history_size alone): a state with more pairs than the
    history size, on more parameters than _KEPT_MEMORY_PARAMETERS, steps like the stacked path does."""
    from torchlogit._solvers import _KEPT_MEMORY_PARAMETERS

    n = _KEPT_MEMORY_PARAMETERS + 4
    gen = torch.Generator().manual_seed(0)
    centre = torch.randn(n, generator=gen, dtype=torch.float64)
    curvature = 1.0 + torch.rand(n, generator=gen, dtype=torch.float64)
    pairs = []
    for _ in range(3):
        s = torch.randn(n, generator=gen, dtype=torch.float64)
        pairs.append((s, curvature * s))
    p = torch.zeros(n, dtype=torch.float64, requires_grad=True)
    optimizer = LBFGS([p], history_size=2)

    def closure():
        optimizer.zero_grad()
        loss = 0.5 * (curvature * (p - centre) ** 2).sum()
        loss.backward()
        return loss

    state = {"pairs": [(s.clone(), y.clone()) for s, y in pairs], "gamma": 0.7, "n_iter": 3, "func_evals": 3}
    optimizer.load_state_dict({"state": state, "param_groups": [dict(optimizer.defaults)]})
    f0 = float(optimizer.step(closure))
    assert optimizer.state[p]["failed"] is None
    assert optimizer.state[p]["loss"] < f0
    assert len(optimizer.state[p]["pairs"]) == 2  # trimmed to history_size after the step


def test_an_l1_step_from_a_point_whose_gradient_is_not_finite_fails_as_such():
    """h5's mutant S27 (the kept grad_max trusted with L1 too): OWL-QN's pseudo-gradient is 0 where x == 0 and g is
    NaN, so a finite grad_max does not prove g finite; the step must refuse the non-finite start."""
    p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    optimizer = LBFGS([p])
    optimizer.set_l1(0.1, [p])

    def closure():
        optimizer.zero_grad()
        loss = (p * p).sum() + 1.0
        loss.backward()
        p.grad[0] = math.nan
        return loss

    grad_max = optimizer.evaluate(closure)
    assert math.isfinite(grad_max)  # the premise: the pseudo-gradient hides the NaN at zero
    optimizer.step(closure)
    assert optimizer.state[p]["failed"] == "ABNORMAL: NON-FINITE OBJECTIVE"
    assert torch.equal(p.detach(), torch.zeros(2, dtype=torch.float64))


def test_func_evals_counts_every_objective_evaluation_the_start_check_included():
    """h5's mutant S32 (``evaluate`` not counted): ``func_evals`` (in every L-BFGS history row) is the number of
    closure calls, the starting point's evaluation by ``evaluate`` (the fit's start check) included."""
    c = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    optimizer = LBFGS([p])
    calls = []

    def closure():
        calls.append(1)
        optimizer.zero_grad()
        loss = torch.cosh(p - c).sum()
        loss.backward()
        return loss

    optimizer.evaluate(closure)
    assert optimizer.state[p]["func_evals"] == len(calls) == 1
    for _ in range(3):
        optimizer.step(closure)
    assert optimizer.state[p]["func_evals"] == len(calls)


def test_orthant_backtracking_measures_sufficient_decrease_on_the_projected_step():
    """Survey S6 (Armijo term ``c1 * t * pg.d`` instead of ``c1 * pg.(x_t - x)``). Andrew & Gao's condition uses the
    step actually taken, after projection on the orthant: x = 1, d = -4, t = 1 lands at -3, projected to 0, so the
    step is -1 and a decrease of 2e-4 >= 1e-4 * |pg.(x_t - x)| = 1e-4 is enough. On the unprojected step
    (|pg.d| t = 4) it would not be, and the search would halve on past the point that satisfies the rule."""
    optimizer, closure, points = _valued_optimizer(lambda q: 1 - 2e-4 if float(q[0]) == 0.0 else 3.0)
    x = torch.tensor([1.0], dtype=torch.float64)
    pg = torch.tensor([1.0], dtype=torch.float64)
    d = torch.tensor([-4.0], dtype=torch.float64)
    with torch.no_grad():
        x_new, f_new, _, n_evals = optimizer._orthant_backtracking(closure, x, 1.0, pg, d, 1.0, max_evals=6)
    assert (float(x_new[0]), f_new, n_evals) == (0.0, 1 - 2e-4, 1)
