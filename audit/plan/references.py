"""Values of a planned resource, with what is unknown until apply resolved through references.

Terraform marks a value it cannot know before apply in ``after_unknown`` (e.g. the id of an
escalation policy created by the same plan). The plan's ``configuration`` still says where
the value comes from: ``escalation_policy = pagerduty_escalation_policy.eng.id`` is recorded as
the references ``["pagerduty_escalation_policy.eng.id", "pagerduty_escalation_policy.eng"]``.
:class:`References` follows such a reference to the resource it names in the same module
(with its instance key, or the only instance) and answers that resource's planned id (its
real id, or its address while it has none) or its known attribute; ``[each.key]`` and
``[count.index]`` name the referring instance's own key. A value computed by the
provider (no expression in the configuration) is left out, as if unset; one whose expression
cannot be followed (a module output, a value computed at apply) is recorded as
:class:`Unknown`, naming the resource address and attribute, so the rules that need it report
it instead of judging a guess.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any

from audit.plan.reader import Plan, ResourceChange

Path = tuple[str | int, ...]
_REFERENCE = re.compile(r"^(?P<type>[a-z][a-z0-9_]*)\.(?P<name>[A-Za-z_][A-Za-z0-9_-]*)"
                        r"(?:\[(?P<key>[^\]]*)\])?(?:\.(?P<attr>[A-Za-z_][A-Za-z0-9_]*))?")
_NOT_RESOURCES = ("var.", "local.", "count.", "each.", "path.", "self.", "terraform.", "data.", "module.")
_MISSING = object()


@dataclasses.dataclass(frozen=True, order=True)
class Unknown:
    """A value the plan cannot tell before apply and its references could not resolve."""

    address: str
    attribute: str  # e.g. "escalation_policy" or "rule[0].target[0].id"

    def __str__(self) -> str:
        return f"{self.address}.{self.attribute}"


def attribute_text(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


class References:
    """Follows configuration references between the plan's resources."""

    def __init__(self, plan: Plan, planned_ids: Mapping[str, str]):
        self.planned_ids = planned_ids
        self._by_resource: dict[tuple[str, str], list[ResourceChange]] = {}
        for change in plan.changes:
            self._by_resource.setdefault((change.module_address, change.config_address), []).append(change)
        self._configs = _module_resources(plan.configuration)

    def expression(self, change: ResourceChange, path: Path) -> Any:
        """The configuration's expression for ``path`` of ``change`` (None when not configured)."""
        config = self._configs.get((_strip_keys(change.module_address), change.config_address))
        node: Any = (config or {}).get("expressions")
        for part in path:
            if isinstance(part, int):
                node = node[part] if isinstance(node, list) and part < len(node) else None
            else:
                node = node.get(part) if isinstance(node, dict) else None
            if node is None:
                return None
        return node

    def resolve(self, change: ResourceChange, path: Path, unknown_mask: Any) -> tuple[bool, Any]:
        """(True, value) when the unknown value at ``path`` can be told from references;
        (True, _MISSING) when the provider computes it (nothing configured); (False, None) otherwise."""
        expression = self.expression(change, path)
        position = None
        if expression is None and path and isinstance(path[-1], int):
            # A list attribute (teams = [a.id, b.id]) has one expression for the whole list.
            expression = self.expression(change, path[:-1])
            position = path[-1]
        if expression is None:
            return True, _MISSING
        if not isinstance(expression, dict) or "references" not in expression:
            return False, None
        targets = self._targets(change, expression["references"])
        if position is None:
            return (True, targets[0]) if len(targets) == 1 and targets[0] is not _MISSING else (False, None)
        unknown_positions = [i for i, flag in enumerate(unknown_mask or []) if flag is True]
        if len(targets) == len(unknown_positions) and position in unknown_positions:
            value = targets[unknown_positions.index(position)]
            return (value is not _MISSING), (None if value is _MISSING else value)
        return False, None

    def _targets(self, change: ResourceChange, references: Iterable[Any]) -> list[Any]:
        """The value of each distinct resource named, in order (``_MISSING`` where it cannot be told)."""
        values: dict[str, Any] = {}
        for reference in references:
            if not isinstance(reference, str) or reference.startswith(_NOT_RESOURCES):
                if isinstance(reference, str) and reference.startswith(("module.", "data.")):
                    values.setdefault(reference, _MISSING)
                continue
            match = _REFERENCE.match(reference)
            if match is None:
                continue
            resource = f"{match['type']}.{match['name']}"
            instance = match["key"]
            if instance in ("each.key", "count.index"):  # the referring instance's own key
                instance = _key_text(change.index)
            key = resource + (f"[{instance}]" if instance is not None else "")
            if any(k == key or (k.startswith(key + "[") and match["key"] is None) for k in values):
                continue  # the shorter forms Terraform lists after the full reference
            values[key] = self._value(change, resource, instance, match["attr"])
        return list(values.values())

    def _value(self, change: ResourceChange, resource: str, key: str | None, attr: str | None) -> Any:
        instances = self._by_resource.get((change.module_address, resource), [])
        if key is not None:
            instances = [i for i in instances if _key_text(i.index) == key]
        if len(instances) != 1:
            return _MISSING
        target = instances[0]
        if attr in (None, "id"):
            return self.planned_ids.get(target.address, _MISSING)
        after = target.after if isinstance(target.after, dict) else {}
        unknown = target.after_unknown if isinstance(target.after_unknown, dict) else {}
        if unknown.get(attr) is True or attr not in after:
            return _MISSING
        return after[attr]


