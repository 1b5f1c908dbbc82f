"""``desk.training``: the annual plan, assessments, retakes and certificates, and the
certificates cases need.

The plan holds courses (content area, method, trainer, the certificate they prepare for) and
their scheduled sessions with enrolment and attendance.

An assessment scores the policy's parts (``assessment theory 40%, practical 40%, ...``),
passes at its ``pass at`` mark, and a pass issues the certificate, valid for the policy's
``certificate valid`` period. A failed attempt may be retaken as the policy says (``retake
until passed`` or ``retake at most N times``). ``require certificate "X" [when ...]`` rules are
enforced when a case is assigned (see ``desk.cases.assign``'s ``override``).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs

from aftersales.core import values
from aftersales.core.boundary import public_api
from aftersales.core.convert import to_dict
from aftersales.core.errors import (
    ConflictError,
    NotFound,
    PermissionDenied,
    PolicyError,
    ValidationError,
    WorkflowError,
)
from aftersales.core.model import Case, Notification, Staff
from aftersales.core.permissions import not_own, permit, permit_role
from aftersales.core.training import (
    AREAS,
    METHODS,
    Assessment,
    Certificate,
    Course,
    CourseReport,
    PlanWarning,
    Session,
    TrainingRecord,
)
from aftersales.core.values import shown
from aftersales.ports.storage import Transaction, event_record, utc_text
from aftersales.services.basis import Basis
from aftersales.services.notifications import NotificationService, retried
from aftersales.services.repository import Repository
from aftersales.services.staff import StaffDirectory

EXPIRY_NOTICE = timedelta(days=30)
WATCH = ("reminder", "certificate_expiring")
"""The record that says when the tick must next look through the certificates: so a tick
reads one record, not every member's training, until a notice falls due."""


def _nonblank(value: Any, what: str) -> str:
    return values.text(value, what)  # type: ignore[no-any-return]


def _plan_year(year: object) -> int:
    """``year`` if it can be a plan's year (an int from 2000 to 2999), else ValidationError."""
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2999:
        raise ValidationError(f"year must be a year such as 2027, not {shown(year)}")
    return year


