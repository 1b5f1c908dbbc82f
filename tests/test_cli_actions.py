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

PO = ("--promised", "2026-12-10", "--terms", "30 days net")


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
    code, _, err = run(
        "parts", "order", "ACME", "--line", "SEAL-9:20@12.50", *PO, "--by", "sk1", *at
    )
    assert code == 1  # not qualified yet, and no such part
    code, _, err = run("parts", "qualify", "ACME", "--by", "sk1", *at)
    assert code == 1 and "sk1" in err  # a manager qualifies
    ok("parts", "qualify", "ACME", "--by", "m1", *at)
    part = record("parts", "add-part", "SEAL-9", "--name", "Pump seal", "--category", "seals",
                  "--unit-cost", "12.50", "--reorder-point", "5", "--by", "sk1", *at)  # fmt: skip
    assert part["unit_cost"] == "12.50"
    po = record("parts", "order", "ACME", "--line", "SEAL-9:20@12.50", *PO, "--by", "sk1", *at)
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
    # a second order, promised for the 24th, comes on the 25th with three seals sent back
    code, _, err = run("parts", "order", "ACME", "--line", "SEAL-9:20", *PO, "--by", "sk1", *at)
    assert code == 1 and "SKU:QUANTITY@UNIT_PRICE" in err
    late = record("parts", "order", "ACME", "--line", "SEAL-9:10@13", "--promised", "2026-11-24",
                  "--terms", "60 days net", "--currency", "EUR", "--by", "sk1", *at)  # fmt: skip
    assert (late["currency"], late["payment_terms"], late["promised"]) == (
        "EUR", "60 days net", "2026-11-24")  # fmt: skip
    ok("parts", "receive-order", late["id"], "--line", "SEAL-9:10", "--accepted", "SEAL-9:7",
       "--reason", "dented", "--location", "WH", "--check", "quantity=yes",
       "--check", "specification=yes", "--check", "quality=no",
       "--by", "sk1", "--at", "2026-11-25 10:00")  # fmt: skip
    orders = {o["order"]: o for o in json.loads(ok("parts", "orders", "--format", "json"))}
    assert (orders[late["id"]]["total"], orders[late["id"]]["late_deliveries"]) == ("130", 1)
    assert orders[po["id"]]["late_deliveries"] == 0
    (acme,) = json.loads(ok("parts", "suppliers", "--to-review", "--format", "json"))
    assert (acme["late_rate"], acme["rejected_rate"]) == ("50.0%", "10.0%")
    assert acme["review_due"].startswith("yes (")
    code, _, err = run("parts", "review-supplier", "ACME", "--decision", "disqualify",
                       "--reason", "late", "--by", "sk1")  # fmt: skip
    assert code == 1 and "manager" in err
    out = ok("parts", "review-supplier", "ACME", "--decision", "disqualify", "--reason",
             "half the deliveries late", "--by", "m1")  # fmt: skip
    assert "not qualified (late 50.0%, rejected 10.0%)" in out
    (shown,) = json.loads(ok("parts", "supplier", "ACME", "--format", "json"))
    assert (shown["qualified"], shown["reviews"]) == ("no", 1)


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


def test_training_from_plan_to_certificate(desk_folder: Path) -> None:
    ok("training", "add-course", "HYD-26", "--title", "Hydraulics", "--year", "2026", "--area",
       "repair_skills", "--method", "internal", "--trainer", "m1", "--certificate", "HYD",
       "--by", "m1", "--at", "2026-01-05 09:00")  # fmt: skip
    session = record("training", "schedule", "HYD-26", "--starts-at", "2026-03-02 09:00",
                     "--hours", "16", "--place", "Plant 2", "--by", "m1",
                     "--at", "2026-01-05 09:05")  # fmt: skip
    assert session["id"] == "HYD-26/1"
    ok("training", "enroll", "HYD-26/1", "--staff", "e7", "--by", "m1", "--at", "2026-01-06 09:00")
    ok("training", "attend", "HYD-26/1", "--present", "e7", "--by", "m1",
       "--at", "2026-03-03 17:00")  # fmt: skip
    code, _, err = run("training", "assess", "e7", "--certificate", "HYD", "--score", "theory=x",
                       "--by", "m1")  # fmt: skip
    assert code == 1 and "a number" in err
    out = ok("training", "assess", "e7", "--certificate", "HYD", "--score", "theory=80",
             "--score", "practical=70", "--score", "case_study=90", "--by", "m1",
             "--at", "2026-03-04 10:00")  # fmt: skip
    assert out.strip() == "e7 passed HYD with 78"
    assert "HYD" in ok("training", "record", "e7")


