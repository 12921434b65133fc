"""pd-audit.toml: thresholds, disabled rules, severities, tiers, weights and waivers.

One function, ``load_config``, layers the sources in a fixed order — packaged
defaults < the file < environment < command-line flags — and checks every layer
against the rule pack, so an error names where it came from and which key::

    disabled = ["OWN-07"]                      # ids or aliases, exactly

    [thresholds.OC-03]                         # only parameters the rule declares
    min_people = 3

    [severity]
    "OWN-05" = "low"

    [weights]                                  # severity -> weight in the 0-100 score
    critical = 10

    [[tiers]]                                  # a service matches by id, then name, then team
    tier = 1
    service_ids = ["PSVC001"]
    name_pattern = "^Payments"                 # Python regular expression, searched in the name
    team_ids = ["PTEAM01"]

    [check]                                    # the CI gate's default --fail-on
    fail_on = "warn"                           # warn, low, medium, high or critical

    [[waivers]]                                # every field but sub_key is required
    rule = "OC-03"
    object_id = "PSCH001"                      # the exact PagerDuty id, never a pattern
    reason = "Two-person team until Q3 hiring"
    approved_by = "jane@acme.example"
    expires = 2026-09-30                       # last valid day

The file is ``--config PATH``, else ``$PD_AUDIT_CONFIG``, else ``pd-audit.toml`` in
the working directory if there is one. ``$PD_AUDIT_DISABLED`` (comma-separated
rule ids) adds disabled rules. Flags arrive as a mapping of the file's shape.
Parameter defaults live only in the rule packs; this module never repeats them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import re
import tomllib
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from audit.errors import UserError
from audit.findings import FAIL_ON_CHOICES, Severity, Waiver
from audit.rules import RulePack
from audit.scoring import DEFAULT_WEIGHTS

CONFIG_FILENAME = "pd-audit.toml"
ENV_CONFIG = "PD_AUDIT_CONFIG"
ENV_DISABLED = "PD_AUDIT_DISABLED"

# PagerDuty ids are short upper-case alphanumerics (PSVC001, P1A2B3C, Q0RIJJZL24RC6W).
_OBJECT_ID = r"^[A-Z0-9]+$"


class _Tier(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tier: int = Field(ge=1, le=5)
    service_ids: tuple[str, ...] = ()
    name_pattern: str | None = None
    team_ids: tuple[str, ...] = ()

    @field_validator("name_pattern")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression ({exc})") from None
        return pattern

    @model_validator(mode="after")
    def _selects_something(self) -> _Tier:
        if not (self.service_ids or self.name_pattern or self.team_ids):
            raise ValueError("give service_ids, name_pattern or team_ids")
        return self


class _Waiver(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: str
    object_id: str = Field(pattern=_OBJECT_ID)
    reason: str = Field(min_length=1, pattern=r"\S")
    approved_by: str = Field(min_length=1, pattern=r"\S")
    expires: dt.date
    sub_key: str | None = None

    @field_validator("expires", mode="before")
    @classmethod
    def _not_a_number(cls, value: Any) -> Any:
        # pydantic would read a number as a Unix timestamp: expires = 0 would be 1970-01-01.
        # (ValueError, not TypeError: pydantic turns only ValueError into a validation error.)
        if isinstance(value, (int, float)):
            raise ValueError(f"Input should be a valid date like 2026-09-30, not the number {value!r}")  # noqa: TRY004
        return value


class _Check(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    fail_on: str | None = None  # one of FAIL_ON_CHOICES

    @field_validator("fail_on")
    @classmethod
    def _known_threshold(cls, value: str | None) -> str | None:
        if value is not None and value not in FAIL_ON_CHOICES:
            raise ValueError(f"must be one of {', '.join(FAIL_ON_CHOICES)}, got {value!r}")
        return value


class _Layer(BaseModel):
    """One source's settings, before they are checked against the rules and merged."""

    model_config = ConfigDict(extra="forbid")

    disabled: list[str] = []
    thresholds: dict[str, dict[str, Any]] = {}
    severity: dict[str, Severity] = {}
    weights: dict[Severity, float] = {}
    tiers: list[_Tier] | None = None  # a later layer's tiers replace an earlier one's
    waivers: list[_Waiver] = []
    check: _Check = _Check()

    @field_validator("weights")
    @classmethod
    def _non_negative(cls, weights: dict[Severity, float]) -> dict[Severity, float]:
        for severity, weight in weights.items():
            if not math.isfinite(weight):
                raise ValueError(f"{severity.value}: a weight must be a finite number, not {weight!r}")
            if weight < 0:
                raise ValueError(f"{severity.value}: a weight cannot be negative")
        return weights


