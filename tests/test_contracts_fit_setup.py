"""Contract tests of the estimators' fit set-up and prediction plumbing in torchlogit/_base.py: solver options,
optimizer and stopping rule, callbacks, the skorch net, logits on each path.

References: scikit-learn's ``LogisticRegression`` (its ``ConvergenceWarning`` text word for word), torchlogit's
documented routing (dask input in ``X`` or ``y`` takes the dask route; a tensor off the host is predicted where it
lives, never copied to the host; a model whose ``device`` this machine has predicts there), closed forms (a warm
start with ``max_iter=0`` returns its starting point), round trips (save / load keeps the arrays and their dtypes,
``load`` puts the model on the device asked for).

No GPU is needed: where a device path is checked, a stand-in plays the accelerator (CPU tensors counted as off
the host; CUDA reported present, with every copy to it made on the CPU and recorded).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

import torchlogit._base as _base
import torchlogit._newton as _newton
import torchlogit._predict as _predict
from torchlogit import TorchLogisticClassifier, TorchMultiLabelClassifier
from torchlogit._callbacks import ftol_for
from torchlogit._compat import ARRAY_API_DISPATCH_AVAILABLE, LBFGS_WARNING_BEFORE_1_7
from torchlogit._devices import resolve_device
from torchlogit._kernels import as_tensor as _as_tensor
from torchlogit._kernels import sparse_tensor as _sparse_tensor
from torchlogit._modules import LinearLogits

from .conftest import quiet


def _models(X, y):
    linear = quiet(TorchLogisticClassifier(max_iter=5).fit, X, y)
    hidden = quiet(TorchMultiLabelClassifier((4,), activation="tanh", max_iter=3, random_state=0).fit, X, y)
    return linear, hidden


# ------------------------------------------------------------------------ checks before any data work


def test_dask_x_takes_the_dask_route_and_dask_y_beside_numpy_x_is_computed():
    """A dask ``X`` makes ``fit`` the dask fit, whose refusals come first: with NumPy ``y`` and a mini-batch solver
    it is refused as the dask fit refuses it (never gathered into memory), newton-cholesky in its own words. NumPy
    ``X`` with dask ``y`` / ``sample_weight`` (a Pipeline whose scaler returned NumPy) fits in memory, as
    ``LogisticRegression`` does: it was refused."""
    da = pytest.importorskip("dask.array")
    rng = np.random.RandomState(0)
    X, y = rng.randn(40, 3), np.arange(40) % 2
    weight = rng.uniform(0.5, 2.0, 40)
    with pytest.raises(ValueError, match="full-batch L-BFGS"):
        TorchLogisticClassifier(solver="adam").fit(da.from_array(X, chunks=20), y)
    with pytest.raises(ValueError, match="solver='newton-cholesky' is not offered there"):
        TorchLogisticClassifier(solver="newton-cholesky").fit(da.from_array(X, chunks=20), y)
    in_memory = TorchLogisticClassifier().fit(X, y, sample_weight=weight)
    model = TorchLogisticClassifier().fit(X, da.from_array(y, chunks=20), sample_weight=da.from_array(weight, 20))
    np.testing.assert_array_equal(model.coef_, in_memory.coef_)


def test_any_l1_part_with_a_finite_c_counts_as_an_l1_penalty(iris):
    """``C = 1e308`` is finite, so ``l1_ratio = 1`` is an L1 penalty however weak (``1 / C`` is a normal float):
    newton-cholesky refuses it with scikit-learn's message, and a mini-batch solver takes its L1 proximal step."""
    X, y = iris
    with pytest.raises(ValueError, match="supports only 'l2' or None penalties, got l1 penalty"):
        TorchLogisticClassifier(solver="newton-cholesky", l1_ratio=1.0, C=1e308).fit(X, y)
    names = [name for name, _ in TorchLogisticClassifier(solver="sgd", l1_ratio=1.0, C=1e308)._net_callbacks("binary")]
    assert names == ["l1_proximal"]


