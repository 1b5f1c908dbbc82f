"""desk.safety: the safety checklist on a case, the tool register and incidents."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import RULES, T0, add_team, at, run_to

from aftersales import (
    ConflictError,
    NotFound,
    PermissionDenied,
    ServiceDesk,
    ValidationError,
    WorkflowError,
    parse_policy,
)
from aftersales.plugins.memory import MemoryStorage
from aftersales.testing import Outbox


@pytest.fixture
def desk(storage_url: str, outbox: Outbox) -> ServiceDesk:
    # the desk's clock stands a year after T0: the tests record history up to then
    d = ServiceDesk(RULES / "default.policy", storage_url, plugins=[outbox],
                    clock=lambda: T0 + timedelta(days=365))  # fmt: skip
    add_team(d)
    return d


def test_overdue_tools_cannot_be_checked_out(desk: ServiceDesk) -> None:
    # default.policy: inspect tools every 6 months
    desk.safety.add_tool(id="TW-1", name="Torque wrench", inspected=T0 - timedelta(days=170),
                         by="sk1", at=T0)  # fmt: skip
    with pytest.raises(ConflictError):
        desk.safety.add_tool(id="TW-1", name="again", inspected=T0, by="sk1")
    with pytest.raises(PermissionDenied, match="storekeeper or manager"):
        desk.safety.add_tool(id="X", name="x", inspected=T0, by="e7")
    tool = desk.safety.check_out("TW-1", engineer="e7", by="sk1", at=at(1))
    assert tool.holder == "e7"
    with pytest.raises(ValidationError, match="checked out to e7"):
        desk.safety.check_out("TW-1", engineer="e8", by="sk1", at=at(2))
    desk.safety.check_in("TW-1", by="sk1", at=at(3))
    later = T0 + timedelta(days=30)
    with pytest.raises(PermissionDenied, match="was due for inspection on 2026-12-06"):
        desk.safety.check_out("TW-1", engineer="e8", by="sk1", at=later)
    assert [tid for tid, _ in desk.safety.overdue_tools(later)] == ["TW-1"]
    desk.safety.inspect("TW-1", by="sk1", at=later)
    assert desk.safety.check_out("TW-1", engineer="e8", by="sk1", at=later).holder == "e8"
    with pytest.raises(NotFound):
        desk.safety.tool("nope")


def test_tool_inspection_reminders_are_sent_once(desk: ServiceDesk) -> None:
    desk.safety.add_tool(id="TW-1", name="Torque wrench", inspected=T0 - timedelta(days=200),
                         by="sk1", at=T0)  # fmt: skip
    [note] = [n for n in desk.sla.tick(at(1)) if n.kind == "tool_inspection_due"]
    assert note.data["tool"] == "TW-1" and set(note.recipients) == {"sk1", "m1"}
    assert [n for n in desk.sla.tick(at(2)) if n.kind == "tool_inspection_due"] == []


def test_incidents_and_corrective_actions(desk: ServiceDesk) -> None:
    case = run_to(desk, "on_site")
    # default.policy: report incidents within 24 hours
    on_time = desk.safety.report_incident(
        happened_at=at(130), severity="minor", description="cut finger on a seal", by="e7",
        people=["e7"], case_id=case.id, at=at(200),
    )  # fmt: skip
    assert not on_time.late and on_time.case_id == case.id
    late = desk.safety.report_incident(
        happened_at=at(0), severity="near_miss", description="jack slipped", by="e7",
        at=at(0) + timedelta(hours=30),
    )  # fmt: skip
    assert late.late
    with pytest.raises(ValidationError, match="severity must be one of"):
        desk.safety.report_incident(happened_at=at(0), severity="bad", description="x", by="e7")
    with pytest.raises(ValidationError, match="after it is reported"):
        desk.safety.report_incident(happened_at=at(10), severity="minor", description="x",
                                    by="e7", at=at(5))  # fmt: skip
    with pytest.raises(PermissionDenied, match="needs a manager"):
        desk.safety.add_action(on_time.id, description="new gloves", owner="sk1", by="e7")
    desk.safety.add_action(on_time.id, description="cut-resistant gloves in every van",
                           owner="sk1", by="m1", at=at(300))  # fmt: skip
    assert [i.id for i in desk.safety.incidents(open_only=True)] == [on_time.id]
    with pytest.raises(PermissionDenied, match="cannot complete sk1's action"):
        desk.safety.complete_action(on_time.id, 0, by="e8")
    done = desk.safety.complete_action(on_time.id, 0, by="sk1", at=at(400))
    assert done.actions[0].done_at == at(400) and desk.safety.incidents(open_only=True) == []


# -- require ppe ... before work ----------------------------------------------------------------
def test_no_diagnosis_before_the_safety_checklist(desk: ServiceDesk) -> None:
    case = run_to(desk, "contacted")
    with pytest.raises(PermissionDenied, match="only the assigned engineer"):
        desk.safety.checklist(case.id, ["helmet"], by="e8", at=at(119))
    desk.cases.arrive(case.id, by="e7", at=at(120))
    with pytest.raises(WorkflowError) as info:
        desk.cases.diagnose(case.id, by="e7", at=at(125), cause="c", complexity="simple")
    message = str(info.value)
    assert "e7 has not checked helmet, gloves" in message
    assert "default.policy:98" in message  # the "require ppe" line
    assert desk.cases.get(case.id).status == "on_site"  # nothing written
    desk.safety.checklist(case.id, ["helmet"], by="e7", at=at(121))
    with pytest.raises(WorkflowError, match="has not checked gloves "):
        desk.cases.diagnose(case.id, by="e7", at=at(125), cause="c", complexity="simple")
    checked = desk.safety.checklist(case.id, ["gloves"], by="e7", at=at(122))
    assert [c.items for c in checked.safety_checks] == [("helmet",), ("gloves",)]
    assert desk.cases.diagnose(case.id, by="e7", at=at(125), cause="c", complexity="simple")
    events = [e for e in desk.cases.history(case.id) if e.type == "safety_checked"]
    assert [(e.by, e.data["items"]) for e in events] == [("e7", ["helmet"]), ("e7", ["gloves"])]


def test_the_checklist_names_only_the_policys_gear(desk: ServiceDesk) -> None:
    case = run_to(desk, "contacted")
    for items, message in (
        (["helmet", "cape"], r"'cape' is not safety gear the policy names \(.*default.policy:98\); "
                             "the items are helmet, gloves"),
        ([], "at least one item"),
        ([""], "at least one item"),
    ):  # fmt: skip
        with pytest.raises(ValidationError, match=message):
            desk.safety.checklist(case.id, items, by="e7", at=at(21))
    assert desk.cases.get(case.id).safety_checks == ()
    with pytest.raises(WorkflowError, match="it is reported"):
        desk.safety.checklist(run_to(desk, "reported").id, ["helmet"], by="e7", at=at(1))


def test_a_new_engineer_checks_their_own_gear(desk: ServiceDesk) -> None:
    case = run_to(desk, "on_site")  # e7 checked helmet and gloves
    desk.cases.reassign(case.id, engineer="e8", by="cs1", reason="e7 ill", at=at(125))
    desk.cases.confirm(case.id, by="e8", at=at(126))
    desk.cases.contact(case.id, by="e8", at=at(127), appointment=at(180))
    desk.cases.arrive(case.id, by="e8", at=at(180))
    with pytest.raises(WorkflowError, match="e8 has not checked helmet, gloves"):
        desk.cases.diagnose(case.id, by="e8", at=at(185), cause="c", complexity="simple")
    desk.safety.checklist(case.id, ["helmet", "gloves"], by="e8", at=at(181))
    assert desk.cases.diagnose(case.id, by="e8", at=at(185), cause="c", complexity="simple")


def test_complete_is_refused_too_once_a_policy_requires_gear(tmp_path: Path) -> None:
    text = (RULES / "default.policy").read_text()
    without = text.replace("  require ppe helmet, gloves before work\n", "").replace(
        'version  "1.0"', 'version  "0.9"'
    )
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    with ServiceDesk(parse_policy(without, "old.policy"), url) as old:
        add_team(old)
        case = run_to(old, "on_site")
        assert case.safety_checks == ()  # nothing required: arrive_safely skipped it
        old.cases.diagnose(case.id, by="e7", at=at(130), cause="c", complexity="simple")
    with ServiceDesk(RULES / "default.policy", url) as new:
        new.reapply_policy(by="m1", reason="safety gear rule", at=at(140))
        with pytest.raises(WorkflowError, match=r"cannot complete .* e7 has not checked"):
            new.cases.complete(case.id, by="e7", at=at(150), actions="a", result="r")
        new.safety.checklist(case.id, ["helmet", "gloves"], by="e7", at=at(151))
        assert new.cases.complete(case.id, by="e7", at=at(152), actions="a", result="r")


def test_many_overdue_tools_cost_a_tick_one_transaction() -> None:
    """However many reminders are due, the tick checks and records them together."""

    class Counting(MemoryStorage):
        def __init__(self) -> None:
            super().__init__("memory://")
            self.writes = 0

        def transaction(self) -> Any:
            self.writes += 1
            return super().transaction()

    def writes_of_a_tick(overdue: int) -> tuple[int, int]:
        store = Counting()
        desk = ServiceDesk(RULES / "default.policy", store)
        add_team(desk)
        for n in range(overdue):
            desk.safety.add_tool(id=f"TW-{n}", name="Torque wrench",
                                 inspected=T0 - timedelta(days=200), by="sk1", at=T0)  # fmt: skip
        store.writes = 0
        sent = [n for n in desk.sla.tick(at(1)) if n.kind == "tool_inspection_due"]
        assert [n for n in desk.sla.tick(at(2)) if n.kind == "tool_inspection_due"] == []
        return len(sent), store.writes

    one, many = writes_of_a_tick(1), writes_of_a_tick(5)
    assert one[0] == 1 and many[0] == 5
    assert many[1] == one[1]  # the same number of transactions for five as for one
