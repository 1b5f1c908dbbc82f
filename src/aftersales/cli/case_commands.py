"""``aftersales case ...`` and ``aftersales plugins``.

They work on the policy and store that ``aftersales.toml`` names (see
:mod:`aftersales.cli.config`). Cases are named by number (``AS-2026-000001``) or id. Times
are ISO 8601; without an offset they are read in the policy's time zone. ``--json`` prints
the JSON form (``aftersales.to_dict``) instead of a table.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from aftersales.cli.common import console
from aftersales.cli.config import load_config
from aftersales.cli.context import (
    AT_OPTION,
    BY_OPTION,
    action_time,
    find_case,
    local_time,
    open_desk,
)
from aftersales.cli.output import FORMAT, JSON_OPTION, echo_json_list, emit, print_json
from aftersales.cli.sla_commands import case_sla
from aftersales.core.convert import to_dict
from aftersales.core.errors import AftersalesError, ValidationError
from aftersales.core.model import Case
from aftersales.core.parts import part_entry
from aftersales.core.sla import Clock
from aftersales.core.vocabulary import CHANNELS, COMPLEXITIES, REMOTE_WAYS
from aftersales.core.workflow import FINAL, OPEN
from aftersales.ports.hooks import Hooks
from aftersales.ports.manager import describe, make_manager
from aftersales.services.desk import ServiceDesk


def _summary(case: Case) -> str:
    engineer = f", engineer {case.engineer}" if case.engineer else ""
    hold = " (on hold)" if case.on_hold else ""
    return (
        f"{case.number}  {case.status}{hold}  priority {case.priority}{engineer}  "
        f"version {case.version}  id {case.id}"
    )


def _emit(case: Case, as_json: bool) -> None:
    if as_json:
        print_json(case)
    else:
        click.echo(_summary(case))


@click.group()
def case() -> None:
    """Report and work cases through the repair workflow."""


case.add_command(case_sla)


@case.command("report")
@click.option(
    "--customer",
    "customer_name",
    default=None,
    help="Customer name (default: the owner the machine's record names).",
)
@click.option("--customer-key", default=None, help="The customer's key (an ERP number).")
@click.option("--tier", default=None, help="Customer tier (gold, silver, ...).")
@click.option("--region", default=None)
@click.option("--model", default=None, help="Machine model.")
@click.option("--line", default=None, help="Product line.")
@click.option("--serial", default=None, help="Machine serial number.")
@click.option("--fault", required=True, help="What is wrong, in the customer's words.")
@click.option("--fault-code", default=None)
@click.option("--severity", required=True, help="One of the policy's severities.")
@click.option("--machine-down/--machine-running", default=False)
@click.option("--channel", required=True, type=click.Choice(CHANNELS))
@click.option("--contact", default=None, help="How to reach the customer.")
@click.option("--custom", multiple=True, help="A custom field, NAME=VALUE (JSON values).")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def case_report(
    customer_name: str | None,
    customer_key: str | None,
    tier: str | None,
    region: str | None,
    model: str | None,
    line: str | None,
    serial: str | None,
    fault: str,
    fault_code: str | None,
    severity: str,
    machine_down: bool,
    channel: str,
    contact: str | None,
    custom: Sequence[str],
    by: str,
    at: str | None,
    as_json: bool,
) -> None:
    """Record a customer's fault report. A serial the installed base knows fills in the
    machine's model, line and owner; the case records what covers it."""
    fields = _custom_fields(custom)
    if customer_name is None and (customer_key or tier or region):
        raise click.UsageError("--customer-key, --tier and --region go with --customer NAME")
    customer = None
    if customer_name is not None:
        customer = {"name": customer_name, "key": customer_key, "tier": tier, "region": region}
    with open_desk() as desk:
        result = desk.cases.report(
            customer=customer,
            product={"model": model, "line": line, "serial": serial},
            fault=fault,
            fault_code=fault_code,
            severity=severity,
            machine_down=machine_down,
            channel=channel,
            contact=contact,
            custom=fields,
            by=by,
            at=action_time(desk, at),
        )
        _emit(result, as_json)


