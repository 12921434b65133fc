"""The naive baseline crawler the crawl benchmark measures pd-audit against.

What a first script against PagerDuty's API looks like: ``pagerduty.RestApiV2Client`` as it
comes (its own retry loop, which retries 429 for ever), one ``iter_all`` per collection and one
request per object where the API has no list (schedule details, team members, service
dependencies, hand-off rules), one request at a time. It reads the same collections as
pd-audit's crawl. ``iter_all`` stops at the 10,000-record pagination cap with nothing but a
warning, so on a large account this crawler silently misses objects: the benchmark counts them.

At full scale it runs for many minutes, so ``sample`` can limit every per-object loop to its
first N objects; the lists are always read whole (they decide how many objects each loop has),
and the skipped part of each loop is extrapolated from the time and requests per object of the
part that ran. ``NaiveResult.sampled`` says when figures are estimates.
"""

from __future__ import annotations

import ssl
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pagerduty

USER_INCLUDES = ["contact_methods", "notification_rules", "teams"]
SCORES_BATCH = 100  # /standards/scores takes at most 100 ids


@dataclass
class LoopFigures:
    """One per-object loop: how many objects it had, how many it visited, at what cost."""

    name: str
    objects: int
    visited: int = 0
    requests: int = 0
    seconds: float = 0.0

    @property
    def skipped(self) -> int:
        return self.objects - self.visited

    @property
    def estimated_requests(self) -> float:
        if not self.skipped:
            return float(self.requests)
        return self.requests + self.skipped * self.requests / max(self.visited, 1)

    @property
    def estimated_seconds(self) -> float:
        if not self.skipped:
            return self.seconds
        return self.seconds + self.skipped * self.seconds / max(self.visited, 1)


@dataclass
class NaiveResult:
    """What the naive crawl fetched and what it cost (measured, plus estimates when sampled)."""

    ids: dict[str, list[str]] = field(default_factory=dict)  # as fetched, duplicates kept (see _details)
    requests: int = 0  # HTTP answers received, 429s included
    throttled: int = 0
    seconds: float = 0.0
    loops: list[LoopFigures] = field(default_factory=list)
    cap_warnings: list[str] = field(default_factory=list)

    @property
    def sampled(self) -> bool:
        return any(loop.skipped for loop in self.loops)

    @property
    def estimated_requests(self) -> int:
        return round(self.requests + sum(loop.estimated_requests - loop.requests for loop in self.loops))

    @property
    def estimated_seconds(self) -> float:
        return self.seconds + sum(loop.estimated_seconds - loop.seconds for loop in self.loops)


class _AnswerCounter:
    """An httpx2 response hook: counts every answer the library receives, retries included."""

    def __init__(self) -> None:
        self.answers = 0
        self.throttled = 0

    def __call__(self, response: httpx2.Response) -> None:
        self.answers += 1
        if response.status_code == 429:
            self.throttled += 1


class NaiveCrawler:
    """Reads an account the straightforward way; see the module docstring."""

    def __init__(self, token: str, base_url: str, ca_path: str, window_params: dict[str, str], *,
                 skip: Iterable[str] = (), sample: int | None = None):
        self.counter = _AnswerCounter()
        self.client = pagerduty.RestApiV2Client(
            token, base_url=base_url, verify=ssl.create_default_context(cafile=ca_path),
            event_hooks={"response": [self.counter]})
        self.window_params = window_params
        self.skip = set(skip)
        self.sample = sample
        self.result = NaiveResult()

    def close(self) -> None:
        self.client.close()

    def run(self) -> NaiveResult:
        started = time.monotonic()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self._crawl()
        self.result.cap_warnings = [str(w.message) for w in caught if "Stopping iter_all" in str(w.message)]
        self.result.seconds = time.monotonic() - started
        self.result.requests = self.counter.answers
        self.result.throttled = self.counter.throttled
        return self.result

    def _crawl(self) -> None:
        self.client.jget("/abilities")
        teams = self._list("teams", "/teams")
        self._per_object("team_members", [t["id"] for t in teams],
                         lambda team_id: list(self.client.iter_all(f"/teams/{team_id}/members")))
        self._list("users", "/users", {"include[]": USER_INCLUDES})
        services = self._list("services", "/services", {"include[]": ["integrations"]})
        self._list("escalation_policies", "/escalation_policies")
        self._details("schedules", "/schedules", {})
        self._details("schedules_v3", "/v3/schedules", {"include[]": "final_schedule"})
        oncalls = [] if "oncalls" in self.skip else self._list("oncalls", "/oncalls", self.window_params)
        if "handoff_rules" not in self.skip:
            on_call = sorted({(o.get("user") or {}).get("id") for o in oncalls} - {None})
            self._per_object("handoff_rules", on_call, lambda user_id: self.client.jget(
                f"/users/{user_id}/oncall_handoff_notification_rules"))
        business = [] if "business_services" in self.skip else self._list("business_services", "/business_services")
        if "service_dependencies" not in self.skip:
            kinds = [("business_services", b["id"]) for b in business]
            kinds += [("technical_services", s["id"]) for s in services]
            self._per_object("service_dependencies", kinds, lambda kind_id: self.client.jget(
                f"/service_dependencies/{kind_id[0]}/{kind_id[1]}"))
        if "standards" not in self.skip:
            self.client.jget("/standards")
        if "standards_scores" not in self.skip:
            service_ids = [s["id"] for s in services]
            batches = [service_ids[i : i + SCORES_BATCH] for i in range(0, len(service_ids), SCORES_BATCH)]
            self._per_object("standards_scores", batches, lambda ids: self.client.jget(
                "/standards/scores/technical_services", params={"ids[]": ids}))

    def _list(self, collection: str, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        objects = list(self.client.iter_all(path, params=params))
        self.result.ids[collection] = [str(o.get("id")) for o in objects]
        return objects

    def _details(self, collection: str, path: str, extra: dict[str, Any]) -> None:
        """List a schedule collection for its ids, then one request per schedule for its detail."""
        listed = [s["id"] for s in self.client.iter_all(path)]
        params = {**self.window_params, **extra}
        details = self._per_object(collection, listed, lambda schedule_id: self.client.jget(
            f"{path}/{schedule_id}", params=params))
        # A loop cut short by ``sample`` stands for its whole list: count the ids listed instead.
        fetched = [d["schedule"]["id"] for d in details]
        self.result.ids[collection] = fetched if len(details) == len(listed) else listed

    def _per_object(self, name: str, items: list[Any], fetch: Callable[[Any], Any]) -> list[Any]:
        loop = LoopFigures(name, objects=len(items))
        self.result.loops.append(loop)
        answers_before = self.counter.answers
        started = time.monotonic()
        results = [fetch(item) for item in items[: self.sample]]
        loop.seconds = time.monotonic() - started
        loop.requests = self.counter.answers - answers_before
        loop.visited = len(results)
        return results


def naive_crawl(token: str, base_url: str, ca_path: str, window_params: dict[str, str], *,
                skip: Iterable[str] = (), sample: int | None = None) -> NaiveResult:
    """Crawl serially with the library as it comes; ``sample`` caps each per-object loop."""
    crawler = NaiveCrawler(token, base_url, ca_path, window_params, skip=skip, sample=sample)
    try:
        return crawler.run()
    finally:
        crawler.close()
