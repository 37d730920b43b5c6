"""``ArchivePipeline``: the only glue between the crawl and the archive. One transaction per page, off the
reactor thread; a failed page is rolled back alone, logged in one line and counted."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from scrapy import signals
from scrapy.exceptions import DropItem, NotConfigured
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from archive.db import DatabaseError, make_engine
from archive.models import CrawlRun, utcnow
from archive.normalise import BadURL
from archive.schedule import PolicyBook
from archive.versions import Fetch, record_fetch
from crawler.seeds import policy_book

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineSettings:
    database_url: str
    writers: int
    min_body_share: float

    @classmethod
    def from_settings(cls, settings) -> PipelineSettings:
        share = settings.getfloat("ARCHIVE_MIN_BODY_SHARE")
        if not 0 <= share <= 1:
            raise NotConfigured(f"ARCHIVE_MIN_BODY_SHARE must be between 0 and 1, not {share}")
        url = settings.get("ARCHIVE_DATABASE_URL")
        if not url:
            raise NotConfigured("ARCHIVE_DATABASE_URL is empty")
        return cls(url, settings.getint("ARCHIVE_DB_WRITERS"), share)


class ArchivePipeline:
    def __init__(self, crawler, config: PipelineSettings):
        self.crawler = crawler
        self.stats = crawler.stats
        self.config = config
        self.engine = None
        self.executor: ThreadPoolExecutor | None = None
        self.run_id: int | None = None
        self.policies = PolicyBook()

    @classmethod
    def from_crawler(cls, crawler):
        pipeline = cls(crawler, PipelineSettings.from_settings(crawler.settings))
        # after RunHealth (connected when extensions load) has judged the run
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self, spider=None) -> None:
        spider = spider or self.crawler.spider
        try:
            self.engine = make_engine(self.config.database_url)
        except DatabaseError as exc:
            self.stats.set_value("archive/fatal", str(exc))
            raise
        writers = self.config.writers or (1 if self.engine.dialect.name == "sqlite" else 4)
        self.executor = ThreadPoolExecutor(max_workers=writers, thread_name_prefix="archive-writer")
        self.policies = policy_book(getattr(spider, "seeds", []))
        with Session(self.engine) as session, session.begin():
            run = CrawlRun(spider=spider.name, started_at=utcnow(), status="running", stats={})
            session.add(run)
            session.flush()
            self.run_id = run.id
        self.stats.set_value("archive/run_id", self.run_id)

    def _store(self, fetch: Fetch):
        policy = self.policies.for_site(fetch.site)
        for attempt in (1, 2):
            try:
                with Session(self.engine) as session, session.begin():
                    return record_fetch(
                        session, fetch, run_id=self.run_id, policy=policy, min_body_share=self.config.min_body_share
                    )
            except DBAPIError as exc:
                # The connection died under this page (a restarted server, a killed backend): the transaction
                # rolled back whole, so storing the page again on a fresh connection is safe. Once.
                if not exc.connection_invalidated or attempt == 2:
                    raise
                self.stats.inc_value("archive/store_retries")
                log.warning("database connection lost while storing %s; retrying once", fetch.url)

    async def process_item(self, item, spider=None):
        if not isinstance(item, Fetch):
            return item
        loop = asyncio.get_running_loop()
        try:
            outcome = await loop.run_in_executor(self.executor, self._store, item)
        except BadURL as exc:
            self.stats.inc_value("archive/errors/bad_url")
            raise DropItem(str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - whatever failed (SQLAlchemy, the driver, the disk), the page's
            # transaction rolled back whole: say so in one line and go on with the crawl
            reason = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            self.stats.inc_value("archive/errors/store")
            log.error("not stored (database write failed, page rolled back): %s: %s", item.url, reason)
            raise DropItem(f"database write failed: {reason}") from None
        self.stats.inc_value(f"archive/captures/{outcome.kind}")
        if outcome.new_version:
            self.stats.inc_value("archive/new_versions")
        if outcome.reason:
            self.stats.inc_value(f"archive/degraded/{outcome.reason}")
        # What reaches feed exports and logs is small: never the raw HTML.
        return {"url": item.url, "status": item.status, "kind": outcome.kind, "seq": outcome.seq}

    def close_spider(self, spider=None) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True)

    def spider_closed(self, spider, reason: str) -> None:
        """Record the run's end (after every item is stored) and release the database."""
        if self.engine is None:
            return
        stats = {k: v for k, v in self.stats.get_stats().items() if isinstance(v, (int, float, str))}
        try:
            with Session(self.engine) as session, session.begin():
                run = session.get(CrawlRun, self.run_id)
                if run is not None:
                    run.finished_at = utcnow()
                    run.status = self.stats.get_value("archive/exit_reason") and "failed" or reason
                    run.stats = stats
        except SQLAlchemyError as exc:
            log.error("could not record the end of crawl run %s: %s", self.run_id, str(exc).splitlines()[0])
        self.engine.dispose()
