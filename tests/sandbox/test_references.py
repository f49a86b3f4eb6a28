"""Differential tests (MBPP+) judged without the reference in the program's process."""

from __future__ import annotations

import json

import pytest

from mucode.benchmarks import load_problems
from mucode.benchmarks.mbpp_plus import INPUTS_NAME, SPEC_NAME
from mucode.core.records import Status
from mucode.sandbox import Job, Sandbox, expected
from mucode.sandbox.expected import ReferenceValue
from mucode.sandbox.references import ReferenceOutputs

pytestmark = pytest.mark.hostile

REFERENCE = (
    "def helper_of_the_reference(x):\n    return 2 * x\n"
    "def double(x):\n    return helper_of_the_reference(x)\n"
)
PLUS_TEST = (  # the shape benchmarks.mbpp_plus writes, cut down to what the sandbox reads
    f"{SPEC_NAME} = {{'entry_point': 'inverse', "
    "'reference': 'def inverse(x):\\n    return 2 // x'}\n"
    f"{INPUTS_NAME} = [[1], [0]]\n"
)


@pytest.fixture
def problem(tmp_path, monkeypatch):
    """An MBPP+-style problem (62 inputs, two differential tests), with its own cache."""
    monkeypatch.setenv("MUCODE_CACHE_DIR", str(tmp_path / "cache"))
    row = {
        "task_id": "Mbpp/7", "prompt": "'''\nDouble it.\n'''\n", "entry_point": "double",
        "canonical_solution": REFERENCE, "base_input": [[1], [2]],
        "plus_input": [[i] for i in range(3, 63)], "atol": 0, "contract": "",
        "assertion": "\nassert double(1) == 2\n",
    }  # fmt: skip
    (tmp_path / "evalplus-dev").mkdir()
    (tmp_path / "evalplus-dev" / "MbppPlus.git-767efcc.jsonl").write_text(json.dumps(row) + "\n")
    (p,) = load_problems("mbpp-plus-snapshot", data_dir=tmp_path)
    return p


def judge(sandbox, problem, program):
    return sandbox.run(Job(program, problem.all_tests, problem.setup_code))


def test_the_child_gets_no_reference_and_no_outputs(problem):
    prepared = expected.prepare(problem.all_tests)
    assert len(prepared.differentials) == 2
    child = "\n".join(prepared.child_tests)
    assert "helper_of_the_reference" not in child and "AssertionError" not in child
    assert sum(e.tolerance is not None for e in prepared.expectations.values()) == 62


def test_a_correct_candidate_passes_and_a_wrong_one_fails_at_its_input(sandbox, problem):
    assert judge(sandbox, problem, "def double(x):\n    return x + x\n").status is Status.PASSED
    wrong = "def double(x):\n    return x + 1 if x > 40 else 2 * x\n"
    verdict = judge(sandbox, problem, wrong)
    assert verdict.status is Status.FAILED
    assert verdict.feedback == (
        "Failed test:\ndouble(41)  # MBPP+ input #40\nExpected: 82\nActual:   42"
    )


def test_the_program_cannot_find_the_reference(sandbox, problem):
    """A program that searches its process for the reference's code finds nothing."""
    program = (
        "import gc, sys\n"
        "seen = ''.join(repr(o)[:10000] for o in gc.get_objects())\n"
        "needle = '_'.join(['helper', 'of', 'the', 'reference'])\n"  # not folded into a constant
        "found = needle in seen\n"
        "def double(x):\n    return 2 * x if found else 0\n"
    )
    verdict = judge(sandbox, problem, program)
    assert verdict.status is Status.FAILED


def test_reference_outputs_are_computed_once_and_cached(problem, tmp_path):
    with Sandbox(workers=1) as fresh:  # its own memory: nothing computed yet
        judge(fresh, problem, "def double(x):\n    return x + x\n")
    directory = tmp_path / "cache" / "reference-outputs"
    assert len(list(directory.glob("*.json"))) == 2

    def must_not_run(differentials):
        raise AssertionError(f"ran {len(differentials)} references again")

    outputs = ReferenceOutputs(directory)
    differentials = expected.prepare(problem.all_tests).differentials
    outputs.ensure(differentials, must_not_run)
    assert outputs.value(ReferenceValue(differentials[1].digest, 11)) == 2 * 62


def test_a_reference_that_fails_on_an_input_fails_every_candidate_there(tmp_path):
    (differential,) = expected.prepare((PLUS_TEST,)).differentials
    raw = {"status": "failed", "feedback": "ZeroDivisionError", "values": [[0, 0, '["i", "0x2"]']]}
    outputs = ReferenceOutputs(tmp_path)
    outputs.ensure([differential], lambda todo: [raw])
    assert outputs.value(ReferenceValue(differential.digest, 0)) == 2
    assert outputs.value(ReferenceValue(differential.digest, 1)) != 0


def test_an_infra_error_leaves_the_outputs_unknown(tmp_path):
    (differential,) = expected.prepare((PLUS_TEST,)).differentials
    raw = {"status": "infra_error", "feedback": "worker died", "values": []}
    outputs = ReferenceOutputs(tmp_path)
    outputs.ensure([differential], lambda todo: [raw])
    with pytest.raises(KeyError):
        outputs.value(ReferenceValue(differential.digest, 0))
    assert not list(tmp_path.glob("*.json"))
