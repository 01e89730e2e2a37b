"""Registration, demographics and the care team."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from domain.errors import (
    InvalidInput,
    NotOnCareTeam,
    NotPermittedAuthor,
    RuleViolation,
)
from domain.events import Actor, now
from domain.patient import PatientRecord
from domain.registration import (
    CareTeamMemberAdded,
    CareTeamMemberRemoved,
    DemographicsUpdated,
    PatientRegistered,
    mrn_claim_id,
    patient_id_for,
)
from domain.vocabulary import DataClass, Role, Sex, TelehealthPreference
from tests.unit.builders import (
    MRN,
    OUTSIDER,
    PART2_COUNSELOR,
    PATIENT,
    PRESCRIBER,
    SUPPORTER,
    SYSTEM,
    THERAPIST,
    a_registered_record,
    assert_attributed,
    demographics,
    fields_of,
    given,
    only_event,
    refused,
)

# --- registering ----------------------------------------------------------------------


def test_registering_a_patient_opens_a_record_under_a_random_id(at: datetime) -> None:
    record = PatientRecord.register(SYSTEM, at, **demographics(interpreter_needed=True))

    registered = only_event(record, PatientRegistered)
    assert_attributed(registered, actor=SYSTEM, data_class=DataClass.DEMOGRAPHICS, clinical_time=at)
    assert registered.originator_id == record.id != patient_id_for(MRN)
    assert record.id.version == 4
    assert PatientRecord.register(SYSTEM, at, **demographics()).id != record.id
    assert registered.originator_version == 1
    assert (registered.mrn, registered.given_name, registered.family_name) == (
        MRN,
        "Sam",
        "Rivera",
    )
    assert registered.birth_date == date(1994, 5, 17)
    assert registered.sex_at_birth == Sex.FEMALE
    assert registered.interpreter_needed is True
    assert registered.preferred_language == "en"
    assert registered.telehealth_preference == TelehealthPreference.EITHER
    assert record.state.mrn == MRN
    assert record.state.name == "Sam Rivera"
    assert record.members() == []


def test_the_ids_mrns_gave_and_their_claims_ignore_the_case_and_spacing_of_the_mrn() -> None:
    assert patient_id_for(" rbh-000123 ") == patient_id_for("RBH-000123")
    assert patient_id_for("RBH-000124") != patient_id_for("RBH-000123")
    key = b"synthetic-mrn-key"
    assert mrn_claim_id(" rbh-000123 ", key) == mrn_claim_id("RBH-000123", key)
    assert mrn_claim_id("RBH-000123", key) != mrn_claim_id("RBH-000124", key)
    # Keyed: without the key the MRN does not give the claim's id.
    assert mrn_claim_id("RBH-000123", key) != mrn_claim_id("RBH-000123", b"another-key")
    assert mrn_claim_id("RBH-000123", key) != patient_id_for("RBH-000123")


def test_a_therapist_may_register_a_patient_but_is_not_on_the_team_until_added(
    at: datetime,
) -> None:
    record = PatientRecord.register(THERAPIST, at, **demographics())

    assert only_event(record, PatientRegistered).actor == THERAPIST
    with refused(record, NotOnCareTeam):
        record.add_team_member(
            THERAPIST, at, user_id=THERAPIST.user_id, role=Role.THERAPIST, organisation="x"
        )


def test_a_supporter_may_not_register_a_patient(at: datetime) -> None:
    with pytest.raises(NotPermittedAuthor) as refusal:
        PatientRecord.register(SUPPORTER, at, **demographics())
    assert refusal.value.field == "actor.role"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"mrn": "R1"}, "mrn"),
        ({"mrn": "-RBH-1"}, "mrn"),
        ({"given_name": "   "}, "given_name"),
        ({"birth_date": "17/05/1994"}, "birth_date"),
        ({"sex_at_birth": "f"}, "sex_at_birth"),
        ({"telehealth_preference": "phone"}, "telehealth_preference"),
        ({"blood_type": "O+"}, "blood_type"),
    ],
)
def test_registration_refuses_a_malformed_field(
    at: datetime, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as refusal:
        PatientRecord.register(SYSTEM, at, **demographics(**changes))
    assert field in fields_of(refusal.value)


def test_registration_requires_an_mrn_and_a_family_name(at: datetime) -> None:
    without_mrn = demographics()
    del without_mrn["mrn"]
    with pytest.raises(InvalidInput) as refusal:
        PatientRecord.register(SYSTEM, at, **without_mrn)
    assert fields_of(refusal.value) == ["mrn"]

    without_family_name = demographics()
    del without_family_name["family_name"]
    with pytest.raises(InvalidInput) as refusal:
        PatientRecord.register(SYSTEM, at, **without_family_name)
    assert refusal.value.errors[0].field == "family_name"
    assert refusal.value.errors[0].reason == "is required"


def test_registration_refuses_a_clinical_time_in_the_future() -> None:
    with pytest.raises(InvalidInput) as refusal:
        PatientRecord.register(SYSTEM, now() + timedelta(hours=1), **demographics())
    assert fields_of(refusal.value) == ["clinical_time"]


def test_registration_refuses_a_birth_date_in_the_future(at: datetime) -> None:
    with pytest.raises(InvalidInput) as refusal:
        PatientRecord.register(SYSTEM, at, **demographics(birth_date=date(2999, 1, 1)))
    assert "birth_date" in fields_of(refusal.value)


def test_a_birth_date_on_the_day_of_registration_is_accepted() -> None:
    at = now()
    record = PatientRecord.register(SYSTEM, at, **demographics(birth_date=at.date()))
    assert only_event(record, PatientRegistered).birth_date == at.date()


def test_a_demographics_update_refuses_a_birth_date_in_the_future(
    record: PatientRecord, at: datetime
) -> None:
    update = demographics(birth_date=now().date() + timedelta(days=2))
    del update["mrn"]
    with refused(record, InvalidInput, field="birth_date") as refusal:
        record.update_demographics(PATIENT, at, **update)
    assert "in the future" in refusal.value.errors[0].reason


def test_the_birth_date_is_judged_against_the_recording_time_not_the_clock() -> None:
    # Replaying an event must give the verdict it got when recorded: a birth date that was
    # in the future in 2020 stays refused, even though it is in the past now.
    recorded_in_2020 = datetime(2020, 6, 1, 12, 0, tzinfo=UTC)
    stored: dict[str, Any] = {
        **demographics(birth_date=date(2021, 1, 1)),
        "originator_id": patient_id_for(MRN),
        "originator_version": 1,
        "originator_topic": "domain.patient:PatientRecord",
        "timestamp": recorded_in_2020,
        "actor": SYSTEM,
        "data_class": DataClass.DEMOGRAPHICS,
        "clinical_time": recorded_in_2020,
    }
    with pytest.raises(ValidationError) as refusal:
        PatientRegistered.model_validate(stored)
    assert [e["loc"] for e in refusal.value.errors()] == [("birth_date",)]

    stored["birth_date"] = date(2020, 6, 1)
    assert PatientRegistered.model_validate(stored).birth_date == date(2020, 6, 1)


# --- demographics ---------------------------------------------------------------------


def test_the_patient_may_update_their_own_demographics(record: PatientRecord, at: datetime) -> None:
    update = demographics(family_name="Rivera-Cole", preferred_language="es", phone="555-0100")
    del update["mrn"]

    record.update_demographics(PATIENT, at, **update)

    updated = only_event(record, DemographicsUpdated)
    assert_attributed(updated, actor=PATIENT, data_class=DataClass.DEMOGRAPHICS, clinical_time=at)
    assert updated.family_name == "Rivera-Cole"
    assert updated.preferred_language == "es"
    assert updated.phone == "555-0100"
    assert record.state.name == "Sam Rivera-Cole"
    assert record.state.mrn == MRN


def test_demographics_updated_by_a_part2_program_member_are_never_sud(
    part2_record: PatientRecord, at: datetime
) -> None:
    update = demographics(given_name="Samantha")
    del update["mrn"]

    part2_record.update_demographics(PART2_COUNSELOR, at, **update)

    assert only_event(part2_record, DemographicsUpdated).data_class == DataClass.DEMOGRAPHICS


def test_a_supporter_may_not_update_demographics(record: PatientRecord, at: datetime) -> None:
    update = demographics()
    del update["mrn"]
    with refused(record, NotPermittedAuthor, field="actor.role"):
        record.update_demographics(SUPPORTER, at, **update)


def test_the_mrn_cannot_be_changed_by_a_demographics_update(
    record: PatientRecord, at: datetime
) -> None:
    with refused(record, InvalidInput, field="mrn") as refusal:
        record.update_demographics(THERAPIST, at, **demographics(mrn="RBH-999999"))
    assert refusal.value.errors[0].reason == "is not a known field"


# --- the care team --------------------------------------------------------------------


def test_the_first_team_members_are_added_by_the_system(at: datetime) -> None:
    record = given(PatientRecord.register(SYSTEM, at, **demographics()))

    record.add_team_member(
        SYSTEM, at, user_id=THERAPIST.user_id, role=Role.THERAPIST, organisation="Riverside"
    )

    added = only_event(record, CareTeamMemberAdded)
    assert_attributed(added, actor=SYSTEM, data_class=DataClass.CARE_TEAM, clinical_time=at)
    assert (added.user_id, added.role, added.organisation, added.part2_program) == (
        THERAPIST.user_id,
        Role.THERAPIST,
        "Riverside",
        False,
    )
    assert [m.user_id for m in record.members()] == [THERAPIST.user_id]


def test_a_therapist_on_the_team_adds_a_colleague(record: PatientRecord, at: datetime) -> None:
    record.add_team_member(
        THERAPIST,
        at,
        user_id="g.nakamura@valley-pc.example",
        role=Role.PRIMARY_CARE,
        organisation="Valley Primary Care",
    )

    added = only_event(record, CareTeamMemberAdded)
    assert_attributed(added, actor=THERAPIST, data_class=DataClass.CARE_TEAM, clinical_time=at)
    assert [m.user_id for m in record.members(Role.PRIMARY_CARE)] == [
        "g.nakamura@valley-pc.example"
    ]


def test_adding_a_part2_program_member_is_itself_an_sud_record(
    record: PatientRecord, at: datetime
) -> None:
    record.add_team_member(
        PRESCRIBER,
        at,
        user_id=PART2_COUNSELOR.user_id,
        role=Role.THERAPIST,
        organisation=PART2_COUNSELOR.organisation,
        part2_program=True,
    )

    added = only_event(record, CareTeamMemberAdded)
    assert added.part2_program is True
    assert added.part2
    assert record.in_part2_program()


def test_a_member_already_on_the_team_cannot_be_added_again(
    record: PatientRecord, at: datetime
) -> None:
    with refused(record, RuleViolation, field="user_id"):
        record.add_team_member(
            SYSTEM, at, user_id=THERAPIST.user_id, role=Role.THERAPIST, organisation="x"
        )


@pytest.mark.parametrize("role", [Role.SYSTEM, Role.COMPLIANCE])
def test_system_and_compliance_are_not_care_team_roles(
    record: PatientRecord, at: datetime, role: Role
) -> None:
    with refused(record, InvalidInput, field="role"):
        record.add_team_member(
            SYSTEM, at, user_id="audit@tandem.example", role=role, organisation="x"
        )


@pytest.mark.parametrize("keeper", [PATIENT, SUPPORTER])
def test_only_treating_clinicians_keep_the_team(
    record: PatientRecord, at: datetime, keeper: Actor
) -> None:
    with refused(record, NotPermittedAuthor, field="actor.role"):
        record.add_team_member(
            keeper,
            at,
            user_id="friend@mail.example",
            role=Role.SUPPORTER,
            organisation="friend",
        )


def test_an_outsider_cannot_add_themselves_to_the_team(record: PatientRecord, at: datetime) -> None:
    with refused(record, NotOnCareTeam, field="actor.user_id") as refusal:
        record.add_team_member(
            OUTSIDER, at, user_id=OUTSIDER.user_id, role=OUTSIDER.role, organisation="x"
        )
    assert refusal.value.patient_id == record.id


def test_a_member_leaves_the_team_and_may_no_longer_record(
    record: PatientRecord, at: datetime
) -> None:
    record.remove_team_member(
        PRESCRIBER, at, user_id=THERAPIST.user_id, reason="moved to another clinic"
    )

    removed = only_event(record, CareTeamMemberRemoved)
    assert_attributed(removed, actor=PRESCRIBER, data_class=DataClass.CARE_TEAM, clinical_time=at)
    assert (removed.user_id, removed.reason) == (THERAPIST.user_id, "moved to another clinic")
    assert record.members(Role.THERAPIST) == []
    record = given(record)
    with refused(record, NotOnCareTeam):
        record.write_progress_note(THERAPIST, at, text="late note")


def test_a_former_member_may_rejoin_the_team(record: PatientRecord, at: datetime) -> None:
    record.remove_team_member(SYSTEM, at, user_id=THERAPIST.user_id, reason="leave")
    record = given(record)

    record.add_team_member(
        SYSTEM, at, user_id=THERAPIST.user_id, role=Role.THERAPIST, organisation="Riverside"
    )

    assert only_event(record, CareTeamMemberAdded).user_id == THERAPIST.user_id
    assert [m.user_id for m in record.members(Role.THERAPIST)] == [THERAPIST.user_id]


def test_someone_not_on_the_team_cannot_be_removed(record: PatientRecord, at: datetime) -> None:
    with refused(record, RuleViolation, field="user_id"):
        record.remove_team_member(SYSTEM, at, user_id=OUTSIDER.user_id, reason="never joined")


def test_removing_a_part2_member_leaves_the_record_outside_the_program(
    part2_record: PatientRecord, at: datetime
) -> None:
    part2_record.remove_team_member(
        SYSTEM, at, user_id=PART2_COUNSELOR.user_id, reason="completed the program"
    )

    only_event(part2_record, CareTeamMemberRemoved)
    assert not part2_record.in_part2_program()


def test_removing_a_part2_program_member_is_itself_an_sud_record(
    part2_record: PatientRecord, at: datetime
) -> None:
    part2_record.remove_team_member(
        THERAPIST, at, user_id=PART2_COUNSELOR.user_id, reason="completed the program"
    )

    assert only_event(part2_record, CareTeamMemberRemoved).part2


# --- guards that answer an outsider -------------------------------------------------


def test_removing_an_ordinary_member_stays_a_care_team_record(
    part2_record: PatientRecord, at: datetime
) -> None:
    part2_record.remove_team_member(
        THERAPIST, at, user_id=SUPPORTER.user_id, reason="no longer involved"
    )

    assert only_event(part2_record, CareTeamMemberRemoved).data_class == DataClass.CARE_TEAM


@pytest.mark.parametrize("flag", ["false", "no", 0])
def test_a_part2_flag_that_says_no_is_not_an_sud_record(
    record: PatientRecord, at: datetime, flag: Any
) -> None:
    record.add_team_member(
        THERAPIST,
        at,
        user_id="new@riverside.example",
        role=Role.THERAPIST,
        organisation="x",
        part2_program=flag,
    )

    added = only_event(record, CareTeamMemberAdded)
    assert (added.part2_program, added.data_class) == (False, DataClass.CARE_TEAM)


def test_a_part2_flag_that_is_not_yes_or_no_is_refused(record: PatientRecord, at: datetime) -> None:
    with refused(record, InvalidInput, field="part2_program"):
        record.add_team_member(
            THERAPIST,
            at,
            user_id="new@riverside.example",
            role=Role.THERAPIST,
            organisation="x",
            part2_program="maybe",
        )


def test_an_outsider_gets_the_same_refusal_for_members_and_strangers(
    part2_record: PatientRecord, at: datetime
) -> None:
    refusals = []
    for user_id in (PART2_COUNSELOR.user_id, "nobody@mail.example"):
        with refused(part2_record, NotOnCareTeam) as refusal:
            part2_record.remove_team_member(OUTSIDER, at, user_id=user_id, reason="probe")
        refusals.append(str(refusal.value))
        with refused(part2_record, NotOnCareTeam) as refusal:
            part2_record.add_team_member(
                OUTSIDER, at, user_id=user_id, role=Role.THERAPIST, organisation="x"
            )
        refusals.append(str(refusal.value))
    assert len(set(refusals)) == 1


def test_an_outsider_cannot_learn_who_is_on_the_team_by_adding_them(
    part2_record: PatientRecord, at: datetime
) -> None:
    with refused(part2_record, NotOnCareTeam):
        part2_record.add_team_member(
            OUTSIDER,
            at,
            user_id=PART2_COUNSELOR.user_id,
            role=Role.THERAPIST,
            organisation="Harbor OTP",
        )


def test_an_outsider_cannot_learn_who_is_on_the_team_by_removing_them(
    record: PatientRecord, at: datetime
) -> None:
    with refused(record, NotOnCareTeam):
        record.remove_team_member(OUTSIDER, at, user_id="nobody@mail.example", reason="probe")


def test_a_record_rebuilt_from_its_events_has_the_same_team() -> None:
    record = a_registered_record(part2=[PART2_COUNSELOR])

    assert {m.user_id: (m.role, m.part2_program) for m in record.members()} == {
        THERAPIST.user_id: (Role.THERAPIST, False),
        PRESCRIBER.user_id: (Role.PRESCRIBER, False),
        PATIENT.user_id: (Role.PATIENT, False),
        SUPPORTER.user_id: (Role.SUPPORTER, False),
        PART2_COUNSELOR.user_id: (Role.THERAPIST, True),
    }
    assert record.version == 6
