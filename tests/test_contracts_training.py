"""The estimators' training loop (``_training``: ``_train``, ``_continue_in_float64``, ``_preconditioner``).

Contracts: the validation split of early stopping (the rows scikit-learn's ``train_test_split`` holds out
from the canonical rows, with the seed drawn from ``random_state``) and its loss; ``pos_weight`` fits as
BCE-with-logits with that ``pos_weight`` (a ``LogisticRegression`` per label with the positive rows
weighted, float64 from the start or a float32 run continued in float64); float32's gradient rule is trusted
exactly when 32 float32 ulps of the largest ``|x|`` stay within ``tol`` (otherwise the float32 "converged"
is confirmed on a float64 copy); L-BFGS's diagonal preconditioner: its band (column scales further apart
than ``_SCALE_RATIO_PRECONDITIONED``, the intercept counted as a column of ones), its L2 term, and the
screen on ``max |x|`` that spares the column pass inside the band without ever changing the decision.
"""

import math
import warnings
from unittest import mock

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy.special import expit
from sklearn.datasets import make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from skorch.callbacks import Callback

from torchlogit import TorchLogisticClassifier, TorchMultiLabelClassifier
from torchlogit._modules import LinearLogits
from torchlogit._objective import RegularizedLogLoss
from torchlogit._rows import canonical_rows
from torchlogit._training import _SCALE_RATIO_PRECONDITIONED, _preconditioner
from torchlogit._training_set import TrainingSet

from .conftest import quiet, requires_cuda


