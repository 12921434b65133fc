"""Fixtures for the robustness tests: one crawled Northwind snapshot the CLI cases share."""

from __future__ import annotations

import pytest

from tests.robustness.refusals import Workspace, make_workspace


@pytest.fixture(scope="session")
def workspace(tmp_path_factory) -> Workspace:
    return make_workspace(tmp_path_factory.mktemp("northwind"))
