"""torchlogit: scikit-learn logistic-regression classifiers trained with PyTorch through skorch."""

from ._cv import TorchLogisticClassifierCV
from ._inference import InferenceWarning
from ._logistic import TorchLogisticClassifier
from ._multilabel import TorchMultiLabelClassifier
from ._persistence import ModelFileError

__version__ = "0.1.0"

#: The types a skops file of a torchlogit model names, for ``skops.io.load(path, trusted=SKOPS_TRUSTED_TYPES)``
#: and ``mlflow.sklearn.save_model(model, path, skops_trusted_types=SKOPS_TRUSTED_TYPES)``. A fitted model
#: holds only NumPy arrays and Python values besides these classes.
SKOPS_TRUSTED_TYPES = [
    f"{cls.__module__}.{cls.__qualname__}"
    for cls in (TorchLogisticClassifier, TorchLogisticClassifierCV, TorchMultiLabelClassifier)
]

__all__ = [
    "SKOPS_TRUSTED_TYPES",
    "InferenceWarning",
    "ModelFileError",
    "TorchLogisticClassifier",
    "TorchLogisticClassifierCV",
    "TorchMultiLabelClassifier",
    "__version__",
]
