"""A fixture news site written into a folder: a WordPress-like paper with sections, 24 articles, feeds,
sitemaps and robots.txt, plus the seeds/ file that points the crawler at it.

``build_site(root, base)`` writes everything; ``article_path(n)`` and ``edit_*`` helpers change pages between
crawls. Text is generated from a fixed seed, so every article is distinct and every run identical.
"""

from __future__ import annotations

import gzip
import html
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path

SITE_NAME = "courier"
ARTICLES = 24
SECTIONS = ("news", "business", "sport")

_PEOPLE = ["Mara Lindqvist", "Tomas Okafor", "Priya Raman", "Hugo Verhoeven", "Lena Kowalczyk", "Sam Whitaker"]
_PLACES = ["the north quay", "Eastgate", "the old mill district", "Harbour Road", "the county hall", "Westfield",
           "the railway yard", "Kingsmere", "the market square", "Saltmarsh Lane", "the university campus"]
_GROUPS = ["the county council", "local traders", "the harbour board", "residents", "the fire service",
           "the rail operator", "the school governors", "the water company", "union members", "the police"]
_VERBS = ["approved", "rejected", "delayed", "announced", "questioned", "welcomed", "opposed", "funded",
          "reviewed", "postponed", "backed", "criticised"]
_THINGS = ["a new cycle path", "the bus timetable", "repairs to the sea wall", "a housing scheme",
           "the library budget", "a late-night licence", "the flood barrier", "plans for a bigger car park",
           "the summer festival", "a wind farm survey", "the ferry contract", "a school extension"]
_TAILS = ["after a meeting that ran late into the evening", "despite warnings about the cost",
          "following months of complaints", "in a vote that surprised observers", "ahead of the winter season",
          "after an independent report was published", "with support from a national grant",
          "amid concerns about traffic", "before the consultation closed", "once the auditors had signed off"]


@dataclass(frozen=True)
class Article:
    n: int
    section: str
    slug: str
    title: str
    author: str
    published: str  # ISO 8601
    paragraphs: tuple[str, ...]

    @property
    def path(self) -> str:
        day = 1 + self.n % 27
        return f"/2024/03/{day:02d}/{self.slug}/"


def _sentence(rng: random.Random, n: int) -> str:
    amount = rng.randint(2, 95)
    return (f"{rng.choice(_GROUPS).capitalize()} in {rng.choice(_PLACES)} {rng.choice(_VERBS)} "
            f"{rng.choice(_THINGS)} {rng.choice(_TAILS)}, a decision worth {amount} thousand pounds "
            f"according to figures seen for report {n}-{rng.randint(100, 999)}.")


def make_articles(count: int = ARTICLES) -> list[Article]:
    rng = random.Random(20240301)
    out = []
    for n in range(1, count + 1):
        thing = rng.choice(_THINGS)
        place = rng.choice(_PLACES).replace("the ", "")
        title = f"{thing[0].upper()}{thing[1:]} in {place}: story {n} of the week"
        paragraphs = tuple(" ".join(_sentence(rng, n) for _ in range(3)) for _ in range(6))
        out.append(Article(
            n=n, section=SECTIONS[n % len(SECTIONS)], slug=f"story-{n:02d}-{thing.split()[-1]}",
            title=title, author=_PEOPLE[n % len(_PEOPLE)],
            published=f"2024-03-{1 + n % 27:02d}T{6 + n % 12:02d}:15:00+00:00", paragraphs=paragraphs,
        ))
    return out


