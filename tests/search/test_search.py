"""Multi-turn Best-of-N with scripted candidates and the real sandbox: stopping rules,
hidden tests that never steer, repeat seeding, resuming, and the summary."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from mucode.benchmarks import load_problems
from mucode.core.errors import ConfigError, ContextFull, SandboxError
from mucode.core.records import Status
from mucode.env import INFRA_RETRIES
from mucode.generation import SamplingParams, ScriptedGenerator
from mucode.sandbox import Limits, Sandbox
from mucode.search.metrics import summarize
from mucode.search.run import SEARCHES, SearchConfig, Searcher, read_searches
from mucode.search.selectors import Selection
from tests.fidelity import BASE, SLOW_CODE, FlakySandbox, answer, slow_problem

SHORTCUT = "```python\ndef add(x, y):\n    return 5\n```"  # passes the public test only
WRONG = "```python\ndef add(x, y):\n    return x - y\n```"
RIGHT = "```python\ndef add(x, y):\n    return x + y\n```"
CANDIDATES = [WRONG, SHORTCUT, RIGHT, "no code here"]


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(workers=2, limits=Limits(timeout_s=5)) as sb:
        yield sb


@pytest.fixture(scope="module")
def add_problem():
    """HumanEval/53, `add(x, y)`, with its public test set to `add(2, 3) == 5`."""
    problem = load_problems("humaneval", task_ids=["HumanEval/53"])[0]
    return dataclasses.replace(problem, public_tests=("assert add(2, 3) == 5",))


def scripted():
    return ScriptedGenerator(lambda conversation, i: CANDIDATES[i])


def scores_by_text(problem, codes):
    """A verifier that likes the shortcut most, then the wrong one, then the right one."""
    return [{"5": 0.9, "x - y": 0.5, "x + y": 0.1}.get(_body(c), -1.0) for c in codes]


def _body(code):
    return code.strip().splitlines()[-1].strip().removeprefix("return ") if code else ""


def search(select, sandbox, problem, scorer=None, turns=3, repeats=1, seed=0, generator=None):
    config = SearchConfig(select=select, n=4, turns=turns, repeats=repeats, concurrency=2,
                          sampling=SamplingParams(temperature=0.7, seed=seed))  # fmt: skip
    searcher = Searcher(generator or scripted(), sandbox, config, scorer)
    return searcher, [searcher.search(problem, r) for r in range(repeats)]


def test_pt_lv_stops_on_a_public_pass_even_when_hidden_tests_fail(sandbox, add_problem):
    _, (episode,) = search(Selection.PT_LV, sandbox, add_problem, scores_by_text)
    (turn,) = episode.turns  # the shortcut passes the public test: the search stops
    assert turn.selected == 1 and turn.kept.public.passed and not turn.kept.oracle.passed
    assert turn.scores == (0.5, 0.9, 0.1, -1.0)
    assert turn.candidates[3].code == "" and not turn.candidates[3].public.passed


def test_candidates_are_judged_on_the_block_that_defines_the_entry_point(sandbox, add_problem):
    helper_first = "```python\ndef sub(x, y):\n    return x - y\n```\nand\n" + RIGHT
    generator = ScriptedGenerator(lambda conversation, i: helper_first)
    _, (episode,) = search(Selection.PT, sandbox, add_problem, turns=1, generator=generator)
    kept = episode.turns[0].kept
    assert kept.code == "def add(x, y):\n    return x + y" and kept.oracle.passed


def test_lv_keeps_going_until_the_last_turn_when_its_pick_fails(sandbox, add_problem):
    def prefers_wrong(problem, codes):
        return [1.0 if "x - y" in c else 0.0 for c in codes]

    generator = scripted()
    _, (episode,) = search(Selection.LV, sandbox, add_problem, prefers_wrong, turns=3,
                           generator=generator)  # fmt: skip
    assert [t.selected for t in episode.turns] == [0, 0, 0]
    feedback = [m.content for m in episode.messages if m.role == "user"][1:]
    assert len(feedback) == 2 and all(f.startswith("Feedback: ") for f in feedback)
    hidden = [t for t in add_problem.private_tests]
    for request in generator.requests:  # hidden tests never reach a prompt
        for message in request:
            assert not any(h.strip() in message.content for h in hidden if h.strip())


def test_the_oracle_selection_finds_the_right_code(sandbox, add_problem):
    _, (episode,) = search(Selection.OV, sandbox, add_problem)
    assert episode.turns[0].selected == 2 and episode.turns[0].kept.oracle.passed


def test_public_tests_keep_the_candidate_that_passed_most_of_mbpp_trains_three(
    sandbox, shared_data_dir
):
    """MBPP train shows all three asserts (bell_Number(2) == 2, (3) == 5, (4) == 15), so
    candidates pass 0, 1 or 2 of them; pt keeps the one that passed most."""
    (problem,) = load_problems("mbpp", split="train", data_dir=shared_data_dir,
                               task_ids=["Mbpp/608"])  # fmt: skip
    bodies = ["return 0", "return n", "return {2: 2, 3: 5}.get(n, 0)"]  # 0, 1, 2 passed
    answers = [f"```python\ndef bell_Number(n):\n    {body}\n```" for body in bodies]
    generator = ScriptedGenerator(lambda _conversation, i: answers[i])
    config = SearchConfig(select=Selection.PT, n=3, turns=2, repeats=3)
    searcher = Searcher(generator, sandbox, config)
    for episode in [searcher.search(problem, r) for r in range(3)]:
        for turn in episode.turns:
            assert [c.public.tests_passed for c in turn.candidates] == [0, 1, 2]
            assert not any(c.public.passed for c in turn.candidates)
            assert turn.selected == 2


def test_rules_that_need_a_verifier_refuse_to_start_without_one(sandbox, add_problem):
    with pytest.raises(ConfigError, match="needs a verifier"):
        search(Selection.PT_LV, sandbox, add_problem)


def test_the_same_seed_gives_the_same_searches(sandbox, add_problem):
    _, first = search(Selection.RAND, sandbox, add_problem, repeats=4, seed=11)
    _, again = search(Selection.RAND, sandbox, add_problem, repeats=4, seed=11)
    _, other = search(Selection.RAND, sandbox, add_problem, repeats=4, seed=12)
    picked = [[t.selected for t in e.turns] for e in first]
    assert picked == [[t.selected for t in e.turns] for e in again]
    assert picked != [[t.selected for t in e.turns] for e in other]


def test_a_resumed_run_searches_again_where_the_sandbox_failed(sandbox, add_problem, tmp_path):
    config = SearchConfig(select=Selection.PT, n=4, turns=2, repeats=2, concurrency=1)
    flaky = FlakySandbox(sandbox, "x - y", failures=100)
    path = Searcher(scripted(), flaky, config).run([add_problem], tmp_path)
    assert [e.infra_error for e in read_searches(path)] == [True, True]
    path.write_text(path.read_text().splitlines(keepends=True)[0])  # killed before repeat 1
    generator = scripted()
    Searcher(generator, sandbox, config).run([add_problem], tmp_path)
    episodes = {e.key: e for e in read_searches(path)}
    assert len(generator.requests) == 2  # each repeat's first turn: both pass the public tests
    assert sorted(episodes) == ["HumanEval/53#0", "HumanEval/53#1"]
    assert not any(e.infra_error for e in episodes.values())
    (aside,) = read_searches(tmp_path / "searches.infra_error.jsonl")
    assert aside.infra_error and aside.key == "HumanEval/53#0"


def test_a_run_resumes_and_summarises(sandbox, add_problem, tmp_path):
    config = SearchConfig(select=Selection.PT, n=4, turns=2, repeats=3, concurrency=2)
    searcher = Searcher(scripted(), sandbox, config)
    path = searcher.run([add_problem], tmp_path)
    assert path == tmp_path / SEARCHES
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:2]) + "\n" + lines[2][:30])  # killed mid-write
    generator = scripted()
    Searcher(generator, sandbox, config).run([add_problem], tmp_path)
    episodes = read_searches(path)
    assert sorted(e.key for e in episodes) == [f"HumanEval/53#{r}" for r in range(3)]
    assert len(generator.requests) == 1  # only the torn search ran again
    summary = summarize(episodes, turns=2, n=4)
    # pt keeps the shortcut or the right code at random; both pass public, so one turn each
    solved = [e.turns[0].kept.oracle.passed for e in episodes]
    assert summary.accuracy_by_turn[0].mean == pytest.approx(sum(solved) / 3)
    assert summary.accuracy_by_turn[1] == summary.accuracy_by_turn[0]
    # first-turn candidates over all repeats: 12 samples, 3 correct
    assert summary.pass_at_k[1] == pytest.approx(0.25)
    assert summary.pass_at_k[4] == pytest.approx(1 - 126 / 495)  # 1 - C(9,4)/C(12,4)
    assert summary.pass_at_k[12] == 1.0 and summary.public_pass_rate == 1.0


def never_fits(_conversation, _i):
    raise ContextFull("request exceeds the available context size")


def test_a_search_that_outgrows_the_context_ends_and_still_counts(sandbox, add_problem):
    def wrong_until_full(conversation, _i):
        if sum(m.role == "assistant" for m in conversation) >= 2:
            raise ContextFull("request exceeds the available context size")
        return WRONG

    _, (full,) = search(Selection.RAND, sandbox, add_problem,
                        generator=ScriptedGenerator(wrong_until_full))  # fmt: skip
    assert full.context_full and len(full.turns) == 2
    assert full.kept_path().context_full
    _, (empty,) = search(Selection.RAND, sandbox, add_problem,
                         generator=ScriptedGenerator(never_fits))  # fmt: skip
    assert empty.context_full and empty.turns == ()
    summary = summarize([full, dataclasses.replace(empty, repeat=1)], turns=3, n=4)
    assert [a.mean for a in summary.accuracy_by_turn] == [0.0, 0.0, 0.0]
    assert summary.pass_at_k[1] == 0.0 and summary.public_pass_rate == 0.0
    assert summary.context_full == 2


def test_a_calibrated_problem_is_searched_under_its_reference_relative_limit(monkeypatch,
                                                                            tmp_path):  # fmt: skip
    monkeypatch.setenv("MUCODE_CACHE_DIR", str(tmp_path / "cache"))
    calibrated, flat = slow_problem(), dataclasses.replace(slow_problem("mbpp"), task_id="Mbpp/2")
    config = SearchConfig(select=Selection.PT, n=1, turns=1, concurrency=2)
    with Sandbox(workers=2, limits=BASE) as sandbox:
        searcher = Searcher(ScriptedGenerator(lambda _c, _i: answer(SLOW_CODE)), sandbox, config)
        path = searcher.run([calibrated, flat], tmp_path)
    kept = {e.task_id: e.turns[0].kept for e in read_searches(path)}
    assert kept[calibrated.task_id].public.passed and kept[calibrated.task_id].oracle.passed
    assert kept[flat.task_id].public.status is Status.TIMEOUT  # mbpp keeps the base limit


def test_an_infra_error_is_retried_and_then_judged_as_usual(sandbox, add_problem):
    flaky = FlakySandbox(sandbox, "x - y", failures=INFRA_RETRIES)  # the last retry runs it
    _, (episode,) = search(Selection.PT, flaky, add_problem)
    assert not episode.infra_error
    assert episode.turns[0].candidates[0].public.status is Status.FAILED
    assert list(flaky.runs.values()) == [INFRA_RETRIES + 1] * 2  # public and oracle jobs


def test_a_persisting_infra_error_ends_the_search_unselected_and_uncounted(sandbox, add_problem,
                                                                           caplog):  # fmt: skip
    flaky = FlakySandbox(sandbox, "x - y", failures=INFRA_RETRIES + 1)
    generator = scripted()
    with caplog.at_level(logging.WARNING, logger="mucode.search.run"):
        _, (broken,) = search(Selection.PT, flaky, add_problem, generator=generator)
    assert broken.infra_error and broken.turns == ()  # no candidate was ranked
    assert [m.role for m in broken.messages] == ["user"] and len(generator.requests) == 1
    assert "injected" in caplog.text and "left out of the accuracies" in caplog.text
    assert broken.kept_path().infra_error
    _, (judged,) = search(Selection.OV, sandbox, add_problem)
    summary = summarize([broken, dataclasses.replace(judged, repeat=1)], turns=3, n=4)
    assert summary.infra_error == 1 and summary.repeats == 1
    assert [a.mean for a in summary.accuracy_by_turn] == [1.0, 1.0, 1.0]  # not 0.5
    assert summary.pass_at_k[1] == pytest.approx(0.25)  # the judged search's candidates only
    with pytest.raises(SandboxError, match="failed on all 1 searches"):
        summarize([broken], turns=3, n=4)
