# A new team's whole on-call set-up in one pull request: its people, a schedule, an escalation
# policy and the service using it. Every id is unknown until apply; pd-audit follows the
# references (escalation_policy = pagerduty_escalation_policy.checkout.id, ...) to judge it.
terraform {
  required_providers {
    pagerduty = {
      source  = "PagerDuty/pagerduty"
      version = "~> 3.15"
    }
  }
}

resource "pagerduty_team" "checkout" {
  name        = "Checkout"
  description = "The checkout pages and cart."
}

resource "pagerduty_user" "gina" {
  name      = "Gina Park"
  email     = "gina@example.com"
  role      = "user"
  time_zone = "America/New_York"
}

resource "pagerduty_user" "hugo" {
  name      = "Hugo Lind"
  email     = "hugo@example.com"
  role      = "user"
  time_zone = "America/New_York"
}

resource "pagerduty_user" "ines" {
  name      = "Ines Brandt"
  email     = "ines@example.com"
  role      = "user"
  time_zone = "America/New_York"
}

resource "pagerduty_team_membership" "gina" {
  team_id = pagerduty_team.checkout.id
  user_id = pagerduty_user.gina.id
  role    = "manager"
}

resource "pagerduty_user_contact_method" "gina_phone" {
  user_id      = pagerduty_user.gina.id
  type         = "phone_contact_method"
  country_code = 1
  address      = "2025550107"
  label        = "Work phone"
}

resource "pagerduty_user_contact_method" "gina_sms" {
  user_id      = pagerduty_user.gina.id
  type         = "sms_contact_method"
  country_code = 1
  address      = "2025550107"
  label        = "Work mobile"
}

resource "pagerduty_user_notification_rule" "gina_sms" {
  user_id                = pagerduty_user.gina.id
  start_delay_in_minutes = 0
  urgency                = "high"
  contact_method = {
    type = "sms_contact_method"
    id   = pagerduty_user_contact_method.gina_sms.id
  }
}

resource "pagerduty_user_notification_rule" "gina_phone" {
  user_id                = pagerduty_user.gina.id
  start_delay_in_minutes = 3
  urgency                = "high"
  contact_method = {
    type = "phone_contact_method"
    id   = pagerduty_user_contact_method.gina_phone.id
  }
}

resource "pagerduty_team_membership" "hugo" {
  team_id = pagerduty_team.checkout.id
  user_id = pagerduty_user.hugo.id
  role    = "responder"
}

resource "pagerduty_user_contact_method" "hugo_phone" {
  user_id      = pagerduty_user.hugo.id
  type         = "phone_contact_method"
  country_code = 1
  address      = "2025550108"
  label        = "Work phone"
}

resource "pagerduty_user_contact_method" "hugo_sms" {
  user_id      = pagerduty_user.hugo.id
  type         = "sms_contact_method"
  country_code = 1
  address      = "2025550108"
  label        = "Work mobile"
}

resource "pagerduty_user_notification_rule" "hugo_sms" {
  user_id                = pagerduty_user.hugo.id
  start_delay_in_minutes = 0
  urgency                = "high"
  contact_method = {
    type = "sms_contact_method"
    id   = pagerduty_user_contact_method.hugo_sms.id
  }
}

resource "pagerduty_user_notification_rule" "hugo_phone" {
  user_id                = pagerduty_user.hugo.id
  start_delay_in_minutes = 3
  urgency                = "high"
  contact_method = {
    type = "phone_contact_method"
    id   = pagerduty_user_contact_method.hugo_phone.id
  }
}

resource "pagerduty_team_membership" "ines" {
  team_id = pagerduty_team.checkout.id
  user_id = pagerduty_user.ines.id
  role    = "responder"
}

resource "pagerduty_user_contact_method" "ines_phone" {
  user_id      = pagerduty_user.ines.id
  type         = "phone_contact_method"
  country_code = 1
  address      = "2025550109"
  label        = "Work phone"
}

resource "pagerduty_user_contact_method" "ines_sms" {
  user_id      = pagerduty_user.ines.id
  type         = "sms_contact_method"
  country_code = 1
  address      = "2025550109"
  label        = "Work mobile"
}

resource "pagerduty_user_notification_rule" "ines_sms" {
  user_id                = pagerduty_user.ines.id
  start_delay_in_minutes = 0
  urgency                = "high"
  contact_method = {
    type = "sms_contact_method"
    id   = pagerduty_user_contact_method.ines_sms.id
  }
}

resource "pagerduty_user_notification_rule" "ines_phone" {
  user_id                = pagerduty_user.ines.id
  start_delay_in_minutes = 3
  urgency                = "high"
  contact_method = {
    type = "phone_contact_method"
    id   = pagerduty_user_contact_method.ines_phone.id
  }
}

resource "pagerduty_schedule" "checkout" {
  name      = "Checkout primary"
  time_zone = "America/New_York"
  teams     = [pagerduty_team.checkout.id]

  layer {
    name                         = "Weekly"
    start                        = "2026-11-02T10:00:00-05:00"
    rotation_virtual_start       = "2026-11-02T10:00:00-05:00"
    rotation_turn_length_seconds = 604800
    users = [
      pagerduty_user.gina.id,
      pagerduty_user.hugo.id,
      pagerduty_user.ines.id,
    ]
  }
}

resource "pagerduty_escalation_policy" "checkout" {
  name      = "Checkout"
  num_loops = 1
  teams     = [pagerduty_team.checkout.id]

  rule {
    escalation_delay_in_minutes = 10
    target {
      type = "schedule_reference"
      id   = pagerduty_schedule.checkout.id
    }
  }
  rule {
    escalation_delay_in_minutes = 15
    target {
      type = "user_reference"
      id   = pagerduty_user.gina.id
    }
  }
}

resource "pagerduty_service" "checkout_web" {
  name                    = "Checkout Web"
  description             = "The checkout pages, the cart and the order confirmation emails. Runbook: https://wiki.example.com/runbooks/checkout-web"
  escalation_policy       = pagerduty_escalation_policy.checkout.id
  acknowledgement_timeout = "1800"
  auto_resolve_timeout    = "14400"

  incident_urgency_rule {
    type    = "constant"
    urgency = "high"
  }
}

resource "pagerduty_service_integration" "checkout_web_events" {
  name    = "Events API v2"
  type    = "events_api_v2_inbound_integration"
  service = pagerduty_service.checkout_web.id
}
