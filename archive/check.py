"""Integrity checks of an archive: what a crash, a full disk or a bug could have left half-written."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Iterator

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from archive.models import Article, Blob, Capture, TextBlob, Version
from archive.normalise import sha256


@dataclass
class Problem:
    check: str
    count: int
    detail: str

    def __str__(self) -> str:
        return f"{self.check}: {self.count} {self.detail}"


def _count(session: Session, query) -> int:
    return session.execute(select(func.count()).select_from(query.subquery())).scalar_one()


def run_checks(session: Session, *, deep: bool = False) -> Iterator[Problem]:
    """Yield every problem found; nothing when the archive is consistent."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        result = session.execute(text("PRAGMA integrity_check")).scalars().all()
        if result != ["ok"]:
            yield Problem("sqlite_integrity", len(result), "; ".join(result[:3]))
        fk = session.execute(text("PRAGMA foreign_key_check")).all()
        if fk:
            yield Problem("foreign_keys", len(fk), f"rows point at missing parents (first: table {fk[0][0]})")
    checks = {
        "versions_without_capture": (
            select(Version.id).where(~select(Capture.id).where(Capture.version_id == Version.id).exists()),
            "versions no capture saw",
        ),
        "versions_without_text": (
            select(Version.id).where(~select(TextBlob.hash).where(TextBlob.hash == Version.text_hash).exists()),
            "versions whose body text is missing",
        ),
        "captures_without_blob": (
            select(Capture.id).where(
                Capture.html_hash.is_not(None), ~select(Blob.hash).where(Blob.hash == Capture.html_hash).exists()
            ),
            "captures whose raw HTML is missing",
        ),
        "version_count_mismatch": (
            select(Article.id).where(
                Article.version_count
                != select(func.coalesce(func.max(Version.seq), 0)).where(Version.article_id == Article.id).scalar_subquery()
            ),
            "articles whose version count disagrees with their versions",
        ),
        "version_seq_gaps": (
            select(Version.article_id)
            .group_by(Version.article_id)
            .having(func.max(Version.seq) != func.count(Version.id)),
            "articles whose versions are not numbered 1..n",
        ),
    }
    for name, (query, detail) in checks.items():
        n = _count(session, query)
        if n:
            yield Problem(name, n, detail)
    if deep:
        for model, name, detail in ((Blob, "corrupt_blobs", "raw HTML blobs"), (TextBlob, "corrupt_texts", "texts")):
            bad = _bad_digests(session, model)
            if bad:
                yield Problem(name, bad, f"{detail} that do not decompress to their hash")


def _bad_digests(session: Session, model) -> int:
    bad = 0
    for digest, data in session.execute(select(model.hash, model.data).execution_options(yield_per=500)):
        try:
            bad += sha256(zlib.decompress(data)) != digest
        except zlib.error:
            bad += 1
    return bad
