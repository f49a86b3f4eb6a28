"""Run manifests: what produced a run directory, so it can be reproduced and resumed.

A manifest records the resolved config, seed, package versions, git revision (and
whether the tree was dirty), the host and the start time. Resuming a run with a different
config is refused, naming the settings that differ, so one directory never mixes two
setups. An older manifest is read with today's defaults for settings added since, so an
upgrade that adds a setting does not strand a run. Each accepted resume with work left is
appended under ``resumes`` with its own time, git state, versions and host, since code and
machine may have changed in between.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from mucode.core.errors import ConfigError, validation_problems
from mucode.core.files import write_json_atomically

MANIFEST = "manifest.json"
_PACKAGES = ("mucode", "xllamacpp", "openai", "torch", "transformers", "accelerate", "peft",
             "trl", "vllm", "scikit-learn")  # fmt: skip


def git_state() -> dict[str, Any]:
    """Revision and dirty flag of the source checkout mucode runs from, if any.

    Only a checkout whose top holds mucode's ``src/`` counts: an installed copy inside
    some other repository (a virtualenv in a project's tree) has no revision of its own.
    """
    root = Path(__file__).resolve().parents[3]  # core/ -> mucode/ -> src/ -> the checkout
    if not (root / ".git").exists():
        return {"revision": None, "dirty": None}

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              check=True)  # fmt: skip
        return done.stdout.strip()

    try:
        return {"revision": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}
    except (OSError, subprocess.CalledProcessError):
        return {"revision": None, "dirty": None}


def versions() -> dict[str, str]:
    """Installed versions of the packages that shape results."""
    found = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def write_or_check_manifest(run_dir: Path, config: BaseModel, work_left: bool = True) -> Path:
    """Write the manifest of a new run, or check that a resumed run has the same config.

    A resume is recorded only when it has ``work_left``: re-running a finished run
    checks its settings and changes nothing."""
    path = Path(run_dir) / MANIFEST
    current = config.model_dump(mode="json")
    if path.exists():
        info = json.loads(path.read_text())
        previous = _with_todays_defaults(type(config), info["config"], path)
        changed = sorted(k for k in previous.keys() | current.keys()
                         if previous.get(k) != current.get(k))  # fmt: skip
        if changed:
            raise ConfigError(
                f"{run_dir} holds a run with different settings ({', '.join(changed)}); "
                "resume it with the same settings or choose a new --out"
            )
        if work_left:
            info.setdefault("resumes", []).append(_provenance())
            write_json_atomically(path, info)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomically(path, {"config": current, **_provenance()})
    return path


def record_in_manifest(run_dir: Path, key: str, value: Any) -> None:
    """Set ``key`` in the manifest's latest entry: the run itself, or its last resume (the
    machine or the code, and so what was decided at start-up, may have changed since)."""
    path = Path(run_dir) / MANIFEST
    info = json.loads(path.read_text())
    entry = info["resumes"][-1] if info.get("resumes") else info
    entry[key] = value
    write_json_atomically(path, info)


def _with_todays_defaults(kind: type[BaseModel], recorded: dict[str, Any], path: Path) -> dict:
    try:
        return kind.model_validate(recorded).model_dump(mode="json")
    except ValidationError as e:
        raise ConfigError(f"{path} records settings this version of mucode cannot read "
                          f"({validation_problems(e)}); choose a new --out") from e  # fmt: skip


def _provenance() -> dict[str, Any]:
    return {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git": git_state(),
        "versions": versions(),
        "host": {"platform": platform.platform(), "cpus": os.cpu_count()},
    }
