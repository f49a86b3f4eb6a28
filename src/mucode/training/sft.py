"""Fine-tune the generator on an SFT dataset with TRL's ``SFTTrainer``.

Each row is a state (the conversation so far) and its target answer. Rows become TRL
prompt-completion examples in the model's own chat template, so the loss falls on the
target assistant turn only, its end-of-turn token included, and the target is exactly what
the model writes at inference (no marker tokens). Rows longer than ``max_length`` are left
out and counted, never truncated: a cut target would teach the model to stop mid-code.

The run directory holds the manifest, ``checkpoints/`` (a killed run started again with the
same command resumes from the last one) with TensorBoard logs in ``checkpoints/runs/``, and once
finished the generator: a PEFT LoRA adapter (or a full model), its tokenizer,
``adapter.gguf`` for the llama.cpp backend when the base can take it, and
``generator.json`` (written last: marks a finished run).
"""

from __future__ import annotations

import json
import logging
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mucode.core.checkpoints import CHECKPOINTS, last_checkpoint
from mucode.core.errors import ConfigError, DatasetError
from mucode.core.files import write_json_atomically
from mucode.core.manifest import write_or_check_manifest
from mucode.core.optional import import_optional
from mucode.core.pretrained import padded_tokenizer, unmap_weights
from mucode.core.processes import process_state, use_cpu
from mucode.generation.causal_lm import EMBEDDED, bf16_is_native, resolve_causal_lm
from mucode.training.examples import DATASET, read_examples

logger = logging.getLogger(__name__)

METADATA = "generator.json"
GGUF_ADAPTER = "adapter.gguf"
INSTALL = "pip install torch==2.13.0 'mucode[train]' (GPU: the torch build for your CUDA)"
IGNORED = -100  # the label of a token that carries no loss
LORA_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


class SFTConfig(BaseModel):
    """Everything that defines a fine-tuning run; stored in its manifest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    datasets: tuple[Path, ...] = Field(min_length=1, description="sft.jsonl files or their dirs.")
    base: str = Field(EMBEDDED, description="'embedded', a GGUF file, an HF directory or hub id.")
    method: Literal["lora", "full"] = "lora"
    lora_r: int = Field(16, ge=1)
    lora_alpha: int = Field(32, ge=1)
    lora_dropout: float = Field(0.05, ge=0, lt=1)
    lora_modules: tuple[str, ...] = LORA_MODULES
    epochs: float = Field(1.0, gt=0)
    batch_size: int = Field(4, ge=1)
    gradient_accumulation: int = Field(1, ge=1)
    learning_rate: float = Field(1e-4, gt=0)
    max_length: int = Field(1024, ge=16, description="Longer rows are left out, not cut.")
    dtype: Literal["auto", "bfloat16", "float32"] = "auto"
    gradient_checkpointing: bool = False
    save_steps: int = Field(50, ge=1)
    export_gguf: bool = Field(True, description="Also write adapter.gguf for llama.cpp (LoRA).")
    seed: int = 0


def dataset_files(paths: Sequence[Path]) -> list[Path]:
    """Each path as a dataset file: a directory stands for its ``sft.jsonl``."""
    files = [Path(p) / DATASET if Path(p).is_dir() else Path(p) for p in paths]
    missing = ", ".join(str(f) for f in files if not f.is_file())
    if missing:
        raise DatasetError(f"no SFT dataset at {missing} (write one with mucode relabel)")
    return files


def prompt_completion_rows(paths: Sequence[Path]) -> list[dict[str, list[dict[str, str]]]]:
    """TRL conversational prompt-completion rows: the state, then the target answer."""
    rows = [
        {"prompt": [m.to_dict() for m in example.messages],
         "completion": [{"role": "assistant", "content": example.target}]}
        for path in dataset_files(paths) for example in read_examples(path)
    ]  # fmt: skip
    if not rows:
        raise DatasetError(f"the SFT dataset {', '.join(map(str, paths))} has no rows")
    return rows


def sequence_length(tokenizer, row: dict[str, list[dict[str, str]]]) -> int:
    """Tokens of the whole row (state and target) in the model's chat template."""
    encoded = tokenizer.apply_chat_template(row["prompt"] + row["completion"], tokenize=True,
                                            return_dict=True)  # fmt: skip
    return len(encoded["input_ids"])


