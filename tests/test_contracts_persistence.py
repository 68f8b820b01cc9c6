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
from sklearn.datasets import load_iris

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
