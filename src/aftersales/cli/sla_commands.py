"""``aftersales sla tick|report|backfill`` and ``aftersales case sla``."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import click
from rich.table import Table

from aftersales.cli.common import console
from aftersales.cli.context import action_time, find_case, local_time, open_desk
from aftersales.cli.output import FORMAT, JSON_OPTION, pct, span
from aftersales.core.convert import to_dict
from aftersales.core.sla import Clock
from aftersales.ports.storage import utc_text
from aftersales.services.sla import GROUPS, GroupReport


@click.group()
def sla() -> None:
    """SLA clocks: send due warnings and breaches, and report compliance."""


@sla.command("tick")
@click.option("--now", default=None, help="Evaluate at this time (ISO). Default: now.")
@JSON_OPTION
def sla_tick(now: str | None, as_json: bool) -> None:
    """Send every SLA warning and breach that is due and was not sent (cron-friendly)."""
    with open_desk() as desk:
        when = desk.at(action_time(desk, now))
        sent = desk.sla.tick(when)
        if as_json:
            click.echo(json.dumps(to_dict(sent), ensure_ascii=False, indent=2))
            return
        for note in sent:
            click.echo(f"{note.kind:13} {', '.join(note.recipients):20} {note.subject}")
        # what this tick put in the outbox and did not deliver: waiting for a retry, or given
        # up; a decided notification is not a delivered one
        stamp = utc_text(when)
        waiting = sum(1 for i in desk.notifications.pending() if i.created_at == stamp)
        failed = sum(1 for i in desk.notifications.failed() if i.created_at == stamp)
        summary = f"{len(sent)} notification(s) decided"
        if sent and not (waiting or failed):
            summary += ", every delivery made"
        elif waiting or failed:
            summary += f"; {waiting} delivery(ies) waiting for a retry, {failed} failed"
            summary += " (aftersales notifications pending|failed)"
        click.echo(summary)


@sla.command("backfill")
def sla_backfill() -> None:
    """Judge the cases stored before this store kept clock verdicts (a store from an older
    version), so the SLA report need not read them one by one. Safe to stop and re-run."""
    with open_desk() as desk:
        n = desk.cases.judge_stored()
        click.echo(f"{n} case(s) judged")


def _row(g: GroupReport) -> dict[str, Any]:
    return {
        "group": g.group,
        "clocks": g.clocks,
        "met": g.met,
        "breached": g.breached,
        "excused": g.excused,
        "not_applicable": g.not_applicable,
        "open": g.open,
        "met_rate": g.met_rate,
        "breach_rate": g.breach_rate,
        "excused_rate": g.excused_rate,
        "median_working_minutes": _minutes(g.median_working),
        "p90_working_minutes": _minutes(g.p90_working),
        "median_clock_minutes": _minutes(g.median_clock),
        "p90_clock_minutes": _minutes(g.p90_clock),
        "worst": [
            {"case": n, "milestone": m, "overrun_minutes": _minutes(o)} for n, m, o in g.worst
        ],
    }


def _minutes(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 60, 1)


@sla.command("report")
@click.option("--since", required=True, help="First report time (ISO).")
@click.option("--until", required=True, help="End of the period, exclusive (ISO).")
@click.option("--by", "group_by", type=click.Choice(GROUPS), default="priority")
@click.option("--now", default=None, help="Read the clocks at this time (default: --until, "
              "or now if --until is still ahead).")  # fmt: skip
@FORMAT
def sla_report(since: str, until: str, group_by: str, now: str | None, fmt: str) -> None:
    """Met, breached and excused clocks of the cases reported in a period, and how long
    the milestones took."""
    with open_desk() as desk:
        report = desk.sla.report(
            local_time(desk, since),  # type: ignore[arg-type]
            local_time(desk, until),  # type: ignore[arg-type]
            group_by,
            now=local_time(desk, now),
        )
        rows = [*report.groups, report.total]
        if fmt == "json":
            click.echo(json.dumps([_row(g) for g in rows], ensure_ascii=False, indent=2))
            return
        if fmt == "csv":
            buffer = io.StringIO()
            fields = [k for k in _row(report.total) if k != "worst"]
            writer = csv.DictWriter(buffer, fields, extrasaction="ignore", lineterminator="\n")
            writer.writeheader()
            for g in rows:
                writer.writerow(_row(g))
            click.echo(buffer.getvalue(), nl=False)
            return
        table = Table(title=f"SLA by {group_by}, cases reported {since} .. {until}")
        columns = (
            *("group", "clocks", "met", "breached", "excused", "n/a", "open", "met %"),
            *("median (working)", "p90 (working)", "median (clock)", "worst overrun"),
        )
        for column in columns:
            table.add_column(column)
        for g in rows:
            worst = f"{g.worst[0][0]} {g.worst[0][1]} +{span(g.worst[0][2])}" if g.worst else "-"
            table.add_row(
                g.group, str(g.clocks), str(g.met), str(g.breached), str(g.excused),
                str(g.not_applicable), str(g.open), pct(g.met_rate), span(g.median_working),
                span(g.p90_working), span(g.median_clock), worst,
            )  # fmt: skip
        console().print(table)
        read = report.read_at
        if read is not None and now is None and read < report.until:
            console().print(f"clocks read now ({read:%Y-%m-%d %H:%M}): the period is not over; "
                            "the open ones may still be met")  # fmt: skip
        elif read is not None:
            console().print(f"clocks read at {read:%Y-%m-%d %H:%M}")
        console().print(
            f"repair clocks are met when the repair is {report.repair_met_when}; n/a: clocks "
            "that ended before they were due (resolved without a visit, closed without a "
            "callback), neither met nor breached"
        )


@click.command("sla")  # `aftersales case sla`: case_commands adds it to its group
@click.argument("case_ref", metavar="CASE")
@click.option("--now", default=None, help="Read the clocks at this time (ISO).")
@JSON_OPTION
def case_sla(case_ref: str, now: str | None, as_json: bool) -> None:
    """The case's SLA clocks: due times, state, what remains or how late."""
    with open_desk() as desk:
        clocks: list[Clock] = desk.cases.sla(find_case(desk, case_ref), local_time(desk, now))
        if as_json:
            click.echo(json.dumps([_clock_json(c) for c in clocks], indent=2))
            return
        tz = desk.policy.tz
        # six narrow columns, the met time in the state and the rule as its line of the
        # policy file: the table fits a 100-column terminal
        files = sorted({c.target.location.rpartition(":")[0] for c in clocks if c.target})
        table = Table(title=f"SLA clocks (lines of {', '.join(files) or 'the policy'})")
        for column in ("milestone", "target", "state", "due", "left / late", "line"):
            table.add_column(column)
        for c in clocks:
            state = c.state
            if c.met_at is not None:
                state += f" {c.met_at.astimezone(tz):%m-%d %H:%M}"
            late = f"late {span(c.overrun)}" if c.overrun else None
            left = span(c.remaining) if c.remaining is not None else None
            table.add_row(
                c.milestone,
                _target(c),
                state,
                c.due.astimezone(tz).strftime("%m-%d %H:%M") if c.due else "-",
                late or left or "-",
                c.target.location.rpartition(":")[2] if c.target is not None else "-",
            )
        console().print(table)
        for c in clocks:  # which notice excused it, and how it reached the customer
            if c.state == "excused" and c.excuse is not None:
                n = c.excuse
                how = (
                    f"told {n.told} by {n.channel}"
                    if n.told
                    else f"sent as a message, delivered by {n.via}"
                    if n.via
                    else "recorded"
                )
                reached = n.reached_at.astimezone(tz) if n.reached_at else n.at.astimezone(tz)
                console().print(
                    f"{c.milestone} excused until {n.new_eta.astimezone(tz):%m-%d %H:%M}: "
                    f"{n.reason} ({how}, {reached:%m-%d %H:%M})"
                )  # fmt: skip


def _target(c: Clock) -> str:
    """What the target asks, without the milestone the row already names."""
    if c.target is None:
        return "(after diagnosis)"
    return str(c.target).removeprefix(f"{c.milestone} ").removeprefix("within ")


def _clock_json(c: Clock) -> dict[str, Any]:
    return {
        "milestone": c.milestone,
        "priority": c.priority,
        "target": str(c.target) if c.target is not None else None,
        "rule": c.target.location if c.target is not None else None,
        "state": c.state,
        "starts_at": to_dict(c.starts_at),
        "due": to_dict(c.due),
        "met_at": to_dict(c.met_at),
        "remaining_minutes": _minutes(c.remaining),
        "overrun_minutes": _minutes(c.overrun),
        "held_minutes": _minutes(c.held),
        "excuse": to_dict(c.excuse),
    }
