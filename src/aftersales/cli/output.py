"""How commands print: tables, CSV and JSON, and the small formats of spans and rates."""

from __future__ import annotations

import csv
import functools
import io
import json
import textwrap
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from itertools import chain, islice
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


def emit(
    title: str | Callable[[int], str],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    fmt: str,
    *,
    plain_past: int | None = None,
) -> int:
    """``rows`` as a table (stored text printed as written), CSV, a JSON list of objects, or
    ``plain`` tab-separated lines; returns how many were printed (a table's ``title`` may
    be made from that count). Every format but the table prints rows as they come, so a
    long list is never held; a table of more than ``plain_past`` rows (which a terminal
    lays out slowly) is printed as plain lines."""
    if fmt == "table" and plain_past is not None:
        rows = iter(rows)
        first = list(islice(rows, plain_past + 1))
        if len(first) > plain_past:
            return emit(title, columns, chain(first, rows), "plain")
        rows = first
    if fmt == "json":
        return echo_json_list(dict(zip(columns, row, strict=True)) for row in rows)
    texts = (["-" if v is None else str(v) for v in row] for row in rows)
    count = 0
    if fmt == "plain":
        click.echo("\t".join(columns))
        for row in texts:
            click.echo("\t".join(row))
            count += 1
        return count
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for raw in rows:
            writer.writerow(raw)
            click.echo(buffer.getvalue(), nl=False)
            buffer.seek(0)
            buffer.truncate()
            count += 1
        click.echo(buffer.getvalue(), nl=False)  # the header, when there was no row
        return count
    table = Table()
    for column in columns:
        table.add_column(column)
    for row in texts:
        table.add_row(*row)
    table.title = title if isinstance(title, str) else title(table.row_count)
    console().print(table)
    return table.row_count


def echo_json_list(items: Iterable[Any]) -> int:
    """A JSON list printed an item at a time, the text ``json.dumps(list, indent=2)`` would
    print; returns how many items."""
    count = 0
    for count, item in enumerate(items, 1):
        text = json.dumps(item, ensure_ascii=False, indent=2, default=str)
        click.echo(("[\n" if count == 1 else ",\n") + textwrap.indent(text, "  "), nl=False)
    click.echo("\n]" if count else "[]")
    return count


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
