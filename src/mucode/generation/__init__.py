"""Generators: batched chat completion, N samples per conversation, one API for every backend.

Backends are imported lazily by name (``make_generator``), so ``mucode --help`` loads no
engine and a missing extra is named in the error.
"""

from mucode.generation.base import Generator, SamplingParams
from mucode.generation.scripted import ScriptedGenerator

__all__ = ["Generator", "SamplingParams", "ScriptedGenerator"]
