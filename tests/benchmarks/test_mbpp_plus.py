import ast
import json
import math

import pytest

from mucode.benchmarks import get_problem, load_problems
from mucode.benchmarks.mbpp_plus import CHUNK
from mucode.core.errors import DatasetError

NAME = "mbpp-plus-snapshot"


def test_snapshot_has_399_test_tasks(shared_data_dir):
    problems = load_problems(NAME, data_dir=shared_data_dir)
    assert len(problems) == 399
    assert {p.split for p in problems} == {"test"}
    assert problems[0].task_id == "Mbpp/2" and problems[-1].task_id == "Mbpp/809"


def test_public_first_assert_private_rest_then_differential_chunks(shared_data_dir):
    p = get_problem(NAME, "Mbpp/2", shared_data_dir)
    row = next(
        json.loads(line)
        for line in (shared_data_dir / "evalplus-dev/MbppPlus.git-767efcc.jsonl").open()
        if '"task_id": "Mbpp/2"' in line
    )
    n_inputs = len(row["base_input"]) + len(row["plus_input"])
    assert p.prompt == "Write a function to find the shared elements from the given two lists."
    assert p.entry_point == "similar_elements"
    assert p.public_tests == ("assert similar_elements((3, 4, 5, 6),(5, 7, 4, 10)) == (4, 5)",)
    asserts = [t for t in p.private_tests if t.startswith("assert ")]
    checks = [t for t in p.private_tests if t.startswith("_MUCODE_PLUS = ")]
    assert len(asserts) == 2 and len(checks) == math.ceil(n_inputs / CHUNK)
    assert p.private_tests == tuple(asserts + checks)
    assert "[(3, 4, 5, 6), (5, 7, 4, 10)]," in checks[0]  # inputs restored to tuples
    assert p.reference_solution == row["canonical_solution"]


def test_every_test_is_valid_python(shared_data_dir):
    for p in load_problems(NAME, data_dir=shared_data_dir):
        assert len(p.public_tests) == 1
        for test in (p.setup_code, *p.all_tests):
            ast.parse(test)


def test_data_fixes(shared_data_dir):
    assert get_problem(NAME, 120, shared_data_dir).setup_code == "import math"  # import forgotten
    assert get_problem(NAME, 82, shared_data_dir).setup_code == "import math"  # from assertion
    assert get_problem(NAME, 295, shared_data_dir).public_tests == ("assert sum_div(8) == 15",)
    p164 = get_problem(NAME, 164, shared_data_dir)
    assert "assert are_equivalent(23, 47) == True" not in p164.all_tests
    p793 = get_problem(NAME, 793, shared_data_dir)  # plus_input is {} in the file
    assert sum(t.startswith("_MUCODE_PLUS = ") for t in p793.private_tests) == 1


def _plus_file(tmp_path, **overrides):
    row = {
        "task_id": "Mbpp/7",
        "prompt": "'''\nDouble it.\n'''\n",
        "entry_point": "double",
        "canonical_solution": (
            "def helper(x):\n    return 2 * x\ndef double(x):\n    return helper(x)\n"
        ),
        "base_input": [[1], [2]],
        "plus_input": [[i] for i in range(3, 3 + CHUNK + 10)],
        "atol": 0,
        "contract": "",
        "assertion": "\nassert double(1) == 2\nassert double(2) == 4\n",
        **overrides,
    }
    (tmp_path / "evalplus-dev").mkdir()
    path = tmp_path / "evalplus-dev" / "MbppPlus.git-767efcc.jsonl"
    path.write_text(json.dumps(row) + "\n")
    return path


def _run(problem, program):
    """Run our own small candidate against the generated tests; returns the failures."""
    namespace = {}
    exec(program, namespace)
    exec(problem.setup_code, namespace)
    failures = []
    for test in problem.all_tests:
        try:
            exec(test, namespace)
        except AssertionError as e:
            failures.append(str(e))
    return failures, namespace


def test_differential_tests_accept_a_correct_candidate(tmp_path):
    _plus_file(tmp_path)
    (p,) = load_problems(NAME, data_dir=tmp_path)
    assert p.prompt == "Double it."
    assert len(p.private_tests) == 1 + 2  # one remaining assert, 62 inputs in 2 chunks
    program = "def helper(s):\n    return 'mine'\ndef double(x):\n    return x + x\n"
    failures, namespace = _run(p, program)
    assert failures == []
    assert namespace["helper"](0) == "mine"  # the reference's helper did not leak
    assert "_mucode_plus_check" not in namespace


def test_differential_tests_report_the_failing_input(tmp_path):
    _plus_file(tmp_path)
    (p,) = load_problems(NAME, data_dir=tmp_path)
    failures, _ = _run(p, "def double(x):\n    return x + 1 if x > 40 else 2 * x\n")
    assert failures == [
        "double(41) returned 42, expected 82 (MBPP+ input #40)",
        "double(51) returned 52, expected 102 (MBPP+ input #50)",
    ]


@pytest.mark.parametrize(
    ("atol", "candidate", "passes"),
    [
        (0, "x / 3 + 1e-9", True),  # floats: 1e-6 when the task's atol is 0
        (0, "x / 3 + 1e-3", False),
        (0.01, "x / 3 + 1e-3", True),
    ],
)
def test_float_tolerance(tmp_path, atol, candidate, passes):
    _plus_file(
        tmp_path,
        canonical_solution="def third(x):\n    return x / 3\n",
        entry_point="third",
        atol=atol,
        assertion="assert third(3) > 0.9\n",
    )
    (p,) = load_problems(NAME, data_dir=tmp_path)
    failures, _ = _run(p, f"def third(x):\n    return {candidate}\n")
    assert (failures == []) is passes


def test_not_none_oracle(tmp_path):
    _plus_file(
        tmp_path,
        entry_point="text_match_three",
        canonical_solution="import re\ndef text_match_three(t):\n    return re.search('ab', t)\n",
        base_input=[["abbb"], ["a"]],
        plus_input=[],
        assertion="assert not text_match_three('ac')\n",
    )
    (p,) = load_problems(NAME, data_dir=tmp_path)
    ok = "def text_match_three(t):\n    return True if 'abbb' in t else None\n"
    assert _run(p, ok)[0] == []
    bad = "def text_match_three(t):\n    return False\n"
    message = "text_match_three('a') returned False, expected None (MBPP+ input #1)"
    assert _run(p, bad)[0] == [message]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"plus_input": "x"}, r":1: field 'plus_input' should be list or dict, got str"),
        ({"plus_input": {"a": 1}}, r":1: field 'plus_input' should be a list, got a dict"),
        ({"base_input": [1]}, r":1: base_input\[0\] should be a list of arguments, got int"),
        ({"task_id": "Mbpp-7"}, r":1: task_id 'Mbpp-7' is not of the form 'Mbpp/<n>'"),
        ({"assertion": "x = 1\n"}, r":1: field 'assertion' holds no assert"),
        ({"assertion": "assert (\n"}, r":1: field 'assertion' does not parse"),
        ({"entry_point": "double()"}, r":1: entry_point 'double\(\)' is not a Python name"),
        ({"task_id": "Mbpp/2", "base_input": [[1]]}, r":1: base_input\[0\] does not have the"),
    ],
)
def test_malformed_rows(tmp_path, overrides, message):
    _plus_file(tmp_path, **overrides)
    with pytest.raises(DatasetError, match=rf"MbppPlus\.git-767efcc\.jsonl{message}"):
        load_problems(NAME, data_dir=tmp_path)
