"""Start-up (issue 18): ``import aftersales`` and ``aftersales --help`` import only what they
use, so a cron-driven command does not pay for the parser, the converters, the storage
backends or fifteen other commands. Times are measured in bench/startup_bench.py; here, what
each start imports, which is what the times follow from."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import aftersales
from aftersales import cli
from aftersales.ports.manager import DEFAULT_PLUGINS, make_manager

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("lark", "cattrs", "rich", "aftersales.policy", "aftersales.services",
         "aftersales.plugins")  # fmt: skip


def _imported_by(code: str, *args: str) -> set[str]:
    """The modules a fresh interpreter holds after ``code`` (given ``args``)."""
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True,
                          text=True, check=True, cwd=ROOT)  # fmt: skip
    return set(json.loads(done.stdout.splitlines()[-1]))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_import_aftersales_imports_none_of_the_layers() -> None:
    modules = _imported_by("import aftersales")
    assert _heavy(modules) == []
    assert "calendar" not in modules  # (importlib.metadata imports it for --help, not us)


def test_a_public_name_imports_what_it_needs_when_first_used() -> None:
    modules = _imported_by("from aftersales import Duration")
    assert "aftersales.core.duration" in modules
    assert _heavy(modules) == []
    assert "lark" in _imported_by("from aftersales import load_policy")


def test_every_public_name_resolves_and_the_two_lists_agree() -> None:
    """__all__, the lazy table and the names type checkers see are one list."""
    tree = ast.parse(Path(aftersales.__file__).read_text("utf-8"))
    checked = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module != "__future__"
        for alias in node.names
        if alias.name not in ("TYPE_CHECKING", "Any")
    }
    exported = set(aftersales._EXPORTS)
    assert exported == checked == set(aftersales.__all__) - {"__version__"}
    for name in aftersales.__all__:
        assert getattr(aftersales, name) is not None
    assert dir(aftersales) == sorted(aftersales.__all__)
    with pytest.raises(AttributeError, match="no attribute 'Nonesuch'"):
        aftersales.Nonesuch  # noqa: B018


def test_help_imports_no_command_module_no_layer_and_not_the_errors() -> None:
    modules = _imported_by(
        "import sys\nfrom aftersales.cli import main\nsys.argv = ['aftersales', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    commands = sorted(m for m in modules if m.startswith("aftersales.cli."))
    assert commands == []
    assert _heavy(modules) == []
    # the error classes (attrs), the plugin manager and logging only when a command fails or
    # a plugin is installed
    assert {"attr", "pluggy", "logging", "aftersales.core.errors"}.isdisjoint(modules)


def test_running_a_command_imports_its_module_only() -> None:
    modules = _imported_by(
        "import sys\nfrom aftersales.cli import main\n"
        "sys.argv = ['aftersales', 'policy', 'check', 'rules/default.policy']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    loaded = {m for m in modules if m.endswith("_commands") or m.endswith("_command")}
    assert loaded == {"aftersales.cli.policy_commands"}


def test_the_help_listing_names_every_built_in_command_with_its_table_line() -> None:
    result = CliRunner().invoke(cli.main, ["--help"])
    assert result.exit_code == 0
    listed = result.output.split("Commands:")[1]
    for name, (_, _, line) in cli.COMMANDS.items():
        assert f"  {name}" in listed and line in " ".join(listed.split())


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_each_table_entry_is_the_command_of_that_name(name: str) -> None:
    command = cli.main.get_command(click.Context(cli.main), name)
    assert isinstance(command, click.Command) and command.name == name
    assert command.help  # its own --help is the full text; the table holds the listing's line
    assert len(cli.COMMANDS[name][2]) <= 60


def test_the_built_in_plugins_add_no_commands() -> None:
    """``--help`` skips making the plugin manager when no distribution has an ``aftersales``
    entry point, which is right only while no built-in plugin adds commands."""
    for name in DEFAULT_PLUGINS:
        module = importlib.import_module(name)
        assert not hasattr(module, "aftersales_register_commands"), name


def test_an_installed_plugins_command_is_listed_and_runs(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "acme_cmds.py").write_text(
        "import click\nfrom aftersales import hookimpl\n\n@hookimpl\n"
        "def aftersales_register_commands(cli):\n"
        "    @cli.command()\n    def hello():\n        'Say hello from a plugin.'\n"
        "        click.echo('hello from acme')\n",
        "utf-8",
    )
    info = site / "acme_cmds-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-cmds\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[aftersales]\nacme-cmds = acme_cmds\n", "utf-8")
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-m", "aftersales.cli"]
    listing = subprocess.run([*run, "--help"], env=env, capture_output=True, text=True,
                             cwd=ROOT, check=True).stdout  # fmt: skip
    assert "hello" in listing and "Say hello from a plugin." in listing
    said = subprocess.run([*run, "hello"], env=env, capture_output=True, text=True, cwd=ROOT)
    assert said.returncode == 0 and said.stdout == "hello from acme\n", said.stderr
    blocked = subprocess.run([*run, "--help"], env={**env, "AFTERSALES_BLOCK_PLUGINS": "acme-cmds"},
                             capture_output=True, text=True, cwd=ROOT, check=True)  # fmt: skip
    assert "hello" not in blocked.stdout


def test_a_plugin_cannot_take_a_built_in_name_before_it_is_loaded() -> None:
    group = cli._Main("aftersales")

    class Clash:
        @aftersales.hookimpl
        def aftersales_register_commands(self, cli: click.Group) -> None:
            @cli.command("sla")
            def fake() -> None:
                """Not the real one."""

    assert cli.plugin_commands(group, make_manager([Clash()], entry_points=False)) == []
