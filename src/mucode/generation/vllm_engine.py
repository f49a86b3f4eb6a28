"""vLLM's offline engine for GPU users. Imported only when chosen; CPU machines get a clear
error naming the extra to install."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mucode.core.optional import import_optional
from mucode.core.records import Completion, Message
from mucode.generation.base import SamplingParams, expand_requests, regroup
from mucode.generation.config import Speculation, VLLMConfig


class VLLMGenerator:
    """Batched chat generation with ``vllm.LLM.chat``."""

    def __init__(self, config: VLLMConfig) -> None:
        vllm = import_optional(
            "vllm", "the vllm backend (GPU only; on a CPU use --backend llamacpp)",
            "pip install vllm (see vLLM's install guide for your CUDA version)",
        )  # fmt: skip
        self._vllm = vllm
        speculative = speculative_config(config.speculative)
        self._llm = vllm.LLM(
            model=config.model,
            tensor_parallel_size=config.tensor_parallel,
            gpu_memory_utilization=config.gpu_memory_utilization,
            max_model_len=config.max_model_len,
            **({"speculative_config": speculative} if speculative else {}),
        )

    def generate(
        self,
        conversations: Sequence[Sequence[Message]],
        n: int,
        sampling: SamplingParams,
        seeds: Sequence[int] | None = None,
    ) -> list[list[Completion]]:
        """``n`` completions per conversation, each request with its own seed."""
        requests = expand_requests(conversations, n, sampling, seeds)
        messages = [[m.to_dict() for m in conv] for conv, _ in requests]
        params = [
            self._vllm.SamplingParams(
                temperature=sampling.temperature, top_p=sampling.top_p,
                max_tokens=sampling.max_tokens, stop=list(sampling.stop) or None, seed=seed,
            )
            for _, seed in requests
        ]  # fmt: skip
        outputs = self._llm.chat(messages, params, use_tqdm=False)
        answers = [
            Completion(
                text=out.outputs[0].text,
                finish_reason=out.outputs[0].finish_reason or "stop",
                prompt_tokens=len(out.prompt_token_ids or ()),
                completion_tokens=len(out.outputs[0].token_ids),
            )
            for out in outputs
        ]
        return regroup(answers, n)

    def close(self) -> None:
        """Drop the engine (frees GPU memory when nothing else holds it)."""
        del self._llm


def speculative_config(speculation: Speculation) -> dict[str, Any] | None:
    """vLLM's ``speculative_config`` for ``speculation`` (None when off): its n-gram proposer
    (prompt lookup), drafting up to ``draft_max`` tokens after a match of exactly
    ``ngram_size`` tokens (vLLM's lookup window, min = max, so both engines match the same
    n-gram)."""
    if not speculation.on:
        return None
    return {
        "method": "ngram",
        "num_speculative_tokens": speculation.draft_max,
        "prompt_lookup_max": speculation.ngram_size,
        "prompt_lookup_min": speculation.ngram_size,
    }
