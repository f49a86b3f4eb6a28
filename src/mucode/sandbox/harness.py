"""The test harness that runs inside the sandboxed child process.

It runs the program as ``python3 solution.py`` would: a fresh ``__main__`` module with
``__file__``, ``sys.argv == ['solution.py']``, the site builtins, no compiler flags of
its own, the same recursion headroom; then the setup code and each test in order, in the
same module. It reports to the worker on a private pipe. Every report line starts with a
per-run nonce, so text the program writes anywhere (stdout, guessed file descriptors)
cannot pass for a report, and the worker only accepts ``passed`` from a final report that
follows one progress line per test. Values that a test compares with a literal the pool
kept back (see ``expected``) are reported, not compared, here. Names the harness needs
are bound at import time, before any untrusted code runs, so patching ``builtins``,
``sys.exit`` or module attributes cannot steer it.
"""

from __future__ import annotations
import __future__

import ast
import builtins
import os
import signal
import sys
from importlib.machinery import SourceFileLoader
from types import ModuleType
from typing import Any, NoReturn

from mucode.core.records import Status
from mucode.sandbox import feedback, values

# Bound once, before untrusted code can patch the originals.
_write = os.write
_exit = os._exit
_compile = compile
_exec = exec
_eval = eval
_len = len
_enumerate = enumerate
_isinstance = isinstance
_int = int
_settrace = sys.settrace
_setprofile = sys.setprofile
_setrecursionlimit = sys.setrecursionlimit
_getframe = sys._getframe
_encode_value = values.encode
_parse_flag = ast.PyCF_ONLY_AST
_Assert, _Compare, _Eq, _Expression = ast.Assert, ast.Compare, ast.Eq, ast.Expression
_BaseException = BaseException
_MemoryError = MemoryError
_SystemExit = SystemExit
_KeyboardInterrupt = KeyboardInterrupt

PROGRAM_ARGV = ["solution.py"]  # sys.argv of `python3 solution.py`
RECURSION_LIMIT = 1000  # CPython's default, counted from the program's own module frame
_EXEC_LEVELS = 1  # exec and eval enter the interpreter anew: one more level than a script
VALUE_HOOK = "__mucode_value__"  # what differential tests call to report a value
PLACEHOLDER_HEAD, PLACEHOLDER_TAIL = "__mucode_expected_", "__"  # see ``expected``
_FUTURE_FLAGS = 0
for _name in __future__.all_feature_names:
    _FUTURE_FLAGS |= getattr(__future__, _name).compiler_flag


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

    def value(self, key: object, value: object) -> None:
        """The value a test compares with kept-back expectation ``key``."""
        self._line(f"V {_int(key)} {_encode_value(value)}")

    def final(self, status: Status, text: str) -> NoReturn:
        """Last report line; exits the process."""
        text = feedback.truncate_middle(text, self._feedback_chars)
        self._line(f"F {status.value} {text.encode('utf-8', 'replace').hex()}")
        _exit(0)

    def _line(self, body: str) -> None:
        data = f"{self._nonce} {body}\n".encode()
        while data:
            data = data[_write(self._fd, data) :]


class _Probe:
    """Stands where the pool kept an expected value back: compared with a test's value, it
    reports that value and answers "equal"; the pool makes the real comparison."""

    __slots__ = ("_key", "_report")

    def __init__(self, key: int, report: Any) -> None:
        self._key = key
        self._report = report

    def __eq__(self, other: object) -> bool:
        self._report(self._key, other)
        return True

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{PLACEHOLDER_HEAD}{self._key}{PLACEHOLDER_TAIL}"


def _bind_probes(test: str, namespace: dict[str, Any], report: Any) -> None:
    """Bind each placeholder name in ``test`` (see ``expected``) to a fresh probe."""
    start = test.find(PLACEHOLDER_HEAD)
    while start != -1:
        digits_at = start + _len(PLACEHOLDER_HEAD)
        end = test.find(PLACEHOLDER_TAIL, digits_at)
        digits = test[digits_at:end] if end != -1 else ""
        if digits.isdigit():
            namespace[test[start : end + _len(PLACEHOLDER_TAIL)]] = _Probe(_int(digits), report)
        start = test.find(PLACEHOLDER_HEAD, digits_at)


