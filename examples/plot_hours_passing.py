"""
Hours studied and the probability of passing
============================================

The textbook example of logistic regression: twenty students, the hours each studied and
whether they passed. The model's probability of passing is a sigmoid of the hours; where
it crosses 0.5 is the decision boundary. scikit-learn's ``LogisticRegression`` with the
same settings draws the same curve.
"""

# %%
# The data and the two fits
# -------------------------
# ``C=np.inf`` means no penalty: the classical maximum-likelihood fit.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression

from torchlogit import TorchLogisticClassifier

hours = np.array([0.5, 0.75, 1, 1.25, 1.5, 1.75, 1.75, 2, 2.25, 2.5, 2.75, 3, 3.25, 3.5, 4, 4.25, 4.5, 4.75, 5, 5.5])
passed = np.array([0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1])
X = hours.reshape(-1, 1)

clf = TorchLogisticClassifier(C=np.inf, dtype="float64", tol=1e-8).fit(X, passed)
ref = LogisticRegression(C=np.inf, tol=1e-8).fit(X, passed)
boundary = -clf.intercept_[0] / clf.coef_[0, 0]
print(f"torchlogit: coef {clf.coef_[0, 0]:.4f}, intercept {clf.intercept_[0]:.4f}")
print(f"sklearn:    coef {ref.coef_[0, 0]:.4f}, intercept {ref.intercept_[0]:.4f}")
print(f"50% chance of passing after {boundary:.2f} hours")

# %%
# The logistic curve
# ------------------
grid = np.linspace(0, 6, 300).reshape(-1, 1)
fig, ax = plt.subplots(figsize=(7, 4))
ax.scatter(hours, passed, c=passed, cmap="coolwarm", edgecolor="k", zorder=3, label="students")
ax.plot(grid, clf.predict_proba(grid)[:, 1], lw=2, label="TorchLogisticClassifier")
ax.plot(grid, ref.predict_proba(grid)[:, 1], "k:", lw=2, label="LogisticRegression")
ax.axhline(0.5, color="grey", lw=1, ls="--")
ax.axvline(boundary, color="grey", lw=1, ls="--")
ax.set(xlabel="hours studied", ylabel="P(pass)", title="Probability of passing the exam")
ax.legend(loc="lower right")  # the lower right is empty: every student past 4 hours passed
plt.show()

# %%
# The uncertainty of the slope
# ----------------------------
# :meth:`~torchlogit.TorchLogisticClassifier.summary` gives standard errors and
# intervals (pandas needed): with twenty students, the slope is clearly positive.
print(clf.summary(X, passed))
