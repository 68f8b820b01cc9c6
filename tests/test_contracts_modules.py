"""The torch modules the nets train (``torchlogit._modules``), each against what it stands for.

References: ``X @ W.T + b`` written out (``nn.Linear``); scikit-learn's rule that the penalty
applies to the weight matrices only, never to intercepts / biases (``LogisticRegression``'s
unpenalised intercept, ``MLPClassifier``'s ``alpha`` on ``coefs_`` only); ``MLPClassifier``'s
defaults (one hidden layer of 100 ReLU units); ``parameters()``' order and ``nn.Linear``'s
``(n_out, n_in)`` weight layout for the preconditioner's per-entry scale; and fitted arrays
that are snapshots, as scikit-learn's are (no memory shared with the module's tensors).
"""

import numpy as np
import pytest
import torch
from sklearn.neural_network import MLPClassifier

from torchlogit._modules import GeneratorDropout, LinearLogits, MLPLogits, layer_coefficients, layers_state

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available on this machine")


def _randomised(module, seed=0):
    """The module with every parameter set to a random value (the linear model starts at zero)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype))
    return module


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_linear_logits_are_x_times_w_transposed_plus_b(bias, dtype):
    """``LinearLogits(n_features, n_outputs)``: weights of shape (n_outputs, n_features) and, with ``bias``, one
    intercept per output, in ``dtype``, all zero at the start (scikit-learn's start); its forward pass is
    ``X @ W.T + b`` (written out; exact in float64, 1e-6 in float32)."""
    module = LinearLogits(5, 3, bias=bias, dtype=dtype)
    params = dict(module.named_parameters())
    assert set(params) == ({"linear.weight", "linear.bias"} if bias else {"linear.weight"})
    assert params["linear.weight"].shape == (3, 5) and all(p.dtype == dtype for p in params.values())
    assert all(torch.count_nonzero(p) == 0 for p in params.values())
    _randomised(module)
    X = torch.randn(7, 5, dtype=dtype, generator=torch.Generator().manual_seed(1))
    expected = X @ module.linear.weight.T + (module.linear.bias if bias else 0)
    torch.testing.assert_close(module(X), expected, rtol=1e-6 if dtype == torch.float32 else 1e-15, atol=1e-6)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_the_penalty_applies_to_the_weight_matrices_and_never_to_biases(fit_intercept):
    """``penalized_weights()`` is exactly the weight matrix of every linear layer (the tensors themselves, so
    the penalty's gradient reaches them) and none of the biases, in the linear model and with hidden layers,
    whose hidden biases exist whatever ``fit_intercept`` (``bias``) says of the output layer."""
    linear = LinearLogits(4, 2, bias=fit_intercept)
    assert [id(w) for w in linear.penalized_weights()] == [id(linear.linear.weight)]
    mlp = MLPLogits(4, 2, hidden_layer_sizes=(3, 5), bias=fit_intercept, seed=0)
    layers = [m for m in mlp.modules() if isinstance(m, torch.nn.Linear)]
    assert [id(w) for w in mlp.penalized_weights()] == [id(m.weight) for m in layers]
    biases = {name for name, _ in mlp.named_parameters() if name.endswith("bias")}
    assert biases == {"hidden.0.bias", "hidden.2.bias"} | ({"output.bias"} if fit_intercept else set())
    assert not {id(p) for p in mlp.penalized_weights()} & {id(p) for n, p in mlp.named_parameters() if n in biases}


def test_hidden_layer_defaults_are_mlpclassifiers():
    """Unless told otherwise, ``MLPLogits`` is ``MLPClassifier``'s default network: one hidden layer of 100
    ReLU units (``MLPClassifier().hidden_layer_sizes``, ``.activation``), biases on every layer, no dropout,
    float32 (torch's default), seeded by 0: the same module as one built with those values spelt out."""
    ref = MLPClassifier()
    assert (ref.hidden_layer_sizes, ref.activation) == ((100,), "relu")
    default = MLPLogits(6, 3)
    spelt = MLPLogits(6, 3, hidden_layer_sizes=(100,), activation="relu", dropout=0.0, bias=True, seed=0)
    assert [type(m) for m in default.hidden] == [torch.nn.Linear, torch.nn.ReLU]
    assert default.hidden[0].out_features == 100 and default.output.bias is not None
    for (name, a), (_, b) in zip(default.named_parameters(), spelt.named_parameters(), strict=True):
        assert a.dtype == torch.float32 and torch.equal(a, b), name
    assert LinearLogits(6, 3).linear.bias is not None and LinearLogits(6, 3).linear.weight.dtype == torch.float32


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**62])
def test_each_dropout_layer_has_a_stream_of_its_own(seed):
    """ "One stream per layer, apart from the initialisation's": the dropout seeds of the hidden layers are
    pairwise different and different from the module's seed (the initialisation generator's), and valid
    generator seeds (integers in torch's range, 0 <= s < 2**64); the same ``seed`` gives the same ones."""
    sizes = (3, 3, 3, 3)
    module = MLPLogits(2, 1, hidden_layer_sizes=sizes, dropout=0.5, seed=seed)
    seeds = [m.seed for m in module.modules() if isinstance(m, GeneratorDropout)]
    assert len(seeds) == len(sizes) == len(set(seeds)) and seed not in seeds
    assert all(isinstance(s, int) and 0 <= s < 2**64 for s in seeds)
    again = MLPLogits(2, 1, hidden_layer_sizes=sizes, dropout=0.5, seed=seed)
    assert seeds == [m.seed for m in again.modules() if isinstance(m, GeneratorDropout)]


def test_parameter_scale_follows_the_parameters_layout():
    """``parameter_scale(s)`` has one factor per entry of ``torch.cat([p.ravel() for p in parameters()])``: the
    weight entry ``W[k, j]`` (output k, feature j) gets ``s[j]``, every intercept 1; without an intercept only
    the weights. In the dtype of ``s``, written out entry by entry (n_outputs != n_features, so a layout by
    outputs would differ)."""
    s = torch.tensor([0.5, 2.0, 4.0, 8.0, 16.0], dtype=torch.float64)
    for bias in (True, False):
        module = LinearLogits(5, 3, bias=bias)
        scale = module.parameter_scale(s)
        assert scale.dtype == torch.float64 and scale.shape == (sum(p.numel() for p in module.parameters()),)
        expected = [float(s[j]) for k in range(3) for j in range(5)] + ([1.0] * 3 if bias else [])
        assert scale.tolist() == expected


def test_dropout_p_zero_and_eval_mode_pass_the_input_through():
    """With ``p = 0`` in training, or in eval mode, dropout is the identity (``nn.Dropout``'s rule); a
    ``p`` near 1 still keeps the survivors' expectation (scaled by ``1/(1-p)``, zeros elsewhere)."""
    X = torch.rand(40, 50, dtype=torch.float64) + 0.5
    assert torch.equal(GeneratorDropout(0.0, seed=0).train()(X), X)
    assert torch.equal(GeneratorDropout(0.9, seed=0).eval()(X), X)
    out = GeneratorDropout(0.9, seed=0).train()(X)
    kept = out != 0
    assert 0 < int(kept.sum()) < X.numel() // 4
    torch.testing.assert_close(out[kept], X[kept] * 10, rtol=1e-14, atol=0)


@pytest.mark.parametrize("bias", [True, False])
def test_layer_arrays_are_snapshots_in_the_models_precision(bias):
    """``layer_coefficients`` returns copies, as scikit-learn's fitted arrays are: changing the module
    afterwards (training on) does not change them, and writing to them does not change the module. A
    float32 module gives float32 arrays (missing intercepts too: zeros of that dtype), unless a dtype is asked
    for. One output (a weight row that stays contiguous when transposed) included."""
    for n_outputs in (1, 3):
        module = _randomised(LinearLogits(4, n_outputs, bias=bias, dtype=torch.float32))
        before = [p.detach().clone() for p in module.parameters()]
        coefs, intercepts = layer_coefficients(module)
        assert coefs[0].dtype == np.float32 and intercepts[0].dtype == np.float32
        assert intercepts[0].shape == (n_outputs,)
        if not bias:
            np.testing.assert_array_equal(intercepts[0], 0.0)
        snapshot = [coefs[0].copy(), intercepts[0].copy()]
        with torch.no_grad():
            for p in module.parameters():
                p.add_(1.0)
        np.testing.assert_array_equal(coefs[0], snapshot[0])
        np.testing.assert_array_equal(intercepts[0], snapshot[1])
        coefs[0][:] = -7.0
        intercepts[0][:] = -7.0
        for p, old in zip(module.parameters(), before, strict=True):
            torch.testing.assert_close(p.detach(), old + 1.0, rtol=0, atol=0)
        assert layer_coefficients(module, np.float64)[1][0].dtype == np.float64


def test_layer_state_tensors_are_float_in_the_arrays_precision():
    """``layers_state`` turns the public arrays into the module's tensors (warm start, model files): float32
    arrays stay float32, anything else (float64, integers, Python lists) becomes float64, never an integer
    tensor; weights are transposed to ``nn.Linear``'s (n_out, n_in), biases flattened."""
    module = LinearLogits(3, 2)
    W = [[1, 2], [3, 4], [5, 6]]  # integers, (n_in, n_out)
    for weight, bias, dtype in [
        (W, [[7], [8]], torch.float64),
        (np.array(W, dtype=np.int32), np.array([7, 8], dtype=np.int64), torch.float64),
        (np.array(W, dtype=np.float32), np.array([7, 8], dtype=np.float32), torch.float32),
    ]:
        state = layers_state(module, [(weight, bias)])
        assert state["linear.weight"].dtype == dtype and state["linear.bias"].dtype == dtype
        assert state["linear.weight"].tolist() == [[1, 3, 5], [2, 4, 6]] and state["linear.bias"].tolist() == [7, 8]


@requires_cuda
def test_device_placement_follows_the_modules_parameters():
    """On a GPU: the preconditioner's scale lies on the parameters' device whatever the device of the column
    scale, and dropout draws its mask from a generator on the input's device."""
    module = LinearLogits(4, 2, dtype=torch.float64).to("cuda")
    scale = module.parameter_scale(torch.arange(1.0, 5.0, dtype=torch.float64))
    assert scale.device.type == "cuda" and scale.tolist() == [1.0, 2.0, 3.0, 4.0] * 2 + [1.0, 1.0]
    X = torch.ones(30, 40, device="cuda")
    out = GeneratorDropout(0.5, seed=0)(X)
    assert out.device.type == "cuda" and 0 < int((out == 0).sum()) < X.numel()


# (mutation survey, M8: the 2-D bias check dropped in _modules.checked_layers)
def test_a_two_d_intercept_of_the_right_size_but_wrong_shape_is_refused():
    import numpy as np
    import pytest

    from torchlogit import TorchLogisticClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = np.arange(80) % 4
    clf = TorchLogisticClassifier().fit(X, y)
    clf.intercept_ = clf.intercept_.reshape(2, 2)  # 4 values, not 4 outputs: LogisticRegression fails to broadcast
    with pytest.raises(ValueError, match=r"intercept_ has shape \(2, 2\)"):
        clf.predict(X)
    clf.intercept_ = clf.intercept_.reshape(1, 4)  # a row of the outputs is accepted
    clf.predict(X)


# (mutation survey, M10: GeneratorDropout.__getstate__ keeping the generator: a pickled or
# deep-copied layer then continued its stream instead of restarting from its seed, as its docstring says)
def test_a_pickled_dropout_layer_restarts_its_stream_from_the_seed():
    import copy
    import pickle

    import torch

    from torchlogit._modules import GeneratorDropout

    layer = GeneratorDropout(0.5, seed=7).train()
    X = torch.ones(4, 16)
    first = layer(X)
    layer(X)  # the stream moves on
    for restored in (pickle.loads(pickle.dumps(layer)), copy.deepcopy(layer)):
        assert restored._generator is None
        torch.testing.assert_close(restored.train()(X), first)


def test_dropout_masks_follow_each_layers_seed():
    """h6's mutant (every generator seeded with a constant): each dropout layer draws from a generator seeded by its
    own ``seed``; two seeds, two masks (the test above compares only the seeds); one seed, one mask; the two layers
    of one module draw different masks."""
    ones = torch.ones(4000)

    def mask(seed):
        return GeneratorDropout(0.5, seed=seed).train()(ones)

    assert torch.equal(mask(3), mask(3))
    assert not torch.equal(mask(3), mask(4))
    module = MLPLogits(4, 1, hidden_layer_sizes=(4000, 4000), dropout=0.5, seed=0).train()
    first, second = (m for m in module.modules() if isinstance(m, GeneratorDropout))
    assert not torch.equal(first(ones), second(ones))
