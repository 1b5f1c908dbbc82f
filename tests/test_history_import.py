"""Importing a service history (issue 16): the timeline format, mapping files, leniency that
says what it did, rejects with their reasons, resumable and atomic per case. On memory,
SQLite and PostgreSQL, and from the command line."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, RULES

from aftersales import AftersalesError, ServiceDesk, ValidationError
from aftersales.cli import main
from aftersales.core.workflow import fold
from aftersales.services.history import HistoryMapping, write_rejects

SAMPLE = ROOT / "docs" / "history-sample.csv"
TRUCKS = RULES / "lift-trucks.policy"
VOLVO_SAMPLE = ROOT / "tests" / "data" / "bpic2013-volvo-sample.csv.xz"
VOLVO_POLICY = ROOT / "examples" / "volvo.policy"


def test_the_sample_timeline_imports_case_by_case(storage_url: str) -> None:
    with ServiceDesk(TRUCKS, storage_url) as desk:
        result = desk.history.import_file(SAMPLE)
        assert (result.rows, result.cases, result.resumed) == (23, 3, 0)
        by_key = {key: desk.cases.get(desk.history.imported(key) or "")
                  for key in ("T-1001", "T-1002", "T-1003")}  # fmt: skip
        visit, phone, queued = by_key.values()
        assert (visit.status, visit.engineer, visit.satisfaction) == ("closed", "h-jonas-berg", 5)
        assert visit.appointment is not None and visit.appointment.hour == 11  # local time
        assert phone.resolved_remotely and phone.status == "closed"
        assert (queued.status, queued.team, queued.engineer) == ("assigned", "north", "h-lena-vogt")
        # out of order in the file: sorted; stamped before the report: moved to it
        assert queued.milestones["responded"] < queued.handovers[0].at
        assert result.warnings == {"stamped before the report: moved to the report's time": 1}
        assert queued.severity == "critical" and queued.priority_changes
        # unknown people: placeholders, marked so
        member = desk.staff.get("h-anna-weber")
        assert "placeholder" in member.name and member.has_role("service_agent", "engineer")
        [reject] = result.rejects
        assert (reject.line, reject.case, reject.rule) == (
            24,
            "T-1002",
            "ValidationError in follow_up",
        )
        assert "satisfaction" in reject.reason
        for case in by_key.values():  # stored as the desk's own events, numbered by it
            assert fold(desk.cases.history(case.id)) == case
            assert case.number.startswith("AS-2026-")
        assert desk.storage.outbox() == []  # history notifies nobody


def test_a_second_run_skips_what_was_imported(storage_url: str) -> None:
    with ServiceDesk(TRUCKS, storage_url) as desk:
        desk.history.import_file(SAMPLE)
        again = desk.history.import_file(SAMPLE)
        assert (again.cases, again.resumed, sum(again.actions.values())) == (0, 3, 0)
        assert len(desk.cases.find()) == 3
        other = desk.history.import_file(SAMPLE, source="another-system")  # other keys
        assert other.cases == 3 and len(desk.cases.find()) == 6


def test_a_case_is_stored_whole_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    with ServiceDesk(TRUCKS, url) as desk:
        adopt = desk.cases.adopt
        calls = []

        def failing(events, also=None):  # type: ignore[no-untyped-def]
            calls.append(events)
            if len(calls) == 2:
                raise OSError("disk full")  # the store fails while writing the second case
            return adopt(events, also)

        monkeypatch.setattr(desk.cases, "adopt", failing)
        with pytest.raises(AftersalesError, match="disk full"):
            desk.history.import_file(SAMPLE)
        assert len(desk.cases.find()) == 1  # the first case, whole; nothing of the second
    with ServiceDesk(TRUCKS, url) as desk:
        resumed = desk.history.import_file(SAMPLE)
        assert (resumed.resumed, resumed.cases) == (1, 2)
        assert sorted(c.status for c in desk.cases.find()) == ["assigned", "closed", "closed"]


def test_rejects_name_the_row_the_reason_and_the_rule(tmp_path: Path) -> None:
    text = (
        "case,time,action,actor,severity,reason\n"
        "A,2026-11-23T08:00,report,cs,major,\n"
        "A,2026-11-23T08:05,fly,cs,,\n"  # no such action
        "A,not a time,respond,cs,,\n"
        "A,2026-11-23T08:10,hold,cs,,lunch\n"  # the policy allows no such hold
        "A,2026-11-23T08:20,cancel,cs,,duplicate\n"
        "A,2026-11-23T08:30,cancel,cs,,again\n"  # cancelled already: nothing to do
        "B,2026-11-23T09:00,report,cs,catastrophic,\n"  # a severity the policy lacks
    )
    path = tmp_path / "h.csv"
    path.write_text(text, "utf-8")
    with ServiceDesk(TRUCKS, "memory://") as desk:
        result = desk.history.import_file(path)
    reasons = {(r.line, r.rule): r.reason for r in result.rejects}
    assert "unknown action 'fly'" in reasons[(3, "reading")]
    assert "not an ISO 8601 time" in reasons[(4, "reading")]
    assert "does not allow a hold for 'lunch'" in reasons[(5, "ValidationError in hold")]
    assert "unknown severity 'catastrophic'" in reasons[(8, "ValidationError in report")]
    assert result.ignored == {"cancel: cancelled already": 1}
    assert result.cases == 1  # B never opened: nothing stored for it
    out = tmp_path / "rejects.csv"
    assert write_rejects(result.rejects, out) == 4
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows[0]["reject_line"] == "3" and rows[0]["action"] == "fly"


def test_the_volvo_mapping_imports_the_sample_with_every_row_explained(storage_url: str) -> None:
    with ServiceDesk(VOLVO_POLICY, storage_url) as desk:
        result = desk.history.import_file(VOLVO_SAMPLE, mapping="volvo-bpic2013")
        assert (result.rows, result.cases) == (2784, 150)
        assert result.rejects == []
        assert result.implied["reopen"] > 0 and result.implied["reject"] > 0
        assert result.ignored  # every row that changed nothing is counted with why
        cases = desk.cases.find()
        assert len(cases) == 150 and all(c.number.startswith("AS-201") for c in cases)
        closed = [c for c in cases if c.status == "closed"]
        assert len(closed) > 120 and all(c.resolved_remotely for c in closed)


def test_mappings_are_checked_when_loaded(tmp_path: Path) -> None:
    bad = tmp_path / "m.toml"
    for text, message in [
        ("[columns]\ncase = 'n'\n", "must name the time column"),
        ("[columns]\ncase = 'n'\ntime = 't'\nwho = 'x'\n", "'who' is no timeline field"),
        ("[columns]\ncase = 'n'\ntime = 't'\n[[rules]]\nactions = ['fix']\n", "unknown action"),
        ("[colums]\n", r"unknown table \[colums\]"),
        ("[columns\n", "not TOML"),
    ]:
        bad.write_text(text, "utf-8")
        with pytest.raises(ValidationError, match=message):
            HistoryMapping.load(bad)
    with pytest.raises(ValidationError, match="no mapping 'jira'; shipped mappings: "):
        HistoryMapping.load("jira")


SERVICENOW = ROOT / "tests" / "data" / "servicenow-incident-audit.csv"  # made up, shaped like one


ITIL = """policy "ITIL desk" {
  version "1"
  timezone "UTC"
  currency EUR
}
calendar {
  workweek mon..fri
  hours 08:00-17:00
}
fields {
  custom.impact  one of high, medium, low
  custom.urgency one of high, medium, low
}
priority by custom.impact, custom.urgency {
  high,   high   -> p1
  high,   medium -> p2
  medium, high   -> p2
  high,   low    -> p3
  medium, medium -> p3
  low,    high   -> p3
  medium, low    -> p4
  low,    medium -> p4
  low,    low    -> p4
}
sla p1 { response within 15 minutes }
sla p2 { response within 1 hour }
sla p3 { response within 4 working hours }
sla p4 { response within 1 working day }
hold when waiting for user, vendor, problem
resolve remotely by service_agent, engineer
callback optional
"""


def test_the_generic_status_per_row_mapping(tmp_path: Path) -> None:
    path = SERVICENOW
    policy_path = tmp_path / "itil.policy"
    policy_path.write_text(ITIL, "utf-8")
    with ServiceDesk(policy_path, "memory://") as desk:
        result = desk.history.import_file(path, mapping="servicenow-audit")
        cases = {c.customer.name: c for c in desk.cases.find()}
        inc = cases["Kaufland"]
        assert (inc.priority, inc.team, inc.engineer, inc.status) == (
            "p2",
            "Hydraulics",
            "h-david-loo",
            "closed",
        )
        assert inc.holds and inc.holds[0].reason == "waiting for user"
        assert cases["Bauhaus"].status == "cancelled"
        [reject] = result.rejects
        assert reject.line == 11 and "no rule for incident_state='Stalled'" in reject.reason


def test_import_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "aftersales.toml").write_text(
        f'policy = "{TRUCKS}"\nstorage = "sqlite:///h.db"\n', "utf-8"
    )
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    done = runner.invoke(main, ["import", str(SAMPLE), "--rejects", "r.csv"],
                         env={"COLUMNS": "200"})  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "23 rows, 3 cases imported, 0 already imported" in done.stdout
    assert "rejects written to r.csv" in done.stdout and (tmp_path / "r.csv").is_file()
    again = runner.invoke(main, ["import", str(SAMPLE), "--json"])
    summary = json.loads(again.stdout)
    assert (summary["cases_imported"], summary["cases_already_imported"]) == (0, 3)
    missing = runner.invoke(main, ["import", "nope.csv"])
    assert missing.exit_code == 1 and "no file 'nope.csv'" in missing.stderr
    unknown = runner.invoke(main, ["import", str(SAMPLE), "--mapping", "jira"])
    assert unknown.exit_code == 1 and "shipped mappings" in unknown.stderr


def test_errors_stay_aftersales_errors() -> None:
    assert issubclass(ValidationError, AftersalesError)


def test_the_tick_does_not_announce_an_imported_history(tmp_path: Path) -> None:
    with ServiceDesk(TRUCKS, f"sqlite:///{tmp_path / 'h.db'}") as desk:
        desk.history.import_file(SAMPLE)
        queued = desk.cases.get(desk.history.imported("T-1003") or "")
        month = queued.updated_at + timedelta(days=30)
        assert any(c.state == "breached" for c in desk.sla.clocks(queued, month))
        assert desk.sla.tick(month) == []
        desk.cases.confirm(queued.id, by=queued.engineer or "", at=queued.updated_at
                           + timedelta(days=30))  # fmt: skip
        later = desk.sla.tick(queued.updated_at + timedelta(days=31))
        assert later  # touched again: watched again


def test_imported_repeat_faults_are_not_linked_to_other_imported_cases() -> None:
    """A scratch desk holds one batch of the history, not all of it: linking there would
    point at a case the store does not have, or miss one in another batch."""
    text = (
        "case,time,action,actor,customer,serial,fault_code,severity\n"
        "R1,2026-11-02T08:00,report,cs,Kaufland,LT25-1,HYD,major\n"
        "R1,2026-11-02T08:10,resolve,cs,,,,\n"
        "R1,2026-11-02T08:20,accept,cs,,,,\n"
        "R2,2026-11-09T08:00,report,cs,Kaufland,LT25-1,HYD,major\n"
    )
    with ServiceDesk(TRUCKS, "memory://") as desk:
        import io

        from aftersales.services.history import read_timeline

        rows = read_timeline(csv.DictReader(io.StringIO(text)), desk.policy.tz)
        result = desk.history.import_rows(rows)
        assert result.cases == 2 and result.rejects == []
        assert all(c.rework_of is None and c.chargeable for c in desk.cases.find())


def test_hostile_and_careless_files(tmp_path: Path) -> None:
    """A spreadsheet's byte-order mark, a satisfaction in words, a time that is no time, a
    custom field the policy lacks, a name with control characters: each row a reject with its
    reason; nothing else is lost, nothing crashes."""
    text = (
        "\ufeffcase,time,action,actor,satisfaction,appointment,custom.colour,severity\n"
        "A,2026-11-23T08:00,report,cs,,,,major\n"
        "A,2026-11-23T08:01,resolve,cs,,,,\n"
        "A,2026-11-23T08:02,accept,cs,,,,\n"
        "A,2026-11-23T08:03,follow_up,cs,five,,,\n"
        "A,2026-11-23T08:04,follow_up,cs,4,,,\n"
        "B,2026-11-23T09:00,report,cs,,,red,major\n"
        "C,2026-11-23T09:00,report,cs\x07bell,,,,major\n"
        "D,2026-11-23T09:00,report,cs,,,,major\n"
        "D,2026-11-23T09:05,contact,cs,,tomorrow,,\n"
    )
    path = tmp_path / "careless.csv"
    path.write_bytes(text.encode("utf-8"))
    with ServiceDesk(TRUCKS, "memory://") as desk:
        result = desk.history.import_file(path)
        reasons = {r.line: r.reason for r in result.rejects}
        assert "invalid literal for int()" in reasons[5]
        assert "custom field 'colour' is not declared" in reasons[7]
        assert 8 in reasons  # the control character in the name
        assert "not an ISO 8601 time" in reasons[10]
        case_a = desk.cases.get(desk.history.imported("A") or "")
        assert case_a.satisfaction == 4  # the good row after the bad one
        latin = tmp_path / "latin1.csv"
        latin.write_bytes("case,time,action,actor\nA,2026-11-23T08:00,report,Jürgen\n"
                          .encode("latin-1"))  # fmt: skip
        with pytest.raises(ValidationError, match=r"cannot read .* as CSV text"):
            desk.history.import_file(latin)
        binary = tmp_path / "x.csv.xz"
        binary.write_bytes(b"not xz at all")
        with pytest.raises(ValidationError, match="cannot read"):
            desk.history.import_file(binary)


def test_a_file_of_the_wrong_shape_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("ticket,when,what\nA,2026-11-23T08:00,report\n", "utf-8")
    with ServiceDesk(TRUCKS, "memory://") as desk:
        with pytest.raises(ValidationError, match=r"no case, time, action column .*\(--mapping\)"):
            desk.history.import_file(path)
        with pytest.raises(ValidationError, match=r"no column 'SR Number'.* is it the export"):
            desk.history.import_file(path, mapping="volvo-bpic2013")
        assert desk.cases.find() == []


def test_the_hour_that_repeats_when_summer_time_ends(tmp_path: Path) -> None:
    """In Europe/Berlin 02:00-03:00 happens twice on 2025-10-26. An action at 02:10+01:00
    (the second time) follows one at 02:50+02:00 (the first): the desk orders actions by
    instant, not by the wall clock (Python compares datetimes of one zone by their clocks)."""
    with ServiceDesk(TRUCKS) as desk:
        desk.staff.add(id="cs1", name="Lin", roles=["service_agent"],
                       at=datetime.fromisoformat("2025-01-01T00:00+01:00"))  # fmt: skip
        case = desk.cases.report(customer={"name": "C"}, product={"model": "M"}, fault="f",
                                 severity="minor", channel="phone", by="cs1",
                                 at=datetime.fromisoformat("2025-10-26T02:50+02:00"))  # fmt: skip
        later = desk.cases.respond(case.id, by="cs1",
                                   at=datetime.fromisoformat("2025-10-26T02:10+01:00"))  # fmt: skip
        assert later.milestones["responded"] > later.milestones["reported"] or (
            later.milestones["responded"].timestamp() - case.reported_at.timestamp() == 1200
        )
        with pytest.raises(ValidationError, match="before the case's last event"):
            desk.cases.hold(case.id, by="cs1", reason="customer",
                            at=datetime.fromisoformat("2025-10-26T02:55+02:00"))  # fmt: skip
    history = tmp_path / "dst.csv"
    history.write_text(
        "case,time,action,actor,severity\n"
        "K1,2025-10-26T02:50+02:00,report,Lin,minor\n"
        "K1,2025-10-26T02:10+01:00,respond,Lin,\n"
        "K1,2025-10-26T02:20+01:00,close,Lin,\n", "utf-8")  # fmt: skip
    with ServiceDesk(TRUCKS) as desk:
        result = desk.history.import_file(history)
        assert result.rejects == [] and result.cases == 1
