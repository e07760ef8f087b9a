#!/usr/bin/env bash
# Set everything up (idempotent), lint, type-check and run the whole test suite.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh" test
cd "$root"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# mypy (files and strictness: [tool.mypy] in pyproject.toml) takes about a minute from a cold
# cache; it runs beside pytest, which keeps about one of the machine's two cores busy.
mypy_log="$(mktemp)"
trap 'rm -f "$mypy_log"' EXIT
.venv/bin/mypy >"$mypy_log" 2>&1 &
mypy_pid=$!
# librosa's numba helpers compile into their cache on the same idle core (a no-op when warm;
# the bot's first cover or enrolment gains from it, the suite's wall time hardly).
.venv/bin/python scripts/warm_librosa.py >/dev/null 2>&1 &
warm_pid=$!
status=0
# Two workers (PARROT_TEST_WORKERS), each running whole modules so that a module's model
# fixtures load once; one torch thread per worker keeps the two cores from being oversubscribed.
workers="${PARROT_TEST_WORKERS:-2}"
OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" .venv/bin/python -m pytest -n "$workers" --dist loadfile "$@" \
  || status=$?
PARROT_TEST_RAY=1 .venv/bin/python -m pytest -q tests/remote || status=$?  # own process: Ray
wait "$warm_pid" || echo "test.sh: warming librosa's JIT cache failed (harmless)" >&2
if wait "$mypy_pid"; then
  cat "$mypy_log"
else
  cat "$mypy_log"
  echo "test.sh: mypy failed" >&2
  status=1
fi
exit "$status"
