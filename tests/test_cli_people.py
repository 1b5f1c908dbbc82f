"""``aftersales training plan|record`` and ``aftersales safety tools|incidents``, on a SQLite
file the desk wrote."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import RULES, T0, add_team, at
from test_cli_cases import ok, run

from aftersales import ServiceDesk


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "aftersales.toml").write_text(
        f'policy = "{RULES / "rhine-pumps.policy"}"\nstorage = "sqlite:///desk.db"\n', "utf-8"
    )
    monkeypatch.chdir(tmp_path)
    with ServiceDesk(RULES / "rhine-pumps.policy", f"sqlite:///{tmp_path / 'desk.db'}") as desk:
        add_team(desk)
        desk.training.add_course(id="ATEX-26", title="Hazardous areas", year=2026,
                                 area="safety", method="external", trainer="TÜV",
                                 certificate="ATEX", by="m1", at=at(0))  # fmt: skip
        desk.training.schedule("ATEX-26", starts_at=at(600), hours=8, by="m1", at=at(1))
        weak = {part.name: 10 for part in desk.policy.training.assessment}  # type: ignore[union-attr]
        desk.staff.add(id="e9", name="Gao", roles=["engineer"], at=T0)
        desk.training.assess("e9", certificate="ATEX", scores=weak, by="m1", at=at(2))
        desk.safety.add_tool(id="TW-1", name="Torque wrench", inspected=T0 - timedelta(days=400),
                             by="sk1", at=at(0))  # fmt: skip
        desk.safety.add_tool(id="MM-2", name="Multimeter", inspected=T0, by="sk1", at=at(0))
        desk.safety.report_incident(happened_at=at(10), severity="near_miss",
                                    description="slipped on oil", by="e7", at=at(20))  # fmt: skip
    return tmp_path


def test_training_plan_and_record(workdir: Path) -> None:
    table = ok("training", "plan", "--year", "2026")
    assert "ATEX-26/1" in table and "Hazardous areas" in table
    rows = list(csv.DictReader(io.StringIO(ok("training", "plan", "--format", "csv"))))
    assert [(r["session"], r["enrolled"]) for r in rows] == [("ATEX-26/1", "e9")]  # the retake
    record = json.loads(ok("training", "record", "e9", "--format", "json"))
    assert [(r["certificate"], r["result"], r["retake_session"]) for r in record] == [
        ("ATEX", "fail", "ATEX-26/1")
    ]
    assert ok("training", "plan", "--year", "2030").count("ATEX") == 0
    code, _, err = run("training", "record", "ghost")
    assert code == 1 and "no staff member 'ghost'" in err


def test_safety_tools_and_incidents(workdir: Path) -> None:
    tools = json.loads(ok("safety", "tools", "--format", "json"))
    assert [(t["tool"], t["overdue"]) for t in tools] == [("MM-2", "no"), ("TW-1", "yes")]
    overdue = list(
        csv.DictReader(io.StringIO(ok("safety", "tools", "--overdue", "--format", "csv")))
    )
    assert [t["tool"] for t in overdue] == ["TW-1"]
    assert "Torque wrench" in ok("safety", "tools")
    incidents = json.loads(ok("safety", "incidents", "--format", "json"))
    assert [(i["severity"], i["late"], i["actions_done"]) for i in incidents] == [
        ("near_miss", "no", "0/0")
    ]
    assert json.loads(ok("safety", "incidents", "--open", "--format", "json")) == []
