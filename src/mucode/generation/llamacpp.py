"""Embedded llama.cpp through ``xllamacpp``: continuous batching over parallel slots.

Each (conversation, sample) is one chat request with its own seed; requests run from a
thread pool as wide as the server's slots, so the engine decodes them together.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from mucode.errors import ContextFull, GenerationError
from mucode.generation.base import SamplingParams, expand_requests, regroup
from mucode.generation.config import LlamaCppConfig
from mucode.generation.models import resolve_model
from mucode.optional import import_optional
from mucode.records import Completion, Message


class LlamaCppGenerator:
    """A loaded GGUF model serving chat completions."""

    def __init__(self, config: LlamaCppConfig) -> None:
        xllamacpp = import_optional(
            "xllamacpp", "the llamacpp backend", "pip install 'mucode[cpu]'"
        )
        self.config = config
        self.model_path = resolve_model(config.model)
        self._server = xllamacpp.Server(server_params(config, self.model_path))
        self._pool = ThreadPoolExecutor(max_workers=config.parallel)

    @property
    def base_url(self) -> str:
        """The engine's own OpenAI-compatible HTTP endpoint on 127.0.0.1."""
        return self._server.listening_address + "/v1"

    def generate(
        self,
        conversations: Sequence[Sequence[Message]],
        n: int,
        sampling: SamplingParams,
        seeds: Sequence[int] | None = None,
    ) -> list[list[Completion]]:
        """``n`` completions per conversation, each request with its own seed."""
        requests = expand_requests(conversations, n, sampling, seeds)
        bodies = [_request(conversation, sampling, seed) for conversation, seed in requests]
        return regroup(list(self._pool.map(self._complete, bodies)), n)

    def _complete(self, request: dict) -> Completion:
        response = self._server.handle_chat_completions(request)
        if "error" in response:
            if response["error"].get("type") == "exceed_context_size_error":
                raise ContextFull(f"llama.cpp: {response['error'].get('message')}")
            raise GenerationError(f"llama.cpp rejected a request: {response['error']}")
        choice, usage = response["choices"][0], response.get("usage", {})
        return Completion(
            text=choice["message"].get("content") or "",
            finish_reason=choice.get("finish_reason") or "stop",
            prompt_tokens=usage.get("prompt_tokens", 0),
            completion_tokens=usage.get("completion_tokens", 0),
        )

    def close(self) -> None:
        """Stop the request threads and free the model."""
        self._pool.shutdown()
        del self._server


def server_params(config: LlamaCppConfig, model_path: Path) -> Any:
    """The engine's ``xllamacpp.CommonParams`` for ``config``: slots, context, threads, cache."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(model_path)
    params.n_parallel = config.parallel
    params.n_ctx = config.context * config.parallel
    threads = config.threads or os.cpu_count() or 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.cache_ram_mib = config.cache_ram_mib
    params.verbosity = -1
    return params


def _request(conversation: Sequence[Message], sampling: SamplingParams, seed: int) -> dict:
    request = {
        "messages": [m.to_dict() for m in conversation],
        "max_tokens": sampling.max_tokens,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "seed": seed,
    }
    if sampling.stop:
        request["stop"] = list(sampling.stop)
    return request
