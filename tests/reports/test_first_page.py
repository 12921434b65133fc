"""The first pages (issue 19): what to fix first, computed from the ladder, and what the first pages say.

The fix ranking is checked on a hand-built account: Acme's services and teams, judged by a
handful of findings written out below, so that which fix lifts which service can be worked out
by hand. The first pages are checked on Acme against its previous quarter (HTML and the PDF's
page 1), and a scorecard's on-call figures against the user facts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pypdf
import pytest

from audit.findings import Finding, Mode, Severity, Status, WaiverOutcome
from audit.history import History, history_point
from audit.reports import plan_reports
from audit.reports.fixes import lift_of, lifts, rank_fixes
from audit.reports.html import HtmlRenderer
from audit.reports.model import ReportIndex, RuleInfo, meta, pseudonym
from audit.reports.org import build_org_report
from audit.reports.team import ScorecardBuilder
from audit.reports.trend_line import trend_points
from audit.scoring import ServiceRef, score

# Checkout's and Search's services in Acme, with their owners (Gift Cards is owned by two teams).
CHECKOUT, SEARCH, PAYMENTS = "PTEAM02", "PTEAM03", "PTEAM01"
SERVICES = {
    "PSVC008": ("Checkout Web", (CHECKOUT,)),
    "PSVC009": ("Cart Service", (CHECKOUT,)),
    "PSVC010": ("Order Notifications", (CHECKOUT,)),
    "PSVC011": ("Promotions Engine", (CHECKOUT,)),
    "PSVC012": ("Tax Calculation", (CHECKOUT,)),
    "PSVC013": ("Gift Cards", (CHECKOUT, PAYMENTS)),
    "PSVC014": ("Search API", (SEARCH,)),
}
LEVELS = {"OWN-01": 1, "OWN-05": 1, "SVC-01": 1, "OC-02": 2, "OC-03": 2, "SVC-02": 2, "ESC-02": 2, "OWN-06": 4}


def finding(rule_id: str, entity_type: str, entity_id: str, name: str, services: tuple[str, ...],
            status: Status = Status.FAIL, severity: Severity = Severity.HIGH) -> Finding:
    teams = tuple(sorted({t for s in services for t in SERVICES[s][1]}))
    return Finding(rule_id, entity_type, entity_id, name, status, severity, LEVELS[rule_id], Mode.STATIC,
                   f"{rule_id} on {name}", service_ids=services, team_ids=teams)


def hand_built_findings() -> list[Finding]:
    service = {sid: name for sid, (name, _) in SERVICES.items()}
    passing = [finding("OWN-01", "service", sid, service[sid], (sid,), Status.PASS) for sid in SERVICES
               if sid != "PSVC013"]
    return passing + [
        # Checkout's primary rotates one person: it alone keeps Checkout Web and Cart Service at level 1.
        finding("OC-03", "schedule", "PSCH004", "Checkout primary", ("PSVC008", "PSVC009")),
        finding("OWN-06", "service", "PSVC009", "Cart Service", ("PSVC009",), severity=Severity.LOW),
        # No chat channel: alone on Order Notifications; beside a second level-2 failure on Promotions.
        finding("SVC-02", "service", "PSVC010", "Order Notifications", ("PSVC010",), severity=Severity.MEDIUM),
        finding("SVC-02", "service", "PSVC011", "Promotions Engine", ("PSVC011",), severity=Severity.MEDIUM),
        finding("OC-02", "escalation_policy", "PEP0005", "Promotions", ("PSVC011",)),
        # No runbook (level 1) and no chat (level 2): the level-1 fix lifts Tax Calculation one level only.
        finding("OWN-05", "service", "PSVC012", "Tax Calculation", ("PSVC012",), severity=Severity.MEDIUM),
        finding("SVC-02", "service", "PSVC012", "Tax Calculation", ("PSVC012",), severity=Severity.MEDIUM),
        # Two owners and no integration: two level-1 rules, so neither fix alone lifts Gift Cards.
        finding("OWN-01", "service", "PSVC013", "Gift Cards", ("PSVC013",), severity=Severity.CRITICAL),
        finding("SVC-01", "service", "PSVC013", "Gift Cards", ("PSVC013",)),
        # Search API: ESC-02 fails; OC-02 is waived, so it blocks nothing and ESC-02 alone lifts it.
        finding("ESC-02", "escalation_policy", "PEP0007", "Search", ("PSVC014",)),
        finding("OC-02", "escalation_policy", "PEP0007", "Search", ("PSVC014",), Status.WAIVED),
    ]


@pytest.fixture(scope="module")
def hand_built(acme):
    """Acme's snapshot, facts and rules, scored on the findings above instead of its own."""
    findings = hand_built_findings()
    refs = [ServiceRef(sid, name, teams) for sid, (name, teams) in SERVICES.items()]
    return dataclasses.replace(acme, waivers=WaiverOutcome(tuple(findings), (), ())).with_scores(score(findings, refs))


