"""Extraction: a table of fixture pages in the markup of real CMSs, each with its expected record.

The pages and ``expected.json`` are written by ``tests/fixtures/extract/build.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archive.extract import EXTRACTOR_VERSION, decode_html, extract, is_promo

FIXTURES = Path(__file__).parent / "fixtures" / "extract"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
CONTRACT_PAGE = Path(__file__).resolve().parents[2] / "shared" / "contract" / "site" / "2025" / "06" / "03" / \
    "harbour-bridge-reopens" / "index.html"


def _extract(name: str):
    exp = EXPECTED[name]
    html = (FIXTURES / "pages" / name).read_bytes()
    return extract(html, f"https://example.org/{name}", encoding=exp.get("header_encoding")), exp


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if not e.get("page_kind")))
def test_article_fixture_matches_expected_record(name: str) -> None:
    rec, exp = _extract(name)
    assert rec is not None
    assert rec.page_kind == "article"
    assert rec.title == exp["title"]
    assert rec.author == exp["author"]
    assert rec.published == exp["published"]
    if "modified" in exp:
        assert rec.modified == exp["modified"]
    assert (rec.comments_state, rec.comment_count) == (exp["comments_state"], exp["comment_count"])
    assert rec.text.startswith(exp["first"]), rec.text[:200]
    assert rec.text.endswith(exp["last"]), rec.text[-200:]
    for bad in exp["not_in"]:
        assert bad not in rec.text, bad
    for good in exp.get("must", []):
        assert good in rec.text, good
    if "body" in exp:
        assert rec.text == exp["body"]
    if "canonical_url" in exp:
        assert rec.canonical_url == exp["canonical_url"]
    assert rec.extractor_version == EXTRACTOR_VERSION


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if e.get("page_kind")))
def test_non_article_page_gets_its_kind(name: str) -> None:
    rec, exp = _extract(name)
    assert rec is not None
    assert rec.page_kind == exp["page_kind"]


def test_seed_article_body_is_exactly_its_paragraphs() -> None:
    rec, exp = _extract("seed-putin-car.html")
    assert rec.text == exp["body"]
    assert (rec.comments_state, rec.comment_count) == ("closed", 1)
    assert "Also read" not in rec.text


def test_table_covers_at_least_forty_pages_and_nine_languages() -> None:
    assert len(EXPECTED) >= 40
    langs = {n.split("-")[2] for n in EXPECTED if n.startswith("wp-")}
    assert {"en", "de", "fr", "es", "it", "pt", "nl", "pl", "ru"} <= langs


@pytest.mark.skipif(not CONTRACT_PAGE.exists(), reason="shared contract site not present")
def test_contract_page_gives_headline_open_comments_and_no_promo() -> None:
    rec = extract(CONTRACT_PAGE.read_bytes(), "http://127.0.0.1/2025/06/03/harbour-bridge-reopens/")
    assert rec.title == "Harbour bridge reopens after two years of repairs"
    assert (rec.comments_state, rec.comment_count) == ("open", 2)
    assert "Also read" not in rec.text
    assert rec.published == "2025-06-03T07:30:00+01:00"
    assert rec.author == "Mara Lindqvist"


@pytest.mark.parametrize("line", [
    "Also read: Tesla stocks fall more than 12% due to competition",
    "Read more: Fuel prices rise for the third month in a row",
    "READ MORE",
    "READ MORE Fuel prices rise again",
    "Related: New car park opens at the station",
    "See also: Library extends its opening hours",
    "Lesen Sie auch: Bahnstrecke nach Süden bleibt bis Juli gesperrt",
    "À lire aussi : Le marché de Noël change d'emplacement",
    "Lee también: Las obras del puerto se retrasan",
    "Leggi anche: Nuovi orari per la biblioteca",
    "Leia também: Feira do livro volta ao centro",
    "Lees ook: Nieuwe brug over het kanaal",
    "Czytaj też: Nowy rozkład jazdy tramwajów",
    "Читайте также: Мост через реку закроют на ремонт",
    "Sign up for our newsletter to get the top stories in your inbox.",
    "Share this:",
])
def test_is_promo_recognises_promos_and_boilerplate(line: str) -> None:
    assert is_promo(line)


@pytest.mark.parametrize("line", [
    "Read more about the vote in the council minutes, which were published on Tuesday and run to forty pages.",
    "Readers who want to read more can find the full report on the council website, the mayor said.",
    "The related cases were heard together in the spring.",
    "He said he would also read the report before the vote.",
    "Subscribers to the scheme will pay less from next year, the operator said in a statement on Monday.",
])
def test_is_promo_keeps_real_prose(line: str) -> None:
    assert not is_promo(line)


def test_decode_survives_wrong_declarations() -> None:
    text = "Straße über den Fluß"
    assert decode_html(text.encode("utf-8"), "iso-8859-1") == text
    assert decode_html(text.encode("cp1252"), "utf-8") == text
    assert decode_html(f'<meta charset="windows-1252"><p>{text}</p>'.encode("cp1252")).endswith(f"{text}</p>")
    assert "\ufffd" in decode_html(b"\xff\xfe\xfa broken \x81", "utf-8") or decode_html(b"\xff broken", "ascii")


def test_page_without_text_gives_none() -> None:
    assert extract(b"<html><head><title></title></head><body></body></html>") is None


@pytest.mark.parametrize(("url", "day"), [
    ("https://example.org/2025/06/03/harbour-bridge/", "2025-06-03"),
    ("https://example.org/politics/2019/nov/18/claim/", "2019-11-18"),
    ("https://example.org/news/2019-11-18-council-vote", "2019-11-18"),
    ("https://example.org/2019/13/45/nonsense/", None),
    ("https://example.org/story/123456/", None),
])
def test_url_date_reads_full_dates_only(url: str, day: str | None) -> None:
    from archive.extract_meta import url_date

    assert url_date(url) == day


def test_published_falls_back_to_the_url_date_when_the_page_states_none() -> None:
    html = (FIXTURES / "pages" / "title-dash-suffix.html").read_text(encoding="utf-8")
    html = html.replace('<meta property="article:published_time" content="2025-06-03T07:30:00+01:00">', "")
    html = html.replace('datetime="2025-06-03T07:30:00+01:00"', "")
    rec = extract(html, "https://example.org/2024/02/29/ferry-vote/")
    assert rec.published == "2024-02-29"
