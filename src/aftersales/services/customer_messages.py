"""Messages to customers: which of a case's events the customer hears of (the policy's
``tell customer when ...``), who at the customer, by which channel, in which language, and
the text, rendered from the company's templates when the event is stored. They go through
the outbox with the event, like every notification; the notifier that owns the channel
(``email`` built in; ``sms`` and ``chat`` through the webhook or a plugin) delivers them.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

import attrs

from aftersales.core.duration import Duration, Unit
from aftersales.core.errors import NotFound, ValidationError
from aftersales.core.messages import EVENT_MESSAGE, Attachment, Recipient, recipient
from aftersales.core.model import Case, CaseEvent, Notification
from aftersales.core.sla import Clock
from aftersales.policy.model import Policy
from aftersales.services.basis import Basis
from aftersales.services.customers import CustomerService
from aftersales.services.repair_document import document_of, local_text, to_pdf
from aftersales.services.staff import StaffDirectory
from aftersales.services.survey_tokens import SurveyTokens
from aftersales.services.templates import Templates

logger = logging.getLogger("aftersales")
_DEADLINE = ("reported", "assigned")  # the messages that name the next deadline
SURVEY_VALID = Duration(30, Unit.DAY)
"""How long a survey link stays open unless the policy says (``survey valid for``)."""


@attrs.frozen
class MessageSettings:
    """``[messages]`` of ``aftersales.toml``: the company's ``templates`` folder (None: the
    shipped ones) and the survey page, ``survey_url`` with ``{token}`` where the token goes."""

    templates: str | None = None
    survey_url: str = "https://example.com/survey?token={token}"

    def __attrs_post_init__(self) -> None:
        if "{token}" not in self.survey_url:
            raise ValidationError(
                f"survey_url {self.survey_url!r} has no {{token}}; write "
                "https://service.example.com/survey?token={token}"
            )


class CustomerMessenger:
    """Builds the messages a case's events send its customer."""

    def __init__(
        self,
        basis: Basis,
        *,
        customers: CustomerService,
        staff: StaffDirectory,
        settings: MessageSettings,
        tokens: SurveyTokens,
    ) -> None:
        self._basis = basis
        self._customers = customers
        self._staff = staff
        self.settings = settings
        self.templates = Templates(settings.templates)
        self.tokens = tokens

    def tells(self, case: Case, message: str) -> bool:
        rules = self._basis.policy_for(case.policy_version).tell_customer
        return rules is not None and rules.tells(message)

    def reach(self, case: Case, message: str) -> tuple[Recipient | None, str]:
        """Who ``message`` of ``case`` goes to (None, and why, when nobody can get it)."""
        rules = self._basis.policy_for(case.policy_version).tell_customer
        if rules is None or not rules.tells(message):
            return None, f"the policy does not tell customers {message}"
        record = None if case.customer.id is None else self._customers.find(case.customer.id)
        return recipient(record, case.contact, message, rules.channels, self.templates.languages)

    def for_event(
        self,
        before: Case | None,
        after: Case,
        event: CaseEvent,
        clocks: Callable[[Case, datetime], Sequence[Clock]] | None = None,
    ) -> list[Notification]:
        """The message ``event`` sends the customer, if the policy says one and someone can
        get it (nothing, and a log line saying why, otherwise). ``clocks(case, now)`` gives
        the case's clocks, read only for a message that names the next deadline."""
        message = EVENT_MESSAGE.get(event.type)
        if message is None or not self.tells(after, message):
            return []
        if message == "appointment" and after.appointment is None:
            return []
        if message == "delayed" and event.data.get("channel") != "message":
            return []  # told in person: nothing more to send
        to, why = self.reach(after, message)
        if to is None:
            logger.info("case %s: no %s message sent: %s", after.number, message, why)
            return []
        try:
            running = clocks(after, event.at) if clocks and message in _DEADLINE else ()
            return [self.message(after, message, to, event, running)]
        except ValidationError as exc:  # a company's template: the case's work goes on
            logger.error("case %s: the %s message could not be made: %s", after.number,
                         message, exc)  # fmt: skip
            return [Notification(
                "customer_message_failed", after.id, tuple(self._staff.with_role("manager")),
                f"{after.number}: the customer was not sent the {message} message",
                {"number": after.number, "message": message, "error": str(exc)}, event.at,
            )]  # fmt: skip

    def message(
        self,
        case: Case,
        message: str,
        to: Recipient,
        event: CaseEvent,
        clocks: Sequence[Clock] = (),
    ) -> Notification:
        policy = self._basis.policy_for(case.policy_version)
        words = self.templates.words(to.language)
        context: dict[str, object] = {
            "company": policy.name,
            "case": case,
            "contact": to.name,
            "engineer": self.name_of(case.engineer),
            "deadline": self._deadline(clocks, words, policy),
            "appointment": local_text(case.appointment, policy),
        }
        data: dict[str, object] = {"number": case.number, "message": message}
        attachments: tuple[Attachment, ...] = ()
        if message == "departed":
            context["eta"] = local_text(_time(event.data.get("eta")), policy)
        elif message == "delayed":
            milestone = event.data["milestone"]
            context.update(milestone=words.get("milestone", {}).get(milestone, milestone),
                           reason=event.data["reason"],
                           new_time=local_text(_time(event.data["new_eta"]), policy))  # fmt: skip
            data["notice"] = len(case.delays) - 1
        elif message == "completed":
            context["signed_by"] = case.acceptance.signed_by if case.acceptance else ""
            warranty = policy.warranty
            until = None
            if warranty is not None and case.acceptance is not None:
                until = policy.add(case.acceptance.at, warranty.duration)
            context["warranty"] = None if until is None else local_text(until, policy)
            doc = document_of(case, policy, self.name_of(case.repair.engineer if case.repair
                                                        else case.engineer))  # fmt: skip
            pdf = to_pdf(doc, self.templates, to.language, policy.name)
            attachments = (Attachment(f"repair-report-{case.number}.pdf", "application/pdf",
                                      base64.b64encode(pdf).decode("ascii")),)  # fmt: skip
        elif message == "survey":
            valid = policy.survey_valid or SURVEY_VALID
            expires = policy.add(event.at, valid)
            token = self.tokens.make(case.id, expires, len(case.reopenings))
            context["survey_url"] = self.settings.survey_url.replace("{token}", token)
            context["expires"] = local_text(expires, policy)
            data["expires"] = expires.isoformat()
        subject, text = self.templates.message(message, to.language, **context)
        return Notification(f"customer_{message}", case.id, (), subject, data, event.at, to,
                            text, attachments)  # fmt: skip

    def name_of(self, staff_id: str | None) -> str:
        """A staff member's name for the customer (their id if no longer on file)."""
        if not staff_id:
            return ""
        try:
            return self._staff.get(staff_id).name
        except NotFound:
            return staff_id

    def _deadline(
        self, clocks: Sequence[Clock], words: dict[str, dict[str, str]], policy: Policy
    ) -> dict[str, str | None] | None:
        running = [c for c in clocks if c.due is not None and c.state in ("running", "at_risk")]
        if not running:
            return None
        first = min(running, key=lambda c: (c.due, c.milestone))
        doing = words.get("doing", {}).get(first.milestone, first.milestone)
        return {"milestone": first.milestone, "doing": doing, "due": local_text(first.due, policy)}


def _time(value: object) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


__all__ = ["SURVEY_VALID", "CustomerMessenger", "MessageSettings"]
