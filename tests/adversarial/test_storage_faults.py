"""Database faults end in a StorageError that names the file and what to do, never a raw
sqlite3 error; a read-only store still opens for reading (issue 13)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import REPORT, RULES, T0, add_team

from aftersales import ServiceDesk, StorageError, ValidationError
from aftersales.plugins import sqlite as sqlite_backend


def made(path: Path) -> ServiceDesk:
    desk = ServiceDesk(RULES / "default.policy", f"sqlite:///{path}")
    add_team(desk)
    desk.cases.report(**REPORT, by="cs1", at=T0)
    return desk


def test_a_writer_holding_the_lock_past_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "desk.db"
    made(path).close()
    monkeypatch.setattr(sqlite_backend, "BUSY_TIMEOUT", 0.2)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        desk = ServiceDesk(RULES / "default.policy", f"sqlite:///{path}")
        with pytest.raises(StorageError, match=r"is locked: .* try again") as info:
            desk.staff.add(id="x1", name="New", roles=["engineer"])
        assert str(path) in str(info.value)
        assert len(desk.staff.list()) == 5  # reads still work
    finally:
        holder.execute("ROLLBACK")
    assert desk.staff.add(id="x1", name="New", roles=["engineer"]).id == "x1"


def test_garbage_in_a_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    made(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE snapshots SET data = '{not json' WHERE kind = 'staff'")
    desk = ServiceDesk(RULES / "default.policy", f"sqlite:///{path}")
    with pytest.raises(StorageError, match=r"not valid JSON.*backup"):
        desk.staff.list()


def test_a_missing_table(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    made(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE case_index")
    desk = ServiceDesk(RULES / "default.policy", f"sqlite:///{path}")
    with pytest.raises(StorageError, match="not an aftersales store"):
        desk.cases.find()


def test_missing_migration_rows(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    made(path).close()
    with sqlite3.connect(path) as conn:  # an early row lost: the schema is whole, it opens
        conn.execute("DELETE FROM schema_migrations WHERE version = 1")
    assert len(ServiceDesk(RULES / "default.policy", f"sqlite:///{path}").staff.list()) == 5
    with sqlite3.connect(path) as conn:  # the last one lost: re-running it cannot work
        conn.execute("DELETE FROM schema_migrations")
    with pytest.raises(StorageError, match=str(path)):
        ServiceDesk(RULES / "default.policy", f"sqlite:///{path}")


def test_a_damaged_file(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    made(path).close()
    data = bytearray(path.read_bytes())
    data[4096:8192] = os.urandom(4096)  # a page of noise
    path.write_bytes(bytes(data))
    with pytest.raises(StorageError, match=r"damaged|not an aftersales store|not valid JSON"):
        desk = ServiceDesk(RULES / "default.policy", f"sqlite:///{path}")
        desk.staff.list()
        desk.cases.find()
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(os.urandom(8192))
    with pytest.raises(StorageError, match="damaged"):
        ServiceDesk(RULES / "default.policy", f"sqlite:///{garbage}")


def test_dev_null_is_not_a_store() -> None:
    with pytest.raises(StorageError):
        ServiceDesk(RULES / "default.policy", "sqlite:////dev/null").staff.add(
            id="x", name="x", roles=["engineer"]
        )


READ_ONLY = """
import sys
from aftersales import ServiceDesk, StorageError, ValidationError
desk = ServiceDesk(sys.argv[1], sys.argv[2])
print(len(desk.staff.list()), len(desk.cases.find()))
try:
    desk.staff.add(id="x9", name="New", roles=["engineer"])
except StorageError as exc:
    print("refused:", exc)
"""


def test_a_read_only_store_opens_for_reading(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "desk.db"
    made(path).close()
    path.chmod(0o444)
    folder.chmod(0o555)
    command = [sys.executable, "-c", READ_ONLY, str(RULES / "default.policy"), f"sqlite:///{path}"]
    if os.geteuid() == 0:  # root ignores file modes: drop the capability that lets it
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.fail("setpriv (util-linux) is needed to test a read-only store as root")
        command = [setpriv, "--bounding-set", "-dac_override,-dac_read_search,-fowner",
                   "--inh-caps", "-dac_override,-dac_read_search,-fowner", *command]  # fmt: skip
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "5 1"
    assert lines[1].startswith("refused:") and "read-only" in lines[1]


def test_two_desks_racing_on_one_file_see_only_storage_or_conflict_errors(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    made(path).close()
    errors: list[BaseException] = []

    def work(n: int) -> None:
        desk = ServiceDesk(RULES / "default.policy", f"sqlite:///{path}")
        for i in range(30):
            try:
                desk.staff.add(id=f"w{n}-{i}", name="W", roles=["engineer"])
            except Exception as exc:
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


@pytest.mark.parametrize("text", ["\ud800", "a\x00b"])
def test_text_a_store_cannot_hold_is_refused_and_nothing_is_written(
    storage_url: str, text: str
) -> None:
    """The backstop under the checks at the API: whatever reaches a SQL store unchecked."""
    desk = ServiceDesk(RULES / "default.policy", storage_url)
    event = {"version": 1, "type": "noted", "at": "2026-11-23T09:00:00+00:00", "by": "x",
             "data": {"note": text}}  # fmt: skip
    try:
        with desk.storage.transaction() as tx:
            tx.append("note", "n1", 0, [event], {"note": text})
    except ValidationError as exc:
        assert "nothing was written" in str(exc)
        assert desk.storage.get("note", "n1") is None
    else:
        assert desk.storage.get("note", "n1") is not None  # a store that can hold it
