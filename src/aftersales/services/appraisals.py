"""``desk.appraisals``: monthly ratings, scores and grades, and what follows from them.

Ratings of one staff member's month are one stored aggregate (``ratings``,
``2026-11/e7``); a finalized month is another (``period``, ``2026-11``) holding every result,
after which the month's ratings are refused. Customer ratings come from two places: the
follow-up calls on the member's cases (satisfaction 1..5 mapped onto 0, 25, 50, 75, 100, one
rating for every rated indicator) and surveys recorded with ``rate(..., source="customer",
case_id=...)``; a survey rating of an indicator replaces the follow-ups for that indicator.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from aftersales.core import values
from aftersales.core.appraisal import (
    DECISIONS,
    Appraisal,
    DismissalReview,
    FollowUp,
    Outcome,
    Rating,
    satisfaction_to_score,
    score,
)
from aftersales.core.boundary import public_api
from aftersales.core.convert import from_dict, to_dict
from aftersales.core.errors import (
    ConflictError,
    NotFound,
    PolicyError,
    ValidationError,
    WorkflowError,
)
from aftersales.core.model import Case, Notification, PeriodResult, Staff
from aftersales.core.permissions import not_own, only_by, permit, permit_role
from aftersales.core.values import shown
from aftersales.policy import Policy
from aftersales.ports.hooks import RegisteredMetric
from aftersales.ports.hookspecs import CaseClocks, CaseReader, StaffCases
from aftersales.ports.storage import CaseQuery, Storage, event_record, utc_text
from aftersales.services.basis import Basis
from aftersales.services.case_book import CaseBook
from aftersales.services.clocks import Clocks
from aftersales.services.notifications import NotificationService
from aftersales.services.repository import Repository
from aftersales.services.staff import StaffDirectory
from aftersales.services.training import TrainingService


def _period(value: str) -> str:
    return values.period(value)


_KINDS = ("accepted", "followed_up", "reported", "reported_by")


@attrs.frozen
class MetricInputs:
    """The :class:`aftersales.ports.MetricView` a metric computes from."""

    policy: Policy
    storage: Storage
    cases: CaseReader
    appraisals: StaffCases
    sla: CaseClocks


def _said(rule: Any) -> str:
    """A follow-up rule in words: ``bonus 500 CNY``, ``course "Customer care"``."""
    detail = rule.amount or (f'"{rule.title}"' if rule.title else rule.within or "")
    return f"{rule.kind} {detail}".strip()


@public_api("desk.appraisals")
class AppraisalService:
    def __init__(
        self,
        basis: Basis,
        *,
        staff: StaffDirectory,
        notifications: NotificationService,
        cases: CaseBook,
        clocks: Clocks,
        metrics: Mapping[str, RegisteredMetric],
        training: TrainingService,
    ) -> None:
        self._basis = basis
        self._staff = staff
        self._training = training
        self._follows = Repository(basis.storage, "follow_up", FollowUp, "follow-up")
        self._notifications = notifications
        self._cases = cases
        self._metrics = metrics
        self._view = MetricInputs(basis.policy, basis.storage, cases, self, clocks)
        # While appraise_all runs: the month's cases, read once and grouped by member.
        self._month: tuple[str, dict[tuple[str, str], list[Case]]] | None = None
        # While appraise_all runs: every follow-up, read once and grouped by member.
        self._follow_ups: dict[str, list[FollowUp]] | None = None

    # -- the month's cases --------------------------------------------------------------------
    def cases_of(self, staff_id: str, period: str, kind: str) -> list[Case]:
        """The member's cases of the month, for scoring: ``accepted`` (repairs the customer
        accepted in the month, by engineer), ``followed_up`` (follow-up calls in the month),
        ``reported`` (reported in the month, assigned to the member) or ``reported_by``
        (reported in the month by the member)."""
        if kind not in _KINDS:
            raise ValidationError(f"kind must be one of {', '.join(_KINDS)}, not {shown(kind)}")
        if self._month is not None and self._month[0] == period:
            return self._month[1].get((kind, staff_id), [])
        start, end = (utc_text(t) for t in self._basis.policy.month_bounds(_period(period)))
        engineer = None if kind == "reported_by" else staff_id
        query = {
            "accepted": CaseQuery(engineer=engineer, accepted_since=start, accepted_until=end),
            "followed_up": CaseQuery(
                engineer=engineer, followed_up_since=start, followed_up_until=end
            ),
            "reported": CaseQuery(engineer=engineer, since=start, until=end),
            "reported_by": CaseQuery(since=start, until=end),
        }[kind]
        found = self._cases.matching(query)
        if kind == "reported_by":
            return [c for c in found if c.reported_by == staff_id]
        return list(found)

    def _read_month(self, period: str) -> dict[tuple[str, str], list[Case]]:
        start, end = (utc_text(t) for t in self._basis.policy.month_bounds(period))
        low, high = self._basis.policy.month_bounds(period)
        grouped: dict[tuple[str, str], list[Case]] = {}
        for case in self._cases.matching(CaseQuery(touched_in=(start, end))):
            accepted = case.acceptance.at if case.acceptance else None
            followed = case.follow_up.at if case.follow_up else None
            kinds = [
                kind
                for kind, when in (
                    ("accepted", accepted),
                    ("followed_up", followed),
                    ("reported", case.reported_at),
                )
                if when is not None and low <= when < high
            ]
            for kind in kinds:
                if case.engineer is not None:
                    grouped.setdefault((kind, case.engineer), []).append(case)
            if "reported" in kinds:
                grouped.setdefault(("reported_by", case.reported_by), []).append(case)
        return grouped

    @property
    def section(self) -> Any:
        section = self._basis.policy.appraisal
        if section is None:
            raise PolicyError(
                f"{self._basis.policy.filename} has no appraisal section",
                hint="add an appraisal block to the policy",
            )
        return section

    # -- ratings ------------------------------------------------------------------------------
    def rate(
        self,
        staff_id: str,
        *,
        period: str,
        source: str,
        indicator: str,
        score: float | int | Decimal,
        by: str,
        at: datetime | None = None,
        comment: str | None = None,
        case_id: str | None = None,
    ) -> Rating:
        """Rate one indicator of one member's month, 0 to 100.

        ``source="supervisor"``: by the member's supervisor or a manager, never the member;
        ``"self"``: by the member; ``"customer"``: a survey recorded by a service agent or
        manager, naming the ``case_id`` it is about (a case of the member).
        """
        section = self.section
        period = _period(period)
        member = self._staff.get(staff_id)
        actor = self._staff.actor(by)
        sources = [w.name for w in section.sources]
        indicators = [w.name for w in section.indicators]
        if source not in sources:
            raise ValidationError(
                f"unknown source {shown(source)}; the policy's are {', '.join(sources)}"
            )
        if indicator not in indicators:
            raise ValidationError(
                f"unknown indicator {shown(indicator)}; the policy's are {', '.join(indicators)}"
            )
        if indicator in section.measures:
            raise ValidationError(f"{indicator} is measured by metrics in the policy, not rated")
        value = values.amount(score, "a score (a number from 0 to 100)", minimum=0, maximum=100)
        comment = values.text(comment, "the comment", required=False)
        self._may_rate(member, actor, source, case_id)
        if self.is_finalized(period):
            raise ValidationError(f"{period} is finalized: its ratings can no longer change")
        when = self._basis.at(at)
        rating = Rating(staff_id, period, source, indicator, value, by, when, comment, case_id)
        key = f"{period}/{staff_id}"
        for _ in range(3):
            record = self._basis.storage.get("ratings", key)
            version = 0 if record is None else record.version
            given = [] if record is None else list(record.data["ratings"])
            event = event_record(version + 1, "rated", by, when, to_dict(rating))
            try:
                with self._basis.storage.transaction() as tx:
                    tx.append("ratings", key, version, [event],
                              {"ratings": [*given, to_dict(rating)]})  # fmt: skip
                return rating
            except ConflictError:
                continue  # another rating of the same month landed first: add to it
        raise ConflictError(f"ratings of {key} keep changing; try again")

    def _may_rate(self, member: Staff, actor: Staff, source: str, case_id: str | None) -> None:
        if source == "supervisor":
            not_own(actor, member.id, "rate themselves as supervisor")
            permit(actor, "appraisals.rate", f"give {member.id}'s supervisor rating",
                   related=actor.id == member.supervisor,
                   who=f"{member.id}'s supervisor or a manager")  # fmt: skip
        elif source == "self":
            only_by(actor, member.id, f"give {member.id}'s self rating")
        else:
            permit_role(actor, ("service_agent", "manager"), "record customer surveys")
            not_own(actor, member.id, "record a customer's rating of themselves",
                    "another service agent or a manager records it")  # fmt: skip
            if case_id is None:
                raise ValidationError("a customer rating names the case_id it is about")
            case = self._cases.get(case_id)
            if member.id not in {h.engineer for h in case.handovers}:
                raise ValidationError(f"case {case.number} was not {member.id}'s")

    def ratings(self, staff_id: str, period: str) -> list[Rating]:
        """The ratings given for a member's month, oldest first (follow-ups not included)."""
        record = self._basis.storage.get("ratings", f"{_period(period)}/{staff_id}")
        return [] if record is None else [from_dict(Rating, r) for r in record.data["ratings"]]

    # -- scores -------------------------------------------------------------------------------
    def appraise(self, staff_id: str, period: str) -> Appraisal:
        """Score and grade one member's month; once the month is finalized, the score and
        grade are the ones stored then (the breakdown is worked out again from the frozen
        ratings and today's record)."""
        period = _period(period)
        self._staff.get(staff_id)
        computed = self._compute(staff_id, period)
        mine = (self.follow_ups(staff_id) if self._follow_ups is None
                else self._follow_ups.get(staff_id, []))  # fmt: skip
        earlier = tuple(f for f in mine if f.period < period)
        computed = attrs.evolve(computed, follow_ups=earlier)
        record = self._basis.storage.get("period", period)
        row = None if record is None else record.data["results"].get(staff_id)
        if row is None:
            return computed
        stored = None if row["score"] is None else Decimal(row["score"])
        grade = None if stored is None else self.section.grade_for(stored)
        return attrs.evolve(
            computed,
            score=stored,
            grade=None if grade is None else grade.name,
            grade_location=None if grade is None else grade.location,
            finalized=True,
        )

    def _compute(self, staff_id: str, period: str) -> Appraisal:
        section = self.section
        given: dict[tuple[str, str], list[Decimal]] = {}
        surveyed: set[str] = set()
        for r in self.ratings(staff_id, period):
            given.setdefault((r.source, r.indicator), []).append(r.score)
            if r.source == "customer":
                surveyed.add(r.indicator)
        follow_ups = [
            satisfaction_to_score(c.follow_up.satisfaction)
            for c in self.cases_of(staff_id, period, "followed_up")
            if c.follow_up is not None
        ]
        if follow_ups and "customer" in {w.name for w in section.sources}:
            for indicator in section.indicators:
                if indicator.name not in surveyed and indicator.name not in section.measures:
                    given.setdefault(("customer", indicator.name), []).extend(follow_ups)
        metrics: dict[str, Decimal | None] = {}
        for targets in section.measures.values():
            for target in targets:
                compute = self._metrics[target.metric].compute
                metrics[target.metric] = compute(self._view, staff_id, period)
        result = score(section, given, metrics)
        grade = None if result.total is None else section.grade_for(result.total)
        return Appraisal(
            staff_id,
            period,
            result.total,
            None if grade is None else grade.name,
            None if grade is None else grade.location,
            result,
            metrics,
        )

    def appraise_all(self, period: str) -> list[Appraisal]:
        """Every active member's month, in staff id order (the month's cases read once)."""
        period = _period(period)
        self._month = (period, self._read_month(period))
        self._follow_ups = {}
        for follow in self.follow_ups():
            self._follow_ups.setdefault(follow.staff_id, []).append(follow)
        try:
            return [self.appraise(s.id, period) for s in self._staff.list()]
        finally:
            self._month = None
            self._follow_ups = None

    def cycle_summary(self, staff_id: str, cycle: str) -> tuple[Decimal | None, str | None]:
        """The mean score of the months of the cycle that ``cycle`` (a month, YYYY-MM) falls
        in, and the grade it gives. Cycles start in January and run the policy's ``cycle``."""
        section = self.section
        year, month = (int(p) for p in _period(cycle).split("-"))
        length = int(section.cycle.amount) if section.cycle is not None else 1
        first = (month - 1) // length * length + 1
        scores = []
        for m in range(first, first + length):
            y, mm = year + (m - 1) // 12, (m - 1) % 12 + 1
            total = self.appraise(staff_id, f"{y:04d}-{mm:02d}").score
            if total is not None:
                scores.append(total)
        if not scores:
            return None, None
        mean = sum(scores, Decimal(0)) / len(scores)
        return mean, section.grade_for(mean).name

    # -- finalizing -----------------------------------------------------------------------------
    def is_finalized(self, period: str) -> bool:
        return self._basis.storage.get("period", _period(period)) is not None

    def finalize(self, period: str, *, by: str, at: datetime | None = None) -> list[Appraisal]:
        """Freeze a month (a manager): store every active member's result and the outcomes
        the policy names (rewards, improvement plans, dismissal reviews) in one transaction,
        refuse further ratings, and send the outcome notifications."""
        period = _period(period)
        permit(self._staff.actor(by), "appraisals.finalize", "finalize appraisals")
        if self.is_finalized(period):
            raise ValidationError(f"{period} is already finalized")
        when = self._basis.at(at)
        results = [attrs.evolve(a, finalized=True) for a in self.appraise_all(period)]
        data: dict[str, Any] = {
            "staff": [a.staff_id for a in results],
            "results": {
                a.staff_id: {"score": None if a.score is None else str(a.score), "grade": a.grade}
                for a in results
            },
        }
        outcomes, reviews, notes = self._outcomes(period, results, data["results"], when)
        follow_ups = self._new_follow_ups(period, results, when)
        with self._notifications.transaction(notes, when) as tx:
            for follow in follow_ups:
                self._follows.create(follow, "follow_up_set", by, when, tx=tx)
            # the tick finds dated ones (coaching) by the schedule, not by a scan
            tx.schedule("follow_up", [(f.id, utc_text(f.due)) for f in follow_ups if f.due])
            tx.append("period", period, 0, [event_record(1, "finalized", by, when, data)], data)
            for outcome in outcomes:
                key = f"{period}/{outcome.staff_id}/{outcome.kind}"
                event = event_record(1, outcome.kind, by, when, to_dict(outcome))
                tx.append("outcome", key, 0, [event], to_dict(outcome))
            for review in reviews:
                key = f"{review.period}/{review.staff_id}"
                event = event_record(1, "review_opened", by, when, to_dict(review))
                tx.append("review", key, 0, [event], to_dict(review))
        for follow in follow_ups:
            if follow.kind == "course":
                self._book_course(follow, by, when)
        return results

    # -- what follows a grade --------------------------------------------------------------------
    def _new_follow_ups(
        self, period: str, results: Iterable[Appraisal], at: datetime
    ) -> list[FollowUp]:
        section = self.section
        managers = self._staff.with_role("manager")
        found = []
        for a in results:
            rewarded = section.reward_follow_ups if a.grade in section.reward else ()
            rules = rewarded + (section.improve_follow_ups if a.grade in section.improve else ())
            if not rules:
                continue
            member = self._staff.get(a.staff_id)
            owner = member.supervisor or next(iter(managers), None)
            for rule in rules:
                due = None if rule.within is None else self._basis.policy.add(at, rule.within)
                found.append(FollowUp(
                    f"{period}/{a.staff_id}/{rule.kind}", a.staff_id, period, rule.kind,
                    a.grade, owner, rule.location, at,
                    None if rule.amount is None else str(rule.amount), rule.title, due,
                    version=1,
                ))  # fmt: skip
        return found

    def _book_course(self, follow: FollowUp, by: str, at: datetime) -> None:
        """Enrol the member in the next session of the follow-up's course (by id or title),
        if one is planned and not held yet; otherwise the owner enrols them later."""
        wanted = follow.title
        courses = [c for c in self._training.plan() if wanted in (c.id, c.title)]
        ahead = [s for c in courses for s in c.sessions if not s.held and s.starts_at > at]
        sessions = sorted(ahead, key=lambda s: s.starts_at)
        if not sessions:
            return
        session = sessions[0]
        if follow.staff_id not in session.enrolled:
            self._training.enroll(session.id, [follow.staff_id], by=by, at=at)
        booked = attrs.evolve(follow, session=session.id, version=follow.version + 1)
        self._follows.save(follow, booked, "booked", by, at, {"session": session.id})

    def follow_ups(self, staff_id: str | None = None, *, open_only: bool = False) -> list[FollowUp]:
        """What finalized months' grades set in motion, oldest first, each as it stands: a
        course is done once the member attended a session of it after the month was
        finalized, a rotation once one of theirs starts after it; the others once their
        owner or a manager records them done."""
        mine = [f for f in self._follows.all() if staff_id in (None, f.staff_id)]
        found = [self._settled(f) for f in mine]
        return sorted((f for f in found if not open_only or f.status == "open"),
                      key=lambda f: (f.created_at, f.id))  # fmt: skip

    def _settled(self, follow: FollowUp) -> FollowUp:
        if follow.status != "open":
            return follow
        if follow.kind == "course":
            attended = [s.starts_at for c, s in self._training.sessions_of(follow.staff_id)
                        if follow.title in (c.id, c.title) and s.held
                        and follow.staff_id in s.attended
                        and s.starts_at >= follow.created_at]  # fmt: skip
            if attended:
                return attrs.evolve(follow, status="done", done_at=min(attended),
                                    note="attended the course")  # fmt: skip
        if follow.kind == "rotation":
            rotations = [r for r in self._staff.get(follow.staff_id).rotations
                         if r.start >= follow.created_at]  # fmt: skip
            if rotations:
                first = min(rotations, key=lambda r: r.start)
                return attrs.evolve(follow, status="done", done_at=first.start, done_by=first.by,
                                    note=f"rotated to {first.assignment}")  # fmt: skip
        return follow

    def complete_follow_up(
        self, id: str, *, note: str, by: str, at: datetime | None = None
    ) -> FollowUp:
        """Record a follow-up done (its owner or a manager): the bonus paid, the award given,
        the coaching reviewed, with a note."""
        stored = self._follows.get(id, f"no follow-up {shown(id)}; they are named "
                                       "PERIOD/STAFF/KIND")  # fmt: skip
        follow = self._settled(stored)
        actor = self._staff.actor(by)
        what = f"complete {follow.staff_id}'s {follow.kind}"
        permit(actor, "appraisals.complete_follow_up", what, related=actor.id == follow.owner)
        if follow.status != "open":
            raise WorkflowError(f"follow-up {id} is done already ({follow.note})")
        text = values.text(note, "a note of what was done").strip()
        when = self._basis.at(at)
        done = attrs.evolve(follow, status="done", done_at=when, done_by=by, note=text,
                            version=stored.version + 1)  # fmt: skip
        return self._follows.save(stored, done, "follow_up_done", by, when, {"note": text})

    def remind_follow_ups(self, now: datetime | None = None) -> list[Notification]:
        """``follow_up_overdue`` once per open follow-up past its date (coaching not
        reviewed), to its owner and the managers (the tick calls this)."""
        when = self._basis.at(now)
        looked = self._follows.take_due(when)  # one date each: looked at once
        if looked is None:  # a store that keeps no schedule: read them all
            looked = self._follows.all()
        # only coaching has a date, and only its owner settles it: no need to settle the rest
        late = [f for f in looked if f.overdue(when)]
        if not late:
            return []
        managers = self._staff.with_role("manager")
        entries = []
        for f in late:
            assert f.due is not None
            people = tuple(dict.fromkeys(x for x in (f.owner, *managers) if x))
            due = f"{f.due.astimezone(self._basis.policy.tz):%Y-%m-%d}"
            said = (f"{f.staff_id}: the {f.what} set for {f.period} ({f.grade}) was due {due} "
                    f"and is not done ({f.rule})")  # fmt: skip
            data = {"follow_up": f.id, "staff": f.staff_id, "due": f.due.isoformat()}
            note = Notification("follow_up_overdue", None, people, said, data, when)
            entries.append((f"follow_up:{f.id}", utc_text(f.due), note))
        return self._notifications.once(entries, when)

    def history(self, staff_id: str) -> list[PeriodResult]:
        """The member's finalized months, oldest first: what promotions are judged on."""
        self._staff.get(staff_id)
        found = []
        for record in self._basis.storage.scan("period"):
            result = record.data.get("results", {}).get(staff_id)
            if result is not None:
                total = result.get("score")
                found.append(PeriodResult(record.id, None if total is None else Decimal(total),
                                          result.get("grade")))  # fmt: skip
        return sorted(found, key=lambda r: r.period)

    def outcomes(self, period: str | None = None) -> list[Outcome]:
        """Reward and improvement-plan records, of one month or all."""
        found = [from_dict(Outcome, r.data) for r in self._basis.storage.scan("outcome")]
        return [o for o in found if period is None or o.period == period]

    def reviews(self, *, open_only: bool = True) -> list[DismissalReview]:
        """Dismissal reviews: by default the ones still waiting for a decision."""
        found = [from_dict(DismissalReview, r.data) for r in self._basis.storage.scan("review")]
        return [r for r in found if not open_only or r.decision is None]

    def decide_review(
        self,
        staff_id: str,
        period: str,
        *,
        decision: str,
        reason: str,
        by: str,
        at: datetime | None = None,
    ) -> DismissalReview:
        """Record the manager's decision on a dismissal review: ``dismiss``, ``retain`` or
        ``transfer``. The SDK records it; it never dismisses anyone itself."""
        actor = permit(self._staff.actor(by), "appraisals.decide_review",
                       "decide a dismissal review")  # fmt: skip
        not_own(actor, staff_id, "decide their own dismissal review",
                "another manager decides it")  # fmt: skip
        if decision not in DECISIONS:
            raise ValidationError(
                f"decision must be one of {', '.join(DECISIONS)}, not {shown(decision)}"
            )
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationError("a review decision needs a reason")
        key = f"{_period(period)}/{staff_id}"
        record = self._basis.storage.get("review", key)
        if record is None:
            raise NotFound(f"no dismissal review of {staff_id} for {period}")
        review = from_dict(DismissalReview, record.data)
        if review.decision is not None:
            raise WorkflowError(
                f"the review of {staff_id} for {period} was decided: {review.decision}"
            )
        when = self._basis.at(at)
        decided = attrs.evolve(review, decision=decision, reason=reason.strip(), decided_by=by,
                               decided_at=when)  # fmt: skip
        event = event_record(record.version + 1, "review_decided", by, when, to_dict(decided))
        with self._basis.storage.transaction() as tx:
            tx.append("review", key, record.version, [event], to_dict(decided))
        return decided

    def _outcomes(
        self,
        period: str,
        results: Iterable[Appraisal],
        grades: dict[str, Any],
        at: datetime,
    ) -> tuple[list[Outcome], list[DismissalReview], list[Notification]]:
        section = self.section
        managers = self._staff.with_role("manager")
        outcomes: list[Outcome] = []
        reviews: list[DismissalReview] = []
        notes: list[Notification] = []
        for a in results:
            member = self._staff.get(a.staff_id)
            chain = [member.id, member.supervisor, *managers]
            people = tuple(dict.fromkeys(x for x in chain if x))
            data = {"period": period, "staff": a.staff_id, "grade": a.grade,
                    "score": None if a.score is None else str(a.score)}  # fmt: skip
            if a.grade in section.reward:
                what = f"{member.name}: {a.grade} in {period}, a reward is due"
                if section.reward_follow_ups:
                    what += ": " + ", ".join(_said(r) for r in section.reward_follow_ups)
                outcomes.append(Outcome("reward", a.staff_id, period, a.grade, a.score, what))
                notes.append(Notification("appraisal_reward", None, people, what, data, at))
            if a.grade in section.improve:
                what = f"{member.name}: {a.grade} in {period}, plan coaching or training"
                if section.improve_follow_ups:
                    what = f"{member.name}: {a.grade} in {period}, to follow: " + ", ".join(
                        _said(r) for r in section.improve_follow_ups)  # fmt: skip
                outcomes.append(Outcome("improvement_plan", a.staff_id, period, a.grade, a.score,
                                        what))  # fmt: skip
                notes.append(Notification("improvement_plan", None, people, what, data, at))
            run = self._failing_run(a.staff_id, period, grades)
            if section.dismiss_after and run >= section.dismiss_after:
                what = (
                    f"{member.name}: {run} consecutive months graded {section.dismiss_grade}; "
                    "a dismissal review is due (the decision is the manager's)"
                )
                reviews.append(DismissalReview(a.staff_id, period, run, str(section.dismiss_grade)))
                notes.append(
                    Notification("dismissal_review", None, tuple(managers), what, data, at)
                )
        return outcomes, reviews, notes

    def _failing_run(self, staff_id: str, period: str, current: dict[str, Any]) -> int:
        """Consecutive finalized months, ending at ``period`` (whose results are ``current``,
        not stored yet), graded the dismissal grade."""
        grade = self.section.dismiss_grade
        year, month = (int(p) for p in period.split("-"))
        run = 0
        while True:
            if run == 0:
                row = current.get(staff_id)
            else:
                record = self._basis.storage.get("period", f"{year:04d}-{month:02d}")
                row = None if record is None else record.data["results"].get(staff_id)
            if row is None or row["grade"] != grade:
                return run
            run += 1
            year, month = (year - 1, 12) if month == 1 else (year, month - 1)


__all__ = ["DECISIONS", "Appraisal", "AppraisalService", "DismissalReview", "Outcome", "Rating"]
