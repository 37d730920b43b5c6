"""Scale-out add-on: with ``ARCHIVE_REDIS_URL`` set, the scheduler and duplicate filter move to Redis
(scrapy-redis, persistent queue), so several crawler processes on any number of hosts share one crawl. Without
it nothing changes. docs/scale.md explains how to run it; in short, for a queue key ``Q`` (scrapy-redis's
``SCHEDULER_QUEUE_KEY``, ``ARCHIVE_REDIS_KEY:requests``, by default ``%(spider)s:requests``) Redis holds:

- ``Q`` (scrapy-redis): the shared priority queue; ``SCHEDULER_DUPEFILTER_KEY``: the shared fingerprints.
- ``Q:claims``: fingerprints of start requests already enqueued by some worker in this crawl, so N workers
  started with the same command enqueue each start request once (the recrawl spider's revisits included).
- ``Q:starting``, ``Q:workers``, ``Q:alive:W`` (expires unless worker W refreshes it): who takes part.
- ``Q:inflight:W``: the requests worker W popped and has not finished. The pop moves a request from ``Q`` into
  this hash in one Lua script; the worker drops an entry once Scrapy's engine is done with the request (its
  items stored, its follow-up requests in ``Q``). When ``Q:alive:W`` has expired (W was killed), any other
  worker moves W's entries back into ``Q``: nothing W held is lost (at-least-once; the archive's unique
  constraints keep versions single).

The crawl is over when ``Q`` is empty and no live worker is starting or holds a request; the worker that sees
it first deletes the fingerprints and claims, so the next run of the same command is a new crawl.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
import weakref
from dataclasses import dataclass
from typing import Any, AsyncIterator

from redis.exceptions import RedisError
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.http import Request
from scrapy_redis.connection import get_redis_from_settings
from scrapy_redis.defaults import SCHEDULER_QUEUE_KEY
from scrapy_redis.queue import PriorityQueue
from twisted.internet.task import LoopingCall

log = logging.getLogger(__name__)

#: request.meta key of the in-flight entry a popped request belongs to
TOKEN = "archive_inflight"

# Pop the best request and record it as in flight for this worker, atomically (a kill between the two would
# lose it). The entry keeps the priority score: "score\n" + serialized request.
_POP = """
local r = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #r == 0 then return false end
redis.call('ZREM', KEYS[1], r[1])
local token = redis.sha1hex(r[1])
redis.call('HSET', KEYS[2], token, r[2] .. '\\n' .. r[1])
return {r[1], token}
"""

# Move the in-flight requests of workers whose alive key expired back into the queue; with ARGV[2] == '1',
# also end the crawl if nothing is left anywhere (queue empty, no live worker starting or holding a
# request).
# KEYS: queue, workers, starting, dupefilter, claims. ARGV: key prefix, finish flag.
# Returns {recovered, busy, ended}.
_SWEEP = """
local prefix = ARGV[1]
local recovered, busy = 0, 0
for _, w in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local inflight = prefix .. ':inflight:' .. w
  if redis.call('EXISTS', prefix .. ':alive:' .. w) == 0 then
    for _, e in ipairs(redis.call('HVALS', inflight)) do
      local nl = string.find(e, '\\n', 1, true)
      redis.call('ZADD', KEYS[1], string.sub(e, 1, nl - 1), string.sub(e, nl + 1))
      recovered = recovered + 1
    end
    redis.call('DEL', inflight)
    redis.call('SREM', KEYS[2], w)
    redis.call('SREM', KEYS[3], w)
  elseif redis.call('HLEN', inflight) > 0 or redis.call('SISMEMBER', KEYS[3], w) == 1 then
    busy = busy + 1
  end
end
if ARGV[2] ~= '1' or recovered > 0 or busy > 0 or redis.call('ZCARD', KEYS[1]) > 0 then
  return {recovered, busy, 0}
