"""The packaged tiny model (`--model tiny`): built once per cache, safely under concurrency."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

BUILD = "from mucode.generation.tiny_model import tiny_model_dir; print(tiny_model_dir())"


def test_processes_building_it_at_once_all_get_one_loadable_copy(tmp_path):
    env = {**os.environ, "MUCODE_CACHE_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    stale = tmp_path / "hf" / "tiny-random-qwen2-v1"
    stale.mkdir(parents=True)
    (stale / "config.json").write_text("{")  # a killed build's leftovers, no marker
    builders = [subprocess.Popen([sys.executable, "-c", BUILD], env=env, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                for _ in range(3)]  # fmt: skip
    outputs = [builder.communicate(timeout=300) for builder in builders]
    assert [builder.returncode for builder in builders] == [0, 0, 0], outputs
    assert {out.strip() for out, _ in outputs} == {str(stale)}
    from transformers import AutoModelForCausalLM

    assert AutoModelForCausalLM.from_pretrained(stale).config.model_type == "qwen2"
    assert sorted(p.name for p in stale.parent.iterdir()) == [stale.name]  # nothing left over
