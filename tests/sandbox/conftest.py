"""Shared sandbox fixtures: one warm pool per launcher for the whole session, short limits.

Every sandbox test runs under each launcher: ``native`` (the worker isolates itself) and
``bwrap`` (bubblewrap isolates it), the latter skipped where bubblewrap is not installed.
"""

from __future__ import annotations

import pytest

from mucode.sandbox import Limits, Sandbox
from mucode.sandbox.launchers import bwrap_available

LAUNCHERS = ["native", "bwrap"]


def require_launcher(launcher: str) -> None:
    """Skip a bwrap test where bubblewrap is missing (CI installs it)."""
    if launcher == "bwrap" and not bwrap_available():
        pytest.skip("bubblewrap is not installed (apt-get install bubblewrap)")


@pytest.fixture(scope="session", params=LAUNCHERS)
def sandbox(request):
    require_launcher(request.param)
    with Sandbox(workers=2, limits=Limits(timeout_s=3.0), launcher=request.param) as sb:
        assert sb.info.launcher == request.param
        yield sb


def pytest_collection_modifyitems(config, items):
    """Run the fork-bomb tests after everything else."""
    items.sort(key=lambda item: item.get_closest_marker("forkbomb") is not None)
