"""solver="newton-cholesky": scikit-learn's Newton-Cholesky solver, same iterates and stopping rule."""

import pickle
import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
import torch
from sklearn._loss.loss import HalfBinomialLoss, HalfMultinomialLoss
from sklearn.datasets import load_wine, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.linear_model._linear_loss import LinearModelLoss
from sklearn.preprocessing import StandardScaler
from sklearn.utils.fixes import parse_version
from skorch.callbacks import Callback

from torchlogit import TorchLogisticClassifier
from torchlogit import _newton as newton
from torchlogit._kernels import sparse_tensor
from torchlogit._newton import data_hessian

from .conftest import requires_cuda


def _pair(X, y, **params):
    """Ours (float64) and scikit-learn's newton-cholesky fits with the same parameters."""
    ours = TorchLogisticClassifier(solver="newton-cholesky", dtype="float64", **params).fit(X, y)
    params.pop("sample_weight", None)
    ref = LogisticRegression(solver="newton-cholesky", **params).fit(X, y)
    return ours, ref


@pytest.mark.parametrize("data", ["breast_cancer", "wine"])
@pytest.mark.parametrize("C", [1.0, 0.05, np.inf])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_matches_sklearn_newton_cholesky(datasets, data, C, fit_intercept):
    """Equals LogisticRegression(solver="newton-cholesky") to 1e-6 (coefficients), same n_iter_.

    The unpenalised binary fit on breast cancer has no optimum (separable data) and is left out.
    """
    X, y = datasets[data]
    if data == "breast_cancer" and np.isinf(C):
        pytest.skip("separable: no finite optimum to compare")
    ours = TorchLogisticClassifier(solver="newton-cholesky", C=C, fit_intercept=fit_intercept, dtype="float64")
    ref = LogisticRegression(solver="newton-cholesky", C=C, fit_intercept=fit_intercept)
    ours.fit(X, y)
    ref.fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)
    assert ours.n_iter_[0] == ref.n_iter_[0]


@pytest.mark.parametrize("data", ["breast_cancer", "wine"])
def test_sample_and_class_weights_match_sklearn(datasets, data):
    """sample_weight and class_weight: coefficients within 1e-6 of scikit-learn's newton-cholesky."""
    X, y = datasets[data]
    weight = np.random.RandomState(0).uniform(0, 3, len(y))
    classes = np.unique(y)
    class_weight = {c: 1.0 + i for i, c in enumerate(classes)}
    ours = TorchLogisticClassifier(solver="newton-cholesky", dtype="float64", class_weight=class_weight, C=0.5)
    ref = LogisticRegression(solver="newton-cholesky", class_weight=class_weight, C=0.5)
    ours.fit(X, y, sample_weight=weight)
    ref.fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)


def test_float32_reaches_the_float64_optimum_closely(wine):
    """float32 training (float64 solve): probabilities within 1e-4 of scikit-learn's float64 fit."""
    X, y = wine
    ours = TorchLogisticClassifier(solver="newton-cholesky").fit(X, y)
    ref = LogisticRegression(solver="newton-cholesky").fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-4)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_sparse_input_gives_the_dense_answer(wine, n_classes):
    """CSR input with about half the entries zero: coefficients within 1e-10 of the dense fit."""
    X, y = wine
    X = np.where(np.abs(X) < 0.7, 0.0, X)
    y = y if n_classes == 3 else (y > 0).astype(int)
    dense = TorchLogisticClassifier(solver="newton-cholesky", dtype="float64").fit(X, y)
    sparse = TorchLogisticClassifier(solver="newton-cholesky", dtype="float64").fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, atol=1e-10)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, atol=1e-10)


