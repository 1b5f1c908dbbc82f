"""Complaints, product problems and the feedback digest (issue 20), through the API on each
store and through the command line."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import REPORT, RULES, T0, add_team, at, run_to
from test_cli_actions import ok, run

from aftersales import (
    PermissionDenied,
    ServiceDesk,
    ValidationError,
    WorkflowError,
    parse_policy,
)
from aftersales.plugins.metrics import complaint_free
from aftersales.testing import Outbox


@pytest.fixture
def team(storage_url: str) -> tuple[ServiceDesk, Outbox]:
    outbox = Outbox()
    desk = ServiceDesk(RULES / "default.policy", storage_url, plugins=[outbox])
    add_team(desk)
    desk.staff.add(id="s1", name="Sun", roles=["supervisor"], supervisor="m1", at=T0)
    desk.staff.add(id="pt1", name="Pan", roles=["product_team"], at=T0)
    return desk, outbox


def test_a_complaint_from_a_call_to_its_confirmed_closure(
    team: tuple[ServiceDesk, Outbox],
) -> None:
    desk, outbox = team
    case = run_to(desk, "accepted")
    complaint = desk.complaints.open(source="call", summary="engineer came late twice",
                                     case=case.id, by="cs1", at=at(300))  # fmt: skip
    assert complaint.id == "CP-000001" and complaint.status == "open"
    assert complaint.owner == "m1"  # the supervisor of the case's engineer
    assert complaint.staff == ("e7",) and complaint.case_number == case.number
    assert complaint.customer == "Hengli Mining"
    # 1 working day: the report came at 14:00 Monday, so 14:00 Tuesday; 5 working days
    assert complaint.respond_by == at(300) + timedelta(days=1)
    assert complaint.resolve_by == at(300) + timedelta(days=7)  # over the weekend
    assert complaint.rule is not None and complaint.rule.endswith("default.policy:130")
    [note] = outbox.of("complaint_opened")
    assert note.recipients == ("m1",)
    with pytest.raises(PermissionDenied):
        desk.complaints.respond(complaint.id, response="sorry", by="cs1", at=at(310))
    desk.complaints.reassign(complaint.id, owner="s1", by="m1", at=at(305))
    desk.complaints.respond(complaint.id, response="we are sorry; a second van from Monday",
                            by="s1", at=at(310))  # fmt: skip
    with pytest.raises(WorkflowError, match="cannot respond complaint CP-000001"):
        desk.complaints.respond(complaint.id, response="again", by="s1", at=at(311))
    desk.complaints.resolve(complaint.id, root_cause="one van for the north",
                            corrective_action="second van", by="s1", at=at(400))  # fmt: skip
    back = desk.complaints.confirm(complaint.id, confirmed_by="Wang", satisfied=False,
                                   by="cs1", at=at(500))  # fmt: skip
    assert back.status == "responded" and back.returned == 1
    desk.complaints.resolve(complaint.id, root_cause="one van for the north",
                            corrective_action="second van and a stand-by engineer", by="m1",
                            at=at(600))  # fmt: skip
    closed = desk.complaints.confirm(complaint.id, confirmed_by="Wang", by="cs1", at=at(700))
    assert closed.status == "closed" and closed.confirmed_by == "Wang"
    assert closed.closed_at == at(700)
    assert desk.complaints.list(status="closed") == [closed]
    assert desk.complaints.list(staff="e7", opened_in="2026-11") == [closed]
    assert desk.complaints.list(case="nope") == []


def test_the_policy_opens_complaints_for_low_scores_and_repeated_rejections(
    team: tuple[ServiceDesk, Outbox],
) -> None:
    desk, _ = team
    case = run_to(desk, "repaired")
    for n in (1, 2):
        desk.cases.reject(case.id, signed_by="Wang", reason=f"still leaks ({n})", by="e7",
                          at=at(210 + 20 * n))  # fmt: skip
        desk.cases.complete(case.id, by="e7", actions="again", result="ok", at=at(220 + 20 * n))
    [rejected] = desk.complaints.list()
    assert (rejected.id, rejected.source) == (f"CP-{case.number}-rejection", "rejection")
    assert "rejected 2 times: still leaks (2)" in rejected.summary
    assert rejected.trigger is not None and rejected.trigger.endswith("default.policy:131")
    desk.cases.accept(case.id, signed_by="Wang", by="e7", at=at(300))
    desk.cases.follow_up(case.id, by="cs1", satisfaction=2, comments="too slow", at=at(400))
    low = desk.complaints.get(f"CP-{case.number}-survey")
    assert low.summary == "satisfaction 2 of 5: too slow" and low.staff == ("e7",)
    other = run_to(desk, "followed_up")  # satisfaction 5: nothing
    assert desk.complaints.list(case=other.id) == []


def test_overdue_complaints_are_reminded_once_by_the_tick(
    team: tuple[ServiceDesk, Outbox],
) -> None:
    desk, outbox = team
    made = desk.complaints.open(source="escalation", summary="manager asked", by="m1",
                                customer="Hengli Mining", at=at(0))  # fmt: skip
    assert made.owner == "m1" and made.case_id is None
    desk.sla.tick(at(60))
    assert outbox.of("complaint_respond_overdue") == []
    desk.sla.tick(made.respond_by + timedelta(minutes=1))  # type: ignore[operator]
    desk.sla.tick(made.respond_by + timedelta(minutes=2))  # type: ignore[operator]
    [late] = outbox.of("complaint_respond_overdue")
    assert late.recipients == ("m1",) and "not respondd" not in late.subject
    desk.complaints.respond(made.id, response="called back", by="m1", at=at(3000))
    desk.sla.tick(made.resolve_by + timedelta(minutes=1))  # type: ignore[operator]
    assert len(outbox.of("complaint_resolve_overdue")) == 1
    assert [c.id for c in desk.complaints.overdue(made.resolve_by)] == [made.id]


def test_complaint_input_is_checked(team: tuple[ServiceDesk, Outbox]) -> None:
    desk, _ = team
    with pytest.raises(ValidationError, match="source is one of call, survey"):
        desk.complaints.open(source="twitter", summary="x", customer="A", by="cs1", at=at(0))
    with pytest.raises(ValidationError, match="name the case"):
        desk.complaints.open(source="call", summary="x", by="cs1", at=at(0))
    with pytest.raises(PermissionDenied):
        desk.complaints.open(source="call", summary="x", customer="A", by="e7", at=at(0))
    with pytest.raises(ValidationError, match="status is one of"):
        desk.complaints.list(status="lost")


def test_without_complaint_rules_complaints_have_no_deadlines_and_nothing_opens_itself() -> None:
    text = "\n".join(line for line in (RULES / "default.policy").read_text("utf-8").splitlines()
                     if not line.startswith("complaint"))  # fmt: skip
    desk = ServiceDesk(parse_policy(text, "plain.policy"))
    add_team(desk)
    case = run_to(desk, "accepted")
    desk.cases.follow_up(case.id, by="cs1", satisfaction=1, at=at(400))
    assert desk.complaints.list() == []
    made = desk.complaints.open(source="call", summary="x", case=case.id, by="cs1", at=at(500))
    assert made.respond_by is None and made.owner == "m1"


# ---- product problems -------------------------------------------------------------------
def test_product_problems_are_grouped_and_the_product_team_hears_the_count(
    team: tuple[ServiceDesk, Outbox],
) -> None:
    desk, outbox = team
    first = run_to(desk, "on_site")
    with pytest.raises(PermissionDenied):
        desk.product_problems.record(first.id, evidence="crack", by="e8", at=at(125))
    made = desk.product_problems.record(first.id, evidence="hairline crack at the weld",
                                        part="BOOM-1", by="e7", at=at(125))  # fmt: skip
    assert (made.model, made.fault, made.serial) == ("EX-350", "HYD-PUMP", "EX350-0192")
    second = run_to(desk, "on_site", product={"model": "EX-350", "serial": "EX350-0200"})
    desk.product_problems.record(second.id, evidence="same crack", part="BOOM-1", by="e7",
                                 at=at(126))  # fmt: skip
    third = run_to(desk, "on_site", product={"model": "EX-200"}, fault_code="ELEC")
    desk.product_problems.record(third.id, evidence="loom chafed", by="s1", at=at(127))
    [big, small] = desk.product_problems.groups()
    assert (big.model, big.fault, big.count, big.parts) == ("EX-350", "HYD-PUMP", 2,
                                                            (("BOOM-1", 2),))  # fmt: skip
    assert big.cases == (first.number, second.number)
    assert (small.model, small.fault, small.count) == ("EX-200", "ELEC", 1)
    notes = outbox.of("product_problem")
    assert [n.data["count"] for n in notes] == [1, 2, 1]
    assert set(notes[0].recipients) == {"pt1", "m1"}  # product problems to product_team, manager
    assert "2 reported so far" in notes[1].subject
    with pytest.raises(ValidationError, match="evidence"):
        desk.product_problems.record(first.id, evidence="", by="e7", at=at(128))


# ---- the feedback digest ----------------------------------------------------------------
def test_the_digest_per_fault_code_model_customer_and_engineer(
    team: tuple[ServiceDesk, Outbox],
) -> None:
    desk, outbox = team
    october = T0 - timedelta(days=30)
    old = desk.cases.report(**REPORT, by="cs1", at=october)
    desk.cases.respond(old.id, by="cs1", at=october + timedelta(minutes=5))
    good = run_to(desk, "followed_up")  # satisfaction 5 in November
    bad = run_to(desk, "repaired", product={"model": "EX-200"}, fault_code="ELEC")
    desk.cases.reject(bad.id, signed_by="W", reason="no", by="e7", at=at(205))
    desk.cases.complete(bad.id, by="e7", actions="again", result="ok", at=at(206))
    desk.cases.accept(bad.id, signed_by="W", by="e7", at=at(207))
    desk.cases.follow_up(bad.id, by="cs1", satisfaction=1, at=at(400))  # opens a complaint
    by_code = {r.key: r for r in desk.feedback.digest("2026-11")}
    assert by_code["ELEC"].complaints == 1 and by_code["ELEC"].rejections == 1
    assert by_code["ELEC"].satisfaction == 1
    assert by_code["HYD-PUMP"].cases == 1 and by_code["HYD-PUMP"].satisfaction == 5
    assert next(iter(by_code)) == "ELEC"  # the most troubled first
    by_engineer = {r.key: r for r in desk.feedback.digest("2026-11", per="engineer")}
    assert by_engineer["e7"].cases == 2 and by_engineer["e7"].satisfaction == 3
    assert "(nobody)" not in by_engineer  # the October case is October's
    october_rows = {r.key: r for r in desk.feedback.digest("2026-10", per="engineer")}
    assert october_rows["(nobody)"].cases == 1
    assert by_code["HYD-PUMP"].previous is None and by_code["HYD-PUMP"].trend is None
    assert {r.key for r in desk.feedback.digest("2026-11", per="model")} >= {"EX-350", "EX-200"}
    with pytest.raises(ValidationError, match="per is one of"):
        desk.feedback.digest("2026-11", per="weather")
    sent = desk.feedback.send("2026-11", at(5000))
    assert [n.kind for n in sent] == ["feedback_digest"]
    assert desk.feedback.send("2026-11", at(5001)) == []  # once a month
    assert sent[0].data["fault_code"][0]["key"] == "ELEC"
    assert outbox.of("feedback_digest") == sent and good.satisfaction == 5


# ---- the command line, on each store -------------------------------------------------------
@pytest.fixture
def desk_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, storage_url: str) -> Path:
    """A desk folder on ``storage_url`` (a named memory store lives as long as the process),
    with a team and case AS-2026-000001 assigned to e7."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AFTERSALES_CONFIG", raising=False)
    url = f"memory://cli-{uuid.uuid4().hex}" if storage_url == "memory://" else storage_url
    (tmp_path / "aftersales.toml").write_text(
        f'policy = "{RULES / "default.policy"}"\nstorage = "{url}"\n', "utf-8"
    )
    for member, role in (("m1", "manager"), ("cs1", "service_agent"), ("e7", "engineer")):
        ok("staff", "add", member, "--name", member.upper(), "--role", role)
    ok("case", "report", "--customer", "Hengli", "--fault", "leak", "--severity", "major",
       "--channel", "phone", "--by", "cs1", "--at", "2026-11-23 09:00")  # fmt: skip
    ok("case", "respond", "AS-2026-000001", "--by", "cs1", "--at", "2026-11-23 09:05")
    ok("case", "assign", "AS-2026-000001", "--engineer", "e7", "--by", "cs1",
       "--at", "2026-11-23 09:10")  # fmt: skip
    return tmp_path


