"""History: every snapshot in a folder re-scored with today's rules, as a trend.

Snapshots are immutable raw API data, so judging old ones with the packs and
config in force today makes the points comparable: a rule added this quarter
counts against last quarter's snapshot too, and a trend moves only when the
account moved. Each point is one snapshot: the org's and each team's mean level,
score and failing findings, plus what was new and fixed since the previous point
(``audit.diff``).

Waivers are judged as of each snapshot's own crawl date unless a fixed date is
given: a waiver that was valid when the snapshot was taken covered its finding then.

Snapshots are the folder's direct subdirectories holding a manifest
(unfinished ``*.partial`` crawls are skipped), ordered by crawl time, then window.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from audit.assess import Assessment
from audit.diff import diff_assessments, mean_level
from audit.errors import UserError
from audit.scoring import GroupScore
from audit.snapshot import MANIFEST, Snapshot, load
from audit.teams import team_label, team_names

ORG = "org"


@dataclasses.dataclass(frozen=True)
class GroupPoint:
    """One team's (or the org's) state in one snapshot."""

    id: str
    name: str
    services: int
    mean_level: float | None
    score: float | None
    failing: int  # failing findings counting for the group's services (each once)


@dataclasses.dataclass(frozen=True)
class HistoryPoint:
    snapshot: str  # the snapshot directory's name
    crawled_at: str  # crawl_finished_at from the manifest (ISO 8601)
    org: GroupPoint
    teams: Mapping[str, GroupPoint]
    new: int | None  # findings newly failing since the previous point (None for the first)
    fixed: int | None


@dataclasses.dataclass(frozen=True)
class History:
    points: tuple[HistoryPoint, ...]

    @property
    def team_ids(self) -> tuple[str, ...]:
        """Every team seen in any snapshot, by name."""
        names = {tid: group.name for point in self.points for tid, group in point.teams.items()}
        return tuple(sorted(names, key=lambda tid: (names[tid].lower(), tid)))


def find_snapshots(folder: str | Path) -> list[Snapshot]:
    """The finished snapshots directly inside ``folder``, oldest crawl first."""
    root = Path(folder)
    if not root.is_dir():
        raise UserError(f"{root}: not a folder of snapshots")
    candidates = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.endswith(".partial")
                        and (p / MANIFEST).is_file())
    if not candidates:
        raise UserError(f"{root}: no snapshots in this folder (subfolders with a {MANIFEST})")
    return sorted((load(path) for path in candidates), key=_crawl_order)


def _crawl_order(snapshot: Snapshot) -> tuple[str, str, str]:
    # Crawl time first; the window's start breaks ties between crawls finished in the same second.
    return (str(snapshot.manifest.get("crawl_finished_at") or ""), str(snapshot.manifest["window"]["since"]),
            snapshot.path.name)


def previous_snapshot(snapshots: list[Snapshot], current: Snapshot) -> Snapshot | None:
    """The snapshot just before ``current`` in crawl order (``find_snapshots``' list), or None."""
    here = current.path.resolve()
    paths = [s.path.resolve() for s in snapshots]
    if here in paths:
        position = paths.index(here)
    else:
        position = sum(1 for s in snapshots if _crawl_order(s)[:2] < _crawl_order(current)[:2])
    return snapshots[position - 1] if position > 0 else None


def crawl_date(snapshot: Snapshot) -> dt.date:
    """The day a snapshot was taken (its crawl end, else its window start)."""
    stamp = snapshot.manifest.get("crawl_finished_at") or snapshot.manifest["window"]["since"]
    return dt.datetime.fromisoformat(str(stamp)).date()  # 3.11 reads a trailing Z


def _failing_by_group(assessment: Assessment) -> dict[str, set[str]]:
    """Team id (and ``ORG``) -> fingerprints of the failing findings counting for it, in one pass.

    A finding counts for every team owning one of its services, and for the team it is about.
    """
    owners: dict[str, list[str]] = {}
    for team_id, group in assessment.scores.teams.items():
        for service_id in group.service_ids:
            owners.setdefault(service_id, []).append(team_id)
    counted: dict[str, set[str]] = {ORG: set()}
    for finding in assessment.failing():
        counted[ORG].add(finding.fingerprint)
        teams = {team for service_id in finding.service_ids for team in owners.get(service_id, ())}
        if finding.entity_type == "team":
            teams.add(finding.entity_id)
        for team in teams:
            counted.setdefault(team, set()).add(finding.fingerprint)
    return counted


def _group_point(group: GroupScore, name: str, failing: Mapping[str, set[str]]) -> GroupPoint:
    return GroupPoint(id=group.id, name=name, services=len(group.service_ids), mean_level=mean_level(group),
                      score=group.score, failing=len(failing.get(group.id, ())))


def history_point(assessment: Assessment, previous: Assessment | None, *, teams: bool = True) -> HistoryPoint:
    """``assessment``'s point, with what is new and fixed since ``previous``; ``teams=False``: the org's figures
    only (all a report's trend line shows: the teams' need a pass over every failing finding)."""
    if teams:
        names = team_names(assessment)
        failing = _failing_by_group(assessment)
        groups = {team_id: _group_point(group, team_label(team_id, names), failing)
                  for team_id, group in assessment.scores.teams.items()}
    else:
        failing, groups = {ORG: {finding.fingerprint for finding in assessment.failing()}}, {}
    change = diff_assessments(previous, assessment) if previous is not None else None
    return HistoryPoint(
        snapshot=assessment.snapshot.path.name,
        crawled_at=str(assessment.snapshot.manifest.get("crawl_finished_at") or ""),
        org=_group_point(assessment.scores.org, "Organisation", failing),
        teams=groups,
        new=len(change.new) if change else None,
        fixed=len(change.fixed) if change else None,
    )


def point_key(point: HistoryPoint | Snapshot) -> tuple[str, str]:
    """How an audit is known: its folder's name and crawl time (a copy of a snapshot is the same audit)."""
    if isinstance(point, HistoryPoint):
        return point.snapshot, point.crawled_at
    return point.path.name, str(point.manifest.get("crawl_finished_at") or "")


def before(keys: list[tuple[str, str]], now: tuple[str, str]) -> list[int]:
    """Which of these audits (``point_key``s, in crawl order) precede ``now``: all that the folder lists before it
    when it holds ``now`` itself, else those crawled no later (never its future)."""
    if now in keys:
        return list(range(keys.index(now)))
    return [i for i, key in enumerate(keys) if not now[1] or key[1] <= now[1]]


def trend_history(folder: str | Path, assess_snapshot: Callable[[Snapshot, dt.date], Assessment],
                  current: Snapshot, *, with_previous: bool = True,
                  known: Iterable[Assessment] = ()) -> tuple[History, Assessment | None]:
    """A report's history: the org's point for each snapshot in ``folder`` before ``current`` (``before``), and
    with ``with_previous`` the assessment of the newest snapshot before it (``previous_snapshot``: the previous
    audit when none is given).

    Each snapshot is assessed once, and only those the trend line shows (the folder's copy of ``current`` and
    its future are not), as ``build_history`` assesses them; ``known``: assessments made already, judged the
    same way (a --previous that lies in the folder), taken as they are.
    """
    snapshots = find_snapshots(folder)
    chosen = [snapshots[i] for i in before([point_key(s) for s in snapshots], point_key(current))]
    assessed = {assessment.snapshot.path.resolve(): assessment for assessment in known}
    for snapshot in chosen:
        if snapshot.path.resolve() not in assessed:
            assessed[snapshot.path.resolve()] = assess_snapshot(snapshot, crawl_date(snapshot))
    points = tuple(history_point(assessed[snapshot.path.resolve()], None, teams=False) for snapshot in chosen)
    earlier = previous_snapshot(snapshots, current) if with_previous else None
    if earlier is None:
        return History(points), None
    previous = assessed.get(earlier.path.resolve())
    return History(points), previous if previous is not None else assess_snapshot(earlier, crawl_date(earlier))


def build_history(
    folder: str | Path,
    assess_snapshot: Callable[[Snapshot, dt.date], Assessment],
    *,
    team_id: str | None = None,
) -> History:
    """Assess every snapshot in ``folder`` (``assess_snapshot(snapshot, waiver_date)``) into a trend.

    With ``team_id``, each point keeps that team only (it may be absent from
    snapshots taken before the team existed).
    """
    points = []
    previous: Assessment | None = None
    for snapshot in find_snapshots(folder):
        assessment = assess_snapshot(snapshot, crawl_date(snapshot))
        point = history_point(assessment, previous)
        if team_id is not None:
            point = dataclasses.replace(point, teams={k: v for k, v in point.teams.items() if k == team_id})
        points.append(point)
        previous = assessment
    if team_id is not None and not any(point.teams for point in points):
        raise UserError(f"--team {team_id}: no service of any snapshot in {folder} belongs to that team")
    return History(points=tuple(points))

