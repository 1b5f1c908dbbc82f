"""Expression semantics, compiled code safety, and priority decisions."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from conftest import MINIMAL, RULES

from aftersales import FunctionRegistry, PolicyError, ValueType, load_policy, parse_policy

FIELDS = "fields {\n  custom.tons number\n  custom.note text\n  custom.vip bool\n}\n"


def decide(condition: str, case: object) -> str:
    text = MINIMAL.replace('severity == "critical"', condition) + FIELDS
    return parse_policy(text).priority_for(case).name


@pytest.mark.parametrize(
    ("condition", "case", "expected"),
    [
        ('severity == "critical"', {"severity": "critical"}, "urgent"),
        ('severity != "critical"', {}, "urgent"),  # missing differs
        ('severity == "critical"', {}, "general"),  # missing equals nothing
        ("custom.tons >= 50", {"custom": {"tons": 50}}, "urgent"),
        ("custom.tons >= 50", {"custom": {}}, "general"),  # missing orders false
        ("custom.tons < 50", {}, "general"),
        ('customer.tier in ["gold", "platinum"]', {"customer": {"tier": "gold"}}, "urgent"),
        ('customer.tier not in ["gold"]', {"customer": {"tier": "silver"}}, "urgent"),
        ('fault contains "LEAK"', {"fault": "oil leak at gland"}, "urgent"),  # ignores case
        ('fault contains "leak"', {}, "general"),
        ("machine_down", {"machine_down": True}, "urgent"),
        ("not machine_down", {}, "urgent"),  # missing bool is false
        (
            'not (severity == "minor") and machine_down',
            {"severity": "major", "machine_down": True},
            "urgent",
        ),
        (
            'severity == "minor" or machine_down and custom.vip',
            {"machine_down": True, "custom": {"vip": True}},
            "urgent",
        ),
        ('starts_with(fault_code, "HYD")', {"fault_code": "HYD-PUMP"}, "urgent"),
        ("length(fault) > 3", {}, "general"),  # functions skip missing
        ('custom.note == "a\\"b"', {"custom": {"note": 'a"b'}}, "urgent"),
    ],
)
def test_semantics(condition: str, case: dict[str, object], expected: str) -> None:
    assert decide(condition, case) == expected


def test_and_binds_tighter_than_or() -> None:
    cond = 'severity == "a" or severity == "b" and machine_down'
    assert decide(cond, {"severity": "a", "machine_down": False}) == "urgent"
    assert decide(cond, {"severity": "b", "machine_down": False}) == "general"


def test_objects_work_like_mappings() -> None:
    case = SimpleNamespace(
        severity="major",
        machine_down=True,
        customer=SimpleNamespace(tier="gold"),
        custom={"tons": 80},
    )
    policy = load_policy(RULES / "default.policy")
    decision = policy.priority_for(case)
    assert (decision.name, decision.location) == ("urgent", f"{RULES / 'default.policy'}:21")
    assert policy.priority_for({"severity": "minor"}).location.endswith("default.policy:22")


def test_decision_names_its_rule() -> None:
    policy = load_policy(RULES / "taiwan-cranes.policy")
    decision = policy.priority_for({"machine_down": True, "custom": {"吊重噸數": 20}})
    assert decision.name == "high" and decision.rule.condition is not None
    assert decision.rule.condition.source == "machine_down"


def test_plugin_functions_are_type_checked() -> None:
    registry = FunctionRegistry()
    registry.register("region_of", lambda serial: serial[:2], [ValueType.TEXT], ValueType.TEXT)
    text = MINIMAL.replace('severity == "critical"', 'region_of(product.serial) == "EX"')
    policy = parse_policy(text, functions=registry)
    assert policy.priority_for({"product": {"serial": "EX350"}}).name == "urgent"
    with pytest.raises(PolicyError, match="region_of\\(\\) needs text here, not number"):
        parse_policy(
            MINIMAL.replace('severity == "critical"', 'region_of(5) == "EX"'), functions=registry
        )
    with pytest.raises(PolicyError, match='unknown function "lenght"'):
        parse_policy(MINIMAL.replace('severity == "critical"', "lenght(fault) > 1"))


# ---- a hostile policy cannot run code ----------------------------------------------------------
@pytest.mark.parametrize(
    "condition",
    [
        "fault == \"\\\"); __import__('os').system('touch /tmp/pwned') #\"",
        "__import__ == 1",
        "__class__ == 1",
        'customer.__class__ == "x"',
        'custom.__class__ == "x"',
        'fault == "{0.__class__}"',
        'eval("1") == 1',
    ],
)
def test_hostile_policy_cannot_run_code(condition: str, tmp_path: object) -> None:
    text = MINIMAL.replace('severity == "critical"', condition)
    try:
        policy = parse_policy(text)
    except PolicyError:
        return  # refused at load: fine
    # Loaded: its strings are data. Deciding must not touch the file system or raise.
    assert policy.priority_for({"fault": "x", "customer": {}}).name in ("urgent", "general")


def test_custom_field_names_cannot_start_with_underscore() -> None:
    with pytest.raises(PolicyError, match="cannot start with an underscore"):
        parse_policy(MINIMAL + "fields {\n  custom.__class__ text\n}\n")


def test_generated_code_has_no_builtins() -> None:
    policy = parse_policy(MINIMAL)
    assert policy.decide.__globals__["__builtins__"] == {}
