"""The appraisal section: sources, indicators, measured metrics, grades, rewards and
dismissal."""

from __future__ import annotations

from decimal import Decimal

import attrs
from lark import Token, Tree

from aftersales.core.duration import UNIT_WORDS, Duration, Unit
from aftersales.policy import keywords as kw
from aftersales.policy.compiler.base import (
    Built,
    percent_of,
    shown_number,
    subtree_of,
    subtrees_of,
    token_of,
    tokens_of,
)
from aftersales.policy.compiler.deadlines import Deadlines
from aftersales.policy.expressions import unquote
from aftersales.policy.model import (
    FOLLOW_UP_KINDS,
    Appraisal,
    FollowUpRule,
    Grade,
    MetricTarget,
    PromotionRule,
    Weight,
)

_FOLLOW_UP_TAKES = {
    "bonus": ((True, False, False), "an amount: with bonus 500 CNY"),
    "award": ((False, True, False), 'a title: with award "Engineer of the month"'),
    "course": ((False, True, False), 'a course of the training plan: with course "Customer care"'),
    "coaching": ((False, False, True), "when it is reviewed: with coaching 30 days"),
    "rotation": ((False, False, False), "nothing more: with rotation"),
}
"""What each follow-up takes: (an amount, a title, a duration), and how to say it."""


