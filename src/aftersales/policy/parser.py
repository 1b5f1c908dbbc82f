"""Reading policy files: ``parse_policy`` and ``load_policy``.

This is the boundary where lark meets the rest of the SDK: every lark exception is caught
here and put into words as a :class:`PolicyError`; no lark name or token name gets out.
After a syntax error the statement it is in is blanked out and the file parsed again, so
one run reports the mistakes of every statement (up to :data:`MAX_SYNTAX_ERRORS`).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedInput, UnexpectedToken

from aftersales.core.boundary import guard
from aftersales.core.duration import UNIT_WORDS
from aftersales.core.errors import PolicyError, PolicyIssue
from aftersales.policy import tables
from aftersales.policy.compiler import compile_tree
from aftersales.policy.diagnostics import MAX_TREE_DEPTH, Reporter, deepest_point
from aftersales.policy.functions import FunctionRegistry, default_functions
from aftersales.policy.keywords import BUILTIN_METRICS, suggest
from aftersales.policy.lexer import (
    MAX_DIGITS,
    MAX_NESTING,
    NestingTooDeep,
    NumberTooLong,
    PolicyLexFailure,
)
from aftersales.policy.model import Policy

F = TypeVar("F", bound=Callable[..., Any])

MAX_SYNTAX_ERRORS = 20
"""Syntax errors reported from one file before the rest is left unread."""

MAX_POLICY_BYTES = 1024 * 1024
"""Largest policy file or text read (1 MiB; the shipped ones are under 10 KiB)."""

_WHAT = {
    "NAME": "a name",
    "STRING": "text in double quotes",
    "NUMBER": "a number",
    "PERCENT": "a percentage such as 50%",
    "DATE": "a date such as 2026-10-01",
    "TIME": "a time of day such as 08:30",
    "TIME_RANGE": "hours such as 08:30-12:00",
    "TIME_UNIT": 'a unit of time such as "hours" or "days"',
    "CURRENCY_CODE": "a currency code such as CNY",
    "_NL": "the end of the line",
    "$END": "the end of the file",
    "EQ": '"=="',
    "NE": '"!="',
    "LT": '"<"',
    "LE": '"<="',
    "GT": '">"',
    "GE": '">="',
    "_LBRACE": '"{"',
    "_RBRACE": '"}"',
    "_LPAR": '"("',
    "_RPAR": '")"',
    "LSQB": '"["',
    "_RSQB": '"]"',
    "_COMMA": '","',
    "_COLON": '":"',
    "_DOTDOT": '".."',
    "_ARROW": '"->"',
    "STAR": '"*"',
}
_DURATION_AFTER = {"within", "every", "valid", "cycle", "warranty"}
_SHAPE = re.compile(r'"(?:[^"\\\n]|\\.)*"|[^\W\d]\w*(?:\.[^\W\d]\w*)*|\d[\d.:%-]*|\S')
_COMMENT = re.compile(r"#[^\n]*")
_UNREADABLE = re.compile("[\x00\ud800-\udfff]")


def _keyword_literals() -> dict[str, str]:
    lexer_conf = tables.parser().lexer_conf
    return {t.name: t.pattern.value for t in lexer_conf.terminals if t.pattern.type == "str"}


def _previous_word(text: str, pos: int) -> str | None:
    """The token-shaped text just before ``pos`` (comments skipped)."""
    line_start = text.rfind("\n", 0, pos) + 1
    before = _COMMENT.sub("", text[line_start:pos])
    words = _SHAPE.findall(before)
    return words[-1] if words else None


def _expected_words(expected: Iterable[str], previous: str | None) -> tuple[str, list[str]]:
    """What the parser wanted, in words, and the keywords among it (for suggestions)."""
    literals = _keyword_literals()
    wanted = set(expected)
    if {"PRIORITY", "SLA", "POLICY"} <= wanted:
        return (
            'a new statement such as "priority", "sla", "calendar" or "example"',
            [literals[n] for n in wanted if n in literals],
        )
    if previous in _DURATION_AFTER and wanted == {"NUMBER"}:
        return 'a duration such as "4 working hours" or "30 minutes"', []
    if "TIME_UNIT" in wanted and wanted <= {"TIME_UNIT", "WORKING", "BUSINESS"}:
        return (
            'a unit of time such as "minutes", "hours" or "working days"',
            ["working", "business", *UNIT_WORDS],
        )
    if "CURRENCY_CODE" in wanted and wanted <= {
        "CURRENCY_CODE",
        "TIME_UNIT",
        "WORKING",
        "BUSINESS",
    }:
        return "a currency code such as CNY, or a unit of time", list(UNIT_WORDS)
    phrases: list[str] = []
    keywords: list[str] = []
    for name in sorted(wanted, key=lambda n: (n not in literals, n)):
        if name in _WHAT:
            phrases.append(_WHAT[name])
        elif name in literals:
            word = literals[name]
            keywords.append(word)
            phrases.append(f'"{word}"')
    phrases = list(dict.fromkeys(phrases))
    if not phrases:
        return "something else", []
    if len(phrases) > 8:
        shown = ", ".join(phrases[:8])
        return f"one of {shown}, ...", keywords
    if len(phrases) == 1:
        return phrases[0], keywords
    return ", ".join(phrases[:-1]) + " or " + phrases[-1], keywords


def _describe_found(token: Token) -> str:
    if token.type == "$END":
        return "the end of the file"
    if token.type == "_NL":
        return "the end of the line"
    return f'"{token}"'


def _syntax_issue(exc: Exception, text: str, reporter: Reporter) -> PolicyIssue:
    message: str
    hint: str | None
    if isinstance(exc, PolicyLexFailure):
        if exc.char == '"':
            message, hint = (
                "text in double quotes is not closed on its line",
                'end the text with " before the end of the line',
            )
        else:
            message, hint = (
                f'unexpected character "{exc.char}"',
                'put text in double quotes; comments start with "#"',
            )
        reporter.at(exc.line, exc.column, message, hint, exc.column + 1)
        return reporter.issues.pop()
    if isinstance(exc, NumberTooLong):
        reporter.error(
            exc.token,
            f"a number of {len(exc.token):,} characters; a policy's numbers have at most "
            f"{MAX_DIGITS}",
            "write the number the rule means",
        )
        return reporter.issues.pop()
    if isinstance(exc, NestingTooDeep):
        reporter.error(
            exc.token,
            f"brackets nest deeper than {MAX_NESTING} levels",
            "split the condition into simpler parts",
        )
        return reporter.issues.pop()
    assert isinstance(exc, UnexpectedToken)
    token = exc.token
    pos = token.start_pos if token.start_pos is not None else len(text)
    previous = _previous_word(text, pos)
    wanted, keywords = _expected_words(exc.expected, previous)
    found = _describe_found(token)
    after = f' after "{previous}"' if previous and token.type in ("_NL", "$END") else ""
    hint = None
    if token.type not in ("_NL", "$END", "STRING"):
        near = suggest(str(token), keywords)
        if near is not None:
            hint = f'did you mean "{near}"?'
    first_on_line = previous is None and token.type not in ("_NL", "$END")
    if hint is None and first_on_line and str(token) in ("or", "and"):
        hint = (
            "a statement continues on the next line only inside ( ) or [ ]: "
            "put the whole condition in parentheses"
        )
    if hint is None and token.type == "$END" and "_RBRACE" in exc.expected:
        hint = 'a block opened with "{" is not closed; add "}"'
    line = token.line if token.line is not None else text.count("\n") + 1
    column = token.column
    if token.type == "$END":
        line, column = text.rstrip().count("\n") + 1, None
    end = token.end_column if token.type not in ("_NL", "$END") else None
    reporter.at(line, column, f"unexpected {found}{after}; expected {wanted}", hint, end)
    return reporter.issues.pop()


def _code_part(line: str) -> str:
    return _COMMENT.sub("", re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', line))


def _without_comment(line: str) -> str:
    """``line`` as written, its strings kept, up to its comment."""
    masked = re.sub(r'"(?:[^"\\\n]|\\.)*"', lambda m: "x" * len(m.group()), line)
    cut = masked.find("#")
    return line if cut < 0 else line[:cut]


def _blank_statement(text: str, issue: PolicyIssue) -> str | None:
    """``text`` with the statement holding ``issue`` blanked out; None if nothing can go."""
    if issue.line is None:
        return None
    lines = text.split("\n")
    index = issue.line - 1
    if index >= len(lines):
        return None
    code = _code_part(lines[index])
    balance = code.count("{") - code.count("}")
    last = index
    if balance > 0:  # the statement opens a block: blank through its closing brace
        depth = balance
        while depth > 0 and last + 1 < len(lines):
            last += 1
            part = _code_part(lines[last])
            depth += part.count("{") - part.count("}")
        if depth > 0:
            return None
    for i in range(index, last + 1):
        keep_braces = (
            balance < 0
            and i == index
            and not (issue.column is not None and lines[i][issue.column - 1 : issue.column] == "}")
        )
        lines[i] = "".join(ch if keep_braces and ch == "}" else " " for ch in lines[i])
    result = "\n".join(lines)
    return None if result == text else result


def _may_nest_deeply(text: str) -> bool:
    """Whether the tree of ``text`` could be deeper than MAX_TREE_DEPTH.

    Only brackets, calls and ``not`` make a tree deeper than a statement's own few levels,
    and each adds at most one level (measured on the grammar; a test keeps it so). Counting
    them is far cheaper than walking the tree, and almost every policy stops there.
    """
    openers = text.count("(") + text.count("[") + text.count("not")
    return _STATEMENT_DEPTH + 2 * openers > MAX_TREE_DEPTH


_STATEMENT_DEPTH = 16


# the words that start a statement only outside every block: met inside one, they mean the
# block before them was never closed (`repair` also starts a line of an sla block; `close`
# and `callback` are milestones there too, so they are left out)
_SECTION_WORDS = frozenset({
    "policy", "calendar", "fields", "severities", "priority", "sla", "warn", "excuse", "reopen",
    "resolve", "warranty", "escalate", "hold", "appraisal",
    "expenses", "parts", "training", "safety", "example", "sales", "fault", "maintenance",
})  # fmt: skip


def _unclosed_block(text: str, reporter: Reporter) -> PolicyIssue | None:
    """The one error for a block whose ``{`` is never closed: where it opened, and where
    the next section shows it should have ended (the parser alone reports every statement
    after it as out of place)."""
    lines = text.split("\n")
    depth, opened, opened_at = 0, -1, 0
    for index, line in enumerate(lines):
        code = _code_part(line)
        words = code.split()
        first = words[0] if words else ""
        starts_section = (first in _SECTION_WORDS and words[1:2] != ["kit"]) or (
            first == "repair" and code.rstrip().endswith("{")
        )  # (`parts kit` is a maintenance plan's line, not the parts section)
        if depth > 0 and starts_section:
            return _unclosed(reporter, lines, opened, opened_at, f"before line {index + 1} "
                             f'("{" ".join(words)}")', f"before line {index + 1}")  # fmt: skip
        for column, ch in enumerate(code):
            if ch == "{":
                if depth == 0:
                    opened, opened_at = index, column
                depth += 1
            elif ch == "}":
                depth = max(depth - 1, 0)
    if depth > 0:
        return _unclosed(reporter, lines, opened, opened_at, "by the end of the file",
                         "at the end of the block")  # fmt: skip
    return None


def _unclosed(reporter: Reporter, lines: list[str], index: int, column: int, until: str,
              where: str) -> PolicyIssue:  # fmt: skip
    head = " ".join(_without_comment(lines[index]).split())
    reporter.at(index + 1, column + 1, f'the block "{head}" opened on line {index + 1} is not '
                f"closed {until}", f'add "}}" {where}', column + 2)  # fmt: skip
    return reporter.issues.pop()


def _parse_tree(text: str, reporter: Reporter) -> tuple[Tree[Token] | None, list[PolicyIssue]]:
    parser = tables.parser()
    issues: list[PolicyIssue] = []
    work = text
    while True:
        try:
            tree = parser.parse(work)
        except (UnexpectedInput, PolicyLexFailure, NestingTooDeep, NumberTooLong) as exc:
            if not issues and (unclosed := _unclosed_block(text, reporter)) is not None:
                return None, [unclosed]
            issue = _syntax_issue(exc, text, reporter)
            issues.append(issue)
            if isinstance(exc, NestingTooDeep) or len(issues) >= MAX_SYNTAX_ERRORS:
                return None, issues
            blanked = _blank_statement(work, issue)
            if blanked is None:
                return None, issues
            work = blanked
            continue
        except LarkError as exc:  # pragma: no cover - a lark failure we did not foresee
            reporter.at(None, None, f"cannot parse the policy: {exc.__class__.__name__}")
            return None, [*issues, reporter.issues.pop()]
        if _may_nest_deeply(work):
            depth, where = deepest_point(tree)
            if depth > MAX_TREE_DEPTH:
                reporter.error(
                    where,
                    'this condition nests too deeply (brackets, calls and "not" each add '
                    f"a level; a parse tree may be {MAX_TREE_DEPTH} deep)",
                    "split the condition into simpler parts",
                )
                return None, [*issues, reporter.issues.pop()]
        return tree, issues


def _policy_boundary(func: F) -> F:
    """Whatever escapes reading a policy is a PolicyError (see aftersales.core.boundary)."""
    return guard(func, func.__name__, lambda error: PolicyError(str(error)))


@_policy_boundary
def parse_policy(
    text: str,
    filename: str = "<policy>",
    *,
    functions: FunctionRegistry | None = None,
    metrics: Sequence[str] | None = None,
) -> Policy:
    """Parse, check and compile a policy from its text.

    ``functions`` adds functions expressions may call and ``metrics`` names the metrics a
    ``measure`` block may use (both default to the built-in ones; a desk passes what its
    plugins register). Raises :class:`PolicyError` listing every mistake in the file.
    """
    if not isinstance(text, str):
        raise PolicyError(f"policy text must be str, not {type(text).__name__}", filename=filename)
    if not isinstance(filename, str):
        filename = str(filename)
    if len(text) > MAX_POLICY_BYTES:
        raise PolicyError(
            f"the policy is {len(text):,} characters long; the limit is {MAX_POLICY_BYTES:,}",
            filename=filename,
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:  # Windows and old Mac line endings read as Unix ones
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    bad = _UNREADABLE.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        raise PolicyError(
            f"the policy contains {'a NUL byte' if bad.group() == chr(0) else 'a lone surrogate'}"
            " (not text)",
            filename=filename,
            line=line,
            hint="save the policy as UTF-8 text",
        )
    reporter = Reporter(text, filename)
    tree, issues = _parse_tree(text, reporter)
    if tree is None:
        raise PolicyError(issues)
    return compile_tree(
        tree,
        text,
        filename,
        functions or default_functions(),
        BUILTIN_METRICS if metrics is None else metrics,
        complete=not issues,
        earlier=issues,
    )


@_policy_boundary
def load_policy(
    path: str | os.PathLike[str],
    *,
    functions: FunctionRegistry | None = None,
    metrics: Sequence[str] | None = None,
) -> Policy:
    """Read and compile the policy file at ``path`` (UTF-8). PolicyError on any mistake,
    including a file that cannot be read."""
    if not isinstance(path, (str, os.PathLike)):
        raise PolicyError(f"a policy path is text, not {type(path).__name__}")
    name = os.fsdecode(path) if isinstance(path, os.PathLike) else path
    name = name.encode("utf-8", "backslashreplace").decode("utf-8")
    try:
        file = Path(path)
        # stat first: opening a FIFO blocks, and /dev/zero never ends (st_size says 0)
        if not stat.S_ISREG(file.stat().st_mode):
            raise PolicyError("not a regular file; name a policy file", filename=name)
        with file.open("rb") as handle:
            data = handle.read(MAX_POLICY_BYTES + 1)
        if len(data) > MAX_POLICY_BYTES:
            raise PolicyError(
                f"the policy file is over {MAX_POLICY_BYTES:,} bytes, the limit", filename=name
            )
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise PolicyError(f"cannot read the policy file: {reason}", filename=name) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PolicyError(
            f"the file is not UTF-8 text (byte {exc.start})",
            filename=name,
            line=line,
            hint="save the file as UTF-8",
        ) from exc
    return parse_policy(text, name, functions=functions, metrics=metrics)


def same_meaning(first: str, second: str) -> bool:
    """Whether two policy texts say the same: the same statements with the same values,
    whatever their comments, blank lines, spacing and line endings (a text that does not
    parse means nothing the same as anything)."""

    def tree_of(text: str) -> Tree[Token] | None:
        text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
        tree, issues = _parse_tree(text, Reporter(text, "<policy>"))
        return None if issues else tree

    a, b = tree_of(first), tree_of(second)
    # tokens compare by type and text, never by position: moved lines say the same
    return a is not None and b is not None and a == b


__all__ = ["MAX_POLICY_BYTES", "MAX_SYNTAX_ERRORS", "load_policy", "parse_policy", "same_meaning"]
