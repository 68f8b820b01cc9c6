"""Dask: fit on dask arrays, partial_fit under dask-ml's Incremental, grid searches on a cluster.

Each path is compared with its in-memory equivalent. The cluster is a LocalCluster of two
worker processes bound to 127.0.0.1, without a dashboard, started and closed here.
"""

import os
import re
import sys
import threading
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_breast_cancer, load_digits, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

from torchlogit import TorchLogisticClassifier, TorchMultiLabelClassifier

dask = pytest.importorskip("dask", reason="dask is an optional extra (pip install 'torchlogit[dask]')")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
dask_ml_wrappers = pytest.importorskip("dask_ml.wrappers")

TIGHT = dict(dtype="float64", tol=1e-10, max_iter=1000)


@pytest.fixture(scope="module")
def client():
    import cloudpickle

    # Callbacks defined here travel to the workers by value (the workers cannot import tests/).
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    # Without dask's default OMP_NUM_THREADS=1 for worker processes, torch in each worker
    # would use every core: the grid-search test checks that torchlogit takes its share.
    with warnings.catch_warnings(), dask.config.set({"distributed.nanny.pre-spawn-environ": {}}):
        warnings.simplefilter("ignore", DeprecationWarning)
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        )
        client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def digits_data():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _chunked(X, y, rows=300):
    chunks = (rows, X.shape[1]) if X.ndim == 2 else rows
    return da.from_array(X, chunks=chunks), da.from_array(y, chunks=(rows,) + y.shape[1:])


