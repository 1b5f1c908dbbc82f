"""``aftersales import``: a service history from a CSV file into the store."""

from __future__ import annotations

import json

import click

from aftersales.cli.common import console
from aftersales.cli.context import local_time, open_desk
from aftersales.cli.output import JSON_OPTION
from aftersales.cli.simulate_command import _progress
from aftersales.services.history import write_rejects


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--mapping", default=None,
              help="A mapping file (TOML), or a shipped mapping's name (volvo-bpic2013, "
                   "servicenow-audit); without it the file is in the timeline format.")  # fmt: skip
@click.option(
    "--source", default=None, help="The system the keys come from (default: the mapping's name)."
)
@click.option("--rejects", "rejects_path", type=click.Path(dir_okay=False), default=None,
              help="Write the rows that could not be applied to this CSV.")  # fmt: skip
@JSON_OPTION
def import_command(
    file: str, mapping: str | None, source: str | None, rejects_path: str | None, as_json: bool
) -> None:
    """Import a service history (one row per event) into the store, case by case. Re-running
    it skips the cases already imported; every row it cannot apply is counted with its
    reason (and written to --rejects)."""
    with open_desk() as desk, _progress("importing") as progress:
        result = desk.history.import_file(
            file, mapping=mapping, source=source,
            progress=lambda done, total: progress(done / total),
        )  # fmt: skip
    if rejects_path:
        write_rejects(result.rejects, rejects_path)
    summary = {
        "rows": result.rows,
        "cases_imported": result.cases,
        "cases_already_imported": result.resumed,
        "actions": dict(result.actions.most_common()),
        "implied_steps": dict(result.implied.most_common()),
        "ignored_rows": dict(result.ignored.most_common()),
        "warnings": dict(result.warnings.most_common()),
        "placeholder_staff": result.placeholders,
        "rejects": len(result.rejects),
        "rejects_by_reason": dict(result.rejects_by_reason().most_common()),
    }
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    out = console()
    out.print(f"{result.rows} rows, {result.cases} cases imported, {result.resumed} already "
              f"imported, {sum(result.actions.values())} actions, {result.placeholders} "
              f"placeholder staff, {len(result.rejects)} rejects")  # fmt: skip
    for label in ("actions", "implied_steps", "ignored_rows", "warnings", "rejects_by_reason"):
        items = summary[label]
        assert isinstance(items, dict)
        if items:
            listed = ", ".join(f"{k} {v}" for k, v in items.items())
            out.print(f"{label.replace('_', ' ')}: {listed}", soft_wrap=True)
    if rejects_path:
        out.print(f"rejects written to {rejects_path}")


@click.command("export")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--since", default=None, help="First report time (ISO; default: the first case).")
@click.option("--until", default=None, help="End of the period, exclusive (ISO).")
def export_command(file: str, since: str | None, until: str | None) -> None:
    """Write the store's cases as a timeline CSV (one row per event): what 'aftersales
    replay' judges under another policy, and what 'aftersales import' reads."""
    with open_desk() as desk:
        rows = desk.history.export(file, since=local_time(desk, since),
                                   until=local_time(desk, until))  # fmt: skip
    console().print(f"{rows} rows written to {file}")
