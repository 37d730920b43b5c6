"""Work done in the extraction process pool, never on the reactor thread: extraction and link discovery.

Everything here is a pure function of plain data, so it pickles cheaply: bytes in, small records out.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from trafilatura.utils import load_html

from archive.extract import decode_html, extract, page_links
from archive.record import ArticleRecord
from archive.versions import StoredHTML

log = logging.getLogger(__name__)


@dataclass
class PageResult:
    record: ArticleRecord | None
    links: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    html: StoredHTML | None = None  # the raw page hashed and compressed here, off the crawler's process
    timed_out: bool = False


def _links(body: bytes, url: str, encoding: str | None) -> list[str]:
    """The links of a page that is not to be extracted (a listing page): decode and parse, nothing more."""
    tree = load_html(decode_html(body, encoding))
    return page_links(tree, url) if tree is not None else []


class ExtractionTimeout(Exception):
    """Raised inside a worker when one page has had its time (``ARCHIVE_EXTRACT_TIMEOUT``)."""


def _on_alarm(signum, frame) -> None:
    raise ExtractionTimeout


def process_page(body: bytes, url: str, encoding: str | None, want_links: bool, want_record: bool = True,
                 time_limit: float = 0.0) -> PageResult:
    """Extract the article and, if asked, the page's links, from one parse. Never raises: errors come back as
    text. ``time_limit`` (seconds, 0 for none) is enforced here, so a worker's start-up does not count."""
    started = time.process_time()
    if time_limit:
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, time_limit)
    try:
        links: list[str] = []
        html = None
        if want_record:
            record = extract(body, url, encoding=encoding, links=links if want_links else None)
            html = StoredHTML.of(body) if record is not None else None
        else:
            record = None
            links = _links(body, url, encoding) if want_links else []
        return PageResult(record, links, time.process_time() - started, html=html)
    except ExtractionTimeout:
        return PageResult(None, [], time.process_time() - started, f"extraction took longer than {time_limit:g}s",
                          timed_out=True)
    except Exception as exc:  # one bad page must not kill the crawl
        return PageResult(None, [], time.process_time() - started, f"{type(exc).__name__}: {exc}"[:300])
    finally:
        if time_limit:
            signal.setitimer(signal.ITIMER_REAL, 0)


def _init_worker() -> None:
    # Ctrl-C goes to the whole process group: let the crawler shut the pool down in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def make_pool(workers: int | None) -> ProcessPoolExecutor:
    count = workers or os.cpu_count() or 1
    return ProcessPoolExecutor(max_workers=count, mp_context=get_context("forkserver"), initializer=_init_worker)


def kill_pool(pool: ProcessPoolExecutor) -> None:
    """Kill a retired pool's worker processes (one of them is stuck on a page)."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.is_alive():
            process.kill()
