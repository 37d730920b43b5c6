#!/usr/bin/env python3
"""The bundled demo news site, *The Alder Gazette*: eight articles, a front page, an RSS feed, a news sitemap
and robots.txt, served from 127.0.0.1 with ETag / Last-Modified and conditional GETs (304).

The lead article can be edited while the server runs, which is how ``scripts/demo.sh`` shows the archive
catching an edit:

    python scripts/demo_site.py serve [--port 8765] [--edition N]   # serve until Ctrl-C
    python scripts/demo_site.py edit  [--port 8765]                  # the lead article's next edition
    python scripts/demo_site.py url   [--port 8765] [--lead]         # the site's (or the lead article's) URL

Edition 0 is the original text; each ``edit`` moves to the next edition (a new headline, changed sentences,
a correction, a second author...), so every edit gives the archive a new version. ``GET /_demo/state`` shows the edition,
``POST /_demo/edit`` and ``POST /_demo/reset`` change it. The port defaults to ``$DEMO_PORT`` or 8765; the
host name in the site's URLs to ``$DEMO_HOST`` or ``localhost`` (the name ``seeds/demo.toml`` trusts).
Standard library only, so it runs before the project is installed.
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import html
import http.server
import json
import logging
import os
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

log = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parent / "demo_site" / "articles.toml"
DEFAULT_PORT = 8765
EDIT_INTERVAL = timedelta(hours=1, minutes=17)  # edition N is dated N times this after publication


@dataclass(frozen=True)
class Article:
    slug: str
    section: str
    date: datetime
    author: str
    headline: str
    standfirst: str
    paragraphs: tuple[str, ...]
    modified: datetime | None = None

    @property
    def path(self) -> str:
        return f"/news/{self.date:%Y/%m/%d}/{self.slug}/"

    @property
    def updated(self) -> datetime:
        return self.modified or self.date


@dataclass
class Site:
    name: str
    tagline: str
    lead: str
    articles: list[Article]
    edits: list[dict] = field(default_factory=list)

    def edition(self, number: int) -> list[Article]:
        """The articles as they read at ``number``: 0 as published; N after the lead article's first N edits
        (past the last edit, each edition appends a numbered update line, so consecutive editions differ)."""
        if number <= 0:
            return list(self.articles)
        out = []
        for article in self.articles:
            if article.slug == self.lead:
                for edit in self.edits[:number]:
                    article = apply_edit(article, edit)
                extra = number - len(self.edits)
                if extra > 0:
                    article = apply_edit(article, {
                        "append": f"Update {extra}: the demo site changed this article again (edition {number})."})
                article = replace(article, modified=article.date + number * EDIT_INTERVAL)
            out.append(article)
        return out


def apply_edit(article: Article, edit: dict) -> Article:
    def swap(text: str) -> str:
        for old, new in edit.get("replace", []):
            text = text.replace(old, new)
        return text

    paragraphs = [swap(p) for p in article.paragraphs]
    if edit.get("append"):
        paragraphs.append(edit["append"])
    return replace(
        article,
        headline=edit.get("headline", article.headline),
        author=edit.get("author", article.author),
        standfirst=swap(article.standfirst),
        paragraphs=tuple(paragraphs),
    )


def load_site(path: Path = DATA) -> Site:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    articles = [
        Article(
            slug=a["slug"], section=a["section"], date=datetime.fromisoformat(a["date"]), author=a["author"],
            headline=a["headline"], standfirst=a["standfirst"], paragraphs=tuple(a["paragraphs"]),
        )
        for a in data["articles"]
    ]
    articles.sort(key=lambda a: a.date, reverse=True)
    return Site(data["site_name"], data["tagline"], data["lead"], articles, list(data.get("edits", [])))


# --- pages ---------------------------------------------------------------------------------------------------
e = html.escape


def _human(when: datetime) -> str:
    return f"{when:%-d %B %Y, %H:%M} UTC"


def article_page(site: Site, article: Article, base: str, others: list[Article]) -> str:
    url = base + article.path
    ld = {
        "@context": "https://schema.org", "@type": "NewsArticle", "headline": article.headline,
        "description": article.standfirst, "url": url, "mainEntityOfPage": url,
        "datePublished": article.date.isoformat(), "dateModified": article.updated.isoformat(),
        "author": [{"@type": "Person", "name": n} for n in article.author.split(" and ")],
        "articleSection": article.section, "inLanguage": "en-GB",
        "publisher": {"@type": "NewsMediaOrganization", "name": site.name, "url": base + "/"},
        "isAccessibleForFree": True,
    }
    body = "\n".join(f"      <p>{e(p)}</p>" for p in article.paragraphs)
    related = "\n".join(f'        <li><a href="{o.path}">{e(o.headline)}</a></li>' for o in others[:3])
    updated = (
        f' &middot; Updated <time datetime="{article.updated.isoformat()}">{_human(article.updated)}</time>'
        if article.modified else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <title>{e(article.headline)} | {e(site.name)}</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="canonical" href="{url}">
  <meta name="description" content="{e(article.standfirst)}">
  <meta name="author" content="{e(article.author)}">
  <meta property="og:type" content="article">
  <meta property="og:site_name" content="{e(site.name)}">
  <meta property="og:title" content="{e(article.headline)}">
  <meta property="og:description" content="{e(article.standfirst)}">
  <meta property="og:url" content="{url}">
  <meta property="article:published_time" content="{article.date.isoformat()}">
  <meta property="article:modified_time" content="{article.updated.isoformat()}">
  <meta property="article:section" content="{e(article.section)}">
  <link rel="alternate" type="application/rss+xml" title="{e(site.name)}" href="/feed.xml">
  <script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>
</head>
<body>
  <header class="masthead"><a class="logo" href="/">{e(site.name)}</a> <span class="tagline">{e(site.tagline)}</span></header>
  <main>
    <article class="story">
      <p class="kicker">{e(article.section)}</p>
      <h1>{e(article.headline)}</h1>
      <p class="standfirst">{e(article.standfirst)}</p>
      <p class="byline">By <span class="author">{e(article.author)}</span> &middot;
        <time datetime="{article.date.isoformat()}">{_human(article.date)}</time>{updated}</p>
      <div class="story-body">
{body}
      </div>
    </article>
    <aside class="related">
      <h2>More from the Gazette</h2>
      <ul>
{related}
      </ul>
    </aside>
  </main>
  <footer><p>&copy; {article.date.year} {e(site.name)}. A demo site bundled with the news archiver; every story is fiction.</p></footer>
</body>
</html>
"""


