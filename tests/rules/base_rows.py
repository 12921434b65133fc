"""Realistic fact rows, one per entity, that rule cases start from.

Each row is a healthy object of a mid-sized account (a tier-2 service on a three-level
policy with weekly rotations of four people, a reachable on-call engineer...), so a case
only states the columns it is about. Columns follow ``audit.facts.columns``; a test fails if
the schema gains a column these rows do not give.
"""

from __future__ import annotations

from typing import Any

SERVICE: dict[str, Any] = {
    "id": "PSVC101", "name": "Shipment Tracking API",
    "html_url": "https://acme.pagerduty.com/service-directory/PSVC101",
    "status": "active", "is_disabled": False, "in_maintenance": False,
    "team_ids": ["PTEAM11"], "team_names": ["Logistics"], "team_count": 1,
    "escalation_policy_id": "PEP0101", "policy_exists": True, "policy_team_ids": ["PTEAM11"],
    "policy_in_service_team": True, "policy_shared_with_other_teams": False,
    "policy_other_team_service_ids": [], "level_count": 3,
    "l1_user_ids": ["PUSR101", "PUSR102", "PUSR103", "PUSR104"], "l1_deleted_targets_note": "",
    "l1_team_member_pct": 100.0,
    "description": "Takes card payments for the web shop and the mobile app. Runbook: https://wiki.example.com/runbooks/payments-api",
    "description_length": 112, "description_repeats_name": False, "description_links": 1,
    "name_is_acronym": False, "name_mentions_pagerduty_or_alert": False, "name_monitoring_tool": "",
    "name_is_default": False, "name_problems": [], "standards_passing": 6.0, "standards_total": 8.0, "tier": 2.0,
    "urgency_promise": "high_always", "support_hours": None, "coverage_promise": "24/7",
    "l1_promise_coverage_pct": 100.0, "l1_promise_gaps": [], "l1_promise_gap_hours": 0.0,
    "l1_promise_gap_summary": "no gaps",
    "l2_promise_coverage_pct": 100.0, "l2_promise_gaps": [],
    "integration_count": 2, "addon_count": 1, "ack_timeout_minutes": 30.0, "auto_resolve_hours": None,
    "dependency_count": 2, "dependent_count": 1, "business_service_count": 1,
    "declares_dependencies": True, "in_dependency_cycle": False, "dependency_cycle": [],
}  # fmt: skip

ESCALATION_POLICY: dict[str, Any] = {
    "id": "PEP0101", "name": "Logistics", "html_url": "https://acme.pagerduty.com/escalation_policies/PEP0101",
    "team_ids": ["PTEAM11"], "team_count": 1, "service_ids": ["PSVC101", "PSVC102"], "service_count": 2,
    "service_team_ids": ["PTEAM11"], "tier": 2.0, "level_count": 3, "distinct_target_levels": 3,
    "schedule_ids": ["PSCH101", "PSCH102", "PSCH103"], "l1_user_targets": 0, "later_user_targets": 0,
    "l1_delay_minutes": 10.0, "minutes_to_last_level": 20.0, "num_loops": 1, "repeats": True,
    "last_level_user_ids": ["PUSR100"], "last_level_reaches_manager": True,
    "last_level_reaches_whole_team": False, "deleted_targets": [], "deleted_targets_note": "",
    "unresolved_targets": [],
    "unreachable_user_targets": [], "level1_coverage_pct": 100.0, "level1_gaps": [],
    "any_level_coverage_pct": 100.0, "any_level_gaps": [], "l2_coverage_of_l1_pct": 100.0,
    "l2_gaps_under_l1": [], "adjacent_same_person_pct": 0.0, "backup_is_previous_primary_pct": 97.8,
}  # fmt: skip

SCHEDULE: dict[str, Any] = {
    "id": "PSCH101", "name": "Logistics primary", "html_url": "https://acme.pagerduty.com/schedules/PSCH101",
    "kind": "v2", "time_zone": "Europe/Berlin", "team_ids": ["PTEAM11"], "team_count": 1, "rendered": True,
    "coverage_pct": 100.0, "covered_hours": 672.0, "gap_hours": 0.0, "gaps": [], "gap_summary": "no gaps", "layer_count": 1,
    "empty_layers": 0, "ended": False, "member_ids": ["PUSR101", "PUSR102", "PUSR103", "PUSR104"],
    "people_count": 4, "on_call_people_count": 4, "turn_hours_min": 168.0, "turn_hours_max": 168.0,
    "shift_hours_max": 168.0, "handoff_count": 4, "handoff_weekdays": [1, 1, 1, 1],
    "handoff_hours": [10.0, 10.0, 10.0, 10.0], "weekend_handoffs": 0, "off_hours_handoffs": 0,
    "rotation_handoff_times": ["Mon 10:00"], "rotation_weekend_handoffs": 0, "rotation_off_hours_handoffs": 0,
    "hours_by_person": {"PUSR101": 168.0, "PUSR102": 168.0, "PUSR103": 168.0, "PUSR104": 168.0},
    "mean_hours_per_person": 168.0, "max_hours_ratio": 1.0, "back_to_back_turns": 0.0,
    "override_hours": 24.0, "override_share_pct": 3.57, "policy_ids": ["PEP0101"], "policy_count": 1,
    "used_by_policy": True, "is_shadow": False, "covers_around_the_clock": True,
}  # fmt: skip

