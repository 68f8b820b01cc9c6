"""
Multinomial decision regions on iris
====================================

Three classes, two features (petal length and width): the softmax model splits the plane
into three regions with straight boundaries. The shading shows the predicted class, in
the colour of that class's points; the contour lines show the probability of the
predicted class, which falls towards 1/2 (or 1/3 where all three meet) near the
boundaries.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from sklearn.datasets import load_iris

from torchlogit import TorchLogisticClassifier

iris = load_iris()
X, y = iris.data[:, 2:], iris.target
clf = TorchLogisticClassifier(C=10.0).fit(X, y)
print(f"training accuracy: {clf.score(X, y):.3f}")

# %%
# Regions and confidence
# ----------------------
# One grid for both the regions and the contours, and it spans the whole plot, so
# neither stops short of the edge.
colors = ["tab:blue", "tab:orange", "tab:green"]
x_range = X[:, 0].min() - 0.5, X[:, 0].max() + 0.5
y_range = X[:, 1].min() - 0.3, X[:, 1].max() + 0.3
xx, yy = np.meshgrid(np.linspace(*x_range, 400), np.linspace(*y_range, 400))
proba = clf.predict_proba(np.c_[xx.ravel(), yy.ravel()])
predicted = proba.argmax(axis=1).reshape(xx.shape)
confidence = proba.max(axis=1).reshape(xx.shape)

fig, ax = plt.subplots(figsize=(7, 5))
ax.contourf(xx, yy, predicted, levels=[-0.5, 0.5, 1.5, 2.5], cmap=ListedColormap(colors), alpha=0.2)
contours = ax.contour(xx, yy, confidence, levels=[0.5, 0.7, 0.9], colors="k", linewidths=0.7)
ax.clabel(contours, fmt="%.1f")
for label, marker in zip(range(3), "o^s", strict=True):
    ax.scatter(*X[y == label].T, marker=marker, color=colors[label], edgecolor="k", label=iris.target_names[label])
ax.set(
    xlim=x_range,
    ylim=y_range,
    xlabel=iris.feature_names[2],
    ylabel=iris.feature_names[3],
    title="Softmax regions (shading: predicted class; lines: its probability)",
)
ax.legend(loc="upper left")
plt.show()
