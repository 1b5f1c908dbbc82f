"""``aftersales safety tools|incidents``."""

from __future__ import annotations

import click

from aftersales.cli.context import open_desk
from aftersales.cli.output import FORMAT, emit


@click.group()
def safety() -> None:
    """The tool register and incident reports."""


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
@click.option("--open", "open_only", is_flag=True, help="Only with corrective actions open.")
@FORMAT
def safety_incidents(open_only: bool, fmt: str) -> None:
    """Incidents: when, how serious, reported late or not, corrective actions."""
    with open_desk() as desk:
        rows = [
            (i.id, i.happened_at.strftime("%Y-%m-%d %H:%M"), i.severity, i.description,
             i.reported_by, ", ".join(i.people), "yes" if i.late else "no",
             f"{len(i.actions) - len(i.open_actions)}/{len(i.actions)}")
            for i in desk.safety.incidents(open_only=open_only)
        ]  # fmt: skip
        columns = ("incident", "happened", "severity", "description", "reported_by", "people",
                   "late", "actions_done")  # fmt: skip
        emit("incidents", columns, rows, fmt)
