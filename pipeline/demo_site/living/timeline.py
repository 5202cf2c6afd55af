"""The living network's ground truth: every story's versions and removal, and the incidents.

Plain frozen data, computed once from (seed, start, days) by :mod:`.schedule` and never from
a socket, so the soak harness can score a database against exactly what the network served:
which stories were live at an instant, with which text, and when each incident was on.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

RemovalKind = Literal["410", "404", "redirect", "notice"]
IncidentKind = Literal["feed_outage", "redesign", "js_section", "broken_template"]
REMOVAL_KINDS: tuple[RemovalKind, ...] = ("410", "404", "redirect", "notice")


@dataclass(frozen=True)
class Version:
    """One state of a story's page from ``at`` on.

    ``announced``: the feed/sitemap shows this version's ``modified`` as the entry's updated
    date/lastmod (the first version is always announced: its date is the publication).
    """

    at: datetime
    title: str
    paragraphs: tuple[str, ...]
    modified: datetime
    announced: bool

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


@dataclass(frozen=True)
class Removal:
    """From ``at`` on the story's URL answers 410, 404, a 301 to its section front, or a notice."""

    at: datetime
    kind: RemovalKind


@dataclass(frozen=True)
class LiveStory:
    """A story of the living network over its whole life (published, edited, maybe removed)."""

    outlet: str
    id: str
    path: str
    section: str
    published: datetime
    authors: tuple[str, ...]
    versions: tuple[Version, ...]
    removal: Removal | None
    js_shell: bool
    description: str = ""
    number: int = 0

    @property
    def key(self) -> str:
        return f"{self.outlet}:{self.id}"

    def url(self, base_url: str) -> str:
        return base_url.rstrip("/") + self.path

    def live_at(self, t: datetime) -> bool:
        """Published by ``t`` and not removed by ``t``."""
        return self.published <= t and (self.removal is None or t < self.removal.at)

    def version_at(self, t: datetime) -> Version | None:
        """The version the page shows at ``t``; None before publication and after removal."""
        if not self.live_at(t):
            return None
        return self.latest_version(t)

    def latest_version(self, t: datetime) -> Version:
        """The newest version made by ``t`` (ignores removal; the first one before publication)."""
        current = self.versions[0]
        for version in self.versions[1:]:
            if version.at > t:
                break
            current = version
        return current

    def text_at(self, t: datetime) -> str | None:
        """Body text at ``t`` as an ideal extractor returns it (paragraphs joined by newlines)."""
        version = self.version_at(t)
        return None if version is None else version.text

    def announced_at(self, t: datetime) -> datetime:
        """The updated date a feed/sitemap shows at ``t``: the newest announced version's."""
        shown = self.versions[0].modified
        for version in self.versions[1:]:
            if version.at > t:
                break
            if version.announced:
                shown = version.modified
        return shown

    def removed_at(self, t: datetime) -> Removal | None:
        """The removal when it has happened by ``t``."""
        if self.removal is not None and self.removal.at <= t:
            return self.removal
        return None


@dataclass(frozen=True)
class Incident:
    """A period in which an outlet misbehaves or changes; ``end`` None = to the end of time."""

    outlet: str
    kind: IncidentKind
    start: datetime
    end: datetime | None
    section: str | None = None  # the section that turned into JS shells (js_section)

    def active_at(self, t: datetime) -> bool:
        return self.start <= t and (self.end is None or t < self.end)


