"""A two-process `mucode sft` run killed mid-way, started again with the same command,
ends with the per-step losses of one uninterrupted process at the same global batch.

    python bench/launch_resume.py [--out DIR] [--kill-after STEP]

The tiny random model (`--base tiny`), every weight trained (`--full`: no LoRA dropout,
whose masks differ between process counts), 8 rows, 4 a step (one process) or 2 in each
of two (`accelerate launch --config_file $(mucode accelerate-config ddp) --num_processes 2`,
gloo on this CPU), 4 epochs: 8 steps, a checkpoint each. The launch is killed (SIGKILL to
the launcher and every process under it: torchrun starts each worker in a session of its
own) once checkpoint STEP is on disk. Prints one JSON line: the step
each run resumed from, the largest relative loss difference, how many resumes the
manifest recorded, and wall times. Too slow for the test suite (three launches).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from mucode.core.records import Message
from mucode.training.examples import (
    LabelKind,
    Origin,
    Scores,
    SftExample,
    format_answer,
    write_examples,
)
from mucode.training.launch import accelerate_config

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
LAUNCH = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", "2",
          "--config_file", str(accelerate_config("ddp")), "--main_process_port", "0"]  # fmt: skip


def _rows(out: Path) -> Path:
    examples = []
    for i in range(8):
        origin = Origin("rollouts", 0, f"t{i}#0", 1)
        state = (Message("user", f"Write add{i}(a, b)." + " Please." * i),)
        target = format_answer(f"def add{i}(a, b):\n    return a + b + {i}")
        examples.append(SftExample(state, target, f"t{i}", "mbpp", "train", LabelKind.RELABELLED,
                                   origin, origin, Scores(True), 0))  # fmt: skip
    write_examples(out / "sft.jsonl", examples)
    return out / "sft.jsonl"


def _sft(data: Path, out: Path, batch_size: int) -> list[str]:
    return ["-m", "mucode", "sft", str(data), "--base", "tiny", "--full", "--dtype", "float32",
            "--batch-size", str(batch_size), "--epochs", "4", "--lr", "1e-3", "--save-steps", "1",
            "--out", str(out)]  # fmt: skip


def _losses(run: Path) -> list[float]:
    last = max((run / "checkpoints").glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    history = json.loads((last / "trainer_state.json").read_text())["log_history"]
    return [entry["loss"] for entry in history if "loss" in entry]


def _killed_launch(command: list[str], checkpoint: Path) -> float:
    started = time.perf_counter()
    launch = subprocess.Popen([*LAUNCH, *command], env=ENV, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    while not (checkpoint / "trainer_state.json").exists():
        if launch.poll() is not None:
            raise SystemExit(f"the launch ended (code {launch.returncode}) before {checkpoint}")
        time.sleep(0.05)
    workers = psutil.Process(launch.pid).children(recursive=True)  # torchrun: own sessions
    for process in [psutil.Process(launch.pid), *workers]:
        process.send_signal(signal.SIGKILL)
    psutil.wait_procs(workers)
    launch.wait()
    return time.perf_counter() - started


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=ENV, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp(prefix="launch-")))
    parser.add_argument("--kill-after", type=int, default=3)
    args = parser.parse_args()
    data = _rows(args.out)
    one, two = args.out / "one", args.out / "two"
    seconds = {"one": _timed([sys.executable, *_sft(data, one, 4)])}
    checkpoint = two / "checkpoints" / f"checkpoint-{args.kill_after}"
    seconds["two_killed"] = _killed_launch(_sft(data, two, 2), checkpoint)
    seconds["two_resumed"] = _timed([*LAUNCH, *_sft(data, two, 2)])
    reference, resumed = _losses(one), _losses(two)
    metadata = json.loads((two / "generator.json").read_text())["training"]
    print(json.dumps({
        "resumed_from": metadata["resumed_from"], "steps": metadata["steps"],
        "steps_run_after_resume": metadata["steps_run_now"],
        "max_relative_loss_difference": max(abs(a - b) / abs(b)
                                            for a, b in zip(resumed, reference, strict=True)),
        "losses_one_process": reference, "losses_two_processes": resumed,
        "manifest_resumes": len(json.loads((two / "manifest.json").read_text())["resumes"]),
        "seconds": {k: round(v, 1) for k, v in seconds.items()},
    }))  # fmt: skip


if __name__ == "__main__":
    main()
