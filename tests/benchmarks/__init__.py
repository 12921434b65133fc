"""Benchmarks: pd-audit's crawl against a naive serial crawler, on a large emulated account.

They print figures and PASS/FAIL per target; they are not timed tests (the smoke test only
checks that the figures are computed and sane).
"""