@pytest.mark.parametrize("kind", ["binary", "multinomial"])
@pytest.mark.parametrize("layout", ["dense", "sparse-host", "sparse-chunks"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("rows_per_chunk", [None, 7])
def test_hessian_equals_sklearn_gradient_hessian(kind, layout, fit_intercept, rows_per_chunk, monkeypatch):
    """data_hessian / S + penalty equals scikit-learn's LinearModelLoss.gradient_hessian to 1e-12.

    "sparse-chunks" is the path of devices other than the CPU (rows densified a chunk
    at a time), run here on a CPU tensor without its scipy copy. With ``rows_per_chunk=7``
    the 60 rows are summed in 9 chunks, the last one shorter (one buffer serves them all).
    """
    rng = np.random.RandomState(0)
    n, d, K = 60, 5, (1 if kind == "binary" else 3)
    X = rng.randn(n, d) * (rng.rand(n, d) < 0.5)
    y = rng.randint(0, max(K, 2), n).astype(np.float64)
    weight = rng.uniform(0.5, 2.0, n)
    W, b = rng.randn(K, d) * 0.3, rng.randn(K) * 0.3 * fit_intercept
    if rows_per_chunk is not None:
        monkeypatch.setattr(newton, "CHUNK_VALUES", rows_per_chunk * (d + int(fit_intercept)))
    logits = torch.from_numpy(X @ W.T + b)
    probabilities = torch.sigmoid(logits) if kind == "binary" else torch.softmax(logits, 1)
    if layout == "dense":
        features = torch.from_numpy(X)
    else:
        features = sparse_tensor(sp.csr_matrix(X), torch.float64, "cpu")
        if layout == "sparse-chunks":
            del features._torchlogit_host
    H = data_hessian(features, probabilities, torch.from_numpy(weight), kind, fit_intercept=fit_intercept).numpy()
    H /= weight.sum()
    p = d + int(fit_intercept)
    if kind == "binary":
        loss = LinearModelLoss(HalfBinomialLoss(), fit_intercept=fit_intercept)
        coef = np.r_[W[0], b[:1]] if fit_intercept else W[0]
        order = np.arange(p)
    else:
        loss = LinearModelLoss(HalfMultinomialLoss(n_classes=K), fit_intercept=fit_intercept)
        coef = (np.c_[W, b] if fit_intercept else W).ravel(order="F")  # scikit-learn: classes contiguous per feature
        order = np.arange(K * p).reshape(p, K).T.ravel()  # our class blocks in its layout
    _, ref, _ = loss.gradient_hessian(coef, X, y, weight / weight.sum(), l2_reg_strength=0.0)
    np.testing.assert_allclose(H, ref[np.ix_(order, order)], atol=1e-12)


def test_warm_start_continues_from_the_previous_fit(wine):
    """3 iterations, then a warm-started fit: the cold fit's iterates, to 1e-12, in the same total count."""
    X, y = wine
    cold = TorchLogisticClassifier(solver="newton-cholesky", dtype="float64").fit(X, y)
    warm = TorchLogisticClassifier(solver="newton-cholesky", dtype="float64", warm_start=True, max_iter=3)
    with pytest.warns(ConvergenceWarning):
        warm.fit(X, y)
    warm.set_params(max_iter=100).fit(X, y)
    assert 3 + warm.n_iter_[0] == cold.n_iter_[0]
    np.testing.assert_allclose(warm.coef_, cold.coef_, atol=1e-12)
    np.testing.assert_allclose(warm.intercept_, cold.intercept_, atol=1e-12)


def test_max_iter_reached_warns_like_sklearn(wine):
    X, y = wine
    with pytest.warns(ConvergenceWarning, match="Newton solver did not converge after 1 iterations"):
        TorchLogisticClassifier(solver="newton-cholesky", max_iter=1).fit(X, y)


@pytest.mark.parametrize("l1_ratio, name", [(1.0, "l1"), (0.5, "elasticnet")])
def test_l1_is_refused_like_sklearn(wine, l1_ratio, name):
    X, y = wine
    with pytest.raises(ValueError, match=f"Solver newton-cholesky supports only 'l2' or None penalties, got {name}"):
        TorchLogisticClassifier(solver="newton-cholesky", l1_ratio=l1_ratio).fit(X, y)
    # then in torchlogit's terms (it has no `penalty` parameter)
    with pytest.raises(ValueError, match=f"penalty \\(l1_ratio={l1_ratio:g} with C=1\\): set l1_ratio=0"):
        TorchLogisticClassifier(solver="newton-cholesky", l1_ratio=l1_ratio).fit(X, y)


def test_too_many_features_are_refused_before_any_work(monkeypatch):
    def no_hessian(*args, **kwargs):  # had the refusal been skipped: fail at once, not after 6.7 GB of Hessian
        raise AssertionError("a Newton step was taken: the Hessian's size was not refused up front")

    monkeypatch.setattr(newton.NewtonCholesky, "_newton_step", no_hessian)
    X = sp.random(10, 20_000, density=0.001, format="csr", random_state=0)
    with pytest.raises(ValueError, match="use solver='lbfgs'"):
        TorchLogisticClassifier(solver="newton-cholesky").fit(X, np.arange(10) % 2)


def test_a_hessian_that_does_not_factorise_is_reported_in_scipys_words():
    """make_classification's redundant columns at C=inf: our Cholesky factorisation fails where scikit-learn's
    LDL^T solve warns of the conditioning. The warning quotes SciPy's words, as scikit-learn's does."""
    X, y = make_classification(500, 6, random_state=0)
    warned = []
    for model in (
        LogisticRegression(solver="newton-cholesky", C=np.inf),
        TorchLogisticClassifier(solver="newton-cholesky", C=np.inf, dtype="float64"),
    ):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(X, y)
        warned.append(caught)
    _same_fallback_warning(warned[1], warned[0])


def test_singular_hessian_falls_back_to_lbfgs_like_sklearn():
    """Unpenalised, duplicated columns: the Hessian is singular, the fit warns and goes on with L-BFGS
    to the same (unique) probabilities as scikit-learn's, within 1e-6."""
    rng = np.random.RandomState(0)
    x = rng.randn(200, 1)
    X = np.hstack([x, x])
    y = (x[:, 0] + rng.randn(200) > 0).astype(int)
    with warnings.catch_warnings(record=True) as ours_warned:
        warnings.simplefilter("always")
        ours = TorchLogisticClassifier(solver="newton-cholesky", C=np.inf, dtype="float64", tol=1e-10).fit(X, y)
    with warnings.catch_warnings(record=True) as ref_warned:
        warnings.simplefilter("always")
        ref = LogisticRegression(solver="newton-cholesky", C=np.inf, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    _same_fallback_warning(ours_warned, ref_warned)


@pytest.mark.parametrize("redundant", [0, 2], ids=["newton to the end", "lbfgs fall-back"])
def test_a_warm_started_multinomial_fit_reports_the_symmetric_solution_as_sklearn(redundant):
    """Unpenalised, from intercepts [1, 2, 3] and random coefficients: scikit-learn's finalize reports intercepts and
    coefficient columns summing to zero over the classes, however the iterations ended. After the L-BFGS fall-back
    (redundant columns: a singular Hessian) ours kept the warm start's offsets (intercepts summing to 6, coef_ 0.14
    from scikit-learn's, probabilities equal)."""
    X, y = make_classification(3000, 10, n_informative=6, n_redundant=redundant, n_classes=3, random_state=0)
    start = np.random.RandomState(1).randn(3, 10) * 0.1, np.array([1.0, 2.0, 3.0])
    models = []
    for model in (
        LogisticRegression(solver="newton-cholesky", C=np.inf, tol=1e-10, max_iter=1000, warm_start=True),
        TorchLogisticClassifier(
            solver="newton-cholesky", C=np.inf, tol=1e-10, max_iter=1000, warm_start=True, dtype="float64"
        ),
    ):
        model.coef_, model.intercept_, model.classes_ = start[0].copy(), start[1].copy(), np.arange(3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the fall-back's LinAlgWarning (compared in the test above)
            models.append(model.fit(X, y))
    ref, ours = models
    assert abs(ours.intercept_.sum()) < 1e-12 and np.abs(ours.coef_.sum(axis=0)).max() < 1e-12
    if parse_version(sklearn.__version__).release >= (1, 9):  # 1.6's warm-started Newton path ends elsewhere
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_separable_data_without_a_penalty_warns_and_falls_back_as_sklearn(dtype):
    """On separable data at C=inf the logits grow without bound: scikit-learn's Newton solver finds more than a
    quarter of its pointwise Hessians zero (exp(-|z|) underflows), warns and goes on with L-BFGS. Ours went on
    with Newton steps, silently. Same warning, same words (the iteration's number included), same predictions."""
    rng = np.random.RandomState(0)
    X = rng.randn(200, 3)
    y = (X[:, 0] > 0).astype(int)
    caught = {}
    for name, model in (
        ("ref", LogisticRegression(solver="newton-cholesky", C=np.inf, tol=1e-10, max_iter=200)),
        ("ours", TorchLogisticClassifier(solver="newton-cholesky", C=np.inf, tol=1e-10, max_iter=200, dtype=dtype)),
    ):
        with warnings.catch_warnings(record=True) as caught[name]:
            warnings.simplefilter("always")
            model.fit(X, y)
        caught[name] = [(w.category, str(w.message)) for w in caught[name] if "pointwise hessian" in str(w.message)]
        caught[name + " proba"] = model.predict_proba(X)
        caught[name + " n_iter_"] = model.n_iter_.tolist()
    assert caught["ours"] == caught["ref"] and len(caught["ref"]) == 1
    # scikit-learn's fall-back L-BFGS-B finds the gradient within tol and stops before its first iteration: 25
    # iterations, the Newton ones before the failed 26th (ours took an L-BFGS step and said 26)
    assert caught["ours n_iter_"] == caught["ref n_iter_"]
    assert caught["ref"][0][0] is ConvergenceWarning
    np.testing.assert_allclose(caught["ours proba"], caught["ref proba"], atol=1e-6)
    # The default tol stops before the logits get that far: no warning, for either
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TorchLogisticClassifier(solver="newton-cholesky", C=np.inf, dtype=dtype).fit(X, y)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_fall_back_at_a_point_within_tol_takes_no_step_as_sklearns(dtype):
    """Warm-started at its own optimum on duplicated columns (a singular Hessian at the first iteration): scikit-learn's
    fall-back L-BFGS-B finds the gradient within tol and stops before any iteration, n_iter_ 0, the coefficients as
    they were. Ours took an L-BFGS step: n_iter_ 1 and coef_ moved by 2e-6."""
    rng = np.random.RandomState(0)
    X = rng.randn(300, 3)
    X = np.hstack([X, X[:, :1]])
    y = (X[:, 0] + rng.randn(300) > 0).astype(int)
    for model in (
        LogisticRegression(solver="newton-cholesky", C=np.inf, tol=1e-6, warm_start=True),
        TorchLogisticClassifier(solver="newton-cholesky", C=np.inf, tol=1e-6, warm_start=True, dtype=dtype),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the fall-back's LinAlgWarning (compared above)
            first = model.fit(X, y).coef_.copy()
            model.fit(X, y)
        assert model.n_iter_.tolist() == [0]
        np.testing.assert_allclose(model.coef_, first, rtol=0, atol=1e-7)


def _same_fallback_warning(ours, ref):
    """scikit-learn's category (scipy's LinAlgWarning, which a filter on ConvergenceWarning does not catch) and its
    words up to the linear-algebra message, the remedies included."""
    import scipy.linalg

    def fallback(caught):
        found = [w for w in caught if "resort to lbfgs" in str(w.message)]
        assert len(found) == 1
        return found[0]

    mine, theirs = fallback(ours), fallback(ref)
    assert mine.category is theirs.category is scipy.linalg.LinAlgWarning
    text = str(theirs.message)  # its class name too: a filter on scikit-learn's words catches ours
    head = text.split("The original Linear Algebra message was:")[0]
    assert str(mine.message).startswith(head)
    # and the linear-algebra message in the installed SciPy's words (1.17 changed them), up to the estimate of rcond
    # (ours, SciPy's 1-norm estimate, from the Cholesky factor where it exists; the words were our Cholesky's where
    # it failed: "Matrix is not positive definite (its leading minor of order 5 is not).")
    last_lines = {re.sub(r"[-+.e\d]+(?=\)|\.?$)", "#", str(w.message).split("\n")[-1]) for w in (mine, theirs)}
    assert len(last_lines) == 1, last_lines


def test_an_ill_conditioned_hessian_falls_back_to_lbfgs_as_sklearns_does():
    """Unscaled breast cancer, no penalty: the Hessian factorises but its reciprocal condition falls below eps;
    scikit-learn's solve warns and goes on with L-BFGS, and now so does this one (it took 22 Newton steps of
    mostly rounding, silently). Both end on the training data's separation."""
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    with warnings.catch_warnings(record=True) as ours_warned:
        warnings.simplefilter("always")
        ours = TorchLogisticClassifier(solver="newton-cholesky", C=np.inf, dtype="float64").fit(X, y)
    with warnings.catch_warnings(record=True) as ref_warned:
        warnings.simplefilter("always")
        ref = LogisticRegression(solver="newton-cholesky", C=np.inf).fit(X, y)
    _same_fallback_warning(ours_warned, ref_warned)
    assert ours.score(X, y) == ref.score(X, y) == 1.0


def test_float32_multinomial_newton_on_unscaled_data_reaches_scikit_learns_optimum():
    """Unscaled wine, 3 classes, float32 training: float32 probabilities and diagonal blocks that cancel against the
    others left the Hessian indefinite (features of 1e3 scale the rounding past the penalty): the fit fell back to
    L-BFGS at iteration 1-2 and stopped 27-93% above the optimum, reported as converged. Now Newton's path, as
    scikit-learn's."""
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no LinAlgWarning, no ConvergenceWarning
        ours = TorchLogisticClassifier(solver="newton-cholesky").fit(X, y)
    ref = LogisticRegression(solver="newton-cholesky").fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-4)
    assert ours.n_iter_[0] <= ref.n_iter_[0] + 1


def test_a_float32_stall_after_the_fallback_is_not_called_convergence():
    """After a fall-back to L-BFGS, a float32 run whose objective stops decreasing by more than its rounding has not
    shown convergence (its gradient can be far above tol): unconverged, as the L-BFGS rule reports it."""
    rule = newton.NewtonConvergence(tol=1e-4, ftol=1e-6, exact=False)

    class _Net:
        history = [{"batches": [{"train_loss": 1.0}], "objective": 1.0 - 1e-8, "grad_max": 0.04}]

        class optimizer_:
            state = {"p": {"fallback": True}}

        class module_:
            parameters = staticmethod(lambda: iter(["p"]))

    rule.on_train_begin(_Net)
    with pytest.raises(KeyboardInterrupt):
        rule.on_epoch_end(_Net)
    assert not rule.converged_ and rule.status_ == 2 and "FLOAT32" in rule.message_
    exact = newton.NewtonConvergence(tol=1e-4, ftol=1e-6)
    exact.on_train_begin(_Net)
    with pytest.raises(KeyboardInterrupt):
        exact.on_epoch_end(_Net)
    assert exact.converged_


def test_fitted_model_keeps_no_training_data(wine):
    """The fitted model keeps no training machinery: no net, and a pickle far smaller than the data."""
    X, y = wine
    X = np.tile(X, (50, 1))
    y = np.tile(y, 50)
    clf = TorchLogisticClassifier(solver="newton-cholesky").fit(X + np.arange(len(X))[:, None] * 1e-3, y)
    assert not hasattr(clf, "net_")
    assert len(pickle.dumps(clf)) < X.nbytes / 4


@requires_cuda
def test_cuda_matches_cpu(wine):
    X, y = wine
    cpu = TorchLogisticClassifier(solver="newton-cholesky", dtype="float64").fit(X, y)
    cuda = TorchLogisticClassifier(solver="newton-cholesky", dtype="float64", device="cuda").fit(X, y)
    np.testing.assert_allclose(cuda.coef_, cpu.coef_, atol=1e-8)


@pytest.mark.parametrize("classes", [2, 3])
def test_the_hessian_starts_from_the_logits_of_the_last_evaluation_at_the_same_point(classes, monkeypatch):
    """The closure's logits at the current point are reused for the Hessian (binary: every iteration after the
    first evaluation; multinomial: not after centring moved the point), with the fit bitwise the one that
    computes them afresh."""
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=400, n_features=6, n_informative=4, n_classes=classes, random_state=0)
    calls = []
    original = newton.linear_scores

    def counting(*args):
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(newton, "linear_scores", counting)
    reused = TorchLogisticClassifier(solver="newton-cholesky", dtype="float64", tol=1e-10).fit(X, y)
    reused_calls = len(calls)
    monkeypatch.setattr(newton.NewtonCholesky, "note_logits", lambda self, logits: None)
    calls.clear()
    fresh = TorchLogisticClassifier(solver="newton-cholesky", dtype="float64", tol=1e-10).fit(X, y)
    assert len(calls) == fresh.n_iter_[0] >= 3  # without the closure's logits: one product per iteration
    if classes == 2:
        assert reused_calls == 0
        np.testing.assert_array_equal(reused.coef_, fresh.coef_)
        np.testing.assert_array_equal(reused.intercept_, fresh.intercept_)
    else:
        np.testing.assert_allclose(reused.coef_, fresh.coef_, atol=1e-10)


def test_a_float32_stall_after_the_fall_back_continues_in_float64():
    """Unscaled breast cancer, no penalty, float32: after the fall-back, L-BFGS stalled at float32 precision. The
    warning said "Newton solver did not converge after 19 iterations", then "fell back to lbfgs, which stopped at
    float32 precision"; the run continued in float64 as a float32 L-BFGS run does. Since 2026-12-06 its Hessian,
    too ill-conditioned for float32 steps, sends it to float64 from the first iteration, where Newton falls back
    to L-BFGS as scikit-learn's does, and converges as scikit-learn's does (its only warning the fall-back's
    LinAlgWarning). The data are nearly separable (no finite optimum without a penalty), so where each L-BFGS
    stops decides the log-loss: 0.004414 against scikit-learn's 0.004435 (2026-12-06, scikit-learn 1.9.1), 1.4e-4
    above it with the lowest supported versions (torch 2.2, NumPy 1.24, scikit-learn 1.6)."""
    import scipy.linalg
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)  # the fall-back's own warning, as scikit-learn's
        warnings.simplefilter("error", ConvergenceWarning)
        ours = TorchLogisticClassifier(solver="newton-cholesky", C=np.inf, max_iter=1000).fit(X, y)
        ref = LogisticRegression(solver="newton-cholesky", C=np.inf, max_iter=1000).fit(X, y)
    assert _mean_log_loss(ours, X, y) <= _mean_log_loss(ref, X, y) * (1 + 1e-3)


def _mean_log_loss(model, X, y):
    from sklearn.metrics import log_loss

    return log_loss(y, model.predict_proba(X))


def test_a_float32_newton_run_at_the_optimum_continues_in_float64_rather_than_run_out():
    """A float32 gradient cannot go below ~1e-7: at tol=1e-8 a float32 Newton run at the optimum iterated to max_iter
    and warned "Newton solver did not converge" where scikit-learn converges in 2 iterations (iris, C=1e-6,
    balanced) or 16 (C=1e4). A stall (a decrease within float32's rounding) now continues in float64."""
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    for params in (dict(C=1e-6, class_weight="balanced"), dict(C=1e4)):
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            ours = TorchLogisticClassifier(solver="newton-cholesky", tol=1e-8, **params).fit(X, y)
            ref = LogisticRegression(solver="newton-cholesky", tol=1e-8, **params).fit(X, y)
        assert ours.n_iter_[0] <= ref.n_iter_[0] + 3
        np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)


def test_lbfgs_running_out_after_the_fall_back_is_worded_as_lbfgs():
    """scikit-learn's L-BFGS-B says "lbfgs failed to converge ... ITERATIONS REACHED LIMIT" after Newton's fall-back;
    ours said "Newton solver did not converge", though L-BFGS ran."""
    import scipy.linalg
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    for model in (
        TorchLogisticClassifier(solver="newton-cholesky", C=np.inf, tol=0, dtype="float64", max_iter=40),
        LogisticRegression(solver="newton-cholesky", C=np.inf, tol=0, max_iter=40),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
            with pytest.warns(ConvergenceWarning, match=r"lbfgs failed to converge .*\n.*ITERATIONS REACHED LIMIT"):
                model.fit(X, y)


def test_the_multinomial_hessian_is_positive_semidefinite_in_float32_on_unscaled_data():
    """Built from class-pair Gram matrices, the unpenalised Hessian is positive semi-definite up to each Gram
    matrix's own float32 rounding, as the binary one: smallest eigenvalue -1.6e-10 of the largest on unscaled wine
    (it was -2.1e-8, with diagonal blocks computed apart from the rest and cancelling against them)."""
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True)
    rng = np.random.RandomState(0)
    probabilities = torch.softmax(torch.from_numpy(rng.randn(len(y), 3)), dim=1)
    H = data_hessian(torch.from_numpy(X.astype(np.float32)), probabilities, torch.ones(len(y)), "multinomial", True)
    eigenvalues = torch.linalg.eigvalsh(H)
    assert float(eigenvalues.min()) >= -2e-9 * float(eigenvalues.max())


def test_a_float32_hessian_that_does_not_factorise_is_built_again_in_float64(monkeypatch):
    """Before falling back to L-BFGS (scikit-learn's products are float64): the fall-back only where float64 fails."""
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True)
    dtypes = []
    real = newton.data_hessian

    def recording(X, probabilities, weight, kind, fit_intercept, product_dtype=None):
        dtypes.append(product_dtype)
        H = real(X, probabilities, weight, kind, fit_intercept, product_dtype)
        if product_dtype is not None or X.dtype == torch.float64:  # float64 products (or a float64 continuation)
            return H
        return H - 1e6 * torch.eye(H.shape[0], dtype=H.dtype)  # indefinite

    monkeypatch.setattr(newton, "data_hessian", recording)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fall-back warning
        ours = TorchLogisticClassifier(solver="newton-cholesky").fit(X, y)
    assert dtypes[:2] == [None, torch.float64]
    ref = LogisticRegression(solver="newton-cholesky").fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-4)


