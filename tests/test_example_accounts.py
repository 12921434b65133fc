"""The bundled Acme account, its list of planted problems, and the large-account generator.

The Acme account is what the demo and the scoring tests run on, so it must be internally
consistent (every reference resolves, ids unique), match the script that builds it, and its
PLANTED.md must name real objects and real rule ids, covering every mode S and W rule.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from audit.emulator.generate import generate_account, make_id, write_account
from audit.emulator.render_v2 import render_schedule
from tests.reference import RULES_CATALOG, require_reference

REPO = Path(__file__).resolve().parents[1]
ACME = REPO / "examples" / "acme"
WINDOW = (datetime(2027, 1, 4, tzinfo=timezone.utc), datetime(2027, 2, 1, tzinfo=timezone.utc))
ID_COLLECTIONS = ("teams", "users", "services", "escalation_policies", "schedules", "schedules_v3",
                  "overrides", "business_services", "service_dependencies")
ENTITY_COLLECTIONS = {"service": "services", "escalation_policy": "escalation_policies",
                      "schedule": "schedules", "team": "teams", "user": "users"}
# Which entity each rule family judges (rules-catalog.md, "Entities").
RULE_ENTITY = {"PPL-03": "schedule", "PRC-05": "escalation_policy", "OWN-02": "team", "OC-08": "team", "OC-12": "team", "OC-02": "escalation_policy",
               "OC-01": "service", "OC-09": "user"}


@pytest.fixture(scope="module")
def acme() -> dict:
    return json.loads((ACME / "account.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def planted() -> dict:
    text = (ACME / "PLANTED.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1, "PLANTED.md must hold exactly one yaml block"
    return yaml.safe_load(blocks[0])


@pytest.fixture(scope="module")
def catalog() -> dict[str, str]:
    """Rule id -> mode, read from the catalog's tables."""
    rows = re.findall(r"^\| ((?:OWN|ESC|OC|RCH|SVC|PPL|PRC)-\d\d) \|.*\| ([SWA]) \| [^|]+ \|$",
                      require_reference(RULES_CATALOG).read_text(encoding="utf-8"), flags=re.M)
    assert len(rows) > 30
    return dict(rows)


def entity_of(rule: str) -> str:
    if rule in RULE_ENTITY:
        return RULE_ENTITY[rule]
    family = rule.split("-")[0]
    return {"OWN": "service", "SVC": "service", "ESC": "escalation_policy", "RCH": "user", "PRC": "service",
            "PPL": "user"}.get(family, "schedule")


def assert_consistent(account: dict) -> None:
    """Every id unique and every reference the emulator follows resolvable."""
    ids = {}
    for collection in ID_COLLECTIONS:
        found = [obj["id"] for obj in account.get(collection, [])]
        duplicates = [i for i, n in Counter(found).items() if n > 1]
        assert not duplicates, f"duplicate {collection} ids: {duplicates[:5]}"
        ids[collection] = set(found)
    nested = [m["id"] for u in account["users"] for m in u["contact_methods"] + u["notification_rules"]]
    assert len(nested) == len(set(nested)), "contact method / notification rule ids repeat"

    for user in account["users"]:
        methods = {m["id"]: m["type"] for m in user["contact_methods"]}
        for rule in user["notification_rules"]:
            method = rule["contact_method"]
            assert methods.get(method["id"]) == method["type"].removesuffix("_reference"), (user["id"], rule["id"])
    for membership in account["memberships"]:
        assert membership["team_id"] in ids["teams"] and membership["user_id"] in ids["users"], membership
        assert membership["role"] in ("manager", "responder", "observer")
    target_collections = {"user_reference": "users", "schedule_reference": "schedules",
                          "schedule_v3_reference": "schedules_v3"}
    for policy in account["escalation_policies"]:
        assert policy["escalation_rules"], policy["id"]
        for level in policy["escalation_rules"]:
            for target in level["targets"]:
                assert target["id"] in ids[target_collections[target["type"]]], (policy["id"], target)
        assert all(t["id"] in ids["teams"] for t in policy["teams"]), policy["id"]
    for service in account["services"]:
        assert service["escalation_policy"]["id"] in ids["escalation_policies"], service["id"]
        assert all(t["id"] in ids["teams"] for t in service["teams"]), service["id"]
    for schedule in account["schedules"]:
        for layer in schedule["schedule_layers"]:
            assert all(u["user"]["id"] in ids["users"] for u in layer["users"]), schedule["id"]
    for schedule in account.get("schedules_v3", []):
        for rotation in schedule["rotations"]:
            for event in rotation["events"]:
                members = event["assignment_strategy"]["members"]
                assert all(m["user_id"] in ids["users"] for m in members if m["type"] == "user_member")
    for override in account.get("overrides", []):
        assert override["schedule_id"] in ids["schedules"] and override["user"]["id"] in ids["users"]
    for dependency in account.get("service_dependencies", []):
        for end in (dependency["supporting_service"], dependency["dependent_service"]):
            collection = "business_services" if end["type"] == "business_service" else "services"
            assert end["id"] in ids[collection], dependency["id"]


