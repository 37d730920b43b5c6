"""Record a fetch in the archive: resolve the article, store raw HTML, add a version only on a real change.

Data functions take an open session and never commit: the caller owns the transaction (one per page). The hot
path uses Core statements on the session's connection: a handful of round trips per page, no unit of work.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive import search
from archive.models import Article, ArticleURL, Blob, Capture, Site, TextBlob, Version, utcnow
from archive.normalise import BadURL, clean_url, content_hash, looks_amp, normalise_line, normalise_text, same_site, sha256, url_key
from archive.record import ArticleRecord
from archive.schedule import RecrawlPolicy

log = logging.getLogger(__name__)

#: a new text shorter than this share of the previous version's is taken for a degraded page, not an edit
DEFAULT_MIN_BODY_SHARE = 0.5
VERSION_INSERT_ATTEMPTS = 5

A, U, V, C, T, B, S = (m.__table__ for m in (Article, ArticleURL, Version, Capture, TextBlob, Blob, Site))
KIND_PRIORITY = {"redirect": 0, "canonical": 1, "fetched": 2, "amp": 3}


@dataclass(frozen=True)
class StoredHTML:
    """Raw page bytes as the archive keeps them: SHA-256 of the bytes, their size, zlib-compressed data.
    The crawler makes these in its extraction processes, so the storing process need not."""

    hash: str
    size: int
    data: bytes

    @classmethod
    def of(cls, html: bytes) -> StoredHTML:
        return cls(sha256(html), len(html), compress(html))


@dataclass
class Fetch:
    """What the crawler learned from one HTTP exchange, as plain data."""

    url: str  # the URL that answered (after redirects)
    status: int
    requested_url: str | None = None  # the URL first asked for, when a redirect moved it
    html: bytes | None = None
    stored_html: StoredHTML | None = None  # the same page already hashed and compressed (then html may be None)
    encoding: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    record: ArticleRecord | None = None
    site: str | None = None
    fetched_at: datetime = field(default_factory=utcnow)
    not_modified: bool = False  # a 304
    same_html: bool = False  # a 200 whose raw bytes equal the last capture's: no extraction was done
    degraded_reason: str | None = None  # set by the caller when it already knows the page is not the article


@dataclass
class Outcome:
    article_id: int
    kind: str  # new_version | unchanged | not_modified | same_html | gone | degraded
    seq: int | None = None
    reason: str | None = None

    @property
    def new_version(self) -> bool:
        return self.kind == "new_version"


def compress(data: bytes) -> bytes:
    return zlib.compress(data, 3)


def decompress(data: bytes) -> bytes:
    return zlib.decompress(data)


def _insert_ignore(conn: Connection, table, rows: dict | list[dict]) -> None:
    """INSERT that does nothing where a unique key already exists (race-free on both dialects)."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(postgresql.insert(table).on_conflict_do_nothing(), rows)
    elif dialect == "sqlite":
        conn.execute(sqlite.insert(table).on_conflict_do_nothing(), rows)
    else:  # pragma: no cover - other backends: one savepoint per row
        for row in rows if isinstance(rows, list) else [rows]:
            try:
                with conn.begin_nested():
                    conn.execute(insert(table), row)
            except IntegrityError:
                pass


def _conn(session: Session | Connection) -> Connection:
    return session.connection() if isinstance(session, Session) else session


def store_text(session: Session | Connection, text: str) -> str:
    raw = text.encode("utf-8")
    digest = sha256(raw)
    _insert_ignore(_conn(session), T, {"hash": digest, "size": len(raw), "data": compress(raw)})
    return digest


def site_id(conn: Connection, name: str | None) -> int | None:
    if not name:
        return None
    found = conn.execute(select(S.c.id).where(S.c.name == name)).scalar()
    if found is None:
        _insert_ignore(conn, S, {"name": name, "domains": [], "created_at": utcnow()})
        found = conn.execute(select(S.c.id).where(S.c.name == name)).scalar_one()
    return found


