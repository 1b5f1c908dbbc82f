"""Where a mistake is, and how it is reported: positions in the parse tree, and the collector."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lark import Token, Tree

from aftersales.core.errors import PolicyError, PolicyIssue

Node = Tree[Token] | Token
_STRINGS = re.compile(r'"(?:[^"\\\n]|\\.)*"')

MAX_TREE_DEPTH = 400
"""Deepest parse tree a policy may produce (``not not not ...`` chains count too): about
190 levels of ``not`` and brackets (each adds two)."""


def tokens(node: Node) -> Iterator[Token]:
    """The tokens under ``node``, left to right (iterative: no recursion limit)."""
    stack: list[Node] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Token):
            yield item
        else:
            stack.extend(reversed(item.children))


def first_token(node: Node) -> Token | None:
    return next(tokens(node), None)


def last_token(node: Node) -> Token | None:
    last = None
    for last in tokens(node):  # noqa: B007 - we want the final one
        pass
    return last


def tree_depth(node: Node) -> int:
    """Depth of the tree, computed without recursion."""
    return deepest_point(node)[0]


def deepest_point(node: Node) -> tuple[int, Token | None]:
    """Depth of the tree and the first token of its deepest node (where to point an error)."""
    deepest = 0
    where: Node = node
    stack: list[tuple[Node, int]] = [(node, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > deepest:
            deepest, where = depth, item
        if isinstance(item, Tree):
            stack.extend((child, depth + 1) for child in item.children)
    return deepest, where if isinstance(where, Token) else first_token(where)


MAX_ISSUES = 100
"""Mistakes reported from one file; checking stops there (a file of errors stays fast)."""


class TooManyIssues(Exception):
    """Raised by a Reporter holding :data:`MAX_ISSUES` issues, to stop checking."""


class Reporter:
    """Collects every issue found in one file, each with its position and source line."""

    def __init__(self, text: str, filename: str) -> None:
        self.text = text
        self.filename = filename
        self.lines = text.splitlines()
        self.issues: list[PolicyIssue] = []
        self.warnings: list[PolicyIssue] = []  # what loads but is likely a mistake

    def source_line(self, line: int | None) -> str | None:
        if line is None or not 1 <= line <= len(self.lines):
            return None
        return self.lines[line - 1]

    def at(
        self,
        line: int | None,
        column: int | None,
        message: str,
        hint: str | None = None,
        end_column: int | None = None,
    ) -> None:
        self.issues.append(
            PolicyIssue(
                message, self.filename, line, column, self.source_line(line), hint, end_column
            )
        )
        if len(self.issues) >= MAX_ISSUES:
            raise TooManyIssues

    def warn(self, where: Node, message: str, hint: str | None = None) -> None:
        """Note ``message`` at ``where``: the file loads, but this is likely a mistake."""
        line, column, _ = self._place(where)  # pointed at by its first character
        self.warnings.append(PolicyIssue(message, self.filename, line, column,
                                         self.source_line(line), hint))  # fmt: skip

    def error(self, where: Node | None, message: str, hint: str | None = None) -> None:
        """Report ``message`` at ``where`` (a token, or the first token of a tree)."""
        line, column, end = self._place(where)
        self.at(line, column, message, hint, end)

    def _place(self, where: Node | None) -> tuple[int | None, int | None, int | None]:
        """The line, column and end column of ``where`` (its first token; the end only when
        its last token is on the same line)."""
        if where is None:
            return None, None, None
        first = where if isinstance(where, Token) else first_token(where)
        if first is None:
            return None, None, None
        last = where if isinstance(where, Token) else last_token(where)
        end = None
        if last is not None and last.line == first.line and last.end_column is not None:
            end = last.end_column
        return first.line, first.column, end

    def location(self, where: Node | None) -> str:
        """``file:line`` of ``where``."""
        first = where if isinstance(where, Token) or where is None else first_token(where)
        if first is None:
            return self.filename
        return f"{self.filename}:{first.line}"

    def source(self, where: Node) -> str:
        """The text of ``where`` exactly as written in the file (whitespace folded)."""
        first = where if isinstance(where, Token) else first_token(where)
        last = where if isinstance(where, Token) else last_token(where)
        if first is None or last is None or first.start_pos is None or last.end_pos is None:
            return ""
        end = last.end_pos
        # Closing brackets are not in the tree: take those that balance the opened ones.
        code = _STRINGS.sub('""', self.text[first.start_pos : end])
        missing = code.count("(") - code.count(")") + code.count("[") - code.count("]")
        while missing > 0 and end < len(self.text):
            ch = self.text[end]
            if ch in ")]":
                missing -= 1
            elif not ch.isspace():
                break
            end += 1
        return " ".join(self.text[first.start_pos : end].split())

    def raise_if_any(self, stopped: bool = False) -> None:
        if self.issues:
            ordered = sorted(self.issues, key=lambda i: (i.line or 0, i.column or 0))
            if stopped:
                ordered.append(
                    PolicyIssue(
                        f"checking stopped after {MAX_ISSUES} errors",
                        self.filename,
                        hint="correct these and check the file again",
                    )
                )
            raise PolicyError(ordered)


__all__ = [
    "MAX_ISSUES",
    "MAX_TREE_DEPTH",
    "Reporter",
    "TooManyIssues",
    "deepest_point",
    "first_token",
    "last_token",
    "tokens",
    "tree_depth",
]
