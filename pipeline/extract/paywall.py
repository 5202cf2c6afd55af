"""Paywall and teaser flags: is a page behind a paywall, and is the body we got the whole story?

A consumer must not mistake a teaser for the article, so ``is_paywalled`` / ``is_complete``
are set from what the page itself says, strongest first:

1. JSON-LD: an article node with ``isAccessibleForFree: false`` (or ``"False"``, ``"no"``),
   or a ``hasPart`` with ``isAccessibleForFree: false`` (Google's paywalled-content markup).
   Declared paywalls are paywalled; the body is incomplete only when something shows the
   gated part is missing (below), because metered sites serve the full text to a crawler.
   A ``hasPart`` names its gated section with ``cssSelector``: when that section is absent
   or (nearly) empty in the page, the body is a teaser.
2. A gate in the markup: an element whose class or id is a paywall marker (``paywall``,
   ``meter``, ``regwall``, ``subscriber-only``, ``piano-offer``, ...; not in the header, nav
   or footer, and not a link or button there: "Subscribe" buttons are every page's chrome;
   bare ``piano``/``tp-*`` are not markers, Piano also runs free sites' newsletter slots). Markers alone make a page
   paywalled (a metered page still carries them); a marker element that holds a gate
   sentence ("Subscribe to continue reading") means the gate was shown: incomplete.
3. A body that *ends* in a subscription prompt, in any of the languages below: paywalled
   and incomplete. Only the last lines count, so a story *about* subscriptions is not
   flagged, and the login-style phrases ("Already a subscriber?") that sit in every page's
   chrome count only there. A gate sentence the line cleaning removed as boilerplate
   counts as well (the cleaning drops it precisely because it is not body text).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lxml import etree
from lxml.html import HtmlElement

from pipeline.extract.jsonld import ARTICLE_TYPES, node_types

#: Lines at the end of the body searched for a subscription prompt.
TAIL_LINES = 3
#: A prompt line longer than this is prose (a story mentioning subscribers), not a gate;
#: and the prompt must open the line (a sentence that quotes one further in is prose too).
MAX_PROMPT_LINE_CHARS = 200
PROMPT_START_CHARS = 12
#: A ``hasPart`` section with less text than this is the empty shell of a gated section.
MIN_GATED_PART_CHARS = 200
#: Marker elements inspected per page (class/id scans on huge pages stay bounded).
MAX_MARKER_ELEMENTS = 50

_MARKER = re.compile(
    r"(?:^|[\s_-])(?:pay-?wall(?:ed)?|reg-?wall|metered|meter|metering|subscribers?-only|subscriber-content|"
    r"premium-(?:content|article|only|lock|wall)|locked-(?:content|article)|article-lock(?:ed)?|"
    r"content-gate|hard-gate|plus-(?:content|article|paywall)|abo-(?:only|content|teaser|wall)|paid-content|"
    r"piano-(?:offer|inline|paywall))(?=$|[\s_-])",
    re.I,
)
#: The words every marker contains: one cheap scan over all class/id values first, and the
#: per-element check only on pages where one occurs (a few percent of pages).
_QUICK = (
    "paywall",
    "pay-wall",
    "regwall",
    "reg-wall",
    "meter",
    "subscriber",
    "premium-",
    "locked-",
    "article-lock",
    "-gate",
    "plus-",
    "abo-",
    "paid-content",
    "piano-",
)
_MARKER_XPATH = "//body//*[@class or @id]"
_ATTRIBUTES = etree.XPath("//body//@class | //body//@id", smart_strings=False)
#: Marker elements here are the site's chrome (a "Subscribe" button in the header), not a gate.
_CHROME = frozenset({"header", "nav", "footer"})
_NOT_A_GATE = frozenset({"script", "style", "link", "meta", "a", "button", "li", "noscript"})

# Sentences that say the rest of this article is for subscribers (strong: count anywhere
# in the tail or among the lines the cleaning removed).
_GATE = (
    # English
    r"(?:subscribe|sign up|register|log ?in|sign in)\s+(?:now\s+)?to\s+(?:continue|keep|read|finish)\s+"
    r"(?:reading|the\s+(?:full\s+)?(?:article|story))",
    r"to\s+(?:continue|keep)\s+reading,?\s+(?:please\s+)?(?:subscribe|log\s*in|sign\s+in|register|become)",
    r"(?:this|the)\s+(?:article|story|content|piece)\s+is\s+(?:only\s+)?(?:available\s+)?(?:exclusively\s+)?"
    r"(?:for|to|reserved\s+for|exclusive\s+to)\s+(?:paying\s+|our\s+|digital\s+)?(?:subscribers|members)",
    r"you\s+(?:have|'ve)\s+(?:reached|used\s+up)\s+(?:your|the)\s+(?:free\s+|monthly\s+)?"
    r"(?:article|story|page)\s+limit",
    r"(?:unlock|read)\s+(?:this|the\s+full)\s+(?:article|story)\s+(?:with|by\s+subscribing|for)",
    r"^(?:for\s+)?subscribers\s+only\b",
    # German
    r"(?:dieser|der)\s+(?:artikel|beitrag|inhalt)\s+ist\s+(?:exklusiv|nur)\s+für\s+"
    r"(?:abonnent|abonnement|plus|digital|zahlende)",
    r"exklusiv\s+für\s+(?:abonnenten|abonnentinnen|abonnent\*innen|plus-?(?:leser|kunden|abonnenten))",
    r"(?:jetzt|gleich)\s+(?:abonnieren|abo\s+abschließen|testen|freischalten)\s+und\s+weiterlesen",
    r"(?:lesen\s+sie|weiterlesen)\s+(?:jetzt\s+)?(?:weiter\s+)?mit\s+(?:\w+\s*)?(?:plus|\+|abo)\b",
    r"um\s+(?:den\s+(?:ganzen\s+)?artikel\s+)?weiterzulesen",
    # French
    r"(?:cet|cette)\s+(?:article|contenu|enquête)\s+est\s+réservée?\s+aux\s+abonnés",
    r"il\s+vous\s+reste\s+\d+\s*%\s+de\s+cet\s+article\s+à\s+lire",
    r"abonnez-vous\s+pour\s+(?:lire|continuer|poursuivre)",
    # Spanish / Portuguese / Italian
    r"(?:este|esta)\s+(?:artículo|contenido|noticia)\s+es\s+(?:exclusiv[oa]|solo)\s+para\s+suscriptores",
    r"suscr[íi]bete\s+para\s+(?:seguir|continuar)\s+leyendo",
    r"(?:conteúdo|matéria)\s+exclusiv[oa]\s+para\s+assinantes|assine\s+para\s+continuar\s+lendo",
    r"(?:questo|quest')\s*(?:articolo|contenuto)\s+è\s+riservato\s+agli\s+abbonati",
    r"abbonati\s+per\s+(?:continuare\s+a\s+leggere|leggere)",
    # Dutch / Scandinavian
    r"(?:dit\s+artikel|deze\s+inhoud)\s+is\s+(?:alleen|exclusief)\s+(?:beschikbaar\s+|te\s+lezen\s+)?voor\s+abonnees",
    r"denne\s+artik(?:kel|el)(?:en)?\s+er\s+(?:forbeholdt|kun\s+for)\s+abonnenter",
    r"den\s+här\s+artikeln\s+är\s+(?:låst|endast\s+för\s+prenumeranter)",
    # Russian / Polish
    r"(?:этот|данный)\s+материал\s+доступен\s+только\s+(?:по\s+)?подписч",
    r"оформите\s+подписку,?\s+чтобы\s+(?:продолжить|читать)",
    r"(?:ten\s+)?artykuł\s+(?:jest\s+)?dostępny\s+(?:tylko\s+)?dla\s+(?:prenumeratorów|subskrybentów)",
    # Japanese / Chinese / Korean
    r"(?:有料)?会員限定(?:記事|です)|続きを読むには.{0,20}(?:登録|ログイン|購読)",
    r"(?:订阅|訂閱|付费|付費)(?:后|後)?(?:继续|繼續)?阅读全文|(?:订阅|訂閱)后继续阅读|付费内容",
    r"유료\s*회원\s*전용|구독\s*후\s*(?:이용|읽)",
)
# Login prompts that accompany a gate; common in every page's chrome, so they count only at
# the end of the body itself.
_LOGIN = (
    r"^already\s+(?:a\s+)?(?:subscriber|member)\?",
    r"^(?:sie\s+sind\s+bereits\s+abonnent|bereits\s+abonnent|schon\s+abonnent)",
    r"^déjà\s+abonné",
    r"^¿?ya\s+eres\s+suscriptor",
    r"^(?:sei\s+)?già\s+abbonato",
    r"^já\s+é\s+assinante",
    r"^al\s+abonnee",
)
GATE = re.compile("|".join(f"(?:{p})" for p in _GATE), re.I)
LOGIN = re.compile("|".join(f"(?:{p})" for p in _LOGIN), re.I)


@dataclass(frozen=True)
class PaywallSignals:
    """What the unmodified page says about a paywall (read before the pre-clean prunes it)."""

    declared: bool = False  # JSON-LD says the article is not free
    declared_free: bool = False  # JSON-LD says it is free (markers of the site's chrome then don't count)
    gated_part_missing: bool = False  # a declared gated hasPart section is absent or empty
    markers: tuple[str, ...] = ()  # paywall class/id markers found
    gate_shown: bool = False  # a marker element holds a gate sentence


def _not_free(value: Any) -> bool:
    if isinstance(value, bool):
        return value is False
    if isinstance(value, str):
        return value.strip().lower() in {
            "false",
            "no",
            "0",
            "https://schema.org/false",
            "http://schema.org/false",
        }
    return False


def _parts(node: dict[str, Any]) -> list[dict[str, Any]]:
    part = node.get("hasPart")
    items = part if isinstance(part, list) else [part]
    return [p for p in items if isinstance(p, dict)]


def _selector_text(tree: HtmlElement, selectors: Iterable[str]) -> int | None:
    """Text length of the elements a ``cssSelector`` names.

    None when no selector is usable or none matches: a section that is not in the page at
    all proves nothing (a metered site may name a class only its subscriber template uses).
    """
    from lxml.cssselect import CSSSelector  # lazily: only pages that declare gated parts

    total: int | None = None
    for css in selectors:
        try:
            found = CSSSelector(css)(tree)
        except Exception:  # an invalid selector in a publisher's JSON-LD
            continue
        if found:
            total = (total or 0) + sum(len((el.text_content() or "").strip()) for el in found)
    return total


def _in_chrome(el: HtmlElement) -> bool:
    return el.tag in _NOT_A_GATE or any(a.tag in _CHROME for a in el.iterancestors())


def _markers(tree: HtmlElement) -> tuple[list[str], bool]:
    """Paywall markers in class/id values outside the chrome, and whether one holds a gate."""
    joined = "\n".join(_ATTRIBUTES(tree))
    values = joined.lower()
    if not any(word in values for word in _QUICK):
        return [], False
    # A marker lies within one class/id value (its bounds are spaces, "_" or "-", and the
    # separator here is a newline), so no match in all values together means no element has
    # one: most pages with a quick word ("plus-", "meter") stop here, before a proxy is made
    # for every element that has a class or an id.
    if _MARKER.search(joined) is None:
        return [], False
    markers: list[str] = []
    gate_shown = False
    for el in tree.xpath(_MARKER_XPATH):
        found = _MARKER.search(f" {el.get('class') or ''} {el.get('id') or ''} ")
        if found is None or _in_chrome(el):
            continue
        markers.append(found.group(0).strip(" _-").lower())
        if not gate_shown and GATE.search(" ".join((el.text_content() or "").split())[:2000]):
            gate_shown = True
        if len(markers) >= MAX_MARKER_ELEMENTS:
            break
    return markers, gate_shown


def page_signals(tree: HtmlElement, nodes: list[dict[str, Any]]) -> PaywallSignals:
    """Paywall signals of the raw page (JSON-LD nodes and markup)."""
    declared = declared_free = False
    selectors: list[str] = []
    for node in nodes:
        if not node_types(node) & ARTICLE_TYPES:
            continue
        free = node.get("isAccessibleForFree")
        if _not_free(free):
            declared = True
        elif free is True or (isinstance(free, str) and free.strip().lower() in {"true", "yes"}):
            declared_free = True
        for part in _parts(node):
            if _not_free(part.get("isAccessibleForFree")):
                declared = True
                css = part.get("cssSelector")
                selectors.extend(c for c in (css if isinstance(css, list) else [css]) if isinstance(c, str))
    missing = False
    if selectors:
        chars = _selector_text(tree, selectors)
        missing = chars is not None and chars < MIN_GATED_PART_CHARS
    markers, gate_shown = _markers(tree)
    return PaywallSignals(declared, declared_free, missing, tuple(dict.fromkeys(markers)), gate_shown)


def _prompt(line: str, pattern: re.Pattern[str]) -> bool:
    if len(line) > MAX_PROMPT_LINE_CHARS:
        return False
    found = pattern.search(line)
    return found is not None and found.start() <= PROMPT_START_CHARS


def ends_in_prompt(lines: list[str], removed: Iterable[str] = ()) -> bool:
    """The body's last lines (or a line the cleaning removed) are a subscription prompt."""
    if any(_prompt(line, GATE) or _prompt(line, LOGIN) for line in lines[-TAIL_LINES:]):
        return True
    return any(_prompt(line, GATE) for line in removed)


def paywall_flags(
    signals: PaywallSignals, lines: list[str], removed: Iterable[str] = (), *, body_from_json: bool = False
) -> tuple[bool, bool]:
    """``(is_paywalled, is_complete)`` of an extracted body.

    ``body_from_json``: the body was read from JSON (``articleBody``, framework state), which
    carries the whole text whatever the visible page hides; only a prompt ending it then
    makes it a teaser.
    """
    prompt = ends_in_prompt(lines, removed)
    markers = bool(signals.markers) and not signals.declared_free
    paywalled = signals.declared or markers or prompt
    shown = signals.gated_part_missing or (signals.gate_shown and not signals.declared_free)
    incomplete = prompt or (shown and not body_from_json)
    return paywalled, not incomplete
