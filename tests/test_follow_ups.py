"""Rewards and coaching that follow through (issue 22): the policy's ``reward ... with`` and
``improve ... with`` make records when a month is finalized (a bonus, an award, enrolment
in a course, coaching with a review date, a rotation), tracked until done; the next
appraisal shows whether they were."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import RULES, T0, add_team, at, desk_cli

from aftersales import (
    NotFound,
    PermissionDenied,
    PolicyError,
    ServiceDesk,
    WorkflowError,
    parse_policy,
)
from aftersales.core.training import Session
from aftersales.testing import Outbox

NOV, DEC = "2026-11", "2026-12"


def month(desk: ServiceDesk, period: str, scores: dict[str, int], when: object) -> None:
    for staff, score in scores.items():
        for indicator in ("performance", "attitude", "skills"):
            desk.appraisals.rate(staff, period=period, source="supervisor", indicator=indicator,
                                 score=score, by="m1", at=at(1))  # fmt: skip
    desk.appraisals.finalize(period, by="m1", at=when)  # type: ignore[arg-type]


def plan_care(desk: ServiceDesk) -> Session:
    """The course default.policy's improve line names, with a session planned for after the
    month's close."""
    desk.training.add_course(id="CARE-1", title="Customer care basics", year=2026,
                             area="customer_service", method="internal", trainer="m1",
                             by="m1", at=at(0))  # fmt: skip
    return desk.training.schedule("CARE-1", starts_at=at(60 * 24 * 20), hours=4, by="m1",
                                  at=at(0))  # fmt: skip


@pytest.fixture
def desk(storage_url: str, outbox: Outbox) -> ServiceDesk:
    d = ServiceDesk(RULES / "default.policy", storage_url, plugins=[outbox])
    add_team(d)
    return d


def test_a_finalized_month_sets_what_follows_each_grade(desk: ServiceDesk, outbox: Outbox) -> None:
    # a session of the course the policy names, planned after the month's close
    session = plan_care(desk)
    closed = at(60 * 24 * 10)
    month(desk, NOV, {"e7": 95, "e8": 40}, closed)
    follow = {f.id: f for f in desk.appraisals.follow_ups()}
    assert set(follow) == {f"{NOV}/e7/bonus", f"{NOV}/e8/course", f"{NOV}/e8/coaching"}
    bonus = follow[f"{NOV}/e7/bonus"]
    assert (bonus.amount, bonus.owner, bonus.status) == ("500 CNY", "m1", "open")
    assert bonus.rule.endswith("default.policy:68")
    coaching = follow[f"{NOV}/e8/coaching"]
    assert coaching.due == closed + timedelta(days=30)
    course = follow[f"{NOV}/e8/course"]
    assert course.session == session.id  # enrolled in the next session at once
    assert "e8" in desk.training.session(session.id)[1].enrolled
    reward = [n for n in outbox.notifications if n.kind == "appraisal_reward"][-1]
    assert "a reward is due: bonus 500 CNY" in reward.subject
    plan = [n for n in outbox.notifications if n.kind == "improvement_plan"][-1]
    assert 'to follow: course "Customer care basics", coaching 30 days' in plan.subject


