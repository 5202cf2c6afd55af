"""Scale mode: N extra articles, generated on demand from a seeded RNG.

Nothing is pre-rendered: an article's date and section follow arithmetically from its number,
and its title and body come from an RNG seeded with (seed, outlet, number), so 10,000 articles
cost nothing at start-up and every request (and every test) sees the same text.
"""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta
from functools import lru_cache

from pipeline.demo_site.model import Story
from pipeline.demo_site.outlets import OUTLET_SPECS, SPEC_BY_KEY

# Generated articles are all older than the hand-written ones, newest first by number.
GENERATED_EPOCH = datetime.fromisoformat("2023-05-11T23:00:00+00:00")
STEP = timedelta(minutes=47)

PLACES = [
    "the riverfront district",
    "the northern suburbs",
    "the old harbour",
    "the county seat",
    "the industrial park",
    "the university quarter",
    "the eastern wards",
    "the airport corridor",
    "the historic center",
    "the coastal villages",
    "the valley towns",
    "the market district",
]
ACTORS = [
    "the city council",
    "the state legislature",
    "the transit authority",
    "the school board",
    "the port authority",
    "the health department",
    "regional planners",
    "the housing agency",
    "the water utility",
    "the chamber of commerce",
    "the county commission",
    "the parks department",
]
OFFICIALS = [
    ("Maria Lindqvist", "the council's finance chair"),
    ("Samuel Okoro", "a senior planner"),
    ("Grace Whitfield", "the agency's director"),
    ("Tomás Ibarra", "a spokesman for the mayor"),
    ("Helen Park", "the board's vice chair"),
    ("David Mensah", "a local business owner"),
    ("Ruth Calloway", "a neighborhood association president"),
    ("Kenta Ishikawa", "an economist"),
    ("Nadia Haddad", "a union representative"),
    ("Oliver Brandt", "the department's chief engineer"),
]
TOPICS = [
    ("budget", "spending plan", "a revised spending plan"),
    ("housing", "affordable housing program", "new affordable homes"),
    ("transit", "bus network redesign", "more frequent bus service"),
    ("schools", "school renovation program", "repairs to aging schools"),
    ("water", "water main replacement", "replacing lead pipes"),
    ("parks", "park expansion", "a larger waterfront park"),
    ("jobs", "job training initiative", "training for displaced workers"),
    ("roads", "road safety plan", "safer intersections"),
    ("energy", "solar installation program", "rooftop solar panels"),
    ("health", "clinic expansion", "longer clinic hours"),
]
TITLE_SHAPES = [
    "{Actor} backs {plan} after months of debate",
    "Residents of {place} divided over {plan}",
    "{plan_cap} faces delays as costs rise",
    "{Actor} approves {money} for {goal}",
    "What the {plan} means for {place}",
    "Questions mount over {plan} in {place}",
    "{Actor} unveils {plan} with {money} price tag",
    "Critics say {plan} leaves {place} behind",
]
SENTENCES = [
    "{Actor} voted {votes} on {day} to move forward with the {plan}, which supporters say will bring {goal} to {place}.",
    "The proposal would cost about {money} over {years} years, according to figures presented at the meeting.",
    '"{quote}," said {name}, {role}.',
    "Officials said the first phase could begin as early as {month}, although several approvals are still needed.",
    "Opponents argued that the plan had been rushed and that residents of {place} had not been consulted properly.",
    "A report prepared for {actor} estimated that roughly {count} households would be affected.",
    "The debate has exposed longstanding tensions between {place} and {place2} over how money is shared.",
    "Similar programs in other cities have produced mixed results, with some finishing years behind schedule.",
    "{name} said the agency would publish detailed plans and hold public hearings before any work begins.",
    "Funding would come from a mix of local taxes, state grants and federal money set aside for infrastructure.",
    "Attendance at the hearing was unusually high, and more than {speakers} people signed up to speak.",
    "The next vote is expected in {month}, when {actor} will also consider the rest of its capital budget.",
]
QUOTES = [
    "We have waited long enough, and the people of this city deserve an answer",
    "This is not a perfect plan, but it is a serious one",
    "Nobody has explained where the money will come from",
    "We need to get this right the first time, because we will not get a second chance",
    "The numbers simply do not add up",
    "It is a good start, and we intend to hold them to it",
]
MONTHS = ["June", "July", "August", "September", "October", "November", "the new year", "early spring"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:70].rstrip("-")


