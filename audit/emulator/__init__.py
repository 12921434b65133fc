"""PagerDuty-compatible REST API emulator."""
