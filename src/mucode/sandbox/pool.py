"""The sandbox pool: warm workers, one program per fork, verdicts in input order."""

from __future__ import annotations

import json
import os
import queue
import select
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mucode.core.errors import SandboxError
from mucode.core.records import Status, Verdict
from mucode.sandbox import expected, protocol
from mucode.sandbox.launchers import (
    Launcher,
    bwrap_command,
    falls_back_to_bwrap,
    requested_launcher,
)
from mucode.sandbox.limits import Limits
from mucode.sandbox.namespaces import VIEW_LAYER
from mucode.sandbox.references import REFERENCE_TIMEOUT_S, ReferenceOutputs
from mucode.sandbox.view import View, build_view


def worker_boot(import_path: Sequence[str]) -> str:
    """The worker's ``-c`` program. Workers start with -S (no site: .pth hooks would bloat
    every fork) and get the view's import path instead (the interpreter's own, see
    ``view``); '' (the pool's working directory) is dropped: a stray json.py there must not
    shadow json."""
    return (
        f"import sys; sys.path[:] = {list(import_path)!r} + [p for p in sys.path if p]; "
        "from mucode.sandbox.worker import main; main()"
    )


# The environment is exactly this (so no -E): a fixed string-hash seed makes set and dict
# orders of strings the same in every worker, as PYTHONHASHSEED=0 does for python3.
_WORKER_ENV = {
    "PYTHONHASHSEED": "0",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
_IN_FLIGHT = 2  # jobs queued per worker: the next one waits in the pipe
_PIPE_SLACK_S = 15.0  # how long past a job's own deadline the pool waits for a worker


@dataclass(frozen=True, slots=True)
class Job:
    """One program and the tests to run after it (setup code runs in between)."""

    program: str
    tests: tuple[str, ...] = ()
    setup_code: str = ""
    timeout_s: float | None = None  # this job's wall limit; None: the run's Limits


@dataclass(frozen=True, slots=True)
class SandboxInfo:
    """The isolation a worker reported at start-up."""

    layers: tuple[str, ...]
    missing: dict[str, str]
    workers: int
    python: str
    launcher: str  # "native" (the worker isolates itself) or "bwrap"
    view: View | None = None  # what programs see of the file system; None: the host's tree
    hosts: tuple[str, ...] = ()  # the machines workers run on when not this one (Ray nodes)


class _WorkerProcess:
    """One warm worker and its pipes."""

    def __init__(
        self, tmpfs_mb: int, bwrap: tuple[list[str], list[str]] | None, view: View
    ) -> None:
        """``bwrap``: the bubblewrap arguments and the layers they give, to start inside it;
        else the worker builds ``view`` itself."""
        config: dict = {"tmpfs_mb": tmpfs_mb}
        prefix: list[str] = []
        if bwrap is not None:
            prefix, config["launcher_layers"] = bwrap
        else:
            config["view"] = list(view.steps)
        boot = worker_boot(view.import_path)
        self.proc = subprocess.Popen(
            [*prefix, sys.executable, "-s", "-S", "-c", boot, json.dumps(config)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_WORKER_ENV, close_fds=True,
        )  # fmt: skip
        self.fd_in = self.proc.stdout.fileno()
        self.fd_out = self.proc.stdin.fileno()
        if bwrap is not None:  # the worker's own pid is 1; uids come from host pids
            protocol.send(self.fd_out, {"host_pid": self.proc.pid})

    def hello(self) -> dict:
        if not select.select([self.fd_in], [], [], 60)[0]:
            raise SandboxError("a sandbox worker did not start within 60 s")
        try:
            return protocol.receive(self.fd_in)
        except EOFError as e:
            raise SandboxError(
                f"a sandbox worker died at start-up (exit code {self.proc.wait()}); "
                "run `mucode sandbox info` to see the error"
            ) from e

    def send(self, job: dict) -> None:
        protocol.send(self.fd_out, job)

    def receive(self, wait_s: float) -> dict:
        if not select.select([self.fd_in], [], [], wait_s)[0]:
            raise TimeoutError("worker did not answer")
        return protocol.receive(self.fd_in)

    def close(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


class Sandbox:
    """Run untrusted programs in isolated child processes of warm workers.

    Use as a context manager. ``run_many`` spreads jobs over all workers and returns
    verdicts in input order. A worker that dies is replaced; its job gets ``infra_error``.
    ``launcher`` (default ``$MUCODE_SANDBOX_LAUNCHER``, else ``auto``): see ``launchers``.
    """

    def __init__(self, workers: int | None = None, limits: Limits | None = None,
                 tmpfs_mb: int = 64, launcher: Launcher | str | None = None) -> None:  # fmt: skip
        self.limits = limits or Limits()
        self._tmpfs_mb = tmpfs_mb
        count = workers or os.cpu_count() or 1
        self._view = build_view()  # once: every worker gets the same
        first, hello, self.launcher = self._first_worker(requested_launcher(launcher))
        self._workers = [first] + [self._start_worker() for _ in range(count - 1)]
        hellos = [hello] + [w.hello() for w in self._workers[1:]]
        in_view = any(VIEW_LAYER in layer for layer in hellos[0]["layers"])
        self.info = SandboxInfo(
            layers=tuple(hellos[0]["layers"]), missing=hellos[0]["missing"],
            workers=count, python=hellos[0]["python"], launcher=self.launcher.value,
            view=self._view if in_view else None,
        )  # fmt: skip
        self._references = ReferenceOutputs()
        self._idle: queue.SimpleQueue[_WorkerProcess] = queue.SimpleQueue()
        for worker in self._workers:
            self._idle.put(worker)
        self._lock = threading.Lock()

    def _first_worker(self, launcher: Launcher) -> tuple[_WorkerProcess, dict, Launcher]:
        """Start one worker (and its hello); under ``auto``, fall back to bubblewrap when
        the kernel refused the native namespaces and ``bwrap`` is installed."""
        chosen = Launcher.NATIVE if launcher is Launcher.AUTO else launcher
        bwrap = chosen is Launcher.BWRAP
        self._bwrap = bwrap_command(self._tmpfs_mb, self._view) if bwrap else None
        worker = self._start_worker()
        hello = worker.hello()
        if falls_back_to_bwrap(launcher, hello["pid_namespace"]):
            worker.close()
            chosen = Launcher.BWRAP
            self._bwrap = bwrap_command(self._tmpfs_mb, self._view)  # once, for every worker
            worker = self._start_worker()
            hello = worker.hello()
        return worker, hello, chosen

    def _start_worker(self) -> _WorkerProcess:
        return _WorkerProcess(self._tmpfs_mb, self._bwrap, self._view)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop every worker."""
        for worker in self._workers:
            worker.close()
        self._workers = []

    def describe(self) -> dict:
        """Where programs run, for a run's manifest: here, with these workers."""
        return {"ray": None, "workers": self.info.workers, "launcher": self.info.launcher,
                "python": self.info.python}  # fmt: skip

    @property
    def worker_pids(self) -> tuple[int, ...]:
        """Host pids of the workers (as root, programs run as uid SANDBOX_UID_BASE + pid)."""
        return tuple(w.proc.pid for w in self._workers)

    @staticmethod
    def _job_dict(job: Job, child_tests: Sequence[str], limits: Limits) -> dict:
        """The job as the worker gets it: expected values stay here (see ``expected``)."""
        if job.timeout_s is not None and job.timeout_s != limits.timeout_s:
            limits = limits.model_copy(update={"timeout_s": job.timeout_s})
        return {
            "program": job.program,
            "setup_code": job.setup_code,
            "tests": list(child_tests),
            "limits": {**limits.model_dump(), "cpu_s": limits.effective_cpu_s},
        }

    def run(self, job: Job, limits: Limits | None = None) -> Verdict:
        """Run one job on the next idle worker (blocks while all are busy)."""
        return self.run_many([job], limits=limits)[0]

    def run_many(
        self,
        jobs: Sequence[Job],
        on_result: Callable[[int, Verdict], None] | None = None,
        limits: Limits | None = None,
    ) -> list[Verdict]:
        """Run all jobs in parallel; ``on_result(index, verdict)`` fires as each finishes.

        Each worker gets its next job before it answers the current one, so it never
        waits for this process between programs.
        """
        limits = limits or self.limits
        prepared = [expected.prepare(tuple(job.tests)) for job in jobs]
        self._references.ensure(
            (d for p in prepared for d in p.differentials), self._run_references
        )
        wire = [
            self._job_dict(job, p.child_tests, limits)
            for job, p in zip(jobs, prepared, strict=True)
        ]
        results: list[Verdict | None] = [None] * len(jobs)

        def deliver(index: int, raw: dict) -> None:
            tests = tuple(jobs[index].tests)
            feedback_chars = wire[index]["limits"]["feedback_chars"]
            try:
                raw = expected.resolve(
                    raw, prepared[index], tests, feedback_chars, self._references.value
                )
            except KeyError:  # the reference run itself failed in the sandbox
                raw = _infra_error("the reference outputs could not be computed", len(tests))
            raw["status"] = Status(raw["status"])
            results[index] = verdict = Verdict(**raw)
            if on_result is not None:
                on_result(index, verdict)

        self._dispatch(wire, deliver)
        return results  # type: ignore[return-value]

    def _run_references(self, differentials: list[expected.Differential]) -> list[dict]:
        """Raw verdicts of the reference solutions, each reporting its output per input."""
        generous = self.limits.model_copy(update={"timeout_s": REFERENCE_TIMEOUT_S})
        wire = [
            self._job_dict(Job(d.reference), [d.child_loop(0)], generous) for d in differentials
        ]
        raws: list[dict] = [{}] * len(wire)
        self._dispatch(wire, raws.__setitem__)
        return raws

    def _dispatch(self, wire: list[dict], deliver: Callable[[int, dict], None]) -> None:
        """Run the wire jobs on every worker; ``deliver(index, raw verdict)`` as each ends."""
        longest = max((w["limits"]["timeout_s"] for w in wire), default=self.limits.timeout_s)
        todo: queue.SimpleQueue[int] = queue.SimpleQueue()
        for index in range(len(wire)):
            todo.put(index)

        def drive() -> None:
            worker = self._idle.get()
            try:
                worker = self._drive(worker, wire, todo, deliver, longest + _PIPE_SLACK_S)
            finally:
                self._idle.put(worker)

        count = min(len(self._workers), len(wire))
        threads = [threading.Thread(target=drive) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _drive(self, worker: _WorkerProcess, wire: list[dict], todo: queue.SimpleQueue[int],
               deliver: Callable[[int, dict], None], wait_s: float) -> _WorkerProcess:  # fmt: skip
        """Feed one worker from ``todo`` with up to _IN_FLIGHT jobs queued; returns the
        worker in use at the end (a fresh one if the first died)."""
        in_flight: deque[int] = deque()
        while True:
            try:
                while len(in_flight) < _IN_FLIGHT:
                    index = todo.get_nowait()
                    in_flight.append(index)
                    worker.send(wire[index])
            except queue.Empty:
                pass
            if not in_flight:
                return worker
            try:
                raw = worker.receive(wait_s)
            except (EOFError, OSError, TimeoutError) as e:
                failed = in_flight.popleft()
                tests = len(wire[failed]["tests"])
                deliver(failed, _infra_error(f"sandbox worker failed: {e}", tests))
                for index in in_flight:  # queued behind the failure: run them elsewhere
                    todo.put(index)
                in_flight.clear()
                worker = self._replace(worker)
                continue
            deliver(in_flight.popleft(), raw)

    def _replace(self, dead: _WorkerProcess) -> _WorkerProcess:
        dead.proc.kill()
        dead.close()
        fresh = self._start_worker()
        fresh.hello()
        with self._lock:
            self._workers[self._workers.index(dead)] = fresh
        return fresh


def _infra_error(message: str, tests_total: int) -> dict:
    return {"status": Status.INFRA_ERROR, "feedback": message, "duration_s": 0.0,
            "tests_passed": 0, "tests_total": tests_total}  # fmt: skip
