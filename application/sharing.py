"""For those who see records under consents: the patients sharing with them."""

from __future__ import annotations

from typing import Any

from anyio import to_thread

from application.reading import ReadRequest, viewer_of
from application.services import Services
from domain.consent import Purpose
from domain.users import User


async def shared_with(services: Services, user: User, purpose: Purpose) -> list[dict[str, Any]]:
    """Each patient whose record this user may read for `purpose`; each listing is a
    recorded read of that patient's summary. (It asks every patient: fine for a practice;
    an index of consents by recipient would be needed at scale.)"""
    patients = await to_thread.run_sync(services.reader.index.view.patients)
    reads = [ReadRequest(viewer_of(user), pid, "summary", purpose) for pid in patients]
    entries = []
    for patient_id, answer in zip(
        patients, await services.reads.read_listing(reads, user.actor), strict=True
    ):
        if answer is None:
            continue
        body = answer.json()
        person = body.get("patient") or {}
        entries.append(
            {
                "patient_id": patient_id,
                # Without demographics in the consent, the record's number stands in.
                "name": person.get("name") or f"Patient {str(patient_id)[:8]}",
                "birth_date": person.get("birth_date"),
                "identified": bool(person.get("name")),
                "classes": body["classes"],
            }
        )
    return entries
