"""The simulator: deterministic, consistent with the store it writes, replay and compare."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, RULES

from aftersales import ServiceDesk, ValidationError
from aftersales.cli import main
from aftersales.core.workflow import fold
from aftersales.simulation import Rates, simulate


def test_same_seed_same_result_other_seed_other_result(tmp_path: Path) -> None:
    one = simulate(RULES / "default.policy", db=tmp_path / "a.db", days=7, seed=3)
    two = simulate(RULES / "default.policy", db=tmp_path / "b.db", days=7, seed=3)
    other = simulate(RULES / "default.policy", db=tmp_path / "c.db", days=7, seed=4)
    strip = lambda r: (r.cases, r.actions, r.notifications, r.by_milestone, r.engineers, r.backlog)  # noqa: E731
    assert strip(one) == strip(two)
    assert strip(one) != strip(other)
    assert one.cases > 40 and one.actions > 5 * one.cases


def test_the_run_is_a_real_desk_whose_cases_fold_from_their_events(tmp_path: Path) -> None:
    result = simulate(RULES / "rhine-pumps.policy", db=tmp_path / "r.db", days=5, seed=2)
    desk = ServiceDesk(RULES / "rhine-pumps.policy", f"sqlite:///{tmp_path / 'r.db'}")
    cases = desk.cases.find()
    assert len(cases) == result.cases
    for case in cases:
        assert fold(desk.cases.history(case.id)) == case
    statuses = {c.status for c in cases}
    assert "closed" in statuses and len(statuses) > 2
    assert {g.group for g in result.by_priority.groups} <= set(desk.policy.priority_names)
    assert result.by_milestone.total.clocks == sum(g.clocks for g in result.by_milestone.groups)
    assert result.outcomes["holds"] >= 0 and sum(result.notifications.values()) > 0


def test_replay_uses_the_csv_cases(tmp_path: Path) -> None:
    result = simulate(
        RULES / "default.policy", db=tmp_path / "p.db", replay=ROOT / "examples" / "cases.csv"
    )
    assert result.cases == 40
    assert result.start.isoformat() == "2026-10-12T00:00:00+08:00"
    bad = tmp_path / "bad.csv"
    bad.write_text("when,who\n2026-01-01,x\n", "utf-8")
    with pytest.raises(ValidationError, match="missing column"):
        simulate(RULES / "default.policy", db=tmp_path / "q.db", replay=bad)


def test_cli_report_and_compare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    args = ["simulate", "--policy", str(RULES / "default.policy"), "--days", "5", "--seed", "7"]
    first = runner.invoke(main, args, env={"COLUMNS": "200"})
    assert first.exit_code == 0, first.output
    for heading in ("SLA compliance by priority", "SLA compliance by milestone",
                    "Engineer utilisation", "Backlog", "Notifications sent"):  # fmt: skip
        assert heading in first.stdout
    # what a manager asks first: how utilisation goes over 100%, what the bars are
    assert "Over 100% means work ran past working hours" in first.stdout
    assert "open cases, to scale" in first.stdout
    again = runner.invoke(main, args, env={"COLUMNS": "200"})
    assert again.stdout == first.stdout
    assert (tmp_path / "aftersales-sim.db").is_file()
    compared = runner.invoke(
        main, [*args, "--compare", str(RULES / "taiwan-cranes.policy")], env={"COLUMNS": "250"}
    )
    assert compared.exit_code == 0, compared.output
    assert "met % B" in compared.stdout and "policy B = 台中起重機股份有限公司" in compared.stdout
    bad = runner.invoke(main, ["simulate", "--policy", str(tmp_path / "none.policy")])
    assert bad.exit_code == 1 and "cannot read the policy file" in bad.stderr
    # a mistyped --compare is found before A is simulated (issue 17): nothing was run
    fresh = tmp_path / "fresh.db"
    late = runner.invoke(main, [*args, "--db", str(fresh), "--compare", "nope.policy"])
    assert late.exit_code == 1 and "cannot read the policy file" in late.stderr
    assert not fresh.exists()


def test_real_paths_at_rates_that_can_be_set(tmp_path: Path) -> None:
    """Remote fixes, crew queues, reopenings and unanswered callbacks happen to the same
    customers under either policy; what follows is each policy's choice."""
    rates = Rates(remote=0.3, queued=0.5, reopened=0.3, unanswered=0.4)
    trucks = simulate(RULES / "lift-trucks.policy", db=tmp_path / "a.db", days=10, seed=5,
                      rates=rates)  # fmt: skip
    plain = simulate(RULES / "default.policy", db=tmp_path / "b.db", days=10, seed=5,
                     rates=rates, start=trucks.start, arrivals=list(trucks.arrivals))  # fmt: skip
    a, b = trucks.outcomes, plain.outcomes
    assert a["remote fixes"] > 5 and b["remote fixes"] == 0  # no 'resolve remotely' in B
    assert a["queued"] > 10 and b["queued"] > 10
    assert a["reopened"] > 0 and b["reopened"] == 0  # B has no 'reopen within'
    assert b["repeat faults not reopened"] > 0
    assert a["unanswered callbacks"] > 0 and b["unanswered callbacks"] > 0
    arrival = {g.group: g for g in trucks.by_milestone.groups}["arrival"]
    assert arrival.not_applicable > 0  # the phone fixes needed no visit
    assert plain.by_milestone.total.not_applicable == 0
    desk = ServiceDesk(RULES / "lift-trucks.policy", f"sqlite:///{tmp_path / 'a.db'}")
    cases = desk.cases.find()
    assert any(c.reopenings for c in cases) and any(c.resolved_remotely for c in cases)
    assert any(c.team for c in cases)
    for case in cases:
        assert fold(desk.cases.history(case.id)) == case
    closed_unheard = [c for c in cases if c.status == "closed" and c.follow_up is None]
    assert closed_unheard  # callback optional: closed without the call
    still = simulate(RULES / "default.policy", db=tmp_path / "c.db", days=5, seed=5,
                     rates=Rates(0, 0, 0, 0))  # fmt: skip
    assert all(still.outcomes[k] == 0 for k in ("remote fixes", "queued", "reopened",
                                                "unanswered callbacks"))  # fmt: skip
    with pytest.raises(ValidationError, match="the queued rate is a share from 0 to 1"):
        Rates(queued=1.5)


