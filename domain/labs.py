"""Laboratory orders and results (LOINC-coded, UCUM units)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import (
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
)

from domain.errors import InvalidInput, RuleViolation
from domain.events import Actor
from domain.lab_units import canonical, unit_refusal
from domain.record import RecordBase, RecordEvent, refuse_reserved
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
        if self.part2:
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
    # Checked even when left out (validate_default), so that "neither value" is refused.
    value_text: ShortText | None = Field(default=None, validate_default=True)
    unit: LabUnit | None = Field(default=None, validate_default=True)
    reference_low: Decimal | None = None
    reference_high: Decimal | None = None
    final: bool = True
    comment: Text | None = None
    # The value in its test's canonical unit (domain.lab_units), beside the value and unit
    # as entered; set by `record_lab_result`, absent from results recorded before it
    # (and from tests the unit table does not know). Rules compare levels with it.
    canonical_value: Decimal | None = None
    canonical_unit: LabUnit | None = None

    # Each rule is checked on the later of the fields it relates (earlier ones are in
    # `info.data`), so that a refusal names a field. A field missing from `info.data` was
    # refused itself, and that refusal is reported already.

    @field_validator("value_text")
    @classmethod
    def _one_value(cls, value_text: str | None, info: ValidationInfo) -> str | None:
        if "value" in info.data and (info.data["value"] is None) == (value_text is None):
            raise ValueError("give either a numeric value or a value_text, not both or neither")
        return value_text

    @field_validator("unit")
    @classmethod
    def _unit_with_number(cls, unit: LabUnit | None, info: ValidationInfo) -> LabUnit | None:
        if info.data.get("value") is not None and unit is None:
            raise ValueError("unit is required with a numeric value")
        return unit

    @field_validator("reference_high")
    @classmethod
    def _range_in_order(cls, high: Decimal | None, info: ValidationInfo) -> Decimal | None:
        low = info.data.get("reference_low")
        if low is not None and high is not None and low > high:
            raise ValueError("reference_low is above reference_high")
        return high

    @model_serializer(mode="wrap")
    def _without_absent_canonical(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        """A result without a canonical value dumps as it did before the field existed,
        so that what a past read showed (the payload, its hash) is rebuilt the same."""
        dumped: dict[str, Any] = handler(self)
        for name in ("canonical_value", "canonical_unit"):
            if dumped.get(name, 0) is None:
                del dumped[name]
        return dumped

    @property
    def converted(self) -> str | None:
        """The canonical value, where the unit entered was another one."""
        if self.canonical_value is None or self.canonical_unit in (None, self.unit):
            return None
        return f"{shown(self.canonical_value)} {self.canonical_unit}"

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
        converted = f" (= {self.converted})" if self.converted else ""
        return f"lab result: {self.test_name} {shown}{converted}{flag}"


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
        refuse_reserved(result)
        for computed in ("canonical_value", "canonical_unit"):
            if computed in result:
                raise InvalidInput.single(computed, "is computed from value and unit, not given")
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
        # A unit foreign to the test is refused here, when the result is entered (results
        # stored before keep loading: they are not checked again, and the rules give them
        # no canonical value unless their unit is one the test accepts).
        loinc, unit = str(result.get("loinc", "")), result.get("unit")
        refusal = unit_refusal(loinc, unit)
        if refusal is not None:
            raise InvalidInput.single("unit", refusal)
        converted = canonical(loinc, result.get("value"), unit)
        if converted is not None:
            result = {**result, "canonical_value": converted[0], "canonical_unit": converted[1]}
        self._record(LabResulted, by, at, order_id=order_id, sud_context=sud, **result)


def shown(value: Decimal) -> str:
    """A converted value as a person reads it: three significant digits (whole numbers
    kept whole), cut rather than rounded, so that a value under a threshold never reads
    as the threshold."""
    places = Decimal(1).scaleb(min(value.adjusted() - 2, 0)) if value else Decimal(1)
    return f"{value.quantize(places, rounding=ROUND_DOWN).normalize():f}"
