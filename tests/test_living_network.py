"""The living demo network (issue 13): real HTTP on loopback against its own ground truth."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import lxml.etree
import lxml.html
import pytest

from pipeline.config import SourcesFile, load_sources
from pipeline.demo_site.catalog import Catalog
from pipeline.demo_site.living import LiveStory, LivingNetwork, Timeline, build_timeline
from pipeline.demo_site.living.schedule import EDIT_AGES, QUIET_UNTIL
from pipeline.demo_site.living.site import LivingSite
from pipeline.demo_site.outlets import SPEC_BY_KEY
from pipeline.errors import UsageError
from pipeline.netpolicy import openings_for

START = datetime(2026, 10, 1, tzinfo=UTC)
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
MINUTE = timedelta(minutes=1)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture(scope="module")
def net() -> Iterator[LivingNetwork]:
    with LivingNetwork(seed=13, start=START, days=30) as network:
        yield network


def at(net: LivingNetwork, t: datetime, story: LiveStory) -> tuple[int, dict[str, str], bytes]:
    net.set_now(t)
    return fetch(story.url(net.base_url(story.outlet)))


def body_paragraphs(html: bytes, outlet: str, redesigned: bool = False) -> list[str]:
    container = {
        "capital-examiner": "article-body",
        "northern-ledger": "article-body",
        "harbour-times": "c-article__content" if redesigned else "story-body",
    }[outlet]
    tree = lxml.html.fromstring(html)
    nodes = tree.xpath(f'//div[contains(concat(" ", @class, " "), " {container} ")]')
    assert len(nodes) == 1, f"one body container .{container} expected"
    return [p.text_content() for p in nodes[0].xpath("./p")]


def feed_urls(net: LivingNetwork, outlet: str) -> set[str]:
    """Article URLs on the outlet's machine surface (feed, or the gzipped sitemap)."""
    base = net.base_url(outlet)
    if outlet == "harbour-times":
        status, _, body = fetch(base + "/sitemaps/articles.xml.gz")
        assert status == 200
        root = lxml.etree.fromstring(gzip.decompress(body))
        return {el.text or "" for el in root.iter(f"{SM}loc")}
    path = SPEC_BY_KEY[outlet].feed_path
    assert path is not None
    status, _, body = fetch(base + path)
    assert status == 200
    root = lxml.etree.fromstring(body)
    links = {el.text or "" for el in root.iter("link")}
    links |= {el.get("href") or "" for el in root.iter("{http://www.w3.org/2005/Atom}link")}
    return links


def first(stories: list[LiveStory], why: str) -> LiveStory:
    assert stories, f"the timeline has no {why}"
    return stories[0]


# -- ground truth ------------------------------------------------------------------------------


def test_timeline_is_deterministic_and_seed_dependent() -> None:
    a, b = build_timeline(13, START, 30), build_timeline(13, START, 30)
    assert a.stories == b.stories and a.incidents == b.incidents
    other = build_timeline(14, START, 30)
    assert [s.path for s in other.stories] != [s.path for s in a.stories]
    # Pure rendering: the same (path, time) gives the same bytes from two separate timelines.
    base = {key: f"http://127.0.0.1:{i + 1}" for i, key in enumerate(SPEC_BY_KEY)}
    t = START + timedelta(days=9, hours=13)
    story = a.live_at(t, "capital-examiner")[-1]
    pages = [
        LivingSite(SPEC_BY_KEY["capital-examiner"], timeline, base, Catalog(0))
        .handle(story.path, t)
        .response.body
        for timeline in (a, b)
    ]
    assert pages[0] == pages[1] and story.versions[0].title.encode() in pages[0].replace(b"&#x27;", b"'")


