"""Every gallery example runs offline and shows what its text says."""

import contextlib
import functools
import io
import runpy
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib", reason="the gallery examples draw with matplotlib")
matplotlib.use("Agg")

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("plot_*.py"))


@functools.cache
def run(name):
    """The example's namespace, with ``printed`` (its output) and ``figures`` (what the gallery shows).

    Each example runs once per session; the tests only read what it left behind.
    """
    import matplotlib.pyplot as plt

    plt.close("all")
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output):
            namespace = runpy.run_path(str(EXAMPLES[0].parent / name), run_name="__main__")
        namespace["figures"] = [plt.figure(n) for n in plt.get_fignums()]
        namespace["printed"] = output.getvalue()
        return namespace
    finally:
        plt.close("all")


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs_prints_and_draws(path):
    namespace = run(path.name)
    assert namespace["printed"]
    assert namespace["figures"], f"{path.name} draws no figure: the gallery would show a placeholder thumbnail"


def test_grid_search_figure_has_a_curve_for_every_class_weight():
    namespace = run("plot_grid_search.py")
    grid, ax = namespace["grid"], namespace["ax"]
    settings = grid.param_grid["torchlogisticclassifier__class_weight"]
    n_C = len(grid.param_grid["torchlogisticclassifier__C"])
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == [f"class_weight={setting!r}" for setting in settings]  # None included
    assert len(ax.containers) == len(settings)
    for container in ax.containers:
        y = np.asarray(container.lines[0].get_ydata(), dtype=float)
        assert len(y) == n_C and np.all(np.isfinite(y))
    best = grid.best_params_["torchlogisticclassifier__class_weight"]
    assert f"class_weight={best!r}" in ax.get_legend().get_title().get_text()


def legend_hides(ax, x, y):
    """Whether the legend box covers any of the data points (x, y)."""
    ax.figure.canvas.draw()
    box = ax.get_legend().get_window_extent()
    return any(box.contains(*point) for point in ax.transData.transform(np.c_[x, y]))


def test_hours_legend_hides_no_student():
    namespace = run("plot_hours_passing.py")
    assert not legend_hides(namespace["ax"], namespace["hours"], namespace["passed"])


def test_inference_legend_hides_no_interval():
    namespace = run("plot_inference_vs_statsmodels.py")
    ours, rows = namespace["ours"], namespace["rows"]
    for column in ("ci_low", "coef", "ci_high"):
        assert not legend_hides(namespace["ax"], ours[column], rows)


def test_multilabel_f1_axis_starts_at_zero_and_ratio_is_printed():
    namespace = run("plot_multilabel_vs_mlp.py")
    assert namespace["axes"][0].get_xlim()[0] == 0
    ratio = namespace["times"]["torchlogit (64,)"] / namespace["times"]["MLPClassifier (64,)"]
    assert f"took {ratio:.1f}x as long" in namespace["printed"]


def test_iris_regions_and_contours_cover_the_whole_plot():
    namespace = run("plot_iris_regions.py")
    ax, xx, yy = namespace["ax"], namespace["xx"], namespace["yy"]
    assert ax.get_xlim() == (xx.min(), xx.max()) and ax.get_ylim() == (yy.min(), yy.max())
    # the shading is the predicted class, in the colours of the class markers
    predicted = namespace["clf"].predict(np.c_[xx.ravel(), yy.ravel()]).reshape(xx.shape)
    np.testing.assert_array_equal(namespace["predicted"], predicted)


def test_text_example_keeps_only_topic_words():
    namespace = run("plot_text_l1.py")
    clf, words = namespace["clf"], namespace["words"]
    kept = set(words[np.flatnonzero(clf.coef_[0])])
    topic_words = set(namespace["topics"]["sport"]) | set(namespace["topics"]["cooking"])
    assert kept and kept <= topic_words  # shared words are dropped exactly
    # the text's claim: every common word is exactly zero
    assert np.all(clf.coef_[0][namespace["is_shared"]] == 0) and namespace["is_shared"].sum() == 11
    assert namespace["model"].score(namespace["docs_test"], namespace["y_test"]) > 0.95


def test_hours_example_matches_sklearn():
    namespace = run("plot_hours_passing.py")
    np.testing.assert_allclose(namespace["clf"].coef_, namespace["ref"].coef_, rtol=1e-4)
    assert 2.5 < namespace["boundary"] < 3.0


def test_digits_example_reaches_sklearns_optimum():
    namespace = run("plot_digits_comparison.py")
    assert namespace["gap"] < 1e-4


def test_inference_example_agrees_with_statsmodels():
    namespace = run("plot_inference_vs_statsmodels.py")
    np.testing.assert_allclose(namespace["ours"]["std_err"], namespace["ref"].bse, rtol=1e-5)
    np.testing.assert_allclose(namespace["table"].loc[1, "std_err"], namespace["mn"].bse[0], rtol=1e-5)
