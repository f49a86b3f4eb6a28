"""Write a PEFT LoRA adapter as a GGUF LoRA adapter that llama.cpp serves on the base GGUF.

The layout is llama.cpp's (``convert_lora_to_gguf.py``): ``general.type = adapter``,
``adapter.type = lora``, ``adapter.lora.alpha``, and per adapted matrix two tensors,
``<base tensor>.lora_a`` and ``.lora_b``, named by gguf's tensor map for the architecture.
PEFT's A (r × in) and B (out × r) are stored as they are: llama.cpp computes
``W x + scale · alpha / r · B (A x)``, which is PEFT's LoRA. Llama-family bases need one
change: llama.cpp keeps their q/k rows in its own rotary order, so B's rows are permuted
the way the base conversion permuted W's.

Only plain LoRA on linear layers is representable: DoRA, rsLoRA, per-module alphas,
trained biases, extra trained modules and embedding LoRA are refused.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from mucode.core.errors import ConfigError
from mucode.core.files import replaced_atomically
from mucode.core.optional import import_optional

INSTALL = "pip install 'mucode[train]'"
ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
# HF model_type -> (llama.cpp architecture, whether its conversion permutes q/k rows)
ARCHITECTURES = {
    "qwen2": ("qwen2", False),
    "qwen3": ("qwen3", False),
    "llama": ("llama", True),
    "mistral": ("llama", True),  # llama.cpp runs Mistral as llama
}
# PEFT settings llama.cpp's LoRA cannot express, each refused unless empty or false
_UNSUPPORTED = (
    "use_dora", "use_rslora", "alpha_pattern", "lora_bias", "modules_to_save",
    "trainable_token_indices", "target_parameters", "layer_replication", "fan_in_fan_out",
    "alora_invocation_tokens", "use_qalora", "use_bdlora", "arrow_config", "kasa_config",
    "monteclora_config", "velora_config",
)  # fmt: skip
_LORA_KEY = re.compile(r"base_model\.model\.(?P<module>.+)\.lora_(?P<part>[AB])\.weight")


def export_gguf_adapter(peft_dir: Path, out_file: Path, *, dtype: Literal["f16", "f32"] = "f16",
                        base: str | None = None) -> Path:  # fmt: skip
    """Write the LoRA adapter in ``peft_dir`` to ``out_file`` (GGUF, atomically); return it.

    The architecture and layer count come from the base model's config: ``base`` (an HF
    directory or hub id), else the adapter's ``base_model_name_or_path``.
    """
    if dtype not in ("f16", "f32"):
        raise ConfigError(f"GGUF adapter dtype {dtype!r}: choose f16 or f32")
    gguf = import_optional("gguf", "writing a GGUF LoRA adapter", INSTALL)
    peft_dir = Path(peft_dir)
    config = _lora_config(peft_dir)
    model = base_model_config(base or config.get("base_model_name_or_path"), peft_dir)
    arch, permute = _architecture(model)
    names = gguf.get_tensor_name_map(_arch_enum(gguf, arch), model["num_hidden_layers"])
    pairs = _lora_pairs(peft_dir / ADAPTER_WEIGHTS)
    tensors = {}
    for module, (a, b) in sorted(pairs.items()):
        target = names.get_name(module + ".weight", try_suffixes=(".weight",))
        if target is None or (target == "output.weight" and model.get("tie_word_embeddings")):
            raise ConfigError(
                f"{peft_dir}: LoRA on {module!r} has no llama.cpp {arch} tensor to apply to; "
                "train LoRA on the attention and MLP projections only"
            )
        if permute and module.endswith(("q_proj", "k_proj")):
            heads = model["num_attention_heads"]
            if module.endswith("k_proj"):
                heads = model.get("num_key_value_heads") or heads
            b = rotary_rows(b, heads)
        tensors[target + ".lora_a"], tensors[target + ".lora_b"] = a, b
    alpha = float(config.get("lora_alpha", 8))  # 8: PEFT's default
    _write(gguf, Path(out_file), arch, alpha, tensors, dtype)
    return Path(out_file)


def base_model_config(name: str | None, peft_dir: Path) -> dict[str, Any]:
    """The base model's ``config.json`` as a dict, from a local directory or the hub cache."""
    if not name:
        raise ConfigError(f"{peft_dir}: the adapter names no base model; pass base=DIR")
    local = Path(name).expanduser() / "config.json"
    if local.is_file():
        return json.loads(local.read_text())
    transformers = import_optional("transformers", "reading the base model's config", INSTALL)
    try:
        return transformers.AutoConfig.from_pretrained(name).to_dict()
    except (OSError, ValueError) as e:
        raise ConfigError(
            f"{peft_dir}: cannot read the base model's config from {name!r} ({e}); "
            "pass base=DIR with the base model directory"
        ) from e


