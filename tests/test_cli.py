"""The command line, run as a user runs it."""

from __future__ import annotations

import json
import re
import runpy
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from conftest import MINIMAL, ROOT, RULES

from aftersales import load_policy
from aftersales.cli import main

ALL = [str(p) for p in sorted(RULES.glob("*.policy"))]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env={"COLUMNS": "400"})
    return result.exit_code, result.stdout, result.stderr


def test_check_clean_files() -> None:
    code, out, _ = run("policy", "check", *ALL)
    assert code == 0 and out.count(": ok") == len(ALL)


def test_check_reports_every_error_of_every_file(tmp_path: Path) -> None:
    bad1 = tmp_path / "a.policy"
    bad1.write_text(
        MINIMAL.replace("Asia/Shanghai", "Nowhere/City").replace("30 minutes", "30 minuts"), "utf-8"
    )
    bad2 = tmp_path / "b.policy"
    bad2.write_text("policy {\n", "utf-8")
    code, out, err = run("policy", "check", str(bad1), str(bad2), ALL[0])
    assert code == 1
    assert f"{bad1}:3:" in err and 'unknown time zone "Nowhere/City"' in err
    assert 'did you mean "minutes"?' in err
    assert f"{bad2}:1:" in err
    assert "2 of 3 file(s) have errors" in err
    assert "Traceback" not in err + out


def test_check_missing_file_is_one_line() -> None:
    code, _, err = run("policy", "check", "nope.policy")
    assert code == 1 and "cannot read the policy file" in err and "Traceback" not in err


def test_test_runs_examples() -> None:
    code, out, _ = run("policy", "test", *ALL)
    assert code == 0 and out.strip().endswith("0 failed")


def test_test_reports_failing_example_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "f.policy"
    path.write_text(
        MINIMAL + 'example "wrong" {\n  given case { severity: "critical" }\n'
        "  expect priority general\n}\n",
        "utf-8",
    )
    code, out, _ = run("policy", "test", str(path))
    assert code == 1
    assert f"FAILED  {path}:20  wrong" in out
    assert "expected priority general, got urgent" in out
    assert "0 passed, 1 failed" in out


def test_show_lists_every_section() -> None:
    code, out, _ = run("policy", "show", str(RULES / "rhine-pumps.policy"))
    assert code == 0
    for text in (
        "Rhein Pumpen GmbH",
        "on call",
        "critical",
        "within 10 minutes",
        "by appointment",
        "waiting for parts",
        "6 months after accepted",
        "herausragend",
        "tasks_completed",
        "120 EUR per night",
        "supervisor then manager then director then finance",
        "stocktake every",
        "ATEX",
        "ear_protection",
        "24 hours",
    ):
        assert text in out, text