def test_device_errors_name_the_estimator_and_what_this_machine_has():
    """A device name torchlogit does not know is refused naming the estimator's class (in memory and on dask);
    a CUDA device this machine lacks is refused before any data work, saying what is available."""
    X, y = np.random.RandomState(0).randn(20, 2), np.arange(20) % 2
    with pytest.raises(ValueError, match=r"The 'device' parameter of TorchLogisticClassifier must be"):
        TorchLogisticClassifier(device="gpu").fit(X, y)
    with pytest.raises(ValueError, match=r"The 'device' parameter of TorchMultiLabelClassifier must be"):
        TorchMultiLabelClassifier(device="cuda0").fit(X, y)
    missing = f"cuda:{torch.cuda.device_count() + 1}"
    clf = TorchLogisticClassifier(device=missing)
    with pytest.raises(ValueError, match=rf"device='{missing}' was requested but .*Available devices: \['cpu'"):
        clf.fit(X, y)
    assert not hasattr(clf, "coef_")
    da = pytest.importorskip("dask.array")
    with pytest.raises(ValueError, match=r"The 'device' parameter of TorchLogisticClassifier must be"):
        TorchLogisticClassifier(device="gpu").fit(da.from_array(X, chunks=10), da.from_array(y, chunks=10))


@pytest.mark.parametrize("device", ["cpu:1", "cpu:7"])
def test_a_cpu_index_other_than_0_is_refused_in_the_parameters_words(device):
    """torch has one CPU device: "cpu:0" is its spelling of it, and any other index names no device. "cpu:1" and
    "cpu:7" were accepted and the model fitted and predicted on the CPU, as if the index meant something."""
    X, y = np.random.RandomState(0).randn(20, 2), np.arange(20) % 2
    with pytest.raises(ValueError, match=r"The 'device' parameter of TorchLogisticClassifier must be"):
        TorchLogisticClassifier(device=device).fit(X, y)
    assert TorchLogisticClassifier(device="cpu:0").fit(X, y).predict(X).shape == (20,)


def test_only_newton_cholesky_refuses_a_hessian_above_the_limit(iris, monkeypatch):
    """newton-cholesky builds a dense Hessian of ``n_outputs * (n_features + intercept)`` squared values and is
    refused above ``MAX_HESSIAN_SIZE`` (lowered here) before training, saying its size; L-BFGS builds none and fits."""
    X, y = iris
    monkeypatch.setattr(_newton, "MAX_HESSIAN_SIZE", 15 * 15 - 1)
    clf = TorchLogisticClassifier(solver="newton-cholesky", max_iter=2)
    with pytest.raises(ValueError, match=r"dense Hessian of 15 x 15 float64 values .* for 4 features and 3 output"):
        clf.fit(X, y)
    assert not hasattr(clf, "coef_")
    quiet(TorchLogisticClassifier(solver="newton-cholesky", max_iter=2, fit_intercept=False).fit, X, y)  # 12 x 12
    quiet(TorchLogisticClassifier(max_iter=2).fit, X, y)


def test_newton_cholesky_stalls_by_the_training_precisions_rule():
    """newton-cholesky's stopping rule takes the training dtype's stall threshold: scikit-learn's ``64 eps`` of
    float64 in float64, a few float32 ulps in float32."""
    clf = TorchLogisticClassifier(solver="newton-cholesky", tol=1e-6)
    float64 = clf._stopping_rule(torch.float64, validated=False)
    assert float64.tol == 1e-6 and float64.ftol == 64 * np.finfo(np.float64).eps
    assert clf._stopping_rule(torch.float32, validated=False).ftol == ftol_for(torch.float32) > float64.ftol


def test_the_net_is_built_on_the_resolved_device():
    """The skorch net puts its module on the device the estimator resolved (torch's "meta" device stands for an
    accelerator), in the training dtype."""
    clf = TorchLogisticClassifier(solver="sgd")
    net = clf._make_net(
        LinearLogits,
        dict(n_features=3, n_outputs=2, bias=True),
        torch.device("meta"),
        torch.float64,
        kind="multinomial",
        weight_sum=4.0,
        n_samples=4,
    )
    net.initialize()
    weight = net.module_.linear.weight
    assert weight.device.type == "meta" and weight.dtype == torch.float64


def test_a_fit_is_silent_unless_verbose(iris, capsys):
    """``verbose=0`` (the default) prints nothing, as scikit-learn's estimators; ``verbose=1`` prints the epoch log."""
    X, y = iris
    quiet(TorchLogisticClassifier(max_iter=2).fit, X, y)
    assert capsys.readouterr().out == ""
    quiet(TorchLogisticClassifier(max_iter=2, verbose=1).fit, X, y)
    assert "epoch" in capsys.readouterr().out