def test_levels_of_the_hand_built_account(hand_built):
    levels = {sid: s.level for sid, s in hand_built.scores.services.items()}
    assert levels == {"PSVC008": 1, "PSVC009": 1, "PSVC010": 1, "PSVC011": 1, "PSVC012": 0, "PSVC013": 0,
                      "PSVC014": 1}


def test_a_fix_lifts_a_service_only_when_it_alone_blocks_the_next_level(hand_built):
    services = hand_built.scores.services
    found = {lift.service_id: (lift.rule_id, lift.from_level, lift.to_level) for lift in lifts(services)}
    assert found == {
        "PSVC008": ("OC-03", 1, 4),  # nothing else fails
        "PSVC009": ("OC-03", 1, 3),  # OWN-06 (level 4) still fails
        "PSVC010": ("SVC-02", 1, 4),
        "PSVC012": ("OWN-05", 0, 1),  # SVC-02 still fails at level 2
        "PSVC014": ("ESC-02", 1, 4),  # the waived OC-02 blocks nothing
    }
    # Promotions fails SVC-02 and OC-02 at level 2; Gift Cards OWN-01 and SVC-01 at level 1: no single fix.
    assert lift_of(services["PSVC011"]) is None and lift_of(services["PSVC013"]) is None


def test_a_fix_that_lifts_two_services_outranks_one_that_lifts_one(hand_built):
    services = hand_built.scores.services
    ranked = rank_fixes(lifts(services), lambda sid: services[sid].service.team_ids)
    assert [(f.rule_id, f.team_ids, f.services_lifted) for f in ranked][:1] == [("OC-03", (CHECKOUT,), 2)]
    by_rule = {f.rule_id: f for f in ranked}
    # SVC-02 fails on three services but lifts one: Promotions needs OC-02 too, Tax Calculation OWN-05 first.
    assert [lift.service_id for lift in by_rule["SVC-02"].lifts] == ["PSVC010"]
    assert "OWN-01" not in by_rule and "SVC-01" not in by_rule and "OC-02" not in by_rule
    assert all(f.services_lifted == 1 for f in ranked[1:])


def test_fixes_are_grouped_per_rule_and_owning_team(acme):
    # One schedule holds back a Checkout and a Search service: fixing it is one fix for each team.
    findings = [finding("OC-03", "schedule", "PSCH004", "Shared primary", ("PSVC008", "PSVC009", "PSVC014"))]
    refs = [ServiceRef(sid, SERVICES[sid][0], SERVICES[sid][1]) for sid in ("PSVC008", "PSVC009", "PSVC014")]
    services = score(findings, refs).services
    ranked = rank_fixes(lifts(services), lambda sid: services[sid].service.team_ids)
    assert [(f.team_ids, f.services_lifted) for f in ranked] == [((CHECKOUT,), 2), ((SEARCH,), 1)]


def test_org_first_page_lists_the_fixes_with_team_and_pagerduty_path(hand_built, tmp_path):
    index = ReportIndex(hand_built)
    org = build_org_report(index, meta(hand_built), lambda t: f"team-{t}.html")
    top = org.top_fixes
    assert [(f.rule.id, f.teams, f.services_lifted) for f in top][0] == ("OC-03", ("Checkout",), 2)
    assert {f.rule.id for f in top} == {"OC-03", "SVC-02", "OWN-05", "ESC-02"}
    first = top[0]
    assert [s.name for s in first.services] == ["Checkout Web", "Cart Service"]
    assert first.steps == "L1 → L4, L1 → L3"
    assert first.rule.pagerduty_path == "People → Schedules → <schedule> → Edit → layer → Users"
    html = dict(plan_reports(hand_built, tmp_path, formats=["html"]).html)[tmp_path / "index.html"]
    summary = first_section(html)
    assert summary.index("OC-03") < summary.index("ESC-02")
    assert "People → Schedules → &lt;schedule&gt; → Edit → layer → Users" in summary


