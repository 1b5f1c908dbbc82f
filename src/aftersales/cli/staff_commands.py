"""``aftersales staff ...``: the team and careers (promotions, rotations, the record)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import click
from rich.table import Table

from aftersales.cli.arguments import done
from aftersales.cli.common import console
from aftersales.cli.context import AT_OPTION, BY_OPTION, action_time, local_time, open_desk
from aftersales.cli.output import FORMAT, JSON_OPTION, emit, print_json
from aftersales.core.careers import StaffRecord
from aftersales.core.convert import to_dict
from aftersales.services.staff import KEEP


# ---- staff --------------------------------------------------------------------------------------
@click.group()
def staff() -> None:
    """Team members: add, list, deactivate; careers: promote, rotate, show a record."""


@staff.command("add")
@click.argument("staff_id")
@click.option("--name", required=True)
@click.option("--role", "roles", multiple=True, required=True, help="A role (repeatable).")
@click.option("--supervisor", default=None)
@click.option("--email", default=None)
@click.option("--phone", default=None)
@click.option("--level", default=None, help="A step of the career ladder.")
@click.option("--team", default=None, help="Their team (webhook notifiers post per team).")
@click.option("--language", default=None, help="Their language (en, zh-CN): the board's.")
@click.option(
    "--level-since",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="The day they reached their level (what promote when counts from).",
)
@JSON_OPTION
def staff_add(
    staff_id: str,
    name: str,
    roles: Sequence[str],
    supervisor: str | None,
    email: str | None,
    phone: str | None,
    level: str | None,
    team: str | None,
    language: str | None,
    level_since: datetime | None,
    as_json: bool,
) -> None:
    """Add a team member."""
    with open_desk() as desk:
        added = desk.staff.add(
            id=staff_id, name=name, roles=roles, supervisor=supervisor, email=email, phone=phone,
            level=level, team=team, language=language,
            level_since=None if level_since is None else level_since.date(),
        )  # fmt: skip
        if as_json:
            print_json(added)
        else:
            click.echo(f"{added.id}  {added.name}  {', '.join(added.roles)}")


@staff.command("update")
@click.argument("staff_id")
@click.option("--by", required=True, help="Who makes the change (them, a supervisor, a manager).")
@click.option("--email", default=None, help='New address; "" clears it.')
@click.option("--phone", default=None, help='New number; "" clears it.')
@click.option("--team", default=None, help='New team; "" clears it.')
@click.option("--language", default=None, help='New language (zh-CN); "" clears it.')
@JSON_OPTION
def staff_update(
    staff_id: str,
    by: str,
    email: str | None,
    phone: str | None,
    team: str | None,
    language: str | None,
    as_json: bool,
) -> None:
    """Change a member's e-mail address, phone, team or language (options left out stay)."""
    with open_desk() as desk:
        changed = desk.staff.update(
            staff_id, by=by, email=KEEP if email is None else email,
            phone=KEEP if phone is None else phone, team=KEEP if team is None else team,
            language=KEEP if language is None else (language or None),
        )  # fmt: skip
        if as_json:
            print_json(changed)
        else:
            click.echo(f"{changed.id}  email {changed.email or '-'}  phone {changed.phone or '-'}"
                       f"  team {changed.team or '-'}")  # fmt: skip


@staff.command("list")
@click.option("--role", default=None)
@click.option("--all", "show_all", is_flag=True, help="Include inactive members.")
@JSON_OPTION
def staff_list(role: str | None, show_all: bool, as_json: bool) -> None:
    """Team members."""
    with open_desk() as desk:
        members = desk.staff.list(role=role, active=None if show_all else True)
        if as_json:
            print_json(members)
            return
        table = Table(title=f"{len(members)} member(s)")
        for column in ("id", "name", "roles", "level", "team", "supervisor", "email", "active"):
            table.add_column(column)
        for m in members:
            cells = (m.level, m.team, m.supervisor, m.email)
            table.add_row(m.id, m.name, ", ".join(m.roles), *(c or "-" for c in cells),
                          "yes" if m.active else "no")  # fmt: skip
        console().print(table)


@staff.command("deactivate")
@click.argument("staff_id")
@click.option("--by", required=True, help="The manager deciding.")
@JSON_OPTION
def staff_deactivate(staff_id: str, by: str, as_json: bool) -> None:
    """Stop a member from acting (their history stays)."""
    with open_desk() as desk:
        done(as_json, desk.staff.deactivate(staff_id, by=by), f"{staff_id} deactivated")


@staff.command("reactivate")
@click.argument("staff_id")
@click.option("--by", required=True, help="The manager deciding.")
@JSON_OPTION
def staff_reactivate(staff_id: str, by: str, as_json: bool) -> None:
    """Let an inactive member act again."""
    with open_desk() as desk:
        done(as_json, desk.staff.reactivate(staff_id, by=by), f"{staff_id} reactivated")


