"""desk.safety: the tool register and incidents (issue 7, in progress)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import RULES, T0, add_team, at, run_to

from aftersales import (
    ConflictError,
    NotFound,
    PermissionDenied,
    ServiceDesk,
    ValidationError,
)
from aftersales.testing import Outbox


@pytest.fixture
def desk(storage_url: str, outbox: Outbox) -> ServiceDesk:
    d = ServiceDesk(RULES / "default.policy", storage_url, plugins=[outbox])
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
    with pytest.raises(PermissionDenied, match="a manager can"):
        desk.safety.add_action(on_time.id, description="new gloves", owner="sk1", by="e7")
    desk.safety.add_action(on_time.id, description="cut-resistant gloves in every van",
                           owner="sk1", by="m1", at=at(300))  # fmt: skip
    assert [i.id for i in desk.safety.incidents(open_only=True)] == [on_time.id]
    with pytest.raises(PermissionDenied, match="cannot complete sk1's action"):
        desk.safety.complete_action(on_time.id, 0, by="e8")
    done = desk.safety.complete_action(on_time.id, 0, by="sk1", at=at(400))
    assert done.actions[0].done_at == at(400) and desk.safety.incidents(open_only=True) == []