def _multilabel(n=120, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    Y = np.c_[X @ [1.0, -1.0, 0.5] + rng.logistic(size=n) > 1.0, X @ [-0.5, 0.0, 1.0] + rng.logistic(size=n) > 0]
    return X, Y.astype(int)


# ------------------------------------------------------------------------------ validation split


@pytest.mark.parametrize(("dtype", "rtol"), [("float32", 1e-5), ("float64", 1e-12)])
def test_valid_loss_is_the_pos_weighted_log_loss_of_the_rows_train_test_split_holds_out(dtype, rtol):
    """Early stopping holds out the rows ``train_test_split(range(n_distinct), test_size, random_state=seed)``
    picks from the canonical rows (seed: one draw from ``random_state``, as MLPClassifier), and records on them
    the weighted mean log-loss of the epoch's model, with ``pos_weight`` on the positive terms (sparse input), in
    the training dtype."""
    X, Y = _multilabel()
    pos_weight = np.array([3.0, 0.5])
    clf = TorchMultiLabelClassifier(
        solver="adam",
        early_stopping=True,
        validation_fraction=0.25,
        max_iter=1,
        pos_weight=pos_weight,
        random_state=0,
        dtype=dtype,
    )
    quiet(clf.fit, sp.csr_matrix(X), Y)
    rows, _ = canonical_rows(X, Y.astype(np.float64), np.ones(len(X)))
    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    train, valid = train_test_split(np.arange(len(rows)), test_size=0.25, random_state=seed)
    assert sum(b["train_batch_size"] for b in clf.history_[0]["batches"]) == len(train)
    held_out = rows[valid]
    z, y = clf.decision_function(X[held_out]).astype(np.float64), Y[held_out]
    bce = -(pos_weight * y * np.log(expit(z)) + (1 - y) * np.log(expit(-z))).sum(axis=1)
    np.testing.assert_allclose(clf.history_[0]["valid_loss"], bce.mean(), rtol=rtol)


def test_random_state_orders_the_mini_batches_of_a_linear_model():
    """A linear model starts at zero, so ``random_state`` acts through the shuffling of the mini-batches alone:
    the same seed gives the same fit, another seed another one (as SGDClassifier / MLPClassifier)."""
    X, Y = _multilabel()
    fits = [
        quiet(TorchLogisticClassifier(solver="adam", batch_size=16, max_iter=3, random_state=seed).fit, X, Y[:, 0])
        for seed in (0, 0, 1)
    ]
    np.testing.assert_array_equal(fits[0].coef_, fits[1].coef_)
    assert not np.array_equal(fits[0].coef_, fits[2].coef_)


# ------------------------------------------------------------------------------ pos_weight


@pytest.mark.parametrize(("dtype", "sparse"), [("float64", False), ("float32", True)])
def test_pos_weight_fits_as_logistic_regression_with_the_positive_rows_weighted(dtype, sparse):
    """Label j's BCE with ``pos_weight[j]`` is LogisticRegression on label j with sample weight ``pos_weight[j]``
    on its positive rows (the same C: both objectives are C * sum of weighted losses + |w|^2 / 2 up to a
    factor). float64 from the start, and float32 (sparse) stalling short of tol = 1e-8 then continued in
    float64: the continuation keeps ``pos_weight``."""
    X, Y = _multilabel(n=200, seed=1)
    pos_weight = np.array([4.0, 0.25])
    clf = TorchMultiLabelClassifier(pos_weight=pos_weight, tol=1e-8, max_iter=500, dtype=dtype)
    clf.fit(sp.csr_matrix(X) if sparse else X, Y)
    if dtype == "float32":
        assert "float64" in [row["precision"] for row in clf.history_]
    for j in range(2):
        weight = np.where(Y[:, j] == 1, pos_weight[j], 1.0)
        ref = LogisticRegression(solver="newton-cholesky", tol=1e-12).fit(X, Y[:, j], sample_weight=weight)
        np.testing.assert_allclose(clf.coef_[j], ref.coef_[0], atol=1e-6)
        np.testing.assert_allclose(clf.intercept_[j], ref.intercept_[0], atol=1e-6)


@requires_cuda
def test_pos_weight_on_cuda_fits_as_on_the_cpu():
    """The ``pos_weight`` tensor lives where the data does, in both phases of a float32 run on CUDA."""
    X, Y = _multilabel(n=200, seed=1)
    params = dict(pos_weight=[4.0, 0.25], tol=1e-8, max_iter=500)
    gpu = TorchMultiLabelClassifier(device="cuda", **params).fit(X, Y)
    assert "float64" in [row["precision"] for row in gpu.history_]
    cpu = TorchMultiLabelClassifier(dtype="float64", **params).fit(X, Y)
    np.testing.assert_allclose(gpu.coef_, cpu.coef_, atol=1e-6)


# ------------------------------------------------------------------------------ float32 gradient trust


def _batch_dtypes(estimator, X, y):
    """``(fitted, [dtype of each copy of the training rows made])``."""
    original = TrainingSet.batch
    dtypes = []

    def spy(self, part, dtype, batch_size, *args, **kwargs):
        dtypes.append(dtype)
        return original(self, part, dtype, batch_size, *args, **kwargs)

    with mock.patch.object(TrainingSet, "batch", spy), warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        estimator.fit(X, y)
    return estimator, dtypes


@pytest.mark.parametrize("largest", [1.0, 2.0])
def test_float32_gradient_rule_is_trusted_within_32_ulps_of_the_largest_value(largest):
    """A float32 ``max|grad| <= tol`` ends the fit in float32 (one float32 copy of the rows, no float64 one)
    when ``32 * eps32 * max(max|x|, 1) <= tol``; with tol 1% lower it is confirmed on a float64 copy of the
    rows first. Either way the fit converges (no warning) with the float64 gradient within tol."""
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, (200, 3))
    X[0, 0] = largest  # max |x|, exactly
    y = (X @ [1.0, -2.0, 0.5] + rng.logistic(size=200) > 0).astype(int)
    bound = 32 * float(np.finfo(np.float32).eps) * largest
    for tol, copies in ((bound, [torch.float32]), (0.99 * bound, [torch.float32, torch.float64])):
        clf, dtypes = _batch_dtypes(TorchLogisticClassifier(tol=tol), X, y)
        assert dtypes == copies, tol
        assert {row["precision"] for row in clf.history_} == {"float32"}
        residual = expit(X @ clf.coef_[0] + clf.intercept_[0]) - y
        gradient = np.r_[X.T @ residual / len(y) + clf.coef_[0] / len(y), residual.mean()]
        assert np.abs(gradient).max() <= 2 * tol


def test_an_exact_stationary_point_at_tol_zero_is_confirmed_in_float64_without_iterating():
    """Balanced labels on a feature with no signal: the optimum is zero, where the gradient is exactly 0. At
    tol = 0 float32's "0 <= tol" is not trusted; the float64 check on a float64 copy confirms it (0 <= 0): the fit
    converged after its one float32 iteration, with no float64 iteration and no warning."""
    X, y = np.array([[1.0], [-1.0], [1.0], [-1.0]]), np.array([1, 1, 0, 0])
    clf, dtypes = _batch_dtypes(TorchLogisticClassifier(tol=0.0), X, y)
    assert dtypes == [torch.float32, torch.float64]
    assert [row["precision"] for row in clf.history_] == ["float32"] and clf.n_iter_[0] == 1
    assert not clf.coef_.any() and not clf.intercept_.any()


