"""The training objective, as pure functions of tensors.

With per-sample weights ``s_i`` (sample_weight times class_weight), ``S = sum_i s_i``
and per-sample log-loss ``l_i``::

    objective = (1/S) sum_i s_i l_i + 1/(C S) * ((1 - l1_ratio)/2 ||W||_2^2 + l1_ratio ||W||_1)

which is scikit-learn's ``LogisticRegression`` objective. Sums are accumulated in
float64 whatever the compute dtype: L-BFGS compares objective values in its line
search, and float32 sums over many samples would stall it early.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._kernels import chunk_values, linear_scores, transposed_product
from ._threads import data_values

LOSS_KINDS = ("binary", "multinomial", "multilabel")
# From this many values of X (rows x columns, or a sparse X's stored values) on, an evaluation at W = 0 skips
# the product X @ W.
_COLD_START_VALUES = 1 << 16


def weighted_log_loss_mean(logits, target, weight, weight_sum, kind, pos_weight=None):
    """``sum_i (weight_i / weight_sum) * l_i`` in float64, from logits, with the stable formulations.

    The weights are divided by :func:`weight_unit` before they weigh the losses (exactly: the mean is the one of
    the weights as given): a float32 weight near the top of its range (2e38) times a loss above 1.7 overflowed.

    Parameters
    ----------
    logits : Tensor of shape (n, n_outputs)
    target : Tensor
        binary: (n,) floats in {0, 1}; multinomial: (n,) class indices (int64);
        multilabel: (n, n_labels) floats in {0, 1}.
    weight : Tensor of shape (n,)
    weight_sum : float
    kind : {"binary", "multinomial", "multilabel"}
    pos_weight : Tensor of shape (n_labels,), optional
        Multilabel only: weight of the positive term of each label.
    """
    if kind == "binary":
        losses = F.binary_cross_entropy_with_logits(logits[:, 0], target, reduction="none")
    elif kind == "multinomial":
        losses = F.cross_entropy(logits, target, reduction="none")
    elif kind == "multilabel":
        losses = F.binary_cross_entropy_with_logits(logits, target, pos_weight=pos_weight, reduction="none").sum(dim=1)
    else:  # pragma: no cover - guarded by the estimators
        raise ValueError(f"unknown loss kind {kind!r}; expected one of {LOSS_KINDS}")
    unit = weight_unit(weight_sum)
    return torch.sum(losses * (weight * (1.0 / unit)), dtype=torch.float64) / (weight_sum / unit)


def weight_unit(weight_sum):
    """A power of two within a factor 2 of ``weight_sum`` (clipped to float32's normal range) that the weights are
    divided by before they weigh the losses.

    A float32 weight near the top of its range (2e38) times a loss above 1.7 overflowed: the objective was
    infinite at some trial points, L-BFGS stopped short of the optimum or refused a warm start, the mini-batch
    solvers "diverged". Divided by this power of two, every weight is at most 4, and exactly so (no rounding: the
    values and gradients are bitwise those computed from the weights as given, where those were finite).
    """
    return math.ldexp(1.0, min(max(math.frexp(weight_sum)[1], -126), 126))


def penalty(weights, l1_ratio):
    """``(1 - l1_ratio)/2 * sum ||W||_2^2 + l1_ratio * sum ||W||_1`` over ``weights``, in float64.

    The terms are summed from the first, not from a zero tensor: a linear model's penalty is then three
    operations, inside every objective evaluation (the sum is the same to the bit: ``0 + a == a``).
    """
    terms = []
    for W in weights:
        if l1_ratio < 1:
            terms.append((1 - l1_ratio) / 2 * torch.sum(W * W, dtype=torch.float64))
        if l1_ratio > 0:
            terms.append(l1_ratio * torch.sum(W.abs(), dtype=torch.float64))
    if not terms:
        return torch.zeros((), dtype=torch.float64, device=weights[0].device)
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def objective(logits, target, weight, weights, *, kind, C, l1_ratio, weight_sum, batch_fraction=1.0, pos_weight=None):
    """The full objective (or its unbiased mini-batch estimate when ``batch_fraction < 1``).

    ``batch_fraction`` is ``len(batch) / n_samples``: the data term of a batch is scaled
    up by its inverse so that its expectation over batches is the full data term.

    The L1 part of the penalty is in the value but carries no gradient: it is not
    differentiable at zero, and the solvers handle it themselves (OWL-QN for L-BFGS, a
    proximal step for the mini-batch solvers).
    """
    data = weighted_log_loss_mean(logits, target, weight, weight_sum * batch_fraction, kind, pos_weight)
    if math.isinf(C):
        return data
    smooth = penalty(weights, 0.0) * (1 - l1_ratio) if l1_ratio < 1 else 0.0
    value = data + smooth / (C * weight_sum)
    if l1_ratio > 0:
        value = value + (l1_ratio * l1_norm(weights) / (C * weight_sum)).detach()
    return value


def l1_norm(weights):
    """``sum ||W||_1`` over ``weights``, in float64."""
    return sum(torch.sum(W.abs(), dtype=torch.float64) for W in weights)


def l1_strength(C, l1_ratio, weight_sum):
    """The coefficient of ``||W||_1`` in the objective: ``l1_ratio / (C S)`` (0 without penalty)."""
    return 0.0 if math.isinf(C) or l1_ratio == 0 else l1_ratio / (C * weight_sum)


# Weights scaled by k are C scaled by k (scikit-learn's objective: sum of weighted losses + penalty / C).
_SAME_MODEL = (
    "The same model comes from sample_weight / k with C * k (or Cs * k): divide the weights by k (their mean, "
    "say) and multiply C by k"
)


def check_weight_scale(weight_sum, Cs, largest=None, dtype=None, l1_ratio=0.0, smallest=None, n_rows=None):
    """A ValueError in the user's terms when the weights' sum ``S`` leaves float64's range, ``1 / (C S)``
    (the penalty's scale) overflows for any of ``Cs``, the ``largest`` (merged) row weight overflows the
    training ``dtype`` (float32: 3.4e38; a float32 fit then met an infinite weight and blamed the features),
    or, with an L1 part, its strength ``l1_ratio / (C S)``, which the solvers hold in the training dtype,
    overflows it (float32 at C=1e-42: torch's "value cannot be converted to type float without overflow").

    ``smallest``: the smallest positive weight, of ``n_rows`` rows: below the dtype's normal range (float32:
    1.2e-38) a weight loses its digits or becomes zero in the cast, and the fit trained on other weights than
    the user's (1e-40 for every row on dask: an intercept of 0 and a line-search failure; 1e-44 in memory: 1%
    from the optimum, silently, as 1e-44 is 9.8e-45 in float32). Refused only where such weights carry most of
    the sum (below ``n_rows * tiny / 2``): a few tiny weights beside ordinary ones change nothing the dtype's own
    rounding does not.

    As in scikit-learn, weights scaled by ``k`` give the model of ``C`` scaled by ``k`` (the data term grows, the
    penalty does not): the advice is to divide the weights by ``k`` and multiply ``C`` by ``k``, which gives the
    same model. The objective divides by ``S``: weights summing
    to 1e308 or more overflowed it and weights of 5e-324 underflowed it, and the fit failed with a message
    blaming large feature values (or a ZeroDivisionError in the cross-validated path).
    """
    S = float(weight_sum)
    top = None if dtype is None else torch.finfo(dtype).max
    Cs = [float(C) for C in Cs]  # Python floats: a NumPy C's overflow would also warn (RuntimeWarning)
    small = [C for C in Cs if math.isfinite(C) and not (C * S > 0 and 1 / (C * S) < math.inf)]
    advice = ""
    if not math.isfinite(S):
        problem = f"sum to {S:.3g}, beyond float64's range"
    elif S < np.finfo(np.float64).tiny:
        problem = f"sum to {S:.3g}, below float64's normal range"
    elif top is not None and largest is not None and float(largest) > top:
        name = str(dtype).removeprefix("torch.")
        problem = f"reach {float(largest):.3g}, beyond the range of the training dtype {name} ({top:.3g})"
        advice = ", or fit with dtype='float64'"
    elif small:
        # C S is what the model depends on (weights / k with C * k is the same model): rescaling cannot help here.
        bound = (1 / np.finfo(np.float64).max) / S
        raise ValueError(
            f"At C={small[0]!r}, with sample weights (times the class weights) summing to S={S:.3g}, the penalty's "
            f"scale 1 / (C S) overflows float64: so small a C S makes every coefficient zero (the penalty outweighs "
            f"any data). Use C > {bound:.3g}, or larger sample weights for a stronger data term."
        )
    elif top is not None and l1_ratio > 0 and any(math.isfinite(C) and l1_ratio / (C * S) > top for C in Cs):
        C = next(C for C in Cs if math.isfinite(C) and l1_ratio / (C * S) > top)
        name = str(dtype).removeprefix("torch.")
        # Rescaling the weights by k and C by 1/k keeps C S, and so this strength: only the dtype (or C) helps.
        raise ValueError(
            f"At C={C:g} with sample weights (times the class weights) summing to {S:.3g}, the L1 penalty's "
            f"strength l1_ratio / (C S) = {l1_ratio / (C * S):.3g} is beyond the range of the training dtype {name} "
            f"({top:.3g}). Fit with dtype='float64', or a larger C."
        )
    elif (  # last: the problems of C S above, which rescaling cannot mend, are named first
        dtype is not None
        and smallest is not None
        and float(smallest) < torch.finfo(dtype).tiny
        and S < n_rows * torch.finfo(dtype).tiny / 2
    ):
        name, tiny = str(dtype).removeprefix("torch."), torch.finfo(dtype).tiny
        problem = f"go down to {float(smallest):.3g}, below the normal range of the training dtype {name} ({tiny:.3g})"
        advice = ", or fit with dtype='float64'"
    else:
        return
    raise ValueError(f"The sample weights (times the class weights) {problem}. {_SAME_MODEL}{advice}.")


def l2_strength(C, l1_ratio, weight_sum):
    """The coefficient of ``||W||_2^2 / 2`` in the objective: ``(1 - l1_ratio) / (C S)`` (0 without penalty)."""
    return 0.0 if math.isinf(C) else (1 - l1_ratio) / (C * weight_sum)


class RegularizedLogLoss(nn.Module):
    """skorch criterion: the objective above, with its constants bound at fit time."""

    def __init__(self, kind, C, l1_ratio, weight_sum, n_samples, pos_weight=None):
        super().__init__()
        self.kind = kind
        self.C = float(C)
        self.l1_ratio = float(l1_ratio)
        self.weight_sum = float(weight_sum)
        self.n_samples = int(n_samples)
        self.pos_weight = pos_weight

    def linear_step(self, module, X, target, weight):
        """Objective of a :class:`~torchlogit._modules.LinearLogits` with its gradient stored in ``.grad``."""
        linear = module.linear
        value, logits, grad_W, grad_b = linear_objective_and_gradient(
            X, linear.weight, linear.bias, target, weight, **self._constants(X.shape[0])
        )
        # A parameter with requires_grad=False (skorch's Freezer) gets no gradient, as autograd would give it: the
        # optimizers skip it (torch's) or hold it still (L-BFGS reads a missing gradient as zero).
        linear.weight.grad = grad_W if linear.weight.requires_grad else None
        if grad_b is not None:
            linear.bias.grad = grad_b if linear.bias.requires_grad else None
        return value, logits

    def forward(self, logits, target, weight, weights):
        return objective(logits, target, weight, weights, **self._constants(logits.shape[0]))

    @property
    def l1_strength(self):
        return l1_strength(self.C, self.l1_ratio, self.weight_sum)

    @property
    def l2_strength(self):
        return l2_strength(self.C, self.l1_ratio, self.weight_sum)

    def _constants(self, n_rows):
        return dict(
            kind=self.kind,
            C=self.C,
            l1_ratio=self.l1_ratio,
            weight_sum=self.weight_sum,
            batch_fraction=n_rows / self.n_samples,
            pos_weight=self.pos_weight,
        )


def linear_objective_and_gradient(
    X, weight_matrix, bias, target, weight, *, kind, C, l1_ratio, weight_sum, batch_fraction=1.0, pos_weight=None
):
    """Objective and its gradient for a linear model, in closed form (two passes over ``X``, no autograd).

    The logits are ``X @ weight_matrix.T + bias``. Returns ``(objective, logits, grad_W,
    grad_b)``; ``grad_b`` is None without a bias. As in :func:`objective`, the value has
    the whole penalty and the gradient leaves the L1 part out.

    A dense ``X`` with several outputs is computed output-major: the logits as
    ``W @ X.T`` (shape ``(K, n)``) and the gradient as ``R @ X``. With MKL on the CPU,
    products whose result has only K (3 to 10) columns, ``X @ W.T`` and ``X.T @ R``,
    ran 2-6x slower than the same products with K rows (one thread, 2026-12-04: logits
    of 100k x 50 x 10 in 7.6 instead of 15-20 ms, the gradient in 10 instead of 67 ms),
    and the softmax's reductions over the outputs become element-wise over rows of n
    values. One evaluation of that multinomial objective went 103 -> 27 ms. A GPU's GEMM
    takes either order at the same cost.
    """
    W = weight_matrix.detach()
    outputs_first = X.layout == torch.strided and W.shape[0] > 1
    axis = 0 if outputs_first else 1  # the outputs' axis of `scores`
    if W.device.type == "cpu" and data_values(X) >= _COLD_START_VALUES and not W.any():
        # A cold start (every fit without warm_start begins at zero): the logits are the bias alone,
        # and the pass over X that would compute them is skipped (one of the 12 passes of a sparse
        # 200k x 5000 fit). Only checked on the CPU: on a device the check would wait for the device.
        # Nor on small data, where the check costs as much as the pass it saves.
        shape = (W.shape[0], X.shape[0]) if outputs_first else (X.shape[0], W.shape[0])
        scores = torch.zeros(shape, dtype=W.dtype, device=W.device)
        if bias is not None:
            scores += bias.detach().unsqueeze(1) if outputs_first else bias.detach()
    elif outputs_first:
        scores = W @ X.T if bias is None else torch.addmm(bias.detach().unsqueeze(1), W, X.T)
    else:
        scores = linear_scores(X, W)  # dense or sparse X
        if bias is not None:
            scores = scores + bias.detach()
    scale = 1.0 / (weight_sum * batch_fraction)
    # Every branch's losses and residual are fresh temporaries, updated in place from here on: small fits
    # spend their time in per-call costs, and each operation that allocates adds to them.
    if kind == "binary":
        z = scores[:, 0]
        losses = F.binary_cross_entropy_with_logits(z, target, reduction="none")
        residual = torch.sigmoid(z).sub_(target).unsqueeze(1)
    elif kind == "multinomial":
        # The stable softmax composed by hand: torch's log_softmax over a short last
        # dimension is ~3x slower than these five element-wise passes on the CPU.
        labels = target.unsqueeze(axis)
        shift = scores.amax(dim=axis, keepdim=True)
        residual = (scores - shift).exp_()
        total = residual.sum(dim=axis, keepdim=True)
        losses = (total.log() + shift).reshape(-1) - scores.gather(axis, labels).reshape(-1)
        residual.div_(total)  # the probabilities; minus the one-hot target below
        residual.scatter_add_(axis, labels, torch.full_like(total, -1.0))
    else:
        if outputs_first:
            # Contiguous in the scores' (outputs, rows) layout: the element-wise passes over a transposed view
            # walked memory across rows (p - target 7x slower at 20k x 2000 labels). A full batch's label matrix
            # is laid out so already (._data.training_batch): no copy then.
            target = target.T.contiguous()
            pos_weight = None if pos_weight is None else pos_weight.unsqueeze(1)
        losses = label_losses(scores, target, pos_weight, axis)
        residual = torch.sigmoid(scores)
        if pos_weight is None:
            residual.sub_(target)  # in place: one n x L temporary fewer
        else:  # d/dz of BCE with pos_weight: p * (1 + (pw - 1) y) - pw y, in place beside one temporary
            factor = torch.mul(target, pos_weight - 1).add_(1)
            residual.mul_(factor).sub_(torch.mul(target, pos_weight, out=factor))
    unit = weight_unit(weight_sum * batch_fraction)  # the weights over it cannot overflow their losses' products
    row_scale = weight * (1.0 / unit)
    value = torch.sum(losses.mul_(row_scale), dtype=torch.float64) * (scale * unit)
    row_scale = row_scale.mul_(scale * unit).to(residual.dtype)  # weight * scale, bitwise
    if outputs_first:
        residual.mul_(row_scale)
        grad_W = residual @ X
        grad_b = residual.sum(1) if bias is not None else None
    else:
        residual.mul_(row_scale.unsqueeze(1))
        grad_W = transposed_product(X, residual).T  # one output: a vector product (see transposed_product)
        grad_b = residual.sum(0) if bias is not None else None
    value, grad_W = add_penalty(value, grad_W, weight_matrix, C=C, l1_ratio=l1_ratio, weight_sum=weight_sum)
    logits = scores.T if outputs_first else scores
    return value, logits, grad_W, grad_b


def label_losses(scores, target, pos_weight, axis):
    """Each row's BCE-with-logits summed over its labels (``axis`` of ``scores``: 0 for the outputs-first layout).

    A block of rows at a time: torch's BCE-with-logits makes three temporaries the size of its input
    (the log-sigmoid, its buffer, ``1 - target``), and on 20k rows x 2000 labels those 480 MB beside the
    scores were the peak of the fit. Each row is summed over all its labels at once, as one call sums it.
    """
    n_rows, n_labels = scores.shape[1 - axis], scores.shape[axis]
    step = max(1, chunk_values(scores.device) // max(n_labels, 1))
    if step >= n_rows:
        return F.binary_cross_entropy_with_logits(scores, target, pos_weight=pos_weight, reduction="none").sum(axis)
    losses = torch.empty(n_rows, dtype=scores.dtype, device=scores.device)
    for start in range(0, n_rows, step):
        rows = slice(start, start + step)
        block = (slice(None), rows) if axis == 0 else (rows, slice(None))
        losses[rows] = F.binary_cross_entropy_with_logits(
            scores[block], target[block], pos_weight=pos_weight, reduction="none"
        ).sum(axis)
    return losses


def add_penalty(value, grad_W, weight_matrix, *, C, l1_ratio, weight_sum):
    """The penalty added to a data term's value and gradient (the L1 part to the value only, as above)."""
    if math.isinf(C):
        return value, grad_W
    W = weight_matrix.detach()
    value = value + penalty([W], l1_ratio) / (C * weight_sum)
    if l1_ratio < 1:
        grad_W = grad_W.add_(W * l2_strength(C, l1_ratio, weight_sum))  # the caller's fresh tensor: no copy
    return value, grad_W
