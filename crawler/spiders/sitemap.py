"""``sitemap``: sitemap indexes, gzip sitemaps and news sitemaps; ``lastmod`` skips articles already seen since."""

from __future__ import annotations

from datetime import datetime

from lxml import etree
from scrapy.http import Request, Response
from scrapy.utils.gz import gunzip, gzip_magic_number
from sqlalchemy import select

from archive.db import make_engine
from archive.models import Article
from archive.normalise import BadURL, parse_time, url_key
from crawler.spiders.base import ArchiveSpider

MAX_SITEMAP_SIZE = 50 * 1024 * 1024


def parse_sitemap(body: bytes) -> tuple[str, list[dict]]:
    """(``"sitemapindex"`` or ``"urlset"``, entries with loc, lastmod and news publication_date / title)."""
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    root = etree.fromstring(body, parser=parser)
    if root is None:
        return "", []
    kind = etree.QName(root).localname.lower()
    entries = []
    for node in root:
        if not isinstance(node.tag, str):
            continue
        entry: dict = {}
        for child in node.iter():
            if not isinstance(child.tag, str) or child is node:
                continue
            name = etree.QName(child).localname
            text = (child.text or "").strip()
            if name in ("loc", "lastmod") and text:
                entry.setdefault(name, text)
            elif name in ("publication_date", "title") and text:
                entry["news_" + name] = text
        if entry.get("loc"):
            entries.append(entry)
    return kind, entries


class SitemapSpider(ArchiveSpider):
    """``scrapy crawl sitemap [-a sitemap=URL[,URL...]] [-a site=NAME]``"""

    name = "sitemap"
    url_arg = "sitemap"

    async def start(self):
        self._checked = self._last_checked_index()
        urls = self.adhoc_urls or [u for seed in self.seeds for u in seed.sitemaps]
        for url in urls:
            yield Request(url, callback=self.parse_sitemap, errback=self.on_error, dont_filter=True)

    def _last_checked_index(self) -> dict[str, datetime]:
        """url_key -> last check time of archived articles, to skip those whose lastmod is older."""
        engine = make_engine(self.settings_.get("ARCHIVE_DATABASE_URL"))
        try:
            with engine.connect() as conn:
                return dict(conn.execute(select(Article.url_key, Article.last_checked)).all())
        finally:
            engine.dispose()

    def parse_sitemap(self, response: Response):
        body = response.body
        if gzip_magic_number(response):
            try:
                body = gunzip(body, max_size=MAX_SITEMAP_SIZE)
            except Exception as exc:  # truncated or oversized gzip: count it, go on
                self.count("errors/bad_sitemap")
                self.logger.warning("unreadable gzip sitemap %s: %s", response.url, exc)
                return
        try:
            kind, entries = parse_sitemap(body)
        except etree.XMLSyntaxError as exc:
            self.count("errors/bad_sitemap")
            self.logger.warning("unreadable sitemap %s: %s", response.url, exc)
            return
        if kind == "sitemapindex":
            for entry in entries:
                url = response.urljoin(entry["loc"])
                if self.in_scope(url):
                    yield Request(url, callback=self.parse_sitemap, errback=self.on_error)
            return
        seed = self.seed_for(response.url)
        self.count("sitemap_entries", len(entries))
        for entry in entries:
            url = response.urljoin(entry["loc"])
            if seed is None or not list(self.article_urls(seed, [url])):
                continue
            if self._unchanged_since_checked(url, entry.get("lastmod") or entry.get("news_publication_date")):
                self.skip("lastmod_unchanged", url)
                continue
            yield self.article_request(url)

    def _unchanged_since_checked(self, url: str, lastmod: str | None) -> bool:
        if not lastmod:
            return False
        try:
            checked = self._checked.get(url_key(url))
            return checked is not None and parse_time(lastmod) <= checked
        except (ValueError, BadURL):
            return False
