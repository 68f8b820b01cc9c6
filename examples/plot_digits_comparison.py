"""
TorchLogisticClassifier against LogisticRegression on digits
============================================================

A ten-class (multinomial) problem: 8x8 images of handwritten digits. Both libraries fit
the same objective with the same ``C``; we compare their coefficients, their predicted
probabilities on held-out images, and their fit times.
"""

# %%
# Fit both
# --------
from time import perf_counter

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from torchlogit import TorchLogisticClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

models = {
    "torchlogit": TorchLogisticClassifier(C=0.1, dtype="float64", tol=1e-8, max_iter=1000),
    "sklearn": LogisticRegression(C=0.1, tol=1e-8, max_iter=1000),
}
times = {}
for name, model in models.items():
    start = perf_counter()
    model.fit(X_train, y_train)
    times[name] = perf_counter() - start
    print(f"{name:>10}: accuracy {model.score(X_test, y_test):.4f}, fit {times[name]:.3f} s")

ours, ref = models["torchlogit"], models["sklearn"]
gap = np.abs(ours.predict_proba(X_test) - ref.predict_proba(X_test)).max()
print(f"max |predict_proba difference| on held-out images: {gap:.1e}")
print(f"max |coef difference|: {np.abs(ours.coef_ - ref.coef_).max():.1e}")

# %%
# Coefficients on the diagonal, and the weights of each digit as an image
# -------------------------------------------------------------------------
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
axes[0].scatter(ref.coef_.ravel(), ours.coef_.ravel(), s=6)
lim = np.abs(ref.coef_).max() * 1.05
axes[0].plot([-lim, lim], [-lim, lim], "k:", lw=1)
axes[0].set(xlabel="LogisticRegression coef_", ylabel="TorchLogisticClassifier coef_", title="Same optimum")
axes[1].bar(list(times), list(times.values()), color=["tab:blue", "tab:grey"])
axes[1].set(ylabel="fit time (s)", title="Fit time, one run")
plt.tight_layout()

fig, axes = plt.subplots(1, 10, figsize=(12, 1.6))
for digit, ax in enumerate(axes):
    ax.imshow(ours.coef_[digit].reshape(8, 8), cmap="RdBu_r")
    ax.set_title(str(digit))
    ax.axis("off")
plt.show()
