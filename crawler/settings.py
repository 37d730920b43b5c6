"""Scrapy settings of the archive crawler. Our own settings are prefixed ``ARCHIVE_``; all can be given with -s."""

from __future__ import annotations

import os

from archive.db import database_url

BOT_NAME = "newsarchive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
COMMANDS_MODULE = "crawler.commands"

# --- archive ---------------------------------------------------------------------------------------------------
ARCHIVE_DATABASE_URL = database_url()
ARCHIVE_SEEDS_DIR = os.environ.get("ARCHIVE_SEEDS_DIR", "seeds")
ARCHIVE_CONTACT = os.environ.get("ARCHIVE_CONTACT", "set ARCHIVE_CONTACT to an e-mail or URL")
ARCHIVE_EXTRACT_WORKERS = 0  # 0: one extraction process per core
ARCHIVE_EXTRACT_TIMEOUT = 60  # seconds of extraction per page before it is given up
ARCHIVE_DB_WRITERS = 0  # 0: one writer thread on SQLite, four on PostgreSQL
ARCHIVE_MIN_BODY_SHARE = 0.5  # a body shorter than this share of the last version's is a degraded capture
ARCHIVE_UNCONDITIONAL_EVERY = 5  # every Nth revisit of an article ignores its ETag / Last-Modified (N >= 2)
ARCHIVE_RECRAWL_LIMIT = 0  # 0: no limit on articles per recrawl run
ARCHIVE_SITE_DEPTH = 3  # link depth the site spider follows from its start pages
ARCHIVE_RETRY_AFTER_MAX = 300  # longest Retry-After (seconds) honoured before giving up on a URL
ARCHIVE_ALLOW_PRIVATE = []  # networks (CIDR) discovered URLs may point to besides public addresses
ARCHIVE_REDIS_URL = os.environ.get("ARCHIVE_REDIS_URL", "")  # shared scheduler for several crawler processes
ARCHIVE_REDIS_KEY = "%(spider)s"  # names the shared crawl (queue, dupefilter, claims keys); see docs/scale.md
ARCHIVE_REDIS_WORKER_TIMEOUT = 30  # seconds without a heartbeat before a worker's in-flight requests are re-queued
ARCHIVE_REDIS_TICK = 0.5  # seconds between an idle worker's looks at the shared queue

# --- politeness ------------------------------------------------------------------------------------------------
# USER_AGENT: built from ARCHIVE_CONTACT by crawler.addons.ArchiveDefaults ("newsarchive/VERSION (+CONTACT)"),
# so `-s ARCHIVE_CONTACT=...` reaches it; `-s USER_AGENT=...` replaces it whole.
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_DELAY = 0.5
CONCURRENT_REQUESTS = 32
CONCURRENT_ITEMS = 8  # items per response processed at once: Scrapy starts this many asyncio tasks per response
CONCURRENT_REQUESTS_PER_DOMAIN = 4
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 20 * 1024 * 1024
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024
REDIRECT_MAX_TIMES = 10
HTTPERROR_ALLOWED_CODES = [304, 404, 410]
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
HTTPCACHE_ENABLED = False

DOWNLOADER = "crawler.downloader.PoliteDownloader"  # keeps the per-domain limit when DOWNLOAD_DELAY is 0
DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.ScopeMiddleware": 50,
    # Scrapy's own lets requests queued behind a pending robots.txt through unchecked (see the subclass).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.RobotsTxtMiddleware": 100,
    "crawler.middlewares.RetryAfterMiddleware": 560,
}
SPIDER_MIDDLEWARES = {}
ITEM_PIPELINES = {"crawler.pipelines.ArchivePipeline": 300}
EXTENSIONS = {"crawler.extensions.RunHealth": 500}

LOG_LEVEL = os.environ.get("ARCHIVE_LOG_LEVEL", "INFO")
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"

ADDONS = {"crawler.addons.ArchiveDefaults": 0, "crawler.scale.RedisScale": 100}