@pytest.mark.parametrize(
    "params",
    [
        dict(),
        dict(solver="newton-cholesky"),
        dict(solver="newton-cholesky", C=1e8),  # float64 steps from the first iteration: that row is not one
        dict(solver="adam", max_iter=500, random_state=0, tol=1e-3),
    ],
)
def test_verbose_prints_a_row_for_every_iteration_the_last_included(iris, capsys, params):
    """The iteration whose stopping rule ended the fit was never printed: skorch runs ``PrintLog`` after every other
    callback, and the rule's stop skipped it (``n_iter_`` 15, 14 rows). A float32 Newton iteration that stalls
    without a step (too ill-conditioned for float32) is not counted, nor printed."""
    X, y = iris
    model = quiet(TorchLogisticClassifier(verbose=1, **params).fit, X, y)
    rows = [line.split() for line in capsys.readouterr().out.splitlines() if line.strip()[:1].isdigit()]
    assert [int(row[0]) for row in rows] == list(range(1, len(model.history_) + 1))
    assert len(model.history_) < model.max_iter  # stopped by its rule, not by max_iter


def test_verbose_output_to_a_file_has_no_colour_codes_and_says_why_it_stopped(iris, capsys):
    """skorch's log marks each column's best in colour (ANSI codes), which a log file or pipe showed as escape codes
    among the numbers; and nothing said why training stopped, where MLPClassifier prints "Training loss did not
    improve more than tol=... for 10 consecutive epochs. Stopping." (capsys's stdout is no terminal)."""
    from sklearn.neural_network import MLPClassifier

    X, y = iris
    quiet(TorchLogisticClassifier(solver="adam", verbose=1, tol=10.0, random_state=0).fit, X, y)
    ours = capsys.readouterr().out
    quiet(MLPClassifier(verbose=True, tol=10.0, random_state=0).fit, X, y)
    theirs = capsys.readouterr().out
    assert "\x1b[" not in ours and ours.splitlines()[0].split()[0] == "epoch"
    assert ours.splitlines()[-1] == theirs.splitlines()[-1]
    quiet(TorchMultiLabelClassifier(solver="adam", early_stopping=True, verbose=1, tol=10.0, random_state=0).fit, X, y)
    assert capsys.readouterr().out.splitlines()[-1].startswith("Validation loss did not improve more than tol=")


# ------------------------------------------------------------------------ convergence warnings


def test_lbfgs_convergence_warning_is_logistic_regressions_word_for_word(iris):
    """Two L-BFGS iterations on iris: the same ``ConvergenceWarning`` text as ``LogisticRegression(max_iter=2)``,
    the advice to raise ``max_iter=2`` included."""
    X, y = iris

    def texts(estimator):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            estimator.fit(X, y)
        return [str(w.message) for w in record if issubclass(w.category, ConvergenceWarning)]

    expected = texts(LogisticRegression(max_iter=2))
    assert len(expected) == 1 and "failed to converge" in expected[0]
    assert LBFGS_WARNING_BEFORE_1_7 or "(max_iter=2)" in expected[0]  # scikit-learn >= 1.7 names the limit
    assert texts(TorchLogisticClassifier(max_iter=2)) == expected


# ------------------------------------------------------------------------ the fitted arrays as a starting point


