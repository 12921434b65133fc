"""Which report charts have something to say: a chart of empty or constant data becomes one sentence.

Two 0% bars, a level chart whose services all sit on one level, a coverage band without a gap:
each is a picture of one fact, and a reader gets that fact faster as a sentence (issue 19). The
functions here take the same records as the chart functions of ``svg`` and return either the
``Chart`` or the sentence that replaces it; the template macro ``figure`` draws whichever it gets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from audit.diff import LevelChange
from audit.reports import svg
from audit.reports.model import Gap, LevelCount
from audit.reports.org import LoadBin, TeamCoverage

Figure = svg.Chart | str
COVERAGE_BARS = 12  # the worst teams drawn; the table below the chart lists every service

_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def count_words(count: int, noun: str, plural: str = "") -> str:
    """``nine teams``, ``one service``, ``12 services``: small counts spelled out, as prose does."""
    number = _WORDS[count] if count < len(_WORDS) else f"{count:,}"
    return f"{number} {noun}" if count == 1 else f"{number} {plural or noun + 's'}"


def names_list(names: Sequence[str], *, limit: int = 4) -> str:
    """``A``, ``A and B``, ``A, B and C``, ``A, B, C, D and 3 more``."""
    shown = list(names[:limit])
    if len(names) > limit:
        return ", ".join(shown) + f" and {len(names) - limit:,} more"
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def levels(distribution: Sequence[LevelCount], *, title: str = "Services per maturity level") -> Figure:
    """The level columns, or the sentence when every service sits on one level (or there are none)."""
    total = sum(c.count for c in distribution)
    occupied = [c for c in distribution if c.count]
    if not occupied:
        return "No services to place on the ladder."
    if len(occupied) == 1:
        only = occupied[0]
        every = "The one service is" if total == 1 else f"All {count_words(total, 'service')} are"
        return f"{every} at level {only.level} ({only.name})."
    return svg.level_columns(distribution, title=title)


def level_change(old: Sequence[LevelCount], new: Sequence[LevelCount]) -> Figure:
    """Then and now per level, or the sentence when no level's share moved."""
    if [round(c.share, 4) for c in old] == [round(c.share, 4) for c in new]:
        now = ", ".join(f"L{c.level} {c.share:.0%}" for c in new if c.count) or "no services"
        return f"The share of services per level did not change: {now}."
    return svg.level_comparison(old, new)


def coverage(rows: Sequence[TeamCoverage], *, teams: int) -> Figure:
    """Teams by share of 24/7 promises kept, or one sentence when every such team has the same share.

    ``rows`` are the teams with a broken promise; ``teams`` is how many teams the account has."""
    if not rows:
        return f"All {count_words(teams, 'team')} kept every 24/7 promise." if teams > 1 else \
            "Every 24/7 promise is kept."
    shares = {round(r.kept_pct, 1) for r in rows}
    if len(shares) > 1:
        return svg.coverage_by_team(rows[:COVERAGE_BARS])
    share = shares.pop()
    names = names_list([r.team for r in rows])
    kept = "none of" if share == 0 else f"{share:.0f}% of"
    if len(rows) == 1:
        return f"{names} kept {kept} its 24/7 promises; every other team kept all of theirs."
    return f"{names} each kept {kept} their 24/7 promises; every other team kept all of theirs."


def load(bins: Sequence[LoadBin]) -> Figure:
    """People per band of on-call hours, or the sentence when they all fall in one band."""
    occupied = [b for b in bins if b.count]
    if len(occupied) == 1:
        only = occupied[0]
        if only.count == 1:
            return f"The one person on call was on call for {only.label} of the window."
        return f"All {count_words(only.count, 'person', 'people')} on call were on call for {only.label} each."
    if not occupied:
        return "Nobody was on call in the window."
    return svg.load_histogram(bins)


def movers(changes: Sequence[LevelChange]) -> Figure:
    """The biggest score changes, or the sentence when none moved."""
    moved = [c for c in changes if c.score_delta]
    if not moved:
        return "No team's score moved."
    return svg.movers(moved)


def coverage_band(start: dt.datetime, end: dt.datetime, gaps: Sequence[Gap], *, title: str) -> Figure:
    """An escalation level's window with its gaps cut out, or the sentence when it has none."""
    if not gaps:
        return "Covered for the whole window: no gap."
    return svg.timeline(start, end, gaps, title=title)
