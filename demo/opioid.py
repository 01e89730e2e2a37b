"""Story 3: opioid use disorder (F11.20), treated in a 42 CFR Part 2 program.

Cara, 29, a baker: buprenorphine induction and stabilization at 16 mg, weekly motivational
interviewing, urine drug tests, AUDIT-C; after twelve good weeks visits move to every two
weeks. In week 14 she reports a lapse: the therapist contacts her at once and tells the team,
a joint same-day visit assesses risk, the dose goes up and weekly visits resume. Nobody is
discharged. Prescriber and therapist treat her inside the Riverside Recovery Program, so
everything they record is an SUD record.

Six days before the demo is loaded she misses a weekly visit (her daughter is ill): until
the rebooked visit tomorrow, the monthly buprenorphine visit the rules ask for is due.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any
from uuid import UUID, uuid4

from demo.common import (
    PRESCRIBER,
    RECOVERY,
    SYSTEM,
    THERAPIST,
    Chart,
    LabTest,
    Story,
    Therapy,
    answers,
    mg,
    order_lab,
    patient_actor,
    result_lab,
    schedule,
)
from domain.dose import DoseStep
from domain.events import Actor
from domain.instruments import InstrumentCode
from domain.medication import PriorTrial
from domain.patient import PatientRecord
from domain.vocabulary import (
    Frequency,
    Modality,
    Phase,
    RiskLevel,
    Role,
    SessionKind,
    Severity,
)

EMAIL = "cara@demo"
CARA = patient_actor(EMAIL)
BUPRENORPHINE = "1819"
TODAY = 126  # the story's day on which the demo is loaded (18 weeks)

# In this patient's care both clinicians act for the Part 2 program.
PROGRAM_PRESCRIBER = Actor(user_id=PRESCRIBER.user_id, role=Role.PRESCRIBER, organisation=RECOVERY)
PROGRAM_THERAPIST = Actor(user_id=THERAPIST.user_id, role=Role.THERAPIST, organisation=RECOVERY)

OPIATES = LabTest("19295-5", "Opiates [Presence] in Urine by Screen method")
FENTANYL = LabTest("59673-4", "Fentanyl [Presence] in Urine by Screen method")
BUPRENORPHINE_SCREEN = LabTest(
    "58359-1", "Buprenorphine+Norbuprenorphine [Presence] in Urine by Screen method"
)
SCREENS = (OPIATES, FENTANYL, BUPRENORPHINE_SCREEN)
NEGATIVE = ("negative", "negative", "positive (prescribed)")

PHQ9 = {
    0: answers(1, 2, 2, 1, 2, 1, 1, 1, 0),  # 11
    28: answers(1, 1, 1, 1, 1, 1, 1, 1, 0),  # 8
    56: answers(1, 1, 1, 1, 1, 0, 1, 0, 0),  # 6
    84: answers(1, 0, 1, 1, 1, 0, 1, 0, 0),  # 5
    106: answers(1, 1, 1, 1, 1, 1, 1, 1, 0),  # 8
}

NOTES = {
    1: "MI: her reasons for change are her daughter (6) and keeping the bakery job. "
    "Ambivalence about giving up contact with friends who use. Withdrawal settled on 12 mg.",
    8: "First week without fentanyl. Change talk strong; mapped high-risk times (after late "
    "shifts, payday).",
    15: "Cravings down to evenings only. Planned a route home that avoids the old contact.",
    22: "Talked through a near-miss (offer at a party, declined). Confidence ruler 8/10.",
    29: "Four weeks stable on 16 mg. Daughter's weekend visit went well.",
    36: "Working full shifts again. Exploring what she does with cash on payday.",
    43: "Discussed telling her sister about treatment; she did, and felt supported.",
    50: "Quiet week. Started a recovery meeting on Thursdays.",
    57: "Reviewed progress: urine tests negative, PHQ-9 down to 6.",
    64: "Stress with her ex over custody; coped without using. Practised urge surfing.",
    71: "Sister now her first call when cravings rise.",
    78: "Twelve weeks stable. Agreed visits every two weeks from week 12.",
    85: "First fortnightly visit. Plan for double shifts in the holiday rush.",
    106: "A week after the lapse: no further use, cravings lower on 20 mg. Went to two "
    "meetings; kept cash with her sister.",
    113: "Second week back on weekly visits. Talking about what she learned from the lapse "
    "rather than what it says about her.",
}


def demographics() -> dict[str, Any]:
    return {
        "mrn": "DEMO-1003",
        "given_name": "Cara",
        "family_name": "Doyle",
        "birth_date": date(1996, 2, 20),
        "sex_at_birth": "female",
        "telehealth_preference": "either",
        "email": EMAIL,
    }


class _Cara:
    """Cara's care, step by step."""

    def __init__(self, chart: Chart) -> None:
        self.chart = chart
        self.therapy = Therapy(chart, PROGRAM_THERAPIST, Modality.MOTIVATIONAL_INTERVIEWING, 14)
        self.buprenorphine = uuid4()

    def order_urine_tests(
        self, r: PatientRecord, day: int, hour: int = 9, minute: int = 0
    ) -> list[UUID]:
        """Opiates, fentanyl and buprenorphine screens on one urine sample."""
        return [
            order_lab(
                r,
                PROGRAM_PRESCRIBER,
                self.chart.at(day, hour, minute),
                test,
                "Urine drug test (MOUD monitoring)",
            )
            for test in SCREENS
        ]

    def file_urine_tests(
        self, r: PatientRecord, day: int, orders: list[UUID], results: tuple[str, str, str]
    ) -> None:
        """The lab files the three screens at 17:00 the same day."""
        for order_id, test, value in zip(orders, SCREENS, results, strict=True):
            result_lab(r, SYSTEM, self.chart.at(day, 17), order_id, test, value)

    def urine_tests(self, r: PatientRecord, day: int, results: tuple[str, str, str]) -> None:
        self.file_urine_tests(r, day, self.order_urine_tests(r, day), results)

    def phq9(self, r: PatientRecord, day: int) -> None:
        r.answer_questionnaire(
            CARA, self.chart.at(day, 8, 30), instrument=InstrumentCode.PHQ9, answers=PHQ9[day]
        )

    def audit_c(self, r: PatientRecord, day: int, scores: tuple[int, int, int]) -> None:
        """Administered by the therapist at the start of the day's session."""
        r.answer_questionnaire(
            PROGRAM_THERAPIST,
            self.chart.at(day, 14, 5),
            instrument=InstrumentCode.AUDITC,
            answers=answers(*scores),
        )

    def session(self, r: PatientRecord, day: int, next_day: int | None) -> None:
        self.therapy.attend(r, NOTES[day], next_day)

    # --- steps -------------------------------------------------------------------------

    def induction(self, r: PatientRecord) -> None:
        self.chart.enrol(
            r,
            ((PROGRAM_PRESCRIBER, RECOVERY), (PROGRAM_THERAPIST, RECOVERY)),
            EMAIL,
            part2_program=True,
        )
        self.phq9(r, 0)
        baseline = self.order_urine_tests(r, 0, 8, 45)
        r.record_evaluation(
            PROGRAM_PRESCRIBER,
            self.chart.at(0, 9, 15),
            symptom_history="Non-prescribed opioids for 3 years: oxycodone after a wrist "
            "fracture, then heroin, now fentanyl by insufflation, about 1 g a day. Two "
            "withdrawal attempts at home. One non-fatal overdose (2023, reversed with "
            "naloxone). No injection. Alcohol occasionally.",
            prior_trials=[
                PriorTrial(
                    drug="methadone",
                    rxnorm="6813",
                    max_dose=mg(60),
                    weeks=10,
                    response="partial",
                    stopped_because="moved out of area; daily clinic visits clashed with work",
                )
            ],
            family_history="Father: alcohol use disorder.",
            preferences="Office-based buprenorphine so she can keep working early shifts.",
        )
        r.record_condition(
            PROGRAM_PRESCRIBER,
            self.chart.at(0, 9, 30),
            icd10="F11.20",
            description="Opioid use disorder, severe",
        )
        r.write_progress_note(
            PROGRAM_PRESCRIBER,
            self.chart.at(0, 10, 0),
            text="Induction: COWS 13 at 09:50, last use 20 h ago. Buprenorphine 4 mg observed "
            "now; a second 4 mg after 1-2 hours if withdrawal persists (8 mg on day 1). "
            "Naloxone kit given; overdose response reviewed.",
        )
        r.start_medication(
            PROGRAM_PRESCRIBER,
            self.chart.at(0, 10, 5),
            medication_id=self.buprenorphine,
            drug="buprenorphine",
            rxnorm=BUPRENORPHINE,
            dose=mg(8),
            schedule=schedule(Frequency.ONCE_DAILY, time(8)),
            route="sublingual",
            indication="Opioid use disorder",
            sud_treatment=True,
        )
        r.plan_titration(
            PROGRAM_PRESCRIBER,
            self.chart.at(0, 10, 10),
            medication_id=self.buprenorphine,
            steps=[
                DoseStep(on_or_after=self.chart.day(1), dose=mg(12)),
                DoseStep(on_or_after=self.chart.day(2), dose=mg(16)),
            ],
        )
        r.change_phase(
            PROGRAM_PRESCRIBER,
            self.chart.at(0, 10, 15),
            phase=Phase.ACUTE,
            reason="Buprenorphine induction; weekly visits and urine tests",
        )
        r.set_goal(
            PROGRAM_THERAPIST,
            self.chart.at(0, 10, 20),
            goal_id=uuid4(),
            description="No non-prescribed opioid use; keep her job and weekend time with her "
            "daughter",
            functional_target="all scheduled bakery shifts worked",
        )
        self.therapy.book(r, self.chart.at(0, 10, 25), 1)
        self.file_urine_tests(r, 0, baseline, ("positive", "positive", "negative"))

    def stabilization(self, r: PatientRecord) -> None:
        r.change_dose(
            PROGRAM_PRESCRIBER,
            self.chart.at(1, 9, 0),
            medication_id=self.buprenorphine,
            dose=mg(12),
            reason="Phone check: withdrawal eased (COWS 4), cravings in the evening. Step 1 of "
            "the titration plan.",
        )
        self.audit_c(r, 1, (1, 0, 0))
        self.session(r, 1, 8)
        r.change_dose(
            PROGRAM_PRESCRIBER,
            self.chart.at(2, 10, 0),
            medication_id=self.buprenorphine,
            dose=mg(16),
            reason="Evening cravings persist on 12 mg; step 2 of the titration plan.",
        )
        self.urine_tests(r, 7, NEGATIVE)
        self.session(r, 8, 15)
        r.report_side_effect(
            CARA,
            self.chart.at(10, 20, 0),
            medication_id=self.buprenorphine,
            effect="constipation",
            severity=Severity.MILD,
        )
        self.session(r, 15, 22)
        r.write_psychotherapy_note(
            PROGRAM_THERAPIST,
            self.chart.at(15, 15, 10),
            text="Guilt about her daughter seeing her in withdrawal last year is the strongest "
            "driver of change and of shame; careful pacing. Her ex still supplies friends.",
        )
        self.urine_tests(r, 21, NEGATIVE)
        self.session(r, 22, 29)
        self.phq9(r, 28)
        r.change_phase(
            PROGRAM_PRESCRIBER,
            self.chart.at(28, 10, 0),
            phase=Phase.STABILIZATION,
            reason="Four weeks on 16 mg: no withdrawal, rare cravings, urine tests negative",
        )
        r.record_adherence(
            CARA,
            self.chart.at(28, 20, 0),
            medication_id=self.buprenorphine,
            period_days=28,
            doses_prescribed=28,
            doses_taken=28,
        )

    def steady_weeks(self, r: PatientRecord) -> None:
        for day in (29, 36, 43):
            self.session(r, day, day + 7)
        self.urine_tests(r, 49, NEGATIVE)
        self.session(r, 50, 57)
        self.phq9(r, 56)
        r.reassess_medication(
            PROGRAM_PRESCRIBER,
            self.chart.at(56, 15, 30),
            medication_id=self.buprenorphine,
            decision="continue",
            assessment="Eight weeks on 16 mg, urine tests negative, working full shifts.",
        )
        for day in (57, 64, 71):
            self.session(r, day, day + 7)
        self.urine_tests(r, 77, NEGATIVE)
        self.session(r, 78, 85)
        self.phq9(r, 84)
        r.change_phase(
            PROGRAM_PRESCRIBER,
            self.chart.at(84, 10, 0),
            phase=Phase.MAINTENANCE,
            reason="Twelve weeks stable: visits and prescriptions every two weeks",
        )
        self.audit_c(r, 85, (1, 0, 0))
        self.session(r, 85, 99)

    def lapse(self, r: PatientRecord) -> None:
        r.report_lapse(
            CARA,
            self.chart.at(99, 7, 40),
            substance="fentanyl (sold as heroin)",
            occurred_on=self.chart.day(98),
            circumstances="After a double shift and an argument with her ex; bought from an "
            "old contact and used once, intranasally, alone. No overdose. Took her "
            "buprenorphine this morning.",
        )
        lapse = r.version
        self.therapy.cancel(
            r, self.chart.at(99, 8, 5), "Replaced by a same-day visit after a reported lapse"
        )
        self.therapy.book(
            r, self.chart.at(99, 8, 6), 99, hour=11, minutes=60, kind=SessionKind.ACUTE
        )
        message = uuid4()
        r.send_message(
            PROGRAM_THERAPIST,
            self.chart.at(99, 8, 10),
            message_id=message,
            to=[PRESCRIBER.user_id, EMAIL],
            subject="Lapse reported: contact made",
            body="Called Cara at 08:00 after her report: safe, no overdose symptoms, took her "
            "dose. Same-day joint visit at 11:00 (replaces the 14:00 session). She has "
            "naloxone at home; reminded her not to use alone.",
            regarding=[lapse],
        )
        r.acknowledge_message(PROGRAM_PRESCRIBER, self.chart.at(99, 8, 30), message_id=message)
        r.acknowledge_message(CARA, self.chart.at(99, 8, 45), message_id=message)
        samples = self.order_urine_tests(r, 99, 11, 5)
        r.assess_risk(
            PROGRAM_PRESCRIBER,
            self.chart.at(99, 11, 30),
            level=RiskLevel.MODERATE,
            method="clinical-interview",
            factors=[
                "single use of fentanyl after 14 weeks without use",
                "used alone",
                "past non-fatal overdose (2023)",
                "protective: on buprenorphine, reported at once, sister involved",
            ],
            plan="Naloxone kit renewed and her sister shown how to use it; never use alone "
            "line given. Buprenorphine 16 to 20 mg. Weekly visits and urine tests for at least "
            "four weeks. Treatment continues: a lapse is part of recovery, not a reason to "
            "discharge.",
        )
        r.change_dose(
            PROGRAM_PRESCRIBER,
            self.chart.at(99, 11, 40),
            medication_id=self.buprenorphine,
            dose=mg(20),
            reason="Lapse with evening cravings on 16 mg; higher dose for craving control and "
            "blockade while fentanyl is in the local supply.",
        )
        r.change_phase(
            PROGRAM_PRESCRIBER,
            self.chart.at(99, 11, 45),
            phase=Phase.STABILIZATION,
            reason="Lapse on the previous day: weekly visits resumed, dose increased",
        )
        self.therapy.attend(
            r,
            "Joint visit after the lapse. MI on what happened: double shift, the argument, "
            "cash on hand, the old contact's message. She sees it as a slip, not a return. "
            "Plan: weekly visits, her sister holds spare cash, block the contact.",
            106,
        )
        self.file_urine_tests(r, 99, samples, ("negative", "positive", "positive (prescribed)"))

    def weekly_again(self, r: PatientRecord) -> None:
        r.record_adherence(
            CARA,
            self.chart.at(105, 20, 0),
            medication_id=self.buprenorphine,
            period_days=7,
            doses_prescribed=7,
            doses_taken=7,
        )
        self.phq9(r, 106)
        samples = self.order_urine_tests(r, 106)
        self.session(r, 106, 113)
        self.file_urine_tests(r, 106, samples, NEGATIVE)
        self.session(r, 113, 120)
        r.reassess_medication(
            PROGRAM_PRESCRIBER,
            self.chart.at(113, 15, 30),
            medication_id=self.buprenorphine,
            decision="continue",
            assessment="Two weeks on 20 mg without further use; cravings lower. Continue; "
            "weekly visits for two more weeks, then review.",
        )
        r.record_adherence(
            CARA,
            self.chart.at(119, 20, 0),
            medication_id=self.buprenorphine,
            period_days=7,
            doses_prescribed=7,
            doses_taken=7,
        )
        self.therapy.miss(
            r,
            "Texted at 13:30: her daughter has a fever and there is no childcare. Says no use "
            "since the lapse and every dose taken.",
            TODAY + 1,
        )
        message = uuid4()
        r.send_message(
            PROGRAM_THERAPIST,
            self.chart.at(120, 14, 40),
            message_id=message,
            to=[PRESCRIBER.user_id, EMAIL],
            subject="Missed visit today: rebooked",
            body="Cara could not come today (daughter ill, no childcare). By text: no use since "
            "the lapse, every dose taken, naloxone at home. Rebooked for next week at 14:00 "
            "with a urine test; her prescription covers her until then. I'll phone her in "
            "between.",
        )
        r.acknowledge_message(PROGRAM_PRESCRIBER, self.chart.at(120, 16, 5), message_id=message)
        r.acknowledge_message(CARA, self.chart.at(120, 19, 30), message_id=message)
        r.write_progress_note(
            PROGRAM_THERAPIST,
            self.chart.at(TODAY - 3, 12, 0),
            text="Phone check-in: daughter better and back at school. No use; cravings "
            "'a 3 out of 10' after a late shift, rang her sister instead. Coming to next "
            "week's visit.",
        )


STORY = Story(
    title="Opioid use disorder",
    mrn="DEMO-1003",
    email=EMAIL,
    weeks_ago=18,
    demographics=demographics,
    narrative=_Cara,
    steps=(
        ("Cara: assessment and buprenorphine induction", _Cara.induction),
        ("Cara: stabilization on 16 mg, weekly MI", _Cara.stabilization),
        ("Cara: steady weeks, then fortnightly visits", _Cara.steady_weeks),
        ("Cara: lapse reported, contact, risk assessment, plan adjusted", _Cara.lapse),
        ("Cara: weekly visits resumed, one missed", _Cara.weekly_again),
    ),
)
