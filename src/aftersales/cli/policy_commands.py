"""``aftersales policy check|test|show|explain``."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import click
from rich.table import Table

from aftersales.cli.common import console as _console
from aftersales.cli.common import errors as _errors
from aftersales.cli.context import AT_OPTION, action_time, find_case, open_desk
from aftersales.cli.output import FORMAT, JSON_OPTION, emit
from aftersales.core.calendar import WEEKDAYS, WorkCalendar
from aftersales.core.errors import PolicyError, PolicyIssue, ValidationError
from aftersales.core.vocabulary import MILESTONES
from aftersales.policy.examples import case_record, explain, parse_local_time, run_examples
from aftersales.policy.model import Policy, Target
from aftersales.policy.parser import load_policy
from aftersales.ports.manager import make_manager, vocabulary


def _load(path: str) -> Policy:
    """Load a policy with the functions and metrics the installed plugins register, as a
    desk would."""
    functions, metrics = vocabulary(make_manager())
    return load_policy(path, functions=functions, metrics=metrics)


@click.group()
def policy() -> None:
    """Check, test, show and explain policy files; apply the current one to open cases."""


@policy.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              help="json: one object per error and warning (file, line, column, end_column, "
                   "severity, message, hint), for CI annotations.")  # fmt: skip
def policy_check(files: Sequence[str], fmt: str) -> None:
    """Report every mistake in FILES; exit 1 if there is any. Warnings (a calendar nothing
    uses) are printed too and do not fail the check."""
    failed = 0
    err = _errors()
    found: list[dict[str, Any]] = []
    for name in files:
        try:
            loaded = _load(name)
        except PolicyError as exc:
            failed += 1
            found += [_issue(i, "error") for i in exc.errors]
            if fmt == "text":
                err.print(str(exc), soft_wrap=True)
            continue
        found += [_issue(w, "warning") for w in loaded.warnings]
        if fmt == "json":
            continue
        for warning in loaded.warnings:  # the file loads: these do not fail the check
            err.print(str(attrs.evolve(warning, message=f"warning: {warning.message}")),
                      soft_wrap=True)  # fmt: skip
        count = len(loaded.warnings)
        click.echo(f"{name}: ok" + (f" ({count} warning(s))" if count else ""))
    if fmt == "json":
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
    elif failed:
        err.print(f"{failed} of {len(files)} file(s) have errors", soft_wrap=True)
    if failed:
        sys.exit(1)


def _issue(issue: PolicyIssue, severity: str) -> dict[str, Any]:
    return {"file": issue.filename, "line": issue.line, "column": issue.column,
            "end_column": issue.end_column, "severity": severity, "message": issue.message,
            "hint": issue.hint}  # fmt: skip


@policy.command("test")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@JSON_OPTION
def policy_test(files: Sequence[str], as_json: bool) -> None:
    """Run the example blocks of FILES; exit 1 if any expectation fails (--format json: one
    object per example, for CI)."""
    passed = failed = 0
    err = _errors()
    found: list[dict[str, Any]] = []
    for name in files:
        try:
            loaded = _load(name)
        except PolicyError as exc:
            failed += 1
            found += [{**_issue(i, "error"), "passed": False} for i in exc.errors]
            if not as_json:
                err.print(str(exc), soft_wrap=True)
            continue
        for result in run_examples(loaded):
            passed += result.passed
            failed += not result.passed
            found.append({"location": result.location, "example": result.example.name,
                          "passed": result.passed, "expected": f"{result.expectation.kind} "
                          f"{result.expected}", "got": str(result.got)})  # fmt: skip
            if as_json:
                continue
            if result.passed:
                click.echo(f"ok      {result.location}  {result.example.name}")
            else:
                click.echo(
                    f"FAILED  {result.location}  {result.example.name}\n"
                    f"        expected {result.expectation.kind} {result.expected}, "
                    f"got {result.got}"
                )
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
    else:
        click.echo(f"{passed} passed, {failed} failed")
    if failed:
        sys.exit(1)


@policy.command("show")
@click.argument("file", type=click.Path(dir_okay=False))
def policy_show(file: str) -> None:
    """Show every value FILE fills in, as tables."""
    loaded = _load(file)
    out = _console()
    for table in policy_tables(loaded):
        out.print(table)
        out.print()


@policy.command("explain")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--case",
    "case_file",
    required=True,
    type=click.Path(dir_okay=False),
    help="JSON file with the case's fields, nested as desk.cases.report takes them or "
    'dotted as examples write them ({"customer.tier": "gold"}).',
)
@click.option(
    "--at",
    "at",
    default=None,
    help="When the case is reported (ISO time; no offset: the policy's zone). Default: now.",
)
@JSON_OPTION
def policy_explain(file: str, case_file: str, at: str | None, as_json: bool) -> None:
    """The priority of a case, the rule that decided it, and each milestone's deadline."""
    loaded = _load(file)
    case = case_record(loaded, _read_case(case_file))
    reported = parse_local_time(loaded, at) if at else datetime.now(loaded.tz)
    explanation = explain(loaded, case, reported)
    out = _console()
    decision = explanation.decision
    rule = decision.rule
    if as_json:
        click.echo(json.dumps({
            "priority": decision.name, "rule": decision.location, "condition": rule.source,
            "reported": reported.isoformat(),
            "deadlines": [{"milestone": row.milestone, "target": _target_text(row.target),
                           "due": row.due.isoformat() if row.due else None, "note": row.note,
                           "rule": row.target.location} for row in explanation.deadlines],
        }, ensure_ascii=False, indent=2))  # fmt: skip
        return
    out.print(f"priority: {decision.name}  (rule at {decision.location}: {rule.source})")
    out.print(f"reported: {_when(reported, loaded)}")
    table = Table(title="deadlines")
    for column in ("milestone", "target", "due", "rule at"):
        table.add_column(column)
    for row in explanation.deadlines:
        due = _when(row.due, loaded) if row.due else row.note
        table.add_row(row.milestone, _target_text(row.target), due, row.target.location)
    out.print(table)


