"""``TorchLogisticClassifier``'s own code: its defaults, and class weights as scikit-learn applies them.

References: the defaults the class docstring documents (and, for the parameters they share,
``LogisticRegression``'s and ``MLPClassifier``'s); ``LogisticRegression`` fitted on the same data
with the same ``class_weight`` and ``sample_weight`` (scikit-learn multiplies the class weight of
each row into its sample weight, "balanced" counting the classes with ``sample_weight``:
``n_w / (K * sum of w over the class)``); and the invariance that follows from it, a class weight
being a per-row sample weight: ``fit`` / ``partial_fit`` / ``summary`` with ``class_weight`` equal
the same calls with ``sample_weight * class_weight[y]`` and no class weight.
"""

import ast
import inspect
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.utils._param_validation import InvalidParameterError

from torchlogit import TorchLogisticClassifier

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
from sklearn_reference import logistic_regression  # noqa: E402

TIGHT = dict(dtype="float64", tol=1e-10, max_iter=1000)


def _documented_defaults(cls):
    """``{name: default}`` from the numpydoc lines ``name : type, default=VALUE`` of the class docstring."""
    doc = inspect.cleandoc(cls.__doc__)
    section = doc.split("Parameters\n----------\n")[1].split("Attributes\n")[0]
    return {
        name: ast.literal_eval(value)
        for name, value in re.findall(r"^(\w+) : .*default=(.+)$", section, flags=re.MULTILINE)
    }


def _balanced(y, w):
    """scikit-learn's "balanced" weights counted with sample weights, written out: ``sum(w) / (K * sum(w | class))``."""
    classes = np.unique(y)
    return {c: w.sum() / (len(classes) * w[y == c].sum()) for c in classes}


@pytest.fixture(scope="module")
def weighted_data():
    """Three classes of unequal sizes, and sample weights that change the classes' weighted shares."""
    X, y = make_classification(
        n_samples=240,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=3,
        weights=[0.6, 0.3, 0.1],
        flip_y=0.1,
        random_state=0,
    )
    w = np.random.RandomState(1).uniform(0.2, 2.0, len(y)) * np.where(y == 1, 2.5, 1.0)
    return X, y, w


def test_defaults_are_the_documented_ones_and_sklearns():
    """Every default is the one the docstring states; those shared with ``LogisticRegression``
    (C, fit_intercept, class_weight, solver, max_iter, tol, warm_start, random_state, verbose) and
    with ``MLPClassifier`` (batch_size, momentum, n_iter_no_change) are scikit-learn's."""
    params = TorchLogisticClassifier().get_params()
    documented = _documented_defaults(TorchLogisticClassifier)
    assert set(documented) == set(params)
    for name, value in documented.items():
        assert params[name] == value and type(params[name]) is type(value), name
    logistic = LogisticRegression().get_params()
    shared = ["C", "fit_intercept", "class_weight", "solver", "max_iter", "tol", "warm_start", "random_state"]
    assert {k: params[k] for k in shared + ["verbose"]} == {k: logistic[k] for k in shared + ["verbose"]}
    mlp = MLPClassifier().get_params()
    assert {k: params[k] for k in ("batch_size", "momentum", "n_iter_no_change")} == {
        k: mlp[k] for k in ("batch_size", "momentum", "n_iter_no_change")
    }


