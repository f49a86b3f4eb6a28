"""A generator wrapper that remembers every answer in a JSON-lines file.

Keyed by (namespace, conversation, sampling settings, request seed), so runs that ask the
same question with the same seed get the same answer without generating it again: e.g.
search runs with different selection rules share their first-turn candidates, which also
makes their comparison paired. The namespace should name the model. One process at a
time may write a cache file.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from pathlib import Path

from mucode.core.jsonl import append_jsonl, stream_jsonl
from mucode.core.records import Completion, Message
from mucode.generation.base import Generator, SamplingParams, expand_requests, regroup


def request_key(namespace: str, conversation: Sequence[Message], sampling: SamplingParams,
                seed: int) -> str:  # fmt: skip
    """A digest of everything that decides an answer."""
    settings = sampling.model_dump(mode="json", exclude={"seed"})
    payload = [namespace, [m.to_dict() for m in conversation], settings, seed]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class CachedGenerator:
    """Answers from ``path`` when it has them; otherwise asks ``inner`` and remembers."""

    def __init__(self, inner: Generator, path: Path, namespace: str) -> None:
        self.inner = inner
        self.path = Path(path)
        self.namespace = namespace
        self.hits = self.misses = self.generated_tokens = 0
        self._lock = threading.Lock()
        self._answers: dict[str, Completion] = {}
        if self.path.exists():
            for _, row in stream_jsonl(self.path, appended=True):
                self._answers[row["key"]] = Completion.from_dict(row["completion"])

    def generate(
        self,
        conversations: Sequence[Sequence[Message]],
        n: int,
        sampling: SamplingParams,
        seeds: Sequence[int] | None = None,
    ) -> list[list[Completion]]:
        """``n`` answers per conversation; only the ones not in the cache are generated."""
        requests = expand_requests(conversations, n, sampling, seeds)
        keys = [request_key(self.namespace, conv, sampling, seed) for conv, seed in requests]
        with self._lock:
            missing = [i for i, key in enumerate(keys) if key not in self._answers]
            self.hits += len(keys) - len(missing)
            self.misses += len(missing)
        if missing:
            fresh = self.inner.generate([requests[i][0] for i in missing], 1, sampling,
                                        [requests[i][1] for i in missing])  # fmt: skip
            rows = [{"key": keys[i], "completion": answer[0].to_dict()}
                    for i, answer in zip(missing, fresh, strict=True)]  # fmt: skip
            with self._lock:
                self.generated_tokens += sum(answer[0].completion_tokens for answer in fresh)
                append_jsonl(self.path, rows)
                for i, answer in zip(missing, fresh, strict=True):
                    self._answers[keys[i]] = answer[0]
        return regroup([self._answers[key] for key in keys], n)

    def close(self) -> None:
        """Close the wrapped generator."""
        self.inner.close()
