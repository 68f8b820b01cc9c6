"""The strong-Wolfe line search and OWL-QN backtracking on one-dimensional functions with known answers."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from torchlogit._solvers import LBFGS, _cubic_minimum, _extrapolated_step, strong_wolfe

C1, C2 = 1e-4, 0.9


def line(phi, dphi):
    """``evaluate`` for strong_wolfe from a function of the step and its derivative (g is unused: None)."""
    calls = []

    def evaluate(t):
        calls.append(t)
        return phi(t), None, dphi(t)

    return evaluate, calls


def assert_strong_wolfe(phi, dphi, t):
    assert phi(t) <= phi(0) + C1 * t * dphi(0), "sufficient decrease"
    assert abs(dphi(t)) <= -C2 * dphi(0), "strong curvature condition"


def test_a_quadratic_gets_its_exact_minimiser_by_one_interpolation():
    """phi(t) = 5 (t - 0.1)^2: the first trial t = 1 overshoots; the cubic through both ends is exact (t = 0.1)."""
    phi, dphi = (lambda t: 5 * (t - 0.1) ** 2), (lambda t: 10 * (t - 0.1))
    evaluate, calls = line(phi, dphi)
    t, f, _, n_evals = strong_wolfe(evaluate, phi(0), None, dphi(0), 1.0, max_evals=25)
    assert t == pytest.approx(0.1, abs=1e-12) and f == pytest.approx(0.0, abs=1e-20)
    assert n_evals == 2 and calls[0] == 1.0


def test_a_weak_wolfe_step_is_not_accepted():
    """phi(t) = -t - 4.5 t^2 + 5 t^3 at t = 1: phi decreased enough (Armijo) and phi'(1) = 5 >= 0.9 phi'(0) (weak
    Wolfe holds), but |phi'(1)| = 5 > 0.9 |phi'(0)|: a search with only the weak condition would stop at 1."""
    phi = lambda t: -t - 4.5 * t**2 + 5 * t**3  # noqa: E731
    dphi = lambda t: -1 - 9 * t + 15 * t**2  # noqa: E731
    assert phi(1) <= phi(0) + C1 * dphi(0) and dphi(1) >= C2 * dphi(0)  # the weak conditions hold at t = 1
    evaluate, _ = line(phi, dphi)
    t, f, _, _ = strong_wolfe(evaluate, phi(0), None, dphi(0), 1.0, c1=C1, c2=C2, max_evals=25)
    assert t != 1.0
    assert_strong_wolfe(phi, dphi, t)
    assert f == phi(t)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    minimiser=st.floats(1e-6, 1e6),
    curvature=st.floats(1e-3, 1e3),
    quartic=st.floats(0, 10),
    t0=st.floats(1e-3, 1e3),
)
def test_every_accepted_step_satisfies_the_strong_wolfe_conditions(minimiser, curvature, quartic, t0):
    """Convex phi(t) = a (t - m)^2 + q (t - m)^4 from any first trial: the returned step is strong Wolfe."""
    phi = lambda t: curvature * (t - minimiser) ** 2 + quartic * (t - minimiser) ** 4  # noqa: E731
    dphi = lambda t: 2 * curvature * (t - minimiser) + 4 * quartic * (t - minimiser) ** 3  # noqa: E731
    evaluate, _ = line(phi, dphi)
    t, _, _, _ = strong_wolfe(evaluate, phi(0), None, dphi(0), t0, max_evals=50, tolerance_change=1e-16)
    assert_strong_wolfe(phi, dphi, t)


def test_a_nan_first_trial_is_a_failed_trial():
    """NaN beyond t = 0.5 (comparisons with NaN are false: it used to be accepted at t = 1)."""
    phi = lambda t: (t - 0.3) ** 2 if t <= 0.5 else math.nan  # noqa: E731
    dphi = lambda t: 2 * (t - 0.3) if t <= 0.5 else math.nan  # noqa: E731
    evaluate, calls = line(phi, dphi)
    t, f, _, _ = strong_wolfe(evaluate, phi(0), None, dphi(0), 1.0, max_evals=25)
    assert 0 < t <= 0.5 and math.isfinite(f)
    assert_strong_wolfe(phi, dphi, t)


def test_extrapolation_never_walks_into_a_non_finite_region():
    """phi decreasing (slope -1) up to t = 100, NaN beyond: the search extrapolates, meets NaN, backs off to a
    finite step; it used to accept a step of 6e17 with f = NaN."""
    phi = lambda t: -t if t < 100 else math.nan  # noqa: E731
    dphi = lambda t: -1.0 if t < 100 else math.nan  # noqa: E731
    evaluate, _ = line(phi, dphi)
    t, f, _, _ = strong_wolfe(evaluate, 0.0, None, -1.0, 1.0, max_evals=50)
    assert 1 < t < 100 and f == -t


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_no_finite_trial_returns_a_zero_step(bad):
    evaluate, _ = line(lambda t: bad, lambda t: bad)
    t, f, g, n_evals = strong_wolfe(evaluate, 1.0, "g0", -1.0, 1.0, max_evals=20)
    assert (t, f, g) == (0.0, 1.0, "g0") and n_evals == 20


def test_the_zoom_reaches_steps_far_below_the_first_trial():
    """A problem whose good steps are 1e-18 of the first trial (features around 1e9): the bracket's tolerance is
    relative to the step, so the zoom does not stop at an absolute 1e-7 and return 0."""
    scale = 1e18
    phi = lambda t: math.log1p(math.exp(-min(scale * t, 700))) + 1e-3 * (scale * t) ** 2  # noqa: E731

    def dphi(t):
        z = min(scale * t, 700)
        return scale * (-1 / (1 + math.exp(z)) + 2e-3 * scale * t)

    evaluate, _ = line(phi, dphi)
    t, f, _, _ = strong_wolfe(evaluate, phi(0), None, dphi(0), 1.0, max_evals=50, tolerance_change=2.2e-16)
    assert t > 0 and f < phi(0)
    assert_strong_wolfe(phi, dphi, t)


# The first trial of a line search in a real stalled fit (60 x 3, a column times 1e8, float64): the objective went
# down by one ulp (its true change, t * slope = 5.3e-17, is half an ulp) while the slope barely moved.
_FLOOR_START = (0.0, 0.69278255637647679, -5.2911e-17)
_FLOOR_TRIAL = (1.0, 0.69278255637647668, -5.29005e-17)


def test_extrapolation_at_the_rounding_floor_follows_the_slopes():
    """Objective values within their rounding error (``f_precision``, as LBFGS passes it) are not interpolated: the
    slope's secant zero (5e3 here) is taken, within the 10x cap, instead of the cubic's 1.13, which is fitted to
    rounding noise and on which that fit stalled (an equal value at 1.13, a zoom on noise, a stop called converged)."""
    eps = np.finfo(np.float64).eps
    torch_rule = _extrapolated_step(*_FLOOR_START, *_FLOOR_TRIAL, f_precision=0.0)
    assert 1.01 <= torch_rule < 1.2
    assert _extrapolated_step(*_FLOOR_START, *_FLOOR_TRIAL, f_precision=8 * eps) == 10.0


def test_extrapolation_keeps_the_cubic_where_values_carry_information():
    """Values far apart compared with their precision: the cubic, exactly as torch's ``_strong_wolfe`` computes it."""
    start, trial = (0.0, 1.0, -1.0), (1.0, 0.6, -0.5)
    expected = _cubic_minimum(*start, *trial, 1.01, 10.0)
    assert _extrapolated_step(*start, *trial, f_precision=8 * np.finfo(np.float64).eps) == expected


