"""desk.training: the plan, assessments, retakes, certificates, and what cases need."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from conftest import REPORT, RULES, T0, add_team, at, desk_cli

from aftersales import (
    ConflictError,
    NotFound,
    Notification,
    PermissionDenied,
    PolicyError,
    ServiceDesk,
    ValidationError,
    WorkflowError,
    parse_policy,
)
from aftersales.testing import Outbox


def rhine(storage_url: str = "memory://", outbox: Outbox | None = None) -> ServiceDesk:
    desk = ServiceDesk(
        RULES / "rhine-pumps.policy", storage_url, plugins=[outbox] if outbox else []
    )
    add_team(desk)
    desk.staff.add(id="e9", name="New hire", roles=["engineer"], supervisor="m1", at=T0)
    return desk


def scores(theory: int, practical: int, case_study: int) -> dict[str, int]:
    return {"theory": theory, "practical": practical, "case_study": case_study}


def test_weighted_score_and_pass_mark() -> None:
    desk = rhine()
    # rhine: theory 30%, practical 50%, case_study 20%; pass at 70
    failed = desk.training.assess(
        "e9", certificate="ATEX", scores=scores(80, 60, 70), by="m1", at=at(0)
    )
    assert failed.score == D(68) and not failed.passed and failed.retake_allowed
    passed = desk.training.assess(
        "e9", certificate="ATEX", scores=scores(80, 70, 60), by="m1", at=at(1)
    )
    assert passed.score == D(71) and passed.passed and passed.attempt == 2  # 24 + 35 + 12
    [cert] = [c for c in desk.training.record("e9").certificates if c.name == "ATEX"]
    assert cert.expires_at == at(1).replace(year=2029)  # certificate valid 3 years
    with pytest.raises(WorkflowError, match="holds a valid ATEX certificate already"):
        desk.training.assess("e9", certificate="ATEX", scores=scores(90, 90, 90), by="m1", at=at(2))


def test_who_assesses_and_what() -> None:
    desk = rhine()
    with pytest.raises(PermissionDenied, match="needs a supervisor or manager"):
        desk.training.assess("e9", certificate="ATEX", scores=scores(90, 90, 90), by="e7")
    with pytest.raises(ValidationError, match="scores exactly theory, practical, case_study"):
        desk.training.assess("e9", certificate="ATEX", scores={"theory": 90}, by="m1")
    with pytest.raises(ValidationError, match="0 to 100"):
        desk.training.assess("e9", certificate="ATEX", scores=scores(90, 101, 90), by="m1")


def test_retakes_end_where_the_policy_says() -> None:
    desk = rhine()  # retake at most 2 times: three attempts in all
    for attempt in (1, 2, 3):
        result = desk.training.assess("e9", certificate="ATEX", scores=scores(10, 10, 10), by="m1",
                                      at=at(attempt))  # fmt: skip
        assert result.retake_allowed == (attempt < 3)
    with pytest.raises(WorkflowError, match="no retake of ATEX left"):
        desk.training.assess("e9", certificate="ATEX", scores=scores(99, 99, 99), by="m1", at=at(4))
    default = ServiceDesk(RULES / "default.policy")  # retake until passed
    add_team(default)
    default.training.add_course(id="HYD", title="Hydraulics", year=2026, area="repair_skills",
                                method="internal", trainer="m1", certificate="hydraulics",
                                by="m1")  # fmt: skip
    low = {"theory": 10, "practical": 10, "case_study": 10}
    for attempt in range(5):
        result = default.training.assess("e8", certificate="hydraulics", scores=low, by="m1",
                                         at=at(attempt))  # fmt: skip
        assert result.retake_allowed


def test_assignment_needs_the_certificates_the_case_needs(storage_url: str) -> None:
    desk = rhine(storage_url)
    case = desk.cases.report(**{**REPORT, "customer": {"name": "R"}, "custom": {"hazardous": True}},
                             by="cs1", at=at(0))  # fmt: skip
    desk.cases.respond(case.id, by="cs1", at=at(1))
    with pytest.raises(PermissionDenied) as info:
        desk.cases.assign(case.id, engineer="e9", by="cs1", at=at(2))
    message = str(info.value)
    assert (
        '"ATEX" (' in message and "rhine-pumps.policy:139" in message and '"first aid"' in message
    )
    assert desk.cases.get(case.id).status == "responded"  # nothing written
    desk.training.assess(
        "e9", certificate="first aid", scores=scores(90, 90, 90), by="m1", at=at(1)
    )
    with pytest.raises(PermissionDenied, match='"ATEX"') as info:  # first aid is there now
        desk.cases.assign(case.id, engineer="e9", by="cs1", at=at(2))
    assert '"first aid"' not in str(info.value)
    with pytest.raises(PermissionDenied, match="cannot override certificate rules"):
        desk.cases.assign(case.id, engineer="e9", by="cs1", at=at(2), override="nobody else")
    reason = "only engineer in range; ATEX course booked"
    assigned = desk.cases.assign(case.id, engineer="e9", by="m1", at=at(3), override=reason)
    assert assigned.engineer == "e9"
    event = desk.cases.history(case.id)[-1]
    assert event.data["override"] == {"certificates": ["ATEX"], "by": "m1", "reason": reason}
    # e7 holds every certificate (conftest's trained team): no override needed
    hazardous = {**REPORT, "customer": {"name": "R"}, "custom": {"hazardous": True}}
    other = desk.cases.report(**hazardous, by="cs1", at=at(4))
    desk.cases.respond(other.id, by="cs1", at=at(5))
    assert desk.cases.assign(other.id, engineer="e7", by="cs1", at=at(6)).engineer == "e7"


def test_expiring_certificates_are_reminded_once(outbox: Outbox) -> None:
    desk = rhine(outbox=outbox)
    desk.training.assess(
        "e9", certificate="first aid", scores=scores(90, 90, 90), by="m1", at=at(0)
    )
    expires = at(0).replace(year=2029)

    def reminders(days_before: int) -> list[Notification]:
        sent = desk.sla.tick(expires - timedelta(days=days_before))
        return [n for n in sent if n.kind == "certificate_expiring" and n.data["staff"] == "e9"]

    assert reminders(31) == []
    [note] = reminders(29)
    assert note.recipients == ("e9", "m1") and note.data["certificate"] == "first aid"
    assert reminders(28) == []


# -- the annual plan -----------------------------------------------------------------------------
def plan_atex(desk: ServiceDesk) -> None:
    desk.training.add_course(id="ATEX-27", title="Pumps in hazardous areas", year=2026,
                             area="safety", method="external", trainer="TÜV Rheinland",
                             certificate="ATEX", by="m1", at=at(0))  # fmt: skip


def test_courses_sessions_and_attendance(storage_url: str) -> None:
    desk = rhine(storage_url)
    plan_atex(desk)
    desk.training.add_course(id="HP-BASICS", title="HP-200 product training", year=2027,
                             area="product_knowledge", method="internal", trainer="e7",
                             by="m1", at=at(0))  # fmt: skip
    first = desk.training.schedule("ATEX-27", starts_at=at(60 * 24 * 7), hours=16,
                                   place="Köln", by="m1", at=at(1))  # fmt: skip
    assert first.id == "ATEX-27/1" and first.trainer == "TÜV Rheinland" and first.hours == 16
    desk.training.enroll(first.id, ["e7", "e9"], by="m1", at=at(2))
    with pytest.raises(ValidationError, match="e9 is already enrolled in ATEX-27/1"):
        desk.training.enroll(first.id, ["e9"], by="m1", at=at(3))
    with pytest.raises(ValidationError, match="record attendance after it started"):
        desk.training.attend(first.id, ["e9"], by="m1", at=at(4))
    with pytest.raises(ValidationError, match="e8 not enrolled in ATEX-27/1; enrolled: e7, e9"):
        desk.training.attend(first.id, ["e8"], by="m1", at=at(60 * 24 * 8))
    held = desk.training.attend(first.id, ["e9"], by="m1", at=at(60 * 24 * 8))
    assert held.attended == ("e9",) and held.absent == ("e7",)
    with pytest.raises(WorkflowError, match="recorded already"):
        desk.training.attend(first.id, ["e7"], by="m1", at=at(60 * 24 * 9))
    with pytest.raises(WorkflowError, match="has been held"):
        desk.training.enroll(first.id, ["e8"], by="m1", at=at(60 * 24 * 9))
    assert [c.id for c in desk.training.plan(2026)] == ["ATEX-27"]
    assert [c.id for c in desk.training.plan()] == ["ATEX-27", "HP-BASICS"]
    assert [(c.id, s.id) for c, s in desk.training.sessions_of("e9")] == [("ATEX-27", "ATEX-27/1")]
    kinds = [e["type"] for e in desk.storage.events("course", "ATEX-27")]
    assert kinds == ["course_added", "session_scheduled", "enrolled", "attended"]


def test_the_plan_is_checked() -> None:
    desk = rhine()
    good = {"id": "C1", "title": "t", "year": 2026, "area": "safety", "method": "internal",
            "trainer": "e7", "at": at(0)}  # fmt: skip
    with pytest.raises(PermissionDenied, match="supervisor or manager"):
        desk.training.add_course(**good, by="e7")
    for change, message in (
        ({"area": "cooking"}, "area must be one of product_knowledge, repair_skills"),
        ({"method": "remote"}, "method must be one of internal, external, on_site"),
        ({"year": "next"}, "year must be a year"),
        ({"title": " "}, "a course title must be non-empty"),
        ({"id": "a/b"}, "no '/'"),
    ):
        with pytest.raises(ValidationError, match=message):
            desk.training.add_course(**{**good, **change}, by="m1")
    desk.training.add_course(**good, by="m1")
    with pytest.raises(ConflictError, match="already a course 'C1'"):
        desk.training.add_course(**good, by="m1")
    with pytest.raises(ValidationError, match="belongs to another year's plan"):
        desk.training.schedule("C1", starts_at=T0.replace(year=2027), hours=2, by="m1")
    with pytest.raises(ValidationError, match="hours must be above 0"):
        desk.training.schedule("C1", starts_at=at(10), hours=0, by="m1")
    with pytest.raises(NotFound, match="no course 'C2'"):
        desk.training.schedule("C2", starts_at=at(10), hours=1, by="m1")
    with pytest.raises(NotFound, match="no session 'C1/9'"):
        desk.training.enroll("C1/9", ["e7"], by="m1")
    assert desk.training.course("C1").version == 1  # nothing written by the refusals


def test_a_failed_assessment_is_booked_onto_the_next_session(outbox: Outbox) -> None:
    desk = rhine(outbox=outbox)
    plan_atex(desk)
    early = desk.training.schedule("ATEX-27", starts_at=at(60), hours=8, by="m1", at=at(1))
    later = desk.training.schedule("ATEX-27", starts_at=at(60 * 24 * 14), hours=8, by="m1",
                                   at=at(2))  # fmt: skip
    failed = desk.training.assess("e9", certificate="ATEX", scores=scores(10, 10, 10), by="m1",
                                  at=at(120))  # after the early session started  # fmt: skip
    assert failed.retake_session == later.id
    _, booked = desk.training.session(later.id)
    assert booked.enrolled == ("e9",) and desk.training.session(early.id)[1].enrolled == ()
    [note] = [n for n in outbox.notifications if n.kind == "retake_scheduled"]
    assert note.recipients == ("e9", "m1") and note.data["session"] == later.id
    # passing needs no retake; a certificate with no planned course books nothing
    other = desk.training.assess("e9", certificate="first aid", scores=scores(1, 1, 1), by="m1",
                                 at=at(121))  # fmt: skip
    assert other.retake_allowed and other.retake_session is None


def test_a_certificate_issued_after_the_last_look_is_still_reminded(outbox: Outbox) -> None:
    """The tick looks through the certificates only when a notice falls due; issuing one
    moves that time forward, also while a look is running."""
    desk = ServiceDesk(RULES / "default.policy", plugins=[outbox])  # certificates: 2 years
    add_team(desk)  # e7 and e8 certified a month before T0
    desk.training.add_course(id="SVC", title="Service", year=2026, area="repair_skills",
                             method="internal", trainer="m1", certificate="service",
                             by="m1")  # fmt: skip
    for member in ("e9", "e10"):
        desk.staff.add(id=member, name=member, roles=["engineer"], supervisor="m1", at=T0)
    later = T0 + timedelta(days=800)  # all of the team's certificates have expired
    assert desk.sla.tick(later) is not None
    assert desk.storage.get("reminder", "certificate_expiring").data == {"next_at": None}
    full = {part.name: 100 for part in desk.policy.training.assessment}  # type: ignore[union-attr]
    first = desk.training.assess("e9", certificate="service", scores=full, by="m1", at=later)

    # a look that runs while e10 is certified: its scan does not see e10's certificate
    scan = desk.storage.scan

    def scan_then_certify(kind: str) -> Any:
        rows = list(scan(kind))
        if kind == "training" and not desk.training.record("e10").certificates:
            desk.training.assess("e10", certificate="service", scores=full, by="m1",
                                 at=later + timedelta(days=1))  # fmt: skip
        return iter(rows)

    desk.storage.scan = scan_then_certify  # type: ignore[method-assign]
    expiry = desk.training.record("e9").certificates[-1].expires_at
    assert first.passed and expiry is not None
    desk.sla.tick(expiry - timedelta(days=29))  # e9's notice; e10 certified meanwhile
    desk.storage.scan = scan  # type: ignore[method-assign]
    e10_expiry = desk.training.record("e10").certificates[-1].expires_at
    assert e10_expiry is not None
    desk.sla.tick(e10_expiry - timedelta(days=29))
    reminded = [n.data["staff"] for n in outbox.of("certificate_expiring")]
    assert reminded.count("e9") == 1 and reminded.count("e10") == 1


def test_the_plan_check_names_the_areas_a_year_leaves_out(storage_url: str) -> None:
    desk = ServiceDesk(RULES / "default.policy", storage_url)
    add_team(desk)
    # default.policy: plan covers product_knowledge, repair_skills, customer_service, safety
    assert [w.area for w in desk.training.plan_check(2027)] == [
        "product_knowledge", "repair_skills", "customer_service", "safety"]  # fmt: skip
    for course, area in (("EX-27", "product_knowledge"), ("HYD-27", "repair_skills"),
                         ("CARE-27", "customer_service")):  # fmt: skip
        desk.training.add_course(id=course, title=course, year=2027, area=area,
                                 method="internal", trainer="m1", by="m1")  # fmt: skip
        desk.training.schedule(course, starts_at=T0.replace(year=2027, month=3), hours=8,
                               by="m1")  # fmt: skip
    desk.training.add_course(id="SAFE-27", title="Work at height", year=2027, area="safety",
                             method="external", trainer="TÜV", by="m1")  # fmt: skip
    (warning,) = desk.training.plan_check(2027)
    assert warning.area == "safety" and "SAFE-27 have no session scheduled" in warning.message
    assert warning.rule.endswith("default.policy:94")
    desk.training.schedule("SAFE-27", starts_at=T0.replace(year=2027, month=4), hours=8,
                           by="m1")  # fmt: skip
    assert desk.training.plan_check(2027) == []
    assert len(desk.training.plan_check(2026)) == 4  # another year's plan is its own
    with pytest.raises(ValidationError, match="year must be"):
        desk.training.plan_check("2027")  # type: ignore[arg-type]


def test_a_policy_may_name_fewer_areas() -> None:
    text = (RULES / "default.policy").read_text(encoding="utf-8").replace(
        "plan covers product_knowledge, repair_skills, customer_service, safety",
        "plan covers safety")  # fmt: skip
    desk = ServiceDesk(parse_policy(text, "few.policy"), "memory://")
    assert [w.area for w in desk.training.plan_check(2027)] == ["safety"]
    with pytest.raises(PolicyError, match='unknown training area "safty"'):
        parse_policy(text.replace("plan covers safety", "plan covers safty"), "bad.policy")


def test_the_course_report_shows_attendance_pass_rate_and_retakes(storage_url: str) -> None:
    desk = rhine(storage_url)
    plan_atex(desk)
    first = desk.training.schedule("ATEX-27", starts_at=at(60 * 24), hours=8, by="m1", at=at(1))
    desk.training.schedule("ATEX-27", starts_at=at(60 * 24 * 30), hours=8, by="m1", at=at(1))
    desk.staff.add(id="e10", name="Another hire", roles=["engineer"], at=T0)
    # e8 holds ATEX from before the course (add_team): that assessment is not the course's
    desk.training.enroll(first.id, ["e10", "e8", "e9"], by="m1", at=at(2))
    desk.training.attend(first.id, ["e10", "e9"], by="m1", at=at(60 * 24 + 600))
    desk.training.assess("e10", certificate="ATEX", scores=scores(90, 90, 90), by="m1",
                         at=at(60 * 24 + 700))  # fmt: skip
    desk.training.assess("e9", certificate="ATEX", scores=scores(10, 10, 10), by="m1",
                         at=at(60 * 24 + 700))  # fmt: skip
    desk.training.assess("e9", certificate="ATEX", scores=scores(90, 90, 90), by="m1",
                         at=at(60 * 24 * 31))  # fmt: skip
    (row,) = desk.training.course_report(2026)
    assert (row.course, row.sessions, row.held, row.enrolled, row.attended) == (
        "ATEX-27", 2, 1, 3, 2)  # fmt: skip
    assert (row.assessed, row.passed, row.retakes) == (3, 2, 1)
    assert (row.attendance_rate, row.pass_rate) == (D("66.7"), D("66.7"))
    assert desk.training.course_report(2027) == []


def test_plan_check_and_course_report_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = desk_cli(tmp_path, monkeypatch, RULES / "default.policy")

    cli("staff", "add", "m1", "--name", "Zhao", "--role", "manager")
    cli("training", "add-course", "CARE-27", "--title", "Customer care", "--year", "2027",
        "--area", "customer_service", "--method", "internal", "--trainer", "m1",
        "--by", "m1")  # fmt: skip
    gaps = json.loads(cli("training", "check", "--year", "2027", "--format", "json"))
    assert [g["area"] for g in gaps] == [
        "product_knowledge", "repair_skills", "customer_service", "safety"]  # fmt: skip
    assert "no session scheduled" in gaps[2]["warning"]
    (row,) = json.loads(cli("training", "report", "--year", "2027", "--format", "json"))
    assert (row["course"], row["sessions"], row["assessed"], row["pass_%"]) == (
        "CARE-27", 0, 0, None)  # fmt: skip
