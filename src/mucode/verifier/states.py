"""LoRA on a decoder's top layers over stored states of the frozen ones (``--lora-layers K``).

The layers below the top ``K`` are frozen, so what they hand the first trained layer never
changes: the backbone computes it once per input, without gradients, into a store on disk
(:class:`~mucode.verifier.features.FeatureStore`, one ``(tokens, hidden)`` tensor per input,
keyed by the input's token ids). Training and scoring then run only the top ``K`` layers:
:func:`reading_stored_states` puts a lookup of those states where the embedding layer was
and layers that pass their input through where the frozen ones were, so the model is the
same object, with the same parameter names, computing the same scores. A store is refused
for another backbone, dtype, input layout, length limit or layer (its identity).

On the 0.5B generator (24 layers) a pass over the store's inputs costs one forward pass
each; each training sequence then costs ``K / 24`` of a forward and backward pass instead of
all of it.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from mucode.core.errors import ConfigError
from mucode.verifier.evaluation import ScoreTexts
from mucode.verifier.features import FeatureStore, Progress, fill_store

if TYPE_CHECKING:
    from mucode.verifier.backbones import Backbone
    from mucode.verifier.model import Verifier
    from mucode.verifier.train import TrainingData, VerifierTrainConfig

STATES = "states"


def decoder_of(model):
    """The decoder stack (``layers``, ``embed_tokens``) of a classifier, PEFT-wrapped or not."""
    unwrapped = model.get_base_model() if hasattr(model, "get_base_model") else model
    decoder = unwrapped.base_model
    if not (hasattr(decoder, "layers") and hasattr(decoder, "embed_tokens")):
        raise ConfigError(f"--lora-layers needs a decoder with `layers` and `embed_tokens` "
                          f"(Llama- or Qwen-style); {type(unwrapped).__name__} has not: "
                          "train it without --lora-layers")  # fmt: skip
    return decoder


def first_trained_layer(model, trained_layers: int) -> int:
    """Index of the lowest of the top ``trained_layers`` layers; refuses too many."""
    count = len(decoder_of(model).layers)
    if not 1 <= trained_layers < count:
        raise ConfigError(f"--lora-layers {trained_layers}: this backbone has {count} layers; "
                          f"train 1 to {count - 1} of them, or drop --lora-layers to train "
                          "all")  # fmt: skip
    return count - trained_layers


def token_key(ids: Sequence[int]) -> str:
    """The store's key of one input: its token ids, padding excluded."""
    return hashlib.sha256(json.dumps(list(ids)).encode()).hexdigest()


def real_length(ids: Sequence[int], pad_id: int) -> int:
    """Tokens up to the rightmost one that is not padding (the head reads that one)."""
    for position in range(len(ids) - 1, -1, -1):
        if ids[position] != pad_id:
            return position + 1
    return 0


class _Reached(Exception):
    """Raised by the hook on the first trained layer: the rest of the pass is not needed."""


def states_entering(model, encoded: dict, layer: int) -> torch.Tensor:
    """(B, T, H): the hidden states that reach ``layer`` of ``model`` for ``encoded``."""
    captured: list[torch.Tensor] = []

    def grab(_module, args: tuple, kwargs: dict[str, Any]) -> None:
        captured.append(args[0] if args else kwargs["hidden_states"])
        raise _Reached

    hook = decoder_of(model).layers[layer].register_forward_pre_hook(grab, with_kwargs=True)
    try:
        model(**encoded)
    except _Reached:
        pass
    finally:
        hook.remove()
    return captured[0]


def compute_states(model, encoder, store: FeatureStore, inputs: Sequence[tuple[str, str]],
                   batch_size: int, progress: Progress | None = None) -> int:  # fmt: skip
    """Store the states entering the store's layer of the (prompt, code) ``inputs`` the store
    lacks, ``batch_size`` inputs per forward pass, longest first; return how many it
    computed."""
    layer = store.identity["layer"]
    pad_id = model.config.pad_token_id

    def states(prompts: list[str], codes: list[str]) -> list[torch.Tensor]:
        encoded = encoder(prompts, codes).to(model.device)
        lengths = [real_length(row, pad_id) for row in encoded["input_ids"].tolist()]
        found = states_entering(model, encoded, layer).cpu()
        return [row[:n] for row, n in zip(found, lengths, strict=True)]

    wanted = {}
    for prompt, code in inputs:
        ids = encoder([prompt], [code])["input_ids"][0].tolist()
        wanted[token_key(ids[: real_length(ids, pad_id)])] = (prompt, code)
    was_training = model.training
    model.eval()
    try:
        return fill_store(store, wanted, batch_size, states, progress)
    finally:
        model.train(was_training)


