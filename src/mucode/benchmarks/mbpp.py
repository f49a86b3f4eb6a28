"""MBPP full and sanitized rows -> ``Problem`` records (one code path for files and the hub)."""

from __future__ import annotations

import ast
import builtins
import re
from collections import deque

from mucode.benchmarks.registry import MBPP, MBPP_SANITIZED, mbpp_split_of
from mucode.benchmarks.rows import RawRow, field, str_list_field
from mucode.benchmarks.test_imports import with_missing_imports
from mucode.core.errors import DatasetError
from mucode.core.records import Problem

FULL_FIELDS = "text, code, task_id, test_setup_code, test_list, challenge_test_list"
SANITIZED_FIELDS = "prompt, code, task_id, test_imports, test_list"


def build_mbpp(rows: list[RawRow]) -> list[Problem]:
    """Problems of the full MBPP set.

    Eval splits (test, validation, prompt): public = the first assert; private = the other
    asserts, then each challenge assert as its own test. Train: public = all asserts,
    private = the challenge asserts. ``setup_code`` is ``test_setup_code`` plus any stdlib
    import the tests forgot (``test_imports``).
    """
    problems = []
    for row in rows:
        number, split = _task_number(row, FULL_FIELDS)
        tests = _nonempty_tests(row, FULL_FIELDS)
        challenge = str_list_field(row, "challenge_test_list", FULL_FIELDS)
        code = field(row, "code", str, FULL_FIELDS)
        public, private = _split_tests(tests, split)
        problems.append(
            Problem(
                task_id=f"Mbpp/{number}",
                benchmark=MBPP,
                split=split,
                prompt=field(row, "text", str, FULL_FIELDS),
                entry_point=find_entry_point(tests[0], code, row.where),
                setup_code=with_missing_imports(
                    field(row, "test_setup_code", str, FULL_FIELDS), tests + challenge
                ),
                public_tests=public,
                private_tests=private + challenge,
                reference_solution=code,
            )
        )
    return problems


def build_sanitized(rows: list[RawRow]) -> list[Problem]:
    """Problems of the sanitized subset, split by their MBPP task-id range.

    Public = the first assert (train: all asserts); private = the rest.
    ``setup_code`` joins ``test_imports`` with newlines.
    """
    problems = []
    for row in rows:
        number, split = _task_number(row, SANITIZED_FIELDS)
        tests = _nonempty_tests(row, SANITIZED_FIELDS)
        code = field(row, "code", str, SANITIZED_FIELDS)
        public, private = _split_tests(tests, split)
        problems.append(
            Problem(
                task_id=f"Mbpp/{number}",
                benchmark=MBPP_SANITIZED,
                split=split,
                prompt=field(row, "prompt", str, SANITIZED_FIELDS),
                entry_point=find_entry_point(tests[0], code, row.where),
                setup_code=with_missing_imports(
                    "\n".join(str_list_field(row, "test_imports", SANITIZED_FIELDS)), tests
                ),
                public_tests=public,
                private_tests=private,
                reference_solution=code,
            )
        )
    return problems


_DEFINITION = re.compile(r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)", re.MULTILINE)


def find_entry_point(test: str, code: str, where: str) -> str:
    """The function a test calls: the first called name (outermost first) that ``code`` defines.

    Falls back to the first called name that is not a builtin (builtins count when defined:
    MBPP task 126 defines its own ``sum``). The test is parsed with ``ast``; the reference
    code is only scanned for ``def``/``class`` lines, which also works when it does not parse.
    """
    try:
        tree = ast.parse(test)
    except SyntaxError as e:
        raise DatasetError(f"{where}: first test does not parse ({e.msg}): {test[:80]!r}") from e
    defined = set(_DEFINITION.findall(code))
    fallback = None
    queue: deque[ast.AST] = deque([tree])
    while queue:  # breadth-first, so outer calls come before the calls inside them
        node = queue.popleft()
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in defined:
                return node.func.id
            if fallback is None and not hasattr(builtins, node.func.id):
                fallback = node.func.id
        queue.extend(ast.iter_child_nodes(node))
    if fallback is None:
        raise DatasetError(f"{where}: cannot tell which function the test calls: {test[:80]!r}")
    return fallback


def _task_number(row: RawRow, expected: str) -> tuple[int, str]:
    number = field(row, "task_id", int, expected)
    split = mbpp_split_of(number)
    if split is None:
        raise DatasetError(f"{row.where}: task_id {number} is outside MBPP's range 1..974")
    return number, split


def _nonempty_tests(row: RawRow, expected: str) -> tuple[str, ...]:
    tests = str_list_field(row, "test_list", expected)
    if not tests:
        raise DatasetError(f"{row.where}: field 'test_list' is empty; every task needs a test")
    return tests


def _split_tests(tests: tuple[str, ...], split: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if split == "train":
        return tests, ()
    return tests[:1], tests[1:]