def test_a_slope_that_does_not_rise_extrapolates_to_the_cap():
    """At the floor with a slope as steep or steeper than before (no curvature seen): the farthest trial, 10x."""
    assert _extrapolated_step(0.0, 1.0, -1.0, 1.0, 1.0, -2.0, f_precision=1e-15) == 10.0


def _quadratic_optimizer(nan_beyond, l1=0.0):
    """LBFGS on f(p) = ||p - 1||^2, NaN wherever some |p_i| > nan_beyond."""
    p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    optimizer = LBFGS([p])
    if l1:
        optimizer.set_l1(l1, [p])

    def closure():
        optimizer.zero_grad()
        loss = torch.sum((p - 1) ** 2) + l1 * p.abs().sum()
        if bool((p.abs() > nan_beyond).any()):
            loss = loss * math.nan
        if l1:
            (loss - l1 * p.abs().sum()).backward()  # the closure's gradient leaves out the L1 term
        else:
            loss.backward()
        return loss

    return p, optimizer, closure


@pytest.mark.parametrize("l1", [0.0, 0.1])
def test_an_optimizer_step_never_lands_on_a_non_finite_point(l1):
    """OWL-QN backtracking (l1 > 0) and strong Wolfe: a NaN trial is halved / bracketed away, never accepted."""
    p, optimizer, closure = _quadratic_optimizer(nan_beyond=0.6, l1=l1)
    optimizer.param_groups[0]["lr"] = 50.0  # first trial far into the NaN region
    for _ in range(5):
        optimizer.step(closure)
        assert torch.isfinite(p).all() and math.isfinite(optimizer.state[p]["loss"])
    assert float(p.detach().abs().max()) <= 0.6


