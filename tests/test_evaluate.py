import dataclasses
import itertools
import json
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

import mucode.evaluation.evaluate as evaluate_module
from mucode.core.errors import ConfigError, DatasetError, SandboxError
from mucode.core.jsonl import stream_jsonl
from mucode.core.records import Problem, Status, Verdict
from mucode.evaluation.evaluate import (
    EvaluationConfig,
    EvaluationSummary,
    default_results_path,
    evaluate_reference,
    evaluate_samples,
    public_passed,
)
from mucode.sandbox import Limits

ADD = "def add(a, b):\n    return a + b\n"
SQUARE = "def square(x):\n    return x * x\n"


def _problem(task_id, entry_point, public, private, reference):
    return Problem(
        task_id=task_id,
        benchmark="mbpp",
        split="test",
        prompt=f"Write {entry_point}.",
        entry_point=entry_point,
        setup_code="",
        public_tests=public,
        private_tests=private,
        reference_solution=reference,
    )


TINY = [
    _problem(
        "Mbpp/1",
        "add",
        ("assert add(1, 2) == 3",),
        ("assert add(2, 2) == 4", "assert add(0, 0) == 0"),
        ADD,
    ),
    _problem("Mbpp/2", "square", ("assert square(3) == 9",), ("assert square(0) == 0",), SQUARE),
    _problem("Mbpp/3", "unused", ("assert unused() is None",), (), "def unused():\n    pass\n"),
]


@pytest.fixture
def tiny_benchmark(monkeypatch):
    """A three-problem 'mbpp' benchmark; the sandbox stays real."""

    def load(name, split=None, data_dir=None, task_ids=None):
        return list(TINY)

    monkeypatch.setattr(evaluate_module, "load_problems", load)