def _custom_fields(items: Sequence[str]) -> dict[str, Any]:
    """``--custom NAME=VALUE`` options as a mapping (JSON values, else text)."""
    fields: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise ValidationError(f"--custom {item!r}: write NAME=VALUE")
        try:
            fields[name] = json.loads(value)
        except json.JSONDecodeError:
            fields[name] = value
    return fields


def _step(
    name: str,
    help_text: str,
    extra: Sequence[Callable[[Any], Any]],
    call: Callable[..., Case],
) -> None:
    """Define ``aftersales case NAME CASE --by --at [extra options] [--json]``."""

    def command(case_ref: str, by: str, at: str | None, as_json: bool, **options: Any) -> None:
        with open_desk() as desk:
            case_id = find_case(desk, case_ref)
            when = action_time(desk, at)
            for key in ("appointment", "new_eta"):
                if key in options and options[key] is not None:
                    options[key] = local_time(desk, options[key])
            _emit(call(desk, case_id, by=by, at=when, **options), as_json)

    command.__doc__ = help_text
    for decorate in (*reversed(extra), JSON_OPTION, AT_OPTION, BY_OPTION):
        command = decorate(command)
    command = click.argument("case_ref", metavar="CASE")(command)
    case.command(name, help=help_text)(command)


def _repair_options(parts_help: str) -> tuple[Callable[[Any], Any], ...]:
    """The options of a repair report (``complete`` on site, ``resolve`` remotely)."""
    return (
        click.option("--actions", required=True, help="What was done."),
        click.option("--result", required=True, help="How it tested."),
        click.option("--cause", default=None),
        click.option("--part", "parts", multiple=True, help=parts_help),
    )


def _parts(values: Sequence[str]) -> list[dict[str, Any]]:
    return [part_entry(value, "--part") for value in values]


