"""Multi-turn rollouts with a scripted generator and the real sandbox."""

from __future__ import annotations

import dataclasses
import json

import pytest

from mucode.benchmarks import format_prompt, load_problems
from mucode.core.errors import ContextFull
from mucode.core.records import Completion, Status
from mucode.env import FEEDBACK_PREFIX, INFRA_RETRIES, NO_CODE_FEEDBACK, Episode
from mucode.generation import SamplingParams, ScriptedGenerator
from mucode.rollout import (
    TRAJECTORIES,
    RolloutConfig,
    StepStats,
    read_trajectories,
    run_rollouts,
    step,
)
from mucode.sandbox import Limits, Sandbox
from mucode.verifier.data import load_problem_codes
from tests.fidelity import BASE, SLOW_CODE, FlakySandbox, answer, slow_problem

WRONG = "```python\ndef add(a, b):\n    return a - b\n```"
RIGHT = "```python\ndef add(a, b):\n    return a + b\n```"


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(workers=2, limits=Limits(timeout_s=5)) as sb:
        yield sb


@pytest.fixture
def add_problem():
    """HumanEval/53 is `add(x, y)`; public test from its docstring."""
    problem = load_problems("humaneval", task_ids=["HumanEval/53"])[0]
    assert problem.entry_point == "add"
    return problem


def test_wrong_then_right_after_feedback(sandbox, add_problem, tmp_path):
    generator = ScriptedGenerator.by_turn([WRONG, RIGHT])
    summary = run_rollouts([add_problem], generator, sandbox, RolloutConfig(turns=3), tmp_path)
    (trajectory,) = read_trajectories(summary.path)
    assert [t.public.status for t in trajectory.turns] == [Status.FAILED, Status.PASSED]
    assert trajectory.solved and summary.solved_by_turn == (0.0, 1.0, 1.0)
    second_prompt = generator.requests[1][-1]
    assert second_prompt.role == "user" and second_prompt.content.startswith("Feedback: ")
    assert add_problem.public_tests[0].strip() in second_prompt.content


def test_no_code_gets_a_clear_failure_and_no_empty_program(sandbox, add_problem, tmp_path):
    generator = ScriptedGenerator.by_turn(["I would add the numbers.", RIGHT])
    summary = run_rollouts([add_problem], generator, sandbox, RolloutConfig(turns=2), tmp_path)
    (trajectory,) = read_trajectories(summary.path)
    first = trajectory.turns[0]
    assert first.code == "" and first.public.feedback == NO_CODE_FEEDBACK
    assert generator.requests[1][-1].content.endswith(NO_CODE_FEEDBACK)
    assert trajectory.turns[1].oracle.passed


def test_block_cut_at_the_token_limit_keeps_its_code(sandbox, add_problem, tmp_path):
    cut = Completion("```python\ndef add(a, b):\n    return a + b\n", "length", 10, 1000)
    generator = ScriptedGenerator.by_turn([cut])
    summary = run_rollouts([add_problem], generator, sandbox, RolloutConfig(turns=2), tmp_path)
    (trajectory,) = read_trajectories(summary.path)
    assert trajectory.turns[0].completion.truncated
    assert trajectory.turns[0].public.passed and len(trajectory.turns) == 1


def test_the_block_that_defines_the_entry_point_is_the_one_judged(sandbox, add_problem, tmp_path):
    helper_first = "```python\ndef sub(a, b):\n    return a - b\n```\nand\n" + RIGHT
    generator = ScriptedGenerator.by_turn([helper_first])
    summary = run_rollouts([add_problem], generator, sandbox, RolloutConfig(turns=2), tmp_path)
    (trajectory,) = read_trajectories(summary.path)
    assert trajectory.turns[0].code == "def add(a, b):\n    return a + b"
    assert trajectory.turns[0].oracle.passed


def fills_the_context_after(turns: int):
    """A script that answers WRONG until the conversation holds ``turns`` answers, then
    behaves like an engine whose context window the conversation has outgrown."""

    def script(conversation, _sample):
        if sum(m.role == "assistant" for m in conversation) >= turns:
            raise ContextFull("request (5000 tokens) exceeds the available context size")
        return WRONG

    return script


