#!/usr/bin/env bash
# The README's test command: sets up a virtual environment (.venv) with the project and its test extras, then
# runs the whole test suite on 2 workers. PostgreSQL tests use ARCHIVE_TEST_DATABASE_URL (default: the local
# server at 127.0.0.1:5432, database "test", when it answers); Redis tests use 127.0.0.1:6379.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup-env.sh
source scripts/setup-env.sh test
if [ -z "${ARCHIVE_TEST_DATABASE_URL:-}" ]; then
  if python - <<'PY' 2>/dev/null
import psycopg; psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", connect_timeout=3).close()
PY
  then
    export ARCHIVE_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:5432/test"
  else
    echo "note: no PostgreSQL at 127.0.0.1:5432 and ARCHIVE_TEST_DATABASE_URL unset: PostgreSQL tests will be skipped" >&2
  fi
fi
exec python -m pytest -n 2 "$@"
