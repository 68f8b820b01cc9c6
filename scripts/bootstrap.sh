#!/usr/bin/env bash
# Make (once) and refresh the project's virtual environment in .venv, with the test, docs and dask extras.
# torch==2.13.0 is installed first: on this project's machines it is a local CPU wheel,
# whereas letting pip resolve a bare "torch" would download a multi-GB CUDA build.
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
    .venv/bin/python -m pip install --quiet "torch==2.13.0"
    .venv/bin/python -m pip install --quiet -e ".[${1:-test,docs,dask}]"
    echo "$want" > "$stamp"
fi
