"""The three outlets: URL shapes, sections, discovery surfaces and the warts each one carries.

Each outlet deliberately differs (URL scheme, feed format, date style, time zone), because a
crawler or extractor tuned on one site must prove it copes with the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

FeedKind = Literal["rss", "atom"]
WartKind = Literal[
    "page",  # a non-article page (about, contact, video-only, article-ish listing hub)
    "redirect_chain",  # 301 -> 302 -> final article
    "redirect_loop",  # A -> B -> A ...
    "not_found",  # 404
    "unavailable",  # 503 forever
    "oversized",  # far larger than politeness.max_response_bytes
    "binary",  # a PDF behind an article-like URL
    "blocked_redirect",  # redirects to an address the network guard must refuse
    "disallowed",  # robots.txt forbids it; served (200) if fetched anyway
]

# Where the redirect of the "blocked_redirect" wart points: the unspecified address, so that
# even a crawler that wrongly follows it never leaves this machine.
BLOCKED_TARGET = "http://0.0.0.0:9/webcam/live.html"


@dataclass(frozen=True)
class Wart:
    """A page that is not a plain article: what it is and what the crawler should conclude."""

    path: str
    kind: WartKind
    category: str | None  # expected error category, None when the page is served fine
    title: str
    note: str
    target: str | None = None  # redirect target path (or story id for the final article)


@dataclass(frozen=True)
class OutletSpec:
    key: str
    name: str
    tz: ZoneInfo
    feed: FeedKind | None
    sitemap_index: bool
    sections: tuple[str, ...]
    disallow: tuple[str, ...]
    warts: tuple[Wart, ...]
    home_page_size: int = 8
    section_page_size: int = 5
    schedule: tuple[str, str] = ("0 * * * *", "UTC")
    article_allow: str = ""

    # -- URL shapes ---------------------------------------------------------------------
    def home_path(self, page: int = 1) -> str:
        if page == 1:
            return "/"
        return {
            "capital-examiner": f"/page/{page}/",
            "northern-ledger": f"/?page={page}",
            "harbour-times": f"/index-{page}.html",
        }[self.key]

    def section_path(self, section: str, page: int = 1) -> str:
        if self.key == "capital-examiner":
            return f"/section/{section}/" if page == 1 else f"/section/{section}/page/{page}/"
        if self.key == "northern-ledger":
            return f"/news/{section}" if page == 1 else f"/news/{section}?page={page}"
        return f"/section/{section}.html" if page == 1 else f"/section/{section}-{page}.html"

    def generated_path(self, section: str, slug: str, number: int, published: datetime) -> str:
        d = published.astimezone(self.tz)
        if self.key == "capital-examiner":
            return f"/{d:%Y/%m/%d}/{slug}-{number:05d}/"
        if self.key == "northern-ledger":
            return f"/news/{section}/{slug}-{number:05d}"
        return f"/story/{d:%Y%m%d}/{slug}-{number:05d}.html"

    @property
    def feed_path(self) -> str | None:
        return {"rss": "/feed.rss", "atom": "/atom.xml", None: None}[self.feed]


CAPITAL = OutletSpec(
    key="capital-examiner",
    name="The Capital Examiner",
    tz=ZoneInfo("America/New_York"),
    feed="rss",
    sitemap_index=False,
    sections=("politics", "world", "business", "metro"),
    disallow=("/private/",),
    schedule=("0 * * * *", "America/New_York"),
    article_allow=r"/\d{4}/\d{2}/\d{2}/[a-z0-9-]+/?$",
    warts=(
        Wart("/about/", "page", None, "About the Capital Examiner", "non-article page"),
        Wart("/contact/", "page", None, "Contact us", "non-article page"),
        Wart(
            "/2023/05/22/video-belgorod-governor-addresses-residents/",
            "page",
            None,
            "WATCH: Belgorod governor addresses residents",
            "video-only page with an article-like URL; no body text",
        ),
        Wart(
            "/2023/05/11/council-budget-vote-set-for-friday/",
            "redirect_chain",
            None,
            "Council budget vote set for Friday",
            "301 to /go/budget-vote, then 302 to the budget article",
            target="council-budget",
        ),
        Wart(
            "/2023/05/10/story-removed-at-request-of-source/",
            "not_found",
            "http_4xx",
            "Story removed",
            "404; still listed in the RSS feed (stale entry)",
        ),
        Wart(
            "/private/2023/05/22/editors-planning-memo/",
            "disallowed",
            None,
            "Editors' planning memo",
            "robots.txt disallows /private/; must never be requested by an obedient crawler",
        ),
    ),
)

NORTHERN = OutletSpec(
    key="northern-ledger",
    name="Northern Ledger",
    tz=ZoneInfo("Europe/London"),
    feed="atom",
    sitemap_index=False,
    sections=("world", "uk", "business", "culture", "sport"),
    disallow=("/drafts/",),
    schedule=("15 * * * *", "Europe/London"),
    article_allow="/news/",
    warts=(
        Wart("/about-us", "page", None, "About the Northern Ledger", "non-article page"),
        Wart("/contact", "page", None, "Contact the Northern Ledger", "non-article page"),
        Wart(
            "/news/world/belgorod-incursion-latest-updates",
            "page",
            None,
            "Belgorod incursion: latest updates",
            "topic hub that looks like an article (headline, date) but is a listing of teasers",
        ),
        Wart(
            "/news/uk/council-elections-results",
            "redirect_loop",
            "redirect_loop",
            "Council elections results",
            "302 to …-2023 which 302s back",
            target="/news/uk/council-elections-results-2023",
        ),
        Wart(
            "/news/uk/council-elections-live",
            "unavailable",
            "http_5xx",
            "Council elections live",
            "503 with Retry-After on every request",
        ),
        Wart(
            "/drafts/news/uk/embargoed-budget-leak",
            "disallowed",
            None,
            "Embargoed budget leak",
            "robots.txt disallows /drafts/",
        ),
    ),
)

HARBOUR = OutletSpec(
    key="harbour-times",
    name="Harbour Times",
    tz=ZoneInfo("Asia/Tokyo"),
    feed=None,
    sitemap_index=True,
    sections=("local", "business", "world", "weather", "community"),
    disallow=("/members/",),
    schedule=("30 * * * *", "Asia/Tokyo"),
    article_allow="/story/",
    warts=(
        Wart("/about.html", "page", None, "About Harbour Times", "non-article page"),
        Wart("/contact.html", "page", None, "Contact Harbour Times", "non-article page"),
        Wart(
            "/story/20230514/full-text-of-city-council-transcript.html",
            "oversized",
            "too_large",
            "Full text: city council transcript",
            "about 3x politeness.max_response_bytes, with Content-Length",
        ),
        Wart(
            "/story/20230513/port-authority-annual-report.html",
            "binary",
            "not_html",
            "Port authority annual report",
            "application/pdf behind an article-like URL",
        ),
        Wart(
            "/story/20230512/live-harbour-webcam.html",
            "blocked_redirect",
            "blocked_network",
            "Live harbour webcam",
            f"302 to {BLOCKED_TARGET} (unspecified address; the network guard must refuse it)",
            target=BLOCKED_TARGET,
        ),
        Wart(
            "/members/story/20230522/port-authority-board-minutes.html",
            "disallowed",
            None,
            "Port authority board minutes",
            "robots.txt disallows /members/",
        ),
    ),
)

OUTLET_SPECS: tuple[OutletSpec, ...] = (CAPITAL, NORTHERN, HARBOUR)
SPEC_BY_KEY = {spec.key: spec for spec in OUTLET_SPECS}
