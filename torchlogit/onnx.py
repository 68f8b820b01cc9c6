"""ONNX export: skl2onnx converters for the torchlogit estimators (registered on import).

``import torchlogit.onnx`` registers a shape calculator and a converter for
:class:`~torchlogit.TorchLogisticClassifier`, :class:`~torchlogit.TorchMultiLabelClassifier` and
:class:`~torchlogit.TorchLogisticClassifierCV` (its refitted model) with skl2onnx, so that
``skl2onnx.to_onnx(model, X[:1])`` works for a fitted model alone or inside a
:class:`~sklearn.pipeline.Pipeline`, with skl2onnx's usual options (``zipmap``,
float32 or float64 inputs). The graph computes the fitted arrays (``coef_`` /
``coefs_``) and has the outputs skl2onnx gives ``LogisticRegression``: ``label`` and
``probabilities``. For multi-label targets, ``label`` is the 0/1 matrix :meth:`predict`
returns, as int64 whatever the dtype of the targets (as skl2onnx gives ``MLPClassifier``'s: a
model fitted on boolean targets predicts bools in Python), and ``probabilities`` one column
per label. With skl2onnx's option
``raw_scores=True``, ``probabilities`` holds the scores instead, as for
``LogisticRegression``: :meth:`decision_function`'s values (for binary targets the two
columns ``-score, score``).

Needs ``skl2onnx`` and ``onnx`` (``pip install torchlogit[onnx]``); the estimators'
own :meth:`~torchlogit.TorchLogisticClassifier.to_onnx` needs neither.

Examples
--------
>>> import numpy as np
>>> import onnxruntime as rt
>>> from skl2onnx import to_onnx
>>> from sklearn.datasets import load_iris
>>> import torchlogit.onnx  # registers the converters
>>> from torchlogit import TorchLogisticClassifier
>>> X, y = load_iris(return_X_y=True)
>>> clf = TorchLogisticClassifier().fit(X, y)
>>> onx = to_onnx(clf, X[:1].astype(np.float32), options={"zipmap": False})
>>> session = rt.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
>>> label, proba = session.run(None, {"X": X[:3].astype(np.float32)})
>>> label.tolist()
[0, 0, 0]
>>> bool(np.abs(proba - clf.predict_proba(X[:3])).max() < 1e-5)
True
"""

import numpy as np
from onnx import TensorProto
from scipy.special import logit
from skl2onnx import update_registered_converter
from skl2onnx.algebra.onnx_ops import (
    OnnxAdd,
    OnnxArgMax,
    OnnxCast,
    OnnxConcat,
    OnnxGather,
    OnnxGreater,
    OnnxIdentity,
    OnnxMatMul,
    OnnxNeg,
    OnnxRelu,
    OnnxReshape,
    OnnxSigmoid,
    OnnxSoftmax,
    OnnxSub,
    OnnxTanh,
)
from skl2onnx.common.data_types import (
    BooleanTensorType,
    DoubleTensorType,
    FloatTensorType,
    Int64TensorType,
    StringTensorType,
)
from skl2onnx.common.utils import check_input_and_output_numbers, check_input_and_output_types

from ._cv import TorchLogisticClassifierCV
from ._data import host_classes
from ._export import integer_labels
from ._logistic import TorchLogisticClassifier
from ._multilabel import TorchMultiLabelClassifier

_ACTIVATIONS = {"relu": OnnxRelu, "tanh": OnnxTanh, "logistic": OnnxSigmoid, "identity": OnnxIdentity}


def _fitted_model(estimator):
    """The model whose arrays the graph computes: the estimator, or a CV estimator's refitted model."""
    return estimator._fitted() if isinstance(estimator, TorchLogisticClassifierCV) else estimator


def _labels(model):
    classes = host_classes(model)
    if classes.dtype.kind in "OU":
        return classes.astype(str).astype(object), StringTensorType
    integers = integer_labels(classes)  # integral floats too, as skl2onnx converts LogisticRegression's
    if integers is None:
        raise NotImplementedError(
            f"ONNX labels are integers or strings (as skl2onnx's); classes_ has dtype {classes.dtype}. "
            "Encode the labels as integers or strings before fitting."
        )
    return integers, Int64TensorType


