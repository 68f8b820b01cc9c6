"""What the estimators' target validation hands to the shared training code."""

import re
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.utils.multiclass import _check_partial_fit_first_call, check_classification_targets

from ._compat import compute_class_weight, warns_of_many_classes
from ._kernels import TORCH_NUMPY_DTYPES
from ._objective import _SAME_MODEL
from ._user_warnings import warn


@dataclass
class Targets:
    """What a subclass's target validation hands to the shared fit."""

    kind: str  # "binary", "multinomial" or "multilabel"
    target: np.ndarray  # encoded for ``kind`` (a tensor where the data was prepared in torch)
    classes: np.ndarray
    n_outputs: int
    row_factor: np.ndarray | None = None  # per-row weight factor (class weights)
    pos_weight: np.ndarray | None = None
    stratify: np.ndarray | None = None  # labels to stratify a validation split on


def encode_labels(y, cv=False):
    """1-D class labels -> Targets for a binary (one logit) or multinomial model (``cv``: for the CV estimator, whose
    one-class refusal is ``LogisticRegressionCV``'s words, see :func:`check_two_classes`)."""
    if isinstance(y, torch.Tensor):  # encoded where it lives; the classes come to the host
        classes, encoded = unique_labels(y)
        classes = classes.cpu().numpy()
        check_label_values(classes, len(y))
    else:
        check_classification_targets(y)
        classes, encoded = np.unique(y, return_inverse=True)
    check_two_classes(classes, cv)
    # MLPClassifier stratifies its early-stopping split for binary targets only (its n_outputs_ == 1): a multiclass
    # y is split at random, so that a class of one sample does not make the split (and the fit) fail.
    return label_targets(classes, encoded, stratify=encoded if len(classes) == 2 else None)


# Integer labels spanning at most this many values (or as many as there are labels) are encoded by counting.
_COUNTED_SPAN = 1 << 16
_COUNTED_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def unique_labels(y):
    """``torch.unique(y, sorted=True, return_inverse=True)`` of a 1-D label tensor, by counting where it can.

    Integer labels over a short span of values (class indices, the usual case) are encoded
    in two passes, a count of each value and a lookup, instead of a sort: 20k labels
    0.18 -> 0.12 ms, 1M labels 35 -> 4.6 ms (one thread). The result is torch's, dtypes included.
    """
    if y.dtype in _COUNTED_DTYPES and len(y):
        low, high = (int(v) for v in torch.aminmax(y))
        span = high - low + 1
        if span <= max(len(y), _COUNTED_SPAN):
            shifted = y.to(torch.int64) - low
            present = torch.bincount(shifted, minlength=span) > 0
            classes = (torch.nonzero(present).squeeze(1) + low).to(y.dtype)
            return classes, (torch.cumsum(present, 0) - 1)[shifted]
    return torch.unique(y, sorted=True, return_inverse=True)


# scikit-learn's words (check_classification_targets) for labels that look like a regression target.
_MANY_CLASSES = (
    "The number of unique classes is greater than 50% of the number of samples. `y` could represent a "
    "regression problem, not a classification problem."
)


def check_label_values(classes, n_samples):
    """``check_classification_targets(y)`` for 1-D labels known by their distinct values and their count.

    The type of 1-D labels is the type of their distinct values, except for scikit-learn's
    warning about more distinct values than half the samples, which needs the number of
    samples: checking ``classes`` alone gave it for every fit of more than 20 classes.
    Integer and boolean labels are always classes, and are not checked further (scikit-learn's
    ``type_of_target`` took 0.8 ms a fit for it).
    """
    if classes.dtype.kind not in "biu":
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=re.escape(_MANY_CLASSES[:40]), category=UserWarning)
            check_classification_targets(classes)
    if warns_of_many_classes() and len(classes) > 2 and n_samples > 20 and len(classes) > round(0.5 * n_samples):
        warn(_MANY_CLASSES, UserWarning)


