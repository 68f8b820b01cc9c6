"""Pure torch modules that map features to logits.

No scikit-learn here: these are what the skorch net trains. Each module exposes
``penalized_weights()``, the weight matrices the L2 / L1 penalty applies to
(biases are never penalised, as in scikit-learn).
"""

import math

import numpy as np
import torch
from torch import nn

from ._devices import available_memory, format_bytes

ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "identity": nn.Identity,
}


class _ZeroLinear(nn.Linear):
    """``nn.Linear`` whose initialisation is zeros: no draw from the global RNG, and none of
    ``nn.utils.skip_init``'s cost (its ``to_empty`` imports torch's symbolic-shapes
    machinery and sympy, seconds on the first fit in a process)."""

    def reset_parameters(self):
        nn.init.zeros_(self.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)


class LinearLogits(nn.Module):
    """``X @ W.T + b``: one logit per output, starting from zero like scikit-learn.

    Starting at zero also pins the multinomial intercepts: their gradient sums to
    zero over classes, so they stay centred, as scikit-learn's do.
    """

    def __init__(self, n_features, n_outputs, bias=True, dtype=torch.float32, device="cpu"):
        super().__init__()
        # An explicit device: a user's torch.set_default_device("cuda") must not place it (skorch moves it).
        self.linear = _ZeroLinear(n_features, n_outputs, bias=bias, dtype=dtype, device=device)

    def forward(self, X):
        return self.linear(X)

    def penalized_weights(self):
        return [self.linear.weight]

    def parameter_scale(self, column_scale):
        """One factor per parameter entry, flattened in ``parameters()`` order: ``column_scale[j]``
        for every weight of column ``j``, 1 for the intercepts."""
        weight, bias = self.linear.weight, self.linear.bias
        parts = [column_scale.to(weight.device).repeat(weight.shape[0])]
        if bias is not None:
            parts.append(torch.ones(bias.numel(), dtype=column_scale.dtype, device=weight.device))
        return torch.cat(parts)


class GeneratorDropout(nn.Module):
    """Dropout whose mask comes from a generator of its own, never torch's global RNG.

    ``nn.Dropout`` draws from the global generator, so two models training in two
    threads would interleave their draws. The generator lives on the input's device,
    seeded from ``seed`` the first time it is needed there.
    """

    def __init__(self, p, seed):
        super().__init__()
        self.p = float(p)
        self.seed = int(seed)
        self._generator = None

    def _generator_for(self, device):
        if self._generator is None or self._generator.device != device:
            self._generator = torch.Generator(device=device).manual_seed(self.seed)
        return self._generator

    def forward(self, X):
        if not self.training or self.p == 0:
            return X
        keep = torch.empty_like(X).bernoulli_(1 - self.p, generator=self._generator_for(X.device))
        return X * keep / (1 - self.p)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_generator"] = None  # restarted from the seed (a generator is tied to a device)
        return state


def dropout_streams(module):
    """Where each dropout layer of ``module`` stands in its random stream: ``[device, uint8 state]``, or None for a
    layer that has not drawn yet (plain data: ``partial_fit``'s state is pickled with the estimator)."""
    return [
        None if layer._generator is None else [str(layer._generator.device), layer._generator.get_state().numpy()]
        for layer in _dropout_layers(module)
    ]


def _dropout_layers(module):
    return [layer for layer in module.modules() if isinstance(layer, GeneratorDropout)]


def resume_dropout_streams(module, streams):
    """Put each dropout layer of ``module`` where :func:`dropout_streams` found it, so that a ``partial_fit`` call
    draws the masks that follow the previous call's, as the next epoch of ``fit`` does.

    A net is rebuilt for every call; its layers restarted from their seed, and every call drew the first call's
    masks again (one step per call: one fixed mask for the whole stream). Streams of another structure, of a
    device this machine lacks, or of another device than the one the call trains on (a model moved from the CPU
    to a GPU between calls, or from ``cuda:1`` to ``cuda:0``) start from the seed again.
    """
    layers = _dropout_layers(module)
    if not streams or len(streams) != len(layers):
        return
    for layer, stream in zip(layers, streams, strict=True):
        if stream is None:
            continue
        device, state = stream
        try:
            generator = torch.Generator(device=device)
            generator.set_state(torch.from_numpy(np.array(state, dtype=np.uint8)))
        except (RuntimeError, ValueError):  # another device kind, or a state torch does not read
            continue
        layer._generator = generator


