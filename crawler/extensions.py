"""``RunHealth``: judge a finished crawl, so ``scrapy crawl`` can exit non-zero when it achieved nothing."""

from __future__ import annotations

import logging

from scrapy import signals

log = logging.getLogger(__name__)

USEFUL_PREFIXES = ("archive/captures/", "archive/skipped/", "archive/listing_pages", "archive/feed_entries",
                   "archive/sitemap_entries", "archive/refused/")
FAILURE_PREFIXES = ("archive/errors/", "downloader/exception_count", "retry/max_reached",
                    "downloader/response_status_count/5")


def _total(stats: dict, prefixes: tuple[str, ...]) -> int:
    return sum(v for k, v in stats.items() if k.startswith(prefixes) and isinstance(v, int))


def verdict(stats: dict) -> str | None:
    """A one-line reason the run failed, or ``None`` when it did its job (some bad pages are fine)."""
    if stats.get("archive/fatal"):
        return str(stats["archive/fatal"])
    useful, failures = _total(stats, USEFUL_PREFIXES), _total(stats, FAILURE_PREFIXES)
    if useful == 0 and failures > 0:
        return f"every request failed ({failures} failure(s), nothing fetched)"
    errors = stats.get("archive/errors/store", 0)
    if errors and not _total(stats, ("archive/captures/",)):
        return f"no page could be stored ({errors} database write failure(s))"
    return None


class RunHealth:
    def __init__(self, crawler):
        self.crawler = crawler
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_closed(self, spider, reason) -> None:
        stats = self.crawler.stats.get_stats()
        problem = verdict(stats)
        if problem:
            self.crawler.stats.set_value("archive/exit_reason", problem)
        captures = _total(stats, ("archive/captures/",))
        errors = _total(stats, ("archive/errors/",))
        log.info(
            "archive summary: %d capture(s), %d new version(s), %d skipped, %d error(s)%s",
            captures, stats.get("archive/new_versions", 0), _total(stats, ("archive/skipped/",)), errors,
            f"; FAILED: {problem}" if problem else "",
        )
