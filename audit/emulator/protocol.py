"""PagerDuty's wire conventions: error bodies, query parameters and classic pagination.

Errors are raised as ``ApiFailure`` anywhere in a handler and turned into PagerDuty's error
shape, ``{"error": {"message", "code", "errors"?}}``, by the app. The codes and messages are
PagerDuty's where they are documented or widely reported (2001 invalid input, 2002 the
10,000-record cap, 2006 authentication failed, 2014 a feature the account's plan lacks, 2020
rate limit, 2100 not found; 2012 would say the whole account expired, which a missing ability
is not).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from werkzeug.datastructures import MultiDict

from audit.emulator.timeutil import BadTime, parse_datetime

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_RECORDS = 10_000  # offset + limit may not exceed this
OFFSET_CAP_MESSAGE = (
    "Offset+limit exceeds maximum allowed value of 10000. Please try to refine your search to reduce "
    "the returned set of records below this number, like adding a date range."
)


class ApiFailure(Exception):
    """An error answer: HTTP status plus PagerDuty's error code, message and details."""

    def __init__(self, status: int, code: int, message: str, errors: Sequence[str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = list(errors) if errors else None

    def body(self) -> dict:
        error: dict = {"message": self.message, "code": self.code}
        if self.errors:
            error["errors"] = self.errors
        return {"error": error}


def invalid(*errors: str) -> ApiFailure:
    return ApiFailure(400, 2001, "Invalid Input Provided", errors)


def not_found() -> ApiFailure:
    return ApiFailure(404, 2100, "Not Found")


def unauthorized() -> ApiFailure:
    return ApiFailure(401, 2006, "Authentication failed")


def payment_required(ability: str) -> ApiFailure:
    return ApiFailure(402, 2014, "Payment Required", [f"The account does not have the '{ability}' ability."])


def rate_limited() -> ApiFailure:
    return ApiFailure(429, 2020, "Rate Limit Exceeded")


def list_param(args: MultiDict, name: str) -> list[str]:
    """A repeated array parameter: ``ids[]=a&ids[]=b`` (also accepts ``ids=a,b``)."""
    values = args.getlist(f"{name}[]") or [v for raw in args.getlist(name) for v in raw.split(",")]
    return [v for v in values if v]


def include_param(args: MultiDict) -> frozenset[str]:
    return frozenset(list_param(args, "include"))


def bool_param(args: MultiDict, name: str, default: bool = False) -> bool:
    value = args.get(name)
    if value is None:
        return default
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise invalid(f"{name} must be true or false")


def int_param(args: MultiDict, name: str, default: int) -> int:
    value = args.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise invalid(f"{name} must be an integer") from None


def time_param(args: MultiDict, name: str) -> datetime | None:
    value = args.get(name)
    if value is None or value == "":
        return None
    try:
        return parse_datetime(value)
    except BadTime:
        raise invalid(f"{name} is not a valid ISO 8601 timestamp") from None


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int
    want_total: bool


def classic_page(args: MultiDict) -> Page:
    """Read limit/offset/total; a limit over 100 is lowered to 100, as PagerDuty does."""
    limit = int_param(args, "limit", DEFAULT_LIMIT)
    offset = int_param(args, "offset", 0)
    if limit < 1 or offset < 0:
        raise invalid("limit must be positive and offset not negative")
    limit = min(limit, MAX_LIMIT)
    if offset + limit > MAX_RECORDS:
        raise ApiFailure(400, 2002, "Arguments Caused Error", [OFFSET_CAP_MESSAGE])
    return Page(offset, limit, bool_param(args, "total"))


def paginate(wrapper: str, items: Sequence, page: Page, render=lambda item: item) -> dict:
    """A classic paginated body; only the page's items are rendered (O(page), not O(collection))."""
    window = items[page.offset: page.offset + page.limit]
    return {
        wrapper: [render(item) for item in window],
        "limit": page.limit,
        "offset": page.offset,
        "more": page.offset + page.limit < len(items),
        "total": len(items) if page.want_total else None,
    }
