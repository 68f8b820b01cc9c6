"""A safe file format for sharing fitted models: no pickle, nothing executed on load.

Layout: the magic line ``TORCHLOGIT\\n``, an 8-byte little-endian header length, a JSON
header (format version, estimator class, parameters, fitted attributes, and for each
tensor its name, dtype, shape and byte range), the tensors' raw little-endian bytes,
and last the SHA-256 of header and tensors, so a truncated or altered file is refused.
Loading parses JSON and reads numbers, and validates the parameters as ``fit`` does; it
never unpickles or imports anything named by the file.
"""

import hashlib
import json
import math
import struct

import numpy as np
import torch

MAGIC = b"TORCHLOGIT\n"
FORMAT_VERSION = 1
_MAX_HEADER_BYTES = 1 << 24
_TENSOR_DTYPES = {"float32": np.dtype("<f4"), "float64": np.dtype("<f8")}


class ModelFileError(ValueError):
    """The file is not a torchlogit model this version can read, or it was damaged."""


def _encode(value, name):
    """Parameters as JSON, keeping the types JSON would lose (tuples, non-string dict keys, inf)."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return {"float": repr(value)} if not math.isfinite(value) else value
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return _encode(value.item(), name)
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, name) for v in value]}
    if isinstance(value, (list, np.ndarray)):
        return [_encode(v, name) for v in list(value)]
    if isinstance(value, dict):
        return {"dict": [[_encode(k, name), _encode(v, name)] for k, v in value.items()]}
    raise TypeError(
        f"The parameter {name}={value!r} cannot be saved in the safe format (only numbers, strings, "
        "tuples, lists and dicts can); set it to a plain value or None first, or use pickle."
    )


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if "float" in value:
            return float(value["float"])
        if "tuple" in value:
            return tuple(_decode(v) for v in value["tuple"])
        if "dict" in value:
            return {_decode(k): _decode(v) for k, v in value["dict"]}
        raise ModelFileError(f"unexpected value in the header: {value!r}")
    return value


def _labels_to_json(labels):
    labels = np.asarray(labels)
    if labels.dtype.kind == "O":
        if not all(isinstance(v, str) for v in labels.tolist()):
            raise TypeError("Only numeric or string class labels can be saved in the safe format.")
        return {"dtype": "object", "values": labels.tolist()}
    if labels.dtype.kind not in "biufU":
        raise TypeError("Only numeric or string class labels can be saved in the safe format.")
    return {"dtype": labels.dtype.str, "values": labels.tolist()}


def _labels_from_json(spec):
    dtype = object if spec["dtype"] == "object" else np.dtype(spec["dtype"])
    return np.array(spec["values"], dtype=dtype)


def save(estimator, path):
    """Write a fitted torchlogit estimator to ``path`` (see the module docstring for the layout)."""
    params = {k: _encode(v, k) for k, v in estimator.get_params(deep=False).items()}
    tensors, chunks, offset = [], [], 0
    for name, tensor in estimator.net_.module_.state_dict().items():
        array = tensor.detach().cpu().numpy()
        array = np.ascontiguousarray(array, dtype=_TENSOR_DTYPES[str(array.dtype)])
        data = array.tobytes()
        tensors.append(
            {
                "name": name,
                "dtype": str(array.dtype.name),
                "shape": list(array.shape),
                "offset": offset,
                "nbytes": len(data),
            }
        )
        chunks.append(data)
        offset += len(data)
    payload = b"".join(chunks)
    feature_names = getattr(estimator, "feature_names_in_", None)
    header = {
        "format": "torchlogit",
        "format_version": FORMAT_VERSION,
        "estimator": type(estimator).__name__,
        "params": params,
        "fitted": {
            "classes_": _labels_to_json(estimator.classes_),
            "n_features_in_": int(estimator.n_features_in_),
            "feature_names_in_": None if feature_names is None else [str(f) for f in feature_names],
            "n_iter_": int(estimator.n_iter_[0]),
            "kind": estimator._kind,
            "n_outputs": int(estimator._n_outputs),
            "y_dtype": None if getattr(estimator, "_y_dtype", None) is None else np.dtype(estimator._y_dtype).str,
        },
        "tensors": tensors,
    }
    blob = json.dumps(header).encode("utf-8")
    body = MAGIC + struct.pack("<Q", len(blob)) + blob + payload
    with open(path, "wb") as f:
        f.write(body + hashlib.sha256(body).digest())


def _read(path):
    with open(path, "rb") as f:
        content = f.read()
    if not content.startswith(MAGIC):
        raise ModelFileError(f"{path} is not a torchlogit model file (it does not start with the torchlogit magic).")
    body, digest = content[:-32], content[-32:]
    start = len(MAGIC) + 8
    if len(body) < start or hashlib.sha256(body).digest() != digest:
        raise ModelFileError(f"{path} is truncated or was altered: its content does not match its checksum.")
    (length,) = struct.unpack("<Q", body[len(MAGIC) : start])
    if length > _MAX_HEADER_BYTES or start + length > len(body):
        raise ModelFileError(f"{path} is damaged (its header length is {length} bytes).")
    try:
        header = json.loads(body[start : start + length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path} has a damaged header: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != "torchlogit":
        raise ModelFileError(f"{path} is not a torchlogit model file.")
    if header.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{path} uses format version {header.get('format_version')!r}; this torchlogit reads version "
            f"{FORMAT_VERSION}."
        )
    return header, body[start + length :]


def load(cls, path, device="cpu"):
    """Read a model written by :func:`save` as an instance of ``cls``, on ``device``."""
    header, payload = _read(path)
    if header.get("estimator") != cls.__name__:
        raise ModelFileError(f"{path} holds a {header.get('estimator')}, not a {cls.__name__}.")
    try:
        params = {k: _decode(v) for k, v in header["params"].items()}
        estimator = cls(**params)
        estimator.set_params(device=device)
        estimator._validate_params()  # the same constraints as fit
        fitted = header["fitted"]
        estimator.classes_ = _labels_from_json(fitted["classes_"])
        estimator.n_features_in_ = int(fitted["n_features_in_"])
        if fitted["feature_names_in_"] is not None:
            estimator.feature_names_in_ = np.array(fitted["feature_names_in_"], dtype=object)
        estimator.n_iter_ = np.asarray([fitted["n_iter_"]], dtype=np.int32)
        estimator._kind = fitted["kind"]
        estimator._n_outputs = int(fitted["n_outputs"])
        if fitted["y_dtype"] is not None:
            estimator._y_dtype = np.dtype(fitted["y_dtype"])
        state = {}
        for spec in header["tensors"]:
            dtype = _TENSOR_DTYPES[spec["dtype"]]
            shape = tuple(int(n) for n in spec["shape"])
            if spec["nbytes"] != dtype.itemsize * math.prod(shape) or spec["offset"] + spec["nbytes"] > len(payload):
                raise ModelFileError(f"{path} describes its tensor {spec['name']!r} inconsistently.")
            array = np.frombuffer(payload, dtype=dtype, count=math.prod(shape), offset=spec["offset"])
            state[spec["name"]] = torch.from_numpy(array.reshape(shape).copy())
        estimator._restore_net(state)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path} is not a valid torchlogit model file: {exc}") from None
    return estimator
