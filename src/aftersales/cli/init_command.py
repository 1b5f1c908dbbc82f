"""``aftersales init``: a folder a team can start from, an ``aftersales.toml`` and a starter
policy to edit."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import click

from aftersales.core.errors import ValidationError

CONFIG = """\
# Which policy and which store the aftersales commands run in this folder work on.
# Every setting (notifiers, the outbox, the career ladder): see docs/guide.md.
policy  = "rules/{policy}"          # relative to this file
storage = "sqlite:///data/aftersales.db"
"""

NEXT_STEPS = """\
Next:{cd}
  edit {policy}   (the numbers are the starter's: make them your company's)
  aftersales policy check {policy}
  aftersales staff add cs1 --name Lin --role service_agent
  aftersales case report --customer "Hengli Mining" --fault "pump leaking" --severity major \\
      --channel phone --by cs1
  aftersales sla tick             (from cron, every minute or so)"""


@click.command("init")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--policy-name", default="default.policy", show_default=True,
              help="File name of the starter policy, written under rules/.")  # fmt: skip
@click.option("--force", is_flag=True, help="Overwrite an aftersales.toml or policy there.")
def init_command(folder: Path, policy_name: str, force: bool) -> None:
    """Write aftersales.toml and a starter policy (rules/) in FOLDER (default: here), and
    make data/, the folder of its SQLite store."""
    if Path(policy_name).name != policy_name or not policy_name.endswith(".policy"):
        raise ValidationError(
            f"--policy-name is a file name ending in .policy, like acme.policy, not {policy_name!r}"
        )
    config, policy = folder / "aftersales.toml", folder / "rules" / policy_name
    there = [p for p in (config, policy) if p.exists()]
    if there and not force:
        raise ValidationError(
            f"{there[0]} exists already; nothing was written (--force overwrites it, or "
            "choose another folder)"
        )
    starter = resources.files("aftersales.starter").joinpath("default.policy").read_text("utf-8")
    try:
        policy.parent.mkdir(parents=True, exist_ok=True)
        (folder / "data").mkdir(exist_ok=True)
        policy.write_text(starter, "utf-8")
        config.write_text(CONFIG.format(policy=policy_name), "utf-8")
    except OSError as exc:
        raise ValidationError(f"cannot write in {folder}: {exc.strerror or exc}") from exc
    click.echo(f"wrote {config} and {policy}; the store will be {folder / 'data'}/aftersales.db")
    cd = "" if folder.resolve() == Path.cwd() else f"\n  cd {folder}"
    click.echo(NEXT_STEPS.format(cd=cd, policy=policy.relative_to(folder)))
