"""Issue 14: the fixed words of the domain have one home (core/vocabulary.py); the policy
language, the models, the SLA clocks and the command line use that one."""

from __future__ import annotations

import click
from conftest import RULES

from aftersales import load_policy
from aftersales.cli import main
from aftersales.core import model, sla, vocabulary
from aftersales.core.permissions import ANYONE
from aftersales.policy import keywords


def test_every_layer_reads_the_same_words() -> None:
    for name in ("SEVERITIES", "CHANNELS", "COMPLEXITIES", "ROLES", "SOURCES", "MILESTONES",
                 "EVENTS", "START_EVENTS", "MILESTONE_EVENT", "DEFAULT_AFTER"):  # fmt: skip
        assert getattr(keywords, name) is getattr(vocabulary, name), name
    assert model.ROLES is vocabulary.ROLES and ANYONE is vocabulary.ROLES
    assert sla.MILESTONE_EVENT is vocabulary.MILESTONE_EVENT
    assert sla.STATES is vocabulary.CLOCK_STATES
    case = main.get_command(click.Context(main), "case")  # loaded when first asked for
    report = case.commands["report"]  # type: ignore[union-attr]
    choices = {p.name: tuple(p.type.choices) for p in report.params if hasattr(p.type, "choices")}
    assert "severity" not in choices  # the policy's severities: checked by the desk
    assert load_policy(RULES / "default.policy").severities is vocabulary.SEVERITIES
    assert choices["channel"] == vocabulary.CHANNELS
