"""Building the policy parser, and the parser tables shipped beside the grammar.

Building LALR tables from ``grammar.lark`` takes about a tenth of a second, too slow for a
command that loads one policy. So the tables are generated ahead of time into
``_tables.py``: plain Python literals (no pickle), stamped with the grammar's SHA-256 and
the lark version that wrote them. At run time the stamp is checked; if either differs, the
parser is built from the grammar instead (slower, never wrong). A test fails when the
shipped tables are stale; ``make tables`` (``python -m aftersales.policy.tables``)
regenerates them (lark numbers the states differently from run to run, so a regenerated
file differs textually even when the grammar did not change).
"""

from __future__ import annotations

import hashlib
import importlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import lark
from lark import Lark, Tree
from lark.grammar import Rule
from lark.lexer import TerminalDef
from lark.parse_tree_builder import ParseTreeBuilder
from lark.parsers.lalr_analysis import IntParseTable, Reduce, Shift
from lark.parsers.lalr_parser import LALR_Parser, _Parser

from aftersales.policy.lexer import PolicyLexer

_LEXER_MARK = "__aftersales_policy_lexer__"
_GRAMMAR_PATH = Path(__file__).with_name("grammar.lark")
_lock = threading.Lock()
_parser: Lark | None = None


def grammar_text() -> str:
    """The grammar, read from the package data."""
    return _GRAMMAR_PATH.read_text("utf-8")


def grammar_digest(text: str | None = None) -> str:
    return hashlib.sha256((text if text is not None else grammar_text()).encode()).hexdigest()


def build_from_grammar(*, strict: bool = False, lexer: Any = PolicyLexer) -> Lark:
    """Build the parser from ``grammar.lark`` (slow: computes the LALR tables)."""
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer=lexer,
        propagate_positions=False,
        maybe_placeholders=False,
        strict=strict,
    )


def _series(version: str) -> str:
    """Major.minor: the serialized format lark keeps within a release series."""
    return ".".join(version.split(".")[:2])


def _load_shipped() -> Lark | None:
    try:
        tables: Any = importlib.import_module("aftersales.policy._tables")
    except ImportError:
        return None
    if grammar_digest() != tables.GRAMMAR_SHA256 or _series(tables.LARK_VERSION) != _series(
        lark.__version__
    ):
        return None
    loaded: Lark = _ShippedLark._load_from_dict(  # type: ignore[no-untyped-call]
        tables.DATA, tables.MEMO, _plugins={"LALR_Parser": _lazy_parser(tables.STATES)}
    )
    return loaded


class _LazyCallbacks(dict[Rule, Callable[[list[Any]], Any]]):
    """The tree-building callback of each rule, made on the rule's first reduction."""

    def __missing__(self, rule: Rule) -> Callable[[list[Any]], Any]:
        builder = ParseTreeBuilder([rule], Tree)  # type: ignore[no-untyped-call]
        callback: Callable[[list[Any]], Any] = builder.create_callback()[rule]  # type: ignore[no-untyped-call]
        self[rule] = callback
        return callback

    def __bool__(self) -> bool:
        return True  # the parser skips building a tree when it has no callbacks


class _ShippedLark(Lark):
    """Lark, loaded from the shipped tables with per-rule callbacks made lazily."""

    def _prepare_callbacks(self) -> None:
        # What Lark._prepare_callbacks builds for this parser's options (no transformer,
        # no positions, LALR), for all ~450 rules at once; most policies use a third.
        assert self.options.transformer is None and not self.options.propagate_positions
        self._callbacks = _LazyCallbacks()


class _LazyStates(dict[int, dict[str, tuple[Any, Any]]]):
    """LALR states decoded on first use from flat ``(token, action, argument, ...)`` tuples.

    A policy file visits a few hundred of the grammar's ~800 states; decoding all of them
    up front was a third of the first load. Anything that walks the whole table (``len``,
    iteration, ``items``) decodes the rest first, so the dict never looks incomplete.
    """

    def __init__(
        self, encoded: tuple[tuple[int, ...], ...], tokens: dict[int, str], memo: Any
    ) -> None:
        super().__init__()
        self._encoded = encoded
        self._tokens = tokens
        self._memo = memo

    def __missing__(self, state: int) -> dict[str, tuple[Any, Any]]:
        if not 0 <= state < len(self._encoded):
            raise KeyError(state)
        numbers = iter(self._encoded[state])
        tokens, memo = self._tokens, self._memo
        actions = {
            tokens[token]: (Reduce, memo[arg]) if action == 1 else (Shift, arg)
            for token, action, arg in zip(numbers, numbers, numbers, strict=True)
        }
        self[state] = actions
        return actions

    def _complete(self) -> None:
        for state in range(len(self._encoded)):
            if not super().__contains__(state):
                self.__missing__(state)

    def __contains__(self, state: object) -> bool:
        return isinstance(state, int) and 0 <= state < len(self._encoded)

    def __len__(self) -> int:
        return len(self._encoded)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self._encoded)))

    def keys(self) -> Any:
        self._complete()
        return super().keys()

    def values(self) -> Any:
        self._complete()
        return super().values()

    def items(self) -> Any:
        self._complete()
        return super().items()


