"""
Training curves from the training history
==========================================

Every fit keeps its training history in ``history_``, a list of plain dicts: one per L-BFGS
iteration, or per epoch for the mini-batch solvers (``loss_curve_`` holds the objective
alone, as ``MLPClassifier``'s does, and is what a pickle keeps). Here the objective of L-BFGS and the training loss
of Adam, epoch by epoch, on the same problem, with the optimum (scikit-learn's newton-cholesky, tight tolerance)
for reference.
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler

from torchlogit import TorchLogisticClassifier

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)

lbfgs = TorchLogisticClassifier(C=1.0, solver="lbfgs", max_iter=200).fit(X, y)
with warnings.catch_warnings():
    # Adam is stopped after 40 epochs on purpose, before its own stopping rule fires.
    warnings.simplefilter("ignore", ConvergenceWarning)
    adam = TorchLogisticClassifier(C=1.0, solver="adam", learning_rate_init=0.01, max_iter=40, random_state=0)
    adam.fit(X, y)
print(f"L-BFGS: {lbfgs.n_iter_[0]} iterations; Adam: {adam.n_iter_[0]} epochs")
print("columns of an L-BFGS history row:", sorted(lbfgs.history_[-1]))

# %%
# The curves
# ----------
# Both curves are the penalised objective (Adam's is the mean over the epoch's
# mini-batches). The dotted line is the objective at the optimum, from scikit-learn's
# newton-cholesky at a tight tolerance (its default-tolerance L-BFGS stops, as ours does,
# once the gradient is below 1e-4: 0.06320 here, 5e-5 above the optimum).
reference = LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-10).fit(X, y)
optimum = log_loss(y, reference.predict_proba(X)) + np.sum(reference.coef_**2) / (2 * 1.0 * len(y))
print(f"objective at the optimum:            {optimum:.5f}")
print(f"L-BFGS final objective:              {lbfgs.history_[-1]['objective']:.5f}")

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
axes[0].semilogy(lbfgs.loss_curve_, marker=".", label="L-BFGS")
axes[0].semilogy(adam.loss_curve_, marker=".", label="Adam")
axes[0].axhline(optimum, color="k", ls=":", label="optimum")
axes[0].set(xlabel="epoch (L-BFGS: iteration)", ylabel="objective", title="Objective per epoch")
axes[0].legend()
axes[1].semilogy([row["grad_max"] for row in lbfgs.history_], marker=".")
axes[1].axhline(lbfgs.tol, color="grey", ls="--", label="tol")
axes[1].set(xlabel="iteration", ylabel="max |gradient|", title="L-BFGS stops at max |gradient| <= tol")
axes[1].legend()
plt.tight_layout()
plt.show()
