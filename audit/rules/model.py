"""The rule model: one YAML record as a checked ``Rule``, its parameters, and the ``RulePack`` in force.

A pack is a YAML file with a ``rules:`` list; one record is one rule (see ``Rule``
for the fields). Conditions are pandas expressions that are TRUE when the rule
PASSES for a row (``applies_when``, when given, is TRUE for the rows the rule
judges; ``judged_when``, when given, is TRUE for the rows with enough data to judge, the
others being ``not_applicable`` with ``not_judged_message`` saying why, e.g. how many
incidents the window held and how many are needed; ``warn_when``, when given, is TRUE for
the failing rows that only miss the
rule's warning threshold: they get the status ``warn``, with ``warn_severity``, and
do not block the maturity level; an info-only rule's failing rows are ``warn`` too).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Collection, Iterator, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from audit.findings import EntityType, Mode, Severity
from audit.rules.expressions import ExpressionNames, check_expression, joined_names
from audit.rules.messages import template_fields

RULE_ID_PATTERN = r"^[A-Z][A-Z0-9]*-[0-9]{2,3}$"

# Columns every fact table carries (the facts stage guarantees them): the
# PagerDuty id the fingerprint is built from (unless a rule names another
# ``object_column``), the display name, and the link.
ID_COLUMN = "id"
NAME_COLUMN = "name"
URL_COLUMN = "html_url"

# The rule fields holding an expression, in the order they are checked and reported.
EXPRESSION_FIELDS = ("condition", "applies_when", "judged_when", "warn_when")


@dataclasses.dataclass(frozen=True)
class RuleNames:
    """The names a rule's expressions and message use: found once, when the rule is loaded."""

    expressions: Mapping[str, ExpressionNames]  # expression field -> its names (fields the rule sets)
    message: frozenset[str]  # the message template's fields (columns or parameters)
    not_judged_message: frozenset[str] = frozenset()  # the same for the not-judged message

    @classmethod
    def of(cls, rule: Rule) -> RuleNames:
        """Parse the rule's texts (ValueError or SyntaxError if one is unsafe); the loader does this per field."""
        expressions = {
            field: check_expression(text)
            for field in EXPRESSION_FIELDS
            if (text := getattr(rule, field)) is not None
        }
        return cls(expressions=expressions, message=frozenset(template_fields(rule.message)),
                   not_judged_message=frozenset(template_fields(rule.not_judged_message or "")))

    def columns(self, field: str) -> frozenset[str]:
        """The columns one expression field reads (none when the rule does not set it)."""
        names = self.expressions.get(field)
        return names.columns if names else frozenset()

    @property
    def message_fields(self) -> frozenset[str]:
        """The fields both message templates read."""
        return self.message | self.not_judged_message

    @property
    def expression_columns(self) -> frozenset[str]:
        """The columns all the rule's expressions read."""
        return frozenset().union(*(names.columns for names in self.expressions.values()))




class Guide(BaseModel):
    """The published guide page a rule enforces."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    url: str = Field(pattern=r"^https://\S+$")


ParamValue = bool | int | float | str | list[str]


class Param(BaseModel):
    """A rule's threshold: its default and where that default comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: ParamValue
    # G = a number the guides give, I = implied by them, P = PagerDuty's product
    # behaviour, T = our default (reports must say so).
    source: Literal["G", "I", "P", "T"]
    description: str = Field(min_length=1)

    @field_validator("default", mode="before")
    @classmethod
    def _plain_value(cls, value: Any) -> Any:
        # Checked here so a mapping or a list of numbers is named as such: pydantic would
        # report only the union's first member ("default.bool: Input should be a valid boolean").
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"must be a finite number, got {value!r}")
        if isinstance(value, (bool, int, float, str)) or (
            isinstance(value, list) and all(isinstance(item, str) for item in value)
        ):
            return value
        raise ValueError(f"must be true or false, a number, a string or a list of strings, got {value!r}")

    def check_value(self, value: Any) -> ParamValue:
        """``value`` if it has the default's type (an int is fine for a float), else ValueError."""
        expected = type(self.default)
        if expected is bool:
            ok = isinstance(value, bool)
        elif expected is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif expected is list:
            ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
        else:
            ok = isinstance(value, expected) and not isinstance(value, bool)
        if not ok:
            raise ValueError(f"expected {_TYPE_NAMES[expected]}, got {value!r}")
        if expected in (int, float) and not (math.isfinite(value) and value >= 0):
            # Thresholds count people, minutes, hours or shares: nan, inf or a negative one would make
            # every comparison false (or true) and every output say so in earnest.
            raise ValueError(f"must be a finite number of zero or more, got {value!r}")
        return value


_TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string", list: "a list of strings"}


