"""One config class per backend, told apart by ``backend``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

DRAFT_MAX = 8
NGRAM_SIZE = 4


class Speculation(BaseModel):
    """Draft-free speculative decoding: the engine looks the last ``ngram_size`` tokens up in
    the conversation so far (prompt and answer) and, where they occurred before, proposes the
    tokens that followed as a draft, which the model checks in one batched pass. A repair turn
    mostly rewrites the previous code, so most of its tokens can be drafted this way.

    Greedy answers stay the model's own answers (a draft token is kept only where the model
    would have chosen it); the engines' batched pass can still round differently from the
    one-token pass, so near-ties may resolve differently. The sizes are provisional defaults,
    to be settled by ``bench/speculative.py``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["off", "ngram"] = Field(
        "off", description="'ngram': prompt-lookup drafts from the conversation; 'off': none."
    )
    draft_max: int | None = Field(
        None, ge=1, le=256, description=f"Most tokens drafted per step [{DRAFT_MAX} with ngram]."
    )
    ngram_size: int | None = Field(
        None, ge=1, le=64,
        description=f"Tokens matched against the conversation to find a draft [{NGRAM_SIZE}].",
    )  # fmt: skip

    @model_validator(mode="before")
    @classmethod
    def _sizes_for_the_method(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        given = {k: v for k, v in data.items() if v is not None}
        sizes = sorted({"draft_max", "ngram_size"} & given.keys())
        if given.get("method", "off") == "off" and sizes:
            raise ValueError(f"{' and '.join(sizes)} set while speculation is off; set "
                             "method: ngram (--speculative ngram) or leave them out")  # fmt: skip
        if given.get("method") == "ngram":
            given = {"draft_max": DRAFT_MAX, "ngram_size": NGRAM_SIZE, **given}
        return given

    @property
    def on(self) -> bool:
        """Whether the engine drafts at all."""
        return self.method != "off"


def llamacpp_speculation_problem(speculation: Speculation) -> str | None:
    """Why llama.cpp cannot use ``speculation`` as asked, or None: its n-gram lookup never
    proposes a draft shorter than the n-gram, so ``draft_max < ngram_size`` drafts nothing."""
    draft_max, ngram_size = speculation.draft_max or 0, speculation.ngram_size or 0
    if speculation.on and draft_max < ngram_size:
        return (f"draft_max ({draft_max}) is below ngram_size ({ngram_size}): llama.cpp's "
                "n-gram lookup would never draft; raise draft_max (--draft-max) or lower "
                "ngram_size (--ngram-size)")  # fmt: skip
    return None


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
    speculative: Speculation = Field(default_factory=Speculation)

    @model_validator(mode="after")
    def _speculation_usable(self) -> LlamaCppConfig:
        problem = llamacpp_speculation_problem(self.speculative)
        if problem is not None:
            raise ValueError(f"speculative: {problem}")
        return self


class OpenAIConfig(BaseModel):
    """Any OpenAI-compatible server: vLLM, SGLang, llama.cpp server, Ollama, ..."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["openai"] = "openai"
    base_urls: tuple[str, ...] = Field(
        min_length=1,
        validation_alias=AliasChoices("base_urls", "base_url"),  # one URL, as before: base_url
        description="Server URLs including /v1, e.g. http://127.0.0.1:8000/v1; several are "
        "replicas of one model, each request going to the one with the fewest in flight.",
    )
    model: str = Field(description="Model name the server knows.")
    api_key_env: str = Field("OPENAI_API_KEY", description="Environment variable with the key.")
    concurrency: int = Field(
        8,
        ge=1,
        description="Requests in flight at once: this many times the number of servers "
        "in all, each to the server with the fewest in flight, so a server set aside leaves its "
        "share to the others.",
    )
    timeout_s: float = Field(600.0, gt=0, description="Per-request timeout.")
    max_retries: int = Field(
        3, ge=0, description="Retries with exponential backoff on the same server."
    )
    set_aside_s: float = Field(
        30.0, gt=0, description="With several servers: how long one that failed gets no requests."
    )

    @field_validator("base_urls", mode="before")
    @classmethod
    def _one_or_several(cls, urls: Any) -> Any:
        return (urls,) if isinstance(urls, str) else urls

    @field_validator("base_urls")
    @classmethod
    def _distinct(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        twice = sorted({url for url in urls if urls.count(url) > 1})
        if twice:
            raise ValueError(f"{', '.join(twice)} given more than once; list each server once")
        return urls


class VLLMConfig(BaseModel):
    """vLLM's offline engine, for GPU machines."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["vllm"] = "vllm"
    model: str = Field(description="Hugging Face model id or local directory.")
    tensor_parallel: int = Field(1, ge=1, description="GPUs per model replica.")
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1)
    max_model_len: int | None = Field(None, ge=256, description="Context length cap.")
    speculative: Speculation = Field(default_factory=Speculation)


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
