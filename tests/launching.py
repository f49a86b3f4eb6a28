"""Run a command under ``accelerate launch`` with two processes on this CPU, and read the
per-step losses the Trainer logged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mucode.training.launch import accelerate_config

LOSS_TOLERANCE = 1e-4
"""Relative: two processes sum their gradients over gloo in another order than one process
sums its batch (measured here: at most 2e-6)."""


def launch(*command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``accelerate launch --config_file ddp.yaml --num_processes 2 COMMAND``; its output."""
    settings = {**os.environ, **(env or {}), "HF_HUB_OFFLINE": "1",
                "OMP_NUM_THREADS": "1"}  # fmt: skip  # one thread a process: two on two cores
    launcher = [sys.executable, "-m", "accelerate.commands.launch",
                "--config_file", str(accelerate_config("ddp")), "--num_processes", "2",
                "--main_process_port", "0"]  # fmt: skip
    done = subprocess.run([*launcher, *command], env=settings, capture_output=True, text=True,
                          timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    return done


def logged_losses(run_dir: Path) -> list[float]:
    """The training loss logged at each step, from the last checkpoint's trainer state."""
    checkpoints = (run_dir / "checkpoints").glob("checkpoint-*")
    last = max(checkpoints, key=lambda path: int(path.name.rsplit("-", 1)[1]))
    history = json.loads((last / "trainer_state.json").read_text())["log_history"]
    return [entry["loss"] for entry in history if "loss" in entry]
