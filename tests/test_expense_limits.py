"""Expense limits that do what they say (issue 22): an over-limit line flagged, capped at the
limit or refused as the policy chooses per category; a category the policy does not list
refused (or flagged, when it says so); reports of what was claimed, reimbursed and capped."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from conftest import RULES, add_team, desk_cli

from aftersales import PolicyError, ServiceDesk, ValidationError, parse_policy
from aftersales.testing import Outbox

DAY = date(2026, 11, 23)
POLICY = (
    (RULES / "default.policy")
    .read_text(encoding="utf-8")
    .replace(
        "  limit transport 2000 CNY per trip\n",
        "  limit transport 2000 CNY per trip, refuse\n  limit gifts 300 CNY per claim, cap\n"
        "  categories tolls\n",
    )
)


def line(category: str, amount: str, invoice: str, **extra: object) -> dict[str, object]:
    return {"category": category, "amount": amount, "date": DAY, "invoice": invoice, **extra}


@pytest.fixture
def desk(storage_url: str, outbox: Outbox) -> ServiceDesk:
    d = ServiceDesk(parse_policy(POLICY, "limits.policy"), storage_url, plugins=[outbox])
    add_team(d)
    d.staff.add(id="f1", name="Sun", roles=["finance"])
    return d


def paid(desk: ServiceDesk, lines: list[dict[str, object]], by: str = "e7") -> str:
    claim = desk.expenses.draft(lines, by=by)
    desk.expenses.submit(claim.id, by=by)
    desk.expenses.approve(claim.id, by="m1")
    desk.expenses.approve(claim.id, by="f1")
    return desk.expenses.pay(claim.id, by="f1").id


def test_a_capped_line_is_reimbursed_up_to_its_limit(desk: ServiceDesk) -> None:
    claim_id = paid(desk, [line("lodging", "900", "H1", nights=2),  # 400 a night: 800
                           line("meals", "100", "M1"),  # within 120 a day
                           line("gifts", "200", "G1"), line("gifts", "200", "G2")])  # fmt: skip
    claim = desk.expenses.get(claim_id)
    assert (claim.claimed, claim.reimbursed, claim.capped) == (D(1400), D(1200), D(200))
    # the per-claim cap of gifts (400 against 300) is shared by the two lines
    assert claim.reimbursed_lines() == (D(800), D(100), D(150), D(150))
    lodging, gifts = claim.findings
    assert (lodging.line, lodging.action, lodging.cut) == (1, "cap", D(100))
    assert lodging.rule == "limits.policy:75"  # the lodging line says cap
    assert (gifts.line, gifts.category, gifts.cut) == (None, "gifts", D(100))


def test_a_refused_line_never_becomes_a_claim(desk: ServiceDesk) -> None:
    with pytest.raises(ValidationError, match=r"line 1: transport 2500 is over the limit of "
                       r"2000 CNY per trip \(limits.policy:77\)"):  # fmt: skip
        desk.expenses.draft([line("transport", "2500", "T1")], by="e7")
    claim = desk.expenses.draft([line("transport", "1500", "T1")], by="e7")
    with pytest.raises(ValidationError, match="transport 2600"):
        desk.expenses.edit(claim.id, [line("transport", "2600", "T1")], by="e7")
    assert desk.expenses.get(claim.id).lines[0].amount == D(1500)  # the edit changed nothing
    assert len(desk.expenses.claims()) == 1


def test_an_unlisted_category_is_refused_by_default(desk: ServiceDesk) -> None:
    known = r"\(categories: lodging, meals, transport, gifts, tolls\)"
    with pytest.raises(ValidationError, match=r"karaoke is not an expense category .*" + known):
        desk.expenses.draft([line("karaoke", "9999", "K1")], by="e7")
    assert desk.expenses.claims() == []
    # a listed category without a limit is paid at cost
    claim = desk.expenses.get(paid(desk, [line("tolls", "480", "R1")]))
    assert claim.reimbursed == D(480) and claim.findings == ()


def test_unlisted_categories_flagged_when_the_policy_says_so(outbox: Outbox) -> None:
    text = POLICY.replace("  categories tolls\n", "  unlisted categories flag\n")
    desk = ServiceDesk(parse_policy(text, "flag.policy"), "memory://", plugins=[outbox])
    add_team(desk)
    desk.staff.add(id="f1", name="Sun", roles=["finance"])
    claim = desk.expenses.draft([line("karaoke", "9999", "K1")], by="e7")
    submitted = desk.expenses.submit(claim.id, by="e7")
    (finding,) = submitted.findings
    assert (finding.action, finding.rule, finding.cut) == ("flag", "flag.policy:79", D(0))
    assert submitted.reimbursed == D(9999)
    note = [n for n in outbox.notifications if n.kind == "expense_awaiting_approval"][-1]
    assert "karaoke is not an expense category" in note.data["findings"][0]


def test_over_limit_sets_what_a_limit_without_its_own_word_does() -> None:
    text = POLICY.replace("per trip, refuse", "per trip").replace(
        "  categories tolls\n", "  categories tolls\n  over limit refuse\n"
    )
    desk = ServiceDesk(parse_policy(text, "refuse.policy"), "memory://")
    add_team(desk)
    with pytest.raises(ValidationError, match=r"transport 2500 .*\(refuse.policy:80\)"):
        desk.expenses.draft([line("transport", "2500", "T1")], by="e7")
    # lodging says cap itself: over limit refuse does not reach it
    claim = desk.expenses.draft([line("lodging", "500", "H1")], by="e7")
    assert desk.expenses.check(claim)[0].action == "cap"


def test_the_cost_report_shows_claimed_reimbursed_and_capped(desk: ServiceDesk) -> None:
    paid(desk, [line("lodging", "900", "H1", nights=2)])
    paid(desk, [line("meals", "300", "M1")], by="e8")
    rows = {r["group"]: r for r in desk.expenses.report(date(2026, 11, 1), date(2026, 12, 1))}
    assert (rows["e7"]["claimed"], rows["e7"]["total"], rows["e7"]["capped"]) == (
        D(900), D(800), D(100))  # fmt: skip
    assert (rows["e8"]["claimed"], rows["e8"]["total"], rows["e8"]["capped"]) == (
        D(300), D(120), D(180))  # fmt: skip
    by_category = desk.expenses.report(date(2026, 11, 1), date(2026, 12, 1), by="category")
    assert [(r["group"], r["capped"]) for r in by_category] == [("lodging", D(100)),
                                                                 ("meals", D(180))]  # fmt: skip


@pytest.mark.parametrize(
    ("statement", "says"),
    [
        ("limit fuel 120 CNY per day, cao", 'did you mean "cap"?'),
        ("over limit halve", "expected one of"),
        ("unlisted categories cap", 'expected one of: "refuse", "flag"'),
        ("categories meals", "meals has a limit already"),
    ],
)
def test_expense_words_are_checked(statement: str, says: str) -> None:
    text = POLICY.replace("  categories tolls\n", f"  {statement}\n")
    with pytest.raises(PolicyError, match=r"bad\.policy:79") as err:
        parse_policy(text, "bad.policy")
    assert says in str(err.value)


def test_the_command_line_shows_claimed_and_reimbursed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "limits.policy").write_text(POLICY, encoding="utf-8")
    cli = desk_cli(tmp_path, monkeypatch, "limits.policy")

    for who, role in (("e7", "engineer"), ("m1", "manager"), ("f1", "finance")):
        cli("staff", "add", who, "--name", who, "--role", role)
    out = cli("expenses", "draft", "--line",
              "category=lodging,amount=900,date=2026-11-23,nights=2,invoice=H1", "--by", "e7",
              "--json")  # fmt: skip
    claim_id = json.loads(out)["id"]
    bad = cli("expenses", "draft", "--line",
              "category=karaoke,amount=9999,date=2026-11-23,invoice=K1", "--by", "e7",
              code=1)  # fmt: skip
    assert "karaoke is not an expense category" in bad
    assert "800 reimbursed" in cli("expenses", "submit", claim_id, "--by", "e7")
    cli("expenses", "approve", claim_id, "--by", "m1")
    cli("expenses", "approve", claim_id, "--by", "f1")
    shown = json.loads(cli("expenses", "show", claim_id, "--format", "json"))
    assert shown[0]["reimbursed"] == "800" and "limits.policy:75]" in shown[0]["finding"]
    listed = json.loads(cli("expenses", "list", "--format", "json"))
    assert (listed[0]["claimed"], listed[0]["reimbursed"]) == ("900", "800")
    report = json.loads(cli("expenses", "report", "--since", "2026-11-01", "--until",
                            "2026-12-01", "--format", "json"))  # fmt: skip
    assert (report[0]["claimed"], report[0]["reimbursed"], report[0]["capped"]) == (
        "900", "800", "100")  # fmt: skip
