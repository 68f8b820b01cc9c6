"""Tests for the hand-made bugs of scripts/seeded_bugs.py that the rest of the suite missed.

Each test states something true of the package, checked against an independent reference
(scikit-learn's own rule or formula, a closed form, an exact sum), and its section names the
drill's bugs (numbers in ``scripts/seeded_bugs.py --list``) it was written for. A bug the
module's own tests already catch has no test here.
"""

import math

import numpy as np
import pytest
import torch

from torchlogit import TorchLogisticClassifier
from torchlogit._compat import sklearn_release

from .conftest import compared_rows


def _data(n=120, d=4, seed=0, classes=2):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d))
    logits = X @ rng.normal(size=(d, classes))
    y = np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)
    return X, y


# -------------------------------------------- weight sums, blocked sums, shuffling (bugs 61, 71, 74)
def test_weight_sum_is_accumulated_in_float64():
    from torchlogit._data import weight_total

    weight = np.full(100_000, 0.1)
    assert weight_total(weight) == pytest.approx(math.fsum(weight), rel=1e-12)
    assert weight_total(torch.from_numpy(weight)) == pytest.approx(math.fsum(weight), rel=1e-12)


@pytest.mark.parametrize("n", [1, 63, 64, 65, 129, 200])
def test_blocked_column_sums_keep_every_row(n):
    from torchlogit._batched import _column_sums

    A = torch.arange(1.0, n * 3 + 1, dtype=torch.float64).reshape(n, 3)
    torch.testing.assert_close(_column_sums(A), A.sum(0))
    # Along the last axis (the multinomial batch's losses are (problems, rows)): the same sums.
    torch.testing.assert_close(_column_sums(A.T.contiguous(), dim=1), A.sum(0))


def test_minibatches_are_reshuffled_every_epoch():
    from torchlogit._net import TensorData, _ShuffledBatches

    n = 50
    data = TensorData(torch.arange(float(n))[:, None], torch.zeros(n), torch.ones(n))
    orders = []
    for epoch in range(3):
        batches = _ShuffledBatches(data, 10, seed=0, epoch=lambda epoch=epoch: epoch)
        orders.append(torch.cat([X[:, 0] for X, _ in batches]).tolist())
    assert all(sorted(order) == list(range(n)) for order in orders)
    assert orders[0] != orders[1] and orders[1] != orders[2]


# ---------------------------------------------------------------- rows and labels (bugs 22, 25)
@pytest.mark.parametrize("scale", [1.0, 1e15])
def test_equal_rows_with_other_labels_are_never_merged(scale):
    """Same features, other label: two training rows, whatever the feature scale (at 1e15 their projection keys
    lie within the tie bound, so the rows' contents, labels included, must tell them apart)."""
    from torchlogit._rows import canonical_rows

    X = np.array([[scale, 1.0], [scale, 1.0], [scale, 1.0], [2.0, 3.0]])
    rows, weight = canonical_rows(X, np.array([0, 1, 1, 0]), np.array([1.0, 2.0, 0.5, 1.0]))
    assert len(rows) == 3
    assert sorted(weight.tolist()) == [1.0, 1.0, 2.5]
    merged = {(tuple(X[r]), label) for r, label in zip(rows, np.array([0, 1, 1, 0])[rows], strict=True)}
    assert ((scale, 1.0), 0) in merged and ((scale, 1.0), 1) in merged


@pytest.mark.parametrize(
    "classes, y",
    [([0, 1], [0, 1, 7]), (["a", "b"], ["a", "z", "b"]), ([1, 2], [0, 1, 2])],
    ids=["number-above", "string-above", "number-below"],
)
def test_partial_fit_refuses_labels_outside_classes_by_name(classes, y):
    """As SGDClassifier: a ValueError naming the unknown labels, whether they sort before or after ``classes``."""
    X = np.arange(6.0).reshape(3, 2)
    with pytest.raises(ValueError, match="not in classes"):
        TorchLogisticClassifier(solver="sgd").partial_fit(X, np.array(y), classes=classes)


