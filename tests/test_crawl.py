"""End to end: real ``scrapy crawl`` subprocesses against the local fixture news site (tests/newssite.py), then
assertions on the archive database and on the server's request log."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db import make_engine
from archive.models import Article, ArticleURL, Capture, CrawlRun
from tests.conftest import ROOT, run_scrapy
from tests.newssite import (
    SEED_ARTICLE,
    SITE_NAME,
    article_html,
    build_site,
    seed_article_html,
    touch_later,
    write,
    write_seeds,
)
from tests.sites import FixtureServer

CONDITIONAL = ("if-none-match", "if-modified-since")


# ------------------------------------------------------------------------------------------------ helpers


class Site:
    """A fixture site on a local server, with a second server on another host name that must never be hit."""

    def __init__(self, tmp: Path):
        self.root = tmp / "site"
        self.root.mkdir()
        self.server = FixtureServer(self.root).__enter__()
        self.other = FixtureServer(tmp / "other").__enter__()
        self.base = self.server.base
        self.articles = build_site(self.root, self.base, offsite=f"http://localhost:{self.other.port}/2024/03/01/x/")
        self.seeds = write_seeds(tmp / "seeds", self.base)
        self.server.routes["/2024/02/10/withdrawn-story/"] = lambda h: h.send(
            410, b"<html><body><h1>Gone</h1></body></html>", {"Content-Type": "text/html"})

    def close(self) -> None:
        self.server.__exit__(None, None, None)
        self.other.__exit__(None, None, None)

    def mark(self) -> int:
        return len(self.server.log)

    def requests_since(self, mark: int):
        with self.server.lock:
            return list(self.server.log[mark:])

    def crawl(self, spider: str, *args: str, db_url: str, **settings) -> subprocess.CompletedProcess:
        result = run_scrapy(spider, *args, db_url=db_url, seeds_dir=self.seeds,
                            settings={k: str(v) for k, v in settings.items()})
        assert result.returncode == 0, result.stderr[-3000:]
        return result


@pytest.fixture
def site(tmp_path):
    s = Site(tmp_path)
    yield s
    s.close()


@pytest.fixture(scope="module")
def shared_site(tmp_path_factory):
    """One read-only site for the discovery tests."""
    s = Site(tmp_path_factory.mktemp("shared"))
    yield s
    s.close()


def articles(db_url: str) -> dict[str, dict]:
    """path -> {state, versions, captures: [kind...], reasons, urls: {kind: path}} for every archived article."""
    engine = make_engine(db_url)
    out: dict[str, dict] = {}
    with Session(engine) as session:
        for art in session.scalars(select(Article)):
            caps = session.execute(
                select(Capture.kind, Capture.reason, Capture.status).where(Capture.article_id == art.id)
                .order_by(Capture.fetched_at, Capture.id)).all()
            urls = session.execute(select(ArticleURL.kind, ArticleURL.url).where(ArticleURL.article_id == art.id)).all()
            path = "/" + art.url.split("/", 3)[3]
            out[path] = {
                "id": art.id, "state": art.state, "versions": art.version_count, "checks": art.check_count,
                "captures": [c.kind for c in caps], "reasons": [c.reason for c in caps],
                "statuses": [c.status for c in caps], "urls": {"/" + u.split("/", 3)[3] for _, u in urls},
                "next_check": art.next_check,
            }
    engine.dispose()
    return out


def runs(db_url: str) -> list[CrawlRun]:
    engine = make_engine(db_url)
    with Session(engine) as session:
        rows = list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))
        session.expunge_all()
    engine.dispose()
    return rows


def last_stats(db_url: str) -> dict:
    return runs(db_url)[-1].stats


# ------------------------------------------------------------------------------------------------ tests


def test_site_crawl_then_recrawls_record_every_kind_of_capture(site, sqlite_url):
    db = sqlite_url
    a = site.articles
    mark = site.mark()
    site.crawl("site", db_url=db)

    archived = articles(db)
    assert set(archived) == {x.path for x in a}, "every article, and nothing else, is archived"
    assert all(v["versions"] == 1 and v["captures"] == ["new_version"] for v in archived.values())
    now = datetime.now(timezone.utc)
    due = [v["next_check"] - now for v in archived.values()]
    assert all(timedelta(minutes=50) < d <= timedelta(hours=1) for d in due), "the seed's [recrawl] override: 1h"
    paths = [r.path for r in site.requests_since(mark)]
    assert "/robots.txt" in paths
    assert not [p for p in paths if p.startswith("/private/")], "robots.txt Disallow is obeyed"
    assert site.other.paths() == [], "nothing outside the seeded domains is fetched"
    assert max(Counter(p for p in paths if p != "/robots.txt").values()) == 1, "no page fetched twice"
    stats = last_stats(db)
    assert stats["archive/skipped/not_html"] >= 1  # the PDF
    assert stats["archive/skipped/not_article/listing"] >= 1  # /latest/: an article-like URL holding a listing
    assert stats["archive/skipped/http_410"] == 1  # a dead link to an unknown article
    assert stats["archive/links/offsite"] >= 1
    assert stats["archive/listing_pages"] >= 4  # home, sections, tag, author, pagination: followed, not archived

    # --- the site changes -------------------------------------------------------------------------------
    edited, noise, same, gone410, gone404, moved, shrunk, paywalled = a[:8]
    paras = list(edited.paragraphs)
    paras[3] = paras[3].replace(" pounds ", " euros ", 1)
    assert paras[3] != edited.paragraphs[3]
    touch_later(write(site.root, edited.path, article_html(edited, site.base, paragraphs=tuple(paras))))
    touch_later(write(site.root, noise.path, article_html(noise, site.base, extra_footer=" · Page built 12:01:07")))
    same_file = site.root / same.path.strip("/") / "index.html"
    site.server.routes[same.path] = lambda h: h.send(200, same_file.read_bytes(), {"Content-Type": "text/html; charset=utf-8"})
    site.server.routes[gone410.path] = lambda h: h.send(410, b"<html><body><h1>Gone</h1></body></html>", {"Content-Type": "text/html"})
    (site.root / gone404.path.strip("/") / "index.html").unlink()
    new_path = moved.path.replace("/2024/03/", "/2024/04/")
    write(site.root, new_path, article_html(moved, site.base, canonical=site.base + new_path))
    site.server.routes[moved.path] = lambda h: h.send(301, b"", {"Location": site.base + new_path})
    touch_later(write(site.root, shrunk.path, article_html(shrunk, site.base, paragraphs=shrunk.paragraphs[:1])))
    stub = article_html(paywalled, site.base, paragraphs=(
        paywalled.paragraphs[0][:120], "Subscribe now to continue reading. Already a subscriber? Sign in to read."))
    touch_later(write(site.root, paywalled.path, stub.replace('class="entry-content"', 'class="entry-content paywall"')))

    mark = site.mark()
    site.crawl("recrawl", "all=true", db_url=db)
    after = articles(db)
    kinds = {path: v["captures"][-1] for path, v in after.items()}
    assert kinds[edited.path] == "new_version" and after[edited.path]["versions"] == 2
    assert kinds[noise.path] == "unchanged" and after[noise.path]["versions"] == 1
    assert kinds[same.path] == "same_html"
    assert kinds[gone410.path] == "gone" and after[gone410.path]["state"] == "gone"
    assert kinds[gone404.path] == "gone" and after[gone404.path]["state"] == "gone"
    assert after[gone410.path]["versions"] == 1 and after[gone410.path]["next_check"] is None
    assert moved.path not in after and after[new_path]["id"] == archived[moved.path]["id"], "a move keeps identity"
    assert after[new_path]["urls"] >= {moved.path, new_path}, "and the URL history"
    assert kinds[new_path] == "unchanged" and after[new_path]["versions"] == 1
    assert kinds[shrunk.path] == "degraded" and after[shrunk.path]["reasons"][-1] == "body_shrunk"
    assert kinds[paywalled.path] == "degraded" and after[paywalled.path]["versions"] == 1
    untouched = [x.path for x in a[8:]]
    assert all(kinds[p] == "not_modified" for p in untouched)
    revisits = {r.path: r for r in site.requests_since(mark) if r.path in untouched}
    assert set(revisits) == set(untouched)
    assert all({k.lower() for k in r.headers} >= set(CONDITIONAL) for r in revisits.values()), "conditional GETs"
    assert all(after[p]["statuses"][-1] == 304 for p in untouched)
    stats = last_stats(db)
    assert stats["archive/not_modified"] == len(untouched) and stats["archive/captures/gone"] == 2
    assert stats["archive/captures/degraded"] == 2 and stats["archive/degraded/body_shrunk"] >= 1

    # --- every 2nd check of an article is unconditional: full fetch, no extraction shortcut ---------------
    mark = site.mark()
    site.crawl("recrawl", "all=true", db_url=db, ARCHIVE_UNCONDITIONAL_EVERY=2)
    sent = [r for r in site.requests_since(mark) if r.path != "/robots.txt"]
    assert len(sent) == 22  # live articles; the moved one at its new address
    assert not [r for r in sent if {k.lower() for k in r.headers} & set(CONDITIONAL)]
    final = articles(db)
    assert {final[p]["captures"][-1] for p in untouched} == {"unchanged"}
    assert final[gone410.path]["captures"] == after[gone410.path]["captures"], "gone articles are not revisited"
    assert final[edited.path]["versions"] == 2 and final[shrunk.path]["versions"] == 1
    recorded = runs(db)
    assert [r.spider for r in recorded] == ["site", "recrawl", "recrawl"]
    assert all(r.finished_at and r.status == "finished" for r in recorded)
    assert recorded[-1].stats["archive/unconditional"] == 22


def test_feeds_read_rss_and_atom(shared_site, sqlite_url):
    result = shared_site.crawl("feeds", db_url=sqlite_url)
    archived = articles(sqlite_url)
    assert set(archived) == {x.path for x in shared_site.articles}  # RSS has 1-14, Atom 11-24
    stats = last_stats(sqlite_url)
    assert stats["archive/feed_entries"] == 28
    assert stats["archive/captures/new_version"] == 24
    assert "archive summary: 24 capture(s)" in result.stderr


def test_sitemap_index_gzip_and_news_sitemap_then_lastmod_skips(shared_site, sqlite_url):
    mark = shared_site.mark()
    shared_site.crawl("sitemap", f"site={SITE_NAME}", db_url=sqlite_url)
    paths = {r.path for r in shared_site.requests_since(mark)}
    assert {"/sitemap_index.xml", "/sitemaps/posts-1.xml.gz", "/sitemaps/news.xml"} <= paths
    assert set(articles(sqlite_url)) == {x.path for x in shared_site.articles}
    mark = shared_site.mark()
    shared_site.crawl("sitemap", db_url=sqlite_url)
    again = {r.path for r in shared_site.requests_since(mark)}
    assert not again & {x.path for x in shared_site.articles}, "lastmod older than the last check: not refetched"
    assert last_stats(sqlite_url)["archive/skipped/lastmod_unchanged"] == 24


def test_unknown_site_name_fails_with_one_line(shared_site, sqlite_url):
    result = run_scrapy("feeds", "site=nope", db_url=sqlite_url, seeds_dir=shared_site.seeds)
    assert result.returncode != 0
    assert "no site named 'nope'" in result.stderr.strip().splitlines()[-1]


def test_jobdir_resume_archives_every_article_once(shared_site, sqlite_url, tmp_path):
    jobdir = tmp_path / "job"
    mark = shared_site.mark()
    first = shared_site.crawl("site", db_url=sqlite_url, JOBDIR=jobdir, CLOSESPIDER_PAGECOUNT=8,
                              CONCURRENT_REQUESTS=2)
    assert "closespider_pagecount" in first.stderr
    partial = articles(sqlite_url)
    assert 0 < len(partial) < 24, len(partial)
    shared_site.crawl("site", db_url=sqlite_url, JOBDIR=jobdir)
    archived = articles(sqlite_url)
    assert set(archived) == {x.path for x in shared_site.articles}
    twice = {p: v["captures"] for p, v in archived.items() if v["captures"] != ["new_version"]}
    assert not twice, f"each article archived once: {twice}"
    paths = [r.path for r in shared_site.requests_since(mark)]
    assert not [p for p in paths if p.startswith("/private/")], "robots.txt obeyed by the resumed crawl too"
    refetched = [p for p, n in Counter(p for p in paths if p != "/robots.txt").items() if n > 1]
    assert not refetched, f"no page fetched twice: {refetched}"
    assert [r.spider for r in runs(sqlite_url)] == ["site", "site"]


def test_full_crawl_and_recrawl_on_postgresql(site, pg_url):
    site.crawl("sitemap", db_url=pg_url)
    assert len(articles(pg_url)) == 24
    edited = site.articles[5]
    paras = list(edited.paragraphs)
    paras[0] = paras[0].replace(" a decision ", " an unusual decision ", 1)
    touch_later(write(site.root, edited.path, article_html(edited, site.base, paragraphs=tuple(paras))))
    site.crawl("recrawl", "all=true", db_url=pg_url)
    after = articles(pg_url)
    assert after[edited.path]["versions"] == 2 and after[edited.path]["captures"] == ["new_version", "new_version"]
    assert Counter(v["captures"][-1] for v in after.values()) == {"not_modified": 23, "new_version": 1}
    assert [r.status for r in runs(pg_url)] == ["finished", "finished"]


@pytest.mark.skipif(not SEED_ARTICLE.is_file(), reason=f"{SEED_ARTICLE} is not there")
def test_seed_article_as_wordpress_page_exports_clean(tmp_path, sqlite_url):
    root = tmp_path / "wp"
    page, expected = seed_article_html(SEED_ARTICLE.read_text(encoding="utf-8"))
    write(root, "/2024/02/21/putin-gifts-car-to-kim/", page)
    with FixtureServer(root) as server:
        url = server.url("/2024/02/21/putin-gifts-car-to-kim/")
        result = run_scrapy("site", f"start_url={url}", db_url=sqlite_url)
        assert result.returncode == 0, result.stderr[-3000:]
    out = subprocess.run([sys.executable, "-m", "archive", "export", "-o", "-"], cwd=ROOT, capture_output=True,
                         text=True, env={"ARCHIVE_DATABASE_URL": sqlite_url, "PATH": ""}, timeout=60)
    assert out.returncode == 0, out.stderr
    [record] = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert record["title"] == expected["title"]
    assert record["author"] == expected["author"]
    assert record["published"].startswith("2024-02-21")
    assert record["comments_state"] == "closed" and record["comment_count"] == 1
    text = record["text"]
    assert "Also read" not in text and "Tesla" not in text
    assert "thought on" not in text and "Comments are closed" not in text and "Sanctions clearly" not in text
    assert text.split("\n")[0] == expected["body"][0] and text.rstrip().split("\n")[-1] == expected["body"][-1]
    assert [p for p in text.split("\n") if p.strip()] == expected["body"]


def test_extraction_over_its_time_limit_is_counted_and_the_crawl_goes_on(shared_site, sqlite_url):
    # a limit no page can meet: every extraction is abandoned, its worker pool retired and killed
    result = shared_site.crawl("feeds", db_url=sqlite_url, ARCHIVE_EXTRACT_TIMEOUT="0.0005")
    stats = last_stats(sqlite_url)
    assert stats["archive/errors/extract_timeout"] >= 1
    assert stats.get("archive/captures/new_version", 0) < 24
    assert "extraction took longer than" in result.stderr


def test_per_domain_concurrency_limit_holds_without_a_download_delay(tmp_path, sqlite_url):
    import threading
    import time

    (tmp_path / "site").mkdir()
    paths = [f"/2025/01/{i:02d}/story-number-{i}/" for i in range(24)]
    (tmp_path / "site" / "index.html").write_text(
        "<html><body>" + "".join(f'<a href="{p}">Story {i} headline</a>' for i, p in enumerate(paths)) + "</body></html>")
    lock, now, peak = threading.Lock(), [0], [0]
    body = ("<html><head><title>Story</title></head><body><article><h1>Story</h1><p>"
            + "A paragraph of article text long enough to be an article. " * 20 + "</p></article></body></html>").encode()

    def slow(handler):
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        time.sleep(0.2)
        with lock:
            now[0] -= 1
        handler.send(200, body, {"Content-Type": "text/html; charset=utf-8"})

    with FixtureServer(tmp_path / "site") as server:
        for p in paths:
            server.routes[p] = slow
        result = run_scrapy("site", f"start_url={server.base}/", db_url=sqlite_url,
                            settings={"CONCURRENT_REQUESTS_PER_DOMAIN": "3"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert peak[0] == 3
