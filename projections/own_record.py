"""What a patient reads of their own record as theirs: who has seen it, and a copy of it.
Pure functions, like projections.role_views: the same rows, access records, consents,
names, decision and position give the same bytes, so each read replays exactly.

- "own-access-log": the reads of the patient's record (from the access records the one
  audited read leaves), newest first, a page at a time (`role_views.Page`: the records
  before a log position, at most `size`): when, who (account, name, role, organisation),
  what (the view, its sections, the data classes it returned), for what purpose, on what
  basis, the consents relied on (each with the recipient, purpose and classes it named at
  the time of the read) and an emergency's stated reason. The patient's own reads are left
  out (each visit of their page would list itself), and so is any psychotherapy note among
  the classes: they are not the patient's to see (45 CFR 164.524(a)(1)(i)), nor is the
  fact that a read showed one.
- "record-export": the right of access (45 CFR 164.524): the patient's designated record
  set as the patient's own view opens it: their details, every entry with its payload and
  any correction's mark (as "events" shows them), their consents' history and every
  consent given (as "consent-list" does). Psychotherapy notes are never in it, whatever
  the decision: the export drops every row of that class before anything is built.
- "own-portal": everything the patient's own page (/me) shows, in one answer: own-page's
  sections, each as own-page builds it, and "access-log", the own-access-log of the page
  asked for. ("own-page" keeps its builder for the replays of reads answered with it.)

Only a patient's own account reads these (`OWN_ONLY_KINDS`: the reader refuses them on
any basis but "own-record").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo
from typing import Any
from uuid import UUID

from domain.access import Decision
from domain.consent import PatientConsents
from domain.consent_terms import ConsentTerms
from domain.record import kind_of
from domain.therapy import PsychotherapyNoteWritten
from domain.vocabulary import DataClass
from projections import role_views
from projections.record_index import AccessRow, ConsentRow, EventRow

OWN_ACCESS_LOG = "own-access-log"
RECORD_EXPORT = "record-export"
OWN_PORTAL = "own-portal"
KINDS = (OWN_ACCESS_LOG, RECORD_EXPORT, OWN_PORTAL)
# Read by the patient's own account alone.
OWN_ONLY_KINDS = frozenset(KINDS)
# The kinds built from the patient's access records, a page of them at a time.
LOG_KINDS = frozenset({OWN_ACCESS_LOG, OWN_PORTAL})
# The bases whose reads the access log leaves out: the patient's own.
NOT_LISTED = ("own-record",)
# What the export never holds, whatever the decision permits (45 CFR 164.524(a)(1)(i)).
NEVER_EXPORTED = DataClass.PSYCHOTHERAPY_NOTE.value
_NOTE = kind_of(PsychotherapyNoteWritten)


def exported(rows: Sequence[EventRow]) -> list[EventRow]:
    """The rows an export may hold: none of a psychotherapy note (their corrections carry
    the note's class, so they go too)."""
    return [r for r in rows if r.data_class != NEVER_EXPORTED and r.kind != _NOTE]


def _consent(consent_id: UUID, terms: ConsentTerms | None) -> dict[str, Any]:
    if terms is None:  # not among the patient's consents (it cannot be, but say so)
        return {"consent_id": str(consent_id), "recipient": None}
    return {
        "consent_id": str(consent_id),
        "recipient_kind": terms.recipient_kind,
        "recipient": terms.recipient,
        "purpose": terms.purpose.value,
        "data_classes": sorted(c.value for c in terms.data_classes),
        "part2": terms.part2,
    }


def _read(
    row: AccessRow, consents: PatientConsents | None, names: Mapping[str, str | None]
) -> tuple[dict[str, Any], bool]:
    """One read as the patient's access log shows it, and whether it names a consent's
    terms (consent data)."""
    relied = [
        _consent(c, consents.recorded_terms_at(c, row.at) if consents is not None else None)
        for c in row.consents
    ]
    return {
        "access_id": str(row.access_id),
        "position": row.position,
        "at": row.at.isoformat(),
        "user_id": row.user_id,
        "name": names.get(row.user_id),
        "role": row.role,
        "organisation": row.organisation,
        "view": row.view,
        "sections": list(row.sections),
        "classes": [c for c in row.classes if c != NEVER_EXPORTED],
        "purpose": row.purpose,
        "basis": row.basis,
        "consents": relied,
        "emergency_reason": row.emergency_reason,
        "part2": row.part2,
    }, any(c["recipient"] is not None for c in relied)


def access_log(
    patient_id: UUID,
    decision: Decision,
    position: int,
    accesses: Sequence[AccessRow],
    consents: PatientConsents | None,
    names: Mapping[str, str | None],
    page: role_views.Page,
) -> tuple[dict[str, Any], frozenset[str]]:
    """The own-access-log answer from one page of the patient's access records, newest
    first (`accesses`: the page's records and, if there is one, the next record after it,
    which only says that an older page exists)."""
    taken = list(accesses[: page.size])
    body = role_views.header(OWN_ACCESS_LOG, patient_id, decision, position)
    shown = [_read(r, consents, names) for r in taken]
    body["reads"] = [read for read, _ in shown]
    body["page"] = {
        "before": page.before,
        "size": page.size,
        "count": len(taken),
        "next_before": taken[-1].position if len(accesses) > page.size else None,
    }
    classes = {DataClass.AUDIT.value} if taken else set()
    if any(named for _, named in shown):
        classes.add(DataClass.CONSENT.value)
    body["classes"] = sorted(classes)
    body["part2"] = False  # the log says who read, not what: no Part 2 record is in it
    return body, frozenset(classes)


def record_export(
    patient_id: UUID,
    rows: list[EventRow],
    decision: Decision,
    position: int,
    consent_rows: list[ConsentRow],
    listed: Sequence[dict[str, Any]],
    view_format: int,
) -> tuple[dict[str, Any], frozenset[str]]:
    """The record-export answer: the patient's details, every entry (with its payload and
    correction mark) and their consents, built as the identity, events and consent-list
    views build them, from the rows without any psychotherapy note."""
    kept = exported(rows)

    def part(kind: str) -> tuple[dict[str, Any], frozenset[str]]:
        return role_views.build(
            kind, patient_id, kept, decision, position, consent_rows, (), listed, view_format
        )

    identity, accounted = part("identity")
    events, classes = part("events")
    consents, consent_classes = part("consent-list")
    body = role_views.header(RECORD_EXPORT, patient_id, decision, position)
    body["patient"] = identity.get("patient")
    body["entries"] = events.get("entries") or []
    body["consent_events"] = consents.get("consent_events") or []
    body["consents_given"] = consents.get("given") or []
    body["excluded"] = [NEVER_EXPORTED]
    accounted = accounted | classes | consent_classes
    body["classes"] = sorted(
        {c for b in (identity, events, consents) for c in b.get("classes") or []}
    )
    body["part2"] = bool(events.get("part2"))
    return body, accounted


def own_portal(
    patient_id: UUID,
    rows: list[EventRow],
    decision: Decision,
    position: int,
    consent_rows: list[ConsentRow] | None,
    consent_terms: Sequence[ConsentTerms],
    listed: Sequence[dict[str, Any]],
    view_format: int,
    zone: tzinfo | None,
    log: tuple[dict[str, Any], frozenset[str]],
) -> tuple[dict[str, Any], frozenset[str]]:
    """own-page's sections, each as own-page builds it, and the access log's page."""
    own, accounted = role_views.build(
        role_views.OWN_PAGE,
        patient_id,
        rows,
        decision,
        position,
        consent_rows,
        consent_terms,
        listed,
        view_format,
        None,
        zone,
    )
    sections = {**own["sections"], "access-log": log[0]}
    return role_views.composite(sections, OWN_PORTAL), accounted | log[1]
