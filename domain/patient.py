"""The whole patient record: every section joined into one aggregate."""

from __future__ import annotations

from domain.careplan import CarePlanSection
from domain.corrections import CorrectionSection
from domain.labs import LabSection
from domain.measures import MeasuresSection
from domain.medication_management import MedicationSection
from domain.messaging import MessagingSection
from domain.prescribing_safety import PrescribingSafetySection
from domain.registration import RegistrationSection
from domain.safety import SafetySection
from domain.therapy import TherapySection


class PatientRecord(
    RegistrationSection,
    CarePlanSection,
    TherapySection,
    MedicationSection,
    LabSection,
    MeasuresSection,
    SafetySection,
    MessagingSection,
    PrescribingSafetySection,
    CorrectionSection,
):
    """One patient's clinical record; its id is the patient id."""