TEAM: dict[str, Any] = {
    "id": "PTEAM11", "name": "Logistics", "html_url": "https://acme.pagerduty.com/teams/PTEAM11",
    "member_ids": ["PUSR100", "PUSR101", "PUSR102", "PUSR103", "PUSR104"], "member_count": 5,
    "manager_ids": ["PUSR100"], "manager_count": 1, "responder_count": 4, "observer_count": 0,
    "service_ids": ["PSVC101", "PSVC102"], "service_count": 2, "schedule_ids": ["PSCH101", "PSCH102"],
    "has_shadow_schedule": True, "time_zone_spread_hours": 1.0,
    "night_share_by_member": {"PUSR101": 25.0, "PUSR102": 25.0}, "max_night_share_pct": 25.0,
}  # fmt: skip

USER: dict[str, Any] = {
    "id": "PUSR101", "name": "Mara Lindqvist", "html_url": "https://acme.pagerduty.com/users/PUSR101",
    "email": "mara.lindqvist@acme-logistics.example", "time_zone": "Europe/Berlin", "role": "user",
    "may_respond": True, "invitation_pending": False, "team_ids": ["PTEAM11"],
    "contact_method_types": ["email", "phone", "push", "sms"], "has_phone": True, "has_sms": True,
    "has_push": True, "has_email": True, "high_urgency_rule_count": 3,
    "high_urgency_methods": ["phone", "push", "sms"], "high_urgency_delays": [0, 1, 3],
    "distinct_high_urgency_delays": 3, "high_urgency_email_only": False, "first_phone_delay": 1.0,
    "first_sms_delay": 3.0, "first_phone_sms_delay": 1.0, "first_push_delay": 0.0, "first_email_delay": None,
    "reachable": True, "handoff_rules_known": True, "handoff_rules": 1.0, "on_call": True,
    "on_call_hours": 168.0, "on_call_hours_by_level": ["168 h at level 1"], "night_share_pct": 25.0, "on_call_share_pct": 25.0,
    "sole_l1_service_ids": [], "sole_l1_service_count": 0, "policy_ids": ["PEP0101"],
    "service_ids": ["PSVC101", "PSVC102"], "min_level_delay_minutes": 10.0, "phone_before_escalation": True,
}  # fmt: skip

# The incident-history columns of the same objects over a healthy quarter (13 weeks), laid beside
# a row when a case names one of them (as the facts stage does when a snapshot holds incidents).
ANALYTICS_ROWS: dict[str, dict[str, Any]] = {
    "service": {
        "incidents_window_days": 91, "incident_count": 26, "incidents_per_week": 2.0, "uses_noise_controls": True,
        "auto_resolved_pct": 3.8, "acknowledged_count": 25, "owner_ack_pct": 100.0, "high_urgency_count": 26,
        "high_urgency_acked_count": 25, "timeout_escalated_pct": 3.8, "tta_median_minutes": 2.1,
        "tta_p90_minutes": 6.5, "l1_delay_minutes": 10.0, "reassigned_pct": 3.8,
    },
    "escalation_policy": {
        "incidents_window_days": 91, "incident_count": 52, "incidents_per_shift": 0.29,
        "worst_week_incidents_per_shift": 0.5,
    },
    "user": {
        "incidents_window_days": 91, "incidents_assigned": 13, "incidents_acknowledged": 12,
        "sleep_hour_interruptions": 3.0, "off_hour_interruptions": 4.0, "business_hour_interruptions": 6.0,
        "sleep_hour_pages_per_week": 0.23,
    },
}  # fmt: skip

BASE_ROWS: dict[str, dict[str, Any]] = {
    "service": SERVICE,
    "escalation_policy": ESCALATION_POLICY,
    "schedule": SCHEDULE,
    "team": TEAM,
    "user": USER,
}
