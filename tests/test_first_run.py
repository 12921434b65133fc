"""A first run without a config, `pd-audit init`, and the audit's one "as of" date, on the example account."""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from audit.assess import as_of, assess, service_tiers
from audit.cli import main
from audit.config import load_config
from audit.facts.columns import column_names
from audit.findings import Status
from audit.rules import load_packs
from audit.snapshot import load
from audit.tiers import DEFAULT_TIER

from .crawl.conftest import ACME, crawl, emulator_app

ACME_CONFIG = Path(__file__).resolve().parents[1] / "examples" / "acme" / "pd-audit.toml"


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    snap, _ = crawl(emulator_app(ACME), tmp_path_factory.mktemp("first-run") / "snap")
    return snap.path


@pytest.fixture(autouse=True)
def no_config_in_reach(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no pd-audit.toml here, and none through the environment
    monkeypatch.delenv("PD_AUDIT_CONFIG", raising=False)


def run(cwd: Path, *args: object):
    assert Path.cwd() == cwd
    return CliRunner().invoke(main, list(map(str, args)), catch_exceptions=False)


def test_without_a_config_tier_is_one_notice_and_holds_nobody_back(snapshot: Path, tmp_path: Path) -> None:
    result = run(tmp_path, "score", snapshot, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["notices"] == [{"rule_id": "OWN-08", "message": (
        f"no tier mapping: every service was judged as tier {DEFAULT_TIER}; `pd-audit init` proposes one")}]
    # Not applicable everywhere: counted, not listed.
    tier_counts = data["finding_counts"]["OWN-08"]
    assert tier_counts["not_applicable"] == len(data["services"]) == sum(tier_counts.values())
    assert not [f for f in data["findings"] if f["rule_id"] == "OWN-08"]
    assert all("OWN-08" not in s["next_level_blockers"] for s in data["services"])
    # The levels are what the other rules decide: the same as with OWN-08 off and every service at the default.
    explicit = tmp_path / "explicit.toml"
    explicit.write_text(f'disabled = ["OWN-08"]\n[[tiers]]\ntier = {DEFAULT_TIER}\nname_pattern = "."\n',
                        encoding="utf-8")
    other_rules = assess(snapshot, config_path=explicit)
    assert data["org"]["level_distribution"] == {
        str(level): count for level, count in other_rules.scores.org.level_distribution.items()}
    assert other_rules.notices == ()
    text = run(tmp_path, "score", snapshot).stdout
    assert text.count("no tier mapping") == 1


def test_with_a_tier_mapping_own_08_judges_every_service(snapshot: Path, tmp_path: Path) -> None:
    partial = tmp_path / "partial.toml"
    partial.write_text('[[tiers]]\ntier = 1\nservice_ids = ["PSVC001"]\n', encoding="utf-8")
    assessment = assess(snapshot, config_path=partial)
    assert assessment.notices == ()
    verdicts = {f.entity_id: f.status for f in assessment.findings if f.rule_id == "OWN-08"}
    assert verdicts.pop("PSVC001") is Status.PASS
    assert set(verdicts.values()) == {Status.FAIL}


def test_init_writes_a_config_that_loads_and_sets_the_proposed_tiers(snapshot: Path, tmp_path: Path) -> None:
    output = tmp_path / "starter.toml"
    result = run(tmp_path, "init", snapshot, "-o", output)
    assert result.exit_code == 0, result.output
    assert f"wrote {output}" in result.stdout
    text = output.read_text(encoding="utf-8")
    document = tomllib.loads(text)
    proposed = {sid: entry["tier"] for entry in document["tiers"] for sid in entry["service_ids"]}
    account = json.loads(ACME.read_text(encoding="utf-8"))
    assert set(proposed) == {s["id"] for s in account["services"]}
    assert set(proposed.values()) == {1, 2, 3}
    # Every proposal says why, next to it.
    for service_id in proposed:
        (line,) = [line for line in text.splitlines() if line.strip().startswith(f'"{service_id}"')]
        assert re.search(r'",\s+# .+: \w+', line), line
    assert proposed["PSVC001"] == 1  # Payments API: 24/7 high urgency, a business service
    # Thresholds: every parameter of every rule, at its default, with its source.
    pack = load_packs([], column_names())
    for rule in pack:
        for name, param in rule.params.items():
            assert document["thresholds"][rule.id][name] == param.default
            assert re.search(rf"^{name} = .*# default, source {param.source}: ", text, re.M), (rule.id, name)
    # The example waiver is commented out, and loads once uncommented.
    assert "waivers" not in document and "# [[waivers]]" in text
    waiver = "\n".join(line[2:] for line in text.splitlines()
                       if line.startswith("# ") and re.match(r"# (\[\[waivers\]\]|\w+ = )", line))
    assert tomllib.loads(waiver)["waivers"][0]["rule"]
    # score --config loads it, and the tiers it proposes are the tiers judged.
    config = load_config(output, tmp_path, pack)
    assert service_tiers(load(snapshot), config) == proposed
    scored = run(tmp_path, "score", snapshot, "--config", output, "--format", "json")
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.stdout)["notices"] == []


def test_init_never_overwrites(snapshot: Path, tmp_path: Path) -> None:
    existing = tmp_path / "pd-audit.toml"
    existing.write_text("# mine\n", encoding="utf-8")
    result = run(tmp_path, "init", snapshot, "-o", existing)
    assert result.exit_code == 2
    assert "already exists" in result.stderr and result.stderr.count("\n") == 1
    assert existing.read_text(encoding="utf-8") == "# mine\n"
    link = tmp_path / "link.toml"
    link.symlink_to(tmp_path / "nowhere.toml")
    assert run(tmp_path, "init", snapshot, "-o", link).exit_code == 2
    assert not (tmp_path / "nowhere.toml").exists()


def test_the_audit_is_as_of_the_crawl(snapshot: Path, tmp_path: Path) -> None:
    snap = load(snapshot)
    crawled = dt.datetime.fromisoformat(snap.manifest["crawl_finished_at"].replace("Z", "+00:00")).date()
    assert as_of(snap) == crawled
    assessment = assess(snap, config_path=ACME_CONFIG)
    assert assessment.today == crawled
    from audit.reports.model import meta

    assert meta(assessment).audit_date == crawled
    pinned = assess(snap, config_path=ACME_CONFIG, today=dt.date(2027, 1, 4))
    assert meta(pinned).audit_date == dt.date(2027, 1, 4)


def test_the_demo_is_as_of_the_emulators_clock(tmp_path: Path) -> None:
    """The demo's emulator pins "now" to the window's start: the crawl records that instant, not the real clock."""
    from audit.demo import DEMO_SINCE, run_demo

    path = run_demo(tmp_path / "demo")
    manifest = load(path).manifest
    assert manifest["crawl_finished_at"].startswith(DEMO_SINCE.date().isoformat())
    assessment = assess(path, config_path=ACME_CONFIG)
    assert assessment.today == DEMO_SINCE.date()
    expired = assessment.waivers.expired
    assert all(w.expires < assessment.today for w in expired)


def test_rules_explain_says_how_a_rule_counts(tmp_path: Path) -> None:
    warned = run(tmp_path, "rules", "explain", "OC-03").stdout
    assert "stay below level 2 (their score below 50)" in warned and "25 x level" in warned
    assert "warn (severity low)" in warned and "--fail-on warn" in warned
    advice = run(tmp_path, "rules", "explain", "OC-12").stdout
    assert "Information only: it never fails" in advice and "stay below level" not in advice
    tier = run(tmp_path, "rules", "explain", "OWN-08").stdout
    assert f"judged as tier {DEFAULT_TIER}" in tier and "pd-audit init" in tier