def _penalised_log_loss(model, X, y, C, sample_weight=None):
    """scikit-learn's objective in float64: the weighted mean log-loss plus ||W||^2 / (2 C S)."""
    from sklearn.metrics import log_loss

    w = np.ones(len(y)) if sample_weight is None else sample_weight
    return log_loss(y, model.predict_proba(X), sample_weight=w) + (model.coef_**2).sum() / (2 * C * w.sum())


def test_a_float32_line_search_failure_continues_newton_in_float64():
    """Columns scaled 1e-6..1e6, three classes: a float32 Newton line search fails on the objective's rounding.
    It fell back to L-BFGS, whose float32 and float64 iterations stopped 2.4e-3 above the optimum, the 1e6
    column's coefficients drifted to 0.47 (scikit-learn's: ~1e-7), with only the fall-back's warning. It now
    continues Newton in float64, as scikit-learn's float64 Newton converges (6 iterations, no warning)."""
    X, y = make_classification(180, 5, n_informative=3, n_classes=3, random_state=3)
    X = X * np.array([1e-6, 1e-3, 1, 1e3, 1e6])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = TorchLogisticClassifier(solver="newton-cholesky").fit(X, y)
        ref = LogisticRegression(solver="newton-cholesky").fit(X, y)
    # Its float32 Hessian is too ill-conditioned for float32 steps (see the next test): float64 from the start,
    # scikit-learn's iterations (it took 14 float32 and 2 float64 iterations against scikit-learn's 6).
    assert [row["precision"] for row in ours.history_] == ["float64"] * len(ours.history_)
    assert ours.n_iter_[0] == ref.n_iter_[0]
    assert _penalised_log_loss(ours, X, y, 1.0) <= _penalised_log_loss(ref, X, y, 1.0) * (1 + 1e-9)
    assert np.abs(ours.coef_[:, 4]).max() < 1e-5


