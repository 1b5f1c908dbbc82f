"""``aftersales replay``: what a service history looks like under a policy, and what a second
policy would have made of the very same cases (see :mod:`aftersales.services.history.replay`
for how cases are judged). Nothing is stored: each policy gets a desk in memory."""

from __future__ import annotations

import csv
import heapq
import multiprocessing
import multiprocessing.context
import os
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs

from aftersales.core import values
from aftersales.core.errors import ValidationError
from aftersales.policy import Policy
from aftersales.policy.parser import load_policy, parse_policy
from aftersales.services.desk import ServiceDesk
from aftersales.services.history import HistoryMapping, as_mapping, stream_cases
from aftersales.services.history.replay import Change, Judge, Judgement, compare_case
from aftersales.services.history.source import HistoryFile, open_history


@attrs.frozen
class Replay:
    """A history judged under policy A, and under B when compared: the tallies, the number
    of cases whose verdicts change in each direction, and the changed clocks themselves
    when kept (``keep_cases``; ``diff=`` writes them to a file instead, as they are found)."""

    a: Judgement
    b: Judgement | None = None
    changes: tuple[Change, ...] = ()
    changed: Mapping[str, int] = attrs.field(factory=dict)
    changed_clocks: int = 0

    def changed_cases(self) -> dict[str, int]:
        """Cases whose verdicts change: ``better`` (only more met), ``worse`` (only fewer),
        ``mixed`` (both), ``other`` (only a verdict other than met changes: an excuse for a
        breach, a clock only one policy sets that neither meets)."""
        return {k: self.changed.get(k, 0) for k in DIRECTIONS}


DIRECTIONS = ("better", "worse", "mixed", "other")


def direction(changes: Sequence[Change]) -> str:
    """Which way one case's changed clocks go (see :meth:`Replay.changed_cases`)."""
    found = {c.direction for c in changes} - {"other"}
    return next(iter(found)) if len(found) == 1 else "mixed" if found else "other"


@attrs.frozen
class _Part:
    """One process's share of the judging."""

    a: Judgement
    b: Judgement | None
    changes: list[Change]  # kept ones
    changed: Counter[str]
    changed_clocks: int
    diff: str | None  # the part of the diff file this process wrote


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
    diff: str | Path | None = None,
) -> Replay:
    """Judge the history in ``path`` (the timeline format, or an export read through
    ``mapping``) under ``policy``, and under ``compare_with`` if given, case by case: memory
    does not grow with the number of cases (see :mod:`aftersales.services.history.source`).

    Clocks still running are read at ``now`` (default: the latest time in the file).
    ``workers`` processes share the cases (default: one per core for a file of ``SMALL``
    rows or more, else one); each judges its cases under both policies. ``keep_cases``
    keeps every case's outcome in ``Replay.a.cases`` (and ``b``) and every changed clock in
    ``Replay.changes``; ``diff`` writes the changed clocks to a CSV file as they are found
    (see :func:`write_diff`), in the file's order of cases."""
    first = _policy(policy)
    second = None if compare_with is None else _policy(compare_with)  # both checked first
    if diff is not None and second is None:
        raise ValidationError("a diff needs a second policy to compare with")
    with open_history(path, as_mapping(mapping), first.tz) as file, ExitStack() as stack:
        when = now if now is not None else file.last
        n = workers if workers is not None else _workers(file.rows)
        n = values.count(n, "workers", minimum=1)
        texts = [(p.source, p.filename) for p in (first, second) if p is not None]
        parts_dir = None
        if diff is not None:
            parts_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="aftersales-"))
        job = _Job(file, n, when, keep_cases, parts_dir)
        if n == 1:
            parts = [_judge(first, second, job, 0)]
        else:
            with ProcessPoolExecutor(max_workers=n - 1, mp_context=_context()) as pool:
                later = [pool.submit(_judge_texts, texts, job, k) for k in range(1, n)]
                parts = [_judge(first, second, job, 0)]
                parts += [f.result() for f in later]
        if diff is not None:
            _merge_diff([p.diff for p in parts if p.diff], diff)
    a, b = parts[0].a, parts[0].b
    changed: Counter[str] = Counter()
    for part in parts:
        changed.update(part.changed)
    for part in parts[1:]:
        a.merge(part.a)
        if b is not None and part.b is not None:
            b.merge(part.b)
    changes = sorted((c for part in parts for c in part.changes), key=lambda c: c.line)
    clocks = sum(p.changed_clocks for p in parts)
    return Replay(a, b, tuple(changes), dict(changed), clocks)


