"""Properties of the access policy over random consent histories, teams, viewers and reads.

The oracle below is written from the rules in plain words (DESIGN.md's people table and
clinical/privacy.md), without the policy's own constants or helpers, so that the policy and
the oracle have to agree from two independent readings of the same rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from domain.access import Decision, EventFacts, Viewer, decide
from domain.consent import REDISCLOSURE_NOTICE, PatientConsents, Purpose
from domain.errors import InvalidInput, TandemError
from domain.events import Actor, now
from domain.record import Membership
from domain.vocabulary import DataClass, Role

PATIENT_ID = uuid4()
OTHER_PATIENT = uuid4()
# A year of care that ended a month ago: every clinical time is safely in the past.
BASE = now() - timedelta(days=400)
YEAR = 365

# --- the cast -----------------------------------------------------------------------------

CAST = [
    Actor(user_id="t.okafor@riverside.example", role=Role.THERAPIST, organisation="Riverside"),
    Actor(user_id="c.diaz@harbor.example", role=Role.THERAPIST, organisation="Harbor OTP"),
    Actor(user_id="p.lindqvist@riverside.example", role=Role.PRESCRIBER, organisation="Riverside"),
    Actor(user_id="g.nakamura@valley.example", role=Role.PRIMARY_CARE, organisation="Valley"),
    Actor(user_id="counsel@state-u.example", role=Role.SCHOOL_COUNSELOR, organisation="State U"),
    Actor(user_id="hr@acme.example", role=Role.EMPLOYER, organisation="Acme"),
    Actor(user_id="alex@mail.example", role=Role.SUPPORTER, organisation="family"),
    Actor(user_id="sam@mail.example", role=Role.PATIENT, organisation="self"),
    Actor(user_id="audit@riverside.example", role=Role.COMPLIANCE, organisation="Riverside"),
]
USERS = [a.user_id for a in CAST]
ORGANISATIONS = sorted({a.organisation for a in CAST} | {"Elsewhere"})
RECORDER = CAST[7]  # the patient records their consents
STRANGER = Actor(
    user_id="someone@elsewhere.example", role=Role.PRIMARY_CARE, organisation="Elsewhere"
)

# The record's data classes, in DESIGN.md's words.
NOTE = DataClass.PSYCHOTHERAPY_NOTE
SUD = DataClass.SUD
RECORD = {
    DataClass.DEMOGRAPHICS,
    DataClass.CARE_TEAM,
    DataClass.CARE_PLAN,
    DataClass.APPOINTMENT,
    DataClass.PROGRESS_NOTE,
    NOTE,
    DataClass.MEDICATION,
    DataClass.LAB,
    DataClass.MEASURE,
    DataClass.FUNCTIONAL,
    DataClass.SAFETY,
    SUD,
    DataClass.MESSAGE,
    DataClass.CONSENT,
}
PRESCRIBER_SEES = {
    DataClass.MEDICATION,
    DataClass.LAB,
    DataClass.MEASURE,
    DataClass.PROGRESS_NOTE,
    DataClass.SAFETY,
    DataClass.CARE_PLAN,
    DataClass.DEMOGRAPHICS,
    DataClass.CARE_TEAM,
    DataClass.APPOINTMENT,
    DataClass.MESSAGE,
    DataClass.FUNCTIONAL,
    DataClass.CONSENT,
}


def day(n: float) -> datetime:
    return BASE + timedelta(days=n)


# --- consent histories ----------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One command on the patient's consents, on day `when` of the year."""

    kind: str
    consent: int
    when: int
    details: tuple[Any, ...] = ()


# Generation is most of each example's cost, and Hypothesis pays per draw: so each command,
# team and read is one draw of 16 random bytes whose mixed-radix digits are its fields (bytes
# rather than a big integer, whose draws favour small values and so the first option of
# every later field). Shrinking still works: towards zero bytes, the first options.
T = TypeVar("T")
CODES = st.binary(min_size=16, max_size=16).map(lambda b: int.from_bytes(b, "little"))


