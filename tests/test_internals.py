"""Canonical rows, device resolution and the L-BFGS optimiser, tested on their own."""

import numpy as np
import pytest
import torch
from scipy.optimize import minimize

from torchlogit._devices import available_devices, resolve_device
from torchlogit._rows import canonical_rows
from torchlogit._solvers import LBFGS


def test_canonical_rows_merge_duplicates_and_drop_zero_weights():
    X = np.array([[1.0, 2.0], [0.0, 1.0], [1.0, 2.0], [1.0, 2.0], [5.0, 5.0]])
    y = np.array([0, 1, 0, 1, 1])
    w = np.array([1.0, 2.0, 3.0, 4.0, 0.0])
    rows, weight = canonical_rows(X, y, w)
    merged = {(tuple(X[r]), y[r]): wt for r, wt in zip(rows, weight, strict=False)}
    assert merged == {((1.0, 2.0), 0): 4.0, ((0.0, 1.0), 1): 2.0, ((1.0, 2.0), 1): 4.0}


def test_canonical_rows_do_not_depend_on_input_order():
    rng = np.random.RandomState(0)
    X = rng.randint(0, 3, size=(200, 4)).astype(float)  # many duplicates and projection ties
    y = rng.randint(0, 2, 200)
    w = rng.uniform(0, 1, 200)
    rows, weight = canonical_rows(X, y, w)
    perm = rng.permutation(200)
    rows_p, weight_p = canonical_rows(X[perm], y[perm], w[perm])
    np.testing.assert_array_equal(X[rows], X[perm][rows_p])
    np.testing.assert_array_equal(y[rows], y[perm][rows_p])
    np.testing.assert_array_equal(weight, weight_p)
    assert len(rows) == len({(tuple(x), t) for x, t in zip(X, y, strict=False)})


def test_canonical_rows_separate_distinct_rows_with_equal_keys():
    """0.0 and -0.0 project to the same key but differ in bytes: the tie is broken by value."""
    X = np.array([[0.0, 1.0], [-0.0, 1.0], [0.0, 1.0]])
    y = np.zeros(3)
    rows, weight = canonical_rows(X, y, np.ones(3))
    assert sorted(weight.tolist()) == [1.0, 2.0]
    rows_r, weight_r = canonical_rows(X[::-1], y, np.ones(3))
    np.testing.assert_array_equal(weight, weight_r)
    np.testing.assert_array_equal(np.signbit(X[rows]), np.signbit(X[::-1][rows_r]))


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    # torch's spellings of the one CPU (and the one MPS device: an MPS tensor's .device is mps:0)
    assert resolve_device("cpu:0") == resolve_device(torch.device("cpu", 0)) == torch.device("cpu")
    assert resolve_device("auto").type in {"cpu", "cuda", "mps"}
    assert "cpu" in available_devices()
    for bad in ["gpu", "cuda:", "cuda:x", "", 3, "cpu:1", "mps:1"]:
        with pytest.raises(ValueError, match="must be 'cpu', 'cuda', 'cuda:N', 'mps' or 'auto'"):
            resolve_device(bad)
    with pytest.raises(ValueError, match="Available devices"):
        resolve_device(f"cuda:{torch.cuda.device_count() + 3}")
    if not torch.backends.mps.is_available():
        for name in ("mps", "mps:0"):
            with pytest.raises(ValueError, match="MPS is not available"):
                resolve_device(name)


def test_lbfgs_matches_scipy_lbfgsb_iterations_on_rosenbrock():
    """Same algorithm as SciPy's L-BFGS-B (m=10): same minimum, a similar number of iterations."""

    def rosen(x):
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()

    x = torch.full((6,), -1.0, dtype=torch.float64, requires_grad=True)
    opt = LBFGS([x])

    def closure():
        opt.zero_grad()
        loss = rosen(x)
        loss.backward()
        return loss

    for _ in range(500):
        opt.step(closure)
        if opt.state[x]["grad_max"] <= 1e-8:
            break
    ref = minimize(
        lambda v: rosen(torch.tensor(v)).item(),
        np.full(6, -1.0),
        method="L-BFGS-B",
        jac=lambda v: torch.func.grad(rosen)(torch.tensor(v)).numpy(),
        options=dict(gtol=1e-8),
    )
    np.testing.assert_allclose(x.detach().numpy(), np.ones(6), atol=1e-6)
    assert opt.state[x]["n_iter"] <= 1.5 * ref.nit


def test_compact_direction_equals_two_loop_recursion():
    """lbfgs_direction (compact form) equals the textbook two-loop recursion, to 1e-10."""
    from torchlogit._solvers import lbfgs_direction

    rng = np.random.RandomState(0)
    P, m, gamma = 7, 4, 0.7
    S = torch.tensor(rng.randn(m, P))
    Y = S + 0.3 * torch.tensor(rng.randn(m, P))  # s.y > 0: valid curvature pairs
    g = torch.tensor(rng.randn(P))
    q, alphas = g.clone(), []
    for s, y in zip(reversed(S), reversed(Y), strict=True):
        a = s.dot(q) / y.dot(s)
        q -= a * y
        alphas.append(a)
    r = gamma * q
    for (s, y), a in zip(zip(S, Y, strict=True), reversed(alphas), strict=True):
        r += s * (a - y.dot(r) / y.dot(s))
    np.testing.assert_allclose(lbfgs_direction(g, torch.cat([S, Y]), gamma).numpy(), -r.numpy(), rtol=1e-10)


def test_shared_docstrings_fill_the_same_with_and_without_the_margin():
    """Python >= 3.13 strips a docstring's margin when it compiles it: fill_doc gives the same text
    either way, with each shared parameter at the margin (numpydoc then sees ``history_`` as its own
    attribute, not as part of ``loss_curve_``'s description, which broke the Sphinx build on 3.13)."""
    import inspect

    from torchlogit._docstrings import fill_doc

    source = """A model.

    Parameters
    ----------
    ${C}

    Attributes
    ----------
    ${fitted_net}
    """

    class Kept:  # as Python < 3.13 compiles it
        __doc__ = source

    class Stripped:  # as Python >= 3.13 compiles it
        __doc__ = inspect.cleandoc(source)

    kept, stripped = fill_doc()(Kept).__doc__, fill_doc()(Stripped).__doc__
    assert kept == stripped
    lines = kept.split("\n")
    assert "history_ : list of dict" in lines and "C : float, default=1.0" in lines


# (mutation survey, D3: `str(device) == "mps"` in _devices.refuse_mps_training)
def test_refuse_mps_training_refuses_every_spelling_of_mps():
    import pytest
    import torch

    from torchlogit._devices import MPS_TRAINING, refuse_mps_training

    for device in ("mps", "mps:0", torch.device("mps"), torch.device("mps", 0)):
        with pytest.raises(ValueError, match="not supported") as info:
            refuse_mps_training(device)
        assert str(info.value) == MPS_TRAINING
    refuse_mps_training("cpu")
    refuse_mps_training(torch.device("cpu"))