def _write_samples(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


SAMPLES = [
    {"task_id": "Mbpp/1", "code": ADD, "model": "m"},
    {"task_id": 1, "code": "def add(a, b):\n    return 3\n"},  # public passes, private fails
    {"task_id": "Mbpp/2", "completion": "def square(x):\n    return x + x\n"},  # 3+3 != 9
    {"task_id": "2", "completion": SQUARE},
]


def test_results_follow_input_order_with_verdict_fields(tmp_path, tiny_benchmark):
    path = _write_samples(tmp_path / "samples.jsonl", SAMPLES)
    config = EvaluationConfig(benchmark="mbpp", ks=(1, 2, 5), partial=True)
    summary = evaluate_samples(path, config)

    assert summary.results_path == tmp_path / "samples.jsonl_results.jsonl"
    results = [obj for _, obj in stream_jsonl(summary.results_path)]
    assert [r["task_id"] for r in results] == ["Mbpp/1", "Mbpp/1", "Mbpp/2", "Mbpp/2"]
    assert [r["completion_id"] for r in results] == [0, 1, 0, 1]
    assert [r["status"] for r in results] == ["passed", "failed", "failed", "passed"]
    assert [r["passed"] for r in results] == [True, False, False, True]
    assert [r["public_passed"] for r in results] == [True, True, False, True]
    assert [r["tests_passed"] for r in results] == [3, 1, 0, 2]
    assert [r["tests_total"] for r in results] == [3, 3, 2, 2]
    assert results[0]["model"] == "m"  # input fields are kept
    assert results[0]["code"] == ADD and results[2]["completion"].startswith("def square")
    assert all(r["duration_s"] >= 0 for r in results)
    # a failure's feedback names the test it failed (a private one for sample 1); a pass
    # names none
    assert "add(2, 2) == 4" in results[1]["feedback"]
    assert "square(3) == 9" in results[2]["feedback"]
    assert results[0]["feedback"] == results[3]["feedback"]
    assert not any(test in results[0]["feedback"] for test in ("add(", "square("))

    assert summary.pass_at_k == {1: pytest.approx(0.5), 2: pytest.approx(1.0)}
    assert (summary.n_tasks, summary.n_samples, summary.n_public_passed) == (2, 4, 3)
    assert summary.n_tasks_without_samples == 1
    assert summary.status_counts["passed"] == 2 and summary.status_counts["failed"] == 2
    assert summary.n_infra_errors == 0


def test_summary_json_keys(tmp_path, tiny_benchmark):
    path = _write_samples(tmp_path / "s.jsonl", SAMPLES)
    out = tmp_path / "new_dir" / "elsewhere.jsonl"
    config = EvaluationConfig(benchmark="mbpp", ks="1,2", partial=True)
    summary = evaluate_samples(path, config, output=out)
    data = summary.to_json_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["pass@1"] == pytest.approx(0.5) and data["pass@2"] == pytest.approx(1.0)
    assert "pass@5" not in data
    for key in (
        "benchmark",
        "split",
        "n_tasks",
        "n_samples",
        "n_public_passed",
        "n_infra_errors",
        "n_tasks_in_split",
        "partial",
        "status_counts",
        "results_path",
        "wall_s",
    ):
        assert key in data
    assert data["split"] == "test" and data["results_path"] == str(out)
    assert set(data["status_counts"]) == {s.value for s in Status}
    assert out.exists() and not default_results_path(path).exists()


def test_unknown_task_id_names_the_line(tmp_path, tiny_benchmark):
    path = _write_samples(tmp_path / "s.jsonl", [SAMPLES[0], {"task_id": "Mbpp/77", "code": ""}])
    with pytest.raises(DatasetError, match=r"s\.jsonl:2: task_id 'Mbpp/77'"):
        evaluate_samples(path, EvaluationConfig(benchmark="mbpp"))
    assert not default_results_path(path).exists()


def test_results_may_not_overwrite_the_samples(tmp_path, tiny_benchmark):
    path = _write_samples(tmp_path / "s.jsonl", SAMPLES)
    with pytest.raises(ConfigError, match="is the samples file"):
        evaluate_samples(path, EvaluationConfig(benchmark="mbpp"), output=path)


def test_tasks_without_samples_are_logged(tmp_path, tiny_benchmark, caplog):
    path = _write_samples(tmp_path / "s.jsonl", SAMPLES[:1])
    with caplog.at_level(logging.WARNING, logger="mucode.evaluation.evaluate"):
        config = EvaluationConfig(benchmark="mbpp", ks=(1, 10), partial=True)
        summary = evaluate_samples(path, config)
    assert "2 of 3 tasks have no samples" in caplog.text
    assert "k=10" in caplog.text  # one sample per task cannot give pass@10
    assert summary.pass_at_k == {1: 1.0}


def test_a_partial_file_is_judged_but_its_pass_at_k_withheld(tmp_path, tiny_benchmark):
    path = _write_samples(tmp_path / "s.jsonl", SAMPLES)  # Mbpp/3 has no samples
    summary = evaluate_samples(path, EvaluationConfig(benchmark="mbpp", ks=(1, 2)))
    assert summary.partial and summary.pass_at_k == {}
    assert (summary.n_tasks_in_split, summary.n_tasks_without_samples) == (3, 1)
    assert sum(1 for _ in stream_jsonl(summary.results_path)) == 4  # no work lost
    data = summary.to_json_dict()
    assert data["partial"] is True and data["n_tasks_in_split"] == 3
    assert not [key for key in data if key.startswith("pass@")]


def test_a_partial_file_gets_pass_at_k_on_request(tmp_path, tiny_benchmark):
    path = _write_samples(tmp_path / "s.jsonl", SAMPLES)
    config = EvaluationConfig(benchmark="mbpp", ks=(1, 2), partial=True)
    data = evaluate_samples(path, config).to_json_dict()
    assert data["partial"] is True and data["pass@1"] == pytest.approx(0.5)


def test_a_file_covering_the_split_is_not_partial(tmp_path, tiny_benchmark):
    rows = [*SAMPLES, {"task_id": "Mbpp/3", "code": "def unused():\n    pass\n"}]
    summary = evaluate_samples(_write_samples(tmp_path / "s.jsonl", rows),
                               EvaluationConfig(benchmark="mbpp", ks=(1,)))  # fmt: skip
    assert not summary.partial and summary.n_tasks_in_split == 3
    assert summary.pass_at_k == {1: pytest.approx((0.5 + 0.5 + 1) / 3)}


def test_progress_reports_every_sample(tmp_path, tiny_benchmark):
    path = _write_samples(tmp_path / "s.jsonl", SAMPLES)
    calls = []
    evaluate_samples(
        path, EvaluationConfig(benchmark="mbpp"), on_progress=lambda d, t: calls.append((d, t))
    )
    assert calls[0] == (0, 4)
    assert sorted(calls) == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]