def identity_urls(fetch: Fetch) -> list[tuple[str, str, str]]:
    """(kind, clean URL, key) naming this article, most authoritative first, without duplicate keys."""
    raw: list[tuple[str, str]] = []
    canonical = fetch.record.canonical_url if fetch.record else None
    if canonical and same_site(canonical, fetch.url):
        raw.append(("canonical", canonical))
    if fetch.requested_url and fetch.requested_url != fetch.url:
        raw.append(("redirect", fetch.requested_url))
    raw.append(("amp" if looks_amp(fetch.url) else "fetched", fetch.url))
    out, seen = [], set()
    for kind, url in raw:
        try:
            cleaned = clean_url(url)
            key = url_key(cleaned)
        except BadURL:
            continue
        if key not in seen:
            seen.add(key)
            out.append((kind, cleaned, key))
    return out


ARTICLE_COLS = (A.c.id, A.c.url, A.c.state, A.c.first_seen, A.c.last_seen, A.c.last_checked, A.c.last_changed, A.c.check_count,
                A.c.version_count, A.c.etag, A.c.last_modified, A.c.last_html_hash)
_LATEST = V.alias("latest")
_LATEST_TEXT = T.alias("latest_text")
LATEST_COLS = (_LATEST.c.id.label("v_id"), _LATEST.c.seq.label("v_seq"), _LATEST.c.content_hash.label("v_hash"),
               _LATEST_TEXT.c.size.label("v_size"))


def _with_latest(query):
    """Join the article's latest version (seq = version_count) onto an article query."""
    return (
        query.add_columns(*LATEST_COLS)
        .outerjoin(_LATEST, (_LATEST.c.article_id == A.c.id) & (_LATEST.c.seq == A.c.version_count))
        .outerjoin(_LATEST_TEXT, _LATEST_TEXT.c.hash == _LATEST.c.text_hash)
    )


def _resolve_query(by: str, lock: bool):
    """The article lookup (with its latest version) by URL keys or by its own key, prebuilt once."""
    if by == "keys":
        query = _with_latest(select(U.c.url_key, *ARTICLE_COLS).join(A, A.c.id == U.c.article_id))
        query = query.where(U.c.url_key.in_(bindparam("keys", expanding=True)))
    else:
        query = _with_latest(select(*ARTICLE_COLS)).where(A.c.url_key == bindparam("key"))
    return query.with_for_update(of=A) if lock else query


RESOLVE = {(by, lock): _resolve_query(by, lock) for by in ("keys", "key") for lock in (False, True)}
TOUCH_VERSION = (
    update(V).where(V.c.id == bindparam("vid"), V.c.last_seen < bindparam("now")).values(last_seen=bindparam("now"))
)
INSERT_CAPTURE = insert(C)
ARTICLE_UPDATE_COLS = ("state", "url", "last_seen", "etag", "last_modified", "last_html_hash", "last_checked",
                       "check_count", "next_check", "last_changed", "version_count")
UPDATE_ARTICLE = update(A).where(A.c.id == bindparam("aid")).values(
    {name: bindparam(f"new_{name}") for name in ARTICLE_UPDATE_COLS})


@dataclass
class Latest:
    id: int
    seq: int
    content_hash: str
    size: int


