"""ONNX: skl2onnx converters (torchlogit.onnx) and est.to_onnx (torch.onnx.export), checked with onnxruntime.

Each case: max |Δproba| <= 1e-5 against predict_proba with float32 inputs (float64: 1e-12), labels equal to
predict's.
"""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from torchlogit import TorchLogisticClassifier, TorchLogisticClassifierCV, TorchMultiLabelClassifier

rt = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")
pytest.importorskip("torchlogit.onnx")  # registers the converters


def _cases():
    X, y = load_iris(return_X_y=True)
    Xm, Y = make_multilabel_classification(n_samples=100, n_features=6, n_classes=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return {
            "binary": (TorchLogisticClassifier().fit(X, y == 1), X),
            "binary strings": (TorchLogisticClassifier().fit(X, np.array(["no", "yes"])[(y == 1).astype(int)]), X),
            "multinomial": (TorchLogisticClassifier(C=10.0).fit(X, y), X),
            "multilabel": (TorchMultiLabelClassifier(threshold=[0.3, 0.5, 0.7]).fit(Xm, Y), Xm),
            "multilabel hidden": (
                TorchMultiLabelClassifier((8, 4), activation="tanh", max_iter=30, random_state=0).fit(Xm, Y),
                Xm,
            ),
            "hidden 1-D y": (TorchMultiLabelClassifier((5,), max_iter=30, random_state=0).fit(X, y), X),
            "pipeline": (make_pipeline(StandardScaler(), TorchLogisticClassifier()).fit(X, y), X),
            # LogisticRegressionCV converts with skl2onnx; so does its counterpart (its refitted model)
            "cv": (TorchLogisticClassifierCV(Cs=3, cv=3).fit(X, y), X),
            "cv pipeline": (make_pipeline(StandardScaler(), TorchLogisticClassifierCV(Cs=3, cv=3)).fit(X, y), X),
        }


CASES = _cases()


def _run(onx, X):
    session = rt.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X})


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype, atol", [(np.float32, 1e-5), (np.float64, 1e-12)])
def test_skl2onnx_matches_predict_proba_and_predict(name, dtype, atol):
    model, X = CASES[name]
    onx = skl2onnx.to_onnx(model, X[:1].astype(dtype), options={"zipmap": False})
    label, proba = _run(onx, X.astype(dtype))
    assert np.abs(proba - model.predict_proba(X)).max() <= atol
    np.testing.assert_array_equal(label, model.predict(X))


