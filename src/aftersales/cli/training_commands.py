"""``aftersales training plan|record``."""

from __future__ import annotations

import click

from aftersales.cli.context import open_desk
from aftersales.cli.output import FORMAT, emit


@click.group()
def training() -> None:
    """The annual training plan and each member's assessments and certificates."""


@training.command("plan")
@click.option("--year", type=int, default=None, help="Only this year's plan.")
@FORMAT
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
        emit(f"training plan {year or ''}".strip(), columns, rows, fmt)


@training.command("record")
@click.argument("staff_id")
@FORMAT
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
        emit(f"training record of {staff_id}", columns, rows, fmt)