def test_a_sparsified_model_continues_and_saves_from_its_coefficients(iris, tmp_path):
    """After ``sparsify`` the model is still the same coefficients: a saved file holds them, and a warm start with
    ``max_iter=0`` returns them."""
    X, y = iris
    dense = quiet(TorchLogisticClassifier(max_iter=5).fit, X, y)
    coef, intercept = dense.coef_.copy(), dense.intercept_.copy()
    clf = quiet(TorchLogisticClassifier(max_iter=5).fit, X, y).sparsify()
    assert sp.issparse(clf.coef_)
    clf.save(tmp_path / "m")
    loaded = TorchLogisticClassifier.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.coef_, coef)
    np.testing.assert_array_equal(loaded.intercept_, intercept)
    quiet(clf.set_params(warm_start=True, max_iter=0).fit, X, y)
    np.testing.assert_allclose(clf.coef_, coef, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(clf.intercept_, intercept, rtol=1e-12, atol=1e-15)


def test_a_float32_model_without_intercept_loads_with_its_dtypes(iris, tmp_path):
    """scikit-learn's rule (float32 data, float32 coefficients) survives a save / load round trip, the zero
    intercept of ``fit_intercept=False`` included."""
    X, y = iris
    clf = quiet(TorchLogisticClassifier(max_iter=3, fit_intercept=False).fit, X.astype(np.float32), y)
    assert clf.coef_.dtype == clf.intercept_.dtype == np.float32
    clf.save(tmp_path / "m")
    loaded = TorchLogisticClassifier.load(tmp_path / "m")
    assert loaded.coef_.dtype == loaded.intercept_.dtype == np.float32
    np.testing.assert_array_equal(loaded.coef_, clf.coef_)
    np.testing.assert_array_equal(loaded.intercept_, np.zeros(3, dtype=np.float32))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_load_puts_the_model_on_the_device_asked_for(iris, tmp_path):
    """``load(path)`` gives a CPU model; ``load(path, device=...)`` that device (one this machine lacks predicts on
    the CPU, with the same predictions)."""
    X, y = iris
    clf = quiet(TorchLogisticClassifier(max_iter=3).fit, X, y)
    clf.save(tmp_path / "m")
    assert TorchLogisticClassifier.load(tmp_path / "m").device == "cpu"
    missing = f"cuda:{torch.cuda.device_count() + 1}"
    elsewhere = TorchLogisticClassifier.load(tmp_path / "m", device=missing)
    assert elsewhere.device == missing
    np.testing.assert_array_equal(elsewhere.predict_proba(X), clf.predict_proba(X))


# ------------------------------------------------------------------------ logits on each path


def test_sparse_extended_precision_input_is_predicted_from_its_float64_values(iris):
    """Prediction validates ``X`` to float64 (or float32) first: a sparse ``np.longdouble`` matrix gives bit for
    bit the logits of its float64 values, not a product summed in extended precision."""
    X, y = iris
    X = X * np.pi  # values whose products round differently in extended precision
    for model in _models(X, y):
        expected = model.decision_function(sp.csr_matrix(X))
        np.testing.assert_array_equal(model.decision_function(sp.csr_matrix(X.astype(np.longdouble))), expected)


@pytest.fixture
def off_host_tensors(monkeypatch):
    """CPU tensors stand for tensors on an accelerator: they count as off the host, and copying one to the host
    (``host_array``) fails, as predicting a GPU tensor on the host must never happen."""
    real = _base.host_array

    def host_array(X):
        assert not isinstance(X, torch.Tensor), "a tensor off the host was copied to the host"
        return real(X)

    monkeypatch.setattr(_base, "on_device", lambda X: isinstance(X, torch.Tensor))
    monkeypatch.setattr(_base, "host_array", host_array)


@pytest.mark.parametrize("method", ["decision_function", "predict_proba", "predict_log_proba", "predict"])
def test_a_tensor_off_the_host_is_predicted_where_it_lives(iris, off_host_tensors, method):
    """Off the host, each method answers a tensor on the input's device with the host's values (to rounding), for
    a linear model and a hidden-layer model with its own activation (tanh)."""
    X, y = iris
    for model in _models(X, y):
        expected = getattr(model, method)(X)
        out = getattr(model, method)(torch.from_numpy(X))
        assert isinstance(out, torch.Tensor) and out.device == torch.device("cpu")
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-13)
    with pytest.raises(ValueError, match="X has 3 features"):
        model.predict(torch.from_numpy(X[:, :3]))


def test_a_tensor_off_the_host_is_refused_an_activation_set_after_fit_that_names_none(iris, off_host_tensors):
    """The device path read ``activation`` as set, and a typo ("reLU") predicted with no activation at all; it is
    refused in fit's words there too, as on the host (tests/test_fitted_state.py)."""
    from sklearn.utils._param_validation import InvalidParameterError

    X, y = iris
    hidden = [model for model in _models(X, y) if getattr(model, "hidden_layer_sizes", ())][0]
    hidden.set_params(activation="reLU")
    with pytest.raises(InvalidParameterError, match="The 'activation' parameter .* Got 'reLU' instead"):
        hidden.predict_proba(torch.from_numpy(X))


