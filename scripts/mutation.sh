#!/usr/bin/env bash
# Mutation testing with mutmut 3 (not part of CI): see scripts/mutation.toml and docs/mutation_report.md.
#   scripts/mutation.sh                      # every module in scripts/mutation.toml
#   scripts/mutation.sh _objective _rows     # some of them
#   scripts/mutation.sh --max-children 1 --resume _rows
# Runs under `nice -n 19`; results in .mutation/<module>/report.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
exec nice -n 19 "$PYTHON" scripts/mutation.py "$@"
