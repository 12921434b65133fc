# The Search team's on-call: a weekly primary and secondary rotation (the secondary is last week's
# primary), an escalation policy of three levels and the service it answers for.
resource "pagerduty_schedule" "search_primary" {
  name      = "Search primary"
  time_zone = "America/New_York"
  teams     = [pagerduty_team.team["search"].id]

  layer {
    name                         = "Weekly"
    start                        = "2026-11-02T10:00:00-05:00"
    rotation_virtual_start       = "2026-11-02T10:00:00-05:00"
    rotation_turn_length_seconds = 604800
    users = [
      pagerduty_user.person["dave"].id,
      pagerduty_user.person["erin"].id,
      pagerduty_user.person["frank"].id,
    ]
  }
}

resource "pagerduty_schedule" "search_secondary" {
  name      = "Search secondary"
  time_zone = "America/New_York"
  teams     = [pagerduty_team.team["search"].id]

  layer {
    name                         = "Weekly, one week behind"
    start                        = "2026-11-02T10:00:00-05:00"
    rotation_virtual_start       = "2026-11-09T10:00:00-05:00"
    rotation_turn_length_seconds = 604800
    users = [
      pagerduty_user.person["dave"].id,
      pagerduty_user.person["erin"].id,
      pagerduty_user.person["frank"].id,
    ]
  }
}

resource "pagerduty_escalation_policy" "search" {
  name      = "Search"
  num_loops = 2
  teams     = [pagerduty_team.team["search"].id]

  rule {
    escalation_delay_in_minutes = 10
    target {
      type = "schedule_reference"
      id   = pagerduty_schedule.search_primary.id
    }
  }
  rule {
    escalation_delay_in_minutes = 10
    target {
      type = "schedule_reference"
      id   = pagerduty_schedule.search_secondary.id
    }
  }
  rule {
    escalation_delay_in_minutes = 15
    target {
      type = "user_reference"
      id   = pagerduty_user.person["dave"].id
    }
  }
}

resource "pagerduty_service" "search_indexer" {
  name                    = "Search Indexer"
  # This pull request: the description links the runbook.
  description             = "Builds the product search index from the catalogue feed. Runbook: https://wiki.example.com/runbooks/search-indexer"
  escalation_policy       = pagerduty_escalation_policy.search.id
  alert_creation          = "create_alerts_and_incidents"
  acknowledgement_timeout = "1800"
  auto_resolve_timeout    = "14400"

  incident_urgency_rule {
    type    = "constant"
    urgency = "high"
  }
}

resource "pagerduty_service_integration" "search_indexer_events" {
  name    = "Events API v2"
  type    = "events_api_v2_inbound_integration"
  service = pagerduty_service.search_indexer.id
}
