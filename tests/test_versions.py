"""Versioning on real databases (SQLite and PostgreSQL): dedup, A -> B -> A, captures, URL identity, blobs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.models import Article, ArticleURL, Blob, Capture, TextBlob, Version
from archive.record import ArticleRecord
from archive.versions import Fetch, record_fetch

T0 = datetime(2025, 6, 3, 8, 0, tzinfo=timezone.utc)
URL = "https://news.example/2025/06/03/bridge/"
BODY_A = "The bridge reopened on Tuesday.\nRepairs cost 14 million pounds.\nBuses return on Monday."
BODY_B = "The bridge reopened on Tuesday.\nRepairs cost 15 million pounds.\nBuses return on Monday."


def fetch(text=BODY_A, *, url=URL, title="Bridge reopens", author="Mara L", at=0, html=None, **kw) -> Fetch:
    record = ArticleRecord(url=url, canonical_url=kw.pop("canonical", None), title=title, author=author, text=text,
                           comments_state=kw.pop("comments_state", "open"), comment_count=kw.pop("comment_count", 2),
                           page_kind=kw.pop("page_kind", "article"), extractor_version="test")
    body = html if html is not None else f"<html><body><p>{text}</p><!-- {at} --></body></html>".encode()
    return Fetch(url=url, status=200, html=body, record=record, fetched_at=T0 + timedelta(minutes=at), site="example", **kw)


def store(engine, f: Fetch):
    with Session(engine) as s, s.begin():
        return record_fetch(s, f)


def count(engine, model) -> int:
    with Session(engine) as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def seqs(engine) -> list[int]:
    with Session(engine) as s:
        return list(s.execute(select(Version.seq).order_by(Version.seq)).scalars())


def test_first_fetch_makes_version_one_and_a_capture(engine):
    out = store(engine, fetch())
    assert out.kind == "new_version" and out.seq == 1
    assert count(engine, Capture) == 1 and seqs(engine) == [1]


def test_unchanged_fetch_adds_only_a_capture_and_moves_last_seen(engine):
    store(engine, fetch(at=0))
    out = store(engine, fetch(at=30))
    assert out.kind == "unchanged" and out.seq == 1
    assert seqs(engine) == [1] and count(engine, Capture) == 2
    with Session(engine) as s:
        version = s.execute(select(Version)).scalar_one()
        assert version.last_seen == T0 + timedelta(minutes=30)
        assert version.first_seen == T0


def test_whitespace_and_unicode_form_changes_are_not_versions(engine):
    store(engine, fetch("Café opens.\nSecond line."))
    decomposed = "Cafe\u0301  opens. \n\n  Second\u00a0line.  "
    assert store(engine, fetch(decomposed, at=5)).kind == "unchanged"
    assert seqs(engine) == [1]


def test_a_b_a_gives_three_versions(engine):
    kinds = [store(engine, fetch(body, at=i)).kind for i, body in enumerate([BODY_A, BODY_B, BODY_A])]
    assert kinds == ["new_version"] * 3
    assert seqs(engine) == [1, 2, 3]
    with Session(engine) as s:
        hashes = list(s.execute(select(Version.content_hash).order_by(Version.seq)).scalars())
        assert hashes[0] == hashes[2] != hashes[1]
        # the body of A is stored once although two versions carry it
        assert s.execute(select(func.count()).select_from(TextBlob)).scalar_one() == 2


def test_headline_or_byline_change_is_a_version(engine):
    store(engine, fetch())
    assert store(engine, fetch(title="Bridge reopens at last", at=1)).kind == "new_version"
    assert store(engine, fetch(title="Bridge reopens at last", author="Mara Lindqvist", at=2)).kind == "new_version"
    assert seqs(engine) == [1, 2, 3]


def test_comment_changes_are_recorded_on_captures_never_as_versions(engine):
    store(engine, fetch(comments_state="open", comment_count=2))
    out = store(engine, fetch(comments_state="closed", comment_count=5, at=10))
    assert out.kind == "unchanged" and seqs(engine) == [1]
    with Session(engine) as s:
        states = s.execute(select(Capture.comments_state, Capture.comment_count).order_by(Capture.id)).all()
    assert [tuple(r) for r in states] == [("open", 2), ("closed", 5)]


def test_identical_html_is_stored_once_and_compressed(engine):
    html = ("<html><body>" + "<p>Same bytes for every capture of this page.</p>" * 200 + "</body></html>").encode()
    store(engine, fetch(html=html, at=0))
    store(engine, fetch(html=html, at=1))
    with Session(engine) as s:
        blobs = s.execute(select(Blob)).scalars().all()
        assert len(blobs) == 1
        assert blobs[0].size == len(html) and len(blobs[0].data) < len(html) * 0.25
        assert s.execute(select(func.count(func.distinct(Capture.html_hash)))).scalar_one() == 1


@pytest.mark.parametrize(
    "variant",
    [
        URL + "?utm_source=twitter&utm_medium=social",
        URL + "#comments",
        URL.replace("https://", "http://"),
        URL + "?fbclid=abc123",
    ],
)
def test_url_variants_map_to_one_article(engine, variant):
    store(engine, fetch(at=0))
    out = store(engine, fetch(url=variant, at=1))
    assert out.kind == "unchanged"
    assert count(engine, Article) == 1


def test_canonical_link_on_same_site_joins_articles(engine):
    store(engine, fetch(at=0))
    out = store(engine, fetch(url="https://news.example/?p=4711", canonical=URL, at=1))
    assert out.kind == "unchanged" and count(engine, Article) == 1
    with Session(engine) as s:
        urls = set(s.execute(select(ArticleURL.url)).scalars())
    assert "https://news.example/?p=4711" in urls


def test_amp_page_maps_to_its_canonical(engine):
    store(engine, fetch(at=0))
    store(engine, fetch(url=URL + "amp/", canonical=URL, at=1))
    assert count(engine, Article) == 1


def test_canonical_on_another_site_is_ignored(engine):
    store(engine, fetch(at=0))
    store(engine, fetch(url="https://mirror.example/copy/", canonical=URL, at=1))
    assert count(engine, Article) == 2


def test_redirect_keeps_identity_and_url_history(engine):
    store(engine, fetch(at=0))
    moved = "https://news.example/2025/06/03/bridge-reopens-after-repairs/"
    out = store(engine, fetch(url=moved, requested_url=URL, at=1))
    assert out.kind == "unchanged"
    with Session(engine) as s:
        article = s.execute(select(Article)).scalar_one()
        assert article.url == moved
        assert {u.url for u in article.urls} == {URL, moved}


def test_gone_is_a_capture_and_a_state_not_a_version(engine):
    store(engine, fetch(at=0))
    out = store(engine, Fetch(url=URL, status=410, fetched_at=T0 + timedelta(hours=1), site="example"))
    assert out.kind == "gone" and seqs(engine) == [1]
    with Session(engine) as s:
        article = s.execute(select(Article)).scalar_one()
        assert article.state == "gone" and article.next_check is None


def test_degraded_pages_are_captured_but_never_versions(engine):
    store(engine, fetch(at=0))
    assert store(engine, fetch("Please accept cookies.", page_kind="consent", at=1)).kind == "degraded"
    assert store(engine, fetch("The bridge reopened.", at=2)).reason == "body_shrunk"
    assert seqs(engine) == [1] and count(engine, Capture) == 3


def test_not_modified_capture_keeps_validators(engine):
    store(engine, fetch(etag='"v1"', at=0))
    out = store(engine, Fetch(url=URL, status=304, not_modified=True, fetched_at=T0 + timedelta(minutes=40)))
    assert out.kind == "not_modified"
    with Session(engine) as s:
        assert s.execute(select(Article.etag)).scalar_one() == '"v1"'


def test_edit_resets_the_recrawl_schedule(engine):
    store(engine, fetch(at=0))
    store(engine, fetch(at=60 * 24 * 3))  # unchanged for three days: daily checks
    with Session(engine) as s:
        slow = s.execute(select(Article.next_check)).scalar_one() - (T0 + timedelta(days=3))
    store(engine, fetch(BODY_B, at=60 * 24 * 3 + 1))  # an edit: back to frequent checks
    with Session(engine) as s:
        fast = s.execute(select(Article.next_check)).scalar_one() - (T0 + timedelta(days=3, minutes=1))
    assert slow == timedelta(days=1) and fast == timedelta(minutes=30)


def test_a_failed_page_rolls_back_alone(engine):
    store(engine, fetch(at=0))
    with pytest.raises(RuntimeError):
        with Session(engine) as s, s.begin():
            record_fetch(s, fetch(BODY_B, at=1))
            raise RuntimeError("disk full while writing this page")
    assert seqs(engine) == [1] and count(engine, Capture) == 1
    assert store(engine, fetch(BODY_B, at=2)).kind == "new_version"
