"""The ``aftersales`` command.

A user's mistake prints what was wrong and exits 1; no traceback reaches the terminal.
"""

from __future__ import annotations

import logging
import os
import sys

import click
import pluggy

from aftersales.cli.appraise_commands import appraise
from aftersales.cli.case_commands import case, plugins_command
from aftersales.cli.common import errors
from aftersales.cli.expenses_commands import expenses
from aftersales.cli.history_commands import export_command, import_command
from aftersales.cli.init_command import init_command
from aftersales.cli.notifications_commands import notifications
from aftersales.cli.parts_commands import parts
from aftersales.cli.policy_commands import policy
from aftersales.cli.replay_command import replay_command
from aftersales.cli.safety_commands import safety
from aftersales.cli.simulate_command import simulate_command
from aftersales.cli.sla_commands import sla
from aftersales.cli.staff_commands import staff
from aftersales.cli.training_commands import training
from aftersales.core.boundary import translate
from aftersales.core.errors import AftersalesError
from aftersales.ports.hooks import Hooks
from aftersales.ports.manager import make_manager

logger = logging.getLogger("aftersales")


class _Main(click.Group):
    """The command group: whatever a command lets escape ends as one line, never a
    traceback (AFTERSALES_DEBUG=1 shows it): an AftersalesError exits 1, anything else 2."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except AftersalesError as exc:
            errors().print(str(exc), soft_wrap=True)
            sys.exit(1)
        except Exception as exc:
            if os.environ.get("AFTERSALES_DEBUG"):
                raise
            error = translate(exc, f"aftersales {ctx.invoked_subcommand or ''}".strip())
            errors().print(f"{error} (AFTERSALES_DEBUG=1 shows the traceback)", soft_wrap=True)
            sys.exit(2)


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


main.add_command(init_command)
main.add_command(policy)
main.add_command(case)
main.add_command(staff)
main.add_command(plugins_command)
main.add_command(sla)
main.add_command(simulate_command)
main.add_command(appraise)
main.add_command(parts)
main.add_command(expenses)
main.add_command(training)
main.add_command(safety)
main.add_command(notifications)
main.add_command(import_command)
main.add_command(export_command)
main.add_command(replay_command)


def plugin_commands(group: click.Group, pm: pluggy.PluginManager | None = None) -> list[str]:
    """Let each plugin add its commands to ``group`` (``aftersales_register_commands``);
    returns the names added. A plugin that fails, or takes a name already there, is skipped
    with a warning: one broken plugin never takes the command line down."""
    pm = make_manager() if pm is None else pm
    added: list[str] = []
    for plugin, commands in Hooks(pm).register_commands(group):
        for name, command in commands.items():
            if name in group.commands:
                logger.warning("plugin %s: the command %r exists already; skipped", plugin, name)
                continue
            group.add_command(command, name)
            added.append(name)
    return added


try:
    plugin_commands(main)
except Exception as exc:  # installed plugins that cannot even load: the built-ins still work
    logger.warning("plugins could not be loaded for the command line: %s", exc)

__all__ = ["main", "plugin_commands"]