def test_safety_tools_and_incidents(desk_folder: Path) -> None:
    ok("safety", "add-tool", "TW-1", "--name", "Torque wrench", "--inspected", "2026-01-10",
       "--by", "sk1", "--at", "2026-11-23 09:00")  # fmt: skip
    code, _, err = run("safety", "check-out", "TW-1", "--engineer", "e7", "--by", "sk1",
                       "--at", "2026-11-23 09:30")  # fmt: skip
    assert code == 1 and "inspection" in err  # six months since: overdue
    ok("safety", "inspect", "TW-1", "--by", "sk1", "--at", "2026-11-23 10:00")
    out = ok("safety", "check-out", "TW-1", "--engineer", "e7", "--by", "sk1",
             "--at", "2026-11-23 10:05")  # fmt: skip
    assert out.strip() == "tool TW-1: check out, with e7"
    ok("safety", "check-in", "TW-1", "--by", "sk1", "--at", "2026-11-23 16:00")
    incident = record(
        "safety",
        "incident",
        "--happened-at",
        "2026-11-20 14:00",
        "--severity",
        "minor",
        "--description",
        "cut finger on a seal",
        "--person",
        "e7",
        "--case",
        "AS-2026-000001",
        "--by",
        "e7",
        "--at",
        "2026-11-23 09:00",
    )
    assert incident["late"] is True  # over 24 hours after
    ok("safety", "add-action", incident["id"], "--description", "cut-resistant gloves",
       "--owner", "sk1", "--by", "m1", "--at", "2026-11-23 11:00")  # fmt: skip
    assert incident["id"] in ok("safety", "incidents", "--open")
    ok("safety", "complete-action", incident["id"], "0", "--by", "sk1",
       "--at", "2026-11-24 11:00")  # fmt: skip
    assert incident["id"] not in ok("safety", "incidents", "--open")


def test_ratings_and_review_decisions(desk_folder: Path) -> None:
    out = ok("appraise", "rate", "e7", "--period", "2026-11", "--source", "supervisor",
             "--indicator", "skills", "--score", "80", "--comment", "clean welds", "--by", "m1",
             "--at", "2026-11-30 17:00")  # fmt: skip
    assert out.strip() == "e7 rated 80 on skills by supervisor"
    code, _, err = run(
        "appraise",
        "rate",
        "e7",
        "--period",
        "2026-11",
        "--source",
        "supervisor",
        "--indicator",
        "skills",
        "--score",
        "90",
        "--by",
        "e7",
    )
    assert code == 1  # never one's own supervisor
    code, _, err = run("appraise", "decide-review", "e7", "--period", "2026-11", "--decision",
                       "retain", "--reason", "improving", "--by", "m1")  # fmt: skip
    assert code == 1 and "review" in err  # none is open
    assert json.loads(ok("appraise", "reviews", "--format", "json")) == []


def test_adjustments_deliveries_edits_and_rotations(desk_folder: Path) -> None:
    at = ("--at", "2026-11-23 10:00")
    ok("parts", "add-location", "WH", "--name", "Main", "--by", "sk1", *at)
    ok("parts", "add-supplier", "ACME", "--name", "Acme", "--by", "sk1", *at)
    ok("parts", "qualify", "ACME", "--by", "m1", *at)
    ok("parts", "add-part", "SEAL-9", "--name", "Seal", "--category", "seals", "--unit-cost",
       "12.50", "--by", "sk1", *at)  # fmt: skip
    po = record("parts", "order", "ACME", "--line", "SEAL-9:10@12.50", *PO, "--by", "sk1", *at)
    checks = ("--check", "quantity=yes", "--check", "specification=yes", "--check", "quality=y")
    out = ok("parts", "receive-order", po["id"], "--line", "SEAL-9:10", "--location", "WH",
             *checks, "--by", "sk1", *at)  # fmt: skip
    assert out.strip() == f"order {po['id']}: 1 part(s) received at WH"
    code, _, _ = run("parts", "adjust", "SEAL-9", "1", "--location", "WH", "--decrease",
                       "--reason", "lost", "--approved-by", "sk1", "--by", "sk1", *at)  # fmt: skip
    assert code == 1  # never one's own approval
    out = ok("parts", "adjust", "SEAL-9", "1", "--location", "WH", "--decrease", "--reason",
             "lost", "--approved-by", "m1", "--by", "sk1", *at)  # fmt: skip
    assert out.strip() == "SEAL-9: 9 on hand at WH"
    claim = record("expenses", "draft", "--line", "category=meals,amount=85,date=2026-11-20",
                   "--by", "e7", *at)  # fmt: skip
    edited = record(
        "expenses",
        "edit",
        claim["id"],
        "--line",
        "category=meals,amount=95,date=2026-11-20,invoice=M-9",
        "--by",
        "e7",
        *at,
    )
    assert edited["lines"][0]["amount"] == "95"
    ok("staff", "rotate", "e7", "--to", "parts store", "--start", "2026-12-01 09:00", "--by", "m1")
    out = ok("staff", "end-rotation", "e7", "--end", "2026-12-20 17:00", "--by", "m1")
    assert out.strip() == "e7's rotation to parts store ends 2026-12-20 17:00"


