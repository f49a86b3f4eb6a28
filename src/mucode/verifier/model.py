"""The verifier R(x, y): a one-logit sequence classifier over (problem prompt, code).

The input is the prompt the generator saw on turn 1 and the candidate code as a
```python block, with no turn history (as in the paper). When the pair is too long, the
code keeps at least three quarters of the token budget; each side loses its end.
A saved verifier is a plain Hugging Face model directory plus ``verifier.json``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mucode.benchmarks import format_prompt
from mucode.errors import ConfigError
from mucode.optional import import_optional
from mucode.records import Problem

METADATA = "verifier.json"
INSTALL = "pip install torch==2.13.0 'mucode[verifier]' (GPU: the torch build for your CUDA)"
CODE_SHARE = 0.75


def code_segment(code: str) -> str:
    """How a candidate is shown to the verifier: as the generator writes it."""
    return f"\n```python\n{code}\n```"


def load_tokenizer(name: str):
    """A tokenizer that can pad (decoder-only models often lack a pad token)."""
    transformers = import_optional("transformers", "the verifier", INSTALL)
    tokenizer = transformers.AutoTokenizer.from_pretrained(name)
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ConfigError(f"{name}: the tokenizer has neither a pad nor an eos token")
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _length(tokenizer, text: str) -> int:
    """Tokens in ``text``; measuring a long text is not a model input, so no warning."""
    return len(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])


def _cut(tokenizer, text: str, n_tokens: int) -> str:
    """``text`` up to the end of its ``n_tokens``-th token."""
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    offsets = encoded["offset_mapping"]
    if len(offsets) <= n_tokens:
        return text
    return text[: offsets[n_tokens - 1][1]] if n_tokens > 0 else ""


def encode(tokenizer, prompts: Sequence[str], codes: Sequence[str], max_length: int):
    """Padded tensors for (prompt, code) pairs, each at most ``max_length`` tokens."""
    budget = max_length - tokenizer.num_special_tokens_to_add(pair=True)
    firsts, seconds = [], []
    for prompt, code in zip(prompts, codes, strict=True):
        segment = code_segment(code)
        n_prompt, n_code = (_length(tokenizer, text) for text in (prompt, segment))
        if n_prompt + n_code > budget:
            keep_code = min(n_code, max(budget - n_prompt, int(budget * CODE_SHARE)))
            segment = _cut(tokenizer, segment, keep_code)
            prompt = _cut(tokenizer, prompt, budget - keep_code)
        firsts.append(prompt)
        seconds.append(segment)
    return tokenizer(firsts, seconds, padding=True, truncation="longest_first",
                     max_length=max_length, return_tensors="pt")  # fmt: skip


def prepare_model(model, tokenizer):
    """One-logit head that knows the pad token (decoder-only heads read the last real one)."""
    model.config.pad_token_id = tokenizer.pad_token_id
    return model


class Verifier:
    """Scores (problem, code) pairs; higher means more likely correct."""

    def __init__(self, model, tokenizer, max_length: int, metadata: dict[str, Any]) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.metadata = metadata

    @classmethod
    def load(cls, path: Path, device: str = "auto") -> Verifier:
        """Load a verifier saved by ``mucode verifier train``."""
        path = Path(path)
        if not (path / METADATA).exists():
            raise ConfigError(f"{path} is not a verifier directory (no {METADATA})")
        torch = import_optional("torch", "the verifier", INSTALL)
        transformers = import_optional("transformers", "the verifier", INSTALL)
        metadata = json.loads((path / METADATA).read_text())
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        tokenizer = load_tokenizer(str(path))
        model = transformers.AutoModelForSequenceClassification.from_pretrained(str(path))
        model = prepare_model(model, tokenizer).to(device)
        return cls(model, tokenizer, metadata["max_length"], metadata)

    def score(self, problems: Sequence[Problem], codes: Sequence[str],
              batch_size: int = 32) -> list[float]:  # fmt: skip
        """One score per (problem, code); the prompt is the one the generator saw."""
        return self.score_texts([format_prompt(p) for p in problems], codes, batch_size)

    def score_texts(self, prompts: Sequence[str], codes: Sequence[str],
                    batch_size: int = 32) -> list[float]:  # fmt: skip
        """One score per (prompt text, code), ``batch_size`` pairs per forward pass."""
        import torch

        if len(prompts) != len(codes):
            raise ValueError(f"{len(prompts)} prompts but {len(codes)} codes")
        scores: list[float] = []
        with torch.no_grad():
            for first in range(0, len(codes), batch_size):
                batch = slice(first, first + batch_size)
                inputs = encode(self.tokenizer, prompts[batch], codes[batch], self.max_length)
                logits = self.model(**inputs.to(self.model.device)).logits
                scores += logits[:, 0].float().tolist()
        return scores

    def save(self, path: Path) -> None:
        """Write the model, tokenizer and ``verifier.json`` to ``path``."""
        path = Path(path)
        self.model.save_pretrained(path)
        self.tokenizer.save_pretrained(path)
        partial = path / f"{METADATA}.partial"  # written last and atomically: marks a whole save
        partial.write_text(json.dumps(self.metadata, indent=2) + "\n")
        partial.replace(path / METADATA)
