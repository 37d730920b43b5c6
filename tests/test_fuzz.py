"""Fuzzing extraction: real pages (the AEB benchmark set and our extraction fixtures), mutated by hypothesis —
flipped bytes, truncation, inserted tags and control characters, re-encoded or falsely declared charsets — go
through ``archive.extract.extract``, which must never raise and must finish each page in bounded time.

Property tests of normalisation and versioning live in tests/test_normalise.py.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.extract import extract
from archive.record import ArticleRecord
from tests.conftest import FIXTURES, ROOT

AEB = ROOT.parent / "shared" / "bench" / "aeb" / "html"
PER_PAGE_SECONDS = 5.0


def _corpus() -> list[bytes]:
    """A few pages of each kind: every 10th AEB page by size (small to 1.4 MB), and fixture pages with odd
    charsets, AMP and comment widgets."""
    aeb = sorted(AEB.glob("*.html"), key=lambda p: p.stat().st_size)[::10] if AEB.is_dir() else []
    ours = sorted((FIXTURES / "extract" / "pages").glob("*.html"))
    picked = [p for p in ours if p.name.startswith(("enc-", "amp-", "blogger-", "drupal-open"))]
    return [p.read_bytes() for p in [*aeb, *picked]]


CORPUS = _corpus()

TAGS = [b"<div>", b"</div>", b"<p>", b"</p>", b"<script>", b"</script>", b"<style>", b"<!--", b"-->", b"<![CDATA[",
        b"]]>", b"</html>", b"<html>", b"<body>", b"</body>", b"<table><tr><td>", b"<svg><foreignObject>",
        b"<meta charset=\"utf-16\">", b"<meta http-equiv=\"content-type\" content=\"text/html; charset=koi8-r\">",
        b"<base href=\"javascript:alert(1)\">", b"<a href=\"http://[::1\">x</a>", b"<a href='http://a:99999/'>",
        b"<script type=\"application/ld+json\">{\"@type\": \"NewsArticle\", \"headline\": [1, {}]}</script>",
        b"<time datetime=\"99999-99-99T99:99\">", b"&#0;", b"&#xD800;", b"&#99999999;", b"\x00", b"\xff\xfe",
        b"\xef\xbb\xbf", b"\xed\xa0\x80", b"\r", b"<" * 50, b"<div>" * 2000]
ENCODINGS = [None, "utf-8", "latin-1", "cp1252", "utf-16", "koi8-r", "shift_jis", "no-such-charset", ""]


@st.composite
def mutated_pages(draw) -> tuple[bytes, str | None]:
    page = bytearray(draw(st.sampled_from(CORPUS)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "reencode", "splice", "delete"]))
        if not page:
            break
        at = draw(st.integers(0, len(page) - 1))
        if op == "flip":
            for _ in range(draw(st.integers(1, 64))):
                i = draw(st.integers(0, len(page) - 1))
                page[i] = draw(st.integers(0, 255))
        elif op == "truncate":
            del page[at:]
        elif op == "insert":
            page[at:at] = draw(st.sampled_from(TAGS)) * draw(st.integers(1, 20))
        elif op == "delete":
            del page[at:at + draw(st.integers(1, 5000))]
        elif op == "splice":  # a piece of another page, mid-tag: mixed encodings and broken nesting
            other = draw(st.sampled_from(CORPUS))
            start = draw(st.integers(0, max(0, len(other) - 1)))
            page[at:at] = other[start:start + draw(st.integers(1, 20000))]
        elif op == "reencode":
            codec = draw(st.sampled_from(["utf-16", "utf-16-be", "cp1252", "latin-1", "koi8-r", "utf-32"]))
            text = bytes(page).decode("utf-8", errors="replace")
            page = bytearray(text.encode(codec, errors="replace"))
    return bytes(page), draw(st.sampled_from(ENCODINGS))


def test_corpus_is_there():
    assert len(CORPUS) >= 8, f"fuzzing needs pages: {AEB} and {FIXTURES / 'extract' / 'pages'}"


@settings(max_examples=150, deadline=None, derandomize=False, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated_pages())
def test_extract_never_raises_and_finishes_in_bounded_time_on_mutated_pages(case):
    body, encoding = case
    started = time.monotonic()
    record = extract(body, "https://news.example.org/2024/03/story.html", encoding=encoding or None)
    elapsed = time.monotonic() - started
    assert elapsed < PER_PAGE_SECONDS, f"{elapsed:.1f}s for {len(body)} bytes"
    assert record is None or isinstance(record, ArticleRecord)
    if record is not None:
        assert isinstance(record.text, str) and record.text
        assert record.comments_state in ("open", "closed", "none")
        assert record.comment_count is None or record.comment_count >= 0


@pytest.mark.parametrize("body", [b"", b"\x00" * 1000, b"<", b"<html>", b"\xff\xfe\x00<\x00h", b"<!--" * 10000,
                                  b"<div>" * 50_000, bytes(range(256)) * 100])
def test_extract_never_raises_on_degenerate_input(body):
    started = time.monotonic()
    record = extract(body, "https://news.example.org/x.html")
    assert time.monotonic() - started < PER_PAGE_SECONDS
    assert record is None or isinstance(record, ArticleRecord)
