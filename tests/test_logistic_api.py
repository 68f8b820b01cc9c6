"""TorchLogisticClassifier as a scikit-learn estimator: composition, persistence, reproducibility."""

import pickle
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

import torchlogit
from torchlogit import TorchLogisticClassifier
from torchlogit._compat import LBFGS_WARNING_BEFORE_1_7

from .conftest import requires_cuda


def test_pipeline_and_grid_search_with_two_jobs(breast_cancer):
    X, y = breast_cancer
    pipe = make_pipeline(StandardScaler(), TorchLogisticClassifier())
    search = GridSearchCV(pipe, {"torchlogisticclassifier__C": [0.01, 1.0]}, cv=3, n_jobs=2).fit(X, y)
    ref = GridSearchCV(
        make_pipeline(StandardScaler(), LogisticRegression()), {"logisticregression__C": [0.01, 1.0]}, cv=3
    ).fit(X, y)
    assert search.best_params_["torchlogisticclassifier__C"] == ref.best_params_["logisticregression__C"]
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"], atol=0.01)
    assert cross_val_score(TorchLogisticClassifier(), X, y, cv=3).mean() > 0.95


def test_clone_keeps_parameters_not_fit(wine):
    X, y = wine
    clf = TorchLogisticClassifier(C=0.3, solver="adam", random_state=1).fit(X, y)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params()
    assert not hasattr(copy, "coef_")


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_pickle_round_trip_gives_identical_predictions(wine, solver):
    X, y = wine
    clf = TorchLogisticClassifier(solver=solver, random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(restored.coef_, clf.coef_)


def test_string_labels(wine):
    X, y = wine
    names = np.array(["barolo", "grignolino", "barbera"])[y]
    clf = TorchLogisticClassifier().fit(X, names)
    np.testing.assert_array_equal(clf.classes_, np.sort(np.unique(names)))
    ints = TorchLogisticClassifier().fit(X, y)
    assert set(clf.predict(X)) <= set(names)
    # Encoding of labels does not change the fit (the softmax sees the classes in another
    # order, so float32 rounding differs).
    order = np.argsort(["barolo", "grignolino", "barbera"])
    np.testing.assert_allclose(clf.predict_proba(X), ints.predict_proba(X)[:, order], atol=1e-5)
    binary = TorchLogisticClassifier().fit(X[y < 2], np.where(y[y < 2] == 1, "yes", "no"))
    assert binary.classes_.tolist() == ["no", "yes"]
    assert binary.predict(X[:3]).dtype.kind == "U"


def test_pandas_input_keeps_feature_names(breast_cancer):
    X, y = breast_cancer
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = TorchLogisticClassifier().fit(frame, pd.Series(y))
    np.testing.assert_array_equal(clf.feature_names_in_, frame.columns)
    assert clf.predict(frame).shape == (len(X),)
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(frame.rename(columns={"f0": "other"}))
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        clf.predict(X)


@pytest.mark.parametrize("solver", ["lbfgs", "adam", "sgd"])
def test_same_random_state_gives_identical_results(wine, solver):
    X, y = wine
    params = dict(solver=solver, batch_size=32, max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = TorchLogisticClassifier(random_state=3, **params).fit(X, y)
        b = TorchLogisticClassifier(random_state=3, **params).fit(X, y)
        c = TorchLogisticClassifier(random_state=4, **params).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    if solver != "lbfgs":  # the shuffling really depends on the seed
        assert not np.array_equal(a.coef_, c.coef_)


def test_fitting_leaves_global_torch_rng_alone(wine):
    X, y = wine
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    TorchLogisticClassifier(solver="adam", random_state=0).fit(X, y)
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_row_order_and_repetition_give_bitwise_identical_fits(wine):
    """Canonical training rows: shuffled rows, or weights instead of repeated rows, change nothing."""
    X, y = wine
    rng = np.random.RandomState(0)
    counts = rng.randint(0, 4, len(y))
    for solver in ["lbfgs", "adam"]:
        base = TorchLogisticClassifier(solver=solver, random_state=0).fit(X, y, sample_weight=counts)
        perm = rng.permutation(len(y))
        shuffled = TorchLogisticClassifier(solver=solver, random_state=0).fit(
            X[perm], y[perm], sample_weight=counts[perm]
        )
        repeated = TorchLogisticClassifier(solver=solver, random_state=0).fit(
            np.repeat(X, counts, axis=0), np.repeat(y, counts)
        )
        np.testing.assert_array_equal(shuffled.coef_, base.coef_)
        np.testing.assert_array_equal(repeated.coef_, base.coef_)


def test_warm_start_continues_from_the_last_fit(digits):
    X, y = digits
    cold = TorchLogisticClassifier(dtype="float64", tol=1e-8, max_iter=1000).fit(X, y)
    warm = TorchLogisticClassifier(dtype="float64", tol=1e-8, max_iter=5, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm.fit(X, y)
    first = warm.coef_.copy()
    warm.set_params(max_iter=1000).fit(X, y)
    assert not np.array_equal(first, warm.coef_)
    assert warm.n_iter_[0] < cold.n_iter_[0]
    np.testing.assert_allclose(warm.predict_proba(X), cold.predict_proba(X), atol=1e-5)
    with pytest.raises(ValueError, match="same classes"):
        warm.fit(X[y < 5], y[y < 5])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("l1_ratio", [0.0, 0.5])
def test_warm_start_at_the_optimum_takes_no_iteration_as_sklearn(breast_cancer, dtype, l1_ratio):
    # SciPy's L-BFGS-B tests the starting gradient: LogisticRegression refitted warm at its own optimum reports
    # n_iter_ [0] and keeps its coefficients. (Standardised breast cancer: a float32 gradient the rule trusts.)
    X, y = breast_cancer
    reference = LogisticRegression(warm_start=True, C=0.5, l1_ratio=l1_ratio, solver="saga" if l1_ratio else "lbfgs")
    if not l1_ratio:
        reference.fit(X, y).fit(X, y)
        assert reference.n_iter_[0] == 0
    warm = TorchLogisticClassifier(warm_start=True, C=0.5, l1_ratio=l1_ratio, dtype=dtype).fit(X, y)
    first = warm.coef_.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        warm.fit(X, y)
    assert warm.n_iter_[0] == 0
    assert warm.loss_curve_ == []
    np.testing.assert_array_equal(warm.coef_, first)
    # Elsewhere than at the optimum it iterates.
    warm.fit(X[:300], y[:300])
    assert warm.n_iter_[0] > 0


@pytest.mark.parametrize("n_classes", [2, 3])
def test_a_tol_above_the_starting_gradient_takes_no_iteration_as_sklearn(breast_cancer, iris, n_classes):
    """SciPy's L-BFGS-B tests the starting point of a cold fit too: with ``tol`` at least the gradient at zero,
    LogisticRegression returns n_iter_ [0] and zero coefficients (ours took one step: coefficients of 0.4)."""
    X, y = breast_cancer if n_classes == 2 else iris
    for tol in (10.0, 1e-4):
        reference = LogisticRegression(tol=tol).fit(X, y)
        ours = TorchLogisticClassifier(tol=tol, dtype="float64").fit(X, y)
        assert ours.n_iter_[0] == reference.n_iter_[0] if tol == 10.0 else ours.n_iter_[0] > 0
        if tol == 10.0:
            assert not ours.coef_.any() and not reference.coef_.any()
            np.testing.assert_allclose(ours.intercept_, reference.intercept_, atol=1e-12)
            np.testing.assert_allclose(ours.predict_proba(X), reference.predict_proba(X), atol=1e-12)


def test_history_shows_the_epochs_and_full_batches(breast_cancer):
    X, y = breast_cancer
    clf = TorchLogisticClassifier().fit(X, y)
    history = clf.history_  # plain data: one dict per epoch
    assert isinstance(history, list) and all(type(row) is dict for row in history)
    assert len(history) == clf.n_iter_[0] == len(clf.loss_curve_)
    objective = [row["objective"] for row in history]
    assert clf.loss_curve_ == objective
    assert all(b <= a + 1e-7 for a, b in zip(objective, objective[1:], strict=False))  # L-BFGS descends
    # Full batch: one batch per epoch, the whole data as one tensor.
    assert all(len(row["batches"]) == 1 and row["batches"][0]["train_batch_size"] == len(X) for row in history)


def test_data_goes_to_skorch_as_tensor_batches(breast_cancer):
    """Mini-batches are slices of device tensors, never rows collated by a DataLoader."""
    X, y = breast_cancer
    seen = []

    class Spy(Callback):
        def on_batch_begin(self, net, batch=None, training=None, **kwargs):
            seen.append((type(batch[0]), batch[0].shape[0]))

    clf = TorchLogisticClassifier(solver="adam", batch_size=100, max_iter=2, callbacks=[Spy()])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert {t for t, _ in seen} == {torch.Tensor}
    assert [n for _, n in seen][:6] == [100, 100, 100, 100, 100, 69]


def test_user_callbacks_are_passed_through_and_not_mutated(breast_cancer):
    X, y = breast_cancer

    class CountEpochs(Callback):
        def initialize(self):
            self.epochs_ = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs_ += 1
            net.history.record("counted", self.epochs_)

    callback = CountEpochs()
    clf = TorchLogisticClassifier(callbacks=[("count", callback)]).fit(X, y)
    assert [row["counted"] for row in clf.history_] == list(range(1, clf.n_iter_[0] + 1))
    assert not hasattr(callback, "epochs_")  # the parameter itself is left alone


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cholesky", "adam"])
def test_a_callback_that_stops_the_fit_is_named_in_the_warning_not_max_iter(digits, solver):
    """skorch's convention (KeyboardInterrupt) ends the fit after 3 of 100 iterations: the warning said
    "TOTAL NO. OF ITERATIONS REACHED LIMIT" (lbfgs) or "Maximum iterations (100) reached" (adam)."""
    from skorch.callbacks import Callback

    class StopAfter3(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) >= 3:
                raise KeyboardInterrupt

    X, y = digits
    with pytest.warns(ConvergenceWarning) as caught:
        clf = TorchLogisticClassifier(solver=solver, callbacks=[StopAfter3()]).fit(X, y)
    assert clf.n_iter_[0] == 3
    messages = [str(w.message) for w in caught if w.category is ConvergenceWarning]
    assert messages == [f"{solver} was stopped by a callback after 3 iteration(s), before it converged (max_iter=100)."]


def test_max_iter_reached_warns_like_sklearn(digits):
    X, y = digits
    # scikit-learn's words: with the iteration count from 1.7 on.
    expected = "after 3 iteration" if not LBFGS_WARNING_BEFORE_1_7 else r"lbfgs failed to converge \(status=1\)"
    with pytest.warns(ConvergenceWarning, match=expected):
        clf = TorchLogisticClassifier(max_iter=3).fit(X, y)
    assert clf.n_iter_[0] == 3
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(2\) reached"):
        TorchLogisticClassifier(solver="adam", max_iter=2, random_state=0).fit(X, y)


def test_verbose_prints_progress(breast_cancer, capsys):
    X, y = breast_cancer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        TorchLogisticClassifier(verbose=1, max_iter=5).fit(X, y)
    out = capsys.readouterr().out
    assert "epoch" in out and "train_loss" in out and "grad_max" in out
    TorchLogisticClassifier().fit(X, y)
    assert capsys.readouterr().out == ""


def test_failed_fit_leaves_the_fitted_model_untouched(wine):
    X, y = wine
    clf = TorchLogisticClassifier().fit(X, y)
    before = clf.predict_proba(X)
    state = {k: v for k, v in vars(clf).items()}
    for bad in [
        lambda: clf.fit(X[:, :5], np.zeros(len(y))),  # one class, different width
        lambda: clf.set_params(device="cuda:7").fit(X, y),
        lambda: clf.set_params(device="cpu", l1_ratio=1.5).fit(X, y),
    ]:
        with pytest.raises(ValueError):
            bad()
    clf.set_params(l1_ratio=0.0)
    assert clf.n_features_in_ == X.shape[1]
    assert set(vars(clf)) == set(state)
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_device_errors_name_what_is_available(wine):
    X, y = wine
    with pytest.raises(ValueError, match=r"'device' parameter .* Got 'gpu'"):
        TorchLogisticClassifier(device="gpu").fit(X, y)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match=r"CUDA is not available.*Available devices: \['cpu'"):
            TorchLogisticClassifier(device="cuda").fit(X, y)
    with pytest.raises(ValueError, match=r"'l1_ratio' parameter .* must be a float in the range \[0.0, 1.0\]"):
        TorchLogisticClassifier(l1_ratio=1.5).fit(X, y)
    auto = TorchLogisticClassifier(device="auto").fit(X, y)
    expected = "cuda" if torch.cuda.is_available() else "cpu"  # "auto" never trains (nor predicts) on MPS
    assert auto._prediction_device().type == expected
    cpu = TorchLogisticClassifier(device=torch.device("cpu")).fit(X, y)
    assert isinstance(cpu.coef_, np.ndarray)
    # After fit: a device this machine lacks predicts on the CPU (a GPU-trained model predicts anywhere); a name
    # that is no device is refused as fit refuses it (it predicted on the CPU without a word).
    missing = f"cuda:{torch.cuda.device_count()}"
    np.testing.assert_array_equal(clone_fitted(cpu, device=missing).predict(X), cpu.predict(X))
    with pytest.raises(ValueError, match=r"'device' parameter .* Got 'gpu'"):
        clone_fitted(cpu, device="gpu").predict(X)


def clone_fitted(model, **params):
    """A copy of a fitted model with ``params`` set (set_params after fit)."""
    import copy

    return copy.deepcopy(model).set_params(**params)


@requires_cuda
@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
def test_cuda_fit_matches_cpu_and_returns_host_arrays(wine, device):
    X, y = wine
    gpu = TorchLogisticClassifier(device=device, dtype="float64", tol=1e-10, max_iter=1000).fit(X, y)
    cpu = TorchLogisticClassifier(device="cpu", dtype="float64", tol=1e-10, max_iter=1000).fit(X, y)
    assert gpu._prediction_device().type == "cuda"
    assert isinstance(gpu.coef_, np.ndarray) and isinstance(gpu.intercept_, np.ndarray)
    np.testing.assert_allclose(gpu.predict_proba(X), cpu.predict_proba(X), atol=1e-6)
    restored = pickle.loads(pickle.dumps(gpu))
    np.testing.assert_array_equal(restored.predict_proba(X), gpu.predict_proba(X))


_WATCH_DYNAMO_IMPORT = """
import sys, traceback
class Watch:  # on failure, says who imported torch._dynamo
    def find_spec(self, name, path=None, target=None):
        if name == "torch._dynamo":
            print("".join(traceback.format_stack()), file=sys.stderr)
        return None
sys.meta_path.insert(0, Watch())
"""


def test_default_solver_does_not_pay_for_torch_compiler_import():
    """The L-BFGS path avoids torch.optim.Optimizer, whose first use imports torch._dynamo (~1.5 s).

    Checked on CPU-only machines with torch 2.2.0 (CUDA 12.1 wheel), 2.11.0 (CUDA 13.0 wheel) and 2.13.0+cpu.
    On a CUDA image (torch 2.11.0) torch_geometric imports it as soon as torch is imported: there
    nothing can be said about the fit, and the test is skipped with the stack of that import.
    """
    (before, after), stderr = _loaded_before_and_after(
        _WATCH_DYNAMO_IMPORT + "import numpy as np\nfrom torchlogit import TorchLogisticClassifier\n",
        "TorchLogisticClassifier().fit(np.random.RandomState(0).randn(50, 3), np.arange(50) % 2)\n",
        "torch._dynamo",
    )
    if before == "True":  # seen on a CUDA image whose torch_geometric, loaded with torch, imports it
        pytest.skip(f"this environment imports torch._dynamo before any fit:\n{stderr[-3000:]}")
    assert after == "False", f"torch._dynamo was imported from:\n{stderr}"


def test_import_leaves_torch_onnx_unloaded_until_export():
    """``import torchlogit`` does not import ``torch.onnx`` (about 0.1 s of every process and joblib worker);
    ``to_onnx`` does, when it exports. Where ``import torch`` loads it itself (older torch), nothing is asked."""
    (with_torch, with_torchlogit), _ = _loaded_before_and_after("import torch\n", "import torchlogit\n", "torch.onnx")
    assert with_torchlogit == with_torch


def _loaded_before_and_after(setup, step, module):
    """Whether ``module`` is loaded after ``setup`` and after ``step`` in a fresh interpreter ("True" / "False"),
    and its standard error."""
    import subprocess
    import sys

    check = f"print({module!r} in sys.modules)\n"
    code = "import sys\n" + setup + check + step + check
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.split(), out.stderr


@pytest.mark.parametrize("name", ["TorchLogisticClassifier", "TorchLogisticClassifierCV", "TorchMultiLabelClassifier"])
def test_the_html_repr_links_each_estimator_to_its_api_page(name):
    """scikit-learn's HTML repr links its estimators (and their parameters) to their API pages; ours link to the
    page docs/api.rst generates for each, at pyproject.toml's Documentation address (they had no link)."""
    root = Path(__file__).parents[1]
    # pyproject.toml's [project.urls] (read without tomllib, which Python 3.10 lacks)
    documentation = re.search(r'^Documentation = "([^"]+)"$', (root / "pyproject.toml").read_text(), re.M).group(1)
    estimator = getattr(torchlogit, name)()
    link = f"{documentation.rstrip('/')}/generated/torchlogit.{name}.html"
    assert estimator._get_doc_link() == link
    assert (
        f"   {name}\n" in (root / "docs" / "api.rst").read_text()
    )  # autosummary's toctree: generated/torchlogit.<name>
    assert f'href="{link}"' in make_pipeline(StandardScaler(), estimator)._repr_html_()


@pytest.mark.parametrize("name", ["TorchLogisticClassifier", "TorchLogisticClassifierCV"])
def test_the_migration_page_names_what_scikit_learn_has_and_ours_lacks(name):
    """docs/migrating.rst is where a scikit-learn user learns what changes: every public method and parameter of
    scikit-learn's class that ours lacks is named there (scikit-learn 1.9's ``set_callbacks`` was not: an
    ``AttributeError`` the page never mentioned)."""
    import inspect

    from sklearn import linear_model

    ours = getattr(torchlogit, name)
    theirs = getattr(linear_model, name.replace("TorchLogisticClassifier", "LogisticRegression"))

    def public(cls):
        # set_{method}_request: generated by metadata routing from each class's own signatures (LogisticRegressionCV's
        # set_score_request takes no argument); routing is compared in the routing tests.
        names = {n for n in dir(cls) if not n.startswith("_") and callable(getattr(cls, n))}
        return {n for n in names if not re.fullmatch(r"set_\w+_request", n)}

    def parameters(cls):
        return set(inspect.signature(cls.__init__).parameters) - {"self"}

    lacking = (public(theirs) - public(ours)) | (parameters(theirs) - parameters(ours))
    page = (Path(__file__).parents[1] / "docs" / "migrating.rst").read_text()
    assert {n for n in lacking if f"``{n}``" not in page} == set()