@pytest.fixture
def standin_cuda(monkeypatch):
    """Call it and this machine "has" one CUDA device: every copy the prediction path makes to it is recorded and
    made on the CPU instead. Returns the list of (dtype, device) asked for. Switched on after the fits: a CUDA build
    of torch without a driver asks the driver in an optimizer step (torch 2.15's Adam, through torch.accelerator,
    whenever torch.cuda says CUDA is there)."""
    asked = []

    def as_tensor(X, dtype, device):
        asked.append((dtype, torch.device(device)))
        return _as_tensor(X, dtype, "cpu")

    def sparse_tensor(X, dtype, device):
        asked.append((dtype, torch.device(device)))
        return _sparse_tensor(X, dtype, "cpu")

    def switch_on():
        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
        monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
        monkeypatch.setattr(_predict, "as_tensor", as_tensor)
        monkeypatch.setattr(_predict, "sparse_tensor", sparse_tensor)
        return asked

    return switch_on


@pytest.mark.parametrize("sparse", [False, True])
def test_a_model_on_cuda_predicts_host_data_on_cuda(iris, standin_cuda, sparse):
    """With ``device="cuda"`` where the machine has CUDA, host data is predicted there: every copy (the data's
    chunks, each layer's weights and biases) goes to ``cuda:0`` in float64, and the values are the CPU path's."""
    X, y = iris
    data = sp.csr_matrix(X) if sparse else X
    models = _models(X, y)
    asked = standin_cuda()
    for model in models:
        expected = {m: getattr(model, m)(data) for m in ("decision_function", "predict_proba", "predict")}
        n_copies = 1 + 2 * len(model._fitted_layers())  # the data (one chunk), each W and b
        model.set_params(device="cuda")
        for method, reference in expected.items():
            asked.clear()
            np.testing.assert_allclose(getattr(model, method)(data), reference, rtol=1e-12, atol=1e-13)
            assert asked == [(torch.float64, torch.device("cuda", 0))] * n_copies


@pytest.mark.parametrize("count, current", [(2, 1), (1, 0)])
def test_cuda_without_an_index_is_torchs_current_device(monkeypatch, count, current):
    """``device="cuda"`` meant cuda:0 whatever ``torch.cuda.set_device`` said, while ``"auto"`` took the current
    device: after ``set_device(1)`` the two trained on different GPUs. Both are torch's current device now, as torch
    reads "cuda"; an index names its device. With one GPU too (h5's mutant: "auto" asking for two GPUs)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: current)
    assert resolve_device("cuda") == resolve_device("auto") == torch.device("cuda", current)
    assert resolve_device("cuda:0") == torch.device("cuda", 0)
    assert resolve_device(torch.device("cuda")) == torch.device("cuda", current)
    with pytest.raises(ValueError, match=f"this machine has {count} CUDA device"):
        resolve_device(f"cuda:{count}")


# ------------------------------------------------------------------------ score


def test_score_needs_no_array_api_set_up(iris, monkeypatch):
    """``score`` is ``accuracy_score`` on NumPy labels, computed outside scikit-learn's array-API mode: it works
    where SciPy's array-API switch (``SCIPY_ARRAY_API=1``) was never set."""
    X, y = iris
    clf = quiet(TorchLogisticClassifier(max_iter=2).fit, X, y)
    w = np.random.RandomState(0).uniform(0, 2, len(y))
    monkeypatch.delenv("SCIPY_ARRAY_API", raising=False)
    assert clf.score(X, y, sample_weight=w) == accuracy_score(y, clf.predict(X), sample_weight=w)


@pytest.mark.skipif(not ARRAY_API_DISPATCH_AVAILABLE, reason="scikit-learn's array-API mode is not available")
def test_in_array_api_mode_the_fits_namespace_is_predicted_and_scored(iris):
    """A model fitted on tensors in array-API mode takes tensors: ``score`` is ``accuracy_score`` of ``predict``,
    and each prediction method answers a tensor with the NumPy input's values."""
    import sklearn

    X, y = iris
    T, t = torch.from_numpy(X), torch.from_numpy(y)
    with sklearn.config_context(array_api_dispatch=True):
        clf = quiet(TorchLogisticClassifier(max_iter=2).fit, T, t)
        predicted = clf.predict(T)
        assert isinstance(predicted, torch.Tensor)
        assert clf.score(T, t) == accuracy_score(y, predicted.numpy())
        for method in ("decision_function", "predict_proba", "predict_log_proba"):
            out = getattr(clf, method)(T)
            assert isinstance(out, torch.Tensor)
            reference = getattr(quiet(TorchLogisticClassifier(max_iter=2).fit, X, y), method)(X)
            np.testing.assert_allclose(out.numpy(), reference, rtol=1e-10, atol=1e-12)
