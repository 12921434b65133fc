"""The assessment as plain data: what every machine-readable format starts from."""

from __future__ import annotations

from typing import Any

from audit.assess import Assessment
from audit.safe_text import capped
from audit.scoring import SCORE_EXPLAINED, GroupScore, ServiceScore
from audit.teams import team_label, team_names


def _group(group: GroupScore, names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": group.id,
        "name": capped(team_label(group.id, names)),
        "service_ids": list(group.service_ids),
        "level_distribution": {str(level): count for level, count in group.level_distribution.items()},
        "score": _round(group.score),
        "checks_passing": _round(group.checks_passing),
        "rules": {
            rule_id: {"pass_rate": _round(tally.pass_rate), "counts": {s.value: n for s, n in tally.counts.items()}}
            for rule_id, tally in group.rules.items()
        },
    }


def _service(service: ServiceScore) -> dict[str, Any]:
    return {
        "id": service.service.id,
        "name": capped(service.service.name),
        "team_ids": list(service.service.team_ids),
        "level": service.level,
        "score": _round(service.score),
        "checks_passing": _round(service.checks_passing),
        "next_level_blockers": sorted({f.rule_id for f in service.next_level_blockers}),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def summarize(assessment: Assessment) -> dict[str, Any]:
    """Findings, services, teams and the org, as JSON-ready data (sorted, stable)."""
    names = team_names(assessment)
    manifest = assessment.snapshot.manifest
    return {
        "score_explained": SCORE_EXPLAINED,
        "snapshot": {
            "path": str(assessment.snapshot.path),
            "api_base": manifest.get("api_base"),
            "crawl_finished_at": manifest.get("crawl_finished_at"),
            "window": manifest.get("window"),
        },
        "findings": [f.to_json() for f in sorted(assessment.findings, key=lambda f: f.fingerprint)],
        "services": [_service(s) for _, s in sorted(assessment.scores.services.items())],
        "teams": [_group(g, names) for _, g in sorted(assessment.scores.teams.items())],
        "org": _group(assessment.scores.org, names),
        "notices": [notice.to_json() for notice in assessment.notices],
        "not_run": dict(sorted(assessment.evaluation.not_run.items())),
        "waivers": {
            "expired": [w.to_json() for w in assessment.waivers.expired],
            "unused": [w.to_json() for w in assessment.waivers.unused],
        },
    }
