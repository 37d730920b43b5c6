"""Crawl scope: the crawler fetches only from the seeded domains, ignores non-HTTP(S) links, does not follow
redirects to other hosts, and refuses discovered URLs that point at loopback, private or link-local addresses
(SSRF) unless ``ARCHIVE_ALLOW_PRIVATE`` widens the list. Hosts the operator named are trusted as given.

The refusals of non-local addresses are unit-tested on ``ScopeMiddleware.process_request``, which runs before
any connection is made; the end-to-end tests send traffic to 127.0.0.1 only and read the servers' request logs.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.test import get_crawler

from crawler.middlewares import ScopeMiddleware
from crawler.spiders.site import SiteSpider
from crawler.worker import _links
from tests.conftest import FIXTURES
from tests.bigsite import article_html, listing_html
from tests.sites import FixtureServer
from tests.test_reliability import crawl, finish_crawl, start_crawl

PRIVATE_HOSTS = ["10.0.0.5", "169.254.169.254", "::1", "192.168.1.1", "172.20.0.9", "localhost"]


def _url(host: str, path: str = "/news/story.html") -> str:
    return f"http://[{host}]{path}" if ":" in host else f"http://{host}{path}"


def _seeds(folder: Path, domains: list[str], start: str, feeds: list[str] = ()) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    quoted = ", ".join(f'"{d}"' for d in domains)
    feed_line = f"feeds = [{', '.join(repr(f).replace(chr(39), chr(34)) for f in feeds)}]\n" if feeds else ""
    (folder / "wide.toml").write_text(f'name = "wide"\ndomains = [{quoted}]\nstart_urls = ["{start}"]\n{feed_line}')
    return folder


def _middleware(seeds_dir: Path, **settings):
    """A real SiteSpider built from seeds, and the ScopeMiddleware of its crawler."""
    crawler = get_crawler(SiteSpider, settings_dict={"ARCHIVE_SEEDS_DIR": str(seeds_dir), **settings})
    spider = SiteSpider.from_crawler(crawler, site="wide")
    crawler.spider = spider
    return ScopeMiddleware.from_crawler(crawler), spider, crawler


def _request(mw, spider, url: str):
    return asyncio.run(mw.process_request(Request(url), spider))


@pytest.fixture
def wide_seeds(tmp_path) -> Path:
    """A site whose domains include private addresses, though the operator named only 127.0.0.1:8000."""
    return _seeds(tmp_path / "seeds", ["127.0.0.1", *PRIVATE_HOSTS, "news.example.org"], "http://127.0.0.1:8000/")


@pytest.mark.parametrize("host", PRIVATE_HOSTS)
def test_discovered_urls_to_private_addresses_are_refused_before_any_connection(wide_seeds, host):
    mw, spider, crawler = _middleware(wide_seeds)
    assert spider.in_scope(_url(host)), "in the seed's domains: only the address rule can refuse it"
    with pytest.raises(IgnoreRequest, match="private_address"):
        _request(mw, spider, _url(host))
    assert crawler.stats.get_value("archive/refused/private_address") == 1


def test_operator_named_hosts_are_trusted_as_given_even_on_loopback(wide_seeds):
    mw, spider, crawler = _middleware(wide_seeds)
    assert _request(mw, spider, "http://127.0.0.1:8000/news/a.html") is None
    assert _request(mw, spider, "http://127.0.0.1:9999/other-port.html") is None  # the host is what is named
    # an ad-hoc -a start_url names its host too
    crawler2 = get_crawler(SiteSpider, settings_dict={"ARCHIVE_SEEDS_DIR": str(FIXTURES / "no-seeds")})
    adhoc = SiteSpider.from_crawler(crawler2, start_url="http://localhost:8000/")
    assert asyncio.run(ScopeMiddleware.from_crawler(crawler2).process_request(Request("http://localhost:8000/x"),
                                                                              adhoc)) is None
    assert crawler.stats.get_value("archive/refused/private_address") is None


def test_allow_private_widens_the_address_list_by_cidr(wide_seeds):
    mw, spider, crawler = _middleware(wide_seeds, ARCHIVE_ALLOW_PRIVATE=["10.0.0.0/8", "::1/128"])
    assert _request(mw, spider, _url("10.0.0.5")) is None
    assert _request(mw, spider, _url("::1")) is None
    for host in ("192.168.1.1", "169.254.169.254", "localhost"):
        with pytest.raises(IgnoreRequest, match="private_address"):
            _request(mw, spider, _url(host))


def test_addresses_in_disguise_are_refused(wide_seeds, tmp_path):
    seeds = _seeds(tmp_path / "disguise", ["127.0.0.1", "::ffff:169.254.169.254", "2130706433", "127.1"],
                   "http://127.0.0.1:8000/")
    mw, spider, _ = _middleware(seeds)
    for url in ("http://[::ffff:169.254.169.254]/latest/meta-data/", "http://2130706433/", "http://127.1/"):
        with pytest.raises(IgnoreRequest, match="private_address"):
            _request(mw, spider, url)


def test_offsite_and_non_http_urls_are_refused(wide_seeds):
    mw, spider, crawler = _middleware(wide_seeds)
    with pytest.raises(IgnoreRequest, match="offsite"):
        _request(mw, spider, "http://elsewhere.example.com/story.html")
    for url in ("ftp://127.0.0.1/file", "data:text/html,<p>x</p>", "file:///etc/passwd"):
        with pytest.raises(IgnoreRequest, match="not_http"):
            _request(mw, spider, url)
    assert crawler.stats.get_value("archive/refused/not_http") == 3


def test_link_discovery_keeps_only_http_links():
    page = b"""<html><body><a href="mailto:a@b.org">m</a><a href="javascript:void(0)">j</a>
    <a href="ftp://127.0.0.1/f">f</a><a href="data:text/html,x">d</a><a href="tel:+44">t</a>
    <a href="/news/ok.html">ok</a><a href="https://127.0.0.1/secure.html">s</a></body></html>"""
    assert _links(page, "http://127.0.0.1:8000/", "utf-8") == ["http://127.0.0.1:8000/news/ok.html",
                                                                "https://127.0.0.1/secure.html"]


# ------------------------------------------------------------------------------------------------ end to end


def _scope_site(tmp: Path, other: FixtureServer) -> Path:
    root = tmp / "site"
    (root / "news").mkdir(parents=True)
    elsewhere = f"http://localhost:{other.port}"
    links = [("/news/story-1.html", "Read the first story in full"), ("/news/moved.html", "A story that moved"),
             (f"{elsewhere}/news/linked.html", "A story on another host"),
             ("mailto:desk@example.org", "Write to us"), ("javascript:void(0)", "Menu"),
             ("ftp://127.0.0.1/archive.zip", "Archive download"), ("data:text/html,<p>x</p>", "Data link")]
    (root / "index.html").write_text(listing_html("Front page", links))
    (root / "news" / "story-1.html").write_text(article_html(1, 3))
    (other.root / "news").mkdir(parents=True, exist_ok=True)
    (other.root / "news" / "linked.html").write_text(article_html(2, 3))
    (other.root / "news" / "target.html").write_text(article_html(3, 3))
    return root


@pytest.fixture
def scope_sites(tmp_path):
    other = FixtureServer(tmp_path / "other")
    (tmp_path / "other").mkdir()
    with other:
        root = _scope_site(tmp_path, other)
        with FixtureServer(root) as server:
            target = f"http://localhost:{other.port}/news/target.html"
            server.routes["/news/moved.html"] = lambda h: h.send(302, b"", {"Location": target})
            server.routes["/feed.xml"] = lambda h: h.send(200, (
                '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
                f'<item><title>a</title><link>{server.base}/news/story-1.html</link></item>'
                f'<item><title>b</title><link>http://localhost:{other.port}/news/linked.html</link></item>'
                "</channel></rss>").encode(), {"Content-Type": "application/rss+xml"})
            yield server, other


def test_crawl_never_requests_another_site_a_private_address_or_a_non_http_link(scope_sites, tmp_path, sqlite_url):
    server, other = scope_sites
    # A: the seed's domain is 127.0.0.1 only: "localhost" is another site (offsite)
    offsite = _seeds(tmp_path / "a", ["127.0.0.1"], f"{server.base}/", [f"{server.base}/feed.xml"])
    # B: "localhost" is in the seed's domains but the operator never named it: a discovered loopback address
    private = _seeds(tmp_path / "b", ["127.0.0.1", "localhost"], f"{server.base}/", [f"{server.base}/feed.xml"])
    db_b = sqlite_url.replace("archive.sqlite3", "b.sqlite3")
    shutil.copy(sqlite_url.removeprefix("sqlite:///"), db_b.removeprefix("sqlite:///"))
    runs = {
        "a-site": start_crawl("site", db_url=sqlite_url, seeds_dir=offsite),
        "b-site": start_crawl("site", db_url=db_b, seeds_dir=private),
    }
    results = {k: finish_crawl(p) for k, p in runs.items()}
    runs = {"a-feeds": start_crawl("feeds", db_url=sqlite_url, seeds_dir=offsite),
            "b-feeds": start_crawl("feeds", db_url=db_b, seeds_dir=private)}
    results |= {k: finish_crawl(p) for k, p in runs.items()}
    for name, result in results.items():
        assert result.returncode == 0, f"{name}: {result.stderr[-3000:]}"
    assert other.paths() == [], "no request ever reached the other host"
    paths = server.paths()
    assert "/news/story-1.html" in paths and not [p for p in paths if "archive.zip" in p or "void" in p]
    a, b = results["a-site"], results["b-site"]
    # A: the link is dropped as offsite by the spider; the redirect is refused as offsite by the middleware
    assert a.count("archive/links/offsite") >= 1 and a.count("archive/refused/offsite") == 1, a.stats
    assert results["a-feeds"].count("archive/feed_entries") == 2  # its offsite entry is read, never fetched
    # B: the link and the redirect pass the domain rule and are refused by the address rule, before connecting
    assert b.count("archive/refused/private_address") == 2, b.stats
    assert results["b-feeds"].count("archive/refused/private_address") == 1, results["b-feeds"].stats


def test_allow_private_lets_the_crawl_follow_links_and_redirects_to_that_network(scope_sites, tmp_path, sqlite_url):
    """The positive control: with loopback allowed, the same site does reach the other host."""
    server, other = scope_sites
    private = _seeds(tmp_path / "c", ["127.0.0.1", "localhost"], f"{server.base}/")
    result = crawl("site", db_url=sqlite_url, seeds_dir=private,
                   settings={"ARCHIVE_ALLOW_PRIVATE": "127.0.0.0/8,::1/128"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert {"/news/linked.html", "/news/target.html"} <= set(other.paths())
    assert result.count("archive/refused/private_address") == 0
