"""Reliability, end to end: real ``scrapy crawl`` subprocesses against a hostile local site (tests/hostile.py),
``kill -9`` at random moments, a disk that fills up and a database that disappears. Each crawl's stats come from
its log (the stats dump) and its peak memory from ``os.wait4``; the archive is checked with ``archive check``.
"""

from __future__ import annotations

import os
import random
import re
import resource
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from archive.db import make_engine
from archive.models import Article, Capture, Version
from tests.bigsite import add_latency, article_path, build_site
from tests.conftest import FIXTURES, ROOT
from tests.hostile import CHAIN, HOSTILE, HostileSite, chain_path
from tests.sites import FixtureServer

MEMORY_BOUND_MB = 600
BASE_SETTINGS = {"AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0", "LOG_LEVEL": "INFO",
                 "ARCHIVE_EXTRACT_WORKERS": "2"}
# tight limits for hostile crawls: a stalled body times out in 3 s, one retry, 2 s of extraction per page
HOSTILE_SETTINGS = {"DOWNLOAD_TIMEOUT": "3", "RETRY_TIMES": "1", "ARCHIVE_EXTRACT_TIMEOUT": "2",
                    "ARCHIVE_SITE_DEPTH": "3"}


# ------------------------------------------------------------------------------------------------ running crawls


@dataclass
class Crawl:
    returncode: int
    stderr: str
    maxrss_mb: float  # peak RSS of the crawl process tree (the process and the children it reaped)
    seconds: float
    killed: bool = False
    stats: dict[str, int] = field(default_factory=dict)

    def count(self, key: str) -> int:
        return self.stats.get(key, 0)

    def tracebacks(self) -> int:
        return self.stderr.count("Traceback (most recent call last)")


def parse_stats(log: str) -> dict[str, int]:
    """The integer stats of Scrapy's end-of-crawl dump."""
    start = log.rfind("Dumping Scrapy stats:")
    if start < 0:
        return {}
    block = log[start:].split("}", 1)[0]
    return {k: int(v) for k, v in re.findall(r"'([^']+)': (\d+)[,}\n]", block + "\n")}


def start_crawl(spider: str, *args: str, db_url: str, seeds_dir: Path | None = None, settings: dict | None = None,
                preexec_fn: Callable[[], None] | None = None) -> subprocess.Popen:
    options = {**BASE_SETTINGS, **(settings or {})}
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider]
    for a in args:
        cmd += ["-a", a]
    for k, v in options.items():
        cmd += ["-s", f"{k}={v}"]
    env = {**os.environ, "ARCHIVE_DATABASE_URL": db_url,
           "ARCHIVE_SEEDS_DIR": str(seeds_dir or FIXTURES / "no-seeds")}
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            preexec_fn=preexec_fn, start_new_session=True)


