"""The test harness that runs inside the sandboxed child process.

It executes the program, then the setup code, then each test in order, and reports to
the worker on a private pipe. Every report line starts with a per-run nonce, so text the
program writes anywhere (stdout, guessed file descriptors) cannot pass for a report, and
the worker only accepts ``passed`` from a final report that follows one progress line
per test. Names the harness needs are bound at import time, before any untrusted code
runs, so patching ``builtins``, ``sys.exit`` or module attributes cannot steer it.
"""

from __future__ import annotations

import ast
import os
import sys
from typing import Any, NoReturn

from mucode.records import Status
from mucode.sandbox import feedback

# Bound once, before untrusted code can patch the originals.
_write = os.write
_exit = os._exit
_compile = compile
_exec = exec
_eval = eval
_len = len
_enumerate = enumerate
_type = type
_getattr = getattr
_any = any
_parse_flag = ast.PyCF_ONLY_AST
_Assert, _Compare, _Eq, _Expression = ast.Assert, ast.Compare, ast.Eq, ast.Expression
_CONTAINERS = (list, tuple, set, frozenset)
_dict = dict
_str = str
_isinstance = isinstance
_settrace = sys.settrace
_setprofile = sys.setprofile
_BaseException = BaseException
_MemoryError = MemoryError
_SystemExit = SystemExit
_KeyboardInterrupt = KeyboardInterrupt

PROGRAM_NAME = "solution"  # __name__ of the program, so `if __name__ == "__main__":` stays quiet


class _TestFailed(Exception):
    """A simple ``assert lhs == rhs`` test whose sides differ."""

    def __init__(self, feedback_text: str) -> None:
        super().__init__(feedback_text)
        self.feedback_text = feedback_text


class _Reporter:
    """Writes nonce-tagged report lines to the worker's pipe."""

    def __init__(self, fd: int, nonce: str, feedback_chars: int) -> None:
        self._fd = fd
        self._nonce = nonce
        self._feedback_chars = feedback_chars

    def confined(self) -> None:
        """Confinement is complete; from here on every outcome is the program's."""
        self._line("C")

    def loaded(self) -> None:
        """Program and setup code ran; the tests start."""
        self._line("L")

    def progress(self, index: int) -> None:
        """Test ``index`` passed."""
        self._line(f"P {index}")

    def final(self, status: Status, text: str) -> NoReturn:
        """Last report line; exits the process."""
        text = feedback.truncate_middle(text, self._feedback_chars)
        self._line(f"F {status.value} {text.encode('utf-8', 'replace').hex()}")
        _exit(0)

    def _line(self, body: str) -> None:
        data = f"{self._nonce} {body}\n".encode()
        while data:
            data = data[_write(self._fd, data) :]


def _split_equality(test: str) -> tuple[Any, Any] | None:
    """Compiled sides of a test that is exactly ``assert lhs == rhs``, else None."""
    try:
        tree = _compile(test, "<test>", "exec", _parse_flag)
    except SyntaxError:
        return None
    if _len(tree.body) != 1 or not _isinstance(tree.body[0], _Assert):
        return None
    cmp = tree.body[0].test
    if not (_isinstance(cmp, _Compare) and _len(cmp.ops) == 1 and _isinstance(cmp.ops[0], _Eq)):
        return None
    return cmp.left, cmp.comparators[0]


def _program_defines_eq(value: Any, budget: list[int]) -> bool:
    """True if ``value`` (or an element, for plain containers) compares with program code.

    Guards against the "always equal" object: a class in the solution whose ``__eq__``
    returns True for anything.
    """
    budget[0] -= 1
    if budget[0] < 0:
        return False
    eq = _getattr(_type(value), "__eq__", None)
    code = _getattr(eq, "__code__", None)
    if code is not None and code.co_filename == feedback.SOLUTION_FILE:
        return True
    if _isinstance(value, _dict):
        value = [*value.keys(), *value.values()]
    if _isinstance(value, _CONTAINERS):
        return _any(_program_defines_eq(item, budget) for item in value)
    return False


def _run_test(index: int, test: str, namespace: dict[str, Any]) -> None:
    filename = feedback.test_file(index)
    feedback.register_source(filename, test)
    sides = _split_equality(test)
    if sides is None:
        _exec(_compile(test, filename, "exec"), namespace)
        return
    left, right = (_compile(_Expression(side), filename, "eval") for side in sides)
    actual = _eval(left, namespace)
    expected = _eval(right, namespace)
    if not (actual == expected):
        raise _TestFailed(feedback.assertion_feedback(test, expected, actual))
    if _program_defines_eq(actual, [1000]):
        raise _TestFailed(
            f"Failed test:\n{test.strip()}\nThe result's type defines its own __eq__; "
            "return plain values (numbers, strings, lists, ...) instead."
        )


def _describe(exc: BaseException, stage: str, test: str | None) -> tuple[Status, str]:
    """Status and feedback for an exception raised in ``stage``."""
    if _isinstance(exc, _TestFailed):
        return Status.FAILED, exc.feedback_text
    if _isinstance(exc, _MemoryError):
        return Status.CRASHED, "MemoryError: the program exceeded the memory limit"
    head = f"Failed test:\n{test.strip()}\n" if test is not None else ""
    if _isinstance(exc, _SystemExit | _KeyboardInterrupt):
        what = "called exit()" if _isinstance(exc, _SystemExit) else "raised KeyboardInterrupt"
        return Status.FAILED, f"{head}The program {what} during the {stage}; tests did not finish."
    return Status.FAILED, head + feedback.format_exception(exc)


def run(job: dict[str, Any], reporter: _Reporter) -> NoReturn:
    """Run program, setup and tests; report; exit. Never returns."""
    namespace: dict[str, Any] = {"__name__": PROGRAM_NAME}
    stage, test = "program", None
    try:
        feedback.register_source(feedback.SOLUTION_FILE, job["program"])
        _exec(_compile(job["program"], feedback.SOLUTION_FILE, "exec"), namespace)
        stage = "setup"
        feedback.register_source(feedback.SETUP_FILE, job["setup_code"])
        _exec(_compile(job["setup_code"], feedback.SETUP_FILE, "exec"), namespace)
        stage = "tests"
        reporter.loaded()
        for index, test in _enumerate(job["tests"]):
            _settrace(None)  # a trace function could jump over an assert
            _setprofile(None)
            _run_test(index, test, namespace)
            reporter.progress(index)
    except _BaseException as exc:
        try:
            status, text = _describe(exc, stage, test)
        except _BaseException:
            status, text = Status.FAILED, f"The program raised an error during the {stage}."
        reporter.final(status, text)
    reporter.final(Status.PASSED, "All tests passed.")


def make_reporter(fd: int, nonce: str, feedback_chars: int) -> _Reporter:
    """Reporter for the worker's pipe ``fd``."""
    return _Reporter(fd, nonce, feedback_chars)
