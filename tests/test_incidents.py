"""Serious incidents (issue 22): the policy's ``incident SEVERITY to ROLES, investigate within
...`` tells those roles at once, sets the deadline of the investigation and its corrective
actions, and the tick reminds once when it passes with either still open."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import RULES, T0, add_team, at, desk_cli

from aftersales import PermissionDenied, PolicyError, ServiceDesk, WorkflowError, parse_policy
from aftersales.testing import Outbox


@pytest.fixture
def desk(storage_url: str, outbox: Outbox) -> ServiceDesk:
    d = ServiceDesk(RULES / "default.policy", storage_url, plugins=[outbox],
                    clock=lambda: T0 + timedelta(days=60))  # fmt: skip
    add_team(d)
    d.staff.add(id="so1", name="Guo", roles=["safety_officer"], at=T0)
    return d


def kinds(outbox: Outbox, kind: str) -> list[object]:
    return [n for n in outbox.notifications if n.kind == kind]


def test_a_serious_incident_tells_the_manager_and_safety_officer_at_once(
    desk: ServiceDesk, outbox: Outbox
) -> None:
    incident = desk.safety.report_incident(happened_at=at(100), severity="serious",
                                           description="fell from a ladder", by="e7",
                                           people=["e7"], at=at(130))  # fmt: skip
    (note,) = kinds(outbox, "incident_reported")
    assert set(note.recipients) == {"m1", "so1"}  # type: ignore[attr-defined]
    assert incident.rule is not None and incident.rule.endswith("default.policy:101")
    assert incident.told == ("manager", "safety_officer")
    # 5 working days from Monday 11:10: the next Monday, same time
    assert incident.due == at(130) + timedelta(days=7)
    assert "investigate by 2026-11-30 11:10" in note.subject  # type: ignore[attr-defined]
    # a minor one has no line in default.policy: nobody is told, no deadline
    minor = desk.safety.report_incident(happened_at=at(100), severity="minor",
                                        description="cut finger", by="e7", at=at(140))  # fmt: skip
    assert (minor.rule, minor.due, minor.told) == (None, None, ())
    assert len(kinds(outbox, "incident_reported")) == 1


def test_overdue_investigations_and_actions_are_reminded_once(
    desk: ServiceDesk, outbox: Outbox
) -> None:
    incident = desk.safety.report_incident(happened_at=at(100), severity="fatal",
                                           description="crushed", by="e7", at=at(130))  # fmt: skip
    assert incident.due is not None
    desk.sla.tick(incident.due - timedelta(minutes=1))
    assert kinds(outbox, "incident_overdue") == []
    desk.sla.tick(incident.due + timedelta(minutes=1))
    desk.sla.tick(incident.due + timedelta(hours=2))
    (note,) = kinds(outbox, "incident_overdue")
    assert "the investigation still open" in note.subject  # type: ignore[attr-defined]
    assert [i.id for i in desk.safety.overdue_incidents(incident.due)] == [incident.id]
    with pytest.raises(PermissionDenied, match="manager or safety_officer"):
        desk.safety.investigate(incident.id, findings="no harness", by="e8")
    investigated = desk.safety.investigate(incident.id, findings="no harness", by="so1",
                                           at=incident.due + timedelta(hours=3))  # fmt: skip
    assert investigated.findings == "no harness" and investigated.closed
    with pytest.raises(WorkflowError, match="was investigated by so1"):
        desk.safety.investigate(incident.id, findings="again", by="m1")
    assert desk.safety.overdue_incidents(incident.due + timedelta(days=1)) == []
    # a corrective action still open after the deadline keeps it open
    desk.safety.add_action(incident.id, description="harness training", owner="e8", by="m1",
                           at=incident.due + timedelta(hours=4))  # fmt: skip
    assert not desk.safety.incident(incident.id).closed
    assert [i.id for i in desk.safety.incidents(open_only=True)] == [incident.id]
    desk.safety.complete_action(incident.id, 0, by="e8", at=incident.due + timedelta(days=1))
    assert desk.safety.incident(incident.id).closed
    assert desk.safety.incidents(open_only=True) == []


def test_incident_lines_are_checked() -> None:
    base = (RULES / "default.policy").read_text(encoding="utf-8")
    for line, says in (
        ("incident grave to manager", 'unknown incident severity "grave"'),
        ("incident serious to safety_oficer", 'did you mean "safety_officer"?'),
        ("incident fatal to director", "incidents of severity fatal have a line already"),
    ):
        text = base.replace("  report incidents within 24 hours\n",
                            f"  report incidents within 24 hours\n  {line}\n")  # fmt: skip
        with pytest.raises(PolicyError) as err:
            parse_policy(text, "bad.policy")
        assert says in str(err.value) and "bad.policy:101" in str(err.value)


def test_incidents_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli = desk_cli(tmp_path, monkeypatch, RULES / "rhine-pumps.policy")
    for member, role in (("m1", "manager"), ("so1", "safety_officer"), ("e7", "engineer")):
        cli("staff", "add", member, "--name", member.upper(), "--role", role)
    out = cli("safety", "incident", "--happened-at", "2026-11-23 08:00", "--severity",
              "serious", "--description", "burn", "--by", "e7",
              "--at", "2026-11-23 09:00")  # fmt: skip
    assert "told manager, safety_officer; investigate by 2026-11-26 09:00" in out
    incident_id = out.split()[1]
    overdue = json.loads(cli("safety", "incidents", "--overdue", "--format", "json"))
    assert [row["incident"] for row in overdue] == [incident_id]  # the desk's clock is today
    assert "safety_officer" in cli("safety", "investigate", incident_id, "--findings", "x",
                                   "--by", "e7", code=1)  # fmt: skip
    out = cli("safety", "investigate", incident_id, "--findings", "hot pipe unlagged", "--by",
              "so1", "--at", "2026-11-24 10:00")  # fmt: skip
    assert "investigated: closed" in out
    rows = json.loads(cli("safety", "incidents", "--format", "json"))
    assert (rows[0]["investigated"], rows[0]["due"]) == ("yes", "2026-11-26 09:00")
