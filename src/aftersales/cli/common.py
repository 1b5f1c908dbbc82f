"""What every command shares: consoles sized for terminals and pipes, and user errors."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from rich.console import Console

from aftersales.core.errors import AftersalesError

F = TypeVar("F", bound=Callable[..., Any])


def _width(stream: Any) -> int | None:
    """Terminal width on a terminal; else $COLUMNS, or 120 for pipes and files."""
    if stream.isatty():
        return None
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and 20 <= int(columns) <= 1000 else 120


def console() -> Console:
    # markup and emoji codes off: stored text ("[/bold]", "[link=...]", ":x:") prints as
    # written, never as styles, links or a markup error
    return Console(
        highlight=False, soft_wrap=False, markup=False, emoji=False, width=_width(sys.stdout)
    )


def errors() -> Console:
    return Console(
        stderr=True, highlight=False, markup=False, emoji=False, width=_width(sys.stderr)
    )


def user_errors(func: F) -> F:
    """Turn an AftersalesError into its message on stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AftersalesError as exc:
            errors().print(str(exc), soft_wrap=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]
