"""Generated account files of any size, for crawler tests and benchmarks.

``generate_account`` builds a ``pd-audit-account`` v1 dict (format in ``examples/README.md``)
shaped like a large real account: teams own escalation policies, schedules and services;
most users belong to one team, some to two, some to none; about one policy in fifty and the
services on it have no team (as in accounts older than teams); every user has contact
methods and notification rules. The no-team and two-team cases matter: the crawler must
partition collections past the API's 10,000-record cap without losing or doubling them.

The same arguments always give the same account (a seeded ``random.Random``, no clock), and
the benchmark size (12,000 services, 15,000 users) builds in a few seconds.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

from audit.errors import UserError

TIME_ZONES = ("America/New_York", "America/Los_Angeles", "Europe/London", "Europe/Berlin",
              "Asia/Kolkata", "Australia/Sydney")
ROLES = ("user",) * 14 + ("admin", "limited_user", "observer", "read_only_user")
FIRST_NAMES = ("Ada", "Ben", "Chen", "Dara", "Eli", "Fatima", "Gabe", "Hana", "Ivan", "Jo", "Kofi", "Lena",
               "Mateo", "Nadia", "Omar", "Pia", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera", "Wen", "Yara")
LAST_NAMES = ("Abe", "Berg", "Costa", "Diaz", "Ekwueme", "Fox", "Gupta", "Haddad", "Ito", "Jensen", "Khan",
              "Lind", "Moreau", "Novak", "Okoro", "Park", "Quispe", "Rossi", "Silva", "Tan", "Usman", "Weber")
SERVICE_NOUNS = ("API", "Worker", "Gateway", "Scheduler", "Indexer", "Store", "Pipeline", "Web", "Sync", "Export")
SERVICE_DOMAINS = ("Billing", "Orders", "Catalog", "Shipping", "Inventory", "Accounts", "Pricing", "Ledger",
                   "Returns", "Search", "Notifications", "Reporting", "Routing", "Tracking", "Payouts")
INTEGRATION_TYPES = ("events_api_v2_inbound_integration", "generic_email_inbound_integration",
                     "aws_cloudwatch_inbound_integration", "generic_events_api_inbound_integration")
# Every NO_TEAM_EVERY-th policy (and so its services) has no team, every TWO_TEAM_POLICY_EVERY-th
# has two (allowed in accounts older than the one-team rule); every TWO_TEAM_EVERY-th user is
# in a second team.
NO_TEAM_EVERY = 50
TWO_TEAM_POLICY_EVERY = 40
TWO_TEAM_EVERY = 7
NO_TEAM_USER_EVERY = 25
ROTATION_START = "2026-12-07T10:00:00"


def make_id(prefix: str, number: int) -> str:
    """A 7-character PagerDuty-looking id: ``prefix`` then ``number`` in base 36, upper case."""
    width = 7 - len(prefix)
    digits = ""
    while number or not digits:
        number, rest = divmod(number, 36)
        digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[rest] + digits
    if len(digits) > width:
        raise UserError(f"too many objects for id prefix {prefix!r}")
    return prefix + digits.rjust(width, "0")


def ref(kind: str, object_id: str) -> dict:
    return {"id": object_id, "type": f"{kind}_reference"}


def generate_account(*, services: int, policies: int, schedules: int, users: int, teams: int,
                     seed: int = 0, v3_schedules: int = 0, subdomain: str = "generated",
                     loners: int = 0) -> dict[str, Any]:
    """An account of exactly the requested size; deterministic for given arguments.

    ``loners`` more users (beyond ``users``) are in no team and on no rotation or policy, named
    to sort late: past the 10,000-record cap on a large account, nothing leads to them.
    """
    if min(services, policies, schedules, users, teams, v3_schedules, loners) < 0:
        raise UserError("generate_account: sizes must not be negative")
    if services and not policies:
        raise UserError("generate_account: services need at least one escalation policy")
    if (policies or schedules or v3_schedules) and not users:
        raise UserError("generate_account: schedules and policies need at least one user")
    account = _Generator(random.Random(seed), teams).build(
        services=services, policies=policies, schedules=schedules, users=users,
        v3_schedules=v3_schedules, subdomain=subdomain)
    rng = random.Random(seed + 1)
    for n in range(users, users + loners):
        # A user object like any other (the seed's sequence is left alone: the rest stays the same).
        loner = _Generator(rng, 0).user(n)
        loner["name"] = f"{rng.choice(FIRST_NAMES[-5:])} {rng.choice(LAST_NAMES)}"
        account["users"].append(loner)
    return account


def write_account(account: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write ``account`` as JSON, atomically (a reader never sees half a file)."""
    target = Path(path)
    temporary = target.with_name(target.name + ".tmp")
    try:
        with temporary.open("w", encoding="utf-8") as out:
            json.dump(account, out, ensure_ascii=False, separators=(",", ":"))
        os.replace(temporary, target)
    except OSError as error:
        raise UserError(f"cannot write account file {target}: {error.strerror}") from None
    return target


