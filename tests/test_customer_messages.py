"""Messages to customers (issue 20): which events tell the customer, whom, by which channel,
in which language, the templates, and the delay notice that counts only once it reached
them."""

from __future__ import annotations

import base64
import json
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import REPORT, RULES, T0, add_team, at, run_to
from test_notifiers import Hooks, Mailbox, free_port, smtp_server

from aftersales import (
    CaseEvent,
    ConflictError,
    DelayNotice,
    Notification,
    PermissionDenied,
    ServiceDesk,
    ValidationError,
    from_dict,
    parse_policy,
)
from aftersales.core.installed_base import Contact, CustomerRecord
from aftersales.core.messages import contact_for, language_of, recipient
from aftersales.core.vocabulary import MESSAGES
from aftersales.core.workflow import apply
from aftersales.ports.hookspecs import hookimpl
from aftersales.services.customer_messages import MessageSettings
from aftersales.services.templates import Templates
from aftersales.testing import Outbox

ZH_CONTACT = {"name": "王工", "phone": "+86 139 1111 2222", "email": "wang@hengli.example",
              "language": "zh-CN", "channel": "email", "consent": True}  # fmt: skip
EN_CONTACT = {"name": "Wang", "phone": "+86 139 3333 4444", "email": "wang.en@hengli.example",
              "language": "en", "channel": "sms", "consent": False}  # fmt: skip


def customer_desk(storage_url: str, outbox: Outbox, **kw: Any) -> ServiceDesk:
    desk = ServiceDesk(RULES / "default.policy", storage_url, plugins=[outbox], **kw)
    add_team(desk)
    desk.customers.add(id="C-1", name="Hengli Mining", tier="gold", region="north",
                       contacts=[ZH_CONTACT, EN_CONTACT], by="cs1", at=T0)  # fmt: skip
    return desk


REPORT_C1 = {**REPORT, "customer": {"id": "C-1", "name": "Hengli Mining"}}


def told(outbox: Outbox, message: str) -> list[Any]:
    return outbox.of(f"customer_{message}")


def test_the_acknowledgement_names_the_case_and_the_next_deadline_in_the_contacts_language(
    storage_url: str,
) -> None:
    outbox = Outbox()
    desk = customer_desk(storage_url, outbox)
    case = desk.cases.report(**{**REPORT_C1, "contact": "王工"}, by="cs1", at=at(0))
    [note] = told(outbox, "reported")
    assert note.case_id == case.id and note.recipients == ()
    assert note.to is not None
    assert (note.to.name, note.to.channel, note.to.address, note.to.language) == (
        "王工", "email", "wang@hengli.example", "zh")  # fmt: skip
    assert case.number in note.subject and "已收到您的报修" in note.subject
    assert "答复您的报修" in (note.text or "")  # the response clock: the next deadline
    assert "2026-11-23 09:30" in (note.text or "")  # 30 minutes for an urgent report


def test_an_english_contact_gets_english_by_their_preferred_channel(storage_url: str) -> None:
    outbox = Outbox()
    desk = customer_desk(storage_url, outbox)
    case = desk.cases.report(**{**REPORT_C1, "contact": "wang"}, by="cs1", at=at(0))
    [note] = told(outbox, "reported")
    assert note.to is not None and (note.to.channel, note.to.address) == (
        "sms",
        "+86 139 3333 4444",
    )
    assert note.subject.startswith("Default machinery after-sales policy: we have your report")
    assert f"Your case number is {case.number}" in (note.text or "")


def test_each_message_follows_its_event_and_the_survey_needs_consent(storage_url: str) -> None:
    outbox = Outbox()
    desk = customer_desk(storage_url, outbox)
    run_to(desk, "closed", **{**REPORT_C1, "contact": "wang"})  # the English one: no consent
    kinds = [n.kind for n in outbox.notifications if n.kind.startswith("customer_")]
    assert kinds == ["customer_reported", "customer_assigned", "customer_appointment",
                     "customer_completed"]  # fmt: skip
    outbox.clear()
    run_to(desk, "closed", **{**REPORT_C1, "contact": "wang@hengli.example"})  # consented
    assert [n.kind for n in told(outbox, "survey")] == ["customer_survey"]
    [appointment] = [n for n in outbox.notifications if n.kind == "customer_appointment"]
    assert "2026-11-23 11:00" in (appointment.text or "")  # at(120), the agreed time
    [assigned] = told(outbox, "assigned")
    assert "Chen" in (assigned.text or "")


