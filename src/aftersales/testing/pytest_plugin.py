"""The ``aftersales`` pytest plugin (entry point ``pytest11``): the ``aftersales_storage``
fixture that :class:`aftersales.testing.StorageContract` runs against.

Name a factory in the pytest configuration, ``aftersales_storage_factory =
"my_pkg.testing:open_store"`` (``open_store(tmp_path) -> Storage``), or override the fixture
in the test class.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from aftersales.ports.storage import Storage

INI = "aftersales_storage_factory"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(INI, "module:callable that opens an empty Storage for a tmp_path", default="")


@pytest.fixture
def aftersales_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """An empty storage backend from the configured factory."""
    spec = str(request.config.getini(INI))
    if ":" not in spec:
        pytest.fail(f"set {INI} = 'module:callable' in the pytest configuration, or override "
                    "the aftersales_storage fixture in your StorageContract subclass")  # fmt: skip
    module, _, name = spec.partition(":")
    factory = getattr(importlib.import_module(module), name)
    store = factory(tmp_path)
    yield store
    store.close()