def test_a_team_page_ranks_its_fixes_by_services_lifted(hand_built):
    builder = ScorecardBuilder(ReportIndex(hand_built), meta(hand_built), lambda t: "")
    card = builder.build(CHECKOUT, hand_built.scores.teams[CHECKOUT])
    assert [(f.rule.id, f.services_lifted) for f in card.fix_first] == [("OC-03", 2), ("SVC-02", 1), ("OWN-05", 1)]
    assert card.needs_several == 2  # Promotions Engine and Gift Cards


def test_team_furthest_behind_names_the_rule_holding_most_services(hand_built):
    org = build_org_report(ReportIndex(hand_built), meta(hand_built), lambda t: "")
    # Three teams: the one furthest behind is Payments, whose only service (Gift Cards) fails two
    # level-1 rules; the critical one (OWN-01) comes first among equals.
    assert [(row.team.id, row.rule.id if row.rule else None, row.held_back) for row in org.furthest_behind] == [
        (PAYMENTS, "OWN-01", 1)]
    holding = ReportIndex(hand_built)
    checkout = build_org_report(holding, meta(hand_built), lambda t: "").teams
    assert {t.id for t in checkout} == {CHECKOUT, SEARCH, PAYMENTS}


# ------------------------------------------------------------------ Acme's first pages


def first_section(html: str) -> str:
    start = html.index('<section class="exec-summary"')
    return html[start:html.index("</section>", start)]


def test_org_first_page_answers_the_three_questions(acme_html, acme, acme_previous):
    summary = first_section((acme_html / "index.html").read_text())
    assert "How mature are we: then and now" in summary and "at the audit of" in summary
    assert "Teams furthest behind" in summary and "The rule holding most of its services back" in summary
    assert "What to fix first" in summary and "Where in PagerDuty" in summary
    assert "Trend over 2 audits" in summary
    org = build_org_report(ReportIndex(acme, acme_previous), meta(acme, acme_previous), lambda t: "")
    assert 1 <= len(org.top_fixes) <= 5
    for fix in org.top_fixes:
        assert fix.rule.id in summary
        for service in fix.services:  # each lifted service has exactly this rule at its next level
            scored = next(s for s in acme.scores.services.values() if s.service.name == service.name)
            assert {f.rule_id for f in scored.next_level_blockers} == {fix.rule.id}
    lifted = [f.services_lifted for f in org.top_fixes]
    assert lifted == sorted(lifted, reverse=True)
    for row in org.furthest_behind:
        assert row.team.name in summary and row.rule is not None and row.rule.id in summary


def test_org_first_page_says_when_there_is_only_one_audit(acme, tmp_path):
    html = dict(plan_reports(acme, tmp_path, formats=["html"]).html)[tmp_path / "index.html"]
    summary = first_section(html)
    assert "Only one audit so far" in summary and "then and now" not in summary


def test_org_pdf_page_one_holds_the_first_page(acme_pdf, acme, acme_previous):
    reader = pypdf.PdfReader(acme_pdf["org.pdf"].path)
    first = re.sub(r"\s+", " ", reader.pages[0].extract_text())
    for part in ("How mature are we", "Teams furthest behind", "What to fix first", "Trend over 2 audits"):
        assert part in first, part
    org = build_org_report(ReportIndex(acme, acme_previous), meta(acme, acme_previous), lambda t: "")
    for fix in org.top_fixes:  # all five fixes fit on the page: none spills onto page two
        assert fix.rule.id in first
    assert "What needs attention" in re.sub(r"\s+", " ", reader.pages[1].extract_text())[:40]


def test_team_first_page_figures_match_the_facts(acme, acme_previous, acme_html):
    card = ScorecardBuilder(ReportIndex(acme, acme_previous), meta(acme, acme_previous), lambda t: "").build(
        PAYMENTS, acme.scores.teams[PAYMENTS])
    users = acme.facts.tables["user"].set_index("id", drop=False)
    assert card.on_call_listed
    for person in card.on_call_listed:
        user = users[users["name"] == person.person.name].iloc[0]
        assert person.hours == pytest.approx(float(user["on_call_hours"]))
        assert person.night_hours == pytest.approx(float(user["on_call_hours"]) * float(user["night_share_pct"]) / 100)
    html = (acme_html / "team-payments-PTEAM01.html").read_text()
    top = html[:html.index('<h2 id="services">')]
    assert "Who is on call how much" in top and "Fix first" in top
    assert f"{card.team.mean_level:.1f}" in top and card.team.change is not None
    for person in card.on_call_listed:
        shown = f"{person.hours:,.0f} h" if person.hours >= 10 else f"{person.hours:.1f} h"
        assert person.person.name in top and shown in top
    for fix in card.fix_first:
        assert fix.rule.id in top


