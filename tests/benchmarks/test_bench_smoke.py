"""The crawl benchmark in miniature: its figures are computed, consistent and sane.

One small run (a few hundred objects of every kind, v3 schedules included, and 4,000 incidents
over the 90-day incidents window) through the real path: generated account, TLS emulator, both
crawlers in spawned processes, the incidents crawled again without analytics, and scored. The emulator's
rate limit is set below what pd-audit is allowed to send, so it bites: the 60-second window
runs 60 times faster than real time, and the crawl has to wait for it to reset more than once.
No wall-time assertions: the figures are checked against each other and against the account.
"""

from __future__ import annotations

import math
import time

import pytest

from tests.benchmarks.bench_crawl import (
    CHECKED,
    BenchOptions,
    ChildFailed,
    CrawlFigures,
    IncidentFigures,
    ScoreFigures,
    compare_ids,
    format_report,
    in_child,
    judge,
    judge_incidents,
    run_benchmark,
)
from tests.benchmarks.naive_crawler import LoopFigures

SMOKE = BenchOptions(
    scale=0.02,  # 240 services, 60 policies, 80 schedules, 300 users, 12 teams
    v3_schedules=150,  # 3 shift-based schedules
    latency=0.001,
    rate=240,  # requests per (emulated) minute: the crawl needs two or three windows
    client_rate=480,  # pd-audit may send twice what the emulator allows: the limit bites
    workers=8,
    naive_sample=12,
    time_scale=60.0,
    timeout=60.0,
)


@pytest.fixture(scope="module")
def smoke_report(tmp_path_factory):
    return run_benchmark(SMOKE, tmp_path_factory.mktemp("bench"))


def test_pd_audit_brings_every_object_exactly_once(smoke_report):
    sizes = smoke_report.sizes
    assert sizes["v3_schedules"] > 0 and sizes["schedules"] > 0
    for name in CHECKED:
        completeness = smoke_report.pd_audit.completeness[name]
        assert completeness.exact, (name, completeness)
        assert completeness.expected > 0, name
    assert smoke_report.pd_audit.completeness["users"].expected == sizes["users"] + sizes["loners"]


def test_requests_are_counted_and_near_the_lower_bound(smoke_report):
    pd_audit, bound, sizes = smoke_report.pd_audit, smoke_report.lower_bound, smoke_report.sizes
    # The lower bound follows from the account: one request per service, a list page per 100
    # schedules plus one detail each, and so on.
    assert bound["service_dependencies"] == sizes["services"]
    assert bound["schedules"] == math.ceil(sizes["schedules"] / 100) + sizes["schedules"]
    assert bound["schedules_v3"] == 1 + sizes["v3_schedules"]
    assert bound["total"] == sum(v for k, v in bound.items() if k != "total")
    # What the emulator received, by endpoint, adds up; the client counted the same.
    assert sum(smoke_report.requests_by_endpoint.values()) == pd_audit.requests
    assert not pd_audit.notes, pd_audit.notes
    # Every 429 is one more request; past those, within 5% of the bound and a few probes.
    assert bound["total"] <= pd_audit.requests <= 1.05 * bound["total"] + pd_audit.throttled + 5


def test_the_rate_limit_bit_and_429s_stay_within_bound(smoke_report):
    pd_audit = smoke_report.pd_audit
    windows = math.ceil(pd_audit.requests / SMOKE.rate)
    assert windows >= 2, "the crawl must outlast the emulator's rate-limit window"
    # The client stops before the budget is spent (ratelimit-remaining); only requests already
    # in flight when it runs out can be refused: at most one per worker per window.
    assert pd_audit.throttled <= SMOKE.workers * windows
    # The waits were real: the crawl took at least the windows it used up (emulated seconds).
    assert pd_audit.seconds >= (windows - 1) * 60


def test_the_naive_crawl_is_sampled_and_extrapolated(smoke_report):
    naive, bound = smoke_report.naive, smoke_report.lower_bound["total"]
    assert naive is not None and naive.estimated
    assert any("SAMPLED" in note for note in naive.notes)
    # Below the cap the naive crawler reads what pd-audit reads, one request per page or object.
    assert naive.missing == 0
    assert abs(naive.requests - bound) <= 0.02 * bound
    assert naive.seconds > 0 and 0 < naive.peak_rss < 1.5 * 2**30


def test_the_report_prints_every_figure_and_target(smoke_report):
    text = format_report(smoke_report)
    for label in ("requests", "lower bound", "429s received", "wall time", "requests/rate floor",
                  "peak memory", "objects missed"):
        assert label in text
    assert f"{smoke_report.pd_audit.requests:,}" in text
    targets = [line for line in text.splitlines() if line.startswith(("  PASS", "  FAIL", "  n/a"))]
    assert len(targets) == len(smoke_report.targets) == 6 + 4  # the crawl's, then the incidents' and scoring's
    assert "one per 1,000 incidents" in text and "scoring with the incidents" in text
    assert "SAMPLED" in text and "(est.)" in text


