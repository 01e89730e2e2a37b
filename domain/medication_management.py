"""Medication management: the record's commands for a patient's medications, from the
evaluation to the stop, the reconciliation of those prescribed elsewhere, and the guards
they apply (the medication must be known and current; a prescribed dose must be in a unit
its drug is dosed in, below its ceiling, and at most its usual maximum or say why not
(domain/rules/dose_ranges.py); a lamotrigine increase must keep to its titration schedule
or say why not; each reconciled medication is listed once, with what its decision needs).
Only prescribers order; what the patient is reported to take is an observation.

The events they record are in domain/medication.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from pydantic import TypeAdapter, ValidationError

from domain.dose import Dose, DoseStep, Schedule
from domain.errors import FieldError, InvalidInput, RuleViolation
from domain.events import Actor
from domain.medication import (
    STOPPED,
    AdherenceRecorded,
    DoseChanged,
    DoseCheck,
    DoseReported,
    DoseTimingChanged,
    EvaluationRecorded,
    MedicationEvent,
    MedicationReassessed,
    MedicationsReconciled,
    MedicationStarted,
    MedicationState,
    MedicationStopped,
    MedicationSwitched,
    ReconciledItem,
    SideEffectReported,
    TaperStarted,
    TitrationPlanned,
)
from domain.messaging import MessageSent
from domain.record import RecordBase, parsed_flag, refuse_reserved, refused_fields
from domain.rules.dose_ranges import Assessment, Patient, assess, daily_amount
from domain.rules.titration import (
    ENZYME_INDUCER_NAMES,
    LAMOTRIGINE_RESTART,
    LAMOTRIGINE_TITRATION,
    VALPROATE_NAMES,
    Regimen,
    first_step_not_down,
    mg_per_day,
)
from domain.vocabulary import Frequency, Role, Severity

_RECONCILED_ITEMS: TypeAdapter[list[ReconciledItem]] = TypeAdapter(list[ReconciledItem])
_STEPS: TypeAdapter[list[DoseStep]] = TypeAdapter(list[DoseStep])


def _given(reason: Any) -> Any:
    """A blank override reason is no reason; anything else goes to the event, which
    checks it."""
    return None if isinstance(reason, str) and not reason.strip() else reason


def _parsed(model: type[Dose] | type[Schedule], value: Any) -> Any:
    """The value as its event will read it, or None when the event will refuse it (naming
    the field)."""
    if value is None or isinstance(value, model):
        return value
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


class MedicationSection(RecordBase):
    def record_evaluation(self, by: Actor, at: datetime, **evaluation: Any) -> None:
        refuse_reserved(evaluation)
        self._record(EvaluationRecorded, by, at, **evaluation)

    def check_medication_known(self, medication_id: UUID) -> MedicationState:
        self.check_known("medication", medication_id, self.state.medications, "medication_id")
        med: MedicationState = self.state.medications[medication_id]
        return med

    def check_medication_current(self, medication_id: UUID) -> MedicationState:
        med = self.check_medication_known(medication_id)
        if med.status == STOPPED:
            raise RuleViolation(
                f"medication {medication_id} ({med.drug}) has been stopped",
                patient_id=self.id,
                field="medication_id",
            )
        return med

    def start_medication(
        self, by: Actor, at: datetime, *, medication_id: UUID, **details: Any
    ) -> None:
        refuse_reserved(details)
        if medication_id in self.state.medications:
            raise RuleViolation(
                f"medication {medication_id} already exists",
                patient_id=self.id,
                field="medication_id",
            )
        # The data class follows the flag as the event will read it ("false" is False), not
        # the truthiness of whatever the caller sent.
        sud = parsed_flag("sud_treatment", details.pop("sud_treatment", False))
        self.check_may_author(MedicationStarted, by)
        override = _given(details.pop("override_reason", None))
        schedule = _parsed(Schedule, details.get("schedule"))
        checked = self.check_dose(
            str(details.get("drug", "")),
            details.get("rxnorm"),
            str(details.get("route", "oral")),
            details.get("dose"),
            schedule.frequency if schedule is not None else None,
            at,
            override,
        )
        restart = self.check_restart(
            str(details.get("drug", "")),
            details.get("rxnorm"),
            details.get("dose"),
            schedule.frequency if schedule is not None else None,
            at,
            override,
        )
        above_first_step = restart is not None and restart[1]
        overridden = (checked is not None and checked.above_usual_max) or above_first_step
        self._record(
            MedicationStarted,
            by,
            at,
            medication_id=medication_id,
            sud_context=sud,
            sud_treatment=sud,
            dose_check=checked,
            override_reason=override if overridden else None,
            restarted_after=restart[0] if restart is not None else None,
            above_first_step=True if above_first_step else None,
            **details,
        )

    def check_restart(
        self,
        drug: str,
        rxnorm: str | None,
        dose: Any,
        frequency: Frequency | None,
        at: Any,
        override: Any,
    ) -> tuple[str, bool] | None:
        """A lamotrigine start after an earlier course stopped more than 5 half-lives
        before (LAMOTRIGINE_RESTART, for the regimen the record shows) re-titrates: a first
        dose above the titration's first step is refused unless `override` says why.
        Returns what the start records of it (how long it was off, and whether it went
        above the first step), or None when it is no such restart."""
        rule = LAMOTRIGINE_RESTART
        if not rule.drugs.match(drug, rxnorm) or not isinstance(at, datetime) or not at.tzinfo:
            return None
        courses = [m for m in self.state.medications.values() if rule.drugs.match(m.drug, m.rxnorm)]
        stops = [m.stopped_at for m in courses if m.status == STOPPED and m.stopped_at]
        if not stops or any(m.status != STOPPED for m in courses):
            return None  # a first start, or one beside a course still going
        regimen = self.lamotrigine_regimen()
        off = at - max(stops)
        if off <= rule.gap(regimen):
            return None
        parsed = _parsed(Dose, dose)
        daily = mg_per_day(parsed, frequency) if parsed is not None else None
        first = rule.first_step(regimen)
        above = daily is not None and daily > first
        said = rule.off_for(regimen, off.total_seconds() / 86400)
        if daily is not None and above and override is None:
            raise RuleViolation(
                f"{drug} restarted after {said}: the initial titration applies again, at "
                f"most {first.normalize():f} mg/day in its first step, not "
                f"{daily.normalize():f} mg/day ({rule.rule_id} v{rule.version}); give "
                "override_reason to proceed",
                patient_id=self.id,
                field="dose",
            )
        return said, above

    def _on_medication(
        self,
        event_class: type[MedicationEvent],
        by: Actor,
        at: datetime,
        medication_id: UUID,
        *,
        even_if_stopped: bool = False,
        **fields: Any,
    ) -> None:
        if even_if_stopped:
            med = self.check_medication_known(medication_id)
        else:
            med = self.check_medication_current(medication_id)
        self._record(
            event_class, by, at, medication_id=medication_id, sud_context=med.sud, **fields
        )

    def plan_titration(
        self,
        by: Actor,
        at: datetime,
        *,
        medication_id: UUID,
        steps: list[Any],
        direction: str | None = None,
        reason: str | None = None,
    ) -> None:
        """A plan of dose steps; with direction "down", a taper: only a prescriber plans
        it, it gives its reason, each step goes below the one before, and the therapists
        on the team are told by a handoff message (the taper's monitoring is the rules':
        domain/rules/reassessment.py)."""
        med = self.check_medication_current(medication_id)
        self.check_may_author(TitrationPlanned, by)
        self.check_steps(med, steps, at)
        if direction == "down":
            self.check_taper(med, steps, _given(reason))
        self._on_medication(
            TitrationPlanned,
            by,
            at,
            medication_id,
            steps=steps,
            direction=direction,
            reason=reason,
        )
        if direction == "down":
            self.hand_off_taper(by, at, medication_id, med, steps, str(reason))

    def check_taper(self, med: MedicationState, steps: Any, reason: Any) -> None:
        """A taper says why, and each of its steps goes down (first_step_not_down)."""
        if reason is None:
            raise InvalidInput.single("reason", "is required for a taper (direction down)")
        try:
            parsed = _STEPS.validate_python(steps)
        except ValidationError:
            return  # the event refuses it, naming the field
        found = first_step_not_down(med.dose, [s.dose for s in parsed], med.frequency)
        if found is not None:
            index, above = found
            raise InvalidInput.single(
                f"steps.{index}.dose",
                f"a taper goes down: {parsed[index].dose} is not below {above}",
            )

    def hand_off_taper(
        self,
        by: Actor,
        at: datetime,
        medication_id: UUID,
        med: MedicationState,
        steps: Any,
        reason: str,
    ) -> None:
        """A message from the prescriber to each active therapist on the team, about the
        taper just recorded: its steps and what to watch for. None without a therapist."""
        therapists = sorted(
            m.user_id for m in self.state.team.values() if m.active and m.role == Role.THERAPIST
        )
        if not therapists:
            return
        parsed = _STEPS.validate_python(steps)
        plan = "; ".join(f"{s.dose} from {s.on_or_after.isoformat()}" for s in parsed)
        self._record(
            MessageSent,
            by,
            at,
            sud_context=med.sud,
            message_id=uuid5(medication_id, f"taper-handoff:{self.version}"),
            to=therapists,
            subject=f"Taper of {med.drug} planned",
            body=(
                f"{med.drug} is being tapered ({reason}): {plan}. Please watch for "
                "discontinuation symptoms and the return of depressive symptoms; a PHQ-9 is "
                "due during and after the taper."
            ),
            regarding=[self.version],
        )

    # --- dose ranges (domain/rules/dose_ranges.py) ----------------------------------------

    def dose_patient(self, at: Any) -> Patient:
        """Age on the dose's day and the latest weight on the record (by clinical time;
        however old it is)."""
        born, weight = self.state.birth_date, self.state.weight
        age = None
        if born is not None and isinstance(at, datetime):
            on = at.date()
            age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
        return Patient(age, weight[1] if weight is not None else None)

    def check_dose(
        self,
        drug: str,
        rxnorm: str | None,
        route: str,
        dose: Any,
        frequency: Frequency | None,
        at: Any,
        override: Any,
        *,
        each: Any = None,
        field: str = "dose",
    ) -> DoseCheck | None:
        """A prescribed dose on its schedule against the dose-range table: a unit the drug
        is not dosed in, or an amount at its ceiling (a unit error), is refused outright;
        above the usual maximum it is refused unless `override` says why. What it was
        compared with, and the notes a reader must see, go on the event. None when the
        dose will be refused by the event itself."""
        found = self.assess_dose(drug, rxnorm, route, dose, frequency, at, each, field)
        return None if found is None else self.dose_check(drug, found, override, field)

    def assess_dose(
        self,
        drug: str,
        rxnorm: str | None,
        route: str,
        dose: Any,
        frequency: Frequency | None,
        at: Any,
        each: Any = None,
        field: str = "dose",
    ) -> Assessment | None:
        """The dose's assessment, refusing a foreign unit or a dose at the ceiling."""
        parsed, split = _parsed(Dose, dose), _parsed(Dose, each)
        if parsed is None or (each is not None and split is None):
            return None
        regimen, patient = self.lamotrigine_regimen(), self.dose_patient(at)
        found = assess(drug, rxnorm, route, regimen, parsed, frequency, patient, split)
        self.refuse_implausible(drug, found, split if split is not None else parsed, field)
        return found

    def dose_check(self, drug: str, found: Assessment, override: Any, field: str) -> DoseCheck:
        """Above the usual maximum, refused unless `override` says why; else what the
        event records of the check."""
        above = found.verdict == "above-usual"
        if above and override is None:
            raise RuleViolation(
                f"{drug} {found.shown(found.amount)} is above the usual adult maximum of "
                f"{found.shown(found.usual_max)} ({found.rule.rule_id} v{found.rule.version}, "
                f"{found.rule.source}); give override_reason to proceed",
                patient_id=self.id,
                field=field,
            )
        return DoseCheck(
            rule_id=found.rule.rule_id,
            version=found.rule.version,
            amount=found.shown(found.amount),
            usual_max=None if found.usual_max is None else found.shown(found.usual_max),
            above_usual_max=above,
            notes=list(found.notes),
        )

    def refuse_implausible(self, drug: str, found: Assessment, given: Dose, field: str) -> None:
        """A unit foreign to the drug, or a dose at its ceiling: no override is offered."""
        if found.verdict == "foreign-unit":
            raise InvalidInput.single(
                f"{field}.unit",
                f"{drug} is dosed in {', '.join(found.accepted_units)}, not {given.unit.value} "
                f"({found.rule.rule_id} v{found.rule.version})",
            )
        if found.verdict == "above-ceiling":
            raise InvalidInput.single(
                f"{field}.amount",
                f"{drug} {found.shown(found.amount)} is at or above the ceiling of "
                f"{found.shown(found.ceiling)} ({found.rule.rule_id} v{found.rule.version}): "
                "a unit error; refused, with no override",
            )

    def check_steps(self, med: MedicationState, steps: Any, at: Any) -> None:
        """Each step of a plan in a unit its drug is dosed in and below its ceiling (the
        usual maximum is checked when the step's dose change is recorded)."""
        try:
            parsed = _STEPS.validate_python(steps)
        except ValidationError:
            return  # the event refuses it, naming the field
        regimen, patient = self.lamotrigine_regimen(), self.dose_patient(at)
        for index, step in enumerate(parsed):
            found = assess(
                med.drug, med.rxnorm, med.route, regimen, step.dose, med.frequency, patient
            )
            self.refuse_implausible(med.drug, found, step.dose, f"steps.{index}.dose")

    def change_dose(
        self,
        by: Actor,
        at: datetime,
        *,
        medication_id: UUID,
        dose: Any,
        reason: str,
        override_reason: str | None = None,
    ) -> None:
        """Change a medication's daily dose. A foreign unit or a dose at its ceiling is
        refused; a step beyond its titration schedule, or above its usual maximum, is refused
        unless `override_reason` says why, which the event records."""
        med = self.check_medication_current(medication_id)
        self.check_may_author(DoseChanged, by)
        override = _given(override_reason)
        found = self.assess_dose(med.drug, med.rxnorm, med.route, dose, med.frequency, at)
        if override is None:
            self.check_titration(med, at, dose)
        checked = None if found is None else self.dose_check(med.drug, found, override, "dose")
        self._on_medication(
            DoseChanged,
            by,
            at,
            medication_id,
            dose=dose,
            reason=reason,
            override_reason=override,
            dose_check=checked,
        )

    def check_titration(self, med: MedicationState, at: datetime, dose: Any) -> None:
        """A lamotrigine dose increase may not go above its titration schedule's maximum
        for the weeks since the start (for the regimen the record shows)."""
        schedule = LAMOTRIGINE_TITRATION
        if not schedule.matches(med.drug, med.rxnorm) or med.started_at is None:
            return
        # A clinical time without an offset cannot be compared; the event refuses it anyway.
        if not isinstance(at, datetime) or at.tzinfo is None:
            return
        try:
            new = dose if isinstance(dose, Dose) else Dose.model_validate(dose)
        except ValidationError:
            return  # the event refuses it, naming the field
        daily, before = mg_per_day(new, med.frequency), mg_per_day(med.dose, med.frequency)
        if daily is None or before is None or daily <= before:
            return
        week = max((at - med.started_at).days, 0) // 7 + 1
        regimen = self.lamotrigine_regimen()
        limit = schedule.maximum(regimen, week)
        if limit is not None and daily > limit:
            raise RuleViolation(
                f"{med.drug} {daily.normalize():f} mg/day in week {week} is above the "
                f"titration maximum of {limit.normalize():f} mg/day {regimen} "
                f"({schedule.rule_id} v{schedule.version}); give override_reason to proceed",
                patient_id=self.id,
                field="dose",
            )

    def lamotrigine_regimen(self) -> Regimen:
        """Which column of the titration table applies: valproate first (the label's
        order), then an enzyme inducer, from the medications the record shows current."""
        current = [m for m in self.state.medications.values() if m.status != STOPPED]
        if any(VALPROATE_NAMES.match(m.drug, m.rxnorm) for m in current):
            return "with valproate"
        if any(ENZYME_INDUCER_NAMES.match(m.drug, m.rxnorm) for m in current):
            return "with an enzyme inducer"
        return "alone"

    def change_timing(
        self,
        by: Actor,
        at: datetime,
        *,
        medication_id: UUID,
        schedule: Any,
        reason: str,
        dose_per_administration: Any = None,
        override_reason: str | None = None,
    ) -> None:
        """Change when a medication is taken; with a split, `dose_per_administration` at
        each of the schedule's administrations makes the daily dose checked."""
        med = self.check_medication_current(medication_id)
        self.check_may_author(DoseTimingChanged, by)
        override = _given(override_reason)
        parsed = _parsed(Schedule, schedule)
        checked = None
        if parsed is not None and dose_per_administration is None:
            # The same dose on another schedule: held to the maximum only if it gives more
            # a day than before (moving a dose to bedtime asks for no new reason).
            before = daily_amount(med.dose, med.frequency).amount
            if daily_amount(med.dose, parsed.frequency).amount <= before:
                self.assess_dose(med.drug, med.rxnorm, med.route, med.dose, parsed.frequency, at)
                parsed = None
        if parsed is not None:
            checked = self.check_dose(
                med.drug,
                med.rxnorm,
                med.route,
                med.dose,
                parsed.frequency,
                at,
                override,
                each=dose_per_administration,
                field="dose_per_administration" if dose_per_administration else "schedule",
            )
        self._on_medication(
            DoseTimingChanged,
            by,
            at,
            medication_id,
            schedule=schedule,
            reason=reason,
            dose_per_administration=dose_per_administration,
            dose_check=checked,
            override_reason=override if checked is not None and checked.above_usual_max else None,
        )

    def switch_medication(
        self,
        by: Actor,
        at: datetime,
        *,
        medication_id: UUID,
        to_medication_id: UUID,
        sud_treatment: Any = None,
        **details: Any,
    ) -> None:
        """Stop `medication_id` and start `to_medication_id` in one event. The new
        medication treats a substance-use disorder if `sud_treatment` says so, and by
        default when the old one did."""
        refuse_reserved(details)
        if to_medication_id in self.state.medications:
            raise RuleViolation(
                f"medication {to_medication_id} already exists",
                patient_id=self.id,
                field="to_medication_id",
            )
        old = self.check_medication_current(medication_id)
        new_sud = old.sud if sud_treatment is None else parsed_flag("sud_treatment", sud_treatment)
        self.check_may_author(MedicationSwitched, by)
        override = _given(details.pop("override_reason", None))
        schedule = _parsed(Schedule, details.get("schedule"))
        checked = self.check_dose(
            str(details.get("drug", "")),
            details.get("rxnorm"),
            str(details.get("route") or old.route),
            details.get("dose"),
            schedule.frequency if schedule is not None else None,
            at,
            override,
        )
        # The switch names both medications, so it is an SUD record if either is SUD
        # treatment (42 CFR 2.11).
        self._record(
            MedicationSwitched,
            by,
            at,
            medication_id=medication_id,
            sud_context=old.sud or new_sud,
            to_medication_id=to_medication_id,
            sud_treatment=new_sud,
            dose_check=checked,
            override_reason=override if checked is not None and checked.above_usual_max else None,
            **details,
        )

    def report_side_effect(
        self, by: Actor, at: datetime, *, medication_id: UUID, effect: str, severity: Severity
    ) -> None:
        # Also after a stop: withdrawal and discontinuation symptoms are reported then.
        self._on_medication(
            SideEffectReported,
            by,
            at,
            medication_id,
            even_if_stopped=True,
            effect=effect,
            severity=severity,
        )

    def record_adherence(
        self,
        by: Actor,
        at: datetime,
        *,
        medication_id: UUID,
        period_days: int,
        doses_prescribed: int,
        doses_taken: int,
    ) -> None:
        self._on_medication(
            AdherenceRecorded,
            by,
            at,
            medication_id,
            # A period may end at or after the stop (doses taken before it, or despite it).
            even_if_stopped=True,
            period_days=period_days,
            doses_prescribed=doses_prescribed,
            doses_taken=doses_taken,
        )

    def reassess_medication(
        self, by: Actor, at: datetime, *, medication_id: UUID, assessment: str, decision: str
    ) -> None:
        self._on_medication(
            MedicationReassessed, by, at, medication_id, assessment=assessment, decision=decision
        )

    def start_taper(
        self, by: Actor, at: datetime, *, medication_id: UUID, steps: list[Any], reason: str
    ) -> None:
        med = self.check_medication_current(medication_id)
        self.check_may_author(TaperStarted, by)
        self.check_steps(med, steps, at)
        self.check_taper(med, steps, reason)  # each step below the one before
        self._on_medication(TaperStarted, by, at, medication_id, steps=steps, reason=reason)

    def report_dose_taken(
        self,
        by: Actor,
        at: datetime,
        *,
        medication_id: UUID,
        dose: Any,
        schedule: Any = None,
        note: str | None = None,
    ) -> None:
        """What the patient is reported to take (an observation, not an order): by the
        patient, or told to the therapist or another clinician on the team. It changes no
        dose on the record, and is not held to the dose ranges (what is taken is what it
        is: a report above the maximum is the report the prescriber must see)."""
        self._on_medication(
            DoseReported,
            by,
            at,
            medication_id,
            even_if_stopped=True,
            dose=dose,
            schedule=schedule,
            note=note,
        )

    def stop_medication(self, by: Actor, at: datetime, *, medication_id: UUID, reason: str) -> None:
        self._on_medication(MedicationStopped, by, at, medication_id, reason=reason)

    def reconcile_medications(
        self, by: Actor, at: datetime, *, items: list[Any], source: str | None = None
    ) -> None:
        """Record the prescriber's decision on each medication the patient reports taking
        from other prescribers: confirmed, changed or discontinued. The reconciliation is an
        SUD record if any medication on it treats a substance-use disorder."""
        self.check_may_author(MedicationsReconciled, by)
        with refused_fields("items"):
            reconciled = _RECONCILED_ITEMS.validate_python(items)
        self.check_reconciliation_lists_medications(reconciled)
        self.check_each_medication_listed_once(reconciled)
        for index, item in enumerate(reconciled):
            self.check_reconciled_item(index, item)
            self.check_reconciled_dose(index, item, at)
        self._record(
            MedicationsReconciled,
            by,
            at,
            sud_context=any(item.sud_treatment for item in reconciled),
            items=reconciled,
            source=source,
        )

    def check_reconciliation_lists_medications(self, items: list[ReconciledItem]) -> None:
        if not items:
            raise InvalidInput.single("items", "a reconciliation lists at least one medication")

    def check_each_medication_listed_once(self, items: list[ReconciledItem]) -> None:
        """One decision per drug: the same name (in any case) or RxNorm code twice is
        refused at its second listing."""
        drugs: set[str] = set()
        codes: set[str] = set()
        for index, item in enumerate(items):
            if item.key in drugs or (item.rxnorm is not None and item.rxnorm in codes):
                raise InvalidInput.single(
                    f"items.{index}.drug", f"{item.drug} is listed more than once"
                )
            drugs.add(item.key)
            if item.rxnorm is not None:
                codes.add(item.rxnorm)

    def check_reconciled_dose(self, index: int, item: ReconciledItem, at: datetime) -> None:
        """A new dose the prescriber decides on is in a unit its drug is dosed in and below
        its ceiling (the dose as reported is what the patient said, and stands as said)."""
        if item.decision != "changed" or item.new_dose is None:
            return
        schedule = item.schedule_after()
        found = assess(
            item.drug,
            item.rxnorm,
            "oral",
            self.lamotrigine_regimen(),
            item.new_dose,
            schedule.frequency,
            self.dose_patient(at),
        )
        self.refuse_implausible(item.drug, found, item.new_dose, f"items.{index}.new_dose")

    def check_reconciled_item(self, index: int, item: ReconciledItem) -> None:
        """A change gives the new dose or schedule and why; a discontinuation gives why;
        only a change carries a new dose or schedule."""
        at = f"items.{index}"
        errors: list[FieldError] = []
        if item.decision == "changed":
            if item.new_dose is None and item.new_schedule is None:
                errors.append(
                    FieldError(f"{at}.new_dose", "is required to change (or give new_schedule)")
                )
        else:
            for name in ("new_dose", "new_schedule"):
                if getattr(item, name) is not None:
                    errors.append(
                        FieldError(f"{at}.{name}", f"is only for a change, not {item.decision}")
                    )
        if item.decision != "confirmed" and item.reason is None:
            errors.append(FieldError(f"{at}.reason", f"is required when {item.decision}"))
        if errors:
            raise InvalidInput(errors)
