"""CSV exports of compliance answers, shared by the API and the compliance pages.

This is the one CSV writer. Free text (a break-the-glass reason, a reviewer's note, a name)
that a spreadsheet would take for a formula is neutralised here (OWASP "CSV injection"): a
cell starting with = + - @, a tab or a carriage return gets a leading single quote, so it
opens as the text it is and never runs."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from fastapi.responses import Response
from pydantic import BaseModel

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """A value as a CSV cell: lists joined with |, text that could run as a formula quoted."""
    if isinstance(value, list):
        value = "|".join(map(str, value))
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_response(models: Sequence[BaseModel]) -> Response:
    out = io.StringIO()
    if models:
        fields = list(type(models[0]).model_fields)
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        for m in models:
            writer.writerow({k: cell(v) for k, v in m.model_dump(mode="json").items()})
    return Response(out.getvalue(), media_type="text/csv")
