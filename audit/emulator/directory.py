"""Endpoints for the account's directory: users, teams, services, policies and the rest.

Each handler takes the query arguments and path parameters and returns the JSON body (or
raises ``ApiFailure``). Lists are served from id lists that are filtered once per distinct
filter and cached, so paging through a 15,000-user account costs O(page) per request.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from werkzeug.datastructures import MultiDict

from audit.emulator.account import ESCALATION_TARGET_KINDS, Account
from audit.emulator.cache import LruCache
from audit.emulator.present import Presenter, schedule_user_ids
from audit.emulator.protocol import (
    bool_param,
    classic_page,
    include_param,
    invalid,
    list_param,
    not_found,
    paginate,
)
from audit.emulator.timeutil import parse_datetime

FILTER_CACHE_SIZE = 512
STANDARDS_RESOURCE_TYPES = {"technical_services": "technical_service"}


class FilteredIds:
    """Ordered id lists per (collection, teams, query, extra filter), computed once and cached."""

    def __init__(self, account: Account):
        self.account = account
        self.position = {c: {object_id: n for n, object_id in enumerate(objs)} for c, objs in account.objects.items()}
        self._cache: LruCache[list[str]] = LruCache(FILTER_CACHE_SIZE)

    def get(self, collection: str, team_ids: tuple[str, ...] = (), query: str = "",
            extra: tuple = (), keep: Callable[[dict], bool] | None = None) -> list[str]:
        """``extra`` must identify whatever ``keep`` filters on: it is part of the cache key."""
        return self._cache.get_or_compute((collection, team_ids, query, extra),
                                          lambda: self._compute(collection, team_ids, query.casefold(), keep))

    def _compute(self, collection: str, team_ids: tuple[str, ...], query: str, keep) -> list[str]:
        objects = self.account.objects[collection]
        if team_ids:
            by_team = self.account.ids_by_team.get(collection, {})
            chosen = {object_id for team_id in team_ids for object_id in by_team.get(team_id, [])}
            ids = sorted(chosen, key=self.position[collection].__getitem__)
        else:
            ids = list(objects)
        if query:
            ids = [i for i in ids if query in searchable(objects[i])]
        if keep is not None:
            ids = [i for i in ids if keep(objects[i])]
        return ids


def sort_descending(args: MultiDict) -> bool:
    """``sort_by`` of /services and /escalation_policies: name (default), name:asc or name:desc."""
    sort_by = args.get("sort_by", "name")
    if sort_by not in ("name", "name:asc", "name:desc"):
        raise invalid(f"sort_by must be name, name:asc or name:desc, not {sort_by!r}")
    return sort_by == "name:desc"


def searchable(obj: dict) -> str:
    """What ``query`` matches: a substring of the name (and of a user's e-mail), never the description."""
    return " ".join(str(obj.get(k, "")) for k in ("name", "email") if obj.get(k)).casefold()


class DirectoryEndpoints:
    def __init__(self, account: Account, presenter: Presenter, now: Callable[[], datetime]):
        self.account = account
        self.present = presenter
        self.now = now
        self.filtered = FilteredIds(account)

    def _object(self, collection: str, object_id: str) -> dict:
        obj = self.account.get(collection, object_id)
        if obj is None:
            raise not_found()
        return obj

    def _list(self, collection: str, wrapper: str, args: MultiDict, *, teams: bool = True,
              extra: tuple = (), keep: Callable[[dict], bool] | None = None, sortable: bool = False) -> dict:
        page = classic_page(args)
        team_ids = tuple(sorted(list_param(args, "team_ids"))) if teams else ()
        ids = self.filtered.get(collection, team_ids, args.get("query", ""), extra, keep)
        if sortable and sort_descending(args):
            ids = ids[::-1]
        includes = include_param(args)
        return paginate(wrapper, ids, page, lambda object_id: self.present.expand(collection, object_id, includes))

    # -- users ---------------------------------------------------------------------------------
    def users(self, args: MultiDict) -> dict:
        return self._list("users", "users", args)

    def user(self, args: MultiDict, id: str) -> dict:
        self._object("users", id)
        return {"user": self.present.expand("users", id, include_param(args))}

    def contact_methods(self, args: MultiDict, id: str) -> dict:
        user = self._object("users", id)
        return {"contact_methods": [self.present.contact_method(id, m) for m in user.get("contact_methods", [])]}

    def notification_rules(self, args: MultiDict, id: str) -> dict:
        user = self._object("users", id)
        urgency = args.get("urgency", "high")
        if urgency not in ("high", "low", "all"):
            raise invalid("urgency must be high, low or all")
        full_methods = "contact_methods" in include_param(args)
        return {"notification_rules": [
            self.present.notification_rule(id, rule, full_contact_method=full_methods)
            for rule in user.get("notification_rules", [])
            if urgency == "all" or rule.get("urgency", "high") == urgency
        ]}

    def handoff_rules(self, args: MultiDict, id: str) -> dict:
        user = self._object("users", id)
        # Not paginated at PagerDuty: the body is the wrapper key alone, every rule in it.
        rules = user.get("oncall_handoff_notification_rules") or []
        return {"oncall_handoff_notification_rules": [self.present.handoff_rule(id, rule) for rule in rules]}

    # -- teams ---------------------------------------------------------------------------------
    def teams(self, args: MultiDict) -> dict:
        return self._list("teams", "teams", args, teams=False)

    def team(self, args: MultiDict, id: str) -> dict:
        self._object("teams", id)
        return {"team": self.present.full("teams", id)}

    def team_members(self, args: MultiDict, id: str) -> dict:
        self._object("teams", id)
        page = classic_page(args)
        with_users = "users" in include_param(args)
        members = self.account.memberships_by_team.get(id, [])
        return paginate("members", members, page, lambda m: {
            "user": self.present.full("users", m["user_id"]) if with_users else self.present.ref("users", m["user_id"]),
            "role": m.get("role", "responder"),
        })

    # -- services and policies -----------------------------------------------------------------
    def services(self, args: MultiDict) -> dict:
        return self._list("services", "services", args, sortable=True)

    def service(self, args: MultiDict, id: str) -> dict:
        self._object("services", id)
        return {"service": self.present.expand("services", id, include_param(args))}

    def extensions(self, args: MultiDict) -> dict:
        """Outbound extensions (Slack v1, webhooks v1, ...): PagerDuty lists them here, not on services."""
        service_id = args.get("extension_object_id", "")
        schema_id = args.get("extension_schema_id", "")

        def keep(extension: dict) -> bool:
            return ((not service_id or any(s["id"] == service_id for s in extension["extension_objects"]))
                    and (not schema_id or extension["extension_schema"].get("id") == schema_id))

        return self._list("extensions", "extensions", args, teams=False, extra=(service_id, schema_id),
                          keep=keep if service_id or schema_id else None)

    def escalation_policies(self, args: MultiDict) -> dict:
        user_ids = frozenset(list_param(args, "user_ids"))
        keep = (lambda policy: bool(user_ids & self.policy_user_ids(policy))) if user_ids else None
        return self._list("escalation_policies", "escalation_policies", args, extra=tuple(sorted(user_ids)), keep=keep,
                          sortable=True)

    def escalation_policy(self, args: MultiDict, id: str) -> dict:
        self._object("escalation_policies", id)
        return {"escalation_policy": self.present.expand("escalation_policies", id, include_param(args))}

    def policy_user_ids(self, policy: dict) -> set[str]:
        """Users a policy can reach: direct targets and the people on its v2 schedules' layers."""
        users: set[str] = set()
        for rule in policy.get("escalation_rules", []):
            for target in rule.get("targets", []):
                kind = ESCALATION_TARGET_KINDS[target["type"]]
                if kind == "users":
                    users.add(target["id"])
                elif kind == "schedules":
                    users.update(schedule_user_ids(self.account.get("schedules", target["id"])))
        return users

    # -- business services and dependencies ----------------------------------------------------
    def business_services(self, args: MultiDict) -> dict:
        return self._list("business_services", "business_services", args, teams=False)

    def business_service(self, args: MultiDict, id: str) -> dict:
        self._object("business_services", id)
        return {"business_service": self.present.full("business_services", id)}

    def technical_service_dependencies(self, args: MultiDict, id: str) -> dict:
        self._object("services", id)
        return self._relationships(id)

    def business_service_dependencies(self, args: MultiDict, id: str) -> dict:
        self._object("business_services", id)
        return self._relationships(id)

    def _relationships(self, service_id: str) -> dict:
        return {"relationships": [
            {"supporting_service": self.present.dependency_end(d["supporting_service"]),
             "dependent_service": self.present.dependency_end(d["dependent_service"]),
             "id": d["id"], "type": "service_dependency"}
            for d in self.account.dependencies_by_service.get(service_id, [])
        ]}

    # -- standards, abilities, priorities, maintenance windows ---------------------------------
    def standards(self, args: MultiDict) -> dict:
        standards = self.account.all("standards")
        if args.get("active") is not None:
            active = bool_param(args, "active")
            standards = [s for s in standards if bool(s.get("active", True)) == active]
        if args.get("resource_type"):
            standards = [s for s in standards if s.get("resource_type") == args["resource_type"]]
        return {"standards": standards}

    def _resource_type(self, resource_type: str) -> None:
        if resource_type not in STANDARDS_RESOURCE_TYPES:
            raise invalid(f"resource_type must be one of {', '.join(STANDARDS_RESOURCE_TYPES)}")

    def standards_scores(self, args: MultiDict, resource_type: str) -> dict:
        self._resource_type(resource_type)
        ids = list_param(args, "ids")
        if not ids:
            raise invalid("ids[] is required")
        if len(ids) > 100:
            raise invalid("at most 100 ids[] per request")
        return {"resources": [self.account.scores_by_service[i] for i in ids if i in self.account.scores_by_service]}

    def standards_score(self, args: MultiDict, resource_type: str, id: str) -> dict:
        self._resource_type(resource_type)
        self._object("services", id)
        return self.account.scores_by_service.get(id) or {
            "resource_id": id, "resource_type": STANDARDS_RESOURCE_TYPES[resource_type],
            "score": {"passing": 0, "total": 0}, "standards": [],
        }

    def abilities(self, args: MultiDict) -> dict:
        return {"abilities": list(self.account.abilities)}

    def priorities(self, args: MultiDict) -> dict:
        return self._list("priorities", "priorities", args, teams=False)

    def maintenance_windows(self, args: MultiDict) -> dict:
        state = args.get("filter", "all")
        if state not in ("past", "future", "ongoing", "open", "all"):
            raise invalid("filter must be past, future, ongoing, open or all")
        service_ids = frozenset(list_param(args, "service_ids"))
        team_ids = frozenset(list_param(args, "team_ids"))
        now = self.now()

        def keep(window: dict) -> bool:
            services = {s["id"] for s in window.get("services", [])}
            if service_ids and not services & service_ids:
                return False
            if team_ids and not {t["id"] for t in self.present.full("maintenance_windows", window["id"])["teams"]} & team_ids:
                return False
            return window_state_matches(window, state, now)

        # The state depends on "now", so the cache key carries it (to the second).
        extra = (state, tuple(sorted(service_ids)), tuple(sorted(team_ids)), int(now.timestamp()))
        return self._list("maintenance_windows", "maintenance_windows", args, teams=False, extra=extra, keep=keep)


def window_state_matches(window: dict, state: str, now: datetime) -> bool:
    start, end = parse_datetime(window["start_time"]), parse_datetime(window["end_time"])
    return {
        "all": True,
        "past": end <= now,
        "future": start > now,
        "ongoing": start <= now < end,
        "open": end > now,
    }[state]
