"""The timeline format: one row per thing that happened to a case.

Columns: ``case`` (the case's key in the system it comes from), ``time`` (ISO 8601; one
without an offset is read in the import's time zone), ``action`` (a desk action: ``report``,
``respond``, ``assign``, ``queue``, ``hold``, ``resolve``, ``close``, ...), ``actor`` (who
did it, by name or id), and the action's fields, named as the desk's keyword arguments
(``engineer``, ``team``, ``reason``, ``way``, ``satisfaction``, ...) or as a report's
(``customer``, ``severity``, ``serial``, ``custom.impact``, ...). Empty cells are absent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import attrs

from aftersales.core.errors import ValidationError

ACTIONS = (
    "report", "respond", "assign", "take", "queue", "unassign", "reassign", "confirm",
    "contact", "arrive", "checklist", "diagnose", "complete", "resolve", "accept", "reject",
    "hold", "release", "notify_delay", "update", "follow_up", "close", "reopen", "cancel",
)  # fmt: skip
"""Every desk action a timeline row may name."""
REPORT_FIELDS = (
    "customer", "tier", "region", "customer_id", "model", "line", "serial", "fault",
    "fault_code", "severity", "channel", "machine_down", "contact", "installed_base",
)  # fmt: skip
"""The fields of a report row (with ``custom.NAME`` for the policy's custom fields;
``installed_base``: JSON of what the recording desk's installed base said: ``machine``,
``contract``, ``coverage``, ``visit``)."""
ACTION_FIELDS = (
    "engineer", "team", "reason", "instructions", "way", "actions", "result", "cause", "parts",
    "signed_by", "satisfaction", "comments", "appointment", "milestone", "new_eta", "items",
    "complexity",
)  # fmt: skip
"""The fields of the other actions, as the desk's keyword arguments (``parts``: SKU:QTY;...)."""
COLUMNS = ("case", "time", "action", "actor", *REPORT_FIELDS, *ACTION_FIELDS)
_KNOWN = frozenset(COLUMNS)


@attrs.frozen
class TimelineRow:
    """One row of a timeline: the action and its fields as text, and where it came from."""

    case: str
    at: datetime
    action: str
    actor: str | None
    fields: Mapping[str, str]
    line: int  # the source line (the header is line 1)
    source: Mapping[str, str] = attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen
class Skipped:
    """A source row that gives no action: unreadable (a reject, with the reason) or ignored
    by a mapping rule (``ignored``: counted, not a reject)."""

    line: int
    row: Mapping[str, str]
    reason: str
    ignored: bool = False


def parse_time(text: str, zone: ZoneInfo, what: str) -> datetime:
    """An ISO 8601 time; naive ones are local to ``zone``."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(
            f"{what}: {text!r} is not an ISO 8601 time (2012-05-22T14:03:00+02:00)"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def read_timeline(
    rows: Iterable[Mapping[str, str | None]], zone: ZoneInfo
) -> Iterator[TimelineRow | Skipped]:
    """Timeline rows from CSV dicts (``csv.DictReader``); a row that cannot be read comes
    back as :class:`Skipped`, for the rejects. A header without ``case``, ``time`` and
    ``action`` is one ValidationError, not a reject per row."""
    return timeline_of(enumerate(rows, start=2), zone, getattr(rows, "fieldnames", None))


def timeline_of(
    numbered: Iterable[tuple[int, Mapping[str, str | None]]],
    zone: ZoneInfo,
    header: Sequence[str] | None = None,
) -> Iterator[TimelineRow | Skipped]:
    """:func:`read_timeline` of rows that carry their source line: ``(line, row)``."""
    if header is not None:
        missing = [c for c in ("case", "time", "action") if c not in header]
        if missing:
            raise ValidationError(
                f"the file has no {', '.join(missing)} column (its columns: "
                f"{', '.join(header) or 'none'}); a timeline needs case, time and action, or "
                "read another system's export with a mapping (--mapping)"
            )
    checked: tuple[str, ...] | None = None  # the columns known to be good (a file's header)
    for line, raw in numbered:
        # the non-empty cells, stripped: most cells of a timeline row are empty
        row = {k: v.strip() for k, v in raw.items() if v and k is not None}
        columns = tuple(raw)
        if columns != checked:
            unknown = [k for k in columns if k is not None and k not in _KNOWN
                       and not k.startswith("custom.")]  # fmt: skip
            if unknown:
                yield Skipped(
                    line, row, f"unknown column {unknown[0]!r}; columns: {', '.join(COLUMNS)}"
                )
                continue
            checked = columns
        case, when, action = row.pop("case", ""), row.pop("time", ""), row.pop("action", "")
        actor = row.pop("actor", None)
        source = {"case": case, "time": when, "action": action, "actor": actor or "", **row}
        if not case or not when:
            yield Skipped(line, source, "a row needs a case and a time")
            continue
        if action not in ACTIONS:
            yield Skipped(line, source, f"unknown action {action!r}; actions: "
                          + ", ".join(ACTIONS))  # fmt: skip
            continue
        try:
            at = parse_time(when, zone, f"line {line}")
        except ValidationError as exc:
            yield Skipped(line, source, str(exc))
            continue
        yield TimelineRow(case, at, action, actor or None, row, line, source)


__all__ = [
    "ACTIONS",
    "ACTION_FIELDS",
    "COLUMNS",
    "REPORT_FIELDS",
    "Skipped",
    "TimelineRow",
    "parse_time",
    "read_timeline",
    "timeline_of",
]
