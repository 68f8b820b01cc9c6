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

import inspect
import math
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
    """Gradient of MLPClassifier's objective (alpha = 1/C) at ``clf``'s parameters, flattened.

    MLPClassifier takes sample weights from scikit-learn 1.7 on; before that, integer weights are
    passed as repeated rows, which its objective (a mean over rows) weighs the same way exactly.
    """
    weights_taken = "sample_weight" in inspect.signature(MLPClassifier.fit).parameters
    weight_args = (sample_weight,) if weights_taken else ()
    if sample_weight is not None and not weights_taken:
        assert np.array_equal(sample_weight, np.round(sample_weight))
        rows = np.repeat(np.arange(len(X)), sample_weight.astype(int))
        X, y = X[rows], y[rows]
    mlp = MLPClassifier(hidden_layer_sizes=(3,), activation="tanh", alpha=1 / C, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X, y, *weight_args)  # sets up the layers and the label binarizer
    assert [c.shape for c in mlp.coefs_] == [c.shape for c in clf.coefs_]
    mlp.coefs_ = [c.copy() for c in clf.coefs_]
    mlp.intercepts_ = [b.copy() for b in clf.intercepts_]
    target = mlp._label_binarizer.transform(y)
    activations = [X] + [None] * (len(mlp.coefs_))
    deltas = [None] * len(mlp.coefs_)
    coef_grads = [np.empty_like(c) for c in mlp.coefs_]
    intercept_grads = [np.empty_like(b) for b in mlp.intercepts_]
    loss, coef_grads, intercept_grads = mlp._backprop(
        X, target, *weight_args, activations, deltas, coef_grads, intercept_grads
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


# --------------------------------------------------------------------------------------------------------------
# The pure functions of ``_objective`` against the objective written out in NumPy (float64), and their gradients
# against central finite differences of that reference: every kind, elastic net, pos_weight, mini-batch scaling.


def _reference_losses(Z, target, kind, pos_weight):
    """Per-sample log-loss from logits ``Z`` (n, k), the textbook formulas in float64."""
    if kind == "binary":
        z = Z[:, 0]
        return np.logaddexp(0.0, z) - target * z
    if kind == "multinomial":
        return np.logaddexp.reduce(Z, axis=1) - Z[np.arange(len(Z)), target]
    pw = np.ones(Z.shape[1]) if pos_weight is None else pos_weight
    # -pw y log(sigmoid(z)) - (1 - y) log(1 - sigmoid(z))
    return (pw * target * np.logaddexp(0.0, -Z) + (1 - target) * np.logaddexp(0.0, Z)).sum(axis=1)


def _reference_objective(W, b, X, target, s, *, kind, C, l1_ratio, S, fraction=1.0, pos_weight=None):
    Z = X @ W.T + (0.0 if b is None else b)
    value = (s * _reference_losses(Z, target, kind, pos_weight)).sum() / (S * fraction)
    if np.isfinite(C):
        value += ((1 - l1_ratio) / 2 * (W**2).sum() + l1_ratio * np.abs(W).sum()) / (C * S)
    return value


def _problem(kind, seed=0, n=30, d=4):
    rng = np.random.RandomState(seed)
    k = {"binary": 1, "multinomial": 3}.get(kind, 2)
    X = rng.randn(n, d)
    if kind == "binary":
        target = rng.randint(0, 2, n).astype(np.float64)
    elif kind == "multinomial":
        target = rng.randint(0, k, n)
    else:
        target = rng.randint(0, 2, (n, k)).astype(np.float64)
    # No coefficient near zero: the finite differences of |W| stay smooth.
    W = rng.uniform(0.3, 1.5, (k, d)) * rng.choice([-1.0, 1.0], (k, d))
    return X, target, rng.uniform(0.2, 3.0, n), W, rng.randn(k)


CASES = [
    ("binary", 0.7, 0.0, None),
    ("binary", 2.0, 0.3, None),
    ("binary", np.inf, 0.5, None),
    ("multinomial", 0.7, 0.0, None),
    ("multinomial", 1.5, 1.0, None),
    ("multinomial", 0.4, 0.6, None),
    ("multilabel", 0.9, 0.25, None),
    ("multilabel", 3.0, 0.0, [0.5, 2.5]),
    ("multilabel", np.inf, 0.0, [3.0, 0.25]),
]


@pytest.mark.parametrize(
    "kind, C, l1_ratio, pos_weight, blocks",
    [(*case, False) for case in CASES] + [(*case, True) for case in CASES if case[0] == "multilabel"],
)
@pytest.mark.parametrize("fraction", [1.0, 0.25])
def test_objective_functions_equal_the_written_out_objective(
    kind, C, l1_ratio, pos_weight, blocks, fraction, monkeypatch
):
    """objective, linear_objective_and_gradient and RegularizedLogLoss: value to 1e-12 of the NumPy objective,
    gradient (the smooth part: the L1 term carries none) to 1e-7 of its central finite differences. ``blocks``:
    chunks of 4 values, so the multi-label losses are summed a few rows at a time (._objective.label_losses)."""
    from torchlogit import _kernels
    from torchlogit._objective import RegularizedLogLoss, linear_objective_and_gradient, objective

    if blocks:
        monkeypatch.setattr(_kernels, "CHUNK_VALUES", 4)

    X, target, s, W, b = _problem(kind)
    S = s.sum() * 1.7  # a weight sum apart from the batch's own: the scale must be the fit's
    pw = None if pos_weight is None else np.asarray(pos_weight)
    constants = dict(kind=kind, C=C, l1_ratio=l1_ratio, S=S, fraction=fraction, pos_weight=pw)
    expected = _reference_objective(W, b, X, target, s, **constants)
    smooth = dict(constants, l1_ratio=0.0, C=C / (1 - l1_ratio) if l1_ratio < 1 else np.inf)

    def numeric_gradient(params, which):
        grad = np.zeros_like(params)
        for index in np.ndindex(params.shape):
            step = np.zeros_like(params)
            step[index] = 1e-6
            args = [W, b]
            args[which] = params + step
            up = _reference_objective(*args, X, target, s, **smooth)
            args[which] = params - step
            down = _reference_objective(*args, X, target, s, **smooth)
            grad[index] = (up - down) / 2e-6
        return grad

    t = torch.as_tensor
    Xt, yt, st = t(X), t(target), t(s)
    pwt = None if pw is None else t(pw)
    torch_constants = dict(kind=kind, C=C, l1_ratio=l1_ratio, weight_sum=S, batch_fraction=fraction, pos_weight=pwt)
    Wt, bt = t(W).clone().requires_grad_(True), t(b).clone().requires_grad_(True)
    value = objective(Xt @ Wt.T + bt, yt, st, [Wt], **torch_constants)
    value.backward()
    closed = linear_objective_and_gradient(Xt, t(W), t(b), yt, st, **torch_constants)

    criterion = RegularizedLogLoss(kind, C, l1_ratio, S, n_samples=round(len(X) / fraction), pos_weight=pwt)
    module = torch.nn.Module()
    module.linear = torch.nn.Linear(X.shape[1], W.shape[0], dtype=torch.float64)
    with torch.no_grad():
        module.linear.weight.copy_(t(W))
        module.linear.bias.copy_(t(b))
    step_value, step_logits = criterion.linear_step(module, Xt, yt, st)
    forward_value = criterion(step_logits, yt, st, [module.linear.weight])

    for got in (value, closed[0], step_value, forward_value):
        assert got.dtype == torch.float64
        assert float(got.detach()) == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(closed[1].numpy(), X @ W.T + b, rtol=1e-12)
    grad_W, grad_b = numeric_gradient(W, 0), numeric_gradient(b, 1)
    for got_W, got_b in ((Wt.grad, bt.grad), closed[2:], (module.linear.weight.grad, module.linear.bias.grad)):
        np.testing.assert_allclose(got_W.numpy(), grad_W, rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(got_b.numpy(), grad_b, rtol=1e-7, atol=1e-9)
    # The L1 coefficient the solvers apply themselves (OWL-QN, the proximal step).
    strength = 0.0 if np.isinf(C) else l1_ratio / (C * S)
    assert criterion.l1_strength == pytest.approx(strength, rel=1e-15, abs=0.0)


def test_objective_without_bias_equals_the_written_out_objective():
    from torchlogit._objective import linear_objective_and_gradient

    X, target, s, W, _ = _problem("multinomial", seed=4)
    expected = _reference_objective(W, None, X, target, s, kind="multinomial", C=0.8, l1_ratio=0.4, S=s.sum())
    t = torch.as_tensor
    value, logits, grad_W, grad_b = linear_objective_and_gradient(
        t(X), t(W), None, t(target), t(s), kind="multinomial", C=0.8, l1_ratio=0.4, weight_sum=s.sum()
    )
    assert float(value) == pytest.approx(expected, rel=1e-12) and grad_b is None
    np.testing.assert_allclose(logits.numpy(), X @ W.T, rtol=1e-12)


def test_float32_terms_are_summed_in_float64():
    """The module's promise: float32 parameters and losses, float64 sums (L-BFGS compares these values)."""
    from torchlogit._objective import l1_norm, linear_objective_and_gradient, penalty, weighted_log_loss_mean

    g = torch.Generator().manual_seed(0)
    W = [torch.randn(1000, 100, generator=g) * 3, torch.randn(50, 7, generator=g)]  # float32
    exact = [np.abs(w.numpy().astype(np.float64)) for w in W]
    l1 = math.fsum(np.concatenate([e.ravel() for e in exact]))
    l2 = math.fsum(np.concatenate([(e**2).ravel() for e in exact]))
    # A float32 sum is ~2e-8 off here (|W| and W**2 alike). The squares themselves are float32 products
    # (2e-10 off in total), the float64 sum adds nothing.
    assert float(l1_norm(W)) == pytest.approx(l1, rel=1e-13)
    assert float(penalty(W, 1.0)) == pytest.approx(l1, rel=1e-13)
    assert float(penalty(W, 0.0)) == pytest.approx(l2 / 2, rel=2e-9)
    assert float(penalty(W, 0.3)) == pytest.approx(0.7 * l2 / 2 + 0.3 * l1, rel=2e-9)
    logits = torch.randn(100_000, 1, generator=g)
    target = (torch.rand(100_000, generator=g) < 0.5).float()
    weight = torch.rand(100_000, generator=g)
    z, y = logits[:, 0].numpy().astype(np.float64), target.numpy().astype(np.float64)
    per_sample = torch.nn.functional.binary_cross_entropy_with_logits(logits[:, 0], target, reduction="none")
    expected = math.fsum(per_sample.numpy().astype(np.float64) * weight.numpy().astype(np.float64))
    # (per-sample products in float32, 5e-11 off in total; a float32 sum would be ~1e-7 off)
    total = float(torch.sum(weight, dtype=torch.float64))
    assert float(weighted_log_loss_mean(logits, target, weight, total, "binary")) == pytest.approx(
        expected / total, rel=2e-9
    )
    value = linear_objective_and_gradient(
        logits, torch.ones(1, 1), None, target, weight, kind="binary", C=math.inf, l1_ratio=0.0, weight_sum=1.0
    )[0]
    assert value.dtype == torch.float64 and float(value) == pytest.approx(expected, rel=2e-9)
    assert expected == pytest.approx(math.fsum((np.logaddexp(0, z) - y * z) * weight.numpy()), rel=1e-6)


# --------------------------------------------------------------------------------------------------------------
# The hidden-layer module's pieces: MLPClassifier's initialisation, inverted dropout, seeded streams.


def test_hidden_layers_start_from_mlpclassifiers_initialisation():
    """Each layer's weights and biases ~ U(-b, b), b = sqrt(6 / (n_in + n_out)) (MLPClassifier's _init_coef for
    tanh), drawn from the module's own generator: the same seed gives the same module, and torch's global RNG is
    untouched."""
    from torchlogit._modules import MLPLogits

    state = torch.get_rng_state()
    module = MLPLogits(400, 3, hidden_layer_sizes=(300, 50), activation="tanh", dtype=torch.float64, seed=7)
    assert torch.equal(torch.get_rng_state(), state)
    layers = [m for m in module.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in layers] == [(400, 300), (300, 50), (50, 3)]
    for m in layers:
        bound = math.sqrt(6 / (m.in_features + m.out_features))
        for p in (m.weight, m.bias):
            values = p.detach().numpy().ravel()
            assert p.dtype == torch.float64
            assert np.abs(values).max() <= bound
            # Uniform on the whole interval: the extremes near both ends, the mean near 0, the variance bound²/3.
            assert abs(values.mean()) < 4 * bound / math.sqrt(3 * len(values))
            if len(values) >= 50:
                assert values.min() < -0.9 * bound and values.max() > 0.9 * bound
                assert values.var() == pytest.approx(bound**2 / 3, rel=0.05 if len(values) > 1000 else 0.5)
    again = MLPLogits(400, 3, hidden_layer_sizes=(300, 50), activation="tanh", dtype=torch.float64, seed=7)
    other = MLPLogits(400, 3, hidden_layer_sizes=(300, 50), activation="tanh", dtype=torch.float64, seed=8)
    for a, b, c in zip(module.parameters(), again.parameters(), other.parameters(), strict=True):
        assert torch.equal(a, b) and not torch.equal(a, c)
    # The activation named is the one applied between layers, and the output layer is linear.
    X = torch.randn(5, 400, dtype=torch.float64)
    expected = torch.tanh(torch.tanh(X @ layers[0].weight.T + layers[0].bias) @ layers[1].weight.T + layers[1].bias)
    expected = expected @ layers[2].weight.T + layers[2].bias
    torch.testing.assert_close(module(X), expected, rtol=1e-12, atol=1e-12)
    assert module.penalized_weights() == [m.weight for m in layers]


def test_a_single_input_feature_starts_from_the_whole_interval():
    """n_in = 1: U(-b, b) with b = sqrt(6 / (1 + 200)), not a zero start (no special case for one input)."""
    from torchlogit._modules import MLPLogits

    first = MLPLogits(1, 1, hidden_layer_sizes=(200,), dtype=torch.float64, seed=0).hidden[0]
    values = first.weight.detach().numpy().ravel()
    bound = math.sqrt(6 / 201)
    assert np.abs(values).max() <= bound and values.min() < -0.9 * bound and values.max() > 0.9 * bound


@pytest.mark.parametrize(
    "activation, reference", [("relu", torch.relu), ("logistic", torch.sigmoid), ("identity", None)]
)
def test_each_activation_is_the_named_function(activation, reference):
    from torchlogit._modules import MLPLogits

    module = MLPLogits(3, 2, hidden_layer_sizes=(4,), activation=activation, dtype=torch.float64, seed=0)
    first, last = module.hidden[0], module.output
    X = torch.randn(6, 3, dtype=torch.float64)
    hidden = X @ first.weight.T + first.bias
    hidden = hidden if reference is None else reference(hidden)
    torch.testing.assert_close(module(X), hidden @ last.weight.T + last.bias, rtol=1e-12, atol=1e-12)


def test_dropout_is_inverted_dropout_from_its_own_generator():
    """Like nn.Dropout(p): in training each unit is zeroed with probability p and the others scaled by 1/(1-p)
    (so the expectation is the input); in eval mode, or with p=0, the identity. Masks come from a generator
    seeded by the module, never from torch's global RNG, and restart from the seed after pickling."""
    import pickle

    from torchlogit._modules import GeneratorDropout, MLPLogits

    X = torch.rand(200, 500, dtype=torch.float64) + 0.5
    p = 0.3
    dropout = GeneratorDropout(p, seed=11)
    state = torch.get_rng_state()
    out = dropout(X)
    assert torch.equal(torch.get_rng_state(), state)
    kept = out != 0
    torch.testing.assert_close(out[kept], X[kept] / (1 - p), rtol=1e-15, atol=0)
    n = X.numel()
    assert abs(float((~kept).sum()) - p * n) < 5 * math.sqrt(n * p * (1 - p))  # binomial share of zeros
    assert not torch.equal(dropout(X), out)  # a fresh mask each call
    fresh = pickle.loads(pickle.dumps(GeneratorDropout(p, seed=11)))
    assert torch.equal(fresh(X), out)  # the same stream from the same seed
    restarted = pickle.loads(pickle.dumps(dropout))  # after two draws: the copy starts the stream again
    assert torch.equal(restarted(X), out)
    assert not torch.equal(GeneratorDropout(p, seed=12)(X), out)
    dropout.eval()
    assert torch.equal(dropout(X), X)
    assert torch.equal(GeneratorDropout(0.0, seed=11)(X), X)
    # In a hidden-layer module: a dropout after each hidden layer, each with its own stream.
    module = MLPLogits(4, 1, hidden_layer_sizes=(300, 300), dropout=p, dtype=torch.float64, seed=3)
    drops = [m for m in module.modules() if isinstance(m, GeneratorDropout)]
    assert len(drops) == 2 and len({d.seed for d in drops}) == 2 and all(d.p == p for d in drops)
    masks = [d(torch.ones(1, 300, dtype=torch.float64)) for d in drops]
    assert not torch.equal(masks[0], masks[1])
    assert not any(isinstance(m, GeneratorDropout) for m in MLPLogits(4, 1, (3,), dropout=0.0).modules())


def test_layer_arrays_round_trip_and_refuse_another_structure():
    """layer_coefficients gives MLPClassifier's layout ((n_in, n_out) weights, one bias per unit), and
    layers_state is its inverse; a bias-free output layer reads as zeros and drops a given bias."""
    from torchlogit._modules import LinearLogits, MLPLogits, layer_coefficients, layers_state

    module = MLPLogits(5, 2, hidden_layer_sizes=(3,), dtype=torch.float64, seed=1)
    coefs, intercepts = layer_coefficients(module)
    assert [c.shape for c in coefs] == [(5, 3), (3, 2)] and [b.shape for b in intercepts] == [(3,), (2,)]
    np.testing.assert_array_equal(coefs[0], module.hidden[0].weight.detach().numpy().T)
    np.testing.assert_array_equal(intercepts[1], module.output.bias.detach().numpy())
    assert coefs[0].flags.c_contiguous and coefs[0].dtype == np.float64
    assert layer_coefficients(module, np.float32)[0][0].dtype == np.float32
    target = MLPLogits(5, 2, hidden_layer_sizes=(3,), dtype=torch.float64, seed=2)
    target.load_state_dict(layers_state(target, list(zip(coefs, intercepts, strict=True))))
    for a, b in zip(module.parameters(), target.parameters(), strict=True):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="structure"):
        layers_state(MLPLogits(5, 2, hidden_layer_sizes=(4,), seed=0), list(zip(coefs, intercepts, strict=True)))

    linear = LinearLogits(3, 2, bias=False, dtype=torch.float64)
    assert torch.equal(linear.linear.weight, torch.zeros(2, 3, dtype=torch.float64))  # sklearn's start: zeros
    coefs, intercepts = layer_coefficients(linear)
    np.testing.assert_array_equal(intercepts[0], np.zeros(2))
    W = np.arange(6.0).reshape(3, 2)
    state = layers_state(linear, [(W, np.ones(2))])
    assert set(state) == {"linear.weight"} and torch.equal(state["linear.weight"], torch.as_tensor(W.T))
    state32 = layers_state(LinearLogits(3, 2), [(W.astype(np.float32), np.ones(2, np.float32))])
    assert state32["linear.weight"].dtype == torch.float32 and state32["linear.bias"].dtype == torch.float32


def test_multinomial_loss_and_gradient_are_stable_row_by_row():
    """The softmax is stabilised per row: rows whose logits are 2000 apart (an unscaled feature) both keep
    finite, exact losses and probabilities (a shift by one global maximum would underflow the lower row)."""
    from torchlogit._objective import linear_objective_and_gradient

    Z = np.array([[1000.0, 999.0, 998.0], [-1000.0, -1001.0, -1003.0], [0.5, -0.5, 2.0]])
    target = np.array([1, 0, 2])
    s = np.array([1.0, 2.0, 0.5])
    expected = _reference_objective(np.eye(3), None, Z, target, s, kind="multinomial", C=np.inf, l1_ratio=0, S=3.5)
    t = torch.as_tensor
    value, _, grad_W, _ = linear_objective_and_gradient(
        t(Z), t(np.eye(3)), None, t(target), t(s), kind="multinomial", C=np.inf, l1_ratio=0.0, weight_sum=3.5
    )
    assert float(value) == pytest.approx(expected, rel=1e-12)
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    residual = (P - np.eye(3)[target]) * (s / 3.5)[:, None]
    np.testing.assert_allclose(grad_W.numpy(), residual.T @ Z, rtol=1e-10)


def test_all_zero_l1_coefficients_on_large_data_leave_the_intercepts_at_the_class_log_odds():
    """Kills O6 (the cold-start shortcut of linear_objective_and_gradient
    dropping the bias: while W == 0 the logits are the bias, not zero).

    With an L1 penalty strong enough to zero every coefficient, LogisticRegression's optimum is the intercept
    alone: the class log odds (binary) or the centred log frequencies (multinomial). From 65,536 values of X on,
    the objective skips X @ W while W == 0 (every evaluation of such a fit): the mutant left the intercept at 0.
    """
    import numpy as np
    from scipy.special import logit
    from sklearn.datasets import make_classification

    from torchlogit import TorchLogisticClassifier

    X, y = make_classification(n_samples=3000, n_features=30, weights=[0.8], random_state=0)  # 90,000 values
    model = TorchLogisticClassifier(l1_ratio=1.0, C=1e-4).fit(X, y)
    assert not model.coef_.any()
    np.testing.assert_allclose(model.intercept_, [logit(y.mean())], rtol=1e-3)
    y3 = np.digitize(X[:, 0], [-0.5, 0.5])
    model = TorchLogisticClassifier(l1_ratio=1.0, C=1e-4).fit(X, y3)
    assert not model.coef_.any()
    log_freq = np.log(np.bincount(y3) / len(y3))
    np.testing.assert_allclose(model.intercept_, log_freq - log_freq.mean(), atol=1e-3)


def test_freezer_holds_the_coefficients_of_a_mini_batch_fit():
    """Kills O9 (RegularizedLogLoss.linear_step
    giving a frozen weight its closed-form gradient: torch's optimizers step every parameter that has a .grad).

    skorch's Freezer is accepted for solver='adam' / 'sgd' (_base refuses it for L-BFGS and says it holds the
    parameters there): the frozen coefficients must stay at their start (zero), only the intercepts train.
    """
    import warnings

    from sklearn.datasets import load_iris
    from skorch.callbacks import Freezer

    from torchlogit import TorchLogisticClassifier

    X, y = load_iris(return_X_y=True)
    for solver in ("adam", "sgd"):
        for target in (y, (y == 2).astype(int)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # 5 epochs: a ConvergenceWarning
                model = TorchLogisticClassifier(solver=solver, max_iter=5, callbacks=[Freezer("linear.weight")])
                model.fit(X, target)
            assert not model.coef_.any(), (solver, model.coef_)
            if target.max() == 1:
                assert model.intercept_[0] != 0.0  # the intercept did train


def test_multinomial_closed_form_objective_is_finite_for_logits_far_apart():
    """Kills O7 (linear_objective_and_gradient shifting the softmax by the
    smallest logit instead of the largest: exp(max - min) overflows once the logits of a row are ~710 apart in
    float64, ~89 in float32, and the objective is inf / its gradient NaN).

    Logits that far apart are reached by well-separated classes with a large C, or unscaled features.
    """
    import numpy as np
    import torch
    from scipy.special import log_softmax, softmax

    from torchlogit._objective import linear_objective_and_gradient

    for dtype, spread in ((torch.float64, 1000.0), (torch.float32, 100.0)):
        X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=dtype)
        W = torch.tensor([[spread, 0.0], [0.0, spread], [0.0, 0.0]], dtype=dtype)
        b = torch.zeros(3, dtype=dtype)
        target = torch.tensor([0, 1, 2])
        weight = torch.ones(3, dtype=dtype)
        value, logits, grad_W, grad_b = linear_objective_and_gradient(
            X, W, b, target, weight, kind="multinomial", C=float("inf"), l1_ratio=0.0, weight_sum=3.0
        )
        Z = logits.double().numpy()
        expected = -log_softmax(Z, axis=1)[np.arange(3), [0, 1, 2]].mean()
        assert np.isfinite(float(value))
        np.testing.assert_allclose(float(value), expected, rtol=1e-6)
        residual = softmax(Z, axis=1) - np.eye(3)
        np.testing.assert_allclose(grad_b.double().numpy(), residual.mean(axis=0), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(grad_W.double().numpy(), residual.T @ X.double().numpy() / 3, rtol=1e-5, atol=1e-6)
