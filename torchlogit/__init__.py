"""torchlogit: scikit-learn logistic-regression classifiers trained with PyTorch through skorch."""

from ._logistic import TorchLogisticClassifier

__version__ = "0.1.0"

__all__ = ["TorchLogisticClassifier", "__version__"]
