"""Compliance: who saw what, accounting of disclosures, the break-the-glass review queue,
replay of any past read, and the log's integrity. Audit records only, never clinical
content (the reviewer reads summaries of access, not the record itself). Every use case
here first checks that the user is a compliance reviewer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from anyio import to_thread
from pydantic import BaseModel

from application.audited import review_target
from application.reading import PAGED_KINDS, PATIENT_PAGE, viewer_of
from application.services import Services
from domain.access import check_auditor
from domain.errors import NotFound
from domain.events import now
from domain.users import User
from domain.vocabulary import Text
from projections.record_index import AccessRow

# 45 CFR 164.528(a): an accounting covers the six years before the request.
ACCOUNTING_YEARS = 6


class AccessPublic(BaseModel):
    access_id: UUID
    position: int
    at: datetime
    user_id: str
    role: str
    organisation: str
    patient_id: UUID
    view: str
    purpose: str
    basis: str
    classes: list[str]
    consents: list[UUID]
    reflected_position: int
    response_sha256: str
    emergency_reason: str | None
    part2: bool
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_outcome: str | None
    sections: list[str] = []  # a patient page's sections (one record for the page)


class Disclosure(BaseModel):
    date: datetime
    recipient: str
    recipient_organisation: str
    description: str
    purpose: str
    basis: str
    access_id: UUID


class Accounting(BaseModel):
    patient_id: UUID
    since: datetime
    disclosures: list[Disclosure]
    part2_disclosures: list[Disclosure]


class ReviewBody(BaseModel):
    outcome: Literal["appropriate", "inappropriate", "needs-follow-up"]
    note: Text


class ReplayPublic(BaseModel):
    access_id: UUID
    matches: bool
    original_sha256: str
    replayed_sha256: str


class Verification(BaseModel):
    intact: bool
    checked: int
    head: int
    head_link: str
    first_broken: int | None
    reason: str
    # Every position that does not match the chain (a swap of two rows names both).
    broken: list[int] = []
    # Whether the log was compared with a published signed head, and with which: the head
    # log entry itself (position, link, time, key id, signature) goes in the export.
    anchored: bool = False
    anchor: str = ""
    published_head: dict[str, Any] | None = None


class RefusalPublic(BaseModel):
    """A refused read, as compliance reviews it (the caller was told only "403")."""

    refusal_id: UUID
    position: int
    at: datetime
    user_id: str
    role: str
    organisation: str
    patient_id: UUID
    view: str
    purpose: str
    why: str


class SignInFailurePublic(BaseModel):
    """A refused sign-in, as compliance reviews it (log-in monitoring, 45 CFR
    164.308(a)(5)(ii)(C)); the caller was told only that the email or password was wrong.
    No password is ever kept."""

    failure_id: UUID
    position: int
    at: datetime
    username: str
    address: str
    reason: str


class Flagged(BaseModel):
    """A user refused again and again in a short window: worth a look."""

    user_id: str
    role: str
    refusals: int
    first: datetime
    last: datetime


# Repeated refusals: this many within this window flag the user (login-monitoring style,
# 164.308(a)(5)(ii)(C), applied to reads).
FLAG_REFUSALS = 5
FLAG_WINDOW = timedelta(minutes=10)


def _public(row: AccessRow) -> AccessPublic:
    """An access record as compliance sees it: the index row, field for field."""
    return AccessPublic.model_validate(row, from_attributes=True)


def _what(view: str, sections: Sequence[str] = ()) -> str:
    """A view kind as the accounting names it: a paged kind as the kind it pages, a patient
    page with the sections it showed."""
    if view == PATIENT_PAGE:
        return f"patient page ({', '.join(sections)})"
    paged = PAGED_KINDS.get(view)
    return view if paged is None else f"{paged} (one page)"


def _disclosure(row: AccessRow) -> Disclosure:
    return Disclosure(
        date=row.at,
        recipient=row.user_id,
        recipient_organisation=row.organisation,
        description=f"{_what(row.view, row.sections)} of the record: {', '.join(row.classes) or 'nothing'}",
        purpose=row.purpose,
        basis=row.basis,
        access_id=row.access_id,
    )


def require_reviewer(user: User) -> None:
    """Compliance reviewers only (NotAnAuditor for anyone else)."""
    check_auditor(viewer_of(user))


def who_saw_what(
    services: Services,
    user: User,
    *,
    patient_id: UUID | None = None,
    user_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    min_position: int | None = None,
) -> list[AccessPublic]:
    """Who saw patient X in a period, or what user Y saw (either filter, or both)."""
    check_auditor(viewer_of(user))
    services.reflect(min_position)
    rows = services.reader.index.view.accesses(
        patient_id=patient_id,
        user_id=user_id.lower() if user_id else None,
        since=since,
        until=until,
    )
    return [_public(r) for r in rows]


def accounting_of_disclosures(
    services: Services, user: User, patient_id: UUID, min_position: int | None = None
) -> Accounting:
    """Every disclosure outside the treating team (under a consent, or break-the-glass)
    over the last six years (45 CFR 164.528), Part 2 disclosures listed apart (42 CFR 2.25)."""
    check_auditor(viewer_of(user))
    services.reflect(min_position)
    since = now() - timedelta(days=365 * ACCOUNTING_YEARS + 2)
    rows = services.reader.index.view.accesses(
        patient_id=patient_id, since=since, basis=("consent", "break-the-glass")
    )
    return Accounting(
        patient_id=patient_id,
        since=since,
        disclosures=[_disclosure(r) for r in rows if not r.part2],
        part2_disclosures=[_disclosure(r) for r in rows if r.part2],
    )


def refused_reads(
    services: Services,
    user: User,
    *,
    user_id: str | None = None,
    since: datetime | None = None,
    min_position: int | None = None,
) -> list[RefusalPublic]:
    """Every refused read (attempted access), oldest first, by user and since a moment."""
    check_auditor(viewer_of(user))
    services.reflect(min_position)
    rows = services.reader.index.view.refusals(
        user_id=user_id.lower() if user_id else None, since=since
    )
    return [RefusalPublic.model_validate(r, from_attributes=True) for r in rows]


def sign_in_failures(
    services: Services,
    user: User,
    *,
    username: str | None = None,
    since: datetime | None = None,
    min_position: int | None = None,
) -> list[SignInFailurePublic]:
    """Every refused sign-in, oldest first, by username tried and since a moment."""
    check_auditor(viewer_of(user))
    services.reflect(min_position)
    rows = services.reader.index.view.sign_in_failures(
        username=username.strip().lower() if username else None, since=since
    )
    return [SignInFailurePublic.model_validate(r, from_attributes=True) for r in rows]


def flagged_users(
    services: Services, user: User, *, since: datetime | None = None
) -> list[Flagged]:
    """Users with at least FLAG_REFUSALS refused reads within FLAG_WINDOW (the last 30
    days by default), the busiest window of each."""
    check_auditor(viewer_of(user))
    rows = services.reader.index.view.refusals(since=since or now() - timedelta(days=30))
    by_user: dict[str, list[Any]] = {}
    for row in rows:
        by_user.setdefault(row.user_id, []).append(row)
    found = []
    for who, refused in by_user.items():
        best: tuple[int, int] = (0, 0)
        start = 0
        for end, row in enumerate(refused):
            while row.at - refused[start].at > FLAG_WINDOW:
                start += 1
            if end - start + 1 > best[1] - best[0]:
                best = (start, end + 1)
        if best[1] - best[0] >= FLAG_REFUSALS:
            window = refused[best[0] : best[1]]
            found.append(
                Flagged(
                    user_id=who,
                    role=window[0].role,
                    refusals=len(window),
                    first=window[0].at,
                    last=window[-1].at,
                )
            )
    return sorted(found, key=lambda f: -f.refusals)


def review_queue(
    services: Services, user: User, min_position: int | None = None
) -> list[AccessPublic]:
    """Break-the-glass reads not yet reviewed, oldest first (reflecting `min_position`)."""
    check_auditor(viewer_of(user))
    services.reflect(min_position)
    return [_public(r) for r in services.reader.index.view.accesses(unreviewed_only=True)]


def access(services: Services, user: User, access_id: UUID) -> AccessPublic:
    check_auditor(viewer_of(user))
    row = services.reader.index.view.access(access_id)
    if row is None:
        raise NotFound("access record", access_id)
    return _public(row)


async def review(services: Services, user: User, access_id: UUID, body: ReviewBody) -> AccessPublic:
    """Record a reviewer's finding on a break-the-glass read (through the write path)."""
    check_auditor(viewer_of(user))
    receipt = await services.writer.submit(
        review_target(services.clinic, access_id),
        lambda r: r.review(user.actor, now(), outcome=body.outcome, note=body.note),
    )
    await to_thread.run_sync(services.reader.index.wait_for, receipt.position)
    return access(services, user, access_id)


def replay(
    services: Services, user: User, access_id: UUID, min_position: int | None = None
) -> ReplayPublic:
    """Rebuild the exact answer of a past read from the log and compare its hash."""
    check_auditor(viewer_of(user))
    services.reflect(min_position)
    if services.reader.index.view.access(access_id) is None:
        raise NotFound("access record", access_id)
    result = services.reader.replay(access_id)
    return ReplayPublic(
        access_id=access_id,
        matches=result.matches,
        original_sha256=result.original_sha256,
        replayed_sha256=result.replayed_sha256,
    )


def verify_log(services: Services, user: User) -> Verification:
    """Whether the stored log (clinical events and access records) is intact, and if not
    the first broken position."""
    check_auditor(viewer_of(user))
    found = services.anchor.verify(link=True)
    result = found.chain
    head = found.anchor.head
    return Verification(
        intact=found.intact,
        checked=result.checked,
        head=result.head,
        head_link=result.head_link_hex,
        first_broken=found.first_broken,
        reason=found.reason,
        broken=list(result.broken),
        anchored=found.anchor.anchored,
        anchor=found.anchor.note,
        published_head=head.record() if head is not None else None,
    )
