"""Multinomial ``summary`` with class weights and sample weights, for every covariance type.

References: statsmodels' ``MNLogit`` on the rows repeated ``sample_weight x class_weight`` times
(integers) for the estimate and the nonrobust covariance (the class weight scales each row's
loss, so the point and the Hessian are those of the repeated rows), and the sandwich written
out in NumPy in the K-1 contrasts with ``classes_[0]`` (statsmodels' parameters) for HC0 and
HC1, as ``summary`` documents them: ``H = sum_i f_i c_i H_i``, ``meat = sum_i f_i (c_i g_i)
(c_i g_i)^T`` with ``f`` the frequency (sample) weights, ``c`` the class weights and ``g_i`` the
score of row ``i``; HC1 multiplies HC0 by ``n / (n - k)``, ``n = sum_i f_i`` and ``k`` the number
of reported parameters, ``(K - 1) x (p + 1)``. A class weight missing from one term of the
Hessian, or ``k`` counted over all K classes, changes these figures.
"""

import numpy as np
import pytest

sm = pytest.importorskip("statsmodels.api")
from sklearn.datasets import make_classification  # noqa: E402

from torchlogit import TorchLogisticClassifier  # noqa: E402

CLASS_WEIGHT = {0: 1, 1: 2, 2: 3}


@pytest.fixture(scope="module")
def weighted_fit():
    X, y = make_classification(
        n_samples=150, n_features=3, n_informative=3, n_redundant=0, n_classes=3, flip_y=0.2, random_state=0
    )
    f = np.random.RandomState(0).randint(1, 4, len(y)).astype(np.float64)
    c = np.array([CLASS_WEIGHT[k] for k in y], dtype=np.float64)
    repeats = (f * c).astype(int)
    ref = sm.MNLogit(np.repeat(y, repeats), sm.add_constant(np.repeat(X, repeats, axis=0))).fit(
        method="newton", disp=0, maxiter=100
    )
    clf = TorchLogisticClassifier(C=np.inf, class_weight=CLASS_WEIGHT, dtype="float64", tol=1e-8).fit(
        X, y, sample_weight=f
    )
    return X, y, f, c, ref, clf


def _sandwich(X, y, f, c, theta):
    """(H, meat) in the K-1 contrast parameters ``theta`` of shape (K-1, d), class-major."""
    Xa = np.column_stack([np.ones(len(X)), X])
    n, d = Xa.shape
    Z = np.column_stack([np.zeros(n), Xa @ theta.T])
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    p = P[:, 1:]
    Y = np.eye(theta.shape[0] + 1)[y][:, 1:]
    scores = ((Y - p)[:, :, None] * Xa[:, None, :]).reshape(n, -1)
    H = np.zeros((scores.shape[1],) * 2)
    for i in range(n):
        curvature = np.diag(p[i]) - np.outer(p[i], p[i])
        H += f[i] * c[i] * np.kron(curvature, np.outer(Xa[i], Xa[i]))
    meat = (scores * (f * c**2)[:, None]).T @ scores
    return H, meat


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0", "HC1"])
def test_weighted_multinomial_summary_equals_the_references(weighted_fit, cov_type):
    X, y, f, c, ref, clf = weighted_fit
    table = clf.summary(X, y, sample_weight=f, cov_type=cov_type)
    theta = np.asarray(ref.params).T  # (K-1, d): statsmodels' columns are the non-reference classes
    np.testing.assert_allclose(table["coef"].to_numpy(), theta.ravel(), rtol=1e-6, atol=1e-8)
    H, meat = _sandwich(X, y, f, c, theta)
    H_inv = np.linalg.inv(H)
    if cov_type == "nonrobust":
        cov = H_inv
        # statsmodels on the repeated rows agrees with the written-out Hessian.
        np.testing.assert_allclose(np.asarray(ref.bse).T.ravel(), np.sqrt(np.diag(cov)), rtol=1e-6)
    else:
        cov = H_inv @ meat @ H_inv
        if cov_type == "HC1":
            n, k = f.sum(), theta.size
            cov = cov * n / (n - k)
    np.testing.assert_allclose(table["std_err"].to_numpy(), np.sqrt(np.diag(cov)), rtol=1e-6)


def test_hc1_factor_counts_reported_parameters_and_frequency_weights(weighted_fit):
    X, y, f, c, ref, clf = weighted_fit
    hc0 = clf.summary(X, y, sample_weight=f, cov_type="HC0")["std_err"].to_numpy()
    hc1 = clf.summary(X, y, sample_weight=f, cov_type="HC1")["std_err"].to_numpy()
    n, k = f.sum(), 2 * 4  # 2 contrasts x (intercept + 3 features)
    np.testing.assert_allclose(hc1**2 / hc0**2, n / (n - k), rtol=1e-10)
