"""Hugging Face transformers backend: any causal LM with a chat template, CPU or GPU,
optionally with a PEFT adapter (e.g. the LoRA an SFT round produced).

Greedy decoding is deterministic. Sampled batches are seeded once per batch from the
requests' seeds, so sampled text depends on how requests were batched (unlike llama.cpp,
where every request has its own seed).
"""

from __future__ import annotations

from collections.abc import Sequence

from mucode.core.errors import ConfigError, ContextFull
from mucode.core.optional import import_optional
from mucode.core.records import Completion, Message
from mucode.generation.base import Request, SamplingParams, expand_requests, regroup
from mucode.generation.config import HFConfig


class HFGenerator:
    """``model.generate`` over left-padded batches of chat-templated prompts."""

    def __init__(self, config: HFConfig) -> None:
        install = "pip install torch==2.13.0 'mucode[hf]' (GPU: the torch build for your CUDA)"
        torch = import_optional("torch", "the hf backend", install)
        transformers = import_optional("transformers", "the hf backend", install)
        self._torch = torch
        self.config = config
        device = config.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(
            config.model, padding_side="left"
        )
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        if not self.tokenizer.chat_template:
            raise ConfigError(f"{config.model} has no chat template; use an instruct model")
        model = transformers.AutoModelForCausalLM.from_pretrained(config.model)
        if config.adapter is not None:
            model = _with_adapter(model, config.adapter)
        self.model = model.to(device).eval()

    def generate(
        self,
        conversations: Sequence[Sequence[Message]],
        n: int,
        sampling: SamplingParams,
        seeds: Sequence[int] | None = None,
    ) -> list[list[Completion]]:
        """``n`` completions per conversation, generated ``batch_size`` at a time."""
        requests = expand_requests(conversations, n, sampling, seeds)
        answers: list[Completion] = []
        size = self.config.batch_size
        for first in range(0, len(requests), size):
            answers += self._batch(requests[first : first + size], sampling)
        return regroup(answers, n)

    def _batch(self, requests: list[Request], sampling: SamplingParams) -> list[Completion]:
        torch, tok = self._torch, self.tokenizer
        prompts = [
            tok.apply_chat_template(
                [m.to_dict() for m in conv], tokenize=False, add_generation_prompt=True
            )
            for conv, _ in requests
        ]
        inputs = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        limit = getattr(self.model.config, "max_position_embeddings", None)
        if limit and inputs["input_ids"].shape[1] >= limit:
            raise ContextFull(
                f"a prompt of {inputs['input_ids'].shape[1]} tokens fills the model's "
                f"context of {limit}"
            )
        inputs = inputs.to(self.model.device)
        torch.manual_seed(requests[0][1])
        sample = sampling.temperature > 0
        with torch.no_grad():
            out = self.model.generate(
                **inputs,
                max_new_tokens=sampling.max_tokens,
                do_sample=sample,
                temperature=sampling.temperature if sample else None,
                top_p=sampling.top_p if sample else None,
                stop_strings=list(sampling.stop) or None,
                tokenizer=tok if sampling.stop else None,
                pad_token_id=tok.pad_token_id,
            )
        new = out[:, inputs["input_ids"].shape[1] :]  # (B, new_tokens)
        prompt_lengths = inputs["attention_mask"].sum(dim=1).tolist()
        return [
            self._completion(row, length, sampling)
            for row, length in zip(new, prompt_lengths, strict=True)
        ]

    def _completion(self, row, prompt_tokens: int, sampling: SamplingParams) -> Completion:
        tok = self.tokenizer
        ids = [t for t in row.tolist() if t != tok.pad_token_id]
        ended = tok.eos_token_id in ids
        if ended:
            ids = ids[: ids.index(tok.eos_token_id)]
        reason = "stop" if ended or len(ids) < sampling.max_tokens else "length"
        text = tok.decode(ids, skip_special_tokens=True)
        return Completion(text, reason, prompt_tokens, len(ids))

    def close(self) -> None:
        """Drop the model."""
        del self.model


def _with_adapter(model, adapter: str):
    peft = import_optional("peft", "a PEFT adapter", "pip install 'mucode[hf]'")
    return peft.PeftModel.from_pretrained(model, adapter)