def test_cli_rates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    args = ["simulate", "--policy", str(RULES / "lift-trucks.policy"), "--days", "4",
            "--remote-rate", "0.5", "--compare", str(RULES / "default.policy")]  # fmt: skip
    done = runner.invoke(main, args, env={"COLUMNS": "250"})
    assert done.exit_code == 0, done.output
    assert "n/a A" in done.stdout and "Events (B):" in done.stdout
    bad = runner.invoke(main, [*args, "--queue-rate", "2"])
    assert bad.exit_code == 2 and "--queue-rate" in bad.stderr


def test_replay_says_which_columns_it_ignores(tmp_path: Path) -> None:
    source = (ROOT / "examples" / "cases.csv").read_text("utf-8").splitlines()
    lines = [source[0] + ",closed_at,engineer"] + [line + ",2026-10-20T10:00,e7"
                                                   for line in source[1:]]  # fmt: skip
    (tmp_path / "with-more.csv").write_text("\n".join(lines) + "\n", "utf-8")
    result = simulate(RULES / "default.policy", db=tmp_path / "p.db",
                      replay=tmp_path / "with-more.csv")  # fmt: skip
    assert result.ignored_columns == ("closed_at", "engineer")
    plain = simulate(RULES / "default.policy", db=tmp_path / "q.db",
                     replay=ROOT / "examples" / "cases.csv")  # fmt: skip
    assert plain.ignored_columns == ()
    runner = CliRunner()
    done = runner.invoke(main, ["simulate", "--policy", str(RULES / "default.policy"), "--replay",
                                str(tmp_path / "with-more.csv"), "--db", str(tmp_path / "c.db")],
                         env={"COLUMNS": "200"})  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "it ignored the columns closed_at, engineer" in done.stdout


def test_the_simulation_runs_on_a_generated_installed_base(tmp_path: Path) -> None:
    """Machines with ages and hours for the reported serials, a share of customers under
    contract, maintenance plans opening visits: so --compare shows those choices too."""
    cranes = RULES / "crane-service.policy"
    all_in = simulate(cranes, db=tmp_path / "a.db", days=21, seed=2, rates=Rates(contracts=1.0))
    none = simulate(cranes, db=tmp_path / "b.db", days=21, seed=2, rates=Rates(contracts=0.0))
    assert all_in.outcomes["under contract"] > 0 and none.outcomes["under contract"] == 0
    assert all_in.outcomes["under sales warranty"] == none.outcomes["under sales warranty"] > 0
    assert all_in.outcomes["maintenance visits"] == none.outcomes["maintenance visits"] > 0
    assert all_in.notifications["maintenance_due"] == all_in.outcomes["maintenance visits"]
    plain = simulate(RULES / "default.policy", db=tmp_path / "c.db", days=21, seed=2)
    assert plain.outcomes["maintenance visits"] == 0  # no plans in that policy
    with pytest.raises(ValidationError, match="contracts rate is a share from 0 to 1"):
        Rates(contracts=2)
