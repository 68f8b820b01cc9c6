"""A safe file format for sharing fitted models: no pickle, nothing executed on load.

Layout: the magic line ``TORCHLOGIT\\n``, an 8-byte little-endian header length, a JSON
header (format version, estimator class, parameters, fitted attributes, and for each
tensor its name, dtype, shape and byte range), the tensors' raw little-endian bytes,
and last the SHA-256 of header and tensors, so a truncated or altered file is refused.
The tensors are the model's arrays (``coef_`` / ``intercept_``, or each layer's), named
as the torch module's ``state_dict``. ``fitted`` also records the settings the model was
fitted with (``fit_settings``: what ``summary()`` computes with; files written before it
lack the entry), and the header the metadata-routing requests set on the estimator
(``requests``, only when some are).

Loading never unpickles or imports anything named by the file. In the spirit of
safetensors' header rules, the whole header is checked against a schema before
anything is allocated: exact keys and JSON types, bounded integers (no 5000-digit
numbers, no ``1e400``), bounded nesting and at most 65536 JSON arrays and objects (both
counted on the header's bytes, before it is parsed), dtypes from a short allow-list (the labels'
included), shapes that follow from the parameters, the kind of target, the classes
and the number of outputs, and byte ranges inside the file that do not overlap. A
checksum only proves the file was not damaged: anyone can recompute it, so nothing in
the file is trusted. Every malformed file raises :class:`ModelFileError`, and nothing
else; the memory a load takes is bounded by a small multiple of the file's size, and a
file that does not start with the magic is refused after reading 19 bytes. After the
format, the parameters are checked as ``fit`` checks them, those that depend on the
classes or labels included (``_check_loaded_params``). :func:`save` reads its own bytes back
with the same checks before writing them: what it writes, :func:`load` reads.

Wrappers (``TorchLogisticClassifierCV``): an estimator that holds a fitted inner model
plus results of its own stores the inner model as the file's model (``fitted`` and
``tensors``, checked as any model's) and its results as named arrays in the header's
``arrays`` table (up to 8-D, each inside the file's bytes and apart from every other
range). Its class defines four hooks, and only such a class accepts (and requires) an
``arrays`` table:

- ``_file_parts()`` -> ``(model, {name: ndarray})``: what :func:`save` writes;
- ``_file_array_shapes(shapes, n_features, n_outputs)`` -> ``{name: shape}``: the names
  and shapes the header must list exactly, derived from the found ``shapes`` (which are
  already within the file's size), the model's sizes and the estimator's parameters;
- ``_file_model()`` -> an unfitted inner model, that the loader fills as any model;
- ``_from_file(model, arrays)``: takes the filled model and the arrays (not checked
  for finiteness: the hook checks their values, raising ValueError).

The header's ``classes_``, ``n_features_in_`` and ``feature_names_in_`` are set on the
estimator as well as on the model; the rest of ``fitted`` describes the model.
"""

import hashlib
import json
import math
import os
import stat
import struct
import warnings

import numpy as np
import torch
from sklearn import config_context

from ._data import host_classes
from ._devices import check_device_name

MAGIC = b"TORCHLOGIT\n"
FORMAT_VERSION = 1
_MAX_HEADER_BYTES = 1 << 24
_MAX_DEPTH = 32  # of the JSON header; the format itself needs 6
# JSON arrays and objects in a header: a model needs a dozen, plus one pair per class of a class_weight dict.
_MAX_CONTAINERS = 1 << 16
_BRACKETS = np.frombuffer(b"[{]}", dtype=np.uint8)  # the opening ones first
_MAX_INT_DIGITS = 20  # uint64 (class labels)
_MAX_COUNT = 1 << 31  # n_features_in_, n_outputs, shapes: the file's size bounds them further
_MAX_INT32 = (1 << 31) - 1  # n_iter_, stored as int32
_MAX_LABEL_CHARS = 1 << 12
_TENSOR_DTYPES = {"float32": np.dtype("<f4"), "float64": np.dtype("<f8")}
# Label dtypes a file may name: booleans, integers, floats, strings (numpy "<U" of bounded length, or "object").
_LABEL_KINDS = {"b": (1,), "i": (1, 2, 4, 8), "u": (1, 2, 4, 8), "f": (2, 4, 8)}
_KINDS = {
    "TorchLogisticClassifier": {"binary", "multinomial"},
    "TorchMultiLabelClassifier": {"binary", "multinomial", "multilabel"},
    "TorchLogisticClassifierCV": {"binary", "multinomial"},
}
_MAX_ARRAY_NDIM = 8  # a wrapper's named arrays (``arrays`` table)
_TOP_KEYS = {"format", "format_version", "estimator", "params", "fitted", "tensors"}
_FITTED_KEYS = {"classes_", "n_features_in_", "feature_names_in_", "n_iter_", "kind", "n_outputs", "y_dtype"}
_TENSOR_KEYS = {"name", "dtype", "shape", "offset", "nbytes"}
_SCALARS = (bool, int, float, str)


class ModelFileError(ValueError):
    """The file is not a torchlogit model this version can read, or it was damaged."""


