"""Verifier backbones: which names resolve where, which models count as causal LMs, and the
defaults each kind gets (LoRA rank, dtype where bf16 is native or not, input format)."""

from __future__ import annotations

import pytest

transformers = pytest.importorskip("transformers")

from mucode.core.errors import ConfigError  # noqa: E402
from mucode.generation.tiny_model import TINY  # noqa: E402
from mucode.verifier import backbones  # noqa: E402
from mucode.verifier.backbones import (  # noqa: E402
    CAUSAL_LORA_R,
    Backbone,
    inspect_backbone,
    is_causal_lm,
)
from mucode.verifier.inputs import InputFormat  # noqa: E402
from tests.tiny_models import save_tiny_bert, save_tiny_causal_lm, save_tiny_gguf  # noqa: E402


@pytest.fixture(autouse=True)
def cache(monkeypatch, tmp_path):
    monkeypatch.setenv("MUCODE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.mark.parametrize("arch", ["qwen2", "llama"])
def test_decoders_are_causal_lms_and_get_lora_and_the_chat(tmp_path, arch, monkeypatch):
    backbone = inspect_backbone(str(save_tiny_causal_lm(tmp_path / arch, arch)))
    assert backbone.causal and backbone.input_format is InputFormat.CHAT
    assert backbone.lora_r(None) == CAUSAL_LORA_R and backbone.lora_r(0) == 0
    monkeypatch.setattr(backbones, "bf16_is_native", lambda: True)  # AVX512-BF16, AMX, GPU
    assert backbone.dtype("auto") == "bfloat16" and backbone.dtype("float32") == "float32"
    monkeypatch.setattr(backbones, "bf16_is_native", lambda: False)  # an AVX2-only CPU
    assert backbone.dtype("auto") == "float32" and backbone.dtype("bfloat16") == "bfloat16"


def test_an_encoder_is_no_causal_lm_and_keeps_full_float32_pairs(tmp_path, monkeypatch):
    backbone = inspect_backbone(str(save_tiny_bert(tmp_path / "bert")))
    assert not backbone.causal and backbone.input_format is InputFormat.PAIR
    assert backbone.lora_r(None) == 0 and backbone.lora_r(8) == 8
    monkeypatch.setattr(backbones, "bf16_is_native", lambda: True)
    assert backbone.dtype("auto") == "float32"


@pytest.mark.parametrize(("model_type", "causal"), [
    ("bert", False), ("roberta", False), ("modernbert", False), ("t5", False),
    ("qwen2", True), ("llama", True), ("gpt2", True), ("gemma3_text", True),
])  # fmt: skip
def test_causal_means_a_causal_lm_class_and_no_masked_lm_class(model_type, causal):
    config = transformers.AutoConfig.for_model(model_type)
    assert is_causal_lm(config) is causal


def test_tiny_and_a_gguf_file_resolve_to_causal_lms(tmp_path, cache):
    pytest.importorskip("gguf")
    tiny = inspect_backbone(TINY)
    assert tiny.causal and tiny.path.startswith(str(cache / "hf"))
    gguf_file = save_tiny_gguf(save_tiny_causal_lm(tmp_path / "hf"), tmp_path / "model.gguf")
    copy = inspect_backbone(str(gguf_file))  # de-quantised into the cache, once
    assert copy.causal and copy.path.startswith(str(cache / "hf" / "model-"))
    assert inspect_backbone(str(gguf_file)) == Backbone(copy.path, copy.config, True)


def test_a_missing_backbone_directory_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"model directory .*nowhere does not exist"):
        inspect_backbone(str(tmp_path / "nowhere"))


def test_a_backbone_whose_config_cannot_be_read_is_named(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"--base .*empty: cannot read its model config"):
        inspect_backbone(str(tmp_path / "empty"))