def calculate_output_shapes(operator):
    """Shape calculator: ``label`` (n,) or (n, n_labels) and ``probabilities`` (n, n_columns).

    One input of booleans, integers or floats, as skl2onnx's ``LogisticRegression`` takes: a DataFrame
    sample (one input per column) is refused in skl2onnx's words, where the graph used the first column only
    and failed in onnxruntime.
    """
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=2)
    check_input_and_output_types(
        operator, good_input_types=[BooleanTensorType, DoubleTensorType, FloatTensorType, Int64TensorType]
    )
    raw = operator.raw_operator  # skl2onnx's options belong to it
    model = _fitted_model(raw)
    n = operator.inputs[0].get_first_dimension()
    proba_type = DoubleTensorType if isinstance(operator.inputs[0].type, DoubleTensorType) else FloatTensorType
    if model._kind == "multilabel":
        operator.outputs[0].type = Int64TensorType([n, model._n_outputs])
        operator.outputs[1].type = proba_type([n, model._n_outputs])
        return
    _, label_type = _labels(model)
    if operator.scope_inst.get_options(raw, dict(nocl=False))["nocl"]:
        label_type = Int64TensorType
    operator.outputs[0].type = label_type([n])
    operator.outputs[1].type = proba_type([n, len(model.classes_)])


def convert(scope, operator, container):
    """Converter: the fitted layers, then sigmoid / softmax, and the labels :meth:`predict` gives."""
    raw = operator.raw_operator
    model = _fitted_model(raw)
    opv = container.target_opset
    H = operator.inputs[0]
    if isinstance(H.type, DoubleTensorType):
        dtype = np.float64
    else:  # float32, or integers and booleans (count features) cast to it, as skl2onnx casts them
        dtype = np.float32
        if not isinstance(H.type, FloatTensorType):
            H = OnnxCast(H, to=TensorProto.FLOAT, op_version=opv)
    model._check_label_settings()  # the graph's labels are predict's: refused where predict's are
    layers = model._fitted_layers(dense=True)
    activation = model._fitted_activation()
    for i, (W, b) in enumerate(layers):
        H = OnnxAdd(
            OnnxMatMul(H, np.asarray(W, dtype=dtype), op_version=opv), np.asarray(b, dtype=dtype), op_version=opv
        )
        if i < len(layers) - 1:
            H = _ACTIVATIONS[activation](H, op_version=opv)
    # skl2onnx's option for linear classifiers: the scores (decision_function) in place of the probabilities.
    raw_scores = container.get_options(raw, dict(raw_scores=False))["raw_scores"]
    if model._kind == "multilabel":
        # predict compares the logits with logit(threshold): the same decision, no rounding of probabilities.
        cut = np.broadcast_to(logit(model._thresholds()), (model._n_outputs,)).astype(dtype)
        label = OnnxCast(OnnxGreater(H, cut, op_version=opv), to=TensorProto.INT64, op_version=opv)
        proba = H if raw_scores else OnnxSigmoid(H, op_version=opv)
    else:
        classes, _ = _labels(model)
        if container.get_options(raw, dict(nocl=False))["nocl"]:  # skl2onnx's option: class indices as labels
            classes = np.arange(len(classes), dtype=np.int64)
        if model._kind == "binary":
            if raw_scores:  # (-score, score), as skl2onnx gives LogisticRegression's
                proba = OnnxConcat(OnnxNeg(H, op_version=opv), H, axis=1, op_version=opv)
            else:
                positive = OnnxSigmoid(H, op_version=opv)
                proba = OnnxConcat(
                    OnnxSub(np.array([1], dtype=dtype), positive, op_version=opv), positive, axis=1, op_version=opv
                )
            index = OnnxCast(
                OnnxGreater(H, np.array([0], dtype=dtype), op_version=opv), to=TensorProto.INT64, op_version=opv
            )
            index = OnnxReshape(index, np.array([-1], dtype=np.int64), op_version=opv)
        else:
            proba = H if raw_scores else OnnxSoftmax(H, axis=1, op_version=opv)
            index = OnnxArgMax(H, axis=1, keepdims=0, op_version=opv)
        label = OnnxGather(classes, index, axis=0, op_version=opv)
    OnnxIdentity(label, op_version=opv, output_names=[operator.outputs[0]]).add_to(scope, container)
    OnnxIdentity(proba, op_version=opv, output_names=[operator.outputs[1]]).add_to(scope, container)


for _cls in (TorchLogisticClassifier, TorchMultiLabelClassifier, TorchLogisticClassifierCV):
    update_registered_converter(
        _cls,
        f"Torchlogit{_cls.__name__}",
        calculate_output_shapes,
        convert,
        options={"zipmap": [True, False, "columns"], "nocl": [False, True], "raw_scores": [False, True]},
    )
