"""Publication and modification dates, each with where it came from.

Only evidence the page itself states is used: JSON-LD, ``<meta>`` tags, ``<time>``
elements, a date in the URL path, and a date written next to the headline/byline. We never
guess from arbitrary numbers in the body or the crawl time: a consumer sorting by date is
better served by "unknown" than by an invented date.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from lxml.html import HtmlElement

from pipeline import clock
from pipeline.extract.jsonld import ARTICLE_TYPES, node_types
from pipeline.records import DateOrigin

PUBLISHED_META = (
    "article:published_time",
    "og:published_time",
    "og:article:published_time",
    "datepublished",
    "publishdate",
    "publish-date",
    "publish_date",
    "pubdate",
    "published_time",
    "published-date",
    "article.published",
    "dc.date.issued",
    "dcterms.issued",
    "dcterms.created",
    "dc.date.created",
    "dc.date",
    "dc.created",
    "date",
    "sailthru.date",
    "parsely-pub-date",
    "article_date_original",
    "originalpublicationdate",
    "cxenseparse:recs:publishtime",
    "citation_publication_date",
    "citation_date",
    "release_date",
    "created",
)
MODIFIED_META = (
    "article:modified_time",
    "og:updated_time",
    "og:modified_time",
    "datemodified",
    "last-modified",
    "dcterms.modified",
    "dc.date.modified",
    "lastmod",
)
MONTHS = {
    # English, German, French, Spanish, Italian, Portuguese, Dutch: cheap and common.
    "jan": 1, "january": 1, "januar": 1, "janvier": 1, "enero": 1, "gennaio": 1, "janeiro": 1, "januari": 1,
    "feb": 2, "february": 2, "februar": 2, "février": 2, "fevrier": 2, "febrero": 2, "febbraio": 2,
    "fevereiro": 2, "februari": 2,
    "mar": 3, "march": 3, "märz": 3, "maerz": 3, "mars": 3, "marzo": 3, "março": 3, "marco": 3, "maart": 3,
    "apr": 4, "april": 4, "avril": 4, "abril": 4, "aprile": 4,
    "may": 5, "mai": 5, "mayo": 5, "maggio": 5, "maio": 5, "mei": 5,
    "jun": 6, "june": 6, "juni": 6, "juin": 6, "junio": 6, "giugno": 6, "junho": 6,
    "jul": 7, "july": 7, "juli": 7, "juillet": 7, "julio": 7, "luglio": 7, "julho": 7,
    "aug": 8, "august": 8, "août": 8, "aout": 8, "agosto": 8, "augustus": 8,
    "sep": 9, "sept": 9, "september": 9, "septembre": 9, "septiembre": 9, "settembre": 9, "setembro": 9,
    "oct": 10, "october": 10, "oktober": 10, "octobre": 10, "octubre": 10, "ottobre": 10, "outubro": 10,
    "nov": 11, "november": 11, "novembre": 11, "noviembre": 11, "novembro": 11,
    "dec": 12, "december": 12, "dezember": 12, "décembre": 12, "decembre": 12, "diciembre": 12,
    "dicembre": 12, "dezembro": 12,
}  # fmt: skip
_MONTH_NAMES = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))
_ISO = re.compile(
    r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*"
    r"(Z|[+-]\d{2}:?\d{2}|UTC|GMT)?)?(?!\d)",
    re.I,
)
_SLASHED_YMD = re.compile(r"(?<!\d)(\d{4})[/.](\d{1,2})[/.](\d{1,2})(?!\d)")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:T?(\d{2})(\d{2})(\d{2})?)?(Z)?$")
_MDY_NAME = re.compile(rf"\b({_MONTH_NAMES})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I)
_DMY_NAME = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th|er|º)?\.?\s+(?:de\s+)?({_MONTH_NAMES})\.?,?\s+(?:de\s+)?(\d{{4}})\b", re.I
)
_NUMERIC_DMY = re.compile(r"(?<!\d)(\d{1,2})([./-])(\d{1,2})\2(\d{4})(?!\d)")
_URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?:[/_+.-]|$)")
_URL_DATE_COMPACT = re.compile(r"/((?:19|20)\d{2})(\d{2})(\d{2})/")
_EPOCH = re.compile(r"^\d{10}(\d{3})?$")
# A dateline's label right before the date: such a date counts wherever it sits on the page.
_DATELINE_LABEL = re.compile(
    r"(published|posted|updated|modified|date|on|by|written|reviewed|min read|\||publié|veröffentlicht"
    r"|publicado|pubblicato|aktualisiert)\W*$",
    re.I,
)
# Words before a date that make it something other than the page's date (offers, events,
# opening hours, deadlines, facts in the body): such a date is skipped, never taken.
_NOT_PUBLICATION = re.compile(
    r"(valid|expires?|expiring|effective|as of|last active|last checked|until|through|deadline|due|hours"
    r"|born|since|from|between|released|launched|founded|event|starts?|ends?)\W*$",
    re.I,
)
# An unlabelled date further into the visible text than this is body content, not a dateline.
TEXT_DATE_MAX_OFFSET = 3000
_UPDATED_WORD = re.compile(r"\b(updated|modified|aktualisiert|mis à jour|actualizado)\b", re.I)


@dataclass(frozen=True)
class Dates:
    published: datetime | None = None
    published_from: DateOrigin | None = None
    modified: datetime | None = None
    modified_from: DateOrigin | None = None


def _plausible(value: datetime, now: datetime) -> bool:
    return datetime(1995, 1, 1, tzinfo=UTC) <= value <= now + timedelta(days=2)


def _tz(spec: str | None) -> timezone:
    if not spec or spec.upper() in {"Z", "UTC", "GMT"}:
        return UTC
    sign = -1 if spec[0] == "-" else 1
    digits = spec[1:].replace(":", "")
    try:
        return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0)))
    except ValueError:
        return UTC


def _build(
    y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0, tz: timezone = UTC
) -> datetime | None:
    try:
        return datetime(y, m, d, hh, mm, ss, tzinfo=tz)
    except ValueError:
        return None


def parse_date(value: Any) -> datetime | None:
    """A timezone-aware datetime from the formats pages actually use, else None."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(int(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 200:
        return None
    if _EPOCH.match(text):
        seconds = int(text[:10])
        return datetime.fromtimestamp(seconds, tz=UTC)
    match = _ISO.search(text)
    if match:
        y, m, d, hh, mi, ss, tz = match.groups()
        return _build(int(y), int(m), int(d), int(hh or 0), int(mi or 0), int(ss or 0), _tz(tz))
    match = _COMPACT.match(text)
    if match:
        y, m, d, hh, mi, ss, _z = match.groups()
        return _build(int(y), int(m), int(d), int(hh or 0), int(mi or 0), int(ss or 0))
    match = _SLASHED_YMD.search(text)
    if match:
        return _build(int(match[1]), int(match[2]), int(match[3]))
    return parse_human_date(text)