def test_complaints_problems_feedback_and_documents_from_the_command_line(
    desk_folder: Path,
) -> None:
    at_ = ("--at", "2026-11-23 10:00")
    case = "AS-2026-000001"
    ok("staff", "add", "pt1", "--name", "Pan", "--role", "product_team")
    ok("case", "confirm", case, "--by", "e7", *at_)
    ok("case", "contact", case, "--by", "e7", "--appointment", "2026-11-23 11:00", *at_)
    code, _, err = run("case", "notify-delay", case, "--milestone", "arrival", "--reason",
                       "snow", "--new-eta", "2026-11-23 13:00", "--by", "e7", *at_)  # fmt: skip
    assert code == 1 and "told='the person', channel='phone'" in err  # nobody to message
    delayed = json.loads(ok("case", "notify-delay", case, "--milestone", "arrival", "--reason",
                            "snow", "--new-eta", "2026-11-23 13:00", "--told", "Mr Li",
                            "--channel", "phone", "--by", "e7", "--json", *at_))  # fmt: skip
    assert delayed["delays"][0]["told"] == "Mr Li"
    ok("case", "on-the-way", case, "--eta", "2026-11-23 10:50", "--by", "e7",
       "--at", "2026-11-23 10:05")  # fmt: skip
    ok("case", "arrive", case, "--by", "e7", "--at", "2026-11-23 11:30")  # after 11:00
    shown = ok("case", "sla", case, "--now", "2026-11-23 12:00")
    assert "arrival excused until 11-23 13:00: snow (told Mr Li by phone, 11-23 10:00)" in shown
    out = ok(
        "product-problems",
        "record",
        case,
        "--evidence",
        "weld crack",
        "--part",
        "BOOM-1",
        "--model",
        "EX-350",
        "--fault",
        "BOOM",
        "--by",
        "e7",
        *("--at", "2026-11-23 11:00"),
    )
    assert out.strip() == "PP-000001: EX-350 / BOOM recorded"
    groups = json.loads(ok("product-problems", "groups", "--format", "json"))
    assert groups == [{"model": "EX-350", "fault": "BOOM", "count": 1, "cases": case,
                       "parts": "BOOM-1 x1"}]  # fmt: skip
    assert "weld crack" in ok("product-problems", "list")
    made = json.loads(ok("complaints", "open", "--source", "call", "--summary", "late",
                         "--case", case, "--by", "cs1", "--json", *at_))  # fmt: skip
    cid = made["id"]
    assert made["owner"] == "m1" and made["staff"] == ["e7"]
    assert cid in ok("complaints", "list", "--status", "open")
    ok("complaints", "respond", cid, "--response", "sorry", "--by", "m1", *at_)
    ok("complaints", "resolve", cid, "--root-cause", "van", "--action", "second van", "--by",
       "m1", *at_)  # fmt: skip
    assert "closed" in ok("complaints", "confirm", cid, "--confirmed-by", "Li", "--by", "cs1",
                          *at_)  # fmt: skip
    assert json.loads(ok("complaints", "show", cid))["status"] == "closed"
    code, _, err = run("complaints", "respond", cid, "--response", "x", "--by", "m1", *at_)
    assert code == 1 and "it is closed" in err
    digest = json.loads(ok("feedback", "digest", "--month", "2026-11", "--format", "json"))
    assert digest[0]["fault_code"] == "(none)" and digest[0]["complaints"] == 1
    csv_text = ok("feedback", "digest", "--month", "2026-11", "--by", "engineer", "--format",
                  "csv")  # fmt: skip
    assert csv_text.splitlines()[0].startswith("engineer,cases,reworks")
    code, _, err = run("case", "report-doc", case)
    assert code == 1 and "no repair report yet" in err
    assert Path(ok("messages", "templates").strip(), "zh", "delayed.txt").is_file()
    ok("messages", "templates", "--copy", "mine")
    assert (desk_folder / "mine" / "en" / "survey.txt").is_file()


