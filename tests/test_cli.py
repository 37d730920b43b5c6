"""The ``archive`` command on real databases, through click's CliRunner."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import click
import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from archive.cli import cli
from archive.db import make_engine
from archive.record import ArticleRecord
from archive.versions import Fetch, record_fetch

T0 = datetime(2025, 6, 3, 8, 0, tzinfo=timezone.utc)
BRIDGE = "https://news.example/2025/06/03/bridge/"
FERRY = "https://news.example/2025/06/01/ferry/"
A = "The old harbour bridge opened again on Tuesday.\nRepairs cost the county 14 million pounds."
B = "The old harbour bridge opened again on Tuesday.\nRepairs cost the county 15 million pounds."


def _store(url, db_url, text, title, at, author="Mara Lindqvist", comments=("open", 2)):
    engine = make_engine(db_url)
    record = ArticleRecord(url=url, title=title, author=author, text=text, published="2025-06-03T07:30:00+01:00",
                           language="en", comments_state=comments[0], comment_count=comments[1], extractor_version="t")
    with Session(engine) as s, s.begin():
        record_fetch(s, Fetch(url=url, status=200, html=f"<p>{text}</p>".encode(), record=record,
                              fetched_at=T0 + at, site="example"))
    engine.dispose()


@pytest.fixture
def archive_url(db_url):
    """An archive holding the bridge story edited A -> B -> A and an unchanged ferry story."""
    _store(FERRY, db_url, "Ferry timetable changes for the summer season.", "Ferry timetable", timedelta(0))
    _store(BRIDGE, db_url, A, "Harbour bridge reopens", timedelta(hours=1))
    _store(BRIDGE, db_url, B, "Harbour bridge reopens", timedelta(hours=2), comments=("open", 5))
    _store(BRIDGE, db_url, A, "Harbour bridge reopens after repairs", timedelta(hours=3), comments=("closed", 7))
    return db_url


def run(db_url, *args, ok=True):
    result = CliRunner().invoke(cli, ["--database-url", db_url, *args])
    if ok:
        assert result.exit_code == 0, result.output
    return result


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_list_shows_version_counts_and_filters(archive_url):
    rows = jsonl(run(archive_url, "list", "--json").output)
    assert {r["url"]: r["version_count"] for r in rows} == {BRIDGE: 3, FERRY: 1}
    assert [r["url"] for r in jsonl(run(archive_url, "list", "--changed", "--json").output)] == [BRIDGE]
    assert jsonl(run(archive_url, "list", "--site", "nowhere", "--json").output) == []
    since = (T0 + timedelta(minutes=30)).isoformat()
    assert [r["url"] for r in jsonl(run(archive_url, "list", "--since", since, "--json").output)] == [BRIDGE]
    assert "Harbour bridge reopens after repairs" in run(archive_url, "list").output


def test_search_finds_words_in_bodies_and_titles(archive_url):
    hits = jsonl(run(archive_url, "search", "15 million", "--json").output)
    assert [h["url"] for h in hits] == [BRIDGE] and hits[0]["seq"] == 2
    assert [h["url"] for h in jsonl(run(archive_url, "search", "timetable", "--json").output)] == [FERRY]
    assert jsonl(run(archive_url, "search", "zeppelin", "--json").output) == []


def test_versions_lists_a_b_a_with_summaries(archive_url):
    versions = json.loads(run(archive_url, "versions", BRIDGE, "--json").output)
    assert [v["seq"] for v in versions] == [1, 2, 3]
    assert versions[0]["content_hash"] != versions[1]["content_hash"]
    assert versions[1]["summary"] == "body +1/-1 words"
    assert "headline changed" in versions[2]["summary"]
    assert {"seq", "content_hash", "title", "first_seen", "last_seen"} <= set(versions[0])
    assert versions[0]["first_seen"].endswith("Z")


def test_show_prints_a_version(archive_url):
    data = json.loads(run(archive_url, "show", BRIDGE, "--version", "2", "--json").output)
    assert data["seq"] == 2 and "15 million" in data["text"]
    assert "14 million" in run(archive_url, "show", BRIDGE + "?utm_source=x").output


def test_diff_line_words_and_html(archive_url):
    out = run(archive_url, "diff", BRIDGE, "--from", "1", "--to", "2").output
    assert "-Repairs cost the county 14 million pounds." in out and "+Repairs cost the county 15 million pounds." in out
    words = run(archive_url, "diff", BRIDGE, "--from", "1", "--to", "2", "--words").output
    assert "[-14-]{+15+}" in words
    latest = run(archive_url, "diff", BRIDGE).output  # 2 -> 3: headline first
    assert latest.index("headline:") < latest.index("@@")
    page = run(archive_url, "diff", BRIDGE, "--format", "html").output
    assert page.startswith("<!DOCTYPE html>") and "<table" in page and "http" not in page.split("<body>")[0].replace(BRIDGE, "")


def test_export_as_of_across_edits(archive_url, tmp_path):
    def snapshot(*args):
        out = tmp_path / "snap.jsonl"
        run(archive_url, "export", "-o", str(out), *args)
        return {r["url"]: r for r in jsonl(out.read_text())}

    now = snapshot()
    assert now[BRIDGE]["version"] == 3 and now[BRIDGE]["version_count"] == 3
    assert now[BRIDGE]["comments_state"] == "closed" and now[BRIDGE]["comment_count"] == 7
    mid = snapshot("--as-of", (T0 + timedelta(hours=2, minutes=30)).isoformat())
    assert mid[BRIDGE]["version"] == 2 and "15 million" in mid[BRIDGE]["text"] and mid[BRIDGE]["comment_count"] == 5
    early = snapshot("--as-of", (T0 + timedelta(minutes=30)).isoformat())
    assert list(early) == [FERRY]
    assert snapshot("--as-of", "2000-01-01") == {}
    history = snapshot("--with-history")
    assert [v["seq"] for v in history[BRIDGE]["history"]] == [1, 2, 3]
    assert history[BRIDGE]["history"][0]["text"] == history[BRIDGE]["history"][2]["text"] == A
    assert [v["seq"] for v in history[FERRY]["history"]] == [1]
    assert list(snapshot("--since", (T0 + timedelta(minutes=30)).isoformat())) == [BRIDGE]


def test_export_json_array_to_stdout(archive_url):
    data = json.loads(run(archive_url, "export", "-o", "-", "--format", "json").output)
    assert isinstance(data, list) and len(data) == 2
    fields = {"url", "canonical_url", "site", "title", "author", "published", "modified", "text", "language", "version",
              "version_count", "content_hash", "first_seen", "last_seen", "comments_state", "comment_count"}
    assert all(fields <= set(r) for r in data)


def test_stats_reports_totals(archive_url):
    data = json.loads(run(archive_url, "stats", "--json").output)
    assert data["articles"] == 2 and data["versions"] == 4 and data["captures"] == 4


def test_unknown_url_suggests_close_matches(archive_url):
    result = run(archive_url, "versions", BRIDGE.rstrip("/") + "s/", ok=False)
    assert result.exit_code == 1 and "did you mean" in result.output and BRIDGE in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args", [["export", "-o", "-", "--as-of", "last tuesday"], ["list", "--since", "2025-13-45"]])
def test_bad_date_is_a_usage_error(archive_url, args):
    result = run(archive_url, *args, ok=False)
    assert result.exit_code == 2 and "ISO 8601" in result.output


def test_unreachable_database_is_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["--database-url", "postgresql+psycopg://postgres@127.0.0.1:1/x", "list"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot reach database") and result.output.count("\n") == 1


def test_every_command_has_help_with_an_example():
    def walk(group, prefix=()):
        for name, command in group.commands.items():
            yield prefix + (name,), command
            if isinstance(command, click.Group):
                yield from walk(command, prefix + (name,))

    commands = list(walk(cli))
    assert len(commands) >= 11
    for path, command in commands:
        result = CliRunner().invoke(cli, [*path, "--help"])
        assert result.exit_code == 0
        assert "Example:" in result.output, f"archive {' '.join(path)} --help has no example"


def test_check_passes_on_a_consistent_archive_and_reports_damage(archive_url):
    assert "consistent" in run(archive_url, "check", "--deep").output
    engine = make_engine(archive_url)
    with engine.begin() as conn:  # damage it: a version nobody captured, a corrupt text
        conn.exec_driver_sql("UPDATE captures SET version_id = NULL WHERE version_id = (SELECT MIN(id) FROM versions)")
        conn.exec_driver_sql("UPDATE texts SET data = X'00' WHERE hash = (SELECT MIN(hash) FROM texts)"
                             if engine.dialect.name == "sqlite" else
                             "UPDATE texts SET data = '\\x00'::bytea WHERE hash = (SELECT MIN(hash) FROM texts)")
    engine.dispose()
    result = run(archive_url, "check", "--deep", ok=False)
    assert result.exit_code == 1
    assert "versions_without_capture: 1" in result.output and "corrupt_texts: 1" in result.output


def test_reextract_adds_versions_only_where_content_changes(db_url):
    from archive.extract import extract

    page = b"""<html><head><title>Mill closes</title></head><body><article><h1>Mill closes</h1>
    <p>The old paper mill on the river closed on Friday after ninety years, the owners said in a statement.</p>
    <p>About two hundred workers lost their jobs, and the council promised help with retraining.</p></article></body></html>"""
    url = "https://news.example/2025/06/05/mill/"
    engine = make_engine(db_url)
    record = extract(page, url)
    with Session(engine) as s, s.begin():
        record_fetch(s, Fetch(url=url, status=200, html=page, record=record, fetched_at=T0, site="example"))
    engine.dispose()
    result = run(db_url, "reextract")
    assert "0 article(s) got a new version" in result.output
    # an older extractor had stored a worse text: re-extraction fixes it with a new version
    engine = make_engine(db_url)
    with Session(engine) as s, s.begin():
        bad = ArticleRecord(url=url, title="Mill closes", text="The old paper mill on the river closed.", extractor_version="old")
        record_fetch(s, Fetch(url=url, status=200, html=page, record=bad, fetched_at=T0 + timedelta(hours=1)),
                     min_body_share=0.0)
    engine.dispose()
    result = run(db_url, "reextract")
    assert f"{url}: version 2 -> 3" in result.output and "1 article(s) got a new version" in result.output
    assert "0 article(s)" in run(db_url, "reextract").output
