"""Story 2: bipolar II disorder (F31.81).

Ben, 34, a surveyor in a depressive episode: lithium carbonate after baseline labs, trough
levels 5-7 days after the start and after the dose change, then weekly until two stable
levels in 0.6-0.8 mmol/L, then every three months; weight and BMI (vital signs) for
metabolic monitoring; psychoeducation, then interpersonal and social rhythm therapy (IPSRT)
with his partner, who learns to note early activation cues (sleep, speech rate, spending)
and does, in week 9.

The story ends in a winter dip, as the demo is loaded: long sleep and withdrawal that Sam
notices, PHQ-9 back up to 10, lithium raised to 1,200 mg six days ago, so a trough level is
due now (days 5-7); the prescriber's note about it reached the therapist yesterday evening,
and earlier today Ben's PHQ-9 has item 9 at 1, so a same-day risk assessment is due.
"""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from demo.common import (
    FAMILY,
    PRESCRIBER,
    RIVERSIDE,
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
    supporter_actor,
)
from domain.instruments import InstrumentCode
from domain.medication import Comorbidity, PriorTrial
from domain.patient import PatientRecord
from domain.vocabulary import (
    Frequency,
    LabUnit,
    Modality,
    Phase,
    Role,
    SessionKind,
    Severity,
)

EMAIL = "ben@demo"
SUPPORTER_EMAIL = "supporter@demo"
BEN = patient_actor(EMAIL)
SAM = supporter_actor(SUPPORTER_EMAIL)
LITHIUM_CARBONATE = "42351"

LITHIUM = LabTest(
    "14334-7", "Lithium [Moles/volume] in Serum or Plasma", LabUnit.MMOL_L, "0.6", "1.2"
)
CREATININE = LabTest(
    "2160-0", "Creatinine [Mass/volume] in Serum or Plasma", LabUnit.MG_DL, "0.74", "1.35"
)
EGFR = LabTest("98979-8", "eGFR creatinine-based (CKD-EPI 2021)", LabUnit.EGFR, "60")
TSH = LabTest(
    "3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", LabUnit.M_IU_L, "0.4", "4.0"
)
CALCIUM = LabTest(
    "17861-6", "Calcium [Mass/volume] in Serum or Plasma", LabUnit.MG_DL, "8.6", "10.3"
)
GLUCOSE = LabTest(
    "1558-6", "Fasting glucose [Mass/volume] in Serum or Plasma", LabUnit.MG_DL, "70", "99"
)
CBC = LabTest("58410-2", "CBC panel - Blood by Automated count")

PHQ9 = {
    0: answers(2, 2, 3, 2, 1, 2, 2, 2, 0),  # 16
    28: answers(2, 1, 2, 2, 1, 1, 2, 1, 0),  # 12
    56: answers(1, 1, 1, 2, 1, 1, 1, 1, 0),  # 9
    84: answers(1, 1, 2, 1, 1, 1, 1, 0, 0),  # 8
    112: answers(1, 1, 1, 1, 0, 1, 1, 0, 0),  # 6
    126: answers(1, 0, 1, 1, 0, 1, 1, 0, 0),  # 5
    133: answers(2, 1, 2, 2, 1, 1, 1, 0, 0),  # 10: the winter dip
}
# Earlier today, six days after the increase to 1,200 mg: 12, item 9 at 1.
PHQ9_TODAY = answers(2, 1, 2, 2, 1, 2, 1, 0, 1)
TODAY = 140  # the story's day on which the demo is loaded (20 weeks)
GAD7 = {
    0: answers(2, 2, 1, 2, 1, 2, 1),  # 11
    56: answers(1, 1, 1, 1, 1, 1, 1),  # 7
    112: answers(1, 1, 0, 1, 0, 1, 1),  # 5
}

