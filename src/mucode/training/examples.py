"""SFT datasets: the row record, its JSON round trip, and the dataset's files.

A row is one state and the answer to train on there. The state is the conversation the
generator saw before the turn being trained: the problem prompt, then each earlier answer
and the feedback on it, ending with a user message. The target is the code written as the
generator writes it at inference (a single ```python block), so training and inference
see the same text. Provenance says where the state and the target came from, how they
were labelled, and the expert's scores.

A dataset directory holds ``sft.jsonl`` (one row a line), ``summary.json`` (what was
built) and ``manifest.json``. Both data files are written atomically (temporary file, then
rename): a reader sees the old dataset or the new one, never part of one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from mucode.core.files import write_json_atomically
from mucode.core.jsonl import stream_jsonl, write_jsonl
from mucode.core.records import Message

DATASET = "sft.jsonl"
SUMMARY = "summary.json"


class Method(str, Enum):
    """How a dataset is built (see ``mucode.training.relabel``)."""

    MUCODE = "mucode"  # µCode: failed trajectories relabelled with the expert's y*
    OV = "ov"  # µCode-OV: the expert uses the oracle only (β_L = 0)
    LV = "lv"  # µCode-LV: the expert uses the learned verifier only (β_O = 0)
    MUCODE_REFERENCE = "mucode-reference"  # the authors' code: β 100:1, per-iteration pools
    RFT_LV = "rft-lv"  # top-K trajectories by the verifier, no relabelling
    STAR = "star"  # single-turn RFT: correct first-turn answers
    MULTI_STAR = "multi-star"  # multi-turn RFT: successful trajectories, own next actions
    MULTI_STAR_REFERENCE = "multi-star-reference"  # the authors' code: own final code

    def __str__(self) -> str:
        return self.value


class LabelKind(str, Enum):
    """Why a row has its target."""

    RELABELLED = "relabelled"  # a failed trajectory's state, the expert's correct y*
    OWN = "own"  # a successful trajectory's state, its own final (correct) code
    UNSOLVED = "unsolved"  # a failed trajectory's state, a y* that fails the oracle
    RFT = "rft"  # a baseline's row: a selected trajectory's own answer

    def __str__(self) -> str:
        return self.value


def format_answer(code: str) -> str:
    """The assistant answer for ``code``: one ```python block, as the generator writes it."""
    return f"```python\n{code}\n```"


@dataclass(frozen=True, slots=True)
class Origin:
    """A place in the rollouts: trajectory ``task#sample`` of ``source`` (a rollout
    directory of expert iteration ``iteration``), at ``turn`` (1 = the first answer)."""

    source: str
    iteration: int
    trajectory: str
    turn: int


@dataclass(frozen=True, slots=True)
class Scores:
    """The target's stored oracle verdict, verifier score and expert score, and the
    expert score of the final code of the trajectory the state comes from. A score is
    None where the method computes none (no verifier, or a code that was not a candidate)."""

    oracle: bool
    verifier: float | None = None
    expert: float | None = None
    trajectory: float | None = None


@dataclass(frozen=True, slots=True)
class SftExample:
    """One SFT row: train ``target`` as the assistant's answer after ``messages``."""

    messages: tuple[Message, ...]
    target: str
    task_id: str
    benchmark: str
    split: str
    label: LabelKind
    state: Origin  # the trajectory and turn whose state ``messages`` is
    target_from: Origin  # the trajectory and turn whose code ``target`` is
    scores: Scores
    iteration: int  # the expert iteration this dataset was built for

    def conversation(self) -> tuple[Message, ...]:
        """The state followed by the target answer."""
        return (*self.messages, Message("assistant", self.target))

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "messages": [m.to_dict() for m in self.messages],
            "target": self.target,
            "task_id": self.task_id,
            "benchmark": self.benchmark,
            "split": self.split,
            "label": self.label.value,
            "state": asdict(self.state),
            "target_from": asdict(self.target_from),
            "scores": asdict(self.scores),
            "iteration": self.iteration,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SftExample:
        """Inverse of :meth:`to_dict`."""
        return cls(
            messages=tuple(Message.from_dict(m) for m in data["messages"]),
            target=data["target"],
            task_id=data["task_id"],
            benchmark=data["benchmark"],
            split=data["split"],
            label=LabelKind(data["label"]),
            state=Origin(**data["state"]),
            target_from=Origin(**data["target_from"]),
            scores=Scores(**data["scores"]),
            iteration=data["iteration"],
        )

    def to_json(self) -> str:
        """One JSON line."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, line: str) -> SftExample:
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(line))


def write_examples(path: Path, examples: Iterable[SftExample]) -> None:
    """Write the rows to ``path`` atomically (its directory is made if missing)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_jsonl(path, (e.to_dict() for e in examples))


def read_examples(path: Path) -> list[SftExample]:
    """The rows of a dataset file (``sft.jsonl``), or of a dataset directory's."""
    path = Path(path)
    path = path / DATASET if path.is_dir() else path
    return [SftExample.from_dict(obj) for _, obj in stream_jsonl(path)]


def write_summary(out_dir: Path, summary: dict[str, Any]) -> Path:
    """Write ``summary.json`` into ``out_dir`` atomically."""
    path = Path(out_dir) / SUMMARY
    write_json_atomically(path, summary)
    return path


def read_summary(out_dir: Path) -> dict[str, Any]:
    """The ``summary.json`` of a dataset directory."""
    return json.loads((Path(out_dir) / SUMMARY).read_text())
