"""Property-based tests (hypothesis) for normalisation, hashing and versioning, plus URL identity examples."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import Version
from archive.normalise import BadURL, clean_url, content_hash, normalise_text, parse_time, url_key
from archive.record import ArticleRecord
from archive.versions import Fetch, record_fetch

words = st.text(alphabet=st.characters(categories=("L", "N")), min_size=1, max_size=12)
paragraphs = st.lists(words, min_size=1, max_size=12).map(" ".join)
bodies = st.lists(paragraphs, min_size=1, max_size=6).map("\n".join)
spaces = st.sampled_from([" ", "  ", "\t", "\u00a0", "\u2009", "\u3000"])
PROMOS = ["Also read: Tesla stocks fall more than 12%", "READ MORE: Ferry timetable changes", "Lesen Sie auch: Neue Brücke",
          "À lire aussi : Le pont rouvre", "Leer más: El puente reabre", "See also: Budget talks stall"]


@given(bodies)
def test_normalise_text_is_idempotent(text):
    once = normalise_text(text)
    assert normalise_text(once) == once


@given(bodies, st.data())
def test_whitespace_only_changes_keep_the_hash(text, data):
    noisy_lines = []
    for line in text.split("\n"):
        sep = data.draw(spaces)
        noisy_lines.append(data.draw(spaces) + line.replace(" ", sep) + data.draw(spaces))
        if data.draw(st.booleans()):
            noisy_lines.append(data.draw(spaces))  # a blank line
    assert content_hash("T", "A", "\n".join(noisy_lines)) == content_hash("T", "A", text)


@given(bodies, st.sampled_from(PROMOS), st.integers(min_value=0, max_value=6))
def test_promo_only_changes_keep_the_hash(text, promo, where):
    lines = text.split("\n")
    lines.insert(min(where, len(lines)), promo)
    assert content_hash("T", "A", "\n".join(lines)) == content_hash("T", "A", text)


def test_real_prose_with_promo_words_changes_the_hash():
    prose = "Read more about the budget in the report, the minister said on Tuesday before the vote in parliament."
    assert content_hash("T", "A", "Body.\n" + prose) != content_hash("T", "A", "Body.")


@given(bodies, bodies)
def test_distinct_content_gives_distinct_hashes(a, b):
    if normalise_text(a) != normalise_text(b):
        assert content_hash("T", "A", a) != content_hash("T", "A", b)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["alpha story", "beta story", "gamma story"]), min_size=1, max_size=8))
def test_versions_follow_the_changes_in_capture_order(sqlite_engine, sequence):
    url = f"https://news.example/{uuid.uuid4().hex}/"
    t0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
    with Session(sqlite_engine) as s, s.begin():
        for i, text in enumerate(sequence):
            record = ArticleRecord(url=url, title="T", text=text, extractor_version="t")
            record_fetch(s, Fetch(url=url, status=200, html=text.encode(), record=record, fetched_at=t0 + timedelta(minutes=i)))
    expected = [text for i, text in enumerate(sequence) if i == 0 or sequence[i - 1] != text]
    with Session(sqlite_engine) as s:
        stored = s.execute(
            select(Version.content_hash).join(Version.article).where(Version.article.has(url=clean_url(url))).order_by(Version.seq)
        ).scalars().all()
    assert stored == [content_hash("T", None, t) for t in expected]


@pytest.fixture(scope="module")
def sqlite_engine(tmp_path_factory):
    from archive.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('prop') / 'a.sqlite3'}")
    yield engine
    engine.dispose()


@pytest.mark.parametrize(
    "a, b",
    [
        ("https://x.example/a/?utm_source=t&id=3", "http://x.example/a/?id=3#top"),
        ("https://X.EXAMPLE:443/a/", "https://x.example/a/"),
        ("https://x.example/a/?b=2&a=1", "https://x.example/a/?a=1&b=2"),
    ],
)
def test_url_variants_share_a_key(a, b):
    assert url_key(a) == url_key(b)


def test_different_articles_keep_different_keys():
    assert url_key("https://x.example/a/?id=3") != url_key("https://x.example/a/?id=4")
    with pytest.raises(BadURL):
        url_key("javascript:alert(1)")


def test_parse_time_accepts_iso_forms_and_rejects_others():
    assert parse_time("2025-06-03T07:30:00+01:00") == datetime(2025, 6, 3, 6, 30, tzinfo=timezone.utc)
    assert parse_time("2025-06-03T06:30:00Z") == parse_time("2025-06-03T06:30")
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_time("yesterday")
