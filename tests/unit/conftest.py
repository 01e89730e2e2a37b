"""Fixtures for domain unit tests; the builders behind them live in `builders`."""

from __future__ import annotations

from datetime import datetime

import pytest

from domain.patient import PatientRecord
from tests.unit.builders import PART2_COUNSELOR, a_registered_record, days_ago


@pytest.fixture
def at() -> datetime:
    """When the command under test happened clinically: two days ago."""
    return days_ago(2)


@pytest.fixture
def record() -> PatientRecord:
    """A registered record with a therapist, a prescriber, the patient and a supporter."""
    return a_registered_record()


@pytest.fixture
def part2_record() -> PatientRecord:
    """The same team plus a counselor of a 42 CFR Part 2 program."""
    return a_registered_record(part2=[PART2_COUNSELOR])