def _split_equality(tree: ast.Module) -> tuple[Any, Any] | None:
    """The sides of a test that is exactly ``assert lhs == rhs``, else None."""
    if _len(tree.body) != 1 or not _isinstance(tree.body[0], _Assert):
        return None
    cmp = tree.body[0].test
    if not (_isinstance(cmp, _Compare) and _len(cmp.ops) == 1 and _isinstance(cmp.ops[0], _Eq)):
        return None
    return cmp.left, cmp.comparators[0]


def _top_level_headroom() -> None:
    """Set the recursion limit so that code run by our caller has the headroom of a
    module frame of ``python3 solution.py``."""
    depth, frame = 0, _getframe(1)
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    _setrecursionlimit(RECURSION_LIMIT + depth + _EXEC_LEVELS)


def _exec_at_top(code: Any, namespace: dict[str, Any]) -> None:
    """``exec`` as the top level of a module run by ``python3``."""
    _top_level_headroom()
    _exec(code, namespace)


def _run_test(
    index: int, test: str, namespace: dict[str, Any], flags: int, value_hook: Any
) -> None:
    filename = feedback.test_file(index)
    feedback.register_source(filename, test)
    if PLACEHOLDER_HEAD in test or VALUE_HOOK in test:  # values the pool compares
        _bind_probes(test, namespace, value_hook)
        namespace[VALUE_HOOK] = value_hook  # differential tests call it themselves
        _exec_at_top(_compile(test, filename, "exec", flags, True), namespace)
        return
    tree = _compile(test, filename, "exec", _parse_flag | flags, True)
    sides = _split_equality(tree)
    if sides is None:
        _exec_at_top(_compile(tree, filename, "exec", flags, True), namespace)
        return
    left, right = (_compile(_Expression(side), filename, "eval", flags, True) for side in sides)
    _top_level_headroom()
    actual = _eval(left, namespace)
    expected = _eval(right, namespace)
    if not (actual == expected):
        raise _TestFailed(feedback.assertion_feedback(test, expected, actual))


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


def main_module(workdir: str, job: dict[str, Any]) -> ModuleType:
    """A fresh ``__main__`` as ``python3 solution.py`` makes it, registered in sys.modules,
    with the file itself (program, setup and tests, as this child has them) in ``workdir``."""
    path = os.path.join(workdir, feedback.SOLUTION_FILE)
    source = "\n".join([job["program"], job["setup_code"], *job["tests"]])
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, source.encode("utf-8", "surrogatepass"))
    finally:
        os.close(fd)
    module = ModuleType("__main__")
    module.__dict__.update(
        __file__=path, __cached__=None, __annotations__={}, __builtins__=builtins,
        __loader__=SourceFileLoader("__main__", path), __spec__=None, __package__=None,
    )  # fmt: skip
    sys.modules["__main__"] = module
    sys.argv = list(PROGRAM_ARGV)
    sys.path[0:0] = [workdir]
    signal.signal(signal.SIGINT, signal.default_int_handler)  # the worker ignores Ctrl-C
    return module


def run(job: dict[str, Any], reporter: _Reporter, module: ModuleType) -> NoReturn:
    """Run program, setup and tests in ``module``; report; exit. Never returns."""
    namespace = module.__dict__
    # Tracebacks name the file as the command line did ("solution.py"); inspect still
    # finds the module, as the name is relative to the working directory.
    program_file = feedback.SOLUTION_FILE
    stage, test = "program", None
    try:
        feedback.register_source(program_file, job["program"])
        code = _compile(job["program"], program_file, "exec", 0, True)
        flags = code.co_flags & _FUTURE_FLAGS  # its __future__ imports cover the tests too
        _exec_at_top(code, namespace)
        stage = "setup"
        feedback.register_source(feedback.SETUP_FILE, job["setup_code"])
        _exec_at_top(
            _compile(job["setup_code"], feedback.SETUP_FILE, "exec", flags, True), namespace
        )
        stage = "tests"
        reporter.loaded()
        for index, test in _enumerate(job["tests"]):
            _settrace(None)  # a trace function could jump over an assert
            _setprofile(None)
            _run_test(index, test, namespace, flags, reporter.value)
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
