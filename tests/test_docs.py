"""The documentation builds with no warnings, every gallery example executed (what issue 7 asks of CI).

The build runs on a copy of ``docs/`` and ``examples/`` so that it always starts clean
(sphinx-gallery skips examples it has run before) and leaves the checkout untouched.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx", reason="the docs extras are not installed (pip install -e '.[docs]')")
pytest.importorskip("sphinx_gallery")
pytest.importorskip("numpydoc")
pytest.importorskip("pydata_sphinx_theme")

ROOT = Path(__file__).parents[1]
GENERATED = shutil.ignore_patterns("_build", "auto_examples", "generated", "gen_modules", "sg_execution_times.rst")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = tmp_path_factory.mktemp("docs")
    shutil.copytree(ROOT / "docs", work / "docs", ignore=GENERATED)
    shutil.copytree(ROOT / "examples", work / "examples")
    shutil.copy(ROOT / "CHANGELOG.md", work / "CHANGELOG.md")  # docs/changelog.rst includes it
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html"],
        cwd=work,
        capture_output=True,
        text=True,
        # generous: the build executes the whole gallery; a loaded machine may set more
        timeout=float(os.environ.get("TORCHLOGIT_DOCS_TIMEOUT", 900)),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return work / "docs"


def test_build_has_every_page(built):
    html = built / "_build" / "html"
    for page in [
        "index.html",
        "getting_started.html",
        "api.html",
        "generated/torchlogit.TorchLogisticClassifier.html",
        "generated/torchlogit.TorchMultiLabelClassifier.html",
        "user_guide/objective.html",
        "user_guide/inference.html",
        "user_guide/scaling.html",
        "auto_examples/index.html",
        "install.html",
        "migrating.html",
        "faq.html",
        "changelog.html",
    ]:
        assert (html / page).is_file(), page
    api = (html / "generated/torchlogit.TorchLogisticClassifier.html").read_text()
    for method in ["fit", "partial_fit", "predict_proba", "decision_function", "summary", "save", "load", "score"]:
        assert f'id="torchlogit.TorchLogisticClassifier.{method}"' in api, method


def test_every_example_ran_without_warnings(built):
    examples = sorted(p.stem for p in (ROOT / "examples").glob("plot_*.py"))
    assert len(examples) >= 5
    for name in examples:
        page = (built / "auto_examples" / f"{name}.rst").read_text()
        seconds = [float(s) for s in re.findall(r"\(0 minutes ([\d.]+) seconds\)", page)]
        assert seconds, f"{name} did not run in under a minute"
        outputs = "\n".join(re.findall(r"sphx-glr-script-out\n\n .. code-block:: none\n\n(.*?)\n\n\n", page, re.S))
        assert "Warning:" not in outputs, f"{name} warns:\n{outputs}"


def test_math_renders_without_network(built):
    """Formulas use the MathJax shipped in _static, never a CDN, so an offline build renders them."""
    html = built / "_build" / "html"
    page = (html / "user_guide" / "objective.html").read_text()
    scripts = re.findall(r'<script[^>]*src="([^"]*mathjax[^"]*)"', page, re.I)
    assert scripts, "the objective page loads no MathJax"
    for src in scripts:
        assert not src.startswith(("http:", "https:", "//")), src
        assert (html / "user_guide" / src.split("?")[0]).resolve().is_file(), src
    for path in html.rglob("*.html"):
        text = path.read_text()
        assert "cdn.jsdelivr.net" not in text and "mathjax@" not in text, path


def test_api_pages_are_each_classs_own(built):
    html = built / "_build" / "html" / "generated"
    logistic = (html / "torchlogit.TorchLogisticClassifier.html").read_text()
    assert "n_labels" not in logistic and "see the subclass" not in logistic
    assert "__init__" not in logistic  # no empty row, no second signature
    assert "Examples using" in logistic and "auto_examples/plot_hours_passing" in logistic
    multilabel = (html / "torchlogit.TorchMultiLabelClassifier.html").read_text()
    assert "Subset accuracy" in multilabel
    for exception in ("InferenceWarning", "ModelFileError"):
        text = (html / f"torchlogit.{exception}.html").read_text()
        assert "add_note" not in text and "with_traceback" not in text, exception


def test_gallery_starts_with_the_introductory_example(built):
    index = (built / "_build" / "html" / "auto_examples" / "index.html").read_text()
    order = re.findall(r'href="(plot_\w+)\.html"', index)
    assert order and order[0] == "plot_hours_passing", order
