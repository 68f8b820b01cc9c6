"""`torchlogit compare` / `python -m torchlogit`: the side-by-side report, its explanations and its errors."""

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler

import torchlogit._threads
from torchlogit import TorchLogisticClassifier, _compare
from torchlogit._compare import REF, build_parser, explain, float64_objective, main

from .conftest import compared_rows

VERSION_KEYS = {"torchlogit", "torch", "sklearn", "numpy", "python"}
MODEL_KEYS = {
    "solver",
    "dtype",
    "tol",
    "max_iter",
    "iterations",
    "objective",
    "accuracy",
    "log_loss",
    "fit_time",
    "predict_time",
    "warnings",
}


def run_json(capsys, *args):
    assert main(["compare", *args, "--json"]) == 0
    captured = capsys.readouterr()
    return json.loads(captured.out), captured.err


def test_json_report_states_matched_settings_objectives_and_versions(capsys):
    report, _ = run_json(capsys, "--dataset", "iris")
    assert set(report["models"]) == {"TorchLogisticClassifier", "LogisticRegression"}
    for row in report["models"].values():
        assert MODEL_KEYS <= set(row)
        # the same stopping rule for both: scikit-learn's defaults, not max_iter=1000 for one of them
        assert (row["tol"], row["max_iter"]) == (1e-4, 100)
        assert 0 < row["iterations"] <= 100
        # no model can beat the tight optimum by more than its own rounding
        assert row["objective"] >= report["tight_optimum"]["objective"] - 1e-12
    assert report["settings"]["tol"] == 1e-4 and report["settings"]["max_iter"] == 100
    assert report["tight_optimum"]["tol"] == 1e-10 and report["tight_optimum"]["converged"]
    assert set(report["versions"]) == VERSION_KEYS
    assert report["agreement"]["max_abs_proba_diff"] < 0.05 and report["agreement"]["explanation"]
    assert report["dataset"] == "iris" and report["n_features"] == 4 and report["n_classes"] == 3


@pytest.mark.parametrize("n_classes", [2, 3])
def test_float64_objective_equals_sklearns_loss_plus_penalty(n_classes):
    X, y = load_wine(return_X_y=True)
    keep = y < n_classes
    X, y = (X[keep] - X[keep].mean(0)) / X[keep].std(0), y[keep]
    model = LogisticRegression(C=0.3).fit(X, y)
    expected = log_loss(y, model.predict_proba(X)) + np.sum(model.coef_**2) / (2 * 0.3 * len(y))
    got = float64_objective(X, y, model.coef_, model.intercept_, model.classes_, 0.3)
    assert got == pytest.approx(expected, rel=1e-12)


def test_tight_tolerance_in_float64_agrees_and_says_so(capsys):
    report, _ = run_json(capsys, "--dataset", "breast_cancer", "--dtype", "float64", "--tol", "1e-8")
    assert report["models"]["TorchLogisticClassifier"]["tol"] == 1e-8
    assert report["agreement"]["max_abs_proba_diff"] < 1e-5
    assert report["agreement"]["explanation"].startswith("Both reach the same optimum")


def test_default_tolerance_gap_is_explained_by_tol(capsys):
    # digits: both stop at tol=1e-4 at different points (breast cancer, wine and iris: the same path, 5e-6 apart)
    report, _ = run_json(capsys, "--dataset", "digits")
    assert report["agreement"]["max_abs_proba_diff"] > 1e-4
    assert "Both stop at tol=0.0001" in report["agreement"]["explanation"]


def test_separable_data_without_penalty_is_flagged(capsys):
    report, _ = run_json(capsys, "--dataset", "breast_cancer", "--C", "inf")
    assert report["tight_optimum"]["separable"]
    assert "separable" in report["agreement"]["explanation"]


def test_different_solver_is_explained(capsys):
    report, _ = run_json(capsys, "--dataset", "wine", "--solver", "adam", "--max-iter", "1000")
    assert report["models"]["TorchLogisticClassifier"]["solver"] == "adam"
    assert report["models"]["TorchLogisticClassifier"]["iterations"] < 1000  # it stopped on tol
    assert report["agreement"]["explanation"].startswith("Different solvers: our adam")


def test_max_iter_is_the_explanation_when_a_mini_batch_solver_reaches_it(capsys):
    """... and raising it alone does not bring a mini-batch run onto the optimum: --solver lbfgs is named too (adam on
    breast cancer stops by itself 3.7e-3 above it)."""
    report, _ = run_json(capsys, "--dataset", "wine", "--solver", "adam", "--max-iter", "5")
    explanation = report["agreement"]["explanation"]
    assert "reached max_iter=5" in explanation and "--solver lbfgs" in explanation


def test_only_scikit_learn_reaching_max_iter_is_not_blamed_on_our_mini_batch_solver():
    """Where only LogisticRegression ran out of iterations, our adam run stopped on its own: the advice is to raise
    --max-iter, and adam's stopping near the optimum is not given as the reason (it named our mini-batch solver and
    --solver lbfgs for scikit-learn's lbfgs running out)."""
    rows = {
        "TorchLogisticClassifier": dict(objective=0.1, reached_max_iter=False, solver="adam", max_iter=100, tol=1e-4),
        "LogisticRegression": dict(objective=0.1, reached_max_iter=True, solver="lbfgs", max_iter=100, tol=1e-4),
    }
    text = _compare.explain(rows, {"max_abs_proba_diff": 1e-3}, {"objective": 0.09, "separable": False}, C=1.0)
    assert text.startswith("LogisticRegression reached max_iter=100 before meeting tol=0.0001, so it stops short")
    assert text.endswith("; raise --max-iter.") and "mini-batch" not in text


def test_json_stays_strict_json_with_an_infinite_C(capsys):
    assert main(["compare", "--dataset", "iris", "--C", "inf", "--json"]) == 0
    out = capsys.readouterr().out

    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    report = json.loads(out, parse_constant=refuse)
    assert report["settings"]["C"] == "inf"


@pytest.mark.parametrize("what", ["directory", "plot suffix"])
def test_unreadable_input_and_unwritable_plot_formats_fail_in_one_line(what, tmp_path, capsys):
    if what == "plot suffix":
        pytest.importorskip("matplotlib")  # --plot's extra (docs), not the test extra's
    args = ["--csv", str(tmp_path), "--target", "label"] if what == "directory" else ["--plot", str(tmp_path / "p.txt")]
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", "--dataset", "iris", *args] if what != "directory" else ["compare", *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("torchlogit compare: error: cannot ")


