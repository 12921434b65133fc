"""Which PagerDuty account a crawl reads, and the check that a resumed crawl reads the same one.

A snapshot must hold one account. ``crawl --resume`` with another ``--api-url``, region or
token would otherwise finish account A's half-done crawl with account B's objects under
B's name. The journal records the API base at the start and the account's subdomain as
soon as an answer reveals it; a resume is refused (usage error, exit 2) when either differs.

PagerDuty has no endpoint that names the account for every kind of key (``/users/me`` is
for user tokens only), but every object's ``html_url`` is a page of the account's web app,
``https://<subdomain>.pagerduty.com/...`` (``.eu.pagerduty.com`` in the EU). A resumed run
learns the subdomain from the first user of ``GET /users?limit=1`` (every account has its
owner) just before its first request for data, so a resume with nothing left to fetch asks
nothing at all.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from audit.client import Unavailable
from audit.errors import UserError

WEB_APP = re.compile(r"^https://([a-z0-9][a-z0-9-]*)\.(?:eu\.)?pagerduty\.com(?:/|$)", re.IGNORECASE)
API_BASE = "api_base"  # journal state keys
SUBDOMAIN = "subdomain"


def subdomain_in(body: Any) -> str | None:
    """The account subdomain named by the first ``html_url`` of an answer's objects, if any."""
    if not isinstance(body, dict):
        return None
    for value in body.values():
        for obj in value[:5] if isinstance(value, list) else [value]:
            if isinstance(obj, dict) and isinstance(obj.get("html_url"), str):
                match = WEB_APP.match(obj["html_url"])
                if match:
                    return match.group(1).lower()
    return None


def check_api_base(journalled: dict[str, Any], base_url: str) -> None:
    """Refuse to resume a crawl of another API base (region or ``--api-url``)."""
    recorded = journalled.get(API_BASE)
    if recorded is not None and recorded != base_url:
        raise UserError(f"--resume: the interrupted crawl read {recorded}, not {base_url}; resume it with the same "
                        "--region or --api-url, or crawl into another snapshot folder")


class AccountCheck:
    """Learns the account's subdomain from answers; on a resume, confirms it before fetching anything."""

    def __init__(self, client: Any, journalled: dict[str, Any], resuming: bool):
        self.client = client
        self.subdomain: str | None = journalled.get(SUBDOMAIN)
        self._confirm = resuming and self.subdomain is not None
        self._lock = threading.Lock()

    def confirm(self) -> None:
        """Before a resumed run's first request for data: the API must serve the journalled account."""
        if not self._confirm:
            return
        with self._lock:
            if not self._confirm:
                return
            try:
                found = subdomain_in(self.client.get("/users", {"limit": 1}))
            except Unavailable:  # a token that may not list users: the API base check is all there is
                found = None
            if found is not None and found != self.subdomain:
                raise UserError(f"--resume: the interrupted crawl read the account {self.subdomain!r}, but this "
                                f"token reads {found!r}; resume with the first account's token, or crawl into "
                                "another snapshot folder")
            self._confirm = False

    def observe(self, body: Any) -> dict[str, str] | None:
        """Journal state to record the first time an answer reveals the subdomain (call under the crawl lock)."""
        if self.subdomain is not None:
            return None
        self.subdomain = subdomain_in(body)
        return {SUBDOMAIN: self.subdomain} if self.subdomain else None
