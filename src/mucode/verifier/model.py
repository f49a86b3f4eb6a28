"""The verifier R(x, y): a one-logit sequence classifier over (problem prompt, code).

The input is the prompt the generator saw on turn 1 and the candidate code as a
```python block, with no turn history (as in the paper); encoders and decoders lay it out
differently (:mod:`mucode.verifier.inputs`). A decoder's backbone may run in bfloat16; its
head then stays in float32 and computes in float32, so scores keep their resolution.
A saved verifier is a plain Hugging Face model directory plus ``verifier.json``; one trained
with ``--head-only`` (:mod:`mucode.verifier.probe`) holds only its head, ``head.safetensors``,
and loads its backbone from the base it was trained on. One input scored when it was saved
is scored again at every load: a base that has changed since is an error, not a verifier
that quietly scores differently.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mucode.benchmarks import format_prompt
from mucode.core.errors import ConfigError
from mucode.core.files import write_json_atomically
from mucode.core.optional import import_optional
from mucode.core.pretrained import padded_tokenizer, unmap_weights
from mucode.core.records import Problem
from mucode.verifier.inputs import InputFormat, make_encoder

METADATA = "verifier.json"
INSTALL = "pip install torch==2.13.0 'mucode[verifier]' (GPU: the torch build for your CUDA)"
HEADS = ("score", "classifier")  # decoders (Qwen2, Llama, GPT-2); encoders (BERT)
HEAD_WEIGHTS = "head.safetensors"
CHECK_TOLERANCE = 0.05
"""How far (absolute and relative) a head-only verifier's check score may move between
machines and batch shapes (bfloat16 moves it most); another backbone moves it far more."""


def load_tokenizer(name: str):
    """A tokenizer that can pad (decoder-only models often lack a pad token)."""
    return padded_tokenizer(name, "the verifier", INSTALL)


def head_of(model):
    """The one-logit head of a sequence classifier."""
    for name in HEADS:
        head = getattr(model, name, None)
        if head is not None:
            return head
    raise ConfigError(f"{type(model).__name__} has no head named {' or '.join(HEADS)}")


def scores_agree(first: float, second: float) -> bool:
    """Whether two scores of one input come from the same backbone and head."""
    return math.isclose(first, second, rel_tol=CHECK_TOLERANCE, abs_tol=CHECK_TOLERANCE)


def _base_of(metadata: dict[str, Any]) -> str:
    """Where a head-only verifier's backbone is: the path it was trained from, else its name
    resolved again (``embedded``: the cached copy, rebuilt if it was deleted)."""
    if Path(metadata["backbone_path"]).exists():
        return metadata["backbone_path"]
    from mucode.verifier.backbones import resolve_backbone  # it imports this module

    return resolve_backbone(metadata["backbone"])


def _load_classifier(path: Path, metadata: dict[str, Any]):
    """The saved classifier in float32 (exact for a float32 head saved beside bfloat16
    weights); a head-only one is its base with the saved head."""
    torch = import_optional("torch", "the verifier", INSTALL)
    transformers = import_optional("transformers", "the verifier", INSTALL)
    classifier = transformers.AutoModelForSequenceClassification
    if not metadata.get("head_only"):
        return classifier.from_pretrained(str(path), dtype=torch.float32)
    from safetensors.torch import load_file

    model = classifier.from_pretrained(_base_of(metadata), num_labels=1, dtype=torch.float32)
    head_of(model).load_state_dict(load_file(str(path / HEAD_WEIGHTS)))
    return model


def _input_to_head_dtype(head, args: tuple) -> tuple:
    """Forward pre-hook: a float32 head computes on bfloat16 hidden states in float32."""
    return (args[0].to(next(head.parameters()).dtype), *args[1:])


def prepare_model(model, tokenizer, dtype: str = "float32"):
    """One-logit head that knows the pad token (decoder-only heads read the last real one).

    ``bfloat16`` casts the backbone and keeps the head in float32. The weights become
    tensors of their own either way (``unmap_weights``).
    """
    import torch

    model.config.pad_token_id = tokenizer.pad_token_id
    if dtype == "bfloat16":
        head = head_of(model)
        for child in model.children():
            if child is not head:  # the head never passes through bfloat16: a saved one loads exact
                child.to(torch.bfloat16)
        head.float().register_forward_pre_hook(_input_to_head_dtype)
    return unmap_weights(model)


class Verifier:
    """Scores (problem, code) pairs; higher means more likely correct.

    ``metadata["input"]`` names the input format (``pair`` when absent: verifiers saved
    before decoders had their own)."""

    def __init__(self, model, tokenizer, max_length: int, metadata: dict[str, Any]) -> None:
        self.encoder = make_encoder(metadata.get("input", InputFormat.PAIR), tokenizer, max_length)
        model.config.pad_token_id = tokenizer.pad_token_id  # the encoder may have chosen it
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
        metadata = json.loads((path / METADATA).read_text())
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        tokenizer = load_tokenizer(str(path))
        model = _load_classifier(path, metadata)
        model = prepare_model(model, tokenizer, metadata.get("dtype", "float32")).to(device)
        verifier = cls(model, tokenizer, metadata["max_length"], metadata)
        if metadata.get("head_only"):
            verifier.check_backbone(path)
        return verifier

    def check_backbone(self, path: Path) -> None:
        """Score the recorded check input; a score unlike the recorded one is an error."""
        check = self.metadata["check"]
        score = self.score_texts([check["prompt"]], [check["code"]])[0]
        if not scores_agree(score, check["score"]):
            raise ConfigError(
                f"{path}: its backbone {self.metadata['backbone']} "
                f"({self.metadata['backbone_path']}) scores the check input {score:.4f}, not "
                f"{check['score']:.4f} as when the head was trained: the base has changed "
                "since; train the head again (--head-only)"
            )

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
                inputs = self.encoder(prompts[batch], codes[batch])
                logits = self.model(**inputs.to(self.model.device)).logits
                scores += logits[:, 0].float().tolist()
        return scores

    def save(self, path: Path) -> None:
        """Write the model (head-only: the head), tokenizer and ``verifier.json`` to ``path``."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        if self.metadata.get("head_only"):  # the backbone is the base: only the head is new
            from safetensors.torch import save_file

            head = {k: v.contiguous() for k, v in head_of(self.model).state_dict().items()}
            save_file(head, str(path / HEAD_WEIGHTS))
        else:
            self.model.save_pretrained(path)
        self.tokenizer.save_pretrained(path)
        write_json_atomically(path / METADATA, self.metadata)  # written last: marks a whole save


@dataclass(frozen=True, slots=True)
class BatchedVerifier:
    """A verifier that scores ``batch_size`` pairs per forward pass."""

    verifier: Verifier
    batch_size: int

    def score_texts(self, prompts: Sequence[str], codes: Sequence[str]) -> list[float]:
        """One score per (prompt, code)."""
        return self.verifier.score_texts(prompts, codes, self.batch_size)
