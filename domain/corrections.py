"""Corrections: a clinical entry marked entered in error, or amended.

The original stays in the log as it was recorded; a correction is an event of its own that
names the entry by its record version (the `version` every view shows beside an entry).
It takes the data class, the Part 2 label and the SUD-counseling flag of the entry it
corrects, so the policy shows it to exactly those who may see the entry, and a reader who
could not see the original does not learn of its correction either.

Who may correct: the entry's author, or an active member of the care team in the same
role as the author, if that role is a treating clinician's (a prescriber corrects another
prescriber's dose, a therapist another therapist's note). A psychotherapy note is corrected
by its author alone (only its author reads it, 45 CFR 164.501). A patient corrects only
what they recorded themselves, never a clinician's entry.

An entry in error is folded out of every view, chart and rule (projections.corrections);
an amendment replaces only an entry's free text (a note, a reason, a comment): a changed
dose, value or score is corrected by marking the entry in error and recording it again, so
that the checks its command makes (dose ranges, lab units, scoring) run on the new one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import Field

from domain.errors import FieldError, InvalidInput, NotPermittedAuthor, RuleViolation
from domain.events import Actor
from domain.labs import OPEN, LabResulted
from domain.measures import (
    FunctionalOutcomeRecorded,
    QuestionnaireAnswered,
    SleepLogged,
    VitalsRecorded,
)
from domain.medication import AdherenceRecorded, DoseChanged, DoseReported, SideEffectReported
from domain.messaging import MessageSent
from domain.record import (
    ANY_TEAM_ROLE,
    CORRECTABLE,
    TREATING,
    RecordBase,
    RecordEvent,
    RecordState,
    check_clinical_time,
    kind_of,
    refused_fields,
)
from domain.safety import LapseReported, RiskAssessed
from domain.therapy import (
    SCHEDULED,
    ProgressNoteWritten,
    PsychotherapyNoteWritten,
    SessionAttended,
    SessionCancelled,
    SessionMissed,
)
from domain.vocabulary import DataClass, Role, ShortText

ENTERED_IN_ERROR = "entered-in-error"
AMENDED = "amended"


@dataclass(frozen=True)
class Correctable:
    """A kind of clinical entry a correction may name: the fields an amendment may replace
    (free text only), what the entry notes of the state before it, and how marking it in
    error undoes what it did to the record's state."""

    amendable: frozenset[str] = frozenset()
    before: Callable[[RecordState, Any], Any] = lambda state, event: None
    undo: Callable[[RecordState, Any, Any], None] = lambda state, event, before: None


def _dose_before(state: RecordState, event: Any) -> Any:
    medication = state.medications.get(event.medication_id)
    return medication.dose if medication is not None else None


def _undo_dose(state: RecordState, event: Any, before: Any) -> None:
    """The medication's dose is that of its latest dose change still standing, or the dose
    it had before its first (its start's or its switch's)."""
    medication = state.medications.get(event.medication_id)
    if medication is None:
        return
    changes = [
        (version, entry, was)
        for version, (entry, was) in sorted(state.entries.items())
        if isinstance(entry, DoseChanged) and entry.medication_id == event.medication_id
    ]
    standing = [entry for version, entry, _ in changes if version not in state.errored]
    medication.dose = standing[-1].dose if standing else changes[0][2]


def _undo_session(state: RecordState, event: Any, before: Any) -> None:
    """The session's status is that of its latest outcome still standing, else scheduled."""
    standing = [
        entry
        for version, (entry, _) in sorted(state.entries.items())
        if isinstance(entry, SessionAttended | SessionMissed | SessionCancelled)
        and entry.session_id == event.session_id
        and version not in state.errored
    ]
    if standing:
        standing[-1].apply(_StateHolder(state))
    else:
        state.sessions[event.session_id] = SCHEDULED


def _undo_result(state: RecordState, event: Any, before: Any) -> None:
    """The order is open again unless another final result for it still stands."""
    if not event.final:
        return
    others = any(
        isinstance(entry, LabResulted)
        and entry.order_id == event.order_id
        and entry.final
        and version not in state.errored
        for version, (entry, _) in state.entries.items()
    )
    if not others:
        state.lab_orders[event.order_id] = OPEN


@dataclass
class _StateHolder:
    """What an event's `apply` reaches for (`aggregate.state`), to apply it again."""

    state: RecordState


CORRECTABLE.update(
    {
        SessionAttended: Correctable(undo=_undo_session),
        SessionMissed: Correctable(frozenset({"reason"}), undo=_undo_session),
        SessionCancelled: Correctable(frozenset({"reason"}), undo=_undo_session),
        ProgressNoteWritten: Correctable(frozenset({"text"})),
        PsychotherapyNoteWritten: Correctable(frozenset({"text"})),
        DoseChanged: Correctable(frozenset({"reason"}), _dose_before, _undo_dose),
        DoseReported: Correctable(frozenset({"note"})),
        SideEffectReported: Correctable(),
        AdherenceRecorded: Correctable(),
        LabResulted: Correctable(frozenset({"comment"}), undo=_undo_result),
        QuestionnaireAnswered: Correctable(),
        SleepLogged: Correctable(),
        VitalsRecorded: Correctable(),
        FunctionalOutcomeRecorded: Correctable(frozenset({"note"})),
        LapseReported: Correctable(frozenset({"circumstances"})),
        RiskAssessed: Correctable(frozenset({"plan"})),
        MessageSent: Correctable(frozenset({"subject", "body"})),
    }
)
CORRECTABLE_KINDS = frozenset(kind_of(c) for c in CORRECTABLE)