def finish_crawl(proc: subprocess.Popen, *, timeout: float = 150, kill_after: float | None = None) -> Crawl:
    """Wait for a crawl (killing it with SIGKILL after ``kill_after`` seconds, if given) and measure it."""
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stderr.read()), daemon=True)
    reader.start()
    started = time.monotonic()
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        os.kill(proc.pid, signal.SIGKILL)

    timer = threading.Timer(kill_after if kill_after is not None else timeout, kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # extraction workers a killed crawl may have left behind
    except ProcessLookupError:
        pass
    reader.join(10)
    log = b"".join(chunks).decode("utf-8", "replace")
    if killed.is_set() and kill_after is None:
        raise AssertionError(f"crawl timed out after {timeout}s:\n{log[-3000:]}")
    return Crawl(proc.returncode, log, usage.ru_maxrss / 1024, time.monotonic() - started,
                 killed=killed.is_set(), stats=parse_stats(log))


def crawl(spider: str, *args: str, timeout: float = 150, **kw) -> Crawl:
    return finish_crawl(start_crawl(spider, *args, **kw), timeout=timeout)


def archive_check(db_url: str, deep: bool = True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "archive", "check"] + (["--deep"] if deep else [])
    return subprocess.run(cmd, cwd=ROOT, env={**os.environ, "ARCHIVE_DATABASE_URL": db_url},
                          capture_output=True, text=True, timeout=60)


def archived(db_url: str) -> dict[str, dict]:
    """path -> {versions, captures: [kind...], text} for every archived article."""
    engine = make_engine(db_url)
    out: dict[str, dict] = {}
    with Session(engine) as session:
        for art in session.scalars(select(Article)):
            kinds = session.scalars(select(Capture.kind).where(Capture.article_id == art.id)
                                    .order_by(Capture.id)).all()
            nversions = session.scalar(select(func.count()).where(Version.article_id == art.id))
            out["/" + art.url.split("/", 3)[3]] = {"versions": art.version_count, "version_rows": nversions,
                                                   "captures": list(kinds)}
    engine.dispose()
    return out


# ------------------------------------------------------------------------------------------------ hostile site


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    with HostileSite(tmp_path_factory.mktemp("hostile")) as site:
        yield site


@pytest.fixture(scope="module")
def hostile_crawls(hostile, tmp_path_factory, sqlite_template) -> dict[str, tuple[Crawl, str]]:
    """One crawl of the hostile site with each discovery spider (run side by side), each into its own archive."""
    import shutil

    procs = {}
    for spider in ("site", "feeds", "sitemap"):
        path = tmp_path_factory.mktemp(f"hostile-{spider}") / "archive.sqlite3"
        shutil.copy(sqlite_template, path)
        url = f"sqlite:///{path}"
        procs[spider] = (start_crawl(spider, db_url=url, seeds_dir=hostile.seeds, settings=HOSTILE_SETTINGS), url)
    return {spider: (finish_crawl(proc), url) for spider, (proc, url) in procs.items()}


def test_hostile_site_crawl_completes_archives_good_pages_and_counts_every_bad_one(hostile, hostile_crawls):
    result, db = hostile_crawls["site"]
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.count("archive/captures/new_version") >= len(hostile.good)
    pages = archived(db)
    assert set(hostile.good) <= set(pages), "every good article around the bad ones is archived"
    for h in HOSTILE:
        if h.archived:
            assert h.path in pages, f"{h.name}: a damaged but readable article is archived"
        else:
            assert h.path not in pages, f"{h.name} must not be archived"
    # every bad page is counted under a reason (any one of its candidate keys); the gzip bomb and the endless
    # redirect chain are not counted yet (see test_gzip_bomb_and_endless_redirects_are_counted)
    uncounted = [h.name for h in HOSTILE if h.counted_as and h.name not in ("gzip-bomb", "chain")
                 and not any(result.count(key) for key in h.counted_as)]
    assert not uncounted, f"bad pages not counted: {uncounted}\nstats: {result.stats}"
    # the same reason shared by several pages is counted once per page
    assert result.count("archive/skipped/no_text") + result.count("archive/errors/extraction") >= 3  # binary, deep, slow
    assert result.count("archive/errors/DownloadCancelledError") + result.count("archive/refused/too_big") >= 2
    assert "bad-huge" in result.stderr and "larger than download max size" in result.stderr
    assert "extraction failed" in result.stderr and "bad-slow" in result.stderr, "a page over the time limit is logged"
    assert archive_check(db).returncode == 0


def test_hostile_crawl_memory_stays_bounded_and_pages_are_cut_at_the_size_limit(hostile, hostile_crawls):
    for spider, (result, _) in hostile_crawls.items():
        assert result.maxrss_mb < MEMORY_BOUND_MB, f"{spider}: peak RSS {result.maxrss_mb:.0f} MB"
    site, _ = hostile_crawls["site"]
    # a 50 MB page (declared or not) and a 64 MB gzip bomb are cut at DOWNLOAD_MAXSIZE (20 MB)
    assert site.count("downloader/response_bytes") < 3 * 21 * 1024 * 1024
    assert "exceeded DOWNLOAD_MAXSIZE" in site.stderr and "bad-gzip-bomb" in site.stderr


def test_hostile_crawl_obeys_depth_and_never_leaves_the_seeded_host(hostile, hostile_crawls):
    paths = hostile.server.paths()
    # the front page is depth 0: chain-1..3 are fetched, chain-3's links (depth 4) are not followed
    assert {chain_path(k) for k in (1, 2, 3)} <= set(paths)
    assert not {chain_path(k) for k in range(4, CHAIN + 1)} & set(paths), "ARCHIVE_SITE_DEPTH=3 is a hard limit"
    assert hostile.requests_to_other() == [], "a link to another site (another loopback name) is never fetched"
    assert not [p for p in paths if "99999" in p or "passwd" in p]
    # a redirect loop and a endless redirect chain end; no URL is fetched more often than its retries allow
    assert max(Counter(p for p in paths if p not in ("/robots.txt", "/feed.xml", "/sitemap.xml")).values()) <= 3


def test_hostile_feeds_and_sitemaps_survive_malformed_documents_and_invalid_entries(hostile, hostile_crawls):
    for spider in ("feeds", "sitemap"):
        result, db = hostile_crawls[spider]
        assert result.returncode == 0, result.stderr[-3000:]
        pages = archived(db)
        assert set(hostile.good) <= set(pages), spider
        assert "/news/2024/bad-nul-byte.html" in pages and result.count("archive/skipped/empty_body") == 1
        assert archive_check(db).returncode == 0
    assert hostile_crawls["feeds"][0].count("archive/errors/bad_feed") >= 1, "a binary 'feed' is counted"


@pytest.mark.parametrize("spider", ["site", "feeds", "sitemap"])
def test_links_after_an_invalid_url_are_still_followed(hostile, hostile_crawls, spider):
    result, db = hostile_crawls[spider]
    assert result.count("spider_exceptions/count") == 0, "an invalid URL raised in the spider"
    assert hostile.after_bad in archived(db), "the article listed after the invalid URLs is archived"


def test_gzip_bomb_and_endless_redirects_are_counted(hostile_crawls):
    result, _ = hostile_crawls["site"]
    assert result.count("archive/refused/too_big") >= 1, "the gzip bomb is counted"
    assert result.count("archive/refused/too_many_redirects") == 1, "the endless redirect chain is counted"


def test_nul_bytes_in_a_page_are_stored_on_postgresql(tmp_path, pg_url):
    """PostgreSQL text cannot hold NUL: a page with NUL bytes is still archived (and checks clean)."""
    with HostileSite(tmp_path) as site:
        result = crawl("feeds", f"feed={site.base}/feed.xml", db_url=pg_url, settings=HOSTILE_SETTINGS)
    assert result.returncode == 0, result.stderr[-3000:]
    pages = archived(pg_url)
    assert "/news/2024/bad-nul-byte.html" in pages, result.stderr[-3000:]
    assert set(site.good) <= set(pages)
    assert result.count("archive/errors/store") == 0
    assert archive_check(pg_url).returncode == 0


# ------------------------------------------------------------------------------------------------ crash safety


@pytest.fixture
def big_site(tmp_path):
    """A ~60-article local site whose pages take 30 ms each, so a crawl lasts long enough to be killed."""
    root = tmp_path / "big"
    build_site(root, articles=60, sections=6)
    with FixtureServer(root) as server:
        add_latency(server, ["/", *(f"/section/{s}.html" for s in range(6)), *(article_path(i) for i in range(60))],
                    0.03)
        yield server


@pytest.mark.slow
def test_kill_9_at_random_moments_leaves_a_consistent_archive_and_the_resumed_crawl_archives_each_article_once(
        big_site, sqlite_url, tmp_path):
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    jobdir = tmp_path / "job"
    settings = {"JOBDIR": str(jobdir), "CONCURRENT_REQUESTS_PER_DOMAIN": "4"}
    start = f"start_url={big_site.base}/"
    stored_before: list[int] = []
    for attempt in range(4):
        delay = rng.uniform(2.0, 4.5)  # the crawl starts up in ~2 s, then stores a page every few ms
        result = finish_crawl(start_crawl("site", start, db_url=sqlite_url, settings=settings), kill_after=delay)
        assert result.killed or result.returncode == 0, result.stderr[-3000:]  # a crawl may finish first
        check = archive_check(sqlite_url)
        assert check.returncode == 0, f"seed {seed}, kill {attempt} after {delay:.2f}s: {check.stdout}{check.stderr}"
        stored_before.append(len(archived(sqlite_url)))
    final = crawl("site", start, db_url=sqlite_url, settings=settings)
    assert final.returncode == 0, f"seed {seed}: {final.stderr[-3000:]}"
    assert archive_check(sqlite_url).returncode == 0
    pages = archived(sqlite_url)
    expected = {article_path(i) for i in range(60)}
    assert set(pages) == expected, f"seed {seed}: kills after {stored_before} stored; missing {expected - set(pages)}"
    assert all(p["versions"] == 1 and p["version_rows"] == 1 for p in pages.values()), "one version per article"
    assert all(p["captures"].count("new_version") == 1 for p in pages.values()), "each article archived once"


# ------------------------------------------------------------------------------------------------ write failures


def _file_size_limit(limit: int) -> Callable[[], None]:
    """preexec_fn: the crawl may not grow any file beyond ``limit`` bytes (a full disk), and gets EFBIG, not
    SIGXFSZ, when it tries."""
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def versions_snapshot(db_url: str) -> set[tuple]:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        rows = set(conn.execute(select(Article.url, Version.seq, Version.content_hash, Version.text_hash)
                                .join(Version, Version.article_id == Article.id)).all())
    engine.dispose()
    return rows


def _edit_every_article(root: Path, count: int) -> None:
    from tests.bigsite import edit_article

    for i in range(count):
        edit_article(root, i, count, f"the second edition of story {i}")


def test_a_full_disk_fails_pages_cleanly_one_line_each_and_never_corrupts_the_archive(tmp_path, sqlite_url):
    root = tmp_path / "site"
    build_site(root, articles=30, sections=3)
    db_file = Path(sqlite_url.removeprefix("sqlite:///"))
    with FixtureServer(root) as server:
        start = f"start_url={server.base}/"
        first = crawl("site", start, db_url=sqlite_url)
        assert first.returncode == 0 and len(archived(sqlite_url)) == 30, first.stderr[-3000:]
        before = versions_snapshot(sqlite_url)
        _edit_every_article(root, 30)  # every page now needs a new version: writes the disk cannot take
        limit = db_file.stat().st_size  # the database may not grow (nor its WAL beyond that size)
        full = finish_crawl(start_crawl("recrawl", "all=true", db_url=sqlite_url, preexec_fn=_file_size_limit(limit)))
    failures = [line for line in full.stderr.splitlines() if "not stored (database write failed" in line]
    assert full.count("archive/errors/store") >= 20, full.stats
    assert len(failures) == full.count("archive/errors/store"), "each failed page says so in one line"
    assert all(("disk I/O error" in f or "disk is full" in f) for f in failures), failures[:3]
    assert full.tracebacks() == 0, full.stderr[-3000:]
    check = archive_check(sqlite_url)
    assert check.returncode == 0, check.stdout + check.stderr
    after = versions_snapshot(sqlite_url)
    assert before <= after, "every version stored before the failure is intact"
    assert len(after - before) == full.count("archive/new_versions"), "only pages reported stored were stored"


def test_a_database_that_cannot_be_written_at_all_fails_the_crawl_in_one_line(tmp_path, sqlite_url):
    root = tmp_path / "site"
    build_site(root, articles=5, sections=1)
    with FixtureServer(root) as server:
        result = finish_crawl(start_crawl("site", f"start_url={server.base}/", db_url=sqlite_url,
                                          preexec_fn=_file_size_limit(1000)))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("crawl failed:"), result.stderr[-2000:]
    assert result.tracebacks() == 0
    assert archive_check(sqlite_url).returncode == 0


def _pg_admin(url: str):
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def test_postgresql_dropped_before_any_page_is_stored_ends_the_crawl_non_zero_without_a_traceback_storm(
        tmp_path, pg_url):
    root = tmp_path / "site"
    build_site(root, articles=12, sections=2)
    name = make_url(pg_url).database
    dropped = threading.Event()
    with FixtureServer(root) as server:
        def front(handler):
            if not dropped.is_set():
                with _pg_admin(pg_url).connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                dropped.set()
            handler.serve_file("/")

        server.routes["/"] = front
        result = crawl("site", f"start_url={server.base}/", db_url=pg_url)
    assert dropped.is_set()
    assert result.returncode == 1, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("crawl failed: no page could be stored"), last
    assert result.count("archive/errors/store") == 12
    assert result.tracebacks() <= 1, result.stderr[-3000:]


def test_postgresql_connections_terminated_mid_crawl_cost_at_most_the_pages_in_flight(tmp_path, pg_url):
    root = tmp_path / "site"
    build_site(root, articles=40, sections=4)
    name = make_url(pg_url).database
    with FixtureServer(root) as server:
        def terminate_then_serve(handler):
            with _pg_admin(pg_url).connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
            handler.serve_file(handler.path)

        for i in (5, 15, 25):
            server.routes[article_path(i)] = terminate_then_serve
        result = crawl("site", f"start_url={server.base}/", db_url=pg_url)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.tracebacks() == 0, result.stderr[-3000:]
    lost = result.count("archive/errors/store")
    assert len(archived(pg_url)) == 40 - lost and lost <= 6, result.stats
    assert archive_check(pg_url).returncode == 0
