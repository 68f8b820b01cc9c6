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

import pytest
import torch

from torchlogit._solvers import strong_wolfe


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


@pytest.mark.parametrize("phi, t0", CASES)
def test_same_trial_steps_as_torchs_strong_wolfe(phi, t0):
    """The search is torch.optim.lbfgs._strong_wolfe's (bracketing, cubic zoom, its safeguards and its test
    ``f_new >= f_prev`` from the third evaluation on): the same trial steps, in the same order, to rounding."""
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
    t, _, _, n_evals = strong_wolfe(evaluate, f0, None, g0, t0)
    one = torch.ones(1, dtype=torch.float64)
    _, _, t_torch, n_torch = _strong_wolfe(objective, 0 * one, t0, one, f0, torch.tensor([g0], dtype=torch.float64), g0)
    assert n_evals == n_torch == len(ours) == len(theirs)
    assert ours == pytest.approx(theirs, rel=1e-9)
    assert t == pytest.approx(float(t_torch), rel=1e-9)


def test_a_trial_with_a_finite_value_but_no_finite_slope_is_never_returned():
    """f is finite everywhere but its derivative is NaN beyond t = 2: such a trial counts as failed."""

    def evaluate(t):
        f, g = _quadratic(t, centre=3.0)
        return f, None, (g if t <= 2 else math.nan)

    f0, g0 = _quadratic(0.0, centre=3.0)
    t, f, _, n_evals = strong_wolfe(evaluate, f0, None, g0, 2.5)
    assert 0 < t <= 2 and f < f0
