"""Token-level mutations of the shipped policies: each loads or fails with a PolicyError of
its own (never a Python exception, never the boundary's catch-all), in well under a second.
Bounded for `make test`; `make fuzz` runs many more."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales import PolicyError, parse_policy
from aftersales.policy import run_examples

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "rules").glob("*.policy"))]
EXAMPLES = 3000 if os.environ.get("AFTERSALES_FUZZ") else 150
# the promise is 1 s; the everyday suite allows for a loaded machine
BOUND = 1.0 if os.environ.get("AFTERSALES_FUZZ") else 5.0
TOKEN = re.compile(r'"[^"\n]*"|\d[\d.:%-]*|[^\W\d]\w*(?:\.\w+)*|\S')
NASTY = ["0", "-1", "10" * 200, "9999-12-31", "0001-01-01", "00:00-24:00", "24:00", '"Asia"',
         '""', '"\x00"', "not", "(", ")", "{", "}", "[", "]", "..", "%", "100%", "1000%",
         "working", "years", "otherwise", "when", "and", "or", "in", "==", "\n", "#", "EUR",
         "9" * 5000, '"' + "x" * 5000 + '"', "2026-02-30", "99:99", "mon..sun", "then"]  # fmt: skip


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    source=st.sampled_from(SOURCES),
    edits=st.lists(
        st.tuples(st.sampled_from(["drop", "dup", "swap", "nasty"]), st.integers(0, 10**6),
                  st.integers(0, 10**6), st.sampled_from(NASTY)),
        min_size=1, max_size=4,
    ),
)  # fmt: skip
def test_mutated_policies_fail_only_with_policy_errors(
    source: str, edits: list[tuple[str, int, int, str]]
) -> None:
    tokens = [(m.start(), m.end()) for m in TOKEN.finditer(source)]
    text = source
    for op, i, j, nasty in edits:
        tokens = [(m.start(), m.end()) for m in TOKEN.finditer(text)] or tokens
        a, b = tokens[i % len(tokens)]
        c, d = tokens[j % len(tokens)]
        if op == "drop":
            text = text[:a] + text[b:]
        elif op == "dup":
            text = text[:b] + " " + text[a:b] + text[b:]
        elif op == "swap":
            text = text[:a] + text[c:d] + text[b:]
        else:
            text = text[:a] + nasty + text[b:]
    started = time.perf_counter()
    try:
        policy = parse_policy(text, "fuzz.policy")
        run_examples(policy)
    except PolicyError as exc:
        assert not getattr(exc, "unexpected", False), str(exc)
    assert time.perf_counter() - started < BOUND
