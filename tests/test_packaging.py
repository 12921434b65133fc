"""The installed package carries every subpackage and its data (rules, templates, example)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "audit").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert on_disk <= listed, f"add to [tool.setuptools] packages: {sorted(on_disk - listed)}"


def test_data_packages_map_to_top_level_folders():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapping = config["package-dir"]
    assert mapping["audit.builtin_rules"] == "rules"
    assert mapping["audit.report_templates"] == "report_templates"
    for package, folder in mapping.items():
        assert (ROOT / folder / "__init__.py").is_file(), f"{folder} must be importable as {package}"
        assert package in config["packages"]