def test_schedule_has_quiet_hours_edits_at_milestones_and_every_removal_kind() -> None:
    timeline = build_timeline(13, START, 30)
    for outlet, spec in SPEC_BY_KEY.items():
        stories = timeline.outlet_stories(outlet)
        assert all(s.published.astimezone(spec.tz).hour >= QUIET_UNTIL for s in stories), outlet
        busy = {s.published.replace(minute=0, second=0) for s in stories}
        quiet = [START + timedelta(hours=h) for h in range(30 * 24) if START + timedelta(hours=h) not in busy]
        assert len(quiet) >= 30 * QUIET_UNTIL, f"{outlet}: expected night hours without new stories"
        per_local_day = Counter(s.published.astimezone(spec.tz).date() for s in stories)
        full_days = sorted(per_local_day)[1:-1]  # the first and last local day are cut by the span
        assert all(6 <= per_local_day[d] <= 11 for d in full_days), (outlet, per_local_day)
    corrections = timeline.corrections()
    assert corrections and all(v.at - s.published in EDIT_AGES for s, v in corrections)
    assert {v.announced for _, v in corrections} == {True, False}
    assert all(v.text != s.versions[i].text for s in timeline.stories for i, v in enumerate(s.versions[1:]))
    kinds = [s.removal.kind for s in timeline.retractions() if s.removal]
    assert set(kinds) == {"410", "404", "redirect", "notice"}
    assert 0.02 < len(kinds) / len(timeline.stories) < 0.1
    assert {i.kind for i in timeline.incidents} == {
        "feed_outage",
        "redesign",
        "js_section",
        "broken_template",
    }


def test_short_timeline_still_has_every_incident_and_removal_kind() -> None:
    timeline = build_timeline(13, START, 2)
    assert all(i.start < timeline.end for i in timeline.incidents)
    assert {s.removal.kind for s in timeline.retractions() if s.removal} == {
        "410",
        "404",
        "redirect",
        "notice",
    }
    assert any(s.js_shell for s in timeline.stories)
    broken = timeline.incident("capital-examiner", "broken_template")
    assert broken is not None and broken.end is not None
    assert any(broken.start <= s.published < broken.end for s in timeline.outlet_stories("capital-examiner"))


# -- HTTP -----------------------------------------------------------------------------------------


def test_story_is_404_before_publication_and_200_after(net: LivingNetwork) -> None:
    story = net.timeline.outlet_stories("northern-ledger")[40]
    assert at(net, story.published - MINUTE, story)[0] == 404
    status, headers, body = at(net, story.published, story)
    assert status == 200 and story.versions[0].paragraphs[0][:40].encode() in body
    assert parsedate_to_datetime(headers["Last-Modified"]) == story.published
    assert parsedate_to_datetime(headers["Date"]) == story.published  # the simulated clock
    net.set_now(story.published - MINUTE)
    assert story.url(net.base_url(story.outlet)) not in feed_urls(net, "northern-ledger")
    net.set_now(story.published)
    assert story.url(net.base_url(story.outlet)) in feed_urls(net, "northern-ledger")


def test_edit_changes_text_and_last_modified_and_conditional_gets_follow(net: LivingNetwork) -> None:
    broken = net.timeline.incident("capital-examiner", "broken_template")
    assert broken is not None
    story, version = next(
        (s, v)
        for s, v in net.timeline.corrections()
        if s.outlet == "capital-examiner" and v is s.versions[1] and v.at < broken.start - timedelta(days=1)
    )
    status, headers, before = at(net, version.at - MINUTE, story)
    assert status == 200
    etag, last_modified = headers["ETag"], headers["Last-Modified"]
    assert parsedate_to_datetime(last_modified) == story.published
    net.set_now(version.at - timedelta(seconds=1))
    assert fetch(story.url(net.base_url(story.outlet)), {"If-None-Match": etag})[0] == 304
    assert fetch(story.url(net.base_url(story.outlet)), {"If-Modified-Since": last_modified})[0] == 304
    net.set_now(version.at)
    url = story.url(net.base_url(story.outlet))
    status, headers, after = fetch(url, {"If-None-Match": etag})
    assert status == 200 and headers["ETag"] != etag
    assert parsedate_to_datetime(headers["Last-Modified"]) == version.modified
    assert fetch(url, {"If-Modified-Since": last_modified})[0] == 200
    assert fetch(url, {"If-None-Match": headers["ETag"]})[0] == 304
    assert body_paragraphs(after, "capital-examiner")[: len(version.paragraphs)] == list(version.paragraphs)
    assert body_paragraphs(before, "capital-examiner")[: len(story.versions[0].paragraphs)] == list(
        story.versions[0].paragraphs
    )
    ld = lxml.html.fromstring(after).xpath('//script[@type="application/ld+json"]')[0].text
    assert json.loads(ld)["dateModified"] == version.modified.isoformat()


