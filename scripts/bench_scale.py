"""Benchmark scale-out: the wall time of one crawl of a generated local site (tests/bigsite.py) by one worker
and by N workers sharing it through Redis, each into a fresh PostgreSQL database. The local server answers
every page after a fixed latency to model network time.

    ARCHIVE_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python scripts/bench_scale.py --articles 300 --latency 0.03 --workers 2 --extract-workers 1

Prints one markdown table row per configuration, the median wall time of ``--repeat`` runs (docs/scale.md
records the results).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from archive.db import make_engine  # noqa: E402
from tests.bigsite import add_latency, build_site  # noqa: E402
from tests.sites import FixtureServer  # noqa: E402

log = logging.getLogger(__name__)


def _admin(base: str):
    return create_engine(make_url(base).set(database="postgres"), isolation_level="AUTOCOMMIT")


def fresh_database(base: str) -> str:
    name = f"archive_bench_{uuid.uuid4().hex[:10]}"
    admin = _admin(base)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    make_engine(url).dispose()  # migrate before the clock starts
    return url


def drop_database(base: str, url: str) -> None:
    admin = _admin(base)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def crawl(start_url: str, db_url: str, workers: int, redis_url: str | None, extract_workers: int) -> float:
    """Run ``workers`` `scrapy crawl site` processes at once; the wall time until the last one exits."""
    prefix = f"bench:{uuid.uuid4().hex[:10]}"
    settings = {
        "AUTOTHROTTLE_ENABLED": "False",
        "DOWNLOAD_DELAY": "0",
        "LOG_LEVEL": "WARNING",
        "ARCHIVE_EXTRACT_WORKERS": str(extract_workers),
    }
    if redis_url:
        settings |= {
            "ARCHIVE_REDIS_URL": redis_url,
            "SCHEDULER_QUEUE_KEY": f"{prefix}:%(spider)s:requests",
            "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:%(spider)s:dupefilter",
        }
    cmd = [sys.executable, "-m", "scrapy", "crawl", "site", "-a", f"start_url={start_url}"]
    for k, v in settings.items():
        cmd += ["-s", f"{k}={v}"]
    env = {
        **os.environ,
        "ARCHIVE_DATABASE_URL": db_url,
        "ARCHIVE_SEEDS_DIR": str(ROOT / "tests/fixtures/no-seeds"),
    }
    started = time.monotonic()
    procs = [
        subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for _ in range(workers)
    ]
    errors = [p.communicate()[1] for p in procs]
    elapsed = time.monotonic() - started
    if redis_url:
        server = redis.Redis.from_url(redis_url)
        for key in server.scan_iter(f"{prefix}:*"):
            server.delete(key)
    bad = [e for p, e in zip(procs, errors) if p.returncode]
    if bad:
        raise SystemExit(f"a worker failed:\n{bad[0][-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument(
        "--latency", type=float, default=0.03, help="seconds the local server waits per request"
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the shared crawl")
    parser.add_argument("--extract-workers", type=int, default=1, help="extraction processes per worker")
    parser.add_argument("--repeat", type=int, default=1, help="runs per configuration; the median is shown")
    parser.add_argument(
        "--redis-url", default=os.environ.get("ARCHIVE_REDIS_URL") or "redis://127.0.0.1:6379/0"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("ARCHIVE_TEST_DATABASE_URL"),
        help="PostgreSQL server URL; each run gets a fresh database on it",
    )
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith("postgresql"):
        parser.error("give a PostgreSQL --database-url (or set ARCHIVE_TEST_DATABASE_URL)")

    configs = [
        ("1 worker, stock scheduler", 1, None),
        ("1 worker, Redis", 1, args.redis_url),
        (f"{args.workers} workers, Redis", args.workers, args.redis_url),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        paths = build_site(Path(tmp), args.articles)
        print(
            f"site: {len(paths)} pages ({args.articles} articles), "
            f"latency {args.latency * 1000:.0f} ms/request, "
            f"{args.extract_workers} extraction process(es) per worker, {os.cpu_count()} CPU(s)\n"
        )
        print("| configuration | wall time (s) | articles/s | speed-up | captures per worker |")
        print("|---|---:|---:|---:|---|")
        baseline = None
        for label, workers, redis_url in configs:
            times, split = [], ""
            for _ in range(args.repeat):
                elapsed, split = one_run(Path(tmp), paths, args, workers, redis_url, label)
                times.append(elapsed)
            elapsed = statistics.median(times)
            baseline = baseline or elapsed
            rate = args.articles / elapsed
            print(
                f"| {label} | {elapsed:.1f} | {rate:.1f} | {baseline / elapsed:.2f}x | {split} |", flush=True
            )


def one_run(
    root: Path, paths: list[str], args, workers: int, redis_url: str | None, label: str
) -> tuple[float, str]:
    """One crawl into a fresh database: its wall time and the captures each worker made ("151/149")."""
    with FixtureServer(root) as server:
        add_latency(server, paths, args.latency)
        db_url = fresh_database(args.database_url)
        try:
            elapsed = crawl(server.url("/"), db_url, workers, redis_url, args.extract_workers)
            engine = create_engine(db_url)
            with engine.connect() as conn:
                archived = conn.execute(text("SELECT count(*) FROM versions")).scalar()
                runs = [r.stats or {} for r in conn.execute(text("SELECT stats FROM crawl_runs ORDER BY id"))]
            engine.dispose()
        finally:
            drop_database(args.database_url, db_url)
    if archived != args.articles:
        raise SystemExit(f"{label}: archived {archived} versions, expected {args.articles}")
    split = "/".join(str(sum(v for k, v in run.items() if k.startswith("archive/captures/"))) for run in runs)
    return elapsed, split


if __name__ == "__main__":
    main()
