"""Items are plain data: the record extraction makes and the fetch the pipeline stores."""

from __future__ import annotations

from archive.record import ArticleRecord
from archive.versions import Fetch

__all__ = ["ArticleRecord", "Fetch"]
