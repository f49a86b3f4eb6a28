"""A tiny random backbone and an easy rollout, shared by the training and CLI tests."""

from __future__ import annotations

import pytest

from tests.tiny_models import save_tiny_qwen2
from tests.verifier.rollouts import FAIL, PASS, trajectory, write_rollout


@pytest.fixture(scope="session")
def backbone(tmp_path_factory):
    return save_tiny_qwen2(tmp_path_factory.mktemp("tiny-qwen2"))


@pytest.fixture(scope="session")
def easy_rollout(tmp_path_factory):
    """Correct codes add, incorrect ones subtract: separable from the code alone."""
    episodes = []
    for task in range(10):
        for sample in range(4):
            right = f"def add(a, b):\n    return a + b{' ' * sample}"
            wrong = f"def add(a, b):\n    return a - b{' ' * sample}"
            turns = [(right, PASS)] if sample % 2 else [(wrong, FAIL), (right, PASS)]
            episodes.append(trajectory(f"Mbpp/{task}", sample, turns))
    return write_rollout(tmp_path_factory.mktemp("rollout"), episodes)
