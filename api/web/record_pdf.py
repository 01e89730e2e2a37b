"""The patient's whole record as a PDF: the record-export answer (application.portal), drawn
on paper and nothing else. What the export leaves out (a psychotherapy note above all) is
not in the answer, so it cannot reach the paper; the JSON download is the same answer as
recorded, byte for byte."""

from __future__ import annotations

from datetime import date, tzinfo
from typing import Any

from api.web import local_time
from api.web.report import COMPRESS, Paper, heading, latin1, para
from api.web.words import CLASS_WORDS, PURPOSE_WORDS

INTRO = (
    "Everything your clinic keeps in your record, yours to keep (your right of access, "
    "45 CFR 164.524). Psychotherapy notes are not part of it. Each entry is shown as it was "
    "recorded, with any correction beside it; the JSON download holds the same entries with "
    "every detail."
)


def _entry(entry: dict[str, Any], zone: tzinfo | None) -> str:
    line = (
        f"{local_time(entry['clinical_time'], zone)} - "
        f"{CLASS_WORDS.get(entry['data_class'], entry['data_class'])}: {entry['summary']} "
        f"(by {entry['author']}, {entry['author_role']})"
    )
    correction = entry.get("correction")
    if correction:
        line += f" [{correction['status']}: {correction['reason']}]"
    return line


def _consent(consent: dict[str, Any]) -> str:
    classes = ", ".join(CLASS_WORDS.get(c, c) for c in consent["data_classes"])
    purpose = PURPOSE_WORDS.get(consent["purpose"], consent["purpose"])
    until = f" until {consent['valid_until'][:10]}" if consent.get("valid_until") else ""
    state = "in force" if consent["in_force"] else (consent.get("ended") or "not in force")
    who = consent.get("recipient_name") or consent["recipient"]
    return f"- {who}: {classes}, for {purpose}, from {consent['valid_from'][:10]}{until} ({state})"


def record_pdf(export: dict[str, Any], printed: date, zone: tzinfo | None) -> bytes:
    """The PDF of one record-export answer, printed on `printed`, times in `zone`."""
    patient = export.get("patient") or {}
    pdf = Paper(format="A4")
    pdf.set_compression(COMPRESS)
    pdf.set_title(latin1(f"Health record: {patient.get('name') or 'patient'}"))
    pdf.set_author("Tandem")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_margins(18, 16, 18)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, "My health record", new_x="LMARGIN", new_y="NEXT")
    details = [str(patient.get("name") or "Patient")]
    if patient.get("mrn"):
        details.append(f"MRN {patient['mrn']}")
    if patient.get("birth_date"):
        details.append(f"born {patient['birth_date']}")
    details.append(f"printed {printed.isoformat()}")
    para(pdf, " - ".join(details), style="B")
    para(pdf, INTRO, size=9.5)
    heading(pdf, f"Entries ({len(export.get('entries') or [])})")
    for entry in export.get("entries") or []:
        para(pdf, _entry(entry, zone), size=9)
    heading(pdf, "Consents I have given")
    given = export.get("consents_given") or []
    if not given:
        para(pdf, "None.")
    for consent in given:
        para(pdf, _consent(consent), size=9)
    if export.get("consent_events"):
        para(pdf, "History of my consents:", size=9, style="B")
    for event in export.get("consent_events") or []:
        para(pdf, f"{local_time(event['clinical_time'], zone)} - {event['summary']}", size=9)
    return bytes(pdf.output())
