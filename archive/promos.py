"""Recognise inline promos and share/subscribe boilerplate in extracted paragraphs.

An inline promo is a short paragraph made of a lead-in ("Also read:", "Read more:", "Lesen Sie auch:",
"Читайте также:" ...) and a headline (in the page, a link to another article). Boilerplate is a short
paragraph asking the reader to share, subscribe, follow or sign up. Real prose that merely contains those
words is kept: a lead-in only counts at the start of a short paragraph and followed by a separator (":", "|",
"»", a dash ...), or in capitals, or alone.

:func:`is_promo` works on text alone, so the versioning code can drop the same lines when normalising.
"""

from __future__ import annotations

import logging
import re

log = logging.getLogger(__name__)

#: Lead-ins of inline promos, by language (lowercase; matched case-insensitively at paragraph start).
LEAD_INS: dict[str, tuple[str, ...]] = {
    "en": (
        "also read", "read also", "read more", "read next", "more to read", "related", "related articles",
        "related article", "related stories", "related story", "related content", "related coverage",
        "related news", "related posts", "related reading", "see also", "see more", "more on this",
        "more on this story", "more on this topic", "recommended", "recommended reading", "don't miss",
        "dont miss", "do not miss", "you may also like", "you might also like", "must read", "also see",
        "further reading", "trending", "popular now", "more news", "more stories", "editor's picks", "also on",
        "read the full story", "click here to read more",
    ),
    "de": (
        "lesen sie auch", "lesen sie mehr", "lesen sie hier", "lies auch", "auch lesen", "siehe auch",
        "mehr zum thema", "mehr dazu", "weiterlesen", "das könnte sie auch interessieren", "auch interessant",
        "passend dazu", "empfehlungen der redaktion", "zum thema",
    ),
    "fr": (
        "lire aussi", "à lire aussi", "a lire aussi", "à lire également", "a lire également", "lire également",
        "lisez aussi", "lire la suite", "voir aussi", "sur le même sujet", "en savoir plus", "à voir aussi",
        "a voir aussi", "à lire", "a lire",
    ),
    "es": (
        "lee también", "lea también", "leer más", "lee más", "ver también", "te puede interesar",
        "también te puede interesar", "le puede interesar", "noticias relacionadas", "relacionado",
        "relacionada", "relacionadas", "más información", "puedes leer", "no te pierdas",
    ),
    "it": (
        "leggi anche", "leggi di più", "leggi altro", "vedi anche", "potrebbe interessarti", "articoli correlati",
        "correlati", "correlato", "ti potrebbe interessare", "approfondisci", "da non perdere",
    ),
    "pt": (
        "leia também", "leia mais", "veja também", "veja mais", "saiba mais", "ler mais", "relacionados",
        "leia ainda", "você pode gostar", "não perca",
    ),
    "nl": ("lees ook", "lees meer", "lees verder", "zie ook", "gerelateerd", "meer lezen", "ook interessant"),
    "pl": (
        "czytaj też", "czytaj także", "czytaj więcej", "czytaj również", "zobacz też", "zobacz także",
        "zobacz również", "przeczytaj też", "przeczytaj także", "przeczytaj również", "polecamy",
        "warto przeczytać",
    ),
    "ru": (
        "читайте также", "читать также", "читайте ещё", "читайте еще", "читать далее", "подробнее",
        "см. также", "смотрите также", "по теме", "читайте по теме", "рекомендуем", "это интересно",
    ),
}

_ALL_LEAD_INS = sorted({x for group in LEAD_INS.values() for x in group}, key=len, reverse=True)
_LEAD_ALT = "|".join(re.escape(x).replace(r"\ ", r"\s+").replace("'", "['’]") for x in _ALL_LEAD_INS)
_BULLET = r"^[\s\-–—•·*>»▶►]*"
# lead-in, separator, then a headline
_PROMO_SEP_RE = re.compile(_BULLET + r"(?:" + _LEAD_ALT + r")\s*(?:[:：|»›>▶►→]+|\s[-–—]+)\s*(?P<rest>\S.*)$",
                           re.IGNORECASE | re.DOTALL)
