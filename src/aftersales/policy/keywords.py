"""The words of the policy language: reserved words and the vocabularies names are checked
against."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from aftersales.core.vocabulary import (
    CHANNELS,
    COMPLEXITIES,
    DEFAULT_AFTER,
    EVENTS,
    MILESTONE_EVENT,
    MILESTONES,
    ROLES,
    SEVERITIES,
    SOURCES,
    START_EVENTS,
)

RESERVED_WORDS = frozenset(
    {
        "and",
        "or",
        "not",
        "in",
        "contains",
        "true",
        "false",
        "when",
        "otherwise",
        "within",
        "after",
        "before",
        "on",
        "by",
        "then",
        "per",
        "at",
        "every",
        "until",
        "working",
        "business",
    }
)
"""Words that can never name a field, priority, grade, calendar or anything else.

They are the words of expressions and the words that join the parts of a statement; a name
spelled like one of them would make a line mean two things (``priority urgent when within ==
1``). Section and statement keywords (``policy``, ``grade``, ``pass``, ``repair`` ...) are
keywords only at the start of their statement and may be used as names elsewhere:
``grade pass when score >= 60`` is fine.
"""

INSPECTION_CHECKS = ("quantity", "specification", "quality")
LIMIT_PERIODS = ("night", "day", "trip", "claim")
OVER_LIMIT_ACTIONS = ("flag", "cap", "refuse")
"""What an over-limit expense line gets: paid in full but flagged, paid up to the limit, or
refused (the claim cannot be drafted with it)."""
FIELD_TYPES = ("text", "number", "bool")

BUILTIN_METRICS = (
    "tasks_completed",
    "first_time_fix",
    "satisfaction",
    "sla_met_rate",
    "rework_rate",
    "response_time",
    "remote_resolution",
)
"""Metrics the built-in scoring plugin provides; plugins may add more."""


def suggest(word: str, known: Iterable[str]) -> str | None:
    """The known word nearest to ``word``, if one is near enough to be a likely typo."""
    matches = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(word: str, known: Iterable[str]) -> str | None:
    """A ``did you mean "x"?`` hint, or one listing the choices when nothing is close."""
    choices = list(known)
    near = suggest(word, choices)
    if near is not None:
        return f'did you mean "{near}"?'
    if choices and len(choices) <= 12:
        return "expected one of: " + ", ".join(f'"{c}"' for c in choices)
    return None


__all__ = [
    "BUILTIN_METRICS",
    "CHANNELS",
    "COMPLEXITIES",
    "DEFAULT_AFTER",
    "EVENTS",
    "FIELD_TYPES",
    "INSPECTION_CHECKS",
    "LIMIT_PERIODS",
    "MILESTONES",
    "MILESTONE_EVENT",
    "OVER_LIMIT_ACTIONS",
    "RESERVED_WORDS",
    "ROLES",
    "SEVERITIES",
    "SOURCES",
    "START_EVENTS",
    "did_you_mean",
    "suggest",
]
