"""The model-file loader refuses a file whose tensor byte counts disagree with their shapes.

The checksum only proves the file is what its writer wrote: a crafted (or buggy) writer can
sign a header whose ``nbytes`` does not match ``dtype`` x ``shape``. The loader must raise
``ModelFileError`` for it, not read a tensor's worth of bytes from somewhere else in the file.
The files here are written by ``save`` and then re-signed after editing the header, exactly as
the format documents its layout (magic, 8-byte little-endian header length, JSON header,
tensor bytes, SHA-256 of all that).
"""

import hashlib
import json
import struct

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris

from torchlogit import TorchLogisticClassifier
from torchlogit._persistence import MAGIC, ModelFileError


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    X, y = load_iris(return_X_y=True)
    path = tmp_path_factory.mktemp("model") / "iris.tlg"
    TorchLogisticClassifier(C=0.1, max_iter=500).fit(X, y).save(path)
    return path


def _split(path):
    content = path.read_bytes()
    start = len(MAGIC) + 8
    (length,) = struct.unpack("<Q", content[len(MAGIC) : start])
    header = json.loads(content[start : start + length])
    return header, content[start + length : -32]


def _write(path, header, payload):
    blob = json.dumps(header).encode("utf-8")
    body = MAGIC + struct.pack("<Q", len(blob)) + blob + payload
    path.write_bytes(body + hashlib.sha256(body).digest())


def test_resigned_unchanged_file_loads(saved, tmp_path):
    header, payload = _split(saved)
    _write(tmp_path / "same.tlg", header, payload)
    loaded = TorchLogisticClassifier.load(tmp_path / "same.tlg")
    np.testing.assert_array_equal(loaded.coef_, TorchLogisticClassifier.load(saved).coef_)


@pytest.mark.parametrize("delta", [-1, 1], ids=["one-item-short", "one-item-long"])
@pytest.mark.parametrize("which", [0, 1], ids=["weight", "bias"])
def test_byte_count_disagreeing_with_shape_is_refused(saved, tmp_path, which, delta):
    header, payload = _split(saved)
    spec = header["tensors"][which]
    itemsize = {"float32": 4, "float64": 8}[spec["dtype"]]
    # The offset stays inside the payload; only the declared size disagrees with the shape.
    spec["nbytes"] += delta * itemsize
    if spec["offset"] + spec["nbytes"] > len(payload):
        payload = payload + bytes(itemsize)  # keep it inside the payload: only the byte count is wrong
    _write(tmp_path / "crafted.tlg", header, payload)
    with pytest.raises(ModelFileError, match="bytes for its shape"):
        TorchLogisticClassifier.load(tmp_path / "crafted.tlg")


def test_shape_disagreeing_with_byte_count_is_refused(saved, tmp_path):
    header, payload = _split(saved)
    spec = header["tensors"][0]
    spec["shape"] = [spec["shape"][0] - 1, spec["shape"][1]]  # fewer values than the bytes hold
    _write(tmp_path / "crafted.tlg", header, payload)
    with pytest.raises(ModelFileError):
        TorchLogisticClassifier.load(tmp_path / "crafted.tlg")


def test_tensor_past_the_end_of_the_payload_is_refused(saved, tmp_path):
    header, payload = _split(saved)
    header["tensors"][-1]["offset"] = len(payload)
    _write(tmp_path / "crafted.tlg", header, payload)
    with pytest.raises(ModelFileError):
        TorchLogisticClassifier.load(tmp_path / "crafted.tlg")


# --------------------------------------------------------------------------------------------------
# Every check of the loader, one forged file each (issue 21: mutation testing of _persistence).
#
# Each file below is a saved model with one field changed and a valid checksum. Exactly one of the
# loader's checks is wrong about it, and the error must name that check: the message ends with
# ": <reason>." (the reasons are the loader's own, in ``_persistence``). A file one step inside a
# bound loads, or fails on a later check, which names another reason. References: the format as the
# module docstring lays it out, and for the round trips the saved model itself.

import functools  # noqa: E402
import math  # noqa: E402
import re  # noqa: E402
import warnings  # noqa: E402

from sklearn.datasets import make_multilabel_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from torchlogit import TorchLogisticClassifierCV, TorchMultiLabelClassifier  # noqa: E402
from torchlogit import _persistence as persistence  # noqa: E402

X_LABELS, Y_LABELS = make_multilabel_classification(n_samples=40, n_features=6, n_classes=3, random_state=0)
TOP = ["estimator", "fitted", "format", "format_version", "params", "tensors"]
FITTED = ["classes_", "feature_names_in_", "fit_settings", "kind", "n_features_in_", "n_iter_", "n_outputs", "y_dtype"]


@functools.cache
def _fitted_models():
    """Fitted models of every kind, {name: (estimator, X)}: fitted once per process (the fits are deterministic)."""
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = {
            # 4 features, bool labels: tensors linear.weight (1, 4) at 0 and linear.bias (1,) at 32; 40 bytes.
            "binary": (TorchLogisticClassifier().fit(X, y == 1), X),
            "multinomial": (TorchLogisticClassifier(dtype="float64").fit(X, np.array(["a", "b", "c"])[y]), X),
            "multilabel": (TorchMultiLabelClassifier(threshold=[0.3, 0.5, 0.7]).fit(X_LABELS, Y_LABELS), X_LABELS),
            "multilabel bool": (TorchMultiLabelClassifier().fit(X_LABELS, Y_LABELS.astype(bool)), X_LABELS),
            "multilabel 1-D": (TorchMultiLabelClassifier().fit(X_LABELS, Y_LABELS[:, 0]), X_LABELS),
            # 6 features, 4 hidden units, 3 labels: 43 weights, 344 bytes.
            "hidden": (TorchMultiLabelClassifier((4,), max_iter=3, random_state=0).fit(X_LABELS, Y_LABELS), X_LABELS),
            "cv": (TorchLogisticClassifierCV(Cs=2, cv=2, max_iter=10).fit(X, y), X),
            "one feature": (TorchLogisticClassifier().fit(X[:, :1], y == 1), X[:, :1]),
        }
    return fitted


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Saved models of every kind: {name: (estimator, X, path)}, saved by this session's ``save``."""
    folder = tmp_path_factory.mktemp("models")
    out = {}
    for name, (model, data) in _fitted_models().items():
        path = folder / f"{name}.tlm"
        model.save(path)
        out[name] = (model, data, path)
    return out


def _write_text(path, text, payload):
    """A file with this header text (raw JSON, any tokens) and payload, and a valid checksum."""
    blob = text.encode("utf-8") if isinstance(text, str) else text
    body = MAGIC + struct.pack("<Q", len(blob)) + blob + payload
    path.write_bytes(body + hashlib.sha256(body).digest())
    return path


def _forged(models, name, edit, tmp_path):
    """(class, path) of model ``name``'s file after ``edit(header, payload)`` (which may return a new payload)."""
    model, _, path = models[name]
    header, payload = _split(path)
    payload = edit(header, payload) or payload
    _write(tmp_path / "forged.tlm", header, payload)
    return type(model), tmp_path / "forged.tlm"


def _refused(cls, path, reason):
    """Loading raises ModelFileError whose message ends with ``: reason.``: the check that failed."""
    with pytest.raises(ModelFileError, match=re.escape(f": {reason}.") + "$"):
        cls.load(path)