class Rule(BaseModel):
    """One rule, exactly as its YAML record says, plus config overrides once applied."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=RULE_ID_PATTERN)
    aliases: tuple[str, ...] = ()  # retired ids, still honoured by waivers and config
    title: str = Field(min_length=3, max_length=150)
    entity: EntityType  # what a finding is about: its fingerprint and roll-up
    # The fact table the rule reads (default: the entity's own) and its column holding
    # the entity's PagerDuty id, e.g. table policy_level, object_column policy_id,
    # sub_key level: one finding per level, reported on the escalation policy.
    table: str | None = None
    object_column: str = ID_COLUMN
    condition: str = Field(min_length=1)  # TRUE when the rule passes
    applies_when: str | None = None  # FALSE -> not_applicable
    # FALSE -> not_applicable too, for want of data (a service with 3 incidents in the window),
    # with ``not_judged_message`` (a template like ``message``) saying what was there and what is needed.
    judged_when: str | None = None
    not_judged_message: str | None = Field(None, min_length=1)
    # TRUE for a failing row that fails only the rule's warning threshold: it is reported
    # with warn_severity, its message says "warning", and it does not block the level.
    warn_when: str | None = None
    warn_severity: Severity = Severity.LOW
    requires: tuple[str, ...] = ()  # snapshot collections, fact columns or "incident_analytics"; absent -> excluded
    params: dict[str, Param] = {}
    severity: Severity
    level: Literal[1, 2, 3, 4, "info"]
    mode: Mode
    rationale: str = Field(min_length=1)
    guide: Guide | None = None
    fix: str = Field(min_length=1)
    message: str = Field(min_length=1)  # shown for failures; fields are columns or params
    sub_key: str | None = None  # column naming the part of the object a row judges

    _source: str = PrivateAttr("")
    _overrides: dict[str, ParamValue] = PrivateAttr(default_factory=dict)
    _names: RuleNames | None = PrivateAttr(None)  # set by the loader

    @field_validator("title")
    @classmethod
    def _no_ensure(cls, title: str) -> str:
        # House style (as prowler's CheckMetadata): say what is true, not "Ensure ...".
        if title.lower().startswith("ensure"):
            raise ValueError("must not start with 'Ensure'; state what holds, e.g. 'Service has one owning team'")
        return title

    @field_validator("aliases")
    @classmethod
    def _alias_ids(cls, aliases: tuple[str, ...]) -> tuple[str, ...]:
        for alias in aliases:
            if not _is_rule_id(alias):
                raise ValueError(f"{alias!r} is not a rule id like OC-01")
        return aliases

    @property
    def source(self) -> str:
        """The pack file this rule was loaded from."""
        return self._source

    @property
    def names(self) -> RuleNames:
        """The columns and parameters the rule's expressions and message use, found when it was loaded."""
        if self._names is None:  # a rule built outside the loader
            self._names = RuleNames.of(self)
        return self._names

    @property
    def facts_table(self) -> str:
        return self.table or self.entity

    @property
    def maturity_level(self) -> int | None:
        """The ladder level this rule guards; None for info-only rules, which never block."""
        return None if self.level == "info" else int(self.level)

    @property
    def overrides(self) -> Mapping[str, ParamValue]:
        """Parameter values set by the config (only those that differ from the pack)."""
        return dict(self._overrides)

    @property
    def param_values(self) -> dict[str, ParamValue]:
        """The values the rule runs with: the config's, else the defaults."""
        return {name: self._overrides.get(name, param.default) for name, param in self.params.items()}

    def check_params(self, values: Mapping[str, Any]) -> dict[str, ParamValue]:
        """``values`` if each names a declared parameter and has its type; else ValueError saying which."""
        checked = {}
        for name, value in values.items():
            if name not in self.params:
                raise ValueError(f"unknown parameter {name!r} (declared: {joined_names(self.params)})")
            try:
                checked[name] = self.params[name].check_value(value)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        return checked

    def configured(self, *, params: Mapping[str, Any] | None = None, severity: Severity | None = None) -> Rule:
        """A copy with parameter overrides (checked by ``check_params``) and a severity."""
        copy = self.model_copy(update={"severity": severity} if severity else {})
        copy._source = self._source
        copy._overrides = {**self._overrides, **self.check_params(params or {})}
        copy._names = self._names
        return copy


def _is_rule_id(text: str) -> bool:
    return re.fullmatch(RULE_ID_PATTERN, text) is not None


@dataclasses.dataclass(frozen=True)
class RulePack:
    """The rules in force, sorted by id; disabled ones are kept for listing."""

    rules: tuple[Rule, ...]
    disabled: tuple[Rule, ...] = ()

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def resolve(self, rule_id: str) -> Rule | None:
        """The rule (enabled or disabled) with this id or alias, exactly."""
        for rule in self.rules + self.disabled:
            if rule.id == rule_id or rule_id in rule.aliases:
                return rule
        return None

    def configured(
        self,
        *,
        params: Mapping[str, Mapping[str, Any]] | None = None,
        severity: Mapping[str, Severity] | None = None,
        disabled: Collection[str] = (),
    ) -> RulePack:
        """Apply overrides keyed by canonical rule id. The config module checks ids first."""
        params = params or {}
        severity = severity or {}
        configured = [
            rule.configured(params=params.get(rule.id), severity=severity.get(rule.id))
            for rule in self.rules + self.disabled
        ]
        return RulePack(
            rules=tuple(rule for rule in configured if rule.id not in disabled),
            disabled=tuple(rule for rule in configured if rule.id in disabled),
        )

