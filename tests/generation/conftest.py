"""One real llama.cpp engine (the embedded default model) shared by the generation tests."""

from __future__ import annotations

import pytest

from mucode.core.errors import ConfigError
from mucode.generation import make_generator
from mucode.generation.config import LlamaCppConfig


@pytest.fixture(scope="session")
def llamacpp():
    pytest.importorskip("xllamacpp", reason="install the cpu extra: pip install -e '.[cpu]'")
    try:
        generator = make_generator(LlamaCppConfig(parallel=2, context=2048))
    except ConfigError as e:
        pytest.skip(f"no model available: {e}")
    yield generator
    generator.close()
