"""Backbone features of (prompt, code) inputs, computed once and kept on disk.

A feature is what a verifier's one-logit head reads: a decoder's hidden state at the last
token that is not padding (the end-of-turn token after the code), or an encoder's pooled
first token. Features are computed without gradients, ``batch_size`` inputs per forward
pass, longest first (so a batch pads little, and a batch too big for memory fails at once).

A store is a directory: ``store.json`` names the backbone, dtype and input layout its
features belong to (a store is refused for any other), and each forward pass adds one
``part-*.safetensors`` file, written atomically, that holds its inputs' keys. A killed pass
started again computes only the inputs no part holds; runs that share a store (one per loss,
say) compute each input once. The same kind of store keeps a decoder's per-token states for
``--lora-layers`` (:mod:`mucode.verifier.states`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from mucode.core.errors import ConfigError
from mucode.core.files import replaced_atomically, write_json_atomically
from mucode.verifier.inputs import ChatEncoder
from mucode.verifier.model import head_of

STORE = "store.json"
Progress = Callable[[int, int], None]


def input_key(prompt: str, code: str) -> str:
    """The store's key of one (prompt, code) input."""
    return hashlib.sha256(json.dumps([prompt, code]).encode()).hexdigest()


class FeatureStore:
    """Features by input key, for the backbone and layout named by ``identity``."""

    def __init__(self, path: Path, identity: dict[str, Any]) -> None:
        self.path, self.identity = Path(path), identity
        self.path.mkdir(parents=True, exist_ok=True)
        recorded = self.path / STORE
        if recorded.exists():
            _check_identity(self.path, json.loads(recorded.read_text()), identity)
        else:
            write_json_atomically(recorded, identity)
        self.rows: dict[str, torch.Tensor] = {}  # key -> (H,), or (T, H) states
        for part in sorted(self.path.glob("part-*.safetensors")):
            with safe_open(str(part), "pt") as f:
                keys = json.loads(f.metadata()["keys"])
                if "features" in f.keys():  # noqa: SIM118 - safe_open has no __contains__
                    rows = f.get_tensor("features")
                else:
                    rows = [f.get_tensor(str(i)) for i in range(len(keys))]
                self.rows.update(zip(keys, rows, strict=True))

    def __contains__(self, key: str) -> bool:
        return key in self.rows

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, keys: Sequence[str], features: torch.Tensor | Sequence[torch.Tensor]) -> None:
        """Store ``features``, one per key, as one part file: an (N, H) matrix, or N tensors
        of any shape (a decoder's (T, H) states)."""
        if isinstance(features, torch.Tensor):
            rows, tensors = features.float(), {"features": features.float().contiguous()}
        else:
            rows = [row.float().contiguous() for row in features]
            tensors = {str(i): row for i, row in enumerate(rows)}
        name = f"part-{hashlib.sha256(''.join(keys).encode()).hexdigest()[:16]}.safetensors"
        with replaced_atomically(self.path / name) as partial:
            save_file(tensors, str(partial), metadata={"keys": json.dumps(list(keys))})
        self.rows.update(zip(keys, rows, strict=True))

    def matrix(self, keys: Sequence[str]) -> torch.Tensor:
        """(N, H): the stored rows of ``keys``, in order."""
        return torch.stack([self.rows[key] for key in keys])


def _check_identity(path: Path, recorded: dict[str, Any], identity: dict[str, Any]) -> None:
    changed = sorted(k for k in recorded.keys() | identity.keys()
                     if recorded.get(k) != identity.get(k))  # fmt: skip
    if changed:
        found = ", ".join(f"{k} {recorded.get(k)!r}, not {identity.get(k)!r}" for k in changed)
        raise ConfigError(f"{path} holds features of another backbone or input layout ({found}); "
                          "pass another --features directory")  # fmt: skip


def head_inputs(model, inputs, last_token: bool) -> torch.Tensor:
    """(B, H): what the model's head reads for each input, in float32.

    With ``last_token`` (a decoder) the head sees every position's hidden state and the
    model keeps the rightmost token that is not padding (transformers' own rule, repeated
    here); otherwise it sees one pooled vector per input.
    """
    captured: list[torch.Tensor] = []
    hook = head_of(model).register_forward_pre_hook(lambda _, args: captured.append(args[0]))
    try:
        model(**inputs)
    finally:
        hook.remove()
    hidden = captured[0].float()
    if hidden.dim() == 2 and not last_token:
        return hidden  # (B, H): an encoder's pooled first token
    if hidden.dim() != 3 or not last_token:
        kind = "decoder" if last_token else "encoder"
        raise ConfigError(f"the head of this {kind} reads a {tuple(hidden.shape)} tensor, "
                          "not one vector per input nor a decoder's one per token")  # fmt: skip
    input_ids = inputs["input_ids"]  # (B, T)
    real = (input_ids != model.config.pad_token_id).int()
    last = (torch.arange(input_ids.shape[1], device=real.device) * real).argmax(-1)  # (B,)
    return hidden[torch.arange(len(last), device=last.device), last]  # (B, H)


def fill_store(store: FeatureStore, wanted: dict[str, tuple[str, str]], batch_size: int,
               compute: Callable[[list[str], list[str]], torch.Tensor | list[torch.Tensor]],
               progress: Progress | None = None) -> int:  # fmt: skip
    """Add to ``store`` what ``compute(prompts, codes)`` gives for the inputs of ``wanted``
    (key -> (prompt, code)) it lacks, ``batch_size`` per call, longest first (so a batch pads
    little, and one too big for memory fails at once), without gradients; how many."""
    todo = sorted((k for k in wanted if k not in store), key=lambda k: -sum(map(len, wanted[k])))
    done = len(wanted) - len(todo)
    if progress is not None:
        progress(done, len(wanted))
    with torch.no_grad():
        for first in range(0, len(todo), batch_size):
            keys = todo[first : first + batch_size]
            prompts, codes = zip(*(wanted[k] for k in keys), strict=True)
            store.add(keys, compute(list(prompts), list(codes)))
            if progress is not None:
                progress(done + first + len(keys), len(wanted))
    return len(todo)


def compute_features(model, encoder, store: FeatureStore, inputs: Sequence[tuple[str, str]],
                     batch_size: int, progress: Progress | None = None) -> int:  # fmt: skip
    """Store the features of the (prompt, code) ``inputs`` the store lacks; return how many.

    ``model`` is the verifier's classifier in eval mode (its head is only read), ``encoder``
    the verifier's input encoder: the chat one means a decoder, read at its last token.
    """
    last_token = isinstance(encoder, ChatEncoder)

    def features(prompts: list[str], codes: list[str]) -> torch.Tensor:
        return head_inputs(model, encoder(prompts, codes).to(model.device), last_token).cpu()

    wanted = {input_key(p, c): (p, c) for p, c in inputs}
    return fill_store(store, wanted, batch_size, features, progress)