def check_two_classes(classes, cv=False):
    """scikit-learn's refusal of a single class: ``LogisticRegression`` shows it by its repr (``np.int64(3)``),
    ``LogisticRegressionCV`` (``cv``) as text with a full stop (``3.``)."""
    if len(classes) < 2:
        shown = f"{classes[0]}." if cv else repr(classes[0])
        raise ValueError(
            "This solver needs samples of at least 2 classes in the data, but the data contains only one class: "
            + shown
        )


def label_targets(classes, encoded, **extra):
    """Targets of a binary (one logit) or multinomial model over ``classes``, ``encoded`` as indices."""
    binary = len(classes) == 2
    return Targets(
        kind="binary" if binary else "multinomial",
        target=encoded,
        classes=classes,
        n_outputs=1 if binary else len(classes),
        **extra,
    )


def encode_partial_labels(estimator, y, classes):
    """Targets for one partial_fit call on 1-D labels, with SGDClassifier's contract on ``classes``."""
    if isinstance(y, torch.Tensor):
        check_label_values(torch.unique(y).cpu().numpy(), len(y))
    else:
        check_classification_targets(y)
    if _check_partial_fit_first_call(estimator, classes) and len(estimator.classes_) < 2:
        raise ValueError(f"classes must hold at least 2 classes; got {estimator.classes_!r}.")
    classes = estimator.classes_
    if isinstance(y, torch.Tensor):
        if classes.dtype.kind in "biuf":
            return label_targets(classes, _tensor_positions(classes, y))
        y = y.cpu().numpy()  # numbers against labels that are not: the NumPy path says which are unknown
    return label_targets(classes, _host_positions(classes, y))


def _host_positions(classes, y):
    """Index of each label of the NumPy ``y`` in the sorted ``classes``; a ValueError for labels not among them."""
    try:
        position = np.searchsorted(classes, y).clip(0, len(classes) - 1)
    except TypeError:  # labels NumPy cannot order against the classes (strings as objects against numbers)
        known = np.isin(y, classes)
        _refuse_unknown(classes, np.asarray(y)[~known] if not known.all() else np.asarray(y))
    unknown = classes[position] != y
    if np.any(unknown):
        _refuse_unknown(classes, y[unknown])
    return position


# Tensor dtypes torch.promote_types takes with every other (not torch >= 2.3's uint16/32/64).
_PROMOTED = (torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64) + (
    torch.float16,
    torch.bfloat16,
    torch.float32,
    torch.float64,
)


def _refuse_unknown(classes, labels):
    """The error of a partial_fit batch whose ``labels`` (NumPy) are not among ``classes``."""
    try:
        shown = np.unique(labels)[:10].tolist()
    except TypeError:  # a mix NumPy cannot sort
        shown = list(dict.fromkeys(labels.tolist()))[:10]
    raise ValueError(f"y contains labels that are not in classes ({classes.tolist()}): {shown}.")


def _tensor_positions(classes, y):
    """Index of each label of the tensor ``y`` in the sorted numeric ``classes``, where ``y`` lives."""
    if classes.dtype not in TORCH_NUMPY_DTYPES or y.dtype not in _PROMOTED:
        # uint16/32/64 or longdouble classes (partial_fit(classes=...)): NumPy compares them with the labels.
        return torch.as_tensor(_host_positions(classes, y.cpu().numpy()), device=y.device)
    # A copy (a few labels): classes_ of a model loaded with joblib's mmap_mode is read-only, and torch warns on those.
    known = torch.as_tensor(np.array(classes), device=y.device)
    common = torch.promote_types(known.dtype, y.dtype)  # as NumPy compares int32 labels with int64 classes
    if common == torch.bool:  # torch.searchsorted takes no booleans: False < True as 0 < 1
        common = torch.uint8
    known, values = known.to(common), y.to(common)
    position = torch.searchsorted(known, values).clamp_(0, len(classes) - 1)
    unknown = known[position] != values
    if bool(unknown.any()):
        _refuse_unknown(classes, y[unknown].cpu().numpy())
    return position


