#!/usr/bin/env bash
# Set everything up (idempotent) and run the bot. Needs DISCORD_TOKEN (environment or .env).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh" run
cd "$root"
exec .venv/bin/parrot run "$@"