def test_the_float64_phase_takes_the_last_iteration_left():
    """tol = 1e-8 is out of float32's reach: it stalls after n iterations and float64 continues. With max_iter =
    n + 1 the continuation takes that one iteration (both phases count towards max_iter), then warns."""
    X, Y = _multilabel(n=200, seed=2)
    free = TorchLogisticClassifier(tol=1e-8).fit(X, Y[:, 0])
    n = [row["precision"] for row in free.history_].count("float32")
    assert n < free.n_iter_[0]
    clf = TorchLogisticClassifier(tol=1e-8, max_iter=n + 1)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, Y[:, 0])
    assert [row["precision"] for row in clf.history_] == ["float32"] * n + ["float64"]
    assert clf.n_iter_[0] == n + 1


# ------------------------------------------------------------------------------ preconditioner


def _criterion(C=1.0, l1_ratio=0.0, weight_sum=100.0):
    return RegularizedLogLoss("binary", C, l1_ratio, weight_sum, n_samples=int(weight_sum))


@pytest.mark.parametrize(
    ("largest", "preconditioned"),
    [(0.9e6, False), (1e6, False), (1.1e6, True), (1 / 1.5e6, True), (1 / 0.9e6, False)],
    ids=["0.9e6", "1e6", "1.1e6", "1/1.5e6", "1/0.9e6"],
)
def test_the_band_is_a_ratio_of_1e6_to_the_intercepts_column_of_ones(largest, preconditioned):
    """Unpenalized, one column's factor is 1 / max|x| and the intercept's is 1: preconditioned exactly when the
    two lie further apart than 1e6 (a ratio of 1e6 itself stays on scikit-learn's path), large or small."""
    X = torch.tensor([[largest], [-0.5 * largest]], dtype=torch.float64)
    factor = _preconditioner(X, LinearLogits(1, 1, dtype=torch.float64), _criterion(C=float("inf")))
    assert (factor is not None) == preconditioned
    if preconditioned:
        np.testing.assert_allclose(factor.numpy(), [1 / largest, 1.0], rtol=1e-12)


def test_the_l2_term_of_the_factors_is_the_penalty_without_its_l1_part():
    """Elastic net: the curvature bound's L2 term is (1 - l1_ratio) / (C S), so a column too small to matter gets
    1 / sqrt(4 (1 - l1_ratio) / (C S))."""
    X = torch.tensor([[1e-9, -1.0, 5e7], [0.0, 0.5, -1e8]], dtype=torch.float64)
    factor = _preconditioner(X, LinearLogits(3, 1, dtype=torch.float64), _criterion(C=2.0, l1_ratio=0.5))
    l2 = 0.5 / (2.0 * 100.0)
    np.testing.assert_allclose(factor.numpy(), np.r_[1 / np.sqrt(np.array([1e-9, 1.0, 1e8]) ** 2 + 4 * l2), 1.0])


def test_data_whose_columns_cannot_be_scanned_keeps_plain_lbfgs():
    """No column maxima (data that is not a tensor): no preconditioner."""
    X = sp.random(5, 3, density=0.5, format="csr", random_state=0)
    assert _preconditioner(X, LinearLogits(3, 1, dtype=torch.float64), _criterion(C=float("inf"))) is None


def _with_largest(largest, zero_column=False, seed=0):
    X = np.random.RandomState(seed).uniform(0.1, 0.9, (100, 4)) * largest
    X[0, 1] = largest
    if zero_column:
        X[:, 0] = 0.0
    return torch.from_numpy(X)


def _C_for(zero_column_factor, weight_sum=100.0):
    """The C whose L2 term gives a column of zeros the factor ``1 / sqrt(4 l2)`` = ``zero_column_factor``."""
    return 4 * zero_column_factor**2 / weight_sum


@pytest.mark.parametrize(
    ("X", "C"),
    [
        (_with_largest(1.0), _C_for(0.7e6)),  # a column of zeros could sit at 0.7e6: inside
        (_with_largest(10.0), _C_for(0.7e5)),  # 0.7e5 against the largest column's 1/10: inside
        (_with_largest(1.0), 4 / (0.9e12 * 100.0)),  # every factor ~1/sqrt(0.9e12), the intercept's 1: inside
    ],
    ids=["zero-column-bound", "largest-column-bound", "all-factors-tiny"],
)
def test_inside_the_band_max_abs_settles_it_without_a_column_pass(X, C):
    """With an L2 penalty the factors lie between 1 / sqrt(max|x|^2 + 4 l2) and 1 / sqrt(4 l2): inside the band,
    close to its edge, that bound decides (no column pass) and agrees with the full pass."""
    module, criterion = LinearLogits(4, 1, dtype=torch.float64), _criterion(C=C)
    assert _preconditioner(X, module, criterion) is None
    with mock.patch("torchlogit._training.column_max_abs", side_effect=AssertionError("column pass")):
        assert _preconditioner(X, module, criterion, max_abs=float(X.abs().max())) is None