_step(
    "respond",
    "Customer service answered the customer.",
    (),
    lambda d, c, **k: d.cases.respond(c, **k),
)
_step(
    "assign",
    "Give the case to an engineer.",
    (
        click.option("--engineer", required=True),
        click.option("--instructions", default=None),
    ),
    lambda d, c, **k: d.cases.assign(c, **k),
)
_step(
    "reassign",
    "Hand the case to another engineer.",
    (
        click.option("--engineer", required=True),
        click.option("--reason", required=True),
        click.option("--instructions", default=None),
    ),
    lambda d, c, **k: d.cases.reassign(c, **k),
)
_step(
    "queue",
    "Put the case in a team's queue (out of its engineer's hands, if it was in them).",
    (click.option("--team", required=True), click.option("--reason", default=None)),
    lambda d, c, **k: d.cases.queue(c, **k),
)
_step(
    "take",
    "An engineer on the team the case is queued for takes it (--by is the engineer).",
    (),
    lambda d, c, **k: d.cases.take(c, **k),
)
_step(
    "resolve",
    "Resolve the case without a visit (where the policy says 'resolve remotely by').",
    (
        click.option("--way", required=True, type=click.Choice(REMOTE_WAYS)),
        *_repair_options("SKU or SKU:QUANTITY sent."),
    ),
    lambda d, c, parts=(), **k: d.cases.resolve(c, parts_used=_parts(parts), **k),
)
_step("confirm", "The engineer accepts the job.", (), lambda d, c, **k: d.cases.confirm(c, **k))
_step(
    "contact",
    "The engineer called the customer.",
    (click.option("--appointment", default=None, help="Agreed time on site."),),
    lambda d, c, **k: d.cases.contact(c, **k),
)
_step("arrive", "The engineer is on site.", (), lambda d, c, **k: d.cases.arrive(c, **k))
_step(
    "checklist",
    "The engineer checked the safety gear the policy requires before work.",
    (click.option("--item", "items", multiple=True, required=True, help="e.g. helmet."),),
    lambda d, c, items=(), **k: d.safety.checklist(c, list(items), **k),
)
_step(
    "diagnose",
    "Record the cause and complexity.",
    (
        click.option("--cause", required=True),
        click.option("--complexity", required=True, type=click.Choice(COMPLEXITIES)),
    ),
    lambda d, c, **k: d.cases.diagnose(c, **k),
)
_step(
    "complete",
    "The repair is done and tested.",
    _repair_options("SKU or SKU:QUANTITY used."),
    lambda d, c, parts=(), **k: d.cases.complete(c, parts_used=_parts(parts), **k),
)
_step(
    "accept",
    "The customer signed the repair report.",
    (
        click.option("--signed-by", required=True, help="The customer's signer."),
        click.option(
            "--signature",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            default=None,
            help="A PNG of the signature drawn on the screen.",
        ),
    ),
    lambda d, c, signature=None, **k: d.cases.accept(
        c, signature=None if signature is None else signature.read_bytes(), **k
    ),
)
_step(
    "on-the-way",
    "The engineer sets off to the customer (who is told, where the policy says).",
    (click.option("--eta", default=None, help="When they expect to arrive (local time)."),),
    lambda d, c, eta=None, **k: d.cases.on_the_way(
        c, eta=None if eta is None else local_time(d, eta), **k
    ),
)
_step(
    "reject",
    "The customer refused the repair.",
    (
        click.option("--signed-by", required=True, help="The customer's signer."),
        click.option("--reason", required=True),
    ),
    lambda d, c, **k: d.cases.reject(c, **k),
)
_step(
    "notify-delay",
    "Tell the customer a milestone will be late: by the policy's message, or record that you "
    "told them yourself (--told NAME --channel phone).",
    (
        click.option("--milestone", required=True),
        click.option("--reason", required=True),
        click.option("--new-eta", required=True),
        click.option("--told", default=None, help="Who at the customer you told."),
        click.option("--channel", default=None, help="How: phone, visit, email, sms, chat, ..."),
    ),
    lambda d, c, **k: d.cases.notify_delay(c, **k),
)
_step(
    "unassign",
    "Take the case from its engineer and put it back in the queue.",
    (click.option("--reason", required=True),),
    lambda d, c, **k: d.cases.unassign(c, **k),
)
_step(
    "hold",
    "Put the case on hold.",
    (click.option("--reason", required=True),),
    lambda d, c, **k: d.cases.hold(c, **k),
)
_step("release", "Take the case off hold.", (), lambda d, c, **k: d.cases.release(c, **k))
_step(
    "follow-up",
    "The customer was called back.",
    (
        click.option("--satisfaction", required=True, type=click.IntRange(1, 5)),
        click.option("--comments", default=None),
    ),
    lambda d, c, **k: d.cases.follow_up(c, **k),
)
_step("close", "Close a followed-up case.", (), lambda d, c, **k: d.cases.close(c, **k))
_step(
    "reopen",
    "Open a closed case again (the repair did not hold), within the policy's window.",
    (click.option("--reason", required=True),),
    lambda d, c, **k: d.cases.reopen(c, **k),
)
_step(
    "update",
    "Correct the severity, machine-down, fault code, the machine's serial or custom fields; "
    "the priority (and, for a new fault code or serial, what covers the case) is decided "
    "again and the change is recorded.",
    (
        click.option("--reason", required=True, help="Why the record was wrong."),
        click.option("--severity", default=None, help="One of the policy's severities."),
        click.option("--machine-down/--machine-running", "machine_down", default=None),
        click.option("--fault-code", default=None),
        click.option("--serial", default=None, help="The machine's serial, corrected."),
        click.option(
            "--custom",
            "custom",
            multiple=True,
            help="NAME=VALUE for a field the policy declares (repeatable).",
        ),
    ),
    lambda d, c, *, custom, **k: d.cases.update(c, custom=_custom_fields(custom) or None, **k),
)
_step(
    "cancel",
    "Cancel a case.",
    (click.option("--reason", required=True),),
    lambda d, c, **k: d.cases.cancel(c, **k),
)


