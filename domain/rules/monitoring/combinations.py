"""Rules across a patient's medications and record, as rows like the rest of the table:

    CombinationRule     two medications taken together raise an alert (an opioid with a
                        CNS depressant; serotonin-syndrome combinations; lamotrigine with
                        an estrogen-containing contraceptive)
    DoseRiskRule        a daily dose above a limit (a lower one from an age on), or the
                        drug taken with a risk condition recorded, raises an alert and an
                        ECG item (citalopram and the QT interval)
    PdmpRule            a prescription-monitoring program (PDMP) check before starting a
                        controlled substance and again at each renewal interval, which
                        varies by state (`PDMP_STATES`; the clinic's TANDEM_PDMP_STATE is
                        recorded on each check and the interval follows the last check's)

An alert stays open until the prescriber decides on one of the medications it names (a
dose change, a schedule change, a reassessment, a stop, a switch): a plan, not a refusal.
Nothing here withholds a medication: an opioid use disorder treatment taken with a
benzodiazepine is warned about and planned for (FDA, 2017), never refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from domain.careplan import ConditionRecorded
from domain.dose import Dose
from domain.history import MedicationCourse
from domain.labs import LabResulted
from domain.medication import (
    DoseChanged,
    DoseTimingChanged,
    MedicationReassessed,
    MedicationStopped,
    MedicationSwitched,
)
from domain.prescribing_safety import (
    DEFAULT_PDMP_STATE,
    PdmpState,
    PrescriptionMonitoringChecked,
    pdmp_state,
)
from domain.record import RecordEvent, kind_of, kinds
from domain.rules.care import Alert, DueItem, Fact, PatientContext, RuleRef, classes_of, positions
from domain.rules.dose_ranges import MASS_IN_MG, daily_amount
from domain.rules.monitoring.codes import (
    BUPRENORPHINE,
    LAMOTRIGINE,
    LITHIUM,
    PRESCRIBER,
    SSRIS_AND_SNRIS,
    STIMULANTS,
)
from domain.rules.monitoring.facts import _status
from domain.rules.monitoring.rows import Drugs, days, words
from domain.vocabulary import DoseUnit, Frequency, Role

# --- drug families the combinations name ----------------------------------------------

OPIOIDS = Drugs(
    "opioid",
    BUPRENORPHINE.rxnorm,
    words(
        "buprenorphine methadone morphine oxycodone hydrocodone hydromorphone oxymorphone "
        "fentanyl codeine tramadol tapentadol meperidine levorphanol"
    ),
)
BENZODIAZEPINES = Drugs(
    "benzodiazepine",
    frozenset(),
    words(
        "alprazolam chlordiazepoxide clobazam clonazepam clorazepate diazepam estazolam "
        "flurazepam lorazepam midazolam oxazepam quazepam temazepam triazolam"
    ),
)
Z_DRUGS = Drugs("Z-drug", frozenset(), words("zolpidem zaleplon eszopiclone zopiclone"))
GABAPENTINOIDS = Drugs("gabapentinoid", frozenset(), words("gabapentin pregabalin"))
# Antipsychotics the labels and the FDA communication call sedating (the vocabulary's).
SEDATING_ANTIPSYCHOTICS = Drugs(
    "sedating antipsychotic", frozenset({"61381", "2626"}), words("quetiapine olanzapine clozapine")
)
CNS_DEPRESSANTS = Drugs(
    "CNS depressant",
    BENZODIAZEPINES.rxnorm | SEDATING_ANTIPSYCHOTICS.rxnorm,
    BENZODIAZEPINES.names
    | Z_DRUGS.names
    | GABAPENTINOIDS.names
    | SEDATING_ANTIPSYCHOTICS.names
    | words("phenobarbital butalbital carisoprodol"),
)
TRIPTANS = words(
    "sumatriptan rizatriptan zolmitriptan eletriptan naratriptan almotriptan frovatriptan"
)
MAOIS = Drugs(
    "MAOI",
    frozenset(),
    words("phenelzine tranylcypromine isocarboxazid selegiline rasagiline linezolid"),
)
SEROTONIN_PARTNERS = Drugs(
    "serotonergic partner",
    LITHIUM.rxnorm,
    LITHIUM.names | TRIPTANS | words("tramadol linezolid wort hypericum"),
)
SEROTONERGIC = Drugs(
    "serotonergic drug",
    SSRIS_AND_SNRIS.rxnorm | LITHIUM.rxnorm | frozenset({"2556", "32937", "42355", "1455099"}),
    SSRIS_AND_SNRIS.names
    | LITHIUM.names
    | TRIPTANS
    | words(
        "vortioxetine vilazodone trazodone nefazodone mirtazapine amitriptyline nortriptyline "
        "imipramine desipramine clomipramine doxepin protriptyline trimipramine tramadol "
        "fentanyl methadone meperidine tapentadol buspirone dextromethorphan tryptophan wort "
        "amphetamine dextroamphetamine lisdexamfetamine methamphetamine"
    ),
)
CITALOPRAM = Drugs("citalopram", frozenset({"2556"}), frozenset({"citalopram"}))
# Contraceptives with ethinylestradiol, the estrogen of the label's study (30 mcg with
# 150 mcg levonorgestrel), by name ("ethinyl estradiol/levonorgestrel", "ethinylestradiol
# and norethindrone"): a progestin-only product (norethindrone 0.35 mg) is not one, nor
# estradiol alone. No RxNorm codes: a product's own code is not its ingredient's.
ESTROGEN_CONTRACEPTIVES = Drugs(
    "estrogen-containing contraceptive", frozenset(), words("ethinyl ethinylestradiol")
)
# Controlled substances a PDMP check is for: benzodiazepines, stimulants, buprenorphine,
# Z-drugs.
CONTROLLED = Drugs(
    "controlled substance",
    STIMULANTS.rxnorm | BUPRENORPHINE.rxnorm,
    BENZODIAZEPINES.names | STIMULANTS.names | BUPRENORPHINE.names | Z_DRUGS.names,
)

# Decisions on a medication that answer an alert about it: a plan was made.
DECISIONS = kinds(
    DoseChanged, DoseTimingChanged, MedicationReassessed, MedicationStopped, MedicationSwitched
)
DECISION_CLASSES = classes_of(
    DoseChanged, DoseTimingChanged, MedicationReassessed, MedicationStopped, MedicationSwitched
)

# --- sources ------------------------------------------------------------------------------

OPIOID_CNS_SOURCE = (
    "FDA Drug Safety Communication, 2017-09-20: buprenorphine and methadone should not be "
    "withheld from patients taking benzodiazepines or other CNS depressants; careful "
    "medication management and a treatment plan reduce the risks (read on fda.gov)"
)
SEROTONIN_SOURCE = (
    "SSRI/SNRI labels, 5.2 Serotonin Syndrome (triptans, lithium, tramadol, St John's wort; "
    "MAOIs, linezolid); section not read this session"
)
CITALOPRAM_QT_SOURCE = (
    "FDA Drug Safety Communication 2011-08-24 (revised 2012-03-28): citalopram no more than "
    "40 mg/day, 20 mg/day over 60; higher risk with heart disease, hypokalaemia, "
    "hypomagnesaemia (read in secondary reports only, not the communication or the label)"
)
LAMOTRIGINE_ESTROGEN_SOURCE = (
    "lamotrigine label, Table 13 (Established and Other Potentially Significant Drug "
    "Interactions; an older label, read at http://www.druglib.com/druginfo/lamotrigine/"
    "interactions_overdosage_contraindications/): estrogen-containing oral contraceptives "
    "(30 mcg ethinylestradiol, 150 mcg levonorgestrel) decrease lamotrigine levels about "
    "50%; current label's Highlights (read in the prescriberpoint.com copy of set "
    "ccb33cd0, https://prescriberpoint.com/therapies/lamotrigine-ccb33cd): adjustments to "
    "maintenance doses will be necessary in most patients starting or stopping "
    "estrogen-containing oral contraceptives (2.1, 5.7); the pill-free week's rise, about "
    "2-fold by its end (Epsylam DT prescribing information, drug interactions, read at "
    "https://www.mims.com/malaysia/drug/info/epsylam%20dt/drug-interactions); section 2.1's "
    "own text not read"
)
PDMP_SOURCE = (
    "state PDMP mandates (NAMSDL and PDMP TTAC summaries, e.g. Arizona: at the start of a "
    "course, then quarterly); secondary summaries only, not the statutes"
)


# --- rows -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CombinationRule:
    """A medication of `first` taken while one of `second` is (another medication) raises
    an alert from when both are taken, open until a decision on either."""

    rule_id: str
    version: str
    first: Drugs
    second: Drugs
    severity: Literal["high", "moderate"]
    title: str
    for_roles: tuple[Role, ...]
    source: str
    checked: bool = True

    @property
    def ref(self) -> RuleRef:
        return RuleRef(self.rule_id, self.version, self.source, self.checked)


@dataclass(frozen=True)
class DoseRiskRule:
    """`drugs` above `above_mg_per_day` (above `older_above_mg_per_day` from `older_than`
    years, older meaning past that birthday), or taken with an active condition whose
    ICD-10 code starts with one of `risk_icd10`, raises an alert and a `need_title` item
    met by a result of `need_loinc` within `need_within_days`."""

    rule_id: str
    version: str
    drugs: Drugs
    above_mg_per_day: Decimal
    older_than: int
    older_above_mg_per_day: Decimal
    risk_icd10: tuple[str, ...]
    title: str
    need_title: str
    need_loinc: frozenset[str]
    need_within_days: int
    for_roles: tuple[Role, ...]
    source: str
    checked: bool = True

    def limit(self, age: int | None) -> Decimal:
        """The daily limit at `age` (an unknown age gets the lower one: safer)."""
        if age is None or age > self.older_than:
            return self.older_above_mg_per_day
        return self.above_mg_per_day

    @property
    def ref(self) -> RuleRef:
        return RuleRef(self.rule_id, self.version, self.source, self.checked)


@dataclass(frozen=True)
class PdmpRule:
    rule_id: str
    version: str
    drugs: Drugs
    check: type[RecordEvent]
    for_roles: tuple[Role, ...]
    source: str
    checked: bool = False

    @property
    def ref(self) -> RuleRef:
        return RuleRef(self.rule_id, self.version, self.source, self.checked)


COMBINATIONS: tuple[CombinationRule, ...] = (
    CombinationRule(
        "opioid-with-cns-depressant",
        "1",
        OPIOIDS,
        CNS_DEPRESSANTS,
        "high",
        "opioid with a CNS depressant: risk of respiratory depression and overdose. Do not "
        "withhold buprenorphine or methadone; educate, make a plan (taper or alternatives "
        "for the depressant), coordinate with its prescriber, offer naloxone",
        PRESCRIBER,
        OPIOID_CNS_SOURCE,
    ),
    CombinationRule(
        "serotonin-ssri-snri-combination",
        "1",
        SSRIS_AND_SNRIS,
        SEROTONIN_PARTNERS,
        "moderate",
        "serotonin syndrome risk: watch for agitation, tremor, clonus, hyperthermia; review "
        "the combination",
        PRESCRIBER,
        SEROTONIN_SOURCE,
        checked=False,
    ),
    CombinationRule(
        "serotonin-maoi-combination",
        "1",
        MAOIS,
        SEROTONERGIC,
        "high",
        "MAOI with a serotonergic drug: serotonin syndrome risk; the labels contraindicate "
        "most such combinations",
        PRESCRIBER,
        SEROTONIN_SOURCE,
        checked=False,
    ),
)

# Added in view layout 4 (layout 3 keeps `COMBINATIONS` without it, so that its answers
# replay to their bytes). Not an inducer for the titration (domain/rules/titration.py):
# the label as read changes the maintenance dose, not the escalation.
LAMOTRIGINE_ESTROGEN = CombinationRule(
    "lamotrigine-estrogen-contraceptive",
    "1",
    LAMOTRIGINE,
    ESTROGEN_CONTRACEPTIVES,
    "moderate",
    "lamotrigine levels fall by about half with an estrogen-containing contraceptive and "
    "rise again off it (about 2-fold by the end of a pill-free week); most patients "
    "starting or stopping one need the lamotrigine maintenance dose adjusted",
    PRESCRIBER,
    LAMOTRIGINE_ESTROGEN_SOURCE,
)
COMBINATIONS_V4: tuple[CombinationRule, ...] = (*COMBINATIONS, LAMOTRIGINE_ESTROGEN)

CITALOPRAM_QT = DoseRiskRule(
    "citalopram-qt",
    "1",
    CITALOPRAM,
    above_mg_per_day=Decimal(40),
    older_than=60,
    older_above_mg_per_day=Decimal(20),
    # Hypokalaemia, hypomagnesaemia; ischaemic heart disease, cardiomyopathy, conduction
    # disorders and arrhythmias (long QT among them), heart failure.
    risk_icd10=(
        "E876",
        "E8342",
        "I20",
        "I21",
        "I22",
        "I23",
        "I24",
        "I25",
        "I42",
        "I44",
        "I45",
        "I46",
        "I47",
        "I48",
        "I49",
        "I50",
    ),
    title="citalopram QT prolongation risk: ECG, correct potassium and magnesium, "
    "consider a lower dose",
    need_title="ECG (QTc) for citalopram",
    # ECG QT interval corrected, and an EKG study (check digits valid; codes not yet
    # verified in LOINC itself).
    need_loinc=frozenset({"8636-3", "11524-6"}),
    need_within_days=14,
    for_roles=PRESCRIBER,
    source=CITALOPRAM_QT_SOURCE,
    checked=False,
)
DOSE_RISKS: tuple[DoseRiskRule, ...] = (CITALOPRAM_QT,)

PDMP_CHECK = PdmpRule(
    "pdmp-check",
    "1",
    CONTROLLED,
    PrescriptionMonitoringChecked,
    PRESCRIBER,
    PDMP_SOURCE,
    checked=False,
)
PDMP_CHECKS: tuple[PdmpRule, ...] = (PDMP_CHECK,)


# --- evaluation ---------------------------------------------------------------------------


def _taking(med: MedicationCourse, at: datetime) -> bool:
    return med.started.at <= at and (med.stopped_at is None or at < med.stopped_at)


def _decision_on(
    facts: Sequence[Fact], meds: Sequence[MedicationCourse], after: Fact
) -> Fact | None:
    ids = {m.medication_id for m in meds}
    return min(
        (
            f
            for f in facts
            if f.kind in DECISIONS
            and str(f.payload.get("medication_id")) in ids
            and f.position > after.position
            and f.at >= after.at
        ),
        key=lambda f: f.at,
        default=None,
    )


def combination_alerts(
    rule: CombinationRule, facts: Sequence[Fact], medications: Mapping[str, MedicationCourse]
) -> list[Alert]:
    """One alert per pair of courses taken together, raised by the later of their starts."""
    alerts = []
    courses = list(medications.values())
    for first in courses:
        if not rule.first.match(first.drug, first.rxnorm):
            continue
        for second in courses:
            if second is first or not rule.second.match(second.drug, second.rxnorm):
                continue
            later = max((first, second), key=lambda m: m.started.position).started
            if not (_taking(first, later.at) and _taking(second, later.at)):
                continue
            closing = _decision_on(facts, (first, second), later)
            alerts.append(
                Alert(
                    key=f"{rule.rule_id}:{first.medication_id}:{second.medication_id}",
                    severity=rule.severity,
                    title=f"{first.drug} with {second.drug}: {rule.title}",
                    for_roles=rule.for_roles,
                    raised_at=later.at,
                    rule=rule.ref,
                    closed_at=closing.at if closing is not None else None,
                    anchor_position=later.position,
                    inputs=positions([*first.course_facts, *second.course_facts, closing]),
                    awaits=DECISION_CLASSES,
                )
            )
    return alerts


def _mg_per_day(dose: Mapping[str, Any], schedule: Mapping[str, Any]) -> Decimal | None:
    try:
        given = Dose.model_validate(dose)
        named = schedule.get("frequency")
        frequency = Frequency(str(named)) if named else None
    except (ValueError, InvalidOperation):
        return None
    daily = daily_amount(given, frequency)
    return daily.amount if daily.unit == DoseUnit.MG and given.unit in MASS_IN_MG else None


def _risk_conditions(rule: DoseRiskRule, facts: Sequence[Fact], at: datetime) -> list[Fact]:
    """The active conditions of `rule.risk_icd10` as recorded up to `at`."""
    latest: dict[str, Fact] = {}
    for fact in facts:
        if fact.kind == kind_of(ConditionRecorded) and fact.at <= at:
            latest[str(fact.payload.get("icd10", ""))] = fact
    return [
        f
        for code, f in latest.items()
        if f.payload.get("status", "active") == "active"
        and code.replace(".", "").upper().startswith(rule.risk_icd10)
    ]


def dose_risk_picture(
    rule: DoseRiskRule,
    facts: Sequence[Fact],
    medications: Mapping[str, MedicationCourse],
    patient: PatientContext,
    now: datetime,
) -> tuple[list[DueItem], list[Alert]]:
    """For each course of `rule.drugs`: at its start, each dose or schedule change, and
    each risk condition recorded while it is taken, an alert if the daily dose is above
    the limit for the patient's age then or a risk condition is active; at most one open
    at a time. Each alert brings the ECG item."""
    items: list[DueItem] = []
    alerts: list[Alert] = []
    for med in medications.values():
        if not rule.drugs.match(med.drug, med.rxnorm):
            continue
        conditions = [
            f
            for f in facts
            if f.kind == kind_of(ConditionRecorded) and f.position > med.started.position
        ]
        moments = sorted([*med.course_facts, *conditions], key=lambda f: f.position)
        open_until: datetime | None = None
        opened = False
        for moment in moments:
            if not _taking(med, moment.at):
                continue
            if opened and (open_until is None or open_until > moment.at):
                continue
            reasons = _reasons(rule, med, facts, patient, moment)
            if not reasons:
                continue
            closing = _decision_on(facts, (med,), moment)
            closed_at = closing.at if closing is not None else None
            opened, open_until = True, closed_at
            risk = _risk_conditions(rule, facts, moment.at)
            inputs = positions([*med.course_facts, *risk, closing])
            if any(r.startswith("age") for r in reasons):
                inputs |= patient.sources
            alerts.append(
                Alert(
                    key=f"{rule.rule_id}:{med.medication_id}:{moment.position}",
                    severity="high",
                    title=f"{med.drug}: {rule.title} ({'; '.join(reasons)})",
                    for_roles=rule.for_roles,
                    raised_at=moment.at,
                    rule=rule.ref,
                    closed_at=closed_at,
                    anchor_position=moment.position,
                    inputs=inputs,
                    awaits=DECISION_CLASSES,
                )
            )
            items.append(_ecg_item(rule, med, facts, moment, inputs, now))
    return items, alerts


def _reasons(
    rule: DoseRiskRule,
    med: MedicationCourse,
    facts: Sequence[Fact],
    patient: PatientContext,
    moment: Fact,
) -> list[str]:
    dose = next(
        (s.dose for s in reversed(med.doses) if s.fact.position <= moment.position), med.dose
    )
    schedule = next(
        (s for f, s in reversed(med.schedules) if f.position <= moment.position), med.schedule
    )
    found = []
    mg = _mg_per_day(dose, schedule)
    age = patient.age_on(moment.at.date())
    limit = rule.limit(age)
    if mg is not None and mg > limit:
        older = age is None or age > rule.older_than
        who = f"age {age}" if age is not None else "age unknown"
        found.append(
            f"{mg.normalize():f} mg/day above {limit.normalize():f} mg/day"
            + (f" ({who}, over {rule.older_than})" if older else "")
        )
    for condition in _risk_conditions(rule, facts, moment.at):
        found.append(
            f"{condition.payload.get('description')} ({condition.payload.get('icd10')}) recorded"
        )
    return found


def _ecg_item(
    rule: DoseRiskRule,
    med: MedicationCourse,
    facts: Sequence[Fact],
    raised: Fact,
    inputs: frozenset[int],
    now: datetime,
) -> DueItem:
    met = min(
        (
            f
            for f in facts
            if f.kind == kind_of(LabResulted)
            and f.payload.get("loinc") in rule.need_loinc
            and f.at >= raised.at
        ),
        key=lambda f: f.at,
        default=None,
    )
    due_by = raised.at + days(rule.need_within_days)
    met_at = met.at if met is not None else None
    return DueItem(
        key=f"{rule.rule_id}-ecg:{med.medication_id}:{raised.position}:0",
        kind="lab",
        title=f"{med.drug}: {rule.need_title} (within {rule.need_within_days} days)",
        for_roles=rule.for_roles,
        due_from=raised.at,
        due_by=due_by,
        status=_status(met_at, due_by, now),
        rule=rule.ref,
        met_at=met_at,
        anchor_position=raised.position,
        inputs=inputs | positions([met]),
        awaits=classes_of(LabResulted),
    )


def pdmp_items(
    rule: PdmpRule,
    facts: Sequence[Fact],
    medications: Mapping[str, MedicationCourse],
    now: datetime,
) -> list[DueItem]:
    """For each course of a controlled substance: a check due by its start (one made up
    to the state's `before_days` before counts), then one every `renew_days` from the
    last check (or the start) while it continues. The state is the last check's."""
    checks = sorted((f for f in facts if f.kind == kind_of(rule.check)), key=lambda f: f.at)
    items = []
    for med in medications.values():
        if not rule.drugs.match(med.drug, med.rxnorm):
            continue
        start = med.started.at
        earlier = [c for c in checks if c.at <= start]
        state = pdmp_state(str(earlier[-1].payload.get("state")) if earlier else None)
        before = [c for c in earlier if start - c.at <= days(state.before_days)]
        after = [c for c in checks if c.at > start]
        met = before[-1] if before else (after[0] if after else None)
        items.append(
            _pdmp_item(
                rule,
                med,
                "0",
                start - days(state.before_days),
                start,
                met,
                now,
                f"before starting ({_state_label(state)})",
            )
        )
        # Renewals: every `renew_days` from the last check (or the start), while taken.
        anchor = met.at if met is not None else start
        k = 1
        while True:
            latest = [c for c in checks if c.at <= anchor]
            state = pdmp_state(str(latest[-1].payload.get("state")) if latest else None)
            due_by = anchor + days(state.renew_days)
            due_from = due_by - days(14)
            if med.stopped_at is not None and due_from > med.stopped_at:
                break
            renewal = next((c for c in checks if c.at > anchor and c.at >= due_from), None)
            items.append(
                _pdmp_item(
                    rule,
                    med,
                    str(k),
                    due_from,
                    due_by,
                    renewal,
                    now,
                    f"at renewal, every {state.renew_days} days ({_state_label(state)})",
                )
            )
            if renewal is None or due_from > now:
                break
            anchor, k = renewal.at, k + 1
    return items


def _state_label(state: PdmpState) -> str:
    return "house default" if state.state == DEFAULT_PDMP_STATE else state.state


def _pdmp_item(
    rule: PdmpRule,
    med: MedicationCourse,
    n: str,
    due_from: datetime,
    due_by: datetime,
    met: Fact | None,
    now: datetime,
    label: str,
) -> DueItem:
    met_at = met.at if met is not None else None
    return DueItem(
        key=f"{rule.rule_id}:{med.medication_id}:{med.started.position}:{n}",
        kind="assessment",
        title=f"{med.drug}: prescription-monitoring program (PDMP) check ({label})",
        for_roles=rule.for_roles,
        due_from=due_from,
        due_by=due_by,
        status=_status(met_at, due_by, now),
        rule=rule.ref,
        met_at=met_at,
        anchor_position=med.started.position,
        inputs=positions([*med.course_facts, met]),
        awaits=classes_of(rule.check),
    )
