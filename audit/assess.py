"""One snapshot judged: snapshot → config and rule packs → facts → findings → waivers → scores.

``assess`` is the stage the ``score``, ``report`` and ``check`` commands share. It
reads files only (the snapshot, the packs, the config); nothing here talks to the
network, so any snapshot can be re-scored offline with today's rules.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import functools
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from audit.config import Config, load_config
from audit.errors import UserError
from audit.facts.build import Facts, build_facts
from audit.facts.collector import collector_paused
from audit.facts.columns import column_names
from audit.facts.forked import Forked, worth_forking
from audit.facts.raw import by_id
from audit.facts.roster import Roster, read_beside
from audit.finding_table import STATUS_CODE, FindingTable, as_table, with_status
from audit.findings import Finding, Mode, Status, WaiverOutcome, apply_waivers
from audit.rules import Evaluation, EvaluationContext, RulePack, evaluate, load_packs
from audit.scoring import ScoreReport, score, service_refs
from audit.snapshot import Snapshot, load
from audit.tiers import TIER_RULE, Notice, default_tiers, no_mapping_notice
from audit.time_limit import within

T = TypeVar("T")

STATIC_ONLY = frozenset({Mode.STATIC})
ALL_MODES = frozenset(Mode)


class ScoresOnFirstRead:
    """The scores, made the first time they are read rather than as the findings are judged.

    The CSV, the baseline and the CI gate read the findings only; scoring a 12,000-service account
    (levels, 12,000 service and 720 team scores, a rule tally per team) takes 0.2-0.4 s they need
    not wait for. The scores are made with the cyclic collector paused, as ``assess`` makes the rest."""

    def __init__(self, make: Callable[[], ScoreReport] | None = None, *, report: ScoreReport | None = None):
        if (make is None) == (report is None):
            raise ValueError("ScoresOnFirstRead takes either how to make the scores or the scores made")
        self._make, self._report = make, report

    def report(self) -> ScoreReport:
        if self._report is None:
            assert self._make is not None  # one of the two is set: see __init__
            with collector_paused():
                self._report = self._make()
            self._make = None  # what it read (the facts' service table, the roll-up) is not held twice
        return self._report

    @property
    def made(self) -> bool:
        """Whether the scores have been made (read) yet."""
        return self._report is not None


@dataclasses.dataclass(frozen=True)
class Assessment:
    """Everything one scoring run produced, for the output formats to render."""

    snapshot: Snapshot
    pack: RulePack
    config: Config
    facts: Facts
    evaluation: Evaluation
    waivers: WaiverOutcome
    scoring: ScoresOnFirstRead  # read through ``scores``
    today: dt.date
    notices: tuple[Notice, ...] = ()  # said once for the account (e.g. no tier mapping)
    team_id: str | None = None  # set by ``for_team``: the one team this assessment is seen by

    @property
    def scores(self) -> ScoreReport:
        """Each service's, team's and the org's levels and scores (made when first read)."""
        return self.scoring.report()

    def scores_beside(self, render: Callable[[ScoreReport], T]) -> Forked[T]:
        """``render(self.scores)``: on a large account whose scores are not made yet, started in a forked
        child on the second core, so an output lays out what reads the findings alone meanwhile (the
        scores are the last 0.2-0.4 s of judging 12,000 services). Only what ``render`` returns travels
        back (the output's text: the scores hold the whole finding table), and the scores stay unmade
        here. Otherwise it runs in line when its result is asked for. ``abandon`` it if the output fails
        before then."""
        fork = not self.scoring.made and worth_forking(len(self.facts.tables["service"]))
        return Forked(lambda: render(self.scores), fork=fork)

    def with_scores(self, scores: ScoreReport) -> Assessment:
        """The same assessment with these scores."""
        return dataclasses.replace(self, scoring=ScoresOnFirstRead(report=scores))

    @property
    def findings(self) -> Sequence[Finding]:
        """Every finding after waivers, sorted by fingerprint (from the engine: a ``FindingTable``)."""
        return self.waivers.findings

    def failing(self) -> tuple[Finding, ...]:
        return tuple(with_status(self.findings, (Status.FAIL,)))

    def team_names(self) -> dict[str, str]:
        """Team id -> name, for every team of the snapshot."""
        teams = self.facts.tables.get("team")
        if teams is None or teams.empty:
            return {}
        return {str(i): str(n) for i, n in zip(teams["id"], teams["name"])}

    def resolve_team(self, given: str) -> str:
        """The id of the team ``given`` names: a team id, or a name (case-insensitive).

        A name several teams share is an error that lists them; so is a team nobody can find,
        with the closest names. A team that owns no service is an error too: it has no figures.
        """
        names = self.team_names()
        owning = {t for t in self.scores.teams if t}
        if given in names or given in owning:
            team_id = given
        else:
            wanted = given.strip().casefold()
            matches = sorted(t for t, name in names.items() if name.strip().casefold() == wanted)
            if len(matches) > 1:
                listed = ", ".join(f"{names[t]!r} ({t})" for t in matches)
                raise UserError(f"--team {given!r}: {len(matches)} teams have that name: {listed}; give the id")
            if not matches:
                close = difflib.get_close_matches(given, sorted(set(names.values())), n=3)
                hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
                raise UserError(f"--team {given!r}: no team has that id or name{hint}")
            team_id = matches[0]
        if team_id not in owning:
            raise UserError(f"--team {given}: no service of this snapshot belongs to that team")
        return team_id

    def for_team(self, team_id: str) -> Assessment:
        """The same assessment seen by one team: its services' findings and scores only."""
        services = set(self.scores.teams[team_id].service_ids) if team_id in self.scores.teams else set()
        findings = as_table(self.findings).concerning(services, team_id)
        scores = dataclasses.replace(
            self.scores,
            services={k: v for k, v in self.scores.services.items() if k in services},
            teams={k: v for k, v in self.scores.teams.items() if k == team_id},
        )
        return dataclasses.replace(
            self, waivers=dataclasses.replace(self.waivers, findings=findings), team_id=team_id
        ).with_scores(scores)