class Values:
    """One side of a change (``before`` or ``after``) read by path, unknowns resolved or recorded."""

    def __init__(self, change: ResourceChange, side: str, references: References | None, unknowns: set[Unknown]):
        self.change = change
        self.address = change.address
        self._data = change.before if side == "before" else change.after
        self._mask = change.after_unknown if side == "after" else {}
        self._references = references
        self._unknowns = unknowns

    def get(self, *path: str | int, default: Any = None) -> Any:
        data, mask = self._data, self._mask
        for depth, part in enumerate(path):
            mask = _step(mask, part)
            if mask is True:
                return self._resolved(path[: depth + 1], path, default)
            data = _step(data, part)
            if data is None:
                return default
        return data

    def list(self, *path: str | int) -> list[Any]:
        """A block list or list attribute as it is ([] when unset; unknown elements are None)."""
        value = self.get(*path, default=[])
        if value is None or isinstance(value, list):
            return value or []
        return [value]  # a whole list unknown, resolved from its one reference

    def items(self, *path: str | int) -> list[Any]:
        """The elements of a list attribute, each unknown one resolved (or recorded) on its own."""
        whole = self.list(*path)
        return [element if element is not None else self.get(*path, number)
                for number, element in enumerate(whole)]

    def _resolved(self, unknown_at: Path, path: Path, default: Any) -> Any:
        if self._references is not None and unknown_at == path:
            parent_mask = self._mask
            for part in path[:-1]:
                parent_mask = _step(parent_mask, part)
            found, value = self._references.resolve(self.change, path, parent_mask)
            if found:
                return default if value is _MISSING else value
        elif self._references is not None and self._references.expression(self.change, unknown_at) is None:
            return default  # a whole block the provider computes
        self._unknowns.add(Unknown(self.address, attribute_text(unknown_at)))
        return default


def _step(node: Any, part: str | int) -> Any:
    if isinstance(part, int):
        return node[part] if isinstance(node, list) and 0 <= part < len(node) else None
    return node.get(part) if isinstance(node, dict) else None


def _strip_keys(module_address: str) -> str:
    return re.sub(r"\[[^\]]*\]", "", module_address)


def _key_text(index: Any) -> str | None:
    if index is None:
        return None
    return f'"{index}"' if isinstance(index, str) else str(index)


def _module_resources(configuration: Mapping[str, Any]) -> dict[tuple[str, str], Mapping[str, Any]]:
    """(module path without keys, resource address in the module) -> the resource's configuration."""
    found: dict[tuple[str, str], Mapping[str, Any]] = {}
    pending: list[tuple[str, Any]] = [("", configuration.get("root_module"))]
    while pending:
        prefix, module = pending.pop()
        if not isinstance(module, dict):
            continue
        for resource in module.get("resources") or []:
            if isinstance(resource, dict) and isinstance(resource.get("address"), str):
                found[(prefix, resource["address"])] = resource
        for name, call in (module.get("module_calls") or {}).items():
            if isinstance(call, dict):
                pending.append(((f"{prefix}." if prefix else "") + f"module.{name}", call.get("module")))
    return found
