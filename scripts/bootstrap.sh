#!/usr/bin/env bash
# Make (once) and refresh the project's virtual environment in .venv, with the test, docs and dask extras.
# torch==2.13.0 is installed first, as a CPU build: PyPI's Linux torch wheels are CUDA builds that pull
# several GB of nvidia-* libraries, and letting pip resolve a bare "torch" would take one. Where pip's
# find-links hold the CPU wheel (this project's machines: /opt/wheels) that one is taken, offline; elsewhere
# PyTorch's CPU index (whose 2.13.0+cpu outranks PyPI's 2.13.0), which also serves macOS and Windows wheels.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
fi
stamp=.venv/.torchlogit-installed
want="$(cat pyproject.toml | sha1sum | cut -c1-40) ${1:-test,docs,dask}"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    if .venv/bin/python -m pip install --quiet --no-deps --no-index "torch==2.13.0" 2>/dev/null; then
        .venv/bin/python -m pip install --quiet "torch==2.13.0"  # its dependencies; torch itself is in place
    else
        .venv/bin/python -m pip install --quiet "torch==2.13.0" --extra-index-url https://download.pytorch.org/whl/cpu
    fi
    .venv/bin/python -m pip install --quiet -e ".[${1:-test,docs,dask}]"
    echo "$want" > "$stamp"
fi
