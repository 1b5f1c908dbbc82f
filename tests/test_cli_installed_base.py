"""Issue 19 from the command line: ``aftersales customers|machines|contracts|maintenance``
and a report by serial, on each store (a named memory store lives as long as the process,
which runs every command here)."""

from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path

import pytest
from conftest import RULES, T0, add_team
from test_cli_cases import fails, ok

from aftersales import ServiceDesk

POLICY = (RULES / "default.policy").read_text("utf-8") + (
    "\nsales warranty 24 months or 2000 operating hours for line excavator\n"
)


def project(folder: Path, policy: str, url: str) -> None:
    """An aftersales.toml for ``policy`` on the store ``url``, with the team on it."""
    if url == "memory://":
        url = f"memory://cli-{uuid.uuid4().hex}"
    (folder / "base.policy").write_text(policy, "utf-8")
    (folder / "aftersales.toml").write_text(f'policy = "base.policy"\nstorage = "{url}"\n', "utf-8")
    with ServiceDesk(folder / "base.policy", url) as desk:
        add_team(desk)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, storage_url: str) -> Path:
    monkeypatch.chdir(tmp_path)
    project(tmp_path, POLICY, storage_url)
    return tmp_path


def test_customers_machines_and_contracts_end_to_end(workdir: Path) -> None:
    sites = json.dumps([{"id": "Q1", "address": "Quarry 1"}])
    contacts = json.dumps([{"name": "Wang", "phone": "+86 138", "consent": True}])
    assert "customer HL recorded" in ok("customers", "add", "--id", "HL", "--name",
                                        "Hengli Mining", "--tier", "gold", "--sites", sites,
                                        "--contacts", contacts, "--by", "cs1")  # fmt: skip
    ok("machines", "add", "EX-1", "--model", "EX-350", "--line", "excavator", "--customer", "HL",
       "--site", "Q1", "--commissioned", "2026-01-10", "--hours", "400", "--by", "cs1",
       "--at", T0.isoformat())  # fmt: skip
    ok("machines", "reading", "EX-1", "650", "--by", "e7", "--at", "2026-11-23T10:00")
    shown = ok("machines", "show", "EX-1")
    assert "650 h at 2026-11-23 10:00 (2 readings)" in shown
    assert "sales warranty of EX-1: until 2028-01-10" in shown
    listed = list(csv.DictReader(io.StringIO(ok("machines", "list", "--format", "csv"))))
    assert [(r["serial"], r["customer"], r["hours"], r["warranty"]) for r in listed] == [
        ("EX-1", "HL", "650", "yes")
    ]
    assert "contract SC-000001 recorded for HL" in ok(
        "contracts", "add", "--customer", "HL", "--level", "premium", "--starts", "2026-01-01",
        "--ends", "2026-12-31", "--covers", "labour", "--response", "4h", "--by", "cs1",
    )  # fmt: skip
    customer = ok("customers", "show", "hengli mining")
    assert "contact Wang" in customer and "contracts: SC-000001" in customer
    assert "machines: EX-1" in customer
    report = json.loads(ok("case", "report", "--serial", "EX-1", "--fault", "boom down",
                           "--severity", "major", "--channel", "phone", "--by", "cs1",
                           "--json"))  # fmt: skip
    assert report["customer"]["id"] == "HL" and report["product"]["model"] == "EX-350"
    assert report["coverage"]["kind"] == "sales_warranty"
    assert report["contract"]["id"] == "SC-000001"
    case = ok("case", "show", report["number"])
    assert "coverage" in case and "sales warranty: sales warranty of EX-1" in case
    assert "SC-000001 (premium, response 4h)" in case
    history = ok("machines", "history", "EX-1", "--format", "csv")
    assert "commissioned" in history and report["number"] in history
    ok("contracts", "cancel", "SC-000001", "--on", "2026-12-01", "--reason", "sold", "--by", "m1")
    assert "2026-12-01" in ok("contracts", "list")