def _warnings_of(call):
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [(w.category, str(w.message)) for w in caught if w.category is UserWarning]


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_mini_batch_parameters_as_mlpclassifier_takes_them(solver):
    """A ``batch_size`` above the training rows warns and is clipped, by ``fit`` and by ``partial_fit``, with
    ``MLPClassifier``'s warning; ``n_iter_no_change=np.inf`` (accepted by ``MLPClassifier``) turns the stopping
    rule off: the fit runs its ``max_iter`` epochs."""
    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    ours = TorchLogisticClassifier(solver=solver, batch_size=100, max_iter=3, random_state=0)
    mlp = MLPClassifier(hidden_layer_sizes=(2,), solver=solver, batch_size=100, max_iter=3, random_state=0)
    expected = _warnings_of(lambda: mlp.fit(X, y))
    assert len(expected) == 1
    assert _warnings_of(lambda: ours.fit(X, y)) == expected
    assert _warnings_of(lambda: ours.partial_fit(X, y)) == _warnings_of(lambda: mlp.partial_fit(X, y)) == expected
    assert _warnings_of(lambda: ours.set_params(batch_size=60).fit(X, y)) == []  # equal to the rows: no clipping
    # tol=1.0: every epoch counts as "no improvement", so the rule with a finite count stops early
    stopped = TorchLogisticClassifier(solver=solver, tol=1.0, n_iter_no_change=2, max_iter=40).fit(X, y)
    assert stopped.n_iter_ < 40
    endless = TorchLogisticClassifier(solver=solver, tol=1.0, n_iter_no_change=np.inf, max_iter=40)
    with pytest.warns(ConvergenceWarning):
        endless.fit(X, y)
    assert endless.n_iter_ == 40
    MLPClassifier(n_iter_no_change=np.inf)._validate_params()  # the reference's own constraint allows it
    # Rows as given, not the distinct rows they merge into: 60 rows of 6 distinct ones at batch_size=30 clip nothing
    # the user did (MLPClassifier: no warning); early stopping counts the rows train_test_split keeps.
    repeated = np.repeat(X[:6], 10, axis=0), np.repeat(y[:6], 10)
    assert _warnings_of(lambda: ours.set_params(batch_size=30).fit(*repeated)) == []
    assert _warnings_of(lambda: mlp.set_params(batch_size=30).fit(*repeated)) == []


def test_fit_warnings_point_at_the_users_call():
    """Warnings raised deep inside fit name the line that called fit, beyond scikit-learn's ``_fit_context`` wrapper in
    sklearn/base.py, as LogisticRegression's do (seeded bug 169: they named the wrapper's line, where
    ``warnings.filterwarnings(module=...)`` and a reader of the warning cannot use them)."""
    X, y = make_classification(n_samples=80, n_features=4, random_state=0)
    for model, category in [
        (TorchLogisticClassifier(max_iter=2), ConvergenceWarning),
        (TorchLogisticClassifier(C=np.inf, l1_ratio=0.5), UserWarning),  # scikit-learn's l1_ratio warning
        # Raised inside a Newton step, under torch.no_grad()'s wrapper in skorch's loop: it named torch's file.
        (TorchLogisticClassifier(solver="newton-cholesky", C=1e4, tol=0, dtype="float64", max_iter=30), Warning),
    ]:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            model.fit(X, y)
        assert any(issubclass(w.category, category) for w in record)
        assert all(w.filename == __file__ for w in record), [(w.filename, w.lineno) for w in record]


@pytest.mark.parametrize(
    "class_weight",
    ["balanced", {0: 0.25, 1: 1.0, 2: 0.5}],
    ids=["balanced", "dict-below-one"],
)
def test_class_weight_with_sample_weight_is_sklearns(weighted_data, class_weight):
    """``fit`` with ``class_weight`` and ``sample_weight`` reaches the optimum of ``LogisticRegression`` fitted
    with the per-row weights ``sample_weight * class_weight[y]`` (float64, tol 1e-10 on both: coefficients
    within 1e-6). "balanced" counts the classes with the sample weights, as scikit-learn >= 1.7 does (written
    out here, so the reference does not depend on the installed release; the weights change the classes'
    shares by up to 2.5x); a dict is also passed to ``LogisticRegression`` as it is. Class weights all below
    one (no row weight above 1) are a valid weighting, not "all zero"."""
    X, y, w = weighted_data
    ours = TorchLogisticClassifier(C=0.5, class_weight=class_weight, **TIGHT).fit(X, y, sample_weight=w)
    cw = _balanced(y, w) if class_weight == "balanced" else class_weight
    row = w * np.array([cw[k] for k in y])
    refs = [LogisticRegression(C=0.5, tol=1e-10, max_iter=10_000).fit(X, y, sample_weight=row)]
    if class_weight != "balanced":
        refs.append(
            LogisticRegression(C=0.5, class_weight=class_weight, tol=1e-10, max_iter=10_000).fit(X, y, sample_weight=w)
        )
    for ref in refs:
        np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-6)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=0, atol=1e-6)


