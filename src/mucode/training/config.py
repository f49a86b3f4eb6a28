"""The expert-iteration run as one YAML file: problems, generator, each stage's settings,
and the schedule. ``mucode train --preset NAME`` starts from a packaged file
(``presets/NAME.yaml``); ``--set key.path=value`` overrides single settings."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mucode.core.errors import ConfigError, validation_problems
from mucode.generation.causal_lm import EMBEDDED, is_gguf_base
from mucode.generation.config import Speculation, llamacpp_speculation_problem
from mucode.search.selectors import Selection
from mucode.training.relabel import RelabelConfig
from mucode.training.sft import SFTConfig
from mucode.verifier.train import VerifierTrainConfig

PRESETS = resources.files("mucode.training") / "presets"
_PLACEHOLDER = (Path("."),)  # stands for the paths the loop fills in, to validate early


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProblemSet(_Frozen):
    """A benchmark split, optionally its first ``limit`` problems."""

    benchmark: str
    split: str | None = None
    tasks: tuple[str, ...] | None = Field(None, description="Only these task ids.")
    limit: int | None = Field(None, ge=1)
    data_dir: Path | None = None


class GeneratorSettings(_Frozen):
    """The generator being trained and the engine that samples from it."""

    base: str = Field(EMBEDDED, description="'embedded', a GGUF file, an HF dir or hub id.")
    backend: Literal["llamacpp", "hf", "vllm"] = "llamacpp"
    parallel: int = Field(4, ge=1, description="llamacpp: slots; hf: batch size.")
    threads: int | None = Field(None, ge=1, description="llamacpp: CPU threads.")
    context: int = Field(4096, ge=256, description="llamacpp: context per slot.")
    speculative: Speculation = Field(
        default_factory=Speculation, description="llamacpp, vllm: n-gram speculative decoding."
    )

    @model_validator(mode="after")
    def _speculation_fits_the_backend(self) -> GeneratorSettings:
        if self.speculative.on and self.backend == "hf":
            raise ValueError("speculative: the hf backend does not speculate; use llamacpp or vllm")
        problem = llamacpp_speculation_problem(self.speculative)
        if self.backend == "llamacpp" and problem is not None:
            raise ValueError(f"speculative: {problem}")
        return self


class Sampling(_Frozen):
    """Episodes per problem, turns and sampling of a rollout or search."""

    samples: int = Field(4, ge=1)
    turns: int = Field(3, ge=1)
    temperature: float = Field(0.7, ge=0)
    max_tokens: int = Field(768, ge=1)
    concurrency: int = Field(4, ge=1)


class Evaluation(_Frozen):
    """Held-out problems, scored after every iteration (and once for the base model)."""

    problems: tuple[ProblemSet, ...] = ()
    turns: int = Field(3, ge=1)
    best_of: int = Field(5, ge=1, description="N of the multi-turn Best-of-N search.")
    select: Selection = Selection.PT_LV
    temperature: float = Field(0.7, ge=0)
    max_tokens: int = Field(768, ge=1)
    concurrency: int = Field(4, ge=1, description="Searches in flight (hf: 1 keeps it seeded).")
    base: bool = Field(True, description="Also evaluate the base model (once, before iteration 0).")


class Schedule(_Frozen):
    """How data and models carry over between iterations. The verifier always trains on every
    rollout so far.

    ``all`` is the paper's Algorithm 1: every rollout so far, relabelled by the newest expert.
    ``accumulate`` is the reference code: each iteration relabels only its own rollouts, and
    the generator trains on every iteration's dataset (old rows keep their old targets).
    Both fine-tune from the base model; ``finetune_from: previous`` continues the previous
    iteration's adapter instead.
    """

    aggregate: Literal["all", "accumulate"] = "all"
    finetune_from: Literal["base", "previous"] = "base"


class TrainConfig(_Frozen):
    """Everything that defines an expert-iteration run; stored in its manifest."""

    iterations: int = Field(1, ge=1)
    seed: int = 0
    problems: ProblemSet
    generator: GeneratorSettings = Field(default_factory=GeneratorSettings)
    rollout: Sampling = Field(default_factory=Sampling)
    initial_rollouts: tuple[Path, ...] = Field(
        (), description="Rollouts of the base model to use as iteration 0's, instead of new ones."
    )
    verifier: dict[str, Any] = Field(default_factory=dict, description="verifier train settings.")
    relabel: dict[str, Any] = Field(default_factory=dict, description="relabel settings.")
    sft: dict[str, Any] = Field(default_factory=dict, description="sft settings.")
    evaluation: Evaluation = Field(default_factory=Evaluation)
    schedule: Schedule = Field(default_factory=Schedule)
    timeout_s: float | None = Field(None, gt=0)
    workers: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _stages_valid(self) -> TrainConfig:
        self.verifier_config(_PLACEHOLDER)
        self.relabel_config(0)
        sft = self.sft_config(_PLACEHOLDER, self.generator.base)
        problem = _serving_problem(self.generator, sft)
        if problem is not None:
            raise ValueError(problem)
        return self

    def with_data_dir(self, data_dir: Path | None) -> TrainConfig:
        """The config with ``data_dir`` for every problem set that names none."""
        if data_dir is None:
            return self

        def filled(problems: ProblemSet) -> ProblemSet:
            if problems.data_dir is not None:
                return problems
            return problems.model_copy(update={"data_dir": data_dir})

        evaluation = self.evaluation.model_copy(
            update={"problems": tuple(map(filled, self.evaluation.problems))}
        )
        return self.model_copy(update={"problems": filled(self.problems), "evaluation": evaluation})

    def verifier_config(self, rollouts: tuple[Path, ...]) -> VerifierTrainConfig:
        """The verifier stage's settings for these rollouts."""
        return _stage(VerifierTrainConfig, "verifier", self.verifier, rollouts=rollouts,
                      seed=self.verifier.get("seed", self.seed))  # fmt: skip

    def relabel_config(self, iteration: int) -> RelabelConfig:
        """The relabel stage's settings in an iteration."""
        return _stage(RelabelConfig, "relabel", self.relabel, iteration=iteration)

    def sft_config(self, datasets: tuple[Path, ...], base: str) -> SFTConfig:
        """The fine-tuning stage's settings for these datasets, starting from ``base``."""
        return _stage(SFTConfig, "sft", self.sft, datasets=datasets, base=base,
                      seed=self.sft.get("seed", self.seed))  # fmt: skip


