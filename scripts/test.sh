#!/usr/bin/env bash
# Set everything up (idempotent), lint, type-check and run the whole test suite.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh" test
cd "$root"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy  # files and strictness: [tool.mypy] in pyproject.toml
exec .venv/bin/python -m pytest "$@"
