"""PEFT LoRA -> GGUF LoRA export, and llama.cpp serving it, on tiny random models."""

from __future__ import annotations

import json

import pytest

from mucode.commands.generation_run import generator_config
from mucode.core.errors import ConfigError
from mucode.core.records import Message
from mucode.generation import SamplingParams
from mucode.generation.config import HFConfig, LlamaCppConfig
from mucode.generation.llamacpp import ADAPTER_GGUF, resolve_adapter
from mucode.training.gguf_adapter import export_gguf_adapter
from tests.tiny_models import save_tiny_causal_lm, save_tiny_gguf, sharpen_tiny_model

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
peft = pytest.importorskip("peft")
gguf = pytest.importorskip("gguf")

MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
QUESTIONS = [[Message("user", "def add(a, b):")], [Message("user", "hello")]]


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """``build(arch)``: a tiny model as HF and GGUF, a random LoRA on it, and that LoRA
    exported (f16); built once per architecture."""
    built: dict[str, dict] = {}

    def build(arch: str) -> dict:
        if arch not in built:
            root = tmp_path_factory.mktemp(f"tiny-{arch}")
            hf = sharpen_tiny_model(save_tiny_causal_lm(root / "hf", arch))
            base = transformers.AutoModelForCausalLM.from_pretrained(hf)
            torch.manual_seed(1)
            config = peft.LoraConfig(r=8, lora_alpha=16, target_modules=list(MODULES),
                                     init_lora_weights=False)  # fmt: skip
            peft.get_peft_model(base, config).save_pretrained(root / "lora")
            export_gguf_adapter(root / "lora", root / "lora" / ADAPTER_GGUF)
            gguf_file = save_tiny_gguf(hf, root / "tiny.gguf")
            built[arch] = {"hf": hf, "gguf": gguf_file, "lora": root / "lora"}
        return built[arch]

    return build


@pytest.fixture
def tiny(build):
    return build("qwen2")


def _llamacpp(tiny, **adapter) -> list[str]:
    from mucode.generation.llamacpp import LlamaCppGenerator

    config = LlamaCppConfig(model=str(tiny["gguf"]), parallel=2, context=256, threads=1,
                            cache_ram_mib=0, **adapter)  # fmt: skip
    generator = LlamaCppGenerator(config)
    try:
        return _texts(generator)
    finally:
        generator.close()


def _hf(tiny, adapter: str | None) -> list[str]:
    from mucode.generation.hf import HFGenerator

    return _texts(HFGenerator(HFConfig(model=str(tiny["hf"]), adapter=adapter, device="cpu")))


def _texts(generator) -> list[str]:
    out = generator.generate(QUESTIONS, 1, SamplingParams(max_tokens=8), seeds=[0, 1])
    return [samples[0].text for samples in out]


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["qwen2", "llama"])  # llama: q/k rows in llama.cpp's order
def test_the_exported_adapter_changes_llamacpp_as_peft_changes_transformers(build, arch):
    pytest.importorskip("xllamacpp", reason="install the cpu extra: pip install -e '.[cpu]'")
    tiny = build(arch)
    base, tuned = _hf(tiny, None), _hf(tiny, str(tiny["lora"]))
    assert base != tuned and all(tuned)
    assert _llamacpp(tiny) == base
    assert _llamacpp(tiny, adapter=str(tiny["lora"])) == tuned  # a directory with adapter.gguf
    assert _llamacpp(tiny, adapter=str(tiny["lora"] / ADAPTER_GGUF), adapter_scale=0.0) == base


def test_one_engine_serves_base_and_adapter_per_request(tiny):
    xllamacpp = pytest.importorskip("xllamacpp")
    from mucode.generation.llamacpp import server_params

    config = LlamaCppConfig(parallel=1, context=256, threads=1, adapter=str(tiny["lora"]))
    server = xllamacpp.Server(server_params(config, tiny["gguf"], resolve_adapter(config.adapter)))
    prompt = [5, 6, 7, 8, 9]

    def greedy(scale: float) -> str:
        request = {"prompt": prompt, "max_tokens": 6, "temperature": 0,
                   "lora": [{"id": 0, "scale": scale}]}  # fmt: skip
        return server.handle_completions(request)["choices"][0]["text"]

    with_adapter, without = greedy(1.0), greedy(0.0)
    assert with_adapter != without
    assert (greedy(1.0), greedy(0.0)) == (with_adapter, without)  # no state leaks across