class Digits:
    """The fields of one drawn integer, read off one digit at a time."""

    def __init__(self, code: int) -> None:
        self.rest = code

    def below(self, n: int) -> int:
        self.rest, digit = divmod(self.rest, n)
        return digit

    def pick(self, options: Sequence[T]) -> T:
        return options[self.below(len(options))]

    def flag(self) -> bool:
        return bool(self.below(2))


ORDINARY = sorted(RECORD - {NOTE})
# The classes an event can have (every one but `sud`, which only a consent names).
LABELLED = sorted(RECORD - {SUD})
MASKS = 2 ** (len(ORDINARY) + 1)


def class_set(d: Digits) -> list[DataClass]:
    """A quarter of the time a psychotherapy-note consent; otherwise a few classes (two masks
    and-ed), where the top bit adds psychotherapy notes (which the consent rules refuse)."""
    if d.below(4) == 0:
        return [NOTE]
    mask = d.below(MASKS) & d.below(MASKS)
    picked = [c for i, c in enumerate(ORDINARY) if mask >> i & 1]
    if mask >> len(ORDINARY) & 1:
        picked.append(NOTE)
    return picked or [NOTE]


RECIPIENTS = [("user", u) for u in USERS] + [("organisation", o) for o in ORGANISATIONS]
PURPOSES = list(Purpose)
KINDS = ["grant"] * 4 + ["amend", "amend", "revoke", "expire"]


