"""SQLAlchemy 2.0 models of the archive: sites, articles and their URLs, versions, texts, captures, blobs, runs.

The schema changes only through alembic revisions in ``migrations/``.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every backend (SQLite stores naive UTC and gets its tzinfo back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    domains: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    articles: Mapped[list[Article]] = relationship(back_populates="site")

    def __repr__(self) -> str:
        return f"Site(id={self.id!r}, name={self.name!r})"


class Article(Base):
    """One article, identified by the key of its canonical URL."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"), index=True)
    url_key: Mapped[str] = mapped_column(String(2048), unique=True)
    url: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="live")  # live | gone | redirected
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_checked: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_changed: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_check: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    check_count: Mapped[int] = mapped_column(Integer, default=0)
    version_count: Mapped[int] = mapped_column(Integer, default=0)
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    last_html_hash: Mapped[str | None] = mapped_column(String(64))

    site: Mapped[Site | None] = relationship(back_populates="articles")
    urls: Mapped[list[ArticleURL]] = relationship(back_populates="article")
    versions: Mapped[list[Version]] = relationship(back_populates="article", order_by="Version.seq")

    def __repr__(self) -> str:
        return f"Article(id={self.id!r}, url={self.url!r}, state={self.state!r})"


class ArticleURL(Base):
    """Every URL an article was known by (fetched, canonical, redirect source, AMP), with when it was first seen."""

    __tablename__ = "article_urls"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    url_key: Mapped[str] = mapped_column(String(2048), unique=True)
    url: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))  # canonical | fetched | redirect | amp
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    article: Mapped[Article] = relationship(back_populates="urls")

    def __repr__(self) -> str:
        return f"ArticleURL(url={self.url!r}, kind={self.kind!r})"


class TextBlob(Base):
    """A version body, zlib-compressed and stored once per distinct content (keyed by its SHA-256)."""

    __tablename__ = "texts"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)

    def __repr__(self) -> str:
        return f"TextBlob(hash={self.hash[:12]!r}, size={self.size!r})"


class Blob(Base):
    """Raw HTML as fetched, zlib-compressed and content-addressed by the SHA-256 of the raw bytes."""

    __tablename__ = "blobs"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    encoding: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)

    def __repr__(self) -> str:
        return f"Blob(hash={self.hash[:12]!r}, size={self.size!r})"


class Version(Base):
    """One distinct text of an article; ``seq`` counts 1, 2, ... in order of appearance."""

    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("article_id", "seq"), Index("ix_versions_first_seen", "first_seen"))

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    published: Mapped[str | None] = mapped_column(String(64))
    modified: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    text_hash: Mapped[str] = mapped_column(ForeignKey("texts.hash"), index=True)
    extractor_version: Mapped[str] = mapped_column(String(128))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    article: Mapped[Article] = relationship(back_populates="versions")
    body: Mapped[TextBlob] = relationship()

    def __repr__(self) -> str:
        return f"Version(article_id={self.article_id!r}, seq={self.seq!r}, hash={self.content_hash[:12]!r})"


class CrawlRun(Base):
    """One ``scrapy crawl`` (or CLI re-extraction) with its counts."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    spider: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(32), default="running")
    stats: Mapped[dict] = mapped_column(JSON, default=dict)

    def __repr__(self) -> str:
        return f"CrawlRun(id={self.id!r}, spider={self.spider!r}, status={self.status!r})"


class Capture(Base):
    """Every fetch of an article: HTTP facts, raw HTML, comment state, and the version it saw (if any)."""

    __tablename__ = "captures"
    __table_args__ = (Index("ix_captures_article_id_fetched_at", "article_id", "fetched_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id", ondelete="SET NULL"), index=True)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[int] = mapped_column(Integer)
    # new_version | unchanged | not_modified | same_html | gone | degraded
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(200))
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    html_hash: Mapped[str | None] = mapped_column(ForeignKey("blobs.hash"), index=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id", ondelete="SET NULL"), index=True)
    comments_state: Mapped[str | None] = mapped_column(String(8))
    comment_count: Mapped[int | None] = mapped_column(Integer)

    def __repr__(self) -> str:
        return f"Capture(article_id={self.article_id!r}, kind={self.kind!r}, status={self.status!r})"
