"""Where ``newsflow demo`` serves the demo network, chosen so that a second demo stays incremental.

Stored articles are keyed by URL, and a demo outlet's URL includes its port. When the
default ports (8701-8703) are busy, taking three random ports would make every later demo
re-store everything as new. So the demo first tries the ports it used last time (remembered
in ``data/demo/ports.json``), then the defaults, then the next free block of three
(8704-8706, 8707-8709, …): the same blocked machine always gets the same block, and the
remembered block wins even after the defaults free up again.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.demo_site import DEFAULT_PORT, DemoNetwork
from pipeline.errors import UsageError

#: Blocks of three ports tried after the remembered and the default one.
FALLBACK_BLOCKS = 40


def remembered_port(path: Path) -> int | None:
    """The first port of the block the previous demo used, if it was recorded and is sane."""
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get("first_port")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and 1024 <= value <= 65533 else None


def start_demo_network(ports_file: Path, *, articles: int = 0) -> tuple[DemoNetwork, bool]:
    """Start the network on the remembered block, the default one or the next free block.

    Returns the started network and whether it runs on the block the previous demo used (or,
    on a first demo, on the default block): False means earlier demo data will not match.
    """
    remembered = remembered_port(ports_file)
    candidates = [p for p in (remembered, DEFAULT_PORT) if p is not None]
    candidates += [DEFAULT_PORT + 3 * i for i in range(1, FALLBACK_BLOCKS + 1)]
    tried: set[int] = set()
    for first in candidates:
        if first in tried:
            continue
        tried.add(first)
        network = DemoNetwork(port=first, articles=articles)
        try:
            network.start()
        except UsageError:
            continue
        ports_file.parent.mkdir(parents=True, exist_ok=True)
        ports_file.write_text(json.dumps({"first_port": first}) + "\n", encoding="utf-8")
        return network, first == (remembered or DEFAULT_PORT)
    last = DEFAULT_PORT + 3 * FALLBACK_BLOCKS + 2
    raise UsageError(f"no free block of three ports between {DEFAULT_PORT} and {last} on 127.0.0.1")
