# Only resources pd-audit does not model: event rules, a maintenance window and a Slack
# connection. `pd-audit plan` lists them and judges nothing it would have to guess (exit 0).
terraform {
  required_providers {
    pagerduty = {
      source  = "PagerDuty/pagerduty"
      version = "~> 3.15"
    }
  }
}

resource "pagerduty_ruleset" "edge" {
  name = "Edge routing"
}

resource "pagerduty_ruleset_rule" "drop_heartbeats" {
  ruleset  = pagerduty_ruleset.edge.id
  position = 0
  disabled = false
}

resource "pagerduty_maintenance_window" "db_upgrade" {
  start_time  = "2027-01-09T02:00:00-05:00"
  end_time    = "2027-01-09T04:00:00-05:00"
  description = "Database upgrade"
  services    = ["PS1PAYA"]
}

resource "pagerduty_slack_connection" "payments" {
  source_id         = "PS1PAYA"
  source_type       = "service_reference"
  workspace_id      = "T02A123LV1A"
  channel_id        = "C02CABCDAC9"
  notification_type = "responder"
}
