"""Schedule jobs over one actor per node: bounded in flight, re-run on failure.

The jobs are programs for the nodes' sandbox actors (``sandbox``), or batches of pairs for
their verifier actors (``scoring``): an actor's ``run(jobs, shared)`` returns one result per
job, in order. Callers (any number of threads) submit jobs and get one future per job. Jobs wait in
the driver's queue until an actor has room: each actor holds at most ``capacity`` jobs
(sent in chunks of up to ``CHUNK_PER_WORKER`` per worker, the jobs it runs at once: a
sandbox actor's pool runs a chunk in parallel, a verifier actor scores it one batch at a
time; once the queue runs short it is split evenly over the actors), the least loaded
actor first. One thread waits on the chunks in flight (``ray.wait``);
a finished chunk frees its room and more are sent.

A chunk whose actor is lost (its process, worker or node died, or Ray lost contact with
it: ``ACTOR_LOST``) is put back at the head of the queue and runs on another actor; that
actor is dropped for the rest of the run. An error the work itself raised in the actor
fails that chunk's jobs (``Work.error``, with the original message) and the actor stays.
Each job's future is set once, from the one chunk that came back, so nothing is lost or
judged twice; once closed, or if the waiting thread fails, every job not done fails. A
program that kills its own sandbox worker is not an actor failure: the node's pool reports
it as the program's verdict (``crashed``, or ``infra_error`` for the driver's usual
retries), and the actor stays.

``ActorGroup`` starts the actors, one per node (``start_actors``), and owns their dispatcher.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import ray
from ray.exceptions import (
    LocalRayletDiedError,
    NodeDiedError,
    ObjectLostError,
    RayActorError,
    RayError,
    WorkerCrashedError,
)

from mucode.core.errors import MucodeError, SandboxError
from mucode.distributed.cluster import Node, connect, cpu_nodes, stop_actors

logger = logging.getLogger(__name__)

POLL_S = 0.02  # how long one ray.wait blocks: chunks sent meanwhile are waited on after it
# jobs per actor call, per worker of the actor: a call costs Ray about a millisecond, as much
# as an MBPP program, so chunks of one job per worker ran MBPP test at 0.62x the local pool;
# 8 per worker reached 1.0x (bench/ray_throughput.py). The tail is split evenly instead.
CHUNK_PER_WORKER = 8
# jobs an actor holds per worker: two chunks, one running and one waiting there, so a worker
# does not idle while a finished chunk's results travel back
IN_FLIGHT_PER_WORKER = 2 * CHUNK_PER_WORKER
# what Ray raises when the actor cannot answer: it died (ActorDiedError) or is unreachable
# (ActorUnavailableError), its worker or raylet died, its node died (the result kept there
# with it); anything else, above all RayTaskError, is an error of the work
ACTOR_LOST = (RayActorError, WorkerCrashedError, LocalRayletDiedError, NodeDiedError,
              ObjectLostError)  # fmt: skip


@dataclass(eq=False)
class ActorSlot:
    """One node's actor as the driver sees it, and the jobs it holds now."""

    handle: Any  # a Ray actor handle with a ``run(jobs, shared)`` method
    host: str
    workers: int  # jobs it runs at once
    capacity: int
    load: int = 0  # jobs it holds now
    peak: int = 0  # the most it held at once
    done: int = 0  # results it returned
    alive: bool = True

    @property
    def free(self) -> float:
        """Share of its capacity not in use."""
        return (self.capacity - self.load) / self.capacity


@dataclass(frozen=True, slots=True)
class Work:
    """What the actors run, for messages: their role, what a job is, the error to raise."""

    actor: str = "sandbox"
    jobs: str = "programs"
    error: type[MucodeError] = SandboxError


@dataclass(frozen=True, slots=True)
class Launch:
    """How an ``ActorGroup`` starts its actor on a node, and what to say if one does not."""

    start: Callable[[Node], tuple[Any, int]]  # the node's actor, not waited for; its workers
    timeout_s: float  # an actor not running by then waits for CPUs other work holds
    late_hint: str  # what to do about actors that did not start in time
    failed_hint: str = ""  # what an actor that failed to start may lack


@dataclass(eq=False)
class _Item:
    job: Any
    shared: Any  # passed with the job's chunk (a chunk's jobs share it)
    future: Future[Any]


