"""``pd-audit init``: a starter ``pd-audit.toml`` written from a snapshot.

The file proposes a tier for every service (``audit.tiers.propose_tiers``), each with a comment
saying why; lists every rule threshold at its default with where that default comes from; and
shows a waiver, commented out. It is meant to be read and edited, then passed to ``--config``
(or left in the working directory, where every command finds it). It never overwrites a file.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from audit.errors import UserError
from audit.rules import RulePack
from audit.safe_write import write_file
from audit.tiers import TierProposal, default_tiers, propose_tiers

SOURCES = {
    "G": "a number PagerDuty's guides give",
    "I": "implied by PagerDuty's guides",
    "P": "PagerDuty's own product behaviour",
    "T": "pd-audit's default, not from the guides",
}
_PAGERDUTY_ID = re.compile(r"^[A-Z0-9]+$")
WAIVER_EXAMPLE_DAYS = 90


def write_starter(snapshot_path: Path, output: Path) -> list[TierProposal]:
    """Propose tiers from the snapshot and write the starter config to ``output`` (never over a file)."""
    from audit.assess import as_of
    from audit.facts.build import build_facts
    from audit.facts.columns import column_names
    from audit.rules import load_packs
    from audit.snapshot import load

    if output.exists() or output.is_symlink():  # before the facts are built: a refusal should be quick
        raise UserError(f"{output}: already exists; pd-audit init never overwrites a config "
                        "(remove it or choose another file with -o)")
    snapshot = load(snapshot_path)
    pack = load_packs([], column_names())
    service_ids = [str(service.get("id")) for service in snapshot.iter("services")]
    facts = build_facts(snapshot, tiers=default_tiers(service_ids))
    proposals = propose_tiers(facts.tables["service"])
    write_new(output, render(proposals, pack, snapshot_label=str(snapshot_path), as_of=as_of(snapshot)))
    return proposals


def render(proposals: Sequence[TierProposal], pack: RulePack, *, snapshot_label: str, as_of: dt.date) -> str:
    """The starter config's text (TOML, loadable as written)."""
    lines = [
        f"# pd-audit.toml: a starter config written by `pd-audit init` from {_comment(snapshot_label)}",
        f"# (as of {as_of.isoformat()}). Review it: the tiers below are proposals from the account's own",
        "# signals (urgency, support hours, business services, dependents, names); move services",
        "# between tiers where you know better. Every command finds this file in its working directory,",
        "# or pass it with --config.",
        "",
    ]
    lines += _tiers(proposals)
    lines += _thresholds(pack)
    lines += _waiver_example(proposals, pack, as_of)
    return "\n".join(lines).rstrip("\n") + "\n"


def write_new(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, refusing if anything (a file, a link) is already there."""
    try:
        write_file(path, text, what="config", overwrite=False)  # whole or not at all; names as U+FFFD-safe UTF-8
    except FileExistsError:
        raise UserError(f"{path}: already exists; pd-audit init never overwrites a config "
                        "(remove it or choose another file with -o)") from None


def _tiers(proposals: Sequence[TierProposal]) -> list[str]:
    lines = ["# Tiers: tier 1 must be covered 24/7 and escalate deeply; tier 3 may not page at night.",
             "# A service matches by id, then name_pattern, then team_ids; the first entry wins."]
    for tier in sorted({p.tier for p in proposals}):
        members = [p for p in proposals if p.tier == tier and _PAGERDUTY_ID.match(p.service_id)]
        if not members:
            continue
        lines += ["", "[[tiers]]", f"tier = {tier}", "service_ids = ["]
        for proposal in members:
            lines.append(f"  {json.dumps(proposal.service_id)},  # {_comment(proposal.name)}: "
                         f"{_comment('; '.join(proposal.reasons))}")
        lines.append("]")
    if not proposals:
        lines += ["# (the snapshot holds no services)"]
    return lines + [""]


def _thresholds(pack: RulePack) -> list[str]:
    lines = ["", "# Thresholds, at their defaults. Change a value to hold a rule to your own standard.",
             "# Source: " + "; ".join(f"{code} = {text}" for code, text in SOURCES.items()) + "."]
    for rule in sorted(pack, key=lambda r: r.id):
        if not rule.params:
            continue
        lines += ["", f"[thresholds.{rule.id}]  # {_comment(rule.title)}"]
        for name, param in rule.params.items():
            lines.append(f"{name} = {_toml_value(param.default)}  # default, source {param.source}: "
                         f"{_comment(param.description)}")
    return lines + [""]


def _waiver_example(proposals: Sequence[TierProposal], pack: RulePack, as_of: dt.date) -> list[str]:
    object_id = next((p.service_id for p in proposals if _PAGERDUTY_ID.match(p.service_id)), "PABC123")
    rule = pack.resolve("OWN-06") or next(iter(pack), None)
    rule_id = rule.id if rule is not None else "OWN-06"
    expires = as_of + dt.timedelta(days=WAIVER_EXAMPLE_DAYS)
    return [
        "",
        "# A waiver accepts a known risk on one object until a date (every field but sub_key is required).",
        "# Remove the leading '# ' to use it.",
        "# [[waivers]]",
        f'# rule = "{rule_id}"',
        f'# object_id = "{object_id}"  # the exact PagerDuty id, never a pattern',
        '# reason = "Runbook link added with the Q3 migration"',
        '# approved_by = "lead@example.com"',
        f"# expires = {expires.isoformat()}  # last valid day",
    ]


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, Iterable):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def _comment(text: str, limit: int = 120) -> str:
    """Text safe inside a TOML comment: printable, one line, not too long."""
    clean = "".join(ch if ch.isprintable() else " " for ch in text)
    clean = re.sub(r"\s+", " ", clean).strip()
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"
