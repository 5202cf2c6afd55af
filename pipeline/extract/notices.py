"""Pages that say why they have no article: removal notices and JavaScript shells.

A retracted story often keeps answering 200 with a notice in the site's template ("This
story has been removed."). Such a page is neither an article nor an empty page: it is a
removal, and the load marks the stored story removed. The notice must be the page's main
text, not a sentence of a real story about a removal, so :func:`removal_notice` requires
all of: little main text (no prose), the notice phrase at the start of a heading or of a
short line, and (checked by the caller) no article body anywhere, JSON included.

A JavaScript shell (an empty mount point filled by a later XHR) has no body in the HTML
nor in its embedded JSON; :func:`looks_like_js_shell` lets the outcome name that cause,
so the quality gate can tell a redesign to a client-rendered site from a listing.

An article page whose CMS rendered the chrome around an empty body container leaves only
headline, byline and share buttons: :func:`is_furniture_only` names that text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml.html import HtmlElement

from pipeline.extract.cleaning import normalise_line

#: Below this many characters of HTML text a page with framework markers is a JavaScript shell.
SHELL_TEXT_CHARS = 200
SHELL_REASON = "JavaScript shell: no body text in the HTML or its embedded JSON"
#: Text this short with no sentence in it is page furniture, not a body.
FURNITURE_MAX_CHARS = 400
FURNITURE_REASON = "no body text: only headline, byline and page furniture (no sentence)"

#: A main text longer than this (characters) is an article or a listing, not a notice page.
MAX_NOTICE_PAGE_CHARS = 1200
#: A notice line is short; a sentence in a story is usually longer and says more.
MAX_NOTICE_LINE_CHARS = 200
#: Lines at least this long are prose; a notice page has at most one (an apology paragraph).
PROSE_LINE_CHARS = 250

# No "video": "This video is no longer available" is a dead embed's placeholder, not a retraction.
_THING_EN = r"(?:story|article|page|content|post|item|report|blog post|piece|news story)"
_GONE_EN = r"(?:removed|retracted|withdrawn|taken down|deleted|unpublished|expired|pulled)"
_THING_DE = r"(?:artikel|beitrag|inhalt|seite|text|meldung|nachricht|video)"
_THING_FR = r"(?:article|contenu|page|publication|vidéo|video)"
_THING_ES = r"(?:artículo|articulo|contenido|página|pagina|noticia|nota|publicación|video)"
_NOTICE_PATTERNS = (
    # English: "This story has been removed.", "The article you requested is no longer available"
    rf"(?:(?:this|the|that)\s+{_THING_EN}(?:\s+you\s+(?:are\s+looking\s+for|requested))?\s+"
    rf"(?:has\s+been|had\s+been|was|is|have\s+been)\s+(?:permanently\s+)?{_GONE_EN}\b)",
    rf"(?:(?:this|the|that)\s+{_THING_EN}(?:\s+you\s+(?:are\s+looking\s+for|requested))?\s+"
    r"(?:is|are)\s+no\s+longer\s+(?:available|online|accessible)\b)",
    rf"(?:{_THING_EN}\s+(?:removed|retracted|withdrawn|unavailable|no\s+longer\s+available)\W*$)",
    r"(?:(?:this\s+\w+\s+)?(?:has\s+been\s+|was\s+)?removed\s+at\s+the\s+request\s+of\b)",
    r"(?:retraction(?:\s+notice)?\s*:)",
    # German: "Dieser Artikel ist nicht mehr verfügbar", "... wurde entfernt / gelöscht / zurückgezogen"
    rf"(?:(?:dieser|diese|dieses|der|die|das)\s+{_THING_DE}\s+(?:ist|wurde|war)\s+"
    r"(?:nicht\s+mehr\s+(?:verfügbar|abrufbar|online)|(?:auf\s+\w+\s+\w+\s+)?(?:entfernt|gelöscht|"
    r"zurückgezogen|depubliziert)))",
    # French: "Cet article a été supprimé / retiré", "Ce contenu n'est plus disponible"
    rf"(?:(?:cet|cette|ce|l[’'])\s*{_THING_FR}\s+(?:a\s+été\s+(?:supprimée?|retirée?|dépubliée?)|"
    r"n[’']est\s+plus\s+disponible))",
    # Spanish: "Este artículo ha sido eliminado / retirado", "Esta noticia ya no está disponible"
    rf"(?:(?:este|esta|el|la)\s+{_THING_ES}\s+(?:ha\s+sido\s+(?:eliminad[oa]|retirad[oa]|"
    r"borrad[oa]|despublicad[oa])|ya\s+no\s+est[aá]\s+disponible))",
)
_NOTICE = re.compile(
    r"^(?:(?:we[’']re\s+sorry|sorry|update|editor[’']s\s+note|note|hinweis|entschuldigung|désolé|"
    r"lo\s+sentimos)[\s,.:!—–-]*)?(?:" + "|".join(_NOTICE_PATTERNS) + ")",
    re.I,
)


def notice_line(lines: Iterable[str]) -> str | None:
    """The first short line that is a removal notice, else None."""
    for raw in lines:
        line = normalise_line(raw)
        if line and len(line) <= MAX_NOTICE_LINE_CHARS and _NOTICE.search(line):
            return line
    return None


def _headings(tree: HtmlElement) -> list[str]:
    texts = [el.text_content() or "" for el in tree.xpath("//body//h1 | //body//h2 | //body//h3")[:20]]
    title = tree.find(".//title")
    if title is not None:
        texts.append(title.text_content() or "")
    return texts


def _short_blocks(tree: HtmlElement) -> list[str]:
    """Short visible blocks (when the extractor kept nothing, the notice is still in one)."""
    blocks = tree.xpath("//body//p | //body//div[not(.//div|.//p)] | //body//span[not(*)] | //body//strong")
    return [el.text_content() or "" for el in blocks[:300]]


def removal_notice(tree: HtmlElement, lines: list[str]) -> str | None:
    """The notice line when the page's main text is essentially a removal notice, else None.

    ``tree`` is the pre-cleaned page, ``lines`` the cleaned main-text lines from the HTML.
    """
    if sum(len(line) for line in lines) > MAX_NOTICE_PAGE_CHARS:
        return None
    if sum(1 for line in lines if len(line) >= PROSE_LINE_CHARS) > 1:
        return None
    return (
        notice_line(_headings(tree))
        or notice_line(lines)
        or (notice_line(_short_blocks(tree)) if not lines else None)
    )


_MOUNT_IDS = ("__next", "__nuxt", "app", "root", "___gatsby", "svelte", "main-app", "react-root")
_MOUNT_XPATH = (
    "//body//*["
    + " or ".join(f"@id='{i}'" for i in _MOUNT_IDS)
    + " or @data-reactroot or @ng-version or @data-v-app]"
)


def asks_for_javascript(tree: HtmlElement) -> bool:
    """A ``<noscript>`` plea ("You need to enable JavaScript"); read before the pre-clean."""
    return any("javascript" in (el.text_content() or "").lower() for el in tree.iter("noscript"))


def looks_like_js_shell(tree: HtmlElement, has_state: bool, asks_js: bool) -> bool:
    """Framework markers on the page: embedded state, a noscript plea, or an app's mount point.

    Called only for pages with almost no text (the mount-point search scans every element).
    """
    return has_state or asks_js or bool(tree.xpath(_MOUNT_XPATH))


_SENTENCE_END = re.compile(r"[.!?;:\u3002\uff01\uff1f\u0964\u061f\u06d4][\"'\u201d\u2019)\]]*(?:\s|$)")
#: Scripts that end sentences with a space, not a mark (Thai, Lao, Tibetan, Myanmar, Khmer):
#: no sentence end proves nothing there.
_UNPUNCTUATED_SCRIPT = re.compile(r"[\u0e00-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff]")


def is_furniture_only(text: str) -> bool:
    """Short text without a single sentence end: a headline, a byline, share buttons.

    Every body, even a one-paragraph brief, ends a sentence somewhere; chrome (section label,
    headline, "By …", dates, "Facebook Twitter Email Print") never does. Text mostly in a
    script that does not mark sentence ends is never judged furniture.
    """
    if len(text) > FURNITURE_MAX_CHARS or _SENTENCE_END.search(text) is not None:
        return False
    letters = sum(1 for ch in text if ch.isalpha())
    return len(_UNPUNCTUATED_SCRIPT.findall(text)) * 3 < max(letters, 1)