def test_announced_edits_move_the_feed_date_and_silent_ones_do_not(net: LivingNetwork) -> None:
    seen = set()
    for story, version in net.timeline.corrections():
        if story.outlet != "northern-ledger" or version is not story.versions[1] or version.announced in seen:
            continue
        if net.timeline.active("northern-ledger", "feed_outage", version.at):
            continue
        net.set_now(version.at)
        status, _, body = fetch(net.base_url("northern-ledger") + "/atom.xml")
        assert status == 200
        url = story.url(net.base_url(story.outlet))
        root = lxml.etree.fromstring(body)
        a = "{http://www.w3.org/2005/Atom}"
        entry = next(
            e for e in root.iter(f"{a}entry") if e.find(f"{a}id") is not None and e.find(f"{a}id").text == url
        )
        shown = datetime.fromisoformat(entry.find(f"{a}updated").text or "")
        assert shown == (version.modified if version.announced else story.published)
        seen.add(version.announced)
        if len(seen) == 2:
            break
    assert seen == {True, False}


@pytest.mark.parametrize("kind", ["410", "404", "redirect", "notice"])
def test_each_retraction_kind_is_served_and_the_story_leaves_the_surfaces(
    net: LivingNetwork, kind: str
) -> None:
    story = first(
        [
            s
            for s in net.timeline.retractions()
            if s.removal
            and s.removal.kind == kind
            and not net.timeline.active(s.outlet, "feed_outage", s.removal.at - MINUTE)
        ],
        f"{kind} retraction",
    )
    assert story.removal is not None
    removed = story.removal.at
    base = net.base_url(story.outlet)
    url = story.url(base)
    status, _, _ = at(net, removed - MINUTE, story)
    assert status == 200 and story.live_at(removed - MINUTE)
    assert url in feed_urls(net, story.outlet)
    status, headers, body = at(net, removed, story)
    assert not story.live_at(removed) and story.text_at(removed) is None
    if kind in ("410", "404"):
        assert status == int(kind)
    elif kind == "redirect":
        assert status == 301
        front = base + SPEC_BY_KEY[story.outlet].section_path(story.section)
        assert headers["Location"] == front
        assert fetch(front)[0] == 200
    else:
        assert status == 200
        assert parsedate_to_datetime(headers["Last-Modified"]) == removed
        text = lxml.html.fromstring(body).text_content()
        assert "This story has been removed" in text
        assert b"NewsArticle" not in body and b"article-body" not in body and b"story-body" not in body
        assert story.versions[-1].paragraphs[0][:60] not in text
    assert url not in feed_urls(net, story.outlet)
    assert story.path.encode() not in fetch(base + "/")[2]


def test_gzipped_sitemap_parses_and_lists_the_live_stories(net: LivingNetwork) -> None:
    t = START + timedelta(days=10, hours=7)
    net.set_now(t)
    base = net.base_url("harbour-times")
    status, _, index = fetch(base + "/sitemap.xml")
    assert status == 200
    children = [el.text for el in lxml.etree.fromstring(index).iter(f"{SM}loc")]
    gz = [c for c in children if c and c.endswith(".xml.gz")]
    assert len(gz) == 1
    status, headers, body = fetch(gz[0])
    assert status == 200 and headers["Content-Type"] in ("application/x-gzip", "application/gzip")
    assert "Content-Encoding" not in headers and body[:2] == b"\x1f\x8b"
    root = lxml.etree.fromstring(gzip.decompress(body))
    listed = {el.text for el in root.iter(f"{SM}loc")}
    live = {
        s.url(base) for s in net.timeline.live_at(t, "harbour-times") if s.published >= t - timedelta(days=30)
    }
    assert listed == live and len(live) > 50
    lastmods = {
        url.findtext(f"{SM}loc"): datetime.fromisoformat(url.findtext(f"{SM}lastmod") or "")
        for url in root.iter(f"{SM}url")
    }
    for story in net.timeline.live_at(t, "harbour-times"):
        assert lastmods[story.url(base)] == story.announced_at(t)


