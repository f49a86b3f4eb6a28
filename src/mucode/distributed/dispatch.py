"""Schedule programs over the nodes' sandbox actors: bounded in flight, re-run on failure.

Callers (any number of threads) submit jobs and get one future per job. Jobs wait in
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
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import ray
from ray.exceptions import RayError

from mucode.core.errors import SandboxError
from mucode.core.records import Verdict
from mucode.sandbox.limits import Limits
from mucode.sandbox.pool import Job

logger = logging.getLogger(__name__)

POLL_S = 0.02  # how long one ray.wait blocks: chunks sent meanwhile are waited on after it
# jobs per actor call, per worker of the actor: a call costs Ray about a millisecond, as much
# as an MBPP program, so chunks of one job per worker ran MBPP test at 0.62x the local pool;
# 8 per worker reached 1.0x (bench/ray_throughput.py). The tail is split evenly instead.
CHUNK_PER_WORKER = 8


@dataclass(eq=False)
class ActorSlot:
    """One node's sandbox actor as the driver sees it, and the jobs it holds now."""

    handle: Any  # a Ray actor handle of SandboxActor
    host: str
    workers: int
    capacity: int
    load: int = 0  # jobs it holds now
    peak: int = 0  # the most it held at once
    done: int = 0  # verdicts it returned
    alive: bool = True

    @property
    def free(self) -> float:
        """Share of its capacity not in use."""
        return (self.capacity - self.load) / self.capacity


@dataclass(eq=False)
class _Item:
    job: Job
    limits: Limits
    future: Future[Verdict]


class Dispatcher:
    """Runs submitted jobs on ``slots``; see the module docstring."""

    def __init__(self, slots: Sequence[ActorSlot]) -> None:
        self.slots = list(slots)
        self.requeued = 0  # jobs sent again after their actor failed
        self.lost: list[str] = []  # hosts whose actor failed
        self._last_error: BaseException | None = None
        self._queue: deque[_Item] = deque()
        self._in_flight: dict[Any, tuple[ActorSlot, list[_Item]]] = {}  # ObjectRef -> chunk
        self._changed = threading.Condition()
        self._closed = False
        self._waiter = threading.Thread(target=self._wait_all, name="ray-sandbox", daemon=True)
        self._waiter.start()

    def submit(self, jobs: Sequence[Job], limits: Limits) -> list[Future[Verdict]]:
        """Queue ``jobs`` (all under ``limits``); their futures, in order."""
        items = [_Item(job, limits, Future()) for job in jobs]
        with self._changed:
            if self._closed:
                raise SandboxError("the Ray sandbox is closed")
            if not any(slot.alive for slot in self.slots):
                raise SandboxError(self._no_actor_left())
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
        _fail(pending, SandboxError("the Ray sandbox was closed before these programs ran"))

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
            ref = slot.handle.run.remote([item.job for item in chunk], chunk[0].limits)
            self._in_flight[ref] = (slot, chunk)
            slot.load += len(chunk)
            slot.peak = max(slot.peak, slot.load)

    def _take(self, count: int) -> list[_Item]:
        """Up to ``count`` jobs from the head of the queue that share one ``Limits``."""
        chunk = [self._queue.popleft()]
        while len(chunk) < count and self._queue and self._queue[0].limits == chunk[0].limits:
            chunk.append(self._queue.popleft())
        return chunk

    def _wait_all(self) -> None:
        """The waiter thread: hand each finished chunk's verdicts to their futures."""
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
            _fail(pending, SandboxError(f"the Ray sandbox's scheduler failed: {e!r}"))
            raise

    def _finish(self, ref: Any) -> None:
        with self._changed:
            entry = self._in_flight.pop(ref, None)
        if entry is None:  # closed meanwhile
            return
        slot, chunk = entry
        try:
            verdicts = ray.get(ref)
        except RayError as e:
            self._lose(slot, chunk, e)
            return
        with self._changed:
            slot.load -= len(chunk)
            slot.done += len(chunk)
            self._send()
        for item, verdict in zip(chunk, verdicts, strict=True):
            item.future.set_result(verdict)

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
        logger.warning("the sandbox actor on %s failed (%s); its %d programs run elsewhere",
                       slot.host, _first_line(error), len(chunk))  # fmt: skip
        _fail(orphans, SandboxError(self._no_actor_left()))

    def _no_actor_left(self) -> str:
        return (f"every sandbox actor of the Ray cluster failed (on {', '.join(self.lost)}); "
                f"the last error: {_first_line(self._last_error)}")  # fmt: skip


def _fail(items: Sequence[_Item], error: Exception) -> None:
    for item in items:
        if not item.future.done():
            item.future.set_exception(error)


def _first_line(error: BaseException | None) -> str:
    text = str(error).strip() if error is not None else "unknown"
    return text.splitlines()[0] if text else type(error).__name__