end
redis.call('DEL', KEYS[4], KEYS[5])
return {0, 0, 1}
"""


@dataclass(frozen=True)
class ScaleSettings:
    """``ARCHIVE_REDIS_WORKER_TIMEOUT``: seconds without a heartbeat after which a worker counts as dead and
    its in-flight requests go back to the queue. ``ARCHIVE_REDIS_TICK``: seconds between heartbeats."""

    worker_timeout: float
    tick: float

    @classmethod
    def from_settings(cls, settings) -> ScaleSettings:
        timeout = settings.getfloat("ARCHIVE_REDIS_WORKER_TIMEOUT", 30.0)
        tick = settings.getfloat("ARCHIVE_REDIS_TICK", 0.5)
        if tick <= 0 or timeout < 3 * tick:
            raise NotConfigured(
                f"ARCHIVE_REDIS_TICK must be > 0 and ARCHIVE_REDIS_WORKER_TIMEOUT at least three ticks "
                f"(got tick {tick}, timeout {timeout})"
            )
        return cls(timeout, tick)


@dataclass(frozen=True)
class CrawlKeys:
    """The Redis keys of one crawl, all derived from the scrapy-redis settings."""

    queue: str
    dupefilter: str

    @classmethod
    def from_settings(cls, settings, spider_name: str) -> CrawlKeys:
        names = {"spider": spider_name}
        return cls(
            queue=settings.get("SCHEDULER_QUEUE_KEY", SCHEDULER_QUEUE_KEY) % names,
            dupefilter=settings.get("SCHEDULER_DUPEFILTER_KEY", "%(spider)s:dupefilter") % names,
        )

    @property
    def claims(self) -> str:
        return f"{self.queue}:claims"

    @property
    def starting(self) -> str:
        return f"{self.queue}:starting"

    @property
    def workers(self) -> str:
        return f"{self.queue}:workers"

    def alive(self, worker: str) -> str:
        return f"{self.queue}:alive:{worker}"

    def inflight(self, worker: str) -> str:
        return f"{self.queue}:inflight:{worker}"

    def all_keys(self) -> list[str]:
        """The fixed keys; per-worker keys match ``QUEUE:alive:*`` and ``QUEUE:inflight:*``."""
        return [self.queue, self.dupefilter, self.claims, self.starting, self.workers]


class Coordinator:
    """This process's part in a shared crawl: one per crawler, used by the queue, the start middleware and the
    worker extension."""

    _by_crawler: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __init__(self, crawler):
        self.crawler = crawler
        self.config = ScaleSettings.from_settings(crawler.settings)
        self.server = get_redis_from_settings(crawler.settings)
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._keys: CrawlKeys | None = None
        self._pop = self.server.register_script(_POP)
        self._sweep = self.server.register_script(_SWEEP)

    @classmethod
    def of(cls, crawler) -> Coordinator:
        found = cls._by_crawler.get(crawler)
        if found is None:
            found = cls._by_crawler[crawler] = cls(crawler)
        return found

    @property
    def keys(self) -> CrawlKeys:
        if self._keys is None:
            self._keys = CrawlKeys.from_settings(self.crawler.settings, self.crawler.spider.name)
        return self._keys

    # --- membership -----------------------------------------------------------------------------------------
    def join(self) -> None:
        keys = self.keys
        with self.server.pipeline() as pipe:
            pipe.set(keys.alive(self.worker), "1", px=int(self.config.worker_timeout * 1000))
            pipe.sadd(keys.workers, self.worker)
            pipe.sadd(keys.starting, self.worker)
            pipe.execute()
        log.info("worker %s joined the crawl on %s", self.worker, keys.queue)

    def heartbeat(self) -> None:
        keys = self.keys
        with self.server.pipeline() as pipe:
            pipe.set(keys.alive(self.worker), "1", px=int(self.config.worker_timeout * 1000))
            pipe.sadd(keys.workers, self.worker)
            pipe.execute()

    def leave(self) -> int:
        """Give back whatever this worker still holds and sign off; returns the requests given back."""
        self.server.delete(self.keys.alive(self.worker))
        return self.sweep()[0]

    # --- start requests -------------------------------------------------------------------------------------
    def claim_start(self, request: Request) -> bool:
        """True if this worker is the first in the crawl to enqueue this start request."""
        fingerprint = self.crawler.request_fingerprinter.fingerprint(request).hex()
        return bool(self.server.sadd(self.keys.claims, fingerprint))

    def start_done(self) -> None:
        self.server.srem(self.keys.starting, self.worker)

    # --- in-flight requests ---------------------------------------------------------------------------------
    def pop(self) -> tuple[bytes, str] | None:
        found = self._pop(keys=[self.keys.queue, self.keys.inflight(self.worker)])
        if not found:
            return None
        data, token = found
        return data, token.decode() if isinstance(token, bytes) else token

    def settle(self, live: set[str]) -> int:
        """Forget the in-flight entries the engine is done with; returns how many were dropped."""
        key = self.keys.inflight(self.worker)
        done = [t for t in self.server.hkeys(key) if (t.decode() if isinstance(t, bytes) else t) not in live]
        if done:
            self.server.hdel(key, *done)
        return len(done)

    def sweep(self, finish: bool = False) -> tuple[int, int, bool]:
        """Requeue dead workers' requests; with ``finish``, end the crawl if nothing is left. Returns
        ``(recovered, busy_workers, ended)``."""
        keys = self.keys
        recovered, busy, ended = self._sweep(
            keys=[keys.queue, keys.workers, keys.starting, keys.dupefilter, keys.claims],
            args=[keys.queue, "1" if finish else "0"],
        )
        return int(recovered), int(busy), bool(ended)


class ReliablePriorityQueue(PriorityQueue):
    """scrapy-redis's priority queue whose pop also records the request as in flight for this worker."""

    def __init__(self, server, spider, key, serializer=None):
        super().__init__(server, spider, key, serializer)
        self.coordinator = Coordinator.of(spider.crawler)
        if self.key != self.coordinator.keys.queue:
            raise NotConfigured(f"queue key {self.key!r} differs from SCHEDULER_QUEUE_KEY")

    def pop(self, timeout: int = 0) -> Request | None:
        found = self.coordinator.pop()
        if found is None:
            return None
        data, token = found
        request = self._decode_request(data)
        request.meta[TOKEN] = token
        return request