def _seeded_linear(n_in, n_out, bias, dtype, generator, factor=6.0):
    """``nn.Linear`` with ``MLPClassifier``'s initialisation, drawn from ``generator``.

    Weights and biases from ``U(-b, b)``, ``b = sqrt(factor / (n_in + n_out))`` (Glorot's, with
    scikit-learn's ``factor``: 2 for logistic hidden units, 6 otherwise). PyTorch's default,
    ``U(-1/sqrt(n_in), 1/sqrt(n_in))``, starts the output layer about 2.4 times smaller, and a ported
    "sgd" fit then trained more slowly (training loss after 50 epochs on digits, (100,): 0.71 against
    ``MLPClassifier``'s 0.41; 0.41 with its initialisation, review N).
    """
    layer = nn.utils.skip_init(nn.Linear, n_in, n_out, bias=bias, dtype=dtype)
    bound = math.sqrt(factor / (n_in + n_out)) if n_in + n_out > 0 else 0.0
    with torch.no_grad():
        layer.weight.uniform_(-bound, bound, generator=generator)
        if bias:
            layer.bias.uniform_(-bound, bound, generator=generator)
    return layer


# Copies of the parameters a fit holds at once: the weights, their gradients and Adam's two moments.
_TRAINING_COPIES = 4


def _check_network_memory(n_features, hidden_layer_sizes, n_outputs, dtype):
    """A ValueError in the user's terms where the network's training state cannot fit in the host's available memory
    (built there first): ``hidden_layer_sizes=10**9`` reached torch's allocator error (16 GB asked for), or, where
    memory is overcommitted, the kernel killed the process silently."""
    widths = (n_features, *hidden_layer_sizes, n_outputs)
    n_params = sum((n_in + 1) * n_out for n_in, n_out in zip(widths[:-1], widths[1:], strict=True))
    needed = _TRAINING_COPIES * n_params * torch.empty(0, dtype=dtype).element_size()
    available = available_memory(torch.device("cpu"))
    if available is not None and needed > available:
        raise ValueError(
            f"hidden_layer_sizes={tuple(hidden_layer_sizes)} on {n_features} features and {n_outputs} outputs makes "
            f"a network of {n_params:,} parameters, whose training state ({_TRAINING_COPIES} copies: weights, "
            f"gradients, optimizer moments) needs {format_bytes(needed)}, more than the {format_bytes(available)} "
            "of memory available. Use smaller layers."
        )


class MLPLogits(nn.Module):
    """Hidden layers (``MLPClassifier``'s initialisation), then one logit per output.

    Initialisation and dropout draw from generators seeded by ``seed``, so that
    the result depends on ``seed`` alone, whatever else uses torch's global RNG.
    """

    def __init__(
        self,
        n_features,
        n_outputs,
        hidden_layer_sizes=(100,),
        activation="relu",
        dropout=0.0,
        bias=True,
        dtype=torch.float32,
        seed=0,
    ):
        super().__init__()
        _check_network_memory(n_features, hidden_layer_sizes, n_outputs, dtype)
        generator = torch.Generator().manual_seed(int(seed))
        layers = []
        n_in = n_features
        factor = 2.0 if activation == "logistic" else 6.0  # MLPClassifier's _init_coef
        for i, width in enumerate(hidden_layer_sizes):
            layers.append(_seeded_linear(n_in, width, True, dtype, generator, factor))
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                # One stream per layer, apart from the initialisation's.
                layers.append(GeneratorDropout(dropout, seed=(int(seed) * 1_000_003 + i + 1) % (1 << 63)))
            n_in = width
        self.hidden = nn.Sequential(*layers)
        self.output = _seeded_linear(n_in, n_outputs, bias, dtype, generator, factor)

    def forward(self, X):
        return self.output(self.hidden(X))

    def penalized_weights(self):
        return [m.weight for m in self.modules() if isinstance(m, nn.Linear)]


def _as_array(tensor, dtype):
    return tensor.detach().cpu().numpy().astype(dtype, copy=True)


def layer_coefficients(module, dtype=None):
    """MLPClassifier-style ``coefs_`` (each ``(n_in, n_out)``) and ``intercepts_`` of every linear layer."""
    layers = [m for m in module.modules() if isinstance(m, nn.Linear)]
    dtype = dtype or layers[0].weight.detach().cpu().numpy().dtype
    coefs = [np.ascontiguousarray(_as_array(m.weight, dtype).T) for m in layers]
    intercepts = [
        _as_array(m.bias, dtype) if m.bias is not None else np.zeros(m.out_features, dtype=dtype) for m in layers
    ]
    return coefs, intercepts


