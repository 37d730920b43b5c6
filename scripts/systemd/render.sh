#!/usr/bin/env bash
# Write the systemd units for scheduled crawls, filled in for this checkout, into OUTDIR.
#
#   scripts/systemd/render.sh [--user] [--run-as USER] [--root DIR] OUTDIR
#
# Writes archive-crawl@.service (runs scripts/crawl-job.sh SPIDER) and one timer per spider:
#   archive-crawl-feeds.timer    every 15 minutes      archive-crawl-sitemap.timer  daily, 03:17 (+ up to 15 min)
#   archive-crawl-recrawl.timer  every 30 minutes      archive-crawl-site.timer     daily, 04:47 (+ up to 15 min)
#
# System units (run as --run-as USER, default: the invoking user), as root:
#   scripts/systemd/render.sh /etc/systemd/system && systemctl daemon-reload
#   systemctl enable --now archive-crawl-feeds.timer archive-crawl-recrawl.timer \
#       archive-crawl-sitemap.timer archive-crawl-site.timer
# User units (no root; add `loginctl enable-linger USER` so they run while you are logged out):
#   scripts/systemd/render.sh --user ~/.config/systemd/user && systemctl --user daemon-reload
#   systemctl --user enable --now archive-crawl-feeds.timer ...
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RUN_AS=$(id -un)
USER_UNITS=0
OUT=""
while [ $# -gt 0 ]; do
  case $1 in
    --user) USER_UNITS=1 ;;
    --run-as) RUN_AS=$2; shift ;;
    --root) ROOT=$(cd "$2" && pwd); shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "render.sh: unknown option $1" >&2; exit 2 ;;
    *) OUT=$1 ;;
  esac
  shift
done
[ -n "$OUT" ] || { echo "usage: $0 [--user] [--run-as USER] [--root DIR] OUTDIR" >&2; exit 2; }
mkdir -p "$OUT"

for template in "$HERE"/*.in; do
  target="$OUT/$(basename "${template%.in}")"
  sed -e "s|@ROOT@|$ROOT|g" -e "s|@USER@|$RUN_AS|g" "$template" >"$target"
  if [ "$USER_UNITS" = 1 ]; then
    sed -i '/^User=/d' "$target"  # a user unit runs as its user
  fi
  echo "wrote $target"
done
