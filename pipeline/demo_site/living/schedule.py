"""Build the :class:`Timeline` from (seed, start, days): publications, edits, removals, incidents.

Everything is drawn from RNGs seeded with ``f"{seed}:{outlet}:..."`` strings, so the same
arguments give the same month byte for byte, and adding a story does not reshuffle another
story's edits. Incident times are fractions of the span (rounded down to the hour), so a
two-day timeline has every incident too, just compressed; see :data:`INCIDENT_PLAN`.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from pipeline.demo_site.generate import Generator, slugify
from pipeline.demo_site.living import prose
from pipeline.demo_site.living.timeline import (
    REMOVAL_KINDS,
    Incident,
    IncidentKind,
    LiveStory,
    Removal,
    Timeline,
    Version,
)
from pipeline.demo_site.outlets import OUTLET_SPECS, OutletSpec

# Publishing: per outlet and local calendar day, STORIES_PER_DAY stories at random minutes
# outside the quiet hours (local midnight to QUIET_UNTIL).
STORIES_PER_DAY = (6, 10)
QUIET_UNTIL = 6  # local hour
BACKLOG = timedelta(days=1)  # stories published before start, so the first run finds a site

# Edits: at exactly these ages, each with probability EDIT_PROBABILITY; half are announced.
EDIT_AGES = (timedelta(hours=1), timedelta(days=1), timedelta(days=5), timedelta(days=20))
EDIT_PROBABILITY = 0.35
ANNOUNCE_PROBABILITY = 0.5

# Removals: ~5 % of stories, at an age between 2 h and 2 days; at least one of each kind.
REMOVAL_PROBABILITY = 0.05
REMOVAL_AGE = (timedelta(hours=2), timedelta(days=2))


@dataclass(frozen=True)
class PlannedIncident:
    outlet: str
    kind: IncidentKind
    at_fraction: float  # of the span in hours, rounded down to the hour
    hours: int | None  # duration; None = until the end
    section: str | None = None


INCIDENT_PLAN: tuple[PlannedIncident, ...] = (
    # 30 days: day 8 09:00-15:00 UTC. The Atom feed answers 503; the homepage still works.
    PlannedIncident("northern-ledger", "feed_outage", 201 / 720, 6),
    # 30 days: from day 12 00:00 UTC, new culture stories are JavaScript shells.
    PlannedIncident("northern-ledger", "js_section", 288 / 720, None, section="culture"),
    # 30 days: from day 14 00:00 UTC (the 15th of a month starting on the 1st): new templates.
    PlannedIncident("harbour-times", "redesign", 336 / 720, None),
    # 30 days: day 22 12:00-15:00 UTC (08:00-11:00 in New York; 2 days: day 1, same hours).
    # Every article page, new or old, has an empty body container.
    PlannedIncident("capital-examiner", "broken_template", 540 / 720, 3),
)


def build_timeline(seed: int, start: datetime, days: int) -> Timeline:
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    if days < 1:
        raise ValueError("days must be >= 1")
    end = start + timedelta(days=days)
    incidents = plan_incidents(start, days)
    generator = Generator(0, seed)
    stories: list[LiveStory] = []
    for spec in OUTLET_SPECS:
        times = publication_times(seed, spec, start - BACKLOG, end, incidents)
        js = _js_incident(spec, incidents)
        # The first story after the switch lands in the JS section, so even a short timeline has one.
        first_js = _first_after(times, js.start if js else None)
        for number, published in enumerate(times):
            stories.append(_story(seed, spec, number, published, generator, js, number == first_js))
    stories = _assign_removals(seed, stories, start, end)
    stories = [_with_edits(seed, s, start, end) for s in stories]
    return Timeline(tuple(stories), incidents, start, end, seed)


def plan_incidents(start: datetime, days: int) -> tuple[Incident, ...]:
    hours = days * 24
    out: list[Incident] = []
    for plan in INCIDENT_PLAN:
        begin = start + timedelta(hours=math.floor(hours * plan.at_fraction))
        finish = None if plan.hours is None else begin + timedelta(hours=plan.hours)
        out.append(Incident(plan.outlet, plan.kind, begin, finish, plan.section))
    return tuple(out)


def publication_times(
    seed: int, spec: OutletSpec, since: datetime, until: datetime, incidents: tuple[Incident, ...]
) -> list[datetime]:
    """Publication instants of one outlet in [since, until), none in the local quiet hours."""
    out: list[datetime] = []
    day: date = since.astimezone(spec.tz).date()
    last: date = until.astimezone(spec.tz).date()
    while day <= last:
        rng = random.Random(f"{seed}:{spec.key}:day:{day.isoformat()}")
        count = rng.randint(*STORIES_PER_DAY)
        minutes = sorted(rng.sample(range(QUIET_UNTIL * 60, 24 * 60), count))
        midnight = datetime.combine(day, time(0), tzinfo=spec.tz)
        for minute in minutes:
            local = midnight.replace(hour=minute // 60, minute=minute % 60)
            when = local.astimezone(since.tzinfo)
            if since <= when < until:
                out.append(when)
        day += timedelta(days=1)
    # A broken CMS must be seen: make sure something new is published while it is broken.
    for incident in incidents:
        if incident.outlet != spec.key or incident.kind != "broken_template" or incident.end is None:
            continue
        if not any(incident.start <= t < incident.end for t in out):
            out.append(incident.start + timedelta(minutes=25))
    return sorted(out)


def _js_incident(spec: OutletSpec, incidents: tuple[Incident, ...]) -> Incident | None:
    return next((i for i in incidents if i.outlet == spec.key and i.kind == "js_section"), None)


def _first_after(times: list[datetime], moment: datetime | None) -> int | None:
    if moment is None:
        return None
    return next((i for i, t in enumerate(times) if t >= moment), None)


def _story(
    seed: int,
    spec: OutletSpec,
    number: int,
    published: datetime,
    generator: Generator,
    js: Incident | None,
    force_js: bool,
) -> LiveStory:
    section = random.Random(f"{seed}:{spec.key}:{number}:section").choice(spec.sections)
    if force_js and js is not None and js.section is not None:
        section = js.section
    title = generator.title(spec.key, number)
    paragraphs = generator.paragraphs(spec.key, number)
    path = spec.generated_path(section, slugify(title), number, published)
    rng = random.Random(f"{seed}:{spec.key}:{number}:meta")
    first = Version(published, title, paragraphs, published, True)
    return LiveStory(
        outlet=spec.key,
        id=f"live-{number:05d}",
        path=path,
        section=section,
        published=published,
        authors=prose.authors(spec.key, rng),
        versions=(first,),
        removal=None,
        js_shell=js is not None and js.section == section and published >= js.start,
        description=paragraphs[0].split(". ")[0].rstrip(".") + ".",
        number=number,
    )


def _removal_window(story: LiveStory, start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    low = max(story.published + REMOVAL_AGE[0], start)
    high = min(story.published + REMOVAL_AGE[1], end - timedelta(minutes=1))
    return (low, high) if low <= high else None


def _assign_removals(seed: int, stories: list[LiveStory], start: datetime, end: datetime) -> list[LiveStory]:
    """~5 % of stories are removed; the kinds cycle in removal order so each kind occurs."""
    chosen: dict[str, datetime] = {}
    candidates: list[LiveStory] = []
    for story in stories:
        window = _removal_window(story, start, end)
        if window is None:
            continue
        candidates.append(story)
        rng = random.Random(f"{seed}:{story.outlet}:{story.number}:removal")
        if rng.random() < REMOVAL_PROBABILITY:
            chosen[story.key] = _instant_in(window, rng)
    fill = random.Random(f"{seed}:removal-fill")
    spare = [s for s in candidates if s.key not in chosen]
    while len(chosen) < len(REMOVAL_KINDS) and spare:
        story = spare.pop(fill.randrange(len(spare)))
        window = _removal_window(story, start, end)
        assert window is not None
        chosen[story.key] = _instant_in(window, fill)
    order = sorted(chosen.items(), key=lambda item: (item[1], item[0]))
    kinds = {key: REMOVAL_KINDS[i % len(REMOVAL_KINDS)] for i, (key, _) in enumerate(order)}
    out: list[LiveStory] = []
    for story in stories:
        if story.key in chosen:
            story = replace(story, removal=Removal(chosen[story.key], kinds[story.key]))
        out.append(story)
    return out


def _instant_in(window: tuple[datetime, datetime], rng: random.Random) -> datetime:
    low, high = window
    minutes = int((high - low).total_seconds() // 60)
    return low + timedelta(minutes=rng.randint(0, minutes))


def _with_edits(seed: int, story: LiveStory, start: datetime, end: datetime) -> LiveStory:
    """Edits at exactly 1 h, 1 d, 5 d and 20 d of age (each maybe), while live and in the span."""
    versions = list(story.versions)
    for milestone, age in enumerate(EDIT_AGES):
        rng = random.Random(f"{seed}:{story.outlet}:{story.number}:edit:{milestone}")
        if rng.random() >= EDIT_PROBABILITY:
            continue
        at = story.published + age
        if not start <= at < end or (story.removal is not None and at >= story.removal.at):
            continue
        announced = rng.random() < ANNOUNCE_PROBABILITY
        title, paragraphs = prose.edit(versions[-1].title, versions[-1].paragraphs, milestone, rng)
        versions.append(Version(at, title, paragraphs, at, announced))
    return story if len(versions) == 1 else replace(story, versions=tuple(versions))
