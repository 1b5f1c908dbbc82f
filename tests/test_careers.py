"""Careers in desk.staff: the ladder, promotions with their appraisals, rotations, and each
member's whole record."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from conftest import RULES, T0, add_team, at, run_to
from test_cli_cases import ok, run

from aftersales import PermissionDenied, ServiceDesk, ValidationError
from aftersales.core.model import PeriodResult
from aftersales.testing import Outbox

NOV = "2026-11"


@pytest.fixture
def desk(storage_url: str, outbox: Outbox) -> ServiceDesk:
    d = ServiceDesk(RULES / "default.policy", storage_url, plugins=[outbox])
    add_team(d)
    d.staff.add(id="d1", name="Sun", roles=["director"], level=None, at=T0)
    return d


def finalize_november(desk: ServiceDesk) -> None:
    for indicator in ("performance", "attitude", "skills"):
        desk.appraisals.rate("e7", period=NOV, source="supervisor", indicator=indicator,
                             score=95, by="m1", at=at(1))  # fmt: skip
    desk.appraisals.finalize(NOV, by="m1", at=at(60 * 24 * 10))


def test_promotion_goes_up_the_ladder_with_the_appraisals_behind_it(desk: ServiceDesk) -> None:
    finalize_november(desk)
    assert desk.levels == ("engineer", "senior_engineer", "supervisor", "manager")
    desk.staff.promote("e7", to="engineer", by="m1", reason="placed", at=at(60 * 24 * 11))
    senior = desk.staff.promote("e7", to="senior_engineer", by="m1", reason="excellent year",
                                at=at(60 * 24 * 12))  # fmt: skip
    assert senior.level == "senior_engineer" and senior.version == desk.staff.get("e7").version
    last = senior.promotions[-1]
    assert (last.previous, last.level, last.by) == ("engineer", "senior_engineer", "m1")
    assert last.appraisals == (PeriodResult(NOV, D(95), "excellent"),)
    lead = desk.staff.promote("e7", to="supervisor", roles=["supervisor"], by="d1",
                              reason="leads the north team", at=at(60 * 24 * 13))  # fmt: skip
    assert lead.roles == ("engineer", "supervisor") and lead.promotions[-1].roles_added == (
        "supervisor",
    )
    kinds = [e["type"] for e in desk.storage.events("staff", "e7")]
    assert kinds[-3:] == ["promoted", "promoted", "promoted"]


def test_promotions_are_checked(desk: ServiceDesk) -> None:
    desk.staff.promote("e7", to="senior_engineer", by="m1", reason="r", at=at(1))
    for kwargs, error, message in (
        ({"by": "e8"}, PermissionDenied, "needs a manager or director"),
        ({"to": "engineer"}, ValidationError, "is senior_engineer; a promotion goes up the ladder"),
        ({"to": "senior_engineer"}, ValidationError, "goes up the ladder"),
        ({"to": "guru"}, ValidationError, "unknown level 'guru'; the ladder is engineer -> "),
        ({"reason": " "}, ValidationError, "the reason for a promotion"),
        ({"roles": ["wizard"]}, ValidationError, "unknown role 'wizard'"),
    ):
        args = {"to": "supervisor", "by": "m1", "reason": "r", "at": at(2), **kwargs}
        with pytest.raises(error, match=message):
            desk.staff.promote("e7", **args)
    with pytest.raises(PermissionDenied, match="cannot promote themselves"):
        desk.staff.promote("m1", to="manager", by="m1", reason="r")
    assert desk.staff.get("e7").version == 2  # nothing written by the refusals
    with pytest.raises(ValidationError, match="unknown level"):
        desk.staff.add(id="x", name="X", roles=["engineer"], level="apprentice")


def test_the_ladder_is_the_desks_own() -> None:
    desk = ServiceDesk(RULES / "default.policy", levels=["technician", "specialist", "lead"])
    add_team(desk)
    desk.staff.add(id="t1", name="T", roles=["engineer"], level="technician", at=T0)
    assert desk.staff.promote("t1", to="lead", by="m1", reason="r", at=at(1)).level == "lead"
    with pytest.raises(ValidationError, match="the ladder is technician -> specialist -> lead"):
        desk.staff.promote("e7", to="senior_engineer", by="m1", reason="r")
    with pytest.raises(ValidationError, match="appears twice"):
        ServiceDesk(RULES / "default.policy", levels=["a", "a"])
    with pytest.raises(ValidationError, match="non-empty list"):
        ServiceDesk(RULES / "default.policy", levels=[])


def test_rotations_have_dates_and_do_not_overlap(desk: ServiceDesk) -> None:
    day = timedelta(days=1)
    desk.staff.rotate("e7", to="parts store", start=T0, end=T0 + 30 * day, by="m1",
                      reason="learn the stock", at=at(1))  # fmt: skip
    with pytest.raises(ValidationError, match="on rotation to parts store from 2026-11-23"):
        desk.staff.rotate("e7", to="hotline", start=T0 + 10 * day, by="m1")
    with pytest.raises(ValidationError, match="ends after it starts"):
        desk.staff.rotate("e7", to="hotline", start=T0 + 40 * day, end=T0 + 39 * day, by="m1")
    with pytest.raises(PermissionDenied, match="manager or director"):
        desk.staff.rotate("e7", to="hotline", start=T0 + 40 * day, by="cs1")
    desk.staff.rotate("e7", to="north region", start=T0 + 60 * day, by="m1", at=at(2))
    desk.staff.rotate("e7", to="hotline", start=T0 + 30 * day, end=T0 + 60 * day, by="m1",
                      at=at(3))  # fmt: skip
    with pytest.raises(ValidationError, match=r"north region .* \(open\)"):
        desk.staff.rotate("e7", to="south", start=T0 + 90 * day, by="m1")
    ended = desk.staff.end_rotation("e7", end=T0 + 90 * day, by="m1", at=at(4))
    assert [(r.assignment, r.end is not None) for r in ended.rotations] == [
        ("parts store", True), ("hotline", True), ("north region", True),
    ]  # fmt: skip
    assert ended.rotations[0].covers(T0 + day) and not ended.rotations[0].covers(T0 + 31 * day)
    with pytest.raises(ValidationError, match="no open rotation"):
        desk.staff.end_rotation("e7", end=T0 + 99 * day, by="m1")


def test_the_record_holds_training_appraisals_and_incidents(desk: ServiceDesk) -> None:
    finalize_november(desk)
    case = run_to(desk, "on_site")
    desk.safety.report_incident(happened_at=at(130), severity="minor", description="cut",
                                by="e8", people=["e7"], case_id=case.id, at=at(140))  # fmt: skip
    desk.training.add_course(id="HYD", title="Hydraulics", year=2026, area="repair_skills",
                             method="internal", trainer="m1", certificate="hydraulics",
                             by="m1", at=at(1))  # fmt: skip
    session = desk.training.schedule("HYD", starts_at=at(600), hours=4, by="m1", at=at(2))
    desk.training.enroll(session.id, ["e7"], by="m1", at=at(3))
    assert desk.policy.training is not None
    full = {part.name: 90 for part in desk.policy.training.assessment}
    desk.training.assess("e7", certificate="hydraulics", scores=full, by="m1", at=at(5))
    desk.staff.promote("e7", to="senior_engineer", by="m1", reason="r", at=at(60 * 24 * 11))
    record = desk.staff.record("e7")
    assert record.level == "senior_engineer" and len(record.promotions) == 1
    assert record.appraisals == (PeriodResult(NOV, D(95), "excellent"),)
    assert [o.kind for o in record.outcomes] == ["reward"]
    assert [(t.course, t.attended) for t in record.training] == [("HYD", None)]
    assert [c.name for c in record.certificates] == ["hydraulics"]
    assert [a.attempt for a in record.assessments] == [1]
    assert [i.reported_by for i in record.incidents] == ["e8"]
    assert desk.staff.record("e8").incidents == record.incidents  # e8 reported it
    assert desk.staff.record("sk1").incidents == ()


def test_staff_commands_promote_rotate_and_show(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "s.db"
    (tmp_path / "aftersales.toml").write_text(
        f'policy = "{RULES / "default.policy"}"\nstorage = "sqlite:///{db}"\n'
        '[careers]\nlevels = ["engineer", "senior_engineer", "chief"]\n',
        "utf-8",
    )
    monkeypatch.chdir(tmp_path)
    with ServiceDesk(RULES / "default.policy", f"sqlite:///{db}",
                     levels=["engineer", "senior_engineer", "chief"]) as desk:  # fmt: skip
        add_team(desk)
    ok("staff", "add", "e9", "--name", "Gao", "--role", "engineer", "--level", "engineer")
    out = ok("staff", "promote", "e7", "--to", "chief", "--by", "m1", "--reason",
             "best of the year", "--role", "supervisor", "--at", "2026-11-24 09:00")  # fmt: skip
    assert "e7 is now chief" in out
    ok("staff", "rotate", "e7", "--to", "parts store", "--start", "2026-12-01 09:00",
       "--end", "2026-12-31 18:00", "--by", "m1")  # fmt: skip
    ok("staff", "update", "e7", "--by", "e7", "--team", "north", "--email", "chen@pumps.example")
    shown = ok("staff", "show", "e7")
    for text in ("chief", "best of the year", "parts store", "certificate", "engineer -> ",
                 "team north  email chen@pumps.example"):  # fmt: skip
        assert text in shown, text
    data = json.loads(ok("staff", "show", "e7", "--format", "json"))
    assert data["staff"]["level"] == "chief" and data["levels"][-1] == "chief"
    assert data["rotations"][0]["assignment"] == "parts store"
    code, out, err = run("staff", "show", "ghost")
    assert code == 1 and "no staff member 'ghost'" in err
    code, out, err = run("staff", "promote", "e9", "--to", "guru", "--by", "m1", "--reason", "r")
    assert (
        code == 1
        and "unknown level 'guru'; the ladder is engineer -> senior_engineer -> chief" in err
    )
    (tmp_path / "aftersales.toml").write_text('[careers]\nlevels = "chief"\n', "utf-8")
    code, out, err = run("staff", "list")
    assert code == 1 and "levels is a list" in err
