"""Every action of the SDK has a command (issue 17): parts, expenses, training, safety and
appraisal ratings from the command line, with the SDK's permissions and errors, each printing
one line or, with --format json, the record it made."""

from __future__ import annotations

import csv
import io
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
    assert code == 0, (args, err)
    return out


def record(*args: str) -> dict:  # type: ignore[type-arg]
    return json.loads(ok(*args, "--format", "json"))  # type: ignore[no-any-return]


@pytest.fixture
def desk_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AFTERSALES_CONFIG", raising=False)
    (tmp_path / "aftersales.toml").write_text(
        f'policy = "{RULES / "default.policy"}"\nstorage = "sqlite:///d.db"\n', "utf-8"
    )
    for member, role in (("m1", "manager"), ("cs1", "service_agent"), ("e7", "engineer"),
                         ("sk1", "storekeeper"), ("f1", "finance")):  # fmt: skip
        ok("staff", "add", member, "--name", member.upper(), "--role", role)
    ok("case", "report", "--customer", "Hengli", "--fault", "leak", "--severity", "major",
       "--channel", "phone", "--by", "cs1", "--at", "2026-11-23 09:00")  # fmt: skip
    ok("case", "respond", "AS-2026-000001", "--by", "cs1", "--at", "2026-11-23 09:05")
    ok("case", "assign", "AS-2026-000001", "--engineer", "e7", "--by", "cs1",
       "--at", "2026-11-23 09:10")  # fmt: skip
    return tmp_path


def test_parts_from_purchase_to_the_case(desk_folder: Path) -> None:
    at = ("--at", "2026-11-23 10:00")
    ok("parts", "add-location", "WH", "--name", "Main warehouse", "--by", "sk1", *at)
    ok("parts", "add-location", "VAN7", "--name", "Chen's van", "--kind", "van",
       "--engineer", "e7", "--by", "sk1", *at)  # fmt: skip
    ok("parts", "add-supplier", "ACME", "--name", "Acme Seals", "--by", "sk1", *at)
    code, _, err = run("parts", "order", "ACME", "--line", "SEAL-9:20", "--by", "sk1", *at)
    assert code == 1  # not qualified yet, and no such part
    code, _, err = run("parts", "qualify", "ACME", "--by", "sk1", *at)
    assert code == 1 and "sk1" in err  # a manager qualifies
    ok("parts", "qualify", "ACME", "--by", "m1", *at)
    part = record("parts", "add-part", "SEAL-9", "--name", "Pump seal", "--category", "seals",
                  "--unit-cost", "12.50", "--reorder-point", "5", "--by", "sk1", *at)  # fmt: skip
    assert part["unit_cost"] == "12.50"
    po = record("parts", "order", "ACME", "--line", "SEAL-9:20", "--by", "sk1", *at)
    code, _, err = run("parts", "receive", "SEAL-9", "20", "--location", "WH", "--supplier",
                       "ACME", "--check", "quantity=yes", "--by", "sk1", *at)  # fmt: skip
    assert code == 1 and "specification" in err  # every check the policy names
    out = ok("parts", "receive", "SEAL-9", "20", "--location", "WH", "--supplier", "ACME",
             "--check", "quantity=yes", "--check", "specification=yes", "--check", "quality=yes",
             "--po", po["id"], "--by", "sk1", *at)  # fmt: skip
    assert out.strip() == "SEAL-9: 20 on hand at WH"
    req = record("parts", "request", "AS-2026-000001", "--line", "SEAL-9:3", "--by", "e7", *at)
    assert req["status"] == "approved"  # 37.50 CNY: under the manager's 2000
    ok("parts", "issue", req["id"], "--from", "WH", "--by", "sk1", *at)
    ok("parts", "return", "AS-2026-000001", "--line", "SEAL-9:1", "--to", "WH", "--by", "e7", *at)
    ok("parts", "transfer", "SEAL-9", "2", "--from", "WH", "--to", "VAN7", "--by", "sk1", *at)
    ok("parts", "scrap", "SEAL-9", "1", "--location", "WH", "--reason", "torn", "--by", "sk1",
       *at)  # fmt: skip
    stock = {(r["location"]): int(r["on_hand"]) for r in csv.DictReader(
        io.StringIO(ok("parts", "stock", "--format", "csv")))}  # fmt: skip
    assert stock == {"WH": 15, "VAN7": 4}
    sheet = record("parts", "count", "WH", "--item", "SEAL-9=14", "--by", "sk1", *at)
    assert [(li["sku"], li["counted"]) for li in sheet["lines"]] == [("SEAL-9", 14)]
    ok("parts", "settle", sheet["id"], "--reason", "miscount", "--approved-by", "m1",
       "--by", "sk1", *at)  # fmt: skip
    moves = json.loads(ok("parts", "movements", "SEAL-9", "--format", "json"))
    assert {m["case"] for m in moves if m["case"]} == {"AS-2026-000001"}  # numbers, not ids
    assert [m["type"] for m in moves][-1] == "adjusted"
    code, _, err = run("parts", "request", "AS-2026-000001", "--line", "SEAL-9", "--by", "e7")
    assert code == 1 and "write SKU:QUANTITY" in err


def test_an_expense_claim_from_draft_to_paid(desk_folder: Path) -> None:
    at = ("--at", "2026-11-26 09:00")
    claim = record("expenses", "draft", "--line",
                   "category=lodging,amount=900,date=2026-11-24,nights=2,invoice=HZ-17",
                   "--line", "category=transport,amount=120,currency=USD,rate=7.10,"
                   "date=2026-11-23,invoice=UA-88812",
                   "--case", "AS-2026-000001", "--by", "e7", *at)  # fmt: skip
    assert claim["status"] == "draft" and len(claim["lines"]) == 2
    out = ok("expenses", "submit", claim["id"], "--by", "e7", *at)
    assert out.startswith(f"claim {claim['id']}: submitted, 1752.00") and "manager" in out
    code, _, err = run("expenses", "approve", claim["id"], "--by", "e7", *at)
    assert code == 1  # nobody approves their own claim
    ok("expenses", "reject", claim["id"], "--reason", "receipt unreadable", "--by", "m1", *at)
    code, _, err = run("expenses", "draft", "--line", "lodging 900", "--by", "e7")
    assert code == 1 and "write NAME=VALUE" in err
    again = record("expenses", "draft", "--line", "category=meals,amount=85,date=2026-11-24,"
                   "invoice=M-1", "--by", "e7", *at)  # fmt: skip
    ok("expenses", "submit", again["id"], "--by", "e7", *at)
    ok("expenses", "approve", again["id"], "--by", "m1", *at)
    ok("expenses", "approve", again["id"], "--by", "f1", *at)
    paid = record("expenses", "pay", again["id"], "--by", "f1", *at)
    assert paid["status"] == "paid"