@pytest.mark.parametrize(
    "params",
    [dict(C=0.1), dict(C=0.1, class_weight="balanced"), dict(C=np.inf, max_iter=20), dict(C=0.5, l1_ratio=0.5)],
    ids=["multinomial", "balanced", "unpenalised-20-iterations", "elastic-net"],
)
def test_fit_on_dask_array_equals_in_memory_fit(client, digits_data, params):
    X, y = digits_data
    Xd, yd = _chunked(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the 20-iteration case stops at max_iter, both ways
        remote = TorchLogisticClassifier(**{**TIGHT, **params}).fit(Xd, yd)
        local = TorchLogisticClassifier(**{**TIGHT, **params}).fit(X, y)
    # Sums over blocks differ from in-memory sums in the last bits, so near tol=1e-10 the two
    # may stop a few iterations apart; the optimum is the same.
    assert abs(int(remote.n_iter_[0]) - int(local.n_iter_[0])) <= max(5, local.n_iter_[0] // 10)
    assert np.abs(remote.predict_proba(X) - local.predict_proba(X)).max() <= 1e-6
    assert remote.n_features_in_ == 64 and list(remote.classes_) == list(range(10))


def test_binary_with_dask_sample_weight_and_string_labels(client, breast_cancer):
    X, y = breast_cancer
    labels = np.array(["benign", "malignant"])[y]
    weight = np.random.RandomState(0).uniform(0, 3, size=len(y))
    Xd, yd = _chunked(X, labels, rows=100)
    remote = TorchLogisticClassifier(**TIGHT).fit(Xd, yd, sample_weight=da.from_array(weight, chunks=100))
    local = TorchLogisticClassifier(**TIGHT).fit(X, labels, sample_weight=weight)
    assert list(remote.classes_) == ["benign", "malignant"]
    assert np.abs(remote.predict_proba(X) - local.predict_proba(X)).max() <= 1e-6
    # y may also be an in-memory array beside a dask X: the same model. Not bitwise: two dask fits of the same blocks
    # can differ in the last bits (one CI run, 2026-12-05: 1.1e-10 on one coefficient; blocks placed on other workers,
    # whose BLAS may round differently), and at tol=1e-10 L-BFGS carries that into the coefficients.
    mixed = TorchLogisticClassifier(**TIGHT).fit(Xd, labels, sample_weight=weight)
    np.testing.assert_allclose(mixed.coef_, remote.coef_, rtol=0, atol=1e-8)


def test_row_blocks_of_no_rows_are_skipped(client, breast_cancer):
    """A filtered array, with compute_chunk_sizes() as the scaling page advises, can hold blocks of no rows."""
    X, y = breast_cancer
    order = np.argsort(X[:, 0])
    X, y = X[order], y[order]
    Xd, yd = da.from_array(X, chunks=(150, X.shape[1])), da.from_array(y, chunks=150)
    keep = Xd[:, 0] > X[200, 0]  # the first block loses every row
    Xk, yk = Xd[keep].compute_chunk_sizes(), yd[keep].compute_chunk_sizes()
    assert 0 in Xk.chunks[0]
    remote = TorchLogisticClassifier(**TIGHT).fit(Xk, yk)
    local = TorchLogisticClassifier(**TIGHT).fit(X[X[:, 0] > X[200, 0]], y[X[:, 0] > X[200, 0]])
    assert np.abs(remote.predict_proba(X) - local.predict_proba(X)).max() <= 1e-6


def test_warm_start_continues_from_the_previous_fit(client, digits_data):
    X, y = digits_data
    Xd, yd = _chunked(X, y)
    clf = TorchLogisticClassifier(C=0.1, **{**TIGHT, "max_iter": 5}, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)  # in memory, stopped early
    first = clf.n_iter_[0]
    clf.set_params(max_iter=1000).fit(Xd, yd)  # continued on the dask array
    converged = TorchLogisticClassifier(C=0.1, **TIGHT).fit(X, y)
    assert first == 5 and clf.n_iter_[0] < converged.n_iter_[0]
    # Both fits stop on L-BFGS-B's relative-decrease rule (max |grad| ~1e-8, above tol): the same objective
    # to 1e-12, and from two different paths probabilities that differ by ~1e-6 along the flat directions.
    assert clf.loss_curve_[-1] == pytest.approx(converged.loss_curve_[-1], rel=1e-12)
    assert np.abs(clf.predict_proba(X) - converged.predict_proba(X)).max() <= 5e-6


def test_multilabel_fit_on_dask_arrays(client):
    X, Y = make_multilabel_classification(n_samples=900, n_features=10, n_classes=4, random_state=0)
    X = StandardScaler().fit_transform(X)
    Xd, Yd = _chunked(X, Y, rows=200)
    remote = TorchMultiLabelClassifier(**TIGHT, pos_weight="balanced").fit(Xd, Yd)
    local = TorchMultiLabelClassifier(**TIGHT, pos_weight="balanced").fit(X, Y)
    assert np.abs(remote.predict_proba(X) - local.predict_proba(X)).max() <= 1e-6
    np.testing.assert_array_equal(remote.predict(X), local.predict(X))


@pytest.mark.parametrize("threshold", [[0.5, 0.5], [0.2, 0.0, 0.5]])
def test_a_dask_fit_checks_the_thresholds_before_training_as_an_in_memory_fit(client, threshold):
    """h6's mutant (the check left out of _dask_targets): thresholds that predict would refuse are refused by fit,
    before training, on dask arrays as in memory (the dask fit trained, and the error came only from predict)."""
    X, Y = make_multilabel_classification(n_samples=60, n_features=4, n_classes=3, random_state=0)
    message = "one value per label" if len(threshold) == 2 else "strictly between 0 and 1"
    with pytest.raises(ValueError, match=message):
        TorchMultiLabelClassifier(threshold=threshold).fit(X, Y)
    with pytest.raises(ValueError, match=message):
        TorchMultiLabelClassifier(threshold=threshold).fit(*_chunked(X, Y, rows=30))


def test_a_pos_weight_beyond_the_training_dtype_is_refused_as_in_memory(client):
    """The workers convert pos_weight themselves: the dask fit checked none and failed "not finite at the starting
    point", blaming the features, where a fit in memory names the parameter; and its net's criterion lacked
    pos_weight, so an overflow it caused was blamed on the features too."""
    rng = np.random.RandomState(0)
    X = rng.randn(200, 4)
    Y = np.c_[X[:, 0] > 0, X[:, 1] > 0].astype(int)
    with pytest.raises(ValueError) as in_memory:
        TorchMultiLabelClassifier(pos_weight=[1e39, 1]).fit(X, Y)
    with pytest.raises(ValueError) as on_dask:
        TorchMultiLabelClassifier(pos_weight=[1e39, 1]).fit(*_chunked(X, Y, rows=100))
    assert str(on_dask.value) == str(in_memory.value)
    assert str(in_memory.value).startswith("pos_weight reaches 1e+39, beyond the range of the training dtype float32")
    # One the dtype holds but whose scale overflows L-BFGS is named in the failure, as in memory (not the features).
    with pytest.raises(ValueError, match=r"left the range of float64: pos_weight reaches 1e\+250\. Use a smaller"):
        TorchMultiLabelClassifier(dtype="float64", pos_weight=[1e250, 1]).fit(*_chunked(X, Y, rows=100))


def test_a_float32_dask_fit_judges_its_stall_by_the_data_as_in_memory(client):
    """The README's multi-label data at the defaults: the dask fit's float32 rule lacked the data's rounding bounds
    (largest |x|, effective rows) and stopped with "FLOAT32 PRECISION EXHAUSTED" after 27-35 iterations where the
    in-memory fit converges (probabilities 4.7e-3 apart)."""
    for seed in range(2):
        X, Y = make_multilabel_classification(n_samples=300, n_classes=5, random_state=seed)
        X = X / X.max()
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            local = TorchMultiLabelClassifier().fit(X, Y)
            remote = TorchMultiLabelClassifier().fit(*_chunked(X, Y, rows=100))
        assert remote.n_iter_[0] == local.n_iter_[0]
        assert np.abs(remote.predict_proba(X) - local.predict_proba(X)).max() <= 1e-5


def test_a_float32_dask_stall_on_standardised_data_advises_float64(client):
    """Standardised digits (near-constant pixels reach 42 standard deviations): in float32 a gradient below tol
    cannot be trusted there; the in-memory fit confirms it in float64, a dask fit cannot and warns. The warning
    said only "scale the data" (the data were scaled): it names dtype='float64', with which the dask fit converges
    silently, as in memory."""
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        TorchLogisticClassifier().fit(X, y)
        TorchLogisticClassifier(dtype="float64").fit(*_chunked(X, y, rows=900))
    with pytest.warns(ConvergenceWarning, match="COULD NOT BE CONFIRMED") as caught:
        TorchLogisticClassifier().fit(*_chunked(X, y, rows=900))
    (message,) = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert "fit with dtype='float64'" in message


@pytest.mark.parametrize("estimator", [TorchLogisticClassifier, TorchMultiLabelClassifier])
def test_one_column_y_and_weight_shapes_are_read_as_in_memory(client, breast_cancer, estimator):
    """A one-column y is its column, with scikit-learn's DataConversionWarning, as in memory (the multi-label
    estimator built a one-label multi-label model on dask, a binary one in memory; the logistic one refused
    it); a 2-D sample_weight gets scikit-learn's ValueError before the workers (it failed in torch on each)
    and a scalar weights every row, as in memory."""
    from sklearn.exceptions import DataConversionWarning

    X, y = breast_cancer
    Xd, Yd = _chunked(X, y[:, None], rows=200)
    with pytest.warns(DataConversionWarning, match="A column-vector y was passed"):
        remote = estimator(**TIGHT).fit(Xd, Yd)
    with pytest.warns(DataConversionWarning, match="A column-vector y was passed"):
        local = estimator(**TIGHT).fit(X, y[:, None])
    np.testing.assert_array_equal(remote.classes_, local.classes_)
    assert remote.predict(X).shape == local.predict(X).shape == (len(y),)
    np.testing.assert_allclose(remote.predict_proba(X), local.predict_proba(X), rtol=0, atol=1e-6)
    for weight in (np.ones((len(y), 1)), da.ones((len(y), 1), chunks=(200, 1))):
        with pytest.raises(ValueError, match="Sample weights must be 1D array or scalar, got 2D array"):
            estimator().fit(Xd, _chunked(X, y)[1], sample_weight=weight)
    scalar = estimator(**TIGHT).fit(Xd, _chunked(X, y)[1], sample_weight=3.0)
    np.testing.assert_allclose(scalar.coef_, estimator(**TIGHT).fit(X, y, sample_weight=3.0).coef_, atol=1e-6)


def test_blocks_are_loaded_once_and_evaluated_on_the_workers(client, digits_data, monkeypatch):
    from torchlogit._dask import RemoteBlocks

    X, y = digits_data
    Xd, yd = _chunked(X, y)  # 6 row blocks
    evaluations = []
    sums = RemoteBlocks.sums
    monkeypatch.setattr(RemoteBlocks, "sums", lambda self, W, b: evaluations.append(1) or sums(self, W, b))
    with distributed.get_task_stream(client) as stream:
        clf = TorchLogisticClassifier(C=1.0).fit(Xd, yd)

    def tasks(name):
        return [
            task
            for task in stream.data
            if str(task["key"]).startswith(f"('{name}") or str(task["key"]).startswith(name)
        ]

    loads = tasks("_load_block")
    assert len(loads) == Xd.numblocks[0]
    assert len(tasks("_block_stats")) == Xd.numblocks[0]  # once a fit
    # One evaluation per L-BFGS function evaluation (at least one per iteration, plus the start), each in one task
    # per worker holding blocks (one thread each here), not one per block (a task per block cost 24 s for 400
    # blocks of 20000 x 20).
    holders = {task["worker"] for task in loads}
    assert len(evaluations) > clf.n_iter_[0]
    remote = tasks("_each")
    assert len(remote) == len(evaluations) * len(holders)
    assert {task["worker"] for task in remote} <= set(client.scheduler_info()["workers"])


def test_dask_fit_errors(client, digits_data, monkeypatch):
    X, y = digits_data
    Xd, yd = _chunked(X, y)
    fitted = TorchLogisticClassifier().fit(X, y)
    coef = fitted.coef_.copy()
    bad = X.copy()
    bad[700, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fitted.fit(da.from_array(bad, chunks=(300, 64)), yd)
    np.testing.assert_array_equal(fitted.coef_, coef)  # a failed fit changes nothing
    assert fitted.n_features_in_ == 64
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        TorchLogisticClassifier().fit(Xd, y[:-1])
    yd_unknown = yd[yd >= 0]  # every row, in blocks of unknown size
    with pytest.raises(ValueError, match=r"y has unknown chunk sizes .* y.compute_chunk_sizes\(\)"):
        TorchLogisticClassifier().fit(Xd, yd_unknown)
    with pytest.raises(ValueError, match="Incremental"):
        TorchLogisticClassifier(solver="adam").fit(Xd, yd)
    with pytest.raises(ValueError, match="Incremental"):
        TorchMultiLabelClassifier(hidden_layer_sizes=(4,)).fit(Xd, yd)
    # The device is resolved by each worker (they, not the client, hold the data).
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            TorchLogisticClassifier(device="cuda").fit(Xd, yd)
    with pytest.raises(ValueError, match="continuous"):
        TorchLogisticClassifier().fit(Xd, yd + 0.5)
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        TorchLogisticClassifier().fit(Xd[Xd[:, 0] > 0], yd[Xd[:, 0] > 0])
    # all-zero sample weights in scikit-learn's words, as in memory (a message about class weights before)
    with pytest.raises(ValueError, match="Sample weights must contain at least one non-zero number"):
        TorchLogisticClassifier().fit(Xd, yd, sample_weight=da.zeros(len(y), chunks=300))
    # Object labels that do not sort: scikit-learn's verdict (a non-string first label: "unknown"), not numpy's sort.
    mixed = y.astype(object)
    mixed[5] = None
    with pytest.raises(ValueError, match="Unknown label type: unknown"):
        TorchLogisticClassifier().fit(Xd, da.from_array(mixed, chunks=300))
    # Strings with a None among them, as in memory (scikit-learn reads the first label only): a string first passes
    # its check and its own sort fails with numpy's TypeError (not an error of torchlogit's own making); a None
    # first makes them "unknown", whatever the last label is.
    words = np.array(["a", "b"], dtype=object)[y % 2]
    words[5] = None
    with pytest.raises(TypeError, match="not supported between instances"):
        TorchLogisticClassifier().fit(Xd, da.from_array(words, chunks=300))
    words[[0, 5]] = None, "a"
    with pytest.raises(ValueError, match="Unknown label type: unknown"):
        TorchLogisticClassifier().fit(Xd, da.from_array(words, chunks=300))
    dd = pytest.importorskip("dask.dataframe")
    with pytest.raises(TypeError, match="to_dask_array"):
        TorchLogisticClassifier().fit(dd.from_array(X[:, :3]), yd)
    monkeypatch.setattr(distributed.client, "_get_global_client", lambda: None)
    # (as in a joblib worker process of a search with n_jobs > 1, which has no Client of its own)
    with pytest.raises(ValueError, match="needs a running dask.distributed Client.*A joblib worker process"):
        TorchLogisticClassifier().fit(Xd, yd)


@pytest.mark.parametrize("estimator", ["logistic", "multilabel-hidden"])
def test_incremental_partial_fit_equals_in_memory_partial_fit(client, estimator):
    if estimator == "logistic":
        X, y = load_breast_cancer(return_X_y=True)
        classes = np.array([0, 1])
        make = lambda: TorchLogisticClassifier(solver="adam", learning_rate_init=0.01, random_state=0)  # noqa: E731
    else:
        # dask-ml's Incremental hands partial_fit 1-D y blocks only (its block keys ignore y's columns),
        # so the hidden-layer network is trained here on 1-D labels.
        X, y = load_digits(return_X_y=True)
        classes = np.arange(10)
        make = lambda: TorchMultiLabelClassifier(hidden_layer_sizes=(8,), random_state=0)  # noqa: E731
    X = StandardScaler().fit_transform(X)
    Xd, yd = _chunked(X, y, rows=200)
    incremental = dask_ml_wrappers.Incremental(make(), shuffle_blocks=False)
    incremental.fit(Xd, yd, classes=classes)
    local = make()
    for start in range(0, len(y), 200):  # the same blocks, in the same order, in this process
        local.partial_fit(X[start : start + 200], y[start : start + 200], classes=classes)
    remote = incremental.estimator_
    assert remote.n_iter_[0] == local.n_iter_[0] == Xd.numblocks[0]
    np.testing.assert_allclose(remote.predict_proba(X), local.predict_proba(X), rtol=0, atol=1e-6)


class RecordThreads(Callback):
    """Records, in the history, the process and torch's thread count while training."""

    def on_epoch_end(self, net, **kwargs):
        net.history.record("pid", os.getpid())
        net.history.record("torch_threads", torch.get_num_threads())


def _scorer(estimator, X, y):
    history = estimator.history_
    return {"accuracy": estimator.score(X, y), "pid": history[-1]["pid"], "threads": history[-1]["torch_threads"]}


def test_grid_search_runs_on_the_workers_with_a_share_of_the_cores(client, digits_data):
    import joblib

    X, y = digits_data
    grid = {"C": [0.01, 0.1, 1.0, 10.0]}
    estimator = TorchLogisticClassifier(callbacks=[RecordThreads()])
    with joblib.parallel_backend("dask"):
        remote = GridSearchCV(estimator, grid, cv=3, n_jobs=-1, scoring=_scorer, refit="accuracy").fit(X, y)
    local = GridSearchCV(estimator, grid, cv=3, n_jobs=1, scoring=_scorer, refit="accuracy").fit(X, y)
    np.testing.assert_allclose(remote.cv_results_["mean_test_accuracy"], local.cv_results_["mean_test_accuracy"])
    worker_pids = set(client.run(os.getpid).values())
    pids = set(remote.cv_results_["split0_test_pid"]) | set(remote.cv_results_["split1_test_pid"])
    assert pids <= worker_pids and os.getpid() not in pids
    # 2 worker processes x 1 thread on this host: each fit gets cores // 2 torch threads,
    # where torch left alone would use every core in each worker.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert set(client.run(torch.get_num_threads).values()) == {torch.get_num_threads()}
    assert set(remote.cv_results_["split0_test_threads"]) == {max(1, cores // 2)}
    assert set(client.run(torch.get_num_threads).values()) == {torch.get_num_threads()}  # restored after


def test_a_search_on_dask_arrays_under_the_dask_backend_fits_each_fold_on_the_cluster(client):
    """The scaling page's two recipes together: dask arrays searched under joblib's dask backend. Each fold's fit
    runs in a worker task and drives the cluster from there (the worker's client, its thread seceded): it waited
    on its blocks' tasks in its own slot and never finished (or, on fresh workers, found no client). Scores equal
    the in-memory search's (LogisticRegression's own folds compute their slices likewise)."""
    import joblib
    from sklearn.model_selection import cross_val_score

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    Xd, yd = _chunked(X, y, rows=100)
    model = TorchLogisticClassifier(**TIGHT)
    result = {}

    def search():  # in a thread, so that a deadlock fails the test instead of hanging the suite
        with joblib.parallel_backend("dask"):
            result["scores"] = cross_val_score(model, Xd, yd, cv=3, n_jobs=-1, error_score="raise")

    thread = threading.Thread(target=search, daemon=True)
    thread.start()
    thread.join(timeout=120)
    assert "scores" in result, "the folds did not finish within 120 s"
    np.testing.assert_allclose(result["scores"], cross_val_score(model, X, y, cv=3))


@pytest.mark.parametrize(("n_samples", "n_classes"), [(1000, 30), (100, 60)])
def test_the_many_classes_warning_on_dask_labels_is_scikit_learns(client, n_samples, n_classes):
    """Classes counted on the cluster: scikit-learn's many-classes warning when LogisticRegression gives it, only."""
    from sklearn.linear_model import LogisticRegression

    from .test_contracts_targets import _many_classes_warnings

    rng = np.random.RandomState(0)
    X, y = rng.standard_normal((n_samples, 3)), np.arange(n_samples) % n_classes
    theirs = _many_classes_warnings(lambda: LogisticRegression(max_iter=2).fit(X, y))
    assert bool(theirs) == (n_classes == 60)
    assert _many_classes_warnings(lambda: TorchLogisticClassifier(max_iter=2).fit(*_chunked(X, y, rows=50))) == theirs


def test_an_object_indicator_matrix_is_refused_as_in_memory(client):
    """``to_dask_array`` of object columns: in memory scikit-learn's "Unknown label type"; on dask arrays it was
    fitted and predict returned Python booleans in an object array."""
    X, Y = make_multilabel_classification(n_samples=200, n_classes=3, random_state=0)
    with pytest.raises(ValueError, match="Unknown label type"):
        TorchMultiLabelClassifier().fit(X, Y.astype(object))
    with pytest.raises(ValueError, match="Unknown label type"):
        TorchMultiLabelClassifier().fit(*_chunked(X, Y.astype(object), rows=100))


def test_an_l1_strength_beyond_float32_is_refused_on_dask_arrays_too(client, breast_cancer):
    """In memory the check named the strength; a dask fit reached torch's raw overflow error in the solver."""
    X, y = breast_cancer
    with pytest.raises(ValueError, match="L1 penalty's strength"):
        TorchLogisticClassifier(C=1e-42, l1_ratio=1.0).fit(*_chunked(X, y, rows=200))


def test_weights_beyond_the_training_dtype_are_refused_as_in_memory(client, breast_cancer):
    """The workers cast the weights to the training dtype and a dask fit has no float64 continuation: weights of
    1e-40 trained on float32 subnormals (an intercept of 0 after a line-search failure), 1e-300 became zero ("all
    zero"), 1e39 became inf (blamed on float64's range). Each is refused in the in-memory check's terms; a few tiny
    weights beside ordinary ones change nothing and are accepted."""
    X, y = breast_cancer
    Xd, yd = _chunked(X, y, rows=200)
    for w, match in [
        (1e-40, "go down to 1e-40, below the normal range of the training dtype float32"),
        (1e-300, "go down to 1e-300, below the normal range"),
        (1e39, "reach 1e\\+39, beyond the range of the training dtype float32"),
    ]:
        with pytest.raises(ValueError, match=match):
            TorchLogisticClassifier().fit(Xd, yd, sample_weight=da.from_array(np.full(len(y), w), chunks=200))
    # The smallest positive weight over the blocks, not the largest of their minima: 1e-40 in block 0 only, beside
    # one weight of 2e-38 in block 1 (the rest zero: the sum stays small enough for the check to apply).
    apart = np.zeros(len(y))
    apart[:200], apart[200] = 1e-40, 2e-38
    with pytest.raises(ValueError, match="go down to 1e-40, below the normal range of the training dtype float32"):
        TorchLogisticClassifier().fit(Xd, yd, sample_weight=da.from_array(apart, chunks=200))
    mixed = np.ones(len(y))
    mixed[:3] = 1e-42
    a = TorchLogisticClassifier().fit(X, y, sample_weight=mixed)
    b = TorchLogisticClassifier().fit(Xd, yd, sample_weight=da.from_array(mixed, chunks=200))
    np.testing.assert_allclose(b.predict_proba(X), a.predict_proba(X), atol=1e-5)


def test_a_bad_value_is_refused_naming_its_row_block(client, breast_cancer):
    X, y = breast_cancer
    X = X.copy()
    X[250, 3] = np.nan
    with pytest.raises(ValueError, match=r"Input X contains NaN\.\n\(in row block 1 of X: rows 200 to 399\)"):
        TorchLogisticClassifier().fit(*_chunked(X, y, rows=200))


def test_an_object_X_of_numbers_fits_as_in_memory_and_complex_X_is_refused_in_scikit_learns_words(
    client, breast_cancer
):
    """In memory an object array of numbers is converted (scikit-learn's check_array) and a complex one refused with
    "Complex data not supported"; a dask fit refused both as "X must hold numbers". Now an object dask X goes to the
    workers' check_array as in memory (the same coefficients, from numeric strings too; a string in it refused in
    scikit-learn's words, its row block named), and a complex one is refused before any block is loaded, in
    scikit-learn's words."""
    X, y = breast_cancer
    expected = TorchLogisticClassifier(dtype="float64").fit(X, y)
    got = TorchLogisticClassifier(dtype="float64").fit(*_chunked(X.astype(object), y, rows=200))
    np.testing.assert_allclose(got.coef_, expected.coef_, rtol=1e-10, atol=1e-12)
    numeric_strings = TorchLogisticClassifier(dtype="float64").fit(*_chunked(X.astype(str), y, rows=200))
    np.testing.assert_allclose(numeric_strings.coef_, expected.coef_, rtol=1e-10, atol=1e-12)
    words = X.astype(object)
    words[250, 1] = "abc"
    with pytest.raises(ValueError, match=r"could not convert string to float: 'abc'\n\(in row block 1 of X"):
        TorchLogisticClassifier().fit(*_chunked(words, y, rows=200))
    with pytest.raises(ValueError, match="Complex data not supported"):
        TorchLogisticClassifier().fit(*_chunked(X.astype(complex), y, rows=200))
    with pytest.raises(ValueError, match="Complex data not supported"):
        TorchLogisticClassifier().fit(X.astype(complex), y)


# (mutation survey h5, D14: a scalar sample_weight made float32 in _dask._one_d_weights)
def test_a_scalar_sample_weight_weighs_every_row_in_float64_as_in_memory(client, breast_cancer):
    """The scalar 3.0 above is exact in float32; 0.1 is not (1.5e-8 away), which moved a tight fit by 4.4e-8
    (relative) from the in-memory one; in float64 they are 6.7e-10 apart."""
    X, y = breast_cancer
    params = dict(TIGHT, tol=1e-12, C=10.0)
    local = TorchLogisticClassifier(**params).fit(X, y, sample_weight=0.1)
    remote = TorchLogisticClassifier(**params).fit(*_chunked(X, y, rows=200), sample_weight=0.1)
    np.testing.assert_allclose(remote.coef_, local.coef_, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("estimator", [TorchLogisticClassifier, TorchMultiLabelClassifier])
def test_in_memory_y_as_a_list_is_read_as_in_memory(client, breast_cancer, estimator):
    """The docs say y may be in memory, split like X: a list or tuple reached `y.ndim` (a raw AttributeError)."""
    X, y = breast_cancer
    Xd, _ = _chunked(X, y, rows=200)
    target = y.tolist() if estimator is TorchLogisticClassifier else np.c_[y, 1 - y].tolist()
    local = estimator(**TIGHT).fit(X, target)
    for given in (target, tuple(target)):
        remote = estimator(**TIGHT).fit(Xd, given)
        np.testing.assert_allclose(remote.predict_proba(X), local.predict_proba(X), rtol=0, atol=1e-6)


@pytest.mark.parametrize("scale", [1e-40, 1e-150, 1e150])
def test_a_float32_dask_fit_refuses_values_beyond_the_dtype_as_in_memory(client, breast_cancer, scale):
    """The range checks of a fit in memory: values all below float32's normal range (the dask fit ended at
    coefficients of 0, accuracy 0.5, silently) or beyond its largest (a generic "non-finite parameter weights")."""
    X, y = breast_cancer
    X = StandardScaler().fit_transform(X) * scale
    with pytest.raises(ValueError) as local:
        TorchLogisticClassifier().fit(X, y)
    with pytest.raises(ValueError) as remote:
        TorchLogisticClassifier().fit(*_chunked(X, y, rows=200))
    if scale < 1:  # one message for the whole X
        assert str(remote.value) == str(local.value)
    else:  # the first block refused names its own first value beyond the range, and the block
        pattern = r"X holds \S+ in column \d+, outside the range of dtype='float32' .*\n\(in row block \d+ of X"
        assert re.match(pattern, str(remote.value)), str(remote.value)


def test_dask_inputs_are_refused_in_scikit_learns_words_as_in_memory(client, breast_cancer):
    """A sample_weight of the wrong length (it said "inconsistent numbers of samples"), NaN in y (a stray
    RuntimeWarning of a cast came first), in the words of a fit in memory."""
    X, y = breast_cancer
    Xd, yd = _chunked(X, y, rows=200)
    for weight in (np.ones(len(y) - 1), da.ones(len(y) - 1, chunks=200)):
        with pytest.raises(ValueError) as local:
            TorchLogisticClassifier().fit(X, y, sample_weight=np.ones(len(y) - 1))
        with pytest.raises(ValueError) as remote:
            TorchLogisticClassifier().fit(Xd, yd, sample_weight=weight)
        assert str(remote.value) == str(local.value)
    with_nan = np.r_[y[:-1], np.nan]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ValueError, match="^Input y contains NaN.$"):
            TorchLogisticClassifier().fit(Xd, da.from_array(with_nan, chunks=200))
