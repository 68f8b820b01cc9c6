"""``to_onnx`` without skl2onnx: the fitted arrays as a small torch module, exported by ``torch.onnx.export``.

The TorchScript-based exporter (``dynamo=False``) is used: it needs neither ``onnx`` nor
``onnxscript`` (the torch.export-based one needs onnxscript), and it works offline.
"""

import inspect
import warnings

import numpy as np
import torch
from scipy.special import logit
from torch import nn

from ._data import host_classes
from ._persistence import check_file_path


def integer_labels(classes):
    """``classes`` as the int64 labels of an ONNX graph, or None when they are not integers.

    Integer, boolean and integral float labels (a float ``y`` read from a CSV: scikit-learn takes
    only integral floats as classes) become int64, as skl2onnx's ``int(label)`` makes them for
    ``LogisticRegression``. A label outside int64 is refused: ``astype`` would wrap 2**63 to -2**63
    and the graph would predict other labels than the model.
    """
    if classes.dtype.kind == "f":
        if not np.all(np.mod(classes, 1) == 0):
            return None
        outside = classes.size and (float(classes.min()) < -(2.0**63) or float(classes.max()) >= 2.0**63)
    elif classes.dtype.kind in "biu":
        outside = classes.size and not -(2**63) <= int(classes.min()) <= int(classes.max()) < 2**63
    else:
        return None
    if outside:
        low = classes.min()  # below int64 (floats only: an integer array's dtype holds no such value), or above
        beyond = low if float(low) < -(2.0**63) else classes.max()
        raise ValueError(
            f"ONNX class labels are int64; classes_ holds {beyond}, outside its range. Encode the labels "
            "(LabelEncoder, or strings) before fitting."
        )
    return classes.astype(np.int64)


_ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "logistic": torch.sigmoid, "identity": lambda h: h}


class _Exported(nn.Module):
    """Outputs ``label`` and ``probabilities``, as skl2onnx's converter for LogisticRegression does."""

    def __init__(self, layers, activation, kind, classes, cut):
        super().__init__()
        self.weights = nn.ParameterList(
            [nn.Parameter(torch.tensor(np.asarray(W, dtype=np.float32), device="cpu")) for W, _ in layers]
        )
        self.biases = nn.ParameterList(
            [nn.Parameter(torch.tensor(np.asarray(b, dtype=np.float32), device="cpu")) for _, b in layers]
        )
        self.activation = activation
        self.kind = kind
        self.register_buffer("classes", torch.tensor(classes, dtype=torch.int64, device="cpu"))
        self.register_buffer("cut", torch.tensor(cut, dtype=torch.float32, device="cpu"))

    def forward(self, X):
        H = X
        for i, (W, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            H = H @ W + b
            if i < len(self.weights) - 1:
                H = _ACTIVATIONS[self.activation](H)
        if self.kind == "multilabel":
            return (H > self.cut).to(torch.int64), torch.sigmoid(H)
        if self.kind == "binary":
            positive = torch.sigmoid(H)
            return self.classes[(H[:, 0] > 0).to(torch.int64)], torch.cat([1 - positive, positive], dim=1)
        return self.classes[torch.argmax(H, dim=1)], torch.softmax(H, dim=1)


def _torchscript_exporter():
    """``torch.onnx.export``'s keywords that pick the TorchScript-based exporter.

    torch >= 2.5 has a ``dynamo`` switch (and later defaults it to True); before, the TorchScript-based
    exporter is the only one and the keyword does not exist (torch 2.2 refuses it: TypeError). Asked at
    export, not at import: reading ``torch.onnx.export``'s signature imports ``torch.onnx`` (about 0.1 s
    of every process that imports torchlogit, each joblib worker of a grid search included).
    """
    return {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}


def export_onnx(estimator, path, opset_version=17):
    """Write ``estimator`` (fitted) to ``path`` as an ONNX model with float32 input ``X``."""
    check_file_path(path, "to_onnx")
    estimator._check_label_settings()  # the graph's labels are predict's: refused where predict's are
    labels = host_classes(estimator)
    classes = integer_labels(labels)
    if classes is None:
        raise ValueError(
            f"to_onnx exports integer (or boolean) class labels; classes_ has dtype {labels.dtype}. For string "
            "labels use skl2onnx: `import torchlogit.onnx; skl2onnx.to_onnx(model, X[:1])`."
        )
    cut = 0.0
    if estimator._kind == "multilabel":
        cut = np.broadcast_to(logit(estimator._thresholds()), (estimator._n_outputs,)).astype(np.float32)
    module = _Exported(
        estimator._fitted_layers(dense=True),
        estimator._fitted_activation(),
        estimator._kind,
        classes,
        cut,
    ).eval()
    example = torch.zeros(1, estimator.n_features_in_, dtype=torch.float32, device="cpu")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore", DeprecationWarning)  # "legacy TorchScript-based export": chosen, see above
        torch.onnx.export(
            module,
            (example,),
            str(path),
            **_torchscript_exporter(),
            input_names=["X"],
            output_names=["label", "probabilities"],
            dynamic_axes={"X": {0: "N"}, "label": {0: "N"}, "probabilities": {0: "N"}},
            opset_version=opset_version,
        )
