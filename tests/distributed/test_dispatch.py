"""The dispatcher on real Ray actors: every future is resolved, with an error, when the
dispatcher closes while a chunk's actor dies or when its waiter thread crashes."""

from __future__ import annotations

import threading
import time

import pytest

from mucode.core.errors import MucodeError

ray = pytest.importorskip("ray", reason="install the ray extra: pip install -e '.[ray]'")
from mucode.distributed.dispatch import ActorSlot, Dispatcher, Work  # noqa: E402 - needs ray

WORK = Work("echo", "jobs", MucodeError)


@ray.remote(num_cpus=0)
class Echo:
    """Returns its jobs as their results; one result too few when ``shared`` is ``"short"``."""

    def run(self, jobs: list, shared: str) -> list:
        return list(jobs[1:] if shared == "short" else jobs)


def _slot(handle, host: str) -> ActorSlot:
    return ActorSlot(handle, host, workers=1, capacity=4)


def _closed(dispatcher: Dispatcher) -> bool:
    try:
        dispatcher.submit([], "")
    except MucodeError:
        return True
    return False


def test_a_chunk_whose_actor_died_as_the_dispatcher_closed_fails(ray_cluster, monkeypatch):
    """close() lands after the waiter took a chunk off a dead actor but before it handled the
    failure: the chunk must fail, not be sent to the live actor after close and hang."""
    dead, alive = Echo.remote(), Echo.remote()
    ray.get(alive.run.remote([], ""))
    ray.kill(dead)
    dispatcher = Dispatcher([_slot(dead, "dead"), _slot(alive, "alive")], WORK)
    real_get = ray.get

    def get_after_close(ref, **kwargs):
        closer = threading.Thread(target=dispatcher.close)
        closer.start()
        deadline = time.monotonic() + 10
        while not _closed(dispatcher) and time.monotonic() < deadline:
            time.sleep(0.01)
        return real_get(ref, **kwargs)

    monkeypatch.setattr(ray, "get", get_after_close)
    (future,) = dispatcher.submit(["job"], "")  # to the dead actor: the first of two idle ones
    error = future.exception(timeout=20)
    monkeypatch.undo()
    assert isinstance(error, MucodeError) and "closed" in str(error)
    assert dispatcher.lost == ["dead"]
    ray.kill(alive)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_crashed_waiter_fails_the_chunk_it_was_handing_over(ray_cluster):
    """A result count that does not match the chunk crashes the waiter thread (and re-raises
    there): the chunk's unanswered job fails, and so does every later submit."""
    echo = Echo.remote()
    dispatcher = Dispatcher([_slot(echo, "echo")], WORK)
    first, second = dispatcher.submit(["a", "b"], "short")  # one chunk, one result short
    assert first.result(timeout=20) == "b"
    error = second.exception(timeout=20)
    assert isinstance(error, MucodeError) and "scheduler failed" in str(error)
    with pytest.raises(MucodeError, match="closed"):
        dispatcher.submit(["c"], "")
    dispatcher.close()
    ray.kill(echo)
