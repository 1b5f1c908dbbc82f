"""The fixed words of the domain, in one place: severities, channels, roles, milestones and
the events that meet them. The policy language, the models, the services and the command
line all read them from here (issue 14: they were spelled out in five places)."""

from __future__ import annotations

SEVERITIES = ("critical", "major", "minor")
"""How bad a reported fault is."""
CHANNELS = ("phone", "email", "online", "onsite", "maintenance")
"""How the case came in: reported by the customer, or (``maintenance``) opened by the desk
when a machine's maintenance plan fell due."""
COMPLEXITIES = ("simple", "complex")
"""A diagnosis: which repair target applies."""
ROLES = (
    "service_agent",
    "engineer",
    "supervisor",
    "manager",
    "storekeeper",
    "finance",
    "director",
    "product_team",
    "safety_officer",
)
"""The roles a staff member may hold (``product_team``: design and quality, who hear of the
product problems engineers find on site; ``safety_officer``: told of serious incidents and
investigates them)."""
SOURCES = ("supervisor", "customer", "self")
"""Who rates a member's month."""

MILESTONES = ("response", "assignment", "contact", "arrival", "repair", "callback", "close")
"""The milestones a case's clocks track, in lifecycle order (``assignment``: the case is in a
person's hands, not only a team's queue)."""
EVENTS = (
    "reported",
    "responded",
    "assigned",
    "confirmed",
    "contacted",
    "arrived",
    "diagnosed",
    "repaired",
    "accepted",
    "followed_up",
    "closed",
)
"""Case events in lifecycle order; a clock may start from any of them but ``closed``."""
START_EVENTS = EVENTS[:-1]
MILESTONE_EVENT = {
    "response": "responded",
    "assignment": "assigned",
    "contact": "contacted",
    "arrival": "arrived",
    "repair": "repaired",
    "callback": "followed_up",
    "close": "closed",
}
"""The event that meets each milestone."""
DEFAULT_AFTER = {
    "response": "reported",
    "assignment": "reported",
    "contact": "reported",
    "arrival": "reported",
    "repair": "arrived",
    "callback": "accepted",
    "close": "reported",
}
"""The event a milestone's clock starts from when its target has no ``after``."""
AUTO_CLOSE_AFTER = ("repaired", "accepted", "followed_up")
"""The events ``close automatically ... after EVENT`` may count from."""
CLOCK_STATES = ("pending", "running", "at_risk", "met", "breached", "excused", "not_applicable")
"""What an SLA clock can say. ``not_applicable``: the case ended, or was resolved without a
visit, before the milestone was due, so it is neither met nor breached."""
REMOTE_WAYS = ("phone", "remote_session", "parts_sent", "self_fix")
"""How a case is resolved without a visit: on the telephone, in a remote session, by parts
sent to the customer, or by the customer guided by service."""
MESSAGES = ("reported", "assigned", "appointment", "departed", "delayed", "completed", "survey")
"""What a customer can be told (``tell customer when ...``): the case acknowledged with its
number and next deadline, the engineer assigned, the appointment agreed, the engineer on
the way, a delay with the new time, the repair completed (with its report), the survey."""
MESSAGE_CHANNELS = ("email", "sms", "chat")
"""The channels a message can go to a customer by (``tell customer ... by email, sms``)."""
TOLD_BY = ("phone", "visit", "email", "sms", "chat", "letter", "recorded")
"""How staff may say they told a customer of a delay themselves (``notify_delay(told=...)``);
``recorded``: the record (an imported history) says they were told, not how."""
COMPLAINT_SOURCES = ("call", "survey", "rejection", "escalation")
"""Where a complaint came from: the customer called, a low survey score, rejections of the
repair, or an escalation by staff."""
COMPLAINT_TRIGGERS = {"satisfaction": ("<=", "<"), "rejections": (">=", ">")}
"""What ``complaint when`` may test, and the comparisons that make sense for each."""

__all__ = [
    "AUTO_CLOSE_AFTER",
    "CHANNELS",
    "CLOCK_STATES",
    "COMPLAINT_SOURCES",
    "COMPLAINT_TRIGGERS",
    "COMPLEXITIES",
    "DEFAULT_AFTER",
    "EVENTS",
    "MESSAGES",
    "MESSAGE_CHANNELS",
    "MILESTONES",
    "MILESTONE_EVENT",
    "REMOTE_WAYS",
    "ROLES",
    "SEVERITIES",
    "SOURCES",
    "START_EVENTS",
    "TOLD_BY",
]
