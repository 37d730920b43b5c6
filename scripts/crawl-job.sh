#!/usr/bin/env bash
# One scheduled crawl, for cron and systemd timers: `scrapy crawl SPIDER` under a per-spider lock, with its
# output appended to a log file that is rotated by size. See docs/operations.md.
#
#   scripts/crawl-job.sh SPIDER [scrapy crawl options...]
#   scripts/crawl-job.sh feeds
#   scripts/crawl-job.sh recrawl -a limit=5000
#
# - Never two runs of one spider at once: the run holds an exclusive flock(1) on LOG_DIR/SPIDER.lock. A run
#   that finds the lock taken logs "skipped" and exits 0 at once (the previous run is still working; the next
#   scheduled one will catch up).
# - Output (Scrapy's log and the one-line "crawl failed: ..." reason) is appended to LOG_DIR/SPIDER.log,
#   between "crawl-job: start" and "crawl-job: end ... exit N" lines. Before a run, a log bigger than
#   ARCHIVE_LOG_MAX_BYTES is rotated: SPIDER.log -> SPIDER.log.1 -> ... -> SPIDER.log.ARCHIVE_LOG_KEEP (dropped).
# - Exit status is scrapy's: 0, or non-zero when the crawl failed (unreachable database, invalid seeds, every
#   request failed); the reason is then also printed on stderr, where cron mails it and journald keeps it.
#
# Settings come from the environment, and first from ARCHIVE_ENV_FILE (default: <repo>/archive.env) if it
# exists, a file of VAR=value lines read with `set -a` (e.g. ARCHIVE_DATABASE_URL=postgresql+psycopg://...):
#   ARCHIVE_DATABASE_URL    the archive (default: archive.sqlite3 in the repository root)
#   ARCHIVE_LOG_DIR         logs and locks (default: <repo>/logs)
#   ARCHIVE_LOG_MAX_BYTES   rotate the log before a run once it has this many bytes (default: 10485760)
#   ARCHIVE_LOG_KEEP        rotated logs to keep (default: 5)
#   ARCHIVE_JOB_NAME        lock and log name (default: SPIDER; e.g. "site-bigpaper" for a per-site job)
#   ARCHIVE_PYTHON          the Python that runs scrapy (default: <repo>/.venv/bin/python if present, else python3)
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -lt 1 ] || [[ "$1" == -* ]]; then
  echo "usage: $0 SPIDER [scrapy crawl options...]   (SPIDER: feeds, sitemap, site or recrawl)" >&2
  exit 2
fi
SPIDER=$1
shift

ENV_FILE=${ARCHIVE_ENV_FILE:-$ROOT/archive.env}
if [ -f "$ENV_FILE" ]; then
  set -a
  # shellcheck disable=SC1090
  . "$ENV_FILE"
  set +a
fi

NAME=${ARCHIVE_JOB_NAME:-$SPIDER}
LOG_DIR=${ARCHIVE_LOG_DIR:-$ROOT/logs}
MAX_BYTES=${ARCHIVE_LOG_MAX_BYTES:-10485760}
KEEP=${ARCHIVE_LOG_KEEP:-5}
if [ -n "${ARCHIVE_PYTHON:-}" ]; then
  PY=$ARCHIVE_PYTHON
elif [ -x "$ROOT/.venv/bin/python" ]; then
  PY=$ROOT/.venv/bin/python
else
  PY=python3
fi
LOG="$LOG_DIR/$NAME.log"
LOCK="$LOG_DIR/$NAME.lock"

mkdir -p "$LOG_DIR" || { echo "crawl-job: cannot create $LOG_DIR" >&2; exit 1; }
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }

rotate() {  # rotate FILE: FILE -> FILE.1 -> ... -> FILE.KEEP once FILE has MAX_BYTES or more
  local file=$1 size i
  [ -f "$file" ] || return 0
  size=$(wc -c <"$file")
  [ "$size" -ge "$MAX_BYTES" ] || return 0
  if [ "$KEEP" -lt 1 ]; then
    : >"$file"
    return 0
  fi
  rm -f "$file.$KEEP"
  for ((i = KEEP - 1; i >= 1; i--)); do
    if [ -f "$file.$i" ]; then mv -f "$file.$i" "$file.$((i + 1))"; fi
  done
  mv -f "$file" "$file.1"
}

exec 9>>"$LOCK" || { echo "crawl-job: cannot open lock file $LOCK" >&2; exit 1; }
if ! flock -n 9; then
  echo "$(now) crawl-job: skipped $NAME: a previous run still holds $LOCK" >>"$LOG"
  exit 0
fi

# Only the lock holder rotates and writes, so the log is never rotated under a running crawl.
rotate "$LOG"
cd "$ROOT" || exit 1
started=$(date +%s)
echo "$(now) crawl-job: start $NAME (pid $$): scrapy crawl $SPIDER $*" >>"$LOG"
"$PY" -m scrapy crawl "$SPIDER" "$@" >>"$LOG" 2>&1 </dev/null
status=$?
echo "$(now) crawl-job: end $NAME: exit $status after $(( $(date +%s) - started ))s" >>"$LOG"

if [ "$status" -ne 0 ]; then
  # the last "crawl failed: ..." line and the indented lines under it (e.g. one per invalid seed)
  reason=$(tail -n 200 "$LOG" | awk '/^crawl failed: /{r=$0; on=1; next} on && /^  /{r=r "\n" $0; next} {on=0} END{printf "%s", r}')
  printf 'crawl-job: %s failed (exit %s) - %s\nlog: %s\n' "$NAME" "$status" "${reason:-see the log}" "$LOG" >&2
fi
exit "$status"