def test_an_all_nan_objective_leaves_the_parameters_and_says_so():
    p, optimizer, closure = _quadratic_optimizer(nan_beyond=0.0)
    optimizer.step(closure)
    assert torch.equal(p.detach(), torch.zeros(2, dtype=torch.float64))
    assert optimizer.state[p]["failed"].startswith("ABNORMAL")


def test_an_underflowing_curvature_pair_is_skipped_not_divided_by():
    """y = g_new - g rounds to zero (features around 1e-20 in float32): no ZeroDivisionError, no pair kept."""
    p = torch.zeros(3, dtype=torch.float32, requires_grad=True)
    optimizer = LBFGS([p])
    x = torch.tensor([1e-20, 2e-20, -1e-20])

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.softplus(-(p * x).sum()) + 0 * p.sum()
        loss.backward()
        return loss

    for _ in range(3):
        optimizer.step(closure)
    assert torch.isfinite(p).all() and optimizer.state[p]["pairs"] == []
    np.testing.assert_array_equal(optimizer.state[p]["gamma"], 1.0)


def _detached_optimizer(value, gradient):
    """LBFGS on a closure whose value is ``value(p)`` and whose gradient is the constant ``gradient``."""
    p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    optimizer = LBFGS([p])
    g = torch.tensor(gradient, dtype=torch.float64)

    def closure():
        optimizer.zero_grad()
        linear = (p * g).sum()
        loss = linear - linear.detach() + value(p.detach())
        loss.backward()
        return loss

    return p, optimizer, closure


def test_an_objective_flat_to_its_rounding_error_is_a_zero_reduction_not_a_failure():
    """Every trial equals f within 64 eps relative (the precision floor of an optimum): SciPy's line
    search ends with a warning there and L-BFGS-B stops on its relative-reduction rule; so the step
    is no failure, the parameters stay, and the reduction is zero."""
    p, optimizer, closure = _detached_optimizer(lambda q: 0.3 * (1 + 1e-16 * float(q.abs().sum() > 0)), [1e-3, -2e-3])
    optimizer.step(closure)
    state = optimizer.state[p]
    assert state["failed"] is None
    assert torch.equal(p.detach(), torch.zeros(2, dtype=torch.float64))
    assert state["loss"] == 0.3


def test_trials_that_only_increase_the_objective_are_a_failure():
    """The gradient points the wrong way: every trial along -g increases f by far more than its rounding error."""
    p, optimizer, closure = _detached_optimizer(lambda q: float(((q - 1) ** 2).sum()), [2.0, 2.0])
    optimizer.step(closure)
    assert optimizer.state[p]["failed"].startswith("ABNORMAL")
    assert torch.equal(p.detach(), torch.zeros(2, dtype=torch.float64))


