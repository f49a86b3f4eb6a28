"""Run manifests record what made a run and refuse mixed resumes."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, ConfigDict

from mucode.core.errors import ConfigError
from mucode.core.manifest import MANIFEST, record_in_manifest, write_or_check_manifest


class Run(BaseModel):
    model_config = ConfigDict(extra="forbid")

    turns: int
    seed: int = 0


class RunWithANewSetting(Run):
    cache_mib: int = 8192


def test_manifest_records_config_versions_git_and_host(tmp_path):
    path = write_or_check_manifest(tmp_path / "run", Run(turns=3, seed=1))
    info = json.loads(path.read_text())
    assert path.name == MANIFEST and info["config"] == {"turns": 3, "seed": 1}
    assert info["versions"]["python"] and info["versions"]["mucode"]
    assert set(info["git"]) == {"revision", "dirty"} and info["host"]["cpus"] >= 1


def test_resuming_with_the_same_config_is_fine_and_a_different_one_is_refused(tmp_path):
    write_or_check_manifest(tmp_path, Run(turns=3, seed=1))
    write_or_check_manifest(tmp_path, Run(turns=3, seed=1))
    info = json.loads((tmp_path / MANIFEST).read_text())
    assert len(info["resumes"]) == 1 and info["resumes"][0]["at"] >= info["at"]
    assert set(info["resumes"][0]) == {"at", "git", "versions", "host"}
    with pytest.raises(ConfigError, match=r"different settings \(seed, turns\)"):
        write_or_check_manifest(tmp_path, Run(turns=2, seed=2))


def test_a_resume_with_nothing_left_to_do_checks_the_config_and_records_nothing(tmp_path):
    write_or_check_manifest(tmp_path, Run(turns=3))
    before = (tmp_path / MANIFEST).read_text()
    write_or_check_manifest(tmp_path, Run(turns=3), work_left=False)
    assert (tmp_path / MANIFEST).read_text() == before
    with pytest.raises(ConfigError, match="different settings"):
        write_or_check_manifest(tmp_path, Run(turns=2), work_left=False)


def test_a_setting_added_since_the_run_began_counts_at_its_default(tmp_path):
    write_or_check_manifest(tmp_path, Run(turns=3))
    write_or_check_manifest(tmp_path, RunWithANewSetting(turns=3))  # an upgrade: still resumes
    with pytest.raises(ConfigError, match=r"different settings \(cache_mib\)"):
        write_or_check_manifest(tmp_path, RunWithANewSetting(turns=3, cache_mib=0))


def test_a_manifest_with_settings_this_version_does_not_know_is_a_clear_error(tmp_path):
    write_or_check_manifest(tmp_path, RunWithANewSetting(turns=3, cache_mib=0))
    with pytest.raises(ConfigError, match=r"cannot read \(cache_mib: Extra inputs"):
        write_or_check_manifest(tmp_path, Run(turns=3))


def test_what_a_run_decides_at_start_up_goes_in_its_latest_entry(tmp_path):
    write_or_check_manifest(tmp_path, Run(turns=3))
    record_in_manifest(tmp_path, "limits", {"source": "base"})
    write_or_check_manifest(tmp_path, Run(turns=3))  # resumed, perhaps on another machine
    record_in_manifest(tmp_path, "limits", {"source": "calibrated"})
    info = json.loads((tmp_path / MANIFEST).read_text())
    assert info["limits"] == {"source": "base"}
    assert info["resumes"][-1]["limits"] == {"source": "calibrated"}
