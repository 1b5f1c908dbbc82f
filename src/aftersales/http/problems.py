"""Errors as HTTP: each :class:`AftersalesError` as one status and a problem-details body
(RFC 9457, ``application/problem+json``) carrying the SDK's message."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from aftersales.core.errors import (
    AftersalesError,
    ConflictError,
    NotFound,
    PermissionDenied,
    PolicyError,
    StorageError,
    ValidationError,
    WorkflowError,
)

STATUS: tuple[tuple[type[AftersalesError], int, str], ...] = (
    (PermissionDenied, 403, "permission-denied"),
    (NotFound, 404, "not-found"),
    (ConflictError, 409, "conflict"),
    (WorkflowError, 409, "workflow"),
    (PolicyError, 422, "policy"),
    (ValidationError, 422, "validation"),
    (StorageError, 503, "storage"),
    (AftersalesError, 500, "error"),
)
"""The status of each error class (the first that matches: subclasses first)."""
TYPE_BASE = "https://aftersales.readthedocs.io/problems/"


def problem(
    status: int, kind: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {"type": TYPE_BASE + kind, "title": kind.replace("-", " "), "status": status,
            "detail": detail, **{k: v for k, v in extra.items() if v is not None}}  # fmt: skip
    return JSONResponse(body, status, headers=headers, media_type="application/problem+json")


def from_error(error: AftersalesError) -> JSONResponse:
    """The response for an SDK error: its status, its message, its hint and policy location
    where it has them."""
    status, kind = next((s, k) for cls, s, k in STATUS if isinstance(error, cls))
    location = None
    if isinstance(error, PolicyError) and error.line is not None:
        location = f"{error.filename}:{error.line}"
    return problem(status, kind, str(error), hint=getattr(error, "hint", None), location=location)


__all__ = ["STATUS", "from_error", "problem"]
