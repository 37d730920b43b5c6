"""Export and search at scale: rows/s and peak memory of `archive export`, and search latency, on archives of
growing size. Anchor: reading and decompressing the same texts and JSON-encoding them in one loop.

    python scripts/bench_export.py --versions 100000 [--sizes 25000,100000] [--db sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from archive.queries import search_articles  # noqa: E402
from benchdata import fresh_database, populate  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def run_export(url: str, out: Path, *extra: str) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, lines) of one `archive export` subprocess."""
    cmd = [sys.executable, "-m", "archive", "--database-url", url, "export", "-o", str(out), *extra]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE)
    _, _, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.stderr.close()
    lines = sum(1 for _ in open(out, "rb"))
    return seconds, usage.ru_maxrss / 1024, lines


def anchor(url: str) -> float:
    """Seconds to read every version text, decompress and JSON-encode it, with a bare cursor."""
    engine = create_engine(url)
    started = time.perf_counter()
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True).execute(text(
            "SELECT v.seq, v.title, t.data FROM versions v JOIN texts t ON t.hash = v.text_hash"))
        for seq, title, data in result:
            json.dumps({"seq": seq, "title": title, "text": zlib.decompress(data).decode()})
    engine.dispose()
    return time.perf_counter() - started


def search_latency(url: str, queries=("harbour bridge", "storm police", "teachers strike season", "zeppelin")) -> float:
    engine = create_engine(url)
    worst = 0.0
    with Session(engine) as session:
        for q in queries:
            started = time.perf_counter()
            search_articles(session, q, limit=50)
            worst = max(worst, time.perf_counter() - started)
    engine.dispose()
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="25000,100000", help="versions in each archive measured (comma-separated)")
    parser.add_argument("--db", default="sqlite,postgresql")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    print(f"{'db':<10} {'versions':>8} {'export rows/s':>14} {'history rows/s':>15} {'anchor rows/s':>14} "
          f"{'ratio':>6} {'peak RSS MB':>12} {'search worst ms':>16}")
    for kind in args.db.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            url, drop = fresh_database(kind, work)
            try:
                populate(url, size // 2, versions_per_article=2)
                out = work / "export.jsonl"
                secs, rss, lines = run_export(url, out)
                hsecs, hrss, hlines = run_export(url, out, "--with-history")
                base = anchor(url)
                worst = search_latency(url)
                print(f"{kind:<10} {size:>8} {lines / secs:>14.0f} {size / hsecs:>15.0f} {size / base:>14.0f} "
                      f"{(size / hsecs) / (size / base):>6.2f} {max(rss, hrss):>12.0f} {worst * 1000:>16.0f}", flush=True)
            finally:
                drop()


if __name__ == "__main__":
    main()