# Sleep diary, night -> (hours asleep, quality 1-5, bedtime, wake time). Long depressed
# sleep at first, regular nights with the rhythm work, short nights in week 9.
SLEEP: dict[int, tuple[str, int, time, time]] = {
    1: ("10.0", 2, time(22, 30), time(9, 30)),
    4: ("9.5", 2, time(23, 0), time(9, 0)),
    8: ("9.0", 3, time(23, 0), time(8, 30)),
    12: ("8.5", 3, time(23, 0), time(8, 0)),
    16: ("8.0", 3, time(23, 0), time(7, 30)),
    20: ("7.75", 4, time(23, 0), time(7, 0)),
    25: ("7.5", 4, time(23, 0), time(7, 0)),
    30: ("7.5", 4, time(23, 0), time(7, 0)),
    36: ("7.75", 4, time(22, 45), time(7, 0)),
    42: ("7.5", 4, time(23, 0), time(7, 0)),
    49: ("7.5", 4, time(23, 0), time(7, 0)),
    56: ("7.25", 4, time(23, 15), time(7, 0)),
    58: ("6.0", 4, time(0, 30), time(6, 45)),
    59: ("5.5", 5, time(0, 45), time(6, 30)),
    60: ("5.0", 5, time(1, 0), time(6, 0)),
    61: ("4.5", 5, time(1, 15), time(5, 45)),
    62: ("5.5", 4, time(0, 30), time(6, 0)),
    63: ("6.5", 4, time(23, 30), time(6, 30)),
    64: ("7.0", 4, time(23, 0), time(6, 45)),
    66: ("7.5", 4, time(23, 0), time(7, 0)),
    70: ("7.5", 4, time(23, 0), time(7, 0)),
    77: ("7.75", 4, time(23, 0), time(7, 0)),
    91: ("7.5", 4, time(23, 0), time(7, 0)),
    105: ("7.5", 4, time(23, 0), time(7, 0)),
    119: ("7.5", 4, time(23, 0), time(7, 0)),
    125: ("7.75", 4, time(22, 45), time(7, 0)),
    128: ("8.5", 3, time(22, 30), time(7, 30)),
    130: ("9.25", 3, time(22, 15), time(8, 0)),
    132: ("9.5", 2, time(22, 0), time(8, 0)),
    135: ("9.0", 2, time(22, 30), time(8, 0)),
    137: ("8.75", 3, time(22, 30), time(7, 45)),
    138: ("9.0", 2, time(22, 15), time(7, 45)),
}

NOTES = {
    3: "Psychoeducation with Ben and his partner Sam: bipolar II, how lithium works and is "
    "monitored, early warning signs from his own history (sleep under 6 h, faster speech, "
    "spending). Sam will note cues in the app.",
    10: "Reviewed the social rhythm metric: wake time now within 45 min on 5 days. Tremor "
    "noticed; reassured and passed to prescriber.",
    17: "Rhythm work: first contact of the day and dinner at fixed times. Mood slightly "
    "brighter; less time in bed.",
    24: "Discussed his relapse signature; built a 'what to do' list for the first short night.",
    31: "Regular week. Depressive symptoms easing; cycling to work again twice a week.",
    38: "Rhythm stable. Worked on pacing at work to avoid late evenings before deadlines.",
    45: "Reviewed a stressful deadline week: kept bedtime. Sam's observations all 'usual'.",
    52: "PHQ-9 trending down. Agreed to move to every two weeks after one more review.",
    63: "Extra session after Sam's observations: rhythm rescue plan (fixed wake 07:00 and bed "
    "23:00, no new projects or purchases for two weeks, phone out of the bedroom). He agreed "
    "to return the bikes.",
    66: "Sleep back to 7 h. Insight good; noted the project deadline and late nights as the "
    "trigger. Updated the relapse signature.",
    80: "Steady fortnight. Practising saying no to evening work calls.",
    94: "Mood stable; enjoying weekends again.",
    108: "Stable. Plan for his father's visit (likely late nights) with Sam.",
    122: "Euthymic for two months. Agreed to monthly sessions after the next review.",
    136: "Winter dip: sleeping 9-9.5 h, skipping football, napping after work; his depressive "
    "signature. Behavioral activation inside the rhythm plan: fixed 07:00 wake at weekends "
    "too, a daylight walk before work, cycling twice a week, football on Saturday. Weekly "
    "sessions again; Sam to join next week.",
}


def demographics() -> dict[str, Any]:
    return {
        "mrn": "DEMO-1002",
        "given_name": "Ben",
        "family_name": "Okafor",
        "birth_date": date(1991, 9, 3),
        "sex_at_birth": "male",
        "telehealth_preference": "in-person",
        "email": EMAIL,
    }


