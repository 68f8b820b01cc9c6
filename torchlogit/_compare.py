"""``torchlogit compare``: TorchLogisticClassifier and scikit-learn's LogisticRegression side by side.

Both models get the same split, the same standardisation and the same ``C``, ``tol`` and
``max_iter``. The report states each model's settings and iterations, both objective
values (computed in float64 with :mod:`torchlogit._objective`) next to a tightly
converged reference optimum, and one sentence saying why the two models differ when
they do.
"""

import argparse
import contextlib
import json
import math
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn import datasets
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import type_of_target
from skorch.callbacks import Callback
from threadpoolctl import threadpool_limits

from ._devices import refuse_mps_training, resolve_device
from ._logistic import TorchLogisticClassifier
from ._objective import objective
from ._threads import data_values, on_one_thread, threads_for

DATASETS = {
    "breast_cancer": datasets.load_breast_cancer,
    "digits": datasets.load_digits,
    "wine": datasets.load_wine,
    "iris": datasets.load_iris,
}
OURS, REF = "TorchLogisticClassifier", "LogisticRegression"
# The reference optimum: float64, a gradient tolerance far below anything a user would
# pass, and enough iterations that only separable data (no optimum) can exhaust them.
TIGHT_TOL, TIGHT_MAX_ITER = 1e-10, 10_000
# L-BFGS's other stopping rule, scikit-learn's ftol (relative to max(|objective|, 1)): see explain.
FTOL = 64 * np.finfo(np.float64).eps
# Above this many coefficients Newton's Hessian gets expensive; L-BFGS is used instead.
NEWTON_MAX_PARAMS = 2_000
# Training data up to this many values (rows x features) count as small in the timing sentence: there an
# iteration's arithmetic takes microseconds and fixed costs per call decide (breast cancer: 13k values).
SMALL_DATA_VALUES = 200_000
# Progress lines appear only once a fit has run this long, then at most this often.
PROGRESS_AFTER_S, PROGRESS_EVERY_S = 2.0, 2.0
# Fits are timed up to this many times (the best is reported) while they take under TIMING_BUDGET_S in all:
# one run of a millisecond fit measures whatever else the machine was doing (2.4-130 ms for scikit-learn's
# breast-cancer fit over 12 runs on a busy 2-core machine, review G).
TIMING_RUNS, TIMING_BUDGET_S = 5, 1.0
# Without a penalty, a reference whose coefficients still grow by this much (relative) when its tolerance
# is tightened from 1e-10 to 1e-14 has no finite optimum (quasi-separated classes).
GROWTH_WITHOUT_OPTIMUM = 1e-4


class EpochProgress(Callback):
    """One line per epoch on stderr, once a fit has run ``PROGRESS_AFTER_S`` seconds (throttled)."""

    def __init__(self, label, stream=None):
        self.label = label
        self.stream = stream

    def on_train_begin(self, net, **kwargs):
        self.start_ = self.last_ = time.perf_counter()

    def on_epoch_end(self, net, **kwargs):
        now = time.perf_counter()
        if now - self.start_ < PROGRESS_AFTER_S or now - self.last_ < PROGRESS_EVERY_S:
            return
        self.last_ = now
        row = net.history[-1]
        loss = row.get("objective", row.get("train_loss"))
        loss_text = "" if loss is None else f", loss {loss:.6g}"
        stream = self.stream or sys.stderr
        print(f"  {self.label}: epoch {row['epoch']}{loss_text}, {now - self.start_:.0f} s", file=stream, flush=True)


def _progress(enabled, message):
    if enabled:
        print(f"  {message}", file=sys.stderr, flush=True)


def float64_objective(X, y, coef, intercept, classes, C, gradient=False):
    """scikit-learn's (and our) training objective at ``coef``/``intercept``, in float64, unit weights.

    ``gradient``: also the largest absolute entry of its gradient there (coefficients and
    intercepts), which is what ``tol`` bounds for both libraries' L-BFGS and newton-cholesky.
    """
    X = torch.as_tensor(np.asarray(X, dtype=np.float64), device="cpu")
    W = torch.tensor(np.asarray(coef, dtype=np.float64), device="cpu", requires_grad=gradient)
    b = torch.tensor(np.asarray(intercept, dtype=np.float64), device="cpu", requires_grad=gradient)
    index = torch.as_tensor(np.searchsorted(classes, y), device="cpu")
    if len(classes) == 2:
        kind, target = "binary", index.to(torch.float64)
    else:
        kind, target = "multinomial", index
    weight = torch.ones(len(y), dtype=torch.float64, device="cpu")
    with torch.set_grad_enabled(gradient):
        value = objective(X @ W.T + b, target, weight, [W], kind=kind, C=C, l1_ratio=0.0, weight_sum=float(len(y)))
    if not gradient:
        return float(value)
    value.backward()
    # detach(): float() of a tensor that requires grad makes torch warn, once a process, which compare printed.
    return float(value.detach()), float(torch.cat([W.grad.reshape(-1), b.grad.reshape(-1)]).abs().max())


