"""Rule packs: load and validate the YAML rules, and evaluate them over fact tables.

A pack is a YAML file with a ``rules:`` list; one record is one rule (see
``Rule`` for the fields). The built-in packs ship as ``audit.builtin_rules`` and
are read with the same loader as a user's ``--rules DIR``. Everything a rule
says is checked when it is loaded: unknown fields, duplicate ids, columns the
entity's facts do not declare, parameters the rule does not declare, unsafe
expressions. A problem is one ``UserError`` line naming the file, the rule and
the field.

Conditions are pandas expressions that are TRUE when the rule PASSES for a row
(``applies_when``, when given, is TRUE for the rows the rule judges; ``warn_when``,
when given, is TRUE for the failing rows that only miss the rule's warning
threshold: they get the status ``warn``, with ``warn_severity``, and do not block
the maturity level; an info-only rule's failing rows are ``warn`` too). Before an
expression reaches ``DataFrame.eval`` (python engine, no globals) its syntax tree
is checked against an allow-list: names must be declared columns, ``@name`` must
be a declared parameter, calls are limited to a few Series/string methods, and
nothing starting with ``_`` can be reached. Messages are ``str.format`` templates
whose fields may only be column or parameter names (no attribute or index access).
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import importlib.resources
import io
import math
import re
import string
import tokenize
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
)

from audit.errors import UserError
from audit.facts.collector import collector_paused
from audit.facts.columns import ANALYTICS_COLUMNS, ANALYTICS_MISSING, INCIDENT_ANALYTICS
from audit.findings import EntityType, Finding, Mode, RollUp, Severity, Status
from audit.snapshot import COLLECTIONS

BUILTIN_PACKAGE = "audit.builtin_rules"
PACK_SUFFIXES = (".yaml", ".yml")
RULE_ID_PATTERN = r"^[A-Z][A-Z0-9]*-[0-9]{2,3}$"

# Columns every fact table carries (the facts stage guarantees them): the
# PagerDuty id the fingerprint is built from (unless a rule names another
# ``object_column``), the display name, and the link.
ID_COLUMN = "id"
NAME_COLUMN = "name"
URL_COLUMN = "html_url"


# --------------------------------------------------------------------------- models


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
                raise ValueError(f"unknown parameter {name!r} (declared: {_names(self.params)})")
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
        return copy


def _is_rule_id(text: str) -> bool:
    return re.fullmatch(RULE_ID_PATTERN, text) is not None


def _names(items: Iterable[str]) -> str:
    names = sorted(items)
    return ", ".join(names) if names else "none"


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


# ------------------------------------------------------------------ safe expressions

# What a condition may contain. Everything else (lambda, comprehension, subscript,
# if-expression, walrus, starred arguments...) is refused before pandas sees it.
# No "**": a rule never needs it, and 10 ** 10 ** 9 would hang the audit.
_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.Invert, ast.USub, ast.UAdd,
    ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.BitAnd, ast.BitOr,
    ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
    ast.Name, ast.Load, ast.Constant, ast.List, ast.Tuple, ast.Call, ast.Attribute, ast.keyword,
)  # fmt: skip
_ALLOWED_FUNCTIONS = frozenset({"abs"})
# Series methods, the .str/.dt accessors and their methods that rules need. Extend
# deliberately: every name here is reachable from a user's rule pack.
_ALLOWED_ATTRIBUTES = frozenset({
    "str", "dt", "isna", "notna", "isin", "between", "fillna", "abs", "round",
    "len", "contains", "startswith", "endswith", "match", "fullmatch", "lower", "upper", "strip",
    "hour", "dayofweek", "days", "total_seconds",
})  # fmt: skip
_ALLOWED_KEYWORDS = frozenset({"regex", "case", "na", "inclusive"})
_PARAM_PREFIX = "_param_"  # stands for "@" while checking; user names may not start with "_"


@dataclasses.dataclass(frozen=True)
class _ExpressionNames:
    columns: frozenset[str]
    params: frozenset[str]


def _check_expression(text: str) -> _ExpressionNames:
    """The columns and parameters ``text`` uses; ValueError if it is not a safe rule expression."""
    tree = ast.parse(_rewrite_params(text), mode="eval")
    columns: set[str] = set()
    params: set[str] = set()
    nodes = list(ast.walk(tree))
    # Name the forbidden construct itself (a lambda, not the call around it).
    for node in nodes:
        if not isinstance(node, _ALLOWED_NODES):
            raise ValueError(f"{type(node).__name__.lower()} is not allowed in a rule expression")
    called = {id(node.func) for node in nodes if isinstance(node, ast.Call)}
    for node in nodes:
        if isinstance(node, ast.Constant) and not isinstance(node.value, (str, int, float, bool, type(None))):
            raise ValueError(f"constant {node.value!r} is not allowed")
        if isinstance(node, ast.BinOp) and any(_is_sequence_literal(side) for side in (node.left, node.right)):
            # 'x' * 10**9 or [0] * 10**9 would exhaust memory; no rule computes with literals like that
            raise ValueError("arithmetic on a string or list literal is not allowed")
        if isinstance(node, ast.Attribute) and node.attr not in _ALLOWED_ATTRIBUTES:
            raise ValueError(f"attribute {node.attr!r} is not allowed (allowed: {_names(_ALLOWED_ATTRIBUTES)})")
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id not in _ALLOWED_FUNCTIONS:
                raise ValueError(f"calling {node.func.id!r} is not allowed (allowed: {_names(_ALLOWED_FUNCTIONS)})")
            if not isinstance(node.func, (ast.Name, ast.Attribute)):
                raise ValueError("only named functions and methods may be called")
            for keyword in node.keywords:
                if keyword.arg not in _ALLOWED_KEYWORDS:
                    raise ValueError(f"keyword argument {keyword.arg!r} is not allowed")
        if isinstance(node, ast.Name) and id(node) not in called:
            if node.id.startswith(_PARAM_PREFIX):
                params.add(node.id.removeprefix(_PARAM_PREFIX))
            else:
                columns.add(node.id)
    return _ExpressionNames(frozenset(columns), frozenset(params))


def _is_sequence_literal(node: ast.AST) -> bool:
    return isinstance(node, (ast.List, ast.Tuple)) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def _rewrite_params(text: str) -> str:
    """``text`` with each ``@name`` spelled as a plain name Python's parser accepts."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError) as exc:
        raise ValueError(f"invalid expression ({exc.args[0]})") from None
    out: list[tuple[int, str]] = []
    for index, token in enumerate(tokens):
        if token.type == tokenize.ERRORTOKEN:
            raise ValueError(f"unexpected {token.string!r}")
        # Python folds identifiers to NFKC, so a full-width low line is a "_" too.
        if token.type == tokenize.NAME and unicodedata.normalize("NFKC", token.string).startswith("_"):
            raise ValueError(f"names starting with '_' are not allowed ({token.string!r})")
        if token.type == tokenize.OP and token.string == "@":
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            if following is None or following.type != tokenize.NAME or following.start != token.end:
                raise ValueError("'@' must be followed directly by a parameter name")
            continue
        if token.type == tokenize.NAME and index and tokens[index - 1].string == "@":
            out.append((tokenize.NAME, _PARAM_PREFIX + token.string))
        else:
            out.append((token.type, token.string))
    return tokenize.untokenize(out)