@attrs.frozen
class _Job:
    """What every process of one replay is given."""

    file: HistoryFile
    workers: int
    now: datetime | None
    keep: bool
    parts_dir: str | None


def _workers(rows: int) -> int:
    return 1 if rows < SMALL else max(1, len(os.sched_getaffinity(0)) if hasattr(
        os, "sched_getaffinity") else (os.cpu_count() or 1))  # fmt: skip


def _policy(policy: Policy | str | Path) -> Policy:
    return policy if isinstance(policy, Policy) else load_policy(Path(policy))


def _judge(first: Policy, second: Policy | None, job: _Job, k: int) -> _Part:
    """The ``k``-th share of the cases, each judged under ``first`` and then ``second``."""
    with ExitStack() as stack:
        judges = []
        for policy in (first, second):
            if policy is not None:
                desk = stack.enter_context(ServiceDesk(policy, "memory://", entry_points=False))
                judges.append(Judge(desk.history, desk.policy, job.now, job.keep))
        a = judges[0]
        b = judges[1] if len(judges) > 1 else None
        writer = None
        part = None
        if job.parts_dir is not None:
            part = str(Path(job.parts_dir) / f"part-{k}.csv")
            writer = csv.writer(stack.enter_context(open(part, "w", encoding="utf-8",
                                                         newline="")))  # fmt: skip
        kept: list[Change] = []
        changed: Counter[str] = Counter()
        clocks = 0
        results = [a.judged.result] + ([b.judged.result] if b is not None else [])
        for key, rows in stream_cases(job.file.timeline((k, job.workers)), *results):
            outcome = a.case(key, rows)
            other = b.case(key, rows) if b is not None else None
            if outcome is None or other is None:
                continue
            changes = compare_case(outcome, other)
            if not changes:
                continue
            changed[direction(changes)] += 1
            clocks += len(changes)
            if job.keep:
                kept += changes
            if writer is not None:
                writer.writerows([c.line, *diff_row(c)] for c in changes)
        return _Part(a.judged, b.judged if b is not None else None, kept, changed, clocks, part)


def _judge_texts(texts: list[tuple[str, str]], job: _Job, k: int) -> _Part:
    """:func:`_judge` in a worker process: the policies travel as their text."""
    policies = [parse_policy(text, filename) for text, filename in texts]
    return _judge(policies[0], policies[1] if len(policies) > 1 else None, job, k)


def _merge_diff(parts: list[str], path: str | Path) -> None:
    """The processes' parts of the diff, each in the file's order, merged into one."""
    with ExitStack() as stack, open(path, "w", encoding="utf-8", newline="") as out:
        readers = [csv.reader(stack.enter_context(open(p, encoding="utf-8", newline="")))
                   for p in parts]  # fmt: skip
        writer = csv.writer(out)
        writer.writerow(DIFF_COLUMNS)
        for row in heapq.merge(*readers, key=lambda r: int(r[0])):
            writer.writerow(row[1:])


def _context() -> multiprocessing.context.BaseContext:
    """Fork where the system has it (no re-import in the worker), spawn elsewhere."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


DIFF_COLUMNS = ("case", "milestone", "direction", "priority_a", "outcome_a", "due_a",
                "rule_a", "priority_b", "outcome_b", "due_b", "rule_b")  # fmt: skip


def diff_row(c: Change) -> list[Any]:
    """One changed clock as a row of the diff (:data:`DIFF_COLUMNS`)."""
    row: list[Any] = [c.key, c.milestone, c.direction]
    for priority, clock in ((c.priority_a, c.a), (c.priority_b, c.b)):
        row += [priority, clock.outcome if clock else "no clock",
                clock.due.isoformat() if clock and clock.due else "",
                clock.rule if clock else ""]  # fmt: skip
    return row


def write_diff(result: Replay, path: str | Path) -> int:
    """Every changed clock kept in ``result`` (``keep_cases``) as CSV: the case, the
    milestone, and under each policy the priority, the verdict, the deadline and the rule
    that set it. For a history of any length, pass ``diff=`` to :func:`replay`."""
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(DIFF_COLUMNS)
        writer.writerows(diff_row(c) for c in result.changes)
    return len(result.changes)


__all__ = [
    "DIFF_COLUMNS",
    "DIRECTIONS",
    "SMALL",
    "Replay",
    "diff_row",
    "direction",
    "replay",
    "write_diff",
]