def test_newton_cholesky_compares_like_with_like(capsys):
    """--solver newton-cholesky: scikit-learn runs its own newton-cholesky, not lbfgs, and both reach one optimum."""
    report, _ = run_json(capsys, "--dataset", "wine", "--solver", "newton-cholesky", "--dtype", "float64")
    ours, ref = report["models"]["TorchLogisticClassifier"], report["models"]["LogisticRegression"]
    assert ours["solver"] == ref["solver"] == "newton-cholesky"
    assert ours["objective"] == pytest.approx(ref["objective"], rel=0, abs=1e-9)
    assert report["agreement"]["explanation"].startswith("Both reach the same optimum")


def _rows(ours_time, ref_time, iterations=(20, 10), solvers=("lbfgs", "lbfgs")):
    times = (ours_time, ref_time)
    names = ("TorchLogisticClassifier", "LogisticRegression")
    return {
        name: dict(fit_time=t, iterations=n, solver=s)
        for name, t, n, s in zip(names, times, iterations, solvers, strict=True)
    }


def test_timing_is_explained_per_iteration_when_sklearn_is_faster():
    text = _compare.explain_timing(_rows(0.01, 0.002), (426, 30))
    assert text.startswith("Timing: scikit-learn fit faster here (2.0 against 10.0 ms)")
    assert "426 training rows of 30 features" in text
    assert "0.50 against 0.20 ms of fit time per iteration" in text
    assert "--dataset synthetic --n-samples 300000 --n-features 100" in text
    assert _compare.explain_timing(_rows(0.002, 0.01), (426, 30)) is None  # faster: nothing to explain
    # An epoch of a mini-batch solver is not an L-BFGS iteration: no per-iteration comparison then.
    text = _compare.explain_timing(_rows(0.1, 0.002, (100, 18), ("adam", "lbfgs")), (426, 30))
    assert "(adam: 100 epochs; lbfgs: 18 iterations)" in text and "per iteration" not in text
    # With no iteration on either side (--tol 10) the fit times are set-up alone: no cost per iteration.
    for iterations in ((0, 0), (0, 3), (3, 0)):
        text = _compare.explain_timing(_rows(0.0013, 0.0007, iterations), (426, 30))
        assert text.startswith("Timing: scikit-learn fit faster here (0.7 against 1.3 ms)")
        assert "per iteration" not in text and "setting up the fit" in text


def test_predictions_are_timed_best_of_several_runs(monkeypatch):
    """predict_proba was timed once: on a busy machine the table's predict row (and --plot's bars) read 5-17 ms
    for a 0.4 ms call. Now the best of the runs the budget allows, as the fits."""
    durations = iter([0.017, 0.0004, 0.003, 0.002, 0.005, 9.0])
    clock = [0.0]
    monkeypatch.setattr(_compare.time, "perf_counter", lambda: clock[0])

    class Model:
        def predict_proba(self, X):
            clock[0] += next(durations)
            return np.full((len(X), 2), 0.5)

    proba, seconds = _compare._predict_timed(Model(), np.zeros((3, 1)))
    assert seconds == pytest.approx(0.0004) and proba.shape == (3, 2)
    assert next(durations) == 9.0  # TIMING_RUNS calls, not more


def test_mps_is_refused_before_fitting(monkeypatch, capsys):
    """compare trains, and training on MPS is refused: --device mps (listed in --help) failed only after "fitting
    both models" was printed. Now refused with the other argument errors; --help no longer offers it."""
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    with pytest.raises(SystemExit) as exit_info:
        main(["--dataset", "wine", "--device", "mps"])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    # one line, the argument error (the progress line "fitting both models on ..." never printed)
    assert captured.err.startswith("torchlogit compare: error: --device 'mps': Training on device='mps'")
    assert len(captured.err.strip().splitlines()) == 1


def test_intercepts_are_compared_too(capsys):
    """At C=1e-300 both models' coefficients are 0 and only their intercepts can differ: the table read
    "max |coef difference| 0.00e+00" while probabilities differed by 0.127. The intercepts have their own line."""
    rows, agreement, _, _ = _compare.compare(*load_iris(return_X_y=True), C=1e-300, progress=False)
    assert agreement["max_abs_coef_diff"] == 0.0
    assert "max_abs_intercept_diff" in agreement
    text = _compare.format_table(rows, agreement)
    assert f"max |intercept difference|:     {agreement['max_abs_intercept_diff']:.2e}" in text


def test_the_intercept_difference_is_the_one_the_probabilities_show():
    """The intercept line must measure the two models' intercepts: a difference taken of one model with itself, or
    of the coefficients, reads 0 while the probabilities differ. With every coefficient 0 the probabilities are the
    softmax of the intercepts, which moves by at most half the intercepts' largest change (its Jacobian's rows sum
    to at most 1/2 in absolute value): the intercept difference is at least twice the probabilities' (10% slack
    for rounding), and not 0."""
    _, agreement, _, _ = _compare.compare(*load_iris(return_X_y=True), C=1e-300, progress=False)
    assert agreement["max_abs_coef_diff"] == 0.0 and agreement["max_abs_proba_diff"] > 0
    assert agreement["max_abs_intercept_diff"] >= 1.8 * agreement["max_abs_proba_diff"]


def test_test_scores_are_of_the_test_rows():
    """The table's accuracy and log-loss score each model's predictions of the held-out rows against their labels:
    predictions of other rows (of as many training rows, say) scored near chance and no test noticed. Standardised
    breast cancer: both models above 0.9 accuracy and below 0.2 log-loss on the test rows (0.958 and 0.086,
    measured)."""
    X, y = load_breast_cancer(return_X_y=True)
    rows, _, _, _ = _compare.compare((X - X.mean(0)) / X.std(0), y, progress=False)
    for row in rows.values():
        assert row["accuracy"] > 0.9 and row["log_loss"] < 0.2


def test_slow_predictions_are_timed_within_the_budget(monkeypatch):
    """Predictions are repeated only while the runs so far take under TIMING_BUDGET_S, as the fits are: without
    the budget a 2 s predict_proba on a large test set ran 5 times (10 s) for one row of the table."""
    durations = iter([0.5, 0.01, 0.2, 0.3, 0.4, 9.0])
    clock = [0.0]
    monkeypatch.setattr(_compare.time, "perf_counter", lambda: clock[0])
    calls = []

    class Model:
        def predict_proba(self, X):
            calls.append(1)
            clock[0] += next(durations)
            return np.full((len(X), 2), 0.5)

    _, seconds = _compare._predict_timed(Model(), np.zeros((3, 1)))
    assert seconds == pytest.approx(0.01) and len(calls) == 4  # 0.5 + 0.01 + 0.2 + 0.3 s: the 1 s budget is spent


