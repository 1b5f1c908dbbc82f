"""``aftersales appraise [--period] ...``, ``appraise rate``, ``appraise finalize``,
``appraise reviews`` and ``appraise decide-review``."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import click
from rich.table import Table

from aftersales.cli.arguments import done, number
from aftersales.cli.common import console
from aftersales.cli.context import AT_OPTION, BY_OPTION, action_time, find_case, open_desk
from aftersales.cli.output import FORMAT, JSON_OPTION, emit
from aftersales.core.convert import to_dict
from aftersales.services.appraisals import Appraisal


def _row(a: Appraisal) -> dict[str, Any]:
    row: dict[str, Any] = {
        "staff": a.staff_id,
        "period": a.period,
        "score": None if a.score is None else round(float(a.score), 2),
        "grade": a.grade,
        "finalized": a.finalized,
    }
    for indicator in a.detail.indicators:
        row[indicator.indicator] = (
            None if indicator.score is None else round(float(indicator.score), 2)
        )
    row["missing"] = " ".join(a.detail.missing)
    return row


@click.group(invoke_without_command=True)
@click.option("--period", default=None, help="The month, YYYY-MM.")
@click.option("--staff", "staff_id", default=None, help="One member only.")
@FORMAT
@click.pass_context
def appraise(ctx: click.Context, period: str | None, staff_id: str | None, fmt: str) -> None:
    """Monthly appraisal: scores and grades (--period 2026-11), rate, finalize, reviews and
    their decisions."""
    if ctx.invoked_subcommand is not None:
        return
    if period is None:
        raise click.UsageError("give --period YYYY-MM, or a subcommand (finalize, reviews)")
    with open_desk() as desk:
        results = (
            [desk.appraisals.appraise(staff_id, period)]
            if staff_id
            else desk.appraisals.appraise_all(period)
        )
        rows = [_row(a) for a in results]
        if fmt == "json":
            data = [{**_row(a), "trace": list(a.detail.trace)} for a in results]
            click.echo(json.dumps(data, ensure_ascii=False, indent=2))
            return
        if fmt == "csv":
            buffer = io.StringIO()
            fields = list(rows[0]) if rows else ["staff"]
            writer = csv.DictWriter(buffer, fields, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
            click.echo(buffer.getvalue(), nl=False)
            return
        table = Table(title=f"appraisal {period}")
        for column in rows[0] if rows else ["staff"]:
            table.add_column(column)
        for row in rows:
            table.add_row(*("-" if v is None else str(v) for v in row.values()))
        console().print(table)


@appraise.command("finalize")
@click.option("--period", required=True, help="The month, YYYY-MM.")
@click.option("--by", required=True, help="The manager who finalizes.")
@JSON_OPTION
def appraise_finalize(period: str, by: str, as_json: bool) -> None:
    """Freeze a month: store its results and send rewards, plans and reviews."""
    with open_desk() as desk:
        results = desk.appraisals.finalize(period, by=by)
        if as_json:
            click.echo(json.dumps({"results": to_dict(results),
                                   "outcomes": to_dict(desk.appraisals.outcomes(period))},
                                  ensure_ascii=False, indent=2))  # fmt: skip
            return
        click.echo(f"{period} finalized: {len(results)} member(s)")
        for outcome in desk.appraisals.outcomes(period):
            click.echo(f"  {outcome.kind:17} {outcome.staff_id:10} {outcome.note}")


@appraise.command("reviews")
@click.option("--all", "show_all", is_flag=True, help="Include decided reviews.")
@JSON_OPTION
def appraise_reviews(show_all: bool, as_json: bool) -> None:
    """Dismissal reviews waiting for a manager's decision."""
    with open_desk() as desk:
        reviews = desk.appraisals.reviews(open_only=not show_all)
        if as_json:
            click.echo(json.dumps(to_dict(reviews), ensure_ascii=False, indent=2))
            return
        table = Table(title=f"{len(reviews)} review(s)")
        for column in ("staff", "period", "months", "grade", "decision", "reason"):
            table.add_column(column)
        for r in reviews:
            table.add_row(r.staff_id, r.period, str(r.months), r.grade, r.decision or "open",
                          r.reason or "")  # fmt: skip
        console().print(table)


