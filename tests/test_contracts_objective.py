"""The hidden-layer model minimises MLPClassifier's objective with ``alpha = 1 / C``, biases unpenalised.

scikit-learn's ``MLPClassifier`` (1.9) minimises ``(1/S) sum_i s_i l_i + alpha / (2 S) sum ||W||^2``
over its weight matrices only (``S`` the sum of the sample weights), the objective
``TorchMultiLabelClassifier`` documents with ``alpha = 1 / C``. A full-batch L-BFGS fit to a tight
``tol`` must therefore land on a stationary point of MLPClassifier's objective: its gradient,
computed by ``MLPClassifier._backprop`` at our fitted ``coefs_`` and ``intercepts_``, vanishes.
A penalty on the biases, a penalty scaled by the row count instead of the weight sum, or a
weight dropped from the data term moves the fitted point off it. ``pos_weight`` has no
MLPClassifier counterpart: there the reference is the objective written out in torch, with
torch's documented ``pos_weight`` term.
"""

import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from torchlogit import TorchMultiLabelClassifier

# Weak enough that the fitted weights are far from 0 (W = 0 is a stationary point of every penalty).
C = 5.0
HIDDEN = dict(hidden_layer_sizes=(3,), activation="tanh", solver="lbfgs", C=C, dtype="float64", tol=1e-9, max_iter=5000)


def _multilabel():
    X, Y = make_multilabel_classification(n_samples=80, n_features=4, n_classes=3, random_state=0)
    return StandardScaler().fit_transform(X), Y


def _multiclass():
    X, y = make_classification(n_samples=80, n_features=4, n_informative=3, n_redundant=0, n_classes=3, random_state=0)
    return X, y


def _mlp_gradient(clf, X, y, sample_weight):
    """Gradient of MLPClassifier's objective (alpha = 1/C) at ``clf``'s parameters, flattened."""
    mlp = MLPClassifier(hidden_layer_sizes=(3,), activation="tanh", alpha=1 / C, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X, y, sample_weight=sample_weight)  # sets up the layers and the label binarizer
    assert [c.shape for c in mlp.coefs_] == [c.shape for c in clf.coefs_]
    mlp.coefs_ = [c.copy() for c in clf.coefs_]
    mlp.intercepts_ = [b.copy() for b in clf.intercepts_]
    target = mlp._label_binarizer.transform(y)
    activations = [X] + [None] * (len(mlp.coefs_))
    deltas = [None] * len(mlp.coefs_)
    coef_grads = [np.empty_like(c) for c in mlp.coefs_]
    intercept_grads = [np.empty_like(b) for b in mlp.intercepts_]
    loss, coef_grads, intercept_grads = mlp._backprop(
        X, target, sample_weight, activations, deltas, coef_grads, intercept_grads
    )
    return loss, np.concatenate([g.ravel() for g in coef_grads]), np.concatenate([g.ravel() for g in intercept_grads])


@pytest.mark.parametrize("data", [_multilabel, _multiclass], ids=["multilabel", "multiclass"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
def test_hidden_layer_fit_is_a_stationary_point_of_mlpclassifier_objective(data, weighted):
    X, y = data()
    sample_weight = np.random.RandomState(1).randint(1, 5, len(X)).astype(np.float64) if weighted else None
    clf = TorchMultiLabelClassifier(**HIDDEN, random_state=0).fit(X, y, sample_weight=sample_weight)
    loss, grad_W, grad_b = _mlp_gradient(clf, X, y, sample_weight)
    # tol=1e-9 bounds our gradient; MLPClassifier's equals it up to rounding (and the
    # curvature of a non-convex fit stopped by ftol: ~1e-7 here).
    assert np.abs(grad_W).max() < 1e-6, grad_W
    assert np.abs(grad_b).max() < 1e-6, grad_b  # a penalty on the biases would leave -b / (C S) here
    # Not the trivial stationary point W = 0, and biases far from zero (so penalising them matters).
    assert min(np.abs(c).max() for c in clf.coefs_) > 0.5
    assert max(np.abs(b).max() for b in clf.intercepts_) > 0.1


def _objective_in_torch(params, X, Y, s, pos_weight):
    """(1/S) sum_i s_i sum_l BCE_pw(z_il, y_il) + 1/(2 C S) (||W1||^2 + ||W2||^2), written out."""
    W1, b1, W2, b2 = params
    Z = torch.tanh(X @ W1 + b1) @ W2 + b2
    log_p, log_not_p = torch.nn.functional.logsigmoid(Z), torch.nn.functional.logsigmoid(-Z)
    losses = -(pos_weight * Y * log_p + (1 - Y) * log_not_p).sum(dim=1)  # torch's pos_weight definition
    S = s.sum()
    return (s * losses).sum() / S + ((W1**2).sum() + (W2**2).sum()) / (2 * C * S)


def test_hidden_layer_fit_with_pos_weight_is_a_stationary_point_of_the_written_out_objective():
    X, Y = _multilabel()
    s = np.random.RandomState(2).randint(1, 5, len(X)).astype(np.float64)
    pos_weight = np.array([0.5, 2.0, 3.0])
    clf = TorchMultiLabelClassifier(**HIDDEN, pos_weight=pos_weight, random_state=0).fit(X, Y, sample_weight=s)
    params = [
        torch.tensor(a, dtype=torch.float64, requires_grad=True)
        for a in (clf.coefs_[0], clf.intercepts_[0], clf.coefs_[1], clf.intercepts_[1])
    ]
    as_t = lambda a: torch.as_tensor(a, dtype=torch.float64)  # noqa: E731
    value = _objective_in_torch(params, as_t(X), as_t(Y), as_t(s), as_t(pos_weight))
    value.backward()
    for p in params:
        assert float(p.grad.abs().max()) < 1e-6, p.grad
    assert min(np.abs(c).max() for c in clf.coefs_) > 0.5


@pytest.mark.parametrize("pos_weight", [[1.0, -0.5, 2.0], [1.0, np.nan, 1.0], [1.0, np.inf, 1.0], [1.0, 2.0]])
def test_invalid_pos_weight_is_refused_and_a_fitted_model_kept(pos_weight):
    X, Y = _multilabel()
    clf = TorchMultiLabelClassifier().fit(X, Y)
    coef = clf.coef_.copy()
    with pytest.raises(ValueError, match="pos_weight must hold one finite, non-negative weight per label"):
        clf.set_params(pos_weight=pos_weight).fit(X, Y)
    np.testing.assert_array_equal(clf.coef_, coef)
