"""Any OpenAI-compatible chat server (vLLM, SGLang, llama.cpp server, Ollama, ...), or
several replicas of one model behind as many URLs.

Retries with exponential backoff and timeouts come from the ``openai`` client itself;
an unreachable server or a rejected request becomes a ``GenerationError`` that says so.
With several URLs, ``replicas.Balancer`` sends each request to the server with the fewest
in flight, and a request whose server failed (unreachable, timed out, a 5xx, after the
client's retries) to another one; the request keeps its seed wherever it goes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType

from mucode.core.errors import ContextFull, GenerationError
from mucode.core.optional import import_optional
from mucode.core.records import Completion, Message
from mucode.generation.base import SamplingParams, expand_requests, regroup
from mucode.generation.config import OpenAIConfig
from mucode.generation.replicas import Balancer, ReplicaFailed


class OpenAICompatGenerator:
    """Chat completions over HTTP, ``concurrency`` × servers requests in flight in all."""

    def __init__(self, config: OpenAIConfig) -> None:
        openai = import_optional("openai", "the openai backend", "pip install 'mucode[openai]'")
        self.config = config
        self._servers = [_Server(openai, url, config) for url in config.base_urls]
        self._balancer = Balancer([(s.url, s) for s in self._servers], config.set_aside_s)
        self._pool = ThreadPoolExecutor(max_workers=config.concurrency * len(self._servers))

    def generate(
        self,
        conversations: Sequence[Sequence[Message]],
        n: int,
        sampling: SamplingParams,
        seeds: Sequence[int] | None = None,
    ) -> list[list[Completion]]:
        """``n`` completions per conversation, each request with its own seed."""
        requests = expand_requests(conversations, n, sampling, seeds)
        return regroup(list(self._pool.map(lambda r: self._complete(*r, sampling), requests)), n)

    def _complete(self, conversation: Sequence[Message], seed: int,
                  sampling: SamplingParams) -> Completion:  # fmt: skip
        return self._balancer.call(lambda server: server.complete(conversation, seed, sampling))

    def close(self) -> None:
        """Finish in-flight requests and close the HTTP clients."""
        self._pool.shutdown()
        for server in self._servers:
            server.close()


class _Server:
    """One server's client; failures another server might not have are ``ReplicaFailed``."""

    def __init__(self, openai: ModuleType, url: str, config: OpenAIConfig) -> None:
        self.url = url
        self._model = config.model
        self._openai = openai
        self._client = openai.OpenAI(
            base_url=url,
            api_key=os.environ.get(config.api_key_env) or "EMPTY",
            timeout=config.timeout_s,
            max_retries=config.max_retries,
        )

    def complete(self, conversation: Sequence[Message], seed: int,
                 sampling: SamplingParams) -> Completion:  # fmt: skip
        """One completion of ``conversation`` with ``seed``."""
        try:
            response = self._client.chat.completions.create(
                model=self._model,
                messages=[m.to_dict() for m in conversation],
                max_tokens=sampling.max_tokens,
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                seed=seed,
                stop=list(sampling.stop) or None,
            )
        except self._openai.APIConnectionError as e:  # timeouts too
            raise ReplicaFailed(
                f"cannot reach the server at {self.url} ({e}); is it running?"
            ) from e
        except self._openai.BadRequestError as e:
            if _is_context_error(e):
                raise ContextFull(f"the server at {self.url}: {e.message}") from e
            raise GenerationError(
                f"the server at {self.url} answered {e.status_code}: {e.message}"
            ) from e
        except self._openai.APIStatusError as e:
            failed = ReplicaFailed if e.status_code >= 500 else GenerationError
            raise failed(f"the server at {self.url} answered {e.status_code}: {e.message}") from e
        choice, usage = response.choices[0], response.usage
        return Completion(
            text=choice.message.content or "",
            finish_reason=choice.finish_reason or "stop",
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
        )

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()


def _is_context_error(error) -> bool:
    """A 400 because the prompt is longer than the context (llama.cpp, vLLM, OpenAI wording)."""
    message = str(error.message).lower()
    return "context size" in message or "context length" in message
