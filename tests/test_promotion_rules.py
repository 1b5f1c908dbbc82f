"""Promotion by performance (issue 22): the policy's ``promote when`` (the last N finalized
months graded at least a grade, months in the level, certificates) is checked when a member
is promoted; an ineligible promotion is refused naming what is unmet, unless a manager
overrides it with a reason that is recorded."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import RULES, T0, at, desk_cli

from aftersales import (
    PermissionDenied,
    PolicyError,
    ServiceDesk,
    ValidationError,
    WorkflowError,
    parse_policy,
)

RULE = 'promote when last 2 months graded at least good, 6 months in level, certificate "crane"'
TEXT = (RULES / "default.policy").read_text(encoding="utf-8") + RULE + "\n"
LINE = TEXT.count("\n")  # the promote line is the last


def month(desk: ServiceDesk, period: str, score: int) -> None:
    """``period`` finalized with e7 scored ``score`` by their supervisor."""
    for indicator in ("performance", "attitude", "skills"):
        desk.appraisals.rate("e7", period=period, source="supervisor", indicator=indicator,
                             score=score, by="m1", at=T0 - timedelta(days=3))  # fmt: skip
    desk.appraisals.finalize(period, by="m1", at=T0 - timedelta(days=2))


@pytest.fixture
def desk(storage_url: str) -> ServiceDesk:
    d = ServiceDesk(parse_policy(TEXT, "careers.policy"), storage_url)
    # e7 joined eight months before T0
    d.staff.add(id="m1", name="Zhao", roles=["manager"], at=T0 - timedelta(days=240))
    d.staff.add(id="d1", name="Sun", roles=["director"], at=T0 - timedelta(days=240))
    d.staff.add(id="e7", name="Chen", roles=["engineer"], supervisor="m1", level="engineer",
                at=T0 - timedelta(days=240))  # fmt: skip
    d.staff.add(id="e8", name="Wu", roles=["engineer"], supervisor="m1", at=T0)
    return d


def test_a_member_after_failing_months_is_not_promoted(desk: ServiceDesk) -> None:
    month(desk, "2026-09", 50)  # fail
    month(desk, "2026-10", 55)  # fail
    found = desk.staff.eligibility("e7", at=at(0))
    assert not found.eligible
    graded, level, certificate = found.conditions
    assert (graded.met, graded.detail) == (False, "2026-09 fail, 2026-10 fail")
    assert graded.rule == f"careers.policy:{LINE}"
    assert level.met and level.detail == "on the team since 2026-03-28"
    assert (certificate.met, certificate.detail) == (False, "none valid")
    said = r"e7 is not eligible for promotion: the last 2 finalized months graded at least good"
    with pytest.raises(WorkflowError, match=said + r" \(2026-09 fail, 2026-10 fail"):
        desk.staff.promote("e7", to="senior_engineer", by="m1", reason="liked", at=at(0))
    assert desk.staff.get("e7").level == "engineer"  # nothing changed


def test_an_eligible_member_is_promoted_and_a_manager_may_override(desk: ServiceDesk) -> None:
    month(desk, "2026-08", 40)
    month(desk, "2026-09", 80)  # good
    month(desk, "2026-10", 95)  # excellent: at least good
    desk.training.add_course(id="CR-26", title="Crane rigging", year=2026, area="repair_skills",
                             method="internal", trainer="m1", certificate="crane", by="m1",
                             at=at(0))  # fmt: skip
    full = {part.name: 90 for part in desk.policy.training.assessment}  # type: ignore[union-attr]
    desk.training.assess("e7", certificate="crane", scores=full, by="m1", at=at(0))
    assert desk.staff.eligibility("e7", at=at(1)).eligible  # only the last two months count
    with pytest.raises(ValidationError, match="e7 is eligible for promotion; there is nothing"):
        desk.staff.promote("e7", to="senior_engineer", by="m1", reason="r", override="x",
                           at=at(1))  # fmt: skip
    promoted = desk.staff.promote("e7", to="senior_engineer", by="m1", reason="two good months",
                                  at=at(1))  # fmt: skip
    assert promoted.promotions[-1].override is None and promoted.promotions[-1].unmet == ()
    # just promoted: not 6 months in the new level; a director may not override, a manager may
    assert not desk.staff.eligibility("e7", at=at(3)).conditions[1].met
    with pytest.raises(PermissionDenied, match="only a manager can"):
        desk.staff.promote("e7", to="supervisor", by="d1", reason="r", override="needed",
                           at=at(3))  # fmt: skip
    lead = desk.staff.promote("e7", to="supervisor", by="m1", reason="north team lead",
                              override="the north team has no lead", at=at(3))  # fmt: skip
    last = lead.promotions[-1]
    assert last.override == "the north team has no lead"
    assert last.unmet == ("6 months in the current level",)
    assert desk.staff.record("e7").promotions[-1].override == "the north team has no lead"


def test_a_new_member_has_no_months_yet(desk: ServiceDesk) -> None:
    graded, level, _ = desk.staff.eligibility("e8", at=at(0)).conditions
    assert (graded.met, graded.detail) == (False, "0 finalized month(s): none")
    assert not level.met


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("promote when last 2 months graded at least brilliant", 'unknown grade "brilliant"'),
        ("promote when last 2 weeks graded at least good", "whole months"),
        ("promote when 1.5 months in level", "whole months"),
    ],
)
def test_promote_lines_are_checked(line: str, said: str) -> None:
    text = (RULES / "default.policy").read_text(encoding="utf-8") + line + "\n"
    with pytest.raises(PolicyError, match=said):
        parse_policy(text, "bad.policy")


def test_eligibility_and_override_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "careers.policy").write_text(TEXT, encoding="utf-8")
    cli = desk_cli(tmp_path, monkeypatch, "careers.policy")
    cli("staff", "add", "m1", "--name", "Zhao", "--role", "manager")
    cli("staff", "add", "e7", "--name", "Chen", "--role", "engineer", "--level", "engineer")
    cli("staff", "add", "e5", "--name", "Lu", "--role", "engineer", "--level", "engineer",
        "--level-since", "2024-03-01")  # fmt: skip
    since = json.loads(cli("staff", "eligibility", "e5", "--format", "json"))[1]
    assert (since["met"], since["record"]) == ("yes", "engineer since 2024-03-01")
    rows = json.loads(cli("staff", "eligibility", "e7", "--format", "json"))
    assert [r["met"] for r in rows] == ["no", "no", "no"]
    said = cli("staff", "promote", "e7", "--to", "senior_engineer", "--by", "m1", "--reason",
               "r", code=1)  # fmt: skip
    assert "not eligible for promotion" in said and "override" in said
    out = cli("staff", "promote", "e7", "--to", "senior_engineer", "--by", "m1", "--reason",
              "r", "--override", "the only crane engineer in the north")  # fmt: skip
    assert "overriding: the last 2 finalized months graded at least good" in out


def test_a_team_loaded_with_its_history_counts_from_when_each_reached_their_level(
    storage_url: str,
) -> None:
    desk = ServiceDesk(parse_policy(TEXT, "careers.policy"), storage_url)
    desk.staff.add(id="m1", name="Zhao", roles=["manager"], at=T0)
    # loaded today, a senior engineer since 2025-01-15: 6 months in level long ago
    desk.staff.add(id="e5", name="Lu", roles=["engineer"], level="senior_engineer",
                   level_since=date(2025, 1, 15), at=T0)  # fmt: skip
    level = desk.staff.eligibility("e5", at=at(0)).conditions[1]
    assert level.met and level.detail == "senior_engineer since 2025-01-15"
    # without it, the desk counts from the day it met them
    desk.staff.add(id="e6", name="Ma", roles=["engineer"], level="senior_engineer", at=T0)
    assert not desk.staff.eligibility("e6", at=at(0)).conditions[1].met
    with pytest.raises(ValidationError, match="level_since needs the level"):
        desk.staff.add(id="e9", name="X", roles=["engineer"], level_since=date(2025, 1, 1))
    with pytest.raises(ValidationError, match="is after"):
        desk.staff.add(id="e9", name="X", roles=["engineer"], level="engineer",
                       level_since=date(2030, 1, 1), at=T0)  # fmt: skip
    with pytest.raises(ValidationError):
        desk.staff.add(id="e9", name="X", roles=["engineer"], level="engineer",
                       level_since="2025-01-01", at=T0)  # type: ignore[arg-type]  # fmt: skip
    assert [s.id for s in desk.staff.list()] == ["e5", "e6", "m1"]  # nothing half-added