def _lazy_parser(encoded: tuple[tuple[int, ...], ...]) -> type[LALR_Parser]:
    """An ``LALR_Parser`` (through lark's ``_plugins`` option) that reads the shipped states."""

    class ShippedParser(LALR_Parser):
        @classmethod
        def deserialize(  # type: ignore[override]
            cls, data: Any, memo: Any, callbacks: Any, debug: bool = False
        ) -> ShippedParser:
            inst = cls.__new__(cls)
            states = _LazyStates(encoded, data["tokens"], memo)
            table: Any = IntParseTable(  # type: ignore[no-untyped-call]
                states, data["start_states"], data["end_states"]
            )
            inst._parse_table = table
            inst.parser = _Parser(inst._parse_table, callbacks, debug)
            return inst

    return ShippedParser


def parser() -> Lark:
    """The process-wide parser: built (or loaded from the shipped tables) once."""
    global _parser
    if _parser is None:
        with _lock:
            if _parser is None:
                _parser = _load_shipped() or build_from_grammar()
    return _parser


def _plain(obj: Any) -> Any:
    """Serialized tables with lark's str subclasses made plain, and the lexer class marked."""
    if obj is PolicyLexer:
        return _LEXER_MARK
    if isinstance(obj, dict):
        return {_plain(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_plain(v) for v in obj)
    if isinstance(obj, str):
        return str(obj)
    return obj


# Values that many rules share (symbols, options, patterns): built once, referenced as _S[i].
_SHARED_TYPES = frozenset({"NonTerminal", "Terminal", "RuleOptions", "PatternStr", "PatternRE"})


def _construct(obj: Any, shared: dict[str, int]) -> str:
    """Python source that rebuilds a serialized memo entry as the object itself.

    Lark's own deserializer walks these dicts generically, which costs ~10 ms for this
    grammar's 400-odd rules; building the objects in the generated module's bytecode costs a
    fraction. ``_new`` does what ``lark.utils.Serialize.deserialize`` does for one object.
    Equal immutable values are built once (``shared`` numbers their sources).
    """
    if isinstance(obj, dict):
        if "__type__" in obj:
            fields = ", ".join(
                f"{k}={_construct(v, shared)}" for k, v in obj.items() if k != "__type__"
            )
            source = f"_new({obj['__type__']}, {fields})"
            if obj["__type__"] in _SHARED_TYPES:
                return f"_S[{shared.setdefault(source, len(shared))}]"
            return source
        return "{" + ", ".join(f"{k!r}: {_construct(v, shared)}" for k, v in obj.items()) + "}"
    if isinstance(obj, list):
        return "[" + ", ".join(_construct(v, shared) for v in obj) + "]"
    if isinstance(obj, tuple):
        return "(" + "".join(_construct(v, shared) + ", " for v in obj) + ")"
    return repr(obj)


_PRELUDE = """\
# Generated by `python -m aftersales.policy.tables` from grammar.lark. Do not edit.
from lark.grammar import NonTerminal, Rule, RuleOptions, Terminal
from lark.lexer import PatternRE, PatternStr, TerminalDef

from aftersales.policy.lexer import PolicyLexer


def _new(cls, **fields):
    inst = cls.__new__(cls)
    for name, value in fields.items():
        setattr(inst, name, value)
    if hasattr(inst, "_deserialize"):
        inst._deserialize()
    return inst


"""


def render_tables() -> str:
    """The source of ``_tables.py`` for the current grammar and lark."""
    text = grammar_text()
    data, memo = build_from_grammar().memo_serialize([TerminalDef, Rule])
    table = data["parser"]["parser"]
    states = table["states"]
    assert sorted(states) == list(range(len(states)))
    encoded = tuple(
        tuple(
            number
            for token, (action, arg) in states[state].items()
            for number in (token, action, arg["@"] if action == 1 else arg)
        )
        for state in range(len(states))
    )
    table["states"] = {}  # shipped as STATES, decoded state by state (see _LazyStates)
    mark = repr(_LEXER_MARK)
    shared: dict[str, int] = {}
    entries = ",\n".join(f"    {k!r}: {_construct(_plain(v), shared)}" for k, v in memo.items())
    return (
        _PRELUDE
        + f"GRAMMAR_SHA256 = {grammar_digest(text)!r}\n"
        + f"LARK_VERSION = {lark.__version__!r}\n"
        + f"DATA = {_plain(data)!r}\n".replace(mark, "PolicyLexer")
        + "_S = [\n"
        + "".join(f"    {source},\n" for source in shared)
        + "]\n"
        + "MEMO = {\n"
        + entries
        + "\n}\n"
        + "STATES = (\n"
        + "".join(f"    {numbers!r},\n" for numbers in encoded)
        + ")\n"
    )


def tables_path() -> Path:
    return Path(__file__).with_name("_tables.py")


def main() -> None:
    tables_path().write_text(render_tables(), "utf-8")
    print(f"wrote {tables_path()}")


if __name__ == "__main__":
    main()