# ------------------------------------------------------------------- writing
def _encode(value, name):
    """Parameters as JSON, keeping the types JSON would lose (tuples, non-string dict keys, inf)."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        # repr(float(...)): a NumPy float is a float too, and its repr is "np.float64(inf)" (NumPy 2).
        return {"float": repr(float(value))} if not math.isfinite(value) else value
    if isinstance(value, np.longdouble):  # .item() keeps a longdouble (a recursion): saved as the float it equals
        if float(value) != value:
            raise TypeError(
                f"The parameter {name}={value!r} cannot be saved in the safe format: it is a long double that no "
                "float64 holds; pass a float, or use pickle."
            )
        return _encode(float(value), name)
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return _encode(value.item(), name)
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, name) for v in value]}
    if (
        isinstance(value, np.ndarray)
        and value.dtype.kind in _LABEL_KINDS
        and value.dtype.itemsize in _LABEL_KINDS[value.dtype.kind]
    ):
        # A numeric array (threshold=, pos_weight=, Cs=np.logspace(...)) comes back as the array it was, not as a
        # list; a 0-d one too (list() of it raised "iteration over a 0-d array").
        return {"ndarray": [value.dtype.newbyteorder("<").str, _encode(value.tolist(), name)]}
    if isinstance(value, np.ndarray):  # any other array (strings, objects): its values, as lists
        return _encode(value.tolist(), name)
    if isinstance(value, list):
        return [_encode(v, name) for v in value]
    if isinstance(value, dict):
        return {"dict": [[_encode(k, name), _encode(v, name)] for k, v in value.items()]}
    if isinstance(value, torch.device):  # device=torch.device(...): saved as the name it is parsed from
        return str(value)
    raise TypeError(
        f"The parameter {name}={value!r} cannot be saved in the safe format (only numbers, strings, "
        "tuples, lists and dicts can); set it to a plain value or None first, or use pickle."
    )


def _labels_to_json(labels):
    labels = np.asarray(labels)
    if labels.dtype.kind == "O":
        if not all(isinstance(v, str) for v in labels.tolist()):
            raise TypeError("Only numeric or string class labels can be saved in the safe format.")
        return {"dtype": "object", "values": labels.tolist()}
    if labels.dtype.kind not in "biufU":
        raise TypeError("Only numeric or string class labels can be saved in the safe format.")
    if labels.dtype.kind == "U":  # at the longest label's width: short labels in a wide array ('<U5000') are kept
        labels = labels.astype(f"<U{max(1, int(np.char.str_len(labels).max(initial=0)))}")
    return {"dtype": labels.dtype.newbyteorder("<").str, "values": labels.tolist()}


def _table(arrays, offset):
    """Entries of a tensor table and their bytes, from ``{name: array}``, starting at byte ``offset``."""
    entries, chunks = [], []
    for name, array in arrays.items():
        array = np.asarray(array)
        array = np.ascontiguousarray(array, dtype=_TENSOR_DTYPES[str(array.dtype)])
        data = array.tobytes()
        entries.append(
            {"name": name, "dtype": array.dtype.name, "shape": list(array.shape), "offset": offset, "nbytes": len(data)}
        )
        chunks.append(data)
        offset += len(data)
    return entries, chunks, offset


def check_file_path(path, method):
    """``path`` if it names a file (str, bytes or ``os.PathLike``), else a TypeError: an integer would be taken by
    ``open`` as a file descriptor (written into, then closed), and any other object by ``str()`` as a name."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"{method} takes a file path (str or os.PathLike); got {type(path).__name__} {path!r}.")
    return path


def save(estimator, path):
    """Write a fitted torchlogit estimator to ``path`` (see the module docstring for the layout)."""
    check_file_path(path, "save")
    params = {k: _encode(v, k) for k, v in estimator.get_params(deep=False).items()}
    model, extra = estimator._file_parts() if hasattr(estimator, "_file_parts") else (estimator, None)
    model._complete_assigned_model()
    try:  # a state no fit leaves is a ValueError, as pickling refuses it (check_picklable); the format's limits below
        _check_state(model)
    except ModelFileError as exc:
        raise ValueError(
            f"This {type(estimator).__name__} cannot be saved: {str(exc).rstrip('.')}. No fit leaves such a state "
            "(coef_, intercept_ or classes_ edited by hand): set values a fit would leave, or fit again."
        ) from None
    _check_intercepts_written(model)
    module = model._empty_module(model.n_features_in_, model._n_outputs)
    state = {name: tensor.numpy() for name, tensor in model._fitted_state(module, "saved").items()}
    tensors, chunks, offset = _table(state, 0)
    feature_names = getattr(estimator, "feature_names_in_", None)
    y_dtype = getattr(model, "_y_dtype", None)
    header = {
        "format": "torchlogit",
        "format_version": FORMAT_VERSION,
        "estimator": type(estimator).__name__,
        "params": params,
        "fitted": {
            "classes_": _labels_to_json(host_classes(estimator)),
            "n_features_in_": int(estimator.n_features_in_),
            "feature_names_in_": None if feature_names is None else [str(f) for f in feature_names],
            "n_iter_": int(getattr(model, "n_iter_", [0])[0]),  # 0 for arrays assigned to an unfitted model
            "kind": model._kind,
            "n_outputs": int(model._n_outputs),
            "y_dtype": None if y_dtype is None else np.dtype(y_dtype).newbyteorder("<").str,
            # C, l1_ratio, fit_intercept, class_weight, pos_weight as fitted (set_params since changes the next
            # fit, not this model): what summary() computes with. Files written before it lack the key.
            "fit_settings": _encode(getattr(model, "_fit_settings", None), "fit_settings"),
        },
        "tensors": tensors,
    }
    requests = _set_requests(estimator)
    if requests:  # (a file without them is as before)
        header["requests"] = requests
    if extra is not None:
        header["arrays"], extra_chunks, offset = _table(extra, offset)
        chunks += extra_chunks
    blob = json.dumps(header).encode("utf-8")
    body = MAGIC + struct.pack("<Q", len(blob)) + blob + b"".join(chunks)
    content = body + hashlib.sha256(body).digest()
    # Read back before writing, with the loader's own checks: a file save writes is one load reads (labels
    # of a dtype or length the format does not take are refused here, not when the model is deployed).
    try:
        _build(type(estimator), *_parse(content, path), "cpu")
    except ModelFileError as exc:
        raise TypeError(
            f"This {type(estimator).__name__} cannot be written in the safe format: {str(exc).rstrip('.')}. "
            "Pickle, joblib and skops store such a model."
        ) from None
    with open(path, "wb") as f:
        f.write(content)


