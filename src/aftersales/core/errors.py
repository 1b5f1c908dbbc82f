"""The errors of the aftersales API.

Every error the SDK raises on purpose is an :class:`AftersalesError`. Each subclass is also
the builtin exception a Python programmer would reach for, so ``except ValueError`` keeps
working for code that does not know about aftersales.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import attrs


class AftersalesError(Exception):
    """The base of every error the SDK raises on purpose."""


class ValidationError(AftersalesError, ValueError):
    """Input that can never be right: a naive datetime, an unknown severity, an empty fault."""


class WorkflowError(AftersalesError, RuntimeError):
    """An action that is not allowed in the record's current state."""


class PermissionDenied(AftersalesError, PermissionError):
    """The actor lacks the role, or is not the person the action belongs to."""


class NotFound(AftersalesError, LookupError):
    """An unknown case, staff member, part or other record."""


class ConflictError(AftersalesError, RuntimeError):
    """A write named a version that someone else already replaced."""


class StorageError(AftersalesError, OSError):
    """The store cannot be read or written: locked past the busy timeout, damaged, read-only,
    unreachable or of an unknown schema. The message names the store (never its password)
    and what to do."""


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


@attrs.frozen
class PolicyIssue:
    """One mistake in a policy file, with where it is and what would be right."""

    message: str
    filename: str = "<policy>"
    line: int | None = None
    column: int | None = None
    source_line: str | None = None
    hint: str | None = None
    end_column: int | None = None

    def __str__(self) -> str:
        where = self.filename
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        parts = [f"{where}: {self.message}"]
        if self.source_line is not None and self.column is not None:
            shown = self.source_line.rstrip("\n").replace("\t", " ")
            before = shown[: max(self.column - 1, 0)]
            span = 1
            if self.end_column is not None and self.end_column > self.column:
                span = max(1, display_width(shown[self.column - 1 : self.end_column - 1]))
            parts.append(f"    {shown}")
            parts.append("    " + " " * display_width(before) + "^" * span)
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)


class PolicyError(AftersalesError, ValueError):
    """A policy file that does not load.

    ``errors`` lists every mistake found in the file, in file order; the first one's
    ``filename``, ``line``, ``column`` and ``hint`` are also the error's own attributes.
    ``str()`` reads like a compiler's output: ``file:line:column: message``, the source
    line, a caret under the spot and a ``hint:`` line.
    """

    def __init__(self, errors: Sequence[PolicyIssue] | str, **where: object) -> None:
        if isinstance(errors, str):
            errors = [PolicyIssue(errors, **where)]  # type: ignore[arg-type]
        if not errors:
            raise ValueError("PolicyError needs at least one issue")
        self.errors: tuple[PolicyIssue, ...] = tuple(errors)
        first = self.errors[0]
        self.message = first.message
        self.filename = first.filename
        self.line = first.line
        self.column = first.column
        self.hint = first.hint
        super().__init__(str(self))

    def __str__(self) -> str:
        text = "\n".join(str(issue) for issue in self.errors)
        if len(self.errors) > 1:
            text += f"\n{len(self.errors)} errors in {self.filename}"
        return text

    def __reduce__(self) -> tuple[type[PolicyError], tuple[tuple[PolicyIssue, ...]]]:
        return (PolicyError, (self.errors,))


__all__ = [
    "AftersalesError",
    "ConflictError",
    "NotFound",
    "PermissionDenied",
    "PolicyError",
    "PolicyIssue",
    "StorageError",
    "ValidationError",
    "WorkflowError",
    "display_width",
]
