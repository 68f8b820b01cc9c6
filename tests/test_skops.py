"""skops (scikit-learn's safe format, MLflow's default for sklearn models): only torchlogit's own classes to trust."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import torchlogit
from torchlogit import TorchLogisticClassifier, TorchLogisticClassifierCV, TorchMultiLabelClassifier

sio = pytest.importorskip("skops.io")


def _models():
    X, y = load_iris(return_X_y=True)
    Xm, Y = make_multilabel_classification(n_samples=80, n_features=6, n_classes=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield "multinomial", TorchLogisticClassifier().fit(X, y), X
        yield "binary float32", TorchLogisticClassifier().fit(X.astype("float32"), y == 1), X
        yield "string labels", TorchLogisticClassifier().fit(X, np.array(["a", "b", "c"])[y]), X
        yield "multilabel", TorchMultiLabelClassifier().fit(Xm, Y), Xm
        yield "hidden", TorchMultiLabelClassifier((5,), max_iter=5, random_state=0).fit(Xm, Y), Xm
        yield "partial_fit", TorchLogisticClassifier(solver="sgd").partial_fit(X, y, classes=[0, 1, 2]), X
        yield "cv", TorchLogisticClassifierCV(Cs=3, cv=3).fit(X, y), X  # holds its refitted model
        yield "pipeline", make_pipeline(StandardScaler(), TorchLogisticClassifier()).fit(X, y), X


@pytest.mark.parametrize("name, model, X", list(_models()), ids=lambda v: v if isinstance(v, str) else "")
def test_skops_flags_only_torchlogit_classes_and_round_trips(name, model, X):
    blob = sio.dumps(model)
    untrusted = sio.get_untrusted_types(data=blob)
    # LogisticRegression's own file flags nothing; ours flags our class only (nothing from functools,
    # skorch or torch), and the exported list covers it.
    assert sio.get_untrusted_types(data=sio.dumps(LogisticRegression().fit(X[:20], np.arange(20) % 2))) == []
    assert 1 <= len(untrusted) <= 3 and set(untrusted) <= set(torchlogit.SKOPS_TRUSTED_TYPES), untrusted
    restored = sio.loads(blob, trusted=torchlogit.SKOPS_TRUSTED_TYPES)
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


def test_a_sparsified_model_flags_what_a_sparsified_logistic_regression_flags():
    X, y = load_iris(return_X_y=True)
    ours = sio.get_untrusted_types(data=sio.dumps(TorchLogisticClassifier().fit(X, y).sparsify()))
    reference = sio.get_untrusted_types(data=sio.dumps(LogisticRegression().fit(X, y).sparsify()))
    assert set(ours) - set(torchlogit.SKOPS_TRUSTED_TYPES) == set(reference)  # scipy's csr_matrix, in both


def test_mlflow_default_sklearn_save_works_with_the_trusted_list(tmp_path):
    mlflow_sklearn = pytest.importorskip("mlflow.sklearn")
    X, y = load_iris(return_X_y=True)
    model = TorchLogisticClassifier().fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mlflow's own notes (pip requirements inference)
        mlflow_sklearn.save_model(model, tmp_path / "model", skops_trusted_types=torchlogit.SKOPS_TRUSTED_TYPES)
        assert (tmp_path / "model" / "model.skops").exists()  # the default format, not a pickle
        restored = mlflow_sklearn.load_model(str(tmp_path / "model"))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
