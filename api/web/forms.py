"""The patient page's forms: their inputs, the commands of the command table they run, and
a refused form shown again with each reason beside its field.

Every form is parsed with the use case's own request schema (application/commands.py names
the schema and the record command of each action) and run through the recording use case,
so the same policy and the same domain rules apply; nothing here validates on its own terms.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from uuid import UUID, uuid4

from pydantic import ValidationError

from api.errors import Problem
from api.web import charts
from application.commands import CommandSpec, RecordCommand, command_for
from domain.corrections import (
    CORRECTABLE_KINDS,
    ENTERED_IN_ERROR,
    EntryAmended,
    EntryMarkedInError,
)
from domain.errors import (
    FieldError,
    InvalidInput,
)
from domain.events import now
from domain.history import LabOrder, Session, sessions
from domain.history import lab_orders as history_lab_orders
from domain.instruments import INSTRUMENTS, InstrumentCode
from domain.labs import LabOrdered, LabResulted
from domain.measures import QuestionnaireAnswered, SleepLogged, SupporterObservationRecorded
from domain.medication import (
    AdherenceRecorded,
    DoseChanged,
    DoseReported,
    DoseTimingChanged,
    MedicationStarted,
    MedicationStopped,
    MedicationSwitched,
    SideEffectReported,
    TitrationPlanned,
)
from domain.messaging import MessageAcknowledged, MessageSent
from domain.patient import PatientRecord
from domain.record import CORRECTABLE, RecordEvent
from domain.safety import LapseReported, RiskAssessed
from domain.therapy import (
    ProgressNoteWritten,
    PsychotherapyNoteWritten,
    SessionAttended,
    SessionScheduled,
)
from domain.users import User
from projections.role_views import facts_of_entries

# --- forms ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """A form on the patient page: its inputs, the API routes (schema + command) it runs,
    the events it records (whose authors may use it) and what the page says on success."""

    name: str
    title: str
    inputs: tuple[str, ...]
    commands: tuple[RecordCommand, ...]
    records: tuple[type[RecordEvent], ...]
    done: str
    anchor: str = "actions"
    # Where a refusal of a field this form does not show as such belongs (its input).
    aliases: Mapping[str, str] = field(default_factory=dict)


def _route(run: RecordCommand) -> CommandSpec:
    return command_for(run)


PHQ9_ITEMS = (
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself, or that you are a failure",
    "Trouble concentrating on things",
    "Moving or speaking slowly, or being fidgety or restless",
    "Thoughts that you would be better off dead, or of hurting yourself",
    "How difficult have these problems made things (not scored)",
)
GAD7_ITEMS = (
    "Feeling nervous, anxious, or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Becoming easily annoyed or irritable",
    "Feeling afraid, as if something awful might happen",
)
FORM_INSTRUMENTS = {InstrumentCode.PHQ9: PHQ9_ITEMS, InstrumentCode.GAD7: GAD7_ITEMS}


def _answer_inputs(code: InstrumentCode) -> tuple[str, ...]:
    return tuple(f"answers.{item.key}" for item in INSTRUMENTS[code].items)


# How many steps the taper form offers (the API takes up to 20).
TAPER_STEPS = 4

ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action(
            "attended",
            "Session attended, with progress note",
            ("session_id", "text", "modality", "clinical_time"),
            (PatientRecord.record_attendance, PatientRecord.write_progress_note),
            (SessionAttended, ProgressNoteWritten),
            "Attendance and progress note recorded.",
        ),
        Action(
            "document",
            "Document a session now",
            ("mode", "modality", "kind", "duration_minutes", "text", "clinical_time"),
            (
                PatientRecord.schedule_session,
                PatientRecord.record_attendance,
                PatientRecord.write_progress_note,
            ),
            (SessionScheduled, SessionAttended, ProgressNoteWritten),
            "Session recorded as held, with its progress note.",
            aliases={"starts_at": "clinical_time", "session_id": "clinical_time"},
        ),
        Action(
            "schedule",
            "Schedule a session",
            ("starts_at", "duration_minutes", "mode", "modality", "kind", "repeat", "every"),
            (PatientRecord.schedule_session,),
            (SessionScheduled,),
            "Session scheduled.",
        ),
        Action(
            "psychotherapy",
            "Psychotherapy note (private)",
            ("text", "clinical_time"),
            (PatientRecord.write_psychotherapy_note,),
            (PsychotherapyNoteWritten,),
            "Psychotherapy note recorded, kept apart from the record.",
        ),
        Action(
            "risk",
            "Suicide-risk assessment",
            ("level", "method", "factors", "plan", "clinical_time"),
            (PatientRecord.assess_risk,),
            (RiskAssessed,),
            "Risk assessment recorded; the alerts it answers are closed.",
            anchor="attention",
        ),
        Action(
            "start",
            "Start a medication",
            (
                "drug",
                "rxnorm",
                "dose.amount",
                "dose.unit",
                "schedule.frequency",
                "route",
                "indication",
                "sud_treatment",
                "override_reason",
                "clinical_time",
            ),
            (PatientRecord.start_medication,),
            (MedicationStarted,),
            "Medication started; its monitoring is now on the board.",
            anchor="medications",
        ),
        Action(
            "stop",
            "Stop a medication",
            ("medication_id", "reason", "clinical_time"),
            (PatientRecord.stop_medication,),
            (MedicationStopped,),
            "Medication stopped.",
            anchor="medications",
        ),
        Action(
            "switch",
            "Switch to another medication",
            (
                "medication_id",
                "drug",
                "rxnorm",
                "dose.amount",
                "dose.unit",
                "schedule.frequency",
                "route",
                "indication",
                "cross_taper",
                "sud_treatment",
                "reason",
                "override_reason",
                "clinical_time",
            ),
            (PatientRecord.switch_medication,),
            (MedicationSwitched,),
            "Switch recorded: the old medication is stopped and the new one started.",
            anchor="medications",
            aliases={"to_medication_id": "medication_id"},
        ),
        Action(
            "taper",
            "Taper a medication",
            (
                "medication_id",
                *(
                    f"steps.{n}.{part}"
                    for n in range(TAPER_STEPS)
                    for part in ("on_or_after", "dose.amount", "dose.unit")
                ),
                "reason",
                "clinical_time",
            ),
            (PatientRecord.plan_titration,),
            (TitrationPlanned,),
            "Taper recorded; the team's therapists have its steps.",
            anchor="medications",
        ),
        Action(
            "timing",
            "Change when a dose is taken, or split it",
            (
                "medication_id",
                "schedule.frequency",
                "dose_per_administration.amount",
                "dose_per_administration.unit",
                "reason",
                "override_reason",
                "clinical_time",
            ),
            (PatientRecord.change_timing,),
            (DoseTimingChanged,),
            "Timing change recorded.",
            anchor="medications",
        ),
        Action(
            "order",
            "Order a lab test",
            ("loinc", "test_name", "reason", "due_by", "clinical_time"),
            (PatientRecord.order_lab,),
            (LabOrdered,),
            "Lab test ordered.",
        ),
        Action(
            "dose",
            "Change a dose",
            (
                "medication_id",
                "dose.amount",
                "dose.unit",
                "reason",
                "override_reason",
                "clinical_time",
            ),
            (PatientRecord.change_dose,),
            (DoseChanged,),
            "Dose change recorded.",
        ),
        Action(
            "reported",
            "Dose the patient reports taking",
            ("medication_id", "dose.amount", "dose.unit", "note", "clinical_time"),
            (PatientRecord.report_dose_taken,),
            (DoseReported,),
            "Reported dose recorded (an observation, not an order).",
        ),
        *(
            Action(
                code.value,
                f"{charts.instrument_label(code.value)} answers",
                (*_answer_inputs(code), "clinical_time"),
                (PatientRecord.answer_questionnaire,),
                (QuestionnaireAnswered,),
                f"{charts.instrument_label(code.value)} recorded.",
            )
            for code in FORM_INSTRUMENTS
        ),
        Action(
            "lab",
            "Lab result for an open order",
            (
                "order_id",
                "value",
                "value_text",
                "unit",
                "reference_low",
                "reference_high",
                "final",
                "comment",
                "clinical_time",
            ),
            (PatientRecord.record_lab_result,),
            (LabResulted,),
            "Lab result recorded.",
        ),
        Action(
            "lapse",
            "Report a lapse",
            ("substance", "occurred_on", "circumstances", "clinical_time"),
            (PatientRecord.report_lapse,),
            (LapseReported,),
            "Lapse recorded; contact, assessment and plan review are now on the board.",
        ),
        Action(
            "message",
            "Message the team",
            ("to", "subject", "body", "regarding"),
            (PatientRecord.send_message,),
            (MessageSent,),
            "Message sent.",
        ),
        Action(
            "correct",
            "Mark an entry entered in error",
            ("entry_version", "reason"),
            (PatientRecord.mark_entered_in_error,),
            (EntryMarkedInError,),
            "Entry marked entered in error; it is left out of the lists, charts and rules.",
            anchor="timeline",
        ),
        Action(
            "amend",
            "Amend an entry's text",
            ("entry_version", "field", "value", "reason"),
            (PatientRecord.amend_entry,),
            (EntryAmended,),
            "Entry amended.",
            anchor="timeline",
        ),
        Action(
            "observe",
            "What you noticed",
            ("cue", "change", "observation", "clinical_time"),
            (PatientRecord.record_supporter_observation,),
            (SupporterObservationRecorded,),
            "Thank you: your observation is recorded for the care team.",
        ),
        Action(
            "reply",
            "Reply",
            ("message_id", "body"),
            (PatientRecord.reply_to_message,),
            (MessageSent,),
            "Reply sent.",
            anchor="threads",
        ),
        Action(
            "acknowledge",
            "Acknowledge a message",
            ("message_id",),
            (PatientRecord.acknowledge_message,),
            (MessageAcknowledged,),
            "Message acknowledged.",
            anchor="messages",
        ),
    )
}
# The patient's own forms on /me (api/web/patient.py): the same actions, commands and
# checks as the patient page's, a few more that a patient records of themselves. The words
# a patient reads (titles, labels, confirmations) are the page's own (pt_me.html).
PORTAL_ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        *(ACTIONS[code.value] for code in FORM_INSTRUMENTS),
        Action(
            "sleep",
            "Sleep log",
            ("night_of", "hours_asleep", "quality", "bedtime", "wake_time"),
            (PatientRecord.log_sleep,),
            (SleepLogged,),
            "Sleep log recorded.",
        ),
        Action(
            "adherence",
            "Doses taken or missed",
            ("medication_id", "period_days", "doses_prescribed", "doses_taken"),
            (PatientRecord.record_adherence,),
            (AdherenceRecorded,),
            "Doses recorded.",
        ),
        Action(
            "side-effect",
            "Side effect",
            ("medication_id", "effect", "severity"),
            (PatientRecord.report_side_effect,),
            (SideEffectReported,),
            "Side effect recorded.",
        ),
        ACTIONS["lapse"],
        ACTIONS["message"],
    )
}
# Where a refusal about a field the form does not show belongs.
ALIASES = {
    "loinc": "order_id",
    "test_name": "order_id",
    "instrument": None,
    **{f"changes.{name}": "value" for name in ("text", "reason", "note", "comment", "plan")},
}


@dataclass
class FormState:
    """A submitted form, shown again: what was typed, and each refusal by input."""

    form: str
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def value(self, form: str, name: str) -> Any:
        return self.values.get(name, "") if form == self.form else ""

    def error(self, form: str, name: str) -> list[str]:
        return self.errors.get(name, []) if form == self.form else []

    def summary(self) -> list[tuple[str | None, str]]:
        """(input name or None, message) for the page's error summary."""
        found: list[tuple[str | None, str]] = [
            (name, f"{label(name)}: {reason}")
            for name, reasons in self.errors.items()
            for reason in reasons
        ]
        return found + [(None, reason) for reason in self.general]


