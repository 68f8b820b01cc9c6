"""scikit-learn's estimator checks, with no expected failures."""

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


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
