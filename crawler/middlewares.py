"""Downloader middlewares: crawl scope (seeded domains, refusal of private addresses) and polite retries."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from functools import lru_cache
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

log = logging.getLogger(__name__)

PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "0.0.0.0/8",
        "100.64.0.0/10", "::1/128", "fc00::/7", "fe80::/10", "::/128",
    )
)


def _is_private(address: str, allowed: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True  # unparseable: refuse
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    if any(ip in net for net in allowed):
        return False
    return any(ip in net for net in PRIVATE_NETWORKS)


@lru_cache(maxsize=4096)
def _resolve(host: str) -> tuple[str, ...]:
    try:
        return tuple({info[4][0] for info in socket.getaddrinfo(host, None)})
    except (socket.gaierror, UnicodeError, OSError):
        return ()


class ScopeMiddleware:
    """Refuse requests outside the spider's domains, non-HTTP(S) URLs, and discovered URLs pointing at private
    addresses (directly or through DNS). Hosts the operator named (seeds, ``-a`` URLs) are trusted as given."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        try:
            self.allowed = tuple(ipaddress.ip_network(n) for n in crawler.settings.getlist("ARCHIVE_ALLOW_PRIVATE"))
        except ValueError as exc:
            raise NotConfigured(f"ARCHIVE_ALLOW_PRIVATE: {exc}") from None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _refuse(self, reason: str, request, spider):
        self.stats.inc_value(f"archive/refused/{reason}")
        log.info("refused (%s): %s", reason, request.url)
        raise IgnoreRequest(f"refused: {reason}")

    async def process_request(self, request, spider=None):
        spider = spider or self.crawler.spider
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self._refuse("not_http", request, spider)
        host = parts.hostname.lower()
        trusted = getattr(spider, "trusted_hosts", set())
        if host in trusted:
            return None
        in_scope = getattr(spider, "in_scope", None)
        if in_scope is not None and not in_scope(request.url):
            self._refuse("offsite", request, spider)
        try:
            ipaddress.ip_address(host.strip("[]"))
            addresses: tuple[str, ...] = (host.strip("[]"),)
        except ValueError:
            loop = asyncio.get_running_loop()
            addresses = await loop.run_in_executor(None, _resolve, host)
        if any(_is_private(a, self.allowed) for a in addresses):
            self._refuse("private_address", request, spider)
        return None


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or ``None``."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class RetryAfterMiddleware:
    """Retry 429 and 503 answers after the delay the server asks for (Retry-After), else with exponential
    back-off; give up when the wait would exceed ``ARCHIVE_RETRY_AFTER_MAX``."""

    codes = (429, 503)

    def __init__(self, crawler):
        self.stats = crawler.stats
        self.max_wait = crawler.settings.getfloat("ARCHIVE_RETRY_AFTER_MAX")
        self.max_times = crawler.settings.getint("RETRY_TIMES")

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _give_up(self, reason: str, request, response):
        """Hand the error answer on, and keep Scrapy's RetryMiddleware from retrying it at once."""
        self.stats.inc_value(f"archive/retry_after/{reason}")
        log.warning("%s answered %s: giving up (%s)", request.url, response.status, reason.replace("_", " "))
        request.meta["dont_retry"] = True
        return response

    async def process_response(self, request, response, spider=None):
        if response.status not in self.codes or (request.meta.get("dont_retry") and "archive_retry_after" not in request.meta):
            return response
        tries = request.meta.get("archive_retry_after", 0)
        if tries >= self.max_times:
            return self._give_up("gave_up", request, response)
        header = response.headers.get(b"Retry-After")
        delay = retry_after_seconds(header.decode("latin-1") if header else None)
        if delay is None:
            delay = min(2.0**tries, 60.0)
        if delay > self.max_wait:
            return self._give_up("too_long", request, response)
        self.stats.inc_value("archive/retry_after/retried")
        log.info("%s answered %s: retrying in %.1fs", request.url, response.status, delay)
        await asyncio.sleep(delay)
        retry = request.replace(dont_filter=True)
        retry.meta["archive_retry_after"] = tries + 1
        retry.meta["dont_retry"] = True  # Scrapy's RetryMiddleware leaves these to us
        return retry


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, fixed for requests that wait while robots.txt is being fetched.

    Scrapy (2.13+) lets every such request await the same Deferred; only the first gets the parser, the others
    get ``None`` and are let through unchecked. That happens whenever many requests start at once, e.g. a crawl
    resumed from JOBDIR. Here a waiter that got ``None`` reads the parser stored for its host instead.
    """

    async def robot_parser(self, request):
        parser = await super().robot_parser(request)
        if parser is None:
            stored = self._parsers.get(urlparse_cached(request).netloc)
            if stored is not None and not isinstance(stored, Deferred):
                return stored
        return parser
