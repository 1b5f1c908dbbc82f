"""``aftersales policy apply``: moving open cases to a new policy version from the command
line, with a dry run that lists what would change and changes nothing (issue 17)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import RULES

from aftersales.cli import main


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def ok(*args: str) -> str:
    code, out, err = run(*args)
    assert code == 0, err
    return out


@pytest.fixture
def desk_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AFTERSALES_CONFIG", raising=False)
    (tmp_path / "v1.policy").write_text((RULES / "default.policy").read_text("utf-8"), "utf-8")
    newer = (
        (RULES / "default.policy").read_text("utf-8").replace('version  "1.0"', 'version  "1.1"')
    )
    newer = newer.replace('severity == "critical"', 'severity in ["critical", "major"]')
    (tmp_path / "v2.policy").write_text(newer, "utf-8")
    (tmp_path / "aftersales.toml").write_text('policy = "v1.policy"\nstorage = "sqlite:///d.db"\n')
    ok("staff", "add", "m1", "--name", "Zhao", "--role", "manager")
    ok("staff", "add", "cs1", "--name", "Lin", "--role", "service_agent")
    for severity in ("major", "minor", "major"):
        ok("case", "report", "--customer", "Hengli", "--fault", "leak", "--severity", severity,
           "--channel", "phone", "--by", "cs1")  # fmt: skip
    ok("case", "cancel", "AS-2026-000003", "--reason", "duplicate", "--by", "cs1")
    (tmp_path / "aftersales.toml").write_text('policy = "v2.policy"\nstorage = "sqlite:///d.db"\n')
    return tmp_path


def test_a_dry_run_lists_the_moves_and_changes_nothing(desk_folder: Path) -> None:
    before = ok("case", "history", "AS-2026-000001", "--json")
    out = ok("policy", "apply", "--dry-run", "--format", "json")
    moves = {m["case"]: m for m in json.loads(out)}
    assert set(moves) == {"AS-2026-000001", "AS-2026-000002"}  # open ones; not the cancelled
    assert moves["AS-2026-000001"] == {
        "case": "AS-2026-000001", "from": "1.0", "to": "1.1", "priority": "general",
        "new priority": "urgent", "rule": f"{desk_folder / 'v2.policy'}:21",
    }  # fmt: skip
    assert moves["AS-2026-000002"]["new priority"] == "general"
    assert ok("case", "history", "AS-2026-000001", "--json") == before
    assert "2 case(s) would move; nothing was changed" in ok("policy", "apply", "--dry-run")


def test_apply_moves_the_cases_a_manager_names(desk_folder: Path) -> None:
    code, _, err = run("policy", "apply")
    assert code == 1 and "needs --by (a manager) and --reason" in err
    out = ok("policy", "apply", "--case", "AS-2026-000001", "--by", "m1", "--reason", "new rules")
    assert "1 case(s) moved" in out
    shown = json.loads(ok("case", "show", "AS-2026-000001", "--json"))
    assert (shown["policy_version"], shown["priority"]) == ("1.1", "urgent")
    assert shown["policy_changes"][0]["reason"] == "new rules"
    left = json.loads(ok("policy", "apply", "--dry-run", "--format", "json"))
    assert [m["case"] for m in left] == ["AS-2026-000002"]
    code, _, err = run("policy", "apply", "--by", "cs1", "--reason", "x")
    assert code == 1 and "cs1" in err  # a service agent may not
    assert "1 case(s) moved" in ok("policy", "apply", "--by", "m1", "--reason", "new rules")
    assert "0 case(s) would move" in ok("policy", "apply", "--dry-run")
