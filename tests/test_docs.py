"""Every Python and shell block of the README and docs/ runs as written (issue 17), so the docs
cannot rot: a document's Python blocks run in order in one namespace, and its shell blocks
with bash (``set -e``), all in one scratch folder per document that holds ``rules/``,
``examples/`` and ``.venv`` as in a checkout. A block that cannot run here (it needs a mail
server, a second machine, ``make``) is preceded by ``<!-- docs-test: skip (why) -->``; the
test fails on a skip without a reason."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.M | re.S)
_SKIP = re.compile(r"<!-- docs-test: skip \((?P<why>[^)]+)\) -->\s*$")
_FILE = re.compile(r"<!-- docs-test: file (?P<name>[\w./-]+) -->\s*$")


def blocks(document: Path) -> list[tuple[str, str, int, str | None]]:
    """Each fenced block: its language, text, first line and why it is skipped (or None).
    A block marked ``<!-- docs-test: file NAME -->`` has the language ``file:NAME``: the
    reader is to save it as NAME (an ``aftersales.toml``, a case's JSON)."""
    text = document.read_text("utf-8")
    found = []
    for match in _FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        skip = _SKIP.search(before)
        if "docs-test: skip" in before and skip is None:
            raise AssertionError(f"{document.name}: a skip marker needs a reason: {before}")
        line = text.count("\n", 0, match.start()) + 1
        saved = _FILE.search(before)
        language = f"file:{saved.group('name')}" if saved else match.group(1)
        found.append((language, match.group(2), line, skip.group("why") if skip else None))
    return found


def _scratch(tmp_path: Path) -> Path:
    for name in ("rules", "examples"):
        (tmp_path / name).symlink_to(ROOT / name)
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    return tmp_path


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_block_runs_as_written(
    document: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = _scratch(tmp_path)
    monkeypatch.chdir(here)
    monkeypatch.delenv("AFTERSALES_CONFIG", raising=False)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           "COLUMNS": "100"}  # fmt: skip
    env.pop("AFTERSALES_CONFIG", None)
    namespace: dict[str, object] = {"__name__": f"docs:{document.name}"}
    for language, text, line, skipped in blocks(document):
        if skipped is not None:
            continue
        where = f"{document.relative_to(ROOT)}:{line}"
        if language.startswith("file:"):
            (here / language.removeprefix("file:")).write_text(text, "utf-8")
        elif language == "python":
            code = compile(textwrap.dedent(text), where, "exec")
            exec(code, namespace)
        elif language in ("sh", "bash", "console"):
            done = subprocess.run(["bash", "-e", "-c", text], cwd=here, env=env,
                                  capture_output=True, text=True, timeout=300)  # fmt: skip
            assert done.returncode == 0, f"{where}: exit {done.returncode}\n{done.stderr}"


def test_skipped_blocks_are_few_and_say_why() -> None:
    skipped = [(d.name, line, why) for d in DOCUMENTS for _, _, line, why in blocks(d) if why]
    runnable = [b for d in DOCUMENTS for b in blocks(d) if b[0] in ("python", "sh") and not b[3]]
    assert len(skipped) < len(runnable) / 3, skipped
