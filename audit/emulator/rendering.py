"""Rendered schedules for one account, cached per (schedule, since, until).

The crawler asks for each schedule once per window and /oncalls asks for every schedule a
policy targets, so both go through this cache instead of re-rendering.
"""

from __future__ import annotations

from datetime import datetime

from audit.emulator.account import Account
from audit.emulator.cache import LruCache
from audit.emulator.render_v2 import RenderedSchedule, render_schedule
from audit.emulator.render_v3 import RenderedV3, render_v3

CACHE_SIZE = 4096


class ScheduleRenderings:
    def __init__(self, account: Account, cache_size: int = CACHE_SIZE):
        self.account = account
        self._cache: LruCache[RenderedSchedule | RenderedV3] = LruCache(cache_size)

    def v2(self, schedule_id: str, since: datetime, until: datetime) -> RenderedSchedule:
        return self._cache.get_or_compute(("v2", schedule_id, since, until), lambda: render_schedule(
            self.account.get("schedules", schedule_id),
            self.account.overrides_by_schedule.get(schedule_id, []), since, until))

    def v3(self, schedule_id: str, since: datetime, until: datetime) -> RenderedV3:
        return self._cache.get_or_compute(("v3", schedule_id, since, until), lambda: render_v3(
            self.account.get("schedules_v3", schedule_id),
            self.account.overrides_by_schedule.get(schedule_id, []), since, until))
