"""What target encoding hands to training: one logit for two classes, stratified hold-outs, pos_weight's device."""

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from torchlogit import TorchLogisticClassifier, TorchMultiLabelClassifier
from torchlogit._compat import warns_of_many_classes
from torchlogit._targets import Targets, encode_labels, label_targets, pos_weight_tensor, unique_labels
from torchlogit._training_set import hold_out


@pytest.mark.parametrize("labels", [["no", "yes"], [3, 7]])
def test_two_classes_are_one_logit_with_the_second_class_positive(labels):
    """As LogisticRegression: coef_ of shape (1, n_features), a 1-D decision_function whose sign picks classes_[1]."""
    X, y01 = make_classification(n_samples=80, n_features=5, random_state=0)
    y = np.asarray(labels)[y01]
    targets = encode_labels(y)
    assert (targets.kind, targets.n_outputs) == ("binary", 1)
    ours = TorchLogisticClassifier(dtype="float64", tol=1e-8).fit(X, y)
    theirs = LogisticRegression(tol=1e-8).fit(X, y)
    assert ours.coef_.shape == theirs.coef_.shape == (1, 5)
    assert ours.decision_function(X).shape == (80,)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-5)


@pytest.mark.parametrize(
    "labels",
    [
        np.array([3, 7, 3, 3, 7], dtype=np.int64),
        np.array([-5, 2, -5, 9, 0, 2], dtype=np.int32),
        np.array([0, 255, 17, 255], dtype=np.uint8),
        np.array([-128, 127, 0, -128], dtype=np.int8),
        np.array([4, 1, 4], dtype=np.int16),
        np.array([np.iinfo(np.int64).min, 0, np.iinfo(np.int64).max, 0], dtype=np.int64),  # beyond any count
        np.array([0, 10**6, 10**6, 5], dtype=np.int64),  # a span wider than the labels: sorted instead
        np.array([True, False, True]),
        np.array([0.5, -1.0, 0.5]),
    ],
)
def test_labels_are_encoded_exactly_as_torch_unique_does(labels):
    """Counting (short integer spans) or sorting, the classes and codes are torch.unique's, dtypes included."""
    y = torch.from_numpy(labels)
    classes, codes = unique_labels(y)
    expected_classes, expected_codes = torch.unique(y, sorted=True, return_inverse=True)
    assert classes.dtype == expected_classes.dtype and codes.dtype == expected_codes.dtype
    assert torch.equal(classes, expected_classes) and torch.equal(codes, expected_codes)


def test_three_classes_are_one_logit_each():
    targets = label_targets(np.array(["a", "b", "c"]), np.array([0, 1, 2, 1]))
    assert (targets.kind, targets.n_outputs) == ("multinomial", 3)


def test_multiclass_early_stopping_holds_out_a_stratified_validation_set():
    """1-D classes with early_stopping (a hidden-layer multi-label estimator): the held-out rows are split with
    stratify=y, as MLPClassifier does for classifiers, not at random."""
    y = np.array([0] * 90 + [1] * 10)
    clf = TorchMultiLabelClassifier(
        hidden_layer_sizes=(4,), early_stopping=True, validation_fraction=0.2, random_state=3
    )
    targets = clf._targets(y, None)
    np.testing.assert_array_equal(targets.stratify, y)
    held = hold_out(np.arange(100), np.ones(100, dtype=np.int64), targets, clf._validation_fraction(), clf._seed())
    valid = np.flatnonzero(held)
    stratified = train_test_split(np.arange(100), test_size=0.2, random_state=clf._seed(), stratify=y)[1]
    unstratified = train_test_split(np.arange(100), test_size=0.2, random_state=clf._seed())[1]
    assert np.bincount(y[unstratified], minlength=2).tolist() != [18, 2]  # the seed tells the two apart
    np.testing.assert_array_equal(valid, np.sort(stratified))
    assert np.bincount(y[valid]).tolist() == [18, 2]


def test_pos_weight_goes_to_the_training_device_and_dtype():
    """On the device asked for ("meta" stands for any device but the host here) and in the training dtype."""
    targets = Targets("multilabel", np.zeros((2, 2)), np.arange(2), 2, pos_weight=np.array([1.0, 3.0]))
    tensor = pos_weight_tensor(targets, torch.float32, torch.device("meta"))
    assert tensor.device.type == "meta" and tensor.dtype == torch.float32
    np.testing.assert_array_equal(pos_weight_tensor(targets, torch.float64, "cpu").numpy(), [1.0, 3.0])
    assert pos_weight_tensor(Targets("multilabel", np.zeros((2, 2)), np.arange(2), 2), torch.float32, "cpu") is None


