"""The grammar: LALR without conflicts, named terminals, fresh shipped tables."""

from __future__ import annotations

import json

import lark
import pytest
from conftest import RULES

from aftersales.policy import tables


def test_grammar_is_lalr_without_conflicts_in_strict_mode() -> None:
    # strict=True raises on any shift/reduce conflict and on colliding terminals.
    tables.build_from_grammar(strict=True, lexer="contextual")


def test_every_terminal_is_named() -> None:
    parser = tables.build_from_grammar()
    names = [t.name for t in parser.terminals]
    assert not [n for n in names if n.startswith("__ANON")]


SHIPPED = json.loads(tables.tables_path().read_text("utf-8"))
SHIPPED_SERIES = tables._series(SHIPPED["lark_version"]) == tables._series(lark.__version__)


def test_shipped_tables_match_the_grammar() -> None:
    assert tables.grammar_digest() == SHIPPED["grammar_sha256"], "run `make tables`"
    if not SHIPPED_SERIES:  # another lark release (the lark-1.2 check): the slow path only
        assert tables._load_shipped() is None
        return
    shipped = tables._load_shipped()
    assert shipped is not None  # the fast path is in use with the lark the tables are for
    fresh = tables.build_from_grammar()
    for path in sorted(RULES.glob("*.policy")):
        text = path.read_text("utf-8")
        assert shipped.parse(text) == fresh.parse(text)


def test_another_lark_series_builds_the_parser_from_the_grammar(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The shipped tables reach into lark's internals; with any other lark release they are
    left alone and lark's public API builds the same parser."""
    monkeypatch.setattr(lark, "__version__", "9.9.0")
    assert tables._load_shipped() is None
    monkeypatch.setattr(tables, "_parser", None)
    built = tables.parser()
    assert built.parse((RULES / "default.policy").read_text("utf-8")) is not None
    assert type(built) is lark.Lark  # not the shipped subclass


def test_parser_is_built_once_per_process() -> None:
    assert tables.parser() is tables.parser()


def test_no_cache_option() -> None:
    assert tables.parser().options.cache is False