def checked_layers(layers, n_features, n_outputs, names, alias=None):
    """``layers`` (``[(W (n_in, n_out), b), ...]``, the fitted arrays) when their shapes chain from
    ``n_features`` to ``n_outputs``, each bias as ``(n_out,)``; else a ValueError naming ``names``.

    The fitted arrays are public and may be edited or assigned (scikit-learn's models
    predict from whatever ``coef_`` holds). A shape that does not fit is refused here in
    those terms, not by torch's matrix product inside ``save``, ``to_onnx`` or a warm start.
    A scalar bias broadcasts to the layer's outputs, as in ``X @ coef_.T + intercept_``.
    ``names``: the public attributes, ``("coef_", "intercept_")`` or ``("coefs_", "intercepts_")``. ``alias``: the
    other name of a linear model's coefficients (a linear multi-label model's ``coefs_[0]``, ``coef_`` transposed),
    said beside the shapes: a user who assigned it was told of a ``coef_`` shape they never wrote.
    """
    weights, biases = names
    checked = []
    n_in = n_features
    for i, (W, b) in enumerate(layers):
        where, bias_name = (f"{weights}[{i}]", f"{biases}[{i}]") if weights.endswith("s_") else (weights, biases)
        shape = tuple(np.shape(W))
        last = i == len(layers) - 1
        if len(shape) != 2 or shape[0] != n_in or (last and shape[1] != n_outputs):
            n_out = n_outputs if last or len(shape) != 2 else shape[1]
            raise ValueError(
                f"{where} has shape {_public_shape(shape, weights)}; this model needs "
                f"{_public_shape((n_in, n_out), weights)} ({_shape_terms(weights, i, last)})"
                + ("" if alias is None else f"; {alias} is {weights} transposed: shape {shape} for {(n_in, n_out)}")
                + ". Assign arrays of the fitted shapes, or fit again."
            )
        bias = np.asarray(b)
        if bias.size == 1 and shape[1] != 1:  # a scalar broadcasts, as in X @ coef_.T + intercept_
            bias = np.full(shape[1], bias.item(), dtype=bias.dtype)
        elif bias.size != shape[1] or bias.ndim > 1 and max(bias.shape) != bias.size:
            raise ValueError(
                f"{bias_name} has shape {bias.shape}, which does not fit the {shape[1]} outputs of {where}."
            )
        checked.append((W, bias.reshape(-1)))
        n_in = shape[1]
    return checked


def _shape_terms(name, i, last):
    """What the expected shape's two numbers are, in the fitted attributes' words."""
    if name == "coef_":
        return "n_outputs, n_features_in_"
    rows = "n_features_in_" if i == 0 else f"the width of hidden layer {i - 1}"
    return f"{rows}, {'n_outputs_' if last else 'this hidden layer' + chr(39) + 's width'}"


def _public_shape(shape, name):
    """The shape as the user sees the attribute: ``coef_`` is ``(n_outputs, n_features)``, the transpose of W."""
    return shape[::-1] if name == "coef_" and len(shape) == 2 else shape


def layers_state(module, layers, use="continued (warm_start=True or partial_fit)"):
    """A ``state_dict`` for ``module`` holding ``layers``, its linear layers' ``(weight (n_in, n_out), bias)``.

    The inverse of :func:`layer_coefficients`: how a fitted model's public arrays become
    the starting point of a new training run (warm start, ``partial_fit``) or of a file's
    tensors. A layer without bias in ``module`` drops the given bias (as
    ``LogisticRegression``'s warm start does when ``fit_intercept=False``). Raises a
    ValueError when the shapes do not fit ``module``, saying the model cannot be ``use``.
    """
    linear = [(name, m) for name, m in module.named_modules() if isinstance(m, nn.Linear)]
    found = [tuple(np.shape(W)) for W, _ in layers]
    expected = [(m.in_features, m.out_features) for _, m in linear]
    if found != expected:
        remedy = (
            "Set warm_start=False, or fit, to start afresh."
            if use.startswith("continued")
            else "Set the parameters back to the fitted model's, or fit again."
        )
        raise ValueError(
            f"The fitted model cannot be {use}: the model's structure changed (fitted layers {found}, the "
            f"parameters now give {expected}). {remedy}"
        )
    state = {}
    for (name, m), (W, b) in zip(linear, layers, strict=True):
        # The arrays' own precision; float64 if either is wider (a float32 coef_ assigned beside a float64 intercept_
        # was saved as float32 both, and the loaded model's probabilities moved by 4e-8).
        narrow = np.asarray(W).dtype == np.float32 and (b is None or np.asarray(b).dtype == np.float32)
        dtype = np.float32 if narrow else np.float64
        state[f"{name}.weight"] = torch.from_numpy(np.array(W, dtype=dtype).T.copy())
        if m.bias is not None:
            state[f"{name}.bias"] = torch.from_numpy(np.array(b, dtype=dtype).reshape(-1).copy())
    return state
