"""What a command works on: the desk ``aftersales.toml`` describes, times read in its
policy's zone, and cases named by number or id."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import click

from aftersales.cli.config import load_config
from aftersales.core.errors import AftersalesError
from aftersales.plugins.sqlite import parse_url
from aftersales.policy.examples import parse_local_time
from aftersales.services.desk import ServiceDesk

BY_OPTION = click.option("--by", required=True, help="Staff id of who acts.")
AT_OPTION = click.option("--at", "at", default=None, help="When (ISO time). Default: now.")


@contextmanager
def open_desk() -> Iterator[ServiceDesk]:
    """The desk of the configuration the command was given (``--config`` or the default)."""
    config = load_config(click.get_current_context().find_root().obj)
    new = _new_store(config.storage)
    with ServiceDesk(config.policy, config.storage, levels=config.levels,
                     outbox=config.outbox, notify=config.notify,
                     messages=config.messages) as desk:  # fmt: skip
        if new is not None:  # never silently: a mistyped path would look like an empty desk
            where = config.source or "the defaults (no aftersales.toml)"
            click.echo(f"aftersales: created a new, empty store {new} (storage in {where})",
                       err=True)  # fmt: skip
        yield desk


def _new_store(url: str) -> str | None:
    """The path of the SQLite file ``url`` names, if there is none yet."""
    if not url.startswith("sqlite:"):
        return None
    try:
        path, _ = parse_url(url)
    except AftersalesError:
        return None  # the store says what is wrong with it
    return None if path == ":memory:" or Path(path).exists() else path


def local_time(desk: ServiceDesk, text: str | None) -> datetime | None:
    """``text`` (ISO 8601; without an offset, in the policy's zone), or None."""
    return None if text is None else parse_local_time(desk.policy, text)


def action_time(desk: ServiceDesk, text: str | None) -> datetime | None:
    """:func:`local_time` for the moment an action is recorded (``--at``). A time later than
    now is taken (a test, a simulation) but said out loud: a mistyped year would date an
    action years ahead, and every later action of the case with it."""
    when = local_time(desk, text)
    now = desk.now()
    if when is not None and when > now + FUTURE_SLACK:
        then = now.replace(microsecond=0).isoformat()
        click.echo(f"aftersales: warning: {when.isoformat()} is later than now ({then}); "
                   "recorded as given", err=True)  # fmt: skip
    return when


FUTURE_SLACK = timedelta(minutes=5)  # clocks of two machines may differ this much


def find_case(desk: ServiceDesk, ref: str) -> str:
    """The id of the case ``ref`` names: a number (``AS-2026-000001``) or an id."""
    return desk.cases.by_ref(ref).id


__all__ = ["AT_OPTION", "BY_OPTION", "action_time", "find_case", "local_time", "open_desk"]
