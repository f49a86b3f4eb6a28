"""One config class per backend, told apart by ``backend``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class LlamaCppConfig(BaseModel):
    """The embedded llama.cpp engine (CPU by default), any GGUF file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["llamacpp"] = "llamacpp"
    model: str | None = Field(None, description="GGUF path; default: Qwen2.5-Coder-0.5B Q4_K_M.")
    parallel: int = Field(4, ge=1, description="Requests decoded together (server slots).")
    context: int = Field(4096, ge=256, description="Context length per slot, in tokens.")
    threads: int | None = Field(None, ge=1, description="CPU threads; default: all cores.")
    cache_ram_mib: int = Field(
        8192, ge=-1, description="Host memory for past prompts' KV, MiB (0 = off, -1 = no limit)."
    )
    adapter: str | None = Field(
        None, description="GGUF LoRA adapter file, or a directory holding adapter.gguf."
    )
    adapter_scale: float = Field(
        1.0, ge=0, description="Strength of the adapter on every request (0 = the base model)."
    )


class OpenAIConfig(BaseModel):
    """Any OpenAI-compatible server: vLLM, SGLang, llama.cpp server, Ollama, ..."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["openai"] = "openai"
    base_url: str = Field(description="Server URL including /v1, e.g. http://127.0.0.1:8000/v1.")
    model: str = Field(description="Model name the server knows.")
    api_key_env: str = Field("OPENAI_API_KEY", description="Environment variable with the key.")
    concurrency: int = Field(8, ge=1, description="Requests in flight at once.")
    timeout_s: float = Field(600.0, gt=0, description="Per-request timeout.")
    max_retries: int = Field(3, ge=0, description="Retries with exponential backoff.")


class VLLMConfig(BaseModel):
    """vLLM's offline engine, for GPU machines."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["vllm"] = "vllm"
    model: str = Field(description="Hugging Face model id or local directory.")
    tensor_parallel: int = Field(1, ge=1, description="GPUs per model replica.")
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1)
    max_model_len: int | None = Field(None, ge=256, description="Context length cap.")


class HFConfig(BaseModel):
    """A Hugging Face transformers causal LM, optionally with a PEFT (LoRA) adapter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["hf"] = "hf"
    model: str = Field(description="Hub id or local directory of the model.")
    adapter: str | None = Field(None, description="PEFT adapter directory or hub id.")
    device: str = Field("auto", description="'auto' (GPU if present), 'cpu', 'cuda', ...")
    batch_size: int = Field(8, ge=1, description="Requests generated together.")


GeneratorConfig = Annotated[
    LlamaCppConfig | OpenAIConfig | VLLMConfig | HFConfig, Field(discriminator="backend")
]
