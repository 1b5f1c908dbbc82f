"""The one repository shape every service stores its aggregates through, on a SQLite file:
get or NotFound, create once, save naming the version read, writes inside a caller's
transaction rolled back with it, and one event shape for every event."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import attrs
import pytest

from aftersales import ConflictError, NotFound, ValidationError
from aftersales.core.safety import Tool
from aftersales.plugins.sqlite import open_sqlite
from aftersales.ports.storage import Storage
from aftersales.services.repository import Repository

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    store = open_sqlite(f"sqlite:///{tmp_path / 'repo.db'}")
    yield store
    store.close()


@pytest.fixture
def tools(storage: Storage) -> Repository[Tool]:
    return Repository(storage, "tool", Tool, "tool")


def test_get_find_and_all(tools: Repository[Tool]) -> None:
    with pytest.raises(NotFound, match="no tool 'TW-1'"):
        tools.get("TW-1")
    assert tools.find("TW-1") is None
    with pytest.raises(NotFound, match=r"^the wrench is gone$"):
        tools.get("TW-1", "the wrench is gone")
    tools.create(Tool("TW-2", "torque wrench", T0, version=1), "registered", "s1", T0)
    tools.create(Tool("TW-1", "torque wrench", T0, version=1), "registered", "s1", T0)
    assert [t.id for t in tools.all()] == ["TW-1", "TW-2"]
    assert tools.get("TW-1").name == "torque wrench"


def test_an_id_is_checked_before_the_store_is_asked(tools: Repository[Tool]) -> None:
    with pytest.raises(ValidationError):
        tools.get(42)


def test_create_once(tools: Repository[Tool]) -> None:
    tool = Tool("TW-1", "torque wrench", T0, version=1)
    tools.create(tool, "registered", "s1", T0)
    with pytest.raises(ConflictError, match="there is already a tool 'TW-1'"):
        tools.create(tool, "registered", "s1", T0)


def test_save_names_the_version_it_read(tools: Repository[Tool]) -> None:
    before = tools.create(Tool("TW-1", "wrench", T0, version=1), "registered", "s1", T0)
    after = attrs.evolve(before, holder="e7", version=2)
    tools.save(before, after, "checked_out", "s1", T0, {"holder": "e7"})
    stale = attrs.evolve(before, holder="e8", version=2)
    with pytest.raises(ConflictError):
        tools.save(before, stale, "checked_out", "s1", T0, {"holder": "e8"})
    assert tools.get("TW-1").holder == "e7"
    events = tools.events("TW-1")
    assert [(e["version"], e["type"], e["by"], e["data"]) for e in events] == [
        (1, "registered", "s1", {}),
        (2, "checked_out", "s1", {"holder": "e7"}),
    ]
    assert events[1]["at"] == T0.isoformat()


def test_a_write_in_a_callers_transaction_rolls_back_with_it(
    storage: Storage, tools: Repository[Tool]
) -> None:
    with pytest.raises(RuntimeError), storage.transaction() as tx:
        tools.create(Tool("TW-1", "wrench", T0, version=1), "registered", "s1", T0, tx=tx)
        raise RuntimeError("the rest of the action failed")
    assert tools.find("TW-1") is None
