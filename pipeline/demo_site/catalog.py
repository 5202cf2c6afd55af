"""What exists where: stories by path, per-edition listings (lazy over generated articles).

The server, the feeds and the manifest all ask the catalog, so a URL that is listed is always
a URL that is served, and the manifest cannot describe a page the server does not have.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from pipeline.demo_site.generate import Generator
from pipeline.demo_site.model import Story, load_stories
from pipeline.demo_site.outlets import OUTLET_SPECS, SPEC_BY_KEY


@dataclass(frozen=True)
class Listing:
    """Newest-first stories of an outlet (optionally one section): hand-written, then generated.

    Generated articles are older than every hand-written one and numbered newest first, so a
    page of the listing is an index calculation, not a sort over everything.
    """

    hand: tuple[Story, ...]
    generator: Generator
    outlet: str
    section: str | None = None

    def _generated_count(self) -> int:
        total = self.generator.count_for(self.outlet)
        if self.section is None:
            return total
        sections = SPEC_BY_KEY[self.outlet].sections
        first = sections.index(self.section)
        return max(0, (total - first + len(sections) - 1) // len(sections))

    def _generated_number(self, i: int) -> int:
        if self.section is None:
            return i
        sections = SPEC_BY_KEY[self.outlet].sections
        return sections.index(self.section) + i * len(sections)

    def __len__(self) -> int:
        return len(self.hand) + self._generated_count()

    def slice(self, start: int, stop: int) -> list[Story]:
        stop = min(stop, len(self))
        out: list[Story] = []
        for i in range(max(0, start), stop):
            if i < len(self.hand):
                out.append(self.hand[i])
            else:
                out.append(self.generator.story(self.outlet, self._generated_number(i - len(self.hand))))
        return out

    def __iter__(self) -> Iterator[Story]:
        for i in range(len(self)):
            yield from self.slice(i, i + 1)

    def paths(self) -> Iterator[str]:
        """Paths only: cheaper than whole stories for sitemaps of generated articles."""
        for story in self.hand:
            yield story.path
        for i in range(self._generated_count()):
            yield self.generator.path(self.outlet, self._generated_number(i))

    def stamps(self, start: int, stop: int, edition: int) -> list[tuple[str, datetime]]:
        """(path, last modified) of a range, without generating bodies (for sitemaps)."""
        out: list[tuple[str, datetime]] = []
        for i in range(max(0, start), min(stop, len(self))):
            if i < len(self.hand):
                out.append((self.hand[i].path, self.hand[i].last_modified(edition)))
            else:
                number = self._generated_number(i - len(self.hand))
                out.append((self.generator.path(self.outlet, number), self.generator.published(number)))
        return out

    def pages(self, size: int) -> int:
        return max(1, -(-len(self) // size))


class Catalog:
    """All stories of the network, hand-written and generated."""

    def __init__(self, articles: int = 0, seed: int = 20230522) -> None:
        self.generator = Generator(articles, seed)
        self.stories: dict[str, Story] = {}
        self._by_path: dict[tuple[str, str], Story] = {}
        for spec in OUTLET_SPECS:
            for story in load_stories(spec.key):
                self.stories[story.key] = story
                self._by_path[(spec.key, story.path)] = story
        for story in self.stories.values():
            for ref in story.related:
                if ref not in self.stories:
                    raise ValueError(f"{story.key}: related story {ref!r} does not exist")

    def hand_written(self, outlet: str, edition: int) -> tuple[Story, ...]:
        stories = [s for s in self.stories.values() if s.outlet == outlet and s.in_edition(edition)]
        return tuple(sorted(stories, key=lambda s: s.published, reverse=True))

    def listing(self, outlet: str, edition: int, section: str | None = None) -> Listing:
        hand = self.hand_written(outlet, edition)
        if section is not None:
            hand = tuple(s for s in hand if s.section == section)
        return Listing(hand, self.generator, outlet, section)

    def find(self, outlet: str, path: str, edition: int) -> Story | None:
        story = self._by_path.get((outlet, path))
        if story is not None:
            return story if story.in_edition(edition) else None
        number = self.generator.number_for(outlet, path)
        return None if number is None else self.generator.story(outlet, number)

    def get(self, key: str) -> Story:
        return self.stories[key]

    def related_paths(self, story: Story, edition: int) -> list[tuple[str, str]]:
        """(outlet, path) of related stories; cheap for generated ones (no bodies generated)."""
        if story.generated:
            total = self.generator.count_for(story.outlet)
            number = int(story.id.split("-")[1])
            return [
                (story.outlet, self.generator.path(story.outlet, n))
                for n in (number - 1, number + 1)
                if 0 <= n < total
            ]
        return [(s.outlet, s.path) for s in self.related(story, edition)]

    def related(self, story: Story, edition: int) -> Sequence[Story]:
        if story.generated:
            # Generated articles point at their two neighbours (a chain through the archive).
            total = self.generator.count_for(story.outlet)
            number = int(story.id.split("-")[1])
            return [self.generator.story(story.outlet, n) for n in (number - 1, number + 1) if 0 <= n < total]
        return [self.stories[r] for r in story.related if self.stories[r].in_edition(edition)]
