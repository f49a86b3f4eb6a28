"""Where programs run: this machine's pool, or a Ray cluster's sandbox actors (``--ray``).

``ProgramRunner`` is what evaluation, rollouts, search and calibration use of a sandbox:
its default limits, what isolation it reported, and ``run_many`` (verdicts in input
order). ``open_sandbox`` starts the local ``Sandbox``, or with a Ray address the
``mucode.distributed`` one; Ray is imported only then.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from mucode.core.optional import import_ray
from mucode.core.records import Verdict
from mucode.sandbox.limits import Limits
from mucode.sandbox.pool import Job, Sandbox, SandboxInfo


class ProgramRunner(Protocol):
    """What the stages call on a sandbox; the local pool and ``RaySandbox`` both are one."""

    limits: Limits
    info: SandboxInfo

    def run_many(
        self,
        jobs: Sequence[Job],
        on_result: Callable[[int, Verdict], None] | None = None,
        limits: Limits | None = None,
    ) -> list[Verdict]:
        """Verdicts of ``jobs`` in input order; ``on_result(index, verdict)`` as each ends."""
        ...

    def describe(self) -> dict[str, Any]:
        """Where programs run, for a run's manifest."""
        ...

    def close(self) -> None:
        """Stop every worker."""
        ...

    def __enter__(self) -> ProgramRunner: ...

    def __exit__(self, *exc: object) -> None: ...


def open_sandbox(
    workers: int | None = None, limits: Limits | None = None, ray: str | None = None
) -> ProgramRunner:
    """The local pool of ``workers`` processes, or with ``ray`` (a Ray address: ``auto``,
    ``HOST:PORT``, ``ray://HOST:PORT``, ``local``) one sandbox actor per node of that
    cluster, each with ``workers`` processes (default: the node's CPUs)."""
    if ray is None:
        return Sandbox(workers=workers, limits=limits)
    import_ray(ray)
    # imported by name, only here: mucode.distributed sits right of the stages that call this
    from mucode.distributed.sandbox import RaySandbox

    return RaySandbox(ray, workers=workers, limits=limits)