def resolve_article(session: Session | Connection, fetch: Fetch) -> dict[str, Any]:
    """Find or create the article this fetch belongs to (row-locked on PostgreSQL), remembering every URL it
    was reached by. A redirect source keeps its identity (a moved article); then the canonical, then the URL."""
    conn = _conn(session)
    candidates = identity_urls(fetch)
    if not candidates:
        raise BadURL(f"no usable URL for {fetch.url!r}")
    keys = [key for _, _, key in candidates]
    kind_of = {key: kind for kind, _, key in candidates}
    lock = conn.dialect.name == "postgresql"
    rows = conn.execute(RESOLVE["keys", lock], {"keys": keys}).mappings().all()
    now = fetch.fetched_at
    if rows:
        row = min(rows, key=lambda r: KIND_PRIORITY[kind_of[r["url_key"]]])
        article = {k: row[k] for k in row.keys() if k != "url_key"}
        known = {r["url_key"] for r in rows}
    else:
        kind, url, key = candidates[0]
        if kind == "redirect":  # first sight through a redirect: the article is where it now lives
            kind, url, key = next(c for c in candidates if c[0] in ("fetched", "amp"))
        _insert_ignore(conn, A, {
            "url_key": key, "url": url, "site_id": site_id(conn, fetch.site), "state": "live", "first_seen": now,
            "last_seen": now, "last_checked": now, "last_changed": now, "check_count": 0, "version_count": 0,
        })
        article = dict(conn.execute(RESOLVE["key", lock], {"key": key}).mappings().one())
        known = set()
    missing = [
        {"article_id": article["id"], "url_key": key, "url": url, "kind": kind, "first_seen": now}
        for kind, url, key in candidates if key not in known
    ]
    if missing:
        _insert_ignore(conn, U, missing)
    return article


def latest_version(session: Session | Connection, article_id: int):
    """The article's newest version as a row (id, seq, content_hash, last_seen, text_hash, size), or ``None``."""
    return _conn(session).execute(
        select(V.c.id, V.c.seq, V.c.content_hash, V.c.last_seen, V.c.text_hash, T.c.size)
        .join(T, T.c.hash == V.c.text_hash)
        .where(V.c.article_id == article_id)
        .order_by(V.c.seq.desc())
        .limit(1)
    ).first()


def add_version(session: Session | Connection, article_id: int, record: ArticleRecord, digest: str, now: datetime):
    """Insert the next version unless the latest already has ``digest``; safe against concurrent writers.
    Returns ``(version_id, seq, created)``."""
    conn = _conn(session)
    text = normalise_text(record.text)
    text_hash = store_text(conn, text)
    title = normalise_line(record.title) or None
    for _ in range(VERSION_INSERT_ATTEMPTS):
        latest = latest_version(conn, article_id)
        if latest is not None and latest.content_hash == digest:
            return latest.id, latest.seq, False
        seq = (latest.seq if latest else 0) + 1
        try:
            with conn.begin_nested():
                version_id = conn.execute(
                    insert(V).returning(V.c.id),
                    {
                        "article_id": article_id, "seq": seq, "content_hash": digest, "title": title,
                        "author": normalise_line(record.author) or None, "published": record.published,
                        "modified": record.modified, "language": record.language, "text_hash": text_hash,
                        "extractor_version": record.extractor_version or "", "first_seen": now, "last_seen": now,
                    },
                ).scalar_one()
        except IntegrityError:
            continue
        search.index_version(conn, version_id, title, text)
        return version_id, seq, True
    raise RuntimeError(f"could not add a version to article {article_id} after {VERSION_INSERT_ATTEMPTS} attempts")


def degraded_reason(record: ArticleRecord, latest_size: int | None, min_share: float) -> str | None:
    """Why this extraction must not become a version, or ``None``."""
    if record.page_kind and record.page_kind != "article":
        return record.page_kind
    body = normalise_text(record.text)
    if not body:
        return "empty_body"
    if latest_size and len(body.encode("utf-8")) < latest_size * min_share:
        return "body_shrunk"
    return None


