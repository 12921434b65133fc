"""Bad input to ``pd-audit plan`` is refused with one line and exit 2, before anything is judged."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from audit.cli import main

from .conftest import PLANS


def plan_run(*args: str):
    return CliRunner().invoke(main, ["plan", *args])


@pytest.mark.parametrize(("content", "says"), [
    (b"tfplan\x00\x01binary", "not JSON; give the output of `terraform show -json PLANFILE`"),
    (b"[]", "not a Terraform plan (no format_version)"),
    (json.dumps({"format_version": "1.0", "values": {}}).encode(), "a Terraform state, not a plan"),
    (json.dumps({"format_version": "1.2", "resource_changes": {"a": 1}}).encode(), "resource_changes is not a list"),
    (json.dumps({"format_version": "1.2", "resource_changes": [{"address": "pagerduty_team.x", "type":
                 "pagerduty_team", "change": {"actions": []}}]}).encode(), "pagerduty_team.x) has no change.actions"),
    (json.dumps({"format_version": "1.2", "resource_changes": [], "timestamp": "yesterday"}).encode(),
     "timestamp 'yesterday' is not an ISO-8601 time"),
    (b"[" * 100_000, "nested too deeply"),
])
def test_what_is_not_a_plan_is_refused_in_one_line(tmp_path, content, says):
    path = tmp_path / "plan.json"
    path.write_bytes(content)
    result = plan_run(str(path))
    assert result.exit_code == 2, result.output
    assert says in result.output and len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_a_missing_plan_or_baseline_is_named(tmp_path):
    assert "no such file" in plan_run(str(tmp_path / "absent.json")).output
    result = plan_run(str(PLANS / "reverted.json"), "--baseline", str(tmp_path / "absent-baseline.json"))
    assert result.exit_code == 2 and "absent-baseline.json" in result.output


def test_live_needs_a_snapshot_folder_to_crawl_into():
    result = plan_run(str(PLANS / "reverted.json"), "--live")
    assert result.exit_code == 2
    assert "--live needs --snapshot DIR" in result.output


def test_terraform_files_that_do_not_parse_are_named(tmp_path):
    pytest.importorskip("hcl2", reason="python-hcl2 is not installed (pip install -e .)")
    (tmp_path / "ok.tf").write_text('resource "pagerduty_team" "a" {\n  name = "A"\n}\n', encoding="utf-8")
    (tmp_path / "broken.tf").write_text('resource "pagerduty_team" "b" {\n  name = \n', encoding="utf-8")
    result = plan_run(str(PLANS / "reverted.json"), "--tf-dir", str(tmp_path))
    assert result.exit_code == 2
    assert f"{tmp_path / 'broken.tf'}: not valid HCL" in result.output
    assert plan_run(str(PLANS / "reverted.json"), "--tf-dir", str(tmp_path / "nowhere")).exit_code == 2


def test_a_snapshot_that_is_not_one_is_refused(tmp_path):
    result = plan_run(str(PLANS / "reverted.json"), "--snapshot", str(tmp_path))
    assert result.exit_code == 2 and "manifest.json" in result.output


@pytest.fixture
def without_module(monkeypatch):
    """Make ``import NAME`` fail as in an environment where that package was never installed."""
    import builtins
    import sys

    real_import = builtins.__import__

    def hide(name: str) -> None:
        monkeypatch.delitem(sys.modules, name, raising=False)

        def importer(module, *args, **kwargs):
            if module == name or module.startswith(name + "."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return real_import(module, *args, **kwargs)

        monkeypatch.setattr(builtins, "__import__", importer)

    return hide


@pytest.mark.parametrize(("module", "says"), [
    ("hcl2", "--tf-dir needs the python-hcl2 package, which is not installed here: python -m pip install "
             "'python-hcl2"),
    ("lark", "--tf-dir needs the lark (needed by python-hcl2) package"),
], ids=["hcl2", "lark"])
def test_tf_dir_without_the_hcl_parser_installed_is_one_line_naming_the_package(tmp_path, without_module, module,
                                                                                  says):
    (tmp_path / "main.tf").write_text('resource "pagerduty_team" "a" {\n  name = "A"\n}\n', encoding="utf-8")
    without_module(module)
    result = plan_run(str(PLANS / "reverted.json"), "--tf-dir", str(tmp_path))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"pd-audit: error: {says}") and "internal error" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_plan_without_tf_dir_is_judged_without_the_hcl_parser(without_module):
    without_module("hcl2")
    result = plan_run(str(PLANS / "reverted.json"))
    assert result.exit_code in (0, 1), result.output
    assert "error" not in result.stderr
