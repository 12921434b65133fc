# The Payments team's on-call: a weekly primary and secondary rotation (the secondary is last week's
# primary), an escalation policy of three levels and the service it answers for.
resource "pagerduty_schedule" "payments_primary" {
  name      = "Payments primary"
  time_zone = "America/New_York"
  teams     = [pagerduty_team.team["payments"].id]

  layer {
    name                         = "Weekly"
    start                        = "2026-11-02T10:00:00-05:00"
    rotation_virtual_start       = "2026-11-02T10:00:00-05:00"
    rotation_turn_length_seconds = 604800
    users = [
      pagerduty_user.person["alice"].id,
      pagerduty_user.person["bob"].id,
      pagerduty_user.person["carol"].id,
    ]
  }
}

resource "pagerduty_schedule" "payments_secondary" {
  name      = "Payments secondary"
  time_zone = "America/New_York"
  teams     = [pagerduty_team.team["payments"].id]

  layer {
    name                         = "Weekly, one week behind"
    start                        = "2026-11-02T10:00:00-05:00"
    rotation_virtual_start       = "2026-11-09T10:00:00-05:00"
    rotation_turn_length_seconds = 604800
    users = [
      pagerduty_user.person["alice"].id,
      pagerduty_user.person["bob"].id,
      pagerduty_user.person["carol"].id,
    ]
  }
}

resource "pagerduty_escalation_policy" "payments" {
  name      = "Payments"
  num_loops = 2
  teams     = [pagerduty_team.team["payments"].id]

  rule {
    escalation_delay_in_minutes = 2 # this pull request: was 10 minutes
    target {
      type = "schedule_reference"
      id   = pagerduty_schedule.payments_primary.id
    }
  }
  rule {
    escalation_delay_in_minutes = 10
    target {
      type = "schedule_reference"
      id   = pagerduty_schedule.payments_secondary.id
    }
  }
  rule {
    escalation_delay_in_minutes = 15
    target {
      type = "user_reference"
      id   = pagerduty_user.person["alice"].id
    }
  }
}

resource "pagerduty_service" "payments_api" {
  name                    = "Payments API"
  description             = "Charges cards and issues refunds for the web and mobile checkouts. Runbook: https://wiki.example.com/runbooks/payments-api"
  escalation_policy       = pagerduty_escalation_policy.payments.id
  alert_creation          = "create_alerts_and_incidents"
  acknowledgement_timeout = "1800"
  auto_resolve_timeout    = "3600" # this pull request: was "14400" (four hours)

  incident_urgency_rule {
    type    = "constant"
    urgency = "high"
  }
}

resource "pagerduty_service_integration" "payments_api_events" {
  name    = "Events API v2"
  type    = "events_api_v2_inbound_integration"
  service = pagerduty_service.payments_api.id
}
