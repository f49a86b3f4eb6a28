import ast
import collections
import gzip
import json

import pytest

from mucode.benchmarks import get_problem, load_problems
from mucode.benchmarks.humaneval import PublicSource, public_test
from mucode.benchmarks.sources import humaneval_package_file
from mucode.core.errors import DatasetError


@pytest.fixture(scope="module")
def rows():
    with gzip.open(humaneval_package_file(), "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_164_problems_in_split_test():
    problems = load_problems("humaneval")
    assert len(problems) == 164
    assert {p.split for p in problems} == {"test"}
    assert problems[0].task_id == "HumanEval/0" and problems[-1].task_id == "HumanEval/163"


def test_fields_follow_the_official_data(rows):
    by_id = {p.task_id: p for p in load_problems("humaneval")}
    for row in rows:
        p = by_id[row["task_id"]]
        assert p.prompt == p.completion_prefix == row["prompt"]
        assert p.reference_solution == row["prompt"] + row["canonical_solution"]
        assert p.entry_point == row["entry_point"]
        assert p.private_tests == (f"{row['test']}\ncheck({row['entry_point']})\n",)
        assert p.setup_code == ""


def test_every_public_test_is_one_valid_assert_calling_the_entry_point():
    for p in load_problems("humaneval"):
        (test,) = p.public_tests
        (node,) = ast.parse(test).body
        assert isinstance(node, ast.Assert), p.task_id
        called = {
            n.func.id
            for n in ast.walk(node)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
        }
        assert p.entry_point in called, p.task_id
        assert "candidate" not in test


def test_public_test_sources(rows):
    sources = collections.Counter(
        public_test(r["task_id"], r["prompt"], r["test"], r["entry_point"], "w")[1] for r in rows
    )
    assert sources == {
        PublicSource.DOCSTRING: 132,
        PublicSource.CHECK: 30,
        PublicSource.ROUND_TRIP: 2,
    }


@pytest.mark.parametrize(
    ("task", "public"),
    [
        (0, "assert has_close_elements([1.0, 2.0, 3.0], 0.5) == False"),  # doctest
        (32, "assert round(find_zero([1, 2]), 2) == -0.5"),  # doctest with a comment
        (67, "assert fruit_distribution('5 apples and 6 oranges', 19) == 8"),  # derivation
        (76, "assert is_simple_power(1, 4) == True"),  # "=> true"
        (38, "assert decode_cyclic(encode_cyclic('helloworld')) == 'helloworld'"),
        (130, "assert tri(3) == [1, 3, 2.0, 8.0]"),  # docstring lines are not calls
        (149, "assert sorted_list_sum(['aa', 'a', 'aaa']) == ['aa']"),  # docstring names list_sort
    ],
)
def test_selected_public_tests(task, public):
    assert get_problem("humaneval", task).public_tests == (public,)


def test_no_example_anywhere_is_a_dataset_error():
    prompt = 'def f(x):\n    """Nothing to see."""\n'
    test = "def check(candidate):\n    for x in range(3):\n        assert candidate(x) == x\n"
    with pytest.raises(DatasetError, match=r"here:1: no usable example for 'f'"):
        public_test("HumanEval/999", prompt, test, "f", "here:1")


def test_humaneval_read_from_a_data_dir_when_it_holds_the_file(tmp_path, rows):
    row = {**rows[0], "task_id": "HumanEval/0"}
    (tmp_path / "HumanEval.jsonl").write_text(json.dumps(row) + "\n")
    assert len(load_problems("humaneval", data_dir=tmp_path)) == 1
    bad = {k: v for k, v in row.items() if k != "test"}
    (tmp_path / "HumanEval.jsonl").write_text(json.dumps(bad) + "\n")
    with pytest.raises(DatasetError, match=r"HumanEval\.jsonl:1: missing field 'test'"):
        load_problems("humaneval", data_dir=tmp_path)
