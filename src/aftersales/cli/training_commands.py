"""``aftersales training plan|record`` and ``aftersales safety tools|incidents``."""

from __future__ import annotations

import click

from aftersales.cli.case_commands import open_desk
from aftersales.cli.common import user_errors
from aftersales.cli.parts_commands import FORMAT, _emit


@click.group()
def training() -> None:
    """The annual training plan and each member's assessments and certificates."""


@training.command("plan")
@click.option("--year", type=int, default=None, help="Only this year's plan.")
@FORMAT
@user_errors
def training_plan(year: int | None, fmt: str) -> None:
    """Courses and their sessions: who is enrolled and who attended."""
    with open_desk() as desk:
        rows: list[tuple[object, ...]] = []
        for course in desk.training.plan(year):
            base = (course.id, course.year, course.title, course.area, course.method,
                    course.certificate)  # fmt: skip
            if not course.sessions:
                rows.append((*base, None, None, None, None, None))
            for s in course.sessions:
                when = s.starts_at.astimezone(desk.policy.tz).strftime("%Y-%m-%d %H:%M")
                attended = ", ".join(s.attended) if s.held else None
                rows.append((*base, s.id, when, s.trainer, ", ".join(s.enrolled), attended))
        columns = ("course", "year", "title", "area", "method", "certificate", "session",
                   "starts", "trainer", "enrolled", "attended")  # fmt: skip
        _emit(f"training plan {year or ''}".strip(), columns, rows, fmt)


@training.command("record")
@click.argument("staff_id")
@FORMAT
@user_errors
def training_record(staff_id: str, fmt: str) -> None:
    """A member's assessments, with the certificates they issued."""
    with open_desk() as desk:
        record = desk.training.record(staff_id)
        expiry = {(c.name, c.issued_at): c.expires_at for c in record.certificates}
        rows = []
        for a in record.assessments:
            expires = expiry.get((a.certificate, a.at))
            rows.append((a.certificate, a.attempt, a.score, "pass" if a.passed else "fail",
                         a.at.strftime("%Y-%m-%d"), a.by,
                         None if expires is None else expires.strftime("%Y-%m-%d"),
                         a.retake_session))  # fmt: skip
        columns = ("certificate", "attempt", "score", "result", "date", "assessor",
                   "valid_until", "retake_session")  # fmt: skip
        _emit(f"training record of {staff_id}", columns, rows, fmt)


@click.group()
def safety() -> None:
    """The tool register and incident reports."""


@safety.command("tools")
@click.option("--overdue", is_flag=True, help="Only tools past their inspection date.")
@FORMAT
@user_errors
def safety_tools(overdue: bool, fmt: str) -> None:
    """Registered tools: last inspection, next one due, who holds them."""
    with open_desk() as desk:
        late = {tool for tool, _ in desk.safety.overdue_tools()}
        rows = []
        for tool in desk.safety.tools():
            if overdue and tool.id not in late:
                continue
            due = desk.safety.inspection_due(tool)
            rows.append((tool.id, tool.name, tool.last_inspected.strftime("%Y-%m-%d"),
                         None if due is None else due.strftime("%Y-%m-%d"),
                         "yes" if tool.id in late else "no", tool.holder))  # fmt: skip
        columns = ("tool", "name", "inspected", "due", "overdue", "holder")
        _emit("tools", columns, rows, fmt)


@safety.command("incidents")
@click.option("--open", "open_only", is_flag=True, help="Only with corrective actions open.")
@FORMAT
@user_errors
def safety_incidents(open_only: bool, fmt: str) -> None:
    """Incidents: when, how serious, reported late or not, corrective actions."""
    with open_desk() as desk:
        rows = [
            (i.id, i.happened_at.strftime("%Y-%m-%d %H:%M"), i.severity, i.description,
             i.reported_by, ", ".join(i.people), "yes" if i.late else "no",
             f"{len(i.actions) - len(i.open_actions)}/{len(i.actions)}")
            for i in desk.safety.incidents(open_only=open_only)
        ]  # fmt: skip
        columns = ("incident", "happened", "severity", "description", "reported_by", "people",
                   "late", "actions_done")  # fmt: skip
        _emit("incidents", columns, rows, fmt)
