"""Turn a test outcome into the short text a model sees as its next-turn feedback.

Runs inside the sandboxed child, so it must never raise and never trust the objects it
formats: ``repr`` of a program's value may raise, hang on a lock, or be gigabytes long.
"""

from __future__ import annotations

import linecache
import traceback

SOLUTION_FILE = "solution.py"
SETUP_FILE = "setup.py"
REPR_CHARS = 300


def test_file(index: int) -> str:
    """Pseudo file name of test ``index`` in tracebacks."""
    return f"test_{index}.py"


def register_source(filename: str, source: str) -> None:
    """Make ``source`` visible to tracebacks under ``filename``."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)


def _own_frame(filename: str) -> bool:
    name = filename.rpartition("/")[2]
    return name in (SOLUTION_FILE, SETUP_FILE) or filename.startswith("test_")


def safe_repr(value: object, limit: int = REPR_CHARS) -> str:
    """``repr`` that survives hostile objects and is at most about ``limit`` characters."""
    try:
        text = repr(value)
    except BaseException as e:  # noqa: BLE001 - untrusted __repr__ may raise anything
        return f"<unrepresentable {type(e).__name__}>"
    if not isinstance(text, str):
        return "<unrepresentable>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_exception(exc: BaseException) -> str:
    """Traceback limited to the program's and the tests' own frames."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if _own_frame(f.filename)]
    lines = ["Traceback (most recent call last):\n"] if frames else []
    lines += traceback.StackSummary.from_list(frames).format()
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines).rstrip()


def assertion_feedback(test: str, expected: object, actual: object) -> str:
    """Feedback for an ``assert lhs == rhs`` test whose sides differ."""
    return (
        f"Failed test:\n{test.strip()}\n"
        f"Expected: {safe_repr(expected)}\n"
        f"Actual:   {safe_repr(actual)}"
    )


def truncate_middle(text: str, limit: int) -> str:
    """Keep the head and the tail of ``text`` so the whole is at most ``limit`` characters."""
    if len(text) <= limit:
        return text
    marker = "\n... [truncated] ...\n"
    head = (limit - len(marker)) // 2
    tail = limit - len(marker) - head
    return text[:head] + marker + text[-tail:]
