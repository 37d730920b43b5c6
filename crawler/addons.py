"""``ArchiveDefaults``: defaults that depend on other settings, computed once the command line is applied."""

from __future__ import annotations

from archive import __version__


class ArchiveDefaults:
    def update_settings(self, settings) -> None:
        # An honest User-Agent with a way to reach the operator, unless one was given outright.
        if settings.getpriority("USER_AGENT") <= settings.getpriority("ARCHIVE_CONTACT"):
            contact = settings.get("ARCHIVE_CONTACT")
            settings.set("USER_AGENT", f"newsarchive/{__version__} (+{contact})", priority="addon")
        # The archive is the durable record of what a job fetched (see crawler.dupefilter); the Redis add-on,
        # which runs after this one, replaces it with the shared filter.
        if settings.getpriority("DUPEFILTER_CLASS") <= settings.getpriority("ARCHIVE_CONTACT"):
            settings.set("DUPEFILTER_CLASS", "crawler.dupefilter.JobDupeFilter", priority="addon")
