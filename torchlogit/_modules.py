"""Pure torch modules that map features to logits.

No scikit-learn here: these are what the skorch net trains. Each module exposes
``penalized_weights()``, the weight matrices the L2 / L1 penalty applies to
(biases are never penalised, as in scikit-learn).
"""

import numpy as np
import torch
from torch import nn

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

    def __init__(self, n_features, n_outputs, bias=True, dtype=torch.float32):
        super().__init__()
        self.linear = _ZeroLinear(n_features, n_outputs, bias=bias, dtype=dtype)

    def forward(self, X):
        return self.linear(X)

    def penalized_weights(self):
        return [self.linear.weight]


class MLPLogits(nn.Module):
    """Hidden layers (PyTorch's default initialisation), then one logit per output."""

    def __init__(
        self,
        n_features,
        n_outputs,
        hidden_layer_sizes=(100,),
        activation="relu",
        dropout=0.0,
        bias=True,
        dtype=torch.float32,
    ):
        super().__init__()
        layers = []
        n_in = n_features
        for width in hidden_layer_sizes:
            layers.append(nn.Linear(n_in, width, dtype=dtype))
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            n_in = width
        self.hidden = nn.Sequential(*layers)
        self.output = nn.Linear(n_in, n_outputs, bias=bias, dtype=dtype)

    def forward(self, X):
        return self.output(self.hidden(X))

    def penalized_weights(self):
        return [m.weight for m in self.modules() if isinstance(m, nn.Linear)]


def linear_coefficients(module, n_outputs):
    """``(coef_, intercept_)`` of a :class:`LinearLogits` as host NumPy arrays."""
    weight = module.linear.weight.detach().cpu().numpy().copy()
    bias = module.linear.bias
    intercept = bias.detach().cpu().numpy().copy() if bias is not None else np.zeros(n_outputs, dtype=weight.dtype)
    return weight, intercept


def layer_coefficients(module):
    """MLPClassifier-style ``coefs_`` (each ``(n_in, n_out)``) and ``intercepts_`` of every linear layer."""
    layers = [m for m in module.modules() if isinstance(m, nn.Linear)]
    coefs = [m.weight.detach().cpu().numpy().T.copy() for m in layers]
    intercepts = [
        m.bias.detach().cpu().numpy().copy() if m.bias is not None else np.zeros(m.out_features, dtype=coefs[0].dtype)
        for m in layers
    ]
    return coefs, intercepts
