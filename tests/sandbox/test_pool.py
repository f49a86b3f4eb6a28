"""Verdicts for ordinary programs: pass, fail, error, timeout, crash; order and feedback."""

from __future__ import annotations

import pytest

from mucode.core.records import Status
from mucode.sandbox import Job, Limits


def test_correct_program_passes(sandbox):
    verdict = sandbox.run(Job("def add(a, b):\n    return a + b\n", ("assert add(1, 2) == 3",)))
    assert verdict.status is Status.PASSED
    assert (verdict.tests_passed, verdict.tests_total) == (1, 1)


def test_wrong_answer_shows_expected_and_actual(sandbox):
    verdict = sandbox.run(Job("def add(a, b):\n    return a - b\n", ("assert add(1, 2) == 3",)))
    assert verdict.status is Status.FAILED
    assert "assert add(1, 2) == 3" in verdict.feedback
    assert "Expected: 3" in verdict.feedback
    assert "Actual:   -1" in verdict.feedback


def test_exception_traceback_points_into_the_solution(sandbox):
    program = "def f(xs):\n    total = 0\n    return xs[10]\n"
    verdict = sandbox.run(Job(program, ("assert f([1]) == 1",)))
    assert verdict.status is Status.FAILED
    assert 'solution.py", line 3, in f' in verdict.feedback
    assert "IndexError: list index out of range" in verdict.feedback
    assert "harness" not in verdict.feedback and "mucode" not in verdict.feedback


def test_syntax_error_is_a_failure_with_its_line(sandbox):
    verdict = sandbox.run(Job("def f(:\n    pass\n", ("assert f() is None",)))
    assert verdict.status is Status.FAILED
    assert "SyntaxError" in verdict.feedback and "solution.py" in verdict.feedback


def test_tests_stop_at_the_first_failure_and_count_passes(sandbox):
    tests = ("assert f(1) == 1", "assert f(2) == 4", "assert f(3) == 3")
    verdict = sandbox.run(Job("def f(x):\n    return x if x != 2 else 5\n", tests))
    assert verdict.status is Status.FAILED
    assert verdict.tests_passed == 1 and verdict.tests_total == 3
    assert "assert f(2) == 4" in verdict.feedback and "f(3)" not in verdict.feedback


def test_setup_code_runs_between_program_and_tests(sandbox):
    job = Job("def f():\n    return VALUE\n", ("assert f() == 7",), setup_code="VALUE = 7")
    assert sandbox.run(job).status is Status.PASSED


def test_non_equality_assert_failure_names_the_test(sandbox):
    verdict = sandbox.run(Job("def f():\n    return 0\n", ("assert f() > 1",)))
    assert verdict.status is Status.FAILED
    assert "assert f() > 1" in verdict.feedback and "AssertionError" in verdict.feedback


def test_main_guard_runs_as_under_python3(sandbox):
    """`python3 solution.py` runs the program as __main__, with stdin at end of file."""
    program = "def f():\n    return 1\nif __name__ == '__main__':\n    input()\n"
    verdict = sandbox.run(Job(program, ("assert f() == 1",)))
    assert verdict.status is Status.FAILED
    assert "EOFError" in verdict.feedback


def test_infinite_loop_times_out_and_names_the_test(sandbox):
    limits = Limits(timeout_s=0.5)
    verdict = sandbox.run(Job("def f():\n    while True:\n        pass\n", ("assert f()",)), limits)
    assert verdict.status is Status.TIMEOUT
    assert "assert f()" in verdict.feedback
    assert 0.5 <= verdict.duration_s < 2.0


def test_top_level_loop_times_out_before_any_test(sandbox):
    verdict = sandbox.run(Job("while True:\n    pass\n", ("assert True",)), Limits(timeout_s=0.5))
    assert verdict.status is Status.TIMEOUT
    assert "top-level" in verdict.feedback


def test_feedback_is_bounded(sandbox):
    program = "def f():\n    raise ValueError('x' * 100000)\n"
    verdict = sandbox.run(Job(program, ("assert f()",)), Limits(feedback_chars=500))
    assert verdict.status is Status.FAILED
    assert len(verdict.feedback) <= 500
    assert "[truncated]" in verdict.feedback


def test_no_tests_means_the_program_must_just_run(sandbox):
    assert sandbox.run(Job("x = 1\n")).status is Status.PASSED
    assert sandbox.run(Job("raise RuntimeError('boom')\n")).status is Status.FAILED


def test_run_many_keeps_input_order_and_reports_each(sandbox):
    jobs = [Job(f"def f():\n    return {i}\n", (f"assert f() == {i % 3}",)) for i in range(30)]
    seen = []
    verdicts = sandbox.run_many(jobs, on_result=lambda i, v: seen.append(i))
    assert sorted(seen) == list(range(30))
    assert [v.passed for v in verdicts] == [i % 3 == i for i in range(30)]


@pytest.mark.parametrize(
    "module",
    # preloaded by the worker, then read from disk inside the box (pure Python, C extension)
    ["math", "re", "collections", "heapq", "itertools", "socket", "sqlite3", "xml.dom.minidom"],
)
def test_common_imports_work(sandbox, module):
    verdict = sandbox.run(Job(f"import {module}\n", (f"assert {module}.__name__ == '{module}'",)))
    assert verdict.status is Status.PASSED


def test_info_reports_active_layers(sandbox):
    assert sandbox.info.workers == 2
    assert any("rlimits" in layer for layer in sandbox.info.layers)


def test_a_job_can_carry_its_own_time_limit(sandbox):
    job = Job("import time\ntime.sleep(5)\n", timeout_s=0.5)
    verdict = sandbox.run(job)
    assert verdict.status is Status.TIMEOUT and verdict.duration_s < 2
    assert "0.5 s" in verdict.feedback