def class_weights(class_weight, *, classes, y, sample_weight=None):
    """scikit-learn's ``compute_class_weight``, refusing a weight that is negative or not finite.

    scikit-learn takes such a weight from a ``class_weight`` dict and fits with it: a negative
    weight makes the objective unbounded below (the fit then predicts one class everywhere),
    a NaN one fails inside the solver with a message about the data.
    """
    if isinstance(class_weight, str) and class_weight == "balanced" and sample_weight is not None:
        # "balanced" divides by each class's total sample_weight: a class whose rows all weigh 0 would get an
        # infinite weight (NumPy's divide-by-zero warning, then a refusal naming a weight the user never gave).
        totals = np.bincount(
            np.searchsorted(classes, y), weights=np.asarray(sample_weight, dtype=np.float64), minlength=len(classes)
        )
        with np.errstate(over="ignore"):
            total = totals.sum()
        if not np.isfinite(total):  # weights summing beyond float64: the fit's words, not a NaN class weight
            raise ValueError(
                "The sample weights sum to inf, beyond float64's range, and class_weight='balanced' divides by each "
                f"class's total. {_SAME_MODEL}."
            )
        if np.any(totals == 0):
            label = classes[np.flatnonzero(totals == 0)[:1]].tolist()[0]
            raise ValueError(
                f"class_weight='balanced' weighs each class by n_samples / (n_classes * its total sample_weight), "
                f"and class {label!r} has a total sample_weight of 0 (every row of it weighs 0). Drop those rows, "
                "give them positive weights, or pass class_weight as a dict."
            )
    weights = compute_class_weight(class_weight, classes=classes, y=y, sample_weight=sample_weight)
    bad = ~np.isfinite(weights) | (weights < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        label = classes[i].item() if isinstance(classes[i], np.generic) else classes[i]
        # The value as the user wrote it (None, a string): compute_class_weight's float array showed it as nan.
        shown = float(weights[i])
        if isinstance(class_weight, dict):
            shown = next((v for k, v in class_weight.items() if k == label), shown)
        if isinstance(shown, np.number):
            shown = shown.item()
        raise ValueError(
            f"class_weight gives class {label!r} the weight {shown!r}; class weights must be finite and non-negative "
            "numbers."
        )
    return weights


def per_row(values, index):
    """``values[index]``: NumPy for NumPy indices, a tensor on their device for tensor indices."""
    if isinstance(index, torch.Tensor):
        return torch.as_tensor(np.array(values), device=index.device)[index]  # a copy: see _tensor_positions
    return values[index]


def pos_weight_tensor(targets, dtype, device):
    """``pos_weight`` in the training dtype on ``device`` (None without one), checked by :func:`check_pos_weight`."""
    if targets.pos_weight is None:
        return None
    check_pos_weight(targets.pos_weight, dtype)
    return torch.as_tensor(targets.pos_weight, dtype=dtype, device=device)


def check_pos_weight(pos_weight, dtype):
    """A ValueError in the parameter's words for a ``pos_weight`` the training ``dtype`` cannot hold (float32:
    3.4e38): it became infinite and failed the fit with a message about large feature values. In memory through
    :func:`pos_weight_tensor`; a dask fit, whose blocks convert it on the workers, calls this before loading them."""
    if pos_weight is None:
        return
    largest, top = float(np.max(pos_weight, initial=0.0)), torch.finfo(dtype).max
    if largest > top:  # float64 holds every finite pos_weight (they are checked finite in float64)
        name = str(dtype).removeprefix("torch.")
        raise ValueError(
            f"pos_weight reaches {largest:.3g}, beyond the range of the training dtype {name} ({top:.3g}). Use a "
            "smaller pos_weight, or fit with dtype='float64'."
        )
