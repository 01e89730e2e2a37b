"""The care team: everyone added to it, each still active or removed."""

from __future__ import annotations

from collections.abc import Iterable

from domain.record import Membership, kind_of
from domain.registration import CareTeamMemberAdded, CareTeamMemberRemoved
from domain.rules.care import Fact
from domain.vocabulary import Role

ADDED, REMOVED = kind_of(CareTeamMemberAdded), kind_of(CareTeamMemberRemoved)
# The only kinds `care_team` reads: a caller may leave every other fact out.
TEAM_KINDS = frozenset({ADDED, REMOVED})


def care_team(facts: Iterable[Fact]) -> dict[str, Membership]:
    """Each member the facts add, by user id, in the order first added; one removed (and
    not added again) is kept, inactive."""
    team: dict[str, Membership] = {}
    for fact in facts:
        p = fact.payload
        if fact.kind == ADDED:
            team[str(p["user_id"])] = Membership(
                str(p["user_id"]),
                Role(p["role"]),
                str(p["organisation"]),
                bool(p.get("part2_program")),
            )
        elif fact.kind == REMOVED and str(p["user_id"]) in team:
            team[str(p["user_id"])].active = False
    return team
