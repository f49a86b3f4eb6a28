"""The isolation layers this machine must have: a missing one fails here, so the tests that
skip without it cannot hide a broken layer.

``$MUCODE_SANDBOX_EXPECT`` says what to expect: ``full`` (the default; Linux with
namespaces and bubblewrap, as CI has), ``native`` (no bubblewrap) or ``none`` (a machine
that cannot isolate; then only the skips speak).
"""

from __future__ import annotations

import os

import pytest

from mucode.sandbox import Sandbox
from mucode.sandbox.launchers import bwrap_available

EXPECT_ENV = "MUCODE_SANDBOX_EXPECT"
COMMON = ["rlimits", "scrubbed environment"]
EXPECTED = {
    "native": [
        "namespaces (", "allow-list file system view", "private /proc", "minimal /dev",
        "private tmpfs on /tmp", "read-only root filesystem", "no new privileges", *COMMON,
    ],
    "bwrap": [
        "bubblewrap: namespaces", "bubblewrap: allow-list file system view",
        "bubblewrap: read-only root filesystem", "bubblewrap: private tmpfs",
        "bubblewrap: private /proc and minimal /dev", *COMMON,
    ],
}  # fmt: skip
# Without root, capabilities are dropped instead of switching to an unprivileged uid.
PRIVILEGE = "unprivileged uid" if os.geteuid() == 0 else "all capabilities dropped"


def expectation() -> str:
    value = os.environ.get(EXPECT_ENV, "full")
    if value not in ("full", "native", "none"):
        pytest.fail(f"${EXPECT_ENV} must be full, native or none, not {value!r}")
    return value


@pytest.mark.parametrize("launcher", ["native", "bwrap"])
def test_every_expected_layer_is_active(launcher):
    expected = expectation()
    if expected == "none" or (launcher == "bwrap" and expected == "native"):
        pytest.skip(f"${EXPECT_ENV}={expected}")
    if launcher == "bwrap":
        assert bwrap_available(), "bubblewrap is expected but not on the PATH"
    with Sandbox(workers=1, launcher=launcher) as sandbox:
        layers = sandbox.info.layers
        missing = [want for want in [*EXPECTED[launcher], PRIVILEGE]
                   if not any(want in layer for layer in layers)]  # fmt: skip
    assert not missing, f"missing layers: {missing}; the kernel said: {sandbox.info.missing}"
