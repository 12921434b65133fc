"""Fixtures for the rule engine: the Acme fact tables and the core test pack."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
import yaml

from audit.findings import RollUp
from audit.rules import RulePack, load_packs
from audit.scoring import ServiceRef, service_refs

DATA = Path(__file__).parent / "data"
CORE_PACK = DATA / "packs" / "core.yaml"


@dataclasses.dataclass(frozen=True)
class Account:
    """Facts as the facts stage hands them to the engine."""

    columns: dict[str, set[str]]
    facts: dict[str, pd.DataFrame]
    rollup: RollUp
    services: tuple[ServiceRef, ...]


def load_account(path: Path = DATA / "account.yaml") -> Account:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    facts = {entity: pd.DataFrame(rows) for entity, rows in document["tables"].items()}
    rollup = RollUp(service_ids=document["rollup"]["service_ids"], team_ids=document["rollup"]["team_ids"])
    return Account(
        columns={entity: set(names) for entity, names in document["columns"].items()},
        facts=facts,
        rollup=rollup,
        services=service_refs(facts["service"], rollup),
    )


@pytest.fixture
def account() -> Account:
    return load_account()


@pytest.fixture
def core_pack(account: Account) -> RulePack:
    return load_packs([CORE_PACK], account.columns, include_builtin=False)
