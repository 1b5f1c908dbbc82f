"""What every command shares: consoles sized for terminals and pipes. (User errors end in
one line at the command group, ``aftersales.cli._Main``.)"""

from __future__ import annotations

import os
import sys
from typing import Any

from rich.console import Console


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
