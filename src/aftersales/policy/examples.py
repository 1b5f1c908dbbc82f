"""Running a policy's ``example`` blocks, and explaining its decisions for one case."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from aftersales.core.calendar import require_aware
from aftersales.core.errors import ValidationError
from aftersales.policy.expressions.fields import CASE_FIELDS
from aftersales.policy.keywords import CHANNELS, MILESTONES
from aftersales.policy.model import Decision, Example, Expectation, Policy, Target


@attrs.frozen
class ExampleResult:
    """One ``expect`` line of one example: what it expected and what the policy decided."""

    example: Example
    expectation: Expectation
    passed: bool
    expected: str
    got: str

    @property
    def location(self) -> str:
        return self.expectation.location

    def __str__(self) -> str:
        status = "ok" if self.passed else "FAILED"
        text = (
            f'{self.location}: {status}: "{self.example.name}": expect '
            f"{self.expectation.kind} {self.expected}"
        )
        if not self.passed:
            text += f", got {self.got}"
        return text


def _fmt_time(value: datetime | None, policy: Policy) -> str:
    return "nothing" if value is None else value.astimezone(policy.tz).strftime("%Y-%m-%d %H:%M")


def _check(policy: Policy, example: Example, expectation: Expectation) -> tuple[str, str]:
    """(expected, got) as text."""
    kind = expectation.kind
    if kind == "priority":
        return str(expectation.value), policy.priority_for(example.case).name
    if kind == "grade":
        appraisal = policy.appraisal
        assert appraisal is not None and example.ratings is not None
        score = appraisal.score(example.ratings)
        grade = appraisal.grade_for(score)
        return str(expectation.value), f"{grade.name} (score {score.normalize():f})"
    if kind == "approval":
        assert policy.expenses is not None and example.claim is not None
        rule = policy.expenses.approval_for(example.claim)
        got = "no approval" if rule is None else " then ".join(rule.chain)
        return " then ".join(expectation.value), got
    assert kind == "due" and expectation.milestone is not None
    priority = policy.priority_for(example.case).name
    targets = policy.targets_for(priority, example.complexity)
    target = targets.get(expectation.milestone)
    expected = _fmt_time(expectation.value, policy)
    if target is None:
        return expected, f"no {expectation.milestone} target for priority {priority}"
    start = example.events.get(target.after)
    appointment = example.events.get("appointment")
    if target.by_appointment and appointment is None:
        return expected, "no appointment given (given appointment at ...)"
    if not target.by_appointment and start is None:
        return expected, f"no {target.after} time given (given {target.after} at ...)"
    return expected, _fmt_time(policy.due(target, start, appointment), policy)


def run_examples(policy: Policy) -> list[ExampleResult]:
    """Every expectation of every example, in file order."""
    results = []
    for example in policy.examples:
        for expectation in example.expectations:
            try:
                expected, got = _check(policy, example, expectation)
            except ValidationError as exc:  # e.g. a priority table with no cell for the case
                got = f"no decision: {exc}"
                results.append(
                    ExampleResult(example, expectation, False, str(expectation.value), got)
                )
                continue
            if expectation.kind == "grade":
                passed = got.split(" ")[0] == expected
            else:
                passed = expected == got
            results.append(ExampleResult(example, expectation, passed, expected, got))
    return results


# ---- explain ----------------------------------------------------------------------------------
@attrs.frozen
class Deadline:
    """One milestone's deadline for a case, as far as the report time decides it."""

    milestone: str
    target: Target
    due: datetime | None
    note: str


@attrs.frozen
class Explanation:
    decision: Decision
    reported_at: datetime
    deadlines: tuple[Deadline, ...]


_NESTED = ("customer", "product", "custom")
_KINDS = {"text": (str,), "number": (int, float), "true/false": (bool,)}


def case_record(policy: Policy, data: Mapping[str, Any]) -> dict[str, Any]:
    """A case to explain, from JSON: nested (``{"customer": {"tier": "gold"}}``, as
    ``desk.cases.report`` takes it) or dotted (``{"customer.tier": "gold"}``, as example
    blocks write it). Every field must be one the policy's conditions can read (the case's
    own, and the policy's ``field custom.X`` declarations), of its type, and a severity,
    channel or declared choice one the policy knows: a ValidationError says which is not,
    and what would be, rather than a misspelt value quietly deciding nothing."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key in _NESTED and isinstance(value, Mapping):
            items = [(f"{key}.{k}", v) for k, v in value.items()]
        else:
            items = [(str(key), value)]
        for name, item in items:
            if name in flat:
                raise ValidationError(f"the case gives {name} twice (nested and dotted)")
            flat[name] = item
    kinds = {name: str(kind) for name, kind in CASE_FIELDS.items()}
    kinds.update({name: decl.type for name, decl in policy.fields.items()})
    choices = {"severity": policy.severities, "channel": CHANNELS}
    choices.update({name: decl.choices for name, decl in policy.fields.items() if decl.choices})
    nested: dict[str, Any] = {}
    for name, value in flat.items():
        kind = kinds.get(name)
        if kind is None:
            close = difflib.get_close_matches(name, kinds, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise ValidationError(f"the case has no field {name!r}; {hint}fields: "
                                  + ", ".join(sorted(kinds)))  # fmt: skip
        wanted = _KINDS.get(kind, (str,))
        if not isinstance(value, wanted) or (bool not in wanted and isinstance(value, bool)):
            raise ValidationError(f"{name} is {kind}, not {value!r}")
        allowed = choices.get(name)
        if allowed and value not in allowed:
            close = difflib.get_close_matches(str(value), allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValidationError(f"{name} {value!r} is not one of the policy's: "
                                  f"{', '.join(allowed)}{hint}")  # fmt: skip
        *parents, leaf = name.split(".")
        target = nested
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return nested


def explain(policy: Policy, case: Mapping[str, Any] | Any, reported_at: datetime) -> Explanation:
    """The priority of ``case``, the rule that decided it, and each milestone's deadline for a
    case reported at ``reported_at`` (milestones that start later say when they start)."""
    require_aware(reported_at, "reported_at")
    decision = policy.priority_for(case)
    rows: list[Deadline] = []
    targets = policy.targets_for(decision.name)
    for milestone in MILESTONES:
        if milestone == "repair":
            for complexity in ("simple", "complex"):
                target = policy.repair_target(decision.name, complexity)
                if target is not None:
                    rows.append(_deadline(policy, f"repair ({complexity})", target, reported_at))
            continue
        target = targets.get(milestone)
        if target is not None:
            rows.append(_deadline(policy, milestone, target, reported_at))
    return Explanation(decision, reported_at, tuple(rows))


def _deadline(policy: Policy, label: str, target: Target, reported_at: datetime) -> Deadline:
    if target.by_appointment:
        return Deadline(
            label, target, None, "at the appointment the engineer agrees with the customer"
        )
    if target.after == "reported":
        return Deadline(label, target, policy.due(target, reported_at), "")
    return Deadline(label, target, None, f"{target.duration} after the case is {target.after}")


def parse_local_time(policy: Policy, text: str) -> datetime:
    """An ISO date-time; one without an offset is read in the policy's time zone."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError(
            f"cannot read {text!r} as a time; write 2026-11-27T16:00 or 2026-11-27T16:00+08:00"
        ) from exc
    if value.tzinfo is None:
        return policy.local(value)
    return value


__all__ = [
    "Deadline",
    "ExampleResult",
    "Explanation",
    "explain",
    "parse_local_time",
    "run_examples",
]