class AppraisalSection(Deadlines):
    def appraisal_block(self, tree: Tree[Token], built: Built) -> None:
        cycle: Duration | None = None
        evaluate = "monthly"
        sources: tuple[Weight, ...] = ()
        indicators: tuple[Weight, ...] = ()
        measures: dict[str, tuple[MetricTarget, ...]] = {}
        measure_trees: list[Tree[Token]] = []
        grades: list[Grade] = []
        reward: list[Token] = []
        improve: list[Token] = []
        follow: dict[str, tuple[FollowUpRule, ...]] = {"reward": (), "improve": ()}
        dismiss: tuple[int, Token] | None = None
        parts_seen: set[str] = set()
        for item in tree.children[1:]:
            assert isinstance(item, Tree)
            if item.data in (
                "cycle_stmt",
                "evaluate_stmt",
                "sources_block",
                "indicators_block",
                "reward_stmt",
                "improve_stmt",
                "dismiss_stmt",
            ):
                if item.data in parts_seen:
                    self.error(item, f"{item.data.split('_')[0]} appears twice in the appraisal")
                    continue
                parts_seen.add(item.data)
            if item.data == "cycle_stmt":
                cycle = self.duration(subtree_of(item, "duration"))
                if cycle is not None and (
                    cycle.working or cycle.unit not in (Unit.MONTH, Unit.YEAR) or not cycle.amount
                ):
                    self.error(
                        item,
                        "an appraisal cycle is a number of months",
                        "write, for example: cycle 3 months",
                    )
                    cycle = None
            elif item.data == "evaluate_stmt":
                found = self.one_of(item.children[1], ("monthly",), "evaluation period")  # type: ignore[arg-type]
                evaluate = found or evaluate
            elif item.data == "sources_block":
                sources = self.weights(subtrees_of(item, "weight"), "source", kw.SOURCES)
                self.check_sum(item, sources, "source")
            elif item.data == "indicators_block":
                indicators = self.weights(subtrees_of(item, "weight"), "indicator")
                self.check_sum(item, indicators, "indicator")
            elif item.data == "measure_block":
                measure_trees.append(item)
            elif item.data == "grade_rule":
                grade = self.grade_rule(item, grades)
                if grade is not None:
                    grades.append(grade)
            elif item.data == "reward_stmt":
                reward = tokens_of(item, "NAME")
                follow["reward"] = self.follow_ups(item)
            elif item.data == "improve_stmt":
                improve = tokens_of(item, "NAME")
                follow["improve"] = self.follow_ups(item)
            elif item.data == "dismiss_stmt":
                dismiss = self.dismiss_stmt(item)
        indicator_names = [w.name for w in indicators]
        for item in measure_trees:
            name_tok = item.children[1]
            assert isinstance(name_tok, Token)
            indicator = (
                self.one_of(name_tok, indicator_names, "indicator") if indicator_names else None
            )
            if indicator_names and indicator is None:
                continue
            if indicator is None:
                self.error(name_tok, "measure names an indicator, but there is no indicators block")
                continue
            if not self.once(("measure", indicator), item, f"measure {indicator}"):
                continue
            measures[indicator] = self.metrics_of(item)
        if not sources:
            self.error(
                tree,
                "the appraisal has no sources block",
                "say who rates: sources { supervisor 50%  customer 30%  self 20% }",
            )
        if not indicators:
            self.error(
                tree,
                "the appraisal has no indicators block",
                "say what is rated: indicators { performance 50%  attitude 20%  skills 30% }",
            )
        if not grades:
            self.error(
                tree,
                "the appraisal has no grades",
                "add grades, such as: grade pass when score >= 60 / grade fail otherwise",
            )
        elif grades[-1].threshold is not None:
            self.error(
                tree.children[-1],
                "the last grade must be an otherwise grade",
                "add a final line, such as: grade fail otherwise",
            )
        grade_names = [g.name for g in grades]
        for tok in [*reward, *improve, *([dismiss[1]] if dismiss else [])]:
            self.one_of(tok, grade_names, "grade")
        built.appraisal = Appraisal(
            cycle,
            evaluate,
            sources,
            indicators,
            measures,
            tuple(grades),
            tuple(map(str, reward)),
            tuple(map(str, improve)),
            dismiss[0] if dismiss else None,
            str(dismiss[1]) if dismiss else None,
            self.loc(tree),
            follow["reward"],
            follow["improve"],
        )
        self.grades_known = grade_names

    def follow_ups(self, item: Tree[Token]) -> tuple[FollowUpRule, ...]:
        """The ``with ... and ...`` of a reward or improve line, each checked for what its
        kind needs: a bonus an amount, an award or a course a title, coaching a period."""
        found: list[FollowUpRule] = []
        block = subtree_of(item, "follow_ups")
        for one in [] if block is None else subtrees_of(block, "follow_up"):
            kind_tok = one.children[0]
            assert isinstance(kind_tok, Token)
            kind = self.one_of(kind_tok, FOLLOW_UP_KINDS, "follow-up")
            if kind is None:
                continue
            if any(f.kind == kind for f in found):
                self.error(kind_tok, f"{kind} appears twice on one line")
                continue
            money_tree = subtree_of(one, "money")
            duration_tree = subtree_of(one, "duration")
            title_tok = token_of(one, "STRING")
            given = (money_tree is not None, title_tok is not None, duration_tree is not None)
            wanted, takes = _FOLLOW_UP_TAKES[kind]
            if given != wanted:
                self.error(one, f"{kind} takes {takes}")
                continue
            rule = FollowUpRule(kind, self.loc(one))
            if money_tree is not None:
                rule = attrs.evolve(rule, amount=self.money(money_tree))
            if title_tok is not None:
                rule = attrs.evolve(rule, title=unquote(title_tok, self.r))
            if duration_tree is not None:
                rule = attrs.evolve(rule, within=self.duration(duration_tree))
            found.append(rule)
        return tuple(found)

    def promote_stmt(self, item: Tree[Token], built: Built) -> None:
        """``promote when last 3 months graded at least good, 12 months in level,
        certificate "Crane operation"``: checked once the grades are known."""
        if not self.once(("promote", ""), item, "promote when"):
            return
        rules: list[PromotionRule] = []
        grades = [] if built.appraisal is None else [g.name for g in built.appraisal.grades]
        for cond in item.children[1:]:
            assert isinstance(cond, Tree)
            number = token_of(cond, "NUMBER")
            months = None
            if number is not None:
                unit = token_of(cond, "TIME_UNIT")
                if str(unit).rstrip("s") != "month" or "." in str(number) or int(number) < 1:
                    self.error(cond, "count promotion conditions in whole months",
                               "for example: last 3 months graded at least good")  # fmt: skip
                    continue
                months = int(number)
            if cond.data == "graded_cond":
                if built.appraisal is None:
                    self.error(cond, "grades are judged by the appraisal section; there is none")
                    continue
                grade = self.one_of(cond.children[-1], grades, "grade")  # type: ignore[arg-type]
                if grade is None:
                    continue
                rules.append(PromotionRule("graded", self.loc(cond), months, grade))
            elif cond.data == "level_cond":
                rules.append(PromotionRule("level", self.loc(cond), months))
            else:
                name = token_of(cond, "STRING")
                assert name is not None
                rules.append(PromotionRule("certificate", self.loc(cond),
                                           certificate=unquote(name, self.r)))  # fmt: skip
        built.promotion = tuple(rules)

    def grade_rule(self, item: Tree[Token], earlier: list[Grade]) -> Grade | None:
        name = self.name(item.children[1], "grade")  # type: ignore[arg-type]
        if any(g.name == name for g in earlier):
            self.error(item.children[1], f'grade "{name}" is defined twice')
            return None
        if earlier and earlier[-1].threshold is None:
            self.error(
                item,
                "this grade comes after the otherwise grade and is never given",
                "put the otherwise grade last",
            )
            return None
        if token_of(item, "OTHERWISE") is not None:
            return Grade(name, None, True, self.loc(item))
        subject, op_tree, number = item.children[2:5]
        assert isinstance(subject, Token) and isinstance(op_tree, Tree)
        if str(subject) != "score":
            self.error(
                subject, f'grades are given by score, not "{subject}"', 'did you mean "score"?'
            )
            return None
        op = op_tree.children[0]
        assert isinstance(op, Token)
        if op.type not in ("GE", "GT"):
            self.error(
                op,
                f'grades use ">=" or ">", not "{op}"',
                "list grades from the highest threshold down",
            )
            return None
        threshold = Decimal(str(number))
        if threshold > 100:
            self.error(number, "scores run from 0 to 100")
            return None
        if earlier and earlier[-1].threshold is not None and threshold >= earlier[-1].threshold:
            self.error(
                item,
                f"grades must be ordered from the highest threshold down: {name} "
                f"(>= {shown_number(threshold)}) comes after {earlier[-1].name} "
                f"(>= {shown_number(earlier[-1].threshold)})",
                f"move grade {name} above grade {earlier[-1].name}",
            )
            return None
        return Grade(name, threshold, op.type == "GE", self.loc(item))

    def metrics_of(self, tree: Tree[Token]) -> tuple[MetricTarget, ...]:
        out: list[MetricTarget] = []
        for metric in subtrees_of(tree, "metric"):
            name_tok, weight_tok, *target = metric.children
            assert isinstance(name_tok, Token) and isinstance(weight_tok, Token)
            name = self.one_of(name_tok, self.metrics, "metric")
            if name is None:
                if kw.suggest(str(name_tok), self.metrics) is None:
                    self.issues_last_hint("known metrics: " + ", ".join(self.metrics))
                continue
            value_tok = target[0]
            assert isinstance(value_tok, Token)
            per = None
            if len(target) == 2:
                per_unit = UNIT_WORDS[str(target[1])]
                if per_unit not in (Unit.DAY, Unit.WEEK, Unit.MONTH):
                    self.error(target[1], "a target is per day, per week or per month")
                    continue
                per = per_unit
            is_percent = value_tok.type == "PERCENT"
            value = percent_of(value_tok) if is_percent else Decimal(str(value_tok))
            if value <= 0:
                self.error(value_tok, "a target must be more than zero")
                continue
            out.append(
                MetricTarget(name, percent_of(weight_tok), value, per, is_percent, self.loc(metric))
            )
        weights = [Weight(m.metric, m.percent, m.location) for m in out]
        self.check_sum(tree, weights, f"measure {tree.children[1]}")
        return tuple(out)

    def issues_last_hint(self, hint: str) -> None:
        last = self.r.issues[-1]
        self.r.issues[-1] = type(last)(
            last.message,
            last.filename,
            last.line,
            last.column,
            last.source_line,
            hint,
            last.end_column,
        )

    def dismiss_stmt(self, item: Tree[Token]) -> tuple[int, Token] | None:
        count_tok = token_of(item, "NUMBER")
        unit_tok = token_of(item, "TIME_UNIT")
        grade_tok = token_of(item, "NAME")
        assert count_tok is not None and unit_tok is not None and grade_tok is not None
        if UNIT_WORDS[str(unit_tok)] is not Unit.MONTH:
            self.error(
                unit_tok,
                "appraisals are monthly: count consecutive months",
                "write: dismiss after 3 consecutive months graded fail",
            )
            return None
        if "." in count_tok or int(count_tok) < 1:
            self.error(count_tok, "a run of months is a whole number, at least 1")
            return None
        return int(count_tok), grade_tok