def article_html(a: Article, base: str, *, comments: int = 2, closed: bool = False, extra_footer: str = "",
                 paragraphs: tuple[str, ...] | None = None, canonical: str | None = None) -> str:
    paras = paragraphs if paragraphs is not None else a.paragraphs
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paras[:2])
    body += '\n<p><strong>Also read: <a href="/category/news/">Another story from our newsroom today</a></strong></p>\n'
    body += "\n".join(f"<p>{html.escape(p)}</p>" for p in paras[2:])
    title = html.escape(a.title)
    items = "\n".join(
        f'<li id="comment-{a.n}{i}" class="comment"><article class="comment-body"><div class="comment-author vcard">'
        f'<b class="fn">Reader {i}</b></div><div class="comment-content"><p>Comment number {i} on this.</p></div>'
        f"</article></li>" for i in range(1, comments + 1))
    heading = {0: "", 1: "One thought on"}.get(comments, f"{comments} thoughts on")
    comment_block = ""
    if comments:
        comment_block = (f'<h2 class="comments-title">{heading} “<span>{title}</span>”</h2>'
                         f'<ol class="comment-list">{items}</ol>')
    if closed:
        comment_block += '<p class="no-comments">Comments are closed.</p>'
    else:
        comment_block += ('<div id="respond" class="comment-respond"><h3 class="comment-reply-title">Leave a Reply</h3>'
                          '<form action="/wp-comments-post.php" method="post" id="commentform" class="comment-form">'
                          '<textarea name="comment"></textarea><input type="submit" value="Post Comment"></form></div>')
    link = canonical or base + a.path
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="UTF-8">
<title>{title} – Coastal Courier</title>
<link rel="canonical" href="{link}">
<meta property="og:title" content="{title}">
<meta property="og:type" content="article">
<meta property="article:published_time" content="{a.published}">
<meta name="author" content="{html.escape(a.author)}">
</head>
<body class="post-template-default single single-post">
<header id="masthead"><nav><a href="/">Home</a> <a href="/category/news/">News</a>
<a href="/category/business/">Business</a> <a href="/category/sport/">Sport</a></nav></header>
<main id="main">
<article id="post-{a.n}" class="post type-post status-publish">
<header class="entry-header"><h1 class="entry-title">{title}</h1>
<div class="entry-meta">By <span class="author vcard"><a class="url fn n" href="/author/{a.author.split()[0].lower()}/">{html.escape(a.author)}</a></span>
<time class="entry-date published" datetime="{a.published}">{a.published[:10]}</time></div></header>
<div class="entry-content">
{body}
</div>
<footer class="entry-footer"><a href="/tag/{a.section}/" rel="tag">{a.section}</a></footer>
</article>
<div id="comments" class="comments-area">{comment_block}</div>
</main>
<footer id="colophon"><p>© 2024 Coastal Courier{extra_footer}</p></footer>
</body>
</html>
"""


def _listing(title: str, items: list[Article], extra_links: str = "") -> str:
    teasers = "\n".join(
        f'<article class="teaser"><h2><a href="{a.path}">{html.escape(a.title)}</a></h2>'
        f'<p><a href="{a.path}">Read the full story about {html.escape(a.title.lower())}</a></p></article>'
        for a in items)
    return f"""<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>{title} – Coastal Courier</title>
