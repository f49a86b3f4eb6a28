"""Model file resolution: explicit path, cache, packaged parts (sha256-checked), hub."""

from __future__ import annotations

import hashlib

import pytest

from mucode.core.errors import ConfigError
from mucode.generation import models
from mucode.generation.models import PackagedModel, assemble, packaged_parts, resolve_model


def _parts(tmp_path, chunks):
    paths = []
    for i, chunk in enumerate(chunks):
        path = tmp_path / f"part{i}.bin"
        path.write_bytes(chunk)
        paths.append(path)
    return paths


def test_assemble_concatenates_in_order_and_checks_the_hash(tmp_path):
    chunks = [b"GGUF", b"-body-", b"end"]
    target = tmp_path / "out" / "m.gguf"
    sha = hashlib.sha256(b"".join(chunks)).hexdigest()
    assert assemble(_parts(tmp_path, chunks), target, sha) == target
    assert target.read_bytes() == b"GGUF-body-end"


def test_a_wrong_hash_is_refused_and_leaves_nothing(tmp_path):
    target = tmp_path / "m.gguf"
    with pytest.raises(ConfigError, match="refusing to load"):
        assemble(_parts(tmp_path, [b"tampered"]), target, "0" * 64)
    assert list(tmp_path.glob("m.gguf*")) == []


def test_missing_packages_are_reported_as_absent():
    assert packaged_parts([("mucode-no-such-distribution", "x/part.bin")]) is None


def test_explicit_path_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_model(str(tmp_path / "nope.gguf"))
    real = tmp_path / "m.gguf"
    real.write_bytes(b"GGUF")
    assert resolve_model(str(real)) == real


def test_cached_copy_wins_over_parts(tmp_path, monkeypatch):
    monkeypatch.setenv("MUCODE_CACHE_DIR", str(tmp_path))
    fake = PackagedModel("m.gguf", "0" * 64, 4, (("mucode-no-such-distribution", "p"),), "x/y")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.gguf").write_bytes(b"GGUF")
    assert resolve_model(None, fake) == tmp_path / "models" / "m.gguf"


def test_offline_without_any_copy_gives_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("MUCODE_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    fake = PackagedModel("m.gguf", "0" * 64, 4, (("mucode-no-such-distribution", "p"),), "x/y")
    with pytest.raises(ConfigError, match=r"--model PATH.*mucode\[cpu\]"):
        resolve_model(None, fake)
    assert models.models_dir() == tmp_path / "models"