def test_an_episode_that_outgrows_the_context_ends_and_is_kept(sandbox, add_problem, tmp_path):
    generator = ScriptedGenerator(fills_the_context_after(2))
    summary = run_rollouts([add_problem], generator, sandbox, RolloutConfig(turns=3), tmp_path)
    (trajectory,) = read_trajectories(summary.path)
    assert trajectory.context_full and len(trajectory.turns) == 2
    assert trajectory.messages[-1].content.startswith("Feedback: ")  # asked, never answered
    assert summary.solved_by_turn == (0.0, 0.0, 0.0) and summary.context_full == 1


def test_a_prompt_that_never_fits_gives_an_unsolved_trajectory(sandbox, add_problem, tmp_path):
    generator = ScriptedGenerator(fills_the_context_after(0))
    summary = run_rollouts([add_problem], generator, sandbox, RolloutConfig(turns=3), tmp_path)
    (trajectory,) = read_trajectories(summary.path)
    assert trajectory.context_full and trajectory.turns == ()
    assert not trajectory.solved and summary.solved_by_turn == (0.0, 0.0, 0.0)


def test_lockstep_steps_end_only_the_episode_that_outgrew_the_context(sandbox, add_problem):
    def script(conversation, _sample):
        if "Feedback" in conversation[-1].content and "long" in conversation[0].content:
            raise ContextFull("too long")
        return WRONG

    long_problem = dataclasses.replace(add_problem, prompt=add_problem.prompt + "# long\n")
    episodes = [Episode(long_problem, 0, 3), Episode(add_problem, 0, 3)]
    while not all(e.done for e in episodes):
        step(episodes, ScriptedGenerator(script), sandbox, SamplingParams(), StepStats())
    assert [e.context_full for e in episodes] == [True, False]
    assert [len(e.turns) for e in episodes] == [1, 3]


def test_hidden_tests_never_reach_a_prompt_or_stop_an_episode(sandbox, tmp_path):
    problem = load_problems("humaneval", task_ids=["HumanEval/53"])[0]
    # fails the docstring example with another wrong value on every run, so its public and
    # oracle runs give different feedback
    guess = "```python\nimport random\n\ndef add(x, y):\n    return random.randrange(10**12)\n```"
    # passes the docstring example (add(2, 3) == 5) but not the hidden random tests
    only_public = "```python\ndef add(x, y):\n    return 5 if (x, y) == (2, 3) else 0\n```"
    generator = ScriptedGenerator.by_turn([guess, only_public, RIGHT])
    summary = run_rollouts([problem], generator, sandbox, RolloutConfig(turns=3), tmp_path)
    (trajectory,) = read_trajectories(summary.path)
    first, second = trajectory.turns  # stopped on the public pass
    assert second.public.passed and not second.oracle.passed
    assert first.oracle.feedback != first.public.feedback  # else the checks below are vacuous
    assert generator.requests[1][-1].content == FEEDBACK_PREFIX + first.public.feedback
    hidden = [line.strip() for test in problem.private_tests for line in test.splitlines()
              if line.strip().startswith("assert")]  # fmt: skip
    assert "assert candidate(0, 1) == 1" in hidden
    shown = [m.content for m in trajectory.messages]
    for text in shown + [m.content for request in generator.requests for m in request]:
        assert first.oracle.feedback not in text and second.oracle.feedback not in text
        assert not any(line in text for line in hidden)


@pytest.mark.parametrize("torn_at", [40, -1], ids=["mid-record", "before-newline"])
def test_resume_after_a_kill_loses_and_duplicates_nothing(sandbox, tmp_path, torn_at):
    problems = load_problems("humaneval")[:3]
    config = RolloutConfig(turns=2, samples=2)
    first = ScriptedGenerator.by_turn(["no code here"])
    run_rollouts(problems, first, sandbox, config, tmp_path)
    path = tmp_path / TRAJECTORIES
    lines = path.read_text().splitlines(keepends=True)
    assert len(lines) == 6
    # a kill mid-write: two whole lines survive, the third is torn (at worst, just its newline)
    path.write_text("".join(lines[:2]) + lines[2][:torn_at])
    second = ScriptedGenerator.by_turn(["still no code"])
    summary = run_rollouts(problems, second, sandbox, config, tmp_path)
    keys = [json.loads(line)["task_id"] + f"#{json.loads(line)['sample_index']}"
            for line in path.read_text().splitlines()]  # fmt: skip
    assert len(keys) == len(set(keys)) == 6
    assert summary.resumed == 2
    assert path.read_text().splitlines(keepends=True)[:2] == lines[:2]  # survivors untouched
    prompts = {p.task_id: format_prompt(p) for p in problems}
    resumed = read_trajectories(path)[2:]
    asked = [r[0].content for r in second.requests if len(r) == 1]
    assert sorted(asked) == sorted(prompts[t.task_id] for t in resumed)  # the 4 missing only
    assert len(second.requests) == 8  # each played out to its second turn
    assert [[t.completion.text for t in r.turns] for r in resumed] == [["still no code"] * 2] * 4