def _read_case(path: str) -> Any:
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"
        ) from exc
    if not isinstance(data, dict):
        raise ValidationError(
            f"{path}: a case is a JSON object, such as "
            '{"severity": "major", "machine_down": true}'
        )
    return data


def _when(value: datetime | None, loaded: Policy) -> str:
    if value is None:
        return "-"
    return value.astimezone(loaded.tz).strftime("%a %Y-%m-%d %H:%M")


# ---- policy show --------------------------------------------------------------------------------
def _pct(value: Decimal) -> str:
    return f"{value.normalize():f}%"


def _target_text(target: Target | None) -> str:
    if target is None:
        return "-"
    if target.by_appointment:
        return "by appointment"
    text = f"within {target.duration} after {target.after}"
    if target.calendar:
        text += f' on "{target.calendar}"'
    return text


def _days(days: Iterable[int]) -> str:
    return ", ".join(WEEKDAYS[d] for d in sorted(days))


def _spans(hours: Iterable[tuple[int, int]]) -> str:
    return ", ".join(f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in hours)


def _hours(calendar: WorkCalendar) -> str:
    """The calendar's hours, then each weekday's own and each season's, one per line."""
    lines = [_spans(calendar.hours)] if calendar.hours else []
    lines += [f"{WEEKDAYS[d]}: {_spans(h)}" for d, h in sorted(calendar.day_hours.items())]
    for s in calendar.seasons:
        days = f" {_days(s.days)}" if s.days else ""
        lines.append(f"{s.first}..{s.last}{days}: {_spans(s.hours)}")
    return "\n".join(lines)


