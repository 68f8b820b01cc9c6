#!/usr/bin/env bash
# The main job: TorchLogisticClassifier and sklearn's LogisticRegression side by side.
# Extra arguments go to `python -m torchlogit` (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test >&2
exec .venv/bin/python -m torchlogit "$@"