def _set(*keys):
    """An edit setting ``header[k1][k2]... = value`` (the last argument)."""
    *keys, value = keys

    def edit(header, payload):
        target = header
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return edit


def _labels(dtype, values):
    return _set("fitted", "classes_", {"dtype": dtype, "values": values})


def _nested(depth):
    """A JSON value of exactly ``depth`` levels as _depth counts them (a scalar is one level)."""
    value = 0
    for _ in range(depth - 1):
        value = [value]
    return value


def _tensors_reason(found, expected):
    return f"its tensors {found} are not those of the model {expected}"


BINARY_TENSORS = {"linear.weight": (1, 4), "linear.bias": (1,)}
NOT_ALLOWED = "the label dtype {!r} is not an allowed dtype"

LONG_TAGS = {"a": "x" * 100, "b": 1}
LONG_NAMES = {f"{'t' * 60}{i}": shape for i, shape in enumerate([(4, 6), (4,), (3, 4), (3,)])}
HIDDEN_TENSORS = {"hidden.0.weight": (4, 6), "hidden.0.bias": (4,), "output.weight": (3, 4), "output.bias": (3,)}


def _rename_hidden(header, payload):
    for spec, name in zip(header["tensors"], LONG_NAMES, strict=True):
        spec["name"] = name


# cv: 4 features, 3 classes, 2 Cs, 2 folds, one l1_ratio.
CV_ARRAYS = {
    "Cs_": (2,),
    "l1_ratios_": (1,),
    "scores_": (2, 1, 2),
    "coefs_paths_": (2, 1, 2, 3, 5),
    "n_iter_": (2, 1, 2),
    "choice": (2,),
}
# A grid of 2**31 - 1 points per axis in zero-byte arrays: both tables are over 200 characters (226 and 225).
BIG = 2**31 - 1
HUGE_GRID_FOUND = dict(CV_ARRAYS, Cs_=(BIG, 0), l1_ratios_=(BIG, 0), scores_=(BIG, 0), coefs_paths_=(BIG,) * 7 + (0,))
HUGE_GRID_EXPECTED = dict(
    CV_ARRAYS,
    Cs_=(BIG,),
    l1_ratios_=(BIG,),
    scores_=(BIG, BIG, BIG),
    coefs_paths_=(BIG, BIG, BIG, 3, 5),
    n_iter_=(BIG, BIG, BIG),
)


def _empty_huge_grid(header, payload):
    """Zero-byte arrays (a zero in the shape) whose first sizes claim a grid of 2**31 - 1 points per axis."""
    for spec in header["arrays"]:
        if spec["name"] in ("Cs_", "l1_ratios_", "scores_", "coefs_paths_"):
            spec.update(shape=list(HUGE_GRID_FOUND[spec["name"]]), nbytes=0)


