"""``desk.training``: assessments, retakes and certificates, and the certificates cases need.

An assessment scores the policy's parts (``assessment theory 40%, practical 40%, ...``),
passes at its ``pass at`` mark, and a pass issues the certificate, valid for the policy's
``certificate valid`` period. A failed attempt may be retaken as the policy says (``retake
until passed`` or ``retake at most N times``). ``require certificate "X" [when ...]`` rules are
enforced when a case is assigned (see ``desk.cases.assign``'s ``override``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import attrs

from aftersales.core.convert import from_dict, to_dict
from aftersales.core.errors import PermissionDenied, PolicyError, ValidationError, WorkflowError
from aftersales.core.model import Case, Notification, Staff
from aftersales.core.training import Assessment, Certificate, TrainingRecord
from aftersales.plugins.storage import SentNotification, utc_text

if TYPE_CHECKING:
    from aftersales.services.desk import ServiceDesk

EXPIRY_NOTICE = timedelta(days=30)
ASSESSORS = ("supervisor", "manager")


class TrainingService:
    def __init__(self, desk: ServiceDesk) -> None:
        self.desk = desk

    @property
    def rules(self) -> Any:
        rules = self.desk.policy.training
        if rules is None:
            raise PolicyError(f"{self.desk.policy.filename} has no training section",
                              hint="add a training block to the policy")  # fmt: skip
        return rules

    def record(self, staff_id: str) -> TrainingRecord:
        """The member's assessments and certificates."""
        self.desk.staff.get(staff_id)
        record = self.desk.storage.get("training", staff_id)
        return (
            TrainingRecord(staff_id) if record is None else from_dict(TrainingRecord, record.data)
        )

    def assess(
        self,
        staff_id: str,
        *,
        certificate: str,
        scores: Mapping[str, float | int | Decimal],
        by: str,
        at: datetime | None = None,
    ) -> Assessment:
        """Record an attempt (by a supervisor or manager, not the member): the weighted score,
        pass or fail, and on a pass the certificate."""
        rules = self.rules
        actor = self.desk.staff.actor(by)
        if not actor.has_role(*ASSESSORS) or actor.id == staff_id:
            raise PermissionDenied(f"{by} cannot assess {staff_id}: a supervisor or manager "
                                   "other than the member assesses")  # fmt: skip
        names = [w.name for w in rules.assessment]
        if set(scores) != set(names):
            raise ValidationError(f"an assessment scores exactly {', '.join(names)}")
        parts: dict[str, Decimal] = {}
        for name, value in scores.items():
            try:
                parts[name] = Decimal(str(value))
            except InvalidOperation:
                raise ValidationError(f"{name}: a score is a number from 0 to 100") from None
            if not 0 <= parts[name] <= 100:
                raise ValidationError(f"{name}: a score runs from 0 to 100, not {value}")
        record = self.record(staff_id)
        earlier = [a for a in record.assessments if a.certificate == certificate]
        if earlier and earlier[-1].passed and record.valid(certificate, self.desk.at(at)):
            raise WorkflowError(f"{staff_id} holds a valid {certificate} certificate already")
        if earlier and not earlier[-1].passed and not earlier[-1].retake_allowed:
            raise WorkflowError(f"{staff_id} has no retake of {certificate} left "
                                f"({rules.location})")  # fmt: skip
        score = sum((parts[w.name] * w.percent / 100 for w in rules.assessment), Decimal(0))
        passed = rules.pass_mark is None or score >= rules.pass_mark
        attempt = len(earlier) + 1
        retake = not passed and (
            rules.retake_until_passed
            or (rules.retake_limit is not None and attempt <= rules.retake_limit)
        )
        when = self.desk.at(at)
        assessment = Assessment(certificate, parts, score, passed, attempt, when, by, retake)
        certificates = record.certificates
        if passed:
            expires = (None if rules.certificate_valid is None
                       else self.desk.policy.add(when, rules.certificate_valid))  # fmt: skip
            certificates = (*certificates, Certificate(certificate, when, expires))
        after = attrs.evolve(record, assessments=(*record.assessments, assessment),
                             certificates=certificates, version=record.version + 1)  # fmt: skip
        event = {"version": after.version, "type": "assessed", "at": when.isoformat(), "by": by,
                 "data": to_dict(assessment)}  # fmt: skip
        with self.desk.storage.transaction() as tx:
            tx.append("training", staff_id, record.version, [event], to_dict(after))
        return assessment

    # -- what cases need --------------------------------------------------------------------
    def missing_for(self, case: Case, engineer: str, when: datetime) -> list[tuple[str, str]]:
        """``(certificate, rule location)`` the case needs and ``engineer`` lacks at ``when``."""
        rules = self.desk.policy.training
        if rules is None or not rules.certificates:
            return []
        facts = {**case.record(), "priority": case.priority}
        record = self.record(engineer)
        return [
            (rule.certificate, rule.location)
            for rule in rules.certificates
            if (rule.condition is None or rule.condition(facts))
            and record.valid(rule.certificate, when) is None
        ]

    def check_assignment(
        self, case: Case, engineer: Staff, actor: Staff, when: datetime, override: str | None
    ) -> dict[str, Any] | None:
        """PermissionDenied if ``engineer`` lacks a certificate the case needs, unless a
        manager overrides with a reason (returned, to be recorded with the assignment)."""
        missing = self.missing_for(case, engineer.id, when)
        if not missing:
            return None
        names = ", ".join(f'"{name}" ({where})' for name, where in missing)
        if override is None:
            raise PermissionDenied(
                f"{engineer.id} lacks the certificate(s) {names} that case {case.number} needs; "
                "a manager may assign anyway with override= and a reason"
            )
        if not actor.has_role("manager"):
            raise PermissionDenied(f"{actor.id} cannot override certificate rules: a manager can")
        if not override.strip():
            raise ValidationError("an override needs a reason")
        return {"certificates": [name for name, _ in missing], "reason": override.strip(),
                "by": actor.id}  # fmt: skip

    # -- reminders --------------------------------------------------------------------------
    def remind_expiring(self, now: datetime | None = None) -> list[Notification]:
        """``certificate_expiring`` 30 days before a certificate expires, once each (the SLA
        tick calls this)."""
        when = self.desk.at(now)
        sent = []
        for stored in self.desk.storage.scan("training"):
            record = from_dict(TrainingRecord, stored.data)
            for cert in record.certificates:
                if cert.expires_at is None or not when >= cert.expires_at - EXPIRY_NOTICE:
                    continue
                if when >= cert.expires_at:
                    continue
                holder, key = (
                    f"certificate:{record.staff_id}",
                    f"{cert.name}:{utc_text(cert.expires_at)}",
                )
                with self.desk.storage.transaction() as tx:
                    fresh = key not in tx.sent_keys([holder]).get(holder, set())
                    if fresh:
                        tx.record_sent([SentNotification(holder, key, utc_text(when), {})])
                if not fresh:
                    continue
                member = self.desk.staff.get(record.staff_id)
                people = tuple(x for x in (member.id, member.supervisor) if x)
                note = Notification(
                    "certificate_expiring", None, people,
                    f"{member.name}'s {cert.name} certificate expires {cert.expires_at:%Y-%m-%d}",
                    {"staff": member.id, "certificate": cert.name,
                     "expires_at": cert.expires_at.isoformat()}, when,
                )  # fmt: skip
                self.desk.notify([note])
                sent.append(note)
        return sent


__all__ = ["TrainingService"]
