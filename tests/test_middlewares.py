"""Downloader middlewares: Retry-After honoured on 429/503 (against a local server, through ``scrapy crawl``),
and the crawl scope (seeded domains, private addresses) built with ``get_crawler``."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.test import get_crawler

from crawler.middlewares import ScopeMiddleware, retry_after_seconds
from tests.conftest import run_scrapy
from tests.newssite import article_html, make_articles
from tests.sites import FixtureServer


def test_retry_after_parses_seconds_and_http_dates():
    now = datetime(2024, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Fri, 01 Mar 2024 12:00:30 GMT", now=now) == 30.0
    assert retry_after_seconds("Fri, 01 Mar 2024 11:00:00 GMT", now=now) == 0.0  # in the past: at once
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_429_with_retry_after_is_retried_after_the_wait_and_a_too_long_wait_gives_up(tmp_path, sqlite_url):
    story = make_articles(1)[0]
    hits: dict[str, list[float]] = {"flaky": [], "busy": []}

    def flaky(h):
        hits["flaky"].append(time.monotonic())
        if len(hits["flaky"]) == 1:
            h.send(429, b"slow down", {"Retry-After": "1", "Content-Type": "text/plain"})
        else:
            h.send(200, article_html(story, server.base).encode(), {"Content-Type": "text/html; charset=utf-8"})

    def busy(h):
        hits["busy"].append(time.monotonic())
        h.send(429, b"come back tomorrow", {"Retry-After": "3600", "Content-Type": "text/plain"})

    with FixtureServer(tmp_path) as server:
        server.routes["/2024/01/05/flaky-story/"] = flaky
        server.routes["/2024/01/06/busy-story/"] = busy
        result = run_scrapy("site", "start_url=" + ",".join(
            server.url(p) for p in ("/2024/01/05/flaky-story/", "/2024/01/06/busy-story/")),
            db_url=sqlite_url, settings={"ARCHIVE_SITE_DEPTH": "0"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert len(hits["flaky"]) == 2 and hits["flaky"][1] - hits["flaky"][0] >= 0.95, "waited as asked"
    assert len(hits["busy"]) == 1, "a wait over ARCHIVE_RETRY_AFTER_MAX is not retried, not even by RetryMiddleware"
    stderr = result.stderr
    assert "'archive/retry_after/retried': 1" in stderr and "'archive/retry_after/too_long': 1" in stderr
    assert "'archive/captures/new_version': 1" in stderr
    assert "busy-story" in stderr and "'archive/errors/HttpError': 1" in stderr, "the failure is logged and counted"


class Spider(SimpleNamespace):
    name = "test"


def _scope(spider, **settings) -> ScopeMiddleware:
    crawler = get_crawler(settings_dict=settings)
    crawler.spider = spider
    return ScopeMiddleware.from_crawler(crawler)


def _run(mw, url: str, spider):
    return asyncio.run(mw.process_request(Request(url), spider))


def test_scope_refuses_offsite_private_and_non_http_but_trusts_seeded_hosts():
    spider = Spider(trusted_hosts={"127.0.0.1"}, in_scope=lambda url: "example" not in url)
    mw = _scope(spider)
    assert _run(mw, "http://127.0.0.1:8000/a/", spider) is None  # a seeded host, though private
    with pytest.raises(IgnoreRequest, match="private_address"):
        _run(mw, "http://10.1.2.3/internal/", spider)  # a discovered link into a private network
    with pytest.raises(IgnoreRequest, match="private_address"):
        _run(mw, "http://[::ffff:192.168.0.1]/", spider)
    with pytest.raises(IgnoreRequest, match="offsite"):
        _run(mw, "http://news.example.org/story/", spider)
    with pytest.raises(IgnoreRequest, match="not_http"):
        _run(mw, "ftp://127.0.0.1/file", spider)
    assert _run(_scope(spider, ARCHIVE_ALLOW_PRIVATE=["10.0.0.0/8"]), "http://10.1.2.3/ok/", spider) is None
    assert mw.stats.get_value("archive/refused/private_address") == 2


def test_scope_rejects_a_bad_allow_private_setting():
    with pytest.raises(NotConfigured, match="ARCHIVE_ALLOW_PRIVATE"):
        _scope(Spider(), ARCHIVE_ALLOW_PRIVATE=["not-a-network"])
