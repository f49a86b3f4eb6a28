"""The OpenAI-compatible client against a real HTTP server on 127.0.0.1.

The server is llama.cpp's own (the engine of the ``llamacpp`` fixture serves the OpenAI
API on a random loopback port), so requests really cross HTTP.
"""

from __future__ import annotations

import socket
import time

import pytest

from mucode.core.errors import ContextFull, GenerationError
from mucode.core.records import Message
from mucode.generation import SamplingParams, make_generator
from mucode.generation.config import OpenAIConfig

pytestmark = pytest.mark.slow
QUESTION = [Message("user", "Write a Python function add(a, b) that returns a + b.")]


def test_completions_over_http_match_the_engine(llamacpp):
    client = make_generator(OpenAIConfig(base_url=llamacpp.base_url, model="default"))
    try:
        sampling = SamplingParams(max_tokens=32)
        over_http = client.generate([QUESTION], 2, sampling, seeds=[7])
    finally:
        client.close()
    direct = llamacpp.generate([QUESTION], 1, sampling, seeds=[7])
    assert [c.completion_tokens > 0 for c in over_http[0]] == [True, True]
    assert over_http[0][0].text == direct[0][0].text  # greedy: same engine, same answer


def test_an_unreachable_server_fails_fast_and_clearly():
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = OpenAIConfig(base_url=f"http://127.0.0.1:{port}/v1", model="m",
                          max_retries=1, timeout_s=5)  # fmt: skip
    client = make_generator(config)
    start = time.monotonic()
    with pytest.raises(GenerationError, match=f"cannot reach the server at .*:{port}"):
        client.generate([QUESTION], 1, SamplingParams(max_tokens=8))
    client.close()
    assert time.monotonic() - start < 10


def test_a_prompt_longer_than_the_context_is_a_context_full_error(llamacpp):
    client = make_generator(OpenAIConfig(base_url=llamacpp.base_url, model="default"))
    too_long = [Message("user", "def f(x):\n    return x + 1\n" * 400)]  # > 2048 tokens
    try:
        with pytest.raises(ContextFull, match="context size"):
            client.generate([too_long], 1, SamplingParams(max_tokens=8))
    finally:
        client.close()