def _table(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    return table


def policy_tables(p: Policy) -> list[Table]:
    """Every filled-in value of ``p`` as rich tables, in the order of the language page."""
    tables = [
        _table(
            "policy",
            ("name", "version", "time zone", "currency"),
            [(p.name, p.version, p.timezone, p.currency or "-")],
        )
    ]
    tables.append(
        _table(
            "calendars",
            ("calendar", "work week", "hours", "holidays", "make-up working days"),
            [
                (
                    name or "(default)",
                    _days(c.workweek),
                    _hours(c),
                    str(len(c.holidays)) + " days",
                    ", ".join(map(str, sorted(c.workdays))) or "-",
                )
                for name, c in p.calendars.items()
            ],
        )
    )
    if p.fields:
        tables.append(
            _table(
                "custom fields",
                ("field", "type"),
                [
                    (f.name, "one of " + ", ".join(f.choices) if f.choices else f.type)
                    for f in p.fields.values()
                ],
            )
        )
    tables.append(
        _table(
            "priorities (first match wins)",
            ("priority", "when", "rule at"),
            [(r.name, r.source, r.location) for r in p.priorities],
        )
    )
    shown_always = ("response", "contact", "arrival", "callback")
    milestones = tuple(
        m
        for m in MILESTONES
        if m != "repair"
        and (m in shown_always or any(m in p.targets_for(n) for n in p.priority_names))
    )
    rows = []
    for name in p.priority_names:
        targets = p.targets_for(name)
        rows.append(
            (
                name,
                *(_target_text(targets.get(m)) for m in milestones),
                *(_target_text(p.repair_target(name, c)) for c in ("simple", "complex")),
            )
        )
    tables.append(
        _table(
            "targets per priority",
            ("priority", *milestones, "repair (simple)", "repair (complex)"),
            rows,
        )
    )
    auto = p.close_automatically
    general = [
        ("severities", ", ".join(p.severities)),
        ("warn at", ", ".join(_pct(v) for v in p.warn_at) or "-"),
        ("excuse", p.excuse or "never"),
        ("hold while", ", ".join(p.hold) or "nothing stops a clock"),
        ("warranty", f"{p.warranty.duration} after {p.warranty.after}" if p.warranty else "-"),
        ("escalate after", f"{p.escalate_after} rejection(s)" if p.escalate_after else "-"),
        ("callback", "optional: close once accepted" if p.callback_optional else "before close"),
        ("close automatically", f"{auto.duration} after {auto.after}" if auto else "never"),
        ("repair met when", p.repair_met_when),
        (
            "resolve remotely",
            "by " + ", ".join(p.resolve_remotely) if p.resolve_remotely else "never: visits only",
        ),
        (
            "reopen within",
            "never"
            if p.reopen_within is None
            else (
                f"{p.reopen_within}, "
                f"{'restarting' if p.repair_restarts_on_reopen else 'resuming'} the repair clock"
            ),
        ),
    ]
    tables.append(_table("deadlines in general", ("rule", "value"), general))
    if p.appraisal is not None:
        a = p.appraisal
        rows = [("cycle", str(a.cycle) if a.cycle else "-"), ("evaluate", a.evaluate)]
        rows += [(f"source {w.name}", _pct(w.percent)) for w in a.sources]
        rows += [(f"indicator {w.name}", _pct(w.percent)) for w in a.indicators]
        for indicator, metrics in a.measures.items():
            for m in metrics:
                target = _pct(m.target) if m.target_is_percent else f"{m.target.normalize():f}"
                if m.per:
                    target += f" per {m.per.value}"
                rows.append((f"  {indicator}: {m.metric}", f"{_pct(m.percent)}, target {target}"))
        rows += [
            (
                f"grade {g.name}",
                "otherwise"
                if g.threshold is None
                else f"score {'>=' if g.inclusive else '>'} {g.threshold.normalize():f}",
            )
            for g in a.grades
        ]
        rows.append(("reward", ", ".join(a.reward) or "-"))
        rows.append(("improve", ", ".join(a.improve) or "-"))
        if a.dismiss_after:
            rows.append(
                (
                    "dismissal review",
                    f"after {a.dismiss_after} consecutive months graded {a.dismiss_grade}",
                )
            )
        tables.append(_table("appraisal", ("item", "value"), rows))
    if p.expenses is not None:
        e = p.expenses
        rows = [("invoice", "required" if e.invoice_required else "optional")]
        rows += [
            (f"limit {lim.category}", f"{lim.amount} per {lim.per}") for lim in e.limits.values()
        ]
        rows += [
            (
                "approval",
                " then ".join(r.chain) + (f" when {r.condition.source}" if r.condition else ""),
            )
            for r in e.approvals
        ]
        tables.append(_table("expenses", ("item", "value"), rows))
    if p.parts is not None:
        pa = p.parts
        rows = [
            ("stocktake every", str(pa.stocktake_every) if pa.stocktake_every else "-"),
            ("reorder when", pa.reorder.source if pa.reorder else "-"),
            ("inspect incoming", ", ".join(pa.inspect_incoming) or "-"),
        ]
        rows += [
            (
                "requisition approval",
                " then ".join(r.chain) + (f" when {r.condition.source}" if r.condition else ""),
            )
            for r in pa.requisition_approvals
        ]
        tables.append(_table("parts", ("item", "value"), rows))
    if p.training is not None:
        t = p.training
        rows = [(f"assessment {w.name}", _pct(w.percent)) for w in t.assessment]
        rows.append(("pass at", f"{t.pass_mark.normalize():f}" if t.pass_mark is not None else "-"))
        rows.append(
            (
                "retake",
                "until passed"
                if t.retake_until_passed
                else f"at most {t.retake_limit} times"
                if t.retake_limit
                else "-",
            )
        )
        rows.append(("certificate valid", str(t.certificate_valid) if t.certificate_valid else "-"))
        rows += [
            (f'require "{c.certificate}"', c.condition.source if c.condition else "always")
            for c in t.certificates
        ]
        tables.append(_table("training", ("item", "value"), rows))
    if p.safety is not None:
        s = p.safety
        tables.append(
            _table(
                "safety",
                ("item", "value"),
                [
                    ("protective gear before work", ", ".join(s.ppe) or "-"),
                    ("inspect tools every", str(s.tools_every) if s.tools_every else "-"),
                    (
                        "report incidents within",
                        str(s.incidents_within) if s.incidents_within else "-",
                    ),
                ],
            )
        )
    tables.append(
        _table(
            "examples",
            ("example", "expects", "at"),
            [(e.name, ", ".join(x.kind for x in e.expectations), e.location) for e in p.examples],
        )
    )
    return tables


@policy.command("apply")
@click.option("--dry-run", is_flag=True, help="List what would move; change nothing.")
@click.option("--case", "cases", multiple=True, help="Only this case (number or id); repeat.")
@click.option("--by", default=None, help="Staff id of the manager who decides (not for --dry-run).")
@click.option("--reason", default=None, help="Why the cases move (not for --dry-run).")
@AT_OPTION
@FORMAT
def policy_apply(
    dry_run: bool, cases: Sequence[str], by: str | None, reason: str | None, at: str | None,
    fmt: str,
) -> None:  # fmt: skip
    """Move open cases to the policy aftersales.toml names (every open case under an older
    version, or --case ones): their priority is decided again, met milestones keep the
    policy they were met under. --dry-run lists what would change."""
    with open_desk() as desk:
        ids = [find_case(desk, ref) for ref in cases] if cases else None
        moves = desk.policy_moves(ids)
        if not dry_run:
            if by is None or reason is None:
                raise ValidationError(
                    "moving cases needs --by (a manager) and --reason; --dry-run only lists them"
                )
            desk.reapply_policy(by=by, reason=reason, at=action_time(desk, at),
                                case_ids=[m.case_id for m in moves])  # fmt: skip
        rows = [(m.number, m.from_version, m.to_version, m.priority, m.new_priority, m.rule)
                for m in moves]  # fmt: skip
        columns = ["case", "from", "to", "priority", "new priority", "rule"]
        emit(f"policy {desk.policy.version}", columns, rows, fmt)
        if fmt == "table":
            done = "would move; nothing was changed" if dry_run else "moved"
            click.echo(f"{len(moves)} case(s) {done}")
