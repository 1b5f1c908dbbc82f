"""The grammar: LALR without conflicts, named terminals, fresh shipped tables."""

from __future__ import annotations

from aftersales.policy import tables


def test_grammar_is_lalr_without_conflicts_in_strict_mode() -> None:
    # strict=True raises on any shift/reduce conflict and on colliding terminals.
    tables.build_from_grammar(strict=True, lexer="contextual")


def test_every_terminal_is_named() -> None:
    parser = tables.build_from_grammar()
    names = [t.name for t in parser.terminals]
    assert not [n for n in names if n.startswith("__ANON")]


def test_shipped_tables_match_the_grammar() -> None:
    import importlib

    import lark
    from conftest import RULES

    shipped = importlib.import_module("aftersales.policy._tables")
    assert tables.grammar_digest() == shipped.GRAMMAR_SHA256, "run `make tables`"
    assert tables._series(shipped.LARK_VERSION) == tables._series(lark.__version__)
    fresh = tables.build_from_grammar()
    for path in sorted(RULES.glob("*.policy")):
        text = path.read_text("utf-8")
        assert tables.parser().parse(text) == fresh.parse(text)


def test_parser_is_built_once_per_process() -> None:
    assert tables.parser() is tables.parser()
    assert tables._load_shipped() is not None  # the fast path is in use


def test_no_cache_option() -> None:
    assert tables.parser().options.cache is False
