"""scikit-learn's estimator checks, with no expected failures."""

import pytest
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


def listed(parametrize_mark):
    """The same parametrization with its values in a list.

    Older scikit-learn (1.6, for one) hands pytest a generator, which pytest >= 9.1 deprecates
    (PytestRemovedIn10Warning, an error under our warning filters) before a single test is collected.
    """
    (argnames, argvalues), kwargs = parametrize_mark.mark.args, parametrize_mark.mark.kwargs
    return pytest.mark.parametrize(argnames, list(argvalues), **kwargs)


@listed(parametrize_with_checks(ESTIMATORS))
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
