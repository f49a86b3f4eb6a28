import pytest

from mucode.benchmarks import normalize_task_id
from mucode.core.errors import ConfigError


@pytest.mark.parametrize("raw", [11, "11", "Mbpp/11", "mbpp/11", " Mbpp/11 ", "Mbpp/011"])
def test_mbpp_family_forms(raw):
    for name in ("mbpp", "mbpp-sanitized", "mbpp-plus-snapshot"):
        assert normalize_task_id(name, raw) == "Mbpp/11"


@pytest.mark.parametrize("raw", [0, "0", "HumanEval/0", "humaneval/0"])
def test_humaneval_forms(raw):
    assert normalize_task_id("humaneval", raw) == "HumanEval/0"


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("mbpp", "HumanEval/3", r"prefix 'HumanEval', not 'Mbpp'"),
        ("humaneval", "Mbpp/3", r"prefix 'Mbpp', not 'HumanEval'"),
        ("mbpp", "eleven", r"'eleven' is not a valid 'mbpp' id; expected Mbpp/<n>"),
        ("mbpp", -3, r"-3 is not a valid"),
        ("mbpp", True, r"type bool"),
        ("mbpp", 1.5, r"type float"),
    ],
)
def test_bad_ids_are_named(name, raw, message):
    with pytest.raises(ConfigError, match=message):
        normalize_task_id(name, raw)


def test_unknown_benchmark():
    with pytest.raises(ConfigError, match="unknown benchmark 'apps'"):
        normalize_task_id("apps", 1)
