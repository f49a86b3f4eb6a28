"""Each problem's limits: the one place that decides them for evaluate, rollout and search.

Most benchmarks run every program under the sandbox's own limits. Some (the MBPP+
snapshot) have performance-style inputs: a correct program may need a minute where the
default limit is 10 s. As EvalPlus does, such problems get a wall limit relative to their
reference: ``max(base, FACTOR × reference time)``. Reference times are measured once per
machine in the sandbox and cached under the cache dir (``$MUCODE_CACHE_DIR``, else
``$XDG_CACHE_HOME/mucode``, else ``~/.cache/mucode``), keyed by everything that decides
them: the problems, the limits they ran under, the sandbox launcher, its Python and the host.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mucode.benchmarks import BENCHMARKS
from mucode.core.cache import cache_dir
from mucode.core.files import write_json_atomically
from mucode.core.records import Problem
from mucode.sandbox import Job, Limits, ProgramRunner, SandboxInfo

logger = logging.getLogger(__name__)

FACTOR = 3.0  # the limit allows a program 3x slower than the reference on the same tests
CALIBRATION_TIMEOUT_S = 600.0


@dataclass(frozen=True, slots=True)
class ProblemLimits:
    """Each problem's wall limit, and where the calibrated ones came from.

    The other limits (memory, CPU, files) are the sandbox's for every problem.
    """

    timeouts: Mapping[str, float]  # task_id -> wall limit (s), for every problem
    base_timeout_s: float
    reference_times: Path | None = None  # the cache file behind calibrated limits, if any

    def timeout_s(self, task_id: str) -> float:
        """The wall limit of ``task_id`` (a KeyError for a problem not decided here)."""
        return self.timeouts[task_id]

    def to_dict(self) -> dict[str, Any]:
        """Manifest form: the base, and for calibrated problems the rule and the raised limits."""
        if self.reference_times is None:
            return {"source": "base", "timeout_s": self.base_timeout_s}
        raised = {t: s for t, s in sorted(self.timeouts.items()) if s > self.base_timeout_s}
        return {"source": "calibrated", "timeout_s": self.base_timeout_s,
                "rule": f"max(timeout_s, {FACTOR} × reference run time)",
                "reference_times": str(self.reference_times), "raised": raised}  # fmt: skip


def problem_limits(problems: Sequence[Problem], sandbox: ProgramRunner) -> ProblemLimits:
    """Each problem's wall limit: calibrated for benchmarks that need it (measuring the
    references once per machine), else the sandbox's own ``timeout_s``."""
    base = sandbox.limits.timeout_s
    timeouts = {p.task_id: base for p in problems}
    calibrated = [p for p in problems if _needs_calibration(p)]
    if not calibrated:
        return ProblemLimits(timeouts, base)
    timeouts |= time_limits(reference_seconds(calibrated, sandbox), base)
    return ProblemLimits(timeouts, base, reference_times_path(calibrated, sandbox))


def _needs_calibration(problem: Problem) -> bool:
    info = BENCHMARKS.get(problem.benchmark)  # ad-hoc problems: the sandbox's limits
    return info is not None and info.calibrated_time_limits


def problems_digest(problems: Sequence[Problem]) -> str:
    """Digest of the problems as they decide their references' run times."""
    h = hashlib.sha256()
    for p in sorted(problems, key=lambda p: p.task_id):
        h.update(json.dumps([p.task_id, p.reference_solution, p.setup_code, p.all_tests]).encode())
    return h.hexdigest()[:24]


def measurement_key(problems: Sequence[Problem], limits: Limits, info: SandboxInfo) -> str:
    """Digest of everything that decides the measured times: the problems, every limit
    they run under (memory included), the sandbox launcher, its Python and the host (the
    cluster's hosts when programs run on Ray)."""
    host = ",".join(info.hosts) or platform.node()
    setting = json.dumps([problems_digest(problems), limits.model_dump(), info.launcher,
                          info.python, host], sort_keys=True)  # fmt: skip
    return hashlib.sha256(setting.encode()).hexdigest()[:24]


def reference_times_path(problems: Sequence[Problem], sandbox: ProgramRunner) -> Path:
    """The cache file of these problems' reference times in this sandbox."""
    key = measurement_key(problems, _measurement_limits(sandbox), sandbox.info)
    return cache_dir() / "reference-times" / f"{key}.json"


def reference_seconds(problems: Sequence[Problem], sandbox: ProgramRunner) -> dict[str, float]:
    """Wall time of each reference solution on its own tests (cached per machine)."""
    path = reference_times_path(problems, sandbox)
    try:
        cached = json.loads(path.read_text())
        if set(cached) == {p.task_id for p in problems}:
            return cached
    except (OSError, ValueError):
        pass
    logger.warning(
        "measuring %d reference solutions to set per-problem time limits "
        "(once per machine; cached in %s)", len(problems), path.parent,
    )  # fmt: skip
    jobs = [Job(p.reference_solution, p.all_tests, p.setup_code) for p in problems]
    verdicts = sandbox.run_many(jobs, limits=_measurement_limits(sandbox))
    seconds = {p.task_id: v.duration_s for p, v in zip(problems, verdicts, strict=True)}
    failed = [p.task_id for p, v in zip(problems, verdicts, strict=True) if not v.passed]
    if failed:
        logger.warning("reference solutions that fail their own tests: %s", ", ".join(failed))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomically(path, seconds)
    return seconds


def _measurement_limits(sandbox: ProgramRunner) -> Limits:
    """The sandbox's limits with a generous wall clock: what the references run under."""
    return sandbox.limits.model_copy(update={"timeout_s": CALIBRATION_TIMEOUT_S})


def time_limits(seconds: dict[str, float], base_timeout_s: float) -> dict[str, float]:
    """Per-problem wall limit: never below the base limit, else FACTOR × reference time."""
    return {task: max(base_timeout_s, round(FACTOR * s, 3)) for task, s in seconds.items()}