def test_a_calibrated_problem_runs_under_its_reference_relative_limit(monkeypatch, tmp_path):
    monkeypatch.setenv("MUCODE_CACHE_DIR", str(tmp_path / "cache"))
    calibrated, flat = slow_problem(), dataclasses.replace(slow_problem("mbpp"), task_id="Mbpp/2")
    generator = ScriptedGenerator.by_turn([answer(SLOW_CODE)])
    with Sandbox(workers=2, limits=BASE) as sandbox:
        run_rollouts([calibrated, flat], generator, sandbox,
                     RolloutConfig(turns=1, concurrency=2), tmp_path)  # fmt: skip
    turns = {t.task_id: t.turns[0] for t in read_trajectories(tmp_path / TRAJECTORIES)}
    assert turns[calibrated.task_id].public.passed and turns[calibrated.task_id].oracle.passed
    assert turns[flat.task_id].public.status is Status.TIMEOUT  # mbpp keeps the base limit


def test_an_infra_error_is_retried_and_never_reaches_the_model(sandbox, add_problem, tmp_path):
    flaky = FlakySandbox(sandbox, "a - b", failures=INFRA_RETRIES)  # the last retry runs it
    generator = ScriptedGenerator.by_turn([WRONG, RIGHT])
    summary = run_rollouts([add_problem], generator, flaky, RolloutConfig(turns=3), tmp_path)
    (trajectory,) = read_trajectories(summary.path)
    assert not trajectory.infra_error and summary.infra_error == 0
    assert [t.public.status for t in trajectory.turns] == [Status.FAILED, Status.PASSED]
    assert list(flaky.runs.values()) == [INFRA_RETRIES + 1] * 2  # public and oracle jobs
    assert add_problem.public_tests[0].strip() in generator.requests[1][-1].content
    assert all("injected" not in m.content for request in generator.requests for m in request)


def test_a_persisting_infra_error_ends_the_episode_unshown_and_uncounted(sandbox, add_problem,
                                                                         tmp_path):  # fmt: skip
    twin = dataclasses.replace(add_problem, task_id="HumanEval/53-twin",
                               prompt=add_problem.prompt + "# twin\n")  # fmt: skip
    flaky = FlakySandbox(sandbox, "a - b", failures=INFRA_RETRIES + 1)
    generator = ScriptedGenerator(lambda c, _i: RIGHT if "# twin" in c[0].content else WRONG)
    summary = run_rollouts([add_problem, twin], generator, flaky, RolloutConfig(turns=3), tmp_path)
    trajectories = {t.task_id: t for t in read_trajectories(summary.path)}
    broken = trajectories[add_problem.task_id]
    assert broken.infra_error and len(broken.turns) == 1
    assert broken.turns[0].oracle.status is Status.INFRA_ERROR
    assert [m.role for m in broken.messages] == ["user", "assistant"]  # no feedback turn
    assert all("injected" not in m.content for request in generator.requests for m in request)
    assert trajectories[twin.task_id].solved and not trajectories[twin.task_id].infra_error
    assert summary.infra_error == 1 and summary.solved_by_turn == (1.0, 1.0, 1.0)  # not 0.5
    labels = {p.key: p.codes for p in load_problem_codes([tmp_path])}
    assert labels[f"humaneval:{add_problem.task_id}"] == ()  # an unjudged code gets no label
    # resumed once the sandbox works: the unjudged episode runs again, the other one does not
    again = ScriptedGenerator.by_turn([WRONG, RIGHT])
    resumed = run_rollouts([add_problem, twin], again, sandbox, RolloutConfig(turns=3), tmp_path)
    trajectories = {t.task_id: t for t in read_trajectories(summary.path)}
    assert resumed.resumed == 1 and resumed.infra_error == 0 and len(trajectories) == 2
    assert [t.oracle.status for t in trajectories[add_problem.task_id].turns] == [
        Status.FAILED, Status.PASSED]  # fmt: skip
    assert again.requests and all("# twin" not in r[0].content for r in again.requests)
    (kept,) = read_trajectories(tmp_path / "trajectories.infra_error.jsonl")
    assert kept.infra_error and kept.task_id == add_problem.task_id
