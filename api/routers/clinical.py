"""Recording clinical actions: one route per command, declared as a table.

Every route has the same shape: authenticate, parse the body, then (on the writer, inside
the store transaction) check access through the policy, run the record's command and save.
The table says which body goes to which command; the factory below builds the route.

(No `from __future__ import annotations` here: FastAPI must see the real body types that
the factory closes over.)
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastapi import APIRouter

from api.deps import (
    CommandBody,
    CommandReceipt,
    CurrentUser,
    ExpectedVersion,
    ServicesDep,
    run_command,
)
from api.errors import WRITE_ERRORS
from api.schemas import clinical as s


@dataclass(frozen=True)
class Route:
    path: str
    body: type[CommandBody]
    command: str
    tag: str
    item: str | None = None  # the path parameter naming the medication, session, ...
    created: str | None = None  # the body field holding the id of what this creates
    status: int = 201


ROUTES = [
    Route("/conditions", s.ConditionCreate, "record_condition", "care plan"),
    Route("/goals", s.GoalCreate, "set_goal", "care plan", created="goal_id"),
    Route("/phase", s.PhaseChange, "change_phase", "care plan", status=200),
    Route(
        "/functional-recommendations",
        s.FunctionalRecommendationCreate,
        "recommend_functional",
        "care plan",
    ),
    Route("/sessions", s.SessionCreate, "schedule_session", "therapy", created="session_id"),
    Route(
        "/sessions/{session_id}/attendance",
        s.SessionAttendance,
        "record_attendance",
        "therapy",
        "session_id",
    ),
    Route("/sessions/{session_id}/missed", s.SessionMiss, "record_missed", "therapy", "session_id"),
    Route(
        "/sessions/{session_id}/cancellation",
        s.SessionCancellation,
        "cancel_session",
        "therapy",
        "session_id",
    ),
    Route("/progress-notes", s.ProgressNoteCreate, "write_progress_note", "therapy"),
    Route("/psychotherapy-notes", s.PsychotherapyNoteCreate, "write_psychotherapy_note", "therapy"),
    Route(
        "/therapy-targets",
        s.TherapyTargetCreate,
        "set_therapy_target",
        "therapy",
        created="target_id",
    ),
    Route("/homework", s.HomeworkCreate, "assign_homework", "therapy", created="homework_id"),
    Route(
        "/homework/{homework_id}/review",
        s.HomeworkReview,
        "review_homework",
        "therapy",
        "homework_id",
    ),
    Route("/evaluations", s.EvaluationCreate, "record_evaluation", "medication"),
    Route(
        "/medications",
        s.MedicationCreate,
        "start_medication",
        "medication",
        created="medication_id",
    ),
    Route(
        "/medications/{medication_id}/titration-plan",
        s.TitrationPlanCreate,
        "plan_titration",
        "medication",
        "medication_id",
    ),
    Route(
        "/medications/{medication_id}/dose",
        s.DoseChange,
        "change_dose",
        "medication",
        "medication_id",
    ),
    Route(
        "/medications/{medication_id}/timing",
        s.TimingChange,
        "change_timing",
        "medication",
        "medication_id",
    ),
    Route(
        "/medications/{medication_id}/switch",
        s.MedicationSwitch,
        "switch_medication",
        "medication",
        "medication_id",
        created="to_medication_id",
    ),
    Route(
        "/medications/{medication_id}/side-effects",
        s.SideEffectCreate,
        "report_side_effect",
        "medication",
        "medication_id",
    ),
    Route(
        "/medications/{medication_id}/adherence",
        s.AdherenceCreate,
        "record_adherence",
        "medication",
        "medication_id",
    ),
    Route(
        "/medications/{medication_id}/reassessment",
        s.ReassessmentCreate,
        "reassess_medication",
        "medication",
        "medication_id",
    ),
    Route(
        "/medications/{medication_id}/taper",
        s.TaperCreate,
        "start_taper",
        "medication",
        "medication_id",
    ),
    Route(
        "/medications/{medication_id}/stop",
        s.MedicationStop,
        "stop_medication",
        "medication",
        "medication_id",
    ),
    Route("/lab-orders", s.LabOrderCreate, "order_lab", "labs", created="order_id"),
    Route(
        "/lab-orders/{order_id}/results", s.LabResultCreate, "record_lab_result", "labs", "order_id"
    ),
    Route("/questionnaires", s.QuestionnaireCreate, "answer_questionnaire", "measures"),
    Route("/sleep-logs", s.SleepLogCreate, "log_sleep", "measures"),
    Route("/vitals", s.VitalsCreate, "record_vitals", "measures"),
    Route(
        "/functional-outcomes", s.FunctionalOutcomeCreate, "record_functional_outcome", "measures"
    ),
    Route("/lapses", s.LapseCreate, "report_lapse", "safety"),
    Route("/risk-assessments", s.RiskAssessmentCreate, "assess_risk", "safety"),
    Route("/messages", s.MessageCreate, "send_message", "messages", created="message_id"),
    Route(
        "/messages/{message_id}/acknowledgement",
        s.MessageAcknowledgement,
        "acknowledge_message",
        "messages",
        "message_id",
    ),
]


def _endpoint(route: Route) -> Callable[..., Awaitable[CommandReceipt]]:
    Body = route.body

    async def record(
        services: Any,
        user: Any,
        patient_id: UUID,
        body: CommandBody,
        expected_version: int | None,
        item: UUID | None,
    ) -> CommandReceipt:
        fields = body.fields()
        if route.item is not None:
            fields[route.item] = item
        created = fields.get(route.created) if route.created else None

        def command(r: Any) -> None:
            getattr(r, route.command)(user.actor, body.at(), **fields)

        return await run_command(services, user, patient_id, command, expected_version, created)

    if route.item is None:
        return _named(route, _collection(Body, record))
    return _named(route, _item(Body, record))


def _collection(
    Body: Any, record: Callable[..., Awaitable[CommandReceipt]]
) -> Callable[..., Awaitable[CommandReceipt]]:
    async def endpoint(
        patient_id: UUID,
        body: Body,
        user: CurrentUser,
        services: ServicesDep,
        expected_version: ExpectedVersion = None,
    ) -> CommandReceipt:
        return await record(services, user, patient_id, body, expected_version, None)

    return endpoint


def _item(
    Body: Any, record: Callable[..., Awaitable[CommandReceipt]]
) -> Callable[..., Awaitable[CommandReceipt]]:
    async def endpoint(
        patient_id: UUID,
        item_id: UUID,
        body: Body,
        user: CurrentUser,
        services: ServicesDep,
        expected_version: ExpectedVersion = None,
    ) -> CommandReceipt:
        return await record(services, user, patient_id, body, expected_version, item_id)

    return endpoint


def _named(
    route: Route, endpoint: Callable[..., Awaitable[CommandReceipt]]
) -> Callable[..., Awaitable[CommandReceipt]]:
    endpoint.__name__ = route.command
    endpoint.__doc__ = f"{route.command.replace('_', ' ').capitalize()}."
    return endpoint


def build_router() -> APIRouter:
    router = APIRouter(prefix="/patients/{patient_id}")
    for route in ROUTES:
        path = route.path.replace("{" + route.item + "}", "{item_id}") if route.item else route.path
        router.add_api_route(
            path,
            _endpoint(route),
            methods=["POST"],
            status_code=route.status,
            response_model=CommandReceipt,
            responses=WRITE_ERRORS,
            tags=[route.tag],
            operation_id=route.command,
        )
    return router
