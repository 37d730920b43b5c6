"""Detect a page's comment section: is commenting open, closed, or absent, and how many comments are there.

Works on the parsed page (lxml, HTML comments already dropped by the parser) *before* trafilatura prunes it.
Text is read only from rendered elements (never script, style, noscript or template), and markers that sit in
a teaser for another article (related posts, sidebars, other ``<article>`` cards) are ignored.

Rules, in order:

* ``closed``: the page says commenting is closed or disabled (WordPress core strings and their usual forms in
  de, fr, es, it, pt, nl, pl, ru), or an embed marks itself closed / read-only;
* ``open``: a comment form (native, login-gated) or a comment embed (Disqus, Facebook, Coral, Viafoura,
  OpenWeb/Spot.IM, Ghost and a few others) is on the page;
* ``closed`` again when comments are rendered but no way to add one is offered;
* else ``none``.

The count is the number the page states ("One thought on", "N Responses to", "N comments", schema.org
``commentCount`` / ``interactionStatistic``), else the number of rendered comments, else ``None``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from lxml import etree
from lxml.html import HtmlElement

log = logging.getLogger(__name__)

_CLOSED_PHRASES = (
    # en
    r"comments?\s+(?:are|is)\s+(?:now\s+)?(?:closed|disabled|turned\s+off|not\s+(?:allowed|enabled|available))",
    r"comments?\s+(?:have|has)\s+been\s+(?:closed|disabled|turned\s+off)",
    r"comment(?:ing|s)?\s+(?:is|has\s+been)\s+(?:now\s+)?(?:closed|disabled|turned\s+off|not\s+available)",
    r"(?:this|the)\s+(?:article|post|story|page|discussion|thread|entry)\s+is\s+(?:now\s+)?closed\s+(?:for|to)\s+"
    r"(?:comments|commenting|new\s+comments)",
    r"closed\s+(?:for|to)\s+(?:new\s+)?comments",
    r"comments?\s+(?:for|on)\s+this\s+(?:article|post|story|entry|page)\s+(?:are|is|have\s+been)\s+(?:now\s+)?"
    r"(?:closed|disabled|turned\s+off)",
    r"comment(?:ing|s)\s+(?:closed|disabled|off)\b",
    r"(?:the\s+)?comment\s+section\s+(?:is|has\s+been)\s+(?:now\s+)?(?:closed|disabled)",
    r"discussion\s+(?:is\s+)?closed",
    # de
    r"kommentare\s+sind\s+(?:geschlossen|deaktiviert|abgeschaltet)",
    r"kommentarfunktion\s+(?:ist|wurde)\s+(?:\w+\s+)?(?:geschlossen|deaktiviert|abgeschaltet)",
    r"kommentieren\s+ist\s+(?:nicht\s+mehr|nicht)\s+möglich",
    r"kommentare\s+(?:geschlossen|deaktiviert)",
    # fr
    r"(?:les\s+)?commentaires\s+sont\s+(?:fermés|clos|désactivés)",
    r"commentaires\s+(?:fermés|désactivés|clos)",
    # es
    r"(?:los\s+)?comentarios\s+(?:están|estan)\s+(?:cerrados|desactivados|deshabilitados)",
    r"comentarios\s+(?:cerrados|desactivados)",
    # it
    r"(?:i\s+)?commenti\s+sono\s+(?:chiusi|disabilitati|disattivati)",
    r"commenti\s+(?:chiusi|disabilitati)",
    # pt
    r"(?:os\s+)?comentários\s+(?:estão|foram)\s+(?:encerrados|fechados|desativados|desabilitados)",
    r"comentários\s+(?:encerrados|fechados|desativados)",
    # nl
    r"reacties\s+zijn\s+(?:gesloten|uitgeschakeld)",
    r"reageren\s+is\s+(?:niet\s+meer|niet)\s+mogelijk",
    r"reacties\s+(?:gesloten|uitgeschakeld)",
    # pl
    r"możliwość\s+komentowania\s+(?:jest|została)\s+wyłączona",
    r"komentarze\s+(?:są\s+)?(?:wyłączone|zamknięte)",
    r"komentowanie\s+(?:jest|zostało)\s+(?:wyłączone|zamknięte)",
    # ru
    r"комментарии\s+(?:закрыты|отключены)",
    r"комментирование\s+(?:закрыто|отключено)",
    r"обсуждение\s+закрыто",
)
_CLOSED_RE = re.compile("|".join(f"(?:{p})" for p in _CLOSED_PHRASES), re.IGNORECASE)
# WordPress "Comments Off on <title>" in an entry meta line
_COMMENTS_OFF_RE = re.compile(r"^\s*comments\s+off(?:\s+on\b|\s*$)", re.IGNORECASE)

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "ein": 1, "eine": 1, "einen": 1, "un": 1, "une": 1, "uno": 1, "una": 1, "um": 1, "uma": 1, "één": 1,
    "een": 1, "jeden": 1, "jedna": 1, "один": 1, "одна": 1, "zwei": 2, "deux": 2, "dos": 2, "due": 2,
    "twee": 2, "dwa": 2, "два": 2,
}
_NUM = r"(?P<n>\d[\d.,\s]{0,8}|" + "|".join(_NUMBER_WORDS) + r")"
_COUNT_WORDS = (
    r"gedanken?|réflexions?|pensamientos?|opiniones|pensier[oi]|pensamentos?|myśl[i]?|мысл[ьи]|"
    r"thoughts?|responses?|repl(?:y|ies)|comments?|kommentare?|antworten|commentaires?|réponses?|"
    r"comentarios?|respuestas?|commenti|commento|risposte|comentários?|respostas?|reacties?|reactie|"
    r"komentarz(?:e|y)?|odpowied(?:zi|ź)|комментари(?:й|я|ев)|отзыв(?:а|ов)?|ответ(?:а|ов)?"
)
_COUNT_RE = re.compile(r"^\W{0,3}" + _NUM + r"\s+(?:" + _COUNT_WORDS + r")\b", re.IGNORECASE)

_FORM_XPATH = (
    "//form[.//textarea[contains(@name, 'comment') or contains(@id, 'comment') or @name='body' "
    "or contains(@name, 'comment_body')] or contains(@action, 'comment') "
    "or contains(@id, 'comment') or contains(@class, 'comment')]"
    " | //iframe[@id='comment-editor' or contains(@src, 'comment-iframe') or contains(@src, '/comment/')]"
)
# "You must be logged in to post a comment", Drupal "Log in or register to post comments", ...
_GATED_XPATH = (
    "//*[contains(@class, 'must-log-in') or contains(@class, 'comment-forbidden') "
    "or contains(@class, 'comment-login') or contains(@class, 'login-to-comment')]"
)
_EMBED_XPATH = (
    "//*[@id='disqus_thread' or contains(@class, 'fb-comments') "
    "or @id='coral_thread' or contains(@id, 'coral-') or contains(@class, 'coral-') "
    "or contains(@class, 'viafoura') "
    "or @data-spotim-module or @data-spot-id or @data-openweb-module "
    "or @data-ghost-comments or @id='hyvor-talk-view' "
    "or @id='commento' or @id='remark42' or contains(@class, 'giscus') or contains(@class, 'utterances') "
    "or contains(@class, 'vuukle') or @id='idc-container' or @id='cackle_widget' or @id='isso-thread' "
    "or @id='cusdis_thread']"
    " | //script[contains(@src, 'disqus.com/embed.js') or contains(@src, 'coral') "
    "or contains(@src, 'viafoura') or contains(@src, 'spot.im') or contains(@src, 'openweb') "
    "or contains(@src, 'comments-ui') or contains(@src, 'utteranc.es') or contains(@src, 'giscus.app') "
    "or contains(@src, 'hyvor') or contains(@src, 'commento') or contains(@src, 'vuukle')]"
)
_RENDERED_XPATH = (
    "//li[contains(concat(' ', normalize-space(@class), ' '), ' comment ') "
    "or contains(concat(' ', normalize-space(@class), ' '), ' pingback ') "
    "or contains(concat(' ', normalize-space(@class), ' '), ' trackback ')]"
    " | //article[contains(concat(' ', normalize-space(@class), ' '), ' comment ') "
    "or (starts-with(@id, 'comment-') and contains(@class, 'comment'))]"
    " | //div[contains(concat(' ', normalize-space(@class), ' '), ' comment ') "
    "and (starts-with(@id, 'comment-') or ancestor::*[contains(@id, 'comment') or contains(@class, 'comments')])]"
    " | //div[contains(concat(' ', normalize-space(@class), ' '), ' comment-thread ')]//li[@id]"
    " | //dl[@id='comments-block']/dt"
)
_TEXT_XPATH = etree.XPath("//body//text()")
_PLAIN_TEXT_XPATH = etree.XPath("//body//text()", smart_strings=False)
_ATTR_XPATH = etree.XPath("//@id | //@class | //script/@src | //form/@action", smart_strings=False)
# word stems of closed notices and count headings (lower case): only text nodes holding one are examined
_STEMS = (
    "comment", "kommentar", "comentar", "comentár", "reacties", "reageren", "reactie", "komentar", "komentow",
    "коммент", "обсужден", "discussion", "thought", "respons", "repl", "antwort", "réponse", "respuesta",
    "rispost", "resposta", "odpowied", "отзыв", "ответ", "gedank", "réflexion", "pensamient", "opinion",
    "pensier", "pensament", "myśl", "мысл",
)
_STEMS_UTF8 = tuple(s.encode("utf-8") for s in _STEMS)
_EMBED_HINT_RE = re.compile(
    r"disqus|fb-comments|coral|viafoura|spotim|spot\.im|spot-|openweb|comments-ui|ghost|hyvor|commento|"
    r"remark42|giscus|utteranc|vuukle|idc-container|cackle|isso-thread|cusdis"
)
_GATED_HINT_RE = re.compile(r"must-log-in|comment-forbidden|comment-login|login-to-comment")
_RENDERED_HINT_RE = re.compile(r"(?:^|[\s\x00])(?:comment|pingback|trackback|comment-thread)(?:[\s\x00]|$)|comment-|"
                               r"comments-block")
_EMBED_TAGS = ("fb:comments", "vf-conversations", "vf-comments", "vf-widget", "hyvor-talk-comments",
               "openweb-conversation", "coral-stream")
_SKIP_PARENTS = {"script", "style", "noscript", "template", "textarea", "title"}
_TEASER_RE = re.compile(
    r"related|teaser|recent|popular|widget|sidebar|more-stories|recommend|promo|trending|card|"
    r"listing|archive|navigation|menu|breadcrumb|also|next-post|prev|rail|aside|footer|header-nav",
    re.IGNORECASE,
)
# attributes by which an embed marks its thread closed / read-only
_CLOSED_ATTRS = {"data-comments-enabled": ("off", "false", "none"), "data-read-only": ("true",),
                 "data-readonly": ("true",), "data-closed": ("true",), "data-comments-closed": ("true",),
                 "data-spotim-read-only": ("true",)}


@dataclass(slots=True)
class CommentInfo:
    """What the comment detector found."""

    state: str = "none"
    count: int | None = None
    platform: str | None = None


def _classes(el: HtmlElement) -> str:
    return f"{el.get('id') or ''} {el.get('class') or ''}"


def _is_comment_area(el: HtmlElement) -> bool:
    return bool(re.search(r"comment|respond|disqus|discussion|coral|viafoura", _classes(el), re.IGNORECASE))


def _in_teaser(el: HtmlElement, main_article: HtmlElement | None) -> bool:
    """True when ``el`` sits in something that is about another article (related posts, sidebar, a card)."""
    for anc in el.iterancestors():
        if anc.tag in ("body", "html"):
            break
        if _is_comment_area(anc):
            return False  # inside the comment area: it is about this article
        if anc.tag in ("aside", "nav"):
            return True
        if anc.tag == "article" and main_article is not None and anc is not main_article:
            return True
        if _TEASER_RE.search(_classes(anc)):
            return True
    return False


def main_article(tree: HtmlElement) -> HtmlElement | None:
    """The ``<article>`` element holding the most paragraph text (None when the page has none)."""
    best, best_len = None, 0
    for art in tree.iter("article"):
        if "comment" in (art.get("class") or ""):
            continue
        n = sum(len(p.text_content()) for p in art.iter("p"))
        if n > best_len:
            best, best_len = art, n
    return best


def _parse_count(match: re.Match[str]) -> int | None:
    raw = match.group("n").strip().lower()
    if raw in _NUMBER_WORDS:
        return _NUMBER_WORDS[raw]
    digits = re.sub(r"[.,\s]", "", raw)
    return int(digits) if digits.isdigit() else None


def _text_candidates(tree: HtmlElement) -> list[Any]:
    """Rendered text nodes that contain a comment-related word stem (one cheap pass over the page text).

    The text is searched as one lower-cased UTF-8 string, literal stem by literal stem (``bytes.find`` runs at C
    speed where one big alternation regex tries every branch at every position); lxml's "smart" strings, which know
    their parent element but cost a Python proxy object per node, are fetched only when a stem was found."""
    texts = _PLAIN_TEXT_XPATH(tree)
    if not texts:
        return []
    # bytes: the page's text is rarely pure Latin-1, and find() on a UCS-2 str is slower than on UTF-8 bytes
    blob = "\x00".join(texts).lower().encode("utf-8")
    hits = []
    for stem in _STEMS_UTF8:
        at = blob.find(stem)
        while at != -1:
            hits.append(at)
            at = blob.find(stem, at + len(stem))
    if not hits:
        return []
    hits.sort()
    nodes = _TEXT_XPATH(tree)
    out: list[Any] = []
    idx, pos = 0, 0
    for at in hits:
        idx += blob.count(b"\x00", pos, at)
        pos = at
        if not out or out[-1] is not nodes[idx]:
            out.append(nodes[idx])
    return out


def detect_comments(tree: HtmlElement, schema_count: int | None = None,
                    main: HtmlElement | None = None) -> CommentInfo:
    """Comment state and count of the page ``tree``; ``schema_count`` is a count from structured data,
    ``main`` the page's main ``<article>`` if known (see :func:`main_article`)."""
    main = main if main is not None else main_article(tree)
    info = CommentInfo()
    closed: Any = None
    stated = None
    for node in _text_candidates(tree):
        text = str(node)
        parent = node.getparent()
        if len(text) > 300 or parent is None or parent.tag in _SKIP_PARENTS:
            continue
        if closed is None and len(text) <= 160 and (_CLOSED_RE.search(text) or _COMMENTS_OFF_RE.match(text)):
            # a notice, not a sentence of prose that happens to say "comments closed"
            if len(parent.text_content()) <= 200 and not _in_teaser(parent, main):
                closed = parent
        if stated is None:
            m = _COUNT_RE.match(text)
            if m and _heading_like(parent) and not _in_teaser(parent, main):
                stated = _parse_count(m)
    attrs = "\x00".join(_ATTR_XPATH(tree)).lower()
    embeds = list(tree.iter(*_EMBED_TAGS))
    if _EMBED_HINT_RE.search(attrs):
        embeds += tree.xpath(_EMBED_XPATH)
    if closed is None and any(el.get(k, "").lower() in v for el in embeds for k, v in _CLOSED_ATTRS.items()):
        closed = True
    has_comment_attr = "comment" in attrs or "respond" in attrs
    form = has_comment_attr and (tree.xpath(_FORM_XPATH) or (_GATED_HINT_RE.search(attrs) and tree.xpath(_GATED_XPATH)))
    rendered = _rendered(tree) if _RENDERED_HINT_RE.search(attrs) else []
    if embeds:
        info.platform = _platform(embeds[0])
    if closed is not None:
        info.state = "closed"
    elif form or embeds:
        info.state = "open"
    elif rendered:
        info.state = "closed"
    if stated is not None:
        info.count = stated
    elif schema_count is not None:
        info.count = schema_count
    elif rendered:
        info.count = len(rendered)
    elif info.state != "none" and not embeds:
        info.count = 0
    return info