class StartClaims:
    """Spider middleware: every worker runs the spider's ``start()`` (spiders set state there), but only the
    first worker to claim a start request (SADD on ``Q:claims``) enqueues it, dont_filter ones included."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.coordinator = Coordinator.of(crawler)

    @classmethod
    def from_crawler(cls, crawler) -> StartClaims:
        return cls(crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        stats = self.crawler.stats
        try:
            async for item in start:
                if isinstance(item, Request):
                    if not self.coordinator.claim_start(item):
                        stats.inc_value("archive/scale/start_taken")
                        continue
                    stats.inc_value("archive/scale/start_claimed")
                yield item
        finally:
            self.coordinator.start_done()


def _engine_requests(engine) -> set[Request]:
    """The requests Scrapy's engine has taken from the scheduler and not finished with: downloading, in the
    callback, or with items still in the pipelines (follow-up requests are in the scheduler by then)."""
    slot = getattr(engine, "_slot", None)
    inprogress = getattr(slot, "inprogress", None)  # private, exact; the public parts below are a fallback
    if inprogress is not None:
        return set(inprogress)
    scraper = getattr(engine.scraper, "slot", None)
    found = set(engine.downloader.active)
    if scraper is not None:
        found |= set(scraper.active) | {entry[1] for entry in scraper.queue}
    return found


class ScaleWorker:
    """Extension: heartbeat, in-flight bookkeeping, recovery of dead workers' requests, and the shared end of
    the crawl (an idle worker waits while others still hold work that may yield more)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.coordinator = Coordinator.of(crawler)
        self.loop: LoopingCall | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler) -> ScaleWorker:
        return cls(crawler)

    def live_tokens(self) -> set[str]:
        engine = self.crawler.engine
        if engine is None:
            return set()
        return {r.meta[TOKEN] for r in _engine_requests(engine) if TOKEN in r.meta}

    def spider_opened(self, spider) -> None:
        self.coordinator.join()
        self.loop = LoopingCall(self.tick)
        self.loop.start(self.coordinator.config.tick, now=False)

    def tick(self) -> None:
        try:
            self.coordinator.heartbeat()
            self.coordinator.settle(self.live_tokens())
            recovered, _, _ = self.coordinator.sweep()
        except RedisError as exc:
            log.warning("redis unavailable, retrying: %s", exc)
            return
        if recovered:
            self.crawler.stats.inc_value("archive/scale/recovered", recovered)
            log.warning("requeued %d request(s) of dead worker(s)", recovered)
        self._wake_engine()

    def _wake_engine(self) -> None:
        """Let an idle engine look at the shared queue now rather than at its next 5 s heartbeat."""
        nextcall = getattr(getattr(self.crawler.engine, "_slot", None), "nextcall", None)
        if nextcall is not None:
            nextcall.schedule()

    def spider_idle(self, spider) -> None:
        try:
            self.coordinator.settle(self.live_tokens())
            recovered, busy, ended = self.coordinator.sweep(finish=True)
        except RedisError as exc:
            log.warning("redis unavailable, waiting: %s", exc)
            raise DontCloseSpider from None
        if recovered:
            self.crawler.stats.inc_value("archive/scale/recovered", recovered)
            log.warning("requeued %d request(s) of dead worker(s)", recovered)
        if ended:
            self.crawler.stats.set_value("archive/scale/ended_crawl", 1)
            log.info(
                "shared crawl on %s finished; fingerprints and claims cleared", self.coordinator.keys.queue
            )
            return
        raise DontCloseSpider

    def spider_closed(self, spider, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        try:
            self.coordinator.settle(self.live_tokens())
            given_back = self.coordinator.leave()
        except RedisError as exc:
            log.error(
                "could not sign off from redis (its requests come back after the worker timeout): %s", exc
            )
            return
        if given_back:
            log.warning("gave %d unfinished request(s) back to the shared queue", given_back)


class RedisScale:
    """The add-on (``ADDONS``): switches to scrapy-redis and installs the pieces above when ARCHIVE_REDIS_URL
    is set; otherwise leaves every setting alone."""

    def update_settings(self, settings) -> None:
        url = settings.get("ARCHIVE_REDIS_URL")
        if not url:
            return
        settings.set("REDIS_URL", url, priority="addon")
        # one name per crawl; scrapy-redis's own SCHEDULER_*_KEY settings (-s) still win over it
        crawl = settings.get("ARCHIVE_REDIS_KEY") or "%(spider)s"
        settings.set("SCHEDULER_QUEUE_KEY", f"{crawl}:requests", priority="addon")
        settings.set("SCHEDULER_DUPEFILTER_KEY", f"{crawl}:dupefilter", priority="addon")
        settings.set("SCHEDULER", "scrapy_redis.scheduler.Scheduler", priority="addon")
        settings.set("DUPEFILTER_CLASS", "scrapy_redis.dupefilter.RFPDupeFilter", priority="addon")
        settings.set("SCHEDULER_PERSIST", True, priority="addon")
        settings.set("SCHEDULER_QUEUE_CLASS", f"{__name__}.ReliablePriorityQueue", priority="addon")
        settings.set_in_component_priority_dict("SPIDER_MIDDLEWARES", StartClaims, 5)
        settings.set_in_component_priority_dict("EXTENSIONS", ScaleWorker, 100)
