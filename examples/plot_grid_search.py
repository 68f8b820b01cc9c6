"""
Grid search over a Pipeline
===========================

torchlogit's estimators are scikit-learn estimators, so
:class:`~sklearn.model_selection.GridSearchCV` tunes them like any other: here ``C`` and
``class_weight`` of a :class:`~torchlogit.TorchLogisticClassifier` behind a
:class:`~sklearn.preprocessing.StandardScaler`, on the breast-cancer data, scored by
log-loss.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from torchlogit import TorchLogisticClassifier

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

pipeline = make_pipeline(StandardScaler(), TorchLogisticClassifier())
grid = GridSearchCV(
    pipeline,
    {
        "torchlogisticclassifier__C": np.logspace(-3, 2, 6),
        "torchlogisticclassifier__class_weight": [None, "balanced"],
    },
    scoring="neg_log_loss",
    cv=5,
)
grid.fit(X_train, y_train)
print("best:", grid.best_params_)
# The score of a search scored by "neg_log_loss" is the negative log-loss (higher is better).
print(f"held-out log-loss of the refitted best pipeline: {-grid.score(X_test, y_test):.4f}")

# %%
# The validation curve
# --------------------
# One curve per ``class_weight``. The labels are made with ``repr`` from the parameter
# values themselves: ``None`` is a real setting here, and grouping a DataFrame by it
# would silently drop it (pandas treats ``None`` as missing).
results = pd.DataFrame(grid.cv_results_)
settings = [repr(params["torchlogisticclassifier__class_weight"]) for params in grid.cv_results_["params"]]
fig, ax = plt.subplots(figsize=(7, 4))
for weight in dict.fromkeys(settings):
    part = results[[s == weight for s in settings]]
    ax.errorbar(
        part["param_torchlogisticclassifier__C"].astype(float),
        -part["mean_test_score"],
        yerr=part["std_test_score"],
        marker="o",
        capsize=3,
        label=f"class_weight={weight}",
    )
ax.set(xscale="log", xlabel="C", ylabel="cross-validated log-loss", title="Tuning C")
best = repr(grid.best_params_["torchlogisticclassifier__class_weight"])
ax.legend(title=f"best: C={grid.best_params_['torchlogisticclassifier__C']:g}, class_weight={best}")
plt.show()
