"""Reading a classic list whole, past PagerDuty's 10,000-record pagination cap.

One list (``ListSpec``) is paged as units of the crawler (``Crawler.page``): a list whose
``total`` fits is read side by side; a sortable one up to twice the cap from both ends of the
name order; past that it is partitioned by ``team_ids[]`` (batches of teams, split in half until
each fits), and what belongs to no team is swept from the unfiltered list until the count
matches ``total``. Users still missing are fetched by id where another collection names them,
then found by ``query`` (``audit.crawl_queries``), else marked ``incomplete``; any other list
that cannot be proven whole fails the crawl (exit 3).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from audit.crawl_queries import find_by_query
from audit.crawl_specs import CAP, PAGE, TEAM_BATCH, ListSpec, batch_label, in_batches, multi
from audit.errors import CrawlError
from audit.snapshot import CollectionStatus

if TYPE_CHECKING:
    from audit.crawl import Crawler


def sweep(crawler: Crawler, spec: ListSpec, extra: tuple[tuple[str, Any], ...], label: str, *,
          keep: bool = True, over_cap_pages: bool = False, reach: int | None = None,
          enough: Callable[[], bool] = lambda: False) -> tuple[int | None, bool, list[str]]:
    """Page through one (filtered) list.

    Returns (total, complete, ids): complete means every object of this query
    was reached. A query whose total is over the cap returns after its first
    page unless ``reach`` asks for its first ``reach`` objects (fetched side by
    side) or ``over_cap_pages`` for pages one by one until ``enough``.
    """
    first = crawler.page(spec, extra, label, 0, keep=keep)
    total = first.get("total")
    memos = [first]
    if not first["more"]:
        return total, True, _ids(memos)
    if total is not None and reach is not None and total > CAP:
        offsets = range(PAGE, math.ceil(min(reach, CAP) / PAGE) * PAGE, PAGE)
        memos += crawler.map(lambda off: crawler.page(spec, extra, label, off, keep=keep), offsets)
        return total, False, _ids(memos)
    if total is not None and total <= CAP:
        offsets = range(PAGE, math.ceil(total / PAGE) * PAGE, PAGE)
        memos += crawler.map(lambda off: crawler.page(spec, extra, label, off, keep=keep), offsets)
        offset = max([0, *offsets]) + PAGE
        # The list grew while we paged: follow `more` to the end.
        while memos[-1]["more"] and offset + PAGE <= CAP:
            memos.append(crawler.page(spec, extra, label, offset, keep=keep))
            offset += PAGE
        return total, not memos[-1]["more"], _ids(memos)
    if total is not None and not over_cap_pages:
        return total, False, _ids(memos)
    # Unknown total, or a sweep asked to go as far as the cap allows: sequentially.
    offset = PAGE
    while memos[-1]["more"] and offset + PAGE <= CAP and not enough():
        memos.append(crawler.page(spec, extra, label, offset, keep=keep))
        offset += PAGE
    return total, not memos[-1]["more"], _ids(memos)


# Over the complexity limit (pagination, cap partitioning and the no-team sweep in one loop);
# split it when next changed.
def crawl_list(crawler: Crawler, spec: ListSpec, keep: bool = True) -> set[str]:  # noqa: C901
    """Every object of a list endpoint, partitioned past the cap; returns their ids.

    ``keep=False`` reads the list for its ids only (schedules: the details carry
    everything); the objects are then not written to the snapshot.
    """
    seen = crawler.seen(spec.collection) if keep else set()

    def reached(ids: Iterable[str]) -> None:
        # Kept objects are counted by Crawler.unit as they are written; ids-only sweeps return theirs.
        if not keep:
            seen.update(ids)

    if crawler.scope_team_ids and spec.by_team:
        reached(_crawl_team_batches(crawler, spec, crawler.scope_team_ids, keep))
        return seen
    total, complete, ids = sweep(crawler, spec, (), "all", keep=keep)
    reached(ids)
    if complete:
        return seen
    if spec.sortable and total is not None and total <= 2 * CAP:
        # Both ends of the name order: the first 10,000 ascending and the rest
        # descending cover the list in as many pages as it has, with no partition.
        for _, _, part_ids in crawler.coordinate(
            lambda part: sweep(crawler, spec, part[0], part[1], keep=keep, reach=part[2]),
            [((), "all", CAP), ((("sort_by", "name:desc"),), "desc", total - CAP)],
        ):
            reached(part_ids)
        if len(seen) >= total:
            return seen
    if not spec.by_team:
        raise CrawlError(
            f"{spec.path}: {total} objects, past the {CAP:,}-record pagination cap, "
            "and the endpoint has no filter to partition by"
        )
    team_ids = crawler.team_ids()
    if team_ids is None:
        raise CrawlError(
            f"{spec.path}: {total} objects, past the {CAP:,}-record pagination cap, and teams "
            "are unavailable to partition by"
        )
    reached(_crawl_team_batches(crawler, spec, team_ids, keep))
    if total is None:
        raise CrawlError(
            f"{spec.path}: the list runs past the {CAP:,}-record pagination cap and the API gives "
            "no total, so the objects with no team cannot be proven complete"
        )
    # What is still missing belongs to no team: sweep the unfiltered list for it.
    for order, label in ((), "all"), ((("sort_by", "name:desc"),), "desc"):
        if len(seen) >= total:
            break
        if order and not spec.sortable:
            break
        reached(sweep(crawler, spec, order, label, keep=keep, over_cap_pages=True,
                            enough=lambda: len(seen) >= total)[2])
    if len(seen) < total and spec.referenced_ids:
        # Users cannot be sorted: those with no team past the cap are fetched by id once
        # every collection that names people is in, the rest found by query (_fill_by_reference).
        with crawler._lock:
            crawler._shortfalls[spec.collection] = (spec, total)
        return seen
    if len(seen) < total:
        raise CrawlError(
            f"{spec.path}: the API reports {total:,} objects but only {len(seen):,} could be reached "
            f"({total - len(seen):,} have no team and lie past the {CAP:,}-record pagination cap); "
            "crawl with --team to scope it"
        )
    return seen

def _crawl_team_batches(crawler: Crawler, spec: ListSpec, team_ids: list[str], keep: bool = True) -> list[str]:
    ids: list[str] = []
    for part in crawler.coordinate(lambda batch: _crawl_batch(crawler, spec, batch, keep),
                                in_batches(team_ids, TEAM_BATCH)):
        ids += part
    return ids

def _crawl_batch(crawler: Crawler, spec: ListSpec, batch: list[str], keep: bool) -> list[str]:
    extra = tuple(("team_ids[]", t) for t in batch)
    label = "teams-" + batch_label(batch)
    total, complete, ids = sweep(crawler, spec, extra, label, keep=keep)
    if complete:
        return ids
    if len(batch) == 1:
        raise CrawlError(
            f"{spec.path}: team {batch[0]} alone has {total:,} objects, past the {CAP:,}-record "
            "pagination cap; PagerDuty offers no finer filter"
        )
    half = len(batch) // 2
    return _crawl_batch(crawler, spec, batch[:half], keep) + _crawl_batch(crawler, spec, batch[half:], keep)

def fill_by_reference(crawler: Crawler) -> None:
    """Fetch, one by one, the objects a list could not reach but others refer to, then partition
    the list by query for the rest. What remains is out of reach: the collection is marked
    incomplete (how many, why) rather than called whole; a list with no query filter fails."""
    for name, (spec, total) in crawler.shortfalls():
        seen = crawler.seen(name)
        missing = sorted(spec.referenced_ids(crawler.writer) - seen) if spec.referenced_ids else []
        params = multi(spec.params)

        def fetch(object_id: str, spec: ListSpec = spec, name: str = name, params: dict[str, Any] = params) -> None:
            crawler.detail(name, f"{name}:ref:{object_id}", spec.detail_path or "", object_id,
                        params, spec.detail_key or "")

        crawler.map(fetch, missing)
        status = crawler.status(name)
        if len(seen) < total and spec.searchable:
            status["query_partition"] = find_by_query(crawler, spec, total).to_json()
        status["count"] = len(seen)
        if len(seen) >= total:
            continue
        reason = (f"they have no team, lie past the {CAP:,}-record pagination cap, are named by no team, "
                  "schedule, policy or on-call, and no query on their names or e-mails reached them")
        if not spec.searchable:
            raise CrawlError(
                f"{spec.path}: the API reports {total:,} objects but only {len(seen):,} could be reached "
                f"({total - len(seen):,} have no team, lie past the {CAP:,}-record pagination cap and are "
                "named by no team, schedule, policy or on-call); crawl with --team to scope it"
            )
        status.update(status=CollectionStatus.INCOMPLETE.value, missing=total - len(seen), reason=reason)
        crawler.progress.done(name, len(seen), CollectionStatus.INCOMPLETE,
                           f"{total - len(seen):,} of {total:,} out of reach")


def _ids(memos: list[dict[str, Any]]) -> list[str]:
    ids: list[str] = []
    for memo in memos:
        ids += memo.get("ids", [])
    return ids
