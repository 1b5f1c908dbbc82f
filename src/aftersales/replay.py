"""``aftersales replay``: what a service history looks like under a policy, and what a second
policy would have made of the very same cases (see :mod:`aftersales.services.history.replay`
for how cases are judged). Nothing is stored: each policy gets a desk in memory."""

from __future__ import annotations

import csv
import multiprocessing
import multiprocessing.context
import os
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs

from aftersales.core import values
from aftersales.policy import Policy
from aftersales.policy.parser import load_policy, parse_policy
from aftersales.services.desk import ServiceDesk
from aftersales.services.history import HistoryMapping, as_mapping, stream_cases
from aftersales.services.history.replay import Change, Judge, Judgement, compare_case
from aftersales.services.history.source import HistoryFile, Share, open_history


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


@attrs.frozen
class _Part:
    """One process's share of the judging."""

    a: Judgement
    b: Judgement | None
    changes: list[Change]


SMALL = 20_000
"""Rows below which one process judges alone (starting others would cost more)."""


def replay(
    path: str | Path,
    policy: Policy | str | Path,
    *,
    compare_with: Policy | str | Path | None = None,
    mapping: HistoryMapping | str | Path | None = None,
    now: datetime | None = None,
    workers: int | None = None,
    keep_cases: bool = False,
) -> Replay:
    """Judge the history in ``path`` (the timeline format, or an export read through
    ``mapping``) under ``policy``, and under ``compare_with`` if given, case by case: memory
    does not grow with the number of cases (see :mod:`aftersales.services.history.source`).

    Clocks still running are read at ``now`` (default: the latest time in the file).
    ``workers`` processes share the cases (default: one per core for a file of
    ``SMALL`` rows or more, else one); each judges its cases under both policies.
    ``keep_cases`` keeps every case's outcome in ``Replay.a.cases`` (and ``b``)."""
    first = _policy(policy)
    second = None if compare_with is None else _policy(compare_with)  # both checked first
    with open_history(path, as_mapping(mapping), first.tz) as file:
        when = now if now is not None else file.last
        n = workers if workers is not None else _workers(file.rows)
        n = values.count(n, "workers", minimum=1)
        texts = [(p.source, p.filename) for p in (first, second) if p is not None]
        if n == 1:
            parts = [_judge(first, second, file, (0, 1), when, keep_cases)]
        else:
            with ProcessPoolExecutor(max_workers=n - 1, mp_context=_context()) as pool:
                later = [pool.submit(_judge_texts, texts, file, (k, n), when, keep_cases)
                         for k in range(1, n)]  # fmt: skip
                parts = [_judge(first, second, file, (0, n), when, keep_cases)]
                parts += [f.result() for f in later]
    a, b = parts[0].a, parts[0].b
    for part in parts[1:]:
        a.merge(part.a)
        if b is not None and part.b is not None:
            b.merge(part.b)
    changes = sorted((c for part in parts for c in part.changes), key=lambda c: c.key)
    return Replay(a, b, tuple(changes))


def _workers(rows: int) -> int:
    return 1 if rows < SMALL else max(1, len(os.sched_getaffinity(0)) if hasattr(
        os, "sched_getaffinity") else (os.cpu_count() or 1))  # fmt: skip


def _policy(policy: Policy | str | Path) -> Policy:
    return policy if isinstance(policy, Policy) else load_policy(Path(policy))


def _judge(
    first: Policy, second: Policy | None, file: HistoryFile, share: Share,
    now: datetime | None, keep: bool,
) -> _Part:  # fmt: skip
    """One share of the cases, each judged under ``first`` and then ``second``."""
    with ExitStack() as stack:
        judges = []
        for policy in (first, second):
            if policy is not None:
                desk = stack.enter_context(ServiceDesk(policy, "memory://", entry_points=False))
                judges.append(Judge(desk.history, desk.policy, now, keep))
        a = judges[0]
        b = judges[1] if len(judges) > 1 else None
        changes: list[Change] = []
        for key, rows in stream_cases(file.timeline(share), a.judged.result):
            outcome = a.case(key, rows)
            if b is not None:
                other = b.case(key, rows)
                if outcome is not None and other is not None:
                    changes += compare_case(outcome, other)
        if b is not None:  # the rows were read once, for both: B applied the same ones
            b.judged.result.rows = a.judged.result.rows
            b.judged.result.ignored.update(a.judged.result.ignored)
            b.judged.result.rejects[:0] = [r for r in a.judged.result.rejects
                                           if r.rule == "reading"]  # fmt: skip
        return _Part(a.judged, b.judged if b is not None else None, changes)


def _judge_texts(
    texts: list[tuple[str, str]], file: HistoryFile, share: Share, now: datetime | None,
    keep: bool,
) -> _Part:  # fmt: skip
    """:func:`_judge` in a worker process: the policies travel as their text."""
    policies = [parse_policy(text, filename) for text, filename in texts]
    return _judge(policies[0], policies[1] if len(policies) > 1 else None, file, share, now,
                  keep)  # fmt: skip


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


__all__ = ["SMALL", "Replay", "replay", "write_diff"]
