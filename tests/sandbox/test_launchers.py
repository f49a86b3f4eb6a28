"""Choosing the launcher: explicit, from the environment, and auto's bubblewrap fallback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mucode.core.errors import ConfigError
from mucode.sandbox.launchers import (
    LAUNCHER_ENV,
    Launcher,
    bwrap_command,
    falls_back_to_bwrap,
    requested_launcher,
)
from mucode.sandbox.view import View
from tests.sandbox.conftest import require_launcher


def test_the_launcher_comes_from_the_argument_then_the_environment(monkeypatch):
    monkeypatch.delenv(LAUNCHER_ENV, raising=False)
    assert requested_launcher(None) is Launcher.AUTO
    monkeypatch.setenv(LAUNCHER_ENV, "bwrap")
    assert requested_launcher(None) is Launcher.BWRAP
    assert requested_launcher("native") is Launcher.NATIVE
    monkeypatch.setenv(LAUNCHER_ENV, "docker")
    with pytest.raises(ConfigError, match="unknown sandbox launcher 'docker'"):
        requested_launcher(None)


def test_auto_falls_back_to_bwrap_only_when_native_isolation_failed(monkeypatch):
    require_launcher("bwrap")
    assert falls_back_to_bwrap(Launcher.AUTO, natively_isolated=False)
    assert not falls_back_to_bwrap(Launcher.AUTO, natively_isolated=True)
    assert not falls_back_to_bwrap(Launcher.NATIVE, natively_isolated=False)
    monkeypatch.setenv("PATH", "/nonexistent")  # no bwrap to fall back to
    assert not falls_back_to_bwrap(Launcher.AUTO, natively_isolated=False)


def test_bwrap_missing_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ConfigError, match="apt-get install bubblewrap"):
        bwrap_command(16, View((), (), ()))


def test_sandbox_info_names_the_launcher_and_its_layers():
    require_launcher("bwrap")
    command = [sys.executable, "-m", "mucode", "sandbox", "info", "--launcher", "bwrap", "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    info = json.loads(done.stdout.strip().splitlines()[-1])
    assert info["launcher"] == "bwrap"
    assert any(layer.startswith("bubblewrap: namespaces") for layer in info["layers"])
    assert any("rlimits" in layer for layer in info["layers"])
