"""``scrapy crawl`` that fails loudly: invalid seeds, an unreachable database, or a run in which every request
failed exit non-zero with a one-line reason on stderr. A crawl with some bad pages exits 0 and reports them."""

from __future__ import annotations

import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from archive.db import DatabaseError, make_engine
from crawler.seeds import SeedError, load_seeds

URL_ARGS = ("feed", "sitemap", "start_url")


class Command(ScrapyCrawl):
    def _fail(self, message: str) -> None:
        print(f"crawl failed: {message}", file=sys.stderr)
        self.exitcode = 1

    def run(self, args, opts) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name: feeds, sitemap, site or recrawl")
        settings = self.settings
        spargs = opts.spargs
        if not any(spargs.get(a) for a in URL_ARGS) and args[0] != "recrawl":
            try:
                seeds = load_seeds(settings.get("ARCHIVE_SEEDS_DIR"))
            except SeedError as exc:
                print(f"crawl failed: {exc}", file=sys.stderr)
                self.exitcode = 1
                return
            site = spargs.get("site")
            if site and site not in {s.name for s in seeds}:
                return self._fail(f"no site named {site!r} in {settings.get('ARCHIVE_SEEDS_DIR')}")
        try:
            make_engine(settings.get("ARCHIVE_DATABASE_URL")).dispose()
        except DatabaseError as exc:
            return self._fail(str(exc))
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
            return
        problem = crawler.stats.get_value("archive/exit_reason") if crawler.stats else None
        if problem:
            self._fail(problem)
