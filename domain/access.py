"""The access policy: the one place that decides who may read a patient's record.

Deny by default. `decide` is a pure function of who is asking, the patient's care team, the
patient's consents and the moment and purpose of the read; it answers with a `Decision`
naming its basis, the data classes it opens, and the consents it relies on, and
`Decision.permits` settles each event. Every rule below names its source (see
clinical/privacy.md and DESIGN.md, "The people and what they need"):

- Minimum necessary (45 CFR 164.502(b), 164.514(d)): each role sees the classes it needs.
- compliance: audit records only, never clinical content (164.312(b); DESIGN.md).
- therapist on the team: the whole treating record; prescriber on the team: medications,
  labs, measures, notes, safety, plan and the rest of DESIGN.md's list.
- patient: their own record except psychotherapy notes (164.524(a)(1)(i)); SUD records
  included (42 CFR 2.23).
- primary care, school counselor, employer, supporter, and clinicians not (or no longer) on
  the team: only what consents in force at that moment give them, for that purpose
  (164.508; 42 CFR 2.31, 2.33), capped for schools (FERPA, 34 CFR Part 99) and employers.
- psychotherapy notes: their author, else only under their own consent (164.508(a)(2),
  (b)(3)(ii)); SUD counseling notes under a Part 2 one (42 CFR 2.31).
- SUD records: Part 2 program staff (42 CFR 2.12(c)(3)), the patient, and recipients of a
  Part 2 consent, whose disclosure carries the 2.32 notice.
- break-the-glass: a clinician's emergency read with a stated reason (42 CFR 2.51;
  164.506(c) treatment); the caller records it and queues it for review.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from domain.consent import (
    RECORD_CLASSES,
    REDISCLOSURE_NOTICE,
    ConsentTerms,
    PatientConsents,
    Purpose,
)
from domain.directory import Directory
from domain.errors import AccessDenied, InvalidInput, NotAnAuditor, NotAPatient
from domain.events import Actor
from domain.vocabulary import CLINICIAN_ROLES, TREATING_ROLES, DataClass, Role

if TYPE_CHECKING:
    from domain.record import Membership, RecordBase

Basis = Literal["treating-team", "own-record", "consent", "break-the-glass", "none"]

_NOTES = DataClass.PSYCHOTHERAPY_NOTE
_SUD = DataClass.SUD

# The treating therapist: the whole treating record (DESIGN.md). Psychotherapy notes are in
# the set for the therapist's own notes; others' need a consent (Decision.permits). Part 2
# records need a Part 2 program or consent (42 CFR 2.12, 2.31: Decision.part2_classes).
THERAPIST_CLASSES = RECORD_CLASSES - {_SUD}
# The treating prescriber: what prescribing and monitoring need (DESIGN.md; minimum
# necessary, 164.502(b)); never psychotherapy notes without their own consent.
PRESCRIBER_CLASSES = frozenset(
    {
        DataClass.MEDICATION,
        DataClass.LAB,
        DataClass.MEASURE,
        DataClass.PROGRESS_NOTE,
        DataClass.SAFETY,
        DataClass.CARE_PLAN,
        DataClass.DEMOGRAPHICS,
        DataClass.CARE_TEAM,
        DataClass.APPOINTMENT,
        DataClass.MESSAGE,
        DataClass.FUNCTIONAL,
        DataClass.CONSENT,
    }
)
TEAM_CLASSES: Mapping[Role, frozenset[DataClass]] = {
    Role.THERAPIST: THERAPIST_CLASSES,
    Role.PRESCRIBER: PRESCRIBER_CLASSES,
}
# The patient's right of access excludes psychotherapy notes (164.524(a)(1)(i)); it
# includes their SUD records (42 CFR 2.23).
OWN_RECORD_CLASSES = RECORD_CLASSES - {_NOTES, _SUD}
# An emergency read (42 CFR 2.51) opens everything but psychotherapy notes, which need their
# own authorization even for treatment (164.508(a)(2)); Part 2 records of those classes too.
EMERGENCY_CLASSES = RECORD_CLASSES - {_NOTES, _SUD}
# The most a consent can open for each role, whatever it lists. A school's copy becomes an
# education record that parents may see (FERPA, 20 USC 1232g; 34 CFR Part 99): functional
# recommendations and progress markers only, never a diagnosis (care plan) or a note. An
# employer needs the functional (return-to-work) recommendations only (164.502(b)).
CONSENT_CAPS: Mapping[Role, frozenset[DataClass]] = {
    Role.SCHOOL_COUNSELOR: frozenset({DataClass.FUNCTIONAL, DataClass.MEASURE}),
    Role.EMPLOYER: frozenset({DataClass.FUNCTIONAL}),
    Role.PRIMARY_CARE: RECORD_CLASSES,
    Role.SUPPORTER: RECORD_CLASSES,
    # Clinicians not (or no longer) on the team: the patient's authorization sets the scope
    # (minimum necessary does not apply to disclosures under one, 164.502(b)(2)(iii)).
    Role.THERAPIST: RECORD_CLASSES,
    Role.PRESCRIBER: RECORD_CLASSES,
}

# Every role that may read clinical content on some basis. Compliance reviewers see audit
# records, never clinical content (164.312(b); DESIGN.md); the system reads nothing here.
READER_ROLES = CLINICIAN_ROLES | CONSENT_CAPS.keys() | {Role.PATIENT}


@dataclass(frozen=True)
class Viewer:
    """Who is reading: the account, the role it acts in, and, for a patient or supporter
    account, the patient it belongs to."""

    user_id: str
    role: Role
    organisation: str
    patient_id: UUID | None = None


@dataclass(frozen=True)
class EventFacts:
    """What the policy needs to know about one event to decide on it."""

    data_class: DataClass
    author: str
    sud_counseling: bool = False
    # A 42 CFR Part 2 record (RecordEvent.part2): it needs a Part 2 basis for its class.
    part2: bool = False


@dataclass(frozen=True)
class Decision:
    """The answer to one read: on what basis, which classes, under which consents."""

    patient_id: UUID
    viewer: Viewer
    at: datetime
    purpose: Purpose
    basis: Basis
    # The classes this viewer may see, before the per-event rules of `permits`.
    classes: frozenset[DataClass]
    # The consents relied on (42 CFR 2.25 and 164.528 account for disclosures under them).
    consents: tuple[UUID, ...]
    # A psychotherapy-note consent to this viewer is in force...
    psychotherapy_consent: bool
    # ...and it is a Part 2 one, so it covers SUD counseling notes too.
    sud_counseling_consent: bool
    # The 42 CFR 2.32 notice, when SUD records may be disclosed under consent.
    notice: str | None
    # The classes whose Part 2 records this viewer may see: Part 2 program staff, the
    # patient, an emergency reader, or a Part 2 consent naming the class (42 CFR 2.31(a)(3)).
    part2_classes: frozenset[DataClass] = frozenset()

    @property
    def allowed(self) -> bool:
        return self.basis != "none"

    def permits(self, facts: EventFacts) -> bool:
        """Whether this viewer may see one event."""
        if facts.data_class == _NOTES:
            # A psychotherapy note: its author may use it to treat (164.508(a)(2)(i)(A))
            # while on the treating team; anyone else needs its own consent (164.508(a)(2),
            # (b)(3)(ii)), a Part 2 one for an SUD counseling note (42 CFR 2.31).
            if self.basis == "treating-team" and facts.author == self.viewer.user_id:
                return True
            if _NOTES not in self.classes or not self.psychotherapy_consent:
                return False
            return self.sud_counseling_consent or not facts.sud_counseling
        if facts.part2:
            return facts.data_class in self.part2_classes
        return facts.data_class in self.classes


def decide(
    viewer: Viewer,
    patient_id: UUID,
    team: Mapping[str, Membership],
    consents: PatientConsents | None,
    at: datetime,
    purpose: Purpose = Purpose.TREATMENT,
    emergency_reason: str | None = None,
    directory: Directory | None = None,
) -> Decision:
    """Decide what `viewer` may read of the patient's record at `at`, for `purpose`.

    `team` is the patient's care team (RecordState.team) and `consents` their consents as
    they stand now (or None if they have given none); both are read fresh for every access,
    so a revocation counts from the very next read. A blank emergency reason is refused.

    `directory` is the directory of recipients (domain.directory): a consent counts only
    through the entry it names, and one that names none opens nothing. Every read and the
    relay pass it; None is the rule that held before the directory (free-text recipients),
    kept for replaying the reads recorded then.
    """
    if consents is not None and consents.patient_id != patient_id:
        raise ValueError(f"consents of patient {consents.patient_id} used for {patient_id}")

    def decision(
        basis: Basis,
        classes: frozenset[DataClass] = frozenset(),
        relied: Sequence[UUID] = (),
        notes: bool = False,
        sud_notes: bool = False,
        notice: str | None = None,
        part2_classes: frozenset[DataClass] | None = None,
    ) -> Decision:
        return Decision(
            patient_id,
            viewer,
            at,
            purpose,
            basis,
            classes,
            tuple(relied),
            notes,
            sud_notes,
            notice,
            classes if part2_classes is None else part2_classes,
        )

    if emergency_reason is not None and not emergency_reason.strip():
        # 42 CFR 2.51(c)(4): the nature of the emergency is recorded at once.
        raise InvalidInput.single("reason", "an emergency read states its reason")
    if viewer.role not in READER_ROLES:
        return decision("none")  # deny by default
    if emergency_reason is not None and viewer.role in CLINICIAN_ROLES:
        return decision("break-the-glass", EMERGENCY_CLASSES)
    if viewer.role == Role.PATIENT:
        if viewer.patient_id == patient_id:
            return decision("own-record", OWN_RECORD_CLASSES)
        return decision("none")

    # Membership counts only while active and in the role the viewer acts in; otherwise
    # the viewer falls back to what consents give them.
    member = team.get(viewer.user_id)
    if member is not None and not (member.active and member.role == viewer.role):
        member = None
    part2_base: frozenset[DataClass] = frozenset()
    if member is not None and viewer.role in TREATING_ROLES:
        basis: Basis = "treating-team"
        base = TEAM_CLASSES[viewer.role]
        if member.part2_program:
            # Staff of a Part 2 program use its records to treat (42 CFR 2.12(c)(3)).
            part2_base = base
    elif viewer.role == Role.SUPPORTER and member is None:
        return decision("none")  # a supporter acts only as a member of the team (DESIGN.md)
    else:
        basis, base = "consent", frozenset()

    granted = consents.in_force(at) if consents is not None else []
    if directory is not None:
        granted = directory.resolve_all(granted)
    cap = CONSENT_CAPS[viewer.role]
    offered = [
        (terms, _opened_by(terms, cap), _part2_opened_by(terms, cap))
        for terms in granted
        if _names(terms, viewer) and terms.purpose == purpose
    ]
    classes, part2_classes = set(base), set(part2_base)
    relied: list[UUID] = []
    notes = sud_notes = False
    notice = None
    # Psychotherapy-note consents first, a Part 2 one before others: it covers more.
    for terms, opens, part2_opens in sorted(
        offered, key=lambda o: (_NOTES not in o[1], not o[0].part2)
    ):
        if _NOTES in opens:
            if notes and (sud_notes or not terms.part2):
                continue  # adds nothing to a consent already relied on
            notes, sud_notes = True, sud_notes or terms.part2
        elif not opens - classes and not part2_opens - part2_classes:
            continue
        relied.append(terms.consent_id)
        if part2_opens - part2_base or (_NOTES in opens and terms.part2):
            # 42 CFR 2.32: every disclosure under a Part 2 consent carries the notice.
            notice = terms.notice or REDISCLOSURE_NOTICE
        classes |= opens
        part2_classes |= part2_opens
    if basis == "consent" and not classes and not part2_classes:
        return decision("none")
    return decision(
        basis, frozenset(classes), relied, notes, sud_notes, notice, frozenset(part2_classes)
    )


def _names(terms: ConsentTerms, viewer: Viewer) -> bool:
    """Whether a consent names this viewer: as a user (by email) or by their organisation
    (42 CFR 2.31(a)(4) allows naming an entity)."""
    if terms.recipient_kind == "user":
        return terms.recipient.lower() == viewer.user_id.strip().lower()
    return terms.recipient == viewer.organisation


def _opened_by(terms: ConsentTerms, cap: frozenset[DataClass]) -> frozenset[DataClass]:
    """The classes whose ordinary (not Part 2) records a consent opens to this role.

    The policy defends itself against stored terms the consents aggregate would refuse
    (an older or altered event): psychotherapy notes combined with anything else make the
    whole authorization invalid (45 CFR 164.508(b)(3)(ii)), so it opens nothing.
    """
    if _mixes_notes(terms):
        return frozenset()
    return terms.data_classes & cap - {_SUD}


def _mixes_notes(terms: ConsentTerms) -> bool:
    """Psychotherapy notes combined with anything else: not a valid authorization at all."""
    return _NOTES in terms.data_classes and len(terms.data_classes) > 1


def _part2_opened_by(terms: ConsentTerms, cap: frozenset[DataClass]) -> frozenset[DataClass]:
    """The classes whose Part 2 records a consent opens: only a consent with Part 2's
    required elements (42 CFR 2.31), whatever was stored, and only the kinds it names
    (2.31(a)(3)). `sud` names every kind a Part 2 program makes; an SUD counseling note
    still needs a psychotherapy-note consent of its own (`Decision.permits`). A role whose
    cap leaves `sud` out (a school, an employer) gets no Part 2 record under any consent."""
    if not terms.part2 or _SUD not in cap or _mixes_notes(terms):
        return frozenset()
    if _SUD in terms.data_classes:
        return cap - {_SUD, _NOTES}
    return terms.data_classes & cap - {_SUD, _NOTES}


def may_manage_consents(viewer: Viewer, patient_id: UUID, team: Mapping[str, Membership]) -> bool:
    """Who may grant, amend, revoke or expire a patient's consents: the patient, who signs
    them (45 CFR 164.508(c)(1)(vi); 42 CFR 2.31(a)(8)) and revokes them in writing
    (164.508(b)(5)), or an active treating-team member documenting such a writing."""
    if viewer.role == Role.PATIENT:
        return viewer.patient_id == patient_id
    member = team.get(viewer.user_id)
    return (
        member is not None
        and member.active
        and member.role == viewer.role
        and member.role in TREATING_ROLES
    )


def check_auditor(viewer: Viewer) -> None:
    """Access records are for compliance reviewers (45 CFR 164.312(b), 164.308(a)(1)(ii)(D))."""
    if viewer.role != Role.COMPLIANCE:
        raise NotAnAuditor(viewer.user_id)


def own_patient_of(viewer: Viewer) -> UUID:
    """The patient whose record is the viewer's own: a patient's account only (NotAPatient
    for anyone else). What only the patient reads as theirs (their access log, the download
    of their right of access, 164.524) names no patient id: it is this one."""
    if viewer.role != Role.PATIENT or viewer.patient_id is None:
        raise NotAPatient(viewer.user_id)
    return viewer.patient_id


def denied(patient_id: UUID, why: str = "not permitted by the access policy") -> AccessDenied:
    """The one refusal for 'no such patient' and 'not yours to see': indistinguishable to
    the caller (`why` is kept only for compliance's record of refused reads)."""
    return AccessDenied(patient_id, why)


def check_treating_member(record: RecordBase, actor: Actor) -> None:
    """Writes by staff stay with the treating team (therapist, prescriber), active and in
    role."""
    member = record.state.team.get(actor.user_id)
    if (
        member is None
        or not member.active
        or member.role != actor.role
        or member.role not in TREATING_ROLES
    ):
        raise denied(record.id)


def check_record_writer(record: RecordBase, actor: Actor, own_patient: UUID | None) -> None:
    """Who may write to a patient's record at all, decided on the state the command runs
    on: the active treating team (`check_treating_member`), or a patient on their own
    record only (`own_patient`: the patient their account belongs to, `User.patient_id`),
    as the patient has the right to add to it (what they answer, log and report, and their
    messages to the team).

    Which kinds of entry each may record is not decided here but by each event class's
    `authors`, which the record checks on the command (`RecordBase.check_may_author`, for
    the patient as an active member of their own care team in the role `patient`): a
    patient records a questionnaire, a sleep log, a side effect, adherence, a reported
    dose, a lapse or a message, and never a dose change, a note or a lab result. Any other
    record is refused exactly as one that does not exist."""
    if actor.role == Role.PATIENT:
        if own_patient is None or own_patient != record.id:
            raise denied(record.id)
        return
    if actor.role == Role.SUPPORTER:
        # A supporter the team added (with the patient's agreement) records what they were
        # taught to watch for; the event classes' authors again decide which kinds.
        member = record.state.team.get(actor.user_id)
        if member is None or not member.active or member.role != Role.SUPPORTER:
            raise denied(record.id)
        return
    check_treating_member(record, actor)