def test_follow_ups_are_tracked_to_completion(desk: ServiceDesk, outbox: Outbox) -> None:
    session = plan_care(desk)
    closed = at(60 * 24 * 10)
    month(desk, NOV, {"e7": 95, "e8": 40}, closed)
    with pytest.raises(PermissionDenied):
        desk.appraisals.complete_follow_up(f"{NOV}/e7/bonus", note="paid", by="e8")
    with pytest.raises(NotFound, match="PERIOD/STAFF/KIND"):
        desk.appraisals.complete_follow_up("nope", note="x", by="m1")
    paid = desk.appraisals.complete_follow_up(f"{NOV}/e7/bonus", note="paid with the December "
                                              "salary", by="m1", at=at(60 * 24 * 11))  # fmt: skip
    assert (paid.status, paid.done_by) == ("done", "m1")
    with pytest.raises(WorkflowError, match="done already"):
        desk.appraisals.complete_follow_up(f"{NOV}/e7/bonus", note="again", by="m1")
    # the course is done once e8 attended it
    desk.training.attend(session.id, ["e8"], by="m1", at=at(60 * 24 * 21))
    (course,) = [f for f in desk.appraisals.follow_ups("e8") if f.kind == "course"]
    assert (course.status, course.note) == ("done", "attended the course")
    # coaching overdue: the tick reminds the owner and managers once
    coaching = desk.appraisals.follow_ups("e8", open_only=True)[0]
    assert coaching.kind == "coaching" and coaching.due is not None
    desk.sla.tick(coaching.due + timedelta(minutes=1))
    desk.sla.tick(coaching.due + timedelta(hours=1))
    (late,) = [n for n in outbox.notifications if n.kind == "follow_up_overdue"]
    assert late.recipients == ("m1",) and "the coaching set for 2026-11 (fail)" in late.subject
    # the next appraisal shows what was done and what was not
    december = desk.appraisals.appraise("e8", DEC)
    assert [(f.kind, f.status) for f in december.follow_ups] == [("coaching", "open"),
                                                                  ("course", "done")]  # fmt: skip
    desk.appraisals.complete_follow_up(coaching.id, note="reviewed: calls now logged",
                                       by="m1", at=coaching.due + timedelta(days=1))  # fmt: skip
    assert desk.appraisals.follow_ups(open_only=True) == []
    assert [f.status for f in desk.appraisals.appraise("e8", DEC).follow_ups] == ["done", "done"]
    assert [f.kind for f in desk.staff.record("e8").follow_ups] == ["coaching", "course"]


def test_a_rotation_follow_up_is_done_by_the_rotation(outbox: Outbox) -> None:
    text = (RULES / "default.policy").read_text(encoding="utf-8").replace(
        '  improve fail with course "Customer care basics" and coaching 30 days',
        "  improve fail with rotation")  # fmt: skip
    desk = ServiceDesk(parse_policy(text, "rotation.policy"), "memory://", plugins=[outbox])
    add_team(desk)
    month(desk, NOV, {"e8": 30}, at(60 * 24 * 10))
    assert [f.status for f in desk.appraisals.follow_ups("e8")] == ["open"]
    desk.staff.rotate("e8", to="spare parts store", start=at(60 * 24 * 12), by="m1")
    (rotation,) = desk.appraisals.follow_ups("e8")
    assert (rotation.status, rotation.note) == ("done", "rotated to spare parts store")


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("reward excellent with bonus", "bonus takes an amount"),
        ('reward excellent with coaching "x"', "coaching takes when it is reviewed"),
        ("reward excellent with cake", 'unknown follow-up "cake"'),
        ("reward excellent with rotation and rotation", "rotation appears twice"),
    ],
)
def test_follow_up_words_are_checked(line: str, said: str) -> None:
    text = (RULES / "default.policy").read_text(encoding="utf-8").replace(
        "  reward  excellent with bonus 500 CNY", f"  {line}")  # fmt: skip
    with pytest.raises(PolicyError, match=said):
        parse_policy(text, "bad.policy")


def test_follow_ups_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli = desk_cli(tmp_path, monkeypatch, RULES / "default.policy")
    cli("staff", "add", "m1", "--name", "Zhao", "--role", "manager")
    cli("staff", "add", "e7", "--name", "Chen", "--role", "engineer", "--supervisor", "m1")
    for indicator in ("performance", "attitude", "skills"):
        cli("appraise", "rate", "e7", "--period", NOV, "--source", "supervisor", "--indicator",
            indicator, "--score", "96", "--by", "m1", "--at", "2026-11-20 10:00")  # fmt: skip
    out = cli("appraise", "finalize", "--period", NOV, "--by", "m1")
    assert "a reward is due: bonus 500 CNY" in out
    (row,) = json.loads(cli("appraise", "follow-ups", "--open", "--format", "json"))
    assert (row["follow_up"], row["what"], row["status"]) == (f"{NOV}/e7/bonus", "bonus 500 CNY",
                                                              "open")  # fmt: skip
    out = cli("appraise", "complete-follow-up", f"{NOV}/e7/bonus", "--note", "paid", "--by", "m1")
    assert "done (paid)" in out
    assert json.loads(cli("appraise", "follow-ups", "--open", "--format", "json")) == []
    assert T0  # the desk's own clock ran this month