@pytest.mark.parametrize(
    "problem, C",
    [("collinear binary", 1e4), ("collinear binary", 1e8), ("wine 3 classes", 1e8), ("collinear binary", 100.0)],
)
def test_a_float32_fit_too_ill_conditioned_for_float32_steps_continues_in_float64(problem, C):
    """Along a near-null direction of the Hessian (collinear columns; the classes' common shift) the curvature is
    the penalty's, 1 / (C n), and a float32 Newton step there is the float32 gradient's rounding divided by it:
    the coefficients drifted to 100x scikit-learn's (collinear, C=1e8; 2% off at C=1e4; the 20k x 20 problem
    with make_classification's redundant columns 55% off at C=100), and the classes' coefficients stopped
    summing to 0 (wine, C=1e8: max |coef_| 30.6 against 7.59), each fit converged without a warning and the
    objective at the optimum to 1e-7. A float32 fit whose scaled Hessian has rcond below 1e-6 now takes its
    steps in float64: scikit-learn's coefficients and iterations."""
    if problem == "collinear binary":
        n = 20_000 if C == 100.0 else 500
        X, y = make_classification(n, 6, n_informative=4, n_redundant=2, random_state=2)
    else:
        X, y = load_wine(return_X_y=True)
        X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = TorchLogisticClassifier(solver="newton-cholesky", C=C).fit(X, y)
    ref = LogisticRegression(solver="newton-cholesky", C=C).fit(X, y)
    scale = np.abs(ref.coef_).max()
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4 * scale)
    assert ours.n_iter_[0] == ref.n_iter_[0]
    # The classes' common shift is stepped exactly (the centring), so it alone does not call for float64 steps.
    assert ours.history_[-1]["precision"] == ("float64" if problem == "collinear binary" else "float32")