def test_reference_mode_judges_reference_solutions(tmp_path, tiny_benchmark):
    out = tmp_path / "ref_results.jsonl"
    summary = evaluate_reference(EvaluationConfig(benchmark="mbpp", ks=(1,)), out)
    results = [obj for _, obj in stream_jsonl(out)]
    assert [r["task_id"] for r in results] == ["Mbpp/1", "Mbpp/2", "Mbpp/3"]
    assert all(r["passed"] and r["public_passed"] for r in results)
    assert results[0]["code"] == ADD
    assert summary.pass_at_k == {1: 1.0} and summary.n_tasks == 3
    assert not summary.partial and summary.to_json_dict()["partial"] is False


class _InfraFlakySandbox:
    """Passes every job except those whose program mentions INFRA (an infra_error) or FAIL
    (fails its first test) (unavoidable fake: the real sandbox cannot be made to fail on
    cue)."""

    def __init__(self, workers=None, limits=None):
        self.limits = limits or Limits()  # per-problem limits start from the sandbox's

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def run_many(self, jobs, on_result=None):
        verdicts = []
        for index, job in enumerate(jobs):
            n = len(job.tests)
            if "INFRA" in job.program:
                verdict = Verdict(Status.INFRA_ERROR, "worker lost", 0.0, 0, n)
            elif "FAIL" in job.program:
                verdict = Verdict(Status.FAILED, "wrong", 0.01, 0, n)
            else:
                verdict = Verdict(Status.PASSED, "", 0.01, n, n)
            if on_result is not None:
                on_result(index, verdict)
            verdicts.append(verdict)
        return verdicts


@pytest.fixture
def flaky_sandbox(monkeypatch):
    def open_sandbox(workers, limits, _ray):
        return _InfraFlakySandbox(workers, limits)

    monkeypatch.setattr(evaluate_module, "open_sandbox", open_sandbox)


INFRA_SAMPLES = [
    {"task_id": "Mbpp/1", "code": ADD},
    {"task_id": "Mbpp/1", "code": "# INFRA"},
    {"task_id": "Mbpp/2", "code": "# INFRA"},
]


def test_infra_errors_raise_after_writing_results(tmp_path, tiny_benchmark, flaky_sandbox):
    path = _write_samples(tmp_path / "s.jsonl", INFRA_SAMPLES)
    with pytest.raises(
        SandboxError, match=r"2 of 3 samples got infra_error.*infra_errors=.exclude."
    ):
        evaluate_samples(path, EvaluationConfig(benchmark="mbpp"))
    results = [obj for _, obj in stream_jsonl(default_results_path(path))]
    assert [r["status"] for r in results] == ["passed", "infra_error", "infra_error"]
    assert [r["public_passed"] for r in results] == [True, False, False]


def test_infra_errors_excluded_from_pass_at_k_on_request(
    tmp_path, tiny_benchmark, flaky_sandbox, caplog
):
    path = _write_samples(tmp_path / "s.jsonl", INFRA_SAMPLES)
    config = EvaluationConfig(benchmark="mbpp", ks=(1, 2), infra_errors="exclude", partial=True)
    with caplog.at_level(logging.WARNING, logger="mucode.evaluation.evaluate"):
        summary = evaluate_samples(path, config)
    # Mbpp/1 keeps its one judged sample (a pass); Mbpp/2 has none left and drops out.
    assert summary.pass_at_k == {1: 1.0}
    assert summary.n_tasks == 1 and summary.n_samples == 3
    assert summary.n_infra_errors == 2 and summary.to_json_dict()["n_infra_errors"] == 2
    assert "only infra_error samples" in caplog.text


@pytest.mark.parametrize(
    ("status", "tests_passed", "n_public", "expected"),
    [
        (Status.PASSED, 3, 1, True),
        (Status.FAILED, 1, 1, True),  # public passed, a private test failed
        (Status.TIMEOUT, 2, 2, True),  # timed out in a private test
        (Status.FAILED, 1, 2, False),
        (Status.CRASHED, 0, 1, False),
        (Status.INFRA_ERROR, 0, 1, False),
        (Status.INFRA_ERROR, 0, 0, False),  # judged nothing, even with no public tests
        (Status.PASSED, 2, 0, True),
        (Status.FAILED, 1, 0, True),  # the program ran: vacuous public pass holds
        (Status.FAILED, 0, 0, False),  # a load error cannot be told apart: not passed
    ],
)
def test_public_passed(status, tests_passed, n_public, expected):
    verdict = Verdict(status, "", 0.0, tests_passed, 3)
    assert public_passed(verdict, n_public) is expected


