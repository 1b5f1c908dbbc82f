"""Load a policy, decide a case's priority, and compute its deadlines.

Run: python examples/policy_basics.py
"""

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from aftersales import Duration, PolicyError, load_policy, parse_policy

RULES = Path(__file__).resolve().parent.parent / "rules"

policy = load_policy(RULES / "default.policy")

case = {
    "severity": "major",
    "machine_down": True,
    "customer": {"name": "Hengli Mining", "tier": "gold"},
    "product": {"model": "EX-350", "line": "excavator", "serial": "EX350-0192"},
}
decision = policy.priority_for(case)
print(f"priority {decision.name}, decided by {decision.location}")

reported = datetime(2026, 11, 27, 16, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Friday
for milestone, target in policy.targets_for(decision.name).items():
    due = policy.due(target, reported) if target.after == "reported" else None
    print(f"  {milestone:9} {target}  ->  {due or 'starts later'}")

calendar = policy.calendar()
print(
    "4 working hours from Friday 16:00:", calendar.add(reported, Duration.parse("4 working hours"))
)

try:
    parse_policy(
        'policy "x" {\n  timezone "Asia/Shanghai"\n}\npriority urgent when severty == "critical"\n'
        "priority general otherwise\n",
        "mine.policy",
    )
except PolicyError as error:
    print(error)
