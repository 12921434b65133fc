"""The one setting for the reference folder, and CI's rule that nothing needing it may skip."""

from __future__ import annotations

import pytest

from tests.reference import REPO_ROOT, reference_dir, require_reference


def test_the_reference_folder_defaults_to_shared_beside_the_repository(monkeypatch):
    monkeypatch.delenv("PD_AUDIT_REFERENCE_DIR", raising=False)
    assert reference_dir() == REPO_ROOT.parent / "shared"


def test_a_missing_reference_file_skips_naming_the_file_and_the_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("PD_AUDIT_REFERENCE_DIR", str(tmp_path))
    monkeypatch.delenv("PD_AUDIT_REQUIRE_ALL", raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        require_reference("pagerduty-api/openapiv3.json")
    assert str(tmp_path / "pagerduty-api" / "openapiv3.json") in str(skipped.value)
    assert "PD_AUDIT_REFERENCE_DIR" in str(skipped.value)


def test_ci_turns_the_skip_into_a_failure(monkeypatch, tmp_path):
    monkeypatch.setenv("PD_AUDIT_REFERENCE_DIR", str(tmp_path))
    monkeypatch.setenv("PD_AUDIT_REQUIRE_ALL", "1")
    with pytest.raises(pytest.fail.Exception, match="must run here"):
        require_reference("rules-catalog.md")


def test_a_present_reference_file_is_found_through_the_setting(monkeypatch, tmp_path):
    (tmp_path / "rules-catalog.md").write_text("| OWN-01 |", encoding="utf-8")
    monkeypatch.setenv("PD_AUDIT_REFERENCE_DIR", str(tmp_path))
    monkeypatch.setenv("PD_AUDIT_REQUIRE_ALL", "1")
    assert require_reference("rules-catalog.md") == tmp_path / "rules-catalog.md"
