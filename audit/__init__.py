"""pd-audit: a service-ownership maturity audit for PagerDuty accounts."""

__version__ = "0.1.0"