def test_the_completed_message_carries_the_repair_report_as_pdf(storage_url: str) -> None:
    outbox = Outbox()
    desk = customer_desk(storage_url, outbox)
    case = run_to(desk, "accepted", **{**REPORT_C1, "contact": "王工"})
    [note] = told(outbox, "completed")
    [pdf] = note.attachments
    assert pdf.filename == f"repair-report-{case.number}.pdf"
    assert pdf.content_type == "application/pdf"
    assert base64.b64decode(pdf.content).startswith(b"%PDF")
    assert "维修报告见附件" in (note.text or "")


def test_nobody_reachable_sends_nothing_and_the_case_goes_on(storage_url: str) -> None:
    outbox = Outbox()
    desk = customer_desk(storage_url, outbox)
    case = desk.cases.report(**{**REPORT_C1, "contact": "the foreman"}, by="cs1", at=at(0))
    assert told(outbox, "reported") == [] and case.status == "reported"


def test_a_policy_without_tell_customer_sends_customers_nothing(storage_url: str) -> None:
    outbox = Outbox()
    text = (RULES / "default.policy").read_text("utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("tell customer")]
    desk = ServiceDesk(parse_policy("\n".join(lines), "quiet.policy"), storage_url,
                       plugins=[outbox])  # fmt: skip
    add_team(desk)
    run_to(desk, "closed")
    assert [n for n in outbox.notifications if n.to is not None] == []


# ---- the notice that counts ------------------------------------------------------------------
def late_arrival(desk: ServiceDesk, **told_how: Any) -> Any:
    """A case whose arrival (due 8 hours after report, urgent) is told to be late at 3h."""
    case = run_to(desk, "contacted", **{**REPORT_C1, "contact": "王工"})
    return desk.cases.notify_delay(case.id, milestone="arrival", reason="road closed by snow",
                                   new_eta=at(600), by="e7", at=at(180), **told_how)  # fmt: skip


def arrival(desk: ServiceDesk, case_id: str, minutes: float) -> Any:
    return {c.milestone: c for c in desk.cases.sla(case_id, now=at(minutes))}["arrival"]


def test_a_delivered_notice_excuses_the_late_arrival(storage_url: str) -> None:
    outbox = Outbox(reaches_customers=True)
    desk = customer_desk(storage_url, outbox)
    case = late_arrival(desk)
    [note] = told(outbox, "delayed")
    assert "road closed by snow" in (note.text or "") and "2026-11-23 19:00" in (note.text or "")
    stored = desk.cases.get(case.id)
    [notice] = stored.delays
    assert notice.channel == "message" and notice.reached_at == at(180)
    assert notice.via is not None and notice.via.endswith(":email")
    clock = arrival(desk, case.id, 540)  # past the 8 hours, before the new time
    assert clock.state == "excused" and clock.excuse == notice
    assert [e.type for e in desk.cases.history(case.id)][-2:] == ["delay_notified",
                                                                  "notice_delivered"]  # fmt: skip


def test_an_undelivered_notice_excuses_nothing(storage_url: str) -> None:
    outbox = Outbox()  # takes the message but reaches nobody: no receipt
    desk = customer_desk(storage_url, outbox)
    case = late_arrival(desk)
    [notice] = desk.cases.get(case.id).delays
    assert notice.reached_at is None
    clock = arrival(desk, case.id, 540)
    assert clock.state == "breached" and clock.excuse is None


def test_a_notice_given_by_phone_counts_from_when_it_was_given(storage_url: str) -> None:
    desk = customer_desk(storage_url, Outbox())
    case = late_arrival(desk, told="王工", channel="phone")
    [notice] = case.delays
    assert (notice.told, notice.channel, notice.reached_at) == ("王工", "phone", at(180))
    assert arrival(desk, case.id, 540).state == "excused"


class Gateway:
    """A notifier that reaches customers, and fails while ``down``."""

    name = "gateway"
    aftersales_inline = True

    def __init__(self) -> None:
        self.down = False

    @hookimpl
    def aftersales_notify(self, notification: Notification) -> str | None:
        if self.down:
            raise ConnectionError("the gateway is down")
        return None if notification.to is None else notification.to.channel


def test_a_notice_that_reaches_the_customer_after_the_deadline_excuses_nothing(
    storage_url: str,
) -> None:
    gateway = Gateway()
    desk = customer_desk(storage_url, Outbox())
    desk.plugins.register(gateway, name="gateway")
    case = run_to(desk, "contacted", **{**REPORT_C1, "contact": "王工"})
    gateway.down = True  # the notice waits in the outbox until after the deadline (at(480))
    desk.cases.notify_delay(case.id, milestone="arrival", reason="snow", new_eta=at(700),
                            by="e7", at=at(180))  # fmt: skip
    assert desk.cases.get(case.id).delays[0].reached_at is None
    gateway.down = False
    desk.notifications.deliver_due(at(500))
    [notice] = desk.cases.get(case.id).delays
    assert notice.reached_at == at(500) and notice.via == "gateway:email"
    assert arrival(desk, case.id, 540).state == "breached"


def test_a_delay_message_needs_a_policy_that_sends_it_and_someone_to_get_it(
    storage_url: str,
) -> None:
    desk = customer_desk(storage_url, Outbox())
    case = run_to(desk, "contacted", **{**REPORT_C1, "contact": "the foreman"})
    with pytest.raises(ValidationError, match="told='the person', channel='phone'"):
        desk.cases.notify_delay(case.id, milestone="arrival", reason="snow", new_eta=at(700),
                                by="e7", at=at(180))  # fmt: skip
    with pytest.raises(ValidationError, match="channel is how the customer was told"):
        desk.cases.notify_delay(case.id, milestone="arrival", reason="snow", new_eta=at(700),
                                by="e7", told="Li", channel="pigeon", at=at(180))  # fmt: skip
    assert desk.cases.get(case.id).delays == ()


def test_the_engineer_on_the_way(storage_url: str) -> None:
    outbox = Outbox()
    desk = customer_desk(storage_url, outbox)
    case = run_to(desk, "contacted", **{**REPORT_C1, "contact": "wang"})
    with pytest.raises(ValidationError, match="eta must be later"):
        desk.cases.on_the_way(case.id, by="e7", eta=at(20), at=at(60))
    with pytest.raises(PermissionDenied):
        desk.cases.on_the_way(case.id, by="e8", at=at(61))
    desk.cases.on_the_way(case.id, by="e7", eta=at(110), at=at(60))
    [note] = told(outbox, "departed")
    assert "Chen has set off" in (note.text or "") and "2026-11-23 10:50" in (note.text or "")
    assert desk.cases.history(case.id)[-1].type == "departed"


# ---- templates ---------------------------------------------------------------------------
@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("message", MESSAGES)
def test_every_template_renders_for_every_message(message: str, language: str) -> None:
    desk = ServiceDesk(RULES / "default.policy")
    add_team(desk)
    case = run_to(desk, "accepted")
    context = {"company": "ACME", "case": case, "contact": "Li", "engineer": "Chen",
               "deadline": {"milestone": "arrival", "doing": "x", "due": "2026-11-23 17:00"},
               "appointment": "2026-11-23 11:00", "eta": "10:50", "milestone": "arrival",
               "reason": "snow", "new_time": "2026-11-23 19:00", "signed_by": "Wang",
               "warranty": "2027-02-21", "survey_url": "https://x/s?token=T",
               "expires": "2026-12-07"}  # fmt: skip
    subject, text = Templates().message(message, language, **context)
    assert case.number in subject and "\n" not in subject
    assert "Li" in text and text.strip()


def test_a_companys_own_template_overrides_the_shipped_one(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "reported.txt").write_text(
        "ACME case {{ case.number }}\nHello {{ contact }}, {{ words.doing.response }}.\n", "utf-8"
    )
    (tmp_path / "en" / "words.toml").write_text('[doing]\nresponse = "ring you"\n', "utf-8")
    templates = Templates(tmp_path)
    subject, text = templates.message("reported", "en", case=run_case(), contact="Li")
    assert subject.startswith("ACME case AS-") and text == "Hello Li, ring you.\n"
    assert templates.words("en")["doing"]["contact"] == "call you"  # the rest stays shipped
    (tmp_path / "en" / "assigned.txt").write_text("{{ no_such_thing }}\n", "utf-8")
    with pytest.raises(ValidationError, match=r"template en/assigned\.txt could not be rendered"):
        templates.message("assigned", "en", case=run_case())
    with pytest.raises(ValidationError, match="does not exist"):
        Templates(tmp_path / "missing")


def run_case() -> Any:
    desk = ServiceDesk(RULES / "default.policy")
    add_team(desk)
    return desk.cases.report(**REPORT, by="cs1", at=at(0))


# ---- who gets it -------------------------------------------------------------------------
def test_contacts_are_matched_by_name_email_or_phone_ignoring_case_and_spacing() -> None:
    li = Contact("Li  Na", phone="+86 1", email="li@x.example", consent=True)
    record = CustomerRecord("C", "X", contacts=(li,))
    for given in ("li na", "LI@X.EXAMPLE", "+86  1"):
        assert contact_for(record, given) == li
    assert contact_for(record, "nobody") is None
    assert contact_for(None, "someone@x.example") == Contact("someone@x.example",
                                                             email="someone@x.example")  # fmt: skip
    assert contact_for(None, "138 0000 0000") is not None
    assert language_of("zh_TW") == "zh" and language_of("fr") == "en" and language_of(None) == "en"
    mail_only = CustomerRecord("C", "X", contacts=(Contact("Li", email="li@x.example"),))
    to, why = recipient(mail_only, "li", "reported", ("sms",))
    assert to is None and "no address for sms" in why
    to, why = recipient(mail_only, "li", "survey", ("sms", "email"))
    assert to is None and "has not consented" in why
    to, _ = recipient(mail_only, "li", "reported", ("sms", "email"))
    assert to is not None and to.channel == "email"


def test_a_notice_recorded_before_notices_had_to_reach_anyone_counts_as_it_did() -> None:
    desk = ServiceDesk(RULES / "default.policy")
    add_team(desk)
    case = run_to(desk, "contacted")
    event = CaseEvent(
        case.id,
        case.version + 1,
        "delay_notified",
        at(180),
        "e7",
        {"milestone": "arrival", "reason": "x", "new_eta": at(600).isoformat()},
    )
    [notice] = apply(case, event).delays
    assert (notice.channel, notice.reached_at) == (None, at(180))
    stored = from_dict(DelayNotice, {"milestone": "arrival", "reason": "x",
                                     "new_eta": at(600).isoformat(), "at": at(180).isoformat(),
                                     "by": "e7"})  # fmt: skip
    assert stored.reached_at == at(180)


# ---- surveys -----------------------------------------------------------------------------
def survey_token(outbox: Outbox) -> str:
    [note] = told(outbox, "survey")
    text = note.text or ""
    return text.split("token=", 1)[1].split()[0]


def closed_with_survey(storage_url: str) -> tuple[ServiceDesk, Outbox, Any]:
    outbox = Outbox()
    desk = customer_desk(storage_url, outbox)
    case = run_to(desk, "closed", **{**REPORT_C1, "contact": "王工"})
    return desk, outbox, case


def test_a_survey_answer_is_recorded_once(storage_url: str) -> None:
    desk, outbox, case = closed_with_survey(storage_url)
    token = survey_token(outbox)
    [note] = told(outbox, "survey")
    assert "2026-12-09" in (note.text or "")  # closed at(3010) + 14 days
    answered = desk.cases.answer_survey(token, satisfaction=4, comments="快", at=at(3100))
    assert answered.survey is not None
    assert (answered.survey.satisfaction, answered.survey.comments) == (4, "快")
    assert answered.satisfaction == 5  # the follow-up call's comes first
    with pytest.raises(ConflictError, match="answered once"):
        desk.cases.answer_survey(token, satisfaction=1, at=at(3200))
    assert desk.cases.get(case.id).survey == answered.survey


def test_an_altered_or_foreign_survey_token_is_refused(
    storage_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk, outbox, case = closed_with_survey(storage_url)
    token = survey_token(outbox)
    body, sig = token.split(".")
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    for bad in (f"{flipped}.{sig}", f"{body}.{sig[:-2]}xx"):
        with pytest.raises(PermissionDenied, match="signature does not match"):
            desk.cases.answer_survey(bad, satisfaction=1, at=at(3100))
    for bad in ("", "nodot", "a.b.c!", 42):
        with pytest.raises(ValidationError):
            desk.cases.answer_survey(bad, satisfaction=1, at=at(3100))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="satisfaction must be a whole number"):
        desk.cases.answer_survey(token, satisfaction=9, at=at(3100))
    monkeypatch.setenv("AFTERSALES_SURVEY_SECRET", "another desk's secret")
    other = ServiceDesk(RULES / "default.policy", desk.storage)
    with pytest.raises(PermissionDenied):
        other.cases.answer_survey(token, satisfaction=1, at=at(3100))
    assert desk.cases.get(case.id).survey is None


def test_an_expired_survey_token_is_refused(storage_url: str) -> None:
    desk, outbox, case = closed_with_survey(storage_url)
    token = survey_token(outbox)
    with pytest.raises(ValidationError, match="expired"):
        desk.cases.answer_survey(token, satisfaction=2, at=at(3010) + timedelta(days=14, hours=1))
    assert desk.cases.get(case.id).survey is None


def test_the_survey_secret_is_kept_in_the_store_so_another_desk_verifies_it(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    outbox = Outbox()
    desk = customer_desk(url, outbox)
    run_to(desk, "closed", **{**REPORT_C1, "contact": "王工"})
    token = survey_token(outbox)
    desk.close()
    with ServiceDesk(RULES / "default.policy", url) as again:
        case = again.cases.answer_survey(token, satisfaction=3, at=at(3100))
        assert case.survey is not None


def test_a_survey_answered_on_a_case_closed_without_a_call_is_its_satisfaction() -> None:
    text = (
        (RULES / "default.policy")
        .read_text("utf-8")
        .replace("callback within 2 working days after accepted", "callback optional")
    )
    outbox = Outbox()
    desk = ServiceDesk(parse_policy(text, "optional.policy"), plugins=[outbox])
    add_team(desk)
    desk.customers.add(id="C-1", name="Hengli Mining", contacts=[ZH_CONTACT], by="cs1", at=T0)
    case = run_to(desk, "accepted", **{**REPORT_C1, "contact": "王工"})
    desk.cases.close(case.id, by="cs1", at=at(300))
    case = desk.cases.answer_survey(survey_token(outbox), satisfaction=2, at=at(400))
    assert case.follow_up is None and case.satisfaction == 2


# ---- the repair report as a document -------------------------------------------------------
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def test_the_repair_report_as_html_and_pdf_with_the_signature(storage_url: str) -> None:
    desk = customer_desk(storage_url, Outbox())
    case = run_to(desk, "repaired", **{**REPORT_C1, "contact": "王工"})
    pending = desk.cases.report_document(case.id, format="html", language="en").decode()
    assert "Not yet accepted" in pending
    desk.cases.accept(case.id, signed_by="Wang Gong", by="e7", at=at(210), signature=PNG)
    html = desk.cases.report_document(case.id, format="html").decode()  # the contact's: zh
    assert "维修报告" in html and case.number in html and "worn pump seal" in html
    assert "SEAL-9" in html and "Wang Gong" in html and "Chen" in html
    assert "data:image/png;base64," in html and "1 h 20 min" in html  # at(120) to at(200)
    english = desk.cases.report_document(case.id, format="html", language="en").decode()
    assert "Repair report" in english and "Time on site" in english
    pdf = desk.cases.report_document(case.id)
    assert pdf.startswith(b"%PDF") and b"STSong-Light" in pdf
    assert desk.cases.report_document(case.id) == pdf  # the same report, the same bytes
    with pytest.raises(ValidationError, match="format is html or pdf"):
        desk.cases.report_document(case.id, format="docx")
    with pytest.raises(ValidationError, match="language is one of en, zh"):
        desk.cases.report_document(case.id, language="fr")


def test_a_document_needs_a_repair_and_a_signature_must_be_a_png(storage_url: str) -> None:
    desk = customer_desk(storage_url, Outbox())
    case = run_to(desk, "diagnosed")
    with pytest.raises(ValidationError, match="no repair report yet"):
        desk.cases.report_document(case.id)
    case = run_to(desk, "repaired")
    for bad, why in ((b"GIF89a....", "not a PNG"), ("%%%", "bytes or base64 text"),
                     (PNG + b"0" * 600_000, "at most"), (12, "not int")):  # fmt: skip
        with pytest.raises(ValidationError, match=why):
            desk.cases.accept(case.id, signed_by="W", by="e7", at=at(210), signature=bad)  # type: ignore[arg-type]
    url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    accepted = desk.cases.accept(case.id, signed_by="W", by="e7", at=at(210), signature=url)
    assert accepted.acceptance is not None
    assert accepted.acceptance.signature == base64.b64encode(PNG).decode()


# ---- real servers: an SMTP server and a webhook receiver on loopback ---------------------
def test_a_chinese_delay_notice_by_mail_reaches_the_contact_and_excuses_the_delay(
    tmp_path: Path,
) -> None:
    box, port = Mailbox(), free_port()
    server = smtp_server(box, port)
    try:
        email = {"host": "127.0.0.1", "port": port, "security": "none",
                 "sender": "After-sales <desk@pumps.example>",
                 "copy_to": ["service-log@pumps.example"]}  # fmt: skip
        desk = customer_desk(f"sqlite:///{tmp_path / 'desk.db'}", Outbox(),
                             notify={"email": email})  # fmt: skip
        case = late_arrival(desk)
        [(rcpt, mail)] = [m for m in box.mails if m[1]["X-Aftersales-Kind"] == "customer_delayed"]
        assert rcpt == ["wang@hengli.example"]  # the contact alone: no staff copy
        assert (
            mail["Subject"]
            == f"Default machinery after-sales policy：报修单 {case.number} 将会延误"
        )
        assert mail["Content-Language"] == "zh"
        assert "原因是：road closed by snow" in mail.get_content()
        [notice] = desk.cases.get(case.id).delays
        assert notice.reached_at == at(180) and notice.via == "email:email"
        assert arrival(desk, case.id, 540).state == "excused"
    finally:
        server.stop()


def test_the_completed_mail_carries_the_pdf_in_english(tmp_path: Path) -> None:
    box, port = Mailbox(), free_port()
    server = smtp_server(box, port)
    try:
        email = {"host": "127.0.0.1", "port": port, "security": "none",
                 "sender": "After-sales <desk@pumps.example>"}  # fmt: skip
        desk = customer_desk(f"sqlite:///{tmp_path / 'desk.db'}", Outbox(),
                             notify={"email": email})  # fmt: skip
        desk.customers.update("C-1", by="cs1", contacts=[{**EN_CONTACT, "channel": "email"}],
                              at=at(0))  # fmt: skip
        case = run_to(desk, "accepted", **{**REPORT_C1, "contact": "wang"})
        [(rcpt, mail)] = [m for m in box.mails
                          if m[1]["X-Aftersales-Kind"] == "customer_completed"]  # fmt: skip
        assert rcpt == ["wang.en@hengli.example"]
        assert mail["Subject"].endswith(f"case {case.number} is complete")
        [body, attachment] = list(mail.iter_parts())
        assert "The repair report is attached" in body.get_content()
        assert attachment.get_filename() == f"repair-report-{case.number}.pdf"
        assert attachment.get_content().startswith(b"%PDF")
    finally:
        server.stop()


def test_an_sms_goes_to_the_webhook_gateway_and_its_answer_is_the_receipt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AFTERSALES_WEBHOOK_SECRET", "s3cret")
    hooks = Hooks()
    thread = threading.Thread(target=hooks.serve_forever, daemon=True)
    thread.start()
    try:
        desk = customer_desk(f"sqlite:///{tmp_path / 'desk.db'}", Outbox(),
                             notify={"webhook": {"url": f"{hooks.url}/sms"}})  # fmt: skip
        case = run_to(desk, "contacted", **{**REPORT_C1, "contact": "wang"})  # prefers sms
        desk.cases.notify_delay(case.id, milestone="arrival", reason="snow", new_eta=at(600),
                                by="e7", at=at(180))  # fmt: skip
        posted = [json.loads(body) for _, headers, body in hooks.posts
                  if headers["X-Aftersales-Event"] == "customer_delayed"]  # fmt: skip
        [document] = posted
        to = document["notification"]["to"]
        assert (to["channel"], to["address"], to["language"]) == ("sms", "+86 139 3333 4444", "en")
        assert "snow" in document["notification"]["text"]
        [notice] = desk.cases.get(case.id).delays
        assert notice.reached_at == at(180) and notice.via == "webhook:sms"
        hooks.fail = 10  # the gateway is down: the next notice stays undelivered
        desk.cases.notify_delay(case.id, milestone="arrival", reason="snow again",
                                new_eta=at(700), by="e7", at=at(190))  # fmt: skip
        assert desk.cases.get(case.id).delays[1].reached_at is None
    finally:
        hooks.shutdown()
        hooks.server_close()


def test_the_outbox_lists_a_customers_message_by_its_contact(storage_url: str) -> None:
    desk = customer_desk(storage_url, Outbox())
    desk.cases.report(**{**REPORT_C1, "contact": "王工"}, by="cs1", at=at(0))
    [item] = [i for i in desk.storage.outbox("delivered")
              if i.notification["kind"] == "customer_reported"
              and i.plugin == "aftersales.testing.Outbox"]  # fmt: skip
    shown = desk.notifications.describe(item)
    assert shown["recipients"] == ["王工 <wang@hengli.example> by email"]


def test_a_reopened_case_asks_again_and_the_old_link_is_refused() -> None:
    text = (RULES / "default.policy").read_text("utf-8") + "\nreopen within 30 days\n"
    outbox = Outbox()
    desk = ServiceDesk(parse_policy(text, "reopen.policy"), plugins=[outbox])
    add_team(desk)
    desk.customers.add(id="C-1", name="Hengli Mining", contacts=[ZH_CONTACT], by="cs1", at=T0)
    case = run_to(desk, "closed", **{**REPORT_C1, "contact": "王工"})
    first = survey_token(outbox)
    desk.cases.answer_survey(first, satisfaction=5, at=at(3020))
    outbox.clear()
    desk.cases.reopen(case.id, reason="leaks again", by="cs1", at=at(4000))
    assert desk.cases.get(case.id).survey is None  # the new repair is asked about anew
    with pytest.raises(ConflictError, match="sent before the case was reopened"):
        desk.cases.answer_survey(first, satisfaction=1, at=at(4001))
    steps = [("confirm", {}), ("contact", {"appointment": at(4200)}), ("arrive", {}),
             ("checklist", {"items": ["helmet", "gloves"]}),
             ("diagnose", {"cause": "seal", "complexity": "simple"}),
             ("complete", {"actions": "new seal", "result": "dry"}),
             ("accept", {"signed_by": "王工"})]  # fmt: skip
    for n, (step, kw) in enumerate(steps):
        getattr(desk.cases, step)(case.id, by="e7", at=at(4100 + 10 * n + (100 if n > 1 else 0)),
                                  **kw)  # fmt: skip
    desk.cases.follow_up(case.id, by="cs1", satisfaction=3, at=at(5000))
    desk.cases.close(case.id, by="cs1", at=at(5010))
    again = desk.cases.answer_survey(survey_token(outbox), satisfaction=4, at=at(5020))
    assert again.survey is not None and again.survey.satisfaction == 4


def test_a_template_that_fails_tells_the_managers_and_the_case_goes_on(tmp_path: Path) -> None:
    (tmp_path / "zh").mkdir()
    (tmp_path / "zh" / "reported.txt").write_text("{{ case.no_such_field.x }}\n", "utf-8")
    outbox = Outbox()
    desk = customer_desk("memory://", outbox, messages=MessageSettings(templates=str(tmp_path)))
    case = desk.cases.report(**{**REPORT_C1, "contact": "王工"}, by="cs1", at=at(0))
    assert case.status == "reported" and told(outbox, "reported") == []
    [failed] = outbox.of("customer_message_failed")
    assert failed.recipients == ("m1",) and "template zh/reported.txt" in failed.data["error"]
