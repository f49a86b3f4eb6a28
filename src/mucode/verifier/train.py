"""Train a verifier on rollouts: data -> HF Trainer -> saved model with its metadata.

The run directory holds the manifest (config, versions, git), ``checkpoints/`` written
every ``save_steps`` (a killed run started again with the same command resumes from the
last one), and, once finished, the verifier itself (HF model + tokenizer +
``verifier.json`` with backbone, loss, data and validation metrics). ``head_only`` trains
the head alone on cached backbone features instead (:mod:`mucode.verifier.probe`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mucode.core.checkpoints import CHECKPOINTS, last_checkpoint
from mucode.core.errors import ConfigError, DatasetError
from mucode.core.manifest import write_or_check_manifest
from mucode.core.optional import import_optional
from mucode.core.processes import process_state, use_cpu
from mucode.verifier.backbones import MINILM, Backbone, inspect_backbone
from mucode.verifier.data import (
    ProblemCodes,
    load_problem_codes,
    pair_examples,
    point_examples,
    split_by_problem,
)
from mucode.verifier.evaluation import report, score_problems
from mucode.verifier.inputs import make_encoder
from mucode.verifier.model import INSTALL, METADATA, Verifier, load_tokenizer, prepare_model
from mucode.verifier.objective import ROW_KEYS, LossName

ATTENTION_DROPOUT_KEYS = ("attention_probs_dropout_prob", "attention_dropout")  # BERT; Llama, Qwen
DEFAULTS = {"epochs": 2.0, "learning_rate": 3e-5, "weight_decay": 0.01}
HEAD_ONLY_DEFAULTS = {"epochs": 20.0, "learning_rate": 1e-2, "weight_decay": 0.1}
"""A linear head on cached features (scaled per dimension, see :mod:`mucode.verifier.head`)
takes seconds an epoch: more epochs, a larger step, more decay against its many weights."""


class VerifierTrainConfig(BaseModel):
    """Everything that defines a verifier training run; stored in its manifest.

    ``lora_r`` None: LoRA of rank ``CAUSAL_LORA_R`` for a causal-LM backbone, full
    training (0) for an encoder; the manifest records the rank chosen. ``dtype`` auto:
    bfloat16 for a causal LM where the hardware computes it natively (the head stays
    float32), else float32. ``gradient_checkpointing`` None: on for a causal LM, off for an
    encoder. ``verifier.json`` records the dtype and checkpointing used. ``epochs``,
    ``learning_rate`` and ``weight_decay`` left out: ``DEFAULTS``, or with ``head_only``
    (the backbone frozen, only the head trained on its cached features, stored in
    ``features`` or else ``OUT/features``, computed ``feature_batch_size`` inputs per
    forward pass, ``batch_size`` if None) ``HEAD_ONLY_DEFAULTS``. ``lora_layers`` K: LoRA on
    a decoder's top K layers only, trained on the stored states of the layers below
    (:mod:`mucode.verifier.states`; stored in ``features`` or else ``OUT/states``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    rollouts: tuple[Path, ...] = Field(min_length=1)
    base: str = MINILM
    loss: LossName = LossName.BT
    bce_weight: float = Field(1.0, ge=0)
    bt_weight: float = Field(1.0, ge=0)
    score_penalty: float = Field(0.0, ge=0)
    pairs_per_problem: int = Field(32, ge=1)
    validation_fraction: float = Field(0.1, ge=0, lt=1)
    max_length: int = Field(512, ge=16)
    attention_dropout: float = Field(0.0, ge=0, lt=1)
    epochs: float = Field(DEFAULTS["epochs"], gt=0)
    batch_size: int = Field(16, ge=1)
    learning_rate: float = Field(DEFAULTS["learning_rate"], gt=0)
    weight_decay: float = Field(DEFAULTS["weight_decay"], ge=0)
    lora_r: int | None = Field(None, ge=0)
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    gradient_checkpointing: bool | None = None
    save_steps: int = Field(200, ge=1)
    best_of: tuple[int, ...] = (1, 2, 4, 5, 8)
    seed: int = 0
    head_only: bool = False
    lora_layers: int | None = Field(None, ge=1)
    features: Path | None = None
    feature_batch_size: int | None = Field(None, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        defaults = HEAD_ONLY_DEFAULTS if data.get("head_only") else DEFAULTS
        return {**data, **{k: v for k, v in defaults.items() if data.get(k) is None}}

    @model_validator(mode="after")
    def _refuse_backbone_settings(self) -> VerifierTrainConfig:
        """With ``head_only`` nothing trains the backbone or takes its gradients; stored
        features or states belong to ``head_only`` or ``lora_layers``."""
        if self.lora_layers is not None and self.lora_r == 0:
            raise ConfigError("--lora-layers trains LoRA on the top layers; --lora-r 0 would "
                              "train every weight: give a rank or drop --lora-layers")  # fmt: skip
        if not self.head_only:
            for flag, value in (("--features", self.features),
                                ("--feature-batch-size", self.feature_batch_size)):  # fmt: skip
                if value is not None and self.lora_layers is None:
                    raise ConfigError(f"{flag} is a setting of the feature pass of --head-only "
                                      f"or --lora-layers; add one or drop {flag}")  # fmt: skip
            return self
        clashes = {"--lora-r": self.lora_r is not None,
                   "--lora-layers": self.lora_layers is not None,
                   "--(no-)gradient-checkpointing": self.gradient_checkpointing is not None,
                   "--attention-dropout": self.attention_dropout > 0}  # fmt: skip
        if any(clashes.values()):
            given = ", ".join(flag for flag, clash in clashes.items() if clash)
            raise ConfigError(f"--head-only trains the head alone on a frozen backbone, without "
                              f"gradients or dropout; {given} would change the backbone's "
                              "training: drop it, or drop --head-only")  # fmt: skip
        return self


@dataclass(frozen=True, slots=True)
class TrainingData:
    """Examples for the chosen loss, split by problem."""

    train: list
    validation: list
    train_problems: list[ProblemCodes]
    validation_problems: list[ProblemCodes]


def training_data(config: VerifierTrainConfig) -> TrainingData:
    """Load, deduplicate, split by problem, and build point and/or pair examples."""
    problems = load_problem_codes(config.rollouts)
    train, validation = split_by_problem(problems, config.validation_fraction, config.seed)

    def examples(subset: list[ProblemCodes]) -> list:
        found: list = []
        if config.loss.uses_points:
            found += point_examples(subset)
        if config.loss.uses_pairs:
            found += pair_examples(subset, config.pairs_per_problem, config.seed)
        return found

    data = TrainingData(examples(train), examples(validation), train, validation)
    if not data.train:
        what = "(correct, incorrect) pairs" if config.loss is LossName.BT else "examples"
        raise DatasetError(
            f"no training {what} in {len(train)} problems: BT needs problems with both "
            "correct and incorrect codes; sample more (--samples, --temperature) or use --loss bce"
        )
    return data


def _training_arguments(config: VerifierTrainConfig, out: Path, has_validation: bool,
                        checkpointing: bool):  # fmt: skip
    transformers = import_optional("transformers", "verifier training", INSTALL)
    evaluate = "steps" if has_validation else "no"
    return transformers.TrainingArguments(
        output_dir=str(out / CHECKPOINTS),
        num_train_epochs=config.epochs,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        warmup_steps=0.1,
        weight_decay=config.weight_decay,
        save_strategy="steps", save_steps=config.save_steps, save_total_limit=2,
        eval_strategy=evaluate, eval_steps=config.save_steps,
        load_best_model_at_end=has_validation, metric_for_best_model="eval_loss",
        logging_steps=max(1, min(50, config.save_steps)),
        seed=config.seed, data_seed=config.seed,
        remove_unused_columns=False, label_names=list(ROW_KEYS),
        prediction_loss_only=True, report_to="none",
        dataloader_pin_memory=False,  # tensors are built per batch by the collator
        use_cpu=use_cpu(),  # several processes on a CPU machine: one run over gloo
        gradient_checkpointing=checkpointing,
        gradient_checkpointing_kwargs={"use_reentrant": False},  # LoRA: frozen inputs
    )  # fmt: skip


def _attention_dropout(backbone: Backbone, probability: float) -> dict[str, float]:
    """Config overrides that set the backbone's attention dropout, whatever its name.

    Dropout on attention probabilities is what makes a BERT-style step slow on the CPU
    (MiniLM: 7-9 s instead of 4.5 s for 16 x 384 tokens); Llama and Qwen ship with 0.
    """
    return {key: probability for key in ATTENTION_DROPOUT_KEYS if hasattr(backbone.config, key)}


def _lora_targets(model, trained_layers: int | None) -> str | list[str]:
    """Every linear layer of the backbone, or those of its top ``trained_layers`` layers."""
    import torch

    if trained_layers is None:
        return "all-linear"
    from mucode.verifier.states import decoder_of, first_trained_layer

    first = first_trained_layer(model, trained_layers)
    top = {id(m) for layer in decoder_of(model).layers[first:] for m in layer.modules()}
    return [name for name, m in model.named_modules()
            if isinstance(m, torch.nn.Linear) and id(m) in top]  # fmt: skip


def _backbone(config: VerifierTrainConfig, backbone: Backbone, tokenizer, dtype: str):
    """The one-logit classifier on ``backbone``; with ``lora_r``, LoRA on every linear layer
    of the backbone (of its top ``lora_layers`` layers) and the head trained whole (PEFT's
    ``modules_to_save`` for SEQ_CLS)."""
    import torch

    transformers = import_optional("transformers", "verifier training", INSTALL)
    transformers.set_seed(config.seed)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(
        backbone.path, num_labels=1, dtype=getattr(torch, dtype),
        **_attention_dropout(backbone, config.attention_dropout),
    )  # fmt: skip
    model = prepare_model(model, tokenizer, dtype)
    if config.lora_r:
        peft = import_optional("peft", "LoRA verifier training", INSTALL)
        lora = peft.LoraConfig(task_type=peft.TaskType.SEQ_CLS, r=config.lora_r,
                               lora_alpha=2 * config.lora_r, lora_dropout=0.05,
                               target_modules=_lora_targets(model, config.lora_layers))  # fmt: skip
        model = peft.get_peft_model(model, lora)
    return model


def train_verifier(
    config: VerifierTrainConfig, out: Path, progress: Callable[[int, int], None] | None = None
) -> dict[str, Any]:
    """Train (or resume) a verifier into ``out``; return its metadata with metrics.

    A finished run is not trained again: its metadata is returned as it is. ``progress``
    hears (done, total) inputs of the feature pass of a head-only or ``lora_layers`` run.
    """
    out = Path(out)
    if (out / METADATA).exists():
        metadata = json.loads((out / METADATA).read_text())
        if config.lora_r is None:  # the rank it chose, as the manifest recorded it
            config = config.model_copy(update={"lora_r": metadata["lora_r"]})
        if process_state().is_main_process:
            write_or_check_manifest(out, config)  # same settings only
        return metadata
    data = training_data(config)  # bad data fails here: before the manifest and slow imports
    state = process_state()  # under accelerate launch the main process alone writes
    with state.local_main_process_first():  # one process builds a cached copy of the base
        backbone = inspect_backbone(config.base)
    if state.num_processes > 1 and (config.head_only or config.lora_layers):
        raise ConfigError("--head-only and --lora-layers run in one process (their feature "
                          "pass is not split between processes): run without accelerate "
                          "launch")  # fmt: skip
    if config.head_only:
        write_or_check_manifest(out, config)
        from mucode.verifier.probe import train_head_only

        return train_head_only(config, data, backbone, out, progress)
    return _train_weights(config, data, backbone, out, progress)


def _train_weights(config: VerifierTrainConfig, data: TrainingData, backbone: Backbone, out: Path,
                   progress: Callable[[int, int], None] | None) -> dict[str, Any]:  # fmt: skip
    """Train the backbone (whole, or LoRA on all or the top ``lora_layers`` layers) and the
    head with the HF Trainer, resuming from the last checkpoint; save the verifier."""
    state = process_state()
    config = config.model_copy(update={"lora_r": backbone.lora_r(config.lora_r)})
    if state.is_main_process:
        write_or_check_manifest(out, config)
    from mucode.verifier.collator import VerifierCollator
    from mucode.verifier.trainer import VerifierTrainer

    dtype = backbone.dtype(config.dtype)
    checkpointing = backbone.gradient_checkpointing(config.gradient_checkpointing)
    tokenizer = load_tokenizer(backbone.path)
    encoder = make_encoder(backbone.input_format, tokenizer, config.max_length)  # sets the pad
    model = _backbone(config, backbone, tokenizer, dtype)
    stored, extra = nullcontext(), {}
    if config.lora_layers:
        from mucode.verifier.states import open_store, train_on_states

        store = open_store(config, backbone, model, out)
        stored, record = train_on_states(config, data, model, encoder, store, progress)
        extra = {"lora_layers": config.lora_layers, "states": record}
    trainer = VerifierTrainer(
        model=model,
        args=_training_arguments(config, out, bool(data.validation), checkpointing),
        train_dataset=data.train,
        eval_dataset=data.validation or None,
        data_collator=VerifierCollator(encoder),
        processing_class=tokenizer,
        loss_weights=(config.bce_weight, config.bt_weight),
        score_penalty=config.score_penalty,
    )
    if trainer.is_fsdp_enabled or trainer.is_deepspeed_enabled:  # the model would be sharded
        raise ConfigError("verifier train runs data parallel only (the ddp accelerate config): "
                          "its model is merged and saved whole by one process")  # fmt: skip
    started = time.perf_counter()
    with state.main_process_first():  # one process removes a killed save's checkpoint
        resume_from = last_checkpoint(out)
    layout = {"input": backbone.input_format.value, "dtype": dtype}
    with stored:  # the frozen layers' stored states, with --lora-layers
        result = trainer.train(resume_from_checkpoint=resume_from)
        model = trainer.model.merge_and_unload() if config.lora_r else trainer.model
        verifier = Verifier(model, tokenizer, config.max_length, layout)
        metrics = None
        if data.validation_problems:
            scored = score_problems(verifier.score_texts, data.validation_problems)
            metrics = report(scored, config.best_of).to_dict()
    training = {
        "steps": result.global_step,
        "train_loss": result.training_loss,
        "seconds": round(time.perf_counter() - started, 1),
        "resumed_from": resume_from,
        "seed": config.seed,
    }
    verifier.metadata = {**run_metadata(config, backbone, data, metrics, training), **layout,
                         "gradient_checkpointing": checkpointing, **extra}  # fmt: skip
    if state.is_main_process:
        verifier.save(out)
    return verifier.metadata


def run_metadata(config: VerifierTrainConfig, backbone: Backbone, data: TrainingData,
                 metrics: dict | None, training: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """What ``verifier.json`` records of any run: backbone, loss, data, training, metrics."""
    return {
        "backbone": config.base,
        "backbone_path": backbone.path,
        "loss": config.loss.value,
        "loss_weights": {"bce": config.bce_weight, "bt": config.bt_weight},
        "score_penalty": config.score_penalty,
        "lora_r": config.lora_r,
        "max_length": config.max_length,
        "attention_dropout": config.attention_dropout,
        "data": {
            "rollouts": [str(p) for p in config.rollouts],
            "train_problems": len(data.train_problems),
            "validation_problems": [p.key for p in data.validation_problems],
            "train_examples": len(data.train),
            "validation_examples": len(data.validation),
        },
        "training": training,
        "validation_metrics": metrics,
    }
