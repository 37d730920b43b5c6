"""Point-in-time export: one record per article as it read at a moment, streamed in constant memory."""

from __future__ import annotations

import orjson
from datetime import datetime
from typing import IO, Iterator

from sqlalchemy import and_, func, literal, select
from sqlalchemy.orm import Session

from archive.models import Article, Capture, Site, TextBlob, Version
from archive.normalise import iso_utc
from archive.versions import decompress

BATCH = 2000

FIELDS = (
    "url", "canonical_url", "site", "title", "author", "published", "modified", "text", "language", "version",
    "version_count", "content_hash", "first_seen", "last_seen", "comments_state", "comment_count",
)


def _latest_versions(as_of: datetime | None):
    query = select(Version.article_id, func.max(Version.seq).label("seq")).group_by(Version.article_id)
    if as_of is not None:
        query = query.where(Version.first_seen <= as_of)
    return query.subquery("latest")


def _latest_comment_captures(as_of: datetime | None):
    query = (
        select(Capture.article_id, func.max(Capture.id).label("capture_id"))
        .where(Capture.comments_state.is_not(None))
        .group_by(Capture.article_id)
    )
    if as_of is not None:
        query = query.where(Capture.fetched_at <= as_of)
    return query.subquery("comments")


def snapshot_query(*, as_of: datetime | None = None, since: datetime | None = None, site: str | None = None,
                   with_text: bool = True):
    latest = _latest_versions(as_of)
    comments = _latest_comment_captures(as_of)
    query = (
        select(
            Article.id, Article.url, Site.name, Article.first_seen, Article.last_seen,
            Version.seq, Version.title, Version.author, Version.published, Version.modified, Version.language,
            Version.content_hash, Version.last_seen.label("version_last_seen"),
            TextBlob.data if with_text else literal(None).label("data"), Capture.comments_state, Capture.comment_count,
        )
        .select_from(latest)
        .join(Version, and_(Version.article_id == latest.c.article_id, Version.seq == latest.c.seq))
        .join(Article, Article.id == Version.article_id)
        .outerjoin(Site, Site.id == Article.site_id)
        .outerjoin(comments, comments.c.article_id == Article.id)
        .outerjoin(Capture, Capture.id == comments.c.capture_id)
        .order_by(Article.id)
    )
    if with_text:
        query = query.join(TextBlob, TextBlob.hash == Version.text_hash)
    if since is not None:
        query = query.where(Version.first_seen >= since)
    if site:
        query = query.where(Site.name == site)
    return query


def count_snapshot(session: Session, **filters) -> int:
    return session.execute(select(func.count()).select_from(snapshot_query(**filters).order_by(None).subquery())).scalar_one()


def _history(session: Session, as_of: datetime | None, site: str | None) -> Iterator[tuple[int, dict]]:
    query = (
        select(Version.article_id, Version.seq, Version.content_hash, Version.title, Version.author,
               Version.published, Version.modified, Version.first_seen, Version.last_seen, TextBlob.data)
        .join(TextBlob, TextBlob.hash == Version.text_hash)
        .order_by(Version.article_id, Version.seq)
    )
    if as_of is not None:
        query = query.where(Version.first_seen <= as_of)
    if site:
        query = query.join(Article, Article.id == Version.article_id).join(Site, Site.id == Article.site_id).where(Site.name == site)
    for row in session.execute(query.execution_options(yield_per=BATCH)):
        yield row.article_id, {
            "seq": row.seq, "content_hash": row.content_hash, "title": row.title, "author": row.author,
            "published": row.published, "modified": row.modified, "first_seen": iso_utc(row.first_seen),
            "last_seen": iso_utc(_cap(row.last_seen, as_of)), "text": decompress(row.data).decode("utf-8"),
        }


def _cap(value: datetime | None, as_of: datetime | None) -> datetime | None:
    return min(value, as_of) if (value is not None and as_of is not None) else value


def iter_snapshot(
    session: Session, *, as_of: datetime | None = None, since: datetime | None = None, site: str | None = None,
    with_history: bool = False,
) -> Iterator[dict]:
    """Yield one record per article (its latest version as of ``as_of``), in article order."""
    query = snapshot_query(as_of=as_of, since=since, site=site, with_text=not with_history)
    rows = session.execute(query.execution_options(yield_per=BATCH))
    history = _history(session, as_of, site) if with_history else None
    pending: tuple[int, dict] | None = None
    for row in rows:
        record = {
            "url": row.url,
            "canonical_url": row.url,
            "site": row.name,
            "title": row.title,
            "author": row.author,
            "published": row.published,
            "modified": row.modified,
            "text": decompress(row.data).decode("utf-8") if row.data is not None else None,
            "language": row.language,
            "version": row.seq,
            "version_count": row.seq,
            "content_hash": row.content_hash,
            "first_seen": iso_utc(row.first_seen),
            "last_seen": iso_utc(_cap(max(row.last_seen, row.version_last_seen), as_of)),
            "comments_state": row.comments_state,
            "comment_count": row.comment_count,
        }
        if history is not None:
            versions = []
            while True:
                if pending is None:
                    pending = next(history, None)
                if pending is None or pending[0] > row.id:
                    break
                if pending[0] == row.id:
                    versions.append(pending[1])
                pending = None
            record["history"] = versions
            record["text"] = versions[-1]["text"]  # the exported version is the last of its history
        yield record


def write_snapshot(records: Iterator[dict], out: IO[bytes], fmt: str = "jsonl", progress=None) -> int:
    """Write records (UTF-8) as JSON lines or one JSON array to a binary stream; return how many were written."""
    n = 0
    if fmt == "json":
        out.write(b"[")
    for record in records:
        if fmt == "json":
            out.write(b",\n" if n else b"\n")
            out.write(orjson.dumps(record))
        else:
            out.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
        n += 1
        if progress is not None and n % 500 == 0:
            progress.update(500)
    if progress is not None:
        progress.update(n % 500)
    if fmt == "json":
        out.write(b"\n]\n" if n else b"]\n")
    return n
