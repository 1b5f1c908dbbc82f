"""The operations sections: approval chains, expenses, parts, training and safety."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from lark import Token, Tree

from aftersales.core.safety import SEVERITIES as INCIDENT_SEVERITIES
from aftersales.core.training import AREAS as TRAINING_AREAS
from aftersales.policy import keywords as kw
from aftersales.policy.compiler.appraisal import AppraisalSection
from aftersales.policy.compiler.base import Built, subtree_of, subtrees_of, token_of, tokens_of
from aftersales.policy.expressions import (
    ASSIGNMENT_FIELDS,
    CLAIM_FIELDS,
    REQUISITION_FIELDS,
    STOCK_FIELDS,
    SUPPLIER_FIELDS,
    unquote,
)
from aftersales.policy.functions import ValueType
from aftersales.policy.model import (
    ApprovalRule,
    CertificateRule,
    ExpenseLimit,
    Expenses,
    IncidentRule,
    Parts,
    Safety,
    Training,
    Weight,
)


class Operations(AppraisalSection):
    def chain(self, tree: Tree[Token]) -> tuple[str, ...] | None:
        roles: list[str] = []
        for tok in tokens_of(tree, "NAME"):
            role = self.one_of(tok, kw.ROLES, "role")
            if role is None:
                return None
            if role in roles:
                self.error(
                    tok,
                    f"{role} appears twice in one approval chain",
                    "nobody approves the same claim twice",
                )
                return None
            roles.append(role)
        return tuple(roles)

    def approvals(
        self, rules: list[Tree[Token]], fields: Mapping[str, ValueType], what: str
    ) -> tuple[ApprovalRule, ...]:
        out: list[ApprovalRule] = []
        default_at: Tree[Token] | None = None
        for rule in rules:
            chain = self.chain(subtree_of(rule, "chain"))  # type: ignore[arg-type]
            cond_tree = (
                rule.children[-1]
                if not (isinstance(rule.children[-1], Tree) and rule.children[-1].data == "chain")
                else None
            )
            condition = None
            if cond_tree is not None:
                condition = self.condition(cond_tree, fields)
                if condition is None:
                    continue
            elif default_at is not None:
                self.error(
                    rule,
                    f"two {what} chains without a when",
                    f"the first is at {self.loc(default_at)}; give this one a condition",
                )
                continue
            else:
                default_at = rule
            if chain is not None:
                out.append(ApprovalRule(chain, condition, self.loc(rule)))
        if out and default_at is None and what == "claim":
            self.error(
                rules[-1],
                f"every {what} needs a chain: add one without a when",
                "for example: approve by manager then finance",
            )
        return tuple(out)

    def expenses_block(self, tree: Tree[Token], built: Built) -> None:
        invoice = False
        limits: dict[str, ExpenseLimit] = {}
        for item in subtrees_of(tree, "invoice_stmt"):
            invoice = token_of(item, "REQUIRED") is not None
        for item in subtrees_of(tree, "limit_stmt"):
            words = [c for c in item.children if isinstance(c, Token) and c.type != "LIMIT"]
            cat_tok, per_tok = words[0], words[1]
            category = self.name(cat_tok, "expense category")
            money = self.money(subtree_of(item, "money"))  # type: ignore[arg-type]
            per = self.one_of(per_tok, kw.LIMIT_PERIODS, "limit period")
            action = None
            if len(words) > 2:
                action = self.one_of(words[2], kw.OVER_LIMIT_ACTIONS, "over-limit action")
                if action is None:
                    continue
            if money is None or per is None:
                continue
            if self.once(("limit", category), item, f"the {category} limit"):
                limits[category] = ExpenseLimit(category, money, per, self.loc(item), action)
        over_limit, over_location = "flag", ""
        for item in subtrees_of(tree, "over_limit_stmt"):
            found = self.one_of(item.children[-1], kw.OVER_LIMIT_ACTIONS, "over-limit action")  # type: ignore[arg-type]
            if found is not None and self.once(("over limit", ""), item, "over limit"):
                over_limit, over_location = found, self.loc(item)
        categories: list[str] = []
        for item in subtrees_of(tree, "categories_stmt"):
            for tok in tokens_of(item, "NAME"):
                category = self.name(tok, "expense category")
                if category in limits:
                    said = f"{category} has a limit already; a listed category has none"
                    self.error(tok, said, f"remove {category} from this line or its limit")
                elif category not in categories:
                    categories.append(category)
        unlisted, unlisted_location = "refuse", ""
        for item in subtrees_of(tree, "unlisted_stmt"):
            found = self.one_of(item.children[-1], ("refuse", "flag"), "what unlisted get")  # type: ignore[arg-type]
            if found is not None and self.once(("unlisted", ""), item, "unlisted categories"):
                unlisted, unlisted_location = found, self.loc(item)
        approvals = self.approvals(subtrees_of(tree, "approve_stmt"), CLAIM_FIELDS, "claim")
        built.expenses = Expenses(invoice, limits, approvals, self.loc(tree), over_limit,
                                  over_location, tuple(categories), unlisted,
                                  unlisted_location)  # fmt: skip

    def parts_block(self, tree: Tree[Token], built: Built) -> None:
        every = None
        reorder = None
        checks: tuple[str, ...] = ()
        for item in subtrees_of(tree, "stocktake_stmt"):
            every = self.duration(subtree_of(item, "duration"))
        for item in subtrees_of(tree, "reorder_stmt"):
            reorder = self.condition(item.children[-1], STOCK_FIELDS)
        for item in subtrees_of(tree, "incoming_stmt"):
            found = [
                self.one_of(t, kw.INSPECTION_CHECKS, "inspection check")
                for t in tokens_of(item, "NAME")
            ]
            checks = tuple(c for c in found if c is not None)
        review = None
        review_location = ""
        for item in subtrees_of(tree, "supplier_review_stmt"):
            if self.once(("review suppliers", ""), item, "review suppliers"):
                review = self.condition(item.children[-1], SUPPLIER_FIELDS)
                review_location = self.loc(item)
        approvals = self.approvals(
            subtrees_of(tree, "requisition_stmt"), REQUISITION_FIELDS, "requisition"
        )
        built.parts = Parts(every, reorder, approvals, checks, self.loc(tree), review,
                            review_location)  # fmt: skip

    def training_block(self, tree: Tree[Token], built: Built) -> None:
        assessment: tuple[Weight, ...] = ()
        pass_mark = None
        until_passed = False
        limit = None
        valid = None
        certificates: list[CertificateRule] = []
        covers: tuple[str, ...] = TRAINING_AREAS
        covers_location = ""
        for item in tree.children[1:]:
            assert isinstance(item, Tree)
            if item.data == "assessment_stmt":
                assessment = self.weights(subtrees_of(item, "weight"), "assessment part")
                self.check_sum(item, assessment, "assessment")
            elif item.data == "pass_stmt":
                mark = Decimal(str(item.children[1]))
                if mark > 100:
                    self.error(item.children[1], "assessment marks run from 0 to 100")
                pass_mark = mark
            elif item.data == "retake_stmt":
                count = token_of(item, "NUMBER")
                if count is None:
                    until_passed = True
                else:
                    noun = token_of(item, "NAME")
                    if noun is not None and self.one_of(noun, ("time", "times"), "word"):
                        limit = int(Decimal(str(count)))
            elif item.data == "validity_stmt":
                valid = self.duration(subtree_of(item, "duration"))
                if valid is not None and valid.working:
                    self.error(
                        item,
                        "a certificate's validity runs on the calendar",
                        f"write {valid.amount} {valid.unit.value}s",
                    )
            elif item.data == "covers_stmt":
                if self.once(("plan covers", ""), item, "plan covers"):
                    found = [self.one_of(t, TRAINING_AREAS, "training area")
                             for t in tokens_of(item, "NAME")]  # fmt: skip
                    covers = tuple(dict.fromkeys(a for a in found if a is not None))
                    covers_location = self.loc(item)
            elif item.data == "certificate_rule":
                name_tok = token_of(item, "STRING")
                assert name_tok is not None
                cond_tree = item.children[-1] if item.children[-1] is not name_tok else None
                condition = None
                if cond_tree is not None:
                    condition = self.condition(
                        cond_tree, {**ASSIGNMENT_FIELDS, **self.custom}, self.priorities_known
                    )
                certificates.append(
                    CertificateRule(unquote(name_tok, self.r), condition, self.loc(item))
                )
        built.training = Training(
            assessment, pass_mark, until_passed, limit, valid, tuple(certificates),
            self.loc(tree), covers, covers_location,
        )  # fmt: skip

    def safety_block(self, tree: Tree[Token], built: Built) -> None:
        ppe: tuple[str, ...] = ()
        ppe_location = ""
        tools = incidents = None
        rules: list[IncidentRule] = []
        for item in tree.children[1:]:
            assert isinstance(item, Tree)
            if item.data == "ppe_stmt":
                ppe = tuple(self.name(t, "piece of safety gear") for t in tokens_of(item, "NAME"))
                ppe_location = self.loc(item)
            elif item.data == "tools_stmt":
                tools = self.duration(subtree_of(item, "duration"))
            elif item.data == "incidents_stmt":
                incidents = self.duration(subtree_of(item, "duration"))
            elif item.data == "incident_rule":
                rule = self.incident_rule(item, rules)
                if rule is not None:
                    rules.append(rule)
        built.safety = Safety(ppe, tools, incidents, self.loc(tree), ppe_location, tuple(rules))

    def incident_rule(self, item: Tree[Token], earlier: list[IncidentRule]) -> IncidentRule | None:
        severity_toks = tokens_of(subtree_of(item, "incident_severities"), "NAME")  # type: ignore[arg-type]
        role_toks = tokens_of(item, "NAME")
        severities = [self.one_of(t, INCIDENT_SEVERITIES, "incident severity")
                      for t in severity_toks]  # fmt: skip
        roles = [self.one_of(t, kw.ROLES, "role") for t in role_toks]
        if None in severities or None in roles:
            return None
        for tok, severity in zip(severity_toks, severities, strict=True):
            before = next((r for r in earlier if severity in r.severities), None)
            if before is not None:
                self.error(tok, f"incidents of severity {severity} have a line already",
                           f"at {before.location}; one line per severity")  # fmt: skip
                return None
        within = None
        duration = subtree_of(item, "duration")
        if duration is not None:
            within = self.duration(duration)
        return IncidentRule(tuple(map(str, severities)), tuple(map(str, roles)),
                            self.loc(item), within)  # fmt: skip