def test_targets_fail_when_figures_miss_them():
    complete = {name: compare_ids(["A"], ["A"]) for name in CHECKED}
    good = CrawlFigures("pd-audit", requests=1_000, throttled=5, seconds=6.5, peak_rss=2**27,
                        completeness=complete)
    naive = CrawlFigures("naive", requests=1_000, throttled=0, seconds=40.0, peak_rss=2**27, completeness=complete)
    options = BenchOptions(rate=9_600)
    assert all(t.passed for t in judge(options, good, 990, naive))
    broken = {**complete, "users": compare_ids(["A", "B"], ["A", "A"])}
    bad = CrawlFigures("pd-audit", requests=1_100, throttled=20, seconds=9.0, peak_rss=2**31, completeness=broken)
    verdicts = {t.name: t.passed for t in judge(options, bad, 990, naive)}
    assert not any(verdicts.values()), verdicts
    assert judge(options, good, 990, None)[2].passed is None


def test_compare_ids_counts_missing_duplicate_and_foreign_objects():
    result = compare_ids(["P1", "P2", "P3"], ["P1", "P1", "P1", "P2", "PX"])
    assert (result.expected, result.fetched, result.missing, result.duplicates, result.unexpected) == (3, 5, 1, 2, 1)
    assert not result.exact
    assert compare_ids(["P1", "P2"], ["P2", "P1"]).exact


def test_a_sampled_loop_extrapolates_per_object():
    loop = LoopFigures("team_members", objects=100, visited=10, requests=15, seconds=0.5)
    assert loop.skipped == 90
    assert loop.estimated_requests == pytest.approx(150)
    assert loop.estimated_seconds == pytest.approx(5.0)
    whole = LoopFigures("schedules", objects=10, visited=10, requests=10, seconds=0.3)
    assert (whole.estimated_requests, whole.estimated_seconds) == (10, 0.3)


def test_a_hung_crawler_is_stopped_and_errors_come_back():
    started = time.monotonic()
    with pytest.raises(ChildFailed):
        in_child(time.sleep, 30, timeout=1.0)
    assert time.monotonic() - started < 20
    with pytest.raises(ValueError):
        in_child(int, "not a number", timeout=20.0)


def test_incidents_cost_one_request_per_1000_and_arrive_once(smoke_report):
    analytics, fallback = smoke_report.incidents
    assert analytics.source == "analytics" and analytics.completeness.exact
    # Near what was asked for: an incident fired while nobody holds level 1 is not generated.
    assert 0.95 * smoke_report.sizes["incidents"] <= analytics.expected <= 1.05 * smoke_report.sizes["incidents"]
    assert analytics.requests == analytics.bound == math.ceil(analytics.expected / 1_000)
    assert smoke_report.requests_by_endpoint["/analytics/raw/incidents"] == analytics.requests
    assert smoke_report.lower_bound["incidents"] == analytics.bound


def test_without_analytics_the_same_incidents_come_from_incidents_and_log_entries(smoke_report):
    analytics, fallback = smoke_report.incidents
    assert fallback.source == "incidents+log_entries" and fallback.completeness.exact
    assert fallback.expected == analytics.expected
    # Every incident has its trigger, assignment, notification, acknowledgement or escalation, resolution.
    assert fallback.log_entries >= 4 * fallback.expected
    assert fallback.pages == math.ceil(fallback.expected / 100) + math.ceil(fallback.log_entries / 100)
    # Past the 10,000 cap the span is halved: a first page for each span split, no more.
    spans = math.ceil(fallback.log_entries / 10_000)
    assert fallback.requests == fallback.pages + fallback.partitions and 0 < fallback.partitions <= 4 * spans


def test_scoring_with_the_incidents_is_timed(smoke_report):
    score = smoke_report.score
    assert score is not None and score.seconds > 0 and score.findings > 0 and score.peak_rss > 0


def test_incident_targets_fail_when_figures_miss_them():
    whole = compare_ids(["PQ1", "PQ2"], ["PQ1", "PQ2"])
    good = IncidentFigures("analytics", whole, requests=1, pages=1, partitions=0)
    assert all(t.passed for t in judge_incidents([good], ScoreFigures(9.0, 10, 2**27)))
    short = compare_ids(["PQ1", "PQ2"], ["PQ1"])
    bad = IncidentFigures("analytics", short, requests=3, pages=1, partitions=0)
    assert not any(t.passed for t in judge_incidents([bad], ScoreFigures(16.0, 10, 2**27)))
    assert judge_incidents([], None) == []