def test_class_weights_zero_on_every_weighted_row_are_refused():
    """Sample weights positive only on class 0, class weight 0 for class 0: every row's weight
    (sample weight times class weight) is zero, so there is nothing to fit. The fit says so, naming
    the class weights, although each weighting alone has positive entries (class 1's rows have
    class weight 1 but sample weight 0)."""
    X, y = make_classification(n_samples=40, n_features=3, n_informative=2, n_redundant=0, random_state=0)
    w = np.where(y == 0, 1.5, 0.0)
    with pytest.raises(ValueError, match="sample weights times the class weights are all zero"):
        TorchLogisticClassifier(class_weight={0: 0.0, 1: 1.0}).fit(X, y, sample_weight=w)
    # One row of class 1 with a positive weight is enough to fit.
    w[np.flatnonzero(y == 1)[0]] = 1.0
    TorchLogisticClassifier(class_weight={0: 0.0, 1: 1.0}).fit(X, y, sample_weight=w)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_partial_fit_class_weight_is_a_per_row_weight(weighted_data, solver):
    """One ``partial_fit`` epoch with a ``class_weight`` dict (and sample weights) equals the same epoch
    with ``sample_weight * class_weight[y]`` and no class weight (same seed: the same batches), as
    ``SGDClassifier.partial_fit`` multiplies them; "balanced" is refused (it needs every batch's counts)."""
    X, y, w = weighted_data
    cw = {0: 0.5, 1: 2.0, 2: 3.0}
    kwargs = dict(solver=solver, dtype="float64", random_state=0, batch_size=50)
    ours = TorchLogisticClassifier(class_weight=cw, **kwargs)
    ref = TorchLogisticClassifier(**kwargs)
    for _ in range(2):
        ours.partial_fit(X, y, classes=[0, 1, 2], sample_weight=w)
        ref.partial_fit(X, y, classes=[0, 1, 2], sample_weight=w * np.array([cw[k] for k in y]))
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-10, atol=1e-12)
    # Without sample weights, the class weights alone.
    plain = TorchLogisticClassifier(class_weight=cw, **kwargs).partial_fit(X, y, classes=[0, 1, 2])
    by_row = TorchLogisticClassifier(**kwargs).partial_fit(
        X, y, classes=[0, 1, 2], sample_weight=np.array([cw[k] for k in y])
    )
    np.testing.assert_allclose(plain.coef_, by_row.coef_, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="balanced"):
        TorchLogisticClassifier(class_weight="balanced", **kwargs).partial_fit(X, y, classes=[0, 1, 2])


def test_summary_with_class_weight_has_the_hessian_of_the_per_row_weights(weighted_data):
    """``summary``'s nonrobust standard errors are ``sqrt(diag(H^-1))`` with ``H = sum_i f_i c_i H_i``
    (f the sample weights, c the class weights): a fit with ``class_weight="balanced"`` and sample
    weights ``w`` has the standard errors of a fit with sample weights ``w * c[y]`` (``c`` written out,
    counted with ``w``) and no class weight (unpenalised, float64; rtol 1e-6)."""
    X, y, w = weighted_data
    X, y, w = X[y < 2], y[y < 2], w[y < 2]  # binary: the sigmoid path
    c = _balanced(y, w)
    by_class = TorchLogisticClassifier(C=np.inf, class_weight="balanced", **TIGHT).fit(X, y, sample_weight=w)
    row = w * np.array([c[k] for k in y])
    by_row = TorchLogisticClassifier(C=np.inf, **TIGHT).fit(X, y, sample_weight=row)
    ours = by_class.summary(X, y, sample_weight=w)
    ref = by_row.summary(X, y, sample_weight=row)
    np.testing.assert_allclose(ours["coef"].to_numpy(), ref["coef"].to_numpy(), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ours["std_err"].to_numpy(), ref["std_err"].to_numpy(), rtol=1e-6)
    # Counted without the sample weights, "balanced" would give other weights (by a factor 1.46 and 0.61 here).
    unweighted = _balanced(y, np.ones(len(y)))
    assert all(abs(np.log(c[k] / unweighted[k])) > np.log(1.25) for k in c)


