"""Storage throughput: new versions/s and unchanged captures/s for N articles, one transaction per page, as the
crawl pipeline stores them. Anchor: the same loop doing only the hashing and compression (no database).

    python scripts/bench_store.py --articles 10000 [--database-url URL ...]

Without --database-url it measures a fresh SQLite file and, when it answers, the local PostgreSQL.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from archive.db import make_engine  # noqa: E402
from archive.normalise import content_hash, sha256  # noqa: E402
from archive.record import ArticleRecord  # noqa: E402
from archive.versions import Fetch, compress, record_fetch  # noqa: E402

WORDS = ("harbour bridge council repairs ferry budget minister election storm police court school hospital "
         "market river museum festival train airport strike weather report tuesday engineers county").split()
T0 = datetime(2025, 6, 1, tzinfo=timezone.utc)


def make_pages(n: int, seed: int = 7) -> list[tuple[str, str, bytes]]:
    rng = random.Random(seed)
    pages = []
    for i in range(n):
        body = "\n".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 60))) + "." for _ in range(8))
        html = f"<html><head><title>Story {i}</title></head><body><article><h1>Story {i}</h1>" + "".join(
            f"<p>{p}</p>" for p in body.split("\n")) + "</article><footer>" + "links " * 200 + "</footer></body></html>"
        pages.append((f"https://bench.example/2025/06/{i:06d}/story/", body, html.encode()))
    return pages


def fetch(url: str, body: str, html: bytes, at: timedelta) -> Fetch:
    record = ArticleRecord(url=url, title=url.rsplit("/", 3)[-3], author="Bench Writer", text=body,
                           comments_state="open", comment_count=1, extractor_version="bench")
    return Fetch(url=url, status=200, html=html, record=record, fetched_at=T0 + at, site="bench")


def run_pass(engine, pages, at: timedelta) -> float:
    started = time.perf_counter()
    for url, body, html in pages:
        with Session(engine) as session, session.begin():
            record_fetch(session, fetch(url, body, html, at))
    return time.perf_counter() - started


def anchor(pages) -> float:
    started = time.perf_counter()
    for url, body, html in pages:
        content_hash(url, "Bench Writer", body)
        sha256(html)
        compress(html)
        compress(body.encode())
    return time.perf_counter() - started


def measure(url: str, pages) -> None:
    engine = make_engine(url)
    n = len(pages)
    first = run_pass(engine, pages, timedelta(0))
    second = run_pass(engine, pages, timedelta(hours=1))
    engine.dispose()
    base = anchor(pages)
    name = make_url(url).get_backend_name()
    print(f"{name:<10} new versions: {n / first:8.0f}/s   unchanged captures: {n / second:8.0f}/s   "
          f"(anchor, hashing+compression only: {n / base:8.0f} pages/s; storage costs {first / base:.1f}x / {second / base:.1f}x it)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--database-url", action="append", help="measure this database (repeatable)")
    args = parser.parse_args()
    pages = make_pages(args.articles)
    urls = args.database_url
    cleanup = []
    if not urls:
        tmp = tempfile.mkdtemp()
        urls = [f"sqlite:///{tmp}/bench.sqlite3"]
        try:
            admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
            name = f"bench_{uuid.uuid4().hex[:8]}"
            with admin.connect() as conn:
                conn.execute(text(f"CREATE DATABASE {name}"))
            urls.append(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
            cleanup.append((admin, name))
        except Exception as exc:  # no local PostgreSQL: SQLite only
            print(f"(PostgreSQL not measured: {str(exc).splitlines()[0]})")
    print(f"{args.articles} articles, one transaction per page")
    try:
        for url in urls:
            measure(url, pages)
    finally:
        for admin, name in cleanup:
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


if __name__ == "__main__":
    main()
