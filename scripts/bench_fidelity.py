"""Measure "a version is a real edit": crawl benchmark pages three times and count versions.

1. as published, with an inline promo paragraph ("Also read: ...") added inside the article;
2. with only live-page noise changed: a cookie banner, a different "Trending now" box, a new footer timestamp,
   a different promo headline. Every new version here is *spurious*;
3. with one sentence of the article edited (a sentence of the truth body, one word changed in the HTML). A new
   version here is a *caught* edit.

Each page gets its own URL path and loses its canonical / og:url / amphtml links, so each is its own article.
Crawls are real ``scrapy crawl`` runs (``site`` then ``recrawl -a all=true`` twice) against a local server, into
a throwaway SQLite archive. The anchor shown alongside hashes trafilatura's raw output (``bare_extraction`` text)
of the same three variants.

    python scripts/bench_fidelity.py [--bench ../shared/bench/aeb] [--limit N] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import lxml.html
from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.sites import FixtureServer  # noqa: E402  (the tests' local server: ETag, Last-Modified, 127.0.0.1)

log = logging.getLogger(__name__)

PROMOS = ("Ten things we learned from the council budget", "Why the harbour bridge closed again this week")
TRENDING = (
    ("Storm warning for the coast tonight", "Local team wins cup final", "Prices rise again at the pumps",
     "New cafe opens on the quay", "Schools to close early on Friday"),
    ("Train strike called off at the last minute", "Missing dog found after three days",
     "Mayor answers readers' questions", "Festival line-up announced", "Road works end a month early"),
)
STAMPS = ("Page generated 2024-05-01 10:00:01 UTC · Edition 41127", "Page generated 2024-05-01 10:37:55 UTC · Edition 41140")
COOKIE_BANNER = (
    '<div id="cookie-notice" class="cookie-banner" role="dialog"><p>We use cookies to give you the best experience '
    "on our website. By continuing to browse you agree to our use of cookies and our privacy policy.</p>"
    '<button class="accept">Accept all</button> <button>Manage settings</button></div>'
)
REPLACEMENTS = ("remarkable", "quarterly", "northern", "sudden", "modest")
_WORD = re.compile(r"[A-Za-z]{5,}")
_SENTENCES = re.compile(r"(?<=[.!?])\s+(?=[A-Z“\"'])")
_SKIP = {"script", "style", "noscript", "template", "title", "head"}


def norm(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Page:
    id: str
    variants: list[bytes] = field(default_factory=list)  # published, noise, edited
    promo: bool = False
    edit: str | None = None  # "old -> new" when the edit could be applied


def _truth_paragraphs(truth: dict) -> list[str]:
    return [norm(p) for p in truth.get("articleBody", "").split("\n") if norm(p)]


def _article_paragraph(doc, paragraphs: list[str]):
    """The first <p> whose text is a (long enough) part of the truth body."""
    body = " ".join(paragraphs)
    for p in doc.iter("p"):
        text = norm(p.text_content())
        if len(text) >= 60 and text in body:
            return p
    return None


def _text_slots(doc):
    """(element, "text" | "tail") for every visible text node of the body."""
    body = doc.find("body")
    for el in (body.iter() if body is not None else ()):
        if not isinstance(el.tag, str) or el.tag in _SKIP or any(a.tag in _SKIP for a in el.iterancestors()):
            continue
        if el.text and el.text.strip():
            yield el, "text"
        if el.tail and el.tail.strip() and el is not body:
            yield el, "tail"


def _edit_sentence(doc, paragraphs: list[str]) -> str | None:
    """Change one word of one truth sentence where it sits in a single text node; "old -> new" or None."""
    sentences = [s for p in paragraphs for s in _SENTENCES.split(p) if len(s.split()) >= 8]
    middle = len(sentences) // 2
    ordered = sentences[middle:] + sentences[:middle][::-1]
    slots = list(_text_slots(doc))
    for sentence in ordered:
        pattern = re.compile(r"\s+".join(re.escape(w) for w in sentence.split()))
        for el, attr in slots:
            value = getattr(el, attr)
            m = pattern.search(value)
            if not m:
                continue
            words = list(_WORD.finditer(m.group(0)))
            if not words:
                break
            w = words[len(words) // 2]
            new = next(r for r in REPLACEMENTS if r.lower() != w.group(0).lower())
            start = m.start() + w.start()
            setattr(el, attr, value[:start] + new + value[start + len(w.group(0)):])
            return f"{w.group(0)} -> {new}"
    return None


def _insert_promo(anchor, headline: str) -> None:
    promo = lxml.html.fragment_fromstring(
        f'<p class="inline-promo"><strong>Also read: <a href="/promo/">{headline}</a></strong></p>')
    anchor.addnext(promo)


def _trending(items: tuple[str, ...]):
    links = "".join(f'<li><a href="/trending/{i}/">{t}</a></li>' for i, t in enumerate(items))
    return lxml.html.fragment_fromstring(f'<aside class="trending"><h3>Trending now</h3><ul>{links}</ul></aside>')


def make_variants(page_id: str, html: bytes, truth: dict) -> Page:
    """The three variants of one benchmark page (see the module docstring)."""
    page = Page(page_id)
    paragraphs = _truth_paragraphs(truth)
    out = []
    for phase in range(3):
        doc = lxml.html.document_fromstring(html, parser=lxml.html.HTMLParser(encoding="utf-8"))
        for el in doc.xpath("//link[@rel='canonical' or @rel='amphtml'] | //meta[@property='og:url'] | //base"):
            el.getparent().remove(el)
        noise = min(phase, 1)
        anchor = _article_paragraph(doc, paragraphs)
        if anchor is not None:
            container = anchor.getparent()
            _insert_promo(anchor, PROMOS[noise])
            page.promo = True
            (container if container is not None and container.getparent() is not None else anchor).addnext(
                _trending(TRENDING[noise]))
        body = doc.find("body")
        if body is None:
            body = etree.SubElement(doc, "body")
        stamp = lxml.html.fragment_fromstring(f'<footer class="site-stamp"><p>{STAMPS[noise]}</p></footer>')
        body.append(stamp)
        if noise:
            body.insert(0, lxml.html.fragment_fromstring(COOKIE_BANNER))
        if phase == 2:
            page.edit = _edit_sentence(doc, paragraphs)
        out.append(lxml.html.tostring(doc, encoding="utf-8", doctype="<!DOCTYPE html>"))
    page.variants = out
    return page


def _raw_hash(args: tuple[bytes, str]) -> str:
    import trafilatura

    html, url = args
    doc = trafilatura.bare_extraction(html.decode("utf-8"), url=url)
    return hashlib.sha256(((doc.text or "") if doc is not None else "").encode()).hexdigest()


def _crawl(spider: str, args: list[str], db_url: str, extra: dict[str, str]) -> float:
    settings = {"AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0", "ROBOTSTXT_OBEY": "False",
                "LOG_LEVEL": "WARNING", "CONCURRENT_REQUESTS_PER_DOMAIN": "16", **extra}
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider]
    for a in args:
        cmd += ["-a", a]
    for k, v in settings.items():
        cmd += ["-s", f"{k}={v}"]
    env = {**os.environ, "ARCHIVE_DATABASE_URL": db_url, "ARCHIVE_SEEDS_DIR": str(ROOT / "tests/fixtures/no-seeds")}
    started = time.monotonic()
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"scrapy crawl {spider} failed:\n{result.stderr[-3000:]}")
    return time.monotonic() - started


def _captures_by_run(db_url: str) -> dict[int, dict[str, str]]:
    """run index (0, 1, 2) -> page id -> capture kind."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from archive.db import make_engine
    from archive.models import Article, Capture, CrawlRun

    engine = make_engine(db_url)
    with Session(engine) as session:
        run_ids = list(session.scalars(select(CrawlRun.id).order_by(CrawlRun.id)))
        rows = session.execute(select(Capture.run_id, Article.url, Capture.kind, Capture.reason)
                               .join(Article, Article.id == Capture.article_id)).all()
    engine.dispose()
    out: dict[int, dict[str, str]] = {i: {} for i in range(len(run_ids))}
    for run_id, url, kind, reason in rows:
        page_id = url.rstrip("/").rsplit("/", 1)[-1]
        out[run_ids.index(run_id)][page_id] = kind if kind != "degraded" else f"degraded/{reason}"
    return out


