"""``DemoNetwork.manifest()``: the typed ground truth other stages' tests assert against.

It is computed from the same catalog, listings and feeds the server renders, never written by
hand, so "which URL is an article, where it can be discovered, what its clean text is and
which error a fault must produce" cannot disagree with what is actually served.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from pipeline.demo_site import feeds
from pipeline.demo_site.model import EDITIONS, Story
from pipeline.demo_site.outlets import OUTLET_SPECS, OutletSpec
from pipeline.demo_site.templates.common import Ctx, person_authors
from pipeline.demo_site.templates.harbour import amp_path

if TYPE_CHECKING:
    from pipeline.demo_site.network import DemoNetwork

Surface = str  # "feed" | "sitemap" | "news_sitemap" | "listing" | "related"


@dataclass(frozen=True)
class ArticleTruth:
    """What extraction and load must produce for one article URL (in the manifest's edition)."""

    url: str  # canonical, absolute, no tracking parameters
    outlet: str
    id: str
    title: str
    authors: tuple[str, ...]  # person names only (desk bylines like "Staff Reporter" excluded)
    published_at: datetime
    modified_at: datetime | None
    section: str
    language: str
    paragraphs: tuple[str, ...]  # the clean body, in order
    related: tuple[str, ...]  # canonical URLs the page links as related coverage
    found_in: frozenset[Surface]
    listing_page: int | None  # smallest listing page number (homepage or section) that links it
    editions: tuple[int, ...]
    changes_in_edition2: bool = False
    paywalled: bool = False
    wire: bool = False
    generated: bool = False
    charset: str = "utf-8"  # as actually encoded: utf-8 or windows-1251
    declared_charset_header: str | None = "utf-8"  # what Content-Type says (None: nothing; lie: iso-8859-1)
    amp_url: str | None = None
    fault: str | None = None  # "flaky" (first request 500, retry 200) | "slow" (times out)

    @property
    def text(self) -> str:
        """The clean text as ``ExtractedArticle.text`` should hold it (blank line between paragraphs)."""
        return "\n\n".join(self.paragraphs)


@dataclass(frozen=True)
class FaultTruth:
    url: str
    outlet: str
    kind: str  # see outlets.WartKind, plus "flaky" and "slow"
    category: str | None  # expected fetches.error_category; None = ends fine
    note: str
    location: str | None = None  # redirect target, absolute
    transient: bool = False  # succeeds when retried


@dataclass(frozen=True)
class RedirectTruth:
    url: str
    hops: tuple[str, ...]  # every Location followed, absolute, in order
    final_url: str


@dataclass(frozen=True)
class OutletManifest:
    key: str
    name: str
    base_url: str
    homepage: str
    robots_url: str
    feed_url: str | None
    feed_format: str | None
    sitemap_url: str
    news_sitemap_url: str | None
    article_urls: tuple[str, ...]  # canonical URLs served as articles in this edition, newest first
    listing_urls: tuple[str, ...]  # homepage + section pages, every pagination page
    robots_disallowed: tuple[str, ...]  # URLs linked from the site that robots.txt forbids
    disallowed_prefixes: tuple[str, ...]
    non_articles: tuple[str, ...]  # pages served 200 that are not articles
    faults: tuple[FaultTruth, ...]
    redirects: tuple[RedirectTruth, ...]
    amp: dict[str, str]  # AMP URL -> canonical URL
    changed_in_edition2: tuple[str, ...]
    new_in_edition2: tuple[str, ...]


@dataclass(frozen=True)
class Manifest:
    edition: int
    outlets: dict[str, OutletManifest]
    articles: dict[str, ArticleTruth]  # by canonical URL
    seed_url: str
    event_urls: tuple[str, ...]  # the seed story's event, covered by every outlet
    syndicated_pair: tuple[str, str]  # the same wire story on two outlets (near-duplicates)
    changed_in_edition2: tuple[str, ...]
    new_in_edition2: tuple[str, ...]
    generated_count: int = 0
    notes: dict[str, str] = field(default_factory=dict)

    def article(self, url: str) -> ArticleTruth:
        from pipeline.urls import canonicalize

        return self.articles.get(url) or self.articles[canonicalize(url)]

    def outlet(self, key: str) -> OutletManifest:
        return self.outlets[key]

    def articles_of(self, key: str) -> list[ArticleTruth]:
        return [self.articles[u] for u in self.outlets[key].article_urls]

    @property
    def faults(self) -> list[FaultTruth]:
        return [f for o in self.outlets.values() for f in o.faults]

    def fault_categories(self) -> dict[str, str | None]:
        return {f.url: f.category for f in self.faults}


def _outlet(
    network: DemoNetwork, ctx: Ctx, include_generated: bool
) -> tuple[OutletManifest, list[ArticleTruth]]:
    spec, edition, catalog = ctx.spec, ctx.edition, network.catalog
    listing = catalog.listing(spec.key, edition)
    stories: list[Story] = list(listing) if include_generated else list(listing.hand)
    feed_paths = {s.path for s in listing.slice(0, feeds.FEED_SIZE)} if spec.feed else set()
    news_paths = {s.path for s in feeds.news_stories(ctx, listing)} if spec.sitemap_index else set()
    listing_urls, first_page = _listing_pages(ctx, network, spec)
    related_targets: set[str] = set()
    for story in catalog.hand_written(spec.key, edition):
        related_targets.update(ctx.story_url(r) for r in catalog.related(story, edition))
    for other in OUTLET_SPECS:
        if other.key != spec.key:
            for story in catalog.hand_written(other.key, edition):
                related_targets.update(ctx.story_url(r) for r in catalog.related(story, edition))
    truths: list[ArticleTruth] = []
    for story in stories:
        url = ctx.story_url(story)
        found: set[str] = {"sitemap"}
        if story.path in feed_paths:
            found.add("feed")
        if story.path in news_paths:
            found.add("news_sitemap")
        if story.path in first_page:
            found.add("listing")
        if url in related_targets:
            found.add("related")
        if story.generated:
            found.add("related")  # generated articles chain to their neighbours
        charset = "windows-1251" if story.charset == "windows-1251" else "utf-8"
        header = {"windows-1251": None, "wrong-header": "iso-8859-1"}.get(story.charset or "", "utf-8")
        truths.append(
            ArticleTruth(
                url=url,
                outlet=spec.key,
                id=story.id,
                title=story.title,
                authors=person_authors(story),
                published_at=story.published,
                modified_at=story.modified_for(edition),
                section=story.section,
                language=story.language,
                paragraphs=story.paragraphs_for(edition),
                related=tuple(ctx.url(p, o) for o, p in catalog.related_paths(story, edition)),
                found_in=frozenset(found),
                listing_page=first_page.get(story.path),
                editions=story.editions,
                changes_in_edition2=story.changes_in_edition2(),
                paywalled=story.paywall,
                wire=story.wire,
                generated=story.generated,
                charset=charset,
                declared_charset_header=header,
                amp_url=ctx.url(amp_path(story)) if story.amp else None,
                fault=story.fault,
            )
        )
    faults: list[FaultTruth] = []
    redirects: list[RedirectTruth] = []
    non_articles: list[str] = []
    disallowed: list[str] = []
    for wart in spec.warts:
        url = ctx.url(wart.path)
        if wart.kind == "page":
            non_articles.append(url)
        elif wart.kind == "disallowed":
            disallowed.append(url)
        elif wart.kind == "redirect_chain":
            final = ctx.story_url(catalog.get(f"{spec.key}:{wart.target}"))
            redirects.append(RedirectTruth(url, (ctx.url("/go/budget-vote"), final), final))
        else:
            location = None
            if wart.kind == "redirect_loop":
                location = ctx.url(wart.target or "")
            elif wart.kind == "blocked_redirect":
                location = wart.target
            faults.append(FaultTruth(url, spec.key, wart.kind, wart.category, wart.note, location))
    for truth in truths:
        if truth.fault == "flaky":
            faults.append(
                FaultTruth(truth.url, spec.key, "flaky", None, "500 on odd-numbered requests", transient=True)
            )
        elif truth.fault == "slow":
            note = f"answers after slow_seconds={network.slow_seconds}s"
            faults.append(FaultTruth(truth.url, spec.key, "slow", "timeout", note))
    all_hand = [s for s in catalog.stories.values() if s.outlet == spec.key]
    manifest = OutletManifest(
        key=spec.key,
        name=spec.name,
        base_url=ctx.base,
        homepage=ctx.base + "/",
        robots_url=ctx.url("/robots.txt"),
        feed_url=ctx.url(spec.feed_path) if spec.feed_path else None,
        feed_format=spec.feed,
        sitemap_url=ctx.url("/sitemap.xml"),
        news_sitemap_url=ctx.url("/sitemaps/news.xml") if spec.sitemap_index else None,
        article_urls=tuple(t.url for t in truths),
        listing_urls=tuple(listing_urls),
        robots_disallowed=tuple(disallowed),
        disallowed_prefixes=spec.disallow,
        non_articles=tuple(non_articles),
        faults=tuple(faults),
        redirects=tuple(redirects),
        amp={t.amp_url: t.url for t in truths if t.amp_url},
        changed_in_edition2=tuple(ctx.story_url(s) for s in all_hand if s.changes_in_edition2()),
        new_in_edition2=tuple(ctx.story_url(s) for s in all_hand if s.editions == (2,)),
    )
    return manifest, truths


def _listing_pages(ctx: Ctx, network: DemoNetwork, spec: OutletSpec) -> tuple[list[str], dict[str, int]]:
    urls: list[str] = []
    first_page: dict[str, int] = {}
    for section in (None, *spec.sections):
        listing = network.catalog.listing(spec.key, ctx.edition, section)
        size = spec.home_page_size if section is None else spec.section_page_size
        for page in range(1, listing.pages(size) + 1):
            path = spec.home_path(page) if section is None else spec.section_path(section, page)
            urls.append(ctx.url(path))
        for i, story_path in enumerate(listing.paths()):
            page = i // size + 1
            if page < first_page.get(story_path, page + 1):
                first_page[story_path] = page
    return urls, first_page


def build_manifest(network: DemoNetwork, edition: int, *, include_generated: bool = True) -> Manifest:
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {EDITIONS}")
    base_urls = network.base_urls()
    outlets: dict[str, OutletManifest] = {}
    articles: dict[str, ArticleTruth] = {}
    for spec in OUTLET_SPECS:
        ctx = Ctx(spec, base_urls, network.catalog, edition)
        outlet, truths = _outlet(network, ctx, include_generated)
        outlets[spec.key] = outlet
        articles.update((t.url, t) for t in truths)
    catalog = network.catalog

    def url_of(key: str) -> str:
        story = catalog.get(key)
        return base_urls[story.outlet] + story.path

    return Manifest(
        edition=edition,
        outlets=outlets,
        articles=articles,
        seed_url=url_of("capital-examiner:seed"),
        event_urls=(
            url_of("capital-examiner:seed"),
            url_of("northern-ledger:belgorod-raid"),
            url_of("harbour-times:belgorod-incursion"),
        ),
        syndicated_pair=(url_of("northern-ledger:wire-rates"), url_of("harbour-times:wire-rates")),
        changed_in_edition2=tuple(u for o in outlets.values() for u in o.changed_in_edition2),
        new_in_edition2=tuple(u for o in outlets.values() for u in o.new_in_edition2),
        generated_count=catalog.generator.count,
        notes={
            "blocked_network": "the webcam page redirects to 0.0.0.0:9, an address the crawler's network "
            "guard must refuse even with allow_private_networks (it never leaves this machine)",
            "redirect_chain": "301 then 302; the final article is also reachable directly",
            "amp": "the AMP page's <link rel=canonical> names the non-AMP URL",
            "charset": "windows-1251 page declares its charset only in <meta http-equiv>; the "
            "wrong-header page is UTF-8 served as charset=iso-8859-1",
        },
    )
