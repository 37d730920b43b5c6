"""Record a fetch in the archive: resolve the article, store raw HTML, add a version only on a real change.

Data functions take an open session and never commit: the caller owns the transaction (one per page).
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive import search
from archive.models import Article, ArticleURL, Blob, Capture, Site, TextBlob, Version, utcnow
from archive.normalise import (
    BadURL,
    clean_url,
    content_hash,
    looks_amp,
    normalise_line,
    normalise_text,
    same_site,
    sha256,
    url_key,
)
from archive.record import ArticleRecord
from archive.schedule import RecrawlPolicy

log = logging.getLogger(__name__)

#: a new text shorter than this share of the previous version's is taken for a degraded page, not an edit
DEFAULT_MIN_BODY_SHARE = 0.5
VERSION_INSERT_ATTEMPTS = 5


@dataclass
class Fetch:
    """What the crawler learned from one HTTP exchange, as plain data."""

    url: str  # the URL that answered (after redirects)
    status: int
    requested_url: str | None = None  # the URL first asked for, when a redirect moved it
    html: bytes | None = None
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
    return zlib.compress(data, 6)


def decompress(data: bytes) -> bytes:
    return zlib.decompress(data)


def _insert_ignore(session: Session, model, values: dict) -> None:
    """INSERT that does nothing when a unique key already exists (both dialects, race-free)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt = postgresql.insert(model).values(**values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(model).values(**values).on_conflict_do_nothing()
    else:  # pragma: no cover - other backends: best effort inside a savepoint
        try:
            with session.begin_nested():
                session.add(model(**values))
        except IntegrityError:
            pass
        return
    session.execute(stmt)


def store_blob(session: Session, html: bytes, encoding: str | None = None) -> str:
    digest = sha256(html)
    _insert_ignore(session, Blob, {"hash": digest, "size": len(html), "encoding": encoding, "data": compress(html)})
    return digest


def store_text(session: Session, text: str) -> str:
    raw = text.encode("utf-8")
    digest = sha256(raw)
    _insert_ignore(session, TextBlob, {"hash": digest, "size": len(raw), "data": compress(raw)})
    return digest


def load_text(session: Session, digest: str) -> str:
    data = session.execute(select(TextBlob.data).where(TextBlob.hash == digest)).scalar_one()
    return decompress(data).decode("utf-8")


def load_html(session: Session, digest: str) -> bytes:
    return decompress(session.execute(select(Blob.data).where(Blob.hash == digest)).scalar_one())


def site_id(session: Session, name: str | None, domains: list[str] | None = None) -> int | None:
    if not name:
        return None
    found = session.execute(select(Site.id).where(Site.name == name)).scalar()
    if found is None:
        _insert_ignore(session, Site, {"name": name, "domains": list(domains or []), "created_at": utcnow()})
        found = session.execute(select(Site.id).where(Site.name == name)).scalar_one()
    return found


def _identity_urls(fetch: Fetch) -> list[tuple[str, str]]:
    """(kind, url) candidates naming this article, in order of authority for a new article's identity."""
    urls: list[tuple[str, str]] = []
    record = fetch.record
    canonical = record.canonical_url if record else None
    if canonical and same_site(canonical, fetch.url):
        urls.append(("canonical", canonical))
    if fetch.requested_url and fetch.requested_url != fetch.url:
        urls.append(("redirect", fetch.requested_url))
    urls.append(("amp" if looks_amp(fetch.url) else "fetched", fetch.url))
    valid = []
    for kind, url in urls:
        try:
            valid.append((kind, clean_url(url), url_key(url)))
        except BadURL:
            continue
    return [(kind, url) for kind, url, _ in valid]


def resolve_article(session: Session, fetch: Fetch, *, lock: bool = True) -> Article:
    """Find or create the article this fetch belongs to, and remember every URL it was reached by."""
    candidates = _identity_urls(fetch)
    if not candidates:
        raise BadURL(f"no usable URL for {fetch.url!r}")
    keys = {url_key(url): (kind, url) for kind, url in candidates}
    rows = session.execute(select(ArticleURL.url_key, ArticleURL.article_id).where(ArticleURL.url_key.in_(keys))).all()
    known = dict(rows)
    article_id = None
    # A redirect source keeps its identity (a moved article); then the canonical, then the fetched URL.
    for kind in ("redirect", "canonical", "fetched", "amp"):
        for key, (k, _url) in keys.items():
            if k == kind and key in known:
                article_id = known[key]
                break
        if article_id is not None:
            break
    now = fetch.fetched_at
    if article_id is None:
        kind, url = candidates[0]
        if kind == "redirect":  # a first sight through a redirect: the article is where it now lives
            url = fetch.url
        key = url_key(url)
        _insert_ignore(
            session,
            Article,
            {
                "url_key": key,
                "url": clean_url(url),
                "site_id": site_id(session, fetch.site),
                "state": "live",
                "first_seen": now,
                "last_seen": now,
                "last_checked": now,
                "last_changed": now,
                "check_count": 0,
                "version_count": 0,
            },
        )
        article_id = session.execute(select(Article.id).where(Article.url_key == key)).scalar_one()
    for key, (kind, url) in keys.items():
        if key not in known:
            _insert_ignore(
                session,
                ArticleURL,
                {"article_id": article_id, "url_key": key, "url": clean_url(url), "kind": kind, "first_seen": now},
            )
    query = select(Article).where(Article.id == article_id)
    if lock:
        query = query.with_for_update()
    return session.execute(query).scalar_one()


def latest_version(session: Session, article_id: int) -> Version | None:
    return session.execute(
        select(Version).where(Version.article_id == article_id).order_by(Version.seq.desc()).limit(1)
    ).scalar()


def add_version(session: Session, article: Article, record: ArticleRecord, digest: str, now: datetime) -> Version | None:
    """Insert the next version unless the latest already has ``digest``; safe against concurrent writers."""
    text = normalise_text(record.text)
    text_hash = store_text(session, text)
    for _ in range(VERSION_INSERT_ATTEMPTS):
        latest = latest_version(session, article.id)
        if latest is not None and latest.content_hash == digest:
            return None
        seq = (latest.seq if latest else 0) + 1
        try:
            with session.begin_nested():
                version = Version(
                    article_id=article.id,
                    seq=seq,
                    content_hash=digest,
                    title=normalise_line(record.title) or None,
                    author=normalise_line(record.author) or None,
                    published=record.published,
                    modified=record.modified,
                    language=record.language,
                    text_hash=text_hash,
                    extractor_version=record.extractor_version or "",
                    first_seen=now,
                    last_seen=now,
                )
                session.add(version)
                session.flush()
        except IntegrityError:
            session.expire_all()
            continue
        search.index_version(session, version.id, version.title, text)
        return version
    raise RuntimeError(f"could not add a version to article {article.id} after {VERSION_INSERT_ATTEMPTS} attempts")


def degraded_reason(record: ArticleRecord, latest: Version | None, latest_size: int | None, min_share: float) -> str | None:
    """Why this extraction must not become a version, or ``None``."""
    if record.page_kind and record.page_kind != "article":
        return record.page_kind
    if not normalise_text(record.text):
        return "empty_body"
    if latest is not None and latest_size:
        size = len(normalise_text(record.text).encode("utf-8"))
        if size < latest_size * min_share:
            return "body_shrunk"
    return None


def record_fetch(
    session: Session,
    fetch: Fetch,
    *,
    run_id: int | None = None,
    policy: RecrawlPolicy | None = None,
    min_body_share: float = DEFAULT_MIN_BODY_SHARE,
) -> Outcome:
    """Record one fetch: always a capture; a version only when title, byline or body really changed."""
    policy = policy or RecrawlPolicy()
    if fetch.same_html:
        return record_same_html(session, fetch, run_id=run_id, policy=policy)
    now = fetch.fetched_at
    article = resolve_article(session, fetch)
    html_hash = store_blob(session, fetch.html, fetch.encoding) if fetch.html else None
    record = fetch.record
    capture = Capture(
        article_id=article.id,
        run_id=run_id,
        fetched_at=now,
        url=fetch.url,
        status=fetch.status,
        etag=fetch.etag,
        last_modified=fetch.last_modified,
        html_hash=html_hash,
        comments_state=record.comments_state if record else None,
        comment_count=record.comment_count if record else None,
    )
    outcome = Outcome(article.id, "unchanged")
    if fetch.status in (404, 410):
        outcome.kind = "gone"
        article.state = "gone"
        article.next_check = None
    elif fetch.not_modified:
        outcome.kind = "not_modified"
    elif record is None:
        outcome.kind, outcome.reason = "degraded", fetch.degraded_reason or "no_text"
    else:
        latest = latest_version(session, article.id)
        latest_size = None
        if latest is not None:
            latest_size = session.execute(select(TextBlob.size).where(TextBlob.hash == latest.text_hash)).scalar()
        digest = content_hash(record.title, record.author, record.text)
        reason = fetch.degraded_reason or degraded_reason(record, latest, latest_size, min_body_share)
        if latest is not None and latest.content_hash == digest:
            latest.last_seen = max(latest.last_seen, now)
            capture.version_id = latest.id
            outcome.seq = latest.seq
        elif reason is not None:
            outcome.kind, outcome.reason = "degraded", reason
        else:
            version = add_version(session, article, record, digest, now)
            if version is None:  # a concurrent writer stored the same content first
                latest = latest_version(session, article.id)
                latest.last_seen = max(latest.last_seen, now)
                version = latest
            else:
                outcome.kind = "new_version"
                article.last_changed = now
                article.version_count = version.seq
            capture.version_id = version.id
            outcome.seq = version.seq
        if article.state == "gone" and outcome.kind in ("new_version", "unchanged"):
            article.state = "live"
    if fetch.status < 400:
        if fetch.requested_url and fetch.requested_url != fetch.url and article.state == "live":
            article.url = clean_url(fetch.url)
        article.last_seen = max(article.last_seen, now)
        article.etag = fetch.etag or (article.etag if fetch.not_modified else None)
        article.last_modified = fetch.last_modified or (article.last_modified if fetch.not_modified else None)
        if html_hash:
            article.last_html_hash = html_hash
    capture.kind = outcome.kind
    capture.reason = outcome.reason
    session.add(capture)
    article.last_checked = max(article.last_checked, now)
    article.check_count = (article.check_count or 0) + 1
    if article.state != "gone":
        article.next_check = policy.next_check(now=now, first_seen=article.first_seen, last_changed=article.last_changed)
    session.flush()
    return outcome


def record_same_html(session: Session, fetch: Fetch, *, run_id: int | None = None, policy: RecrawlPolicy | None = None) -> Outcome:
    """A 200 whose raw bytes equal the last capture's: a capture pointing at the latest version, no extraction."""
    policy = policy or RecrawlPolicy()
    article = resolve_article(session, fetch)
    latest = latest_version(session, article.id)
    prev = session.execute(
        select(Capture.comments_state, Capture.comment_count)
        .where(Capture.article_id == article.id, Capture.comments_state.is_not(None))
        .order_by(Capture.fetched_at.desc(), Capture.id.desc())
        .limit(1)
    ).first()
    now = fetch.fetched_at
    capture = Capture(
        article_id=article.id,
        run_id=run_id,
        fetched_at=now,
        url=fetch.url,
        status=fetch.status,
        kind="same_html",
        etag=fetch.etag,
        last_modified=fetch.last_modified,
        html_hash=article.last_html_hash,
        version_id=latest.id if latest else None,
        comments_state=prev[0] if prev else None,
        comment_count=prev[1] if prev else None,
    )
    session.add(capture)
    if latest is not None:
        latest.last_seen = max(latest.last_seen, now)
    article.last_seen = article.last_checked = max(article.last_seen, now)
    article.etag, article.last_modified = fetch.etag, fetch.last_modified
    article.check_count = (article.check_count or 0) + 1
    article.next_check = policy.next_check(now=now, first_seen=article.first_seen, last_changed=article.last_changed)
    session.flush()
    return Outcome(article.id, "same_html", latest.seq if latest else None)
