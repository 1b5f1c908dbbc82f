"""Building the policy parser, and the parser tables shipped beside the grammar.

Building LALR tables from ``grammar.lark`` takes about a tenth of a second, too slow for a
command that loads one policy. So the tables are generated ahead of time into
``tables.json`` (data, no pickle and no Python source: it loads as fast where Python writes
no bytecode files), stamped with the grammar's SHA-256 and the lark version that wrote them.
At run time the stamp is checked; if either differs, the parser is built from the grammar
with lark's public API instead (100-150 ms once per process, never wrong). Loading the
shipped tables fast reaches into lark's internals; that is confined to
:mod:`aftersales.policy.shipped_parser`, used only with the lark series that wrote the
tables, so another lark release costs time, not correctness. docs/performance.md says why
lark's public mechanisms (a saved parser, the standalone generator) are not used instead. A
test fails when the shipped tables are stale; ``make tables`` regenerates them (lark numbers
the states differently from run to run, so a regenerated file differs textually even when
the grammar did not change).
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

import lark
from lark import Lark
from lark.grammar import NonTerminal, Rule, RuleOptions, Terminal
from lark.lexer import PatternRE, PatternStr, TerminalDef

from aftersales.policy.lexer import PolicyLexer

try:
    from aftersales.policy import shipped_parser
except ImportError:  # a lark whose internals moved: every load builds from the grammar
    shipped_parser = None  # type: ignore[assignment]

_GRAMMAR_PATH = Path(__file__).with_name("grammar.lark")
_TABLES_PATH = Path(__file__).with_name("tables.json")
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
        text = _TABLES_PATH.read_text("utf-8")
    except OSError:
        return None
    shipped = json.loads(text)
    if grammar_digest() != shipped["grammar_sha256"] or _series(shipped["lark_version"]) != _series(
        lark.__version__
    ):
        return None
    if shipped_parser is None:
        return None
    data, memo, states = decode_tables(shipped)
    return shipped_parser.load(data, memo, states)


def parser() -> Lark:
    """The process-wide parser: built (or loaded from the shipped tables) once."""
    global _parser
    if _parser is None:
        with _lock:
            if _parser is None:
                _parser = _load_shipped() or build_from_grammar()
    return _parser


# Values many rules share (symbols, options, patterns): stored once, referenced by number.
_SHARED_TYPES = frozenset({"NonTerminal", "Terminal", "RuleOptions", "PatternStr", "PatternRE"})
_TYPES: dict[str, Any] = {
    t.__name__: t for t in (NonTerminal, Terminal, Rule, RuleOptions, PatternStr, PatternRE,
                            TerminalDef)
}  # fmt: skip


def _encode(obj: Any, shared: dict[str, int], objects: list[Any], build: bool = True) -> Any:
    """A serialized parser value as JSON: lark's objects as ``{"@new": type, "f": fields}``
    (equal immutable ones once, as ``{"@s": number}``), tuples and dicts with non-text keys
    marked, the lexer class as ``{"@lexer": 1}``; lark's own ``{"@": n}`` references kept.
    Where ``build`` is false, lark's serialized objects stay dicts for lark to load."""
    if obj is PolicyLexer:
        return {"@lexer": 1}
    if isinstance(obj, dict):
        if "__type__" in obj and build:
            fields = {k: _encode(v, shared, objects) for k, v in obj.items() if k != "__type__"}
            made = {"@new": obj["__type__"], "f": fields}
            if obj["__type__"] not in _SHARED_TYPES:
                return made
            key = json.dumps(made, sort_keys=True)
            if key not in shared:
                shared[key] = len(objects)
                objects.append(made)
            return {"@s": shared[key]}
        if all(isinstance(k, str) for k in obj):
            return {k: _encode(v, shared, objects, build) for k, v in obj.items()}
        return {"@items": [[_encode(k, shared, objects, build), _encode(v, shared, objects, build)]
                           for k, v in obj.items()]}  # fmt: skip
    if isinstance(obj, tuple):
        return {"@tuple": [_encode(v, shared, objects, build) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v, shared, objects, build) for v in obj]
    if isinstance(obj, str):
        return str(obj)  # lark's str subclasses, plain
    return obj


def _new(kind: str, fields: dict[str, Any]) -> Any:
    """What ``lark.utils.Serialize.deserialize`` does for one object, without its generic
    walk over the fields (~10 ms for this grammar's 400-odd rules)."""
    cls: Any = _TYPES[kind]
    inst = cls.__new__(cls)
    for name, value in fields.items():
        setattr(inst, name, value)
    if hasattr(inst, "_deserialize"):
        inst._deserialize()
    return inst


def _decoder(objects: list[Any]) -> Any:
    def decode(obj: Any) -> Any:
        if isinstance(obj, list):
            return [decode(v) for v in obj]
        if not isinstance(obj, dict):
            return obj
        if "@s" in obj:
            return objects[obj["@s"]]
        if "@new" in obj:
            return _new(obj["@new"], {k: decode(v) for k, v in obj["f"].items()})
        if "@tuple" in obj:
            return tuple(decode(v) for v in obj["@tuple"])
        if "@items" in obj:
            return {decode(k): decode(v) for k, v in obj["@items"]}
        if "@lexer" in obj:
            return PolicyLexer
        return {k: decode(v) for k, v in obj.items()}

    return decode


def decode_tables(shipped: dict[str, Any]) -> tuple[Any, Any, tuple[tuple[int, ...], ...]]:
    """lark's serialized ``(data, memo)`` and the encoded states, from ``tables.json``."""
    objects: list[Any] = []
    decode = _decoder(objects)
    for made in shipped["shared"]:  # each refers only to ones before it
        objects.append(decode(made))
    memo = {int(number): decode(entry) for number, entry in shipped["memo"]}
    states = tuple(tuple(numbers) for numbers in shipped["states"])
    return decode(shipped["data"]), memo, states


def render_tables() -> str:
    """The text of ``tables.json`` for the current grammar and lark."""
    text = grammar_text()
    data, memo = build_from_grammar().memo_serialize([TerminalDef, Rule])
    table = data["parser"]["parser"]
    states = table["states"]
    assert sorted(states) == list(range(len(states)))
    encoded = [
        [
            number
            for token, (action, arg) in states[state].items()
            for number in (token, action, arg["@"] if action == 1 else arg)
        ]
        for state in range(len(states))
    ]
    table["states"] = {}  # shipped apart, decoded state by state (see _LazyStates)
    shared: dict[str, int] = {}
    objects: list[Any] = []
    memo_rows = [[number, _encode(entry, shared, objects)] for number, entry in memo.items()]
    document = {
        "generated_by": "make tables (aftersales.policy.tables.main) from grammar.lark",
        "grammar_sha256": grammar_digest(text),
        "lark_version": lark.__version__,
        "data": _encode(data, shared, objects, build=False),
        "shared": objects,
        "memo": memo_rows,
        "states": encoded,
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False) + "\n"


def tables_path() -> Path:
    return _TABLES_PATH


def main() -> None:
    tables_path().write_text(render_tables(), "utf-8")
    print(f"wrote {tables_path()}")


if __name__ == "__main__":
    main()
