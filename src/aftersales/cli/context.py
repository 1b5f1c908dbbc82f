"""What a command works on: the desk ``aftersales.toml`` describes, times read in its
policy's zone, and cases named by number or id."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import click

from aftersales.cli.config import load_config
from aftersales.policy.examples import parse_local_time
from aftersales.services.desk import ServiceDesk

BY_OPTION = click.option("--by", required=True, help="Staff id of who acts.")
AT_OPTION = click.option("--at", "at", default=None, help="When (ISO time). Default: now.")


@contextmanager
def open_desk() -> Iterator[ServiceDesk]:
    """The desk of the configuration the command was given (``--config`` or the default)."""
    config = load_config(click.get_current_context().find_root().obj)
    with ServiceDesk(config.policy, config.storage, levels=config.levels,
                     outbox=config.outbox, notify=config.notify) as desk:  # fmt: skip
        yield desk


def local_time(desk: ServiceDesk, text: str | None) -> datetime | None:
    """``text`` (ISO 8601; without an offset, in the policy's zone), or None."""
    return None if text is None else parse_local_time(desk.policy, text)


def find_case(desk: ServiceDesk, ref: str) -> str:
    """The id of the case ``ref`` names: a number (``AS-2026-000001``) or an id."""
    if ref.upper().startswith("AS-"):
        return desk.cases.by_number(ref.upper()).id
    return desk.cases.get(ref).id


__all__ = ["AT_OPTION", "BY_OPTION", "find_case", "local_time", "open_desk"]
