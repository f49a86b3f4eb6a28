import json

import pytest

from mucode.core.errors import DatasetError
from mucode.core.records import Problem
from mucode.evaluation.samples import read_samples, reference_samples


def _problem(task_id: str, prefix: str = "") -> Problem:
    return Problem(
        task_id=task_id,
        benchmark="mbpp",
        split="test",
        prompt="Write f.",
        entry_point="f",
        setup_code="",
        public_tests=("assert f(1) == 1",),
        private_tests=("assert f(2) == 2",),
        reference_solution="def f(x):\n    return x\n",
        completion_prefix=prefix,
    )


@pytest.fixture
def problems():
    return {
        "Mbpp/11": _problem("Mbpp/11"),
        "Mbpp/12": _problem("Mbpp/12", prefix="def f(x):\n"),
    }


def _write(path, lines):
    path.write_text(
        "".join(line if isinstance(line, str) else json.dumps(line) + "\n" for line in lines)
    )
    return path


def test_completion_is_appended_to_prefix_and_code_runs_as_is(tmp_path, problems):
    path = _write(
        tmp_path / "s.jsonl",
        [
            {"task_id": "Mbpp/12", "completion": "    return x\n"},
            {"task_id": "Mbpp/12", "code": "def f(x):\n    return x\n"},
        ],
    )
    first, second = read_samples(path, problems, "mbpp")
    assert first.program == "def f(x):\n    return x\n"
    assert second.program == "def f(x):\n    return x\n"
    assert first.fields == {"task_id": "Mbpp/12", "completion": "    return x\n"}


def test_completion_ids_count_per_task_in_input_order(tmp_path, problems):
    path = _write(
        tmp_path / "s.jsonl",
        [
            {"task_id": "Mbpp/11", "code": "a"},
            {"task_id": "Mbpp/12", "code": "b"},
            {"task_id": "Mbpp/11", "code": "c"},
            "\n",  # blank lines are skipped
            {"task_id": "Mbpp/11", "code": "d"},
        ],
    )
    samples = read_samples(path, problems, "mbpp")
    assert [(s.task_id, s.completion_id, s.program) for s in samples] == [
        ("Mbpp/11", 0, "a"),
        ("Mbpp/12", 0, "b"),
        ("Mbpp/11", 1, "c"),
        ("Mbpp/11", 2, "d"),
    ]
    assert samples[-1].source == f"{path}:5"


def test_an_evalplus_solution_is_a_whole_program(tmp_path, problems):
    # EvalPlus's codegen writes {"task_id", "solution"} lines; the solution already
    # holds the prompt's code, so no prefix is added.
    path = tmp_path / "samples.jsonl"
    path.write_text(json.dumps({"task_id": "Mbpp/12", "solution": "def f(x):\n    return x\n"})
                    + "\n")  # fmt: skip
    (sample,) = read_samples(path, problems, "mbpp")
    assert sample.program == "def f(x):\n    return x\n"
    assert sample.fields == {"task_id": "Mbpp/12", "solution": "def f(x):\n    return x\n"}


@pytest.mark.parametrize("raw", [11, "11", "Mbpp/11"])
def test_task_ids_are_normalised(tmp_path, problems, raw):
    path = _write(tmp_path / "s.jsonl", [{"task_id": raw, "code": "x"}])
    (sample,) = read_samples(path, problems, "mbpp")
    assert sample.task_id == "Mbpp/11"


@pytest.mark.parametrize(
    ("line", "match"),
    [
        (
            {"task_id": "Mbpp/11", "completion": "a", "code": "b"},
            r"s\.jsonl:2: .*has 'completion' and 'code'",
        ),
        (
            {"task_id": "Mbpp/11", "solution": "a", "code": "b"},
            r"s\.jsonl:2: .*has 'solution' and 'code'",
        ),
        (
            {"task_id": "Mbpp/11"},
            r"s\.jsonl:2: .*exactly one of 'completion'.*'solution'.*'code'.*has none of them",
        ),
        ({"task_id": "Mbpp/11", "code": None}, r"s\.jsonl:2: 'code' must be a string"),
        ({"completion": "a"}, r"s\.jsonl:2: no 'task_id'"),
        ({"task_id": "Mbpp/999", "code": "a"}, r"s\.jsonl:2: task_id 'Mbpp/999'.*not in"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path, problems, line, match):
    path = _write(tmp_path / "s.jsonl", [{"task_id": "Mbpp/11", "code": "ok"}, line])
    with pytest.raises(DatasetError, match=match):
        read_samples(path, problems, "mbpp")


def test_empty_file_is_an_error(tmp_path, problems):
    path = _write(tmp_path / "s.jsonl", ["\n"])
    with pytest.raises(DatasetError, match="no samples"):
        read_samples(path, problems, "mbpp")


def test_reference_samples_are_code_in_problem_order(problems):
    samples = reference_samples(list(problems.values()))
    assert [s.task_id for s in samples] == ["Mbpp/11", "Mbpp/12"]
    assert samples[1].program == "def f(x):\n    return x\n"  # no prefix for code
    assert samples[1].fields == {"task_id": "Mbpp/12", "code": "def f(x):\n    return x\n"}
    assert {s.completion_id for s in samples} == {0}