# -- the Acme account -----------------------------------------------------------------------

def test_acme_is_consistent_and_realistic(acme):
    assert acme["format"] == "pd-audit-account" and acme["format_version"] == 1
    assert_consistent(acme)
    assert len(acme["teams"]) >= 8 and 55 <= len(acme["users"]) <= 70 and len(acme["services"]) >= 40
    assert len(acme["escalation_policies"]) >= 18 and len(acme["schedules"]) >= 18
    assert len(acme["schedules_v3"]) >= 2
    ids = [o["id"] for c in ID_COLLECTIONS + ("users",) for o in acme[c]]
    assert all(re.fullmatch(r"P[0-9A-Z]{6}", i) for i in ids), "ids must look like PagerDuty's"
    assert {u["role"] for u in acme["users"]} >= {"owner", "admin", "user", "limited_user", "observer",
                                                  "read_only_user"}
    assert {s["status"] for s in acme["services"]} >= {"active", "warning", "critical", "maintenance", "disabled"}
    v3_targets = {t["id"] for p in acme["escalation_policies"] for r in p["escalation_rules"]
                  for t in r["targets"] if t["type"] == "schedule_v3_reference"}
    assert len(v3_targets) >= 2


def test_acme_layers_start_before_the_window(acme):
    for schedule in acme["schedules"]:
        for layer in schedule["schedule_layers"]:
            assert datetime.fromisoformat(layer["start"]) < WINDOW[0], (schedule["id"], layer["id"])


def test_acme_matches_its_build_script(acme):
    spec = importlib.util.spec_from_file_location("acme_build_account", ACME / "build_account.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    assert module.build_account() == acme, "account.json is stale: run examples/acme/build_account.py"


# -- PLANTED.md ---------------------------------------------------------------------------------

def test_planted_names_existing_objects_and_known_rules(acme, planted, catalog):
    entries = planted["planted"]
    assert len(entries) == len({(e["rule"], e["entity_type"], e["entity_id"]) for e in entries})
    for entry in entries:
        assert catalog.get(entry["rule"]) in ("S", "W", "A"), entry
        assert entry["entity_type"] == entity_of(entry["rule"]), entry
        collections = [acme[ENTITY_COLLECTIONS[entry["entity_type"]]]]
        if entry["entity_type"] == "schedule":
            collections.append(acme["schedules_v3"])
        assert entry["entity_id"] in {o["id"] for c in collections for o in c}, entry


def test_every_static_and_window_rule_has_a_planted_failure(planted, catalog):
    expected = {rule for rule, mode in catalog.items() if mode in "SW"} - {"OC-12"}  # OC-12 is info only
    assert expected <= {e["rule"] for e in planted["planted"]}


def test_planted_table_and_yaml_agree(planted):
    text = (ACME / "PLANTED.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| ((?:OWN|ESC|OC|RCH|SVC|PPL|PRC)-\d\d) \| (P[0-9A-Z]{6}) \|", text, flags=re.M))
    assert rows == {(e["rule"], e["entity_id"]) for e in planted["planted"]}


def test_tier_mapping_covers_every_service_but_the_planted_one(acme, planted):
    mapped = [sid for ids in planted["tiers"].values() for sid in ids]
    assert len(mapped) == len(set(mapped))
    unmapped = {s["id"] for s in acme["services"]} - set(mapped)
    assert unmapped == {e["entity_id"] for e in planted["planted"] if e["rule"] == "OWN-08"}


# -- window checks of the planted W findings, through the emulator's schedule renderer ----------