def record_fetch(
    session: Session | Connection,
    fetch: Fetch,
    *,
    run_id: int | None = None,
    policy: RecrawlPolicy | None = None,
    min_body_share: float = DEFAULT_MIN_BODY_SHARE,
) -> Outcome:
    """Record one fetch: always a capture; a version only when title, byline or body really changed."""
    conn = _conn(session)
    policy = policy or RecrawlPolicy()
    now = fetch.fetched_at
    article = resolve_article(conn, fetch)
    aid = article["id"]
    record = fetch.record
    capture: dict[str, Any] = {
        "article_id": aid, "run_id": run_id, "fetched_at": now, "url": fetch.url, "status": fetch.status,
        "etag": fetch.etag, "last_modified": fetch.last_modified, "html_hash": None, "version_id": None,
        "comments_state": record.comments_state if record else None,
        "comment_count": record.comment_count if record else None, "reason": None,
    }
    changes: dict[str, Any] = {}
    outcome = Outcome(aid, "unchanged")
    page = fetch.stored_html or (StoredHTML.of(fetch.html) if fetch.html else None)
    if page is not None:
        if page.hash != article["last_html_hash"]:
            _insert_ignore(conn, B, {"hash": page.hash, "size": page.size, "encoding": fetch.encoding, "data": page.data})
        capture["html_hash"] = page.hash
    latest = Latest(article["v_id"], article["v_seq"], article["v_hash"], article["v_size"]) if article["v_id"] else None

    if fetch.status in (404, 410):
        outcome.kind = "gone"
        changes["state"] = "gone"
    elif fetch.not_modified or fetch.same_html:
        outcome.kind = "not_modified" if fetch.not_modified else "same_html"
        if fetch.same_html:
            capture["html_hash"] = article["last_html_hash"]
            capture.update(_last_comments(conn, aid))
        if latest is not None:
            capture["version_id"], outcome.seq = latest.id, latest.seq
    elif record is None:
        outcome.kind, outcome.reason = "degraded", fetch.degraded_reason or "no_text"
    else:
        digest = content_hash(record.title, record.author, record.text)
        reason = fetch.degraded_reason or degraded_reason(record, latest.size if latest else None, min_body_share)
        if latest is not None and latest.content_hash == digest:
            capture["version_id"], outcome.seq = latest.id, latest.seq
        elif reason is not None:
            outcome.kind, outcome.reason = "degraded", reason
        else:
            version_id, seq, created = add_version(conn, aid, record, digest, now)
            capture["version_id"], outcome.seq = version_id, seq
            if created:
                outcome.kind = "new_version"
                changes.update(last_changed=now, version_count=seq)
                article["last_changed"] = now
        if article["state"] == "gone" and outcome.kind in ("new_version", "unchanged"):
            changes["state"] = "live"
    if capture["version_id"] is not None and outcome.kind != "new_version":
        conn.execute(TOUCH_VERSION, {"vid": capture["version_id"], "now": now})

    capture["kind"], capture["reason"] = outcome.kind, outcome.reason
    conn.execute(INSERT_CAPTURE, capture)
    if fetch.status < 400:
        if fetch.requested_url and fetch.requested_url != fetch.url:
            try:
                changes["url"] = clean_url(fetch.url)
            except BadURL:
                pass
        changes["last_seen"] = max(article["last_seen"], now)
        keep = fetch.not_modified or fetch.same_html
        changes["etag"] = fetch.etag or (article["etag"] if keep else None)
        changes["last_modified"] = fetch.last_modified or (article["last_modified"] if keep else None)
        if capture["html_hash"]:
            changes["last_html_hash"] = capture["html_hash"]
    changes["last_checked"] = max(article["last_checked"], now)
    changes["check_count"] = (article["check_count"] or 0) + 1
    state = changes.get("state", article["state"])
    changes["next_check"] = None if state == "gone" else policy.next_check(
        now=now, first_seen=article["first_seen"], last_changed=article["last_changed"])
    row = {f"new_{name}": changes.get(name, article.get(name)) for name in ARTICLE_UPDATE_COLS}
    conn.execute(UPDATE_ARTICLE, {"aid": aid, **row})
    return outcome


def _last_comments(conn: Connection, article_id: int) -> dict:
    row = conn.execute(
        select(C.c.comments_state, C.c.comment_count)
        .where(C.c.article_id == article_id, C.c.comments_state.is_not(None))
        .order_by(C.c.fetched_at.desc(), C.c.id.desc())
        .limit(1)
    ).first()
    return {"comments_state": row[0], "comment_count": row[1]} if row else {}