@pytest.mark.parametrize("C", [1.0, 10.0, 1e4])
def test_float32_multinomial_coefficients_do_not_drift_along_the_classes_common_shift(C):
    """Penalised multinomial: along the common shift of the classes' coefficients the objective is the penalty
    alone (curvature 1 / (C S)), so a float32 Newton step there was the data gradient's rounding over it: the
    coefficients' class sums drifted to 1e-3 and coef_ ended 5e-4 relative from scikit-learn's at C=10 (1500 x 8,
    3 classes; the same tol in float64: 2e-5), and from C of about 20 the fit went to float64 for it. The step
    along the shift is now the exact centring; the fit stays float32."""
    X, y = make_classification(1500, 8, n_redundant=0, n_informative=5, n_classes=3, random_state=1)
    ours = TorchLogisticClassifier(solver="newton-cholesky", C=C).fit(X, y)
    ref = LogisticRegression(solver="newton-cholesky", C=C).fit(X, y)
    assert {row["precision"] for row in ours.history_} == {"float32"}
    assert np.abs(ours.coef_.sum(axis=0)).max() < 1e-5
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=2e-6 * np.abs(ref.coef_).max())
    assert ours.n_iter_[0] == ref.n_iter_[0]


def test_a_well_conditioned_float32_newton_fit_stays_in_float32():
    """The float64 steps are for Hessians float32 cannot solve (above): full-rank data stays in float32."""
    X, y = make_classification(2000, 20, n_informative=20, n_redundant=0, random_state=0)
    ours = TorchLogisticClassifier(solver="newton-cholesky", C=1e6).fit(X, y)
    assert {row["precision"] for row in ours.history_} == {"float32"}
    ref = LogisticRegression(solver="newton-cholesky", C=1e6).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-3 * np.abs(ref.coef_).max())


