"""Reading the JSON of ``terraform show -json PLAN``: resource changes and the configuration.

Only what pd-audit judges is kept: each managed resource change (address, module, type,
name, instance key, actions, ``before``, ``after``, ``after_unknown``), the configuration's
resources by module (for references), and the plan's timestamp. A file that is not a plan
is refused with one line naming what is wrong (exit 2).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from audit.errors import UserError

CREATE, READ, UPDATE, DELETE, NO_OP = "create", "read", "update", "delete", "no-op"
MAX_PLAN_BYTES = 256 * 1024 * 1024  # a plan of tens of thousands of resources is far below this


@dataclasses.dataclass(frozen=True)
class ResourceChange:
    """One managed resource instance and what the plan does to it."""

    address: str  # e.g. module.pd.pagerduty_service.api["x"]
    module_address: str  # "" for the root module, else e.g. "module.pd"
    type: str
    name: str
    index: Any  # count index (int), for_each key (str) or None
    actions: tuple[str, ...]
    before: Any
    after: Any
    after_unknown: Any

    @property
    def creates(self) -> bool:
        return CREATE in self.actions

    @property
    def deletes(self) -> bool:
        return DELETE in self.actions

    @property
    def changes(self) -> bool:
        return any(action in (CREATE, UPDATE, DELETE) for action in self.actions)

    @property
    def config_address(self) -> str:
        """The resource's address inside its module, without the instance key (the configuration's)."""
        return f"{self.type}.{self.name}"

    @property
    def action_label(self) -> str:
        if self.creates and self.deletes:
            return "replace"
        return "create" if self.creates else "delete" if self.deletes else UPDATE if UPDATE in self.actions else NO_OP


@dataclasses.dataclass(frozen=True)
class Plan:
    """The parts of a plan pd-audit reads."""

    path: str
    changes: tuple[ResourceChange, ...]
    configuration: Mapping[str, Any]  # the plan's "configuration" (root_module, module_calls)
    timestamp: datetime | None
    terraform_version: str | None


def read_plan(path: str | os.PathLike[str]) -> Plan:
    """The plan at ``path`` (the JSON of ``terraform show -json``), or a one-line UserError."""
    source = Path(path)
    try:
        if source.stat().st_size > MAX_PLAN_BYTES:
            raise UserError(f"{source}: larger than {MAX_PLAN_BYTES // 2**20} MiB; not a plan pd-audit reads")
        data = json.loads(source.read_bytes())
    except FileNotFoundError:
        raise UserError(f"{source}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise UserError(f"{source}: not JSON; give the output of `terraform show -json PLANFILE`, "
                        "not the binary plan file") from None
    except RecursionError:
        raise UserError(f"{source}: nested too deeply to be a Terraform plan") from None
    except OSError as exc:
        raise UserError(f"{source}: cannot be read ({exc.strerror or exc.__class__.__name__})") from None
    return parse_plan(data, str(source))


def parse_plan(data: Any, name: str = "plan") -> Plan:
    """A plan from its decoded JSON (see :func:`read_plan`)."""
    if not isinstance(data, dict) or "format_version" not in data:
        raise UserError(f"{name}: not a Terraform plan (no format_version); give the output of "
                        "`terraform show -json PLANFILE`")
    if "planned_values" not in data and "resource_changes" not in data and "configuration" not in data:
        raise UserError(f"{name}: a Terraform state, not a plan; give `terraform show -json PLANFILE`")
    raw_changes = data.get("resource_changes") or []
    if not isinstance(raw_changes, list):
        raise UserError(f"{name}: resource_changes is not a list")
    changes = tuple(
        change for number, record in enumerate(raw_changes)
        for change in [_change(record, number, name)] if change is not None
    )
    configuration = data.get("configuration") if isinstance(data.get("configuration"), dict) else {}
    version = data.get("terraform_version")
    return Plan(name, changes, configuration, _timestamp(data.get("timestamp"), name),
                version if isinstance(version, str) else None)


def _change(record: Any, number: int, name: str) -> ResourceChange | None:
    where = f"{name}: resource_changes[{number}]"
    if not isinstance(record, dict):
        raise UserError(f"{where} is not an object")
    if record.get("mode", "managed") != "managed":
        return None  # data sources are read, not changed
    change = record.get("change")
    address = record.get("address")
    if not isinstance(change, dict) or not isinstance(address, str) or not isinstance(record.get("type"), str):
        raise UserError(f"{where} lacks address, type or change")
    actions = change.get("actions")
    if not isinstance(actions, list) or not actions or not all(isinstance(a, str) for a in actions):
        raise UserError(f"{where} ({address}) has no change.actions")
    return ResourceChange(
        address=address,
        module_address=record.get("module_address") if isinstance(record.get("module_address"), str) else "",
        type=record["type"],
        name=str(record.get("name") or ""),
        index=record.get("index"),
        actions=tuple(actions),
        before=change.get("before"),
        after=change.get("after"),
        after_unknown=change.get("after_unknown") if change.get("after_unknown") is not None else {},
    )


def _timestamp(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        stamp = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"{name}: timestamp {value!r} is not an ISO-8601 time") from None
    return stamp if stamp.utcoffset() is not None else None
