"""The version matrix: the suite on the oldest versions pyproject.toml declares, and on the newest.

    nox -s lowest latest          # each session makes its own venv under .nox/, installs torch first

``lowest`` is the floor of every declared range (``uv pip install --resolution lowest-direct``: each
direct dependency at its lower bound, their own dependencies as new as those allow) on the oldest Python
we declare; ``latest`` is the newest release of everything on the newest Python at hand. Both install
torch by itself first, at the version named below, so the resolver never swaps it.

torch on the package index: PyPI ships Linux x86-64 torch as CUDA builds, which need the ``nvidia-*``
libraries (about 3 GB for torch 2.2) even to run on a CPU; a ``+cpu`` wheel exists only on PyTorch's own
index, or where a machine keeps one locally (``PIP_FIND_LINKS``). The sessions therefore install the CUDA
build from PyPI and run it on the CPU; the first run of a session downloads a few GB (uv caches them).

Neither session is part of CI (``.ci/run``): ``lowest`` alone installs about 5 GB (5 minutes from an empty
cache) and runs the suite a second time, more than the suite's 15-minute budget leaves. docs/install.rst lists what
each session installs.

Times (this project's 2-core machine, quiet, 2026-12-04): lowest 837 s (1436 passed, 42 skipped), latest
681 s (1565 passed, 93 skipped); on a machine shared with other work, 35 to 40 minutes each.

The dask, docs and example tests are left out of ``lowest``: their extras (dask-ml, sphinx-gallery,
matplotlib...) are not part of the declared floors of the package itself.
"""

import os
import platform

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["lowest", "latest"]
nox.options.error_on_missing_interpreters = True

# Keep in step with pyproject.toml: the floors of [project.dependencies] and the "test" extra.
LOWEST_PYTHON = "3.10"
LOWEST_TORCH = "2.2.0"
LATEST_PYTHON = "3.13"

# pyenv's shims answer only for the versions it is told to expose; expose every installed one, so that
# nox finds python3.10 and python3.13 on machines that manage Pythons with pyenv.
_pyenv = os.path.expanduser(os.environ.get("PYENV_ROOT", "~/.pyenv"))
if "PYENV_VERSION" not in os.environ and os.path.isdir(os.path.join(_pyenv, "versions")):
    # The running interpreter's version first, so a bare "python" still means the one nox runs on.
    _versions = sorted(os.listdir(os.path.join(_pyenv, "versions")), key=lambda v: v != platform.python_version())
    os.environ["PYENV_VERSION"] = ":".join(_versions)

PYTEST = ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider"]


def _report_versions(session):
    session.run(
        "python",
        "-c",
        "import sys, importlib.metadata as m; print('python', sys.version.split()[0]); "
        "[print(p, m.version(p)) for p in ('torch', 'numpy', 'scipy', 'scikit-learn', 'skorch', "
        "'pandas', 'statsmodels', 'hypothesis', 'pytest', 'skops', 'onnx', 'skl2onnx', 'onnxruntime')]",
    )


@nox.session(python=LOWEST_PYTHON)
def lowest(session):
    """The oldest declared versions (dask, docs and example tests excluded)."""
    session.install(f"torch=={LOWEST_TORCH}")
    session.install("--resolution", "lowest-direct", f"torch=={LOWEST_TORCH}", "-e", ".[test]")
    _report_versions(session)
    session.run(
        *PYTEST,
        "--ignore=tests/test_dask.py",
        "--ignore=tests/test_docs.py",
        "--ignore=tests/test_examples.py",
        "--ignore=torchlogit/_dask.py",
        *session.posargs,
    )


@nox.session(python=LATEST_PYTHON)
def latest(session):
    """The newest release of every dependency, extras included."""
    session.install("--upgrade", "torch")
    session.install("--upgrade", "--resolution", "highest", "-e", ".[test,dask,docs]")
    _report_versions(session)
    session.run(*PYTEST, *session.posargs)