@case.command("show")
@click.argument("case_ref", metavar="CASE")
@JSON_OPTION
def case_show(case_ref: str, as_json: bool) -> None:
    """Everything recorded on a case."""
    with open_desk() as desk:
        found = desk.cases.get(find_case(desk, case_ref))
        if as_json:
            print_json(found)
            return
        table = Table(title=f"case {found.number}", show_header=False)
        table.add_column("field")
        table.add_column("value")
        for name, value in _record_rows(found, desk.policy.tz):
            table.add_row(name, value)
        console().print(table)


def _record_rows(found: Case, tz: Any) -> list[tuple[str, str]]:
    """Every part of a case a person reads, one row a part (a list one line an entry)."""

    def t(when: datetime | None) -> str:
        return "-" if when is None else when.astimezone(tz).strftime("%Y-%m-%d %H:%M")

    def lines(items: Iterable[str]) -> str:
        return "\n".join(items) or "-"

    customer = found.customer
    repair = found.repair
    rows = [
        ("status", found.status + (" (on hold)" if found.on_hold else "")
         + (f": {found.cancel_reason}" if found.cancel_reason else "")),
        ("priority", f"{found.priority}  ({found.priority_location})"),
        ("policy", found.policy_version),
        ("customer", ", ".join(v for v in (customer.name, customer.tier, customer.region) if v)),
        ("contact", found.contact or "-"),
        ("product", " ".join(v for v in (found.product.model, found.product.line,
                                          found.product.serial) if v) or "-"),
        ("fault", found.fault + (f"  [{found.fault_code}]" if found.fault_code else "")),
        ("severity", found.severity + (", machine down" if found.machine_down else "")),
        ("channel", f"{found.channel} (reported by {found.reported_by})"),
        ("custom", lines(f"{k} = {v}" for k, v in sorted(found.custom.items()))),
        ("team", found.team or "-"),
        ("engineer", found.engineer or "-"),
        ("handovers", lines(f"{t(h.at)} to {h.engineer} by {h.by}"
                            + (f": {h.instructions}" if h.instructions else "")
                            + (f" ({h.reason})" if h.reason else "") for h in found.handovers)),
        ("appointment", t(found.appointment)),
        *((name, t(when)) for name, when in found.milestones.items()),
        ("safety checks", lines(f"{t(c.at)} {', '.join(c.items)} by {c.by}"
                                for c in found.safety_checks)),
        ("diagnosis", "-" if found.diagnosis is None else
         f"{found.diagnosis.cause} ({found.diagnosis.complexity}) by {found.diagnosis.by}"),
        ("repair", "-" if repair is None else lines([
            f"{repair.actions} -> {repair.result}",
            f"cause: {repair.cause}; by {repair.engineer} at {t(repair.at)}"
            + (f"; without a visit ({repair.remote})" if repair.remote else ""),
            *(f"part {p.sku} x {p.quantity}" for p in repair.parts_used),
        ])),
        ("rejections", lines(f"{t(r.at)} by {r.signed_by}: {r.reason}" for r in found.rejections)),
        ("acceptance", "-" if found.acceptance is None else
         f"signed by {found.acceptance.signed_by} at {t(found.acceptance.at)}"),
        ("follow-up", "-" if found.follow_up is None else
         f"satisfaction {found.follow_up.satisfaction}/5 by {found.follow_up.by}"
         + (f": {found.follow_up.comments}" if found.follow_up.comments else "")),
        ("holds", lines(f"{t(h.start)} - {t(h.end) if h.end else 'now'}: {h.reason}"
                        for h in found.holds)),
        ("delays", lines(f"{d.milestone}: {d.reason}, new time {t(d.new_eta)} (told {t(d.at)})"
                         for d in found.delays)),
        ("priority changes", lines(f"{t(c.at)} {c.previous} -> {c.priority}: {c.reason}"
                                   for c in found.priority_changes)),
        ("policy changes", lines(f"{t(c.at)} {c.previous} -> {c.version} by {c.by}: {c.reason}"
                                 for c in found.policy_changes)),
        ("reopenings", lines(f"{t(r.at)} by {r.by}: {r.reason}" for r in found.reopenings)),
        ("rework of", found.rework_of or "-"),
        ("machine", "-" if found.machine is None else
         f"{found.machine.serial} at {found.machine.site or '-'}, "
         + ("-" if found.machine.hours is None else f"{found.machine.hours:g} h")
         + ("" if found.machine.age_months is None
            else f", {found.machine.age_months} months old")),
        ("contract", "-" if found.contract is None else
         f"{found.contract.id} ({found.contract.level}"
         + (f", response {found.contract.response}" if found.contract.response else "") + ")"),
        ("coverage", "-" if found.coverage is None else
         f"{found.coverage.kind.replace('_', ' ')}: {found.coverage.reason}"
         + (f" ({found.coverage.location})" if found.coverage.location else "")),
        ("chargeable", "yes" if found.chargeable else "no"),
        ("version", str(found.version)),
        ("id", found.id),
    ]  # fmt: skip
    return rows


