"""``aftersales complaints``: customers' complaints from opening to the customer's
confirmation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

import click

from aftersales.cli.arguments import done
from aftersales.cli.context import AT_OPTION, BY_OPTION, action_time, find_case, open_desk
from aftersales.cli.output import FORMAT, JSON_OPTION, emit
from aftersales.core.feedback import COMPLAINT_STATUSES, Complaint
from aftersales.core.vocabulary import COMPLAINT_SOURCES

COLUMNS = ("id", "status", "source", "case", "customer", "owner", "staff", "opened",
           "respond_by", "resolve_by", "summary")  # fmt: skip


def _row(c: Complaint, tz: tzinfo) -> tuple[object, ...]:
    def local(value: datetime | None) -> str | None:
        return None if value is None else value.astimezone(tz).strftime("%Y-%m-%d %H:%M")

    return (c.id, c.status, c.source, c.case_number, c.customer, c.owner, ", ".join(c.staff),
            local(c.opened_at), local(c.respond_by), local(c.resolve_by), c.summary)  # fmt: skip


@click.group()
def complaints() -> None:
    """Customers' complaints: list, open, respond, resolve, confirm."""


@complaints.command("list")
@click.option("--status", "statuses", multiple=True, type=click.Choice(COMPLAINT_STATUSES))
@click.option("--overdue", is_flag=True, help="Only those past a deadline now.")
@click.option("--month", default=None, help="Only those opened in this month (2026-11).")
@FORMAT
def complaints_list(statuses: Sequence[str], overdue: bool, month: str | None, fmt: str) -> None:
    """Complaints, oldest first."""
    with open_desk() as desk:
        found = (desk.complaints.overdue() if overdue else
                 desk.complaints.list(status=statuses or None, opened_in=month))  # fmt: skip
        emit("complaints", COLUMNS, (_row(c, desk.policy.tz) for c in found), fmt)


@complaints.command("show")
@click.argument("complaint_id", metavar="ID")
def complaints_show(complaint_id: str) -> None:
    """One complaint as JSON."""
    with open_desk() as desk:
        done(True, desk.complaints.get(complaint_id), "")


@complaints.command("open")
@click.option("--source", required=True, type=click.Choice(COMPLAINT_SOURCES))
@click.option("--summary", required=True, help="What the customer complains of.")
@click.option("--case", "case_ref", default=None, help="The case it is about.")
@click.option("--customer", default=None, help="The customer (without a case).")
@click.option("--owner", default=None, help="Who handles it (default: the supervisor).")
@click.option("--staff", "staff", multiple=True, help="Staff it concerns (default: the case's).")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def complaints_open(source: str, summary: str, case_ref: str | None, customer: str | None,
                    owner: str | None, staff: Sequence[str], by: str, at: str | None,
                    as_json: bool) -> None:  # fmt: skip
    """Record a complaint."""
    with open_desk() as desk:
        made = desk.complaints.open(
            source=source, summary=summary, by=by, owner=owner, customer=customer,
            case=None if case_ref is None else find_case(desk, case_ref),
            staff=staff or None, at=action_time(desk, at),
        )  # fmt: skip
        due = "" if made.resolve_by is None else f", to resolve by {made.resolve_by:%Y-%m-%d %H:%M}"
        done(as_json, made, f"complaint {made.id} opened, owned by {made.owner}{due}")


@complaints.command("respond")
@click.argument("complaint_id", metavar="ID")
@click.option("--response", required=True, help="What the customer was told.")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def complaints_respond(complaint_id: str, response: str, by: str, at: str | None,
                       as_json: bool) -> None:  # fmt: skip
    """The owner answered the customer."""
    with open_desk() as desk:
        made = desk.complaints.respond(complaint_id, response=response, by=by,
                                       at=action_time(desk, at))  # fmt: skip
        done(as_json, made, f"complaint {made.id} responded")


@complaints.command("resolve")
@click.argument("complaint_id", metavar="ID")
@click.option("--root-cause", required=True)
@click.option("--action", "corrective_action", required=True, help="The corrective action.")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def complaints_resolve(complaint_id: str, root_cause: str, corrective_action: str, by: str,
                       at: str | None, as_json: bool) -> None:  # fmt: skip
    """The root cause found and the corrective action taken."""
    with open_desk() as desk:
        made = desk.complaints.resolve(complaint_id, root_cause=root_cause,
                                       corrective_action=corrective_action, by=by,
                                       at=action_time(desk, at))  # fmt: skip
        done(as_json, made, f"complaint {made.id} resolved; ask the customer to confirm")


@complaints.command("confirm")
@click.argument("complaint_id", metavar="ID")
@click.option("--confirmed-by", required=True, help="The customer's person.")
@click.option("--not-satisfied", is_flag=True, help="The customer is not satisfied yet.")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def complaints_confirm(complaint_id: str, confirmed_by: str, not_satisfied: bool, by: str,
                       at: str | None, as_json: bool) -> None:  # fmt: skip
    """The customer says whether the resolution satisfies them."""
    with open_desk() as desk:
        made = desk.complaints.confirm(complaint_id, confirmed_by=confirmed_by,
                                       satisfied=not not_satisfied, by=by,
                                       at=action_time(desk, at))  # fmt: skip
        done(as_json, made, f"complaint {made.id} is {made.status}")


@complaints.command("reassign")
@click.argument("complaint_id", metavar="ID")
@click.option("--owner", required=True)
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def complaints_reassign(complaint_id: str, owner: str, by: str, at: str | None,
                        as_json: bool) -> None:  # fmt: skip
    """Give the complaint to another owner (a manager)."""
    with open_desk() as desk:
        made = desk.complaints.reassign(complaint_id, owner=owner, by=by,
                                        at=action_time(desk, at))  # fmt: skip
        done(as_json, made, f"complaint {made.id} is now {made.owner}'s")
