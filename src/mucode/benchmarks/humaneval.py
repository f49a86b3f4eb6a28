"""HumanEval rows -> ``Problem`` records.

Public test: one usage example from the docstring (``doc_examples``); where none parses,
the first self-contained assert of the official ``check``; for the two decoders whose
encoder is given in the prompt and whose ``check`` only has randomised asserts, a round trip
on a fixed string. Private test: the official test code followed by ``check(<entry_point>)``.
"""

from __future__ import annotations

from enum import Enum

from mucode.benchmarks.doc_examples import check_example, docstring_example
from mucode.benchmarks.registry import HUMANEVAL
from mucode.benchmarks.rows import RawRow, field, prefixed_id_field
from mucode.core.errors import DatasetError
from mucode.core.records import Problem

FIELDS = "task_id, prompt, entry_point, canonical_solution, test"

# Decoder -> the encoder defined in its prompt (HumanEval/38 and /50). The fixed string is
# lowercase letters only (encode_shift's domain) and of a length that is not a multiple of 3.
_ROUND_TRIPS = {"decode_cyclic": "encode_cyclic", "decode_shift": "encode_shift"}
_ROUND_TRIP_TEXT = "helloworld"
# Docstrings whose "f(x) = y" lines are not calls of the function: HumanEval/130 defines the
# Tribonacci numbers as "tri(1) = 3", while tri(n) returns the list of the first n + 1.
_DOCSTRING_NOT_EXAMPLES = frozenset({"HumanEval/130"})


class PublicSource(str, Enum):
    """Where a HumanEval public test was taken from."""

    DOCSTRING = "docstring"
    CHECK = "check"
    ROUND_TRIP = "round_trip"


def build_humaneval(rows: list[RawRow]) -> list[Problem]:
    """Problems of HumanEval (all in split ``test``)."""
    problems = []
    for row in rows:
        task_id = prefixed_id_field(row, "HumanEval", FIELDS)
        prompt = field(row, "prompt", str, FIELDS)
        entry_point = field(row, "entry_point", str, FIELDS)
        if not entry_point.isidentifier():
            raise DatasetError(f"{row.where}: entry_point {entry_point!r} is not a Python name")
        test = field(row, "test", str, FIELDS)
        public, _ = public_test(task_id, prompt, test, entry_point, row.where)
        problems.append(
            Problem(
                task_id=task_id,
                benchmark=HUMANEVAL,
                split="test",
                prompt=prompt,
                entry_point=entry_point,
                setup_code="",
                public_tests=(public,),
                private_tests=(f"{test}\ncheck({entry_point})\n",),
                reference_solution=prompt + field(row, "canonical_solution", str, FIELDS),
                completion_prefix=prompt,
            )
        )
    return problems


def public_test(
    task_id: str, prompt: str, test: str, entry_point: str, where: str
) -> tuple[str, PublicSource]:
    """The one public test of a HumanEval task and where it came from."""
    example = None
    if task_id not in _DOCSTRING_NOT_EXAMPLES:
        example = docstring_example(prompt, entry_point)
    if example is not None:
        return example, PublicSource.DOCSTRING
    example = check_example(test, entry_point)
    if example is not None:
        return example, PublicSource.CHECK
    encoder = _ROUND_TRIPS.get(entry_point)
    if encoder is not None and f"def {encoder}(" in prompt:
        text = repr(_ROUND_TRIP_TEXT)
        return f"assert {entry_point}({encoder}({text})) == {text}", PublicSource.ROUND_TRIP
    raise DatasetError(
        f"{where}: no usable example for {entry_point!r} in its docstring or in check(); "
        f"expected '>>> {entry_point}(...)' with an output line, or an assert on candidate(...)"
    )