@public_api("desk.training")
class TrainingService:
    def __init__(
        self, basis: Basis, *, staff: StaffDirectory, notifications: NotificationService
    ) -> None:
        self._basis = basis
        self._staff = staff
        self._notifications = notifications
        self._courses = Repository(basis.storage, "course", Course, "course")
        self._records = Repository(basis.storage, "training", TrainingRecord, "training record",
                                   key=lambda record: record.staff_id)  # fmt: skip

    @property
    def rules(self) -> Any:
        rules = self._basis.policy.training
        if rules is None:
            raise PolicyError(f"{self._basis.policy.filename} has no training section",
                              hint="add a training block to the policy")  # fmt: skip
        return rules

    def record(self, staff_id: str) -> TrainingRecord:
        """The member's assessments and certificates."""
        self._staff.get(staff_id)
        return self._records.find(staff_id) or TrainingRecord(staff_id)

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
        staff_id = values.key(staff_id, "a staff id")
        actor = permit(self._staff.actor(by), "training.assess", f"assess {staff_id}")
        not_own(actor, staff_id, "assess themselves", "another supervisor or manager assesses")
        member = self._staff.get(staff_id)
        if not member.active:
            raise WorkflowError(f"staff {staff_id} is inactive: reactivate them to assess them")
        certificate = values.name(certificate, "the certificate")
        known = self._certificates()
        if certificate not in known:
            raise ValidationError(
                f"unknown certificate {shown(certificate)}; the policy and the training plan name: "
                f"{', '.join(sorted(known)) or 'none'}"
            )
        names = [w.name for w in rules.assessment]
        if not isinstance(scores, Mapping) or set(scores) != set(names):
            raise ValidationError(f"an assessment scores exactly {', '.join(names)}")
        parts: dict[str, Decimal] = {}
        for name, value in scores.items():
            parts[name] = values.amount(value, f"{name}: a score (a number from 0 to 100)",
                                        minimum=0, maximum=100)  # fmt: skip
        record = self.record(staff_id)
        earlier = [a for a in record.assessments if a.certificate == certificate]
        if earlier and earlier[-1].passed and record.valid(certificate, self._basis.at(at)):
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
        when = self._basis.at(at)
        booked = self._next_session(certificate, when) if retake else None
        assessment = Assessment(certificate, parts, score, passed, attempt, when, by, retake,
                                None if booked is None else booked[1].id)  # fmt: skip
        certificates = record.certificates
        if passed:
            expires = (None if rules.certificate_valid is None
                       else self._basis.policy.add(when, rules.certificate_valid))  # fmt: skip
            certificates = (*certificates, Certificate(certificate, when, expires))
        after = attrs.evolve(record, assessments=(*record.assessments, assessment),
                             certificates=certificates, version=record.version + 1)  # fmt: skip
        notes = []
        if booked is not None:
            member = self._staff.get(staff_id)
            session = booked[1]
            notes.append(Notification(
                "retake_scheduled", None, tuple(x for x in (member.id, member.supervisor) if x),
                f"{member.name} retakes {certificate}: {booked[0].title} on "
                f"{session.starts_at:%Y-%m-%d %H:%M}",
                {"staff": member.id, "certificate": certificate, "session": session.id,
                 "starts_at": session.starts_at.isoformat()}, when,
            ))  # fmt: skip
        with self._notifications.transaction(notes, when) as tx:
            self._records.save(record, after, "assessed", by, when, to_dict(assessment), tx=tx)
            if passed and certificates[-1].expires_at is not None:
                self._watch(tx, certificates[-1].expires_at - EXPIRY_NOTICE, by, when, moved=True)
            if booked is not None and staff_id not in booked[1].enrolled:
                self._enroll(tx, booked[0], booked[1], [staff_id], by, when)
        return assessment

    # -- the annual plan -----------------------------------------------------------------------
    def _certificates(self) -> set[str]:
        """The certificates there are: named by the policy's rules or by a course."""
        names = {rule.certificate for rule in self.rules.certificates}
        names |= {c.certificate for c in self.plan(None) if c.certificate}
        return names

    def add_course(
        self,
        *,
        id: str,
        title: str,
        year: int,
        area: str,
        method: str,
        trainer: str,
        certificate: str | None = None,
        by: str,
        at: datetime | None = None,
    ) -> Course:
        """Put a course on the year's plan (a supervisor or manager). ``area`` is one of
        product_knowledge, repair_skills, customer_service, safety; ``method`` one of
        internal, external, on_site; ``certificate``: the one it prepares for, so failed
        assessments are booked onto its next session."""
        self._planner(by, "training.add_course", "plan training")
        course_id = _nonblank(id, "a course id")
        if "/" in course_id:
            raise ValidationError(f"course id {shown(course_id)}: no '/' (it separates sessions)")
        if area not in AREAS:
            raise ValidationError(f"area must be one of {', '.join(AREAS)}, not {shown(area)}")
        if method not in METHODS:
            raise ValidationError(
                f"method must be one of {', '.join(METHODS)}, not {shown(method)}"
            )
        _plan_year(year)
        course = Course(course_id, _nonblank(title, "a course title"), year, area, method,
                        _nonblank(trainer, "the trainer"),
                        None if certificate is None else _nonblank(certificate, "certificate"),
                        version=1)  # fmt: skip
        when = self._basis.at(at)
        return self._courses.create(course, "course_added", by, when)

    def course(self, id: str) -> Course:
        return self._courses.get(id, f"no course {shown(id)} in the training plan")

    def plan(self, year: int | None = None) -> builtins.list[Course]:
        """The courses of ``year`` (all years if None), with their sessions, by id."""
        courses = self._courses.all()
        return [c for c in courses if year is None or c.year == year]

    def plan_check(self, year: int) -> builtins.list[PlanWarning]:
        """What ``year``'s plan leaves out of the areas the policy's ``plan covers`` names
        (by default the four the management system names: product knowledge, repair
        skills, customer service and safety): an area with no course, or with courses but
        no session scheduled."""
        _plan_year(year)
        rules = self.rules
        where = rules.covers_location or rules.location
        courses = self.plan(year)
        found = []
        for area in rules.covers:
            mine = [c for c in courses if c.area == area]
            if not mine:
                found.append(PlanWarning(year, area, f"the {year} plan has no {area} course",
                                         where))  # fmt: skip
            elif not any(c.sessions for c in mine):
                said = (f"the {year} plan's {area} course(s) {', '.join(c.id for c in mine)} "
                        "have no session scheduled")  # fmt: skip
                found.append(PlanWarning(year, area, said, where))
        return found

    def course_report(self, year: int) -> builtins.list[CourseReport]:
        """Per course of ``year``'s plan: sessions and those held, enrolled and attended (in
        held sessions), and the assessments of its certificate that year by those enrolled,
        from their first session of it on: how many, passed, retakes (attempts after the
        first)."""
        _plan_year(year)
        tz = self._basis.policy.tz
        records = {r.staff_id: r for r in self._records.all()}
        rows = []
        for course in sorted(self.plan(year), key=lambda c: c.id):
            held = [s for s in course.sessions if s.held]
            first: dict[str, datetime] = {}  # each member's first session of the course
            for session in sorted(course.sessions, key=lambda s: s.starts_at):
                for member in session.enrolled:
                    first.setdefault(member, session.starts_at)
            attempts = [
                a
                for member, since in first.items()
                for a in records.get(member, TrainingRecord(member)).assessments
                if course.certificate is not None and a.certificate == course.certificate
                and a.at >= since and a.at.astimezone(tz).year == year
            ]  # fmt: skip
            rows.append(CourseReport(
                course.id, course.title, course.area, len(course.sessions), len(held),
                sum(len(s.enrolled) for s in held), sum(len(s.attended) for s in held),
                len(attempts), sum(a.passed for a in attempts),
                sum(a.attempt > 1 for a in attempts),
            ))  # fmt: skip
        return rows

    def schedule(
        self,
        course_id: str,
        *,
        starts_at: datetime,
        hours: float | int | Decimal,
        trainer: str | None = None,
        place: str | None = None,
        by: str,
        at: datetime | None = None,
    ) -> Session:
        """Schedule a session of a course in the course's year; ``trainer`` defaults to the
        course's."""
        self._planner(by, "training.schedule", "schedule training")
        course = self.course(course_id)
        start = self._basis.at(starts_at)
        if start.year != course.year:
            raise ValidationError(
                f"course {course.id} is on the {course.year} plan; a session on "
                f"{start:%Y-%m-%d} belongs to another year's plan"
            )
        length = values.amount(hours, "a session's hours", positive=True, maximum=10_000)
        session = Session(f"{course.id}/{len(course.sessions) + 1}", start, length,
                          course.trainer if trainer is None else _nonblank(trainer, "trainer"),
                          values.text(place, "the place", required=False))  # fmt: skip
        after = attrs.evolve(course, sessions=(*course.sessions, session),
                             version=course.version + 1)  # fmt: skip
        self._save_course(course, after, "session_scheduled", by, self._basis.at(at),
                          {"session": session.id})  # fmt: skip
        return session

    def session(self, session_id: str) -> tuple[Course, Session]:
        """The course and the session ``<course>/<n>``."""
        course = self.course(session_id.rpartition("/")[0])
        found = course.session(session_id)
        if found is None:
            raise NotFound(f"course {course.id} has no session {shown(session_id)}")
        return course, found

    def enroll(
        self, session_id: str, staff_ids: Iterable[str], *, by: str, at: datetime | None = None
    ) -> Session:
        """Enroll active team members in a session that has not been held yet."""
        self._planner(by, "training.enroll", "enroll staff in training")
        course, session = self.session(session_id)
        people = [staff_ids] if isinstance(staff_ids, str) else list(dict.fromkeys(staff_ids))
        if not people:
            raise ValidationError("enroll at least one staff member")
        for person in people:
            self._staff.actor(person)
            if person in session.enrolled:
                raise ValidationError(f"{person} is already enrolled in {session.id}")
        if session.held:
            raise WorkflowError(f"session {session.id} has been held; enroll in a later one")
        when = self._basis.at(at)
        with self._basis.storage.transaction() as tx:
            after = self._enroll(tx, course, session, people, by, when)
        return after

    def attend(
        self, session_id: str, present: Iterable[str], *, by: str, at: datetime | None = None
    ) -> Session:
        """Record who of the enrolled attended, once, after the session started; the others
        are absent."""
        self._planner(by, "training.attend", "record attendance")
        course, session = self.session(session_id)
        when = self._basis.at(at)
        if session.held:
            raise WorkflowError(f"attendance of {session.id} is recorded already")
        if when < session.starts_at:
            raise ValidationError(
                f"session {session.id} starts {session.starts_at:%Y-%m-%d %H:%M}; record "
                "attendance after it started"
            )
        people = [present] if isinstance(present, str) else list(dict.fromkeys(present))
        strangers = [p for p in people if p not in session.enrolled]
        if strangers:
            raise ValidationError(
                f"{', '.join(strangers)} not enrolled in {session.id}; enrolled: "
                + (", ".join(session.enrolled) or "nobody")
            )
        held = attrs.evolve(session, attended=tuple(people), held=True)
        after = self._replace_session(course, held)
        self._save_course(course, after, "attended", by, when,
                          {"session": session.id, "present": people})  # fmt: skip
        return held

    def sessions_of(self, staff_id: str) -> builtins.list[tuple[Course, Session]]:
        """The sessions ``staff_id`` is or was enrolled in, by start."""
        self._staff.get(staff_id)
        found = [(c, s) for c in self.plan() for s in c.sessions if staff_id in s.enrolled]
        return sorted(found, key=lambda pair: pair[1].starts_at)

    # -- plan helpers -------------------------------------------------------------------------
    def _planner(self, by: str, action: str, what: str) -> None:
        permit(self._staff.actor(by), action, what)

    def _next_session(self, certificate: str, after: datetime) -> tuple[Course, Session] | None:
        """The earliest session not yet held of a course for ``certificate``, after ``after``."""
        options = [(c, s) for c in self.plan() if c.certificate == certificate
                   for s in c.sessions if not s.held and s.starts_at > after]  # fmt: skip
        return min(options, key=lambda pair: pair[1].starts_at, default=None)

    @staticmethod
    def _replace_session(course: Course, session: Session) -> Course:
        sessions = tuple(session if s.id == session.id else s for s in course.sessions)
        return attrs.evolve(course, sessions=sessions, version=course.version + 1)

    def _enroll(
        self, tx: Any, course: Course, session: Session, people: builtins.list[str], by: str,
        when: datetime,
    ) -> Session:  # fmt: skip
        enrolled = attrs.evolve(session, enrolled=(*session.enrolled, *people))
        after = self._replace_session(course, enrolled)
        data = {"session": session.id, "staff": people}
        self._courses.save(course, after, "enrolled", by, when, data, tx=tx)
        return enrolled

    def _save_course(
        self, before: Course, after: Course, kind: str, by: str, when: datetime,
        data: dict[str, Any],
    ) -> None:  # fmt: skip
        self._courses.save(before, after, kind, by, when, data)

    # -- what cases need --------------------------------------------------------------------
    def required_for(self, case: Case) -> list[tuple[str, str]]:
        """``(certificate, rule location)`` the case needs of whoever works on it (under the
        policy the case is under)."""
        rules = self._basis.policies.rules(case).training
        if rules is None or not rules.certificates:
            return []
        facts = {**case.record(), "priority": case.priority}
        return [(rule.certificate, rule.location) for rule in rules.certificates
                if rule.condition is None or rule.condition(facts)]  # fmt: skip

    def missing_for(self, case: Case, engineer: str, when: datetime) -> list[tuple[str, str]]:
        """``(certificate, rule location)`` the case needs and ``engineer`` lacks at ``when``
        (under the policy the case is under)."""
        required = self.required_for(case)
        if not required:
            return []
        record = self.record(engineer)
        return [(name, where) for name, where in required if record.valid(name, when) is None]

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
        permit_role(actor, ("manager",), "override certificate rules")
        if not override.strip():
            raise ValidationError("an override needs a reason")
        return {"certificates": [name for name, _ in missing], "reason": override.strip(),
                "by": actor.id}  # fmt: skip

    # -- reminders --------------------------------------------------------------------------
    def remind_expiring(self, now: datetime | None = None) -> list[Notification]:
        """``certificate_expiring`` 30 days before a certificate expires, once each (the SLA
        tick calls this). Looks through the certificates only when the earliest notice not
        yet due when it last looked has come (or one was issued since that is due sooner)."""
        when = self._basis.at(now)
        watch = self._basis.storage.get(*WATCH)
        if watch is not None:
            next_at = watch.data.get("next_at")
            if next_at is None or next_at > utc_text(when):
                return []
        due: list[tuple[str, str, Notification]] = []
        upcoming: list[datetime] = []
        for record in self._records.all():
            for cert in record.certificates:
                if cert.expires_at is None or when >= cert.expires_at:
                    continue
                if when < cert.expires_at - EXPIRY_NOTICE:
                    upcoming.append(cert.expires_at - EXPIRY_NOTICE)
                    continue
                holder, key = (
                    f"certificate:{record.staff_id}",
                    f"{cert.name}:{utc_text(cert.expires_at)}",
                )
                member = self._staff.get(record.staff_id)
                people = tuple(x for x in (member.id, member.supervisor) if x)
                note = Notification(
                    "certificate_expiring", None, people,
                    f"{member.name}'s {cert.name} certificate expires {cert.expires_at:%Y-%m-%d}",
                    {"staff": member.id, "certificate": cert.name,
                     "expires_at": cert.expires_at.isoformat()}, when,
                )  # fmt: skip
                due.append((holder, key, note))
        sent = self._notifications.once(due, when)
        seen = None if watch is None else watch.version

        def look() -> None:
            with self._basis.storage.transaction() as tx:
                self._watch(tx, min(upcoming, default=None), "tick", when, seen=seen)

        # another desk's tick may make the watch first (parallel writers): merge with it
        retried(look, on=ConflictError, tries=3)
        return sent

    def _watch(
        self,
        tx: Transaction,
        next_at: datetime | None,
        by: str,
        when: datetime,
        *,
        moved: bool = False,
        seen: int | None = None,
    ) -> None:
        """Set when the tick next looks through the certificates, in ``tx``. ``moved``: a
        new certificate's notice, which may only bring it forward (always written, so that a
        look running meanwhile sees the watch changed). Otherwise the result of a look that
        read the watch at version ``seen``: if it changed since, the earlier time wins."""
        record = tx.get(*WATCH)
        if record is None and moved:
            return  # no watch yet: the next tick looks through everything and makes one
        current = None if record is None else record.data.get("next_at")
        wanted = None if next_at is None else utc_text(next_at)
        if (moved or (record is not None and record.version != seen)) and current is not None:
            wanted = current if wanted is None else min(current, wanted)
        version = 0 if record is None else record.version
        event = event_record(
            version + 1, "moved" if moved else "looked", by, when, {"next_at": wanted}
        )
        tx.append(*WATCH, version, [event], {"next_at": wanted})


__all__ = ["TrainingService"]
