"""torchlogit: scikit-learn logistic-regression classifiers trained with PyTorch through skorch."""

from ._cv import TorchLogisticClassifierCV
from ._inference import InferenceWarning
from ._logistic import TorchLogisticClassifier
from ._multilabel import TorchMultiLabelClassifier
from ._persistence import ModelFileError

__version__ = "0.1.0"

__all__ = [
    "InferenceWarning",
    "ModelFileError",
    "TorchLogisticClassifier",
    "TorchLogisticClassifierCV",
    "TorchMultiLabelClassifier",
    "__version__",
]
