"""The directory of outside recipients: the organisations and people outside the clinic that a
consent may name (issue 11, item 6).

A consent used to name its recipient in free text, so a typo ("Mapel Family Pratice") was
accepted and listed as in force while it named nobody. Now the clinic registers each outside
recipient once, as it registers users, with the role it acts in (primary care, school
counselor, employer, supporter, or a clinician elsewhere); a new grant names an entry by its
id, and the grant stores the entry's id beside the text the entry is named by.

How a consent names a viewer (`Directory.resolved`, used by the access policy and the
relay): through its entry. A user entry names one account by its email; an organisation
entry names the accounts whose organisation is exactly the entry's name. A grant stored
before the directory (no entry id) is matched by the text it names, compared exactly as
the policy compared it before (an email without regard to case, an organisation's name
exactly); a match is its entry. One that matches no entry is unresolved: it opens nothing
until the clinic resolves it to an entry (`PatientConsents.resolve_recipient`, a recorded
event). Matching happens where the directory is known, at decision time, not in an upcast:
upcasts see one stored event and nothing else. The directory is one aggregate, so a read
records the version it was decided with and a replay decides with that same version.

Entry ids follow from the kind and the text the entry is named by, so an entry is
registered once (a second registration of the same email or name is refused), and at most
one entry can match a stored grant's text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import Field

from domain.consent_terms import ConsentTerms, RecipientKind
from domain.errors import InvalidInput, NotPermittedAuthor
from domain.events import Actor, Aggregate, Value
from domain.record import refused_fields
from domain.users import EMAIL_PATTERN
from domain.vocabulary import DataClass, Role, ShortText

DIRECTORY_ID = uuid5(NAMESPACE_URL, "https://tandem.example/directory")

# The roles an outside recipient acts in: those a consent can open something to
# (domain.access.CONSENT_CAPS), clinicians elsewhere included.
RECIPIENT_ROLES = frozenset(
    {
        Role.PRIMARY_CARE,
        Role.SCHOOL_COUNSELOR,
        Role.EMPLOYER,
        Role.SUPPORTER,
        Role.THERAPIST,
        Role.PRESCRIBER,
    }
)
# Who keeps the directory: the clinic's staff and the system (the demo loader, imports).
# An entry holds no patient data; what it opens is decided by each patient's consents.
DIRECTORY_KEEPERS = frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.COMPLIANCE, Role.SYSTEM})


def naming_key(kind: RecipientKind, text: str) -> str:
    """The text a consent names its recipient by, as the policy has always compared it:
    an email without regard to case or surrounding space, an organisation's name exactly."""
    return text.strip().lower() if kind == "user" else text


def entry_id_for(kind: RecipientKind, text: str) -> UUID:
    return uuid5(DIRECTORY_ID, f"{kind}:{naming_key(kind, text)}")


@dataclass(frozen=True)
class Recipient:
    """One directory entry."""

    entry_id: UUID
    kind: RecipientKind
    name: str  # how people see it: the organisation's name, or the person's name
    role: Role
    email: str | None  # a user entry's account

    @property
    def names(self) -> str:
        """The text a consent to this entry names: the account's email, or the
        organisation's name (what domain.access compares with the viewer)."""
        return self.email if self.kind == "user" and self.email else self.name


@dataclass(frozen=True)
class Directory:
    """The directory as it stood at one version (empty before anything was registered)."""

    entries: Mapping[UUID, Recipient] = field(default_factory=dict)
    version: int = 0

    def entry(self, key: object, field_name: str = "recipient") -> Recipient:
        """The entry a command names by id; refused, naming the field, if it is empty or
        names no entry."""
        text = str(key).strip() if key is not None else ""
        if not text:
            raise InvalidInput.single(field_name, "names no directory entry (it is empty)")
        try:
            found = self.entries.get(UUID(text))
        except ValueError:
            found = None
        if found is None:
            raise InvalidInput.single(
                field_name, f"{text!r} is not an entry of the directory of recipients"
            )
        return found

    def match(self, kind: RecipientKind, text: str) -> Recipient | None:
        """The entry a free-text recipient names exactly, if any."""
        return self.entries.get(entry_id_for(kind, text))

    def resolved(self, terms: ConsentTerms) -> ConsentTerms | None:
        """The consent's terms naming its entry, or None while it names none (it then opens
        nothing): by the entry id it stores, else by an exact match of its text."""
        if terms.recipient_id is not None:
            entry = self.entries.get(terms.recipient_id)
        else:
            entry = self.match(terms.recipient_kind, terms.recipient)
        if entry is None:
            return None
        return replace(
            terms, recipient_kind=entry.kind, recipient=entry.names, recipient_id=entry.entry_id
        )

    def resolve_all(self, terms: Iterable[ConsentTerms]) -> list[ConsentTerms]:
        return [t for t in (self.resolved(t) for t in terms) if t is not None]


