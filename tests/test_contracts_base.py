"""The shared estimator code (``_base``): checks before fitting, what a fit publishes, and prediction.

References: scikit-learn's conventions and wording (``LogisticRegression``'s float32 rule for the
coefficients' dtype, ``n_iter_`` as an int32 array of one entry, ``NotFittedError``, the
``ConvergenceWarning`` texts, newton-cholesky's penalty error, ``accuracy_score`` for ``score``,
``MLPClassifier``'s batch size ``min(200, n)``); closed forms (decision function = the logits,
``predict_log_proba = log(predict_proba)``, a warm start with ``max_iter=0`` returns its starting
point); invariances (a fit never changes its ``callbacks`` parameter; pickling keeps predictions).
"""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy.special import expit, log_softmax, softmax
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import accuracy_score
from skorch.callbacks import Callback

from torchlogit import TorchLogisticClassifier, TorchMultiLabelClassifier
from torchlogit._callbacks import LBFGSConvergence, NoImprovementStopping, ftol_for
from torchlogit._compat import ARRAY_API_DISPATCH_AVAILABLE, LBFGS_WARNING_BEFORE_1_7
from torchlogit._modules import LinearLogits
from torchlogit._newton import NewtonConvergence
from torchlogit._solvers import LBFGS

from .conftest import quiet

# ------------------------------------------------------------------------ checks before fitting


@pytest.mark.parametrize(("l1_ratio", "penalty"), [(1.0, "l1"), (0.5, "elasticnet")])
def test_newton_cholesky_refuses_an_l1_part_with_sklearns_message(iris, l1_ratio, penalty):
    X, y = iris
    clf = TorchLogisticClassifier(solver="newton-cholesky", l1_ratio=l1_ratio)
    with pytest.raises(ValueError, match=f"supports only 'l2' or None penalties, got {penalty} penalty"):
        clf.fit(X, y)
    assert not hasattr(clf, "coef_")
    # without a penalty (C = inf) the L1 part is no penalty at all
    quiet(TorchLogisticClassifier(solver="newton-cholesky", l1_ratio=1.0, C=np.inf, max_iter=2).fit, X, y)


def test_warm_start_needs_the_same_classes_and_features(iris):
    X, y = iris
    clf = quiet(TorchLogisticClassifier(warm_start=True, max_iter=3).fit, X, y)
    with pytest.raises(ValueError, match="same classes"):
        clf.fit(X[y < 2], y[y < 2])
    with pytest.raises(ValueError):
        clf.fit(X[:, :3], y)


