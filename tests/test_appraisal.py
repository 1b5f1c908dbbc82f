"""Appraisal scores: the arithmetic of the language page, worked by hand."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from conftest import RULES

from aftersales import load_policy
from aftersales.core.appraisal import satisfaction_to_score, score

DEFAULT = load_policy(RULES / "default.policy").appraisal
RHINE = load_policy(RULES / "rhine-pumps.policy").appraisal


def test_worked_example_all_sources() -> None:
    # performance: supervisor 80, customer 90, self 100 -> (50*80 + 30*90 + 20*100) / 100 = 87
    # attitude:    supervisor 70, customer 70, self 70  -> 70
    # skills:      supervisor 60, customer 80, self 90  -> (30 + 24 + 18) = 72
    # total: 0.5*87 + 0.2*70 + 0.3*72 = 43.5 + 14 + 21.6 = 79.1 -> good
    ratings = {
        ("supervisor", "performance"): [D(80)], ("customer", "performance"): [D(90)],
        ("self", "performance"): [D(100)],
        ("supervisor", "attitude"): [D(70)], ("customer", "attitude"): [D(70)],
        ("self", "attitude"): [D(70)],
        ("supervisor", "skills"): [D(60)], ("customer", "skills"): [D(80)],
        ("self", "skills"): [D(90)],
    }  # fmt: skip
    result = score(DEFAULT, ratings, {})
    assert result.total == D("79.1")
    assert DEFAULT.grade_for(result.total).name == "good"
    assert [i.score for i in result.indicators] == [D(87), D(70), D(72)]
    assert result.missing == ()
    assert result.trace[-1].startswith("score: (50% x 87.00 (performance)")


def test_sources_are_renormalised_over_those_that_rated() -> None:
    # only supervisor (50%) and self (20%) rated performance: (50*80 + 20*100) / 70 = 85.714...
    ratings = {("supervisor", "performance"): [D(80)], ("self", "performance"): [D(100)]}
    result = score(DEFAULT, ratings, {})
    performance = result.indicators[0]
    assert performance.score == (D(50) * 80 + D(20) * 100) / 70
    assert "customer/performance" in result.missing
    assert result.missing[-2:] == ("self/skills", "skills")
    assert result.total is not None and performance.score is not None
    # the missing indicators are left out, not counted as zero
    assert round(result.total, 20) == round(performance.score, 20)


def test_several_ratings_from_one_source_are_averaged() -> None:
    ratings = {("customer", "attitude"): [D(100), D(50), D(75)]}
    result = score(DEFAULT, ratings, {})
    assert result.indicators[1].by_source == {"customer": D(75)}
    assert result.total == D(75)


def test_nothing_rated_is_no_score_not_zero() -> None:
    result = score(DEFAULT, {}, {})
    assert result.total is None and set(result.missing) >= {"performance", "attitude", "skills"}


def test_grade_boundaries() -> None:
    assert DEFAULT.grade_for(D("59.99")).name == "fail"
    assert DEFAULT.grade_for(D("60")).name == "pass"
    assert DEFAULT.grade_for(D("89.999")).name == "good"
    assert DEFAULT.grade_for(D("90")).name == "excellent"


def test_measured_indicators_use_their_metrics() -> None:
    measures = RHINE.measures
    assert measures, "rhine-pumps measures an indicator"
    indicator, metric_targets = next(iter(measures.items()))
    actual = {m.metric: m.target / 2 for m in metric_targets}  # every metric at half its target
    result = score(RHINE, {}, actual)
    measured = next(i for i in result.indicators if i.indicator == indicator)
    assert measured.measured and measured.score == D(50)
    over = score(RHINE, {}, {m.metric: m.target * 3 for m in metric_targets})
    assert next(i for i in over.indicators if i.indicator == indicator).score == D(100)  # capped
    first = metric_targets[0]
    partial = score(RHINE, {}, {first.metric: first.target})
    assert next(i for i in partial.indicators if i.indicator == indicator).score == D(100)
    assert any(m.endswith(metric_targets[-1].metric) for m in partial.missing)


@pytest.mark.parametrize(("satisfaction", "rating"), [(1, 0), (2, 25), (3, 50), (4, 75), (5, 100)])
def test_follow_up_satisfaction_maps_onto_0_to_100(satisfaction: int, rating: int) -> None:
    assert satisfaction_to_score(satisfaction) == D(rating)


def test_satisfaction_outside_1_to_5_is_refused() -> None:
    with pytest.raises(ValueError, match="1 to 5"):
        satisfaction_to_score(6)