def test_the_gguf_layout_is_llamacpps(tiny, tmp_path):
    reader = gguf.GGUFReader(tiny["lora"] / ADAPTER_GGUF)
    keys = ("general.architecture", "general.type", "adapter.type", "adapter.lora.alpha")
    fields = {name: reader.fields[name].contents() for name in keys}
    arch = fields["general.architecture"]
    assert fields == {"general.architecture": arch, "general.type": "adapter",
                      "adapter.type": "lora", "adapter.lora.alpha": 16.0}  # fmt: skip
    tensors = {t.name: t for t in reader.tensors}
    assert len(tensors) == 2 * len(MODULES) * 2  # A and B, 7 modules, 2 layers
    a, b = tensors["blk.1.attn_q.weight.lora_a"], tensors["blk.1.attn_q.weight.lora_b"]
    assert a.tensor_type == gguf.GGMLQuantizationType.F16
    assert (list(a.shape), list(b.shape)) == ([64, 8], [8, 64])  # ggml order: (in, r), (r, out)
    assert "blk.0.ffn_down.weight.lora_b" in tensors
    f32 = export_gguf_adapter(tiny["lora"], tmp_path / "a.gguf", dtype="f32")
    assert gguf.GGUFReader(f32).tensors[0].tensor_type == gguf.GGMLQuantizationType.F32
    assert list(tmp_path.iterdir()) == [f32]  # written atomically: no partial file left


def _adapter_dir(tiny, tmp_path, **changes):
    """A copy of the tiny adapter with ``changes`` in its adapter_config.json."""
    out = tmp_path / "adapter"
    out.mkdir()
    config = json.loads((tiny["lora"] / "adapter_config.json").read_text())
    (out / "adapter_config.json").write_text(json.dumps({**config, **changes}))
    (out / "adapter_model.safetensors").write_bytes(
        (tiny["lora"] / "adapter_model.safetensors").read_bytes()
    )
    return out


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"peft_type": "IA3"}, "LoRA adapters only"),
        ({"use_dora": True}, "use_dora"),
        ({"use_rslora": True}, "use_rslora"),
        ({"modules_to_save": ["lm_head"]}, "modules_to_save"),
        ({"bias": "all"}, "bias='all'"),
        ({"base_model_name_or_path": None}, "names no base model"),
    ],
)
def test_adapters_llamacpp_cannot_express_are_refused(tiny, tmp_path, changes, message):
    with pytest.raises(ConfigError, match=message):
        export_gguf_adapter(_adapter_dir(tiny, tmp_path, **changes), tmp_path / "out.gguf")
    assert not (tmp_path / "out.gguf").exists()


def test_a_base_architecture_without_export_is_refused(tiny, tmp_path):
    other = tmp_path / "gpt2"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"model_type": "gpt2", "n_layer": 2}))
    with pytest.raises(ConfigError, match=r"model type 'gpt2'.*supported: llama"):
        export_gguf_adapter(tiny["lora"], tmp_path / "out.gguf", base=str(other))


def test_lora_on_a_module_llamacpp_has_no_tensor_for_is_refused(tiny, tmp_path):
    safetensors = pytest.importorskip("safetensors.torch")
    adapter = _adapter_dir(tiny, tmp_path)
    weights = safetensors.load_file(adapter / "adapter_model.safetensors")
    weights["base_model.model.model.layers.0.mlp.act.lora_A.weight"] = torch.zeros(8, 64)
    weights["base_model.model.model.layers.0.mlp.act.lora_B.weight"] = torch.zeros(64, 8)
    safetensors.save_file(weights, adapter / "adapter_model.safetensors")
    with pytest.raises(ConfigError, match=r"'model\.layers\.0\.mlp\.act' has no llama\.cpp"):
        export_gguf_adapter(adapter, tmp_path / "out.gguf")
    weights["base_model.model.model.embed_tokens.lora_embedding_A"] = torch.zeros(8, 64)
    safetensors.save_file(weights, adapter / "adapter_model.safetensors")
    with pytest.raises(ConfigError, match="lora_embedding_A' is not a LoRA A/B matrix"):
        export_gguf_adapter(adapter, tmp_path / "out.gguf")


def test_the_adapter_option_finds_the_gguf_or_says_what_is_missing(tiny, tmp_path):
    assert resolve_adapter(str(tiny["lora"])) == tiny["lora"] / ADAPTER_GGUF
    assert resolve_adapter(str(tiny["lora"] / ADAPTER_GGUF)) == tiny["lora"] / ADAPTER_GGUF
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_adapter(str(tmp_path / "missing.gguf"))
    peft_only = _adapter_dir(tiny, tmp_path)
    with pytest.raises(ConfigError, match=r"holds no adapter\.gguf; it holds a PEFT adapter"):
        resolve_adapter(str(peft_only))


def test_the_command_line_adapter_reaches_the_llamacpp_config():
    config = generator_config("llamacpp", None, None, {"parallel": 1}, "runs/sft")
    assert (config.adapter, config.adapter_scale) == ("runs/sft", 1.0)
    with pytest.raises(ConfigError, match="--adapter is for --backend hf or llamacpp"):
        generator_config("openai", "m", "http://127.0.0.1:1/v1", {}, "runs/sft")
