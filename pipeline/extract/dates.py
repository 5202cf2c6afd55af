"""Publication and modification dates, each with where it came from.

Only evidence the page itself states is used: JSON-LD, ``<meta>`` tags, ``<time>``
elements, a date in the URL path, and a date written next to the headline/byline. We never
guess from arbitrary numbers in the body or the crawl time: a consumer sorting by date is
better served by "unknown" than by an invented date. For the same reason the date found is
then judged by the date-confidence model (:mod:`pipeline.extract.dateconf`, via
:func:`judge_dates` once the byline and the article score are known): guides and topic pages
show "Last updated" lines and template dates without having a publication date. Parsing lives in
:mod:`pipeline.extract.dateparse`, the dates a page shows (``<time>``, the dateline) in
:mod:`pipeline.extract.dateshown`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from lxml.html import HtmlElement

from pipeline import clock
from pipeline.extract.dateconf import MODEL_NAME, Evidence, confidence
from pipeline.extract.dateparse import build_date, parse_date
from pipeline.extract.dateshown import Dateline, text_date, text_dateline, time_elements
from pipeline.extract.jsonld import ARTICLE_TYPES, NEWS_TYPES, node_types
from pipeline.extract.language import normalise_code
from pipeline.extract.metadata import meta_key
from pipeline.extract.models import load_model
from pipeline.records import DateOrigin

__all__ = [
    "Dates",
    "date_evidence",
    "extract_dates",
    "judge_dates",
    "midnight",
    "parse_date",
    "text_date",
    "to_day",
    "url_date",
]

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
#: The feature name of each source of a publication date -> the origin stored with it.
_ORIGINS: dict[str, DateOrigin] = {
    "url": "url",
    "meta": "meta",
    "time-near": "time",
    "time-elsewhere": "time",
    "text": "text",
    "jsonld": "jsonld",
}
_URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?:[/_+.-]|$)")
_URL_DATE_COMPACT = re.compile(r"/((?:19|20)\d{2})(\d{2})(\d{2})/")


@dataclass(frozen=True)
class Dates:
    published: datetime | None = None
    published_from: DateOrigin | None = None
    modified: datetime | None = None
    modified_from: DateOrigin | None = None
    #: a publication date the page offers but the date model judged not its own (not published)
    withheld: datetime | None = None
    #: the date model's score for the date found (>= 0 kept); None without a model or a date
    confidence: float | None = None
    #: where the publication date came from, for the date model (None without a model)
    evidence: Evidence | None = field(default=None, compare=False, repr=False)


#: Visible text read for the date model's evidence when an earlier source gave the date.
EVIDENCE_TEXT_CHARS = 4000


def _plausible(value: datetime, now: datetime) -> bool:
    return datetime(1995, 1, 1, tzinfo=UTC) <= value <= now + timedelta(days=2)


_META_DATE_KEYS = frozenset(PUBLISHED_META) | frozenset(MODIFIED_META)


def _meta_date_values(tree: HtmlElement) -> dict[str, str]:
    """The first date value of each published/modified meta key, in one walk over the metas
    (a walk per key list read the whole tree twice)."""
    found: dict[str, str] = {}
    for meta in tree.iterfind(".//meta"):
        key = meta_key(meta)
        if key in _META_DATE_KEYS and key not in found:
            content = meta.get("content") or meta.get("datetime")
            if content:
                found[key] = content
    return found


def _meta_dates(found: dict[str, str], names: tuple[str, ...]) -> datetime | None:
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


def url_date(url: str) -> datetime | None:
    match = _URL_DATE.search(url) or _URL_DATE_COMPACT.search(url)
    if not match:
        return None
    return build_date(int(match[1]), int(match[2]), int(match[3]))


#: A page that shows no date anywhere and has no article date meta tag, whose JSON-LD says it
#: was first published more than this long before its last modification, is a maintained
#: evergreen page (a guide, a service or glossary page, terms): its creation date is not a
#: publication date a reader sees, and the page gets none.
EVERGREEN_AGE = timedelta(days=365)


def _declares_article(tree: HtmlElement, nodes: list[dict[str, Any]]) -> bool:
    if any(node_types(node) & ARTICLE_TYPES for node in nodes):
        return True
    for meta in tree.iterfind(".//meta[@property]"):
        if (meta.get("property") or "").lower() == "og:type":
            return (meta.get("content") or "").strip().lower() == "article"
    return False


def extract_dates(
    tree: HtmlElement, nodes: list[dict[str, Any]], url: str, headline: HtmlElement | None = None
) -> Dates:
    """Pick the published/modified dates by source reliability.

    When a date model is installed the result carries the evidence behind the publication
    date, for :func:`judge_dates` once the page's byline and article score are known.
    """
    dates, evidence = _collect(tree, nodes, url, headline, load_model(MODEL_NAME) is not None)
    return replace(dates, evidence=evidence) if evidence is not None else dates


def judge_dates(dates: Dates, has_author: bool, article_score: float | None) -> Dates:
    """Withhold the publication date when the date model judges it not the page's own.

    The date is kept in ``withheld`` (not published) and the score in ``confidence``; without
    a model or evidence, or on a page that declares itself news, the dates pass unchanged.
    """
    if dates.evidence is None or dates.published is None or dates.evidence.news:
        return dates
    score = confidence(dates.evidence, has_author, article_score)
    if score is None or score >= 0:
        return replace(dates, confidence=score)
    return replace(dates, published=None, published_from=None, withheld=dates.published, confidence=score)


def date_evidence(
    tree: HtmlElement, nodes: list[dict[str, Any]], url: str, headline: HtmlElement | None = None
) -> tuple[Dates, Evidence | None]:
    """The dates found before the model's judgement and the evidence behind them (for training)."""
    return _collect(tree, nodes, url, headline, True)