@pytest.mark.parametrize(
    ("X", "C"),
    [
        (_with_largest(1.0, zero_column=True), _C_for(1.05e6)),  # the zero column's factor 1.05e6 against 1
        (_with_largest(10.0, zero_column=True), _C_for(1.5e5)),  # 1.5e5 against the largest column's 1/10
    ],
    ids=["zero-column-vs-intercept", "zero-column-vs-largest-column"],
)
def test_just_outside_the_band_the_screen_leaves_the_decision_to_the_column_pass(X, C):
    """A column of zeros whose factor (its L2 curvature's) lies just over 1e6 from the smallest: preconditioned,
    with max |x| given or not."""
    module, criterion = LinearLogits(4, 1, dtype=torch.float64), _criterion(C=C)
    full = _preconditioner(X, module, criterion)
    assert full is not None
    assert float(full.max() / full.min()) > _SCALE_RATIO_PRECONDITIONED
    np.testing.assert_array_equal(_preconditioner(X, module, criterion, max_abs=float(X.abs().max())).numpy(), full)


def test_a_fit_inside_the_band_makes_no_column_pass():
    """fit hands the preconditioner the batch's max |x|: an L2-penalised fit on unit-scale data never scans its
    columns."""
    rng = np.random.RandomState(0)
    X = rng.randn(100, 4)
    y = (X[:, 0] + rng.logistic(size=100) > 0).astype(int)
    with mock.patch("torchlogit._training.column_max_abs", side_effect=AssertionError("column pass")):
        TorchLogisticClassifier().fit(X, y)


class _InterruptAfterBatches(Callback):
    """A user callback that interrupts training after ``n`` mini-batches (skorch ends the fit there, as for Ctrl-C)."""

    def __init__(self, n):
        self.n = n

    def initialize(self):
        self.seen = 0
        return self

    def on_batch_end(self, net, **kwargs):
        self.seen += 1
        if self.seen == self.n:
            raise KeyboardInterrupt


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_a_mini_batch_fit_interrupted_after_diverging_is_refused(solver, breast_cancer):
    """The end-of-epoch check of the stopping rule never runs when a fit is interrupted mid-epoch; the fit's own
    final check still refuses non-finite parameters (``MLPClassifier``'s words) instead of publishing them.
    Adam: an L2 step of ``lr / (C n)`` = 1e7 times the weights multiplies them by ~1e7 a batch: inf within a few.
    SGD (whose overshooting L2 step is refused before training): unpenalised steps of 3e38 times the gradient."""
    X, y = breast_cancer
    model = TorchLogisticClassifier(
        solver=solver,
        learning_rate_init=3e38 if solver == "sgd" else 1e30,
        C=np.inf if solver == "sgd" else 1e-6,
        batch_size=20,
        momentum=0.0,
        # (29 batches an epoch: SGD's bounded steps reach inf after a dozen or more)
        callbacks=[("interrupt", _InterruptAfterBatches(12 if solver == "adam" else 28))],
        random_state=0,
    )
    with pytest.raises(ValueError, match="diverged with learning_rate_init"):
        model.fit(X, y)
    assert not hasattr(model, "coef_")


# Mutation survey h2 (stop 49): each test kills a one-line mutant the suite let through.
def test_float32_gradient_rule_keeps_the_intercepts_unit_scale_for_small_features():
    """T01 (``max(max_abs, 1.0)`` -> ``max_abs`` in ``_float32_gradient_trusted``): the intercept's column is 1,
    so features of 1e-3 do not make a float32 gradient of 1e-6 trustworthy (32 ulps of 1 = 3.8e-6)."""
    from torchlogit._training import _float32_gradient_trusted

    assert not _float32_gradient_trusted(1e-3, 1e-6)
    assert _float32_gradient_trusted(1e-3, 1e-4)


