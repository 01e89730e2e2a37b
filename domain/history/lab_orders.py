"""Lab orders: each open until a final result closes it (a preliminary result leaves it
open)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from domain.labs import LabOrdered, LabResulted
from domain.record import kind_of
from domain.rules.care import Fact

ORDERED, RESULTED = kind_of(LabOrdered), kind_of(LabResulted)


@dataclass
class LabOrder:
    order_id: str
    loinc: str
    test_name: str
    due_by: date | None
    ordered: Fact
    results: list[Fact] = field(default_factory=list)
    open: bool = True


def lab_orders(facts: Iterable[Fact]) -> dict[str, LabOrder]:
    """Every lab order the facts place, by order id, in the order they were placed, each
    with the results filed against it."""
    orders: dict[str, LabOrder] = {}
    for fact in facts:
        p = fact.payload
        if fact.kind == ORDERED:
            due_by = p.get("due_by")
            orders[str(p["order_id"])] = LabOrder(
                str(p["order_id"]),
                str(p["loinc"]),
                str(p["test_name"]),
                None if due_by is None else date.fromisoformat(str(due_by)),
                fact,
            )
        elif fact.kind == RESULTED and str(p.get("order_id")) in orders:
            order = orders[str(p["order_id"])]
            order.results.append(fact)
            if p.get("final", True):
                order.open = False
    return orders