def test_js_shell_page_has_its_body_only_in_next_data(net: LivingNetwork) -> None:
    js = net.timeline.incident("northern-ledger", "js_section")
    assert js is not None and js.section
    story = first([s for s in net.timeline.stories if s.js_shell], "JS shell story")
    assert story.published >= js.start and story.section == js.section
    assert not any(s.js_shell for s in net.timeline.stories if s.published < js.start)
    t = story.published + MINUTE
    status, _, body = at(net, t, story)
    assert status == 200
    tree = lxml.html.fromstring(body)
    assert tree.xpath('//div[@id="__next"]')[0].text_content() == ""
    data = json.loads(tree.xpath('//script[@id="__NEXT_DATA__"]')[0].text)
    article = data["props"]["pageProps"]["article"]
    assert "\n".join(article["body"]) == story.text_at(t)
    assert article["headline"] == story.versions[0].title
    ld = json.loads(tree.xpath('//script[@type="application/ld+json"]')[0].text)
    assert "articleBody" not in ld and ld["@type"] == "NewsArticle"
    for script in tree.xpath('//script[@id="__NEXT_DATA__"]'):
        script.getparent().remove(script)
    rest = lxml.html.tostring(tree, encoding="unicode")
    for paragraph in story.versions[0].paragraphs:
        assert paragraph[:50] not in rest
    # The feed still lists it.
    assert story.url(net.base_url(story.outlet)) in feed_urls(net, "northern-ledger")


def test_redesign_changes_class_names_on_articles_and_listings(net: LivingNetwork) -> None:
    redesign = net.timeline.incident("harbour-times", "redesign")
    assert redesign is not None
    story = next(
        s
        for s in reversed(net.timeline.outlet_stories("harbour-times"))
        if s.published < redesign.start - timedelta(hours=2) and s.live_at(redesign.start + timedelta(days=3))
    )
    status, old_headers, old = at(net, redesign.start - MINUTE, story)
    old_home = fetch(net.base_url("harbour-times") + "/")[2]
    status2, new_headers, new = at(net, redesign.start + MINUTE, story)
    new_home = fetch(net.base_url("harbour-times") + "/")[2]
    assert status == status2 == 200
    assert b'class="story-body"' in old and b"story-body" not in new and b'class="c-article__content"' in new
    assert b"headline-row" in old_home and b"headline-row" not in new_home and b'class="c-card"' in new_home
    assert parsedate_to_datetime(new_headers["Last-Modified"]) == redesign.start
    assert new_headers["ETag"] != old_headers["ETag"]
    text = story.text_at(redesign.start + MINUTE)
    assert text is not None and "\n".join(body_paragraphs(new, "harbour-times", redesigned=True)) == text


def test_text_at_matches_the_paragraphs_the_page_renders(net: LivingNetwork) -> None:
    timeline: Timeline = net.timeline
    t = START + timedelta(days=27, hours=11)
    for outlet in SPEC_BY_KEY:
        live = [s for s in timeline.live_at(t, outlet) if not s.js_shell]
        edited = [s for s in live if len(s.versions) > 1 and s.versions[1].at <= t][:3]
        for story in edited + live[-3:]:
            status, _, body = at(net, t, story)
            assert status == 200
            truth = story.text_at(t)
            assert truth is not None
            rendered = body_paragraphs(body, outlet, redesigned=outlet == "harbour-times")
            n = len(truth.split("\n"))
            if outlet == "capital-examiner":  # the outlet's in-body boilerplate follows the story
                assert rendered[n:] == [
                    "CLICK HERE TO READ MORE FROM THE CAPITAL EXAMINER",
                    "© 2023 Capital Examiner",
                ]
                rendered = rendered[:n]
            assert "\n".join(rendered) == truth, story.path


def test_quiet_hour_feed_answers_304(net: LivingNetwork) -> None:
    timeline = net.timeline
    hour = next(
        START + timedelta(hours=h)
        for h in range(24, 30 * 24)
        if timeline.last_change("capital-examiner", START + timedelta(hours=h))
        == timeline.last_change("capital-examiner", START + timedelta(hours=h + 1))
    )
    feed = net.base_url("capital-examiner") + "/feed.rss"
    net.set_now(hour)
    status, headers, _ = fetch(feed)
    assert status == 200
    net.set_now(hour + timedelta(minutes=59))
    assert fetch(feed, {"If-None-Match": headers["ETag"]})[0] == 304
    assert (
        fetch(net.base_url("capital-examiner") + "/", {"If-Modified-Since": headers["Last-Modified"]})[0]
        == 304
    )


