"""Page metadata for :mod:`archive.extract`: title, byline, dates, canonical URL, language, structured data.

Reads the parsed page once, before trafilatura prunes it: meta tags and OpenGraph (through trafilatura's
``examine_meta``), JSON-LD (our own pass, for the fields trafilatura drops: dates, comment counts, page types,
paywall flags), the main ``<h1>`` and ``<time>`` elements. htmldate is only asked when the page states no date.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.json_metadata import normalize_authors
from trafilatura.metadata import examine_meta, extract_author

log = logging.getLogger(__name__)

ARTICLE_TYPES = {
    "article", "newsarticle", "blogposting", "reportagenews", "analysisnewsarticle", "opinionnewsarticle",
    "reviewnewsarticle", "backgroundnewsarticle", "techarticle", "scholarlyarticle", "socialmediaposting",
    "liveblogposting", "posting", "report", "advertisercontentarticle", "satiricalarticle", "review",
}
LISTING_TYPES = {"collectionpage", "itemlist", "searchresultspage", "profilepage", "blog"}

_SEPARATORS = re.compile(r"\s+(?:[|›»·•:~/]|::|[-–—])\s+|(?<=\w):\s+")
_WS = re.compile(r"\s+")
_UI_AUTHOR = re.compile(
    r"^(?:admin|administrator|editor|editorial|redaktion|rédaction|redacción|redazione|redação|redactie|"
    r"redakcja|редакция|staff|webmaster|guest|anonymous|unknown|team|newsroom|desk)$",
    re.IGNORECASE,
)
_AUTHOR_PREFIX = re.compile(
    r"^\s*(?:(?:view|see|read)\s+all\s+(?:posts|articles|stories)\s+by|posted\s+by|written\s+by|"
    r"by|von|par|por|(?-i:di|da)|door|przez|autor|auteur|autore|author|автор)\s*:?\s+",
    re.IGNORECASE,
)
_HEADLINE_XPATH = (".//*[@itemprop='headline' or contains(@class, 'entry-title') or contains(@class, 'post-title') "
                   "or contains(@class, 'article-title')][not(self::meta)]")
_BYLINE_XPATH = (
    ".//*[@rel='author' or @itemprop='author' or contains(concat(' ', normalize-space(@class), ' '), ' author ') "
    "or contains(@class, 'byline') or contains(@class, 'author-name') or contains(@class, 'entry-author') "
    "or contains(@class, 'post-author') or contains(@class, 'article-author') or contains(@class, 'author vcard')"
    "or contains(@class, 'wp-block-post-author-name') or contains(@class, 'field--name-uid')]"
)


@dataclass(slots=True)
class PageMeta:
    """Everything read from the page before body extraction."""

    title: str | None = None
    author: str | None = None
    published: str | None = None
    modified: str | None = None
    canonical_url: str | None = None
    amp_url: str | None = None
    is_amp: bool = False
    language: str | None = None
    sitename: str | None = None
    og_type: str | None = None
    jsonld_types: set[str] = field(default_factory=set)
    comment_count: int | None = None
    free: bool | None = None  # schema.org isAccessibleForFree
    dated: bool = False  # the page states its date (structured data, meta tags, <time>), not a guess
    h1: str | None = None
    html_title: str | None = None

    @property
    def is_article_markup(self) -> bool:
        """The page declares itself an article (og:type, JSON-LD type, or article dates)."""
        return (self.og_type == "article" or bool(self.jsonld_types & ARTICLE_TYPES)
                or self.dated and self.og_type in (None, "article"))


def norm(text: str | None) -> str:
    """Lowercase, whitespace-collapsed, quote- and dash-unified text for comparisons."""
    if not text:
        return ""
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    text = re.sub(r"[–—]", "-", text)
    return _WS.sub(" ", text).strip().lower()


def _text(el: HtmlElement) -> str:
    return _WS.sub(" ", el.text_content()).strip()


# ---------------------------------------------------------------- JSON-LD


def _jsonld_objects(tree: HtmlElement) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for script in tree.iterfind(".//script[@type='application/ld+json']"):
        raw = (script.text or "").strip()
        if not raw:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            try:
                data = json.loads(re.sub(r"[\x00-\x1f]", " ", raw))
            except ValueError:
                continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                out.append(item)
                if "@graph" in item:
                    stack.append(item["@graph"])
                if isinstance(item.get("mainEntity"), (dict, list)):
                    stack.append(item["mainEntity"])
    return out


def _types(obj: dict[str, Any]) -> set[str]:
    t = obj.get("@type")
    items = t if isinstance(t, list) else [t]
    return {str(x).lower().rsplit("/", 1)[-1] for x in items if x}


def _names(value: Any) -> list[str]:
    """Person names from a schema.org author value (skipping organisations when a person is named)."""
    items = value if isinstance(value, list) else [value]
    persons, orgs = [], []
    for it in items:
        if isinstance(it, str):
            persons.append(it)
        elif isinstance(it, dict) and isinstance(it.get("name"), str):
            (orgs if "organization" in _types(it) or "newsmediaorganization" in _types(it) else persons).append(
                it["name"])
    return persons or orgs


def _interaction_comments(value: Any) -> int | None:
    for it in value if isinstance(value, list) else [value]:
        if isinstance(it, dict):
            kind = str(it.get("interactionType", ""))
            kind = kind.get("@type", "") if isinstance(kind, dict) else kind  # type: ignore[union-attr]
            if "comment" in str(kind).lower():
                return _int(it.get("userInteractionCount"))
    return None


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- dates


_DATE_RE = re.compile(
    r"(?P<d>\d{4}-\d{2}-\d{2})(?:[T ](?P<t>\d{2}:\d{2}(?::\d{2})?)(?:\.\d+)?\s*(?P<z>Z|UTC|GMT|[+-]\d{2}:?\d{2})?)?")


def iso_date(value: Any) -> str | None:
    """ISO 8601 for a page date: "2025-06-03T07:30:00+01:00", or "2025-06-03" when only a day is known."""
    if not isinstance(value, str):
        return None
    m = _DATE_RE.search(value.strip())
    if not m:
        return None
    try:
        day = date.fromisoformat(m["d"])
    except ValueError:
        return None
    if not m["t"]:
        return day.isoformat()
    t = m["t"] if len(m["t"]) == 8 else m["t"] + ":00"
    zone = m["z"] or ""
    if zone in ("Z", "UTC", "GMT"):
        zone = "+00:00"
    elif zone and ":" not in zone:
        zone = zone[:3] + ":" + zone[3:]
    try:
        return datetime.fromisoformat(f"{day.isoformat()}T{t}{zone}").isoformat()
    except ValueError:
        return day.isoformat()


_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                        "dec"), start=1)}
_URL_DATE_RE = re.compile(r"/((?:19|20)\d\d)[/-](\d{1,2}|[a-z]{3})[a-z]*[/-](\d{1,2})(?=[/_.-]|$)", re.IGNORECASE)


def url_date(url: str) -> str | None:
    """A full date in the URL path ("/2019/11/18/", "/2019/nov/18/", "/2019-11-18-"), as "YYYY-MM-DD"."""
    m = _URL_DATE_RE.search(urlsplit(url).path)
    if not m:
        return None
    year, month, day = m.groups()
    month_n = int(month) if month.isdigit() else _MONTHS.get(month.lower()[:3])
    try:
        return date(int(year), month_n or 0, int(day)).isoformat()
    except ValueError:
        return None


_PUBLISHED_META = ("article:published_time", "og:published_time", "datepublished", "article:published",
                   "published_time", "pubdate", "publishdate", "publish-date", "date", "dc.date.issued",
                   "dcterms.created", "dc.date", "sailthru.date", "parsely-pub-date", "original-publish-date")
_MODIFIED_META = ("article:modified_time", "og:updated_time", "datemodified", "article:modified", "modified_time",
                  "last-modified", "dcterms.modified", "dc.date.modified", "lastmod")


def _meta_map(tree: HtmlElement) -> dict[str, str]:
    out: dict[str, str] = {}
    for el in tree.iterfind(".//meta[@content]"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv") or "").lower()
        if key and key not in out:
            out[key] = el.get("content", "").strip()
    return out


# ---------------------------------------------------------------- title


def clean_title(raw: str | None, h1: str | None, sitename: str | None, host: str | None) -> str | None:
    """Drop site-name prefixes and suffixes ("Headline - Site", "Site | Headline", "Headline › Blog")."""
    if not raw:
        return None
    raw = _WS.sub(" ", raw).strip()
    parts = _SEPARATORS.split(raw)
    if len(parts) == 1:
        return raw
    n_h1 = norm(h1)
    if n_h1:
        # the h1 is one of the parts, or a run of them
        for i in range(len(parts)):
            for j in range(len(parts), i, -1):
                if norm(" ".join(parts[i:j])) == n_h1 or norm(_join_like(raw, parts, i, j)) == n_h1:
                    return _join_like(raw, parts, i, j)
    site_keys = {norm(sitename)} if sitename else set()
    if host:
        label = host.lower().removeprefix("www.").split(".")[0]
        site_keys.add(label)
        site_keys.add(host.lower().removeprefix("www."))
    site_keys.discard("")

    def is_site(part: str) -> bool:
        p = norm(part)
        squashed = re.sub(r"[^\w]", "", p)
        return p in site_keys or squashed in site_keys or any(
            k and (squashed == re.sub(r"[^\w]", "", k)) for k in site_keys)

    kept = list(parts)
    while len(kept) > 1 and is_site(kept[-1]):
        kept.pop()
    while len(kept) > 1 and is_site(kept[0]):
        kept.pop(0)
    if len(kept) < len(parts):
        return _join_like(raw, parts, parts.index(kept[0]), parts.index(kept[0]) + len(kept))
    # no site name known: drop a short trailing part after a strong separator ("Headline | Site Name")
    strong = re.search(r"\s[|›»·•]\s[^|›»·•]+$", raw)
    if strong and len(parts[-1].split()) <= 4 and len(" ".join(parts[:-1]).split()) >= 3:
        return raw[: strong.start()].strip()
    return raw


def _join_like(raw: str, parts: list[str], i: int, j: int) -> str:
    """The substring of ``raw`` spanning parts i..j-1, separators included."""
    start = raw.find(parts[i])
    end = raw.find(parts[j - 1], start) + len(parts[j - 1])
    return raw[start:end].strip()


def _agree(a: str | None, b: str | None) -> bool:
    na, nb = norm(a), norm(b)
    return bool(na and nb) and (na == nb or (len(na) > 15 and (na in nb or nb in na)))


# ---------------------------------------------------------------- author


def clean_author(raw: str | None, *publishers: str | None) -> str | None:
    """A byline without UI text; "; "-joined like trafilatura; the publisher's name is dropped when a person
    is credited too ("Jill Disis, CNN Business" -> "Jill Disis")."""
    if not raw:
        return None
    raw = _AUTHOR_PREFIX.sub("", _WS.sub(" ", raw).strip())
    names = normalize_authors(None, raw)
    if not names:
        return None
    kept = [n for n in names.split("; ") if n and not _UI_AUTHOR.match(n)
            and not re.search(r"https?://|www\.|@|\d{3,}", n) and len(n.split()) <= 6]
    pubs = [norm(p) for p in publishers if isinstance(p, str) and p.strip()]
    persons = [n for n in kept if not any(norm(n) == p or norm(n).startswith(p + " ") for p in pubs)]
    return "; ".join(persons or kept) or None


def _comment_author(scope: HtmlElement, name: str) -> bool:
    """True when ``name`` is written inside a comment (so it is a commenter, not the byline)."""
    key = norm(name.split("; ")[0])
    return any(key in norm(el.text_content()) for el in scope.xpath(_COMMENT_XPATH))


_COMMENT_XPATH = ".//*[contains(@class, 'comment') or starts-with(@id, 'comment')]"


def _byline(scope: HtmlElement) -> str | None:
    """Author names from byline markup in ``scope`` (the main article), skipping comment authors."""
    names: list[str] = []
    for el in scope.xpath(_BYLINE_XPATH):
        if any("comment" in (a.get("class") or "") + (a.get("id") or "") for a in el.iterancestors()):
            continue
        if el.tag in ("meta", "link"):
            continue
        inner = el.xpath(".//*[contains(@class, 'fn') or @itemprop='name' or @rel='author']")
        for node in inner or [el]:
            t = _text(node)
            if t and len(t) < 80 and t not in names:
                names.append(t)
        if names:
            break
    return "; ".join(names) or None


# ---------------------------------------------------------------- main


def read_meta(tree: HtmlElement, url: str | None, main_article: HtmlElement | None) -> PageMeta:
    """Read title, byline, dates, URLs, language and structured-data hints from the page."""
    meta = PageMeta()
    doc = examine_meta(tree)
    metas = _meta_map(tree)
    host = urlsplit(url).hostname if url else None

    # --- structured data
    article: dict[str, Any] = {}
    for obj in _jsonld_objects(tree):
        types = _types(obj)
        meta.jsonld_types |= types
        if types & ARTICLE_TYPES and not article:
            article = obj
        if meta.comment_count is None and (types & ARTICLE_TYPES or "webpage" in types):
            meta.comment_count = _int(obj.get("commentCount"))
            if meta.comment_count is None and "interactionStatistic" in obj:
                meta.comment_count = _interaction_comments(obj["interactionStatistic"])
    if article:
        free = article.get("isAccessibleForFree")
        if free is not None:
            meta.free = str(free).lower() not in ("false", "0", "no")
    if meta.comment_count is None:
        node = tree.find(".//*[@itemprop='commentCount']")
        if node is not None:
            meta.comment_count = _int(node.get("content") or node.text_content())

    # --- URLs
    canonical = tree.find(".//head/link[@rel='canonical']")
    href = canonical.get("href") if canonical is not None else None
    href = href or metas.get("og:url") or doc.url
    meta.canonical_url = urljoin(url or "", href.strip()) if href else None
    root = tree.getroottree().getroot()
    meta.is_amp = "amp" in root.attrib or "⚡" in root.attrib
    if meta.is_amp:
        meta.amp_url = url
    else:
        amp = tree.find(".//head/link[@rel='amphtml']")
        if amp is not None and amp.get("href"):
            meta.amp_url = urljoin(url or "", amp.get("href").strip())

    # --- language
    lang = root.get("lang") or root.get("xml:lang") or metas.get("content-language") or metas.get("og:locale")
    if lang:
        meta.language = re.split(r"[-_]", lang.strip())[0].lower() or None

    # --- site name and type
    meta.sitename = doc.sitename or metas.get("og:site_name")
    publisher = article.get("publisher") if article else None
    if not meta.sitename and isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
        meta.sitename = publisher["name"]
    meta.og_type = (metas.get("og:type") or "").lower() or None

    # --- title
    scope = main_article if main_article is not None else tree
    h1s = scope.findall(".//h1") if main_article is not None else []
    h1_in_article = bool(h1s)
    h1s = h1s or tree.findall(".//h1") or scope.xpath(_HEADLINE_XPATH)[:1]
    meta.h1 = next((t for t in map(_text, h1s) if t), None)
    title_el = tree.find(".//head/title")
    meta.html_title = _text(title_el) if title_el is not None else None
    og_title = metas.get("og:title") or metas.get("twitter:title")
    headline = article.get("headline") if isinstance(article.get("headline"), str) else None
    meta.title = _pick_title(meta.h1, og_title, headline, meta.html_title, meta.sitename, host, h1_in_article)

    # --- author
    publishers = [meta.sitename, publisher.get("name") if isinstance(publisher, dict) else publisher]
    candidates = (lambda: "; ".join(_names(article.get("author"))) if article else None,
                  lambda: doc.author, lambda: _byline(scope))
    pubs = {norm(p) for p in publishers if isinstance(p, str)}
    fallback = None
    for cand in candidates:
        meta.author = clean_author(cand(), *publishers)
        if meta.author and norm(meta.author) in pubs:
            fallback, meta.author = fallback or meta.author, None  # only the publisher: look for a person
        if meta.author:
            break
    if not meta.author:
        found = clean_author(extract_author(scope), *publishers)
        if found and not _comment_author(scope, found):
            meta.author = found
    meta.author = meta.author or fallback

    # --- dates
    pub = iso_date(article.get("datePublished")) if article else None
    mod = iso_date(article.get("dateModified")) if article else None
    pub = pub or next((d for k in _PUBLISHED_META if (d := iso_date(metas.get(k)))), None)
    mod = mod or next((d for k in _MODIFIED_META if (d := iso_date(metas.get(k)))), None)
    if not pub or not mod:
        pub_el, mod_el = _time_elements(scope)
        pub, mod = pub or pub_el, mod or mod_el
    meta.dated = pub is not None
    if not pub and url:
        pub = url_date(url)
    if not pub:
        found = find_date(tree, url=url, original_date=True, extensive_search=True,
                          outputformat="%Y-%m-%dT%H:%M:%S%z")
        pub = iso_date(found) if found else None
        if pub and pub.endswith("T00:00:00"):
            pub = pub[:10]
    meta.published = pub
    meta.modified = mod if mod and mod != pub else None
    return meta


def _pick_title(h1: str | None, og: str | None, headline: str | None, html_title: str | None,
                sitename: str | None, host: str | None, h1_in_article: bool) -> str | None:
    """The headline: the h1 when another source agrees, else the cleaned og:title / JSON-LD / <title>.

    An h1 outside the article that only matches a part of <title> is the blog's name, not the headline.
    """
    structured = [clean_title(x, h1, sitename, host) for x in (og, headline)]
    page_title = clean_title(html_title, h1, sitename, host)
    if h1 and norm(h1) != norm(sitename):
        if any(_agree(h1, c) for c in structured if c):
            return h1
        if (h1_in_article or not any(structured)) and _agree(h1, page_title):
            return h1
    for c in (*structured, page_title):
        if c:
            return c
    return h1


_TIME_XPATH = (".//time[@datetime] | .//*[@itemprop='datePublished' or @itemprop='dateModified']"
               "[@content or @datetime or @title] | .//abbr[@title][contains(@class, 'published')]")


def _time_elements(scope: HtmlElement) -> tuple[str | None, str | None]:
    """Dates from ``<time datetime>``, itemprop datePublished / dateModified and Blogger's abbr.published."""
    pub = mod = None
    for el in scope.xpath(_TIME_XPATH):
        cls = (el.get("class") or "") + " " + (el.get("itemprop") or "")
        if any("comment" in (a.get("class") or "") for a in el.iterancestors()):
            continue
        value = iso_date(el.get("datetime") or el.get("content") or el.get("title"))
        if not value:
            continue
        if re.search(r"published|datePublished", cls):
            pub = pub or value
        elif re.search(r"updated|modified", cls, re.IGNORECASE):
            mod = mod or value
        elif pub is None:
            pub = value
    return pub, mod
