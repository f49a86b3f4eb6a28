import time

import pytest

from mucode.benchmarks import get_problem, load_problems
from mucode.benchmarks.loader import _build_cached
from mucode.core.errors import ConfigError


def test_unknown_name_and_split_list_the_choices(shared_data_dir):
    with pytest.raises(ConfigError, match=r"unknown benchmark 'mbp'; choose from \['humaneval'"):
        load_problems("mbp", data_dir=shared_data_dir)
    with pytest.raises(ConfigError, match=r"'humaneval' has no split 'train'; choose from \['test"):
        load_problems("humaneval", "train")


def test_task_ids_select_in_the_given_order(shared_data_dir):
    problems = load_problems("mbpp", "test", shared_data_dir, task_ids=["Mbpp/20", 11, "15"])
    assert [p.task_id for p in problems] == ["Mbpp/20", "Mbpp/11", "Mbpp/15"]


def test_unknown_task_ids_are_named(shared_data_dir):
    with pytest.raises(ConfigError, match=r"Mbpp/700 is in split 'train' of 'mbpp', not in 'test'"):
        load_problems("mbpp", "test", shared_data_dir, task_ids=[11, 700])
    with pytest.raises(ConfigError, match=r"task Mbpp/1 is not in benchmark 'mbpp-plus-snapshot'"):
        load_problems("mbpp-plus-snapshot", data_dir=shared_data_dir, task_ids=["Mbpp/1"])
    with pytest.raises(ConfigError, match=r"task HumanEval/164 is not in benchmark 'humaneval'"):
        get_problem("humaneval", 164)


def test_get_problem_searches_every_split(shared_data_dir):
    assert get_problem("mbpp", "Mbpp/5", shared_data_dir).split == "prompt"
    assert get_problem("mbpp", 974, shared_data_dir).split == "train"
    assert get_problem("mbpp-sanitized", 600, shared_data_dir).split == "validation"


def test_problems_are_built_once_per_source(shared_data_dir):
    first = load_problems("mbpp", "test", shared_data_dir)
    started = time.perf_counter()
    second = load_problems("mbpp", "test", shared_data_dir)
    assert time.perf_counter() - started < 0.5  # identity below is the real check
    assert all(a is b for a, b in zip(first, second, strict=True))


def test_first_load_of_mbpp_is_fast(shared_data_dir):
    _build_cached.cache_clear()
    started = time.perf_counter()
    load_problems("mbpp", data_dir=shared_data_dir)
    assert time.perf_counter() - started < 1.0  # about 0.1 s on one core; loose for CI


def test_an_edited_file_is_read_again(tmp_path, shared_data_dir):
    lines = (shared_data_dir / "mbpp.jsonl").read_text().splitlines(keepends=True)
    path = tmp_path / "mbpp.jsonl"
    path.write_text("".join(lines[10:12]))
    assert len(load_problems("mbpp", data_dir=tmp_path)) == 2
    path.write_text("".join(lines[10:13]))
    assert len(load_problems("mbpp", data_dir=tmp_path)) == 3
