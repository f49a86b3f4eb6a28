"""Shared sandbox fixtures: one warm pool for the whole session, short limits."""

from __future__ import annotations

import pytest

from mucode.sandbox import Limits, Sandbox


@pytest.fixture(scope="session")
def sandbox():
    with Sandbox(workers=2, limits=Limits(timeout_s=3.0)) as sb:
        yield sb


def pytest_collection_modifyitems(config, items):
    """Run the fork-bomb tests after everything else."""
    items.sort(key=lambda item: item.get_closest_marker("forkbomb") is not None)