class StoredStates(torch.nn.Module):
    """Stands where the embedding layer was: each input's stored states entering the first
    trained layer, zeros on padding (which the attention mask hides)."""

    def __init__(self, store: FeatureStore, pad_id: int, dtype: torch.dtype) -> None:
        super().__init__()
        self.store, self.pad_id, self.dtype = store, pad_id, dtype

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        """(B, T, H) stored states of each row's real tokens."""
        rows = []
        for ids in input_ids.tolist():
            n = real_length(ids, self.pad_id)
            key = token_key(ids[:n])
            if key not in self.store:
                raise ConfigError(f"an input of {n} tokens is not in the state store "
                                  f"{self.store.path}: compute its states first")  # fmt: skip
            rows.append((self.store.rows[key], n))
        hidden = rows[0][0].shape[-1] if rows else 0
        out = torch.zeros(*input_ids.shape, hidden, dtype=self.dtype, device=input_ids.device)
        for row, (states, n) in enumerate(rows):
            out[row, :n] = states.to(out)
        return out


class PassedThrough(torch.nn.Module):
    """Stands where a frozen layer was: its output is already in the stored states."""

    def forward(self, hidden_states: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        """``hidden_states`` unchanged."""
        return hidden_states


@contextmanager
def reading_stored_states(model, store: FeatureStore, trained_layers: int) -> Iterator[None]:
    """Within the block ``model`` reads the stored states instead of running its frozen
    layers; its own embedding and layers are back afterwards, whatever happened."""
    decoder = decoder_of(model)
    first = first_trained_layer(model, trained_layers)
    embedding, frozen = decoder.embed_tokens, list(decoder.layers[:first])
    dtype = next(decoder.layers[first].parameters()).dtype
    decoder.embed_tokens = StoredStates(store, model.config.pad_token_id, dtype)
    for index in range(first):
        decoder.layers[index] = PassedThrough()
    try:
        yield
    finally:
        decoder.embed_tokens = embedding
        for index, layer in enumerate(frozen):
            decoder.layers[index] = layer


def states_identity(metadata: dict[str, Any], layer: int) -> dict[str, Any]:
    """What stored states depend on: the backbone, its dtype, input layout, length, layer."""
    keys = ("backbone", "backbone_path", "input", "dtype", "max_length")
    return {"kind": STATES, **{key: metadata[key] for key in keys}, "layer": layer}


def open_store(config: VerifierTrainConfig, backbone: Backbone, model, out: Path) -> FeatureStore:
    """The run's state store (``config.features``, else ``OUT/states``) for the layer below
    its top ``config.lora_layers`` layers."""
    described = {"backbone": config.base, "backbone_path": backbone.path,
                 "input": backbone.input_format.value, "dtype": backbone.dtype(config.dtype),
                 "max_length": config.max_length}  # fmt: skip
    layer = first_trained_layer(model, config.lora_layers)
    return FeatureStore(config.features or Path(out) / STATES, states_identity(described, layer))


def train_on_states(config: VerifierTrainConfig, data: TrainingData, model, encoder,
                    store: FeatureStore, progress: Progress | None = None,
                    ) -> tuple[AbstractContextManager, dict[str, Any]]:  # fmt: skip
    """Compute (or reuse) the stored states of every input the run reads; return the context
    in which ``model`` trains on them and what ``verifier.json`` records of the store."""
    from mucode.verifier.probe import run_inputs  # it imports the training module

    inputs = run_inputs(data)
    clock = time.perf_counter()
    batch_size = config.feature_batch_size or config.batch_size
    computed = compute_states(model, encoder, store, inputs, batch_size, progress)
    seconds = time.perf_counter() - clock
    record = {
        "dir": str(store.path), "layer": store.identity["layer"], "inputs": len(inputs),
        "computed": computed, "seconds": round(seconds, 1),
        "seconds_per_input": round(seconds / computed, 3) if computed else None,
    }  # fmt: skip
    return reading_stored_states(model, store, config.lora_layers), record


def stored_states_scorer(verifier: Verifier, store_dir: Path, batch_size: int,
                         progress: Progress | None = None) -> ScoreTexts:  # fmt: skip
    """``score_texts`` of a ``--lora-layers`` verifier through the states stored in
    ``store_dir``: its frozen layers (the base's) read only the inputs the store lacks, and
    its trained top layers score every input from its states."""
    trained = verifier.metadata.get("lora_layers")
    if not trained:
        raise ConfigError("this --features store holds a decoder's states: it applies to a "
                          "verifier trained with --lora-layers, and this one is not")  # fmt: skip
    layer = first_trained_layer(verifier.model, trained)
    store = FeatureStore(store_dir, states_identity(verifier.metadata, layer))

    def score_texts(prompts: Sequence[str], codes: Sequence[str]) -> list[float]:
        inputs = list(zip(prompts, codes, strict=True))
        compute_states(verifier.model, verifier.encoder, store, inputs, batch_size, progress)
        with reading_stored_states(verifier.model, store, trained):
            return verifier.score_texts(prompts, codes, batch_size)

    return score_texts
