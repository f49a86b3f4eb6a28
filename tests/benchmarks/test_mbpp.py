import json

import pytest

from mucode.benchmarks import get_problem, load_problems
from mucode.benchmarks.mbpp import find_entry_point
from mucode.core.errors import DatasetError


@pytest.mark.parametrize(
    ("split", "count"), [("prompt", 10), ("test", 500), ("validation", 90), ("train", 374)]
)
def test_mbpp_split_sizes(shared_data_dir, split, count):
    problems = load_problems("mbpp", split, shared_data_dir)
    assert len(problems) == count
    assert {p.split for p in problems} == {split}
    assert all(p.benchmark == "mbpp" and p.task_id.startswith("Mbpp/") for p in problems)


def test_mbpp_default_split_is_test(shared_data_dir):
    problems = load_problems("mbpp", data_dir=shared_data_dir)
    assert [p.task_id for p in problems[:2]] == ["Mbpp/11", "Mbpp/12"]
    assert len(problems) == 500


def test_eval_split_public_first_assert_private_rest_plus_each_challenge(shared_data_dir):
    p = get_problem("mbpp", 11, shared_data_dir)
    assert p.prompt.startswith("Write a python function to remove first and last occurrence")
    assert p.entry_point == "remove_Occ"
    assert p.public_tests == ('assert remove_Occ("hello","l") == "heo"',)
    assert p.private_tests == (
        'assert remove_Occ("abcda","a") == "bcd"',
        'assert remove_Occ("PHP","P") == "H"',
        'assert remove_Occ("hellolloll","l") == "helollol"',  # challenge asserts, one test each
        'assert remove_Occ("","l") == ""',
    )
    assert p.reference_solution.startswith("def remove_Occ(s,ch)")
    assert p.completion_prefix == ""


def test_every_challenge_assert_is_its_own_private_test(shared_data_dir):
    rows = [json.loads(line) for line in (shared_data_dir / "mbpp.jsonl").open()]
    with_challenge = [r for r in rows if r["challenge_test_list"]]
    assert len(with_challenge) == 11
    for row in with_challenge:
        p = get_problem("mbpp", row["task_id"], shared_data_dir)
        assert p.private_tests[-len(row["challenge_test_list"]) :] == tuple(
            row["challenge_test_list"]
        )
        assert all(t.startswith("assert ") for t in p.private_tests)


def test_train_split_public_is_all_asserts(shared_data_dir):
    for p in load_problems("mbpp", "train", shared_data_dir):
        assert len(p.public_tests) == 3
        assert p.private_tests == ()  # no train task has challenge asserts


def test_validation_and_prompt_splits_use_the_eval_rule(shared_data_dir):
    for split in ("validation", "prompt"):
        for p in load_problems("mbpp", split, shared_data_dir):
            assert len(p.public_tests) == 1 and len(p.private_tests) == 2


def test_setup_code_and_missing_imports(shared_data_dir):
    assert get_problem("mbpp", 367, shared_data_dir).setup_code.startswith("root = Node(1)")
    assert get_problem("mbpp", 596, shared_data_dir).setup_code == "import sys"
    assert get_problem("mbpp", 12, shared_data_dir).setup_code == ""


@pytest.mark.parametrize(
    ("task", "entry_point"),
    [(126, "sum"), (601, "max_chain_length"), (17, "square_perimeter"), (367, "is_tree_balanced")],
)
def test_entry_points(shared_data_dir, task, entry_point):
    assert get_problem("mbpp", task, shared_data_dir).entry_point == entry_point


def test_entry_point_rules():
    code = "def helper(x):\n    return x\ndef solve(a):\n    return set(a)\n"
    assert find_entry_point("assert set(solve([1])) == {1}", code, "w") == "solve"
    assert find_entry_point("assert math.isclose(area(2), 4)", "", "w") == "area"
    with pytest.raises(DatasetError, match="w: first test does not parse"):
        find_entry_point("assert f(", code, "w")
    with pytest.raises(DatasetError, match="w: cannot tell which function"):
        find_entry_point("assert len([1]) == 1", code, "w")