@appraise.command("follow-ups")
@click.option("--staff", "staff_id", default=None, help="Only this member's.")
@click.option("--open", "open_only", is_flag=True, help="Only those not done.")
@FORMAT
def appraise_follow_ups(staff_id: str | None, open_only: bool, fmt: str) -> None:
    """What finalized months' grades set in motion (bonuses, awards, courses, coaching,
    rotations), and whether each was done."""
    with open_desk() as desk:
        tz = desk.policy.tz
        rows = [
            (f.id, f.staff_id, f.period, f.grade, f.what, f.owner, f.session,
             f.due and f.due.astimezone(tz).strftime("%Y-%m-%d"), f.status,
             f.done_at and f.done_at.astimezone(tz).strftime("%Y-%m-%d"), f.note, f.rule)
            for f in desk.appraisals.follow_ups(staff_id, open_only=open_only)
        ]  # fmt: skip
        columns = ("follow_up", "staff", "period", "grade", "what", "owner", "session", "due",
                   "status", "done", "note", "rule")  # fmt: skip
        emit("follow-ups", columns, rows, fmt)


@appraise.command("complete-follow-up")
@click.argument("follow_up_id", metavar="FOLLOW_UP")
@click.option("--note", required=True, help="What was done.")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def appraise_complete_follow_up(follow_up_id: str, note: str, by: str, at: str | None,
                                as_json: bool) -> None:  # fmt: skip
    """Record a follow-up done (its owner or a manager): a bonus paid, coaching reviewed."""
    with open_desk() as desk:
        done_ = desk.appraisals.complete_follow_up(follow_up_id, note=note, by=by,
                                                   at=action_time(desk, at))  # fmt: skip
        done(as_json, done_, f"{done_.id}: done ({done_.note})")


@appraise.command("rate")
@click.argument("staff_id", metavar="STAFF")
@click.option("--period", required=True, help="The month, YYYY-MM.")
@click.option("--source", required=True, help="supervisor, customer or self.")
@click.option("--indicator", required=True, help="A rated indicator of the policy.")
@click.option("--score", required=True, help="0 to 100.")
@click.option("--comment", default=None)
@click.option("--case", "case_ref", default=None, help="The case a customer survey is about.")
@click.option("--by", required=True, help="Who rates: the supervisor, the member, an agent.")
@AT_OPTION
@JSON_OPTION
def appraise_rate(staff_id: str, period: str, source: str, indicator: str, score: str,
                  comment: str | None, case_ref: str | None, by: str, at: str | None,
                  as_json: bool) -> None:  # fmt: skip
    """Rate a member on an indicator for a month."""
    with open_desk() as desk:
        case_id = find_case(desk, case_ref) if case_ref else None
        rating = desk.appraisals.rate(staff_id, period=period, source=source,
                                      indicator=indicator, score=number(score, "--score"),
                                      by=by, at=action_time(desk, at), comment=comment,
                                      case_id=case_id)  # fmt: skip
        done(as_json, rating, f"{staff_id} rated {rating.score} on {indicator} by {source}")


@appraise.command("decide-review")
@click.argument("staff_id", metavar="STAFF")
@click.option("--period", required=True, help="The month whose run of failures opened it.")
@click.option("--decision", required=True, help="dismiss, retain or transfer.")
@click.option("--reason", required=True)
@click.option("--by", required=True, help="The manager deciding.")
@AT_OPTION
@JSON_OPTION
def appraise_decide_review(staff_id: str, period: str, decision: str, reason: str, by: str,
                           at: str | None, as_json: bool) -> None:  # fmt: skip
    """Record the manager's decision on a dismissal review (the SDK dismisses nobody)."""
    with open_desk() as desk:
        review = desk.appraisals.decide_review(staff_id, period, decision=decision,
                                               reason=reason, by=by,
                                               at=action_time(desk, at))  # fmt: skip
        done(as_json, review, f"review of {staff_id} ({period}): {decision}")
