"""The API's last line: only :class:`AftersalesError` leaves a public method.

Every value is checked where it enters (:mod:`aftersales.core.values`); this guard is for the
value nobody thought of. A Python exception that still escapes a public method becomes a
:class:`ValidationError` (the usual cause: a value of a type the method never expected) or,
for anything else, an :class:`AftersalesError` naming the method, with the original as its
``__cause__`` and logged with its traceback at DEBUG. ``unexpected`` is set on such errors so
the test suite can tell them from the checks that were meant to fire.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from aftersales.core import redact
from aftersales.core.errors import AftersalesError, ValidationError

logger = logging.getLogger("aftersales")
C = TypeVar("C", bound=type)
F = TypeVar("F", bound=Callable[..., Any])

_INPUT_ERRORS = (TypeError, ValueError, ArithmeticError, LookupError, AttributeError)


def _message(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:  # an exception whose __str__ fails
        text = ""
    text = redact.scrub(" ".join(text.split()))
    if len(text) > 200:
        text = text[:200] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def translate(exc: Exception, where: str) -> AftersalesError:
    """The AftersalesError to raise in place of ``exc``, which escaped ``where``."""
    error: AftersalesError
    if isinstance(exc, RecursionError):
        error = ValidationError(f"{where}: the values given nest too deeply")
    elif isinstance(exc, MemoryError):
        error = ValidationError(f"{where}: the values given are too large to handle")
    elif isinstance(exc, _INPUT_ERRORS):
        error = ValidationError(f"{where}: cannot use the values given ({_message(exc)})")
    else:
        error = AftersalesError(f"{where} failed ({_message(exc)})")
    error.unexpected = True  # type: ignore[attr-defined]
    logger.debug("%s: %s escaped and was reported as %s", where, type(exc).__name__,
                 type(error).__name__, exc_info=exc)  # fmt: skip
    return error


def guard(
    func: F, where: str, recast: Callable[[AftersalesError], AftersalesError] | None = None
) -> F:
    """``func`` with its escaping Python exceptions translated (see the module); ``recast``
    turns the translation into the error class the function promises (a PolicyError)."""

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AftersalesError:
            raise
        except Exception as exc:
            error = translate(exc, where)
            if recast is not None:
                error = recast(error)
                error.unexpected = True  # type: ignore[attr-defined]
            raise error from exc

    return guarded  # type: ignore[return-value]


def public_api(prefix: str) -> Callable[[C], C]:
    """Class decorator: guard every public method of the class, naming it ``prefix.method``."""

    def decorate(cls: C) -> C:
        for attr, member in list(vars(cls).items()):
            if attr.startswith("_") or not inspect.isfunction(member):
                continue
            setattr(cls, attr, guard(member, f"{prefix}.{attr}"))
        return cls

    return decorate


__all__ = ["guard", "public_api", "translate"]
