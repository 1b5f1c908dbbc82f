"""Ways round a rule that used to work (issue 13): each is refused now, naming the rule."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPORT, RULES, T0, add_team, arrive_safely, at, run_to

from aftersales import (
    NotFound,
    PermissionDenied,
    ServiceDesk,
    ValidationError,
    WorkflowError,
    parse_policy,
)
from aftersales.cli import main

ALL_PASSED = {"quantity": True, "specification": True, "quality": True}
NOV = "2026-11"


@pytest.fixture
def desk(storage_url: str) -> ServiceDesk:
    d = ServiceDesk(RULES / "default.policy", storage_url, clock=lambda: T0 + timedelta(days=60))
    add_team(d)
    d.staff.add(id="m2", name="Qian", roles=["manager"], at=T0)
    return d


def test_a_requisition_rule_without_when_applies_to_every_requisition(tmp_path: object) -> None:
    text = (RULES / "default.policy").read_text("utf-8")
    old = "approve requisition by manager when value > 2000 CNY"
    assert old in text
    policy = parse_policy(text.replace(old, "approve requisition by manager"), "always.policy")
    desk = ServiceDesk(policy, "memory://", clock=lambda: T0 + timedelta(days=60))
    add_team(desk)
    desk.parts.add_location(id="WH", name="WH", by="sk1")
    desk.parts.add_location(id="VAN7", name="Van", kind="van", engineer="e7", by="sk1")
    desk.parts.add_supplier(id="ACME", name="Acme", qualified=True, by="m1")
    desk.parts.add_part(sku="SEAL-9", name="Seal", category="seals", unit_cost="1", by="sk1")
    desk.parts.receive("SEAL-9", 5, location="WH", supplier="ACME", inspection=ALL_PASSED,
                       by="sk1")  # fmt: skip
    case = run_to(desk, "diagnosed")
    req = desk.parts.request(case.id, [{"sku": "SEAL-9", "quantity": 1}], by="e7", at=at(140))
    assert (req.status, req.chain) == ("requested", ("manager",))  # was approved at once
    with pytest.raises(WorkflowError):
        desk.parts.issue(req.id, from_location="WH", by="sk1", at=at(141))


def test_only_a_manager_deactivates_and_the_last_manager_stays(desk: ServiceDesk) -> None:
    for actor in ("e7", "cs1", "sk1"):
        with pytest.raises(PermissionDenied, match="needs a manager"):
            desk.staff.deactivate("m1", by=actor)
    with pytest.raises(NotFound, match="nobody"):
        desk.staff.deactivate("m1", by="nobody")
    with pytest.raises(ValidationError, match="argument: 'by'"):
        desk.staff.deactivate("m1")  # type: ignore[call-arg]
    desk.staff.deactivate("m2", by="m1")
    with pytest.raises(WorkflowError, match="last active manager"):
        desk.staff.deactivate("m1", by="m1")
    with pytest.raises(PermissionDenied, match="inactive"):
        desk.staff.reactivate("m2", by="m2")
    with pytest.raises(PermissionDenied, match="needs a manager"):
        desk.staff.reactivate("m2", by="e7")
    assert desk.staff.reactivate("m2", by="m1").active
    assert desk.staff.get("m1").active
    desk.staff.deactivate("m1", by="m2")  # another manager is active now
    assert [s.id for s in desk.staff.list(role="manager")] == ["m2"]


def test_staff_deactivate_on_the_command_line_names_who_decides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    db = f"sqlite:///{tmp_path / 'team.db'}"
    config = f'policy = "{RULES / "default.policy"}"\nstorage = "{db}"\n'
    (tmp_path / "aftersales.toml").write_text(config, encoding="utf-8")
    for args in (["m1", "--name", "Zhao", "--role", "manager"],
                 ["e7", "--name", "Chen", "--role", "engineer"]):  # fmt: skip
        assert runner.invoke(main, ["staff", "add", *args]).exit_code == 0
    refused = runner.invoke(main, ["staff", "deactivate", "m1", "--by", "e7"])
    assert refused.exit_code == 1 and "needs a manager" in refused.output
    assert runner.invoke(main, ["staff", "deactivate", "e7"]).exit_code == 2  # no --by
    assert runner.invoke(main, ["staff", "deactivate", "e7", "--by", "m1"]).exit_code == 0
    again = runner.invoke(main, ["staff", "reactivate", "e7", "--by", "m1"])
    assert again.exit_code == 0, again.output


def test_nobody_records_a_customers_word_on_their_own_work(desk: ServiceDesk) -> None:
    desk.staff.add(id="x1", name="Both", roles=["service_agent", "engineer"], supervisor="m1",
                   at=T0)  # fmt: skip
    from conftest import certify

    certify(desk, "x1")
    case = desk.cases.report(**REPORT, by="cs1", at=at(0))
    desk.cases.respond(case.id, by="cs1", at=at(5))
    desk.cases.assign(case.id, engineer="x1", by="cs1", at=at(10))
    desk.cases.confirm(case.id, by="x1", at=at(15))
    desk.cases.contact(case.id, by="x1", at=at(20), appointment=at(120))
    arrive_safely(desk, case.id, "x1", at(120))
    desk.cases.diagnose(case.id, by="x1", at=at(130), cause="seal", complexity="simple")
    desk.cases.complete(case.id, by="x1", at=at(200), actions="replaced", result="ok")
    desk.cases.accept(case.id, signed_by="Wang", by="x1", at=at(210))
    args = {"period": NOV, "indicator": "attitude", "score": 100, "at": at(220)}
    with pytest.raises(PermissionDenied, match="rating of themselves"):
        desk.appraisals.rate("x1", source="customer", by="x1", case_id=case.id, **args)
    with pytest.raises(PermissionDenied, match="which they worked on"):
        desk.cases.follow_up(case.id, by="x1", satisfaction=5, at=at(230))
    desk.appraisals.rate("x1", source="customer", by="cs1", case_id=case.id, **args)
    assert desk.cases.follow_up(case.id, by="cs1", satisfaction=4, at=at(230)).status


def test_a_manager_cannot_decide_their_own_dismissal_review(desk: ServiceDesk) -> None:
    desk.staff.add(id="m3", name="Sun", roles=["manager", "engineer"], supervisor="m1", at=T0)
    for period in ("2026-09", "2026-10", "2026-11"):
        for indicator in ("performance", "attitude", "skills"):
            desk.appraisals.rate("m3", period=period, source="supervisor", indicator=indicator,
                                 score=30, by="m1", at=at(1))  # fmt: skip
        desk.appraisals.finalize(period, by="m1", at=at(2))
    [review] = [r for r in desk.appraisals.reviews() if r.staff_id == "m3"]
    with pytest.raises(PermissionDenied, match="their own dismissal review"):
        desk.appraisals.decide_review("m3", review.period, decision="retain", reason="x", by="m3")
    decided = desk.appraisals.decide_review(
        "m3", review.period, decision="retain", reason="new role", by="m1"
    )
    assert decided.decided_by == "m1"


def test_tools_cannot_be_inspected_in_the_future(desk: ServiceDesk) -> None:
    now = T0 + timedelta(days=60)
    with pytest.raises(ValidationError, match="lies in the future"):
        desk.safety.add_tool(id="TW-1", name="Wrench", inspected=now + timedelta(days=3650),
                             by="sk1")  # fmt: skip
    desk.safety.add_tool(id="TW-1", name="Wrench", inspected=now - timedelta(days=10), by="sk1")
    with pytest.raises(ValidationError, match="lies in the future"):
        desk.safety.inspect("TW-1", by="sk1", at=now + timedelta(days=365 * 20))
    assert desk.safety.inspect("TW-1", by="sk1", at=now).last_inspected == now


@pytest.mark.parametrize("period", ["2026-11\n", "2026-11 ", " 2026-11", "2026-1", "2026-13"])
def test_a_period_is_exactly_a_month(desk: ServiceDesk, period: str) -> None:
    with pytest.raises(ValidationError, match="YYYY-MM"):
        desk.appraisals.rate("e7", period=period, source="supervisor", indicator="attitude",
                             score=80, by="m1")  # fmt: skip


def test_assessments_need_an_active_member_and_a_known_certificate(desk: ServiceDesk) -> None:
    full = {"theory": 90, "practical": 90, "case_study": 90}
    with pytest.raises(ValidationError, match="unknown certificate 'hydrualics'"):
        desk.training.assess("e8", certificate="hydrualics", scores=full, by="m1")
    desk.training.add_course(id="HYD", title="Hydraulics", year=2026, area="repair_skills",
                             method="internal", trainer="m1", certificate="hydraulics",
                             by="m1")  # fmt: skip
    desk.staff.deactivate("e8", by="m1")
    with pytest.raises(WorkflowError, match="inactive"):
        desk.training.assess("e8", certificate="hydraulics", scores=full, by="m1")
    desk.staff.reactivate("e8", by="m1")
    assert desk.training.assess("e8", certificate="hydraulics", scores=full, by="m1").passed


@pytest.mark.parametrize("flag", ["no", "yes", 0, 1, None, "False"])
def test_yes_and_no_are_booleans_only(desk: ServiceDesk, flag: object) -> None:
    desk.parts.add_location(id="WH", name="WH", by="sk1")
    desk.parts.add_supplier(id="ACME", name="Acme", qualified=True, by="m1")
    desk.parts.add_part(sku="S", name="Seal", category="seals", unit_cost="1", by="sk1")
    with pytest.raises(ValidationError, match="True or False"):
        desk.parts.receive("S", 5, location="WH", supplier="ACME",
                           inspection={**ALL_PASSED, "quality": flag}, by="sk1")  # fmt: skip
    desk.parts.receive("S", 5, location="WH", supplier="ACME", inspection=ALL_PASSED, by="sk1")
    with pytest.raises(ValidationError, match="True or False"):
        desk.parts.adjust("S", 1, location="WH", increase=flag, reason="r", by="sk1",
                          approved_by="m1")  # type: ignore[arg-type]  # fmt: skip
    assert desk.parts.part("S").on_hand["WH"] == 5


def test_lines_of_one_part_are_added_together(desk: ServiceDesk) -> None:
    desk.parts.add_location(id="WH", name="WH", by="sk1")
    desk.parts.add_location(id="VAN7", name="Van", kind="van", engineer="e7", by="sk1")
    desk.parts.add_supplier(id="ACME", name="Acme", qualified=True, by="m1")
    desk.parts.add_part(sku="SEAL-9", name="Seal", category="seals", unit_cost="1", by="sk1")
    desk.parts.receive("SEAL-9", 10, location="WH", supplier="ACME", inspection=ALL_PASSED,
                       by="sk1")  # fmt: skip
    case = run_to(desk, "diagnosed")
    twice = [{"sku": "SEAL-9", "quantity": 2}, {"sku": "SEAL-9", "quantity": 1}]
    req = desk.parts.request(case.id, twice, by="e7", at=at(140))
    assert [(li.sku, li.quantity) for li in req.lines] == [("SEAL-9", 3)]
    desk.parts.issue(req.id, from_location="WH", by="sk1", at=at(141))
    desk.cases.complete(case.id, by="e7", at=at(200), actions="replaced", result="ok",
                        parts_used=[{"sku": "SEAL-9", "quantity": 1}] * 2)  # fmt: skip
    ledger = desk.parts.return_parts(case.id, [{"sku": "SEAL-9", "quantity": 1}],
                                     to_location="WH", by="e7", at=at(210))  # fmt: skip
    assert ledger.returned == {"SEAL-9": 1}
    assert desk.parts.part("SEAL-9").total == 8


@pytest.mark.parametrize("number", [None, "", 5, ["AS-2026-000001"], "AS-2026-000001\x00"])
def test_by_number_never_returns_another_case(desk: ServiceDesk, number: object) -> None:
    desk.cases.report(**REPORT, by="cs1", at=at(0))
    with pytest.raises((ValidationError, NotFound)):
        desk.cases.by_number(number)  # type: ignore[arg-type]
