"""News-article archive: extraction, versioned storage and queries (Scrapy-free)."""

from __future__ import annotations

__version__ = "0.1.0"
