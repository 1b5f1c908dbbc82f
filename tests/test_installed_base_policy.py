"""Issue 19: the policy's installed-base statements (``sales warranty``, ``fault family``,
``maintenance``) and the ``machine.*`` / ``contract.*`` / ``coverage`` fields."""

from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import policy_errors, with_minimal

from aftersales import parse_policy
from aftersales.core.duration import Unit

GOOD = """
warranty 90 days after accepted
sales warranty 24 months or 2000 operating hours for line excavator
sales warranty 1 year
sales warranty 3000 operating hours for line "wheel-loader"
fault family "hydraulics": "HYD-PUMP", "HYD-HOSE", "HYD-VALVE"
fault family "engine": "ENG-START"
maintenance "500-hour service" for line excavator every 500 operating hours or 6 months {
  checklist "engine oil", "filters", "track tension"
  parts kit "OIL-15W40" 20, "FILTER-9"
  window 10 working days
}
maintenance "yearly" for line "wheel-loader" every 1 year { window 2 weeks }
"""


def test_installed_base_statements_compile_to_the_policy() -> None:
    policy = parse_policy(with_minimal(GOOD), "t.policy")
    excavator = policy.sales_warranty("excavator")
    assert excavator is not None and (excavator.months, excavator.hours) == (24, 2000.0)
    assert excavator.location == "t.policy:20"
    general = policy.sales_warranty("crane")
    assert general is not None and (general.months, general.hours, general.line) == (12, None, None)
    assert policy.sales_warranty(None) is general
    loader = policy.sales_warranty("wheel-loader")
    assert loader is not None and (loader.months, loader.hours) == (None, 3000.0)
    family = policy.fault_family("HYD-HOSE")
    assert family is not None and family.name == "hydraulics"
    assert policy.fault_family("ENG-START").name == "engine"  # type: ignore[union-attr]
    assert policy.fault_family("XX") is None and policy.fault_family(None) is None
    (plan,) = policy.maintenance_plans("excavator")
    assert plan.name == "500-hour service" and plan.hours == 500.0
    assert plan.every is not None and (plan.every.amount, plan.every.unit) == (
        Decimal(6),
        Unit.MONTH,
    )
    assert plan.window.working and plan.checklist == ("engine oil", "filters", "track tension")
    assert plan.kit == (("OIL-15W40", 20), ("FILTER-9", 1))
    (yearly,) = policy.maintenance_plans("wheel-loader")
    assert yearly.hours is None and yearly.every is not None and yearly.every.unit is Unit.YEAR
    assert policy.maintenance_plans("crane") == () and policy.maintenance_plans(None) == ()


def test_a_policy_without_them_gives_none() -> None:
    policy = parse_policy(with_minimal(""), "t.policy")
    assert policy.sales_warranty("excavator") is None
    assert policy.fault_family("HYD-PUMP") is None
    assert policy.maintenance == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sales warranty 24 days", "a sales warranty counts months or years, not days"),
        ("sales warranty 24 months or 2 years", "names calendar time twice"),
        ("sales warranty 100 operating hours or 200 operating hours", "operating hours twice"),
        ("sales warranty 20 operating minutes", "operating time is counted in hours"),
        ("sales warranty 0 operating hours", "0 operating hours is out of range"),
        ("sales warranty 60 working days", "runs on the calendar, not in working time"),
        ("sales warranty 12 months\nsales warranty 24 months", "appears twice"),
        ('sales warranty 12 months for line ""', "the line is empty"),
        ('fault family "a": "X1", "X1"', '"X1" is listed twice'),
        ('fault family "a": "X1"\nfault family "b": "X1"', '"X1" is in two families'),
        ('fault family "a": "X1"\nfault family "a": "X2"', "appears twice"),
        ('fault family "": "X1"', "a fault family needs a name"),
        ('maintenance "m" for line x every 6 months { checklist "a" }', "has no window"),
        ('maintenance "m" for line x every 6 hours { window 1 day }', "by days, weeks, months"),
        (
            'maintenance "m" for line x every 6 months { window 1 day\nwindow 2 days }',
            "window of this plan appears twice",
        ),
        (
            'maintenance "m" for line x every 6 months { window 1 day\nparts kit "A" 0 }',
            "a kit quantity is a whole number from 1",
        ),
        (
            'maintenance "m" for line x every 6 months { window 1 day\nparts kit "A", "A" 2 }',
            '"A" is in the kit twice',
        ),
        (
            'maintenance "m" for line x every 6 months { window 1 day\nchecklist "a", "a" }',
            'the checklist item "a" is listed twice',
        ),
        (
            'maintenance "m" for line x every 6 months { window 1 day }\n'
            'maintenance "m" for line y every 6 months { window 1 day }',
            "appears twice",
        ),
    ],
)
def test_mistakes_are_named_where_they_are(text: str, message: str) -> None:
    error = policy_errors(with_minimal(text + "\n"))
    assert message in str(error)
    assert "t.policy:18" in str(error) or "t.policy:19" in str(error)