def op_from(code: int, kind: str | None = None) -> Op:
    d = Digits(code)
    drawn, consent, when = d.pick(KINDS), d.below(4), d.below(YEAR + 1)
    kind = kind or drawn
    if kind == "grant":
        recipient, classes, purpose = d.pick(RECIPIENTS), class_set(d), d.pick(PURPOSES)
        start = d.below(YEAR + 31) - 30
        length = d.below(YEAR + YEAR // 4) - YEAR // 4  # negative: no end date
        until = None if length < 0 else start + length
        return Op(
            kind, consent, when, (recipient, classes, purpose, start, until, d.flag(), d.flag())
        )
    if kind == "amend":
        changed = class_set(d) if d.below(3) else None
        until = d.below(YEAR + YEAR // 2) - YEAR // 2  # negative: unchanged
        return Op(kind, consent, when, (changed, until if until > 0 else None))
    return Op(kind, consent, when)


history_st = st.lists(CODES.map(op_from), min_size=1, max_size=7).map(
    lambda ops: sorted(ops, key=lambda o: o.when)
)


def recorded(ops: list[Op], ids: list[UUID]) -> tuple[PatientConsents, list[Op]]:
    """Run the commands through the aggregate; keep those it accepted."""
    consents = PatientConsents.open(RECORDER, BASE - timedelta(days=1), PATIENT_ID)
    accepted = []
    for op in ops:
        at, consent_id = day(op.when), ids[op.consent]
        try:
            if op.kind == "grant":
                (kind, to), classes, purpose, start, until, eot, part2 = op.details
                consents.grant(
                    RECORDER,
                    at,
                    consent_id=consent_id,
                    recipient_kind=kind,
                    recipient=to,
                    data_classes=classes,
                    purpose=purpose,
                    valid_from=day(start),
                    valid_until=None if until is None else day(until),
                    until_end_of_treatment=eot,
                    part2=part2,
                )
            elif op.kind == "amend":
                classes, until = op.details
                consents.amend(
                    RECORDER,
                    at,
                    consent_id=consent_id,
                    data_classes=classes,
                    valid_until=None if until is None else day(until),
                )
            elif op.kind == "revoke":
                consents.revoke(RECORDER, at, consent_id=consent_id, reason="in writing")
            else:
                consents.expire(RECORDER, at, consent_id=consent_id)
        except TandemError:
            continue
        accepted.append(op)
    return consents, accepted


# --- the oracle -----------------------------------------------------------------------------


@dataclass
class Grant:
    """A consent as the oracle reads its accepted commands."""

    kind: str
    to: str
    purpose: Purpose
    part2: bool
    start: int
    granted: int
    versions: list[tuple[int, set[DataClass], int | None]]  # (from day, classes, until)
    ended: int | None = None


def grants_from(accepted: list[Op]) -> dict[int, Grant]:
    grants: dict[int, Grant] = {}
    for op in accepted:
        if op.kind == "grant":
            (kind, to), classes, purpose, start, until, _eot, part2 = op.details
            grants[op.consent] = Grant(
                kind, to, purpose, part2, start, op.when, [(op.when, set(classes), until)]
            )
        elif op.kind == "amend":
            classes, until = op.details
            g = grants[op.consent]
            _, last_classes, last_until = g.versions[-1]
            g.versions.append(
                (
                    op.when,
                    set(classes) if classes is not None else last_classes,
                    until if until is not None else last_until,
                )
            )
        else:
            grants[op.consent].ended = op.when
    return grants


def in_force(g: Grant, at: float) -> set[DataClass] | None:
    """The classes a consent gives at `at`, or None if it gives nothing then."""
    if at < g.granted or at < g.start or (g.ended is not None and at >= g.ended):
        return None
    classes, until = next((c, u) for w, c, u in reversed(g.versions) if w <= at)
    if until is not None and at >= until:
        return None
    return classes


def oracle(
    viewer: Viewer,
    team: dict[str, Membership],
    grants: dict[int, Grant],
    at: float,
    purpose: Purpose,
    emergency: str | None,
    facts: EventFacts,
) -> bool:
    """May this viewer see this event? The rules, in plain terms."""
    what, role, who = facts.data_class, viewer.role, viewer.user_id
    clinician = role in (Role.THERAPIST, Role.PRESCRIBER, Role.PRIMARY_CARE)
    if what not in RECORD or role in (Role.COMPLIANCE, Role.SYSTEM):
        return False
    # No event carries the class `sud`: a Part 2 record keeps its own class, labelled.
    assert what != SUD
    if emergency is not None and clinician:
        return what != NOTE
    if role == Role.PATIENT:
        return viewer.patient_id == PATIENT_ID and what != NOTE

    membership = team.get(who)
    on_team = membership is not None and membership.active and membership.role == role
    if role == Role.SUPPORTER and not on_team:
        return False
    treating = on_team and role in (Role.THERAPIST, Role.PRESCRIBER)

    cap = {
        Role.SCHOOL_COUNSELOR: {DataClass.FUNCTIONAL, DataClass.MEASURE},
        Role.EMPLOYER: {DataClass.FUNCTIONAL},
    }.get(role, RECORD)
    # Schools and employers never receive Part 2 records, under any consent.
    part2_reaches = role not in (Role.SCHOOL_COUNSELOR, Role.EMPLOYER)
    mine = []
    for g in grants.values():
        classes = in_force(g, at)
        named = g.to == who if g.kind == "user" else g.to == viewer.organisation
        if classes is not None and named and g.purpose == purpose:
            if NOTE in classes and len(classes) > 1:
                continue  # notes combined with anything: not a valid authorization at all
            mine.append((classes & cap, g.part2 and part2_reaches, SUD in classes))

    if what == NOTE:
        if treating and facts.author == who:  # their own note, while treating
            return True
        note_consents = [part2 for classes, part2, _ in mine if NOTE in classes]
        if facts.sud_counseling:
            return any(note_consents)
        return bool(note_consents)
    if facts.part2:
        # A Part 2 record: only under a Part 2 consent naming its kind, or `sud` (every kind).
        by_consent = any(part2 and (what in classes or sud) for classes, part2, sud in mine)
    else:
        by_consent = any(what in classes for classes, _, _ in mine)
    if treating:
        assert membership is not None
        sees = role == Role.THERAPIST or what in PRESCRIBER_SEES
        if sees and (not facts.part2 or membership.part2_program):
            return True
    return by_consent


# --- random teams, viewers and reads ---------------------------------------------------------

TEAM_ROLES = [r for r in Role if r not in (Role.SYSTEM, Role.COMPLIANCE)]
# Not on the team, or on it in their own role or another, in a Part 2 program or not,
# active or not (active more often).
MEMBERSHIPS = [None, None] + [
    (role, part2, active)
    for role in [None] * len(TEAM_ROLES) + TEAM_ROLES
    for part2 in (False, True)
    for active in (True, True, False)
]


def team_from(code: int) -> dict[str, Membership]:
    d = Digits(code)
    team = {}
    for a in CAST:
        pick = d.pick(MEMBERSHIPS)
        if pick is not None:
            role, part2, active = pick
            team[a.user_id] = Membership(a.user_id, role or a.role, a.organisation, part2, active)
    return team


team_st = CODES.map(team_from)
# Mostly in the user's own role; sometimes in any other.
ROLES = [None] * len(Role) + list(Role)
VIEWER_PATIENTS = [PATIENT_ID, PATIENT_ID, OTHER_PATIENT, None]
EMERGENCIES = [None] * 6 + ["overdose suspected", "  "]


Read = tuple[Viewer, int, Purpose, str | None, EventFacts]


def read_from(code: int, ops: list[Op]) -> Read:
    """A read. Three in four aim at a granted consent: its recipient reads (mostly in their
    own role), mostly for its purpose and its classes, on a day that matters to it (its
    grant, start or end, any command's day); the rest are anyone, any day, anything."""
    d = Digits(code)
    when = d.below(YEAR + 36) - 5
    who, role, patient = d.pick(CAST), d.pick(ROLES), d.pick(VIEWER_PATIENTS)
    purpose, emergency = d.pick(PURPOSES), d.pick(EMERGENCIES)
    what, author, counseling = d.pick(list(DataClass)), d.pick(USERS), d.flag()
    aim, target, moment, same_purpose, same_class, same_role = (
        d.below(4),
        d.below(64),
        d.below(6),
        d.below(4),
        d.flag(),
        d.below(4),
    )
    grants = [o for o in ops if o.kind == "grant"]
    if grants and aim < 3:  # digits of zero (Hypothesis's favourite) aim
        op = grants[target % len(grants)]
        (kind, to), classes, granted_for, start, until, _eot, _part2 = op.details
        if kind == "user":
            who = next(a for a in CAST if a.user_id == to)
        else:
            members = [a for a in CAST if a.organisation == to] or [STRANGER]
            who = members[target % len(members)]
        purpose = granted_for if same_purpose < 3 else purpose
        role = None if same_role < 3 else role
        what = classes[target % len(classes)] if not same_class else what
        inside = (max(start, op.when) + (until if until is not None else YEAR)) // 2
        days = [op.when, start, inside, inside, ops[target % len(ops)].when]
        days.append(until if until is not None else when)
        when = days[moment] if moment < len(days) else when
    viewer = Viewer(who.user_id, role or who.role, who.organisation, patient)
    part2, kind_of_part2 = d.flag(), d.pick(LABELLED)
    if what == SUD:  # aimed at "SUD records": a Part 2 record of some kind
        what, part2 = kind_of_part2, True
    if what == NOTE:
        part2 = counseling  # an SUD counseling note is a Part 2 psychotherapy note
    return viewer, when, purpose, emergency, EventFacts(what, author, counseling, part2)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Op], dict[str, Membership], list[int]]:
    """A consent history, a team, and the codes of a few reads (decoded against the commands
    the aggregate accepted, so that most of them aim at a consent that exists)."""
    return draw(history_st), draw(team_st), draw(st.lists(CODES, min_size=1, max_size=3))


