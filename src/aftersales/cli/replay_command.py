"""``aftersales replay``: a history judged under a policy (and a second one), nothing stored."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from aftersales.cli.common import console
from aftersales.cli.config import load_config
from aftersales.cli.output import FORMAT, pct, span
from aftersales.policy.examples import parse_local_time
from aftersales.policy.parser import load_policy
from aftersales.replay import Replay, replay
from aftersales.services.history.replay import Tally


def _minutes(value: float | None) -> str:
    """Working time, in minutes, as hours of work (a working day is not 24 hours)."""
    if value is None:
        return "-"
    return span(timedelta(minutes=value)) if value < 600 else f"{value / 60:,.0f} h"


def _row(name: str, t: Tally | None) -> dict[str, Any]:
    o = t.outcomes if t is not None else {}
    return {
        "group": name,
        "clocks": sum(o.values()) if t else 0,
        **{k: o.get(k, 0) for k in ("met", "breached", "excused", "not_applicable", "open")},
        "met_rate": t.met_rate if t else None,
        "median_working_minutes": t.median if t else None,
        "p90_working_minutes": t.p90 if t else None,
    }


def _groups(result: Replay, by: str) -> list[tuple[str, Tally | None, Tally | None]]:
    a = result.a.by_milestone if by == "milestone" else result.a.by_priority
    b = (result.b.by_milestone if by == "milestone" else result.b.by_priority) if result.b else {}
    names = [*a, *(n for n in b if n not in a)]
    rows: list[tuple[str, Tally | None, Tally | None]] = [(n, a.get(n), b.get(n)) for n in names]
    rows.append(("all", result.a.total, result.b.total if result.b else None))
    return rows


@click.command("replay")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--policy", "policy_path", type=click.Path(dir_okay=False), default=None,
              help="The policy to judge by (default: the one aftersales.toml names).")  # fmt: skip
@click.option("--compare", "compare_path", type=click.Path(dir_okay=False), default=None,
              help="A second policy: the same cases judged by both, side by side.")  # fmt: skip
@click.option(
    "--mapping",
    default=None,
    help="A mapping file or a shipped mapping's name, for another system's export.",
)
@click.option("--now", default=None, help="Read the clocks at this time (default: the "
              "history's last moment).")  # fmt: skip
@click.option(
    "--diff",
    "diff_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write every clock whose verdict changes to this CSV (with --compare).",
)
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes sharing the cases (default: one per core, large files).")  # fmt: skip
@FORMAT
def replay_command(
    file: str, policy_path: str | None, compare_path: str | None, mapping: str | None,
    now: str | None, diff_path: str | None, workers: int | None, fmt: str,
) -> None:  # fmt: skip
    """Judge a service history under a policy, and compare a second one case by case,
    without a database: each case is built by the desk's own actions in memory and its
    clocks read at the end of the history. The file is read case by case, so its length
    does not matter; large files are shared among the cores."""
    path = (Path(policy_path) if policy_path
            else load_config(click.get_current_context().find_root().obj).policy)  # fmt: skip
    loaded = load_policy(path)
    when = parse_local_time(loaded, now) if now else None
    if diff_path and not compare_path:
        raise click.UsageError("--diff needs --compare")
    result = replay(file, loaded, compare_with=compare_path, mapping=mapping, now=when,
                    workers=workers, diff=diff_path)  # fmt: skip
    tables = {by: _groups(result, by) for by in ("milestone", "priority")}
    if fmt == "json":
        out: dict[str, Any] = {
            "policy_a": result.a.policy,
            "policy_b": result.b.policy if result.b else None,
            "cases": result.a.count,
            "rejects_a": result.a.result.rejected,
            "rejects_b": result.b.result.rejected if result.b else None,
        }
        for by, rows in tables.items():
            out[f"by_{by}"] = [{"a": _row(n, a), "b": _row(n, b) if result.b else None}
                               for n, a, b in rows]  # fmt: skip
        if result.b is not None:
            out["changed_cases"] = result.changed_cases()
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        header = list(_row("", None))
        writer.writerow(["by", "policy", *header])
        for by, rows in tables.items():
            for name, a, b in rows:
                writer.writerow([by, "A", *_row(name, a).values()])
                if result.b is not None:
                    writer.writerow([by, "B", *_row(name, b).values()])
        click.echo(buffer.getvalue(), nl=False)
        return
    con = console()
    con.print(f"{result.a.count} cases judged under A = {result.a.policy}"
              + (f", B = {result.b.policy}" if result.b else ""), soft_wrap=True)  # fmt: skip
    for label, judged in (("A", result.a), ("B", result.b)):
        rejects = judged.result.rejected if judged is not None else 0
        if judged is not None and rejects:
            top = "; ".join(f"{n} x {reason}" for reason, n in
                            judged.result.rejects_by_reason().most_common(3))  # fmt: skip
            con.print(f"{rejects} rows could not be applied under {label}: {top} (aftersales "
                      "import --rejects lists each, and why)", soft_wrap=True)  # fmt: skip
    for by, rows in tables.items():
        table = Table(title=f"by {by}")
        columns = ["clocks", "met", "breached", "excused", "n/a", "open", "met %",
                   "median (working)", "p90 (working)"]  # fmt: skip
        table.add_column(by)
        for column in columns:
            table.add_column(column if result.b is None else f"{column} A")
            if result.b is not None and column in ("met", "breached", "met %"):
                table.add_column(f"{column} B")
        for name, a, b in rows:
            ra, rb = _row(name, a), _row(name, b)
            cells = [name]
            for column, key in zip(columns, ("clocks", "met", "breached", "excused",
                                             "not_applicable", "open", "met_rate",
                                             "median_working_minutes", "p90_working_minutes"),
                                   strict=True):  # fmt: skip
                shown = {"met_rate": pct, "median_working_minutes": _minutes,
                         "p90_working_minutes": _minutes}.get(key, str)  # fmt: skip
                cells.append(shown(ra[key]) if a is not None else "-")
                if result.b is not None and column in ("met", "breached", "met %"):
                    cells.append(shown(rb[key]) if b is not None else "-")
            table.add_row(*cells)
        con.print(table)
    if result.b is not None:
        counts = result.changed_cases()
        con.print(f"cases whose verdicts change from A to B: {counts['better']} better, "
                  f"{counts['worse']} worse, {counts['mixed']} mixed, {counts['other']} "
                  f"other ({result.changed_clocks} clocks)")  # fmt: skip
        if diff_path:
            con.print(f"changed clocks written to {diff_path}")
