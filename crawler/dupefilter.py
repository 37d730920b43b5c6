"""``JobDupeFilter``: Scrapy's duplicate filter, made safe for jobs that were killed.

With ``JOBDIR`` Scrapy keeps the fingerprints of scheduled requests in ``requests.seen`` and the requests in a
disk queue. After a ``kill -9`` the queue can lose requests whose fingerprints the seen-file kept, and a resumed
job would never fetch them. So the filter marks a clean stop in ``JOBDIR/archive.clean``; resuming a job that
did not stop cleanly starts with no fingerprints, and the spiders rediscover from their start URLs, skipping
what the archive already holds (the archive, not a side file, is the durable record).
"""

from __future__ import annotations

import logging
from pathlib import Path

from scrapy.dupefilters import RFPDupeFilter
from scrapy.utils.job import job_dir

log = logging.getLogger(__name__)

CLEAN_MARK = "archive.clean"


class JobDupeFilter(RFPDupeFilter):
    @classmethod
    def from_crawler(cls, crawler):
        path = job_dir(crawler.settings)
        if path:
            seen, mark = Path(path) / "requests.seen", Path(path) / CLEAN_MARK
            if seen.exists() and not mark.exists():
                log.warning("job %s did not stop cleanly: forgetting its seen requests and rediscovering", path)
                seen.unlink()
            mark.unlink(missing_ok=True)
        dupefilter = cls(path, crawler.settings.getbool("DUPEFILTER_DEBUG"), fingerprinter=crawler.request_fingerprinter)
        dupefilter.job_path = path
        return dupefilter

    def close(self, reason: str) -> None:
        super().close(reason)
        if getattr(self, "job_path", None):
            (Path(self.job_path) / CLEAN_MARK).touch()