@pytest.mark.parametrize("hidden", [(), (3,)])
def test_a_warm_start_with_no_iteration_returns_its_starting_point(iris, hidden):
    X, y = iris
    Y = np.eye(3, dtype=int)[y]
    clf = quiet(TorchMultiLabelClassifier(hidden, warm_start=True, max_iter=3, random_state=0).fit, X, Y)
    before = [W.copy() for W in clf.coefs_], [b.copy() for b in clf.intercepts_]
    clf.set_params(max_iter=0)
    quiet(clf.fit, X, Y)
    for a, b in zip(before[0] + before[1], clf.coefs_ + clf.intercepts_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    clf.set_params(warm_start=False)
    quiet(clf.fit, X, Y)  # a cold start with no iteration: zeros (linear) or a fresh initialisation
    assert not np.allclose(clf.coefs_[-1], before[0][-1])


# ------------------------------------------------------------------------ what a fit publishes


@pytest.mark.parametrize(("dtype", "expected"), [(np.float32, np.float32), (np.float64, np.float64), (int, np.float64)])
def test_coefficients_follow_sklearns_float32_rule(iris, dtype, expected):
    X, y = iris
    for model_dtype in ("float32", "float64"):
        clf = quiet(TorchLogisticClassifier(max_iter=3, dtype=model_dtype).fit, (X * 4).astype(dtype), y)
        assert clf.coef_.dtype == expected and clf.intercept_.dtype == expected
        assert clf.predict_proba(X).dtype == np.float64


def test_fitted_history_iterations_and_loss_curve(iris):
    X, y = iris
    clf = quiet(TorchLogisticClassifier(max_iter=4).fit, X, y)
    assert isinstance(clf.n_iter_, np.ndarray) and clf.n_iter_.dtype == np.int32 and clf.n_iter_.shape == (1,)
    assert clf.n_iter_[0] == len(clf.history_) == len(clf.loss_curve_) == 4
    assert clf.loss_curve_ == [row["objective"] for row in clf.history_]
    sgd = quiet(TorchLogisticClassifier(solver="sgd", max_iter=3, random_state=0).fit, X, y)
    assert sgd.loss_curve_ == [row["train_loss"] for row in sgd.history_] and len(sgd.loss_curve_) == 3
    assert all(isinstance(v, float) for v in sgd.loss_curve_)
    assert clf._kind == "multinomial" and clf._n_outputs == 3
    binary = quiet(TorchLogisticClassifier(max_iter=2).fit, X, y == 1)
    assert binary._kind == "binary" and binary._n_outputs == 1


def test_a_fit_after_partial_fit_drops_the_partial_state(iris):
    X, y = iris
    clf = TorchLogisticClassifier(solver="sgd", random_state=0, max_iter=2)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    state = clf._partial_state
    assert state["solver"] == "sgd" and isinstance(state["seed"], int) and "optimizer" in state
    quiet(clf.fit, X, y)
    # The fit's own state replaces it (a mini-batch fit keeps one for partial_fit to continue): that of a
    # fresh fit, nothing of the partial_fit calls before.
    fresh = quiet(TorchLogisticClassifier(solver="sgd", random_state=0, max_iter=2).fit, X, y)
    assert clf._partial_state is not state
    assert clf._partial_state["seed"] == fresh._partial_state["seed"]
    for ours, theirs in zip(clf._partial_state["optimizer"], fresh._partial_state["optimizer"], strict=True):
        for key in ours:
            np.testing.assert_array_equal(ours[key], theirs[key])
    quiet(clf.set_params(solver="lbfgs").fit, X, y)  # a full-batch fit keeps none
    assert not hasattr(clf, "_partial_state")


def test_fit_leaves_the_callbacks_parameter_unchanged(iris):
    X, y = iris

    class Count(Callback):
        def __init__(self):
            self.epochs = 0

        def on_epoch_end(self, net, **kwargs):
            self.epochs += 1

    count = Count()
    clf = quiet(TorchLogisticClassifier(max_iter=3, callbacks=[("count", count)]).fit, X, y)
    assert count.epochs == 0 and clf.callbacks[0][1] is count


def test_l1_step_only_for_mini_batch_solvers_with_an_l1_part():
    def names(clf, kind="binary"):
        return [name for name, _ in clf._net_callbacks(kind, first=[("a", 1)], last=[("z", 2)])]

    assert names(TorchLogisticClassifier(solver="sgd", l1_ratio=0.5)) == ["a", "l1_proximal", "z"]
    assert names(TorchLogisticClassifier(solver="adam", l1_ratio=1.0)) == ["a", "l1_proximal", "z"]
    assert names(TorchLogisticClassifier(solver="sgd", l1_ratio=0.0)) == ["a", "z"]
    assert names(TorchLogisticClassifier(solver="sgd", l1_ratio=1.0, C=np.inf)) == ["a", "z"]
    assert names(TorchLogisticClassifier(solver="lbfgs", l1_ratio=1.0)) == ["a", "z"]
    user = TorchLogisticClassifier(callbacks=[("u", Callback())])
    assert [n for n, _ in user._net_callbacks("binary")] == ["u"]
    assert user._net_callbacks("binary")[0][1] is not user.callbacks[0][1]
    # Multinomial intercepts are re-centred every mini-batch epoch (as LogisticRegression's, mean zero), first.
    assert names(TorchLogisticClassifier(solver="adam"), "multinomial") == ["centred_intercepts", "a", "z"]
    assert names(TorchLogisticClassifier(solver="sgd", l1_ratio=1.0), "multinomial")[:2] == ["centred_intercepts", "a"]
    assert names(TorchLogisticClassifier(solver="adam", fit_intercept=False), "multinomial") == ["a", "z"]
    assert names(TorchLogisticClassifier(solver="lbfgs"), "multinomial") == ["a", "z"]
    assert names(TorchMultiLabelClassifier((4,), solver="adam"), "multinomial") == ["a", "z"]  # MLPClassifier's


def test_seeds_are_drawn_from_random_state():
    seeds = [TorchLogisticClassifier(random_state=s)._seed() for s in (0, 0, 1)]
    assert seeds[0] == seeds[1] != seeds[2]
    assert seeds[0] == np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    rng = np.random.RandomState(5)
    clf = TorchLogisticClassifier(random_state=rng)
    assert clf._seed() != clf._seed()  # one draw per call from the instance
    assert all(0 <= TorchLogisticClassifier(random_state=s)._seed() < 2**31 - 1 for s in range(20))
    assert type(seeds[0]) is int


def test_optimizer_batch_size_and_learning_rate_are_the_solvers():
    n = 500
    optimizer, lr, batch, kwargs = TorchLogisticClassifier()._optimizer(n)
    assert (optimizer, lr, batch, kwargs) == (LBFGS, 1.0, n, dict(history_size=10, max_ls=50))
    optimizer, lr, batch, kwargs = TorchLogisticClassifier(solver="newton-cholesky")._optimizer(n)
    assert (lr, batch, kwargs) == (1.0, n, {}) and optimizer.__name__ == "NewtonCholesky"
    adam = TorchLogisticClassifier(solver="adam", learning_rate_init=0.03)
    assert adam._optimizer(n) == (torch.optim.Adam, 0.03, 200, {})  # MLPClassifier's "auto": min(200, n)
    assert adam._optimizer(150)[2] == 150
    sgd = TorchLogisticClassifier(solver="sgd", batch_size=64, momentum=0.5, learning_rate_init=0.2)
    assert sgd._optimizer(n) == (torch.optim.SGD, 0.2, 64, {"momentum": 0.5})
    assert sgd._optimizer(40)[2] == 40  # never more than the rows


def test_stopping_rules_are_the_solvers():
    rule = TorchLogisticClassifier(tol=1e-3)._stopping_rule(torch.float32, validated=False, trust_gradient=False)
    assert isinstance(rule, LBFGSConvergence) and rule.tol == 1e-3 and rule.dtype == torch.float32
    assert rule.trust_gradient is False and rule.can_promote is True
    rule = TorchLogisticClassifier()._stopping_rule(torch.float64, validated=False, can_promote=False)
    assert rule.trust_gradient is True and rule.can_promote is False
    newton = TorchLogisticClassifier(solver="newton-cholesky", tol=1e-5)._stopping_rule(torch.float32, False)
    assert isinstance(newton, NewtonConvergence) and newton.tol == 1e-5
    assert newton.ftol == ftol_for(torch.float32)
    sgd = TorchLogisticClassifier(solver="sgd", tol=1e-2, n_iter_no_change=3)
    rule = sgd._stopping_rule(torch.float32, validated=False)
    assert isinstance(rule, NoImprovementStopping)
    assert (rule.tol, rule.n_iter_no_change, rule.monitor, rule.restore_best) == (1e-2, 3, "train_loss", False)
    rule = sgd._stopping_rule(torch.float32, validated=True)
    assert (rule.tol, rule.n_iter_no_change, rule.monitor, rule.restore_best) == (1e-2, 3, "valid_loss", True)


def test_newton_rule_calls_a_stall_convergence_in_float64_only():
    """After a fall-back to L-BFGS, a stall of a float32 run is its objective's rounding, not convergence (seeded bug
    166: the rule was built with its float64 default whatever the dtype, and float32 stalls were reported converged,
    without a ConvergenceWarning)."""
    newton = TorchLogisticClassifier(solver="newton-cholesky")
    assert newton._stopping_rule(torch.float64, validated=False).exact is True
    assert newton._stopping_rule(torch.float32, validated=False).exact is False


def test_validation_fraction_only_with_early_stopping_and_a_mini_batch_solver():
    ml = TorchMultiLabelClassifier
    assert ml(solver="adam", early_stopping=True, validation_fraction=0.2)._validation_fraction() == 0.2
    assert ml(solver="adam", early_stopping=False)._validation_fraction() is None
    assert ml(solver="lbfgs", early_stopping=True)._validation_fraction() is None
    assert ml((3,), early_stopping=True, validation_fraction=0.3)._validation_fraction() == 0.3  # "auto": adam


def test_net_has_the_estimators_settings():
    clf = TorchLogisticClassifier(C=0.5, l1_ratio=0.25, solver="sgd", max_iter=7, verbose=True, momentum=0.3)
    net = clf._make_net(
        LinearLogits,
        dict(n_features=3, n_outputs=2, bias=True),
        torch.device("cpu"),
        torch.float64,
        kind="multinomial",
        weight_sum=12.5,
        n_samples=9,
        callbacks=[("c", Callback())],
        seed=11,
    )
    assert net.max_epochs == 7 and net.batch_size == 9 and net.verbose == 1 and isinstance(net.verbose, int)
    assert net.optimizer is torch.optim.SGD and net.lr == clf.learning_rate_init and net.shuffle_seed == 11
    assert net.train_split is None and [n for n, _ in net.callbacks] == ["c"]
    net.initialize()
    criterion = net.criterion_
    assert (criterion.C, criterion.l1_ratio, criterion.weight_sum, criterion.n_samples) == (0.5, 0.25, 12.5, 9)
    assert criterion.kind == "multinomial" and criterion.pos_weight is None
    assert net.module_.linear.weight.dtype == torch.float64 and tuple(net.module_.linear.weight.shape) == (2, 3)
    assert net.optimizer_.param_groups[0]["momentum"] == 0.3


# ------------------------------------------------------------------------ convergence warnings


def test_convergence_warnings_have_sklearns_texts(iris):
    X, y = iris
    # scikit-learn >= 1.7's words ("after 2 iteration(s)"); 1.6's have no count (torchlogit follows the release)
    words = r"lbfgs failed to converge" + ("" if LBFGS_WARNING_BEFORE_1_7 else r" after 2 iteration")
    with pytest.warns(ConvergenceWarning, match=words) as record:
        TorchLogisticClassifier(max_iter=2).fit(X, y)
    assert "scale the data" in str(record[0].message) and "logistic-regression" in str(record[0].message)
    with pytest.warns(ConvergenceWarning) as record:
        TorchMultiLabelClassifier((3,), solver="lbfgs", max_iter=2, random_state=0).fit(X, np.eye(3)[y])
    assert "failed to converge" in str(record[0].message) and "logistic-regression" not in str(record[0].message)
    with pytest.warns(ConvergenceWarning, match=r"^Newton solver did not converge after 1 iterations\.$"):
        TorchLogisticClassifier(solver="newton-cholesky", max_iter=1, tol=1e-12).fit(X, y)
    with pytest.warns(ConvergenceWarning, match=r"Stochastic Optimizer: Maximum iterations \(2\) reached"):
        TorchLogisticClassifier(solver="adam", max_iter=2).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        TorchLogisticClassifier(max_iter=200).fit(X, y)  # converged: no warning


@pytest.mark.parametrize("cls", [TorchLogisticClassifier, TorchMultiLabelClassifier])
def test_a_mini_batch_fit_on_repeated_rows_says_its_epochs_are_over_the_merged_rows(cls):
    """Identical rows are merged before training, so an epoch of "adam" / "sgd" takes fewer steps than
    MLPClassifier's over every row (5000 rows of 64 distinct values: 1 against 25) and the same max_iter stops
    much earlier. The iteration-limit warning keeps MLPClassifier's words and then says so, with the counts; on
    rows all distinct it is MLPClassifier's text alone."""
    rng = np.random.RandomState(0)
    distinct = rng.randn(60, 4)
    y = (distinct[:, 0] > 0).astype(int)
    target = y if cls is TorchLogisticClassifier else np.c_[y, 1 - y]
    repeated = (np.tile(distinct, (5, 1)), np.tile(target, 5) if target.ndim == 1 else np.tile(target, (5, 1)))
    words = r"^Stochastic Optimizer: Maximum iterations \(2\) reached and the optimization hasn't converged yet\."
    with pytest.warns(ConvergenceWarning, match=words + r" Its epochs run over the 60 rows it trains on, of the 300"):
        cls(solver="adam", max_iter=2, random_state=0).fit(*repeated)
    with pytest.warns(ConvergenceWarning, match=r"1 steps an epoch against 2 over every row"):
        cls(solver="adam", max_iter=2, random_state=0).fit(*repeated)
    with pytest.warns(ConvergenceWarning, match=words + "$"):
        cls(solver="adam", max_iter=2, random_state=0).fit(distinct, target)
    # merged rows, but as many steps an epoch (one batch of at most 200 either way): MLPClassifier's words alone (it
    # said "fewer steps an epoch" on iris's 150 rows, 149 distinct)
    with pytest.warns(ConvergenceWarning, match=words + "$"):
        cls(solver="adam", max_iter=2, random_state=0).fit(*(a[:120] for a in repeated))


# ------------------------------------------------------------------------ fitted state


def test_pickles_drop_the_history_and_keep_predictions(iris):
    X, y = iris
    clf = quiet(TorchLogisticClassifier(max_iter=5).fit, X, y)
    expected, curve = clf.predict_proba(X), list(clf.loss_curve_)
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.predict_proba(X), expected)
    assert copy.loss_curve_ == curve and not hasattr(copy, "history_")
    assert "history_" not in clf.__getstate__()
    Y = np.eye(3, dtype=np.int16)[y]
    ml = quiet(TorchMultiLabelClassifier(max_iter=2).fit, X, Y)
    copy = pickle.loads(pickle.dumps(ml))
    assert copy._y_dtype == np.dtype(np.int16).str and isinstance(copy._y_dtype, str)  # skops trusts str
    assert copy.predict(X).dtype == np.int16
    ml_1d = quiet(TorchMultiLabelClassifier(max_iter=2).fit, X, y)
    assert pickle.loads(pickle.dumps(ml_1d))._y_dtype is None