def test_feed_outage_answers_503_while_the_listing_works(net: LivingNetwork) -> None:
    outage = net.timeline.incident("northern-ledger", "feed_outage")
    assert outage is not None and outage.end is not None
    assert outage.end - outage.start == timedelta(hours=6)
    base = net.base_url("northern-ledger")
    net.set_now(outage.start + timedelta(hours=1))
    status, headers, _ = fetch(base + "/atom.xml")
    assert status == 503 and "Retry-After" in headers
    assert fetch(base + "/")[0] == 200
    net.set_now(outage.end)
    assert fetch(base + "/atom.xml")[0] == 200


def test_served_broken_records_empty_article_pages_while_the_cms_is_broken(net: LivingNetwork) -> None:
    broken = net.timeline.incident("capital-examiner", "broken_template")
    assert broken is not None and broken.end is not None
    inside = broken.start + timedelta(minutes=30)
    story = net.timeline.live_at(inside, "capital-examiner")[-2]
    before = len(net.served_broken())
    status, _, body = at(net, inside, story)
    assert status == 200
    assert body_paragraphs(body, "capital-examiner") == []
    assert story.versions[0].title.encode() in body.replace(b"&#x27;", b"'")
    assert net.served_broken()[before:] == [
        ("capital-examiner", story.url(net.base_url(story.outlet)), inside)
    ]
    status, _, body = at(net, broken.end, story)
    assert status == 200 and body_paragraphs(body, "capital-examiner")
    assert fetch(net.base_url("capital-examiner") + "/feed.rss")[0] == 200
    assert len(net.served_broken()) == before + 1


def test_clock_endpoint_sets_and_reports_the_time(net: LivingNetwork) -> None:
    base = net.base_url("harbour-times")
    status, _, body = fetch(net.base_url("northern-ledger") + "/__clock?now=2026-10-05T10:30:00Z")
    assert status == 200 and body.decode().strip() == "2026-10-05T10:30:00+00:00"
    assert net.now == datetime(2026, 10, 5, 10, 30, tzinfo=UTC)
    assert fetch(base + "/__clock")[2].decode().strip() == "2026-10-05T10:30:00+00:00"
    assert fetch(base + "/__clock?now=yesterday")[0] == 400
    assert net.now == datetime(2026, 10, 5, 10, 30, tzinfo=UTC)
    assert all("/__clock" not in target for _, _, target, _ in net.requests())
    with pytest.raises(UsageError):
        net.set_now(datetime(2026, 10, 5))


def test_clock_file_sets_the_time_for_every_request(tmp_path: Path) -> None:
    clock = tmp_path / "clock.txt"
    with LivingNetwork(seed=13, start=START, days=2, clock_file=clock) as network:
        assert network.now == START
        story = network.timeline.outlet_stories("harbour-times")[-1]
        url = story.url(network.base_url("harbour-times"))
        clock.write_text((story.published - MINUTE).isoformat())
        assert fetch(url)[0] == 404
        clock.write_text(story.published.isoformat())
        assert fetch(url)[0] == 200
        fetch(network.base_url("capital-examiner") + "/__clock?now=2026-10-02T01:00:00Z")
        assert clock.read_text().strip() == "2026-10-02T01:00:00+00:00"
        assert [entry[3] for entry in network.requests()] == [404, 200]


def test_sources_validate_and_article_patterns_fit_the_urls(net: LivingNetwork, tmp_path: Path) -> None:
    import re

    sources = SourcesFile.model_validate({"version": 1, "sources": net.sources()})
    loaded = load_sources(net.write_sources(tmp_path / "sources.yaml"))
    assert [s.key for s in loaded.sources] == [s.key for s in sources.sources] == list(SPEC_BY_KEY)
    for source in sources.sources:
        base = net.base_url(source.key)
        assert source.schedule.cron == "0 * * * *" and source.allow_private_networks == openings_for(base)
        assert source.politeness.delay == 0
        allow = [re.compile(p) for p in source.article_urls.allow]
        for story in net.timeline.outlet_stories(source.key):
            assert any(p.search(story.url(base)) for p in allow), story.path
        for section in SPEC_BY_KEY[source.key].sections:
            front = base + SPEC_BY_KEY[source.key].section_path(section)
            assert not any(p.search(front) for p in allow), front
        for wart in SPEC_BY_KEY[source.key].warts:  # the chrome's about/contact links answer
            if "about" in wart.path or "contact" in wart.path:
                assert fetch(base + wart.path)[0] == 200, wart.path
    harbour = sources.get("harbour-times")
    assert harbour.discovery.sitemaps and not harbour.discovery.feeds
    assert sources.get("northern-ledger").discovery.feeds
