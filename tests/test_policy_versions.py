"""Issue 14, defect 1: every rule applied to a case comes from the policy version the case is
under (desk.cases.rules(case)), not from the policy a later desk was opened with."""

from __future__ import annotations

from pathlib import Path

from conftest import REPORT, RULES, T0, add_team, at

from aftersales import ServiceDesk, parse_policy

V1 = (RULES / "default.policy").read_text("utf-8")
V2 = (
    V1.replace('version  "1.0"', 'version  "2.0"')
    .replace("  arrival  within 8 hours after reported", "  arrival  by appointment")
    .replace("escalate after 2 rejections", "escalate after 1 rejection")
    + "\nhold when waiting for parts\n"
)


def test_a_case_keeps_the_rules_of_its_policy_when_the_desk_moves_on(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    old = ServiceDesk(parse_policy(V1, "v1.policy"), url)
    add_team(old)
    case = old.cases.report(**REPORT, by="cs1", at=T0)
    assert case.priority == "urgent"
    old.cases.respond(case.id, by="cs1", at=at(5))
    old.cases.assign(case.id, engineer="e7", by="cs1", at=at(10))
    old.cases.confirm(case.id, by="e7", at=at(15))
    old.close()

    new = ServiceDesk(parse_policy(V2, "v2.policy"), url)
    # under 1.0 urgent arrival is "within 8 hours": contact needs no appointment (2.0's rule
    # refused it: "priority urgent sets arrival by appointment (v2.policy:27)")
    contacted = new.cases.contact(case.id, by="e7", at=at(20))
    assert contacted.status == "contacted"
    assert new.cases.rules(contacted).version == "1.0"
    arrival = {c.milestone: c for c in new.cases.sla(case.id, at(30))}["arrival"]
    assert arrival.due is not None and arrival.due == at(8 * 60)
    # 1.0 has no hold line: its cases cannot be held for parts though 2.0 allows it
    new_case = new.cases.report(**REPORT, by="cs1", at=at(40))
    new.cases.respond(new_case.id, by="cs1", at=at(41))
    assert new.cases.hold(new_case.id, reason="parts", by="cs1", at=at(42)).on_hold
    try:
        new.cases.hold(case.id, reason="parts", by="cs1", at=at(43))
    except Exception as exc:  # the 1.0 rule: no hold line
        assert "no hold line" in str(exc)
    else:
        raise AssertionError("a 1.0 case was held under 2.0's hold rule")
