"""The ``aftersales`` command.

A user's mistake prints what was wrong and exits 1; no traceback reaches the terminal.
"""

from __future__ import annotations

import os
import sys

import click

from aftersales.cli.appraise_commands import appraise
from aftersales.cli.case_commands import case, plugins_command
from aftersales.cli.common import errors
from aftersales.cli.expenses_commands import expenses
from aftersales.cli.notifications_commands import notifications
from aftersales.cli.parts_commands import parts
from aftersales.cli.policy_commands import policy
from aftersales.cli.safety_commands import safety
from aftersales.cli.simulate_command import simulate_command
from aftersales.cli.sla_commands import sla
from aftersales.cli.staff_commands import staff
from aftersales.cli.training_commands import training
from aftersales.core.boundary import translate
from aftersales.core.errors import AftersalesError


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

__all__ = ["main"]
