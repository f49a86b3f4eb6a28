"""Train a verifier's head alone on a frozen backbone (``--head-only``): a probe.

The backbone reads every input the run needs once (its training sequences and its
validation problems' codes), without gradients, into a feature store
(:mod:`mucode.verifier.features`); the one-logit head is then fit on those features
(:mod:`mucode.verifier.head`) in seconds. The verifier is the one the normal path would
build, input layout and dtype included, with the base's weights as its backbone: it scores
exactly head(feature). Its directory holds the head, the tokenizer and ``verifier.json``,
which names the base (loaded from there by :meth:`Verifier.load`), the feature store, the
timings, and one input with its score (the shortest; scored again at every load).
:func:`stored_scorer` scores through a feature store too, so heads on one backbone
evaluated on the same codes share one feature pass.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from mucode.core.errors import ConfigError
from mucode.core.optional import import_optional
from mucode.verifier.backbones import Backbone
from mucode.verifier.data import PointExample
from mucode.verifier.evaluation import ScoreTexts, report, score_problems
from mucode.verifier.features import FeatureStore, Progress, compute_features, input_key
from mucode.verifier.head import FeatureRows, HeadFit, fit_head
from mucode.verifier.inputs import make_encoder
from mucode.verifier.model import (
    INSTALL,
    Verifier,
    head_of,
    load_tokenizer,
    prepare_model,
    scores_agree,
)
from mucode.verifier.train import TrainingData, VerifierTrainConfig, run_metadata

FEATURES = "features"
STORE_KEYS = ("backbone", "backbone_path", "input", "dtype", "max_length")


def store_identity(metadata: dict[str, Any]) -> dict[str, Any]:
    """What a head-only verifier's features depend on (``metadata`` as in ``verifier.json``)."""
    return {key: metadata[key] for key in STORE_KEYS}


def run_inputs(data: TrainingData) -> list[tuple[str, str]]:
    """Every (prompt, code) the run reads, once: training sequences, then validation codes."""
    found: dict[tuple[str, str], None] = {}
    for example in data.train:
        if isinstance(example, PointExample):
            found[example.prompt, example.code] = None
        else:
            found[example.prompt, example.chosen] = found[example.prompt, example.rejected] = None
    for problem in data.validation_problems:
        for labelled in problem.codes:
            found[problem.prompt, labelled.code] = None
    return list(found)


def frozen_classifier(backbone: Backbone, tokenizer, dtype: str):
    """The one-logit classifier on ``backbone`` in eval mode, as a verifier loads it, on the
    GPU if there is one.

    Refused unless the head is one linear layer and every other weight is the base's: a
    weight the base lacks would be drawn afresh at every load."""
    transformers = import_optional("transformers", "verifier training", INSTALL)
    model, info = transformers.AutoModelForSequenceClassification.from_pretrained(
        backbone.path, num_labels=1, dtype=getattr(torch, dtype), output_loading_info=True
    )
    head = head_of(model)
    if not isinstance(head, torch.nn.Linear):
        raise ConfigError(f"--head-only fits a head that is one linear layer; "
                          f"{type(model).__name__}'s is a {type(head).__name__}: "
                          "train this backbone without --head-only")  # fmt: skip
    own = {f"{name}.{key}" for name, module in model.named_children() if module is head
           for key in head.state_dict()}  # fmt: skip
    if set(info["missing_keys"]) - own:
        lacking = ", ".join(sorted(set(info["missing_keys"]) - own)[:5])
        raise ConfigError(f"--head-only: {backbone.path} lacks weights besides the head "
                          f"({lacking}); they would be random, and differ at every load: "
                          "train this backbone without --head-only")  # fmt: skip
    device = "cuda" if torch.cuda.is_available() else "cpu"
    return prepare_model(model, tokenizer, dtype).to(device).eval()


