"""A hostile local news site for reliability tests: a few good articles surrounded by every kind of bad answer a
crawler meets in the wild (binary bodies labelled HTML, a 50 MB page, a gzip bomb, 50,000 nested elements, wrong
and mixed charsets, empty, truncated and stalling bodies, redirect loops, 500s, a soft 404, NUL bytes, invalid
URLs in links, sitemaps and feeds, a malformed feed).

``HostileSite(tmp)`` starts a ``tests.sites.FixtureServer`` on 127.0.0.1 with the routes, writes a ``seeds/``
folder naming it, and knows the stats key each bad page must be counted under (``HOSTILE``). Bodies are made
once per process and streamed, so the test process stays small too.
"""

from __future__ import annotations

import random
import threading
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from tests.bigsite import article_html, article_path, listing_html
from tests.sites import FixtureServer, Handler

SITE_NAME = "hostile"
GOOD = 6  # good articles, linked from the front page next to the bad ones
BIG = 50 * 1024 * 1024  # the oversized page (DOWNLOAD_MAXSIZE is 20 MB)
BOMB = 64 * 1024 * 1024  # decompressed size of the gzip bomb (~64 kB compressed)
DEPTH = 50_000  # nesting of the deep page
HTML = {"Content-Type": "text/html; charset=utf-8"}


CHAIN = 8  # articles in the link chain (depth test)


def chain_path(k: int) -> str:
    return f"/news/2024/chain-{k}.html"


def bad_path(name: str) -> str:
    return f"/news/2024/bad-{name}.html"


@dataclass(frozen=True)
class Hostile:
    """A bad page, and how the crawl must account for it: a stats key (or several, any of which will do)."""

    name: str
    counted_as: tuple[str, ...]
    archived: bool = False  # a damaged but readable article: archived, not refused

    @property
    def path(self) -> str:
        return bad_path(self.name)


# What the crawl must do with each bad page. ``counted_as`` keys are stats keys of the crawl (log dump /
# crawl_runs.stats); any one of them present and > 0 satisfies the test.
HOSTILE = (
    Hostile("binary", ("archive/skipped/no_text", "archive/skipped/not_article/listing", "archive/errors/extraction",
                       "archive/skipped/not_html")),
    Hostile("huge", ("archive/errors/DownloadCancelledError", "archive/refused/too_big")),
    Hostile("huge-stream", ("archive/errors/DownloadCancelledError", "archive/refused/too_big")),
    Hostile("gzip-bomb", ("archive/refused/too_big",)),
    Hostile("slow", ("archive/errors/extract_timeout", "archive/errors/extraction")),  # > ARCHIVE_EXTRACT_TIMEOUT
    Hostile("deep", ("archive/skipped/no_text", "archive/errors/extraction", "archive/skipped/not_article/listing"),
            archived=False),
    Hostile("wrong-charset", (), archived=True),
    Hostile("mixed-encoding", (), archived=True),
    Hostile("nul-byte", (), archived=True),
    Hostile("empty", ("archive/skipped/empty_body",)),
    Hostile("truncated", ("archive/errors/ResponseDataLossError", "archive/errors/ResponseFailed")),
    Hostile("stall", ("archive/errors/DownloadTimeoutError", "archive/errors/TimeoutError")),
    # a loop a -> b -> a ends at the duplicate filter (the second "a" is a seen URL)
    Hostile("loop", ("archive/refused/redirect_loop", "dupefilter/filtered")),
    Hostile("chain", ("archive/refused/too_many_redirects",)),
    Hostile("error", ("archive/errors/HttpError",)),
    Hostile("soft404", ("archive/skipped/not_article/soft404",)),
)


def _paragraphs(seed: int, n: int = 6) -> list[str]:
    rng = random.Random(seed)
    words = "council harbour budget river school festival bridge report vote market tenants energy".split()
    return [" ".join(rng.choice(words) for _ in range(60)).capitalize() + "." for _ in range(n)]


def _article(title: str, paragraphs: list[str], charset: str = "utf-8") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f'<!doctype html><html lang="en"><head><meta charset="{charset}"><title>{title}</title></head>'
            f"<body><article><h1>{title}</h1>{body}</article></body></html>")


