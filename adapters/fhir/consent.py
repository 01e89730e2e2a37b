"""A patient's consent as an R4B Consent: a permit for its recipient, purpose and data
classes, with the deny provisions an ordinary consent carries (psychotherapy notes and
42 CFR Part 2 records need consents of their own)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID, uuid5

from fhir.resources.R4B.consent import Consent

from adapters.fhir.codes import (
    CONSENT_ACTION,
    CONSENT_PURPOSE_CODES,
    CONSENT_SCOPE,
    DATA_CLASS_CODES,
    HIPAA_AUTHORIZATION,
    LOINC,
    PART2_CONSENT,
    PART2_LABEL,
    PSYCHOTHERAPY_NOTE_LABEL,
    PURPOSE_OF_USE,
    RELEASE_OF_INFORMATION,
    RESOURCE_IDS,
    USER_ID,
    V3_ACT_REASON,
    V3_PARTICIPATION_TYPE,
    security_labels,
)
from adapters.fhir.datatypes import coding, patient_reference, period, uuid_identifier
from adapters.fhir.errors import FhirRenderError, validated
from domain.vocabulary import DataClass


def consent_to_fhir(patient_id: UUID, terms: Mapping[str, Any]) -> dict[str, Any]:
    """A consent as an R4B Consent. `terms` has the fields of a ConsentGranted payload
    (consent_id, recipient_kind, recipient, data_classes, purpose, valid_from, valid_until,
    part2, ...; `dataclasses.asdict(ConsentTerms)` will do), optionally `granted_at`, and,
    for a consent that has ended, `ended_how` ("revoked" or "expired"); a grant payload
    merged with its ConsentRevoked payload (which adds `reason`) counts as revoked."""
    try:
        consent_id = UUID(str(terms["consent_id"]))
        classes = [str(DataClass(c)) for c in terms["data_classes"]]
        part2 = bool(terms["part2"])
        purpose = str(terms["purpose"])
        ended = terms.get("ended_how") in ("revoked", "expired") or "reason" in terms
        provision: dict[str, Any] = {
            "type": "permit",
            "period": period(terms["valid_from"], terms.get("valid_until")),
            "actor": [
                {
                    "role": {
                        "coding": [coding(V3_PARTICIPATION_TYPE, "IRCP", "information recipient")]
                    },
                    "reference": _recipient(str(terms["recipient_kind"]), str(terms["recipient"])),
                }
            ],
            "action": [
                {"coding": [coding(CONSENT_ACTION, "access", "Access")]},
                {"coding": [coding(CONSENT_ACTION, "disclose", "Disclose")]},
            ],
            "purpose": [_purpose(purpose)],
            "code": [{"coding": [coding(DATA_CLASS_CODES, c, c)], "text": c} for c in classes],
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise FhirRenderError("Consent", f"the consent terms lack or garble {exc}") from exc
    # What an ordinary consent does not reach, whatever else it names: psychotherapy notes
    # need their own authorization (45 CFR 164.508(a)(2)), Part 2 records a Part 2 consent
    # (42 CFR 2.31), which reaches the Part 2 records of the kinds it names.
    denied = []
    if DataClass.PSYCHOTHERAPY_NOTE not in classes:
        denied.append(dict(PSYCHOTHERAPY_NOTE_LABEL))
    if not part2:
        denied.append(dict(PART2_LABEL))
    if denied:
        provision["provision"] = [{"type": "deny", "securityLabel": [label]} for label in denied]
    policies = [{"uri": HIPAA_AUTHORIZATION}]
    if part2:
        policies.append({"uri": PART2_CONSENT})
    resource: dict[str, Any] = {
        "resourceType": "Consent",
        "id": str(uuid5(RESOURCE_IDS, f"{patient_id}/consent/{consent_id}")),
        "meta": {"security": security_labels(DataClass.SUD if part2 else DataClass.CONSENT)},
        "identifier": [uuid_identifier(consent_id)],
        "status": "inactive" if ended else "active",
        "scope": {"coding": [coding(CONSENT_SCOPE, "patient-privacy", "Privacy Consent")]},
        "category": [
            {"coding": [coding(LOINC, RELEASE_OF_INFORMATION, "Release of information consent")]}
        ],
        "patient": patient_reference(patient_id),
        "performer": [patient_reference(patient_id)],
        # ppc-1: a policy or a policy rule.
        "policy": policies,
        "provision": provision,
    }
    if terms.get("granted_at") is not None:
        resource["dateTime"] = terms["granted_at"]
    if part2:
        resource["policyRule"] = {"coding": [dict(PART2_LABEL)]}
    return validated("Consent", Consent, resource)


def _recipient(kind: str, recipient: str) -> dict[str, Any]:
    if kind == "user":
        return {"identifier": {"system": USER_ID, "value": recipient}, "display": recipient}
    if kind == "organisation":
        return {"type": "Organization", "display": recipient}
    raise ValueError(f"recipient_kind {kind!r}")


def _purpose(purpose: str) -> dict[str, str]:
    known = PURPOSE_OF_USE.get(purpose)
    if known is not None:
        return coding(V3_ACT_REASON, *known)
    return coding(CONSENT_PURPOSE_CODES, purpose, purpose)
