"""What the policy says of the customer: ``tell customer when``, ``survey valid for``,
``complaint respond within ... resolve within``, ``complaint when`` and ``product problems
to``."""

from __future__ import annotations

from decimal import Decimal

from lark import Token, Tree

from aftersales.core.duration import Duration, Unit
from aftersales.core.vocabulary import COMPLAINT_TRIGGERS, MESSAGE_CHANNELS, MESSAGES, ROLES
from aftersales.policy.compiler.base import Built, subtrees_of, tokens_of
from aftersales.policy.compiler.installed_base import InstalledBaseSection
from aftersales.policy.model import ComplaintRules, CustomerMessages

MAX_SURVEY_DAYS = 366
"""The longest a survey link may stay open (a year: the answer is of no use after that)."""


class CustomerSection(InstalledBaseSection):
    """Compiles the statements about telling, surveying and hearing from the customer."""

    def _listed(self, toks: list[Token], known: tuple[str, ...], what: str) -> tuple[str, ...]:
        names: list[str] = []
        for tok in toks:
            name = self.one_of(tok, known, what)
            if name is None:
                continue
            if name in names:
                self.error(tok, f'the {what} "{name}" is listed twice')
                continue
            names.append(name)
        return tuple(names)

    def tell_stmt(self, tree: Tree[Token], built: Built) -> None:
        if not self.once(("section", "tell customer"), tree, "tell customer"):
            return
        messages = self._listed(tokens_of(tree, "NAME"), MESSAGES, "message")
        by = subtrees_of(tree, "tell_channels")
        channels = (
            self._listed(tokens_of(by[0], "NAME"), MESSAGE_CHANNELS, "channel") if by else ()
        ) or ("email",)
        built.tell_customer = CustomerMessages(messages, channels, self.loc(tree))

    def survey_stmt(self, tree: Tree[Token], built: Built) -> None:
        if not self.once(("section", "survey valid"), tree, "survey valid for"):
            return
        [node] = subtrees_of(tree, "duration")
        duration = self.duration(node)
        if duration is None:
            return
        if duration.working or duration.unit in (Unit.MINUTE, Unit.HOUR):
            self.error(
                node,
                "a survey link stays open for calendar days or weeks",
                "write survey valid for 14 days",
            )
            return
        if _rough(duration) > MAX_SURVEY_DAYS * 86400:
            self.error(node, "a survey link stays open a year at most", "write 30 days")
            return
        built.survey_valid = duration

    def complaint_deadlines_stmt(self, tree: Tree[Token], built: Built) -> None:
        if not self.once(("section", "complaint respond"), tree, "complaint respond within"):
            return
        respond_node, resolve_node = subtrees_of(tree, "duration")
        respond, resolve = self.duration(respond_node), self.duration(resolve_node)
        if respond is None or resolve is None:
            return
        for node, duration in ((respond_node, respond), (resolve_node, resolve)):
            if duration.unit in (Unit.MONTH, Unit.YEAR):
                self.error(
                    node,
                    f"a complaint's deadline is in minutes, hours or days, not "
                    f"{duration.unit.value}s",
                    "write 5 working days",
                )
                return
        if _rough(resolve) < _rough(respond):
            self.error(
                resolve_node,
                "a complaint is resolved before it is responded to",
                "give resolve a deadline at least as long as respond's",
            )
            return
        rules = built.complaints or ComplaintRules()
        built.complaints = ComplaintRules(
            respond,
            resolve,
            rules.satisfaction_at_most,
            rules.rejections_at_least,
            self.loc(tree),
            rules.trigger_location,
        )

    def complaint_when_stmt(self, tree: Tree[Token], built: Built) -> None:
        if not self.once(("section", "complaint when"), tree, "complaint when"):
            return
        satisfaction: int | None = None
        rejections: int | None = None
        seen: set[str] = set()
        for trigger in subtrees_of(tree, "complaint_trigger"):
            subject, op_tree, number = trigger.children
            assert isinstance(subject, Token) and isinstance(op_tree, Tree)
            assert isinstance(number, Token)
            name = self.one_of(subject, tuple(COMPLAINT_TRIGGERS), "complaint trigger")
            if name is None:
                continue
            if name in seen:
                self.error(subject, f"{name} is tested twice")
                continue
            seen.add(name)
            op = op_tree.children[0]
            assert isinstance(op, Token)
            allowed = COMPLAINT_TRIGGERS[name]
            if str(op) not in allowed:
                self.error(
                    op,
                    f'{name} is compared with {" or ".join(allowed)}, not "{op}"',
                    f"write {name} {allowed[0]} {number}",
                )
                continue
            value = Decimal(str(number))
            if value != value.to_integral_value():
                self.error(number, f"{name} is a whole number, not {number}")
                continue
            whole = int(value)
            if name == "satisfaction":
                whole = whole - 1 if str(op) == "<" else whole
                if not 1 <= whole <= 4:
                    self.error(
                        number,
                        f"satisfaction is 1 to 5: {name} {op} {number} "
                        + ("opens no complaint" if whole < 1 else "opens one for every case"),
                        "write satisfaction <= 2",
                    )
                    continue
                satisfaction = whole
            else:
                whole = whole + 1 if str(op) == ">" else whole
                if not 1 <= whole <= 100:
                    self.error(number, f"rejections {op} {number} is out of range",
                               "write rejections >= 2")  # fmt: skip
                    continue
                rejections = whole
        if satisfaction is None and rejections is None:
            return
        rules = built.complaints or ComplaintRules()
        built.complaints = ComplaintRules(
            rules.respond, rules.resolve, satisfaction, rejections, rules.location, self.loc(tree)
        )

    def product_problems_stmt(self, tree: Tree[Token], built: Built) -> None:
        if not self.once(("section", "product problems"), tree, "product problems to"):
            return
        built.product_problems_to = self._listed(tokens_of(tree, "NAME"), ROLES, "role")


def _rough(duration: Duration) -> float:
    """A duration's length in seconds for comparing two deadlines: a working day as 8
    hours, a month as 31 days."""
    day = 8 * 3600 if duration.working else 86400
    per = {Unit.MINUTE: 60, Unit.HOUR: 3600, Unit.DAY: day, Unit.WEEK: 7 * day,
           Unit.MONTH: 31 * day, Unit.YEAR: 366 * day}  # fmt: skip
    return float(duration.amount) * per[duration.unit]


__all__ = ["CustomerSection"]
