"""desk.appraisals: who may rate, scores from ratings, follow-ups and metrics, finalizing and
its outcomes."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from conftest import REPORT, RULES, add_team, arrive_safely, at, run_to

from aftersales import (
    PermissionDenied,
    PolicyError,
    ServiceDesk,
    ValidationError,
    WorkflowError,
)
from aftersales.ports.manager import BLOCK_VARIABLE
from aftersales.testing import Outbox

NOV = "2026-11"


@pytest.fixture
def desk(storage_url: str, outbox: Outbox) -> ServiceDesk:
    d = ServiceDesk(RULES / "default.policy", storage_url, plugins=[outbox])
    add_team(d)
    return d


def rate_all(desk: ServiceDesk, staff: str, source: str, by: str, scores: dict[str, int]) -> None:
    for indicator, value in scores.items():
        desk.appraisals.rate(
            staff, period=NOV, source=source, indicator=indicator, score=value, by=by, at=at(1)
        )


def test_who_may_rate(desk: ServiceDesk) -> None:
    rate = desk.appraisals.rate
    args = {"period": NOV, "indicator": "attitude", "score": 80, "at": at(1)}
    rate("e7", source="supervisor", by="m1", **args)  # e7's supervisor
    with pytest.raises(PermissionDenied, match="cannot rate themselves as supervisor"):
        rate("e7", source="supervisor", by="e7", **args)
    with pytest.raises(PermissionDenied, match="only e7's supervisor or a manager can"):
        rate("e7", source="supervisor", by="e8", **args)
    rate("e7", source="self", by="e7", **args)
    with pytest.raises(PermissionDenied, match="self rating: only e7 can"):
        rate("e7", source="self", by="m1", **args)
    with pytest.raises(ValidationError, match="names the case_id"):
        rate("e7", source="customer", by="cs1", **args)
    case = run_to(desk, "accepted")
    rate("e7", source="customer", by="cs1", case_id=case.id, **args)
    with pytest.raises(ValidationError, match="was not e8's"):
        rate("e8", source="customer", by="cs1", case_id=case.id, **args)
    with pytest.raises(PermissionDenied, match="customer surveys"):
        rate("e7", source="customer", by="e8", case_id=case.id, **args)
    assert [r.source for r in desk.appraisals.ratings("e7", NOV)] == [
        "supervisor",
        "self",
        "customer",
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"period": "2026-13"}, "YYYY-MM"),
        ({"source": "peer"}, "unknown source 'peer'"),
        ({"indicator": "charm"}, "unknown indicator 'charm'"),
        ({"score": 101}, "0 to 100"),
        ({"score": -1}, "0 to 100"),
        ({"score": "lots"}, "number from 0 to 100"),
    ],
)
def test_bad_ratings_are_refused(
    desk: ServiceDesk, change: dict[str, object], message: str
) -> None:
    args = {"period": NOV, "source": "supervisor", "indicator": "skills", "score": 70, "by": "m1"}
    with pytest.raises(ValidationError, match=message):
        desk.appraisals.rate("e7", **{**args, **change})  # type: ignore[arg-type]
    assert desk.appraisals.ratings("e7", NOV) == []


def test_score_from_ratings_and_follow_ups(desk: ServiceDesk) -> None:
    case = run_to(desk, "followed_up")  # satisfaction 5 -> a customer rating of 100
    assert case.follow_up is not None and case.follow_up.at.strftime("%Y-%m") == NOV
    rate_all(desk, "e7", "supervisor", "m1", {"performance": 80, "attitude": 70, "skills": 60})
    rate_all(desk, "e7", "self", "e7", {"performance": 100, "attitude": 70, "skills": 90})
    result = desk.appraisals.appraise("e7", NOV)
    # performance (50*80 + 30*100 + 20*100)/100 = 90; attitude (35 + 30 + 14) = 79;
    # skills (30 + 30 + 18) = 78; total 0.5*90 + 0.2*79 + 0.3*78 = 45 + 15.8 + 23.4 = 84.2
    assert result.score == D("84.2") and result.grade == "good"
    assert result.grade_location is not None and result.grade_location.endswith("default.policy:64")
    assert result.detail.indicators[0].by_source == {"supervisor": 80, "customer": 100, "self": 100}
    assert result.detail.missing == ()
    lonely = desk.appraisals.appraise("e8", NOV)
    assert lonely.score is None and lonely.grade is None and "performance" in lonely.detail.missing


def test_a_survey_replaces_follow_ups_for_its_indicator(desk: ServiceDesk) -> None:
    case = run_to(desk, "followed_up")
    desk.appraisals.rate("e7", period=NOV, source="customer", indicator="attitude", score=40,
                         by="cs1", case_id=case.id, at=at(4000))  # fmt: skip
    result = desk.appraisals.appraise("e7", NOV)
    by_name = {i.indicator: i for i in result.detail.indicators}
    assert by_name["attitude"].by_source == {"customer": 40}
    assert by_name["skills"].by_source == {"customer": 100}


def test_finalize_freezes_the_month_and_sends_outcomes(desk: ServiceDesk, outbox: Outbox) -> None:
    rate_all(desk, "e7", "supervisor", "m1", {"performance": 95, "attitude": 95, "skills": 95})
    rate_all(desk, "e8", "supervisor", "m1", {"performance": 30, "attitude": 30, "skills": 30})
    with pytest.raises(PermissionDenied, match="needs a manager"):
        desk.appraisals.finalize(NOV, by="cs1")
    results = {a.staff_id: a for a in desk.appraisals.finalize(NOV, by="m1", at=at(50000))}
    assert results["e7"].grade == "excellent" and results["e8"].grade == "fail"
    assert results["e7"].finalized
    with pytest.raises(ValidationError, match="is finalized"):
        rate_all(desk, "e7", "self", "e7", {"skills": 50})
    with pytest.raises(ValidationError, match="already finalized"):
        desk.appraisals.finalize(NOV, by="m1")
    kinds = {(n.kind, n.data["staff"]) for n in outbox.notifications if n.kind != "case_assigned"}
    assert kinds == {("appraisal_reward", "e7"), ("improvement_plan", "e8")}
    assert desk.appraisals.appraise("e8", NOV).finalized
    records = {(o.kind, o.staff_id) for o in desk.appraisals.outcomes(NOV)}
    assert records == {("reward", "e7"), ("improvement_plan", "e8")}


def test_dismissal_review_after_consecutive_failing_months(
    desk: ServiceDesk, outbox: Outbox
) -> None:
    def month(period: str, value: int) -> None:
        for indicator in ("performance", "attitude", "skills"):
            desk.appraisals.rate("e8", period=period, source="supervisor", indicator=indicator,
                                 score=value, by="m1", at=at(1))  # fmt: skip
        desk.appraisals.finalize(period, by="m1", at=at(2))

    month("2026-10", 40)  # fail
    month("2026-11", 70)  # pass: breaks the run
    month("2026-12", 40)
    month("2027-01", 40)  # across the year (and cycle) boundary
    assert not [n for n in outbox.notifications if n.kind == "dismissal_review"]
    month("2027-02", 40)  # three in a row
    [review] = [n for n in outbox.notifications if n.kind == "dismissal_review"]
    assert review.recipients == ("m1",) and review.data["period"] == "2027-02"
    assert "the decision is the manager's" in review.subject
    [open_review] = desk.appraisals.reviews()
    assert (open_review.staff_id, open_review.period, open_review.months) == ("e8", "2027-02", 3)
    with pytest.raises(PermissionDenied):
        desk.appraisals.decide_review("e8", "2027-02", decision="retain", reason="x", by="cs1")
    with pytest.raises(ValidationError, match="decision must be one of dismiss, retain, transfer"):
        desk.appraisals.decide_review("e8", "2027-02", decision="fire", reason="x", by="m1")
    decided = desk.appraisals.decide_review(
        "e8", "2027-02", decision="transfer", reason="better suited to the workshop", by="m1"
    )
    assert decided.decision == "transfer" and desk.appraisals.reviews() == []
    assert desk.appraisals.reviews(open_only=False) == [decided]
    assert desk.staff.get("e8").active  # the SDK records the decision, dismisses nobody
    with pytest.raises(WorkflowError, match="was decided: transfer"):
        desk.appraisals.decide_review("e8", "2027-02", decision="retain", reason="x", by="m1")
    mean, grade = desk.appraisals.cycle_summary("e8", "2027-02")  # Jan-Mar: one month rated
    assert (mean, grade) == (D(40) * 2 / 2, "fail")


def test_measured_indicators_come_from_the_case_record(tmp_path: Path) -> None:
    desk = ServiceDesk(RULES / "rhine-pumps.policy", f"sqlite:///{tmp_path}/r.db")
    add_team(desk)
    base = datetime.fromisoformat("2026-11-02T08:00+01:00")
    for n in range(3):
        start = base + timedelta(days=n)
        product = {"model": "P-1", "serial": f"P{n}"}  # three machines: no warranty rework
        case = desk.cases.report(
            **{**REPORT, "customer": {"name": "R"}, "product": product}, by="cs1", at=start
        )
        c = desk.cases
        c.respond(case.id, by="cs1", at=start + timedelta(minutes=5))
        c.assign(case.id, engineer="e7", by="cs1", at=start + timedelta(minutes=10))
        c.confirm(case.id, by="e7", at=start + timedelta(minutes=15))
        c.contact(
            case.id,
            by="e7",
            at=start + timedelta(minutes=20),
            appointment=start + timedelta(hours=1),
        )
        arrive_safely(desk, case.id, "e7", start + timedelta(hours=1))
        c.diagnose(case.id, by="e7", at=start + timedelta(hours=2), cause="c", complexity="simple")
        c.complete(case.id, by="e7", at=start + timedelta(hours=3), actions="a", result="r")
        if n == 0:
            c.reject(case.id, signed_by="W", by="e7", reason="x", at=start + timedelta(hours=4))
            c.complete(case.id, by="e7", at=start + timedelta(hours=5), actions="a", result="r")
        c.accept(case.id, signed_by="W", by="e7", at=start + timedelta(hours=6))
        c.follow_up(case.id, by="cs1", satisfaction=4 + (n % 2), at=start + timedelta(hours=7))
    result = desk.appraisals.appraise("e7", NOV)
    assert result.metrics["tasks_completed"] == 3
    assert result.metrics["first_time_fix"] == D(200) / 3  # one of three was rejected once
    assert result.metrics["satisfaction"] == D(13) / 3  # 4, 5, 4
    performance = next(i for i in result.detail.indicators if i.indicator == "performance")
    assert performance.measured and performance.score is not None
    tasks = performance.metrics[0]
    assert (tasks.metric, tasks.score) == ("tasks_completed", D(100) * 3 / 25)
    with pytest.raises(ValidationError, match="measured by metrics"):
        desk.appraisals.rate("e7", period=NOV, source="supervisor", indicator="performance",
                             score=50, by="m1")  # fmt: skip


def test_a_metric_no_plugin_provides_is_a_policy_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BLOCK_VARIABLE, "aftersales.plugins.metrics")
    from aftersales import load_policy

    policy = load_policy(RULES / "rhine-pumps.policy")  # checked against the built-in names
    with pytest.raises(
        PolicyError, match='no loaded plugin provides the metric "tasks_completed"'
    ) as info:
        ServiceDesk(policy)
    assert info.value.line is not None and info.value.hint == "the loaded plugins provide: none"