# ------------------------------------------------------------------ message templates


class _MessageFormatter(string.Formatter):
    """``str.format`` over a row: missing values read "n/a", lists are comma-joined."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if _is_missing(value):
            return "n/a"
        if isinstance(value, (list, tuple, set, np.ndarray)):
            return ", ".join(str(item) for item in value)
        try:
            return super().format_field(value, format_spec)
        except (TypeError, ValueError):  # a spec like ".0%" on a value of another type
            return str(value)


_FORMATTER = _MessageFormatter()


def _template_fields(template: str) -> set[str]:
    """The names a message uses; ValueError for anything but ``{name}`` / ``{name:spec}``."""
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError as exc:
        raise ValueError(f"invalid template ({exc})") from None
    fields: set[str] = set()
    for _, field, spec, _ in parsed:
        if field is None:
            continue
        if not field.isidentifier() or field.startswith("_"):
            raise ValueError(f"field {{{field}}} must be a plain column or parameter name")
        if spec and "{" in spec:
            raise ValueError(f"field {{{field}}} may not nest fields in its format spec")
        fields.add(field)
    return fields


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


# ------------------------------------------------------------------------- loading


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (YAML keeps the last)."""


def _mapping_without_duplicates(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


class _PackFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    rules: list[Any] = []


def builtin_pack_files() -> list[Path]:
    """The packs shipped with pd-audit, in name order."""
    root = importlib.resources.files(BUILTIN_PACKAGE)
    return sorted(Path(str(item)) for item in root.iterdir() if item.name.endswith(PACK_SUFFIXES))


def load_packs(
    paths: Iterable[str | Path],
    columns: Mapping[str, Collection[str]],
    *,
    include_builtin: bool = True,
) -> RulePack:
    """Load the built-in packs and the given files or directories into one checked pack.

    ``columns`` declares, per fact table (the five entity types, and any other
    table such as ``policy_level``), the columns rules may use: the facts stage's
    schema, which unknown-column errors are judged against.
    """
    files = builtin_pack_files() if include_builtin else []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in PACK_SUFFIXES)
            if not found:
                raise UserError(f"{path}: no rule packs (*.yaml) in this directory")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise UserError(f"{path}: no such rule pack file or directory")
    rules: dict[str, Rule] = {}
    for file in files:
        for rule in _load_pack_file(file, columns):
            _check_unique(rule, rules)
            rules[rule.id] = rule
    return RulePack(rules=tuple(sorted(rules.values(), key=lambda rule: rule.id)))


