"""`HashChain`: links the clinic's notification log into the chain, and verifies it.

`HashChain.extend()` links whatever was written since it last ran; `HashChain.verify()`
recomputes every link from the stored rows and names the first position where they
disagree. What it cannot see: events not yet linked, and an attacker who rewrites the
events and the chain together (or cuts both at the tail); the signed heads published out of
the data directory's reach catch those (application/anchoring.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from application.chain_link import ZERO_LINK, ChainError, Link, MalformedEvent, StoredRow, link_for
from application.clinic import Clinic
from application.ports import ChainStore


@dataclass(frozen=True)
class Verification:
    """What `verify` found. `head` is the last linked position (0: nothing linked yet) and
    `checked` the number of linked events found intact before any break."""

    intact: bool
    checked: int
    head: int
    head_link_hex: str
    first_broken: int | None
    reason: str
    unlinked: int = 0
    # Every position whose row does not follow from the stored link before it, or that has
    # a row without a link or a link without a row (a swap of two rows names both).
    broken: tuple[int, ...] = ()


class _Positioned(Protocol):
    @property
    def position(self) -> int: ...


P = TypeVar("P", bound=_Positioned)


def _stream(fetch: Callable[[int | None], Sequence[P]], batch: int) -> Iterator[P]:
    """Everything `fetch` returns, one batch at a time, resuming after the last position."""
    start: int | None = None
    while True:
        items = fetch(start)
        yield from items
        if len(items) < batch:
            return
        start = items[-1].position + 1


@dataclass(frozen=True)
class _Suspect:
    """A position that disagrees with the chain. Whether the next link still follows from the
    stored link here, or from the one recomputed here, tells which side was changed."""

    position: int
    kind: str  # "mismatch": row and link differ; "unlinked": row, no link; "missing": link, no row
    before: bytes  # the stored link preceding this position
    stored: bytes | None
    computed: bytes | None

    def diagnose(self, row: StoredRow | None, link: Link | None) -> str:
        def next_follows(previous: bytes | None) -> bool:
            if previous is None or row is None or link is None:
                return False
            try:
                return link_for(previous, row) == link.digest
            except MalformedEvent:
                return False

        n = self.position
        if self.kind == "mismatch":
            if not next_follows(self.stored) and next_follows(self.computed):
                return f"link at position {n} was altered (it does not match its event)"
            return f"event at position {n} does not match its link"
        if self.kind == "unlinked":
            if not next_follows(self.before) and next_follows(self.computed):
                return f"link at position {n} is missing"
            return f"event at position {n} is not in the chain (an inserted row)"
        if not next_follows(self.stored) and next_follows(self.before):
            return f"link at position {n} has no event (an inserted link)"
        return f"event at position {n} is missing"


class HashChain:
    """Links the clinic's notification log into the chain, and verifies it."""

    def __init__(self, clinic: Clinic | None, store: ChainStore, *, batch: int = 1000) -> None:
        """`clinic`: the log the store must read (its table is checked); None for a store
        read on its own (a backup's copy)."""
        table = getattr(clinic.recorder, "events_table_name", None) if clinic else None
        if clinic is not None and table != store.events_table:
            raise ChainError(f"the store reads table {store.events_table}; this log is in {table}")
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self.clinic, self.store, self.batch = clinic, store, batch

    def extend(self) -> int:
        """Link every stored event after the chain's head, a batch at a time; return the new
        head position. Idempotent, and safe beside other extenders (threads or processes): a
        batch is stored only if the head has not moved meanwhile, else it is recomputed.
        Raises MalformedEvent rather than link a row the library could not have written."""
        while True:
            head = self.store.head() or Link(0, ZERO_LINK)
            rows = self.store.events(head.position + 1, self.batch)
            if not rows:
                return head.position
            previous, links = head.digest, []
            for row in rows:
                previous = link_for(previous, row)
                links.append(Link(row.position, previous))
            self.store.append(links, after=head.position)

    def verify(self) -> Verification:
        """Recompute every link up to the head from the stored rows, in batches, and compare
        with the stored links. Events after the head are counted as not yet linked; they do
        not make the log broken. An altered link at the head itself reads as an altered event
        (no later link can tell the two apart)."""
        head = self.store.head() or Link(0, ZERO_LINK)
        before, checked = ZERO_LINK, 0
        suspect: _Suspect | None = None
        broken: tuple[int, str] | None = None
        for position, row, link in self._walk(head.position):
            if suspect is not None:
                broken = (suspect.position, suspect.diagnose(row, link))
                break
            if row is None:
                stored = link.digest if link is not None else None
                suspect = _Suspect(position, "missing", before, stored, None)
                continue
            try:
                computed = link_for(before, row)
            except MalformedEvent as exc:
                broken = (position, str(exc))
                break
            if link is None:
                suspect = _Suspect(position, "unlinked", before, None, computed)
            elif computed != link.digest:
                suspect = _Suspect(position, "mismatch", before, link.digest, computed)
            else:
                checked, before = checked + 1, link.digest
        else:
            if suspect is not None:
                broken = (suspect.position, suspect.diagnose(None, None))
        unlinked = self.store.count_events(after=head.position)
        if broken is not None:
            first, reason = broken
            every = self._every_break(head.position)
            others = [p for p in every if p != first]
            if others:
                shown = ", ".join(str(p) for p in others[: self.SHOWN])
                more = f" and {len(others) - self.SHOWN} more" if len(others) > self.SHOWN else ""
                reason += f"; other positions that do not match the chain: {shown}{more}"
            return Verification(
                False,
                checked,
                head.position,
                head.digest.hex(),
                first,
                reason,
                unlinked,
                tuple(sorted({first, *every})),
            )
        reason = f"intact: {checked} events linked up to position {head.position}"
        if unlinked:
            reason += f"; not yet linked: {unlinked} events"
        return Verification(True, checked, head.position, head.digest.hex(), None, reason, unlinked)

    SHOWN = 20  # broken positions named in the reason; `Verification.broken` has them all

    def _every_break(self, stop: int) -> list[int]:
        """Positions whose row does not match its link, each checked on its own so that a
        break does not hide the ones after it; rows without a link and links without a row
        count too. A row follows if its link comes from the stored link before it, from the
        one recomputed there, or from the one before an inserted row or link (after an
        altered link, the next row is not to blame).
        Only run once the chain is known to be broken."""
        found: list[int] = []
        before: tuple[bytes, ...] = (ZERO_LINK,)
        for position, row, link in self._walk(stop):
            computed: list[bytes] = []
            if row is not None:
                for previous in before:
                    try:
                        computed.append(link_for(previous, row))
                    except MalformedEvent:
                        break
            if link is not None and link.digest in computed:
                before = (link.digest,)
                continue
            found.append(position)
            # The next row may follow from this stored link, from this row's own link, or
            # (this row or link being an insertion) from what came before it.
            stored = (link.digest,) if link is not None else ()
            before = tuple(dict.fromkeys((*stored, *computed[:1], *before)))[:4]
        return found

    def link_at(self, position: int) -> Link | None:
        """The stored link at `position`, if there is one."""
        found = self.store.links(position, 1, position)
        return found[0] if found else None

    def _walk(self, stop: int) -> Iterator[tuple[int, StoredRow | None, Link | None]]:
        """Stored rows and links up to `stop`, merged by position."""
        rows = _stream(lambda start: self.store.events(start, self.batch, stop), self.batch)
        links = _stream(lambda start: self.store.links(start, self.batch, stop), self.batch)
        row, link = next(rows, None), next(links, None)
        while row is not None or link is not None:
            position = min(x.position for x in (row, link) if x is not None)
            row_here = row if row is not None and row.position == position else None
            link_here = link if link is not None and link.position == position else None
            yield position, row_here, link_here
            if row_here is not None:
                row = next(rows, None)
            if link_here is not None:
                link = next(links, None)