# ---------------------------------------------------------------- cross-validation (bugs 68, 69)
def _sklearn_reference():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    import sklearn_reference

    return sklearn_reference


def test_cv_without_refit_averages_the_folds_best_cs_as_sklearn():
    """refit=False: ``C_`` is the mean of each fold's best C (LogisticRegressionCV); here the folds disagree."""
    from sklearn.model_selection import StratifiedKFold

    from torchlogit import TorchLogisticClassifierCV

    X, y = _data(n=60, d=3, seed=0)
    params = dict(Cs=[1e-3, 1e-2, 1e-1, 1.0, 10.0], refit=False, cv=StratifiedKFold(5))
    ours = TorchLogisticClassifierCV(dtype="float64", tol=1e-10, **params).fit(X, y)
    reference = _sklearn_reference().logistic_regression_cv(
        l1_ratios=(0.0,), scoring="neg_log_loss", tol=1e-10, max_iter=2000, **params
    )
    reference.fit(X, y)
    best = np.asarray(params["Cs"])[np.argmax(ours.scores_[:, 0, :], axis=1)]
    assert np.mean(best) != np.median(best)  # the folds' choices differ (else any average would do)
    assert float(np.ravel(ours.C_)[0]) == pytest.approx(float(np.ravel(reference.C_)[0]), rel=1e-12)