def test_flat_to_precision_is_64_eps_relative_to_max_of_f_and_one():
    """The band is 64 eps * max(|f|, 1), inclusive; an empty or non-finite trial list is not flat."""
    optimizer = LBFGS([torch.zeros(1, dtype=torch.float64, requires_grad=True)])
    eps = float(torch.finfo(torch.float64).eps)

    def flat(f, *trials):
        optimizer._trials = list(trials)
        return optimizer._flat_to_precision(f, torch.float64)

    assert flat(0.0, 64 * eps, -64 * eps)  # |f| < 1: the band is 64 eps, its edge included
    assert not flat(0.0, 64.5 * eps)
    assert not flat(0.0, 100 * eps)
    assert flat(4.0, 4.0 + 100 * eps)  # |f| = 4: the band is 256 eps
    assert not flat(4.0, 4.0 + 300 * eps)
    assert not flat(0.0)
    assert not flat(0.0, 0.0, math.inf)
    assert not flat(0.0, math.nan)
    # float32 runs use float32's eps
    optimizer._trials = [64 * float(torch.finfo(torch.float32).eps)]
    assert optimizer._flat_to_precision(0.0, torch.float32)


def _orthant_problem(increase):
    """An L1 (OWL-QN) optimizer on f(p) = sum(p) (or -sum(p)) + 1e-3 ||p||_1, counting its closure calls."""
    p = torch.ones(2, dtype=torch.float64, requires_grad=True)
    optimizer = LBFGS([p])
    optimizer.set_l1(1e-3, [p])
    calls = []

    def closure():
        calls.append(1)
        optimizer.zero_grad()
        loss = p.sum() if increase else -p.sum()
        loss.backward()
        return loss + 1e-3 * p.abs().sum()

    return p, optimizer, closure, calls


def test_orthant_backtracking_spends_exactly_its_evaluation_budget():
    """A failing OWL-QN search evaluates max_evals trials, then the start point again (n_evals = max_evals + 1);
    an accepted first trial costs one evaluation."""
    p, optimizer, closure, calls = _orthant_problem(increase=True)
    with torch.no_grad():  # as in LBFGS.step
        x = optimizer._flat_params()
        f, g = optimizer._evaluate(closure, x)
        pg = optimizer._pseudo_gradient(x, g)
        calls.clear()
        uphill = pg.clone()  # the wrong direction: no trial decreases f
        x_new, _, _, n_evals = optimizer._orthant_backtracking(closure, x, f, pg, uphill, 0.1, max_evals=5)
        assert x_new is x and n_evals == 6 and len(calls) == 6

        calls.clear()
        x_new, f_new, _, n_evals = optimizer._orthant_backtracking(closure, x, f, pg, -pg, 0.1, max_evals=5)
    assert n_evals == 1 and len(calls) == 1 and f_new < f
    torch.testing.assert_close(x_new, x - 0.1 * pg)


def test_cast_continues_in_float64_with_the_curvature_pairs_and_a_fresh_evaluation():
    """cast_: every curvature pair (s and y) becomes float64, the cached point, objective and gradient are
    dropped (re-evaluated in float64 at the next step), and the L1 strengths follow the dtype."""
    p = torch.zeros(3, dtype=torch.float32, requires_grad=True)
    optimizer = LBFGS([p])
    optimizer.set_l1(1e-3, [p])
    target = torch.tensor([1.0, -2.0, 0.5])

    def closure():
        optimizer.zero_grad()
        loss = ((p - target.to(p.dtype)) ** 2).sum()
        loss.backward()
        return loss + 1e-3 * p.abs().sum()

    for _ in range(3):
        optimizer.step(closure)
    state = optimizer.state[p]
    assert state["pairs"] and all(k in state for k in ("x", "f", "g"))
    with torch.no_grad():
        p.data = p.data.to(torch.float64)
    optimizer.cast_(torch.float64)
    state = optimizer.state[p]
    assert state["pairs"] and all(s.dtype == y.dtype == torch.float64 for s, y in state["pairs"])
    assert not any(k in state for k in ("x", "f", "g"))
    assert optimizer._l1.dtype == torch.float64
    optimizer.step(closure)  # continues in float64 from the same point
    assert p.dtype == torch.float64 and state["loss"] < 1.0


