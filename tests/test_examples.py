"""Every gallery example runs offline and does what it says."""

import runpy
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path, capsys):
    runpy.run_path(str(path), run_name="__main__")
    assert capsys.readouterr().out


def test_text_example_keeps_only_topic_words(capsys):
    namespace = runpy.run_path(str(Path(__file__).parents[1] / "examples" / "plot_text_l1.py"))
    clf, words = namespace["clf"], namespace["words"]
    kept = set(words[np.flatnonzero(clf.coef_[0])])
    topic_words = set(namespace["topics"]["sport"]) | set(namespace["topics"]["cooking"])
    assert kept and kept <= topic_words  # shared words are dropped exactly
    assert namespace["model"].score(namespace["docs_test"], namespace["y_test"]) > 0.95