def test_explain_gives_priority_rule_and_deadlines(tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_text(
        json.dumps({"severity": "major", "machine_down": True, "customer": {"tier": "gold"}})
    )
    code, out, _ = run(
        "policy",
        "explain",
        str(RULES / "default.policy"),
        "--case",
        str(case),
        "--at",
        "2026-11-27T16:00",
    )
    assert code == 0
    assert "priority: urgent" in out and "default.policy:21" in out
    assert "Fri 2026-11-27 16:30" in out  # response within 30 minutes
    assert "Sat 2026-11-28 00:00" in out  # arrival within 8 hours
    assert "after the case is assigned" in out


def test_explain_bad_json_is_one_line(tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_text("{nope")
    code, _, err = run("policy", "explain", str(RULES / "default.policy"), "--case", str(case))
    assert code == 1 and "not valid JSON" in err and "Traceback" not in err


def test_console_script_is_installed() -> None:
    exe = Path(sys.executable).with_name("aftersales")
    result = subprocess.run([str(exe), "policy", "check", ALL[0]], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("script", sorted((ROOT / "examples").glob("*.py")), ids=lambda p: p.name)
def test_examples_run(
    script: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", [str(script)])  # not pytest's own arguments
    runpy.run_path(str(script), run_name="__main__")
    assert capsys.readouterr().out


def test_shell_completion_as_the_guide_documents_it() -> None:
    """docs/guide.md: ``_AFTERSALES_COMPLETE=bash_source aftersales`` prints the script, and
    completing ``aftersales sl`` offers ``sla``."""
    import os
    import subprocess
    import sys

    program = str(Path(sys.executable).parent / "aftersales")
    script = subprocess.run([program], env={**os.environ, "_AFTERSALES_COMPLETE": "bash_source"},
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert "_aftersales_completion()" in script.stdout
    env = {**os.environ, "_AFTERSALES_COMPLETE": "bash_complete", "COMP_WORDS": "aftersales sl",
           "COMP_CWORD": "1"}  # fmt: skip
    offered = subprocess.run([program], env=env, capture_output=True, text=True, timeout=60)
    assert "plain,sla" in offered.stdout.splitlines()


def test_explain_reads_the_dotted_form_and_refuses_what_no_rule_can_read(tmp_path: Path) -> None:
    """Issue 17: ``{"customer.tier": "gold"}`` (as example blocks write it) is the nested
    form's case; a misspelt field or value is an error with a hint, not a general case."""
    policy = str(RULES / "default.policy")

    def explain(case: object) -> tuple[int, str, str]:
        path = tmp_path / "case.json"
        path.write_text(json.dumps(case), "utf-8")
        return run("policy", "explain", policy, "--case", str(path), "--at", "2026-11-27T16:00")

    code, dotted, _ = explain({"severity": "major", "machine_down": True, "customer.tier": "gold"})
    assert code == 0 and "priority: urgent" in dotted
    nested = explain({"severity": "major", "machine_down": True, "customer": {"tier": "gold"}})
    assert nested[1] == dotted
    for case, words in (
        ({"severity": "majr"}, "severity 'majr' is not one of the policy's: "),
        ({"severity": "major", "customer.teir": "gold"}, "did you mean customer.tier?"),
        ({"severity": "major", "machine_down": "yes"}, "machine_down is true/false"),
        ({"severity": "major", "channel": "fax"}, "channel 'fax' is not one of"),
        ({"customer": {"tier": "gold"}, "customer.tier": "silver"}, "gives customer.tier twice"),
    ):
        code, _, err = explain(case)
        assert code == 1 and words in err and "Traceback" not in err, (case, err)
    assert "did you mean 'major'?" in explain({"severity": "majr"})[2]


def test_explain_checks_declared_choices() -> None:
    from aftersales.core.errors import ValidationError as Invalid
    from aftersales.policy.examples import case_record

    cranes = load_policy(RULES / "crane-service.policy")
    record = case_record(cranes, {"severity": "fault", "custom.impact": "site"})
    assert record == {"severity": "fault", "custom": {"impact": "site"}}
    with pytest.raises(Invalid, match=r"custom\.impact .sight. is not one of"):
        case_record(cranes, {"severity": "fault", "custom": {"impact": "sight"}})


def test_an_empty_folder_says_where_the_configuration_is_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17: outside a project the error names aftersales.toml and --config, not only a
    policy file the user never chose."""
    monkeypatch.chdir(tmp_path)
    code, _, err = run("case", "list")
    assert code == 1 and "no aftersales.toml in" in err and "--config FILE" in err
    assert not list(tmp_path.iterdir())  # and no store was created


def _commands(
    group: click.Group, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    context = click.Context(group)
    for name in group.list_commands(context):  # loads the built-ins (they load when used)
        command = group.get_command(context, name)
        if command is None:
            continue
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))


def test_help_reads_as_plain_text() -> None:
    """--help of every command: no reST markup (double backticks, :mod: roles) reaches a
    terminal."""
    offending = []
    for path, _ in _commands(main):
        result = CliRunner().invoke(main, [*path, "--help"], env={"COLUMNS": "100"})
        assert result.exit_code == 0, (path, result.output)
        if "``" in result.output or re.search(r":(mod|class|func|meth):`", result.output):
            offending.append(" ".join(path))
    assert offending == []


def test_policy_check_as_json_for_ci_annotations(tmp_path: Path) -> None:
    bad = tmp_path / "bad.policy"
    bad.write_text(MINIMAL.replace("response within 30 minutes", "arival within 30 minutes"))
    spare = tmp_path / "spare.policy"
    spare.write_text(MINIMAL + 'calendar "night" {\n  workweek mon..sun\n  hours 22:00-24:00\n}\n')
    result = CliRunner().invoke(main, ["policy", "check", "--format", "json", str(bad), str(spare)])
    assert result.exit_code == 1 and result.stderr == ""
    error, warning = json.loads(result.stdout)
    assert error == {"file": str(bad), "line": 13, "column": 3, "end_column": 9,
                     "severity": "error", "message": 'unknown milestone "arival"',
                     "hint": 'did you mean "arrival"?'}  # fmt: skip
    assert (warning["file"], warning["line"], warning["severity"]) == (str(spare), 18, "warning")
    clean = CliRunner().invoke(main, ["policy", "check", "--format", "json", str(spare)])
    assert clean.exit_code == 0 and len(json.loads(clean.stdout)) == 1


def test_policy_explain_and_test_as_json(tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    case.write_text('{"severity": "major", "machine_down": true, "customer.tier": "gold"}')
    policy = str(RULES / "default.policy")
    result = CliRunner().invoke(main, ["policy", "explain", policy, "--case", str(case),
                                       "--at", "2026-11-27T16:00", "--format", "json"])  # fmt: skip
    explained = json.loads(result.stdout)
    assert (explained["priority"], explained["rule"]) == ("urgent", f"{policy}:21")
    response = next(d for d in explained["deadlines"] if d["milestone"] == "response")
    assert response["due"] == "2026-11-27T16:30:00+08:00"
    tested = CliRunner().invoke(main, ["policy", "test", policy, "--json"])
    assert tested.exit_code == 0
    assert {r["passed"] for r in json.loads(tested.stdout)} == {True}


def test_staff_actions_print_the_record_as_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "aftersales.toml").write_text(f'policy = "{RULES / "default.policy"}"\n')
    runner = CliRunner()
    for args in (["staff", "add", "m1", "--name", "Zhao", "--role", "manager"],
                 ["staff", "add", "e7", "--name", "Chen", "--role", "engineer"]):  # fmt: skip
        assert runner.invoke(main, args).exit_code == 0
    off = runner.invoke(main, ["staff", "deactivate", "e7", "--by", "m1", "--format", "json"])
    assert json.loads(off.stdout)["active"] is False
    on = runner.invoke(main, ["staff", "reactivate", "e7", "--by", "m1"])
    assert on.stdout.strip() == "e7 reactivated"


# commands that print no record, with why they take no --format
NO_FORMAT = {
    "init": "writes files and prints the next steps",
    "policy show": "every value of a policy as tables; policy explain --format json reads one",
    "sla backfill": "prints a count",
    "simulate": "a report of several tables; its store holds every case for JSON",
    "notifications prune": "prints a count",
    "export": "writes a CSV file",
    "staff token issue": "prints the token itself, once (staff token list has --format)",
    "messages templates": "prints a folder, or copies it",
    "case report-doc": "writes a PDF or HTML file",
    "serve": "serves until interrupted",
    "complaints show": "prints the one complaint as JSON",
}


def test_every_command_that_prints_records_takes_format() -> None:
    missing = []
    for path, command in _commands(main):
        if isinstance(command, click.Group) or " ".join(path) in NO_FORMAT:
            continue
        if "--format" not in [o for p in command.params for o in getattr(p, "opts", [])]:
            missing.append(" ".join(path))
    assert missing == []