def test_dask_fit_with_balanced_class_weight_and_sample_weight_equals_the_in_memory_fit(weighted_data):
    """On dask arrays, "balanced" class weights are counted with the sample weights as in memory (and
    as ``LogisticRegression``): the same optimum (float64, tol 1e-10; probabilities within 1e-6)."""
    distributed = pytest.importorskip("distributed")
    da = pytest.importorskip("dask.array")
    X, y, w = weighted_data
    local = TorchLogisticClassifier(class_weight="balanced", **TIGHT).fit(X, y, sample_weight=w)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None):
        remote = TorchLogisticClassifier(class_weight="balanced", **TIGHT).fit(
            da.from_array(X, chunks=(60, X.shape[1])), da.from_array(y, chunks=60), da.from_array(w, chunks=60)
        )
    assert np.abs(remote.predict_proba(X) - local.predict_proba(X)).max() <= 1e-6


# Mutation survey h4 (stop 49): each test kills a one-line mutant of _base / _logistic the suite let through.
def _h4_binary(n=60, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    return X, (X[:, 0] + rng.randn(n) > 0).astype(int)


# B1: "C" Interval closed="right" -> "both"
def test_c_zero_is_refused_as_logistic_regression_refuses_it():
    X, y = _h4_binary()
    with pytest.raises(InvalidParameterError):
        LogisticRegression(C=0).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'C'"):
        TorchLogisticClassifier(C=0).fit(X, y)


# B6: C=inf warning also for l1_ratio=1 (scikit-learn warns only for 0 < l1_ratio < 1)
@pytest.mark.parametrize("l1_ratio, warns", [(0.0, False), (0.5, True), (1.0, False)])
def test_l1_ratio_ignored_warning_only_where_sklearn_gives_it(l1_ratio, warns):
    X, y = _h4_binary()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        TorchLogisticClassifier(C=np.inf, l1_ratio=l1_ratio, max_iter=20).fit(X, y)
    got = any("l1_ratio parameter is only used" in str(w.message) for w in caught)
    assert got == warns


# B8: newton-cholesky records "objective" and "grad_max": EarlyStopping may monitor them
@pytest.mark.parametrize("monitor", ["objective", "grad_max"])
def test_early_stopping_on_a_newton_fits_recorded_scores_is_accepted(monitor):
    from skorch.callbacks import EarlyStopping

    X, y = _h4_binary()
    clf = TorchLogisticClassifier(solver="newton-cholesky", callbacks=[EarlyStopping(monitor=monitor, patience=2)])
    clf.fit(X, y)
    assert monitor in clf.history_[-1]


# B13: _fit_settings must copy the class_weight dict (an in-place edit after fit changed summary())
def test_summary_describes_the_fitted_class_weight_after_an_in_place_edit():
    X, y = _h4_binary()
    weights = {0: 1.0, 1: 3.0}
    clf = TorchLogisticClassifier(C=np.inf, class_weight=weights, dtype="float64").fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = np.asarray(clf.summary(X, y).coef, dtype=float)
        weights[1] = 1.0  # the user's dict, edited in place after fit
        after = np.asarray(clf.summary(X, y).coef, dtype=float)
    np.testing.assert_array_equal(before, after)


# B14: bytes arrays are refused at predict as LogisticRegression refuses them
def test_predict_refuses_bytes_features_as_logistic_regression():
    X, y = _h4_binary()
    Xb = X.astype("S")
    with pytest.raises(ValueError, match="numeric"):
        LogisticRegression().fit(X, y).predict(Xb)
    with pytest.raises(ValueError, match="numeric"):
        TorchLogisticClassifier().fit(X, y).predict(Xb)


# L2: an L2 warm start keeps the multinomial intercepts' sum where it started, as LogisticRegression's lbfgs
def test_l2_warm_start_from_assigned_intercepts_keeps_their_sum_as_sklearn(iris):
    X, y = iris
    ests = [LogisticRegression(warm_start=True), TorchLogisticClassifier(warm_start=True, dtype="float64")]
    for est in ests:
        est.coef_, est.intercept_, est.classes_ = np.zeros((3, 4)), np.array([1.0, 2.0, 3.0]), np.arange(3)
        est.fit(X, y)
    np.testing.assert_allclose(ests[1].intercept_, ests[0].intercept_, atol=1e-4)
    assert ests[1].intercept_.sum() == pytest.approx(6.0, abs=1e-6)


def test_l1_warm_start_from_assigned_intercepts_keeps_their_sum_as_sklearns_saga(iris):
    """An L1 multinomial fit's intercepts are centred after fit (OWL-QN's steps move their sum): on the starting
    mean, so intercepts assigned as [1, 2, 3] keep their sum 6 as scikit-learn's saga keeps it (they were centred
    on 0: every intercept 2.0 off scikit-learn's, the same probabilities)."""
    X, y = iris
    ests = [
        logistic_regression(warm_start=True, solver="saga", l1_ratio=1.0, C=1.0, max_iter=5000, tol=1e-8),
        TorchLogisticClassifier(warm_start=True, dtype="float64", l1_ratio=1.0, C=1.0, max_iter=1000, tol=1e-8),
    ]
    for est in ests:
        est.coef_, est.intercept_, est.classes_ = np.zeros((3, 4)), np.array([1.0, 2.0, 3.0]), np.arange(3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
    np.testing.assert_allclose(ests[1].intercept_, ests[0].intercept_, atol=1e-3)
    assert ests[1].intercept_.sum() == pytest.approx(6.0, abs=1e-9)
    cold = TorchLogisticClassifier(dtype="float64", l1_ratio=1.0, C=1.0, max_iter=1000, tol=1e-8).fit(X, y)
    assert cold.intercept_.sum() == pytest.approx(0.0, abs=1e-12)


# L7: coef_ of shape (1, d) assigned without classes_ is a binary model: decision_function is (n,)
def test_assigned_single_row_coef_without_classes_is_binary_as_logistic_regression():
    X, _ = _h4_binary()
    ests = [LogisticRegression(), TorchLogisticClassifier()]
    for est in ests:
        est.coef_, est.intercept_ = np.array([[0.5, -1.0, 2.0]]), np.array([0.3])
    ref, ours = (est.decision_function(X) for est in ests)
    assert ours.shape == ref.shape == (len(X),)
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


# L14: centring the L1 multinomial intercepts keeps scikit-learn's float32 rule
def test_l1_multinomial_float32_intercepts_stay_float32(iris):
    X, y = iris
    X = X.astype(np.float32)
    clf = TorchLogisticClassifier(C=1.0, l1_ratio=1.0, max_iter=50).fit(X, y)
    ref = LogisticRegression(C=1.0, l1_ratio=1.0, solver="saga", max_iter=50).fit(X, y)
    assert clf.coef_.dtype == clf.intercept_.dtype == ref.intercept_.dtype == np.float32


# (a second mutation survey, L10) _logistic.py:_complete_assigned_model reading a 1-D coef_ (no classes_) as one row
# per feature
def test_assigned_1d_coef_without_classes_is_binary_as_logistic_regression():
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    reference = LogisticRegression().fit(X, y)
    clf = TorchLogisticClassifier()
    clf.coef_ = reference.coef_.ravel()  # shape (n_features,): LogisticRegression's decision_function takes it
    clf.intercept_ = reference.intercept_
    np.testing.assert_allclose(clf.decision_function(X), reference.decision_function(X), rtol=0, atol=1e-12)