def _rendered(tree: HtmlElement) -> list[HtmlElement]:
    """Rendered comments; a comment wrapped in another counted element of a different tag counts once."""
    found = tree.xpath(_RENDERED_XPATH)
    seen = set(found)
    out = []
    for el in found:
        near = [a for _, a in zip(range(2), el.iterancestors())]
        if any(a in seen and a.tag != el.tag for a in near):
            continue
        out.append(el)
    return out


def _heading_like(el: HtmlElement) -> bool:
    """A count heading: an h1-h6, or an element whose class or id says it is a comments title / count."""
    for cand in (el, *list(el.iterancestors())[:3]):
        if cand.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            return True
        if cand.tag == "a" and re.search(r"#(?:comments|respond|disqus_thread)$", cand.get("href") or ""):
            return True
        if re.search(r"comments?[-_]?(?:title|count|number|header|heading)|comment-post-message|responses|"
                     r"replies-title", _classes(cand), re.IGNORECASE):
            return True
    return False


def _platform(el: HtmlElement) -> str:
    blob = " ".join(str(v) for v in el.attrib.values()) + " " + str(el.tag)
    for name, key in (("disqus", "disqus"), ("facebook", "fb"), ("coral", "coral"), ("viafoura", "vf-"),
                      ("viafoura", "viafoura"), ("openweb", "spot"), ("openweb", "openweb"), ("ghost", "ghost"),
                      ("ghost", "comments-ui"), ("hyvor", "hyvor"), ("commento", "commento"),
                      ("giscus", "giscus"), ("utterances", "utteranc")):
        if key in blob.lower():
            return name
    return "embed"
