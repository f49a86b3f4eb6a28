"""Code extraction and the episode state machine."""

from __future__ import annotations

import pytest

from mucode.benchmarks import load_problems
from mucode.core.records import Completion, Status, Turn, Verdict
from mucode.env import FEEDBACK_PREFIX, Episode, extract_code


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


def test_a_closing_fence_after_another_language_opens_nothing():
    text = "Output:\n```text\nhello\n```\nSo:\n```\ndef f():\n    return 1\n```"
    assert extract_code(text).code == "def f():\n    return 1"


def test_a_definition_beats_an_earlier_usage_block():
    text = "Use it:\n```python\nprint(f(2))\n```\nwith\n```python\ndef f(x):\n    return x\n```"
    assert extract_code(text).code == "def f(x):\n    return x"
    assert extract_code(text, entry_point="f").code == "def f(x):\n    return x"


def test_the_entry_point_definition_wins_among_blocks_that_define_something():
    text = "```python\ndef helper():\n    return 1\n```\n```\ndef solve():\n    return 2\n```"
    assert extract_code(text).code == "def helper():\n    return 1"  # tagged, first
    assert extract_code(text, entry_point="solve").code == "def solve():\n    return 2"
    assert extract_code(text, entry_point="absent").code == "def helper():\n    return 1"


def test_an_indented_fence_is_dedented():
    text = "1. Define it:\n   ```python\n   def f():\n       return 1\n   ```\n2. Done."
    assert extract_code(text).code == "def f():\n    return 1"


def test_an_empty_python_block_loses_to_an_untagged_one_with_code():
    text = "```python\n\n```\nOops, here:\n```\ndef f():\n    return 1\n```"
    assert extract_code(text).code == "def f():\n    return 1"


def test_an_unclosed_last_block_runs_to_the_end_and_can_win():
    text = "```python\nprint(f(1))\n```\nNow:\n```python\ndef f(x):\n    return [x,"
    extracted = extract_code(text, entry_point="f")
    assert extracted.code == "def f(x):\n    return [x,"
    assert extracted.unclosed


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
