"""``aftersales maintenance``: preventive maintenance of the installed base (the policy's
``maintenance`` plans): what is due, one machine's plans, and scheduling them again."""

from __future__ import annotations

from datetime import datetime, timedelta

import click

from aftersales.cli.context import local_time, open_desk
from aftersales.cli.output import FORMAT, emit
from aftersales.core.errors import ValidationError


def _t(when: datetime | None) -> str | None:
    return None if when is None else when.strftime("%Y-%m-%d %H:%M")


@click.group()
def maintenance() -> None:
    """Preventive maintenance: visits due, each machine's plans (the SLA tick opens the
    visits as cases)."""


@maintenance.command("due")
@click.option(
    "--within",
    "days",
    type=int,
    default=0,
    show_default=True,
    help="Also the visits due in the next DAYS days.",
)
@click.option("--now", "now_text", default=None, help="As at this time (ISO). Default: now.")
@FORMAT
def maintenance_due(days: int, now_text: str | None, fmt: str) -> None:
    """Visits due (overdue ones first: no case opened yet, e.g. a machine without an owner
    on record, or the tick has not run), then the visits open as cases."""
    if days < 0:
        raise ValidationError("--within is a number of days, 0 or more")
    with open_desk() as desk:
        now = local_time(desk, now_text) or desk.now()
        rows = (
            (s.serial, s.plan, _t(s.due), s.case and desk.cases.get(s.case).number,
             "open" if s.case else ("overdue" if s.overdue(now) else "coming"),
             _t(s.last_at), None if s.last_hours is None else f"{s.last_hours:g}")
            for s in desk.maintenance.due(now, within=timedelta(days=days))
        )  # fmt: skip
        columns = ("serial", "plan", "due", "case", "state", "last_visit", "hours_then")
        emit("maintenance", columns, rows, fmt)


@maintenance.command("plan")
@click.argument("serial", required=False)
@click.option(
    "--reschedule",
    is_flag=True,
    help="Work out again when every machine is next due (after the plans changed).",
)
@FORMAT
def maintenance_plan(serial: str | None, reschedule: bool, fmt: str) -> None:
    """One machine's maintenance plans: last visit, next due, open case. With --reschedule
    (and no SERIAL), recompute every machine's next date under the policy."""
    with open_desk() as desk:
        if reschedule:
            if serial is not None:
                raise click.UsageError("--reschedule works on every machine; leave out SERIAL")
            click.echo(f"{desk.maintenance.reschedule()} machines have a next visit dated")
            return
        if serial is None:
            raise click.UsageError("name a machine's SERIAL, or give --reschedule")
        rows = (
            (s.plan, _t(s.last_at), None if s.last_hours is None else f"{s.last_hours:g}",
             _t(s.due), s.case and desk.cases.get(s.case).number, s.location)
            for s in desk.maintenance.plan(serial)
        )  # fmt: skip
        columns = ("plan", "last_visit", "hours_then", "next_due", "open_case", "rule")
        emit(f"maintenance of {serial}", columns, rows, fmt)
