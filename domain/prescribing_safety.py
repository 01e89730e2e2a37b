"""Prescribing safety: what a prescriber records around a controlled substance or an
opioid use disorder treatment that is not itself an order. A naloxone discussion (FDA,
2020: discuss naloxone when beginning and renewing OUD treatment) and a check of the
state's prescription-monitoring program (PDMP) before starting or renewing a controlled
substance. Both close monitoring items (domain/rules/monitoring/combinations.py and
substance_use.py); neither changes the record's state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import Field

from domain.errors import InvalidInput
from domain.events import Actor
from domain.medication import PRESCRIBERS
from domain.record import TREATING, RecordBase, RecordEvent
from domain.vocabulary import DataClass, Role, ShortText, Text


@dataclass(frozen=True)
class PdmpState:
    """How often a state asks for a PDMP check while a controlled substance continues:
    every `renew_days`; a check counts for a start when made at most `before_days` before
    it. `checked` only when the state's rule itself was read."""

    state: str
    renew_days: int
    before_days: int
    source: str
    checked: bool = False


PDMP_SUMMARY = (
    "state PDMP mandates as summarised by NAMSDL and the PDMP TTAC (secondary: the statutes "
    "were not read)"
)
# The default, and the states whose rule Tandem has summarised. A state not named here
# takes the default: a check in the week before the start and every 90 days while the
# substance continues (a house choice; many states ask for a quarterly check).
DEFAULT_PDMP_STATE = "default"
PDMP_STATES: dict[str, PdmpState] = {
    DEFAULT_PDMP_STATE: PdmpState(
        DEFAULT_PDMP_STATE, 90, 7, "house default: before the start and every 90 days"
    ),
    # Arizona: each new course of an opioid or benzodiazepine, then quarterly.
    "AZ": PdmpState("AZ", 90, 1, PDMP_SUMMARY),
    # Alabama: twice a year above 30 MME (opioids; applied here to every controlled drug).
    "AL": PdmpState("AL", 182, 1, PDMP_SUMMARY),
}
US_STATES = frozenset(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "DC",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "PR",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "GU",
        "VI",
    ]
)


def pdmp_state(state: str | None) -> PdmpState:
    """The row of `state`, or the default for a state not on file (or none given)."""
    return PDMP_STATES.get(state or DEFAULT_PDMP_STATE, PDMP_STATES[DEFAULT_PDMP_STATE])


class NaloxoneDiscussed(RecordEvent):
    """Naloxone was discussed with the patient (and caregivers): whether they have it,
    were prescribed it elsewhere or declined it. A naloxone prescription is a
    MedicationStarted of naloxone."""

    default_class: ClassVar[DataClass] = DataClass.MEDICATION
    authors: ClassVar[frozenset[Role]] = TREATING

    outcome: Literal["has-naloxone", "prescribed-elsewhere", "declined", "discussed"]
    note: Text | None = None

    def summary(self) -> str:
        return f"naloxone discussed ({self.outcome})"


class PrescriptionMonitoringChecked(RecordEvent):
    """The prescriber queried the state's prescription-monitoring program (PDMP) for the
    patient's controlled-substance history, in `state` (two letters; the clinic's
    TANDEM_PDMP_STATE when the request names none), with what it found."""

    default_class: ClassVar[DataClass] = DataClass.MEDICATION
    authors: ClassVar[frozenset[Role]] = PRESCRIBERS

    state: ShortText = Field(pattern=r"^[A-Z]{2}$")
    findings: Literal["no-concerns", "concerns"]
    note: Text | None = None

    def summary(self) -> str:
        return f"PDMP checked ({self.state}): {self.findings}"


class PrescribingSafetySection(RecordBase):
    def discuss_naloxone(self, by: Actor, at: datetime, **details: Any) -> None:
        # Part 2 where the discussion is made in a Part 2 program or the patient is
        # treated for a substance use disorder on this record.
        sud = self.in_part2_program() or any(m.sud for m in self.state.medications.values())
        self._record(NaloxoneDiscussed, by, at, sud_context=sud, **details)

    def check_prescription_monitoring(
        self, by: Actor, at: datetime, *, state: str | None = None, **details: Any
    ) -> None:
        if not state:
            raise InvalidInput.single(
                "state", "name the state whose PDMP was checked (or set TANDEM_PDMP_STATE)"
            )
        if state not in US_STATES:
            raise InvalidInput.single(
                "state", f"'{state}' is not a US state or territory code (two capitals)"
            )
        sud = self.in_part2_program() or any(m.sud for m in self.state.medications.values())
        self._record(PrescriptionMonitoringChecked, by, at, sud_context=sud, state=state, **details)
