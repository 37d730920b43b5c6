"""Seed files: a good folder loads into ``Seed`` objects; a bad one is reported whole, every entry with its file
and key."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crawler.seeds import Seed, SeedError, load_seeds, policy_book

GOOD = """
name = "courier"
domains = ["courier.example", "cdn.courier.example"]
feeds = ["https://courier.example/feed/"]
sitemaps = ["https://courier.example/sitemap_index.xml"]
start_urls = ["https://courier.example/"]
allow = ["/20\\\\d\\\\d/\\\\d\\\\d/"]
deny = ["/live-blog/"]
follow_deny = ["/print/"]
[recrawl]
steps = [["12h", "1h"], ["3d", "6h"]]
final_interval = "2d"
max_age = "30d"
"""


def write(folder, name: str, text: str):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def test_good_seed_loads_with_patterns_scope_and_recrawl_overrides(tmp_path):
    write(tmp_path, "courier.toml", GOOD)
    [seed] = load_seeds(tmp_path)
    assert seed.name == "courier" and seed.path.endswith("courier.toml")
    assert seed.owns("https://www.courier.example/x") and seed.owns("https://cdn.courier.example/")
    assert not seed.owns("https://evilcourier.example/")
    assert seed.is_article_url("https://courier.example/2024/03/story/") is True
    assert seed.is_article_url("https://courier.example/2024/03/live-blog/") is False  # deny wins
    assert seed.is_article_url("https://courier.example/about/") is False  # allow given, no match
    assert not seed.may_follow("https://courier.example/print/2024/03/story/")
    assert seed.recrawl.interval(timedelta(hours=1)) == timedelta(hours=1)
    assert seed.recrawl.interval(timedelta(days=1)) == timedelta(hours=6)
    assert seed.recrawl.final_interval == timedelta(days=2) and seed.recrawl.max_age == timedelta(days=30)
    book = policy_book([seed])
    assert book.for_site("courier") is seed.recrawl and book.for_site("other") == book.default


def test_every_bad_entry_is_reported_at_once_with_file_and_key(tmp_path):
    write(tmp_path, "a.toml", GOOD)
    write(tmp_path, "b.toml", GOOD.replace('name = "courier"', 'name = "courier"\ncolour = "red"'))  # dup + unknown
    write(tmp_path, "c.toml", 'name = ""\nfeeds = ["ftp://x.example/feed", 3]\nallow = ["(unclosed"]\n'
                              '[recrawl]\nfinal_interval = "soon"\n')
    write(tmp_path, "d.toml", 'name = "d"\ndomains = ["d.example"]\nstart_urls = ["https://elsewhere.example/"]\n')
    write(tmp_path, "e.toml", 'name = "e"\ndomains = ["e.example"]\n')
    write(tmp_path, "f.toml", "name = [unclosed\n")
    write(tmp_path, "notes.txt", "not a seed")
    with pytest.raises(SeedError) as err:
        load_seeds(tmp_path)
    problems = err.value.problems
    text = "\n".join(problems)

    def has(file: str, *words: str) -> bool:
        return any(p.startswith(str(tmp_path / file)) and all(w in p for w in words) for p in problems)

    assert has("b.toml", "colour", "unknown key")
    assert has("c.toml", "name", "required")
    assert has("c.toml", "domains", "required")
    assert has("c.toml", "feeds[0]", "not an http(s) URL")
    assert has("c.toml", "feeds[1]", "expected a URL string")
    assert has("c.toml", "allow[0]", "bad regular expression")
    assert has("c.toml", "recrawl", "not a duration")
    assert has("d.toml", "start_urls", "outside the site's domains")
    assert has("e.toml", "needs at least one of feeds, sitemaps or start_urls")
    assert has("f.toml", "not valid TOML")
    assert "notes.txt" not in text
    assert str(err.value).startswith("invalid seeds:")


def test_duplicate_site_names_are_reported(tmp_path):
    write(tmp_path, "a.toml", GOOD)
    write(tmp_path, "b.toml", GOOD)
    with pytest.raises(SeedError) as err:
        load_seeds(tmp_path)
    assert any("b.toml: name: 'courier' already used by" in p for p in err.value.problems)


def test_missing_folder_is_an_error_and_an_empty_one_is_no_sites(tmp_path):
    with pytest.raises(SeedError, match="seeds folder not found"):
        load_seeds(tmp_path / "nope")
    assert load_seeds(tmp_path) == []


def test_adhoc_seed_for_a_url_owns_its_host():
    seed = Seed.for_url("https://News.Example.org/2024/x")
    assert seed.name == "news.example.org" and seed.owns("https://news.example.org/y")
    assert seed.is_article_url("https://news.example.org/y") is None
