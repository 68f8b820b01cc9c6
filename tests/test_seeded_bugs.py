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
