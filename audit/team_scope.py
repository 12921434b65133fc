"""The teams a crawl is scoped to (``--team``), given by id or by name, as the account's team ids.

Ids are taken as given (checked for shape: they go into URL paths). A name is looked up in the
account's own team list (``GET /teams``, paged; names are matched case-insensitively and never
sent anywhere), so a crawl can be scoped the way every other command filters: by id or name.
"""

from __future__ import annotations

import difflib
from typing import Any

from audit.errors import UserError
from audit.object_ids import OBJECT_ID, check_object_ids

PAGE = 100


def account_teams(client: Any) -> dict[str, str]:
    """Team id -> name, every team the token can see."""
    teams: dict[str, str] = {}
    offset = 0
    while True:
        body = client.get("/teams", {"limit": PAGE, "offset": offset})
        page = body.get("teams") or []
        teams.update({str(team["id"]): str(team.get("name") or "") for team in page if isinstance(team, dict)})
        if not body.get("more") or not page:
            return teams
        offset += len(page)


def resolve_scope(client: Any, given: tuple[str, ...]) -> list[str] | None:
    """The team ids ``given`` names (None: no scope, the whole account)."""
    if not given:
        return None
    if all(OBJECT_ID.fullmatch(value) for value in given):  # ids only: no request needed
        return check_object_ids(given, "--team")
    teams = account_teams(client)
    by_name: dict[str, list[str]] = {}
    for team_id, name in teams.items():
        by_name.setdefault(name.strip().casefold(), []).append(team_id)
    ids = []
    for value in given:
        matches = [value] if value in teams else sorted(by_name.get(value.strip().casefold(), []))
        if len(matches) > 1:
            listed = ", ".join(f"{teams[t]!r} ({t})" for t in matches)
            raise UserError(f"--team {value!r}: {len(matches)} teams have that name: {listed}; give the id")
        if not matches and OBJECT_ID.fullmatch(value):
            matches = [value]  # an id this token cannot list: the crawl says what it can reach
        if not matches:
            close = difflib.get_close_matches(value, sorted(set(teams.values())), n=3)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            shown = value if len(value) <= 40 else value[:40] + "..."
            raise UserError(f"--team {shown!r} is not a PagerDuty id nor the name of a team of the account{hint}")
        ids.append(matches[0])
    return list(dict.fromkeys(ids))