def test_fits_are_timed_best_of_several_runs(monkeypatch):
    """One run of a millisecond fit measures the machine's other work: fits under the budget are repeated
    and the best time reported; the warnings are the first fit's."""
    durations = iter([0.5, 0.01, 0.2, 0.3, 0.4, 9.0])
    calls = []

    class Clock:
        def __init__(self):
            self.now = 0.0

        def __call__(self):
            return self.now

    clock = Clock()
    monkeypatch.setattr(_compare.time, "perf_counter", clock)

    class Model(LogisticRegression):
        def fit(self, X, y):
            calls.append(1)
            clock.now += next(durations)
            return self

    seconds, caught = _compare._fit_recording_warnings(Model(), None, None)
    assert seconds == pytest.approx(0.01) and len(calls) == 4  # 0.5 + 0.01 + 0.2 + 0.3 s: the 1 s budget is spent
    assert caught == []


@pytest.mark.parametrize("faster", ["default", "1 BLAS thread"])
def test_sklearn_is_timed_on_its_default_threads_and_on_one_blas_thread(monkeypatch, faster):
    """torchlogit runs small fits on one thread; scikit-learn's BLAS on every core can be ~100x slower on a busy
    machine (breast cancer: 0.25 s against 3 ms). Its fit is timed both ways, under threadpoolctl's limit the
    second time, and the faster is the one reported, with the threads it used."""
    from threadpoolctl import threadpool_info

    real = _compare._fit_recording_warnings
    seen = []

    def timed(model, X, y):
        seconds, caught = real(model, X, y)
        if isinstance(model, LogisticRegression):
            blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
            limited = bool(blas) and max(blas) == 1
            seen.append(limited)
            seconds = 0.001 if limited == (faster == "1 BLAS thread") else 0.5
        return seconds, caught

    monkeypatch.setattr(_compare, "_fit_recording_warnings", timed)
    X, y = load_breast_cancer(return_X_y=True)
    rows, _, _, _ = _compare.compare(X, y, progress=False)
    assert seen == [False, True] or seen == [True, True]  # a one-core machine has one BLAS thread anyway
    assert rows["LogisticRegression"]["fit_time"] == 0.001
    assert rows["LogisticRegression"]["threads"] == faster or seen == [True, True]
    assert rows["TorchLogisticClassifier"]["threads"] == "1 (small data)"
    assert "threads" in _compare.format_table(rows, {"max_abs_proba_diff": 0.0, "max_abs_coef_diff": 0.0})


@pytest.mark.parametrize("faster", ["2", "1 torch thread"])
def test_ours_is_timed_on_torchs_pool_and_on_one_thread_where_the_pool_runs(monkeypatch, faster):
    """As scikit-learn's: data past the small-fit rule train on torch's pool, which on a busy machine waits for its
    slowest thread (300k x 100: 2.6 s against 0.2 s on one thread); the fit is timed both ways and the faster shown.
    Here a pool of 2 is _compare's view of torch (the fits themselves run as they would)."""
    import torch

    class TwoThreadTorch:
        threads = 2

        def get_num_threads(self):
            return self.threads

        def __getattr__(self, name):
            return getattr(torch, name)

    view = TwoThreadTorch()
    real = _compare._fit_recording_warnings
    seen = []

    def timed(model, X, y):
        # Inside the small-fit rule's one-thread block (torchlogit._threads.threads_for), or on the pool.
        one = getattr(torchlogit._threads._local, "outer", None) is not None
        seconds, caught = real(model, X, y)
        if isinstance(model, TorchLogisticClassifier):
            seen.append(1 if one else view.threads)
            seconds = 0.001 if one == (faster == "1 torch thread") else 0.5
        return seconds, caught

    monkeypatch.setattr(_compare, "_fit_recording_warnings", timed)
    monkeypatch.setattr(_compare, "torch", view)
    monkeypatch.setattr(_compare, "on_one_thread", lambda n_values: False)  # as for data past the small-fit rule
    X, y = load_breast_cancer(return_X_y=True)
    rows, _, _, _ = _compare.compare(X, y, progress=False)
    assert seen == [2, 1] and getattr(torchlogit._threads._local, "outer", None) is None  # the pool given back
    assert rows["TorchLogisticClassifier"]["fit_time"] == 0.001
    assert rows["TorchLogisticClassifier"]["threads"] == faster


def test_an_imbalanced_split_is_compared_whatever_its_first_rows(monkeypatch):
    """The untimed warm-up fit took the first 50 training rows: on 1000 rows with 10 positives (seed 0) they held no
    positive, and its "only one class" error was reported as the data's. It takes rows of every class (and a
    warm-up that fails is not the run's failure)."""
    fitted_classes = []

    class Recording(TorchLogisticClassifier):
        def fit(self, X, y, sample_weight=None):
            fitted_classes.append(len(np.unique(y)))
            return super().fit(X, y, sample_weight=sample_weight)

    monkeypatch.setattr(_compare, "TorchLogisticClassifier", Recording)
    rng = np.random.RandomState(0)
    X = rng.randn(1000, 3)
    y = np.zeros(1000, dtype=int)
    y[rng.choice(1000, 10, replace=False)] = 1
    rows, _, _, _ = _compare.compare(X, y, progress=False)
    assert set(rows) == {"TorchLogisticClassifier", "LogisticRegression"}
    assert fitted_classes[0] == 2  # the warm-up saw both classes


def test_one_class_separated_from_the_others_has_no_optimum(capsys):
    """In iris's training split setosa is separated from the other classes: without a penalty the reference's
    coefficients still grow as its tolerance is tightened (28.9 at 1e-10, 40.4 at 1e-14), though its objective
    stays above 0. It was reported as an optimum both models sat below."""
    report, _ = run_json(capsys, "--dataset", "iris", "--C", "inf", "--dtype", "float64", "--tol", "1e-8")
    assert report["tight_optimum"]["separable"] and report["tight_optimum"]["growth"] > 1e-2
    assert report["agreement"]["explanation"].startswith("The training data are separable")
    report, _ = run_json(capsys, "--dataset", "synthetic", "--n-samples", "3000", "--C", "inf", "--dtype", "float64")
    assert not report["tight_optimum"]["separable"] and report["tight_optimum"]["growth"] < 1e-6


