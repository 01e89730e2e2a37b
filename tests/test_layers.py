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