PEOPLE_COLUMNS = ("Person", "Hours on call", "Night hours", "Share of window", "Night share",
                  "Night pages a week", "Sole level 1 of", "Teams")


def people_tables(html: str) -> list[str]:
    return re.findall(r'<table class="sortable stack people">.*?</table>', html, re.S)


def test_team_scorecard_has_one_table_of_who_is_on_call(acme, acme_previous):
    # "Who is on call how much" carries what the "People" table said (night share, sole level 1,
    # teams): one table, every person once. In print the most loaded stay on the first page and the
    # others close the document, after the findings (the page budget).
    card = ScorecardBuilder(ReportIndex(acme, acme_previous), meta(acme, acme_previous), lambda t: "").build(
        PAYMENTS, acme.scores.teams[PAYMENTS])
    extra = tuple(dataclasses.replace(p, person=dataclasses.replace(p.person, name=f"Extra Person {i}"), hours=1.0)
                  for i, p in enumerate(card.people[:3]))
    card = dataclasses.replace(card, people=card.people + extra)
    renderer = HtmlRenderer()
    screen = renderer.team(card)
    assert 'id="load"' not in screen and ">People<" not in screen
    [table] = people_tables(screen)
    assert all(f">{column}<" in table for column in PEOPLE_COLUMNS)
    assert [table.count(f">{p.person.name}<") for p in card.people] == [1] * len(card.people) == [1] * 11
    printed = renderer.team(card, for_print=True)
    first, rest = people_tables(printed)
    assert printed.index(first) < printed.index('<h2 id="services">') < printed.index('<h2 id="findings">') \
        < printed.index(rest)
    assert [p.person.name for p in card.people if f">{p.person.name}<" in first] == \
        [p.person.name for p in card.on_call_listed] and len(card.on_call_listed) == 8
    assert [p.person.name for p in card.people if f">{p.person.name}<" in rest] == \
        [f"Extra Person {i}" for i in range(3)]
    assert "The 8 most loaded of 11; the other 3 close this document." in re.sub(r"\s+", " ", printed)


def test_team_first_page_hides_names_when_anonymized(acme, tmp_path):
    plan = plan_reports(acme, tmp_path, formats=["html"], team_id=PAYMENTS, anonymize_people=True)
    html = plan.html[0][1]
    top = html[:html.index('<h2 id="services">')]
    users = acme.facts.tables["user"]
    on_call = users[users["on_call"] & users["service_ids"].map(
        lambda ids: bool(set(ids) & set(acme.scores.teams[PAYMENTS].service_ids)))]
    assert len(on_call)
    for user_id, name in zip(on_call["id"], on_call["name"]):
        assert name not in top and pseudonym(str(user_id)) in top


def test_trend_line_holds_every_known_audit_once(acme, acme_previous):
    earlier = history_point(acme_previous, None)
    now = history_point(acme, acme_previous)
    # The folder holds the previous snapshot again, and the current one: each is one point.
    history = History((earlier, now))
    points = trend_points(acme, acme_previous, history)
    assert len(points) == 2 and points[-1].score == acme.scores.org.score
    assert points[0].score == acme_previous.scores.org.score
    alone = trend_points(acme)
    assert len(alone) == 1
    older = dataclasses.replace(earlier, snapshot="2026-q3", crawled_at="2026-10-01T00:00:00Z")
    later = dataclasses.replace(earlier, snapshot="2999-q1", crawled_at="2999-01-01T00:00:00Z")
    points = trend_points(acme, None, History((later, older)))
    assert [p.snapshot for p in points] == ["2026-q3", acme.snapshot.path.name]  # the future is left out
    assert points[0].day == dt.date(2026, 10, 1)
    assert trend_points(acme)[0].day == dt.date.fromisoformat(now.crawled_at[:10])


def test_pagerduty_path_is_the_fix_texts_leading_steps():
    info = RuleInfo("X", "x", "high", 1, "", "Services → <service> → Integrations → Add an integration (the tool).",
                    None, False)
    assert info.pagerduty_path == "Services → <service> → Integrations → Add an integration"
    prose = dataclasses.replace(info, fix="In pd-audit.toml add a tier (Services → <service> → Edit: record it).")
    assert prose.pagerduty_path is None
