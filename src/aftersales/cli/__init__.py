"""The ``aftersales`` command.

A user's mistake prints what was wrong and exits 1; no traceback reaches the terminal.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:
    import pluggy

# logging, pluggy, importlib.metadata and the error classes (attrs) are imported where they
# are used: ``aftersales --help`` needs none of them when no plugin is installed (start-up).


COMMANDS: dict[str, tuple[str, str, str]] = {
    "appraise": ("appraise_commands", "appraise", "Monthly appraisal: scores, grades, reviews."),
    "case": ("case_commands", "case", "Report and work cases through the repair workflow."),
    "complaints": ("complaints_commands", "complaints", "Customers' complaints, to closure."),
    "contracts": ("contracts_commands", "contracts", "Service contracts of customers."),
    "customers": ("customers_commands", "customers", "Customer records, sites and contacts."),
    "expenses": ("expenses_commands", "expenses", "Expense claims and the cost report."),
    "export": ("history_commands", "export_command", "Write the store's cases as a timeline CSV."),
    "feedback": ("feedback_commands", "feedback", "The monthly digest of customers' feedback."),
    "import": ("history_commands", "import_command", "Import a service history into the store."),
    "init": ("init_command", "init_command", "Write aftersales.toml and a starter policy."),
    "machines": ("machines_commands", "machines", "The installed base: machines, readings."),
    "maintenance": ("maintenance_commands", "maintenance", "Preventive maintenance due."),
    "messages": ("feedback_commands", "messages", "Templates of customers' messages."),
    "notifications": ("notifications_commands", "notifications", "The notification outbox."),
    "parts": ("parts_commands", "parts", "Spare parts: stock, orders, requisitions, counts."),
    "plugins": ("case_commands", "plugins_command", "The loaded plugins and the notifiers."),
    "policy": ("policy_commands", "policy", "Check, test, show, explain and apply policies."),
    "product-problems": ("feedback_commands", "product_problems", "Product problems found."),
    "replay": ("replay_command", "replay_command", "Judge a service history under a policy."),
    "safety": ("safety_commands", "safety", "The tool register and incident reports."),
    "serve": ("serve_command", "serve_command", "Serve the HTTP API (docs/http.md)."),
    "simulate": ("simulate_command", "simulate_command", "Run simulated weeks of work."),
    "sla": ("sla_commands", "sla", "SLA clocks: warnings, breaches, reports."),
    "staff": ("staff_commands", "staff", "Team members and their careers."),
    "training": ("training_commands", "training", "The training plan and assessments."),
}
"""The built-in commands: the module under ``aftersales.cli`` that defines each, the
object's name there, and the line ``aftersales --help`` lists it with. A command's module
is imported only when that command runs, so ``aftersales --help`` and ``aftersales sla
tick`` do not import the other fifteen."""


class _Main(click.Group):
    """The command group: whatever a command lets escape ends as one line, never a
    traceback (AFTERSALES_DEBUG=1 shows it): an AftersalesError exits 1, anything else 2.

    Built-in commands load when used (:data:`COMMANDS`); plugins' commands are looked for
    only when a name is not built in or the commands are listed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plugins_looked_for = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._plugin_commands()
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            module, name, _ = COMMANDS[cmd_name]
            command = getattr(importlib.import_module(f"aftersales.cli.{module}"), name)
            self.add_command(command, cmd_name)
        if cmd_name not in self.commands:
            self._plugin_commands()
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The listing of ``--help``: the built-ins' lines from :data:`COMMANDS` (nothing
        imported for them), plugins' from their commands."""
        rows = []
        for name in self.list_commands(ctx):
            if name in COMMANDS:
                rows.append((name, COMMANDS[name][2]))
            elif not self.commands[name].hidden:
                rows.append((name, self.commands[name].get_short_help_str(60)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def _plugin_commands(self) -> None:
        if not self._plugins_looked_for:
            self._plugins_looked_for = True
            if not _installed_plugins():
                return  # only installed plugins add commands: none, nothing to load
            try:
                plugin_commands(self)
            except Exception as exc:  # plugins that cannot even load: the built-ins still work
                _warn("plugins could not be loaded for the command line: %s", exc)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            from aftersales.core.boundary import translate
            from aftersales.core.errors import AftersalesError

            if isinstance(exc, AftersalesError):
                _fail(str(exc), 1)
            if os.environ.get("AFTERSALES_DEBUG"):
                raise
            error = translate(exc, f"aftersales {ctx.invoked_subcommand or ''}".strip())
            _fail(f"{error} (AFTERSALES_DEBUG=1 shows the traceback)", 2)


def _fail(message: str, code: int) -> NoReturn:
    """Print ``message`` on stderr as one line of text (no markup) and exit with ``code``."""
    from aftersales.cli.common import errors  # rich, only for an error (start-up)

    errors().print(message, soft_wrap=True)
    sys.exit(code)


@click.group(cls=_Main)
@click.version_option(package_name="aftersales")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    envvar="AFTERSALES_CONFIG",
    help="aftersales.toml to use (default: ./aftersales.toml if there is one).",
)
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """Run an after-sales service team by its written policy."""
    ctx.obj = config_path


def plugin_commands(group: click.Group, pm: pluggy.PluginManager | None = None) -> list[str]:
    """Let each plugin add its commands to ``group`` (``aftersales_register_commands``);
    returns the names added. A plugin that fails, or takes a name already there, is skipped
    with a warning: one broken plugin never takes the command line down."""
    from aftersales.ports.hooks import Hooks
    from aftersales.ports.manager import make_manager

    pm = make_manager() if pm is None else pm
    added: list[str] = []
    for plugin, commands in Hooks(pm).register_commands(group):
        for name, command in commands.items():
            if name in group.commands or (isinstance(group, _Main) and name in COMMANDS):
                _warn("plugin %s: the command %r exists already; skipped", plugin, name)
                continue
            group.add_command(command, name)
            added.append(name)
    return added


def _installed_plugins() -> bool:
    """Whether an installed distribution has an ``aftersales`` entry point. The built-in
    plugins add no commands (a test holds them to it), so without one the plugin manager is
    not made just to list the commands (it leaves out the blocked ones itself)."""
    import importlib.metadata

    return bool(importlib.metadata.entry_points(group="aftersales"))


def _warn(message: str, *args: object) -> None:
    """Log a warning on the ``aftersales`` logger."""
    import logging

    logging.getLogger("aftersales").warning(message, *args)


__all__ = ["COMMANDS", "main", "plugin_commands"]
