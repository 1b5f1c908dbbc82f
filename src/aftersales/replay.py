"""``aftersales replay``: what a service history looks like under a policy, and what a second
policy would have made of the very same cases (see :mod:`aftersales.services.history.replay`
for how cases are judged). Nothing is stored: each policy gets a desk in memory."""

from __future__ import annotations

import csv
import gzip
import lzma
from pathlib import Path
from typing import Any

import attrs

from aftersales.core.errors import ValidationError
from aftersales.policy import Policy
from aftersales.services.desk import ServiceDesk
from aftersales.services.history import HistoryMapping, open_text, read_timeline
from aftersales.services.history.replay import Change, Judgement, compare, judge


@attrs.frozen
class Replay:
    """A history judged under policy A, and under B when compared."""

    a: Judgement
    b: Judgement | None = None
    changes: tuple[Change, ...] = ()

    def changed_cases(self) -> dict[str, int]:
        """Cases whose verdicts change: ``better`` (only more met), ``worse`` (only fewer),
        ``mixed``."""
        directions: dict[str, set[str]] = {}
        for change in self.changes:
            directions.setdefault(change.key, set()).add(change.direction)
        counts = {"better": 0, "worse": 0, "mixed": 0}
        for found in directions.values():
            found.discard("other")
            key = "mixed" if len(found) != 1 else next(iter(found))
            counts[key] += 1
        return counts


def replay(
    path: str | Path,
    policy: Policy | str | Path,
    *,
    compare_with: Policy | str | Path | None = None,
    mapping: HistoryMapping | str | Path | None = None,
    now: Any = None,
) -> Replay:
    """Judge the history in ``path`` (the timeline format, or an export read through
    ``mapping``) under ``policy``, and under ``compare_with`` if given."""
    if mapping is not None and not isinstance(mapping, HistoryMapping):
        mapping = HistoryMapping.load(mapping)
    desks = [ServiceDesk(p, "memory://", entry_points=False)
             for p in (policy, compare_with) if p is not None]  # fmt: skip
    zone = desks[0].policy.tz
    try:
        with open_text(path) as handle:
            reader = csv.DictReader(handle)
            rows = list(mapping.timeline(reader, zone) if mapping else read_timeline(reader, zone))
    except (UnicodeDecodeError, lzma.LZMAError, gzip.BadGzipFile, csv.Error) as exc:
        raise ValidationError(f"cannot read {path} as CSV text (UTF-8): {exc}") from None
    judged = [judge(d.history, rows, d.policy, now) for d in desks]
    for desk in desks:
        desk.close()
    if len(judged) == 1:
        return Replay(judged[0])
    return Replay(judged[0], judged[1], tuple(compare(judged[0], judged[1])))


def write_diff(result: Replay, path: str | Path) -> int:
    """Every changed clock as CSV: the case, the milestone, and under each policy the
    priority, the verdict, the deadline and the rule that set it."""
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["case", "milestone", "direction", "priority_a", "outcome_a", "due_a",
                         "rule_a", "priority_b", "outcome_b", "due_b", "rule_b"])  # fmt: skip
        for c in result.changes:
            row: list[Any] = [c.key, c.milestone, c.direction]
            for priority, clock in ((c.priority_a, c.a), (c.priority_b, c.b)):
                row += [priority, clock.outcome if clock else "no clock",
                        clock.due.isoformat() if clock and clock.due else "",
                        clock.rule if clock else ""]  # fmt: skip
            writer.writerow(row)
    return len(result.changes)


__all__ = ["Replay", "replay", "write_diff"]