def _serving_problem(generator: GeneratorSettings, sft: SFTConfig) -> str | None:
    """Why the backend could not serve the generators this run fine-tunes, if it could not
    (found before anything is trained, not after the first fine-tune)."""
    if generator.backend == "llamacpp":
        if not is_gguf_base(generator.base):
            return f"generator.base: the llamacpp backend needs a GGUF base, not {generator.base!r}"
        if sft.method == "full":
            return ("sft.method: full: llamacpp cannot serve a fully fine-tuned model; "
                    "use sft.method: lora, or generator.backend: hf or vllm")  # fmt: skip
        if not sft.export_gguf:
            return ("sft.export_gguf: false leaves llamacpp no adapter to serve; "
                    "keep it true, or use generator.backend: hf")  # fmt: skip
    if generator.backend == "vllm" and sft.method == "lora":
        return ("sft.method: lora: the vllm backend does not serve LoRA adapters yet; "
                "use sft.method: full, or generator.backend: hf")  # fmt: skip
    return None


def _stage(kind: type[BaseModel], name: str, settings: dict[str, Any], **filled: Any):
    taken = sorted(set(settings) & set(filled) - {"seed"})
    if taken:
        raise ValueError(f"{name}: {', '.join(taken)} is set by the loop, not the config")
    try:
        return kind(**{**settings, **filled})
    except ValidationError as e:
        raise ValueError(f"{name}: {validation_problems(e)}") from e


def preset_names() -> list[str]:
    """The packaged presets."""
    files = PRESETS.iterdir()
    return sorted(f.name.removesuffix(".yaml") for f in files if f.name.endswith(".yaml"))


def load_config(path: Path | None = None, preset: str | None = None,
                overrides: tuple[str, ...] = ()) -> TrainConfig:  # fmt: skip
    """A config from a YAML file or a preset (exactly one), with ``key.path=value`` overrides."""
    if (path is None) == (preset is None):
        raise ConfigError("give exactly one of --config FILE and --preset NAME")
    if preset is not None:
        if preset not in preset_names():
            raise ConfigError(f"unknown preset {preset!r}; choose from {', '.join(preset_names())}")
        text = PRESETS.joinpath(f"{preset}.yaml").read_text()
        where = f"preset {preset}"
    else:
        text, where = _read(path), str(path)
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of settings, got {type(data).__name__}")
    if preset is not None:
        data["initial_rollouts"] = [_packaged(p) for p in data.get("initial_rollouts", ())]
    for override in overrides:
        _apply(data, override)
    try:
        return TrainConfig(**data)
    except ValidationError as e:
        raise ConfigError(f"{where}: {validation_problems(e)}") from e


def _packaged(path: str) -> str:
    """A preset's relative rollout path names data shipped beside the presets."""
    shipped = PRESETS / path
    return str(shipped) if not Path(path).is_absolute() and shipped.is_dir() else path


def _read(path: Path) -> str:
    try:
        return Path(path).read_text()
    except OSError as e:
        raise ConfigError(f"cannot read the config {path}: {e.strerror}") from e


def _apply(data: dict[str, Any], override: str) -> None:
    """Set ``a.b.c=value`` in ``data``; the value is read as YAML (numbers, lists, null)."""
    key, sep, value = override.partition("=")
    if not sep or not key:
        raise ConfigError(f"--set {override!r}: expected key.path=value")
    *parents, leaf = key.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"--set {override!r}: {part} is not a group of settings")
    node[leaf] = yaml.safe_load(value)