def test_the_fall_back_lbfgs_is_preconditioned_on_columns_far_apart():
    """Columns scaled 1e-8..1e8: the Hessian is singular and Newton falls back to L-BFGS, which without the
    "lbfgs" solver's column-scale preconditioner stopped 40% above the optimum, called converged (scikit-learn's
    fall-back: 6-8% above, also silent). It reaches the tight L-BFGS optimum now."""
    import scipy.linalg

    X, y = make_classification(150, 5, n_informative=3, random_state=2)
    X = X * np.array([1e-8, 1e-4, 1, 1e4, 1e8])
    weight = np.random.RandomState(42).uniform(0.2, 3.0, len(y))
    tight = TorchLogisticClassifier(tol=1e-12, max_iter=5000, dtype="float64", class_weight="balanced")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tight.fit(X, y, sample_weight=weight)
    for dtype in ("float32", "float64"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)  # the fall-back's, as scikit-learn's
            warnings.simplefilter("error", ConvergenceWarning)
            ours = TorchLogisticClassifier(solver="newton-cholesky", tol=1e-2, class_weight="balanced", dtype=dtype)
            ours.fit(X, y, sample_weight=weight)
        np.testing.assert_allclose(ours.predict_proba(X), tight.predict_proba(X), atol=1e-4)


def test_the_fall_back_lbfgs_stops_at_max_iter_first_as_l_bfgs_b_does():
    """A duplicated column, no penalty: Newton falls back to L-BFGS at its first iteration. scikit-learn's L-BFGS-B
    then gets max_iter less the Newton iterations (the failed one included, which n_iter_ leaves out), stops at its
    limit before testing the point, and warns with its own count and budget: the same n_iter_ and warning text here
    for max_iter around the converged count (ours ran one iteration more, and called a run converged on its last)."""
    import scipy.linalg

    rng = np.random.RandomState(0)
    x = rng.randn(200, 1)
    X, y = np.hstack([x, x]), (x[:, 0] + rng.randn(200) > 0).astype(int)
    params = dict(solver="newton-cholesky", C=np.inf, tol=1e-10)

    def fit(model):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(X, y)
        return int(model.n_iter_[0]), [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        n, _ = fit(LogisticRegression(max_iter=1000, **params))
        for max_iter in (n - 1, n, n + 1, n + 2):
            ours = fit(TorchLogisticClassifier(max_iter=max_iter, dtype="float64", **params))
            assert ours == fit(LogisticRegression(max_iter=max_iter, **params)), max_iter


def test_the_float64_continuation_of_a_float32_newton_run_converges_at_a_tight_tol():
    """Standardised breast cancer: the float32 run stalls and continues in float64, where a decrease within float64's
    ftol before tol is Newton's business, not a float32 stall (seeded bug 181: the continuation stopped "by a
    callback"). (Unscaled wine at C=1e4 and unscaled breast cancer, the problems first used here, now take float64
    steps from the start: their scaled Hessians' reciprocal conditions are below 2e-5.)"""
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = TorchLogisticClassifier(solver="newton-cholesky", tol=1e-12, max_iter=50).fit(X, y)
    assert {row["precision"] for row in ours.history_} == {"float32", "float64"}
    ref = TorchLogisticClassifier(solver="newton-cholesky", tol=1e-12, max_iter=50, dtype="float64").fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-8)


def test_a_float64_line_search_failure_after_promotion_falls_back_to_lbfgs():
    """tol=0: Newton reaches the float64 objective's rounding in the continuation, where its line search fails and
    it falls back to L-BFGS as scikit-learn's float64 Newton does (seeded bug 182: the continuation took it for a
    float32 failure and repeated the same point until max_iter)."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = TorchLogisticClassifier(solver="newton-cholesky", tol=0.0, max_iter=50).fit(X, y)
    messages = [str(w.message) for w in caught]
    assert {row["precision"] for row in ours.history_} == {"float32", "float64"}
    assert any("resort to lbfgs" in m for m in messages), messages
    assert not any("did not converge after 50" in m for m in messages), messages
    assert ours.n_iter_[0] < 50


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_the_sparse_hessian_is_assembled_without_a_second_dense_copy(fit_intercept, monkeypatch):
    """On sparse X the Gram matrix comes from scipy's sparse product; its dense form goes into the Hessian a block of
    rows at a time: ``.toarray()`` whole, then copied into another matrix, held three dense matrices at once (a
    binary 5000-column fit peaked at 1.1 GB against scikit-learn's 0.63). NumPy's allocations (tracemalloc):
    the peak is the sparse product, the Hessian and one block, and the Hessian is the same."""
    import tracemalloc

    rng = np.random.RandomState(0)
    X = sp.random(3000, 800, density=0.05, format="csr", random_state=0)
    probabilities = torch.from_numpy(rng.uniform(0.1, 0.9, (3000, 1)))
    weight = torch.from_numpy(rng.uniform(0.5, 2.0, 3000))
    features = sparse_tensor(X, torch.float64, "cpu")
    whole = data_hessian(features, probabilities, weight, "binary", fit_intercept=fit_intercept)
    monkeypatch.setattr(newton, "CHUNK_VALUES", 100 * X.shape[1])  # blocks of 100 rows
    tracemalloc.start()
    try:
        H = data_hessian(features, probabilities, weight, "binary", fit_intercept=fit_intercept)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(H.numpy(), whole.numpy())
    c = (weight * probabilities[:, 0] * (1 - probabilities[:, 0])).numpy()
    G = X.T @ sp.diags(c) @ X
    sparse_bytes = G.data.nbytes + G.indices.nbytes + G.indptr.nbytes + 12 * X.nnz  # the product and X's scaling
    assert peak < sparse_bytes + 1.25 * H.numpy().nbytes


def test_the_reciprocal_condition_reads_the_norm_of_every_block_of_columns(monkeypatch):
    """The Hessian's 1-norm is read a block of columns at a time: it is the largest column sum over all the blocks,
    not the last block's (a large column in an earlier block then went unseen, the reciprocal condition came out
    orders of magnitude too large, and an ill-conditioned step was taken silently). LAPACK's estimate (dpocon) from
    the whole matrix's norm, for the Hessian and for its unit-diagonal scaling."""
    import scipy.linalg

    rng = np.random.RandomState(0)
    p = 12
    A = rng.randn(200, p)
    A[:, 1:4] += 3 * A[:, :1]  # the first block's columns correlated: the largest column sums after scaling too
    A[:, :4] *= 1e3  # and the largest before
    H = torch.from_numpy(A.T @ A / 200 + 0.1 * np.eye(p))
    monkeypatch.setattr(newton, "CHUNK_VALUES", 4 * p)  # blocks of 4 columns: three of them
    L = torch.linalg.cholesky(H)

    def lapack(L, H):
        rcond, info = scipy.linalg.lapack.dpocon(L, np.abs(H).sum(0).max(), uplo="L")
        assert info == 0
        return rcond

    d = 1 / np.sqrt(np.diag(H.numpy()))
    scaled = d[:, None] * H.numpy() * d
    assert np.abs(H.numpy()).sum(0).argmax() < 4 and np.abs(scaled).sum(0).argmax() < 4
    assert newton._reciprocal_condition(L, H) == pytest.approx(lapack(L.numpy(), H.numpy()), rel=1e-12)
    expected = lapack(d[:, None] * L.numpy(), scaled)
    assert newton._scaled_reciprocal_condition(L, H) == pytest.approx(expected, rel=1e-12)