def tight_reference(X, y, C):
    """A tightly converged float64 LogisticRegression: the optimum both models aim at.

    Without a penalty (``C=inf``) the optimum may not exist: classes separated by the features
    (completely, or one class from the rest) push the coefficients to infinity. The solver then
    still stops at ``tol`` (the objective flattens exponentially), so its coefficients are refitted
    from there at ``tol=1e-14``: at an optimum they hardly move; without one they keep growing
    (iris, setosa separated: 28.9 -> 40.4). ``growth`` is that relative change (0 with a penalty).
    """
    n_params = X.shape[1] * (1 if len(np.unique(y)) == 2 else len(np.unique(y)))
    solver = "newton-cholesky" if n_params <= NEWTON_MAX_PARAMS else "lbfgs"
    model = LogisticRegression(C=C, solver=solver, tol=TIGHT_TOL, max_iter=TIGHT_MAX_ITER)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(X, y)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    growth = 0.0
    if math.isinf(C) and converged:
        tighter = clone(model).set_params(tol=1e-14, warm_start=True)
        tighter.coef_, tighter.intercept_ = model.coef_.copy(), model.intercept_.copy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tighter tolerance may not be reachable in float64: no matter
            tighter.fit(X, y)
        largest = np.abs(model.coef_).max()
        growth = float((np.abs(tighter.coef_).max() - largest) / max(largest, 1.0))
    return model, dict(
        solver=solver,
        tol=TIGHT_TOL,
        max_iter=TIGHT_MAX_ITER,
        iterations=int(model.n_iter_.max()),
        converged=converged,
        growth=growth,
    )


