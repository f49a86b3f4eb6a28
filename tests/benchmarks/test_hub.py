import json
import sys
import time
import types

import pytest

from mucode.benchmarks import load_problems
from mucode.benchmarks.loader import _build_cached
from mucode.core.errors import DatasetError

BOTH_OPTIONS = (
    r"Either pass --data-dir /path \(or set MUCODE_DATA_DIR=/path\) to a directory containing "
    r"\S+, or run `pip install 'mucode\[hub\]'` on a machine with internet access"
)


@pytest.fixture(autouse=True)
def _hub_only(monkeypatch, tmp_path):
    """No local data configured; an offline hub with an empty cache; no cached problems."""
    monkeypatch.delenv("MUCODE_DATA_DIR", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    _build_cached.cache_clear()
    yield
    _build_cached.cache_clear()


def test_offline_hub_failure_is_fast_and_names_both_options():
    started = time.perf_counter()
    with pytest.raises(DatasetError, match=BOTH_OPTIONS) as caught:
        load_problems("mbpp")  # the real path: `datasets` missing, or present but offline
    assert time.perf_counter() - started < 30
    assert "google-research-datasets/mbpp (config 'full')" in str(caught.value)
    assert "containing mbpp.jsonl," in str(caught.value)
    assert "HF_HUB_OFFLINE, HF_DATASETS_OFFLINE set" in str(caught.value)


def _fake_datasets(monkeypatch, load_dataset):
    module = types.ModuleType("datasets")
    module.load_dataset = load_dataset
    monkeypatch.setitem(sys.modules, "datasets", module)


def test_unreachable_hub_names_both_options(monkeypatch):
    def unreachable(repo, config):
        raise ConnectionError(f"Couldn't reach '{repo}' on the Hub (LocalEntryNotFoundError)")

    _fake_datasets(monkeypatch, unreachable)
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("HF_DATASETS_OFFLINE")
    with pytest.raises(DatasetError, match=BOTH_OPTIONS) as caught:
        load_problems("mbpp-sanitized")
    message = str(caught.value)
    assert "ConnectionError: Couldn't reach 'google-research-datasets/mbpp'" in message
    assert "containing sanitized-mbpp.json," in message and "OFFLINE" not in message


def test_hub_rows_build_the_same_problems_as_the_files(monkeypatch, shared_data_dir):
    full = [json.loads(line) for line in (shared_data_dir / "mbpp.jsonl").open()]
    sanitized = json.loads((shared_data_dir / "sanitized-mbpp.json").read_text())
    calls = []

    def load_dataset(repo, config):  # the hub's split assignment, rows as the files hold them
        calls.append((repo, config))
        rows = full if config == "full" else sanitized
        return {
            "train": [r for r in rows if r["task_id"] > 600],
            "test": [r for r in rows if 10 < r["task_id"] <= 510],
            "validation": [r for r in rows if 510 < r["task_id"] <= 600],
            "prompt": [r for r in rows if r["task_id"] <= 10],
        }

    _fake_datasets(monkeypatch, load_dataset)
    for name in ("mbpp", "mbpp-sanitized"):
        for split in ("prompt", "test", "validation", "train"):
            from_hub = load_problems(name, split)
            from_file = load_problems(name, split, shared_data_dir)
            assert sorted(from_hub, key=lambda p: p.task_id) == sorted(
                from_file, key=lambda p: p.task_id
            )
    assert calls == [
        ("google-research-datasets/mbpp", "full"),
        ("google-research-datasets/mbpp", "sanitized"),
    ]


def test_malformed_hub_row_names_the_hub_row(monkeypatch):
    _fake_datasets(monkeypatch, lambda repo, config: {"test": [{"task_id": 11}]})
    with pytest.raises(DatasetError, match=r"hub google-research-datasets/mbpp\[full\] split "
                                           r"'test' row 0: missing field 'test_list'"):  # fmt: skip
        load_problems("mbpp")
