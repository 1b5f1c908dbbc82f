"""``aftersales simulate``: run a month of work through a real desk and report on it."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from aftersales.cli.common import console
from aftersales.cli.config import load_config
from aftersales.cli.output import pct, span
from aftersales.policy.parser import load_policy
from aftersales.services.sla import GroupReport
from aftersales.simulation import Rates, SimulationResult, simulate


@contextmanager
def _progress(label: str) -> Iterator[Callable[[float], None]]:
    """A progress bar on stderr that appears only once a run has taken a second."""
    started = time.monotonic()
    bar: Progress | None = None
    task = None

    def update(done: float) -> None:
        nonlocal bar, task
        if bar is None:
            if time.monotonic() - started < 1.0 or not sys.stderr.isatty():
                return
            bar = Progress(
                TextColumn(label), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                TimeRemainingColumn(), console=Console(stderr=True), transient=True,
            )  # fmt: skip
            bar.start()
            task = bar.add_task(label, total=1.0)
        assert task is not None
        bar.update(task, completed=done)

    try:
        yield update
    finally:
        if bar is not None:
            bar.stop()


_RATES = Rates()  # the defaults
_SLA_COLUMNS: tuple[tuple[str, Callable[[GroupReport], str], bool], ...] = (
    # (heading, value, shown for policy B too)
    ("clocks", lambda g: str(g.clocks), False),
    ("met", lambda g: str(g.met), False),
    ("breached", lambda g: str(g.breached), True),
    ("excused", lambda g: str(g.excused), False),
    ("n/a", lambda g: str(g.not_applicable), True),
    ("open", lambda g: str(g.open), False),
    ("met %", lambda g: pct(g.met_rate), True),
    ("median (working)", lambda g: span(g.median_working), False),
)


def _sla_table(title: str, a: SimulationResult, b: SimulationResult | None, by: str) -> Table:
    """One row per priority or milestone; policy B's figures beside A's where they differ in
    what a policy decides (breaches, clocks that stopped applying, the met rate)."""
    table = Table(title=title)
    table.add_column(by)
    for heading, _, both in _SLA_COLUMNS:
        table.add_column(heading if b is None else f"{heading} A")
        if b is not None and both:
            table.add_column(f"{heading} B")
    first = a.by_milestone if by == "milestone" else a.by_priority
    second = None if b is None else (b.by_milestone if by == "milestone" else b.by_priority)
    mine = {g.group: g for g in first.groups}
    other = {g.group: g for g in second.groups} if second is not None else {}
    names = [*mine, *(name for name in other if name not in mine)]
    rows = [(name, mine.get(name), other.get(name)) for name in names]
    rows.append(("all", first.total, second.total if second is not None else None))
    for name, g, o in rows:
        cells = [name]
        for _, value, both in _SLA_COLUMNS:
            cells.append(value(g) if g is not None else "-")  # a priority only B has
            if b is not None and both:
                cells.append(value(o) if o is not None else "-")
        table.add_row(*cells)
    return table


def print_result(result: SimulationResult, other: SimulationResult | None = None) -> None:
    out = console()
    tz = result.start.tzinfo
    head = f"Simulated {result.start:%Y-%m-%d} to {result.end:%Y-%m-%d}: {result.cases} cases, "
    out.print(head + f"{result.actions} actions, policy A = {result.policy}")
    if other is not None:
        out.print(f"policy B = {other.policy} (the same cases and team)")
    out.print()
    out.print(_sla_table("SLA compliance by priority", result, other, "priority"))
    out.print(_sla_table("SLA compliance by milestone", result, other, "milestone"))
    engineers = Table(title="Engineer utilisation (travel and work / working time)")
    for column in ("engineer", "jobs", "busy", "utilisation"):  # busy: hours of travel and work
        engineers.add_column(column)
    for load in result.engineers:
        hours = f"{load.busy.total_seconds() / 3600:.0f} h"
        engineers.add_row(load.engineer, str(load.jobs), hours, f"{load.utilisation:.0%}")
    out.print(engineers)
    out.print(
        "busy: hours travelling and working on cases; utilisation: busy / the calendar's working "
        "hours of the period. Over 100% means work ran past working hours (urgent cases are "
        "worked when they come, evenings and weekends included)."
    )
    out.print()
    backlog = Table(title="Backlog: open cases at the end of each day")
    backlog.add_column("day")
    backlog.add_column("open")
    backlog.add_column("open cases, to scale (the longest bar: the busiest day)")
    peak = max((n for _, n in result.backlog), default=1) or 1
    for day, n in result.backlog:
        backlog.add_row(f"{day:%a %m-%d}", str(n), "#" * round(30 * n / peak))
    out.print(backlog)
    for label, run in (("A", result), ("B", other)):
        if run is None:
            continue
        events = ", ".join(f"{k} {v}" for k, v in run.outcomes.items())
        sent = ", ".join(f"{k} {v}" for k, v in run.notifications.items()) or "none"
        name = f" ({label})" if other is not None else ""
        out.print(f"Events{name}: {events}")
        out.print(f"Notifications sent by the SLA ticks, and messages to customers{name}: {sent}")
    del tz


def _rate(flag: str, field: str, help_text: str) -> Callable[[Any], Any]:
    """A ``--X-rate`` option: a share from 0 to 1, defaulting to :class:`Rates`'."""
    return click.option(flag, type=click.FloatRange(0, 1), default=getattr(_RATES, field),
                        show_default=True, help=help_text)  # fmt: skip


