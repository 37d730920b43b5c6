"""``Downloader`` that keeps ``CONCURRENT_REQUESTS_PER_DOMAIN`` with ``DOWNLOAD_DELAY = 0``.

Scrapy 2.19 schedules each download as a coroutine and counts it as transferring only once that coroutine
starts, so with no delay its queue loop hands a slot every queued request at once (seen here: 12-18
simultaneous requests to one host with a limit of 4). Counting the request when it is handed over keeps the
limit. Everything else is Scrapy's own.
"""

from __future__ import annotations

from time import monotonic

from scrapy.core import downloader as scrapy_downloader
from scrapy.core.downloader import Downloader, Slot


class PoliteDownloader(Downloader):
    def _process_queue(self, slot: Slot) -> None:
        if slot.latercall:
            return
        now = monotonic()
        delay = slot.download_delay()
        if delay:
            penalty = delay - now + slot.lastseen
            if penalty > 0:
                slot.latercall = scrapy_downloader.call_later(penalty, self._latercall, slot)
                return
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = now
            request, queue_dfd = slot.queue.popleft()
            slot.transferring.add(request)  # counted now, not when the coroutine first runs
            scrapy_downloader._schedule_coro(self._wait_for_download(slot, request, queue_dfd))
            if delay:
                self._process_queue(slot)
                break