class Timeline:
    """All stories and incidents, indexed by outlet (newest lookups are bisects, not scans)."""

    def __init__(
        self,
        stories: tuple[LiveStory, ...],
        incidents: tuple[Incident, ...],
        start: datetime,
        end: datetime,
        seed: int,
    ) -> None:
        self.stories = tuple(sorted(stories, key=lambda s: (s.published, s.outlet, s.id)))
        self.incidents = incidents
        self.start = start
        self.end = end
        self.seed = seed
        self._by_outlet: dict[str, list[LiveStory]] = {}
        for story in self.stories:
            self._by_outlet.setdefault(story.outlet, []).append(story)
        self._published: dict[str, list[datetime]] = {
            outlet: [s.published for s in items] for outlet, items in self._by_outlet.items()
        }
        self._all_published = [s.published for s in self.stories]
        self._by_path = {(s.outlet, s.path): s for s in self.stories}
        self._events = {outlet: self._outlet_events(outlet) for outlet in self._by_outlet}

    # -- stories ------------------------------------------------------------------------------
    def outlet_stories(self, outlet: str) -> list[LiveStory]:
        """One outlet's stories, oldest first."""
        return list(self._by_outlet.get(outlet, []))

    def published_by(self, t: datetime, outlet: str | None = None) -> list[LiveStory]:
        """Stories published at or before ``t`` (removed ones included), oldest first."""
        if outlet is None:
            return list(self.stories[: bisect.bisect_right(self._all_published, t)])
        items = self._by_outlet.get(outlet, [])
        return items[: bisect.bisect_right(self._published.get(outlet, []), t)]

    def live_at(self, t: datetime, outlet: str | None = None) -> list[LiveStory]:
        """Stories live at ``t``, oldest first."""
        return [s for s in self.published_by(t, outlet) if s.live_at(t)]

    def newest_live(self, outlet: str, t: datetime, section: str | None = None) -> Iterator[LiveStory]:
        """Live stories of an outlet at ``t``, newest first, lazily (feeds stop after a few)."""
        items = self._by_outlet.get(outlet, [])
        for i in range(bisect.bisect_right(self._published.get(outlet, []), t) - 1, -1, -1):
            story = items[i]
            if story.removed_at(t) is None and (section is None or story.section == section):
                yield story

    def story_by_path(self, outlet: str, path: str) -> LiveStory | None:
        return self._by_path.get((outlet, path))

    def corrections(self) -> list[tuple[LiveStory, Version]]:
        """Every (story, version) after a story's first version, in time order."""
        out = [(s, v) for s in self.stories for v in s.versions[1:]]
        return sorted(out, key=lambda pair: (pair[1].at, pair[0].key))

    def retractions(self) -> list[LiveStory]:
        """Stories that get removed, in removal order."""
        removed = [s for s in self.stories if s.removal is not None]
        return sorted(removed, key=lambda s: (s.removal.at if s.removal else s.published, s.key))

    # -- incidents ---------------------------------------------------------------------------
    def incident(self, outlet: str, kind: IncidentKind) -> Incident | None:
        return next((i for i in self.incidents if i.outlet == outlet and i.kind == kind), None)

    def active(self, outlet: str, kind: IncidentKind, t: datetime) -> bool:
        return any(i.outlet == outlet and i.kind == kind and i.active_at(t) for i in self.incidents)

    def active_incidents(self, t: datetime, outlet: str | None = None) -> list[Incident]:
        return [i for i in self.incidents if i.active_at(t) and (outlet is None or i.outlet == outlet)]

    def broken_at(self, outlet: str, t: datetime) -> bool:
        """True while the outlet's CMS serves article pages with an empty body."""
        return self.active(outlet, "broken_template", t)

    def template_changed_at(self, outlet: str, t: datetime) -> datetime | None:
        """The latest moment by ``t`` at which the outlet's article/listing markup changed."""
        moments: list[datetime] = []
        for incident in self.incidents:
            if incident.outlet != outlet or incident.kind not in ("redesign", "broken_template"):
                continue
            moments += [m for m in (incident.start, incident.end) if m is not None and m <= t]
        return max(moments, default=None)

    # -- change times (Last-Modified of listings and feeds) --------------------------------------
    def _outlet_events(self, outlet: str) -> list[datetime]:
        events: list[datetime] = []
        for story in self._by_outlet.get(outlet, []):
            events += [v.at for v in story.versions]
            if story.removal is not None:
                events.append(story.removal.at)
        for incident in self.incidents:
            if incident.outlet == outlet:
                events += [m for m in (incident.start, incident.end) if m is not None]
        return sorted(events)

    def last_change(self, outlet: str, t: datetime) -> datetime:
        """When anything on the outlet last changed at or before ``t`` (a listing's Last-Modified)."""
        events = self._events.get(outlet, [])
        i = bisect.bisect_right(events, t)
        return events[i - 1] if i else self.start
