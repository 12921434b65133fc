"""``report --history``: each snapshot judged once (issue 18: no second scoring on the report's path).

The folder holds the reported snapshot too, and the previous audit comes from it (or from
--previous): before, the reported snapshot was judged twice (as the report's and as the folder's)
and the previous one twice (as the folder's and as the previous audit).
"""

from __future__ import annotations

import collections
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import audit.assess
from audit import cli

from .conftest import CI_PACK


@pytest.fixture
def judged(monkeypatch) -> collections.Counter[str]:
    """How often each snapshot (by its folder's name) is judged, counted at ``assess``."""
    counts: collections.Counter[str] = collections.Counter()
    real = audit.assess.assess

    def counting(snapshot, *args, **kwargs):
        counts[Path(getattr(snapshot, "path", snapshot)).name] += 1
        return real(snapshot, *args, **kwargs)

    monkeypatch.setattr(audit.assess, "assess", counting)
    return counts


@pytest.mark.parametrize("previous", [None, "base"])
def test_report_with_history_judges_each_snapshot_once(ci_snapshots, ci_config, tmp_path, judged, previous):
    pack = tmp_path / "pack"
    pack.mkdir()
    shutil.copy(CI_PACK, pack)
    folder = tmp_path / "snapshots"
    for name in ("base", "broken", "fixed", "later"):
        shutil.copytree(ci_snapshots["fixed" if name == "later" else name], folder / name)
    manifest = folder / "later" / "manifest.json"  # crawled after the reported one: its future, never judged
    manifest.write_text(manifest.read_text().replace('"crawl_finished_at": "20', '"crawl_finished_at": "29', 1))
    args = ["report", str(folder / "broken"), "--history", str(folder), "--report-dir", str(tmp_path / "out"),
            "--format", "html", "--config", str(ci_config), "--rules", str(pack)]
    if previous:
        args += ["--previous", str(folder / previous)]
    result = CliRunner().invoke(cli.main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert judged == {"broken": 1, "base": 1}
    page = (tmp_path / "out" / "index.html").read_text()
    assert "Trend over 2 audits" in page