def test_config_parses_and_checks_ks():
    assert EvaluationConfig(benchmark="mbpp", ks="1, 5,10").ks == (1, 5, 10)
    assert EvaluationConfig(benchmark="mbpp", ks=(5, 1, 5)).ks == (5, 1)
    with pytest.raises(ValidationError, match="every k must be >= 1"):
        EvaluationConfig(benchmark="mbpp", ks=(0, 1))
    with pytest.raises(ValidationError, match="ks"):
        EvaluationConfig(benchmark="mbpp", ks="")
    with pytest.raises(ValidationError, match="split_name"):
        EvaluationConfig(benchmark="mbpp", split_name="test")


def test_default_results_path_is_beside_the_input(tmp_path):
    path = tmp_path / "run" / "samples.jsonl"
    assert default_results_path(path) == tmp_path / "run" / "samples.jsonl_results.jsonl"


def test_limits_reach_the_sandbox(tmp_path, tiny_benchmark):
    from mucode.sandbox import Limits

    path = _write_samples(
        tmp_path / "s.jsonl", [{"task_id": "Mbpp/2", "code": "while True:\n    pass\n"}]
    )
    config = EvaluationConfig(benchmark="mbpp", ks=(1,), limits=Limits(timeout_s=0.5), partial=True)
    summary = evaluate_samples(path, config)
    (result,) = [obj for _, obj in stream_jsonl(summary.results_path)]
    assert (result["status"], result["passed"], result["public_passed"]) == (
        "timeout",
        False,
        False,
    )
    assert summary.status_counts["timeout"] == 1 and summary.pass_at_k == {1: 0.0}


def test_real_mbpp_correct_and_wrong_solutions(tmp_path, shared_data_dir):
    from mucode.benchmarks import load_problems

    problems = load_problems("mbpp", data_dir=shared_data_dir, task_ids=[11, 12, 13])
    rows = []
    for p in problems:
        rows.append({"task_id": p.task_id, "code": p.reference_solution})
        rows.append(
            {"task_id": p.task_id, "code": f"def {p.entry_point}(*args):\n    return None\n"}
        )
    path = _write_samples(tmp_path / "s.jsonl", rows)
    config = EvaluationConfig(
        benchmark="mbpp", data_dir=shared_data_dir, ks=(1, 2, 10), partial=True
    )
    summary = evaluate_samples(path, config)

    results = [obj for _, obj in stream_jsonl(summary.results_path)]
    assert [r["passed"] for r in results] == [True, False] * 3
    assert [r["status"] for r in results] == ["passed", "failed"] * 3
    assert all(
        r["tests_total"] == len(p.all_tests) for r, p in zip(results[::2], problems, strict=True)
    )
    assert summary.pass_at_k == {1: pytest.approx(0.5), 2: pytest.approx(1.0)}
    assert summary.n_tasks == 3 and summary.split == "test"
    assert summary.n_tasks_without_samples == 497


def test_real_mbpp_unknown_split_task_is_named(tmp_path, shared_data_dir):
    # Mbpp/600 is in the validation split, not test.
    path = _write_samples(tmp_path / "s.jsonl", [{"task_id": 600, "code": ""}])
    config = EvaluationConfig(benchmark="mbpp", data_dir=shared_data_dir)
    with pytest.raises(DatasetError, match=r"s\.jsonl:1: task_id 600 \(Mbpp/600\) is not in"):
        evaluate_samples(path, config)


def _benchmark_of(monkeypatch, n):
    """An 'mbpp' benchmark of ``n`` one-test problems Mbpp/1 … Mbpp/n."""
    problems = [
        _problem(f"Mbpp/{i}", "f", ("assert f() == 1",), (), "def f():\n    return 1\n")
        for i in range(1, n + 1)
    ]
    monkeypatch.setattr(evaluate_module, "load_problems", lambda *a, **kw: problems)


def _code(task, program="def f():\n    return 1\n"):
    return {"task_id": f"Mbpp/{task}", "code": program}


