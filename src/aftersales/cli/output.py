"""How commands print: tables, CSV and JSON, and the small formats of spans and rates."""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar, cast

import click
from rich.table import Table

from aftersales.cli.common import console
from aftersales.core.convert import to_dict

FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table"
)
F = TypeVar("F", bound=Callable[..., Any])


def JSON_OPTION(command: F) -> F:
    """``--format table|json`` (and ``--json``, the same as ``--format json``) for a command
    that prints one record or a list of them, passed to it as ``as_json``."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        kwargs["as_json"] = click.get_current_context().meta.get(_AS_JSON, False)
        return command(*args, **kwargs)

    def remember(ctx: click.Context, _: click.Parameter, value: Any) -> Any:
        if value is True or value == "json":
            ctx.meta[_AS_JSON] = True
        return value

    run = click.option("--json", is_flag=True, expose_value=False, callback=remember,
                       help="Print JSON (the same as --format json).")(run)  # fmt: skip
    choice = click.Choice(["table", "json"])
    run = click.option("--format", type=choice, default="table", expose_value=False,
                       callback=remember, help="table or json.")(run)  # fmt: skip
    return cast(F, run)


_AS_JSON = "aftersales.as_json"


def emit(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> None:
    """``rows`` as a table (stored text printed as written), CSV, a JSON list of objects, or
    ``plain`` tab-separated lines (what a table of hundreds of rows becomes)."""
    if fmt == "json":
        data = [dict(zip(columns, row, strict=True)) for row in rows]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    elif fmt == "plain":  # long lists: one tab-separated line a row, printed as it goes
        click.echo("\t".join(columns))
        for row in rows:
            click.echo("\t".join("-" if v is None else str(v) for v in row))
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        click.echo(buffer.getvalue(), nl=False)
    else:
        table = Table(title=title)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*("-" if v is None else str(v) for v in row))
        console().print(table)


def print_json(value: Any) -> None:
    """A model (or a list of them) in its JSON form (``aftersales.to_dict``)."""
    click.echo(json.dumps(to_dict(value), ensure_ascii=False, indent=2))


def span(value: timedelta | None) -> str:
    """``1d 2h05``, or ``-``."""
    if value is None:
        return "-"
    minutes = int(value.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    return (f"{days}d " if days else "") + f"{hours}h{minutes:02d}"


def pct(value: float | None) -> str:
    """``93.5%``, or ``-``."""
    return "-" if value is None else f"{value:.1%}"


__all__ = ["FORMAT", "JSON_OPTION", "emit", "pct", "print_json", "span"]