def test_data_exactly_three_times_wider_than_tall_keeps_sklearns_plain_lbfgs():
    """T02 (``>=`` -> ``>`` in ``_preconditioner``'s wide-data rule): 30 x 90 with columns from 1e-4 to 1e4 at C=1e3
    converges in ~31 iterations on plain L-BFGS as LogisticRegression (33); preconditioned it hit max_iter=100."""
    rng = np.random.RandomState(0)
    X = rng.randn(30, 90) * np.logspace(-4, 4, 90)
    y = (X[:, -1] + X[:, -2] > 0).astype(int) ^ (rng.rand(30) < 0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = TorchLogisticClassifier(C=1e3).fit(X, y)
    assert clf.n_iter_[0] < 60


@pytest.mark.parametrize("batch_size, clipped", [(85, False), (86, True)])
def test_the_batch_size_warning_counts_the_held_out_rows_as_mlpclassifier(batch_size, clipped):
    """T06 (``math.ceil`` -> ``int`` in ``_batch_size``): 95 rows, validation_fraction=0.1: train_test_split holds out
    ceil(9.5) = 10 rows, leaving 85, so batch_size=86 is clipped and warned about, as MLPClassifier does."""
    from sklearn.neural_network import MLPClassifier

    from torchlogit import TorchMultiLabelClassifier

    rng = np.random.RandomState(0)
    X = rng.randn(95, 3)
    Y = np.c_[X[:, 0] > 0, X[:, 1] > 0].astype(int)
    for est in (
        MLPClassifier(hidden_layer_sizes=(), solver="adam", batch_size=batch_size, early_stopping=True, max_iter=2),
        TorchMultiLabelClassifier(solver="adam", batch_size=batch_size, early_stopping=True, max_iter=2),
    ):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est.fit(X, Y)
        texts = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
        assert any("larger than sample size" in t for t in texts) == clipped, (type(est).__name__, texts)


def test_a_callback_that_resets_the_coefficients_is_seen_by_the_next_lbfgs_iteration():
    """h5's mutant S21 at the estimator level: a user callback that zeroes the coefficients after the second
    iteration; the third iteration's starting objective (its first batch loss) is the one at zero, log 2."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    class ZeroAtTwo(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 2:
                with torch.no_grad():
                    for q in net.module_.parameters():
                        q.zero_()

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = TorchLogisticClassifier(max_iter=4, dtype="float64", callbacks=[("zero", ZeroAtTwo())])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    start_of_third = clf.history_[2]["batches"][0]["train_loss"]
    assert start_of_third == pytest.approx(math.log(2), rel=1e-9)


def test_the_refused_sgd_rate_message_names_the_largest_rate_that_is_accepted():
    """h5's mutant M15 (the suggested ``learning_rate_init <`` bound without its ``1 / (1 - l1_ratio)``): with
    l1_ratio=0.5 the bound the message names is where the refusal starts, not half of it."""
    import re

    from torchlogit._training import check_step_sizes

    rng = np.random.RandomState(0)
    X = rng.standard_normal((60, 3))
    y = (X[:, 0] > 0).astype(int)
    clf = TorchLogisticClassifier(solver="sgd", C=1e-3, l1_ratio=0.5, learning_rate_init=10.0, max_iter=2)
    with pytest.raises(ValueError, match="diverges") as info:
        clf.fit(X, y)
    largest = float(re.search(r"Use learning_rate_init < ([0-9.e+-]+),", str(info.value)).group(1))
    args = ("sgd",)
    rest = (clf.momentum, 1e-3, 0.5, 60.0, torch.float64)
    check_step_sizes(*args, 0.99 * largest, *rest)  # accepted just below the bound named
    with pytest.raises(ValueError, match="diverges"):
        check_step_sizes(*args, 1.01 * largest, *rest)


def test_only_a_linear_models_float32_stall_is_judged_by_its_rounding(monkeypatch):
    """A hidden-layer float32 L-BFGS fit is judged stalled by the ftol rule alone: the rounding bound
    (eps32 max|x| ||theta||_1 / sqrt(n_eff)) is derived for X @ W, the linear model's only."""
    from torchlogit import _training

    seen = []

    class Recording(_training.LBFGSConvergence):
        def __init__(self, *args, rounding=None, **kwargs):
            seen.append(rounding)
            super().__init__(*args, rounding=rounding, **kwargs)

    monkeypatch.setattr(_training, "LBFGSConvergence", Recording)
    X, Y = make_multilabel_classification(n_samples=100, n_features=8, n_classes=3, random_state=0)
    X = (X - X.mean(0)) / X.std(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        TorchMultiLabelClassifier((), solver="lbfgs", dtype="float32", max_iter=3).fit(X, Y)
        TorchMultiLabelClassifier((4,), solver="lbfgs", dtype="float32", max_iter=3, random_state=0).fit(X, Y)
    assert seen[0] is not None  # linear: the rounding bound applies
    assert seen[1] is None  # hidden layers: the ftol rule alone