@staff.command("promote")
@click.argument("staff_id")
@click.option("--to", "level", required=True, help="The new level.")
@click.option("--by", required=True, help="The manager or director deciding.")
@click.option("--reason", required=True)
@click.option("--role", "roles", multiple=True, help="A role the level brings (repeatable).")
@click.option("--override", default=None,
              help="A manager's reason to promote although the policy's promote when does "
                   "not hold (recorded with the promotion).")  # fmt: skip
@click.option("--at", default=None, help="When (local time); default now.")
@JSON_OPTION
def staff_promote(
    staff_id: str,
    level: str,
    by: str,
    reason: str,
    roles: Sequence[str],
    override: str | None,
    at: str | None,
    as_json: bool,
) -> None:
    """Promote a member up the career ladder (their appraisals are recorded with it); the
    policy's promote when must hold unless a manager overrides."""
    with open_desk() as desk:
        after = desk.staff.promote(staff_id, to=level, by=by, reason=reason, roles=roles,
                                   override=override, at=action_time(desk, at))  # fmt: skip
        months = len(after.promotions[-1].appraisals)
        line = f"{staff_id} is now {after.level} ({months} finalized month(s) on record)"
        if after.promotions[-1].override:
            line += f"; overriding: {'; '.join(after.promotions[-1].unmet)}"
        done(as_json, after, line)


@staff.command("eligibility")
@click.argument("staff_id")
@click.option("--at", default=None, help="When (local time); default now.")
@FORMAT
def staff_eligibility(staff_id: str, at: str | None, fmt: str) -> None:
    """Whether a member may be promoted: each condition of the policy's promote when."""
    with open_desk() as desk:
        found = desk.staff.eligibility(staff_id, at=action_time(desk, at))
        rows = [(c.text, "yes" if c.met else "no", c.detail, c.rule) for c in found.conditions]
        verdict = "eligible" if found.eligible else "not eligible"
        emit(f"{staff_id}: {verdict} for promotion", ("condition", "met", "record", "rule"),
             rows, fmt)  # fmt: skip


@staff.command("rotate")
@click.argument("staff_id")
@click.option("--to", "assignment", required=True, help="The job rotated to.")
@click.option("--start", required=True, help="Local time.")
@click.option("--end", default=None, help="Local time; leave out for an open rotation.")
@click.option("--by", required=True)
@click.option("--reason", default=None)
@JSON_OPTION
def staff_rotate(
    staff_id: str,
    assignment: str,
    start: str,
    end: str | None,
    by: str,
    reason: str | None,
    as_json: bool,
) -> None:
    """Record a job rotation with its dates."""
    with open_desk() as desk:
        begin = local_time(desk, start)
        assert begin is not None
        member = desk.staff.rotate(staff_id, to=assignment, start=begin,
                                   end=local_time(desk, end), by=by, reason=reason)  # fmt: skip
        until = f" to {end}" if end else ""
        done(as_json, member, f"{staff_id} rotates to {assignment} from {start}{until}")


@staff.command("end-rotation")
@click.argument("staff_id")
@click.option("--end", required=True, help="Local time the rotation ends.")
@click.option("--by", required=True)
@JSON_OPTION
def staff_end_rotation(staff_id: str, end: str, by: str, as_json: bool) -> None:
    """End a member's open rotation."""
    with open_desk() as desk:
        finish = local_time(desk, end)
        assert finish is not None
        member = desk.staff.end_rotation(staff_id, end=finish, by=by)
        ended = next(r for r in reversed(member.rotations) if r.end is not None)
        done(as_json, member, f"{staff_id}'s rotation to {ended.assignment} ends {end}")


def _day(value: datetime | str | None) -> str:
    if value is None:
        return "-"
    return (value if isinstance(value, str) else value.isoformat())[:16].replace("T", " ")


def _section(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    if not rows:
        click.echo(f"{title}: none")
        return
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("-" if v is None else str(v) for v in row))
    console().print(table)


