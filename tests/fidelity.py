"""Test doubles for verdict fidelity: a problem that needs more than the base time limit,
and a real sandbox that fails (``infra_error``) on chosen programs a set number of times."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence

from mucode.core.records import Problem, Status, Verdict
from mucode.sandbox import Job, Limits, Sandbox

BASE = Limits(timeout_s=1.0)  # the run's limit: below what the slow problem needs
REFERENCE_SLEEP_S = 3.0  # what the slow problem's reference needs: its limit is >= 3 x this


def slow_code(sleep_s: float) -> str:
    """A correct ``slow(x)`` that needs ``sleep_s`` seconds to load."""
    return f"import time\n\ntime.sleep({sleep_s})\n\n\ndef slow(x):\n    return x\n"


# a correct answer: over the base limit, far under the calibrated one even on a loaded machine
SLOW_CODE = slow_code(1.5)


def slow_problem(benchmark: str = "mbpp-plus-snapshot") -> Problem:
    """An MBPP+-like problem whose reference needs ``REFERENCE_SLEEP_S`` to load."""
    reference = slow_code(REFERENCE_SLEEP_S)
    return Problem("Mbpp/9001", benchmark, "test", "Write slow(x), returning x.", "slow", "",
                   ("assert slow(1) == 1",), ("assert slow(2) == 2",), reference)  # fmt: skip


def answer(code: str) -> str:
    """A model answer holding ``code`` in one python block."""
    return f"```python\n{code}\n```"


class FlakySandbox:
    """The real ``sandbox``, except that the first ``failures`` runs of each job whose program
    contains ``marker`` get ``infra_error`` (as when a worker dies); the rest run for real."""

    def __init__(self, sandbox: Sandbox, marker: str, failures: int) -> None:
        self.limits, self.info = sandbox.limits, sandbox.info
        self._sandbox, self._marker, self._failures = sandbox, marker, failures
        self.runs: Counter[Job] = Counter()  # attempts per job with the marker
        self._lock = threading.Lock()

    def run_many(self, jobs: Sequence[Job], limits: Limits | None = None) -> list[Verdict]:
        """Verdicts in input order: injected failures first, the real sandbox for the rest."""
        failing = {i for i, job in enumerate(jobs) if self._fails(job)}
        real = iter(self._sandbox.run_many([j for i, j in enumerate(jobs) if i not in failing],
                                           limits=limits))  # fmt: skip
        return [_infra_error(job) if i in failing else next(real) for i, job in enumerate(jobs)]

    def _fails(self, job: Job) -> bool:
        if self._marker not in job.program:
            return False
        with self._lock:
            self.runs[job] += 1
            return self.runs[job] <= self._failures


def _infra_error(job: Job) -> Verdict:
    return Verdict(Status.INFRA_ERROR, "sandbox worker failed: injected", 0.0, 0, len(job.tests))
