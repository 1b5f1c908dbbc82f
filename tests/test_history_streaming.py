"""Reading a history case by case (issue 16): files whose cases are together are streamed,
files in time order (an audit trail) are regrouped through a temporary SQLite copy, and
either way the import and the replay see the same cases with the same line numbers; several
processes share one file's cases and give the one-process answer."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import ROOT, RULES

from aftersales import ServiceDesk, ValidationError
from aftersales.core.workflow import fold
from aftersales.replay import replay
from aftersales.services.history import open_history
from aftersales.simulation import Rates, simulate

VOLVO_SAMPLE = ROOT / "tests" / "data" / "bpic2013-volvo-sample.csv.xz"
VOLVO = ROOT / "examples" / "volvo.policy"
STRICT = ROOT / "examples" / "volvo-strict.policy"
TRUCKS = RULES / "lift-trucks.policy"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A simulated desk's history as exported (cases together), and the same rows in time
    order (cases interleaved, as an audit trail lists them)."""
    tmp = tmp_path_factory.mktemp("streaming")
    simulate(TRUCKS, db=tmp / "sim.db", days=4, cases_per_day=8, seed=5,
             rates=Rates(remote=0.3, queued=0.4, reopened=0.2, unanswered=0.3))  # fmt: skip
    grouped = tmp / "grouped.csv"
    with ServiceDesk(TRUCKS, f"sqlite:///{tmp / 'sim.db'}") as desk:
        desk.history.export(grouped)
    with grouped.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header, rows = list(reader.fieldnames or ()), list(reader)
    rows.sort(key=lambda r: r["time"])  # stable: a case's rows of one minute keep their order
    interleaved = tmp / "interleaved.csv"
    with interleaved.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, header)
        writer.writeheader()
        writer.writerows(rows)
    return grouped, interleaved


def _verdicts(path: Path, **kwargs: object) -> dict[str, dict[str, str]]:
    judged = replay(path, TRUCKS, keep_cases=True, **kwargs).a  # type: ignore[arg-type]
    return {k: {c.milestone: c.outcome for c in v.clocks} for k, v in judged.cases.items()}


def test_a_file_in_time_order_is_regrouped_by_case(exported: tuple[Path, Path]) -> None:
    grouped, interleaved = exported
    with open_history(grouped, None, ServiceDesk(TRUCKS).policy.tz) as file:
        assert file.grouped and file.cases >= 30
        copy = None
    with open_history(interleaved, None, ServiceDesk(TRUCKS).policy.tz) as file:
        assert not file.grouped and file.cases >= 30
        copy = file._dir
        assert copy is not None and Path(copy).is_dir()
        keys = [key for _, row in file.numbered() for key in [row["case"]]]
        assert keys == sorted(keys, key=keys.index)  # each case's rows together
    assert not Path(copy).exists()  # the temporary copy is gone
    assert _verdicts(interleaved) == _verdicts(grouped)