@settings(
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenarios())
def test_no_read_ever_opens_an_event_the_rules_forbid(scenario: Any) -> None:
    ops, team, codes = scenario
    consents, accepted = recorded(ops, [uuid4() for _ in range(4)])
    grants = grants_from(accepted)
    for viewer, at, purpose, emergency, facts in (read_from(c, accepted) for c in codes):
        if emergency is not None and not emergency.strip():
            with pytest.raises(InvalidInput):
                decide(viewer, PATIENT_ID, team, consents, day(at), purpose, emergency)
            continue
        made = decide(viewer, PATIENT_ID, team, consents, day(at), purpose, emergency)
        expected = oracle(viewer, team, grants, at, purpose, emergency, facts)
        assert made.permits(facts) == expected, (made, facts, accepted)
        assert made.allowed or not expected
        event(f"{made.basis}: {'permitted' if expected else 'refused'}")
        if made.consents and expected:
            event("permitted under a consent")
        part2_shown = any(
            made.permits(EventFacts(c, "someone@else.example", part2=True))
            for c in LABELLED
            if c != NOTE
        )
        if part2_shown and not (
            made.basis in ("own-record", "break-the-glass") or in_program(made, team)
        ):
            # 42 CFR 2.32: Part 2 records disclosed under consent carry the notice.
            assert made.notice == REDISCLOSURE_NOTICE
            event("Part 2 records under a Part 2 consent")


