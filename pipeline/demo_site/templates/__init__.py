"""One page template per outlet (each with its own boilerplate), chosen by outlet key."""

from __future__ import annotations

from types import ModuleType

from pipeline.demo_site.templates import capital, harbour, northern

TEMPLATES: dict[str, ModuleType] = {
    "capital-examiner": capital,
    "northern-ledger": northern,
    "harbour-times": harbour,
}

__all__ = ["TEMPLATES"]