def _collect(
    tree: HtmlElement,
    nodes: list[dict[str, Any]],
    url: str,
    headline: HtmlElement | None,
    want_evidence: bool,
) -> tuple[Dates, Evidence | None]:
    """The dates by source reliability, and (``want_evidence``) every candidate for the model."""
    now = clock.now()
    ld_pub, ld_mod = _jsonld_dates(nodes)
    meta_values = _meta_date_values(tree)
    meta_pub = _meta_dates(meta_values, PUBLISHED_META)
    meta_mod = _meta_dates(meta_values, MODIFIED_META)
    from_url = url_date(url)
    language = normalise_code(tree.get("lang"))
    shown: dict[str, datetime | None] = {}
    dateline: list[Dateline | None] = []

    def time_near() -> datetime | None:
        if "near" not in shown:
            shown["near"], shown["elsewhere"], shown["time_mod"] = time_elements(tree, headline)
        return shown["near"]

    def time_elsewhere() -> datetime | None:
        time_near()
        return shown["elsewhere"]

    def written() -> datetime | None:
        if not dateline:
            dateline.append(text_dateline(tree, headline, language))
        return dateline[0].value if dateline[0] is not None else None

    def published_candidates() -> Iterator[tuple[datetime | None, str]]:
        # The date the page shows wins over the one its JSON-LD declares: CMSs fill JSON-LD
        # datePublished with the original creation date (or the WebPage node's) and keep it
        # when a story is re-dated, while the URL, the article meta tags, <time> and the
        # visible dateline follow what readers see. JSON-LD stays the last resort. (WCXB
        # dev: publish day 88 % in this order against 85 % with JSON-LD first.) A <time>
        # next to the headline comes first, then one elsewhere in the page (a teaser's never
        # counts), then the written dateline. Lazy: the page is only scanned when the
        # sources before said nothing (the date model, when installed, reads them all).
        yield from_url, "url"
        yield meta_pub, "meta"
        yield time_near(), "time-near"
        yield time_elsewhere(), "time-elsewhere"
        yield written(), "text"
        yield ld_pub, "jsonld"

    published: datetime | None = None
    source: str | None = None
    for value, where in published_candidates():
        if value is not None and _plausible(value, now):
            published, source = value, where
            break
    origin: DateOrigin | None = _ORIGINS[source] if source is not None else None
    if published is not None and origin in ("url", "text"):
        # A URL or a written date gives the day only: a structured source naming the same
        # day also gives the time and the zone.
        for value, where in ((ld_pub, "jsonld"), (meta_pub, "meta"), (time_near(), "time")):
            if value is not None and value.date() == published.date():
                published, origin = value, where  # type: ignore[assignment]
                break
    modified: datetime | None = None
    modified_origin: DateOrigin | None = None
    for value, where in ((ld_mod, "jsonld"), (meta_mod, "meta")):
        if value is not None and _plausible(value, now):
            modified, modified_origin = value, where  # type: ignore[assignment]
            break
    if modified is None:
        time_near()
        if shown["time_mod"] is not None and _plausible(shown["time_mod"], now):
            modified, modified_origin = shown["time_mod"], "time"
    if published is not None and modified is not None and modified < published:
        modified, modified_origin = None, None
    if (
        published is not None
        and origin == "jsonld"
        and modified is not None
        and modified - published > EVERGREEN_AGE
        and from_url is None
        and time_near() is None
        and time_elsewhere() is None
        and written() is None
    ):
        published, origin = None, None
    dates = Dates(published, origin, modified, modified_origin)
    if published is None or source is None or not want_evidence:
        return dates, None
    if not dateline:
        # The model only asks whether a dateline near the top agrees: reading the whole page's
        # text for labelled dates too cost 4 ms a page (a tenth of the extraction).
        dateline.append(text_dateline(tree, headline, language, EVIDENCE_TEXT_CHARS))
    evidence = Evidence(
        candidates={
            "url": from_url,
            "meta": meta_pub,
            "time-near": time_near(),
            "time-elsewhere": time_elsewhere(),
            "text": dateline[0].value if dateline[0] is not None else None,
            "jsonld": ld_pub,
        },
        source=source,
        published=published,
        modified=modified,
        dateline=dateline[0],
        declared_article=_declares_article(tree, nodes),
        headline=headline is not None,
        news=any(node_types(node) & NEWS_TYPES for node in nodes),
    )
    return dates, evidence


def to_day(value: datetime) -> date:
    return value.date()


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)
