"""Appraisal scores: from ratings and measured metrics to a total and a grade.

As the policy language defines it: scores run from 0 to 100. A rated indicator's score is the
source-weighted mean of the ratings it got, the weights renormalised over the sources that
rated. A measured indicator's score is the weighted sum of ``min(100, 100 * actual / target)``
over its metrics (renormalised over the metrics that had something to measure). An indicator
nobody rated and nothing measured is *missing*: reported as such, never counted as zero; the
total is renormalised over the indicators that have a score.

Pure: the policy's appraisal section comes in through duck-typed ``weights``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from aftersales.core.frozen import frozen_dict

HUNDRED = Decimal(100)


@attrs.frozen
class MetricScore:
    """One metric of a measured indicator: its actual value against its target."""

    metric: str
    weight: Decimal  # percent of the indicator
    target: Decimal
    actual: Decimal | None  # None: nothing to measure this period
    score: Decimal | None  # min(100, 100 * actual / target)
    location: str


@attrs.frozen
class IndicatorScore:
    indicator: str
    weight: Decimal  # percent of the total
    score: Decimal | None  # None: missing
    measured: bool
    by_source: Mapping[str, Decimal]  # rated indicators: the mean rating of each source
    metrics: tuple[MetricScore, ...]
    location: str


@attrs.frozen
class Score:
    """The total of one staff member's month, with every number's origin."""

    total: Decimal | None  # None when no indicator has a score
    indicators: tuple[IndicatorScore, ...]
    missing: tuple[str, ...]  # indicators without a score, and "source/indicator" pairs unrated
    trace: tuple[str, ...]  # one line per number: how it was computed and the policy line


def _mean(values: Sequence[Decimal]) -> Decimal:
    return sum(values, Decimal(0)) / len(values)


def score(
    appraisal: Any,
    ratings: Mapping[tuple[str, str], Sequence[Decimal]],
    metrics: Mapping[str, Decimal | None],
) -> Score:
    """Score one month: ``ratings`` maps ``(source, indicator)`` to the scores given,
    ``metrics`` maps metric names to their actual values (in the target's units: a rate
    targeted as ``90%`` is measured in percent)."""
    indicators: list[IndicatorScore] = []
    missing: list[str] = []
    trace: list[str] = []
    source_weights = {w.name: w.percent for w in appraisal.sources}
    for indicator in appraisal.indicators:
        name = indicator.name
        measures = appraisal.measures.get(name)
        if measures:
            metric_scores = []
            for m in measures:
                actual = metrics.get(m.metric)
                value = None
                if actual is not None and m.target > 0:
                    value = min(HUNDRED, HUNDRED * Decimal(actual) / m.target)
                metric_scores.append(MetricScore(m.metric, m.percent, m.target,
                                                 None if actual is None else Decimal(actual),
                                                 value, m.location))  # fmt: skip
                if value is None:
                    missing.append(f"{name}/{m.metric}")
                else:
                    trace.append(f"{name}/{m.metric}: min(100, 100 * {actual} / {m.target}) "
                                 f"= {value:.2f} ({m.location})")  # fmt: skip
            scored = [ms for ms in metric_scores if ms.score is not None]
            weight = sum((ms.weight for ms in scored), Decimal(0))
            value = (
                sum((ms.score * ms.weight for ms in scored), Decimal(0)) / weight  # type: ignore[operator]
                if weight
                else None
            )
            indicators.append(IndicatorScore(name, indicator.percent, value, True, {},
                                             tuple(metric_scores), indicator.location))  # fmt: skip
        else:
            by_source = {}
            for source in source_weights:
                given = ratings.get((source, name))
                if given:
                    by_source[source] = _mean([Decimal(g) for g in given])
                else:
                    missing.append(f"{source}/{name}")
            weight = sum((source_weights[s] for s in by_source), Decimal(0))
            value = (
                sum((v * source_weights[s] for s, v in by_source.items()), Decimal(0)) / weight
                if weight
                else None
            )
            if value is not None:
                parts = " + ".join(
                    f"{source_weights[s]:f}% x {v:.2f} ({s})" for s, v in by_source.items()
                )
                trace.append(
                    f"{name}: ({parts}) / {weight:f}% = {value:.2f} ({indicator.location})"
                )
            indicators.append(IndicatorScore(name, indicator.percent, value, False, by_source,
                                             (), indicator.location))  # fmt: skip
        if indicators[-1].score is None:
            missing.append(name)
    present = [i for i in indicators if i.score is not None]
    weight = sum((i.weight for i in present), Decimal(0))
    total = (
        sum((i.score * i.weight for i in present), Decimal(0)) / weight  # type: ignore[operator]
        if weight
        else None
    )
    if total is not None:
        parts = " + ".join(f"{i.weight:f}% x {i.score:.2f} ({i.indicator})" for i in present)
        trace.append(f"score: ({parts}) / {weight:f}% = {total:.2f} ({appraisal.location})")
    return Score(total, tuple(indicators), tuple(missing), tuple(trace))


def satisfaction_to_score(satisfaction: int) -> Decimal:
    """A follow-up satisfaction of 1..5 as a 0..100 rating: 1 -> 0, 2 -> 25, ..., 5 -> 100."""
    if not 1 <= satisfaction <= 5:
        raise ValueError(f"satisfaction runs from 1 to 5, not {satisfaction}")
    return Decimal(25 * (satisfaction - 1))


@attrs.frozen
class Rating:
    staff_id: str
    period: str
    source: str
    indicator: str
    score: Decimal
    by: str
    at: datetime
    comment: str | None = None
    case_id: str | None = None


DECISIONS = ("dismiss", "retain", "transfer")


@attrs.frozen
class Outcome:
    """A reward or an improvement plan the policy gives a finalized month's grade."""

    kind: str  # reward | improvement_plan
    staff_id: str
    period: str
    grade: str | None
    score: Decimal | None
    note: str


