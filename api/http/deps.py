"""Query parameters the API's routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

ExpectedVersion = Annotated[
    int | None,
    Query(ge=1, description="Refuse with 409 unless the record is still at this version."),
]
MinPosition = Annotated[
    int | None,
    Query(
        ge=1,
        description="Wait (up to 10 s) until the answer reflects this log position "
        "(a write's receipt, or a read's X-Access-Position): read-your-writes.",
    ),
]
