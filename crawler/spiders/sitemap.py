"""``sitemap``: sitemap indexes, gzip sitemaps and news sitemaps; ``lastmod`` skips articles already seen since."""

from __future__ import annotations


from lxml import etree
from scrapy.http import Request, Response
from scrapy.utils.gz import gunzip, gzip_magic_number

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
        self.load_known()
        urls = self.adhoc_urls or [u for seed in self.seeds for u in seed.sitemaps]
        for url in urls:
            yield Request(url, callback=self.parse_sitemap, errback=self.on_error, dont_filter=True)

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
                url = self._join(response, entry["loc"])
                if url and self.in_scope(url):
                    yield Request(url, callback=self.parse_sitemap, errback=self.on_error)
            return
        seed = self.seed_for(response.url)
        self.count("sitemap_entries", len(entries))
        for entry in entries:
            url = self._join(response, entry["loc"])
            if url is None or seed is None or not list(self.article_urls(seed, [url])):
                continue
            lastmod = entry.get("lastmod") or entry.get("news_publication_date")
            if self.is_news(url, lastmod, skip_reason="lastmod_unchanged" if lastmod else "already_archived"):
                yield self.article_request(url)

    def _join(self, response: Response, loc: str) -> str | None:
        try:
            return response.urljoin(loc)
        except ValueError:  # e.g. "http://[::1"
            self.count("links/invalid")
            return None
