"""A program's verdict is what plain `python3 solution.py` gives.

solution.py is the program, the problem's setup code and its tests in order, in one module;
the plain side (shared with ``bench/differential.py``, which runs every stored program) runs
it with the sandbox's wall and memory limits. Two parts: a fixed sample of stored model
programs (``data/differential_sample.json``, written by ``bench/differential.py
--write-fixture``: every program that disagreed there, then a seeded sample), and
hand-written cases where plain Python and an exec-based harness part ways. Each edge case
also checks plain Python's own status, so the reference cannot drift unnoticed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from mucode.core.records import Problem

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "data" / "differential_sample.json"
WORKERS = 2


def _load_differential():
    spec = importlib.util.spec_from_file_location(
        "mucode_bench_differential", ROOT / "bench" / "differential.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and the process pool find it by name
    spec.loader.exec_module(module)
    return module


differential = _load_differential()

WORDS = ["apple", "banana", "cherry", "date", "elder", "fig", "grape", "kiwi", "lemon", "mango"]
HASH_SEED_0_ORDER = json.loads(
    subprocess.run(
        [sys.executable, "-c", f"import json; print(json.dumps(list(set({WORDS!r}))))"],
        env={**os.environ, "PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
)


@dataclass(frozen=True)
class Edge:
    """A program, its tests, and the status plain Python gives it."""

    id: str
    program: str
    tests: tuple[str, ...]
    plain_status: str


EDGES = [
    Edge(
        "annotation-names-an-unimported-List",
        "def f(x: List[int]) -> int:\n    return sum(x)\n",
        ("assert f([1, 2]) == 3",),
        "failed",  # NameError when the def runs: annotations are evaluated
    ),
    Edge(
        "annotations-are-objects-not-strings",
        "def g(x: int) -> str:\n    return str(x)\n\ndef f():\n    return g.__annotations__\n",
        ("assert f() == {'x': int, 'return': str}",),
        "passed",
    ),
    Edge(
        "annotated-dataclass",
        "from dataclasses import dataclass\n\n@dataclass\nclass Point:\n    x: int\n"
        "    y: int = 0\n\ndef f():\n    return Point(1, 2).x + Point(3).y\n",
        ("assert f() == 1",),
        "passed",
    ),
    Edge(
        "get-type-hints-of-a-program-class",
        "import typing\n\nclass Node:\n    next: 'Node'\n    value: int\n\n"
        "def f():\n    return typing.get_type_hints(Node)\n",
        ("assert f() == {'next': Node, 'value': int}",),
        "passed",
    ),
    Edge(
        "pickle-a-program-class",
        "import pickle\n\nclass Box:\n    def __init__(self, v):\n        self.v = v\n\n"
        "def f(v):\n    return pickle.loads(pickle.dumps(Box(v))).v\n",
        ("assert f(3) == 3",),
        "passed",
    ),
    Edge(
        "multiprocessing-pool-with-a-program-function",
        "import multiprocessing\n\ndef square(x):\n    return x * x\n\ndef f(xs):\n"
        "    with multiprocessing.get_context('fork').Pool(2) as pool:\n"
        "        return pool.map(square, xs)\n",
        ("assert f([1, 2, 3]) == [1, 4, 9]",),
        "passed",
    ),
    Edge(
        "inspect-getmodule",
        "import inspect\n\ndef f():\n    return inspect.getmodule(f).__name__\n",
        ("assert f() == '__main__'",),
        "passed",
    ),
    Edge(
        "inspect-getsource",
        "import inspect\n\ndef f():\n    return inspect.getsource(f).splitlines()[0]\n",
        ("assert f() == 'def f():'",),
        "passed",
    ),
    Edge(
        "main-module-is-the-program",
        "import sys\n\nLIMIT = 7\n\ndef f():\n    return sys.modules['__main__'].LIMIT\n",
        ("assert f() == 7",),
        "passed",
    ),
    Edge(
        "sys-argv",
        "import sys\n\ndef f():\n    return sys.argv\n",
        ("assert f() == ['solution.py']",),
        "passed",
    ),
    Edge(
        "name-is-main",
        "def f():\n    return __name__\n",
        ("assert f() == '__main__'",),
        "passed",
    ),
    Edge(
        "main-block-runs",
        "def f(x):\n    return x + 1\n\nif __name__ == '__main__':\n    print(f(int(input())))\n",
        ("assert f(1) == 2",),
        "failed",  # input() at EOF: EOFError before the tests
    ),
    Edge(
        "unittest-main-exits-before-the-tests",
        "import unittest\n\ndef f(x):\n    return 2 * x\n\nclass T(unittest.TestCase):\n"
        "    def test_f(self):\n        self.assertEqual(f(2), 4)\n\n"
        "if __name__ == '__main__':\n    unittest.main()\n",
        ("assert f(3) == 6",),
        "failed",  # exit 0 before the tests ran: never a pass
    ),
    Edge(
        "file-names-solution-py",
        "import os\n\ndef f():\n    return os.path.basename(__file__)\n",
        ("assert f() == 'solution.py'",),
        "passed",
    ),
    Edge(
        "file-exists",
        "import os\n\ndef f():\n    return os.path.isfile(__file__)\n",
        ("assert f() is True",),
        "passed",
    ),
    Edge(
        "builtins-is-a-module",
        "def f():\n    return type(__builtins__).__name__\n",
        ("assert f() == 'module'",),
        "passed",
    ),
    Edge(
        "module-doc-is-none",
        "def f():\n    return __doc__\n",
        ("assert f() is None",),
        "passed",
    ),
    Edge(
        "exit-1-is-not-an-exception",
        "try:\n    exit(1)\nexcept Exception:\n    pass\n\ndef f():\n    return 1\n",
        ("assert f() == 1",),
        "failed",  # SystemExit passes `except Exception`: the process exits 1 before the tests
    ),
    Edge(
        "quit-and-exit-exist",
        "def f():\n    return callable(quit) and callable(exit)\n",
        ("assert f() is True",),
        "passed",
    ),
    Edge(
        "sys-exit-0-before-the-tests",
        "import sys\nsys.exit(0)\n",
        ("assert False",),
        "failed",  # exit 0 before the tests: never a pass
    ),
    Edge(
        "recursion-depth-990",
        "def depth(n):\n    return 0 if n == 0 else 1 + depth(n - 1)\n",
        ("assert depth(990) == 990",),
        "passed",
    ),
    Edge(
        "string-hash-set-order-with-seed-0",
        f"WORDS = {WORDS!r}\n\ndef f():\n    return list(set(WORDS))\n",
        (f"assert f() == {HASH_SEED_0_ORDER!r}",),
        "passed",
    ),
    Edge(
        "memory-error",
        "DATA = bytearray(64 * 1024 ** 3)\n",
        ("assert True",),
        "crashed",
    ),
    Edge(
        "infinite-loop",
        "while True:\n    pass\n",
        ("assert True",),
        "timeout",
    ),
]


def _problem(task_id: str, tests: tuple[str, ...], setup_code: str = "") -> Problem:
    return Problem(task_id=task_id, benchmark="edge", split="test", prompt="", entry_point="f",
                   setup_code=setup_code, public_tests=tests, private_tests=(),
                   reference_solution="")  # fmt: skip


@pytest.fixture(scope="session")
def plain_cache(tmp_path_factory) -> Path:
    """Plain outcomes do not depend on the launcher: run them once per session."""
    return tmp_path_factory.mktemp("differential") / "plain.jsonl"


def _judge_both(cases, sandbox, plain_cache):
    verdicts = differential.sandbox_verdicts(cases, sandbox)
    jobs = [c.job for c in cases]
    plains = differential.plain_outcomes(jobs, sandbox.limits, WORKERS, plain_cache)
    return verdicts, plains


def _describe(case, verdict, plain) -> str:
    return (
        f"{case.problem.task_id} [{case.program_sha}]: sandbox {verdict.status.value} "
        f"({differential.sandbox_cause(verdict) or 'all tests passed'}), plain Python "
        f"{plain.status} ({plain.cause or 'all tests passed'})"
    )


@pytest.fixture(scope="module")
def edge_results(sandbox, plain_cache):
    cases = [differential.Case(_problem(f"edge/{e.id}", e.tests), e.program) for e in EDGES]
    verdicts, plains = _judge_both(cases, sandbox, plain_cache)
    return {e.id: triple for e, *triple in zip(EDGES, cases, verdicts, plains, strict=True)}


@pytest.mark.parametrize("edge", EDGES, ids=[e.id for e in EDGES])
def test_edge_case_gets_plain_pythons_status(edge, edge_results):
    case, verdict, plain = edge_results[edge.id]
    assert plain.status == edge.plain_status, f"plain Python itself: {plain}"
    assert verdict.status.value == plain.status, (
        _describe(case, verdict, plain) + f"\nsandbox feedback:\n{verdict.feedback[-600:]}"
    )


def _sample_cases():
    data = json.loads(FIXTURE.read_text())
    problems = {
        task_id: Problem.from_dict({**fields, "prompt": "", "reference_solution": ""})
        for task_id, fields in data["problems"].items()
    }
    return [differential.Case(problems[p["task_id"]], p["program"]) for p in data["programs"]]


def test_sampled_model_programs_get_plain_pythons_status(sandbox, plain_cache):
    cases = _sample_cases()
    verdicts, plains = _judge_both(cases, sandbox, plain_cache)
    mismatches = [
        _describe(case, verdict, plain)
        for case, verdict, plain in zip(cases, verdicts, plains, strict=True)
        if verdict.status.value != plain.status
    ]
    assert not mismatches, f"{len(mismatches)} of {len(cases)} programs:\n" + "\n".join(mismatches)
