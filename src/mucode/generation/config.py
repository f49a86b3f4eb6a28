"""One config class per backend, told apart by ``backend``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class LlamaCppConfig(BaseModel):
    """The embedded llama.cpp engine (CPU by default), any GGUF file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["llamacpp"] = "llamacpp"
    model: str | None = Field(None, description="GGUF path; default: Qwen2.5-Coder-0.5B Q4_K_M.")
    parallel: int = Field(4, ge=1, description="Requests decoded together (server slots).")
    context: int = Field(4096, ge=256, description="Context length per slot, in tokens.")
    threads: int | None = Field(None, ge=1, description="CPU threads; default: all cores.")


GeneratorConfig = LlamaCppConfig