@pytest.mark.skipif(sklearn_release() < (1, 7), reason='weighted "balanced" class weights are scikit-learn >= 1.7\'s')
def test_cv_balanced_class_weights_count_the_sample_weights_as_sklearn():
    """LogisticRegressionCV computes "balanced" class weights from the weighted class counts (scikit-learn >= 1.7)."""
    from sklearn.model_selection import StratifiedKFold

    from torchlogit import TorchLogisticClassifierCV

    X, y = _data(n=150, d=3, seed=15)
    w = np.where(y == 1, 4.0, 1.0) * np.random.RandomState(16).uniform(0.5, 1.5, size=len(y))
    params = dict(Cs=[0.01, 0.1, 1.0], class_weight="balanced", cv=StratifiedKFold(3))
    ours = TorchLogisticClassifierCV(dtype="float64", tol=1e-10, **params).fit(X, y, sample_weight=w)
    reference = _sklearn_reference().logistic_regression_cv(
        l1_ratios=(0.0,), scoring="neg_log_loss", tol=1e-12, max_iter=2000, **params
    )
    reference.fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.scores_, reference.scores_, atol=1e-6)
    np.testing.assert_allclose(ours.coef_, reference.coef_, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------- L-BFGS (bug 9)
def _lbfgs_iterates(scale, n_steps=25):
    """Iterates of L-BFGS on ``scale * (x - 1)' A (x - 1) / 2``, an ill-conditioned quadratic, from zero."""
    from torchlogit._solvers import LBFGS

    A = torch.diag(torch.tensor([1.0, 3.0, 10.0, 30.0, 100.0], dtype=torch.float64))
    x = torch.zeros(5, dtype=torch.float64)
    optimizer = LBFGS([x])

    def closure():
        r = x - 1.0
        x.grad = scale * (A @ r)
        return scale * 0.5 * (r @ A @ r)

    iterates = []
    for _ in range(n_steps):
        optimizer.step(closure)
        iterates.append(x.clone())
    return torch.stack(iterates)


def test_lbfgs_iterates_do_not_depend_on_the_scale_of_the_objective():
    """Multiplying the objective by c > 0 scales g and y by c and H by 1/c: L-BFGS(-B) takes the same steps
    (its curvature test is relative to the step, gamma = s'y / y'y). An objective averaged over samples
    is small near the optimum, so an absolute test or a wrong gamma shows there."""
    reference = _lbfgs_iterates(1.0)
    assert float((reference[-1] - 1.0).abs().max()) < 1e-8  # it converges
    for scale in (1e-12, 1e6):
        torch.testing.assert_close(_lbfgs_iterates(scale), reference, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- the Newton solver's size check (bug 222)
def test_newton_hessian_size_counts_the_intercept_column():
    """The Hessian has K (d + 1) rows with an intercept: 16383 features + intercept is 2**28 entries (accepted),
    16384 + intercept is over MAX_HESSIAN_SIZE = 2**28 (refused); without the intercept 16384 is exactly 2**28."""
    from torchlogit._newton import MAX_HESSIAN_SIZE, check_hessian_size

    assert MAX_HESSIAN_SIZE == 2**28
    check_hessian_size(16383, 1, True)
    check_hessian_size(16384, 1, False)
    with pytest.raises(ValueError, match="newton-cholesky"):
        check_hessian_size(16384, 1, True)
    with pytest.raises(ValueError, match="newton-cholesky"):
        check_hessian_size(8192, 2, True)  # 2 x 8193 = 16386 rows


# ---------------------------------------------------------------- ONNX export (bugs 223, 224; 225: test_onnx.py)
def test_onnx_labels_refuse_the_integral_float_two_to_the_63():
    """2.0**63 is not an int64 (``astype`` wraps it to -2**63): refused like any label outside int64;
    the largest float below it is kept exactly."""
    from torchlogit._export import integer_labels

    with pytest.raises(ValueError, match="outside its range"):
        integer_labels(np.array([0.0, 2.0**63]))
    below = np.nextafter(2.0**63, 0.0)
    assert integer_labels(np.array([0.0, below])).tolist() == [0, int(below)]


def test_exported_binary_graph_breaks_a_zero_logit_tie_as_predict():
    """A zero logit predicts the negative class (LogisticRegression: ``decision_function > 0``), in the graph too."""
    from torchlogit._export import _Exported

    X, y = _data(n=60, d=2, seed=3)
    clf = TorchLogisticClassifier(dtype="float64").fit(X, y + 3)
    clf.coef_ = np.zeros_like(clf.coef_)
    clf.intercept_ = np.zeros_like(clf.intercept_)
    module = _Exported(clf._fitted_layers(dense=True), "identity", "binary", clf.classes_.astype(np.int64), 0.0)
    label, proba = module(torch.zeros(4, 2, dtype=torch.float32))
    assert clf.predict(np.zeros((4, 2))).tolist() == [3] * 4
    assert label.tolist() == [3] * 4
    torch.testing.assert_close(proba, torch.full((4, 2), 0.5))


# ---------------------------------------------------------------- mini-batches (bug 226)
@pytest.mark.parametrize("n", [20, 21, 29])
def test_minibatches_serve_every_row_once_per_epoch(n):
    """Every row in exactly one batch, the last batch short (``n % batch_size`` rows, one included)."""
    from torchlogit._net import TensorData, _ShuffledBatches

    data = TensorData(torch.arange(float(n))[:, None], torch.zeros(n), torch.ones(n))
    batches = list(_ShuffledBatches(data, 10, seed=0, epoch=lambda: 0))
    assert sorted(torch.cat([X[:, 0] for X, _ in batches]).tolist()) == list(range(n))
    assert [len(X) for X, _ in batches] == [10] * (n // 10) + ([n % 10] if n % 10 else [])


# ---------------------------------------------------------------- the training set (bugs 229, 230)
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_early_stopping_hold_out_is_stratified_as_mlpclassifier(seed):
    """MLPClassifier's validation split is ``train_test_split(..., stratify=y)``: 90 / 10 classes and
    validation_fraction=0.1 hold out exactly 9 rows of one class and 1 of the other, whatever the seed."""
    from types import SimpleNamespace

    from sklearn.model_selection import train_test_split

    from torchlogit._training_set import hold_out

    labels = np.array([0] * 90 + [1] * 10)
    held = hold_out(np.arange(100), np.ones(100, dtype=int), SimpleNamespace(stratify=labels), 0.1, seed)
    reference = train_test_split(np.arange(100), test_size=0.1, random_state=seed, stratify=labels)[1]
    assert np.flatnonzero(held).tolist() == sorted(reference.tolist())
    assert np.bincount(labels[held == 1]).tolist() == [9, 1]


@pytest.mark.parametrize("kind", ["sparse", "list", "frame"])
def test_partial_fit_checks_features_on_the_host_path_as_sgdclassifier(kind):
    """A later partial_fit validates X against the first call's features (``validate_data(reset=False)``) for input
    the host path validates (sparse, lists, DataFrames) too: SGDClassifier's error, word for word, and the fitted
    model unchanged."""
    import pandas as pd
    import scipy.sparse as sp
    from sklearn.linear_model import SGDClassifier

    X, y = _data(n=40, d=3, seed=6)
    if kind == "frame":  # the same number of columns, other names
        first, later = pd.DataFrame(X, columns=list("abc")), pd.DataFrame(X, columns=list("xyz"))
    else:
        wider = np.column_stack([X, X[:, 0]])
        first, later = (sp.csr_matrix(X), sp.csr_matrix(wider)) if kind == "sparse" else (X.tolist(), wider.tolist())
    messages = []
    for model in (SGDClassifier(), TorchLogisticClassifier(solver="sgd")):
        model.partial_fit(first, y, classes=[0, 1])
        coef = model.coef_.copy()
        with pytest.raises(ValueError) as refused:
            model.partial_fit(later, y)
        messages.append(str(refused.value).replace(type(model).__name__, "MODEL"))
        assert model.n_features_in_ == 3
        np.testing.assert_array_equal(model.coef_, coef)
    assert messages[1] == messages[0]


# ---------------------------------------------------------------- compare (bug 238)
def test_compare_calls_a_gap_small_relative_to_the_objective_the_optimum():
    """Two fits 1e-5 above an objective of 1e3 (relative 1e-8, far below 1e-6) both reach the optimum."""
    from torchlogit._compare import explain

    reference = dict(objective=1000.0, separable=False)
    rows = compared_rows((1000.0 + 1e-5, 1000.0 + 2e-5))
    sentence = explain(rows, dict(max_abs_proba_diff=1e-7, max_abs_coef_diff=1e-6), reference, C=1.0)
    assert sentence.startswith("Both reach the same optimum")


# ---------------------------------------------------------------- fitted state (bugs 239, 240)
def test_warm_start_state_of_another_structure_is_refused_with_a_value_error():
    """load_warm_start: parameters of another shape are a ValueError naming warm_start (the user's way out), not
    torch's RuntimeError from load_state_dict nor another exception type; the module keeps its parameters."""
    from torchlogit._state import load_warm_start

    module = torch.nn.Linear(3, 2)
    before = {k: v.clone() for k, v in module.state_dict().items()}
    for other in (torch.nn.Linear(4, 2), torch.nn.Linear(3, 1)):
        with pytest.raises(ValueError, match="warm_start=False"):
            load_warm_start(module, other.state_dict())
    for key, value in module.state_dict().items():
        torch.testing.assert_close(value, before[key], rtol=0, atol=0)
    source = torch.nn.Linear(3, 2)
    load_warm_start(module, source.state_dict())  # the same structure: loaded
    torch.testing.assert_close(module.weight, source.weight, rtol=0, atol=0)


def test_saved_optimizer_moments_are_copies():
    """The moments kept on the fitted estimator for the next partial_fit must not change when the live optimizer
    steps on (a failed partial_fit restores the estimator's attributes, not the arrays they point to)."""
    from torchlogit._state import optimizer_moments

    w = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    optimizer = torch.optim.Adam([w], lr=0.1)
    w.grad = torch.ones(3, dtype=torch.float64)
    optimizer.step()
    saved = optimizer_moments(optimizer)
    before = [{k: np.array(v, copy=True) for k, v in s.items()} for s in saved]
    w.grad = torch.full((3,), 5.0, dtype=torch.float64)
    optimizer.step()
    for s, b in zip(saved, before, strict=True):
        for key in b:
            np.testing.assert_array_equal(s[key], b[key])


# ---------------------------------------------------------------- summary printout (bug 242)
def test_summary_llr_p_value_keeps_trailing_zeros_as_statsmodels():
    """statsmodels prints the LLR p-value with ``%#8.4g``: four significant digits, trailing zeros kept."""
    from torchlogit._summary_table import _llr_p_value

    for p in (0.0015, 0.25, 0.1234567, 1.0):
        assert _llr_p_value(p) == f"{p:#8.4g}".strip()
    assert _llr_p_value(0.0015) == "0.001500"


# ------------------------------------------- sgd's step-size limit, partial_fit's checks (bugs 244, 248)
def _heavy_ball_radius(a, momentum):
    """Spectral radius of heavy-ball momentum on a quadratic whose step is ``a = lr h``: the roots of
    ``z^2 - (1 + m - a) z + m`` (``x+ = x - a x + m (x - x-)``); below 1 the iterates decay."""
    return max(abs(np.roots([1.0, -(1 + momentum - a), momentum])))


@pytest.mark.parametrize("momentum, rate", [(0.0, 0.5), (0.5, 0.75)])
def test_sgd_refuses_an_l2_step_exactly_at_the_stability_limit(momentum, rate):
    """4 rows of weight 1 and C = 1/16: the L2 step rate (1 - l1_ratio) / (C S) is exactly 4 rate = 2 (1 + m), where
    the heavy-ball iteration stops decaying (a root at -1): refused by fit and by partial_fit (whose batch sets S)."""
    X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.5], [0.5, -1.0]])
    y = np.array([0, 1, 0, 1])
    step = rate * 1.0 / (0.0625 * 4)
    assert step == 2 * (1 + momentum)
    assert _heavy_ball_radius(step, momentum) == pytest.approx(1.0, abs=1e-12)
    assert _heavy_ball_radius(0.99 * step, momentum) < 1
    model = TorchLogisticClassifier(solver="sgd", C=0.0625, learning_rate_init=rate, momentum=momentum, max_iter=2)
    for call in (model.fit, lambda X, y: model.partial_fit(X, y, classes=[0, 1])):
        with pytest.raises(ValueError, match="solver='sgd' diverges with C=0.0625"):
            call(X, y)
    assert not hasattr(model, "coef_")