class Dispatcher:
    """Runs submitted jobs on ``slots``; see the module docstring."""

    def __init__(self, slots: Sequence[ActorSlot], work: Work = Work()) -> None:
        self.slots = list(slots)
        self.work = work
        self.requeued = 0  # jobs sent again after their actor was lost
        self.lost: list[str] = []  # hosts whose actor was lost
        self._last_error: BaseException | None = None
        self._queue: deque[_Item] = deque()
        self._in_flight: dict[Any, tuple[ActorSlot, list[_Item]]] = {}  # ObjectRef -> chunk
        self._changed = threading.Condition()
        self._closed = False
        self._waiter = threading.Thread(target=self._wait_all, name=f"ray-{work.actor}",
                                        daemon=True)  # fmt: skip
        self._waiter.start()

    def submit(self, jobs: Sequence[Any], shared: Any) -> list[Future[Any]]:
        """Queue ``jobs`` (all run with ``shared``, e.g. their limits); their futures, in order."""
        items = [_Item(job, shared, Future()) for job in jobs]
        with self._changed:
            stopped = self._stopped()
            if stopped is not None:
                raise self.work.error(stopped)
            self._queue.extend(items)
            self._send()
            self._changed.notify()
        return [item.future for item in items]

    def close(self) -> None:
        """Stop waiting; jobs not yet done fail with ``work.error``."""
        pending = self._drain()
        self._waiter.join(timeout=10)
        _fail(pending, self.work.error(self._closed_message()))

    def _drain(self) -> list[_Item]:
        """Close, and take every job queued or in flight (to fail them)."""
        with self._changed:
            self._closed = True
            self._changed.notify()
            pending = [*self._queue, *(i for _, chunk in self._in_flight.values() for i in chunk)]
            self._queue.clear()
            self._in_flight.clear()
        return pending

    def _stopped(self) -> str | None:
        """Why no job will be sent any more, or None (the caller holds the lock)."""
        if self._closed:
            return self._closed_message()
        if not any(slot.alive for slot in self.slots):
            return self._no_actor_left()
        return None

    def _send(self) -> None:
        """Send chunks while open and some live actor has room (the caller holds the lock)."""
        while self._queue and not self._closed:
            slot = max((s for s in self.slots if s.alive), key=lambda s: s.free, default=None)
            if slot is None or slot.load >= slot.capacity:
                return
            live = sum(s.alive for s in self.slots)
            even_share = -(-len(self._queue) // live)  # the queue's tail split over the actors
            size = min(slot.capacity - slot.load, slot.workers * CHUNK_PER_WORKER, even_share)
            chunk = self._take(size)
            ref = slot.handle.run.remote([item.job for item in chunk], chunk[0].shared)
            self._in_flight[ref] = (slot, chunk)
            slot.load += len(chunk)
            slot.peak = max(slot.peak, slot.load)

    def _take(self, count: int) -> list[_Item]:
        """Up to ``count`` jobs from the head of the queue that share one ``shared``."""
        chunk = [self._queue.popleft()]
        while len(chunk) < count and self._queue and self._queue[0].shared == chunk[0].shared:
            chunk.append(self._queue.popleft())
        return chunk

    def _wait_all(self) -> None:
        """The waiter thread: hand each finished chunk's results to their futures."""
        chunk: list[_Item] = []  # the one being handed over: no longer in flight
        try:
            while refs := self._refs_in_flight():
                ready, _ = ray.wait(refs, num_returns=1, timeout=POLL_S)
                for ref in ready:
                    with self._changed:
                        entry = self._in_flight.pop(ref, None)
                    if entry is not None:  # else closed meanwhile
                        chunk = entry[1]
                        self._finish(ref, *entry)
                        chunk = []
        except BaseException as e:  # no caller may wait forever on a dead waiter
            failed = f"the Ray {self.work.actor}'s scheduler failed: {e!r}"
            _fail([*chunk, *self._drain()], self.work.error(failed))
            raise

    def _refs_in_flight(self) -> list[Any]:
        """The chunks in flight, once there are any; none once closed."""
        with self._changed:
            while not self._in_flight and not self._closed:
                self._changed.wait()
            return [] if self._closed else list(self._in_flight)

    def _finish(self, ref: Any, slot: ActorSlot, chunk: list[_Item]) -> None:
        """Hand ``chunk``'s results, or its error, to its futures."""
        try:
            results = ray.get(ref)
        except ACTOR_LOST as e:
            self._lose(slot, chunk, e)
            return
        except RayError as e:  # the work raised (a RayTaskError), or its result is unreadable
            self._release(slot, len(chunk), returned=0)
            _fail(chunk, self._work_failed(slot, len(chunk), e))
            return
        self._release(slot, len(chunk), returned=len(chunk))
        for item, result in zip(chunk, results, strict=True):
            item.future.set_result(result)

    def _release(self, slot: ActorSlot, count: int, returned: int) -> None:
        """``count`` jobs came back from ``slot``, ``returned`` of them with results: their
        room goes to the next jobs."""
        with self._changed:
            slot.load -= count
            slot.done += returned
            self._send()

    def _work_failed(self, slot: ActorSlot, count: int, error: RayError) -> MucodeError:
        """The work's error, with the original message."""
        cause = getattr(error, "cause", None) or error  # a RayTaskError's original exception
        failed = self.work.error(
            f"the {self.work.actor} actor on {slot.host} failed on {count} {self.work.jobs}: "
            f"{type(cause).__name__}: {cause}"
        )
        failed.__cause__ = error
        return failed

    def _lose(self, slot: ActorSlot, chunk: list[_Item], error: RayError) -> None:
        """``slot``'s actor was lost on ``chunk``: drop the actor, queue the chunk again
        (failing it and the rest of the queue if closed or no actor is left)."""
        with self._changed:
            slot.load -= len(chunk)
            if slot.alive:
                slot.alive = False
                self.lost.append(slot.host)
                self._last_error = error
                with contextlib.suppress(RayError):
                    ray.kill(slot.handle, no_restart=True)
            self.requeued += len(chunk)
            self._queue.extendleft(reversed(chunk))
            self._send()
            stopped = self._stopped()
            stranded: list[_Item] = []
            if stopped is not None:  # nothing will send the queue any more
                stranded, self._queue = list(self._queue), deque()
        logger.warning("the %s actor on %s was lost (%s); its %d %s were queued again",
                       self.work.actor, slot.host, _first_line(error), len(chunk),
                       self.work.jobs)  # fmt: skip
        if stopped is not None:
            _fail(stranded, self.work.error(stopped))

    def _closed_message(self) -> str:
        return f"the Ray {self.work.actor} was closed before these {self.work.jobs} ran"

    def _no_actor_left(self) -> str:
        last = _first_line(self._last_error)
        return (f"every {self.work.actor} actor of the Ray cluster was lost (on "
                f"{', '.join(self.lost)}); the last error: {last}")  # fmt: skip


class ActorGroup:
    """The driver's side of one actor per node, run by a ``Dispatcher``: a subclass starts
    them with ``_start``. Use as a context manager; ``requeued`` and ``lost`` tell what lost
    actors cost so far."""

    _dispatcher: Dispatcher

    def __enter__(self) -> ActorGroup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def requeued(self) -> int:
        """Jobs sent again because the actor holding them was lost."""
        return self._dispatcher.requeued

    @property
    def lost(self) -> tuple[str, ...]:
        """The actors lost during the run: ``host (address, node id)``."""
        return tuple(self._dispatcher.lost)

    @property
    def slots(self) -> tuple[ActorSlot, ...]:
        """Each actor's load, peak load and results returned, in start order."""
        return tuple(self._dispatcher.slots)

    def close(self) -> None:
        """Stop the actors, and leave the cluster if this joined it."""
        self._dispatcher.close()
        stop_actors([slot.handle for slot in self._dispatcher.slots if slot.alive])
        self._leave()

    def _start(self, address: str, launch: Launch, work: Work) -> list[Any]:
        """Join the cluster at ``address``, start an actor on every live node with a CPU
        and dispatch ``work`` to them; their start-up reports, in node order."""
        self._owns_ray = connect(address)
        try:
            slots, reports = start_actors(cpu_nodes(), launch, work)
        except BaseException:
            self._leave()
            raise
        self._dispatcher = Dispatcher(slots, work)
        return reports

    def _leave(self) -> None:
        if self._owns_ray:
            ray.shutdown()
            self._owns_ray = False


def start_actors(
    nodes: Sequence[Node], launch: Launch, work: Work
) -> tuple[list[ActorSlot], list[Any]]:
    """One actor per node, each holding ``IN_FLIGHT_PER_WORKER`` jobs per worker, and their
    start-up reports (``node_id`` filled in); ``work.error``, all stopped, if one did not start."""
    if not nodes:
        raise work.error(f"the Ray cluster has no live node with a CPU to run {work.jobs} on")
    slots: list[ActorSlot] = []
    try:
        for node in nodes:
            handle, workers = launch.start(node)
            where = f"{node.address}, node {node.node_id[:8]}"
            slots.append(ActorSlot(handle, where, workers, workers * IN_FLIGHT_PER_WORKER))
        reports = _reports(slots, launch, work)
    except BaseException:
        stop_actors([slot.handle for slot in slots])
        raise
    for slot, report in zip(slots, reports, strict=True):
        slot.host = f"{report.host} ({slot.host})"
    found = zip(reports, nodes, strict=True)
    return slots, [dataclasses.replace(report, node_id=node.node_id) for report, node in found]


def _reports(slots: Sequence[ActorSlot], launch: Launch, work: Work) -> list[Any]:
    """Each actor's ``report()`` once it has started."""
    refs = [slot.handle.report.remote() for slot in slots]
    _, waiting = ray.wait(refs, num_returns=len(refs), timeout=launch.timeout_s)
    if waiting:
        late = ", ".join(s.host for s, ref in zip(slots, refs, strict=True) if ref in waiting)
        raise work.error(f"the {work.actor} actors on {late} did not start within "
                         f"{launch.timeout_s:g} s; {launch.late_hint}")  # fmt: skip
    reports = []
    for slot, ref in zip(slots, refs, strict=True):
        try:
            reports.append(ray.get(ref))
        except RayError as e:
            hint = f" ({launch.failed_hint})" if launch.failed_hint else ""
            failed = f"the {work.actor} actor on {slot.host} did not start{hint}: {e}"
            raise work.error(failed) from e
    return reports


def _fail(items: Sequence[_Item], error: Exception) -> None:
    for item in items:
        if not item.future.done():
            item.future.set_exception(error)


def _first_line(error: BaseException | None) -> str:
    text = str(error).strip() if error is not None else "unknown"
    return text.splitlines()[0] if text else type(error).__name__
