"""Exceptions the CLI turns into one clear line and a non-zero exit code."""

from __future__ import annotations


class NewsflowError(Exception):
    """An expected failure with a message meant for a person (no traceback)."""

    exit_code = 1


class UsageError(NewsflowError):
    """The user asked for something that cannot be done (unknown source, bad run id)."""

    exit_code = 2