# every action of the SDK (a method taking by=) and the command that takes it, where the
# name differs; and the few that are not actions of their own, with why
RENAMED = {
    "cases.reapply_policy": "policy apply",
    "parts.return_parts": "parts return",
    "safety.checklist": "case checklist",
    "safety.report_incident": "safety incident",
}
NOT_COMMANDS = {"parts.consumption": "part of case complete, in the repair's own transaction"}
GROUPS = {"cases": "case", "parts": "parts", "expenses": "expenses", "training": "training",
          "safety": "safety", "appraisals": "appraise", "staff": "staff",
          "notifications": "notifications", "sla": "sla", "complaints": "complaints",
          "product_problems": "product-problems"}  # fmt: skip


def test_every_action_of_the_sdk_has_a_command() -> None:
    import inspect

    import click

    from aftersales import ServiceDesk

    desk = ServiceDesk(RULES / "default.policy", "memory://")
    missing = []
    for attr, group in GROUPS.items():
        for name, method in inspect.getmembers(getattr(desk, attr), callable):
            if name.startswith("_") or "by" not in inspect.signature(method).parameters:
                continue
            key = f"{attr}.{name}"
            if key in NOT_COMMANDS:
                continue
            path = RENAMED.get(key, f"{group} {name.replace('_', '-')}").split()
            command: click.Command | None = main
            for part in path:
                # get_command loads a built-in command's module (commands load when used)
                found = command.get_command(click.Context(command), part) if isinstance(
                    command, click.Group) else None  # fmt: skip
                command = found
            if command is None:
                missing.append(key)
    assert missing == []


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["parts", "order", "ACME", "--line", "SEAL-9:0@1", *PO, "--by", "sk1"], "ACME"),
        (["parts", "count", "WH", "--item", "SEAL-9=-3", "--by", "sk1"], "whole number"),
        (
            [
                "expenses",
                "draft",
                "--line",
                "category=<b>x</b>,amount=NaN,date=9999-12-31",
                "--by",
                "e7",
            ],
            "finite number",
        ),
        (
            [
                "expenses",
                "draft",
                "--line",
                "category=meals,amount=1e30,date=2026-11-01",
                "--by",
                "e7",
            ],
            "too large",
        ),
        (
            [
                "training",
                "schedule",
                "X",
                "--starts-at",
                "2026-01-01",
                "--hours",
                "nan",
                "--by",
                "m1",
            ],
            "a number",
        ),
        (
            [
                "appraise",
                "rate",
                "e7",
                "--period",
                "2026-13",
                "--source",
                "supervisor",
                "--indicator",
                "skills",
                "--score",
                "-1",
                "--by",
                "m1",
            ],
            "YYYY-MM",
        ),
        (
            [
                "safety",
                "incident",
                "--happened-at",
                "9999-12-31",
                "--severity",
                "minor",
                "--description",
                "x",
                "--by",
                "e7",
            ],
            "out of range",
        ),
        (
            ["safety", "add-tool", "T", "--name", "x", "--inspected", "garbage", "--by", "sk1"],
            "cannot read 'garbage' as a time",
        ),
        (["case", "list", "--page", "99999999"], "past a billion cases"),
        (["parts", "qualify", "ACME", "--by", "nobody"], "nobody"),
    ],
)
def test_hostile_values_get_one_line_and_change_nothing(
    desk_folder: Path, args: list[str], said: str
) -> None:
    before = (desk_folder / "d.db").read_bytes()
    code, out, err = run(*args)
    assert code == 1 and said in err and "Traceback" not in err + out
    assert len(err.strip().splitlines()) == 1
    assert (desk_folder / "d.db").read_bytes() == before
