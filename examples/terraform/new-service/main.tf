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

locals {
  people = {
    gina = { name = "Gina Park", email = "gina@example.com", role = "manager", phone = "2025550107" }
    hugo = { name = "Hugo Lind", email = "hugo@example.com", role = "responder", phone = "2025550108" }
    ines = { name = "Ines Brandt", email = "ines@example.com", role = "responder", phone = "2025550109" }
  }
}

resource "pagerduty_user" "person" {
  for_each  = local.people
  name      = each.value.name
  email     = each.value.email
  role      = "user"
  time_zone = "America/New_York"
}

resource "pagerduty_team_membership" "person" {
  for_each = local.people
  team_id  = pagerduty_team.checkout.id
  user_id  = pagerduty_user.person[each.key].id
  role     = each.value.role
}

resource "pagerduty_user_contact_method" "phone" {
  for_each     = local.people
  user_id      = pagerduty_user.person[each.key].id
  type         = "phone_contact_method"
  country_code = 1
  address      = each.value.phone
  label        = "Work phone"
}

resource "pagerduty_user_contact_method" "sms" {
  for_each     = local.people
  user_id      = pagerduty_user.person[each.key].id
  type         = "sms_contact_method"
  country_code = 1
  address      = each.value.phone
  label        = "Work mobile"
}

resource "pagerduty_user_notification_rule" "sms_at_once" {
  for_each               = local.people
  user_id                = pagerduty_user.person[each.key].id
  start_delay_in_minutes = 0
  urgency                = "high"
  contact_method = {
    type = "sms_contact_method"
    id   = pagerduty_user_contact_method.sms[each.key].id
  }
}

resource "pagerduty_user_notification_rule" "phone_after_3" {
  for_each               = local.people
  user_id                = pagerduty_user.person[each.key].id
  start_delay_in_minutes = 3
  urgency                = "high"
  contact_method = {
    type = "phone_contact_method"
    id   = pagerduty_user_contact_method.phone[each.key].id
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
      pagerduty_user.person["gina"].id,
      pagerduty_user.person["hugo"].id,
      pagerduty_user.person["ines"].id,
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
      id   = pagerduty_user.person["gina"].id
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
