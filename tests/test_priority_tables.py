"""Priorities from the policy's own vocabulary (issue 15): declared severities, fields with a
fixed set of values, and the decision table checked complete and without overlaps."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from conftest import RULES, T0, add_team, at
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales import (
    PolicyError,
    ServiceDesk,
    ValidationError,
    load_policy,
    parse_policy,
    run_examples,
)
from aftersales.policy.examples import explain

CRANES = RULES / "crane-service.policy"
TEXT = CRANES.read_text("utf-8")
TABLE_START = TEXT.index("priority by")
TABLE_END = TEXT.index("}", TABLE_START) + 1


def with_table(table: str, text: str = TEXT) -> str:
    return text[:TABLE_START] + table + text[TABLE_END:]


def crane_case(impact: str, urgency: str, **more: object) -> dict[str, object]:
    case: dict[str, object] = {
        "severity": "fault",
        "machine_down": False,
        "custom": {"impact": impact, "urgency": urgency},
    }
    case.update(more)
    return case


def test_every_cell_decides_as_its_row_says() -> None:
    policy = load_policy(CRANES)
    expected = {
        ("site", "today"): "p1", ("site", "week"): "p2", ("site", "later"): "p3",
        ("crew", "today"): "p2", ("crew", "week"): "p3", ("crew", "later"): "p3",
        ("single", "today"): "p3", ("single", "week"): "p4", ("single", "later"): "p4",
        ("none", "today"): "p4", ("none", "week"): "p4", ("none", "later"): "p4",
    }  # fmt: skip
    for (impact, urgency), priority in expected.items():
        decision = policy.priority_for(crane_case(impact, urgency))
        assert decision.name == priority, (impact, urgency)
        assert decision.rule.cell is not None and f"custom.impact = {impact}" in decision.rule.cell
    assert policy.priority_names == ("p1", "p2", "p3", "p4")


def test_when_rules_come_before_the_table() -> None:
    policy = load_policy(CRANES)
    decision = policy.priority_for(crane_case("none", "later", severity="safety"))
    assert decision.name == "p1" and decision.rule.cell is None
    assert (
        decision.rule.source
        == 'severity == "safety" or (machine_down and custom.urgency == "today")'
    )


def test_explain_names_the_cell_that_decided() -> None:
    policy = load_policy(CRANES)
    explained = explain(policy, crane_case("crew", "today"), T0)
    assert explained.decision.rule.source == (
        "table row: custom.impact = crew, custom.urgency = today"
    )
    line = TEXT[: TEXT.index("  crew,   today")].count("\n") + 1
    assert explained.decision.location == f"{CRANES}:{line}"


def test_a_missing_cell_is_an_error_naming_it() -> None:
    table = TEXT[TABLE_START:TABLE_END].replace("  crew,   week  -> p3\n", "")
    with pytest.raises(
        PolicyError, match=r"no row for custom.impact = crew, custom.urgency = week"
    ):
        parse_policy(with_table(table), "gap.policy")


def test_overlapping_rows_are_an_error_naming_both() -> None:
    last = "  none,   *     -> p4\n"
    table = TEXT[TABLE_START:TABLE_END].replace(last, last + "  *, later -> p3\n")
    with pytest.raises(PolicyError, match=r"overlaps the row at overlap.policy:\d+ for "
                       "custom.impact = site, custom.urgency = later"):  # fmt: skip
        parse_policy(with_table(table), "overlap.policy")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("priority by custom.impact, custom.urgency {\n  sit, today -> p1\n}",
         'unknown custom.impact value "sit"'),
        ("priority by custom.impact {\n  site, today -> p1\n}",
         r"this row has 2 value\(s\) for 1 column\(s\)"),
        ("priority by fault {\n  x -> p1\n}", 'cannot tabulate "fault": it has no fixed set'),
        ("priority by customer.tier {\n  gold -> p1\n}", "declare the field in the fields block"),
        ("priority by machine_down {\n  yes -> p1\n}", "machine_down is true or false, not yes"),
        ("priority by custom.impact, custom.impact {\n  site, site -> p1\n}",
         "custom.impact is a column of the table twice"),
        ("priority by severity {\n  safety -> p1\n  breakdown -> p2\n  fault -> p3\n"
         "  cosmetic -> p4\n}\npriority p4 otherwise",
         "an otherwise rule leaves nothing for the priority table to decide"),
        ("priority by severity {\n  * -> p1\n}\npriority by severity {\n  * -> p2\n}",
         "the priority table appears twice"),
    ],
)  # fmt: skip
def test_table_mistakes_are_named(table: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy(with_table(table), "bad.policy")


def test_a_table_of_too_many_cells_is_refused() -> None:
    fields = "fields {\n" + "".join(
        f"  custom.f{i} one of " + ", ".join(f"v{j}" for j in range(10)) + "\n" for i in range(5)
    ) + "}\n"  # fmt: skip
    text = with_table("priority by custom.f0, custom.f1, custom.f2, custom.f3, custom.f4 {\n"
                      "  *, *, *, *, * -> p1\n}")  # fmt: skip
    start = text.index("fields {")
    text = text[:start] + fields + text[text.index("}", start) + 1 :]
    with pytest.raises(PolicyError, match="the table has 100,000 combinations; at most 10,000"):
        parse_policy(text, "huge.policy")


def test_declared_severities_replace_the_built_in_three() -> None:
    policy = load_policy(CRANES)
    assert policy.severities == ("safety", "breakdown", "fault", "cosmetic")
    with pytest.raises(PolicyError, match='severity "fault" is listed twice'):
        parse_policy(TEXT.replace("cosmetic\n", "fault\n", 1), "twice.policy")
    assert load_policy(RULES / "default.policy").severities == ("critical", "major", "minor")


def test_value_lists_are_checked() -> None:
    twice = r'"site" is listed twice among custom.impact\'s values'
    with pytest.raises(PolicyError, match=twice):
        parse_policy(TEXT.replace("one of site, crew", "one of site, site, crew"), "x.policy")


# ---- the desk -----------------------------------------------------------------------------------
REPORT = {
    "customer": {"name": "Strabag", "tier": "gold"},
    "product": {"model": "TC-25", "line": "crane", "serial": "TC25-0007"},
    "fault": "slewing brake slips",
    "channel": "phone",
}


def test_the_desk_speaks_the_policys_words(storage_url: str) -> None:
    desk = ServiceDesk(CRANES, storage_url)
    add_team(desk)
    with pytest.raises(ValidationError, match=r"unknown severity 'major'; .*crane-service.policy "
                       "names safety, breakdown, fault, cosmetic"):  # fmt: skip
        desk.cases.report(**REPORT, severity="major", by="cs1", at=at(0),
                          custom={"impact": "site", "urgency": "week"})  # fmt: skip
    with pytest.raises(ValidationError, match=r"custom field 'impact' is one of site, crew, "
                       "single, none in the policy, not 'everything'"):  # fmt: skip
        desk.cases.report(**REPORT, severity="fault", by="cs1", at=at(0),
                          custom={"impact": "everything", "urgency": "week"})  # fmt: skip
    with pytest.raises(ValidationError, match=r"the priority table \(.*\) cannot decide this "
                       "case: custom.urgency is None"):  # fmt: skip
        desk.cases.report(**REPORT, severity="fault", by="cs1", at=at(0),
                          custom={"impact": "site"})  # fmt: skip
    assert desk.cases.find() == []  # nothing written by the refusals
    case = desk.cases.report(**REPORT, severity="fault", by="cs1", at=at(0),
                             custom={"impact": "crew", "urgency": "later"})  # fmt: skip
    assert case.priority == "p3"
    # the site manager calls back: the whole site stands still today
    case = desk.cases.update(case.id, custom={"impact": "site", "urgency": "today"},
                             reason="site stopped", by="cs1", at=at(30))  # fmt: skip
    assert case.priority == "p1"
    [change] = case.priority_changes
    assert (change.previous, change.priority, change.reason) == ("p3", "p1", "site stopped")
    assert "crane-service.policy" in change.location
    response = {c.milestone: c for c in desk.cases.sla(case.id, at(31))}["response"]
    assert response.priority == "p1" and response.state == "breached"  # 15 minutes, long gone
    case = desk.cases.update(case.id, severity="safety", reason="load swung", by="cs1",
                             at=at(32))  # fmt: skip
    assert case.severity == "safety" and case.priority == "p1"
    with pytest.raises(ValidationError, match="unknown severity 'critical'"):
        desk.cases.update(case.id, severity="critical", reason="x", by="cs1", at=at(33))


def test_the_simulator_fills_the_tables_fields(tmp_path: object) -> None:
    import random
    from pathlib import Path

    from aftersales.simulation import Simulation, generate_arrivals

    policy = load_policy(CRANES)
    start = T0.astimezone(policy.tz).replace(hour=0, minute=0)
    arrivals = generate_arrivals(random.Random(3), start, 3, 20)
    sim = Simulation(policy, Path(str(tmp_path)) / "sim.db", arrivals, start=start, days=3,
                     engineers=4, agents=2, seed=3)  # fmt: skip
    result = sim.run()
    assert result.cases > 20
    priorities = {c.priority for c in sim.desk.cases.find()}
    assert {"p1", "p4"} <= priorities and priorities <= {"p1", "p2", "p3", "p4"}
    assert {c.severity for c in sim.desk.cases.find()} <= set(policy.severities)


# ---- a property: any complete table decides each combination by its one row -----------------
BASE = (RULES / "default.policy").read_text("utf-8")


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    data=st.data(),
)
def test_any_complete_table_decides_each_combination_by_its_row(
    sizes: list[int], data: st.DataObject
) -> None:
    fields = [f"custom.f{i}" for i in range(len(sizes))]
    domains = [[f"v{j}" for j in range(n)] for n in sizes]
    combos = list(itertools.product(*domains))
    wanted = {k: data.draw(st.sampled_from(["urgent", "general"])) for k in combos}
    declared = "fields {\n" + "".join(
        f"  {f} one of {', '.join(d)}\n" for f, d in zip(fields, domains, strict=True)
    ) + "}\n"  # fmt: skip
    rows = "".join(f"  {', '.join(k)} -> {p}\n" for k, p in wanted.items())
    table = f"priority by {', '.join(fields)} {{\n{rows}}}\n"
    text = BASE.replace(
        'priority urgent  when severity == "critical" or (machine_down and customer.tier in '
        '["gold", "platinum"])\npriority general otherwise\n',
        # both priorities named whatever the draw (every sla block needs its priority)
        declared
        + 'priority urgent when fault == "burst"\npriority general when fault == "x"\n'
        + table,
    )
    policy = parse_policy(text, "table.policy")
    for key, priority in wanted.items():
        custom = {f.removeprefix("custom."): v for f, v in zip(fields, key, strict=True)}
        case = {"severity": "minor", "fault": "leak", "custom": custom}
        assert policy.priority_for(case).name == priority
    dropped = data.draw(st.sampled_from(combos))
    shown = ", ".join(f"{f} = {v}" for f, v in zip(fields, dropped, strict=True))
    gap = table.replace(f"  {', '.join(dropped)} -> {wanted[dropped]}\n", "")
    if len(combos) > 1:
        with pytest.raises(PolicyError, match=f"no row for {shown}"):
            parse_policy(text.replace(table, gap), "gap.policy")


def test_time_is_not_lost(storage_url: str) -> None:
    """The table's desk keeps the clocks of a reported case (a smoke test on every store)."""
    desk = ServiceDesk(CRANES, storage_url)
    add_team(desk)
    case = desk.cases.report(**REPORT, severity="breakdown", machine_down=True, by="cs1",
                             at=at(0), custom={"impact": "single", "urgency": "today"})  # fmt: skip
    assert case.priority == "p1"  # machine down with a lift planned today: the when rule
    clocks = {c.milestone: c for c in desk.cases.sla(case.id, at(1))}
    assert clocks["response"].due == at(0) + timedelta(minutes=15)
    assert clocks["assignment"].due == at(0) + timedelta(minutes=30)


def test_an_example_the_table_cannot_decide_fails_with_why_instead_of_raising() -> None:
    """Found by the policy fuzz: an example's custom value the table has no cell for made
    run_examples raise; it is a failing example that says why."""
    text = CRANES.read_text("utf-8").replace(
        'custom.impact: "single", custom.urgency: "later"',
        'custom.impact: "' + "x" * 5000 + '", custom.urgency: "later"',
        1,
    )
    results = run_examples(parse_policy(text, "crane.policy"))
    [failed] = [r for r in results if not r.passed]
    assert failed.expected == "p4"
    assert failed.got.startswith("no decision: the priority table (crane.policy:28) cannot decide")
    assert "the table knows site, crew, single, none" in failed.got
    assert len([r for r in results if r.passed]) == len(results) - 1
