"""The local search expert's inputs and scores: rollout sources (``DIR@N``, pairs, a
directory given twice, hundreds of them), trajectories files that are malformed or whose
messages do not match their turns, turn-level sandbox failures, and how candidates are
scored and ranked (no verifier weight, ties from rounding, one code reached from two
prompts, a verifier returning the wrong number of scores)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from mucode.core.errors import ConfigError, DatasetError
from mucode.core.jsonl import write_jsonl
from mucode.core.records import Message, Trajectory
from mucode.rollout import TRAJECTORIES
from mucode.training.expert import (
    Beta,
    RolloutSource,
    as_source,
    expert_pools,
    load_sources,
)
from tests.training.test_relabel import (
    FAIL,
    FAILED,
    INFRA,
    PASS,
    SOLVED,
    TableScorer,
    code,
    play,
    sourced,
    write_rollout,
)


def test_an_at_sign_names_an_iteration_only_before_digits_and_for_a_path_not_on_disk(tmp_path):
    assert RolloutSource.parse("runs/a@best") == RolloutSource(Path("runs/a@best"), 0)
    assert RolloutSource.parse("runs/a@") == RolloutSource(Path("runs/a@"), 0)
    named = tmp_path / "rollouts@2"
    named.mkdir()
    assert RolloutSource.parse(str(named)) == RolloutSource(named, 0)
    assert RolloutSource.parse(f"{named}@3") == RolloutSource(named, 3)


def test_sources_are_accepted_as_path_and_iteration_pairs(tmp_path):
    assert as_source(("runs/a", 2)) == RolloutSource(Path("runs/a"), 2)
    assert as_source((Path("runs/b"), 1)) == RolloutSource(Path("runs/b"), 1)
    assert as_source(Path("runs/a@2")) == RolloutSource(Path("runs/a@2"), 0)  # a Path is a path
    given = RolloutSource(Path("runs/c"), 4)
    assert as_source(given) is given
    first = write_rollout(tmp_path / "r0", [SOLVED])
    later = write_rollout(tmp_path / "r1", FAILED)
    found, info = load_sources([(first, 0), (str(later), 1)])
    assert [(s["path"], s["iteration"], s["trajectories"]) for s in info] == [
        (str(first), 0, 1),
        (str(later), 1, 3),
    ]
    assert [(t.source, t.iteration) for t in found] == [(str(first), 0)] + [(str(later), 1)] * 3


def test_a_rollout_directory_given_twice_is_refused(tmp_path):
    rollout = write_rollout(tmp_path / "r0", [SOLVED])
    with pytest.raises(ConfigError, match="given twice"):
        load_sources([rollout, f"{rollout}@1"])
    with pytest.raises(ConfigError, match="given twice"):
        load_sources([(rollout, 0), tmp_path / "elsewhere" / ".." / "r0"])


def test_hundreds_of_rollout_directories_are_all_read(tmp_path):
    """More sources than CPython's cached small ints: counts are compared by value."""
    dirs = [write_rollout(tmp_path / f"r{i}", [SOLVED]) for i in range(300)]
    found, info = load_sources(dirs)
    assert len(found) == len(info) == 300
    assert [s["path"] for s in info] == [str(d) for d in dirs]


def _without(record: dict, key: str) -> dict:
    return {k: v for k, v in record.items() if k != key}


def _first_oracle_status(status: str) -> dict:
    record = SOLVED.to_dict()
    turn = record["turns"][0]
    record["turns"][0] = {**turn, "oracle": {**turn["oracle"], "status": status}}
    return record


@pytest.mark.parametrize(
    "record",
    [
        _without(SOLVED.to_dict(), "messages"),
        {**SOLVED.to_dict(), "turns": 2},
        {**SOLVED.to_dict(), "messages": [{"role": "user", "content": "hi", "name": "x"}]},
        _first_oracle_status("judged"),
    ],
    ids=["missing-field", "wrong-type", "unknown-field", "unknown-status"],
)
def test_a_malformed_trajectories_file_is_a_dataset_error(tmp_path, record):
    (tmp_path / "r0").mkdir()
    write_jsonl(tmp_path / "r0" / TRAJECTORIES, [FAILED[0].to_dict(), record])
    with pytest.raises(DatasetError, match="not trajectories written by `mucode rollout`"):
        load_sources([tmp_path / "r0"])


def _episode(n_turns: int, roles: str, context_full: bool = False) -> Trajectory:
    """An ``n_turns`` episode whose messages have these roles (u: user, a: assistant)."""
    turns = [(code(f"{i}"), FAIL) for i in range(n_turns)]
    played = play("Mbpp/1", 10 + n_turns, turns, max(1, n_turns))
    words = {"u": "user", "a": "assistant"}
    messages = tuple(Message(words[r], f"message {i}") for i, r in enumerate(roles))
    return replace(played, messages=messages, context_full=context_full)


@pytest.mark.parametrize(
    ("n_turns", "roles"),
    [
        (0, "u"),  # the prompt alone outgrew the context
        (1, "ua"),
        (1, "uau"),  # the feedback was added, then the next answer outgrew the context
        (2, "uaua"),
        (2, "uauau"),
        (3, "uauaua"),
        (3, "uauauau"),
    ],
)
def test_a_conversation_with_an_answer_per_turn_is_read(tmp_path, n_turns, roles):
    trajectory = _episode(n_turns, roles, context_full=len(roles) != 2 * n_turns)
    found, _ = load_sources([write_rollout(tmp_path / "r0", [trajectory])])
    assert [t.trajectory for t in found] == [trajectory]


