"""Bad input: only PolicyError comes out of parse_policy, never a hang or a crash."""

from __future__ import annotations

import contextlib

import pytest
from conftest import MINIMAL, RULES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales import PolicyError, parse_policy
from aftersales.policy.lexer import MAX_NESTING

SOURCES = [p.read_text("utf-8") for p in sorted(RULES.glob("*.policy"))]
DEFAULT = (RULES / "default.policy").read_text("utf-8")
PIECES = [
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    '"',
    "\n",
    ",",
    "..",
    "%",
    " within ",
    " when ",
    " not ",
    " or ",
    "24:00",
    "2026-02-30",
    " 5 ",
    " CNY",
    " working ",
    "合約",
    "#",
    "\\",
    "\t",
    " otherwise",
    " priority ",
    " sla ",
    "\u00a0",
    "\ufeff",
    "\r",
]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SOURCES))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.one_of(st.sampled_from(PIECES), st.text(max_size=3)))
        end = min(len(text), pos + draw(st.integers(0, 12)))
        if action == "insert":
            text = text[:pos] + piece + text[pos:]
        elif action == "delete":
            text = text[:pos] + text[end:]
        else:
            text = text[:pos] + piece + text[end:]
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_policies_raise_only_policy_error(text: str) -> None:
    try:
        parse_policy(text, "fuzz.policy")
    except PolicyError as exc:
        assert str(exc)  # renders
        assert all(issue.message for issue in exc.errors)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_raises_only_policy_error(text: str) -> None:
    with contextlib.suppress(PolicyError):
        parse_policy(text)


def test_deep_parentheses_are_refused_clearly() -> None:
    depth = 10_000
    text = DEFAULT.replace('severity == "critical"', "(" * depth + "machine_down" + ")" * depth)
    try:
        parse_policy(text)
    except PolicyError as exc:
        assert f"nest deeper than {MAX_NESTING} levels" in str(exc)
    else:
        raise AssertionError("deep nesting loaded")


def test_long_not_chains_are_refused_clearly() -> None:
    text = DEFAULT.replace('severity == "critical"', "not " * 5000 + "machine_down")
    try:
        parse_policy(text)
    except PolicyError as exc:
        assert "nests too deeply" in str(exc) and exc.line == 21
    else:
        raise AssertionError("deep not chain loaded")


def test_long_or_chains_are_fine() -> None:
    chain = " or ".join(f'fault_code == "C{i}"' for i in range(3000))
    policy = parse_policy(DEFAULT.replace('severity == "critical"', chain))
    assert policy.priority_for({"fault_code": "C2999"}).name == "urgent"


def test_a_one_megabyte_policy_loads() -> None:
    base = (RULES / "default.policy").read_text("utf-8")
    block = (
        'example "x{n}" {{\n  given case {{ severity: "critical" }}\n  expect priority urgent\n}}\n'
    )
    parts = [base]
    size = len(base)
    n = 0
    while size < 1_000_000:
        piece = block.format(n=n)
        parts.append(piece)
        size += len(piece)
        n += 1
    policy = parse_policy("".join(parts))
    assert len(policy.examples) > 10_000


def test_many_syntax_errors_stop_at_the_cap() -> None:
    text = SOURCES[0] + "".join(f"warn att {i}%\n" for i in range(100))
    try:
        parse_policy(text)
    except PolicyError as exc:
        assert 1 < len(exc.errors) <= 21


@pytest.mark.parametrize(
    ("shape", "inner"),
    [
        ("({})", "x"),
        ("not {}", "x"),
        ("(not {})", "x"),
        ("(a or {})", "x"),
        ("lower({})", "x"),
    ],
)
def test_depth_shortcut_bounds_every_nesting_shape(shape: str, inner: str) -> None:
    """parser._may_nest_deeply skips the tree walk on the promise that each bracket, call
    or ``not`` adds at most one level; hold every nesting shape to it."""
    from aftersales.policy import tables
    from aftersales.policy.diagnostics import tree_depth
    from aftersales.policy.parser import _STATEMENT_DEPTH

    for levels in (0, 5, 40):
        expr = inner
        for _ in range(levels):
            expr = shape.format(expr)
        text = MINIMAL.replace(
            "priority general otherwise", f"priority urgent when {expr}\npriority general otherwise"
        )
        assert "priority urgent when" in text
        openers = text.count("(") + text.count("[") + text.count("not")
        assert tree_depth(tables.parser().parse(text)) <= _STATEMENT_DEPTH + 2 * openers
