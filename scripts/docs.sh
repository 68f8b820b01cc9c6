#!/usr/bin/env bash
# Build the documentation (gallery executed) into docs/_build/html. Extra arguments go to sphinx-build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python -m sphinx -W -b html "$@" docs docs/_build/html