def test_sanitized_counts_and_splits(shared_data_dir):
    sizes = {
        split: len(load_problems("mbpp-sanitized", split, shared_data_dir))
        for split in ("prompt", "test", "validation", "train")
    }
    assert sizes == {"prompt": 7, "test": 257, "validation": 43, "train": 120}
    assert sum(sizes.values()) == 427


def test_sanitized_tests_and_imports(shared_data_dir):
    p = get_problem("mbpp-sanitized", 2, shared_data_dir)
    assert p.split == "prompt" and p.entry_point == "similar_elements"
    assert p.public_tests == (
        "assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))",
    )
    assert len(p.private_tests) == 2
    p = get_problem("mbpp-sanitized", 6, shared_data_dir)  # six asserts
    assert len(p.public_tests) == 1 and len(p.private_tests) == 5
    train = load_problems("mbpp-sanitized", "train", shared_data_dir)
    assert all(p.private_tests == () and p.public_tests for p in train)
    with_imports = [
        p for p in load_problems("mbpp-sanitized", "test", shared_data_dir) if p.setup_code
    ]
    assert with_imports and all(p.setup_code == "import math" for p in with_imports)


GOOD_ROW = {
    "text": "Write f.",
    "code": "def f():\n    return 1",
    "task_id": 11,
    "test_setup_code": "",
    "test_list": ["assert f() == 1"],
    "challenge_test_list": [],
}


def _write_jsonl(tmp_path, rows):
    path = tmp_path / "mbpp.jsonl"
    path.write_text("".join(r if isinstance(r, str) else json.dumps(r) + "\n" for r in rows))
    return path


def test_a_small_good_file_loads(tmp_path):
    _write_jsonl(tmp_path, [GOOD_ROW, {**GOOD_ROW, "task_id": 700}])
    assert [p.task_id for p in load_problems("mbpp", "test", tmp_path)] == ["Mbpp/11"]
    assert [p.split for p in load_problems("mbpp", "train", tmp_path)] == ["train"]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({k: v for k, v in GOOD_ROW.items() if k != "test_list"}, r":2: missing field 'test_list'"),
        ({**GOOD_ROW, "test_list": "assert f() == 1"}, r":2: field 'test_list' should be list"),
        ({**GOOD_ROW, "task_id": "12"}, r":2: field 'task_id' should be int, got str"),
        ({**GOOD_ROW, "task_id": 2000}, r":2: task_id 2000 is outside MBPP's range"),
        ({**GOOD_ROW, "test_list": []}, r":2: field 'test_list' is empty"),
        ({**GOOD_ROW, "challenge_test_list": [None]}, r":2: field 'challenge_test_list'\[0\]"),
        ('{"text": "broken\n', r":2: not valid JSON"),
    ],
)
def test_malformed_rows_name_file_line_and_field(tmp_path, bad, message):
    _write_jsonl(tmp_path, [{**GOOD_ROW, "task_id": 12}, bad, {**GOOD_ROW, "task_id": 13}])
    with pytest.raises(DatasetError, match=rf"mbpp\.jsonl{message}"):
        load_problems("mbpp", data_dir=tmp_path)


def test_duplicate_task_ids_are_rejected(tmp_path):
    _write_jsonl(tmp_path, [GOOD_ROW, GOOD_ROW])
    with pytest.raises(DatasetError, match="task Mbpp/11 appears more than once"):
        load_problems("mbpp", data_dir=tmp_path)


def test_malformed_sanitized_row(tmp_path):
    row = {"prompt": "p", "code": "def f(): pass", "task_id": 11, "test_list": ["assert f()"]}
    (tmp_path / "sanitized-mbpp.json").write_text(json.dumps([row], indent=2))
    with pytest.raises(DatasetError, match=r"sanitized-mbpp\.json:2: missing field 'test_imports'"):
        load_problems("mbpp-sanitized", data_dir=tmp_path)
