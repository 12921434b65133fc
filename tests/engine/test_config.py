"""pd-audit.toml: layering, validation against the rules, tiers, and waivers on findings."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from audit.config import CONFIG_FILENAME, ENV_CONFIG, ENV_DISABLED, load_config
from audit.errors import UserError
from audit.findings import FAIL_ON_CHOICES, Severity, Status, apply_waivers
from audit.gate import at_or_above
from audit.rules import EvaluationContext, evaluate
from audit.scoring import DEFAULT_WEIGHTS

from .conftest import DATA

ACME = DATA / "configs" / "acme.toml"
INVALID = yaml.safe_load((DATA / "invalid_configs.yaml").read_text(encoding="utf-8"))
TODAY = dt.date(2026, 11, 27)


@pytest.mark.parametrize("case", INVALID, ids=[case["case"] for case in INVALID])
def test_invalid_config_is_one_line_naming_file_and_key(case, core_pack, tmp_path):
    path = tmp_path / CONFIG_FILENAME
    path.write_text(case["toml"], encoding="utf-8")
    with pytest.raises(UserError) as raised:
        load_config(None, tmp_path, core_pack, env={})
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {case['error']}"), message
    assert raised.value.exit_code == 2


def test_acme_config_resolves_ids_and_keeps_defaults_in_the_packs(core_pack):
    config = load_config(ACME, DATA, core_pack, env={})
    assert config.sources == ("packaged defaults", str(ACME))
    assert config.thresholds == {"OC-03": {"min_people": 3}, "ESC-07": {"max_delay": 15}}
    assert config.disabled == {"OC-12"}
    assert config.severity == {"OWN-06": Severity.MEDIUM}
    assert config.weights == {**DEFAULT_WEIGHTS, Severity.CRITICAL: 20}
    assert [waiver.rule for waiver in config.waivers] == ["OWN-06", "OC-03", "OWN-05", "ESC-01"]
    assert config.waivers[1].expires == dt.date(2026, 6, 30)


def test_applied_config_overrides_params_severity_and_disables(core_pack, account):
    pack = load_config(ACME, DATA, core_pack, env={}).apply(core_pack)
    assert pack.resolve("OC-12") in pack.disabled and "OC-12" not in [rule.id for rule in pack]
    oc03 = pack.resolve("OC-03")
    assert oc03.param_values == {"min_people": 3} and oc03.overrides == {"min_people": 3}
    assert pack.resolve("ESC-07").param_values == {"min_delay": 5, "max_delay": 15}
    findings = {f.fingerprint: f for f in evaluate(pack, account.facts, EvaluationContext(account.rollup)).findings}
    assert findings["ESC-07:escalation_policy:PEP0003"].status is Status.FAIL  # 30 min > 15
    assert findings["OC-03:schedule:PSCH002"].status is Status.PASS  # 3 people >= 3
    assert findings["OWN-06:service:PSVC003"].severity is Severity.MEDIUM
    assert not any(f.rule_id == "OC-12" for f in findings.values())


def test_layers_file_then_env_then_flags(core_pack, tmp_path):
    (tmp_path / CONFIG_FILENAME).write_text(ACME.read_text(encoding="utf-8"), encoding="utf-8")
    config = load_config(
        None,
        tmp_path,
        core_pack,
        env={ENV_DISABLED: "OWN-06, OWN-90"},
        flags={"thresholds": {"OC-03": {"min_people": 5}}, "weights": {"low": 2}},
    )
    assert config.sources == ("packaged defaults", str(tmp_path / CONFIG_FILENAME), f"${ENV_DISABLED}", "command line")
    assert config.disabled == {"OC-12", "OWN-06", "OWN-05"}
    assert config.thresholds["OC-03"] == {"min_people": 5}
    assert config.thresholds["ESC-07"] == {"max_delay": 15}
    assert config.weights[Severity.LOW] == 2 and config.weights[Severity.CRITICAL] == 20


def test_config_path_comes_from_flag_then_env_then_cwd(core_pack, tmp_path):
    (tmp_path / CONFIG_FILENAME).write_text('disabled = ["OWN-06"]\n', encoding="utf-8")
    (tmp_path / "ci.toml").write_text('disabled = ["OC-06"]\n', encoding="utf-8")
    assert load_config(None, tmp_path, core_pack, env={}).disabled == {"OWN-06"}
    assert load_config(None, tmp_path, core_pack, env={ENV_CONFIG: "ci.toml"}).disabled == {"OC-06"}
    assert load_config(ACME, tmp_path, core_pack, env={ENV_CONFIG: "ci.toml"}).disabled == {"OC-12"}


def test_without_any_file_only_packaged_defaults_apply(core_pack, tmp_path):
    config = load_config(None, tmp_path, core_pack, env={})
    assert config.sources == ("packaged defaults",)
    assert config.weights == DEFAULT_WEIGHTS
    assert config.apply(core_pack).rules == core_pack.rules


def test_missing_explicit_config_is_a_user_error(core_pack, tmp_path):
    with pytest.raises(UserError, match=r"nope\.toml: no such config file$"):
        load_config(tmp_path / "nope.toml", tmp_path, core_pack, env={})
    with pytest.raises(UserError, match=r"gone\.toml: no such config file$"):
        load_config(None, tmp_path, core_pack, env={ENV_CONFIG: "gone.toml"})


def test_invalid_flags_name_the_command_line(core_pack, tmp_path):
    with pytest.raises(UserError, match=r"^command line: disabled\[1\]: unknown rule 'OC-77'$"):
        load_config(None, tmp_path, core_pack, env={}, flags={"disabled": ["OC-77"]})
    with pytest.raises(UserError, match=rf"^\${ENV_DISABLED}: disabled\[2\]: unknown rule 'oc-03'$"):
        load_config(None, tmp_path, core_pack, env={ENV_DISABLED: "OC-03,oc-03"})


def test_tiers_match_by_id_then_name_then_team(core_pack):
    config = load_config(ACME, DATA, core_pack, env={})
    assert config.tier_for("PSVC001", "Payments API", ["PTEAM01"]) == 1  # id beats team
    assert config.tier_for("PSVC003", "Checkout Web", ["PTEAM02"]) == 2
    assert config.tier_for("PSVC002", "Ledger Worker", ["PTEAM01"]) == 3
    assert config.tier_for("PSVC005", "Shared Cache", ["PTEAM02", "PTEAM03"]) is None
    assert config.tier_for("PSVC0011", "Payments API v2", []) is None  # exact ids only


def test_waivers_waive_reopen_and_report(core_pack, account):
    config = load_config(ACME, DATA, core_pack, env={})
    evaluation = evaluate(config.apply(core_pack), account.facts, EvaluationContext(account.rollup))
    outcome = apply_waivers(evaluation.findings, config.waivers, TODAY)
    findings = {f.fingerprint: f for f in outcome.findings}

    waived = findings["OWN-06:service:PSVC006"]
    assert waived.status is Status.WAIVED and waived.original_status is Status.FAIL
    assert waived.waiver.approved_by == "cto@acme.example"
    assert findings["OWN-05:service:PSVC004"].status is Status.WAIVED  # waived through the alias OWN-90

    reopened = findings["OC-03:schedule:PSCH003"]
    assert reopened.status is Status.FAIL and reopened.waiver_expired
    assert reopened.waiver.expires == dt.date(2026, 6, 30)
    assert [w.object_id for w in outcome.expired] == ["PSCH003"]
    assert [w.rule for w in outcome.unused] == ["ESC-01"]  # PEP0001 passes: nothing to waive

    # the same findings before waivers: untouched, and exactly the statuses evaluation gave
    assert len(outcome.findings) == len(evaluation.findings)
    changed = {f.fingerprint for f, g in zip(evaluation.findings, outcome.findings) if f.status is not g.status}
    assert changed == {"OWN-06:service:PSVC006", "OWN-05:service:PSVC004"}


def test_waiver_expires_after_its_last_day(core_pack, account):
    config = load_config(ACME, DATA, core_pack, env={})
    findings = evaluate(config.apply(core_pack), account.facts, EvaluationContext(account.rollup)).findings
    on_last_day = apply_waivers(findings, config.waivers, dt.date(2026, 6, 30))
    day_after = apply_waivers(findings, config.waivers, dt.date(2026, 7, 1))
    fingerprint = "OC-03:schedule:PSCH003"
    assert next(f for f in on_last_day.findings if f.fingerprint == fingerprint).status is Status.WAIVED
    assert next(f for f in day_after.findings if f.fingerprint == fingerprint).status is Status.FAIL
    assert on_last_day.expired == () and len(day_after.expired) == 1


def test_severity_has_one_order_for_gate_reports_and_fail_on():
    # Severity.rank is the only place the order lives: the gate's threshold, the reports'
    # fix order and the --fail-on choices all read it.
    assert sorted(Severity, key=lambda s: s.rank) == [
        Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL,
    ]
    assert FAIL_ON_CHOICES == ("warn", "low", "medium", "high", "critical")
    assert at_or_above(Severity.HIGH, Severity.MEDIUM) and not at_or_above(Severity.LOW, Severity.MEDIUM)
