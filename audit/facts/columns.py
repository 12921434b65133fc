"""The documented column schema of every fact table, and the one way tables are framed.

Rules are pandas expressions over these columns; ``audit.rules`` validates a
rule's condition against :func:`column_names`, so a column exists for rules only
once it is declared here, with its dtype and what it means. :func:`frame` turns
a builder's rows into a DataFrame with exactly these columns, in this order, in
these dtypes, indexed by PagerDuty id, so every table matches its schema by
construction (and ``check_table`` proves it in tests).

Dtypes: ``str`` (pandas' string dtype; missing is NaN), ``int64``, ``float64``
(missing is NaN), ``bool`` (never missing), ``object`` (a list or dict per row).
Percentages are 0-100. Times are UTC ISO strings like ``2027-01-04T17:00:00Z``.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Column:
    dtype: str
    description: str


def _columns(*specs: tuple[str, str, str]) -> dict[str, Column]:
    return {name: Column(dtype, description) for name, dtype, description in specs}


_IDENTITY = (
    ("id", "str", "PagerDuty id (also the table's index)"),
    ("name", "str", "display name"),
    ("html_url", "str", "link to the object in PagerDuty's web app"),
)

SERVICE = _columns(
    *_IDENTITY,
    ("status", "str", "active, warning, critical, maintenance or disabled"),
    ("is_disabled", "bool", "status is disabled: listed, never scored on on-call rules (SVC-07)"),
    ("in_maintenance", "bool", "status is maintenance"),
    ("team_ids", "object", "owning team ids (list)"),
    ("team_names", "object", "owning team names (list, same order as team_ids)"),
    ("team_count", "int64", "owning teams: 0 = unowned, >1 = ambiguous (OWN-01)"),
    ("escalation_policy_id", "str", "the service's escalation policy (NaN when none)"),
    ("policy_exists", "bool", "the escalation policy is in the snapshot"),
    ("policy_team_ids", "object", "teams of the escalation policy (list)"),
    ("policy_in_service_team", "bool", "the policy has a team and all its teams own this service (OWN-03)"),
    ("policy_shared_with_other_teams", "bool", "the policy also serves services owned by other teams (OWN-03)"),
    ("policy_other_team_service_ids", "object", "those other teams' services on the same policy (list)"),
    ("level_count", "int64", "levels of the escalation policy (0 when none)"),
    ("l1_user_ids", "object", "people level 1 can page: schedule members, people on call in the window, direct users"),
    ("l1_deleted_targets_note", "str", ("'' or '; targets that no longer exist: level 1 schedule PXXXXXX', "
                                        "for messages (OC-01)")),
    ("l1_team_member_pct", "float64", "share of l1_user_ids who are members of an owning team (OWN-04); NaN if none"),
    ("description", "str", "the service's description, surrounding space stripped ('' when none); reports show it"),
    ("description_length", "int64", "characters in the description, surrounding space stripped (OWN-05)"),
    ("description_repeats_name", "bool", "the description is empty or only the name again (OWN-05)"),
    ("description_links", "int64", "http(s) links in the description (OWN-06)"),
    ("name_is_acronym", "bool", "the name is a bare acronym such as 'CRM' (OWN-07)"),
    ("name_mentions_pagerduty_or_alert", "bool", "the name contains 'PagerDuty' or 'Alert(s)' (OWN-07)"),
    ("name_monitoring_tool", "str", "monitoring tool named in the name, e.g. 'datadog'; '' when none (OWN-07)"),
    ("name_is_default", "bool", "the name is PagerDuty's 'Default Service' (OWN-07)"),
    ("name_problems", "object", "every OWN-07 problem with the name, as short phrases (list)"),
    ("standards_passing", "float64", "PagerDuty's own service standards this service passes; NaN when not crawled"),
    ("standards_total", "float64", "PagerDuty's own service standards judged for it; NaN when not crawled"),
    ("tier", "float64", "tier from the config's tier mapping; NaN when undeclared (OWN-08)"),
    ("urgency_promise", "str", "high_always, support_hours or low_only, from the incident urgency rule"),
    ("support_hours", "str", "declared support hours, e.g. 'Mon-Fri 09:00-17:00 America/New_York'; NaN if none"),
    ("coverage_promise", "str", ("what OC-01 holds level 1 to: '24/7' (high urgency always, or tier 1), "
                                "'support_hours' or 'none'")),
    ("l1_promise_coverage_pct", "float64", ("level-1 coverage of the promised time over the window, gaps under "
                                           "1 minute ignored; 100 when nothing is promised (OC-01)")),
    ("l1_promise_gaps", "object", "level-1 gaps in the promised time, [[start, end], ...] UTC (OC-01)"),
    ("l1_promise_gap_hours", "float64", "hours of those gaps"),
    ("l1_promise_gap_summary", "str", ("those gaps for people: the daily pattern, count, total, longest and share, "
                                      "in the support hours' zone, else the policy's first schedule's, else UTC; "
                                      "'no gaps' when none")),
    ("l2_promise_coverage_pct", "float64", ("level-2 coverage of the promised time level 1 covers; 0 with one "
                                           "level, 100 when level 1 covers nothing (OC-02)")),
    ("l2_promise_gaps", "object", "time level 1 covers and level 2 does not, [[start, end], ...] UTC"),
    ("integration_count", "int64", "integrations sending alerts to the service (SVC-01)"),
    ("addon_count", "int64", "the service's add-ons plus the extensions (GET /extensions) serving it (SVC-02)"),
    ("ack_timeout_minutes", "float64", "acknowledgement timeout in minutes; NaN when off (SVC-04)"),
    ("auto_resolve_hours", "float64", "auto-resolve timeout in hours; NaN when off (SVC-04)"),
    ("dependency_count", "int64", "technical services this service depends on"),
    ("dependent_count", "int64", "services that depend on this one"),
    ("business_service_count", "int64", "business services this service supports"),
    ("declares_dependencies", "bool", "the service appears in the dependency map at all (SVC-08)"),
    ("in_dependency_cycle", "bool", "the service is part of a dependency cycle (SVC-08)"),
    ("dependency_cycle", "object", "ids of the services in that cycle (list)"),
)

ESCALATION_POLICY = _columns(
    *_IDENTITY,
    ("team_ids", "object", "the policy's teams (list)"),
    ("team_count", "int64", "number of the policy's teams"),
    ("service_ids", "object", "services using the policy (list)"),
    ("service_count", "int64", "services using the policy (ESC-09)"),
    ("service_team_ids", "object", "teams owning those services (list)"),
    ("tier", "float64", ("highest tier (lowest number) of the non-disabled services using the policy; NaN "
                         "when none has a tier (ESC-02, ESC-07)")),
    ("level_count", "int64", "escalation levels"),
    ("distinct_target_levels", "int64", ("levels whose live targets differ: two levels on the same schedule or "
                                        "users count once, levels with no live target not at all (ESC-01)")),
    ("schedule_ids", "object", "schedules any level targets (list)"),
    ("l1_user_targets", "int64", "user targets at level 1, deleted users included (ESC-03)"),
    ("later_user_targets", "int64", "user targets at levels 2 and later, deleted users included (ESC-03)"),
    ("l1_delay_minutes", "float64", "level-1 escalation delay in minutes; NaN with no levels (ESC-07)"),
    ("minutes_to_last_level", "float64", "minutes until an unacknowledged incident reaches the last level (ESC-08)"),
    ("num_loops", "int64", "times the policy repeats after its last level (ESC-08)"),
    ("repeats", "bool", "num_loops >= 1"),
    ("last_level_user_ids", "object", "people the last level can page (list)"),
    ("last_level_reaches_manager", "bool", ("the last level pages a manager of the policy's or its services' "
                                           "teams (ESC-06)")),
    ("last_level_reaches_whole_team", "bool", "the last level pages every member of one of those teams (ESC-06)"),
    ("deleted_targets", "object", ("targets naming users or schedules missing from the snapshot, as "
                                  "'type:id' (list); they cover nothing")),
    ("deleted_targets_note", "str", ("'' or '; targets that no longer exist: level 1 user PXXXXXX, ...', "
                                     "for messages (ESC-01)")),
    ("unresolved_targets", "object", "targets of unknown type, or in a collection the token could not read (list)"),
    ("unreachable_user_targets", "object", "direct user targets that are not reachable, so cover nothing (list)"),
    ("level1_coverage_pct", "float64", "level-1 coverage of the whole window, gaps under 1 minute ignored"),
    ("level1_gaps", "object", "level-1 gaps, [[start, end], ...] UTC"),
    ("any_level_coverage_pct", "float64", "time any level covers, gaps under 1 minute ignored"),
    ("any_level_gaps", "object", "time no level covers, [[start, end], ...] UTC"),
    ("l2_coverage_of_l1_pct", "float64", "level-2 coverage of the time level 1 is covered; 0 with one level (OC-02)"),
    ("l2_gaps_under_l1", "object", "time level 1 covers and level 2 does not, [[start, end], ...] UTC"),
    ("adjacent_same_person_pct", "float64", ("largest share of the window one person holds two adjacent levels "
                                            "at once; NaN with one level (ESC-04)")),
    ("backup_is_previous_primary_pct", "float64", ("share of the time level 1 is on call that level 2 includes "
                                                  "who held level 1 before the current holder took over (a gap "
                                                  "is no hand-off); time before the first hand-off in the window "
                                                  "is left out; NaN with one level or no hand-off (ESC-05)")),
)

POLICY_LEVEL = _columns(
    ("id", "str", "escalation rule id (or 'POLICY:L<n>' when the API gave none)"),
    ("name", "str", "'<policy name> L<n>'"),
    ("html_url", "str", "link to the policy"),
    ("policy_id", "str", "the escalation policy"),
    ("level", "int64", "1-based level number"),
    ("escalation_delay_minutes", "float64", "minutes before an unacknowledged incident escalates past this level"),
    ("target_count", "int64", "targets on the level"),
    ("schedule_ids", "object", "schedule targets (list)"),
    ("user_ids", "object", "direct user targets (list)"),
    ("deleted_targets", "object", "targets missing from the snapshot, 'type:id' (list)"),
    ("unresolved_targets", "object", "targets of unknown type or in an unreadable collection (list)"),
    ("unreachable_user_targets", "object", "direct user targets that are not reachable (list)"),
    ("same_targets_as_previous", "bool", "the live targets equal the previous level's (adds no depth)"),
    ("coverage_pct", "float64", "coverage of the window by the union of the level's targets, gaps under 1 min ignored"),
    ("gaps", "object", "the level's gaps, [[start, end], ...] UTC"),
    ("people_ids", "object", "people the level can page: schedule members, on call in the window, direct users"),
)

SCHEDULE = _columns(
    *_IDENTITY,
    ("kind", "str", "v2 (layers) or v3 (shift-based rotations)"),
    ("time_zone", "str", "the schedule's IANA time zone (UTC when absent or unknown)"),
    ("team_ids", "object", "the schedule's teams (list)"),
    ("team_count", "int64", "number of the schedule's teams"),
    ("rendered", "bool", "the snapshot holds a rendered final schedule for the window"),
    ("coverage_pct", "float64", "share of the window someone is on call, exact to the second"),
    ("covered_hours", "float64", "hours someone is on call"),
    ("gap_hours", "float64", "hours nobody is on call"),
    ("gaps", "object", "uncovered stretches, [[start, end], ...] UTC"),
    ("gap_summary", "str", "those gaps for people, in the schedule's zone (see gap_text.gap_summary); 'no gaps'"),
    ("layer_count", "int64", "active layers (v2) or rotations with active events (v3)"),
    ("empty_layers", "int64", "active layers or rotations with nobody on them (OC-11)"),
    ("ended", "bool", "no layer or rotation is still running: the schedule puts nobody on call any more (OC-11)"),
    ("member_ids", "object", "people named on active layers or rotations (list)"),
    ("people_count", "int64", "distinct people on active layers or rotations (OC-03)"),
    ("on_call_people_count", "int64", "distinct people on call in the window"),
    ("turn_hours_min", "float64", "shortest configured turn in hours (v3: occurrence x shifts per member) (OC-04)"),
    ("turn_hours_max", "float64", "longest configured turn in hours (OC-04)"),
    ("shift_hours_max", "float64", "longest stretch one person holds the schedule in the window, in hours"),
    ("handoff_count", "int64", ("hand-offs of the final schedule in the window (one person off, another on "
                                "at the same instant); a multi-layer schedule changes hands at every layer's edge")),
    ("handoff_weekdays", "object", "ISO weekday (1 = Monday) of each hand-off in the schedule's zone (list)"),
    ("handoff_hours", "object", "local hour of each hand-off, 09:30 = 9.5 (list)"),
    ("weekend_handoffs", "int64", "hand-offs of the final schedule on a Saturday or Sunday, local time"),
    ("off_hours_handoffs", "int64", "weekday hand-offs outside 09:00-17:00 local time"),
    ("rotation_handoff_times", "object", ("distinct local times the layers (v2) or rotation events (v3) hand "
                                         "off at, e.g. 'Mon 09:00', in the schedule's zone (list)")),
    ("rotation_weekend_handoffs", "int64", ("the layers' own hand-offs on a Saturday or Sunday: v2 "
                                           "rotation_virtual_start + k turns in the window, v3 each event's "
                                           "start (OC-05)")),
    ("rotation_off_hours_handoffs", "int64", "the layers' own weekday hand-offs outside 09:00-17:00 local (OC-05)"),
    ("hours_by_person", "object", "on-call hours per user id in the window (dict)"),
    ("mean_hours_per_person", "float64", "mean of hours_by_person; NaN when nobody is on call"),
    ("max_hours_ratio", "float64", "busiest person's hours / mean hours (OC-06); NaN when nobody is on call"),
    ("back_to_back_turns", "float64", ("turns longer than 1.25 configured turns, i.e. consecutive turns "
                                      "(OC-07); NaN without a turn length")),
    ("override_hours", "float64", "hours held by overrides in the window"),
    ("override_share_pct", "float64", "override hours / covered hours (OC-10); 0 when nothing is covered"),
    ("policy_ids", "object", "escalation policies targeting the schedule (list)"),
    ("policy_count", "int64", "number of those policies"),
    ("used_by_policy", "bool", "at least one escalation policy targets the schedule (OC-11)"),
    ("is_shadow", "bool", "the schedule's name says it is a shadow rotation (OC-12)"),
    ("covers_around_the_clock", "bool", ("one active layer (v2) or rotation event (v3) with people on it covers "
                                         "every hour of the week by configuration: no restrictions, or "
                                         "occurrences filling the week (PPL-03)")),
)

TEAM = _columns(
    *_IDENTITY,
    ("member_ids", "object", "team members (list)"),
    ("member_count", "int64", "team members (OWN-02)"),
    ("manager_ids", "object", "members with the team role 'manager' (list)"),
    ("manager_count", "int64", "members with the team role 'manager' (OWN-02)"),
    ("responder_count", "int64", "members with the team role 'responder'"),
    ("observer_count", "int64", "members with the team role 'observer'"),
    ("service_ids", "object", "services the team owns (list)"),
    ("service_count", "int64", "services the team owns"),
    ("schedule_ids", "object", "schedules of the team (list)"),
    ("has_shadow_schedule", "bool", "one of the team's schedules is a shadow rotation (OC-12)"),
    ("time_zone_spread_hours", "float64", "widest gap between members' UTC offsets in the window (OC-08)"),
    ("night_share_by_member", "object", "per on-call member, % of their on-call hours 00:00-06:00 in their zone"),
    ("max_night_share_pct", "float64", "largest value of night_share_by_member; 0 when nobody is on call (OC-08)"),
)

USER = _columns(
    *_IDENTITY,
    ("email", "str", "email address"),
    ("time_zone", "str", "the user's IANA time zone (UTC when absent or unknown)"),
    ("role", "str", ("PagerDuty base role: owner, admin, user, limited_user, observer, restricted_access, "
                    "read_only_user, read_only_limited_user")),
    ("may_respond", "bool", "the role may acknowledge incidents (not observer or a read-only stakeholder) (RCH-06)"),
    ("invitation_pending", "bool", "the user has not accepted their invitation yet (RCH-06)"),
    ("team_ids", "object", "teams the user belongs to (list)"),
    ("contact_method_types", "object", ("contact method kinds present: phone, sms, push, email, whatsapp, or a "
                                        "newer type's own name such as slack_dm (list)")),
    ("has_phone", "bool", "has a phone contact method (RCH-01)"),
    ("has_sms", "bool", "has an SMS contact method"),
    ("has_push", "bool", "has a push contact method (RCH-01)"),
    ("has_email", "bool", "has an email contact method"),
    ("high_urgency_rule_count", "int64", "high-urgency notification rules"),
    ("high_urgency_methods", "object", "contact kinds the high-urgency rules use (list)"),
    ("high_urgency_delays", "object", "distinct start delays of high-urgency rules, minutes, ascending (list)"),
    ("distinct_high_urgency_delays", "int64", "number of distinct high-urgency delays (RCH-03)"),
    ("high_urgency_email_only", "bool", "has high-urgency rules, none by phone, SMS or push (RCH-02)"),
    ("first_phone_delay", "float64", "earliest high-urgency phone call, minutes; NaN if none"),
    ("first_sms_delay", "float64", "earliest high-urgency SMS, minutes; NaN if none"),
    ("first_phone_sms_delay", "float64", "earliest high-urgency phone call or SMS, minutes; NaN if none (RCH-04)"),
    ("first_push_delay", "float64", "earliest high-urgency push, minutes; NaN if none"),
    ("first_email_delay", "float64", "earliest high-urgency email, minutes; NaN if none"),
    ("reachable", "bool", ("a high-urgency rule by phone, SMS or push and no pending invitation: counts as "
                          "coverage when targeted directly")),
    ("handoff_rules_known", "bool", "the snapshot says whether the user has hand-off notification rules"),
    ("handoff_rules", "float64", "hand-off notification rules; NaN when not known (RCH-05)"),
    ("on_call", "bool", ("on call in the window: in the on-calls, or paged by a level directly or through a "
                        "schedule that puts them on call")),
    ("on_call_hours", "float64", "hours on call in the window across every level reaching them"),
    ("on_call_hours_by_level", "object", ("hours held at each level, as 'N h at level L', lowest level first "
                                          "(levels held at once each count, so they may add up to more)")),
    ("night_share_pct", "float64", "% of on_call_hours that fall 00:00-06:00 in the user's zone"),
    ("on_call_share_pct", "float64", "on_call_hours as % of the window's hours, any level (PPL-01)"),
    ("sole_l1_service_ids", "object", ("live services whose level 1 can page this user and nobody else: a "
                                       "one-person rotation or a lone user target (list) (PPL-02)")),
    ("sole_l1_service_count", "int64", "number of sole_l1_service_ids (PPL-02)"),
    ("policy_ids", "object", "escalation policies whose levels reach the user (list)"),
    ("service_ids", "object", "services those policies serve (list)"),
    ("min_level_delay_minutes", "float64", "smallest escalation delay of the levels reaching the user; NaN if none"),
    ("phone_before_escalation", "bool", "first_phone_sms_delay < min_level_delay_minutes (RCH-04)"),
)

# Incident history (the snapshot's ``incidents`` collection: PagerDuty's Analytics API, or the same
# fields computed from /incidents and /log_entries) gives these columns, laid beside the tables by
# ``audit.facts.incidents`` only when the snapshot holds its incidents. A rule may name them only
# when it requires INCIDENT_ANALYTICS; without incidents it is reported excluded with the reason
# (the catalog's mode A rules), so their ids stay valid in waivers, baselines and reports.
INCIDENT_ANALYTICS = "incident_analytics"
ANALYTICS_MISSING = "incident history (crawl with --incidents-window; PagerDuty's Analytics API or /incidents)"
ANALYTICS_COLUMNS: dict[str, dict[str, Column]] = {
    "service": _columns(
        ("incidents_window_days", "int64", "days in the incidents window (what the counts are over)"),
        ("incident_count", "int64", "incidents in the incidents window"),
        ("incidents_per_week", "float64", "incidents a week over the incidents window (SVC-05)"),
        ("uses_noise_controls", "bool", "alert grouping or auto-pause is on (SVC-05)"),
        ("auto_resolved_pct", "float64", "share of incidents resolved by the monitoring tool, not a person (SVC-06)"),
        ("acknowledged_count", "int64", "incidents someone acknowledged"),
        ("owner_ack_pct", "float64",
         "share of acknowledged incidents acknowledged by an owning team's member (PRC-01)"),
        ("high_urgency_count", "int64", "high-urgency incidents"),
        ("high_urgency_acked_count", "int64", "high-urgency incidents someone acknowledged (PRC-03's sample)"),
        ("timeout_escalated_pct", "float64", "share of high-urgency incidents escalated by timeout (PRC-02)"),
        ("tta_median_minutes", "float64", "median minutes to first acknowledgement, high urgency (PRC-03)"),
        ("tta_p90_minutes", "float64", "90th percentile of those minutes (PRC-03)"),
        ("l1_delay_minutes", "float64", "level-1 escalation delay of the service's policy, minutes (PRC-03)"),
        ("reassigned_pct", "float64", "share of incidents reassigned away from the first responder (PRC-04)"),
    ),
    "escalation_policy": _columns(
        ("incidents_window_days", "int64", "days in the incidents window (what the counts are over)"),
        ("incident_count", "int64", "incidents of the services using the policy, in the incidents window"),
        ("incidents_per_shift", "float64", "incidents per 12 hours of the incidents window (PRC-05)"),
        ("worst_week_incidents_per_shift", "float64", "the busiest week's incidents per 12-hour shift (PRC-05)"),
    ),
    "user": _columns(
        ("incidents_window_days", "int64", "days in the incidents window (what the counts are over)"),
        ("incidents_assigned", "int64", "incidents the person was assigned"),
        ("incidents_acknowledged", "int64", "incidents the person acknowledged"),
        ("sleep_hour_interruptions", "float64", "high-urgency notifications 22:00-08:00 local (shared per incident)"),
        ("off_hour_interruptions", "float64", "high-urgency notifications evenings and weekends, awake"),
        ("business_hour_interruptions", "float64", "high-urgency notifications 08:00-18:00 on weekdays"),
        ("sleep_hour_pages_per_week", "float64", "sleep-hour interruptions a week over the incidents window (OC-09)"),
    ),
}

SCHEMA: dict[str, dict[str, Column]] = {
    "service": SERVICE,
    "escalation_policy": ESCALATION_POLICY,
    "policy_level": POLICY_LEVEL,
    "schedule": SCHEDULE,
    "team": TEAM,
    "user": USER,
}


def column_names() -> dict[str, frozenset[str]]:
    """Entity -> the columns rules may use (what ``audit.rules.load_packs`` validates against)."""
    return {entity: frozenset(columns) for entity, columns in SCHEMA.items()}


def frame(entity: str, rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """A builder's rows as the entity's table: schema columns, order and dtypes, indexed by id."""
    schema = SCHEMA[entity]
    records = list(rows)
    expected = schema.keys()
    misshapen = [row for row in records if row.keys() != expected]  # one set comparison per row, in C
    extra = set().union(*(row.keys() - expected for row in misshapen))
    missing = set().union(*(expected - row.keys() for row in misshapen))
    if extra or missing:
        raise ValueError(f"{entity} rows do not match the schema: extra {sorted(extra)}, missing {sorted(missing)}")
    # Rows to columns in C (an itemgetter over the rows, transposed by zip) rather than one Python
    # pass over every row per column: 194 columns over 12,000 services, 18,000 users...
    names = list(schema)
    pick = operator.itemgetter(*names)
    values = list(zip(*map(pick, records), strict=True)) if records and len(names) > 1 else None
    return frame_columns(entity, {
        name: list(values[index]) if values is not None else [row[name] for row in records]
        for index, name in enumerate(names)
    })


def frame_columns(entity: str, columns: Mapping[str, list[Any]]) -> pd.DataFrame:
    """A builder's columns (name -> one value per row, rows in the same order) as the entity's table,
    exactly as :func:`frame` makes it from the same values as rows."""
    schema = SCHEMA[entity]
    if columns.keys() != schema.keys():
        extra, missing = sorted(columns.keys() - schema.keys()), sorted(schema.keys() - columns.keys())
        raise ValueError(f"{entity} columns do not match the schema: extra {extra}, missing {missing}")
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"{entity} columns differ in length: {sorted(lengths)}")
    table = pd.DataFrame({
        name: pd.Series(columns[name], dtype=_pandas_dtype(column.dtype)) for name, column in schema.items()
    })
    table.index = pd.Index(table["id"].astype(object).tolist(), dtype=object)
    return table


def _pandas_dtype(dtype: str) -> Any:
    return object if dtype == "object" else dtype


def check_table(entity: str, table: pd.DataFrame) -> None:
    """ValueError unless ``table`` has exactly the entity's schema columns and dtypes (and, after them,
    the incident-history columns when the snapshot held incidents)."""
    with_history = len(table.columns) > len(SCHEMA[entity])
    schema = {**SCHEMA[entity], **(ANALYTICS_COLUMNS.get(entity, {}) if with_history else {})}
    if list(table.columns) != list(schema):
        raise ValueError(f"{entity} columns {list(table.columns)} differ from the schema {list(schema)}")
    for name, column in schema.items():
        actual = str(table[name].dtype)
        if actual != column.dtype:
            raise ValueError(f"{entity}.{name} is {actual}, the schema says {column.dtype}")
