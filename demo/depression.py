"""Story 1: recurrent major depression (F33.1).

Ava, 38, a dispatcher off work for three weeks: behavioral-activation CBT every week,
sertraline started at 25 mg and titrated to 100 mg, PHQ-9 every two weeks from 19 down to
remission, a graded return to work her employer's occupational-health nurse tracks, and a
move from the acute phase through stabilization to relapse prevention. In the last week she
logs sexual side effects and tells the therapist she is thinking of stopping sertraline, as
she stopped fluoxetine; the therapist's handoff to the prescriber, sent the day before the
demo is loaded, waits for the prescriber.
"""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from typing import Any
from uuid import uuid4

from demo.common import (
    EMPLOYER,
    HARBOR,
    MAPLE,
    PCP,
    PRESCRIBER,
    RIVERSIDE,
    SYSTEM,
    THERAPIST,
    Chart,
    Story,
    Therapy,
    answers,
    mg,
    patient_actor,
    schedule,
)
from domain.dose import DoseStep
from domain.instruments import InstrumentCode
from domain.medication import Comorbidity, PriorTrial
from domain.patient import PatientRecord
from domain.vocabulary import (
    Frequency,
    Modality,
    Phase,
    RiskLevel,
    Role,
    Severity,
)

EMAIL = "ava@demo"
AVA = patient_actor(EMAIL)
SERTRALINE = "36437"
TODAY = 126  # the story's day on which the demo is loaded (18 weeks)

# PHQ-9 every two weeks (story day -> items 1-9): 19, 17, 15, 11, 8, 6, 4, 4, 3.
PHQ9 = {
    0: answers(3, 2, 3, 3, 2, 2, 2, 1, 1, item10=2),
    14: answers(3, 2, 2, 3, 2, 2, 2, 1, 0, item10=2),
    28: answers(2, 2, 2, 2, 2, 2, 2, 1, 0, item10=2),
    42: answers(2, 1, 1, 2, 1, 2, 1, 1, 0, item10=1),
    56: answers(1, 1, 1, 2, 1, 1, 1, 0, 0, item10=1),
    70: answers(1, 1, 0, 1, 1, 1, 1, 0, 0, item10=1),
    84: answers(1, 0, 0, 1, 1, 1, 0, 0, 0, item10=0),
    98: answers(0, 1, 0, 1, 1, 0, 1, 0, 0, item10=0),
    112: answers(0, 0, 0, 1, 1, 1, 0, 0, 0, item10=0),
}

# Sleep diary (story night -> hours asleep, quality 1-5).
SLEEP = {
    0: ("4.5", 2),
    6: ("5.0", 2),
    13: ("5.5", 2),
    20: ("6.0", 3),
    27: ("6.5", 3),
    34: ("7.0", 4),
    41: ("7.25", 4),
}

# Weekly session notes, by story day.
NOTES = {
    7: "Activity monitoring reviewed: mostly in bed until noon, no contact with friends. "
    "Built a values list (family, being useful at work, music). Scheduled 3 small activities.",
    14: "Completed 2 of 3 activities (walk with sister, 20 min guitar). Noted mood lift "
    "after the walk. Added morning anchor: up by 08:00 with breakfast.",
    21: "Avoidance of work email identified as a key TRAP pattern; practised TRAC "
    "alternative (read 5 emails, reply to 1). Nausea from sertraline settling.",
    28: "Up by 08:00 on 5 of 7 days. Activity schedule 4/week. Rumination after dinner; "
    "introduced attention-to-experience exercise.",
    42: "Missed last week (childcare). Catching up: activity schedule held without sessions; "
    "discussed graded return to work, she wants to start with three shifts a week.",
    49: "Planned the first week back with her supervisor's schedule; rehearsed what to say "
    "to colleagues. Energy better; enjoyment returning in music.",
    56: "Back at work 3 shifts: tired but managed. PHQ-9 8. Moving to stabilization; "
    "homework: keep the 3 anchors (wake time, walk, evening call with sister).",
    63: "Second week of shifts without absence. Worked on assertive request for a "
    "predictable rota.",
    70: "Four shifts this week. Reviewed early warning signs of the last two episodes "
    "(withdrawal, skipping breakfast, not answering texts).",
    77: "Mood steady. Drafted a relapse-prevention plan with her sister's role in it.",
    84: "PHQ-9 4: remission. Full rota from next week. Agreed to space sessions to every "
    "two weeks.",
    98: "Two weeks on full rota. PHQ-9 4 again. Relapse-prevention phase; plan reviewed "
    "and copied for her.",
    112: "Stable. Plan to continue sessions monthly for three months, sertraline at "
    "least 6-12 months after remission as agreed with the prescriber.",
}