def fits(tokenizer, rows: list[dict], max_length: int) -> tuple[list[dict], int]:
    """The rows of at most ``max_length`` tokens, and how many were left out."""
    kept = [row for row in rows if sequence_length(tokenizer, row) <= max_length]
    return kept, len(rows) - len(kept)


def torch_dtype(name: str):
    """The training dtype; ``auto`` is bfloat16 only where the hardware computes it natively
    (``bf16_is_native``), float32 elsewhere."""
    import torch

    if name == "auto":
        return torch.bfloat16 if bf16_is_native() else torch.float32
    return getattr(torch, name)


def load_base(config: SFTConfig, path: str):
    """The base causal LM in the training dtype, with its own tensors (``unmap_weights``)."""
    transformers = import_optional("transformers", "generator fine-tuning", INSTALL)
    transformers.set_seed(config.seed)
    model = transformers.AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype(config.dtype))
    return unmap_weights(model)


def load_tokenizer(path: str):
    """The base model's tokenizer, able to pad; it must have a chat template."""
    tokenizer = padded_tokenizer(path, "generator fine-tuning", INSTALL)
    if not tokenizer.chat_template:
        raise ConfigError(f"{path}: the tokenizer has no chat template; fine-tune a chat model")
    return tokenizer


def lora_config(config: SFTConfig):
    """PEFT LoRA settings for a causal LM."""
    peft = import_optional("peft", "LoRA fine-tuning", INSTALL)
    return peft.LoraConfig(task_type=peft.TaskType.CAUSAL_LM, r=config.lora_r,
                           lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                           target_modules=list(config.lora_modules))  # fmt: skip


def trainer_arguments(config: SFTConfig, out: Path, dtype) -> Any:
    """TRL's ``SFTConfig`` for this run (completion-only loss, no truncation)."""
    import torch

    trl = import_optional("trl", "generator fine-tuning", INSTALL)
    tensorboard = _has_tensorboard()
    return trl.SFTConfig(
        output_dir=str(out / CHECKPOINTS),
        num_train_epochs=config.epochs,
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation,
        learning_rate=config.learning_rate,
        lr_scheduler_type="cosine", warmup_steps=0.05,
        save_strategy="steps", save_steps=config.save_steps, save_total_limit=2,
        logging_steps=max(1, min(10, config.save_steps)),
        report_to=["tensorboard"] if tensorboard else "none",
        seed=config.seed, data_seed=config.seed,
        bf16=dtype == torch.bfloat16,
        use_cpu=use_cpu(),  # transformers refuses bf16 on a CPU otherwise; several processes
        gradient_checkpointing=config.gradient_checkpointing,
        max_length=None,  # over-long rows were left out already
        completion_only_loss=True,
        dataloader_pin_memory=False,
    )  # fmt: skip


def _has_tensorboard() -> bool:
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return False
    return True


def fine_tune(config: SFTConfig, out: Path) -> dict[str, Any]:
    """Fine-tune (or resume) into ``out``; return the metadata. A finished run is returned
    as it is. Under ``accelerate launch`` every process trains its shard of each batch and
    the main one writes everything but the Trainer's own files (:mod:`mucode.core.processes`)."""
    out = Path(out)
    if (out / METADATA).exists():
        if process_state().is_main_process:
            write_or_check_manifest(out, config)
        return json.loads((out / METADATA).read_text())
    rows = prompt_completion_rows(config.datasets)  # bad data fails before anything slow
    state = process_state()
    if state.is_main_process:
        write_or_check_manifest(out, config)
    with state.local_main_process_first():  # one process builds a cached copy of the base
        path, adapter = base_and_adapter(config.base)
    tokenizer = load_tokenizer(path)
    rows, too_long = fits(tokenizer, rows, config.max_length)
    if not rows:
        raise DatasetError(f"every SFT row is longer than max_length={config.max_length} tokens")
    trainer = _trainer(config, out, (path, adapter), tokenizer, rows)
    started = time.perf_counter()
    with state.main_process_first():  # one process removes a killed save's checkpoint
        resume_from = last_checkpoint(out)
    result = trainer.train(resume_from_checkpoint=resume_from)
    seconds = time.perf_counter() - started
    trainer.save_model(str(out))  # on every process: sharded weights are gathered to one
    metadata = {
        "base": config.base, "base_path": path, "method": config.method, "gguf_adapter": None,
        "dtype": str(trainer.model.dtype).removeprefix("torch."),
        "data": {"datasets": [str(p) for p in config.datasets], "rows": len(rows),
                 "left_out_too_long": too_long},
        "training": {**_training_record(trainer, result, seconds, resume_from, config.epochs),
                     "seed": config.seed},
    }  # fmt: skip
    if state.is_main_process:
        tokenizer.save_pretrained(out)
        metadata["gguf_adapter"] = _export_gguf(config, out)
        write_json_atomically(out / METADATA, metadata)
    return metadata