def load_pack_and_config(
    rules_dirs: Iterable[str | os.PathLike[str]] = (),
    config_path: str | os.PathLike[str] | None = None,
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> tuple[RulePack, Config]:
    """The built-in packs plus ``--rules`` dirs, and the layered config checked against them."""
    pack = load_packs([Path(d) for d in rules_dirs], column_names())
    config = load_config(None if config_path is None else Path(config_path), Path(cwd or Path.cwd()), pack,
                         env=env, flags=flags)
    return config.apply(pack), config


def as_of(snapshot: Snapshot) -> dt.date:
    """The instant a snapshot describes: the day its crawl finished (else its window's start, else today)."""
    for stamp in (snapshot.manifest.get("crawl_finished_at"), (snapshot.manifest.get("window") or {}).get("since")):
        try:
            return dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).date()
        except (TypeError, ValueError):
            continue
    return dt.date.today()


def service_tiers(snapshot: Snapshot, config: Config) -> dict[str, int]:
    """Each service's declared tier, from the config's mapping (id, name pattern or team).

    Without any mapping every service takes the default tier (see ``audit.tiers``).
    """
    return tiers_of(config, by_id(snapshot.iter("services")))


def tiers_of(config: Config, services: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """:func:`service_tiers` of services already read (id -> API object), in their order."""
    if not config.tiers:
        return default_tiers(services)
    tiers = {}
    with within(f"{config.sources[-1]}: tiers: name_pattern"):
        for service_id, service in services.items():
            team_ids = [str(t.get("id")) for t in service.get("teams") or [] if isinstance(t, dict)]
            tier = config.tier_for(service_id, str(service.get("name") or ""), team_ids)
            if tier is not None:
                tiers[service_id] = tier
    return tiers


def assess(
    snapshot: str | os.PathLike[str] | Snapshot,
    *,
    rules_dirs: Iterable[str | os.PathLike[str]] = (),
    config_path: str | os.PathLike[str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    modes: frozenset[Mode] = ALL_MODES,
    today: dt.date | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
    people_side: Forked[Roster] | None = None,
) -> Assessment:
    """Judge a snapshot with the packs and config in force.

    ``today`` is the audit's "as of" date: it decides which waivers have expired. By default it is
    the day the snapshot was crawled (``as_of``), so a re-run next month reads the same, and the
    report's header, the on-call window and waiver expiry all agree. ``people_side``: the snapshot's
    people side, if the caller started reading it already (``audit.facts.roster.read_beside``);
    it is stopped if judging fails before it is read.
    """
    with collector_paused():  # see audit.facts.collector: every stage builds long-lived objects
        return _assess(snapshot, rules_dirs, config_path, cwd, modes, today, env, flags, people_side)


def _assess(snapshot: Any, rules_dirs: Any, config_path: Any, cwd: Any, modes: frozenset[Mode],
            today: dt.date | None, env: Any, flags: Any, people_side: Forked[Roster] | None) -> Assessment:
    try:
        snap = snapshot if isinstance(snapshot, Snapshot) else load(snapshot)
        # The people side needs only the snapshot: on a large account it is read on the second core while
        # this process loads the rule packs and config and maps the tiers.
        people_side = people_side or read_beside(snap)
        pack, config = load_pack_and_config(rules_dirs, config_path, cwd=cwd, env=env, flags=flags)
    except BaseException:
        if people_side is not None:  # started, by the caller or here: stopped, as nothing will read it
            people_side.abandon()
        raise
    # The tiers are mapped from the services the facts stage reads (once), while the people side is read.
    facts = build_facts(snap, tiers=functools.partial(tiers_of, config), people_side=people_side)
    rollup = facts.rollup()
    evaluation = evaluate(pack, facts.tables, EvaluationContext(rollup=rollup, unavailable=facts.unavailable,
                                                                modes=modes))
    today = today or as_of(snap)
    findings = evaluation.findings
    notices: tuple[Notice, ...] = ()
    if not config.tiers:
        notice = no_mapping_notice()
        findings, notices = _tier_rule_as_notice(findings, notice), (notice,)
    outcome = apply_waivers(findings, config.waivers, today)
    scoring = ScoresOnFirstRead(
        lambda: score(outcome.findings, service_refs(facts.tables["service"], rollup), config.weights))
    return Assessment(snap, pack, config, facts, evaluation, outcome, scoring, today, notices)


def _tier_rule_as_notice(findings: Sequence[Finding], notice: Notice) -> FindingTable:
    """Without a tier mapping OWN-08 is the account's notice, not a verdict on each service."""
    table = as_table(findings)
    tier_rule = [code for code, rule in enumerate(table.rules) if rule.rule_id == TIER_RULE]
    rows = np.flatnonzero(np.isin(table.rule, tier_rule) & (table.status != STATUS_CODE[Status.EXCLUDED]))
    return table.changed(rows, status=STATUS_CODE[Status.NOT_APPLICABLE], message=notice.message)