def test_mistakes_are_one_line_each(workdir: Path) -> None:
    assert "not a date" in fails("machines", "add", "X-1", "--commissioned", "yesterday",
                                 "--by", "cs1")  # fmt: skip
    assert "--sites: not JSON" in fails("customers", "add", "--name", "A", "--sites", "[{",
                                        "--by", "cs1")  # fmt: skip
    assert "no machine 'NOPE'" in fails("machines", "show", "NOPE")
    assert "no customer with the id, key or name 'ghost'" in fails("customers", "show", "ghost")
    err = fails("case", "report", "--serial", "NOPE", "--fault", "x", "--severity", "major",
                "--channel", "phone", "--by", "cs1")  # fmt: skip
    assert "customer is required" in err and "Traceback" not in err
    assert "go with --customer" in fails("case", "report", "--tier", "gold", "--fault", "x",
                                         "--severity", "major", "--channel", "phone",
                                         "--by", "cs1")  # fmt: skip


def test_import_adds_updates_and_names_every_row_it_leaves_out(workdir: Path) -> None:
    (workdir / "base.csv").write_text(
        "serial,model,line,customer,customer_key,site,commissioned,hours\n"
        "EX-1,EX-350,excavator,Hengli Mining,ERP-1,,2025-03-01,1200\n"
        "EX-2,EX-350,excavator,Hengli Mining,,,2025-04-01,\n"
        "EX-3,EX-350,excavator,Dalian Port,,,not-a-date,\n"
        "EX-1,EX-350,excavator,Hengli Mining,,,2025-03-01,\n"
        "EX-4,EX-350,excavator,Dalian Port,,,2025-05-01,-5\n"
        ",EX-350,excavator,Dalian Port,,,,\n"
        "EX-5,EX-350,excavator,Dalian Port,,Q9,,\n",
        "utf-8",
    )
    out = ok("machines", "import", "base.csv", "--by", "cs1")
    assert "2 machines added, 0 updated, 1 customers created, 5 rows left out" in out
    assert "line 4 (EX-3): commissioned 'not-a-date' is not a date" in out
    assert "line 5 (EX-1): serial EX-1 appears twice in the file" in out
    assert "line 6 (EX-4)" in out and "line 7 (no serial)" in out
    assert "line 8 (EX-5)" in out and "has no site 'Q9'" in out
    (workdir / "again.csv").write_text("serial,hours,model\nEX-1,1300,EX-360\n", "utf-8")
    assert "0 machines added, 1 updated" in ok("machines", "import", "again.csv", "--by", "cs1")
    shown = ok("machines", "show", "EX-1")
    assert "EX-360" in shown and "1300 h" in shown
    (workdir / "wrong.csv").write_text("serial,colour\nEX-9,red\n", "utf-8")
    assert "unknown column 'colour'" in fails("machines", "import", "wrong.csv", "--by", "cs1")


def test_maintenance_due_plan_and_the_tick_that_opens_visits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, storage_url: str
) -> None:
    policy = POLICY + ('maintenance "yearly" for line excavator every 1 year { window 5 days }\n')
    monkeypatch.chdir(tmp_path)
    project(tmp_path, policy, storage_url)
    ok("customers", "add", "--id", "HL", "--name", "Hengli Mining", "--by", "cs1")
    ok("machines", "add", "EX-1", "--line", "excavator", "--customer", "HL",
       "--commissioned", "2025-12-10", "--by", "cs1", "--at", T0.isoformat())  # fmt: skip
    ok("machines", "add", "EX-2", "--line", "excavator", "--commissioned", "2025-01-10",
       "--by", "cs1", "--at", T0.isoformat())  # fmt: skip
    due = list(csv.DictReader(io.StringIO(ok("maintenance", "due", "--now", "2026-11-23T09:00",
                                             "--within", "30", "--format", "csv"))))  # fmt: skip
    assert [(r["serial"], r["due"], r["state"]) for r in due] == [
        ("EX-2", "2026-01-10 00:00", "overdue"),
        ("EX-1", "2026-12-10 00:00", "coming"),
    ]
    ok("sla", "tick", "--now", "2026-12-10T09:00")
    plan = list(csv.DictReader(io.StringIO(ok("maintenance", "plan", "EX-1", "--format", "csv"))))
    assert plan[0]["plan"] == "yearly" and plan[0]["open_case"].startswith("AS-2026-")
    assert "1 machines have a next visit dated" in ok("maintenance", "plan", "--reschedule")
    assert "name a machine's SERIAL" in fails("maintenance", "plan")