def _set_requests(estimator):
    """The metadata-routing requests set on ``estimator`` (``set_fit_request(sample_weight=True)``...), as
    ``{method: {parameter: True, False or an alias}}``: a pickle keeps them, and so does the file."""
    if "_metadata_request" not in vars(estimator):
        return {}
    requests = {}
    for method, params in estimator._get_metadata_request()._serialize().items():
        chosen = {name: value for name, value in params.items() if value is not None}
        if chosen:
            requests[method] = chosen
    return requests


def _apply_requests(estimator, requests):
    """Set a file's metadata-routing requests on ``estimator`` (``set_{method}_request``, which exists only while
    routing is enabled); an unknown method or parameter is refused."""
    _require(isinstance(requests, dict) and len(requests) <= 16, "the routing requests are not an object")
    for method, params in requests.items():
        _require(
            isinstance(params, dict)
            and len(params) <= 64
            and all(isinstance(v, (bool, str)) and len(str(v)) <= 200 for v in params.values()),
            "the routing requests are not True, False or an alias per parameter",
        )
        setter = getattr(estimator, f"set_{str(method)[:40]}_request", None)
        _require(callable(setter), f"the routing requests name a method {str(method)[:40]!r} with no request")
        with config_context(enable_metadata_routing=True):
            setter(**params)


def _check_intercepts_written(model):
    """Refuse a model whose output intercepts are not zero while ``fit_intercept=False``.

    The file holds the tensors of the module the parameters build, which has no output
    bias without ``fit_intercept``: intercepts assigned after such a fit (a prior shift),
    or learned before ``set_params(fit_intercept=False)``, would be dropped and the loaded
    model would predict otherwise (27 of 569 labels, measured), though ``predict``, pickle
    and ONNX use them.
    """
    _, bias = model._fitted_layers(dense=True)[-1]
    if model.fit_intercept or not np.any(bias != 0):
        return
    name = "intercept_" if "coef_" in vars(model) else "intercepts_[-1]"
    raise ValueError(
        f"This {type(model).__name__} cannot be saved as it is: fit_intercept=False, but {name} holds non-zero "
        "values (assigned after fit, or learned before fit_intercept was set to False), which the file would drop, "
        "changing predictions. Set fit_intercept=True (the file then keeps them) or the intercepts to zero before "
        "saving; pickle, joblib and skops keep the model as it is."
    )


# ------------------------------------------------------------------- reading
def _parse_int(text):
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise ModelFileError(f"an integer of {len(text)} digits")
    return int(text)


def _parse_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise ModelFileError(f"the number {text[:40]} overflows")
    return value


def _parse_constant(text):
    raise ModelFileError(f"the constant {text} (non-finite numbers are written as {{'float': ...}})")


def _require(condition, what):
    if not condition:
        raise ModelFileError(what)


def _is_int(value, low=0, high=_MAX_COUNT):
    return type(value) is int and low <= value <= high


def _keys(mapping, expected, where):
    _require(isinstance(mapping, dict), f"{where} is not an object")
    _require(set(mapping) == expected, f"{where} has the keys {sorted(map(str, mapping))[:20]}")


