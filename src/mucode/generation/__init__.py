"""Generators: batched chat completion, N samples per conversation, one API for every backend.

Backends are imported lazily by name (``make_generator``), so ``mucode --help`` loads no
engine and a missing extra is named in the error.
"""

from importlib import import_module

from mucode.core.errors import ConfigError
from mucode.generation.base import Generator, SamplingParams
from mucode.generation.config import GeneratorConfig
from mucode.generation.scripted import ScriptedGenerator

_BACKENDS = {
    "llamacpp": "mucode.generation.llamacpp:LlamaCppGenerator",
    "openai": "mucode.generation.openai_compat:OpenAICompatGenerator",
    "vllm": "mucode.generation.vllm_engine:VLLMGenerator",
    "hf": "mucode.generation.hf:HFGenerator",
}


def make_generator(config: GeneratorConfig) -> Generator:
    """Build the backend ``config.backend`` names (imported only now)."""
    if config.backend not in _BACKENDS:
        raise ConfigError(f"unknown backend {config.backend!r}; choose from {sorted(_BACKENDS)}")
    module, name = _BACKENDS[config.backend].split(":")
    return getattr(import_module(module), name)(config)


__all__ = ["Generator", "GeneratorConfig", "SamplingParams", "ScriptedGenerator", "make_generator"]