class _OldNet:
    """What a model pickled before the lean state held: a skorch net with the module and its history."""

    def __init__(self, module, history, seed=0):
        self.module_, self.history, self.shuffle_seed = module, history, seed
        self.optimizer_ = torch.optim.SGD(module.parameters(), lr=0.1, momentum=0.5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_model_pickled_with_its_net_is_read_as_the_fitted_arrays(iris, dtype):
    X, y = iris
    clf = quiet(TorchLogisticClassifier(max_iter=5).fit, X, y)
    coef, intercept, proba = clf.coef_.copy(), clf.intercept_.copy(), clf.predict_proba(X)
    module = LinearLogits(4, 3, dtype=dtype)
    with torch.no_grad():
        module.linear.weight.copy_(torch.from_numpy(clf.coef_))
        module.linear.bias.copy_(torch.from_numpy(clf.intercept_))
    state = dict(clf.__getstate__())
    for name in ("coef_", "intercept_", "n_iter_", "loss_curve_"):
        del state[name]
    state["net_"] = _OldNet(module, [{"epoch": 1, "objective": 0.5}, {"epoch": 2, "objective": 0.25}])
    state["_incremental"] = False
    old = TorchLogisticClassifier.__new__(TorchLogisticClassifier)
    old.__setstate__(state)
    assert "net_" not in vars(old) and "_incremental" not in vars(old)
    assert old.coef_.dtype == (np.float32 if dtype == torch.float32 else np.float64)
    np.testing.assert_allclose(old.coef_, coef, rtol=1e-6)
    np.testing.assert_allclose(old.intercept_, intercept, rtol=1e-6)
    np.testing.assert_allclose(old.predict_proba(X), proba, rtol=1e-5)
    assert old.loss_curve_ == [0.5, 0.25] and old.n_iter_.tolist() == [2]
    assert not hasattr(old, "_partial_state")
    # a partial_fit model also keeps what the next partial_fit continues from
    state["net_"] = _OldNet(module, [{"epoch": 1, "train_loss": 0.75}], seed=123)
    state["_incremental"] = True
    old = TorchLogisticClassifier.__new__(TorchLogisticClassifier)
    old.__setstate__(state)
    assert "_incremental" not in vars(old) and old.loss_curve_ == [0.75]
    assert old._partial_state["seed"] == 123 and old._partial_state["solver"] == old.solver


def test_sparsify_and_densify_exist_for_linear_models_only(iris):
    X, y = iris
    assert hasattr(TorchMultiLabelClassifier(), "sparsify") and hasattr(TorchMultiLabelClassifier(), "densify")
    hidden = TorchMultiLabelClassifier((3,))
    assert not hasattr(hidden, "sparsify") and not hasattr(hidden, "densify")
    with pytest.raises(AttributeError):
        hidden.sparsify()
    assert hasattr(TorchMultiLabelClassifier((0,)), "sparsify")  # invalid: fit reports it
    assert hasattr(TorchMultiLabelClassifier(("a",)), "sparsify")
    with pytest.raises(NotFittedError):
        TorchLogisticClassifier().sparsify()
    with pytest.raises(NotFittedError):
        TorchLogisticClassifier().densify()
    clf = quiet(TorchLogisticClassifier(max_iter=3).fit, X, y)
    dense = clf.predict_proba(X)
    assert sp.issparse(clf.sparsify().coef_) and clf.coef_.format == "csr"
    np.testing.assert_allclose(clf.predict_proba(X), dense, rtol=1e-12)
    assert isinstance(clf.densify().coef_, np.ndarray)
    assert isinstance(clf.densify().coef_, np.ndarray)  # twice: nothing to do
    np.testing.assert_array_equal(clf.predict_proba(X), dense)
    # a hidden-layer model fitted, then made linear by its parameters: it has no coef_ to convert
    ml = quiet(TorchMultiLabelClassifier((2,), max_iter=1).fit, X, np.eye(3)[y]).set_params(hidden_layer_sizes=())
    with pytest.raises(AttributeError, match="sparsify"):
        ml.sparsify()
    with pytest.raises(AttributeError, match="densify"):
        ml.densify()


def test_save_and_onnx_need_a_fitted_model(tmp_path):
    with pytest.raises(NotFittedError):
        TorchLogisticClassifier().save(tmp_path / "m.tlogit")
    with pytest.raises(NotFittedError):
        TorchLogisticClassifier().to_onnx(tmp_path / "m.onnx")


@pytest.mark.parametrize("hidden", [(), (3, 2)])
def test_save_and_load_give_the_same_predictions(iris, tmp_path, hidden):
    X, y = iris
    Y = np.eye(3, dtype=int)[y]
    clf = quiet(TorchMultiLabelClassifier(hidden, max_iter=3, random_state=0, fit_intercept=not hidden).fit, X, Y)
    clf.save(tmp_path / "m")
    loaded = TorchMultiLabelClassifier.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    for a, b in zip(loaded.coefs_ + loaded.intercepts_, clf.coefs_ + clf.intercepts_, strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------------ prediction


def test_prediction_outputs_are_the_logits_closed_forms(iris):
    X, y = iris
    clf = quiet(TorchLogisticClassifier(max_iter=5).fit, X, y)
    logits = X @ clf.coef_.T + clf.intercept_
    np.testing.assert_allclose(clf.decision_function(X), logits, rtol=1e-12)
    np.testing.assert_allclose(clf.predict_proba(X), softmax(logits, axis=1), rtol=1e-12)
    np.testing.assert_allclose(clf.predict_log_proba(X), log_softmax(logits, axis=1), rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), logits.argmax(axis=1))
    binary = quiet(TorchLogisticClassifier(max_iter=5).fit, X, np.where(y == 1, "b", "a"))
    z = X @ binary.coef_[0] + binary.intercept_[0]
    decision = binary.decision_function(X)
    assert decision.shape == (len(X),)
    np.testing.assert_allclose(decision, z, rtol=1e-12)
    np.testing.assert_allclose(binary.predict_proba(X)[:, 1], expit(z), rtol=1e-12)
    np.testing.assert_allclose(binary.predict_log_proba(X), np.log(binary.predict_proba(X)), rtol=1e-12)
    np.testing.assert_array_equal(binary.predict(X), np.where(z > 0, "b", "a"))


def test_predictions_check_fitted_and_features(iris):
    X, y = iris
    for method in ("decision_function", "predict_proba", "predict_log_proba", "predict"):
        with pytest.raises(NotFittedError):
            getattr(TorchLogisticClassifier(), method)(X)
    with pytest.raises(NotFittedError):
        TorchLogisticClassifier().score(X, y)
    clf = quiet(TorchLogisticClassifier(max_iter=3).fit, X, y)
    with pytest.raises(ValueError, match="X has 3 features"):
        clf.predict(X[:, :3])
    with pytest.raises(ValueError, match="X has 3 features"):
        clf.score(X[:, :3], y)


def test_a_model_for_a_device_this_machine_lacks_predicts_on_the_cpu(iris):
    X, y = iris
    clf = quiet(TorchLogisticClassifier(max_iter=3).fit, X, y)
    expected = clf.predict_proba(X)
    assert clf._prediction_device() == torch.device("cpu")
    if not torch.cuda.is_available():
        clf.set_params(device="cuda")
        assert clf._prediction_device() == torch.device("cpu")
        np.testing.assert_array_equal(clf.predict_proba(X), expected)
    hidden = quiet(TorchMultiLabelClassifier((4,), max_iter=2, random_state=0).fit, X, np.eye(3)[y])
    # the CPU path sums hidden layers term by term: a row alone gives the same bits as in the batch
    np.testing.assert_array_equal(hidden.predict_proba(X[7:8]), hidden.predict_proba(X)[7:8])


def test_tensor_input_is_predicted_where_it_lives_as_a_tensor(iris):
    X, y = iris
    clf = quiet(TorchMultiLabelClassifier((4,), activation="tanh", max_iter=2, random_state=0).fit, X, y)
    T = torch.from_numpy(X)
    for method in ("decision_function", "predict_proba", "predict_log_proba"):
        out = getattr(clf, method)(T)
        assert isinstance(out, torch.Tensor)
        np.testing.assert_allclose(out.numpy(), getattr(clf, method)(X), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(np.asarray(clf.predict(T)), clf.predict(X))


def test_score_is_accuracy_score_with_weights_and_subset_accuracy(iris):
    X, y = iris
    w = np.random.RandomState(0).uniform(0, 2, len(y))
    clf = quiet(TorchLogisticClassifier(max_iter=2).fit, X, y)
    predicted = clf.predict(X)
    assert 0.5 < clf.score(X, y) < 1
    assert clf.score(X, y) == accuracy_score(y, predicted)
    assert clf.score(X, y, sample_weight=w) == accuracy_score(y, predicted, sample_weight=w)
    assert clf.score(X, y, sample_weight=w) != clf.score(X, y)
    assert isinstance(clf.score(X, y), float)
    Y = np.eye(3, dtype=int)[y]
    Y[::4, 0] = 1
    ml = quiet(TorchMultiLabelClassifier(max_iter=2).fit, X, Y)
    assert ml.score(X, Y) == np.mean(np.all(ml.predict(X) == Y, axis=1))
    assert ml.score(torch.from_numpy(X), torch.from_numpy(Y)) == ml.score(X, Y)


def test_tags_say_sparse_and_array_api():
    tags = TorchLogisticClassifier().__sklearn_tags__()
    assert tags.input_tags.sparse is True
    assert tags.array_api_support is ARRAY_API_DISPATCH_AVAILABLE
    assert tags.estimator_type == "classifier"


@pytest.mark.parametrize("hidden", [(), (3,)])
def test_predictions_are_computed_in_float64_from_any_input_dtype(iris, hidden):
    """Integers beyond float32's 2**24 and float32 input give the float64 input's predictions, bit for bit."""
    X, y = iris
    clf = quiet(TorchMultiLabelClassifier(hidden, max_iter=2, random_state=0).fit, X, y)
    clf.coefs_[0][:] = 1e-7  # tiny weights: large inputs stay in range
    big = (np.arange(len(X) * 4).reshape(-1, 4) % 7 + 2**25 + 1).astype(np.int64)
    assert np.any(big.astype(np.float32).astype(np.int64) != big)  # float32 would round them
    reference = clf.predict_proba(big.astype(np.float64))
    np.testing.assert_array_equal(clf.predict_proba(big), reference)
    sparse = clf.decision_function(sp.csr_matrix(big))  # scipy's sum order: equal to rounding, not bitwise
    np.testing.assert_allclose(sparse, clf.decision_function(big * 1.0), rtol=1e-14, atol=0)
    X32 = X.astype(np.float32)
    np.testing.assert_array_equal(clf.predict_proba(X32), clf.predict_proba(X32.astype(np.float64)))


def test_dask_fit_refusals_come_before_any_work():
    da = pytest.importorskip("dask.array")
    dd = pytest.importorskip("dask.dataframe")
    import pandas as pd

    X = da.from_array(np.random.RandomState(0).randn(40, 3), chunks=20)
    y = da.from_array(np.arange(40) % 2, chunks=20)
    with pytest.raises(TypeError, match="fit takes dask arrays"):
        TorchLogisticClassifier().fit(dd.from_pandas(pd.DataFrame(np.ones((4, 2))), npartitions=2), y)
    with pytest.raises(ValueError, match="full-batch L-BFGS"):
        TorchLogisticClassifier(solver="adam").fit(X, y)
    with pytest.raises(ValueError, match="full-batch L-BFGS"):
        TorchMultiLabelClassifier((3,), solver="lbfgs").fit(X, y)
    with pytest.raises(ValueError, match="Training on device='mps' is not supported"):
        TorchLogisticClassifier(device="mps", dtype="float32").fit(X, y)
    with pytest.raises(ValueError, match="got l1 penalty"):
        TorchLogisticClassifier(solver="newton-cholesky", l1_ratio=1.0).fit(X, y)


def test_decision_function_is_sklearns_product_bit_for_bit_dense_or_sparse_coef():
    """LinearClassifierMixin.decision_function: ``safe_sparse_dot(X, coef_.T, dense_output=True) + intercept_``.
    With a sparse coef_ (after sparsify) that is SciPy's product, which differs from the dense one in the last
    bits on 300 features: the sparse coef_ is used as it is, not densified."""
    from sklearn.utils.extmath import safe_sparse_dot

    rng = np.random.RandomState(0)
    X, y = rng.randn(200, 300), rng.randint(0, 3, 200)
    clf = quiet(TorchLogisticClassifier(max_iter=1).fit, X, y)
    coef = rng.randn(3, 300) * (rng.rand(3, 300) < 0.5)
    clf.coef_ = coef.copy()
    reference = lambda: safe_sparse_dot(X, clf.coef_.T, dense_output=True) + clf.intercept_  # noqa: E731
    np.testing.assert_array_equal(clf.decision_function(X), reference())
    clf.sparsify()
    np.testing.assert_array_equal(clf.decision_function(X), reference())
    assert not np.array_equal(clf.decision_function(X), X @ coef.T + clf.intercept_)
    np.testing.assert_array_equal(clf.predict_proba(X), softmax(reference(), axis=1))


@pytest.mark.skipif(not ARRAY_API_DISPATCH_AVAILABLE, reason="scikit-learn's array-API mode is not available")
def test_in_array_api_mode_each_method_refuses_another_namespace_naming_itself(iris):
    """scikit-learn's ``check_same_namespace`` message names the method that was called."""
    import sklearn

    X, y = iris
    with sklearn.config_context(array_api_dispatch=True):
        clf = quiet(TorchLogisticClassifier(max_iter=3).fit, torch.from_numpy(X), torch.from_numpy(y))
        for method in ("decision_function", "predict_proba", "predict_log_proba", "predict"):
            with pytest.raises(ValueError, match=rf"TorchLogisticClassifier\.{method}\(\) must use the same namespace"):
                getattr(clf, method)(X)
        with pytest.raises(ValueError, match=r"TorchLogisticClassifier\.score\(\) must use the same namespace"):
            clf.score(X, y)


def test_a_model_pickled_with_its_net_before_partial_state_existed_has_none(iris):
    """Files from before ``_incremental`` was pickled: no key means a model from ``fit``."""
    X, y = iris
    clf = quiet(TorchLogisticClassifier(max_iter=5).fit, X, y)
    module = LinearLogits(4, 3, dtype=torch.float64)
    state = dict(clf.__getstate__())
    for name in ("coef_", "intercept_", "n_iter_", "loss_curve_"):
        del state[name]
    state["net_"] = _OldNet(module, [{"epoch": 1, "objective": 0.5}])
    old = TorchLogisticClassifier.__new__(TorchLogisticClassifier)
    old.__setstate__(state)
    assert not hasattr(old, "_partial_state") and "_incremental" not in vars(old)
    assert old.coef_.shape == (3, 4) and old.loss_curve_ == [0.5]


def test_fit_forgets_the_old_features_and_partial_fit_keeps_them_with_sklearns_message(iris):
    X, y = iris
    clf = quiet(TorchLogisticClassifier(max_iter=3).fit, X, y)
    sparse = quiet(TorchLogisticClassifier(max_iter=3).fit, sp.csr_matrix(X), y)  # CSR accepted as given
    np.testing.assert_allclose(sparse.coef_, clf.coef_, rtol=1e-5, atol=1e-6)
    quiet(clf.fit, X[:, :3], y)
    assert clf.n_features_in_ == 3 and clf.coef_.shape == (3, 3)
    partial = TorchLogisticClassifier(solver="sgd").partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="X has 3 features, but TorchLogisticClassifier is expecting 4 features"):
        partial.partial_fit(X[:, :3], y)


def test_feature_names_are_kept_at_fit_and_checked_at_partial_fit(iris):
    pd = pytest.importorskip("pandas")
    X, y = iris
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = quiet(TorchLogisticClassifier(max_iter=2).fit, frame, y)
    np.testing.assert_array_equal(clf.feature_names_in_, ["a", "b", "c", "d"])
    partial = TorchLogisticClassifier(solver="sgd").partial_fit(frame, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="feature names should match"):
        partial.partial_fit(frame.rename(columns={"a": "z"}), y)


# (a second mutation survey, B13) _base.py:penalty_name without its C=inf branch ("l2" for an unpenalised model)
def test_penalty_is_none_for_an_infinite_c(iris):
    X, y = iris
    assert TorchLogisticClassifier(C=np.inf).fit(X, y).penalty is None
    assert TorchLogisticClassifier(C=np.inf, l1_ratio=1.0).penalty is None
