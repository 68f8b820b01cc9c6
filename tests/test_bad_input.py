"""Bad input gets a ValueError/TypeError in the user's terms, before any tensor work, for both estimators."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from torchlogit import TorchLogisticClassifier, TorchMultiLabelClassifier

RNG = np.random.RandomState(0)
X = RNG.randn(40, 3)
y = np.arange(40) % 2
ESTIMATORS = [TorchLogisticClassifier, TorchMultiLabelClassifier]


def X_with(value):
    bad = X.copy()
    bad[3, 1] = value
    return bad


BAD_FITS = {
    "nan in X": (lambda: (X_with(np.nan), y, {}), ValueError, "NaN"),
    "inf in X": (lambda: (X_with(np.inf), y, {}), ValueError, "infinity"),
    "empty X": (lambda: (X[:0], y[:0], {}), ValueError, "0 sample"),
    "single class": (lambda: (X, np.zeros(40), {}), ValueError, "class"),
    "continuous y": (lambda: (X, RNG.rand(40), {}), ValueError, "Unknown label type|continuous"),
    "length mismatch": (lambda: (X, y[:-1], {}), ValueError, "inconsistent numbers of samples"),
    "sample_weight length": (lambda: (X, y, {"sample_weight": np.ones(39)}), ValueError, "sample_weight"),
    "negative sample_weight": (lambda: (X, y, {"sample_weight": -np.ones(40)}), ValueError, "[Nn]egative"),
    "nan sample_weight": (lambda: (X, y, {"sample_weight": np.full(40, np.nan)}), ValueError, "NaN"),
    # A scalar weight is spread over every row; scikit-learn checks only an array's values (NumPy's "zero-size
    # array to reduction operation maximum" came from the empty training set of NaN-weighted rows).
    "nan scalar sample_weight": (lambda: (X, y, {"sample_weight": np.nan}), ValueError, "sample_weight contains NaN"),
    "inf scalar sample_weight": (lambda: (X, y, {"sample_weight": np.inf}), ValueError, "sample_weight contains inf"),
    "zero sample_weight": (lambda: (X, y, {"sample_weight": np.zeros(40)}), ValueError, "zero"),
    "3-D X": (lambda: (X[:, :, None], y, {}), ValueError, "dim"),
    "string X": (lambda: (np.array([["a", "b", "c"]] * 40), y, {}), ValueError, "convert|could not"),
    "complex X": (lambda: (X + 1j, y, {}), ValueError, "[Cc]omplex"),
}

BAD_PARAMS = {
    "negative C": {"C": -1.0},
    "l1_ratio above 1": {"l1_ratio": 1.5},
    "unknown solver": {"solver": "newton"},
    "unknown dtype": {"dtype": "float16"},
    "malformed device": {"device": "gpu:0"},
}


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("case", sorted(BAD_FITS))
def test_bad_data_is_refused_clearly(Estimator, case):
    make, error, message = BAD_FITS[case]
    X_bad, y_bad, kwargs = make()
    with pytest.raises(error, match=message):
        Estimator().fit(X_bad, y_bad, **kwargs)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("case", sorted(BAD_PARAMS))
def test_bad_parameters_are_refused_at_fit_not_before(Estimator, case):
    estimator = Estimator(**BAD_PARAMS[case])  # __init__ and set_params never validate
    estimator.set_params(**BAD_PARAMS[case])
    with pytest.raises(ValueError, match="parameter"):
        estimator.fit(X, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_bad_input_at_predict(Estimator):
    clf = Estimator().fit(X, y)
    for method in ("predict", "predict_proba", "decision_function"):
        with pytest.raises(ValueError, match="features"):
            getattr(clf, method)(X[:, :2])
        with pytest.raises(ValueError, match="NaN"):
            getattr(clf, method)(X_with(np.nan))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_failed_fit_changes_nothing(Estimator):
    clf = Estimator().fit(X, y)
    before = clf.predict_proba(X)
    state = dict(vars(clf))
    for case in BAD_FITS.values():
        X_bad, y_bad, kwargs = case[0]()
        with pytest.raises((ValueError, TypeError)):
            clf.fit(X_bad, y_bad, **kwargs)
    assert set(vars(clf)) == set(state) and clf.n_features_in_ == 3
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_multilabel_targets_other_than_zero_one_or_wrong_rows():
    Y = np.column_stack([y, 1 - y])
    with pytest.raises(ValueError, match="0/1 indicator"):
        TorchMultiLabelClassifier().fit(X, Y * 3)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        TorchMultiLabelClassifier().fit(X, Y[:-2])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_valid_but_absent_device_names_what_is_available(Estimator):
    import torch

    absent = f"cuda:{torch.cuda.device_count() + 3}"
    with pytest.raises(ValueError, match=r"Available devices: \['cpu'"):
        Estimator(device=absent).fit(X, y)


@pytest.mark.parametrize("fit", ["fit", "partial_fit"])
@pytest.mark.parametrize("weight", [-1.0, np.nan, np.inf, None])
def test_class_weights_must_be_finite_and_non_negative(fit, weight):
    """scikit-learn fits with a negative class weight (an objective unbounded below: one class predicted
    everywhere) and fails inside the solver on a NaN one; here both are refused before training. The message
    shows the value as written (None was shown as the nan compute_class_weight made of it)."""
    estimator = TorchLogisticClassifier(solver="adam", max_iter=5).fit(X, y)
    before = estimator.coef_
    estimator.set_params(class_weight={0: weight})
    kwargs = {"classes": [0, 1]} if fit == "partial_fit" else {}
    with pytest.raises(ValueError, match=rf"class_weight gives class 0 the weight {weight!r}; .*finite and non-neg"):
        getattr(estimator, fit)(X, y, **kwargs)
    assert estimator.coef_ is before


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("callbacks", [["x"], [("timer", 3)], [None]])
def test_callbacks_that_are_not_skorch_callbacks_are_refused_before_training(Estimator, callbacks):
    estimator = Estimator().fit(X, y)
    before = estimator.coef_
    with pytest.raises(TypeError, match="callbacks must be a list of skorch callbacks"):
        estimator.set_params(callbacks=callbacks).fit(X, y)
    assert estimator.coef_ is before


def _skorch_callback(name, **params):
    import skorch.callbacks

    return getattr(skorch.callbacks, name)(**params)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize(
    ("callback", "solver", "message"),
    [
        # Failed mid-fit with AttributeError ('NoneType' object has no attribute 'to') or a shape error.
        (("EpochScoring", dict(scoring="accuracy", on_train=True)), "lbfgs", "EpochScoring scores the net's own"),
        (("EpochScoring", dict(scoring="accuracy", on_train=True)), "adam", "EpochScoring scores the net's own"),
        (("EpochScoring", dict(scoring="accuracy")), "lbfgs", "EpochScoring scores the net's own"),  # recorded None
        (("BatchScoring", dict(scoring="accuracy")), "adam", "BatchScoring scores the net's own"),
        # KeyError: "Key 'valid_loss' was not found in history."
        (("EarlyStopping", {}), "lbfgs", "EarlyStopping monitors 'valid_loss', which this fit does not record"),
        (("EarlyStopping", {}), "sgd", "EarlyStopping monitors 'valid_loss', which this fit does not record"),
        # TypeError: LBFGS is not an Optimizer.
        (("LRScheduler", dict(policy="StepLR", step_size=1)), "lbfgs", "LRScheduler steps a torch optimizer"),
        # SkorchException: "Key 'valid_loss_best' was not found in history", mid-fit.
        (("Checkpoint", {}), "adam", "Checkpoint monitors 'valid_loss_best'.*monitor='train_loss_best'"),
        (("Checkpoint", dict(monitor="train_loss_best")), "lbfgs", "Checkpoint monitors 'train_loss_best'"),
    ],
)
def test_skorch_callbacks_that_cannot_work_here_are_refused_before_training(Estimator, callback, solver, message):
    estimator = Estimator(solver=solver, max_iter=3).fit(X, y)
    before = estimator.coef_
    with pytest.raises(ValueError, match=message):
        estimator.set_params(callbacks=[_skorch_callback(callback[0], **callback[1])]).fit(X, y)
    assert estimator.coef_ is before


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_checkpoint_on_what_the_fit_records_saves(Estimator, tmp_path):
    import skorch.callbacks

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for solver, monitor in [("adam", "train_loss_best"), ("lbfgs", None)]:
            checkpoint = skorch.callbacks.Checkpoint(monitor=monitor, dirname=str(tmp_path / solver))
            Estimator(solver=solver, max_iter=3, callbacks=[checkpoint]).fit(X, y)
            assert (tmp_path / solver / "params.pt").exists()


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_skorch_callbacks_that_can_work_here_are_taken(Estimator):
    """EarlyStopping on a recorded value (train_loss; the multi-label estimator's valid_loss with early_stopping),
    LRScheduler with a torch optimizer."""
    extra = {"early_stopping": True} if Estimator is TorchMultiLabelClassifier else {}
    for solver, callback in [
        ("lbfgs", _skorch_callback("EarlyStopping", monitor="train_loss")),
        ("adam", _skorch_callback("EarlyStopping", **({} if extra else {"monitor": "train_loss"}))),
        ("sgd", _skorch_callback("LRScheduler", policy="StepLR", step_size=1)),
    ]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            params = extra if solver != "lbfgs" else {}
            Estimator(solver=solver, max_iter=3, callbacks=[callback], **params).fit(X, y)


def test_balanced_class_weight_with_a_class_of_zero_total_weight_says_so():
    """The class's weight n / (k * 0) was refused as "the weight inf", a number the user never gave, after NumPy's
    divide-by-zero warning. (LogisticRegression fits all-zero coefficients with NaN warnings.)"""
    X = np.arange(12.0).reshape(6, 2)
    y = np.array(["a", "a", "b", "b", "c", "c"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"class 'b' has a total sample_weight of 0"):
            TorchLogisticClassifier(class_weight="balanced").fit(X, y, sample_weight=[1, 1, 0, 0, 1, 1])


def _fitted_for_partial_fit(cls):
    model = cls(solver="adam", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.partial_fit(X, y, classes=[0, 1])


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize(
    "params",
    [{"l1_ratio": 2.0}, {"tol": -1.0}, {"batch_size": 0}, {"dtype": "float16"}, {"learning_rate_init": -1.0}],
    ids=lambda p: next(iter(p)),
)
def test_a_later_partial_fit_validates_the_parameters_as_the_first(cls, params):
    """scikit-learn's _fit_context skips the parameters' validation for partial_fit on a fitted estimator: values
    set since were used (l1_ratio=2, tol=-1) or failed inside torch (range() arg 3, a KeyError, torch's
    "Invalid learning rate"). The first call's InvalidParameterError now, and the model as it was."""
    from sklearn.utils._param_validation import InvalidParameterError

    model = _fitted_for_partial_fit(cls)
    before = model.predict_proba(X)
    with pytest.raises(InvalidParameterError, match=f"The '{next(iter(params))}' parameter"):
        model.set_params(**params).partial_fit(X, y)
    np.testing.assert_array_equal(model.predict_proba(X), before)


def test_files_are_named_by_paths_only(tmp_path, monkeypatch):
    """An integer was taken by open() as a file descriptor (save wrote into the caller's file and closed it), and
    to_onnx named a file str(obj) ("None", "7", "<_io.BytesIO ...>"): a TypeError, as for save(None)."""
    import io

    monkeypatch.chdir(tmp_path)
    model = TorchLogisticClassifier(max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    for path in (None, 7, io.BytesIO(), 1.5):
        for call, name in ((model.save, "save"), (model.to_onnx, "to_onnx"), (TorchLogisticClassifier.load, "load")):
            with pytest.raises(TypeError, match=f"{name} takes a file path"):
                call(path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("device", ["cuda:01", "cuda:\u0661", "cuda:99999999999999999999", "cpu\n", "cuda:0\n"])
def test_device_names_torch_cannot_parse_are_refused_in_words(device):
    """They passed a \\d+ pattern, then failed in torch.device with a RuntimeError (fit), or loaded and failed later."""
    with pytest.raises(ValueError, match="The 'device' parameter of TorchLogisticClassifier must be"):
        TorchLogisticClassifier(device=device).fit(X, y)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_strings_are_refused_at_prediction_as_scikit_learn_refuses_them(cls):
    """LogisticRegression's predict refuses string arrays ("dtype='numeric' is not compatible"); ours converted
    numeric strings to floats and predicted."""
    from sklearn.linear_model import LogisticRegression

    message = "dtype='numeric' is not compatible with arrays of bytes/strings"
    model, ref = cls(max_iter=5), LogisticRegression(max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y), ref.fit(X, y)
    for strings in (X.astype(str), X.astype(str).tolist()):
        for estimator in (model, ref):
            with pytest.raises(ValueError, match=message):
                estimator.predict(strings)
        with pytest.raises(ValueError, match=message):
            model.predict_proba(strings)


def test_summary_without_y_says_so_in_scikit_learn_s_words():
    model = TorchLogisticClassifier(C=np.inf, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    with pytest.raises(ValueError, match="requires y to be passed, but the target y is None"):
        model.summary(X, None)


@pytest.mark.parametrize("where", ["X", "y", "sample_weight"])
def test_tensors_on_the_meta_device_are_refused_in_words(where):
    """torch's "meta" device holds shapes without values: predict reached "Tensor.item() cannot be called on meta
    tensors", score / summary / partial_fit "Cannot copy out of meta tensor" (scikit-learn: a TypeError)."""
    import torch

    model = TorchLogisticClassifier(solver="adam", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    before = model.coef_.copy()
    meta_X = torch.empty(X.shape, device="meta")
    meta_w = torch.empty(len(y), device="meta")
    meta_y = torch.empty(len(y), dtype=torch.int64, device="meta")
    calls = (
        [lambda: model.predict(meta_X), lambda: model.score(meta_X, y), lambda: model.partial_fit(meta_X, y)]
        if where == "X"
        else [lambda: model.fit(X, meta_y), lambda: TorchMultiLabelClassifier().fit(X, meta_y)]
        if where == "y"
        else [lambda: model.score(X, y, sample_weight=meta_w), lambda: model.partial_fit(X, y, sample_weight=meta_w)]
    )
    for call in calls:
        with pytest.raises(TypeError, match="on the 'meta' device .* holds no values"):
            call()
    np.testing.assert_array_equal(model.coef_, before)


@pytest.mark.parametrize("layout", ["strided", "jagged"])
@pytest.mark.parametrize("rows", ["2-D parts", "1-D rows"])
def test_nested_tensors_are_refused_like_ragged_rows(layout, rows):
    """A nested (ragged) tensor: torch's "Internal error: NestedTensorImpl doesn't support sizes" (or
    NotImplementedError: aten.dense_dim) from fit and predict; NumPy refuses ragged rows with a ValueError. A
    nested tensor of 1-D rows (2-D overall) reached the error from the thread rule's size reading in fit."""
    import torch

    rows = (
        [torch.randn(3, 4, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)]
        if rows == "2-D parts"
        else [torch.randn(4, dtype=torch.float64), torch.randn(3, dtype=torch.float64)]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch: "nested tensors are in prototype stage"
        nested = torch.nested.nested_tensor(rows, layout=getattr(torch, layout))
    model = TorchLogisticClassifier().fit(np.random.RandomState(0).randn(10, 4), np.arange(10) % 2)
    before = model.coef_.copy()
    for call in (
        lambda: model.fit(nested, torch.tensor([0, 1])),
        lambda: model.predict(nested),
        lambda: TorchMultiLabelClassifier().fit(nested, torch.tensor([[0, 1], [1, 0]])),
    ):
        with pytest.raises(ValueError, match=r"Nested \(ragged\) tensors are not supported"):
            call()
    np.testing.assert_array_equal(model.coef_, before)


def _broken_sparse(fmt):
    """A valid matrix of 20 x 5 whose index arrays were edited afterwards to point outside it (scipy checks them
    only when a matrix is built)."""
    import scipy.sparse as sp

    X = sp.random(20, 5, density=0.4, random_state=0, format=fmt)
    if fmt == "coo":
        X.col = X.col.copy()
        X.col[0] = 25
    else:
        X.indices = X.indices.copy()
        X.indices[0] = 25  # CSR: a column of 5, CSC: a row of 20
    return X


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_a_sparse_matrix_with_indices_outside_its_shape_is_refused_in_words(fmt):
    """Fit, partial_fit, prediction and summary: torch's "index 7 is out of bounds" (L1) or "index out of range in
    self" (L2) came from its kernels; indices far outside crashed the process in scipy's product."""
    from torchlogit import TorchLogisticClassifierCV

    rng = np.random.RandomState(0)
    X, y, Y = rng.rand(20, 5), np.arange(20) % 2, np.c_[np.arange(20) % 2, np.arange(20) // 10]
    bad = _broken_sparse(fmt)
    match = f"not a valid {fmt.upper()} matrix of shape \\(20, 5\\): (row|column) indices outside"
    for fit in (
        lambda: TorchLogisticClassifier().fit(bad, y),
        lambda: TorchLogisticClassifier(l1_ratio=1.0).fit(bad, y),
        lambda: TorchLogisticClassifier(solver="adam").partial_fit(bad, y, classes=[0, 1]),
        lambda: TorchMultiLabelClassifier().fit(bad, Y),
        lambda: TorchLogisticClassifierCV(Cs=2, cv=2).fit(bad, y),
    ):
        with pytest.raises(ValueError, match=match):
            fit()
    for model in (TorchLogisticClassifier().fit(X, y), TorchLogisticClassifierCV(Cs=2, cv=2).fit(X, y)):
        for method in ("predict", "predict_proba", "decision_function"):
            with pytest.raises(ValueError, match=match):
                getattr(model, method)(bad)
    with pytest.raises(ValueError, match=match):
        TorchLogisticClassifier().fit(X, y).summary(bad, y)


def _edge_sparse(case):
    """A valid 20 x 5 matrix edited afterwards at the edge of validity: an index equal to the dimension it indexes
    (the first one outside: indices run from 0 to n - 1), or index pointers that decrease (each row's slice of
    ``indices`` is ``indptr[i]:indptr[i + 1]``, so they must not)."""
    import scipy.sparse as sp

    fmt = case.split("-")[0]
    X = sp.random(20, 5, density=0.4, random_state=0, format=fmt)
    if case == "csr-indptr":
        X.indptr = X.indptr.copy()
        X.indptr[1] = X.indptr[2] + 1  # row 0 ends after row 1 starts
    elif case == "csr-indptr-start":
        X.indptr = X.indptr.copy()
        X.indptr[0] = 1  # row 0 loses its first entry
    elif case == "csc-indptr-short":
        X.indptr = X.indptr[:-1].copy()  # one column's end missing
    elif case == "csr-data-short":
        X.data = X.data[:-3].copy()  # values cut short: the last row's read past the end
    elif case == "coo-negative":
        X.row = X.row.copy()
        X.row[0] = -1
    elif fmt == "coo":
        X.col = X.col.copy()
        X.col[0] = 5  # n_features: inside the 20 rows' range, outside the 5 columns'
    else:
        X.indices = X.indices.copy()
        X.indices[0] = 5 if fmt == "csr" else 20  # CSR: a column of 5, CSC: a row of 20
    return X


@pytest.mark.parametrize(
    "case, problem",
    [
        ("csr", "column indices outside 0..4 \\(from 0 to 5\\)"),
        ("csc", "row indices outside 0..19 \\(from 0 to 20\\)"),
        ("coo", "column indices outside 0..4 \\(from 0 to 5\\)"),
        ("csr-indptr", "its index pointers \\(indptr\\) decrease"),
        ("csr-indptr-start", "its index pointers \\(indptr\\) start at 1, not 0"),
        ("csc-indptr-short", "its index pointers \\(indptr\\) have 5 entries, not 6"),
        ("csr-data-short", "its index and value arrays hold 40 and 37 entries, not 40"),
        ("coo-negative", "row indices outside 0..19 \\(from -1 to 19\\)"),
    ],
)
def test_a_sparse_matrix_one_past_its_shape_or_with_decreasing_indptr_is_refused(case, problem):
    """The first index outside a dimension is its length (scipy's check_format(full_check=True) refuses
    ``indices.max() >= n``), whichever dimension the format indexes (CSR: columns, CSC: rows, COO: both, each by its
    own length); decreasing index pointers make rows overlap. The layout too (h2): index pointers that do not start
    at 0 or have the wrong length, and value arrays shorter than the pointers say, fitted silently on shifted rows
    or raised NumPy's IndexError (scikit-learn refuses them in scipy's words, by the transpose inside its loss); a
    negative COO index reached the fit and corrupted the heap. All are refused in words before any product, by fit
    and by prediction alike."""
    rng = np.random.RandomState(0)
    X, y = rng.rand(20, 5), np.arange(20) % 2
    bad = _edge_sparse(case)
    with pytest.raises(ValueError):
        bad.copy().check_format(full_check=True)  # scipy's own verdict: this matrix is invalid
    match = f"not a valid {case.split('-')[0].upper()} matrix of shape \\(20, 5\\): {problem}"
    with pytest.raises(ValueError, match=match):
        TorchLogisticClassifier().fit(bad, y)
    model = TorchLogisticClassifier().fit(X, y)
    with pytest.raises(ValueError, match=match):
        model.predict_proba(bad)


def test_a_csr_matrix_with_spare_capacity_past_indptr_is_fitted_as_scikit_learn_fits_it():
    """Kills D6 (_data.check_sparse_indices reads X.indices whole instead of
    X.indices[:X.indptr[-1]]): entries past indptr[-1] are spare capacity, not part of the matrix (X.nnz ignores
    them); LogisticRegression fits such a matrix and so must torchlogit, to the same coefficients."""
    import numpy as np
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    from torchlogit import TorchLogisticClassifier

    rng = np.random.default_rng(0)
    dense = rng.normal(size=(40, 5))
    dense[dense < 0.3] = 0
    y = (dense[:, 0] > 0.5).astype(int)
    X = sp.csr_matrix(dense)
    spare = X.copy()
    spare.data = np.concatenate([X.data, [99.0, 99.0]])
    spare.indices = np.concatenate([X.indices, [7, 9]]).astype(X.indices.dtype)  # beyond indptr[-1]: unused
    assert spare.nnz == X.nnz
    fitted = TorchLogisticClassifier().fit(spare, y)
    np.testing.assert_array_equal(fitted.coef_, TorchLogisticClassifier().fit(X, y).coef_)
    np.testing.assert_allclose(fitted.coef_, LogisticRegression().fit(spare, y).coef_, atol=1e-4)


@pytest.mark.parametrize("shape", [(0, 3), (6, 0)])
def test_an_empty_float_array_gets_scikit_learns_error_on_the_torch_path(shape):
    """A float64 array with no rows or no columns is left to the host path, which words scikit-learn's error; it
    never reaches torch.aminmax (RuntimeError "cannot compute aminmax over an empty dimension")."""
    from torchlogit import TorchLogisticClassifier, TorchMultiLabelClassifier

    X = np.empty(shape)
    what = "0 sample" if shape[0] == 0 else "0 feature"
    with pytest.raises(ValueError, match=what):
        TorchLogisticClassifier().fit(X, np.array([0, 1] * (shape[0] // 2)))
    with pytest.raises(ValueError, match=what):
        TorchMultiLabelClassifier().fit(X, np.tile([[0, 1], [1, 0]], (shape[0] // 2, 1)))


def test_a_csr_matrix_whose_indptr_grew_is_refused_as_scikit_learn_refuses_it():
    """Mutant D1 (check_sparse_indices: `len(X.indptr) < major + 1`, only a short indptr refused). An indptr one entry
    too long (X.indptr replaced after the matrix was built): LogisticRegression raises scipy's "index pointer size 8
    should be 7"; the mutant fitted it silently."""
    rng = np.random.RandomState(0)
    X = sp.csr_matrix(rng.rand(6, 3))
    X.indptr = np.r_[X.indptr, X.indptr[-1]]
    with pytest.raises(ValueError, match="indptr"):
        TorchLogisticClassifier().fit(X, np.array([0, 1] * 3))


def test_the_overflow_refusal_names_a_value_of_the_column_it_names_sparse():
    """Mutant D12 (_data.raise_overflow: the sparse value read at the largest |value|, not at the first one beyond
    float32). Two values beyond float32 in two columns: the message must name a column and a value in it (which of
    the two comes first depends on SciPy's order of the summed entries: column 2 with SciPy 1.17, 0 with 1.10)."""
    import re

    dense = np.array([[0.0, 0.0, 5e38], [1e39, 0.0, 0.0], [1.0, 2.0, 0.0], [0.0, 1.0, 1.0]])
    with pytest.raises(ValueError, match=r"outside the range of dtype='float32'") as refused:
        TorchLogisticClassifier(dtype="float32").fit(sp.csr_matrix(dense), np.array([0, 1, 0, 1]))
    value, column = re.match(r"X holds (\S+) in column (\d+)", str(refused.value)).groups()
    assert float(value) in dense[:, int(column)] and abs(float(value)) > np.finfo(np.float32).max


# (a second mutation survey's T15: the overflow of the class totals' sum
# reaches the user as NumPy's "overflow encountered in reduce" RuntimeWarning before the refusal in words)
def test_balanced_weights_summing_beyond_float64_are_refused_without_a_numpy_warning():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)), np.repeat([0, 1], 10)
    sample_weight = np.ones(20)
    sample_weight[[0, 10]] = 1e308  # each class's total is finite; their sum is not
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ValueError, match="sum to inf"):
            TorchLogisticClassifier(class_weight="balanced").fit(X, y, sample_weight=sample_weight)


# (a second mutation survey, B2) _base.py _parameter_constraints "learning_rate_init" closed="left" (0 accepted: an
# adam fit that never moves)
def test_learning_rate_init_zero_is_refused_as_mlpclassifier_refuses_it(iris):
    from sklearn.neural_network import MLPClassifier
    from sklearn.utils._param_validation import InvalidParameterError

    X, y = iris
    with pytest.raises(InvalidParameterError, match="learning_rate_init"):
        MLPClassifier(learning_rate_init=0.0).fit(X, y)
    with pytest.raises(InvalidParameterError, match="learning_rate_init"):
        TorchLogisticClassifier(solver="adam", learning_rate_init=0.0).fit(X, y)


def _duplicates_summing_past(dtype, fmt):
    """X (40 x 3) as a sparse ``fmt`` matrix of ``dtype`` whose entry (3, 1) is stored three times: X[3, 1] plus
    two values that sum past the dtype's range."""
    big = float(np.finfo(dtype).max) * 0.75
    coo = sp.coo_matrix(X.astype(dtype))
    coo = sp.coo_matrix(
        (np.r_[coo.data, big, big].astype(dtype), (np.r_[coo.row, 3, 3], np.r_[coo.col, 1, 1])), shape=X.shape
    )
    if fmt == "coo":
        return coo
    # CSR / CSC arrays built by hand keep the duplicates (a conversion from COO would sum them).
    order = np.lexsort((coo.col, coo.row)) if fmt == "csr" else np.lexsort((coo.row, coo.col))
    major, minor = (coo.row, coo.col) if fmt == "csr" else (coo.col, coo.row)
    indptr = np.r_[0, np.cumsum(np.bincount(major, minlength=coo.shape[fmt == "csc"]))]
    build = sp.csr_matrix if fmt == "csr" else sp.csc_matrix
    return build((coo.data[order], minor[order], indptr), shape=X.shape)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fmt", ["coo", "csr", "csc"])
def test_sparse_duplicates_that_sum_past_the_range_are_refused_as_scikit_learn_refuses_them(fmt, dtype):
    """Duplicate entries add up in every product. Checked as stored, a COO matrix holding 0.75 * max twice
    predicted [0, 1] silently and its fit failed on the training copy's overflow, advising dtype='float64' to a
    float64 model; LogisticRegression (which sums a COO matrix's duplicates in validation) says "Input X contains
    infinity". It reads a CSR or CSC matrix as stored, and predicts from it as ours does; a fit (whose training copy
    sums them) refuses in the same words."""
    from sklearn.linear_model import LogisticRegression

    bad = _duplicates_summing_past(dtype, fmt)
    assert bad.nnz == X.size + 2 and np.isfinite(bad.data).all()
    expected = f"Input X contains infinity or a value too large for dtype\\('{np.dtype(dtype).name}'\\)"
    lr = LogisticRegression().fit(X.astype(dtype), y)
    for compute in ("float32", "float64"):
        ours = TorchLogisticClassifier(dtype=compute).fit(X.astype(dtype), y)
        before = ours.coef_.copy()
        if fmt == "coo":
            with pytest.raises(ValueError, match=expected):
                ours.predict_proba(bad)
        else:
            with np.errstate(over="ignore"):
                np.testing.assert_array_equal(ours.predict_proba(bad)[3], lr.predict_proba(bad)[3])
        with pytest.raises(ValueError, match=expected):
            ours.fit(bad, y)
        np.testing.assert_array_equal(ours.coef_, before)
    if fmt == "coo":  # (scikit-learn before 1.9 casts float32 to float64 first, and names float64)
        for call in (lambda: lr.predict_proba(bad), lambda: LogisticRegression().fit(bad, y)):
            with pytest.raises(ValueError, match="Input X contains infinity or a value too large for dtype"):
                call()
    assert np.isfinite(bad.data).all() and bad.nnz == X.size + 2  # the user's matrix is not summed in place


@pytest.mark.parametrize("fmt", ["coo", "csr"])
def test_sparse_duplicates_fit_and_predict_as_their_sums(fmt):
    """Duplicates that sum within the range are read as their sums: the fit and predictions equal the summed
    matrix's, bitwise."""
    dup = _duplicates_summing_past(np.float64, fmt)
    dup.data[dup.data > 1e300] = 0.5  # the two extra entries of (3, 1): 0.5 + 0.5 beside X[3, 1]
    summed = sp.csr_matrix(dup.toarray())
    model, reference = (TorchLogisticClassifier(dtype="float64").fit(m, y) for m in (dup, summed))
    np.testing.assert_array_equal(model.coef_, reference.coef_)
    np.testing.assert_array_equal(model.predict_proba(dup), reference.predict_proba(summed))


@pytest.mark.parametrize("where", ["X nan", "X inf", "sparse X nan", "sample_weight nan"])
@pytest.mark.parametrize("estimator", ["logistic", "cv", "multilabel"])
def test_assume_finite_does_not_turn_non_finite_values_into_other_errors_or_dropped_rows(estimator, where):
    """Under config_context(assume_finite=True) the validation lets NaN and infinity through. A NaN or inf in X then
    reached the overflow check, whose words advised dtype='float64' even to a float64 fit; a NaN weight was dropped
    as not positive and the fit went on without its row, silently. Both are refused, in the words scikit-learn uses
    without assume_finite (LogisticRegression itself fits NaN weights to zero coefficients there, with a
    ConvergenceWarning)."""
    import sklearn
    from sklearn.linear_model import LogisticRegression

    from torchlogit import TorchLogisticClassifierCV

    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    y = (X[:, 0] > 0).astype(int)
    weights = None
    if where == "sample_weight nan":
        weights = np.r_[np.nan, np.ones(59)]
    else:
        X[3, 1] = np.nan if "nan" in where else np.inf
        X = sp.csr_matrix(X) if "sparse" in where else X
    with pytest.raises(ValueError) as reference:  # scikit-learn's words, checked as it checks by default
        LogisticRegression().fit(X, y, sample_weight=weights)
    model = {
        "logistic": TorchLogisticClassifier(dtype="float64"),
        "cv": TorchLogisticClassifierCV(cv=3, Cs=2),
        "multilabel": TorchMultiLabelClassifier(),
    }[estimator]
    target = np.c_[y, 1 - y] if estimator == "multilabel" else y
    with pytest.raises(ValueError) as expected:  # ours by default: scikit-learn's, naming our estimator
        model.fit(X, target, sample_weight=weights)
    assert str(expected.value).replace(type(model).__name__, "LogisticRegression") == str(reference.value)
    with sklearn.config_context(assume_finite=True), pytest.raises(ValueError) as ours:
        model.fit(X, target, sample_weight=weights)
    assert str(ours.value) == str(expected.value)
