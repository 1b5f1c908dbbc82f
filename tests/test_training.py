"""desk.training: assessments, retakes, certificates, and the certificates cases need."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from conftest import REPORT, RULES, T0, add_team, at

from aftersales import Notification, PermissionDenied, ServiceDesk, ValidationError, WorkflowError
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
    with pytest.raises(PermissionDenied, match="supervisor or manager other than the member"):
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
        '"ATEX" (' in message and "rhine-pumps.policy:137" in message and '"first aid"' in message
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
