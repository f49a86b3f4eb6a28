"""Verdicts that a program cannot forge: expected literals never reach its process."""

from __future__ import annotations

import pytest

from mucode.core.records import Status
from mucode.sandbox import Job

pytestmark = pytest.mark.hostile

SECRET = 987654321  # a multiple of 3
ALWAYS_EQUAL = "class Anything:\n    def __eq__(self, other):\n        return True\n"

# Walks every frame of its own process for the reporter of the harness and the job it runs.
FRAME_WALKER = """
import sys
def _frames():
    frame = sys._getframe()
    while frame is not None:
        yield frame
        frame = frame.f_back
reporter = next(f.f_locals['reporter'] for f in _frames() if 'reporter' in f.f_locals)
job = next(f.f_locals['job'] for f in _frames() if 'job' in f.f_locals)
"""


def test_the_child_never_holds_the_expected_value(sandbox):
    """A program that searches its whole process for the answer finds only a placeholder."""
    program = FRAME_WALKER + (  # the program's own text must not hold the secret
        "import gc\n"
        "seen = repr(job) + ''.join(repr(o)[:10000] for o in gc.get_objects())\n"
        f"base = {SECRET // 3}\nneedle = str(base * 3)\n"  # not folded into a constant
        "def solve():\n    return int(needle) if needle in seen else 0\n"
    )
    verdict = sandbox.run(Job(program, (f"assert solve() == {SECRET}",)))
    assert verdict.status is Status.FAILED
    assert f"Expected: {SECRET}" in verdict.feedback and "Actual:   0" in verdict.feedback


def test_reporting_progress_from_the_program_is_not_a_pass(sandbox):
    program = FRAME_WALKER + (
        "from mucode.core.records import Status\n"
        "reporter.loaded()\nreporter.progress(0)\nreporter.final(Status.PASSED, 'ok')\n"
    )
    verdict = sandbox.run(Job(program + "def solve():\n    return 0\n", ("assert solve() == 42",)))
    assert verdict.status is Status.FAILED
    assert "did not report all of its results" in verdict.feedback


def test_report_lines_that_do_not_parse_leave_the_programs_own_verdict(sandbox):
    """Not hex, and a key too long for int(): the worker used to fail on them, and the
    job came back as infra_error, which is left out of rewards and accuracies."""
    program = FRAME_WALKER + (
        "reporter._line('F passed zz')\nreporter._line('V ' + '1' * 5000 + ' [1]')\n"
        "def solve():\n    return 0\n"
    )
    verdict = sandbox.run(Job(program, ("assert solve() == 42",)))
    assert verdict.status is Status.FAILED
    assert "Actual:   0" in verdict.feedback


def test_a_signal_python_has_no_name_for_is_a_crash(sandbox):
    """Real-time signal 40 is not in signal.Signals; the worker used to fail on it."""
    program = "import os\ndef solve():\n    os.kill(os.getpid(), 40)\n"
    verdict = sandbox.run(Job(program, ("assert solve() == 42",)))
    assert verdict.status is Status.CRASHED
    assert "killed by signal 40." in verdict.feedback


def test_reporting_a_guessed_value_from_the_program_is_not_a_pass(sandbox):
    program = FRAME_WALKER + (
        "from mucode.core.records import Status\n"
        "reporter.loaded()\nreporter.value(0, 41)\nreporter.progress(0)\n"
        "reporter.final(Status.PASSED, 'ok')\n"
    )
    verdict = sandbox.run(Job(program, ("assert solve() == 42",)))
    assert verdict.status is Status.FAILED
    assert "Actual:   41" in verdict.feedback


@pytest.mark.parametrize(
    "test",
    [
        pytest.param("assert solve() == 42", id="left"),
        pytest.param("assert 42 == solve()", id="right"),
        pytest.param("assert solve() == [1, (2, 3)]", id="container-literal"),
        pytest.param(
            "def check(candidate):\n    assert candidate() == 42\ncheck(solve)\n", id="check"
        ),
    ],
)
def test_an_always_equal_object_is_not_a_pass(sandbox, test):
    program = ALWAYS_EQUAL + "def solve():\n    return Anything()\n"
    verdict = sandbox.run(Job(program, (test,)))
    assert verdict.status is Status.FAILED
    assert "plain values" in verdict.feedback


def test_an_always_equal_element_is_not_a_pass(sandbox):
    program = ALWAYS_EQUAL + "def solve():\n    return [1, Anything()]\n"
    verdict = sandbox.run(Job(program, ("assert solve() == [1, 2]",)))
    assert verdict.status is Status.FAILED


@pytest.mark.parametrize(
    "test",
    [
        pytest.param("assert solve() == Point(1, 2)", id="constructed"),
        pytest.param("assert solve() != Point(1, 3)", id="not-equal"),
        pytest.param("p = solve()\nassert [p] == [Point(1, 2)]", id="in-a-list"),
    ],
)
def test_a_class_with_a_correct_eq_passes(sandbox, test):
    program = (
        "class Point:\n    def __init__(self, x, y):\n        self.x, self.y = x, y\n"
        "    def __eq__(self, other):\n"
        "        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)\n"
        "def solve():\n    return Point(1, 2)\n"
    )
    assert sandbox.run(Job(program, (test,))).status is Status.PASSED


def test_check_function_stops_at_the_first_wrong_value(sandbox):
    """As in plain Python, the first failing assert decides, even if a later one would hang."""
    test = (
        "def check(candidate):\n    assert candidate(1) == 1\n    assert candidate(2) == 5\n"
        "    assert candidate(3) == 3\ncheck(f)\n"
    )
    program = "def f(x):\n    while x == 3:\n        pass\n    return x\n"
    verdict = sandbox.run(Job(program, (test,)), sandbox.limits.model_copy(update={"timeout_s": 1}))
    assert verdict.status is Status.FAILED
    assert verdict.feedback.startswith("Failed test:\nassert candidate(2) == 5\nExpected: 5")


def test_plain_values_compare_as_python_compares_them(sandbox):
    program = (
        "from collections import Counter, OrderedDict, defaultdict, namedtuple\n"
        "from fractions import Fraction\n"
        "Pair = namedtuple('Pair', 'a b')\n"
        "def solve(kind):\n"
        "    return {'int-float': 2.0, 'bool-int': True, 'counter': Counter('aab'),\n"
        "            'ordered': OrderedDict(b=1, a=2), 'default': defaultdict(int, a=1),\n"
        "            'pair': Pair(1, 2), 'fraction': Fraction(1, 2), 'set': {3, 1, 2},\n"
        "            'nan': float('nan'), 'big': 7 ** 5000, 'neg-zero': -0.0}[kind]\n"
    )
    tests = (
        "assert solve('int-float') == 2",
        "assert solve('bool-int') == 1",
        "assert solve('counter') == {'b': 1, 'a': 2}",
        "assert solve('ordered') == {'a': 2, 'b': 1}",
        "assert solve('default') == {'a': 1}",
        "assert solve('pair') == (1, 2)",
        "assert solve('fraction') == 0.5",
        "assert solve('set') == {1, 2, 3}",
        "assert solve('neg-zero') == 0",
        f"assert solve('big') == {7**5000}",
    )
    assert sandbox.run(Job(program, tests)).status is Status.PASSED
    verdict = sandbox.run(Job(program, ("assert solve('nan') == 0.0",)))
    assert verdict.status is Status.FAILED  # nan equals nothing, as in Python
