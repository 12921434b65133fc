"""How account objects look on the wire: references, full objects and ``include[]`` expansion.

The account file stores objects with bare references (``{"id", "type"}``); the API answers
with ``summary``, ``self`` and ``html_url`` on every object and reference, and with the
fields PagerDuty derives (a user's ``teams``, a policy's ``services``, a schedule's ``users``
and ``escalation_policies``). A ``Presenter`` builds those once per object and caches them:
the cached dicts are shared between responses and must never be mutated; expansion makes
shallow copies.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from audit.emulator.account import DEPENDENCY_KINDS, ESCALATION_TARGET_KINDS, Account

DEFAULT_API_URL = "https://api.pagerduty.com"


@dataclass(frozen=True)
class Kind:
    type: str
    api_path: str
    html_path: str | None  # None: PagerDuty gives these objects no web page (html_url null)
    summary_key: str = "name"


KINDS = {
    "users": Kind("user", "/users", "/users"),
    "teams": Kind("team", "/teams", "/teams"),
    "services": Kind("service", "/services", "/service-directory"),
    "escalation_policies": Kind("escalation_policy", "/escalation_policies", "/escalation_policies"),
    "schedules": Kind("schedule", "/schedules", "/schedules"),
    "schedules_v3": Kind("schedule_v3", "/v3/schedules", "/schedules"),
    "business_services": Kind("business_service", "/business_services", None),
    "priorities": Kind("priority", "/priorities", None),
    "extensions": Kind("extension", "/extensions", None),
    "maintenance_windows": Kind("maintenance_window", "/maintenance_windows", "/service-directory/maintenance-windows", "description"),
}
# Fields the account file carries that the API never returns as-is (rebuilt or internal).
SCHEDULE_LIST_OMITS = ("schedule_layers", "final_schedule", "overrides_subschedule")


class Presenter:
    """Builds the API's view of one account's objects (cached; results are read-only)."""

    def __init__(self, account: Account, api_url: str = DEFAULT_API_URL):
        self.account = account
        self.api_url = api_url.rstrip("/")
        self.web_url = f"https://{account.subdomain}.pagerduty.com"
        # Filled lazily from server threads without a lock: a race only builds an equal dict twice.
        self._refs: dict[tuple[str, str], dict] = {}
        self._full: dict[tuple[str, str], dict] = {}

    # -- references --------------------------------------------------------------------------
    def links(self, collection: str, object_id: str) -> dict:
        kind = KINDS[collection]
        obj = self.account.get(collection, object_id) or {}
        return {
            "summary": obj.get(kind.summary_key) or obj.get("summary") or object_id,
            "self": f"{self.api_url}{kind.api_path}/{object_id}",
            "html_url": f"{self.web_url}{kind.html_path}/{object_id}" if kind.html_path else None,
        }

    def ref(self, collection: str, object_id: str) -> dict:
        key = (collection, object_id)
        cached = self._refs.get(key)
        if cached is None:
            cached = {"id": object_id, "type": f"{KINDS[collection].type}_reference", **self.links(collection, object_id)}
            self._refs[key] = cached
        return cached

    def refs(self, collection: str, ids: Iterable[str]) -> list[dict]:
        return [self.ref(collection, object_id) for object_id in ids]

    def target_ref(self, target: dict) -> dict:
        collection = ESCALATION_TARGET_KINDS.get(target["type"])
        if collection is None:  # a target type the emulator does not know: served as the file has it
            return {"summary": target["id"], "self": None, "html_url": None, **target}
        return self.ref(collection, target["id"])

    def target_full(self, target: dict) -> dict:
        """The full target object, or its reference when the account lacks it (deleted or unknown).

        Shift-based (v3) schedules stay references: the v2 API's target types are ``user``,
        ``schedule`` and the references (``schedule_v3_reference`` among them), no full v3 object.
        """
        collection = ESCALATION_TARGET_KINDS.get(target["type"])
        if collection in (None, "schedules_v3") or self.account.get(collection, target["id"]) is None:
            return self.target_ref(target)
        return self.full(collection, target["id"])

    # -- full objects ------------------------------------------------------------------------
    def full(self, collection: str, object_id: str) -> dict:
        key = (collection, object_id)
        cached = self._full.get(key)
        if cached is None:
            obj = self.account.get(collection, object_id)
            builder = getattr(self, f"_build_{collection}", None)
            cached = builder(obj) if builder else {**obj, **self.links(collection, object_id)}
            self._full[key] = cached
        return cached

    def _base(self, collection: str, obj: dict, omit: Iterable[str] = ()) -> dict:
        skipped = set(omit)
        body = {k: v for k, v in obj.items() if k not in skipped}
        body["type"] = KINDS[collection].type
        body.update(self.links(collection, obj["id"]))
        return body

    def _team_refs(self, collection: str, obj: dict) -> list[dict]:
        return self.refs("teams", self.account.team_ids_of(collection, obj))

    def _build_users(self, user: dict) -> dict:
        # Hand-off rules are not part of PagerDuty's user object: they are served
        # at /users/{id}/oncall_handoff_notification_rules.
        body = self._base("users", user, omit=("oncall_handoff_notification_rules",))
        body["contact_methods"] = [self.contact_method_ref(user["id"], m) for m in user.get("contact_methods", [])]
        body["notification_rules"] = [self.notification_rule_ref(user["id"], r) for r in user.get("notification_rules", [])]
        body["teams"] = self._team_refs("users", user)
        return body

    def _build_services(self, service: dict) -> dict:
        # Extensions are not part of PagerDuty's service object: they are served at /extensions.
        body = self._base("services", service, omit=("extensions",))
        body["escalation_policy"] = self.ref("escalation_policies", service["escalation_policy"]["id"])
        body["teams"] = self._team_refs("services", service)
        body["integrations"] = [self.integration(service["id"], i, full=False) for i in service.get("integrations", [])]
        return body

    def _build_escalation_policies(self, policy: dict) -> dict:
        body = self._base("escalation_policies", policy)
        body["services"] = self.refs("services", self.account.service_ids_by_policy.get(policy["id"], []))
        body["teams"] = self._team_refs("escalation_policies", policy)
        body["escalation_rules"] = [
            {**rule, "targets": [self.target_ref(t) for t in rule.get("targets", [])]}
            for rule in self.account.escalation_rules_as_served(policy)
        ]
        return body

    def _build_schedules(self, schedule: dict) -> dict:
        """The schedule as the list endpoint shows it: no layers, no rendering."""
        body = self._base("schedules", schedule, omit=SCHEDULE_LIST_OMITS)
        body["escalation_policies"] = self.refs("escalation_policies", self.account.policy_ids_by_schedule.get(schedule["id"], []))
        body["users"] = self.refs("users", schedule_user_ids(schedule))
        body["teams"] = self._team_refs("schedules", schedule)
        return body

    def _build_schedules_v3(self, schedule: dict) -> dict:
        body = self._base("schedules_v3", schedule, omit=("final_schedule",))
        body["escalation_policies"] = self.refs("escalation_policies", self.account.policy_ids_by_schedule.get(schedule["id"], []))
        body["teams"] = self._team_refs("schedules_v3", schedule)
        body["rotations"] = [
            {**rotation, "type": "schedule_rotation",
             "events": [{**event, "type": "schedule_event"} for event in rotation.get("events", [])]}
            for rotation in schedule.get("rotations", [])
        ]
        return body

    def _build_business_services(self, business_service: dict) -> dict:
        body = self._base("business_services", business_service)
        team = business_service.get("team")
        if team:
            body["team"] = {"id": team["id"], "type": "team_reference", "self": f"{self.api_url}/teams/{team['id']}"}
        else:
            body.setdefault("team", None)
        return body

    def _build_extensions(self, extension: dict) -> dict:
        body = self._base("extensions", extension)
        schema = extension["extension_schema"]
        body["extension_schema"] = {"type": "extension_schema_reference", **schema,
                                    "self": f"{self.api_url}/extension_schemas/{schema['id']}"}
        body["extension_objects"] = self.refs("services", [s["id"] for s in extension["extension_objects"]])
        return body

    def _build_maintenance_windows(self, window: dict) -> dict:
        body = self._base("maintenance_windows", window)
        body["services"] = self.refs("services", [s["id"] for s in window.get("services", [])])
        services = [self.account.get("services", s["id"]) for s in window.get("services", [])]
        body["teams"] = self.refs("teams", dict.fromkeys(t for s in services for t in self.account.team_ids_of("services", s)))
        if window.get("created_by"):
            body["created_by"] = self.ref("users", window["created_by"]["id"])
        return body

    # -- objects that live under a user or a service ----------------------------------------
    def contact_method_ref(self, user_id: str, method: dict) -> dict:
        return {
            "id": method["id"], "type": f"{method['type']}_reference", "summary": method.get("label", method["id"]),
            "self": f"{self.api_url}/users/{user_id}/contact_methods/{method['id']}", "html_url": None,
        }

    def contact_method(self, user_id: str, method: dict) -> dict:
        return {**method, "summary": method.get("label", method["id"]),
                "self": f"{self.api_url}/users/{user_id}/contact_methods/{method['id']}", "html_url": None}

    def notification_rule_ref(self, user_id: str, rule: dict) -> dict:
        return {
            "id": rule["id"], "type": f"{rule.get('type', 'assignment_notification_rule')}_reference",
            "summary": rule_summary(rule), "self": f"{self.api_url}/users/{user_id}/notification_rules/{rule['id']}",
            "html_url": None,
        }

    def notification_rule(self, user_id: str, rule: dict, *, full_contact_method: bool = False) -> dict:
        methods = {m["id"]: m for m in self.account.get("users", user_id).get("contact_methods", [])}
        method = methods[rule["contact_method"]["id"]]
        return {
            **rule, "type": rule.get("type", "assignment_notification_rule"), "summary": rule_summary(rule),
            "self": f"{self.api_url}/users/{user_id}/notification_rules/{rule['id']}", "html_url": None,
            "contact_method": self.contact_method(user_id, method) if full_contact_method else self.contact_method_ref(user_id, method),
        }

    def handoff_rule(self, user_id: str, rule: dict) -> dict:
        methods = {m["id"]: m for m in self.account.get("users", user_id).get("contact_methods", [])}
        return {
            **rule, "type": "oncall_handoff_notification_rule",
            "self": f"{self.api_url}/users/{user_id}/oncall_handoff_notification_rules/{rule['id']}",
            "contact_method": self.contact_method_ref(user_id, methods[rule["contact_method"]["id"]]),
        }

    def integration(self, service_id: str, integration: dict, *, full: bool) -> dict:
        links = {
            "summary": integration.get("name", integration["id"]),
            "self": f"{self.api_url}/services/{service_id}/integrations/{integration['id']}",
            "html_url": f"{self.web_url}/services/{service_id}/integrations/{integration['id']}",
        }
        if full:
            return {**integration, **links, "service": self.ref("services", service_id)}
        kind = integration["type"] if integration["type"].endswith("_reference") else f"{integration['type']}_reference"
        return {"id": integration["id"], "type": kind, **links}

    def dependency_end(self, reference: dict) -> dict:
        collection = DEPENDENCY_KINDS[reference["type"]]
        kind = "technical_service_reference" if collection == "services" else "business_service_reference"
        return {"id": reference["id"], "type": kind}

    # -- include[] ---------------------------------------------------------------------------
    # Over the complexity limit (one branch per include= value); split it when next changed.
    def expand(self, collection: str, object_id: str, includes: frozenset[str]) -> dict:  # noqa: C901
        """The full object with the ``include[]`` parts the API offers for it swapped in."""
        body = self.full(collection, object_id)
        if not includes:
            return body
        body = dict(body)
        obj = self.account.get(collection, object_id)
        if collection == "users":
            if "contact_methods" in includes:
                body["contact_methods"] = [self.contact_method(object_id, m) for m in obj.get("contact_methods", [])]
            if "notification_rules" in includes:
                body["notification_rules"] = [self.notification_rule(object_id, r) for r in obj.get("notification_rules", [])]
            if "teams" in includes:
                body["teams"] = [self.full("teams", r["id"]) for r in body["teams"]]
        elif collection == "services":
            if "escalation_policies" in includes:
                body["escalation_policy"] = self.full("escalation_policies", obj["escalation_policy"]["id"])
            if "teams" in includes:
                body["teams"] = [self.full("teams", r["id"]) for r in body["teams"]]
            if "integrations" in includes:
                body["integrations"] = [self.integration(object_id, i, full=True) for i in obj.get("integrations", [])]
        elif collection == "extensions":
            if "extension_objects" in includes:
                body["extension_objects"] = [self.full("services", r["id"]) for r in body["extension_objects"]]
        elif collection == "escalation_policies":
            if "services" in includes:
                body["services"] = [self.full("services", r["id"]) for r in body["services"]]
            if "teams" in includes:
                body["teams"] = [self.full("teams", r["id"]) for r in body["teams"]]
            if "targets" in includes:
                body["escalation_rules"] = [
                    {**rule, "targets": [self.target_full(t) for t in raw.get("targets", [])]}
                    for rule, raw in zip(body["escalation_rules"], self.account.escalation_rules_as_served(obj))
                ]
        return body


def rule_summary(rule: dict) -> str:
    return f"{rule.get('start_delay_in_minutes', 0)} minutes: channel {rule['contact_method']['id']}"


def schedule_user_ids(schedule: dict) -> list[str]:
    """Distinct users on any layer of a v2 schedule, first appearance first."""
    return list(dict.fromkeys(m["user"]["id"] for layer in schedule.get("schedule_layers", []) for m in layer.get("users") or []))
