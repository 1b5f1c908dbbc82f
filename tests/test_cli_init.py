"""``aftersales init`` and a new user's first steps: the folder it writes works with the
commands its "next" lines print, a store is never created silently, and a mistyped store path
is refused rather than given new folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import RULES

from aftersales.cli import main


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AFTERSALES_CONFIG", raising=False)
    return tmp_path


def test_init_writes_a_folder_the_next_steps_work_in(here: Path) -> None:
    code, out, err = run("init")
    assert code == 0, err
    assert (here / "aftersales.toml").is_file() and (here / "data").is_dir()
    starter = (here / "rules" / "default.policy").read_text("utf-8")
    assert starter == (RULES / "default.policy").read_text("utf-8")  # the shipped default
    steps = [line.strip() for line in out.splitlines() if line.strip().startswith("aftersales")]
    assert steps[0] == "aftersales policy check rules/default.policy"
    code, out, err = run("policy", "check", "rules/default.policy")
    assert (code, out.strip()) == (0, "rules/default.policy: ok"), err
    code, out, err = run("staff", "add", "cs1", "--name", "Lin", "--role", "service_agent")
    assert code == 0 and "created a new, empty store" in err and "aftersales.toml" in err
    assert "data/aftersales.db" in err
    code, out, err = run("case", "report", "--customer", "Hengli Mining", "--fault",
                         "pump leaking", "--severity", "major", "--channel", "phone",
                         "--by", "cs1")  # fmt: skip
    assert code == 0 and out.startswith("AS-") and err == "", err  # the store exists now
    code, out, err = run("sla", "tick")
    assert code == 0 and "decided" in out, err


def test_init_never_overwrites_without_force(here: Path) -> None:
    assert run("init")[0] == 0
    (here / "aftersales.toml").write_text('policy = "rules/mine.policy"\n', "utf-8")
    code, _, err = run("init")
    assert code == 1 and "aftersales.toml exists already; nothing was written" in err
    assert (here / "aftersales.toml").read_text("utf-8") == 'policy = "rules/mine.policy"\n'
    code, _, err = run("init", "--force")
    assert code == 0, err
    assert 'policy  = "rules/default.policy"' in (here / "aftersales.toml").read_text("utf-8")


def test_init_into_another_folder_with_a_named_policy(here: Path) -> None:
    code, out, err = run("init", "acme", "--policy-name", "acme.policy")
    assert code == 0, err
    assert (here / "acme" / "rules" / "acme.policy").is_file()
    assert "\n  cd acme\n" in out and "aftersales policy check rules/acme.policy" in out
    code, out, err = run("--config", "acme/aftersales.toml", "case", "list")
    assert code == 0 and "acme/data/aftersales.db" in err, err  # relative to the file
    for bad in ("../x.policy", "acme.txt", "a/b.policy"):
        code, _, err = run("init", "other", "--policy-name", bad)
        assert code == 1 and "--policy-name is a file name ending in .policy" in err
    assert not (here / "other").exists()


def test_a_mistyped_store_path_is_refused_not_created(here: Path) -> None:
    (here / "aftersales.toml").write_text(
        f'policy = "{RULES / "default.policy"}"\nstorage = "sqlite:///no/such/dir/x.db"\n',
        "utf-8",
    )
    code, _, err = run("case", "list")
    assert code == 1 and "its folder" in err and "no/such/dir does not exist" in err
    assert "mkdir -p" in err
    assert not (here / "no").exists()


def test_an_action_dated_in_the_future_is_said_out_loud(here: Path) -> None:
    assert run("init")[0] == 0
    assert run("staff", "add", "cs1", "--name", "Lin", "--role", "service_agent")[0] == 0
    code, _, err = run("case", "report", "--customer", "Hengli", "--fault", "leak",
                       "--severity", "major", "--channel", "phone", "--by", "cs1",
                       "--at", "2026-11-05T09:00")  # fmt: skip
    assert code == 0 and "warning" not in err
    code, out, err = run("case", "report", "--customer", "Hengli", "--fault", "leak",
                         "--severity", "major", "--channel", "phone", "--by", "cs1",
                         "--at", "2030-01-01T09:00")  # fmt: skip
    assert code == 0 and out.startswith("AS-2030-")
    assert "warning: 2030-01-01T09:00:00+08:00 is later than now" in err
    code, _, err = run("sla", "report", "--since", "2026-01-01", "--until", "2031-01-01")
    assert code == 0 and "warning" not in err  # a period, not an action
