"""``feeds``: read RSS 0.9x/1.0/2.0 and Atom feeds (feedparser) and archive the articles they list."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import feedparser
from scrapy.http import Request, Response

from crawler.spiders.base import ArchiveSpider


class FeedsSpider(ArchiveSpider):
    """``scrapy crawl feeds [-a feed=URL[,URL...]] [-a site=NAME]``"""

    name = "feeds"
    url_arg = "feed"

    async def start(self):
        self.load_known()
        urls = self.adhoc_urls or [u for seed in self.seeds for u in seed.feeds]
        for url in urls:
            yield Request(url, callback=self.parse_feed, errback=self.on_error, dont_filter=True)

    def parse_feed(self, response: Response):
        seed = self.seed_for(response.url)
        parsed = feedparser.parse(response.body, response_headers={"content-location": response.url})
        if parsed.bozo and not parsed.entries:
            self.count("errors/bad_feed")
            self.logger.warning("not a readable feed: %s (%s)", response.url, parsed.get("bozo_exception"))
            return
        self.count("feed_entries", len(parsed.entries))
        changed: dict[str, str | None] = {}
        for entry in parsed.entries:
            link = entry.get("link") or next((l.get("href") for l in entry.get("links", []) if l.get("href")), None)
            if link:
                try:
                    changed[response.urljoin(link)] = _iso(entry.get("updated_parsed") or entry.get("published_parsed"))
                except ValueError:
                    self.count("links/invalid")
        for url in self.article_urls(seed, changed) if seed else []:
            if self.is_news(url, changed[url]):
                yield self.article_request(url)


def _iso(parsed: time.struct_time | None) -> str | None:
    """feedparser's parsed date (UTC) as ISO 8601, or ``None``."""
    return datetime(*parsed[:6], tzinfo=timezone.utc).isoformat() if parsed else None