REFUSED = {
    # Long values are shown truncated: an object's repr to 80 characters, a tag's value to 40, a dtype to 20,
    # a list of keys to 20 keys, tensor and array tables to 200 characters.
    "long two-key object": (
        "binary",
        _set("params", "C", LONG_TAGS),
        f"unexpected parameter value {str(LONG_TAGS)[:80]}",
    ),
    "long float tag": ("binary", _set("params", "C", {"float": "1" * 60}), f"unexpected float {'1' * 40}"),
    "long tensor dtype": (
        "binary",
        _set("tensors", 0, "dtype", "f" * 30),
        f"the tensor dtype {'f' * 20!r} is not allowed",
    ),
    "long kind": (
        "binary",
        _set("fitted", "kind", "k" * 30),
        f"kind {'k' * 20!r} is not one of ['binary', 'multinomial']",
    ),
    "25 extra keys": (
        "binary",
        lambda h, p: h.update({f"k{i:02d}": 0 for i in range(25)}),
        f"the header has the keys {sorted([*TOP, *(f'k{i:02d}' for i in range(25))])[:20]}",
    ),
    "long tensor names": (
        "hidden",
        _rename_hidden,
        f"its tensors {str(LONG_NAMES)[:200]} are not those of the model {str(HIDDEN_TENSORS)[:200]}",
    ),
    # The header's keys: exactly these, "arrays" only (and always) for a wrapper.
    "extra top-level key": ("binary", _set("x", 1), f"the header has the keys {sorted([*TOP, 'x'])}"),
    "plain model with arrays": ("binary", _set("arrays", []), f"the header has the keys {sorted([*TOP, 'arrays'])}"),
    "wrapper without arrays": ("cv", lambda h, p: h.pop("arrays") and None, f"the header has the keys {TOP}"),
    # Nesting: header 1, params 2, C 3 ... a 31-deep C makes 33.
    "header 33 deep": ("binary", _set("params", "C", _nested(31)), "the header nests deeper than 32"),
    # Parameters.
    "parameters as a list": ("binary", _set("params", [1]), "the parameters are not this estimator's"),
    "unknown parameter": ("binary", _set("params", "exec", 1), "the parameters are not this estimator's"),
    "callbacks": ("binary", _set("params", "callbacks", ["x"]), "a file cannot hold callbacks"),
    "callbacks as an empty tuple": (
        "binary",
        _set("params", "callbacks", {"tuple": []}),
        "a file cannot hold callbacks",
    ),
    "two-key object": ("binary", _set("params", "C", {"a": 1, "b": 2}), "unexpected parameter value {'a': 1, 'b': 2}"),
    "empty object": ("binary", _set("params", "C", {}), "unexpected parameter value {}"),
    "unknown tag": ("binary", _set("params", "C", {"set": [1]}), "unexpected parameter value {'set': [1]}"),
    "tuple of a number": ("binary", _set("params", "C", {"tuple": 5}), "unexpected parameter value {'tuple': 5}"),
    "dict of a number": ("binary", _set("params", "C", {"dict": 5}), "unexpected parameter value {'dict': 5}"),
    "finite float tag": ("binary", _set("params", "C", {"float": "1.5"}), "unexpected float 1.5"),
    "dict of a single": (
        "binary",
        _set("params", "class_weight", {"dict": [[1]]}),
        "a dict parameter is not a list of pairs",
    ),
    "dict of a triple": (
        "binary",
        _set("params", "class_weight", {"dict": [[1, 2, 3]]}),
        "a dict parameter is not a list of pairs",
    ),
    "dict of a non-list": (
        "binary",
        _set("params", "class_weight", {"dict": [5]}),
        "a dict parameter is not a list of pairs",
    ),
    "dict with a list key": (
        "binary",
        _set("params", "class_weight", {"dict": [[[1], 2]]}),
        "a dict key is not a scalar",
    ),
    # fitted: exact keys, positive counts within the file's size.
    "fitted as a list": ("binary", _set("fitted", [1]), "fitted is not an object"),
    "extra fitted key": ("binary", _set("fitted", "extra", 1), f"fitted has the keys {sorted([*FITTED, 'extra'])}"),
    "no features": (
        "binary",
        _set("fitted", "n_features_in_", 0),
        "n_features_in_ / n_outputs is not a positive count",
    ),
    "no outputs": ("binary", _set("fitted", "n_outputs", 0), "n_features_in_ / n_outputs is not a positive count"),
    "features true": (
        "binary",
        _set("fitted", "n_features_in_", True),
        "n_features_in_ / n_outputs is not a positive count",
    ),
    "features 2**31 + 1": (
        "binary",
        _set("fitted", "n_features_in_", 2**31 + 1),
        "n_features_in_ / n_outputs is not a positive count",
    ),
    # The largest count allowed, and then more weights than the 40 bytes hold (4 bytes each at least).
    "features 2**31": ("binary", _set("fitted", "n_features_in_", 2**31), "more weights than the file holds"),
    "11 features in 40 bytes": ("binary", _set("fitted", "n_features_in_", 11), "more weights than the file holds"),
    "11 outputs in 40 bytes": ("binary", _set("fitted", "n_outputs", 11), "more weights than the file holds"),
    # 10 features (or outputs) fit in 40 bytes: a later check refuses.
    "10 features in 40 bytes": (
        "binary",
        _set("fitted", "n_features_in_", 10),
        _tensors_reason(BINARY_TENSORS, {"linear.weight": (1, 10), "linear.bias": (1,)}),
    ),
    "10 outputs in 40 bytes": (
        "binary",
        _set("fitted", "n_outputs", 10),
        "a binary model needs 2 classes and 1 output",
    ),
    "negative n_iter_": ("binary", _set("fitted", "n_iter_", -1), "n_iter_ is not a count"),
    "n_iter_ 2**31 + 1": ("binary", _set("fitted", "n_iter_", 2**31 + 1), "n_iter_ is not a count"),
    "n_iter_ 2**31 (beyond int32)": ("binary", _set("fitted", "n_iter_", 2**31), "n_iter_ is not a count"),
    "n_iter_ 10**18 (19 digits)": ("binary", _set("fitted", "n_iter_", 10**18), "n_iter_ is not a count"),
    "n_iter_ -10**18 (19 digits)": ("binary", _set("fitted", "n_iter_", -(10**18)), "n_iter_ is not a count"),
    "n_iter_ 1.0": ("binary", _set("fitted", "n_iter_", 1.0), "n_iter_ is not a count"),
    "multi-label kind for a logistic model": (
        "binary",
        _set("fitted", "kind", "multilabel"),
        "kind 'multilabel' is not one of ['binary', 'multinomial']",
    ),
    "3 feature names for 4": (
        "binary",
        _set("fitted", "feature_names_in_", ["a", "b", "c"]),
        "feature_names_in_ is not one string per feature",
    ),
    "a number as a feature name": (
        "binary",
        _set("fitted", "feature_names_in_", ["a", "b", "c", 1]),
        "feature_names_in_ is not one string per feature",
    ),
    "feature names as a string": (
        "binary",
        _set("fitted", "feature_names_in_", "abcd"),
        "feature_names_in_ is not one string per feature",
    ),
    # Classes against the kind and the number of outputs.
    "binary with 3 labels": ("binary", _labels("|b1", [False, True, True]), "classes_ has the wrong number of labels"),
    "binary with 1 label": ("binary", _labels("|b1", [True]), "a binary model needs 2 classes and 1 output"),
    "no labels": ("binary", _labels("|b1", []), "classes_ has the wrong number of labels"),
    "labels not a list": ("multinomial", _labels("<U1", "abc"), "classes_ has the wrong number of labels"),
    "multinomial with 4 labels": (
        "multinomial",
        _labels("<U1", ["a", "b", "c", "d"]),
        "classes_ has the wrong number of labels",
    ),
    "multinomial with 2 labels and outputs": (
        "multinomial",
        lambda h, p: _set("fitted", "n_outputs", 2)(h, p) or _labels("<U1", ["a", "b"])(h, p),
        "a multinomial model needs one output per class, at least 3",
    ),
    "repeated label": ("multinomial", _labels("<U1", ["a", "a", "b"]), "classes_ are not distinct"),
    "unsorted labels": ("multinomial", _labels("<U1", ["b", "a", "c"]), "classes_ are not sorted"),
    "multi-label with 2 labels for 3 outputs": (
        "multilabel",
        _labels("<i8", [0, 1]),
        "a multi-label model needs one output per label",
    ),
    "multi-label labels not 0, 1, 2": (
        "multilabel",
        _labels("<i8", [1, 2, 3]),
        "a multi-label model's classes_ are its label indices",
    ),
    "y_dtype of a logistic model": (
        "binary",
        _set("fitted", "y_dtype", "<i8"),
        "y_dtype is only for multi-label models",
    ),
    "string y_dtype": ("multilabel", _set("fitted", "y_dtype", "<U3"), "y_dtype is not a numeric dtype"),
    "object y_dtype": ("multilabel", _set("fitted", "y_dtype", "object"), "y_dtype is not a numeric dtype"),
    # float16 (fit takes it, and save writes it) is allowed; complex is not
    "complex y_dtype": ("multilabel", _set("fitted", "y_dtype", "<c8"), "y_dtype '<c8' is not an allowed dtype"),
    "number as y_dtype": ("multilabel", _set("fitted", "y_dtype", 5), "y_dtype names no allowed dtype"),
    # The labels' table and dtype allow-list.
    "labels as a list": ("binary", _set("fitted", "classes_", [False, True]), "classes_ is not an object"),
    "labels without values": (
        "binary",
        _set("fitted", "classes_", {"dtype": "|b1"}),
        "classes_ has the keys ['dtype']",
    ),
    "label dtype a number": ("binary", _labels(8, [False, True]), "the label dtype names no allowed dtype"),
    "label dtype of 9 characters": (
        "multinomial",
        _labels("<U1234567", ["a", "b", "c"]),
        "the label dtype names no allowed dtype",
    ),
    "label dtype <U123456": ("multinomial", _labels("<U123456", ["a", "b", "c"]), NOT_ALLOWED.format("<U123456")),
    "label dtype <U4097": ("multinomial", _labels("<U4097", ["a", "b", "c"]), NOT_ALLOWED.format("<U4097")),
    "label dtype <U0": ("multinomial", _labels("<U0", ["a", "b", "c"]), NOT_ALLOWED.format("<U0")),
    "label dtype >U1": ("multinomial", _labels(">U1", ["a", "b", "c"]), NOT_ALLOWED.format(">U1")),
    "label dtype <f16": ("binary", _labels("<f16", [0, 1]), NOT_ALLOWED.format("<f16")),  # longdouble
    "label dtype <i3": ("binary", _labels("<i3", [0, 1]), NOT_ALLOWED.format("<i3")),
    "label dtype <c8": ("binary", _labels("<c8", [0, 1]), NOT_ALLOWED.format("<c8")),
    "label dtype >i8": ("binary", _labels(">i8", [0, 1]), NOT_ALLOWED.format(">i8")),
    "label dtype =i8": ("binary", _labels("=i8", [0, 1]), NOT_ALLOWED.format("=i8")),
    # Only "<" and "|" may lead: any other character is refused by the allow-list, not by NumPy.
    "label dtype XU1": ("multinomial", _labels("XU1", ["a", "b", "c"]), NOT_ALLOWED.format("XU1")),
    "label dtype Xi8": ("binary", _labels("Xi8", [0, 1]), NOT_ALLOWED.format("Xi8")),
    "label dtype <i": ("binary", _labels("<i", [0, 1]), NOT_ALLOWED.format("<i")),
    "label dtype <ix": ("binary", _labels("<ix", [0, 1]), NOT_ALLOWED.format("<ix")),
    "label dtype |V8": ("binary", _labels("|V8", [0, 1]), NOT_ALLOWED.format("|V8")),
    "a number among strings": (
        "multinomial",
        _labels("<U1", ["a", "b", 3]),
        "classes_ of a string dtype holds non-strings",
    ),
    "a number among object strings": (
        "multinomial",
        _labels("object", ["a", "b", 3]),
        "classes_ of a string dtype holds non-strings",
    ),
    "label longer than its dtype": ("multinomial", _labels("<U1", ["a", "b", "cc"]), "a class label is too long"),
    "object label of 4097 characters": (
        "multinomial",
        _labels("object", ["a", "b", "c" * 4097]),
        "a class label is too long",
    ),
    "integers as booleans": ("binary", _labels("|b1", [0, 1]), "classes_ of a boolean dtype holds non-booleans"),
    "int8 -129": ("binary", _labels("|i1", [-129, 0]), "classes_ holds out-of-range integers"),
    "int8 128": ("binary", _labels("|i1", [0, 128]), "classes_ holds out-of-range integers"),
    "uint8 -1": ("binary", _labels("|u1", [-1, 0]), "classes_ holds out-of-range integers"),
    "uint8 256": ("binary", _labels("|u1", [0, 256]), "classes_ holds out-of-range integers"),
    "booleans as int64": ("binary", _labels("<i8", [False, True]), "classes_ holds out-of-range integers"),
    "a string as a float": ("binary", _labels("<f8", [0, "1"]), "classes_ holds non-numbers"),
    "a boolean as a float": ("binary", _labels("<f8", [False, 1.0]), "classes_ holds non-numbers"),
    "float 1e300": ("binary", _labels("<f8", [0.5, 1e300]), "classes_ holds non-numbers"),
    "float -1e300": ("binary", _labels("<f8", [-1e300, 0.5]), "classes_ holds non-numbers"),
    "float32 1e39": ("binary", _labels("<f4", [0.5, 1e39]), "classes_ holds values its dtype cannot hold"),
    # The tensor table (binary: linear.weight (1, 4) at byte 0, linear.bias (1,) at byte 32, 40 bytes).
    "tensor table an object": ("binary", _set("tensors", {}), "the tensor table is not a short list"),
    "empty tensor table": ("binary", _set("tensors", []), "the tensor table is not a short list"),
    "65 tensors": (
        "binary",
        lambda h, p: h.update(tensors=h["tensors"][:1] * 65),
        "the tensor table is not a short list",
    ),
    "64 tensors": ("binary", lambda h, p: h.update(tensors=h["tensors"][:1] * 64), "two tensors have the same name"),
    "tensor entry a number": ("binary", _set("tensors", 0, 5), "a tensor entry is not an object"),
    "extra tensor key": (
        "binary",
        _set("tensors", 0, "x", 1),
        "a tensor entry has the keys ['dtype', 'name', 'nbytes', 'offset', 'shape', 'x']",
    ),
    "tensor name a number": ("binary", _set("tensors", 0, "name", 5), "a tensor name is not a short string"),
    "tensor name of 65 characters": (
        "binary",
        _set("tensors", 0, "name", "w" * 65),
        "a tensor name is not a short string",
    ),
    "tensor name of 64 characters": (
        "binary",
        _set("tensors", 0, "name", "w" * 64),
        _tensors_reason({"w" * 64: (1, 4), "linear.bias": (1,)}, BINARY_TENSORS),
    ),
    "other tensor name": (
        "binary",
        _set("tensors", 0, "name", "linear.W"),
        _tensors_reason({"linear.W": (1, 4), "linear.bias": (1,)}, BINARY_TENSORS),
    ),
    "shape a string": ("binary", _set("tensors", 0, "shape", "14"), "tensor 'linear.weight' has no 1-D to 2-D shape"),
    "0-D shape": ("binary", _set("tensors", 0, "shape", []), "tensor 'linear.weight' has no 1-D to 2-D shape"),
    "3-D shape": ("binary", _set("tensors", 0, "shape", [1, 1, 4]), "tensor 'linear.weight' has no 1-D to 2-D shape"),
    "negative size": ("binary", _set("tensors", 0, "shape", [-1, -4]), "tensor 'linear.weight' has a bad shape"),
    "float size": ("binary", _set("tensors", 0, "shape", [1.0, 4]), "tensor 'linear.weight' has a bad shape"),
    "transposed weight": (
        "binary",
        _set("tensors", 0, "shape", [4, 1]),
        _tensors_reason({"linear.weight": (4, 1), "linear.bias": (1,)}, BINARY_TENSORS),
    ),
    # A zero-byte entry is a well-formed range: it is the model's structure that refuses an empty weight.
    "empty weight": (
        "binary",
        lambda h, p: h["tensors"][0].update(shape=[0, 4], nbytes=0),
        _tensors_reason({"linear.weight": (0, 4), "linear.bias": (1,)}, BINARY_TENSORS),
    ),
    "negative offset": ("binary", _set("tensors", 1, "offset", -1), "bad range"),
    "offset past the payload": ("binary", _set("tensors", 1, "offset", 41), "bad range"),
    "offset true": ("binary", _set("tensors", 0, "offset", True), "bad range"),
    "nbytes past the payload": ("binary", _set("tensors", 1, "nbytes", 41), "bad range"),
    "bias at the end": ("binary", _set("tensors", 1, "offset", 40), "tensor 'linear.bias' lies outside the file"),
    "bias across the end": ("binary", _set("tensors", 1, "offset", 33), "tensor 'linear.bias' lies outside the file"),
    "two names alike": ("binary", _set("tensors", 1, "name", "linear.weight"), "two tensors have the same name"),
    "float32 bias": (
        "binary",
        lambda h, p: h["tensors"][1].update(dtype="float32", nbytes=4),
        "the tensors have different dtypes",
    ),
    "bias inside the weight": ("binary", _set("tensors", 1, "offset", 24), "two tensors overlap"),
    "bias over the weight's start": ("binary", _set("tensors", 1, "offset", 0), "two tensors overlap"),
    "weight over the bias": (
        "binary",
        lambda h, p: h["tensors"][0].update(offset=8) or (p[32:] + p[:32]),
        "two tensors overlap",
    ),
    # A wrapper's arrays table: up to 8-D.
    "9-D array": (
        "cv",
        lambda h, p: h["arrays"][-1].update(shape=[1] * 8 + [2]),
        "array 'choice' has no 1-D to 8-D shape",
    ),
    # The arrays lie apart from the tensors too (cv: linear.weight at 0, linear.bias at 96, 24 bytes; Cs_ at 120).
    "array over the bias": ("cv", _set("arrays", 0, "offset", 96), "two tensors overlap"),
    # The arrays' names and shapes follow from the grid the file gives; the refusal shows both tables.
    "array of another shape": (
        "cv",
        _set("arrays", 5, "shape", [2, 1]),
        f"its arrays {dict(CV_ARRAYS, choice=(2, 1))} are not those expected {CV_ARRAYS}",
    ),
    "empty grid of 2**31 - 1 points": (
        "cv",
        _empty_huge_grid,
        f"its arrays {str(HUGE_GRID_FOUND)[:200]} are not those expected {str(HUGE_GRID_EXPECTED)[:200]}",
    ),
    # Weights counted from the parameters before anything is built (hidden: 6 features, h units, 3 labels):
    # 10 h + 3 weights of 4 bytes at least, less 4 bytes per absent bias, in 344 bytes: h <= 9.
    "10 hidden units": (
        "hidden",
        _set("params", "hidden_layer_sizes", {"tuple": [10]}),
        "the parameters describe more weights than the file",
    ),
    "9 hidden units": (
        "hidden",
        _set("params", "hidden_layer_sizes", {"tuple": [9]}),
        _tensors_reason(
            {"hidden.0.weight": (4, 6), "hidden.0.bias": (4,), "output.weight": (3, 4), "output.bias": (3,)},
            {"hidden.0.weight": (9, 6), "hidden.0.bias": (9,), "output.weight": (3, 9), "output.bias": (3,)},
        ),
    ),
    # Eight hidden layers of one unit fit in the file's size, but not in its table of 4 tensors: refused before
    # any module is built (a file of 20,000 such layers took 20 s to build them).
    "eight hidden layers": (
        "hidden",
        _set("params", "hidden_layer_sizes", {"tuple": [1] * 8}),
        "the parameters describe more layers than the file holds",
    ),
    # 12 and 1 hidden units: 103 weights, 412 bytes, over 344 + 4 x 16 (16 biases that may be absent) = 408.
    "12 and 1 hidden units": (
        "hidden",
        _set("params", "hidden_layer_sizes", {"tuple": [12, 1]}),
        "the parameters describe more weights than the file",
    ),
    "threshold of the wrong length": (
        "multilabel",
        _set("params", "threshold", [0.5]),
        "threshold must be a float or hold one value per label (3); got shape (1,)",
    ),
    # Values fit refuses for these classes or labels (they loaded, predicted, and failed at refit).
    "threshold holding NaN": (
        "multilabel",
        _set("params", "threshold", [0.5, {"float": "nan"}, 0.5]),
        "threshold values must lie strictly between 0 and 1; got [0.5, nan, 0.5]",
    ),
    "threshold of strings": (
        "multilabel",
        _set("params", "threshold", ["0.5"] * 3),
        "threshold must hold numbers; got ['0.5', '0.5', '0.5']",
    ),
    "negative pos_weight": (
        "multilabel",
        _set("params", "pos_weight", [1.0, -1.0, 1.0]),
        "pos_weight must hold one finite, non-negative weight per label (3); got [1.0, -1.0, 1.0]",
    ),
    "pos_weight of a 1-D model": (
        "multilabel 1-D",
        _set("params", "pos_weight", [1.0]),
        "pos_weight applies to multi-label (indicator matrix) targets; y is 1-D (a one-column Y is read as 1-D class "
        "labels, as MLPClassifier reads it), and its prediction is the most probable class",
    ),
    "NaN class weight": (
        "binary",
        _set("params", "class_weight", {"dict": [[False, {"float": "nan"}], [True, 1.0]]}),
        "class_weight gives class False the weight nan; class weights must be finite and non-negative numbers",
    ),
    "newton-cholesky with an L1 part": (
        "multinomial",
        lambda h, p: h["params"].update(solver="newton-cholesky", l1_ratio=1.0),
        "Solver newton-cholesky supports only 'l2' or None penalties, got l1 penalty (l1_ratio=1 with C=1): set "
        "l1_ratio=0, or use solver='lbfgs' for L1",
    ),
    "NaN weight": (
        "binary",
        lambda h, p: np.float64(np.nan).tobytes() + p[8:],
        "tensor 'linear.weight' holds non-finite values",
    ),
    "infinite bias": (
        "binary",
        lambda h, p: p[:32] + np.float64(-np.inf).tobytes(),
        "tensor 'linear.bias' holds non-finite values",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_each_check_refuses_its_forged_file_and_names_itself(models, tmp_path, case):
    """A re-signed file that breaks exactly one rule of the format raises ModelFileError naming that rule."""
    name, edit, reason = REFUSED[case]
    cls, path = _forged(models, name, edit, tmp_path)
    _refused(cls, path, reason)


def test_a_header_of_32_levels_is_not_refused_for_its_depth(models, tmp_path):
    """The depth limit is 32: a 32-deep header passes it (and the estimator's check refuses C=[[...]])."""
    cls, path = _forged(models, "binary", _set("params", "C", _nested(30)), tmp_path)
    with pytest.raises(ModelFileError, match=r"The 'C' parameter of TorchLogisticClassifier must be"):
        cls.load(path)


def test_an_eight_dimensional_array_is_not_refused_for_its_rank(models, tmp_path):
    """A wrapper's arrays may be 8-D: an 8-D "choice" passes the rank check (and then not the expected shapes)."""
    cls, path = _forged(models, "cv", lambda h, p: h["arrays"][-1].update(shape=[1] * 7 + [2]), tmp_path)
    with pytest.raises(ModelFileError, match=r"its arrays .* are not those expected"):
        cls.load(path)


def _raw(models, tmp_path, name, placeholder, token, **keys):
    """Model ``name``'s file with the value at ``keys`` replaced by the raw JSON ``token``."""
    model, _, path = models[name]
    header, payload = _split(path)
    header["fitted"]["n_iter_"] = placeholder
    text = json.dumps(header).replace(json.dumps(placeholder), token)
    return type(model), _write_text(tmp_path / "raw.tlm", text, payload)


@pytest.mark.parametrize(
    "token, message",
    [
        ("1" + "0" * 20, "has a damaged header: an integer of 21 digits."),
        ("-1" + "0" * 20, "has a damaged header: an integer of 22 digits."),
        ("1" + "0" * 19, "is not a valid torchlogit model file: n_iter_ is not a count."),  # uint64's 20 digits
        ("9" * 5000, "has a damaged header: an integer of 5000 digits."),
        ("1e400", "has a damaged header: the number 1e400 overflows."),
        ("-1e400", "has a damaged header: the number -1e400 overflows."),
        ("NaN", "has a damaged header: the constant NaN (non-finite numbers are written as {'float': ...})."),
        (
            "-Infinity",
            "has a damaged header: the constant -Infinity (non-finite numbers are written as {'float': ...}).",
        ),
        ("1.5", "is not a valid torchlogit model file: n_iter_ is not a count."),
    ],
)
def test_numbers_beyond_int64_or_float64_are_refused_while_parsing(models, tmp_path, token, message):
    """Integers of more than 20 digits (uint64's: class labels of 64-bit ids), overflowing floats and NaN / Infinity
    constants stop the JSON parser itself; the 20-digit ones pass it and are judged by the schema."""
    cls, path = _raw(models, tmp_path, "binary", "TOKEN", token)
    with pytest.raises(ModelFileError, match=re.escape(message) + "$"):
        cls.load(path)


def test_files_damaged_before_the_header_is_parsed_are_refused(models, tmp_path):
    """The magic, the checksum, the header's length (at most 16 MiB and inside the file), UTF-8 and JSON."""
    _, _, good = models["binary"]
    header, payload = _split(good)
    text = json.dumps(header)
    load = TorchLogisticClassifier.load

    def signed(body):
        path = tmp_path / "damaged.tlm"
        path.write_bytes(body + hashlib.sha256(body).digest())
        return path

    with pytest.raises(ModelFileError, match="does not start with the torchlogit magic"):
        load(signed(b"TORCHLOGIT\r" + struct.pack("<Q", len(text)) + text.encode() + payload))
    # Shorter than the magic and the length: refused as truncated, whatever its checksum.
    with pytest.raises(ModelFileError, match="is truncated or was altered"):
        load(signed(MAGIC + b"\x00" * 7))
    # Exactly the magic and a zero length: an empty header, which is not JSON.
    with pytest.raises(ModelFileError, match="has a damaged header: Expecting value"):
        load(signed(MAGIC + struct.pack("<Q", 0)))
    # A length one byte past the end, and the length of header and payload together.
    rest = text.encode() + payload
    with pytest.raises(ModelFileError, match=rf"is damaged \(its header length is {len(rest) + 1} bytes\)\.$"):
        load(signed(MAGIC + struct.pack("<Q", len(rest) + 1) + rest))
    with pytest.raises(ModelFileError, match="has a damaged header: "):  # the payload's bytes are not UTF-8 JSON
        load(signed(MAGIC + struct.pack("<Q", len(rest)) + rest))
    with pytest.raises(ModelFileError, match="has a damaged header: 'utf-8' codec can't decode"):
        load(
            _write_text(
                tmp_path / "latin.tlm", text.replace("TorchLogisticClassifier", "T\xf6rch").encode("latin-1"), payload
            )
        )
    for other, shown in [
        (text.replace('"torchlogit"', '"other"'), "not a torchlogit model file."),
        ("[1]", "not a torchlogit model file."),
    ]:
        with pytest.raises(ModelFileError, match=re.escape(shown) + "$"):
            load(_write_text(tmp_path / "other.tlm", other, payload))
    for version in ("1.0", "true", "2"):
        forged = text.replace('"format_version": 1', f'"format_version": {version}')
        with pytest.raises(
            ModelFileError, match=rf"uses format version {version.title() if version == 'true' else version};"
        ):
            load(_write_text(tmp_path / "version.tlm", forged, payload))


def test_a_header_of_16_mib_loads_and_one_byte_more_is_refused(models, tmp_path):
    """The header may take up to 1 << 24 bytes (trailing JSON whitespace here)."""
    model, X, good = models["binary"]
    header, payload = _split(good)
    text = json.dumps(header)
    loaded = TorchLogisticClassifier.load(_write_text(tmp_path / "big.tlm", text.ljust(1 << 24), payload))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    with pytest.raises(ModelFileError, match=rf"is damaged \(its header length is {(1 << 24) + 1} bytes\)\.$"):
        TorchLogisticClassifier.load(_write_text(tmp_path / "big.tlm", text.ljust((1 << 24) + 1), payload))


def _reference_depth(value):
    """Levels of a parsed JSON value, a scalar being one (the loader's definition), by recursion."""
    children = list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else []
    return 1 + max((_reference_depth(child) for child in children), default=0)


@pytest.mark.parametrize(
    "value",
    [1, [], {}, [1], {"a": [1, {"b": None}]}, [[1], [[2]], 3], _nested(32), {"x": _nested(20), "y": [_nested(31)]}],
)
def test_structure_refuses_exactly_the_values_nested_deeper_than_32(value):
    """_structure (on the raw text) agrees with a recursive count of the parsed value, a scalar being one level: up
    to 32 passes, 33 is refused; brackets inside strings are text, not structure."""
    if _reference_depth(value) <= 32:
        persistence._structure(json.dumps(value).encode(), 0)
    else:
        with pytest.raises(ModelFileError, match="nests deeper than 32"):
            persistence._structure(json.dumps(value).encode(), 0)
    persistence._structure(json.dumps([_nested(31), {"s": "[{" * 50}]).encode(), 0)  # 32 levels, a string's brackets
    with pytest.raises(ModelFileError, match="nests deeper than 32"):
        persistence._structure(json.dumps([value, _nested(32)]).encode(), 0)
    with pytest.raises(ModelFileError, match="nests deeper than 32"):
        persistence._structure(json.dumps({"x": "]]]", "y": [_nested(32)]}).encode(), 0)


def test_structure_refuses_a_header_of_many_containers_before_parsing_it():
    """A 16 MiB header of empty lists (5.6 million) cost 25-38 s and 0.8-1.2 GB to parse and walk; now refused
    from its bytes. 65536 containers pass (a class_weight dict has one pair per class), 65537 do not."""
    persistence._structure(json.dumps([[]] * 65535).encode(), 0)
    with pytest.raises(ModelFileError, match="holds 65537 JSON arrays and objects"):
        persistence._structure(json.dumps([[]] * 65536).encode(), 0)
    persistence._structure(json.dumps(["[{" * 100_000]).encode(), 0)  # inside a string: text
    # Escaped quotes and backslashes do not end a string: its brackets stay text.
    persistence._structure(json.dumps(['\\"[[' * 40_000, "\\" + "{" * 40_000, '"\\"]]' * 40_000]).encode(), 0)


def test_structure_bounds_the_header_values_by_the_payload():
    """A header lists about one value per feature and a few per output; its payload holds 4 bytes per weight: more
    values than payload bytes (plus 65536) are refused before parsing (a 16 MiB list of zeros cost 6 s)."""
    values = json.dumps({"names": ["f"] * 70_001}).encode()  # 70000 commas
    persistence._structure(values, 70_000 - 65536)
    with pytest.raises(ModelFileError, match="holds 70000 values for 4463 bytes of weights"):
        persistence._structure(values, 70_000 - 65537)
    persistence._structure(json.dumps({"names": [",,,,"] * 60_000}).encode(), 0)  # commas inside strings are text


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -3,
        2.5,
        "text",
        math.inf,
        -math.inf,
        (1, (2.5, "a")),
        (),
        [1, [2, None]],
        {1: 2.0, "a": None, 0.5: (1,), None: [math.inf], False: "x"},
        {"nested": {"dict": {"tuple": 1}}},
    ],
    ids=repr,
)
def test_parameters_survive_json_with_their_types(value):
    """_encode writes strict JSON (no NaN / Infinity tokens) that _decode reads back equal, tuples as tuples,
    dicts with their non-string keys, infinities as infinities."""
    text = json.dumps(persistence._encode(value, "p"), allow_nan=False)
    decoded = persistence._decode(json.loads(text))
    assert decoded == value and type(decoded) is type(value)
    if isinstance(value, tuple) and value:
        assert type(decoded[1]) is type(value[1])


