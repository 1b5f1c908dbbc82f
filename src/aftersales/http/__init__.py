"""The HTTP API: ``make_app(desk)`` is an ASGI application over a desk (``aftersales serve``
runs it with uvicorn). docs/http.md has every route."""

from aftersales.http.app import make_app

__all__ = ["make_app"]