# the lead-in on its own ("READ MORE", "Related articles", "Lesen Sie auch ...")
_PROMO_ALONE_RE = re.compile(_BULLET + r"(?:" + _LEAD_ALT + r")\s*[:：.…»›>▶►→!]*\s*$", re.IGNORECASE)
# a lead-in in capitals followed by a headline without separator ("READ MORE Tesla stocks fall")
_PROMO_CAPS_RE = re.compile(_BULLET + r"(?P<lead>" + _LEAD_ALT + r")\s+(?P<rest>\S.*)$", re.IGNORECASE | re.DOTALL)

#: Share / subscribe / follow / newsletter boilerplate (whole short paragraphs).
_BOILER_RE = re.compile(
    r"""^[\s\-–—•·*]*(?:
        (?:click\s+here\s+to\s+)?(?:subscribe|sign\s+up|register)\b.{0,80}\b(?:newsletter|inbox|updates|alerts|
            digest|briefing|channel|podcast|free|today|now|here)\b
      | get\s+(?:the|our)\b.{0,60}\b(?:newsletter|inbox|e-?mail|updates|delivered)\b
      | (?:share|teilen|partager|compartir|condividi|compartilhe|deel|udostępnij|поделиться)\s*
            (?:this|on|via|the\s+article|this\s+(?:article|story|post)|:|$)
      | follow\s+(?:us|\w+(?:\s+\w+){0,3})\s+on\s+(?:twitter|facebook|instagram|x|linkedin|youtube|tiktok|
            threads|bluesky|mastodon|google\s+news|whatsapp|telegram|social)
      | (?:like|follow)\s+us\s+on\b
      | (?:join|abonnieren\s+sie|abonnez-vous|suscríbete|iscriviti|assine|abonneer|zapisz\s+się|подпишитесь)\b
            .{0,80}\b(?:newsletter|channel|kanal|canal|canale|kanaal|telegram|whatsapp|inbox)\b
      | (?:sign\s+up|subscribe)\s+(?:for|to)\s+(?:our|the)\b
      | (?:newsletter|podcast)\s*$
      | like\s+this:?\s*(?:like\s+)?loading
      | (?:tell\s+us\s+what\s+you\s+think|what\s+do\s+you\s+think)\b.{0,20}$
      | (?:advertisement|anzeige|publicité|publicidad|pubblicità|publicidade|advertentie|reklama|реклама)\s*$
      | \d*\s*(?:comments?|kommentare?|commentaires?|comentarios?|commenti|comentários|reacties|komentarze?|
            комментари[йяев])\s*$
    )""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)

MAX_PROMO_WORDS = 30
MAX_BOILER_WORDS = 40


def _words(text: str) -> int:
    return len(text.split())


def promo_lead_in(paragraph: str) -> str | None:
    """The headline that follows a promo lead-in at the start of ``paragraph`` ("" when alone), else None."""
    text = paragraph.strip()
    if not text or _words(text) > MAX_PROMO_WORDS:
        return None
    if _PROMO_ALONE_RE.match(text):
        return ""
    m = _PROMO_SEP_RE.match(text)
    if m:
        return m.group("rest").strip()
    m = _PROMO_CAPS_RE.match(text)
    if m and m.group("lead").isupper() and any(c.isalpha() for c in m.group("lead")):
        return m.group("rest").strip()
    return None


def _looks_like_headline(rest: str) -> bool:
    """A promo's tail is a headline: short, and not a run of several sentences."""
    if _words(rest) > 25:
        return False
    # several full sentences mean prose ("Related: the two cases were heard together. The court ...")
    return len(re.findall(r"[.!?]\s+[A-ZÀ-ÝА-Я]", rest)) < 2


def is_promo(paragraph: str) -> bool:
    """True when ``paragraph`` is an inline promo or share/subscribe boilerplate, not article prose."""
    rest = promo_lead_in(paragraph)
    if rest is not None and (rest == "" or _looks_like_headline(rest)):
        return True
    return is_boilerplate(paragraph)


def is_boilerplate(paragraph: str) -> bool:
    """True for a short share / subscribe / follow / newsletter / advert-label paragraph."""
    text = paragraph.strip()
    return bool(text) and _words(text) <= MAX_BOILER_WORDS and bool(_BOILER_RE.match(text))
