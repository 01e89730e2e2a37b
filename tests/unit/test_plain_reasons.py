"""Refusals in plain words: pydantic's error types become sentences a clinician or a
patient can act on, with the limit named, on the API and on the pages alike."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from application.schemas.clinical import (
    LabOrderCreate,
    MessageCreate,
    RiskAssessmentCreate,
    SessionCreate,
    SleepLogCreate,
)
from domain.errors import InvalidInput

SESSION = {"duration_minutes": 50, "mode": "in-person", "modality": "cbt"}


def reasons(model: Any, data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(data)
    return {e.field: e.reason for e in InvalidInput.from_validation_error(refused.value).errors}


@pytest.mark.parametrize(
    ("model", "data", "field", "reason"),
    [
        (
            SessionCreate,
            {**SESSION, "starts_at": "yesterday"},
            "starts_at",
            "is not a date and time: write it as 2026-03-02T10:50-05:00",
        ),
        (
            SessionCreate,
            {**SESSION, "starts_at": "2026-03-02T10:00"},
            "starts_at",
            "needs its UTC offset, e.g. 2026-03-02T10:50-05:00",
        ),
        (
            SessionCreate,
            {**SESSION, "starts_at": "2026-03-02T10:00Z", "duration_minutes": "fifty"},
            "duration_minutes",
            "is not a whole number",
        ),
        (
            SessionCreate,
            {**SESSION, "starts_at": "2026-03-02T10:00Z", "duration_minutes": 241},
            "duration_minutes",
            "must be 240 or less",
        ),
        (
            SessionCreate,
            {**SESSION, "starts_at": "2026-03-02T10:00Z", "mode": "by-post"},
            "mode",
            "must be one of 'in-person' or 'telehealth'",
        ),
        (
            SleepLogCreate,
            {"night_of": "2026-13-01", "hours_asleep": "7", "quality": 3},
            "night_of",
            "is not a date: write it as 2026-03-02",
        ),
        (
            SleepLogCreate,
            {"night_of": "2026-03-01", "hours_asleep": "7.125", "quality": 3},
            "hours_asleep",
            "has too many decimal places (at most 2)",
        ),
        (
            SleepLogCreate,
            {"night_of": "2026-03-01", "hours_asleep": "7", "quality": 0},
            "quality",
            "must be 1 or more",
        ),
        (
            SleepLogCreate,
            {"night_of": "2026-03-01", "hours_asleep": "7", "quality": 3, "bedtime": "25:00"},
            "bedtime",
            "is not a time of day: write it as 22:30",
        ),
        (MessageCreate, {"to": [], "subject": "s", "body": "b"}, "to", "needs at least one entry"),
        (
            MessageCreate,
            {"to": ["a"], "subject": "x" * 201, "body": "b"},
            "subject",
            "is too long (at most 200 characters)",
        ),
        (MessageCreate, {"to": ["a"], "subject": "s", "body": ""}, "body", "must not be empty"),
        (MessageCreate, {"to": ["a"], "subject": "s"}, "body", "is required"),
        (
            MessageCreate,
            {"to": ["a"], "subject": "s", "body": "b", "cc": "x"},
            "cc",
            "is not a known field",
        ),
        (
            LabOrderCreate,
            {"loinc": "14334-7", "test_name": "Lithium", "reason": "r", "order_id": "nope"},
            "order_id",
            "is not a valid id",
        ),
        (
            RiskAssessmentCreate,
            {"level": "extreme", "method": "c-ssrs", "plan": "p"},
            "level",
            "must be one of 'low', 'moderate' or 'high'",
        ),
    ],
)
def test_each_refusal_is_said_in_plain_words(
    model: Any, data: dict[str, Any], field: str, reason: str
) -> None:
    assert reasons(model, data)[field] == reason


def test_a_domain_types_own_words_are_kept() -> None:
    # A validator's message (the LOINC check digit) is already the reason; "Value error, "
    # is dropped.
    found = reasons(LabOrderCreate, {"loinc": "bad", "test_name": "Lithium", "reason": "r"})
    assert found["loinc"] == "'bad' is not a LOINC code (digits, hyphen, check digit)"
