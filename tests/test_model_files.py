"""Crafted and mutated model files: ModelFileError and nothing else, with memory bounded (issue 16, item 6).

A checksum only proves a file is intact; anyone can recompute it. So every forged file here carries a
valid checksum, and the loader must refuse it on its content.
"""

import hashlib
import json
import re
import resource
import struct
import warnings

import numpy as np
import pytest
import sklearn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_iris, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning

from torchlogit import ModelFileError, TorchLogisticClassifier, TorchLogisticClassifierCV, TorchMultiLabelClassifier
from torchlogit._persistence import MAGIC

X_IRIS = load_iris(return_X_y=True)[0]
X_LABELS = make_multilabel_classification(n_samples=40, n_features=6, n_classes=3, random_state=0)[0]


def _models():
    X, y = load_iris(return_X_y=True)
    Y = make_multilabel_classification(n_samples=40, n_features=6, n_classes=3, random_state=0)[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return {
            "binary": (TorchLogisticClassifier().fit(X, y == 1), X_IRIS),
            "multinomial strings": (
                TorchLogisticClassifier(dtype="float64").fit(X, np.array(["a", "b", "c"])[y]),
                X_IRIS,
            ),
            "multilabel": (TorchMultiLabelClassifier(threshold=[0.3, 0.5, 0.7]).fit(X_LABELS, Y), X_LABELS),
            "hidden": (TorchMultiLabelClassifier((4,), max_iter=3, random_state=0).fit(X_LABELS, Y), X_LABELS),
            # A wrapper: its cross-validation results are a second, "arrays", table (Cs_, scores_, coefs_paths_...).
            "cv": (TorchLogisticClassifierCV(Cs=3, cv=3, max_iter=20).fit(X, y), X_IRIS),
        }


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("files")
    out = {}
    for name, (model, X) in _models().items():
        path = folder / f"{name}.tlm"
        model.save(path)
        out[name] = (type(model), path.read_bytes(), X, model.predict_proba(X[:5]))
    return out


def _split(content):
    length = struct.unpack("<Q", content[len(MAGIC) : len(MAGIC) + 8])[0]
    start = len(MAGIC) + 8
    return content[start : start + length], content[start + length : -32]


def _sign(header_bytes, payload, length=None):
    """A file with this header and payload and a valid checksum (the header length may be forged too)."""
    length = len(header_bytes) if length is None else length
    body = MAGIC + struct.pack("<Q", length) + header_bytes + payload
    return body + hashlib.sha256(body).digest()


def _forge(content, edit, raw=None):
    """Apply ``edit`` to the parsed header; ``raw`` maps placeholder strings to raw JSON tokens."""
    header_bytes, payload = _split(content)
    header = json.loads(header_bytes)
    edit(header)
    text = json.dumps(header)
    for placeholder, token in (raw or {}).items():
        text = text.replace(json.dumps(placeholder), token)
    return _sign(text.encode(), payload)


def _set(*path_value):
    *path, value = path_value

    def edit(header):
        target = header
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


def _set_array(name, key, value):
    """Set ``key`` of the CV file's array entry ``name``."""

    def edit(header):
        (entry,) = [a for a in header["arrays"] if a["name"] == name]
        entry[key] = value

    return edit


CRAFTED = {
    "1e400": ("binary", _set("fitted", "n_iter_", "BIG"), {"BIG": "1e400"}),
    "2**70": ("binary", _set("fitted", "n_iter_", 2**70), None),
    "5000-digit int": ("binary", _set("fitted", "n_iter_", "BIG"), {"BIG": "9" * 5000}),
    "negative n_features_in_": ("binary", _set("fitted", "n_features_in_", -4), None),
    "negative n_outputs": ("multinomial strings", _set("fitted", "n_outputs", -3), None),
    "n_features_in_=10**10": ("binary", _set("fitted", "n_features_in_", 10**10), None),
    "parameters as a list": ("binary", _set("params", [1, 2]), None),
    "100k-deep JSON": ("binary", _set("params", "C", "DEEP"), {"DEEP": "[" * 100_000 + "]" * 100_000}),
    "binary model with 3 classes": (
        "binary",
        _set("fitted", "classes_", {"dtype": "<i8", "values": [0, 1, 2]}),
        None,
    ),
    "kind='bogus'": ("binary", _set("fitted", "kind", "bogus"), None),
    "3-output multinomial with 2 classes": (
        "multinomial strings",
        _set("fitted", "classes_", {"dtype": "<U1", "values": ["a", "b"]}),
        None,
    ),
    "y_dtype='|V2000000000'": ("multilabel", _set("fitted", "y_dtype", "|V2000000000"), None),
    "label dtype '|V2000000000'": ("binary", _set("fitted", "classes_", "dtype", "|V2000000000"), None),
    "string labels '<U999999999'": ("multinomial strings", _set("fitted", "classes_", "dtype", "<U999999999"), None),
    "tensor outside the file": ("binary", _set("tensors", 0, "offset", 10**6), None),
    "overlapping tensors": ("binary", _set("tensors", 1, "offset", 0), None),
    "huge shape": ("binary", _set("tensors", 0, "shape", [1, 10**12]), None),
    "hidden layer of 10**9": ("hidden", _set("params", "hidden_layer_sizes", {"tuple": [10**9]}), None),
    "threshold of the wrong length": ("multilabel", _set("params", "threshold", [0.5]), None),
    # A numeric array parameter (saved as {"ndarray": [dtype, values]}): numbers of an allowed dtype only.
    "array threshold of the wrong length": (
        "multilabel",
        _set("params", "threshold", {"ndarray": ["<f8", [0.5]]}),
        None,
    ),
    "array parameter of an object dtype": (
        "multilabel",
        _set("params", "threshold", {"ndarray": ["object", [0.3, 0.5, 0.7]]}),
        None,
    ),
    "array parameter of strings": ("multilabel", _set("params", "threshold", {"ndarray": ["<U3", ["abc"]]}), None),
    "array parameter holding None": (
        "multilabel",
        _set("params", "threshold", {"ndarray": ["<f8", [0.3, None, 0.7]]}),
        None,
    ),
    "ragged array parameter": (
        "multilabel",
        _set("params", "threshold", {"ndarray": ["<f8", [[0.3], [0.5, 0.7]]]}),
        None,
    ),
    "array parameter out of its dtype's range": (
        "multilabel",
        _set("params", "threshold", {"ndarray": ["<i1", [300, 1, 2]]}),
        None,
    ),
    "array parameter of a dict": ("multilabel", _set("params", "threshold", {"ndarray": ["<f8", {"dict": []}]}), None),
    "callbacks in a file": ("binary", _set("params", "callbacks", ["x"]), None),
    "unknown parameter": ("binary", _set("params", "exec", "print(1)"), None),
    "NaN weight constant": ("binary", _set("params", "C", "NAN"), {"NAN": "NaN"}),
    # TorchLogisticClassifierCV: iris, 3 classes, 4 features, 3 folds x 1 l1_ratio x 3 Cs.
    "CV coefs_paths_ with its dims swapped (same bytes)": (
        "cv",
        _set_array("coefs_paths_", "shape", [3, 1, 3, 5, 3]),
        None,
    ),
    "CV n_iter_ of another grid (same bytes)": ("cv", _set_array("n_iter_", "shape", [3, 3, 1]), None),
    "CV scores_ of a huge shape": ("cv", _set_array("scores_", "shape", [10**6, 10**6, 10**6]), None),
    "CV Cs_ of 10**9 values": ("cv", _set_array("Cs_", "shape", [10**9]), None),
    "CV 9-D array": ("cv", _set_array("choice", "shape", [1] * 8 + [2]), None),
    "CV array over a tensor": ("cv", _set_array("Cs_", "offset", 0), None),
    "CV array outside the file": ("cv", _set_array("scores_", "offset", 10**6), None),
    "CV without its arrays": ("cv", lambda header: header.pop("arrays"), None),
    "CV with an unknown array": ("cv", _set_array("choice", "name", "exec"), None),
    "arrays table in a plain model's file": ("binary", _set("arrays", []), None),
    # The fit's recorded settings (what summary() computes with), checked as the parameters are.
    "fit settings with a string C": ("binary", _set("fitted", "fit_settings", {"dict": [["C", "abc"]]}), None),
    "fit settings with l1_ratio=None": ("binary", _set("fitted", "fit_settings", {"dict": [["l1_ratio", None]]}), None),
    "fit settings naming classes_": ("binary", _set("fitted", "fit_settings", {"dict": [["classes_", [0, 1]]]}), None),
    "fit settings as a list": ("binary", _set("fitted", "fit_settings", [1]), None),
    "fit settings with a class_weight of another class": (
        "binary",
        _set("fitted", "fit_settings", {"dict": [["class_weight", {"dict": [[7, 2.0]]}]]}),
        None,
    ),
    "routing requests of an unknown method": ("binary", _set("requests", {"transform": {"sample_weight": True}}), None),
    "routing requests of an unknown parameter": ("binary", _set("requests", {"fit": {"groups": True}}), None),
    "routing requests as a list": ("binary", _set("requests", [1]), None),
    "routing request of a number": ("binary", _set("requests", {"fit": {"sample_weight": 3}}), None),
    "routing request of a bad alias": ("binary", _set("requests", {"fit": {"sample_weight": "not an alias"}}), None),
}


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_each_crafted_file_is_refused_with_model_file_error_in_bounded_memory(files, case, tmp_path):
    name, edit, raw = CRAFTED[case]
    cls, content, _, _ = files[name]
    path = tmp_path / "forged.tlm"
    path.write_bytes(_forge(content, edit, raw))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    with pytest.raises(ModelFileError):
        cls.load(path)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak < 1 << 20  # under 1 GiB more


@pytest.mark.parametrize(("version", "shown"), [("1", "'1'"), (1.0, "1.0"), (True, "True")])
def test_a_version_tag_of_another_type_is_shown_as_written(files, tmp_path, version, shown):
    """A string "1" was printed as 1: 'uses format version 1; this torchlogit reads version 1'."""
    cls, content, _, _ = files["binary"]
    path = tmp_path / "version.tlm"
    path.write_bytes(_forge(content, _set("format_version", version)))
    with pytest.raises(ModelFileError, match=f"uses format version {re.escape(shown)}; this torchlogit reads"):
        cls.load(path)


@pytest.mark.parametrize("kind", ["binary", "cv", "multilabel"])
def test_metadata_routing_requests_round_trip(kind, tmp_path):
    """A pickle keeps set_fit_request / set_score_request; the file dropped them, and the loaded model refitted in
    cross_validate(params={"sample_weight": w}) with routing on raised UnsetMetadataPassedError."""
    model = {
        "binary": TorchLogisticClassifier(),
        "cv": TorchLogisticClassifierCV(Cs=2, cv=2),
        "multilabel": TorchMultiLabelClassifier(),
    }[kind]
    X, y = (X_LABELS, make_multilabel_classification(n_samples=40, n_features=6, n_classes=3, random_state=0)[1])
    if kind != "multilabel":
        X, y = X_IRIS, load_iris(return_X_y=True)[1]
    with sklearn.config_context(enable_metadata_routing=True):
        model.set_fit_request(sample_weight=True)
        if hasattr(model, "set_score_request"):
            model.set_score_request(sample_weight="weights")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        model.save(tmp_path / "routed.tlm")
        loaded = type(model).load(tmp_path / "routed.tlm")
        assert loaded._get_metadata_request()._serialize() == model._get_metadata_request()._serialize()
    plain = type(model)().fit(X, y) if kind != "cv" else None
    if plain is not None:  # no requests set: none written, and none read back
        plain.save(tmp_path / "plain.tlm")
        assert "requests" not in json.loads(_split((tmp_path / "plain.tlm").read_bytes())[0])
        assert "_metadata_request" not in vars(type(model).load(tmp_path / "plain.tlm"))


def test_a_file_written_before_the_fit_settings_were_recorded_loads(files, tmp_path):
    """Files of format version 1 written before the "fit_settings" entry: they load, and summary() reads the
    parameters, as it did."""
    cls, content, X, proba = files["binary"]
    path = tmp_path / "older.tlm"
    path.write_bytes(_forge(content, lambda header: header["fitted"].pop("fit_settings")))
    loaded = cls.load(path)
    assert "_fit_settings" not in vars(loaded)
    np.testing.assert_array_equal(loaded.predict_proba(X[:5]), proba)


def test_a_non_finite_weight_is_refused(files, tmp_path):
    cls, content, _, _ = files["binary"]
    header_bytes, payload = _split(content)
    payload = np.frombuffer(payload, dtype="<f8").copy()
    payload[0] = np.nan
    (tmp_path / "nan.tlm").write_bytes(_sign(header_bytes, payload.tobytes()))
    with pytest.raises(ModelFileError, match="non-finite"):
        cls.load(tmp_path / "nan.tlm")


@pytest.mark.parametrize(
    "name, index, value, match",
    [
        ("Cs_", 0, -1.0, "Cs_"),
        ("choice", 0, np.nan, "Cs_"),
        ("l1_ratios_", 0, 2.0, "l1_ratios_"),
        ("n_iter_", 0, 0.5, "n_iter_"),
        # h7's mutants: the chosen l1_ratio_ (choice's second entry) and coefs_paths_'s values went unchecked
        ("choice", 1, 2.0, "l1_ratio"),
        ("choice", 1, np.nan, "l1_ratio"),
        ("coefs_paths_", 0, np.nan, "non-finite"),
        ("coefs_paths_", 7, np.inf, "non-finite"),
    ],
)
def test_a_cv_file_with_out_of_range_results_is_refused(files, tmp_path, name, index, value, match):
    """The cross-validation arrays' values are checked too (positive Cs, ratios in [0, 1], integer counts, a chosen
    l1_ratio in [0, 1], finite coefficient paths)."""
    cls, content, _, _ = files["cv"]
    header_bytes, payload = _split(content)
    (entry,) = [a for a in json.loads(header_bytes)["arrays"] if a["name"] == name]
    payload = bytearray(payload)
    at = entry["offset"] + 8 * index
    payload[at : at + 8] = np.float64(value).tobytes()
    (tmp_path / "bad.tlm").write_bytes(_sign(header_bytes, bytes(payload)))
    with pytest.raises(ModelFileError, match=match):
        cls.load(tmp_path / "bad.tlm")


def test_a_cv_file_round_trips_its_results(files, tmp_path):
    cls, content, X, expected = files["cv"]
    (tmp_path / "cv.tlm").write_bytes(content)
    loaded = cls.load(tmp_path / "cv.tlm")
    np.testing.assert_array_equal(loaded.predict_proba(X[:5]), expected)
    assert loaded.coefs_paths_.shape == (3, 1, 3, 3, 5) and loaded.n_iter_.dtype == np.int32
    assert loaded._estimator.C == loaded.C_ and loaded.Cs_.shape == (3,)


# ------------------------------------------------------------ mutation fuzzing
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, -1, 1, 2, 3, 10**10, 2**63, -(2**63)]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(
        ["bogus", "binary", "multinomial", "multilabel", "float64", "|V2000000000", "<U9", "object", "<i8"]
    ),
    st.lists(st.integers(-3, 3), max_size=4),
    st.just({"tuple": [1]}),
    st.just({"dict": [[1, 2]]}),
    st.just({"float": "inf"}),
    st.just({}),
)
_RAW = st.sampled_from(["1e400", "-1e400", "9" * 5000, "NaN", "Infinity", "[" * 5000 + "]" * 5000, "1.5", "-0"])


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _paths(child, (*prefix, i))


