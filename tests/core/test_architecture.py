"""The rooms of the code (DESIGN.md, Layout): dependencies point one way, no import cycles.

Every import of one of our modules is read from the source with `ast` (top-level and inline
imports alike; migrations and the tests aside): between apps it must go the way DESIGN.md
gives, and between modules it must close no cycle.
"""

import ast
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The apps of DESIGN.md's layout (those still to come included), config and the benchmarks.
APPS = {
    "config", "core", "users", "inventory", "suppliers", "stock", "orders", "purchases",
    "sales", "stocktakes", "replenishment", "imports", "webhooks", "alerts", "reports", "bench",
}  # fmt: skip
EVERY_APP = APPS - {"config", "bench"}
CATALOGUE = {"inventory", "suppliers"}
ABOVE_STOCK = {"core", "users", *CATALOGUE, "stock", "orders", "purchases"}
READERS = {"alerts", "reports", "webhooks"}
# Which of our apps each app may import (besides itself), in DESIGN.md's words:
ALLOWED = {
    # "core imports none of ours"
    "core": set(),
    # "every app may use core"; "users knows no stock"
    "users": {"core"},
    # "the catalogue (inventory, suppliers) knows no stock and no orders"
    # (what a supplier sells us names a product of the catalogue)
    "suppliers": {"core", "inventory"},
    "inventory": {"core", "suppliers"},
    # "stock uses inventory and knows no documents (an order passes it a source and a
    # reference)"; its one service for a catalogue change "may use the catalogue's services"
    "stock": {"core", "users", *CATALOGUE},
    # "what purchase and sales orders share"
    "orders": {"core", "users", *CATALOGUE, "stock"},
    # "purchases and sales use orders, stock, inventory and suppliers"
    "purchases": {"core", "users", *CATALOGUE, "stock", "orders"},
    "sales": {"core", "users", *CATALOGUE, "stock", "orders"},
    # "stocktakes, replenishment and imports sit above stock, purchases and the catalogue and
    # call their services"
    "stocktakes": ABOVE_STOCK,
    "replenishment": ABOVE_STOCK,
    "imports": ABOVE_STOCK,
    # "reports, alerts and webhooks read everything and no other app imports them"
    **dict.fromkeys(READERS, EVERY_APP - READERS),
    "config": EVERY_APP,
    "bench": APPS - {"bench"},
}
# "where one request needs both (a product created with an opening quantity), one service in
# stock ... does it in one transaction, and the catalogue's views and admin call that one":
# the catalogue's entry points may import stock; its models, services and selectors may not.
# A product's answer also says what is on order and whether a reorder rule of it is due: the
# catalogue's views read them from purchases' and replenishment's selectors.
ENTRY_POINTS = {
    ("inventory", "views", "stock"),
    ("inventory", "admin", "stock"),
    ("inventory", "views", "purchases"),
    ("inventory", "views", "replenishment"),
}
MAX_SERVICE_MODULE_LINES = 500  # stock/services/: one module per concept


def our_modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of ours by dotted name (a package by its own name), migrations aside."""
    found = {}
    for app in sorted(APPS):
        for path in sorted((root / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = our_modules()


def imported_names(source: str, *, package: str) -> set[str]:
    """The dotted names a module imports, wherever in it the import stands (`from a import b`
    gives `a.b`, which is module `a.b` if there is one, else `a`); `package` resolves relative
    imports."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            names |= {module} | {f"{module}.{alias.name}" for alias in node.names}
    return names


def module_of(name: str, modules: Iterable[str]) -> str | None:
    """The module of ours that a dotted name is, or lives in (None: not ours)."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in modules:
            return ".".join(parts)
        parts.pop()
    return None


def imports_of(name: str, source: str, modules: Iterable[str]) -> set[str]:
    """The modules of ours that module `name` (with this source) imports."""
    modules = set(modules)
    package = name if name in modules and _is_package(name) else name.rpartition(".")[0]
    found = {module_of(imported, modules) for imported in imported_names(source, package=package)}
    return found - {None, name}


def _is_package(name: str) -> bool:
    return MODULES.get(name, Path()).name == "__init__.py"


def graph(modules: dict[str, Path] = MODULES) -> dict[str, set[str]]:
    return {name: imports_of(name, path.read_text(), modules) for name, path in modules.items()}


def against_the_direction(name: str, imports: set[str]) -> list[str]:
    """The imports of module `name` that go against DESIGN.md's direction between apps."""
    app, _, rest = name.partition(".")
    room = rest.partition(".")[0]
    found = []
    for imported in sorted(apps_imported(imports) - {app}):
        if imported in ALLOWED[app] or (app, room, imported) in ENTRY_POINTS:
            continue
        found.append(f"{name} imports {imported}")
    return found


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles: every group of modules that reach each other (Tarjan's strongly
    connected components), each sorted, a module importing itself included."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(edges.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in edges.get(node, ()):
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


# --- The tree as it is -------------------------------------------------------------------------


def test_no_app_imports_another_against_the_direction_of_the_design():
    edges = graph()
    found = [line for name in sorted(edges) for line in against_the_direction(name, edges[name])]
    assert found == []


def apps_imported(imports: set[str]) -> set[str]:
    return {module.partition(".")[0] for module in imports}


def test_core_imports_no_app_of_ours():
    edges = graph()
    core = [name for name in edges if name.partition(".")[0] == "core"]
    assert {name: apps_imported(edges[name]) - {"core"} for name in core} == dict.fromkeys(
        core, set()
    )


def test_the_catalogues_models_services_and_selectors_import_nothing_of_stock():
    edges = graph()
    rooms = [f"{app}.{room}" for app in CATALOGUE for room in ("models", "services", "selectors")]
    assert [name for name in rooms if "stock" in apps_imported(edges.get(name, set()))] == []


def test_no_import_cycle_between_modules():
    assert cycles(graph()) == []


def test_stocks_services_are_a_package_of_modules_of_at_most_500_lines():
    package = ROOT / "stock" / "services"
    assert (package / "__init__.py").is_file()
    lengths = {path.name: len(path.read_text().splitlines()) for path in package.glob("*.py")}
    assert len(lengths) > 5
    assert {name: n for name, n in lengths.items() if n > MAX_SERVICE_MODULE_LINES} == {}


# --- The checks catch what they are for (in memory: nothing is written to the tree) ------------


def test_the_check_sees_an_import_against_the_direction_inline_imports_too():
    probe = "def f():\n    from stock.services import record_movement\n"
    imports = imports_of("suppliers.probe", probe, MODULES)
    assert imports == {"stock.services"}
    assert against_the_direction("suppliers.probe", imports) == ["suppliers.probe imports stock"]
    assert against_the_direction("inventory.views", imports) == []  # an entry point
    assert against_the_direction("inventory.services", imports) == [
        "inventory.services imports stock"
    ]


def test_the_check_sees_a_cycle_through_an_inline_import():
    modules = {"users.services", "users.tasks", "users.models"}
    edges = {
        "users.services": imports_of("users.services", "def f():\n    from users import tasks\n",
                                     modules),
        "users.tasks": imports_of("users.tasks", "from users.services import token\n", modules),
        "users.models": set(),
    }  # fmt: skip
    assert cycles(edges) == [["users.services", "users.tasks"]]
    assert cycles({**edges, "users.tasks": {"users.models"}}) == []
