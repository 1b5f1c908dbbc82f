"""Judging a history without storing it (issue 16): ``aftersales replay`` and
``aftersales.replay.replay``, against the desk that recorded the history."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, RULES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales import ServiceDesk, ValidationError
from aftersales.cli import main
from aftersales.replay import replay, write_diff
from aftersales.simulation import Rates, SimulationResult, simulate

VOLVO_SAMPLE = ROOT / "tests" / "data" / "bpic2013-volvo-sample.csv.xz"
VOLVO = ROOT / "examples" / "volvo.policy"
STRICT = ROOT / "examples" / "volvo-strict.policy"
_OPEN = ("pending", "running", "at_risk")


def export(desk: ServiceDesk, path: Path) -> None:
    assert desk.history.export(path) > desk.cases.find()[0].version


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(1, 10_000), policy=st.sampled_from(["default.policy",
                                                             "lift-trucks.policy",
                                                             "crane-service.policy"]))  # fmt: skip
def test_replay_judges_as_the_desk_that_recorded_the_history(
    tmp_path_factory: pytest.TempPathFactory, seed: int, policy: str
) -> None:
    """Any history the simulator makes (remote fixes, queues, reopenings, holds, rejections,
    unanswered callbacks, machines under warranty or contract, maintenance visits), exported
    as a timeline and replayed under the same policy, gives each clock of each case the
    verdict the recording desk gives it."""
    tmp = tmp_path_factory.mktemp("replay")
    rng = random.Random(seed)
    rates = Rates(remote=rng.random() * 0.5, queued=rng.random(), reopened=rng.random() * 0.3,
                  unanswered=rng.random() * 0.5)  # fmt: skip
    _replays_as_recorded(tmp, policy, seed, 3, rates)


def test_maintenance_visits_and_contracts_replay_as_recorded(tmp_path: Path) -> None:
    """Three weeks of cranes: machines under warranty and contract, the annual inspection's
    visits opened by the tick; the timeline carries what the installed base said."""
    result = _replays_as_recorded(tmp_path, "crane-service.policy", 2, 21, Rates())
    assert result.outcomes["maintenance visits"] > 0 and result.outcomes["under contract"] > 0


def _replays_as_recorded(
    tmp: Path, policy: str, seed: int, days: int, rates: Rates
) -> SimulationResult:
    result = simulate(RULES / policy, db=tmp / "sim.db", days=days, cases_per_day=6, seed=seed,
                      engineers=4, agents=2, rates=rates)  # fmt: skip
    desk = ServiceDesk(RULES / policy, f"sqlite:///{tmp / 'sim.db'}")
    history = tmp / "history.csv"
    export(desk, history)
    now = result.end
    judged = replay(history, RULES / policy, now=now, keep_cases=True).a
    assert judged.result.rejects == []
    cases = desk.cases.find()
    visits = result.outcomes["maintenance visits"]
    assert len(judged.cases) == judged.count == len(cases) == result.cases + visits
    for case in cases:
        recorded = {c.milestone: ("open" if c.state in _OPEN else c.state)
                    for c in desk.sla.clocks(case, now)}  # fmt: skip
        replayed = {c.milestone: c.outcome for c in judged.cases[case.number].clocks}
        assert replayed == recorded, (case.number, seed, policy)
    desk.close()
    return result


def test_the_volvo_sample_under_two_policies() -> None:
    result = replay(
        VOLVO_SAMPLE, VOLVO, compare_with=STRICT, mapping="volvo-bpic2013", keep_cases=True
    )
    assert result.b is not None and len(result.a.cases) == len(result.b.cases) == 150
    repair_a, repair_b = result.a.by_milestone["repair"], result.b.by_milestone["repair"]
    assert repair_b.outcomes["met"] < repair_a.outcomes["met"]  # stricter targets
    counts = result.changed_cases()
    assert counts["worse"] > 0 and counts["better"] == 0
    assert {c.milestone for c in result.changes} == {"repair"}
    assert all(c.a and c.b and "volvo.policy:" in c.a.rule and "volvo-strict.policy:" in c.b.rule
               for c in result.changes)  # fmt: skip
    assert repair_a.median is not None and repair_a.p90 is not None
    assert repair_a.median <= repair_a.p90


def test_replay_from_the_command_line(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["replay", str(VOLVO_SAMPLE), "--policy", str(VOLVO), "--mapping", "volvo-bpic2013"]
    done = runner.invoke(main, [*args, "--compare", str(STRICT), "--diff",
                                str(tmp_path / "diff.csv")], env={"COLUMNS": "200"})  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "150 cases judged under A" in done.stdout and "met % B" in done.stdout
    assert "cases whose verdicts change from A to B" in done.stdout
    rows = list(csv.DictReader((tmp_path / "diff.csv").open(encoding="utf-8")))
    assert rows and rows[0]["direction"] == "worse" and rows[0]["outcome_a"] == "met"
    as_json = json.loads(runner.invoke(main, [*args, "--format", "json", "--workers", "2"]).stdout)
    assert as_json["cases"] == 150 and as_json["by_milestone"][0]["a"]["group"] == "response"
    as_csv = runner.invoke(main, [*args, "--format", "csv"]).stdout.splitlines()
    assert as_csv[0].startswith("by,policy,group,clocks,met")
    assert runner.invoke(main, [*args, "--workers", "0"]).exit_code == 2
    bad = runner.invoke(main, [*args, "--diff", str(tmp_path / "x.csv")])
    assert bad.exit_code == 2 and "--diff needs --compare" in bad.stderr


def test_write_diff_lists_clocks_only_one_policy_sets(tmp_path: Path) -> None:
    lax = VOLVO.read_text("utf-8").replace('version  "1"', 'version  "1-lax"').replace(
        "  assignment within 2 working days\n", "")  # fmt: skip
    (tmp_path / "lax.policy").write_text(lax, "utf-8")
    result = replay(VOLVO_SAMPLE, VOLVO, compare_with=tmp_path / "lax.policy",
                    mapping="volvo-bpic2013", keep_cases=True)  # fmt: skip
    only_a = [c for c in result.changes if c.b is None]
    assert only_a and all(c.milestone == "assignment" and c.direction in ("worse", "other")
                          for c in only_a)  # fmt: skip
    assert write_diff(result, tmp_path / "d.csv") == len(result.changes) == result.changed_clocks
    assert "no clock" in (tmp_path / "d.csv").read_text("utf-8")
    # written as found, by two processes, without keeping them: the same file
    streamed = replay(VOLVO_SAMPLE, VOLVO, compare_with=tmp_path / "lax.policy",
                      mapping="volvo-bpic2013", workers=2, diff=tmp_path / "s.csv")  # fmt: skip
    assert streamed.changes == () and streamed.changed_cases() == result.changed_cases()
    assert (tmp_path / "s.csv").read_text("utf-8") == (tmp_path / "d.csv").read_text("utf-8")
    with pytest.raises(ValidationError, match="second policy"):
        replay(VOLVO_SAMPLE, VOLVO, mapping="volvo-bpic2013", diff=tmp_path / "x.csv")


def test_a_desks_own_year_under_a_new_policy(tmp_path: Path) -> None:
    """Export from the command line, replay under the policy in force and under a new one."""
    simulate(RULES / "lift-trucks.policy", db=tmp_path / "desk.db", days=3, seed=9,
             rates=Rates(remote=0.3, queued=0.3, reopened=0.1, unanswered=0.3))  # fmt: skip
    (tmp_path / "aftersales.toml").write_text(
        f'policy = "{RULES / "lift-trucks.policy"}"\nstorage = "sqlite:///desk.db"\n', "utf-8"
    )
    runner = CliRunner()
    config = ["--config", str(tmp_path / "aftersales.toml")]
    done = runner.invoke(main, [*config, "export", str(tmp_path / "year.csv")])
    assert done.exit_code == 0, done.output
    assert "rows written to" in done.stdout
    judged = replay(tmp_path / "year.csv", RULES / "lift-trucks.policy",
                    compare_with=RULES / "default.policy", keep_cases=True)  # fmt: skip
    assert judged.a.result.rejects == []
    assert judged.b is not None and judged.b.result.rejects  # default allows no phone fixes
    assert judged.b.cases.keys() == judged.a.cases.keys()  # the same cases, judged twice
    later = runner.invoke(main, [*config, "export", str(tmp_path / "later.csv"), "--since",
                                 "2026-11-04T00:00"])  # fmt: skip
    assert later.exit_code == 0, later.output
    later_cases = replay(tmp_path / "later.csv", RULES / "lift-trucks.policy", keep_cases=True)
    assert later_cases.a.cases.keys() < (judged.a.cases.keys())
