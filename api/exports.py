"""CSV exports of compliance answers, shared by the API and the compliance pages."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from fastapi.responses import Response
from pydantic import BaseModel


def csv_response(models: Sequence[BaseModel]) -> Response:
    out = io.StringIO()
    if models:
        fields = list(type(models[0]).model_fields)
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        for m in models:
            writer.writerow(
                {
                    k: ("|".join(map(str, v)) if isinstance(v, list) else v)
                    for k, v in m.model_dump(mode="json").items()
                }
            )
    return Response(out.getvalue(), media_type="text/csv")