def test_the_import_reads_an_interleaved_file_with_its_own_line_numbers(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    _, interleaved = exported
    lines = interleaved.read_text("utf-8").splitlines()
    # a row the desk refuses, in the middle of the file: its line is the file's line
    victim = len(lines) // 2
    row = next(csv.reader([lines[victim]]))
    header = next(csv.reader([lines[0]]))
    row[header.index("action")] = "follow_up"  # a follow_up row without a satisfaction
    row[header.index("satisfaction")] = ""
    lines[victim] = ",".join(f'"{c}"' for c in row)
    broken = tmp_path / "broken.csv"
    broken.write_text("\n".join(lines) + "\n", "utf-8")
    with ServiceDesk(TRUCKS, f"sqlite:///{tmp_path / 'desk.db'}") as desk:
        result = desk.history.import_file(broken)
        assert result.rows == len(lines) - 1
        assert [r.line for r in result.rejects if "satisfaction" in r.reason] == [victim + 1]
        for key in {r["case"] for r in csv.DictReader(broken.open(encoding="utf-8"))}:
            case_id = desk.history.imported(key)
            assert case_id is not None
            assert fold(desk.cases.history(case_id)) == desk.cases.get(case_id)


def test_two_processes_give_the_one_process_answer() -> None:
    one = replay(VOLVO_SAMPLE, VOLVO, compare_with=STRICT, mapping="volvo-bpic2013", workers=1)
    two = replay(VOLVO_SAMPLE, VOLVO, compare_with=STRICT, mapping="volvo-bpic2013", workers=2)
    assert one.b is not None and two.b is not None
    for x, y in ((one.a, two.a), (one.b, two.b)):
        assert (x.count, x.result.rows, x.result.actions) == (y.count, y.result.rows,
                                                               y.result.actions)  # fmt: skip
        assert x.total.outcomes == y.total.outcomes
        assert sorted(x.total.working) == sorted(y.total.working)
        assert x.total.median == y.total.median and x.total.p90 == y.total.p90
        for name, tally in x.by_milestone.items():
            assert tally.outcomes == y.by_milestone[name].outcomes
    assert one.changes == two.changes and one.changed_cases() == two.changed_cases()


def test_replay_holds_no_case_unless_asked() -> None:
    result = replay(VOLVO_SAMPLE, VOLVO, mapping="volvo-bpic2013")
    assert result.a.count == 150 and result.a.cases == {}
    assert result.a.now is not None  # the latest time in the file
    with open_history(VOLVO_SAMPLE, None, result.a.now.tzinfo) as file:  # type: ignore[arg-type]
        assert file.rows == 2784


def test_the_clocks_are_read_at_the_files_last_moment(exported: tuple[Path, Path]) -> None:
    grouped, _ = exported
    times = [r["time"] for r in csv.DictReader(grouped.open(encoding="utf-8"))]
    judged = replay(grouped, TRUCKS).a
    assert judged.now is not None and judged.now.isoformat() == max(times)
    later = replay(grouped, TRUCKS, now=judged.now + timedelta(days=30)).a
    assert later.total.outcomes["open"] <= judged.total.outcomes["open"]


def test_a_broken_file_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"case,time,action\nA,2026-01-01T08:00+01:00,report\n\xff\xfe,x,y\n")
    with pytest.raises(ValidationError, match=r"cannot read .* as CSV text"):
        replay(bad, TRUCKS)
    with pytest.raises(ValidationError, match="no file"):
        replay(tmp_path / "missing.csv", TRUCKS)
    empty = tmp_path / "empty.csv"
    empty.write_text("case,time,action\n", "utf-8")
    assert replay(empty, TRUCKS).a.count == 0
    with pytest.raises(ValidationError, match="workers"):
        replay(empty, TRUCKS, workers=0)


def test_a_generated_history_replays_cleanly_either_way(tmp_path: Path) -> None:
    """The benchmarks' generated histories: every row applies, and the time-ordered copy
    (regrouped through SQLite) judges exactly as the one written case by case."""
    from aftersales.testing.histories import write_history

    grouped, mixed = tmp_path / "g.csv", tmp_path / "m.csv"
    rows = write_history(grouped, 1_500, seed=3)
    assert write_history(mixed, 1_500, seed=3, interleaved=True) == rows >= 1_500
    a, b = replay(grouped, TRUCKS, keep_cases=True).a, replay(mixed, TRUCKS, keep_cases=True).a
    assert a.result.rejects == [] and a.result.rows == rows
    assert a.count == b.count > 100 and a.total.outcomes == b.total.outcomes
    assert a.cases == b.cases


def test_a_replay_counts_every_reject_and_holds_a_few(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A policy that refuses a kind of row refuses it in every case: the replay counts them
    all, by reason, and holds only the first few (memory stays flat)."""
    from aftersales.services.history import replay as judging
    from aftersales.testing.histories import write_history

    monkeypatch.setattr(judging, "KEPT_REJECTS", 5)
    write_history(tmp_path / "h.csv", 1_500, seed=4)
    result = replay(tmp_path / "h.csv", TRUCKS, compare_with=RULES / "default.policy")
    assert result.b is not None and result.a.result.rejected == 0
    b = result.b.result
    assert b.rejected > 5 == len(b.rejects)  # no phone fixes under the default policy
    assert sum(b.rejects_by_reason().values()) == b.rejected
    assert [r.line for r in b.rejects] == sorted(r.line for r in b.rejects)
