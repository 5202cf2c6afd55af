"""The living demo network: the three outlets over a simulated month (issue 13).

Given a seed, a start and a number of days, each outlet publishes on a schedule (quiet at
night), edits stories at 1 h, 1 d, 5 d and 20 d (sometimes saying so in its feed), retracts
some (410, 404, a redirect to the section front, a removal notice), and lives through
incidents: a feed outage, a redesign, a section that turns into JavaScript shells and a few
hours of a broken CMS. The network answers for the simulated time it is told, and
:class:`Timeline` is its ground truth: what was live, with what text, at every instant.
"""

from __future__ import annotations

from pipeline.demo_site.living.network import LivingNetwork
from pipeline.demo_site.living.schedule import INCIDENT_PLAN, build_timeline
from pipeline.demo_site.living.timeline import Incident, LiveStory, Removal, Timeline, Version

__all__ = [
    "INCIDENT_PLAN",
    "Incident",
    "LiveStory",
    "LivingNetwork",
    "Removal",
    "Timeline",
    "Version",
    "build_timeline",
]