def _check_unique(rule: Rule, known: Mapping[str, Rule]) -> None:
    """Ids and aliases are one namespace: an id is never reused, even once retired."""
    taken = {name: other for other in known.values() for name in (other.id, *other.aliases)}
    for field, name in [("id", rule.id)] + [("aliases", alias) for alias in rule.aliases]:
        if name in taken:
            other = taken[name]
            problem = (
                f"duplicate rule id (already defined in {other.source})"
                if name == rule.id == other.id
                else f"{name} is already used by {other.id} in {other.source}"
            )
            raise UserError(f"{rule.source}: {rule.id}: {field}: {problem}")


def _load_pack_file(path: Path, columns: Mapping[str, Collection[str]]) -> list[Rule]:
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except OSError as exc:
        raise UserError(f"{path}: cannot read rule pack ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: rule pack is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UserError(f"{path}: invalid YAML{where}: {problem}") from None
    if document is None:  # an empty file (or only comments) is an empty pack
        return []
    if not isinstance(document, dict):
        raise UserError(f"{path}: a rule pack is a mapping with a 'rules' list")
    pack = _validated(_PackFile, document, f"{path}")
    return [_load_rule(path, number, record, columns) for number, record in enumerate(pack.rules, 1)]


def _load_rule(path: Path, number: int, record: Any, columns: Mapping[str, Collection[str]]) -> Rule:
    label = record.get("id") if isinstance(record, dict) and isinstance(record.get("id"), str) else f"rule #{number}"
    if not isinstance(record, dict):
        raise UserError(f"{path}: {label}: a rule is a mapping of fields")
    rule = _validated(Rule, record, f"{path}: {label}")
    rule._source = str(path)
    try:
        _check_rule_names(rule, columns)
    except _FieldError as exc:
        raise UserError(f"{path}: {rule.id}: {exc.field}: {exc.problem}") from None
    return rule


_Model = TypeVar("_Model", bound=BaseModel)


def _validated(model: type[_Model], data: Any, where: str) -> _Model:
    """``data`` as ``model``, or a UserError with pydantic's first error: ``where: field: problem``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or "(document)"
    if error["type"] == "extra_forbidden":
        problem = "unknown field"
    elif error["type"] == "missing":
        problem = "required field is missing"
    else:
        problem = error["msg"].removeprefix("Value error, ")
    raise UserError(f"{where}: {field}: {problem}")


class _FieldError(Exception):
    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


EXPRESSION_FIELDS = ("condition", "applies_when", "warn_when")


def _check_rule_names(rule: Rule, columns: Mapping[str, Collection[str]]) -> None:
    """Every column, parameter and requirement the rule names must exist."""
    table = rule.facts_table
    if table not in columns:
        raise _FieldError("table" if rule.table else "entity", f"no facts are declared for {table!r}")
    declared = set(columns[table])
    if INCIDENT_ANALYTICS in rule.requires:
        declared |= set(ANALYTICS_COLUMNS.get(table, {}))
    _check_column("object_column", rule.object_column, table, declared)
    for name in rule.params:
        if name in declared:
            raise _FieldError(f"params.{name}", f"has the name of a {table} column; rename the parameter")
    for field in EXPRESSION_FIELDS:
        text = getattr(rule, field)
        if text is None:
            continue
        try:
            names = _check_expression(text)
        except (ValueError, SyntaxError) as exc:
            raise _FieldError(field, _expression_problem(exc)) from None
        for column in sorted(names.columns):
            _check_column(field, column, table, declared)
        unknown = sorted(names.params - set(rule.params))
        if unknown:
            raise _FieldError(field, f"unknown parameter '@{unknown[0]}' (declared: {_names(rule.params)})")
    for requirement in rule.requires:
        if requirement not in COLLECTIONS and requirement not in declared and requirement != INCIDENT_ANALYTICS:
            raise _FieldError(
                "requires", f"{requirement!r} is neither a snapshot collection, {INCIDENT_ANALYTICS!r} nor a "
                f"{table} column")
    if rule.sub_key is not None:
        _check_column("sub_key", rule.sub_key, table, declared)
    try:
        fields = _template_fields(rule.message)
    except ValueError as exc:
        raise _FieldError("message", str(exc)) from None
    for name in sorted(fields - set(rule.params)):
        _check_column("message", name, table, declared)


def _check_column(field: str, column: str, table: str, declared: set[str]) -> None:
    if column not in declared:
        close = difflib.get_close_matches(column, declared, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise _FieldError(field, f"unknown {table} column {column!r}{hint}")


def _expression_problem(exc: Exception) -> str:
    if isinstance(exc, SyntaxError):
        return f"invalid expression ({exc.msg})"
    return str(exc)


# ---------------------------------------------------------------------- evaluation

@dataclasses.dataclass(frozen=True)
class EvaluationContext:
    """What evaluation needs besides the facts.

    ``unavailable``: snapshot collection -> why it could not be read (402/403...).
    ``modes``: which rule modes to run (CI runs only static rules, say).
    """

    rollup: RollUp = dataclasses.field(default_factory=RollUp)
    unavailable: Mapping[str, str] = dataclasses.field(default_factory=dict)
    modes: frozenset[Mode] = frozenset(Mode)


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Findings, sorted by fingerprint, and the rules that judged nothing and why."""

    findings: tuple[Finding, ...]
    not_run: Mapping[str, str]  # rule id -> reason (mode not selected, or data unavailable)


def evaluate(pack: RulePack, facts: Mapping[str, pd.DataFrame], context: EvaluationContext) -> Evaluation:
    """Judge every row of every rule's entity table. Nothing here reads files or the network."""
    findings: list[Finding] = []
    not_run: dict[str, str] = {}
    reach = _Reach(context.rollup)
    subjects: dict[tuple[str, str, str, str | None], list[_Subject]] = {}  # shared by the rules on one table
    with collector_paused():  # hundreds of thousands of findings, none of them garbage
        for rule in pack:
            if rule.mode not in context.modes:
                not_run[rule.id] = f"mode {rule.mode.value} was not selected"
                continue
            frame = facts.get(rule.facts_table)
            missing = _missing_requirements(rule, () if frame is None else frame.columns, context.unavailable)
            if frame is None:  # no table at all, e.g. the teams collection was unavailable
                not_run[rule.id] = missing or f"no {rule.facts_table} facts"
                continue
            if missing:
                not_run[rule.id] = missing
            findings.extend(_judge(rule, frame, missing, reach, subjects))
        ordered = tuple(sorted(findings, key=lambda f: f.fingerprint))
    return Evaluation(findings=ordered, not_run=not_run)


class _Reach:
    """The services and teams a finding on an object counts for, worked out once per object.

    Every rule on an entity type asks about the same objects; on a large account that is
    hundreds of thousands of identical roll-up look-ups.
    """

    def __init__(self, rollup: RollUp) -> None:
        self.rollup = rollup
        self.known: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {}

    def of(self, entity_type: str, entity_id: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        key = (entity_type, entity_id)
        if key not in self.known:
            services = self.rollup.services_of(entity_type, entity_id)
            self.known[key] = (services, self.rollup.teams_of(entity_type, entity_id, services))
        return self.known[key]


def _missing_requirements(rule: Rule, columns: Collection[str], unavailable: Mapping[str, str]) -> str | None:
    """Why the rule cannot be judged, or None. A required column that exists but is empty is not missing."""
    reasons = []
    for requirement in rule.requires:
        if requirement == INCIDENT_ANALYTICS:
            # Met only by facts that carry the analytics columns the rule reads (no crawl gives them yet).
            if not _analytics_columns(rule) <= set(columns):
                reasons.append(ANALYTICS_MISSING)
        elif requirement in COLLECTIONS:
            if requirement in unavailable:
                reasons.append(f"{requirement} unavailable ({unavailable[requirement]})")
        elif requirement not in columns:
            reasons.append(f"{requirement} not in the {rule.facts_table} facts")
    return "needs " + "; ".join(reasons) if reasons else None


def _analytics_columns(rule: Rule) -> set[str]:
    """The incident-analytics columns (``ANALYTICS_COLUMNS``) the rule's expressions and message read."""
    named = _template_fields(rule.message)
    for field in EXPRESSION_FIELDS:
        text = getattr(rule, field)
        if text is not None:
            named |= _check_expression(text).columns
    return named & set(ANALYTICS_COLUMNS.get(rule.facts_table, {}))


@dataclasses.dataclass(frozen=True)
class _Subject:
    """What a finding says about the object a row judges (read from the row's columns),
    and the services and teams its findings count for."""

    entity_id: str
    name: str
    sub_key: str | None
    html_url: str | None
    service_ids: tuple[str, ...]
    team_ids: tuple[str, ...]


def _subjects(rule: Rule, frame: pd.DataFrame, reach: _Reach) -> list[_Subject]:
    """One subject per row, read column by column (turning every row into a dict is the slow part)."""
    ids = [str(value) for value in frame[rule.object_column].tolist()]
    absent = [None] * len(frame)
    names = frame[NAME_COLUMN].tolist() if NAME_COLUMN in frame.columns else absent
    urls = frame[URL_COLUMN].tolist() if URL_COLUMN in frame.columns else absent
    sub_keys = frame[rule.sub_key].tolist() if rule.sub_key else absent
    return [
        _Subject(
            entity_id=entity_id,
            name=str(name or entity_id),
            sub_key=None if _is_missing(sub_key) else _key_text(sub_key),
            html_url=None if _is_missing(url) else str(url),
            service_ids=services,
            team_ids=teams,
        )
        for entity_id, name, sub_key, url in zip(ids, names, sub_keys, urls, strict=True)
        for services, teams in (reach.of(rule.entity, entity_id),)
    ]


def _judge(
    rule: Rule,
    frame: pd.DataFrame,
    excluded_because: str | None,
    reach: _Reach,
    known_subjects: dict[tuple[str, str, str, str | None], list[_Subject]],
) -> list[Finding]:
    keys = [rule.object_column] + ([rule.sub_key] if rule.sub_key else [])
    absent = [column for column in keys if column not in frame.columns]
    if absent:
        raise ValueError(f"the {rule.facts_table} facts lack column(s) {absent} that {rule.id} needs")
    if frame.duplicated(keys).any():
        raise ValueError(
            f"the {rule.facts_table} facts have duplicate rows for {keys}; {rule.id} cannot fingerprint them"
        )
    frame = frame.reset_index(drop=True)
    subject_key = (rule.entity, rule.facts_table, rule.object_column, rule.sub_key)
    if subject_key not in known_subjects:
        known_subjects[subject_key] = _subjects(rule, frame, reach)
    subjects = known_subjects[subject_key]
    if excluded_because:
        # Objects the rule does not apply to stay not_applicable when that can be told from the
        # data at hand (OC-09 concerns on-call users only, whether or not analytics were crawled).
        if rule.applies_when and _check_expression(rule.applies_when).columns <= set(frame.columns):
            applies = _mask(rule, "applies_when", frame).to_numpy(bool).tolist()
        else:
            applies = [True] * len(subjects)
        return [
            _finding(rule, subject, Status.EXCLUDED, excluded_because) if applied
            else _finding(rule, subject, Status.NOT_APPLICABLE, rule.title)
            for subject, applied in zip(subjects, applies, strict=True)
        ]
    applies = _mask(rule, "applies_when", frame) if rule.applies_when else pd.Series(True, index=frame.index)
    judged = frame[applies]
    passes = _mask(rule, "condition", judged) if len(judged) else pd.Series(dtype=bool)
    failing = judged[~passes] if len(judged) else judged
    warns = (
        _mask(rule, "warn_when", failing) if rule.warn_when and len(failing) else pd.Series(False, index=failing.index)
    )
    messages = _messages(rule, failing)
    verdicts = {position: Status.PASS for position in judged.index.tolist()}
    verdicts.update({position: Status.FAIL for position in failing.index.tolist()})
    warnings = set(failing.index[warns.to_numpy(bool)].tolist()) if len(failing) else set()
    advisory = rule.maturity_level is None  # info-only rules inform; they never fail
    findings = []
    for position, subject in enumerate(subjects):
        status = verdicts.get(position, Status.NOT_APPLICABLE)
        if status is not Status.FAIL:
            findings.append(_finding(rule, subject, status, rule.title))
        elif position in warnings:
            findings.append(_finding(rule, subject, Status.WARN, messages[position], severity=rule.warn_severity))
        else:
            findings.append(_finding(rule, subject, Status.WARN if advisory else status, messages[position]))
    return findings


def _messages(rule: Rule, failing: pd.DataFrame) -> dict[int, str]:
    """The failure message of each failing row, by position (only the template's columns are read).

    The template is parsed once per rule rather than once per row: the same ``str.format``
    result (fields are plain names, so nothing nests), without its per-call parsing.
    """
    pieces = list(_FORMATTER.parse(rule.message))
    columns = sorted(_template_fields(rule.message) & set(failing.columns))
    params = rule.param_values
    rows = failing[columns].to_dict("records") if columns else [{} for _ in range(len(failing))]
    messages = {}
    for position, row in zip(failing.index.tolist(), rows, strict=True):
        values = {**params, **row}
        parts = []
        for literal, field, spec, conversion in pieces:
            parts.append(literal)
            if field is not None:
                value = _FORMATTER.convert_field(values[field], conversion)
                parts.append(_FORMATTER.format_field(value, spec or ""))
        messages[position] = "".join(parts)
    return messages


def _mask(rule: Rule, field: str, frame: pd.DataFrame) -> pd.Series:
    """Evaluate an already-checked expression into one true/false per row (missing -> false)."""
    expression = getattr(rule, field)
    try:
        result = frame.eval(expression, engine="python", parser="pandas", local_dict=rule.param_values, global_dict={})
    # What pandas raises for data an expression cannot combine (a string compared with a
    # number, .str on numbers, a column the facts lack...); anything else is a bug.
    except (TypeError, ValueError, AttributeError, KeyError, NameError, NotImplementedError) as exc:
        raise UserError(
            f"{rule.source}: {rule.id}: {field}: cannot be evaluated over the {rule.facts_table} facts "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
        ) from None
    if isinstance(result, (bool, np.bool_)):  # an expression over parameters only
        return pd.Series(bool(result), index=frame.index)
    if isinstance(result, pd.Series) and (pd.api.types.is_bool_dtype(result.dtype) or result.dtype == object):
        try:
            return result.astype("boolean").fillna(False).astype(bool)
        except (TypeError, ValueError):
            pass
    kind = getattr(result, "dtype", type(result).__name__)
    raise UserError(f"{rule.source}: {rule.id}: {field}: must be true or false for each row, got {kind}")


def _finding(rule: Rule, subject: _Subject, status: Status, message: str, *,
             severity: Severity | None = None) -> Finding:
    return Finding(
        rule_id=rule.id,
        entity_type=rule.entity,
        entity_id=subject.entity_id,
        entity_name=subject.name,
        status=status,
        severity=severity or rule.severity,
        level=rule.maturity_level,
        mode=rule.mode,
        message=message,
        sub_key=subject.sub_key,
        service_ids=subject.service_ids,
        team_ids=subject.team_ids,
        html_url=subject.html_url,
    )


def _key_text(value: Any) -> str:
    # 2.0 and 2 must fingerprint alike: facts may give a level number as float after a merge.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
