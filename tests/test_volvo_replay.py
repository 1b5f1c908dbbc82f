"""A real help-desk history through the desk at its real minutes (issue 15): the Volvo IT log
of the BPI Challenge 2013, imported by examples/volvo_replay.py with the shipped mapping. Here
on its first 150 requests, shipped in tests/data; the whole file (../shared/data/) is
``python examples/volvo_replay.py --all`` (docs/guide.md)."""

from __future__ import annotations

import sys
from collections import Counter

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "examples"))
import volvo_replay

from aftersales import ServiceDesk
from aftersales.core.workflow import fold

LOG = volvo_replay.SAMPLE_LOG  # in the repository: the same rows from any clone
SAMPLE = 120  # requests: every path of the log occurs among them


def test_the_log_meets_no_refusal(storage_url: str) -> None:
    # PostgreSQL pays ~17 round trips per action (issue 18): a shorter sample there
    sample = 25 if storage_url.startswith("postgresql") else SAMPLE
    with ServiceDesk(volvo_replay.POLICY, storage_url) as desk:
        result = volvo_replay.replay(desk, LOG, sample)
        assert result.cases == sample and result.rows > 5 * sample
        assert result.rejects == []
        cases = desk.cases.find()
        assert len(cases) == sample
        for case in cases[:50]:
            assert fold(desk.cases.history(case.id)) == case
        if sample < SAMPLE:
            return
        done = result.actions + result.implied
        for action in ("queue", "assign", "reassign", "hold", "release", "resolve",
                       "reject", "reopen", "close"):  # fmt: skip
            assert done[action] > 0, action  # the paths beside the visit all occur
        statuses = Counter(c.status for c in cases)
        assert statuses["closed"] > SAMPLE * 0.8
        assert all(c.resolved_remotely for c in cases if c.repair is not None)
        assert any(c.reopenings for c in cases) and any(c.rejections for c in cases)
        report = desk.sla.report(cases[0].reported_at, cases[-1].reported_at, "milestone")
        assert {g.group for g in report.groups} == {"response", "assignment", "repair"}


def test_the_example_command_prints_its_counts(capsys: pytest.CaptureFixture[str]) -> None:
    volvo_replay.main(["--limit", "20", "--log", str(LOG)])
    out = capsys.readouterr().out
    assert out.startswith("20 requests,") and "0 refused" in out