def in_program(made: Decision, team: dict[str, Membership]) -> bool:
    membership = team.get(made.viewer.user_id)
    return made.basis == "treating-team" and membership is not None and membership.part2_program


@settings(max_examples=2_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.data())
def test_a_revoked_consent_never_contributes_after_its_revocation(
    scenario: Any, data: st.DataObject
) -> None:
    ops, team, codes = scenario
    ids = [uuid4() for _ in range(4)]
    # A revocation the aggregate accepts: of a granted consent, on a day after its last
    # change and before it ended or ran out (a later change of it is dropped).
    extra = op_from(data.draw(CODES), "grant")
    if not any(op.kind == "grant" for op in ops):
        ops = sorted([*ops, extra], key=lambda o: o.when)
    history, accepted = recorded(ops, ids)
    open_days = {}
    for op in accepted:
        if op.kind != "grant" or op.consent in open_days:
            continue
        first = op.when
        ended = history.consents[ids[op.consent]].ended_at
        last = YEAR if ended is None else (ended - BASE).days - 1
        for _, terms in history.consents[ids[op.consent]].versions:
            if terms.valid_until is not None:
                last = min(last, (terms.valid_until - BASE).days - 1)
        if last >= first:
            open_days[op.consent] = (op, first, last)
    assume(open_days)
    consent = data.draw(st.sampled_from(sorted(open_days)))
    granted, first, last = open_days[consent]
    revoked = Op("revoke", consent, data.draw(st.integers(first, last)))
    ops = [op for op in ops if op.consent != consent or op.when < revoked.when or op is granted]
    ops = sorted([*ops, revoked], key=lambda o: o.when)
    consents, accepted = recorded(ops, ids)
    assume(revoked in accepted)
    # The same history without that consent at all: after its revocation, nothing differs.
    without, _ = recorded([op for op in ops if op.consent != revoked.consent], ids)
    grant = next(op for op in accepted if op.kind == "grant" and op.consent == revoked.consent)
    for viewer, at, purpose, _emergency, _facts in (read_from(c, [grant]) for c in codes):
        # Reads aimed at the revoked consent's recipient, at or after the revocation.
        when = day(max(at, revoked.when))
        made = decide(viewer, PATIENT_ID, team, consents, when, purpose)
        assert ids[revoked.consent] not in made.consents
        assert made == decide(viewer, PATIENT_ID, team, without, when, purpose)
        assert all(t.consent_id != ids[revoked.consent] for t in consents.in_force(when))
        before = decide(viewer, PATIENT_ID, team, consents, day(revoked.when - 1), purpose)
        if ids[revoked.consent] in before.consents:
            event("the consent was relied on the day before its revocation")
