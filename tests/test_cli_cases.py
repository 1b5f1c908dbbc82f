"""``aftersales case|staff|plugins`` on a SQLite file named in aftersales.toml."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from conftest import ROOT, RULES

from aftersales import ServiceDesk
from aftersales.cli import main


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "aftersales.toml").write_text(
        f'policy = "{RULES / "default.policy"}"\nstorage = "sqlite:///data/service.db"\n',
        "utf-8",
    )
    (tmp_path / "data").mkdir()  # the store's folder: a store is never given new folders
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env={"COLUMNS": "400"})
    return result.exit_code, result.stdout, result.stderr


def ok(*args: str) -> str:
    code, out, err = run(*args)
    assert code == 0, err
    return out


def fails(*args: str) -> str:
    """What a refused command prints on stderr (it must exit with an error)."""
    code, _, err = run(*args)
    assert code != 0
    return err


def team() -> None:
    ok("staff", "add", "cs1", "--name", "Lin", "--role", "service_agent")
    ok("staff", "add", "e7", "--name", "Chen", "--role", "engineer")


def report() -> str:
    out = ok(
        "case", "report", "--customer", "Hengli Mining", "--tier", "gold",
        "--model", "EX-350", "--serial", "EX350-0192", "--fault", "pump leaking",
        "--fault-code", "HYD-PUMP", "--severity", "major", "--machine-down",
        "--channel", "phone", "--by", "cs1", "--at", "2026-11-23 09:00",
    )  # fmt: skip
    return out.split()[0]


def test_lifecycle_from_the_command_line(workdir: Path) -> None:
    team()
    number = report()
    assert number == "AS-2026-000001"
    assert (workdir / "data" / "service.db").is_file()  # relative to the config file
    steps = [
        ("respond", "--at", "2026-11-23 09:05"),
        ("assign", "--engineer", "e7", "--at", "2026-11-23 09:10"),
        ("confirm", "--at", "2026-11-23 09:15"),
        ("contact", "--appointment", "2026-11-23 11:00", "--at", "2026-11-23 09:20"),
        ("arrive", "--at", "2026-11-23 11:00"),
        ("checklist", "--item", "helmet", "--item", "gloves", "--at", "2026-11-23 11:01"),
        ("diagnose", "--cause", "seal", "--complexity", "simple", "--at", "2026-11-23 11:10"),
        ("complete", "--actions", "new seal", "--result", "ok", "--part", "SEAL-9:2",
         "--at", "2026-11-23 12:00"),
        ("accept", "--signed-by", "Wang", "--at", "2026-11-23 12:10"),
        ("follow-up", "--satisfaction", "5", "--at", "2026-11-25 10:00"),
        ("close", "--at", "2026-11-25 10:05"),
    ]  # fmt: skip
    engineer_steps = {"confirm", "contact", "arrive", "checklist", "diagnose", "complete", "accept"}
    for name, *args in steps:
        by = "e7" if name in engineer_steps else "cs1"
        if name == "checklist":  # no diagnosis before the safety gear is checked
            code, _, err = run("case", "diagnose", number, "--by", "e7", "--cause", "seal",
                               "--complexity", "simple", "--at", "2026-11-23 11:01")  # fmt: skip
            assert code == 1 and "e7 has not checked helmet, gloves (require ppe" in err
        out = ok("case", name, number, "--by", by, *args)
        assert out.startswith(number)
    assert "closed" in out and "version 12" in out
    shown = ok("case", "show", number)
    assert "urgent" in shown and "default.policy:21" in shown and "Hengli Mining" in shown
    history = ok("case", "history", number)
    assert history.count("\n") > 11 and "followed_up" in history and "satisfaction=5" in history
    assert "customer.name=Hengli Mining" in history and "{'" not in history  # readable
    assert "product.serial=EX350-0192" in history
    data = json.loads(ok("case", "show", number, "--json"))
    assert data["status"] == "closed" and data["repair"]["parts_used"][0]["quantity"] == 2
    events = json.loads(ok("case", "history", number, "--json"))
    assert [e["type"] for e in events][:2] == ["reported", "responded"]


def test_list_and_filters(workdir: Path) -> None:
    team()
    first = report()
    report()
    ok("case", "respond", first, "--by", "cs1", "--at", "2026-11-23 09:05")
    listing = ok("case", "list")
    assert "2 case(s)" in listing
    only = json.loads(ok("case", "list", "--status", "responded", "--json"))
    assert [c["number"] for c in only] == [first]
    assert "2 case(s)" in ok("case", "list", "--open")


def test_user_errors_are_one_line_and_exit_1(workdir: Path) -> None:
    team()
    number = report()
    code, out, err = run("case", "arrive", number, "--by", "e7", "--at", "2026-11-23 10:00")
    assert code == 1 and out == ""
    assert err.strip().count("\n") == 0
    assert "it is reported; allowed now: respond" in err
    for args, message in (
        (("case", "show", "AS-2026-999999"), "no case numbered 'AS-2026-999999'"),
        (("case", "respond", number, "--by", "ghost"), "no staff member 'ghost'"),
        (("case", "respond", number, "--by", "e7"), "needs a service_agent or manager"),
        (("case", "respond", number, "--by", "cs1", "--at", "tomorrow"), "tomorrow"),
        (("staff", "add", "x", "--name", "X", "--role", "wizard"), "unknown role 'wizard'"),
    ):
        code, _, err = run(*args)
        assert code == 1 and message in err, (args, err)
        assert "Traceback" not in err


def test_bad_config_is_a_user_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "aftersales.toml").write_text('polcy = "x"\n', "utf-8")
    code, _, err = run("case", "list")
    assert code == 1 and "unknown setting 'polcy'" in err
    (tmp_path / "aftersales.toml").write_text("policy = \n", "utf-8")
    code, _, err = run("case", "list")
    assert code == 1 and "not valid TOML" in err
    code, _, err = run("--config", str(tmp_path / "missing.toml"), "case", "list")
    assert code == 1 and "cannot read" in err


def test_defaults_without_a_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "default.policy").write_text(
        (RULES / "default.policy").read_text("utf-8"), "utf-8"
    )
    monkeypatch.chdir(tmp_path)
    ok("staff", "add", "cs1", "--name", "Lin", "--role", "service_agent")
    assert (tmp_path / "aftersales.db").is_file()
    assert "cs1" in ok("staff", "list")


def test_plugins_lists_builtins_and_hooks() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "aftersales.cli", "plugins", "--json"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    rows = {row["name"]: row["hooks"] for row in json.loads(out)["plugins"]}
    assert rows["aftersales.plugins.sqlite"] == ["aftersales_storage_backends"]
    assert rows["aftersales.plugins.log_notifier"] == ["aftersales_notify"]


def test_plugins_says_which_notifiers_are_configured_and_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "aftersales.toml").write_text(
        f'policy = "{RULES / "default.policy"}"\n'
        '[notify.email]\nhost = "smtp.example.com"\n'
        '[notify.webhook]\nurl = "https://erp.example.com/hook"\n'
        'secret_env = "AS_TEST_NO_SUCH_SECRET"\n'
        '[notify.pager]\nnumber = "+49 30 1234"\n',
        "utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AS_TEST_NO_SUCH_SECRET", raising=False)
    listed = {n["name"]: n for n in json.loads(ok("plugins", "--json"))["notifiers"]}
    assert listed["email"] == {"name": "email", "configured": True, "problem": None}
    assert (
        listed["webhook"]["configured"] and "AS_TEST_NO_SUCH_SECRET" in listed["webhook"]["problem"]
    )
    assert listed["pager"]["problem"] == "no loaded plugin makes a notifier 'pager'"
    table = ok("plugins")
    assert "notifiers" in table and "valid" in table and "invalid: " in table


def test_sla_commands(workdir: Path) -> None:
    team()
    ok("staff", "add", "m1", "--name", "Zhao", "--role", "manager")
    number = report()  # urgent: response within 30 minutes
    clocks = json.loads(ok("case", "sla", number, "--now", "2026-11-23 09:25", "--json"))
    response = next(c for c in clocks if c["milestone"] == "response")
    assert response["state"] == "at_risk" and response["due"] == "2026-11-23T09:30:00+08:00"
    assert response["rule"].endswith("default.policy:25")
    table = ok("case", "sla", number, "--now", "2026-11-23 09:25")
    assert "at_risk" in table and "30 minutes" in table
    sent = ok("sla", "tick", "--now", "2026-11-23 09:40")
    assert "sla_warning" in sent and "sla_breach" in sent
    assert "notification(s) decided, every delivery made" in sent
    assert ok("sla", "tick", "--now", "2026-11-23 09:41").strip().endswith(
        "0 notification(s) decided")  # fmt: skip
    ok("case", "respond", number, "--by", "cs1", "--at", "2026-11-23 09:45")
    rows = json.loads(
        ok("sla", "report", "--since", "2026-11-23", "--until", "2026-11-24", "--by", "milestone",
           "--format", "json")
    )  # fmt: skip
    response_row = next(r for r in rows if r["group"] == "response")
    assert (response_row["met"], response_row["breached"]) == (0, 1)
    assert response_row["worst"][0]["overrun_minutes"] == 15.0
    csv_text = ok(
        "sla", "report", "--since", "2026-11-23", "--until", "2026-11-24", "--format", "csv"
    )
    assert csv_text.splitlines()[0].startswith("group,clocks,met,breached")
    table = ok("sla", "report", "--since", "2026-11-23", "--until", "2026-11-24")
    assert "SLA by priority" in table
    assert "repair clocks are met when the repair is accepted" in table
    assert "clocks read at 2026-11-24 00:00" in table
    ahead = ok("sla", "report", "--since", "2026-11-23", "--until", "2099-01-01")
    assert "clocks read now" in ahead and "the period is not over" in ahead
    code, _, err = run("sla", "report", "--since", "2026-11-24", "--until", "2026-11-23")
    assert code == 1 and "until must be later than since" in err


def test_appraise_commands(workdir: Path) -> None:
    team()
    ok("staff", "add", "m1", "--name", "Zhao", "--role", "manager")
    ok("staff", "add", "e8", "--name", "Wu", "--role", "engineer", "--supervisor", "m1")
    from aftersales.cli.config import load_config

    config = load_config(str(workdir / "aftersales.toml"))
    with ServiceDesk(config.policy, config.storage) as desk:
        for indicator in ("performance", "attitude", "skills"):
            desk.appraisals.rate("e8", period="2026-11", source="supervisor", indicator=indicator,
                                 score=95, by="m1")  # fmt: skip
    table = ok("appraise", "--period", "2026-11")
    assert "e8" in table and "excellent" in table
    rows = json.loads(ok("appraise", "--period", "2026-11", "--staff", "e8", "--format", "json"))
    assert rows[0]["grade"] == "excellent" and rows[0]["trace"][-1].startswith("score:")
    assert ok("appraise", "--period", "2026-11", "--format", "csv").startswith("staff,period,score")
    out = ok("appraise", "finalize", "--period", "2026-11", "--by", "m1")
    assert "2026-11 finalized" in out and "reward" in out
    assert "0 review(s)" in ok("appraise", "reviews")
    code, _, err = run("appraise", "finalize", "--period", "2026-11", "--by", "m1")
    assert code == 1 and "already finalized" in err
    code, _, err = run("appraise", "--period", "November")
    assert code == 1 and "YYYY-MM" in err


def test_parts_commands(workdir: Path) -> None:
    team()
    ok("staff", "add", "m1", "--name", "Zhao", "--role", "manager")
    ok("staff", "add", "sk1", "--name", "Ma", "--role", "storekeeper")
    from aftersales.cli.config import load_config

    config = load_config(str(workdir / "aftersales.toml"))
    with ServiceDesk(config.policy, config.storage) as desk:
        desk.parts.add_location(id="WH", name="Warehouse", by="sk1")
        desk.parts.add_supplier(id="ACME", name="Acme", qualified=True, by="m1")
        desk.parts.add_part(sku="SEAL-9", name="Seal", category="seals", unit_cost="12.5",
                            reorder_point=5, reorder_quantity=20, by="sk1")  # fmt: skip
        passed = {"quantity": True, "specification": True, "quality": True}
        desk.parts.receive("SEAL-9", 3, location="WH", supplier="ACME", by="sk1", inspection=passed)
    stock = json.loads(ok("parts", "stock", "--format", "json"))
    assert stock == [{"sku": "SEAL-9", "location": "WH", "on_hand": 3, "value": "37.5"}]
    assert "valuation: 37.5 CNY" in ok("parts", "stock")
    plan = json.loads(ok("parts", "plan", "--format", "json"))
    assert plan[0]["sku"] == "SEAL-9" and plan[0]["order"] == 20
    assert ok("parts", "movements", "SEAL-9", "--format", "csv").startswith("#,type,at,by")
    assert "requisitions" in ok("parts", "requisitions")
    assert json.loads(ok("parts", "stocktake", "--format", "json")) == []
    code, _, err = run("parts", "movements", "NOPE")
    assert code == 1 and "no part 'NOPE'" in err


def test_expenses_commands(workdir: Path) -> None:
    team()
    ok("staff", "add", "m1", "--name", "Zhao", "--role", "manager")
    ok("staff", "add", "f1", "--name", "Sun", "--role", "finance")
    from datetime import date

    from aftersales.cli.config import load_config

    config = load_config(str(workdir / "aftersales.toml"))
    with ServiceDesk(config.policy, config.storage) as desk:
        stay = {"category": "lodging", "amount": "900", "nights": 2, "date": date(2026, 11, 24),
                "invoice": "H1"}  # fmt: skip
        claim = desk.expenses.draft([stay], by="e7")
        desk.expenses.submit(claim.id, by="e7")
        desk.expenses.approve(claim.id, by="m1")
        desk.expenses.approve(claim.id, by="f1")
    listed = json.loads(ok("expenses", "list", "--format", "json"))
    assert listed[0]["status"] == "approved" and listed[0]["findings"] == 1
    shown = ok("expenses", "show", claim.id)
    assert "over the limit of 400 CNY per night x 2" in shown
    report = json.loads(ok("expenses", "report", "--since", "2026-11-01", "--until", "2026-12-01",
                           "--by", "category", "--format", "json"))  # fmt: skip
    assert report == [{"group": "lodging", "claimed": "900", "reimbursed": "800", "capped": "100",
                       "lines": 1, "claims": 1, "cases": 0, "per_case": None,
                       "over_limit": 1}]  # fmt: skip
    code, _, err = run("expenses", "show", "EX-nope")
    assert code == 1 and "no expense claim 'EX-nope'" in err


def test_a_held_case_is_assigned_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = (RULES / "default.policy").read_text("utf-8") + "\nhold when waiting for parts\n"
    (tmp_path / "held.policy").write_text(policy, "utf-8")
    (tmp_path / "aftersales.toml").write_text(
        'policy = "held.policy"\nstorage = "sqlite:///service.db"\n', "utf-8"
    )
    monkeypatch.chdir(tmp_path)
    team()
    number = report()
    ok("case", "respond", number, "--by", "cs1", "--at", "2026-11-23 09:05")
    ok("case", "hold", number, "--reason", "parts", "--by", "cs1", "--at", "2026-11-23 09:06")
    ok("case", "assign", number, "--engineer", "e7", "--by", "cs1", "--at", "2026-11-23 09:07")
    shown = json.loads(ok("case", "show", number, "--json"))
    assert (shown["status"], shown["engineer"]) == ("assigned", "e7")
    assert shown["holds"][-1]["end"] is None  # still on hold
    code, _, err = run("case", "confirm", number, "--by", "e7", "--at", "2026-11-23 09:08")
    assert code == 1 and "release it first" in err


def test_unassign_from_the_command_line(workdir: Path) -> None:
    team()
    number = report()
    ok("case", "respond", number, "--by", "cs1", "--at", "2026-11-23 09:05")
    ok("case", "assign", number, "--engineer", "e7", "--by", "cs1", "--at", "2026-11-23 09:07")
    ok("case", "unassign", number, "--reason", "e7 is away", "--by", "cs1",
       "--at", "2026-11-23 09:08")  # fmt: skip
    shown = json.loads(ok("case", "show", number, "--json"))
    assert (shown["status"], shown["engineer"]) == ("responded", None)
    code, _, err = run("case", "unassign", number, "--reason", "x", "--by", "cs1",
                       "--at", "2026-11-23 09:09")  # fmt: skip
    assert code == 1 and "cannot unassign" in err


def test_policy_show_says_whether_the_callback_is_optional(tmp_path: Path) -> None:
    policy = (RULES / "default.policy").read_text("utf-8") + "\ncallback optional\n"
    (tmp_path / "optional.policy").write_text(policy, "utf-8")
    assert "optional: close once accepted" in ok(
        "policy", "show", str(tmp_path / "optional.policy")
    )
    assert "before close" in ok("policy", "show", str(RULES / "default.policy"))
    trucks = ok("policy", "show", str(RULES / "lift-trucks.policy"))
    assert "5 working days after repaired" in trucks
    assert "30 days, restarting the repair clock" in trucks


def test_update_from_the_command_line(workdir: Path) -> None:
    team()
    number = report()
    ok("case", "update", number, "--fault-code", "HYD-HOSE", "--severity", "critical",
       "--reason", "hose burst", "--by", "cs1", "--at", "2026-11-23 09:10")  # fmt: skip
    after = json.loads(ok("case", "show", number, "--json"))
    assert (after["fault_code"], after["severity"]) == ("HYD-HOSE", "critical")
    code, _, err = run("case", "update", number, "--reason", "nothing", "--by", "cs1",
                       "--at", "2026-11-23 09:11")  # fmt: skip
    assert code == 1 and "update needs" in err


def test_case_list_by_team(workdir: Path) -> None:
    team()
    ok("staff", "update", "e7", "--team", "north", "--by", "e7")
    number = report()
    ok("case", "respond", number, "--by", "cs1", "--at", "2026-11-23 09:05")
    ok("case", "assign", number, "--engineer", "e7", "--by", "cs1", "--at", "2026-11-23 09:07")
    report()  # a second case, nobody on it
    north = json.loads(ok("case", "list", "--team", "north", "--json"))
    assert [c["number"] for c in north] == [number]
    assert json.loads(ok("case", "list", "--team", "south", "--json")) == []


def test_reopen_from_the_command_line(workdir: Path) -> None:
    team()
    number = report()
    code, _, err = run("case", "reopen", number, "--reason", "x", "--by", "cs1",
                       "--at", "2026-11-23 09:09")  # fmt: skip
    assert code == 1 and "cannot reopen" in err and "allowed now" in err


@pytest.fixture
def trucks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "aftersales.toml").write_text(
        f'policy = "{RULES / "lift-trucks.policy"}"\nstorage = "sqlite:///service.db"\n', "utf-8"
    )
    monkeypatch.chdir(tmp_path)
    team()
    ok("staff", "add", "e9", "--name", "Sun", "--role", "engineer")
    ok("staff", "update", "e9", "--team", "north", "--by", "e9")
    return tmp_path


def test_queue_take_and_resolve_from_the_command_line(trucks: Path) -> None:
    number = report()
    ok("case", "respond", number, "--by", "cs1", "--at", "2026-11-23 09:05")
    ok("case", "queue", number, "--team", "north", "--by", "cs1", "--at", "2026-11-23 09:06")
    assert [c["number"] for c in json.loads(ok("case", "list", "--team", "north", "--json"))] == [
        number
    ]
    code, _, err = run("case", "take", number, "--by", "e7", "--at", "2026-11-23 09:07")
    assert code == 1 and "e7 is on no team" in err
    ok("case", "take", number, "--by", "e9", "--at", "2026-11-23 09:08")
    ok("case", "resolve", number, "--way", "remote_session", "--actions", "reset the controller",
       "--result", "lifts", "--by", "e9", "--at", "2026-11-23 09:30")  # fmt: skip
    shown = json.loads(ok("case", "show", number, "--json"))
    assert (shown["status"], shown["engineer"], shown["team"]) == ("repaired", "e9", "north")
    assert shown["repair"]["remote"] == "remote_session"
    clocks = json.loads(ok("case", "sla", number, "--now", "2026-11-23 10:00", "--json"))
    states = {c["milestone"]: c["state"] for c in clocks}
    assert states["arrival"] == states["contact"] == "not_applicable"
    assert states["assignment"] == "met"
    code, _, err = run("case", "resolve", number, "--way", "carrier-pigeon", "--actions", "x",
                       "--result", "y", "--by", "e9")  # fmt: skip
    assert code == 2 and "carrier-pigeon" in err
    table = ok("sla", "report", "--since", "2026-11-23", "--until", "2026-11-24",
               "--by", "milestone", "--now", "2026-11-23 10:00")  # fmt: skip
    assert "n/a" in table


def test_policy_show_lists_remote_resolution_and_the_new_milestones(tmp_path: Path) -> None:
    trucks = ok("policy", "show", str(RULES / "lift-trucks.policy"))
    assert "by service_agent, engineer" in trucks
    assert "assignment" in trucks and "within 15 working days" in trucks
    assert "never: visits only" in ok("policy", "show", str(RULES / "default.policy"))
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"severity": "major", "machine_down": True,
                                "customer": {"name": "A", "tier": "gold"}}), "utf-8")  # fmt: skip
    explained = ok("policy", "explain", str(RULES / "lift-trucks.policy"), "--case", str(case),
                   "--at", "2026-11-23 09:00")  # fmt: skip
    assert "priority: urgent" in explained and "assignment" in explained


def test_a_priority_table_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "aftersales.toml").write_text(
        f'policy = "{RULES / "crane-service.policy"}"\nstorage = "sqlite:///service.db"\n', "utf-8"
    )
    monkeypatch.chdir(tmp_path)
    team()
    base = ("case", "report", "--customer", "Strabag", "--fault", "brake slips",
            "--channel", "phone", "--by", "cs1", "--at", "2026-11-23 09:00")  # fmt: skip
    code, _, err = run(*base, "--severity", "major", "--custom", "impact=site",
                       "--custom", "urgency=week")  # fmt: skip
    assert code == 1 and "names safety, breakdown, fault, cosmetic" in err
    number = ok(*base, "--severity", "fault", "--custom", "impact=site", "--custom",
                "urgency=week").split()[0]  # fmt: skip
    assert json.loads(ok("case", "show", number, "--json"))["priority"] == "p2"
    ok("case", "update", number, "--custom", "urgency=today", "--reason", "crane idle",
       "--by", "cs1", "--at", "2026-11-23 09:10")  # fmt: skip
    shown = json.loads(ok("case", "show", number, "--json"))
    assert shown["priority"] == "p1" and shown["priority_changes"][0]["previous"] == "p2"
    listing = ok("policy", "show", str(RULES / "crane-service.policy"))
    assert "table row: custom.impact = site, custom.urgency = today" in listing
    assert "one of site, crew, single, none" in listing


def test_a_tick_whose_deliveries_fail_says_so(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17: a webhook nobody answers: the tick decides its alerts, and says that their
    deliveries wait for a retry rather than that they were sent."""
    monkeypatch.setenv("AFTERSALES_WEBHOOK_SECRET", "s3cret")
    config = workdir / "aftersales.toml"
    config.write_text(config.read_text("utf-8") + '\n[notify.webhook]\nurl = '
                      '"http://127.0.0.1:9/hook"\ntimeout = 2\n', "utf-8")  # fmt: skip
    team()
    ok("staff", "add", "m1", "--name", "Zhao", "--role", "manager")
    report()
    out = ok("sla", "tick", "--now", "2026-11-23 09:40")
    assert "notification(s) decided; " in out and "waiting for a retry, 0 failed" in out
    waiting = int(out.rsplit("decided; ", 1)[1].split()[0])
    assert waiting >= 2  # the warning and the breach, to the webhook