def test_table_shows_time_per_iteration_and_the_timing_note(capsys, monkeypatch):
    # The note depends on this machine's timings: patched, so that the test sees where the table puts it.
    monkeypatch.setattr(_compare, "explain_timing", lambda rows, shape, small: "Timing: explained.")
    assert main(["--dataset", "wine"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("  per iteration (ms)"))
    assert len(row.split()) == 5  # the label's three words and one value per model
    assert out.rstrip().endswith("Timing: explained.")


def test_max_iter_reached_is_explained_and_warnings_are_one_line(capsys):
    report, err = run_json(capsys, "--dataset", "wine", "--max-iter", "2")
    assert all(row["iterations"] == 2 and row["reached_max_iter"] for row in report["models"].values())
    assert "reached max_iter=2" in report["agreement"]["explanation"]
    warning_lines = [line for line in err.splitlines() if "ConvergenceWarning" in line]
    assert len(warning_lines) == 2  # one per model, each a single line
    assert all(line.startswith("torchlogit compare: warning (") for line in warning_lines)
    assert "self." not in err and ".py:" not in err  # no source lines, no file:line prefixes


def test_table_report_lists_settings_side_by_side(capsys):
    assert main(["--dataset", "wine", "--dtype", "float64", "--C", "0.5"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    for label in ("solver", "dtype", "tol", "max_iter", "iterations used", "objective (float64)", "largest gradient"):
        row = next(line for line in lines if line.startswith(label))
        assert len(row.split()) >= 3, row  # the label and one value per model
    assert "tight optimum" in captured.out and "max |predict_proba difference|" in captured.out
    assert "fitting both models on wine" in captured.err


def test_progress_lines_for_long_fits(capsys, monkeypatch):
    monkeypatch.setattr(_compare, "PROGRESS_AFTER_S", 0.0)
    monkeypatch.setattr(_compare, "PROGRESS_EVERY_S", 0.0)
    assert main(["--dataset", "iris", "--max-iter", "5", "--json"]) == 0
    err = capsys.readouterr().err
    assert "TorchLogisticClassifier: epoch 1," in err and "TorchLogisticClassifier: epoch 5," in err


@pytest.mark.parametrize("n_features", [1, 7])
def test_synthetic_size_options(capsys, n_features):
    """Any --n-features the option accepts (at least 1) makes a dataset, one feature included."""
    report, _ = run_json(capsys, "--dataset", "synthetic", "--n-samples", "300", "--n-features", str(n_features))
    assert (report["n_samples"], report["n_features"]) == (300, n_features)


@pytest.fixture
def csv_path(tmp_path):
    data = load_breast_cancer(as_frame=True).frame
    path = tmp_path / "cancer.csv"
    data.to_csv(path, index=False)
    return path


def test_csv_input(csv_path, capsys):
    report, _ = run_json(capsys, "--csv", str(csv_path), "--target", "target")
    assert report["n_features"] == 30


@pytest.fixture
def bad_csvs(tmp_path):
    text = tmp_path / "text.csv"
    pd.DataFrame({"word": ["a", "b"] * 10, "x": np.arange(20), "target": [0, 1] * 10}).to_csv(text, index=False)
    continuous = tmp_path / "continuous.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame({"x": rng.normal(size=120), "price": rng.normal(size=120)}).to_csv(continuous, index=False)
    missing = tmp_path / "missing.csv"
    frame = pd.DataFrame({"a": np.arange(20.0), "b": np.arange(20.0), "target": [0, 1] * 10})
    frame.loc[3, "b"] = np.nan
    frame.to_csv(missing, index=False)
    header = tmp_path / "header.csv"
    header.write_text("a,b,target\n")
    infinite = tmp_path / "infinite.csv"
    pd.DataFrame({"a": np.arange(20.0), "target": [0.0, 1.0] * 9 + [np.inf, 1.0]}).to_csv(infinite, index=False)
    only_target = tmp_path / "only_target.csv"
    pd.DataFrame({"target": [0, 1] * 10}).to_csv(only_target, index=False)
    return {
        "text_csv": text,
        "continuous_csv": continuous,
        "missing_csv": missing,
        "header_csv": header,
        "only_target_csv": only_target,
        "infinite_csv": infinite,
    }


@pytest.mark.parametrize(
    "args, message",
    [
        (["--csv", "/no/such/file.csv", "--target", "y"], "no such file"),
        (["--csv", "{csv}", "--target", "nope"], "column 'nope' is not in"),
        (["--csv", "{csv}"], "--csv needs --target"),
        (["--target", "target"], "--target needs --csv"),
        (["--csv", "{text_csv}", "--target", "target"], "non-numeric feature columns"),
        (["--csv", "{continuous_csv}", "--target", "price"], "is continuous (120 distinct float values)"),
        (["--csv", "{missing_csv}", "--target", "target"], "feature column(s) ['b']"),
        (["--dataset", "iris", "--n-samples", "100"], "--n-samples and --n-features need --dataset synthetic"),
        (["--dataset", "wine", "--tol", "0"], "--tol must be positive"),
        (["--dataset", "wine", "--test-size", "1"], "--test-size must be between 0 and 1, got 1.0"),
        (["--dataset", "synthetic", "--n-samples", "19"], "--n-samples must be at least 20, got 19"),
        (["--dataset", "wine", "--tol", "inf"], "--tol must be positive and finite"),
        (["--csv", "{header_csv}", "--target", "target"], "has a header but no data rows"),
        (["--csv", "{infinite_csv}", "--target", "target"], "infinite.csv has 1 infinite values"),
        (["--csv", "{only_target_csv}", "--target", "target"], "has no feature columns besides --target 'target'"),
        (["--dataset", "wine", "--random-state", "-1"], "--random-state must be between 0 and 4294967295"),
        (["--dataset", "wine", "--device", "gpu"], "--device 'gpu': The 'device' parameter of TorchLogisticClassifier"),
        (["--dataset", "wine", "--plot", "/nonexistent/dir/x.png"], "directory /nonexistent/dir does not exist"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args, message, csv_path, bad_csvs, capsys):
    args = [a.format(csv=csv_path, **bad_csvs) for a in args]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("torchlogit compare: error:")


# One CUDA device past the last this machine has (cuda:0 where it has none): never there, on any machine.
_MISSING_CUDA = f"cuda:{torch.cuda.device_count()}"


@pytest.mark.parametrize(
    "args, message",
    [
        # found by the warm-up fit, after "fitting both models on ..." was printed, in the estimator's words
        (["--device", _MISSING_CUDA], f"--device '{_MISSING_CUDA}': device='{_MISSING_CUDA}' was requested but"),
        (["--plot", "/nonexistent/dir/x.png"], "directory /nonexistent/dir does not exist"),
    ],
)
def test_a_bad_device_or_plot_path_fails_before_fitting(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--dataset", "wine", *args])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert "fitting both models" not in captured.err and captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and message in captured.err


def test_plot_that_fails_to_save_still_prints_the_table(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_compare, "plot", full_disk)  # the checks pass, saving fails
    with pytest.raises(SystemExit) as exit_info:
        main(["--dataset", "iris", "--plot", str(tmp_path / "plot.png")])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert "max |predict_proba difference|" in captured.out
    assert captured.err.strip().splitlines()[-1].startswith("torchlogit compare: error: cannot write --plot")


def test_plot_writes_a_png_and_says_where(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "compare.png"
    assert main(["--dataset", "iris", "--plot", str(path)]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote the plot to {path}" in capsys.readouterr().err


def test_help_shows_defaults_and_every_option_has_help(capsys):
    parser = build_parser()
    for action in parser._actions:
        assert action.help, action.option_strings
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: 0.0001)" in text and "(default: 100)" in text and "(default: breast_cancer)" in text
    assert "(default: None)" not in text


def test_python_dash_m_runs_without_a_traceback_or_a_warning_of_its_own():
    """In a fresh process (torch warns of some things once a process, which a test in this one may not see first):
    the largest-gradient computation's float() of a tensor requiring grad printed torch's "Converting a tensor
    with requires_grad=True to a scalar" as a warning of the run, under every comparison."""
    out = subprocess.run(
        [sys.executable, "-m", "torchlogit", "compare", "--dataset", "wine", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout)["dataset"] == "wine"
    assert "warning" not in out.stderr.lower(), out.stderr


def test_a_plot_path_that_is_a_directory_fails_before_fitting(tmp_path, capsys):
    """It passed the early check (its parent is writable) and failed after the whole run ("Is a directory")."""
    pytest.importorskip("matplotlib")
    folder = tmp_path / "a_folder.png"
    folder.mkdir()
    with pytest.raises(SystemExit) as exit_info:
        main(["--dataset", "iris", "--plot", str(folder)])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert "fitting both models" not in captured.err and captured.out == ""
    assert "it is a directory" in captured.err


def test_a_reference_fit_above_a_model_is_not_called_the_optimum(capsys):
    """At C=1e-20 scikit-learn's tight fit stops after one step with its intercept at 0: it was taken as the
    optimum, ours printed "-3.25e-02 above" it, and the sentence blamed the tolerance. The lowest objective reached
    stands for the optimum then, named, and the sentence says who stopped above it."""
    report, _ = run_json(capsys, "--dataset", "breast_cancer", "--C", "1e-20")
    optimum = report["tight_optimum"]["objective"]
    assert all(row["objective"] >= optimum for row in report["models"].values())
    assert report["tight_optimum"]["lowest_of"] == "TorchLogisticClassifier"
    assert report["agreement"]["explanation"].startswith("LogisticRegression (and its tight-tolerance reference fit)")


@pytest.mark.parametrize("tol", ["0.05", "10"])
def test_two_fits_that_agree_far_from_the_optimum_are_not_said_to_reach_it(capsys, tol):
    """ "Both reach the same optimum" was printed whenever the two agreed with each other: at --tol 10 neither
    iterates, both 0.63 above the optimum."""
    report, _ = run_json(capsys, "--dataset", "breast_cancer", "--tol", tol)
    text = report["agreement"]["explanation"]
    assert not text.startswith("Both reach the same optimum") and "above the optimum" in text


def test_a_penalty_too_weak_to_matter_on_separable_data_is_flagged_as_c_inf_is(capsys):
    report, _ = run_json(capsys, "--dataset", "breast_cancer", "--C", "1e300")
    assert report["tight_optimum"]["separable"]
    assert "--C 1e+300 (a penalty too weak to matter" in report["agreement"]["explanation"]


def test_the_timing_sentence_on_large_data_does_not_give_the_small_data_reason():
    text = _compare.explain_timing(_rows(0.053, 0.048), (75_000, 100), small=False)
    assert text.startswith("Timing: scikit-learn fit faster here (48.0 against 53.0 ms")
    assert "microseconds" not in text and "try --dataset synthetic" not in text


def test_json_settings_include_the_split_and_a_dash_c_alias(capsys):
    report, _ = run_json(capsys, "--dataset", "iris", "--test-size", "0.5", "--random-state", "3", "-C", "0.5")
    assert report["settings"]["test_size"] == 0.5 and report["settings"]["random_state"] == 3
    assert report["settings"]["C"] == 0.5


def test_split_and_overflow_errors_name_the_options(tmp_path, capsys):
    """scikit-learn's split errors did not name --test-size; finite values whose variance overflows float64 were
    refused as "Input X contains NaN"."""
    with pytest.raises(SystemExit):
        main(["--dataset", "iris", "--test-size", "0.01"])
    assert "--test-size 0.01, stratified by class" in capsys.readouterr().err
    path = tmp_path / "huge.csv"
    rng = np.random.RandomState(0)
    pd.DataFrame({"a": rng.randn(40) * 1e307, "b": rng.randn(40), "y": np.arange(40) % 2}).to_csv(path, index=False)
    with pytest.raises(SystemExit):
        main(["--csv", str(path), "--target", "y"])
    err = capsys.readouterr().err
    # One line: NumPy's overflow warnings from the scaler's fit no longer come before it.
    assert "standardising the features overflowed float64" in err and "RuntimeWarning" not in err, err


def test_the_table_names_the_device_and_leaves_per_iteration_empty_without_iterations(capsys):
    """--device auto did not say which device ran; with no iteration taken "per iteration" showed the whole fit
    time; without a finite optimum (separable, --C inf) the gap row is to the reference fit, not "the optimum"."""
    assert main(["--dataset", "breast_cancer", "--C", "inf", "--tol", "10", "--device", "auto"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    device = next(line for line in lines if line.startswith("device"))
    assert device.split()[1] in ("cpu", "cuda:0") and device.split()[2] == "cpu"
    assert next(line for line in lines if line.startswith("  per iteration (ms)")).split()[3:] == ["-", "-"]
    assert any(line.startswith("  above the reference") for line in lines)
    assert not any(line.startswith("  above the optimum") for line in lines)


# Mutation survey h3 (stop 49): each test kills a one-line mutant the suite let through.
@pytest.mark.parametrize("dtype, advised", [("float32", True), ("float64", False)])
def test_the_closing_advice_suggests_float64_only_to_a_float32_fit(dtype, advised):
    """Both near the optimum, apart: "a smaller --tol (with --dtype float64)" only when ours ran in float32
    (mutant C10: the advice given to a float64 fit too)."""
    reference = dict(objective=1.0, separable=False)
    rows = compared_rows((1.0 + 1e-5, 1.0 + 2e-5), dtype)
    sentence = explain(rows, dict(max_abs_proba_diff=1e-3, max_abs_coef_diff=1e-3), reference, C=1.0)
    assert sentence.startswith("Both stop at tol=")
    assert ("(with --dtype float64)" in sentence) is advised


def test_the_tight_reference_reports_no_growth_with_a_penalty():
    """tight_reference's docstring: growth is 0 with a penalty (the JSON's tight_optimum.growth); mutant C13
    refitted at tol=1e-14 for any C and reported a spurious growth."""
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    _, info = _compare.tight_reference(X, y, 1.0)
    assert info["converged"] and info["growth"] == 0.0


def _overlapping(n=200, n_features=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, n_features)
    y = (X[:, 0] + 2.0 * rng.randn(n) > 0).astype(int)  # classes overlap: a finite unpenalised optimum
    return X, y


def test_a_reference_that_still_grows_past_the_threshold_is_separable(monkeypatch):
    """Without a penalty, coefficients that grow by more than GROWTH_WITHOUT_OPTIMUM (1e-4) when the tolerance is
    tightened mean no finite optimum (mutant C7 used another threshold, 1e-2)."""
    real = _compare.tight_reference

    def growing(X, y, C):
        model, info = real(X, y, C)
        assert info["converged"] and info["growth"] < 1e-4  # the data alone have an optimum
        return model, dict(info, growth=1e-3)

    monkeypatch.setattr(_compare, "tight_reference", growing)
    X, y = _overlapping()
    _, agreement, _, reference = _compare.compare(X, y, C=math.inf, progress=False)
    assert reference["separable"] and agreement["explanation"].startswith("The training data are separable")


def test_the_timing_rule_counts_values_not_rows(monkeypatch):
    """SMALL_DATA_VALUES counts rows x features of the training data (mutant C8 counted rows only): 2700 rows of
    100 features (270k values) are not small data."""
    seen = []
    monkeypatch.setattr(_compare, "explain_timing", lambda rows, shape, small=True: seen.append((shape, small)))
    rng = np.random.RandomState(0)
    X = rng.randn(3600, 100)
    y = (X[:, 0] + rng.randn(3600) > 0).astype(int)
    _compare.compare(X, y, C=1.0, progress=False)
    assert seen == [((2700, 100), False)]


def test_a_model_that_ties_the_reference_does_not_replace_it():
    """scikit-learn's newton-cholesky at tol=1e-10 is the tight reference fit itself: equal objectives are no
    sign that the reference stopped above the optimum (mutant C5 took a model within 1e-12 *above* the reference
    for the optimum and said the reference fit "stopped above it")."""
    X, y = load_iris(return_X_y=True)
    rows, _, _, reference = _compare.compare(
        X, y, C=1.0, solver="newton-cholesky", dtype="float64", tol=1e-10, progress=False
    )
    assert rows[REF]["objective"] == reference["objective"]
    assert "lowest_of" not in reference
    table = _compare.format_table(rows, dict(max_abs_proba_diff=0.0, max_abs_coef_diff=0.0), reference)
    assert "not the optimum" not in table


# Mutation survey h6 (stop 49).
# ------------------------------------------------------------------ compare
def test_random_state_2_to_the_32_is_refused_in_the_options_words(capsys):
    """Kills C11 (`<= 2**32`): 4294967296 passed the check and reached train_test_split, whose refusal was reworded as
    a failed stratified split ("cannot split the 178 rows ... --test-size 0.25 ...")."""
    from torchlogit._compare import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--dataset", "wine", "--random-state", str(2**32)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--random-state must be between 0 and 4294967295, got 4294967296" in err
    assert "cannot split" not in err


def test_finite_json_writes_numpy_float32_non_finite_values_as_strings():
    """Kills C12 (`isinstance(value, float)` only): np.float32 is no float subclass, so its inf stayed inf and
    json.dumps(..., allow_nan=False) refused the report. (Through the CLI no float32 reaches it today.)"""
    import json

    from torchlogit._compare import _finite_json

    out = _finite_json({"a": np.float32("inf"), "b": [np.float32("nan"), np.float64("-inf")], "c": 1.5})
    assert out == {"a": "inf", "b": ["nan", "-inf"], "c": 1.5}
    json.dumps(out, allow_nan=False)


def test_progress_lines_are_throttled_after_the_first(monkeypatch):
    """Kills E1 (`or` -> `and` in EpochProgress.on_epoch_end): once a fit had run PROGRESS_AFTER_S, every epoch
    printed a line (a fast long fit flooded stderr); the existing test sets both constants to 0, which hides it."""
    import io
    import types

    from torchlogit import _compare

    clock = iter([0.0, 2.5, 3.0, 3.5, 4.6, 5.0])
    monkeypatch.setattr(_compare.time, "perf_counter", lambda: next(clock))
    stream = io.StringIO()
    progress = _compare.EpochProgress("X", stream=stream)
    net = types.SimpleNamespace(history=[])
    progress.on_train_begin(net)
    for epoch in range(1, 6):
        net.history.append({"epoch": epoch, "train_loss": 0.5})
        progress.on_epoch_end(net)
    lines = stream.getvalue().splitlines()
    assert [line.split(",")[0] for line in lines] == ["  X: epoch 1", "  X: epoch 4"]


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--dataset", "wine", "--max-iter", "0"],
            "--max-iter must be at least 1, got 0",
        ),  # E2: ran a 0-iteration report
        (
            ["--dataset", "wine", "--C", "0"],
            "--C must be positive (or inf), got 0.0",
        ),  # E3: estimator's words, after fitting began
        (["--csv", "{one_class}", "--target", "target"], "has a single class; compare needs at least two"),  # E4
    ],
)
def test_more_bad_arguments_exit_2_in_the_options_words(args, message, tmp_path, capsys):
    """Kills E2 (--max-iter low bound 0), E3 (`args.C >= 0`) and E4 (`len(np.unique(y)) < 1`): each was refused later
    (or not at all) in another component's words."""
    from torchlogit._compare import main

    one_class = tmp_path / "one_class.csv"
    one_class.write_text("a,target\n" + "".join(f"{i},0\n" for i in range(8)))
    with pytest.raises(SystemExit) as exit_info:
        main([a.format(one_class=one_class) for a in args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "fitting" not in err


def test_the_flat_objective_sentence_is_for_c_inf_only():
    """Kills E7 (dropped `math.isinf(C)`): with a finite C the explanation said "Without a penalty (--C inf) the
    objective is nearly flat" whenever coefficients differed 100x more than probabilities."""
    rows = compared_rows((0.1, 0.1), iterations=(10, 10))
    agreement = dict(max_abs_proba_diff=1e-7, max_abs_coef_diff=1e-3)
    reference = dict(objective=0.1, separable=False)
    assert "Without a penalty" not in explain(rows, agreement, reference, C=1.0)
    assert "Without a penalty (--C inf)" in explain(rows, agreement, reference, C=math.inf)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_the_largest_gradient_entry_is_the_objectives_by_finite_differences(n_classes):
    """``float64_objective(..., gradient=True)``: the largest absolute entry of the gradient over coefficients and
    intercepts, as central differences of the objective measure it (to 1e-6 relative)."""
    X, y = load_wine(return_X_y=True)
    keep = y < n_classes
    X, y = (X[keep] - X[keep].mean(0)) / X[keep].std(0), y[keep]
    rng = np.random.default_rng(0)
    rows = 1 if n_classes == 2 else n_classes
    coef, intercept = rng.normal(size=(rows, X.shape[1])), rng.normal(size=rows)
    classes = np.arange(n_classes)
    value, largest = float64_objective(X, y, coef, intercept, classes, 0.3, gradient=True)
    assert value == float64_objective(X, y, coef, intercept, classes, 0.3)
    params = np.concatenate([coef.ravel(), intercept])
    h = 1e-6

    def f(p):
        return float64_objective(X, y, p[: coef.size].reshape(coef.shape), p[coef.size :], classes, 0.3)

    numeric = [(f(params + h * e) - f(params - h * e)) / (2 * h) for e in np.eye(len(params))]
    assert largest == pytest.approx(np.abs(numeric).max(), rel=1e-6)


def test_lbfgs_fits_that_stop_on_the_objectives_decrease_are_not_said_to_meet_tol(capsys):
    """At tol=1e-13 neither L-BFGS fit reaches a gradient that small: both stop when an iteration lowers the
    objective by less than ftol (scikit-learn's rule, no warning). The report said "Both stop at tol=1e-13 (the
    largest gradient entry) ... a smaller --tol brings them together"; it now shows each fit's largest gradient
    entry and names the rule that stopped them."""
    args = ("--C", "1e8", "--tol", "1e-13", "--max-iter", "20000", "--dtype", "float64")
    report, _ = run_json(capsys, *args)
    rows = report["models"]
    assert all(row["gradient_max"] > 1e-12 and row["iterations"] < 20000 for row in rows.values())
    explanation = report["agreement"]["explanation"]
    assert explanation.startswith("Neither fit met tol=1e-13 on the largest gradient entry")
    assert "64 float64 epsilons" in explanation and "A smaller --tol changes nothing" in explanation


@pytest.mark.parametrize(
    "gradients, start",
    [
        ((5e-5, 3e-3), "LogisticRegression did not meet tol=0.0001"),
        ((3e-3, 5e-5), "TorchLogisticClassifier did not meet tol=0.0001"),
        ((3e-3, 3e-3), "Neither fit met tol=0.0001"),
        # Within twice tol: a float32 fit stopped on its float32 gradient, whose rounding the float64 one shows.
        ((1.9e-4, 1.9e-4), "Both stop at tol=0.0001"),
    ],
)
def test_which_fit_missed_tol_is_named(gradients, start):
    rows = compared_rows((1.0 + 1e-5, 1.0 + 2e-5), "float32", gradients=gradients)
    sentence = explain(
        rows, dict(max_abs_proba_diff=1e-3, max_abs_coef_diff=1e-3), dict(objective=1.0, separable=False), C=1.0
    )
    assert sentence.startswith(start)


# Mutation survey h3 (stop 50): each kills a one-line mutant of the compare changes the suite let through.
def test_the_largest_gradient_entry_includes_the_intercepts():
    """Mutant c2 (_compare.float64_objective: the largest entry over coef only, the intercept's gradient left out)."""
    X, y = load_wine(return_X_y=True)
    keep = y < 2
    X, y = 0.1 * (X[keep] - X[keep].mean(0)) / X[keep].std(0), y[keep]
    coef, intercept = np.zeros((1, X.shape[1])), np.array([10.0])
    _, largest = float64_objective(X, y, coef, intercept, np.arange(2), 0.3, gradient=True)
    p = 1 / (1 + np.exp(-10.0))
    assert largest == pytest.approx(abs(p - y.mean()), rel=1e-9)  # the intercept's entry (0.45), not a coef's (< 0.05)


def test_fits_that_agree_but_missed_tol_are_not_told_a_smaller_tol_helps():
    """Mutant c4 (_compare.explain: `if close and not unmet` -> `if close`): two L-BFGS fits whose probabilities agree
    (1e-6) but whose gradients (3e-3) are far above tol=1e-4 stopped on ftol; the "smaller --tol brings both to it"
    sentence is untrue for them."""
    rows = compared_rows((1.0 + 1e-5, 1.0 + 2e-5), gradients=(3e-3, 3e-3))
    sentence = explain(
        rows, dict(max_abs_proba_diff=1e-6, max_abs_coef_diff=1e-6), dict(objective=1.0, separable=False), C=1.0
    )
    assert sentence.startswith("Neither fit met tol=0.0001") and "A smaller --tol changes nothing" in sentence


def test_the_ftol_sentence_gives_ftol_at_the_objectives_scale():
    """Mutant c6 (_compare.explain: `FTOL * scale` -> `FTOL`): at an objective of 100 the objective decrease that
    stops L-BFGS is 64 eps * 100 = 1.4e-12, not 1.4e-14."""
    sentence = explain(
        compared_rows((100.5, 100.6), gradients=(3e-3, 3e-3)),
        dict(max_abs_proba_diff=1e-3, max_abs_coef_diff=1e-3),
        dict(objective=100.0, separable=False),
        C=1.0,
    )
    assert sentence.startswith("Neither fit met tol=0.0001")
    assert f"({64 * np.finfo(np.float64).eps * 100:.1e} here" in sentence  # "(1.4e-12 here"


def test_newton_fits_that_missed_tol_are_not_explained_by_lbfgs_ftol():
    """Mutant c5 (_compare.explain: `unmet and solver == "lbfgs"` -> `unmet`): newton-cholesky has no ftol rule;
    the L-BFGS sentence ("64 float64 epsilons ... --solver newton-cholesky reaches the optimum") is wrong for it."""
    sentence = explain(
        compared_rows((1.5, 1.6), gradients=(3e-3, 3e-3), solver="newton-cholesky"),
        dict(max_abs_proba_diff=1e-3, max_abs_coef_diff=1e-3),
        dict(objective=1.0, separable=False),
        C=1.0,
    )
    assert "L-BFGS" not in sentence and "64 float64 epsilons" not in sentence
    # Nor "Both stop at tol=", which they did not (h3).
    assert sentence.startswith("Neither fit met tol=0.0001") and "the Newton steps stopped" in sentence


def test_compare_reports_objective_and_gradient_at_the_C_it_was_run_with(capsys):
    """Mutant c9 (_compare.compare: float64_objective(..., C) -> (..., 1.0)): at --C 0.01 both fits converge, so
    each one's largest gradient entry is below tol (1.6e-5) and neither objective lies under the tight optimum's
    (the mutant reported 0.168 and objectives 0.194 below it)."""
    assert main(["compare", "--dataset", "wine", "--dtype", "float64", "--C", "0.01", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    optimum = report["tight_optimum"]["objective"]
    for row in report["models"].values():
        assert row["gradient_max"] < 2 * row["tol"]
        assert optimum - 1e-9 <= row["objective"] <= optimum + 1e-6


def test_the_largest_gradient_row_shows_each_fits_gradient(capsys):
    """Mutant c7 (_compare.format_table: the "largest gradient" row printed another field, the objective): the row
    must print each model's gradient_max."""
    from torchlogit._compare import format_table

    assert main(["compare", "--dataset", "wine", "--dtype", "float64", "--C", "0.5", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    rows = report["models"]
    table = format_table(rows, report["agreement"], report["tight_optimum"])
    line = next(line for line in table.splitlines() if line.startswith("largest gradient"))
    assert line.split()[2:] == [f"{rows[name]['gradient_max']:.2e}" for name in rows]


def test_the_ftol_sentence_puts_each_fits_gradient_under_its_name():
    """Mutant c10 (_compare.explain: "(ours {rows[REF]...}" -- scikit-learn's gradient printed as ours)."""
    sentence = explain(
        compared_rows((1.5, 1.6), gradients=(3e-3, 5e-3)),
        dict(max_abs_proba_diff=1e-3, max_abs_coef_diff=1e-3),
        dict(objective=1.0, separable=False),
        C=1.0,
    )
    assert "(ours 3.0e-03, scikit-learn's 5.0e-03)" in sentence


def test_probabilities_1e_4_apart_are_not_said_to_reach_the_same_optimum():
    """h2's mutant C1 (the "same optimum" bound 1e-5 -> 1e-3): two fits near the optimum whose probabilities differ
    by 1e-4 are not said to agree; 1e-6 apart they are."""
    reference = dict(objective=0.1, separable=False)
    rows = compared_rows((0.1 + 1e-9, 0.1 + 2e-9))
    sentence = explain(rows, dict(max_abs_proba_diff=1e-4, max_abs_coef_diff=1e-3), reference, C=1.0)
    assert not sentence.startswith("Both reach the same optimum"), sentence
    sentence = explain(rows, dict(max_abs_proba_diff=1e-6, max_abs_coef_diff=1e-5), reference, C=1.0)
    assert sentence.startswith("Both reach the same optimum"), sentence


def test_a_fit_a_little_above_the_optimum_is_not_said_to_stop_far_from_it():
    """h2's mutant C12 (the "far from the optimum" sentence without its 1e-3 gap condition): a fit 1e-5 above the
    optimum that met tol stopped near it; 1e-2 above, far from it."""
    reference = dict(objective=0.1, separable=False)
    agreement = dict(max_abs_proba_diff=1e-4, max_abs_coef_diff=1e-3)
    near = explain(compared_rows((0.1 + 1e-9, 0.1 + 1e-5)), agreement, reference, C=1.0)
    assert "far from the optimum" not in near, near
    far = explain(compared_rows((0.1 + 1e-9, 0.1 + 1e-2)), agreement, reference, C=1.0)
    assert "far from the optimum" in far, far


def test_scikit_learns_dtype_is_reported_as_float64_and_a_reference_above_a_model_is_not_the_optimum(monkeypatch):
    """h2's mutants C6 (scikit-learn's row given our --dtype) and C10 (the reference-above-a-model margin 1e-12 ->
    1e-6): with --dtype float32 the report said scikit-learn computed in float32; a tight reference stopped 1e-8
    (relative) above a model was still called the optimum, and the table showed a negative "above the optimum"."""
    real = _compare.tight_reference

    def slightly_off(X, y, C):
        model, info = real(X, y, C)
        model.intercept_ = model.intercept_ + np.array([1e-3, -1e-3, 0.0])  # ~1e-8 (relative) above the optimum
        return model, info

    monkeypatch.setattr(_compare, "TIMING_RUNS", 1)
    X, y = load_iris(return_X_y=True)
    rows, _, _, _ = _compare.compare(X, y, dtype="float32", progress=False)
    assert (rows[_compare.OURS]["dtype"], rows[REF]["dtype"]) == ("float32", "float64")
    monkeypatch.setattr(_compare, "tight_reference", slightly_off)
    rows, _, _, reference = _compare.compare(X, y, dtype="float64", tol=1e-8, solver="newton-cholesky", progress=False)
    assert "lowest_of" in reference
    assert min(row["objective"] - reference["objective"] for row in rows.values()) >= 0


def test_version_prints_the_package_version(capsys):
    """``--version``, as a command-line tool's users expect (it was an unrecognised argument, exit 2)."""
    import torchlogit

    for argv in (["--version"], ["compare", "--version"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 0
        assert capsys.readouterr().out.strip() == f"torchlogit {torchlogit.__version__}"


def test_data_too_large_for_memory_fails_in_one_line(monkeypatch, capsys):
    """``--n-samples 100000000`` ended in NumPy's MemoryError traceback (74.5 GiB asked for), exit 1."""

    def too_large(*args, **kwargs):
        raise MemoryError("Unable to allocate 74.5 GiB")

    monkeypatch.setattr(_compare, "synthetic", too_large)
    with pytest.raises(SystemExit) as exit_info:
        main(["--dataset", "synthetic", "--n-samples", "100000000", "--n-features", "100"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip().splitlines()[-1] == (
        "torchlogit compare: error: not enough memory for this data; lower --n-samples or --n-features"
    )
