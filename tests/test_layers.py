"""The domain imports only the standard library, pydantic and eventsourcing's domain
module (STYLE.md, rule 1); import-linter checks the layers, this checks the rest."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[1] / "domain"
ALLOWED_THIRD_PARTY = {"pydantic", "pydantic_core", "eventsourcing.domain"}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_domain_imports_only_the_standard_library_pydantic_and_eventsourcing_domain() -> None:
    offenders = []
    for path in sorted(DOMAIN.rglob("*.py")):
        for name in imported_modules(path):
            top = name.split(".")[0]
            if top in sys.stdlib_module_names or top in {"domain", "__future__"}:
                continue
            if name in ALLOWED_THIRD_PARTY or top in {"pydantic", "pydantic_core"}:
                continue
            offenders.append(f"{path.relative_to(DOMAIN.parent)}: {name}")
    assert offenders == []


ROOT = DOMAIN.parent


def imports_of(package: str) -> dict[str, set[str]]:
    """Each module of a package (by path) with the modules it imports (absolute or relative)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names = imported_modules(path)
        tree = ast.parse(path.read_text())
        parts = path.relative_to(ROOT).with_suffix("").parts
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = parts[: len(parts) - node.level]
                names.add(".".join([*base, node.module or ""]).rstrip("."))
        found[str(path.relative_to(ROOT))] = names
    return found


def offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path}: {name}"
        for path, names in imports_of(package).items()
        for name in sorted(names)
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]


def test_pages_never_import_the_apis_routers() -> None:
    assert offenders("api/web", ("api.http",)) == []


def test_the_application_layer_imports_no_adapter_entry_point_or_framework() -> None:
    forbidden = ("adapters", "api", "bootstrap", "demo", "fastapi", "starlette", "kafka", "psycopg")
    assert offenders("application", forbidden) == []
    assert offenders("projections", (*forbidden, "application")) == []


def test_only_the_composition_root_imports_adapters() -> None:
    for package in ("api", "demo", "application", "projections", "domain"):
        assert offenders(package, ("adapters",)) == [], package


def test_the_demo_uses_the_application_layer_not_the_composition_root() -> None:
    assert offenders("demo", ("bootstrap", "api")) == []


def test_exactly_one_module_outside_the_tests_builds_access_records() -> None:
    builders = sorted(
        str(path.relative_to(ROOT))
        for package in (
            "domain",
            "projections",
            "application",
            "adapters",
            "bootstrap",
            "demo",
            "api",
        )
        for path in (ROOT / package).rglob("*.py")
        if "AccessRecord.record(" in path.read_text()
    )
    assert builders == ["application/audited.py"]


def test_no_entry_point_touches_a_repository_a_recorder_or_an_aggregates_save() -> None:
    touching = [
        f"{path.relative_to(ROOT)}: {needle}"
        for path in sorted((ROOT / "api").rglob("*.py"))
        for needle in (".repository", ".recorder", ".save(", ".commit(", "AccessRecord")
        if needle in path.read_text()
    ]
    assert touching == []
