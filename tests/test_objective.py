"""The objective equals scikit-learn's LinearModelLoss, value and gradient."""

import numpy as np
import pytest
import torch
from sklearn._loss.loss import HalfBinomialLoss, HalfMultinomialLoss
from sklearn.linear_model._linear_loss import LinearModelLoss

from torchlogit._objective import objective, penalty


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("C", [0.1, 10.0, np.inf])
def test_objective_and_gradient_equal_sklearn_linear_model_loss(n_classes, C):
    """Equals LinearModelLoss(...).loss_gradient with l2_reg_strength = 1 / (C * S), to 1e-12."""
    rng = np.random.RandomState(0)
    n, d = 50, 6
    X = rng.randn(n, d)
    y = rng.randint(0, n_classes, n).astype(np.float64)
    sw = rng.uniform(0.2, 2.0, n)
    S = sw.sum()
    k = 1 if n_classes == 2 else n_classes
    W, b = rng.randn(k, d), rng.randn(k)

    loss = HalfBinomialLoss() if n_classes == 2 else HalfMultinomialLoss(n_classes=n_classes)
    reference = LinearModelLoss(base_loss=loss, fit_intercept=True)
    coef = np.column_stack([W, b]) if k > 1 else np.r_[W[0], b]
    l2 = 0.0 if np.isinf(C) else 1.0 / (C * S)
    ref_value, ref_grad = reference.loss_gradient(coef, X, y, sample_weight=sw / S * S, l2_reg_strength=l2)

    Wt = torch.tensor(W, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    target = torch.tensor(y) if n_classes == 2 else torch.tensor(y, dtype=torch.int64)
    value = objective(
        torch.tensor(X) @ Wt.T + bt,
        target,
        torch.tensor(sw),
        [Wt],
        kind="binary" if n_classes == 2 else "multinomial",
        C=C,
        l1_ratio=0.0,
        weight_sum=S,
    )
    value.backward()
    ours_grad = np.column_stack([Wt.grad.numpy(), bt.grad.numpy()])
    assert value.item() == pytest.approx(ref_value, rel=1e-12)
    np.testing.assert_allclose(
        ours_grad.ravel() if k == 1 else ours_grad,
        np.ravel(ref_grad) if k == 1 else ref_grad,
        rtol=1e-10,
        atol=1e-12,
    )


def test_penalty_mixes_l1_and_l2():
    W = [torch.tensor([[1.0, -2.0]]), torch.tensor([[3.0]])]
    assert penalty(W, 0.0).item() == pytest.approx(0.5 * (1 + 4 + 9))
    assert penalty(W, 1.0).item() == pytest.approx(6.0)
    assert penalty(W, 0.25).item() == pytest.approx(0.75 * 0.5 * 14 + 0.25 * 6)


def test_minibatch_objective_is_an_unbiased_estimate():
    """Averaged over a partition into batches, the batch objectives equal the full objective."""
    rng = np.random.RandomState(1)
    X, y, w = (
        torch.tensor(rng.randn(40, 3)),
        torch.tensor(rng.randint(0, 2, 40) * 1.0),
        torch.tensor(rng.rand(40)),
    )
    W = torch.tensor(rng.randn(1, 3))
    full = objective(X @ W.T, y, w, [W], kind="binary", C=1.0, l1_ratio=0.0, weight_sum=float(w.sum()))
    parts = [
        objective(
            X[i : i + 10] @ W.T,
            y[i : i + 10],
            w[i : i + 10],
            [W],
            kind="binary",
            C=1.0,
            l1_ratio=0.0,
            weight_sum=float(w.sum()),
            batch_fraction=10 / 40,
        )
        for i in range(0, 40, 10)
    ]
    assert torch.stack(parts).mean().item() == pytest.approx(full.item(), rel=1e-12)


def test_losses_are_stable_for_extreme_logits():
    logits = torch.tensor([[1e4], [-1e4]], dtype=torch.float32)
    value = objective(
        logits,
        torch.tensor([0.0, 1.0]),
        torch.ones(2),
        [torch.zeros(1, 1)],
        kind="binary",
        C=np.inf,
        l1_ratio=0.0,
        weight_sum=2.0,
    )
    assert np.isfinite(value.item()) and value.item() == pytest.approx(1e4)


@pytest.mark.parametrize("kind", ["binary", "multinomial", "multilabel", "multilabel_pos_weight"])
@pytest.mark.parametrize("C", [0.5, np.inf])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("start", ["random", "zero"])
@pytest.mark.parametrize("layout", ["dense", "sparse"])
def test_closed_form_linear_gradient_equals_autograd(kind, C, bias, start, layout):
    """linear_objective_and_gradient equals autograd through `objective`, to 1e-12 (float64).

    Dense X with several outputs is computed output-major, sparse X row-major, and zero weights (a cold
    start) skip the product for the logits: each route gives the same value, logits and gradients.
    """
    from torchlogit._objective import linear_objective_and_gradient

    rng = np.random.RandomState(3)
    n, d = 40, 5
    k = {"binary": 1, "multinomial": 4}.get(kind, 3)
    X = torch.tensor(rng.randn(n, d))
    if kind == "binary":
        target = torch.tensor(rng.randint(0, 2, n) * 1.0)
    elif kind == "multinomial":
        target = torch.tensor(rng.randint(0, k, n))
    else:
        target = torch.tensor(rng.randint(0, 2, (n, k)) * 1.0)
    pos_weight = torch.tensor(rng.uniform(0.5, 3, k)) if kind == "multilabel_pos_weight" else None
    loss_kind = "multilabel" if kind.startswith("multilabel") else kind
    weight = torch.tensor(rng.uniform(0.1, 2, n))
    W = torch.tensor(rng.randn(k, d) * (start == "random"), requires_grad=True)
    b = torch.tensor(rng.randn(k), requires_grad=True) if bias else None
    common = dict(kind=loss_kind, C=C, l1_ratio=0.0, weight_sum=7.0, batch_fraction=0.5, pos_weight=pos_weight)
    X_in = X.to_sparse_csr() if layout == "sparse" else X
    value, logits, grad_W, grad_b = linear_objective_and_gradient(X_in, W, b, target, weight, **common)
    expected_logits = X @ W.T + (b if bias else 0)
    reference = objective(expected_logits, target, weight, [W], **common)
    reference.backward()
    assert logits.shape == (n, k)
    np.testing.assert_allclose(logits.numpy(), expected_logits.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert value.item() == pytest.approx(reference.item(), rel=1e-12)
    np.testing.assert_allclose(grad_W.numpy(), W.grad.numpy(), rtol=1e-10, atol=1e-12)
    if bias:
        np.testing.assert_allclose(grad_b.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)
    else:
        assert grad_b is None
