"""The account a plan is applied to, held in memory as the raw API objects a snapshot holds.

:class:`Account` keeps each collection by key (an object's id; a team membership by team and
user) so a resource change can replace, merge into or remove one object. It starts from a
snapshot, or empty where there is none (a new setup: the collections Terraform describes are
complete and empty, the others unavailable, so rules needing them are excluded alike before
and after). :meth:`Account.as_snapshot` hands it to ``assess`` as a :class:`Snapshot` whose
collections are read from memory, and first derives what PagerDuty derives itself: a
service's teams are its escalation policy's teams, and a schedule's rendering over the window.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from audit.facts.raw import parse_window, ref_id, ref_ids
from audit.plan.schedules import with_rendering
from audit.snapshot import COLLECTIONS, FORMAT, FORMAT_VERSION, Snapshot

# The collections Terraform's PagerDuty resources describe (see audit.plan.mappers).
MODELLED = ("teams", "team_members", "users", "services", "escalation_policies", "schedules",
            "business_services", "service_dependencies", "extensions")
DEFAULT_WINDOW_DAYS = 28
NOT_IN_PLAN = "not described by a Terraform plan, and no snapshot was given"


@dataclasses.dataclass(frozen=True)
class MemorySnapshot(Snapshot):
    """A snapshot whose collections are lists in memory (a planned account)."""

    objects: Mapping[str, list[Any]] = dataclasses.field(default_factory=dict)

    def iter(self, name: str) -> Iterator[Any]:
        if self.available(name):
            yield from self.objects.get(name, ())


class Account:
    """Collections of raw API objects by key, changed in place by the resource mappers."""

    def __init__(self, manifest: dict[str, Any], collections: dict[str, dict[str, Any]], label: str):
        self.manifest = manifest
        self.collections = collections
        self.label = label
        self.to_render: dict[str, str] = {}  # schedule id -> resource address, rendered in as_snapshot

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot) -> Account:
        collections = {name: {_key(name, obj, n): obj for n, obj in enumerate(snapshot.iter(name))}
                       for name in COLLECTIONS}
        return cls(copy.deepcopy(snapshot.manifest), collections, str(snapshot.path))

    @classmethod
    def empty(cls, start: datetime, days: int = DEFAULT_WINDOW_DAYS) -> Account:
        """No objects; the window is ``days`` whole UTC days from ``start``'s day."""
        since = datetime(start.year, start.month, start.day, tzinfo=start.tzinfo)
        until = since + timedelta(days=days)
        status = {name: ({"status": "complete", "count": 0} if name in MODELLED
                         else {"status": "unavailable", "count": 0, "http_status": None, "reason": NOT_IN_PLAN})
                  for name in COLLECTIONS}
        manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "api_base": None, "subdomain": None,
                    "crawl_finished_at": None,
                    "window": {"since": since.isoformat(), "until": until.isoformat(), "days": days},
                    "collections": status}
        return cls(manifest, {name: {} for name in COLLECTIONS}, "the resources as the plan has them now (no snapshot)")

    def copy(self) -> Account:
        twin = Account(copy.deepcopy(self.manifest), copy.deepcopy(self.collections), self.label)
        twin.to_render = dict(self.to_render)
        return twin

    # -- what mappers use ---------------------------------------------------------------------
    def get(self, collection: str, key: str) -> dict[str, Any] | None:
        return self.collections[collection].get(key)

    def put(self, collection: str, key: str, obj: dict[str, Any]) -> None:
        self.collections[collection][key] = obj

    def remove(self, collection: str, key: str) -> None:
        self.collections[collection].pop(key, None)

    def objects(self, collection: str) -> list[dict[str, Any]]:
        return list(self.collections[collection].values())

    # -- as a snapshot ------------------------------------------------------------------------
    def as_snapshot(self) -> MemorySnapshot:
        """The account as a snapshot, with PagerDuty's derived fields filled in."""
        since, until = parse_window(self.manifest["window"])
        self._derive_service_teams()
        for schedule_id, address in self.to_render.items():
            schedule = self.get("schedules", schedule_id)
            if schedule is not None:
                self.put("schedules", schedule_id, with_rendering(schedule, since, until, address))
        self.to_render.clear()
        manifest = copy.deepcopy(self.manifest)
        for name, info in manifest["collections"].items():
            if info.get("status") == "complete":
                info["count"] = len(self.collections.get(name, {}))
        objects = {name: list(by_key.values()) for name, by_key in self.collections.items()}
        return MemorySnapshot(Path(self.label), manifest, objects)

    def _derive_service_teams(self) -> None:
        """A service belongs to its escalation policy's teams (PagerDuty derives them so)."""
        policies = self.collections["escalation_policies"]
        for service in self.collections["services"].values():
            policy = policies.get(ref_id(service.get("escalation_policy")) or "")
            if policy is not None:
                service["teams"] = [{"id": t, "type": "team_reference"} for t in ref_ids(policy.get("teams"))]


def _key(collection: str, obj: Any, number: int) -> str:
    """An object's key in its collection: its id; a membership by team and user; else its line."""
    if collection == "team_members" and isinstance(obj, dict):
        member = obj.get("member") if isinstance(obj.get("member"), dict) else {}
        return membership_key(str(obj.get("team_id")), str(ref_id(member.get("user"))))
    return ref_id(obj) or f"#{number}"


def membership_key(team_id: str, user_id: str) -> str:
    return f"{team_id}:{user_id}"
