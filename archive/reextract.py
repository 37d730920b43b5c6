"""Re-run extraction over stored raw HTML after the extractor improves; new versions only on real change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.extract import extract
from archive.models import Article, Blob, Capture, Site, utcnow
from archive.normalise import content_hash
from archive.versions import add_version, decompress, degraded_reason, latest_version


@dataclass
class Change:
    url: str
    old_seq: int | None
    new_seq: int


def article_ids(session: Session, site: str | None = None) -> list[int]:
    query = select(Article.id).order_by(Article.id)
    if site:
        query = query.join(Site, Site.id == Article.site_id).where(Site.name == site)
    return list(session.execute(query).scalars())


def reextract_article(session: Session, article_id: int) -> Change | None:
    """Extract the article's latest stored HTML again; add a version if the normalised content differs."""
    article = session.get(Article, article_id, with_for_update=True)
    row = session.execute(
        select(Capture.url, Blob.data, Blob.encoding)
        .join(Blob, Blob.hash == Capture.html_hash)
        .where(Capture.article_id == article_id, Capture.status < 300)
        .order_by(Capture.fetched_at.desc(), Capture.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    record = extract(decompress(row.data), row.url, encoding=row.encoding)
    if record is None or degraded_reason(record, None, 0.0):
        return None
    latest = latest_version(session, article_id)
    digest = content_hash(record.title, record.author, record.text)
    if latest is not None and latest.content_hash == digest:
        return None
    now = utcnow()
    _, seq, created = add_version(session, article_id, record, digest, now)
    if not created:
        return None
    article.version_count, article.last_changed = seq, now
    return Change(article.url, latest.seq if latest else None, seq)


def reextract(session_factory, site: str | None = None, progress=None) -> Iterator[Change]:
    """Re-extract every article (one transaction each), yielding the ones that got a new version."""
    with session_factory() as session:
        ids = article_ids(session, site)
    if progress is not None:
        progress.reset(total=len(ids))
    for article_id in ids:
        with session_factory() as session, session.begin():
            change = reextract_article(session, article_id)
        if progress is not None:
            progress.update(1)
        if change is not None:
            yield change
