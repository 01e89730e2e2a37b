"""Laboratory orders and results (LOINC-coded, UCUM units)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import Field, model_validator

from domain.errors import RuleViolation
from domain.events import Actor
from domain.record import RecordBase, RecordEvent
from domain.vocabulary import DataClass, LabUnit, LoincCode, Role, ShortText, Text

ORDERING = frozenset({Role.PRESCRIBER, Role.PRIMARY_CARE})
OPEN, RESULTED = "open", "resulted"


class LabOrdered(RecordEvent):
    default_class: ClassVar[DataClass] = DataClass.LAB
    authors: ClassVar[frozenset[Role]] = ORDERING

    order_id: UUID
    loinc: LoincCode
    test_name: ShortText
    reason: Text
    due_by: date | None = None

    def apply(self, aggregate: Any) -> None:
        aggregate.state.lab_orders[self.order_id] = OPEN
        if self.data_class == DataClass.SUD:
            aggregate.state.sud_orders.add(self.order_id)

    def summary(self) -> str:
        due = f", due by {self.due_by.isoformat()}" if self.due_by else ""
        return f"lab ordered: {self.test_name} (LOINC {self.loinc}){due}"


class LabResulted(RecordEvent):
    default_class: ClassVar[DataClass] = DataClass.LAB
    authors: ClassVar[frozenset[Role]] = ORDERING | {Role.SYSTEM}

    order_id: UUID
    loinc: LoincCode
    test_name: ShortText
    value: Decimal | None = Field(default=None, max_digits=14, decimal_places=6)
    value_text: ShortText | None = None
    unit: LabUnit | None = None
    reference_low: Decimal | None = None
    reference_high: Decimal | None = None
    final: bool = True
    comment: Text | None = None

    @model_validator(mode="after")
    def _value_is_coherent(self) -> LabResulted:
        if (self.value is None) == (self.value_text is None):
            raise ValueError("give either a numeric value or a value_text, not both or neither")
        if self.value is not None and self.unit is None:
            raise ValueError("unit is required with a numeric value")
        if (
            self.reference_low is not None
            and self.reference_high is not None
            and self.reference_low > self.reference_high
        ):
            raise ValueError("reference_low is above reference_high")
        return self

    @property
    def interpretation(self) -> Literal["low", "normal", "high"] | None:
        if self.value is None:
            return None
        if self.reference_low is not None and self.value < self.reference_low:
            return "low"
        if self.reference_high is not None and self.value > self.reference_high:
            return "high"
        return "normal" if (self.reference_low, self.reference_high) != (None, None) else None

    def apply(self, aggregate: Any) -> None:
        if self.final:
            aggregate.state.lab_orders[self.order_id] = RESULTED

    def summary(self) -> str:
        shown = (
            f"{self.value.normalize():f} {self.unit.value if self.unit else ''}".strip()
            if self.value is not None
            else str(self.value_text)
        )
        flag = f" [{self.interpretation}]" if self.interpretation not in (None, "normal") else ""
        return f"lab result: {self.test_name} {shown}{flag}"


class LabSection(RecordBase):
    def order_lab(
        self,
        by: Actor,
        at: datetime,
        *,
        order_id: UUID,
        loinc: str,
        test_name: str,
        reason: str,
        due_by: date | None = None,
        sud_context: bool = False,
    ) -> None:
        if order_id in self.state.lab_orders:
            raise RuleViolation(
                f"lab order {order_id} already exists", patient_id=self.id, field="order_id"
            )
        self._record(
            LabOrdered,
            by,
            at,
            order_id=order_id,
            loinc=loinc,
            test_name=test_name,
            reason=reason,
            due_by=due_by,
            sud_context=sud_context,
        )

    def record_lab_result(self, by: Actor, at: datetime, *, order_id: UUID, **result: Any) -> None:
        self.check_known("lab order", order_id, self.state.lab_orders, "order_id")
        if self.state.lab_orders[order_id] == RESULTED:
            raise RuleViolation(
                f"lab order {order_id} already has its final result",
                patient_id=self.id,
                field="order_id",
            )
        # A result belongs to the same class as its order (a drug screen ordered by a
        # Part 2 program stays an SUD record when the lab interface files it).
        sud = order_id in self.state.sud_orders
        self._record(LabResulted, by, at, order_id=order_id, sud_context=sud, **result)