def _decode(value):
    """A parameter's value from its JSON form (see :func:`_encode`)."""
    if value is None or isinstance(value, _SCALARS):
        return value
    if isinstance(value, list):
        # Long lists are refused before the estimator's checks, whose messages would print them whole.
        _require(len(value) <= _MAX_CONTAINERS, f"a parameter holds {len(value)} values")
        if all(v is None or type(v) in _SCALARS for v in value):  # a list of numbers: no call per value
            return value
        return [_decode(v) for v in value]
    _require(isinstance(value, dict) and len(value) == 1, f"unexpected parameter value {str(value)[:80]}")
    ((tag, inner),) = value.items()
    if tag == "float":
        _require(inner in ("inf", "-inf", "nan"), f"unexpected float {str(inner)[:40]}")
        return float(inner)
    if tag == "tuple" and isinstance(inner, list):
        _require(len(inner) <= _MAX_CONTAINERS, f"a parameter holds {len(inner)} values")
        return tuple(_decode(v) for v in inner)
    if tag == "ndarray" and isinstance(inner, list) and len(inner) == 2:
        dtype = _label_dtype(inner[0], "an array parameter")
        _require(dtype is not None and dtype.kind in _LABEL_KINDS, "an array parameter names no numeric dtype")
        values = _decode(inner[1])
        try:
            leaves = np.asarray(values, dtype=object).reshape(-1)
        except ValueError:  # lists nested to different depths
            leaves = [None]
        # Numbers only, in a rectangular nest of lists: NumPy would read None as NaN.
        _require(all(type(v) in (bool, int, float) for v in leaves), "an array parameter holds other than numbers")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # an out-of-range value is a bad file, not a warning and a wrap
                array = np.asarray(values, dtype=dtype)
        except (TypeError, ValueError, OverflowError, RuntimeWarning, DeprecationWarning) as error:
            raise ModelFileError(f"an array parameter does not fit its dtype {dtype}: {str(error)[:80]}") from None
        return array
    if tag == "dict" and isinstance(inner, list):
        pairs = [(_decode(p[0]), _decode(p[1])) for p in inner if isinstance(p, list) and len(p) == 2]
        _require(len(pairs) == len(inner), "a dict parameter is not a list of pairs")
        _require(
            all(isinstance(k, (str, int, float, bool, type(None))) for k, _ in pairs), "a dict key is not a scalar"
        )
        return dict(pairs)
    raise ModelFileError(f"unexpected parameter value {str(value)[:80]}")


def _label_dtype(spec, where):
    """The NumPy dtype a file names for labels, from the allow-list only."""
    _require(isinstance(spec, str) and len(spec) <= 8, f"{where} names no allowed dtype")
    if spec == "object":
        return None
    if spec[:1] in "<|" and spec[1:2] == "U" and spec[2:].isdigit():
        _require(1 <= int(spec[2:]) <= _MAX_LABEL_CHARS, f"{where} {spec!r} is not an allowed dtype")
        return np.dtype(spec)
    _require(
        spec[:1] in "<|"
        and spec[1:2] in _LABEL_KINDS
        and spec[2:].isdigit()
        and int(spec[2:]) in _LABEL_KINDS[spec[1]],
        f"{where} {spec!r} is not an allowed dtype",
    )
    return np.dtype(spec)


def _labels(spec, max_count):
    _keys(spec, {"dtype", "values"}, "classes_")
    dtype = _label_dtype(spec["dtype"], "the label dtype")
    values = spec["values"]
    _require(isinstance(values, list) and 1 <= len(values) <= max_count, "classes_ has the wrong number of labels")
    if dtype is None or dtype.kind == "U":
        _require(all(isinstance(v, str) for v in values), "classes_ of a string dtype holds non-strings")
        limit = _MAX_LABEL_CHARS if dtype is None else dtype.itemsize // 4
        _require(all(len(v) <= limit for v in values), "a class label is too long")
        if dtype is None:
            return np.array(values, dtype=object)
        # In the narrowest width that holds them, not the declared one: "<U4096" labels of a few characters
        # would take 16 KiB each (a 1 MB file of 50,000 short labels asked for 2.7 GB).
        return np.array(values, dtype=f"<U{max(1, max(map(len, values)))}")
    if dtype.kind == "b":
        _require(all(type(v) is bool for v in values), "classes_ of a boolean dtype holds non-booleans")
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        _require(all(_is_int(v, int(info.min), int(info.max)) for v in values), "classes_ holds out-of-range integers")
    else:
        _require(all(type(v) in (int, float) and abs(v) < 1e300 for v in values), "classes_ holds non-numbers")
    with np.errstate(over="raise", invalid="raise"):
        try:
            return np.array(values, dtype=dtype)
        except (OverflowError, FloatingPointError, ValueError):
            raise ModelFileError("classes_ holds values its dtype cannot hold") from None


def _structure(text, payload_size):
    """Raise unless the JSON ``text`` has few containers, shallow nesting and few values, counted on the raw bytes.

    Checked before parsing: a 16 MiB header of ``[],[],...`` (5.6 million empty lists) cost 25-38 s
    and 0.8-1.2 GB to parse and walk before the schema refused it. Characters inside strings are
    text, not structure: with the escaped backslashes and quotes removed, a character lies in a
    string after an odd number of quotes (a running XOR, one byte per character: a regex that
    strips strings took 600 MB on a header of 3 million short strings). Values (commas) are
    bounded by the payload: a model's header lists about one value per feature (its names) and a
    few per output, and its payload holds at least 4 bytes per feature and output
    (``4 (F + 1) K >= F + 7 K``), so a header of many values needs a payload as large.
    """
    plain = np.frombuffer(text.replace(b"\\\\", b"").replace(b'\\"', b""), dtype=np.uint8)
    outside = np.bitwise_xor.accumulate((plain == ord('"')).view(np.uint8)) == 0

    def count(character):
        return int(np.count_nonzero((plain == ord(character)) & outside))

    opened, closed = count("[") + count("{"), count("]") + count("}")
    _require(max(opened, closed) <= _MAX_CONTAINERS, f"the header holds {max(opened, closed)} JSON arrays and objects")
    values = count(",")
    too_many = f"the header holds {values} values for {payload_size} bytes of weights"
    _require(values <= payload_size + _MAX_CONTAINERS, too_many)
    brackets = plain[np.flatnonzero(outside & np.isin(plain, _BRACKETS))]
    steps = np.where(np.isin(brackets, _BRACKETS[:2]), 1, -1)
    # Levels as a parsed value counts them, a scalar being one: the deepest containers hold one more.
    deepest = int(np.cumsum(steps).max(initial=0))
    _require(deepest + 1 <= _MAX_DEPTH, f"the header nests deeper than {_MAX_DEPTH}")


