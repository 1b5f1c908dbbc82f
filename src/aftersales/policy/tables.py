"""Building the policy parser, and the parser tables shipped beside the grammar.

Building LALR tables from ``grammar.lark`` takes about a tenth of a second, too slow for a
command that loads one policy. So the tables are generated ahead of time into
``_tables.py``: plain Python literals (no pickle), stamped with the grammar's SHA-256 and
the lark version that wrote them. At run time the stamp is checked; if either differs, the
parser is built from the grammar with lark's public API instead (100-150 ms once per process,
never wrong). Loading the shipped tables fast reaches into lark's internals; that is confined
to :mod:`aftersales.policy.shipped_parser`, used only with the lark series that wrote the
tables, so another lark release costs time, not correctness. docs/performance.md says why
lark's public mechanisms (a saved parser, the standalone generator) are not used instead. A
test fails when the shipped tables are stale; ``make tables`` regenerates them (lark numbers
the states differently from run to run, so a regenerated file differs textually even when
the grammar did not change).
"""

from __future__ import annotations

import hashlib
import importlib
import threading
from pathlib import Path
from typing import Any

import lark
from lark import Lark
from lark.grammar import Rule
from lark.lexer import TerminalDef

from aftersales.policy.lexer import PolicyLexer

try:
    from aftersales.policy import shipped_parser
except ImportError:  # a lark whose internals moved: every load builds from the grammar
    shipped_parser = None  # type: ignore[assignment]

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
    if shipped_parser is None:
        return None
    return shipped_parser.load(tables.DATA, tables.MEMO, tables.STATES)


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
