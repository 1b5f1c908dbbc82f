"""``aftersales training``: the plan and a member's record to read; courses, sessions,
enrolment, attendance and assessments to act."""

from __future__ import annotations

from collections.abc import Sequence

import click

from aftersales.cli.arguments import done, number, pairs
from aftersales.cli.context import AT_OPTION, BY_OPTION, action_time, local_time, open_desk
from aftersales.cli.output import FORMAT, JSON_OPTION, emit


@click.group()
def training() -> None:
    """The annual training plan and each member's assessments and certificates; add courses,
    schedule sessions, enroll, record attendance and assessments."""


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


@training.command("check")
@click.option("--year", type=int, required=True, help="The plan's year.")
@FORMAT
def training_check(year: int, fmt: str) -> None:
    """What the year's plan leaves out of the areas the policy's plan covers names (no
    course, or no session scheduled); nothing listed: the plan covers them all."""
    with open_desk() as desk:
        rows = [(w.area, w.message, w.rule) for w in desk.training.plan_check(year)]
        emit(f"training plan {year}: what it leaves out", ("area", "warning", "rule"), rows, fmt)


@training.command("report")
@click.option("--year", type=int, required=True, help="The plan's year.")
@FORMAT
def training_report(year: int, fmt: str) -> None:
    """How well each course worked: attendance, assessments, pass rate and retakes."""
    with open_desk() as desk:
        rows = [
            (r.course, r.title, r.area, r.sessions, r.held, r.enrolled, r.attended,
             r.attendance_rate, r.assessed, r.passed, r.pass_rate, r.retakes)
            for r in desk.training.course_report(year)
        ]  # fmt: skip
        columns = ("course", "title", "area", "sessions", "held", "enrolled", "attended",
                   "attendance_%", "assessed", "passed", "pass_%", "retakes")  # fmt: skip
        emit(f"training {year}: per course", columns, rows, fmt)


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


# -- actions: the plan, sessions, attendance, assessments ------------------------------------


@training.command("add-course")
@click.argument("course_id", metavar="ID")
@click.option("--title", required=True)
@click.option("--year", type=int, required=True, help="The plan's year.")
@click.option("--area", required=True,
              help="product_knowledge, repair_skills, customer_service or safety.")  # fmt: skip
@click.option("--method", required=True, help="internal, external or on_site.")
@click.option("--trainer", required=True, help="A staff id or an outside name.")
@click.option("--certificate", default=None, help="The certificate passing it leads to.")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def training_add_course(course_id: str, title: str, year: int, area: str, method: str,
                        trainer: str, certificate: str | None, by: str, at: str | None,
                        as_json: bool) -> None:  # fmt: skip
    """Add a course to a year's training plan."""
    with open_desk() as desk:
        course = desk.training.add_course(id=course_id, title=title, year=year, area=area,
                                          method=method, trainer=trainer,
                                          certificate=certificate, by=by,
                                          at=action_time(desk, at))  # fmt: skip
        done(as_json, course, f"course {course.id} added to the {course.year} plan")


@training.command("schedule")
@click.argument("course_id", metavar="COURSE")
@click.option("--starts-at", required=True, help="Local time, such as 2026-09-14 09:00.")
@click.option("--hours", required=True, help="Its length in hours.")
@click.option("--trainer", default=None)
@click.option("--place", default=None)
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def training_schedule(course_id: str, starts_at: str, hours: str, trainer: str | None,
                      place: str | None, by: str, at: str | None,
                      as_json: bool) -> None:  # fmt: skip
    """Schedule a session of a course."""
    with open_desk() as desk:
        start = local_time(desk, starts_at)
        assert start is not None
        session = desk.training.schedule(course_id, starts_at=start,
                                         hours=number(hours, "--hours"),
                                         trainer=trainer, place=place, by=by,
                                         at=action_time(desk, at))  # fmt: skip
        done(as_json, session, f"session {session.id} scheduled")


@training.command("enroll")
@click.argument("session_id", metavar="SESSION")
@click.option("--staff", "members", multiple=True, required=True, help="A member (repeatable).")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def training_enroll(session_id: str, members: Sequence[str], by: str, at: str | None,
                    as_json: bool) -> None:  # fmt: skip
    """Enroll members in a session."""
    with open_desk() as desk:
        session = desk.training.enroll(session_id, members, by=by, at=action_time(desk, at))
        done(as_json, session, f"session {session.id}: {len(session.enrolled)} enrolled")


@training.command("attend")
@click.argument("session_id", metavar="SESSION")
@click.option("--present", "members", multiple=True, help="A member who came (repeatable).")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def training_attend(session_id: str, members: Sequence[str], by: str, at: str | None,
                    as_json: bool) -> None:  # fmt: skip
    """Record who attended a session (the enrolled others were absent)."""
    with open_desk() as desk:
        session = desk.training.attend(session_id, members, by=by, at=action_time(desk, at))
        done(as_json, session, f"session {session.id}: {len(members)} attended")


@training.command("assess")
@click.argument("staff_id", metavar="STAFF")
@click.option("--certificate", required=True)
@click.option("--score", "scores", multiple=True, required=True,
              help="PART=SCORE, each part the policy's assessment weighs "
                   "(repeatable).")  # fmt: skip
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def training_assess(staff_id: str, certificate: str, scores: Sequence[str], by: str,
                    at: str | None, as_json: bool) -> None:  # fmt: skip
    """Record an assessment attempt; a pass grants the certificate."""
    marks = {k: number(v, "--score") for k, v in pairs(scores, "--score", "theory=80").items()}
    with open_desk() as desk:
        attempt = desk.training.assess(staff_id, certificate=certificate, scores=marks, by=by,
                                       at=action_time(desk, at))  # fmt: skip
        outcome = "passed" if attempt.passed else "failed"
        done(as_json, attempt, f"{staff_id} {outcome} {certificate} with {attempt.score}")
