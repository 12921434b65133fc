"""Loading rule packs: what a valid pack gives, and every way a pack is refused."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from audit.errors import UserError
from audit.findings import Mode, Severity
from audit.rules import BUILTIN_PACKAGE, builtin_pack_files, load_packs

from .conftest import CORE_PACK, DATA

INVALID = yaml.safe_load((DATA / "invalid_packs.yaml").read_text(encoding="utf-8"))


def _case_text(case: dict) -> str:
    if "text" in case:
        return case["text"]
    record = copy.deepcopy(INVALID["base"])
    record.update(case.get("set", {}))
    for field in case.get("drop", []):
        del record[field]
    return yaml.safe_dump({"rules": [record]}, sort_keys=False)


@pytest.mark.parametrize("case", INVALID["cases"], ids=[case["case"] for case in INVALID["cases"]])
def test_invalid_pack_is_one_line_naming_file_rule_and_field(case, account, tmp_path):
    pack_file = tmp_path / "acme-ownership.yaml"
    pack_file.write_text(_case_text(case), encoding="utf-8")
    with pytest.raises(UserError) as raised:
        load_packs([pack_file], account.columns, include_builtin=False)
    message = str(raised.value)
    assert "\n" not in message
    expected_rule = case.get("rule", INVALID["base"]["id"])
    prefix = f"{pack_file}: " + (f"{expected_rule}: " if expected_rule else "")
    prefix += f"{case['field']}: " if case.get("field") else ""
    assert message.startswith(prefix), message
    assert case["problem"] in message


def test_core_pack_loads_sorted_with_declared_metadata(core_pack):
    assert [rule.id for rule in core_pack] == sorted(rule.id for rule in core_pack)
    assert len(core_pack) == 13
    oc03 = core_pack.resolve("OC-03")
    assert oc03.entity == "schedule"
    assert oc03.severity is Severity.HIGH
    assert oc03.mode is Mode.STATIC
    assert oc03.maturity_level == 2
    assert oc03.param_values == {"min_people": 2}
    assert oc03.params["min_people"].source == "I"
    assert oc03.source == str(CORE_PACK)
    assert core_pack.resolve("OC-12").maturity_level is None


def test_aliases_resolve_to_the_canonical_rule(core_pack):
    assert core_pack.resolve("OWN-90").id == "OWN-05"
    assert core_pack.resolve("OWN-9") is None  # exact ids only, never prefixes


def test_directory_of_packs_loads_every_yaml_file(account, tmp_path):
    (tmp_path / "core.yaml").write_text(CORE_PACK.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "acme.yml").write_text(
        yaml.safe_dump(
            {
                "rules": [
                    {
                        "id": "ACME-01",
                        "title": "Payments services are tier 1",
                        "entity": "service",
                        "applies_when": "name.str.startswith('Payments')",
                        "condition": "status == 'active'",
                        "severity": "low",
                        "level": 4,
                        "mode": "S",
                        "rationale": "House rule.",
                        "fix": "Ask the SRE team.",
                        "message": "{name} is {status}",
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    (tmp_path / "README.md").write_text("not a pack", encoding="utf-8")
    pack = load_packs([tmp_path], account.columns, include_builtin=False)
    assert pack.resolve("ACME-01").source == str(tmp_path / "acme.yml")
    assert len(pack) == 14


def test_duplicate_id_across_packs_names_both_files(account, tmp_path):
    second = tmp_path / "team-overrides.yaml"
    record = copy.deepcopy(INVALID["base"])
    second.write_text(yaml.safe_dump({"rules": [record]}), encoding="utf-8")
    with pytest.raises(
        UserError, match=rf"^{second}: OWN-01: id: duplicate rule id \(already defined in {CORE_PACK}\)$"
    ):
        load_packs([CORE_PACK, second], account.columns, include_builtin=False)


def test_missing_pack_path_and_empty_directory_are_user_errors(account, tmp_path):
    with pytest.raises(UserError, match="no such rule pack file or directory"):
        load_packs([tmp_path / "nope"], account.columns, include_builtin=False)
    with pytest.raises(UserError, match=r"no rule packs \(\*\.yaml\) in this directory"):
        load_packs([tmp_path], account.columns, include_builtin=False)


def test_entity_without_declared_facts_is_refused(account, tmp_path):
    columns = {entity: names for entity, names in account.columns.items() if entity != "team"}
    with pytest.raises(UserError, match=r"core\.yaml: OWN-02: entity: no facts are declared for 'team'$"):
        load_packs([CORE_PACK], columns, include_builtin=False)


def test_empty_pack_file_is_an_empty_pack(account, tmp_path):
    empty = tmp_path / "later.yaml"
    empty.write_text("# rules arrive later\n", encoding="utf-8")
    assert len(load_packs([empty, CORE_PACK], account.columns, include_builtin=False)) == 13


def test_builtin_packs_come_from_the_package_data(account):
    files = builtin_pack_files()
    assert all(path.suffix == ".yaml" and path.is_file() for path in files)
    package_dir = Path(__import__(BUILTIN_PACKAGE, fromlist=["_"]).__file__).parent
    assert {path.parent for path in files} <= {package_dir}
    assert sorted(files) == files


def test_libyaml_reads_every_builtin_pack_as_the_checking_loader_does():
    from audit.rules import loader

    if loader._FastLoader is None:
        pytest.skip("PyYAML was built without libyaml here")
    for path in builtin_pack_files():
        text = path.read_text(encoding="utf-8")
        assert loader._read_yaml(text) == yaml.load(text, Loader=loader._UniqueKeyLoader), path.name


@pytest.mark.parametrize(("text", "problem"), [
    ("rules:\n  - id: A-01\n    severity: low\n    severity: high\n", "duplicate key 'severity'"),
    ("base: &b {severity: low}\nrules:\n  - *b\n", "aliases (*name) are not allowed"),
])
def test_what_libyaml_would_accept_the_checking_loader_still_refuses(text, problem):
    from audit.rules import loader

    with pytest.raises(yaml.YAMLError, match=problem.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        loader._read_yaml(text)
