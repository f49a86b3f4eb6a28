"""Verifier data: labels from the oracle, dedup per problem, splits by problem, pairs."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, fields, replace

import pytest

from mucode.core.errors import DatasetError
from mucode.core.records import Message, Status
from mucode.verifier.data import (
    load_problem_codes,
    pair_examples,
    point_examples,
    split_by_problem,
)
from tests.verifier.rollouts import FAIL, PASS, trajectory, write_rollout


def test_codes_are_labelled_by_the_oracle_and_deduplicated_per_problem(tmp_path):
    run = write_rollout(tmp_path / "a", [
        trajectory("Mbpp/1", 0, [("bad1", FAIL), ("good", PASS)]),
        trajectory("Mbpp/1", 1, [("good", PASS)]),
        trajectory("Mbpp/1", 2, [("bad1", FAIL), ("sandbox broke", Status.INFRA_ERROR)]),
        trajectory("Mbpp/2", 0, [("good", FAIL)]),  # same text, other problem: its own label
    ])  # fmt: skip
    first, second = load_problem_codes([run])
    assert first.key == "mbpp:Mbpp/1" and first.prompt == "Solve Mbpp/1."
    assert first.correct == ("good",) and first.incorrect == ("bad1",)
    assert [(c.code, c.correct) for c in first.first_turn] == [
        ("bad1", False), ("good", True), ("bad1", False)]  # fmt: skip
    assert second.correct == () and second.incorrect == ("good",)
    points = point_examples([first, second])
    assert [(p.code, p.label) for p in points] == [("bad1", 0.0), ("good", 1.0), ("good", 0.0)]


def test_several_rollout_dirs_merge_by_benchmark_and_task(tmp_path):
    a = write_rollout(tmp_path / "a", [trajectory("Mbpp/1", 0, [("x", FAIL)])])
    b = write_rollout(tmp_path / "b", [
        trajectory("Mbpp/1", 0, [("x", FAIL), ("y", PASS)]),
        trajectory("Mbpp/1", 0, [("z", PASS)], benchmark="mbpp-sanitized"),
    ])  # fmt: skip
    merged = load_problem_codes([a, b])
    assert [p.key for p in merged] == ["mbpp:Mbpp/1", "mbpp-sanitized:Mbpp/1"]
    assert merged[0].correct == ("y",) and merged[0].incorrect == ("x",)
    assert len(merged[0].first_turn) == 2


def test_a_missing_rollout_dir_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match=r"no trajectories\.jsonl"):
        load_problem_codes([tmp_path / "nowhere"])


def test_validation_is_split_by_problem_and_seeded(tmp_path):
    run = write_rollout(tmp_path / "a", [
        trajectory(f"Mbpp/{i}", s, [(f"c{i}-{s}", PASS if s else FAIL)])
        for i in range(20) for s in range(3)
    ])  # fmt: skip
    problems = load_problem_codes([run])
    train, validation = split_by_problem(problems, 0.25, seed=1)
    assert len(validation) == 5 and len(train) == 15
    assert not {p.key for p in train} & {p.key for p in validation}
    assert split_by_problem(problems, 0.25, seed=1) == (train, validation)
    assert split_by_problem(problems, 0.25, seed=2)[1] != validation
    assert split_by_problem(problems, 0.0, seed=1) == (problems, [])


def test_pairs_stay_within_a_problem_and_never_pair_a_code_with_itself(tmp_path):
    run = write_rollout(tmp_path / "a", [
        trajectory(f"Mbpp/{i}", s, [(f"p{i}-{s}", PASS), ]) for i in range(3) for s in range(4)
    ] + [
        trajectory(f"Mbpp/{i}", 10 + s, [(f"f{i}-{s}", FAIL)]) for i in range(3) for s in range(5)
    ] + [trajectory("Mbpp/9", 0, [("only-wrong", FAIL)])])  # fmt: skip
    problems = load_problem_codes([run])
    pairs = pair_examples(problems, pairs_per_problem=7, seed=0)
    assert len(pairs) == 3 * 7  # Mbpp/9 has no correct code, so no pairs
    for pair in pairs:
        task = pair.prompt.removeprefix("Solve ").removesuffix(".").split("/")[1]
        assert pair.chosen.startswith(f"p{task}-") and pair.rejected.startswith(f"f{task}-")
    assert len(set(pairs)) == len(pairs)  # without replacement
    assert pair_examples(problems, 7, seed=0) == pairs
    everything = pair_examples(problems, 100, seed=0)
    assert len(everything) == 3 * 4 * 5  # capped by the 20 pairs a problem has


def test_a_code_that_passes_only_the_public_tests_is_labelled_incorrect(tmp_path):
    run = write_rollout(tmp_path / "a", [
        trajectory("Mbpp/1", 0, [("shortcut", FAIL, PASS)]),  # public pass, hidden fail
        trajectory("Mbpp/1", 1, [("wrong", FAIL), ("right", PASS)]),
    ])  # fmt: skip
    (problem,) = load_problem_codes([run])
    assert problem.correct == ("right",) and problem.incorrect == ("shortcut", "wrong")
    assert [(c.code, c.correct) for c in problem.first_turn] == [
        ("shortcut", False), ("wrong", False)]  # fmt: skip
    pairs = pair_examples([problem], pairs_per_problem=10, seed=0)
    assert sorted((p.chosen, p.rejected) for p in pairs) == [("right", "shortcut"),
                                                              ("right", "wrong")]  # fmt: skip


def test_a_problem_without_pairs_does_not_stop_the_pairs_of_the_next(tmp_path):
    run = write_rollout(tmp_path / "a", [
        trajectory("Mbpp/1", 0, [("only-wrong", FAIL)]),
        trajectory("Mbpp/2", 0, [("wrong", FAIL), ("right", PASS)]),
    ])  # fmt: skip
    pairs = pair_examples(load_problem_codes([run]), pairs_per_problem=5, seed=0)
    assert [(p.prompt, p.chosen, p.rejected) for p in pairs] == [("Solve Mbpp/2.", "right",
                                                                   "wrong")]  # fmt: skip


@pytest.mark.parametrize("fraction", [1.0, 1.5, -0.1])
def test_a_validation_fraction_outside_0_to_1_is_refused(tmp_path, fraction):
    run = write_rollout(tmp_path / "a", [trajectory("Mbpp/1", 0, [("x", PASS)])])
    with pytest.raises(ValueError, match=r"validation_fraction must be in \[0, 1\)"):
        split_by_problem(load_problem_codes([run]), fraction, seed=0)


def test_an_empty_rollout_is_a_clear_error(tmp_path):
    run = write_rollout(tmp_path / "a", [])
    with pytest.raises(DatasetError, match="no trajectories in"):
        load_problem_codes([run])


@pytest.mark.parametrize("messages", [
    (), (Message("assistant", "def f(): pass"),),
    (Message("assistant", "def f(): pass"), Message("user", "Solve Mbpp/1.")),
])  # fmt: skip
def test_a_trajectory_that_does_not_start_with_the_prompt_is_refused(tmp_path, messages):
    episode = replace(trajectory("Mbpp/1", 0, [("x", PASS)]), messages=messages)
    run = write_rollout(tmp_path / "a", [episode])
    with pytest.raises(DatasetError, match="does not start with a prompt"):
        load_problem_codes([run])


def test_the_prompt_is_the_first_message_not_the_latest_feedback(tmp_path):
    chat = (Message("user", "Solve Mbpp/1."), Message("assistant", "x"),
            Message("user", "The tests failed."))  # fmt: skip
    episode = replace(trajectory("Mbpp/1", 0, [("x", FAIL), ("y", PASS)]), messages=chat)
    (problem,) = load_problem_codes([write_rollout(tmp_path / "a", [episode])])
    assert problem.prompt == "Solve Mbpp/1."


def test_verifier_data_records_are_frozen_and_slotted(tmp_path):
    run = write_rollout(tmp_path / "a", [trajectory("Mbpp/1", 0, [("x", FAIL), ("y", PASS)])])
    (problem,) = load_problem_codes([run])
    records = [problem, problem.codes[0], point_examples([problem])[0],
               pair_examples([problem], 1, seed=0)[0]]  # fmt: skip
    for record in records:
        assert not hasattr(record, "__dict__")
        with pytest.raises(FrozenInstanceError):
            setattr(record, fields(record)[0].name, None)
