"""`mucode rollout` at the command line. With the embedded model: killed with SIGKILL
mid-run, then resumed by the same command, it loses and duplicates no trajectory; run
once more, it has nothing left to do. Option checks fail before any engine starts."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from mucode.benchmarks import load_problems
from mucode.commands import rollout as rollout_command
from mucode.generation import ScriptedGenerator
from mucode.generation.config import LlamaCppConfig
from mucode.rollout import RolloutConfig, run_rollouts
from mucode.runs import rollout as rollout_run
from mucode.sandbox import Limits, Sandbox


def _command(out):
    return [sys.executable, "-m", "mucode", "rollout", "--limit", "4", "--turns", "2",
            "--max-tokens", "128", "--parallel", "2", "--out", str(out)]  # fmt: skip


def _keys(path):
    return [f"{r['task_id']}#{r['sample_index']}" for r in map(json.loads, path.open())]


@pytest.mark.slow
def test_kill_9_then_resume(tmp_path):
    pytest.importorskip("xllamacpp", reason="install the cpu extra")
    out = tmp_path / "run"
    trajectories = out / "trajectories.jsonl"
    proc = subprocess.Popen(_command(out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 900  # generous: a loaded 2-core machine decodes slowly
    while time.monotonic() < deadline and proc.poll() is None:
        if trajectories.exists() and trajectories.stat().st_size > 0:
            break
        time.sleep(0.2)
    if proc.poll() is not None:
        pytest.fail(f"rollout ended before it could be killed: {proc.stderr.read().decode()}")
    if not trajectories.exists():
        proc.kill()
        pytest.fail("no trajectory was written within 15 minutes")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = _keys(trajectories)
    assert 0 < len(before) < 4
    done = subprocess.run(_command(out), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    after = _keys(trajectories)
    assert sorted(after) == sorted(set(after)) and len(after) == 4
    assert after[: len(before)] == before  # what survived the kill is kept as it was
    assert "4 trajectories" in done.stdout and "resumed" in done.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["rollout"]["turns"] == 2 and len(manifest["resumes"]) == 1
    finished = subprocess.run(_command(out), capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0 and "nothing left to run" in finished.stdout
    assert _keys(trajectories) == after
    assert json.loads((out / "manifest.json").read_text()) == manifest


def test_changed_settings_are_refused_on_resume(tmp_path):
    out = tmp_path / "run"
    no_engine = [*_command(out), "--model", str(tmp_path / "missing.gguf")]
    first = subprocess.run(no_engine, capture_output=True, text=True, timeout=120)
    assert first.returncode != 0 and (out / "manifest.json").exists()  # stopped at the engine
    done = subprocess.run([*no_engine, "--turns", "3"], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 2 and "different settings (rollout)" in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--backend", "openai", "--model", "m"], "needs --base-url"),
        (["--backend", "hf"], "needs --model"),
        (["--base-url", "http://127.0.0.1:1/v1"], "--base-url is for --backend openai"),
        (["--backend", "vllm", "--model", "m", "--adapter", "d"], "--adapter is for --backend hf"),
        (["--backend", "vllm", "--model", "m"], "pip install vllm"),
    ],
)
def test_backend_options_that_do_not_fit_are_refused(tmp_path, args, message):
    command = [sys.executable, "-m", "mucode", "rollout", "--out", str(tmp_path / "r"), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert message in done.stderr.replace("\n", " ")


@pytest.mark.usefixtures("xllamacpp")  # the engine fails on the missing model
def test_a_finished_run_is_summarised_without_starting_an_engine(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "mucode", "rollout", "--tasks", "HumanEval/53", "--turns",
               "1", "--model", str(tmp_path / "no-such-model.gguf"), "--out", str(out)]  # fmt: skip
    first = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert first.returncode != 0 and "no-such-model.gguf" in first.stderr  # the engine was needed
    manifest = (out / "manifest.json").read_text()
    answer = "```python\ndef add(x: int, y: int):\n    return x + y\n```"
    with Sandbox(workers=1, limits=Limits(timeout_s=5)) as sandbox:
        run_rollouts(load_problems("humaneval", task_ids=["HumanEval/53"]),
                     ScriptedGenerator(lambda _c, _i: answer), sandbox, RolloutConfig(turns=1),
                     out)  # fmt: skip
    again = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    printed = " ".join(again.stdout.split())  # the table title may wrap
    assert "nothing left to run" in printed and "1 trajectories (1 resumed)" in printed
    assert (out / "manifest.json").read_text() == manifest  # no resume recorded


def test_the_manifest_records_each_problems_limits(shared_data_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("MUCODE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(rollout_run, "make_generator",
                        lambda _config: ScriptedGenerator(lambda _c, _i: "no code"))  # fmt: skip
    config = rollout_command.build_run(
        benchmark="mbpp-plus-snapshot", data_dir=shared_data_dir, tasks=("Mbpp/2",),
        generator=LlamaCppConfig(), rollout=RolloutConfig(turns=1), timeout_s=2.0, workers=1,
    )  # fmt: skip
    rollout_run.run_rollout(config, tmp_path / "run")
    limits = json.loads((tmp_path / "run" / "manifest.json").read_text())["limits"]
    assert limits["source"] == "calibrated" and limits["timeout_s"] == 2.0
    assert limits["reference_times"].startswith(str(tmp_path / "cache"))
