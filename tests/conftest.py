from __future__ import annotations

from pathlib import Path

import pytest

from aftersales import PolicyError, parse_policy

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"

MINIMAL = """\
policy "Test Co" {
  version  "1"
  timezone "Asia/Shanghai"
  currency CNY
}
calendar {
  workweek mon..fri
  hours    08:30-12:00, 13:00-17:30
}
priority urgent  when severity == "critical"
priority general otherwise
sla urgent {
  response within 30 minutes
}
sla general {
  response within 4 working hours
}
"""


def policy_errors(text: str) -> PolicyError:
    """The PolicyError that parsing ``text`` raises (fails the test if none)."""
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "t.policy")
    return info.value


def with_minimal(extra: str) -> str:
    return MINIMAL + extra