class Generator:
    """The generated articles of a network with ``count`` extra articles (split over outlets)."""

    def __init__(self, count: int, seed: int = 20230522) -> None:
        self.count = max(0, count)
        self.seed = seed
        # Per-instance caches: a class-level lru_cache would be shared by every network and
        # keep old networks alive; these die with their generator.
        self.path = lru_cache(maxsize=65536)(self._path)
        self.story = lru_cache(maxsize=512)(self._story)

    def count_for(self, outlet: str) -> int:
        """Article k (0-based, network-wide) belongs to outlet k % 3 as its number k // 3."""
        index = [s.key for s in OUTLET_SPECS].index(outlet)
        n = len(OUTLET_SPECS)
        return max(0, (self.count - index + n - 1) // n)

    @staticmethod
    def published(number: int) -> datetime:
        return GENERATED_EPOCH - STEP * number

    @staticmethod
    def section(outlet: str, number: int) -> str:
        sections = SPEC_BY_KEY[outlet].sections
        return sections[number % len(sections)]

    def _rng(self, outlet: str, number: int, part: str) -> random.Random:
        return random.Random(f"{self.seed}:{outlet}:{number}:{part}")

    def _topic(self, outlet: str, number: int) -> tuple[tuple[str, str, str], str, str, str]:
        rng = self._rng(outlet, number, "topic")
        return rng.choice(TOPICS), rng.choice(ACTORS), rng.choice(PLACES), f"${rng.randint(2, 950)} million"

    def title(self, outlet: str, number: int) -> str:
        (_, plan, goal), actor, place, money = self._topic(outlet, number)
        shape = self._rng(outlet, number, "title").choice(TITLE_SHAPES)
        text = shape.format(
            Actor=actor[0].upper() + actor[1:],
            plan=plan,
            plan_cap=plan[0].upper() + plan[1:],
            place=place,
            money=money,
            goal=goal,
        )
        return text[0].upper() + text[1:]

    def _path(self, outlet: str, number: int) -> str:
        spec = SPEC_BY_KEY[outlet]
        return spec.generated_path(
            self.section(outlet, number), slugify(self.title(outlet, number)), number, self.published(number)
        )

    def number_for(self, outlet: str, path: str) -> int | None:
        """Reverse of :meth:`path`, without enumerating: the number is in the URL."""
        match = re.search(r"-(\d{5})(?:/|\.html)?$", path)
        if match is None:
            return None
        number = int(match.group(1))
        if number >= self.count_for(outlet) or self.path(outlet, number) != path:
            return None
        return number

    def paragraphs(self, outlet: str, number: int) -> tuple[str, ...]:
        (_, plan, goal), actor, place, money = self._topic(outlet, number)
        rng = self._rng(outlet, number, "body")
        # Facts fixed per article (one vote count, one hearing), people vary per sentence.
        facts = {
            "Actor": actor[0].upper() + actor[1:],
            "actor": actor,
            "plan": plan,
            "goal": goal,
            "place": place,
            "place2": rng.choice([p for p in PLACES if p != place]),
            "money": money,
            "years": rng.randint(2, 12),
            "votes": rng.choice(["7-2", "5-4", "6-3", "unanimously", "8-1"]),
            "day": rng.choice(DAYS),
            "month": rng.choice(MONTHS),
            "count": f"{rng.randint(2, 90) * 100:,}",
            "speakers": rng.randint(20, 140),
        }
        order = list(range(1, len(SENTENCES)))
        rng.shuffle(order)
        order = [0, *order]
        out: list[str] = []
        cursor = 0
        for _ in range(rng.randint(4, 7)):
            sentences = []
            for _ in range(rng.randint(1, 3)):
                template = SENTENCES[order[cursor % len(order)]]
                cursor += 1
                name, role = OFFICIALS[cursor * 7 % len(OFFICIALS)]
                quote = QUOTES[(number + cursor) % len(QUOTES)]
                sentences.append(template.format(name=name, role=role, quote=quote, **facts))
            out.append(" ".join(sentences))
        return tuple(out)

    def _story(self, outlet: str, number: int) -> Story:
        rng = self._rng(outlet, number, "meta")
        name, _ = rng.choice(OFFICIALS)
        author = rng.choice(
            ["Jordan Ellis", "Priya Raman", "Lucas Ferreira", "Amelia Stone", "Haruto Sato", "Chloe Martin"]
        )
        paragraphs = self.paragraphs(outlet, number)
        return Story(
            outlet=outlet,
            id=f"gen-{number:05d}",
            path=self.path(outlet, number),
            section=self.section(outlet, number),
            title=self.title(outlet, number),
            authors=(author,),
            published=self.published(number),
            paragraphs=paragraphs,
            description=paragraphs[0].split(". ")[0].rstrip(".") + ".",
            tags=(self.section(outlet, number),),
            generated=True,
            variant=rng.randint(0, 2),
            extra={"mentions": name},
        )
