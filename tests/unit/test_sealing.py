"""Sealed blobs: every row opens to what was sealed, read one at a time or a hundred
together, and a changed byte or another key's blob is refused before anything is used."""

from __future__ import annotations

import pytest
from eventsourcing.cipher import AESCipher
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.sealing import SealBroken, Sealer

KEY = AESCipher.create_key(32)
SEALER = Sealer.keyed(KEY, "index")
fields = st.dictionaries(
    st.text(max_size=8),
    st.one_of(st.text(max_size=300), st.integers(), st.booleans(), st.none()),
    max_size=4,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(fields, min_size=1, max_size=40))
def test_rows_sealed_one_by_one_open_together(rows: list[dict[str, object]]) -> None:
    blobs = [SEALER.seal(r) for r in rows]
    assert SEALER.open_many(blobs) == rows
    assert [SEALER.open(b) for b in blobs] == rows


def test_a_long_row_opens_past_the_precomputed_counters() -> None:
    row = {"payload": "x" * (70_000)}  # more blocks than the counter table holds
    assert SEALER.open_many([SEALER.seal({"a": 1}), SEALER.seal(row)]) == [{"a": 1}, row]


@pytest.mark.parametrize("at", [0, 5, 12, 20, -17, -1])
def test_a_changed_byte_anywhere_is_refused(at: int) -> None:
    good = SEALER.seal({"summary": "session 3: plan kept"})
    changed = bytearray(good)
    changed[at] ^= 0x01
    with pytest.raises(SealBroken):
        SEALER.open_many([SEALER.seal({"a": 1}), bytes(changed)])


def test_another_keys_blob_is_refused() -> None:
    other = Sealer.keyed(AESCipher.create_key(32), "index")
    with pytest.raises(SealBroken):
        SEALER.open_many([other.seal({"a": 1})])
    with pytest.raises(SealBroken):  # the same key for another use is another key
        Sealer.keyed(KEY, "receiver").open(SEALER.seal({"a": 1}))
