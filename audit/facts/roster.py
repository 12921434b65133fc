"""The people side of a snapshot read in one go: users, their contacts, team roles, on-calls, hand-off rules.

These collections are most of a large snapshot's bytes (users with their contact methods and
notification rules, one on-call line per person, level and shift) and nothing on the schedule and
policy side needs them until policies are resolved, so ``build_facts`` reads them in a forked child
while it reads and renders the schedules itself. What travels back is kept small, because it is
pickled: each user reduced to the fields the facts read (:data:`USER_FIELDS`, references to their
ids), their :class:`~audit.facts.contacts.Contact`, the team roles and the set of on-call user ids.

A collection that cannot be read raises its own one-line error, marked with the collection's name
(:func:`audit.facts.steps.step`), so that when both sides meet a broken file the caller reports the
one it would have met first reading the collections in :data:`READ_ORDER`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from audit.facts import contacts as contact_facts
from audit.facts.collector import collector_paused
from audit.facts.forked import Forked, worth_forking
from audit.facts.raw import as_text, ref_id, ref_ids
from audit.facts.steps import step
from audit.snapshot import Snapshot

# The order the facts stage reads the snapshot in, and so which broken collection it names first.
READ_ORDER = (
    "teams", "users", "services", "schedules", "schedules_v3", "team_members", "oncalls", "handoff_rules",
    "service_dependencies", "extensions", "standards_scores", "escalation_policies",
)  # fmt: skip
# The fields of a user object the user table reads beside its contacts (``teams`` as ids only).
USER_FIELDS = ("id", "name", "html_url", "email", "time_zone", "teams", contact_facts.HANDOFF_RULES_KEY)


@dataclass(frozen=True)
class Roster:
    """The people side of a snapshot, as the facts stage needs it."""

    users: dict[str, dict[str, Any]]  # user id -> the USER_FIELDS of that user (last of duplicates wins)
    contacts: dict[str, contact_facts.Contact]
    team_roles: dict[str, dict[str, str]]  # team id -> {user id: team role}, both in id order
    oncall_user_ids: set[str]
    handoff_rules: dict[str, list[Any]]  # user id -> rules, from the handoff_rules collection


def read_beside(snapshot: Snapshot) -> Forked[Roster]:
    """Start reading the people side of ``snapshot`` now, in a forked child on a large account; hand it to
    ``build_facts(people_side=...)``. Nothing here needs pandas, so a command can start it before it
    loads the rest of pd-audit (``audit.commands.judging``); a caller that starts it before other work
    must ``abandon()`` it if that work fails."""
    with collector_paused():  # the child inherits the paused collector: it builds long-lived dicts
        services = _declared_count(snapshot, "services")
        return Forked(functools.partial(read_roster, snapshot), fork=worth_forking(services))


def _declared_count(snapshot: Snapshot, name: str) -> int:
    """How many objects the manifest says a collection holds (0 when it does not say)."""
    count = snapshot.manifest["collections"].get(name, {}).get("count")
    return count if isinstance(count, int) and not isinstance(count, bool) else 0


def read_roster(snapshot: Snapshot) -> Roster:
    """Users, contacts, team roles, on-calls and hand-off rules of ``snapshot`` (in :data:`READ_ORDER`)."""
    with step("users"):
        users = {user["id"]: user for user in snapshot.iter("users") if ref_id(user) is not None}
    contacts = contact_facts.read_contacts(users.values())
    with step("team_members"):
        team_roles = _team_roles(snapshot.iter("team_members"))
    with step("oncalls"):
        oncall_user_ids = _oncall_user_ids(snapshot.iter("oncalls"))
    with step("handoff_rules"):
        handoff_rules = contact_facts.read_handoff_rules(snapshot.iter("handoff_rules"))
    return Roster(
        users={user_id: _essentials(user) for user_id, user in users.items()},
        contacts=contacts,
        team_roles=team_roles,
        oncall_user_ids=oncall_user_ids,
        handoff_rules=handoff_rules,
    )


def _essentials(user: Mapping[str, Any]) -> dict[str, Any]:
    """The USER_FIELDS of a user object; its team references reduced to ``{"id": ...}`` (all that is read)."""
    kept = {name: user[name] for name in USER_FIELDS if name in user}
    if "teams" in kept:
        kept["teams"] = [{"id": team_id} for team_id in ref_ids(kept["teams"])]
    return kept


def _team_roles(lines: Iterable[Any]) -> dict[str, dict[str, str]]:
    """team id -> {user id: team role} from the team_members collection."""
    roles: dict[str, dict[str, str]] = {}
    for line in lines:
        if not isinstance(line, dict) or not isinstance(line.get("team_id"), str):
            continue
        declared = line.get("member")
        member = declared if isinstance(declared, dict) else {}
        user_id = ref_id(member.get("user"))
        if user_id:
            roles.setdefault(line["team_id"], {})[user_id] = as_text(member.get("role")) or "responder"
    # In id order: the crawl writes each team's pages as they arrive, so the lines' order is the order
    # requests finished, which no fact (a team's members, a person's teams) may depend on.
    return {team_id: dict(sorted(roles[team_id].items())) for team_id in sorted(roles)}


def team_ids_by_user(roles: Mapping[str, Mapping[str, str]]) -> dict[str, list[str]]:
    """user id -> the teams they are a member of, in team id order."""
    teams: dict[str, list[str]] = {}
    for team_id, members in roles.items():
        for user_id in members:
            teams.setdefault(user_id, []).append(team_id)
    return teams


def _oncall_user_ids(oncalls: Iterable[Any]) -> set[str]:
    return {user for user in (ref_id(o.get("user")) for o in oncalls if isinstance(o, dict)) if user}
