"""The reference solution's outputs for differential tests, computed apart from candidates.

A differential test compares a candidate's output with the reference solution's on the
same inputs. The reference runs in a sandboxed run of its own (so it never shares a process
with a candidate) and reports its outputs as wire values; they are kept in memory and on
disk (``$MUCODE_CACHE_DIR/reference-outputs``, keyed by the test and the interpreter), so a
machine computes them once.
"""

from __future__ import annotations

import json
import logging
import platform
from collections.abc import Callable, Iterable
from pathlib import Path

from mucode.core.cache import cache_dir
from mucode.core.files import write_json_atomically
from mucode.core.records import Status
from mucode.sandbox import values
from mucode.sandbox.expected import Differential, ReferenceValue

logger = logging.getLogger(__name__)

REFERENCE_TIMEOUT_S = 600.0  # references of performance-style inputs may need minutes
_FAILED = values.Unsupported("reference", "<the reference solution failed on this input>")

RawRunner = Callable[[list[Differential]], list[dict]]  # differential -> raw verdict dict


class ReferenceOutputs:
    """Reference outputs by differential test; computes the missing ones on demand."""

    def __init__(self, directory: Path | None = None) -> None:
        self._outputs: dict[str, list] = {}
        self._directory = directory

    def ensure(self, differentials: Iterable[Differential], run: RawRunner) -> None:
        """Make sure the outputs of every differential test are known, running ``run``
        (the references, in the sandbox) for those neither in memory nor on disk."""
        missing = {d.digest: d for d in differentials if not self._load(d.digest)}
        if not missing:
            return
        todo = list(missing.values())
        logger.info("running %d reference solutions for differential tests", len(todo))
        for differential, raw in zip(todo, run(todo), strict=True):
            if raw["status"] == Status.INFRA_ERROR.value:
                logger.warning("reference run failed in the sandbox: %s", raw["feedback"])
                continue
            wires: list[str | None] = [None] * differential.count
            for _test, key, wire in raw.get("values", []):
                if 0 <= key < differential.count and wires[key] is None:
                    wires[key] = wire
            self._outputs[differential.digest] = [_decoded(w) for w in wires]
            if raw["status"] != Status.TIMEOUT.value:  # a slow moment must not stick
                self._save(differential.digest, wires)

    def value(self, reference: ReferenceValue) -> object:
        """The reference's output; KeyError if it was never computed."""
        outputs = self._outputs[reference.digest]
        return outputs[reference.index]

    def _load(self, digest: str) -> bool:
        if digest in self._outputs:
            return True
        try:
            wires = json.loads(self._path(digest).read_text())
        except (OSError, ValueError):
            return False
        self._outputs[digest] = [_decoded(w) for w in wires]
        return True

    def _save(self, digest: str, wires: list[str | None]) -> None:
        path = self._path(digest)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_json_atomically(path, wires, indent=None)
        except OSError as e:
            logger.warning("could not cache reference outputs in %s: %s", path.parent, e)

    def _path(self, digest: str) -> Path:
        directory = self._directory or cache_dir() / "reference-outputs"
        return directory / f"{digest[:32]}-py{platform.python_version()}.json"


def _decoded(wire: str | None) -> object:
    """A reference output; an input the reference did not get through equals nothing."""
    if wire is None:
        return _FAILED
    try:
        return values.decode(wire)
    except ValueError:
        return _FAILED
