"""Incident facts: what happened when the pager went off, per service, policy and person.

Reads the snapshot's ``incidents`` collection (one Analytics API raw record per incident, or
the same fields computed from /incidents and /log_entries) into an incident table, and
aggregates it into the columns the practice rules read (``columns.ANALYTICS_COLUMNS``):

* per service: incidents a week, the auto-resolved share (SVC-06), noise controls (SVC-05),
  the share of acknowledged incidents acknowledged by members of the owning team (PRC-01), the
  share of high-urgency incidents escalated by timeout (PRC-02), the median and 90th
  percentile time to acknowledge them (PRC-03), the reassigned share (PRC-04);
* per escalation policy: incidents per 12-hour shift on average and in the worst week (PRC-05);
* per person: sleep-hour interruptions a week (OC-09), incidents assigned and acknowledged,
  interruptions by hour class. An incident's interruptions are shared equally among the people
  assigned to it, so both sources give the same numbers.

The columns are laid beside the fact tables only when the snapshot holds its incidents; a
snapshot without them keeps the mode A rules excluded, with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from audit.facts.raw import as_list

WEEK_SECONDS = 7 * 86400.0
SHIFT_SECONDS = 12 * 3600.0
INCIDENT_COLUMNS = (
    "id", "service_id", "team_id", "escalation_policy_id", "urgency", "created_at", "seconds_to_first_ack",
    "acknowledged_user_ids", "assigned_user_ids", "timeout_escalation_count", "reassignment_count", "auto_resolved",
    "sleep_hour_interruptions", "off_hour_interruptions", "business_hour_interruptions",
)  # fmt: skip


def _count(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value else 0


def _seconds(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else np.nan


def _user_ids(value: Any) -> list[str]:
    return [u for u in as_list(value) if isinstance(u, str)]


# How each column is read from a line's field (a missing field arrives as NaN).
_READERS: dict[str, Any] = {
    **dict.fromkeys(("service_id", "team_id", "escalation_policy_id"), lambda value: value if isinstance(value, str)
                    else None),
    "urgency": lambda value: value if isinstance(value, str) and value else "high",
    "created_at": str,
    "seconds_to_first_ack": _seconds,
    "acknowledged_user_ids": _user_ids,
    "assigned_user_ids": _user_ids,
    "timeout_escalation_count": _count,
    "reassignment_count": _count,
    "auto_resolved": lambda value: value is True,
    "sleep_hour_interruptions": _count,
    "off_hour_interruptions": _count,
    "business_hour_interruptions": _count,
}


def incident_table(lines: Iterable[Any]) -> pd.DataFrame:
    """One row per incident (the columns of ``INCIDENT_COLUMNS``); naive analytics times are UTC.

    Read column by column (a dict per row costs seconds on a large account's 200,000 incidents).
    """
    valid = [line for line in lines
             if isinstance(line, dict) and isinstance(line.get("id"), str) and line.get("created_at")]
    table = pd.DataFrame.from_records(valid, columns=list(INCIDENT_COLUMNS))
    for name, reader in _READERS.items():
        table[name] = pd.Series(list(map(reader, table[name].tolist())), index=table.index, dtype=object)
    table = table.astype({
        "seconds_to_first_ack": float, "timeout_escalation_count": "int64", "reassignment_count": "int64",
        "auto_resolved": bool, "sleep_hour_interruptions": "int64", "off_hour_interruptions": "int64",
        "business_hour_interruptions": "int64",
    })
    # One vectorised parse (naive analytics times read as UTC), typed even when empty.
    table["created_at"] = pd.to_datetime(table["created_at"], utc=True, format="ISO8601")
    return table.drop_duplicates("id").set_index("id", drop=False)


def uses_noise_controls(service: Mapping[str, Any]) -> bool:
    """Alert grouping (any kind) or auto-pause of transient alerts is on (SVC-05)."""
    grouping = service.get("alert_grouping_parameters")
    pause = service.get("auto_pause_notifications_parameters")
    return bool(isinstance(grouping, dict) and grouping.get("type")) or bool(
        isinstance(pause, dict) and pause.get("enabled") is True
    )


def _pct(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return (100.0 * numerator / denominator.where(denominator > 0)).astype(float)


def service_columns(
    incidents: pd.DataFrame,
    services: pd.DataFrame,
    raw_services: Mapping[str, Mapping[str, Any]],
    team_members: Mapping[str, set[str]],
    l1_delay_by_policy: Mapping[str, float],
    weeks: float,
) -> pd.DataFrame:
    """The service table's analytics columns, one row per service of ``services``.

    Each incident's service is looked up once (its row in ``services``), and every count is a
    ``bincount`` over those positions: grouping a 200,000-row table by its service id string
    again for each column took seconds.
    """
    index = services.index
    row = index.get_indexer(incidents["service_id"])
    known = row >= 0

    def per_service(mask: np.ndarray) -> pd.Series:
        return pd.Series(np.bincount(row[mask & known], minlength=len(index)), index=index, dtype="int64")

    everything = np.ones(len(incidents), bool)
    acked = incidents["acknowledged_user_ids"].map(bool).to_numpy(bool)
    owner_acked = np.zeros(len(incidents), bool)
    owner_acked[acked] = _acknowledged_by_owner(incidents[acked], services, team_members)
    high = (incidents["urgency"] == "high").to_numpy(bool)
    high_acked = high & incidents["seconds_to_first_ack"].notna().to_numpy(bool)
    chosen = high_acked & known
    tta = pd.Series(incidents["seconds_to_first_ack"].to_numpy(float)[chosen]).groupby(row[chosen])
    count = per_service(everything)
    columns = pd.DataFrame(index=index)
    columns["incident_count"] = count
    columns["incidents_per_week"] = (count / weeks).astype(float) if weeks > 0 else 0.0
    columns["uses_noise_controls"] = [uses_noise_controls(raw_services.get(s, {})) for s in index]
    columns["auto_resolved_pct"] = _pct(per_service(incidents["auto_resolved"].to_numpy(bool)), count)
    columns["acknowledged_count"] = per_service(acked)
    columns["owner_ack_pct"] = _pct(per_service(owner_acked), columns["acknowledged_count"])
    columns["high_urgency_count"] = per_service(high)
    columns["high_urgency_acked_count"] = per_service(high_acked)
    columns["timeout_escalated_pct"] = _pct(
        per_service(high & (incidents["timeout_escalation_count"] > 0).to_numpy(bool)), columns["high_urgency_count"])
    positions = pd.RangeIndex(len(index))
    columns["tta_median_minutes"] = (tta.median() / 60).reindex(positions).to_numpy(float)
    columns["tta_p90_minutes"] = (tta.quantile(0.9) / 60).reindex(positions).to_numpy(float)
    columns["l1_delay_minutes"] = [
        float(l1_delay_by_policy.get(p, np.nan)) if isinstance(p, str) else np.nan
        for p in services["escalation_policy_id"]
    ]
    columns["reassigned_pct"] = _pct(per_service((incidents["reassignment_count"] > 0).to_numpy(bool)), count)
    return columns


def _acknowledged_by_owner(
    acked: pd.DataFrame, services: pd.DataFrame, team_members: Mapping[str, set[str]]
) -> np.ndarray:
    """For each acknowledged incident: did a member of one of its service's teams acknowledge it (PRC-01)?

    Vectorised (a row-wise apply takes 15 s on 200,000 incidents): the (service, acknowledger)
    pairs of the incidents are looked up among the (service, owning member) pairs.
    """
    if not len(acked):
        return np.zeros(0, bool)
    owning = pd.MultiIndex.from_tuples(
        [(service_id, member) for service_id, teams in services["team_ids"].items()
         for team in (teams if isinstance(teams, (list, tuple)) else ()) for member in team_members.get(team, ())],
        names=["service_id", "user_id"])
    ackers = acked[["service_id", "acknowledged_user_ids"]].explode("acknowledged_user_ids")
    by_owner = pd.MultiIndex.from_arrays([ackers["service_id"], ackers["acknowledged_user_ids"]]).isin(owning)
    owned = pd.Series(by_owner, index=ackers.index).groupby(level=0, sort=False).any()
    return owned.reindex(acked.index, fill_value=False).to_numpy(bool)


def policy_columns(incidents: pd.DataFrame, policies: pd.DataFrame, since: datetime, until: datetime) -> pd.DataFrame:
    """The escalation-policy table's analytics columns (PRC-05): incidents per 12-hour shift."""
    index = policies.index
    span = (until - since).total_seconds()
    count = incidents.groupby("escalation_policy_id").size().reindex(index, fill_value=0)
    columns = pd.DataFrame(index=index)
    columns["incident_count"] = count.astype("int64")
    columns["incidents_per_shift"] = (count / (span / SHIFT_SECONDS)).astype(float) if span > 0 else 0.0
    week = ((incidents["created_at"] - pd.Timestamp(since)).dt.total_seconds() // WEEK_SECONDS).astype("int64")
    weekly = incidents.assign(week=week).groupby(["escalation_policy_id", "week"]).size()
    worst = weekly.groupby(level=0).max() if len(weekly) else pd.Series(dtype=float)
    shifts_a_week = WEEK_SECONDS / SHIFT_SECONDS
    columns["worst_week_incidents_per_shift"] = (worst.reindex(index, fill_value=0) / shifts_a_week).astype(float)
    return columns


def user_columns(incidents: pd.DataFrame, users: pd.DataFrame, weeks: float) -> pd.DataFrame:
    """The user table's analytics columns: load and interruptions, shared among each incident's assignees."""
    index = users.index
    assigned = incidents[incidents["assigned_user_ids"].map(bool).astype(bool)]
    shares = assigned.assign(share=1.0 / assigned["assigned_user_ids"].map(len)).explode("assigned_user_ids")
    by_user = shares.groupby("assigned_user_ids")
    columns = pd.DataFrame(index=index)
    columns["incidents_assigned"] = by_user.size().reindex(index, fill_value=0).astype("int64")
    acks = incidents["acknowledged_user_ids"].explode().dropna()
    columns["incidents_acknowledged"] = acks.value_counts().reindex(index, fill_value=0).astype("int64")
    for kind in ("sleep", "off", "business"):
        spread = shares[f"{kind}_hour_interruptions"] * shares["share"]
        columns[f"{kind}_hour_interruptions"] = spread.groupby(shares["assigned_user_ids"]).sum().reindex(
            index, fill_value=0.0).astype(float)
    sleep = columns["sleep_hour_interruptions"]
    columns["sleep_hour_pages_per_week"] = (sleep / weeks).astype(float) if weeks > 0 else 0.0
    return columns
