"""Estimator state across fits: all-or-nothing updates and warm starts."""

from contextlib import contextmanager


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
