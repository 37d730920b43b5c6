"""URL identity, text normalisation, content hashing and time parsing: the one home for these rules."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import datetime, timezone
from urllib.parse import urlsplit, urlunsplit

from courlan import normalize_url
from w3lib.url import canonicalize_url, safe_url_string

from archive.promos import is_promo

_WS = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
_BLANK_LINES = re.compile(r"\n{2,}")
_AMP_SUFFIX = re.compile(r"(/amp/?$|\.amp(?=\.html?$|$)|[?&](amp|outputType=amp)(=[^&]*)?$)")


class BadURL(ValueError):
    """A URL that cannot identify an article."""


def clean_url(url: str) -> str:
    """The URL to display and fetch: tracking parameters and fragment removed, query sorted, host lower-cased."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadURL(f"not an http(s) URL: {url!r}")
    try:
        cleaned = normalize_url(safe_url_string(url))
    except (ValueError, TypeError) as exc:
        raise BadURL(f"unusable URL {url!r}: {exc}") from None
    return canonicalize_url(cleaned, keep_fragments=False)


def url_key(url: str) -> str:
    """The identity of a URL: :func:`clean_url` without its scheme, so http and https variants coincide."""
    parts = urlsplit(clean_url(url))
    return urlunsplit(("", parts.netloc, parts.path or "/", parts.query, ""))


def same_site(a: str, b: str) -> bool:
    """True when two URLs share a host (ignoring a leading ``www.``)."""
    ha = (urlsplit(a).hostname or "").removeprefix("www.")
    hb = (urlsplit(b).hostname or "").removeprefix("www.")
    return bool(ha) and ha == hb


def normalise_text(text: str | None) -> str:
    """NFC, unified whitespace inside lines, no blank or edge whitespace lines."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = (_WS.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def normalise_line(value: str | None) -> str:
    return _WS.sub(" ", unicodedata.normalize("NFC", value or "")).replace("\n", " ").strip()


def sha256(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def hashed_body(text: str | None) -> str:
    """The body as it counts for change detection: normalised, without inline promos and share boilerplate."""
    return "\n".join(line for line in normalise_text(text).split("\n") if not is_promo(line))


def content_hash(title: str | None, author: str | None, text: str | None) -> str:
    """Hash of what counts as a change: the normalised headline, byline and body (promo lines left out)."""
    payload = "\x1f".join((normalise_line(title), normalise_line(author), hashed_body(text)))
    return sha256(payload)


def parse_time(value: str | datetime) -> datetime:
    """Parse an ISO 8601 date or time (``2025-06-03``, ``2025-06-03T07:30``, ``...Z``, ``...+01:00``) as UTC.

    A value without an offset is taken as UTC. Raises ``ValueError`` with a readable message.
    """
    if isinstance(value, datetime):
        dt = value
    else:
        raw = value.strip()
        try:
            dt = datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw)
        except ValueError:
            raise ValueError(f"not an ISO 8601 date or time: {value!r} (try 2025-06-03 or 2025-06-03T07:30:00Z)") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def iso_utc(dt: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z`` suffix, or ``None``."""
    if dt is None:
        return None
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def looks_amp(url: str) -> bool:
    return bool(_AMP_SUFFIX.search(url))
