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
from urllib.parse import urljoin

import lxml.html

from archive.extract import extract
from archive.record import ArticleRecord

log = logging.getLogger(__name__)


@dataclass
class PageResult:
    record: ArticleRecord | None
    links: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None


def _links(body: bytes, url: str, encoding: str | None) -> list[str]:
    try:
        parser = lxml.html.HTMLParser(encoding=encoding) if encoding else None
        root = lxml.html.document_fromstring(body, parser=parser, base_url=url)
    except (ValueError, lxml.etree.ParserError):
        return []
    out = []
    seen = set()
    for href in root.xpath("//a/@href"):
        href = href.strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
            continue
        try:
            absolute = urljoin(url, href).split("#", 1)[0]
        except ValueError:
            continue
        if absolute.startswith(("http://", "https://")) and absolute not in seen:
            seen.add(absolute)
            out.append(absolute)
    return out


def process_page(body: bytes, url: str, encoding: str | None, want_links: bool, want_record: bool = True) -> PageResult:
    """Extract the article and, if asked, the page's links. Never raises: errors come back as text."""
    started = time.process_time()
    try:
        record = extract(body, url, encoding=encoding) if want_record else None
        links = _links(body, url, encoding) if want_links else []
        return PageResult(record, links, time.process_time() - started)
    except Exception as exc:  # one bad page must not kill the crawl
        return PageResult(None, [], time.process_time() - started, f"{type(exc).__name__}: {exc}"[:300])


def _init_worker() -> None:
    # Ctrl-C goes to the whole process group: let the crawler shut the pool down in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def make_pool(workers: int | None) -> ProcessPoolExecutor:
    count = workers or os.cpu_count() or 1
    return ProcessPoolExecutor(max_workers=count, mp_context=get_context("forkserver"), initializer=_init_worker)