@dataclasses.dataclass(frozen=True)
class TierRule:
    tier: int
    service_ids: frozenset[str]
    name_pattern: re.Pattern[str] | None
    team_ids: frozenset[str]


@dataclasses.dataclass(frozen=True)
class Config:
    """The settings in force, with rule ids already resolved to canonical ids."""

    sources: tuple[str, ...]  # what was layered, lowest first
    thresholds: Mapping[str, Mapping[str, Any]]
    disabled: frozenset[str]
    severity: Mapping[str, Severity]
    weights: Mapping[Severity, float]
    tiers: tuple[TierRule, ...]
    waivers: tuple[Waiver, ...]
    fail_on: str | None = None  # [check] fail_on: the gate's --fail-on when the flag is not given

    def apply(self, pack: RulePack) -> RulePack:
        """The pack with thresholds and severities overridden and disabled rules set aside."""
        return pack.configured(params=self.thresholds, severity=self.severity, disabled=self.disabled)

    def tier_for(self, service_id: str, name: str, team_ids: Collection[str] = ()) -> int | None:
        """A service's declared tier: an exact id beats a name pattern beats a team; first entry wins."""
        checks = (
            lambda tier: service_id in tier.service_ids,
            lambda tier: tier.name_pattern is not None and tier.name_pattern.search(name) is not None,
            lambda tier: not tier.team_ids.isdisjoint(team_ids),
        )
        for matches in checks:
            for tier in self.tiers:
                if matches(tier):
                    return tier.tier
        return None