def test_a_large_column_in_the_first_block_of_the_hessian_falls_back_to_lbfgs_as_sklearns_does(monkeypatch):
    """A column of scale 1e9 makes the Hessian ill-conditioned (rcond below eps): scikit-learn warns and resorts to
    L-BFGS. With the Hessian's norm read in blocks of columns, that column in the first block was not in the norm,
    and the fit took Newton steps of rounding without a word."""
    import scipy.linalg

    rng = np.random.RandomState(0)
    X = rng.randn(300, 12)
    y = (X[:, :5].sum(1) + rng.randn(300) > 0).astype(int)
    X[:, 0] *= 1e9
    monkeypatch.setattr(newton, "CHUNK_VALUES", 4 * 13)  # the Hessian's norm in blocks of 4 columns
    with warnings.catch_warnings(record=True) as ours_warned:
        warnings.simplefilter("always")
        TorchLogisticClassifier(solver="newton-cholesky", dtype="float64", max_iter=50).fit(X, y)
    with warnings.catch_warnings(record=True) as ref_warned:
        warnings.simplefilter("always")
        LogisticRegression(solver="newton-cholesky", max_iter=50).fit(X, y)
    _same_fallback_warning(ours_warned, ref_warned)
    assert any(w.category is scipy.linalg.LinAlgWarning for w in ours_warned)


@pytest.mark.parametrize("C", [10.0, 80.0])
def test_a_float32_fit_with_an_ill_conditioned_hessian_takes_its_steps_in_float64(C):
    """make_classification's 20k x 20 problem (redundant columns) at C=80: the scaled Hessian's reciprocal condition
    is 3e-7, where float32 Newton steps drifted along the near-null directions: coefficients 11% off scikit-learn's,
    reported as converged; at C=10 (2.6e-6, above the first threshold of 1e-6) 0.45% off. Below 2e-5 the steps are
    taken in float64: scikit-learn's coefficients."""
    X, y = make_classification(20_000, 20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = TorchLogisticClassifier(solver="newton-cholesky", C=C).fit(X.astype(np.float32), y)
    ref = LogisticRegression(solver="newton-cholesky", C=C).fit(X.astype(np.float32).astype(np.float64), y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-4 * np.abs(ref.coef_).max())
    assert "float64" in [row["precision"] for row in ours.history_]


def test_column_scales_alone_keep_a_float32_newton_fit_in_float32():
    """Standardised breast cancer with its columns multiplied by 1e-2 to 1e2, C=0.1: the Hessian scaled to a unit
    diagonal is well conditioned (reciprocal condition 1.2e-4), its unscaled one is not (the column scales, squared).
    The float64 rule reads the scaled one: the fit stays in float32, at scikit-learn's coefficients (seeded bug 271
    judged the unscaled one and took every step in float64)."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X) * 10 ** np.random.RandomState(0).uniform(-2, 2, X.shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = TorchLogisticClassifier(solver="newton-cholesky", C=0.1).fit(X, y)
    assert {row["precision"] for row in ours.history_} == {"float32"}
    ref = LogisticRegression(solver="newton-cholesky", C=0.1).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-3 * np.abs(ref.coef_).max())


def test_line_search_constants_are_scikit_learns():
    """The Armijo constant, the backtracking factor and the number of trials are scikit-learn's NewtonSolver's (read
    from its source): on 44 realistic problems (make_classification, breast cancer, wine, separable data, C up to 1e5)
    an Armijo constant of 2**-4 instead of 2**-11 changed no n_iter_ and no coefficient, so only this pins it."""
    import inspect

    from sklearn.linear_model._glm._newton_solver import NewtonSolver

    source = inspect.getsource(NewtonSolver.line_search)
    beta, sigma = re.search(r"beta, sigma = ([0-9.e-]+), ([0-9.e-]+)", source).groups()
    trials = int(re.search(r"for i in range\((\d+)\)", source).group(1))
    assert (newton._BETA, newton._SIGMA, newton._MAX_LINE_SEARCH) == (float(beta), float(sigma), trials)


def test_a_warm_start_from_assigned_intercepts_ends_centred_as_sklearns(iris):
    """h1's mutant L01 (_publish centring the intercepts for every l1_ratio >= 0): a multinomial newton-cholesky
    warm start from assigned intercepts [1, 2, 3] ends with intercepts summing to 0, as scikit-learn's
    newton-cholesky gives them (the mutant gave them back their sum, 6; probabilities unchanged). The reference is
    scikit-learn's fit from zero: the optimum is the same, and scikit-learn 1.6's warm start stops elsewhere."""
    X, y = iris
    ours = TorchLogisticClassifier(solver="newton-cholesky", warm_start=True, dtype="float64", tol=1e-10)
    ours.coef_, ours.intercept_, ours.classes_ = np.zeros((3, 4)), np.array([1.0, 2.0, 3.0]), np.array([0, 1, 2])
    ours.fit(X, y)
    ref = LogisticRegression(solver="newton-cholesky", tol=1e-10).fit(X, y)
    assert abs(ref.intercept_.sum()) < 1e-10
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-4)


def test_one_feature_multinomial_newton_cholesky_takes_sklearns_iterations():
    """h4's mutant (linear_scores' matrix-vector branch taken for one feature). Multinomial newton-cholesky on one
    feature: the Hessian's probabilities come from linear_scores of a (3, 1) W; the fit takes scikit-learn's number
    of Newton steps and lands on its optimum."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 1))
    y = np.digitize(X[:, 0] + 0.5 * rng.normal(size=200), [-0.5, 0.5])
    ours = TorchLogisticClassifier(solver="newton-cholesky", tol=1e-8).fit(X, y)
    theirs = LogisticRegression(solver="newton-cholesky", tol=1e-8).fit(X, y)
    assert abs(int(ours.n_iter_[0]) - int(theirs.n_iter_[0])) <= 1, (ours.n_iter_, theirs.n_iter_)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-6)