def _fit_recording_warnings(model, X, y):
    """Fit ``model``; return (best seconds, the warnings of its first fit as 'Category: message' lines).

    Fits under ``TIMING_BUDGET_S`` are repeated (on clones, up to ``TIMING_RUNS`` fits in all) and the
    best time reported; ``model`` is the first fit.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, seconds = _timed(lambda: model.fit(X, y))
    without_callbacks = {"callbacks": None} if "callbacks" in model.get_params() else {}

    def fit_again():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clone(model).set_params(**without_callbacks).fit(X, y)

    seconds = _best_time(fit_again, [seconds])
    return seconds, [f"{w.category.__name__}: {' '.join(str(w.message).split())}" for w in caught]


def _predict_timed(model, X):
    """``(model.predict_proba(X), best seconds)``: timed as the fits are (:func:`_best_time`). One call of a
    sub-millisecond predict measured whatever else the machine was doing (0.35 ms, or 17 ms on a busy machine)."""
    proba, seconds = _timed(lambda: model.predict_proba(X))
    return proba, _best_time(lambda: model.predict_proba(X), [seconds])


def _timed(call):
    """``(call(), its seconds)``."""
    start = time.perf_counter()
    out = call()
    return out, time.perf_counter() - start


def _best_time(call, times):
    """The best of ``times`` (the first runs' seconds) and of further runs of ``call``, made while fewer than
    ``TIMING_RUNS`` runs in all have taken less than ``TIMING_BUDGET_S``."""
    while len(times) < TIMING_RUNS and sum(times) < TIMING_BUDGET_S:
        times.append(_timed(call)[1])
    return min(times)


def compare(
    X,
    y,
    *,
    C=1.0,
    device="cpu",
    dtype="float32",
    solver="lbfgs",
    tol=1e-4,
    max_iter=100,
    test_size=0.25,
    random_state=0,
    progress=True,
):
    """Fit both models on the same standardised split with the same ``C``, ``tol`` and ``max_iter``.

    Returns ``(rows, agreement, coef, reference)``: per-model settings and metrics, how
    far apart the two models are, the coefficients, and the tight reference optimum.
    """
    try:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=test_size, random_state=random_state, stratify=y
        )
    except ValueError as exc:  # the options' names, beside scikit-learn's reason
        raise ValueError(
            f"cannot split the {len(y)} rows into a training and a test part with --test-size {test_size:g}, "
            f"stratified by class (every class needs a row in each part): {exc}"
        ) from None
    with np.errstate(over="ignore", invalid="ignore"):  # the fit's variance too: the check below words it
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    if not (np.isfinite(X_train).all() and np.isfinite(X_test).all()):
        # Finite features whose variance overflows float64 (values near 1e307): the fits would refuse "NaN".
        raise ValueError(
            "standardising the features overflowed float64 (their variance is beyond its range: values of "
            f"magnitude up to {np.abs(X).max():.3g}); rescale the data before comparing"
        )
    callbacks = [("progress", EpochProgress(OURS))] if progress else None
    models = {
        OURS: TorchLogisticClassifier(
            C=C,
            device=device,
            dtype=dtype,
            solver=solver,
            tol=tol,
            max_iter=max_iter,
            random_state=random_state,
            callbacks=callbacks,
        ),
        REF: LogisticRegression(C=C, solver=reference_solver(solver), tol=tol, max_iter=max_iter),
    }
    # One untimed fit first: a process pays a one-time start-up on its first torch
    # optimiser (torch imports its compiler lazily); the timings below are steady state.
    # On rows of every class (the first 50 rows of an imbalanced split may hold one class only, and the warm-up's
    # "only one class" error was shown as the data's); a warm-up that fails for any other reason is not the run's.
    _, first = np.unique(y_train, return_index=True)
    warm_up = np.union1d(first, np.arange(min(50, len(y_train))))
    with warnings.catch_warnings(), contextlib.suppress(Exception):
        warnings.simplefilter("ignore")
        TorchLogisticClassifier(max_iter=2, device=device, dtype=dtype, solver=solver).fit(
            X_train[warm_up], y_train[warm_up]
        )
    rows, proba, coef, intercept = {}, {}, {}, {}
    for name, model in models.items():
        _progress(progress, f"fitting {name} ...")
        fit_time, caught = _fit_recording_warnings(model, X_train, y_train)
        if name == OURS:
            small = on_one_thread(data_values(X_train))
            threads = "1 (small data)" if small else str(torch.get_num_threads())
            if not small and torch.get_num_threads() > 1 and resolve_device(device).type == "cpu":
                # Both ways, as scikit-learn below: on a busy machine torch's pool waits for its slowest thread
                # (a 300k x 100 fit 2.6 s on two threads against 0.2 s on one, the helper's 2-core machine loaded).
                with threads_for(0):  # the small-fit rule's one thread (MKL's count too), given back after
                    on_one, _ = _fit_recording_warnings(clone(model), X_train, y_train)
                if on_one < fit_time:
                    fit_time, threads = on_one, "1 torch thread"
        else:
            # torchlogit runs small fits on one thread (torchlogit._threads); scikit-learn's BLAS uses every core,
            # which on a busy machine made its breast-cancer fit ~100x slower (0.25 s against 3 ms): it is
            # timed both ways and the faster shown, so that the comparison never hinges on the machine's load.
            threads = "default"
            with threadpool_limits(1, user_api="blas"):
                one_thread, _ = _fit_recording_warnings(clone(model), X_train, y_train)
            if one_thread < fit_time:
                fit_time, threads = one_thread, "1 BLAS thread"
        proba[name], predict_time = _predict_timed(model, X_test)
        coef[name] = np.asarray(model.coef_, dtype=np.float64)
        intercept[name] = np.asarray(model.intercept_, dtype=np.float64)
        iterations = int(np.max(model.n_iter_))
        objective_value, gradient_max = float64_objective(
            X_train, y_train, model.coef_, model.intercept_, model.classes_, C, gradient=True
        )
        rows[name] = dict(
            solver=model.solver,
            # The device the fit ran on ("auto" resolved: the report said only what was asked for).
            device=str(resolve_device(device)) if name == OURS else "cpu",
            dtype=dtype if name == OURS else "float64",
            tol=tol,
            max_iter=max_iter,
            iterations=iterations,
            reached_max_iter=iterations >= max_iter,
            objective=objective_value,
            gradient_max=gradient_max,
            accuracy=accuracy_score(y_test, model.classes_[proba[name].argmax(axis=1)]),
            log_loss=log_loss(y_test, proba[name], labels=model.classes_),
            fit_time=fit_time,
            threads=threads,
            predict_time=predict_time,
            warnings=caught,
        )
    _progress(progress, "fitting the tight reference optimum (float64, tol=1e-10) ...")
    tight, reference = tight_reference(X_train, y_train, C)
    reference["objective"] = float64_objective(X_train, y_train, tight.coef_, tight.intercept_, tight.classes_, C)
    reference["max_abs_coef"] = float(np.abs(tight.coef_).max())
    # A model below the reference fit means the reference is not the optimum (at C=1e-20 scikit-learn's tight fit
    # stops after one step with its intercept at 0): the lowest objective reached stands for it, and says so.
    lowest = min(rows, key=lambda name: rows[name]["objective"])
    if rows[lowest]["objective"] < reference["objective"] - 1e-12 * max(abs(reference["objective"]), 1.0):
        reference["objective"] = rows[lowest]["objective"]
        reference["lowest_of"] = lowest
    # Without a penalty, separable classes have no optimum: the infimum is reached at infinite coefficients (0
    # when every class is separated; above 0 when one class is separated from the others, whose coefficients
    # still grow as the tolerance is tightened).
    # A finite C so large that the penalty is negligible (1 / (C n) below float64's resolution of the objective)
    # is C=inf for this purpose: --C 1e300 on breast cancer gave --C inf's coefficients, 1e6 x the "optimum".
    unpenalised = math.isinf(C) or 1.0 / (C * len(y_train)) < 1e-12
    reference["separable"] = bool(
        unpenalised
        and (
            not reference["converged"] or reference["objective"] < 1e-6 or reference["growth"] > GROWTH_WITHOUT_OPTIMUM
        )
    )
    agreement = dict(
        max_abs_proba_diff=float(np.abs(proba[OURS] - proba[REF]).max()),
        max_abs_coef_diff=float(np.abs(coef[OURS] - coef[REF]).max()),
        # apart: at C=1e-300 the coefficients agree at 0 while the intercepts carry every difference
        max_abs_intercept_diff=float(np.abs(intercept[OURS] - intercept[REF]).max()),
    )
    agreement["explanation"] = explain(rows, agreement, reference, C=C)
    timing = explain_timing(rows, X_train.shape, X_train.shape[0] * X_train.shape[1] <= SMALL_DATA_VALUES)
    if timing:
        agreement["timing"] = timing
    return rows, agreement, coef, reference


def reference_solver(solver):
    """scikit-learn's solver facing ours: the same for "lbfgs" and "newton-cholesky", "lbfgs" for mini-batch ones."""
    return solver if solver in ("lbfgs", "newton-cholesky") else "lbfgs"


def explain_timing(rows, shape, small=True):
    """Why scikit-learn fit faster, when it did (None otherwise): what an iteration costs each, on this size.

    On small data (``small``) the arithmetic of an iteration takes microseconds, and fixed costs
    per call decide: ours are PyTorch's (a few microseconds per tensor operation, some dozens of
    them an iteration), scikit-learn's those of NumPy and SciPy (its L-BFGS-B is Fortran). On
    larger data that is not the reason, and the sentence says only what was measured.
    """
    ours, ref = rows[OURS], rows[REF]
    if ours["fit_time"] <= ref["fit_time"]:
        return None
    # Every sentence opens with the two fit times: "(... ms)" closes there or goes on with more figures.
    faster = (
        f"Timing: scikit-learn fit faster here ({ref['fit_time'] * 1e3:.1f} against {ours['fit_time'] * 1e3:.1f} ms"
    )
    if ours["solver"] != ref["solver"]:  # an epoch of a mini-batch solver is not an L-BFGS iteration
        return (
            f"{faster}) with another kind of solver ({ours['solver']}: {ours['iterations']} epochs; "
            f"{ref['solver']}: {ref['iterations']} iterations). Use --solver lbfgs to compare like with like."
        )
    if not (ours["iterations"] and ref["iterations"]):  # a fit of no iteration is its set-up alone: no cost per one
        return (
            f"{faster}) with {ref['iterations']} and {ours['iterations']} iterations: the time of setting up the "
            "fit, which is PyTorch's on our side."
        )
    per_iteration = {name: 1e3 * row["fit_time"] / row["iterations"] for name, row in rows.items()}
    if not small:
        return (
            f"{faster}; {per_iteration[OURS]:.2f} against {per_iteration[REF]:.2f} ms of fit time per iteration, "
            f"{ours['iterations']} and {ref['iterations']} iterations). A busy machine or threads shared with other "
            "work change such figures: run it again, and see the documentation's Performance page for every shape "
            "measured."
        )
    return (
        f"{faster}). On {shape[0]} training rows of {shape[1]} feature{'s' * (shape[1] != 1)} an iteration's "
        "arithmetic takes "
        "microseconds, so fixed costs per call decide (ours are PyTorch's tensor operations): "
        f"{per_iteration[OURS]:.2f} against {per_iteration[REF]:.2f} ms of fit time per iteration. On large data "
        "the arithmetic dominates: try --dataset synthetic --n-samples 300000 --n-features 100 (the "
        "documentation's Performance page has every shape measured)."
    )


def explain(rows, agreement, reference, *, C):
    """One sentence: why the two models differ (or that they agree)."""
    ours, ref = rows[OURS], rows[REF]
    gap = {name: row["objective"] - reference["objective"] for name, row in rows.items()}
    close = agreement["max_abs_proba_diff"] < 1e-5
    if reference["separable"]:
        penalty = "--C inf has" if math.isinf(C) else f"--C {C:g} (a penalty too weak to matter, as --C inf) has"
        return (
            f"The training data are separable (some classes, or one class from the others) and {penalty} no "
            "finite optimum: the coefficients grow until each solver stops, so the difference reflects where "
            "each one stopped, not an error; use a smaller finite --C."
        )
    stopped = [name for name in rows if rows[name]["reached_max_iter"]]
    if stopped:
        names = " and ".join(stopped)
        # A mini-batch solver stops near the optimum, not on it, whatever --max-iter (adam on breast cancer: 5.9e-3
        # above it at 100 epochs, 3.7e-3 when it stops by itself after 135): raising it alone does not close the gap.
        mini_batch = OURS in stopped and ours["solver"] != ref["solver"]
        advice = (
            f"raise --max-iter, though {ours['solver']} (a mini-batch solver) stops near the optimum, not on it; use "
            "--solver lbfgs to compare like with like"
            if mini_batch
            else "raise --max-iter"
        )
        return (
            f"{names} reached max_iter={ours['max_iter']} before meeting tol={ours['tol']:g}, so "
            f"{'they stop' if len(stopped) == 2 else 'it stops'} short of the optimum; {advice}."
        )
    if ours["solver"] != ref["solver"]:
        return (
            f"Different solvers: our {ours['solver']} is a mini-batch stochastic method that stops when the loss "
            f"stops improving by tol, while scikit-learn's {ref['solver']} stops on the gradient; its objective "
            f"is {gap[OURS]:.2e} above the optimum (scikit-learn's {gap[REF]:.2e}). Use --solver lbfgs to compare "
            "like with like."
        )
    flat = ""
    if math.isinf(C) and agreement["max_abs_coef_diff"] > 100 * agreement["max_abs_proba_diff"]:
        flat = (
            " Without a penalty (--C inf) the objective is nearly flat along some directions, so coefficients "
            "differ far more than probabilities."
        )
    # "The same optimum" only where both are at it: two fits that agree with each other far from it (--tol 10:
    # no iteration at all) are two fits stopped alike.
    scale = max(abs(reference["objective"]), 1.0)
    at_optimum = [name for name in rows if gap[name] <= 1e-6 * scale]
    if close and len(at_optimum) == len(rows):
        return (
            f"Both reach the same optimum: predicted probabilities agree to {agreement['max_abs_proba_diff']:.1e}."
            f"{flat}"
        )
    # Twice tol: a float32 fit stops on a float32 gradient whose rounding is well below tol, not on this float64 one.
    unmet = [name for name in rows if rows[name]["gradient_max"] > 2 * ours["tol"]]
    if close and not unmet:
        return (
            f"Both stop at the same point, {gap[OURS]:.1e} (ours) and {gap[REF]:.1e} (scikit-learn) above the "
            f"optimum: predicted probabilities agree to {agreement['max_abs_proba_diff']:.1e}, and tol="
            f"{ours['tol']:g} stops both short of the optimum; a smaller --tol brings both to it.{flat}"
        )
    if len(at_optimum) == 1 and max(gap.values()) > 1e-3 * scale:
        behind = next(name for name in rows if name not in at_optimum)
        also = " (and its tight-tolerance reference fit)" if reference.get("lowest_of") else ""
        return (
            f"{behind}{also} stops {gap[behind]:.1e} above the optimum {at_optimum[0]} reaches: its solver met its "
            f"stopping rule (tol={ours['tol']:g}) far from the optimum on these data; the lower objective is the "
            "better fit of the same objective."
        )
    if unmet:
        who = "Neither fit met" if len(unmet) == len(rows) else f"{unmet[0]} did not meet"
        missed = (
            f"{who} tol={ours['tol']:g} on the largest gradient entry (ours {rows[OURS]['gradient_max']:.1e}, "
            f"scikit-learn's {rows[REF]['gradient_max']:.1e}): "
        )
        if ours["solver"] == "lbfgs":
            # Both L-BFGS fits also stop when an iteration lowers the objective by less than ftol = 64 float64
            # epsilons times max(|f|, 1) (scikit-learn's rule, reported as convergence without a warning; ours follows
            # it): a tol below what that resolves is never met, and "a smaller --tol" would change nothing (breast
            # cancer, C=1e8, tol=1e-13: both stop with gradients of 3e-11 and 1e-10).
            return missed + (
                f"L-BFGS also stops when an iteration lowers the objective by less than 64 float64 epsilons times "
                f"max(|objective|, 1) ({FTOL * scale:.1e} here; scikit-learn reports that as convergence, without a "
                f"warning), and that came first. Both stop near the optimum: objectives {gap[OURS]:.1e} (ours) and "
                f"{gap[REF]:.1e} (scikit-learn) above it. A smaller --tol changes nothing; --solver newton-cholesky "
                f"reaches the optimum itself (with few features, on data that are not nearly separable).{flat}"
            )
        # newton-cholesky has no ftol rule, but a step that no longer lowers the objective in float64 ends it too.
        return missed + (
            f"the Newton steps stopped lowering the objective in float64 first. Objectives {gap[OURS]:.1e} (ours) "
            f"and {gap[REF]:.1e} (scikit-learn) above the optimum; a smaller --tol changes nothing.{flat}"
        )
    precision = " (with --dtype float64)" if ours["dtype"] == "float32" else ""
    return (
        f"Both stop at tol={ours['tol']:g} (the largest gradient entry), each at a different point near the "
        f"optimum: objectives {gap[OURS]:.1e} (ours) and {gap[REF]:.1e} (scikit-learn) above it; a smaller --tol"
        f"{precision} brings them together.{flat}"
    )


def versions():
    import sklearn

    from . import __version__

    return {
        "torchlogit": __version__,
        "torch": torch.__version__,
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def format_table(rows, agreement, reference=None):
    """The report: settings side by side, metrics, objectives, agreement and the explanation."""
    names = list(rows)
    width = max(len(n) for n in names) + 2

    def line(label, values):
        return f"{label:<22}" + "".join(f"{v:>{width}}" for v in values)

    lines = [line("", names), "-" * (22 + width * len(names))]
    settings = [
        ("solver", "solver", str),
        ("device", "device", str),
        ("dtype", "dtype", str),
        ("tol", "tol", "{:g}".format),
        ("max_iter", "max_iter", str),
        ("iterations used", "iterations", str),
    ]
    for label, key, fmt in settings:
        lines.append(line(label, [fmt(rows[n][key]) for n in names]))
    lines.append(line("objective (float64)", [f"{rows[n]['objective']:.10g}" for n in names]))
    if reference is not None:
        # Separable classes without a penalty have no optimum: the reference fit's objective is where it stopped.
        label = "  above the reference" if reference.get("separable") else "  above the optimum"
        lines.append(line(label, [f"{rows[n]['objective'] - reference['objective']:.2e}" for n in names]))
    lines.append(line("largest gradient", [f"{rows[n]['gradient_max']:.2e}" for n in names]))  # what tol bounds
    lines.append(line("test accuracy", [f"{rows[n]['accuracy']:.4f}" for n in names]))
    lines.append(line("test log-loss", [f"{rows[n]['log_loss']:.4f}" for n in names]))
    lines.append(line("fit (s)", [f"{rows[n]['fit_time']:.4f}" for n in names]))
    lines.append(line("  threads", [rows[n]["threads"] for n in names]))
    per_iteration = [  # no iteration taken: nothing to divide by (the fit's time was all set-up)
        f"{1e3 * rows[n]['fit_time'] / rows[n]['iterations']:.3f}" if rows[n]["iterations"] else "-" for n in names
    ]
    lines.append(line("  per iteration (ms)", per_iteration))  # the fit's time over its iterations, set-up included
    lines.append(line("predict (s)", [f"{rows[n]['predict_time']:.5f}" for n in names]))
    lines.append("")
    if reference is not None:
        state = "converged" if reference["converged"] else "did not converge"
        if reference["separable"]:
            state += "; separable classes: no finite optimum"
        lowest = reference.get("lowest_of")
        lines.append(
            f"tight optimum (LogisticRegression solver={reference['solver']}, float64, tol={reference['tol']:g}, "
            f"{reference['iterations']} iterations, {state}): objective {reference['objective']:.10g}"
            + (
                ""
                if lowest is None
                else f", the objective {lowest} reached (the reference fit stopped above it, so it is not the optimum)"
            )
        )
    lines.append(
        "objective: the penalised mean training log-loss both models minimise, in float64 (lower is better); "
        "fit and predict: the best of up to 5 runs; scikit-learn's fit timed on its default threads and on one BLAS "
        "thread, torchlogit's (past its small-fit rule) on torch's threads and on one, the faster shown."
    )
    lines.append(f"max |predict_proba difference|: {agreement['max_abs_proba_diff']:.2e}")
    lines.append(f"max |coef difference|:          {agreement['max_abs_coef_diff']:.2e}")
    if "max_abs_intercept_diff" in agreement:
        lines.append(f"max |intercept difference|:     {agreement['max_abs_intercept_diff']:.2e}")
    for key in ("explanation", "timing"):
        if key in agreement:
            lines.append("")
            lines.append(agreement[key])
    return "\n".join(lines)


# ------------------------------------------------------------------- inputs
def load_csv(path, target):
    """Features and labels from a CSV file (pandas): every column but ``target`` must be numeric, without NaN."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is in the test extra
        raise ValueError("--csv needs pandas: pip install pandas") from None
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise ValueError(f"no such file: {path}") from None
    except OSError as exc:  # a directory, a file without read permission
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"cannot read {path} as CSV: {exc}") from None
    if len(frame) == 0:
        raise ValueError(f"{path} has a header but no data rows")
    if target not in frame.columns:
        raise ValueError(f"column {target!r} is not in {path}; its columns are {list(frame.columns)}")
    features = frame.drop(columns=[target])
    if features.shape[1] == 0:
        raise ValueError(f"{path} has no feature columns besides --target {target!r}")
    non_numeric = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if non_numeric:
        raise ValueError(f"non-numeric feature columns in {path}: {non_numeric} (encode them first)")
    X = features.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(X)
    if bad.any():
        columns = [str(c) for c, count in zip(features.columns, bad.sum(axis=0), strict=True) if count]
        raise ValueError(
            f"missing (NaN) or infinite values in feature column(s) {columns} of {path} "
            f"({int(bad.sum())} cells); impute or drop them first"
        )
    labels = frame[target]
    if labels.isna().any():
        raise ValueError(f"target column {target!r} of {path} has {int(labels.isna().sum())} missing values")
    if pd.api.types.is_float_dtype(labels) and not np.isfinite(labels.to_numpy()).all():
        # type_of_target's own words named neither the column nor the file, after a NumPy cast warning.
        n_infinite = int((~np.isfinite(labels.to_numpy())).sum())
        raise ValueError(f"target column {target!r} of {path} has {n_infinite} infinite values")
    return X, labels.to_numpy()


def check_labels(y, source):
    """Class labels, not a continuous quantity (or a single class)."""
    kind = type_of_target(y)
    if kind == "continuous":
        raise ValueError(
            f"the target of {source} is continuous ({len(np.unique(y))} distinct float values); "
            "compare needs class labels (integers or strings)"
        )
    if kind not in ("binary", "multiclass"):
        raise ValueError(f"the target of {source} must be class labels, got a {kind} target")
    if len(np.unique(y)) < 2:
        raise ValueError(f"the target of {source} has a single class; compare needs at least two")


def synthetic(random_state, n_samples=20_000, n_features=50):
    X, y = datasets.make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=min(10, n_features),
        n_redundant=0,
        n_repeated=0,
        # One cluster per class when a single feature is informative: make_classification needs
        # 2 * n_clusters_per_class <= 2 ** n_informative.
        n_clusters_per_class=1 if n_features == 1 else 2,
        random_state=random_state,
    )
    return X, y


# --------------------------------------------------------------------- plot
def _finite_json(value):
    """``value`` with every non-finite float written as a string ("inf", "-inf", "nan"): strict JSON has no
    Infinity or NaN (``--C inf`` is a setting, and scores can be infinite)."""
    if isinstance(value, dict):
        return {k: _finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_json(v) for v in value]
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return str(float(value))
    return value


def check_plot_path(path):
    """Fail before any fitting if the plot cannot be written there, or matplotlib is missing.

    The path first: its message is the same with or without matplotlib installed."""
    folder = Path(path).resolve().parent
    if Path(path).is_dir():  # found here, not by savefig after the whole run
        raise ValueError(f"cannot write --plot {path}: it is a directory")
    if Path(path).exists() and not os.access(path, os.W_OK):
        raise ValueError(f"cannot write --plot {path}: the file is not writable")
    if not folder.is_dir():
        raise ValueError(f"cannot write --plot {path}: directory {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"cannot write --plot {path}: directory {folder} is not writable")
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ValueError("--plot needs matplotlib: pip install matplotlib") from None
    formats = Figure().canvas.get_supported_filetypes()
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in formats:
        raise ValueError(
            f"cannot write --plot {path}: its name must end in a format matplotlib writes "
            f"({', '.join('.' + f for f in sorted(formats))})"
        )


def plot(rows, coef, path, title=""):
    """Coefficient differences (ours minus scikit-learn's) and fit/predict times, each on its own scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(rows)
    diff = (coef[OURS] - coef[REF]).ravel()
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(13, 4), gridspec_kw={"width_ratios": [2, 1, 1]})
    left.axhline(0, color="grey", linewidth=1)
    left.plot(np.arange(diff.size), diff, "o", markersize=3)
    left.set(
        xlabel="coefficient (row-major index into coef_)",
        ylabel=f"{OURS} - {REF}",
        title=f"Coefficient differences (max |diff| {np.abs(diff).max():.1e})",
    )
    left.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
    positions = np.arange(len(names))
    short = ["torchlogit", "sklearn"]
    for axis, key, label in ((middle, "fit_time", "fit"), (right, "predict_time", "predict")):
        values = [rows[n][key] for n in names]
        bars = axis.bar(positions, values, color=["C0", "C1"])
        axis.bar_label(bars, labels=[f"{v:.3g} s" for v in values])
        axis.set(xticks=positions, xticklabels=short, ylabel="seconds", title=f"{label} time")
        axis.set_ylim(0, max(values) * 1.2)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# ---------------------------------------------------------------------- CLI
class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show defaults, except for options whose absence means something (default None)."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings as one line each, without the source line they came from."""
    print(
        f"torchlogit compare: warning: {category.__name__}: {' '.join(str(message).split())}", file=file or sys.stderr
    )


def build_parser():
    parser = argparse.ArgumentParser(
        prog="torchlogit compare",
        description=(
            "TorchLogisticClassifier and scikit-learn's LogisticRegression side by side: the same split, "
            "standardisation, C, tol and max_iter; the report explains any difference."
        ),
        formatter_class=_HelpFormatter,
    )
    from . import __version__  # (here: the package imports this module)

    parser.add_argument("--version", action="version", version=f"torchlogit {__version__}")
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--dataset",
        choices=[*sorted(DATASETS), "synthetic"],
        default="breast_cancer",
        help="a dataset bundled with scikit-learn, or a synthetic one (make_classification)",
    )
    source.add_argument("--csv", metavar="PATH", help="a CSV file of numeric features and a label column (--target)")
    parser.add_argument("--target", metavar="COLUMN", help="the label column of --csv")
    parser.add_argument("--n-samples", type=int, default=None, help="rows of --dataset synthetic (default: 20000)")
    parser.add_argument("--n-features", type=int, default=None, help="features of --dataset synthetic (default: 50)")
    parser.add_argument("-C", "--C", type=float, default=1.0, help="inverse regularisation strength; inf: no penalty")
    parser.add_argument("--tol", type=float, default=1e-4, help="stopping tolerance, the same for both models")
    parser.add_argument("--max-iter", type=int, default=100, help="iteration limit, the same for both models")
    parser.add_argument(
        "--solver",
        choices=["lbfgs", "newton-cholesky", "adam", "sgd"],
        default="lbfgs",
        help=(
            "TorchLogisticClassifier's solver; scikit-learn uses the same one for lbfgs and newton-cholesky, "
            "and lbfgs facing the mini-batch solvers adam and sgd"
        ),
    )
    parser.add_argument(
        "--device",
        default="cpu",
        help="torch device of TorchLogisticClassifier: cpu, cuda, cuda:N, auto (not mps, which predicts only)",
    )
    parser.add_argument(
        "--dtype",
        choices=["float32", "float64"],
        default="float32",
        help="TorchLogisticClassifier's precision (scikit-learn computes in float64)",
    )
    parser.add_argument("--test-size", type=float, default=0.25, help="fraction of rows held out for the test metrics")
    parser.add_argument("--random-state", type=int, default=0, help="seed of the split (and of mini-batch shuffling)")
    parser.add_argument("--plot", metavar="PATH.png", help="also write coefficient differences and timings as a PNG")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON instead of the table")
    return parser


def _check_arguments(args):
    if args.target and not args.csv:
        raise ValueError("--target needs --csv PATH")
    if args.csv and not args.target:
        raise ValueError("--csv needs --target COLUMN")
    sized = args.n_samples is not None or args.n_features is not None
    if sized and (args.csv or args.dataset != "synthetic"):
        raise ValueError("--n-samples and --n-features need --dataset synthetic")
    for option, value, low in (
        ("--n-samples", args.n_samples, 20),
        ("--n-features", args.n_features, 1),
        ("--max-iter", args.max_iter, 1),
    ):
        if value is not None and value < low:
            raise ValueError(f"{option} must be at least {low}, got {value}")
    if not (args.tol > 0 and math.isfinite(args.tol)):
        raise ValueError(f"--tol must be positive and finite, got {args.tol}")
    if not (args.C > 0):
        raise ValueError(f"--C must be positive (or inf), got {args.C}")
    if not 0 < args.test_size < 1:
        raise ValueError(f"--test-size must be between 0 and 1, got {args.test_size}")
    if not 0 <= args.random_state < 2**32:  # train_test_split's range, in the option's name
        raise ValueError(f"--random-state must be between 0 and 4294967295, got {args.random_state}")
    try:  # before the data are loaded and "fitting both models" is printed (the warm-up fit found it before)
        # compare trains: MPS was refused only by the first fit; the error names the estimator that trains
        refuse_mps_training(resolve_device(args.device, "TorchLogisticClassifier"))
    except ValueError as exc:
        raise ValueError(f"--device {args.device!r}: {exc}") from None
    if args.plot:
        check_plot_path(args.plot)


def _load(args):
    if args.csv:
        X, y = load_csv(args.csv, args.target)
        name = args.csv
        check_labels(y, f"{args.csv} (column {args.target!r})")
    elif args.dataset == "synthetic":
        n_samples = 20_000 if args.n_samples is None else args.n_samples
        n_features = 50 if args.n_features is None else args.n_features
        X, y = synthetic(args.random_state, n_samples, n_features)
        name = "synthetic"
    else:
        X, y = DATASETS[args.dataset](return_X_y=True)
        name = args.dataset
    return X, y, name


def main(argv=None):
    """``torchlogit compare`` (also ``python -m torchlogit``); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["compare"]:
        argv = argv[1:]
    parser = build_parser()
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        return _run(parser, args)


def _run(parser, args):
    try:
        _check_arguments(args)
        X, y, name = _load(args)
        print(
            f"fitting both models on {name} ({X.shape[0]} samples, {X.shape[1]} features) ...",
            file=sys.stderr,
            flush=True,
        )
        rows, agreement, coef, reference = compare(
            X,
            y,
            C=args.C,
            device=args.device,
            dtype=args.dtype,
            solver=args.solver,
            tol=args.tol,
            max_iter=args.max_iter,
            test_size=args.test_size,
            random_state=args.random_state,
        )
    except ValueError as exc:
        parser.exit(2, f"torchlogit compare: error: {exc}\n")
    except MemoryError:  # --n-samples x --n-features past this machine's memory: one line, not NumPy's traceback
        parser.exit(
            2, "torchlogit compare: error: not enough memory for this data; lower --n-samples or --n-features\n"
        )
    for model, row in rows.items():
        for text in row["warnings"]:
            print(f"torchlogit compare: warning ({model}): {text}", file=sys.stderr)
    n_classes = len(np.unique(y))
    if args.json:
        report = {
            "dataset": name,
            "n_samples": int(X.shape[0]),
            "n_features": int(X.shape[1]),
            "n_classes": int(n_classes),
            "settings": {
                k: getattr(args, k)
                for k in ("C", "tol", "max_iter", "solver", "device", "dtype", "test_size", "random_state")
            },
            "models": rows,
            "tight_optimum": reference,
            "agreement": agreement,
            "versions": versions(),
        }
        print(json.dumps(_finite_json(report), indent=2, default=float, allow_nan=False))
    else:
        print(
            f"dataset: {name} ({X.shape[0]} samples, {X.shape[1]} features, {n_classes} classes), "
            f"C={args.C:g}, device={args.device}, test size {args.test_size:g}\n"
        )
        print(format_table(rows, agreement, reference), flush=True)
    if args.plot:
        title = (
            f"{name}: C={args.C:g}, tol={args.tol:g}, max_iter={args.max_iter}, "
            f"torchlogit {args.solver}/{args.dtype} vs sklearn {reference_solver(args.solver)}/float64"
        )
        try:
            plot(rows, coef, args.plot, title)
        except OSError as exc:
            parser.exit(2, f"torchlogit compare: error: cannot write --plot {args.plot}: {exc.strerror or exc}\n")
        print(f"wrote the plot to {Path(args.plot).resolve()}", file=sys.stderr)
    return 0


def main_exit():
    """Console-script entry point."""
    sys.exit(main())
