"""``aftersales appraise [--period] ...``, ``appraise finalize`` and ``appraise reviews``."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import click
from rich.table import Table

from aftersales.cli.common import console
from aftersales.cli.context import open_desk
from aftersales.cli.output import FORMAT
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
    """Monthly appraisal: scores and grades (--period 2026-11), finalize, reviews."""
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
def appraise_finalize(period: str, by: str) -> None:
    """Freeze a month: store its results and send rewards, plans and reviews."""
    with open_desk() as desk:
        results = desk.appraisals.finalize(period, by=by)
        click.echo(f"{period} finalized: {len(results)} member(s)")
        for outcome in desk.appraisals.outcomes(period):
            click.echo(f"  {outcome.kind:17} {outcome.staff_id:10} {outcome.note}")


@appraise.command("reviews")
@click.option("--all", "show_all", is_flag=True, help="Include decided reviews.")
@click.option("--json", "as_json", is_flag=True)
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
