"""Project settings as Scrapy applies them: add-ons, the User-Agent, middlewares."""

from __future__ import annotations

import pytest
from scrapy.crawler import Crawler
from scrapy.utils.project import get_project_settings
from scrapy.utils.reactor import install_reactor

from crawler.spiders.feeds import FeedsSpider


@pytest.fixture(scope="module", autouse=True)
def reactor():
    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")


def applied(**cmdline) -> dict:
    settings = get_project_settings()
    for key, value in cmdline.items():
        settings.set(key, value, priority="cmdline")
    crawler = Crawler(FeedsSpider, settings)
    crawler._apply_settings()
    return crawler.settings


def test_user_agent_names_the_contact_given_on_the_command_line():
    assert applied(ARCHIVE_CONTACT="ops@example.org")["USER_AGENT"].endswith("(+ops@example.org)")
    assert applied(USER_AGENT="custom/1.0", ARCHIVE_CONTACT="x")["USER_AGENT"] == "custom/1.0"


def test_politeness_defaults_and_robots_middleware():
    settings = applied()
    assert settings.getbool("ROBOTSTXT_OBEY") and settings.getbool("AUTOTHROTTLE_ENABLED")
    middlewares = settings.getdict("DOWNLOADER_MIDDLEWARES")
    assert middlewares["crawler.middlewares.RobotsTxtMiddleware"] == 100
    assert middlewares["scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware"] is None


def test_redis_url_switches_scheduler_only_when_set():
    assert "scrapy_redis" not in applied()["SCHEDULER"]
    settings = applied(ARCHIVE_REDIS_URL="redis://127.0.0.1:6379/0")
    assert settings["SCHEDULER"] == "scrapy_redis.scheduler.Scheduler"
    assert settings["DUPEFILTER_CLASS"].startswith("scrapy_redis")