def train_head_only(config: VerifierTrainConfig, data: TrainingData, backbone: Backbone,
                    out: Path, progress: Progress | None = None) -> dict[str, Any]:  # fmt: skip
    """Compute (or reuse) the run's features, fit the head, save the verifier; its metadata."""
    started = time.perf_counter()
    dtype = backbone.dtype(config.dtype)
    base = str(Path(backbone.path).resolve()) if Path(backbone.path).exists() else backbone.path
    tokenizer = load_tokenizer(backbone.path)
    encoder = make_encoder(backbone.input_format, tokenizer, config.max_length)  # sets the pad
    model = frozen_classifier(backbone, tokenizer, dtype)
    layout = {"input": backbone.input_format.value, "dtype": dtype}
    store_dir = config.features or out / FEATURES
    described = {"backbone": config.base, "backbone_path": base, **layout,
                 "max_length": config.max_length}  # fmt: skip
    store = FeatureStore(store_dir, store_identity(described))
    inputs = run_inputs(data)
    clock = time.perf_counter()
    batch_size = config.feature_batch_size or config.batch_size
    computed = compute_features(model, encoder, store, inputs, batch_size, progress)
    feature_seconds, clock = time.perf_counter() - clock, time.perf_counter()
    features = store.matrix([input_key(*pair) for pair in inputs])  # (N, H)
    head = head_of(model)
    fit = fit_head(features, inputs, data.train, data.validation, config, head.bias is not None)
    _set_head(head, fit)
    head_seconds = time.perf_counter() - clock
    verifier = Verifier(model, tokenizer, config.max_length, layout)
    check = _check_input(verifier, features, inputs, store_dir)
    metrics = None
    if data.validation_problems:
        scored = score_problems(_cached_scorer(head, features, inputs), data.validation_problems)
        metrics = report(scored, config.best_of).to_dict()
    training = {
        "steps": fit.steps, "train_loss": fit.train_loss, "best_epoch": fit.best_epoch,
        "seconds": round(time.perf_counter() - started, 1),
        "feature_seconds": round(feature_seconds, 1), "head_seconds": round(head_seconds, 2),
        "resumed_from": None, "seed": config.seed,
    }  # fmt: skip
    features_record = {
        "dir": str(store_dir), "inputs": len(inputs), "computed": computed,
        "seconds_per_input": round(feature_seconds / computed, 3) if computed else None,
    }  # fmt: skip
    verifier.metadata = {
        **run_metadata(config, backbone, data, metrics, training),
        **layout, "backbone_path": base, "gradient_checkpointing": False, "head_only": True,
        "features": features_record, "check": check,
    }  # fmt: skip
    verifier.save(out)
    return verifier.metadata


def stored_scorer(verifier: Verifier, store_dir: Path, batch_size: int,
                  progress: Progress | None = None) -> ScoreTexts:  # fmt: skip
    """``score_texts`` of a head-only verifier through the feature store in ``store_dir``: the
    backbone reads only the inputs the store lacks; a score is head(feature), as the
    verifier itself computes it."""
    if not verifier.metadata.get("head_only"):
        raise ConfigError("--features holds a frozen backbone's features or states: it applies "
                          "to a verifier trained with --head-only or --lora-layers, and this "
                          "one is neither")  # fmt: skip
    store = FeatureStore(store_dir, store_identity(verifier.metadata))
    head = head_of(verifier.model)

    def score_texts(prompts: Sequence[str], codes: Sequence[str]) -> list[float]:
        inputs = list(zip(prompts, codes, strict=True))
        if not inputs:
            return []
        compute_features(verifier.model, verifier.encoder, store, inputs, batch_size, progress)
        features = store.matrix([input_key(*pair) for pair in inputs])  # (N, H)
        with torch.no_grad():
            return head(features.to(verifier.model.device))[:, 0].tolist()

    return score_texts


def _set_head(head: torch.nn.Linear, fit: HeadFit) -> None:
    with torch.no_grad():
        head.weight.copy_(fit.weight)
        if fit.bias is not None:
            head.bias.copy_(fit.bias)


def _cached_scorer(head: torch.nn.Linear, features: torch.Tensor,
                   inputs: Sequence[tuple[str, str]]) -> ScoreTexts:  # fmt: skip
    """Scores of stored inputs from their features, as the verifier would score them."""
    rows = FeatureRows(inputs)

    def score_texts(prompts: Sequence[str], codes: Sequence[str]) -> list[float]:
        with torch.no_grad():
            chosen = features[rows(prompts, codes)["rows"]].to(head.weight.device)  # (B, H)
            return head(chosen)[:, 0].tolist()

    return score_texts


def _check_input(verifier: Verifier, features: torch.Tensor, inputs: Sequence[tuple[str, str]],
                 store_dir: Path) -> dict[str, Any]:  # fmt: skip
    """The shortest input and the verifier's score of it, computed by the backbone afresh,
    which must agree with the score from its stored feature (a store holding another
    model's features is refused)."""
    row = min(range(len(inputs)), key=lambda i: sum(map(len, inputs[i])))
    prompt, code = inputs[row]
    stored = _cached_scorer(head_of(verifier.model), features, inputs)([prompt], [code])[0]
    score = verifier.score_texts([prompt], [code])[0]
    if not scores_agree(score, stored):
        raise ConfigError(f"{store_dir}: a stored feature scores {stored:.4f} but the backbone "
                          f"computes {score:.4f} from the same input: the store holds another "
                          "model's features; delete it or pass another --features")  # fmt: skip
    return {"prompt": prompt, "code": code, "score": score}
