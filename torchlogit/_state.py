"""Estimator state across fits: all-or-nothing updates, warm starts, and the plain data a fit leaves behind."""

from contextlib import contextmanager

import numpy as np
import torch


@contextmanager
def keep_state_on_failure(estimator):
    """Restore every attribute of ``estimator`` if the block raises (a failed fit changes nothing)."""
    saved = dict(vars(estimator))
    try:
        yield
    except BaseException:
        vars(estimator).clear()
        vars(estimator).update(saved)
        raise


def load_warm_start(module, state):
    """Load the previous fit's parameters, or say clearly why the new model cannot take them."""
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state.items()}
    if expected != found:
        raise ValueError(
            "warm_start=True cannot continue from the previous fit: the model's structure changed "
            f"(previous parameters {found}, now {expected}). Set warm_start=False to start afresh."
        )
    module.load_state_dict(state)


def plain(value):
    """``value`` with tensors and NumPy scalars turned into Python numbers and lists (training history rows)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        return value.item() if value.numel() == 1 else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def optimizer_moments(optimizer):
    """The per-parameter state of a torch optimizer (Adam's moments, SGD's momentum) as NumPy arrays."""
    return [
        {k: v.detach().cpu().numpy().copy() if isinstance(v, torch.Tensor) else v for k, v in state.items()}
        for _, state in sorted(optimizer.state_dict()["state"].items())
    ]


def load_optimizer_moments(optimizer, moments):
    """Put ``moments`` (from :func:`optimizer_moments`) back into a new optimizer of the same kind and shapes."""
    state = optimizer.state_dict()
    if len(moments) != sum(len(group["params"]) for group in state["param_groups"]):
        return  # a model of another structure: start the moments afresh
    state["state"] = {
        i: {k: torch.from_numpy(np.array(v)) if isinstance(v, np.ndarray) else v for k, v in entry.items()}
        for i, entry in enumerate(moments)
    }
    optimizer.load_state_dict(state)