# ------------------------------------------------- an overflowed optimizer state blamed on its cause (bug 249)
@pytest.mark.parametrize("C, blamed", [(1.0, "The input data may contain large values"), (1e-40, "C=1e-40 makes")])
def test_an_overflowed_optimizer_state_names_C_only_when_the_l2_strength_is_huge(C, blamed):
    """The L2 gradient is (1 - l1_ratio) / (C S) times the coefficients: from C=1, S=100 (0.01) an overflow is the
    features'; from C=1e-40 (1e38, float32's range) it is C's."""
    from types import SimpleNamespace

    from torchlogit._callbacks import check_finite_parameters
    from torchlogit._objective import l2_strength

    module = torch.nn.Linear(2, 1)
    optimizer = torch.optim.Adam(module.parameters())
    optimizer.state[module.weight] = {"exp_avg_sq": torch.full((1, 2), math.inf)}
    net = SimpleNamespace(
        module_=module,
        optimizer_=optimizer,
        lr=1e-3,
        criterion_=SimpleNamespace(C=C, l2_strength=l2_strength(C, 0, 100)),
    )
    with pytest.raises(ValueError, match="overflowed dtype='float32'") as caught:
        check_finite_parameters(net)
    assert blamed in str(caught.value)
    assert ("use a larger C" in str(caught.value)) == (C < 1)