def run(bench: Path, limit: int | None, workers: int) -> dict:
    ids = sorted(p.stem for p in (bench / "html").glob("*.html"))[:limit]
    pages = []
    for page_id in ids:
        truth = json.loads((bench / "truth" / f"{page_id}.json").read_text(encoding="utf-8"))
        pages.append(make_variants(page_id, (bench / "html" / f"{page_id}.html").read_bytes(), truth))
    with tempfile.TemporaryDirectory(prefix="bench-fidelity-") as tmp:
        site = Path(tmp) / "site"
        db_url = f"sqlite:///{tmp}/archive.sqlite3"
        with FixtureServer(site) as server:
            urls = {p.id: server.url(f"/a/{p.id}/") for p in pages}
            with ProcessPoolExecutor(max_workers=workers) as pool:
                anchor = [list(pool.map(_raw_hash, [(p.variants[k], urls[p.id]) for p in pages], chunksize=4))
                          for k in range(3)]
            timings = []
            for phase in range(3):
                stamp = time.time() + 100 * (phase + 1)  # a new Last-Modified for every changed file
                for p in pages:
                    target = site / "a" / p.id / "index.html"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    if not target.exists() or target.read_bytes() != p.variants[phase]:
                        target.write_bytes(p.variants[phase])
                        os.utime(target, (stamp, stamp))
                extra = {"ARCHIVE_EXTRACT_WORKERS": str(workers)}
                if phase == 0:
                    timings.append(_crawl("site", ["start_url=" + ",".join(urls.values())], db_url,
                                          {**extra, "ARCHIVE_SITE_DEPTH": "0"}))
                else:
                    timings.append(_crawl("recrawl", ["all=true"], db_url, extra))
        by_run = _captures_by_run(db_url)
    archived = [p for p in pages if p.id in by_run.get(0, {})]
    edited = [p for p in archived if p.edit]
    index = {p.id: i for i, p in enumerate(pages)}
    spurious = [p.id for p in archived if by_run[1].get(p.id) == "new_version"]
    caught = [p.id for p in edited if by_run[2].get(p.id) == "new_version"]
    missed = {p.id: by_run[2].get(p.id) for p in edited if p.id not in caught}
    a_spurious = [p.id for p in archived if anchor[0][index[p.id]] != anchor[1][index[p.id]]]
    a_caught = [p.id for p in edited if anchor[1][index[p.id]] != anchor[2][index[p.id]]]
    return {
        "pages": len(pages),
        "archived": len(archived),
        "not_archived": sorted(p.id[:12] for p in pages if p not in archived),
        "with_promo": sum(p.promo for p in archived),
        "edits_applied": len(edited),
        "archive": {"spurious_versions": len(spurious), "caught_edits": len(caught),
                    "caught_share": round(len(caught) / len(edited), 4) if edited else None},
        "trafilatura_raw_hash": {"spurious_versions": len(a_spurious), "caught_edits": len(a_caught),
                                 "caught_share": round(len(a_caught) / len(edited), 4) if edited else None},
        "noise_recrawl_kinds": dict(Counter(by_run[1].get(p.id, "none") for p in archived)),
        "edit_recrawl_kinds": dict(Counter(by_run[2].get(p.id, "none") for p in edited)),
        "spurious": sorted(s[:12] for s in spurious),
        "missed": {k[:12]: v for k, v in sorted(missed.items())},
        "crawl_seconds": [round(t, 1) for t in timings],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "bench" / "aeb",
                        help="benchmark folder with html/ and truth/ (default: ../shared/bench/aeb)")
    parser.add_argument("--limit", type=int, help="only the first N pages (by id)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="extraction processes")
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    args = parser.parse_args(argv)
    if not (args.bench / "html").is_dir():
        print(f"bench_fidelity: no html/ folder in {args.bench}", file=sys.stderr)
        return 2
    report = run(args.bench, args.limit, args.workers)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    n = report["edits_applied"]
    print(f"pages {report['pages']}, archived {report['archived']} (promo added in {report['with_promo']}), "
          f"edits applied {n}")
    print(f"{'':24}{'spurious versions':>20}{'caught edits':>16}")
    for label, key in (("archive", "archive"), ("trafilatura raw hash", "trafilatura_raw_hash")):
        r = report[key]
        share = f"{r['caught_edits']}/{n} ({100 * (r['caught_share'] or 0):.1f}%)"
        print(f"{label:24}{r['spurious_versions']:>20}{share:>16}")
    print(f"noise recrawl captures: {report['noise_recrawl_kinds']}")
    print(f"edit recrawl captures:  {report['edit_recrawl_kinds']}")
    if report["spurious"]:
        print(f"spurious: {', '.join(report['spurious'])}")
    if report["missed"]:
        print("missed: " + ", ".join(f"{k} ({v})" for k, v in report["missed"].items()))
    if report["not_archived"]:
        print(f"not archived (not an article to the crawler): {', '.join(report['not_archived'])}")
    print(f"crawl seconds: {report['crawl_seconds']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
