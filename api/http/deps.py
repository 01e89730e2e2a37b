"""Query parameters the API's write routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

ExpectedVersion = Annotated[
    int | None,
    Query(ge=1, description="Refuse with 409 unless the record is still at this version."),
]
