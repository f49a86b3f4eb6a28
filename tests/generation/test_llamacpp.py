"""Smoke test through the real llama.cpp engine with the embedded default model."""

from __future__ import annotations

import pytest

from mucode.benchmarks import load_problems
from mucode.core.errors import ContextFull
from mucode.core.records import Message
from mucode.generation import SamplingParams
from mucode.rollout import RolloutConfig, read_trajectories, run_rollouts
from mucode.sandbox import Sandbox

pytestmark = pytest.mark.slow


@pytest.fixture
def generator(llamacpp):
    return llamacpp


def test_greedy_answers_are_real_and_repeatable(generator):
    question = [Message("user", "Write a Python function add(a, b) that returns a + b.")]
    sampling = SamplingParams(max_tokens=48)
    first = generator.generate([question, question], 1, sampling, seeds=[1, 2])
    again = generator.generate([question], 1, sampling, seeds=[1])
    assert all(c[0].completion_tokens > 0 and c[0].prompt_tokens > 0 for c in first)
    assert first[0][0].finish_reason in ("stop", "length")
    assert "def add" in first[0][0].text
    assert again[0][0].text == first[0][0].text


def test_one_rollout_turn_through_the_engine(generator, tmp_path):
    problem = load_problems("humaneval", task_ids=["HumanEval/53"])[0]
    config = RolloutConfig(turns=1, sampling=SamplingParams(max_tokens=200))
    with Sandbox(workers=1) as sandbox:
        summary = run_rollouts([problem], generator, sandbox, config, tmp_path)
    (trajectory,) = read_trajectories(summary.path)
    turn = trajectory.turns[0]
    assert turn.completion.completion_tokens > 0
    assert turn.code, turn.completion.text  # the model answered with a code block
    assert turn.public.tests_total == len(problem.public_tests)


def test_a_prompt_longer_than_the_context_is_a_context_full_error(generator):
    too_long = [Message("user", "def f(x):\n    return x + 1\n" * 400)]  # > 2048 tokens
    with pytest.raises(ContextFull, match="exceeds the available context size"):
        generator.generate([too_long], 1, SamplingParams(max_tokens=8))