def test_nan_and_numpy_parameters_are_saved_as_plain_values():
    """NaN round-trips as NaN; NumPy scalars become Python numbers; numeric arrays stay arrays of their dtype
    (non-finite values included), other arrays become lists."""
    assert math.isnan(persistence._decode(json.loads(json.dumps(persistence._encode(math.nan, "p"), allow_nan=False))))
    for value, plain in [(np.int64(3), 3), (np.float32(0.5), 0.5), (np.bool_(True), True), (np.array(["a"]), ["a"])]:
        encoded = persistence._encode(value, "p")
        assert encoded == plain and type(encoded) is type(plain)
    for array in [np.array([1, 2]), np.array([[np.inf, -0.5]], dtype=np.float32), np.array(True), np.array([], "<u2")]:
        text = json.dumps(persistence._encode(array, "p"), allow_nan=False)
        back = persistence._decode(json.loads(text))
        assert back.dtype == array.dtype and back.shape == array.shape
        np.testing.assert_array_equal(back, array)
    # A long double (whose .item() is a long double again: a RecursionError) is saved as the float it equals, and
    # refused in the parameter's words when no float64 holds it (where long double is wider than double).
    assert persistence._encode(np.longdouble(0.5), "p") == 0.5
    if np.finfo(np.longdouble).nmant > np.finfo(np.float64).nmant:
        with pytest.raises(TypeError, match=r"The parameter p=.* cannot be saved in the safe format"):
            persistence._encode(np.longdouble(1) / 3, "p")
    # The decoder itself refuses what NumPy would quietly read (None as NaN, a wrapped integer), whatever parameter
    # it is for: not every parameter's own check would see the NaN.
    for values in ([0.5, None], [[1.0], [1.0, 2.0]], ["a"], [300]):
        with pytest.raises(persistence.ModelFileError):
            persistence._decode({"ndarray": ["<i1" if values == [300] else "<f8", values]})
    assert persistence._encode(np.float64(np.inf), "p") == {"float": "inf"}
    with pytest.raises(TypeError, match=r"The parameter p=<object .*> cannot be saved in the safe format"):
        persistence._encode(object(), "p")
    # Inside a tuple, a list or a dict, the error still names the parameter.
    for value in ((1, object()), [object()], {1: object()}, {object(): 1}, (np.array([object()]),)):
        with pytest.raises(TypeError, match=r"^The parameter p=<object .*> cannot be saved"):
            persistence._encode(value, "p")


