"""Schedule jobs over one actor per node: bounded in flight, re-run on failure.

The jobs are programs for the nodes' sandbox actors (``sandbox``), or batches of pairs for
their verifier actors (``scoring``): an actor's ``run(jobs, shared)`` returns one result per
job, in order. Callers (any number of threads) submit jobs and get one future per job. Jobs wait in
the driver's queue until an actor has room: each actor holds at most ``capacity`` jobs
(sent in chunks of up to ``CHUNK_PER_WORKER`` per worker, which the node's pool runs in
parallel; once the queue runs short it is split evenly over the actors), the least loaded
actor first. One thread waits on the chunks in flight (``ray.wait``);
a finished chunk frees its room and more are sent.

A chunk whose actor failed (its process or node died, Ray lost contact, or its pool
raised) is put back at the head of the queue and runs on another actor; that actor is
dropped for the rest of the run. Each job's future is set once, from the one chunk that
came back, so nothing is lost or judged twice. A program that kills its own sandbox
worker is not an actor failure: the node's pool reports it as the program's verdict
(``crashed``, or ``infra_error`` for the driver's usual retries), and the actor stays.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

import ray
from ray.exceptions import RayError

from mucode.core.errors import MucodeError, SandboxError
from mucode.distributed.cluster import Node, connect, cpu_nodes, stop_actors

logger = logging.getLogger(__name__)

POLL_S = 0.02  # how long one ray.wait blocks: chunks sent meanwhile are waited on after it
# jobs per actor call, per worker of the actor: a call costs Ray about a millisecond, as much
# as an MBPP program, so chunks of one job per worker ran MBPP test at 0.62x the local pool;
# 8 per worker reached 1.0x (bench/ray_throughput.py). The tail is split evenly instead.
CHUNK_PER_WORKER = 8
Started = TypeVar("Started")


@dataclass(eq=False)
class ActorSlot:
    """One node's sandbox actor as the driver sees it, and the jobs it holds now."""

    handle: Any  # a Ray actor handle with a ``run(jobs, shared)`` method
    host: str
    workers: int
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
        self.requeued = 0  # jobs sent again after their actor failed
        self.lost: list[str] = []  # hosts whose actor failed
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
            if self._closed:
                raise self.work.error(f"the Ray {self.work.actor} is closed")
            if not any(slot.alive for slot in self.slots):
                raise self.work.error(self._no_actor_left())
            self._queue.extend(items)
            self._send()
            self._changed.notify()
        return [item.future for item in items]

    def close(self) -> None:
        """Stop waiting; jobs not yet judged fail with a ``SandboxError``."""
        with self._changed:
            self._closed = True
            self._changed.notify()
            pending = [*self._queue, *(i for _, chunk in self._in_flight.values() for i in chunk)]
            self._queue.clear()
            self._in_flight.clear()
        self._waiter.join(timeout=10)
        closed = f"the Ray {self.work.actor} was closed before these {self.work.jobs} ran"
        _fail(pending, self.work.error(closed))

    def _send(self) -> None:
        """Send chunks while some live actor has room (the caller holds the lock)."""
        while self._queue:
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
        try:
            while True:
                with self._changed:
                    while not self._in_flight and not self._closed:
                        self._changed.wait()
                    if self._closed:
                        return
                    refs = list(self._in_flight)
                ready, _ = ray.wait(refs, num_returns=1, timeout=POLL_S)
                for ref in ready:
                    self._finish(ref)
        except BaseException as e:  # no caller may wait forever on a dead waiter
            with self._changed:
                self._closed = True
                pending = [*self._queue, *(i for _, c in self._in_flight.values() for i in c)]
            failed = f"the Ray {self.work.actor}'s scheduler failed: {e!r}"
            _fail(pending, self.work.error(failed))
            raise

    def _finish(self, ref: Any) -> None:
        with self._changed:
            entry = self._in_flight.pop(ref, None)
        if entry is None:  # closed meanwhile
            return
        slot, chunk = entry
        try:
            results = ray.get(ref)
        except RayError as e:
            self._lose(slot, chunk, e)
            return
        with self._changed:
            slot.load -= len(chunk)
            slot.done += len(chunk)
            self._send()
        for item, result in zip(chunk, results, strict=True):
            item.future.set_result(result)

    def _lose(self, slot: ActorSlot, chunk: list[_Item], error: RayError) -> None:
        """``slot``'s actor failed on ``chunk``: drop the actor, queue the chunk again."""
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
            orphans: list[_Item] = []
            if any(s.alive for s in self.slots):
                self._send()
            else:
                orphans = list(self._queue)
                self._queue.clear()
        logger.warning("the %s actor on %s failed (%s); its %d %s run elsewhere",
                       self.work.actor, slot.host, _first_line(error), len(chunk),
                       self.work.jobs)  # fmt: skip
        _fail(orphans, self.work.error(self._no_actor_left()))

    def _no_actor_left(self) -> str:
        last = _first_line(self._last_error)
        return (f"every {self.work.actor} actor of the Ray cluster failed (on "
                f"{', '.join(self.lost)}); the last error: {last}")  # fmt: skip


class ActorGroup:
    """The driver's side of one actor per node, run by a ``Dispatcher``: a subclass joins
    the cluster and starts its actors with ``_start``, then sets ``_dispatcher``. Use as a
    context manager; ``requeued`` and ``lost`` tell what failures cost so far."""

    _dispatcher: Dispatcher

    def __enter__(self) -> ActorGroup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def requeued(self) -> int:
        """Jobs sent again because the actor holding them failed."""
        return self._dispatcher.requeued

    @property
    def lost(self) -> tuple[str, ...]:
        """The actors that failed during the run: ``host (address, node id)``."""
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

    def _start(self, address: str, start: Callable[[list[Node]], Started]) -> Started:
        """Join the cluster at ``address``; ``start(live CPU nodes)``, leaving if it fails."""
        self._owns_ray = connect(address)
        try:
            return start(cpu_nodes())
        except BaseException:
            self._leave()
            raise

    def _leave(self) -> None:
        if self._owns_ray:
            ray.shutdown()
            self._owns_ray = False


def _fail(items: Sequence[_Item], error: Exception) -> None:
    for item in items:
        if not item.future.done():
            item.future.set_exception(error)


def _first_line(error: BaseException | None) -> str:
    text = str(error).strip() if error is not None else "unknown"
    return text.splitlines()[0] if text else type(error).__name__