def test_case_update_from_the_command_line(workdir: Path) -> None:
    """Issue 17: ``case update`` corrects the record; the priority is decided again."""
    team()
    number = report()  # major, machine down, gold: urgent
    before = json.loads(ok("case", "show", number, "--json"))
    assert before["priority"] == "urgent"
    after = json.loads(ok("case", "update", number, "--by", "cs1", "--at", "2026-11-23 09:10",
                          "--machine-running", "--severity", "minor", "--reason",
                          "the truck still runs", "--json"))  # fmt: skip
    assert (after["machine_down"], after["severity"]) == (False, "minor")
    assert after["priority"] != "urgent" and after["priority_changes"]
    code, _, err = run("case", "update", number, "--by", "cs1", "--reason", "x",
                       "--severity", "huge")  # fmt: skip
    assert code == 1 and "severity" in err and "Traceback" not in err


def _drive(*steps: tuple[str, ...]) -> None:
    engineer_steps = {"confirm", "contact", "arrive", "checklist", "diagnose", "complete",
                      "accept", "reject"}  # fmt: skip
    for name, *args in steps:
        by = "e7" if name in engineer_steps else "cs1"
        ok("case", name, "AS-2026-000001", *args, "--by", by)


def test_case_show_prints_the_whole_record(workdir: Path) -> None:
    team()
    report()
    _drive(("respond", "--at", "2026-11-23 09:05"),
           ("assign", "--engineer", "e7", "--instructions", "bring seals",
            "--at", "2026-11-23 09:10"),
           ("confirm", "--at", "2026-11-23 09:15"),
           ("contact", "--appointment", "2026-11-23 11:00", "--at", "2026-11-23 09:20"),
           ("arrive", "--at", "2026-11-23 11:00"),
           ("checklist", "--item", "helmet", "--item", "gloves", "--at", "2026-11-23 11:01"),
           ("diagnose", "--cause", "seal", "--complexity", "simple", "--at", "2026-11-23 11:10"),
           ("complete", "--actions", "new seal", "--result", "dry", "--part", "SEAL-9:2",
            "--at", "2026-11-23 12:00"),
           ("reject", "--signed-by", "Wang", "--reason", "drips", "--at", "2026-11-23 12:05"),
           ("complete", "--actions", "new pump", "--result", "dry after 1 h", "--part", "PUMP-1:1",
            "--at", "2026-11-23 13:00"),
           ("accept", "--signed-by", "Wang", "--at", "2026-11-23 13:10"),
           ("follow-up", "--satisfaction", "4", "--comments", "quick",
            "--at", "2026-11-25 10:00"))  # fmt: skip
    shown = ok("case", "show", "AS-2026-000001")
    for part in ("bring seals", "helmet, gloves", "seal (simple)",
                 "new pump -> dry after 1 h", "part PUMP-1 x 1", "by Wang: drips",
                 "signed by Wang", "satisfaction 4/5 by cs1: quick", "EX-350", "Hengli Mining",
                 "phone (reported by cs1)"):  # fmt: skip
        assert part in shown, part


