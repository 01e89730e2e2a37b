"""Events are told apart by their classes, never by strings (STYLE.md, rule 5a): code that
needs an event's stored name (`EventRow.kind`, `Fact.kind`) takes it from the class with
`domain.record.kind_of`, so renaming an event cannot break a view, a rule, the FHIR export
or a page silently. An AST scan of the application's packages finds any string constant
equal to the name of one of the domain's event classes."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import domain
from domain.events import DomainEvent

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "projections", "application", "adapters", "api", "bootstrap", "demo")
# (path from the repository root, event name) -> why that string is genuinely needed.
ALLOWED: dict[tuple[str, str], str] = {}


def event_class_names() -> frozenset[str]:
    """Every event class the domain defines (module-level subclasses of DomainEvent)."""
    for module in pkgutil.walk_packages(domain.__path__, "domain."):
        importlib.import_module(module.name)
    found: set[str] = set()
    pending = [DomainEvent]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            pending.append(sub)
            if "." not in sub.__qualname__:  # not eventsourcing's nested Created / Event
                found.add(sub.__name__)
    return frozenset(found)


def _exported(tree: ast.AST) -> set[int]:
    """The ids of the constants listed in `__all__` (a module naming what it exports)."""
    ids: set[int] = set()
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            ids.update(id(c) for c in ast.walk(node) if isinstance(c, ast.Constant))
    return ids


def kind_strings(source: str, names: frozenset[str]) -> Iterator[tuple[int, str]]:
    """(line, name) for each string constant in `source` that names an event class."""
    tree = ast.parse(source)
    exported = _exported(tree)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value in names
            and id(node) not in exported
        ):
            yield node.lineno, node.value


def found_in_packages(names: frozenset[str]) -> dict[tuple[str, str], list[int]]:
    found: dict[tuple[str, str], list[int]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            for line, name in kind_strings(path.read_text(), names):
                found.setdefault((relative, name), []).append(line)
    return found


def test_the_domain_defines_the_event_classes_the_scan_looks_for() -> None:
    names = event_class_names()
    assert {"MedicationStarted", "SessionScheduled", "LabOrdered", "MessageSent"} <= names
    assert {"PatientRegistered", "ConsentGranted", "AccessRecorded"} <= names
    assert "Created" not in names and "Event" not in names


def test_the_scan_finds_a_kind_written_as_a_string_but_not_one_taken_from_its_class() -> None:
    names = event_class_names()
    source = (
        "__all__ = ['SessionScheduled']\n"
        "if row.kind == 'SessionScheduled':\n"
        "    pass\n"
        "if row.kind == kind_of(SessionMissed):\n"
        "    pass\n"
        "OPEN = {'LabOrdered': True}\n"
    )
    assert list(kind_strings(source, names)) == [(2, "SessionScheduled"), (6, "LabOrdered")]


def test_no_module_names_an_event_kind_by_a_string() -> None:
    found = found_in_packages(event_class_names())
    unexpected = {
        f"{path}:{','.join(map(str, lines))}: {name!r}"
        for (path, name), lines in found.items()
        if (path, name) not in ALLOWED
    }
    assert sorted(unexpected) == [], "use domain.record.kind_of(TheEvent) instead"
    # An allowance whose string has gone is dropped, so the list never grows stale.
    assert [key for key in ALLOWED if key not in found] == []
