"""A fit that fails changes nothing: the estimator is left as it was before the call."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from torchlogit import TorchLogisticClassifier, TorchLogisticClassifierCV


@pytest.mark.parametrize("Estimator", [TorchLogisticClassifier, TorchLogisticClassifierCV])
def test_a_failed_first_fit_leaves_an_unfitted_estimator(Estimator):
    """y of one class is refused after X's validation: the failed fit left n_features_in_ behind, so the estimator
    looked fitted to scikit-learn's check_is_fitted, and predict failed with a raw AttributeError about coef_
    instead of NotFittedError."""
    X = np.random.RandomState(0).randn(20, 3)
    model = Estimator()
    with pytest.raises(ValueError, match="at least 2 classes"):
        model.fit(X, np.zeros(20))
    assert vars(model) == vars(Estimator())
    with pytest.raises(NotFittedError):
        model.predict(X)
