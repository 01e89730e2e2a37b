"""Bodies of the read use cases."""

from __future__ import annotations

from pydantic import BaseModel, Field

from domain.vocabulary import Text


class BreakGlassRequest(BaseModel):
    reason: Text = Field(description="The nature of the emergency (42 CFR 2.51).")
