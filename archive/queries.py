"""Read-side queries of the archive: find articles, their versions, listings, search and health figures."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from archive import search
from archive.models import Article, ArticleURL, Capture, CrawlRun, Site, TextBlob, Version, utcnow
from archive.normalise import BadURL, iso_utc, url_key
from archive.versions import decompress


class NotFound(LookupError):
    """An unknown article or version; the message is one line, with close matches when there are any."""


def find_article(session: Session, url: str) -> Article:
    """The article a URL (or any of its known variants) names; ``NotFound`` with suggestions otherwise."""
    try:
        key = url_key(url)
    except BadURL as exc:
        raise NotFound(str(exc)) from None
    article_id = session.execute(select(ArticleURL.article_id).where(ArticleURL.url_key == key)).scalar()
    if article_id is None:
        article_id = session.execute(select(Article.id).where(Article.url_key == key)).scalar()
    if article_id is not None:
        return session.get(Article, article_id)
    host_part = key.split("/")[2] if key.count("/") >= 2 else key
    candidates = session.execute(
        select(ArticleURL.url).where(ArticleURL.url_key.like(f"//{host_part}%")).limit(5000)
    ).scalars().all()
    close = difflib.get_close_matches(url, candidates, n=3, cutoff=0.6)
    hint = f"; did you mean: {', '.join(close)}" if close else ""
    raise NotFound(f"no archived article at {url}{hint}")


def versions_of(session: Session, article: Article) -> list[Version]:
    return list(session.execute(select(Version).where(Version.article_id == article.id).order_by(Version.seq)).scalars())


def get_version(session: Session, article: Article, seq: int | None) -> Version:
    query = select(Version).where(Version.article_id == article.id)
    query = query.where(Version.seq == seq) if seq is not None else query.order_by(Version.seq.desc()).limit(1)
    version = session.execute(query).scalar()
    if version is None:
        count = article.version_count
        raise NotFound(
            f"{article.url} has no version {seq} (it has {count})" if seq is not None else f"{article.url} has no version yet"
        )
    return version


def version_text(session: Session, version: Version) -> str:
    return decompress(session.execute(select(TextBlob.data).where(TextBlob.hash == version.text_hash)).scalar_one()).decode("utf-8")


@dataclass
class ArticleRow:
    url: str
    site: str | None
    state: str
    title: str | None
    version_count: int
    first_seen: datetime
    last_changed: datetime
    last_checked: datetime

    def to_dict(self) -> dict:
        return {
            "url": self.url, "site": self.site, "state": self.state, "title": self.title,
            "version_count": self.version_count, "first_seen": iso_utc(self.first_seen),
            "last_changed": iso_utc(self.last_changed), "last_checked": iso_utc(self.last_checked),
        }


def list_articles(
    session: Session, *, site: str | None = None, since: datetime | None = None, changed: bool = False, limit: int | None = None
):
    """Articles, most recently changed first; ``changed`` keeps those with more than one version."""
    latest_title = (
        select(Version.title)
        .where(Version.article_id == Article.id, Version.seq == Article.version_count)
        .correlate(Article)
        .scalar_subquery()
    )
    query = (
        select(Article.url, Site.name, Article.state, latest_title, Article.version_count, Article.first_seen,
               Article.last_changed, Article.last_checked)
        .outerjoin(Site, Site.id == Article.site_id)
        .order_by(Article.last_changed.desc(), Article.id.desc())
    )
    if site:
        query = query.where(Site.name == site)
    if since:
        query = query.where(or_(Article.last_changed >= since, Article.first_seen >= since))
    if changed:
        query = query.where(Article.version_count > 1)
    if limit:
        query = query.limit(limit)
    for row in session.execute(query):
        yield ArticleRow(*row)


def search_articles(session: Session, text: str, *, site: str | None = None, limit: int = 50) -> list[dict]:
    """Articles whose versions match ``text``, best first, each with the newest matching version."""
    ids = search.matching_version_ids(session, text, limit=limit * 20)
    if not ids:
        return []
    query = (
        select(Version.id, Version.seq, Version.title, Version.first_seen, Article.url, Article.version_count, Site.name)
        .join(Article, Article.id == Version.article_id)
        .outerjoin(Site, Site.id == Article.site_id)
        .where(Version.id.in_(ids))
    )
    if site:
        query = query.where(Site.name == site)
    rank = {vid: i for i, vid in enumerate(ids)}
    hits: dict[str, dict] = {}
    for row in sorted(session.execute(query), key=lambda r: rank[r.id]):
        hits.setdefault(row.url, {
            "url": row.url, "site": row.name, "seq": row.seq, "title": row.title,
            "version_count": row.version_count, "first_seen": iso_utc(row.first_seen),
        })
    return list(hits.values())[:limit]


def archive_stats(session: Session) -> dict:
    """The figures an operator watches: totals, articles due, and the last run of each spider."""
    count = lambda model: session.execute(select(func.count()).select_from(model)).scalar_one()  # noqa: E731
    due = session.execute(
        select(func.count()).select_from(Article).where(
            Article.state == "live", Article.next_check.is_not(None), Article.next_check <= utcnow()
        )
    ).scalar_one()
    states = dict(session.execute(select(Article.state, func.count()).group_by(Article.state)).all())
    runs = []
    last_ids = select(func.max(CrawlRun.id)).group_by(CrawlRun.spider)
    for run in session.execute(select(CrawlRun).where(CrawlRun.id.in_(last_ids)).order_by(CrawlRun.spider)).scalars():
        s = run.stats or {}
        runs.append({
            "spider": run.spider, "started_at": iso_utc(run.started_at), "finished_at": iso_utc(run.finished_at),
            "status": run.status,
            "pages_fetched": s.get("downloader/response_count", 0),
            "new_versions": s.get("archive/new_versions", 0),
            "errors": sum(v for k, v in s.items() if k.startswith("archive/errors/") and isinstance(v, int)),
            "exit_reason": s.get("archive/exit_reason"),
        })
    return {
        "sites": count(Site), "articles": count(Article), "articles_by_state": states, "versions": count(Version),
        "captures": count(Capture), "due_for_recrawl": due, "last_runs": runs,
    }
