"""Deciding and building a read: the policy decides, the answer is built from the record
index and hashed. `application.audited` records it before anyone sees it; this module never
answers a person on its own.

A read's answer depends only on: the index rows up to a log position, the patient's consents
at a version, the reading time, the viewer, the purpose and (for break-the-glass) the
stated emergency. The access record keeps all of them, so `replay` rebuilds the very same
bytes and compares hashes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from application.clinic import Clinic
from application.errors import IndexBehind
from application.index_runner import IndexRunner
from domain.access import Decision, Viewer, decide, denied
from domain.audit import AccessRecorded
from domain.consent import ConsentTerms, PatientConsents, Purpose
from domain.directory import Directory
from domain.errors import InvalidInput
from domain.events import now
from domain.history import care_team
from domain.history.care_team import TEAM_KINDS
from domain.record import Membership, kind_of
from domain.registration import PatientRegistered
from domain.users import User
from domain.vocabulary import Role
from projections import own_record, role_views
from projections.board import PatientBoard
from projections.care import facts_of
from projections.record_index import ConsentRow, EventRow

# A reader acting for a consent's purpose reads for that purpose unless they choose another
# (the API and the pages alike); everyone else reads for treatment.
DEFAULT_PURPOSE = {
    Role.EMPLOYER: Purpose.RETURN_TO_WORK,
    Role.SCHOOL_COUNSELOR: Purpose.EDUCATION_SUPPORT,
    Role.SUPPORTER: Purpose.FAMILY_SUPPORT,
}


# The care view (due items, alerts, missed sessions, waiting messages) every page, route
# and board row reads: its rules run on the whole record (projections.role_views).
CARE_ITEMS = role_views.CARE_ITEMS
# The board's view of one patient: care-items' board sections read from the stored board
# (projections.board), so its cost is the board's, not the history's.
BOARD_ITEMS = role_views.BOARD_ITEMS
# The paged kinds (the timeline and the events, newest first) and their page bounds.
Page = role_views.Page
PAGED_KINDS = role_views.PAGED_KINDS
PAGE_DEFAULT, PAGE_MAX = role_views.PAGE_DEFAULT, role_views.PAGE_MAX
SCORED_OUTCOMES = role_views.SCORED_OUTCOMES
# Everything the patient page shows, in one answer and one access record.
PATIENT_PAGE = role_views.PATIENT_PAGE
# Everything the patient's own page showed, in one answer and one access record (kept for
# the replays of reads answered with it; the page now reads OWN_PORTAL).
OWN_PAGE = role_views.OWN_PAGE
# What only the patient reads of their own record (projections.own_record): who has seen it,
# their copy of it (the right of access), and their page with both.
OWN_ACCESS_LOG = own_record.OWN_ACCESS_LOG
RECORD_EXPORT = own_record.RECORD_EXPORT
OWN_PORTAL = own_record.OWN_PORTAL
# The kinds read a page at a time (their access record keeps the page), and the composite
# kinds (their access record names their sections).
PAGE_KINDS = role_views.PAGE_KINDS | own_record.LOG_KINDS
COMPOSITE_KINDS = role_views.COMPOSITE_KINDS | {OWN_PORTAL}
# The kinds that read the patient's consents beside their rows.
WITH_CONSENTS = frozenset({*role_views.CONSENT_KINDS, OWN_PAGE, OWN_PORTAL, RECORD_EXPORT})
LISTING_CONSENTS = frozenset({"consent-list", OWN_PAGE, OWN_PORTAL, RECORD_EXPORT})


def default_purpose(role: Role) -> Purpose:
    return DEFAULT_PURPOSE.get(role, Purpose.TREATMENT)


def viewer_of(user: User) -> Viewer:
    """Who is reading, as the access policy sees them."""
    return Viewer(
        user_id=user.email,
        role=user.role,
        organisation=user.organisation,
        patient_id=user.patient_id,
    )


@dataclass(frozen=True)
class ReadRequest:
    viewer: Viewer
    patient_id: UUID
    kind: str = "view"
    purpose: Purpose = Purpose.TREATMENT
    emergency_reason: str | None = None
    min_position: int | None = None
    as_of: int | None = None
    reason: str | None = None  # an operator's stated reason (the CLI), kept in the record
    page: role_views.Page | None = None  # which page of a paged kind (None: the newest)


@dataclass(frozen=True)
class PreparedRead:
    body: bytes
    sha256: str
    decision: Decision
    classes: frozenset[str]
    position: int
    consents_version: int
    at: datetime
    # The log position whose care team decided the read, when it differs from `position`
    # (an "as of" read: the data as it stood then, decided by the team of now).
    team_position: int | None = None
    view_format: int = role_views.VIEW_FORMAT
    # The directory version that decided it (None: the rule before the directory, for
    # replays of reads recorded then).
    directory_version: int | None = None
    # The clinic's time zone the care rules counted days in (None: the trigger's own UTC
    # offset, the rule for replays of reads recorded before the clinic had a zone).
    clinic_timezone: str | None = None
    # A patient page's sections, in its order (role_views.PATIENT_PAGE); () for others.
    sections: tuple[str, ...] = ()


@dataclass(frozen=True)
class Replay:
    access_id: UUID
    original_sha256: str
    replayed_sha256: str
    body: bytes

    @property
    def matches(self) -> bool:
        return self.original_sha256 == self.replayed_sha256


# The rows a read is decided on: the registration (the patient exists) and the care team.
DECIDING_KINDS = TEAM_KINDS | {kind_of(PatientRegistered)}


def team_from(rows: list[EventRow]) -> dict[str, Membership]:
    """The care team as the rows leave it (for "as of" decisions too)."""
    return care_team(facts_of(r for r in rows if r.kind in TEAM_KINDS))


# The largest log position a store can hold (SQLite's and PostgreSQL's 64-bit integer).
MAX_POSITION = 2**63 - 1


def check_page(request: ReadRequest) -> None:
    """A page is asked of a paged kind only, within the bounds (InvalidInput naming
    `limit` or `before`)."""
    page = request.page
    if page is None:
        return
    if request.kind not in PAGE_KINDS:
        raise InvalidInput.single("limit", f"the {request.kind} view is not paged")
    if not 1 <= page.size <= role_views.PAGE_MAX:
        raise InvalidInput.single("limit", f"must be between 1 and {role_views.PAGE_MAX}")
    if page.before is not None and not 1 <= page.before <= MAX_POSITION:
        raise InvalidInput.single("before", f"must be a log position (1 to {MAX_POSITION})")


def check_purpose(request: ReadRequest) -> None:
    """The right of access is the purpose of the patient's copy of their record, and of no
    other read; that copy is read for it alone (InvalidInput naming `purpose`)."""
    exporting = request.kind == RECORD_EXPORT
    if exporting and request.purpose != Purpose.RIGHT_OF_ACCESS:
        raise InvalidInput.single(
            "purpose", f"the {RECORD_EXPORT} view is read for right-of-access"
        )
    if not exporting and request.purpose == Purpose.RIGHT_OF_ACCESS:
        raise InvalidInput.single(
            "purpose", f"right-of-access is the purpose of the {RECORD_EXPORT} view alone"
        )


class Reader:
    def __init__(self, clinic: Clinic, index: IndexRunner, zone: ZoneInfo | None = None) -> None:
        self.clinic = clinic
        self.index = index
        # The clinic's time zone (settings.clinic_timezone): the care rules' days.
        self.zone = zone

    def consents(self, patient_id: UUID, version: int | None = None) -> PatientConsents | None:
        return self.clinic.consents(patient_id, version)

    def prepare(
        self,
        request: ReadRequest,
        view_format: int = role_views.VIEW_FORMAT,
        reading_time: datetime | None = None,
    ) -> PreparedRead:
        """Decide and build a read (blocking: run it off the event loop), laid out in
        `view_format` and read at `reading_time` (an older layout, or a past moment, only to
        compare with answers given then: default now)."""
        check_page(request)
        check_purpose(request)
        for name, value in (("min_position", request.min_position), ("as_of", request.as_of)):
            # The log's head is read only for a read that names a position to check.
            if value is not None and value > (head := self.clinic.position()):
                raise InvalidInput.single(name, f"{value} is beyond the log's last position {head}")
        target = max(request.min_position or 0, request.as_of or 0)
        if target and not self.index.wait_for(target):
            raise IndexBehind(f"the index has not reached position {target} yet")
        # A change to the patient's own record (a removal from the care team above all)
        # counts from the very next read, as a revocation does: when the store holds a
        # version of the record the index has not reached, the read waits until it has
        # (the log's head covers it). Others' writes, access records among them, never hold
        # a read up.
        if self.clinic.record_version(request.patient_id) > self.index.view.record_version(
            request.patient_id
        ) and not self.index.wait_for(head := self.clinic.position()):
            raise IndexBehind(f"the index has not reached position {head} yet")
        # Who may read is decided by the team, the consents and the time of this moment,
        # whatever the read looks back at: a revoked, expired or not-yet-started consent, or
        # a team one has left, never opens anything again. `as_of` only chooses which
        # version of the data is shown.
        now_position = self.index.position
        # The decision needs only the registration and the team's rows: read those first,
        # and the rest of the record only once the read is allowed, so that a refusal does
        # the same (small) work whether or not the patient exists, or how long their
        # record is.
        team_rows = self.index.view.patient_events(
            request.patient_id, up_to=now_position, kinds=DECIDING_KINDS
        )
        # Consents are read from the store itself, not the index: a revocation counts from
        # the very next read, however far the index has got.
        consents = self.consents(request.patient_id)
        consents_version = consents.version if consents else 0
        # So is the directory of recipients: a consent opens something only through the
        # entry it names (domain.directory).
        directory = self.clinic.directory()
        at = reading_time or now()
        decision = self._decide(request, team_rows, consents, at, directory)
        if request.kind == BOARD_ITEMS:
            return self._board(request, decision, consents_version, now_position, at, directory)
        if request.as_of is None or request.as_of >= now_position:
            rows = self.index.view.patient_events(request.patient_id, up_to=now_position)
            return self._build(
                request,
                rows,
                consents,
                consents_version,
                now_position,
                at,
                directory,
                view_format=view_format,
                zone=self.zone,
            )
        rows = self.index.view.patient_events(request.patient_id, up_to=request.as_of)
        return self._build(
            request,
            rows,
            consents,
            consents_version,
            request.as_of,
            at,
            directory,
            team=(team_rows, now_position),
            view_format=view_format,
            zone=self.zone,
        )

    @staticmethod
    def _decide(
        request: ReadRequest,
        team_rows: list[EventRow],
        consents: PatientConsents | None,
        at: datetime,
        directory: Directory | None,
    ) -> Decision:
        """The policy's decision on the team's rows, or the refusal. A patient the index
        does not know is decided like any other, as one with no team and no consent, and
        refused after that: the refusal takes the same path (and so about the same time)
        whether or not the patient exists."""
        decision = decide(
            request.viewer,
            request.patient_id,
            team_from(team_rows),
            consents,
            at,
            request.purpose,
            request.emergency_reason,
            directory,
        )
        if not team_rows:
            raise denied(request.patient_id, "no such patient (as far as the index has got)")
        if not decision.allowed:
            raise denied(
                request.patient_id,
                f"no basis for a {request.viewer.role.value} reading for "
                f"{request.purpose.value}: not on the team and no consent in force",
            )
        if request.kind in own_record.OWN_ONLY_KINDS and decision.basis != "own-record":
            # Who has seen the record, and the copy of the right of access, are the
            # patient's own: the treating team and a consent's recipient read neither.
            raise denied(request.patient_id, f"the {request.kind} view is the patient's own")
        return decision

    def _build(
        self,
        request: ReadRequest,
        rows: list[EventRow],
        consents: PatientConsents | None,
        consents_version: int,
        position: int,
        at: datetime,
        directory: Directory | None,
        team: tuple[list[EventRow], int] | None = None,
        view_format: int = role_views.VIEW_FORMAT,
        *,
        zone: ZoneInfo | None,
    ) -> PreparedRead:
        """The read decided on `team`'s rows (default: the rows shown) and built from
        `rows`, as the log stood at `position`."""
        with_consents = request.kind in WITH_CONSENTS
        consent_rows = (
            self.index.view.consent_events(request.patient_id, up_to=position)
            if with_consents
            else None
        )
        team_rows, team_position = team if team is not None else (rows, None)
        if not rows:
            raise denied(request.patient_id, "no such patient (as far as the index has got)")
        decision = self._decide(request, team_rows, consents, at, directory)
        wants_terms = consents is not None and request.kind == "consent-terms"
        terms = consents.in_force(at) if consents is not None and wants_terms else []
        if directory is not None:
            terms = directory.resolve_all(terms)  # one that names no entry is not in force
        listed = (
            role_views.listed_consents(consents, directory, at)
            if consents is not None and request.kind in LISTING_CONSENTS
            else []
        )
        if request.kind in own_record.KINDS:
            body, classes = self._own(
                request,
                rows,
                decision,
                position,
                consents,
                consent_rows or [],
                terms,
                listed,
                view_format,
                zone,
            )
        else:
            body, classes = role_views.build(
                request.kind,
                request.patient_id,
                rows,
                decision,
                position,
                consent_rows,
                terms,
                listed,
                view_format,
                request.page,
                zone,
            )
        data = role_views.canonical(body)
        return PreparedRead(
            data,
            hashlib.sha256(data).hexdigest(),
            decision,
            classes,
            position,
            consents_version,
            at,
            team_position,
            view_format,
            directory.version if directory is not None else None,
            zone.key if zone is not None else None,
            tuple(body["sections"]) if request.kind in COMPOSITE_KINDS else (),
        )

    def _own(
        self,
        request: ReadRequest,
        rows: list[EventRow],
        decision: Decision,
        position: int,
        consents: PatientConsents | None,
        consent_rows: list[ConsentRow],
        terms: list[ConsentTerms],
        listed: list[dict[str, Any]],
        view_format: int,
        zone: ZoneInfo | None,
    ) -> tuple[dict[str, Any], frozenset[str]]:
        """A kind only the patient reads (projections.own_record), built from their rows
        and, for the access log, the page of their access records up to `position`, with
        each reader's name as their account was opened with it (it never changes)."""
        if request.kind == RECORD_EXPORT:
            return own_record.record_export(
                request.patient_id, rows, decision, position, consent_rows, listed, view_format
            )
        page = request.page or Page()
        accesses = self.index.view.patient_accesses(
            request.patient_id,
            up_to=position,
            before=page.before,
            limit=page.size + 1,  # one more: whether an older page exists
            excluding=own_record.NOT_LISTED,
        )
        names = {a.user_id: self.clinic.display_name(a.user_id) for a in accesses}
        log = own_record.access_log(
            request.patient_id, decision, position, accesses, consents, names, page
        )
        if request.kind == OWN_ACCESS_LOG:
            return log
        return own_record.own_portal(
            request.patient_id,
            rows,
            decision,
            position,
            consent_rows,
            terms,
            listed,
            view_format,
            zone,
            log,
        )

    def _board(
        self,
        request: ReadRequest,
        decision: Decision,
        consents_version: int,
        now_position: int,
        at: datetime,
        directory: Directory | None,
    ) -> PreparedRead:
        """A board-items read, built from the patient's stored board. Its position is the
        later of the index's and the board's (read after it, it may have moved on): the
        patient's rows up to it are the rows the board was computed from, which is what a
        replay recomputes it from (`board_of`). A board whose horizon has passed is
        computed from the rows instead, as a replay does."""
        board = self.index.view.patient_board(request.patient_id, at)
        position = max(now_position, board.position if board is not None else 0)
        if board is None or board.horizon < at:
            rows = self.index.view.patient_events(request.patient_id, up_to=position)
            board = role_views.board_in(request.patient_id, rows, at, self.zone)
        if board is None:
            raise denied(request.patient_id, "no such patient (as far as the index has got)")
        return self._prepared_board(
            request,
            board,
            decision,
            consents_version,
            position,
            at,
            directory,
            self.zone.key if self.zone is not None else None,
        )

    @staticmethod
    def _prepared_board(
        request: ReadRequest,
        board: PatientBoard,
        decision: Decision,
        consents_version: int,
        position: int,
        at: datetime,
        directory: Directory | None,
        clinic_timezone: str | None,
    ) -> PreparedRead:
        body, classes = role_views.build_board(request.patient_id, board, decision, position)
        data = role_views.canonical(body)
        return PreparedRead(
            data,
            hashlib.sha256(data).hexdigest(),
            decision,
            classes,
            position,
            consents_version,
            at,
            None,
            role_views.VIEW_FORMAT,
            directory.version if directory is not None else None,
            clinic_timezone,
        )

    def replay(self, access_id: UUID) -> Replay:
        """Rebuild the answer an access record describes, and compare hashes."""
        event = next(iter(self.clinic.events.get(access_id, lte=1)))
        assert isinstance(event, AccessRecorded)
        viewer = Viewer(
            user_id=event.actor.user_id,
            role=event.actor.role,
            organisation=event.actor.organisation,
            patient_id=event.viewer_patient_id,
        )
        page = None
        if event.page_size is not None:
            page = role_views.Page(event.page_before, event.page_size)
        request = ReadRequest(
            viewer,
            event.patient_id,
            event.view,
            Purpose(event.purpose),
            event.emergency_reason,
            page=page,
        )
        rows = self.index.view.patient_events(event.patient_id, up_to=event.reflected_position)
        consents = self.consents(event.patient_id, event.consents_version)
        directory = (
            self.clinic.directory(event.directory_version)
            if event.directory_version is not None
            else None
        )
        zone = ZoneInfo(event.clinic_timezone) if event.clinic_timezone is not None else None
        if event.view == BOARD_ITEMS:
            # The board as the rows up to the recorded position leave it: what the stored
            # board held when it was read, whatever it holds now.
            board = role_views.board_in(
                event.patient_id, rows, event.clinical_time, zone, event.view_format
            )
            if not rows or board is None:
                raise denied(event.patient_id, "no such patient (as far as the index has got)")
            decision = self._decide(request, rows, consents, event.clinical_time, directory)
            prepared = self._prepared_board(
                request,
                board,
                decision,
                event.consents_version,
                event.reflected_position,
                event.clinical_time,
                directory,
                event.clinic_timezone,
            )
            return Replay(access_id, event.response_sha256, prepared.sha256, prepared.body)
        team = None
        if event.team_position is not None:
            team_rows = self.index.view.patient_events(event.patient_id, up_to=event.team_position)
            team = (team_rows, event.team_position)
        prepared = self._build(
            request,
            rows,
            consents,
            event.consents_version,
            event.reflected_position,
            event.clinical_time,
            directory,
            team,
            event.view_format,
            zone=zone,
        )
        return Replay(access_id, event.response_sha256, prepared.sha256, prepared.body)
