"""The built-in pack against the rules catalog (rules-catalog.md of the reference folder): ids, entities, modes, levels, docs.

The catalog's tables are parsed, so a rule that drifts from the public contract (an entity, a mode,
a level) fails here. Mode A rules judge incident history: they ship requiring ``incident_analytics`` and are excluded
on snapshots without incidents; rules waiting for a fact column are listed in ``PENDING`` with
the reason.
"""

from __future__ import annotations

import re

import pytest

from audit.facts.columns import column_names
from audit.rules import Rule, builtin_pack_files, load_packs
from tests.reference import RULES_CATALOG, reference_file

CATALOG = reference_file(RULES_CATALOG)
# Every test here compares the pack with the catalog, which lives in the reference folder.
pytestmark = pytest.mark.reference(RULES_CATALOG)
ENTITY_OF_PREFIX = {"OWN": "service", "ESC": "escalation_policy", "OC": "schedule", "RCH": "user", "SVC": "service",
                    "PRC": "service", "PPL": "user"}  # fmt: skip
# The catalog's "Entities" paragraph: exceptions to the family's default entity.
ENTITY_EXCEPTIONS = {"OWN-02": "team", "OC-01": "service", "OC-02": "escalation_policy", "OC-08": "team",
                     "OC-09": "user", "OC-12": "team", "PRC-05": "escalation_policy", "PPL-03": "schedule"}  # fmt: skip
GUIDE_HOSTS = ("https://ownership.pagerduty.com/", "https://response.pagerduty.com/",
               "https://goingoncall.pagerduty.com/", "https://reviews.pagerduty.com/")  # fmt: skip
# rule id -> why it cannot ship yet (none pending: issue 15 shipped the Practice and People-risk families).
PENDING: dict[str, str] = {}


def catalog_rows() -> dict[str, dict[str, str]]:
    """id -> {mode, level} from every table row of the catalog that starts with a rule id."""
    rows: dict[str, dict[str, str]] = {}
    if not CATALOG.is_file():  # collection still works; the marker skips every test
        return rows
    for line in CATALOG.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 6 and re.fullmatch(r"[A-Z]+-\d{2}", cells[0]):
            rows[cells[0]] = {"mode": cells[4], "level": cells[5]}
    return rows


def expected_entity(rule_id: str) -> str:
    return ENTITY_EXCEPTIONS.get(rule_id, ENTITY_OF_PREFIX[rule_id.split("-")[0]])


def builtin_rules() -> dict[str, Rule]:
    return {rule.id: rule for rule in load_packs([], column_names())}


def test_catalog_parses_into_every_family() -> None:
    rows = catalog_rows()
    assert len(rows) == 51  # OWN 8, ESC 9, OC 12, RCH 6, SVC 8, PRC 5, PPL 3
    assert {rule_id.split("-")[0] for rule_id in rows} == set(ENTITY_OF_PREFIX)


@pytest.mark.parametrize("rule_id", sorted(catalog_rows()) or ["(catalog absent)"])
def test_every_catalog_rule_ships_as_the_catalog_says(rule_id: str) -> None:
    if rule_id in PENDING:
        pytest.xfail(PENDING[rule_id])
    rule = builtin_rules().get(rule_id)
    assert rule is not None, f"{rule_id} is in the catalog but not in the built-in pack"
    row = catalog_rows()[rule_id]
    assert rule.entity == expected_entity(rule_id)
    assert rule.mode.value == row["mode"]
    assert str(rule.level) == row["level"]


def test_pack_holds_only_catalog_rules_and_analytics_rules_wait_for_analytics() -> None:
    rows = catalog_rows()
    for rule_id, rule in builtin_rules().items():
        assert rule_id in rows, f"{rule_id} is not in the catalog"
        # Mode A rules judge incident history, which not every snapshot holds: they must say so.
        assert ("incident_analytics" in rule.requires) == (rows[rule_id]["mode"] == "A"), rule_id


def test_every_rule_is_documented() -> None:
    for rule in builtin_rules().values():
        assert rule.rationale.strip() and rule.fix.strip() and rule.message.strip(), rule.id
        assert rule.guide is not None and rule.guide.url.startswith(GUIDE_HOSTS), rule.id
        assert rule.guide.name.split(":")[0] in ("FSO", "IR", "GOC", "OPS"), rule.id
        assert not rule.title.lower().startswith("ensure"), rule.id
        assert "{" not in rule.fix, f"{rule.id}: fix is shown as written, not formatted"


def test_every_param_says_where_its_default_comes_from() -> None:
    for rule in builtin_rules().values():
        for name, param in rule.params.items():
            assert param.source in ("G", "I", "P", "T"), (rule.id, name)
            if param.source == "T":
                assert "our default" in param.description, f"{rule.id}.{name}: say it is our default"


def test_ids_are_unique_across_the_pack_files() -> None:
    ids = re.findall(r"^\s*- id: (\S+)$", "\n".join(p.read_text(encoding="utf-8") for p in builtin_pack_files()), re.M)
    assert len(ids) == len(set(ids)) == len(builtin_rules())


def test_info_rules_have_info_severity() -> None:
    for rule in builtin_rules().values():
        assert (rule.level == "info") == (rule.severity.value == "info"), rule.id
