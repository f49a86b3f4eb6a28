"""``mucode --version``: version, git revision from a checkout, installed optional engines."""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
from pathlib import Path

from typer.testing import CliRunner

import mucode
from mucode.cli import app
from mucode.core import manifest

ROOT = Path(mucode.__file__).resolve().parents[2]


def test_version_prints_version_revision_and_engines():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"mucode {importlib.metadata.version('mucode')}")
    assert mucode.__version__ == importlib.metadata.version("mucode")
    if (ROOT / ".git").exists():
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()  # fmt: skip
        assert f"(git {head[:12]}" in lines[0]
    assert f"python {platform.python_version()}" in lines
    assert f"openai {importlib.metadata.version('openai')}" in lines  # the test extra has it
    assert not any(line.startswith("vllm ") for line in lines)  # not installed: not listed


def test_an_installed_copy_inside_another_repository_has_no_revision(tmp_path, monkeypatch):
    # a virtualenv inside some project's checkout: mucode's files sit below that repo's
    # .git but are not its source, so no revision may be borrowed from it
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "other project"], check=True)
    installed = tmp_path / ".venv" / "lib" / "python3" / "site-packages" / "mucode"
    installed.mkdir(parents=True)
    monkeypatch.setattr(manifest, "__file__", str(installed / "core" / "manifest.py"))
    assert manifest.git_state() == {"revision": None, "dirty": None}
