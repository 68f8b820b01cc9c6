"""scikit-learn's estimator checks, with no expected failures."""

import pytest
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

from torchlogit import TorchLogisticClassifier, TorchLogisticClassifierCV, TorchMultiLabelClassifier

ESTIMATORS = [
    TorchLogisticClassifier(),
    TorchLogisticClassifier(solver="adam", random_state=0),
    TorchLogisticClassifier(class_weight="balanced"),
    TorchLogisticClassifier(dtype="float64"),
    TorchLogisticClassifierCV(Cs=3, cv=3),
    TorchMultiLabelClassifier(),
    TorchMultiLabelClassifier(hidden_layer_sizes=(16,), random_state=0),
]


def _torch_devices(check):
    """The torch devices an array-API check puts data on (its keyword arguments name them)."""
    keywords = getattr(check, "keywords", {})
    devices = []
    if keywords.get("array_namespace") == "torch":
        devices.append(keywords.get("device_name"))
    for value in keywords.values():
        if getattr(value, "xp", None) == "torch":
            devices.append(value.device)
    return [device for device in devices if device is not None]


def _unavailable(device):
    if device == "cpu":
        return False
    backend = getattr(torch, str(device).split(":")[0], None)
    return not (backend is not None and hasattr(backend, "is_available") and backend.is_available())


def _skip_absent_devices(value):
    """scikit-learn skips a torch device only when torch was *built* without it: a CUDA wheel on a
    machine with no GPU (or no driver) then fails with torch's driver error. Skip what is not there."""
    check = value[1] if isinstance(value, tuple) else value.values[1]
    absent = [device for device in _torch_devices(check) if _unavailable(device)]
    if not absent:
        return value
    return pytest.param(*value, marks=pytest.mark.skip(reason=f"torch device {absent[0]!r} is not available here"))


def listed(parametrize_mark):
    """The same parametrization with its values in a list, array-API checks on absent devices skipped.

    Older scikit-learn (1.6, for one) hands pytest a generator, which pytest >= 9.1 deprecates
    (PytestRemovedIn10Warning, an error under our warning filters) before a single test is collected.
    """
    (argnames, argvalues), kwargs = parametrize_mark.mark.args, parametrize_mark.mark.kwargs
    return pytest.mark.parametrize(argnames, [_skip_absent_devices(value) for value in argvalues], **kwargs)


@listed(parametrize_with_checks(ESTIMATORS))
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
