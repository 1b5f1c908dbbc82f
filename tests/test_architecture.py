"""The layers, read from the source: ``core`` <- ``policy`` <- ``ports`` <- ``plugins`` /
``services`` <- ``simulation`` / ``replay`` / ``testing`` <- ``cli``. Every import is counted,
the ones under ``TYPE_CHECKING`` and inside functions included: a type hint that points up a
layer is the first step of a cycle. The docs/architecture.md page draws the same picture."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "aftersales"

# rank of each top-level part: a module may import its own rank or lower, never higher
LAYERS = {
    "core": 0,
    "policy": 1,
    "ports": 2,
    "plugins": 3,
    "services": 3,
    "simulation": 4,
    "replay": 4,  # what-if on a history: desks in memory, like the simulation
    "testing": 4,
    "http": 4,  # the HTTP API over a desk; the command line serves it
    "cli": 5,
    "starter": 5,  # the files `aftersales init` writes: data, imports nothing
    "__main__": 6,
    "": 6,  # aftersales/__init__.py: the public API re-exports every layer
}
# parts of one rank that must not import each other: built-in backends are plugins like any
# third-party one and never reach into the services; the services speak only the contract
APART = {("plugins", "services"), ("services", "plugins"), ("simulation", "testing"),
         ("replay", "testing"), ("replay", "simulation"), ("simulation", "replay"),
         ("http", "testing"), ("http", "simulation"), ("http", "replay")}  # fmt: skip

# function-level imports that stay, and why (every other import is at the top of its module)
INSIDE_FUNCTIONS = {
    ("aftersales.testing", "aftersales.testing.contract"): (
        "the conformance suite imports pytest; loading it only when asked for keeps "
        "`import aftersales.testing` free of pytest for the Outbox helper"
    ),
    ("aftersales.cli", "aftersales.cli.common"): (
        "rich's console is needed only to print an error; `aftersales --help` and every "
        "command that succeeds quietly start without it (issue 18, bench/startup_bench.py)"
    ),
    ("aftersales.cli", "aftersales.ports.manager"): (
        "the plugin manager imports every built-in backend; the command line makes it only "
        "when an installed distribution may add commands"
    ),
    ("aftersales.cli", "aftersales.ports.hooks"): (
        "the hooks' wrapper imports the domain model; as the plugin manager above"
    ),
    ("aftersales.cli", "aftersales.core.boundary"): (
        "the error classes import attrs; `aftersales --help` and every command that "
        "succeeds start without them (issue 18)"
    ),
    ("aftersales.cli", "aftersales.core.errors"): "as aftersales.core.boundary above",
    ("aftersales.cli", "importlib.metadata"): (
        "finding installed plugins' entry points costs ~23 ms; only to list or find a "
        "command that is not built in"
    ),
    ("aftersales.cli", "logging"): "only to warn of a plugin that fails to load",
    ("aftersales.services.templates", "jinja2"): (
        "jinja2 costs ~25-100 ms to import; only a desk that renders a customer's message or "
        "a repair report needs it"
    ),
    ("aftersales.services.repair_document", "reportlab.lib"): (
        "reportlab costs more than the rest of the desk to import; only a PDF needs it"
    ),
    ("aftersales.services.repair_document", "reportlab.lib.styles"): "as reportlab.lib",
    ("aftersales.services.repair_document", "reportlab.lib.units"): "as reportlab.lib",
    ("aftersales.services.repair_document", "reportlab.pdfbase"): "as reportlab.lib",
    ("aftersales.services.repair_document", "reportlab.pdfbase.cidfonts"): "as reportlab.lib",
    ("aftersales.services.repair_document", "reportlab.platypus"): "as reportlab.lib",
    ("aftersales.services.repair_document", "PIL"): "Pillow: only to check a signature image",
    ("aftersales.plugins.postgres", "psycopg"): (
        "psycopg is the optional `postgres` extra: the built-in plugin loads without it and "
        "says how to install it when a postgresql:// store is opened"
    ),
}


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _part(module: str) -> str:
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else ""


def _is_module(name: str) -> bool:
    where = SRC.parent / name.replace(".", "/")
    return where.is_dir() or where.with_suffix(".py").exists()


def _imports(path: Path) -> Iterator[tuple[str, bool]]:
    """``(imported module, made inside a function)`` for every import of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inside.update(id(n) for n in ast.walk(node) if n is not node)
    package = _module(path) if path.name == "__init__.py" else _module(path).rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from aftersales.policy import tables` imports the module policy.tables
            modules = [f"{base}.{a.name}" for a in node.names if _is_module(f"{base}.{a.name}")]
            names = modules if len(modules) == len(node.names) else [base, *modules]
        else:
            continue
        for name in names:
            yield name, id(node) in inside


def _ours(name: str) -> bool:
    return name == "aftersales" or name.startswith("aftersales.")


def _every_import() -> dict[str, set[tuple[str, bool]]]:
    return {
        _module(path): set(_imports(path))
        for path in sorted(SRC.rglob("*.py"))
        if "__pycache__" not in path.parts
    }


IMPORTS = _every_import()
GRAPH = {m: {(t, fn) for t, fn in found if _ours(t)} for m, found in IMPORTS.items()}


def test_the_source_is_where_the_test_looks() -> None:
    assert "aftersales.services.desk" in GRAPH and "aftersales.core.model" in GRAPH
    assert set(map(_part, GRAPH)) <= set(LAYERS), "a new top-level part: give it a layer"


def test_no_import_goes_up_a_layer() -> None:
    wrong = []
    for module, imports in GRAPH.items():
        here = _part(module)
        for target, _ in imports:
            there = _part(target)
            if LAYERS[there] > LAYERS[here] or (here, there) in APART:
                wrong.append(f"{module} imports {target} ({here} -> {there})")
    assert wrong == []


def test_no_service_knows_the_desk() -> None:
    """The desk is the composition root: it builds the services and hands each the ones
    below it. A service that imported it, even for a type hint, would be a hub again."""
    users = sorted(m for m, imports in GRAPH.items()
                   if any(t == "aftersales.services.desk" for t, _ in imports)
                   and _part(m) in ("services", "plugins", "ports", "core", "policy"))  # fmt: skip
    assert users == ["aftersales.services"]  # the package re-exports ServiceDesk


def _cycle() -> list[str] | None:
    edges = {m: {t for t, _ in imports if t in GRAPH and t != m} for m, imports in GRAPH.items()}
    # a package's __init__ importing its own submodules is how packages re-export; the
    # submodules importing the package back would be a cycle, and is caught
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_cycle() -> None:
    assert _cycle() is None


def test_imports_are_at_the_top_of_modules() -> None:
    inside = sorted((m, t) for m, imports in IMPORTS.items() for t, fn in imports if fn)
    assert [pair for pair in inside if pair not in INSIDE_FUNCTIONS] == []
    assert set(INSIDE_FUNCTIONS) <= set(inside), "an allowed exception no longer exists"


@pytest.mark.parametrize(
    ("module", "target", "in_function"),
    [
        ("aftersales.services.cases", "aftersales.services.case_book", False),
        ("aftersales.policy.parser", "aftersales.policy.tables", False),
        ("aftersales.plugins.postgres", "psycopg", True),
    ],
)
def test_the_check_sees_imports(module: str, target: str, in_function: bool) -> None:
    """A guard on the guard: the graph holds the imports a module is known to make."""
    assert (target, in_function) in IMPORTS[module]
