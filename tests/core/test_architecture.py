"""The rooms of the code (DESIGN.md, Layout): dependencies point one way, no import cycles.

Every import of one of our apps is read from the source with `ast` (top-level and inline
imports alike; migrations aside) and checked against the direction DESIGN.md gives.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = {
    "config", "core", "users", "inventory", "suppliers", "stock", "orders", "purchases",
    "sales", "alerts", "reports", "bench",
}  # fmt: skip
EVERY_APP = APPS - {"config", "bench"}
# Which of our apps each app may import (besides itself).
ALLOWED = {
    "core": set(),
    "users": {"core"},
    "suppliers": {"core"},
    "inventory": {"core", "suppliers"},
    "stock": {"core", "users", "inventory"},
    "orders": {"core", "users", "inventory", "stock"},
    "purchases": {"core", "users", "inventory", "suppliers", "stock", "orders"},
    "sales": {"core", "users", "inventory", "stock", "orders"},
    # They read everything; nobody imports them.
    "alerts": EVERY_APP - {"alerts", "reports"},
    "reports": EVERY_APP - {"alerts", "reports"},
    "config": EVERY_APP,
    "bench": APPS - {"bench"},
}
# The catalogue knows no stock: where one request needs both, its API view (and the admin, the
# other entry point) calls the catalogue's service and then stock's, in one transaction.
ENTRY_POINTS = {("inventory", "views", "stock"), ("inventory", "admin", "stock")}


def imports_of(path: Path) -> set[str]:
    """The apps of ours that a module imports, wherever in the module the import stands."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {name.split(".")[0] for name in names} & APPS
    return found


def modules():
    for app in sorted(APPS):
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield app, path


def violations() -> list[str]:
    found = []
    for app, path in modules():
        module = path.relative_to(ROOT / app).with_suffix("").parts[0]
        for imported in imports_of(path) - {app}:
            if imported in ALLOWED[app] or (app, module, imported) in ENTRY_POINTS:
                continue
            found.append(f"{path.relative_to(ROOT)} imports {imported}")
    return found


def test_no_app_imports_another_against_the_direction_of_the_design():
    assert violations() == []


def test_core_imports_no_app_of_ours():
    assert not [p for app, p in modules() if app == "core" and imports_of(p) - {"core"}]


def test_the_check_sees_an_import_against_the_direction(tmp_path, monkeypatch):
    """A catalogue module importing the ledger is caught, inline imports too."""
    offender = ROOT / "suppliers" / "_direction_probe.py"
    offender.write_text("def f():\n    from stock.services import record_movement\n")
    try:
        assert violations() == ["suppliers/_direction_probe.py imports stock"]
    finally:
        offender.unlink()
