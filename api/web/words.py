"""The record's vocabulary in plain words, for the patient's pages: the data classes, the
purposes, and what each read of their record looked at (their access log).

The words are the pages' alone: the answers they describe keep the codes (a view kind,
its sections, a class, a basis), so that a change of wording never changes a recorded
answer's bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

from api.web import local_time
from application.reading import PAGE_KINDS
from domain.consent import RECORD_CLASSES, Purpose
from domain.vocabulary import DataClass

CLASS_WORDS: dict[str, str] = {
    DataClass.DEMOGRAPHICS: "Demographics (name, birth date, language)",
    DataClass.CARE_TEAM: "Care team",
    DataClass.CARE_PLAN: "Care plan and diagnoses",
    DataClass.APPOINTMENT: "Appointments",
    DataClass.PROGRESS_NOTE: "Progress notes",
    DataClass.PSYCHOTHERAPY_NOTE: "Psychotherapy notes (only on their own)",
    DataClass.MEDICATION: "Medications",
    DataClass.LAB: "Lab results",
    DataClass.MEASURE: "Questionnaire scores and sleep logs",
    DataClass.FUNCTIONAL: "Functional (school and work) recommendations",
    DataClass.SAFETY: "Safety assessments",
    DataClass.SUD: "Every kind of record from your substance use program (42 CFR Part 2)",
    DataClass.MESSAGE: "Messages between your clinicians",
    DataClass.CONSENT: "Your consents",
}
CLASS_ORDER = [c.value for c in DataClass if c in RECORD_CLASSES]
PURPOSE_WORDS: dict[str, str] = {
    Purpose.TREATMENT: "Treatment",
    Purpose.CARE_COORDINATION: "Care coordination",
    Purpose.PAYMENT: "Payment",
    Purpose.OPERATIONS: "Health care operations",
    Purpose.EDUCATION_SUPPORT: "Support at school or college",
    Purpose.RETURN_TO_WORK: "Return to work",
    Purpose.FAMILY_SUPPORT: "Support from family",
    Purpose.RIGHT_OF_ACCESS: "Your own copy of your record",
}
# The purposes a consent may be given for (the consent form's choices).
CONSENT_PURPOSE_WORDS = {
    p: words for p, words in PURPOSE_WORDS.items() if p != Purpose.RIGHT_OF_ACCESS
}

# What a read of each view kind looked at (application.compliance's `_what` names the same
# kinds for the reviewer: a paged kind as one page of the kind it pages, a composite with
# its sections).
VIEW_WORDS: dict[str, str] = {
    "view": "your record, as their role sees it",
    "view-page": "your record, as their role sees it",
    "summary": "a summary of your record",
    "timeline": "the timeline of your record",
    "timeline-page": "the timeline of your record",
    "events": "the entries of your record, in full",
    "events-page": "the entries of your record, in full",
    "consents": "your consents",
    "consent-terms": "your consents",
    "consent-list": "your consents",
    "care": "your care items (what is due, alerts)",
    "care-items": "your care items (what is due, alerts)",
    "board-items": "your line on the care team's board (what is due, alerts)",
    "outcomes": "your questionnaire scores and other outcomes",
    "scored-outcomes": "your questionnaire scores and other outcomes",
    "medications": "your medication history",
    "identity": "your name, MRN and birth date (finding you in a search)",
    "appointments": "your appointments (a schedule)",
    "patient-page": "your patient page",
    "own-page": "your own page",
    "own-portal": "your own page",
    "own-access-log": "who has seen your record",
    "record-export": "a copy of your whole record",
}
SECTION_WORDS: dict[str, str] = {
    "view": "the record",
    "care": "care items",
    "outcomes": "scores",
    "medications": "medications",
    "events": "entries",
    "consents": "consents",
    "access-log": "who has seen it",
}
BASIS_WORDS: dict[str, str] = {
    "treating-team": "As a member of your care team",
    "consent": "Under your consent",
    "break-the-glass": "In an emergency, without your consent",
    "own-record": "You",
}
ROLE_WORDS: dict[str, str] = {
    "therapist": "therapist",
    "prescriber": "prescriber",
    "primary-care": "primary care",
    "school-counselor": "school counselor",
    "employer": "employer (occupational health)",
    "supporter": "supporter",
    "patient": "patient",
}


def what_was_read(view: str, sections: Sequence[str] = ()) -> str:
    """A read's view in words: a paged kind as one page of it, a page with its sections."""
    words = VIEW_WORDS.get(view, view)
    if sections:
        words += f" ({', '.join(SECTION_WORDS.get(s, s) for s in sections)})"
    elif view in PAGE_KINDS:
        words += " (one page)"
    return words


def consent_words(consent: dict[str, Any]) -> str:
    """A consent a read relied on, as the patient gave it."""
    if consent.get("recipient") is None:
        return f"consent {consent['consent_id']}"
    classes = [CLASS_WORDS.get(c, c) for c in consent.get("data_classes") or []]
    purpose = PURPOSE_WORDS.get(consent.get("purpose") or "", consent.get("purpose") or "")
    part2 = " (42 CFR Part 2)" if consent.get("part2") else ""
    return f"your consent to {consent['recipient']}{part2}: {', '.join(classes)}, for {purpose}"


def reads_shown(log: dict[str, Any], zone: tzinfo | None) -> list[dict[str, Any]]:
    """The reads of an own-access-log answer in words, times in the clinic's zone."""
    shown = []
    for read in log.get("reads") or []:
        shown.append(
            {
                "position": read["position"],
                "when": local_time(read["at"], zone),
                "who": read.get("name") or read["user_id"],
                "user_id": read["user_id"],
                "role": ROLE_WORDS.get(read["role"], read["role"]),
                "organisation": read["organisation"],
                "what": what_was_read(read["view"], read.get("sections") or ()),
                "classes": [
                    CLASS_WORDS.get(c, c) for c in CLASS_ORDER if c in (read.get("classes") or [])
                ],
                "purpose": PURPOSE_WORDS.get(read["purpose"], read["purpose"]),
                "basis": BASIS_WORDS.get(read["basis"], read["basis"]),
                "emergency": read.get("emergency_reason"),
                "consents": [consent_words(c) for c in read.get("consents") or []],
            }
        )
    return shown
