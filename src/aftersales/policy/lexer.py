"""The policy lexer: one compiled regular expression, keywords decided by the parser state.

Lark's contextual lexer compiles one regular expression per parser state on first use, which
costs about 30 ms in a fresh process for this grammar. This lexer compiles a single pattern
built from the grammar's own terminal definitions and asks the LALR state which terminals it
accepts only to settle what a *word* is: a keyword where the grammar expects that keyword,
a unit of time or a currency code where one fits, and otherwise a NAME. So ``pass`` can name a
grade (``grade pass when score >= 60``) and still be the keyword of ``pass at 60``.

It also folds newlines inside ``( )`` and ``[ ]`` (a statement may continue there) and caps
how deep brackets nest, so no input can exhaust the stack further down.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from lark.common import LexerConf
from lark.lexer import Lexer, LexerState, PatternStr, Token

MAX_NESTING = 64
"""Deepest nesting of ``( )`` and ``[ ]`` a policy may use; deeper input is refused."""

_OPENERS = {"_LPAR", "LSQB"}
_CLOSERS = {"_RPAR", "_RSQB"}
# Regex terminals in the order a digit run or other shape is tried: the most specific first,
# which is what the grammar's terminal priorities say.
_SHAPES = ("STRING", "DATE", "TIME_RANGE", "TIME", "PERCENT", "NUMBER", "NAME")
_SKIPPED = ("WHITESPACE", "COMMENT")


class PolicyLexFailure(Exception):
    """Text no token of the language can start with."""

    def __init__(self, pos: int, line: int, column: int, char: str) -> None:
        super().__init__(f"unexpected character {char!r} at {line}:{column}")
        self.pos = pos
        self.line = line
        self.column = column
        self.char = char


MAX_DIGITS = 30
"""Longest number a policy may write (digits, point and percent sign included)."""


class NumberTooLong(Exception):
    """A number longer than :data:`MAX_DIGITS` characters: no rule needs one, and converting
    thousands of digits is refused by Python itself."""

    def __init__(self, token: Token) -> None:
        super().__init__(f"a number of {len(token)} characters")
        self.token = token


class NestingTooDeep(Exception):
    """Brackets nested deeper than :data:`MAX_NESTING`."""

    def __init__(self, token: Token) -> None:
        super().__init__(f"brackets nest deeper than {MAX_NESTING} levels")
        self.token = token


class PolicyLexer(Lexer):
    """A lark lexer (``__future_interface__ = 2``) for the policy grammar."""

    __future_interface__ = 2

    def __init__(self, conf: LexerConf) -> None:
        by_name = {t.name: t for t in conf.terminals}
        name_re = re.compile(by_name["NAME"].pattern.to_regexp())
        self.keywords: dict[str, str] = {}
        punctuation: dict[str, str] = {}
        for term in conf.terminals:
            if isinstance(term.pattern, PatternStr):
                if name_re.fullmatch(term.pattern.value):
                    self.keywords[term.pattern.value] = term.name
                else:
                    punctuation[term.pattern.value] = term.name
        self.punctuation = punctuation
        self.time_unit = re.compile(by_name["TIME_UNIT"].pattern.to_regexp())
        self.currency = re.compile(by_name["CURRENCY_CODE"].pattern.to_regexp())
        alternatives = [f"(?P<{n}>{by_name[n].pattern.to_regexp()})" for n in _SHAPES]
        alternatives.append(f"(?P<_NL>{by_name['_NL'].pattern.to_regexp()})")
        alternatives += [f"(?P<{n}>{by_name[n].pattern.to_regexp()})" for n in _SKIPPED]
        # Longest punctuation first, so ".." wins over a lone "." and "<=" over "<".
        punct = sorted(punctuation, key=len, reverse=True)
        alternatives.append("(?P<PUNCT>" + "|".join(re.escape(p) for p in punct) + ")")
        # Leading blanks are matched with the token that follows them: one match per token.
        self.blanks = re.compile(by_name["WHITESPACE"].pattern.to_regexp() + "|")
        self.master = re.compile(f"(?:{self.blanks.pattern})(?:{'|'.join(alternatives)})")

    def word_type(self, word: str, accepts: Any) -> str:
        """The terminal a word is in a parser state that accepts ``accepts``."""
        keyword = self.keywords.get(word)
        if keyword is not None and keyword in accepts:
            return keyword
        if "TIME_UNIT" in accepts and self.time_unit.fullmatch(word):
            return "TIME_UNIT"
        if "CURRENCY_CODE" in accepts and self.currency.fullmatch(word):
            return "CURRENCY_CODE"
        if "NAME" in accepts:
            return "NAME"
        # Nothing fits: name the word as precisely as possible for the error message.
        if keyword is not None:
            return keyword
        if self.time_unit.fullmatch(word):
            return "TIME_UNIT"
        return "NAME"

    def lex(self, lexer_state: LexerState, parser_state: Any) -> Iterator[Token]:
        given: Any = lexer_state.text
        if isinstance(given, str):  # lark 1.2 hands the text itself; 1.3 a TextSlice of it
            text, pos, end = given, 0, len(given)
        else:
            text, pos, end = given.text, given.start, given.end
        states = parser_state.parse_conf.parse_table.states
        match = self.master.match
        punctuation = self.punctuation
        # Token(...) only forwards to this after checking for a deprecated keyword argument
        new_token: Callable[..., Token] = Token._future_new
        line = 1
        line_start = 0
        depth = 0
        while pos < end:
            m = match(text, pos)
            if m is None:
                bad = self.blanks.match(text, pos).end()  # type: ignore[union-attr]
                raise PolicyLexFailure(bad, line, bad - line_start + 1, text[bad])
            kind = m.lastgroup
            new_pos = m.end()
            if kind == "WHITESPACE" or kind == "COMMENT":
                pos = new_pos
                continue
            assert kind is not None
            pos = m.start(kind)
            value = m.group(kind)
            column = pos - line_start + 1
            if kind == "_NL":
                newlines = value.count("\n")
                end_line = line + newlines
                end_column = new_pos - (pos + value.rindex("\n"))
                if depth == 0:
                    yield new_token("_NL", value, pos, line, column, end_line, end_column, new_pos)
                line = end_line
                line_start = pos + value.rindex("\n") + 1
                pos = new_pos
                continue
            if kind == "NAME":
                kind = self.word_type(value, states[parser_state.position])
            elif kind == "PUNCT":
                kind = punctuation[value]
            token = new_token(kind, value, pos, line, column, line, column + len(value), new_pos)
            if len(value) > MAX_DIGITS and (kind == "NUMBER" or kind == "PERCENT"):
                raise NumberTooLong(token)
            if kind in _OPENERS:
                depth += 1
                if depth > MAX_NESTING:
                    raise NestingTooDeep(token)
            elif kind in _CLOSERS and depth:
                depth -= 1
            pos = new_pos
            yield token