@pytest.mark.parametrize(
    "labels",
    [
        np.array([False, True]),
        np.array([-128, 127], dtype=np.int8),
        np.array([0, 65535], dtype=np.uint16),
        np.array([-(2**63), 2**63 - 1], dtype=np.int64),
        np.array([0, 2**64 - 1], dtype=np.uint64),
        np.array([0.5, 1e299], dtype=np.float64),
        np.array([-1.5, 3.0e38], dtype=np.float32),
        np.array(["a", "bb"]),
        np.array(["a", "b" * 4096]),
        np.array(["a", "b" * 4096], dtype=object),
        np.array([1, 2], dtype=">i4"),
    ],
    ids=lambda a: f"{a.dtype.str}",
)
def test_labels_of_every_allowed_dtype_round_trip(labels):
    """Labels written by _labels_to_json read back by _labels with their values and (little-endian) dtype."""
    spec = json.loads(json.dumps(persistence._labels_to_json(labels), allow_nan=False))
    if labels.dtype.kind != "O":
        assert spec["dtype"] == labels.dtype.newbyteorder("<").str
    back = persistence._labels(spec, max_count=2)
    np.testing.assert_array_equal(back, labels)
    assert back.dtype == labels.dtype.newbyteorder("=")
    with pytest.raises(ModelFileError, match="wrong number of labels"):
        persistence._labels(spec, max_count=1)