def test_float32_weights_near_the_top_of_their_range_build_float32_hessians_the_same_model(monkeypatch):
    """Weights of 2e38 (within float32) overflowed every float32 Hessian (sums of 60 rows of w p (1 - p) x^2), each
    then built again with float64 products; divided by a power of two near their sum first, they build none, and
    the model is the one of unit weights (weights / k with C * k: the same objective)."""
    built = []

    def spy(*args):
        H = data_hessian(*args)
        built.append((args[-1], bool(torch.isfinite(H).all())))
        return H

    monkeypatch.setattr(newton, "data_hessian", spy)
    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    y = (X[:, 0] + rng.randn(60) > 0).astype(int)
    unit = TorchLogisticClassifier(solver="newton-cholesky").fit(X, y)
    heavy = TorchLogisticClassifier(C=1 / 2e38, solver="newton-cholesky").fit(X, y, sample_weight=np.full(60, 2e38))
    assert built and all(finite and product_dtype is None for product_dtype, finite in built)
    np.testing.assert_allclose(heavy.coef_, unit.coef_, atol=1e-6)
    assert heavy.n_iter_ == unit.n_iter_


def test_newton_fallback_lbfgs_stall_rule_floors_the_objective_at_one_as_l_bfgs_b():
    """Mutation survey N10 (NewtonConvergence.on_epoch_end: ``max(abs(before), abs(after), 1.0)`` without the 1.0).
    Duplicated columns, no penalty: the Hessian is singular, both fits go on with L-BFGS; tol=1e-14 leaves the
    relative-decrease rule to stop them, and L-BFGS-B's floors the objective (0.053 here) at 1: same n_iter_."""
    rng = np.random.RandomState(0)
    x = rng.randn(200, 1)
    X = np.hstack([x, x, rng.randn(200, 1)])
    y = (3 * x[:, 0] + 0.3 * rng.randn(200) > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = TorchLogisticClassifier(solver="newton-cholesky", C=np.inf, dtype="float64", tol=1e-14).fit(X, y)
        ref = LogisticRegression(solver="newton-cholesky", C=np.inf, tol=1e-14).fit(X, y)
    assert ours.n_iter_[0] == ref.n_iter_[0]  # 21 and 21; the mutant: 22
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-12)


def test_a_newton_net_kept_by_a_callback_does_not_keep_the_training_rows():
    """h1's mutant N11. A callback that keeps the net (outside itself: the estimator clones its callbacks) must not
    keep the training rows with it: the optimizer lets go of its data at the end of training, as a pickle shows."""
    kept = []  # the estimator clones its callbacks: keep the net outside them

    class KeepNet(Callback):
        def on_train_end(self, net, **kwargs):
            kept.append(net)

    X, y = make_classification(4000, 40, random_state=0)
    TorchLogisticClassifier(solver="newton-cholesky", callbacks=[KeepNet()]).fit(X, y)
    assert kept
    size = len(pickle.dumps(kept[-1].optimizer_))
    # The rows (4000 x 40 float64 = 1.28 MB, or 0.64 MB in float32) must not be pickled with the optimizer.
    assert size < 100_000, size


def test_row_chunks_of_a_sparse_csr_tensor_are_its_dense_rows():
    """h1's mutant N16 (a chunk's row pointers not rebased to its first row). Only a device fit reaches this sparse
    path (on the CPU the Hessian of sparse X goes through scipy), and its chunks skip torch's invariant checks: the
    chunks must be the dense rows, in order, for steps shorter, equal and longer than the matrix."""

    A = sp.random(23, 7, density=0.3, format="csr", random_state=0, dtype=np.float64)
    X = sparse_tensor(A, torch.float64, "cpu")
    for step in (1, 5, 23, 40):
        chunks = list(newton._row_chunks(X, step))
        assert [c.shape[0] for c in chunks] == [min(step, 23 - s) for s in range(0, 23, step)]
        np.testing.assert_array_equal(torch.cat(chunks).numpy(), A.toarray())


def test_newton_restarts_from_parameters_a_callback_moved():
    """h1's mutant N12 (the kept objective and gradient reused without checking the parameters are still where they
    were). A callback that shrinks the parameters after the second epoch: the next step starts from the new point,
    with no warning, and the fit still lands on scikit-learn's optimum."""

    class ShrinkOnce(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 2:
                with torch.no_grad():
                    for p in net.module_.parameters():
                        p.mul_(0.1)

    X, y = make_classification(500, 8, random_state=0)
    ref = LogisticRegression(solver="newton-cholesky", tol=1e-10, max_iter=100).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = TorchLogisticClassifier(
            solver="newton-cholesky", tol=1e-10, max_iter=100, dtype="float64", callbacks=[ShrinkOnce()]
        ).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=0, atol=1e-6)


def test_newton_state_counts_the_fall_back_iterations():
    """h1's mutant N17. The optimizer's documented ``state["n_iter"]`` keeps counting once a singular Hessian (a
    duplicated column at C=inf) sends the iterations to L-BFGS: one a history row, every epoch."""
    from scipy.linalg import LinAlgWarning

    seen = []

    class Record(Callback):
        def on_epoch_end(self, net, **kwargs):
            state = net.optimizer_.state[next(net.module_.parameters())]
            seen.append((len(net.history), state["n_iter"], state["fallback"]))

    X, y = make_classification(300, 5, random_state=0)
    X = np.hstack([X, X[:, :1]])  # a duplicated column: singular Hessian at C=inf, scikit-learn falls back to lbfgs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LinAlgWarning)
        TorchLogisticClassifier(solver="newton-cholesky", C=np.inf, dtype="float64", callbacks=[Record()]).fit(X, y)
    assert any(fallback for _, _, fallback in seen)
    assert all(rows == n_iter for rows, n_iter, _ in seen), seen
