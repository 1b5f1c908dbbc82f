"""``aftersales safety``: tools and incidents to read; the tool register, incidents and
their corrective actions to act."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from aftersales.cli.arguments import done
from aftersales.cli.context import (
    AT_OPTION,
    BY_OPTION,
    action_time,
    find_case,
    local_time,
    open_desk,
)
from aftersales.cli.output import FORMAT, JSON_OPTION, emit


@click.group()
def safety() -> None:
    """The tool register and incident reports: register, inspect, check out and in; report
    incidents, set and complete corrective actions."""


@safety.command("tools")
@click.option("--overdue", is_flag=True, help="Only tools past their inspection date.")
@FORMAT
def safety_tools(overdue: bool, fmt: str) -> None:
    """Registered tools: last inspection, next one due, who holds them."""
    with open_desk() as desk:
        late = {tool for tool, _ in desk.safety.overdue_tools()}
        rows = []
        for tool in desk.safety.tools():
            if overdue and tool.id not in late:
                continue
            due = desk.safety.inspection_due(tool)
            rows.append((tool.id, tool.name, tool.last_inspected.strftime("%Y-%m-%d"),
                         None if due is None else due.strftime("%Y-%m-%d"),
                         "yes" if tool.id in late else "no", tool.holder))  # fmt: skip
        columns = ("tool", "name", "inspected", "due", "overdue", "holder")
        emit("tools", columns, rows, fmt)


@safety.command("incidents")
@click.option(
    "--open",
    "open_only",
    is_flag=True,
    help="Only those not closed (investigation or corrective actions open).",
)
@click.option("--overdue", is_flag=True, help="Only those past their investigation deadline.")
@FORMAT
def safety_incidents(open_only: bool, overdue: bool, fmt: str) -> None:
    """Incidents: when, how serious, reported late or not, who was told, the investigation's
    deadline, corrective actions."""
    with open_desk() as desk:
        found = (desk.safety.overdue_incidents() if overdue
                 else desk.safety.incidents(open_only=open_only))  # fmt: skip
        tz = desk.policy.tz
        rows = [
            (i.id, i.happened_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), i.severity,
             i.description, i.reported_by, ", ".join(i.people), "yes" if i.late else "no",
             ", ".join(i.told), i.due and i.due.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
             "yes" if i.findings else "no",
             f"{len(i.actions) - len(i.open_actions)}/{len(i.actions)}")
            for i in found
        ]  # fmt: skip
        columns = ("incident", "happened", "severity", "description", "reported_by", "people",
                   "late", "told", "due", "investigated", "actions_done")  # fmt: skip
        emit("incidents", columns, rows, fmt)


# -- actions: the tool register, incidents and their corrective actions ----------------------


@safety.command("add-tool")
@click.argument("tool_id", metavar="ID")
@click.option("--name", required=True)
@click.option("--inspected", required=True, help="Its last inspection (local time or date).")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def safety_add_tool(tool_id: str, name: str, inspected: str, by: str, at: str | None,
                    as_json: bool) -> None:  # fmt: skip
    """Register a tool with the date of its last inspection."""
    with open_desk() as desk:
        last = local_time(desk, inspected)
        assert last is not None
        tool = desk.safety.add_tool(id=tool_id, name=name, inspected=last, by=by,
                                    at=action_time(desk, at))  # fmt: skip
        done(as_json, tool, f"tool {tool.id} registered")


def _tool_step(name: str, help_text: str, engineer: bool = False) -> None:
    """``aftersales safety NAME TOOL --by``: inspect, check-out (--engineer), check-in."""

    @click.argument("tool_id", metavar="TOOL")
    @BY_OPTION
    @AT_OPTION
    @JSON_OPTION
    def command(tool_id: str, by: str, at: str | None, as_json: bool, **more: Any) -> None:
        with open_desk() as desk:
            act = getattr(desk.safety, name.replace("-", "_"))
            tool = act(tool_id, by=by, at=action_time(desk, at), **more)
            holder = f", with {tool.holder}" if tool.holder else ""
            done(as_json, tool, f"tool {tool.id}: {name.replace('-', ' ')}{holder}")

    if engineer:
        command = click.option("--engineer", required=True, help="Who takes it.")(command)
    safety.command(name, help=help_text)(command)


_tool_step("inspect", "Record a tool's inspection: its next one falls due from now.")
_tool_step("check-out", "Hand a tool to an engineer (refused once its inspection is overdue).",
           engineer=True)  # fmt: skip
_tool_step("check-in", "Take a tool back.")


@safety.command("incident")
@click.option("--happened-at", required=True, help="When it happened (local time).")
@click.option("--severity", required=True, help="near_miss, minor, serious or fatal.")
@click.option("--description", required=True)
@click.option("--person", "people", multiple=True, help="Someone involved (repeatable).")
@click.option("--case", "case_ref", default=None, help="The case it happened on.")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def safety_incident(happened_at: str, severity: str, description: str, people: Sequence[str],
                    case_ref: str | None, by: str, at: str | None,
                    as_json: bool) -> None:  # fmt: skip
    """Report a safety incident (late if after the policy's report incidents within)."""
    with open_desk() as desk:
        when = local_time(desk, happened_at)
        assert when is not None
        case_id = find_case(desk, case_ref) if case_ref else None
        incident = desk.safety.report_incident(happened_at=when, severity=severity,
                                               description=description, by=by, people=people,
                                               case_id=case_id,
                                               at=action_time(desk, at))  # fmt: skip
        late = " (reported late)" if incident.late else ""
        told = f"; told {', '.join(incident.told)}" if incident.told else ""
        due = ""
        if incident.due is not None:
            due = f"; investigate by {incident.due.astimezone(desk.policy.tz):%Y-%m-%d %H:%M}"
        done(as_json, incident, f"incident {incident.id} recorded{late}{told}{due}")


@safety.command("investigate")
@click.argument("incident_id", metavar="INCIDENT")
@click.option("--findings", required=True, help="What the investigation found, and why.")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def safety_investigate(incident_id: str, findings: str, by: str, at: str | None,
                       as_json: bool) -> None:  # fmt: skip
    """Record an incident's investigation (a manager or the safety officer)."""
    with open_desk() as desk:
        incident = desk.safety.investigate(incident_id, findings=findings, by=by,
                                           at=action_time(desk, at))  # fmt: skip
        state = "closed" if incident.closed else f"{len(incident.open_actions)} action(s) open"
        done(as_json, incident, f"incident {incident.id} investigated: {state}")


@safety.command("add-action")
@click.argument("incident_id", metavar="INCIDENT")
@click.option("--description", required=True)
@click.option("--owner", required=True, help="Who is to carry it out.")
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def safety_add_action(incident_id: str, description: str, owner: str, by: str, at: str | None,
                      as_json: bool) -> None:  # fmt: skip
    """Set a corrective action on an incident (a manager)."""
    with open_desk() as desk:
        incident = desk.safety.add_action(incident_id, description=description, owner=owner,
                                          by=by, at=action_time(desk, at))  # fmt: skip
        number = len(incident.actions) - 1
        done(as_json, incident, f"incident {incident.id}: action {number} for {owner}")


@safety.command("complete-action")
@click.argument("incident_id", metavar="INCIDENT")
@click.argument("index", type=int)
@BY_OPTION
@AT_OPTION
@JSON_OPTION
def safety_complete_action(incident_id: str, index: int, by: str, at: str | None,
                           as_json: bool) -> None:  # fmt: skip
    """Mark an incident's corrective action (numbered from 0) done."""
    with open_desk() as desk:
        incident = desk.safety.complete_action(incident_id, index, by=by,
                                               at=action_time(desk, at))  # fmt: skip
        done(as_json, incident, f"incident {incident.id}: action {index} done")
