"""Turn one news page into an :class:`ArticleRecord` (trafilatura plus comment-section detection).

Pure functions, no Scrapy: the crawler, the CLI and re-extraction all call :func:`extract`.

One parse per page: the tree is read for metadata, comment section, links and page kind, then handed to
trafilatura's ``bare_extraction`` (which works on its own copy). The body is trafilatura's precision-mode text,
then cleaned paragraph by paragraph: the repeated headline at the top, inline promos, share/subscribe
boilerplate and runs of teaser links go. See ``docs/extraction.md``.
"""

from __future__ import annotations

import codecs
import logging
import re
from urllib.parse import urljoin

import trafilatura
from charset_normalizer import from_bytes
from lxml.html import HtmlElement
from trafilatura import html2txt
from trafilatura.utils import load_html

from archive.comments import detect_comments, main_article
from archive.extract_kind import classify_page
from archive.extract_meta import norm, read_meta
from archive.promos import is_boilerplate, is_promo, promo_lead_in
from archive.record import ArticleRecord

log = logging.getLogger(__name__)

__all__ = ["EXTRACTOR_VERSION", "extract", "is_promo", "decode_html", "clean_body", "page_links"]

#: below this many characters the fast precision pass is checked by trafilatura's full cascade
SHORT_TEXT = 300
EXTRACTOR_VERSION = f"archive-extract/3 trafilatura/{trafilatura.__version__}"

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_BULLET = re.compile(r"^[\s\-–—•·*>»▶►]+")
_TAIL_TAG = re.compile(r"\s*(?:\[[A-Z ]{2,20}\]|\|)\s*$")
_SENTENCE_END = re.compile(r"[.!?…:;)\]\"'”’»]\s*$")


# ---------------------------------------------------------------- decoding


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None


def decode_html(html: bytes | str, encoding: str | None = None) -> str:
    """Decode page bytes: the HTTP charset, then the ``<meta>`` charset, then detection, then UTF-8.

    A declared single-byte charset loses to valid UTF-8 with non-ASCII bytes (a common wrong declaration);
    a declaration that does not decode is skipped; the last resort replaces undecodable bytes.
    """
    if isinstance(html, str):
        return html
    if html.startswith(b"\xef\xbb\xbf"):
        return html[3:].decode("utf-8", errors="replace")
    m = _META_CHARSET.search(html[:4096])
    meta_charset = _codec(m.group(1).decode("ascii", "ignore")) if m else None
    declared = [c for c in dict.fromkeys((_codec(encoding), meta_charset)) if c]
    utf8_ok = None
    for codec in declared:
        if codec != "utf-8" and not codec.startswith("utf-16"):
            if utf8_ok is None:
                utf8_ok = _is_utf8(html)
            if utf8_ok and not html.isascii():
                return html.decode("utf-8")
        try:
            return html.decode(codec)
        except (UnicodeDecodeError, LookupError):
            log.debug("declared charset %s does not decode the page", codec)
    if utf8_ok is not False and _is_utf8(html):
        return html.decode("utf-8")
    best = from_bytes(html[:20000] + html[-5000:] if len(html) > 25000 else html).best()
    if best is not None and best.encoding:
        try:
            return html.decode(best.encoding)
        except (UnicodeDecodeError, LookupError):
            pass
    return html.decode("utf-8", errors="replace")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# ---------------------------------------------------------------- body cleaning


def _anchor_texts(tree: HtmlElement) -> set[str]:
    """Normalised texts of the page's links with at least two words (teaser headlines among them)."""
    out = set()
    for a in tree.iter("a"):
        t = a.text_content()
        if t and " " in t.strip():
            out.add(norm(t))
    return out


def _core(line: str) -> str:
    """A line without list bullets and trailing tags ("[VIDEO]", "|") for link matching."""
    return norm(_TAIL_TAG.sub("", _BULLET.sub("", line)))


