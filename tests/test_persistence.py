"""Pickle, joblib and the safe save/load format: identical predictions, damaged files refused."""

import hashlib
import io
import pickle
import struct
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from torchlogit import TorchLogisticClassifier, TorchMultiLabelClassifier
from torchlogit._persistence import MAGIC, ModelFileError


@pytest.fixture(scope="module")
def fitted(wine):
    X, y = wine
    names = np.array(["barolo", "grignolino", "barbera"])[y]
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return {
            "logistic": (TorchLogisticClassifier(C=np.inf, class_weight="balanced").fit(frame, names), frame),
            "l1 float64": (TorchLogisticClassifier(C=0.5, l1_ratio=1.0, dtype="float64").fit(X, y), X),
            "binary sparse": (TorchLogisticClassifier().fit(sp.csr_matrix(X), y == 1), sp.csr_matrix(X)),
            "multilabel": (
                TorchMultiLabelClassifier(threshold=[0.3, 0.6]).fit(X, np.column_stack([y == 0, y == 1]).astype(int)),
                X,
            ),
            "mlp": (
                TorchMultiLabelClassifier(
                    hidden_layer_sizes=(6, 4), activation="tanh", random_state=0, max_iter=40
                ).fit(X, np.column_stack([y == 0, y == 2])),
                X,
            ),
        }


@pytest.mark.parametrize("name", ["logistic", "l1 float64", "binary sparse", "multilabel", "mlp"])
def test_every_round_trip_gives_identical_predictions(fitted, name, tmp_path):
    clf, X = fitted[name]
    path = tmp_path / "model.torchlogit"
    clf.save(path)
    buffer = io.BytesIO()
    joblib.dump(clf, buffer)
    buffer.seek(0)
    for restored in (type(clf).load(path), pickle.loads(pickle.dumps(clf)), joblib.load(buffer)):
        np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
        np.testing.assert_array_equal(restored.predict(X), clf.predict(X))
        np.testing.assert_array_equal(restored.classes_, clf.classes_)
        assert restored.classes_.dtype == clf.classes_.dtype
        assert restored.get_params() == clf.get_params()
    loaded = type(clf).load(path)
    if hasattr(clf, "feature_names_in_"):
        np.testing.assert_array_equal(loaded.feature_names_in_, clf.feature_names_in_)
    if hasattr(clf, "coef_"):
        np.testing.assert_array_equal(loaded.coef_, clf.coef_)


def _write(path, content):
    path.write_bytes(content)
    return path


def test_files_that_are_not_ours_truncated_or_altered_are_refused(fitted, tmp_path):
    clf, _ = fitted["logistic"]
    good = tmp_path / "good.torchlogit"
    clf.save(good)
    content = good.read_bytes()
    header_length = struct.unpack("<Q", content[len(MAGIC) : len(MAGIC) + 8])[0]
    header_end = len(MAGIC) + 8 + header_length

    cases = {
        "pickle instead": (pickle.dumps(clf), "not a torchlogit model file"),
        "empty": (b"", "not a torchlogit model file"),
        "truncated": (content[: len(content) // 2], "truncated or was altered"),
        "payload byte flipped": (
            content[: header_end + 3] + bytes([content[header_end + 3] ^ 1]) + content[header_end + 4 :],
            "truncated or was altered",
        ),
        "header edited": (content.replace(b'"C": {"float": "inf"}', b'"C": 1.0'), "truncated or was altered"),
    }
    for name, (data, message) in cases.items():
        with pytest.raises(ModelFileError, match=message):
            TorchLogisticClassifier.load(_write(tmp_path / f"{name}.bin", data))
    with pytest.raises(ModelFileError, match="holds a TorchLogisticClassifier, not a TorchMultiLabelClassifier"):
        TorchMultiLabelClassifier.load(good)
    assert issubclass(ModelFileError, ValueError)


def test_a_forged_file_with_a_valid_checksum_still_cannot_run_code(fitted, tmp_path):
    """Re-signed header with a future version, or an unknown tensor dtype: refused, nothing executed."""
    clf, _ = fitted["logistic"]
    good = tmp_path / "good.torchlogit"
    clf.save(good)
    body = good.read_bytes()[:-32]
    for old, new, message in [
        (b'"format_version": 1', b'"format_version": 9', "format version 9"),
        (b'"dtype": "float32"', b'"dtype": "object!"', "not a valid torchlogit model file.*'dtype' parameter"),
        (b'"dtype": "float32", "shape"', b'"dtype": "object!", "shape"', "not a valid torchlogit model file"),
    ]:
        forged = body.replace(old, new, 1)
        length = struct.unpack("<Q", forged[len(MAGIC) : len(MAGIC) + 8])[0] + len(new) - len(old)
        forged = forged[: len(MAGIC)] + struct.pack("<Q", length) + forged[len(MAGIC) + 8 :]
        path = _write(tmp_path / "forged.bin", forged + hashlib.sha256(forged).digest())
        with pytest.raises(ModelFileError, match=message):
            TorchLogisticClassifier.load(path)


def test_unsaveable_parameters_get_a_clear_error(wine, tmp_path):
    X, y = wine
    clf = TorchLogisticClassifier(random_state=np.random.RandomState(0)).fit(X, y)
    with pytest.raises(TypeError, match="random_state=.* cannot be saved in the safe format"):
        clf.save(tmp_path / "m.torchlogit")
    with pytest.raises(Exception, match="not fitted"):
        TorchLogisticClassifier().save(tmp_path / "m.torchlogit")


def test_a_model_trained_on_a_gpu_unpickles_on_a_cpu_only_machine(wine, monkeypatch):
    """Honest simulation (no GPU here): the pickled net records device="cuda" exactly as a CUDA-trained
    net does, so unpickling goes through skorch's own CUDA-to-CPU path (map_location chosen from the
    recorded device, a DeviceWarning when CUDA is absent). We make CUDA absent even on a GPU machine.
    The tensors were really on the CPU; what is exercised is the decision made at load time, which is
    what fails when it is missing ("Attempting to deserialize object on a CUDA device")."""
    import torch
    from skorch.exceptions import DeviceWarning

    X, y = wine
    clf = TorchLogisticClassifier().fit(X, y)
    expected = clf.predict_proba(X)
    clf.net_.device = "cuda"
    clf.device = "cuda"
    blob = pickle.dumps(clf)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(DeviceWarning, match="CUDA"):
        restored = pickle.loads(blob)
    assert str(restored.net_.device) == "cpu"
    assert next(restored.net_.module_.parameters()).device.type == "cpu"
    np.testing.assert_array_equal(restored.predict_proba(X), expected)
    with pytest.raises(ValueError, match="CUDA is not available"):
        restored.fit(X, y)  # the parameter still says cuda: a clear error, not a torch traceback
