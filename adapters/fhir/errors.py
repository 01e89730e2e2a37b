"""The FHIR export's one error, and the model check that raises it for a resource that
fhir.resources finds invalid."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.fhirresourcemodel import FHIRResourceModel
from pydantic import ValidationError


class FhirRenderError(Exception):
    """An event (or consent) that cannot be rendered: its kind, and why."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"cannot render {kind} as FHIR: {reason}")
        self.kind = kind
        self.reason = reason


def validated(
    kind: str, model: type[FHIRResourceModel], resource: dict[str, Any]
) -> dict[str, Any]:
    """`resource` as JSON-ready data, once its fhir.resources model accepts it."""
    try:
        parsed = model.model_validate(resource)
    except ValidationError as exc:
        raise FhirRenderError(
            kind, f"the {model.get_resource_type()} it renders is not valid: {exc}"
        ) from exc
    dumped: dict[str, Any] = parsed.model_dump(mode="json", exclude_none=True)
    return dumped