@pytest.mark.parametrize(
    ("n_problems", "n_sampled"), [(300, 300), (300, 299), (4, 1), (4, 4), (8, 3)]
)
def test_the_tasks_without_samples_are_counted_past_the_cached_small_ints(
    tmp_path, monkeypatch, flaky_sandbox, n_problems, n_sampled
):
    """A file covering all of a 300-task split is complete; one leaving tasks out is partial
    and says how many (4 − 1 = 3, 8 − 3 = 5: no bit trick gives these)."""
    _benchmark_of(monkeypatch, n_problems)
    path = _write_samples(tmp_path / "s.jsonl", [_code(i) for i in range(1, n_sampled + 1)])
    summary = evaluate_samples(path, EvaluationConfig(benchmark="mbpp", ks=(1,)))
    missing = n_problems - n_sampled
    assert summary.n_tasks_without_samples == missing
    assert summary.partial is (missing > 0)
    assert summary.pass_at_k == ({} if missing else {1: 1.0})
    assert summary.n_tasks == n_sampled and summary.n_tasks_in_split == n_problems


def test_the_missing_tasks_warning_names_the_first_five(
    tmp_path, monkeypatch, flaky_sandbox, caplog
):
    _benchmark_of(monkeypatch, 8)
    path = _write_samples(tmp_path / "s.jsonl", [_code(1)])
    config = EvaluationConfig(benchmark="mbpp", ks=(1,), partial=True)
    with caplog.at_level(logging.WARNING, logger="mucode.evaluation.evaluate"):
        evaluate_samples(path, config)
    assert "7 of 8 tasks have no samples (first: Mbpp/2, Mbpp/3, Mbpp/4, Mbpp/5, Mbpp/6)\n" in (
        caplog.text
    )


def test_the_infra_error_only_warning_counts_and_names_just_those_tasks(
    tmp_path, monkeypatch, flaky_sandbox, caplog
):
    """Seven tasks have only infra_error samples; Mbpp/1, judged, is not among them."""
    _benchmark_of(monkeypatch, 8)
    rows = [_code(1), *(_code(i, "# INFRA") for i in range(2, 9))]
    config = EvaluationConfig(benchmark="mbpp", ks=(1,), infra_errors="exclude")
    with caplog.at_level(logging.WARNING, logger="mucode.evaluation.evaluate"):
        summary = evaluate_samples(_write_samples(tmp_path / "s.jsonl", rows), config)
    assert (
        "7 tasks had only infra_error samples and are left out of pass@k "
        "(first: Mbpp/2, Mbpp/3, Mbpp/4, Mbpp/5, Mbpp/6)\n"
    ) in caplog.text
    assert summary.n_tasks == 1 and summary.pass_at_k == {1: 1.0}


def test_samples_after_an_infra_error_still_count(tmp_path, tiny_benchmark, flaky_sandbox):
    rows = [{"task_id": "Mbpp/1", "code": "# INFRA"}, {"task_id": "Mbpp/1", "code": ADD},
            {"task_id": "Mbpp/2", "code": "# FAIL"}]  # fmt: skip
    config = EvaluationConfig(benchmark="mbpp", ks=(1,), infra_errors="exclude", partial=True)
    summary = evaluate_samples(_write_samples(tmp_path / "s.jsonl", rows), config)
    assert summary.n_tasks == 2 and summary.pass_at_k == {1: 0.5}
    assert summary.n_infra_errors == 1


def test_no_warning_about_k_when_every_k_is_reported(
    tmp_path, tiny_benchmark, flaky_sandbox, caplog
):
    path = _write_samples(tmp_path / "s.jsonl", INFRA_SAMPLES[:1])
    config = EvaluationConfig(benchmark="mbpp", ks=(1,), partial=True)
    with caplog.at_level(logging.WARNING, logger="mucode.evaluation.evaluate"):
        assert evaluate_samples(path, config).pass_at_k == {1: 1.0}
    assert "not reported" not in caplog.text


def test_no_warning_about_k_when_every_sample_got_infra_error(
    tmp_path, tiny_benchmark, flaky_sandbox, caplog
):
    """No task is left to report pass@k for: nothing to name, and no crash."""
    path = _write_samples(tmp_path / "s.jsonl", INFRA_SAMPLES[1:])
    config = EvaluationConfig(benchmark="mbpp", ks=(1,), infra_errors="exclude", partial=True)
    with caplog.at_level(logging.WARNING, logger="mucode.evaluation.evaluate"):
        summary = evaluate_samples(path, config)
    assert summary.pass_at_k == {} and summary.n_tasks == 0
    assert "not reported" not in caplog.text


