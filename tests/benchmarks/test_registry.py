import dataclasses

import pytest

from mucode.benchmarks import BENCHMARKS, BenchmarkInfo
from mucode.benchmarks.registry import check_split, get_info, mbpp_split_of
from mucode.core.errors import ConfigError


def test_catalogue_names_and_splits():
    assert sorted(BENCHMARKS) == ["humaneval", "mbpp", "mbpp-plus-snapshot", "mbpp-sanitized"]
    assert BENCHMARKS["mbpp"].splits == ("prompt", "test", "validation", "train")
    assert BENCHMARKS["humaneval"].splits == ("test",)
    for name, info in BENCHMARKS.items():
        assert info.name == name
        assert info.default_split in info.splits
        assert info.description and info.source


def test_info_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        BENCHMARKS["mbpp"].name = "x"  # type: ignore[misc]
    assert isinstance(BENCHMARKS["mbpp"], BenchmarkInfo)


def test_plus_snapshot_is_described_honestly():
    text = BENCHMARKS["mbpp-plus-snapshot"].description
    assert "2023-11" in text and "399" in text and "NOT the v0.2.0" in text


def test_unknown_name_lists_the_choices():
    with pytest.raises(ConfigError, match=r"unknown benchmark 'mbpp\+'.*'humaneval'.*'mbpp'"):
        get_info("mbpp+")


def test_split_check():
    info = get_info("mbpp")
    assert check_split(info, None) == "test"
    assert check_split(info, "train") == "train"
    with pytest.raises(ConfigError, match=r"no split 'dev'.*\['prompt', 'test'"):
        check_split(info, "dev")


@pytest.mark.parametrize(
    ("number", "split"),
    [(1, "prompt"), (10, "prompt"), (11, "test"), (510, "test"), (511, "validation"),
     (600, "validation"), (601, "train"), (974, "train"), (0, None), (975, None)],
)  # fmt: skip
def test_mbpp_split_ranges(number, split):
    assert mbpp_split_of(number) == split
