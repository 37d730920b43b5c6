"""``site``: start at a site's front pages and follow its links; archive article pages, only follow the others."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from scrapy.http import Request, Response

from crawler.spiders.base import ArchiveSpider

#: URL shapes that are section, tag, author, search, feed or pagination pages on most news sites
LISTING_URL = re.compile(
    r"/(tag|tags|category|categories|topic|topics|section|sections|author|authors|authors?/[^/]+|search|page"
    r"|archive|archives|feed|rss|wp-json|wp-admin|wp-login\.php|login|account|subscribe|newsletter|about|contact)"
    r"(/|$|\?)|[?&](page|paged|s|p)=|/page/\d+/?$|\.(xml|rss|atom|json|jpg|jpeg|png|gif|webp|svg|pdf|zip|mp3|mp4|css|js)$",
    re.IGNORECASE,
)


class SiteSpider(ArchiveSpider):
    """``scrapy crawl site [-a start_url=URL[,URL...]] [-a site=NAME]``"""

    name = "site"
    url_arg = "start_url"

    async def start(self):
        self.max_depth = self.settings_.getint("ARCHIVE_SITE_DEPTH")
        self.load_known()
        urls = self.adhoc_urls or [u for seed in self.seeds for u in seed.start_urls]
        for url in urls:
            yield Request(url, callback=self.parse_page, errback=self.on_error, meta={"archive_depth": 0})

    def may_be_article(self, url: str) -> bool:
        seed = self.seed_for(url)
        verdict = seed.is_article_url(url) if seed else None
        if verdict is not None:
            return verdict
        path = urlsplit(url).path
        return path not in ("", "/") and not LISTING_URL.search(url)

    async def parse_page(self, response: Response):
        depth = response.meta.get("archive_depth", 0)
        want_links = depth < self.max_depth
        if self.may_be_article(response.url):
            fetch, links = await self.fetch_from_response(response, known=False, want_links=want_links)
            if fetch is not None:
                if fetch.record is not None and fetch.record.page_kind != "article":
                    self.skip(f"not_article/{fetch.record.page_kind}", response.url)
                else:
                    yield fetch
        else:
            if response.status >= 400 or not self.is_html(response):
                self.skip("not_html" if response.status < 400 else f"http_{response.status}", response.url)
                return
            self.count("listing_pages")
            links = (await self.run_worker(response, want_links=want_links, want_record=False)).links if want_links else []
        offsite = 0
        for url in links:
            if not self.in_scope(url):
                offsite += 1
            elif not self.may_be_article(url) or self.is_news(url):
                yield Request(url, callback=self.parse_page, errback=self.on_error, meta={"archive_depth": depth + 1})
        if offsite:
            self.count("links/offsite", offsite)
