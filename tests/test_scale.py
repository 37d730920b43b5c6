"""Scale-out on scrapy-redis (crawler/scale.py): several `scrapy crawl` processes share one crawl through the
real Redis at 127.0.0.1:6379 and write to one PostgreSQL archive. Each test uses its own Redis key prefix and
deletes its keys afterwards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from scrapy.exceptions import NotConfigured
from scrapy.http import Request
from scrapy.settings import Settings
from scrapy_redis.dupefilter import RFPDupeFilter
from sqlalchemy import create_engine, text

from crawler.scale import RedisScale, ScaleSettings, ScaleWorker, StartClaims
from tests.bigsite import add_latency, article_path, build_site, edit_article
from tests.conftest import FIXTURES, ROOT
from tests.sites import FixtureServer

REDIS_URL = "redis://127.0.0.1:6379/0"
ARTICLES = 300


@pytest.fixture
def redis_prefix():
    """A unique key prefix; every key under it is deleted after the test."""
    server = redis.Redis.from_url(REDIS_URL)
    server.ping()  # the real broker must be there: fail, never skip
    prefix = f"archive-test:{os.environ.get('PYTEST_XDIST_WORKER', 'main')}:{uuid.uuid4().hex[:10]}"
    yield prefix
    for key in server.scan_iter(f"{prefix}:*"):
        server.delete(key)
    server.close()


@pytest.fixture
def bigsite(tmp_path):
    root = tmp_path / "site"
    paths = build_site(root, ARTICLES)
    with FixtureServer(root) as server:
        add_latency(server, paths, 0.01)
        yield root, paths, server


class Workers:
    """`scrapy crawl` worker processes sharing one Redis crawl, each in its own process group (so a SIGKILL
    takes its extraction pool too, as a host crash would)."""

    def __init__(self, db_url: str, prefix: str, logs: Path):
        self.db_url, self.prefix, self.logs = db_url, prefix, logs
        self.procs: list[subprocess.Popen] = []

    def start(self, spider: str, *args: str) -> subprocess.Popen:
        settings = {
            "ARCHIVE_REDIS_URL": REDIS_URL,
            "SCHEDULER_QUEUE_KEY": f"{self.prefix}:%(spider)s:requests",
            "SCHEDULER_DUPEFILTER_KEY": f"{self.prefix}:%(spider)s:dupefilter",
            "ARCHIVE_REDIS_WORKER_TIMEOUT": "2",
            "ARCHIVE_REDIS_TICK": "0.25",
            "AUTOTHROTTLE_ENABLED": "False",
            "DOWNLOAD_DELAY": "0",
            "ARCHIVE_EXTRACT_WORKERS": "1",
            "LOG_LEVEL": "INFO",
        }
        cmd = [sys.executable, "-m", "scrapy", "crawl", spider]
        for a in args:
            cmd += ["-a", a]
        for k, v in settings.items():
            cmd += ["-s", f"{k}={v}"]
        env = {
            **os.environ,
            "ARCHIVE_DATABASE_URL": self.db_url,
            "ARCHIVE_SEEDS_DIR": str(FIXTURES / "no-seeds"),
        }
        log = open(self.logs / f"worker-{len(self.procs)}.log", "w")
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def wait(self, procs: list[subprocess.Popen], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        for proc in procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stop()
                pytest.fail(f"worker did not finish in {timeout}s:\n{self.tail()}")
        failed = [p for p in procs if p.returncode != 0]
        assert not failed, f"worker(s) exited {[p.returncode for p in failed]}:\n{self.tail()}"

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)

    def tail(self) -> str:
        return "\n".join(
            f"--- {p.name}\n" + p.read_text()[-3000:] for p in sorted(self.logs.glob("worker-*.log"))
        )


@pytest.fixture
def workers(pg_url, redis_prefix, tmp_path):
    pool = Workers(pg_url, redis_prefix, tmp_path)
    yield pool
    pool.stop()


def counts(db_url: str) -> dict:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        out = {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()
            for t in ("articles", "versions", "captures")
        }
        out["per_article"] = dict(
            conn.execute(
                text(
                    "SELECT a.url, count(v.id) FROM articles a LEFT JOIN versions v ON v.article_id = a.id"
                    " GROUP BY a.url"
                )
            ).all()
        )
        out["runs"] = [row.stats for row in conn.execute(text("SELECT stats FROM crawl_runs ORDER BY id"))]
    engine.dispose()
    return out


def fetched(server: FixtureServer, since: int = 0) -> Counter:
    return Counter(p for p in server.paths()[since:] if p != "/robots.txt")


def captures_in(run: dict) -> int:
    return sum(v for k, v in (run or {}).items() if k.startswith("archive/captures/"))


def test_two_workers_archive_each_article_once_and_a_recrawl_adds_only_the_edits(
    bigsite, workers, redis_prefix
):
    root, paths, server = bigsite
    first = [workers.start("site", f"start_url={server.url('/')}") for _ in range(2)]
    workers.wait(first)

    # every page fetched once across both workers (robots.txt is per process), every article archived once
    seen = fetched(server)
    assert set(seen) == set(paths)
    assert {p: n for p, n in seen.items() if n > 1} == {}
    assert server.paths().count("/robots.txt") <= 2
    db = counts(workers.db_url)
    assert (db["articles"], db["versions"], db["captures"]) == (ARTICLES, ARTICLES, ARTICLES)
    assert set(db["per_article"].values()) == {1}
    assert sorted(urlsplit(u).path for u in db["per_article"]) == sorted(
        article_path(i) for i in range(ARTICLES)
    )
    assert all(captures_in(run) > 0 for run in db["runs"]), "both workers should have archived pages"
    # the finished crawl cleared its fingerprints and claims; nothing is left in flight
    r = redis.Redis.from_url(REDIS_URL)
    assert sorted(k.decode() for k in r.scan_iter(f"{redis_prefix}:site:*")) == []

    # Second run: 5 edited articles; the recrawl spider revisits all 300 with two workers. Its revisits bypass
    # the dupefilter: pre-fill it with every article's fingerprint, as a never-reset crawl would have.
    edited = [3, 77, 150, 222, 299]
    for i in edited:
        edit_article(root, i, ARTICLES, f"edit {i}")
    dupefilter = RFPDupeFilter(r, f"{redis_prefix}:recrawl:dupefilter")
    r.sadd(
        dupefilter.key,
        *(dupefilter.request_fingerprint(Request(server.url(article_path(i)))) for i in range(ARTICLES)),
    )
    mark = len(server.paths())
    second = [workers.start("recrawl", "all=true") for _ in range(2)]
    workers.wait(second)

    seen = fetched(server, mark)
    assert set(seen) == {article_path(i) for i in range(ARTICLES)}
    assert {p: n for p, n in seen.items() if n > 1} == {}, "a due article was revisited more than once"
    db2 = counts(workers.db_url)
    assert db2["articles"] == ARTICLES
    assert db2["versions"] == ARTICLES + len(edited)
    assert db2["captures"] == 2 * ARTICLES
    twice = sorted(u for u, n in db2["per_article"].items() if n == 2)
    assert twice == sorted(server.url(article_path(i)) for i in edited)
    assert sum(run.get("archive/scale/start_claimed", 0) for run in db2["runs"][2:]) == ARTICLES
    assert sorted(k.decode() for k in r.scan_iter(f"{redis_prefix}:recrawl:*")) == []
    r.close()


def test_a_worker_killed_mid_crawl_loses_nothing(bigsite, workers):
    root, paths, server = bigsite
    url = server.url("/")
    victim, survivor = (workers.start("site", f"start_url={url}") for _ in range(2))
    engine = create_engine(workers.db_url)
    deadline = time.monotonic() + 40
    with engine.connect() as conn:
        while conn.execute(text("SELECT count(*) FROM captures")).scalar() < 60:
            assert time.monotonic() < deadline, workers.tail()
            assert victim.poll() is None, "the crawl ended before the kill:\n" + workers.tail()
            time.sleep(0.1)
            conn.rollback()
    engine.dispose()
    workers.kill(victim)
    restarted = workers.start("site", f"start_url={url}")  # the same command, restarted
    workers.wait([survivor, restarted])

    db = counts(workers.db_url)
    assert db["articles"] == ARTICLES, "an article the killed worker held was never fetched"
    assert db["versions"] == ARTICLES and set(db["per_article"].values()) == {1}
    assert db["captures"] >= ARTICLES
    assert set(fetched(server)) == set(paths)
    recovered = sum(run.get("archive/scale/recovered", 0) for run in db["runs"] if run)
    assert recovered > 0, "the killed worker's in-flight requests should have been requeued"
    # the restarted worker re-ran start() but did not enqueue the front page again
    assert fetched(server)["/"] == 1


def test_without_a_redis_url_the_settings_are_untouched():
    settings = Settings({"SCHEDULER": "scrapy.core.scheduler.Scheduler", "ARCHIVE_REDIS_URL": ""})
    before = settings.copy_to_dict()
    RedisScale().update_settings(settings)
    assert settings.copy_to_dict() == before

    settings = Settings({"ARCHIVE_REDIS_URL": REDIS_URL, "ARCHIVE_REDIS_KEY": "news-a:%(spider)s"})
    RedisScale().update_settings(settings)
    assert settings["SCHEDULER_QUEUE_KEY"] == "news-a:%(spider)s:requests"
    assert settings["SCHEDULER_DUPEFILTER_KEY"] == "news-a:%(spider)s:dupefilter"
    assert settings["SCHEDULER"] == "scrapy_redis.scheduler.Scheduler"
    assert settings.getbool("SCHEDULER_PERSIST")
    assert settings["SCHEDULER_QUEUE_CLASS"] == "crawler.scale.ReliablePriorityQueue"
    assert StartClaims in settings.getdict("SPIDER_MIDDLEWARES") and ScaleWorker in settings.getdict(
        "EXTENSIONS"
    )


def test_a_worker_timeout_shorter_than_three_ticks_is_refused():
    with pytest.raises(NotConfigured):
        ScaleSettings.from_settings(Settings({"ARCHIVE_REDIS_WORKER_TIMEOUT": 1, "ARCHIVE_REDIS_TICK": 0.5}))
