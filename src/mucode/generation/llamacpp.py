"""Embedded llama.cpp through ``xllamacpp``: continuous batching over parallel slots.

Each (conversation, sample) is one chat request with its own seed; requests run from a
thread pool as wide as the server's slots, so the engine decodes them together. A GGUF LoRA
adapter (``mucode sft`` writes one) is loaded beside the model and every request names its
scale, so one engine serves the base model and the fine-tuned one.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from mucode.errors import ConfigError, ContextFull, GenerationError
from mucode.generation.base import SamplingParams, expand_requests, regroup
from mucode.generation.config import LlamaCppConfig
from mucode.generation.models import resolve_model
from mucode.optional import import_optional
from mucode.records import Completion, Message

ADAPTER_GGUF = "adapter.gguf"


class LlamaCppGenerator:
    """A loaded GGUF model serving chat completions."""

    def __init__(self, config: LlamaCppConfig) -> None:
        xllamacpp = import_optional(
            "xllamacpp", "the llamacpp backend", "pip install 'mucode[cpu]'"
        )
        self.config = config
        self.adapter_path = resolve_adapter(config.adapter) if config.adapter else None
        self.model_path = resolve_model(config.model)
        self._server = xllamacpp.Server(server_params(config, self.model_path, self.adapter_path))
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
        if self.adapter_path is not None:
            for body in bodies:
                body["lora"] = [{"id": 0, "scale": self.config.adapter_scale}]
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


def resolve_adapter(adapter: str) -> Path:
    """The GGUF LoRA file: ``adapter`` itself, or ``adapter.gguf`` in that directory."""
    path = Path(adapter).expanduser()
    if path.is_dir():
        if (path / ADAPTER_GGUF).is_file():
            return path / ADAPTER_GGUF
        hint = ""
        if (path / "adapter_config.json").is_file():
            hint = ("; it holds a PEFT adapter: serve that with --backend hf, or export it with "
                    "mucode.training.gguf_adapter.export_gguf_adapter")  # fmt: skip
        raise ConfigError(f"adapter directory {path} holds no {ADAPTER_GGUF}{hint}")
    if not path.is_file():
        raise ConfigError(f"adapter {path} does not exist; expected a GGUF LoRA file or a "
                          f"directory holding {ADAPTER_GGUF}")  # fmt: skip
    return path


def server_params(
    config: LlamaCppConfig, model_path: Path, adapter_path: Path | None = None
) -> Any:
    """The engine's ``xllamacpp.CommonParams`` for ``config``: slots, context, threads, cache,
    and the LoRA adapter if any."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(model_path)
    if adapter_path is not None:
        params.lora_adapters = [
            xllamacpp.CommonAdapterLoraInfo(str(adapter_path), config.adapter_scale)
        ]
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
