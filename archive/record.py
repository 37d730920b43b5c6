"""The plain-data record that extraction produces and the store consumes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class ArticleRecord:
    """One extracted news page.

    Dates are ISO 8601 strings (with the page's offset when it gives one) or ``None``.
    ``comments_state`` is ``"open"``, ``"closed"`` or ``"none"``; ``comment_count`` is an int or ``None``.
    """

    url: str
    canonical_url: str | None = None
    title: str | None = None
    author: str | None = None
    published: str | None = None
    modified: str | None = None
    text: str = ""
    language: str | None = None
    comments_state: str = "none"
    comment_count: int | None = None
    extractor_version: str = ""
    amp_url: str | None = None
    page_kind: str = "article"  # "article" or a reason it is not one (e.g. "listing", "soft404", "consent")
    extras: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
