"""``recrawl``: revisit archived articles that are due (``-a all=true``: every live one) to catch their edits.

A revisit bypasses the duplicate filter and is conditional (If-None-Match / If-Modified-Since) when the archive
holds an ETag or Last-Modified, except every ``ARCHIVE_UNCONDITIONAL_EVERY``-th capture of the article.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

from archive.db import make_engine
from archive.models import Article, Site, utcnow
from crawler.seeds import Seed
from crawler.spiders.base import ArchiveSpider, truthy


class RecrawlSpider(ArchiveSpider):
    """``scrapy crawl recrawl [-a all=true] [-a site=NAME] [-a limit=N]``"""

    name = "recrawl"

    def __init__(self, *args, all: str | None = None, limit: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.revisit_all = truthy(all)
        self.limit = int(limit) if limit else None

    def load_seeds(self, settings) -> list[Seed]:
        try:
            return super().load_seeds(settings)
        except ValueError:
            if self.site_name:
                raise
            return []  # recrawl works from the archive; seeds only add names and policies

    def in_scope(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return host in getattr(self, "_hosts", set()) or super().in_scope(url)

    async def start(self):
        engine = make_engine(self.settings_.get("ARCHIVE_DATABASE_URL"))
        every = max(2, self.settings_.getint("ARCHIVE_UNCONDITIONAL_EVERY"))
        limit = self.limit or self.settings_.getint("ARCHIVE_RECRAWL_LIMIT") or None
        query = (
            select(Article.id, Article.url, Article.etag, Article.last_modified, Article.check_count,
                   Article.last_html_hash, Site.name)
            .outerjoin(Site, Site.id == Article.site_id)
            .where(Article.state == "live")
            .order_by(Article.next_check.asc(), Article.id)
        )
        if not self.revisit_all:
            query = query.where(Article.next_check.is_not(None), Article.next_check <= utcnow())
        if self.site_name:
            query = query.where(Site.name == self.site_name)
        if limit:
            query = query.limit(limit)
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        engine.dispose()
        self._hosts = {(urlsplit(row.url).hostname or "").lower() for row in rows}
        self.trusted_hosts.update(self._hosts)  # archived URLs passed the scope checks when first fetched
        self.count("due", len(rows))
        self.logger.info("recrawl: %d article(s) to revisit", len(rows))
        for row in rows:
            headers = {}
            conditional = (row.check_count or 0) % every != 0
            if conditional and row.etag:
                headers["If-None-Match"] = row.etag
            if conditional and row.last_modified:
                headers["If-Modified-Since"] = row.last_modified
            if not conditional:
                self.count("unconditional")
            request = self.article_request(
                row.url,
                dont_filter=True,
                archive_known=True,
                archive_article_id=row.id,
                archive_html_hash=row.last_html_hash if conditional else None,
            )
            request.headers.update(headers)
            yield request
