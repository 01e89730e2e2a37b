"""The command table: every clinical action a person records, bound by type.

One entry per action: the resource path it is recorded at, the request body (its schema),
the record's command (the method itself, not its name: a rename breaks here, loudly, and
mypy sees the call), the path parameter naming the item it acts on, and the body field
holding the id of what it creates. The HTTP API builds its routes from this table, the
pages build their forms' commands from it, and imports run through it; adding a clinical
action is its domain section, its schema and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.schemas import clinical as s
from application.schemas.base import CommandBody
from application.schemas.patients import EmergencyContactCreate
from domain.events import Actor
from domain.patient import PatientRecord

RecordCommand = Callable[..., None]


@dataclass(frozen=True)
class CommandSpec:
    path: str
    body: type[CommandBody]
    run: RecordCommand  # an unbound PatientRecord method: run(record, actor, at, **fields)
    tag: str
    item: str | None = None  # the path parameter naming the medication, session, ...
    created: str | None = None  # the body field holding the id of what this creates
    status: int = 201
    # Body fields that, left unset, take the clinic's setting of that name
    # (Services.command_defaults: the PDMP check's state is TANDEM_PDMP_STATE).
    clinic_defaults: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.run.__name__

    def bind(
        self,
        actor: Actor,
        body: CommandBody,
        item: UUID | None = None,
        defaults: Mapping[str, Any] | None = None,
    ) -> Callable[[PatientRecord], None]:
        """The command on a record, with the body's fields (and the item, from the path);
        a field of `clinic_defaults` the body left unset takes the clinic's setting."""
        fields: dict[str, Any] = body.fields()
        for name in self.clinic_defaults:
            if fields.get(name) is None and defaults and defaults.get(name) is not None:
                fields[name] = defaults[name]
        if self.item is not None:
            fields[self.item] = item
        at = body.at()
        run = self.run

        def command(record: PatientRecord) -> None:
            run(record, actor, at, **fields)

        return command

    def created_id(self, body: CommandBody) -> UUID | None:
        found = getattr(body, self.created) if self.created else None
        return found if isinstance(found, UUID) else None


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "/emergency-contact",
        EmergencyContactCreate,
        PatientRecord.set_emergency_contact,
        "patients",
        status=200,
    ),
    CommandSpec("/conditions", s.ConditionCreate, PatientRecord.record_condition, "care plan"),
    CommandSpec(
        "/neutropenia-pathway",
        s.NeutropeniaPathwayRecord,
        PatientRecord.record_neutropenia_pathway,
        "care plan",
    ),
    CommandSpec(
        "/pregnancy-status",
        s.PregnancyStatusRecord,
        PatientRecord.record_pregnancy_status,
        "care plan",
    ),
    CommandSpec(
        "/level-targets", s.LevelTargetCreate, PatientRecord.set_level_target, "medication"
    ),
    CommandSpec("/goals", s.GoalCreate, PatientRecord.set_goal, "care plan", created="goal_id"),
    CommandSpec("/phase", s.PhaseChange, PatientRecord.change_phase, "care plan", status=200),
    CommandSpec(
        "/functional-recommendations",
        s.FunctionalRecommendationCreate,
        PatientRecord.recommend_functional,
        "care plan",
    ),
    CommandSpec(
        "/sessions",
        s.SessionCreate,
        PatientRecord.schedule_session,
        "therapy",
        created="session_id",
    ),
    CommandSpec(
        "/sessions/{session_id}/attendance",
        s.SessionAttendance,
        PatientRecord.record_attendance,
        "therapy",
        "session_id",
    ),
    CommandSpec(
        "/sessions/{session_id}/missed",
        s.SessionMiss,
        PatientRecord.record_missed,
        "therapy",
        "session_id",
    ),
    CommandSpec(
        "/sessions/{session_id}/cancellation",
        s.SessionCancellation,
        PatientRecord.cancel_session,
        "therapy",
        "session_id",
    ),
    CommandSpec(
        "/progress-notes", s.ProgressNoteCreate, PatientRecord.write_progress_note, "therapy"
    ),
    CommandSpec(
        "/psychotherapy-notes",
        s.PsychotherapyNoteCreate,
        PatientRecord.write_psychotherapy_note,
        "therapy",
    ),
    CommandSpec(
        "/therapy-targets",
        s.TherapyTargetCreate,
        PatientRecord.set_therapy_target,
        "therapy",
        created="target_id",
    ),
    CommandSpec(
        "/homework",
        s.HomeworkCreate,
        PatientRecord.assign_homework,
        "therapy",
        created="homework_id",
    ),
    CommandSpec(
        "/homework/{homework_id}/review",
        s.HomeworkReview,
        PatientRecord.review_homework,
        "therapy",
        "homework_id",
    ),
    CommandSpec("/evaluations", s.EvaluationCreate, PatientRecord.record_evaluation, "medication"),
    CommandSpec(
        "/medications",
        s.MedicationCreate,
        PatientRecord.start_medication,
        "medication",
        created="medication_id",
    ),
    CommandSpec(
        "/medications/{medication_id}/titration-plan",
        s.TitrationPlanCreate,
        PatientRecord.plan_titration,
        "medication",
        "medication_id",
    ),
    CommandSpec(
        "/medications/{medication_id}/dose",
        s.DoseChange,
        PatientRecord.change_dose,
        "medication",
        "medication_id",
    ),
    CommandSpec(
        "/medications/{medication_id}/timing",
        s.TimingChange,
        PatientRecord.change_timing,
        "medication",
        "medication_id",
    ),
    CommandSpec(
        "/medications/{medication_id}/switch",
        s.MedicationSwitch,
        PatientRecord.switch_medication,
        "medication",
        "medication_id",
        created="to_medication_id",
    ),
    CommandSpec(
        "/medications/{medication_id}/side-effects",
        s.SideEffectCreate,
        PatientRecord.report_side_effect,
        "medication",
        "medication_id",
    ),
    CommandSpec(
        "/medications/{medication_id}/reported-doses",
        s.DoseReport,
        PatientRecord.report_dose_taken,
        "medication",
        "medication_id",
    ),
    CommandSpec(
        "/medications/{medication_id}/adherence",
        s.AdherenceCreate,
        PatientRecord.record_adherence,
        "medication",
        "medication_id",
    ),
    CommandSpec(
        "/medications/{medication_id}/reassessment",
        s.ReassessmentCreate,
        PatientRecord.reassess_medication,
        "medication",
        "medication_id",
    ),
    CommandSpec(
        "/medications/{medication_id}/taper",
        s.TaperCreate,
        PatientRecord.start_taper,
        "medication",
        "medication_id",
    ),
    CommandSpec(
        "/medications/{medication_id}/stop",
        s.MedicationStop,
        PatientRecord.stop_medication,
        "medication",
        "medication_id",
    ),
    CommandSpec(
        "/medication-reconciliations",
        s.MedicationReconciliationCreate,
        PatientRecord.reconcile_medications,
        "medication",
    ),
    CommandSpec(
        "/naloxone-discussions",
        s.NaloxoneDiscussion,
        PatientRecord.discuss_naloxone,
        "medication",
    ),
    CommandSpec(
        "/prescription-monitoring-checks",
        s.PrescriptionMonitoringCheck,
        PatientRecord.check_prescription_monitoring,
        "medication",
        clinic_defaults=("state",),
    ),
    CommandSpec(
        "/lab-orders", s.LabOrderCreate, PatientRecord.order_lab, "labs", created="order_id"
    ),
    CommandSpec(
        "/lab-orders/{order_id}/results",
        s.LabResultCreate,
        PatientRecord.record_lab_result,
        "labs",
        "order_id",
    ),
    CommandSpec(
        "/questionnaires", s.QuestionnaireCreate, PatientRecord.answer_questionnaire, "measures"
    ),
    CommandSpec("/sleep-logs", s.SleepLogCreate, PatientRecord.log_sleep, "measures"),
    CommandSpec(
        "/supporter-observations",
        s.SupporterObservationCreate,
        PatientRecord.record_supporter_observation,
        "measures",
    ),
    CommandSpec("/vitals", s.VitalsCreate, PatientRecord.record_vitals, "measures"),
    CommandSpec(
        "/functional-outcomes",
        s.FunctionalOutcomeCreate,
        PatientRecord.record_functional_outcome,
        "measures",
    ),
    CommandSpec("/lapses", s.LapseCreate, PatientRecord.report_lapse, "safety"),
    CommandSpec("/risk-assessments", s.RiskAssessmentCreate, PatientRecord.assess_risk, "safety"),
    CommandSpec(
        "/messages", s.MessageCreate, PatientRecord.send_message, "messages", created="message_id"
    ),
    CommandSpec(
        "/messages/{message_id}/replies",
        s.MessageReply,
        PatientRecord.reply_to_message,
        "messages",
        "message_id",
        created="reply_id",
    ),
    CommandSpec(
        "/messages/{message_id}/acknowledgement",
        s.MessageAcknowledgement,
        PatientRecord.acknowledge_message,
        "messages",
        "message_id",
    ),
    CommandSpec(
        "/entered-in-error",
        s.EntryErrorCreate,
        PatientRecord.mark_entered_in_error,
        "corrections",
    ),
    CommandSpec("/amendments", s.EntryAmendmentCreate, PatientRecord.amend_entry, "corrections"),
)
BY_NAME: dict[str, CommandSpec] = {c.name: c for c in COMMANDS}


def command_for(run: RecordCommand) -> CommandSpec:
    """The table's entry for a record command (by the method itself)."""
    return BY_NAME[run.__name__]