@click.command("simulate")
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Policy file (default: the one aftersales.toml names).",
)
@click.option("--days", type=click.IntRange(1, 366), default=30, show_default=True)
@click.option("--engineers", type=click.IntRange(1, 500), default=12, show_default=True)
@click.option("--agents", type=click.IntRange(1, 200), default=3, show_default=True)
@click.option("--cases-per-day", type=click.FloatRange(0.1, 5000), default=10.0, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--replay",
    type=click.Path(dir_okay=False),
    default=None,
    help="Historical cases (CSV, see docs/simulate.md) instead of generated ones.",
)
@click.option(
    "--compare",
    "compare_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="A second policy run on the same cases; differences side by side.",
)
@_rate("--remote-rate", "remote", "Share of cases that can be fixed without a visit.")
@_rate("--queue-rate", "queued", "Share of cases sent to a crew's queue, not a person.")
@_rate("--reopen-rate", "reopened", "Share of repairs that do not hold.")
@_rate("--unanswered-rate", "unanswered", "Share of customers not reached for the callback.")
@_rate("--contract-rate", "contracts", "Share of customers holding a service contract.")
@click.option(
    "--db",
    type=click.Path(dir_okay=False),
    default="aftersales-sim.db",
    show_default=True,
    help="SQLite file for the run (replaced each run).",
)
def simulate_command(
    policy_path: str | None, days: int, engineers: int, agents: int, cases_per_day: float,
    seed: int, replay: str | None, compare_path: str | None, remote_rate: float,
    queue_rate: float, reopen_rate: float, unanswered_rate: float, contract_rate: float,
    db: str,
) -> None:  # fmt: skip
    """Run simulated weeks of after-sales work through a real desk on SQLite, and report
    SLA compliance, engineer utilisation and the backlog. The same seed gives the same report."""
    path = (
        Path(policy_path)
        if policy_path
        else load_config(click.get_current_context().find_root().obj).policy
    )
    # both policies are checked before minutes are spent simulating the first
    first = load_policy(path)
    second = load_policy(Path(compare_path)) if compare_path else None
    rates = Rates(remote_rate, queue_rate, reopen_rate, unanswered_rate, contract_rate)
    options = dict(days=days, engineers=engineers, agents=agents, cases_per_day=cases_per_day,
                   seed=seed, replay=replay, rates=rates)  # fmt: skip
    with _progress("simulating") as progress:
        result = simulate(first, db=Path(db), progress=progress, **options)  # type: ignore[arg-type]
    other = None
    if second is not None:
        other_db = Path(db).with_name(Path(db).stem + "-compare.db")
        with _progress("simulating B") as progress:
            other = simulate(
                second, db=other_db, progress=progress, start=result.start,
                arrivals=list(result.arrivals), **options,  # type: ignore[arg-type]
            )  # fmt: skip
    print_result(result, other)
    if result.ignored_columns:
        console().print(
            f"--replay used each case's report and simulated the rest; it ignored the columns "
            f"{', '.join(result.ignored_columns)} (to judge what really happened, use "
            "aftersales replay)", soft_wrap=True,
        )  # fmt: skip
