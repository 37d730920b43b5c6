"""Scale-out add-on: with ``ARCHIVE_REDIS_URL`` set, the scheduler and duplicate filter move to Redis
(scrapy-redis, persistent queue), so several crawler processes share one crawl. Without it nothing changes."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


class RedisScale:
    def update_settings(self, settings) -> None:
        url = settings.get("ARCHIVE_REDIS_URL")
        if not url:
            return
        settings.set("REDIS_URL", url, priority="addon")
        settings.set("SCHEDULER", "scrapy_redis.scheduler.Scheduler", priority="addon")
        settings.set("DUPEFILTER_CLASS", "scrapy_redis.dupefilter.RFPDupeFilter", priority="addon")
        settings.set("SCHEDULER_PERSIST", True, priority="addon")
        settings.set("SCHEDULER_QUEUE_CLASS", "scrapy_redis.queue.PriorityQueue", priority="addon")
