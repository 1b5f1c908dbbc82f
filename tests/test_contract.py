"""The storage conformance suite (aftersales.testing.StorageContract) on every built-in
backend, and used the way a plugin author uses it: through the pytest plugin's ini option."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aftersales.plugins.memory import MemoryStorage
from aftersales.plugins.postgres import PostgresStorage
from aftersales.plugins.sqlite import SQLiteStorage
from aftersales.ports.storage import Storage
from aftersales.testing import StorageContract

pytest_plugins = ["pytester"]


class TestMemory(StorageContract):
    @pytest.fixture
    def aftersales_storage(self) -> Iterator[Storage]:
        yield MemoryStorage()


class TestSQLite(StorageContract):
    @pytest.fixture
    def aftersales_storage(self, tmp_path: Path) -> Iterator[Storage]:
        store = SQLiteStorage(f"sqlite:///{tmp_path}/contract.db")
        yield store
        store.close()


class TestPostgreSQL(StorageContract):
    @pytest.fixture
    def aftersales_storage(self, postgres_url: str) -> Iterator[Storage]:
        store = PostgresStorage(postgres_url)
        yield store
        store.close()


def test_a_plugin_author_points_the_suite_at_a_factory(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        my_backend="""
        from aftersales.plugins.sqlite import SQLiteStorage

        def open_store(tmp_path):
            return SQLiteStorage(f"sqlite:///{tmp_path}/mine.db")
        """,
        test_mine="""
        from aftersales.testing import StorageContract

        class TestMine(StorageContract):
            pass
        """,
    )
    pytester.makeini("[pytest]\naftersales_storage_factory = my_backend:open_store\n")
    pytester.syspathinsert()
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=len([n for n in dir(StorageContract) if n.startswith("test_")]))


def test_a_broken_backend_fails_the_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_broken="""
        import pytest
        from aftersales.plugins.memory import MemoryStorage, _MemoryTransaction
        from aftersales.testing import StorageContract

        class Forgetful(_MemoryTransaction):
            def commit(self):  # drops the outbox on commit
                self.outbox.clear()
                super().commit()

        class TestBroken(StorageContract):
            @pytest.fixture
            def aftersales_storage(self, monkeypatch):
                monkeypatch.setattr("aftersales.plugins.memory._MemoryTransaction", Forgetful)
                return MemoryStorage()
        """
    )
    result = pytester.runpytest_subprocess()
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) >= 1