class EntryCorrection(RecordEvent):
    """A correction of one clinical entry. Its data class, Part 2 label and SUD-counseling
    flag are the entry's (set by the record, never by the caller)."""

    # Never used as such: a correction takes the class of the entry it names.
    default_class: ClassVar[DataClass] = DataClass.CARE_PLAN
    authors: ClassVar[frozenset[Role]] = ANY_TEAM_ROLE
    status: ClassVar[str]

    entry_version: int = Field(ge=1)
    entry_kind: ShortText
    reason: ShortText
    sud_counseling: bool = False


class EntryMarkedInError(EntryCorrection):
    """The entry was entered in error: it is left out of every view, chart and rule."""

    status: ClassVar[str] = ENTERED_IN_ERROR

    def apply(self, aggregate: Any) -> None:
        state: RecordState = aggregate.state
        state.errored.add(self.entry_version)
        found = state.entries.get(self.entry_version)
        if found is not None:
            entry, before = found
            CORRECTABLE[type(entry)].undo(state, entry, before)

    def summary(self) -> str:
        return (
            f"entry {self.entry_version} ({self.entry_kind}) marked entered in error: {self.reason}"
        )


class EntryAmended(EntryCorrection):
    """The entry's free text was amended: views show the amended entry, marked so."""

    status: ClassVar[str] = AMENDED

    # The replaced fields, as the amended entry holds them, and the amended entry's line.
    changes: dict[str, Any]
    amended_summary: str

    def apply(self, aggregate: Any) -> None:
        state: RecordState = aggregate.state
        found = state.entries.get(self.entry_version)
        if found is not None:
            entry, before = found
            amended = entry.model_copy(update=self.changes)
            state.entries[self.entry_version] = (amended, before)

    def summary(self) -> str:
        return f"entry {self.entry_version} ({self.entry_kind}) amended: {self.reason}"


CORRECTION_KINDS = frozenset(kind_of(c) for c in (EntryMarkedInError, EntryAmended))


class CorrectionSection(RecordBase):
    def mark_entered_in_error(
        self, by: Actor, at: datetime, *, entry_version: int, reason: str
    ) -> None:
        entry = self._correctable(by, entry_version)
        self._correct(EntryMarkedInError, by, at, entry, reason)

    def amend_entry(
        self,
        by: Actor,
        at: datetime,
        *,
        entry_version: int,
        reason: str,
        changes: Mapping[str, Any],
    ) -> None:
        entry = self._correctable(by, entry_version)
        allowed = CORRECTABLE[type(entry)].amendable
        if not changes:
            raise InvalidInput.single("changes", "is empty: name the fields to amend")
        foreign = sorted(k for k in changes if k not in allowed)
        if foreign:
            shown = ", ".join(sorted(allowed)) or "none"
            raise InvalidInput(
                [
                    FieldError(
                        f"changes.{k}",
                        f"cannot be amended on a {kind_of(type(entry))} (amendable: {shown}); "
                        "mark the entry entered in error and record it again",
                    )
                    for k in foreign
                ]
            )
        with refused_fields("changes"):
            amended = type(entry).model_validate({**entry.model_dump(), **changes})
        dumped = amended.model_dump(mode="json")
        self._correct(
            EntryAmended,
            by,
            at,
            entry,
            reason,
            changes={k: dumped[k] for k in changes},
            amended_summary=amended.summary(),
        )

    # --- inside -----------------------------------------------------------------------

    def _correctable(self, by: Actor, entry_version: Any) -> Any:
        """The entry a correction names, if `by` may correct it."""
        member = self.check_may_author(EntryMarkedInError, by)
        if not isinstance(entry_version, int) or isinstance(entry_version, bool):
            raise InvalidInput.single("entry_version", "is not a record version (a number)")
        found = self.state.entries.get(entry_version)
        if found is None:
            raise InvalidInput.single(
                "entry_version",
                f"names no clinical entry of this record that can be corrected "
                f"(corrected are: {', '.join(sorted(CORRECTABLE_KINDS))})",
            )
        entry = found[0]
        if entry_version in self.state.errored:
            raise RuleViolation(
                f"entry {entry_version} is already marked entered in error",
                patient_id=self.id,
                field="entry_version",
            )
        author = entry.actor
        if author.user_id == by.user_id:
            return entry
        if isinstance(entry, PsychotherapyNoteWritten):
            raise NotPermittedAuthor(
                "a psychotherapy note is corrected by its author alone",
                patient_id=self.id,
                field="actor.user_id",
            )
        # An imported result (the system's) is corrected by a treating clinician.
        same_role = (
            member is not None
            and member.role in TREATING
            and author.role in (member.role, Role.SYSTEM)
        )
        if not same_role:
            raise NotPermittedAuthor(
                f"a {by.role.value} may not correct an entry a {author.role.value} "
                "recorded: its author or a treating clinician of the same role on the "
                "care team corrects it",
                patient_id=self.id,
                field="actor.role",
            )
        return entry

    def _correct(
        self,
        event_class: type[EntryCorrection],
        by: Actor,
        at: datetime,
        entry: Any,
        reason: str,
        **fields: Any,
    ) -> None:
        check_clinical_time(at, self.state.birth_date)
        with refused_fields():
            self.trigger_event(
                event_class,
                actor=by,
                data_class=entry.data_class,
                part2=entry.part2,
                sud_counseling=bool(getattr(entry, "sud_counseling", False)),
                clinical_time=at,
                entry_version=entry.originator_version,
                entry_kind=kind_of(type(entry)),
                reason=reason,
                **fields,
            )


CorrectionStatus = Literal["entered-in-error", "amended"]