EMPTY_DIRECTORY = Directory()


# --- events -------------------------------------------------------------------------


class DirectoryEvent(Aggregate.Event):
    class_version: ClassVar[int] = 1

    def apply(self, aggregate: Any) -> None:
        """Subclasses change the entries."""


class DirectoryOpened(DirectoryEvent, Aggregate.Created):
    pass


class _EntryFields(Value):
    kind: RecipientKind
    name: ShortText
    role: Role
    email: str | None = Field(default=None, pattern=EMAIL_PATTERN, max_length=200)


class RecipientRegistered(DirectoryEvent):
    entry_id: UUID
    kind: RecipientKind
    name: ShortText
    role: Role
    email: str | None = Field(default=None, pattern=EMAIL_PATTERN, max_length=200)

    def apply(self, aggregate: Any) -> None:
        aggregate.entries[self.entry_id] = Recipient(
            self.entry_id, self.kind, self.name, self.role, self.email
        )

    def summary(self) -> str:
        who = f"{self.name} <{self.email}>" if self.email else self.name
        return f"{self.kind} {who} registered as a recipient ({self.role.value})"


class RecipientRemoved(DirectoryEvent):
    """The entry leaves the directory: consents naming it open nothing from here on (a
    replay decides with the directory version its access record names)."""

    entry_id: UUID
    reason: ShortText

    def apply(self, aggregate: Any) -> None:
        aggregate.entries.pop(self.entry_id, None)

    def summary(self) -> str:
        return f"recipient {self.entry_id} removed from the directory: {self.reason}"


# --- the aggregate ------------------------------------------------------------------


class RecipientDirectory(Aggregate):
    """Every outside recipient the clinic knows; one aggregate, id DIRECTORY_ID."""

    data_class: ClassVar[DataClass] = DataClass.ACCOUNT

    def __init__(self) -> None:
        self.entries: dict[UUID, Recipient] = {}

    @classmethod
    def open(cls, by: Actor, at: datetime) -> RecipientDirectory:
        check_may_keep_directory(by)
        with refused_fields():
            return cls._create(
                DirectoryOpened,
                id=DIRECTORY_ID,
                actor=by,
                data_class=cls.data_class,
                clinical_time=at,
            )

    @property
    def listing(self) -> Directory:
        return Directory(dict(self.entries), self.version)

    def register(
        self,
        by: Actor,
        at: datetime,
        *,
        kind: RecipientKind,
        name: str,
        role: Role,
        email: str | None = None,
    ) -> UUID:
        """Add an entry; its id follows from the text a consent will name it by."""
        check_may_keep_directory(by)
        with refused_fields():
            entry = _EntryFields(kind=kind, name=name, role=role, email=email)
        if entry.role not in RECIPIENT_ROLES:
            raise InvalidInput.single(
                "role", f"a recipient acts as one of {', '.join(sorted(RECIPIENT_ROLES))}"
            )
        if entry.kind == "user" and entry.email is None:
            raise InvalidInput.single("email", "a user entry names the account's email")
        if entry.kind == "organisation" and entry.email is not None:
            raise InvalidInput.single("email", "an organisation entry has no email")
        email_key = entry.email.strip().lower() if entry.email else None
        entry_id = entry_id_for(entry.kind, email_key or entry.name)
        if entry_id in self.entries:
            field_name = "email" if entry.kind == "user" else "name"
            raise InvalidInput.single(field_name, "is already in the directory")
        with refused_fields():
            self.trigger_event(
                RecipientRegistered,
                actor=by,
                data_class=self.data_class,
                clinical_time=at,
                entry_id=entry_id,
                kind=entry.kind,
                name=entry.name,
                role=entry.role,
                email=email_key,
            )
        return entry_id

    def remove(self, by: Actor, at: datetime, *, entry_id: object, reason: str) -> Recipient:
        """Take an entry out of the directory; refused, naming the field, if it names none."""
        check_may_keep_directory(by)
        entry = self.listing.entry(entry_id, "entry_id")
        with refused_fields():
            self.trigger_event(
                RecipientRemoved,
                actor=by,
                data_class=self.data_class,
                clinical_time=at,
                entry_id=entry.entry_id,
                reason=reason,
            )
        return entry


def check_may_keep_directory(by: Actor) -> None:
    if by.role not in DIRECTORY_KEEPERS:
        raise NotPermittedAuthor(
            f"a {by.role.value} may not register recipients", field="actor.role"
        )