def base_and_adapter(base: str) -> tuple[str, str | None]:
    """The model to load, and the LoRA adapter to keep training when ``base`` is one (a
    generator fine-tuned earlier: the next fine-tune continues it on the same base model)."""
    config_file = Path(base) / "adapter_config.json"
    if not config_file.is_file():
        return resolve_causal_lm(base), None
    return json.loads(config_file.read_text())["base_model_name_or_path"], base


def _trainer(config: SFTConfig, out: Path, model_paths: tuple[str, str | None], tokenizer,
             rows: list[dict]):  # fmt: skip
    datasets = import_optional("datasets", "generator fine-tuning", INSTALL)
    trl = import_optional("trl", "generator fine-tuning", INSTALL)
    path, adapter = model_paths
    model = load_base(config, path)
    peft_config = lora_config(config) if config.method == "lora" else None
    if adapter is not None:
        if config.method != "lora":
            raise ConfigError(f"{adapter} is a LoRA adapter: continue it with method lora")
        peft = import_optional("peft", "LoRA fine-tuning", INSTALL)
        model, peft_config = peft.PeftModel.from_pretrained(model, adapter, is_trainable=True), None
    return trl.SFTTrainer(
        model=model,
        args=trainer_arguments(config, out, model.dtype),
        train_dataset=datasets.Dataset.from_list(rows),
        processing_class=tokenizer,
        peft_config=peft_config,
    )


def _training_record(trainer, result, seconds: float, resume_from: str | None,
                     epochs: float) -> dict[str, Any]:  # fmt: skip
    """Steps, mean logged loss and token counts of the whole run; the speed of the steps
    this process ran (a resumed run ran only the steps after its checkpoint)."""
    dataset = trainer.train_dataset
    seen = round(epochs * sum(len(ids) for ids in dataset["input_ids"]))
    trained = round(epochs * sum(sum(label != IGNORED for label in labels)
                                 for labels in dataset["labels"]))  # fmt: skip
    steps = result.global_step
    ran = steps - (int(resume_from.rsplit("-", 1)[1]) if resume_from else 0)
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    return {
        "steps": steps, "steps_run_now": ran, "seconds": round(seconds, 1),
        "train_loss": statistics.fmean(losses) if losses else result.training_loss,
        "resumed_from": resume_from, "tokens": seen, "trained_tokens": trained,
        "trained_tokens_per_s": round(trained * ran / steps / seconds, 1) if ran else None,
    }  # fmt: skip


def _export_gguf(config: SFTConfig, out: Path) -> str | None:
    """``adapter.gguf`` beside the PEFT adapter, when llama.cpp can serve it."""
    if config.method != "lora" or not config.export_gguf:
        return None
    from mucode.training.gguf_adapter import export_gguf_adapter

    try:
        return str(export_gguf_adapter(out, out / GGUF_ADAPTER))
    except ConfigError as e:
        logger.warning("no %s: llama.cpp cannot serve this adapter (%s); serve it with the hf "
                       "or vllm backend", GGUF_ADAPTER, e)  # fmt: skip
        return None
