"""Every gallery example runs offline and shows what its text says."""

import runpy
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib", reason="the gallery examples draw with matplotlib")
matplotlib.use("Agg")

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("plot_*.py"))


def run(name):
    import matplotlib.pyplot as plt

    try:
        return runpy.run_path(str(EXAMPLES[0].parent / name), run_name="__main__")
    finally:
        plt.close("all")


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path, capsys):
    run(path.name)
    assert capsys.readouterr().out


def test_text_example_keeps_only_topic_words():
    namespace = run("plot_text_l1.py")
    clf, words = namespace["clf"], namespace["words"]
    kept = set(words[np.flatnonzero(clf.coef_[0])])
    topic_words = set(namespace["topics"]["sport"]) | set(namespace["topics"]["cooking"])
    assert kept and kept <= topic_words  # shared words are dropped exactly
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