@case.command("history")
@click.argument("case_ref", metavar="CASE")
@JSON_OPTION
def case_history(case_ref: str, as_json: bool) -> None:
    """The events of a case, oldest first."""
    with open_desk() as desk:
        events = desk.cases.history(find_case(desk, case_ref))
        if as_json:
            print_json(events)
            return
        table = Table(title="history")
        for column in ("#", "event", "at", "by", "details"):
            table.add_column(column)
        for event in events:
            details = ", ".join(_readable(event.data, desk.policy.tz))
            when = event.at.astimezone(desk.policy.tz).strftime("%Y-%m-%d %H:%M")
            table.add_row(str(event.version), event.type, when, event.by, details)
        console().print(table)


def _readable(data: Any, tz: Any, prefix: str = "") -> list[str]:
    """An event's data as ``name=value`` items a person reads: nested records with dotted
    names (``customer.tier=gold``), lists joined, times in the policy's zone, empties left
    out (not Python's dict text)."""
    items: list[str] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if value in (None, "", [], {}):
            continue
        if isinstance(value, dict):
            items += _readable(value, tz, f"{name}.")
        elif isinstance(value, list):
            shown = ("; ".join(" ".join(_readable(v, tz)) if isinstance(v, dict) else str(v)
                               for v in value))  # fmt: skip
            items.append(f"{name}={shown}")
        else:
            items.append(f"{name}={_local(value, tz)}")
    return items


def _local(value: Any, tz: Any) -> str:
    """A stored time (ISO text) in the policy's zone; anything else as it is."""
    if isinstance(value, str) and len(value) >= 16 and value[4] == "-" and value[10] == "T":
        try:
            return datetime.fromisoformat(value).astimezone(tz).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            pass
    return str(value)


PAGE = 50  # cases a page of case list shows
MINUTE = "%Y-%m-%d %H:%M"
PLAIN_PAST = 300  # longer lists print plain tab-separated lines, not a laid-out table


@case.command("list")
@click.option("--status", multiple=True, help="Only these statuses (repeatable).")
@click.option("--engineer", default=None)
@click.option("--team", default=None, help="Only cases whose engineer is on this team.")
@click.option("--open", "only_open", is_flag=True, help="Only cases not closed or cancelled.")
@click.option("--at-risk", is_flag=True, help="Only cases with a clock at risk or breached.")
@click.option("--breached", is_flag=True, help="Only cases with a clock past due and unmet.")
@click.option("--now", default=None, help="Read the clocks at this time (default: now).")
@click.option("--limit", type=click.IntRange(min=1), default=PAGE, show_default=True,
              help="Cases per page.")  # fmt: skip
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--after", "after", default=None, metavar="NUMBER",
              help="The page after this case (the cursor a page ends with).")  # fmt: skip
