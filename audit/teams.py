"""Team names as every output shows them: the id-to-name map and the label of the services no team owns."""

from __future__ import annotations

from collections.abc import Mapping

from audit.assess import Assessment
from audit.scoring import NO_TEAM

NO_TEAM_LABEL = "(no team)"  # what a report, table or diff calls the NO_TEAM pseudo-team


def team_names(assessment: Assessment) -> dict[str, str]:
    """Team id -> name, from the team facts (empty when the teams collection was not crawled)."""
    teams = assessment.facts.tables.get("team")
    if teams is None or teams.empty:
        return {}
    return {str(i): str(n) for i, n in zip(teams["id"], teams["name"], strict=True)}


def team_label(team_id: str, names: Mapping[str, str]) -> str:
    """The team's name; the no-team label for NO_TEAM; the id itself for a team the facts do not name."""
    return names.get(team_id, NO_TEAM_LABEL if team_id == NO_TEAM else team_id)
