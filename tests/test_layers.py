"""The house's shape (issue 14.6): imports go one way, and no module grows into a god module.

Layers, lowest first: the core (snapshot, facts, rules, scoring, gate... everything else),
the renderers (``audit.outputs``, ``audit.reports`` and the Terraform plan's ``audit.plan.outputs``),
and the command line (``audit.cli`` and its ``audit.commands``) on top. A module may import its own
layer or a lower one.
Imports inside functions count too: a late import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

AUDIT = Path(__file__).resolve().parents[1] / "audit"
MAX_LINES = 600
RENDERERS = ("audit.outputs", "audit.reports", "audit.plan.outputs")
# Modules over the limit when it was set, with their size then: they may shrink, never grow,
# and leave this list once under the limit (the CLI's rendering moves to outputs/, issue 14.5).
OVERSIZE: dict[str, int] = {}
# Modules held well under the limit by design: the CLI is the click group and its wiring only
# (the commands live in audit.commands, one module per family; issue 14.5).
THIN = {"audit.cli": 80}


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(AUDIT.rglob("*.py")):
        parts = path.relative_to(AUDIT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


MODULES = _modules()


def _layer(module: str) -> int:
    if module == "audit.cli" or module.startswith("audit.commands"):
        return 2
    if any(module == prefix or module.startswith(prefix + ".") for prefix in RENDERERS):
        return 1
    return 0


def _imports(module: str, path: Path) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name == "audit" or name.startswith("audit.")}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_from_higher_layers_to_lower_ones_only(module):
    upward = sorted(
        target for target in _imports(module, MODULES[module])
        if target in MODULES and _layer(target) > _layer(module)
    )
    assert not upward, f"{module} (layer {_layer(module)}) imports a higher layer: {upward}"


def test_the_layer_check_sees_an_upward_import(tmp_path):
    # The check above must be able to fail: a core module importing a renderer is caught.
    path = tmp_path / "scoring.py"
    path.write_text("def late():\n    from audit.outputs.summary import summarize\n", encoding="utf-8")
    assert "audit.outputs.summary" in _imports("audit.scoring", path)
    assert _layer("audit.outputs.summary") > _layer("audit.scoring")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_over_the_line_limit(module):
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    if module in OVERSIZE:
        assert lines <= OVERSIZE[module], f"{module} grew to {lines} lines (was {OVERSIZE[module]}): split it"
        assert lines > MAX_LINES, f"{module} is {lines} lines now: remove it from OVERSIZE"
    else:
        limit = THIN.get(module, MAX_LINES)
        assert lines <= limit, f"{module} is {lines} lines (limit {limit}): give a part its own module"


def _reads_raw_snapshot(path: Path) -> list[str]:
    """Calls such as ``assessment.snapshot.iter("services")``: raw API JSON, not the facts."""
    reads = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("iter", "collection")
            and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == "snapshot"
        ):
            reads.append(f"line {node.lineno}: .snapshot.{node.func.attr}(...)")
    return reads


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _layer(m) == 1))
def test_renderers_read_the_assessment_not_raw_api_json(module):
    # Every output is a function of the Assessment (issue 14.4): what a report shows from
    # PagerDuty's objects (descriptions, standards scores...) is a fact column.
    assert not _reads_raw_snapshot(MODULES[module]), _reads_raw_snapshot(MODULES[module])


def test_the_raw_read_check_sees_one(tmp_path):
    path = tmp_path / "model.py"
    path.write_text("def names(a):\n    return [s['name'] for s in a.snapshot.iter('services')]\n", encoding="utf-8")
    assert _reads_raw_snapshot(path) == ["line 2: .snapshot.iter(...)"]
