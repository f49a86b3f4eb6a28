"""Code extraction and the episode state machine."""

from __future__ import annotations

import pytest

from mucode.benchmarks import load_problems
from mucode.env import FEEDBACK_PREFIX, Episode, extract_code
from mucode.records import Completion, Status, Turn, Verdict


@pytest.mark.parametrize(
    ("text", "code", "unclosed"),
    [
        ("Here:\n```python\ndef f():\n    return 1\n```\nDone.", "def f():\n    return 1", False),
        ("```py\nx = 1\n```", "x = 1", False),
        ("```Python3\nx = 1\n```", "x = 1", False),
        ("```bash\nls\n```\n```python\nx = 2\n```", "x = 2", False),
        ("```\ny = 3\n```", "y = 3", False),
        ("```\nuntagged = 1\n```\n```python\ntagged = 1\n```", "tagged = 1", False),
        ("```python\ndef f():\n    return [1,", "def f():\n    return [1,", True),
        ("def f(x):\n    return x\n", "def f(x):\n    return x", False),
        ("I think the answer is to loop.", "", False),
        ("```python\n\n```", "", False),
        ("```text\nnot code\n```", "", False),
    ],
)
def test_extract_code(text, code, unclosed):
    extracted = extract_code(text)
    assert extracted.code == code
    assert extracted.unclosed is unclosed


def _turn(public: Status, oracle: Status = Status.FAILED) -> Turn:
    return Turn(
        Completion("answer", "stop"),
        "code",
        Verdict(public, f"public {public.value}", 0.0),
        Verdict(oracle, "HIDDEN ORACLE TEXT", 0.0),
    )


def test_episode_stops_on_public_pass_even_if_the_oracle_fails():
    episode = Episode(load_problems("humaneval")[0], 0, max_turns=3)
    episode.record(_turn(Status.FAILED))
    assert not episode.done
    episode.record(_turn(Status.PASSED, oracle=Status.FAILED))
    assert episode.done and len(episode.turns) == 2
    assert [m.role for m in episode.messages] == ["user", "assistant", "user", "assistant"]
    assert episode.messages[2].content == FEEDBACK_PREFIX + "public failed"
    assert all("HIDDEN" not in m.content for m in episode.messages)


def test_episode_stops_after_the_last_turn_without_trailing_feedback():
    episode = Episode(load_problems("humaneval")[0], 0, max_turns=2)
    episode.record(_turn(Status.FAILED, oracle=Status.PASSED))  # oracle pass does not stop it
    assert not episode.done
    episode.record(_turn(Status.FAILED))
    assert episode.done
    assert episode.messages[-1].role == "assistant"
