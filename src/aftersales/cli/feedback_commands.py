"""``aftersales product-problems``, ``aftersales feedback`` and ``aftersales messages``:
what engineers and customers tell the company, and the templates it answers with."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from aftersales.cli.arguments import done
from aftersales.cli.context import AT_OPTION, BY_OPTION, action_time, find_case, open_desk
from aftersales.cli.output import FORMAT, JSON_OPTION, emit
from aftersales.services.feedback import DIMENSIONS
from aftersales.services.templates import shipped_folder


@click.group("product-problems")
def product_problems() -> None:
    """Design and quality problems engineers found on site, grouped for the product team."""


@product_problems.command("record")
@click.argument("case_ref", metavar="CASE")
@click.option("--evidence", required=True, help="What was seen, measured, photographed.")
@click.option("--part", default=None, help="The part concerned.")
@click.option("--fault", default=None, help="Default: the case's fault code.")
@click.option("--model", default=None, help="Default: the case's model.")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def problems_record(case_ref: str, evidence: str, part: str | None, fault: str | None,
                    model: str | None, by: str, at: str | None, as_json: bool) -> None:  # fmt: skip
    """Record a suspected product problem on a case."""
    with open_desk() as desk:
        made = desk.product_problems.record(
            find_case(desk, case_ref), evidence=evidence, part=part, fault=fault, model=model,
            by=by, at=action_time(desk, at),
        )  # fmt: skip
        done(as_json, made, f"{made.id}: {made.model} / {made.fault} recorded")


@product_problems.command("list")
@FORMAT
def problems_list(fmt: str) -> None:
    """Every product problem, oldest first."""
    with open_desk() as desk:
        rows = ((p.id, p.case_number, p.model, p.fault, p.part, p.by,
                 p.at.astimezone(desk.policy.tz).strftime("%Y-%m-%d %H:%M"), p.evidence)
                for p in desk.product_problems.list())  # fmt: skip
        emit("product problems", ("id", "case", "model", "fault", "part", "by", "at",
                                  "evidence"), rows, fmt)  # fmt: skip


@product_problems.command("groups")
@FORMAT
def problems_groups(fmt: str) -> None:
    """The problems by model and fault, the most reported first."""
    with open_desk() as desk:
        rows = ((g.model, g.fault, g.count, ", ".join(g.cases),
                 ", ".join(f"{p} x{n}" for p, n in g.parts))
                for g in desk.product_problems.groups())  # fmt: skip
        emit("product problems by model and fault", ("model", "fault", "count", "cases",
                                                     "parts"), rows, fmt)  # fmt: skip


@click.group()
def feedback() -> None:
    """The monthly digest of customers' feedback."""


@feedback.command("digest")
@click.option("--month", required=True, help="The month (2026-11).")
@click.option("--by", "by_dimension", type=click.Choice(DIMENSIONS), default="fault_code",
              show_default=True)  # fmt: skip
@click.option("--send", is_flag=True, help="Also send it to the managers (once a month).")
@FORMAT
def feedback_digest(month: str, by_dimension: str, send: bool, fmt: str) -> None:
    """Cases, reworks, rejections, reopenings, complaints, satisfaction and its trend, and
    product problems of a month, per fault code, model, customer or engineer."""
    with open_desk() as desk:
        rows = desk.feedback.digest(month, per=by_dimension)
        columns = (by_dimension, "cases", "reworks", "rejections", "reopenings", "complaints",
                   "satisfaction", "previous", "trend", "product_problems")  # fmt: skip
        emit(f"customer feedback {month} by {by_dimension}", columns,
             ((r.key, r.cases, r.reworks, r.rejections, r.reopenings, r.complaints,
               r.satisfaction, r.previous, r.trend, r.product_problems) for r in rows),
             fmt)  # fmt: skip
        if send:
            sent = desk.feedback.send(month)
            click.echo(f"sent to {len(sent[0].recipients)} managers" if sent
                       else "already sent (or nobody to send it to)", err=True)  # fmt: skip


@click.group()
def messages() -> None:
    """The templates of customers' messages and of the repair report."""


@messages.command("templates")
@click.option("--copy", "copy_to", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Copy the shipped templates here, to edit.")  # fmt: skip
def messages_templates(copy_to: Path | None) -> None:
    """Where the shipped templates are; with --copy, a copy to make the company's own
    (then set [messages] templates in aftersales.toml)."""
    source = shipped_folder()
    if copy_to is None:
        click.echo(str(source))
        return
    if copy_to.exists() and any(copy_to.iterdir()):
        raise click.UsageError(f"{copy_to} is not empty; give a new folder")
    shutil.copytree(source, copy_to, dirs_exist_ok=True)
    click.echo(f"copied to {copy_to}; point [messages] templates at it")
