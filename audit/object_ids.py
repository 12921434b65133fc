"""PagerDuty object ids given by a person (``--team``): what one looks like, checked before use.

Team, user, service, policy and schedule ids are short uppercase alphanumerics
(``PTEAM01``, ``P1ABC2D``; newer ones are longer, ``Q0RIJJZL24RC6W``). An id goes into a
URL path, so anything else (``PTEAM01?x=``, ``../abilities``) would silently ask another
question; it is refused with a one-line usage error instead. (The client also
percent-encodes every path segment, so an id never changes the path's shape.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from audit.errors import UserError

OBJECT_ID = re.compile(r"[A-Z0-9]{2,20}")


def check_object_ids(ids: Iterable[str], option: str) -> list[str]:
    """The ids, each checked; a malformed one is a usage error naming ``option``."""
    checked = []
    for object_id in ids:
        if not OBJECT_ID.fullmatch(object_id):
            shown = object_id if len(object_id) <= 40 else object_id[:40] + "..."
            raise UserError(f"{option}: {shown!r} is not a PagerDuty id (2 to 20 uppercase letters and digits, "
                            "such as PTEAM01)")
        checked.append(object_id)
    return checked


def parse_object_ids(text: str | None, option: str) -> list[str] | None:
    """A comma-separated list of ids (None when the option was not given)."""
    if text is None:
        return None
    ids = check_object_ids([part.strip() for part in text.split(",") if part.strip()], option)
    if not ids:
        raise UserError(f"{option}: name at least one id, such as PTEAM01")
    return list(dict.fromkeys(ids))
