"""Causal LMs for transformers: names passed through, GGUF files de-quantised once, cached."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mucode.core.errors import ConfigError
from mucode.generation import causal_lm, models
from mucode.generation.causal_lm import (
    EMBEDDED,
    SOURCE_RECORD,
    is_gguf_base,
    resolve_causal_lm,
)
from tests.tiny_models import save_tiny_gguf, save_tiny_qwen2


@pytest.fixture(autouse=True)
def cache(monkeypatch, tmp_path):
    monkeypatch.setenv("MUCODE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny HF model and the same weights as a GGUF file."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("gguf")
    root = tmp_path_factory.mktemp("tiny")
    hf = save_tiny_qwen2(root / "hf")
    return {"hf": hf, "gguf": save_tiny_gguf(hf, root / "tiny.gguf")}


def test_directories_and_hub_ids_pass_through(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs" / "sft").mkdir(parents=True)
    assert resolve_causal_lm(str(tmp_path / "runs" / "sft")) == str(tmp_path / "runs" / "sft")
    assert resolve_causal_lm("runs/sft") == "runs/sft"
    hub_id = "Qwen/Qwen2.5-Coder-0.5B-Instruct"
    assert resolve_causal_lm(hub_id) == hub_id
    assert resolve_causal_lm("gpt2") == "gpt2"


@pytest.mark.parametrize(
    "name", ["/no/such/model", "./missing", "runs/missing", "a/b/c", "~/no-such-model-dir"]
)
def test_a_missing_local_path_is_an_error(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_causal_lm(name)


def test_a_file_that_is_no_gguf_and_a_missing_gguf_are_errors(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"x")
    with pytest.raises(ConfigError, match="is a file; expected a model directory"):
        resolve_causal_lm(str(tmp_path / "model.bin"))
    with pytest.raises(ConfigError, match=r"missing\.gguf does not exist"):
        resolve_causal_lm(str(tmp_path / "missing.gguf"))


def test_gguf_names_are_told_apart():
    assert is_gguf_base(EMBEDDED) and is_gguf_base("/m/Model-Q4_K_M.GGUF")
    assert not is_gguf_base("Qwen/Qwen2.5-Coder-0.5B-Instruct") and not is_gguf_base("runs/sft")


def test_a_gguf_is_dequantised_once_and_the_copy_reused(tiny, cache, monkeypatch):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    copy = resolve_causal_lm(str(tiny["gguf"]))
    assert copy.startswith(str(cache / "hf" / "tiny-"))
    record = json.loads((Path(copy) / SOURCE_RECORD).read_text())
    assert record["size"] == tiny["gguf"].stat().st_size and len(record["sha256"]) == 64
    assert record["transformers"] == transformers.__version__
    ids = torch.tensor([[5, 6, 7, 8, 9]])
    with torch.no_grad():
        original = transformers.AutoModelForCausalLM.from_pretrained(tiny["hf"])(ids).logits
        loaded = transformers.AutoModelForCausalLM.from_pretrained(copy)(ids).logits
    assert torch.allclose(loaded, original, atol=1e-5)  # float32 GGUF: the same model
    tokenizer = transformers.AutoTokenizer.from_pretrained(copy)
    assert tokenizer.chat_template and tokenizer.eos_token == "<|im_end|>"

    def must_not_rebuild(*_args):
        raise AssertionError("the cached copy was rebuilt")

    monkeypatch.setattr(causal_lm, "_dequantise", must_not_rebuild)
    assert resolve_causal_lm(str(tiny["gguf"])) == copy
    assert [p.name for p in (cache / "hf").iterdir()] == [Path(copy).name]


def test_a_changed_gguf_or_a_half_written_copy_is_rebuilt(tiny, cache, tmp_path, monkeypatch):
    gguf_file = tmp_path / "model.gguf"
    gguf_file.write_bytes(tiny["gguf"].read_bytes())
    built = []

    def fake_dequantise(_transformers, gguf, out):
        out.mkdir()
        (out / "config.json").write_text("{}")
        built.append(gguf)

    monkeypatch.setattr(causal_lm, "_dequantise", fake_dequantise)
    copy = Path(resolve_causal_lm(str(gguf_file)))
    (copy / SOURCE_RECORD).unlink()  # as if a copy had been left half-written
    assert resolve_causal_lm(str(gguf_file)) == str(copy) and len(built) == 2
    stat = gguf_file.stat()
    os.utime(gguf_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a new file there
    assert resolve_causal_lm(str(gguf_file)) == str(copy) and len(built) == 3
    assert resolve_causal_lm(str(gguf_file)) == str(copy) and len(built) == 3
    assert [p.name for p in (cache / "hf").iterdir()] == [copy.name]  # no temp dirs left


def test_a_failed_build_leaves_nothing_behind(tiny, cache, monkeypatch):
    def failing(_transformers, _gguf, out):
        out.mkdir()
        raise RuntimeError("out of memory")

    monkeypatch.setattr(causal_lm, "_dequantise", failing)
    with pytest.raises(RuntimeError, match="out of memory"):
        resolve_causal_lm(str(tiny["gguf"]))
    assert list((cache / "hf").iterdir()) == []


def test_embedded_means_the_default_gguf_and_is_keyed_by_its_known_hash(tiny, cache, monkeypatch):
    monkeypatch.setattr(causal_lm, "resolve_model", lambda path=None: tiny["gguf"])
    built = []
    monkeypatch.setattr(causal_lm, "_dequantise",
                        lambda _t, gguf, out: (out.mkdir(), built.append(gguf)))  # fmt: skip
    copy = Path(resolve_causal_lm(EMBEDDED))
    assert copy == cache / "hf" / "qwen2.5-coder-0.5b-instruct-q4_k_m" and built == [tiny["gguf"]]
    record = json.loads((copy / SOURCE_RECORD).read_text())
    expected = models.DEFAULT_MODEL
    assert (record["sha256"], record["size"]) == (expected.sha256, expected.size)
    assert resolve_causal_lm(EMBEDDED) == str(copy) and len(built) == 1


def test_bf16_is_native_only_where_the_hardware_computes_it(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    assert causal_lm.bf16_is_native() is False  # an AVX2-only CPU: bf16 is emulated, slowly
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)
    assert causal_lm.bf16_is_native() is True  # AVX512-BF16 or AMX
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    assert causal_lm.bf16_is_native() is False  # the GPU decides when there is one