def demographics() -> dict[str, Any]:
    return {
        "mrn": "DEMO-1001",
        "given_name": "Ava",
        "family_name": "Moreno",
        "birth_date": date(1987, 5, 12),
        "sex_at_birth": "female",
        "telehealth_preference": "either",
        "email": EMAIL,
    }


class _Ava:
    """Ava's care, step by step; ids shared between steps live on the instance."""

    def __init__(self, chart: Chart) -> None:
        self.chart = chart
        self.therapy = Therapy(chart, THERAPIST, Modality.BEHAVIORAL_ACTIVATION)
        self.sertraline, self.work_goal, self.activities = uuid4(), uuid4(), uuid4()
        self.monitoring, self.anchors = uuid4(), uuid4()
        self.marks: dict[str, int] = {}  # record positions that later messages refer to

    def phq9(self, r: PatientRecord, day: int) -> None:
        r.answer_questionnaire(
            AVA, self.chart.at(day, 9, 30), instrument=InstrumentCode.PHQ9, answers=PHQ9[day]
        )

    def sleep(self, r: PatientRecord, night: int) -> None:
        hours, quality = SLEEP[night]
        r.log_sleep(
            AVA,
            self.chart.at(night + 1, 7, 45),
            night_of=self.chart.day(night),
            hours_asleep=Decimal(hours),
            quality=quality,
            bedtime=time(23, 30),
            wake_time=time(7, 30) if night >= 13 else time(9, 45),
        )

    def week(self, r: PatientRecord, day: int, next_day: int | None = None) -> None:
        """A session day: sleep diary and PHQ-9 (when due) first, then the session."""
        if day - 1 in SLEEP:
            self.sleep(r, day - 1)
        if day in PHQ9:
            self.phq9(r, day)
        self.therapy.attend(r, NOTES[day], day + 7 if next_day is None else next_day)

    def intake(self, r: PatientRecord) -> None:
        self.chart.enrol(r, ((THERAPIST, RIVERSIDE), (PRESCRIBER, RIVERSIDE), (PCP, MAPLE)), EMAIL)
        self.therapy.book(r, self.chart.at(0, 8, 10), 0)
        self.phq9(r, 0)
        r.record_condition(
            THERAPIST,
            self.chart.at(0, 10, 20),
            icd10="F33.1",
            description="Major depressive disorder, recurrent, moderate",
        )
        r.assess_risk(
            THERAPIST,
            self.chart.at(0, 10, 30),
            level=RiskLevel.LOW,
            method="clinical-interview",
            factors=[
                "PHQ-9 item 9 scored 1: passive wish not to wake up, no plan or intent",
                "protective: her two children, close sister, no past attempts",
            ],
            plan="Safety plan written together (warning signs, sister, 988 lifeline); "
            "review item 9 at every PHQ-9.",
        )
        r.set_goal(
            THERAPIST,
            self.chart.at(0, 10, 35),
            goal_id=self.work_goal,
            description="Return to her full dispatcher rota at Harbor Logistics",
            functional_target="5 of 5 scheduled shifts a week",
        )
        r.set_goal(
            THERAPIST,
            self.chart.at(0, 10, 36),
            goal_id=self.activities,
            description="Re-engage in valued activities (family, music, friends)",
            functional_target="3 planned activities a week",
        )
        r.set_therapy_target(
            THERAPIST,
            self.chart.at(0, 10, 38),
            target_id=uuid4(),
            modality=Modality.BEHAVIORAL_ACTIVATION,
            description="Reduce withdrawal and avoidance: activity scheduling around values",
        )
        r.assign_homework(
            THERAPIST,
            self.chart.at(0, 10, 40),
            homework_id=self.monitoring,
            description="Hour-by-hour activity and mood monitoring for one week",
            due=self.chart.day(7),
        )
        r.change_phase(
            THERAPIST,
            self.chart.at(0, 10, 45),
            phase=Phase.ACUTE,
            reason="Recurrent episode, PHQ-9 19, off work for three weeks",
        )
        self.therapy.attend(
            r,
            "Intake. Third episode since 2014; onset 2 months ago after a "
            "reorganisation at work. Behavioral activation agreed, weekly.",
            7,
        )

    def medication_start(self, r: PatientRecord) -> None:
        self.sleep(r, 0)
        r.record_evaluation(
            PRESCRIBER,
            self.chart.at(2, 14, 0),
            symptom_history="Low mood, anhedonia, early waking and poor appetite for 8 weeks; "
            "two earlier episodes (2014, 2019), each remitting with treatment.",
            comorbidities=[Comorbidity(icd10="G43.909", description="Migraine, unspecified")],
            prior_trials=[
                PriorTrial(
                    drug="fluoxetine",
                    rxnorm="4493",
                    max_dose=mg(20),
                    weeks=16,
                    response="partial",
                    stopped_because="sexual side effects",
                )
            ],
            family_history="Mother treated for depression.",
            preferences="Willing to try an SSRI again; wants to avoid weight gain and sedation.",
        )
        r.start_medication(
            PRESCRIBER,
            self.chart.at(2, 14, 30),
            medication_id=self.sertraline,
            drug="sertraline",
            rxnorm=SERTRALINE,
            dose=mg(25),
            schedule=schedule(Frequency.EVERY_MORNING, time(8)),
            indication="Major depressive disorder, recurrent",
        )
        r.plan_titration(
            PRESCRIBER,
            self.chart.at(2, 14, 35),
            medication_id=self.sertraline,
            steps=[
                DoseStep(on_or_after=self.chart.day(9), dose=mg(50)),
                DoseStep(on_or_after=self.chart.day(30), dose=mg(100)),
            ],
        )
        r.report_side_effect(
            AVA,
            self.chart.at(6, 19, 10),
            medication_id=self.sertraline,
            effect="nausea",
            severity=Severity.MILD,
        )
        self.week(r, 7)
        r.review_homework(
            THERAPIST,
            self.chart.at(7, 11, 0),
            homework_id=self.monitoring,
            completion="partly",
            comment="Five of seven days filled in.",
        )
        r.change_dose(
            PRESCRIBER,
            self.chart.at(9, 15, 0),
            medication_id=self.sertraline,
            dose=mg(50),
            reason="Tolerating 25 mg; nausea mild and settling. Step 1 of the titration plan.",
        )

    def acute_weeks(self, r: PatientRecord) -> None:
        self.week(r, 14)
        r.assign_homework(
            THERAPIST,
            self.chart.at(14, 11, 5),
            homework_id=self.anchors,
            description="Daily anchors: up by 08:00, breakfast, 20-minute walk",
            due=self.chart.day(21),
        )
        self.week(r, 21)
        r.write_psychotherapy_note(
            THERAPIST,
            self.chart.at(21, 11, 15),
            text="Shame about 'letting the team down' is stronger than the low mood itself; "
            "links to her father's view of illness. Explore in later sessions.",
        )
        self.week(r, 28)
        r.review_homework(
            THERAPIST,
            self.chart.at(28, 11, 10),
            homework_id=self.anchors,
            completion="done",
        )
        r.change_dose(
            PRESCRIBER,
            self.chart.at(30, 15, 0),
            medication_id=self.sertraline,
            dose=mg(100),
            reason="Partial response at 4 weeks (PHQ-9 19 to 15), well tolerated; step 2 of "
            "the titration plan. If early waking persists at week 6, consider trazodone at night.",
        )
        self.marks["sertraline 100 mg"] = r.version
        self.sleep(r, 34)
        self.therapy.miss(r, "childcare fell through; called to apologise", 42)

    def stabilization(self, r: PatientRecord) -> None:
        self.sleep(r, 41)
        sleep_entry = r.version
        self.phq9(r, 42)
        self.therapy.attend(r, NOTES[42], 49)
        message = uuid4()
        r.send_message(
            THERAPIST,
            self.chart.at(42, 12, 30),
            message_id=message,
            to=[PRESCRIBER.user_id],
            subject="Insomnia resolved",
            body="Her sleep diary shows 7 hours or more, waking at 07:30, for two weeks. "
            "Consider keeping sertraline at 100 mg without adding trazodone; she prefers no "
            "sleep aid.",
            regarding=[self.marks["sertraline 100 mg"], sleep_entry],
        )
        r.acknowledge_message(PRESCRIBER, self.chart.at(43, 9, 10), message_id=message)
        r.add_team_member(
            SYSTEM,
            self.chart.at(47, 9, 0),
            user_id=EMPLOYER.user_id,
            role=Role.EMPLOYER,
            organisation=HARBOR,
        )
        r.recommend_functional(
            THERAPIST,
            self.chart.at(47, 14, 0),
            setting="work",
            recommendation="Graded return to work from next week: 3 day shifts a week for two "
            "weeks, then 4, then the full rota; no night shifts or overtime until reviewed.",
            valid_until=self.chart.moment(98, 17),
        )
        self.week(r, 49)
        self.week(r, 56)
        r.change_phase(
            THERAPIST,
            self.chart.at(56, 11, 15),
            phase=Phase.STABILIZATION,
            reason="Response: PHQ-9 19 to 8, back at work three shifts a week",
        )

    def shifts(
        self, r: PatientRecord, start: int, done: int, expected: int, note: str | None = None
    ) -> None:
        """The employer's weekly record of shifts worked, from `start` for seven days."""
        r.record_functional_outcome(
            EMPLOYER,
            self.chart.at(start + 6, 16, 0),
            setting="work",
            measure="attendance",
            period_start=self.chart.day(start),
            period_end=self.chart.day(start + 6),
            achieved=done,
            expected=expected,
            note=note,
        )

    def return_to_work(self, r: PatientRecord) -> None:
        self.shifts(r, 50, 3, 3, "First week back: day shifts only, as recommended.")
        self.week(r, 63)
        self.shifts(r, 57, 3, 3)
        self.week(r, 70)
        self.shifts(r, 64, 4, 4)
        self.week(r, 77)
        self.shifts(r, 71, 3, 4, "One shift missed: migraine (certified).")
        self.week(r, 84, 98)

    def relapse_prevention(self, r: PatientRecord) -> None:
        self.shifts(r, 78, 4, 4)
        r.reassess_medication(
            PRESCRIBER,
            self.chart.at(85, 15, 0),
            medication_id=self.sertraline,
            decision="continue",
            assessment="Remission (PHQ-9 4) on 100 mg; continue 6-12 months, then review.",
        )
        self.shifts(r, 85, 5, 5)
        self.week(r, 98, 112)
        r.change_phase(
            THERAPIST,
            self.chart.at(98, 11, 15),
            phase=Phase.RELAPSE_PREVENTION,
            reason="PHQ-9 below 5 on two consecutive measures; back on her full rota",
        )
        self.shifts(r, 92, 5, 5)
        r.record_adherence(
            AVA,
            self.chart.at(104, 20, 0),
            medication_id=self.sertraline,
            period_days=28,
            doses_prescribed=28,
            doses_taken=27,
        )
        self.shifts(r, 99, 5, 5)
        self.week(r, 112, 140)
        self.shifts(r, 106, 5, 5)
        self.shifts(r, 113, 5, 5)

    def side_effects(self, r: PatientRecord) -> None:
        """Sexual side effects and the wish to stop: the therapist hands over to the
        prescriber the day before the demo is loaded (not yet acknowledged)."""
        r.report_side_effect(
            AVA,
            self.chart.at(TODAY - 3, 21, 15),
            medication_id=self.sertraline,
            effect="low libido and delayed orgasm",
            severity=Severity.MODERATE,
        )
        side_effect = r.version
        r.write_progress_note(
            THERAPIST,
            self.chart.at(TODAY - 1, 11, 50),
            text="Phone call at Ava's request: the sexual side effects she logged are "
            "straining things with her partner and she is thinking of stopping sertraline "
            "herself, as she did fluoxetine. Mood still good. Advised against stopping "
            "abruptly; passed to the prescriber.",
        )
        r.send_message(
            THERAPIST,
            self.chart.at(TODAY - 1, 12, 15),
            message_id=uuid4(),
            to=[PRESCRIBER.user_id],
            subject="Sertraline side effects: she may stop it herself",
            body="Ava is four weeks into relapse prevention (PHQ-9 3) and her plan is "
            "sertraline 100 mg for 6-12 months after remission. The sexual side effects she "
            "logged are what made her stop fluoxetine, and she is now thinking of stopping "
            "sertraline on her own. I advised her not to stop abruptly and said you would be "
            "in touch. Could you review the options with her before her next session?",
            regarding=[side_effect],
        )


STORY = Story(
    title="Recurrent major depression",
    mrn="DEMO-1001",
    email=EMAIL,
    weeks_ago=18,
    demographics=demographics,
    narrative=_Ava,
    steps=(
        ("Ava: intake, assessment and safety plan", _Ava.intake),
        ("Ava: sertraline started and titrated to 50 mg", _Ava.medication_start),
        ("Ava: behavioral activation, sertraline 100 mg", _Ava.acute_weeks),
        ("Ava: stabilization and return-to-work plan", _Ava.stabilization),
        ("Ava: graded return to work", _Ava.return_to_work),
        ("Ava: remission and relapse prevention", _Ava.relapse_prevention),
        ("Ava: side effects handed over to the prescriber", _Ava.side_effects),
    ),
)
