"""``aftersales replay``: what a service history looks like under a policy, and what a second
policy would have made of the very same cases (see :mod:`aftersales.services.history.replay`
for how cases are judged). Nothing is stored: each policy gets a desk in memory."""

from __future__ import annotations

import csv
import multiprocessing
import multiprocessing.context
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import attrs

from aftersales.policy import Policy
from aftersales.policy.parser import load_policy, parse_policy
from aftersales.services.desk import ServiceDesk
from aftersales.services.history import HistoryMapping, as_mapping, read_history
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
    first = _policy(policy)
    second = None if compare_with is None else _policy(compare_with)  # both checked first
    rows = read_history(path, as_mapping(mapping), first.tz)
    if second is None:
        return Replay(_judge(first, rows, now))
    # policy B in a second process while A is judged here: two cores, half the wait
    with ProcessPoolExecutor(max_workers=1, mp_context=_context()) as pool:
        later = pool.submit(_judge_source, second.source, second.filename, rows, now)
        a = _judge(first, rows, now)
        b = later.result()
    return Replay(a, b, tuple(compare(a, b)))


def _policy(policy: Policy | str | Path) -> Policy:
    return policy if isinstance(policy, Policy) else load_policy(Path(policy))


def _judge(policy: Policy, rows: list[Any], now: Any) -> Judgement:
    with ServiceDesk(policy, "memory://", entry_points=False) as desk:
        return judge(desk.history, rows, desk.policy, now)


def _judge_source(text: str, filename: str, rows: list[Any], now: Any) -> Judgement:
    """:func:`_judge` in a worker process: the policy travels as its text."""
    return _judge(parse_policy(text, filename), rows, now)


def _context() -> multiprocessing.context.BaseContext:
    """Fork where the system has it (no re-import in the worker), spawn elsewhere."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


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
