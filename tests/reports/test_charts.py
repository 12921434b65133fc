"""Charts with nothing to say become one sentence (issue 19): empty or constant data."""

from __future__ import annotations

import datetime as dt

from audit.reports import charts
from audit.reports.model import Gap, LevelCount
from audit.reports.org import LoadBin, TeamCoverage
from audit.reports.svg import Chart
from audit.scoring import LEVEL_NAMES


def counts(*per_level: int) -> tuple[LevelCount, ...]:
    total = sum(per_level)
    return tuple(LevelCount(level, LEVEL_NAMES[level], n, n / total if total else 0.0)
                 for level, n in enumerate(per_level))


def test_a_level_chart_of_one_service_is_a_sentence():
    assert charts.levels(counts(0, 1, 0, 0, 0)) == f"The one service is at level 1 ({LEVEL_NAMES[1]})."
    assert charts.levels(counts(0, 0, 0, 0, 0)) == "No services to place on the ladder."
    assert charts.levels(counts(12, 0, 0, 0, 0)) == f"All 12 services are at level 0 ({LEVEL_NAMES[0]})."
    assert isinstance(charts.levels(counts(3, 1, 0, 0, 0)), Chart)


def test_coverage_of_equal_shares_is_a_sentence():
    both_broken = [TeamCoverage("Identity", 2, 0), TeamCoverage("Warehouse Ops", 3, 0)]
    assert charts.coverage(both_broken, teams=9) == (
        "Identity and Warehouse Ops each kept none of their 24/7 promises; every other team kept all of theirs.")
    assert charts.coverage([], teams=9) == "All nine teams kept every 24/7 promise."
    assert charts.coverage([TeamCoverage("Search", 4, 2)], teams=3) == (
        "Search kept 50% of its 24/7 promises; every other team kept all of theirs.")
    drawn = charts.coverage([TeamCoverage("Search", 4, 2), TeamCoverage("Data", 2, 0)], teams=3)
    assert isinstance(drawn, Chart) and len(drawn.rects) == 2


def test_unchanged_distribution_and_single_band_loads_are_sentences():
    same = counts(25, 18, 2, 0, 0)
    assert charts.level_change(same, same) == "The share of services per level did not change: L0 56%, L1 40%, L2 4%."
    assert isinstance(charts.level_change(counts(26, 17, 2, 0, 0), same), Chart)
    one_band = [LoadBin("< 1 day", 0), LoadBin("1-2 days", 3), LoadBin("2-4 days", 0)]
    assert charts.load(one_band) == "All three people on call were on call for 1-2 days each."
    assert isinstance(charts.load([LoadBin("< 1 day", 1), LoadBin("1-2 days", 3)]), Chart)


def test_a_level_without_gaps_is_a_sentence():
    start = dt.datetime(2027, 1, 4, tzinfo=dt.UTC)
    end = start + dt.timedelta(days=28)
    assert charts.coverage_band(start, end, [], title="Level 1") == "Covered for the whole window: no gap."
    gap = Gap(start + dt.timedelta(days=2), start + dt.timedelta(days=2, hours=6))
    assert isinstance(charts.coverage_band(start, end, [gap], title="Level 1"), Chart)


def test_names_are_listed_as_prose():
    assert charts.names_list(["A"]) == "A"
    assert charts.names_list(["A", "B", "C"]) == "A, B and C"
    assert charts.names_list(list("ABCDEFG")) == "A, B, C, D and 3 more"