</head><body class="archive category"><header><nav><a href="/">Home</a> <a href="/category/news/">News</a>
<a href="/category/business/">Business</a> <a href="/category/sport/">Sport</a></nav></header>
<main><h1>{title}</h1>
{teasers}
{extra_links}
</main><footer><p>© 2024 Coastal Courier</p></footer></body></html>
"""


def _rss(base: str, items: list[Article]) -> str:
    entries = "".join(
        f"<item><title>{html.escape(a.title)}</title><link>{base}{a.path}</link><guid>{base}{a.path}</guid>"
        f"<pubDate>Fri, {1 + a.n % 27:02d} Mar 2024 08:00:00 +0000</pubDate></item>" for a in items)
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Coastal Courier</title>'
            f"<link>{base}/</link><description>News</description>{entries}</channel></rss>")


def _atom(base: str, items: list[Article]) -> str:
    entries = "".join(
        f'<entry><title>{html.escape(a.title)}</title><link rel="alternate" href="{base}{a.path}"/>'
        f"<id>{base}{a.path}</id><updated>{a.published}</updated></entry>" for a in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Coastal Courier</title><id>{base}/</id><updated>2024-03-28T00:00:00Z</updated>{entries}</feed>")


def _urlset(base: str, items: list[Article], *, news: bool, lastmod: str) -> str:
    ns = ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"' if news else ""
    rows = []
    for a in items:
        extra = (f"<news:news><news:publication><news:name>Coastal Courier</news:name><news:language>en</news:language>"
                 f"</news:publication><news:publication_date>{a.published}</news:publication_date>"
                 f"<news:title>{html.escape(a.title)}</news:title></news:news>") if news else f"<lastmod>{lastmod}</lastmod>"
        rows.append(f"<url><loc>{base}{a.path}</loc>{extra}</url>")
    return (f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"{ns}>'
            + "".join(rows) + "</urlset>")


def write(root: Path, path: str, text: str | bytes) -> Path:
    target = root / path.lstrip("/")
    if path.endswith("/"):
        target = target / "index.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        target.write_bytes(text)
    else:
        target.write_text(text, encoding="utf-8")
    return target


def touch_later(target: Path, seconds: int = 5) -> None:
    """Move a file's mtime forward so its Last-Modified changes within the same second."""
    later = max(time.time(), target.stat().st_mtime) + seconds
    os.utime(target, (later, later))