@click.option("--all", "every", is_flag=True, help="Every case, no pages.")
@click.option("--oldest-first", is_flag=True, help="Oldest report first (default: newest).")
@FORMAT
@click.option("--json", "as_json", is_flag=True, help="The cases' whole records as JSON.")
def case_list(
    status: Sequence[str],
    engineer: str | None,
    team: str | None,
    only_open: bool,
    at_risk: bool,
    breached: bool,
    now: str | None,
    limit: int,
    page: int,
    after: str | None,
    every: bool,
    oldest_first: bool,
    fmt: str,
    as_json: bool,
) -> None:
    """Cases, newest report first, a page at a time (--all: every one), each with the state
    of its most urgent unmet SLA clock (breached, at_risk, running) and its next deadline.
    Every case and long filtered lists are read and printed a page at a time, never held."""
    if after is not None and page > 1:
        raise click.UsageError("--after starts the page itself; give it or --page, not both")
    with open_desk() as desk:
        statuses = tuple(status) or (OPEN if only_open or at_risk or breached else None)
        filtered = at_risk or breached
        start = None if after is None else desk.cases.by_number(after).id
        search: dict[str, Any] = {"status": statuses, "engineer": engineer, "team": team,
                                  "newest_first": not oldest_first, "after": start}  # fmt: skip
        found: Iterable[Case]
        if every or filtered:  # streamed: judged and printed as read
            found = desk.cases.scan(**search)
        else:  # a page is read from the store as a page: only what is shown is decoded
            wanted = limit * page
            if wanted > 1_000_000_000:
                raise ValidationError(f"--page {page} of {limit} lies past a billion cases; "
                                      "ask for an earlier page or a larger --limit")  # fmt: skip
            found = desk.cases.find(**search, limit=wanted)[(page - 1) * limit :]
        rows = _judged(desk, found, desk.at(local_time(desk, now)), at_risk, breached)
        if filtered and not every:
            rows = islice(rows, (page - 1) * limit, page * limit)
        if as_json:
            echo_json_list(to_dict(c) for c, _, _ in rows)
            return
        tz = desk.policy.tz
        last: list[Case] = []  # the last case printed: the next page's cursor

        def lines() -> Iterator[tuple[Any, ...]]:
            for c, state, due in rows:
                last[:] = [c]
                shown_due = None if due is None else due.astimezone(tz).strftime(MINUTE)
                yield (c.number, c.status + (" (hold)" if c.on_hold else ""), c.priority,
                       c.engineer, c.reported_at.astimezone(tz).strftime(MINUTE),
                       c.customer.name, state, shown_due)  # fmt: skip

        columns = ["number", "status", "priority", "engineer", "reported", "customer", "sla",
                   "next due"]  # fmt: skip
        shown = emit("{} case(s)".format, columns, lines(), fmt, plain_past=PLAIN_PAST)
        if fmt == "table" and not every and shown == limit:
            where = f"--after {last[0].number}" if after is not None or page == 1 else (
                f"--page {page + 1}")  # fmt: skip
            click.echo(f"page {page if after is None else 'after ' + after}; {where} for the "
                       f"next {limit}, --all for every case")  # fmt: skip


def _judged(
    desk: ServiceDesk, cases: Iterable[Case], when: datetime, at_risk: bool, breached: bool
) -> Iterator[tuple[Case, str | None, datetime | None]]:
    """Each case with its most urgent clock state and next deadline at ``when``, only those
    at risk or breached when asked."""
    for c in cases:
        # a closed or cancelled case has no clock left to watch
        state, due = (None, None) if c.status in FINAL else _urgency(desk.cases.sla(c.id, when))
        if (breached and state != "breached") or (at_risk and state not in _RISKY):
            continue
        yield c, state, due


_RISKY = ("breached", "at_risk")
_URGENCY = ("breached", "at_risk", "running", "pending")


def _urgency(clocks: Sequence[Clock]) -> tuple[str | None, datetime | None]:
    """The most urgent state among the clocks not met yet, and the earliest deadline of
    those still running (None, None when every clock is met or ended)."""
    unmet = [c for c in clocks if c.met_at is None and c.state in _URGENCY]
    if not unmet:
        return None, None
    state = min((c.state for c in unmet), key=_URGENCY.index)
    due = min((c.due for c in unmet if c.due is not None and c.state != "breached"), default=None)
    return state, due