def parse_human_date(text: str) -> datetime | None:
    """ "May 22, 2023", "22 mai 2023", "22.05.2023" (day-first for numeric forms)."""
    match = _MDY_NAME.search(text)
    if match:
        month = MONTHS.get(match[1].lower())
        if month:
            return _build(int(match[3]), month, int(match[2]))
    match = _DMY_NAME.search(text)
    if match:
        month = MONTHS.get(match[2].lower())
        if month:
            return _build(int(match[3]), month, int(match[1]))
    match = _NUMERIC_DMY.search(text)
    if match:
        first, second, year = int(match[1]), int(match[3]), int(match[4])
        if first > 12 or match[2] == ".":
            return _build(year, second, first)
        if second > 12:
            return _build(year, first, second)
        # Ambiguous 05/06/2023: US sites write month first with slashes.
        return _build(year, first, second) if match[2] == "/" else _build(year, second, first)
    return None


def _meta_dates(tree: HtmlElement, names: tuple[str, ...]) -> datetime | None:
    found: dict[str, str] = {}
    for meta in tree.iterfind(".//meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        if key in names and key not in found:
            content = meta.get("content") or meta.get("datetime")
            if content:
                found[key] = content
    for name in names:
        if name in found:
            parsed = parse_date(found[name])
            if parsed is not None:
                return parsed
    return None


def _jsonld_dates(nodes: list[dict[str, Any]]) -> tuple[datetime | None, datetime | None]:
    published = modified = None
    ranked = sorted(nodes, key=lambda n: 0 if node_types(n) & ARTICLE_TYPES else 1)
    for node in ranked:
        types = node_types(node)
        if types & {"person", "organization", "imageobject", "videoobject", "product", "event", "offer"}:
            continue
        if published is None:
            published = parse_date(node.get("datePublished") or node.get("dateCreated"))
        if modified is None:
            modified = parse_date(node.get("dateModified"))
        if published is not None and types & ARTICLE_TYPES:
            break
    return published, modified


def _time_elements(tree: HtmlElement) -> tuple[datetime | None, datetime | None]:
    published = modified = None
    for el in tree.iterfind(".//time"):
        raw = el.get("datetime") or el.get("content") or (el.text_content() or "")
        parsed = parse_date(raw)
        if parsed is None:
            continue
        marker = " ".join(
            filter(
                None,
                [
                    el.get("class"),
                    el.get("itemprop"),
                    el.getparent().get("class") if el.getparent() is not None else None,
                ],
            )
        ).lower()
        context = (el.getparent().text_content() if el.getparent() is not None else "")[:80]
        if (
            "modif" in marker
            or "updat" in marker
            or (_UPDATED_WORD.search(context) and "publish" not in marker)
        ):
            modified = modified or parsed
            continue
        if published is None:
            published = parsed
    for el in tree.xpath(".//*[@itemprop='datePublished' or @itemprop='dateModified'][not(self::meta)]"):
        parsed = parse_date(el.get("content") or el.get("datetime") or el.text_content())
        if parsed is None:
            continue
        if el.get("itemprop") == "datePublished":
            published = published or parsed
        else:
            modified = modified or parsed
    return published, modified


def url_date(url: str) -> datetime | None:
    match = _URL_DATE.search(url) or _URL_DATE_COMPACT.search(url)
    if not match:
        return None
    return _build(int(match[1]), int(match[2]), int(match[3]))


_INVISIBLE = frozenset(
    {"script", "style", "noscript", "template", "svg", "head", "title", "nav", "footer", "aside"}
)


def _visible_text(tree: HtmlElement, limit: int = 20_000) -> str:
    """The start of the page's visible body text (no scripts, navigation or footers)."""
    body = tree.find(".//body")
    parts: list[str] = []
    size = 0

    def walk(el: HtmlElement) -> None:
        nonlocal size
        if size > limit:
            return
        hidden = not isinstance(el.tag, str) or el.tag in _INVISIBLE
        if not hidden:
            marker = f"{el.get('class') or ''} {el.get('id') or ''}".lower()
            hidden = "comment" in marker
        if not hidden and el.text:
            parts.append(el.text)
            size += len(el.text)
        if not hidden:
            for child in el:
                walk(child)
        if el.tail:
            parts.append(el.tail)
            size += len(el.tail)

    walk(body if body is not None else tree)
    return " ".join(" ".join(parts).split())


_TEXT_DATE_FORMATS: tuple[tuple[re.Pattern[str], Callable[[str], datetime | None]], ...] = (
    (_MDY_NAME, parse_human_date),
    (_DMY_NAME, parse_human_date),
    (_ISO, parse_date),
    (_SLASHED_YMD, parse_date),
    (_NUMERIC_DMY, parse_human_date),
)


def text_date(tree: HtmlElement) -> datetime | None:
    """The dateline date written in the page's visible text, if there is one.

    Dates lead bylines, so the first date in the visible text is the candidate. Dates
    introduced as something else ("valid through", "as of", "released on") are skipped;
    an unlabelled date deep in the text is body content, and then the page has no dateline.
    """
    text = _visible_text(tree)
    found: list[tuple[int, datetime]] = []
    for rx, parse in _TEXT_DATE_FORMATS:
        for match in rx.finditer(text):
            parsed = parse(match.group(0))
            if parsed is not None:
                found.append((match.start(), parsed))
    for start, parsed in sorted(found, key=lambda item: item[0]):
        before = text[max(0, start - 40) : start]
        if _NOT_PUBLICATION.search(before):
            continue
        if start <= TEXT_DATE_MAX_OFFSET or _DATELINE_LABEL.search(before):
            return parsed
        return None
    return None


def extract_dates(
    tree: HtmlElement, nodes: list[dict[str, Any]], url: str, headline: HtmlElement | None = None
) -> Dates:
    """Pick the published/modified dates by source reliability."""
    now = clock.now()
    published: datetime | None = None
    origin: DateOrigin | None = None
    modified: datetime | None = None
    modified_origin: DateOrigin | None = None

    ld_pub, ld_mod = _jsonld_dates(nodes)
    meta_pub = _meta_dates(tree, PUBLISHED_META)
    meta_mod = _meta_dates(tree, MODIFIED_META)
    from_url = url_date(url)
    # <time> elements need a scan of the whole tree: only when they can matter.
    need_time = (from_url is None and meta_pub is None) or (ld_mod is None and meta_mod is None)
    time_pub, time_mod = _time_elements(tree) if need_time else (None, None)

    def published_candidates() -> Iterator[tuple[datetime | None, DateOrigin]]:
        # The date the page shows wins over the one its JSON-LD declares: CMSs fill JSON-LD
        # datePublished with the original creation date (or the WebPage node's) and keep it
        # when a story is re-dated, while the URL, the article meta tags, <time> and the
        # visible dateline follow what readers see. JSON-LD stays the last resort. (WCXB
        # dev: publish day 88 % in this order against 85 % with JSON-LD first.) Lazy: the
        # visible text is only scanned when the structured sources before it said nothing.
        yield from_url, "url"
        yield meta_pub, "meta"
        yield time_pub, "time"
        yield text_date(tree), "text"
        yield ld_pub, "jsonld"

    for value, where in published_candidates():
        if value is not None and _plausible(value, now):
            published, origin = value, where
            break
    if published is not None and origin in ("url", "text"):
        # A URL or a written date gives the day only: a structured source naming the same
        # day also gives the time and the zone.
        for value, where in ((ld_pub, "jsonld"), (meta_pub, "meta"), (time_pub, "time")):
            if value is not None and value.date() == published.date():
                published, origin = value, where
                break
    for value, where in ((ld_mod, "jsonld"), (meta_mod, "meta"), (time_mod, "time")):
        if value is not None and _plausible(value, now):
            modified, modified_origin = value, where  # type: ignore[assignment]
            break
    if published is not None and modified is not None and modified < published:
        modified, modified_origin = None, None
    return Dates(published, origin, modified, modified_origin)


def to_day(value: datetime) -> date:
    return value.date()


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)