def rendered_hours(acme: dict, schedule_id: str) -> tuple[dict[str, float], float]:
    """Hours per person in the final schedule, and override hours, over the window."""
    schedule = next(s for s in acme["schedules"] if s["id"] == schedule_id)
    overrides = [o for o in acme["overrides"] if o["schedule_id"] == schedule_id]
    rendered = render_schedule(schedule, overrides, *WINDOW)
    hours: Counter = Counter()
    for shift in rendered.final:
        hours[shift.user_id] += (shift.end - shift.start).total_seconds() / 3600
    override_hours = sum((s.end - s.start).total_seconds() / 3600 for s in rendered.overrides)
    return hours, override_hours


def test_override_share_is_planted_only_where_it_exceeds_a_quarter(acme, planted):
    flagged = {e["entity_id"] for e in planted["planted"] if e["rule"] == "OC-10"}
    for schedule_id in {o["schedule_id"] for o in acme["overrides"]}:
        hours, override_hours = rendered_hours(acme, schedule_id)
        assert (override_hours / sum(hours.values()) > 0.25) == (schedule_id in flagged), schedule_id


def test_fairness_is_planted_only_where_someone_exceeds_one_and_a_half_means(acme, planted):
    flagged = {e["entity_id"] for e in planted["planted"] if e["rule"] == "OC-06"}
    for schedule in acme["schedules"]:
        if not all(layer["users"] for layer in schedule["schedule_layers"]):
            continue  # the empty-layer schedule (OC-11) mirrors Payments primary
        hours, _ = rendered_hours(acme, schedule["id"])
        if hours:
            mean = sum(hours.values()) / len(hours)
            assert (max(hours.values()) > 1.5 * mean) == (schedule["id"] in flagged), schedule["name"]


def test_identity_level_one_loses_its_nights_but_checkout_is_covered(acme):
    def coverage(schedule_id: str) -> float:
        hours, _ = rendered_hours(acme, schedule_id)
        return sum(hours.values()) / (28 * 24)

    by_name = {s["name"]: s["id"] for s in acme["schedules"]}
    assert coverage(by_name["Checkout primary"]) == pytest.approx(1.0)
    assert 0.5 < coverage(by_name["Identity primary"]) < 0.9


# -- the generator ------------------------------------------------------------------------------

SMALL = dict(services=1200, policies=300, schedules=400, users=1500, teams=60, v3_schedules=20)


@pytest.fixture(scope="module")
def small_account() -> dict:
    return generate_account(**SMALL, seed=7)


def test_generator_gives_the_requested_counts_and_a_consistent_account(small_account):
    for collection, key in (("services", "services"), ("escalation_policies", "policies"),
                            ("schedules", "schedules"), ("users", "users"), ("teams", "teams"),
                            ("schedules_v3", "v3_schedules")):
        assert len(small_account[collection]) == SMALL[key], collection
    assert_consistent(small_account)


def test_generator_has_no_team_and_two_team_objects(small_account):
    service_team_counts = Counter(len(s["teams"]) for s in small_account["services"])
    assert service_team_counts[0] > 0 and service_team_counts[2] > 0 and service_team_counts[1] > 0
    teams_per_user = Counter(m["user_id"] for m in small_account["memberships"])
    assert len(small_account["users"]) > len(teams_per_user), "some users must be in no team"
    assert 2 in teams_per_user.values()
    assert all(any(m["role"] == "manager" for m in small_account["memberships"] if m["team_id"] == t["id"])
               for t in small_account["teams"])


def test_generator_is_deterministic_per_seed(small_account):
    assert generate_account(**SMALL, seed=7) == small_account
    assert generate_account(**SMALL, seed=8) != small_account


def test_generator_accounts_load_in_the_emulator(tmp_path):
    from audit.emulator.account import load_account

    path = write_account(generate_account(services=50, policies=10, schedules=12, users=40, teams=4,
                                          v3_schedules=2, seed=1), tmp_path / "account.json")
    account = load_account(path)
    assert len(account.all("services")) == 50


def test_generator_refuses_impossible_sizes():
    from audit.errors import UserError

    with pytest.raises(UserError):
        generate_account(services=10, policies=0, schedules=0, users=5, teams=1)
    with pytest.raises(UserError):
        make_id("PUSR", 36 ** 3)


@pytest.mark.slow
def test_generator_reaches_past_the_api_cap():
    account = generate_account(services=12_000, policies=3_000, schedules=4_000, users=15_000, teams=600)
    assert len(account["services"]) > 10_000 and len(account["users"]) > 10_000
    assert_consistent(account)