def test_case_list_shows_and_filters_by_sla(workdir: Path) -> None:
    team()
    report()  # urgent: response within 30 minutes of 09:00
    ok("case", "report", "--customer", "Ltd", "--fault", "noise", "--severity", "minor",
       "--channel", "phone", "--by", "cs1", "--at", "2026-11-23 09:20")  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(ok("case", "list", "--now", "2026-11-23 09:26",
                                               "--format", "csv"))))  # fmt: skip
    assert [(r["number"], r["sla"]) for r in rows] == [
        ("AS-2026-000002", "running"), ("AS-2026-000001", "at_risk")]  # fmt: skip
    assert rows[1]["next due"] == "2026-11-23 09:30"
    risky = ok("case", "list", "--at-risk", "--now", "2026-11-23 09:26", "--format", "csv")
    assert [r["number"] for r in csv.DictReader(io.StringIO(risky))] == ["AS-2026-000001"]
    late = ok("case", "list", "--breached", "--now", "2026-11-23 09:26", "--format", "csv")
    assert list(csv.DictReader(io.StringIO(late))) == []
    late = ok("case", "list", "--breached", "--now", "2026-11-23 09:45", "--format", "json")
    assert [r["number"] for r in json.loads(late)] == ["AS-2026-000001"]
    assert json.loads(ok("case", "list", "--json"))[0]["number"] == "AS-2026-000002"


