# PagerDuty as code for two teams, Payments and Search: the configuration of a pull request.
# plans/change.json is `terraform show -json` of its plan against the account as it is; see
# ../README.md for what the pull request changes and what pd-audit says about it.
terraform {
  required_version = ">= 1.5"
  required_providers {
    pagerduty = {
      source  = "PagerDuty/pagerduty"
      version = "~> 3.15"
    }
  }
}

provider "pagerduty" {
  # The token comes from the PAGERDUTY_TOKEN environment variable.
}
