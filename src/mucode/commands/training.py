"""Bodies of ``mucode sft`` and ``mucode train``: configs, then tables of what was done."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from rich.console import Console

from mucode.commands import invalid_options
from mucode.training.sft import SFTConfig


def build_sft_config(**options: Any) -> SFTConfig:
    """Validate ``sft`` options; errors name the option."""
    try:
        return SFTConfig(**options)
    except ValidationError as e:
        raise invalid_options("sft", e) from e


def print_sft(console: Console, metadata: dict[str, Any], out: str) -> None:
    """What a fine-tuning run did and how to serve its generator."""
    data, training = metadata["data"], metadata["training"]
    console.print(
        f"fine-tuned on {data['rows']} rows ({data['left_out_too_long']} longer than max_length "
        f"left out): {training['steps']} steps in {training['seconds']} s, mean loss "
        f"{training['train_loss']:.4f}, {training['trained_tokens_per_s']} trained tokens/s "
        f"over the {training['steps_run_now']} steps run now",
        highlight=False, soft_wrap=True,
    )  # fmt: skip
    console.print(f"generator: {out}", highlight=False, soft_wrap=True)
    if metadata["method"] == "lora":
        console.print(f"serve it: mucode search --backend hf --model {metadata['base_path']} "
                      f"--adapter {out}", highlight=False, soft_wrap=True)  # fmt: skip
    if metadata.get("gguf_adapter"):
        console.print(f"or on the embedded engine: mucode search --adapter {out}",
                      highlight=False, soft_wrap=True)  # fmt: skip
