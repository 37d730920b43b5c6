"""Say what kind of page this is: an article, or a reason it is not one, for the crawler to count.

Kinds: ``article``; ``soft404`` (a 200 page that says not found); ``consent`` (a cookie / consent wall with no
article); ``paywall`` (a subscription stub); ``listing`` (a section, tag, author or home page: many teaser links,
little prose, no article markup). Every rule needs little extracted text, so a real article is never reclassed.
"""

from __future__ import annotations

import logging
import re

from lxml.html import HtmlElement

from archive.extract_meta import ARTICLE_TYPES, LISTING_TYPES, PageMeta

log = logging.getLogger(__name__)

_NOT_FOUND = re.compile(
    r"\b404\b|page\s+not\s+found|not\s+be\s+found|page\s+(?:does\s+not|doesn't|no\s+longer)\s+exist|"
    r"nothing\s+(?:was\s+)?found|seite\s+nicht\s+gefunden|nicht\s+gefunden|page\s+introuvable|"
    r"page\s+non\s+trouvée|página\s+no\s+encontrada|no\s+se\s+(?:ha\s+)?encontr|pagina\s+non\s+trovata|"
    r"página\s+não\s+encontrada|pagina\s+niet\s+gevonden|niet\s+gevonden|nie\s+znaleziono|"
    r"strona\s+nie\s+(?:została\s+)?(?:znaleziona|istnieje)|страница\s+не\s+найдена|не\s+найдена",
    re.IGNORECASE,
)
_CONSENT = re.compile(
    r"cookie|consent|privacy\s+(?:settings|choices|preferences)|we\s+value\s+your\s+privacy|accept\s+all|"
    r"before\s+you\s+continue|zustimm|einwillig|alle\s+akzeptieren|datenschutz|accepter|consentement|"
    r"aceptar|consentimiento|accetta|consenso|aceitar|consentimento|toestemming|accepteren|akceptuj|zgod|"
    r"согласи|принять",
    re.IGNORECASE,
)
_PAYWALL = re.compile(
    r"subscribe\s+(?:now\s+)?to\s+(?:continue|read|unlock)|already\s+a\s+subscriber|subscribers?\s+only|"
    r"this\s+(?:article|content)\s+is\s+(?:for|reserved\s+for)\s+subscribers|to\s+continue\s+reading|"
    r"for\s+subscribers|sign\s+in\s+to\s+read|abonnieren\s+sie|nur\s+für\s+abonnenten|\bplus\b-?artikel|"
    r"réservé\s+aux\s+abonnés|abonnez-vous|exclusivo\s+para\s+suscriptores|suscríbete|riservato\s+agli\s+abbonati|"
    r"abbonati|exclusivo\s+para\s+assinantes|assine|alleen\s+voor\s+abonnees|tylko\s+dla\s+prenumeratorów|"
    r"только\s+для\s+подписчиков|оформите\s+подписку",
    re.IGNORECASE,
)
_PAYWALL_MARKUP = (
    "//*[contains(@class, 'paywall') or contains(@id, 'paywall') or contains(@class, 'piano') "
    "or contains(@class, 'premium-content') or contains(@class, 'subscriber-only') "
    "or contains(@class, 'article-locked') or contains(@class, 'meteredContent')]"
)
_VISIBLE_XPATH = "//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript or ancestor::template)]"


def _words(text: str) -> int:
    return len(text.split())


def classify_page(tree: HtmlElement, meta: PageMeta, text: str) -> str:
    """``"article"`` or the reason the page is not one (``soft404``, ``consent``, ``paywall``, ``listing``)."""
    words = _words(text)
    if words >= 300:
        return "article"  # enough prose: whatever else the page says, it carries an article
    heads = " ".join(x for x in (meta.html_title, meta.h1) if x)
    if words < 150 and heads and _NOT_FOUND.search(heads) and not meta.jsonld_types & ARTICLE_TYPES:
        return "soft404"
    if words < 150 and not meta.is_article_markup and _consent_wall(tree, text):
        return "consent"
    # the body we would archive is the subscription notice itself (a teaser paragraph alone stays an article)
    if words < 200 and _PAYWALL.search(text) and (meta.free is False or tree.xpath(_PAYWALL_MARKUP)):
        return "paywall"
    if not meta.is_article_markup and (words < 250 or meta.jsonld_types & LISTING_TYPES) and _link_heavy(tree):
        return "listing"
    return "article"


def _visible(tree: HtmlElement) -> str:
    return " ".join(tree.xpath(_VISIBLE_XPATH))


def _consent_wall(tree: HtmlElement, text: str) -> bool:
    """The visible page is mostly a consent banner."""
    visible = _visible(tree)
    hits = len(_CONSENT.findall(visible[:5000])) + len(_CONSENT.findall(text))
    return hits >= 2 and _words(visible) < 600


def _link_heavy(tree: HtmlElement) -> bool:
    """Many distinct links whose text makes up most of the page's text."""
    total = len(_visible(tree).split())
    links = [a.text_content() for a in tree.iterfind(".//body//a[@href]")]
    link_words = sum(len(t.split()) for t in links)
    teasers = {t.strip() for t in links if len(t.split()) >= 3}
    return len(teasers) >= 10 and total > 0 and link_words / total >= 0.4
