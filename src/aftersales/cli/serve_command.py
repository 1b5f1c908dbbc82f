"""``aftersales serve``: the HTTP API (docs/http.md) on uvicorn, over the configured desk.

uvicorn serves ASGI over HTTP/1.1 with a pure-Python fallback where its speedups do not
install; Starlette is the small, typed toolkit under FastAPI without its own model layer,
which the SDK already has (attrs and cattrs): the routes call the desk and return its JSON.
"""

from __future__ import annotations

import os

import click
import uvicorn
from starlette.applications import Starlette

from aftersales.cli.config import load_config
from aftersales.http import make_app
from aftersales.services.desk import ServiceDesk

CONFIG_VARIABLE = "AFTERSALES_CONFIG"


def app_factory() -> Starlette:
    """The application of a worker process: the desk of ``$AFTERSALES_CONFIG`` (or
    ./aftersales.toml). uvicorn calls it in each worker (``workers`` > 1)."""
    config = load_config(os.environ.get(CONFIG_VARIABLE))
    desk = ServiceDesk(config.policy, config.storage, levels=config.levels,
                       outbox=config.outbox, notify=config.notify,
                       messages=config.messages)  # fmt: skip
    return make_app(desk)


@click.command("serve")
@click.option("--host", default=None, help="Bind address (default: [serve] host, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default: [serve] port, 8000).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Worker processes (default: [serve] workers, 1).")  # fmt: skip
def serve_command(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the HTTP API over the configured desk until interrupted."""
    path = click.get_current_context().find_root().obj
    config = load_config(path)
    settings = config.serve
    if path is not None:
        os.environ[CONFIG_VARIABLE] = str(path)
    uvicorn.run("aftersales.cli.serve_command:app_factory", factory=True,
                host=host or settings.host, port=port or settings.port,
                workers=workers or settings.workers, log_level="info")  # fmt: skip