@pytest.mark.parametrize(
    ("n_turns", "roles"),
    [
        (0, ""),  # no prompt
        (0, "a"),
        (1, "u"),  # the answer is missing
        (1, "uu"),  # the answer recorded as a user message
        (1, "au"),
        (2, "uau"),  # the second answer is missing
        (2, "uaaa"),
        (3, "uauau"),  # the third answer is missing
        (3, "uauuua"),
    ],
)
def test_a_conversation_whose_roles_do_not_match_its_turns_is_refused(tmp_path, n_turns, roles):
    rollout = write_rollout(tmp_path / "r0", [SOLVED, _episode(n_turns, roles)])
    with pytest.raises(DatasetError, match=f"has {n_turns} turns but its messages run"):
        load_sources([rollout])


@pytest.mark.parametrize(
    "turns",
    [[(code("y"), INFRA)], [(code("0"), FAIL), (code("y"), INFRA)]],
    ids=["on-turn-1", "on-turn-2"],
)
def test_a_turn_the_sandbox_failed_on_leaves_its_episode_out_without_the_episode_flag(
    tmp_path, turns
):
    """Records written before the trajectory-level flag existed carry only the turn's."""
    broken = play("Mbpp/1", 5, turns)
    assert broken.infra_error
    old_style = _without(broken.to_dict(), "infra_error")
    (tmp_path / "r0").mkdir()
    write_jsonl(tmp_path / "r0" / TRAJECTORIES, [old_style, *(t.to_dict() for t in FAILED)])
    found, (info,) = load_sources([tmp_path / "r0"])
    assert info["trajectories"] == 4 and info["infra_error"] == 1
    assert [t.trajectory for t in found] == FAILED


def test_without_verifier_weight_a_candidate_scores_only_its_oracle_weight():
    assert Beta(1.0, 0.0).score(True, None) == 1.0
    assert Beta(2.0, 0.0).score(False, None) == 0.0
    (pool,) = expert_pools(sourced([SOLVED, *FAILED]), Beta(1.0, 0.0), None)
    assert [(c.score, c.verifier) for c in pool.candidates] == [(1.0, None)] + [(0.0, None)] * 3
    assert pool.final_score(sourced(FAILED)[0]) == 0.0


@pytest.mark.parametrize("beta", [Beta(1.0, 0.1), Beta(0.0, 0.1)])
def test_a_tie_that_rounding_makes_goes_to_the_higher_verifier_score(beta):
    """3.0 and 3.0000000000000004 weigh the same after β_L = 0.1 (and the oracle's 1)."""
    first, second = code("x"), code("x + 0")
    both = sourced([play("Mbpp/1", 0, [(first, PASS)]), play("Mbpp/1", 1, [(second, PASS)])])
    scorer = TableScorer({first: 3.0, second: 3.0000000000000004})
    (pool,) = expert_pools(both, beta, scorer)
    assert pool.candidate(first).score == pool.candidate(second).score
    assert pool.best.code == second
    (pool,) = expert_pools(both, beta, TableScorer({first: 3.0, second: 3.0}))
    assert pool.best.code == first  # an exact tie: the first seen


def test_by_default_the_expert_pools_every_iteration_of_a_problem_together():
    trajectories = [*sourced([SOLVED], 0, "iter-0"), *sourced(FAILED[:1], 1, "iter-1")]
    (pool,) = expert_pools(trajectories, Beta(1.0, 0.0), None)
    assert pool.iteration is None and len(pool.trajectories) == 2
    apart = expert_pools(trajectories, Beta(1.0, 0.0), None, by_iteration=True)
    assert [p.iteration for p in apart] == [0, 1]


def test_a_code_reached_from_two_prompts_is_scored_on_the_first_ones():
    """A problem's prompt may differ between rollouts (say, a changed prompt template)."""
    again = play("Mbpp/1", 9, [(code("x"), PASS)])
    reworded = replace(again, messages=(Message("user", "Write f, again."), *again.messages[1:]))
    scorer = TableScorer({code("x"): 2.0})
    (pool,) = expert_pools(sourced([SOLVED, reworded]), Beta(1.0, 0.1), scorer)
    assert scorer.calls == [([SOLVED.messages[0].content], [code("x")])]
    (candidate,) = pool.candidates
    assert candidate.verifier == 2.0 and candidate.score == pytest.approx(1.2)
    assert len(candidate.origins) == 2


class MiscountingScorer:
    """Returns ``extra`` more scores than it was given codes (fewer when negative)."""

    def __init__(self, extra: int) -> None:
        self.extra = extra

    def score_texts(self, prompts, codes):
        return [0.0] * (len(codes) + self.extra)


@pytest.mark.parametrize(("extra", "returned"), [(1, 5), (-1, 3)])
def test_a_verifier_returning_the_wrong_number_of_scores_is_refused(extra, returned):
    with pytest.raises(ValueError, match=f"the verifier returned {returned} scores for 4 codes"):
        expert_pools(sourced([SOLVED, *FAILED]), Beta(1.0, 0.1), MiscountingScorer(extra))


def test_a_score_per_code_is_accepted_beyond_small_int_sizes():
    """300 distinct codes: the count check compares values, not cached int objects."""
    many = sourced([play("Mbpp/1", s, [(code(f"{s} * 2"), FAIL)], 1) for s in range(300)])
    (pool,) = expert_pools(many, Beta(1.0, 0.1), MiscountingScorer(0))
    assert len(pool.candidates) == 300