# What a page says for a refusal that is about no field (the error map gives the status).
GENERAL_WORDS = {
    "access_denied": "You may not record on this patient's record.",
    "conflict": "Someone else changed this record at the same moment. Check it and try again.",
}


def state_for(action: Action, problem: Problem) -> FormState:
    """A refused form, shown again: each refused field beside its input, the rest above."""
    if problem.kind == "not_permitted":
        return FormState(action.name, general=[f"Not permitted: {problem.message}"])
    if problem.fields:
        return place_errors(action, action.name, problem.fields)
    if problem.kind == "rule_violation":
        return place_errors(action, action.name, [FieldError("(record)", problem.message)])
    return FormState(action.name, general=[GENERAL_WORDS.get(problem.kind, problem.message)])


def parse_id(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


def label(name: str) -> str:
    if name.startswith("answers."):
        return f"Item {name.removeprefix('answers.')}"
    return name.replace("_", " ").replace(".", " ").capitalize()


def input_id(form: str, name: str) -> str:
    return f"{form}-{name}".replace(".", "-").replace("_", "-")


def place_errors(action: Action, form: str, problems: Iterable[FieldError]) -> FormState:
    """Put each refusal beside the input it is about: the input of that name, the input a
    dotted field lies under ("to.0" -> "to"), the first input under a named group ("dose"
    -> "dose.amount"); otherwise above the form."""
    state = FormState(form)
    for problem in problems:
        name: str | None = problem.field
        if name not in action.inputs:
            name = {**ALIASES, **action.aliases}.get(problem.field, problem.field)
        if name is not None and name not in action.inputs:
            name = next(
                (
                    i
                    for i in sorted(action.inputs, key=len, reverse=True)
                    if name.startswith(i + ".")
                ),
                None,
            ) or next((i for i in action.inputs if i.startswith(f"{name}.")), None)
        if name is None:
            said = f"{label(problem.field)}: {problem.reason}"
            if said not in state.general:
                state.general.append(said)
        elif problem.reason not in state.errors.get(name, []):
            # Once per input: a form running two commands (attendance and its note) may hear
            # the same refusal of a shared input from both.
            state.errors.setdefault(name, []).append(problem.reason)
    return state


def unflatten(values: Mapping[str, Any]) -> dict[str, Any]:
    """Form fields to the API's JSON shape: "dose.amount" -> {"dose": {"amount": ...}}.
    A blank field is left out, as a JSON client would leave it out."""
    data: dict[str, Any] = {}
    for key, value in values.items():
        if value in ("", []):
            continue
        node = data
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return data


def item_id(data: dict[str, Any], name: str) -> UUID:
    """The id a route takes from its path (the medication, order, message...)."""
    raw = data.pop(name, None)
    if raw is None:
        raise InvalidInput.single(name, "is required")
    found = parse_id(str(raw))
    if found is None:
        raise InvalidInput.single(name, "is not one of the choices offered")
    return found


Command = Callable[[PatientRecord], None]


def bind(user: User, run: RecordCommand, data: Mapping[str, Any], item: UUID | None) -> Command:
    """Validate `data` with the command's own schema and bind the record command, exactly as
    the API's route for it does (both from the command table)."""
    spec = _route(run)
    return spec.bind(user.actor, spec.body.model_validate(dict(data)), item)


# The inputs a form takes as one line of text and a request takes as a list: a message's
# entry numbers (spaces or commas), a risk assessment's factors (commas or semicolons).
LISTS: dict[str, Callable[[str], list[str]]] = {
    "regarding": lambda text: text.replace(",", " ").split(),
    "factors": lambda text: [f.strip() for f in text.replace(";", ",").split(",") if f.strip()],
}


def build_command(
    action: Action,
    user: User,
    data: dict[str, Any],
    orders: Mapping[str, LabOrder],
    zone: tzinfo | None = None,
) -> Command:
    """The command a submitted form runs. Every schema is tried before anything is refused,
    so that the person sees every problem at once."""
    problems: list[FieldError] = []
    commands: list[Command] = []

    def attempt(command: RecordCommand, part: Mapping[str, Any], item: UUID | None = None) -> None:
        try:
            commands.append(bind(user, command, part, item))
        except ValidationError as exc:
            problems.extend(InvalidInput.from_validation_error(exc).errors)
        except InvalidInput as exc:
            problems.extend(exc.errors)

    data = _listed(data)
    when = {"clinical_time": data["clinical_time"]} if "clinical_time" in data else {}
    item: UUID | None = None
    route = _route(action.commands[0])
    if route.item is not None:
        try:
            item = item_id(data, route.item)
        except InvalidInput as exc:
            problems.extend(exc.errors)
    if action.name == "attended":
        _attended(data, when, item, attempt)
    elif action.name == "lab":
        # The order's code and name as the record holds them, not as a form could claim.
        order = orders.get(str(item)) if item is not None else None
        if item is not None and order is None:
            problems.append(FieldError("order_id", "is not one of this record's lab orders"))
        given = {
            **data,
            "loinc": order.loinc if order else None,
            "test_name": order.test_name if order else None,
        }
        attempt(PatientRecord.record_lab_result, given, item)
        if order is None:  # already said: the order is missing or unknown
            problems = [p for p in problems if p.field not in ("loinc", "test_name")]
    elif action.name == "amend":
        # One field of the entry, named in the form, with its new text.
        changes = {data["field"]: data.get("value", "")} if data.get("field") else {}
        given = {k: v for k, v in data.items() if k not in ("field", "value")}
        attempt(PatientRecord.amend_entry, {**given, "changes": changes})
        problems = [FieldError("field", p.reason) if p.field == "changes" else p for p in problems]
    elif action.name == "taper":
        # A taper is a plan of steps down (with its reason and the therapists' handoff).
        taper = {**data, **_steps_listed(data), "direction": "down"}
        attempt(PatientRecord.plan_titration, taper, item)
    elif action.name == "document":
        _document_now(data, attempt)
    elif action.name == "schedule":
        problems.extend(_schedule_series(data, attempt, zone))
    elif action.name in (c.value for c in FORM_INSTRUMENTS):
        attempt(PatientRecord.answer_questionnaire, {**data, "instrument": action.name})
    else:
        attempt(action.commands[0], data, item)
    if problems:
        raise InvalidInput(problems)

    def run_all(record: PatientRecord) -> None:
        for command in commands:
            command(record)

    return run_all


def _listed(data: dict[str, Any]) -> dict[str, Any]:
    """The inputs typed as one line (LISTS) as the lists a request carries."""
    return {
        name: LISTS[name](value) if name in LISTS and isinstance(value, str) else value
        for name, value in data.items()
    }


def _attended(
    data: Mapping[str, Any],
    when: Mapping[str, Any],
    item: UUID | None,
    attempt: Callable[[RecordCommand, Mapping[str, Any], UUID | None], None],
) -> None:
    """A scheduled session held, and its progress note, in one write."""
    note = {k: v for k, v in data.items() if k in ("text", "modality")}
    attempt(PatientRecord.record_attendance, when, item)
    attempt(
        PatientRecord.write_progress_note,
        {**when, **note, "session_id": str(item) if item else None},
        None,
    )


def _steps_listed(data: Mapping[str, Any]) -> dict[str, Any]:
    """A taper's step rows ("steps.0.dose.amount"...) as the API's list of steps, up to the
    last row with anything in it, each keeping its row's number (so a refusal of a step
    names the row it is about). No row at all: no steps, which the schema refuses."""
    rows = data.get("steps")
    if not isinstance(rows, dict):
        return {}
    filled = [int(n) for n in rows if n.isdigit()]
    return {"steps": [rows.get(str(n), {}) for n in range(max(filled) + 1)] if filled else []}


def _document_now(
    data: Mapping[str, Any],
    attempt: Callable[[RecordCommand, Mapping[str, Any], UUID | None], None],
) -> None:
    """One session, scheduled, held and noted in one write: at the time given, or now."""
    moment = data.get("clinical_time") or now().isoformat()
    session = uuid4()
    held = {"clinical_time": moment}
    booking = {k: data[k] for k in ("duration_minutes", "mode", "modality", "kind") if k in data}
    attempt(
        PatientRecord.schedule_session,
        {**held, **booking, "session_id": str(session), "starts_at": moment},
        None,
    )
    attempt(PatientRecord.record_attendance, held, session)
    note = {k: data[k] for k in ("text", "modality") if k in data}
    attempt(PatientRecord.write_progress_note, {**held, **note, "session_id": str(session)}, None)


SERIES_MAX = 26
# How a series repeats: the days after its first session each session starts, by turns
# ("twice-weekly": every 3 then 4 days, the same two weekdays each week, for acute phases).
SERIES_STEPS = {"week": (7,), "twice-weekly": (3, 4)}


def series_starts(first: datetime, count: int, every: str, zone: tzinfo | None) -> list[datetime]:
    """The starts of a series of `count` sessions from `first`, at the same time of day on
    the clinic's clock (a week later is the same wall time across a daylight-saving change)."""
    steps = SERIES_STEPS[every]
    moment = first.astimezone(zone) if zone is not None else first
    starts = [moment]
    for n in range(1, count):
        moment = moment + timedelta(days=steps[(n - 1) % len(steps)])
        starts.append(moment)
    return starts


def _schedule_series(
    data: Mapping[str, Any],
    attempt: Callable[[RecordCommand, Mapping[str, Any], UUID | None], None],
    zone: tzinfo | None,
) -> list[FieldError]:
    """One session, or a series of them ("repeat": how many, 1 to SERIES_MAX; "every":
    weekly or twice a week), all in one write: each is a session of its own and each must
    pass the record's double-booking check, so one that cannot be booked books none."""
    booking = {k: v for k, v in data.items() if k not in ("repeat", "every")}
    problems: list[FieldError] = []
    raw = str(data.get("repeat") or "1")
    count = int(raw) if raw.isdigit() else 0
    if not 1 <= count <= SERIES_MAX:
        problems.append(FieldError("repeat", f"must be a whole number from 1 to {SERIES_MAX}"))
        count = 1
    every = str(data.get("every") or "week")
    if every not in SERIES_STEPS:
        problems.append(FieldError("every", "is not one of the choices offered"))
        every = "week"
    try:
        first = datetime.fromisoformat(str(booking.get("starts_at")))
    except ValueError:
        first = None
    if count == 1 or first is None or first.tzinfo is None:
        attempt(PatientRecord.schedule_session, booking, None)  # its schema says what is wrong
        return problems
    for starts_at in series_starts(first, count, every, zone):
        attempt(
            PatientRecord.schedule_session,
            {**booking, "session_id": str(uuid4()), "starts_at": starts_at.isoformat()},
            None,
        )
    return problems


def form_values(form: Any, action: Action) -> dict[str, Any]:
    """The submitted inputs this form has (strings; lists for multiple choices)."""
    values: dict[str, Any] = {}
    for name in action.inputs:
        if name == "to":
            values[name] = [v for v in form.getlist(name) if isinstance(v, str)]
        elif isinstance(form.get(name), str):
            values[name] = form.get(name).strip()
    return values


# --- what the events read offers the forms --------------------------------------------------


def open_sessions(entries: Iterable[Mapping[str, Any]]) -> list[Session]:
    """The sessions scheduled and not yet attended, missed or cancelled, soonest first."""
    found = [s for s in sessions(facts_of_entries(entries)).values() if s.open]
    return sorted(found, key=lambda s: s.starts_at or datetime.min.replace(tzinfo=UTC))


def correctable(entries: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The entries a correction may name (newest first): clinical entries of a correctable
    kind not already marked entered in error."""
    return [
        e
        for e in reversed(list(entries))
        if e["kind"] in CORRECTABLE_KINDS
        and (e.get("correction") or {}).get("status") != ENTERED_IN_ERROR
    ]


AMENDABLE_FIELDS = sorted({f for c in CORRECTABLE.values() for f in c.amendable})


def lab_orders(entries: Iterable[Mapping[str, Any]]) -> dict[str, LabOrder]:
    """Every lab order the reader may see, each with whether a final result closed it."""
    return history_lab_orders(facts_of_entries(entries))