def front_page(site: Site, articles: list[Article]) -> str:
    items = "\n".join(
        f'      <li class="teaser"><span class="kicker">{e(a.section)}</span> '
        f'<a href="{a.path}">{e(a.headline)}</a><p>{e(a.standfirst)}</p></li>'
        for a in articles
    )
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <title>{e(site.name)} - {e(site.tagline)}</title>
  <link rel="alternate" type="application/rss+xml" title="{e(site.name)}" href="/feed.xml">
</head>
<body>
  <header class="masthead"><h1>{e(site.name)}</h1><p>{e(site.tagline)}</p></header>
  <main>
    <h2>Latest news</h2>
    <ul class="latest">
{items}
    </ul>
  </main>
  <footer><p>A demo site bundled with the news archiver. <a href="/feed.xml">RSS</a></p></footer>
</body>
</html>
"""


def rss_feed(site: Site, articles: list[Article], base: str) -> str:
    items = "\n".join(
        f"""    <item>
      <title>{e(a.headline)}</title>
      <link>{base}{a.path}</link>
      <guid isPermaLink="true">{base}{a.path}</guid>
      <description>{e(a.standfirst)}</description>
      <category>{e(a.section)}</category>
      <dc:creator>{e(a.author)}</dc:creator>
      <pubDate>{email.utils.format_datetime(a.date)}</pubDate>
    </item>"""
        for a in articles
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>{e(site.name)}</title>
    <link>{base}/</link>
    <description>{e(site.tagline)}</description>
    <language>en-gb</language>
{items}
  </channel>
</rss>
"""