def build_site(root: Path, base: str, *, offsite: str = "", lastmod: str = "2024-03-28T00:00:00+00:00") -> list[Article]:
    """Write the site under ``root`` for a server at ``base``; ``offsite`` is a URL on another host to link to."""
    articles = make_articles()
    for a in articles:
        write(root, a.path, article_html(a, base))
    extra = (
        '<p><a href="/private/secret-plans/">Secret plans of the council revealed in full here</a></p>'
        '<p><a href="/files/annual-report.pdf">Download the annual report of the harbour board</a></p>'
        '<p><a href="/2024/02/10/withdrawn-story/">A story that the newsroom later withdrew</a></p>'
        '<p><a href="/author/mara/">More stories written by Mara Lindqvist</a></p>'
        '<p><a href="/tag/news/">Everything tagged news on the site</a></p>'
        '<p><a href="/category/news/page/2/">Older stories from the news section</a></p>'
        '<p><a href="/latest/">The latest stories from every section</a></p>'
        + (f'<p><a href="{offsite}">A story on another website entirely</a></p>' if offsite else "")
    )
    write(root, "/", _listing("Coastal Courier", articles[:12], extra))
    for section in SECTIONS:
        items = [a for a in articles if a.section == section]
        write(root, f"/category/{section}/", _listing(section.title(), items))
    write(root, "/category/news/page/2/", _listing("News – page 2", articles[::5]))
    for person in _PEOPLE:
        first = person.split()[0]
        write(root, f"/author/{first.lower()}/", _listing(person, [a for a in articles if a.author == person]))
    write(root, "/latest/", _listing("Latest stories", articles[-12:]))
    write(root, "/tag/news/", _listing("Tag: news", articles[1::4]))
    private = make_articles(1)[0]
    write(root, "/private/secret-plans/", article_html(private, base))
    write(root, "/files/annual-report.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    write(root, "/robots.txt", "User-agent: *\nDisallow: /private/\n")
    write(root, "/feed/index.xml", _rss(base, articles[:14]))
    write(root, "/feed/atom.xml", _atom(base, articles[10:]))
    write(root, "/sitemaps/posts-1.xml.gz", gzip.compress(_urlset(base, articles[:16], news=False, lastmod=lastmod).encode()))
    write(root, "/sitemaps/news.xml", _urlset(base, articles[16:], news=True, lastmod=lastmod))
    write(root, "/sitemap_index.xml",
          '<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
          f"<sitemap><loc>{base}/sitemaps/posts-1.xml.gz</loc></sitemap>"
          f"<sitemap><loc>{base}/sitemaps/news.xml</loc></sitemap></sitemapindex>")
    return articles


def write_seeds(folder: Path, base: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{SITE_NAME}.toml").write_text(
        f'name = "{SITE_NAME}"\n'
        'domains = ["127.0.0.1"]\n'
        f'feeds = ["{base}/feed/index.xml", "{base}/feed/atom.xml"]\n'
        f'sitemaps = ["{base}/sitemap_index.xml"]\n'
        f'start_urls = ["{base}/"]\n'
        'deny = ["/files/"]\n'
        "[recrawl]\n"
        'steps = [["1d", "1h"]]\n'
        'final_interval = "1d"\n',
        encoding="utf-8",
    )
    return folder


SEED_ARTICLE = Path(__file__).resolve().parents[2] / "shared" / "seed-article.txt"


def seed_article_html(text: str) -> tuple[str, dict]:
    """The seed article as a WordPress post: title line, paragraphs, an "Also read" promo, one comment, closed."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    title = lines[0]
    body = [ln for ln in lines[1:] if not ln.startswith(("One thought on", "Comments are closed"))]
    paras = "\n".join(
        f'<p><strong>Also read: <a href="/2024/02/20/tesla-stocks-fall/">{html.escape(ln.split(":", 1)[1].strip())}</a></strong></p>'
        if ln.startswith("Also read") else f"<p>{html.escape(ln)}</p>" for ln in body)
    expected = {
        "title": title,
        "author": "Daniel Mensah",
        "published": "2024-02-21T09:30:00+00:00",
        "body": [ln for ln in body if not ln.startswith("Also read")],
    }
    t = html.escape(title)
    page = f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{t} – The World Ledger</title>
<meta property="og:type" content="article">
<meta property="og:title" content="{t}">
<meta property="article:published_time" content="{expected['published']}">
<meta name="author" content="{expected['author']}">
<link rel="stylesheet" href="/wp-content/themes/ledger/style.css">
</head>
<body class="post-template-default single single-post postid-4711 single-format-standard">
<div id="page" class="site">
<header id="masthead" class="site-header"><p class="site-title"><a href="/">The World Ledger</a></p>
<nav class="main-navigation"><ul><li><a href="/category/world/">World</a></li><li><a href="/category/business/">Business</a></li></ul></nav></header>
<div id="content" class="site-content"><div id="primary" class="content-area"><main id="main" class="site-main">
<article id="post-4711" class="post-4711 post type-post status-publish format-standard category-world">
<header class="entry-header"><h1 class="entry-title">{t}</h1>
<div class="entry-meta"><span class="posted-on">Posted on <time class="entry-date published" datetime="{expected['published']}">February 21, 2024</time></span>
<span class="byline"> by <span class="author vcard"><a class="url fn n" href="/author/daniel-mensah/">{expected['author']}</a></span></span></div></header>
<div class="entry-content">
{paras}
</div>
<footer class="entry-footer"><span class="cat-links">Posted in <a href="/category/world/" rel="category tag">World</a></span></footer>
</article>
<div id="comments" class="comments-area">
<h2 class="comments-title">One thought on “<span>{t}</span>”</h2>
<ol class="comment-list"><li id="comment-901" class="comment even thread-even depth-1"><article id="div-comment-901" class="comment-body">
<footer class="comment-meta"><div class="comment-author vcard"><b class="fn">Alexei</b> <span class="says">says:</span></div>
<div class="comment-metadata"><time datetime="2024-02-21T12:02:00+00:00">February 21, 2024 at 12:02 pm</time></div></footer>
<div class="comment-content"><p>Sanctions clearly mean nothing to either of them.</p></div></article></li></ol>
<p class="no-comments">Comments are closed.</p>
</div>
</main></div></div>
<footer id="colophon" class="site-footer"><div class="site-info">© 2024 The World Ledger. Proudly powered by WordPress.</div></footer>
</div>
</body>
</html>
"""
    return page, expected
