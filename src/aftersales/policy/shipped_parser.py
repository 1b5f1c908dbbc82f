"""Loading the shipped parser tables fast, through lark internals (``Lark._load_from_dict``,
the ``_plugins`` option, ``LALR_Parser``): the one module that depends on them. It is used
only when the installed lark is the release series that wrote ``tables.json``
(:mod:`aftersales.policy.tables` checks), and a test loads it against the parser built from
the grammar, so a change in lark's internals shows as a failing test, never as a wrong parse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from lark import Lark, Tree
from lark.grammar import Rule
from lark.parse_tree_builder import ParseTreeBuilder
from lark.parsers.lalr_analysis import IntParseTable, Reduce, Shift
from lark.parsers.lalr_parser import LALR_Parser, _Parser


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


def load(data: Any, memo: Any, states: tuple[tuple[int, ...], ...]) -> Lark:
    """The parser of the shipped ``DATA``, ``MEMO`` and ``STATES``."""
    loaded: Lark = _ShippedLark._load_from_dict(  # type: ignore[no-untyped-call]
        data, memo, _plugins={"LALR_Parser": _lazy_parser(states)}
    )
    return loaded


__all__ = ["load"]