def test_a_working_window_needs_a_calendar() -> None:
    text = with_minimal(
        'maintenance "m" for line x every 6 months { window 2 working days }\n'
    ).replace("calendar {\n  workweek mon..fri\n  hours    08:30-12:00, 13:00-17:30\n}\n", "")
    text = text.replace("4 working hours", "4 hours")
    assert "calendar" in str(policy_errors(text))


def test_rules_read_the_machine_the_contract_and_the_coverage() -> None:
    policy = parse_policy(
        with_minimal("").replace(
            'priority urgent  when severity == "critical"',
            'priority urgent  when severity == "critical" or (contract.level == "premium" and '
            "machine_down) or (machine.hours > 10000 and not machine.under_warranty) or "
            'coverage == "repair_warranty"',
        ),
        "t.policy",
    )
    base = {"severity": "minor", "machine_down": True}
    assert policy.priority_for(base).name == "general"  # missing fields: equal nothing
    assert policy.priority_for({**base, "contract": {"level": "premium"}}).name == "urgent"
    assert policy.priority_for({**base, "contract": {"level": "basic"}}).name == "general"
    old = {"hours": 12000.0, "under_warranty": False}
    assert policy.priority_for({**base, "machine": old}).name == "urgent"
    assert (
        policy.priority_for({**base, "machine": {**old, "under_warranty": True}}).name == "general"
    )
    assert policy.priority_for({**base, "coverage": "repair_warranty"}).name == "urgent"


def test_a_misspelt_installed_base_field_is_named_with_the_right_one() -> None:
    text = with_minimal("").replace(
        'priority urgent  when severity == "critical"',
        'priority urgent  when contract.levl == "premium"',
    )
    error = str(policy_errors(text))
    assert 'unknown field "contract.levl"' in error and "contract.level" in error


def test_an_unclosed_block_before_an_installed_base_statement_is_one_error() -> None:
    text = with_minimal(
        'maintenance "m" for line x every 6 months {\n  parts kit "A" 2\n  window 1 day\n'
        "sales warranty 12 months\n"
    )
    [error] = policy_errors(text).errors
    assert error.message == (
        'the block "maintenance "m" for line x every 6 months {" opened on line 18 is not '
        'closed before line 21 ("sales warranty 12 months")'
    )


def test_a_parts_kit_line_is_no_section_to_the_error_recovery() -> None:
    """With a mistake elsewhere, a plan's ``parts kit`` line is not taken for the parts
    section (which would hide the real errors behind an unclosed block)."""
    text = with_minimal(
        'maintenance "m" for line x every 6 months {\n  parts kit "A" 2\n  window 1 day\n}\n'
        + "".join(f"warn att {i}%\n" for i in range(5))
    )
    errors = policy_errors(text).errors
    assert len(errors) == 5 and all("not closed" not in e.message for e in errors)