class _Ben:
    """Ben's care, step by step."""

    def __init__(self, chart: Chart) -> None:
        self.chart = chart
        self.therapy = Therapy(chart, THERAPIST, Modality.PSYCHOEDUCATION, hour=17)
        self.lithium = uuid4()
        self.rhythm = uuid4()
        self.trough: UUID | None = None  # the open lithium level order
        self.logged: set[int] = set()
        self.cues: list[int] = []  # record positions of the supporter's observations

    # --- routines ----------------------------------------------------------------------

    def diary(self, r: PatientRecord, day: int) -> None:
        """Every sleep-diary night Ben has filled in by 07:30 on `day` and not yet logged."""
        for night in sorted(n for n in SLEEP if n < day and n not in self.logged):
            hours, quality, bedtime, wake = SLEEP[night]
            r.log_sleep(
                BEN,
                self.chart.at(night + 1, 7, 30),
                night_of=self.chart.day(night),
                hours_asleep=Decimal(hours),
                quality=quality,
                bedtime=bedtime,
                wake_time=wake,
            )
            self.logged.add(night)

    def questionnaires(self, r: PatientRecord, day: int) -> None:
        self.diary(r, day)
        r.answer_questionnaire(
            BEN, self.chart.at(day, 8, 40), instrument=InstrumentCode.PHQ9, answers=PHQ9[day]
        )
        if day in GAD7:
            r.answer_questionnaire(
                BEN, self.chart.at(day, 8, 45), instrument=InstrumentCode.GAD7, answers=GAD7[day]
            )

    def session(self, r: PatientRecord, day: int, next_day: int | None, **booking: Any) -> None:
        self.diary(r, day)
        self.therapy.attend(r, NOTES[day], next_day, **booking)

    def order_trough(self, r: PatientRecord, day: int, due: int, reason: str) -> None:
        self.trough = order_lab(
            r, PRESCRIBER, self.chart.at(day, 15, 0), LITHIUM, reason, self.chart.day(due)
        )

    def trough_result(self, r: PatientRecord, day: int, value: str, comment: str) -> None:
        """Drawn at 09:00, twelve hours after the 21:00 dose; filed by the lab at 14:00."""
        if self.trough is None:
            raise ValueError("no lithium level is on order")
        self.diary(r, day)
        result_lab(r, SYSTEM, self.chart.at(day, 14), self.trough, LITHIUM, value, comment)
        self.trough = None

    def weigh(self, r: PatientRecord, day: int, kg: str, bmi: str) -> None:
        """Weight and BMI measured by the prescriber at a clinic visit (vital signs, not a
        lab order)."""
        r.record_vitals(PRESCRIBER, self.chart.at(day, 10), weight_kg=Decimal(kg), bmi=Decimal(bmi))

    def observe(
        self, r: PatientRecord, day: int, hour: int, cue: str, change: str, text: str
    ) -> None:
        self.diary(r, day)
        r.record_supporter_observation(
            SAM, self.chart.at(day, hour), cue=cue, change=change, observation=text
        )
        self.cues.append(r.version)

    # --- steps -------------------------------------------------------------------------

    def evaluation(self, r: PatientRecord) -> None:
        self.chart.enrol(r, ((PRESCRIBER, RIVERSIDE), (THERAPIST, RIVERSIDE)), EMAIL)
        self.questionnaires(r, 0)
        r.record_evaluation(
            PRESCRIBER,
            self.chart.at(0, 9, 30),
            symptom_history="Depressive episode for 10 weeks (low mood, 10 h sleep, slowed, "
            "withdrawn). Two hypomanic episodes of 4-6 days: on escitalopram in 2021, and "
            "after a week of night work in 2023 (little sleep, fast speech, spending). No "
            "psychosis, no hospital admissions.",
            comorbidities=[Comorbidity(icd10="J45.909", description="Asthma, uncomplicated")],
            prior_trials=[
                PriorTrial(
                    drug="escitalopram",
                    rxnorm="321988",
                    max_dose=mg(10),
                    weeks=8,
                    response="partial",
                    stopped_because="hypomania",
                ),
                PriorTrial(
                    drug="quetiapine",
                    rxnorm="51272",
                    max_dose=mg(50),
                    weeks=3,
                    response="unknown",
                    stopped_because="morning sedation",
                ),
            ],
            family_history="Father: bipolar I disorder, stable on lithium for 20 years.",
            preferences="Prefers lithium after his father's experience; accepts blood tests.",
        )
        r.record_condition(
            PRESCRIBER, self.chart.at(0, 9, 50), icd10="F31.81", description="Bipolar II disorder"
        )
        r.change_phase(
            PRESCRIBER,
            self.chart.at(0, 10, 0),
            phase=Phase.ACUTE,
            reason="Depressive episode of bipolar II, PHQ-9 16; lithium to start",
        )
        self.weigh(r, 0, "84.2", "26.0")
        baseline = [(CREATININE, "0.94"), (EGFR, "108"), (TSH, "1.9"), (CALCIUM, "9.4")]
        baseline += [(GLUCOSE, "92"), (CBC, "within reference limits")]
        orders = [
            (
                order_lab(r, PRESCRIBER, self.chart.at(0, 10, 10), test, "Baseline before lithium"),
                test,
                value,
            )
            for test, value in baseline
        ]
        self.therapy.book(r, self.chart.at(0, 10, 20), 3)
        for order_id, test, value in orders:
            result_lab(r, SYSTEM, self.chart.at(1, 15), order_id, test, value)

    def lithium_start(self, r: PatientRecord) -> None:
        self.diary(r, 2)
        r.start_medication(
            PRESCRIBER,
            self.chart.at(2, 9, 0),
            medication_id=self.lithium,
            drug="lithium carbonate",
            rxnorm=LITHIUM_CARBONATE,
            dose=mg(600),
            schedule=schedule(Frequency.AT_BEDTIME, time(21)),
            indication="Bipolar II disorder",
        )
        self.order_trough(r, 2, 7, "Trough 12 h after the bedtime dose, 5-7 days after the start")
        self.session(r, 3, None)
        # After the first psychoeducation session the work is social rhythm therapy.
        self.therapy.modality = Modality.INTERPERSONAL_SOCIAL_RHYTHM
        r.add_team_member(
            SYSTEM,
            self.chart.at(3, 18, 10),
            user_id=SUPPORTER_EMAIL,
            role=Role.SUPPORTER,
            organisation=FAMILY,
        )
        r.set_therapy_target(
            THERAPIST,
            self.chart.at(3, 18, 15),
            target_id=uuid4(),
            modality=Modality.INTERPERSONAL_SOCIAL_RHYTHM,
            description="Social rhythm stabilization: wake 07:00 and bed 23:00 (within 45 min), "
            "regular meals and first contact",
        )
        r.assign_homework(
            THERAPIST,
            self.chart.at(3, 18, 20),
            homework_id=self.rhythm,
            description="Social rhythm metric every evening; sleep diary every morning",
            due=self.chart.day(10),
        )
        self.therapy.book(r, self.chart.at(3, 18, 25), 10)
        self.trough_result(r, 7, "0.42", "Trough, 12 h after dose, day 5 on 600 mg")
        r.change_dose(
            PRESCRIBER,
            self.chart.at(8, 10, 0),
            medication_id=self.lithium,
            dose=mg(900),
            reason="Trough 0.42 mmol/L on 600 mg, below the 0.6-0.8 target.",
        )
        self.order_trough(r, 8, 14, "Trough 5-7 days after the dose change to 900 mg")

    def levels(self, r: PatientRecord) -> None:
        self.diary(r, 9)
        r.report_side_effect(
            BEN,
            self.chart.at(9, 20),
            medication_id=self.lithium,
            effect="fine hand tremor",
            severity=Severity.MILD,
        )
        r.review_homework(
            THERAPIST, self.chart.at(10, 17, 30), homework_id=self.rhythm, completion="partly"
        )
        self.session(r, 10, 17)
        r.report_side_effect(
            BEN,
            self.chart.at(11, 20),
            medication_id=self.lithium,
            effect="thirst",
            severity=Severity.MILD,
        )
        self.trough_result(r, 14, "0.68", "Trough, day 6 on 900 mg")
        self.order_trough(r, 14, 21, "Weekly trough until two stable levels")
        self.session(r, 17, 24)
        self.observe(r, 20, 21, "sleep", "usual", "In bed by 23:00 most nights; up with the alarm.")
        self.trough_result(r, 21, "0.72", "Trough, day 13 on 900 mg")
        r.write_progress_note(
            PRESCRIBER,
            self.chart.at(21, 14, 30),
            text="Two stable trough levels on 900 mg (0.68 and 0.72 mmol/L). Tremor mild, "
            "thirst settling. Next level in 3 months; eGFR, U&E, calcium, TSH and weight at 6 "
            "months.",
        )
        self.order_trough(r, 21, 112, "Lithium level every 3 months in the first year")

    def rhythm_weeks(self, r: PatientRecord) -> None:
        self.session(r, 24, 31)
        self.questionnaires(r, 28)
        r.record_adherence(
            BEN,
            self.chart.at(28, 21, 0),
            medication_id=self.lithium,
            period_days=28,
            doses_prescribed=28,
            doses_taken=27,
        )
        self.session(r, 31, 38)
        self.observe(r, 35, 21, "mood", "usual", "Brighter; laughing at dinner again.")
        self.session(r, 38, 45)
        r.change_phase(
            PRESCRIBER,
            self.chart.at(42, 11, 0),
            phase=Phase.STABILIZATION,
            reason="Lithium at target (0.68, 0.72 mmol/L); PHQ-9 16 to 12; regular rhythm",
        )
        self.session(r, 45, 52)
        self.observe(r, 49, 21, "spending", "usual", "No unusual purchases.")
        self.session(r, 52, 66, hour=17)
        self.questionnaires(r, 56)
        self.weigh(r, 56, "85.6", "26.4")

    def activation(self, r: PatientRecord) -> None:
        self.observe(
            r,
            60,
            20,
            "sleep",
            "less-than-usual",
            "Up at 4 am two nights running reorganising the garage; says he feels great.",
        )
        self.observe(
            r,
            61,
            21,
            "speech-rate",
            "more-than-usual",
            "Talking fast at dinner, jumping between plans; hard to get a word in.",
        )
        self.observe(
            r,
            62,
            8,
            "spending",
            "much-more-than-usual",
            "Ordered two road bikes and a standing desk online last night (about $3,100).",
        )
        message = uuid4()
        r.send_message(
            THERAPIST,
            self.chart.at(62, 9, 0),
            message_id=message,
            to=[PRESCRIBER.user_id, EMAIL],
            subject="Early activation cues",
            body="Sam has noted short sleep (4.5-5 h), fast speech and a large online purchase "
            "over three days, matching Ben's relapse signature. I've booked an extra session "
            "tomorrow at 16:00; please consider a lithium level and a medication review.",
            regarding=list(self.cues[-3:]),
        )
        r.acknowledge_message(PRESCRIBER, self.chart.at(62, 9, 40), message_id=message)
        self.therapy.book(
            r, self.chart.at(62, 9, 45), 63, hour=16, minutes=30, kind=SessionKind.ACUTE
        )
        check = order_lab(
            r,
            PRESCRIBER,
            self.chart.at(62, 10),
            LITHIUM,
            "Early activation cues: check level and adherence",
            self.chart.day(63),
        )
        self.diary(r, 63)
        result_lab(
            r,
            SYSTEM,
            self.chart.at(63, 14),
            check,
            LITHIUM,
            "0.74",
            "Trough; adherent by his account and pill count",
        )
        r.reassess_medication(
            PRESCRIBER,
            self.chart.at(63, 14, 30),
            medication_id=self.lithium,
            decision="continue",
            assessment="Hypomanic cues for 3 days, no psychosis, insight kept; level 0.74. "
            "Continue 900 mg, protect sleep (rhythm rescue plan with the therapist), review "
            "in one week; lower threshold for an antipsychotic if sleep stays under 6 h.",
        )
        # The 17:00 session of day 66 booked on day 52 still stands: the next one after
        # the acute session is an hour later, not a double booking.
        self.session(r, 63, 66, hour=18)
        self.session(r, 66, 80)
        self.observe(r, 68, 21, "sleep", "usual", "Back in bed by 23:00 four nights in a row.")
        self.observe(
            r, 70, 21, "spending", "usual", "Returned one bike and the desk; no new orders."
        )

    def maintenance(self, r: PatientRecord) -> None:
        self.session(r, 80, 94)
        self.questionnaires(r, 84)
        self.session(r, 94, 108)
        self.session(r, 108, 122)
        self.questionnaires(r, 112)
        self.weigh(r, 112, "86.0", "26.5")
        self.trough_result(r, 112, "0.70", "3-month trough on 900 mg")
        for test in (CREATININE, EGFR, CALCIUM, TSH):
            order_lab(
                r,
                PRESCRIBER,
                self.chart.at(112, 14, 30),
                test,
                "6-monthly monitoring on lithium",
                self.chart.day(182),
            )
        self.session(r, 122, 136)
        self.questionnaires(r, 126)
        r.change_phase(
            PRESCRIBER,
            self.chart.at(126, 11, 0),
            phase=Phase.MAINTENANCE,
            reason="Euthymic for eight weeks on lithium 900 mg; monthly sessions",
        )

    def winter_dip(self, r: PatientRecord) -> None:
        """Depressive cues in the short days: the lithium dose goes up, so a new trough is
        due 5-7 days later; it is due as the demo is loaded, with this morning's PHQ-9."""
        self.observe(
            r,
            131,
            21,
            "mood",
            "less-than-usual",
            "Quiet all week; cancelled football twice and went to bed at 21:30.",
        )
        self.observe(
            r,
            132,
            20,
            "activity",
            "less-than-usual",
            "Napping after work most days; hasn't been on his bike for two weeks.",
        )
        self.questionnaires(r, 133)
        message = uuid4()
        r.send_message(
            THERAPIST,
            self.chart.at(133, 9, 30),
            message_id=message,
            to=[PRESCRIBER.user_id],
            subject="Depressive cues: long sleep and withdrawal",
            body="PHQ-9 up from 5 to 10 (item 9 at 0). He sleeps 9-9.5 h and Sam notes "
            "withdrawal and napping, his depressive signature. No activation cues. I'm "
            "moving him back to weekly sessions; could you review lithium this week? His "
            "last level was 0.70 mmol/L three weeks ago.",
            regarding=[*self.cues[-2:], r.version],
        )
        r.acknowledge_message(PRESCRIBER, self.chart.at(133, 10, 15), message_id=message)
        self.diary(r, 134)
        self.weigh(r, 134, "86.3", "26.6")
        r.change_dose(
            PRESCRIBER,
            self.chart.at(134, 10, 30),
            medication_id=self.lithium,
            dose=mg(1200),
            reason="Breakthrough depressive symptoms on 900 mg (PHQ-9 10, long sleep, "
            "withdrawal; no hypomanic features, no suicidal thoughts) with a level of 0.70 "
            "mmol/L: optimise lithium before adding anything, aiming for 0.8-1.0 mmol/L. "
            "Trough 12 h after the bedtime dose on day 5-7.",
        )
        self.order_trough(r, 134, TODAY + 1, "Trough 5-7 days after the dose change to 1,200 mg")
        self.session(r, 136, 143)
        r.report_side_effect(
            BEN,
            self.chart.at(137, 20),
            medication_id=self.lithium,
            effect="nausea after the evening dose",
            severity=Severity.MILD,
        )
        self.diary(r, TODAY - 1)
        r.send_message(
            PRESCRIBER,
            self.chart.at(TODAY - 1, 17, 30),
            message_id=uuid4(),
            to=[THERAPIST.user_id],
            subject="Lithium 1,200 mg: trough due now",
            body="Day 5 on 1,200 mg, so the trough is due now: drawn tomorrow or the day "
            "after at 09:00, 12 h after his 21:00 dose. Mild nausea after the evening dose "
            "since day 3: I've advised taking it with food. Please look out for tremor, "
            "unsteadiness or confusion, and for any early activation as his mood lifts; his "
            "last PHQ-9 was 10.",
        )
        r.answer_questionnaire(
            BEN,
            self.chart.earlier_today(hours=5),
            instrument=InstrumentCode.PHQ9,
            answers=PHQ9_TODAY,
        )


STORY = Story(
    title="Bipolar II",
    mrn="DEMO-1002",
    email=EMAIL,
    weeks_ago=20,
    demographics=demographics,
    narrative=_Ben,
    steps=(
        ("Ben: evaluation and baseline labs", _Ben.evaluation),
        ("Ben: lithium started, first trough level", _Ben.lithium_start),
        ("Ben: weekly lithium levels until stable", _Ben.levels),
        ("Ben: rhythm stabilization with his partner", _Ben.rhythm_weeks),
        ("Ben: early activation cues noticed and managed", _Ben.activation),
        ("Ben: maintenance and 3-month monitoring", _Ben.maintenance),
        ("Ben: a winter dip, lithium raised, trough due", _Ben.winter_dip),
    ),
    supporter=(SUPPORTER_EMAIL, "Sam Okafor (partner)"),
)
