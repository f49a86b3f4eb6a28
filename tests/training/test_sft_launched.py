"""Fine-tuning under ``accelerate launch`` with two processes on this CPU: the per-step
losses equal one process's at the same global batch, and one process builds the tiny
model's cache and writes the tokenizer, ``adapter.gguf`` and ``generator.json``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("trl")
pytest.importorskip("peft")

from mucode.core.records import Message
from mucode.training.examples import (
    LabelKind,
    Origin,
    Scores,
    SftExample,
    format_answer,
    write_examples,
)
from mucode.training.sft import METADATA, SFTConfig, fine_tune
from tests.launching import LOSS_TOLERANCE, launch, logged_losses

pytestmark = pytest.mark.slow
DRIVER = Path(__file__).with_name("launched_sft.py")


def examples(count: int) -> list[SftExample]:
    """Rows of different lengths, so the processes' batches pad differently."""
    found = []
    for i in range(count):
        origin = Origin("rollouts", 0, f"t{i}#0", 1)
        state = (Message("user", f"Write add{i}(a, b)." + " Please." * i),)
        target = format_answer(f"def add{i}(a, b):\n    return a + b + {i}")
        found.append(SftExample(state, target, f"t{i}", "mbpp", "train", LabelKind.RELABELLED,
                                origin, origin, Scores(True), 0))  # fmt: skip
    return found


def test_two_processes_train_as_one_with_the_same_global_batch(tmp_path, monkeypatch):
    write_examples(tmp_path / "sft.jsonl", examples(8))
    # LoRA without dropout (each process would draw other masks); save_steps 1 logs every step
    settings = dict(datasets=[str(tmp_path)], base="tiny", dtype="float32", lora_r=2,
                    lora_alpha=4, lora_dropout=0.0, epochs=2, learning_rate=1e-2,
                    save_steps=1)  # fmt: skip
    cache = str(tmp_path / "cache")  # empty: the two processes must not both build the model
    launch(str(DRIVER), json.dumps({**settings, "batch_size": 2}), str(tmp_path / "two"),
           env={"MUCODE_CACHE_DIR": cache})  # fmt: skip
    monkeypatch.setenv("MUCODE_CACHE_DIR", cache)
    one = fine_tune(SFTConfig(**settings, batch_size=4), tmp_path / "one")
    assert one["training"]["steps"] == 4  # 8 rows, 4 a step, 2 epochs
    losses = logged_losses(tmp_path / "two")
    assert losses == pytest.approx(logged_losses(tmp_path / "one"), rel=LOSS_TOLERANCE)
    assert len(set(losses)) == 4
    two = json.loads((tmp_path / "two" / METADATA).read_text())
    assert two["gguf_adapter"] == str(tmp_path / "two" / "adapter.gguf")
    assert (tmp_path / "two" / "adapter.gguf").stat().st_size > 0
    assert two["training"]["train_loss"] == pytest.approx(one["training"]["train_loss"], rel=1e-4)