@click.command("plugins")
@JSON_OPTION
def plugins_command(as_json: bool) -> None:
    """The loaded plugins and the hooks each implements, the installed ones that could not
    be loaded, with why, and each notifier: configured in aftersales.toml or not, and
    whether its settings are valid."""
    pm = make_manager()
    rows = describe(pm)
    notifiers = _notifiers(pm)
    if as_json:
        listed: list[dict[str, Any]] = [{"name": n, "hooks": h} for n, h in rows]
        listed += [{"name": n, "hooks": [], "not_loaded": why} for n, why in pm.broken]
        click.echo(
            json.dumps(
                {
                    "plugins": listed,
                    "notifiers": [
                        {"name": n, "configured": c, "problem": p} for n, c, p in notifiers
                    ],
                },
                indent=2,
            )
        )
        return
    table = Table(title="plugins")
    table.add_column("plugin")
    table.add_column("hooks")
    for name, hooks in rows:
        table.add_row(name, ", ".join(hooks))
    for name, why in pm.broken:
        table.add_row(f"{name} (not loaded)", why)
    console().print(table)
    table = Table(title="notifiers ([notify.NAME] in aftersales.toml)")
    for column in ("notifier", "configured", "settings"):
        table.add_column(column)
    for name, configured, problem in notifiers:
        state = "-" if not configured else ("valid" if problem is None else f"invalid: {problem}")
        table.add_row(name, "yes" if configured else "no", state)
    console().print(table)


def _notifiers(pm: Any) -> list[tuple[str, bool, str | None]]:
    """Each notifier a plugin can make, and each one aftersales.toml configures: whether it
    is configured, and what is wrong with its settings (None: nothing)."""
    factories = Hooks(pm).notifier_factories()
    try:
        configured = load_config(click.get_current_context().find_root().obj).notify
    except AftersalesError:
        configured = {}  # no aftersales.toml here: nothing is configured
    found = []
    for name in sorted(set(factories) | set(configured)):
        factory = factories.get(name)
        problem = None
        if factory is None:
            problem = f"no loaded plugin makes a notifier {name!r}"
        elif name in configured:
            try:
                factory(configured[name])  # made and dropped: nothing is sent
            except AftersalesError as exc:
                problem = str(exc)
        found.append((name, name in configured, problem))
    return found


@case.command("report-doc")
@click.argument("case_ref", metavar="CASE")
@click.option("--format", "doc_format", type=click.Choice(["pdf", "html"]), default="pdf",
              show_default=True)  # fmt: skip
@click.option("--language", default=None, help="en or zh (default: the contact's).")
@click.option("--output", "-o", "output", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Where (default: repair-report-<case>.<format>).")  # fmt: skip
def case_report_doc(case_ref: str, doc_format: str, language: str | None,
                    output: Path | None) -> None:  # fmt: skip
    """Write the case's repair report as the document the customer keeps (PDF or HTML)."""
    with open_desk() as desk:
        case_id = find_case(desk, case_ref)
        document = desk.cases.report_document(case_id, format=doc_format, language=language)
        number = desk.cases.get(case_id).number
    target = output or Path(f"repair-report-{number}.{doc_format}")
    target.write_bytes(document)
    click.echo(f"{target} ({len(document):,} bytes)")


@case.command("answer-survey")
@click.argument("token")
@click.option("--satisfaction", type=int, required=True, help="1 (not at all) to 5 (very).")
@click.option("--comments", default=None)
@AT_OPTION
@JSON_OPTION
def case_answer_survey(token: str, satisfaction: int, comments: str | None, at: str | None,
                       as_json: bool) -> None:  # fmt: skip
    """Record a customer's answer to a survey link (the token after token= in the link)."""
    with open_desk() as desk:
        _emit(desk.cases.answer_survey(token, satisfaction=satisfaction, comments=comments,
                                       at=action_time(desk, at)), as_json)  # fmt: skip
