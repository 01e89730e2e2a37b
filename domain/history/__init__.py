"""What a patient's record says of each thing it tracks, folded once from its facts (one
`domain.rules.care.Fact` per event, in log order) and read by everything that shows or
reasons about it: the role views, the board, the rules, the FHIR export, the pages and the
reminders.

- `medication_courses`: each medication from its start (or the switch that began it) to
  its stop, with its doses, schedules, side effects and adherence;
- `sessions`: each therapy session, scheduled and then attended, missed or cancelled;
- `lab_orders`: each lab order, open until a final result closes it;
- `demographics`: who the patient is, as last registered or updated;
- `care_team`: who is (and was) on the care team;
- `messages`: each message and whom it still waits for.

Facts about something the facts never started (a dose change of a medication whose start
the reader may not see) are left out, as every reader of the record left them out before.
"""

from __future__ import annotations

from domain.history.care_team import care_team
from domain.history.demographics import PatientDetails, demographics
from domain.history.lab_orders import LabOrder, lab_orders
from domain.history.medications import DoseStep, MedicationCourse, medication_courses
from domain.history.messages import Message, messages
from domain.history.sessions import Session, sessions

__all__ = [
    "DoseStep",
    "LabOrder",
    "MedicationCourse",
    "Message",
    "PatientDetails",
    "Session",
    "care_team",
    "demographics",
    "lab_orders",
    "medication_courses",
    "messages",
    "sessions",
]