@lru_cache(maxsize=1)
def gzip_bomb() -> bytes:
    """``BOMB`` bytes of HTML-ish zeros, gzip-compressed to a few hundred kB."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip container
    head = b"<!doctype html><html><head><title>Bomb</title></head><body><p>"
    chunk = b"\0" * (1 << 20)
    parts = [comp.compress(head)]
    for _ in range(BOMB // len(chunk)):
        parts.append(comp.compress(chunk))
    parts.append(comp.flush())
    return b"".join(parts)


@lru_cache(maxsize=1)
def deep_page() -> bytes:
    text = " ".join(_paragraphs(7, 3))
    return (b"<!doctype html><html><head><title>Deep</title></head><body>" + b"<div>" * DEPTH
            + f"<p>{text}</p>".encode() + b"</div>" * DEPTH + b"</body></html>")


def _stream(handler: Handler, total: int, declared: bool) -> None:
    """Send ``total`` bytes of article-like HTML in 1 MB chunks, with or without a Content-Length."""
    headers = dict(HTML)
    if declared:
        headers["Content-Length"] = str(total)
    else:
        headers["Connection"] = "close"
        handler.close_connection = True
    handler.send_response(200)
    for k, v in headers.items():
        handler.send_header(k, v)
    handler.end_headers()
    handler.server.owner.log[-1].status = 200
    chunk = (b"<p>" + b"filler text of an enormous page " * 32_000 + b"</p>\n")[: 1 << 20]
    sent = 0
    try:
        handler.wfile.write(b"<!doctype html><html><head><title>Huge</title></head><body>")
        while sent < total:
            handler.wfile.write(chunk)
            sent += len(chunk)
    except OSError:
        pass  # the crawler hung up, as it should
    handler.close_connection = True


def _feed(urls: list[str]) -> str:
    items = "".join(f"<item><title>Entry {i}</title><link>{escape(u)}</link></item>" for i, u in enumerate(urls))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Hostile</title>{items}</channel></rss>'


def _sitemap(urls: list[str]) -> str:
    entries = "".join(f"<url><loc>{escape(u)}</loc><lastmod>not a date</lastmod></url>" for u in urls)
    return ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{entries}</urlset>")


class HostileSite:
    """The hostile site on a local server, with its seeds folder. Use as a context manager."""

    def __init__(self, tmp: Path, good: int = GOOD):
        self.root = tmp / "hostile"
        self.root.mkdir(parents=True)
        self.release = threading.Event()  # frees stalled handlers at the end
        self.server = FixtureServer(self.root, routes={})
        self.base = self.server.base
        self.good = [article_path(i) for i in range(good)]
        for i in range(good):
            path = self.root / article_path(i).lstrip("/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(article_html(i, good))
        self.other = FixtureServer(tmp / "other-site")  # a second site nobody seeded: must see no request
        self.invalid_links = [
            "http://[::1", "http://exa mple.org/x", "http://999.999.999.999/x", "https://", "http://%zz/",
            "http:///nohost", "//", "http://a" + "b" * 5000 + ".example/", "mailto:desk@example.org",
            "javascript:alert(1)", "ftp://127.0.0.1/file", "data:text/html,<p>x</p>", "tel:+441234",
            "file:///etc/passwd", "\x00http://nul/", f"http://localhost:{self.other.port}/news/2024/offsite.html",
            f"{self.base}:99999/x".replace(f":{self.server.port}:", ":"),  # a port out of range, on the site
        ]
        # an article listed only after the invalid links (in a section page, a feed and a sitemap): one bad
        # link must not cost the crawl the links that follow it
        self.after_bad = article_path(good)
        path = self.root / self.after_bad.lstrip("/")
        path.write_text(article_html(good, good))
        broken = [(u, f"Broken link number {i}") for i, u in enumerate(self.invalid_links)]
        (self.root / "section").mkdir()
        (self.root / "section" / "broken.html").write_text(
            listing_html("Broken links", [*broken, (self.after_bad, "The story after the broken links")]))
        links = [(p, f"Read the full story {p}") for p in self.good]
        links += [(h.path, f"Read the strange story {h.name}") for h in HOSTILE]
        links += [(chain_path(1), "The first story of the chain"), ("/section/broken.html", "Section of broken links"),
                  *broken]
        # a chain of articles, each linking to the next: ARCHIVE_SITE_DEPTH must stop the crawl along it
        for k in range(1, CHAIN + 1):
            html = article_html(100 + k, 200).replace("</article>", f'<a href="{chain_path(k + 1)}">Next in chain</a></article>')
            (self.root / chain_path(k).lstrip("/")).write_text(html)
        (self.root / "index.html").write_text(listing_html("Hostile front page", links))
        self._routes()
        self.seeds = tmp / "hostile-seeds"
        self.seeds.mkdir()
        (self.seeds / "hostile.toml").write_text(
            f'name = "{SITE_NAME}"\ndomains = ["127.0.0.1"]\nstart_urls = ["{self.base}/"]\n'
            f'feeds = ["{self.base}/feed.xml", "{self.base}/broken-feed.xml", "{self.base}/bad-feed.xml", '
            f'"{self.base}/binary-feed.xml"]\n'
            f'sitemaps = ["{self.base}/sitemap.xml", "{self.base}/broken-sitemap.xml", "{self.base}/bad-sitemap.xml"]\n')

    # --- routes ---------------------------------------------------------------------------------------------
    def _routes(self) -> None:
        r = self.server.routes
        rng = random.Random(1)
        binary = rng.randbytes(300_000)
        r[bad_path("binary")] = lambda h: h.send(200, binary, HTML)
        r[bad_path("huge")] = lambda h: _stream(h, BIG, declared=True)
        r[bad_path("huge-stream")] = lambda h: _stream(h, BIG, declared=False)
        bomb = gzip_bomb()
        r[bad_path("gzip-bomb")] = lambda h: h.send(200, bomb, HTML | {"Content-Encoding": "gzip"})
        slow = _article("Slow story", _paragraphs(16, 12_000)).encode()  # ~5 MB of prose: seconds to extract
        r[bad_path("slow")] = lambda h: h.send(200, slow, HTML)
        deep = deep_page()
        r[bad_path("deep")] = lambda h: h.send(200, deep, HTML)
        paras = _paragraphs(11)
        paras[1] += " Café crème, naïve façade, Zürich and São Paulo."
        # declares UTF-8 (header and meta) but is windows-1252
        wrong = _article("Wrong charset story", paras).encode("cp1252")
        r[bad_path("wrong-charset")] = lambda h: h.send(200, wrong, HTML)
        mixed = (_article("Mixed encoding story", _paragraphs(12)).replace("</article>", "<p>ZZZ</p></article>")
                 .encode("utf-8").replace(b"ZZZ", "Utf-8 café ".encode() + "and cp1252 café".encode("cp1252")))
        r[bad_path("mixed-encoding")] = lambda h: h.send(200, mixed, HTML)
        nul = _article("Nul byte story", _paragraphs(13)).replace("council", "coun\0cil", 3).encode()
        r[bad_path("nul-byte")] = lambda h: h.send(200, nul, HTML)
        r[bad_path("empty")] = lambda h: h.send(200, b"", HTML)
        r[bad_path("truncated")] = self._truncated
        r[bad_path("stall")] = self._stall
        r[bad_path("loop")] = lambda h: h.send(302, b"", {"Location": "/news/2024/bad-loop-2.html"})
        r["/news/2024/bad-loop-2.html"] = lambda h: h.send(302, b"", {"Location": bad_path("loop")})
        r[bad_path("chain")] = self._chain
        r[bad_path("error")] = lambda h: h.send(500, b"<html><body>Internal error</body></html>", HTML)
        soft = ('<!doctype html><html><head><title>Page not found</title></head><body><h1>Page not found</h1>'
                '<p>Sorry, the page you were looking for does not exist.</p></body></html>').encode()
        r[bad_path("soft404")] = lambda h: h.send(200, soft, HTML)
        rss, xml = {"Content-Type": "application/rss+xml"}, {"Content-Type": "application/xml"}
        good = [self.base + p for p in self.good] + [self.base + bad_path("nul-byte"), self.base + bad_path("empty")]
        invalid = [u for u in self.invalid_links if "\0" not in u]  # XML cannot carry NUL at all
        broken = [*invalid, self.base + self.after_bad]
        r["/feed.xml"] = lambda h: h.send(200, _feed(good).encode(), rss)
        r["/broken-feed.xml"] = lambda h: h.send(200, _feed(broken).encode(), rss)
        r["/sitemap.xml"] = lambda h: h.send(200, _sitemap(good).encode(), xml)
        r["/broken-sitemap.xml"] = lambda h: h.send(200, _sitemap(broken).encode(), xml)
        r["/bad-feed.xml"] = lambda h: h.send(200, b"<rss><channel><item><title>x</ti", {"Content-Type": "application/rss+xml"})
        r["/binary-feed.xml"] = lambda h: h.send(200, binary[:5000], {"Content-Type": "application/rss+xml"})
        r["/bad-sitemap.xml"] = lambda h: h.send(200, b"<?xml version='1.0'?><urlset><url><loc>http://",
                                                 {"Content-Type": "application/xml"})

    def _chain(self, h: Handler) -> None:
        """An endless chain of redirects, each to a new URL (so no duplicate filter can catch it)."""
        n = int(h.path.rsplit("=", 1)[1]) if "?n=" in h.path else 0
        h.send(302, b"", {"Location": f"{bad_path('chain')}?n={n + 1}"})

    def _truncated(self, h: Handler) -> None:
        body = _article("Truncated story", _paragraphs(14)).encode()
        h.send_response(200)
        h.send_header("Content-Type", HTML["Content-Type"])
        h.send_header("Content-Length", str(len(body) + 10_000))
        h.end_headers()
        h.server.owner.log[-1].status = 200
        h.wfile.write(body)
        h.wfile.flush()
        h.close_connection = True  # then hang up: the body is 10,000 bytes short

    def _stall(self, h: Handler) -> None:
        body = _article("Stalled story", _paragraphs(15)).encode()
        h.send_response(200)
        h.send_header("Content-Type", HTML["Content-Type"])
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.server.owner.log[-1].status = 200
        h.wfile.write(body[:500])
        h.wfile.flush()
        self.release.wait(60)  # the rest never comes (until the test ends)
        h.close_connection = True

    # --- lifecycle ------------------------------------------------------------------------------------------
    def requests_to_other(self) -> list[str]:
        return self.other.paths()

    def __enter__(self) -> HostileSite:
        self.server.__enter__()
        self.other.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.__exit__(None, None, None)
        self.other.__exit__(None, None, None)