def _read(path):
    try:
        kind = os.stat(path).st_mode
    except OSError:
        kind = None  # (open says why, below)
    if kind is not None and stat.S_ISFIFO(kind):  # opening a named pipe waits for a writer: load hung
        raise ModelFileError(f"{path} is not a regular file.")
    with open(path, "rb") as f:
        # The magic and the header length first: a large file of another kind (or /dev/zero) is refused
        # after reading 19 bytes, not after reading all of it.
        start = len(MAGIC) + 8
        head = f.read(start)
        if not head.startswith(MAGIC):
            raise ModelFileError(
                f"{path} is not a torchlogit model file (it does not start with the torchlogit magic)."
            )
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ModelFileError(f"{path} is not a regular file.")
        if info.st_size < start + 32:  # the magic, the length and the checksum at least
            raise ModelFileError(f"{path} is truncated or was altered: its content does not match its checksum.")
        (length,) = struct.unpack("<Q", head[len(MAGIC) :])
        if length > _MAX_HEADER_BYTES:
            raise ModelFileError(f"{path} is damaged (its header length is {length} bytes).")
        content = head + f.read()
    return _parse(content, path)


def _parse(content, path):
    """``(header, payload)`` of a file's ``content`` (its magic and length already checked by :func:`_read`)."""
    start = len(MAGIC) + 8
    (length,) = struct.unpack("<Q", content[len(MAGIC) : start])
    body, digest = content[:-32], content[-32:]
    if len(body) < start or hashlib.sha256(body).digest() != digest:
        raise ModelFileError(f"{path} is truncated or was altered: its content does not match its checksum.")
    if start + length > len(body):
        raise ModelFileError(f"{path} is damaged (its header length is {length} bytes).")
    text = body[start : start + length]  # up to 16 MiB: sliced once, for both checks
    try:
        _structure(text, len(body) - start - length)
        header = json.loads(
            text.decode("utf-8"),
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except ModelFileError as exc:
        raise ModelFileError(f"{path} has a damaged header: {exc}.") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise ModelFileError(f"{path} has a damaged header: {str(exc)[:200]}") from None
    if not isinstance(header, dict) or header.get("format") != "torchlogit":
        raise ModelFileError(f"{path} is not a torchlogit model file.")
    if header.get("format_version") != FORMAT_VERSION or type(header.get("format_version")) is not int:
        raise ModelFileError(
            f"{path} uses format version {repr(header.get('format_version'))[:40]}; this torchlogit reads version "
            f"{FORMAT_VERSION}."
        )
    return header, body[start + length :]


def _check_tensors(specs, payload_size, *, max_ndim=2, one_dtype=True, what="tensor"):
    """A tensor table: exact keys, allowed dtypes, consistent sizes, byte ranges inside the file.

    Returns the byte ranges; the caller checks that all of the file's ranges lie apart.
    """
    _require(isinstance(specs, list) and 1 <= len(specs) <= 64, f"the {what} table is not a short list")
    ranges = []
    for spec in specs:
        _keys(spec, _TENSOR_KEYS, f"a {what} entry")
        _require(isinstance(spec["name"], str) and len(spec["name"]) <= 64, f"a {what} name is not a short string")
        _require(spec["dtype"] in _TENSOR_DTYPES, f"the {what} dtype {str(spec['dtype'])[:20]!r} is not allowed")
        shape = spec["shape"]
        _require(
            isinstance(shape, list) and 1 <= len(shape) <= max_ndim,
            f"{what} {str(spec['name'])[:64]!r} has no 1-D to {max_ndim}-D shape",
        )
        _require(all(_is_int(n) for n in shape), f"{what} {spec['name']!r} has a bad shape")
        _require(_is_int(spec["offset"], 0, payload_size) and _is_int(spec["nbytes"], 0, payload_size), "bad range")
        size = _TENSOR_DTYPES[spec["dtype"]].itemsize * math.prod(shape)
        _require(spec["nbytes"] == size, f"{what} {spec['name']!r} has {spec['nbytes']} bytes for its shape")
        _require(spec["offset"] + size <= payload_size, f"{what} {spec['name']!r} lies outside the file")
        ranges.append((spec["offset"], spec["offset"] + size))
    _require(len({s["name"] for s in specs}) == len(specs), f"two {what}s have the same name")
    _require(not one_dtype or len({s["dtype"] for s in specs}) == 1, f"the {what}s have different dtypes")
    return ranges


def _check_apart(ranges):
    ranges = sorted(ranges)
    _require(all(a[1] <= b[0] for a, b in zip(ranges, ranges[1:], strict=False)), "two tensors overlap")


def _array(payload, spec):
    """A table entry's array: a copy (in native byte order) of its bytes, already checked to lie in the file."""
    dtype = _TENSOR_DTYPES[spec["dtype"]]
    array = np.frombuffer(payload, dtype=dtype, count=math.prod(spec["shape"]), offset=spec["offset"])
    return array.reshape(spec["shape"]).astype(dtype.newbyteorder("="))


def _target_kinds(cls):
    """The target kinds a file of ``cls`` may hold: its own torchlogit class's, for a user's subclass too."""
    return next((_KINDS[klass.__name__] for klass in cls.__mro__ if klass.__name__ in _KINDS), set())


def _check_fitted(fitted, cls, payload_size):
    _keys(fitted, _FITTED_KEYS | ({"fit_settings"} & set(fitted) if isinstance(fitted, dict) else set()), "fitted")
    n_features, n_outputs, kind = fitted["n_features_in_"], fitted["n_outputs"], fitted["kind"]
    _require(_is_int(n_features, 1) and _is_int(n_outputs, 1), "n_features_in_ / n_outputs is not a positive count")
    # The first layer has n_features weights per unit, each at least 4 bytes of the file.
    _require(n_features * 4 <= payload_size and n_outputs * 4 <= payload_size, "more weights than the file holds")
    # n_iter_ is an int32 array, as scikit-learn's: 2**31 is refused here, not by NumPy's OverflowError later.
    _require(_is_int(fitted["n_iter_"], 0, _MAX_INT32), "n_iter_ is not a count")
    names = fitted["feature_names_in_"]
    _require(
        names is None
        or (isinstance(names, list) and len(names) == n_features and all(isinstance(n, str) for n in names)),
        "feature_names_in_ is not one string per feature",
    )
    classes = _labels(fitted["classes_"], max_count=max(n_outputs, 2))
    _check_kind(kind, n_outputs, classes, cls)
    y_dtype = fitted["y_dtype"]
    if kind == "multilabel":
        dtype = _label_dtype(y_dtype, "y_dtype")
        _require(dtype is not None and dtype.kind in "biuf", "y_dtype is not a numeric dtype")
    else:
        _require(y_dtype is None, "y_dtype is only for multi-label models")
        dtype = None
    return classes, dtype


def _check_kind(kind, n_outputs, classes, cls):
    """The target kind, the number of outputs and the classes agree, as a fit of ``cls`` leaves them."""
    kinds = _target_kinds(cls)
    _require(np.ndim(classes) == 1, "classes_ is not one-dimensional")  # predict would return (n, 1) labels
    _require(isinstance(kind, str) and kind in kinds, f"kind {str(kind)[:20]!r} is not one of {sorted(kinds)}")
    _require(
        isinstance(n_outputs, (int, np.integer)) and not isinstance(n_outputs, bool) and n_outputs >= 1,
        "n_outputs is not a positive count",
    )
    if kind == "binary":
        _require(n_outputs == 1 and len(classes) == 2, "a binary model needs 2 classes and 1 output")
    elif kind == "multinomial":
        _require(n_outputs == len(classes) >= 3, "a multinomial model needs one output per class, at least 3")
    else:
        _require(len(classes) == n_outputs, "a multi-label model needs one output per label")
        _require(np.array_equal(classes, np.arange(n_outputs)), "a multi-label model's classes_ are its label indices")
    if kind != "multilabel":
        _require(len(np.unique(classes)) == len(classes), "classes_ are not distinct")
        _require(np.array_equal(np.sort(classes), classes), "classes_ are not sorted")


def _finite_numbers(layers):
    """Whether every array of ``layers`` (``[(W, b), ...]``) holds finite numbers (what a fit leaves)."""
    return all(a.dtype.kind in "fiu" and np.all(np.isfinite(a)) for layer in layers for a in layer)


def check_picklable(model):
    """Refuse to pickle (or skops-dump) a model whose coefficients are not finite numbers, in words.

    No fit leaves them (a user's edit of ``coef_`` / ``intercept_`` to inf or NaN does), and
    :func:`check_unpickled` refuses such a state when it is loaded: the pickle was written and then could not be
    read back (``LogisticRegression``'s round-trips). Refused when it is written, the model is still at hand.
    """
    if "_kind" not in vars(model) or not model._has_model():
        return
    try:
        layers = model._fitted_layers(dense=True)
    except (TypeError, ValueError):  # arrays of other shapes: the loader's words (check_unpickled)
        return
    if not _finite_numbers(layers):
        raise ValueError(
            f"This {type(model).__name__} holds coefficients that are not finite numbers (coef_ or intercept_ set to "
            "inf or NaN): no fit leaves them, and torchlogit refuses such a state when a pickle or a skops file of it "
            "is loaded. Set finite values (np.nan_to_num) or fit again, then pickle it."
        )


def check_unpickled(model):
    """Refuse a pickled or skops state that no fit leaves (a crafted one), in words, at load time.

    skops loads only the types it is told to trust, and a file holding torchlogit's types alone passes that
    test whatever the values: a target kind that disagrees with ``classes_`` predicted probabilities that do
    not sum to one, and optimizer moments of the wrong shapes reached torch's errors in ``partial_fit``.
    Checked: the class's parameters all there (:func:`_check_own_state`), the kind, outputs and classes (as
    :func:`load` checks a model file), the coefficients' shapes and finiteness, and ``partial_fit``'s state (finite
    moments of the coefficients' shapes).
    """
    try:
        _check_state(model)
    except ModelFileError as exc:
        raise ValueError(f"This {type(model).__name__} state is not one torchlogit writes: {exc}.") from None


def _check_state(model):
    """:func:`check_unpickled`'s checks, failing with a :class:`ModelFileError` that says what disagrees."""
    state = vars(model)
    _check_own_state(model, state)
    if "_kind" not in state:
        return
    _require("classes_" in state, "it has a target kind but no classes_")
    _require("n_features_in_" in state, "it has a target kind but no n_features_in_")
    _check_kind(state["_kind"], state.get("_n_outputs"), host_classes(model), type(model))
    if "_fit_settings" in state:
        try:
            model._check_fit_settings(state["_fit_settings"], alone=True)
        except ValueError as exc:
            raise ModelFileError(str(exc).rstrip(".")) from None
    if not model._has_model():  # its coefficients deleted (``del model.coef_``: the next fit starts cold)
        return
    layers = model._fitted_layers(dense=True)  # the shapes against n_features_in_ and the outputs
    _require(_finite_numbers(layers), "its coefficients are not finite numbers")  # as a model file's tensors
    partial = state.get("_partial_state")
    if partial is not None:
        _check_partial_state(partial, layers)


def _check_own_state(model, state):
    """A state of ``model``'s class at all: every parameter of the class, and a fitted ``n_iter_`` only beside the
    record torchlogit's fits keep (``_kind``; ``_estimator`` for the CV estimator). Another estimator's state under
    this class's name (``LogisticRegression``'s, or another torchlogit class's: a crafted pickle, or a skops file
    listing only torchlogit's types) loaded, and failed later on a private name (raw ``AttributeError``)."""
    missing = sorted(set(model._get_param_names()) - set(state))
    _require(not missing, f"it lacks the parameters {missing[:6]}, as a state of another estimator does")
    # n_iter_: a fit's or a load's (arrays assigned to an unfitted estimator have none, and are completed at use).
    record = "_estimator" if hasattr(model, "_file_parts") else "_kind"
    _require(
        "n_iter_" not in state or record in state,
        f"it holds a fitted n_iter_ without the record of the fit torchlogit keeps ({record})",
    )


def _finite_moment(value):
    """An optimizer moment's entry as :func:`._state.optimizer_moments` writes it: a finite real array, a number
    (Adam's step count) or None."""
    if value is None:
        return True
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return math.isfinite(value)
    return isinstance(value, np.ndarray) and value.dtype.kind in "fiu" and bool(np.isfinite(value).all())


def _check_partial_state(partial, layers):
    """``partial_fit``'s state (see ``_base._keep_partial_state``) fits the model's ``layers``."""
    _keys(partial, {"solver", "seed", "optimizer", "l1"} | ({"dropout"} & set(partial)), "_partial_state")
    # (the solver the moments belong to: partial_fit takes them back only under the same one)
    _require(isinstance(partial["solver"], str), "_partial_state's solver is not a solver's name")
    _require(isinstance(partial["seed"], (int, np.integer)), "_partial_state's seed is not an integer")
    # torch's order of the parameters: each layer's weight (n_out, n_in), then its bias when it has one.
    weights = [tuple(W.shape[::-1]) for W, _ in layers]
    with_bias = [shape for W, _ in layers for shape in (tuple(W.shape[::-1]), (W.shape[1],))]
    moments = partial["optimizer"]
    _require(isinstance(moments, list) and all(isinstance(m, dict) for m in moments), "the moments are not a list")
    _require(
        all(_finite_moment(v) for m in moments for v in m.values()),
        "the optimizer moments are not finite arrays (a string, a list, NaN or inf)",
    )
    for shapes in (weights, with_bias):
        if len(moments) == len(shapes):  # (another count: a structure changed since, whose moments start afresh)
            for entry, shape in zip(moments, shapes, strict=True):
                arrays = [v for v in entry.values() if isinstance(v, np.ndarray) and v.ndim > 0]
                _require(all(a.shape == shape for a in arrays), "the optimizer moments do not fit the coefficients")
    streams = partial.get("dropout")
    if streams is not None:
        _require(
            isinstance(streams, list) and all(s is None or _is_dropout_stream(s) for s in streams),
            "the dropout streams are not (device, uint8 state) pairs",
        )
    totals = partial["l1"]
    if totals is not None:
        _require(isinstance(totals, list) and len(totals) <= len(weights), "the L1 totals are not a list")
        for pair, shape in zip(totals, weights, strict=False):
            _require(
                isinstance(pair, (list, tuple))
                and len(pair) == 2
                and all(isinstance(a, np.ndarray) and a.shape == shape for a in pair),
                "the L1 totals do not fit the coefficients",
            )


def _is_dropout_stream(stream):
    """A ``[device name, 1-D uint8 generator state]`` pair, as ``_modules.dropout_streams`` writes it."""
    return (
        isinstance(stream, (list, tuple))
        and len(stream) == 2
        and isinstance(stream[0], str)
        and isinstance(stream[1], np.ndarray)
        and stream[1].dtype == np.uint8
        and stream[1].ndim == 1
    )


def load(cls, path, device="cpu"):
    """Read a model written by :func:`save` as an instance of ``cls``, on ``device``."""
    # The caller's argument, checked first: a malformed name is a ValueError (it loaded, and failed at refit).
    # A well-formed device this machine lacks is accepted: the model predicts on the CPU here and is set up
    # for that device where it exists (tests/test_contracts_fit_setup.py).
    check_device_name(device, owner=cls.__name__)
    header, payload = _read(check_file_path(path, "load"))
    try:
        return _build(cls, header, payload, device)
    except ModelFileError as exc:
        raise ModelFileError(f"{path} is not a valid torchlogit model file: {exc}.") from None
    except (KeyError, TypeError, ValueError, OverflowError, IndexError, AttributeError, RecursionError) as exc:
        # Anything the schema let through that the estimator still refuses (its own parameter checks).
        raise ModelFileError(f"{path} is not a valid torchlogit model file: {str(exc)[:300]}") from None


def _build(cls, header, payload, device):
    wrapper = hasattr(cls, "_file_parts")  # a wrapper's file has an "arrays" table (see the module docstring)
    # The class first: a TorchLogisticClassifier file read by TorchLogisticClassifierCV.load (or the reverse) differs
    # in its keys too ("arrays"), and the user is told which estimator the file holds, not which keys it has.
    if "estimator" in header and header["estimator"] != cls.__name__:
        raise ModelFileError(f"it holds a {str(header['estimator'])[:40]}, not a {cls.__name__}")
    _keys(header, _TOP_KEYS | ({"arrays"} if wrapper else set()) | ({"requests"} & set(header)), "the header")
    params = header["params"]
    known = set(cls().get_params(deep=False))
    _require(isinstance(params, dict) and set(params) <= known, "the parameters are not this estimator's")
    params = {k: _decode(v) for k, v in params.items()}
    _require(params.get("callbacks") in (None, []), "a file cannot hold callbacks")  # ([]: none, as None)
    classes, y_dtype = _check_fitted(header["fitted"], cls, len(payload))
    ranges = _check_tensors(header["tensors"], len(payload))
    if wrapper:
        ranges += _check_tensors(
            header["arrays"], len(payload), max_ndim=_MAX_ARRAY_NDIM, one_dtype=False, what="array"
        )
    _check_apart(ranges)

    estimator = cls(**params)
    estimator.set_params(device=device)
    estimator._validate_params()  # the same constraints as fit (InvalidParameterError is a ValueError)
    _apply_requests(estimator, header.get("requests", {}))
    fitted = header["fitted"]
    estimator.classes_ = classes
    estimator.n_features_in_ = fitted["n_features_in_"]
    if fitted["feature_names_in_"] is not None:
        estimator.feature_names_in_ = np.array(fitted["feature_names_in_"], dtype=object)
    model, arrays = estimator, None
    if wrapper:
        shapes = {spec["name"]: tuple(spec["shape"]) for spec in header["arrays"]}
        expected = estimator._file_array_shapes(shapes, fitted["n_features_in_"], fitted["n_outputs"])
        _require(shapes == expected, f"its arrays {str(shapes)[:200]} are not those expected {str(expected)[:200]}")
        arrays = {spec["name"]: _array(payload, spec) for spec in header["arrays"]}
        model = estimator._file_model()
        model.classes_ = classes
        model.n_features_in_ = fitted["n_features_in_"]
    model.n_iter_ = np.asarray([fitted["n_iter_"]], dtype=np.int32)
    model._kind = fitted["kind"]
    model._n_outputs = fitted["n_outputs"]
    if y_dtype is not None:
        model._y_dtype = y_dtype

    # The structure the parameters describe, counted before any module is built.
    widths = [model.n_features_in_, *model._structure_sizes(), model._n_outputs]
    n_params = sum(a * b + b for a, b in zip(widths, widths[1:], strict=False))
    # Each layer has its weight tensor, and the table is short: no module of 20,000 layers is built to be refused.
    _require(len(widths) - 1 <= len(header["tensors"]), "the parameters describe more layers than the file holds")
    _require(n_params * 4 <= len(payload) + 4 * sum(widths[1:]), "the parameters describe more weights than the file")
    expected = {k: tuple(v.shape) for k, v in model._empty_module(widths[0], widths[-1]).state_dict().items()}
    found = {spec["name"]: tuple(spec["shape"]) for spec in header["tensors"]}
    _require(found == expected, f"its tensors {str(found)[:200]} are not those of the model {str(expected)[:200]}")

    model._check_loaded_params()  # what fit would refuse for these classes or labels (a ValueError)
    settings = _decode(fitted.get("fit_settings"))
    if settings is not None:
        model._check_fit_settings(settings)
        model._fit_settings = settings

    state = {}
    for spec in header["tensors"]:
        state[spec["name"]] = _array(payload, spec)
        _require(np.all(np.isfinite(state[spec["name"]])), f"tensor {spec['name']!r} holds non-finite values")
    model._restore_state(state, _TENSOR_DTYPES[header["tensors"][0]["dtype"]].newbyteorder("="))
    if wrapper:
        estimator._from_file(model, arrays)
    return estimator