def test_case_sla_fits_a_100_column_terminal(workdir: Path) -> None:
    team()
    report()
    result = CliRunner().invoke(main, ["case", "sla", "AS-2026-000001", "--now",
                                       "2026-11-23 09:26"], env={"COLUMNS": "100"})  # fmt: skip
    lines = result.stdout.splitlines()
    assert result.exit_code == 0 and max(map(len, lines)) <= 100
    body = [line for line in lines if line.startswith("│")]
    assert len(body) == 5  # one line a clock: nothing wrapped
    assert any("30 minutes after reported" in line and "at_risk" in line for line in body)


def test_case_list_pages_newest_first(workdir: Path) -> None:
    team()
    with ServiceDesk(RULES / "default.policy", f"sqlite:///{workdir / 'data' / 'service.db'}") as d:
        for n in range(305):
            d.cases.report(customer={"name": f"C{n}"}, product={"model": "P"}, fault="f",
                           severity="minor", channel="phone", by="cs1",
                           at=datetime(2026, 11, 2, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
                           + timedelta(minutes=n))  # fmt: skip

    def numbers(*args: str) -> list[str]:
        return [r["number"] for r in json.loads(ok("case", "list", *args, "--format", "json"))]

    assert numbers("--limit", "2") == ["AS-2026-000305", "AS-2026-000304"]
    assert numbers("--limit", "2", "--page", "2") == ["AS-2026-000303", "AS-2026-000302"]
    assert numbers("--limit", "2", "--oldest-first") == ["AS-2026-000001", "AS-2026-000002"]
    assert len(numbers()) == 50 and len(numbers("--all")) == 305
    table = ok("case", "list", "--limit", "2")
    assert "page 1; --after AS-2026-000304 for the next 2, --all for every case" in table
    # the cursor: the page after a case, whatever was reported since
    assert numbers("--limit", "2", "--after", "AS-2026-000304") == ["AS-2026-000303",
                                                                     "AS-2026-000302"]  # fmt: skip
    assert numbers("--after", "AS-2026-000003") == ["AS-2026-000002", "AS-2026-000001"]
    assert numbers("--oldest-first", "--all", "--after", "AS-2026-000303") == [
        "AS-2026-000304", "AS-2026-000305"]  # fmt: skip
    table = ok("case", "list", "--limit", "2", "--after", "AS-2026-000304")
    assert "page after AS-2026-000304; --after AS-2026-000302 for the next 2" in table
    assert "--page 3 for the next 2" in ok("case", "list", "--limit", "2", "--page", "2")
    assert "no case numbered 'AS-2026-999999'" in fails("case", "list", "--after",
                                                        "AS-2026-999999")  # fmt: skip
    assert "not both" in fails("case", "list", "--after", "AS-2026-000003", "--page", "2")
    # every case streamed in each format: the same cases as the pages give
    every = numbers("--all")
    assert len(every) == 305 and every == sorted(every, reverse=True)
    csv_lines = ok("case", "list", "--all", "--format", "csv").splitlines()
    assert len(csv_lines) == 306 and csv_lines[1].startswith("AS-2026-000305,reported,")
    records = json.loads(ok("case", "list", "--all", "--json"))
    assert [r["number"] for r in records] == every and "events" not in records[0]
    assert json.loads(ok("case", "list", "--status", "closed", "--json")) == []
    assert ok("case", "list", "--status", "closed", "--format", "csv").splitlines() == [
        "number,status,priority,engineer,reported,customer,sla,next due"]  # fmt: skip
    plain = ok("case", "list", "--all").splitlines()  # past 300 rows: plain lines
    assert plain[0].split("\t")[0] == "number" and len(plain) == 306
    assert plain[1].split("\t")[:2] == ["AS-2026-000305", "reported"]
