"""``tiny``: a 2-layer randomly initialised Qwen2 chat model for smoke runs of the loop.

Its answers are noise; it exists so that every stage of ``mucode train --preset tiny``
(rollouts, SFT, serving the adapter) runs for real in about a minute on a CPU. It is built
once, deterministically (fixed seed, a byte-level BPE trained on a fixed corpus), into the
cache; it is only ever used when asked for by name.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from mucode.core.cache import cache_dir
from mucode.core.files import install_directory
from mucode.core.optional import import_optional

TINY = "tiny"
VERSION = 1
INSTALL = "pip install torch==2.13.0 'mucode[train]'"
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
CORPUS = (
    "def add(a, b):\n    return a + b\n",
    "from typing import List\n\n\ndef has_close_elements(numbers: List[float]) -> bool:\n",
    "    for i, x in enumerate(numbers):\n        if x > 0:\n            return True\n",
    "```python\nclass Solution:\n    pass\n```\n",
    "Write a Python function. Your code should satisfy these tests: assert f(1) == 2\n",
    "Feedback: Failed test: Expected: Actual: Traceback (most recent call last):\n",
)


def tiny_model_dir() -> Path:
    """The tiny model's directory, built on first use."""
    target = cache_dir() / "hf" / f"tiny-random-qwen2-v{VERSION}"
    marker = target / "mucode-tiny.json"
    if marker.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    building = target.with_name(f".{target.name}.{os.getpid()}.tmp")  # this process's own
    shutil.rmtree(building, ignore_errors=True)
    try:
        _build(building)
        (building / marker.name).write_text(json.dumps({"version": VERSION}) + "\n")
        install_directory(building, target, lambda copy: (copy / marker.name).exists())
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target


def _build(path: Path) -> None:
    torch = import_optional("torch", "the tiny model", INSTALL)
    transformers = import_optional("transformers", "the tiny model", INSTALL)
    tokenizers = import_optional("tokenizers", "the tiny model", INSTALL)
    pre_tokenizers = tokenizers.pre_tokenizers
    raw = tokenizers.Tokenizer(tokenizers.models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = tokenizers.decoders.ByteLevel()
    trainer = tokenizers.trainers.BpeTrainer(
        vocab_size=600, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )  # fmt: skip
    raw.train_from_iterator(CORPUS, trainer)
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=raw, pad_token="<|endoftext|>", eos_token="<|im_end|>"
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(path)
    config = transformers.Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )  # fmt: skip
    torch.manual_seed(0)
    transformers.Qwen2ForCausalLM(config).save_pretrained(path)
