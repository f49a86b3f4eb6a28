"""Per-problem time limits from the reference solutions' own run times.

Some benchmarks (the MBPP+ snapshot) have performance-style inputs: a correct program
may need a minute where the default limit is 10 s. As EvalPlus does, such problems get
a limit relative to their reference: ``max(base, FACTOR × reference time)``. Reference
times are measured once per machine in the sandbox and cached under the cache dir
(``$MUCODE_CACHE_DIR``, else ``$XDG_CACHE_HOME/mucode``, else ``~/.cache/mucode``),
keyed by a digest of the problems, this host and the Python version.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
from collections.abc import Sequence

from mucode.cache import cache_dir
from mucode.records import Problem
from mucode.sandbox import Job, Sandbox

logger = logging.getLogger(__name__)

FACTOR = 3.0  # a differential test runs reference and candidate: 3x allows a 5x slower program
CALIBRATION_TIMEOUT_S = 600.0


def problems_digest(problems: Sequence[Problem]) -> str:
    """Digest of what decides the reference run times, plus host and Python version."""
    h = hashlib.sha256(f"{platform.node()}|{platform.python_version()}".encode())
    for p in sorted(problems, key=lambda p: p.task_id):
        h.update(json.dumps([p.task_id, p.reference_solution, p.setup_code, p.all_tests]).encode())
    return h.hexdigest()[:24]


def reference_seconds(problems: Sequence[Problem], sandbox: Sandbox) -> dict[str, float]:
    """Wall time of each reference solution on its own tests (cached per machine)."""
    path = cache_dir() / "reference-times" / f"{problems_digest(problems)}.json"
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
    generous = sandbox.limits.model_copy(update={"timeout_s": CALIBRATION_TIMEOUT_S})
    verdicts = sandbox.run_many(jobs, limits=generous)
    seconds = {p.task_id: v.duration_s for p, v in zip(problems, verdicts, strict=True)}
    failed = [p.task_id for p, v in zip(problems, verdicts, strict=True) if not v.passed]
    if failed:
        logger.warning("reference solutions that fail their own tests: %s", ", ".join(failed))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(seconds, indent=0))
    tmp.replace(path)
    return seconds


def time_limits(seconds: dict[str, float], base_timeout_s: float) -> dict[str, float]:
    """Per-problem wall limit: never below the base limit, else FACTOR × reference time."""
    return {task: max(base_timeout_s, round(FACTOR * s, 3)) for task, s in seconds.items()}