FOLLOW_UP_STATES = ("open", "done")


@attrs.frozen
class FollowUp:
    """What the policy says follows a finalized month's grade (``reward excellent with bonus
    500 CNY``, ``improve fail with course "Customer care" and coaching 30 days``), made when
    the month is finalized and tracked until it is done.

    ``owner`` sees it through (the member's supervisor, else a manager); ``due`` is when
    coaching is reviewed; ``session`` the course session the member was enrolled in. A
    bonus, award or coaching is done when its owner or a manager records it; a course when
    the member attended a session of it after the month was finalized; a rotation when a
    rotation of the member starts after it (:meth:`AppraisalService.follow_ups` says so)."""

    id: str  # "PERIOD/STAFF/KIND"
    staff_id: str
    period: str
    kind: str  # bonus | award | course | coaching | rotation
    grade: str | None
    owner: str | None
    rule: str  # the policy's line
    created_at: datetime
    amount: str | None = None  # a bonus: "500 CNY"
    title: str | None = None  # an award's or a course's
    due: datetime | None = None
    session: str | None = None
    status: str = "open"
    done_at: datetime | None = None
    done_by: str | None = None
    note: str | None = None
    version: int = 0

    @property
    def what(self) -> str:
        detail = self.amount or (f'"{self.title}"' if self.title else "")
        return f"{self.kind} {detail}".strip()

    def overdue(self, now: datetime) -> bool:
        return self.status == "open" and self.due is not None and self.due <= now


@attrs.frozen
class DismissalReview:
    """A run of failing months: the manager decides; the SDK only records it."""

    staff_id: str
    period: str
    months: int
    grade: str
    decision: str | None = None  # dismiss | retain | transfer
    reason: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None


@attrs.frozen
class Appraisal:
    """One staff member's month: the total, the grade, and where every number came from."""

    staff_id: str
    period: str
    score: Decimal | None
    grade: str | None
    grade_location: str | None
    detail: Score  # per indicator and source, metrics against targets, missing, trace
    metrics: dict[str, Decimal | None] = attrs.field(converter=frozen_dict)
    finalized: bool = False
    # what earlier finalized months' grades set in motion, and whether each was done
    follow_ups: tuple[FollowUp, ...] = ()


__all__ = [
    "DECISIONS",
    "FOLLOW_UP_STATES",
    "Appraisal",
    "DismissalReview",
    "FollowUp",
    "IndicatorScore",
    "MetricScore",
    "Outcome",
    "Rating",
    "Score",
    "satisfaction_to_score",
    "score",
]
