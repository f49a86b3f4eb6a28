"""The answer cache: same request, same answer, generated once, remembered on disk."""

from __future__ import annotations

from mucode.core.records import Message
from mucode.generation import SamplingParams, ScriptedGenerator
from mucode.generation.cache import CachedGenerator

HELLO = [Message("user", "hello")]


def counting():
    calls = []

    def script(conversation, sample):
        calls.append(sample)
        return f"answer {len(calls)}"

    return ScriptedGenerator(script), calls


def test_answers_are_generated_once_and_survive_a_restart(tmp_path):
    inner, calls = counting()
    cache = CachedGenerator(inner, tmp_path / "cache.jsonl", "model-a")
    sampling = SamplingParams(temperature=0.7)
    first = cache.generate([HELLO], 3, sampling, [100])
    assert [c.text for c in first[0]] == ["answer 1", "answer 2", "answer 3"]
    assert cache.generate([HELLO], 3, sampling, [100]) == first and len(calls) == 3
    # seeds 101..104: 101 and 102 are known (samples 1 and 2 of seed 100), 103-104 are new
    shifted = cache.generate([HELLO], 4, sampling, [101])
    assert [c.text for c in shifted[0]] == ["answer 2", "answer 3", "answer 4", "answer 5"]
    assert (cache.hits, cache.misses) == (5, 5)
    assert cache.generated_tokens == 5 * 2  # only fresh answers count ("answer N": 2 words)

    restarted, calls_after = counting()
    again = CachedGenerator(restarted, tmp_path / "cache.jsonl", "model-a")
    assert again.generate([HELLO], 3, sampling, [100]) == first and calls_after == []


def test_other_models_settings_or_conversations_are_not_served_from_the_cache(tmp_path):
    inner, calls = counting()
    path = tmp_path / "cache.jsonl"
    CachedGenerator(inner, path, "model-a").generate([HELLO], 1, SamplingParams(), [1])
    CachedGenerator(inner, path, "model-b").generate([HELLO], 1, SamplingParams(), [1])
    CachedGenerator(inner, path, "model-a").generate([HELLO], 1, SamplingParams(max_tokens=9), [1])
    other = [Message("user", "hello"), Message("assistant", "x"), Message("user", "again")]
    CachedGenerator(inner, path, "model-a").generate([other], 1, SamplingParams(), [1])
    assert len(calls) == 4
