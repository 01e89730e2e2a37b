"""Registration, demographics and the care team."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from pydantic import Field, ValidationInfo, field_validator

from domain.errors import InvalidInput, NotPermittedAuthor, RuleViolation
from domain.events import Actor, Aggregate
from domain.record import (
    ANY_TEAM_ROLE,
    TREATING,
    Membership,
    RecordBase,
    RecordEvent,
    check_clinical_date,
    check_clinical_time,
    parsed_flag,
    refuse_reserved,
    refused_fields,
)
from domain.vocabulary import DataClass, Role, Sex, ShortText, TelehealthPreference

_PATIENTS = uuid5(NAMESPACE_URL, "https://tandem.example/patients")
_MRN_CLAIMS = uuid5(NAMESPACE_URL, "https://tandem.example/mrn-claims")
REGISTRARS = frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.PRIMARY_CARE, Role.SYSTEM})
TEAM_KEEPERS = TREATING | {Role.SYSTEM}
MRN_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{2,31}$"
PHONE_PATTERN = r"^\+?[0-9][0-9 ().-]{5,30}$"
# The furthest ahead of UTC any place's calendar runs (UTC+14, Kiribati): a birth date is
# "in the future" only if it is after the date somewhere on Earth at the recording moment.
FURTHEST_AHEAD_OF_UTC = timedelta(hours=14)


def normal_mrn(mrn: str) -> str:
    """An MRN as it is compared: without surrounding space, case-insensitive."""
    return mrn.strip().lower()


def patient_id_for(mrn: str) -> UUID:
    """The id a patient registered before ids were random got from their MRN (uuid5), so
    anyone who knew the MRN could compute it. Those ids stay valid (they are stored), and
    the demo's fixed stories keep theirs; every other registration draws a random id
    (`PatientRecord.register`) and the MRN is found through its claim (`MrnClaim`)."""
    return uuid5(_PATIENTS, normal_mrn(mrn))


def mrn_claim_id(mrn: str, key: bytes) -> UUID:
    """The id of an MRN's claim: uuid5 of an HMAC-SHA256 of the MRN under `key`, so that
    without the key an MRN cannot be turned into its claim's id (nor tested against the
    ids stored). With an empty key it is a plain hash, computable from the MRN."""
    digest = hmac.new(key, normal_mrn(mrn).encode(), hashlib.sha256).hexdigest()
    return uuid5(_MRN_CLAIMS, digest)


class Demographics(RecordEvent):
    """Fields shared by registration and later updates."""

    given_name: ShortText
    family_name: ShortText
    birth_date: date
    sex_at_birth: Sex
    gender_identity: ShortText | None = None
    preferred_language: ShortText = "en"
    interpreter_needed: bool = False
    telehealth_preference: TelehealthPreference = TelehealthPreference.EITHER
    phone: ShortText | None = None
    email: ShortText | None = None

    @field_validator("birth_date")
    @classmethod
    def _birth_date_not_in_future(cls, value: date, info: ValidationInfo) -> date:
        # Compared with the event's own recorded time, not the wall clock, so that replaying
        # an old event gives the verdict it got when it was recorded (as clinical_time does).
        recorded = info.data.get("timestamp")
        if isinstance(recorded, datetime):
            latest = (recorded.astimezone(UTC) + FURTHEST_AHEAD_OF_UTC).date()
            if value > latest:
                raise ValueError(
                    f"is in the future ({value.isoformat()} is after the recording date "
                    f"{recorded.date().isoformat()})"
                )
        return value


class PatientRegistered(Demographics, Aggregate.Created):
    default_class: ClassVar[DataClass] = DataClass.DEMOGRAPHICS
    authors: ClassVar[frozenset[Role]] = REGISTRARS
    part2_eligible: ClassVar[bool] = False

    mrn: str = Field(pattern=MRN_PATTERN)

    def apply(self, aggregate: Any) -> None:
        aggregate.state.mrn = self.mrn
        aggregate.state.name = f"{self.given_name} {self.family_name}"
        aggregate.state.birth_date = self.birth_date

    def summary(self) -> str:
        return (
            f"registered {self.given_name} {self.family_name} (MRN {self.mrn}), "
            f"born {self.birth_date.isoformat()}, language {self.preferred_language}"
            f"{' with interpreter' if self.interpreter_needed else ''}, "
            f"prefers {self.telehealth_preference.value}"
        )


class MrnClaimed(Aggregate.Created):
    """A patient registered with this MRN (the claim's id is keyed on it)."""

    patient_id: UUID


class MrnClaim(Aggregate):
    """An MRN taken by one patient: its id follows from the MRN (`mrn_claim_id`) and it is
    stored in the same atomic write as the registration, so a second registration of the
    MRN collides with it and stores nothing (eventsourcing's uniqueness by aggregate id).
    It holds the patient's id, never the MRN itself."""

    def __init__(self, patient_id: UUID) -> None:
        self.patient_id = patient_id

    @classmethod
    def claim(cls, claim_id: UUID, by: Actor, at: datetime, patient_id: UUID) -> MrnClaim:
        claim: MrnClaim = cls._create(
            MrnClaimed,
            id=claim_id,
            actor=by,
            data_class=DataClass.DEMOGRAPHICS,
            clinical_time=at,
            patient_id=patient_id,
        )
        return claim


class DemographicsUpdated(Demographics):
    default_class: ClassVar[DataClass] = DataClass.DEMOGRAPHICS
    authors: ClassVar[frozenset[Role]] = REGISTRARS | {Role.PATIENT}
    part2_eligible: ClassVar[bool] = False

    def apply(self, aggregate: Any) -> None:
        aggregate.state.name = f"{self.given_name} {self.family_name}"
        aggregate.state.birth_date = self.birth_date

    def summary(self) -> str:
        return f"demographics updated ({self.given_name} {self.family_name})"


class CareTeamMemberAdded(RecordEvent):
    default_class: ClassVar[DataClass] = DataClass.CARE_TEAM
    authors: ClassVar[frozenset[Role]] = TEAM_KEEPERS

    user_id: ShortText
    role: Role
    organisation: ShortText
    part2_program: bool = False

    def apply(self, aggregate: Any) -> None:
        aggregate.state.team[self.user_id] = Membership(
            self.user_id, self.role, self.organisation, self.part2_program
        )

    def summary(self) -> str:
        program = " (42 CFR Part 2 program)" if self.part2_program else ""
        return f"{self.user_id} joined the care team as {self.role.value}, {self.organisation}{program}"


class CareTeamMemberRemoved(RecordEvent):
    default_class: ClassVar[DataClass] = DataClass.CARE_TEAM
    authors: ClassVar[frozenset[Role]] = TEAM_KEEPERS

    user_id: ShortText
    reason: ShortText

    def apply(self, aggregate: Any) -> None:
        aggregate.state.team[self.user_id].active = False

    def summary(self) -> str:
        return f"{self.user_id} left the care team: {self.reason}"


class EmergencyContactSet(RecordEvent):
    """Whom to call in an emergency (the last one set stands)."""

    default_class: ClassVar[DataClass] = DataClass.DEMOGRAPHICS
    authors: ClassVar[frozenset[Role]] = REGISTRARS | {Role.PATIENT}
    part2_eligible: ClassVar[bool] = False

    name: ShortText
    relationship: ShortText
    phone: ShortText = Field(pattern=PHONE_PATTERN)

    def summary(self) -> str:
        return f"emergency contact: {self.name} ({self.relationship})"


class RegistrationSection(RecordBase):
    """Commands for who the patient is and who cares for them."""

    @classmethod
    def register(
        cls, by: Actor, at: datetime, *, patient_id: UUID | None = None, **demographics: Any
    ) -> Any:
        """Open a patient's record, under a random id unless `patient_id` is given (the
        demo's fixed stories; never a caller's input)."""
        if by.role not in REGISTRARS:
            raise NotPermittedAuthor(
                f"a {by.role.value} may not register patients", field="actor.role"
            )
        refuse_reserved(demographics)
        mrn = demographics.get("mrn")
        if not isinstance(mrn, str):
            raise InvalidInput.single("mrn", "is required")
        check_clinical_time(at)
        check_clinical_date(demographics.get("birth_date"), "birth_date")
        with refused_fields():
            return cls._create(
                PatientRegistered,
                id=patient_id or uuid4(),
                actor=by,
                data_class=PatientRegistered.default_class,
                clinical_time=at,
                **demographics,
            )

    def set_emergency_contact(
        self, by: Actor, at: datetime, *, name: str, relationship: str, phone: str
    ) -> None:
        self._record(EmergencyContactSet, by, at, name=name, relationship=relationship, phone=phone)

    def update_demographics(self, by: Actor, at: datetime, **demographics: Any) -> None:
        refuse_reserved(demographics)
        check_clinical_date(demographics.get("birth_date"), "birth_date")
        self._record(DemographicsUpdated, by, at, **demographics)

    def add_team_member(
        self,
        by: Actor,
        at: datetime,
        *,
        user_id: str,
        role: Role,
        organisation: str,
        part2_program: bool = False,
    ) -> None:
        # Who may keep the team comes first: the checks below answer with who is on it, and
        # for a Part 2 program that answer itself discloses SUD treatment (42 CFR 2.11).
        self.check_may_author(CareTeamMemberAdded, by)
        current = self.state.team.get(user_id)
        if current is not None and current.active:
            raise RuleViolation(
                f"user {user_id} is already on the care team", patient_id=self.id, field="user_id"
            )
        if role not in ANY_TEAM_ROLE:
            raise InvalidInput.single("role", f"{role} cannot be a care-team role")
        in_program = parsed_flag("part2_program", part2_program)
        # Joining a Part 2 program's team itself discloses SUD treatment (42 CFR 2.11).
        self._record(
            CareTeamMemberAdded,
            by,
            at,
            sud_context=in_program,
            user_id=user_id,
            role=role,
            organisation=organisation,
            part2_program=in_program,
        )

    def remove_team_member(self, by: Actor, at: datetime, *, user_id: str, reason: str) -> None:
        # As in add_team_member: the author first, so an outsider learns nothing of the team.
        self.check_may_author(CareTeamMemberRemoved, by)
        current = self.state.team.get(user_id)
        if current is None or not current.active:
            raise RuleViolation(
                f"user {user_id} is not on the care team", patient_id=self.id, field="user_id"
            )
        # Leaving a Part 2 program's team names the program member just as joining did, so
        # it is an SUD record too (42 CFR 2.11).
        self._record(
            CareTeamMemberRemoved,
            by,
            at,
            sud_context=current.part2_program,
            user_id=user_id,
            reason=reason,
        )

    def members(self, role: Role | None = None) -> list[Membership]:
        return [
            m for m in self.state.team.values() if m.active and (role is None or m.role == role)
        ]
