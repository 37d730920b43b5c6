"""What every archive spider shares: seeds, scope, and turning an article response into a ``Fetch``."""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures.process import BrokenProcessPool
from typing import Any, AsyncIterator, Iterable
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.http import Request, Response
from sqlalchemy import select

from archive.db import make_engine
from archive.models import Article, Site
from archive.normalise import BadURL, parse_time, sha256, url_key
from archive.versions import Fetch
from crawler.seeds import Seed, SeedError, load_seeds
from crawler.worker import PageResult, kill_pool, make_pool, process_page

log = logging.getLogger(__name__)

#: IgnoreRequest messages of Scrapy's own middlewares, and the reason we count them under
SCRAPY_REFUSALS = (("DOWNLOAD_MAXSIZE", "too_big"), ("max redirections", "too_many_redirects"))
HTML_TYPES = (b"text/html", b"application/xhtml+xml")


def split_arg(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def parseable(url: str) -> bool:
    """Whether ``url`` parses with a port in range: hostile pages link to ``http://[::1`` and ``http://h:99999/``,
    which would raise inside the spider and cost the page its remaining links."""
    try:
        urlsplit(url).port
    except ValueError:
        return False
    return True


def truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


class ArchiveSpider(scrapy.Spider):
    """Base of the archive spiders. Subclasses name their ``-a`` URL argument in ``url_arg``."""

    url_arg = ""
    custom_settings: dict = {}

    def __init__(self, *args, site: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.site_name = site
        self.seeds: list[Seed] = []
        self.adhoc_urls = split_arg(kwargs.get(self.url_arg)) if self.url_arg else []
        self._pool = None
        self._seed_by_host: dict[str, Seed | None] = {}
        self._seed_cache_for: list[Seed] | None = None
        self._trusted: set[str] | None = None
        self.known: dict = {}
        self.fetched: set[str] = set()  # url keys of article pages fetched by this process (discovery spiders)
        self._slots: asyncio.Semaphore | None = None

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.settings_ = crawler.settings
        spider.seeds = spider.load_seeds(crawler.settings)
        crawler.signals.connect(spider._close_pool, signal=signals.spider_closed)
        return spider

    # --- seeds and scope ------------------------------------------------------------------------------------
    def load_seeds(self, settings) -> list[Seed]:
        if self.adhoc_urls:
            # Ad-hoc URLs crawl only themselves; a seeded site lends its name and patterns to its own URLs.
            try:
                known = load_seeds(settings.get("ARCHIVE_SEEDS_DIR"))
            except SeedError:
                known = []
            chosen: dict[str, Seed] = {}
            for url in self.adhoc_urls:
                seed = next((k for k in known if k.owns(url)), None) or Seed.for_url(url)
                chosen.setdefault(seed.name, seed)
            return list(chosen.values())
        seeds = load_seeds(settings.get("ARCHIVE_SEEDS_DIR"))
        if self.site_name:
            seeds = [s for s in seeds if s.name == self.site_name]
            if not seeds:
                raise ValueError(f"no site named {self.site_name!r} in {settings.get('ARCHIVE_SEEDS_DIR')}")
        return seeds

    @property
    def trusted_hosts(self) -> set[str]:
        """Hosts the operator named (``-a`` URLs, seeds' URLs): trusted as given, loopback included."""
        if self._trusted is None:
            urls = [*self.adhoc_urls, *(u for s in self.seeds for u in (*s.feeds, *s.sitemaps, *s.start_urls))]
            self._trusted = {h.lower() for h in (urlsplit(u).hostname for u in urls) if h}
        return self._trusted

    def seed_for(self, url: str) -> Seed | None:
        # by host, remembered: a page's links are mostly the same few (offsite) hosts, asked about again and again
        host = (urlsplit(url).hostname or "").lower()
        if self._seed_cache_for is not self.seeds or len(self._seed_by_host) > 50_000:
            self._seed_by_host, self._seed_cache_for = {}, self.seeds
        try:
            return self._seed_by_host[host]
        except KeyError:
            seed = self._seed_by_host[host] = next((s for s in self.seeds if s.owns(url)), None)
            return seed

    def in_scope(self, url: str) -> bool:
        if not parseable(url):
            self.count("links/invalid")
            return False
        seed = self.seed_for(url)
        return seed is not None and seed.may_follow(url)

    # --- what the archive already holds -----------------------------------------------------------------------
    def load_known(self) -> None:
        """Index the seeded sites' archived articles (url key -> last check), read once at the start."""
        engine = make_engine(self.settings_.get("ARCHIVE_DATABASE_URL"))
        query = select(Article.url_key, Article.last_checked)
        names = [s.name for s in self.seeds]
        if names:
            query = query.join(Site, Site.id == Article.site_id).where(Site.name.in_(names))
        try:
            with engine.connect() as conn:
                self.known = dict(conn.execute(query).all())
        finally:
            engine.dispose()

    def is_news(self, url: str, changed: str | None = None, skip_reason: str = "already_archived") -> bool:
        """Whether a discovered article URL is worth fetching: not archived yet, or announced (feed ``updated``,
        sitemap ``lastmod``) as changed since the archive last checked it. Revisits are the recrawl's job."""
        try:
            checked = self.known.get(url_key(url))
        except BadURL:
            return False
        if checked is None:
            return True
        if changed:
            try:
                if parse_time(changed) > checked:
                    return True
            except ValueError:
                pass
        self.skip(skip_reason, url)
        return False

    # --- extraction pool ------------------------------------------------------------------------------------
    @property
    def pool(self):
        if self._pool is None:
            self._pool = make_pool(self.workers)
        return self._pool

    @property
    def workers(self) -> int:
        return self.settings_.getint("ARCHIVE_EXTRACT_WORKERS") or os.cpu_count() or 1

    @property
    def worker_slots(self) -> asyncio.Semaphore:
        if self._slots is None:
            # two pages per worker: one running, one queued behind it, so no worker waits for the reactor
            self._slots = asyncio.Semaphore(2 * self.workers)
        return self._slots

    def _close_pool(self, spider=None, wait: bool = True) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)

    async def run_worker(self, response: Response, *, want_links: bool, want_record: bool = True) -> PageResult:
        encoding = response.headers.get(b"Content-Type", b"").decode("latin-1")
        charset = None
        if "charset=" in encoding.lower():
            charset = encoding.lower().split("charset=", 1)[1].split(";")[0].strip().strip("\"'") or None
        loop = asyncio.get_running_loop()
        limit = self.settings_.getfloat("ARCHIVE_EXTRACT_TIMEOUT")
        # The worker enforces the limit itself (its start-up does not count); this backstop catches a worker
        # stuck where Python's signal cannot reach it (a long call inside C).
        backstop = limit * 2 + 30 if limit else None
        args = (process_page, response.body, response.url, charset, want_links, want_record, limit)
        for attempt in (1, 2):
            # A bounded number of pages is handed over (memory; nothing waits long behind a stuck page).
            await self.worker_slots.acquire()
            pool = self.pool  # taken after the wait: the pool may have been retired meanwhile
            try:
                result = await asyncio.wait_for(loop.run_in_executor(pool, *args), timeout=backstop)
                if result.timed_out:
                    self.count("errors/extract_timeout")
                return result
            except asyncio.TimeoutError:
                # The stuck worker would hold a core for good: new pages go to a fresh pool, and the old one's
                # processes are killed once the pages still running in it have had their own time.
                self.count("errors/extract_timeout")
                if pool is self._pool:
                    self._pool = None
                    pool.shutdown(wait=False, cancel_futures=False)
                    loop.call_later(backstop, kill_pool, pool)
                return PageResult(None, [], backstop, f"extraction stuck for more than {backstop:.0f}s", timed_out=True)
            except BrokenProcessPool as exc:
                if pool is not self._pool and attempt == 1:
                    continue  # its pool was retired and killed under it: this page was not at fault, retry
                # A worker died (e.g. a parser crash on a hostile page): replace the pool, lose only this page.
                self.count("errors/worker_crash")
                if pool is self._pool:
                    self._close_pool(wait=False)
                return PageResult(None, [], 0.0, f"extraction process died: {exc}"[:300])
            finally:
                self.worker_slots.release()
        raise AssertionError("unreachable")

    # --- responses ------------------------------------------------------------------------------------------
    def count(self, key: str, n: int = 1) -> None:
        self.crawler.stats.inc_value(f"archive/{key}", n)

    def skip(self, reason: str, url: str) -> None:
        self.count(f"skipped/{reason}")
        self.logger.debug("skipped (%s): %s", reason, url)

    def article_request(self, url: str, *, callback=None, priority: int = 0, **meta) -> Request:
        return Request(
            url,
            callback=callback or self.parse_article,
            errback=self.on_error,
            priority=priority,
            meta=meta,
            dont_filter=bool(meta.pop("dont_filter", False)),
        )

    def is_html(self, response: Response) -> bool:
        ctype = response.headers.get(b"Content-Type", b"").split(b";")[0].strip().lower()
        return ctype in HTML_TYPES or (not ctype and response.body[:512].lstrip()[:1] == b"<")

    def base_fetch(self, response: Response, **extra) -> Fetch:
        redirects = response.meta.get("redirect_urls") or []
        seed = self.seed_for(response.url) or (self.seed_for(redirects[0]) if redirects else None)
        header = response.headers.get
        return Fetch(
            url=response.url,
            status=response.status,
            requested_url=redirects[0] if redirects else None,
            etag=(header(b"ETag") or b"").decode("latin-1") or None,
            last_modified=(header(b"Last-Modified") or b"").decode("latin-1") or None,
            site=seed.name if seed else None,
            **extra,
        )

    async def fetch_from_response(self, response: Response, *, known: bool, want_links: bool = False):
        """The ``Fetch`` to store for an article response (or ``None`` to skip it) and the page's links."""
        if response.status == 304:
            self.count("not_modified")
            return self.base_fetch(response, not_modified=True), []
        if response.status in (404, 410):
            if not known:
                self.skip(f"http_{response.status}", response.url)
                return None, []
            self.count("gone")
            return self.base_fetch(response), []
        if response.status >= 400:
            self.skip(f"http_{response.status}", response.url)
            return None, []
        if not self.is_html(response):
            self.skip("not_html", response.url)
            return None, []
        if not response.body.strip():
            self.skip("empty_body", response.url)
            return None, []
        if not known:
            # A resumed job can fetch a page both from its saved queue and by rediscovering it: keep one.
            try:
                key = url_key(response.url)
            except BadURL:
                key = response.url
            if key in self.fetched:
                self.skip("duplicate", response.url)
                return None, []
            self.fetched.add(key)
        if known and response.meta.get("archive_html_hash") == sha256(response.body):
            self.count("same_html")
            links = (await self.run_worker(response, want_links=True, want_record=False)).links if want_links else []
            return self.base_fetch(response, same_html=True), links
        result = await self.run_worker(response, want_links=want_links)
        self.count("extract_cpu_ms", int(result.seconds * 1000))
        if result.error:
            self.count("errors/extraction")
            self.logger.warning("extraction failed for %s: %s", response.url, result.error)
            return None, result.links
        if result.record is None:
            self.skip("no_text", response.url)
            return None, result.links
        charset = getattr(response, "encoding", None)
        fetch = self.base_fetch(response, stored_html=result.html, encoding=charset, record=result.record)
        return fetch, result.links

    async def parse_article(self, response: Response) -> AsyncIterator[Any]:
        fetch, _ = await self.fetch_from_response(response, known=bool(response.meta.get("archive_known")))
        if fetch is not None:
            if fetch.record is not None and fetch.record.page_kind != "article" and not response.meta.get("archive_known"):
                self.skip(f"not_article/{fetch.record.page_kind}", response.url)
                return
            yield fetch

    def on_error(self, failure) -> None:
        request = failure.request
        reason = type(failure.value).__name__
        if reason == "IgnoreRequest":  # exactly: HttpError, a subclass, is counted below
            message = str(failure.value)
            refused = next((r for key, r in SCRAPY_REFUSALS if key in message), None)
            if refused:  # Scrapy refused it without counting it
                self.count(f"refused/{refused}")
                self.logger.warning("refused (%s): %s", refused.replace("_", " "), request.url)
            return  # anything else was counted by whoever refused it
        self.count(f"errors/{reason}")
        self.logger.warning("failed %s: %s", request.url, failure.getErrorMessage()[:200])

    def article_urls(self, seed: Seed, urls: Iterable[str]) -> Iterable[str]:
        for url in urls:
            if not parseable(url):
                self.count("links/invalid")
            elif seed.may_follow(url) and seed.is_article_url(url) is not False:
                yield url
