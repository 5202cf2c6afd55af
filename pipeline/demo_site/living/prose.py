"""Words for the living network: bylines and the text of edits (updates, rewrites, corrections).

The stories' own prose comes from the scale-mode generator (``generate.py``), so the living
network reads like the rest of the demo; this module adds only what changes over time. Each
edit is drawn from an RNG seeded per (story, milestone), and every edit adds text, so two
versions of a story never have the same body.
"""

from __future__ import annotations

import random

ROSTERS: dict[str, tuple[str, ...]] = {
    "capital-examiner": ("Rachel Ode", "Daniel Harmon", "Marcus Bell", "Evelyn Cho", "Tom Radcliffe"),
    "northern-ledger": ("Fiona Blake", "Aled Morgan", "Priya Shah", "Callum Reid", "Harriet Vance"),
    "harbour-times": ("Kenji Mori", "Aiko Tanaka", "Ryo Hayashi", "Emi Kobayashi", "Sam Whitaker"),
}

UPDATES = (
    "Update: A spokesperson said on {day} that a revised timetable would be published within {n} days.",
    "Update: After this story was published, officials confirmed that {n} further objections had been received.",
    "Update: The meeting has been moved to {day}, organisers said, to make room for about {m} more speakers.",
    "Update: A second vote is now expected on {day}; {n} members have asked for more time to read the proposal.",
)
ADDITIONS = (
    "Officials later said the figure could rise by as much as {n} percent.",
    "A written statement released on {day} gave no further details.",
    "About {m} people watched the session online, according to the organisers.",
    "The proposal now has the support of {n} of the members who had opposed it.",
)
CORRECTIONS = (
    "Correction: An earlier version of this story misstated the number of residents who spoke at the hearing. It was {m}, not {m2}.",
    "Correction: An earlier version of this story said the vote took place on {day}. It took place a day earlier.",
    "Correction: An earlier version of this story gave the wrong cost estimate. The plan would cost about {n} percent less than reported.",
    "Correction: This story has been updated to make clear that the {n}-year timetable is a proposal, not a decision.",
)
TITLE_TAILS = (", officials say", " as debate continues", " amid new questions")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")

# Which kinds of edit each milestone (age of the story) makes.
EDIT_KINDS: dict[int, tuple[str, ...]] = {
    0: ("update", "rewrite"),  # 1 h: the story is still developing
    1: ("update", "rewrite", "correction"),  # 1 d
    2: ("correction", "rewrite"),  # 5 d
    3: ("correction",),  # 20 d
}


def authors(outlet: str, rng: random.Random) -> tuple[str, ...]:
    roster = ROSTERS[outlet]
    if rng.random() < 0.2:
        return tuple(rng.sample(roster, 2))
    return (rng.choice(roster),)


def _fill(template: str, rng: random.Random) -> str:
    m = rng.randint(20, 140)
    return template.format(
        day=rng.choice(DAYS),
        n=rng.randint(2, 40),
        m=m,
        m2=m + rng.randint(3, 30),
    )


def edit(
    title: str, paragraphs: tuple[str, ...], milestone: int, rng: random.Random
) -> tuple[str, tuple[str, ...]]:
    """The title and body after one edit at ``milestone`` (0: 1 h, 1: 1 d, 2: 5 d, 3: 20 d)."""
    kind = rng.choice(EDIT_KINDS[milestone])
    body = list(paragraphs)
    if kind == "update":
        body.append(_fill(rng.choice(UPDATES), rng))
    elif kind == "correction":
        body.append(_fill(rng.choice(CORRECTIONS), rng))
    else:
        index = rng.randrange(len(body))
        body[index] = body[index] + " " + _fill(rng.choice(ADDITIONS), rng)
    if milestone == 0 and rng.random() < 0.15 and not title.endswith(TITLE_TAILS):
        title = title + rng.choice(TITLE_TAILS)
    return title, tuple(body)
