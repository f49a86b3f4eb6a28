"""Fixtures shared by every test package."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The team's local benchmark copies (MBPP and friends); skip when absent."""
    if not (SHARED_DATA_DIR / "mbpp.jsonl").is_file():
        pytest.skip(f"benchmark data not found at {SHARED_DATA_DIR}")
    return SHARED_DATA_DIR


@pytest.fixture(scope="session")
def xllamacpp():
    """The llama.cpp engine's package (the cpu extra); skip when it is not installed."""
    return pytest.importorskip("xllamacpp", reason="install the cpu extra: pip install -e '.[cpu]'")