def _show(record: StaffRecord) -> None:
    s = record.staff
    ladder = " -> ".join(f"[{x}]" if x == s.level else x for x in record.levels)
    click.echo(
        f"{s.id}  {s.name}  roles {', '.join(s.roles)}  supervisor {s.supervisor or '-'}"
        f"  {'active' if s.active else 'inactive'}"
    )
    click.echo(f"team {s.team or '-'}  email {s.email or '-'}  phone {s.phone or '-'}")
    click.echo(f"level {s.level or 'not on the ladder'}: {ladder}")
    _section(
        "promotions",
        ("at", "from", "to", "by", "reason", "appraisals"),
        [
            (
                _day(p.at),
                p.previous,
                p.level,
                p.by,
                p.reason,
                ", ".join(f"{a.period} {a.grade}" for a in p.appraisals) or "-",
            )
            for p in record.promotions
        ],
    )
    _section(
        "rotations",
        ("assignment", "start", "end", "reason"),
        [(r.assignment, _day(r.start), _day(r.end), r.reason) for r in record.rotations],
    )
    _section(
        "training",
        ("session", "course", "area", "starts", "hours", "attended"),
        [
            (
                t.session,
                t.title,
                t.area,
                _day(t.starts_at),
                t.hours,
                "-" if t.attended is None else ("yes" if t.attended else "no"),
            )
            for t in record.training
        ],
    )
    _section(
        "certificates",
        ("certificate", "issued", "expires"),
        [(c.name, _day(c.issued_at), _day(c.expires_at)) for c in record.certificates],
    )
    _section(
        "assessments",
        ("certificate", "attempt", "score", "passed", "at"),
        [
            (a.certificate, a.attempt, a.score, "yes" if a.passed else "no", _day(a.at))
            for a in record.assessments
        ],
    )
    _section(
        "appraisals",
        ("period", "score", "grade"),
        [(a.period, a.score, a.grade) for a in record.appraisals],
    )
    _section(
        "outcomes and reviews",
        ("period", "kind", "note"),
        [(o.period, o.kind, o.note) for o in record.outcomes]
        + [(f.period, f.what, f"{f.status}: {f.note}" if f.note else f.status)
           for f in record.follow_ups]
        + [(r.period, "dismissal review", r.decision or "open") for r in record.reviews],
    )  # fmt: skip
    _section(
        "incidents",
        ("id", "happened", "severity", "description", "late"),
        [
            (i.id, _day(i.happened_at), i.severity, i.description, "yes" if i.late else "no")
            for i in record.incidents
        ],
    )


@staff.command("show")
@click.argument("staff_id")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def staff_show(staff_id: str, fmt: str) -> None:
    """A member's whole record: level and promotions, rotations, training, certificates,
    appraisals and their outcomes, incidents."""
    with open_desk() as desk:
        record = desk.staff.record(staff_id)
        if fmt == "json":
            click.echo(json.dumps(to_dict(record), ensure_ascii=False, indent=2))
        else:
            _show(record)


@staff.group("token")
def staff_token() -> None:
    """API tokens for the HTTP API (docs/http.md): issue, list, revoke."""


@staff_token.command("issue")
@click.argument("staff_id", metavar="STAFF")
@click.option("--name", default="api", show_default=True, help="What the token is for.")
@click.option("--days", type=click.IntRange(1, 732), default=90, show_default=True,
              help="How long it is valid.")  # fmt: skip
@BY_OPTION
@AT_OPTION
def token_issue(staff_id: str, name: str, days: int, by: str, at: str | None) -> None:
    """Issue a token acting as STAFF; it is printed once: keep it."""
    with open_desk() as desk:
        issued = desk.tokens.issue(staff_id, name=name, valid_for=timedelta(days=days), by=by,
                                   at=action_time(desk, at))  # fmt: skip
        click.echo(issued.token)
        record = issued.record
        click.echo(f"token {record.id} acts as {record.staff} until "
                   f"{record.expires:%Y-%m-%d %H:%M}; it is not shown again", err=True)  # fmt: skip


@staff_token.command("list")
@click.option("--staff", "staff_id", default=None, help="Only this member's.")
@FORMAT
def token_list(staff_id: str | None, fmt: str) -> None:
    """Tokens: id, member, name, issued, expires, revoked (never the token itself)."""
    with open_desk() as desk:
        tz = desk.policy.tz
        rows = ((t.id, t.staff, t.name, f"{t.issued_at.astimezone(tz):%Y-%m-%d %H:%M}",
                 f"{t.expires.astimezone(tz):%Y-%m-%d %H:%M}",
                 "" if t.revoked_at is None else f"{t.revoked_at.astimezone(tz):%Y-%m-%d %H:%M}")
                for t in desk.tokens.list(staff=staff_id))  # fmt: skip
        emit("API tokens", ("id", "staff", "name", "issued", "expires", "revoked"), rows, fmt)


@staff_token.command("revoke")
@click.argument("token_id", metavar="ID")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def token_revoke(token_id: str, by: str, at: str | None, as_json: bool) -> None:
    """Revoke a token: refused from now on."""
    with open_desk() as desk:
        record = desk.tokens.revoke(token_id, by=by, at=action_time(desk, at))
        done(as_json, record, f"token {record.id} of {record.staff} revoked")
