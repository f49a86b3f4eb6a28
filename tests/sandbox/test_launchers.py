"""Choosing the launcher: explicit, from the environment, and auto's bubblewrap fallback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mucode.errors import ConfigError
from mucode.sandbox.launchers import (
    LAUNCHER_ENV,
    Launcher,
    bwrap_command,
    falls_back_to_bwrap,
    requested_launcher,
)
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
        bwrap_command(tmpfs_mb=16)


def test_sandbox_info_names_the_launcher_and_its_layers():
    require_launcher("bwrap")
    command = [sys.executable, "-m", "mucode", "sandbox", "info", "--launcher", "bwrap", "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    info = json.loads(done.stdout.strip().splitlines()[-1])
    assert info["launcher"] == "bwrap"
    assert any(layer.startswith("bubblewrap: namespaces") for layer in info["layers"])
    assert any("rlimits" in layer for layer in info["layers"])


def test_bwrap_binds_back_interpreter_dirs_under_tmp(tmp_path):
    """A checkout or venv under /tmp (CI clones there) stays importable inside bubblewrap,
    though /tmp itself is a fresh tmpfs there."""
    require_launcher("bwrap")
    (tmp_path / "probe_module.py").write_text("VALUE = 42\n")
    prefix, _ = bwrap_command(16, python_dirs=["/usr", str(tmp_path)])
    script = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import probe_module, os; "
        "print(probe_module.VALUE, sorted(os.listdir('/tmp')))"
    )
    done = subprocess.run([*prefix, "/usr/bin/python3", "-I", "-c", script],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    top = str(tmp_path).split("/")[2]  # the one entry of /tmp on the way to tmp_path
    assert done.stdout.split() == ["42", f"['{top}']"]
