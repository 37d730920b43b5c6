"""A generated local news site for scale tests and benchmarks: a front page, section pages and N articles
(NewsArticle markup, ~250 words each, linking to their neighbours), plus per-request latency routes for
``tests.sites.FixtureServer`` to model network time."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

from tests.sites import FixtureServer, Handler

WORDS = (
    "council budget harbour election minister river school hospital railway festival weather storm market "
    "farmers museum library court police bridge tunnel energy wind solar housing tenants mayor report survey "
    "students teachers nurses drivers union strike agreement plan vote district village coast mountain "
    "forest science study results research climate water supply prices inflation bank loans shops tourism "
    "season"
).split()


def article_path(i: int) -> str:
    return f"/news/2024/story-{i:04d}.html"


def _paragraphs(rng: random.Random, count: int, words: int) -> list[str]:
    out = []
    for _ in range(count):
        sentences = []
        for _ in range(max(1, words // 12)):
            s = " ".join(rng.choice(WORDS) for _ in range(12))
            sentences.append(s[0].upper() + s[1:] + ".")
        out.append(" ".join(sentences))
    return out


def article_html(i: int, n: int, edit: str = "") -> str:
    rng = random.Random(i)
    title = f"Story {i}: " + " ".join(rng.choice(WORDS) for _ in range(5))
    paragraphs = _paragraphs(rng, 5, 50)
    if edit:
        paragraphs.append(edit)
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": title,
        "datePublished": f"2024-03-{1 + i % 28:02d}T08:00:00Z",
        "author": {"@type": "Person", "name": "A. Writer"},
    }
    neighbours = "".join(
        f'<li><a href="{article_path(j % n)}">Related story {j % n}</a></li>' for j in (i + 1, i + 2)
    )
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<script type="application/ld+json">{json.dumps(ld)}</script></head>
<body><header><a href="/">Home</a></header>
<article><h1>{title}</h1><p class="byline">By A. Writer</p>{body}</article>
<aside><ul>{neighbours}</ul></aside></body></html>"""


def listing_html(title: str, links: list[tuple[str, str]]) -> str:
    items = "".join(f'<li><a href="{href}">{text}</a></li>' for href, text in links)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><ul>{items}</ul></body></html>"""


def build_site(root: Path, articles: int = 300, sections: int = 10) -> list[str]:
    """Write the site under ``root``; returns every page path (front page, sections, articles)."""
    root = Path(root)
    (root / "news" / "2024").mkdir(parents=True, exist_ok=True)
    (root / "section").mkdir(exist_ok=True)
    per_section = -(-articles // sections)
    section_paths = [f"/section/{s}.html" for s in range(sections)]
    (root / "index.html").write_text(
        listing_html("Front page", [(p, f"Section number {s} news") for s, p in enumerate(section_paths)])
    )
    for s, path in enumerate(section_paths):
        ids = range(s * per_section, min(articles, (s + 1) * per_section))
        links = [(article_path(i), f"Read the full story number {i} here") for i in ids]
        (root / path.lstrip("/")).write_text(listing_html(f"Section {s}", links))
    for i in range(articles):
        (root / article_path(i).lstrip("/")).write_text(article_html(i, articles))
    return ["/", *section_paths, *(article_path(i) for i in range(articles))]


def edit_article(root: Path, i: int, articles: int, note: str) -> None:
    """Change one article's body (a new paragraph), so a recrawl sees a new ETag and a new version."""
    path = Path(root) / article_path(i).lstrip("/")
    path.write_text(
        article_html(i, articles, edit=f"Update: {note} and the council confirmed the new figures.")
    )


def add_latency(server: FixtureServer, paths: list[str], seconds: float) -> None:
    """Answer each of ``paths`` after ``seconds``, as a remote site would."""

    def slow(handler: Handler) -> None:
        time.sleep(seconds)
        handler.serve_file(handler.path.split("?", 1)[0])

    for path in paths:
        server.routes[path] = slow
