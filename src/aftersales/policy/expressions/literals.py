"""Reading the literals of an expression: quoted text and durations."""

from __future__ import annotations

from decimal import Decimal

from lark import Token, Tree

from aftersales.core.duration import UNIT_WORDS, Duration, duration_problem
from aftersales.policy.diagnostics import Reporter

_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}


def unquote(tok: Token, reporter: Reporter) -> str:
    """The text of a STRING token, with its escapes (``\\"`` ``\\\\`` ``\\n`` ``\\t``) read."""
    body = str(tok)[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
            else:
                col = (tok.column or 1) + 1 + i
                reporter.at(
                    tok.line,
                    col,
                    f'unknown escape "\\{nxt}" in text',
                    'text understands \\" \\\\ \\n and \\t',
                    col + 2,
                )
                out.append(nxt)
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def read_duration(tree: Tree[Token], reporter: Reporter) -> Duration | None:
    """The Duration of a ``duration`` tree, or None after reporting why it is not one."""
    amount_tok = tree.children[0]
    unit_tok = tree.children[-1]
    working = len(tree.children) == 3
    unit = UNIT_WORDS[str(unit_tok)]
    amount = Decimal(str(amount_tok))
    problem = duration_problem(amount, unit, working)
    if problem:
        reporter.error(tree, problem)
        return None
    return Duration(amount, unit, working)
