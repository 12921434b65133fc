"""Builds ``account.json``: "Acme Logistics", the fictional account the demo and tests crawl.

Run ``python examples/acme/build_account.py`` to rewrite ``account.json`` (deterministic:
the same code always writes the same bytes). The account is written as data, team by team;
the problems planted on purpose are listed in ``PLANTED.md`` beside this file, and every
comment marked ``PLANTED`` here points at one of them.

The demo and tests crawl the on-call window 2027-01-04T00:00Z .. 2027-02-01T00:00Z (four
weeks, Monday to Monday). Every schedule layer starts before it, in December 2026, so no
DST change falls between a rotation's virtual start and the window, and rotations hand off
on Mondays at 10:00 on the schedule's wall clock unless a comment says otherwise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ACCOUNT_PATH = Path(__file__).with_name("account.json")

NY, LA, LONDON, BERLIN, KOLKATA, SYDNEY, UTC = (
    "America/New_York", "America/Los_Angeles", "Europe/London", "Europe/Berlin",
    "Asia/Kolkata", "Australia/Sydney", "Etc/UTC",
)
ROTATION_EPOCH = date(2026, 12, 7)  # a Monday, four weeks before the window opens
# Rotations have run since this Monday (their phase is still ROTATION_EPOCH's), so the quarter of
# incident history before the window has people on call. 15 weeks: whole cycles of the 5-person v3 rota.
HISTORY_EPOCH = ROTATION_EPOCH - timedelta(weeks=15)
WEEK = 7 * 24 * 3600
DAY = 24 * 3600
WEEKDAYS = range(1, 6)  # ISO Monday..Friday
WIKI = "https://wiki.acme.example/runbooks"
REPO = "https://git.acme.example"


def ref(kind: str, object_id: str) -> dict:
    return {"id": object_id, "type": f"{kind}_reference"}


def wall_clock(day: date, at: time, tz: str) -> str:
    """An ISO timestamp for ``day`` at ``at`` on the wall clock of ``tz``, with its offset."""
    return datetime.combine(day, at, ZoneInfo(tz)).isoformat()


class Ids:
    """PagerDuty-looking ids (7 characters, upper case, starting with P), numbered per prefix."""

    def __init__(self) -> None:
        self.counters: dict[str, int] = {}

    def next(self, prefix: str) -> str:
        self.counters[prefix] = self.counters.get(prefix, 0) + 1
        return f"{prefix}{self.counters[prefix]:0{7 - len(prefix)}d}"


# ---------------------------------------------------------------------------------------
# People. A contact profile says how a person is set up to be reached; "standard" is what
# GOC recommends (push at once, SMS after 1 min, a phone call after 5 min, a hand-off rule).
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Person:
    key: str  # how the rest of this file names the person
    name: str
    time_zone: str
    role: str = "user"
    job_title: str = "Software Engineer"
    profile: str = "standard"
    invitation_sent: bool = False
    country_code: int = 1


# profile -> high-urgency rules as (contact kind, delay in minutes); kinds: push, sms, phone, email
HIGH_URGENCY_RULES = {
    "standard": [("push", 0), ("sms", 1), ("phone", 5)],
    "no_push": [("sms", 0), ("phone", 5)],
    "email_only": [("email", 0)],
    "unstaggered": [("push", 0), ("sms", 0), ("phone", 0)],
    "slow_phone": [("push", 0), ("sms", 15), ("phone", 15)],
    "sms_at_4": [("push", 0), ("sms", 4), ("phone", 8)],
    "no_handoff": [("push", 0), ("sms", 1), ("phone", 5)],
}
CONTACT_KINDS = {
    "standard": ("email", "phone", "sms", "push"),
    "no_push": ("email", "phone", "sms"),
    "email_only": ("email",),
    "unstaggered": ("email", "phone", "sms", "push"),
    "slow_phone": ("email", "phone", "sms", "push"),
    "sms_at_4": ("email", "phone", "sms", "push"),
    "no_handoff": ("email", "phone", "sms", "push"),
}
PROFILES_WITHOUT_HANDOFF = {"no_handoff"}
CONTACT_TYPES = {
    "email": "email_contact_method", "phone": "phone_contact_method",
    "sms": "sms_contact_method", "push": "push_notification_contact_method",
}
COUNTRY_CODES = {NY: 1, LA: 1, LONDON: 44, BERLIN: 49, KOLKATA: 91, SYDNEY: 61, UTC: 1}

# team key -> (team name, description)
TEAMS = {
    "payments": ("Payments", "Card payments, ledger, refunds and payouts for every Acme channel."),
    "checkout": ("Checkout", "Storefront checkout, cart, promotions and order notifications."),
    "search": ("Search", "Product and shipment search, indexing and recommendations."),
    "platform": ("Platform SRE", "Kubernetes, edge, CI/CD and secrets; follow-the-sun on-call."),
    "data": ("Data", "Pipelines, the analytics warehouse and the ML feature store."),
    "mobile": ("Mobile", "iOS and Android app backends, push and release tooling."),
    "identity": ("Identity", "Login, tokens, sessions and partner single sign-on."),
    "warehouse": ("Warehouse Ops", "Systems the Acme warehouses run on during working hours."),
    "returns": ("Returns", "The returns portal, spun out of Payments; no manager named yet."),
}

# Everyone in the account; memberships are listed separately below.
PEOPLE = [
    # Payments (New York / Los Angeles)
    Person("maya", "Maya Chen", NY, "admin", "Engineering Manager, Payments"),
    Person("diego", "Diego Alvarez", LA),
    Person("hannah", "Hannah Brooks", NY, job_title="Senior Software Engineer"),
    Person("samuel", "Samuel Okafor", LA),
    Person("grace", "Grace Kim", NY, "observer", "Product Manager, Payments", "email_only"),
    Person("oliver", "Oliver Grant", LA, invitation_sent=True),  # new hire, not on call yet
    Person("megan", "Megan Foster", LA),
    # Checkout (New York / London)
    Person("olivia", "Olivia Bennett", LONDON, "admin", "Engineering Manager, Checkout"),
    Person("marcus", "Marcus Reid", NY, profile="no_push"),  # PLANTED RCH-01
    Person("aisha", "Aisha Rahman", LONDON),
    Person("tom", "Tom Gallagher", NY),
    Person("chloe", "Chloe Martin", NY, job_title="Senior Software Engineer"),
    Person("ella", "Ella Thompson", LONDON),
    Person("paul", "Paul Dubois", NY, job_title="Staff Engineer"),
    # Search (Berlin / London / Kolkata)
    Person("lukas", "Lukas Weber", BERLIN, job_title="Engineering Manager, Search"),
    Person("sofia", "Sofia Rossi", BERLIN),
    Person("arjun", "Arjun Mehta", KOLKATA, profile="unstaggered"),  # PLANTED RCH-03
    Person("emma", "Emma Clarke", LONDON),
    Person("jonas", "Jonas Fischer", BERLIN),
    Person("nina", "Nina Petrova", BERLIN, job_title="Junior Software Engineer"),
    Person("rahul", "Rahul Verma", KOLKATA),
    Person("matteo", "Matteo Bianchi", BERLIN),
    # Platform SRE (London / Los Angeles / Sydney)
    Person("ben", "Ben Harper", LONDON, "admin", "SRE Manager"),
    Person("fiona", "Fiona Walsh", LONDON, job_title="Site Reliability Engineer", profile="sms_at_4"),
    Person("kevin", "Kevin Nguyen", LA, job_title="Site Reliability Engineer"),
    Person("rachel", "Rachel Stein", LA, job_title="Site Reliability Engineer",
           invitation_sent=True),  # PLANTED RCH-06
    Person("liam", "Liam O'Connor", SYDNEY, job_title="Site Reliability Engineer"),
    Person("zoe", "Zoe Mitchell", SYDNEY, job_title="Site Reliability Engineer"),
    Person("jack", "Jack Wilson", SYDNEY, job_title="Site Reliability Engineer"),
    Person("sanjay", "Sanjay Rao", KOLKATA, job_title="Site Reliability Engineer"),
    # Data (Kolkata / Berlin)
    Person("dev", "Dev Sharma", KOLKATA, job_title="Data Engineering Lead"),
    Person("ananya", "Ananya Iyer", KOLKATA, job_title="Data Engineer", profile="no_handoff"),  # PLANTED RCH-05
    Person("felix", "Felix Braun", BERLIN, job_title="Staff Data Engineer"),
    Person("lea", "Lea Hoffmann", BERLIN, job_title="Data Engineer"),
    Person("klaus", "Klaus Richter", BERLIN, "admin", "Director of Data"),
    Person("rohan", "Rohan Gupta", KOLKATA, job_title="Data Engineer", profile="no_push"),
    Person("robert", "Robert Hale", BERLIN, job_title="Reporting Engineer"),
    Person("priya", "Priya Nair", KOLKATA, job_title="Data Scientist"),
    Person("ines", "Ines Moreau", BERLIN, job_title="Data Engineer"),
    # Mobile (Los Angeles / New York)
    Person("isabel", "Isabel Flores", LA, job_title="Engineering Manager, Mobile"),
    Person("noah", "Noah Williams", NY),
    Person("ethan", "Ethan Lee", LA),
    Person("mia", "Mia Johnson", NY),
    Person("lucas", "Lucas Silva", LA, "limited_user", "QA Engineer", "email_only"),
    Person("henry", "Henry Adams", LA),
    # Identity (New York / Sydney)
    Person("sarah", "Sarah Goldberg", NY, job_title="Engineering Manager, Identity"),
    Person("james", "James Whitfield", SYDNEY, profile="slow_phone"),  # PLANTED RCH-04
    Person("daniel", "Daniel Cohen", NY),
    Person("harper", "Harper Lewis", SYDNEY),
    Person("amelia", "Amelia Scott", NY, profile="email_only"),  # off call: not judged by RCH-*
    Person("yuki", "Yuki Tanaka", SYDNEY),
    # Warehouse Ops (Berlin)
    Person("katrin", "Katrin Vogel", BERLIN, job_title="Warehouse Systems Manager"),
    Person("stefan", "Stefan Keller", BERLIN, job_title="Warehouse Systems Engineer",
           profile="email_only"),  # PLANTED RCH-01, RCH-02, RCH-03, RCH-04
    Person("petra", "Petra Novak", BERLIN, "read_only_user", "Shift Supervisor"),  # PLANTED RCH-06
    Person("jan", "Jan Becker", BERLIN, job_title="Warehouse Systems Engineer"),
    Person("laura", "Laura Schmidt", BERLIN, job_title="Warehouse Systems Engineer"),
    # In no team
    Person("helen", "Helen Park", NY, "owner", "Chief Technology Officer"),
    Person("victoria", "Victoria Hughes", NY, "read_only_user", "VP Operations", "email_only"),
    Person("carlos", "Carlos Mendes", NY, "limited_user", "Customer Support Lead", "no_push"),
]

# team key -> [(person key, team role)]
MEMBERSHIPS = {
    "payments": [("maya", "manager"), ("diego", "responder"), ("hannah", "responder"),
                 ("samuel", "responder"), ("grace", "observer"), ("oliver", "responder"),
                 ("megan", "responder"), ("paul", "responder")],
    "checkout": [("olivia", "manager"), ("marcus", "responder"), ("aisha", "responder"),
                 ("tom", "responder"), ("chloe", "responder"), ("ella", "responder"),
                 ("paul", "responder")],
    "search": [("lukas", "manager"), ("sofia", "responder"), ("arjun", "responder"),
               ("emma", "responder"), ("jonas", "responder"), ("nina", "responder"),
               ("rahul", "responder"), ("matteo", "responder"), ("priya", "observer")],
    "platform": [("ben", "manager"), ("fiona", "responder"), ("kevin", "responder"),
                 ("rachel", "responder"), ("liam", "responder"), ("zoe", "responder"),
                 ("jack", "responder"), ("sanjay", "observer")],
    "data": [("dev", "manager"), ("ananya", "responder"), ("felix", "manager"),
             ("lea", "responder"), ("klaus", "manager"), ("rohan", "responder"),
             ("robert", "responder"), ("priya", "responder"), ("ines", "responder"),
             ("rahul", "observer")],
    "mobile": [("isabel", "manager"), ("noah", "responder"), ("ethan", "responder"),
               ("mia", "responder"), ("lucas", "observer"), ("henry", "responder")],
    "identity": [("sarah", "manager"), ("james", "responder"), ("daniel", "responder"),
                 ("harper", "responder"), ("amelia", "responder"), ("yuki", "responder")],
    "warehouse": [("katrin", "manager"), ("stefan", "responder"), ("petra", "responder"),
                  ("jan", "responder"), ("laura", "responder"), ("matteo", "responder")],
    # PLANTED OWN-02: four members, no manager. They are the Payments rota, so the Returns
    # policy's last level still reaches the whole team (ESC-06 passes).
    "returns": [("maya", "responder"), ("diego", "responder"), ("hannah", "responder"), ("samuel", "responder")],
}


class AccountBuilder:
    """Collects the account's objects and hands out ids; one method per kind of object."""

    def __init__(self) -> None:
        self.ids = Ids()
        self.teams: dict[str, dict] = {}
        self.users: dict[str, dict] = {}
        self.account: dict = {
            "format": "pd-audit-account", "format_version": 1, "subdomain": "acme",
            "abilities": ["teams", "read_only_users", "urgencies", "service_support_hours",
                          "service_dependencies", "business_services", "standards",
                          "event_rules", "coordinated_responding", "preview_intelligent_alert_grouping",
                          "analytics"],
            "teams": [], "memberships": [], "users": [], "services": [], "escalation_policies": [],
            "schedules": [], "overrides": [], "schedules_v3": [], "business_services": [],
            "service_dependencies": [], "standards": [], "standards_scores": [], "extensions": [],
        }

    # -- people ---------------------------------------------------------------------------
    def add_team(self, key: str) -> None:
        name, description = TEAMS[key]
        team = {"id": self.ids.next("PTEAM"), "type": "team", "name": name, "description": description,
                "default_role": "manager"}
        self.teams[key] = team
        self.account["teams"].append(team)

    def add_person(self, person: Person, number: int) -> None:
        user_id = self.ids.next("PUSR")
        handle = person.name.lower().replace("'", "").replace(" ", ".")
        phone = f"555{number:07d}"
        methods = {}
        for kind in CONTACT_KINDS[person.profile]:
            method = {"id": self.ids.next("PCM"), "type": CONTACT_TYPES[kind],
                      "label": "Work" if kind == "email" else "Mobile",
                      "address": f"{handle}@acme.example" if kind == "email" else phone}
            if kind in ("phone", "sms"):
                method["country_code"] = COUNTRY_CODES[person.time_zone]
            if kind == "push":
                method.update(address=f"device-{number:04d}", label="iPhone" if number % 2 else "Pixel",
                              device_type="ios" if number % 2 else "android")
            methods[kind] = method
        rules = [self._rule("assignment_notification_rule", methods[kind], delay, "high")
                 for kind, delay in HIGH_URGENCY_RULES[person.profile]]
        low_kind = "push" if "push" in methods else "email"
        rules.append(self._rule("assignment_notification_rule", methods[low_kind], 0, "low"))
        handoffs = []
        if person.profile not in PROFILES_WITHOUT_HANDOFF:
            handoff = self._rule("oncall_handoff_notification_rule", methods[low_kind], 0, None)
            handoff.update(handoff_type="both", notify_advance_in_minutes=0)
            handoffs.append(handoff)
        user = {"id": user_id, "type": "user", "name": person.name, "email": f"{handle}@acme.example",
                "time_zone": person.time_zone, "role": person.role, "job_title": person.job_title,
                "invitation_sent": person.invitation_sent, "color": "purple",
                "description": "", "contact_methods": list(methods.values()), "notification_rules": rules,
                "oncall_handoff_notification_rules": handoffs}
        self.users[person.key] = user
        self.account["users"].append(user)

    def _rule(self, rule_type: str, method: dict, delay: int, urgency: str | None) -> dict:
        rule = {"id": self.ids.next("PNR"), "type": rule_type, "start_delay_in_minutes": delay,
                "contact_method": ref(method["type"], method["id"])}
        if urgency:
            rule["urgency"] = urgency
        return rule

    def add_memberships(self) -> None:
        for team_key, members in MEMBERSHIPS.items():
            for person_key, role in members:
                self.account["memberships"].append(
                    {"team_id": self.teams[team_key]["id"], "user_id": self.users[person_key]["id"], "role": role})

    # -- schedules --------------------------------------------------------------------------
    def layer(self, name: str, people: list[str], tz: str, *, turn_seconds: int = WEEK,
              offset_turns: int = 0, handoff: time = time(10), restrictions: list[dict] | None = None,
              start: date = ROTATION_EPOCH, end: str | None = None) -> dict:
        """A rotation over ``people``; ``offset_turns`` later virtual start = backup of the same rota."""
        virtual_start = wall_clock(start, handoff, tz)
        shifted = datetime.fromisoformat(virtual_start) + timedelta(seconds=turn_seconds * offset_turns)
        shifted_start = wall_clock(shifted.date(), handoff, tz)
        effective = wall_clock(HISTORY_EPOCH, handoff, tz) if start == ROTATION_EPOCH else shifted_start
        return {"id": self.ids.next("PLAY"), "name": name, "start": effective, "end": end,
                "rotation_virtual_start": shifted_start, "rotation_turn_length_seconds": turn_seconds,
                "users": [{"user": ref("user", self.users[p]["id"])} for p in people],
                "restrictions": restrictions or []}

    def schedule(self, name: str, tz: str, team: str | None, layers: list[dict], description: str = "") -> str:
        """Add a v2 schedule; ``layers`` are given highest priority first, as the API lists them."""
        schedule_id = self.ids.next("PSCH")
        self.account["schedules"].append({
            "id": schedule_id, "type": "schedule", "name": name, "time_zone": tz,
            "description": description or f"{name} on-call rotation.",
            "teams": [ref("team", self.teams[team]["id"])] if team else [], "schedule_layers": layers})
        return schedule_id

    def override(self, schedule_id: str, start: str, end: str, person: str) -> None:
        self.account["overrides"].append({"id": self.ids.next("POVR"), "schedule_id": schedule_id,
                                          "start": start, "end": end,
                                          "user": ref("user", self.users[person]["id"])})

    def schedule_v3(self, name: str, tz: str, team: str, people: list[str], offset_turns: int) -> str:
        """A shift-based schedule: one weekly rotation handing off on Mondays at 10:00 local.

        ``offset_turns`` rotates the member list, so offset 1 holds last week's primary.
        """
        schedule_id = self.ids.next("PSV3")
        number = self.ids.counters["PSV3"]
        members = people[-offset_turns:] + people[:-offset_turns] if offset_turns else list(people)
        start = datetime.combine(HISTORY_EPOCH, time(10), ZoneInfo(tz))
        event = {
            "id": f"01JACMEEVENT{number:02d}ROTATION0001", "type": "schedule_event", "name": "Weekly on-call",
            "start_time": {"date_time": start.isoformat(), "time_zone": tz},
            "end_time": {"date_time": (start + timedelta(days=7)).isoformat(), "time_zone": tz},
            "effective_since": start.astimezone(ZoneInfo(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "effective_until": None,
            "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO"],
            "assignment_strategy": {"type": "rotating_member_assignment_strategy", "shifts_per_member": 1,
                                    "members": [{"type": "user_member", "user_id": self.users[p]["id"]}
                                                for p in members]},
        }
        self.account["schedules_v3"].append({
            "id": schedule_id, "type": "schedule_v3", "name": name, "time_zone": tz,
            "description": f"{name} (shift-based schedule).",
            "teams": [ref("team", self.teams[team]["id"])],
            "rotations": [{"id": f"01JACMEROTATION{number:02d}000000001", "type": "schedule_rotation",
                           "events": [event]}]})
        return schedule_id

    # -- escalation ---------------------------------------------------------------------------
    def policy(self, name: str, teams: list[str], levels: list[tuple[int, list[dict]]], *,
               num_loops: int = 1, description: str = "") -> str:
        """``levels`` are (escalation delay in minutes, targets) from level 1 down."""
        policy_id = self.ids.next("PEP")
        self.account["escalation_policies"].append({
            "id": policy_id, "type": "escalation_policy", "name": name,
            "description": description or f"Escalation for {name}.", "num_loops": num_loops,
            "on_call_handoff_notifications": "if_has_services",
            "teams": [ref("team", self.teams[t]["id"]) for t in teams],
            "escalation_rules": [{"id": self.ids.next("PER"), "escalation_delay_in_minutes": delay,
                                  "targets": targets} for delay, targets in levels]})
        return policy_id

    def user_target(self, person: str) -> dict:
        return ref("user", self.users[person]["id"])

    def levels_of(self, service: dict) -> int:
        policy_id = service["escalation_policy"]["id"]
        policy = next(p for p in self.account["escalation_policies"] if p["id"] == policy_id)
        return len(policy["escalation_rules"])

    # -- services -------------------------------------------------------------------------------
    def service(self, name: str, policy_id: str, teams: list[str], description: str, *,
                urgency: dict | None = None, support_hours: dict | None = None, status: str = "active",
                ack_timeout: int | None = 1800, auto_resolve: int | None = None,
                integrations: tuple[str, ...] = ("events_api_v2",), addons: bool = True,
                noise_controls: bool = True) -> str:
        service_id = self.ids.next("PSVC")
        service = {
            "id": service_id, "type": "service", "name": name, "description": description,
            "status": status, "created_at": "2024-03-11T09:30:00Z",
            "last_incident_timestamp": "2026-12-28T03:12:44Z",
            "escalation_policy": ref("escalation_policy", policy_id),
            "teams": [ref("team", self.teams[t]["id"]) for t in teams],
            "incident_urgency_rule": urgency or {"type": "constant", "urgency": "high"},
            "support_hours": support_hours,
            "scheduled_actions": ([{"type": "urgency_change", "to_urgency": "high",
                                    "at": {"type": "named_time", "name": "support_hours_start"}}]
                                  if support_hours else []),
            "acknowledgement_timeout": ack_timeout, "auto_resolve_timeout": auto_resolve,
            "alert_creation": "create_alerts_and_incidents",
            "alert_grouping_parameters": ({"type": "intelligent", "config": {"time_window": 300}}
                                          if noise_controls else {"type": None}),
            "auto_pause_notifications_parameters": {"enabled": noise_controls,
                                                    "timeout": 300 if noise_controls else 0},
            "integrations": [self._integration(kind, name) for kind in integrations],
            "addons": ([{"id": self.ids.next("PADD"), "type": "incident_show_addon_reference",
                         "name": "Runbook panel", "src": f"{WIKI}/addon?service={service_id}"}]
                       if addons else []),
        }
        self.account["services"].append(service)
        return service_id

    def _integration(self, kind: str, service_name: str) -> dict:
        names = {"events_api_v2": ("events_api_v2_inbound_integration", "Events API v2"),
                 "email": ("generic_email_inbound_integration", "Email"),
                 "cloudwatch": ("aws_cloudwatch_inbound_integration", "Amazon CloudWatch"),
                 "generic_events": ("generic_events_api_inbound_integration", "Monitoring webhook")}
        integration_type, label = names[kind]
        integration = {"id": self.ids.next("PINT"), "type": integration_type, "name": label,
                       "summary": f"{label} for {service_name}"}
        if kind == "email":
            integration["integration_email"] = f"{service_name.lower().replace(' ', '-')}@acme.pagerduty.com"
        return integration

    def extension(self, name: str, schema: str, url: str, service_ids: list[str]) -> None:
        """An outbound extension: PagerDuty lists these at /extensions, never on the service."""
        schema_ids = {"Slack V1": "PSLACK1", "Generic V2 Webhook": "PWEBHK2"}
        self.account["extensions"].append({
            "id": self.ids.next("PEXT"), "type": "extension", "name": name, "endpoint_url": url,
            "extension_schema": {"id": schema_ids[schema], "type": "extension_schema_reference", "summary": schema},
            "extension_objects": [ref("service", service_id) for service_id in service_ids],
            "temporarily_disabled": False})

    def business_service(self, name: str, team: str, description: str) -> str:
        service_id = self.ids.next("PBS")
        self.account["business_services"].append({
            "id": service_id, "type": "business_service", "name": name, "description": description,
            "point_of_contact": f"{TEAMS[team][0]} team", "team": ref("team", self.teams[team]["id"])})
        return service_id

    def depends(self, supporting_id: str, dependent_id: str) -> None:
        dependent_type = "business_service" if dependent_id.startswith("PBS") else "service"
        self.account["service_dependencies"].append({
            "id": self.ids.next("PDEP"), "type": "service_dependency",
            "supporting_service": {"id": supporting_id, "type": "service"},
            "dependent_service": {"id": dependent_id, "type": dependent_type}})


def business_hours(tz: str, start: time = time(9), hours: int = 8) -> list[dict]:
    """Weekday restrictions: Monday to Friday, ``hours`` from ``start`` on the schedule's clock."""
    return [{"type": "weekly_restriction", "start_day_of_week": day, "start_time_of_day": start.isoformat(),
             "duration_seconds": hours * 3600} for day in WEEKDAYS]


def daily_window(start: time, hours: int = 8) -> list[dict]:
    return [{"type": "daily_restriction", "start_time_of_day": start.isoformat(), "duration_seconds": hours * 3600}]


def support_hours(tz: str, start: str = "09:00:00", end: str = "17:00:00") -> dict:
    return {"type": "fixed_time_per_day", "time_zone": tz, "days_of_week": [1, 2, 3, 4, 5],
            "start_time": start, "end_time": end}


SUPPORT_HOURS_URGENCY = {"type": "use_support_hours",
                         "during_support_hours": {"type": "constant", "urgency": "high"},
                         "outside_support_hours": {"type": "constant", "urgency": "low"}}
LOW_URGENCY = {"type": "constant", "urgency": "low"}


def describe(what: str, runbook: str) -> str:
    return f"{what} Runbook: {WIKI}/{runbook}"


def build_account() -> dict:
    b = AccountBuilder()
    for key in TEAMS:
        b.add_team(key)
    for number, person in enumerate(PEOPLE, start=1):
        b.add_person(person, number)
    b.add_memberships()

    def sched(schedule_id: str) -> dict:
        return ref("schedule", schedule_id)

    # ---- Payments: the model team. Primary, last week's primary as backup, then the week
    # before (a manager, Maya, is on the rota, so the last level reaches leadership).
    payments_rota = ["maya", "diego", "hannah", "samuel"]
    pay_primary = b.schedule("Payments primary", NY, "payments",
                             [b.layer("Weekly", payments_rota, NY)])
    pay_secondary = b.schedule("Payments secondary", NY, "payments",
                               [b.layer("Weekly (last week's primary)", payments_rota, NY, offset_turns=1)])
    pay_tertiary = b.schedule("Payments tertiary", NY, "payments",
                              [b.layer("Weekly (two weeks back)", payments_rota, NY, offset_turns=2)])
    # PLANTED OC-11: a layer nobody was ever added to.
    pay_holiday = b.schedule("Payments holiday cover", NY, "payments", [
        b.layer("Holiday cover", [], NY),
        b.layer("Weekly", payments_rota, NY)])
    payments_levels = [(10, [sched(pay_primary)]), (10, [sched(pay_secondary)]), (10, [sched(pay_tertiary)])]
    ep_payments = b.policy("Payments", ["payments"], payments_levels)
    ep_fraud = b.policy("Payments - fraud", ["payments"], payments_levels[:2])  # PLANTED ESC-02
    ep_returns = b.policy("Returns", ["returns"], payments_levels)

    # ---- Checkout: 24/7 layer retired on 2027-01-31 00:00Z, business-hours layer beneath it;
    # the one uncovered Sunday is filled by an override (OC-01 passes: boundary case).
    checkout_rota = ["olivia", "marcus", "aisha", "tom"]
    co_primary = b.schedule("Checkout primary", NY, "checkout", [
        b.layer("24/7 (retired end of January)", checkout_rota, NY, end="2027-01-31T00:00:00+00:00"),
        b.layer("Business hours", checkout_rota, NY, restrictions=business_hours(NY))])
    # Week of 2027-01-25 10:00 New York is turn 7 of the rota: checkout_rota[7 % 4] keeps the pager.
    b.override(co_primary, "2027-01-31T00:00:00+00:00", "2027-02-01T14:00:00+00:00", checkout_rota[7 % 4])
    co_secondary = b.schedule("Checkout secondary", NY, "checkout",
                              [b.layer("Weekly (last week's primary)", checkout_rota, NY, offset_turns=1)])
    co_tertiary = b.schedule("Checkout tertiary", NY, "checkout",
                             [b.layer("Weekly (two weeks back)", checkout_rota, NY, offset_turns=2)])
    b.schedule("Checkout primary (2025)", NY, "checkout", [  # PLANTED OC-11: ended, and unused
        b.layer("Weekly", checkout_rota, NY, start=date(2025, 1, 6), end="2026-11-30T15:00:00+00:00")])
    checkout_tail = [(10, [sched(co_secondary)]), (10, [sched(co_tertiary)])]
    ep_checkout = b.policy("Checkout", ["checkout"], [(15, [sched(co_primary)])] + checkout_tail)
    ep_orders = b.policy("Checkout - order notifications", ["checkout"],
                         [(20, [sched(co_primary)])] + checkout_tail)  # PLANTED ESC-07 (tier 1, > 15 min)
    ep_shared = b.policy("Checkout and Payments (shared)", ["checkout", "payments"],  # PLANTED OWN-01
                         [(10, [sched(co_primary)])] + checkout_tail)

    # ---- Search: the manager is not on the rota; he is paged directly at level 3.
    search_rota = ["sofia", "arjun", "emma", "jonas"]
    se_primary = b.schedule("Search primary", BERLIN, "search", [b.layer("Weekly", search_rota, BERLIN)])
    se_secondary = b.schedule("Search secondary", BERLIN, "search",
                              [b.layer("Weekly (last week's primary)", search_rota, BERLIN, offset_turns=1)])
    se_relevance = b.schedule("Search relevance on-call", BERLIN, "search",
                              [b.layer("Weekly", search_rota, BERLIN)])
    # PLANTED OC-10: two swapped working weeks, 8 of the window's 28 days held by overrides.
    # Turn 4 (from 2027-01-04 10:00 Berlin) is sofia's, turn 6 emma's: they trade Monday..Friday.
    b.override(se_relevance, wall_clock(date(2027, 1, 4), time(10), BERLIN),
               wall_clock(date(2027, 1, 8), time(10), BERLIN), "emma")
    b.override(se_relevance, wall_clock(date(2027, 1, 18), time(10), BERLIN),
               wall_clock(date(2027, 1, 22), time(10), BERLIN), "sofia")
    b.schedule("Search shadow rotation", BERLIN, "search",  # PLANTED OC-11: used by no policy
               [b.layer("Weekly (shadowing)", ["nina", "sofia", "emma", "jonas"], BERLIN)])
    ep_search = b.policy("Search", ["search"], [  # PLANTED ESC-03 (warning: user at level 3)
        (10, [sched(se_primary)]), (10, [sched(se_secondary)]), (10, [b.user_target("lukas")])])
    ep_relevance = b.policy("Search - relevance", ["search"], [  # PLANTED ESC-04, ESC-05, ESC-06
        (10, [sched(se_relevance)]), (10, [sched(se_primary)])], num_loops=2)

    # ---- Platform SRE: follow-the-sun in UTC, each region on call 8 daytime hours.
    # The backup is the same region's previous week, not the shift that just handed over.
    def follow_the_sun(offset: int) -> list[dict]:
        return [
            b.layer("London 08-16 UTC", ["ben", "fiona"], UTC, offset_turns=offset, handoff=time(16),
                    restrictions=daily_window(time(8))),
            b.layer("Los Angeles 16-24 UTC", ["kevin", "rachel"], UTC, offset_turns=offset,
                    restrictions=daily_window(time(16))),
            b.layer("Sydney 00-08 UTC", ["liam", "zoe"], UTC, offset_turns=offset,
                    restrictions=daily_window(time(0))),
        ]
    pl_primary = b.schedule("Platform follow-the-sun primary", UTC, "platform", follow_the_sun(0))
    pl_backup = b.schedule("Platform follow-the-sun backup", UTC, "platform", follow_the_sun(1))
    ep_platform = b.policy("Platform SRE", ["platform"],  # PLANTED ESC-05; 5 min = ESC-07 boundary
                           [(5, [sched(pl_primary)]), (5, [sched(pl_backup)])], num_loops=2)

    # ---- Data
    data_rota = ["dev", "ananya", "felix", "lea"]
    da_primary = b.schedule("Data primary", KOLKATA, "data", [b.layer("Weekly", data_rota, KOLKATA)])
    da_secondary = b.schedule("Data secondary", KOLKATA, "data",
                              [b.layer("Weekly (last week's primary)", data_rota, KOLKATA, offset_turns=1)])
    # PLANTED OC-03 (one person) and OC-07 (so every turn is back-to-back).
    da_leadership = b.schedule("Data leadership", BERLIN, "data", [b.layer("Director", ["klaus"], BERLIN)])
    # PLANTED OC-03 (warning: two people) and OC-04 (fortnightly turns) on both.
    da_ingest_primary = b.schedule("Data ingestion primary", BERLIN, "data",
                                   [b.layer("Fortnightly", ["felix", "lea"], BERLIN, turn_seconds=2 * WEEK)])
    da_ingest_backup = b.schedule("Data ingestion backup", BERLIN, "data", [
        b.layer("Fortnightly (last turn's primary)", ["felix", "lea"], BERLIN, turn_seconds=2 * WEEK,
                offset_turns=1)])
    ep_data = b.policy("Data pipelines", ["data"],
                       [(15, [sched(da_primary)]), (15, [sched(da_secondary)]), (15, [sched(da_leadership)])])
    ep_ingest = b.policy("Data ingest", ["data"],
                         [(10, [sched(da_ingest_primary)]), (10, [sched(da_ingest_backup)])])
    ep_loads = b.policy("Data - warehouse loads", ["data"], [  # PLANTED ESC-08: level 3 after 75 min
        (30, [sched(da_primary)]), (45, [sched(da_secondary)]), (15, [sched(da_leadership)])])
    ep_legacy = b.policy("Legacy reporting (Robert)", [], [(30, [b.user_target("robert")])], num_loops=0,
                         description="Pages Robert directly; predates teams.")  # PLANTED, see PLANTED.md

    # ---- Mobile: shift-based (v3) schedules. Chloe (Checkout) covers a fifth of the rota,
    # so 4 of 5 level-1 responders are Mobile members: OWN-04's 80% boundary.
    mobile_rota = ["isabel", "noah", "ethan", "mia", "chloe"]
    mo_primary = b.schedule_v3("Mobile primary", LA, "mobile", mobile_rota, 0)
    mo_secondary = b.schedule_v3("Mobile secondary", LA, "mobile", mobile_rota, 1)
    mo_tertiary = b.schedule_v3("Mobile tertiary", LA, "mobile", mobile_rota, 2)
    mo_business = b.schedule("Mobile business-hours backup", LA, "mobile", [
        b.layer("Weekdays (last week's primary)", mobile_rota, LA, offset_turns=1,
                restrictions=business_hours(LA))])
    v3 = lambda schedule_id: ref("schedule_v3", schedule_id)  # noqa: E731 - local shorthand
    ep_mobile = b.policy("Mobile", ["mobile"],  # boundaries: ESC-07 at 30, ESC-08 last level at 60
                         [(30, [v3(mo_primary)]), (30, [v3(mo_secondary)]), (30, [v3(mo_tertiary)])])
    ep_release = b.policy("Mobile - release tooling", ["mobile"],  # PLANTED OC-02, ESC-05
                          [(10, [v3(mo_primary)]), (10, [sched(mo_business)])])
    ep_push = b.policy("Mobile - push notifications", ["mobile"],  # PLANTED ESC-07 (3 min)
                       [(3, [v3(mo_primary)]), (3, [v3(mo_secondary)])])

    # ---- Identity: New York and Sydney share one 24/7 rota (PLANTED OC-08), and the 24/7
    # layer was retired on 2027-01-25 leaving only New York business hours (PLANTED OC-01).
    identity_rota = ["sarah", "james", "daniel", "harper"]
    id_primary = b.schedule("Identity primary", NY, "identity", [
        b.layer("24/7 (retired 25 January)", identity_rota, NY, end="2027-01-25T15:00:00+00:00"),
        b.layer("Business hours", identity_rota, NY, restrictions=business_hours(NY))])
    id_secondary = b.schedule("Identity secondary", NY, "identity",
                              [b.layer("Weekly (last week's primary)", identity_rota, NY, offset_turns=1)])
    id_tertiary = b.schedule("Identity tertiary", NY, "identity",
                             [b.layer("Weekly (two weeks back)", identity_rota, NY, offset_turns=2)])
    ep_identity = b.policy("Identity", ["identity"],
                           [(10, [sched(id_primary)]), (10, [sched(id_secondary)]), (10, [sched(id_tertiary)])])

    # ---- Warehouse Ops: business hours in Berlin, hand-off Monday 09:00 (OC-05 boundary).
    warehouse_rota = ["katrin", "stefan", "petra", "jan"]
    wh_hours = b.schedule("Warehouse business hours", BERLIN, "warehouse", [
        b.layer("Weekdays 09-17", warehouse_rota, BERLIN, handoff=time(9), restrictions=business_hours(BERLIN))])
    wh_backup = b.schedule("Warehouse business hours backup", BERLIN, "warehouse", [
        b.layer("Weekdays 09-17 (last week's primary)", warehouse_rota, BERLIN, handoff=time(9), offset_turns=1,
                restrictions=business_hours(BERLIN))])
    # PLANTED OC-05 (daily turns hand off at weekends) and OC-06 (Katrin holds every other day);
    # Felix and Lea (Data) fill in, so half the level-1 people are not Warehouse members (OWN-04).
    wh_daily = b.schedule("Warehouse scanners daily", BERLIN, "warehouse", [
        b.layer("Daily", ["katrin", "felix", "katrin", "lea", "katrin", "jan"], BERLIN, turn_seconds=DAY,
                handoff=time(9))])
    ep_warehouse = b.policy("Warehouse Ops", ["warehouse"],
                            [(10, [sched(wh_hours)]), (10, [sched(wh_backup)])])
    ep_scanners = b.policy("Warehouse scanners", ["warehouse"],  # PLANTED ESC-01, ESC-04, ESC-05
                           [(10, [sched(wh_daily)]), (10, [sched(wh_daily)])])
    b.policy("Payments (old)", ["payments"], [  # PLANTED ESC-09: no service uses it
        (10, [sched(pay_holiday)]), (10, [sched(pay_secondary)]), (10, [sched(pay_tertiary)])])

    add_services(b, locals())
    b.account["incident_history"] = incident_history(b)
    return b.account


def incident_history(b: AccountBuilder) -> dict:
    """The quarter before the window, for the practice rules (PRC-*, OC-09, SVC-05, SVC-06).

    Search Indexer's incidents are answered by Data (its policy is Data's), Handheld Scanner
    Gateway's half by Data's Felix and Lea, Push Notification Service's mostly by Chloe of Checkout
    on Mobile's rota (PLANTED PRC-01, from the configuration alone); the rest is planted by knobs.
    """
    service = {svc["name"]: svc["id"] for svc in b.account["services"]}
    return {
        "seed": 15,
        "since": "2026-10-04T00:00:00Z",
        "until": "2027-01-04T00:00:00Z",
        "defaults": {"incidents_per_week": 1.5, "timeout_share": 0.01},
        "services": {
            # PLANTED PRC-01: Platform SRE answers most of Search's incidents.
            service["Search API"]: {"owner_ack_share": 0.4, "acked_by_team": b.teams["platform"]["id"]},
            service["Autocomplete"]: {"owner_ack_share": 0.4, "acked_by_team": b.teams["platform"]["id"]},
            # PLANTED SVC-05, SVC-06, OC-09: the nightly payout job pages at night for nothing.
            service["Payout Scheduler"]: {"incidents_per_week": 14, "night_share": 0.85, "auto_resolve_share": 0.75},
            # PLANTED PRC-02, PRC-03: Identity's level 1 keeps timing out to level 2.
            service["Identity Token Service"]: {"incidents_per_week": 3, "timeout_share": 0.45},
            service["Session Store"]: {"incidents_per_week": 3, "timeout_share": 0.45},
            # PLANTED PRC-04: the first responder hands incidents on to the backup.
            service["Edge Load Balancers"]: {"incidents_per_week": 3, "reassign_share": 0.45},
            # PLANTED PRC-05 (Platform SRE's shifts) and SVC-05: thirty pages a week.
            service["Kubernetes Platform"]: {"incidents_per_week": 30},
        },
    }


def add_services(b: AccountBuilder, ep: dict) -> None:
    """The technical services, their business services and dependencies; ``ep`` holds the policy ids."""
    s = {}
    # Payments
    s["payments_api"] = b.service("Payments API", ep["ep_payments"], ["payments"], describe(
        "Authorises and captures card payments for web and mobile checkout.", "payments-api"))
    s["ledger"] = b.service("Payment Ledger", ep["ep_payments"], ["payments"], describe(
        "Double-entry ledger recording every capture, refund and payout.", "payment-ledger"))
    s["refunds"] = b.service("Refunds Worker", ep["ep_payments"], ["payments"], describe(
        "Processes refund requests from support and the returns portal.", "refunds-worker"),
        ack_timeout=3600, auto_resolve=14400)  # SVC-04 boundaries: exactly 60 min and 4 h
    s["fraud"] = b.service("Fraud Scoring", ep["ep_fraud"], ["payments"], describe(
        "Scores each payment attempt for fraud risk before authorisation.", "fraud-scoring"))
    b.service("Payout Scheduler", ep["ep_payments"], ["payments"],  # PLANTED OWN-06: no link
              "Schedules merchant and carrier payouts nightly and retries failed bank transfers.",
              noise_controls=False)  # PLANTED SVC-05 with its nightly noise (see incident_history)
    s["vault"] = b.service("Card Tokenization Vault", ep["ep_payments"], ["payments"], describe(
        "PCI-scoped vault that swaps card numbers for tokens.", "card-vault"),
        integrations=("events_api_v2", "cloudwatch"))
    b.service("Returns Portal", ep["ep_returns"], ["returns"], describe(
        "Customers book returns and print return labels here.", "returns-portal"))
    # Checkout
    s["checkout_web"] = b.service("Checkout Web", ep["ep_checkout"], ["checkout"], describe(
        "The storefront checkout pages and their backend-for-frontend.", "checkout-web"), status="critical")
    b.service("Cart Service", ep["ep_checkout"], ["checkout"], describe(  # PLANTED SVC-08: no dependencies
        "Holds shopping carts and applies prices, stock and promotions.", "cart-service"))
    s["orders"] = b.service("Order Notifications", ep["ep_orders"], ["checkout"], describe(
        "Sends order confirmation and shipping e-mails and texts.", "order-notifications"))
    b.service("Promotions Engine", ep["ep_checkout"], ["checkout"],  # PLANTED OWN-05: 31 characters
              "https://wiki.acme.example/promo")
    b.service("Tax Calculation", ep["ep_checkout"], ["checkout"], describe(  # PLANTED SVC-04: no ack timeout
        "Calculates sales tax and VAT for every basket and invoice.", "tax-calculation"), ack_timeout=None)
    b.service("Gift Cards", ep["ep_shared"], ["checkout", "payments"], describe(  # PLANTED OWN-01: two teams
        "Issues, redeems and reconciles gift cards across channels.", "gift-cards"))
    # Search
    # The Search team's services have no add-on: their chat channel is a Slack extension (SVC-02
    # boundary: it counts although the service object does not carry it).
    s["search_api"] = b.service("Search API", ep["ep_search"], ["search"], describe(
        "Product and shipment search queries for the storefront and apps.", "search-api"), addons=False)
    s["indexer"] = b.service("Search Indexer", ep["ep_ingest"], ["search"], describe(  # PLANTED OWN-03, OWN-04
        "Streams catalogue changes into the search cluster within a minute.", "search-indexer"), addons=False)
    s["autocomplete"] = b.service("Autocomplete", ep["ep_relevance"], ["search"], describe(
        "Type-ahead suggestions ranked by the relevance models.", "autocomplete"), addons=False)
    s["search_monitors"] = b.service("Datadog Alerts", ep["ep_search"], ["search"], describe(  # PLANTED OWN-07
        "Catch-all for search cluster monitors that have no better home.", "search-monitors"),
        urgency=SUPPORT_HOURS_URGENCY, support_hours=support_hours(BERLIN),
        integrations=("generic_events",), addons=False)
    b.service("Recommendations", ep["ep_search"], ["search"], describe(  # PLANTED SVC-02: no add-on
        "Recommends related products on product and basket pages.", "recommendations"),
        urgency=SUPPORT_HOURS_URGENCY, support_hours=support_hours(BERLIN), addons=False)
    b.extension("#search-oncall", "Slack V1", "https://hooks.slack.com/services/T0ACME/B0SEARCH",
                [s["search_api"], s["indexer"], s["autocomplete"], s["search_monitors"]])
    b.extension("Status page updates", "Generic V2 Webhook", "https://status.acme.example/hooks/pagerduty",
                [s["payments_api"], s["checkout_web"]])
    # Platform SRE
    b.service("Kubernetes Platform", ep["ep_platform"], ["platform"], describe(
        "The production Kubernetes clusters every Acme service runs on.", "kubernetes"), status="warning")
    b.service("Edge Load Balancers", ep["ep_platform"], ["platform"], describe(
        "Global load balancing, TLS termination and the web application firewall.", "edge"))
    b.service("CI/CD Pipeline", ep["ep_platform"], ["platform"], describe(
        "Builds, tests and deploys every repository on merge.", "ci-cd"),
        urgency=SUPPORT_HOURS_URGENCY, support_hours=support_hours(LONDON))
    b.service("Secrets Manager", ep["ep_platform"], ["platform"], describe(
        "Issues and rotates credentials for services and people.", "secrets"), status="maintenance")
    b.service("Default Service", ep["ep_platform"], ["platform"], describe(  # PLANTED OWN-07
        "Created with the account; still receives the legacy e-mail alerts.", "default-service"),
        integrations=("email",))
    # Data
    b.service("Data Pipelines Orchestrator", ep["ep_data"], ["data"], describe(
        "Schedules and monitors the batch pipelines feeding the warehouse.", "orchestrator"),
        urgency=SUPPORT_HOURS_URGENCY, support_hours=support_hours(KOLKATA))
    b.service("Customer Analytics Warehouse", ep["ep_loads"], ["data"], describe(
        "The analytics warehouse and its nightly loads; nothing here pages at night.", "analytics-warehouse"),
        urgency=LOW_URGENCY)
    b.service("ETL", ep["ep_data"], ["data"], describe(  # PLANTED OWN-07: bare acronym
        "Moves order and shipment data from operational stores to the warehouse.", "etl"),
        urgency=SUPPORT_HOURS_URGENCY, support_hours=support_hours(KOLKATA))
    b.service("Legacy Reporting Export", ep["ep_legacy"], [], describe(  # PLANTED OWN-01: no team
        "Exports the monthly finance reports to the old reporting share.", "legacy-reporting"),
        urgency=SUPPORT_HOURS_URGENCY, support_hours=support_hours(BERLIN))
    b.service("Event Stream Archiver", ep["ep_data"], ["data"], describe(  # PLANTED SVC-07: disabled
        "Archived the clickstream to cold storage before the lakehouse move.", "event-archiver"),
        status="disabled", urgency=SUPPORT_HOURS_URGENCY, support_hours=support_hours(KOLKATA))
    s["features"] = b.service("ML Feature Store", ep["ep_data"], ["data"], describe(  # PLANTED OWN-08
        "Serves model features to fraud scoring and recommendations.", "feature-store"))
    # Mobile
    b.service("Mobile API Gateway", ep["ep_mobile"], ["mobile"], describe(
        "The single entry point for the iOS and Android apps.", "mobile-gateway"))
    b.service("iOS App Backend", ep["ep_mobile"], ["mobile"], describe(  # PLANTED SVC-04: resolves after 1 h
        "Backend endpoints used only by the iOS app.", "ios-backend"), auto_resolve=3600)
    b.service("Push Notification Service", ep["ep_push"], ["mobile"], describe(
        "Delivers push notifications through APNs and FCM.", "push"))
    b.service("Mobile Release Tooling", ep["ep_release"], ["mobile"], describe(
        "App store submission and phased-release automation.", "release-tooling"),
        urgency=SUPPORT_HOURS_URGENCY, support_hours=support_hours(LA))
    b.service("Android App Backend", ep["ep_mobile"], ["mobile"], describe(  # PLANTED SVC-01: no integration
        "Backend endpoints used only by the Android app.", "android-backend"), integrations=())
    # Identity (all on the policy whose level 1 loses its nights on 25 January: PLANTED OC-01)
    s["tokens"] = b.service("Identity Token Service", ep["ep_identity"], ["identity"], describe(
        "Issues and validates access and refresh tokens.", "tokens"))
    s["sessions"] = b.service("Session Store", ep["ep_identity"], ["identity"], describe(
        "Stores web and app sessions for signed-in customers.", "sessions"))
    s["sso"] = b.service("Partner SSO", ep["ep_identity"], ["identity"], describe(  # PLANTED SVC-03
        "Single sign-on for carrier and supplier partner portals.", "partner-sso"),
        urgency=SUPPORT_HOURS_URGENCY, support_hours=support_hours(NY))
    b.service("Auth Audit Log", ep["ep_identity"], ["identity"], "Auth Audit Log",  # PLANTED OWN-05, OWN-06
              urgency=LOW_URGENCY)
    # Warehouse Ops
    b.service("Warehouse Management System", ep["ep_warehouse"], ["warehouse"], describe(
        "Stock locations, receiving and put-away for all warehouses.", "wms"),
        urgency=SUPPORT_HOURS_URGENCY, support_hours=support_hours(BERLIN))
    b.service("Dock Scheduling", ep["ep_warehouse"], ["warehouse"], describe(  # PLANTED OC-01: 08-18 support
        "Books carrier slots at the loading docks.", "dock-scheduling"),
        urgency=SUPPORT_HOURS_URGENCY, support_hours=support_hours(BERLIN, "08:00:00", "18:00:00"))
    b.service("Inventory Sync Reports", ep["ep_warehouse"], ["warehouse"], describe(
        "Daily stock reconciliation reports for the finance team.", "inventory-sync"), urgency=LOW_URGENCY)
    b.service("Pick and Pack API", ep["ep_warehouse"], ["warehouse"], describe(  # PLANTED OC-01: pages 24/7
        "Pick lists and packing instructions for the warehouse floor.", "pick-and-pack"))
    b.service("Handheld Scanner Gateway", ep["ep_scanners"], ["warehouse"], describe(  # PLANTED OWN-04
        "Connects the handheld barcode scanners to the warehouse systems.", "scanner-gateway"),
        urgency=SUPPORT_HOURS_URGENCY, support_hours=support_hours(BERLIN))
    b.service("Carrier Label Printing", ep["ep_warehouse"], ["warehouse"], describe(  # PLANTED SVC-07
        "Printed carrier labels before the carriers' own APIs took over.", "label-printing"),
        status="disabled", urgency=SUPPORT_HOURS_URGENCY, support_hours=support_hours(BERLIN))
    # PLANTED PPL-02: Robert is all that level 1 pages for a second service (and OWN-01: no team).
    b.service("Legacy Invoice Archive", ep["ep_legacy"], [], describe(
        "Keeps the scanned supplier invoices of the old reporting system searchable.", "invoice-archive"),
        urgency=SUPPORT_HOURS_URGENCY, support_hours=support_hours(BERLIN))

    online_checkout = b.business_service("Online Checkout", "checkout",
                                         "Customers can pay for and place orders on web and mobile.")
    customer_login = b.business_service("Customer Login", "identity",
                                        "Customers and partners can sign in.")
    for supporting in ("payments_api", "checkout_web"):
        b.depends(s[supporting], online_checkout)
    for supporting in ("ledger", "fraud", "vault"):
        b.depends(s[supporting], s["payments_api"])
    b.depends(s["orders"], s["checkout_web"])
    b.depends(s["features"], s["search_api"])
    b.depends(s["sso"], customer_login)
    b.depends(s["tokens"], s["sessions"])  # PLANTED SVC-08: a cycle
    b.depends(s["sessions"], s["tokens"])
    add_standards(b)


def add_standards(b: AccountBuilder) -> None:
    """Three of PagerDuty's service standards and each service's score against them."""
    standards = [
        ("PSTD001", "Service has a description", lambda svc: bool(svc["description"].strip())),
        ("PSTD002", "Service has an escalation policy with more than one level",
         lambda svc: b.levels_of(svc) > 1),
        ("PSTD003", "Service has an integration", lambda svc: bool(svc["integrations"])),
    ]
    for standard_id, name, _ in standards:
        b.account["standards"].append({"id": standard_id, "type": "technical_service_standard", "name": name,
                                       "description": name + ".", "active": True,
                                       "resource_type": "technical_service", "exclusions": [], "inclusions": []})
    for svc in b.account["services"]:
        results = [{"id": sid, "name": name, "type": "technical_service_standard", "active": True,
                    "description": name + ".", "pass": check(svc)} for sid, name, check in standards]
        b.account["standards_scores"].append({
            "resource_id": svc["id"], "resource_type": "technical_service",
            "score": {"passing": sum(r["pass"] for r in results), "total": len(results)},
            "standards": results})


def main() -> None:
    ACCOUNT_PATH.write_text(json.dumps(build_account(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {ACCOUNT_PATH}")


if __name__ == "__main__":
    main()