@pytest.mark.parametrize("name", sorted(CASES))
def test_skl2onnx_raw_scores_are_the_decision_function_as_for_logistic_regression(name):
    """skl2onnx's ``raw_scores`` option (refused by name before): the scores in place of the probabilities, laid
    out as skl2onnx lays out LogisticRegression's (binary: the two columns -score, score)."""
    from sklearn.linear_model import LogisticRegression

    model, X = CASES[name]
    options = {"zipmap": False, "raw_scores": True}
    if hasattr(model, "steps"):  # in a pipeline, skl2onnx takes this option by the estimator's class (LR's too)
        options = {type(model[-1]): options}
    label, scores = _run(skl2onnx.to_onnx(model, X[:1], options=options), X)
    decision = model.decision_function(X)
    if decision.ndim == 1:
        decision = np.column_stack([-decision, decision])
        reference = LogisticRegression().fit(X, model.predict(X))
        _, reference_scores = _run(skl2onnx.to_onnx(reference, X[:1], options={"zipmap": False, "raw_scores": True}), X)
        np.testing.assert_allclose(reference_scores[:, 1], reference.decision_function(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(scores, decision, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(label, model.predict(X))


@pytest.mark.parametrize("name", ["binary strings", "multinomial", "pipeline"])
def test_skl2onnx_zipmap_gives_a_dict_per_row_as_for_logistic_regression(name):
    model, X = CASES[name]
    label, rows = _run(skl2onnx.to_onnx(model, X[:1].astype(np.float32)), X.astype(np.float32))
    classes = model[-1].classes_ if hasattr(model, "steps") else model.classes_
    proba = np.array([[row[c] for c in classes] for row in rows])
    assert np.abs(proba - model.predict_proba(X)).max() <= 1e-5
    np.testing.assert_array_equal(label, model.predict(X))


@pytest.mark.parametrize("name", ["binary", "multinomial", "multilabel", "multilabel hidden", "hidden 1-D y", "cv"])
def test_to_onnx_needs_no_skl2onnx(name, tmp_path):
    model, X = CASES[name]
    path = tmp_path / "model.onnx"
    assert model.to_onnx(path) is model
    session = rt.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    label, proba = session.run(["label", "probabilities"], {"X": X.astype(np.float32)})
    assert np.abs(proba - model.predict_proba(X)).max() <= 1e-5
    np.testing.assert_array_equal(label, model.predict(X))


def test_to_onnx_refuses_string_labels_and_points_to_skl2onnx(tmp_path):
    model, _ = CASES["binary strings"]
    with pytest.raises(ValueError, match="skl2onnx"):
        model.to_onnx(tmp_path / "model.onnx")


def test_float_labels_export_as_logistic_regression_s():
    """A float ``y`` of integral values (as read from a CSV) gives float ``classes_``, which skl2onnx exports for
    ``LogisticRegression`` as int64 labels: ours export the same, and both graphs predict alike."""
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    y = (y * 2.0 - 1.0).astype(np.float64)  # -1.0, 1.0, 3.0
    ours, ref = TorchLogisticClassifier().fit(X, y), LogisticRegression(max_iter=1000).fit(X, y)
    labels = {}
    for model in (ours, ref):
        onx = skl2onnx.to_onnx(model, X[:1].astype(np.float32), options={"zipmap": False})
        labels[type(model).__name__] = _run(onx, X.astype(np.float32))[0]
        np.testing.assert_array_equal(labels[type(model).__name__], model.predict(X))
    assert labels["TorchLogisticClassifier"].dtype == labels["LogisticRegression"].dtype == np.int64


@pytest.mark.parametrize("export", ["skl2onnx", "to_onnx"])
def test_labels_outside_int64_are_refused_not_wrapped(export, tmp_path):
    """uint64 labels at or above 2**63 (64-bit hashed ids) would wrap to negative int64 labels in the graph:
    refused, with the labels named, as skl2onnx refuses them for ``LogisticRegression``."""
    X, y = load_iris(return_X_y=True)
    ids = np.array([11, 2**63, 2**64 - 1], dtype=np.uint64)
    model = TorchLogisticClassifier().fit(X, ids[y])
    with pytest.raises(ValueError, match="outside its range"):
        if export == "skl2onnx":
            skl2onnx.to_onnx(model, X[:1].astype(np.float32))
        else:
            model.to_onnx(tmp_path / "model.onnx")
    small = TorchLogisticClassifier().fit(X, ids[y].astype(np.int64) % 1000)  # inside int64: exported
    label = _run(skl2onnx.to_onnx(small, X[:1].astype(np.float32), options={"zipmap": False}), X.astype(np.float32))[0]
    np.testing.assert_array_equal(label, small.predict(X))


@pytest.mark.parametrize("name", ["binary", "multinomial", "multilabel", "cv"])
def test_integer_and_boolean_samples_are_cast_to_float32_as_logistic_regression_s(name):
    """Count features (int64) or flags (bool): skl2onnx's LogisticRegression casts the input to float; ours cast
    the weights to int64 (truncating them) and onnxruntime refused the graph (Sigmoid/Softmax of int64)."""
    model, X = CASES[name]
    counts = np.rint(X).astype(np.int64)
    for sample in (counts, counts > counts.mean(0)):
        onx = skl2onnx.to_onnx(model, sample[:1], options={"zipmap": False})
        label, proba = _run(onx, sample)
        assert proba.dtype == np.float32
        assert np.abs(proba - model.predict_proba(sample.astype(np.float64))).max() <= 1e-5
        np.testing.assert_array_equal(label, model.predict(sample.astype(np.float64)))


def test_a_sample_of_several_inputs_is_refused_at_conversion_as_for_logistic_regression():
    """A DataFrame sample gives skl2onnx one input per column: LogisticRegression's converter refuses it; ours
    used the first column and the graph failed in onnxruntime (MatMul: incompatible dimensions)."""
    pd = pytest.importorskip("pandas")
    model, X = CASES["multinomial"]
    frame = pd.DataFrame(X[:1], columns=list("abcd"))
    with pytest.raises(RuntimeError, match="at most 1 input"):
        skl2onnx.to_onnx(model, frame)


def test_skl2onnx_nocl_labels_are_class_indices_from_zero():
    """skl2onnx's ``nocl=True`` (as for LogisticRegression): the label output is the index of the predicted class in
    ``classes_``, counted from 0 (seeded bug 225)."""
    X, y = load_iris(return_X_y=True)
    for labels in (y + 10, y == 1):  # multinomial, binary
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = TorchLogisticClassifier(C=10.0).fit(X, labels)
        onx = skl2onnx.to_onnx(model, X[:1], options={"zipmap": False, "nocl": True})
        label, proba = _run(onx, X)
        np.testing.assert_array_equal(label, np.searchsorted(model.classes_, model.predict(X)))
        assert np.abs(proba - model.predict_proba(X)).max() <= 1e-12


def test_non_integral_float_labels_are_not_truncated_to_int64():
    """[0.0, 0.5] is not a set of integer labels: astype(int64) would make both 0 (the graph would predict 0
    where the model predicts 0.5)."""
    from torchlogit._export import integer_labels

    assert integer_labels(np.array([0.0, 0.5])) is None
    assert integer_labels(np.array([0.5, 1.0, 2.0])) is None
    np.testing.assert_array_equal(integer_labels(np.array([0.0, 2.0])), [0, 2])


@pytest.mark.parametrize("export", ["skl2onnx", "to_onnx"])
def test_the_uint64_label_two_to_the_63_is_refused_not_wrapped(export, tmp_path):
    """2**63 is the first uint64 outside int64: the boundary of the range check (2**64 - 1 is far past it)."""
    import skl2onnx

    import torchlogit.onnx  # noqa: F401

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    ids = np.array([11, 2**63], dtype=np.uint64)
    model = TorchLogisticClassifier().fit(X, ids[(X[:, 0] > 0).astype(int)])
    with pytest.raises(ValueError, match="outside its range"):
        if export == "skl2onnx":
            skl2onnx.to_onnx(model, X[:1].astype(np.float32))
        else:
            model.to_onnx(tmp_path / "model.onnx")


def test_to_onnx_writes_opset_17(tmp_path):
    """The exporter's opset (17: onnxruntime >= 1.14 runs it): a silent change of the default changes which
    runtimes can load every user's exported file."""
    import onnx

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    TorchLogisticClassifier().fit(X, X[:, 0] > 0).to_onnx(tmp_path / "m.onnx")
    opsets = {o.domain: o.version for o in onnx.load(tmp_path / "m.onnx").opset_import}
    assert opsets[""] == 17


def test_skl2onnx_nocl_with_string_labels_outputs_int64_indices_as_logistic_regression():
    """nocl=True with string labels: the label output is int64 class indices (declared so, not as strings), as
    skl2onnx gives LogisticRegression's."""
    import onnxruntime as rt
    import skl2onnx
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    import torchlogit.onnx  # noqa: F401

    X, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    outputs = {}
    for model in (TorchLogisticClassifier(), LogisticRegression(max_iter=1000)):
        model.fit(X, labels)
        onx = skl2onnx.to_onnx(model, X[:1].astype(np.float32), options={"zipmap": False, "nocl": True})
        assert onx.graph.output[0].type.tensor_type.elem_type == 7  # INT64
        session = rt.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
        label = session.run(None, {"X": X.astype(np.float32)})[0]
        np.testing.assert_array_equal(label, np.searchsorted(model.classes_, model.predict(X)))
        outputs[type(model).__name__] = label.dtype
    assert outputs["TorchLogisticClassifier"] == outputs["LogisticRegression"] == np.int64


def _to_onnx_run(model, X, path):
    model.to_onnx(path)
    session = rt.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["label", "probabilities"], {"X": X.astype(np.float32)})


# (mutation survey h2, E12: _ACTIVATIONS["logistic"] = torch.tanh; relu and tanh were the only ones exported)
@pytest.mark.parametrize("activation", ["logistic", "identity", "relu", "tanh"])
def test_to_onnx_follows_every_hidden_activation(activation, tmp_path):
    X, Y = make_multilabel_classification(n_samples=60, n_features=5, n_classes=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = TorchMultiLabelClassifier((4,), activation=activation, max_iter=20, random_state=0).fit(X, Y)
    label, proba = _to_onnx_run(model, X, tmp_path / "m.onnx")
    assert np.abs(proba - model.predict_proba(X)).max() <= 1e-5
    np.testing.assert_array_equal(label, model.predict(X))


def test_both_exports_refuse_an_activation_set_after_fit_that_names_none(tmp_path):
    """``set_params(activation="reLU")`` after fit: both exports failed with a raw ``KeyError: 'reLU'``; refused in
    fit's words, as predict refuses it (tests/test_fitted_state.py)."""
    from sklearn.utils._param_validation import InvalidParameterError

    X, Y = make_multilabel_classification(n_samples=60, n_features=5, n_classes=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = TorchMultiLabelClassifier((4,), max_iter=20, random_state=0).fit(X, Y)
    model.set_params(activation="reLU")
    with pytest.raises(InvalidParameterError, match="The 'activation' parameter .* Got 'reLU' instead"):
        model.to_onnx(tmp_path / "m.onnx")
    with pytest.raises(InvalidParameterError, match="The 'activation' parameter .* Got 'reLU' instead"):
        skl2onnx.to_onnx(model, X[:1].astype(np.float32))


# (mutation survey h2, E02: `H >= self.cut` in _export._Exported.forward)
def test_the_exported_multilabel_graph_breaks_a_threshold_tie_as_predict(tmp_path):
    """A probability exactly at the threshold is a 0 for predict (``logits > logit(threshold)``, as MLPClassifier's
    ``proba > 0.5``), and so in the graph."""
    model, X = CASES["multilabel"]
    model = TorchMultiLabelClassifier(**model.get_params()).fit(X, model.predict(X))
    model.coef_, model.intercept_ = np.zeros_like(model.coef_), np.zeros_like(model.intercept_)
    model.set_params(threshold=0.5)
    assert not model.predict(X).any()
    label, proba = _to_onnx_run(model, X, tmp_path / "m.onnx")
    np.testing.assert_array_equal(proba, 0.5)
    np.testing.assert_array_equal(label, model.predict(X))


# (mutation survey h2, E04: `-(2**63) < min` in _export.integer_labels; the upper edge, 2**63, is tested above)
def test_to_onnx_exports_the_int64_minimum_label(tmp_path):
    X = np.random.default_rng(0).normal(size=(60, 3))
    ids = np.array([-(2**63), 2**63 - 1], dtype=np.int64)
    model = TorchLogisticClassifier().fit(X, ids[(X[:, 0] > 0).astype(int)])
    label, proba = _to_onnx_run(model, X, tmp_path / "m.onnx")
    np.testing.assert_array_equal(label, model.predict(X))
    assert np.abs(proba - model.predict_proba(X)).max() <= 1e-5


@pytest.mark.parametrize("export", ["to_onnx", "skl2onnx"])
def test_an_export_refuses_a_threshold_a_1d_model_would_ignore_as_predict_does(export, tmp_path):
    """A multi-label classifier fitted on 1-D y predicts the most probable class: ``threshold`` set after the fit is
    refused by predict and save, but both exports wrote a graph that cut at 0.5, silently (mutation survey h2)."""
    model, X = CASES["hidden 1-D y"]
    model = clone(model).set_params(max_iter=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, load_iris(return_X_y=True)[1]).set_params(threshold=0.3)
    match = "threshold applies to multi-label"
    with pytest.raises(ValueError, match=match):
        model.predict(X)
    with pytest.raises(ValueError, match=match):
        if export == "to_onnx":
            model.to_onnx(tmp_path / "m.onnx")
        else:
            skl2onnx.to_onnx(model, X[:1].astype(np.float32))
    assert not (tmp_path / "m.onnx").exists()


def test_onnx_labels_take_the_integral_float_minus_two_to_the_63():
    """-2**63 is the lowest int64: a label the graph holds; below it, refused naming the label beyond."""
    from torchlogit._export import integer_labels

    labels = integer_labels(np.array([-(2.0**63), 0.0, 1.0]))
    assert labels.dtype == np.int64 and labels.tolist() == [-(2**63), 0, 1]
    with pytest.raises(ValueError, match=r"holds -1.8\d*e\+19, outside"):
        integer_labels(np.array([-(2.0**64), 0.0]))  # below it: refused, not wrapped


def test_skl2onnx_refuses_a_string_sample_as_for_logistic_regression():
    """skl2onnx refuses a string sample for LogisticRegression (the graph would parse text as numbers): so for ours."""
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    sample = X[:1].astype(str)
    with pytest.raises(RuntimeError) as reference:
        to_onnx(LogisticRegression(max_iter=200).fit(X, y), sample)
    with pytest.raises(RuntimeError) as ours:
        to_onnx(TorchLogisticClassifier(max_iter=20).fit(X, y), sample)
    assert "StringTensorType" in str(reference.value) and "StringTensorType" in str(ours.value)


def test_skl2onnx_declares_the_multilabel_label_output_as_a_matrix():
    """The multi-label graph's label output is declared (N, n_labels), as it is computed (a consumer reading the
    signature sizes its buffers from it)."""
    from skl2onnx import to_onnx

    X, Y = make_multilabel_classification(n_samples=40, n_features=5, n_classes=3, random_state=0)
    model = TorchMultiLabelClassifier(max_iter=20).fit(X, Y)
    onx = to_onnx(model, X[:1].astype(np.float32), options={"zipmap": False})
    dims = {o.name: o.type.tensor_type.shape.dim for o in onx.graph.output}
    assert len(dims["label"]) == 2 and dims["label"][1].dim_value == 3
    assert len(dims["probabilities"]) == 2 and dims["probabilities"][1].dim_value == 3