def clean_body(text: str, titles: list[str], anchors: set[str]) -> str:
    """Drop the repeated headline, promos, boilerplate and runs of teaser links from trafilatura's text."""
    lines = [ln for ln in text.split("\n")]
    n_titles = {norm(t) for t in titles if t}
    # 1. the headline repeated at the top, with a section label ("Local", "Politics") standing above it
    head = next((i for i, ln in enumerate(lines[:4]) if norm(ln) in n_titles), None)
    if head is not None and all(not ln.strip() or _is_label(ln) for ln in lines[:head]):
        del lines[: head + 1]
    while lines and (not lines[0].strip() or norm(lines[0]) in n_titles):
        lines.pop(0)
    drop = [False] * len(lines)
    link_only = [bool(c := _core(ln)) and c in anchors and len(ln.split()) <= 25 for ln in lines]
    after_header = False
    for i, ln in enumerate(lines):
        if not ln.strip():
            continue
        lead = promo_lead_in(ln)
        if lead is not None and (lead == "" or is_promo(ln) or _core(lead) in anchors):
            drop[i] = True
            after_header = lead == ""  # a bare "Related" / "DON'T MISS" heads a list of links
            continue
        if is_boilerplate(ln):
            drop[i] = True
            continue
        if after_header and link_only[i]:
            drop[i] = True
            continue
        after_header = False
    # 2. runs of two or more teaser links (related-article lists), and a short heading above a final run
    i = 0
    while i < len(lines):
        if link_only[i] and not drop[i]:
            j = i
            while j < len(lines) and (link_only[j] or drop[j]):
                j += 1
            if sum(1 for k in range(i, j) if link_only[k] and not drop[k]) >= 2:
                for k in range(i, j):
                    drop[k] = True
                if j >= len(lines) and i > 0 and _is_label(lines[i - 1]):
                    drop[i - 1] = True
            i = j
        else:
            i += 1
    kept = [ln for ln, d in zip(lines, drop) if not d]
    if len(" ".join(kept).split()) < 0.5 * len(" ".join(lines).split()):
        # the "links" were the article (a deals page, a link roundup): only drop promos and boilerplate
        kept = [ln for ln in lines if not is_promo(ln)]
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join(kept)


def _is_label(line: str) -> bool:
    """A short heading-like line (no sentence punctuation), e.g. the title of a related-links box."""
    return 0 < len(line.split()) <= 6 and not _SENTENCE_END.search(line)


# ---------------------------------------------------------------- extraction


def _body(tree: HtmlElement, url: str | None) -> str:
    """trafilatura's precision-mode text; the slower passes only run when it comes out short or empty."""
    def run(**kw: bool) -> str:
        doc = trafilatura.bare_extraction(tree, url=url, include_comments=False, **kw)
        return (doc.text or "") if doc is not None else ""

    text = run(favor_precision=True, fast=True)
    if len(text) < SHORT_TEXT:
        # short: let trafilatura compare with its external extractors (readability, jusText)
        text = max(text, run(favor_precision=True), key=len)
    if not text:
        # nothing in precision mode: an unusual layout, trafilatura's recall mode tries harder
        text = run(favor_recall=True)
    return text


def page_links(tree: HtmlElement, url: str | None) -> list[str]:
    """Absolute http(s) URLs of the page's ``<a href>`` links, in order, without fragments or repeats."""
    seen: dict[str, None] = {}
    for href in tree.xpath("//a/@href", smart_strings=False):
        href = href.strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
            continue
        try:
            absolute = urljoin(url or "", href).split("#", 1)[0]
        except ValueError:
            continue
        if absolute.startswith(("http://", "https://")):
            seen.setdefault(absolute, None)
    return list(seen)


def extract(
    html: bytes | str, url: str | None = None, *, encoding: str | None = None, links: list[str] | None = None
) -> ArticleRecord | None:
    """Extract the article on a page, or ``None`` when the page holds no text at all.

    ``encoding`` is the charset the HTTP response declared, if any. Pass a list as ``links`` to receive the
    page's links from the same parse (the crawler follows them without parsing the page again).
    """
    tree = load_html(decode_html(html, encoding))
    if tree is None:
        return None
    if links is not None:
        links.extend(page_links(tree, url))
    main = main_article(tree)
    meta = read_meta(tree, url, main)
    comments = detect_comments(tree, meta.comment_count, main)
    anchors = _anchor_texts(tree)
    raw = _body(tree, url)
    text = clean_body(raw, [meta.title, meta.h1, meta.html_title], anchors) if raw else ""
    kind = classify_page(tree, meta, text)
    if not text:
        text = _fallback_text(tree)
        if not text:
            return None
    return ArticleRecord(
        url=url or "",
        canonical_url=meta.canonical_url,
        title=meta.title,
        author=meta.author,
        published=meta.published,
        modified=meta.modified,
        text=text,
        language=meta.language,
        comments_state=comments.state,
        comment_count=comments.count,
        extractor_version=EXTRACTOR_VERSION,
        amp_url=meta.amp_url,
        page_kind=kind,
        extras={k: v for k, v in (("comment_platform", comments.platform), ("sitename", meta.sitename)) if v},
    )


def _fallback_text(tree: HtmlElement) -> str:
    """Visible text of a page trafilatura found no article in (a consent wall, an error page)."""
    return html2txt(tree) or ""