def news_sitemap(site: Site, articles: list[Article], base: str) -> str:
    urls = "\n".join(
        f"""  <url>
    <loc>{base}{a.path}</loc>
    <lastmod>{a.updated.isoformat()}</lastmod>
    <news:news>
      <news:publication><news:name>{e(site.name)}</news:name><news:language>en</news:language></news:publication>
      <news:publication_date>{a.date.isoformat()}</news:publication_date>
      <news:title>{e(a.headline)}</news:title>
    </news:news>
  </url>"""
        for a in articles
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
{urls}
</urlset>
"""


# --- server ----------------------------------------------------------------------------------------------------
class DemoState:
    """The site's one piece of mutable state: which edition of the lead article it serves."""

    def __init__(self, site: Site, base: str, edition: int = 0):
        self.site = site
        self.base = base
        self.edition = max(0, edition)
        self.lock = threading.Lock()

    def lead(self, articles: list[Article]) -> Article:
        return next(a for a in articles if a.slug == self.site.lead)

    def snapshot(self) -> dict:
        with self.lock:
            articles = self.site.edition(self.edition)
            lead = self.lead(articles)
            return {"edition": self.edition, "lead_url": self.base + lead.path, "lead_headline": lead.headline,
                    "articles": [self.base + a.path for a in articles]}

    def set_edition(self, number: int) -> dict:
        with self.lock:
            before = self.lead(self.site.edition(self.edition)).headline
            self.edition = max(0, number)
        return self.snapshot() | {"previous_headline": before}

    def page(self, path: str) -> tuple[str, str, datetime] | None:
        """(body, content type, last modified) for a path, or ``None``."""
        with self.lock:
            articles = self.site.edition(self.edition)
        newest = max(a.updated for a in articles)
        if path in ("/", "/index.html"):
            return front_page(self.site, articles), "text/html; charset=utf-8", newest
        if path in ("/feed.xml", "/feed/", "/rss.xml"):
            return rss_feed(self.site, articles, self.base), "application/rss+xml; charset=utf-8", newest
        if path == "/sitemap.xml":
            return news_sitemap(self.site, articles, self.base), "application/xml; charset=utf-8", newest
        if path == "/robots.txt":
            return f"User-agent: *\nDisallow: /_demo/\nSitemap: {self.base}/sitemap.xml\n", "text/plain", newest
        for i, article in enumerate(articles):
            if path == article.path:
                others = articles[i + 1:] + articles[:i]
                return article_page(self.site, article, self.base, others), "text/html; charset=utf-8", article.updated
        return None


class DemoHandler(http.server.BaseHTTPRequestHandler):
    server: "DemoServer"
    protocol_version = "HTTP/1.1"
    server_version = "AlderGazette/1.0"

    def log_message(self, fmt: str, *args) -> None:
        log.info("%s %s", self.address_string(), fmt % args)

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: dict) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode(), {"Content-Type": "application/json"})

    def do_GET(self) -> None:
        state = self.server.state
        path = urlsplit(self.path).path
        if path == "/_demo/state":
            return self._json(200, state.snapshot())
        found = state.page(path)
        if found is None:
            body = b"<!DOCTYPE html><html><head><title>Page not found</title></head><body><h1>Page not found</h1></body></html>"
            return self._send(404, body, {"Content-Type": "text/html; charset=utf-8"})
        text, ctype, modified = found
        body = text.encode("utf-8")
        etag = '"%s"' % hashlib.sha256(body).hexdigest()[:20]
        headers = {"Content-Type": ctype, "ETag": etag, "Last-Modified": email.utils.format_datetime(modified, usegmt=True),
                   "Cache-Control": "max-age=60"}
        if self._not_modified(etag, modified):
            return self._send(304, b"", {k: v for k, v in headers.items() if k != "Content-Type"})
        self._send(200, body, headers)

    do_HEAD = do_GET

    def _not_modified(self, etag: str, modified: datetime) -> bool:
        # RFC 9110 13.2.2: If-None-Match decides when present; If-Modified-Since only without it.
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
            return "*" in tags or etag in tags
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                return modified.timestamp() // 1 <= email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                return False
        return False

    def do_POST(self) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if parts.path == "/_demo/edit":
            query = parse_qs(parts.query)
            number = int(query["edition"][0]) if "edition" in query else state.edition + 1
            return self._json(200, state.set_edition(number))
        if parts.path == "/_demo/reset":
            return self._json(200, state.set_edition(0))
        self._json(404, {"error": f"no such action: {parts.path}"})


class DemoServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, host: str, edition: int = 0, site: Site | None = None):
        super().__init__(("127.0.0.1", port), DemoHandler)
        self.port = self.server_address[1]
        self.state = DemoState(site or load_site(), f"http://{host}:{self.port}", edition)


# --- command line ----------------------------------------------------------------------------------------------
def _port(value: str | None) -> int:
    return int(value if value is not None else os.environ.get("DEMO_PORT", DEFAULT_PORT))


def _host() -> str:
    return os.environ.get("DEMO_HOST", "localhost")


def _post(port: int, path: str) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the demo site on 127.0.0.1 until interrupted")
    serve.add_argument("--port", help=f"port (default: $DEMO_PORT or {DEFAULT_PORT}; 0 picks a free one)")
    serve.add_argument("--edition", type=int, default=0, help="start at this edition of the lead article")
    serve.add_argument("--port-file", type=Path, help="write the port here once the server listens")
    serve.add_argument("-v", "--verbose", action="store_true", help="log every request on stderr")
    edit = sub.add_parser("edit", help="move the running site's lead article to its next edition")
    edit.add_argument("--port")
    edit.add_argument("--edition", type=int, help="go to this edition instead of the next one")
    edit.add_argument("--reset", action="store_true", help="back to edition 0 (the text as published)")
    url = sub.add_parser("url", help="print the site's URL (with --lead: the lead article's)")
    url.add_argument("--port")
    url.add_argument("--lead", action="store_true")
    args = parser.parse_args(argv)

    if args.command == "url":
        base = f"http://{_host()}:{_port(args.port)}"
        site = load_site()
        print(base + next(a.path for a in site.articles if a.slug == site.lead) if args.lead else base + "/")
        return 0

    if args.command == "edit":
        path = "/_demo/reset" if args.reset else "/_demo/edit" + (f"?edition={args.edition}" if args.edition is not None else "")
        try:
            result = _post(_port(args.port), path)
        except (urllib.error.URLError, OSError) as exc:
            print(f"demo site not reachable on port {_port(args.port)}: {exc}", file=sys.stderr)
            return 1
        print(f"edition {result['edition']} of {result['lead_url']}")
        print(f"  headline was: {result['previous_headline']}")
        print(f"  headline now: {result['lead_headline']}")
        return 0

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="demo-site: %(message)s")
    try:
        server = DemoServer(_port(args.port), _host(), args.edition)
    except OSError as exc:
        print(f"cannot serve the demo site on 127.0.0.1:{_port(args.port)}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if args.port_file:
        args.port_file.write_text(str(server.port))
    print(f"demo site: {server.state.base}/ (edition {server.state.edition}), Ctrl-C stops it", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