def load_config(
    path: str | Path | None,
    cwd: str | Path,
    pack: RulePack,
    *,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> Config:
    """Packaged defaults < config file < environment < flags, checked against ``pack``.

    ``path`` is ``--config`` (it must exist); ``env`` defaults to ``os.environ``;
    ``flags`` has the file's shape (e.g. ``{"disabled": ["OC-05"]}``).
    """
    env = os.environ if env is None else env
    layers: list[tuple[str, _Layer]] = [("packaged defaults", _Layer(weights=dict(DEFAULT_WEIGHTS)))]
    file = _find_file(path, Path(cwd), env)
    if file is not None:
        layers.append((str(file), _parse_layer(str(file), _read_toml(file))))
    if env.get(ENV_DISABLED, "").strip():
        disabled = [item.strip() for item in env[ENV_DISABLED].split(",") if item.strip()]
        layers.append((f"${ENV_DISABLED}", _parse_layer(f"${ENV_DISABLED}", {"disabled": disabled})))
    if flags:
        layers.append(("command line", _parse_layer("command line", dict(flags))))
    return _merge([(source, _resolved(source, layer, pack)) for source, layer in layers])


def _find_file(path: str | Path | None, cwd: Path, env: Mapping[str, str]) -> Path | None:
    if path is not None or env.get(ENV_CONFIG):
        chosen = Path(path if path is not None else env[ENV_CONFIG])
        if not chosen.is_absolute():
            chosen = cwd / chosen
        if not chosen.is_file():
            raise UserError(f"{chosen}: no such config file")
        return chosen
    default = cwd / CONFIG_FILENAME
    return default if default.is_file() else None


def _read_toml(file: Path) -> dict[str, Any]:
    try:
        with open(file, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{file}: invalid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise UserError(f"{file}: config is not UTF-8 text (TOML must be UTF-8)") from None
    except RecursionError:
        raise UserError(f"{file}: invalid TOML: nested too deeply") from None
    except OSError as exc:
        raise UserError(f"{file}: cannot read config ({exc.strerror})") from None


def _parse_layer(source: str, document: dict[str, Any]) -> _Layer:
    try:
        return _Layer.model_validate(document)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = _key_path(error["loc"])
        if error["type"] == "extra_forbidden":
            problem = "unknown key"
        elif error["type"] == "missing":
            problem = "required key is missing"
        else:
            problem = error["msg"].removeprefix("Value error, ")
        raise UserError(f"{source}: {key}: {problem}") from None


def _key_path(loc: tuple[int | str, ...]) -> str:
    """pydantic's location as the TOML reader sees it: waivers[2].expires."""
    text = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker for "the key itself is invalid"
            continue
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def _resolved(source: str, layer: _Layer, pack: RulePack) -> _Layer:
    """``layer`` with aliases turned into canonical ids; unknown ids and parameters are errors."""

    def canonical(key: str, rule_id: str) -> str:
        rule = pack.resolve(rule_id)
        if rule is None:
            raise UserError(f"{source}: {key}: unknown rule {rule_id!r}")
        return rule.id

    thresholds: dict[str, dict[str, Any]] = {}
    for rule_id, params in layer.thresholds.items():
        canonical_id = canonical(f"thresholds.{rule_id}", rule_id)
        rule = pack.resolve(canonical_id)
        assert rule is not None  # canonical() found it
        try:
            thresholds[canonical_id] = rule.check_params(params)
        except ValueError as exc:
            raise UserError(f"{source}: thresholds.{rule_id}: {exc}") from None
    return _Layer.model_construct(
        disabled=[canonical(f"disabled[{n}]", rule_id) for n, rule_id in enumerate(layer.disabled, 1)],
        thresholds=thresholds,
        severity={canonical(f"severity.{rule_id}", rule_id): value for rule_id, value in layer.severity.items()},
        weights=layer.weights,
        tiers=layer.tiers,
        check=layer.check,
        waivers=[
            waiver.model_copy(update={"rule": canonical(f"waivers[{n}].rule", waiver.rule)})
            for n, waiver in enumerate(layer.waivers, 1)
        ],
    )


def _merge(layers: list[tuple[str, _Layer]]) -> Config:
    thresholds: dict[str, dict[str, Any]] = {}
    disabled: set[str] = set()
    severity: dict[str, Severity] = {}
    weights: dict[Severity, float] = {}
    tiers: list[_Tier] = []
    waivers: list[_Waiver] = []
    fail_on: str | None = None
    for _, layer in layers:
        fail_on = layer.check.fail_on or fail_on
        for rule_id, params in layer.thresholds.items():
            thresholds.setdefault(rule_id, {}).update(params)
        disabled.update(layer.disabled)
        severity.update(layer.severity)
        weights.update(layer.weights)
        if layer.tiers is not None:
            tiers = list(layer.tiers)
        waivers.extend(layer.waivers)
    return Config(
        sources=tuple(source for source, _ in layers),
        thresholds=thresholds,
        disabled=frozenset(disabled),
        severity=severity,
        weights=weights,
        fail_on=fail_on,
        tiers=tuple(
            TierRule(
                tier=tier.tier,
                service_ids=frozenset(tier.service_ids),
                name_pattern=re.compile(tier.name_pattern) if tier.name_pattern else None,
                team_ids=frozenset(tier.team_ids),
            )
            for tier in tiers
        ),
        waivers=tuple(
            Waiver(
                rule=waiver.rule,
                object_id=waiver.object_id,
                reason=waiver.reason,
                approved_by=waiver.approved_by,
                expires=waiver.expires,
                sub_key=waiver.sub_key,
            )
            for waiver in waivers
        ),
    )
