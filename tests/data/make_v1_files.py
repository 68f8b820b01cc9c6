"""Writes the files in this folder with torchlogit 0.1.0 as of commit f7e6946 (the format before the lean state).

Kept so the tests can check that pickles and ``.save`` files of that format still load. Rerunning it
with a later torchlogit writes the later format: don't, unless the format is meant to change.
"""

import pickle
from pathlib import Path

import numpy as np
from sklearn.datasets import load_iris, make_multilabel_classification

from torchlogit import TorchLogisticClassifier, TorchMultiLabelClassifier

HERE = Path(__file__).parent


def models():
    X, y = load_iris(return_X_y=True)
    Xm, Ym = make_multilabel_classification(n_samples=60, n_features=6, n_classes=3, random_state=0)
    yield "binary", TorchLogisticClassifier().fit(X[:, :2], y == 1), X[:, :2]
    yield "multinomial", TorchLogisticClassifier(dtype="float64").fit(X, y), X
    yield "multilabel", TorchMultiLabelClassifier().fit(Xm, Ym), Xm
    yield "hidden", TorchMultiLabelClassifier((4,), solver="adam", max_iter=5, random_state=0).fit(Xm, Ym), Xm
    yield (
        "partial",
        TorchLogisticClassifier(solver="adam", random_state=0).partial_fit(X, y, classes=[0, 1, 2]),
        X,
    )


if __name__ == "__main__":
    import warnings

    warnings.simplefilter("ignore")
    for name, model, X in models():
        (HERE / f"v1_{name}.pkl").write_bytes(pickle.dumps(model))
        model.save(HERE / f"v1_{name}.tlm")
        np.save(HERE / f"v1_{name}_proba.npy", model.predict_proba(X))
