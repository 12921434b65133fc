# The two teams and their people: each person has a phone and an SMS contact method and is
# notified of high-urgency incidents by SMS at once and by phone after three minutes.
locals {
  teams = {
    payments = { name = "Payments", description = "Card payments, refunds and payouts." }
    search   = { name = "Search", description = "Product search and the search index." }
  }
  people = {
    alice = { name = "Alice Ng", email = "alice@example.com", team = "payments", role = "manager", phone = "2025550101" }
    bob   = { name = "Bob Okafor", email = "bob@example.com", team = "payments", role = "responder", phone = "2025550102" }
    carol = { name = "Carol Diaz", email = "carol@example.com", team = "payments", role = "responder", phone = "2025550103" }
    dave  = { name = "Dave Kim", email = "dave@example.com", team = "search", role = "manager", phone = "2025550104" }
    erin  = { name = "Erin Wolfe", email = "erin@example.com", team = "search", role = "responder", phone = "2025550105" }
    frank = { name = "Frank Osei", email = "frank@example.com", team = "search", role = "responder", phone = "2025550106" }
  }
}

resource "pagerduty_team" "team" {
  for_each    = local.teams
  name        = each.value.name
  description = each.value.description
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
  team_id  = pagerduty_team.team[each.value.team].id
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
