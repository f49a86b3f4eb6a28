"""mucode sft against TRL's own SFTTrainer on the same rows, model and settings.

    python bench/sft_overhead.py SFT_DATA_DIR [--rows 32] [--base embedded]
        [--batch-size 1] [--gradient-accumulation 4] [--out DIR]

Both fine-tune a LoRA (r 16, alpha 32, the seven projections, one epoch, the `cpu` preset's
batch and accumulation, in the dtype `--dtype auto` picks on this machine) of the same base
on the first ROWS rows of a `mucode relabel` dataset, one after the other in this process;
the TRL run is what a user would write by hand (prompt-completion rows, the stock trainer,
save). Prints one JSON line: wall time of each, seconds per step, and the
ratios mucode / TRL (end to end, and the training loop alone).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import torch
from datasets import Dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import SFTConfig as TRLConfig
from trl import SFTTrainer

from mucode.generation.causal_lm import bf16_is_native, resolve_causal_lm
from mucode.training.examples import read_examples, write_examples
from mucode.training.sft import LORA_MODULES, SFTConfig, fine_tune


def _plain_trl(rows: list[dict], path: str, out: Path, config: SFTConfig,
               bf16: bool) -> tuple[float, float, int]:  # fmt: skip
    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.bfloat16 if bf16 else None)
    args = TRLConfig(output_dir=str(out), num_train_epochs=1,
                     per_device_train_batch_size=config.batch_size,
                     gradient_accumulation_steps=config.gradient_accumulation,
                     learning_rate=1e-4, lr_scheduler_type="cosine", bf16=bf16, use_cpu=not bf16,
                     gradient_checkpointing=False, max_length=None, report_to="none",
                     save_strategy="no", logging_steps=1, seed=0)  # fmt: skip
    lora = LoraConfig(task_type="CAUSAL_LM", r=16, lora_alpha=32, lora_dropout=0.05,
                      target_modules=list(LORA_MODULES))  # fmt: skip
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows),
                         processing_class=tokenizer, peft_config=lora)  # fmt: skip
    loop_started = time.perf_counter()
    result = trainer.train()
    loop = time.perf_counter() - loop_started
    trainer.save_model(str(out))
    return time.perf_counter() - started, loop, result.global_step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--rows", type=int, default=32)
    parser.add_argument("--base", default="embedded")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--gradient-accumulation", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path("/var/tmp/mucode-sft-overhead"))
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    subset = read_examples(args.dataset)[: args.rows]
    write_examples(args.out / "data" / "sft.jsonl", subset)
    path = resolve_causal_lm(args.base)  # built before timing either run
    bf16 = bf16_is_native()
    config = SFTConfig(datasets=(args.out / "data",), base=args.base,
                       dtype="bfloat16" if bf16 else "float32", batch_size=args.batch_size,
                       gradient_accumulation=args.gradient_accumulation,
                       save_steps=10_000)  # fmt: skip
    started = time.perf_counter()
    metadata = fine_tune(config, args.out / "mucode")
    mucode_wall = time.perf_counter() - started
    rows = [
        {"prompt": [m.to_dict() for m in e.messages],
         "completion": [{"role": "assistant", "content": e.target}]}
        for e in subset
    ]  # fmt: skip
    trl_wall, trl_loop, trl_steps = _plain_trl(rows, path, args.out / "trl", config, bf16)
    steps, loop = metadata["training"]["steps"], metadata["training"]["seconds"]
    print(json.dumps({
        "rows": len(subset), "steps": steps, "trl_steps": trl_steps,
        "mucode_wall_s": round(mucode_wall, 1), "trl_wall_s": round(trl_wall, 1),
        "mucode_s_per_step": round(loop / steps, 2),
        "trl_s_per_step": round(trl_loop / trl_steps, 2),
        "wall_ratio": round(mucode_wall / trl_wall, 3), "loop_ratio": round(loop / trl_loop, 3),
        "threads": torch.get_num_threads(), "dtype": config.dtype,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
