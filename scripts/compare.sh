#!/usr/bin/env bash
# The main job: TorchLogisticClassifier and sklearn's LogisticRegression side by side.
# Extra arguments go to `torchlogit compare` (try --help): --dataset, --csv PATH --target COL, --tol, --max-iter,
# --dtype float64, --json, --plot PATH.png, ...
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh >&2
exec .venv/bin/python -m torchlogit compare "$@"
