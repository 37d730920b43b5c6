#!/usr/bin/env bash
# The README's first command: archive a news site, catch an edit, show the diff. Offline, no services needed.
#
#   bash scripts/demo.sh
#
# 1. Python: uses .venv if it holds the project, else a python3 that already has this checkout installed,
#    else creates .venv (python3 -m venv) and runs `pip install -e .` into it. It says which.
# 2. Serves the bundled demo site (scripts/demo_site.py, "The Alder Gazette") on 127.0.0.1:$DEMO_PORT (8765)
#    as http://localhost:$DEMO_PORT/ - the host seeds/demo.toml names.
# 3. Crawls its RSS feed into the archive: archive.sqlite3 in the repository root, or $ARCHIVE_DATABASE_URL.
# 4. Edits the lead article on the demo site (headline and a sentence), recrawls (`recrawl -a all=true`).
# 5. Prints `archive list`, `archive stats`, `archive versions`, then `archive diff URL` and `--words`.
#
# Re-runnable: the site resumes at the edition the archive last saw, so a second run adds no versions in the
# crawl ("already archived") and its edit adds exactly one more version, which the diff then shows.
# Delete archive.sqlite3 to start from scratch. Scrapy's logs go to logs/demo-*.log ($DEMO_LOG_DIR).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
PORT=${DEMO_PORT:-8765}
HOST=localhost  # the host seeds/demo.toml names (the server listens on 127.0.0.1)
export DEMO_PORT=$PORT DEMO_HOST=$HOST
LOGS=${DEMO_LOG_DIR:-$ROOT/logs}
# Politeness delays are for other people's servers; this one is ours and local.
FAST=(-s AUTOTHROTTLE_ENABLED=False -s DOWNLOAD_DELAY=0)

if [ -t 1 ]; then BOLD=$'\033[1m' PLAIN=$'\033[0m'; else BOLD='' PLAIN=''; fi
say() { printf '\n%s==> %s%s\n' "$BOLD" "$*" "$PLAIN"; }
show() { printf '$ %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

# --- 1. Python environment ---------------------------------------------------------------------------------------
IMPORTS='import archive.cli, crawler.settings, scrapy, trafilatura, feedparser, sqlalchemy, alembic'
# Run from / so that `import archive` cannot succeed just because the checkout is the working directory.
installed_here() {
  (cd / && "$1" -c "$IMPORTS
import os, sys
sys.exit(os.path.dirname(os.path.dirname(os.path.realpath(archive.__file__))) != os.path.realpath(sys.argv[1]))" "$ROOT") >/dev/null 2>&1
}
if [ -x .venv/bin/python ] && installed_here "$ROOT/.venv/bin/python"; then
  PY=$ROOT/.venv/bin/python
  say "Python: using the existing virtualenv .venv (the project is installed there)"
elif command -v python3 >/dev/null && installed_here "$(command -v python3)"; then
  PY=$(command -v python3)
  say "Python: the project is already installed for $PY; no virtualenv needed, none created"
else
  command -v python3 >/dev/null || die "python3 not found (Python 3.10 or newer is needed)"
  say "Python: creating .venv and installing the project into it (first run only; needs PyPI)"
  show "python3 -m venv .venv && .venv/bin/pip install -e ."
  [ -x .venv/bin/python ] || python3 -m venv .venv || die "python3 -m venv failed (on Debian/Ubuntu: apt install python3-venv)"
  .venv/bin/python -m pip install -qq --upgrade pip || true
  .venv/bin/python -m pip install -qq -e . || die "pip install -e . failed (see the output above)"
  installed_here "$ROOT/.venv/bin/python" || die ".venv was created but the project does not import from it"
  PY=$ROOT/.venv/bin/python
  echo "installed; to use the commands yourself: source .venv/bin/activate"
fi
archive() { "$PY" -m archive "$@"; }
scrapy() { "$PY" -m scrapy "$@"; }

# --- the archive ---------------------------------------------------------------------------------------------
say "Archive database"
if [ -n "${ARCHIVE_DATABASE_URL:-}" ]; then
  echo "ARCHIVE_DATABASE_URL is set: using it"
else
  echo "the default: archive.sqlite3 in $ROOT (set ARCHIVE_DATABASE_URL for another database)"
fi
show "archive db upgrade"
archive db upgrade || die "the archive database cannot be used (see the line above)"

# --- 2. the demo site ----------------------------------------------------------------------------------------
WORK=$(mktemp -d)
SERVER=""
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

LEAD=$("$PY" scripts/demo_site.py url --lead)
# Which edition of the lead article the archive last saw: versions - 1 (a fresh archive has none).
VERSIONS=$(archive show "$LEAD" --json 2>/dev/null | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["version_count"])' 2>/dev/null || echo 0)
EDITION=$(( VERSIONS > 0 ? VERSIONS - 1 : 0 ))

say "Serving the demo site on http://$HOST:$PORT/ (127.0.0.1; DEMO_PORT changes the port)"
"$PY" scripts/demo_site.py serve --port "$PORT" --edition "$EDITION" --port-file "$WORK/port" 2>"$WORK/server.log" &
SERVER=$!
for _ in $(seq 100); do
  [ -s "$WORK/port" ] && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/server.log" >&2; SERVER=""; die "the demo site did not start (port $PORT busy? try DEMO_PORT=8766)"; }
  sleep 0.1
done
[ -s "$WORK/port" ] || die "the demo site did not start within 10 s"
if [ "$VERSIONS" -gt 0 ]; then
  echo "the archive already holds $VERSIONS version(s) of the lead article: the site resumes at its edition $EDITION"
else
  echo "8 articles, a front page, an RSS feed and a news sitemap, with ETag / Last-Modified"
fi

crawl() {  # crawl NAME ARGS...: scrapy crawl into logs/demo-NAME.log, print its summary line
  local name=$1 log="$LOGS/demo-$1.log"
  shift
  mkdir -p "$LOGS"
  show "scrapy crawl $name $*"
  if ! scrapy crawl "$name" "$@" "${FAST[@]}" >"$log" 2>&1; then
    tail -n 5 "$log" >&2
    die "scrapy crawl $name failed; the whole log is $log"
  fi
  grep -o 'archive summary: .*' "$log" || echo "(no summary line; see $log)"
}

# --- 3. crawl ----------------------------------------------------------------------------------------------
say "Crawling the demo site's feed into the archive"
crawl feeds -a "feed=http://$HOST:$PORT/feed.xml"
[ "$VERSIONS" -gt 0 ] && echo "(a re-run: the archive already had these articles, so the crawl adds no new versions)"

# --- 4. edit and recrawl -------------------------------------------------------------------------------------
say "Editing the lead article on the demo site"
show "python scripts/demo_site.py edit"
"$PY" scripts/demo_site.py edit

say "Recrawling every archived demo article (conditional GETs: unchanged pages answer 304)"
crawl recrawl -a all=true -a site=demo

# --- 5. what the archive holds -------------------------------------------------------------------------------
say "What the archive holds"
show "archive list --site demo"
archive list --site demo
echo
show "archive stats"
archive stats
echo
show "archive versions $LEAD"
archive versions "$LEAD"

say "The edit, line by line and word by word"
echo "(run this script again and the lead article is edited once more: one more version, one more diff)"
show "archive diff $LEAD"
archive diff "$LEAD"
echo
show "archive diff $LEAD --words"
archive diff "$LEAD" --words