def rotary_rows(rows, heads: int):
    """``rows`` (out × r) reordered per head the way llama.cpp's conversion orders Llama's
    q/k projection rows: each head's two rotary halves interleaved."""
    shape = rows.shape
    return rows.reshape(heads, 2, shape[0] // heads // 2, *shape[1:]).swapaxes(1, 2).reshape(shape)


def _lora_config(peft_dir: Path) -> dict[str, Any]:
    path = peft_dir / ADAPTER_CONFIG
    if not path.is_file():
        raise ConfigError(f"{peft_dir} holds no {ADAPTER_CONFIG}; expected a PEFT adapter")
    config = json.loads(path.read_text())
    if config.get("peft_type") != "LORA":
        raise ConfigError(
            f"{path}: peft_type {config.get('peft_type')!r}; llama.cpp serves LoRA adapters only"
        )
    used = [key for key in _UNSUPPORTED if config.get(key)]
    if config.get("bias", "none") != "none":
        used.append(f"bias={config['bias']!r}")
    if used:
        raise ConfigError(
            f"{path}: the adapter uses {', '.join(used)}, which llama.cpp's LoRA cannot "
            "express; train a plain LoRA (no DoRA/rsLoRA, biases or extra trained modules)"
        )
    return config


def _architecture(model: dict[str, Any]) -> tuple[str, bool]:
    model_type = model.get("model_type")
    if model_type not in ARCHITECTURES:
        raise ConfigError(
            f"base model type {model_type!r}: no GGUF LoRA export for it yet; "
            f"supported: {', '.join(sorted(ARCHITECTURES))}"
        )
    return ARCHITECTURES[model_type]


def _arch_enum(gguf, arch: str):
    for enum, name in gguf.MODEL_ARCH_NAMES.items():
        if name == arch:
            return enum
    raise ConfigError(f"this gguf package does not know the {arch} architecture; {INSTALL} -U")


def _lora_pairs(weights: Path) -> dict[str, tuple[Any, Any]]:
    """``{module: (A, B)}`` as float32 arrays; any other tensor is refused."""
    if not weights.is_file():
        raise ConfigError(f"{weights} does not exist; save the adapter with safetensors")
    safetensors = import_optional("safetensors", "reading a PEFT adapter", INSTALL)
    parts: dict[str, dict[str, Any]] = {}
    with safetensors.safe_open(str(weights), framework="pt") as f:
        for key in f.keys():  # noqa: SIM118 - safe_open is not a mapping
            match = _LORA_KEY.fullmatch(key)
            if match is None:
                raise ConfigError(
                    f"{weights}: tensor {key!r} is not a LoRA A/B matrix of a linear layer; "
                    "llama.cpp's LoRA cannot apply it"
                )
            tensor = f.get_tensor(key).float().numpy()
            parts.setdefault(match["module"], {})[match["part"]] = tensor
    pairs = {}
    for module, found in parts.items():
        if set(found) != {"A", "B"} or found["A"].shape[0] != found["B"].shape[1]:
            raise ConfigError(
                f"{weights}: {module} lacks a matching LoRA A (r × in) and B (out × r)"
            )
        pairs[module] = (found["A"], found["B"])
    if not pairs:
        raise ConfigError(f"{weights} holds no LoRA tensors")
    return pairs


def _write(gguf, out: Path, arch: str, alpha: float, tensors: dict[str, Any], dtype: str) -> None:
    import numpy as np

    out.parent.mkdir(parents=True, exist_ok=True)
    with replaced_atomically(out) as partial:
        writer = gguf.GGUFWriter(partial, arch)
        writer.add_type(gguf.GGUFType.ADAPTER)
        writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
        writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, alpha)
        as_type = np.float16 if dtype == "f16" else np.float32
        for name, array in tensors.items():
            writer.add_tensor(name, np.ascontiguousarray(array, dtype=as_type))
        try:
            writer.write_header_to_file()
            writer.write_kv_data_to_file()
            writer.write_tensors_to_file()
        finally:
            writer.close()