# ------------------------------------------------ crafted pickles refused when loaded (bugs 252, 253, 254)
def test_a_crafted_state_is_refused_whichever_array_is_off():
    """Each moment of Adam (exp_avg and exp_avg_sq), each of the L1 pair (total and applied), and coef_ of a model
    without partial_fit state are checked against the coefficients' shapes, not only the first of each."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    X, y = _data(n=60, d=4, classes=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        adam = TorchLogisticClassifier(solver="adam", l1_ratio=0.5, C=0.5, random_state=0).partial_fit(X, y, [0, 1, 2])
        lbfgs = TorchLogisticClassifier(max_iter=5).fit(X, y)
    state = adam.__getstate__()
    partial = state["_partial_state"]
    (weight_moments, bias_moments), [(total, applied)] = partial["optimizer"], partial["l1"]
    assert weight_moments["exp_avg_sq"].shape == total.shape == applied.shape == (3, 4)  # torch's (n_out, n_in)
    message = "This TorchLogisticClassifier state is not one torchlogit writes: "
    bad_moments = {**weight_moments, "exp_avg_sq": np.zeros((4, 3))}
    crafted = {
        "the optimizer moments do not fit": {**partial, "optimizer": [bad_moments, bias_moments]},
        "the L1 totals do not fit": {**partial, "l1": [[total, np.zeros((4, 3))]]},
    }
    for reason, bad in crafted.items():
        with pytest.raises(ValueError, match=message + reason):
            TorchLogisticClassifier().__setstate__({**state, "_partial_state": bad})
    wrong = {**lbfgs.__getstate__(), "coef_": np.zeros((3, 5))}  # 5 features where n_features_in_ is 4
    assert "_partial_state" not in wrong or wrong["_partial_state"] is None
    with pytest.raises(ValueError, match="coef_"):
        TorchLogisticClassifier().__setstate__(wrong)


# ------------------------------------------------------------------------------------ the drill itself
def test_every_seeded_bug_still_applies_to_the_sources():
    """Each bug's old text occurs exactly once in its file: a refactor that moves the code must move the bug with it,
    or the drill (scripts/seeded_bugs.py) stops at its first check instead of judging the suite."""
    import importlib.util
    import os
    from pathlib import Path

    if os.environ.get("SEEDED_BUG_DRILL"):
        pytest.skip("inside the drill the sources carry one of its bugs on purpose")
    pytest.importorskip("tomllib", reason="the drill, a development tool, reads its TOML with Python >= 3.11's tomllib")
    path = Path(__file__).resolve().parent.parent / "scripts" / "seeded_bugs.py"
    spec = importlib.util.spec_from_file_location("seeded_bugs", path)
    drill = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(drill)
    drill.check_bugs()
    assert len(drill.BUGS) >= 83


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_early_stopping_hold_out_is_stratified_by_the_rows_as_given_when_rows_repeat(seed):
    """A canonical row merging 10 copies (class 1) and 90 distinct rows (class 0): MLPClassifier stratifies the 100
    rows as given, so validation_fraction=0.1 holds out exactly one copy of the class-1 row and 9 class-0 rows, the
    rows train_test_split(stratify=y) picks. h3's mutant: `_training_set.hold_out` stratifying by labels not
    repeated per given row."""
    from types import SimpleNamespace

    from sklearn.model_selection import train_test_split

    from torchlogit._training_set import hold_out

    counts = np.r_[10, np.ones(90, dtype=int)]
    labels = np.r_[1, np.zeros(90, dtype=int)]
    held = hold_out(np.arange(91), counts, SimpleNamespace(stratify=labels), 0.1, seed)
    given = np.repeat(np.arange(91), counts)
    reference = train_test_split(np.arange(100), test_size=0.1, random_state=seed, stratify=labels[given])[1]
    np.testing.assert_array_equal(held, np.bincount(given[reference], minlength=91))
    assert held[0] == 1 and held.sum() == 10


def test_early_stopping_parts_hold_only_the_rows_each_part_got():
    """100 distinct rows, validation_fraction=0.1: the validation part holds 10 rows and the training part 90, every
    weight positive (a part's row count sets the 'auto' batch size and its shuffled batches). h3's mutant: `Part`s
    built from every canonical row (`np.arange(len(share))` in TrainingSet.split: rows of weight 0 in both parts)."""
    from torchlogit._training_set import TrainingSet

    rng = np.random.RandomState(0)
    X = rng.randn(100, 3)
    y = (X[:, 0] > 0).astype(int)
    data = TrainingSet.from_user(TorchLogisticClassifier(), X, y, None, torch.device("cpu"))
    train, valid = data.split(0.1, seed=0)
    assert (train.n_samples, valid.n_samples) == (90, 10)
    assert bool((torch.as_tensor(train.weight) > 0).all()) and bool((torch.as_tensor(valid.weight) > 0).all())
    assert sorted(np.r_[np.asarray(train.rows), np.asarray(valid.rows)].tolist()) == list(range(100))
