"""
Multinomial decision regions on iris
====================================

Three classes, two features (petal length and width): the softmax model splits the plane
into three regions with straight boundaries. The shading shows the probability of the
predicted class, which falls near the boundaries.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_iris
from sklearn.inspection import DecisionBoundaryDisplay

from torchlogit import TorchLogisticClassifier

iris = load_iris()
X, y = iris.data[:, 2:], iris.target
clf = TorchLogisticClassifier(C=10.0).fit(X, y)
print(f"training accuracy: {clf.score(X, y):.3f}")

# %%
# Regions and confidence
# ----------------------
fig, ax = plt.subplots(figsize=(7, 5))
DecisionBoundaryDisplay.from_estimator(
    clf, X, response_method="predict", multiclass_colors="Pastel1", alpha=0.8, ax=ax, grid_resolution=300
)
xx, yy = np.meshgrid(np.linspace(0.5, 7.5, 300), np.linspace(-0.3, 2.8, 300))
confidence = clf.predict_proba(np.c_[xx.ravel(), yy.ravel()]).max(axis=1).reshape(xx.shape)
contours = ax.contour(xx, yy, confidence, levels=[0.5, 0.7, 0.9], colors="k", linewidths=0.6)
ax.clabel(contours, fmt="%.1f")
for label, marker in zip(range(3), "o^s", strict=True):
    ax.scatter(*X[y == label].T, marker=marker, edgecolor="k", label=iris.target_names[label])
ax.set(xlabel=iris.feature_names[2], ylabel=iris.feature_names[3], title="Softmax regions (contours: max probability)")
ax.legend()
plt.show()
