"""Story 4: an anxious college student, 19 (F41.1).

Dev, a second-year student: brief CBT for generalized anxiety, escitalopram started at 5 mg
with the under-25 follow-up (contact within 7 days, visit within 4 weeks, PHQ-9 and GAD-7 at
4-6 weeks, again after the dose change). The campus counselor is on the team for functional
matters only: the therapist sends recommendations (reduced course load, exam
accommodations), the counselor records class attendance. Short telehealth check-ins carry
Dev through midterms and finals to remission at the end of the semester.

The next semester, on a full course load, worry returns before midterms: at the prescriber's
mid-semester review, three days before the demo is loaded, escitalopram goes up to 15 mg,
so the under-25 contact (within 7 days) and visit (within 4 weeks) are due again. Today,
between exams, Dev's PHQ-9 has item 9 at 1: a same-day risk assessment is due, and the
therapist has not yet seen him.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any
from uuid import uuid4

from demo.common import (
    COUNSELOR,
    NORTHFIELD,
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
    today,
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
    Role,
    SessionKind,
    SessionMode,
    Severity,
)

EMAIL = "dev@demo"
DEV = patient_actor(EMAIL)
ESCITALOPRAM = "321988"

TODAY = 168  # the story's day on which the demo is loaded (24 weeks)
REVIEW = TODAY - 3  # the prescriber's mid-semester review: escitalopram to 15 mg

GAD7 = {
    0: answers(3, 2, 3, 2, 2, 2, 2),  # 16
    14: answers(2, 2, 3, 2, 2, 2, 2),  # 15
    28: answers(2, 2, 2, 2, 1, 2, 1),  # 12
    42: answers(2, 1, 2, 1, 1, 2, 1),  # 10
    56: answers(1, 1, 2, 1, 1, 1, 1),  # 8
    70: answers(1, 1, 1, 1, 1, 1, 1),  # 7
    84: answers(1, 1, 1, 1, 0, 1, 1),  # 6
    98: answers(1, 2, 1, 1, 1, 1, 1),  # 8 (finals week)
    108: answers(1, 1, 0, 1, 0, 1, 0),  # 4
    136: answers(1, 0, 0, 1, 0, 1, 0),  # 3 (booster, new semester)
    150: answers(1, 1, 1, 1, 1, 1, 1),  # 7
    157: answers(2, 1, 2, 1, 1, 2, 1),  # 10
    REVIEW: answers(2, 2, 2, 2, 1, 2, 1),  # 12 (midterms)
}
PHQ9 = {
    0: answers(1, 1, 2, 1, 1, 1, 1, 1, 0),  # 9
    35: answers(1, 1, 1, 1, 1, 1, 0, 0, 0),  # 6
    56: answers(1, 0, 1, 1, 1, 0, 0, 0, 0),  # 4
    108: answers(1, 0, 0, 1, 1, 0, 0, 0, 0),  # 3
    136: answers(0, 0, 1, 1, 0, 0, 0, 0, 0),  # 2
    REVIEW: answers(1, 1, 2, 1, 1, 1, 0, 0, 0),  # 7, item 9 at 0
}
# Between two midterms, three days on 15 mg: 11, item 9 at 1.
PHQ9_TODAY = answers(1, 1, 2, 2, 1, 2, 1, 0, 1)
CSSRS_NEGATIVE = {"1": 0, "2": 0, "6": 0}

# Bookings: the prescriber's video calls, and the therapist's short check-ins during exams.
CALL: dict[str, Any] = {"mode": SessionMode.TELEHEALTH, "minutes": 20}
CHECK_IN: dict[str, Any] = {
    "mode": SessionMode.TELEHEALTH,
    "minutes": 25,
    "kind": SessionKind.SKILLS,
}

NOTES = {
    0: "Intake. Constant worry about grades, health and family money since high school, "
    "worse this year; tension, poor sleep before tests, skipped classes when anxious. "
    "Brief CBT (8-10 sessions) agreed.",
    7: "Worry log reviewed: most worries about exams and letting parents down. Introduced "
    "worry postponement (15 min at 18:00).",
    14: "Postponement used on 4 days. Started testing predictions: 'if I ask a question in "
    "class everyone will think I'm stupid'.",
    21: "Behavioral experiment done (asked a question; nothing bad happened). Discussed a "
    "reduced course load; Dev wants to drop one elective.",
    28: "Attending more classes. Cognitive restructuring of 'one bad grade ruins everything'.",
    35: "Exam planning: study timetable with breaks; rehearsed a brief relaxation routine.",
    42: "Midterms next week. Coping card for exam mornings; telehealth check-ins agreed.",
    49: "Telehealth check-in mid-exams: two midterms done, used the coping card; slept 7 h.",
    53: "Telehealth check-in: last midterm tomorrow; worry postponement holding.",
    56: "Midterms done, all sat with accommodations. GAD-7 8. Moving to every two weeks.",
    70: "Steady. Reviewed intolerance of uncertainty about grades not yet published.",
    84: "Planning for finals using what worked at midterms; telehealth check-ins booked.",
    94: "Telehealth check-in, finals week 1: on schedule, some early waking.",
    98: "Telehealth check-in: two finals left, more worry (GAD-7 8); used postponement and "
    "the coping card.",
    102: "Telehealth session after the last exam: did better than feared. Drafted a "
    "relapse-prevention plan for next semester.",
    108: "End of semester. GAD-7 4. Relapse-prevention plan agreed; booster session at the "
    "start of next semester.",
    136: "Booster session, first week of the new semester on a full course load. GAD-7 3. "
    "Reviewed the relapse-prevention plan and his early signs (skipping breakfast, "
    "studying past midnight, avoiding office hours).",
    150: "Full load plus 10 hours a week at the library; worry about the statistics course "
    "creeping back and studying past 1 am. Restarted worry postponement; weekly sessions "
    "through midterms.",
    157: "GAD-7 10. Two classes missed before a quiz. Rebuilt the exam timetable with breaks "
    "and a midnight cut-off; coping card updated. Telehealth check-ins during midterms.",
    REVIEW - 1: "Telehealth check-in, the day before his first midterm: slept 6 h, worry high but "
    "used postponement. Mid-semester review with the prescriber tomorrow.",
}


def birth_date() -> date:
    """Nineteen and a half today: the story is about a 19-year-old whenever it is loaded."""
    now = today()
    return date(now.year - 20, now.month, min(now.day, 28)) + timedelta(days=180)


def demographics() -> dict[str, Any]:
    return {
        "mrn": "DEMO-1004",
        "given_name": "Dev",
        "family_name": "Shah",
        "birth_date": birth_date(),
        "sex_at_birth": "male",
        "telehealth_preference": "telehealth",
        "email": EMAIL,
    }


class _Dev:
    """Dev's care, step by step."""

    def __init__(self, chart: Chart) -> None:
        self.chart = chart
        self.therapy = Therapy(chart, THERAPIST, Modality.CBT, hour=15)
        # The prescriber's under-25 follow-up: phone/video contacts and clinic visits are
        # booked independently of each other.
        self.contacts = Therapy(chart, PRESCRIBER, Modality.MEDICATION_MANAGEMENT, hour=11)
        self.visits = Therapy(chart, PRESCRIBER, Modality.MEDICATION_MANAGEMENT, hour=11)
        self.escitalopram = uuid4()
        self.worry_log = uuid4()

    def measures(self, r: PatientRecord, day: int) -> None:
        if day in GAD7:
            r.answer_questionnaire(
                DEV, self.chart.at(day, 8, 30), instrument=InstrumentCode.GAD7, answers=GAD7[day]
            )
        if day in PHQ9:
            r.answer_questionnaire(
                DEV, self.chart.at(day, 8, 35), instrument=InstrumentCode.PHQ9, answers=PHQ9[day]
            )

    def session(self, r: PatientRecord, day: int, next_day: int | None, **booking: Any) -> None:
        self.measures(r, day)
        self.therapy.attend(r, NOTES[day], next_day, **booking)

    def attendance(
        self, r: PatientRecord, by: Actor, start: int, attended: int, expected: int, note: str
    ) -> None:
        """Classes attended over the two weeks from `start`, recorded the evening after."""
        r.record_functional_outcome(
            by,
            self.chart.at(start + 14, 18, 0),
            setting="school",
            measure="attendance",
            period_start=self.chart.day(start),
            period_end=self.chart.day(start + 13),
            achieved=attended,
            expected=expected,
            note=note,
        )

    def cssrs(self, r: PatientRecord, day: int) -> None:
        r.answer_questionnaire(
            PRESCRIBER,
            self.chart.at(day, 11, 10),
            instrument=InstrumentCode.CSSRS,
            answers=CSSRS_NEGATIVE,
        )

    # --- steps -------------------------------------------------------------------------

    def intake(self, r: PatientRecord) -> None:
        self.chart.enrol(r, ((THERAPIST, RIVERSIDE), (PRESCRIBER, RIVERSIDE)), EMAIL)
        self.therapy.book(r, self.chart.at(0, 8, 10), 0)
        self.measures(r, 0)
        r.record_condition(
            THERAPIST,
            self.chart.at(0, 15, 20),
            icd10="F41.1",
            description="Generalized anxiety disorder",
        )
        r.set_goal(
            THERAPIST,
            self.chart.at(0, 15, 25),
            goal_id=uuid4(),
            description="Finish the semester: go to class and sit every exam",
            functional_target="attend 90% of scheduled classes",
        )
        r.set_therapy_target(
            THERAPIST,
            self.chart.at(0, 15, 30),
            target_id=uuid4(),
            modality=Modality.CBT,
            description="Worry about exams and health: postponement, testing catastrophic "
            "predictions, approaching avoided classes",
        )
        r.assign_homework(
            THERAPIST,
            self.chart.at(0, 15, 35),
            homework_id=self.worry_log,
            description="Worry log: when, what about, how anxious (0-10), what I did",
            due=self.chart.day(7),
        )
        r.change_phase(
            THERAPIST,
            self.chart.at(0, 15, 40),
            phase=Phase.ACUTE,
            reason="GAD-7 16, missing classes before tests",
        )
        self.therapy.attend(r, NOTES[0], 7)

    def escitalopram_start(self, r: PatientRecord) -> None:
        r.record_evaluation(
            PRESCRIBER,
            self.chart.at(3, 11, 0),
            symptom_history="Excessive worry most days for over two years, restlessness, "
            "muscle tension, poor sleep before exams; panic-like surges twice this term. "
            "No mania, no substance use beyond occasional alcohol.",
            prior_trials=[
                PriorTrial(
                    drug="hydroxyzine",
                    weeks=2,
                    response="none",
                    stopped_because="drowsy in morning classes",
                )
            ],
            family_history="Mother: panic disorder, treated with sertraline.",
            preferences="Wants to start with the lowest dose; worried about side effects.",
        )
        self.cssrs(r, 3)
        r.start_medication(
            PRESCRIBER,
            self.chart.at(3, 11, 30),
            medication_id=self.escitalopram,
            drug="escitalopram",
            rxnorm=ESCITALOPRAM,
            dose=mg(5),
            schedule=schedule(Frequency.EVERY_MORNING, time(8)),
            indication="Generalized anxiety disorder",
        )
        r.plan_titration(
            PRESCRIBER,
            self.chart.at(3, 11, 35),
            medication_id=self.escitalopram,
            steps=[DoseStep(on_or_after=self.chart.day(17), dose=mg(10))],
        )
        self.contacts.book(r, self.chart.at(3, 11, 40), 8, **CALL)
        self.visits.book(r, self.chart.at(3, 11, 41), 24, minutes=30)
        r.report_side_effect(
            DEV,
            self.chart.at(6, 20, 0),
            medication_id=self.escitalopram,
            effect="jittery, restless in the first days",
            severity=Severity.MILD,
        )
        r.review_homework(
            THERAPIST, self.chart.at(7, 15, 10), homework_id=self.worry_log, completion="done"
        )
        self.session(r, 7, 14)
        self.contacts.attend(
            r,
            "Under-25 follow-up, day 5 on escitalopram 5 mg: jitteriness settling, sleeping "
            "better, no suicidal thoughts or agitation. Continue; plan 10 mg from day 14.",
        )
        r.add_team_member(
            SYSTEM,
            self.chart.at(10, 9, 0),
            user_id=COUNSELOR.user_id,
            role=Role.SCHOOL_COUNSELOR,
            organisation=NORTHFIELD,
        )
        self.session(r, 14, 21)
        r.change_dose(
            PRESCRIBER,
            self.chart.at(17, 11, 0),
            medication_id=self.escitalopram,
            dose=mg(10),
            reason="Tolerating 5 mg for two weeks, anxiety still high (GAD-7 15); per plan.",
        )
        self.contacts.book(r, self.chart.at(17, 11, 5), 21, **CALL)
        self.contacts.attend(
            r,
            "Under-25 follow-up, day 4 on 10 mg: mild nausea on day 1 only, no activation, "
            "no suicidal thoughts.",
        )
        self.session(r, 21, 28)
        r.recommend_functional(
            THERAPIST,
            self.chart.at(21, 16, 10),
            setting="school",
            recommendation="Reduced course load this semester: four courses instead of five, "
            "withdrawing from one elective without academic penalty.",
            valid_until=self.chart.moment(112, 17),
        )
        self.cssrs(r, 24)
        self.visits.attend(
            r,
            "Three-week visit (under-25 rule): less restless, sleep 7 h, worry still frequent. "
            "Continue 10 mg; review 4 weeks after the increase.",
            45,
            minutes=30,
        )

    def midterms(self, r: PatientRecord) -> None:
        self.session(r, 28, 35)
        self.attendance(r, COUNSELOR, 14, 14, 18, "Five courses; missed two test days.")
        self.session(r, 35, 42)
        r.recommend_functional(
            THERAPIST,
            self.chart.at(38, 16, 0),
            setting="school",
            recommendation="Exam accommodations for midterms and finals: 1.5x time, a "
            "reduced-distraction room, and a short break allowed in exams over two hours.",
            valid_until=self.chart.moment(112, 17),
        )
        recommendation = r.version
        message = uuid4()
        r.send_message(
            THERAPIST,
            self.chart.at(38, 16, 10),
            message_id=message,
            to=[COUNSELOR.user_id],
            subject="Exam accommodations",
            body="A recommendation for exam accommodations is now on Dev's record. Could you "
            "arrange them with Disability Services before midterms start on "
            f"{self.chart.day(49).isoformat()}?",
            regarding=[recommendation],
        )
        r.acknowledge_message(COUNSELOR, self.chart.at(39, 9, 15), message_id=message)
        self.session(r, 42, 49, **CHECK_IN)
        self.attendance(r, COUNSELOR, 28, 15, 16, "Four courses from this fortnight.")
        r.reassess_medication(
            PRESCRIBER,
            self.chart.at(45, 11, 20),
            medication_id=self.escitalopram,
            decision="continue",
            assessment="Four weeks on 10 mg: GAD-7 16 to 10, PHQ-9 6, no activation or "
            "suicidal thoughts. Continue 10 mg.",
        )
        self.visits.attend(
            r,
            "Four weeks after the increase to 10 mg (under-25 rule): GAD-7 10, PHQ-9 6, no "
            "activation or suicidal thoughts. Midterms next week; continue 10 mg.",
            73,
            **CALL,
        )
        self.session(r, 49, 53, **CHECK_IN)
        self.session(r, 53, 56)
        self.session(r, 56, 70)
        r.change_phase(
            THERAPIST,
            self.chart.at(56, 16, 0),
            phase=Phase.STABILIZATION,
            reason="GAD-7 16 to 8; midterms sat with accommodations",
        )
        self.attendance(r, COUNSELOR, 42, 16, 16, "Midterm week included; all midterms sat.")

    def finals(self, r: PatientRecord) -> None:
        self.session(r, 70, 84)
        self.attendance(r, COUNSELOR, 56, 15, 16, "One class missed (flu).")
        self.visits.attend(
            r,
            "Monthly check: well, no side effects. Continue 10 mg through finals; review "
            "over the winter break.",
            122,
            **CALL,
        )
        self.session(r, 84, 94, **CHECK_IN)
        self.attendance(r, DEV, 70, 16, 16, "Recorded by Dev.")
        self.session(r, 94, 98, **CHECK_IN)
        self.session(r, 98, 102, mode=SessionMode.TELEHEALTH)
        self.attendance(r, COUNSELOR, 84, 15, 16, "Finals period: all exams sat.")
        self.session(r, 102, 108)
        self.session(r, 108, 136)
        r.change_phase(
            THERAPIST,
            self.chart.at(108, 16, 0),
            phase=Phase.RELAPSE_PREVENTION,
            reason="End of semester, GAD-7 4: relapse-prevention plan for next semester",
        )
        r.recommend_functional(
            THERAPIST,
            self.chart.at(108, 16, 10),
            setting="school",
            recommendation="Next semester: return to a full course load; keep the exam "
            "accommodations.",
            valid_until=self.chart.moment(240, 17),
        )

    def next_semester(self, r: PatientRecord) -> None:
        self.visits.attend(
            r,
            "Winter-break review by video: GAD-7 4 at the end of term, sleeping well, no side "
            "effects. Continue escitalopram 10 mg through the spring semester (6-12 months "
            "after response); mid-semester review booked.",
            REVIEW,
            **CALL,
        )
        self.session(r, 136, 150)
        self.attendance(r, COUNSELOR, 129, 19, 20, "Full course load (five courses).")
        self.session(r, 150, 157)
        r.change_phase(
            THERAPIST,
            self.chart.at(150, 16, 0),
            phase=Phase.STABILIZATION,
            reason="Worry returning under a full course load (GAD-7 3 to 7): weekly sessions "
            "through midterms",
        )
        self.session(r, 157, REVIEW - 1, **CHECK_IN)
        self.attendance(r, COUNSELOR, 143, 18, 20, "Missed two classes before a quiz.")
        self.session(r, REVIEW - 1, TODAY + 1, **CHECK_IN)

    def midterm_review(self, r: PatientRecord) -> None:
        """The dose goes up three days before the demo is loaded; today's PHQ-9 flags item 9."""
        self.measures(r, REVIEW)
        self.cssrs(r, REVIEW)
        self.visits.attend(
            r,
            "Mid-semester review by video: GAD-7 12 (4 at the end of last term), PHQ-9 7 with "
            "item 9 at 0, C-SSRS screen negative; worry and short sleep with a full load and "
            "midterms this week. No side effects on 10 mg. Escitalopram to 15 mg; under-25 "
            "follow-up: a call in 5 days, a visit within 4 weeks, PHQ-9 weekly in the app.",
            REVIEW + 21,
            minutes=30,
        )
        r.change_dose(
            PRESCRIBER,
            self.chart.at(REVIEW, 11, 35),
            medication_id=self.escitalopram,
            dose=mg(15),
            reason="GAD-7 back up to 12 under a full course load and midterms, after five "
            "months on 10 mg without side effects.",
        )
        change = r.version
        self.contacts.book(r, self.chart.at(REVIEW, 11, 40), REVIEW + 5, **CALL)
        message = uuid4()
        r.send_message(
            PRESCRIBER,
            self.chart.at(REVIEW, 11, 45),
            message_id=message,
            to=[THERAPIST.user_id],
            subject="Escitalopram raised to 15 mg",
            body="Raised today for worry before midterms (GAD-7 12, PHQ-9 7, item 9 at 0, "
            "C-SSRS negative). Under 25: I will call him in 5 days and see him within 4 "
            "weeks. Please watch for restlessness, agitation or suicidal thoughts at your "
            "check-ins.",
            regarding=[change],
        )
        r.acknowledge_message(THERAPIST, self.chart.at(REVIEW, 16, 30), message_id=message)
        r.answer_questionnaire(
            DEV,
            self.chart.earlier_today(hours=2),
            instrument=InstrumentCode.PHQ9,
            answers=PHQ9_TODAY,
        )


STORY = Story(
    title="Anxious college student",
    mrn="DEMO-1004",
    email=EMAIL,
    weeks_ago=24,
    demographics=demographics,
    narrative=_Dev,
    steps=(
        ("Dev: intake and brief CBT plan", _Dev.intake),
        ("Dev: escitalopram with under-25 follow-up", _Dev.escitalopram_start),
        ("Dev: accommodations and midterms", _Dev.midterms),
        ("Dev: finals with telehealth check-ins", _Dev.finals),
        ("Dev: a new semester on a full course load", _Dev.next_semester),
        ("Dev: escitalopram raised before midterms", _Dev.midterm_review),
    ),
)
