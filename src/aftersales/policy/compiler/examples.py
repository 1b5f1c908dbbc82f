"""Example blocks: the cases, claims and ratings they give and what they expect."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from lark import Token, Tree

from aftersales.core.calendar import localize, zone
from aftersales.core.values import EARLIEST_YEAR, LATEST_YEAR
from aftersales.policy import keywords as kw
from aftersales.policy.compiler.base import Built, subtree_of, subtrees_of, token_of
from aftersales.policy.compiler.customers import CustomerSection
from aftersales.policy.expressions import (
    CLAIM_FIELDS,
    Literal,
    unquote,
)
from aftersales.policy.functions import ValueType
from aftersales.policy.model import (
    Example,
    Expectation,
)


class Examples(CustomerSection):
    def record(
        self, tree: Tree[Token], fields: Mapping[str, ValueType], what: str
    ) -> dict[str, Any]:
        checker = self.checker(fields)
        flat: dict[str, Any] = {}
        for pair in subtrees_of(tree, "pair"):
            key_tok, value_tree = pair.children
            assert isinstance(key_tok, Token)
            key = str(key_tok)
            kind = fields.get(key)
            if kind is None:
                checker.field(key_tok)  # reports the unknown field with its hint
                continue
            value = checker.check(value_tree)
            if value is None:
                continue
            if value.type is not kind:
                self.error(value_tree, f"{key} is {kind}, not {value.type}")
                continue
            if key in flat:
                self.error(key_tok, f"{key} is given twice in this {what}")
            assert isinstance(value, Literal)
            flat[key] = value.value
        nested: dict[str, Any] = {}
        for key, value in flat.items():
            *parents, leaf = key.split(".")
            target = nested
            for parent in parents:
                target = target.setdefault(parent, {})
            target[leaf] = value
        return nested

    def local_datetime(self, tree: Tree[Token]) -> datetime | None:
        day_tok, time_tok = tree.children
        day = self.parse_date(day_tok)  # type: ignore[arg-type]
        minutes = self.clock_minutes(time_tok, str(time_tok))  # type: ignore[arg-type]
        if day is None or minutes is None:
            return None
        if not EARLIEST_YEAR < day.year < LATEST_YEAR:
            self.error(
                day_tok,
                f"{day} is outside the years examples may use",
                f"write a date after {EARLIEST_YEAR} and before {LATEST_YEAR}",
            )
            return None
        naive = datetime(day.year, day.month, day.day) + timedelta(minutes=minutes)
        return localize(naive, zone(self.timezone))

    def example_block(self, tree: Tree[Token], built: Built) -> None:
        title = token_of(tree, "STRING")
        assert title is not None
        name = unquote(title, self.r)
        self.once(("example", name), tree, f'example "{name}"')
        parts: dict[str, Any] = {"events": {}, "expectations": []}
        for item in tree.children[2:]:
            assert isinstance(item, Tree)
            kind = item.data
            if kind == "given_case":
                parts["case"] = self.record(item.children[1], self.case_fields(), "case")  # type: ignore[arg-type]
            elif kind == "given_claim":
                parts["claim"] = self.record(item.children[1], CLAIM_FIELDS, "claim")  # type: ignore[arg-type]
            elif kind == "given_ratings":
                parts["ratings"] = self.ratings(item.children[1])  # type: ignore[arg-type]
            elif kind == "given_event":
                event_tok = item.children[1]
                assert isinstance(event_tok, Token)
                event = self.one_of(event_tok, (*kw.START_EVENTS, "appointment"), "event")
                when = self.local_datetime(item.children[2])  # type: ignore[arg-type]
                if event and when:
                    parts["events"][event] = when
            elif kind == "given_complexity":
                complexity = item.children[1]
                assert isinstance(complexity, Token)
                parts["complexity"] = self.one_of(complexity, kw.COMPLEXITIES, "complexity")
            else:
                expectation = self.expectation(item)
                if expectation is not None:
                    parts["expectations"].append(expectation)
        if not parts["expectations"]:
            self.error(
                tree,
                f'example "{name}" expects nothing',
                "add an expect line, such as: expect priority urgent",
            )
        built.examples.append(
            Example(
                name,
                self.loc(tree),
                parts.get("case"),
                parts.get("ratings"),
                parts.get("claim"),
                parts["events"],
                parts.get("complexity"),
                tuple(parts["expectations"]),
            )
        )

    def ratings(self, tree: Tree[Token]) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for pair in subtrees_of(tree, "pair"):
            key_tok, value = pair.children
            assert isinstance(key_tok, Token)
            if not isinstance(value, Token) or value.type != "NUMBER":
                self.error(value, "a rating is a number from 0 to 100")
                continue
            score = Decimal(str(value))
            if score > 100:
                self.error(value, "a rating is a number from 0 to 100")
                continue
            out[str(key_tok)] = score
            self.rating_refs.append(key_tok)
        return out

    def expectation(self, item: Tree[Token]) -> Expectation | None:
        where = self.loc(item)
        if item.data == "expect_priority":
            tok = token_of(item, "NAME")
            assert tok is not None
            self.priority_refs.append((str(tok), tok))
            return Expectation("priority", str(tok), where)
        if item.data == "expect_grade":
            tok = token_of(item, "NAME")
            assert tok is not None
            self.grade_refs.append((str(tok), tok))
            return Expectation("grade", str(tok), where)
        if item.data == "expect_due":
            milestone_tok = item.children[1]
            assert isinstance(milestone_tok, Token)
            milestone = self.one_of(milestone_tok, kw.MILESTONES, "milestone")
            when = self.local_datetime(item.children[2])  # type: ignore[arg-type]
            if milestone is None or when is None:
                return None
            return Expectation("due", when, where, milestone)
        chain = self.chain(subtree_of(item, "chain"))  # type: ignore[arg-type]
        return None if chain is None else Expectation("approval", chain, where)