def test_short_labels_in_a_wide_string_array_are_saved_at_their_width(tmp_path):
    """Labels 'no' / 'yes' held in a '<U5000' array (a fixed-width field): the file writes the longest label's
    width, as the docs say ("the narrowest <U width that holds them"); save refused them as a dtype over 4096."""
    X, y = load_breast_cancer(return_X_y=True)
    labels = np.array(["no", "yes"], dtype="<U5000")[y]
    model = TorchLogisticClassifier(max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, labels)
    model.save(tmp_path / "wide.tl")
    loaded = TorchLogisticClassifier.load(tmp_path / "wide.tl")
    assert loaded.classes_.dtype == np.dtype("<U3")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_labels_the_format_cannot_hold_are_refused_when_saving():
    """Object labels that are not strings, and complex or datetime labels, cannot be saved."""
    for labels in (np.array([1, "a"], dtype=object), np.array([1j, 2j]), np.array(["2020-01-01"], dtype="M8[D]")):
        with pytest.raises(TypeError, match="Only numeric or string class labels can be saved"):
            persistence._labels_to_json(labels)


@pytest.mark.parametrize(
    "name, edit",
    [
        ("binary", _labels("|i1", [-128, 127])),
        ("binary", _labels("|u1", [0, 255])),
        ("binary", _labels("<f8", [-1e299, 1e299])),
        ("binary", _labels("<f4", [0, 1])),
        ("multinomial", _labels("|U1", ["a", "b", "c"])),
        ("multinomial", _labels("<U4096", ["a", "b", "c"])),
        ("multinomial", _labels("<U2", ["a", "b", "cc"])),
        ("multinomial", _labels("object", ["a", "b", "c" * 4096])),
        ("binary", _set("fitted", "n_iter_", 0)),
        ("binary", _set("fitted", "n_iter_", 2**31 - 1)),
        ("binary", _set("fitted", "feature_names_in_", ["a", "b", "c", "d"])),
        ("binary", _set("params", "callbacks", None)),
    ],
)
def test_files_at_the_edge_of_each_rule_load_as_written(models, tmp_path, name, edit):
    """A file inside every bound loads, with the labels, iteration count and feature names it states."""
    cls, path = _forged(models, name, edit, tmp_path)
    header, _ = _split(path)
    loaded = cls.load(path)
    fitted = header["fitted"]
    labels = fitted["classes_"]
    assert loaded.classes_.tolist() == labels["values"]
    expected = np.dtype(object if labels["dtype"] == "object" else labels["dtype"])
    if expected.kind == "U":  # read in the narrowest width that holds them
        expected = np.dtype(f"<U{max(map(len, labels['values']))}")
    assert loaded.classes_.dtype == expected
    assert loaded.n_iter_.dtype == np.int32 and loaded.n_iter_.tolist() == [fitted["n_iter_"]]
    assert loaded.n_features_in_ == fitted["n_features_in_"]
    if fitted["feature_names_in_"] is None:
        assert not hasattr(loaded, "feature_names_in_")
    else:
        assert loaded.feature_names_in_.dtype == object
        assert loaded.feature_names_in_.tolist() == fitted["feature_names_in_"]
    model, X, _ = models[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # X without the feature names the file states
        np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
        assert set(loaded.predict(X).tolist()) <= set(labels["values"])  # predict returns classes_ entries


@pytest.mark.parametrize(
    "name", ["binary", "multinomial", "multilabel", "multilabel bool", "hidden", "cv", "one feature"]
)
def test_a_loaded_model_has_every_fitted_attribute_of_the_saved_one(models, name):
    """Round trip: classes_, n_features_in_, n_iter_ (int32), the kind, the outputs, the labels' dtype for a
    multi-label model, the arrays, and for the CV wrapper its cross-validation results."""
    model, X, path = models[name]
    loaded = type(model).load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    predicted, expected = loaded.predict(X), model.predict(X)
    np.testing.assert_array_equal(predicted, expected)
    assert predicted.dtype == expected.dtype
    np.testing.assert_array_equal(loaded.n_iter_, model.n_iter_)
    assert loaded.n_iter_.dtype == model.n_iter_.dtype
    assert loaded.n_features_in_ == model.n_features_in_ and type(loaded.n_features_in_) is int
    assert loaded.get_params() == model.get_params()
    inner, inner_loaded = (model._estimator, loaded._estimator) if name == "cv" else (model, loaded)
    assert inner_loaded._kind == inner._kind and inner_loaded._n_outputs == inner._n_outputs
    assert inner_loaded.n_iter_.dtype == np.int32 and inner_loaded.n_iter_.tolist() == inner.n_iter_.tolist()
    np.testing.assert_array_equal(inner_loaded.classes_, inner.classes_)
    assert inner_loaded.n_features_in_ == inner.n_features_in_
    if name.startswith("multilabel") or name == "hidden":
        assert np.dtype(inner_loaded._y_dtype) == np.dtype(inner._y_dtype)
    else:
        assert getattr(inner_loaded, "_y_dtype", None) is None
    if name == "cv":
        for attribute in ("Cs_", "l1_ratios_", "scores_", "coefs_paths_", "C_", "l1_ratio_", "coef_", "intercept_"):
            np.testing.assert_array_equal(getattr(loaded, attribute), getattr(model, attribute))
    if hasattr(model, "coef_"):
        np.testing.assert_array_equal(loaded.coef_, model.coef_)
        np.testing.assert_array_equal(loaded.intercept_, model.intercept_)


def test_tensors_stored_in_any_order_and_in_float32_load_as_their_values(models, tmp_path):
    """The format only asks that tensors lie apart: the bias stored before the weight loads the same; float32
    tensors load as float32 arrays (little-endian bytes, read into native order)."""
    model, X, good = models["binary"]
    header, payload = _split(good)
    header["tensors"][1]["offset"], header["tensors"][0]["offset"] = 0, 8
    loaded = TorchLogisticClassifier.load(
        _write(tmp_path / "swapped.tlm", header, payload[32:] + payload[:32]) or tmp_path / "swapped.tlm"
    )
    np.testing.assert_array_equal(loaded.coef_, model.coef_)
    np.testing.assert_array_equal(loaded.intercept_, model.intercept_)

    header, payload = _split(good)
    values = np.frombuffer(payload, dtype="<f8").astype("<f4")
    for spec, (offset, count) in zip(header["tensors"], [(0, 4), (20, 1)], strict=True):
        spec.update(dtype="float32", offset=offset, nbytes=4 * count)
    # weight's 16 bytes, 4 bytes of padding, then the bias: gaps are allowed
    _write(tmp_path / "f32.tlm", header, values[:4].tobytes() + b"\0" * 4 + values[4:].tobytes() + b"\0" * 4)
    loaded = TorchLogisticClassifier.load(tmp_path / "f32.tlm")
    assert loaded.coef_.dtype == np.float32 and loaded.intercept_.dtype == np.float32
    np.testing.assert_array_equal(loaded.coef_, values[:4].reshape(1, 4))
    np.testing.assert_array_equal(loaded.intercept_, values[4:])


def test_a_cv_file_keeps_arrays_of_another_dtype(models, tmp_path):
    """A wrapper's arrays need not share a dtype: Cs_ stored as float32 loads as those float32 values."""
    model, X, good = models["cv"]
    header, payload = _split(good)
    (entry,) = [a for a in header["arrays"] if a["name"] == "Cs_"]
    cs = model.Cs_.astype("<f4")
    entry.update(dtype="float32", offset=len(payload), nbytes=cs.nbytes)
    _write(tmp_path / "cv32.tlm", header, payload + cs.tobytes())
    loaded = TorchLogisticClassifierCV.load(tmp_path / "cv32.tlm")
    np.testing.assert_array_equal(loaded.Cs_, cs)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_load_puts_the_model_on_the_device_asked_for(models, tmp_path):
    """load(device=...) sets the device parameter, whatever the file says; the rest of the parameters are the file's."""
    model, X, good = models["binary"]
    header, payload = _split(good)
    header["params"]["device"] = "meta"
    _write(tmp_path / "meta.tlm", header, payload)
    loaded = TorchLogisticClassifier.load(tmp_path / "meta.tlm", device="cpu")
    assert loaded.device == "cpu"
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_a_numpy_infinite_parameter_round_trips(tmp_path):
    """C=np.float64(np.inf) (what GridSearchCV's best_params_ holds for a NumPy grid) saves as {"float": "inf"}
    and loads as C=inf. Before the fix the file was written with "np.float64(inf)", which the loader refused:
    a model that saved without error could not be loaded."""
    X, y = load_iris(return_X_y=True)
    clf = TorchLogisticClassifier(C=np.float64(np.inf), max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    clf.save(tmp_path / "inf.tlm")
    assert _split(tmp_path / "inf.tlm")[0]["params"]["C"] == {"float": "inf"}
    loaded = TorchLogisticClassifier.load(tmp_path / "inf.tlm")
    assert loaded.C == math.inf
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_a_model_without_intercept_has_a_one_tensor_table_and_round_trips(tmp_path):
    """fit_intercept=False: the file holds linear.weight alone (a table of one entry), and loads as saved."""
    X, y = load_iris(return_X_y=True)
    clf = TorchLogisticClassifier(fit_intercept=False, max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    clf.save(tmp_path / "no_intercept.tlm")
    assert [t["name"] for t in _split(tmp_path / "no_intercept.tlm")[0]["tensors"]] == ["linear.weight"]
    loaded = TorchLogisticClassifier.load(tmp_path / "no_intercept.tlm")
    np.testing.assert_array_equal(loaded.coef_, clf.coef_)
    np.testing.assert_array_equal(loaded.intercept_, clf.intercept_)
    # The absent bias is made as zeros of the file's dtype: float32 tensors give float32 zeros.
    header, payload = _split(tmp_path / "no_intercept.tlm")
    weight = np.frombuffer(payload, dtype="<f8").astype("<f4")
    header["tensors"][0].update(dtype="float32", nbytes=weight.nbytes)
    _write(tmp_path / "f32.tlm", header, weight.tobytes())
    loaded = TorchLogisticClassifier.load(tmp_path / "f32.tlm")
    assert loaded.coef_.dtype == loaded.intercept_.dtype == np.float32
    np.testing.assert_array_equal(loaded.intercept_, np.zeros(3, dtype=np.float32))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("length", [2**63, 2**64 - 1])
def test_a_header_length_beyond_int64_is_read_unsigned_and_refused(models, tmp_path, length):
    """The 8-byte header length is unsigned: a length of 2**63 or more is that huge number (refused as too long),
    not a negative one that would slice the header from the end of the file."""
    _, _, good = models["binary"]
    header, payload = _split(good)
    body = MAGIC + struct.pack("<Q", length) + json.dumps(header).encode() + payload
    path = tmp_path / "huge.tlm"
    path.write_bytes(body + hashlib.sha256(body).digest())
    with pytest.raises(ModelFileError, match=rf"is damaged \(its header length is {length} bytes\)\.$"):
        TorchLogisticClassifier.load(path)


# (a second mutation survey, L8) _logistic.py:_check_loaded_params without its class_weight-dict check
def test_save_refuses_a_class_weight_dict_set_after_fit_that_names_no_fitted_class(iris, tmp_path):
    X, y = iris
    clf = TorchLogisticClassifier().fit(X, y)
    clf.set_params(class_weight={5: 2.0})  # fit would refuse it: "The classes, [0, 1, 2], are not in class_weight"
    with pytest.raises(ValueError, match="not in class_weight"):
        clf.save(tmp_path / "model.tl")
    assert not (tmp_path / "model.tl").exists()