@st.composite
def mutated(draw, files):
    name = draw(st.sampled_from(sorted(files)))
    cls, content, X, expected = files[name]
    header_bytes, payload = _split(content)
    kind = draw(st.sampled_from(["field", "raw field", "delete", "bytes", "length", "payload size"]))
    header = json.loads(header_bytes)
    if kind in ("field", "raw field", "delete"):
        paths = [p for p in _paths(header) if p]
        path = paths[draw(st.integers(0, len(paths) - 1))]
        parent = header
        for key in path[:-1]:
            parent = parent[key]
        if kind == "delete":
            del parent[path[-1]]
            text = json.dumps(header)
        else:
            parent[path[-1]] = "RAW" if kind == "raw field" else draw(_VALUES)
            text = json.dumps(header)
            if kind == "raw field":
                text = text.replace('"RAW"', draw(_RAW))
        return cls, _sign(text.encode(), payload), X, None
    if kind == "bytes":  # header or payload bytes, re-signed
        data = bytearray(header_bytes + payload)
        for _ in range(draw(st.integers(1, 4))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        changed_model = bytes(data[len(header_bytes) :]) != payload
        return (
            cls,
            _sign(bytes(data[: len(header_bytes)]), bytes(data[len(header_bytes) :])),
            X,
            (None if changed_model else expected),
        )
    if kind == "length":
        return cls, _sign(header_bytes, payload, length=draw(st.integers(0, 2**64 - 1))), X, None
    cut = draw(st.integers(-len(payload), 16))
    payload = payload[:cut] if cut < 0 else payload + bytes(cut)
    return cls, _sign(header_bytes, payload), X, None


def _check(cls, data, X, expected, path):
    path.write_bytes(data)
    try:
        model = cls.load(path)
    except ModelFileError:
        return
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # e.g. feature names added by a mutation
        proba = model.predict_proba(X[:5])
        assert model.predict(X[:5]).shape[0] == 5
    assert proba.shape[0] == 5
    if expected is not None:  # nothing that defines the model changed: it predicts as the original
        np.testing.assert_array_equal(proba, expected)


@settings(
    max_examples=500,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_mutated_files_load_as_a_model_or_raise_model_file_error(files, tmp_path, data):
    """20 mutated files per example, 500 examples: 10,000 files (header fields and raw tokens, deleted
    keys, bytes anywhere, the header length, the payload size), each re-signed."""
    path = tmp_path / "mutated.tlm"
    for _ in range(20):
        cls, content, X, expected = data.draw(mutated(files))
        _check(cls, content, X, expected, path)


def test_a_file_of_thousands_of_tiny_layers_is_refused_before_any_module_is_built(files, tmp_path):
    """20,000 hidden layers of one unit (7 bytes of header each, a payload padded to the weights they describe):
    refused on the table's length, not after building 20,000 ``nn.Linear`` (about 20 s, 1 ms each)."""
    import time

    cls, content, _, _ = files["hidden"]
    header_bytes, payload = _split(content)
    header = json.loads(header_bytes)
    layers = 20_000
    header["params"]["hidden_layer_sizes"] = {"tuple": [1] * layers}
    path = tmp_path / "layers.tlm"
    path.write_bytes(_sign(json.dumps(header).encode(), payload + bytes(8 * layers)))
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match="more layers than the file holds"):
        cls.load(path)
    assert time.perf_counter() - start < 2.0


def test_string_labels_of_a_wide_declared_dtype_take_their_own_width(files, tmp_path):
    """A file may declare "<U4096" for labels of one character: they are read in the narrowest width (4 bytes
    each, not 16 KiB: 50,000 such labels in a 1 MB file asked for 2.7 GB); a model saved with wide labels loads
    with equal labels and predictions."""
    cls, content, X, expected = files["multinomial strings"]
    path = tmp_path / "wide.tlm"
    path.write_bytes(_forge(content, _set("fitted", "classes_", "dtype", "<U4096")))
    loaded = cls.load(path)
    assert loaded.classes_.dtype == np.dtype("<U1")
    np.testing.assert_array_equal(loaded.predict_proba(X[:5]), expected)
    y = np.array(["a", "b", "c"], dtype="<U50")[load_iris(return_X_y=True)[1]]
    model = TorchLogisticClassifier().fit(X_IRIS, y)
    model.save(tmp_path / "u50.tlm")
    again = TorchLogisticClassifier.load(tmp_path / "u50.tlm")
    np.testing.assert_array_equal(again.classes_, model.classes_)
    np.testing.assert_array_equal(again.predict(X_IRIS), model.predict(X_IRIS))


def _labelled(y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return TorchLogisticClassifier(max_iter=30).fit(X_IRIS, y)


@pytest.mark.parametrize(
    "labels",
    [
        np.array([0.0, 1.0, 2.0], dtype=np.float16),  # LogisticRegression keeps float16 classes_ too
        np.array([11, 10**19, 2**64 - 1], dtype=np.uint64),  # 64-bit hashed ids: 20 digits in the header
        np.array([-(2**63), 0, 2**63 - 1], dtype=np.int64),
    ],
    ids=["float16", "uint64 of 20 digits", "int64 extremes"],
)
def test_every_label_dtype_fit_takes_round_trips(labels, tmp_path):
    model = _labelled(labels[load_iris(return_X_y=True)[1]])
    model.save(tmp_path / "m.tlm")
    loaded = TorchLogisticClassifier.load(tmp_path / "m.tlm")
    assert loaded.classes_.dtype == model.classes_.dtype
    np.testing.assert_array_equal(loaded.classes_, model.classes_)
    np.testing.assert_array_equal(loaded.predict(X_IRIS), model.predict(X_IRIS))


def test_float16_indicator_targets_round_trip(tmp_path):
    Y = make_multilabel_classification(n_samples=40, n_features=6, n_classes=3, random_state=0)[1]
    model = TorchMultiLabelClassifier().fit(X_LABELS, Y.astype(np.float16))
    model.save(tmp_path / "m.tlm")
    loaded = TorchMultiLabelClassifier.load(tmp_path / "m.tlm")
    assert loaded.predict(X_LABELS).dtype == model.predict(X_LABELS).dtype == np.float16
    np.testing.assert_array_equal(loaded.predict(X_LABELS), model.predict(X_LABELS))


@pytest.mark.parametrize("as_object", [False, True], ids=["<U5000", "object"])
def test_save_refuses_what_load_would_refuse_and_writes_nothing(as_object, tmp_path):
    """A label of 5,000 characters: the format stores up to 4,096. ``save`` used to write the file and ``load``
    to call it damaged; now ``save`` raises a TypeError naming the reason, and no file is left behind."""
    labels = np.array(["a", "b", "c" * 5000], dtype=object if as_object else None)
    model = _labelled(labels[load_iris(return_X_y=True)[1]])
    path = tmp_path / "m.tlm"
    with pytest.raises(TypeError, match="cannot be written in the safe format: .*(label|dtype)"):
        model.save(path)
    assert not path.exists()


# (mutation survey, M9: `... == np.float32 or (b is None ...` in _modules.layers_state: a float64
# coef_ beside a float32 intercept_ was written as float32, the loaded coef_ off by up to 9e-8)
def test_a_file_keeps_float64_coefficients_beside_a_float32_intercept():
    import os
    import tempfile

    import numpy as np

    from torchlogit import TorchLogisticClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = np.arange(80) % 2
    clf = TorchLogisticClassifier().fit(X, y)
    coef = np.array([[0.1, 1 / 3, np.pi]])
    clf.coef_ = coef.copy()
    clf.intercept_ = np.array([0.25], dtype=np.float32)
    path = os.path.join(tempfile.mkdtemp(), "model.pt")
    clf.save(path)
    loaded = TorchLogisticClassifier.load(path)
    assert loaded.coef_.dtype == np.float64
    np.testing.assert_array_equal(loaded.coef_, coef)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize(
    "cls, params",
    [
        (TorchMultiLabelClassifier, dict(threshold=np.array([0.3, 0.5, 0.7]))),
        (TorchMultiLabelClassifier, dict(threshold=np.array([0.3, 0.5, 0.7], dtype=np.float32))),
        # A 0-d array: save raised TypeError "iteration over a 0-d array".
        (TorchMultiLabelClassifier, dict(threshold=np.array(0.4), pos_weight=np.array([1.0, 2.0, 0.5]))),
        (TorchLogisticClassifierCV, dict(Cs=np.logspace(-2, 2, 3), l1_ratios=np.array([0.0]))),
        (TorchLogisticClassifier, dict(class_weight={0: np.float32(2.0), 1: 1.0})),
    ],
)
def test_array_parameters_come_back_as_the_arrays_they_were(cls, params, tmp_path):
    """A NumPy array parameter loads as an array of its dtype and shape (it came back as a list), with the
    same predictions."""
    X, y = load_iris(return_X_y=True)
    Y = make_multilabel_classification(n_samples=40, n_features=6, n_classes=3, random_state=0)[1]
    data = (X_LABELS, Y) if cls is TorchMultiLabelClassifier else (X, y == 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = cls(max_iter=30, **params).fit(*data)
    model.save(tmp_path / "m.tlm")
    loaded = cls.load(tmp_path / "m.tlm")
    for name, value in params.items():
        got = loaded.get_params()[name]
        if isinstance(value, np.ndarray):
            assert isinstance(got, np.ndarray) and got.dtype == value.dtype and got.shape == value.shape
            np.testing.assert_array_equal(got, value)
        else:
            assert got == value
    np.testing.assert_array_equal(loaded.predict_proba(data[0]), model.predict_proba(data[0]))


# Mutation survey h3 (stop 50).
def test_a_big_endian_array_parameter_saves_and_loads(tmp_path):
    """Mutant p1 (_persistence._encode: the dtype saved as value.dtype.str, not newbyteorder("<")): a big-endian
    array (read from a file written on another machine, FITS, ...) saved as ">f8", which load refused as a bad file."""
    X, Y = make_multilabel_classification(n_samples=40, n_features=6, n_classes=3, random_state=0)
    threshold = np.array([0.3, 0.5, 0.7], dtype=">f8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = TorchMultiLabelClassifier(threshold=threshold, max_iter=30).fit(X, Y)
    model.save(tmp_path / "m.tlm")
    got = TorchMultiLabelClassifier.load(tmp_path / "m.tlm").get_params()["threshold"]
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    np.testing.assert_array_equal(got, threshold)


@pytest.mark.parametrize("dtype", ["<f4", "<f2"])
def test_an_array_value_beyond_its_float_dtype_is_a_bad_file(dtype):
    """Mutant p4 (_persistence._decode: warnings "ignore" instead of "error"): 1e300 in a float32 / float16 array
    parameter is NumPy's overflow RuntimeWarning and an inf; a file holding it is refused, not read as inf."""
    from torchlogit._persistence import ModelFileError, _decode

    with pytest.raises(ModelFileError, match="does not fit its dtype"):
        _decode({"ndarray": [dtype, [0.5, 1e300]]})


@pytest.mark.parametrize(
    "value",
    [
        {"ndarray": ["object", [0.3, 0.5, 0.7]]},  # (the suite's case has one value: the length check masks it)
        {"ndarray": ["<U3", [1, 2, 3]]},  # numbers read as strings '1', '2', '3'
        {"ndarray": ["<f8"]},  # no values: IndexError
        {"ndarray": ["<f8", [0.5], "extra"]},
    ],
    ids=["object dtype", "string dtype", "no values", "three entries"],
)
def test_a_bad_array_parameter_is_a_model_file_error(value):
    """Mutants p7 (_decode: the numeric-dtype _require dropped: "object" loads as floats, "<U3" as strings) and p8
    (_decode: `len(inner) == 2` dropped: an IndexError, or a third entry ignored)."""
    from torchlogit._persistence import ModelFileError, _decode

    with pytest.raises(ModelFileError):
        _decode(value)


# (mutation survey h2, P25: the `len(value) <= _MAX_CONTAINERS` check on lists dropped in _persistence._decode)
def test_a_parameter_list_longer_than_the_format_allows_is_refused_by_its_length(tmp_path):
    """The long list reached the estimator's parameter checks, whose message printed it (cut at 300 characters)
    instead of naming its length. 65537 values, one past the bound: the header's values are bounded by the payload
    (+ 65536) too, so the model has 20 features for the list to pass that count and reach the decoder."""
    X = np.random.default_rng(0).normal(size=(40, 20))
    path = tmp_path / "m.tlm"
    TorchLogisticClassifier(max_iter=50).fit(X, X[:, 0] > 0).save(path)
    path.write_bytes(_forge(path.read_bytes(), _set("params", "solver", [0] * 65537)))
    with pytest.raises(ModelFileError, match="a parameter holds 65537 values"):
        TorchLogisticClassifier.load(path)


# (mutation survey h2, P28: the bool-or-str check on request values dropped in _persistence._apply_requests)
@pytest.mark.parametrize("request_value", [5, None])
def test_a_routing_request_that_is_not_true_false_or_an_alias_is_refused_in_the_formats_words(
    files, request_value, tmp_path
):
    """A request of 5 reached scikit-learn's setter (its words), and None silently unset the request."""
    cls, content, _, _ = files["binary"]
    path = tmp_path / "m.tlm"
    path.write_bytes(_forge(content, _set("requests", {"fit": {"sample_weight": request_value}})))
    with pytest.raises(ModelFileError, match="the routing requests are not True, False or an alias per parameter"):
        cls.load(path)


def test_a_hidden_model_without_fit_intercept_saves_and_its_output_intercepts_are_the_ones_checked(tmp_path):
    """The output layer's intercepts are the ones fit_intercept=False leaves at 0 and the file drops: a hidden
    layer's bias is saved as it is, an output intercept assigned after fit is refused (not silently dropped)."""
    X, Y = make_multilabel_classification(n_samples=60, n_features=5, n_classes=3, random_state=0)
    model = TorchMultiLabelClassifier((4,), fit_intercept=False, max_iter=5, random_state=0).fit(X, Y)
    assert np.any(model.intercepts_[0] != 0) and not np.any(model.intercepts_[-1] != 0)
    model.save(tmp_path / "fitted.tl")  # the hidden layer's bias is not the output intercept: saved as it is
    loaded = TorchMultiLabelClassifier.load(tmp_path / "fitted.tl")
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    model.intercepts_[-1] = np.full_like(model.intercepts_[-1], 0.5)  # a prior shift assigned after fit
    with pytest.raises(ValueError, match="fit_intercept=False"):
        model.save(tmp_path / "shifted.tl")  # the file would drop it: refused, not silently changed
