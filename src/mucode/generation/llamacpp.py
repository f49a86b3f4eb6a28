"""Embedded llama.cpp through ``xllamacpp``: continuous batching over parallel slots.

Each (conversation, sample) is one chat request with its own seed; requests run from a
thread pool as wide as the server's slots, so the engine decodes them together. A GGUF LoRA
adapter (``mucode sft`` writes one) is loaded beside the model and every request names its
scale, so one engine serves the base model and the fine-tuned one. With speculation on, the
engine drafts by prompt lookup (see ``set_speculation``); ``stats()`` adds up what it reports
per request, drafted and accepted tokens included.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from mucode.core.errors import ConfigError, ContextFull, GenerationError
from mucode.core.optional import import_optional
from mucode.core.records import Completion, Message
from mucode.generation.base import SamplingParams, expand_requests, regroup
from mucode.generation.config import LlamaCppConfig, Speculation
from mucode.generation.models import resolve_model

ADAPTER_GGUF = "adapter.gguf"


@dataclass(frozen=True, slots=True)
class EngineStats:
    """Totals of llama.cpp's per-request ``timings``. Prompt tokens are those evaluated (not
    reused from the cache); ``predicted_ms`` is per request, so slots decoding together each
    count their own time."""

    requests: int = 0
    prompt_tokens: int = 0
    prompt_ms: float = 0.0
    predicted_tokens: int = 0
    predicted_ms: float = 0.0
    drafted: int = 0
    accepted: int = 0

    @classmethod
    def of(cls, timings: dict[str, Any]) -> EngineStats:
        """One request's stats from its response's ``timings`` (absent fields count 0)."""
        return cls(1, timings.get("prompt_n", 0), timings.get("prompt_ms", 0.0),
                   timings.get("predicted_n", 0), timings.get("predicted_ms", 0.0),
                   timings.get("draft_n", 0), timings.get("draft_n_accepted", 0))  # fmt: skip

    def __add__(self, other: EngineStats) -> EngineStats:
        return EngineStats(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def __sub__(self, other: EngineStats) -> EngineStats:
        return EngineStats(*(getattr(self, f.name) - getattr(other, f.name) for f in fields(self)))


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
        self._stats = EngineStats()
        self._stats_lock = threading.Lock()

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
        with self._stats_lock:
            self._stats += EngineStats.of(response.get("timings") or {})
        choice, usage = response["choices"][0], response.get("usage", {})
        return Completion(
            text=choice["message"].get("content") or "",
            finish_reason=choice.get("finish_reason") or "stop",
            prompt_tokens=usage.get("prompt_tokens", 0),
            completion_tokens=usage.get("completion_tokens", 0),
        )

    def stats(self) -> EngineStats:
        """What the engine reported over every request answered so far."""
        with self._stats_lock:
            return self._stats

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
    speculation, and the LoRA adapter if any."""
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
    set_speculation(params, config.speculative)
    return params


def set_speculation(params: Any, speculation: Speculation) -> None:
    """Turn llama.cpp's ``NGRAM_SIMPLE`` drafter on in ``params`` (engine-wide, fixed at start)
    when ``speculation`` asks for n-gram drafts: ``ngram_size`` -> ``ngram_simple.size_n``,
    ``draft_max`` -> ``ngram_simple.size_m``.

    Why ``NGRAM_SIMPLE`` among llama.cpp's draft-free types: it is prompt lookup. The last
    ``size_n`` tokens are searched backwards through the slot's whole context (prompt and
    answer so far) and the up to ``size_m`` tokens after the most recent match are the draft.
    One earlier occurrence is enough and the newest wins, which is a repair turn exactly: the
    code to rewrite appears once, in the previous answer, and that newest version is the one
    being rewritten. The other types wait for repetition or guess. ``NGRAM_MAP_K`` keeps
    statistics per key n-gram and drafts only for keys seen ``min_hits`` times;
    ``NGRAM_MAP_K4V`` tracks up to four continuations per key and drafts only when one clearly
    dominates (long, repeated histories); ``NGRAM_MOD`` hashes long n-grams (24 tokens by
    default) into a pool shared by all slots and drafts long runs (48–64 tokens), too long a
    verify batch for a CPU; ``NGRAM_CACHE`` drafts token by token from n-gram frequencies,
    a probabilistic guess rather than a copy. (Measured here: with the engine's generic
    ``draft.n_min``/``n_max`` set, ``NGRAM_SIMPLE`` drafted the same; its own sizes rule.)
    """
    if not speculation.on:
        return
    import xllamacpp

    params.speculative.types = [
        xllamacpp.common_speculative_type.COMMON_SPECULATIVE_TYPE_NGRAM_SIMPLE
    ]
    lookup = params.speculative.ngram_simple
    lookup.size_n = speculation.ngram_size
    lookup.size_m = speculation.draft_max


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
