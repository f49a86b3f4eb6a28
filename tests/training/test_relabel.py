"""Relabelling on hand-made trajectories: which states get which target, K and its order,
the β settings, unsolved problems, several iterations' rollouts, the baselines' rows, and
`mucode relabel` end to end (oracle-only, and with a tiny real verifier)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from mucode.cli import app, main
from mucode.core.errors import ConfigError, DatasetError
from mucode.core.jsonl import write_jsonl
from mucode.core.records import Completion, Problem, Status, Trajectory, Turn, Verdict
from mucode.env import FEEDBACK_PREFIX, Episode, extract_code
from mucode.rollout import TRAJECTORIES
from mucode.training.examples import (
    LabelKind,
    Method,
    SftExample,
    format_answer,
    read_examples,
    read_summary,
    write_examples,
)
from mucode.training.expert import Beta, RolloutSource, SourcedTrajectory, expert_pools
from mucode.training.relabel import RelabelConfig, build_dataset, build_examples, summarize

PASS, FAIL, INFRA = Status.PASSED, Status.FAILED, Status.INFRA_ERROR


def problem(task_id: str) -> Problem:
    tests = ("assert f(1) == 1",), ("assert f(2) == 2",)
    return Problem(task_id, "mbpp", "train", f"Write f for {task_id}.", "f", "", *tests,
                   "def f(x):\n    return x")  # fmt: skip


def verdict(status: Status) -> Verdict:
    return Verdict(status, "" if status is PASS else "AssertionError: f(1) == 0", 0.01)


def play(task_id: str, sample: int, turns: list[tuple], max_turns: int = 3) -> Trajectory:
    """An episode as `mucode rollout` records it; a turn is (code, oracle[, public])."""
    episode = Episode(problem(task_id), sample, max_turns)
    for code, oracle, *public in turns:
        answer = Completion(f"Here is my answer.\n```python\n{code}\n```\nDone.", "stop")
        shown = verdict(public[0] if public else oracle)
        episode.record(Turn(answer, code, shown, verdict(oracle)))
    return episode.trajectory()


def sourced(trajectories: list[Trajectory], iteration: int = 0, source: str = "runs/r0"):
    return [SourcedTrajectory(t, source, iteration) for t in trajectories]


def code(name: str) -> str:
    return f"def f(x):\n    return {name}"


class TableScorer:
    """Scores a code by a fixed table (unknown codes: 0); records every call."""

    def __init__(self, table: dict[str, float]) -> None:
        self.table = table
        self.calls: list[tuple[list[str], list[str]]] = []

    def score_texts(self, prompts, codes):
        self.calls.append((list(prompts), list(codes)))
        return [self.table.get(c, 0.0) for c in codes]


def rows_of(rows: list[SftExample], trajectory: Trajectory) -> list[SftExample]:
    return [r for r in rows if r.state.trajectory == trajectory.key]


# one problem: sample 0 succeeds on turn 2, samples 1-3 fail throughout
SOLVED = play("Mbpp/1", 0, [(code("0"), FAIL), (code("x"), PASS)])
FAILED = [play("Mbpp/1", s, [(code(f"{s}"), FAIL), (code(f"{s} + 1"), FAIL)], 2)
          for s in (1, 2, 3)]  # fmt: skip


def test_a_row_round_trips_through_json_and_the_dataset_file(tmp_path):
    rows, _ = build_examples(RelabelConfig(method="ov"), sourced([SOLVED, *FAILED]))
    assert SftExample.from_json(rows[0].to_json()) == rows[0]
    write_examples(tmp_path / "sft.jsonl", rows)
    assert read_examples(tmp_path) == rows == read_examples(tmp_path / "sft.jsonl")


def test_the_target_is_the_code_as_the_generator_writes_it():
    answer = format_answer(code("x"))
    assert answer == "```python\ndef f(x):\n    return x\n```"
    assert extract_code(answer, "f").code == code("x")


def test_successful_trajectories_keep_their_own_final_code_at_every_state():
    rows, _ = build_examples(RelabelConfig(method="ov"), sourced([SOLVED, *FAILED]))
    own = rows_of(rows, SOLVED)
    assert [r.state.turn for r in own] == [1, 2]
    assert {r.target for r in own} == {format_answer(code("x"))}
    assert {r.label for r in own} == {LabelKind.OWN}
    assert own[0].messages == SOLVED.messages[:1]  # the prompt alone
    assert own[1].messages == SOLVED.messages[:3]  # prompt, answer 1, its feedback
    assert own[1].messages[-1].content.startswith(FEEDBACK_PREFIX)
    assert all(r.target_from.turn == 2 and r.scores.oracle for r in own)


def test_failed_trajectories_have_every_state_relabelled_with_the_best_code():
    rows, _ = build_examples(RelabelConfig(method="ov"), sourced([SOLVED, *FAILED]))
    for failed in FAILED:
        relabelled = rows_of(rows, failed)
        assert [r.state.turn for r in relabelled] == [1, 2]
        assert [r.messages for r in relabelled] == [failed.messages[:1], failed.messages[:3]]
        assert {r.target for r in relabelled} == {format_answer(code("x"))}
        assert {r.label for r in relabelled} == {LabelKind.RELABELLED}
        assert {(r.target_from.trajectory, r.target_from.turn) for r in relabelled} == {
            (SOLVED.key, 2)
        }
    assert len(rows) == 2 + 3 * 2


def test_passing_only_the_public_tests_is_a_failure_to_relabel():
    public_only = play("Mbpp/1", 6, [(code("x % 5"), FAIL, PASS)])  # stopped, hidden tests fail
    assert public_only.solved_public and not public_only.solved
    rows, _ = build_examples(RelabelConfig(method="ov"), sourced([SOLVED, public_only]))
    (row,) = rows_of(rows, public_only)
    assert row.label is LabelKind.RELABELLED and row.target == format_answer(code("x"))


def test_an_answer_without_code_is_no_candidate_but_its_states_can_be_relabelled():
    silent = play("Mbpp/1", 6, [("", FAIL)], 1)
    scorer = TableScorer({"": 99.0, code("1 + 1"): 1.0})
    rows, pools = build_examples(RelabelConfig(k=4), sourced([*FAILED, silent]), scorer)
    assert "" not in [c.code for c in pools[0].candidates]
    assert {r.target for r in rows} == {format_answer(code("1 + 1"))}
    (row,) = rows_of(rows, silent)
    assert row.scores.trajectory is None  # no code: no score
    first_three = build_examples(RelabelConfig(method="ov"), sourced([silent, *FAILED]))[0]
    assert not rows_of(first_three, silent)  # without a code it ranks last for k


def test_a_code_seen_with_two_verdicts_keeps_the_first():
    flaky = play("Mbpp/1", 8, [(code("x"), FAIL)], 1)  # SOLVED's final code, judged failed
    (pool,) = expert_pools(sourced([SOLVED, flaky]), Beta(1.0, 0.0), None)
    assert pool.candidate(code("x")).correct
    (pool,) = expert_pools(sourced([flaky, SOLVED]), Beta(1.0, 0.0), None)
    assert not pool.candidate(code("x")).correct


def test_k_keeps_the_failed_trajectories_whose_final_code_scores_highest():
    failed = [play("Mbpp/1", s, [(code(f"{s}"), FAIL)], 1) for s in range(1, 6)]
    scorer = TableScorer({code("1"): 0.5, code("2"): 3.0, code("3"): 2.0, code("4"): 3.0})
    config = RelabelConfig(method="mucode", k=3)
    rows, _ = build_examples(config, sourced([SOLVED, *failed]), scorer)
    kept = [r.state.trajectory for r in rows if r.label is LabelKind.RELABELLED]
    assert kept == ["Mbpp/1#2", "Mbpp/1#3", "Mbpp/1#4"]  # 3.0, 2.0, 3.0: 1 (0.5), 5 (0) out
    ties = build_examples(RelabelConfig(method="ov", k=2), sourced([SOLVED, *failed]))[0]
    assert [r.state.trajectory for r in ties if r.label is LabelKind.RELABELLED] == [
        "Mbpp/1#1",
        "Mbpp/1#2",
    ]  # no verifier: every failed code scores 0, so the first seen go first


def test_oracle_and_verifier_disagreeing_separate_ov_lv_and_the_default():
    right, wrong = code("x"), code("1")  # the verifier prefers the wrong one
    trajectories = sourced([play("Mbpp/1", 0, [(right, PASS)]),
                            play("Mbpp/1", 1, [(wrong, FAIL)]),
                            play("Mbpp/1", 2, [(code("2"), FAIL)])])  # fmt: skip

    def target_of(config, table):
        rows, _ = build_examples(config, trajectories, TableScorer(table))
        (target,) = {r.target for r in rows if r.state.trajectory == "Mbpp/1#2"}
        return target

    close = {right: 0.0, wrong: 5.0}  # a gap below β_O / β_L = 10
    assert target_of(RelabelConfig(method="ov"), close) == format_answer(right)
    assert target_of(RelabelConfig(method="lv"), close) == format_answer(wrong)
    assert target_of(RelabelConfig(method="mucode"), close) == format_answer(right)
    far = {right: 0.0, wrong: 15.0}  # the learned verifier outweighs the oracle
    assert target_of(RelabelConfig(method="mucode"), far) == format_answer(wrong)
    assert target_of(RelabelConfig(method="mucode-reference"), far) == format_answer(right)


def test_exact_ties_go_to_the_oracle_only_while_it_has_weight_then_to_the_first_seen():
    right, wrong = code("x"), code("1")
    later_right = sourced([play("Mbpp/1", 1, [(wrong, FAIL)]), play("Mbpp/1", 0, [(right, PASS)])])
    tie = TableScorer({right: 0.0, wrong: 10.0})  # 1 + 0.1 * 0 == 0 + 0.1 * 10
    (pool,) = expert_pools(later_right, Beta(1.0, 0.1), tie)
    assert pool.candidate(right).score == pool.candidate(wrong).score
    assert pool.best.code == right
    same = TableScorer({right: 2.0, wrong: 2.0})
    (pool,) = expert_pools(later_right, Beta(0.0, 0.1), same)
    assert pool.best.code == wrong  # µCode-LV never looks at the oracle: first seen
    (pool,) = expert_pools(later_right, Beta(0.0, 0.1), TableScorer({right: 2.5, wrong: 2.0}))
    assert pool.best.code == right


def test_lv_rows_with_an_incorrect_target_are_flagged_and_scored():
    right, wrong = code("x"), code("1")
    trajectories = sourced([play("Mbpp/1", 0, [(right, PASS)]),
                            play("Mbpp/1", 1, [(wrong, FAIL)])])  # fmt: skip
    rows, pools = build_examples(RelabelConfig(method="lv"), trajectories,
                                 TableScorer({right: 1.0, wrong: 4.0}))  # fmt: skip
    (row,) = [r for r in rows if r.state.trajectory == "Mbpp/1#1"]
    assert row.label is LabelKind.UNSOLVED and not row.scores.oracle
    assert row.scores.verifier == 4.0 and row.scores.expert == pytest.approx(0.4)
    assert pools[0].has_correct  # the oracle knew better; the LV expert did not ask it


def test_an_unsolved_problem_takes_the_verifiers_best_incorrect_code():
    scorer = TableScorer({code("1 + 1"): 1.0, code("2 + 1"): 7.0, code("3 + 1"): 2.0})
    rows, pools = build_examples(RelabelConfig(), sourced(FAILED), scorer)
    assert {r.target for r in rows} == {format_answer(code("2 + 1"))}
    assert {r.label for r in rows} == {LabelKind.UNSOLVED}
    assert len(rows) == 6 and not any(r.scores.oracle for r in rows)
    assert rows[0].scores.verifier == 7.0 and rows[0].scores.expert == pytest.approx(0.7)
    assert sorted({r.scores.trajectory for r in rows}) == pytest.approx([0.1, 0.2, 0.7])
    assert not pools[0].has_correct
    dropped, _ = build_examples(RelabelConfig(keep_unsolved=False), sourced(FAILED), scorer)
    assert dropped == []


def test_several_iterations_pool_their_candidates_unless_told_otherwise(tmp_path):
    first = sourced([SOLVED], iteration=0, source="iter-0")
    later = sourced([play("Mbpp/1", 0, [(code("5"), FAIL)], 1)], iteration=1, source="iter-1")
    rows, _ = build_examples(RelabelConfig(method="ov"), [*first, *later])
    (row,) = [r for r in rows if r.state.iteration == 1]
    assert row.target == format_answer(code("x")) and row.label is LabelKind.RELABELLED
    assert (row.target_from.source, row.target_from.iteration) == ("iter-0", 0)
    assert row.state.source == "iter-1" and row.state.trajectory == "Mbpp/1#0"

    scorer = TableScorer({code("5"): 1.0})
    apart, _ = build_examples(RelabelConfig(method="mucode-reference"), [*first, *later], scorer)
    (row,) = [r for r in apart if r.state.iteration == 1]
    assert row.target == format_answer(code("5")) and row.label is LabelKind.UNSOLVED
    assert row.target_from.iteration == 1  # only iteration 1's own codes were candidates


def test_star_trains_on_correct_first_turn_answers_only():
    first_try = play("Mbpp/1", 4, [(code("x * 1"), PASS)])
    rows, _ = build_examples(RelabelConfig(method="star"), sourced([SOLVED, *FAILED, first_try]))
    (row,) = rows
    assert row.messages == first_try.messages[:1] and row.target == format_answer(code("x * 1"))
    assert row.label is LabelKind.RFT and row.scores.oracle and row.scores.expert is None


def test_multi_star_trains_each_state_of_a_success_on_its_own_next_action():
    rows, _ = build_examples(RelabelConfig(method="multi-star"), sourced([SOLVED, *FAILED]))
    assert [(r.state.turn, r.target, r.scores.oracle) for r in rows] == [
        (1, format_answer(code("0")), False),  # its own (failed) first answer
        (2, format_answer(code("x")), True),
    ]
    reference, _ = build_examples(RelabelConfig(method="multi-star-reference"),
                                  sourced([SOLVED, *FAILED]))  # fmt: skip
    assert [(r.state.turn, r.target) for r in reference] == [
        (1, format_answer(code("x"))),
        (2, format_answer(code("x"))),
    ]


def test_rft_lv_keeps_the_top_k_trajectories_by_the_verifier_without_relabelling():
    scorer = TableScorer({code("x"): 0.0, code("1 + 1"): 5.0, code("2 + 1"): 1.0})
    rows, _ = build_examples(RelabelConfig(method="rft-lv", k=2), sourced([SOLVED, *FAILED]),
                             scorer)  # fmt: skip
    assert [(r.state.trajectory, r.state.turn, r.target) for r in rows] == [
        ("Mbpp/1#1", 1, format_answer(code("1"))),
        ("Mbpp/1#1", 2, format_answer(code("1 + 1"))),
        ("Mbpp/1#2", 1, format_answer(code("2"))),
        ("Mbpp/1#2", 2, format_answer(code("2 + 1"))),
    ]
    assert {r.label for r in rows} == {LabelKind.RFT}


def test_the_verifier_scores_each_distinct_final_code_once_on_the_turn_one_prompt():
    twin = play("Mbpp/1", 7, [(code("1 + 1"), FAIL)], 1)  # the same final code as sample 1
    scorer = TableScorer({})
    build_examples(RelabelConfig(), sourced([SOLVED, *FAILED, twin]), scorer)
    ((prompts, codes),) = scorer.calls
    assert sorted(codes) == sorted({code("x"), code("1 + 1"), code("2 + 1"), code("3 + 1")})
    assert set(prompts) == {SOLVED.messages[0].content}
    (pool,) = expert_pools(sourced([*FAILED, twin]), Beta(1.0, 0.0), None)
    assert [len(c.origins) for c in pool.candidates] == [2, 1, 1]


def test_sandbox_failures_are_neither_candidates_nor_rows(tmp_path):
    broken = play("Mbpp/1", 5, [(code("x"), INFRA)])
    write_jsonl(tmp_path / TRAJECTORIES, [t.to_dict() for t in (broken, *FAILED)])
    summary = build_dataset(RelabelConfig(method="ov"), [tmp_path], None, tmp_path / "out")
    assert summary["sources"][0]["infra_error"] == 1
    assert summary["unsolved"] == 1 and summary["rows_by_label"]["unsolved"] == 6
    assert all(r.state.trajectory != broken.key for r in read_examples(tmp_path / "out"))


def test_targets_name_the_turn_that_wrote_them():
    third_try = play("Mbpp/1", 4, [(code("0"), FAIL), (code("1"), FAIL), (code("x"), PASS)])
    rows, _ = build_examples(RelabelConfig(method="ov"), sourced([third_try, *FAILED]))
    own = rows_of(rows, third_try)
    assert [r.state.turn for r in own] == [1, 2, 3]
    assert {(r.target, r.target_from.turn) for r in own} == {(format_answer(code("x")), 3)}
    first_try = play("Mbpp/1", 5, [(code("x * 1"), PASS)])
    (row,) = build_examples(RelabelConfig(method="star"), sourced([first_try]))[0]
    assert (row.target_from.trajectory, row.target_from.turn) == (first_try.key, 1)


def test_y_star_is_taken_from_the_first_trajectory_that_wrote_it():
    later = play("Mbpp/1", 4, [(code("x"), FAIL)], 1)  # the same code judged failed: flaky
    rows, _ = build_examples(RelabelConfig(method="ov"), sourced([SOLVED, later, *FAILED]))
    relabelled = [r for r in rows if r.label is LabelKind.RELABELLED]
    assert relabelled and {(r.target_from.trajectory, r.target_from.turn) for r in relabelled} == {
        (SOLVED.key, 2)
    }
    assert all(r.scores.oracle for r in relabelled)


def test_a_state_whose_own_answer_had_no_code_is_skipped_and_the_next_kept():
    late = play("Mbpp/1", 4, [("", FAIL), (code("x"), PASS)])
    rows, _ = build_examples(RelabelConfig(method="multi-star"), sourced([late]))
    assert [(r.state.turn, r.target) for r in rows] == [(2, format_answer(code("x")))]


def test_dropping_unsolved_rows_keeps_the_others():
    trajectories = sourced([SOLVED, *FAILED])
    kept, _ = build_examples(RelabelConfig(method="ov"), trajectories)
    dropped, _ = build_examples(RelabelConfig(method="ov", keep_unsolved=False), trajectories)
    assert dropped == kept and len(kept) == 8


def test_the_summary_counts_problems_expert_choices_and_own_targets_by_hand():
    """Four problems: one solved, two unsolved, one whose answers had no code."""
    solved = [play("Mbpp/1", 2, [(code("0"), FAIL), (code("x"), PASS)]),
              play("Mbpp/1", 1, [(code("1"), FAIL)], 1),
              play("Mbpp/1", 3, [(code("3"), FAIL), (code("3 + 1"), FAIL)], 2)]  # fmt: skip
    unsolved = [play(task, 0, [(code("7"), FAIL)], 1) for task in ("Mbpp/2", "Mbpp/3")]
    no_code = play("Mbpp/4", 0, [("", FAIL)], 1)
    trajectories = sourced([*solved, *unsolved, no_code])
    config = RelabelConfig(method="ov")
    rows, pools = build_examples(config, trajectories)
    summary = summarize(config, pools, rows)
    assert (summary["problems"], summary["solved"], summary["unsolved"]) == (4, 1, 3)
    assert (summary["expert_incorrect"], summary["expert_overruled_oracle"]) == (2, 0)
    # own: sample 2's 2 states; relabelled: sample 1's 1 and sample 3's 2 (targets from
    # sample 2); unsolved: problems 2 and 3, each on its only trajectory's own code
    assert summary["rows_by_label"] == {"relabelled": 3, "own": 2, "unsolved": 2, "rft": 0}
    assert summary["rows_with_own_target"] == 2 + 2
    lv = RelabelConfig(method="lv")
    scorer = TableScorer({code("1"): 9.0})  # prefers a failed code of the solved problem
    rows, pools = build_examples(lv, trajectories, scorer)
    summary = summarize(lv, pools, rows)
    assert (summary["expert_incorrect"], summary["expert_overruled_oracle"]) == (3, 1)
    star = RelabelConfig(method="star")
    rows, pools = build_examples(star, trajectories)
    summary = summarize(star, pools, rows)
    assert summary["expert_incorrect"] is summary["expert_overruled_oracle"] is None


def test_method_settings_are_filled_and_conflicts_refused():
    assert RelabelConfig().beta == Beta(1.0, 0.1) and RelabelConfig().k == 3
    assert RelabelConfig(method="ov").beta == Beta(1.0, 0.0)
    assert RelabelConfig(method="mucode-reference").beta == Beta(1.0, 0.01)
    assert RelabelConfig(method="mucode-reference").pool == "iteration"
    star = RelabelConfig(method="star")
    assert star.beta is None and not star.needs_verifier and star.k is None
    with pytest.raises(ValidationError, match="fixes beta_verifier"):
        RelabelConfig(method="ov", beta_verifier=0.5)
    with pytest.raises(ValidationError, match="takes no k"):
        RelabelConfig(method="star", k=2)
    with pytest.raises(ValidationError, match="both 0"):
        RelabelConfig(beta_oracle=0, beta_verifier=0)
    with pytest.raises(ValidationError, match="Extra inputs"):
        RelabelConfig(beta=1.0)
    recorded = RelabelConfig(method="mucode-reference").model_dump(mode="json")
    assert RelabelConfig.model_validate(recorded) == RelabelConfig(method="mucode-reference")


@pytest.mark.parametrize(
    ("method", "given", "beta", "resolved"),
    [
        ("mucode", {}, Beta(1.0, 0.1), {"k": 3, "pool": "all", "iteration": 0}),
        ("mucode", {"beta_verifier": 1.0, "k": 1}, Beta(1.0, 1.0), {"k": 1}),  # equal weights
        ("mucode", {"pool": "iteration"}, Beta(1.0, 0.1), {"pool": "iteration"}),
        ("lv", {"beta_verifier": 0.5}, Beta(0.0, 0.5), {}),
        ("ov", {"beta_verifier": 0.0}, Beta(1.0, 0.0), {}),  # a fixed setting at its own value
        ("ov", {"beta_oracle": 2.0}, Beta(2.0, 0.0), {}),
        ("mucode-reference", {"beta_oracle": 1.0, "beta_verifier": 0.01}, Beta(1.0, 0.01), {}),
        ("mucode-reference", {"pool": "iteration"}, Beta(1.0, 0.01), {"pool": "iteration"}),
        ("rft-lv", {}, Beta(0.0, 1.0), {"rft_target": "next", "k": 3}),
        ("rft-lv", {"beta_verifier": 0.5, "rft_target": "final"}, Beta(0.0, 0.5), {}),
        ("multi-star", {"rft_target": "final"}, None, {"rft_target": "final", "k": None}),
        ("multi-star-reference", {"rft_target": "final"}, None, {"rft_target": "final"}),
    ],
)
def test_a_method_fills_its_settings_and_lets_the_free_ones_be_changed(
    method, given, beta, resolved
):
    config = RelabelConfig(method=method, **given)
    assert config.beta == beta
    assert {name: getattr(config, name) for name in resolved} == resolved


@pytest.mark.parametrize(
    ("method", "given", "message"),
    [
        ("lv", {"beta_oracle": 1.0}, "fixes beta_oracle"),
        ("rft-lv", {"beta_oracle": 1.0}, "fixes beta_oracle"),
        ("mucode-reference", {"beta_oracle": 2.0}, "fixes beta_oracle"),
        ("mucode-reference", {"beta_verifier": 0.001}, "fixes beta_verifier"),  # below it too
        ("mucode-reference", {"pool": "all"}, "fixes pool"),
        ("multi-star-reference", {"rft_target": "next"}, "fixes rft_target"),
        ("mucode", {"beta_oracle": -0.5}, "greater than or equal to 0"),
        ("mucode", {"beta_verifier": -0.5}, "greater than or equal to 0"),
        ("mucode", {"k": 0}, "greater than or equal to 1"),
        ("mucode", {"iteration": -1}, "greater than or equal to 0"),
        ("bogus", {}, "Input should be 'mucode', 'ov'"),  # the field names the choices
    ],
)
def test_a_setting_a_method_fixes_or_an_out_of_range_value_is_refused(method, given, message):
    with pytest.raises(ValidationError, match=message):
        RelabelConfig(method=method, **given)


@pytest.mark.parametrize("method", list(Method))
def test_a_config_read_back_from_its_json_is_the_same_config(method):
    """As the manifest check reads it when a build runs again into its directory."""
    config = RelabelConfig(method=method)
    assert RelabelConfig.model_validate_json(config.model_dump_json()) == config


def test_a_build_run_again_into_its_directory_passes_the_settings_check(tmp_path):
    rollout = write_rollout(tmp_path / "r0", [SOLVED, *FAILED])
    config = RelabelConfig(method="ov")
    first = build_dataset(config, [rollout], None, tmp_path / "d")
    assert build_dataset(config, [rollout], None, tmp_path / "d")["rows"] == first["rows"] == 8


def test_a_method_that_weighs_the_verifier_needs_one():
    with pytest.raises(ConfigError, match="--beta-verifier 0"):
        build_examples(RelabelConfig(), sourced([SOLVED]))
    with pytest.raises(ConfigError, match="--verifier DIR"):
        build_examples(RelabelConfig(method="rft-lv"), sourced([SOLVED]))


def test_rollout_sources_name_their_iteration():
    assert RolloutSource.parse("runs/a@2") == RolloutSource(Path("runs/a"), 2)
    assert RolloutSource.parse("runs/a").iteration == 0


def write_rollout(path, trajectories):
    path.mkdir(parents=True)
    write_jsonl(path / TRAJECTORIES, [t.to_dict() for t in trajectories])
    return path


def test_cli_builds_an_oracle_only_dataset_with_its_summary_and_manifest(tmp_path):
    first = write_rollout(tmp_path / "r0", [SOLVED, *FAILED])
    later = write_rollout(tmp_path / "r1", [play("Mbpp/1", 0, [(code("9"), FAIL)], 1)])
    out = tmp_path / "data"
    args = [str(first), f"{later}@1", "--beta-verifier", "0", "--k", "4", "--iteration", "1"]
    result = CliRunner().invoke(app, ["relabel", *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "relabel: mucode" in result.output and "rows" in result.output
    rows = read_examples(out)
    summary = read_summary(out)
    assert len(rows) == summary["rows"] == 2 + 3 * 2 + 1
    assert summary["rows_by_label"] == {"relabelled": 7, "own": 2, "unsolved": 0, "rft": 0}
    assert summary["rows_by_state_iteration"] == {"0": 8, "1": 1}
    assert summary["rows_by_target_iteration"] == {"0": 9}
    assert summary["config"]["beta_verifier"] == 0 and summary["verifier"] is None
    assert {r.iteration for r in rows} == {1}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["k"] == 4
    assert [s["iteration"] for s in manifest["inputs"]["rollouts"]] == [0, 1]


def run_main(monkeypatch, capsys, *argv: str) -> str:
    monkeypatch.setattr(sys, "argv", ["mucode", "relabel", *argv])
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 2
    return capsys.readouterr().err


def test_cli_errors_say_what_to_do(monkeypatch, capsys, tmp_path):
    rollout = write_rollout(tmp_path / "r0", [SOLVED])
    err = run_main(monkeypatch, capsys, str(rollout), "--out", str(tmp_path / "d"))
    assert "--verifier DIR" in err and "--beta-verifier 0" in err
    err = run_main(monkeypatch, capsys, str(tmp_path / "nowhere"), "--method", "ov",
                   "--out", str(tmp_path / "d"))  # fmt: skip
    assert "no such directory" in err
    write_rollout(tmp_path / "empty", [])
    err = run_main(monkeypatch, capsys, str(tmp_path / "empty"), "--method", "star",
                   "--out", str(tmp_path / "d"))  # fmt: skip
    assert "no usable trajectories" in err
    err = run_main(monkeypatch, capsys, str(rollout), "--method", "ov", "--beta-verifier", "1",
                   "--out", str(tmp_path / "d"))  # fmt: skip
    assert "fixes beta_verifier" in err
    assert not (tmp_path / "d").exists()


def test_a_conversation_without_its_feedback_is_refused(tmp_path):
    cut = Trajectory("Mbpp/1", "mbpp", "train", 0, SOLVED.messages[:1], SOLVED.turns)
    rollout = write_rollout(tmp_path / "r0", [cut])
    with pytest.raises(DatasetError, match="expected the prompt, then each answer"):
        build_dataset(RelabelConfig(method="ov"), [rollout], None, tmp_path / "d")


def test_cli_with_a_tiny_verifier_scores_the_candidates_and_relabels_with_its_best(tmp_path):
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from mucode.verifier.model import Verifier, load_tokenizer, prepare_model
    from tests.tiny_models import save_tiny_qwen2

    backbone = save_tiny_qwen2(tmp_path / "backbone")
    tokenizer = load_tokenizer(str(backbone))
    classifier = transformers.AutoModelForSequenceClassification
    model = classifier.from_pretrained(str(backbone), num_labels=1)
    verifier_dir = tmp_path / "verifier"
    Verifier(prepare_model(model, tokenizer), tokenizer, 64, {"max_length": 64}).save(verifier_dir)
    rollout = write_rollout(tmp_path / "r0", FAILED)
    out = tmp_path / "data"
    result = CliRunner().invoke(app, ["relabel", str(rollout), "--method", "lv", "--verifier",
                                      str(verifier_dir), "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output

    finals = [t.turns[-1].code for t in FAILED]
    direct = Verifier.load(verifier_dir, device="cpu").score_texts(
        [FAILED[0].messages[0].content] * 3, finals
    )
    best = finals[max(range(3), key=direct.__getitem__)]
    rows = read_examples(out)
    assert {r.target for r in rows} == {format_answer(best)}
    assert rows[0].scores.verifier == pytest.approx(max(direct), abs=1e-5)
    assert read_summary(out)["verifier"] == str(verifier_dir)
