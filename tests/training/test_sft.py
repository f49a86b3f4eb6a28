"""Generator fine-tuning: which tokens carry loss, which rows are kept, what a run writes."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("trl")
pytest.importorskip("peft")

from mucode.core.errors import DatasetError
from mucode.core.records import Message
from mucode.generation.tiny_model import tiny_model_dir
from mucode.training.examples import (
    LabelKind,
    Origin,
    Scores,
    SftExample,
    format_answer,
    write_examples,
)
from mucode.training.sft import (
    IGNORED,
    SFTConfig,
    _trainer,
    fine_tune,
    load_tokenizer,
    prompt_completion_rows,
)

STATE = (
    Message("user", "Write add(a, b)."),
    Message("assistant", "```python\ndef add(a, b):\n    return a - b\n```"),
    Message("user", "Feedback: Failed test: assert add(1, 2) == 3"),
)
TARGET = format_answer("def add(a, b):\n    return a + b")


def _example(messages=STATE, target=TARGET) -> SftExample:
    origin = Origin("rollouts", 0, "t#0", 2)
    return SftExample(messages, target, "t", "mbpp", "train", LabelKind.RELABELLED, origin,
                      origin, Scores(True), 0)  # fmt: skip


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    monkeypatch.setenv("MUCODE_CACHE_DIR", str(tmp_path / "cache"))
    return str(tiny_model_dir())


def test_only_the_target_answer_and_its_end_of_turn_token_carry_loss(tiny, tmp_path):
    write_examples(tmp_path / "sft.jsonl", [_example()])
    rows = prompt_completion_rows([tmp_path / "sft.jsonl"])
    tokenizer = load_tokenizer(tiny)
    config = SFTConfig(datasets=(tmp_path,), base=tiny, dtype="float32")
    trainer = _trainer(config, tmp_path / "run", (tiny, None), tokenizer, rows)
    example = trainer.train_dataset[0]
    pairs = list(zip(example["input_ids"], example["labels"], strict=True))
    text = tokenizer.decode([t for t, label in pairs if label != IGNORED])
    assert text.startswith(TARGET)
    assert text.removeprefix(TARGET).strip() == "<|im_end|>"
    untrained = tokenizer.decode([t for t, label in pairs if label == IGNORED])
    assert "return a - b" in untrained  # the earlier wrong answer is context, not a target
    assert "return a + b" not in untrained


def test_rows_longer_than_max_length_are_left_out_not_cut(tiny, tmp_path):
    long_state = (Message("user", "word " * 3000),)
    write_examples(tmp_path / "sft.jsonl", [_example(), _example(messages=long_state)])
    config = SFTConfig(datasets=(tmp_path,), base=tiny, dtype="float32", max_length=512,
                       lora_r=2, lora_alpha=4, export_gguf=False)  # fmt: skip
    metadata = fine_tune(config, tmp_path / "run")
    assert metadata["data"] == {"datasets": [str(tmp_path)], "rows": 1, "left_out_too_long": 1}
    assert (tmp_path / "run" / "adapter_model.safetensors").exists()
    assert json.loads((tmp_path / "run" / "generator.json").read_text()) == metadata


def test_a_finished_run_is_returned_not_trained_again(tiny, tmp_path):
    write_examples(tmp_path / "sft.jsonl", [_example()])
    config = SFTConfig(datasets=(tmp_path,), base=tiny, dtype="bfloat16", lora_r=2, lora_alpha=4)
    first = fine_tune(config, tmp_path / "run")  # bf16 as on the CPU preset
    stamp = (tmp_path / "run" / "adapter_model.safetensors").stat().st_mtime_ns
    assert fine_tune(config, tmp_path / "run") == first
    assert (tmp_path / "run" / "adapter_model.safetensors").stat().st_mtime_ns == stamp
    assert first["gguf_adapter"] == str(tmp_path / "run" / "adapter.gguf")
    assert first["dtype"] == "bfloat16"  # what was trained in, also when "auto" chose it


def test_an_empty_or_missing_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="no SFT dataset at"):
        prompt_completion_rows([tmp_path / "nowhere"])
    (tmp_path / "sft.jsonl").write_text("")
    with pytest.raises(DatasetError, match="has no rows"):
        prompt_completion_rows([tmp_path])


def test_auto_dtype_is_bfloat16_only_where_the_hardware_computes_it(monkeypatch):
    import torch

    from mucode.training import sft

    monkeypatch.setattr(sft, "bf16_is_native", lambda: False)
    assert sft.torch_dtype("auto") is torch.float32
    monkeypatch.setattr(sft, "bf16_is_native", lambda: True)
    assert sft.torch_dtype("auto") is torch.bfloat16
    assert sft.torch_dtype("float32") is torch.float32
