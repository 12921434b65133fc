"""Rule pack loading: read the YAML packs (built-in and ``--rules DIR``) into one checked ``RulePack``.

The built-in packs ship as ``audit.builtin_rules`` and are read with the same loader
as a user's ``--rules DIR``. Everything a rule says is checked when it is loaded:
unknown fields, duplicate ids, columns the entity's facts do not declare, parameters
the rule does not declare, unsafe expressions. A problem is one ``UserError`` line
naming the file, the rule and the field. The names each expression uses are stored
on the rule (``Rule.names``), so evaluation never parses an expression again.
"""

from __future__ import annotations

import difflib
import importlib.resources
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from audit.errors import UserError
from audit.facts.columns import ANALYTICS_COLUMNS, INCIDENT_ANALYTICS
from audit.rules.expressions import ExpressionNames, check_expression, joined_names
from audit.rules.messages import template_fields
from audit.rules.model import EXPRESSION_FIELDS, Rule, RuleNames, RulePack
from audit.snapshot import COLLECTIONS

BUILTIN_PACKAGE = "audit.builtin_rules"
PACK_SUFFIXES = (".yaml", ".yml")
MAX_PACK_BYTES = 4 << 20  # the built-in packs together are under 100 kB


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (YAML keeps the last), and aliases.

    An alias (``*name``) repeats an anchored node without repeating its text: nine lines of
    nested aliases expand to a billion strings ("billion laughs"). No rule needs one.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in a rule pack",
                                              event.start_mark)
        return super().compose_node(parent, index)


def _mapping_without_duplicates(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)

# libyaml, where PyYAML was built with it: the same documents read four times faster (the built-in
# packs took 0.09 s in pure Python). Its parser composes in C, past ``compose_node``, so aliases are
# looked for in its events first; any error is left to the pure-Python loader, whose messages the
# tests and users know.
_FastLoader: type[Any] | None = getattr(yaml, "CSafeLoader", None)
if _FastLoader is not None:
    class _FastUniqueKeyLoader(_FastLoader):  # type: ignore[misc, valid-type]
        """``_UniqueKeyLoader``'s duplicate-key check on libyaml's parser."""

    _FastUniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)
    _FastLoader = _FastUniqueKeyLoader


def _read_yaml(text: str) -> Any:
    """A rule pack's document: libyaml when the text is plain (no alias, no error), else the checking loader."""
    if _FastLoader is not None:
        try:
            if not any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, Loader=_FastLoader)):
                return yaml.load(text, Loader=_FastLoader)  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError:
            pass  # read again below, for the checking loader's message
    return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass


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
        if path.stat().st_size > MAX_PACK_BYTES:
            raise UserError(f"{path}: rule pack is larger than {MAX_PACK_BYTES >> 20} MiB")
        document = _read_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"{path}: cannot read rule pack ({exc.strerror})") from None
    except RecursionError:
        raise UserError(f"{path}: invalid YAML: nested too deeply") from None
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
        rule._names = _check_rule_names(rule, columns)
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


def _check_rule_names(rule: Rule, columns: Mapping[str, Collection[str]]) -> RuleNames:
    """The names the rule uses, once every column, parameter and requirement it names exists."""
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
    expressions: dict[str, ExpressionNames] = {}
    for field in EXPRESSION_FIELDS:
        text = getattr(rule, field)
        if text is None:
            continue
        try:
            names = check_expression(text)
        except (ValueError, SyntaxError) as exc:
            raise _FieldError(field, _expression_problem(exc)) from None
        expressions[field] = names
        for column in sorted(names.columns):
            _check_column(field, column, table, declared)
        unknown = sorted(names.params - set(rule.params))
        if unknown:
            raise _FieldError(field, f"unknown parameter '@{unknown[0]}' (declared: {joined_names(rule.params)})")
    for requirement in rule.requires:
        if requirement not in COLLECTIONS and requirement not in declared and requirement != INCIDENT_ANALYTICS:
            raise _FieldError(
                "requires", f"{requirement!r} is neither a snapshot collection, {INCIDENT_ANALYTICS!r} nor a "
                f"{table} column")
    if rule.sub_key is not None:
        _check_column("sub_key", rule.sub_key, table, declared)
    if (rule.judged_when is None) != (rule.not_judged_message is None):
        raise _FieldError("judged_when" if rule.not_judged_message is None else "not_judged_message",
                          "judged_when and not_judged_message go together: the message says why a row was not judged")
    messages = {field: _template_names(field, getattr(rule, field) or "", table, declared, rule.params)
                for field in ("message", "not_judged_message")}
    return RuleNames(expressions=expressions, message=messages["message"],
                     not_judged_message=messages["not_judged_message"])


def _template_names(field: str, template: str, table: str, declared: set[str],
                    params: Collection[str]) -> frozenset[str]:
    try:
        fields = template_fields(template)
    except ValueError as exc:
        raise _FieldError(field, str(exc)) from None
    for name in sorted(fields - set(params)):
        _check_column(field, name, table, declared)
    return frozenset(fields)


def _check_column(field: str, column: str, table: str, declared: set[str]) -> None:
    if column not in declared:
        close = difflib.get_close_matches(column, declared, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise _FieldError(field, f"unknown {table} column {column!r}{hint}")


def _expression_problem(exc: Exception) -> str:
    if isinstance(exc, SyntaxError):
        return f"invalid expression ({exc.msg})"
    return str(exc)