def test_cast_without_curvature_pairs_keeps_an_empty_history():
    optimizer = LBFGS([torch.zeros(2, dtype=torch.float64, requires_grad=True)])
    optimizer.cast_(torch.float64)
    assert optimizer.state[optimizer._params[0]]["pairs"] == []


def quadratic_problem(**optimizer_kwargs):
    """``(p, optimizer, closure)``: L-BFGS (with these settings) on ``sum([1, 10, 100] * (p - 1)**2)`` from zero."""
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    optimizer = LBFGS([p], **optimizer_kwargs)

    def closure():
        optimizer.zero_grad()
        loss = torch.sum(torch.tensor([1.0, 10.0, 100.0], dtype=torch.float64) * (p - 1) ** 2)
        loss.backward()
        return loss

    return p, optimizer, closure


def test_state_dict_round_trip_continues_bitwise_like_the_original():
    """An optimizer loaded from another's state_dict (history, step counters, lr, history_size) takes the same
    next step to the bit; the state_dict carries the group's settings but not the parameters."""
    p, optimizer, closure = quadratic_problem(lr=0.5, history_size=4)
    for _ in range(3):
        optimizer.step(closure)
    saved = optimizer.state_dict()
    assert "params" not in saved["param_groups"][0]
    assert saved["param_groups"][0]["lr"] == 0.5 and saved["param_groups"][0]["history_size"] == 4
    q, fresh, fresh_closure = quadratic_problem()  # the default settings, until the state_dict is loaded
    with torch.no_grad():
        q.copy_(p)
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == 0.5 and fresh.param_groups[0]["history_size"] == 4
    assert fresh.state[q]["n_iter"] == 3 and len(fresh.state[q]["pairs"]) == len(optimizer.state[p]["pairs"])
    optimizer.step(closure)
    fresh.step(fresh_closure)
    assert torch.equal(p.detach(), q.detach())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_l1_strengths_have_the_parameters_dtype_and_zero_for_unpenalized_ones(dtype):
    """set_l1: one strength per parameter entry, in the parameters' dtype (a float32 strength would round a
    float64 run's penalty), zero for the tensors not named (the intercept)."""
    weight = torch.zeros(2, 3, dtype=dtype, requires_grad=True)
    bias = torch.zeros(2, dtype=dtype, requires_grad=True)
    optimizer = LBFGS([weight, bias])
    optimizer.set_l1(0.1, [weight])
    assert optimizer._l1.dtype == dtype and optimizer._l1.device == weight.device
    expected = torch.tensor([0.1] * 6 + [0.0] * 2, dtype=dtype)
    assert torch.equal(optimizer._l1, expected)
    optimizer.set_l1(0.0, [weight])
    assert optimizer._l1 is None


def test_lbfgs_clears_a_failure_at_the_next_step():
    """h1's mutant S14. A failed step (a NaN objective) is reported for that step only: after the parameters move,
    the next finite step clears it (a float32 phase's failure must not be read as its float64 continuation's)."""
    p = torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    opt = LBFGS([p])

    def closure(value):
        def run():
            opt.zero_grad()
            loss = ((p - 3.0) ** 2).sum() * value
            loss.backward()
            return loss

        return run

    opt.step(closure(float("nan")))
    assert opt.state[p]["failed"] is not None
    with torch.no_grad():
        p.fill_(2.0)  # moved from outside: the next step evaluates afresh
    opt.step(closure(1.0))
    assert opt.state[p]["failed"] is None
    assert float(p.detach()) != 2.0