def _many_classes_warnings(fit, where=None):
    """The many-classes warnings ``fit()`` gives; each at the line of ``where`` (a file), when given."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit()
    found = [w for w in caught if "unique classes is greater than 50%" in str(w.message)]
    assert where is None or all(w.filename == where for w in found), [w.filename for w in found]  # the user's line
    return [str(w.message) for w in found]


@pytest.mark.parametrize(("n_samples", "n_classes"), [(1000, 30), (100, 50), (100, 51), (20, 15), (21, 11), (40, 2)])
def test_the_many_classes_warning_is_scikit_learns_for_arrays_tensors_and_partial_fit(n_samples, n_classes):
    """scikit-learn warns when there are more distinct labels than half the samples (and more than 20 samples). Our
    labels are encoded from their distinct values: checking those alone warned on every fit of more than 20 classes.
    Now the warning comes exactly when LogisticRegression's does, in the same words, for NumPy labels, tensors and a
    tensor partial_fit."""
    rng = np.random.RandomState(0)
    X = rng.standard_normal((n_samples, 3))
    y = np.arange(n_samples) % n_classes
    theirs = _many_classes_warnings(lambda: LogisticRegression(max_iter=2).fit(X, y))
    # scikit-learn >= 1.7's rule; 1.6 has no such warning (torchlogit follows the release installed)
    rule = n_classes > 2 and n_samples > 20 and n_classes > round(0.5 * n_samples)
    assert bool(theirs) == (rule and warns_of_many_classes())
    for fit in (
        lambda: TorchLogisticClassifier(max_iter=2).fit(X, y),
        lambda: TorchLogisticClassifier(max_iter=2).fit(torch.from_numpy(X), torch.from_numpy(y)),
        lambda: TorchLogisticClassifier(max_iter=2).fit(X, y.astype(np.float64)),
        lambda: TorchLogisticClassifier(solver="adam").partial_fit(
            torch.from_numpy(X), torch.from_numpy(y), classes=np.arange(n_classes)
        ),
    ):
        assert _many_classes_warnings(fit, where=__file__) == theirs


def test_labels_that_are_not_classes_get_scikit_learns_error_from_arrays_and_tensors():
    X = np.random.RandomState(0).standard_normal((30, 3))
    y = np.tile([0.5, 1.0, 1.5], 10)
    with pytest.raises(ValueError) as theirs:
        LogisticRegression().fit(X, y)
    for labels in (y, torch.from_numpy(y)):
        with pytest.raises(ValueError) as ours:
            TorchLogisticClassifier().fit(X, labels)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(ValueError) as ours:
        TorchLogisticClassifier(solver="adam").partial_fit(
            torch.from_numpy(X), torch.from_numpy(y), classes=[0.5, 1.0, 1.5]
        )
    assert str(ours.value) == str(theirs.value)


# (mutation survey h4, T05: the whole array for `classes[0]` in check_two_classes' message)
def test_one_class_is_refused_in_logistic_regressions_words():
    X = np.random.default_rng(0).standard_normal((10, 2))
    for y in (np.ones(10, int), np.array(["a"] * 10)):
        with pytest.raises(ValueError) as expected:
            LogisticRegression().fit(X, y)
        with pytest.raises(ValueError) as got:
            TorchLogisticClassifier().fit(X, y)
        assert str(got.value) == str(expected.value)


# (mutation survey h4, T04: `> 0.5 * n_samples` for scikit-learn's `> round(0.5 * n_samples)` in check_label_values)
def test_the_many_classes_warning_for_tensor_labels_rounds_half_the_samples_as_scikit_learn():
    """12 classes in 23 samples: round(11.5) is 12, no warning; 13 classes warn (where this scikit-learn warns at
    all): tensor labels as NumPy ones, as check_classification_targets."""
    import warnings

    from sklearn.utils.multiclass import check_classification_targets

    X = np.random.default_rng(0).standard_normal((23, 2))
    for n_classes in (12, 13):
        y = np.r_[np.arange(n_classes), np.arange(23 - n_classes)]
        said = []
        for check in (
            lambda y: check_classification_targets(y),
            lambda y: TorchLogisticClassifier(max_iter=2).fit(torch.tensor(X), torch.tensor(y)),
        ):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                check(y)
            said.append(any("50%" in str(w.message) for w in caught))
        assert said[1] == said[0] == (n_classes == 13 and warns_of_many_classes())


# (mutation survey h4, T12: the classes' dtype for the common one in _tensor_positions)
def test_partial_fit_refuses_tensor_labels_outside_classes_whatever_their_dtype():
    """257 (int64) is not the class 1 of uint8 classes, for tensor labels as for NumPy ones: a cast to the classes'
    dtype wrapped it around to 1 and trained on it."""
    X = torch.tensor(np.random.default_rng(0).standard_normal((4, 2)))
    classes, y = np.array([0, 1], dtype=np.uint8), torch.tensor([0, 257, 1, 0])
    for data, labels in ((X.numpy(), y.numpy()), (X, y)):
        with pytest.raises(ValueError, match="y contains labels that are not in classes"):
            TorchLogisticClassifier(solver="sgd").partial_fit(data, labels, classes=classes)


# (mutation survey h4, T11: float32's top for the training dtype's in check_pos_weight)
def test_pos_weight_beyond_float32_is_refused_only_for_float32_fits():
    import warnings

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    Y = (X > 0).astype(int)
    with pytest.raises(ValueError, match="beyond the range of the training dtype float32"):
        TorchMultiLabelClassifier(pos_weight=[1e39, 1.0], dtype="float32", max_iter=3).fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = TorchMultiLabelClassifier(pos_weight=[1e39, 1.0], dtype="float64", max_iter=3).fit(X, Y)
    assert np.isfinite(model.predict_proba(X)).all()


# (a second mutation survey's T10: a class weight of exactly 0 refused; LogisticRegression takes it)
def test_a_zero_class_weight_is_accepted_as_logistic_regression_accepts_it(noisy_binary):
    X, y = noisy_binary
    y = np.where(np.arange(len(y)) % 3 == 0, 2, y)  # three classes: class 2 weighs nothing
    clf = TorchLogisticClassifier(class_weight={0: 1.0, 1: 1.0, 2: 0.0}, max_iter=50).fit(X, y)
    assert clf.coef_.shape == (3, 4)


# (a second mutation survey's T13: labels of a dtype torch does not promote (uint16/32/64) sent to
# torch.promote_types with int64 classes: torch's "Promotion for uint16, uint32, uint64 types is not supported").
# Through the public API on the CPU such labels are converted before they get here; a device tensor's are not.
@pytest.mark.parametrize("name", ["uint16", "uint32", "uint64"])
def test_tensor_positions_of_labels_torch_does_not_promote(name):
    from torchlogit._targets import _tensor_positions

    dtype = getattr(torch, name, None)
    if dtype is None:
        pytest.skip(f"torch {torch.__version__} has no {name} (torch 2.3 added it)")
    positions = _tensor_positions(np.array([0, 1, 5]), torch.tensor([5, 0, 1, 0], dtype=dtype))
    np.testing.assert_array_equal(positions.cpu().numpy(), [2, 0, 1, 0])
    with pytest.raises(ValueError, match=r"not in classes .*\[3\]"):
        _tensor_positions(np.array([0, 1, 5]), torch.tensor([3, 0], dtype=dtype))


# (a second mutation survey's T06: float classes with tensor labels sent down the NumPy path, which
# hands back NumPy positions where the training code wants a tensor: AttributeError "'numpy.ndarray' object has
# no attribute 'to'")
def test_partial_fit_takes_float_tensor_labels_against_float_classes(noisy_binary):
    X, y = noisy_binary
    clf = TorchLogisticClassifier(solver="adam", max_iter=2)
    clf.partial_fit(torch.as_tensor(X), torch.as_tensor(y, dtype=torch.float64), classes=np.array([0.0, 1.0]))
    np.testing.assert_array_equal(clf.classes_, [0.0, 1.0])
    with pytest.raises(ValueError, match=r"not in classes .*\[2\.0\]"):
        clf.partial_fit(torch.as_tensor(X[:3]), torch.tensor([0.0, 2.0, 1.0], dtype=torch.float64))
