"""The repair report as a document: what the customer signs and keeps, as HTML (from the
company's ``repair_report.html`` template) and PDF.

The PDF is drawn with reportlab: it installs from the package registry as wheels with no
system libraries (WeasyPrint needs Pango; wkhtmltopdf and headless browsers are binaries),
and its built-in CID fonts (``STSong-Light``) print Chinese without a font file to ship or
download: PDF readers supply the glyphs. It is imported when the first PDF is made.
"""

from __future__ import annotations

import base64
import io
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

import attrs

from aftersales.core.errors import ValidationError
from aftersales.core.model import Case, PartUse
from aftersales.policy.model import Policy
from aftersales.services.templates import Templates

FORMATS = ("html", "pdf")
CELL_CHARS = 1500
"""The most of one field a PDF table cell prints (a page holds about 3,000 characters)."""


@attrs.frozen
class RepairDocument:
    """A case's repair report, its times as the customer reads them (the policy's zone)."""

    number: str
    customer: str
    machine: str
    fault: str
    cause: str
    work: str
    result: str
    engineer: str
    completed: str
    remote: str | None = None
    arrived: str | None = None
    on_site: str | None = None
    coverage: str | None = None
    parts: tuple[PartUse, ...] = ()
    accepted_by: str | None = None
    accepted_at: str | None = None
    signature: str | None = None  # base64 PNG


def local_text(value: datetime | None, policy: Policy) -> str | None:
    """``value`` as the customer reads it: the policy's zone, ``YYYY-MM-DD HH:MM``."""
    if value is None:
        return None
    return value.astimezone(policy.tz).strftime("%Y-%m-%d %H:%M")


def document_of(case: Case, policy: Policy, engineer_name: str) -> RepairDocument:
    """The document of ``case``'s current repair; ValidationError before there is one."""
    repair = case.repair
    if repair is None:
        raise ValidationError(
            f"case {case.number} has no repair report yet (it is {case.status}); the "
            "document is made once the engineer has completed the repair"
        )
    product = case.product
    machine = " ".join(x for x in (product.model, product.serial) if x) or "-"
    arrived = case.milestones.get("arrived")
    on_site = None
    if arrived is not None and repair.remote is None and repair.at >= arrived:
        minutes = int((repair.at - arrived).total_seconds() // 60)
        on_site = f"{minutes // 60} h {minutes % 60:02d} min"
    accepted = case.acceptance
    return RepairDocument(
        number=case.number,
        customer=case.customer.name,
        machine=machine,
        fault=case.fault,
        cause=repair.cause or (case.diagnosis.cause if case.diagnosis else "-"),
        work=repair.actions,
        result=repair.result,
        engineer=engineer_name,
        completed=local_text(repair.at, policy) or "",
        remote=repair.remote,
        arrived=None if repair.remote else local_text(arrived, policy),
        on_site=on_site,
        coverage=None if case.coverage is None else case.coverage.kind,
        parts=repair.parts_used,
        accepted_by=None if accepted is None else accepted.signed_by,
        accepted_at=None if accepted is None else local_text(accepted.at, policy),
        signature=None if accepted is None else accepted.signature,
    )


MAX_PIXELS = 4000 * 4000
"""The largest signature image taken (a drawn signature is a few hundred pixels a side)."""


def check_signature(raw: bytes) -> None:
    """ValidationError unless ``raw`` is a whole PNG image of a sensible size: what is
    stored is printed on every repair report later, so it is decoded once now."""
    from PIL import Image, UnidentifiedImageError  # costly at start-up; only a signature

    try:
        with Image.open(io.BytesIO(raw)) as image:
            if image.format != "PNG":
                raise ValidationError("signature is not a PNG image")
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ValidationError(
                    f"the signature image is {width}x{height} pixels; at most {MAX_PIXELS:,}"
                )
            image.load()  # decodes every byte: a truncated or corrupt image fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(f"signature is not a readable PNG image ({exc})") from None


def to_html(doc: RepairDocument, templates: Templates, language: str, company: str) -> str:
    return templates.render("repair_report.html", language, doc=doc, company=company)


def to_pdf(doc: RepairDocument, templates: Templates, language: str, company: str) -> bytes:
    """The document as PDF (deterministic: the same report gives the same bytes)."""

    from reportlab.lib import colors  # costly at start-up; only a PDF needs it
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = "STSong-Light"
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    styles = getSampleStyleSheet()
    body = styles["Normal"].clone("aftersales-body", fontName=font, fontSize=10, leading=14)
    title = styles["Title"].clone("aftersales-title", fontName=font, fontSize=16, leading=20)
    w = templates.words(language)["report"]

    def cell(text: Any) -> Paragraph:
        shown = "-" if text is None else str(text)
        if len(shown) > CELL_CHARS:  # a table row cannot run over a page: the HTML has it all
            cut = len(shown) - CELL_CHARS
            shown = f"{shown[:CELL_CHARS]} ... ({cut:,} more characters in the HTML report)"
        return Paragraph(escape(shown), body)

    rows = [
        (w["customer"], doc.customer),
        (w["machine"], doc.machine),
        (w["fault"], doc.fault),
        (w["cause"], doc.cause),
        (w["work"], doc.work),
        (w["test"], doc.result),
    ]
    if doc.remote:
        rows.append((w["remote"], doc.remote))
    if doc.arrived:
        rows.append((w["arrived"], doc.arrived))
    rows.append((w["completed"], doc.completed))
    if doc.on_site:
        rows.append((w["on_site"], doc.on_site))
    rows.append((w["engineer"], doc.engineer))
    if doc.coverage:
        rows.append((w["coverage"], doc.coverage))
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                       ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
                       ("VALIGN", (0, 0), (-1, -1), "TOP")])  # fmt: skip
    story: list[Any] = [Paragraph(escape(f"{company} · {w['title']} {doc.number}"), title)]
    story.append(Table([[cell(k), cell(v)] for k, v in rows], colWidths=[45 * mm, 125 * mm],
                       style=grid))  # fmt: skip
    if doc.parts:
        story += [Spacer(1, 4 * mm), Paragraph(escape(w["parts"]), body)]
        head = [cell(w["part"]), cell(w["quantity"]), cell(w["serials"])]
        lines = [[cell(p.sku), cell(p.quantity), cell(", ".join(p.serials) or "-")]
                 for p in doc.parts]  # fmt: skip
        story.append(Table([head, *lines], colWidths=[60 * mm, 25 * mm, 85 * mm], style=grid))
    story.append(Spacer(1, 4 * mm))
    sign: list[list[Any]] = [[cell(w["accepted_by"]), cell(doc.accepted_by or w["not_signed"])]]
    if doc.accepted_at:
        sign.append([cell(w["accepted_at"]), cell(doc.accepted_at)])
    if doc.signature:
        image = Image(io.BytesIO(base64.b64decode(doc.signature)))
        scale = min(1.0, (60 * mm) / image.drawWidth, (25 * mm) / image.drawHeight)
        image.drawWidth, image.drawHeight = image.drawWidth * scale, image.drawHeight * scale
        sign.append([cell(w["signature"]), image])
    story.append(Table(sign, colWidths=[45 * mm, 125 * mm], style=grid))
    out = io.BytesIO()
    pdf = SimpleDocTemplate(out, invariant=1, title=f"{w['title']} {doc.number}",
                            author=company)  # fmt: skip
    pdf.build(story)
    return out.getvalue()


__all__ = ["FORMATS", "RepairDocument", "document_of", "local_text", "to_html", "to_pdf"]