def test_a_dropped_k_names_the_task_with_the_fewest_judged_samples(
    tmp_path, tiny_benchmark, flaky_sandbox, caplog
):
    """Mbpp/1 has 3 samples, none passing; Mbpp/2 has 2, both passing: pass@3 is dropped
    because of Mbpp/2, the task with the fewest samples (not the fewest passes)."""
    rows = [*({"task_id": "Mbpp/1", "code": "# FAIL"} for _ in range(3)),
            *({"task_id": "Mbpp/2", "code": SQUARE} for _ in range(2))]  # fmt: skip
    config = EvaluationConfig(benchmark="mbpp", ks=(1, 3), partial=True)
    with caplog.at_level(logging.WARNING, logger="mucode.evaluation.evaluate"):
        summary = evaluate_samples(_write_samples(tmp_path / "s.jsonl", rows), config)
    assert summary.pass_at_k == {1: 0.5}
    assert "pass@k not reported for k=3: task Mbpp/2 has only 2 judged samples" in caplog.text


def test_wall_s_is_the_time_from_start_to_end(tmp_path, tiny_benchmark, flaky_sandbox, monkeypatch):
    """The clock reads 100.0 s when the evaluation starts and 350.25 s after."""
    readings = itertools.chain([100.0], itertools.repeat(350.25))
    monkeypatch.setattr(
        evaluate_module, "time", SimpleNamespace(perf_counter=lambda: next(readings))
    )
    path = _write_samples(tmp_path / "s.jsonl", INFRA_SAMPLES[:1])
    summary = evaluate_samples(path, EvaluationConfig(benchmark="mbpp", ks=(1,), partial=True))
    assert summary.wall_s == 250.25


def test_results_may_go_to_a_directory_that_does_not_exist_yet(
    tmp_path, tiny_benchmark, flaky_sandbox
):
    path = _write_samples(tmp_path / "s.jsonl", INFRA_SAMPLES[:1])
    out = tmp_path / "new" / "nested" / "results.jsonl"
    evaluate_samples(path, EvaluationConfig(benchmark="mbpp", partial=True), output=out)
    assert [obj["task_id"] for _, obj in stream_jsonl(out)] == ["Mbpp/1"]


def test_every_argument_may_be_passed_by_name(tmp_path, tiny_benchmark, flaky_sandbox):
    path = _write_samples(tmp_path / "s.jsonl", INFRA_SAMPLES[:1])
    config = EvaluationConfig(benchmark="mbpp", ks=(1,), partial=True)
    out = tmp_path / "r.jsonl"
    summary = evaluate_samples(samples_path=path, config=config, output=out, on_progress=None)
    assert summary.n_samples == 1 and out.exists()
    summary = evaluate_reference(config=config, output=out, on_progress=None)
    assert summary.n_samples == 3


def test_the_config_defaults_to_pass_at_1_10_100_and_is_frozen():
    config = EvaluationConfig(benchmark="mbpp")
    assert config.ks == (1, 10, 100)
    with pytest.raises(ValidationError, match="frozen"):
        config.ks = (0,)  # would skip the check that every k is >= 1


def test_the_config_needs_at_least_one_worker():
    assert EvaluationConfig(benchmark="mbpp", workers=1).workers == 1
    with pytest.raises(ValidationError, match="workers"):
        EvaluationConfig(benchmark="mbpp", workers=0)


def _summary(**fields):
    base = dict(benchmark="mbpp", split="test", n_tasks=2, n_samples=4, pass_at_k={1: 0.5},
                n_public_passed=3, status_counts={"passed": 2, "failed": 2},
                results_path=Path("r.jsonl"), wall_s=12.3456, n_tasks_in_split=2)  # fmt: skip
    return EvaluationSummary(**{**base, **fields})


def test_a_summary_built_by_hand_defaults_to_complete_and_no_infra_errors():
    """``n_tasks_without_samples`` and an ``infra_error`` count may be left out."""
    summary = _summary()
    assert summary.n_tasks_without_samples == 0 and not summary.partial
    assert summary.n_infra_errors == 0
    data = summary.to_json_dict()
    assert (data["n_tasks_without_samples"], data["partial"], data["n_infra_errors"]) == (
        0, False, 0)  # fmt: skip


def test_the_summary_json_rounds_wall_time_to_milliseconds():
    assert _summary(wall_s=12.3456).to_json_dict()["wall_s"] == 12.346


def test_a_summary_is_a_frozen_slotted_record():
    summary = _summary()
    with pytest.raises(dataclasses.FrozenInstanceError):
        summary.n_tasks = 3
    assert not hasattr(summary, "__dict__")