def test_the_report_document_and_a_survey_answer_from_the_command_line(
    desk_folder: Path,
) -> None:
    case = "AS-2026-000001"
    steps = [("confirm",), ("contact", "--appointment", "2026-11-23 11:00"), ("arrive",),
             ("checklist", "--item", "helmet", "--item", "gloves"),
             ("diagnose", "--cause", "worn seal", "--complexity", "simple"),
             ("complete", "--actions", "replaced the seal", "--result", "no leak",
              "--part", "SEAL-9")]  # fmt: skip
    for n, (step, *extra) in enumerate(steps):
        ok("case", step, case, *extra, "--by", "e7", "--at", f"2026-11-23 10:{10 + n}")
    signature = desk_folder / "signature.png"
    signature.write_bytes(PNG)
    ok("case", "accept", case, "--signed-by", "Mr Li", "--signature", str(signature), "--by",
       "e7", "--at", "2026-11-23 10:30")  # fmt: skip
    out = ok("case", "report-doc", case)
    assert out.startswith(f"repair-report-{case}.pdf")
    assert (desk_folder / f"repair-report-{case}.pdf").read_bytes().startswith(b"%PDF")
    ok("case", "report-doc", case, "--format", "html", "--language", "zh", "-o", "r.html")
    html = (desk_folder / "r.html").read_text("utf-8")
    assert "维修报告" in html and "Mr Li" in html and "replaced the seal" in html
    code, _, err = run("case", "answer-survey", "not-a-token", "--satisfaction", "4")
    assert code == 1 and "not a survey token" in err
    with ServiceDesk(RULES / "default.policy", _storage_of(desk_folder)) as desk:
        [first] = desk.cases.find(limit=1)
        token = desk.cases.messenger.tokens.make(first.id, T0 + timedelta(days=30))
    answered = json.loads(
        ok(
            "case",
            "answer-survey",
            token,
            "--satisfaction",
            "2",
            "--comments",
            "slow",
            "--at",
            "2026-11-24 09:00",
            "--json",
        )
    )
    assert answered["survey"]["satisfaction"] == 2
    code, _, err = run("case", "answer-survey", token, "--satisfaction", "5")
    assert code == 1 and "answered once" in err
    assert json.loads(ok("complaints", "list", "--format", "json"))[0]["source"] == "survey"


def _storage_of(folder: Path) -> str:
    text = (folder / "aftersales.toml").read_text("utf-8")
    url = text.split('storage = "')[1].split('"')[0]
    return url if not url.startswith("sqlite:///") or url.startswith("sqlite:////") else (
        f"sqlite:///{folder / url.removeprefix('sqlite:///')}")  # fmt: skip


PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def test_complaints_count_in_the_appraisal_through_complaint_free(
    team: tuple[ServiceDesk, Outbox],
) -> None:
    desk, _ = team
    assert complaint_free(desk, "e7", "2026-11") is None  # nothing accepted yet
    good = run_to(desk, "accepted")
    bad = run_to(desk, "accepted")
    desk.complaints.open(source="call", summary="mess left on site", case=bad.id, by="cs1",
                         at=at(300))  # fmt: skip
    assert complaint_free(desk, "e7", "2026-11") == 50
    assert complaint_free(desk, "e8", "2026-11") is None
    assert good.id != bad.id
