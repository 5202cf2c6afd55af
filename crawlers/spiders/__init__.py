"""Spiders: one generic news spider; a per-site subclass stays possible for odd sites."""
