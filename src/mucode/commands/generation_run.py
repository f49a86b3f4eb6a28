"""What rollout and search runs share: the problems, the engine, the sandbox limits."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mucode.benchmarks import load_problems
from mucode.calibration import ProblemLimits, problem_limits
from mucode.core.errors import ConfigError, validation_problems
from mucode.core.manifest import record_in_manifest
from mucode.core.records import Problem
from mucode.generation.config import (
    GeneratorConfig,
    HFConfig,
    LlamaCppConfig,
    OpenAIConfig,
    Speculation,
    VLLMConfig,
    llamacpp_speculation_problem,
)
from mucode.sandbox import ProgramRunner


class GenerationRun(BaseModel):
    """Problems, generator and sandbox settings of a run; subclasses add the rest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    benchmark: str
    split: str | None = None
    tasks: tuple[str, ...] | None = None
    limit: int | None = Field(None, ge=1)
    data_dir: Path | None = None
    generator: GeneratorConfig
    timeout_s: float | None = None
    workers: int | None = None
    # where programs run does not change their verdicts, so a run may resume elsewhere: the
    # address is left out of the compared config and recorded per start under ``sandbox``
    ray: str | None = Field(None, exclude=True, description="Ray cluster address (--ray).")

    def problems(self) -> list[Problem]:
        """The benchmark split's problems, only ``tasks`` if given, the first ``limit`` if set."""
        found = load_problems(self.benchmark, split=self.split, data_dir=self.data_dir,
                              task_ids=self.tasks)  # fmt: skip
        return found[: self.limit] if self.limit is not None else found


def recorded_limits(
    problems: list[Problem], sandbox: ProgramRunner, run_dir: Path
) -> ProblemLimits:
    """Each problem's limits for this run, recorded under ``limits`` in its manifest, and
    where its programs run (this machine or a Ray cluster's nodes) under ``sandbox``."""
    limits = problem_limits(problems, sandbox)
    record_in_manifest(run_dir, "limits", limits.to_dict())
    record_in_manifest(run_dir, "sandbox", sandbox.describe())
    return limits


def speculation(method: str, draft_max: int | None, ngram_size: int | None) -> Speculation:
    """Speculative decoding as ``--speculative``, ``--draft-max`` and ``--ngram-size`` ask."""
    try:
        return Speculation(method=method, draft_max=draft_max, ngram_size=ngram_size)
    except ValidationError as e:
        problems = validation_problems(e).replace("value: Value error, ", "")
        raise ConfigError(f"--speculative {method}: {problems}") from e


def generator_config(backend: str, model: str | None, base_url: str | Sequence[str] | None,
                     engine: dict, adapter: str | None = None,
                     speculative: Speculation | None = None) -> GeneratorConfig:  # fmt: skip
    """The backend's config from command-line options; options it cannot use are errors.
    ``base_url``: one server's URL, or several (``--base-url`` given more than once)."""
    speculative = speculative or Speculation()
    base_urls = (base_url,) if isinstance(base_url, str) else tuple(base_url or ())
    if base_urls and backend != "openai":
        raise ConfigError(f"--base-url is for --backend openai, not {backend}")
    if adapter is not None and backend not in ("hf", "llamacpp"):
        raise ConfigError(f"--adapter is for --backend hf or llamacpp, not {backend}")
    _check_speculation(backend, speculative)
    if backend == "llamacpp":
        return LlamaCppConfig(model=model, adapter=adapter, speculative=speculative, **engine)
    if model is None:
        raise ConfigError(f"--backend {backend} needs --model (a model name or directory)")
    if backend == "openai":
        if not base_urls:
            raise ConfigError("--backend openai needs --base-url URL")
        return _openai_config(base_urls, model)
    if backend == "hf":
        return HFConfig(model=model, adapter=adapter)
    return VLLMConfig(model=model, speculative=speculative)


def _openai_config(base_urls: tuple[str, ...], model: str) -> OpenAIConfig:
    try:
        return OpenAIConfig(base_urls=base_urls, model=model)
    except ValidationError as e:
        problems = validation_problems(e).replace("base_urls: Value error, ", "")
        raise ConfigError(f"--base-url: {problems}") from e


def _check_speculation(backend: str, speculative: Speculation) -> None:
    if speculative.on and backend == "openai":
        raise ConfigError("--speculative is for --backend llamacpp or vllm; an OpenAI-"
                          "compatible server speculates as it was started (e.g. vllm "
                          "serve --speculative-config, llama-server --spec-type "
                          "ngram-simple)")  # fmt: skip
    if speculative.on and backend == "hf":
        raise ConfigError("--speculative is for --backend llamacpp or vllm, not hf")
    problem = llamacpp_speculation_problem(speculative) if backend == "llamacpp" else None
    if problem is not None:
        raise ConfigError(f"--speculative {speculative.method}: {problem}")