class _Generator:
    """One generation run: the random source, the teams, and who is in which team."""

    def __init__(self, rng: random.Random, team_count: int):
        self.rng = rng
        self.team_ids = [make_id("PT", n) for n in range(team_count)]
        self.members_by_team: dict[str, list[str]] = {team_id: [] for team_id in self.team_ids}
        self.contractor_rotas: dict[int, list[str]] = {}

    def build(self, *, services: int, policies: int, schedules: int, users: int, v3_schedules: int,
              subdomain: str) -> dict[str, Any]:
        user_objects, memberships = self.users(users)
        # People in no team are contractors on the rotations that belong to no team: each
        # of them is on one, so every user is named somewhere (the crawler relies on
        # that to reach team-less users past the 10,000-record cap).
        teamless_schedules = [n for n in range(schedules) if self.team_of(n) is None]
        members = {m["user_id"] for m in memberships}
        teamless_users = [u["id"] for u in user_objects if u["id"] not in members]
        self.contractor_rotas = {
            n: teamless_users[i :: len(teamless_schedules)] for i, n in enumerate(teamless_schedules)
        }
        schedule_objects = [self.schedule(n, user_objects) for n in range(schedules)]
        v3_objects = [self.schedule_v3(n, user_objects) for n in range(v3_schedules)]
        policy_objects = [self.policy(n, schedule_objects, v3_objects, user_objects) for n in range(policies)]
        service_objects = [self.service(n, policy_objects) for n in range(services)]
        return {
            "format": "pd-audit-account", "format_version": 1, "subdomain": subdomain,
            "abilities": ["teams", "read_only_users", "urgencies", "service_support_hours",
                          "service_dependencies", "standards"],
            "teams": [{"id": team_id, "type": "team", "name": f"Team {n:04d}",
                       "description": f"Generated team {n}."} for n, team_id in enumerate(self.team_ids)],
            "memberships": memberships, "users": user_objects, "services": service_objects,
            "escalation_policies": policy_objects, "schedules": schedule_objects, "overrides": [],
            "schedules_v3": v3_objects, "business_services": [], "service_dependencies": [],
            "standards": [], "standards_scores": [],
        }

    # -- users --------------------------------------------------------------------------------
    def users(self, count: int) -> tuple[list[dict], list[dict]]:
        user_objects, memberships = [], []
        for n in range(count):
            user = self.user(n)
            user_objects.append(user)
            for team_id, role in self.teams_of_user(n):
                memberships.append({"team_id": team_id, "user_id": user["id"], "role": role})
                self.members_by_team[team_id].append(user["id"])
        return user_objects, memberships

    def teams_of_user(self, n: int) -> list[tuple[str, str]]:
        if not self.team_ids:
            return []
        if n >= len(self.team_ids) and n % NO_TEAM_USER_EVERY == NO_TEAM_USER_EVERY - 1:
            return []  # the first user of each team is never left out: it manages the team
        home = self.team_ids[n % len(self.team_ids)]
        # The first member of each team manages it.
        teams = [(home, "manager" if n < len(self.team_ids) else "responder")]
        if n % TWO_TEAM_EVERY == 3 and len(self.team_ids) > 1:
            teams.append((self.team_ids[(n + 1 + n // len(self.team_ids)) % len(self.team_ids)], "responder"))
            if teams[1][0] == home:
                teams.pop()
        return teams

    def user(self, n: int) -> dict:
        rng = self.rng
        user_id = make_id("PU", n)
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        email = f"user{n}@generated.example"
        methods = [{"id": make_id("PC", 4 * n), "type": "email_contact_method", "label": "Work", "address": email}]
        if rng.random() < 0.9:
            phone = f"555{n:07d}"
            methods.append({"id": make_id("PC", 4 * n + 1), "type": "phone_contact_method", "label": "Mobile",
                            "address": phone, "country_code": 1})
            methods.append({"id": make_id("PC", 4 * n + 2), "type": "sms_contact_method", "label": "Mobile",
                            "address": phone, "country_code": 1})
            if rng.random() < 0.85:
                methods.append({"id": make_id("PC", 4 * n + 3), "type": "push_notification_contact_method",
                                "label": "Phone", "address": f"device-{n}", "device_type": "ios"})
        delays = (0, 1, 5, 10)
        rules = [{"id": make_id("PN", 6 * n + i), "type": "assignment_notification_rule",
                  "start_delay_in_minutes": delays[i] if i < len(delays) else 0, "urgency": "high",
                  "contact_method": ref(method["type"], method["id"])}
                 for i, method in enumerate(reversed(methods))]
        rules.append({"id": make_id("PN", 6 * n + 4), "type": "assignment_notification_rule",
                      "start_delay_in_minutes": 0, "urgency": "low",
                      "contact_method": ref(methods[0]["type"], methods[0]["id"])})
        handoffs = []
        if rng.random() < 0.7:
            handoffs.append({"id": make_id("PN", 6 * n + 5), "type": "oncall_handoff_notification_rule",
                             "handoff_type": "both", "notify_advance_in_minutes": 0,
                             "contact_method": ref(methods[-1]["type"], methods[-1]["id"])})
        return {"id": user_id, "type": "user", "name": name, "email": email,
                "time_zone": rng.choice(TIME_ZONES), "role": rng.choice(ROLES), "job_title": "Engineer",
                "invitation_sent": rng.random() < 0.02, "contact_methods": methods, "notification_rules": rules,
                "oncall_handoff_notification_rules": handoffs}

    # -- schedules ---------------------------------------------------------------------------
    def team_of(self, n: int) -> str | None:
        """Object ``n``'s team: round-robin over teams, with every NO_TEAM_EVERY-th left out."""
        if not self.team_ids or n % NO_TEAM_EVERY == NO_TEAM_EVERY - 1:
            return None
        return self.team_ids[n % len(self.team_ids)]

    def rota(self, team_id: str | None, user_objects: list[dict], size: int) -> list[str]:
        pool = self.members_by_team.get(team_id) or [u["id"] for u in user_objects]
        return self.rng.sample(pool, min(size, len(pool)))

    def schedule(self, n: int, user_objects: list[dict]) -> dict:
        team_id = self.team_of(n)
        tz = self.rng.choice(TIME_ZONES)
        rota = self.rota(team_id, user_objects, self.rng.randint(2, 6))
        if self.contractor_rotas.get(n):
            rota = self.contractor_rotas[n]
        daily = self.rng.random() < 0.2
        return {"id": make_id("PS", n), "type": "schedule", "name": f"Rotation {n:05d}", "time_zone": tz,
                "description": "", "teams": [ref("team", team_id)] if team_id else [],
                "schedule_layers": [{
                    "id": make_id("PL", n), "name": "Layer 1", "start": ROTATION_START, "end": None,
                    "rotation_virtual_start": ROTATION_START,
                    "rotation_turn_length_seconds": 86400 if daily else 604800,
                    "users": [{"user": ref("user", user_id)} for user_id in rota], "restrictions": []}]}

    def schedule_v3(self, n: int, user_objects: list[dict]) -> dict:
        team_id = self.team_of(n)
        tz = self.rng.choice(TIME_ZONES)
        rota = self.rota(team_id, user_objects, self.rng.randint(2, 6))
        return {"id": make_id("P3", n), "type": "schedule_v3", "name": f"Shift rota {n:05d}", "time_zone": tz,
                "teams": [ref("team", team_id)] if team_id else [],
                "rotations": [{"id": f"01GENROTATION{n:013d}", "type": "schedule_rotation", "events": [{
                    "id": f"01GENEVENT{n:016d}", "type": "schedule_event", "name": "Weekly",
                    "start_time": {"date_time": ROTATION_START, "time_zone": tz},
                    "end_time": {"date_time": "2026-12-14T10:00:00", "time_zone": tz},
                    "effective_since": "2026-12-07T00:00:00Z", "effective_until": None,
                    "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO"],
                    "assignment_strategy": {"type": "rotating_member_assignment_strategy", "shifts_per_member": 1,
                                            "members": [{"type": "user_member", "user_id": u} for u in rota]}}]}]}

    # -- escalation and services ---------------------------------------------------------------
    def policy(self, n: int, schedules: list[dict], v3: list[dict], user_objects: list[dict]) -> dict:
        team_id = self.team_of(n)
        teams = [team_id] if team_id else []
        if team_id and n % TWO_TEAM_POLICY_EVERY == 5 and len(self.team_ids) > 1:
            teams.append(self.team_ids[(self.team_ids.index(team_id) + 1) % len(self.team_ids)])
        targets_pool = [ref("schedule", s["id"]) for s in schedules] + [ref("schedule_v3", s["id"]) for s in v3]
        levels = []
        for level in range(self.rng.randint(1, 4)):
            if targets_pool and self.rng.random() < 0.85:
                # Policies lean on schedules near their own number, so teams mostly use theirs.
                target = targets_pool[(n + level * 7 + self.rng.randrange(3)) % len(targets_pool)]
            else:
                target = ref("user", self.rng.choice(user_objects)["id"])
            levels.append({"id": make_id("PR", 4 * n + level), "escalation_delay_in_minutes":
                           self.rng.choice((5, 10, 15, 30)), "targets": [target]})
        return {"id": make_id("PE", n), "type": "escalation_policy", "name": f"Policy {n:05d}",
                "description": "", "num_loops": self.rng.choice((0, 1, 2)),
                "on_call_handoff_notifications": "if_has_services",
                "teams": [ref("team", t) for t in teams], "escalation_rules": levels}

    def service(self, n: int, policies: list[dict]) -> dict:
        rng = self.rng
        policy = policies[n % len(policies)]
        name = f"{rng.choice(SERVICE_DOMAINS)} {rng.choice(SERVICE_NOUNS)} {n:05d}"
        integrations = [{"id": make_id("PI", 2 * n + i), "type": rng.choice(INTEGRATION_TYPES),
                         "name": "Integration"} for i in range(rng.choice((0, 1, 1, 2)))]
        return {"id": make_id("PV", n), "type": "service", "name": name,
                "description": f"{name}: generated service. Runbook: https://wiki.generated.example/{n}",
                "status": rng.choice(("active",) * 8 + ("warning", "critical", "disabled")),
                "escalation_policy": ref("escalation_policy", policy["id"]),
                # A service's teams come from its policy, as in the API.
                "teams": [dict(t) for t in policy["teams"]],
                "incident_urgency_rule": {"type": "constant", "urgency": rng.choice(("high", "high", "low"))},
                "support_hours": None, "scheduled_actions": [],
                "acknowledgement_timeout": rng.choice((None, 1800, 3600)),
                "auto_resolve_timeout": rng.choice((None, 14400)),
                "integrations": integrations, "addons": []}
