"""Sphinx configuration: numpydoc, sphinx-gallery and the pydata theme, as in scikit-learn's ecosystem.

Builds offline: intersphinx tries each project's published inventory first and falls
back to a small local one (written below) listing only the pages these docs link to.
"""

import os
import sys
import zlib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # examples draw without a screen

import torchlogit  # noqa: E402

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

project = "torchlogit"
author = "the torchlogit developers"
copyright = "2026, the torchlogit developers"
version = release = torchlogit.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",  # CHANGELOG.md is included as Markdown
    "matplotlib.sphinxext.plot_directive",  # performance.rst: plots drawn from the benchmark's JSON
]
plot_html_show_source_link = False
plot_html_show_formats = False
# Long titles and axis labels (the machine, the ratio's definition) are kept inside the image.
plot_rcparams = {"savefig.bbox": "tight"}
source_suffix = {".rst": "restructuredtext"}  # pages are rst; Markdown only where included
exclude_patterns = [
    "_build",
    "_static",
    "_templates",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "mutation_report.md",  # a developers' report (scripts/mutation.sh), read in the repository
]
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
numpydoc_show_class_members = False  # autosummary lists members; numpydoc's own table would duplicate them
numpydoc_class_members_toctree = False
default_role = "code"

html_theme = "pydata_sphinx_theme"
html_title = f"torchlogit {release}"
html_theme_options = {"navigation_with_keys": False, "show_prev_next": False, "header_links_before_dropdown": 5}
html_static_path = ["_static"]
html_css_files = ["torchlogit.css"]
templates_path = ["_templates"]
# "fit()" rather than "TorchLogisticClassifier.fit()" in the page's table of contents.
toc_object_entries_show_parents = "hide"
# MathJax is vendored (docs/_static/mathjax): formulas render with no network, also from file://.
mathjax_path = "mathjax/tex-svg.js"

# ----------------------------------------------------------------- intersphinx
# External objects these docs refer to, by project: (object, role, page under the base URL).
# Used only when the published inventory cannot be fetched (no network, as in CI).
EXTERNAL = {
    "sklearn": (
        "https://scikit-learn.org/stable/",
        [
            (
                "sklearn.linear_model.LogisticRegression",
                "py:class",
                "modules/generated/sklearn.linear_model.LogisticRegression.html",
            ),
            (
                "sklearn.neural_network.MLPClassifier",
                "py:class",
                "modules/generated/sklearn.neural_network.MLPClassifier.html",
            ),
            (
                "sklearn.multioutput.MultiOutputClassifier",
                "py:class",
                "modules/generated/sklearn.multioutput.MultiOutputClassifier.html",
            ),
            (
                "sklearn.model_selection.GridSearchCV",
                "py:class",
                "modules/generated/sklearn.model_selection.GridSearchCV.html",
            ),
            ("sklearn.pipeline.Pipeline", "py:class", "modules/generated/sklearn.pipeline.Pipeline.html"),
            (
                "sklearn.preprocessing.StandardScaler",
                "py:class",
                "modules/generated/sklearn.preprocessing.StandardScaler.html",
            ),
            (
                "sklearn.utils.estimator_checks.check_estimator",
                "py:function",
                "modules/generated/sklearn.utils.estimator_checks.check_estimator.html",
            ),
        ],
    ),
    "torch": (
        "https://docs.pytorch.org/docs/stable/",
        [
            ("torch.device", "py:class", "tensor_attributes.html#torch.device"),
            ("torch.optim.LBFGS", "py:class", "generated/torch.optim.LBFGS.html"),
            ("torch.optim.Adam", "py:class", "generated/torch.optim.Adam.html"),
            ("torch.optim.SGD", "py:class", "generated/torch.optim.SGD.html"),
            ("torch.nn.BCEWithLogitsLoss", "py:class", "generated/torch.nn.BCEWithLogitsLoss.html"),
        ],
    ),
    "skorch": (
        "https://skorch.readthedocs.io/en/stable/",
        [
            ("skorch.net.NeuralNet", "py:class", "net.html#skorch.net.NeuralNet"),
            ("skorch.callbacks.Callback", "py:class", "callbacks.html#skorch.callbacks.Callback"),
            ("skorch.history.History", "py:class", "history.html#skorch.history.History"),
        ],
    ),
    "numpy": (
        "https://numpy.org/doc/stable/",
        [("numpy.ndarray", "py:class", "reference/generated/numpy.ndarray.html")],
    ),
    "pandas": (
        "https://pandas.pydata.org/docs/",
        [("pandas.DataFrame", "py:class", "reference/api/pandas.DataFrame.html")],
    ),
    "statsmodels": (
        "https://www.statsmodels.org/stable/",
        [
            (
                "statsmodels.discrete.discrete_model.Logit",
                "py:class",
                "generated/statsmodels.discrete.discrete_model.Logit.html",
            ),
            (
                "statsmodels.discrete.discrete_model.MNLogit",
                "py:class",
                "generated/statsmodels.discrete.discrete_model.MNLogit.html",
            ),
        ],
    ),
}


def _write_inventory(path, project, entries):
    """A Sphinx objects.inv (version 2) naming ``entries``: the format intersphinx reads."""
    header = (
        f"# Sphinx inventory version 2\n# Project: {project}\n# Version: \n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    lines = "".join(f"{name} {role} 1 {uri} -\n" for name, role, uri in entries)
    path.write_bytes(header.encode() + zlib.compress(lines.encode()))


_inventories = HERE / "_build" / "inventories"
_inventories.mkdir(parents=True, exist_ok=True)
intersphinx_mapping = {}
for _name, (_url, _entries) in EXTERNAL.items():
    _write_inventory(_inventories / f"{_name}.inv", _name, _entries)
    intersphinx_mapping[_name] = (_url, (None, str(_inventories / f"{_name}.inv")))
intersphinx_timeout = 10


def _skip_metadata_routing(app, what, name, obj, skip, options):
    """scikit-learn's generated set_*_request / get_metadata_routing (routing plumbing, not our API),
    and what exceptions inherit from BaseException."""
    if name == "get_metadata_routing" or (name.startswith("set_") and name.endswith("_request")):
        return True
    if what == "exception" and hasattr(BaseException, name):  # add_note, with_traceback, args
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_routing)


# -------------------------------------------------------------- sphinx-gallery
sphinx_gallery_conf = {
    "examples_dirs": str(HERE.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "abort_on_example_error": True,
    "doc_module": ("torchlogit",),
    "backreferences_dir": "gen_modules/backreferences",
    "reference_url": {"torchlogit": None},
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "gallery_order.ExampleOrder",
}
os.environ.setdefault("PYTHONHASHSEED", "0")
