"""Messages to customers: who at the customer a case's message goes to, by which channel,
in which language. Pure: the desk's services render and send them (``desk.cases`` through
the outbox, :mod:`aftersales.services.customer_messages` for the text)."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from aftersales.core.installed_base import Contact, CustomerRecord
from aftersales.core.vocabulary import MESSAGES

LANGUAGES = ("en", "zh")
"""The languages the shipped templates are written in; a contact's language picks one
(``zh-CN``, ``zh_TW`` -> ``zh``), anything else is sent in the first."""

PROGRESS = tuple(m for m in MESSAGES if m != "survey")
"""Messages that answer the customer's own call: sent to the contact who reported the
fault without asking; the survey goes only to contacts who consented to be contacted."""

EVENT_MESSAGE = {
    "reported": "reported",
    "assigned": "assigned",
    "reassigned": "assigned",
    "contacted": "appointment",
    "departed": "departed",
    "delay_notified": "delayed",
    "accepted": "completed",
    "closed": "survey",
}
"""The case event each message follows."""


@attrs.frozen
class Recipient:
    """The person at the customer a message goes to: by ``channel`` at ``address`` (an
    e-mail address, or a phone number for ``sms`` and ``chat``), in ``language``."""

    name: str
    channel: str
    address: str
    language: str = "en"
    customer: str | None = None  # the customer record's id


@attrs.frozen
class Attachment:
    """A file sent with a message: ``content`` is base64 (the outbox stores JSON)."""

    filename: str
    content_type: str
    content: str


def language_of(tag: str | None, available: Sequence[str] = LANGUAGES) -> str:
    """The template language for a contact's language tag (``zh-CN`` -> ``zh``)."""
    if tag:
        base = tag.strip().lower().replace("_", "-").split("-")[0]
        if base in available:
            return base
    return available[0]


def _matches(contact: Contact, given: str) -> bool:
    wanted = " ".join(given.split()).casefold()
    return any(
        value is not None and " ".join(value.split()).casefold() == wanted
        for value in (contact.name, contact.email, contact.phone)
    )


def contact_for(record: CustomerRecord | None, given: str | None) -> Contact | None:
    """The contact of ``record`` a case's ``contact`` text names (by name, e-mail or phone,
    case and spacing ignored); a bare e-mail address or phone number the record does not
    know is a contact of its own (who has not consented to more than answers)."""
    if record is not None and given:
        found = next((c for c in record.contacts if _matches(c, given)), None)
        if found is not None:
            return found
    if not given:
        return None
    text = given.strip()
    if "@" in text and " " not in text:
        return Contact(text, email=text)
    digits = text.replace(" ", "").replace("-", "").removeprefix("+")
    if digits.isdigit() and len(digits) >= 6:
        return Contact(text, phone=text.replace(" ", ""))
    return None


def address_for(contact: Contact, channel: str) -> str | None:
    """Where ``contact`` is reached by ``channel`` (None: not by that one)."""
    if channel == "email":
        return contact.email
    if channel in ("sms", "chat"):
        return contact.phone
    return None


def recipient(
    record: CustomerRecord | None,
    given: str | None,
    message: str,
    channels: Sequence[str],
    languages: Sequence[str] = LANGUAGES,
) -> tuple[Recipient | None, str]:
    """Who gets ``message`` of a case whose contact is ``given``, and why nobody when
    nobody does: the contact's preferred channel first where the policy lists it, then the
    policy's channels in order; the survey only with the contact's consent."""
    contact = contact_for(record, given)
    if contact is None:
        return None, "the case names no contact the desk can reach"
    if message not in PROGRESS and not contact.consent:
        return None, f"{contact.name} has not consented to be contacted"
    order = [contact.channel] if contact.channel and contact.channel in channels else []
    order += [c for c in channels if c not in order]
    for channel in order:
        address = address_for(contact, channel)
        if address:
            return Recipient(
                contact.name,
                channel,
                address,
                language_of(contact.language, languages),
                None if record is None else record.id,
            ), ""
    return None, f"{contact.name} has no address for {', '.join(channels)}"


__all__ = [
    "EVENT_MESSAGE",
    "LANGUAGES",
    "PROGRESS",
    "Attachment",
    "Recipient",
    "address_for",
    "contact_for",
    "language_of",
    "recipient",
]
